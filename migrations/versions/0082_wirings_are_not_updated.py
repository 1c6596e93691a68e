"""Wirings are not updated: pgscore_admin held UPDATE on pgscore.rescoring, which no function of pgscore needs but for
the row locks of detach_rescoring and forget_rescoring (SELECT ... FOR UPDATE takes it), so that a hand-written
UPDATE changed a wiring's counters (SQL every role inserting events runs, a subscription's apply worker among them),
model or tables past attach_rescoring's checks. The two functions now lock the row by deleting it first, and the
grant is revoked (42501). The downgrade restores 0081's functions and the grant.

Revision ID: 0082
Revises: 0081
Create Date: 2026-12-03
"""

from pgscore.migrate import run_frozen

revision = "0082"
down_revision = "0081"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
