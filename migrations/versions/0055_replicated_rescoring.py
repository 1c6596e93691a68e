"""Rescoring of the rows logical replication applies to a wired event table: a subscription's apply worker
fires row triggers only, never pgscore's statement trigger, so they were kept and never counted or rescored.
attach_rescoring's p_replicated (NULL: where a subscription writes the event table) also creates a row
trigger, enabled for replication sessions only, that rescores each applied row with the statement trigger's
statements; the wiring records it, detach_rescoring drops it.

Revision ID: 0055
Revises: 0054
Create Date: 2026-12-02
"""

from pgscore.migrate import run_frozen

revision = "0055"
down_revision = "0054"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
