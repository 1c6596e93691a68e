"""Deploys and retires of one model queue on a row of pgscore.model_locks, which only pgscore_admin may lock,
instead of the advisory lock (hashtext('pgscore.models'), hashtext(name)): any role that may connect, one
granted nothing too, could take that lock and hold up every deploy and retire of the model for ever.

Revision ID: 0043
Revises: 0042
Create Date: 2026-12-02
"""

from pgscore.migrate import run_frozen

revision = "0043"
down_revision = "0042"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
