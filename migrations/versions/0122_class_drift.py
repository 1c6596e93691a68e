"""A classifier's predicted-class mix against its mix at deploy: pgscore.class_drift per live model and window (each
class's share now and at deploy, their PSI, the class that moved most, n, a status by drift_thresholds' class_mix
row) and the class_mix check in alerts. A multiclass model's deploy captures a class baseline (baselines kind
'class') from the rows its score baseline is drawn from; prediction_values bins each logged label on it, so the
rollups count it as they count the score. drift_stats_of and baseline_bins keep to the features' and score's rows.
A version deployed before 0122 has no class baseline: a NULL status with a note. The downgrade restores the views
and functions as they were and deletes the class baselines, their rollups, alerts and the threshold row.

Revision ID: 0122
Revises: 0121
Create Date: 2026-12-05
"""

from pgscore.migrate import run_frozen

revision = "0122"
down_revision = "0121"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
