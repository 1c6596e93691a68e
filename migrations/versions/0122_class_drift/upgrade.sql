-- 0122 class_drift: a classifier's predicted-class mix against its mix at deploy (pgscore.class_drift, the
-- class_mix check in alerts): a class baseline kind, its threshold row, its bins in prediction_values (so the
-- rollups count it), and the views that read every baseline row (drift_stats_of, baseline_bins) kept to the
-- features' and score's
ALTER TABLE pgscore.baselines DROP CONSTRAINT baselines_kind_check;
ALTER TABLE pgscore.baselines ADD CONSTRAINT baselines_kind_check CHECK (kind IN ('feature', 'score', 'class'));
ALTER TABLE pgscore.baselines ADD CONSTRAINT baselines_class_check CHECK (kind <> 'class' OR (feature = 'class' AND position = 0
        AND cardinality(expected) >= 2 AND mean IS NULL AND std IS NULL AND min IS NULL AND max IS NULL));
COMMENT ON TABLE pgscore.baselines IS 'Per model: the training distribution of each feature and of the score (bin edges, expected fractions, mean, std, min, max, null rate, n), and (kind class, since 0122) a multiclass model''s share of each predicted class';

ALTER TABLE pgscore.drift_thresholds DROP CONSTRAINT drift_thresholds_metric_check;
ALTER TABLE pgscore.drift_thresholds ADD CONSTRAINT drift_thresholds_metric_check CHECK (metric IN (
        'psi', 'ks', 'js', 'mean_shift', 'null_rate', 'out_of_range',
        'auc_drop', 'accuracy_drop', 'brier_rise', 'rmse_rise', 'class_mix'));
INSERT INTO pgscore.drift_thresholds (metric, warn, alert, min_n, description, confidence) VALUES
    ('class_mix', 0.1, 0.2, 100, 'population stability index over a multiclass model''s predicted classes (pgscore.class_drift): the share of each class in the window against its share at deploy; the cut-offs are PSI''s', NULL);

CREATE OR REPLACE VIEW pgscore.prediction_values AS
SELECT l.model_id, l.logged_at, b.kind, b.position, v.x,
       CASE WHEN v.x IS NULL OR v.x = 'NaN'::float8 THEN -1 ELSE width_bucket(v.x, b.edges) END AS bin,
       (v.x <> 'NaN'::float8 AND (v.x < b.min OR v.x > b.max)) AS out_of_range
  FROM pgscore.prediction_log l
  JOIN pgscore.baselines b ON b.model_id = l.model_id AND b.kind <> 'class'
 CROSS JOIN LATERAL (SELECT CASE WHEN b.kind = 'score' THEN l.score ELSE l.features[b.position + 1] END AS x) v
 WHERE pg_column_size(l.features) <= 1024 AND pg_column_compression(l.features) IS NULL
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
base AS MATERIALIZED (
    SELECT live.model_id, live.name, live.version, b.kind, b.feature, b.position, b.edges, b.expected, b.mean,
           b.std, b.null_rate, b.n AS base_n,
           -- constant at training (min = max), whatever std the float arithmetic left (before 0036: 1.1e-16
           -- for a column of 0.3, which made any mean shift of it an alert)
           b.std = 0 OR b.min = b.max AS constant,
           -- the model's features and score: each metric's floors are family-wise over them (0088, below); how
           -- many of them are features, which each check says with the family (0091)
           count(*) OVER (PARTITION BY live.model_id) AS family,
           count(*) FILTER (WHERE b.kind = 'feature') OVER (PARTITION BY live.model_id) AS family_features
      FROM live JOIN pgscore.baselines b ON b.model_id = live.model_id AND b.kind IN ('feature', 'score')  -- (0122)
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
-- but for its value, n and level built once
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
                       jsonb_build_object('metric', 'psi', 'warn', t.psi_warn, 'alert', t.psi_alert, 'min_n', t.psi_min_n) || CASE WHEN t.psi_confidence IS NOT NULL THEN jsonb_build_object('confidence', t.psi_confidence) ELSE '{}' END AS psi_check,
                       jsonb_build_object('metric', 'ks', 'warn', t.ks_warn, 'alert', t.ks_alert, 'min_n', t.ks_min_n) || CASE WHEN t.ks_confidence IS NOT NULL THEN jsonb_build_object('confidence', t.ks_confidence) ELSE '{}' END AS ks_check,
                       jsonb_build_object('metric', 'js', 'warn', t.js_warn, 'alert', t.js_alert, 'min_n', t.js_min_n) || CASE WHEN t.js_confidence IS NOT NULL THEN jsonb_build_object('confidence', t.js_confidence) ELSE '{}' END AS js_check,
                       jsonb_build_object('metric', 'mean_shift', 'warn', t.mean_shift_warn, 'alert', t.mean_shift_alert, 'min_n', t.mean_shift_min_n) || CASE WHEN t.mean_shift_confidence IS NOT NULL THEN jsonb_build_object('confidence', t.mean_shift_confidence) ELSE '{}' END AS mean_shift_check,
                       jsonb_build_object('metric', 'null_rate', 'warn', t.null_rate_warn, 'alert', t.null_rate_alert, 'min_n', t.null_rate_min_n) || CASE WHEN t.null_rate_confidence IS NOT NULL THEN jsonb_build_object('confidence', t.null_rate_confidence) ELSE '{}' END AS null_rate_check,
                       jsonb_build_object('metric', 'out_of_range', 'warn', t.out_of_range_warn, 'alert', t.out_of_range_alert, 'min_n', t.out_of_range_min_n) || CASE WHEN t.out_of_range_confidence IS NOT NULL THEN jsonb_build_object('confidence', t.out_of_range_confidence) ELSE '{}' END AS out_of_range_check
      FROM (SELECT max(t.warn) FILTER (WHERE t.metric = 'psi') AS psi_warn, max(t.alert) FILTER (WHERE t.metric = 'psi') AS psi_alert,
                   max(t.min_n) FILTER (WHERE t.metric = 'psi') AS psi_min_n, max(t.confidence) FILTER (WHERE t.metric = 'psi') AS psi_confidence,
                   max(t.warn) FILTER (WHERE t.metric = 'ks') AS ks_warn, max(t.alert) FILTER (WHERE t.metric = 'ks') AS ks_alert,
                   max(t.min_n) FILTER (WHERE t.metric = 'ks') AS ks_min_n, max(t.confidence) FILTER (WHERE t.metric = 'ks') AS ks_confidence,
                   max(t.warn) FILTER (WHERE t.metric = 'js') AS js_warn, max(t.alert) FILTER (WHERE t.metric = 'js') AS js_alert,
                   max(t.min_n) FILTER (WHERE t.metric = 'js') AS js_min_n, max(t.confidence) FILTER (WHERE t.metric = 'js') AS js_confidence,
                   max(t.warn) FILTER (WHERE t.metric = 'mean_shift') AS mean_shift_warn, max(t.alert) FILTER (WHERE t.metric = 'mean_shift') AS mean_shift_alert,
                   max(t.min_n) FILTER (WHERE t.metric = 'mean_shift') AS mean_shift_min_n, max(t.confidence) FILTER (WHERE t.metric = 'mean_shift') AS mean_shift_confidence,
                   max(t.warn) FILTER (WHERE t.metric = 'null_rate') AS null_rate_warn, max(t.alert) FILTER (WHERE t.metric = 'null_rate') AS null_rate_alert,
                   max(t.min_n) FILTER (WHERE t.metric = 'null_rate') AS null_rate_min_n, max(t.confidence) FILTER (WHERE t.metric = 'null_rate') AS null_rate_confidence,
                   max(t.warn) FILTER (WHERE t.metric = 'out_of_range') AS out_of_range_warn, max(t.alert) FILTER (WHERE t.metric = 'out_of_range') AS out_of_range_alert,
                   max(t.min_n) FILTER (WHERE t.metric = 'out_of_range') AS out_of_range_min_n, max(t.confidence) FILTER (WHERE t.metric = 'out_of_range') AS out_of_range_confidence
              FROM pgscore.drift_thresholds t) t) t
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
           b.base_n, b.null_rate, b.expected, b.family
      FROM stats s
      JOIN base b ON b.model_id = s.model_id AND b.kind = s.kind AND b.position = s.position
     WHERE s.n > 0
),
size_floors AS MATERIALIZED (
    SELECT k.n_valid, k.n_base, k.family,
           CASE WHEN th.ks_confidence IS NOT NULL THEN pgscore.noise_floor('ks', k.n_valid, nullif(k.n_base, 0), NULL, th.ks_confidence ^ (1 / k.family::float8)) END AS ks,
           CASE WHEN th.mean_shift_confidence IS NOT NULL THEN pgscore.noise_floor('mean_shift', k.n_valid, nullif(k.n_base, 0), NULL, th.mean_shift_confidence ^ (1 / k.family::float8)) END AS mean_shift,
           CASE WHEN th.out_of_range_confidence IS NOT NULL THEN pgscore.noise_floor('out_of_range', k.n_valid, nullif(k.n_base, 0), NULL, th.out_of_range_confidence ^ (1 / k.family::float8)) END AS out_of_range
      FROM (SELECT DISTINCT z.n_valid, z.n_base, z.family FROM sized z WHERE z.n_valid > 0) k
     CROSS JOIN th
),
null_floors AS MATERIALIZED (
    SELECT k.n, k.base_n, k.null_rate, k.family,
           CASE WHEN th.null_rate_confidence IS NOT NULL THEN pgscore.noise_floor('null_rate', k.n, nullif(k.base_n, 0), NULL, th.null_rate_confidence ^ (1 / k.family::float8), k.null_rate) END AS floor
      FROM (SELECT DISTINCT z.n, z.base_n, z.null_rate, z.family FROM sized z) k
     CROSS JOIN th
),
js_floors AS MATERIALIZED (
    SELECT k.n_valid, k.n_base, k.expected, k.family,
           CASE WHEN th.js_confidence IS NOT NULL THEN pgscore.noise_floor('js', k.n_valid, nullif(k.n_base, 0), k.expected, th.js_confidence ^ (1 / k.family::float8)) END AS js
      FROM (SELECT DISTINCT z.n_valid, z.n_base, z.expected, z.family FROM sized z WHERE z.n_valid > 0) k
     CROSS JOIN th
),
-- what each check with a confidence says of its family (migration 0091), per model and metric: the model's k
-- (its features and score), how many of them are features, and the confidence c^(1/k) its floor is at (the one
-- the floors above are computed at), as the text its checks are built of and as jsonb; NULL at a NULL confidence
fam AS MATERIALIZED (
    SELECT f.model_id,
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
      FROM (SELECT DISTINCT b.model_id, b.family, b.family_features FROM base b) f
     CROSS JOIN th
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
 CROSS JOIN th
  JOIN base b ON b.model_id = s.model_id AND b.kind = s.kind AND b.position = s.position
  JOIN fam fm ON fm.model_id = b.model_id
 -- each metric's noise floor at the window's and the baseline's sizes (migration 0085; NULL: the window holds no
 -- value, or the metric's confidence is NULL and the thresholds alone judge it), found among the distinct ones
 -- (0086; n_base 0: a baseline of no valid value, NULL to noise_floor)
 CROSS JOIN LATERAL (SELECT coalesce(nullif(round(b.base_n * (1 - b.null_rate)), 0)::bigint, 0) AS n_base) nb
  LEFT JOIN size_floors fs ON s.n_valid > 0 AND fs.n_valid = s.n_valid AND fs.n_base = nb.n_base
                          AND fs.family = b.family
  LEFT JOIN null_floors fn ON s.n > 0 AND fn.n = s.n AND fn.base_n = b.base_n AND fn.null_rate = b.null_rate
                          AND fn.family = b.family
  LEFT JOIN js_floors fj ON s.n_valid > 0 AND fj.n_valid = s.n_valid AND fj.n_base = nb.n_base
                        AND fj.expected = b.expected AND fj.family = b.family
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

CREATE OR REPLACE VIEW pgscore.baseline_bins AS
SELECT m.name AS model, m.version, b.model_id, b.kind, b.feature, b.position, (e.i - 1)::integer AS bin,
       b.edges[e.i - 1] AS lower_edge, b.edges[e.i] AS upper_edge, e.expected,
       b.n AS baseline_n, b.null_rate AS baseline_null_rate, b.mean AS baseline_mean, b.std AS baseline_std,
       b.min AS baseline_min, b.max AS baseline_max
  FROM pgscore.baselines b
  JOIN pgscore.models m ON m.model_id = b.model_id
 CROSS JOIN LATERAL unnest(b.expected) WITH ORDINALITY AS e(expected, i)
 WHERE b.kind IN ('feature', 'score')  -- the class mix's (0122): pgscore.class_drift's baseline_shares
 ORDER BY m.name, m.version, b.kind = 'score', b.position, e.i;

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
WITH live AS MATERIALIZED (
    SELECT lm.model_id, lm.name, lm.version, lm.task, ARRAY(SELECT jsonb_array_elements_text(lm.classes)) AS classes,
           b.expected, b.n AS base_n
      FROM pgscore.live_models lm
      LEFT JOIN pgscore.baselines b ON b.model_id = lm.model_id AND b.kind = 'class'
     WHERE lm.task IN ('binary', 'multiclass') AND jsonb_typeof(lm.classes) = 'array'
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
  LEFT JOIN LATERAL pgscore.judge(ARRAY['class_mix'], ARRAY[m.psi], ARRAY[coalesce(m.n, 0)]) j
         ON l.expected IS NOT NULL
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
REVOKE EXECUTE ON FUNCTION pgscore.class_counts_of(bigint[]) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION pgscore.class_drift_stats() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgscore.class_drift_stats() TO pgscore_reader, pgscore_admin;
GRANT SELECT ON pgscore.class_drift TO pgscore_reader, pgscore_admin;

CREATE OR REPLACE VIEW pgscore.performance_rows AS
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
          FROM pgscore.performance_stats_of(false, NULL, 'window') p
          JOIN pgscore.models m ON m.model_id = p.model_id) p
 WHERE period_kind = 'window';

CREATE OR REPLACE VIEW pgscore.firing AS
SELECT s.name AS model, s.version, s.kind AS what, s.feature AS subject, s.period AS window_name, s.sort_order,
       c.metric, c.value, CASE c.level WHEN 'alert' THEN c.alert ELSE c.warn END AS threshold, c.level,
       false AS shadow
  FROM pgscore.window_drift_stats() s
 CROSS JOIN LATERAL jsonb_to_recordset(s.checks) c(metric text, value float8, warn float8, alert float8, level text)
 WHERE c.level IN ('warn', 'alert')
UNION ALL
SELECT r.name, r.version, 'performance', 'outcomes', r.period, r.sort_order, c.metric, (c.value)::float8,
       (CASE c.level WHEN 'alert' THEN c.alert ELSE c.warn END)::float8, c.level, false
  FROM pgscore.performance_stats_of(false, NULL, 'window') r
 CROSS JOIN LATERAL jsonb_to_recordset(r.checks) c(metric text, value float8, warn float8, alert float8, level text)
 WHERE r.period_kind = 'window' AND c.level IN ('warn', 'alert')
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
COMMENT ON VIEW pgscore.alerts IS 'Every firing condition: drift of a feature or the score, of a classifier''s predicted-class mix (what class, subject mix, metric class_mix: pgscore.class_drift, since 0122; the live version''s alone), or realised performance, at warn or alert level in some window, of each model''s live version and of each shadow version scored next to it (shadow true)';
