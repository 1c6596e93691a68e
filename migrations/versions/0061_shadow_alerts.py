"""Monitoring of each shadow version: pgscore.alerts lists its drift against its own baseline and its realised
performance by its own predictions (a last column, shadow); pgscore.performance_by_day_by_version, performance_by_day
per version; realised performance per version read with the same rows at less cost.

Revision ID: 0061
Revises: 0060
Create Date: 2026-12-02
"""

from pgscore.migrate import run_frozen

revision = "0061"
down_revision = "0060"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
