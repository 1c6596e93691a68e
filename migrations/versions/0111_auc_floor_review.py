"""auc_drop's floor at the hold-out's reliability (the review of 0107): noise_floor('auc_drop') takes Laplace's AUC,
(m + 1) / (m + 2), of its own smaller class only where that class has 4 or fewer (the skew of a few positives'
AUC); performance_stats_of passes both the window's and the hold-out's term the deploy AUC at most the Laplace AUC
of the hold-out's smaller class (0107 took each term's own class: at deploy AUCs of 0.95-0.99 a window of 5-98
positives got a floor far too high), and no longer caps the floor at the deploy AUC (a subquery the planner pulled
up, calling noise_floor twice a term, that changed no level). The downgrade restores noise_floor as 0107 made it
with its comment as 0108 set it, and performance_stats_of as 0108 made it.

Revision ID: 0111
Revises: 0110
Create Date: 2026-12-05
"""

from pgscore.migrate import run_frozen

revision = "0111"
down_revision = "0110"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
