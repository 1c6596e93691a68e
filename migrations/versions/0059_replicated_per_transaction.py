"""The rows logical replication applies rescored once per applied transaction: the row trigger for replicated
rows stages each row, and a deferred constraint trigger beside it rescores the transaction's staged rows at the
commit, once (before, each row was rescored on its own: about 460 events/s applied against 52,000 unwired).

Revision ID: 0059
Revises: 0058
Create Date: 2026-12-02
"""

from pgscore.migrate import run_frozen

revision = "0059"
down_revision = "0058"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
