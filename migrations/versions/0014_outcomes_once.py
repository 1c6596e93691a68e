"""Realised performance counts each judged prediction once, with the newest outcome observed for it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""

from pgscore.migrate import run_frozen

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
