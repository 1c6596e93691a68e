-- 0136 to 0135: the views drift_rows, performance_rows, firing and alerts as 0135 left them (each computing every
-- model's rows), then without drift_rows_of, performance_rows_of, firing_of and alerts_of; check_period_kind and
-- monitoring_periods as before.
CREATE OR REPLACE VIEW pgscore.drift_rows AS
SELECT s.name AS model, s.version, s.kind, s.feature, s.position, s.period_kind, s.period, s.sort_order,
       s.n, s.null_rate, s.baseline_null_rate, s.mean, s.baseline_mean, s.mean_shift, s.out_of_range,
       s.psi, s.ks, s.js, s.status, s.firing,
       CASE WHEN s.empty_baseline THEN 'the baseline holds no values (all NULL at training)'
            WHEN s.n = 0 THEN 'no predictions in this window'
            WHEN s.status = 'insufficient_data' THEN format('%s values, fewer than the %s needed', s.n, s.min_n)
            WHEN s.constant_baseline THEN 'constant in the baseline: mean shift undefined, any other value is out of range'
       END AS note,
       s.checks
  FROM pgscore.drift_stats() s
UNION ALL
SELECT m.name, m.version, k.kind, NULL, NULL, 'window', w.window_name, w.sort_order,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'no_baseline', NULL,
       'deployed without training data, so there is no baseline: redeploy with --train (or X) to monitor drift',
       NULL
  FROM pgscore.live_models m
 CROSS JOIN (VALUES ('feature'), ('score')) k(kind)
 CROSS JOIN pgscore.drift_windows w
 WHERE NOT EXISTS (SELECT 1 FROM pgscore.baselines b WHERE b.model_id = m.model_id AND b.kind = k.kind);

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
       false AS shadow,
       -- appended (migration 0133): where the threshold came from (subject, model: an override; default)
       coalesce(CASE c.level WHEN 'alert' THEN c.alert_from ELSE c.warn_from END, 'default') AS threshold_from
  FROM pgscore.window_drift_stats() s
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
  FROM pgscore.performance_stats_of(false, NULL, 'both_windows') r
 CROSS JOIN LATERAL jsonb_to_recordset(r.checks) c(metric text, value float8, warn float8, alert float8, level text,
                                                warn_from text, alert_from text)
 WHERE r.period_kind IN ('window', 'outcome_window') AND c.level IN ('warn', 'alert')
UNION ALL
-- each shadow version of a model with a live version: its drift against its own baseline, and its realised
-- performance judged by its own predictions (shadow_performance_stats: the shadows' alone, in the windows)
SELECT s.name, s.version, s.kind, s.feature, s.period, s.sort_order, c.metric, c.value,
       CASE c.level WHEN 'alert' THEN c.alert ELSE c.warn END, c.level, true, coalesce(CASE c.level WHEN 'alert' THEN c.alert_from ELSE c.warn_from END, 'default')
  FROM pgscore.shadow_drift_stats() s
 CROSS JOIN LATERAL jsonb_to_recordset(s.checks) c(metric text, value float8, warn float8, alert float8, level text,
                                                warn_from text, alert_from text)
 WHERE c.level IN ('warn', 'alert')
UNION ALL
SELECT r.name, r.version, 'performance', 'outcomes', r.period, r.sort_order, c.metric, (c.value)::float8,
       (CASE c.level WHEN 'alert' THEN c.alert ELSE c.warn END)::float8, c.level, true, coalesce(CASE c.level WHEN 'alert' THEN c.alert_from ELSE c.warn_from END, 'default')
  FROM pgscore.shadow_performance_stats() r
 CROSS JOIN LATERAL jsonb_to_recordset(r.checks) c(metric text, value float8, warn float8, alert float8, level text,
                                                warn_from text, alert_from text)
 WHERE c.level IN ('warn', 'alert')
UNION ALL
-- the live versions' predicted-class mix (migration 0122): what 'class', subject 'mix'
SELECT s.name, s.version, 'class', 'mix', s.window_name, s.sort_order, c.metric, c.value,
       CASE c.level WHEN 'alert' THEN c.alert ELSE c.warn END, c.level, false, coalesce(CASE c.level WHEN 'alert' THEN c.alert_from ELSE c.warn_from END, 'default')
  FROM pgscore.class_drift_stats() s
 CROSS JOIN LATERAL jsonb_to_recordset(s.checks) c(metric text, value float8, warn float8, alert float8, level text,
                                                warn_from text, alert_from text)
 WHERE c.level IN ('warn', 'alert');

CREATE OR REPLACE VIEW pgscore.alerts AS
SELECT f.model, f.version, f.what, f.subject, f.window_name, f.metric, f.value, f.threshold, f.level, s.first_seen AS since,
       f.shadow,
       -- appended (migration 0126): the silence in force now that matches the row, the one that ends last
       q.ends_at AS silenced_until, q.id AS silence_id,
       -- appended (migration 0133): which thresholds raised it
       f.threshold_from
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

DROP FUNCTION pgscore.alerts_of(text[]);
DROP FUNCTION pgscore.firing_of(text[]);
DROP FUNCTION pgscore.performance_rows_of(text[]);
DROP FUNCTION pgscore.drift_rows_of(text[], text);

CREATE OR REPLACE FUNCTION pgscore.check_period_kind(p_function text, p_period_kind text)
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
              -- (p_period is drift_counts' and drift_counts_of's alone: drift_stats_of and performance_stats_of
              -- take none, and their hint named it before 0127)
              HINT = CASE WHEN p_function IN ('pgscore.drift_stats_of', 'pgscore.performance_stats_of')
                          THEN 'each row''s period, a window''s name or a UTC day (YYYY-MM-DD), names one period '
                               'of its kind: filter the rows by it'
                          ELSE 'p_period, a window''s name or a UTC day (YYYY-MM-DD), picks one period of that kind'
                     END;
END
$fn$;

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
