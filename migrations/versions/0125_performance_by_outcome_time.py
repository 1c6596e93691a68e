"""Realised performance by outcome time: per live model and window, the judged predictions whose outcome was recorded
(outcomes.recorded_at) within the window, whenever they were made, so that predictions whose outcomes arrive days or
weeks late are judged, and alert, when they arrive. performance_stats_of gains the period kind outcome_window (asked
for by name; NULL gives window and day as before); pgscore.realised_performance_by_outcome_time has
realised_performance's columns and checks; firing (so alerts) lists its warn and alert under subject 'outcomes by
recorded time'. judged_predictions and judged_predictions_by_version carry the judging outcome's id (appended). The
downgrade restores them (and calibration, which reads judged_predictions) as 0122 left them, and drops the view and
its alert states.

Revision ID: 0125
Revises: 0124
Create Date: 2026-12-06
"""

from pgscore.migrate import run_frozen

revision = "0125"
down_revision = "0124"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
