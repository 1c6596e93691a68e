"""drift_by_day, performance_by_day and performance_by_day_by_version start at the version's deploy: the days of
the 30 before it existed were listed as no_data.

Revision ID: 0063
Revises: 0062
Create Date: 2026-12-02
"""

from pgscore.migrate import run_frozen

revision = "0063"
down_revision = "0062"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
