"""Session 66: pgscore.delete_model kept the rollups of its versions (pgscore.drift_rollup, drift_rollup_day) where
erase_entity had taken all their log rows (rows of a model_id no model has, until retention took their days). It
deletes them with the model and counts them in its result (rows 'pgscore.drift_rollup', 'pgscore.drift_rollup_day').
(As first written it also deleted the pgscore.error_queue rows of a detached wiring of the model, which the next
wiring of their profile table takes over and rescores: edited in place by review r2 before it landed, they stay;
the name kept.) The downgrade restores the function as 0156 left it.

Revision ID: 0162
Revises: 0160
Create Date: 2026-12-07
"""

from pgscore.migrate import run_frozen

revision = "0162"
down_revision = "0160"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
