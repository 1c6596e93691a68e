-- 0036 to 0037: record_outcome records the caller's role in recorded_by (SET ROLE's, else the login's) (it runs as pgscore's owner,
-- whom the column's default, current_user, named for every outcome). Outcomes recorded before keep the owner.
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
