"""refresh_monitoring rolls up again only the buckets whose rows changed; the prediction log is append-only.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29
"""

from pgscore.migrate import run_frozen

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
