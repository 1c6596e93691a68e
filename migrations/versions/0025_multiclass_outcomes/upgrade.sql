-- 0024 to 0025: from a walk-through with multiclass and regression models of one's own.
-- realised_performance and performance_by_day give precision and recall for binary classifiers only
-- (a multiclass model has no positive class: they read 0, where auc and brier are NULL); record_outcome
-- refuses true and false for a model that is not a binary classifier (of classes 0..3, true was read
-- as 1 and replaced a recorded 2 in the metrics). From a walk-through with long-lived sessions: the
-- commit-time flush of the query path's audit rows runs as its owner (SECURITY DEFINER).

-- sql/views/monitoring.sql
CREATE OR REPLACE FUNCTION pgscore.performance_stats()
RETURNS TABLE (model_id bigint, name text, version integer, task text, period_kind text, period text,
               sort_order integer, n bigint, positives bigint, auc float8, accuracy float8, "precision" float8,
               recall float8, brier float8, log_loss float8, mae float8, rmse float8, deploy_auc float8,
               deploy_accuracy float8, deploy_brier float8, deploy_log_loss float8, deploy_mae float8,
               deploy_rmse float8, checks jsonb, status text, firing text, min_n integer, unmatched_outcomes bigint)
LANGUAGE sql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
ROWS 100
AS $fn$
WITH periods AS MATERIALIZED (SELECT * FROM pgscore.monitoring_periods),
j AS (
    SELECT jp.*, p.period_kind, p.period
      FROM pgscore.judged_predictions jp
      JOIN periods p ON jp.predicted_at >= p.starts AND jp.predicted_at < p.ends
),
r AS (
    SELECT j.*, rank() OVER (PARTITION BY j.model_id, j.period_kind, j.period ORDER BY j.score)
               + (count(*) OVER (PARTITION BY j.model_id, j.period_kind, j.period, j.score) - 1) / 2.0 AS score_rank
      FROM j
),
s AS (  -- AUC from the rank sum of the positives (Mann-Whitney); log loss clipped at float64 eps like scikit-learn
    SELECT r.model_id, r.period_kind, r.period, count(*) AS n, sum(r.y) AS positives,
           ((sum(r.score_rank) FILTER (WHERE r.y = 1) - sum(r.y) * (sum(r.y) + 1) / 2.0)
                / nullif(sum(r.y) * (count(*) - sum(r.y)), 0))::float8 AS auc,
           (CASE WHEN min(r.task) = 'binary' THEN avg(((r.score >= r.threshold)::integer = r.y)::integer)
                 WHEN min(r.task) = 'multiclass' THEN avg((r.label = r.outcome #>> '{}')::integer) END)::float8 AS accuracy,
           -- binary only: a multiclass model has no positive class (y is NULL), where these gave 0
           CASE WHEN min(r.task) = 'binary' THEN sum(((r.score >= r.threshold) AND r.y = 1)::integer)::float8
               / nullif(sum((r.score >= r.threshold)::integer), 0) END AS "precision",
           CASE WHEN min(r.task) = 'binary'
                THEN sum(((r.score >= r.threshold) AND r.y = 1)::integer)::float8 / nullif(sum(r.y), 0) END AS recall,
           avg((r.score - r.y) ^ 2) AS brier,
           -avg(r.y * ln(least(greatest(r.score, 2.220446049250313e-16), 1 - 2.220446049250313e-16))
                + (1 - r.y) * ln(1 - least(greatest(r.score, 2.220446049250313e-16), 1 - 2.220446049250313e-16))) AS log_loss,
           avg(abs(r.score - r.y_value)) AS mae,
           sqrt(avg((r.score - r.y_value) ^ 2)) AS rmse
      FROM r
     GROUP BY r.model_id, r.period_kind, r.period
),
base AS (
    SELECT m.model_id, m.name, m.version, m.task, p.period_kind, p.period, p.sort_order,
           coalesce(s.n, 0) AS n, s.positives, s.auc, s.accuracy, s."precision", s.recall, s.brier, s.log_loss,
           s.mae, s.rmse,
           (m.metrics ->> 'auc')::float8 AS deploy_auc, (m.metrics ->> 'accuracy')::float8 AS deploy_accuracy,
           (m.metrics ->> 'brier')::float8 AS deploy_brier, (m.metrics ->> 'log_loss')::float8 AS deploy_log_loss,
           (m.metrics ->> 'mae')::float8 AS deploy_mae, (m.metrics ->> 'rmse')::float8 AS deploy_rmse
      FROM pgscore.live_models m
     CROSS JOIN periods p
      LEFT JOIN s ON s.model_id = m.model_id AND s.period_kind = p.period_kind AND s.period = p.period
)
SELECT b.*, c.checks, c.status, c.firing, c.min_n,
       (SELECT count(*) FROM pgscore.outcome_matches om WHERE om.model = b.name AND NOT om.matched) AS unmatched_outcomes
  FROM base b
 CROSS JOIN LATERAL pgscore.judge(
        CASE b.task WHEN 'binary' THEN ARRAY['auc_drop', 'accuracy_drop', 'brier_rise']
                    WHEN 'multiclass' THEN ARRAY['accuracy_drop'] ELSE ARRAY['rmse_rise'] END,
        CASE b.task WHEN 'binary' THEN ARRAY[b.deploy_auc - b.auc, b.deploy_accuracy - b.accuracy, b.brier - b.deploy_brier]
                    WHEN 'multiclass' THEN ARRAY[b.deploy_accuracy - b.accuracy]
                    ELSE ARRAY[b.rmse / nullif(b.deploy_rmse, 0) - 1] END,
        array_fill(b.n, ARRAY[CASE b.task WHEN 'binary' THEN 3 ELSE 1 END])) c
$fn$;
COMMENT ON FUNCTION pgscore.performance_stats() IS 'Realised performance of every live model and period next to its deploy metrics, with the checks; read it through realised_performance and performance_by_day';

-- sql/functions/monitoring.sql
CREATE OR REPLACE FUNCTION pgscore.record_outcome(p_model text, p_entity_key text, p_outcome text,
                                       p_observed_at timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER  -- the app records outcomes only through here
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_task    text;
    v_classes jsonb;
    v_value   jsonb;
    v_num     float8;
    v_text    text := btrim(p_outcome);
    v_id      bigint;
BEGIN
    IF p_model IS NULL OR p_entity_key IS NULL OR p_outcome IS NULL OR p_observed_at IS NULL THEN
        RAISE EXCEPTION 'pgscore.record_outcome: % must not be NULL',
            CASE WHEN p_model IS NULL THEN 'the model' WHEN p_entity_key IS NULL THEN 'the entity key'
                 WHEN p_outcome IS NULL THEN 'the outcome' ELSE 'observed_at' END
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- the live version decides what an outcome must look like; a retired model, its newest version
    SELECT m.task, m.classes INTO v_task, v_classes
      FROM pgscore.models m
      LEFT JOIN pgscore.live_models l ON l.model_id = m.model_id
     WHERE m.name = p_model
     ORDER BY l.model_id IS NOT NULL DESC, m.version DESC
     LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'pgscore.record_outcome: model "%" does not exist', p_model
            USING ERRCODE = 'undefined_object', HINT = 'SELECT name FROM pgscore.model_versions lists the models';
    END IF;
    IF v_task = 'regression' THEN
        BEGIN
            v_num := v_text::float8;
        EXCEPTION WHEN invalid_text_representation OR numeric_value_out_of_range THEN
            RAISE EXCEPTION 'pgscore.record_outcome: outcome "%" for regression model "%" is not a number', p_outcome, p_model
                USING ERRCODE = 'invalid_text_representation';
        END;
        IF v_num IN ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8) THEN
            RAISE EXCEPTION 'pgscore.record_outcome: outcome % for regression model "%" is not a finite number', v_num, p_model
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        v_value := to_jsonb(v_num);
    ELSE
        -- one of the classes, by its text or (for numeric classes) its value; true/false for 1/0 of a
        -- binary classifier (of classes 0..3, true read as 1 replaced a recorded 2 in the metrics)
        IF lower(v_text) IN ('true', 'false') AND v_task <> 'binary'
           AND NOT EXISTS (SELECT FROM jsonb_array_elements(v_classes) c WHERE c #>> '{}' = v_text) THEN
            RAISE EXCEPTION 'pgscore.record_outcome: outcome % for % model "%" is not one of its classes', v_text, v_task, p_model
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('classes: %s', (SELECT string_agg(c #>> '{}', ', ') FROM jsonb_array_elements(v_classes) c)),
                      HINT = 'true and false stand for the classes 1 and 0 of a binary classifier only: give the class';
        END IF;
        SELECT c INTO v_value
          FROM jsonb_array_elements(v_classes) c
         WHERE c #>> '{}' = v_text
            OR (jsonb_typeof(c) = 'number' AND v_text ~ '^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$'
                AND (c #>> '{}')::numeric = v_text::numeric)
            OR (jsonb_typeof(c) = 'number' AND lower(v_text) IN ('true', 'false')
                AND (c #>> '{}')::numeric = CASE lower(v_text) WHEN 'true' THEN 1 ELSE 0 END)
         LIMIT 1;
        IF v_value IS NULL THEN
            RAISE EXCEPTION 'pgscore.record_outcome: outcome "%" is not a class of % model "%"', p_outcome, v_task, p_model
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('classes: %s', (SELECT string_agg(c #>> '{}', ', ') FROM jsonb_array_elements(v_classes) c));
        END IF;
    END IF;
    INSERT INTO pgscore.outcomes (model_name, entity_key, outcome, observed_at)
    VALUES (p_model, p_entity_key, v_value, p_observed_at)
    RETURNING outcome_id INTO v_id;
    IF NOT EXISTS (SELECT 1 FROM pgscore.prediction_log l JOIN pgscore.models m ON m.model_id = l.model_id
                    WHERE l.entity_key = p_entity_key AND l.logged_at <= p_observed_at AND m.name = p_model) THEN
        RAISE NOTICE 'pgscore.record_outcome: no prediction of "%" for entity "%" was logged at or before %', p_model, p_entity_key, p_observed_at
            USING DETAIL = 'The outcome is kept; it judges no prediction and pgscore.outcome_matches shows it unmatched.';
    END IF;
    RETURN v_id;
END
$fn$;
COMMENT ON FUNCTION pgscore.record_outcome(text, text, text, timestamptz) IS 'Record what actually happened to an entity (one of a classifier''s classes, or a regressor''s number), observed at p_observed_at; it judges the newest prediction of the model for that entity logged by then. Returns the outcome_id';

-- sql/privileges/column_comments.sql
COMMENT ON COLUMN pgscore.realised_performance.precision IS 'Of the predictions at or above the decision threshold, the share whose outcome is positive (binary classifiers; NULL for others)';
COMMENT ON COLUMN pgscore.performance_by_day.precision IS 'Of the predictions at or above the decision threshold, the share whose outcome is positive (binary classifiers; NULL for others)';
COMMENT ON COLUMN pgscore.realised_performance.recall IS 'Of the positive outcomes, the share predicted at or above the decision threshold (binary classifiers; NULL for others)';
COMMENT ON COLUMN pgscore.performance_by_day.recall IS 'Of the positive outcomes, the share predicted at or above the decision threshold (binary classifiers; NULL for others)';

-- sql/functions/flush_query_log.sql: the commit-time flush of the query path's audit rows runs as its
-- owner: a role changed before COMMIT (SET ROLE after scoring, a SECURITY DEFINER function of the app's
-- that a reader calls) could not write the log, and the commit failed, rolling back the transaction
ALTER FUNCTION pgscore.flush_query_log() SECURITY DEFINER;
