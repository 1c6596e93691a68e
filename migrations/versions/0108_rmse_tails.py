"""rmse_rise's noise floor (0106: sqrt(F_conf(n, n_base)) - 1, the MSE ratio under normal errors) for heavy-tailed
errors: with errors from Student t at 3-5 df, Laplace or a lognormal, no-drift windows crossed it 20-200 times as
often as 0.999 says. A regressor's deploy stores its hold-out errors' kurtosis (error_kurtosis); performance_stats_of
passes noise_floor the window's and hold-out's sizes times 2 / (kappa - 1), kappa that kurtosis (at most the
hold-out's rows), at least 3 (Box and Andersen's correction); nothing of the window's own shape (pooled with the
window's kurtosis, a regressor's few huge errors raised the floor with its RMSE and hid that drift). Models without
error_kurtosis keep 0106's floor. The downgrade restores 0107's performance_stats_of and its comment on noise_floor.

Revision ID: 0108
Revises: 0107
Create Date: 2026-12-05
"""

from pgscore.migrate import run_frozen

revision = "0108"
down_revision = "0107"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
