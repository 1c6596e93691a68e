"""Numbers from Python (audit rows' features and scores, scores written back) reach PostgreSQL as raw doubles through pgscore.float8_array, not float8[] literals.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29
"""

from pgscore.migrate import run_frozen

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
