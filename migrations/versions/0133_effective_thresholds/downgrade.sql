-- 0133 to 0132: pgscore.effective_thresholds dropped, each place that judges with its own copy of the rule again
-- (as 0129 left them), window_checks without the columns of where its thresholds came from, an override's confidence
-- above 0 again (a row of 0, no noise floor, becomes NULL: inherited, the only way back; a WARNING for each).

CREATE OR REPLACE FUNCTION pgscore.judge(p_metrics text[], p_values float8[], p_n bigint[], p_model text, p_subject text)
RETURNS TABLE (checks jsonb, status text, firing text, min_n integer)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
WITH c AS (
    SELECT m.metric, m.value, m.n, e.warn, e.alert, e.min_n, e.override,
           CASE WHEN m.n = 0 THEN 'no_data'
                WHEN m.n < e.min_n THEN 'insufficient_data'
                WHEN m.value IS NULL THEN 'not_applicable'
                WHEN m.value >= e.alert THEN 'alert'
                WHEN m.value >= e.warn THEN 'warn'
                ELSE 'ok' END AS level
      FROM unnest(p_metrics, p_values, p_n) WITH ORDINALITY AS m(metric, value, n, i)
      JOIN pgscore.drift_thresholds t ON t.metric = m.metric
      LEFT JOIN pgscore.drift_threshold_overrides om
             ON om.model = p_model AND om.metric = m.metric AND om.subject IS NULL
      LEFT JOIN pgscore.drift_threshold_overrides os
             ON os.model = p_model AND os.metric = m.metric AND os.subject = p_subject
     CROSS JOIN LATERAL (SELECT coalesce(os.warn, om.warn, t.warn) AS warn, coalesce(os.alert, om.alert, t.alert) AS alert,
                                coalesce(os.min_n, om.min_n, t.min_n) AS min_n,
                                coalesce(os.confidence, om.confidence, t.confidence) AS confidence,
                                CASE WHEN os.metric IS NOT NULL THEN 'subject' WHEN om.metric IS NOT NULL THEN 'model' END
                                    AS override) e
)
SELECT jsonb_agg(jsonb_build_object('metric', c.metric, 'value', c.value, 'n', c.n, 'warn', c.warn,
                                    'alert', c.alert, 'min_n', c.min_n, 'level', c.level)
                 -- (0129: which override set its thresholds; none, by drift_thresholds alone)
                 || CASE WHEN c.override IS NOT NULL THEN jsonb_build_object('override', c.override) ELSE '{}' END
                 ORDER BY c.metric),
       (ARRAY['not_applicable', 'no_data', 'insufficient_data', 'ok', 'warn', 'alert'])[max(
           CASE c.level WHEN 'alert' THEN 6 WHEN 'warn' THEN 5 WHEN 'ok' THEN 4 WHEN 'insufficient_data' THEN 3
                        WHEN 'no_data' THEN 2 ELSE 1 END)],
       string_agg(c.metric, ', ' ORDER BY c.metric) FILTER (WHERE c.level IN ('warn', 'alert')),
       max(c.min_n) FILTER (WHERE c.level = 'insufficient_data')
  FROM c
$fn$;
COMMENT ON FUNCTION pgscore.judge(text[], float8[], bigint[], text, text) IS 'Levels of metrics of model p_model (its feature or score p_subject; NULL: the model''s) against pgscore.drift_thresholds and the model''s overrides (pgscore.drift_threshold_overrides, migration 0129): each check as jsonb (override: model or subject where one set its thresholds), the worst level, the metrics firing and the min_n not reached';

CREATE OR REPLACE FUNCTION pgscore.judge(p_metrics text[], p_values float8[], p_n bigint[], p_floors float8[], p_model text,
                              p_subject text)
RETURNS TABLE (checks jsonb, status text, firing text, min_n integer)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
WITH c AS (
    SELECT m.metric, m.value, m.n, e.warn, e.alert, e.min_n, e.confidence, e.override, f.floor,
           CASE WHEN m.n = 0 THEN 'no_data'
                WHEN m.n < e.min_n THEN 'insufficient_data'
                WHEN m.value IS NULL THEN 'not_applicable'
                WHEN m.value >= e.alert AND (f.floor IS NULL OR m.value > f.floor) THEN 'alert'
                WHEN m.value >= e.warn AND (f.floor IS NULL OR m.value > f.floor) THEN 'warn'
                ELSE 'ok' END AS level
      FROM unnest(p_metrics, p_values, p_n, p_floors) WITH ORDINALITY AS m(metric, value, n, floor, i)
      JOIN pgscore.drift_thresholds t ON t.metric = m.metric
      LEFT JOIN pgscore.drift_threshold_overrides om
             ON om.model = p_model AND om.metric = m.metric AND om.subject IS NULL
      LEFT JOIN pgscore.drift_threshold_overrides os
             ON os.model = p_model AND os.metric = m.metric AND os.subject = p_subject
     CROSS JOIN LATERAL (SELECT coalesce(os.warn, om.warn, t.warn) AS warn, coalesce(os.alert, om.alert, t.alert) AS alert,
                                coalesce(os.min_n, om.min_n, t.min_n) AS min_n,
                                coalesce(os.confidence, om.confidence, t.confidence) AS confidence,
                                CASE WHEN os.metric IS NOT NULL THEN 'subject' WHEN om.metric IS NOT NULL THEN 'model' END
                                    AS override) e
     CROSS JOIN LATERAL (SELECT CASE WHEN e.confidence IS NOT NULL THEN m.floor END AS floor) f
)
SELECT jsonb_agg(jsonb_build_object('metric', c.metric, 'value', c.value, 'n', c.n, 'warn', c.warn,
                                    'alert', c.alert, 'min_n', c.min_n, 'level', c.level)
                 -- (a metric judged by its threshold alone has the check it had before 0085)
                 || CASE WHEN c.confidence IS NOT NULL
                         THEN jsonb_build_object('confidence', c.confidence, 'floor', c.floor) ELSE '{}' END
                 -- (0129: which override set its thresholds; none, by drift_thresholds alone)
                 || CASE WHEN c.override IS NOT NULL THEN jsonb_build_object('override', c.override) ELSE '{}' END
                 ORDER BY c.metric),
       (ARRAY['not_applicable', 'no_data', 'insufficient_data', 'ok', 'warn', 'alert'])[max(
           CASE c.level WHEN 'alert' THEN 6 WHEN 'warn' THEN 5 WHEN 'ok' THEN 4 WHEN 'insufficient_data' THEN 3
                        WHEN 'no_data' THEN 2 ELSE 1 END)],
       string_agg(c.metric, ', ' ORDER BY c.metric) FILTER (WHERE c.level IN ('warn', 'alert')),
       max(c.min_n) FILTER (WHERE c.level = 'insufficient_data')
  FROM c
$fn$;
COMMENT ON FUNCTION pgscore.judge(text[], float8[], bigint[], float8[], text, text) IS 'Levels of metrics of model p_model (its feature or score p_subject; NULL: the model''s) against pgscore.drift_thresholds and the model''s overrides (pgscore.drift_threshold_overrides, migration 0129) and their noise floors (p_floors, at the confidence that applies): warn or alert only above the floor as well; each check as jsonb with its confidence and floor (and override: model or subject where one set its thresholds), the worst level, the metrics firing and the min_n not reached';

CREATE OR REPLACE FUNCTION pgscore.drift_stats_of(p_model_ids bigint[], p_period_kind text)
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
                       jsonb_build_object('metric', 'psi', 'warn', t.psi_warn, 'alert', t.psi_alert, 'min_n', t.psi_min_n) || CASE WHEN t.psi_confidence IS NOT NULL THEN jsonb_build_object('confidence', t.psi_confidence) ELSE '{}' END || CASE WHEN t.psi_override IS NOT NULL THEN jsonb_build_object('override', t.psi_override) ELSE '{}' END AS psi_check,
                       jsonb_build_object('metric', 'ks', 'warn', t.ks_warn, 'alert', t.ks_alert, 'min_n', t.ks_min_n) || CASE WHEN t.ks_confidence IS NOT NULL THEN jsonb_build_object('confidence', t.ks_confidence) ELSE '{}' END || CASE WHEN t.ks_override IS NOT NULL THEN jsonb_build_object('override', t.ks_override) ELSE '{}' END AS ks_check,
                       jsonb_build_object('metric', 'js', 'warn', t.js_warn, 'alert', t.js_alert, 'min_n', t.js_min_n) || CASE WHEN t.js_confidence IS NOT NULL THEN jsonb_build_object('confidence', t.js_confidence) ELSE '{}' END || CASE WHEN t.js_override IS NOT NULL THEN jsonb_build_object('override', t.js_override) ELSE '{}' END AS js_check,
                       jsonb_build_object('metric', 'mean_shift', 'warn', t.mean_shift_warn, 'alert', t.mean_shift_alert, 'min_n', t.mean_shift_min_n) || CASE WHEN t.mean_shift_confidence IS NOT NULL THEN jsonb_build_object('confidence', t.mean_shift_confidence) ELSE '{}' END || CASE WHEN t.mean_shift_override IS NOT NULL THEN jsonb_build_object('override', t.mean_shift_override) ELSE '{}' END AS mean_shift_check,
                       jsonb_build_object('metric', 'null_rate', 'warn', t.null_rate_warn, 'alert', t.null_rate_alert, 'min_n', t.null_rate_min_n) || CASE WHEN t.null_rate_confidence IS NOT NULL THEN jsonb_build_object('confidence', t.null_rate_confidence) ELSE '{}' END || CASE WHEN t.null_rate_override IS NOT NULL THEN jsonb_build_object('override', t.null_rate_override) ELSE '{}' END AS null_rate_check,
                       jsonb_build_object('metric', 'out_of_range', 'warn', t.out_of_range_warn, 'alert', t.out_of_range_alert, 'min_n', t.out_of_range_min_n) || CASE WHEN t.out_of_range_confidence IS NOT NULL THEN jsonb_build_object('confidence', t.out_of_range_confidence) ELSE '{}' END || CASE WHEN t.out_of_range_override IS NOT NULL THEN jsonb_build_object('override', t.out_of_range_override) ELSE '{}' END AS out_of_range_check
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
                   max(e.override) FILTER (WHERE t.metric = 'ks') AS ks_override,
                   max(e.override) FILTER (WHERE t.metric = 'js') AS js_override,
                   max(e.override) FILTER (WHERE t.metric = 'mean_shift') AS mean_shift_override,
                   max(e.override) FILTER (WHERE t.metric = 'null_rate') AS null_rate_override,
                   max(e.override) FILTER (WHERE t.metric = 'out_of_range') AS out_of_range_override
              FROM (SELECT DISTINCT b.th_model, b.th_subject, CASE WHEN b.th_model <> 0 THEN b.name END AS name
                      FROM base b) p
             CROSS JOIN pgscore.drift_thresholds t
              LEFT JOIN ovr om ON om.model = p.name AND om.metric = t.metric AND om.subject IS NULL
              LEFT JOIN ovr os ON p.th_subject <> '' AND os.model = p.name AND os.metric = t.metric
                              AND os.subject = p.th_subject
             CROSS JOIN LATERAL (SELECT coalesce(os.warn, om.warn, t.warn) AS warn, coalesce(os.alert, om.alert, t.alert) AS alert,
                                        coalesce(os.min_n, om.min_n, t.min_n) AS min_n,
                                        coalesce(os.confidence, om.confidence, t.confidence) AS confidence,
                                        CASE WHEN os.metric IS NOT NULL THEN 'subject' WHEN om.metric IS NOT NULL THEN 'model' END
                                            AS override) e
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

CREATE OR REPLACE FUNCTION pgscore.performance_stats_of(p_by_version boolean, p_model_ids bigint[], p_period_kind text)
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
 CROSS JOIN (SELECT max(t.confidence) FILTER (WHERE t.metric = 'auc_drop') AS auc_drop,
                    max(t.confidence) FILTER (WHERE t.metric = 'accuracy_drop') AS accuracy_drop,
                    max(t.confidence) FILTER (WHERE t.metric = 'brier_rise') AS brier_rise,
                    max(t.confidence) FILTER (WHERE t.metric = 'rmse_rise') AS rmse_rise
               FROM pgscore.drift_thresholds t) cd
  LEFT JOIN (SELECT o.model, max(o.confidence) FILTER (WHERE o.metric = 'auc_drop') AS auc_drop,
                    max(o.confidence) FILTER (WHERE o.metric = 'accuracy_drop') AS accuracy_drop,
                    max(o.confidence) FILTER (WHERE o.metric = 'brier_rise') AS brier_rise,
                    max(o.confidence) FILTER (WHERE o.metric = 'rmse_rise') AS rmse_rise
               FROM pgscore.drift_threshold_overrides o
              WHERE o.subject IS NULL AND o.confidence IS NOT NULL
              GROUP BY o.model) co ON co.model = b.name
 CROSS JOIN LATERAL (SELECT coalesce(co.auc_drop, cd.auc_drop) AS auc_drop,
                            coalesce(co.accuracy_drop, cd.accuracy_drop) AS accuracy_drop,
                            coalesce(co.brier_rise, cd.brier_rise) AS brier_rise,
                            coalesce(co.rmse_rise, cd.rmse_rise) AS rmse_rise) cf
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

CREATE OR REPLACE FUNCTION pgscore.set_thresholds(p_model text, p_metric text, p_warn float8 DEFAULT NULL,
                                       p_alert float8 DEFAULT NULL, p_min_n integer DEFAULT NULL,
                                       p_confidence float8 DEFAULT NULL, p_subject text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_warn  float8;
    v_alert float8;
BEGIN
    IF p_model IS NULL OR p_metric IS NULL THEN
        RAISE EXCEPTION 'pgscore.set_thresholds: p_model and p_metric must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_model) THEN
        RAISE EXCEPTION 'there is no model %', quote_literal(p_model) USING ERRCODE = 'undefined_object',
            HINT = pgscore.model_name_hint(p_model);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pgscore.drift_thresholds t WHERE t.metric = p_metric) THEN
        RAISE EXCEPTION 'pgscore.set_thresholds: p_metric % is not a metric of pgscore.drift_thresholds (%)',
                        quote_literal(p_metric),
                        (SELECT string_agg(t.metric, ', ' ORDER BY t.metric) FROM pgscore.drift_thresholds t)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_subject IS NOT NULL AND p_metric NOT IN ('psi', 'ks', 'js', 'mean_shift', 'null_rate', 'out_of_range') THEN
        RAISE EXCEPTION 'pgscore.set_thresholds: % is judged per model, not per feature: p_subject must be NULL',
                        p_metric
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'a subject narrows a drift metric (psi, ks, js, mean_shift, null_rate, out_of_range) to one '
                         'feature or the score';
    END IF;
    IF p_subject IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM pgscore.baselines b JOIN pgscore.models m ON m.model_id = b.model_id
                        WHERE m.name = p_model AND b.kind IN ('feature', 'score') AND b.feature = p_subject) THEN
        -- (an override of a subject the model has not, its case wrong or a typo, would change nothing, silently)
        RAISE EXCEPTION 'pgscore.set_thresholds: p_subject % is not a feature of model % nor its score (as '
                        'pgscore.alerts.subject), or NULL for every one', quote_literal(p_subject), quote_literal(p_model)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = coalesce((SELECT 'a typo for ' || string_agg(DISTINCT quote_literal(b.feature), ' or ') || '?'
                                     FROM pgscore.baselines b JOIN pgscore.models m ON m.model_id = b.model_id
                                    WHERE m.name = p_model AND b.kind IN ('feature', 'score')
                                      AND lower(b.feature) = lower(p_subject)),
                                  'list them with: SELECT DISTINCT feature FROM pgscore.baselines JOIN pgscore.models '
                                  'USING (model_id) WHERE name = ' || quote_literal(p_model));
    END IF;
    IF p_warn IS NULL AND p_alert IS NULL AND p_min_n IS NULL AND p_confidence IS NULL THEN
        RAISE EXCEPTION 'pgscore.set_thresholds: give at least one of p_warn, p_alert, p_min_n and p_confidence'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'to go back to the inherited thresholds: pgscore.clear_thresholds(model, metric, subject)';
    END IF;
    IF p_warn < 0 OR p_alert < 0 OR p_warn = 'NaN' OR p_alert = 'NaN' THEN
        RAISE EXCEPTION 'pgscore.set_thresholds: p_warn and p_alert must be numbers of at least 0, got % and %',
                        p_warn, p_alert
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'a level never reached: ''Infinity'' (alert = ''Infinity'': warn only)';
    END IF;
    IF p_min_n < 1 THEN
        RAISE EXCEPTION 'pgscore.set_thresholds: p_min_n must be at least 1, got %', p_min_n
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT (p_confidence > 0 AND p_confidence < 1) THEN
        RAISE EXCEPTION 'pgscore.set_thresholds: p_confidence must be between 0 and 1 (exclusive), got %', p_confidence
            USING ERRCODE = 'invalid_parameter_value', HINT = 'e.g. 0.999, the default''s';
    END IF;
    IF p_confidence IS NOT NULL AND p_metric = 'class_mix' THEN
        RAISE EXCEPTION 'pgscore.set_thresholds: class_mix has no noise floor: p_confidence must be NULL'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- (one writer of the overrides at a time, until it commits: two sessions each setting a sound row, a model's warn
    -- and a subject's alert, could together leave the subject's warn above its alert; check_threshold_order reads
    -- what the other committed once it has the lock)
    LOCK TABLE pgscore.drift_threshold_overrides IN SHARE ROW EXCLUSIVE MODE;
    -- warn <= alert as they will be judged, each inherited where not given
    SELECT coalesce(p_warn, om.warn, t.warn), coalesce(p_alert, om.alert, t.alert) INTO v_warn, v_alert
      FROM pgscore.drift_thresholds t
      LEFT JOIN pgscore.drift_threshold_overrides om
             ON p_subject IS NOT NULL AND om.model = p_model AND om.metric = t.metric AND om.subject IS NULL
     WHERE t.metric = p_metric;
    IF v_warn > v_alert THEN
        RAISE EXCEPTION 'pgscore.set_thresholds: warn % would be above alert % for % of model %', v_warn, v_alert,
                        p_metric, quote_literal(p_model)
                        || CASE WHEN p_subject IS NOT NULL THEN ', subject ' || quote_literal(p_subject) ELSE '' END
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'give both p_warn and p_alert, warn at most alert (a NULL one is inherited)';
    END IF;
    INSERT INTO pgscore.drift_threshold_overrides AS o (model, metric, subject, warn, alert, min_n, confidence)
    VALUES (p_model, p_metric, p_subject, p_warn, p_alert, p_min_n, p_confidence)
        ON CONFLICT ON CONSTRAINT drift_threshold_overrides_key
        DO UPDATE SET warn = EXCLUDED.warn, alert = EXCLUDED.alert, min_n = EXCLUDED.min_n,
                      confidence = EXCLUDED.confidence, created_by = session_user, updated_at = now();
END
$fn$;
COMMENT ON FUNCTION pgscore.set_thresholds(text, text, float8, float8, integer, float8, text) IS 'Override pgscore.drift_thresholds for model p_model''s metric p_metric (every version of the name), for its feature (or score) p_subject alone where given (a drift metric): p_warn, p_alert, p_min_n, p_confidence, each NULL inherited (a subject''s from the model''s override, the model''s from drift_thresholds); replaces the row it names (pgscore.drift_threshold_overrides)';

DROP TRIGGER drift_threshold_overrides_turn ON pgscore.drift_threshold_overrides;
DROP TRIGGER drift_thresholds_turn ON pgscore.drift_thresholds;
CREATE OR REPLACE FUNCTION pgscore.check_threshold_order() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r record;
BEGIN
    -- (a writer by hand waits for any other, as set_thresholds does, and reads what it committed)
    LOCK TABLE pgscore.drift_threshold_overrides IN SHARE ROW EXCLUSIVE MODE;
    SELECT o.model, o.metric, o.subject, coalesce(o.warn, om.warn, t.warn) AS warn,
           coalesce(o.alert, om.alert, t.alert) AS alert INTO r
      FROM pgscore.drift_threshold_overrides o
      JOIN pgscore.drift_thresholds t ON t.metric = o.metric
      LEFT JOIN pgscore.drift_threshold_overrides om
             ON o.subject IS NOT NULL AND om.model = o.model AND om.metric = o.metric AND om.subject IS NULL
     WHERE coalesce(o.warn, om.warn, t.warn) > coalesce(o.alert, om.alert, t.alert)
     ORDER BY o.model, o.metric, o.subject NULLS FIRST
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'pgscore.drift_threshold_overrides: warn % would be above alert % for % of model %', r.warn,
                        r.alert, r.metric, quote_literal(r.model)
                        || CASE WHEN r.subject IS NOT NULL THEN ', subject ' || quote_literal(r.subject) ELSE '' END
            USING ERRCODE = 'check_violation',
                  HINT = 'a NULL warn or alert is inherited (a subject''s from the model''s override, the model''s '
                         'from pgscore.drift_thresholds): give that override both with pgscore.set_thresholds, or '
                         'clear it with pgscore.clear_thresholds';
    END IF;
    RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION pgscore.check_threshold_order() IS 'Trigger function of pgscore.drift_threshold_overrides and pgscore.drift_thresholds: refuses a statement that leaves an override judged with a warn above its alert, each inherited where NULL (migration 0129)';

-- pgscore.window_checks, alerts and firing cannot drop their columns in place (0133 appended where each threshold
-- came from): they are dropped and made again as 0131 left them, with the comments their columns had, their owners
-- and every grant on them (pgscore's roles', and any a DBA added). A view of the user's on any of them stops the
-- migration, naming it, before anything is changed.

DO $do$
DECLARE
    v_users text;
BEGIN
    SELECT pg_catalog.string_agg(DISTINCT CASE WHEN c.oid IS NOT NULL THEN pg_catalog.format('%I.%I', n.nspname, c.relname)
                                               ELSE pg_catalog.pg_describe_object(d.classid, d.objid, 0) END, ', ')
      INTO v_users
      FROM pg_catalog.pg_depend d
      LEFT JOIN pg_catalog.pg_rewrite r ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND r.oid = d.objid
      LEFT JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
      LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
       AND d.refobjid = 'pgscore.window_checks'::pg_catalog.regclass
       AND d.deptype = 'n'
       AND (r.ev_class IS NULL OR r.ev_class NOT IN ('pgscore.window_checks'::pg_catalog.regclass, 'pgscore.alerts'::pg_catalog.regclass, 'pgscore.firing'::pg_catalog.regclass));
    IF v_users IS NOT NULL THEN
        RAISE EXCEPTION 'pgscore''s migration 0133''s downgrade makes pgscore.window_checks again, and % of yours depend on it', v_users
            USING ERRCODE = 'dependent_objects_still_exist',
                  HINT = 'pgscore drops nothing of yours: keep their definitions (SELECT pg_get_viewdef(''name'', true)), drop them, migrate, then create them again. Nothing was changed.';
    END IF;
END
$do$;


DO $do$
DECLARE
    v_users text;
BEGIN
    SELECT pg_catalog.string_agg(DISTINCT CASE WHEN c.oid IS NOT NULL THEN pg_catalog.format('%I.%I', n.nspname, c.relname)
                                               ELSE pg_catalog.pg_describe_object(d.classid, d.objid, 0) END, ', ')
      INTO v_users
      FROM pg_catalog.pg_depend d
      LEFT JOIN pg_catalog.pg_rewrite r ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND r.oid = d.objid
      LEFT JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
      LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
       AND d.refobjid = 'pgscore.alerts'::pg_catalog.regclass
       AND d.deptype = 'n'
       AND (r.ev_class IS NULL OR r.ev_class NOT IN ('pgscore.alerts'::pg_catalog.regclass, 'pgscore.alerts'::pg_catalog.regclass, 'pgscore.firing'::pg_catalog.regclass));
    IF v_users IS NOT NULL THEN
        RAISE EXCEPTION 'pgscore''s migration 0133''s downgrade makes pgscore.alerts again, and % of yours depend on it', v_users
            USING ERRCODE = 'dependent_objects_still_exist',
                  HINT = 'pgscore drops nothing of yours: keep their definitions (SELECT pg_get_viewdef(''name'', true)), drop them, migrate, then create them again. Nothing was changed.';
    END IF;
END
$do$;


DO $do$
DECLARE
    v_users text;
BEGIN
    SELECT pg_catalog.string_agg(DISTINCT CASE WHEN c.oid IS NOT NULL THEN pg_catalog.format('%I.%I', n.nspname, c.relname)
                                               ELSE pg_catalog.pg_describe_object(d.classid, d.objid, 0) END, ', ')
      INTO v_users
      FROM pg_catalog.pg_depend d
      LEFT JOIN pg_catalog.pg_rewrite r ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND r.oid = d.objid
      LEFT JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
      LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
       AND d.refobjid = 'pgscore.firing'::pg_catalog.regclass
       AND d.deptype = 'n'
       AND (r.ev_class IS NULL OR r.ev_class NOT IN ('pgscore.firing'::pg_catalog.regclass, 'pgscore.alerts'::pg_catalog.regclass, 'pgscore.firing'::pg_catalog.regclass));
    IF v_users IS NOT NULL THEN
        RAISE EXCEPTION 'pgscore''s migration 0133''s downgrade makes pgscore.firing again, and % of yours depend on it', v_users
            USING ERRCODE = 'dependent_objects_still_exist',
                  HINT = 'pgscore drops nothing of yours: keep their definitions (SELECT pg_get_viewdef(''name'', true)), drop them, migrate, then create them again. Nothing was changed.';
    END IF;
END
$do$;


CREATE TEMPORARY TABLE pgscore_0133_window_checks_comments AS
SELECT a.attname, pg_catalog.col_description(a.attrelid, a.attnum) AS description
  FROM pg_catalog.pg_attribute a
 WHERE a.attrelid = 'pgscore.window_checks'::pg_catalog.regclass AND a.attnum > 0 AND NOT a.attisdropped;
-- (confidence's comment as 0133 wrote it is 0131's again, made below; one of the DBA's own is kept)
UPDATE pgscore_0133_window_checks_comments SET description = NULL
 WHERE attname = 'confidence'
   AND description = 'The confidence the metric was judged at: its override''s where one sets it (pgscore.set_thresholds: the subject''s, else the model''s; confidence_from says which), else its drift_thresholds.confidence; its level is warn or alert only above its noise floor too, which for a drift metric is family-wise over the model''s features and score (each of k at confidence^(1/k)) and for realised performance at this confidence; NULL: judged by the thresholds alone (no confidence, or an override''s confidence 0: no noise floor) (migration 0133)';

CREATE TEMPORARY TABLE pgscore_0133_window_checks_column_grants AS
SELECT a.attname, g.grantor, g.grantee, g.privilege_type, g.is_grantable
  FROM pg_catalog.pg_attribute a
 CROSS JOIN LATERAL pg_catalog.aclexplode(a.attacl) g
 WHERE a.attrelid = 'pgscore.window_checks'::pg_catalog.regclass AND a.attnum > 0 AND NOT a.attisdropped;

CREATE TEMPORARY TABLE pgscore_0133_window_checks_view AS
SELECT c.relowner AS owner, a.grantor, a.grantee, a.privilege_type, a.is_grantable
  FROM pg_catalog.pg_class c
  LEFT JOIN LATERAL pg_catalog.aclexplode(c.relacl) a ON true
 WHERE c.oid = 'pgscore.window_checks'::pg_catalog.regclass;

CREATE TEMPORARY TABLE pgscore_0133_alerts_comments AS
SELECT a.attname, pg_catalog.col_description(a.attrelid, a.attnum) AS description
  FROM pg_catalog.pg_attribute a
 WHERE a.attrelid = 'pgscore.alerts'::pg_catalog.regclass AND a.attnum > 0 AND NOT a.attisdropped;

CREATE TEMPORARY TABLE pgscore_0133_alerts_column_grants AS
SELECT a.attname, g.grantor, g.grantee, g.privilege_type, g.is_grantable
  FROM pg_catalog.pg_attribute a
 CROSS JOIN LATERAL pg_catalog.aclexplode(a.attacl) g
 WHERE a.attrelid = 'pgscore.alerts'::pg_catalog.regclass AND a.attnum > 0 AND NOT a.attisdropped;

CREATE TEMPORARY TABLE pgscore_0133_alerts_view AS
SELECT c.relowner AS owner, a.grantor, a.grantee, a.privilege_type, a.is_grantable
  FROM pg_catalog.pg_class c
  LEFT JOIN LATERAL pg_catalog.aclexplode(c.relacl) a ON true
 WHERE c.oid = 'pgscore.alerts'::pg_catalog.regclass;

CREATE TEMPORARY TABLE pgscore_0133_firing_comments AS
SELECT a.attname, pg_catalog.col_description(a.attrelid, a.attnum) AS description
  FROM pg_catalog.pg_attribute a
 WHERE a.attrelid = 'pgscore.firing'::pg_catalog.regclass AND a.attnum > 0 AND NOT a.attisdropped;

CREATE TEMPORARY TABLE pgscore_0133_firing_column_grants AS
SELECT a.attname, g.grantor, g.grantee, g.privilege_type, g.is_grantable
  FROM pg_catalog.pg_attribute a
 CROSS JOIN LATERAL pg_catalog.aclexplode(a.attacl) g
 WHERE a.attrelid = 'pgscore.firing'::pg_catalog.regclass AND a.attnum > 0 AND NOT a.attisdropped;

CREATE TEMPORARY TABLE pgscore_0133_firing_view AS
SELECT c.relowner AS owner, a.grantor, a.grantee, a.privilege_type, a.is_grantable
  FROM pg_catalog.pg_class c
  LEFT JOIN LATERAL pg_catalog.aclexplode(c.relacl) a ON true
 WHERE c.oid = 'pgscore.firing'::pg_catalog.regclass;

DROP VIEW pgscore.alerts;
DROP VIEW pgscore.firing;
DROP VIEW pgscore.window_checks;

CREATE VIEW pgscore.firing AS
SELECT s.name AS model, s.version, s.kind AS what, s.feature AS subject, s.period AS window_name, s.sort_order,
       c.metric, c.value, CASE c.level WHEN 'alert' THEN c.alert ELSE c.warn END AS threshold, c.level,
       false AS shadow
  FROM pgscore.window_drift_stats() s
 CROSS JOIN LATERAL jsonb_to_recordset(s.checks) c(metric text, value float8, warn float8, alert float8, level text)
 WHERE c.level IN ('warn', 'alert')
UNION ALL
-- the live versions' realised performance in the windows by prediction time (subject 'outcomes') and, since
-- migration 0125, by outcome time (subject 'outcomes by recorded time': the judged predictions whose outcome was
-- recorded in the window), in one call: judged_predictions, its sort and the unmatched outcomes read once (two
-- calls, one a kind, cost alerts 2.3 times what 0122's did; docs/performance.md, "By outcome time")
SELECT r.name, r.version, 'performance',
       CASE r.period_kind WHEN 'window' THEN 'outcomes' ELSE 'outcomes by recorded time' END, r.period,
       r.sort_order, c.metric, (c.value)::float8, (CASE c.level WHEN 'alert' THEN c.alert ELSE c.warn END)::float8,
       c.level, false
  FROM pgscore.performance_stats_of(false, NULL, 'both_windows') r
 CROSS JOIN LATERAL jsonb_to_recordset(r.checks) c(metric text, value float8, warn float8, alert float8, level text)
 WHERE r.period_kind IN ('window', 'outcome_window') AND c.level IN ('warn', 'alert')
UNION ALL
-- each shadow version of a model with a live version: its drift against its own baseline, and its realised
-- performance judged by its own predictions (shadow_performance_stats: the shadows' alone, in the windows)
SELECT s.name, s.version, s.kind, s.feature, s.period, s.sort_order, c.metric, c.value,
       CASE c.level WHEN 'alert' THEN c.alert ELSE c.warn END, c.level, true
  FROM pgscore.shadow_drift_stats() s
 CROSS JOIN LATERAL jsonb_to_recordset(s.checks) c(metric text, value float8, warn float8, alert float8, level text)
 WHERE c.level IN ('warn', 'alert')
UNION ALL
SELECT r.name, r.version, 'performance', 'outcomes', r.period, r.sort_order, c.metric, (c.value)::float8,
       (CASE c.level WHEN 'alert' THEN c.alert ELSE c.warn END)::float8, c.level, true
  FROM pgscore.shadow_performance_stats() r
 CROSS JOIN LATERAL jsonb_to_recordset(r.checks) c(metric text, value float8, warn float8, alert float8, level text)
 WHERE c.level IN ('warn', 'alert')
UNION ALL
-- the live versions' predicted-class mix (migration 0122): what 'class', subject 'mix'
SELECT s.name, s.version, 'class', 'mix', s.window_name, s.sort_order, c.metric, c.value,
       CASE c.level WHEN 'alert' THEN c.alert ELSE c.warn END, c.level, false
  FROM pgscore.class_drift_stats() s
 CROSS JOIN LATERAL jsonb_to_recordset(s.checks) c(metric text, value float8, warn float8, alert float8, level text)
 WHERE c.level IN ('warn', 'alert');
COMMENT ON VIEW pgscore.firing IS 'Internal: every condition at warn or alert level now, of each live version and each shadow version';
COMMENT ON COLUMN pgscore.firing.shadow IS 'true for a condition of a shadow version (pgscore.shadow_versions), false for the live version''s';

CREATE VIEW pgscore.alerts AS
SELECT f.model, f.version, f.what, f.subject, f.window_name, f.metric, f.value, f.threshold, f.level, s.first_seen AS since,
       f.shadow,
       -- appended (migration 0126): the silence in force now that matches the row, the one that ends last
       q.ends_at AS silenced_until, q.id AS silence_id
  FROM pgscore.firing f
  LEFT JOIN pgscore.alert_state s ON s.model = f.model AND s.version = f.version AND s.what = f.what
        AND s.subject = f.subject AND s.window_name = f.window_name AND s.metric = f.metric AND s.level = f.level
  LEFT JOIN LATERAL (
        SELECT a.id, a.ends_at FROM pgscore.alert_silences a
         WHERE a.model = f.model AND a.lifted_at IS NULL AND a.starts_at <= now() AND a.ends_at > now()
           AND (a.what IS NULL OR a.what = f.what) AND (a.subject IS NULL OR a.subject = f.subject)
           AND (a.metric IS NULL OR a.metric = f.metric) AND (a.window_name IS NULL OR a.window_name = f.window_name)
           AND (a.shadow IS NULL OR a.shadow = f.shadow)
         ORDER BY a.ends_at DESC, a.id DESC LIMIT 1) q ON true
 ORDER BY f.level = 'alert' DESC, f.model, f.shadow, f.version, f.what, f.subject, f.sort_order, f.metric;
COMMENT ON COLUMN pgscore.alerts.level IS 'warn or alert: the level the condition reached (conditions below warn are not listed)';
COMMENT ON VIEW pgscore.alerts IS 'Every firing condition: drift of a feature or the score, of a classifier''s predicted-class mix (what class, subject mix, metric class_mix: pgscore.class_drift, since 0122; the live version''s alone), or realised performance (subject outcomes: the window''s predictions judged so far; since 0125 subject outcomes by recorded time: the predictions whose outcome was recorded in the window, realised_performance_by_outcome_time), at warn or alert level in some window, of each model''s live version and of each shadow version scored next to it (shadow true)';
COMMENT ON COLUMN pgscore.alerts.shadow IS 'true for a condition of a version scored in shadow (pgscore.shadow_versions): its drift against its own baseline, its realised performance by its own predictions (as realised_performance_by_version); false for the live version''s';
COMMENT ON COLUMN pgscore.alerts.silenced_until IS 'When the silence in force now that matches the condition ends (pgscore.alert_silences: not lifted, begun, not ended; the one that ends last where several match); NULL: not silenced. A silenced condition is listed still; pgscore drift and status do not count it';
COMMENT ON COLUMN pgscore.alerts.silence_id IS 'That silence''s id (pgscore.alert_silences.id); NULL: not silenced';

CREATE VIEW pgscore.window_checks AS
SELECT c.model, c.version, c.what, c.subject, c.window_name, k.metric, k.value, k.n, k.warn, k.alert, k.min_n,
       k.confidence, k.floor, k.level, k.held_back_from,
       -- appended (migration 0091), so that the readers of the columns before keep them
       k.family, k.family_features, k.check_confidence
  FROM (SELECT s.name AS model, s.version, s.kind AS what, s.feature AS subject, s.period AS window_name,
               s.sort_order, s.kind = 'score' AS last, s.position, s.checks
          FROM pgscore.drift_stats() s
         WHERE s.period_kind = 'window'
        UNION ALL
        SELECT p.name, p.version, 'performance', 'outcomes', p.period, p.sort_order, true, NULL, p.checks
          FROM pgscore.performance_stats_of(false, NULL, 'window') p
         WHERE p.period_kind = 'window') c
 CROSS JOIN LATERAL pgscore.check_rows(c.checks) k
 ORDER BY c.model, c.what = 'performance', c.last, c.position, c.sort_order, k.metric;
COMMENT ON VIEW pgscore.window_checks IS 'Per live model and window, each metric checked of its features'' and score''s drift and of its realised performance: the value, thresholds, confidence and noise floor, the level, and whether (held_back_from) the noise floor held at ok a value that reached a threshold';
COMMENT ON COLUMN pgscore.window_checks.n IS 'How many values (outcomes, for realised performance) the metric was judged on';
COMMENT ON COLUMN pgscore.window_checks.confidence IS 'The metric''s drift_thresholds.confidence: its level is warn or alert only above its noise floor too, which for a drift metric is family-wise over the model''s features and score (each of k at confidence^(1/k)) and for realised performance at this confidence; NULL: judged by the thresholds alone';
COMMENT ON COLUMN pgscore.window_checks.floor IS 'What sampling alone makes the metric reach at the window''s size (pgscore.noise_floor): a drift metric''s at confidence^(1/k), k the model''s features and score, realised performance''s at the confidence; NULL at a NULL confidence or where the window holds no value';
COMMENT ON COLUMN pgscore.window_checks.level IS 'ok, warn or alert (or no_data, insufficient_data, not_applicable when the metric cannot be judged), by the thresholds and the noise floor';
COMMENT ON COLUMN pgscore.window_checks.held_back_from IS 'warn or alert: the level the value reached by the thresholds alone that its noise floor held back to ok; NULL when it held nothing back';
COMMENT ON COLUMN pgscore.window_checks.family IS 'A drift metric''s k: the features and score of the model its noise floor is family-wise over (the floor is at confidence^(1/k)); NULL for realised performance and where confidence is NULL';
COMMENT ON COLUMN pgscore.window_checks.family_features IS 'How many of the family''s k are features (k - family_features is 1 where the score is one of them); NULL where family is';
COMMENT ON COLUMN pgscore.window_checks.check_confidence IS 'The confidence the noise floor is at: a drift metric''s confidence^(1/k), k its family; NULL for realised performance (its floor is at confidence) and where confidence is NULL';

-- the comments, owners and grants they had (the view's comments on the columns it still has)
DO $do$
DECLARE
    r record;
    v_role text;
    v_grant text;
    v_more boolean;
    v_stuck boolean := false;
    v_made integer;
BEGIN
    FOR r IN SELECT c.attname, c.description FROM pgscore_0133_window_checks_comments c
               JOIN pg_catalog.pg_attribute a ON a.attname = c.attname
                AND a.attrelid = 'pgscore.window_checks'::pg_catalog.regclass AND a.attnum > 0
              WHERE c.description IS NOT NULL LOOP
        EXECUTE pg_catalog.format('COMMENT ON COLUMN pgscore.window_checks.%I IS %L', r.attname, r.description);
    END LOOP;
    -- regrole's text is the role's name quoted as an identifier where it needs to be
    EXECUTE pg_catalog.format('ALTER VIEW pgscore.window_checks OWNER TO %s',
                              (SELECT v.owner::pg_catalog.regrole FROM pgscore_0133_window_checks_view v LIMIT 1));
    -- every grant made again as its grantor made it (a DBA's grant WITH GRANT OPTION, and what its grantee granted
    -- on: as the owner, each would name the owner as its grantor, and revoking the grantee's CASCADE would leave
    -- the third role its access), a grantee's grants after the one that gave it the option
    CREATE TEMPORARY TABLE pgscore_0133_window_checks_regrants AS
    SELECT 0 AS kind, NULL::pg_catalog.name AS attname, v.grantor, v.grantee, v.privilege_type, v.is_grantable, v.owner
      FROM pgscore_0133_window_checks_view v WHERE v.privilege_type IS NOT NULL AND v.grantee IS DISTINCT FROM v.owner
    UNION ALL
    SELECT 1, g.attname, g.grantor, g.grantee, g.privilege_type, g.is_grantable, (SELECT v.owner FROM pgscore_0133_window_checks_view v LIMIT 1)
      FROM pgscore_0133_window_checks_column_grants g
      JOIN pg_catalog.pg_attribute a ON a.attname = g.attname
       AND a.attrelid = 'pgscore.window_checks'::pg_catalog.regclass AND a.attnum > 0
;
    CREATE TEMPORARY TABLE pgscore_0133_window_checks_regranted AS SELECT g.kind, g.attname, g.grantor, g.grantee, g.privilege_type
      FROM pgscore_0133_window_checks_regrants g WHERE false;
    v_role := pg_catalog.current_setting('role');
    LOOP
        v_more := false;
        v_made := 0;
        FOR r IN SELECT g.* FROM pgscore_0133_window_checks_regrants g ORDER BY g.kind, g.grantor = g.owner DESC LOOP
            CONTINUE WHEN EXISTS (SELECT FROM pgscore_0133_window_checks_regranted d
                                   WHERE (d.kind, d.attname, d.grantor, d.grantee, d.privilege_type)
                                         IS NOT DISTINCT FROM (r.kind, r.attname, r.grantor, r.grantee, r.privilege_type));
            -- the grantor holds the grant option again (or is the owner), or no grant made here will give it
            IF NOT (r.grantor = r.owner OR v_stuck OR EXISTS (
                    SELECT FROM pg_catalog.aclexplode((SELECT c.relacl FROM pg_catalog.pg_class c
                                                     WHERE c.oid = 'pgscore.window_checks'::pg_catalog.regclass)) x
                     WHERE x.grantee = r.grantor AND x.privilege_type = r.privilege_type AND x.is_grantable)
                 OR (r.kind = 1 AND EXISTS (
                    SELECT FROM pg_catalog.pg_attribute a CROSS JOIN LATERAL pg_catalog.aclexplode(a.attacl) x
                     WHERE a.attrelid = 'pgscore.window_checks'::pg_catalog.regclass AND a.attname = r.attname
                       AND x.grantee = r.grantor AND x.privilege_type = r.privilege_type AND x.is_grantable))) THEN
                v_more := true;
                CONTINUE;
            END IF;
            v_grant := pg_catalog.format('GRANT %s%s ON %s TO %s%s', r.privilege_type,
                                         CASE WHEN r.kind = 1 THEN pg_catalog.format(' (%I)', r.attname) ELSE '' END,
                                         'pgscore.window_checks',
                                         CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE r.grantee::pg_catalog.regrole::pg_catalog.text END,
                                         CASE WHEN r.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
            BEGIN
                IF r.grantor <> r.owner AND NOT v_stuck THEN
                    PERFORM pg_catalog.set_config('role', pg_catalog.pg_get_userbyid(r.grantor), false);
                END IF;
                EXECUTE v_grant;
                PERFORM pg_catalog.set_config('role', v_role, false);
            EXCEPTION WHEN insufficient_privilege OR invalid_grant_operation OR invalid_parameter_value THEN
                -- this role may not act as the grantor (or the grantor no longer may grant): made as the owner
                RAISE WARNING 'pgscore''s migration 0133 made % as the owner, not as its grantor: %', v_grant, SQLERRM;
                EXECUTE v_grant;
            END;
            INSERT INTO pgscore_0133_window_checks_regranted VALUES (r.kind, r.attname, r.grantor, r.grantee, r.privilege_type);
            v_made := v_made + 1;
        END LOOP;
        EXIT WHEN NOT v_more;
        -- a pass that made nothing: the rest as the owner would (a grantor whose option came from nowhere here)
        v_stuck := v_made = 0;
    END LOOP;
END
$do$;
DROP TABLE pgscore_0133_window_checks_comments;
DROP TABLE pgscore_0133_window_checks_column_grants;
DROP TABLE pgscore_0133_window_checks_view;
DROP TABLE pgscore_0133_window_checks_regrants;


-- the comments, owners and grants they had (the view's comments on the columns it still has)
DO $do$
DECLARE
    r record;
    v_role text;
    v_grant text;
    v_more boolean;
    v_stuck boolean := false;
    v_made integer;
BEGIN
    FOR r IN SELECT c.attname, c.description FROM pgscore_0133_alerts_comments c
               JOIN pg_catalog.pg_attribute a ON a.attname = c.attname
                AND a.attrelid = 'pgscore.alerts'::pg_catalog.regclass AND a.attnum > 0
              WHERE c.description IS NOT NULL LOOP
        EXECUTE pg_catalog.format('COMMENT ON COLUMN pgscore.alerts.%I IS %L', r.attname, r.description);
    END LOOP;
    -- regrole's text is the role's name quoted as an identifier where it needs to be
    EXECUTE pg_catalog.format('ALTER VIEW pgscore.alerts OWNER TO %s',
                              (SELECT v.owner::pg_catalog.regrole FROM pgscore_0133_alerts_view v LIMIT 1));
    -- every grant made again as its grantor made it (a DBA's grant WITH GRANT OPTION, and what its grantee granted
    -- on: as the owner, each would name the owner as its grantor, and revoking the grantee's CASCADE would leave
    -- the third role its access), a grantee's grants after the one that gave it the option
    CREATE TEMPORARY TABLE pgscore_0133_alerts_regrants AS
    SELECT 0 AS kind, NULL::pg_catalog.name AS attname, v.grantor, v.grantee, v.privilege_type, v.is_grantable, v.owner
      FROM pgscore_0133_alerts_view v WHERE v.privilege_type IS NOT NULL AND v.grantee IS DISTINCT FROM v.owner
    UNION ALL
    SELECT 1, g.attname, g.grantor, g.grantee, g.privilege_type, g.is_grantable, (SELECT v.owner FROM pgscore_0133_alerts_view v LIMIT 1)
      FROM pgscore_0133_alerts_column_grants g
      JOIN pg_catalog.pg_attribute a ON a.attname = g.attname
       AND a.attrelid = 'pgscore.alerts'::pg_catalog.regclass AND a.attnum > 0
;
    CREATE TEMPORARY TABLE pgscore_0133_alerts_regranted AS SELECT g.kind, g.attname, g.grantor, g.grantee, g.privilege_type
      FROM pgscore_0133_alerts_regrants g WHERE false;
    v_role := pg_catalog.current_setting('role');
    LOOP
        v_more := false;
        v_made := 0;
        FOR r IN SELECT g.* FROM pgscore_0133_alerts_regrants g ORDER BY g.kind, g.grantor = g.owner DESC LOOP
            CONTINUE WHEN EXISTS (SELECT FROM pgscore_0133_alerts_regranted d
                                   WHERE (d.kind, d.attname, d.grantor, d.grantee, d.privilege_type)
                                         IS NOT DISTINCT FROM (r.kind, r.attname, r.grantor, r.grantee, r.privilege_type));
            -- the grantor holds the grant option again (or is the owner), or no grant made here will give it
            IF NOT (r.grantor = r.owner OR v_stuck OR EXISTS (
                    SELECT FROM pg_catalog.aclexplode((SELECT c.relacl FROM pg_catalog.pg_class c
                                                     WHERE c.oid = 'pgscore.alerts'::pg_catalog.regclass)) x
                     WHERE x.grantee = r.grantor AND x.privilege_type = r.privilege_type AND x.is_grantable)
                 OR (r.kind = 1 AND EXISTS (
                    SELECT FROM pg_catalog.pg_attribute a CROSS JOIN LATERAL pg_catalog.aclexplode(a.attacl) x
                     WHERE a.attrelid = 'pgscore.alerts'::pg_catalog.regclass AND a.attname = r.attname
                       AND x.grantee = r.grantor AND x.privilege_type = r.privilege_type AND x.is_grantable))) THEN
                v_more := true;
                CONTINUE;
            END IF;
            v_grant := pg_catalog.format('GRANT %s%s ON %s TO %s%s', r.privilege_type,
                                         CASE WHEN r.kind = 1 THEN pg_catalog.format(' (%I)', r.attname) ELSE '' END,
                                         'pgscore.alerts',
                                         CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE r.grantee::pg_catalog.regrole::pg_catalog.text END,
                                         CASE WHEN r.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
            BEGIN
                IF r.grantor <> r.owner AND NOT v_stuck THEN
                    PERFORM pg_catalog.set_config('role', pg_catalog.pg_get_userbyid(r.grantor), false);
                END IF;
                EXECUTE v_grant;
                PERFORM pg_catalog.set_config('role', v_role, false);
            EXCEPTION WHEN insufficient_privilege OR invalid_grant_operation OR invalid_parameter_value THEN
                -- this role may not act as the grantor (or the grantor no longer may grant): made as the owner
                RAISE WARNING 'pgscore''s migration 0133 made % as the owner, not as its grantor: %', v_grant, SQLERRM;
                EXECUTE v_grant;
            END;
            INSERT INTO pgscore_0133_alerts_regranted VALUES (r.kind, r.attname, r.grantor, r.grantee, r.privilege_type);
            v_made := v_made + 1;
        END LOOP;
        EXIT WHEN NOT v_more;
        -- a pass that made nothing: the rest as the owner would (a grantor whose option came from nowhere here)
        v_stuck := v_made = 0;
    END LOOP;
END
$do$;
DROP TABLE pgscore_0133_alerts_comments;
DROP TABLE pgscore_0133_alerts_column_grants;
DROP TABLE pgscore_0133_alerts_view;
DROP TABLE pgscore_0133_alerts_regrants;


-- the comments, owners and grants they had (the view's comments on the columns it still has)
DO $do$
DECLARE
    r record;
    v_role text;
    v_grant text;
    v_more boolean;
    v_stuck boolean := false;
    v_made integer;
BEGIN
    FOR r IN SELECT c.attname, c.description FROM pgscore_0133_firing_comments c
               JOIN pg_catalog.pg_attribute a ON a.attname = c.attname
                AND a.attrelid = 'pgscore.firing'::pg_catalog.regclass AND a.attnum > 0
              WHERE c.description IS NOT NULL LOOP
        EXECUTE pg_catalog.format('COMMENT ON COLUMN pgscore.firing.%I IS %L', r.attname, r.description);
    END LOOP;
    -- regrole's text is the role's name quoted as an identifier where it needs to be
    EXECUTE pg_catalog.format('ALTER VIEW pgscore.firing OWNER TO %s',
                              (SELECT v.owner::pg_catalog.regrole FROM pgscore_0133_firing_view v LIMIT 1));
    -- every grant made again as its grantor made it (a DBA's grant WITH GRANT OPTION, and what its grantee granted
    -- on: as the owner, each would name the owner as its grantor, and revoking the grantee's CASCADE would leave
    -- the third role its access), a grantee's grants after the one that gave it the option
    CREATE TEMPORARY TABLE pgscore_0133_firing_regrants AS
    SELECT 0 AS kind, NULL::pg_catalog.name AS attname, v.grantor, v.grantee, v.privilege_type, v.is_grantable, v.owner
      FROM pgscore_0133_firing_view v WHERE v.privilege_type IS NOT NULL AND v.grantee IS DISTINCT FROM v.owner
    UNION ALL
    SELECT 1, g.attname, g.grantor, g.grantee, g.privilege_type, g.is_grantable, (SELECT v.owner FROM pgscore_0133_firing_view v LIMIT 1)
      FROM pgscore_0133_firing_column_grants g
      JOIN pg_catalog.pg_attribute a ON a.attname = g.attname
       AND a.attrelid = 'pgscore.firing'::pg_catalog.regclass AND a.attnum > 0
;
    CREATE TEMPORARY TABLE pgscore_0133_firing_regranted AS SELECT g.kind, g.attname, g.grantor, g.grantee, g.privilege_type
      FROM pgscore_0133_firing_regrants g WHERE false;
    v_role := pg_catalog.current_setting('role');
    LOOP
        v_more := false;
        v_made := 0;
        FOR r IN SELECT g.* FROM pgscore_0133_firing_regrants g ORDER BY g.kind, g.grantor = g.owner DESC LOOP
            CONTINUE WHEN EXISTS (SELECT FROM pgscore_0133_firing_regranted d
                                   WHERE (d.kind, d.attname, d.grantor, d.grantee, d.privilege_type)
                                         IS NOT DISTINCT FROM (r.kind, r.attname, r.grantor, r.grantee, r.privilege_type));
            -- the grantor holds the grant option again (or is the owner), or no grant made here will give it
            IF NOT (r.grantor = r.owner OR v_stuck OR EXISTS (
                    SELECT FROM pg_catalog.aclexplode((SELECT c.relacl FROM pg_catalog.pg_class c
                                                     WHERE c.oid = 'pgscore.firing'::pg_catalog.regclass)) x
                     WHERE x.grantee = r.grantor AND x.privilege_type = r.privilege_type AND x.is_grantable)
                 OR (r.kind = 1 AND EXISTS (
                    SELECT FROM pg_catalog.pg_attribute a CROSS JOIN LATERAL pg_catalog.aclexplode(a.attacl) x
                     WHERE a.attrelid = 'pgscore.firing'::pg_catalog.regclass AND a.attname = r.attname
                       AND x.grantee = r.grantor AND x.privilege_type = r.privilege_type AND x.is_grantable))) THEN
                v_more := true;
                CONTINUE;
            END IF;
            v_grant := pg_catalog.format('GRANT %s%s ON %s TO %s%s', r.privilege_type,
                                         CASE WHEN r.kind = 1 THEN pg_catalog.format(' (%I)', r.attname) ELSE '' END,
                                         'pgscore.firing',
                                         CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE r.grantee::pg_catalog.regrole::pg_catalog.text END,
                                         CASE WHEN r.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
            BEGIN
                IF r.grantor <> r.owner AND NOT v_stuck THEN
                    PERFORM pg_catalog.set_config('role', pg_catalog.pg_get_userbyid(r.grantor), false);
                END IF;
                EXECUTE v_grant;
                PERFORM pg_catalog.set_config('role', v_role, false);
            EXCEPTION WHEN insufficient_privilege OR invalid_grant_operation OR invalid_parameter_value THEN
                -- this role may not act as the grantor (or the grantor no longer may grant): made as the owner
                RAISE WARNING 'pgscore''s migration 0133 made % as the owner, not as its grantor: %', v_grant, SQLERRM;
                EXECUTE v_grant;
            END;
            INSERT INTO pgscore_0133_firing_regranted VALUES (r.kind, r.attname, r.grantor, r.grantee, r.privilege_type);
            v_made := v_made + 1;
        END LOOP;
        EXIT WHEN NOT v_more;
        -- a pass that made nothing: the rest as the owner would (a grantor whose option came from nowhere here)
        v_stuck := v_made = 0;
    END LOOP;
END
$do$;
DROP TABLE pgscore_0133_firing_comments;
DROP TABLE pgscore_0133_firing_column_grants;
DROP TABLE pgscore_0133_firing_view;
DROP TABLE pgscore_0133_firing_regrants;


DROP FUNCTION pgscore.effective_thresholds(text, text, text);
DROP TABLE pgscore.threshold_writes;

ALTER TABLE pgscore.drift_threshold_overrides DROP CONSTRAINT drift_threshold_overrides_confidence_check;
-- (a row that set confidence 0 alone would be empty: dropped, as clear_thresholds would; another's 0 becomes NULL,
-- inherited: 0132 has no way to say "no noise floor" for one model. Each said with a WARNING, as 0052's downgrade
-- says what it cannot keep, rather than refuse: a refusal would block an operator's rollback)
DO $do$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT o.model, o.metric, o.subject,
                    o.warn IS NULL AND o.alert IS NULL AND o.min_n IS NULL AS alone
               FROM pgscore.drift_threshold_overrides o
              WHERE o.confidence = 0
              ORDER BY o.model, o.metric, o.subject NULLS FIRST LOOP
        IF r.alone THEN
            DELETE FROM pgscore.drift_threshold_overrides o
             WHERE o.model = r.model AND o.metric = r.metric AND o.subject IS NOT DISTINCT FROM r.subject;
        ELSE
            UPDATE pgscore.drift_threshold_overrides o SET confidence = NULL
             WHERE o.model = r.model AND o.metric = r.metric AND o.subject IS NOT DISTINCT FROM r.subject;
        END IF;
        RAISE WARNING 'pgscore''s migration 0133 downgrade: the override of % of model % set confidence 0 (no noise floor), which revision 0132 cannot hold: %',
                      r.metric, quote_literal(r.model)
                      || CASE WHEN r.subject IS NOT NULL THEN ', subject ' || quote_literal(r.subject) ELSE ' (the model''s)' END,
                      CASE WHEN r.alone THEN 'deleted (it set nothing else), so its metric is judged with the noise floor it inherits again'
                           ELSE 'its confidence NULL (inherited), so its metric is judged with the noise floor it inherits again, its other thresholds kept' END
            USING HINT = 'to judge the metric by its thresholds alone at revision 0132, set pgscore.drift_thresholds.confidence NULL for it (every model''s); or upgrade again and set confidence 0 with pgscore.set_thresholds';
    END LOOP;
END
$do$;
ALTER TABLE pgscore.drift_threshold_overrides ADD CONSTRAINT drift_threshold_overrides_confidence_check
    CHECK (confidence > 0 AND confidence < 1);

COMMENT ON COLUMN pgscore.drift_threshold_overrides.confidence IS 'The noise floor''s confidence, family-wise over the model''s features and score as drift_thresholds.confidence is (each check at confidence^(1/k)); NULL: inherited; class_mix has no noise floor, so none';
