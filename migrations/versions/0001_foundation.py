"""Foundation: schema pgscore, plpython3u, registry, prediction log, outcomes, error queue.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from pgscore.migrate import run_frozen

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
