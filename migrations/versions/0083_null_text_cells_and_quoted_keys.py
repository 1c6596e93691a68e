"""NULL text cells and quoted keys: pgscore.feature_number(value, model, feature, key) returns NULL for a NULL
value before its EXCEPTION block (it entered the block, a subtransaction, for every NULL text cell since 0081
made it not STRICT); score_table's progress NOTICE and its committed DETAIL quote the last key as an SQL literal
and the key column as SQL names it, as the chunks' errors quote a key. Messages and SQLSTATEs as they were. The
downgrade restores 0081's text of both.

Revision ID: 0083
Revises: 0082
Create Date: 2026-12-03
"""

from pgscore.migrate import run_frozen

revision = "0083"
down_revision = "0082"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
