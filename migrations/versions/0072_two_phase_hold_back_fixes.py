"""Two_phase hold-back, fixed. pgscore.replicated_pending takes rows from a logical replication worker alone
(row-level security: an app login planted events that retry_failed counted as replicated), a fold claims the
rows it counts (UPDATE on held_at for FOR UPDATE SKIP LOCKED: two folds at once counted an event twice), and
detach_rescoring and forget_rescoring delete a wiring's held-back events with a WARNING.

Revision ID: 0072
Revises: 0071
Create Date: 2026-12-03
"""

from pgscore.migrate import run_frozen

revision = "0072"
down_revision = "0071"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
