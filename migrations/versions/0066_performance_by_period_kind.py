"""The views of realised performance read pgscore.performance_stats_of for the kind of period they report alone
(the windows or the days), where each read performance_stats() or performance_stats(true) whole, ranking the
judged predictions in both.

Revision ID: 0066
Revises: 0065
Create Date: 2026-12-03
"""

from pgscore.migrate import run_frozen

revision = "0066"
down_revision = "0065"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
