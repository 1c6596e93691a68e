"""Trial T18 of session 65: forget_rescoring deletes, with a WARNING, the queued errors of the wiring it
removes where no table has their profile table's name any more (a tenant's schema dropped with DROP SCHEMA ...
CASCADE): nothing could rescore them, `pgscore health` warned and `pgscore retry` exited 1 for ever, and a table
made later under that name (a new tenant given the schema's name) took them over, so that retry_failed rescored its
unrelated profiles and logged the dropped table's event ids as their cause. pgscore.health()'s error_queue check
says what rescores which queued profile (it said `pgscore retry rescores them` of those of no wiring too, and of a
profile table that is gone). The downgrade restores forget_rescoring as 0110 left it and health(text[]) as 0153 did.

Revision ID: 0157
Revises: 0156
Create Date: 2026-12-07
"""

from pgscore.migrate import run_frozen

revision = "0157"
down_revision = "0156"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
