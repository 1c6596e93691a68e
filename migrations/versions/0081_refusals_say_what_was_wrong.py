"""Refusals that say what was wrong: score, predict and predict_proba by name (jsonb) called with a NULL say the
features are a NULL jsonb and which keys were expected (they said "the feature array is NULL", the other form's
word); pgscore.feature_number(value, model, feature, key), whose error names the row's key, for the statements of
predict_batch, score_table and rescoring (the one of three arguments stays, for statements planned before the
upgrade); pgscore.record_outcome for an entity key of type uuid or bigint (integer, smallint by the implicit cast),
each form of the outcome, which needed an explicit ::text (42883). The downgrade restores 0077's shims and drops
the new functions.

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
