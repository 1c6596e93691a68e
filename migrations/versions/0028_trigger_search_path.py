"""The rescoring trigger runs with the inserting session's search_path and output settings (its statements
qualify what they name; it sets the fixed ones itself where a wiring's keys or counters' expressions need
them): the five SET clauses cost a sixth of a single-row INSERT.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-01
"""

from pgscore.migrate import run_frozen

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
