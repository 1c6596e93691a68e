"""The alerts of a shadow version's realised performance read pgscore.shadow_performance_stats(), which ranks
the shadow versions' own judged predictions alone, in the windows (pgscore.performance_stats_of): reading
performance_stats(true) whole ranked every version's in every period and tripled what the alerts cost.

Revision ID: 0065
Revises: 0064
Create Date: 2026-12-02
"""

from pgscore.migrate import run_frozen

revision = "0065"
down_revision = "0064"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
