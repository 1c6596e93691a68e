"""Session 69 (h2): record_outcome notes an outcome that judges no prediction once a transaction for each model, not
once a transaction across every model (the setting pgscore.outcome_unjudged_noted held the transaction's id alone:
the outcomes of a second model recorded in the same transaction were not noted at all). The downgrade re-applies
0173's text.

Revision ID: 0177
Revises: 0176
Create Date: 2026-12-07
"""

from pgscore.migrate import run_frozen

revision = "0177"
down_revision = "0176"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
