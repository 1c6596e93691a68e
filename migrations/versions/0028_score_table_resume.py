"""CALL pgscore.score_table resumes after a key (p_after) and says how far it got every p_progress (a
NOTICE with the p_after that goes on from there).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-01
"""

from pgscore.migrate import run_frozen

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
