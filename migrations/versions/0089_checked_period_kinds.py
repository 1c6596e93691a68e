"""Checked period kinds: drift_counts, drift_counts_of, drift_stats_of and performance_stats_of refuse an unknown
p_period_kind (22023, naming the argument, the value given and the kinds monitoring_periods gives) through the new
internal pgscore.check_period_kind, where a misspelt kind ('windows') matched no period and gave no rows. NULL
still picks every kind; an unknown period (p_period) still has no rows. drop_log_partitions' errors name
p_older_than. The downgrade restores 0088's definitions and drops check_period_kind.

Revision ID: 0089
Revises: 0088
Create Date: 2026-12-04
"""

from pgscore.migrate import run_frozen

revision = "0089"
down_revision = "0088"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
