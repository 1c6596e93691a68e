"""Trial hT17 of session 64: record_outcome and refresh_monitoring on a hot standby, or in a read-only transaction,
refuse with pgscore's own 25006, saying a standby where it is one, with a hint to run them on the primary (or in a
transaction that may write); PostgreSQL's bare 25006 had no hint and quoted their INSERT in its CONTEXT. The
downgrade restores the two functions as 0145 left them.

Revision ID: 0154
Revises: 0153
Create Date: 2026-12-06
"""

from pgscore.migrate import run_frozen

revision = "0154"
down_revision = "0153"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
