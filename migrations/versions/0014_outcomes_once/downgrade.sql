-- 0014 back to 0013: every outcome counts, also several judging one prediction
CREATE OR REPLACE VIEW pgscore.judged_predictions AS
SELECT m.model_id, m.name, m.version, m.task, m.metrics, om.predicted_at, om.score, om.label, om.outcome,
       CASE WHEN m.task = 'binary' THEN (om.outcome = m.classes -> 1)::integer END AS y,
       CASE WHEN m.task = 'regression' THEN (om.outcome #>> '{}')::float8 END AS y_value,
       coalesce((m.metrics ->> 'threshold')::float8, 0.5) AS threshold
  FROM pgscore.outcome_matches om
  JOIN pgscore.live_models m ON m.model_id = om.model_id;
COMMENT ON VIEW pgscore.judged_predictions IS 'Internal: outcomes matched to predictions of the live version, with the binary target or the regression value';
