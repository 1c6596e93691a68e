-- 0014 realised performance counts each judged prediction once, with the newest outcome observed for
-- it: recording an entity's outcome again (a correction, or a job that ran twice) counted the prediction
-- twice in realised_performance, performance_by_day and calibration.

-- sql/views/monitoring.sql
-- Each judged prediction once, with the newest outcome observed for it: an outcome recorded again for
-- the same prediction (a correction, or a job that ran twice) replaces the earlier one in the metrics;
-- outcome_matches keeps every outcome.
CREATE OR REPLACE VIEW pgscore.judged_predictions AS
SELECT DISTINCT ON (om.model_id, om.entity_key, om.predicted_at)
       m.model_id, m.name, m.version, m.task, m.metrics, om.predicted_at, om.score, om.label, om.outcome,
       CASE WHEN m.task = 'binary' THEN (om.outcome = m.classes -> 1)::integer END AS y,
       CASE WHEN m.task = 'regression' THEN (om.outcome #>> '{}')::float8 END AS y_value,
       coalesce((m.metrics ->> 'threshold')::float8, 0.5) AS threshold
  FROM pgscore.outcome_matches om
  JOIN pgscore.live_models m ON m.model_id = om.model_id
 ORDER BY om.model_id, om.entity_key, om.predicted_at, om.observed_at DESC, om.outcome_id DESC;
COMMENT ON VIEW pgscore.judged_predictions IS 'Internal: predictions of the live version that outcomes judge, each once with the newest outcome observed for it, with the binary target or the regression value';
