-- 0060 to 0061: monitoring of each shadow version, and realised performance per version cheaper to read.
-- pgscore.alerts lists the conditions of each shadow version (pgscore.shadow_versions) of a model with a live
-- version, in a new last column, shadow (false for the live version's rows, which are as before): its drift
-- against its own baseline (pgscore.shadow_drift_stats(), which the reader may call, as alerts does) and its
-- realised performance judged by its own predictions (performance_stats(true)); refresh_monitoring records
-- when each was first seen, as for the live version. pgscore.performance_by_day_by_version: performance_by_day
-- per version. performance_stats(boolean) puts each judged prediction in its periods by a hash join on the day
-- and the windows' bounds, names each period by a number and sorts only what the metrics read (work_mem as
-- drift_stats_of's), and judged_predictions_by_version picks each prediction's newest outcome among thin rows:
-- the same rows, to the bit.
CREATE OR REPLACE VIEW pgscore.judged_predictions_by_version AS
SELECT m.model_id, m.name, m.version, m.task, m.metrics, d.predicted_at, d.score, d.label, d.outcome,
       CASE WHEN m.task = 'binary' THEN (d.outcome = m.classes -> 1)::integer END AS y,
       CASE WHEN m.task = 'regression' THEN (d.outcome #>> '{}')::float8 END AS y_value,
       coalesce((m.metrics ->> 'threshold')::float8, 0.5) AS threshold
  FROM (SELECT DISTINCT ON (vm.model_id, o.entity_key, vm.predicted_at)
               vm.model_id, vm.predicted_at, vm.score, vm.label, o.outcome
          FROM pgscore.outcome_version_matches vm
          JOIN pgscore.outcomes o ON o.outcome_id = vm.outcome_id
         ORDER BY vm.model_id, o.entity_key, vm.predicted_at, o.observed_at DESC, o.outcome_id DESC) d
  JOIN pgscore.models m ON m.model_id = d.model_id;

CREATE OR REPLACE FUNCTION pgscore.performance_stats(p_by_version boolean)
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
WITH periods AS MATERIALIZED (SELECT mp.*, row_number() OVER ()::integer AS pid FROM pgscore.monitoring_periods mp),
jp AS MATERIALIZED (
    SELECT x.model_id, x.task, x.predicted_at, x.score, x.y, x.y_value, x.threshold,
           x.label = x.outcome #>> '{}' AS label_right
      FROM (SELECT * FROM pgscore.judged_predictions WHERE NOT p_by_version
            UNION ALL
            SELECT * FROM pgscore.judged_predictions_by_version WHERE p_by_version) x
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
-- the live versions; per version also every version an outcome judges (each is in s: the window without
-- a length holds every judged prediction)
versions AS (
    SELECT lm.model_id FROM pgscore.live_models lm
    UNION
    SELECT s.model_id FROM s WHERE p_by_version
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
COMMENT ON FUNCTION pgscore.performance_stats(boolean) IS 'Realised performance of every live model (p_by_version false) or of every version outcomes judge and every live one (true: each outcome against each version''s own prediction) per period, next to its deploy metrics, with the checks; read it through realised_performance, performance_by_day and realised_performance_by_version';

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
REVOKE EXECUTE ON FUNCTION pgscore.shadow_drift_stats() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgscore.shadow_drift_stats() TO pgscore_reader, pgscore_admin;

CREATE VIEW pgscore.performance_by_day_by_version AS
SELECT p.name AS model, p.version, l.model_id IS NOT NULL AS live, p.task, p.period::date AS day, p.n, p.positives,
       p.auc, p.accuracy, p.precision, p.recall, p.brier, p.log_loss, p.mae, p.rmse, p.status
  FROM pgscore.performance_stats(true) p
  LEFT JOIN pgscore.live_models l ON l.model_id = p.model_id
 WHERE p.period_kind = 'day'
 ORDER BY model, p.version, day;
COMMENT ON VIEW pgscore.performance_by_day_by_version IS 'Per model version that outcomes judge (and each live one) and UTC day of the last 30 (by prediction time): realised metrics on the outcomes recorded so far, each outcome against that version''s own newest prediction of the entity before it';
COMMENT ON COLUMN pgscore.performance_by_day_by_version.live IS 'true for the version live now';
COMMENT ON COLUMN pgscore.performance_by_day_by_version.n IS 'How many predictions of this version made that day have a matched outcome';
COMMENT ON COLUMN pgscore.performance_by_day_by_version.status IS 'The worst level among the metrics against this version''s deploy metrics: alert, warn, ok; or insufficient_data, no_data, not_applicable';
GRANT SELECT ON pgscore.performance_by_day_by_version TO pgscore_reader, pgscore_admin;

CREATE OR REPLACE VIEW pgscore.firing AS
SELECT name AS model, version, kind AS what, feature AS subject, period AS window_name, sort_order, metric, value,
       CASE level WHEN 'alert' THEN alert ELSE warn END AS threshold, level, false AS shadow
  FROM pgscore.drift_checks
 WHERE period_kind = 'window' AND level IN ('warn', 'alert')
UNION ALL
SELECT r.name, r.version, 'performance', 'outcomes', r.period, r.sort_order, c.metric, (c.value)::float8,
       (CASE c.level WHEN 'alert' THEN c.alert ELSE c.warn END)::float8, c.level, false
  FROM pgscore.performance_stats() r
 CROSS JOIN LATERAL jsonb_to_recordset(r.checks) c(metric text, value float8, warn float8, alert float8, level text)
 WHERE r.period_kind = 'window' AND c.level IN ('warn', 'alert')
UNION ALL
-- each shadow version of a model with a live version: its drift against its own baseline, and its realised
-- performance judged by its own predictions (performance_stats(true), read only where there is a shadow)
SELECT s.name, s.version, s.kind, s.feature, s.period, s.sort_order, c.metric, c.value,
       CASE c.level WHEN 'alert' THEN c.alert ELSE c.warn END, c.level, true
  FROM pgscore.shadow_drift_stats() s
 CROSS JOIN LATERAL jsonb_to_recordset(s.checks) c(metric text, value float8, warn float8, alert float8, level text)
 WHERE c.level IN ('warn', 'alert')
UNION ALL
SELECT r.name, r.version, 'performance', 'outcomes', r.period, r.sort_order, c.metric, (c.value)::float8,
       (CASE c.level WHEN 'alert' THEN c.alert ELSE c.warn END)::float8, c.level, true
  FROM (SELECT p.* FROM pgscore.performance_stats(true) p
         WHERE EXISTS (SELECT 1 FROM pgscore.shadow_versions sv JOIN pgscore.live_models lm ON lm.name = sv.name
                        WHERE sv.model_id <> lm.model_id)) r
 CROSS JOIN LATERAL jsonb_to_recordset(r.checks) c(metric text, value float8, warn float8, alert float8, level text)
 WHERE r.period_kind = 'window' AND c.level IN ('warn', 'alert')
   AND r.model_id IN (SELECT sv.model_id FROM pgscore.shadow_versions sv JOIN pgscore.live_models lm ON lm.name = sv.name
                       WHERE sv.model_id <> lm.model_id);
COMMENT ON VIEW pgscore.firing IS 'Internal: every condition at warn or alert level now, of each live version and each shadow version';
COMMENT ON COLUMN pgscore.firing.shadow IS 'true for a condition of a shadow version (pgscore.shadow_versions), false for the live version''s';

CREATE OR REPLACE VIEW pgscore.alerts AS
SELECT f.model, f.version, f.what, f.subject, f.window_name, f.metric, f.value, f.threshold, f.level, s.first_seen AS since,
       f.shadow
  FROM pgscore.firing f
  LEFT JOIN pgscore.alert_state s ON s.model = f.model AND s.version = f.version AND s.what = f.what
        AND s.subject = f.subject AND s.window_name = f.window_name AND s.metric = f.metric AND s.level = f.level
 ORDER BY f.level = 'alert' DESC, f.model, f.shadow, f.version, f.what, f.subject, f.sort_order, f.metric;
COMMENT ON COLUMN pgscore.alerts.level IS 'warn or alert: the level the condition reached (conditions below warn are not listed)';
COMMENT ON VIEW pgscore.alerts IS 'Every firing condition: drift of a feature or the score, or realised performance, at warn or alert level in some window, of each model''s live version and of each shadow version scored next to it (shadow true)';
COMMENT ON COLUMN pgscore.alerts.shadow IS 'true for a condition of a version scored in shadow (pgscore.shadow_versions): its drift against its own baseline, its realised performance by its own predictions (as realised_performance_by_version); false for the live version''s';

-- the new view's other columns from the column dictionary (sql/privileges/column_comments.sql)
DO $do$
DECLARE
    v_docs jsonb := $json${
 "accuracy": "Share of predictions whose label (at the decision threshold, for a binary classifier) equals the outcome",
 "alert": "Level at or above which the metric alerts (pgscore.drift_thresholds)",
 "auc": "Area under the ROC curve on the outcomes (binary classifiers; ties count half)",
 "baseline_mean": "Mean of the feature on the training data; for the score, of the score baseline (the hold-out rows' scores when deployed with a target, else the training data's)",
 "baseline_null_rate": "Share of NULL/NaN values in the training data",
 "bin": "Baseline bin: the number of baseline edges at or below the value (SQL width_bucket); -1 for NULL or NaN",
 "brier": "Mean squared difference between the score and the 0/1 outcome (binary classifiers)",
 "checks": "Each performance metric checked, with its value, thresholds and level",
 "classes": "The classifier's classes, in the order of predict_proba's columns (NULL for a regressor)",
 "constant_baseline": "true when the feature took a single value in the training data",
 "created_at": "When the version was registered",
 "created_by": "Who registered the version",
 "day": "UTC day",
 "decile": "Score decile by rank, 1 (lowest scores) to 10 (highest): equal scores share a decile, so with ties the deciles hold unequal counts and a decile a tie fills is not listed",
 "deploy_accuracy": "Hold-out accuracy captured at deploy",
 "deploy_auc": "Hold-out AUC captured at deploy",
 "deploy_brier": "Hold-out Brier score captured at deploy",
 "deploy_log_loss": "Hold-out log loss captured at deploy",
 "deploy_mae": "Hold-out mean absolute error captured at deploy",
 "deploy_precision": "Hold-out precision captured at deploy, at the decision threshold (binary classifiers)",
 "deploy_recall": "Hold-out recall captured at deploy, at the decision threshold (binary classifiers)",
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
 "out_of_range": "Share of the window's non-NULL values outside the baseline min..max (null_rate counts the NULL ones)",
 "outcome": "The observed outcome",
 "period": "Window name or UTC day",
 "period_kind": "window or day",
 "position": "The feature's position in the model's feature vector (0 for the score)",
 "positives": "How many outcomes are the positive class (binary classifiers)",
 "precision": "Of the predictions above the decision threshold, the metrics' threshold (0.5 unless the model's predict thresholds the score itself; a score equal to it is the negative class, as predict gives it), the share whose outcome is positive (binary classifiers; NULL for others)",
 "predicted_at": "When the judged prediction was logged",
 "psi": "Population stability index over the baseline bins (shares floored at 1e-4)",
 "recall": "Of the positive outcomes, the share scored above the decision threshold, the metrics' threshold (0.5 unless the model's predict thresholds the score itself; a score equal to it is the negative class, as predict gives it) (binary classifiers; NULL for others)",
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
