"""score_chunk and score_table take p_label_into (pgscore score --label-into): the chunk's UPDATE also writes into
that column the class pgscore.predict gives each row, from the same evaluation as the score where the model allows;
a regressor, a missing column, the key, score or a feature column, and a type that cannot hold the classes are
refused before anything is written. The downgrade restores the functions as 0114 left them (as 0113 did).

Revision ID: 0115
Revises: 0114
Create Date: 2026-12-05
"""

from pgscore.migrate import run_frozen

revision = "0115"
down_revision = "0114"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
