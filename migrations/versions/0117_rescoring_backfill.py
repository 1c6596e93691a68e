"""pgscore.backfill_rescoring(p_event_table): the counters of an event table's wirings recounted from all of its
events (what attach_rescoring over a table that held events, or attached again after a detach, left uncounted:
count, add, max, min and last counters count new events alone), and the profiles whose counters changed
rescored. The downgrade drops it.

Revision ID: 0117
Revises: 0116
Create Date: 2026-12-05
"""

from pgscore.migrate import run_frozen

revision = "0117"
down_revision = "0116"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
