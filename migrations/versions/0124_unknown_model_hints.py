"""activate, rollback, retire, set_shadow and clear_shadow say an unknown model with scoring's hint, the model it looks
like a typo for ("there is no model 'teir'", HINT "a typo for 'tier'? Else list models with: ..."), through
pgscore.model_name_hint (migration 0120), which pgscore_admin may now execute: activate, rollback and retire run as
their caller. The message and the SQLSTATE (42704) stay; the comments are not set again. The downgrade restores the
five as 0122 left them and revokes model_name_hint from pgscore_admin.

Revision ID: 0124
Revises: 0123
Create Date: 2026-12-06
"""

from pgscore.migrate import run_frozen

revision = "0124"
down_revision = "0123"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
