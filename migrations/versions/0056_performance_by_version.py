"""Realised performance and drift per model version, live or not: each outcome judged against each version's
own newest prediction of the entity before it (pgscore.outcome_version_matches, read by
pgscore.realised_performance_by_version), and pgscore.version_drift(model, version) against the version's own
baseline, so that a champion and a challenger are compared in SQL.

Revision ID: 0056
Revises: 0055
Create Date: 2026-12-02
"""

from pgscore.migrate import run_frozen

revision = "0056"
down_revision = "0055"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
