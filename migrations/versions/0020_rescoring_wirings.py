"""detach_rescoring drops the trigger where it is; forget_rescoring removes a wiring whose trigger is gone.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30
"""

from pgscore.migrate import run_frozen

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
