"""pgscore.rollback without a version went to the newest earlier version ever live, so that after a challenger
was rolled back (v2 did worse, v1 live again) and the next one went live (v3), `pgscore rollback` made the
rejected v2 live; it now leaves out a version that a rollback to an older one took away the last time it was
live, and goes to v1.

Revision ID: 0051
Revises: 0050
Create Date: 2026-12-02
"""

from pgscore.migrate import run_frozen

revision = "0051"
down_revision = "0050"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
