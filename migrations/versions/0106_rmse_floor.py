"""rmse_rise's noise floor was z sqrt(v/2) (v = 1/n + 1/n_base), the linearised standard error of a ratio of RMSEs;
the ratio is right-skewed (the window's MSE over the hold-out's is F(n, n_base) under normal errors) and with a
hold-out of 100 rows no-drift windows of 20-1,000 outcomes crossed it 3.1-4.5 times as often as 0.999 says. The
floor is now sqrt(F_conf(n, n_base)) - 1 (chi-square_n / n without a hold-out size) by Paulson's cube-root normal
approximation. The downgrade restores 0101's noise_floor (the last to define it).

Revision ID: 0106
Revises: 0104
Create Date: 2026-12-05
"""

from pgscore.migrate import run_frozen

revision = "0106"
down_revision = "0104"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
