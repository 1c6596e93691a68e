"""detach_rescoring drops leftover triggers; the deploy hint of a refused deployment; the reader sees
the drift windows and thresholds; the per-day and per-decile n columns' comments.

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-30
"""

from pgscore.migrate import run_frozen

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
