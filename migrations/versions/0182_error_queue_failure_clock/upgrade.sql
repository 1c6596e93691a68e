-- 0182 (session 70, h4): pgscore.error_queue's first_failed_at and last_failed_at are the failure's own time
-- (clock_timestamp()), no longer its transaction's start (now()): a profile that failed late in a transaction
-- that ran over an hour was not counted by metrics()' error_queue_queued_last_hour. metrics() reads them against
-- its statement's start (statement_timestamp(), not the reader's transaction's), an age never below 0. The
-- rescoring's own UPDATEs of last_failed_at are in Python (pgscore.rescoring). metrics()' result's type is
-- unchanged: replaced in place, its grants kept

ALTER TABLE pgscore.error_queue
    ALTER COLUMN first_failed_at SET DEFAULT clock_timestamp(),
    ALTER COLUMN last_failed_at SET DEFAULT clock_timestamp();

CREATE OR REPLACE FUNCTION pgscore.metrics()
RETURNS TABLE (metric text, model text, value float8)
LANGUAGE sql
STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off  -- (review r2) as health()'s
AS $fn$
WITH queue AS (
    SELECT coalesce(r.model_name, q.model_name) AS model, count(*) AS n, min(q.first_failed_at) AS oldest,
           -- (0178) the profiles whose rescoring failed in the last hour (first or again: an INSERT's, a retry's):
           -- a session warns of a wiring's failure once a minute, not at each statement (session 68's trial T25)
           -- (0182) the failures' own times (clock_timestamp(): a failure late in a transaction that ran over an
           -- hour was stamped with its start, now(), and never counted), read against this statement's start, not
           -- the reader's transaction's
           count(*) FILTER (WHERE q.first_failed_at > statement_timestamp() - interval '1 hour') AS last_hour
      FROM pgscore.error_queue q
      LEFT JOIN pgscore.rescoring r ON r.rescoring_id = q.rescoring_id
     GROUP BY 1
), firing AS (  -- health()'s count: a condition silenced in every window it fires in is not counted
    SELECT a.model, a.level
      FROM pgscore.alert_state a
     WHERE a.shadow IS NOT TRUE
     GROUP BY a.model, a.version, a.what, a.subject, a.metric, a.level
    HAVING NOT bool_and(EXISTS (
               SELECT 1 FROM pgscore.alert_silences q
                WHERE q.model = a.model AND q.lifted_at IS NULL AND q.starts_at <= now() AND q.ends_at > now()
                  AND (q.what IS NULL OR q.what = a.what) AND (q.subject IS NULL OR q.subject = a.subject)
                  AND (q.metric IS NULL OR q.metric = a.metric)
                  AND (q.window_name IS NULL OR q.window_name = a.window_name)
                  AND (q.shadow IS NULL OR q.shadow = coalesce(a.shadow, false))))
), alerts AS (
    SELECT f.model, count(*) FILTER (WHERE f.level = 'alert') AS alert, count(*) FILTER (WHERE f.level = 'warn') AS warn
      FROM firing f GROUP BY f.model
), names AS (  -- (0178) and the models whose alerts are stored, deleted since (health() counts them: 0174 left them out)
    SELECT m.name FROM pgscore.models m
    UNION
    SELECT queue.model FROM queue
    UNION
    SELECT alerts.model FROM alerts
)
SELECT x.metric, x.model, x.value
  FROM (SELECT 1 AS o, 'error_queue_profiles' AS metric, n.name AS model, coalesce(q.n, 0)::float8 AS value
          FROM names n LEFT JOIN queue q ON q.model IS NOT DISTINCT FROM n.name
        UNION ALL
        SELECT 2, 'error_queue_oldest_seconds', n.name, greatest(coalesce(extract(epoch FROM statement_timestamp() - q.oldest), 0), 0)::float8
          FROM names n LEFT JOIN queue q ON q.model IS NOT DISTINCT FROM n.name
        UNION ALL
        SELECT 3, 'alerts_at_alert', n.name, coalesce(a.alert, 0)::float8
          FROM names n LEFT JOIN alerts a ON a.model = n.name WHERE n.name IS NOT NULL
        UNION ALL
        SELECT 4, 'alerts_at_warn', n.name, coalesce(a.warn, 0)::float8
          FROM names n LEFT JOIN alerts a ON a.model = n.name WHERE n.name IS NOT NULL
        UNION ALL
        SELECT 5, 'error_queue_queued_last_hour', n.name, coalesce(q.last_hour, 0)::float8
          FROM names n LEFT JOIN queue q ON q.model IS NOT DISTINCT FROM n.name
        UNION ALL
        -- (0178) a row whatever monitoring_state holds: NULL where never refreshed or its row is gone (a partial
        -- restore); 0174 gave no row then, and a scraper cannot alert on a row it never sees
        SELECT 6, 'monitoring_refreshed_at', NULL,
               (SELECT extract(epoch FROM s.refreshed_at)::float8 FROM pgscore.monitoring_state s)) x
 ORDER BY x.o, x.model NULLS FIRST
$fn$;
COMMENT ON FUNCTION pgscore.metrics() IS 'For a scraper (migration 0174): per model, error_queue_profiles, error_queue_oldest_seconds (0: none queued), alerts_at_alert and alerts_at_warn (as health() counts them), error_queue_queued_last_hour (0178); monitoring_refreshed_at, always a row (epoch seconds, NULL: never); reads small tables alone';

-- pgscore.cached_models(): the model versions the calling backend keeps loaded and the bytes each holds (an SRE
-- saw a backend's memory from the host alone); revoked from PUBLIC, granted as metrics()
CREATE FUNCTION pgscore.cached_models()
RETURNS TABLE (model text, version integer, model_id bigint, engine text, footprint_bytes bigint, lru_rank integer)
LANGUAGE plpython3u
STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $pl$
try:
    from pgscore.pl import cached_models
except ImportError as e:  # a server started without pgscore's environment
    plpy.error("pgscore cannot be imported by the database's Python: %s" % e, sqlstate="58P01",
               hint="restart the server with PYTHONPATH naming the site-packages directory of the environment pgscore was installed into with the server's own Python, not the venv itself (any pgscore command of that environment prints the exact value; README, 'Installing into an existing server'), then SELECT pgscore.validate_environment()")
return cached_models(plpy, GD)
$pl$;
COMMENT ON FUNCTION pgscore.cached_models() IS 'The model versions this backend keeps loaded (migration 0182), each with its footprint in bytes as pgscore.model_cache counts it and its lru_rank (1: the first let go past the limit); the calling backend''s alone, no other''s';
REVOKE EXECUTE ON FUNCTION pgscore.cached_models() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgscore.cached_models() TO pgscore_reader, pgscore_app, pgscore_admin;
