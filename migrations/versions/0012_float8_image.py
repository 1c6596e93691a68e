"""Features leave PostgreSQL for PL/Python as the float8[]'s own bytes (pgscore.float8_image), not array_send; retire(NULL) says so (22004).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29
"""

from pgscore.migrate import run_frozen

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
