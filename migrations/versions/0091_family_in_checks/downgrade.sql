-- 0091 to 0090: the checks without their family, check_rows and window_checks without its columns (0090's
-- definitions, with the comments the view's columns had, the owners and every grant on them).

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
           -- the bins that hold a share: JS's noise floor depends on the baseline through their number alone
           (SELECT count(*) FROM unnest(b.expected) e WHERE e > 0) AS n_shares,
           -- the model's features and score: each metric's floors are family-wise over them (0088, below)
           count(*) OVER (PARTITION BY live.model_id) AS family
      FROM live JOIN pgscore.baselines b ON b.model_id = live.model_id
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
-- rate by the window's size and the baseline's size and null rate, JS by those sizes and the baseline's bins
-- that hold a share (its degrees of freedom: the same floor for any baseline with as many); PSI, which reads
-- the shares, once per feature and period below. Each at the metric's confidence c family-wise over the model's
-- features and score (0088, Sidak): each of its k at c^(1/k), so that on no drift all k stay under their floors
-- with a chance c, whatever k (at c for each, a model of 112 features had some feature at alert in 34% of windows
-- of 100); the model's k is a key of the floors too
sized AS MATERIALIZED (
    SELECT s.n, s.n_valid, coalesce(nullif(round(b.base_n * (1 - b.null_rate)), 0)::bigint, 0) AS n_base,
           b.base_n, b.null_rate, b.expected, b.n_shares AS shares, b.family
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
    SELECT k.n_valid, k.n_base, k.shares, k.family,
           CASE WHEN th.js_confidence IS NOT NULL THEN pgscore.noise_floor('js', k.n_valid, nullif(k.n_base, 0), k.expected, th.js_confidence ^ (1 / k.family::float8)) END AS js
      FROM (SELECT DISTINCT ON (z.n_valid, z.n_base, z.shares, z.family) z.n_valid, z.n_base, z.shares, z.family, z.expected
              FROM sized z WHERE z.n_valid > 0) k
     CROSS JOIN th
)
-- each metric's level and check as pgscore.judge gives them (a metric with no threshold row is left out;
-- none: NULLs), in place: a call of judge per feature and period cost ~55 us, 105,000 calls for 3,000 features
SELECT s.*,
       CASE WHEN th.complete THEN ('[' || th.js_prefix || coalesce(CASE WHEN s.js IN ('Infinity', '-Infinity', 'NaN') THEN to_jsonb(s.js)::text ELSE (s.js)::text END, 'null') || ', "n": ' || s.n_valid || CASE WHEN th.js_confidence IS NOT NULL THEN ', "floor": ' || coalesce((fl.js)::text, 'null') ELSE '' END || ', "level": "' || l.js || '"'
                  || '}, ' || th.ks_prefix || coalesce(CASE WHEN s.ks IN ('Infinity', '-Infinity', 'NaN') THEN to_jsonb(s.ks)::text ELSE (s.ks)::text END, 'null') || ', "n": ' || s.n_valid || CASE WHEN th.ks_confidence IS NOT NULL THEN ', "floor": ' || coalesce((fl.ks)::text, 'null') ELSE '' END || ', "level": "' || l.ks || '"'
                  || '}, ' || th.mean_shift_prefix || coalesce(CASE WHEN abs(s.mean_shift) IN ('Infinity', '-Infinity', 'NaN') THEN to_jsonb(abs(s.mean_shift))::text ELSE (abs(s.mean_shift))::text END, 'null') || ', "n": ' || s.n_valid || CASE WHEN th.mean_shift_confidence IS NOT NULL THEN ', "floor": ' || coalesce((fl.mean_shift)::text, 'null') ELSE '' END || ', "level": "' || l.mean_shift || '"'
                  || '}, ' || th.null_rate_prefix || coalesce(CASE WHEN s.null_rate - s.baseline_null_rate IN ('Infinity', '-Infinity', 'NaN') THEN to_jsonb(s.null_rate - s.baseline_null_rate)::text ELSE (s.null_rate - s.baseline_null_rate)::text END, 'null') || ', "n": ' || s.n || CASE WHEN th.null_rate_confidence IS NOT NULL THEN ', "floor": ' || coalesce((fl.null_rate)::text, 'null') ELSE '' END || ', "level": "' || l.null_rate || '"'
                  || '}, ' || th.out_of_range_prefix || coalesce(CASE WHEN s.out_of_range IN ('Infinity', '-Infinity', 'NaN') THEN to_jsonb(s.out_of_range)::text ELSE (s.out_of_range)::text END, 'null') || ', "n": ' || s.n_valid || CASE WHEN th.out_of_range_confidence IS NOT NULL THEN ', "floor": ' || coalesce((fl.out_of_range)::text, 'null') ELSE '' END || ', "level": "' || l.out_of_range || '"'
                  || '}, ' || th.psi_prefix || coalesce(CASE WHEN s.psi IN ('Infinity', '-Infinity', 'NaN') THEN to_jsonb(s.psi)::text ELSE (s.psi)::text END, 'null') || ', "n": ' || s.n_valid || CASE WHEN th.psi_confidence IS NOT NULL THEN ', "floor": ' || coalesce((fl.psi)::text, 'null') ELSE '' END || ', "level": "' || l.psi || '"'
                  || '}]')::jsonb
            ELSE nullif(CASE WHEN l.js IS NOT NULL THEN jsonb_build_array(th.js_check || jsonb_build_object('value', s.js, 'n', s.n_valid, 'level', l.js) || CASE WHEN th.js_confidence IS NOT NULL THEN jsonb_build_object('floor', fl.js) ELSE '{}' END) ELSE '[]' END
                       || CASE WHEN l.ks IS NOT NULL THEN jsonb_build_array(th.ks_check || jsonb_build_object('value', s.ks, 'n', s.n_valid, 'level', l.ks) || CASE WHEN th.ks_confidence IS NOT NULL THEN jsonb_build_object('floor', fl.ks) ELSE '{}' END) ELSE '[]' END
                       || CASE WHEN l.mean_shift IS NOT NULL THEN jsonb_build_array(th.mean_shift_check || jsonb_build_object('value', abs(s.mean_shift), 'n', s.n_valid, 'level', l.mean_shift) || CASE WHEN th.mean_shift_confidence IS NOT NULL THEN jsonb_build_object('floor', fl.mean_shift) ELSE '{}' END) ELSE '[]' END
                       || CASE WHEN l.null_rate IS NOT NULL THEN jsonb_build_array(th.null_rate_check || jsonb_build_object('value', s.null_rate - s.baseline_null_rate, 'n', s.n, 'level', l.null_rate) || CASE WHEN th.null_rate_confidence IS NOT NULL THEN jsonb_build_object('floor', fl.null_rate) ELSE '{}' END) ELSE '[]' END
                       || CASE WHEN l.out_of_range IS NOT NULL THEN jsonb_build_array(th.out_of_range_check || jsonb_build_object('value', s.out_of_range, 'n', s.n_valid, 'level', l.out_of_range) || CASE WHEN th.out_of_range_confidence IS NOT NULL THEN jsonb_build_object('floor', fl.out_of_range) ELSE '{}' END) ELSE '[]' END
                       || CASE WHEN l.psi IS NOT NULL THEN jsonb_build_array(th.psi_check || jsonb_build_object('value', s.psi, 'n', s.n_valid, 'level', l.psi) || CASE WHEN th.psi_confidence IS NOT NULL THEN jsonb_build_object('floor', fl.psi) ELSE '{}' END) ELSE '[]' END, '[]') END AS checks,
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
 -- each metric's noise floor at the window's and the baseline's sizes (migration 0085; NULL: the window holds no
 -- value, or the metric's confidence is NULL and the thresholds alone judge it), found among the distinct ones
 -- (0086; n_base 0: a baseline of no valid value, NULL to noise_floor)
 CROSS JOIN LATERAL (SELECT coalesce(nullif(round(b.base_n * (1 - b.null_rate)), 0)::bigint, 0) AS n_base) nb
  LEFT JOIN size_floors fs ON s.n_valid > 0 AND fs.n_valid = s.n_valid AND fs.n_base = nb.n_base
                          AND fs.family = b.family
  LEFT JOIN null_floors fn ON s.n > 0 AND fn.n = s.n AND fn.base_n = b.base_n AND fn.null_rate = b.null_rate
                          AND fn.family = b.family
  LEFT JOIN js_floors fj ON s.n_valid > 0 AND fj.n_valid = s.n_valid AND fj.n_base = nb.n_base
                        AND fj.shares = b.n_shares AND fj.family = b.family
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

COMMENT ON COLUMN pgscore.drift_rows.checks IS 'Each drift metric checked, with its value, thresholds, level and (where its confidence is set) its confidence and noise floor';

-- pgscore.window_checks cannot change its columns in place, nor check_rows its result: both are dropped and made
-- again, with the comments the view's columns had, the owners and every grant on them (pgscore's roles', and any a
-- DBA added). A view of the user's on either stops the migration, naming it, before anything is changed.
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
     WHERE ((d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
             AND d.refobjid = 'pgscore.window_checks'::pg_catalog.regclass)
            OR (d.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                AND d.refobjid = 'pgscore.check_rows(jsonb)'::pg_catalog.regprocedure))
       AND d.deptype = 'n'
       AND r.ev_class IS DISTINCT FROM 'pgscore.window_checks'::pg_catalog.regclass;
    IF v_users IS NOT NULL THEN
        RAISE EXCEPTION 'pgscore''s migration 0091''s downgrade makes pgscore.window_checks and pgscore.check_rows again, and % of yours depend on them', v_users
            USING ERRCODE = 'dependent_objects_still_exist',
                  HINT = 'pgscore drops nothing of yours: keep their definitions (SELECT pg_get_viewdef(''name'', true)), drop them, migrate, then create them again. Nothing was changed.';
    END IF;
END
$do$;

CREATE TEMPORARY TABLE pgscore_0091_comments AS
SELECT a.attname, pg_catalog.col_description(a.attrelid, a.attnum) AS description
  FROM pg_catalog.pg_attribute a
 WHERE a.attrelid = 'pgscore.window_checks'::pg_catalog.regclass AND a.attnum > 0 AND NOT a.attisdropped;

CREATE TEMPORARY TABLE pgscore_0091_column_grants AS
SELECT a.attname, g.grantor, g.grantee, g.privilege_type, g.is_grantable
  FROM pg_catalog.pg_attribute a
 CROSS JOIN LATERAL pg_catalog.aclexplode(a.attacl) g
 WHERE a.attrelid = 'pgscore.window_checks'::pg_catalog.regclass AND a.attnum > 0 AND NOT a.attisdropped;

CREATE TEMPORARY TABLE pgscore_0091_view AS
SELECT c.relowner AS owner, a.grantor, a.grantee, a.privilege_type, a.is_grantable
  FROM pg_catalog.pg_class c
  LEFT JOIN LATERAL pg_catalog.aclexplode(c.relacl) a ON true
 WHERE c.oid = 'pgscore.window_checks'::pg_catalog.regclass;

CREATE TEMPORARY TABLE pgscore_0091_function AS
SELECT p.proowner AS owner, a.grantor, a.grantee, a.privilege_type, a.is_grantable
  FROM pg_catalog.pg_proc p
  LEFT JOIN LATERAL pg_catalog.aclexplode(p.proacl) a ON true
 WHERE p.oid = 'pgscore.check_rows(jsonb)'::pg_catalog.regprocedure;

DROP VIEW pgscore.window_checks;
DROP FUNCTION pgscore.check_rows(jsonb);

CREATE FUNCTION pgscore.check_rows(p_checks jsonb)
RETURNS TABLE (metric text, value float8, n bigint, warn float8, alert float8, min_n integer, confidence float8,
               floor float8, level text, held_back_from text)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
SELECT c.metric, c.value, c.n, c.warn, c.alert, c.min_n, c.confidence, c.floor, c.level,
       CASE WHEN c.level = 'ok' AND c.confidence IS NOT NULL AND c.floor IS NOT NULL AND c.value >= c.warn
            THEN CASE WHEN c.value >= c.alert THEN 'alert' ELSE 'warn' END END
  FROM ROWS FROM (jsonb_to_recordset(p_checks)
                  AS (metric text, value float8, n bigint, warn float8, alert float8, min_n integer,
                      confidence float8, floor float8, level text)) WITH ORDINALITY
       AS c(metric, value, n, warn, alert, min_n, confidence, floor, level, i)
 ORDER BY c.i
$fn$;
COMMENT ON FUNCTION pgscore.check_rows(jsonb) IS 'Each check of a drift or performance row''s checks (jsonb) as a row: metric, value, n, warn and alert, min_n, confidence, floor, level, and held_back_from: the level (warn or alert) its value reached by the thresholds alone that its noise floor held back to ok (NULL when none was); pgscore.window_checks reads it';


CREATE VIEW pgscore.window_checks AS
SELECT c.model, c.version, c.what, c.subject, c.window_name, k.metric, k.value, k.n, k.warn, k.alert, k.min_n,
       k.confidence, k.floor, k.level, k.held_back_from
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
    FOR r IN SELECT c.attname, c.description FROM pgscore_0091_comments c
               JOIN pg_catalog.pg_attribute a ON a.attname = c.attname
                AND a.attrelid = 'pgscore.window_checks'::pg_catalog.regclass AND a.attnum > 0
              WHERE c.description IS NOT NULL LOOP
        EXECUTE pg_catalog.format('COMMENT ON COLUMN pgscore.window_checks.%I IS %L', r.attname, r.description);
    END LOOP;
    -- regrole's text is the role's name quoted as an identifier where it needs to be
    EXECUTE pg_catalog.format('ALTER VIEW pgscore.window_checks OWNER TO %s',
                              (SELECT v.owner::pg_catalog.regrole FROM pgscore_0091_view v LIMIT 1));
    EXECUTE pg_catalog.format('ALTER FUNCTION pgscore.check_rows(jsonb) OWNER TO %s',
                              (SELECT f.owner::pg_catalog.regrole FROM pgscore_0091_function f LIMIT 1));
    -- every grant made again as its grantor made it (a DBA's grant WITH GRANT OPTION, and what its grantee granted
    -- on: as the owner, each would name the owner as its grantor, and revoking the grantee's CASCADE would leave
    -- the third role its access), a grantee's grants after the one that gave it the option
    CREATE TEMPORARY TABLE pgscore_0091_regrants AS
    SELECT 0 AS kind, NULL::pg_catalog.name AS attname, v.grantor, v.grantee, v.privilege_type, v.is_grantable, v.owner
      FROM pgscore_0091_view v WHERE v.privilege_type IS NOT NULL AND v.grantee IS DISTINCT FROM v.owner
    UNION ALL
    SELECT 1, g.attname, g.grantor, g.grantee, g.privilege_type, g.is_grantable, (SELECT v.owner FROM pgscore_0091_view v LIMIT 1)
      FROM pgscore_0091_column_grants g
      JOIN pg_catalog.pg_attribute a ON a.attname = g.attname
       AND a.attrelid = 'pgscore.window_checks'::pg_catalog.regclass AND a.attnum > 0
    UNION ALL
    SELECT 2, NULL, f.grantor, f.grantee, f.privilege_type, f.is_grantable, f.owner
      FROM pgscore_0091_function f WHERE f.privilege_type IS NOT NULL AND f.grantee IS DISTINCT FROM f.owner;
    CREATE TEMPORARY TABLE pgscore_0091_regranted AS SELECT g.kind, g.attname, g.grantor, g.grantee, g.privilege_type
      FROM pgscore_0091_regrants g WHERE false;
    -- the function's: none to PUBLIC but where it had one (a function is PUBLIC's to execute when made)
    REVOKE EXECUTE ON FUNCTION pgscore.check_rows(jsonb) FROM PUBLIC;
    v_role := pg_catalog.current_setting('role');
    LOOP
        v_more := false;
        v_made := 0;
        FOR r IN SELECT g.* FROM pgscore_0091_regrants g ORDER BY g.kind, g.grantor = g.owner DESC LOOP
            CONTINUE WHEN EXISTS (SELECT FROM pgscore_0091_regranted d
                                   WHERE (d.kind, d.attname, d.grantor, d.grantee, d.privilege_type)
                                         IS NOT DISTINCT FROM (r.kind, r.attname, r.grantor, r.grantee, r.privilege_type));
            -- the grantor holds the grant option again (or is the owner), or no grant made here will give it
            IF NOT (r.grantor = r.owner OR v_stuck OR EXISTS (
                    SELECT FROM pg_catalog.aclexplode(CASE WHEN r.kind = 2 THEN (SELECT p.proacl FROM pg_catalog.pg_proc p
                                                     WHERE p.oid = 'pgscore.check_rows(jsonb)'::pg_catalog.regprocedure)
                                                      ELSE (SELECT c.relacl FROM pg_catalog.pg_class c
                                                     WHERE c.oid = 'pgscore.window_checks'::pg_catalog.regclass) END) x
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
                                         CASE WHEN r.kind = 2 THEN 'FUNCTION pgscore.check_rows(jsonb)' ELSE 'pgscore.window_checks' END,
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
                RAISE WARNING 'pgscore''s migration 0091 made % as the owner, not as its grantor: %', v_grant, SQLERRM;
                EXECUTE v_grant;
            END;
            INSERT INTO pgscore_0091_regranted VALUES (r.kind, r.attname, r.grantor, r.grantee, r.privilege_type);
            v_made := v_made + 1;
        END LOOP;
        EXIT WHEN NOT v_more;
        -- a pass that made nothing: the rest as the owner would (a grantor whose option came from nowhere here)
        v_stuck := v_made = 0;
    END LOOP;
END
$do$;
DROP TABLE pgscore_0091_comments;
DROP TABLE pgscore_0091_column_grants;
DROP TABLE pgscore_0091_view;
DROP TABLE pgscore_0091_function;
DROP TABLE pgscore_0091_regrants;
DROP TABLE pgscore_0091_regranted;
