"""PSI's noise floor where several rare bins fill at once: pgscore.noise_floor's matched chi-square (0096) put
PSI's floor under the simulated quantile where bins expect a few values or fewer (n = 100 over 0.96 and nine of
0.002-0.01: no-drift windows over it up to 5.7 times as often as the confidence says) and its allowance for bins
that stay empty put others 1.25-1.65 times over the quantile (scripts/floor_edges.py). PSI's bins expecting ln(100)
values or fewer, and the bins that stay empty now and then, are now summed exactly on a grid of 33 steps and the
rest matched as before; the floor is their sum's quantile. The downgrade restores 0096's noise_floor.

Revision ID: 0099
Revises: 0098
Create Date: 2026-12-05
"""

from pgscore.migrate import run_frozen

revision = "0099"
down_revision = "0098"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
