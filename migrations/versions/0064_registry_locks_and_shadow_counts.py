"""activate and rollback take the name's row of pgscore.model_locks, as register_model, retire, set_shadow and
clear_shadow do: a rollback while an activate was in progress read the history without it. set_shadow loads the
version with pgscore.allow_version_mismatch off, as activate does. A shadow's failures are counted through
pgscore.count_shadow_failure, as its owner: pgscore_app (and pgscore_admin) lose INSERT and UPDATE on
pgscore.shadow_failures, with which any app login could forge or zero the counts pgscore status reports.
record_outcome's notice for an entity only a shadow version scored says so (it said no prediction was logged).

Revision ID: 0064
Revises: 0063
Create Date: 2026-12-02
"""

from pgscore.migrate import run_frozen

revision = "0064"
down_revision = "0063"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
