"""Session 69 (h1, trial T26): pgscore.check_live_version_fed, the deployments' trigger, reads the wirings of the model
made live alone (a subquery the planner does not merge) before to_regclass resolves their tables' names: two teams'
schemas wired in one database, and every deploy, activate and rollback of a role without USAGE on the other team's
schema failed with `permission denied for schema growth`, whatever model it deployed. The downgrade re-applies 0175's
text.

Revision ID: 0176
Revises: 0175
Create Date: 2026-12-07
"""

from pgscore.migrate import run_frozen

revision = "0176"
down_revision = "0175"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
