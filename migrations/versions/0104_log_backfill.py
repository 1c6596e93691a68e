"""Rows of past days never left the default partition: create_log_partitions made the days from p_from (today by
default) on, so rows logged with an earlier logged_at (an import of old predictions, a clock behind, maintenance not
run for weeks) stayed in the default partition until retention deleted them, read by every query on the log. It now
also makes the partitions of the days before p_from that rows in the default partition hold (at most 366 a call, the
newest first; found by skipping through the default partition's (model_id, logged_at) index) and moves their rows.
The downgrade restores 0100's function and comment.

Revision ID: 0104
Revises: 0103
Create Date: 2026-12-05
"""

from pgscore.migrate import run_frozen

revision = "0104"
down_revision = "0103"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
