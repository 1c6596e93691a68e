"""Session 66 (trial T18's leftover): pgscore.error_queue keeps, with each row, the OID of the profile table it was
queued for (profile_oid), its own OID then (queue_oid) and the cluster's system identifier (queue_system), to tell a
restored dump's rows, whose OIDs are all new (a fresh cluster's restore may give the queue its OID again).
A profile table dropped and made again under its name before forget_rescoring ran (a tenant's schema dropped and
made again; or the profile table alone, its wiring living on by name) handed its queued errors to the new table:
retry_failed rescored the new table's unrelated profiles, logging the dropped table's events as their cause. Rows
already queued are given the OID of the table their name finds now. The downgrade drops the three columns.

Revision ID: 0160
Revises: 0159
Create Date: 2026-12-07
"""

from pgscore.migrate import run_frozen

revision = "0160"
down_revision = "0159"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
