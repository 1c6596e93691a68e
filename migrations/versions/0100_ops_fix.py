"""create_log_partitions takes the locks ATTACH PARTITION takes (the log's own SHARE UPDATE EXCLUSIVE, ONLY, the default
partition's ACCESS EXCLUSIVE) before it moves a day's rows out of the default partition: a transaction that logged a
row of the day into the default partition and committed after the move made ATTACH fail ('updated partition
constraint for default partition would be violated by some row') and the whole call roll back, so a day whose
partition was missing (a clock jump, maintenance stopped for over a week) could not be partitioned while scoring
went on. And the log's lock is taken at the start, before any day is looked for: two calls at once both made the
same day, and the second failed ('relation "prediction_log_YYYYMMDD" already exists'); now it waits for the first and
finds its days made. The downgrade restores 0050's function.

Revision ID: 0100
Revises: 0099
Create Date: 2026-12-05
"""

from pgscore.migrate import run_frozen

revision = "0100"
down_revision = "0099"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
