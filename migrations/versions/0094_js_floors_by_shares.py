"""JS's noise floor by the baseline's own shares: pgscore.noise_floor took JS's shares as equal (as many as the
baseline's bins holding one) and pgscore.drift_stats_of computed JS's floor once per number of such bins, so over
a skewed baseline no-drift windows crossed it up to 4 times as often as the confidence says. noise_floor now reads
JS's shares as it reads PSI's; drift_stats_of keys JS's floors on the baseline's shares. The downgrade restores
both functions as 0093 left them.

Revision ID: 0094
Revises: 0093
Create Date: 2026-12-04
"""

from pgscore.migrate import run_frozen

revision = "0094"
down_revision = "0093"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
