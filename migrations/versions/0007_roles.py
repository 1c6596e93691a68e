"""Roles: pgscore_app and pgscore_admin beside pgscore_reader; load_model reads artifact bytes as its owner.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from pgscore.migrate import run_frozen

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
