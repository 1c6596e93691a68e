"""PSI's and JS's noise floors where bins expect about one value or fewer: pgscore.noise_floor's shifted, scaled
chi-square, matched on three moments, put the floor under the simulated quantile there (JS over three common
categories and seven rare ones at n = 100: no-drift windows over it 1.5-3.3 times as often as the confidence
says). noise_floor now sums the fourth cumulant as well and adds its excess over the fit's by Cornish and Fisher's
term, never lowering the floor. The downgrade restores 0094's noise_floor.

Revision ID: 0096
Revises: 0095
Create Date: 2026-12-04
"""

from pgscore.migrate import run_frozen

revision = "0096"
down_revision = "0095"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
