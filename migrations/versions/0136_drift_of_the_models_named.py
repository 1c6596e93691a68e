"""pgscore drift NAME at the cost of the models named (session 62's trial of 12 models: one model's drift took as
long as the fleet's, 4.3-6.2 s; a cron loop over 11 models 57.9 s): the views drift_rows, performance_rows, firing
and alerts computed every live (and shadow) version's drift and realised performance before a reader's filter on
the model. Their bodies are functions of the models asked for, pgscore.drift_rows_of(p_models, p_period_kind),
performance_rows_of(p_models), firing_of(p_models) and alerts_of(p_models), which the views read with NULL (every
model: the same rows, in the same order) and pgscore drift with the names it shows. check_period_kind's hint
treats drift_rows_of as drift_stats_of. The downgrade restores 0135's four views and check_period_kind, then
drops the four functions.

Revision ID: 0136
Revises: 0135
Create Date: 2026-12-06
"""

from pgscore.migrate import run_frozen

revision = "0136"
down_revision = "0135"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
