-- undo 0006 drift by day: 0005's refresh_monitoring and drift_stats, no drift_counts or day rollups

CREATE OR REPLACE FUNCTION pgscore.refresh_monitoring(p_relook interval DEFAULT '1 hour', p_rebuild boolean DEFAULT false)
RETURNS TABLE (rolled_from timestamptz, rolled_until timestamptz, rollup_rows bigint, firing bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET work_mem = '256MB'
SET enable_sort = off
SET enable_incremental_sort = off
AS $fn$
DECLARE
    v_day   timestamptz;
    v_next  timestamptz;
    v_chunk bigint;
    v_until timestamptz;
    v_from  timestamptz;
    v_to    timestamptz := date_bin('5 minutes', now(), '2000-01-01 00:00:00+00');
    v_rows  bigint;
    v_firing bigint;
BEGIN
    IF p_relook IS NULL OR p_rebuild IS NULL OR p_relook < interval '0' THEN
        RAISE EXCEPTION 'pgscore.refresh_monitoring: p_relook must be an interval >= 0 and p_rebuild true or false'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- one refresh at a time; a second waits and then finds little to do
    SELECT s.rolled_until INTO v_until FROM pgscore.monitoring_state s FOR UPDATE;
    v_from := CASE WHEN p_rebuild THEN '-infinity'::timestamptz
                   ELSE date_bin('5 minutes', v_until - p_relook, '2000-01-01 00:00:00+00') END;
    IF p_rebuild THEN
        DELETE FROM pgscore.drift_rollup;
    ELSE
        DELETE FROM pgscore.drift_rollup r WHERE r.bucket >= v_from AND r.bucket < v_to;
    END IF;
    -- one UTC day at a time (the log's partitions), so each aggregate is a hash over at most a day of
    -- values and temp space does not grow with the log; a rebuild starts at the oldest row
    IF v_from = '-infinity' THEN
        SELECT date_bin('5 minutes', min(l.logged_at), '2000-01-01 00:00:00+00') INTO v_from
          FROM pgscore.prediction_log l;
    END IF;
    v_rows := 0;
    v_day := v_from;
    WHILE v_day IS NOT NULL AND v_day < v_to LOOP
        v_next := least(date_trunc('day', v_day, 'UTC') + interval '24 hours', v_to);
        INSERT INTO pgscore.drift_rollup (model_id, bucket, kind, position, bin, n, total, n_out)
        SELECT v.model_id, date_bin('5 minutes', v.logged_at, '2000-01-01 00:00:00+00'), v.kind, v.position, v.bin,
               count(*), coalesce(sum(v.x) FILTER (WHERE v.bin >= 0), 0), count(*) FILTER (WHERE v.out_of_range)
          FROM pgscore.prediction_values v
         WHERE v.logged_at >= v_day AND v.logged_at < v_next
         GROUP BY 1, 2, 3, 4, 5;
        GET DIAGNOSTICS v_chunk = ROW_COUNT;
        v_rows := v_rows + v_chunk;
        v_day := v_next;
    END LOOP;
    UPDATE pgscore.monitoring_state s SET rolled_until = greatest(v_to, s.rolled_until), refreshed_at = now();

    -- alert_state keeps when each firing condition was first seen; cleared ones go
    WITH f AS MATERIALIZED (SELECT * FROM pgscore.firing),
    gone AS (
        DELETE FROM pgscore.alert_state s
         WHERE NOT EXISTS (SELECT 1 FROM f WHERE f.model = s.model AND f.version = s.version AND f.what = s.what
                             AND f.subject = s.subject AND f.window_name = s.window_name
                             AND f.metric = s.metric AND f.level = s.level)
    )
    INSERT INTO pgscore.alert_state (model, version, what, subject, window_name, metric, level)
    SELECT f.model, f.version, f.what, f.subject, f.window_name, f.metric, f.level FROM f
    ON CONFLICT DO NOTHING;
    SELECT count(*) INTO v_firing FROM pgscore.alert_state;
    RETURN QUERY SELECT coalesce(v_from, v_to), greatest(v_to, v_until), v_rows, v_firing;
END
$fn$;
COMMENT ON FUNCTION pgscore.refresh_monitoring(interval, boolean) IS 'Roll the prediction log up by whole 5-minute bucket (re-rolling the last p_relook, for rows of transactions that committed late; p_rebuild rolls up everything again) and record when each firing alert was first seen. Run it every few minutes from pg_cron or cron';

CREATE OR REPLACE FUNCTION pgscore.drift_stats()
RETURNS TABLE (model_id bigint, name text, version integer, period_kind text, period text, sort_order integer,
               kind text, feature text, "position" integer, n bigint, n_valid bigint, null_rate float8,
               baseline_null_rate float8, mean float8, baseline_mean float8, mean_shift float8, out_of_range float8,
               psi float8, ks float8, js float8, constant_baseline boolean, empty_baseline boolean,
               checks jsonb, status text, firing text, min_n integer)
LANGUAGE sql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
SET work_mem = '64MB'
ROWS 2000
AS $fn$
WITH live AS MATERIALIZED (SELECT lm.model_id, lm.name, lm.version FROM pgscore.live_models lm),
periods AS MATERIALIZED (SELECT * FROM pgscore.monitoring_periods),
raw_ranges AS MATERIALIZED (  -- the parts of each period the rollups do not cover
    SELECT p.period_kind, p.period, r.lo, CASE WHEN r.hi > now() THEN 'infinity'::timestamptz ELSE r.hi END AS hi
      FROM periods p
     CROSS JOIN LATERAL (VALUES (p.starts, least(p.bucket_from, p.ends)), (p.bucket_to, p.ends)) r(lo, hi)
     WHERE r.lo < r.hi
),
raw AS MATERIALIZED (  -- each distinct range read once, through the log's (model_id, logged_at) index
    SELECT rg.lo, rg.hi, v.model_id, v.kind, v.position, v.bin, count(*) AS n,
           coalesce(sum(v.x) FILTER (WHERE v.bin >= 0), 0) AS total, count(*) FILTER (WHERE v.out_of_range) AS n_out
      FROM (SELECT DISTINCT rr.lo, rr.hi FROM raw_ranges rr) rg
     CROSS JOIN live
     CROSS JOIN LATERAL (SELECT pv.* FROM pgscore.prediction_values pv
                          WHERE pv.model_id = live.model_id AND pv.logged_at >= rg.lo AND pv.logged_at < rg.hi
                         OFFSET 0) v
     GROUP BY rg.lo, rg.hi, v.model_id, v.kind, v.position, v.bin
),
rolled AS MATERIALIZED (
    SELECT r.model_id, r.bucket, r.kind, r.position, r.bin, r.n, r.total, r.n_out
      FROM live JOIN pgscore.drift_rollup r ON r.model_id = live.model_id
     WHERE r.bucket >= (SELECT min(p.bucket_from) FROM periods p)
),
counts AS MATERIALIZED (
    SELECT u.model_id, u.period_kind, u.period, u.kind, u.position, u.bin, sum(u.n) AS n, sum(u.total) AS total,
           sum(u.n_out) AS n_out
      FROM (SELECT r.model_id, p.period_kind, p.period, r.kind, r.position, r.bin, r.n, r.total, r.n_out
              FROM rolled r JOIN periods p ON r.bucket >= p.bucket_from AND r.bucket < p.bucket_to
            UNION ALL
            SELECT raw.model_id, rr.period_kind, rr.period, raw.kind, raw.position, raw.bin, raw.n, raw.total, raw.n_out
              FROM raw JOIN raw_ranges rr ON rr.lo = raw.lo AND rr.hi = raw.hi) u
     GROUP BY u.model_id, u.period_kind, u.period, u.kind, u.position, u.bin
),
base AS MATERIALIZED (
    SELECT live.model_id, live.name, live.version, b.kind, b.feature, b.position, b.edges, b.expected, b.mean,
           b.std, b.null_rate
      FROM live JOIN pgscore.baselines b ON b.model_id = live.model_id
),
grid AS (  -- every baseline bin of every live model and period, with its current count (0 if none)
    SELECT b.model_id, p.period_kind, p.period, b.kind, b.position, g.bin, b.expected[g.bin + 1] AS e,
           coalesce(c.n, 0) AS n
      FROM base b
     CROSS JOIN periods p
     CROSS JOIN LATERAL generate_series(0, cardinality(b.expected) - 1) g(bin)
      LEFT JOIN counts c ON c.model_id = b.model_id AND c.period_kind = p.period_kind AND c.period = p.period
                        AND c.kind = b.kind AND c.position = b.position AND c.bin = g.bin
),
shares AS (
    SELECT g.*, g.n::float8 / nullif(sum(g.n) OVER w, 0) AS c,
           (sum(g.n) OVER (w ORDER BY g.bin))::float8 / nullif(sum(g.n) OVER w, 0) AS c_cum,
           sum(g.e) OVER (w ORDER BY g.bin) AS e_cum
      FROM grid g
    WINDOW w AS (PARTITION BY g.model_id, g.period_kind, g.period, g.kind, g.position)
),
dist AS (  -- PSI (shares floored at 1e-4), KS at the bin edges, Jensen-Shannon distance in base 2
    SELECT s.model_id, s.period_kind, s.period, s.kind, s.position,
           sum((greatest(s.c, 1e-4) - greatest(s.e, 1e-4)) * ln(greatest(s.c, 1e-4) / greatest(s.e, 1e-4))) AS psi,
           max(abs(s.c_cum - s.e_cum)) AS ks,
           sqrt(greatest(0, 0.5 * sum(CASE WHEN s.c > 0 THEN s.c * ln(s.c / ((s.c + s.e) / 2)) ELSE 0 END)
                          + 0.5 * sum(CASE WHEN s.e > 0 THEN s.e * ln(s.e / ((s.c + s.e) / 2)) ELSE 0 END)) / ln(2)) AS js
      FROM shares s
     GROUP BY s.model_id, s.period_kind, s.period, s.kind, s.position
),
agg AS (
    SELECT c.model_id, c.period_kind, c.period, c.kind, c.position,
           sum(c.n) AS n, coalesce(sum(c.n) FILTER (WHERE c.bin = -1), 0) AS n_null,
           coalesce(sum(c.n) FILTER (WHERE c.bin >= 0), 0) AS n_valid, sum(c.total) AS total, sum(c.n_out) AS n_out
      FROM counts c
     GROUP BY c.model_id, c.period_kind, c.period, c.kind, c.position
),
stats AS (
    SELECT b.model_id, b.name, b.version, p.period_kind, p.period, p.sort_order, b.kind, b.feature, b.position,
           coalesce(a.n, 0)::bigint AS n, coalesce(a.n_valid, 0)::bigint AS n_valid,
           a.n_null::float8 / nullif(a.n, 0) AS null_rate, b.null_rate AS baseline_null_rate,
           a.total / nullif(a.n_valid, 0) AS mean, b.mean AS baseline_mean,
           (a.total / nullif(a.n_valid, 0) - b.mean) / nullif(b.std, 0) AS mean_shift,
           a.n_out::float8 / nullif(a.n_valid, 0) AS out_of_range,
           CASE WHEN a.n_valid > 0 THEN d.psi END AS psi,
           CASE WHEN a.n_valid > 0 THEN d.ks END AS ks,
           CASE WHEN a.n_valid > 0 THEN d.js END AS js,
           b.std = 0 AS constant_baseline, cardinality(b.expected) = 0 AS empty_baseline
      FROM base b
     CROSS JOIN periods p
      LEFT JOIN agg a ON a.model_id = b.model_id AND a.period_kind = p.period_kind AND a.period = p.period
                     AND a.kind = b.kind AND a.position = b.position
      LEFT JOIN dist d ON d.model_id = b.model_id AND d.period_kind = p.period_kind AND d.period = p.period
                      AND d.kind = b.kind AND d.position = b.position
)
SELECT s.*, c.checks, c.status, c.firing, c.min_n
  FROM stats s
 CROSS JOIN LATERAL pgscore.judge(ARRAY['psi', 'ks', 'js', 'mean_shift', 'null_rate', 'out_of_range'],
                                  ARRAY[s.psi, s.ks, s.js, abs(s.mean_shift), s.null_rate - s.baseline_null_rate,
                                        s.out_of_range],
                                  ARRAY[s.n_valid, s.n_valid, s.n_valid, s.n_valid, s.n, s.n_valid]) c
$fn$;
COMMENT ON FUNCTION pgscore.drift_stats() IS 'The drift metrics of every live model, feature (and score) and period (each window and each of the last 30 UTC days), with each metric''s level and the worst; read it through feature_drift, score_drift and drift_by_day';

DROP FUNCTION pgscore.drift_counts(text, text);
DROP TABLE pgscore.drift_rollup_day;
