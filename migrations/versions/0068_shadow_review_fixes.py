"""Three fixes of shadow scoring. pgscore.count_shadow_failure counts a failure where a login other than the backend
holds both its advisory locks and no prepared transaction holds a lock on pgscore.shadow_failures: any login may
take an advisory lock, and one granted nothing that held both of a backend's had that backend's failures counted
nothing (and its warning blamed transactions it had PREPAREd, where it had none). pgscore.set_shadow refuses a
version whose features a wired profile table's float8[] column features, read by position, holds in another order
or names otherwise (it compared their count alone, and such a shadow scored the live version's values as its own).
pgscore.alert_state records whether each condition was a shadow version's (shadow), as refresh_monitoring read it,
for pgscore status: by the deployments at refreshed_at (the refresh's start), a version made live while the refresh
ran had its live alerts counted as a shadow's.

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
