-- 0063 to 0062: the three views list every day of the 30 again, as they were.

CREATE OR REPLACE VIEW pgscore.drift_by_day AS
SELECT model, version, kind, feature, period::date AS day, n, psi, ks, js, mean, baseline_mean, mean_shift,
       null_rate, out_of_range, status
  FROM pgscore.drift_report
 WHERE period_kind = 'day'
 ORDER BY model, kind, position, day;
COMMENT ON VIEW pgscore.drift_by_day IS 'Per live model, feature (and score) and UTC day of the last 30: the drift metrics of that day alone';

CREATE OR REPLACE VIEW pgscore.performance_by_day AS
SELECT name AS model, version, task, period::date AS day, n, positives, auc, accuracy, precision, recall, brier,
       log_loss, mae, rmse, status
  FROM pgscore.performance_stats()
 WHERE period_kind = 'day'
 ORDER BY model, day;
COMMENT ON VIEW pgscore.performance_by_day IS 'Per live model and UTC day of the last 30 (by prediction time): realised metrics on the outcomes recorded so far';

CREATE OR REPLACE VIEW pgscore.performance_by_day_by_version AS
SELECT p.name AS model, p.version, l.model_id IS NOT NULL AS live, p.task, p.period::date AS day, p.n, p.positives,
       p.auc, p.accuracy, p.precision, p.recall, p.brier, p.log_loss, p.mae, p.rmse, p.status
  FROM pgscore.performance_stats(true) p
  LEFT JOIN pgscore.live_models l ON l.model_id = p.model_id
 WHERE p.period_kind = 'day'
 ORDER BY model, p.version, day;
COMMENT ON VIEW pgscore.performance_by_day_by_version IS 'Per model version that outcomes judge (and each live one) and UTC day of the last 30 (by prediction time): realised metrics on the outcomes recorded so far, each outcome against that version''s own newest prediction of the entity before it';
