"""predict_batch of a linear model with one output scores the query (and writes its audit rows) in one SQL
statement (batch_sql, batch_row); other models go chunk by chunk as before.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-01
"""

from pgscore.migrate import run_frozen

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
