"""score_chunk and score_table take p_scored_at_into (pgscore score --scored-at-into): the chunk's UPDATE also writes
its transaction's now() into that column, beside each row's score, so an incremental run's `--where "scored_at IS NULL
OR updated_at > scored_at"` misses no row changed after its chunk was scored; a missing column, the key, score, label
or a feature column, a type other than timestamptz or timestamp, and one no UPDATE may write are refused before
anything is written. The downgrade restores the functions as 0127 left them.

Revision ID: 0130
Revises: 0129
Create Date: 2026-12-06
"""

from pgscore.migrate import run_frozen

revision = "0130"
down_revision = "0129"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
