"""pgscore.score_table takes p_commit: false scores inside the caller's transaction; true fails at once inside one.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30
"""

from pgscore.migrate import run_frozen

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
