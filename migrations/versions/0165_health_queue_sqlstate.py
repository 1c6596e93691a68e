"""Session 67 (h2, trial T23): pgscore.health()'s error_queue check names the SQLSTATE most of the queued profiles
share, and how many (`572 profile(s) wait, ..., the most tried 6 time(s), 570 with SQLSTATE 53100: ...`): with the
audit log's volume full it said how many profiles waited, not why, and a probe's reader had to query the queue to
learn the disk was full. A code, not the reason's text, which health() never returns (pgscore_reader calls it). The
downgrade re-applies 0160's text.

Revision ID: 0165
Revises: 0163
Create Date: 2026-12-07
"""

from pgscore.migrate import run_frozen

revision = "0165"
down_revision = "0163"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
