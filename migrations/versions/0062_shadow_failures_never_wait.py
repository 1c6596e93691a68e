"""set_shadow and clear_shadow never wait for a row of pgscore.shadow_failures a session is counting into
(FOR UPDATE SKIP LOCKED): waiting could deadlock with that session and fail its INSERT.

Revision ID: 0062
Revises: 0061
Create Date: 2026-12-02
"""

from pgscore.migrate import run_frozen

revision = "0062"
down_revision = "0061"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
