"""Review leftovers of session 63: an empty pgscore.monitoring_state (a partial restore) no longer silences
monitoring: monitoring_periods reads its missing row as never refreshed (every row from the log), refresh_monitoring
puts the row back and rolls the log up again, and health's monitoring_refresh check says so;
count_shadow_failure takes an improper relation name ('a.b.c.d', another database's, an unclosed quote) for a
table its caller does not write (42501 with its hint), not the name parser's bare 42601. The downgrade restores
the previous view and functions.

Revision ID: 0145
Revises: 0144
Create Date: 2026-12-06
"""

from pgscore.migrate import run_frozen

revision = "0145"
down_revision = "0144"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
