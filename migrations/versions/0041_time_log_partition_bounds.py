"""create_log_partitions writes each day's bounds as ISO text in UTC: it runs with DateStyle 'ISO, YMD' and
TimeZone 'UTC' of its own. Under a session's DateStyle SQL, Postgres or German a bound printed with its zone's
abbreviation was read back by PostgreSQL's abbreviations, so a day's partition began at 03:30 UTC from
Asia/Kolkata ('IST' is Israel's), at 14:00 UTC from Asia/Shanghai ('CST' is US Central), and the call failed
from Asia/Jakarta ('WIB').

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-02
"""

from pgscore.migrate import run_frozen

revision = "0041"
down_revision = "0040"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
