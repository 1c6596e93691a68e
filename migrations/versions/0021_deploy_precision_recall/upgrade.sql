-- 0020 to 0021: realised_performance gains deploy_precision and deploy_recall, the hold-out precision and
-- recall captured at deploy (in pgscore.models.metrics, shown by pgscore show), appended after its other
-- columns so that views built on it keep theirs.

-- sql/views/monitoring.sql
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
          FROM pgscore.performance_stats() p
          JOIN pgscore.models m ON m.model_id = p.model_id) p
 WHERE period_kind = 'window'
 ORDER BY model, sort_order;
COMMENT ON VIEW pgscore.realised_performance IS 'Per live model and window (by prediction time): metrics realised on the outcomes recorded so far, next to the hold-out metrics captured at deploy';

-- sql/privileges/column_comments.sql
COMMENT ON COLUMN pgscore.realised_performance.deploy_precision IS 'Hold-out precision captured at deploy, at the decision threshold (binary classifiers)';
COMMENT ON COLUMN pgscore.realised_performance.deploy_recall IS 'Hold-out recall captured at deploy, at the decision threshold (binary classifiers)';
