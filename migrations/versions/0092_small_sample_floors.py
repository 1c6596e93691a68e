"""Small-sample floors: noise_floor's PSI and JS floors match a shifted, scaled chi-square on the statistic's first
three moments (each bin's count Poisson; summed exactly over the counts where a bin expects 15 values or fewer,
with PSI's 1e-4 floor; above that by terms in 1/lambda fitted to those sums), not chi-square with bins - 1 degrees of freedom, which no-drift windows of 100 over 10 bins
crossed 2 to 4 times as often as the confidence says. PSI's allowance for bins that stay empty now and then counts
those empty together (Poisson), not each in full. Large windows keep their floors. The downgrade restores 0091's
(0088's) definition.

Revision ID: 0092
Revises: 0091
Create Date: 2026-12-04
"""

from pgscore.migrate import run_frozen

revision = "0092"
down_revision = "0091"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
