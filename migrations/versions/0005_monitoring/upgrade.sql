-- 0005 monitoring: drift windows, thresholds, hourly rollups, drift and performance views, outcomes,
-- alerts; EXECUTE on every pgscore function revoked from PUBLIC; the pgscore_reader role

-- sql/tables/30_prediction_log.sql (the new index)
-- outcomes find the prediction they judge by entity, newest first (pgscore.outcome_matches)
CREATE INDEX prediction_log_entity_time_idx ON pgscore.prediction_log (entity_key, logged_at) WHERE entity_key IS NOT NULL;

-- sql/tables/95_monitoring.sql
/*
 * Monitoring: the windows the drift and performance views report on, the
 * thresholds that turn a metric into ok / warn / alert, 5-minute rollups of the
 * prediction log binned on each model's baseline (so a window of days reads
 * a few thousand rollup rows instead of millions of log rows), and the first
 * time each firing condition was seen.
 */
CREATE TABLE pgscore.drift_windows (
    window_name text PRIMARY KEY,
    length      interval,
    sort_order  integer NOT NULL DEFAULT 0,
    CONSTRAINT drift_windows_length_check CHECK (length IS NULL OR length > interval '0'),
    CONSTRAINT drift_windows_name_check CHECK (window_name ~ '^[A-Za-z0-9 _.-]{1,40}$')
);
COMMENT ON TABLE pgscore.drift_windows IS 'The windows the drift and performance views report on: the last `length` up to now, or (length NULL) everything the live version has logged';
COMMENT ON COLUMN pgscore.drift_windows.window_name IS 'Name shown in the views, e.g. ''1 day''';
COMMENT ON COLUMN pgscore.drift_windows.length IS 'How far back from now() the window reaches; NULL = since deploy (every prediction of the live version)';
COMMENT ON COLUMN pgscore.drift_windows.sort_order IS 'Display order';
INSERT INTO pgscore.drift_windows (window_name, length, sort_order) VALUES
    ('1 hour', interval '1 hour', 1), ('12 hours', interval '12 hours', 2), ('1 day', interval '1 day', 3),
    ('7 days', interval '7 days', 4), ('since deploy', NULL, 5);

CREATE TABLE pgscore.drift_thresholds (
    metric      text PRIMARY KEY,
    warn        float8 NOT NULL,
    alert       float8 NOT NULL,
    min_n       integer NOT NULL DEFAULT 100,
    description text NOT NULL,
    CONSTRAINT drift_thresholds_metric_check CHECK (metric IN (
        'psi', 'ks', 'js', 'mean_shift', 'null_rate', 'out_of_range',
        'auc_drop', 'accuracy_drop', 'brier_rise', 'rmse_rise')),
    CONSTRAINT drift_thresholds_order_check CHECK (warn >= 0 AND warn <= alert),
    CONSTRAINT drift_thresholds_min_n_check CHECK (min_n >= 1)
);
COMMENT ON TABLE pgscore.drift_thresholds IS 'When a metric warns or alerts, and the fewest values (or outcomes) a window needs before it is judged at all';
COMMENT ON COLUMN pgscore.drift_thresholds.metric IS 'The metric, as named in the drift and performance views';
COMMENT ON COLUMN pgscore.drift_thresholds.warn IS 'Level at or above which the metric warns';
COMMENT ON COLUMN pgscore.drift_thresholds.alert IS 'Level at or above which the metric alerts';
COMMENT ON COLUMN pgscore.drift_thresholds.min_n IS 'Below this many values in the window the metric reports insufficient_data instead of a level';
COMMENT ON COLUMN pgscore.drift_thresholds.description IS 'What the metric measures and why the default';
INSERT INTO pgscore.drift_thresholds (metric, warn, alert, min_n, description) VALUES
    ('psi', 0.1, 0.2, 100, 'population stability index over the baseline bins; 0.1 and 0.2 are the customary cut-offs'),
    ('ks', 0.1, 0.2, 100, 'largest gap between the current and baseline cumulative shares at the baseline bin edges'),
    ('js', 0.13, 0.19, 100, 'Jensen-Shannon distance (base 2, 0..1) over the baseline bins; for small shifts these match PSI 0.1 and 0.2'),
    ('mean_shift', 0.3, 0.5, 100, 'absolute change of the mean in baseline standard deviations; half a standard deviation moves PSI past 0.2 for a normal feature'),
    ('null_rate', 0.05, 0.1, 100, 'rise of the share of NULL/NaN values over the baseline share (5 and 10 percentage points)'),
    ('out_of_range', 0.02, 0.05, 100, 'share of values outside the baseline min..max (0 at training by construction)'),
    ('auc_drop', 0.05, 0.1, 100, 'hold-out AUC at deploy minus realised AUC'),
    ('accuracy_drop', 0.05, 0.1, 100, 'hold-out accuracy at deploy minus realised accuracy'),
    ('brier_rise', 0.02, 0.05, 100, 'realised Brier score minus the hold-out Brier score at deploy'),
    ('rmse_rise', 0.1, 0.25, 100, 'realised RMSE over the hold-out RMSE at deploy, minus 1 (0.1 = 10% worse)');

CREATE TABLE pgscore.drift_rollup (
    model_id bigint NOT NULL,
    bucket   timestamptz NOT NULL,
    kind     text NOT NULL,
    position integer NOT NULL,
    bin      integer NOT NULL,
    n        bigint NOT NULL,
    total    float8 NOT NULL,
    n_out    bigint NOT NULL,
    PRIMARY KEY (model_id, bucket, kind, position, bin)
);
COMMENT ON TABLE pgscore.drift_rollup IS 'Counts per 5 minutes (bucket: its start, in UTC) of logged feature values and scores per baseline bin (bin -1 = NULL or NaN), with their sum and how many fell outside the baseline range; built by refresh_monitoring()';

CREATE TABLE pgscore.monitoring_state (
    singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    rolled_until timestamptz NOT NULL DEFAULT '-infinity',
    refreshed_at timestamptz
);
COMMENT ON TABLE pgscore.monitoring_state IS 'One row: the rollups cover every whole 5-minute bucket before rolled_until; the views read the log itself from there on';
INSERT INTO pgscore.monitoring_state DEFAULT VALUES;

CREATE TABLE pgscore.alert_state (
    model      text NOT NULL,
    version    integer NOT NULL,
    what       text NOT NULL,
    subject    text NOT NULL,
    window_name text NOT NULL,
    metric     text NOT NULL,
    level      text NOT NULL,
    first_seen timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (model, version, what, subject, window_name, metric, level)
);
COMMENT ON TABLE pgscore.alert_state IS 'Each firing condition and when refresh_monitoring() first saw it; rows go when the condition clears';

-- sql/functions/monitoring.sql
/*
 * Monitoring functions: recording ground truth, and the refresh that rolls
 * the prediction log up by 5 minutes and notes when each alert first fired.
 */
CREATE FUNCTION pgscore.record_outcome(p_model text, p_entity_key text, p_outcome text,
                                       p_observed_at timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_task    text;
    v_classes jsonb;
    v_value   jsonb;
    v_num     float8;
    v_text    text := btrim(p_outcome);
    v_id      bigint;
BEGIN
    IF p_model IS NULL OR p_entity_key IS NULL OR p_outcome IS NULL OR p_observed_at IS NULL THEN
        RAISE EXCEPTION 'pgscore.record_outcome: % must not be NULL',
            CASE WHEN p_model IS NULL THEN 'the model' WHEN p_entity_key IS NULL THEN 'the entity key'
                 WHEN p_outcome IS NULL THEN 'the outcome' ELSE 'observed_at' END
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- the live version decides what an outcome must look like; a retired model, its newest version
    SELECT m.task, m.classes INTO v_task, v_classes
      FROM pgscore.models m
      LEFT JOIN pgscore.live_models l ON l.model_id = m.model_id
     WHERE m.name = p_model
     ORDER BY l.model_id IS NOT NULL DESC, m.version DESC
     LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'pgscore.record_outcome: model "%" does not exist', p_model
            USING ERRCODE = 'undefined_object', HINT = 'SELECT name FROM pgscore.model_versions lists the models';
    END IF;
    IF v_task = 'regression' THEN
        BEGIN
            v_num := v_text::float8;
        EXCEPTION WHEN invalid_text_representation OR numeric_value_out_of_range THEN
            RAISE EXCEPTION 'pgscore.record_outcome: outcome "%" for regression model "%" is not a number', p_outcome, p_model
                USING ERRCODE = 'invalid_text_representation';
        END;
        IF v_num IN ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8) THEN
            RAISE EXCEPTION 'pgscore.record_outcome: outcome % for regression model "%" is not a finite number', v_num, p_model
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        v_value := to_jsonb(v_num);
    ELSE
        -- one of the classes, by its text or (for numeric classes) its value; true/false for 1/0
        SELECT c INTO v_value
          FROM jsonb_array_elements(v_classes) c
         WHERE c #>> '{}' = v_text
            OR (jsonb_typeof(c) = 'number' AND v_text ~ '^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$'
                AND (c #>> '{}')::numeric = v_text::numeric)
            OR (jsonb_typeof(c) = 'number' AND lower(v_text) IN ('true', 'false')
                AND (c #>> '{}')::numeric = CASE lower(v_text) WHEN 'true' THEN 1 ELSE 0 END)
         LIMIT 1;
        IF v_value IS NULL THEN
            RAISE EXCEPTION 'pgscore.record_outcome: outcome "%" is not a class of % model "%"', p_outcome, v_task, p_model
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('classes: %s', (SELECT string_agg(c #>> '{}', ', ') FROM jsonb_array_elements(v_classes) c));
        END IF;
    END IF;
    INSERT INTO pgscore.outcomes (model_name, entity_key, outcome, observed_at)
    VALUES (p_model, p_entity_key, v_value, p_observed_at)
    RETURNING outcome_id INTO v_id;
    IF NOT EXISTS (SELECT 1 FROM pgscore.prediction_log l JOIN pgscore.models m ON m.model_id = l.model_id
                    WHERE l.entity_key = p_entity_key AND l.logged_at <= p_observed_at AND m.name = p_model) THEN
        RAISE NOTICE 'pgscore.record_outcome: no prediction of "%" for entity "%" was logged at or before %', p_model, p_entity_key, p_observed_at
            USING DETAIL = 'The outcome is kept; it judges no prediction and pgscore.outcome_matches shows it unmatched.';
    END IF;
    RETURN v_id;
END
$fn$;
COMMENT ON FUNCTION pgscore.record_outcome(text, text, text, timestamptz) IS 'Record what actually happened to an entity (one of a classifier''s classes, or a regressor''s number), observed at p_observed_at; it judges the newest prediction of the model for that entity logged by then. Returns the outcome_id';

CREATE FUNCTION pgscore.record_outcome(p_model text, p_entity_key text, p_outcome float8,
                                       p_observed_at timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT pgscore.record_outcome(p_model, p_entity_key, p_outcome::text, p_observed_at);
END;
COMMENT ON FUNCTION pgscore.record_outcome(text, text, float8, timestamptz) IS 'record_outcome with a numeric outcome (a class such as 1, or a regressor''s value)';

CREATE FUNCTION pgscore.record_outcome(p_model text, p_entity_key text, p_outcome boolean,
                                       p_observed_at timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT pgscore.record_outcome(p_model, p_entity_key, p_outcome::text, p_observed_at);
END;
COMMENT ON FUNCTION pgscore.record_outcome(text, text, boolean, timestamptz) IS 'record_outcome with a boolean outcome (true matches a class true or 1, false a class false or 0)';

CREATE FUNCTION pgscore.refresh_monitoring(p_relook interval DEFAULT '1 hour', p_rebuild boolean DEFAULT false)
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

-- sql/views/monitoring.sql
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
 * realised_performance, performance_by_day, calibration, alerts.
 */

CREATE VIEW pgscore.live_models AS
SELECT m.model_id, m.name, m.version, m.task, m.classes, m.metrics, m.feature_names, d.deployed_at
  FROM (SELECT DISTINCT ON (model_name) model_name, model_id, action, deployed_at
          FROM pgscore.deployments ORDER BY model_name, deployment_id DESC) d
  JOIN pgscore.models m ON m.model_id = d.model_id
 WHERE d.action <> 'retire';
COMMENT ON VIEW pgscore.live_models IS 'Internal: the live version of each model name';

-- every value of every logged prediction, binned on its model's baseline (bin -1: NULL or NaN)
CREATE VIEW pgscore.prediction_values AS
SELECT l.model_id, l.logged_at, b.kind, b.position, v.x,
       CASE WHEN v.x IS NULL OR v.x = 'NaN'::float8 THEN -1 ELSE width_bucket(v.x, b.edges) END AS bin,
       (v.x <> 'NaN'::float8 AND (v.x < b.min OR v.x > b.max)) AS out_of_range
  FROM pgscore.prediction_log l
  JOIN pgscore.baselines b ON b.model_id = l.model_id
 CROSS JOIN LATERAL (SELECT CASE WHEN b.kind = 'score' THEN l.score ELSE l.features[b.position + 1] END AS x) v;
COMMENT ON VIEW pgscore.prediction_values IS 'Internal: every logged feature value and score with its baseline bin';

-- A period is [starts, ends). Whole 5-minute buckets in [bucket_from, bucket_to) come from drift_rollup;
-- the rest, [starts, bucket_from) and [bucket_to, ends), from the log itself.
CREATE VIEW pgscore.monitoring_periods AS
WITH p AS (
    SELECT 'window'::text AS period_kind, w.window_name AS period, w.sort_order,
           coalesce(now() - w.length, '-infinity'::timestamptz) AS starts, 'infinity'::timestamptz AS ends
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
COMMENT ON VIEW pgscore.monitoring_periods IS 'Internal: each window and each of the last 30 UTC days, and which part of it the rollups cover';

/*
 * One definition of a metric's level: no_data, insufficient_data (fewer
 * values than the metric's min_n), not_applicable (no value, e.g. a mean
 * shift against a constant baseline), else ok / warn / alert against
 * pgscore.drift_thresholds. Returns each check, the worst level, and the
 * metrics at warn or alert.
 */
CREATE FUNCTION pgscore.judge(p_metrics text[], p_values float8[], p_n bigint[])
RETURNS TABLE (checks jsonb, status text, firing text, min_n integer)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
WITH c AS (
    SELECT m.metric, m.value, m.n, t.warn, t.alert, t.min_n,
           CASE WHEN m.n = 0 THEN 'no_data'
                WHEN m.n < t.min_n THEN 'insufficient_data'
                WHEN m.value IS NULL THEN 'not_applicable'
                WHEN m.value >= t.alert THEN 'alert'
                WHEN m.value >= t.warn THEN 'warn'
                ELSE 'ok' END AS level
      FROM unnest(p_metrics, p_values, p_n) WITH ORDINALITY AS m(metric, value, n, i)
      JOIN pgscore.drift_thresholds t ON t.metric = m.metric
)
SELECT jsonb_agg(jsonb_build_object('metric', c.metric, 'value', c.value, 'n', c.n, 'warn', c.warn,
                                    'alert', c.alert, 'min_n', c.min_n, 'level', c.level) ORDER BY c.metric),
       (ARRAY['not_applicable', 'no_data', 'insufficient_data', 'ok', 'warn', 'alert'])[max(
           CASE c.level WHEN 'alert' THEN 6 WHEN 'warn' THEN 5 WHEN 'ok' THEN 4 WHEN 'insufficient_data' THEN 3
                        WHEN 'no_data' THEN 2 ELSE 1 END)],
       string_agg(c.metric, ', ' ORDER BY c.metric) FILTER (WHERE c.level IN ('warn', 'alert')),
       max(c.min_n) FILTER (WHERE c.level = 'insufficient_data')
  FROM c
$fn$;
COMMENT ON FUNCTION pgscore.judge(text[], float8[], bigint[]) IS 'Levels of metrics against pgscore.drift_thresholds: each check as jsonb, the worst level, the metrics firing and the min_n not reached';

/*
 * The drift of every live model, feature (and score) and period, in one
 * function rather than a view: it runs as its owner with JIT off. Views
 * that read it can then be granted to a reader who may not read the log,
 * and a plan the planner costs high (it cannot see how few rows a window
 * holds) is not sent to the JIT compiler, which alone took 1.5 s here.
 */
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

CREATE VIEW pgscore.drift_checks AS
SELECT s.model_id, s.name, s.version, s.period_kind, s.period, s.sort_order, s.kind, s.feature, s.position,
       c.metric, c.value, c.n, c.warn, c.alert, c.min_n, c.level
  FROM pgscore.drift_stats() s
 CROSS JOIN LATERAL jsonb_to_recordset(s.checks)
       c(metric text, value float8, n bigint, warn float8, alert float8, min_n integer, level text);
COMMENT ON VIEW pgscore.drift_checks IS 'Internal: one row per drift metric with its thresholds and level';

-- the one definition behind feature_drift, score_drift and drift_by_day
CREATE VIEW pgscore.drift_report AS
SELECT s.name AS model, s.version, s.kind, s.feature, s.position, s.period_kind, s.period, s.sort_order,
       s.n, s.null_rate, s.baseline_null_rate, s.mean, s.baseline_mean, s.mean_shift, s.out_of_range,
       s.psi, s.ks, s.js, s.status, s.firing,
       CASE WHEN s.empty_baseline THEN 'the baseline holds no values (all NULL at training)'
            WHEN s.n = 0 THEN 'no predictions in this window'
            WHEN s.status = 'insufficient_data' THEN format('%s values, fewer than the %s needed', s.n, s.min_n)
            WHEN s.constant_baseline THEN 'constant in the baseline: mean shift undefined, any other value is out of range'
       END AS note
  FROM pgscore.drift_stats() s
UNION ALL
SELECT m.name, m.version, k.kind, NULL, NULL, 'window', w.window_name, w.sort_order,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'no_baseline', NULL,
       'deployed without training data, so there is no baseline: redeploy with --train (or X) to monitor drift'
  FROM pgscore.live_models m
 CROSS JOIN (VALUES ('feature'), ('score')) k(kind)
 CROSS JOIN pgscore.drift_windows w
 WHERE NOT EXISTS (SELECT 1 FROM pgscore.baselines b WHERE b.model_id = m.model_id AND b.kind = k.kind);
COMMENT ON VIEW pgscore.drift_report IS 'Internal: drift rows of every kind and period, with their status and a note';

CREATE VIEW pgscore.feature_drift AS
SELECT model, version, feature, window_name, n, psi, ks, js, mean, baseline_mean, mean_shift,
       null_rate, baseline_null_rate, out_of_range, status, firing, note
  FROM (SELECT r.*, r.period AS window_name FROM pgscore.drift_report r) r
 WHERE period_kind = 'window' AND kind = 'feature'
 ORDER BY model, position, sort_order;
COMMENT ON VIEW pgscore.feature_drift IS 'Per live model, feature and window: the current distribution of the feature in the prediction log against its training baseline';

CREATE VIEW pgscore.score_drift AS
SELECT model, version, window_name, n, psi, ks, js, mean, baseline_mean, mean_shift,
       null_rate, baseline_null_rate, out_of_range, status, firing, note
  FROM (SELECT r.*, r.period AS window_name FROM pgscore.drift_report r) r
 WHERE period_kind = 'window' AND kind = 'score'
 ORDER BY model, sort_order;
COMMENT ON VIEW pgscore.score_drift IS 'Per live model and window: the distribution of its scores in the prediction log against the scores of its training data';

CREATE VIEW pgscore.drift_by_day AS
SELECT model, version, kind, feature, period::date AS day, n, psi, ks, js, mean, baseline_mean, mean_shift,
       null_rate, out_of_range, status
  FROM pgscore.drift_report
 WHERE period_kind = 'day'
 ORDER BY model, kind, position, day;
COMMENT ON VIEW pgscore.drift_by_day IS 'Per live model, feature (and score) and UTC day of the last 30: the drift metrics of that day alone';

-- Outcomes and the predictions they judge: the newest prediction of the model (any version) for the
-- entity logged at or before the outcome was observed.
CREATE VIEW pgscore.outcome_matches AS
SELECT o.outcome_id, o.model_name AS model, o.entity_key, o.outcome, o.observed_at,
       p.model_id, p.version, p.logged_at AS predicted_at, p.score, p.label, p.model_id IS NOT NULL AS matched
  FROM pgscore.outcomes o
  LEFT JOIN LATERAL (
        SELECT l.model_id, pm.version, l.logged_at, l.score, l.label
          FROM pgscore.prediction_log l
          JOIN pgscore.models pm ON pm.model_id = l.model_id
         WHERE l.entity_key = o.entity_key AND l.logged_at <= o.observed_at AND pm.name = o.model_name
         ORDER BY l.logged_at DESC
         LIMIT 1) p ON true;
COMMENT ON VIEW pgscore.outcome_matches IS 'Every recorded outcome with the prediction it judges: the newest prediction of that model for that entity logged at or before the outcome was observed';
COMMENT ON COLUMN pgscore.outcome_matches.outcome_id IS 'The outcome (pgscore.record_outcome returns it)';
COMMENT ON COLUMN pgscore.outcome_matches.model IS 'Model name';
COMMENT ON COLUMN pgscore.outcome_matches.entity_key IS 'The entity the outcome is about';
COMMENT ON COLUMN pgscore.outcome_matches.outcome IS 'The observed outcome: one of the model''s classes, or a number for a regressor';
COMMENT ON COLUMN pgscore.outcome_matches.observed_at IS 'When the outcome was observed';
COMMENT ON COLUMN pgscore.outcome_matches.model_id IS 'The model version row of the judged prediction; NULL when none was logged before the outcome';
COMMENT ON COLUMN pgscore.outcome_matches.version IS 'The version that made the judged prediction';
COMMENT ON COLUMN pgscore.outcome_matches.predicted_at IS 'When the judged prediction was logged';
COMMENT ON COLUMN pgscore.outcome_matches.score IS 'The judged prediction''s score';
COMMENT ON COLUMN pgscore.outcome_matches.label IS 'The judged prediction''s label, where it was logged (pgscore.predict)';
COMMENT ON COLUMN pgscore.outcome_matches.matched IS 'false when no prediction of this model for this entity was logged before the outcome';

CREATE VIEW pgscore.judged_predictions AS
SELECT m.model_id, m.name, m.version, m.task, m.metrics, om.predicted_at, om.score, om.label, om.outcome,
       CASE WHEN m.task = 'binary' THEN (om.outcome = m.classes -> 1)::integer END AS y,
       CASE WHEN m.task = 'regression' THEN (om.outcome #>> '{}')::float8 END AS y_value,
       coalesce((m.metrics ->> 'threshold')::float8, 0.5) AS threshold
  FROM pgscore.outcome_matches om
  JOIN pgscore.live_models m ON m.model_id = om.model_id;
COMMENT ON VIEW pgscore.judged_predictions IS 'Internal: outcomes matched to predictions of the live version, with the binary target or the regression value';

-- Realised performance per live model and period: a SECURITY DEFINER function with JIT off, for the
-- reasons given at drift_stats().
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
           (CASE WHEN min(r.task) = 'binary' THEN avg(((r.score >= r.threshold)::integer = r.y)::integer)
                 WHEN min(r.task) = 'multiclass' THEN avg((r.label = r.outcome #>> '{}')::integer) END)::float8 AS accuracy,
           sum(((r.score >= r.threshold) AND r.y = 1)::integer)::float8
               / nullif(sum((r.score >= r.threshold)::integer), 0) AS "precision",
           sum(((r.score >= r.threshold) AND r.y = 1)::integer)::float8 / nullif(sum(r.y), 0) AS recall,
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
)
SELECT b.*, c.checks, c.status, c.firing, c.min_n,
       (SELECT count(*) FROM pgscore.outcome_matches om WHERE om.model = b.name AND NOT om.matched) AS unmatched_outcomes
  FROM base b
 CROSS JOIN LATERAL pgscore.judge(
        CASE b.task WHEN 'binary' THEN ARRAY['auc_drop', 'accuracy_drop', 'brier_rise']
                    WHEN 'multiclass' THEN ARRAY['accuracy_drop'] ELSE ARRAY['rmse_rise'] END,
        CASE b.task WHEN 'binary' THEN ARRAY[b.deploy_auc - b.auc, b.deploy_accuracy - b.accuracy, b.brier - b.deploy_brier]
                    WHEN 'multiclass' THEN ARRAY[b.deploy_accuracy - b.accuracy]
                    ELSE ARRAY[b.rmse / nullif(b.deploy_rmse, 0) - 1] END,
        array_fill(b.n, ARRAY[CASE b.task WHEN 'binary' THEN 3 ELSE 1 END])) c
$fn$;
COMMENT ON FUNCTION pgscore.performance_stats() IS 'Realised performance of every live model and period next to its deploy metrics, with the checks; read it through realised_performance and performance_by_day';

CREATE VIEW pgscore.realised_performance AS
SELECT name AS model, version, task, period AS window_name, n, positives, auc, accuracy, precision, recall, brier,
       log_loss, mae, rmse, deploy_auc, deploy_accuracy, deploy_brier, deploy_log_loss, deploy_mae, deploy_rmse,
       status, firing,
       CASE WHEN n = 0 THEN 'no outcomes matched to predictions of this version in this window'
            WHEN status = 'insufficient_data' THEN format('%s outcomes, fewer than the %s needed', n, min_n)
            WHEN status = 'not_applicable' THEN 'no hold-out metrics at deploy to compare with (deployed without a target)'
       END AS note,
       unmatched_outcomes
  FROM pgscore.performance_stats()
 WHERE period_kind = 'window'
 ORDER BY model, sort_order;
COMMENT ON VIEW pgscore.realised_performance IS 'Per live model and window (by prediction time): metrics realised on the outcomes recorded so far, next to the hold-out metrics captured at deploy';

CREATE VIEW pgscore.performance_by_day AS
SELECT name AS model, version, task, period::date AS day, n, positives, auc, accuracy, precision, recall, brier,
       log_loss, mae, rmse, status
  FROM pgscore.performance_stats()
 WHERE period_kind = 'day'
 ORDER BY model, day;
COMMENT ON VIEW pgscore.performance_by_day IS 'Per live model and UTC day of the last 30 (by prediction time): realised metrics on the outcomes recorded so far';

CREATE VIEW pgscore.calibration AS
SELECT name AS model, version, decile, count(*) AS n, avg(score) AS mean_score, avg(y)::float8 AS observed_rate,
       min(score) AS min_score, max(score) AS max_score
  FROM (SELECT jp.*, ntile(10) OVER (PARTITION BY jp.model_id ORDER BY jp.score) AS decile
          FROM pgscore.judged_predictions jp WHERE jp.task = 'binary' AND jp.score IS NOT NULL) d
 GROUP BY name, version, decile
 ORDER BY model, decile;
COMMENT ON VIEW pgscore.calibration IS 'Per live binary classifier: its judged predictions in ten equal-count score deciles, mean score against the observed positive rate';

CREATE VIEW pgscore.firing AS
SELECT name AS model, version, kind AS what, feature AS subject, period AS window_name, sort_order, metric, value,
       CASE level WHEN 'alert' THEN alert ELSE warn END AS threshold, level
  FROM pgscore.drift_checks
 WHERE period_kind = 'window' AND level IN ('warn', 'alert')
UNION ALL
SELECT r.name, r.version, 'performance', 'outcomes', r.period, r.sort_order, c.metric, (c.value)::float8,
       (CASE c.level WHEN 'alert' THEN c.alert ELSE c.warn END)::float8, c.level
  FROM pgscore.performance_stats() r
 CROSS JOIN LATERAL jsonb_to_recordset(r.checks) c(metric text, value float8, warn float8, alert float8, level text)
 WHERE r.period_kind = 'window' AND c.level IN ('warn', 'alert');
COMMENT ON VIEW pgscore.firing IS 'Internal: every condition at warn or alert level now';

CREATE VIEW pgscore.alerts AS
SELECT f.model, f.version, f.what, f.subject, f.window_name, f.metric, f.value, f.threshold, f.level, s.first_seen AS since
  FROM pgscore.firing f
  LEFT JOIN pgscore.alert_state s ON s.model = f.model AND s.version = f.version AND s.what = f.what
        AND s.subject = f.subject AND s.window_name = f.window_name AND s.metric = f.metric AND s.level = f.level
 ORDER BY f.level = 'alert' DESC, f.model, f.what, f.subject, f.sort_order, f.metric;
COMMENT ON VIEW pgscore.alerts IS 'Every firing condition: drift of a feature or the score, or realised performance, at warn or alert level in some window';

-- sql/privileges/roles.sql
/*
 * Privileges. No pgscore function or procedure is executable by PUBLIC: the superuser
 * (or the owner) grants what each role may call. The reader role, for BI
 * tools, reads the monitoring and score views and nothing else: not the
 * tables behind them, not the artifact bytes, no function that writes. Roles are global
 * to the cluster, so an install creates pgscore_reader only where it is
 * missing; grant it to a login role: GRANT pgscore_reader TO metabase;
 */
REVOKE EXECUTE ON ALL ROUTINES IN SCHEMA pgscore FROM PUBLIC;

DO $do$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'pgscore_reader') THEN
        CREATE ROLE pgscore_reader NOLOGIN;
        COMMENT ON ROLE pgscore_reader IS 'pgscore: reads the monitoring and score views (BI tools); writes nothing';
    END IF;
END
$do$;
GRANT USAGE ON SCHEMA pgscore TO pgscore_reader;
GRANT SELECT ON pgscore.model_versions, pgscore.predictions, pgscore.feature_drift, pgscore.score_drift,
    pgscore.drift_by_day, pgscore.outcome_matches, pgscore.realised_performance, pgscore.performance_by_day,
    pgscore.calibration, pgscore.alerts
    TO pgscore_reader;
-- the read-only functions behind the drift and performance views (a view runs the functions it
-- calls with the caller's privileges; these two are SECURITY DEFINER and read only)
GRANT EXECUTE ON FUNCTION pgscore.drift_stats(), pgscore.performance_stats() TO pgscore_reader;

-- sql/privileges/column_comments.sql
/*
 * Every column of every pgscore view carries a comment, for BI tools and
 * \d+. Columns commented where their view is defined keep that text; the
 * rest take the meaning of their name from this one dictionary, so a name
 * means the same in every view. A view column with neither fails the install.
 */
DO $do$
DECLARE
    v_docs jsonb := $json${
 "accuracy": "Share of predictions whose label (at the decision threshold, for a binary classifier) equals the outcome",
 "alert": "Level at or above which the metric alerts (pgscore.drift_thresholds)",
 "auc": "Area under the ROC curve on the outcomes (binary classifiers; ties count half)",
 "baseline_mean": "Mean of the feature (or score) on the training data",
 "baseline_null_rate": "Share of NULL/NaN values in the training data",
 "bin": "Baseline bin: the number of baseline edges at or below the value (SQL width_bucket); -1 for NULL or NaN",
 "brier": "Mean squared difference between the score and the 0/1 outcome (binary classifiers)",
 "checks": "Each performance metric checked, with its value, thresholds and level",
 "classes": "The classifier's classes, in the order of predict_proba's columns (NULL for a regressor)",
 "constant_baseline": "true when the feature took a single value in the training data",
 "created_at": "When the version was registered",
 "created_by": "Who registered the version",
 "day": "UTC day",
 "decile": "Score decile, 1 (lowest scores) to 10 (highest), of equal counts",
 "deploy_accuracy": "Hold-out accuracy captured at deploy",
 "deploy_auc": "Hold-out AUC captured at deploy",
 "deploy_brier": "Hold-out Brier score captured at deploy",
 "deploy_log_loss": "Hold-out log loss captured at deploy",
 "deploy_mae": "Hold-out mean absolute error captured at deploy",
 "deploy_rmse": "Hold-out root mean squared error captured at deploy",
 "deployed_at": "When the live version was made live",
 "description": "Free-text description given at deploy",
 "empty_baseline": "true when the training data held no value of the feature",
 "ends": "End of the period (exclusive)",
 "env": "The Python, scikit-learn, numpy and joblib versions that trained the model",
 "estimator": "The estimator's class",
 "feature": "Feature name ('score' for the score)",
 "feature_names": "The model's features, in order",
 "feature_types": "Each feature's type",
 "firing": "The metrics at warn or alert level, comma-separated",
 "bucket_from": "Start of the whole 5-minute buckets of the period read from the rollups",
 "bucket_to": "End of the whole 5-minute buckets of the period read from the rollups; the log itself is read from here on",
 "js": "Jensen-Shannon distance (base 2, 0..1) between the current and the baseline bin shares",
 "kind": "feature or score",
 "ks": "Kolmogorov-Smirnov statistic: the largest gap between the current and the baseline cumulative shares at the baseline bin edges",
 "label": "The predicted label, where it was logged",
 "level": "ok, warn or alert (or no_data, insufficient_data, not_applicable when the metric cannot be judged)",
 "log_loss": "Mean negative log-likelihood of the outcome under the score (binary classifiers; scores clipped to [eps, 1-eps] as scikit-learn does)",
 "logged_at": "When the prediction was logged (the start of its transaction)",
 "mae": "Mean absolute error against the outcomes (regressors)",
 "max_score": "Highest score in the decile",
 "mean": "Mean of the non-NULL values in the window",
 "mean_score": "Mean score in the decile",
 "mean_shift": "Change of the mean in baseline standard deviations (NULL when the baseline is constant)",
 "metric": "The metric (pgscore.drift_thresholds lists them)",
 "metrics": "Hold-out metrics captured at deploy",
 "min_n": "The fewest values the window needs before the metric is judged",
 "min_score": "Lowest score in the decile",
 "model": "Model name",
 "model_id": "The model version's row in pgscore.models",
 "n": "How many values (predictions, or matched outcomes) the window holds",
 "n_out": "How many values fell outside the baseline min..max",
 "n_train": "Rows the model was trained on",
 "n_valid": "How many of the values are not NULL or NaN",
 "name": "Model name",
 "note": "What is missing or unusual, when something is",
 "null_rate": "Share of NULL/NaN values in the window",
 "observed_rate": "Share of positive outcomes in the decile",
 "out_of_range": "Share of the window's values outside the baseline min..max",
 "outcome": "The observed outcome",
 "period": "Window name or UTC day",
 "period_kind": "window or day",
 "position": "The feature's position in the model's feature vector (0 for the score)",
 "positives": "How many outcomes are the positive class (binary classifiers)",
 "precision": "Of the predictions at or above the decision threshold, the share whose outcome is positive",
 "predicted_at": "When the judged prediction was logged",
 "psi": "Population stability index over the baseline bins (shares floored at 1e-4)",
 "recall": "Of the positive outcomes, the share predicted at or above the decision threshold",
 "rmse": "Root mean squared error against the outcomes (regressors)",
 "score": "The score: positive-class probability, top-class probability or regression value",
 "sha256": "SHA-256 of the artifact bytes",
 "signed": "true when the artifact carries an HMAC signature",
 "since": "When pgscore.refresh_monitoring() first saw this condition firing (NULL until it has run since)",
 "sort_order": "Display order of the window",
 "starts": "Start of the period",
 "status": "The worst level among the metrics: alert, warn, ok; or insufficient_data, no_data, no_baseline, not_applicable",
 "subject": "The feature, 'score', or 'outcomes' for realised performance",
 "task": "binary, multiclass or regression",
 "threshold": "The threshold crossed (the alert level for alerts, the warn level for warnings)",
 "total": "Sum of the non-NULL values",
 "unmatched_outcomes": "Outcomes of this model that judge no prediction (none logged for the entity before the outcome)",
 "value": "The metric's current value",
 "version": "Model version",
 "warn": "Level at or above which the metric warns (pgscore.drift_thresholds)",
 "what": "feature, score or performance",
 "window_name": "The window (pgscore.drift_windows)",
 "x": "The value",
 "y": "1 when the outcome is the positive class, else 0 (binary classifiers)",
 "y_value": "The outcome as a number (regressors)"
}$json$;
    r record;
BEGIN
    FOR r IN
        SELECT c.oid::regclass AS view, a.attname
          FROM pg_catalog.pg_class c
          JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         WHERE c.relnamespace = 'pgscore'::regnamespace AND c.relkind = 'v'
           AND pg_catalog.col_description(c.oid, a.attnum) IS NULL
    LOOP
        IF NOT v_docs ? r.attname THEN
            RAISE EXCEPTION 'column %.% has no comment and no entry in the column dictionary', r.view, r.attname;
        END IF;
        EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', r.view, r.attname, v_docs ->> r.attname::text);
    END LOOP;
END
$do$;
