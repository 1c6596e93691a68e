-- 0182's downgrade: pgscore.cached_models() dropped, the defaults now() again, and 0178's pgscore.metrics()

DROP FUNCTION pgscore.cached_models();

ALTER TABLE pgscore.error_queue
    ALTER COLUMN first_failed_at SET DEFAULT now(),
    ALTER COLUMN last_failed_at SET DEFAULT now();

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
           count(*) FILTER (WHERE q.first_failed_at > now() - interval '1 hour') AS last_hour
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
        SELECT 2, 'error_queue_oldest_seconds', n.name, coalesce(extract(epoch FROM now() - q.oldest), 0)::float8
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
