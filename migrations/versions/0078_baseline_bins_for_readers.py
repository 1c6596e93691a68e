"""pgscore.baseline_bins: the baseline every version's drift is measured against, a row per bin (its edges,
the share of the training values present in it, and the baseline's n, null rate, mean, std, min and max),
readable by pgscore_reader. The reader could read drift_counts' counts per bin but neither the bins nor the
training shares, so a BI tool could not draw baseline against current nor recompute PSI, KS and JS. The
downgrade drops the view.

Revision ID: 0078
Revises: 0077
Create Date: 2026-12-03
"""

from pgscore.migrate import run_frozen

revision = "0078"
down_revision = "0077"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
