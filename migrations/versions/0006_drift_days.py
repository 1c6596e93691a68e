"""Drift by day: day rollups, drift_counts(); the views read whole days, whole 5-minute buckets and the log, each part once.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from pgscore.migrate import run_frozen

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
