"""Session 70 (h4): pgscore.error_queue's first_failed_at and last_failed_at are the failure's own time
(clock_timestamp()), no longer its transaction's start (now()): metrics()' error_queue_queued_last_hour did not count
a profile that failed late in a transaction that ran over an hour. metrics() reads them against its statement's start
(statement_timestamp()), an age never below 0. And pgscore.cached_models(): the model versions the calling backend
keeps loaded, with the bytes each holds (an SRE saw a backend's memory from the host alone). The downgrade drops it,
sets the defaults to now() and re-applies 0178's metrics().

Revision ID: 0182
Revises: 0180
Create Date: 2026-12-07
"""

from pgscore.migrate import run_frozen

revision = "0182"
down_revision = "0180"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
