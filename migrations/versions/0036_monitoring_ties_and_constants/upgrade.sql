-- 0035 to 0036: the monitoring's statistics, as their definitions have them.
-- - windows start in UTC (now() - '1 day' was 23 or 25 hours on a DST day in the reader's TimeZone);
-- - a feature constant at training (min = max) is constant whatever std the float arithmetic left (1.1e-16
--   for a column of 0.3 made any mean shift of it an alert);
-- - realised accuracy, precision and recall take a score of exactly the threshold (0.5) as the negative
--   class, as predict does;
-- - a regressor whose hold-out RMSE is 0 alerts on any error in service (it had no rmse_rise at all);
-- - calibration's deciles by rank: equal scores share one (ntile split them by entity key).
CREATE OR REPLACE VIEW pgscore.monitoring_periods AS
WITH p AS (
    SELECT 'window'::text AS period_kind, w.window_name AS period, w.sort_order,
           -- (in UTC: a day is 24 hours whatever the reader's TimeZone, where a DST change makes it 23 or 25)
           coalesce((now() AT TIME ZONE 'UTC' - w.length) AT TIME ZONE 'UTC', '-infinity'::timestamptz) AS starts,
           -- up to now: every row this statement can see was logged before it began (a minute's margin);
           -- a row stamped later (a backfill's mistake) is in no window until its time comes
           statement_timestamp() + interval '1 minute' AS ends
      FROM pgscore.drift_windows w
    UNION ALL
    SELECT 'day', to_char(d AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 0, d, d + interval '24 hours'
      FROM generate_series(date_trunc('day', now(), 'UTC') - interval '696 hours',  -- 29 days of 24 hours: UTC days
                           date_trunc('day', now(), 'UTC'), interval '24 hours') d
), c AS (
    SELECT p.*, CASE WHEN date_bin('5 minutes', p.starts, '2000-01-01 00:00:00+00') = p.starts THEN p.starts
                     ELSE date_bin('5 minutes', p.starts, '2000-01-01 00:00:00+00') + interval '5 minutes'
                END AS bucket_from
      FROM p
)
SELECT c.period_kind, c.period, c.sort_order, c.starts, c.ends, c.bucket_from,
       greatest(least(greatest(s.rolled_until, c.bucket_from), c.ends), c.bucket_from) AS bucket_to
  FROM c CROSS JOIN pgscore.monitoring_state s;

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
           b.std, b.null_rate,
           -- constant at training (min = max), whatever std the float arithmetic left (before 0036: 1.1e-16
           -- for a column of 0.3, which made any mean shift of it an alert)
           b.std = 0 OR b.min = b.max AS constant
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
           CASE WHEN NOT b.constant AND a.n_valid > 0  -- (greatest and least take no NULL for an answer)
                THEN least(greatest(round((a.total::text::numeric / a.n_valid - b.mean::text::numeric)
                                          / b.std::text::numeric, 323), -1e300), 1e300)::float8 END AS mean_shift,
           a.n_out::float8 / nullif(a.n_valid, 0) AS out_of_range,
           CASE WHEN a.n_valid > 0 THEN d.psi END AS psi,
           CASE WHEN a.n_valid > 0 THEN d.ks END AS ks,
           CASE WHEN a.n_valid > 0 THEN d.js END AS js,
           b.constant AS constant_baseline, cardinality(b.expected) = 0 AS empty_baseline
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

CREATE OR REPLACE FUNCTION pgscore.performance_stats()
RETURNS TABLE (model_id bigint, name text, version integer, task text, period_kind text, period text,
               sort_order integer, n bigint, positives bigint, auc float8, accuracy float8, "precision" float8,
               recall float8, brier float8, log_loss float8, mae float8, rmse float8, deploy_auc float8,
               deploy_accuracy float8, deploy_brier float8, deploy_log_loss float8, deploy_mae float8,
               deploy_rmse float8, checks jsonb, status text, firing text, min_n integer, unmatched_outcomes bigint)
LANGUAGE sql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
ROWS 100
AS $fn$
WITH periods AS MATERIALIZED (SELECT * FROM pgscore.monitoring_periods),
j AS (
    SELECT jp.*, p.period_kind, p.period
      FROM pgscore.judged_predictions jp
      JOIN periods p ON jp.predicted_at >= p.starts AND jp.predicted_at < p.ends
),
r AS (
    SELECT j.*, rank() OVER (PARTITION BY j.model_id, j.period_kind, j.period ORDER BY j.score)
               + (count(*) OVER (PARTITION BY j.model_id, j.period_kind, j.period, j.score) - 1) / 2.0 AS score_rank
      FROM j
),
s AS (  -- AUC from the rank sum of the positives (Mann-Whitney); log loss clipped at float64 eps like scikit-learn
    SELECT r.model_id, r.period_kind, r.period, count(*) AS n, sum(r.y) AS positives,
           ((sum(r.score_rank) FILTER (WHERE r.y = 1) - sum(r.y) * (sum(r.y) + 1) / 2.0)
                / nullif(sum(r.y) * (count(*) - sum(r.y)), 0))::float8 AS auc,
           -- positive above the threshold: a score of exactly 0.5 is the negative class, as predict gives it
           (CASE WHEN min(r.task) = 'binary' THEN avg(((r.score > r.threshold)::integer = r.y)::integer)
                 WHEN min(r.task) = 'multiclass' THEN avg((r.label = r.outcome #>> '{}')::integer) END)::float8 AS accuracy,
           -- binary only: a multiclass model has no positive class (y is NULL), where these gave 0
           CASE WHEN min(r.task) = 'binary' THEN sum(((r.score > r.threshold) AND r.y = 1)::integer)::float8
               / nullif(sum((r.score > r.threshold)::integer), 0) END AS "precision",
           CASE WHEN min(r.task) = 'binary'
                THEN sum(((r.score > r.threshold) AND r.y = 1)::integer)::float8 / nullif(sum(r.y), 0) END AS recall,
           avg((r.score - r.y) ^ 2) AS brier,
           -avg(r.y * ln(least(greatest(r.score, 2.220446049250313e-16), 1 - 2.220446049250313e-16))
                + (1 - r.y) * ln(1 - least(greatest(r.score, 2.220446049250313e-16), 1 - 2.220446049250313e-16))) AS log_loss,
           avg(abs(r.score - r.y_value)) AS mae,
           sqrt(avg((r.score - r.y_value) ^ 2)) AS rmse
      FROM r
     GROUP BY r.model_id, r.period_kind, r.period
),
base AS (
    SELECT m.model_id, m.name, m.version, m.task, p.period_kind, p.period, p.sort_order,
           coalesce(s.n, 0) AS n, s.positives, s.auc, s.accuracy, s."precision", s.recall, s.brier, s.log_loss,
           s.mae, s.rmse,
           (m.metrics ->> 'auc')::float8 AS deploy_auc, (m.metrics ->> 'accuracy')::float8 AS deploy_accuracy,
           (m.metrics ->> 'brier')::float8 AS deploy_brier, (m.metrics ->> 'log_loss')::float8 AS deploy_log_loss,
           (m.metrics ->> 'mae')::float8 AS deploy_mae, (m.metrics ->> 'rmse')::float8 AS deploy_rmse
      FROM pgscore.live_models m
     CROSS JOIN periods p
      LEFT JOIN s ON s.model_id = m.model_id AND s.period_kind = p.period_kind AND s.period = p.period
),
-- once per model, not once per model and period (each reads every outcome: 35 times over, 2.9 s for 1,000)
unmatched AS MATERIALIZED (
    SELECT om.model, count(*) AS n FROM pgscore.outcome_matches om WHERE NOT om.matched GROUP BY om.model
)
SELECT b.*, c.checks, c.status, c.firing, c.min_n,
       coalesce((SELECT u.n FROM unmatched u WHERE u.model = b.name), 0) AS unmatched_outcomes
  FROM base b
 CROSS JOIN LATERAL pgscore.judge(
        CASE b.task WHEN 'binary' THEN ARRAY['auc_drop', 'accuracy_drop', 'brier_rise']
                    WHEN 'multiclass' THEN ARRAY['accuracy_drop'] ELSE ARRAY['rmse_rise'] END,
        CASE b.task WHEN 'binary' THEN ARRAY[b.deploy_auc - b.auc, b.deploy_accuracy - b.accuracy, b.brier - b.deploy_brier]
                    WHEN 'multiclass' THEN ARRAY[b.deploy_accuracy - b.accuracy]
                    -- (a hold-out RMSE of 0, a tree fitted to an integer target: any error in service is a rise)
                    -- (no hold-out RMSE at all, a regressor deployed without a target: nothing to compare)
                    ELSE ARRAY[CASE WHEN b.deploy_rmse <> 0 THEN b.rmse / b.deploy_rmse - 1
                                    WHEN b.deploy_rmse = 0 THEN CASE WHEN b.rmse > 0 THEN 1e300
                                                                     WHEN b.rmse = 0 THEN 0 END END] END,
        array_fill(b.n, ARRAY[CASE b.task WHEN 'binary' THEN 3 ELSE 1 END])) c
$fn$;

CREATE OR REPLACE VIEW pgscore.calibration AS
SELECT name AS model, version, decile, count(*) AS n, avg(score) AS mean_score, avg(y)::float8 AS observed_rate,
       min(score) AS min_score, max(score) AS max_score
  -- deciles by rank, so that equal scores share one (ntile split them by entity key): with ties they hold
  -- unequal counts, and a decile a tie fills is not listed
  FROM (SELECT jp.*, (1 + floor(10.0 * (rank() OVER (PARTITION BY jp.model_id ORDER BY jp.score) - 1)
                                / count(*) OVER (PARTITION BY jp.model_id)))::integer AS decile
          FROM pgscore.judged_predictions jp WHERE jp.task = 'binary' AND jp.score IS NOT NULL) d
 GROUP BY name, version, decile
 ORDER BY model, decile;
