-- 0030 to 0031: a logged value a float8 holds and a model scores (1e308) made every drift view fail for every
-- model: two of them overflowed the sum behind a feature's mean (22003), and refresh_monitoring with it.
-- Values beyond +-1e290 are summed as +-1e290, and the mean and mean shift are computed in numeric, kept
-- within float8's range.
CREATE OR REPLACE FUNCTION pgscore.drift_counts(p_period_kind text DEFAULT NULL, p_period text DEFAULT NULL)
RETURNS TABLE (model_id bigint, period_kind text, period text, kind text, "position" integer, bin integer,
               n bigint, total float8, n_out bigint)
LANGUAGE sql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
SET work_mem = '64MB'
ROWS 20000
AS $fn$
WITH live AS MATERIALIZED (SELECT lm.model_id FROM pgscore.live_models lm),
periods AS (
    SELECT p.*, date_trunc('day', p.bucket_from, 'UTC')
                + CASE WHEN date_trunc('day', p.bucket_from, 'UTC') = p.bucket_from THEN interval '0'
                       ELSE interval '24 hours' END AS first_day,
           date_trunc('day', p.bucket_to, 'UTC') AS end_day
      FROM pgscore.monitoring_periods p
     WHERE (p_period_kind IS NULL OR p.period_kind = p_period_kind) AND (p_period IS NULL OR p.period = p_period)
),
segments AS MATERIALIZED (  -- [lo, hi) of a period and where to count it; the whole days exist only if first_day < end_day
    SELECT p.period_kind, p.period, s.src, s.lo,
           -- today's rows up to where the windows end (monitoring_periods): one part read once for both
           CASE WHEN s.src = 'log' AND s.hi > now() THEN least(s.hi, statement_timestamp() + interval '1 minute')
                ELSE s.hi END AS hi
      FROM periods p
     CROSS JOIN LATERAL (VALUES (p.first_day < p.end_day)) d(whole_days)
     CROSS JOIN LATERAL (VALUES ('log', p.starts, least(p.bucket_from, p.ends)),
                                ('bucket', p.bucket_from, CASE WHEN d.whole_days THEN p.first_day ELSE p.bucket_to END),
                                ('day', p.first_day, CASE WHEN d.whole_days THEN p.end_day ELSE p.first_day END),
                                ('bucket', CASE WHEN d.whole_days THEN p.end_day ELSE p.bucket_to END, p.bucket_to),
                                ('log', p.bucket_to, p.ends)) s(src, lo, hi)
     WHERE s.lo < s.hi
),
parts AS MATERIALIZED (SELECT DISTINCT sg.src, sg.lo, sg.hi FROM segments sg),
part_counts AS MATERIALIZED (
    SELECT pt.src, pt.lo, pt.hi, v.model_id, v.kind, v.position, v.bin, count(*) AS n,
           coalesce(sum(least(greatest(v.x, -1e290), 1e290)) FILTER (WHERE v.bin >= 0), 0) AS total, count(*) FILTER (WHERE v.out_of_range) AS n_out
      FROM parts pt
     CROSS JOIN live
     CROSS JOIN LATERAL (SELECT pv.* FROM pgscore.prediction_values pv  -- through the log's (model_id, logged_at) index
                          WHERE pv.model_id = live.model_id AND pv.logged_at >= pt.lo AND pv.logged_at < pt.hi
                         OFFSET 0) v
     WHERE pt.src = 'log'
     GROUP BY pt.src, pt.lo, pt.hi, v.model_id, v.kind, v.position, v.bin
    UNION ALL
    SELECT pt.src, pt.lo, pt.hi, r.model_id, r.kind, r.position, r.bin, sum(r.n), sum(r.total), sum(r.n_out)
      FROM parts pt
     CROSS JOIN live
      JOIN pgscore.drift_rollup r ON r.model_id = live.model_id AND r.bucket >= pt.lo AND r.bucket < pt.hi
     WHERE pt.src = 'bucket'
     GROUP BY pt.src, pt.lo, pt.hi, r.model_id, r.kind, r.position, r.bin
    UNION ALL
    SELECT pt.src, pt.lo, pt.hi, r.model_id, r.kind, r.position, r.bin, sum(r.n), sum(r.total), sum(r.n_out)
      FROM parts pt
     CROSS JOIN live
      JOIN pgscore.drift_rollup_day r ON r.model_id = live.model_id AND r.day >= pt.lo AND r.day < pt.hi
     WHERE pt.src = 'day'
     GROUP BY pt.src, pt.lo, pt.hi, r.model_id, r.kind, r.position, r.bin
)
SELECT c.model_id, sg.period_kind, sg.period, c.kind, c.position, c.bin, sum(c.n)::bigint, sum(c.total)::float8,
       sum(c.n_out)::bigint
  FROM segments sg
  JOIN part_counts c ON c.src = sg.src AND c.lo = sg.lo AND c.hi = sg.hi
 GROUP BY c.model_id, sg.period_kind, sg.period, c.kind, c.position, c.bin
$fn$;
COMMENT ON FUNCTION pgscore.drift_counts(text, text) IS 'Per live model, period (each window and each of the last 30 UTC days, or those picked by p_period_kind and p_period), feature (and score) and baseline bin: how many values were logged (bin -1: NULL or NaN), their sum and how many fell outside the baseline range';

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
SET extra_float_digits = 1
ROWS 2000
AS $fn$
WITH live AS MATERIALIZED (SELECT lm.model_id, lm.name, lm.version FROM pgscore.live_models lm),
periods AS MATERIALIZED (SELECT * FROM pgscore.monitoring_periods),
counts AS MATERIALIZED (SELECT * FROM pgscore.drift_counts()),
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
           -- in numeric (from each float8's exact text: a cast keeps 15 digits), kept within float8's range:
           -- huge means over a tiny std, or tiny over huge, raise no overflow or underflow (a value rounded
           -- to 323 places is 0 or at least 1e-323, which float8 holds)
           round(a.total::text::numeric / nullif(a.n_valid, 0), 323)::float8 AS mean, b.mean AS baseline_mean,
           CASE WHEN b.std <> 0 AND a.n_valid > 0  -- (greatest and least take no NULL for an answer)
                THEN least(greatest(round((a.total::text::numeric / a.n_valid - b.mean::text::numeric)
                                          / b.std::text::numeric, 323), -1e300), 1e300)::float8 END AS mean_shift,
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
    v_day     timestamptz;
    v_next    timestamptz;
    v_chunk   bigint;
    v_until   timestamptz;
    v_from    timestamptz;
    v_to      timestamptz := date_bin('5 minutes', now(), '2000-01-01 00:00:00+00');
    v_rows    bigint;
    v_firing  bigint;
    v_models  bigint[];
    v_buckets timestamptz[];
    v_all     boolean;
BEGIN
    IF p_relook IS NULL OR p_rebuild IS NULL OR p_relook < interval '0' THEN
        RAISE EXCEPTION 'pgscore.refresh_monitoring: p_relook must be an interval >= 0 and p_rebuild true or false'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- one refresh at a time; a second waits and then finds little to do
    SELECT s.rolled_until INTO v_until FROM pgscore.monitoring_state s FOR UPDATE;
    v_from := CASE WHEN p_rebuild THEN '-infinity'::timestamptz
                   ELSE date_bin('5 minutes', v_until - p_relook, '2000-01-01 00:00:00+00') END;
    v_all := v_from = '-infinity';  -- a rebuild, or the first refresh ever: every row of the log
    IF p_rebuild THEN
        DELETE FROM pgscore.drift_rollup;
        DELETE FROM pgscore.drift_rollup_day;
    ELSIF v_all THEN
        DELETE FROM pgscore.drift_rollup r WHERE r.bucket < v_to;
    ELSE
        -- the buckets of [v_from, v_to) to roll up again: those whose rows are not the ones their
        -- rollups counted (new buckets, and rows of transactions that committed late). The log's rows
        -- are never updated (a trigger refuses it) and retention only deletes them, which lowers the
        -- count, so a bucket whose count of rows is what its rollups hold has not changed; each row
        -- counts once in every (kind, position)
        SELECT coalesce(array_agg(coalesce(l.model_id, r.model_id)), '{}'),
               coalesce(array_agg(coalesce(l.bucket, r.bucket)), '{}')
          INTO v_models, v_buckets
          FROM (SELECT l.model_id, date_bin('5 minutes', l.logged_at, '2000-01-01 00:00:00+00') AS bucket,
                       count(*) AS n
                  FROM pgscore.prediction_log l
                 WHERE l.logged_at >= v_from AND l.logged_at < v_to
                   AND l.model_id IN (SELECT b.model_id FROM pgscore.baselines b)
                 GROUP BY 1, 2) l
          FULL JOIN (SELECT c.model_id, c.bucket, max(c.n) AS n
                       FROM (SELECT r.model_id, r.bucket, sum(r.n) AS n FROM pgscore.drift_rollup r
                              WHERE r.bucket >= v_from AND r.bucket < v_to
                              GROUP BY r.model_id, r.bucket, r.kind, r.position) c
                      GROUP BY c.model_id, c.bucket) r ON r.model_id = l.model_id AND r.bucket = l.bucket
         WHERE l.n IS DISTINCT FROM r.n;
        DELETE FROM pgscore.drift_rollup r USING unnest(v_models, v_buckets) AS c(model_id, bucket)
         WHERE r.model_id = c.model_id AND r.bucket = c.bucket;
    END IF;
    -- (values beyond +-1e290 summed as +-1e290, as drift_counts sums them: no sum overflows)
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
        IF v_all THEN
            INSERT INTO pgscore.drift_rollup (model_id, bucket, kind, position, bin, n, total, n_out)
            SELECT v.model_id, date_bin('5 minutes', v.logged_at, '2000-01-01 00:00:00+00'), v.kind, v.position,
                   v.bin, count(*), coalesce(sum(least(greatest(v.x, -1e290), 1e290)) FILTER (WHERE v.bin >= 0), 0),
                   count(*) FILTER (WHERE v.out_of_range)
              FROM pgscore.prediction_values v
             WHERE v.logged_at >= v_day AND v.logged_at < v_next
             GROUP BY 1, 2, 3, 4, 5;
        ELSIF EXISTS (SELECT 1 FROM unnest(v_buckets) AS b(bucket) WHERE b.bucket >= v_day AND b.bucket < v_next) THEN
            -- bucket by bucket, each through the log's (model_id, logged_at) index (OFFSET 0 keeps the
            -- planner from scanning the whole span once for every baseline row and bucket)
            INSERT INTO pgscore.drift_rollup (model_id, bucket, kind, position, bin, n, total, n_out)
            SELECT c.model_id, c.bucket, v.kind, v.position, v.bin, count(*),
                   coalesce(sum(least(greatest(v.x, -1e290), 1e290)) FILTER (WHERE v.bin >= 0), 0), count(*) FILTER (WHERE v.out_of_range)
              FROM unnest(v_models, v_buckets) AS c(model_id, bucket)
             CROSS JOIN LATERAL (SELECT pv.* FROM pgscore.prediction_values pv
                                  WHERE pv.model_id = c.model_id AND pv.logged_at >= c.bucket
                                    AND pv.logged_at < c.bucket + interval '5 minutes' OFFSET 0) v
             WHERE c.bucket >= v_day AND c.bucket < v_next
             GROUP BY 1, 2, 3, 4, 5;
        ELSE
            v_day := v_next;  -- nothing of this day changed: its day rollup stays as it is
            CONTINUE;
        END IF;
        GET DIAGNOSTICS v_chunk = ROW_COUNT;
        v_rows := v_rows + v_chunk;
        -- and the whole UTC day again from its 5-minute rollups (those before v_day stay as they were)
        DELETE FROM pgscore.drift_rollup_day d WHERE d.day = date_trunc('day', v_day, 'UTC');
        INSERT INTO pgscore.drift_rollup_day (model_id, day, kind, position, bin, n, total, n_out)
        SELECT r.model_id, date_trunc('day', v_day, 'UTC'), r.kind, r.position, r.bin, sum(r.n), sum(r.total),
               sum(r.n_out)
          FROM pgscore.drift_rollup r
         WHERE r.bucket >= date_trunc('day', v_day, 'UTC') AND r.bucket < date_trunc('day', v_day, 'UTC') + interval '24 hours'
         GROUP BY r.model_id, r.kind, r.position, r.bin;
        v_day := v_next;
    END LOOP;
    UPDATE pgscore.monitoring_state s SET rolled_until = greatest(v_to, s.rolled_until), refreshed_at = now();

    -- the alerts are planned as any query: with the sorts turned off (for the rollups' hash aggregates)
    -- the firing view took five times as long; the function's SET clauses end these with the call
    SET LOCAL enable_sort = on;
    SET LOCAL enable_incremental_sort = on;
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
COMMENT ON FUNCTION pgscore.refresh_monitoring(interval, boolean) IS 'Roll the prediction log up by whole 5-minute bucket and by UTC day (looking back p_relook for buckets whose rows changed, by rows of transactions that committed late, and rolling up only those and the new ones; p_rebuild rolls up everything again) and record when each firing alert was first seen. Run it every few minutes from pg_cron or cron';
