"""A regressor's realised MAE and RMSE within float8's range: avg(abs(e)) and sqrt(avg(e ^ 2)) of the window's errors
raised 22003 at an error past 1.3e154, a nonzero one below 1e-162, errors past 1e77 (avg()'s sum of squares) or a
score and an outcome past float8's range apart, and a window's RMSE over a hand-edited deploy RMSE of 1e-300
overflowed: performance_stats, every realised-performance view and alerts failed for every model. Errors are taken
within 1e-140..1e140 (0 below), as sums over the count; the deploy RMSE within 1e-150..1e150 in magnitude. The
downgrade restores performance_stats_of as the revision before left it.

Revision ID: 0112
Revises: 0111
Create Date: 2026-12-05
"""

from pgscore.migrate import run_frozen

revision = "0112"
down_revision = "0111"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
