"""create_log_partitions makes each day's partition in the log's tablespace where it has one (ALTER TABLE
pgscore.prediction_log SET TABLESPACE), as CREATE TABLE ... PARTITION OF would (the day's indexes follow the
log's indexes' tablespace at ATTACH). It made them with CREATE TABLE (LIKE ...) in default_tablespace, so a log
moved to a volume of its own went on filling the default one with each new day.

Revision ID: 0050
Revises: 0049
Create Date: 2026-12-02
"""

from pgscore.migrate import run_frozen

revision = "0050"
down_revision = "0049"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
