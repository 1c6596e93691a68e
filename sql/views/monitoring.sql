/*
 * Drift and realised performance, computed by PostgreSQL from the prediction
 * log against the baseline captured at deploy.
 *
 * Internal views (not granted to the reader role) build up to the public
 * ones: live_models, prediction_values (every logged value, binned),
 * monitoring_periods (the configured windows and the last 30 UTC days),
 * drift_counts (bin counts per period: whole 5-minute buckets from drift_rollup, the
 * rest from the log itself), drift_stats, drift_checks (one row per metric
 * with its level), judged_predictions and performance_stats.
 *
 * Public: feature_drift, score_drift, drift_by_day, outcome_matches,
 * realised_performance, performance_by_day, calibration, alerts (the live versions' and the shadows');
 * per version, live or not: realised_performance_by_version, performance_by_day_by_version and version_drift().
 */

CREATE VIEW pgscore.live_models AS
SELECT m.model_id, m.name, m.version, m.task, m.classes, m.metrics, m.feature_names, d.deployed_at
  FROM (SELECT DISTINCT ON (model_name) model_name, model_id, action, deployed_at
          FROM pgscore.deployments ORDER BY model_name, deployment_id DESC) d
  JOIN pgscore.models m ON m.model_id = d.model_id
 WHERE d.action <> 'retire';
COMMENT ON VIEW pgscore.live_models IS 'Internal: the live version of each model name';

-- every value of every logged prediction, binned on its model's baseline (bin -1: NULL or NaN); of a row redacted
-- (redact_log_features: features an empty array), its score alone. A row whose
-- features are stored in more than 1 kB (over ~120 features; out of line, in TOAST, past ~2 kB) has them
-- read once, unnested, each value joined to its baseline by position: a subscript of such an array per
-- baseline row read it whole again (a model of 3,000 features: 8.3-9.2 s for 200 logged rows, 0.17-0.24 s
-- unnested; migration 0047). A shorter one is read by subscripts, as before: unnesting it cost more (a
-- day's rollup of 1,000,000 rows of 12 features: 8.5-10.2 s against 6.8-8.3 s). A compressed one (a wide array
-- of mostly zeros, one-hot features, stored in a few hundred bytes) is unnested too: each subscript of it
-- decompressed it whole again (3,000 features: 2.6 s for 200 rows, 0.06 s unnested; migration 0048)
CREATE VIEW pgscore.prediction_values AS
SELECT l.model_id, l.logged_at, b.kind, b.position, v.x,
       CASE WHEN v.x IS NULL OR v.x = 'NaN'::float8 THEN -1 ELSE width_bucket(v.x, b.edges) END AS bin,
       (v.x <> 'NaN'::float8 AND (v.x < b.min OR v.x > b.max)) AS out_of_range
  FROM pgscore.prediction_log l
  JOIN pgscore.baselines b ON b.model_id = l.model_id AND b.kind <> 'class'
 CROSS JOIN LATERAL (SELECT CASE WHEN b.kind = 'score' THEN l.score ELSE l.features[b.position + 1] END AS x) v
 WHERE pg_column_size(l.features) <= 1024 AND pg_column_compression(l.features) IS NULL
   -- a row whose features redact_log_features removed (an empty array) has its score alone: its features' values
   -- were read as NULL, a null rate of 100% for the days redacted (migration 0141)
   AND (b.kind = 'score' OR cardinality(l.features) > 0)
UNION ALL
SELECT l.model_id, l.logged_at, b.kind, b.position, v.x,
       CASE WHEN v.x IS NULL OR v.x = 'NaN'::float8 THEN -1 ELSE width_bucket(v.x, b.edges) END AS bin,
       (v.x <> 'NaN'::float8 AND (v.x < b.min OR v.x > b.max)) AS out_of_range
  FROM pgscore.prediction_log l
 CROSS JOIN LATERAL (SELECT 'score'::text AS kind, 0 AS position, l.score AS x
                     UNION ALL
                     SELECT 'feature'::text, (u.i - 1)::integer, u.x
                       FROM unnest(l.features) WITH ORDINALITY AS u(x, i)) v
  JOIN pgscore.baselines b ON b.model_id = l.model_id AND b.kind = v.kind AND b.position = v.position
 WHERE pg_column_size(l.features) > 1024 OR pg_column_compression(l.features) IS NOT NULL
UNION ALL
-- a multiclass model's predicted class (migration 0122), where its version has a class baseline: bin i is the
-- (i+1)th of its classes, -1 a row without a label (or with one that is none of them); x is NULL, never summed
SELECT l.model_id, l.logged_at, b.kind, b.position, NULL::float8, coalesce(k.i, -1), false
  FROM pgscore.prediction_log l
  JOIN pgscore.baselines b ON b.model_id = l.model_id AND b.kind = 'class'
  LEFT JOIN (SELECT cb.model_id, e.c, (e.i - 1)::integer AS i
               FROM pgscore.baselines cb
               JOIN pgscore.models m ON m.model_id = cb.model_id AND jsonb_typeof(m.classes) = 'array'
              CROSS JOIN LATERAL jsonb_array_elements_text(m.classes) WITH ORDINALITY AS e(c, i)
              WHERE cb.kind = 'class') k ON k.model_id = l.model_id AND k.c = l.label;
COMMENT ON VIEW pgscore.prediction_values IS 'Internal: every logged feature value and score with its baseline bin, and (since 0122) a multiclass model''s predicted class as the bin of its class baseline';

-- A period is [starts, ends). Whole 5-minute buckets in [bucket_from, bucket_to) come from drift_rollup;
-- the rest, [starts, bucket_from) and [bucket_to, ends), from the log itself.
CREATE VIEW pgscore.monitoring_periods AS
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
       greatest(least(greatest(coalesce(s.rolled_until, '-infinity'), c.bucket_from), c.ends), c.bucket_from)
           AS bucket_to
  -- (0136) its one row (a boolean key that must be true) through LIMIT 1, which the planner takes for one row:
  -- monitoring_state is rarely analyzed (a new install's never, until autovacuum counts 50 refreshes), and
  -- unanalyzed it was taken for 1,810 rows, each period as many; performance_stats_of then planned a hash join
  -- of 1e14 rows in 16.7 million batches, which cost every call 0.5-0.7 s whatever the models asked for
  -- (0145) and its row missing (a partial restore that left the table empty) as never refreshed: '-infinity', no
  -- rollup read, every row from the log. Joined, it gave no period at all, and every drift and performance view
  -- and alerts_of came back empty, as if nothing were logged
  FROM c LEFT JOIN (SELECT ms.rolled_until FROM pgscore.monitoring_state ms LIMIT 1) s ON true;
COMMENT ON VIEW pgscore.monitoring_periods IS 'Internal: each window and each of the last 30 UTC days, and which part of it the rollups cover';

-- The functions that take a period kind (drift_counts, drift_counts_of, drift_stats_of, performance_stats_of,
-- drift_rows_of)
-- check it here first: before 0089 a misspelt kind ('windows') matched no period and gave no rows, as if
-- nothing had been logged. The kinds are monitoring_periods' own, in its order (tests/test_bad_input.py
-- checks that they agree); NULL picks every kind. A period (p_period) is not checked: windows come and go
-- and a day leaves the 30, so an unknown period has no rows, as before.
CREATE FUNCTION pgscore.check_period_kind(p_function text, p_period_kind text)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    -- monitoring_periods' period_kind; and performance_stats_of's own (migration 0125), which its error names:
    -- it said "must be 'window' or 'day', or NULL for all" to a caller of outcome_window who mistyped it
    v_perf  CONSTANT boolean := p_function IS NOT DISTINCT FROM 'pgscore.performance_stats_of';
    v_kinds CONSTANT text[] := ARRAY['window', 'day']
                               || CASE WHEN v_perf THEN ARRAY['outcome_window', 'both_windows'] ELSE '{}' END;
BEGIN
    IF p_period_kind IS NULL OR p_period_kind = ANY (v_kinds) THEN
        RETURN p_period_kind;
    END IF;
    RAISE EXCEPTION '%: p_period_kind must be %, or NULL for %; got %', coalesce(p_function, 'pgscore'),
          (SELECT string_agg(quote_literal(k), ' or ' ORDER BY i) FROM unnest(v_kinds) WITH ORDINALITY u(k, i)),
          CASE WHEN v_perf THEN 'window and day' ELSE 'all' END, quote_literal(p_period_kind)
        USING ERRCODE = 'invalid_parameter_value',
              -- (p_period is drift_counts' and drift_counts_of's alone: drift_stats_of, performance_stats_of and
              -- drift_rows_of (0136) take none, and their hint named it before 0127)
              HINT = CASE WHEN p_function IN ('pgscore.drift_stats_of', 'pgscore.performance_stats_of',
                                              'pgscore.drift_rows_of')
                          THEN 'each row''s period, a window''s name or a UTC day (YYYY-MM-DD), names one period '
                               'of its kind: filter the rows by it'
                          ELSE 'p_period, a window''s name or a UTC day (YYYY-MM-DD), picks one period of that kind'
                     END;
END
$fn$;
COMMENT ON FUNCTION pgscore.check_period_kind(text, text) IS 'Internal: p_period_kind if it is a kind of period monitoring_periods gives (window or day) or NULL, for pgscore.performance_stats_of also outcome_window or both_windows (migration 0125); else an error (22023) naming p_function, its kinds and the value given';

/*
 * A number of a version's metrics (or an outcome) as float8, NULL where it is none (migration 0113): a JSON
 * number within float8's range, else NULL (missing), not an error. The monitoring SQL cast each deploy metric
 * with ->> ... ::float8, and a hand edit of one version's metrics ("rmse": 1e400, 1e-400, "abc", an object)
 * raised 22003 or 22P02 in performance_stats, every realised-performance view, alerts and refresh_monitoring, for
 * every model. A string is none as well, "0.9" and "NaN" too (pgscore writes metrics as JSON numbers; JSON has
 * no NaN). Inlined where it is called: a CASE over the value, no call.
 */
CREATE FUNCTION pgscore.jsonb_float8(p_value jsonb)
RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
-- (no SET search_path, which keeps a function from being inlined: the body is parsed when it is created)
RETURN CASE WHEN jsonb_typeof(p_value) = 'number'
                 -- (a JSON number's text, as numeric writes it, has no exponent: one of 300 characters or fewer lies
                 -- within 1e-299..1e300 or is 0, and its range in numeric is not compared, which cost more than the
                 -- cast on each row of judged_predictions (its threshold); else float8's largest, and its smallest
                 -- subnormal: a nonzero value below rounds to 0, which float8in refuses as out of range)
                 AND (length(p_value #>> '{}') <= 300
                      OR abs(p_value::numeric) BETWEEN 4.9406564584124654e-324 AND 1.7976931348623157e308
                      OR p_value::numeric = 0)
            THEN (p_value #>> '{}')::float8 END;
COMMENT ON FUNCTION pgscore.jsonb_float8(jsonb) IS 'Internal: a JSON number within float8''s range as float8; NULL for anything else (a number past float8''s range, a string, an object, an array, null)';

/*
 * (0133) The one rule of which thresholds judge a metric: a model's feature's (or score's) own override
 * (pgscore.drift_threshold_overrides with that subject), else the model's own (subject NULL), else
 * pgscore.drift_thresholds, value by value (a NULL one inherited); a confidence of 0 set by an override is no
 * noise floor (NULL here). Each value says where it came from: subject, model or default. Every place that judges
 * a metric reads it (judge, drift_stats_of, performance_stats_of, set_thresholds, check_threshold_order, pgscore
 * drift): a copy of the rule drifting from the others was a wrong level. p_model NULL: drift_thresholds' alone;
 * p_subject NULL: the model's. No row for a metric drift_thresholds has not. A SQL-standard body and no SET
 * clause, so that it is inlined where it is called (a join of three keyed rows, no call per row): its names were
 * resolved when it was created, whatever the caller's search_path.
 */
CREATE FUNCTION pgscore.effective_thresholds(p_model text, p_metric text, p_subject text DEFAULT NULL)
RETURNS TABLE (metric text, warn float8, alert float8, min_n integer, confidence float8, warn_from text,
               alert_from text, min_n_from text, confidence_from text, override text)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT t.metric,
           coalesce(os.warn, om.warn, t.warn), coalesce(os.alert, om.alert, t.alert),
           coalesce(os.min_n, om.min_n, t.min_n),
           -- (an override's 0: no noise floor for the model, or the subject, whatever drift_thresholds holds)
           nullif(coalesce(os.confidence, om.confidence, t.confidence), 0),
           CASE WHEN os.warn IS NOT NULL THEN 'subject' WHEN om.warn IS NOT NULL THEN 'model' ELSE 'default' END,
           CASE WHEN os.alert IS NOT NULL THEN 'subject' WHEN om.alert IS NOT NULL THEN 'model' ELSE 'default' END,
           CASE WHEN os.min_n IS NOT NULL THEN 'subject' WHEN om.min_n IS NOT NULL THEN 'model' ELSE 'default' END,
           CASE WHEN os.confidence IS NOT NULL THEN 'subject' WHEN om.confidence IS NOT NULL THEN 'model'
                ELSE 'default' END,
           CASE WHEN os.metric IS NOT NULL THEN 'subject' WHEN om.metric IS NOT NULL THEN 'model' END
      FROM pgscore.drift_thresholds t
      LEFT JOIN pgscore.drift_threshold_overrides om
             ON om.model = p_model AND om.metric = t.metric AND om.subject IS NULL
      LEFT JOIN pgscore.drift_threshold_overrides os
             ON os.model = p_model AND os.metric = t.metric AND os.subject = p_subject
     WHERE t.metric = p_metric;
END;
COMMENT ON FUNCTION pgscore.effective_thresholds(text, text, text) IS 'The warn, alert, min_n and confidence metric p_metric of model p_model (its feature or score p_subject; NULL: the model''s) is judged by, each the subject''s override, else the model''s, else pgscore.drift_thresholds'' (an override''s confidence 0: none, NULL), and where each came from (subject, model or default), and which override row applies (override: subject, model or NULL); the one definition every view, judge, set_thresholds and pgscore drift read (migration 0133)';

/*
 * One definition of a metric's level: no_data, insufficient_data (fewer
 * values than the metric's min_n), not_applicable (no value, e.g. a mean
 * shift against a constant baseline), else ok / warn / alert against
 * pgscore.drift_thresholds. Returns each check, the worst level, and the
 * metrics at warn or alert.
 */
CREATE FUNCTION pgscore.judge(p_metrics text[], p_values float8[], p_n bigint[], p_model text, p_subject text)
RETURNS TABLE (checks jsonb, status text, firing text, min_n integer)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
WITH c AS (
    SELECT m.metric, m.value, m.n, e.warn, e.alert, e.min_n, e.override, e.warn_from, e.alert_from, e.min_n_from,
           e.confidence_from,
           CASE WHEN m.n = 0 THEN 'no_data'
                WHEN m.n < e.min_n THEN 'insufficient_data'
                WHEN m.value IS NULL THEN 'not_applicable'
                WHEN m.value >= e.alert THEN 'alert'
                WHEN m.value >= e.warn THEN 'warn'
                ELSE 'ok' END AS level
      FROM unnest(p_metrics, p_values, p_n) WITH ORDINALITY AS m(metric, value, n, i)
     -- (0133) the one rule (a metric without a drift_thresholds row has no row)
     CROSS JOIN LATERAL pgscore.effective_thresholds(p_model, m.metric, p_subject) e
)
SELECT jsonb_agg(jsonb_build_object('metric', c.metric, 'value', c.value, 'n', c.n, 'warn', c.warn,
                                    'alert', c.alert, 'min_n', c.min_n, 'level', c.level)
                 -- (0129: which override set its thresholds; none, by drift_thresholds alone)
                 -- (0133: and where each of its thresholds came from: subject, model or default)
                 || CASE WHEN c.override IS NOT NULL
                         THEN jsonb_build_object('override', c.override, 'warn_from', c.warn_from, 'alert_from',
                                                 c.alert_from, 'min_n_from', c.min_n_from, 'confidence_from',
                                                 c.confidence_from) ELSE '{}' END
                 ORDER BY c.metric),
       (ARRAY['not_applicable', 'no_data', 'insufficient_data', 'ok', 'warn', 'alert'])[max(
           CASE c.level WHEN 'alert' THEN 6 WHEN 'warn' THEN 5 WHEN 'ok' THEN 4 WHEN 'insufficient_data' THEN 3
                        WHEN 'no_data' THEN 2 ELSE 1 END)],
       string_agg(c.metric, ', ' ORDER BY c.metric) FILTER (WHERE c.level IN ('warn', 'alert')),
       max(c.min_n) FILTER (WHERE c.level = 'insufficient_data')
  FROM c
$fn$;
COMMENT ON FUNCTION pgscore.judge(text[], float8[], bigint[], text, text) IS 'Levels of metrics of model p_model (its feature or score p_subject; NULL: the model''s) against pgscore.drift_thresholds and the model''s overrides (pgscore.drift_threshold_overrides, migration 0129): each check as jsonb (override: model or subject where one set its thresholds), the worst level, the metrics firing and the min_n not reached';

CREATE FUNCTION pgscore.judge(p_metrics text[], p_values float8[], p_n bigint[])
RETURNS TABLE (checks jsonb, status text, firing text, min_n integer)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
SELECT * FROM pgscore.judge(p_metrics, p_values, p_n, NULL::text, NULL::text)
$fn$;
COMMENT ON FUNCTION pgscore.judge(text[], float8[], bigint[]) IS 'Levels of metrics against pgscore.drift_thresholds alone (no model: no override applies; pgscore.judge with p_model and p_subject for a model''s): each check as jsonb, the worst level, the metrics firing and the min_n not reached';

/*
 * The noise floors (migration 0085): how large each metric grows on fresh draws from the baseline's own
 * distribution, at a window of n values against a baseline of n_base, at a confidence. A metric is at warn
 * or alert only above its floor as well as its threshold (pgscore.drift_thresholds.confidence; NULL: by the
 * thresholds alone). normal_quantile: the standard normal's quantile (Acklam's rational approximation,
 * relative error < 1.2e-9).
 */
CREATE FUNCTION pgscore.normal_quantile(p float8)
RETURNS float8
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    q float8;
    r float8;
BEGIN
    IF NOT (p > 0 AND p < 1) THEN
        RAISE EXCEPTION 'pgscore.normal_quantile: p must be between 0 and 1 (exclusive), got %', p
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p < 0.02425 THEN
        q := sqrt(-2 * ln(p));
        RETURN (((((-7.784894002430293e-03 * q - 3.223964580411365e-01) * q - 2.400758277161838e+00) * q
                   - 2.549732539343734e+00) * q + 4.374664141464968e+00) * q + 2.938163982698783e+00)
               / ((((7.784695709041462e-03 * q + 3.224671290700398e-01) * q + 2.445134137142996e+00) * q
                   + 3.754408661907416e+00) * q + 1);
    ELSIF p > 1 - 0.02425 THEN
        q := sqrt(-2 * ln(1 - p));
        RETURN -(((((-7.784894002430293e-03 * q - 3.223964580411365e-01) * q - 2.400758277161838e+00) * q
                    - 2.549732539343734e+00) * q + 4.374664141464968e+00) * q + 2.938163982698783e+00)
               / ((((7.784695709041462e-03 * q + 3.224671290700398e-01) * q + 2.445134137142996e+00) * q
                   + 3.754408661907416e+00) * q + 1);
    END IF;
    q := p - 0.5;
    r := q * q;
    RETURN (((((-3.969683028665376e+01 * r + 2.209460984245205e+02) * r - 2.759285104469687e+02) * r
               + 1.383577518672690e+02) * r - 3.066479806614716e+01) * r + 2.506628277459239e+00) * q
           / (((((-5.447609879822406e+01 * r + 1.615858368580409e+02) * r - 1.556989798598866e+02) * r
                + 6.680131188771972e+01) * r - 1.328068155288572e+01) * r + 1);
END
$fn$;
COMMENT ON FUNCTION pgscore.normal_quantile(float8) IS 'The standard normal distribution''s quantile at p (0 < p < 1), within a relative 1.2e-9 (Acklam); pgscore.noise_floor reads it';

CREATE FUNCTION pgscore.noise_floor(p_metric text, p_n bigint, p_n_base bigint, p_expected float8[], p_confidence float8,
                                    p_base float8 DEFAULT NULL, p_positives bigint DEFAULT NULL)
RETURNS float8
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_inv float8;   -- 1/n + 1/n_base: the variance scale of a difference between the window and the baseline
    v_z float8;     -- the one-sided normal quantile at the confidence
    v_df integer;
    v_chi2 float8;
    v_allow float8 := 0;  -- PSI: what its baseline bins that may well stay empty add (below)
    v_e float8;
    v_rate float8;
    v_q1 float8;
    v_q2 float8;
    v_neg bigint;
    v_b float8;     -- out_of_range: the baseline's values but one
    v_p float8;     -- out_of_range: P(k values of the window fall outside the baseline's range)
    v_cum float8;   -- out_of_range: P(at most k)
    v_k bigint;
    v_neff float8;  -- PSI and JS: n m / (n + m), the window and baseline as one sample
    v_bins integer; -- PSI and JS: the bins holding a share
    v_mu float8;    -- PSI and JS: the mean, variance and third cumulant of v_neff times the metric (JS: 8 ln 2 JS^2)
    v_var float8;
    v_k3 float8;
    v_lam float8;
    v_c float8;
    v_g float8;
    v_s1 float8;
    v_s2 float8;
    v_s3 float8;
    v_s4 float8;
    v_k4 float8;    -- PSI and JS: the fourth cumulant, for what the matched chi-square's tail misses (0096)
    v_d1 float8;
    v_d2 float8;
    v_d3 float8;
    v_cf float8;    -- PSI and JS: the Cornish-Fisher term of the fourth cumulant's excess over the matched one
    v_nu float8;    -- PSI and JS: the shifted and scaled chi-square matching v_mu, v_var and v_k3
    v_scale float8;
    v_shift float8;
    v_empty float8[];  -- PSI: what each bin that stays empty now and then makes of it
    v_e0 float8;    -- PSI: how many of them stay empty in a window, on average
    v_add float8;
    v_term float8;
    v_floor float8;
    v_prev float8;  -- PSI and JS: the last share summed over the counts (quantile bins mostly share their share)
    v_rare integer := 0;  -- PSI: the bins expecting ln(100) values or fewer (0099), their part's mean, variance
    v_r1 float8 := 0;     -- and third cumulant summed apart as well
    v_r2 float8 := 0;
    v_r3 float8 := 0;
    v_dist float8[];  -- PSI (0099): the distribution of the rare bins' and the empties' part on a grid of 33 steps
    v_nd float8[];
    v_h float8;       -- the grid's step
    v_last integer;   -- the highest step holding mass
    v_es float8[];    -- the shares of the bins in v_empty (0099), each run of one share taken at once
    v_pe float8;      -- the run's v_empty
    v_r integer;      -- the run's length
    v_bd float8[];    -- a bin's distribution on the grid, then its powers
    v_nz integer[];   -- the steps of v_bd holding mass
    v_s integer;
    v_a float8[];
    v_blast integer;  -- the highest step of v_bd holding mass
    v_i integer;
    v_lo float8;
    v_hi float8;
    v_x float8;
    v_y float8;
    v_w float8;
    v_t float8;
    v_hsd float8;     -- accuracy_drop (0101): the hold-out's error rate's standard deviation
BEGIN
    IF p_metric IS NULL OR p_metric NOT IN ('psi', 'ks', 'js', 'mean_shift', 'null_rate', 'out_of_range',
                                            'auc_drop', 'accuracy_drop', 'brier_rise', 'rmse_rise') THEN
        RAISE EXCEPTION 'pgscore.noise_floor: unknown metric %', coalesce(quote_literal(p_metric), 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'psi, ks, js, mean_shift, null_rate, out_of_range, auc_drop, accuracy_drop, brier_rise or rmse_rise';
    END IF;
    IF p_n IS NULL OR p_n <= 0 THEN
        RAISE EXCEPTION 'pgscore.noise_floor: p_n (the window''s values) must be > 0, got %', coalesce(p_n::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_n_base <= 0 THEN
        RAISE EXCEPTION 'pgscore.noise_floor: p_n_base (the baseline''s values) must be > 0 or NULL (a baseline known exactly), got %', p_n_base
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_confidence IS NULL THEN
        RETURN NULL;  -- judged by the thresholds alone
    END IF;
    IF NOT (p_confidence > 0 AND p_confidence < 1) THEN
        RAISE EXCEPTION 'pgscore.noise_floor: p_confidence must be between 0 and 1 (exclusive), got %', p_confidence
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_inv := 1.0 / p_n + coalesce(1.0 / p_n_base, 0);
    v_z := pgscore.normal_quantile(p_confidence);
    IF p_metric IN ('psi', 'js') THEN
        -- (migration 0092) n m/(n + m) PSI and 8 ln 2 n m/(n + m) JS^2 (T below) are chi-square with bins - 1
        -- degrees of freedom in large windows only: at n = 100 over 10 equal bins no-drift windows crossed that
        -- floor 2.2-2.5 (JS) and 3.9-4.3 (PSI) times as often as 0.999 says, JS 4-7.5 times at 0.999^(1/13) and
        -- 0.999^(1/113). T is now a shifted, scaled chi-square matched on its mean, variance and third cumulant:
        -- each bin's count Poisson with mean lambda = n m/(n + m) e; its part of T summed over the counts (PSI's
        -- 1e-4 floor in it) where lambda <= 15, else by their expansion in 1/lambda (fitted to those sums); less
        -- what the window's fixed size takes (Pearson's: mean 1, variance 2 + (B^2 + 2B - 2) / (n m/(n + m)),
        -- third cumulant 8). Its quantile by Wilson and Hilferty's cube root at the matched degrees of freedom.
        -- Large windows keep chi-square's floor (within 1% at 10,000 values against 2,000)
        IF p_expected IS NULL THEN
            RAISE EXCEPTION 'pgscore.noise_floor: p_expected (the baseline''s share per bin) must be given for %', p_metric
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        v_bins := 0;
        FOREACH v_e IN ARRAY p_expected LOOP  -- (a loop, not a query: this runs per feature and period)
            IF v_e > 0 AND v_e <= 1 THEN  -- (a share; not NULL or NaN)
                v_bins := v_bins + 1;
            END IF;
        END LOOP;
        IF v_bins <= 1 THEN
            RETURN 0;
        END IF;
        v_neff := 1 / v_inv;
        v_mu := -1;
        v_var := -2 - (v_bins ^ 2 + 2 * v_bins - 2) / v_neff;
        v_k3 := -8;
        v_k4 := -48;
        -- (migration 0094) JS's too by the baseline's own shares: 0092 took them as equal, so over a dominant bin
        -- (0.82 and 9 of 0.02, n = 300 against 2,000, 0.999^(1/13)) no-drift windows crossed its floor 4.2 times
        -- as often as the confidence says; by the shares, 0.13 times (the simulated quantile 6% under the floor)
        FOREACH v_e IN ARRAY p_expected LOOP
            CONTINUE WHEN v_e IS NULL OR NOT (v_e > 0 AND v_e <= 1);
            v_lam := v_neff * v_e;
            IF v_lam > 15 THEN
                -- (the three moments' terms in 1/lambda to the third, fitted to the sums over the counts at lambda
                -- 10 to 6,400: within 0.3% of each there, 0.01% of JS's)
                IF p_metric = 'js' THEN
                    v_d1 := 1 + (0.376 + (0.285 + 1.555 / v_lam) / v_lam) / v_lam;
                    v_d2 := 2 + (2.795 + (2.337 + 42.609 / v_lam) / v_lam) / v_lam;
                    v_d3 := 8 + (27.752 + (2.542 + 1078.827 / v_lam) / v_lam) / v_lam;
                ELSE
                    v_d1 := 1 + (0.489 + (1.311 - 1.474 / v_lam) / v_lam) / v_lam;
                    v_d2 := 2 + (3.414 + (26.718 - 53.039 / v_lam) / v_lam) / v_lam;
                    v_d3 := 8 + (24.391 + (667.982 - 2559.414 / v_lam) / v_lam) / v_lam;
                END IF;
                v_mu := v_mu + v_d1;
                v_var := v_var + v_d2;
                v_k3 := v_k3 + v_d3;
                v_k4 := v_k4 + 1.5 * v_d3 ^ 2 / v_d2;  -- (a scaled chi-square's, as the fit takes it: no excess)
                CONTINUE;
            END IF;
            IF v_e IS NOT DISTINCT FROM v_prev THEN  -- (the sums of the bin before)
                v_mu := v_mu + v_s1;
                v_var := v_var + v_s2 - v_s1 ^ 2;
                v_k3 := v_k3 + v_s3 - 3 * v_s1 * v_s2 + 2 * v_s1 ^ 3;
                v_k4 := v_k4 + v_s4 - 4 * v_s3 * v_s1 - 3 * v_s2 ^ 2 + 12 * v_s2 * v_s1 ^ 2 - 6 * v_s1 ^ 4;
                IF p_metric = 'psi' AND v_lam <= ln(100) THEN
                    v_rare := v_rare + 1;
                    v_r1 := v_r1 + v_s1;
                    v_r2 := v_r2 + v_s2 - v_s1 ^ 2;
                    v_r3 := v_r3 + v_s3 - 3 * v_s1 * v_s2 + 2 * v_s1 ^ 3;
                END IF;
                CONTINUE;
            END IF;
            v_prev := v_e;
            v_p := exp(-v_lam);  -- P(count 0), then each next count's
            v_s1 := 0;
            v_s2 := 0;
            v_s3 := 0;
            v_s4 := 0;
            FOR k IN 0..floor(v_lam + 5 * sqrt(v_lam) + 6)::integer LOOP  -- (what lies past it moves T by under 1e-4)
                v_c := k / v_neff;
                IF p_metric = 'psi' THEN
                    v_g := v_neff * (greatest(v_c, 1e-4) - greatest(v_e, 1e-4)) * ln(greatest(v_c, 1e-4) / greatest(v_e, 1e-4));
                ELSE
                    v_g := v_neff * 4 * (CASE WHEN k > 0 THEN v_c * ln(2 * v_c / (v_c + v_e)) ELSE 0 END
                                         + v_e * ln(2 * v_e / (v_c + v_e)));
                END IF;
                -- (PSI: a bin empty in under 1 window in 100 is left to the allowance below: in the moments its
                -- rare empties put the floor at 0.999 a quarter over the quantile)
                IF p_metric = 'js' OR k > 0 OR v_lam <= ln(100) THEN
                    v_s1 := v_s1 + v_p * v_g;
                    v_s2 := v_s2 + v_p * v_g ^ 2;
                    v_s3 := v_s3 + v_p * v_g ^ 3;
                    v_s4 := v_s4 + v_p * v_g ^ 4;
                END IF;
                EXIT WHEN v_p < 1e-290 AND k > v_lam;  -- (the rest is nothing; multiplying on would underflow)
                v_p := v_p * v_lam / (k + 1);
            END LOOP;
            v_mu := v_mu + v_s1;
            v_var := v_var + v_s2 - v_s1 ^ 2;
            v_k3 := v_k3 + v_s3 - 3 * v_s1 * v_s2 + 2 * v_s1 ^ 3;
            v_k4 := v_k4 + v_s4 - 4 * v_s3 * v_s1 - 3 * v_s2 ^ 2 + 12 * v_s2 * v_s1 ^ 2 - 6 * v_s1 ^ 4;
            IF p_metric = 'psi' AND v_lam <= ln(100) THEN
                v_rare := v_rare + 1;
                v_r1 := v_r1 + v_s1;
                v_r2 := v_r2 + v_s2 - v_s1 ^ 2;
                v_r3 := v_r3 + v_s3 - 3 * v_s1 * v_s2 + 2 * v_s1 ^ 3;
            END IF;
        END LOOP;
        IF p_metric = 'psi' AND v_rare > 0 THEN
            -- (migration 0099) bins expecting ln(100) values or fewer (a share of 0.002-0.01 in a window of 100)
            -- make T's tail lumpy: where several fill at once no-drift windows crossed 0096's floor up to 5.7 times
            -- as often as the confidence says (scripts/floor_edges.py: n = 100 over 0.96 and nine of 0.002-0.01,
            -- 0.999^(1/13)), and its allowance for empties put others 1.25-1.65 times over the quantile. Their
            -- part is now summed exactly, each bin's counts (Poisson) convolved on a grid of 33 steps (a count's
            -- mass split between the two steps around it, all past the last on it), with the bins that stay empty
            -- now and then (below) as two points: empty or not. The rest (its moments less theirs) is the
            -- matched chi-square; the floor is the sum's quantile, P(sum > x) the grid's mass times the rest's
            -- tail past x less each step (Wilson and Hilferty's), by bisection
            v_mu := v_mu - v_r1;
            v_var := greatest(v_var - v_r2, 1e-12);
            v_k3 := v_k3 - v_r3;
            v_nu := least(8 * v_var ^ 3 / greatest(v_k3, 1e-12) ^ 2, 1e8);
            v_scale := sqrt(v_var / (2 * v_nu));
            v_shift := v_mu - v_scale * v_nu;
            -- the grid's reach: the part's mean and 20 standard deviations, at most every bin's largest at once
            v_lo := v_r1;
            v_hi := v_r2;
            v_add := 0;
            v_es := '{}';
            v_empty := '{}';  -- each bin's P(empty) where it is two points, else NULL (ln(100) values or fewer)
            FOREACH v_e IN ARRAY p_expected LOOP
                CONTINUE WHEN v_e IS NULL OR NOT (v_e > 0 AND v_e <= 1);
                v_lam := v_neff * v_e;
                v_term := v_neff * (greatest(v_e, 1e-4) - 1e-4) * ln(greatest(v_e, 1e-4) / 1e-4);  -- empty
                IF v_lam <= ln(100) THEN
                    v_c := floor(v_lam + 5 * sqrt(v_lam) + 6) / v_neff;
                    v_add := v_add + greatest(v_term, v_neff * (greatest(v_c, 1e-4) - greatest(v_e, 1e-4))
                                                      * ln(greatest(v_c, 1e-4) / greatest(v_e, 1e-4)));
                    v_empty := v_empty || NULL::float8;
                v_es := v_es || v_e;
                    CONTINUE;
                END IF;
                v_p := 0;
                IF v_e > 1e-4 AND v_e < 1 THEN  -- P(empty) as the allowance below takes it
                    v_p := least(0, p_n * ln(1 - v_e) + coalesce(p_n ^ 2 * v_e / (1 - v_e) / (2 * (p_n_base + 1)), 0));
                    v_p := CASE WHEN v_p > -700 THEN exp(v_p) ELSE 0 END;
                    IF NOT (v_p > (1 - p_confidence) / v_bins AND v_p < 0.01) THEN
                        v_p := 0;
                    END IF;
                END IF;
                v_empty := v_empty || v_p;
                v_es := v_es || v_e;
                IF v_p > 0 THEN
                    v_lo := v_lo + v_p * v_term;
                    v_hi := v_hi + v_p * (1 - v_p) * v_term ^ 2;
                    v_add := v_add + v_term;
                END IF;
            END LOOP;
            v_h := least(v_add, v_lo + 20 * sqrt(greatest(v_hi, 0))) / 32;
            -- each run of bins sharing a share (quantile bins mostly do) as one: the bin's distribution on the grid,
            -- v_bd, raised to the run's length by repeated squaring, the sum capped at the last step as a count's is
            v_dist := array_fill(0::float8, ARRAY[33], ARRAY[0]);
            v_dist[0] := 1;
            v_last := 0;
            v_r := 0;
            FOR j IN 1..cardinality(v_es) + 1 LOOP
                IF v_r > 0 AND (j > cardinality(v_es) OR v_es[j] IS DISTINCT FROM v_e) THEN
                    v_lam := v_neff * v_e;
                    v_bd := array_fill(0::float8, ARRAY[33], ARRAY[0]);
                    v_blast := 0;
                    v_k := CASE WHEN v_pe IS NULL THEN floor(v_lam + 5 * sqrt(v_lam) + 6) ELSE 1 END;
                    v_p := CASE WHEN v_pe IS NULL THEN exp(-v_lam) ELSE v_pe END;  -- P(count 0)
                    FOR k IN 0..v_k LOOP
                        v_c := k / v_neff;
                        IF v_pe IS NULL THEN
                            v_g := v_neff * (greatest(v_c, 1e-4) - greatest(v_e, 1e-4)) * ln(greatest(v_c, 1e-4) / greatest(v_e, 1e-4));
                            v_rate := v_p;
                        ELSE  -- empty (k = 0) or not
                            v_g := CASE WHEN k = 0 THEN v_neff * (greatest(v_e, 1e-4) - 1e-4) * ln(greatest(v_e, 1e-4) / 1e-4) ELSE 0 END;
                            v_rate := CASE WHEN k = 0 THEN v_p ELSE 1 - v_p END;
                        END IF;
                        IF v_rate >= 1e-15 THEN  -- (a count that never comes: none)
                            v_c := CASE WHEN v_h > 0 THEN least(v_g / v_h, 32) ELSE 0 END;
                            v_d1 := v_c - floor(v_c);  -- the share of the mass on the step above
                            v_i := floor(v_c)::integer;
                            v_bd[v_i] := v_bd[v_i] + v_rate * (1 - v_d1);
                            v_i := least(v_i + 1, 32);
                            v_bd[v_i] := v_bd[v_i] + v_rate * v_d1;
                            v_blast := greatest(v_blast, v_i);
                        END IF;
                        IF v_pe IS NULL THEN
                            v_p := v_p * v_lam / (k + 1);
                            EXIT WHEN k > v_lam AND v_p < 1e-15;  -- (falling from here on)
                        END IF;
                    END LOOP;
                    WHILE v_r > 0 LOOP
                        FOR op IN 1..2 LOOP  -- 1: the sum so far times v_bd where the run's length is odd; 2: v_bd squared
                            CONTINUE WHEN CASE WHEN op = 1 THEN v_r % 2 = 0 ELSE v_r = 1 END;
                            v_nz := '{}';  -- v_bd's steps holding mass (1e-17 or less: none, at most 33 times that a step)
                            FOR s IN 0..v_blast LOOP
                                IF v_bd[s] > 1e-17 THEN
                                    v_nz := v_nz || s;
                                END IF;
                            END LOOP;
                            v_a := CASE WHEN op = 1 THEN v_dist ELSE v_bd END;
                            v_i := CASE WHEN op = 1 THEN v_last ELSE v_blast END;
                            v_nd := array_fill(0::float8, ARRAY[33], ARRAY[0]);
                            FOR i IN 0..v_i LOOP
                                v_x := v_a[i];
                                CONTINUE WHEN v_x <= 1e-17;
                                FOREACH v_s IN ARRAY v_nz LOOP
                                    v_nd[least(i + v_s, 32)] := v_nd[least(i + v_s, 32)] + v_x * v_bd[v_s];
                                END LOOP;
                            END LOOP;
                            v_i := least(v_i + v_blast, 32);
                            IF op = 1 THEN
                                v_dist := v_nd;
                                v_last := v_i;
                            ELSE
                                v_bd := v_nd;
                                v_blast := v_i;
                            END IF;
                        END LOOP;
                        v_r := v_r / 2;
                    END LOOP;
                END IF;
                EXIT WHEN j > cardinality(v_es);
                CONTINUE WHEN v_empty[j] = 0;
                v_e := v_es[j];
                v_pe := v_empty[j];
                v_r := v_r + 1;
            END LOOP;
            -- bisection between 0 and the grid's end plus the rest's quantile at 1 - (1 - confidence) / 4 (false
            -- position, Illinois', took 19-43 steps where the sum is lumpy: bisection 20-22)
            v_q2 := pgscore.normal_quantile(1 - (1 - p_confidence) / 4);
            v_lo := 0;
            v_hi := 32 * v_h + greatest(0, v_shift + v_scale * v_nu
                                           * greatest(0, 1 - 2.0 / (9 * v_nu) + v_q2 * sqrt(2.0 / (9 * v_nu))) ^ 3);
            v_c := 1 - 2.0 / (9 * v_nu);  -- Wilson and Hilferty's z = (cbrt(y / nu) - v_c) * v_d1, once
            v_d1 := 1.5 * sqrt(v_nu);
            FOR it IN 1..50 LOOP
                v_x := (v_lo + v_hi) / 2;
                v_rate := v_dist[32];  -- (past the grid's end: counted as over)
                FOR i IN 0..least(v_last, 31) LOOP
                    CONTINUE WHEN v_dist[i] < 1e-15;
                    v_y := (v_x - i * v_h - v_shift) / v_scale;
                    IF v_y <= 0 THEN
                        v_rate := v_rate + v_dist[i];
                        CONTINUE;
                    END IF;
                    -- the rest's tail past it: Wilson and Hilferty's z, the normal tail by erfc (Numerical
                    -- Recipes' Chebyshev fit, within a relative 1.2e-7) at z / sqrt(2)
                    v_w := (cbrt(v_y / v_nu) - v_c) * v_d1;
                    CONTINUE WHEN v_w > 26;
                    v_t := 1 / (1 + 0.5 * abs(v_w));
                    v_t := 0.5 * v_t * exp(-(v_w * v_w) - 1.26551223 + v_t * (1.00002368 + v_t * (0.37409196 + v_t * (0.09678418
                           + v_t * (-0.18628806 + v_t * (0.27886807 + v_t * (-1.13520398 + v_t * (1.48851587
                           + v_t * (-0.82215223 + v_t * 0.17087277)))))))));
                    v_rate := v_rate + v_dist[i] * CASE WHEN v_w >= 0 THEN v_t ELSE 1 - v_t END;
                END LOOP;
                IF v_rate > 1 - p_confidence THEN
                    v_lo := v_x;
                ELSE
                    v_hi := v_x;
                END IF;
                EXIT WHEN v_hi - v_lo <= 1e-6 * v_hi;
            END LOOP;
            RETURN v_hi * v_inv;
        END IF;
        v_var := greatest(v_var, 1e-12);
        v_nu := least(8 * v_var ^ 3 / greatest(v_k3, 1e-12) ^ 2, 1e8);  -- (1e8: as good as normal)
        v_scale := sqrt(v_var / (2 * v_nu));
        v_shift := v_mu - v_scale * v_nu;
        -- (migration 0096) where bins expect about one value or fewer (n = 100 over a bin of 0.96 and nine of
        -- 0.002-0.01) T's tail is heavier than the matched chi-square's: no-drift windows crossed JS's floor 2.2-4.4
        -- times as often as the confidence says. The fourth cumulant (summed over the counts as the others are; a
        -- scaled chi-square's where lambda > 15) adds its excess over the fit's, 12/nu, as Cornish and Fisher's
        -- term (z^3 - 3z)/24 in standard deviations; never less (where the fit's is larger the floor is kept)
        v_cf := sqrt(v_var) / 24 * greatest(0, v_k4 / v_var ^ 2 - 12 / v_nu);
        v_floor := greatest(0, v_shift + v_scale * v_nu * greatest(0, 1 - 2.0 / (9 * v_nu) + v_z * sqrt(2.0 / (9 * v_nu))) ^ 3
                               + v_cf * greatest(0, v_z ^ 3 - 3 * v_z)) * v_inv;
        IF p_metric = 'js' THEN
            RETURN sqrt(v_floor / (8 * ln(2)));
        END IF;
        -- PSI: a bin that stays empty adds (e - 1e-4) ln(e / 1e-4) (its share floored at 1e-4), far more than its
        -- chi-square share. Where that happens in under 1 window in 100 (the matched moments do not see it) yet
        -- more often than (1 - confidence) / bins, the floor is at least the k largest of them plus the rest's
        -- quantile at 1 - (1 - confidence) / P(k empty), k as many as are empty together more often than
        -- 1 - confidence (how many are empty: Poisson). (0090 added every such bin's in full to the quantile:
        -- 7.8 times the simulated quantile at n = 100 over 10 equal bins and 0.999^(1/13), 2 to 4 times at n = 30)
        v_empty := '{}';
        v_e0 := 0;
        FOREACH v_e IN ARRAY p_expected LOOP
            IF v_e > 1e-4 AND v_e < 1 THEN
                -- P(empty): (1 - e)^n, times what the baseline's own noise in e adds (log-normal in 1 - p)
                v_p := least(0, p_n * ln(1 - v_e) + coalesce(p_n ^ 2 * v_e / (1 - v_e) / (2 * (p_n_base + 1)), 0));
                v_p := CASE WHEN v_p > -700 THEN exp(v_p) ELSE 0 END;
                IF v_p > (1 - p_confidence) / v_bins AND v_p < 0.01 THEN
                    v_empty := v_empty || (v_e - 1e-4) * ln(v_e / 1e-4);
                    v_e0 := v_e0 + v_p;
                END IF;
            END IF;
        END LOOP;
        IF cardinality(v_empty) > 0 THEN
            v_term := exp(-v_e0);  -- P(exactly k empty)
            v_cum := v_term;       -- P(at most k empty)
            v_add := 0;
            v_k := 0;
            WHILE 1 - v_cum > 1 - p_confidence AND v_k < cardinality(v_empty) LOOP
                v_e := v_empty[1];  -- the largest left
                v_q1 := 1;
                FOR i IN 2..cardinality(v_empty) LOOP
                    IF v_empty[i] > v_e THEN
                        v_e := v_empty[i];
                        v_q1 := i;
                    END IF;
                END LOOP;
                v_empty[v_q1::integer] := -1;
                v_add := v_add + v_e;
                v_rate := 1 - v_cum;  -- P(at least k + 1 empty)
                v_k := v_k + 1;
                v_term := v_term * v_e0 / v_k;
                v_cum := v_cum + v_term;
                v_q2 := pgscore.normal_quantile(greatest(0.5, 1 - (1 - p_confidence) / v_rate));
                v_floor := greatest(v_floor, v_add + greatest(0, v_shift + v_scale * v_nu
                                    * greatest(0, 1 - 2.0 / (9 * v_nu) + v_q2 * sqrt(2.0 / (9 * v_nu))) ^ 3
                                    + v_cf * greatest(0, v_q2 ^ 3 - 3 * v_q2)) * v_inv);
            END LOOP;
        END IF;
        RETURN v_floor;
    ELSIF p_metric = 'ks' THEN
        -- the two-sample Kolmogorov-Smirnov critical value c(alpha) * sqrt((n + m) / (n m))
        RETURN sqrt(-ln((1 - p_confidence) / 2) / 2) * sqrt(v_inv);
    ELSIF p_metric = 'mean_shift' THEN
        -- |mean - baseline mean| in baseline standard deviations: its standard error is sqrt(1/n + 1/m)
        RETURN pgscore.normal_quantile(1 - (1 - p_confidence) / 2) * sqrt(v_inv);
    ELSIF p_metric = 'null_rate' THEN
        -- the rise of a binomial share over the baseline's share p_base
        v_rate := least(greatest(coalesce(p_base, 0), 0), 1);
        RETURN v_z * sqrt(v_rate * (1 - v_rate) * v_inv);
    ELSIF p_metric = 'out_of_range' THEN
        -- (migration 0088) the share of the window outside the min..max of m baseline draws: the share p of the
        -- distribution outside them is Beta(2, m - 1), so how many of the n fall outside is beta-binomial
        -- (n, 2, m - 1), most often none; its quantile, counted up from P(0) = b (b + 1) / ((n + b)(n + b + 1)),
        -- b = m - 1 (0085's normal approximation of a binomial at 2/(m + 1) put the floor under a single value:
        -- 2.6% of windows of 100 were over it on no drift, at a nominal 0.1%)
        IF p_n_base IS NULL THEN
            RETURN 0;  -- a baseline known exactly: nothing falls outside it
        ELSIF p_n_base = 1 THEN
            RETURN 1;  -- every value but the one falls outside
        END IF;
        v_b := p_n_base - 1;
        v_e := 2.0 * p_n / (p_n_base + 1);  -- the count's mean
        IF v_e > 1000 THEN
            -- far from none the share is the share p outside, give or take a little: Beta(2, b)'s quantile x,
            -- (1 - x)^b (1 + b x) = 1 - confidence, by Newton's method (within 0.1% of the beta-binomial's),
            -- from at most 0.5: the function is decreasing and concave in x, so Newton converges from there (a
            -- first guess of 1 or more, where m <= 1 - ln(1 - confidence), took the logarithm of a negative number)
            v_p := least(-ln(1 - p_confidence) / v_b, 0.5);
            FOR i IN 1..60 LOOP
                v_cum := (v_b * ln(1 - v_p) + ln(1 + v_b * v_p) - ln(1 - p_confidence))
                         / (v_b / (1 + v_b * v_p) - v_b / (1 - v_p));
                v_p := least(greatest(v_p - v_cum, 1e-300), 1 - 1e-15);
                EXIT WHEN abs(v_cum) < 1e-14 * v_p;
            END LOOP;
            RETURN v_p;
        END IF;
        v_p := v_b * (v_b + 1) / ((p_n + v_b) * (p_n + v_b + 1));
        v_cum := v_p;
        v_k := 0;
        WHILE 1 - v_cum > 1 - p_confidence AND v_k < p_n LOOP
            v_p := v_p * (p_n - v_k) / (v_k + 1) * (v_k + 2) / (p_n - v_k - 1 + v_b);
            v_k := v_k + 1;
            v_cum := v_cum + v_p;
        END LOOP;
        RETURN v_k::float8 / p_n;  -- the window is over it when more than v_k of its n fall outside
    ELSIF p_base IS NULL THEN
        RETURN NULL;  -- no deploy metric: nothing to compare
    ELSIF p_metric = 'accuracy_drop' THEN
        v_rate := least(greatest(p_base, 0), 1);
        -- (migration 0101) the window's errors are binomial, not normal: where they are few (an error rate e of
        -- 0.05 at 20 to 1,000 outcomes) their upper tail is far longer than z sqrt(e (1 - e) v) allows, and no-drift
        -- windows crossed that floor 1.9-15 times as often as the confidence says (scripts/holdout_floor_noise.py
        -- --positive-rate). Where the window's errors vary by 100 or less the floor is their exact quantile: the
        -- binomial's counts within 16 standard deviations and 16 of the mean, the hold-out's error rate (0098)
        -- normal around e, P(drop > x) summed over the counts and the floor found by bisection (midway between two
        -- counts where the hold-out is exact: a window is over it at the next count up). Else Cornish and
        -- Fisher's skew term on the normal floor
        v_e := 1 - v_rate;  -- the error rate
        v_var := p_n * v_e * (1 - v_e);
        IF v_var <= 0 THEN
            RETURN 0;
        END IF;
        v_hsd := CASE WHEN p_n_base IS NOT NULL THEN sqrt(v_e * (1 - v_e) / p_n_base) ELSE 0 END;
        IF v_var > 100 THEN
            v_s1 := sqrt(v_e * (1 - v_e) * v_inv);
            v_g := v_e * (1 - v_e) * (1 - 2 * v_e) * (1.0 / p_n ^ 2 - coalesce(1.0 / p_n_base ^ 2, 0)) / v_s1 ^ 3;
            RETURN v_s1 * (v_z + (v_z ^ 2 - 1) * v_g / 6);
        END IF;
        v_k := greatest(0, floor(p_n * v_e - 16 * sqrt(v_var) - 16));  -- the lowest count summed
        v_blast := (least(p_n, ceil(p_n * v_e + 16 * sqrt(v_var) + 16)) - v_k)::integer;
        -- ln P(count v_k): ln n! - ln k! - ln (n - k)! (Stirling's series from 20 on) + k ln e + (n - k) ln(1 - e)
        v_y := v_k * ln(v_e) + (p_n - v_k) * ln(1 - v_e);
        FOR op IN 1..3 LOOP
            v_w := CASE op WHEN 1 THEN p_n WHEN 2 THEN v_k ELSE p_n - v_k END;
            IF v_w < 20 THEN
                v_t := 0;
                FOR i IN 2..v_w::integer LOOP
                    v_t := v_t + ln(i);
                END LOOP;
            ELSE
                v_t := (v_w + 0.5) * ln(v_w) - v_w + 0.918938533204672742 + 1 / (12 * v_w) - 1 / (360 * v_w ^ 3)
                       + 1 / (1260 * v_w ^ 5);
            END IF;
            v_y := v_y + CASE WHEN op = 1 THEN v_t ELSE -v_t END;
        END LOOP;
        v_bd := array_fill(0::float8, ARRAY[v_blast + 1], ARRAY[0]);
        FOR i IN 0..v_blast LOOP
            v_bd[i] := CASE WHEN v_y > -700 THEN exp(v_y) ELSE 0 END;
            EXIT WHEN v_k + i >= p_n;
            v_y := v_y + ln((p_n - v_k - i)::float8 / (v_k + i + 1)) + ln(v_e / (1 - v_e));
        END LOOP;
        IF v_hsd < 0.05 / p_n THEN  -- the hold-out as good as exact: the count whose upper tail is within 1 - confidence
            v_cum := 0;
            FOR i IN REVERSE v_blast..0 LOOP
                IF v_cum + v_bd[i] > 1 - p_confidence THEN
                    RETURN (v_k + i + 0.5) / p_n - v_e;
                END IF;
                v_cum := v_cum + v_bd[i];
            END LOOP;
            RETURN (v_k - 0.5) / p_n - v_e;
        END IF;
        -- P(drop > x) = sum over the counts k of P(k) P(hold-out error rate < k / n - x), its root by Newton's
        -- steps from the normal floor, a step that leaves the bracket a bisection instead (bisection alone took
        -- 2-5 ms a call at 500-1,000 outcomes); the counts more than 6 sqrt(2) of the hold-out's standard
        -- deviations above k / n = x + e at P(k) each (their upper tail, v_a, summed once), those as far below
        -- at none (erfc(6) = 2e-17)
        v_a := array_fill(0::float8, ARRAY[v_blast + 2], ARRAY[0]);
        FOR i IN REVERSE v_blast..0 LOOP
            v_a[i] := v_a[i + 1] + v_bd[i];
        END LOOP;
        v_lo := v_k::float8 / p_n - v_e - 12 * v_hsd;
        v_hi := (v_k + v_blast)::float8 / p_n - v_e + 12 * v_hsd;
        v_x := least(greatest(v_z * sqrt(v_e * (1 - v_e) * v_inv), v_lo), v_hi);
        FOR it IN 1..60 LOOP
            v_i := least(v_blast + 1, greatest(0, floor(p_n * (v_x + v_e + 6 * sqrt(2.0) * v_hsd)) - v_k + 1))::integer;
            v_rate := v_a[v_i];
            v_g := 0;  -- the density: minus the derivative of P(drop > x) in x
            FOR i IN greatest(0, ceil(p_n * (v_x + v_e - 6 * sqrt(2.0) * v_hsd)) - v_k)::integer..v_i - 1 LOOP
                CONTINUE WHEN v_bd[i] < 1e-16;
                v_w := ((v_k + i)::float8 / p_n - v_x - v_e) / v_hsd / sqrt(2.0);
                v_y := exp(-(v_w * v_w));
                v_g := v_g + v_bd[i] * v_y;
                v_t := 1 / (1 + 0.5 * abs(v_w));
                v_t := 0.5 * v_t * v_y * exp(-1.26551223 + v_t * (1.00002368 + v_t * (0.37409196 + v_t * (0.09678418
                       + v_t * (-0.18628806 + v_t * (0.27886807 + v_t * (-1.13520398 + v_t * (1.48851587
                       + v_t * (-0.82215223 + v_t * 0.17087277)))))))));
                v_rate := v_rate + v_bd[i] * CASE WHEN v_w >= 0 THEN 1 - v_t ELSE v_t END;
            END LOOP;
            v_g := v_g / (v_hsd * sqrt(2 * pi()));
            IF v_rate > 1 - p_confidence THEN
                v_lo := v_x;
            ELSE
                v_hi := v_x;
            END IF;
            EXIT WHEN v_hi - v_lo <= 1e-7;
            v_y := v_x + (v_rate - (1 - p_confidence)) / nullif(v_g, 0);
            EXIT WHEN abs(v_y - v_x) <= 1e-9;
            v_x := CASE WHEN v_y > v_lo AND v_y < v_hi THEN v_y ELSE (v_lo + v_hi) / 2 END;
        END LOOP;
        RETURN v_x;
    ELSIF p_metric = 'brier_rise' THEN
        -- a squared error in 0..1 with mean b has a variance of at most b (1 - b)
        v_rate := least(greatest(p_base, 0), 1);
        RETURN v_z * sqrt(v_rate * (1 - v_rate) * v_inv);
    ELSIF p_metric = 'rmse_rise' THEN
        -- (migration 0106) RMSE over the deploy RMSE, minus 1: for normal errors the window's MSE over the
        -- hold-out's is F(n, n_base) (n_base NULL: chi-square_n / n), so the floor is sqrt(F_conf) - 1. The
        -- linearised z sqrt(v/2) missed the ratio's right skew: with 100 hold-out rows, no-drift windows of 20 to
        -- 1,000 crossed it 3.1-4.5 times as often as 0.999 says (scripts/rmse_floor_noise.py). F_conf by
        -- Paulson's cube-root normal approximation, the quadratic in y = F^(1/3) solved for its upper root
        -- (Wilson and Hilferty's for chi-square without n_base): at 0.999 within 0.3% of the exact quantile
        -- (scipy's) from 20 values and 100 hold-out rows on, 0.6% from 10 and 50, high by 7% at 10 hold-out
        -- rows (a floor too high, not too low). Near and past where it has no root (a hold-out of a handful of
        -- rows: z^2 2/(9 n_base) too large) it is at most F(infinity, m)'s quantile, m / chi-square_m's lower
        -- (1 - confidence) quantile, which bounds F(n, m)'s from above: 1 / (-ln confidence) at m = 2, used for every
        -- m of 2 or more (F's upper quantiles fall as m grows), 1 / normal_quantile(1 - confidence / 2)^2 at m = 1.
        -- (The linear floor there was 67-1,100 times too low at hold-outs of 2-3 rows, which deploys of 10-15 rows
        -- make, and Paulson's root near the boundary far too high: not monotone in the confidence.) Multiplied in
        -- float8: 9 * n in bigint overflowed past 1.02e18 rows, which a hand-edited holdout_rows may say
        v_c := 2.0 / (9.0 * p_n);
        v_g := coalesce(2.0 / (9.0 * p_n_base), 0);
        v_t := CASE WHEN p_n_base IS NOT NULL AND v_z > 0
                    THEN CASE WHEN p_n_base = 1 THEN 1 / pgscore.normal_quantile(1 - p_confidence / 2) ^ 2
                              ELSE -1 / ln(p_confidence) END END;
        v_w := (1 - v_g) ^ 2 - v_z ^ 2 * v_g;
        IF v_w <= 0 THEN
            RETURN coalesce(sqrt(v_t) - 1, v_z * sqrt(v_inv / 2));
        END IF;
        v_y := ((1 - v_g) * (1 - v_c) + v_z * sqrt((1 - v_g) ^ 2 * v_c + (1 - v_c) ^ 2 * v_g
                                                  - v_z ^ 2 * v_c * v_g)) / v_w;
        -- (a confidence below 0.5 may put F^(1/3) below 0: F's 0)
        RETURN least(sqrt(greatest(v_y, 0) ^ 3), coalesce(sqrt(v_t), 'Infinity'::float8)) - 1;
    END IF;
    -- auc_drop: Hanley and McNeil's standard error at the deploy AUC, p_positives of the p_n outcomes positive.
    -- (migration 0111) Where the smaller class has 4 or fewer, at no more than (m + 1) / (m + 2) (Laplace's rule of
    -- succession, m that count): the AUC of 1-4 positives is skewed to the left, and 0098's normal tail at the
    -- deploy AUC was crossed 1.5-13 times as often as 0.999 says. 0107 took that cap at any m, and at deploy AUCs of
    -- 0.95-0.99 it bound a window of 5-98 positives whose deploy AUC came from a large hold-out: a floor far too
    -- high. The hold-out's own reliability is pgscore.performance_stats_of's to pass: it gives both terms p_base
    -- at most the Laplace AUC of the hold-out's smaller class (scripts/auc_floor_noise.py)
    v_neg := p_n - p_positives;
    IF p_positives IS NULL OR p_positives <= 0 OR v_neg <= 0 THEN
        RETURN NULL;  -- no AUC without both classes
    END IF;
    v_rate := least(greatest(p_base, 0), 1,
                    CASE WHEN least(p_positives, v_neg) <= 4
                         THEN (least(p_positives, v_neg) + 1.0) / (least(p_positives, v_neg) + 2.0) END);
    v_q1 := v_rate / (2 - v_rate);
    v_q2 := 2 * v_rate ^ 2 / (1 + v_rate);
    RETURN v_z * sqrt(greatest(0, v_rate * (1 - v_rate) + (p_positives - 1) * (v_q1 - v_rate ^ 2)
                                  + (v_neg - 1) * (v_q2 - v_rate ^ 2)) / (p_positives::float8 * v_neg));
END
$fn$;
COMMENT ON FUNCTION pgscore.noise_floor(text, bigint, bigint, float8[], float8, float8, bigint) IS 'How large p_metric grows by sampling noise alone, at p_confidence, for a window of p_n values (outcomes) against a baseline of p_n_base (NULL: known exactly): PSI and JS by a shifted, scaled chi-square matched on the first three moments of the metric under Poisson counts per bin of p_expected (the baseline''s shares, 0094: JS''s too) and their fourth cumulant''s excess (0096, Cornish-Fisher), chi-square with a degree of freedom per bin but one in large windows, PSI with what its bins that stay empty now and then add (0092), its bins expecting ln(100) values or fewer and those empties as their exact sum on a grid, the rest matched (0099), KS by the two-sample Kolmogorov distribution, mean shift by its standard error, null_rate by its binomial standard error (p_base: the baseline null rate), out_of_range by the beta-binomial count of values outside the min..max of p_n_base draws, the performance drops by their standard errors at the deploy metric p_base (auc_drop: p_positives of p_n positive, Hanley-McNeil''s, 0111, where the smaller class has m of 4 or fewer at an AUC of at most (m + 1) / (m + 2), the skew of a few positives'' AUC: 0098''s was crossed 1.5-13 times as often as 0.999 says there; pgscore.performance_stats_of passes both the window''s and the hold-out''s term p_base at most the Laplace AUC of the hold-out''s smaller class, since the deploy AUC is as sure as its hold-out: at the AUC of 1 that 5 hold-out positives may show 0098''s variance was 0, and no-drift windows crossed the floor 33-44 times as often as 0.999 says; 0107 capped each term at its own class, too high a floor at deploy AUCs of 0.95-0.99 and windows of 5-98 positives; accuracy_drop by the window''s binomial error count where it is small, 0101, its hold-out of p_n_base normal; rmse_rise, 0106, as sqrt(F_conf(p_n, p_n_base)) - 1, chi-square_p_n / p_n without p_n_base, the MSE ratio under normal errors, by Paulson''s approximation: the linear z sqrt(v/2) was crossed 3.1-4.5 times as often as 0.999 says at a hold-out of 100 rows; for errors not normal, 0108, pgscore.performance_stats_of passes p_n and p_n_base times 2 / (kappa - 1) rounded down, kappa the errors'' kurtosis about 0 of the hold-out, error_kurtosis in the deploy metrics (at most its rows), at least 3 (Box and Andersen''s correction): at 0106''s, errors from Student t at 3-5 df, Laplace and a lognormal crossed it 20-200 times as often as 0.999 says, at 0108''s 1.8-64; nothing of the window''s own shape: pooled with the window''s kurtosis, a regressor''s few huge errors raised the floor with the RMSE and hid that drift). NULL at a NULL confidence';

/*
 * judge with noise floors: a metric is at warn or alert when it reaches the threshold and also exceeds its
 * floor (p_floors, by pgscore.noise_floor at drift_thresholds.confidence; a NULL floor, or a NULL confidence
 * in drift_thresholds, judges it by the threshold alone). Each check also says its confidence and floor.
 */
CREATE FUNCTION pgscore.judge(p_metrics text[], p_values float8[], p_n bigint[], p_floors float8[], p_model text,
                              p_subject text)
RETURNS TABLE (checks jsonb, status text, firing text, min_n integer)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
WITH c AS (
    SELECT m.metric, m.value, m.n, e.warn, e.alert, e.min_n, e.confidence, e.override, e.warn_from, e.alert_from,
           e.min_n_from, e.confidence_from, f.floor,
           CASE WHEN m.n = 0 THEN 'no_data'
                WHEN m.n < e.min_n THEN 'insufficient_data'
                WHEN m.value IS NULL THEN 'not_applicable'
                WHEN m.value >= e.alert AND (f.floor IS NULL OR m.value > f.floor) THEN 'alert'
                WHEN m.value >= e.warn AND (f.floor IS NULL OR m.value > f.floor) THEN 'warn'
                ELSE 'ok' END AS level
      FROM unnest(p_metrics, p_values, p_n, p_floors) WITH ORDINALITY AS m(metric, value, n, floor, i)
     -- (0133) the one rule (a metric without a drift_thresholds row has no row)
     CROSS JOIN LATERAL pgscore.effective_thresholds(p_model, m.metric, p_subject) e
     CROSS JOIN LATERAL (SELECT CASE WHEN e.confidence IS NOT NULL THEN m.floor END AS floor) f
)
SELECT jsonb_agg(jsonb_build_object('metric', c.metric, 'value', c.value, 'n', c.n, 'warn', c.warn,
                                    'alert', c.alert, 'min_n', c.min_n, 'level', c.level)
                 -- (a metric judged by its threshold alone has the check it had before 0085)
                 || CASE WHEN c.confidence IS NOT NULL
                         THEN jsonb_build_object('confidence', c.confidence, 'floor', c.floor) ELSE '{}' END
                 -- (0129: which override set its thresholds; none, by drift_thresholds alone)
                 -- (0133: and where each of its thresholds came from: subject, model or default)
                 || CASE WHEN c.override IS NOT NULL
                         THEN jsonb_build_object('override', c.override, 'warn_from', c.warn_from, 'alert_from',
                                                 c.alert_from, 'min_n_from', c.min_n_from, 'confidence_from',
                                                 c.confidence_from) ELSE '{}' END
                 ORDER BY c.metric),
       (ARRAY['not_applicable', 'no_data', 'insufficient_data', 'ok', 'warn', 'alert'])[max(
           CASE c.level WHEN 'alert' THEN 6 WHEN 'warn' THEN 5 WHEN 'ok' THEN 4 WHEN 'insufficient_data' THEN 3
                        WHEN 'no_data' THEN 2 ELSE 1 END)],
       string_agg(c.metric, ', ' ORDER BY c.metric) FILTER (WHERE c.level IN ('warn', 'alert')),
       max(c.min_n) FILTER (WHERE c.level = 'insufficient_data')
  FROM c
$fn$;
COMMENT ON FUNCTION pgscore.judge(text[], float8[], bigint[], float8[], text, text) IS 'Levels of metrics of model p_model (its feature or score p_subject; NULL: the model''s) against pgscore.drift_thresholds and the model''s overrides (pgscore.drift_threshold_overrides, migration 0129) and their noise floors (p_floors, at the confidence that applies): warn or alert only above the floor as well; each check as jsonb with its confidence and floor (and override: model or subject where one set its thresholds), the worst level, the metrics firing and the min_n not reached';

CREATE FUNCTION pgscore.judge(p_metrics text[], p_values float8[], p_n bigint[], p_floors float8[])
RETURNS TABLE (checks jsonb, status text, firing text, min_n integer)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
SELECT * FROM pgscore.judge(p_metrics, p_values, p_n, p_floors, NULL::text, NULL::text)
$fn$;
COMMENT ON FUNCTION pgscore.judge(text[], float8[], bigint[], float8[]) IS 'Levels of metrics against pgscore.drift_thresholds alone (no model: no override applies; pgscore.judge with p_model and p_subject for a model''s) and their noise floors (pgscore.noise_floor): warn or alert only above the floor as well; each check as jsonb with its confidence and floor, the worst level, the metrics firing and the min_n not reached';

/*
 * Each check of a row's checks (judge's, drift_stats_of's: the jsonb the drift and performance rows carry) as
 * a row, and whether its noise floor held it back (migration 0087): the level (warn or alert) its value reached
 * by the thresholds alone where the floor kept it at ok. Read by pgscore.window_checks and by pgscore drift:
 * the one definition of "held back" (pgscore drift re-derived it in Python before 0087). The checks' values
 * are exact (drift_stats_of and performance_stats_of write them at extra_float_digits 1). A drift check with a
 * confidence also gives its family (migration 0091): the k its floor is family-wise over, how many of them are
 * features, and the confidence^(1/k) its floor is at (pgscore drift re-derived them in Python before 0091).
 */
CREATE FUNCTION pgscore.check_rows(p_checks jsonb)
RETURNS TABLE (metric text, value float8, n bigint, warn float8, alert float8, min_n integer, confidence float8,
               floor float8, level text, held_back_from text, family integer, family_features integer,
               check_confidence float8)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
SELECT c.metric, c.value, c.n, c.warn, c.alert, c.min_n, c.confidence, c.floor, c.level,
       CASE WHEN c.level = 'ok' AND c.confidence IS NOT NULL AND c.floor IS NOT NULL AND c.value >= c.warn
            THEN CASE WHEN c.value >= c.alert THEN 'alert' ELSE 'warn' END END,
       c.family, c.family_features, c.check_confidence
  FROM ROWS FROM (jsonb_to_recordset(p_checks)
                  AS (metric text, value float8, n bigint, warn float8, alert float8, min_n integer,
                      confidence float8, floor float8, level text, family integer, family_features integer,
                      check_confidence float8)) WITH ORDINALITY
       AS c(metric, value, n, warn, alert, min_n, confidence, floor, level, family, family_features,
            check_confidence, i)
 ORDER BY c.i
$fn$;
COMMENT ON FUNCTION pgscore.check_rows(jsonb) IS 'Each check of a drift or performance row''s checks (jsonb) as a row: metric, value, n, warn and alert, min_n, confidence, floor, level, and held_back_from: the level (warn or alert) its value reached by the thresholds alone that its noise floor held back to ok (NULL when none was); then (migration 0091) a drift check''s family: family, the k features and score of its model its floor is family-wise over, family_features, how many of them are features, and check_confidence, the confidence^(1/k) its floor is at (NULL for realised performance, whose floor is at confidence, and where confidence is NULL); pgscore.window_checks and pgscore drift read it';

/*
 * The counts behind every drift metric: per live model, period, feature (or
 * score) and baseline bin, how many values, their sum and how many fell out
 * of range. Each period is cut into parts, each read from the cheapest
 * source that holds it whole: whole UTC days from drift_rollup_day, whole
 * 5-minute buckets from drift_rollup, the rest (a window's partial first
 * bucket, and everything since the last refresh) from the log. Each distinct
 * part is counted once, however many periods share it. p_period_kind and
 * p_period (NULL: all) pick the periods. A value beyond +-1e290 (a float8
 * the model scores, 1e308, say) is summed as +-1e290, so that no sum
 * overflows: two of 1e308 made every view fail.
 */
CREATE FUNCTION pgscore.drift_counts_of(p_model_ids bigint[], p_period_kind text, p_period text)
RETURNS TABLE (model_id bigint, period_kind text, period text, kind text, "position" integer, bin integer,
               n bigint, total float8, n_out bigint)
LANGUAGE sql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
SET work_mem = '64MB'
ROWS 20000
AS $fn$
SELECT pgscore.check_period_kind('pgscore.drift_counts_of', p_period_kind);
WITH live AS MATERIALIZED (SELECT DISTINCT u.model_id FROM unnest(p_model_ids) AS u(model_id) WHERE u.model_id IS NOT NULL),
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
COMMENT ON FUNCTION pgscore.drift_counts_of(bigint[], text, text) IS 'drift_counts for the model versions p_model_ids (live or not: each version''s rows against its own baseline), the periods picked by p_period_kind and p_period (NULL: all)';

CREATE FUNCTION pgscore.drift_counts(p_period_kind text DEFAULT NULL, p_period text DEFAULT NULL)
RETURNS TABLE (model_id bigint, period_kind text, period text, kind text, "position" integer, bin integer,
               n bigint, total float8, n_out bigint)
LANGUAGE sql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
SET work_mem = '64MB'
ROWS 20000
AS $fn$
SELECT pgscore.check_period_kind('pgscore.drift_counts', p_period_kind);
SELECT * FROM pgscore.drift_counts_of(ARRAY(SELECT lm.model_id FROM pgscore.live_models lm), p_period_kind, p_period)
$fn$;
COMMENT ON FUNCTION pgscore.drift_counts(text, text) IS 'Per live model, period (each window and each of the last 30 UTC days, or those picked by p_period_kind and p_period), feature (and score) and baseline bin: how many values were logged (bin -1: NULL or NaN), their sum and how many fell outside the baseline range';

/*
 * The drift of every live model, feature (and score) and period, in one
 * function rather than a view: it runs as its owner with JIT off. Views
 * that read it can then be granted to a reader who may not read the log,
 * and a plan the planner costs high (it cannot see how few rows a window
 * holds) is not sent to the JIT compiler, which alone took 1.5 s here.
 * What grows with the features (every feature in every period, ~35) is
 * kept light (migration 0049): PSI, KS and JS spread over the baseline bins
 * only the periods that hold a valid value of the feature, each bin's count
 * found in its period's arrays rather than joined; and each metric's level is
 * judged in place, as pgscore.judge judges it, its checks built as text: a
 * call of judge per feature and period cost ~55 us. 3,000 features: each view
 * 3-4x faster, the same rows to the bit (docs/performance.md).
 */
CREATE FUNCTION pgscore.drift_stats_of(p_model_ids bigint[], p_period_kind text)
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
SELECT pgscore.check_period_kind('pgscore.drift_stats_of', p_period_kind);
WITH live AS MATERIALIZED (SELECT m.model_id, m.name, m.version FROM pgscore.models m
                            WHERE m.model_id = ANY (p_model_ids)),
periods AS MATERIALIZED (SELECT * FROM pgscore.monitoring_periods mp
                          WHERE p_period_kind IS NULL OR mp.period_kind = p_period_kind),
counts AS MATERIALIZED (SELECT * FROM pgscore.drift_counts_of(p_model_ids, p_period_kind, NULL)),
-- (0129) the overrides of the drift metrics for these models (pgscore.drift_threshold_overrides)
ovr AS MATERIALIZED (
    SELECT o.model, o.metric, o.subject, o.warn, o.alert, o.min_n, o.confidence
      FROM pgscore.drift_threshold_overrides o
     WHERE o.model IN (SELECT live.name FROM live)
       AND o.metric IN ('psi', 'ks', 'js', 'mean_shift', 'null_rate', 'out_of_range')
),
base AS MATERIALIZED (
    SELECT live.model_id, live.name, live.version, b.kind, b.feature, b.position, b.edges, b.expected, b.mean,
           b.std, b.null_rate, b.n AS base_n,
           -- (0129) the thresholds it is judged by (th's key): th_model 0 and th_subject '' the defaults alone, the
           -- model's id with '' its model-wide overrides, with the feature its own (over the model's)
           CASE WHEN om.model IS NOT NULL OR os.model IS NOT NULL THEN live.model_id ELSE 0 END AS th_model,
           CASE WHEN os.model IS NOT NULL THEN b.feature ELSE '' END AS th_subject,
           -- constant at training (min = max), whatever std the float arithmetic left (before 0036: 1.1e-16
           -- for a column of 0.3, which made any mean shift of it an alert)
           b.std = 0 OR b.min = b.max AS constant,
           -- the model's features and score: each metric's floors are family-wise over them (0088, below); how
           -- many of them are features, which each check says with the family (0091)
           count(*) OVER (PARTITION BY live.model_id) AS family,
           count(*) FILTER (WHERE b.kind = 'feature') OVER (PARTITION BY live.model_id) AS family_features
      FROM live JOIN pgscore.baselines b ON b.model_id = live.model_id AND b.kind IN ('feature', 'score')  -- (0122)
      LEFT JOIN (SELECT DISTINCT o.model FROM ovr o WHERE o.subject IS NULL) om ON om.model = live.name
      LEFT JOIN (SELECT DISTINCT o.model, o.subject FROM ovr o WHERE o.subject IS NOT NULL) os
             ON os.model = live.name AND os.subject = b.feature
),
agg AS MATERIALIZED (
    SELECT c.model_id, c.period_kind, c.period, c.kind, c.position,
           sum(c.n) AS n, coalesce(sum(c.n) FILTER (WHERE c.bin = -1), 0) AS n_null,
           coalesce(sum(c.n) FILTER (WHERE c.bin >= 0), 0) AS n_valid, sum(c.total) AS total, sum(c.n_out) AS n_out,
           array_agg(c.bin) AS bins, array_agg(c.n) AS bin_n  -- each bin that holds a value, and how many
      FROM counts c
     GROUP BY c.model_id, c.period_kind, c.period, c.kind, c.position
),
-- every baseline bin of each live model, feature (or score) and period that holds a valid value, with its
-- current count (0 if none): stats keeps PSI, KS and JS only there (n_valid > 0), so a period without one
-- (most of the 30 days of a model logging now and then) is no longer spread over its bins for nothing
grid AS (
    SELECT b.model_id, a.period_kind, a.period, b.kind, b.position, g.bin, b.expected[g.bin + 1] AS e,
           coalesce(a.bin_n[array_position(a.bins, g.bin)], 0) AS n
      FROM agg a
      JOIN base b ON b.model_id = a.model_id AND b.kind = a.kind AND b.position = a.position
     CROSS JOIN LATERAL generate_series(0, cardinality(b.expected) - 1) g(bin)
     WHERE a.n_valid > 0
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
),
-- pgscore.drift_thresholds in one row (NULLs for a metric it holds no row for), with each metric's check
-- but for its value, n and level built once; since 0129 a row per set of thresholds the features are judged by
-- (th_model, th_subject: base's), each metric's warn, alert, min_n and confidence the feature's override's, else
-- the model's, else drift_thresholds', and its check saying which override set them (override: subject or model)
th AS MATERIALIZED (
    SELECT t.*,
           -- the text of each metric's check up to its value, for checks built as text: jsonb_build_object took
           -- 20 us a row more, for the same jsonb (a number is read from its float8 text either way)
           rtrim(t.psi_check::text, '}') || ', "value": ' AS psi_prefix,
           rtrim(t.ks_check::text, '}') || ', "value": ' AS ks_prefix,
           rtrim(t.js_check::text, '}') || ', "value": ' AS js_prefix,
           rtrim(t.mean_shift_check::text, '}') || ', "value": ' AS mean_shift_prefix,
           rtrim(t.null_rate_check::text, '}') || ', "value": ' AS null_rate_prefix,
           rtrim(t.out_of_range_check::text, '}') || ', "value": ' AS out_of_range_prefix
      FROM (SELECT t.*, t.psi_min_n IS NOT NULL AND t.ks_min_n IS NOT NULL AND t.js_min_n IS NOT NULL AND t.mean_shift_min_n IS NOT NULL AND t.null_rate_min_n IS NOT NULL AND t.out_of_range_min_n IS NOT NULL AS complete,
                       jsonb_build_object('metric', 'psi', 'warn', t.psi_warn, 'alert', t.psi_alert, 'min_n', t.psi_min_n) || CASE WHEN t.psi_confidence IS NOT NULL THEN jsonb_build_object('confidence', t.psi_confidence) ELSE '{}' END || CASE WHEN t.psi_override IS NOT NULL THEN jsonb_build_object('override', t.psi_override) || t.psi_from::jsonb ELSE '{}' END AS psi_check,
                       jsonb_build_object('metric', 'ks', 'warn', t.ks_warn, 'alert', t.ks_alert, 'min_n', t.ks_min_n) || CASE WHEN t.ks_confidence IS NOT NULL THEN jsonb_build_object('confidence', t.ks_confidence) ELSE '{}' END || CASE WHEN t.ks_override IS NOT NULL THEN jsonb_build_object('override', t.ks_override) || t.ks_from::jsonb ELSE '{}' END AS ks_check,
                       jsonb_build_object('metric', 'js', 'warn', t.js_warn, 'alert', t.js_alert, 'min_n', t.js_min_n) || CASE WHEN t.js_confidence IS NOT NULL THEN jsonb_build_object('confidence', t.js_confidence) ELSE '{}' END || CASE WHEN t.js_override IS NOT NULL THEN jsonb_build_object('override', t.js_override) || t.js_from::jsonb ELSE '{}' END AS js_check,
                       jsonb_build_object('metric', 'mean_shift', 'warn', t.mean_shift_warn, 'alert', t.mean_shift_alert, 'min_n', t.mean_shift_min_n) || CASE WHEN t.mean_shift_confidence IS NOT NULL THEN jsonb_build_object('confidence', t.mean_shift_confidence) ELSE '{}' END || CASE WHEN t.mean_shift_override IS NOT NULL THEN jsonb_build_object('override', t.mean_shift_override) || t.mean_shift_from::jsonb ELSE '{}' END AS mean_shift_check,
                       jsonb_build_object('metric', 'null_rate', 'warn', t.null_rate_warn, 'alert', t.null_rate_alert, 'min_n', t.null_rate_min_n) || CASE WHEN t.null_rate_confidence IS NOT NULL THEN jsonb_build_object('confidence', t.null_rate_confidence) ELSE '{}' END || CASE WHEN t.null_rate_override IS NOT NULL THEN jsonb_build_object('override', t.null_rate_override) || t.null_rate_from::jsonb ELSE '{}' END AS null_rate_check,
                       jsonb_build_object('metric', 'out_of_range', 'warn', t.out_of_range_warn, 'alert', t.out_of_range_alert, 'min_n', t.out_of_range_min_n) || CASE WHEN t.out_of_range_confidence IS NOT NULL THEN jsonb_build_object('confidence', t.out_of_range_confidence) ELSE '{}' END || CASE WHEN t.out_of_range_override IS NOT NULL THEN jsonb_build_object('override', t.out_of_range_override) || t.out_of_range_from::jsonb ELSE '{}' END AS out_of_range_check
      FROM (SELECT p.th_model, p.th_subject, max(e.warn) FILTER (WHERE t.metric = 'psi') AS psi_warn, max(e.alert) FILTER (WHERE t.metric = 'psi') AS psi_alert,
                   max(e.min_n) FILTER (WHERE t.metric = 'psi') AS psi_min_n, max(e.confidence) FILTER (WHERE t.metric = 'psi') AS psi_confidence,
                   max(e.warn) FILTER (WHERE t.metric = 'ks') AS ks_warn, max(e.alert) FILTER (WHERE t.metric = 'ks') AS ks_alert,
                   max(e.min_n) FILTER (WHERE t.metric = 'ks') AS ks_min_n, max(e.confidence) FILTER (WHERE t.metric = 'ks') AS ks_confidence,
                   max(e.warn) FILTER (WHERE t.metric = 'js') AS js_warn, max(e.alert) FILTER (WHERE t.metric = 'js') AS js_alert,
                   max(e.min_n) FILTER (WHERE t.metric = 'js') AS js_min_n, max(e.confidence) FILTER (WHERE t.metric = 'js') AS js_confidence,
                   max(e.warn) FILTER (WHERE t.metric = 'mean_shift') AS mean_shift_warn, max(e.alert) FILTER (WHERE t.metric = 'mean_shift') AS mean_shift_alert,
                   max(e.min_n) FILTER (WHERE t.metric = 'mean_shift') AS mean_shift_min_n, max(e.confidence) FILTER (WHERE t.metric = 'mean_shift') AS mean_shift_confidence,
                   max(e.warn) FILTER (WHERE t.metric = 'null_rate') AS null_rate_warn, max(e.alert) FILTER (WHERE t.metric = 'null_rate') AS null_rate_alert,
                   max(e.min_n) FILTER (WHERE t.metric = 'null_rate') AS null_rate_min_n, max(e.confidence) FILTER (WHERE t.metric = 'null_rate') AS null_rate_confidence,
                   max(e.warn) FILTER (WHERE t.metric = 'out_of_range') AS out_of_range_warn, max(e.alert) FILTER (WHERE t.metric = 'out_of_range') AS out_of_range_alert,
                   max(e.min_n) FILTER (WHERE t.metric = 'out_of_range') AS out_of_range_min_n, max(e.confidence) FILTER (WHERE t.metric = 'out_of_range') AS out_of_range_confidence,
                   max(e.override) FILTER (WHERE t.metric = 'psi') AS psi_override,
                   max(jsonb_build_object('warn_from', e.warn_from, 'alert_from', e.alert_from, 'min_n_from', e.min_n_from, 'confidence_from', e.confidence_from)::text) FILTER (WHERE t.metric = 'psi') AS psi_from,
                   max(e.override) FILTER (WHERE t.metric = 'ks') AS ks_override,
                   max(jsonb_build_object('warn_from', e.warn_from, 'alert_from', e.alert_from, 'min_n_from', e.min_n_from, 'confidence_from', e.confidence_from)::text) FILTER (WHERE t.metric = 'ks') AS ks_from,
                   max(e.override) FILTER (WHERE t.metric = 'js') AS js_override,
                   max(jsonb_build_object('warn_from', e.warn_from, 'alert_from', e.alert_from, 'min_n_from', e.min_n_from, 'confidence_from', e.confidence_from)::text) FILTER (WHERE t.metric = 'js') AS js_from,
                   max(e.override) FILTER (WHERE t.metric = 'mean_shift') AS mean_shift_override,
                   max(jsonb_build_object('warn_from', e.warn_from, 'alert_from', e.alert_from, 'min_n_from', e.min_n_from, 'confidence_from', e.confidence_from)::text) FILTER (WHERE t.metric = 'mean_shift') AS mean_shift_from,
                   max(e.override) FILTER (WHERE t.metric = 'null_rate') AS null_rate_override,
                   max(jsonb_build_object('warn_from', e.warn_from, 'alert_from', e.alert_from, 'min_n_from', e.min_n_from, 'confidence_from', e.confidence_from)::text) FILTER (WHERE t.metric = 'null_rate') AS null_rate_from,
                   max(e.override) FILTER (WHERE t.metric = 'out_of_range') AS out_of_range_override,
                   max(jsonb_build_object('warn_from', e.warn_from, 'alert_from', e.alert_from, 'min_n_from', e.min_n_from, 'confidence_from', e.confidence_from)::text) FILTER (WHERE t.metric = 'out_of_range') AS out_of_range_from
              FROM (SELECT DISTINCT b.th_model, b.th_subject, CASE WHEN b.th_model <> 0 THEN b.name END AS name
                      FROM base b) p
             CROSS JOIN pgscore.drift_thresholds t
             -- (0133) the one rule, once per set and metric
             CROSS JOIN LATERAL pgscore.effective_thresholds(p.name, t.metric, nullif(p.th_subject, '')) e
             GROUP BY p.th_model, p.th_subject) t) t
),
-- the noise floors once per distinct argument (migration 0086; a call cost 4-12 us, and one per metric, feature
-- and period, more where a level was tested, ~1 s of a 1,000-feature model's feature_drift), none at a NULL
-- confidence: KS, the mean shift and out of range by the window's and the baseline's sizes alone, the null
-- rate by the window's size and the baseline's size and null rate, JS by those sizes and the baseline's shares
-- (0094: before, the number of bins holding one, as if equal; features of the same shares share it); PSI, which
-- reads the shares too, once per feature and period below. Each at the metric's confidence c family-wise over the model's
-- features and score (0088, Sidak): each of its k at c^(1/k), so that on no drift all k stay under their floors
-- with a chance c, whatever k (at c for each, a model of 112 features had some feature at alert in 34% of windows
-- of 100); the model's k is a key of the floors too
sized AS MATERIALIZED (
    SELECT s.n, s.n_valid, coalesce(nullif(round(b.base_n * (1 - b.null_rate)), 0)::bigint, 0) AS n_base,
           b.base_n, b.null_rate, b.expected, b.family, b.th_model, b.th_subject
      FROM stats s
      JOIN base b ON b.model_id = s.model_id AND b.kind = s.kind AND b.position = s.position
     WHERE s.n > 0
),
size_floors AS MATERIALIZED (
    SELECT k.n_valid, k.n_base, k.family, k.th_model, k.th_subject,
           CASE WHEN th.ks_confidence IS NOT NULL THEN pgscore.noise_floor('ks', k.n_valid, nullif(k.n_base, 0), NULL, th.ks_confidence ^ (1 / k.family::float8)) END AS ks,
           CASE WHEN th.mean_shift_confidence IS NOT NULL THEN pgscore.noise_floor('mean_shift', k.n_valid, nullif(k.n_base, 0), NULL, th.mean_shift_confidence ^ (1 / k.family::float8)) END AS mean_shift,
           CASE WHEN th.out_of_range_confidence IS NOT NULL THEN pgscore.noise_floor('out_of_range', k.n_valid, nullif(k.n_base, 0), NULL, th.out_of_range_confidence ^ (1 / k.family::float8)) END AS out_of_range
      FROM (SELECT DISTINCT z.n_valid, z.n_base, z.family, z.th_model, z.th_subject FROM sized z WHERE z.n_valid > 0) k
      JOIN th ON th.th_model = k.th_model AND th.th_subject = k.th_subject
),
null_floors AS MATERIALIZED (
    SELECT k.n, k.base_n, k.null_rate, k.family, k.th_model, k.th_subject,
           CASE WHEN th.null_rate_confidence IS NOT NULL THEN pgscore.noise_floor('null_rate', k.n, nullif(k.base_n, 0), NULL, th.null_rate_confidence ^ (1 / k.family::float8), k.null_rate) END AS floor
      FROM (SELECT DISTINCT z.n, z.base_n, z.null_rate, z.family, z.th_model, z.th_subject FROM sized z) k
      JOIN th ON th.th_model = k.th_model AND th.th_subject = k.th_subject
),
js_floors AS MATERIALIZED (
    SELECT k.n_valid, k.n_base, k.expected, k.family, k.th_model, k.th_subject,
           CASE WHEN th.js_confidence IS NOT NULL THEN pgscore.noise_floor('js', k.n_valid, nullif(k.n_base, 0), k.expected, th.js_confidence ^ (1 / k.family::float8)) END AS js
      FROM (SELECT DISTINCT z.n_valid, z.n_base, z.expected, z.family, z.th_model, z.th_subject FROM sized z WHERE z.n_valid > 0) k
      JOIN th ON th.th_model = k.th_model AND th.th_subject = k.th_subject
),
-- what each check with a confidence says of its family (migration 0091), per model and metric: the model's k
-- (its features and score), how many of them are features, and the confidence c^(1/k) its floor is at (the one
-- the floors above are computed at), as the text its checks are built of and as jsonb; NULL at a NULL confidence
fam AS MATERIALIZED (
    SELECT f.model_id, f.th_model, f.th_subject,
           ', "family": ' || f.family || ', "family_features": ' || f.family_features || ', "check_confidence": ' || (th.psi_confidence ^ (1 / f.family::float8))::text AS psi_text,
           jsonb_build_object('family', f.family, 'family_features', f.family_features, 'check_confidence', th.psi_confidence ^ (1 / f.family::float8)) AS psi_json,
           ', "family": ' || f.family || ', "family_features": ' || f.family_features || ', "check_confidence": ' || (th.ks_confidence ^ (1 / f.family::float8))::text AS ks_text,
           jsonb_build_object('family', f.family, 'family_features', f.family_features, 'check_confidence', th.ks_confidence ^ (1 / f.family::float8)) AS ks_json,
           ', "family": ' || f.family || ', "family_features": ' || f.family_features || ', "check_confidence": ' || (th.js_confidence ^ (1 / f.family::float8))::text AS js_text,
           jsonb_build_object('family', f.family, 'family_features', f.family_features, 'check_confidence', th.js_confidence ^ (1 / f.family::float8)) AS js_json,
           ', "family": ' || f.family || ', "family_features": ' || f.family_features || ', "check_confidence": ' || (th.mean_shift_confidence ^ (1 / f.family::float8))::text AS mean_shift_text,
           jsonb_build_object('family', f.family, 'family_features', f.family_features, 'check_confidence', th.mean_shift_confidence ^ (1 / f.family::float8)) AS mean_shift_json,
           ', "family": ' || f.family || ', "family_features": ' || f.family_features || ', "check_confidence": ' || (th.null_rate_confidence ^ (1 / f.family::float8))::text AS null_rate_text,
           jsonb_build_object('family', f.family, 'family_features', f.family_features, 'check_confidence', th.null_rate_confidence ^ (1 / f.family::float8)) AS null_rate_json,
           ', "family": ' || f.family || ', "family_features": ' || f.family_features || ', "check_confidence": ' || (th.out_of_range_confidence ^ (1 / f.family::float8))::text AS out_of_range_text,
           jsonb_build_object('family', f.family, 'family_features', f.family_features, 'check_confidence', th.out_of_range_confidence ^ (1 / f.family::float8)) AS out_of_range_json
      FROM (SELECT DISTINCT b.model_id, b.family, b.family_features, b.th_model, b.th_subject FROM base b) f
      JOIN th ON th.th_model = f.th_model AND th.th_subject = f.th_subject
)
-- each metric's level and check as pgscore.judge gives them (a metric with no threshold row is left out;
-- none: NULLs), in place: a call of judge per feature and period cost ~55 us, 105,000 calls for 3,000 features
SELECT s.*,
       CASE WHEN th.complete THEN ('[' || th.js_prefix || coalesce(CASE WHEN s.js IN ('Infinity', '-Infinity', 'NaN') THEN to_jsonb(s.js)::text ELSE (s.js)::text END, 'null') || ', "n": ' || s.n_valid || CASE WHEN th.js_confidence IS NOT NULL THEN ', "floor": ' || coalesce((fl.js)::text, 'null') || fm.js_text ELSE '' END || ', "level": "' || l.js || '"'
                  || '}, ' || th.ks_prefix || coalesce(CASE WHEN s.ks IN ('Infinity', '-Infinity', 'NaN') THEN to_jsonb(s.ks)::text ELSE (s.ks)::text END, 'null') || ', "n": ' || s.n_valid || CASE WHEN th.ks_confidence IS NOT NULL THEN ', "floor": ' || coalesce((fl.ks)::text, 'null') || fm.ks_text ELSE '' END || ', "level": "' || l.ks || '"'
                  || '}, ' || th.mean_shift_prefix || coalesce(CASE WHEN abs(s.mean_shift) IN ('Infinity', '-Infinity', 'NaN') THEN to_jsonb(abs(s.mean_shift))::text ELSE (abs(s.mean_shift))::text END, 'null') || ', "n": ' || s.n_valid || CASE WHEN th.mean_shift_confidence IS NOT NULL THEN ', "floor": ' || coalesce((fl.mean_shift)::text, 'null') || fm.mean_shift_text ELSE '' END || ', "level": "' || l.mean_shift || '"'
                  || '}, ' || th.null_rate_prefix || coalesce(CASE WHEN s.null_rate - s.baseline_null_rate IN ('Infinity', '-Infinity', 'NaN') THEN to_jsonb(s.null_rate - s.baseline_null_rate)::text ELSE (s.null_rate - s.baseline_null_rate)::text END, 'null') || ', "n": ' || s.n || CASE WHEN th.null_rate_confidence IS NOT NULL THEN ', "floor": ' || coalesce((fl.null_rate)::text, 'null') || fm.null_rate_text ELSE '' END || ', "level": "' || l.null_rate || '"'
                  || '}, ' || th.out_of_range_prefix || coalesce(CASE WHEN s.out_of_range IN ('Infinity', '-Infinity', 'NaN') THEN to_jsonb(s.out_of_range)::text ELSE (s.out_of_range)::text END, 'null') || ', "n": ' || s.n_valid || CASE WHEN th.out_of_range_confidence IS NOT NULL THEN ', "floor": ' || coalesce((fl.out_of_range)::text, 'null') || fm.out_of_range_text ELSE '' END || ', "level": "' || l.out_of_range || '"'
                  || '}, ' || th.psi_prefix || coalesce(CASE WHEN s.psi IN ('Infinity', '-Infinity', 'NaN') THEN to_jsonb(s.psi)::text ELSE (s.psi)::text END, 'null') || ', "n": ' || s.n_valid || CASE WHEN th.psi_confidence IS NOT NULL THEN ', "floor": ' || coalesce((fl.psi)::text, 'null') || fm.psi_text ELSE '' END || ', "level": "' || l.psi || '"'
                  || '}]')::jsonb
            ELSE nullif(CASE WHEN l.js IS NOT NULL THEN jsonb_build_array(th.js_check || jsonb_build_object('value', s.js, 'n', s.n_valid, 'level', l.js) || CASE WHEN th.js_confidence IS NOT NULL THEN jsonb_build_object('floor', fl.js) || fm.js_json ELSE '{}' END) ELSE '[]' END
                       || CASE WHEN l.ks IS NOT NULL THEN jsonb_build_array(th.ks_check || jsonb_build_object('value', s.ks, 'n', s.n_valid, 'level', l.ks) || CASE WHEN th.ks_confidence IS NOT NULL THEN jsonb_build_object('floor', fl.ks) || fm.ks_json ELSE '{}' END) ELSE '[]' END
                       || CASE WHEN l.mean_shift IS NOT NULL THEN jsonb_build_array(th.mean_shift_check || jsonb_build_object('value', abs(s.mean_shift), 'n', s.n_valid, 'level', l.mean_shift) || CASE WHEN th.mean_shift_confidence IS NOT NULL THEN jsonb_build_object('floor', fl.mean_shift) || fm.mean_shift_json ELSE '{}' END) ELSE '[]' END
                       || CASE WHEN l.null_rate IS NOT NULL THEN jsonb_build_array(th.null_rate_check || jsonb_build_object('value', s.null_rate - s.baseline_null_rate, 'n', s.n, 'level', l.null_rate) || CASE WHEN th.null_rate_confidence IS NOT NULL THEN jsonb_build_object('floor', fl.null_rate) || fm.null_rate_json ELSE '{}' END) ELSE '[]' END
                       || CASE WHEN l.out_of_range IS NOT NULL THEN jsonb_build_array(th.out_of_range_check || jsonb_build_object('value', s.out_of_range, 'n', s.n_valid, 'level', l.out_of_range) || CASE WHEN th.out_of_range_confidence IS NOT NULL THEN jsonb_build_object('floor', fl.out_of_range) || fm.out_of_range_json ELSE '{}' END) ELSE '[]' END
                       || CASE WHEN l.psi IS NOT NULL THEN jsonb_build_array(th.psi_check || jsonb_build_object('value', s.psi, 'n', s.n_valid, 'level', l.psi) || CASE WHEN th.psi_confidence IS NOT NULL THEN jsonb_build_object('floor', fl.psi) || fm.psi_json ELSE '{}' END) ELSE '[]' END, '[]') END AS checks,
       (ARRAY['not_applicable', 'no_data', 'insufficient_data', 'ok', 'warn', 'alert'])[greatest(
               CASE l.js WHEN 'alert' THEN 6 WHEN 'warn' THEN 5 WHEN 'ok' THEN 4 WHEN 'insufficient_data' THEN 3 WHEN 'no_data' THEN 2 WHEN 'not_applicable' THEN 1 END,
               CASE l.ks WHEN 'alert' THEN 6 WHEN 'warn' THEN 5 WHEN 'ok' THEN 4 WHEN 'insufficient_data' THEN 3 WHEN 'no_data' THEN 2 WHEN 'not_applicable' THEN 1 END,
               CASE l.mean_shift WHEN 'alert' THEN 6 WHEN 'warn' THEN 5 WHEN 'ok' THEN 4 WHEN 'insufficient_data' THEN 3 WHEN 'no_data' THEN 2 WHEN 'not_applicable' THEN 1 END,
               CASE l.null_rate WHEN 'alert' THEN 6 WHEN 'warn' THEN 5 WHEN 'ok' THEN 4 WHEN 'insufficient_data' THEN 3 WHEN 'no_data' THEN 2 WHEN 'not_applicable' THEN 1 END,
               CASE l.out_of_range WHEN 'alert' THEN 6 WHEN 'warn' THEN 5 WHEN 'ok' THEN 4 WHEN 'insufficient_data' THEN 3 WHEN 'no_data' THEN 2 WHEN 'not_applicable' THEN 1 END,
               CASE l.psi WHEN 'alert' THEN 6 WHEN 'warn' THEN 5 WHEN 'ok' THEN 4 WHEN 'insufficient_data' THEN 3 WHEN 'no_data' THEN 2 WHEN 'not_applicable' THEN 1 END)] AS status,
       nullif(concat_ws(', ', CASE WHEN l.js IN ('warn', 'alert') THEN 'js' END,
                     CASE WHEN l.ks IN ('warn', 'alert') THEN 'ks' END,
                     CASE WHEN l.mean_shift IN ('warn', 'alert') THEN 'mean_shift' END,
                     CASE WHEN l.null_rate IN ('warn', 'alert') THEN 'null_rate' END,
                     CASE WHEN l.out_of_range IN ('warn', 'alert') THEN 'out_of_range' END,
                     CASE WHEN l.psi IN ('warn', 'alert') THEN 'psi' END), '') AS firing,
       greatest(CASE WHEN l.js = 'insufficient_data' THEN th.js_min_n END,
                CASE WHEN l.ks = 'insufficient_data' THEN th.ks_min_n END,
                CASE WHEN l.mean_shift = 'insufficient_data' THEN th.mean_shift_min_n END,
                CASE WHEN l.null_rate = 'insufficient_data' THEN th.null_rate_min_n END,
                CASE WHEN l.out_of_range = 'insufficient_data' THEN th.out_of_range_min_n END,
                CASE WHEN l.psi = 'insufficient_data' THEN th.psi_min_n END) AS min_n
  FROM stats s
  JOIN base b ON b.model_id = s.model_id AND b.kind = s.kind AND b.position = s.position
  JOIN th ON th.th_model = b.th_model AND th.th_subject = b.th_subject
  JOIN fam fm ON fm.model_id = b.model_id AND fm.th_model = b.th_model AND fm.th_subject = b.th_subject
 -- each metric's noise floor at the window's and the baseline's sizes (migration 0085; NULL: the window holds no
 -- value, or the metric's confidence is NULL and the thresholds alone judge it), found among the distinct ones
 -- (0086; n_base 0: a baseline of no valid value, NULL to noise_floor)
 CROSS JOIN LATERAL (SELECT coalesce(nullif(round(b.base_n * (1 - b.null_rate)), 0)::bigint, 0) AS n_base) nb
  LEFT JOIN size_floors fs ON s.n_valid > 0 AND fs.n_valid = s.n_valid AND fs.n_base = nb.n_base
                          AND fs.family = b.family AND fs.th_model = b.th_model AND fs.th_subject = b.th_subject
  LEFT JOIN null_floors fn ON s.n > 0 AND fn.n = s.n AND fn.base_n = b.base_n AND fn.null_rate = b.null_rate
                          AND fn.family = b.family AND fn.th_model = b.th_model AND fn.th_subject = b.th_subject
  LEFT JOIN js_floors fj ON s.n_valid > 0 AND fj.n_valid = s.n_valid AND fj.n_base = nb.n_base
                        AND fj.expected = b.expected AND fj.family = b.family AND fj.th_model = b.th_model
                        AND fj.th_subject = b.th_subject
 -- PSI's once per feature and period (OFFSET 0: not pulled up into each expression that reads it)
 CROSS JOIN LATERAL (SELECT CASE WHEN s.n_valid > 0 AND th.psi_confidence IS NOT NULL THEN pgscore.noise_floor('psi', s.n_valid, nullif(nb.n_base, 0), b.expected, th.psi_confidence ^ (1 / b.family::float8)) END AS psi
                     OFFSET 0) fp
 CROSS JOIN LATERAL (SELECT fp.psi, fs.ks, fj.js, fs.mean_shift, fn.floor AS null_rate, fs.out_of_range) fl
 CROSS JOIN LATERAL (SELECT CASE WHEN th.psi_min_n IS NULL THEN NULL WHEN s.n_valid = 0 THEN 'no_data' WHEN s.n_valid < th.psi_min_n THEN 'insufficient_data'
                                WHEN s.psi IS NULL THEN 'not_applicable' WHEN s.psi >= th.psi_alert AND (fl.psi IS NULL OR s.psi > fl.psi) THEN 'alert'
                                WHEN s.psi >= th.psi_warn AND (fl.psi IS NULL OR s.psi > fl.psi) THEN 'warn' ELSE 'ok' END AS psi,
                           CASE WHEN th.ks_min_n IS NULL THEN NULL WHEN s.n_valid = 0 THEN 'no_data' WHEN s.n_valid < th.ks_min_n THEN 'insufficient_data'
                                WHEN s.ks IS NULL THEN 'not_applicable' WHEN s.ks >= th.ks_alert AND (fl.ks IS NULL OR s.ks > fl.ks) THEN 'alert'
                                WHEN s.ks >= th.ks_warn AND (fl.ks IS NULL OR s.ks > fl.ks) THEN 'warn' ELSE 'ok' END AS ks,
                           CASE WHEN th.js_min_n IS NULL THEN NULL WHEN s.n_valid = 0 THEN 'no_data' WHEN s.n_valid < th.js_min_n THEN 'insufficient_data'
                                WHEN s.js IS NULL THEN 'not_applicable' WHEN s.js >= th.js_alert AND (fl.js IS NULL OR s.js > fl.js) THEN 'alert'
                                WHEN s.js >= th.js_warn AND (fl.js IS NULL OR s.js > fl.js) THEN 'warn' ELSE 'ok' END AS js,
                           CASE WHEN th.mean_shift_min_n IS NULL THEN NULL WHEN s.n_valid = 0 THEN 'no_data' WHEN s.n_valid < th.mean_shift_min_n THEN 'insufficient_data'
                                WHEN abs(s.mean_shift) IS NULL THEN 'not_applicable' WHEN abs(s.mean_shift) >= th.mean_shift_alert AND (fl.mean_shift IS NULL OR abs(s.mean_shift) > fl.mean_shift) THEN 'alert'
                                WHEN abs(s.mean_shift) >= th.mean_shift_warn AND (fl.mean_shift IS NULL OR abs(s.mean_shift) > fl.mean_shift) THEN 'warn' ELSE 'ok' END AS mean_shift,
                           CASE WHEN th.null_rate_min_n IS NULL THEN NULL WHEN s.n = 0 THEN 'no_data' WHEN s.n < th.null_rate_min_n THEN 'insufficient_data'
                                WHEN s.null_rate - s.baseline_null_rate IS NULL THEN 'not_applicable' WHEN s.null_rate - s.baseline_null_rate >= th.null_rate_alert AND (fl.null_rate IS NULL OR s.null_rate - s.baseline_null_rate > fl.null_rate) THEN 'alert'
                                WHEN s.null_rate - s.baseline_null_rate >= th.null_rate_warn AND (fl.null_rate IS NULL OR s.null_rate - s.baseline_null_rate > fl.null_rate) THEN 'warn' ELSE 'ok' END AS null_rate,
                           CASE WHEN th.out_of_range_min_n IS NULL THEN NULL WHEN s.n_valid = 0 THEN 'no_data' WHEN s.n_valid < th.out_of_range_min_n THEN 'insufficient_data'
                                WHEN s.out_of_range IS NULL THEN 'not_applicable' WHEN s.out_of_range >= th.out_of_range_alert AND (fl.out_of_range IS NULL OR s.out_of_range > fl.out_of_range) THEN 'alert'
                                WHEN s.out_of_range >= th.out_of_range_warn AND (fl.out_of_range IS NULL OR s.out_of_range > fl.out_of_range) THEN 'warn' ELSE 'ok' END AS out_of_range) l
$fn$;
COMMENT ON FUNCTION pgscore.drift_stats_of(bigint[], text) IS 'drift_stats for the model versions p_model_ids, live or not, each against its own baseline, in the periods of kind p_period_kind (window or day; NULL: both); pgscore.version_drift reads it for one version';

CREATE FUNCTION pgscore.drift_stats()
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
SELECT * FROM pgscore.drift_stats_of(ARRAY(SELECT lm.model_id FROM pgscore.live_models lm), NULL)
$fn$;
COMMENT ON FUNCTION pgscore.drift_stats() IS 'The drift metrics of every live model, feature (and score) and period (each window and each of the last 30 UTC days), with each metric''s level and the worst; read it through feature_drift, score_drift and drift_by_day';

-- drift_stats in the windows alone (0103): what firing (alerts, refresh_monitoring) judges of the live versions;
-- through drift_stats() it judged each of the 30 days as well, with their noise floors, for its filter to drop
CREATE FUNCTION pgscore.window_drift_stats()
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
ROWS 500
AS $fn$
SELECT * FROM pgscore.drift_stats_of(ARRAY(SELECT lm.model_id FROM pgscore.live_models lm), 'window')
$fn$;
COMMENT ON FUNCTION pgscore.window_drift_stats() IS 'The rows of drift_stats() in the windows alone (period_kind window): the drift of every live model, feature (and score) and window; read it through alerts';

-- drift_stats for the shadow versions (pgscore.shadow_versions) of every model with a live version, in the
-- windows: what the alerts judge of a shadow's inputs and scores, each against its own baseline
CREATE FUNCTION pgscore.shadow_drift_stats()
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
ROWS 100
AS $fn$
SELECT * FROM pgscore.drift_stats_of(ARRAY(SELECT sv.model_id FROM pgscore.shadow_versions sv
                                             JOIN pgscore.live_models lm ON lm.name = sv.name
                                            WHERE sv.model_id <> lm.model_id), 'window')
$fn$;
COMMENT ON FUNCTION pgscore.shadow_drift_stats() IS 'The drift metrics of every shadow version (pgscore.shadow_versions) of a model with a live version, per feature (and score) and window, against its own baseline; read it through alerts';

CREATE VIEW pgscore.drift_checks AS
SELECT s.model_id, s.name, s.version, s.period_kind, s.period, s.sort_order, s.kind, s.feature, s.position,
       c.metric, c.value, c.n, c.warn, c.alert, c.min_n, c.level
  FROM pgscore.drift_stats() s
 CROSS JOIN LATERAL jsonb_to_recordset(s.checks)
       c(metric text, value float8, n bigint, warn float8, alert float8, min_n integer, level text);
COMMENT ON VIEW pgscore.drift_checks IS 'Internal: one row per drift metric with its thresholds and level';
COMMENT ON COLUMN pgscore.drift_checks.n IS 'How many values of the feature (or score) the metric was judged on in the period (window or UTC day): for null_rate every prediction of the version logged in it, NULL and NaN ones included; for the others its non-NULL, non-NaN values';

-- drift_report with each row's checks (migration 0087) for the live models p_models (NULL: every one) in the
-- periods of kind p_period_kind (window or day; NULL: both): what pgscore drift reads, in the one run of
-- drift_stats_of that also gives its rows, for the checks the noise floors held back (pgscore.check_rows).
-- (0136) A function of the models asked for: through the view, pgscore drift NAME ran drift_stats() over every
-- window and day of every live model and its filter dropped the others' rows (a set-returning function takes no
-- filter), so one model's drift cost the fleet's (12 models: 4.3-6.2 s for one, as long as for all); the view is
-- drift_rows_of(NULL, NULL), its rows as before
CREATE FUNCTION pgscore.drift_rows_of(p_models text[], p_period_kind text)
RETURNS TABLE (model text, version integer, kind text, feature text, "position" integer, period_kind text,
               period text, sort_order integer, n bigint, null_rate float8, baseline_null_rate float8, mean float8,
               baseline_mean float8, mean_shift float8, out_of_range float8, psi float8, ks float8, js float8,
               status text, firing text, note text, checks jsonb)
LANGUAGE sql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
SET work_mem = '64MB'  -- (0183) as drift_stats': under a DBA's 64kB its own sort of the rows spilled 1.2 MB to disk
ROWS 2000
AS $fn$
SELECT pgscore.check_period_kind('pgscore.drift_rows_of', p_period_kind);
WITH live AS MATERIALIZED (SELECT lm.model_id, lm.name, lm.version FROM pgscore.live_models lm
                            WHERE p_models IS NULL OR lm.name = ANY (p_models))
SELECT s.name AS model, s.version, s.kind, s.feature, s.position, s.period_kind, s.period, s.sort_order,
       s.n, s.null_rate, s.baseline_null_rate, s.mean, s.baseline_mean, s.mean_shift, s.out_of_range,
       s.psi, s.ks, s.js, s.status, s.firing,
       CASE WHEN s.empty_baseline THEN 'the baseline holds no values (all NULL at training)'
            WHEN s.n = 0 THEN 'no predictions in this window'
            WHEN s.status = 'insufficient_data' THEN format('%s values, fewer than the %s needed', s.n, s.min_n)
            WHEN s.constant_baseline THEN 'constant in the baseline: mean shift undefined, any other value is out of range'
       END AS note,
       s.checks
  FROM pgscore.drift_stats_of(ARRAY(SELECT live.model_id FROM live), p_period_kind) s
UNION ALL
SELECT m.name, m.version, k.kind, NULL, NULL, 'window', w.window_name, w.sort_order,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'no_baseline', NULL,
       'deployed without training data, so there is no baseline: redeploy with --train (or X) to monitor drift',
       NULL
  FROM live m
 CROSS JOIN (VALUES ('feature'), ('score')) k(kind)
 CROSS JOIN pgscore.drift_windows w
 WHERE p_period_kind IS DISTINCT FROM 'day'
   AND NOT EXISTS (SELECT 1 FROM pgscore.baselines b WHERE b.model_id = m.model_id AND b.kind = k.kind)
$fn$;
COMMENT ON FUNCTION pgscore.drift_rows_of(text[], text) IS 'pgscore.drift_rows of the live models p_models alone (NULL: every live model; a name not live has no rows) in the periods of kind p_period_kind (window or day; NULL: both), computed for them alone: what pgscore drift NAME reads, at the cost of the models named (migration 0136)';

-- (the rows of drift_rows_of for every live model and period)
CREATE VIEW pgscore.drift_rows AS
SELECT r.model, r.version, r.kind, r.feature, r.position, r.period_kind, r.period, r.sort_order,
       r.n, r.null_rate, r.baseline_null_rate, r.mean, r.baseline_mean, r.mean_shift, r.out_of_range,
       r.psi, r.ks, r.js, r.status, r.firing, r.note, r.checks
  FROM pgscore.drift_rows_of(NULL, NULL) r;
COMMENT ON VIEW pgscore.drift_rows IS 'Internal: drift rows of every kind and period, with their status, a note and their checks';
COMMENT ON COLUMN pgscore.drift_rows.n IS 'How many predictions of the version were logged in the period (window or UTC day): the feature''s (or score''s) values, NULL and NaN ones included (null_rate is their share); NULL for a version without a baseline (status no_baseline)';
COMMENT ON COLUMN pgscore.drift_rows.checks IS 'Each drift metric checked, with its value, thresholds, level and (where its confidence is set) its confidence and noise floor, and (since 0091) its family: family (the k features and score its floor is family-wise over), family_features and check_confidence (the confidence^(1/k) its floor is at)';

-- the one definition behind feature_drift, score_drift and drift_by_day
CREATE VIEW pgscore.drift_report AS
SELECT model, version, kind, feature, position, period_kind, period, sort_order, n, null_rate, baseline_null_rate,
       mean, baseline_mean, mean_shift, out_of_range, psi, ks, js, status, firing, note
  FROM pgscore.drift_rows;
COMMENT ON VIEW pgscore.drift_report IS 'Internal: drift rows of every kind and period, with their status and a note';
COMMENT ON COLUMN pgscore.drift_report.n IS 'How many predictions of the version were logged in the period (window or UTC day): the feature''s (or score''s) values, NULL and NaN ones included (null_rate is their share); NULL for a version without a baseline (status no_baseline)';

CREATE VIEW pgscore.feature_drift AS
SELECT model, version, feature, window_name, n, psi, ks, js, mean, baseline_mean, mean_shift,
       null_rate, baseline_null_rate, out_of_range, status, firing, note
  FROM (SELECT r.*, r.period AS window_name FROM pgscore.drift_report r) r
 WHERE period_kind = 'window' AND kind = 'feature'
 ORDER BY model, position, sort_order;
COMMENT ON VIEW pgscore.feature_drift IS 'Per live model, feature and window: the current distribution of the feature in the prediction log against its training baseline';
-- its own n, feature and baseline_mean (migration outcome_words): the column dictionary's are every drift view's,
-- the score's too, and its n said "predictions, or matched outcomes"
COMMENT ON COLUMN pgscore.feature_drift.n IS 'How many predictions of the version were logged in the window: the feature''s values, NULL and NaN ones included (null_rate is their share; the drift metrics read the others); a prediction whose features pgscore.redact_log_features removed counts in score_drift''s n alone (0141)';
COMMENT ON COLUMN pgscore.feature_drift.feature IS 'Feature name';
COMMENT ON COLUMN pgscore.feature_drift.baseline_mean IS 'Mean of the feature on the training data (its values present, not NULL or NaN)';

CREATE VIEW pgscore.score_drift AS
SELECT model, version, window_name, n, psi, ks, js, mean, baseline_mean, mean_shift,
       null_rate, baseline_null_rate, out_of_range, status, firing, note
  FROM (SELECT r.*, r.period AS window_name FROM pgscore.drift_report r) r
 WHERE period_kind = 'window' AND kind = 'score'
 ORDER BY model, sort_order;
-- (its score baseline is the hold-out's only with 100 rows held out: review of migration outcome_words, whose
-- comments said so of every version deployed with a target)
COMMENT ON VIEW pgscore.score_drift IS 'Per live model and window: the distribution of its scores in the prediction log against its score baseline (the scores of the hold-out rows when it was deployed with a target and about 500 training rows or more, 100 held out, else of its training rows; its metrics'' score_baseline says which)';
-- its own n and baseline columns (migration outcome_words): the column dictionary's said "Mean of the feature on
-- the training data" and "predictions, or matched outcomes"
COMMENT ON COLUMN pgscore.score_drift.n IS 'How many predictions of the version were logged in the window: their scores, NULL and NaN ones included (null_rate is their share)';
COMMENT ON COLUMN pgscore.score_drift.baseline_mean IS 'Mean of the score baseline: the scores of the hold-out rows when the version was deployed with a target and about 500 training rows or more (100 held out), else of its training rows; its metrics'' score_baseline says which';
COMMENT ON COLUMN pgscore.score_drift.baseline_null_rate IS 'Share of NULL/NaN scores in the score baseline';

-- the days from the version's deploy (its registration's UTC day) on, or from the first that holds a value of it
-- if that is earlier (a transaction begun before the deploy that scored it, rows written back-dated): the days
-- before were listed too, as no_data, until the revision that made these views start there
CREATE VIEW pgscore.drift_by_day AS
SELECT r.model, r.version, r.kind, r.feature, r.day, r.n, r.psi, r.ks, r.js, r.mean, r.baseline_mean, r.mean_shift,
       r.null_rate, r.out_of_range, r.status, r.checks
  FROM (SELECT d.*, d.period::date AS day,
               min(d.period::date) FILTER (WHERE d.n > 0) OVER (PARTITION BY d.model, d.version) AS first_day
          FROM pgscore.drift_rows d
         WHERE d.period_kind = 'day') r
  JOIN pgscore.models m ON m.name = r.model AND m.version = r.version
 WHERE r.day >= least((m.created_at AT TIME ZONE 'UTC')::date, r.first_day)
 ORDER BY r.model, r.kind, r.position, r.day;
COMMENT ON VIEW pgscore.drift_by_day IS 'Per live model, feature (and score) and UTC day of the last 30 from the version''s deploy on: the drift metrics of that day alone';
COMMENT ON COLUMN pgscore.drift_by_day.n IS 'How many values (logged predictions) the day holds';
COMMENT ON COLUMN pgscore.drift_by_day.mean IS 'Mean of the day''s non-NULL values';
COMMENT ON COLUMN pgscore.drift_by_day.null_rate IS 'Share of NULL/NaN values among the day''s';
COMMENT ON COLUMN pgscore.drift_by_day.out_of_range IS 'Share of the day''s non-NULL values outside the baseline min..max (null_rate counts the NULL ones)';
COMMENT ON COLUMN pgscore.drift_by_day.status IS 'The worst level among the day''s metrics: alert, warn, ok; or insufficient_data, no_data, not_applicable; judged as feature_drift''s windows are, by pgscore.drift_thresholds and (where a confidence is set) the noise floors at the day''s n (checks holds each)';
COMMENT ON COLUMN pgscore.drift_by_day.checks IS 'Each drift metric of the day checked (since 0097), as window_checks and pgscore.check_rows give a window''s: its value, thresholds, level and (where its confidence is set) its confidence and noise floor, and its family: family (the k features and score its floor is family-wise over), family_features and check_confidence (the confidence^(1/k) its floor is at)';

/*
 * The class counts behind pgscore.class_drift (migration 0122): drift_counts_of's for kind 'class' alone, in the
 * windows, each part of a window read from where drift_counts_of reads it (its periods, segments and parts, the
 * same text), the log's rows through the (model_id, logged_at) index with their labels joined to the classes.
 * Through drift_counts_of, which counts every feature and the score as well, class_drift read a window from the
 * log at the cost of all of them (1,000,000 rows of 12 features, none rolled up: over 75 s, cancelled; here
 * 4.9-5.5 s).
 */
CREATE FUNCTION pgscore.class_counts_of(p_model_ids bigint[])
RETURNS TABLE (model_id bigint, period text, bin integer, n bigint)
LANGUAGE sql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
SET work_mem = '64MB'
ROWS 200
AS $fn$
WITH live AS MATERIALIZED (
    SELECT DISTINCT u.model_id FROM unnest(p_model_ids) AS u(model_id)
      JOIN pgscore.baselines b ON b.model_id = u.model_id AND b.kind = 'class'
),
classes AS MATERIALIZED (
    SELECT m.model_id, e.c, (e.i - 1)::integer AS i
      FROM live JOIN pgscore.models m ON m.model_id = live.model_id AND jsonb_typeof(m.classes) = 'array'
     CROSS JOIN LATERAL jsonb_array_elements_text(m.classes) WITH ORDINALITY AS e(c, i)
),
periods AS (
    SELECT p.*, date_trunc('day', p.bucket_from, 'UTC')
                + CASE WHEN date_trunc('day', p.bucket_from, 'UTC') = p.bucket_from THEN interval '0'
                       ELSE interval '24 hours' END AS first_day,
           date_trunc('day', p.bucket_to, 'UTC') AS end_day
      FROM pgscore.monitoring_periods p
     WHERE p.period_kind = 'window'
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
    SELECT pt.src, pt.lo, pt.hi, v.model_id, v.bin, count(*) AS n
      FROM parts pt
     CROSS JOIN live
     CROSS JOIN LATERAL (SELECT l.model_id, coalesce(k.i, -1) AS bin
                           FROM pgscore.prediction_log l
                           LEFT JOIN classes k ON k.model_id = l.model_id AND k.c = l.label
                          WHERE l.model_id = live.model_id AND l.logged_at >= pt.lo AND l.logged_at < pt.hi
                         OFFSET 0) v
     WHERE pt.src = 'log'
     GROUP BY pt.src, pt.lo, pt.hi, v.model_id, v.bin
    UNION ALL
    SELECT pt.src, pt.lo, pt.hi, r.model_id, r.bin, sum(r.n)
      FROM parts pt
     CROSS JOIN live
      JOIN pgscore.drift_rollup r ON r.model_id = live.model_id AND r.bucket >= pt.lo AND r.bucket < pt.hi
                                 AND r.kind = 'class'
     WHERE pt.src = 'bucket'
     GROUP BY pt.src, pt.lo, pt.hi, r.model_id, r.bin
    UNION ALL
    SELECT pt.src, pt.lo, pt.hi, r.model_id, r.bin, sum(r.n)
      FROM parts pt
     CROSS JOIN live
      JOIN pgscore.drift_rollup_day r ON r.model_id = live.model_id AND r.day >= pt.lo AND r.day < pt.hi
                                     AND r.kind = 'class'
     WHERE pt.src = 'day'
     GROUP BY pt.src, pt.lo, pt.hi, r.model_id, r.bin
)
SELECT c.model_id, sg.period, c.bin, sum(c.n)::bigint
  FROM segments sg
  JOIN part_counts c ON c.src = sg.src AND c.lo = sg.lo AND c.hi = sg.hi
 GROUP BY c.model_id, sg.period, c.bin
$fn$;
COMMENT ON FUNCTION pgscore.class_counts_of(bigint[]) IS 'Internal: per model version of p_model_ids with a class baseline, window and class (bin: its index in the model''s classes, from 0; -1 no label or none of them), how many predictions were logged; drift_counts_of''s kind class alone (class_drift reads it)';

/*
 * The mix of a classifier's predicted classes per live model and window against the mix at deploy (migration
 * 0122): score_drift reads a multiclass model's top-class probability, which can hold still while the class it
 * belongs to moves (a trial's model predicted 'high' for 83% of a window, 36% at deploy, its score's PSI 0.075).
 * Counted as the features and score are (rollups, then the log: class_counts_of), each logged label binned on the
 * version's class baseline (prediction_values, which the rollups read); n counts the predictions whose label is one of the model's classes,
 * n_unlabelled the others (no label logged, a binary classifier's as a rule). PSI with the shares floored at 1e-4
 * as drift_stats_of's; judged by pgscore.judge on drift_thresholds' class_mix row. A version without a class
 * baseline (a binary classifier, a model deployed without training data or before 0122) has no status.
 */
CREATE FUNCTION pgscore.class_drift_stats_of(p_model_ids bigint[])
RETURNS TABLE (model_id bigint, name text, version integer, task text, window_name text, sort_order integer,
               n bigint, n_unlabelled bigint, classes text[], shares float8[], baseline_shares float8[],
               baseline_n bigint, psi float8, largest_change_class text, largest_change float8, checks jsonb,
               status text, firing text, min_n integer)
LANGUAGE sql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
SET work_mem = '64MB'
SET extra_float_digits = 1
ROWS 50
AS $fn$
WITH live AS MATERIALIZED (
    SELECT lm.model_id, lm.name, lm.version, lm.task, ARRAY(SELECT jsonb_array_elements_text(lm.classes)) AS classes,
           b.expected, b.n AS base_n
      FROM pgscore.live_models lm
      LEFT JOIN pgscore.baselines b ON b.model_id = lm.model_id AND b.kind = 'class'
     WHERE lm.task IN ('binary', 'multiclass') AND jsonb_typeof(lm.classes) = 'array'
       AND lm.model_id = ANY (p_model_ids)
),
counts AS MATERIALIZED (
    SELECT c.model_id, c.period, c.bin, c.n
      FROM pgscore.class_counts_of(ARRAY(SELECT l.model_id FROM live l WHERE l.expected IS NOT NULL)) c
),
shares AS (
    SELECT g.*, g.k::float8 / nullif(sum(g.k) OVER w, 0) AS c, sum(g.k) OVER w AS n
      FROM (SELECT l.model_id, dw.window_name, g.i, l.classes[g.i + 1] AS class, l.expected[g.i + 1] AS e,
                   coalesce((SELECT sum(c.n) FROM counts c
                              WHERE c.model_id = l.model_id AND c.period = dw.window_name AND c.bin = g.i), 0) AS k
              FROM live l
             CROSS JOIN pgscore.drift_windows dw
             CROSS JOIN LATERAL generate_series(0, cardinality(l.expected) - 1) g(i)
             WHERE l.expected IS NOT NULL) g
    WINDOW w AS (PARTITION BY g.model_id, g.window_name)
),
mix AS (
    SELECT s.model_id, s.window_name, max(s.n)::bigint AS n,
           CASE WHEN max(s.n) > 0 THEN array_agg(s.c ORDER BY s.i) END AS shares,
           -- none of them without a prediction in the window (n 0, c NULL): greatest() skips a NULL, which made
           -- PSI that of 1e-4 shares and named the first class as the one that moved
           CASE WHEN max(s.n) > 0 THEN sum((greatest(s.c, 1e-4) - greatest(s.e, 1e-4))
                                           * ln(greatest(s.c, 1e-4) / greatest(s.e, 1e-4))) END AS psi,
           CASE WHEN max(s.n) > 0 THEN (array_agg(s.class ORDER BY abs(s.c - s.e) DESC, s.i))[1] END
               AS largest_change_class,
           CASE WHEN max(s.n) > 0 THEN (array_agg(s.c - s.e ORDER BY abs(s.c - s.e) DESC, s.i))[1] END
               AS largest_change
      FROM shares s
     GROUP BY s.model_id, s.window_name
)
SELECT l.model_id, l.name, l.version, l.task, dw.window_name, dw.sort_order,
       CASE WHEN l.expected IS NOT NULL THEN coalesce(m.n, 0) END,
       CASE WHEN l.expected IS NOT NULL
            THEN coalesce((SELECT sum(c.n) FROM counts c
                            WHERE c.model_id = l.model_id AND c.period = dw.window_name AND c.bin = -1), 0)::bigint END,
       l.classes, m.shares, l.expected, l.base_n, m.psi, m.largest_change_class, m.largest_change,
       j.checks, j.status, j.firing, j.min_n
  FROM live l
 CROSS JOIN pgscore.drift_windows dw
  LEFT JOIN mix m ON m.model_id = l.model_id AND m.window_name = dw.window_name
  LEFT JOIN LATERAL pgscore.judge(ARRAY['class_mix'], ARRAY[m.psi], ARRAY[coalesce(m.n, 0)], l.name, NULL::text) j
         ON l.expected IS NOT NULL
$fn$;
COMMENT ON FUNCTION pgscore.class_drift_stats_of(bigint[]) IS 'class_drift_stats of the live versions among p_model_ids alone (a version not live, or NULL, has no rows), computed for them alone: what pgscore.firing_of reads for the models it is given (migration 0149)';

-- every live classifier's (0149: through class_drift_stats_of, which firing_of calls for the models it names alone;
-- before, it read this and kept their rows, every live classifier's class mix counted for one name)
CREATE FUNCTION pgscore.class_drift_stats()
RETURNS TABLE (model_id bigint, name text, version integer, task text, window_name text, sort_order integer,
               n bigint, n_unlabelled bigint, classes text[], shares float8[], baseline_shares float8[],
               baseline_n bigint, psi float8, largest_change_class text, largest_change float8, checks jsonb,
               status text, firing text, min_n integer)
LANGUAGE sql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
SET work_mem = '64MB'
SET extra_float_digits = 1
ROWS 50
AS $fn$
SELECT * FROM pgscore.class_drift_stats_of(ARRAY(SELECT lm.model_id FROM pgscore.live_models lm))
$fn$;
COMMENT ON FUNCTION pgscore.class_drift_stats() IS 'Per live classifier and window: the share of each predicted class among its logged predictions against the shares at deploy (its class baseline), their PSI, the class whose share moved most, and the class_mix check; read it through pgscore.class_drift and alerts';

CREATE VIEW pgscore.class_drift AS
SELECT s.name AS model, s.version, s.task, s.window_name, s.n, s.n_unlabelled, s.classes, s.shares,
       s.baseline_shares, s.psi, s.largest_change_class, s.largest_change, s.status, s.firing,
       CASE WHEN s.baseline_shares IS NULL AND s.task = 'binary'
                THEN 'a binary classifier: its predicted class is its score above the threshold, whose drift score_drift judges; no class baseline is captured'
            WHEN s.baseline_shares IS NULL
                THEN 'no class baseline: deployed before migration 0122 or without training data; redeploy with --train (or X) to monitor the class mix'
            WHEN s.n = 0 THEN 'no predictions with a predicted class in this window'
            WHEN s.status = 'insufficient_data' THEN format('%s predictions, fewer than the %s needed', s.n, s.min_n)
       END AS note,
       s.baseline_n, s.checks
  FROM pgscore.class_drift_stats() s
 ORDER BY s.name, s.sort_order;
COMMENT ON VIEW pgscore.class_drift IS 'Per live classifier and window (migration 0122): the share of each predicted class among the predictions logged in the window against its share at deploy, their PSI and the class that moved most; a multiclass model''s top-class score can hold still while the mix moves, which score_drift does not see';
COMMENT ON COLUMN pgscore.class_drift.model IS 'Model name';
COMMENT ON COLUMN pgscore.class_drift.version IS 'The live version';
COMMENT ON COLUMN pgscore.class_drift.task IS 'multiclass, or binary (listed without a status: see note)';
COMMENT ON COLUMN pgscore.class_drift.window_name IS 'Monitoring window (pgscore.drift_windows)';
COMMENT ON COLUMN pgscore.class_drift.n IS 'How many predictions of the version logged in the window carry a predicted class (label) that is one of its classes: what shares and psi are computed over; NULL without a class baseline';
COMMENT ON COLUMN pgscore.class_drift.n_unlabelled IS 'How many predictions of the version logged in the window carry no predicted class, or one that is none of its classes: left out of the shares; NULL without a class baseline';
COMMENT ON COLUMN pgscore.class_drift.classes IS 'The model''s classes as text (as the audit log''s label holds them), in the order of predict_proba''s columns: shares and baseline_shares are in this order';
COMMENT ON COLUMN pgscore.class_drift.shares IS 'Share of each class (in the order of classes) among the window''s n predictions; NULL when n is 0 or without a class baseline';
COMMENT ON COLUMN pgscore.class_drift.baseline_shares IS 'Share of each class (in the order of classes) that the version predicted at deploy, on the rows its score baseline was drawn from (the hold-out''s, or the training rows''); NULL without a class baseline';
COMMENT ON COLUMN pgscore.class_drift.psi IS 'Population stability index over the classes: sum of (s - e) * ln(s / e) over each class''s share s now and e at deploy, both floored at 1e-4 (as the other PSI); judged as class_mix; NULL when n is 0 or without a class baseline';
COMMENT ON COLUMN pgscore.class_drift.largest_change_class IS 'The class whose share moved most from deploy (the first of the classes on a tie); NULL when n is 0';
COMMENT ON COLUMN pgscore.class_drift.largest_change IS 'That class''s share now minus its share at deploy (0.2: 20 percentage points more)';
COMMENT ON COLUMN pgscore.class_drift.status IS 'The class_mix check''s level: ok, warn, alert (by pgscore.drift_thresholds'' class_mix row, without a noise floor), no_data, insufficient_data; NULL without a class baseline (note says why)';
COMMENT ON COLUMN pgscore.class_drift.firing IS 'class_mix when status is warn or alert, else NULL';
COMMENT ON COLUMN pgscore.class_drift.note IS 'Why status is NULL, no_data or insufficient_data';
COMMENT ON COLUMN pgscore.class_drift.baseline_n IS 'How many rows the class baseline was captured from';
COMMENT ON COLUMN pgscore.class_drift.checks IS 'The class_mix check, as the other drift views give theirs: value (psi), n, warn, alert, min_n and level';

/*
 * feature_drift and score_drift for one version, live or not (a challenger deployed with --no-activate, a
 * version scored alongside the live one, an old one): its own logged predictions in each window against
 * its own baseline, captured when it was deployed; 'since deploy' (a window without a length) holds every
 * prediction it logged. The feature rows in their order, then the score's.
 */
CREATE FUNCTION pgscore.version_drift(p_model text, p_version integer)
RETURNS TABLE (model text, version integer, live boolean, kind text, feature text, window_name text, n bigint,
               psi float8, ks float8, js float8, mean float8, baseline_mean float8, mean_shift float8,
               null_rate float8, baseline_null_rate float8, out_of_range float8, status text, firing text,
               note text, checks jsonb)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
ROWS 100
AS $fn$
#variable_conflict use_column
DECLARE
    v_id   bigint;
    v_live boolean;
BEGIN
    IF p_model IS NULL OR p_version IS NULL THEN
        RAISE EXCEPTION 'pgscore.version_drift: % must not be NULL', CASE WHEN p_model IS NULL THEN 'the model' ELSE 'the version' END
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'give the model''s name and the version to read: SELECT name, version FROM pgscore.model_versions lists them';
    END IF;
    SELECT m.model_id INTO v_id FROM pgscore.models m WHERE m.name = p_model AND m.version = p_version;
    IF NOT FOUND THEN
        IF NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_model) THEN
            -- (migration 0120: in scoring's words, with its hint; it said "model 'teir' does not exist")
            RAISE EXCEPTION 'pgscore.version_drift: there is no model %', quote_literal(p_model)
                USING ERRCODE = 'undefined_object', HINT = pgscore.model_name_hint(p_model);
        END IF;
        RAISE EXCEPTION 'pgscore.version_drift: model % has no version %', quote_literal(p_model), p_version
            USING ERRCODE = 'undefined_object',
                  DETAIL = format('versions: %s', (SELECT string_agg(m.version::text, ', ' ORDER BY m.version)
                                                     FROM pgscore.models m WHERE m.name = p_model)),
                  -- (review r4 of session 71) the model named, and pg_catalog's = (pasted into a superuser's psql
                  -- session whose search_path puts the owner's public first, a plain = ran the owner's on text)
                  HINT = 'SELECT version, live FROM pgscore.model_versions WHERE name OPERATOR(pg_catalog.=) '
                         || quote_literal(p_model) || ' lists its versions';
    END IF;
    v_live := EXISTS (SELECT 1 FROM pgscore.live_models l WHERE l.model_id = v_id);
    RETURN QUERY
    SELECT r.name, r.version, v_live, r.kind, r.feature, r.period, r.n, r.psi, r.ks, r.js, r.mean, r.baseline_mean,
           r.mean_shift, r.null_rate, r.baseline_null_rate, r.out_of_range, r.status, r.firing, r.note, r.checks
      FROM (SELECT s.name, s.version, s.kind, s.feature, s.position, s.period, s.sort_order, s.n, s.psi, s.ks, s.js,
                   s.mean, s.baseline_mean, s.mean_shift, s.null_rate, s.baseline_null_rate, s.out_of_range,
                   s.status, s.firing, s.checks,
                   -- as drift_report notes them
                   CASE WHEN s.empty_baseline THEN 'the baseline holds no values (all NULL at training)'
                        WHEN s.n = 0 THEN 'no predictions of this version in this window'
                        WHEN s.status = 'insufficient_data' THEN format('%s values, fewer than the %s needed', s.n, s.min_n)
                        WHEN s.constant_baseline THEN 'constant in the baseline: mean shift undefined, any other value is out of range'
                   END AS note
              FROM pgscore.drift_stats_of(ARRAY[v_id], 'window') s
            UNION ALL
            SELECT m.name, m.version, k.kind, NULL, NULL, w.window_name, w.sort_order, NULL, NULL, NULL, NULL,
                   NULL, NULL, NULL, NULL, NULL, NULL, 'no_baseline', NULL, NULL,
                   'deployed without training data, so there is no baseline: redeploy with --train (or X) to monitor drift'
              FROM pgscore.models m
             CROSS JOIN (VALUES ('feature'), ('score')) k(kind)
             CROSS JOIN pgscore.drift_windows w
             WHERE m.model_id = v_id
               AND NOT EXISTS (SELECT 1 FROM pgscore.baselines b WHERE b.model_id = m.model_id AND b.kind = k.kind)) r
     ORDER BY r.kind = 'score', r.position, r.sort_order;
END
$fn$;
COMMENT ON FUNCTION pgscore.version_drift(text, integer) IS 'feature_drift and score_drift for one version of a model, live or not: the predictions it logged in each window against its own baseline captured at its deploy; a version not live has no row in the drift views; last (since 0097), checks: each metric checked with its thresholds, level, confidence, noise floor and family, as window_checks gives the live version''s (pgscore.check_rows reads it)';

-- Outcomes and the predictions they judge: the newest prediction of the model (any version) for the
-- entity logged at or before the outcome was observed, kept with the outcome when it was recorded (and
-- found by refresh_monitoring for a prediction logged after that: pgscore.match_outcomes); looked up in
-- the log for an outcome recorded before migration 0033 that no refresh has looked at yet.
CREATE VIEW pgscore.outcome_matches AS
SELECT o.outcome_id, o.model_name AS model, o.entity_key, o.outcome, o.observed_at, o.judged_model_id AS model_id,
       pm.version, o.predicted_at, o.judged_score AS score, o.judged_label AS label,
       o.judged_model_id IS NOT NULL AS matched
  FROM pgscore.outcomes o
  LEFT JOIN pgscore.models pm ON pm.model_id = o.judged_model_id
 WHERE o.judged_at IS NOT NULL
UNION ALL
SELECT o.outcome_id, o.model_name, o.entity_key, o.outcome, o.observed_at, p.model_id, p.version, p.logged_at,
       p.score, p.label, p.model_id IS NOT NULL
  FROM pgscore.outcomes o
  LEFT JOIN LATERAL (
        -- (the entity's predictions read by the entity's index alone, newest first, as record_outcome
        -- reads them: 0116)
        SELECT l.model_id, lm.version, l.logged_at, l.score, l.label
          FROM pgscore.prediction_log l
          JOIN pgscore.models lm ON lm.model_id = l.model_id + 0
         WHERE l.entity_key = o.entity_key AND l.logged_at <= o.observed_at AND lm.name = o.model_name
           AND l.source <> 'shadow'
         ORDER BY l.logged_at DESC
         LIMIT 1) p ON true
 WHERE o.judged_at IS NULL;
COMMENT ON VIEW pgscore.outcome_matches IS 'Every recorded outcome with the prediction it judges: the newest prediction of that model for that entity logged at or before the outcome was observed (found when the outcome was recorded, or by a later refresh_monitoring for one logged late; retention deletes the outcome with its prediction)';
COMMENT ON COLUMN pgscore.outcome_matches.outcome_id IS 'The outcome (pgscore.record_outcome returns it)';
COMMENT ON COLUMN pgscore.outcome_matches.model IS 'Model name';
COMMENT ON COLUMN pgscore.outcome_matches.entity_key IS 'The entity the outcome is about';
COMMENT ON COLUMN pgscore.outcome_matches.outcome IS 'The observed outcome: one of the model''s classes, or a number for a regressor';
COMMENT ON COLUMN pgscore.outcome_matches.observed_at IS 'When the outcome was observed';
COMMENT ON COLUMN pgscore.outcome_matches.model_id IS 'The model version row of the judged prediction; NULL when none was logged before the outcome';
COMMENT ON COLUMN pgscore.outcome_matches.version IS 'The version that made the judged prediction';
COMMENT ON COLUMN pgscore.outcome_matches.predicted_at IS 'When the judged prediction was logged';
COMMENT ON COLUMN pgscore.outcome_matches.score IS 'The judged prediction''s score';
COMMENT ON COLUMN pgscore.outcome_matches.label IS 'The judged prediction''s label, where it was logged: pgscore.predict''s; every path''s for a multiclass model (since migration 0017); score_table''s and score_chunk''s with p_label_into (since migration 0115) and rescoring''s into its p_label_column (since migration 0119), a binary classifier''s too';
COMMENT ON COLUMN pgscore.outcome_matches.matched IS 'false when no prediction of this model for this entity was logged before the outcome';

-- Each judged prediction once, with the newest outcome observed for it: an outcome recorded again for
-- the same prediction (a correction, or a job that ran twice) replaces the earlier one in the metrics;
-- outcome_matches keeps every outcome.
CREATE VIEW pgscore.judged_predictions AS
SELECT DISTINCT ON (om.model_id, om.entity_key, om.predicted_at)
       m.model_id, m.name, m.version, m.task, m.metrics, om.predicted_at, om.score, om.label, om.outcome,
       CASE WHEN m.task = 'binary' THEN (om.outcome = m.classes -> 1)::integer END AS y,
       -- (0113: an outcome stored past float8's range, 1.79769313486232e+308 as record_outcome stored float8's
       -- largest at extra_float_digits 0 before, is missing, no error; a threshold that is no float8, 0.5)
       CASE WHEN m.task = 'regression' THEN pgscore.jsonb_float8(om.outcome) END AS y_value,
       coalesce(pgscore.jsonb_float8(m.metrics -> 'threshold'), 0.5) AS threshold,
       -- appended (migration 0125): the outcome judging it, whose recorded_at places it in a window by outcome time
       om.outcome_id
  FROM pgscore.outcome_matches om
  JOIN pgscore.live_models m ON m.model_id = om.model_id
 ORDER BY om.model_id, om.entity_key, om.predicted_at, om.observed_at DESC, om.outcome_id DESC;
COMMENT ON VIEW pgscore.judged_predictions IS 'Internal: predictions of the live version that outcomes judge, each once with the newest outcome observed for it (outcome_id, since 0125), with the binary target or the regression value';
COMMENT ON COLUMN pgscore.judged_predictions.outcome_id IS 'The outcome judging the prediction (the newest observed for it): its recorded_at places the prediction in a window by outcome time (migration 0125)';

-- The same per version: every version's own predictions that outcomes judge (pgscore.outcome_version_matches),
-- each once with the newest outcome observed for it, whichever version is live. The newest outcome is picked
-- among the thin rows (no model's metrics or classes carried through the sort: with them 200,000 matches
-- sorted on disk), the model joined after; model_id is the matches' own, so that a condition on it (the shadow
-- versions', performance_stats_of) is checked as they are read, before the sort
CREATE VIEW pgscore.judged_predictions_by_version AS
SELECT d.model_id, m.name, m.version, m.task, m.metrics, d.predicted_at, d.score, d.label, d.outcome,
       CASE WHEN m.task = 'binary' THEN (d.outcome = m.classes -> 1)::integer END AS y,
       CASE WHEN m.task = 'regression' THEN pgscore.jsonb_float8(d.outcome) END AS y_value,
       coalesce(pgscore.jsonb_float8(m.metrics -> 'threshold'), 0.5) AS threshold,
       d.outcome_id  -- (appended, migration 0125: as judged_predictions')
  FROM (SELECT DISTINCT ON (vm.model_id, o.entity_key, vm.predicted_at)
               vm.model_id, vm.predicted_at, vm.score, vm.label, o.outcome, o.outcome_id
          FROM pgscore.outcome_version_matches vm
          JOIN pgscore.outcomes o ON o.outcome_id = vm.outcome_id
         ORDER BY vm.model_id, o.entity_key, vm.predicted_at, o.observed_at DESC, o.outcome_id DESC) d
  JOIN pgscore.models m ON m.model_id = d.model_id;
COMMENT ON VIEW pgscore.judged_predictions_by_version IS 'Internal: predictions of every version that outcomes judge (each outcome against each version''s own newest prediction of the entity before it), each once with the newest outcome observed for it (outcome_id, since 0125)';
COMMENT ON COLUMN pgscore.judged_predictions_by_version.outcome_id IS 'The outcome judging the prediction (the newest observed for it): its recorded_at places the prediction in a window by outcome time (migration 0125)';

-- Realised performance per live model and period (p_by_version false: each outcome against the newest
-- prediction of any version, judged_predictions), or per version (true: each outcome against each
-- version's own, judged_predictions_by_version; every version an outcome judges, and each live one): a
-- SECURITY DEFINER function with JIT off, for the reasons given at drift_stats(). Each judged prediction is
-- put in the periods that hold it (a window by its bounds, a day by the day it was made: a hash join, where
-- comparing it with each of the 35 periods cost 1.8 s for 200,000), each period named by a number, and only
-- what the metrics read is carried through the sort by period and score (it went to disk with every
-- column of judged_predictions and text period names; and work_mem is raised as drift_stats_of's is):
-- realised_performance_by_version for 200,000 judged predictions, see docs/performance.md ("Per version").
-- Its checks' values are written at extra_float_digits 1 (migration 0087), as drift_stats_of's are: at a
-- session's 0 they had 15 digits, and a value just under its threshold read as at it.
-- (migration 0125) A third kind, outcome_window, asked for by name alone (NULL gives window and day, as before):
-- each window again, holding the judged predictions whose outcome was recorded (outcomes.recorded_at) within
-- it, whenever they were made. Outcomes that arrive one or two weeks late judge predictions the windows by
-- prediction time have moved past (or blend into weeks of others); by outcome time they are judged, and alert,
-- when they arrive. recorded_at, not observed_at: an outcome recorded today with p_observed_at a week back has
-- arrived today, and is judged in today's windows.
CREATE FUNCTION pgscore.performance_stats_of(p_by_version boolean, p_model_ids bigint[], p_period_kind text)
RETURNS TABLE (model_id bigint, name text, version integer, task text, period_kind text, period text,
               sort_order integer, n bigint, positives bigint, auc float8, accuracy float8, "precision" float8,
               recall float8, brier float8, log_loss float8, mae float8, rmse float8, deploy_auc float8,
               deploy_accuracy float8, deploy_brier float8, deploy_log_loss float8, deploy_mae float8,
               deploy_rmse float8, checks jsonb, status text, firing text, min_n integer, unmatched_outcomes bigint)
LANGUAGE sql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
SET work_mem = '64MB'
SET extra_float_digits = 1
ROWS 100
AS $fn$
-- (outcome_window and both_windows are this function's alone: the drift functions count values logged, which have
-- no outcome; check_period_kind names them for this function)
SELECT pgscore.check_period_kind('pgscore.performance_stats_of', p_period_kind);
WITH periods AS MATERIALIZED (
    SELECT q.*, row_number() OVER ()::integer AS pid
      FROM (SELECT mp.period_kind, mp.period, mp.sort_order, mp.starts, mp.ends FROM pgscore.monitoring_periods mp
             WHERE p_period_kind IS NULL OR mp.period_kind = p_period_kind
                OR (p_period_kind = 'both_windows' AND mp.period_kind = 'window')
            UNION ALL
            -- (0125) the windows again, by when the outcomes were recorded (both_windows: alerts' one pass)
            SELECT 'outcome_window', mp.period, mp.sort_order, mp.starts, mp.ends FROM pgscore.monitoring_periods mp
             WHERE p_period_kind IN ('outcome_window', 'both_windows') AND mp.period_kind = 'window') q),
jp AS MATERIALIZED (
    SELECT x.model_id, x.task, x.predicted_at, x.score, x.y, x.y_value, x.threshold,
           x.label = x.outcome #>> '{}' AS label_right, x.outcome_id
      FROM (SELECT * FROM pgscore.judged_predictions WHERE NOT p_by_version
            UNION ALL
            SELECT * FROM pgscore.judged_predictions_by_version WHERE p_by_version) x
     -- (through the by-version view's DISTINCT ON to the matches' scan: only the versions asked for are sorted)
     WHERE p_model_ids IS NULL OR x.model_id = ANY (p_model_ids)
),
j AS (
    SELECT jp.*, p.pid
      FROM jp JOIN periods p ON p.period_kind = 'window' AND jp.predicted_at >= p.starts AND jp.predicted_at < p.ends
    UNION ALL
    -- a day period is [d, d + 24 hours) from a UTC midnight d (monitoring_periods): the day the prediction was made
    SELECT jp.*, p.pid
      FROM jp JOIN periods p ON p.period_kind = 'day' AND p.starts = date_trunc('day', jp.predicted_at, 'UTC')
    UNION ALL
    -- (0125) an outcome window by its judging outcome's recorded_at (read only when outcome windows are asked for)
    SELECT jp.*, p.pid
      FROM jp JOIN pgscore.outcomes o ON o.outcome_id = jp.outcome_id
      JOIN periods p ON p.period_kind = 'outcome_window' AND o.recorded_at >= p.starts AND o.recorded_at < p.ends
     WHERE p_period_kind IN ('outcome_window', 'both_windows')
),
r AS (
    SELECT j.*, rank() OVER (PARTITION BY j.model_id, j.pid ORDER BY j.score)
               + (count(*) OVER (PARTITION BY j.model_id, j.pid, j.score) - 1) / 2.0 AS score_rank,
           -- (migration 0112) a regressor's absolute error as the MAE and RMSE sum it: past 1e140 at 1e140, below
           -- 1e-140 at 0, a NaN or infinite score's NaN or infinity. avg(abs(e)) and sqrt(avg(e ^ 2)) raised 22003
           -- (and failed performance_stats, every realised-performance view and alerts for every model) at an error
           -- past 1.3e154 (its square), a nonzero one below 1e-162 (its square underflows), errors past 1e77 (avg()
           -- of float8 keeps their sum of squares), or a score and an outcome past float8's range apart: one outcome
           -- recorded wrong or one absurd prediction. (The bounds keep a sum of 1e28 squares and its quotient by the
           -- count within float8's range.)
           CASE WHEN a.e = 'NaN' OR a.e = 'Infinity' THEN a.e WHEN a.e > 1e140 THEN 1e140 WHEN a.e < 1e-140 THEN 0
                ELSE a.e END AS abs_error
      FROM j
     CROSS JOIN LATERAL (
           -- of opposite signs with one past 1e140, the error is past it too: the difference is not computed
           SELECT CASE WHEN j.y_value IS NULL OR j.score IS NULL THEN NULL  -- (a classifier's: none)
                       WHEN j.score = 'NaN' THEN 'NaN'::float8
                       WHEN j.score IN ('Infinity'::float8, '-Infinity'::float8) THEN 'Infinity'::float8
                       WHEN (j.score >= 0) = (j.y_value >= 0) OR (abs(j.score) <= 1e140 AND abs(j.y_value) <= 1e140)
                       THEN abs(j.score - j.y_value) ELSE 1e140 END AS e) a
),
s0 AS (  -- AUC from the rank sum of the positives (Mann-Whitney); log loss clipped at float64 eps like scikit-learn
    SELECT r.model_id, r.pid, count(*) AS n, sum(r.y) AS positives,
           ((sum(r.score_rank) FILTER (WHERE r.y = 1) - sum(r.y) * (sum(r.y) + 1) / 2.0)
                / nullif(sum(r.y) * (count(*) - sum(r.y)), 0))::float8 AS auc,
           -- positive above the threshold: a score of exactly 0.5 is the negative class, as predict gives it
           (CASE WHEN min(r.task) = 'binary' THEN avg(((r.score > r.threshold)::integer = r.y)::integer)
                 WHEN min(r.task) = 'multiclass' THEN avg(r.label_right::integer) END)::float8 AS accuracy,
           -- binary only: a multiclass model has no positive class (y is NULL), where these gave 0
           CASE WHEN min(r.task) = 'binary' THEN sum(((r.score > r.threshold) AND r.y = 1)::integer)::float8
               / nullif(sum((r.score > r.threshold)::integer), 0) END AS "precision",
           CASE WHEN min(r.task) = 'binary'
                THEN sum(((r.score > r.threshold) AND r.y = 1)::integer)::float8 / nullif(sum(r.y), 0) END AS recall,
           -- (0113) a binary classifier's squared error, where the score is within 1e-150 of the outcome, is 0;
           -- past 1e140 from it (a broken model's score), 1e280: a probability below 1.5e-162 of a negative (a
           -- logistic model's at a decision value under -372) squared to below float8's range, 22003, and every
           -- model's realised-performance views, alerts and refresh_monitoring failed. As a sum over the count,
           -- avg()'s float8 (avg() keeps a sum of squares, past float8 at 1e280). Here, not in r: carried through
           -- r's sort it cost more than it does
           sum(CASE WHEN abs(r.score - r.y) BETWEEN 1e-150 AND 1e140 THEN (r.score - r.y) ^ 2
                    WHEN r.score = 'NaN' OR abs(r.score - r.y) = 'Infinity' THEN abs(r.score - r.y)
                    WHEN abs(r.score - r.y) < 1e-150 THEN 0
                    WHEN abs(r.score - r.y) > 1e140 THEN 1e280 END) / nullif(count(r.score - r.y), 0) AS brier,
           -avg(r.y * ln(least(greatest(r.score, 2.220446049250313e-16), 1 - 2.220446049250313e-16))
                + (1 - r.y) * ln(1 - least(greatest(r.score, 2.220446049250313e-16), 1 - 2.220446049250313e-16))) AS log_loss,
           -- (0112) as a sum over the count, the same float8 as avg()'s where it did not overflow
           sum(r.abs_error) / nullif(count(r.abs_error), 0) AS mae,
           sqrt(sum(r.abs_error ^ 2) / nullif(count(r.abs_error), 0)) AS rmse
      FROM r
     GROUP BY r.model_id, r.pid
),
s AS (SELECT s0.*, p.period_kind, p.period FROM s0 JOIN periods p ON p.pid = s0.pid),
-- the live versions; per version also every version an outcome judges (from jp, whatever the periods asked
-- for: a version whose judged predictions are all older than the 30 days still has its rows of the windows)
versions AS (
    SELECT lm.model_id FROM pgscore.live_models lm WHERE p_model_ids IS NULL OR lm.model_id = ANY (p_model_ids)
    UNION
    SELECT jp.model_id FROM jp WHERE p_by_version
    UNION
    -- and each version of a model with outcomes recorded that logged a prediction none of them judges (migration
    -- 0090): outcomes recorded under the wrong key left it out, and with it the unmatched_outcomes that say why;
    -- its rows have n 0 and status no_data (two index probes a version: outcomes by name, the log by model_id;
    -- OFFSET 0 keeps each a probe of the versions asked for: pulled up into semi-joins, the whole log was read and
    -- hashed by model_id first, 221 ms at 1,000,000 rows, in every alerts and refresh_monitoring through
    -- shadow_performance_stats even with no shadow set; migration 0103)
    SELECT m.model_id FROM pgscore.models m
     WHERE p_by_version AND (p_model_ids IS NULL OR m.model_id = ANY (p_model_ids))
       AND EXISTS (SELECT 1 FROM pgscore.outcomes o WHERE o.model_name = m.name OFFSET 0)
       AND EXISTS (SELECT 1 FROM pgscore.prediction_log l WHERE l.model_id = m.model_id OFFSET 0)
),
base AS (
    SELECT m.model_id, m.name, m.version, m.task, p.period_kind, p.period, p.sort_order,
           coalesce(s.n, 0) AS n, s.positives, s.auc, s.accuracy, s."precision", s.recall, s.brier, s.log_loss,
           s.mae, s.rmse,
           -- (0113) a deploy metric that is no number in float8's range (a hand edit: 1e400, "abc") is missing
           pgscore.jsonb_float8(m.metrics -> 'auc') AS deploy_auc,
           pgscore.jsonb_float8(m.metrics -> 'accuracy') AS deploy_accuracy,
           pgscore.jsonb_float8(m.metrics -> 'brier') AS deploy_brier,
           pgscore.jsonb_float8(m.metrics -> 'log_loss') AS deploy_log_loss,
           pgscore.jsonb_float8(m.metrics -> 'mae') AS deploy_mae, pgscore.jsonb_float8(m.metrics -> 'rmse') AS deploy_rmse
      FROM versions v
      JOIN pgscore.models m ON m.model_id = v.model_id
     CROSS JOIN periods p
      LEFT JOIN s ON s.model_id = m.model_id AND s.period_kind = p.period_kind AND s.period = p.period
),
-- once per model, not once per model and period (each reads every outcome: 35 times over, 2.9 s for 1,000);
-- per version: the model's outcomes that judge no prediction of the version
unmatched AS MATERIALIZED (
    SELECT om.model, NULL::bigint AS model_id, count(*) AS n
      FROM pgscore.outcome_matches om WHERE NOT om.matched AND NOT p_by_version GROUP BY om.model
    UNION ALL
    SELECT t.model_name, v.model_id, t.n - coalesce(k.n, 0)
      FROM (SELECT o.model_name, count(*) AS n FROM pgscore.outcomes o WHERE p_by_version GROUP BY o.model_name) t
      JOIN pgscore.models vm ON vm.name = t.model_name
      JOIN versions v ON v.model_id = vm.model_id
      LEFT JOIN (SELECT c.model_id, count(*) AS n FROM pgscore.outcome_version_matches c
                  WHERE p_by_version GROUP BY c.model_id) k ON k.model_id = v.model_id
)
SELECT b.model_id, b.name, b.version, b.task, b.period_kind, b.period, b.sort_order, b.n, b.positives, b.auc,
       b.accuracy, b."precision", b.recall, b.brier, b.log_loss, b.mae, b.rmse, b.deploy_auc, b.deploy_accuracy,
       b.deploy_brier, b.deploy_log_loss, b.deploy_mae, b.deploy_rmse, c.checks, c.status, c.firing, c.min_n,
       coalesce((SELECT u.n FROM unmatched u WHERE u.model = b.name
                    AND u.model_id IS NOT DISTINCT FROM CASE WHEN p_by_version THEN b.model_id END), 0)
           AS unmatched_outcomes
  FROM base b
 -- each metric's confidence (drift_thresholds; NULL: judged by the threshold alone) and noise floor at the window's
 -- outcomes, against the deploy metric (migration 0085), measured on the hold-out's rows (migration 0098: its
 -- own sampling noise counts too, as the baseline's does in the drift floors; a model registered without
 -- holdout_rows in its metrics is judged as before, its deploy metric as exact). AUC's floor is the window's
 -- and the hold-out's Hanley-McNeil errors combined (the hold-out's positives as recorded, else at the
 -- window's share of positives), since 0111 both at no more than the AUC Laplace's rule gives the hold-out's
 -- smaller class (ho.auc), the window's also at its own where it has 4 or fewer (noise_floor). Not capped at the
 -- deploy AUC (0107 did, in a subquery the planner pulled up, calling noise_floor twice a term): judge flags only
 -- above the floor and no drop exceeds the deploy AUC, so the cap changed no level
 -- (0129) the model's own confidence where an override sets one (pgscore.drift_threshold_overrides), as judge
 -- reads it
 -- (0133: through the one rule, pgscore.effective_thresholds, once per model)
 CROSS JOIN LATERAL (SELECT max(e.confidence) FILTER (WHERE e.metric = 'auc_drop') AS auc_drop,
                            max(e.confidence) FILTER (WHERE e.metric = 'accuracy_drop') AS accuracy_drop,
                            max(e.confidence) FILTER (WHERE e.metric = 'brier_rise') AS brier_rise,
                            max(e.confidence) FILTER (WHERE e.metric = 'rmse_rise') AS rmse_rise
                       FROM pgscore.drift_thresholds t
                      CROSS JOIN LATERAL pgscore.effective_thresholds(b.name, t.metric, NULL) e
                      WHERE t.metric IN ('auc_drop', 'accuracy_drop', 'brier_rise', 'rmse_rise')) cf
 -- (migration 0111) auc: the AUC both auc_drop terms are taken at, the deploy AUC but at most the Laplace AUC of the
 -- hold-out's smaller class, (m + 1) / (m + 2): the deploy AUC is as sure as the hold-out it was measured on (0107
 -- took each term's own smaller class, and a window of 5-98 positives at deploy AUCs of 0.95-0.99 got a floor far
 -- too high); without a hold-out the deploy AUC, as exact
 CROSS JOIN LATERAL (SELECT p.n_holdout, p.error_kurtosis, p.positives,
                            -- (least() passes over a NULL deploy AUC: a model without one has no floor)
                            -- (0113: a deploy AUC below 1e-150 at 0, which noise_floor's AUC squared underflowed)
                            CASE WHEN b.deploy_auc IS NOT NULL
                                 THEN least(CASE WHEN b.deploy_auc < 1e-150 THEN 0 ELSE b.deploy_auc END,
                                            (least(p.positives, p.n_holdout - p.positives) + 1.0)
                                            / (least(p.positives, p.n_holdout - p.positives) + 2.0)) END AS auc
                       FROM (SELECT h.n_holdout,
                            -- (least() passes over a NULL)
                            CASE WHEN h.n_holdout IS NOT NULL AND h.error_kurtosis IS NOT NULL
                                 THEN least(h.error_kurtosis, h.n_holdout) END AS error_kurtosis,
                            CASE WHEN b.n > 0 AND b.positives > 0 AND b.positives < b.n AND h.n_holdout > 1
                                 THEN greatest(1, least(h.n_holdout - 1,
                                          coalesce(h.positives, round(h.n_holdout::numeric * b.positives / b.n)::bigint)))
                            END AS positives
                       -- (a count that is not a whole number in bigint's range, 1e30 by a hand edit, is none:
                       -- its cast failed the views for every model; rows without one are judged as before 0098,
                       -- positives without one at the window's share)
                       FROM (SELECT CASE WHEN jsonb_typeof(m.metrics -> 'holdout_rows') = 'number'
                                         THEN CASE WHEN (m.metrics -> 'holdout_rows')::numeric BETWEEN 1 AND 9.2e18
                                                        AND (m.metrics -> 'holdout_rows')::numeric % 1 = 0
                                                   THEN (m.metrics -> 'holdout_rows')::numeric::bigint END
                                    END AS n_holdout,
                                    CASE WHEN jsonb_typeof(m.metrics -> 'holdout_positives') = 'number'
                                         THEN CASE WHEN (m.metrics -> 'holdout_positives')::numeric BETWEEN 0 AND 9.2e18
                                                        AND (m.metrics -> 'holdout_positives')::numeric % 1 = 0
                                                   THEN (m.metrics -> 'holdout_positives')::numeric::bigint END
                                    END AS positives,
                                    -- (0108) a kurtosis is at least 1 (mean(e^4) >= mean(e^2)^2): below, none
                                    CASE WHEN jsonb_typeof(m.metrics -> 'error_kurtosis') = 'number'
                                         THEN CASE WHEN (m.metrics -> 'error_kurtosis')::numeric BETWEEN 1 AND 9.2e18
                                                   THEN (m.metrics -> 'error_kurtosis')::numeric::float8 END
                                    END AS error_kurtosis
                               FROM pgscore.models m WHERE m.model_id = b.model_id) h) p) ho
 -- (migration 0108) rmse_rise's floor for heavy-tailed errors: the F of the MSE ratio at effective degrees of
 -- freedom n 2 / (kappa - 1) and n_base 2 / (kappa - 1) (Box and Andersen's: var(ln MSE) is (kappa - 1) / n, 2 / n
 -- at the normal's kappa of 3), kappa the errors' kurtosis about 0 of the hold-out (error_kurtosis, stored at
 -- deploy, at most its rows), at least 3: never below 0106's floor. Nothing of the window's own shape: pooled with
 -- the window's kurtosis (Layard's), the few huge errors that raise a window's RMSE raised its kurtosis as much
 -- and the floor with it, and a regressor that began to make them was judged ok (1% of 1,000 rows at 30 times the
 -- error: RMSE +212%, floor 797). scripts/rmse_floor_noise.py: no-drift windows of Student t at 3-5 df, Laplace
 -- and lognormal errors crossed 0.999's floor 1.8-64 times as often as it says at this kappa, 20-200 at 0106's.
 -- A model without error_kurtosis (deployed before 0108, or without a hold-out) keeps 0106's floor; the degrees
 -- of freedom are rounded down (a higher floor), at least 1
 CROSS JOIN LATERAL (SELECT CASE WHEN ho.error_kurtosis IS NOT NULL
                                 THEN 2 / (greatest(3, ho.error_kurtosis) - 1) END AS dof) tl
 -- (migration 0113) the rates pooled with the hold-out's rows as noise_floor takes them, within 0..1 (a NaN at 1),
 -- and below 1e-150 at 0: a hand-edited deploy accuracy or Brier of 1e300 times a hold-out of 9e18 rows
 -- overflowed, one of 1e-320 over them underflowed, and so did noise_floor's variance of a Brier below ~1e-300:
 -- 22003, every model's views failed (values within 0..1, the floors as before)
 CROSS JOIN LATERAL (SELECT CASE WHEN b.deploy_accuracy > 1 THEN 1 WHEN b.deploy_accuracy < 1e-150 THEN 0
                                 ELSE b.deploy_accuracy END AS deploy_accuracy,
                            CASE WHEN b.deploy_brier > 1 THEN 1 WHEN b.deploy_brier < 1e-150 THEN 0
                                 ELSE b.deploy_brier END AS deploy_brier,
                            CASE WHEN b.brier = 'NaN' THEN b.brier WHEN b.brier > 1 THEN 1 WHEN b.brier < 1e-150 THEN 0
                                 ELSE b.brier END AS brier) rt
 CROSS JOIN LATERAL (SELECT CASE WHEN b.n > 0 THEN sqrt(pgscore.noise_floor('auc_drop', b.n, NULL, NULL, cf.auc_drop, ho.auc, b.positives) ^ 2
                                                        + coalesce(CASE WHEN ho.positives IS NOT NULL THEN pgscore.noise_floor('auc_drop', ho.n_holdout, NULL, NULL, cf.auc_drop, ho.auc, ho.positives) END ^ 2, 0)) END AS auc_drop,
                            -- (migration 0101) with a hold-out, at the accuracy of the window and hold-out pooled:
                            -- at the hold-out's alone, one of 100 rows with few errors put the floor low, and
                            -- no-drift windows crossed it 9-34 times as often as the confidence says at 0.95
                            CASE WHEN b.n > 0 THEN pgscore.noise_floor('accuracy_drop', b.n, ho.n_holdout, NULL, cf.accuracy_drop,
                                CASE WHEN ho.n_holdout IS NOT NULL AND b.accuracy IS NOT NULL
                                     THEN (rt.deploy_accuracy * ho.n_holdout + b.accuracy * b.n) / (ho.n_holdout + b.n)
                                     ELSE b.deploy_accuracy END) END AS accuracy_drop,
                            -- (0101) Brier's likewise: at a hold-out of 100 rows and 5% positives, 0.0086-0.0116 of
                            -- no-drift windows were over the floor at the hold-out's Brier score, 0-0.001 pooled
                            CASE WHEN b.n > 0 THEN pgscore.noise_floor('brier_rise', b.n, ho.n_holdout, NULL, cf.brier_rise,
                                CASE WHEN ho.n_holdout IS NOT NULL AND b.brier IS NOT NULL
                                     THEN (rt.deploy_brier * ho.n_holdout + rt.brier * b.n) / (ho.n_holdout + b.n)
                                     ELSE rt.deploy_brier END) END AS brier_rise,
                            CASE WHEN b.n > 0 THEN pgscore.noise_floor('rmse_rise',
                                CASE WHEN tl.dof < 1 THEN greatest(1, floor(b.n * tl.dof))::bigint ELSE b.n END,
                                CASE WHEN tl.dof < 1 THEN greatest(1, floor(ho.n_holdout * tl.dof))::bigint ELSE ho.n_holdout END,
                                NULL, cf.rmse_rise, b.deploy_rmse) END AS rmse_rise) fl
 CROSS JOIN LATERAL pgscore.judge(
        CASE b.task WHEN 'binary' THEN ARRAY['auc_drop', 'accuracy_drop', 'brier_rise']
                    WHEN 'multiclass' THEN ARRAY['accuracy_drop'] ELSE ARRAY['rmse_rise'] END,
        CASE b.task WHEN 'binary' THEN ARRAY[b.deploy_auc - b.auc, b.deploy_accuracy - b.accuracy, b.brier - b.deploy_brier]
                    WHEN 'multiclass' THEN ARRAY[b.deploy_accuracy - b.accuracy]
                    -- (a hold-out RMSE of 0, a tree fitted to an integer target: any error in service is a rise)
                    -- (no hold-out RMSE at all, a regressor deployed without a target: nothing to compare)
                    -- (0112) a hand-edited deploy RMSE taken within 1e-150..1e150 in magnitude (NaN and infinities as
                    -- they are): the window's, at most 1e140, over one of 1e-300 overflowed (22003, every model's
                    -- views failed), and a nonzero one of 1e-140 over 1e300 underflows
                    ELSE ARRAY[CASE WHEN b.deploy_rmse <> 0
                                    THEN b.rmse / CASE WHEN b.deploy_rmse = 'NaN' OR abs(b.deploy_rmse) = 'Infinity' THEN b.deploy_rmse
                                                       WHEN abs(b.deploy_rmse) < 1e-150 THEN sign(b.deploy_rmse) * 1e-150
                                                       WHEN abs(b.deploy_rmse) > 1e150 THEN sign(b.deploy_rmse) * 1e150
                                                       ELSE b.deploy_rmse END - 1
                                    WHEN b.deploy_rmse = 0 THEN CASE WHEN b.rmse > 0 THEN 1e300
                                                                     WHEN b.rmse = 0 THEN 0 END END] END,
        array_fill(b.n, ARRAY[CASE b.task WHEN 'binary' THEN 3 ELSE 1 END]),
        CASE b.task WHEN 'binary' THEN ARRAY[fl.auc_drop, fl.accuracy_drop, fl.brier_rise]
                    WHEN 'multiclass' THEN ARRAY[fl.accuracy_drop] ELSE ARRAY[fl.rmse_rise] END,
        b.name, NULL::text) c
$fn$;
COMMENT ON FUNCTION pgscore.performance_stats_of(boolean, bigint[], text) IS 'performance_stats(p_by_version) for the model versions p_model_ids alone (NULL: every one it gives) in the periods of kind p_period_kind (window or day; NULL: both; since 0125 outcome_window, by name alone: each window holding the judged predictions whose outcome was recorded within it, whenever made; both_windows: window and outcome_window in one pass, as alerts reads them): their rows as performance_stats gives them, without ranking the predictions of other versions or periods; the views of realised performance read it for the periods they report (realised_performance and alerts the windows, realised_performance_by_outcome_time the outcome windows, alerts both_windows, performance_by_day the days), shadow_performance_stats for the shadow versions';

CREATE FUNCTION pgscore.performance_stats(p_by_version boolean)
RETURNS TABLE (model_id bigint, name text, version integer, task text, period_kind text, period text,
               sort_order integer, n bigint, positives bigint, auc float8, accuracy float8, "precision" float8,
               recall float8, brier float8, log_loss float8, mae float8, rmse float8, deploy_auc float8,
               deploy_accuracy float8, deploy_brier float8, deploy_log_loss float8, deploy_mae float8,
               deploy_rmse float8, checks jsonb, status text, firing text, min_n integer, unmatched_outcomes bigint)
LANGUAGE sql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
SET work_mem = '64MB'
ROWS 100
AS $fn$
SELECT * FROM pgscore.performance_stats_of(p_by_version, NULL, NULL)
$fn$;
COMMENT ON FUNCTION pgscore.performance_stats(boolean) IS 'Realised performance of every live model (p_by_version false) or of every version outcomes judge and every live one (true: each outcome against each version''s own prediction) per period, next to its deploy metrics, with the checks; read it through realised_performance, performance_by_day and realised_performance_by_version';

CREATE FUNCTION pgscore.performance_stats()
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
SELECT * FROM pgscore.performance_stats(false)
$fn$;
COMMENT ON FUNCTION pgscore.performance_stats() IS 'Realised performance of every live model and period next to its deploy metrics, with the checks; read it through realised_performance and performance_by_day';

-- performance_stats(true) for the shadow versions (pgscore.shadow_versions) of every model with a live version, in
-- the windows: what the alerts judge of a shadow's realised performance. Only the shadows' own judged predictions
-- are ranked: reading performance_stats(true) whole ranked every version's in every period, the live one's
-- among them, and tripled what the alerts cost with a shadow set (docs/performance.md, "Shadow alerts")
CREATE FUNCTION pgscore.shadow_performance_stats()
RETURNS TABLE (model_id bigint, name text, version integer, task text, period_kind text, period text,
               sort_order integer, n bigint, positives bigint, auc float8, accuracy float8, "precision" float8,
               recall float8, brier float8, log_loss float8, mae float8, rmse float8, deploy_auc float8,
               deploy_accuracy float8, deploy_brier float8, deploy_log_loss float8, deploy_mae float8,
               deploy_rmse float8, checks jsonb, status text, firing text, min_n integer, unmatched_outcomes bigint)
LANGUAGE sql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
SET work_mem = '64MB'
ROWS 100
AS $fn$
SELECT * FROM pgscore.performance_stats_of(true, ARRAY(SELECT sv.model_id FROM pgscore.shadow_versions sv
                                                         JOIN pgscore.live_models lm ON lm.name = sv.name
                                                        WHERE sv.model_id <> lm.model_id), 'window')
$fn$;
COMMENT ON FUNCTION pgscore.shadow_performance_stats() IS 'The realised performance of every shadow version (pgscore.shadow_versions) of a model with a live version, per window, by its own predictions (as performance_stats(true) gives it); read it through alerts';

-- realised_performance with each row's window order and checks (migration 0087) for the live models p_models
-- (NULL: every one): what pgscore drift reads, in the one run of performance_stats_of that also gives its rows,
-- for the checks the noise floors held back. (0136) A function of the models asked for, as drift_rows_of is: the
-- view's filter came after every live model's realised performance was computed; the view is
-- performance_rows_of(NULL), its rows as before
CREATE FUNCTION pgscore.performance_rows_of(p_models text[])
RETURNS TABLE (model text, version integer, task text, window_name text, n bigint, positives bigint, auc float8,
               accuracy float8, "precision" float8, recall float8, brier float8, log_loss float8, mae float8,
               rmse float8, deploy_auc float8, deploy_accuracy float8, deploy_brier float8, deploy_log_loss float8,
               deploy_mae float8, deploy_rmse float8, status text, firing text, note text, unmatched_outcomes bigint,
               deploy_precision float8, deploy_recall float8, sort_order integer, checks jsonb)
LANGUAGE sql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
ROWS 100
AS $fn$
SELECT name AS model, version, task, period AS window_name, n, positives, auc, accuracy, precision, recall, brier,
       log_loss, mae, rmse, deploy_auc, deploy_accuracy, deploy_brier, deploy_log_loss, deploy_mae, deploy_rmse,
       status, firing,
       CASE WHEN n = 0 THEN 'no outcomes matched to predictions of this version in this window'
            WHEN status = 'insufficient_data' THEN format('%s outcomes, fewer than the %s needed', n, min_n)
            WHEN status = 'not_applicable' AND coalesce(deploy_auc, deploy_accuracy, deploy_rmse) IS NULL
                THEN 'no hold-out metrics at deploy to compare with (deployed without a target)'
            WHEN status = 'not_applicable' AND task = 'multiclass'
                THEN 'the predictions matched carry no predicted class (logged before migration 0017 by score, predict_proba or in batch): accuracy compares predict''s label with the outcome'
            WHEN status = 'not_applicable' THEN 'no realised metric to compare with the deploy metrics'
            -- (0122) said of every judged window of a multiclass model: its NULLs are no missing data
            WHEN task = 'multiclass'
                THEN 'a multiclass model: auc, brier and log_loss are NULL, as the audit log holds the top class''s probability alone, not every class''s; accuracy (the logged predicted class against the outcome) is what it is judged on. deploy_log_loss is the hold-out''s; deploy_auc and deploy_brier are NULL (its one-vs-rest AUC is its metrics'' auc_ovr, pgscore show)'
       END AS note,
       unmatched_outcomes,
       pgscore.jsonb_float8(deploy_metrics -> 'precision') AS deploy_precision,
       pgscore.jsonb_float8(deploy_metrics -> 'recall') AS deploy_recall,
       sort_order, checks
  FROM (SELECT p.*, m.metrics AS deploy_metrics
          FROM pgscore.performance_stats_of(false, CASE WHEN p_models IS NOT NULL THEN ARRAY(
                   SELECT lm.model_id FROM pgscore.live_models lm WHERE lm.name = ANY (p_models)) END, 'window') p
          JOIN pgscore.models m ON m.model_id = p.model_id) p
 WHERE period_kind = 'window'
$fn$;
COMMENT ON FUNCTION pgscore.performance_rows_of(text[]) IS 'pgscore.performance_rows of the live models p_models alone (NULL: every live model; a name not live has no rows), computed for them alone: what pgscore drift NAME reads, at the cost of the models named (migration 0136)';

-- (the rows of performance_rows_of for every live model)
CREATE VIEW pgscore.performance_rows AS
SELECT r.model, r.version, r.task, r.window_name, r.n, r.positives, r.auc, r.accuracy, r.precision, r.recall,
       r.brier, r.log_loss, r.mae, r.rmse, r.deploy_auc, r.deploy_accuracy, r.deploy_brier, r.deploy_log_loss,
       r.deploy_mae, r.deploy_rmse, r.status, r.firing, r.note, r.unmatched_outcomes, r.deploy_precision,
       r.deploy_recall, r.sort_order, r.checks
  FROM pgscore.performance_rows_of(NULL) r;
COMMENT ON VIEW pgscore.performance_rows IS 'Internal: realised_performance with each row''s window order and checks';
COMMENT ON COLUMN pgscore.performance_rows.n IS 'How many predictions made in the window have a matched outcome';

CREATE VIEW pgscore.realised_performance AS
SELECT model, version, task, window_name, n, positives, auc, accuracy, precision, recall, brier,
       log_loss, mae, rmse, deploy_auc, deploy_accuracy, deploy_brier, deploy_log_loss, deploy_mae, deploy_rmse,
       status, firing, note, unmatched_outcomes,
       -- appended (migration 0021), so that views built on this one keep their columns
       deploy_precision, deploy_recall
  FROM pgscore.performance_rows
 ORDER BY model, sort_order;
COMMENT ON VIEW pgscore.realised_performance IS 'Per live model and window (by prediction time): metrics realised on the outcomes recorded so far, next to the hold-out metrics captured at deploy';

-- (migration 0125) realised_performance by outcome time: per live model and window, the judged predictions whose
-- outcome was recorded within the window, whenever they were made (performance_stats_of's outcome windows), in
-- realised_performance's columns, judged by the same drift_thresholds; their warn and alert in alerts (subject
-- 'outcomes by recorded time'). Where outcomes arrive days or weeks after the prediction, a short window by
-- prediction time holds none yet; this one holds those that arrived
CREATE VIEW pgscore.realised_performance_by_outcome_time AS
SELECT p.name AS model, p.version, p.task, p.period AS window_name, p.n, p.positives, p.auc, p.accuracy, p.precision,
       p.recall, p.brier, p.log_loss, p.mae, p.rmse, p.deploy_auc, p.deploy_accuracy, p.deploy_brier,
       p.deploy_log_loss, p.deploy_mae, p.deploy_rmse, p.status, p.firing,
       CASE WHEN p.n = 0 THEN 'no outcome recorded in this window judges a prediction of this version'
            WHEN p.status = 'insufficient_data' THEN format('%s outcomes, fewer than the %s needed', p.n, p.min_n)
            WHEN p.status = 'not_applicable' AND coalesce(p.deploy_auc, p.deploy_accuracy, p.deploy_rmse) IS NULL
                THEN 'no hold-out metrics at deploy to compare with (deployed without a target)'
            WHEN p.status = 'not_applicable' AND p.task = 'multiclass'
                THEN 'the predictions matched carry no predicted class (logged before migration 0017 by score, predict_proba or in batch): accuracy compares predict''s label with the outcome'
            WHEN p.status = 'not_applicable' THEN 'no realised metric to compare with the deploy metrics'
            WHEN p.task = 'multiclass'
                THEN 'a multiclass model: auc, brier and log_loss are NULL, as the audit log holds the top class''s probability alone, not every class''s; accuracy (the logged predicted class against the outcome) is what it is judged on. deploy_log_loss is the hold-out''s; deploy_auc and deploy_brier are NULL (its one-vs-rest AUC is its metrics'' auc_ovr, pgscore show)'
       END AS note,
       p.unmatched_outcomes,
       pgscore.jsonb_float8(m.metrics -> 'precision') AS deploy_precision,
       pgscore.jsonb_float8(m.metrics -> 'recall') AS deploy_recall
  FROM pgscore.performance_stats_of(false, NULL, 'outcome_window') p
  JOIN pgscore.models m ON m.model_id = p.model_id
 WHERE p.period_kind = 'outcome_window'
 ORDER BY model, p.sort_order;
COMMENT ON VIEW pgscore.realised_performance_by_outcome_time IS 'Per live model and window (by outcome time): metrics realised on the judged predictions whose outcome was recorded (outcomes.recorded_at) within the window, whenever they were made, next to the hold-out metrics captured at deploy; realised_performance''s columns and checks. Read it where outcomes arrive later than the shortest window';
COMMENT ON COLUMN pgscore.realised_performance_by_outcome_time.n IS 'How many judged predictions (made at any time) have their outcome recorded in the window';
COMMENT ON COLUMN pgscore.realised_performance_by_outcome_time.status IS 'The worst level among the metrics: alert, warn, ok; or insufficient_data, no_data, not_applicable';

-- realised_performance per version: each outcome judges each version's own newest prediction of the entity
-- before it, so that a champion and a challenger that both logged predictions are compared on the same outcomes
CREATE VIEW pgscore.realised_performance_by_version AS
SELECT name AS model, version, live, task, period AS window_name, n, positives, auc, accuracy, precision, recall,
       brier, log_loss, mae, rmse, deploy_auc, deploy_accuracy, deploy_brier, deploy_log_loss, deploy_mae,
       deploy_rmse, deploy_precision, deploy_recall, status, firing,
       CASE WHEN n = 0 THEN 'no outcomes matched to predictions of this version in this window'
            WHEN status = 'insufficient_data' THEN format('%s outcomes, fewer than the %s needed', n, min_n)
            WHEN status = 'not_applicable' AND coalesce(deploy_auc, deploy_accuracy, deploy_rmse) IS NULL
                THEN 'no hold-out metrics at deploy to compare with (deployed without a target)'
            WHEN status = 'not_applicable' AND task = 'multiclass'
                THEN 'the predictions matched carry no predicted class (logged before migration 0017 by score, predict_proba or in batch): accuracy compares predict''s label with the outcome'
            WHEN status = 'not_applicable' THEN 'no realised metric to compare with the deploy metrics'
       END AS note,
       unmatched_outcomes
  FROM (SELECT p.*, l.model_id IS NOT NULL AS live, pgscore.jsonb_float8(m.metrics -> 'precision') AS deploy_precision,
               pgscore.jsonb_float8(m.metrics -> 'recall') AS deploy_recall
          FROM pgscore.performance_stats_of(true, NULL, 'window') p
          JOIN pgscore.models m ON m.model_id = p.model_id
          LEFT JOIN pgscore.live_models l ON l.model_id = p.model_id) p
 WHERE period_kind = 'window'
 ORDER BY model, version, sort_order;
COMMENT ON VIEW pgscore.realised_performance_by_version IS 'Per model version that outcomes judge (and each live one, and each that logged predictions of a model with outcomes none of which judges them: n 0, status no_data, its unmatched_outcomes) and window (by prediction time): metrics realised on the outcomes recorded so far, each outcome against that version''s own newest prediction of the entity before it, next to the version''s hold-out metrics captured at deploy';
COMMENT ON COLUMN pgscore.realised_performance_by_version.n IS 'How many predictions of this version made in the window have a matched outcome';
COMMENT ON COLUMN pgscore.realised_performance_by_version.status IS 'The worst level among the metrics against this version''s deploy metrics: alert, warn, ok; or insufficient_data, no_data, not_applicable';
COMMENT ON COLUMN pgscore.realised_performance_by_version.live IS 'true for the version live now';
COMMENT ON COLUMN pgscore.realised_performance_by_version.unmatched_outcomes IS 'Outcomes of the model that judge no prediction of this version (none logged for the entity before the outcome)';

-- (the days from the version's deploy on, or from the first that holds a judged prediction, as drift_by_day)
CREATE VIEW pgscore.performance_by_day AS
SELECT p.name AS model, p.version, p.task, p.day, p.n, p.positives, p.auc, p.accuracy, p.precision, p.recall,
       p.brier, p.log_loss, p.mae, p.rmse, p.status
  FROM (SELECT s.*, s.period::date AS day,
               min(s.period::date) FILTER (WHERE s.n > 0) OVER (PARTITION BY s.model_id) AS first_day
          FROM pgscore.performance_stats_of(false, NULL, 'day') s
         WHERE s.period_kind = 'day') p
  JOIN pgscore.models m ON m.model_id = p.model_id
 WHERE p.day >= least((m.created_at AT TIME ZONE 'UTC')::date, p.first_day)
 ORDER BY model, p.day;
COMMENT ON VIEW pgscore.performance_by_day IS 'Per live model and UTC day of the last 30 from the version''s deploy on (by prediction time): realised metrics on the outcomes recorded so far';
COMMENT ON COLUMN pgscore.performance_by_day.n IS 'How many predictions made that day have a matched outcome';
COMMENT ON COLUMN pgscore.realised_performance.n IS 'How many predictions made in the window have a matched outcome';
COMMENT ON COLUMN pgscore.realised_performance.status IS 'The worst level among the metrics: alert, warn, ok; or insufficient_data, no_data, not_applicable';
COMMENT ON COLUMN pgscore.performance_by_day.status IS 'The worst level among the metrics: alert, warn, ok; or insufficient_data, no_data, not_applicable';

-- performance_by_day per version, as realised_performance_by_version is realised_performance per version: a
-- champion and a challenger compared day by day on the same outcomes, each by its own predictions
CREATE VIEW pgscore.performance_by_day_by_version AS
SELECT p.name AS model, p.version, l.model_id IS NOT NULL AS live, p.task, p.day, p.n, p.positives,
       p.auc, p.accuracy, p.precision, p.recall, p.brier, p.log_loss, p.mae, p.rmse, p.status
  FROM (SELECT s.*, s.period::date AS day,
               min(s.period::date) FILTER (WHERE s.n > 0) OVER (PARTITION BY s.model_id) AS first_day
          FROM pgscore.performance_stats_of(true, NULL, 'day') s
         WHERE s.period_kind = 'day') p
  JOIN pgscore.models m ON m.model_id = p.model_id
  LEFT JOIN pgscore.live_models l ON l.model_id = p.model_id
 WHERE p.day >= least((m.created_at AT TIME ZONE 'UTC')::date, p.first_day)
 ORDER BY model, p.version, p.day;
COMMENT ON VIEW pgscore.performance_by_day_by_version IS 'Per model version that outcomes judge (and each live one) and UTC day of the last 30 from the version''s deploy on (by prediction time): realised metrics on the outcomes recorded so far, each outcome against that version''s own newest prediction of the entity before it';
COMMENT ON COLUMN pgscore.performance_by_day_by_version.live IS 'true for the version live now';
COMMENT ON COLUMN pgscore.performance_by_day_by_version.n IS 'How many predictions of this version made that day have a matched outcome';
COMMENT ON COLUMN pgscore.performance_by_day_by_version.status IS 'The worst level among the metrics against this version''s deploy metrics: alert, warn, ok; or insufficient_data, no_data, not_applicable';

CREATE VIEW pgscore.calibration AS
SELECT name AS model, version, decile, count(*) AS n, avg(score) AS mean_score, avg(y)::float8 AS observed_rate,
       min(score) AS min_score, max(score) AS max_score
  -- deciles by rank, so that equal scores share one (ntile split them by entity key): with ties they hold
  -- unequal counts, and a decile a tie fills is not listed
  FROM (SELECT jp.*, (1 + floor(10.0 * (rank() OVER (PARTITION BY jp.model_id ORDER BY jp.score) - 1)
                                / count(*) OVER (PARTITION BY jp.model_id)))::integer AS decile
          FROM pgscore.judged_predictions jp WHERE jp.task = 'binary' AND jp.score IS NOT NULL) d
 GROUP BY name, version, decile
 ORDER BY model, decile;
COMMENT ON VIEW pgscore.calibration IS 'Per live binary classifier: its judged predictions in ten score deciles by rank (equal scores share one, so with ties the counts differ), mean score against the observed positive rate';
COMMENT ON COLUMN pgscore.calibration.n IS 'How many judged predictions the decile holds';

-- (the live versions' drift in the windows alone, as the other branches read theirs: through drift_checks,
-- drift_stats() judged every one of the 30 days as well, with their noise floors, for the filter to drop; 0103)
-- (0136) The conditions of the models p_models alone (NULL: every model's), each branch computed for them alone:
-- through the view pgscore.alerts WHERE model = ... computed every live and shadow version's drift and realised
-- performance first, so pgscore drift NAME cost the fleet's. Each branch as the view's read it: the live
-- versions' drift (window_drift_stats), realised performance, the shadows' (shadow_drift_stats,
-- shadow_performance_stats: the shadow versions of a model with a live version) and the class mix
CREATE FUNCTION pgscore.firing_of(p_models text[])
RETURNS TABLE (model text, version integer, what text, subject text, window_name text, sort_order integer,
               metric text, value float8, threshold float8, level text, shadow boolean, threshold_from text)
LANGUAGE sql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
ROWS 100
AS $fn$
WITH live AS MATERIALIZED (SELECT lm.model_id, lm.name FROM pgscore.live_models lm
                            WHERE p_models IS NULL OR lm.name = ANY (p_models)),
shadows AS MATERIALIZED (SELECT sv.model_id FROM pgscore.shadow_versions sv
                           JOIN live lm ON lm.name = sv.name
                          WHERE sv.model_id <> lm.model_id)
SELECT s.name AS model, s.version, s.kind AS what, s.feature AS subject, s.period AS window_name, s.sort_order,
       c.metric, c.value, CASE c.level WHEN 'alert' THEN c.alert ELSE c.warn END AS threshold, c.level,
       false AS shadow,
       -- appended (migration 0133): where the threshold came from (subject, model: an override; default)
       coalesce(CASE c.level WHEN 'alert' THEN c.alert_from ELSE c.warn_from END, 'default') AS threshold_from
  FROM pgscore.drift_stats_of(ARRAY(SELECT l.model_id FROM live l), 'window') s
 CROSS JOIN LATERAL jsonb_to_recordset(s.checks) c(metric text, value float8, warn float8, alert float8, level text,
                                                warn_from text, alert_from text)
 WHERE c.level IN ('warn', 'alert')
UNION ALL
-- the live versions' realised performance in the windows by prediction time (subject 'outcomes') and, since
-- migration 0125, by outcome time (subject 'outcomes by recorded time': the judged predictions whose outcome was
-- recorded in the window), in one call: judged_predictions, its sort and the unmatched outcomes read once (two
-- calls, one a kind, cost alerts 2.3 times what 0122's did; docs/performance.md, "By outcome time")
SELECT r.name, r.version, 'performance',
       CASE r.period_kind WHEN 'window' THEN 'outcomes' ELSE 'outcomes by recorded time' END, r.period,
       r.sort_order, c.metric, (c.value)::float8, (CASE c.level WHEN 'alert' THEN c.alert ELSE c.warn END)::float8,
       c.level, false, coalesce(CASE c.level WHEN 'alert' THEN c.alert_from ELSE c.warn_from END, 'default')
  FROM pgscore.performance_stats_of(false, CASE WHEN p_models IS NOT NULL THEN ARRAY(SELECT l.model_id FROM live l) END,
                                    'both_windows') r
 CROSS JOIN LATERAL jsonb_to_recordset(r.checks) c(metric text, value float8, warn float8, alert float8, level text,
                                                warn_from text, alert_from text)
 WHERE r.period_kind IN ('window', 'outcome_window') AND c.level IN ('warn', 'alert')
UNION ALL
-- each shadow version of a model with a live version: its drift against its own baseline, and its realised
-- performance judged by its own predictions (shadow_performance_stats: the shadows' alone, in the windows)
SELECT s.name, s.version, s.kind, s.feature, s.period, s.sort_order, c.metric, c.value,
       CASE c.level WHEN 'alert' THEN c.alert ELSE c.warn END, c.level, true, coalesce(CASE c.level WHEN 'alert' THEN c.alert_from ELSE c.warn_from END, 'default')
  FROM pgscore.drift_stats_of(ARRAY(SELECT sh.model_id FROM shadows sh), 'window') s
 CROSS JOIN LATERAL jsonb_to_recordset(s.checks) c(metric text, value float8, warn float8, alert float8, level text,
                                                warn_from text, alert_from text)
 WHERE c.level IN ('warn', 'alert')
UNION ALL
SELECT r.name, r.version, 'performance', 'outcomes', r.period, r.sort_order, c.metric, (c.value)::float8,
       (CASE c.level WHEN 'alert' THEN c.alert ELSE c.warn END)::float8, c.level, true, coalesce(CASE c.level WHEN 'alert' THEN c.alert_from ELSE c.warn_from END, 'default')
  FROM pgscore.performance_stats_of(true, ARRAY(SELECT sh.model_id FROM shadows sh), 'window') r
 CROSS JOIN LATERAL jsonb_to_recordset(r.checks) c(metric text, value float8, warn float8, alert float8, level text,
                                                warn_from text, alert_from text)
 WHERE c.level IN ('warn', 'alert')
UNION ALL
-- the live versions' predicted-class mix (migration 0122): what 'class', subject 'mix'
SELECT s.name, s.version, 'class', 'mix', s.window_name, s.sort_order, c.metric, c.value,
       CASE c.level WHEN 'alert' THEN c.alert ELSE c.warn END, c.level, false, coalesce(CASE c.level WHEN 'alert' THEN c.alert_from ELSE c.warn_from END, 'default')
  -- (0149) the live versions named alone (it read class_drift_stats(), every live classifier's, and kept theirs)
  FROM pgscore.class_drift_stats_of(ARRAY(SELECT l.model_id FROM live l)) s
 CROSS JOIN LATERAL jsonb_to_recordset(s.checks) c(metric text, value float8, warn float8, alert float8, level text,
                                                warn_from text, alert_from text)
 WHERE c.level IN ('warn', 'alert')
$fn$;
COMMENT ON FUNCTION pgscore.firing_of(text[]) IS 'pgscore.firing of the models p_models alone (NULL: every model), each condition computed for them alone: every condition at warn or alert level now of their live versions and of their shadow versions (migration 0136)';

CREATE VIEW pgscore.firing AS
SELECT f.model, f.version, f.what, f.subject, f.window_name, f.sort_order, f.metric, f.value, f.threshold, f.level,
       f.shadow, f.threshold_from
  FROM pgscore.firing_of(NULL) f;
COMMENT ON VIEW pgscore.firing IS 'Internal: every condition at warn or alert level now, of each live version and each shadow version';
COMMENT ON COLUMN pgscore.firing.shadow IS 'true for a condition of a shadow version (pgscore.shadow_versions), false for the live version''s';
COMMENT ON COLUMN pgscore.firing.threshold_from IS 'Where the threshold came from: subject or model (an override, pgscore.set_thresholds) or default (pgscore.drift_thresholds) (migration 0133)';

-- (0136) pgscore.alerts of the models p_models alone (NULL: every model's), their conditions computed for them
-- alone (firing_of): what pgscore drift NAME reads; the view is alerts_of(NULL), its rows in its order as before
CREATE FUNCTION pgscore.alerts_of(p_models text[])
RETURNS TABLE (model text, version integer, what text, subject text, window_name text, metric text, value float8,
               threshold float8, level text, since timestamptz, shadow boolean, silenced_until timestamptz,
               silence_id bigint, threshold_from text)
LANGUAGE sql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
ROWS 100
AS $fn$
SELECT f.model, f.version, f.what, f.subject, f.window_name, f.metric, f.value, f.threshold, f.level, s.first_seen AS since,
       f.shadow,
       -- appended (migration 0126): the silence in force now that matches the row, the one that ends last
       q.ends_at AS silenced_until, q.id AS silence_id,
       -- appended (migration 0133): which thresholds raised it
       f.threshold_from
  FROM pgscore.firing_of(p_models) f
  LEFT JOIN pgscore.alert_state s ON s.model = f.model AND s.version = f.version AND s.what = f.what
        AND s.subject = f.subject AND s.window_name = f.window_name AND s.metric = f.metric AND s.level = f.level
  LEFT JOIN LATERAL (
        SELECT a.id, a.ends_at FROM pgscore.alert_silences a
         WHERE a.model = f.model AND a.lifted_at IS NULL AND a.starts_at <= now() AND a.ends_at > now()
           AND (a.what IS NULL OR a.what = f.what) AND (a.subject IS NULL OR a.subject = f.subject)
           AND (a.metric IS NULL OR a.metric = f.metric) AND (a.window_name IS NULL OR a.window_name = f.window_name)
           AND (a.shadow IS NULL OR a.shadow = f.shadow)
         ORDER BY a.ends_at DESC, a.id DESC LIMIT 1) q ON true
 ORDER BY f.level = 'alert' DESC, f.model, f.shadow, f.version, f.what, f.subject, f.sort_order, f.metric
$fn$;
COMMENT ON FUNCTION pgscore.alerts_of(text[]) IS 'pgscore.alerts of the models p_models alone (NULL: every model), in the view''s order, computed for them alone: what pgscore drift NAME reads, at the cost of the models named (migration 0136)';

CREATE VIEW pgscore.alerts AS
SELECT a.model, a.version, a.what, a.subject, a.window_name, a.metric, a.value, a.threshold, a.level, a.since,
       a.shadow, a.silenced_until, a.silence_id, a.threshold_from
  FROM pgscore.alerts_of(NULL) a;
COMMENT ON COLUMN pgscore.alerts.level IS 'warn or alert: the level the condition reached (conditions below warn are not listed)';
COMMENT ON VIEW pgscore.alerts IS 'Every firing condition: drift of a feature or the score, of a classifier''s predicted-class mix (what class, subject mix, metric class_mix: pgscore.class_drift, since 0122; the live version''s alone), or realised performance (subject outcomes: the window''s predictions judged so far; since 0125 subject outcomes by recorded time: the predictions whose outcome was recorded in the window, realised_performance_by_outcome_time), at warn or alert level in some window, of each model''s live version and of each shadow version scored next to it (shadow true)';
COMMENT ON COLUMN pgscore.alerts.shadow IS 'true for a condition of a version scored in shadow (pgscore.shadow_versions): its drift against its own baseline, its realised performance by its own predictions (as realised_performance_by_version); false for the live version''s';
COMMENT ON COLUMN pgscore.alerts.silenced_until IS 'When the silence in force now that matches the condition ends (pgscore.alert_silences: not lifted, begun, not ended; the one that ends last where several match); NULL: not silenced. A silenced condition is listed still; pgscore drift and status do not count it';
COMMENT ON COLUMN pgscore.alerts.threshold_from IS 'Where threshold came from: subject (the feature''s or score''s own, pgscore.set_thresholds with p_subject), model (the model''s own) or default (pgscore.drift_thresholds, every model''s): an alert the model''s own 0.03 raised says model (migration 0133)';
COMMENT ON COLUMN pgscore.alerts.silence_id IS 'That silence''s id (pgscore.alert_silences.id); NULL: not silenced';

/*
 * Each check of the live models' drift and realised performance in the windows, a row per metric, with what
 * judged it (migration 0087): its thresholds, its confidence and noise floor, its level, and held_back_from, the
 * level its value reached by the thresholds alone where the noise floor held it at ok (pgscore.check_rows).
 */
CREATE VIEW pgscore.window_checks AS
SELECT c.model, c.version, c.what, c.subject, c.window_name, k.metric, k.value, k.n, k.warn, k.alert, k.min_n,
       k.confidence, k.floor, k.level, k.held_back_from,
       -- appended (migration 0091), so that the readers of the columns before keep them
       k.family, k.family_features, k.check_confidence,
       -- appended (migration 0133): which override judged it (subject, model; NULL: drift_thresholds alone) and
       -- where each threshold came from (subject, model or default), as the check says
       x.o ->> 'override' AS override, coalesce(x.o ->> 'warn_from', 'default') AS warn_from,
       coalesce(x.o ->> 'alert_from', 'default') AS alert_from, coalesce(x.o ->> 'min_n_from', 'default') AS min_n_from,
       coalesce(x.o ->> 'confidence_from', 'default') AS confidence_from
  FROM (SELECT s.name AS model, s.version, s.kind AS what, s.feature AS subject, s.period AS window_name,
               s.sort_order, s.kind = 'score' AS last, s.position, s.checks
          FROM pgscore.drift_stats() s
         WHERE s.period_kind = 'window'
        UNION ALL
        SELECT p.name, p.version, 'performance', 'outcomes', p.period, p.sort_order, true, NULL, p.checks
          FROM pgscore.performance_stats_of(false, NULL, 'window') p
         WHERE p.period_kind = 'window') c
 CROSS JOIN LATERAL pgscore.check_rows(c.checks) k
 -- (0133) the check's own keys of its override, where one judged it (none: no key, nothing to find)
  LEFT JOIN LATERAL (SELECT j AS o FROM jsonb_array_elements(c.checks) j
                      WHERE j ? 'override' AND j ->> 'metric' = k.metric) x ON true
 ORDER BY c.model, c.what = 'performance', c.last, c.position, c.sort_order, k.metric;
COMMENT ON VIEW pgscore.window_checks IS 'Per live model and window, each metric checked of its features'' and score''s drift and of its realised performance: the value, thresholds, confidence and noise floor, the level, and whether (held_back_from) the noise floor held at ok a value that reached a threshold';
COMMENT ON COLUMN pgscore.window_checks.n IS 'How many values (outcomes, for realised performance) the metric was judged on';
COMMENT ON COLUMN pgscore.window_checks.confidence IS 'The confidence the metric was judged at: its override''s where one sets it (pgscore.set_thresholds: the subject''s, else the model''s; confidence_from says which), else its drift_thresholds.confidence; its level is warn or alert only above its noise floor too, which for a drift metric is family-wise over the model''s features and score (each of k at confidence^(1/k)) and for realised performance at this confidence; NULL: judged by the thresholds alone (no confidence, or an override''s confidence 0: no noise floor) (migration 0133)';
COMMENT ON COLUMN pgscore.window_checks.floor IS 'What sampling alone makes the metric reach at the window''s size (pgscore.noise_floor): a drift metric''s at confidence^(1/k), k the model''s features and score, realised performance''s at the confidence; NULL at a NULL confidence or where the window holds no value';
COMMENT ON COLUMN pgscore.window_checks.level IS 'ok, warn or alert (or no_data, insufficient_data, not_applicable when the metric cannot be judged), by the thresholds and the noise floor';
COMMENT ON COLUMN pgscore.window_checks.held_back_from IS 'warn or alert: the level the value reached by the thresholds alone that its noise floor held back to ok; NULL when it held nothing back';
COMMENT ON COLUMN pgscore.window_checks.family IS 'A drift metric''s k: the features and score of the model its noise floor is family-wise over (the floor is at confidence^(1/k)); NULL for realised performance and where confidence is NULL';
COMMENT ON COLUMN pgscore.window_checks.family_features IS 'How many of the family''s k are features (k - family_features is 1 where the score is one of them); NULL where family is';
COMMENT ON COLUMN pgscore.window_checks.override IS 'Which of the model''s own thresholds judged the check (pgscore.set_thresholds): subject (the feature''s or score''s own), model (the model''s); NULL: pgscore.drift_thresholds alone (migration 0133)';
COMMENT ON COLUMN pgscore.window_checks.warn_from IS 'Where warn came from: subject (the feature''s or score''s override), model (the model''s override) or default (pgscore.drift_thresholds), as pgscore.effective_thresholds gives it (migration 0133)';
COMMENT ON COLUMN pgscore.window_checks.alert_from IS 'Where alert came from: subject, model or default, as warn_from (migration 0133)';
COMMENT ON COLUMN pgscore.window_checks.min_n_from IS 'Where min_n came from: subject, model or default, as warn_from (migration 0133)';
COMMENT ON COLUMN pgscore.window_checks.confidence_from IS 'Where confidence came from: subject, model or default, as warn_from; an override''s 0 is no noise floor (confidence NULL, confidence_from model or subject) (migration 0133)';
COMMENT ON COLUMN pgscore.window_checks.check_confidence IS 'The confidence the noise floor is at: a drift metric''s confidence^(1/k), k its family; NULL for realised performance (its floor is at confidence) and where confidence is NULL';

/*
 * The baseline every version's drift is measured against, a row per bin: what a reader needs to draw the
 * training distribution next to a window's (drift_counts gives the window's counts per bin) or to recompute
 * PSI, KS and JS; the reader may not read pgscore.baselines itself.
 */
CREATE VIEW pgscore.baseline_bins AS
SELECT m.name AS model, m.version, b.model_id, b.kind, b.feature, b.position, (e.i - 1)::integer AS bin,
       b.edges[e.i - 1] AS lower_edge, b.edges[e.i] AS upper_edge, e.expected,
       b.n AS baseline_n, b.null_rate AS baseline_null_rate, b.mean AS baseline_mean, b.std AS baseline_std,
       b.min AS baseline_min, b.max AS baseline_max
  FROM pgscore.baselines b
  JOIN pgscore.models m ON m.model_id = b.model_id
 CROSS JOIN LATERAL unnest(b.expected) WITH ORDINALITY AS e(expected, i)
 WHERE b.kind IN ('feature', 'score')  -- the class mix's (0122): pgscore.class_drift's baseline_shares
 ORDER BY m.name, m.version, b.kind = 'score', b.position, e.i;
COMMENT ON VIEW pgscore.baseline_bins IS 'Per model version, feature (and score) and baseline bin: the bin''s edges and the share of the training values present (not NULL or NaN) that fell in it, which drift is measured against, with the baseline''s n, null rate, mean, std, min and max';
COMMENT ON COLUMN pgscore.baseline_bins.model IS 'Model name';
COMMENT ON COLUMN pgscore.baseline_bins.version IS 'Model version';
COMMENT ON COLUMN pgscore.baseline_bins.model_id IS 'The model version''s row in pgscore.models (drift_counts'' model_id)';
COMMENT ON COLUMN pgscore.baseline_bins.kind IS 'feature or score';
COMMENT ON COLUMN pgscore.baseline_bins.feature IS 'Feature name (''score'' for the score)';
COMMENT ON COLUMN pgscore.baseline_bins.position IS 'The feature''s position in the model''s feature vector (0 for the score)';
COMMENT ON COLUMN pgscore.baseline_bins.bin IS 'Baseline bin, from 0, as drift_counts numbers it: a value v is in it when lower_edge <= v < upper_edge (SQL width_bucket)';
COMMENT ON COLUMN pgscore.baseline_bins.lower_edge IS 'The bin''s lowest value (NULL for the first bin: no lower bound)';
COMMENT ON COLUMN pgscore.baseline_bins.upper_edge IS 'The next bin''s lowest value, not in this bin (NULL for the last bin: no upper bound)';
COMMENT ON COLUMN pgscore.baseline_bins.expected IS 'Share of the training values present (not NULL or NaN) in the bin: the baseline share e of PSI, KS and JS';
COMMENT ON COLUMN pgscore.baseline_bins.baseline_n IS 'How many rows the baseline was captured from (the training rows; for the score, the rows its baseline scored), NULL and NaN values included';
COMMENT ON COLUMN pgscore.baseline_bins.baseline_null_rate IS 'Share of NULL/NaN values in the training data';
COMMENT ON COLUMN pgscore.baseline_bins.baseline_mean IS 'Mean of the training values present';
COMMENT ON COLUMN pgscore.baseline_bins.baseline_std IS 'Population standard deviation (numpy''s std, ddof 0) of the training values present; 0 for a constant: the unit of mean_shift';
COMMENT ON COLUMN pgscore.baseline_bins.baseline_min IS 'Smallest training value: below it a value is out of range';
COMMENT ON COLUMN pgscore.baseline_bins.baseline_max IS 'Largest training value: above it a value is out of range';
