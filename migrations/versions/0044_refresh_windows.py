"""pgscore.refresh_windows: a window counter is exact as of the profile's last event and then goes stale (31 days
after a customer's last complaint, complaints_30d still said 1, and the score was computed from it). The function,
run from cron, recounts the windows (and the recomputes that read the clock) of the profiles whose events have left
a window, and rescores those that changed, with audit rows of the new source 'refresh'.

Revision ID: 0044
Revises: 0043
Create Date: 2026-12-02
"""

from pgscore.migrate import run_frozen

revision = "0044"
down_revision = "0043"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
