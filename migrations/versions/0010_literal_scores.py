"""predict_batch: a chunk's scores leave PL/Python as one float8[] literal.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""

from pgscore.migrate import run_frozen

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
