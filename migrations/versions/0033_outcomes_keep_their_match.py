"""Each outcome keeps the prediction it judges, found when it is recorded and, for a prediction logged later, by
refresh_monitoring (pgscore.match_outcomes): outcome_matches reads it instead of probing every partition of the
log for every outcome, and retention of the log no longer turns judged outcomes into unmatched ones.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-01
"""

from pgscore.migrate import run_frozen

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
