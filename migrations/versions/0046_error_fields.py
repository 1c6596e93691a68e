"""Errors keep what they name: predict_batch raises the errors of the caller's query (and of scoring) again with
the schema, table, column, type and constraint they name (clients read e.diag.constraint_name), which it dropped;
detach_rescoring refuses an oid cast to regclass that names no relation with 42P01, naming the oid.

Revision ID: 0046
Revises: 0045
Create Date: 2026-12-09
"""

from pgscore.migrate import run_frozen

revision = "0046"
down_revision = "0045"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
