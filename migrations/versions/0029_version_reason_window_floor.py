"""pgscore.models.reason: the reason given when a version was stored, also one stored without going live,
so that an alembic revision's undeploy_model finds the version its deploy_model stored with activate=False.
A drift window is at least 5 minutes long: '30', a bare number, is 30 seconds to PostgreSQL. The monitoring
counts each model's unmatched outcomes once, and ends its windows (and today) at the statement's start, not at
infinity (a log row stamped in the future counted in every window). create_log_partitions refuses a table of a
day's name that is no partition of the log. A deployment may not make live a version the server would refuse to load
(unsigned with signing on, signed with it off): pgscore.signing_on() tells.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-01
"""

from pgscore.migrate import run_frozen

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
