-- 0086 to 0087: window_checks. Each check of the live models' drift and realised performance in the windows as a
-- row (pgscore.window_checks, for readers), with its thresholds, confidence, noise floor and level, and
-- held_back_from: the level its value reached by the thresholds alone where the noise floor held it at ok, judged
-- by pgscore.check_rows, the one definition of it (pgscore drift re-derived it in Python, and read drift_stats()
-- and performance_stats_of a second time for it). drift_report and realised_performance read the internal views
-- drift_rows and performance_rows, which carry each row's checks too (what pgscore drift reads, once): the same
-- columns and rows. performance_stats_of writes its checks at extra_float_digits 1, as drift_stats_of does (at a
-- session's 0 their values had 15 digits).

ALTER FUNCTION pgscore.performance_stats_of(boolean, bigint[], text) SET extra_float_digits = 1;

/*
 * Each check of a row's checks (judge's, drift_stats_of's: the jsonb the drift and performance rows carry) as
 * a row, and whether its noise floor held it back (migration 0087): the level (warn or alert) its value reached
 * by the thresholds alone where the floor kept it at ok. Read by pgscore.window_checks and by pgscore drift:
 * the one definition of "held back" (pgscore drift re-derived it in Python before 0087). The checks' values
 * are exact (drift_stats_of and performance_stats_of write them at extra_float_digits 1).
 */
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
REVOKE EXECUTE ON FUNCTION pgscore.check_rows(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgscore.check_rows(jsonb) TO pgscore_reader, pgscore_admin;

-- drift_report with each row's checks (migration 0087): what pgscore drift reads, in the one run of drift_stats()
-- that also gives its rows, for the checks the noise floors held back (pgscore.check_rows)
CREATE VIEW pgscore.drift_rows AS
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
COMMENT ON VIEW pgscore.drift_rows IS 'Internal: drift rows of every kind and period, with their status, a note and their checks';
COMMENT ON COLUMN pgscore.drift_rows.checks IS 'Each drift metric checked, with its value, thresholds, level and (where its confidence is set) its confidence and noise floor';

-- the one definition behind feature_drift, score_drift and drift_by_day
CREATE OR REPLACE VIEW pgscore.drift_report AS
SELECT model, version, kind, feature, position, period_kind, period, sort_order, n, null_rate, baseline_null_rate,
       mean, baseline_mean, mean_shift, out_of_range, psi, ks, js, status, firing, note
  FROM pgscore.drift_rows;

-- realised_performance with each row's window order and checks (migration 0087): what pgscore drift reads, in the
-- one run of performance_stats_of that also gives its rows, for the checks the noise floors held back
CREATE VIEW pgscore.performance_rows AS
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
       END AS note,
       unmatched_outcomes,
       (deploy_metrics ->> 'precision')::float8 AS deploy_precision, (deploy_metrics ->> 'recall')::float8 AS deploy_recall,
       sort_order, checks
  FROM (SELECT p.*, m.metrics AS deploy_metrics
          FROM pgscore.performance_stats_of(false, NULL, 'window') p
          JOIN pgscore.models m ON m.model_id = p.model_id) p
 WHERE period_kind = 'window';
COMMENT ON VIEW pgscore.performance_rows IS 'Internal: realised_performance with each row''s window order and checks';

CREATE OR REPLACE VIEW pgscore.realised_performance AS
SELECT model, version, task, window_name, n, positives, auc, accuracy, precision, recall, brier,
       log_loss, mae, rmse, deploy_auc, deploy_accuracy, deploy_brier, deploy_log_loss, deploy_mae, deploy_rmse,
       status, firing, note, unmatched_outcomes,
       -- appended (migration 0021), so that views built on this one keep their columns
       deploy_precision, deploy_recall
  FROM pgscore.performance_rows
 ORDER BY model, sort_order;

/*
 * Each check of the live models' drift and realised performance in the windows, a row per metric, with what
 * judged it (migration 0087): its thresholds, its confidence and noise floor, its level, and held_back_from, the
 * level its value reached by the thresholds alone where the noise floor held it at ok (pgscore.check_rows).
 */
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
COMMENT ON COLUMN pgscore.window_checks.confidence IS 'The metric''s drift_thresholds.confidence: its level is warn or alert only above its noise floor at this confidence too; NULL: judged by the thresholds alone';
COMMENT ON COLUMN pgscore.window_checks.floor IS 'What sampling alone makes the metric reach at the window''s size, at the confidence (pgscore.noise_floor); NULL at a NULL confidence or where the window holds no value';
COMMENT ON COLUMN pgscore.window_checks.level IS 'ok, warn or alert (or no_data, insufficient_data, not_applicable when the metric cannot be judged), by the thresholds and the noise floor';
COMMENT ON COLUMN pgscore.window_checks.held_back_from IS 'warn or alert: the level the value reached by the thresholds alone that its noise floor held back to ok; NULL when it held nothing back';
GRANT SELECT ON pgscore.window_checks TO pgscore_reader, pgscore_admin;
GRANT SELECT ON pgscore.drift_rows, pgscore.performance_rows TO pgscore_admin;

-- the new views' other columns from the column dictionary (sql/privileges/column_comments.sql)
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
