"""pgscore.effective_thresholds(p_model, p_metric, p_subject): the one rule of which thresholds judge a metric (a
subject's override, else the model's, else drift_thresholds', value by value) and where each came from, read by
both judge forms with a model, drift_stats_of, performance_stats_of, set_thresholds and check_threshold_order (each
held its own copy of the rule, and pgscore drift another). Checks an override judged say where each threshold came
from (warn_from, alert_from, min_n_from, confidence_from) and window_checks has those columns and override. An
override's confidence 0 is no noise floor for the model (or the subject). A threshold write in a REPEATABLE READ
transaction whose snapshot predates another's committed write is refused (40001). A writer of either threshold
table waits for any other before its statement locks a row (BEFORE STATEMENT triggers; two admins updating
drift_thresholds by hand deadlocked). window_checks.confidence's comment says an override's confidence. The downgrade
restores the functions as 0129 left them and window_checks as 0131 left it, with a WARNING for each override's
confidence 0 it deletes or makes NULL.

Revision ID: 0133
Revises: 0132
Create Date: 2026-12-06
"""

from pgscore.migrate import run_frozen

revision = "0133"
down_revision = "0132"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
