"""Shadows read by position, checked at every way in. A version scored in shadow reads a wired profile table's
float8[] column features (no counters) by position, and that array holds the live version's features in its order;
pgscore.set_shadow refuses a shadow of other features or another order, but compared it with the version live then
only. The deployments' trigger (pgscore.check_live_version_fed, fired by every row that makes a version live:
activate, rollback, register_model's p_activate, pgscore deploy, an alembic revision's deploy_model) now refuses
(55000) a version made live whose order a shadow set now would read as other features, naming both versions, the
tables and the first feature that differs, with the hint to clear the shadow first. (attach_rescoring's refusal
of a profile table a shadow set before would misread, and the rescoring trigger's skipping of such a shadow at run
time, are Python: no schema change.)

Revision ID: 0070
Revises: 0069
Create Date: 2026-12-03
"""

from pgscore.migrate import run_frozen

revision = "0070"
down_revision = "0069"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
