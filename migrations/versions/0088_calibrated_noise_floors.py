"""Calibrated noise floors: out_of_range's floor is the beta-binomial quantile of how many of a window's values
fall outside the baseline's min..max (0085's normal approximation of a binomial put the floor under a single
value: 2.6% of 12-feature windows of 100 over it on no drift, at a nominal 0.1%). The downgrade restores 0086's
definition.

Revision ID: 0088
Revises: 0086
Create Date: 2026-12-04
"""

from pgscore.migrate import run_frozen

revision = "0088"
down_revision = "0086"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
