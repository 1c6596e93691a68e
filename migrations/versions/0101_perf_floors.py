"""accuracy_drop's noise floor where the window's errors are few: pgscore.noise_floor took the window's error count
as normal (z sqrt(e (1 - e) v)); at an error rate of 0.05 and 20 to 1,000 outcomes no-drift windows crossed it 1.9-15
times as often as the confidence says (scripts/holdout_floor_noise.py --positive-rate 0.05). The floor is now the
binomial's exact quantile (the hold-out's error rate, 0098, normal around it) where the window's errors vary by 100
or less, else the normal floor with Cornish and Fisher's skew term; performance_stats_of passes it the window's
and hold-out's accuracy pooled, and brier_rise's floor the Brier scores pooled (at the hold-out's alone, a hold-out
of 100 rows put both low). The downgrade restores 0099's noise_floor and 0098's performance_stats_of.

Revision ID: 0101
Revises: 0100
Create Date: 2026-12-05
"""

from pgscore.migrate import run_frozen

revision = "0101"
down_revision = "0100"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
