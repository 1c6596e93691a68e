"""A deployment that makes live a version a wired profile table cannot feed is refused in the server.

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-30
"""

from pgscore.migrate import run_frozen

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
