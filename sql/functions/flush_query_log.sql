/*
 * Fired at commit by the deferred constraint trigger on pgscore.log_pending:
 * writes the query path's buffered predictions to pgscore.prediction_log.
 */
CREATE FUNCTION pgscore.flush_query_log()
RETURNS trigger
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $pl$
@@plpython/flush_query_log.py@@
$pl$;
COMMENT ON FUNCTION pgscore.flush_query_log() IS 'Internal trigger: writes the buffered query-path predictions of this transaction at commit';
