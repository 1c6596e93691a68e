"""Family in checks: each drift check with a confidence carries the family its noise floor is family-wise over
(migration 0088): family (the model's k features and score), family_features (how many of them are features)
and check_confidence (the confidence^(1/k) its floor is at). pgscore.check_rows gives them as three columns after
its others, pgscore.window_checks after its own (both made again, with their comments, owners and grants);
pgscore drift reads them instead of re-deriving k in Python. Realised-performance checks have none. The
downgrade restores 0090's definitions.

Revision ID: 0091
Revises: 0090
Create Date: 2026-12-04
"""

from pgscore.migrate import run_frozen

revision = "0091"
down_revision = "0090"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
