"""Registry: baselines, register/activate/rollback/retire, model_versions, score/predict/predict_proba.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from pgscore.migrate import run_frozen

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
