/*
 * Every column of every pgscore view carries a comment, for BI tools and
 * \d+. Columns commented where their view is defined keep that text; the
 * rest take the meaning of their name from this one dictionary, so a name
 * means the same in every view. A view column with neither fails the install.
 * n has no entry: what it counts differs by view (predictions logged, values a
 * metric was judged on, predictions with a matched outcome), and each view's
 * says which (migration 0118; the entry, "predictions, or matched outcomes",
 * said neither).
 */
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
 "deploy_accuracy": "Hold-out accuracy captured at deploy (classifiers)",
 "deploy_auc": "Hold-out AUC captured at deploy (binary classifiers; NULL for others: a multiclass model's one-vs-rest AUC is its metrics' auc_ovr, with no realised counterpart)",
 "deploy_brier": "Hold-out Brier score captured at deploy (binary classifiers; NULL for a multiclass model and a regressor)",
 "deploy_log_loss": "Hold-out log loss captured at deploy (classifiers): a multiclass model's, over every class's probability, has no realised counterpart (log_loss is NULL for it: the log holds the top class's probability only)",
 "deploy_mae": "Hold-out mean absolute error captured at deploy (regressors)",
 "deploy_precision": "Hold-out precision captured at deploy, at the decision threshold (binary classifiers)",
 "deploy_recall": "Hold-out recall captured at deploy, at the decision threshold (binary classifiers)",
 "deploy_rmse": "Hold-out root mean squared error captured at deploy (regressors)",
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
 "log_loss": "Mean negative log-likelihood of the outcome under the score (binary classifiers; scores clipped to [eps, 1-eps] as scikit-learn does; NULL for a multiclass model: the log holds the top class's probability only, not the outcome's)",
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
