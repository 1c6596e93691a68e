-- 0043 to 0044: pgscore.refresh_windows recounts the window counters (and the recomputes that read the clock)
-- of the profiles whose events have left a window since their last event, and rescores those that changed;
-- its audit rows carry the source 'refresh', which the log's CHECK now allows. The DROP takes the log's
-- ACCESS EXCLUSIVE lock until the upgrade's transaction ends, so validating the new constraint, which reads every
-- row of the log, holds up every statement that logs (or reads the log) meanwhile: on a log of tens of millions
-- of rows, upgrade when scoring is quiet (pgscore install --lock-timeout bounds only the wait for the lock).
ALTER TABLE pgscore.prediction_log DROP CONSTRAINT prediction_log_source_check;
ALTER TABLE pgscore.prediction_log ADD CONSTRAINT prediction_log_source_check
    CHECK (source IN ('query', 'batch', 'trigger', 'retry', 'refresh')) NOT VALID;
ALTER TABLE pgscore.prediction_log VALIDATE CONSTRAINT prediction_log_source_check;
COMMENT ON TABLE pgscore.prediction_log IS 'Every prediction: model, entity, features, score, source (query/batch/trigger/retry/refresh) and cause';

CREATE FUNCTION pgscore.refresh_windows(p_event_table regclass DEFAULT NULL, p_limit integer DEFAULT NULL)
RETURNS TABLE (rescoring_id bigint, event_table regclass, profile_table regclass, recounted bigint, rescored bigint,
               failed bigint)
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET "DateStyle" = 'ISO'
SET "IntervalStyle" = 'postgres'
SET extra_float_digits = 1
AS $pl$
try:
    from pgscore.pl import refresh_windows
except ImportError as e:  # a server started without pgscore's environment
    plpy.error("pgscore cannot be imported by the database's Python: %s" % e, sqlstate="58P01",
               hint="restart the server with PYTHONPATH naming the site-packages directory of the environment pgscore was installed into with the server's own Python, not the venv itself (any pgscore command of that environment prints the exact value; README, 'Installing into an existing server'), then SELECT pgscore.validate_environment()")
return refresh_windows(plpy, GD, p_event_table, p_limit)
$pl$;
COMMENT ON FUNCTION pgscore.refresh_windows(regclass, integer) IS 'Recount the window counters (and the recomputes that read the clock) of the profiles whose events have left a window since, and rescore those that changed (audit source refresh); up to p_limit profiles per call, in key order; one row per wiring with such counters';

REVOKE EXECUTE ON FUNCTION pgscore.refresh_windows(regclass, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgscore.refresh_windows(regclass, integer) TO pgscore_app, pgscore_admin;
