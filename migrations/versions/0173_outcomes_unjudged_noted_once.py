"""Session 68 (h4): record_outcome notes an outcome that judges no prediction once a transaction, not once a row
(20,000 outcomes of keys never scored recorded by one statement gave 20,000 NOTICEs), sharing 0167's way for an
outcome ahead (the transaction's id in a setting of the session); forget_rescoring's COMMENT names the rows it keeps
for a profile table renamed since, and error_queue.profile_oid's the rows retry_failed hands over to a copy swapped
in for a dropped table; health()'s error_queue check counts the rows without a SQLSTATE as a group, as pgscore
status does, and tells a role that may not read pgscore.error_queue who may. The downgrade re-applies 0169's text.

Revision ID: 0173
Revises: 0172
Create Date: 2026-12-07
"""

from pgscore.migrate import run_frozen

revision = "0173"
down_revision = "0172"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
