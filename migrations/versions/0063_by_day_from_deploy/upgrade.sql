-- 0062 to 0063: drift_by_day, performance_by_day and performance_by_day_by_version list the days from each
-- version's deploy (its registration's UTC day) on, or from the first day that holds a value of it where that
-- is earlier: the days of the 30 before the version existed were rows of status no_data.

CREATE OR REPLACE VIEW pgscore.drift_by_day AS
SELECT r.model, r.version, r.kind, r.feature, r.day, r.n, r.psi, r.ks, r.js, r.mean, r.baseline_mean, r.mean_shift,
       r.null_rate, r.out_of_range, r.status
  FROM (SELECT d.*, d.period::date AS day,
               min(d.period::date) FILTER (WHERE d.n > 0) OVER (PARTITION BY d.model, d.version) AS first_day
          FROM pgscore.drift_report d
         WHERE d.period_kind = 'day') r
  JOIN pgscore.models m ON m.name = r.model AND m.version = r.version
 WHERE r.day >= least((m.created_at AT TIME ZONE 'UTC')::date, r.first_day)
 ORDER BY r.model, r.kind, r.position, r.day;
COMMENT ON VIEW pgscore.drift_by_day IS 'Per live model, feature (and score) and UTC day of the last 30 from the version''s deploy on: the drift metrics of that day alone';

CREATE OR REPLACE VIEW pgscore.performance_by_day AS
SELECT p.name AS model, p.version, p.task, p.day, p.n, p.positives, p.auc, p.accuracy, p.precision, p.recall,
       p.brier, p.log_loss, p.mae, p.rmse, p.status
  FROM (SELECT s.*, s.period::date AS day,
               min(s.period::date) FILTER (WHERE s.n > 0) OVER (PARTITION BY s.model_id) AS first_day
          FROM pgscore.performance_stats() s
         WHERE s.period_kind = 'day') p
  JOIN pgscore.models m ON m.model_id = p.model_id
 WHERE p.day >= least((m.created_at AT TIME ZONE 'UTC')::date, p.first_day)
 ORDER BY model, p.day;
COMMENT ON VIEW pgscore.performance_by_day IS 'Per live model and UTC day of the last 30 from the version''s deploy on (by prediction time): realised metrics on the outcomes recorded so far';

CREATE OR REPLACE VIEW pgscore.performance_by_day_by_version AS
SELECT p.name AS model, p.version, l.model_id IS NOT NULL AS live, p.task, p.day, p.n, p.positives,
       p.auc, p.accuracy, p.precision, p.recall, p.brier, p.log_loss, p.mae, p.rmse, p.status
  FROM (SELECT s.*, s.period::date AS day,
               min(s.period::date) FILTER (WHERE s.n > 0) OVER (PARTITION BY s.model_id) AS first_day
          FROM pgscore.performance_stats(true) s
         WHERE s.period_kind = 'day') p
  JOIN pgscore.models m ON m.model_id = p.model_id
  LEFT JOIN pgscore.live_models l ON l.model_id = p.model_id
 WHERE p.day >= least((m.created_at AT TIME ZONE 'UTC')::date, p.first_day)
 ORDER BY model, p.version, p.day;
COMMENT ON VIEW pgscore.performance_by_day_by_version IS 'Per model version that outcomes judge (and each live one) and UTC day of the last 30 from the version''s deploy on (by prediction time): realised metrics on the outcomes recorded so far, each outcome against that version''s own newest prediction of the entity before it';
