/*
 * Fired at commit by the deferred constraint trigger on pgscore.log_pending:
 * writes the query path's buffered predictions to pgscore.prediction_log. As its owner
 * (SECURITY DEFINER): the role at COMMIT may not be the one that scored (SET ROLE after scoring, a
 * SECURITY DEFINER function of the app's called by a reader), and may not write the log; the rows
 * name the role that scored, taken when it did. Only pgscore's functions fill the buffer.
 */
CREATE FUNCTION pgscore.flush_query_log()
RETURNS trigger
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $pl$
@@plpython/flush_query_log.py@@
$pl$;
COMMENT ON FUNCTION pgscore.flush_query_log() IS 'Internal trigger: writes the buffered query-path predictions of this transaction at commit';
