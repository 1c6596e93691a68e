-- 0183 (session 71, h1): record_outcome without JIT compilation: a call per outcome, each of its statements
-- compiled under a DBA's jit_above_cost = 0 (73 ms an outcome, 2.7 ms without; pgscore demo's 1,000 outcomes ran
-- past a statement_timeout of 30 s)
ALTER FUNCTION pgscore.record_outcome(text, text, text, timestamptz) SET jit = off;
ALTER FUNCTION pgscore.record_outcome(text, text, float8, timestamptz) SET jit = off;
ALTER FUNCTION pgscore.record_outcome(text, text, boolean, timestamptz) SET jit = off;
ALTER FUNCTION pgscore.record_outcome(text, uuid, text, timestamptz) SET jit = off;
ALTER FUNCTION pgscore.record_outcome(text, uuid, float8, timestamptz) SET jit = off;
ALTER FUNCTION pgscore.record_outcome(text, uuid, boolean, timestamptz) SET jit = off;
ALTER FUNCTION pgscore.record_outcome(text, bigint, text, timestamptz) SET jit = off;
ALTER FUNCTION pgscore.record_outcome(text, bigint, float8, timestamptz) SET jit = off;
ALTER FUNCTION pgscore.record_outcome(text, bigint, boolean, timestamptz) SET jit = off;
-- and drift_rows_of (the feature_drift and score_drift views) with work_mem 64MB, as drift_stats has: under a DBA's
-- work_mem = '64kB' and temp_file_limit = '1MB' its own sort spilled 1.2 MB and the views failed (53400)
ALTER FUNCTION pgscore.drift_rows_of(text[], text) SET work_mem = '64MB';
-- (review r2 of session 71, edited in place before it landed) and predict_batch, as score_chunk: under a DBA's
-- jit_above_cost = 0 its statements were compiled at each call, 1.25-1.53 s for 1,000 rows against 60-120 ms
ALTER FUNCTION pgscore.predict_batch(text, text, integer, integer, boolean, text) SET jit = off;
