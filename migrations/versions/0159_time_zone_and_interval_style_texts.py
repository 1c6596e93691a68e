"""Trial T21 of session 66 (a team across time zones): texts that read alike from every session.
pgscore.health() says its ages under IntervalStyle postgres whatever the caller's (`last refresh PT1M21S ago` under
a role's iso_8601, `@ 13 secs ago` under postgres_verbose); drop_log_partitions' and redact_log_features' NOTICEs
say their cut, a UTC midnight, in UTC and ISO (`before 2026-05-20 20:00:00-04` from New York, `20.05.2026 20:00:00
EDT` under DateStyle German); record_outcome notes an outcome observed more than 15 minutes ahead, not a day, its
hint naming the session's TimeZone (an event's UTC `timestamp` given from New York was read 5 hours ahead and judged
the predictions logged until then, silently). The downgrade restores the four as 0157 left them.

Revision ID: 0159
Revises: 0158
Create Date: 2026-12-07
"""

from pgscore.migrate import run_frozen

revision = "0159"
down_revision = "0158"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
