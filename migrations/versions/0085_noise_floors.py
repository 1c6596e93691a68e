"""Noise floors: a drift or performance metric warns or alerts only where it exceeds both its threshold and its
noise floor, what sampling alone makes it reach at the window's and the baseline's sizes at
drift_thresholds.confidence (new, default 0.999; NULL: by the thresholds alone, as before). Adds
pgscore.noise_floor, pgscore.normal_quantile and judge(metrics, values, n, floors); drift_stats_of and
performance_stats_of judge through the floors, the views' columns unchanged. The downgrade restores 0084's.

Revision ID: 0085
Revises: 0084
Create Date: 2026-12-04
"""

from pgscore.migrate import run_frozen

revision = "0085"
down_revision = "0084"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
