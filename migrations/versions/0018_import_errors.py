"""Every PL/Python function says what is wrong when the server cannot import pgscore (58P01, with a hint).

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30
"""

from pgscore.migrate import run_frozen

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
