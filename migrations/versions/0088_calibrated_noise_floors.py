"""Calibrated noise floors: out_of_range's floor is the beta-binomial quantile of how many of a window's values
fall outside the baseline's min..max (0085's normal approximation of a binomial put the floor under a single
value: 2.6% of the churn model's feature-windows of 100 over it on no drift, at a nominal 0.1%); and drift_stats_of
judges each drift metric family-wise over a model's k features and score, each at confidence^(1/k) (Sidak: at the
confidence for each, a model of 112 features had some feature at alert in 34% of no-drift windows of 100, now
0.8%). The downgrade restores 0086's noise_floor and drift_stats_of, and the confidence column's comment.

Revision ID: 0088
Revises: 0087
Create Date: 2026-12-04
"""

from pgscore.migrate import run_frozen

revision = "0088"
down_revision = "0087"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
