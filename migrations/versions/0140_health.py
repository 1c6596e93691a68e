"""A cheap health check (session 63, an SRE's trial): pgscore.health(), one row per check (the last monitoring
refresh's age, the error queue, wirings that do not rescore, recent shadow failures, the log's partitions for today
and tomorrow, the alerts the last refresh stored), each ok, warn or fail with a value and what to do. It reads small
tables and the catalogs alone, as its owner, and is granted to pgscore_reader, pgscore_app and pgscore_admin;
`pgscore health` prints it. The downgrade drops it.

Revision ID: 0140
Revises: 0139
Create Date: 2026-12-06
"""

from pgscore.migrate import run_frozen

revision = "0140"
down_revision = "0139"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
