"""The retention floor holds in calendar time (review r6 of session 63): drop_log_partitions and
redact_log_features compared p_older_than with pgscore.retention_policy's floor as intervals, which PostgreSQL
compares with a month of 30 days and a year of 360, so '360 days' passed a floor of '1 year' and removed days the
floor keeps; now a period is refused when the UTC day it cuts at is later than the floor's. forbid_log_update lets
the redaction's UPDATE through only when every column but the features is unchanged (written_by, 0139, was not
compared). The downgrade restores 0141's text of the three functions.

Revision ID: 0143
Revises: 0142
Create Date: 2026-12-06
"""

from pgscore.migrate import run_frozen

revision = "0143"
down_revision = "0142"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
