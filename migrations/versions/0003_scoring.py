"""Scoring: compiled evaluators, score/predict/predict_proba by position or name with the audit log, batch scoring, log partitions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from pgscore.migrate import run_frozen

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
