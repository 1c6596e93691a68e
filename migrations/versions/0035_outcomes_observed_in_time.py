"""record_outcome refuses an observed_at that is not a point in time (infinity, a sentinel date some applications
use: the outcome would judge each newer prediction of its entity in turn, for ever, whichever version made it),
with SQLSTATE 22023, and notes one more than a day ahead (it pairs with the predictions logged until then).
Outcomes recorded at infinity before are taken as observed when they were recorded, and paired again by the
next refresh_monitoring (the downgrade keeps them so).

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-01
"""

from pgscore.migrate import run_frozen

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
