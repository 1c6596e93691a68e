"""pgscore.health(p_models text[]): the checks of some models alone (their wirings, queued profiles, shadow failures
and alerts; the refresh, the log's partitions and the standby are the database's), for a pipeline's probe of its own
model, which another team's alerts failed; a name of no model is 42704. Both forms end with a `standby` check: on a
hot standby, how far replay is behind and whether a WAL receiver streams. pgscore.health() reads health(NULL). The
downgrade drops health(text[]) and puts 0145's health() back.

Revision ID: 0153
Revises: 0149
Create Date: 2026-12-06
"""

from pgscore.migrate import run_frozen

revision = "0153"
down_revision = "0149"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
