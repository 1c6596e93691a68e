"""Session 68 (h6): pgscore.refuse_read_only, the writers' refusal of a read-only transaction, is executable by PUBLIC
(granted to pgscore_admin alone by 0169, a role granted a writer that runs as its caller directly, not through
pgscore_admin, got 42501 for it in a read-only transaction instead of the writer's 25006); erase_entity finds a key
as Python's repr writes it in full (a key holding both quotes, a control character or a character Python does not
print, named by a model's KeyError, stayed in the queue's reason and the shadow's last message); delete_model takes
the name's row of pgscore.model_locks without waiting too, and where it is held waits for it holding nothing (a
transaction that deployed the name and then ran refresh_monitoring deadlocked with a delete of the name waiting for
it, 40P01), and a lock_timeout ending one of its waits names what it waited for (review r6 of session 68, edited in
place before landing: PostgreSQL's own 55P03 named nothing). The downgrade re-applies 0169's grant and texts.

Revision ID: 0175
Revises: 0174
Create Date: 2026-12-07
"""

from pgscore.migrate import run_frozen

revision = "0175"
down_revision = "0174"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
