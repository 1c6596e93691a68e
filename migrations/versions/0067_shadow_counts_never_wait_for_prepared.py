"""pgscore.count_shadow_failure never waits for a transaction this backend PREPAREd that counted into its row of
pgscore.shadow_failures: the next failing statement of a two_phase subscription's apply worker (or of a session
using PREPARE TRANSACTION) waited for it for ever. It counts into the backend's second row then.

Revision ID: 0067
Revises: 0066
Create Date: 2026-12-03
"""

from pgscore.migrate import run_frozen

revision = "0067"
down_revision = "0066"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
