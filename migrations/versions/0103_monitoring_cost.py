"""What every alerts and refresh_monitoring read for nothing: performance_stats_of's per-version check that a version
logged a prediction (0090) was planned as a semi-join that read the whole prediction log and hashed it by model_id,
also for shadow_performance_stats with no shadow set (221 ms of a 1,000,000-row log, growing with the log). Its two
EXISTS are now index probes of the versions asked for (OFFSET 0). And firing read the live versions' drift through
drift_stats(), every window and each of the 30 days with their noise floors, to keep the windows: it reads the new
window_drift_stats() (drift_stats_of in the windows; the reader's to call). The downgrade restores 0101's
performance_stats_of and firing and drops window_drift_stats.

Revision ID: 0103
Revises: 0101
Create Date: 2026-12-05
"""

from pgscore.migrate import run_frozen

revision = "0103"
down_revision = "0101"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
