"""Session 71 (h1, trial T28): pgscore.record_outcome (each of its nine signatures) runs with jit = off. Under a DBA's
jit = on with jit_above_cost = 0 every statement of each call was JIT-compiled: 73 ms an outcome against 2.7 ms,
and pgscore demo's 1,000 outcomes in one statement ran past a statement_timeout of 30 s. And pgscore.drift_rows_of (the
feature_drift and score_drift views) runs with work_mem 64MB, as drift_stats: under the DBA's work_mem = '64kB' and
temp_file_limit = '1MB' its own sort spilled 1.2 MB and the views failed (53400). (Review r2 of session 71, edited in
place before it landed:) and pgscore.predict_batch runs with jit = off, as score_chunk: under jit_above_cost = 0 its
statements were compiled at each call, 1.25-1.53 s for 1,000 rows against 60-120 ms; and pgscore.health()'s rescoring
check fails where a wiring's statement trigger is enabled ALWAYS beside its triggers for replicated rows (a load under
session_replication_role = replica counted twice, and it said ok); and retry_failed, refresh_windows,
backfill_rescoring and rescore_profiles set work_mem 64MB (under work_mem = '64kB' and temp_file_limit = '1MB' a
retry of 1,000 profiles queued them all). The downgrade resets them, and health as 0180 left it.

Revision ID: 0183
Revises: 0182
Create Date: 2026-12-07
"""

from pgscore.migrate import run_frozen

revision = "0183"
down_revision = "0182"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
