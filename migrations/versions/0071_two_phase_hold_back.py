"""Two_phase hold-back. A two_phase subscription's apply worker no longer waits for a profile row a prepared
transaction holds (released only by a COMMIT PREPARED that comes later in the stream: the worker waited for
ever): the events of such a profile are kept in the new table pgscore.replicated_pending, their rows as JSON, and
counted and scored by the next rescoring of the wiring in such a worker that can lock the profile, or by
retry_failed. The code is pgscore's (py_src); this revision adds the table and its grants.

Revision ID: 0071
Revises: 0070
Create Date: 2026-12-03
"""

from pgscore.migrate import run_frozen

revision = "0071"
down_revision = "0070"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
