"""Rescoring on INSERT: attach_rescoring / detach_rescoring, the rescore_events trigger, retry_failed, the wiring table.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from pgscore.migrate import run_frozen

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
