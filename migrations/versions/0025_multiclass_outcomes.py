"""precision and recall for binary classifiers only; record_outcome refuses true/false for a model that
is not a binary classifier; the commit-time flush of the query log runs as its owner.

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-30
"""

from pgscore.migrate import run_frozen

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
