"""Session 67 (h6): the refusal of a writer on a standby or in a read-only transaction (25006 saying what the writer
writes and where to run it), written out in nineteen writers by 0154, 0162 and 0163, is one internal function,
pgscore.refuse_read_only(text), which each writer calls; its messages are unchanged. delete_model takes the
refresh's lock (pgscore.monitoring_state's) too, holding neither it nor its SHARE locks while it waits for the other:
a refresh_monitoring running while it deleted a model's rollups deadlocked with it (40P01, one of the two rolled
back); review r3: taken first and held, a transaction that wrote and then refreshed deadlocked with it. The downgrade re-applies 0163's text and
drops the function.

Revision ID: 0169
Revises: 0167
Create Date: 2026-12-07
"""

from pgscore.migrate import run_frozen

revision = "0169"
down_revision = "0167"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
