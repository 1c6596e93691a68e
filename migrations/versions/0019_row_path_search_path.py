"""The six row functions (score, predict, predict_proba) run with the caller's search_path: no SET clause.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30
"""

from pgscore.migrate import run_frozen

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
