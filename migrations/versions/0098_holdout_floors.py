"""The realised-performance noise floors count the hold-out's own sampling noise: pgscore.performance_stats_of
took the deploy metrics as exact, so with a hold-out of 100 rows no-drift windows crossed the floors 20-30 times as
often as the confidence says at windows of 100 outcomes, 60-210 times at 1,000 (scripts/holdout_floor_noise.py). It now passes the hold-out's rows (metrics holdout_rows) as the baseline's size to
pgscore.noise_floor, and AUC's floor combines the window's and the hold-out's Hanley-McNeil errors. The
downgrade restores the function as 0097 left it (last changed by 0090).

Revision ID: 0098
Revises: 0097
Create Date: 2026-12-04
"""

from pgscore.migrate import run_frozen

revision = "0098"
down_revision = "0097"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
