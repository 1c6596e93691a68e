"""Shadow scoring an operator can run safely: set_shadow refuses a version the wired profile tables cannot feed
(unless p_force), a shadow's failures are counted in pgscore.shadow_failures and warned of once per session,
version and SQLSTATE, and pgscore.shadows is written through set_shadow and clear_shadow alone.

Revision ID: 0057
Revises: 0056
Create Date: 2026-12-02
"""

from pgscore.migrate import run_frozen

revision = "0057"
down_revision = "0056"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
