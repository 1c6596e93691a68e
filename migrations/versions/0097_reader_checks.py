"""Reader checks: pgscore.version_drift (any version, live or not: a challenger's drift) gains a last column,
checks, the per-metric checks drift_stats_of computed for each row (thresholds, level, confidence, noise floor and
family, as window_checks gives the live version's), so that a reader sees why a challenger's row is at warn; and
pgscore.drift_by_day gains checks too, last, its status comment saying it is judged by the same thresholds and
floors. Existing columns are unchanged. drift_by_day takes its column in place; version_drift is dropped and made
again with its owner and every grant, each as its grantor made it, as 0091's (a view of the user's on it stops the migration, named). The downgrade
restores 0094's definitions, with owners, grants and the view's column comments (a DBA's own comment on the view,
its status column or version_drift stays, each way).

Revision ID: 0097
Revises: 0096
Create Date: 2026-12-04
"""

from pgscore.migrate import run_frozen

revision = "0097"
down_revision = "0096"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
