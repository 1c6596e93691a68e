-- 0135 to 0136: pgscore drift NAME at the cost of the models named (session 62's trial of 12 models: one model's
-- drift took as long as the fleet's, 4.3-6.2 s, a cron loop over 11 models 57.9 s). drift_rows, performance_rows,
-- firing and alerts ran drift_stats(), performance_stats_of and the shadows' for every live model before the
-- reader's WHERE model = ... (a set-returning function takes no filter). Their bodies are functions of the models
-- asked for now, drift_rows_of(p_models, p_period_kind), performance_rows_of, firing_of and alerts_of, which the
-- views read with NULL (every model: their rows as before, in their order) and pgscore drift with the names it
-- shows (and windows alone without --html); check_period_kind's hint names drift_rows_of's arguments alone.
-- monitoring_periods reads monitoring_state's one row through LIMIT 1: unanalyzed (a new install's, until
-- autovacuum counts 50 refreshes) it was taken for 1,810 rows, and performance_stats_of's hash join of 1e14
-- estimated rows in 16.7 million batches cost every call 0.5-0.7 s.

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
  -- (0136) its one row (a boolean key that must be true) through LIMIT 1, which the planner takes for one row:
  -- monitoring_state is rarely analyzed (a new install's never, until autovacuum counts 50 refreshes), and
  -- unanalyzed it was taken for 1,810 rows, each period as many; performance_stats_of then planned a hash join
  -- of 1e14 rows in 16.7 million batches, which cost every call 0.5-0.7 s whatever the models asked for
  FROM c CROSS JOIN (SELECT ms.rolled_until FROM pgscore.monitoring_state ms LIMIT 1) s;

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

CREATE FUNCTION pgscore.drift_rows_of(p_models text[], p_period_kind text)
RETURNS TABLE (model text, version integer, kind text, feature text, "position" integer, period_kind text,
               period text, sort_order integer, n bigint, null_rate float8, baseline_null_rate float8, mean float8,
               baseline_mean float8, mean_shift float8, out_of_range float8, psi float8, ks float8, js float8,
               status text, firing text, note text, checks jsonb)
LANGUAGE sql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
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

CREATE OR REPLACE VIEW pgscore.drift_rows AS
SELECT r.model, r.version, r.kind, r.feature, r.position, r.period_kind, r.period, r.sort_order,
       r.n, r.null_rate, r.baseline_null_rate, r.mean, r.baseline_mean, r.mean_shift, r.out_of_range,
       r.psi, r.ks, r.js, r.status, r.firing, r.note, r.checks
  FROM pgscore.drift_rows_of(NULL, NULL) r;

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

CREATE OR REPLACE VIEW pgscore.performance_rows AS
SELECT r.model, r.version, r.task, r.window_name, r.n, r.positives, r.auc, r.accuracy, r.precision, r.recall,
       r.brier, r.log_loss, r.mae, r.rmse, r.deploy_auc, r.deploy_accuracy, r.deploy_brier, r.deploy_log_loss,
       r.deploy_mae, r.deploy_rmse, r.status, r.firing, r.note, r.unmatched_outcomes, r.deploy_precision,
       r.deploy_recall, r.sort_order, r.checks
  FROM pgscore.performance_rows_of(NULL) r;

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
  FROM pgscore.class_drift_stats() s
 CROSS JOIN LATERAL jsonb_to_recordset(s.checks) c(metric text, value float8, warn float8, alert float8, level text,
                                                warn_from text, alert_from text)
 WHERE c.level IN ('warn', 'alert') AND (p_models IS NULL OR s.name = ANY (p_models))
$fn$;
COMMENT ON FUNCTION pgscore.firing_of(text[]) IS 'pgscore.firing of the models p_models alone (NULL: every model), each condition computed for them alone: every condition at warn or alert level now of their live versions and of their shadow versions (migration 0136)';

CREATE OR REPLACE VIEW pgscore.firing AS
SELECT f.model, f.version, f.what, f.subject, f.window_name, f.sort_order, f.metric, f.value, f.threshold, f.level,
       f.shadow, f.threshold_from
  FROM pgscore.firing_of(NULL) f;

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

CREATE OR REPLACE VIEW pgscore.alerts AS
SELECT a.model, a.version, a.what, a.subject, a.window_name, a.metric, a.value, a.threshold, a.level, a.since,
       a.shadow, a.silenced_until, a.silence_id, a.threshold_from
  FROM pgscore.alerts_of(NULL) a;

REVOKE EXECUTE ON FUNCTION pgscore.drift_rows_of(text[], text), pgscore.performance_rows_of(text[]),
    pgscore.firing_of(text[]), pgscore.alerts_of(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgscore.drift_rows_of(text[], text), pgscore.performance_rows_of(text[]),
    pgscore.firing_of(text[]), pgscore.alerts_of(text[]) TO pgscore_reader, pgscore_admin;
