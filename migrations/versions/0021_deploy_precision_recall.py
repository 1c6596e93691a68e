"""realised_performance shows the precision and recall captured at deploy (deploy_precision, deploy_recall).

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30
"""

from pgscore.migrate import run_frozen

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
