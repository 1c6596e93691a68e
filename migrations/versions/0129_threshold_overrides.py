"""Per-model (and per-feature) thresholds. pgscore.drift_threshold_overrides overrides pgscore.drift_thresholds'
warn, alert, min_n and confidence of a metric for one model (every version of the name), or for one of its
features (or its score) alone; each NULL is inherited. pgscore.set_thresholds and clear_thresholds write them
(pgscore_admin). judge gains forms with p_model and p_subject; drift_stats_of, class_drift_stats and
performance_stats_of judge each model (and feature) by what applies to it, noise floors at the confidence that
applies, each check an override set saying so. The downgrade drops the table, with the overrides in it.

Revision ID: 0129
Revises: 0128
Create Date: 2026-12-06
"""

from pgscore.migrate import run_frozen

revision = "0129"
down_revision = "0128"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
