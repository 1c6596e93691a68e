"""Unmatched versions shown: realised_performance_by_version (performance_stats_of with p_by_version) gives rows
to each version of a model with outcomes recorded that logged predictions none of the outcomes judges (outcomes
recorded under the wrong key): n 0, metrics NULL, status no_data, note and unmatched_outcomes, where the version
had no row at all and its unmatched_outcomes could not be read. The view's columns and their order are
unchanged. The downgrade restores 0089's function and the view's comment.

Revision ID: 0090
Revises: 0089
Create Date: 2026-12-04
"""

from pgscore.migrate import run_frozen

revision = "0090"
down_revision = "0089"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
