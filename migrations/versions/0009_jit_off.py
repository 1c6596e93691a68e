"""JIT off in the rescoring trigger, retry_failed and score_chunk.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from pgscore.migrate import run_frozen

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
