"""the functions that turn entity keys into text (and back) do it under fixed output settings: DateStyle
ISO (output only), IntervalStyle postgres, extra_float_digits 1; retention deletes the outcomes observed before its cut.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-01
"""

from pgscore.migrate import run_frozen

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
