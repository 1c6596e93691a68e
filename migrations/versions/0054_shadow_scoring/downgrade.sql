-- 0054 to 0053: shadow scoring goes. The shadows' audit rows go with it: never served, and the CHECK of 0051
-- has no source for them (the log's trigger refuses UPDATEs, not DELETEs).
DROP FUNCTION pgscore.set_shadow(text, integer, text);
DROP FUNCTION pgscore.clear_shadow(text, integer, text);
DROP VIEW pgscore.model_versions;
CREATE VIEW pgscore.model_versions AS
SELECT m.model_id, m.name, m.version, m.task, m.estimator, m.feature_names, m.feature_types,
       m.classes, m.env, m.metrics, m.n_train, m.description, m.created_at, m.created_by,
       a.sha256, a.hmac_sha256 IS NOT NULL AS signed,
       coalesce(l.model_id = m.model_id AND l.action <> 'retire', false) AS live,
       CASE WHEN e.bytes IS NOT NULL THEN 'numpy' ELSE 'scikit-learn' END AS engine,
       CASE WHEN e.bytes IS NOT NULL
            THEN format('compiled, equal to scikit-learn on %s rows (max difference %s)', e.checked_rows, e.max_abs_diff)
            ELSE coalesce(e.reason, 'deployed before evaluators existed') END AS engine_note
  FROM pgscore.models m
  JOIN pgscore.artifacts a ON a.model_id = m.model_id
  LEFT JOIN pgscore.evaluators e ON e.model_id = m.model_id
  LEFT JOIN LATERAL (
        SELECT d.model_id, d.action FROM pgscore.deployments d
         WHERE d.model_name = m.name ORDER BY d.deployment_id DESC LIMIT 1) l ON true;
COMMENT ON VIEW pgscore.model_versions IS 'Every model version, its metadata, sha256, whether it is signed and whether it is live';
COMMENT ON COLUMN pgscore.model_versions.live IS 'true for the version the newest deployment row of its name points at (unless that row retires the model)';
COMMENT ON COLUMN pgscore.model_versions.engine IS 'numpy: scored by the evaluator compiled at deploy; scikit-learn: scored by the unpickled estimator';
COMMENT ON COLUMN pgscore.model_versions.engine_note IS 'How the evaluator was checked against scikit-learn, or why the model could not be compiled';
-- (its columns' comments, the dictionary's among them, went with it)
COMMENT ON COLUMN pgscore.model_versions.model_id IS 'The model version''s row in pgscore.models';
COMMENT ON COLUMN pgscore.model_versions.name IS 'Model name';
COMMENT ON COLUMN pgscore.model_versions.version IS 'Model version';
COMMENT ON COLUMN pgscore.model_versions.task IS 'binary, multiclass or regression';
COMMENT ON COLUMN pgscore.model_versions.estimator IS 'The estimator''s class';
COMMENT ON COLUMN pgscore.model_versions.feature_names IS 'The model''s features, in order';
COMMENT ON COLUMN pgscore.model_versions.feature_types IS 'Each feature''s type';
COMMENT ON COLUMN pgscore.model_versions.classes IS 'The classifier''s classes, in the order of predict_proba''s columns (NULL for a regressor)';
COMMENT ON COLUMN pgscore.model_versions.env IS 'The Python, scikit-learn, numpy and joblib versions that trained the model';
COMMENT ON COLUMN pgscore.model_versions.metrics IS 'Hold-out metrics captured at deploy';
COMMENT ON COLUMN pgscore.model_versions.n_train IS 'Rows the model was trained on';
COMMENT ON COLUMN pgscore.model_versions.description IS 'Free-text description given at deploy';
COMMENT ON COLUMN pgscore.model_versions.created_at IS 'When the version was registered';
COMMENT ON COLUMN pgscore.model_versions.created_by IS 'Who registered the version';
COMMENT ON COLUMN pgscore.model_versions.sha256 IS 'SHA-256 of the artifact bytes';
COMMENT ON COLUMN pgscore.model_versions.signed IS 'true when the artifact carries an HMAC signature';
COMMENT ON COLUMN pgscore.model_versions.live IS 'true for the version the newest deployment row of its name points at (unless that row retires the model)';
COMMENT ON COLUMN pgscore.model_versions.engine IS 'numpy: scored by the evaluator compiled at deploy; scikit-learn: scored by the unpickled estimator';
COMMENT ON COLUMN pgscore.model_versions.engine_note IS 'How the evaluator was checked against scikit-learn, or why the model could not be compiled';
GRANT SELECT ON pgscore.model_versions TO pgscore_reader, pgscore_app, pgscore_admin;
DROP VIEW pgscore.shadow_versions;
DROP TABLE pgscore.shadows;

ALTER TABLE pgscore.prediction_log DROP CONSTRAINT prediction_log_source_check;
DELETE FROM pgscore.prediction_log WHERE source = 'shadow';
ALTER TABLE pgscore.prediction_log ADD CONSTRAINT prediction_log_source_check
    CHECK (source IN ('query', 'batch', 'trigger', 'retry', 'refresh')) NOT VALID;
ALTER TABLE pgscore.prediction_log VALIDATE CONSTRAINT prediction_log_source_check;
COMMENT ON TABLE pgscore.prediction_log IS 'Every prediction: model, entity, features, score, source (query/batch/trigger/retry/refresh) and cause';
COMMENT ON COLUMN pgscore.predictions.source IS 'query, batch, trigger or retry';

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
    v_judged  record;
BEGIN
    IF p_model IS NULL OR p_entity_key IS NULL OR p_outcome IS NULL OR p_observed_at IS NULL THEN
        RAISE EXCEPTION 'pgscore.record_outcome: % must not be NULL',
            CASE WHEN p_model IS NULL THEN 'the model' WHEN p_entity_key IS NULL THEN 'the entity key'
                 WHEN p_outcome IS NULL THEN 'the outcome' ELSE 'observed_at' END
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- an outcome judges the newest prediction logged by observed_at: at infinity (a sentinel date) it would
    -- judge each newer prediction in turn, for ever (migration 0035)
    IF NOT isfinite(p_observed_at) THEN
        RAISE EXCEPTION 'pgscore.record_outcome: observed_at % is not a point in time', p_observed_at
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'give when the outcome was observed (now() when it is not known); an outcome observed at infinity would judge every newer prediction of the entity in turn';
    END IF;
    IF p_observed_at > now() + interval '1 day' THEN
        RAISE NOTICE 'pgscore.record_outcome: observed_at % is in the future', p_observed_at
            USING DETAIL = 'The outcome judges the newest prediction of the entity logged by then: until then each refresh_monitoring pairs it with any newer one, of whichever version is live.';
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
            -- ([.], not a backslash: a session with standard_conforming_strings off reads '\.' as '.')
            OR (jsonb_typeof(c) = 'number' AND v_text ~ '^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$'
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
    -- the prediction it judges, kept with it (pgscore.match_outcomes finds it for a prediction logged later)
    SELECT l.model_id, l.logged_at, l.score, l.label INTO v_judged
      FROM pgscore.prediction_log l JOIN pgscore.models m ON m.model_id = l.model_id
     WHERE l.entity_key = p_entity_key AND l.logged_at <= p_observed_at AND m.name = p_model
     ORDER BY l.logged_at DESC
     LIMIT 1;
    -- recorded_by: the caller's role (this function runs as pgscore's owner, whom current_user names;
    -- before migration 0037 every outcome was recorded by it)
    INSERT INTO pgscore.outcomes (model_name, entity_key, outcome, observed_at, judged_model_id, predicted_at,
                                  judged_score, judged_label, judged_at, recorded_by)
    VALUES (p_model, p_entity_key, v_value, p_observed_at, v_judged.model_id, v_judged.logged_at, v_judged.score,
            v_judged.label, now(),
            -- the role the caller acts as: SET ROLE's (a pooled login that takes each user's role), else its login
            coalesce(nullif(current_setting('role'), 'none'), session_user))
    RETURNING outcome_id INTO v_id;
    IF v_judged.model_id IS NULL THEN
        RAISE NOTICE 'pgscore.record_outcome: no prediction of "%" for entity "%" was logged at or before %', p_model, p_entity_key, p_observed_at
            USING DETAIL = 'The outcome is kept; it judges no prediction and pgscore.outcome_matches shows it unmatched, until pgscore.refresh_monitoring finds one logged later (within its p_relook; a prediction scored in this transaction is logged at its commit).';
    END IF;
    RETURN v_id;
END
$fn$;

CREATE OR REPLACE FUNCTION pgscore.match_outcomes(p_since timestamptz)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER  -- outcomes are written only by pgscore's functions
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_rows bigint;
    v_chunk bigint;
BEGIN
    IF p_since IS NULL THEN
        RAISE EXCEPTION 'pgscore.match_outcomes: p_since must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- never looked at (and every outcome on a rebuild): each in the whole log, newest first
    UPDATE pgscore.outcomes o
       SET judged_model_id = p.model_id, predicted_at = p.logged_at, judged_score = p.score,
           judged_label = p.label, judged_at = now()
      FROM pgscore.outcomes o2
      LEFT JOIN LATERAL (
            SELECT l.model_id, l.logged_at, l.score, l.label
              FROM pgscore.prediction_log l
              JOIN pgscore.models pm ON pm.model_id = l.model_id
             WHERE l.entity_key = o2.entity_key AND l.logged_at <= o2.observed_at AND pm.name = o2.model_name
             ORDER BY l.logged_at DESC
             LIMIT 1) p ON true
     WHERE o.outcome_id = o2.outcome_id AND (o2.judged_at IS NULL OR p_since = '-infinity')
       AND (o.judged_at IS NULL OR p.logged_at > coalesce(o.predicted_at, '-infinity'::timestamptz));
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    IF p_since = '-infinity' THEN
        RETURN v_rows;
    END IF;
    -- observed since p_since: the predictions logged since then, joined as a set (not a probe of the log's
    -- partitions per outcome), the newest for each outcome where it is newer than the one it holds
    UPDATE pgscore.outcomes o
       SET judged_model_id = p.model_id, predicted_at = p.logged_at, judged_score = p.score,
           judged_label = p.label, judged_at = now()
      FROM (SELECT DISTINCT ON (c.outcome_id) c.outcome_id, l.model_id, l.logged_at, l.score, l.label
              FROM pgscore.outcomes c
              JOIN pgscore.models pm ON pm.name = c.model_name
              JOIN pgscore.prediction_log l ON l.model_id = pm.model_id AND l.entity_key = c.entity_key
                                           AND l.logged_at <= c.observed_at AND l.logged_at >= p_since
             WHERE c.observed_at >= p_since AND c.judged_at IS NOT NULL
             ORDER BY c.outcome_id, l.logged_at DESC) p
     WHERE o.outcome_id = p.outcome_id AND p.logged_at > coalesce(o.predicted_at, '-infinity'::timestamptz);
    GET DIAGNOSTICS v_chunk = ROW_COUNT;
    RETURN v_rows + v_chunk;
END
$fn$;
CREATE OR REPLACE VIEW pgscore.outcome_matches AS
SELECT o.outcome_id, o.model_name AS model, o.entity_key, o.outcome, o.observed_at, o.judged_model_id AS model_id,
       pm.version, o.predicted_at, o.judged_score AS score, o.judged_label AS label,
       o.judged_model_id IS NOT NULL AS matched
  FROM pgscore.outcomes o
  LEFT JOIN pgscore.models pm ON pm.model_id = o.judged_model_id
 WHERE o.judged_at IS NOT NULL
UNION ALL
SELECT o.outcome_id, o.model_name, o.entity_key, o.outcome, o.observed_at, p.model_id, p.version, p.logged_at,
       p.score, p.label, p.model_id IS NOT NULL
  FROM pgscore.outcomes o
  LEFT JOIN LATERAL (
        SELECT l.model_id, lm.version, l.logged_at, l.score, l.label
          FROM pgscore.prediction_log l
          JOIN pgscore.models lm ON lm.model_id = l.model_id
         WHERE l.entity_key = o.entity_key AND l.logged_at <= o.observed_at AND lm.name = o.model_name
         ORDER BY l.logged_at DESC
         LIMIT 1) p ON true
 WHERE o.judged_at IS NULL;
