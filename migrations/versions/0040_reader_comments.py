"""The comments a BI tool shows for realised precision and recall and for the calibration deciles said what
the views computed before migration 0036 ("at or above the decision threshold", "of equal counts"): since
0036 a score equal to the threshold is the negative class and deciles are by rank, equal scores sharing one.

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-02
"""

from pgscore.migrate import run_frozen

revision = "0040"
down_revision = "0039"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
