"""The load check of activate, rollback and set_shadow in one internal function, pgscore.load_or_refuse (each
repeated the same PL/pgSQL block: load the version through pgscore.load_model, and refuse one the server cannot
load unless forced); their SQLSTATEs and messages are as before.

Revision ID: 0060
Revises: 0059
Create Date: 2026-12-02
"""

from pgscore.migrate import run_frozen

revision = "0060"
down_revision = "0059"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
