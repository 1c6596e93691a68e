"""Session 71 (h3): pgscore.health() reads its ages (the error queue's oldest row, the monitoring refresh, the
standby's lag) at its statement's start (statement_timestamp()), as metrics() does since 0182, not at its
transaction's (now()): a health check inside a long transaction under-reported the oldest queued row's age. The
silences in force are read at now(), as metrics() and pgscore.alerts read them (review r3 of session 71, edited in
place: the first text read them at the statement's start too, and health() and metrics() disagreed on a silence made
after the reader's transaction began). The downgrade re-applies 0180's text.

Revision ID: 0185
Revises: 0183
Create Date: 2026-12-07
"""

from pgscore.migrate import run_frozen

revision = "0185"
down_revision = "0183"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
