"""Refusals that say what was wrong: score, predict and predict_proba by name (jsonb) called with a NULL say the
features are a NULL jsonb and which keys were expected (they said "the feature array is NULL", the other form's
word).

Revision ID: 0081
Revises: 0080
Create Date: 2026-12-03
"""

from pgscore.migrate import run_frozen

revision = "0081"
down_revision = "0080"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
