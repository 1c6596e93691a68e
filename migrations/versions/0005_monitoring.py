"""Monitoring: drift and performance views against the baseline, outcomes, alerts, rollups, the reader role.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from pgscore.migrate import run_frozen

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
