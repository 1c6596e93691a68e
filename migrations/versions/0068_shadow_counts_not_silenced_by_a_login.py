"""pgscore.count_shadow_failure counts a failure where a login other than the backend holds both its advisory locks
and no prepared transaction holds a lock on pgscore.shadow_failures: any login may take an advisory lock, and one
granted nothing that held both of a backend's had that backend's failures counted nothing (and its warning blamed
transactions it had PREPAREd, where it had none).

Revision ID: 0068
Revises: 0067
Create Date: 2026-12-03
"""

from pgscore.migrate import run_frozen

revision = "0068"
down_revision = "0067"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
