"""The HINT of a server that cannot import pgscore names the site-packages directory, not the environment.

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-30
"""

from pgscore.migrate import run_frozen

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
