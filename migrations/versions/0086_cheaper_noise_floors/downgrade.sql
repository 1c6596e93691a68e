-- 0086 to 0085: drift_stats_of computes each noise floor per metric, feature and period again (0085's
-- definition).

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
           b.std = 0 OR b.min = b.max AS constant
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
 -- value, or the metric's confidence is NULL and the thresholds alone judge it)
 CROSS JOIN LATERAL (SELECT nullif(round(b.base_n * (1 - b.null_rate)), 0)::bigint AS n_base) nb
 CROSS JOIN LATERAL (SELECT CASE WHEN s.n_valid > 0 THEN pgscore.noise_floor('psi', s.n_valid, nb.n_base, b.expected, th.psi_confidence) END AS psi,
                           CASE WHEN s.n_valid > 0 THEN pgscore.noise_floor('ks', s.n_valid, nb.n_base, b.expected, th.ks_confidence) END AS ks,
                           CASE WHEN s.n_valid > 0 THEN pgscore.noise_floor('js', s.n_valid, nb.n_base, b.expected, th.js_confidence) END AS js,
                           CASE WHEN s.n_valid > 0 THEN pgscore.noise_floor('mean_shift', s.n_valid, nb.n_base, b.expected, th.mean_shift_confidence) END AS mean_shift,
                           CASE WHEN s.n > 0 THEN pgscore.noise_floor('null_rate', s.n, nullif(b.base_n, 0), b.expected, th.null_rate_confidence, b.null_rate) END AS null_rate,
                           CASE WHEN s.n_valid > 0 THEN pgscore.noise_floor('out_of_range', s.n_valid, nb.n_base, b.expected, th.out_of_range_confidence) END AS out_of_range) fl
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
