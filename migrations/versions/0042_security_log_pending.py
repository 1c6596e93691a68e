"""pgscore.log_pending takes from the application and the administrator INSERT on created_at alone, so a marker
row is always its own transaction's (xid and backend are their defaults), and the flush finds its transaction's
rows through an index on xid. With INSERT on the whole table one session granted pgscore_app wrote 2 million
rows with a made-up xid, which no flush deletes, and every logged scoring transaction of every role then read
them all at its commit (300-450 ms each instead of 2 ms).

Revision ID: 0042
Revises: 0041
Create Date: 2026-12-02
"""

from pgscore.migrate import run_frozen

revision = "0042"
down_revision = "0041"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
