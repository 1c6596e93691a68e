"""Queue edges: CALL pgscore.score_table inside a transaction block (BEGIN, psycopg2's default) or from a function
failed with PostgreSQL's bare "invalid transaction termination" (2D000) at its first COMMIT. That COMMIT is now
pgscore.score_table_commit(), a PL/Python procedure that commits where the CALL may and otherwise raises 2D000
naming score_table, why, and the way out in a HINT. The downgrade restores score_table as 0094 left it and drops
the new procedure.

Revision ID: 0095
Revises: 0094
Create Date: 2026-12-04
"""

from pgscore.migrate import run_frozen

revision = "0095"
down_revision = "0094"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
