"""Cheaper noise floors: drift_stats_of computes each metric's noise floor once per distinct argument (KS, mean
shift and out of range by the window's and the baseline's sizes, the null rate by those and the baseline's null
rate, JS by the sizes and its baseline's bins that hold a share, PSI per feature and period) and none where the
metric's confidence is NULL, instead of once per metric, feature and period and again in the level tests. The
same values and levels. The downgrade restores 0085's definition.

Revision ID: 0086
Revises: 0085
Create Date: 2026-12-04
"""

from pgscore.migrate import run_frozen

revision = "0086"
down_revision = "0085"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
