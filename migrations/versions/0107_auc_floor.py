"""auc_drop's noise floor (0098: the window's and the hold-out's Hanley-McNeil errors at the deploy AUC, combined)
was far too low where a class is rare: their variance vanishes as the AUC nears 1, and a hold-out of 100 rows at 5%
positive put it near 0 (no-drift windows over it 33-44 times as often as 0.999 says), windows of 1-2 positives
6.5-14 times. Each term is now at an AUC of at most (m + 1) / (m + 2), m its smaller class's count (Laplace's rule
of succession), and the combined floor at most the deploy AUC. The downgrade restores 0106's noise_floor and 0103's
performance_stats_of (the last to define them).

Revision ID: 0107
Revises: 0106
Create Date: 2026-12-05
"""

from pgscore.migrate import run_frozen

revision = "0107"
down_revision = "0106"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
