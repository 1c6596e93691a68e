"""predict_batch of a model scored in SQL (a linear one with one output) runs the caller's query once on a row's error:
on batch_row's error, or a value out of SQL's range (22003), it ran the query again chunk by chunk for the chunks'
wording, so the query's functions ran twice (a sequence's nextval) and a query giving other rows the second time
(random(), a table changed meanwhile) had its error name another row than the one that failed, or none. The error is
the failed row's own now (its key and why). pgscore_admin may run drift_counts_of, which pgscore drift --html reads for
the models it shows (it read drift_counts, every live model's counts, once for each). firing_of (alerts_of, pgscore
drift NAME) computes the class mix of the models it names alone (class_drift_stats_of; it read class_drift_stats(),
every live classifier's, and kept theirs). The downgrade restores the previous functions, drops class_drift_stats_of and revokes
the grant.

Revision ID: 0149
Revises: 0147
Create Date: 2026-12-06
"""

from pgscore.migrate import run_frozen

revision = "0149"
down_revision = "0147"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
