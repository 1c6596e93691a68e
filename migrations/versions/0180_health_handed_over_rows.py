"""Session 70 (h2): pgscore.health()'s error_queue check says of the rows retry_failed handed over to a copy swapped in
for their profile table that lacks their key (P0002, cause handed_over) what pgscore status says: pgscore retry leaves
them, status gives the DELETE (it said "pgscore retry rescores them"). The downgrade re-applies 0174's text.

Revision ID: 0180
Revises: 0178
Create Date: 2026-12-07
"""

from pgscore.migrate import run_frozen

revision = "0180"
down_revision = "0178"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
