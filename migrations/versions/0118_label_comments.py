"""The column comments 0115 made false, and score_table's resume hints: predictions.label and outcome_matches.label
say that score_table and score_chunk log a binary classifier's class too with p_label_into; drift_rows, drift_report,
drift_checks and performance_rows say what their n counts (each took the dictionary's "predictions, or matched
outcomes"); score_table's progress NOTICE and the HINT of a chunk's error after committed chunks repeat p_label_into
and p_log => false where the run was given them. The downgrade restores both as 0115 left them.

Revision ID: 0118
Revises: 0117
Create Date: 2026-12-05
"""

from pgscore.migrate import run_frozen

revision = "0118"
down_revision = "0117"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
