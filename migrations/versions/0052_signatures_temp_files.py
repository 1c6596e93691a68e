"""Artifact and evaluator signatures bind the bytes to their model and version: the first scheme, the HMAC of the
bytes alone, verified wherever the rows were copied (version 3 of one model copied, bytes, sha256 and signature,
into version 7 of another verified there). Signatures of the new scheme are stored as "v2:" and the HMAC; those
of the first keep verifying the old way until pgscore.resign_models() signs them again, the one UPDATE the
registry's immutability trigger lets through. And predict_batch, score_table and pgscore score say where
temporary files exceeded temp_file_limit (53400) in pgscore's words: the model, what went to disk, what to do.

Revision ID: 0052
Revises: 0051
Create Date: 2026-12-02
"""

from pgscore.migrate import run_frozen

revision = "0052"
down_revision = "0051"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
