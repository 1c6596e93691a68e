"""record_outcome and version_drift say an unknown model as scoring does: "there is no model 'teir'", with the hint
of the model it looks like a typo for (the new internal pgscore.model_name_hint gives scoring's own). The SQLSTATE
stays 42704. The downgrade restores both as 0119 left them and drops model_name_hint.

Revision ID: 0120
Revises: 0119
Create Date: 2026-12-05
"""

from pgscore.migrate import run_frozen

revision = "0120"
down_revision = "0119"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
