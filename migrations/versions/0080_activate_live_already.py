"""pgscore.activate of the version that is live already changes nothing: it raises a NOTICE ("version 2 of
'churn' is live already: nothing was changed") and appends no deployment, where it appended a go-live of a
version that never went away (pgscore show listed it as an activate, with the --reason given). The downgrade
restores the function as it was.

Revision ID: 0080
Revises: 0079
Create Date: 2026-12-03
"""

from pgscore.migrate import run_frozen

revision = "0080"
down_revision = "0079"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
