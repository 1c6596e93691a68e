-- 0087 to 0086: drops pgscore.window_checks and pgscore.check_rows; drift_report and realised_performance read
-- drift_stats() and performance_stats_of themselves again (0086's definitions), and performance_stats_of writes its
-- checks at the session's extra_float_digits.

DROP VIEW pgscore.window_checks;
CREATE OR REPLACE VIEW pgscore.realised_performance AS
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
       -- appended (migration 0021), so that views built on this one keep their columns
       (deploy_metrics ->> 'precision')::float8 AS deploy_precision, (deploy_metrics ->> 'recall')::float8 AS deploy_recall
  FROM (SELECT p.*, m.metrics AS deploy_metrics
          FROM pgscore.performance_stats_of(false, NULL, 'window') p
          JOIN pgscore.models m ON m.model_id = p.model_id) p
 WHERE period_kind = 'window'
 ORDER BY model, sort_order;
DROP VIEW pgscore.performance_rows;
CREATE OR REPLACE VIEW pgscore.drift_report AS
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
DROP VIEW pgscore.drift_rows;
DROP FUNCTION pgscore.check_rows(jsonb);
ALTER FUNCTION pgscore.performance_stats_of(boolean, bigint[], text) RESET extra_float_digits;
