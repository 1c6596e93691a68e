"""predict_batch raises the error that stopped it as its own message, with its SQLSTATE, DETAIL and HINT.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30
"""

from pgscore.migrate import run_frozen

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
