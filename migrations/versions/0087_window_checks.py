"""Window checks: pgscore.window_checks, each check of the live models' drift and realised performance in the
windows, with its thresholds, confidence, noise floor, level and what its floor held back (pgscore.check_rows);
drift_report and realised_performance read drift_rows and performance_rows, which carry each row's checks
(pgscore drift reads them once); performance_stats_of writes its checks at extra_float_digits 1. The downgrade
restores 0086's definitions.

Revision ID: 0087
Revises: 0086
Create Date: 2026-12-04
"""

from pgscore.migrate import run_frozen

revision = "0087"
down_revision = "0086"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
