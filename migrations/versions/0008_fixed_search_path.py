"""A fixed search_path on the row and batch functions; predict_batch resolves its query with the caller's search_path.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from pgscore.migrate import run_frozen

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
