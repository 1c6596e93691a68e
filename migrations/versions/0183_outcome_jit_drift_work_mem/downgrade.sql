-- 0183's downgrade: record_outcome with the session's jit again, as 0182 left it
ALTER FUNCTION pgscore.record_outcome(text, text, text, timestamptz) RESET jit;
ALTER FUNCTION pgscore.record_outcome(text, text, float8, timestamptz) RESET jit;
ALTER FUNCTION pgscore.record_outcome(text, text, boolean, timestamptz) RESET jit;
ALTER FUNCTION pgscore.record_outcome(text, uuid, text, timestamptz) RESET jit;
ALTER FUNCTION pgscore.record_outcome(text, uuid, float8, timestamptz) RESET jit;
ALTER FUNCTION pgscore.record_outcome(text, uuid, boolean, timestamptz) RESET jit;
ALTER FUNCTION pgscore.record_outcome(text, bigint, text, timestamptz) RESET jit;
ALTER FUNCTION pgscore.record_outcome(text, bigint, float8, timestamptz) RESET jit;
ALTER FUNCTION pgscore.record_outcome(text, bigint, boolean, timestamptz) RESET jit;
ALTER FUNCTION pgscore.drift_rows_of(text[], text) RESET work_mem;
ALTER FUNCTION pgscore.predict_batch(text, text, integer, integer, boolean, text) RESET jit;
