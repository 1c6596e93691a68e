-- 0089 to 0088: the definitions of 0088 (a period kind unchecked; performance_stats_of as 0087 left it), and check_period_kind dropped.

CREATE OR REPLACE FUNCTION pgscore.drift_counts_of(p_model_ids bigint[], p_period_kind text, p_period text)
RETURNS TABLE (model_id bigint, period_kind text, period text, kind text, "position" integer, bin integer,
               n bigint, total float8, n_out bigint)
LANGUAGE sql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
SET work_mem = '64MB'
ROWS 20000
AS $fn$
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

CREATE OR REPLACE FUNCTION pgscore.drift_counts(p_period_kind text DEFAULT NULL, p_period text DEFAULT NULL)
RETURNS TABLE (model_id bigint, period_kind text, period text, kind text, "position" integer, bin integer,
               n bigint, total float8, n_out bigint)
LANGUAGE sql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
SET work_mem = '64MB'
ROWS 20000
AS $fn$
SELECT * FROM pgscore.drift_counts_of(ARRAY(SELECT lm.model_id FROM pgscore.live_models lm), p_period_kind, p_period)
$fn$;

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
ROWS 100
AS $fn$
WITH periods AS MATERIALIZED (SELECT mp.*, row_number() OVER ()::integer AS pid FROM pgscore.monitoring_periods mp
                              WHERE p_period_kind IS NULL OR mp.period_kind = p_period_kind),
jp AS MATERIALIZED (
    SELECT x.model_id, x.task, x.predicted_at, x.score, x.y, x.y_value, x.threshold,
           x.label = x.outcome #>> '{}' AS label_right
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
),
r AS (
    SELECT j.*, rank() OVER (PARTITION BY j.model_id, j.pid ORDER BY j.score)
               + (count(*) OVER (PARTITION BY j.model_id, j.pid, j.score) - 1) / 2.0 AS score_rank
      FROM j
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
           avg((r.score - r.y) ^ 2) AS brier,
           -avg(r.y * ln(least(greatest(r.score, 2.220446049250313e-16), 1 - 2.220446049250313e-16))
                + (1 - r.y) * ln(1 - least(greatest(r.score, 2.220446049250313e-16), 1 - 2.220446049250313e-16))) AS log_loss,
           avg(abs(r.score - r.y_value)) AS mae,
           sqrt(avg((r.score - r.y_value) ^ 2)) AS rmse
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
),
base AS (
    SELECT m.model_id, m.name, m.version, m.task, p.period_kind, p.period, p.sort_order,
           coalesce(s.n, 0) AS n, s.positives, s.auc, s.accuracy, s."precision", s.recall, s.brier, s.log_loss,
           s.mae, s.rmse,
           (m.metrics ->> 'auc')::float8 AS deploy_auc, (m.metrics ->> 'accuracy')::float8 AS deploy_accuracy,
           (m.metrics ->> 'brier')::float8 AS deploy_brier, (m.metrics ->> 'log_loss')::float8 AS deploy_log_loss,
           (m.metrics ->> 'mae')::float8 AS deploy_mae, (m.metrics ->> 'rmse')::float8 AS deploy_rmse
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
SELECT b.*, c.checks, c.status, c.firing, c.min_n,
       coalesce((SELECT u.n FROM unmatched u WHERE u.model = b.name
                    AND u.model_id IS NOT DISTINCT FROM CASE WHEN p_by_version THEN b.model_id END), 0)
           AS unmatched_outcomes
  FROM base b
 -- each metric's confidence (drift_thresholds; NULL: judged by the threshold alone) and noise floor at the window's
 -- outcomes, against the deploy metric (migration 0085)
 CROSS JOIN (SELECT max(t.confidence) FILTER (WHERE t.metric = 'auc_drop') AS auc_drop,
                    max(t.confidence) FILTER (WHERE t.metric = 'accuracy_drop') AS accuracy_drop,
                    max(t.confidence) FILTER (WHERE t.metric = 'brier_rise') AS brier_rise,
                    max(t.confidence) FILTER (WHERE t.metric = 'rmse_rise') AS rmse_rise
               FROM pgscore.drift_thresholds t) cf
 CROSS JOIN LATERAL (SELECT CASE WHEN b.n > 0 THEN pgscore.noise_floor('auc_drop', b.n, NULL, NULL, cf.auc_drop, b.deploy_auc, b.positives) END AS auc_drop,
                            CASE WHEN b.n > 0 THEN pgscore.noise_floor('accuracy_drop', b.n, NULL, NULL, cf.accuracy_drop, b.deploy_accuracy) END AS accuracy_drop,
                            CASE WHEN b.n > 0 THEN pgscore.noise_floor('brier_rise', b.n, NULL, NULL, cf.brier_rise, b.deploy_brier) END AS brier_rise,
                            CASE WHEN b.n > 0 THEN pgscore.noise_floor('rmse_rise', b.n, NULL, NULL, cf.rmse_rise, b.deploy_rmse) END AS rmse_rise) fl
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
        array_fill(b.n, ARRAY[CASE b.task WHEN 'binary' THEN 3 ELSE 1 END]),
        CASE b.task WHEN 'binary' THEN ARRAY[fl.auc_drop, fl.accuracy_drop, fl.brier_rise]
                    WHEN 'multiclass' THEN ARRAY[fl.accuracy_drop] ELSE ARRAY[fl.rmse_rise] END) c
$fn$;
-- as 0087 left it: its checks written at extra_float_digits 1
ALTER FUNCTION pgscore.performance_stats_of(boolean, bigint[], text) SET extra_float_digits = 1;

CREATE OR REPLACE FUNCTION pgscore.drop_log_partitions(p_older_than interval)
RETURNS integer
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_cut timestamptz;
    v_part record;
    v_dropped integer := 0;
    v_rows bigint;
    v_buckets bigint;
    v_days bigint;
    v_outcomes bigint;
BEGIN
    IF p_older_than IS NULL OR p_older_than <= interval '0' THEN
        RAISE EXCEPTION 'pgscore.drop_log_partitions: the retention period must be a positive interval (got %)', p_older_than
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'retention keeps whole UTC days, at least one: for example ''90 days''';
    END IF;
    -- a number without a unit is seconds to PostgreSQL: '90' would keep today alone
    IF p_older_than < interval '1 day' THEN
        RAISE EXCEPTION 'pgscore.drop_log_partitions: the retention period must be at least 1 day (got %)', p_older_than
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'retention keeps whole UTC days; a number without a unit is seconds: write ''90 days'', not ''90''';
    END IF;
    -- whole UTC days: the day that holds now() - p_older_than is kept, in its partition and in the default
    -- partition alike, so that the drift rollups of every day dropped can go with it. The period is
    -- taken from the UTC time, so that the session's time zone (its DST days) cannot move the cut
    v_cut := date_trunc('day', (now() AT TIME ZONE 'UTC') - p_older_than) AT TIME ZONE 'UTC';
    -- outcomes recorded before migration 0033 that no refresh has paired yet: paired while their
    -- predictions are there, so that they go with them (below)
    PERFORM pgscore.match_outcomes('infinity');
    FOR v_part IN
        SELECT c.relname, to_date(right(c.relname, 8), 'YYYYMMDD') AS day
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'pgscore.prediction_log'::regclass AND c.relname ~ '^prediction_log_[0-9]{8}$'
         ORDER BY 2
    LOOP
        CONTINUE WHEN (v_part.day::timestamp AT TIME ZONE 'UTC') >= v_cut;
        EXECUTE format('DROP TABLE pgscore.%I', v_part.relname);
        v_dropped := v_dropped + 1;
    END LOOP;
    DELETE FROM pgscore.prediction_log_default WHERE logged_at < v_cut;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    -- the rollups of the rows gone: the drift views read them as if the rows were there
    DELETE FROM pgscore.drift_rollup WHERE bucket < v_cut;
    GET DIAGNOSTICS v_buckets = ROW_COUNT;
    DELETE FROM pgscore.drift_rollup_day WHERE day < v_cut;
    GET DIAGNOSTICS v_days = ROW_COUNT;
    -- the outcomes of the predictions gone (each keeps the prediction it judges, migration 0033): realised
    -- performance is by the day of the prediction, and a day goes whole, its outcomes with it, whenever
    -- they were observed; and those that judge nothing, observed before the cut, which have none left to
    -- judge and would count as unmatched for ever
    -- with each version's prediction they judge (outcome_version_matches)
    WITH gone AS (
        DELETE FROM pgscore.outcomes WHERE predicted_at < v_cut OR (predicted_at IS NULL AND observed_at < v_cut)
        RETURNING outcome_id
    ), versions AS (
        DELETE FROM pgscore.outcome_version_matches m USING gone WHERE m.outcome_id = gone.outcome_id
    )
    SELECT count(*) INTO v_outcomes FROM gone;
    -- and each version's judged prediction of those days where the outcome stays, judging a newer prediction
    -- of another version
    DELETE FROM pgscore.outcome_version_matches WHERE predicted_at < v_cut;
    RAISE NOTICE 'pgscore.drop_log_partitions: before %: % daily partition(s) dropped, % row(s) deleted from the default partition, % rollup row(s) deleted (% of 5 minutes, % of a day), % outcome(s) of those days deleted',
        v_cut, v_dropped, v_rows, v_buckets + v_days, v_buckets, v_days, v_outcomes;
    RETURN v_dropped;
END
$fn$;

DROP FUNCTION pgscore.check_period_kind(text, text);
