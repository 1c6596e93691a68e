"""Retention deletes the drift rollups of the days it drops; the realised-performance note and two column comments say what they mean.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30
"""

from pgscore.migrate import run_frozen

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
