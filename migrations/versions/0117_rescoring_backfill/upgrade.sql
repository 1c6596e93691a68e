-- 0116 to 0117: pgscore.backfill_rescoring recounts the counters of an event table's wirings from all of its
-- events (what attach_rescoring over a table that held events, or attached again after a detach, left
-- uncounted) and rescores the profiles whose counters changed; its audit rows carry the source 'refresh' (their
-- cause's via says backfill_rescoring). A new function alone: attach_rescoring's warning of the events a table
-- holds is in its Python body.
CREATE FUNCTION pgscore.backfill_rescoring(p_event_table regclass)
RETURNS bigint
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET "DateStyle" = 'ISO'
SET "IntervalStyle" = 'postgres'
SET extra_float_digits = 1
AS $pl$
try:
    from pgscore.pl import backfill_rescoring
except ImportError as e:  # a server started without pgscore's environment
    plpy.error("pgscore cannot be imported by the database's Python: %s" % e, sqlstate="58P01",
               hint="restart the server with PYTHONPATH naming the site-packages directory of the environment pgscore was installed into with the server's own Python, not the venv itself (any pgscore command of that environment prints the exact value; README, 'Installing into an existing server'), then SELECT pgscore.validate_environment()")
return backfill_rescoring(plpy, GD, p_event_table)
$pl$;
COMMENT ON FUNCTION pgscore.backfill_rescoring(regclass) IS 'Recount the counters of the event table''s wirings from all of its events (what attaching over a table with events, or again after a detach, left uncounted: count, add, max, min, last; windows and recomputes too; a set counter is skipped with a NOTICE), creating the missing profiles as the wiring does and leaving the queued ones to retry_failed, and rescore the profiles whose counters changed (audit source refresh, via backfill_rescoring); in key order, 10,000 profiles a statement; returns how many profiles changed';

REVOKE EXECUTE ON FUNCTION pgscore.backfill_rescoring(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgscore.backfill_rescoring(regclass) TO pgscore_app, pgscore_admin;
