"""pgscore.feature_number was declared PARALLEL SAFE, but its EXCEPTION block starts a subtransaction, which
PostgreSQL 15 refuses during a parallel operation: called over a table in a parallel plan it failed with
"cannot start subtransactions during a parallel operation". Now PARALLEL UNSAFE.

Revision ID: 0045
Revises: 0044
Create Date: 2026-12-02
"""

from pgscore.migrate import run_frozen

revision = "0045"
down_revision = "0044"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
