"""A logged value a float8 holds and a model scores (1e308) no longer makes every drift view fail: values beyond
+-1e290 are summed as +-1e290, and the mean and mean shift are computed in numeric, kept within float8's range.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-01
"""

from pgscore.migrate import run_frozen

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
