-- 0176 to 0177: record_outcome notes an outcome that judges no prediction once a transaction for each model (the
-- setting pgscore.outcome_unjudged_noted held the transaction's id alone: the outcomes of a second model recorded
-- in the same transaction were not noted); its NOTICEs' detail says so

CREATE OR REPLACE FUNCTION pgscore.record_outcome(p_model text, p_entity_key text, p_outcome text,
                                       p_observed_at timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER  -- the app records outcomes only through here
SET search_path = pg_catalog, pg_temp
-- (migration 0113) a regressor's number is stored as to_jsonb gives it, which writes float8 as the session's
-- extra_float_digits says: at 0, float8's largest was stored as 1.79769313486232e+308, past float8's range, and
-- every model's realised-performance views failed reading it (22003); 0.1 + 0.2 as 0.3. At 3, the float8 itself
SET extra_float_digits = 3
AS $fn$
DECLARE
    v_task    text;
    v_classes jsonb;
    v_value   jsonb;
    v_num     float8;
    -- the outcome without the spaces around it (since 0005: an outcome read from a text export or typed into a
    -- form carries them, and a number is read so by float8's input anyway); a class is stored as the model has it
    v_text    text := btrim(p_outcome);
    v_near    text;
    v_id      bigint;
    v_models  bigint[];
    v_times   timestamptz[];
    v_scores  float8[];
    v_labels  text[];
    v_judged  record;
BEGIN
    IF p_model IS NULL OR p_entity_key IS NULL OR p_outcome IS NULL OR p_observed_at IS NULL THEN
        RAISE EXCEPTION 'pgscore.record_outcome: % must not be NULL',
            CASE WHEN p_model IS NULL THEN 'the model' WHEN p_entity_key IS NULL THEN 'the entity key'
                 WHEN p_outcome IS NULL THEN 'the outcome' ELSE 'observed_at' END
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- (0154) a standby, or a read-only transaction, refuses its writes: said so, with where to run it (it was
    -- PostgreSQL's bare 25006, no hint, quoting this function's statement: trial hT17 of session 64)
    IF current_setting('transaction_read_only') = 'on' THEN
        PERFORM pgscore.refuse_read_only('pgscore.record_outcome writes pgscore.outcomes');
    END IF;
    -- an outcome judges the newest prediction logged by observed_at: at infinity (a sentinel date) it would
    -- judge each newer prediction in turn, for ever (migration 0035)
    IF NOT isfinite(p_observed_at) THEN
        RAISE EXCEPTION 'pgscore.record_outcome: observed_at % is not a point in time', p_observed_at
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'give when the outcome was observed (now() when it is not known); an outcome observed at infinity would judge every newer prediction of the entity in turn';
    END IF;
    -- (0159) more than 15 minutes ahead, not a day: a `timestamp` in UTC (an event's created_at) given from a
    -- session west of UTC is read as its wall clock, hours ahead, and judged the predictions logged until then,
    -- silently (trial T21); the hint names the session's zone
    -- (0167) once a transaction, not once a row: 20,000 outcomes an hour ahead recorded by one statement gave
    -- 20,000 NOTICEs (23.5 s against 19.1 s); the transaction's id kept in a setting of the session (a SET LOCAL
    -- would end with this function's SET clauses; one rolled back is noted again). The hint says "if": PostgreSQL
    -- casts a `timestamp` argument to timestamptz before the call, so which the caller passed cannot be told here
    IF p_observed_at > now() + interval '15 minutes' THEN
        IF current_setting('pgscore.outcome_ahead_noted', true) IS DISTINCT FROM pg_current_xact_id()::text THEN
            PERFORM set_config('pgscore.outcome_ahead_noted', pg_current_xact_id()::text, false);
            RAISE NOTICE 'pgscore.record_outcome: observed_at % is in the future', p_observed_at
                USING DETAIL = format('It is %s minute(s) ahead of now(). The outcome judges the newest prediction of the entity logged by then: until then each refresh_monitoring pairs it with any newer one, of whichever version is live. This is noted once a transaction: the outcomes this transaction records later, ahead or not, are recorded without it.',
                                      floor(extract(epoch FROM p_observed_at - now()) / 60)),
                      HINT = format('if observed_at was a timestamp without time zone, PostgreSQL read it in this session''s TimeZone (%s) before the call (which type the caller passed cannot be told here): give one in UTC as created_at AT TIME ZONE ''UTC'' (the zone its values are in); if it was a timestamptz, the clock or the source that wrote it is ahead', current_setting('TimeZone'));
        END IF;
    END IF;
    -- the live version decides what an outcome must look like; a retired model, its newest version
    SELECT m.task, m.classes INTO v_task, v_classes
      FROM pgscore.models m
      LEFT JOIN pgscore.live_models l ON l.model_id = m.model_id
     WHERE m.name = p_model
     ORDER BY l.model_id IS NOT NULL DESC, m.version DESC
     LIMIT 1;
    IF NOT FOUND THEN
        -- (migration 0120: in scoring's words, with its hint; it said "model 'teir' does not exist")
        RAISE EXCEPTION 'pgscore.record_outcome: there is no model %', quote_literal(p_model)
            USING ERRCODE = 'undefined_object', HINT = pgscore.model_name_hint(p_model);
    END IF;
    IF v_task = 'regression' THEN
        BEGIN
            v_num := v_text::float8;
        EXCEPTION WHEN invalid_text_representation OR numeric_value_out_of_range THEN
            RAISE EXCEPTION 'pgscore.record_outcome: outcome % for regression model % is not a number', quote_literal(p_outcome),
                  quote_literal(p_model)
                USING ERRCODE = 'invalid_text_representation';
        END;
        IF v_num IN ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8) THEN
            RAISE EXCEPTION 'pgscore.record_outcome: outcome % for regression model % is not a finite number', v_num, quote_literal(p_model)
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        v_value := to_jsonb(v_num);
    ELSE
        -- one of the classes, by its text or (for numeric classes) its value; true/false for 1/0 of a
        -- binary classifier only (of classes 0..3, true read as 1 replaced a recorded 2 in the metrics). Its text
        -- without the spaces around it, as since 0005, then as given where no class is that (migration
        -- outcome_words: a class with spaces of its own, ' gold' from a CSV read without skipinitialspace, could not
        -- be recorded; tried first, it took ' gold' where ' gold' had recorded the class gold of a model of both)
        SELECT c INTO v_value
          FROM jsonb_array_elements(v_classes) WITH ORDINALITY e(c, i)
         WHERE c #>> '{}' IN (p_outcome, v_text)
            -- ([.], not a backslash: a session with standard_conforming_strings off reads '\.' as '.')
            OR (jsonb_typeof(c) = 'number' AND v_text ~ '^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$'
                AND (c #>> '{}')::numeric = v_text::numeric)
            OR (v_task = 'binary' AND jsonb_typeof(c) = 'number' AND lower(v_text) IN ('true', 'false')
                AND (c #>> '{}')::numeric = CASE lower(v_text) WHEN 'true' THEN 1 ELSE 0 END)
         ORDER BY c #>> '{}' = p_outcome AND p_outcome <> v_text, i
         LIMIT 1;
        IF v_value IS NULL THEN
            -- one wording for every outcome that is no class (migration outcome_words: true for a multiclass model
            -- said "is not one of its classes"); the hint names the class it differs from only in case or the spaces
            -- around it ('Gold' for 'gold'), as a misspelt feature key's names the feature, or says what true and
            -- false stand for; of two such, the one it differs from in case only ('Gold': gold, not ' gold')
            SELECT c #>> '{}' INTO v_near
              FROM jsonb_array_elements(v_classes) WITH ORDINALITY e(c, i)
             WHERE lower(btrim(c #>> '{}')) = lower(v_text)
             ORDER BY lower(c #>> '{}') = lower(p_outcome) DESC, lower(c #>> '{}') = lower(v_text) DESC, i
             LIMIT 1;
            -- (the DETAIL quotes a class with spaces around it, as the hint does: ' gold' and gold read as one)
            IF v_near IS NULL AND NOT (lower(v_text) IN ('true', 'false') AND v_task <> 'binary') THEN
                RAISE EXCEPTION 'pgscore.record_outcome: outcome % is not a class of % model %', quote_literal(p_outcome),
                      v_task, quote_literal(p_model)
                    USING ERRCODE = 'invalid_parameter_value',
                          DETAIL = format('classes: %s', (SELECT string_agg(CASE WHEN c #>> '{}' <> btrim(c #>> '{}') THEN quote_literal(c #>> '{}') ELSE c #>> '{}' END, ', ')
                                                            FROM jsonb_array_elements(v_classes) c));
            END IF;
            RAISE EXCEPTION 'pgscore.record_outcome: outcome % is not a class of % model %', quote_literal(p_outcome), v_task,
                  quote_literal(p_model)
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('classes: %s', (SELECT string_agg(CASE WHEN c #>> '{}' <> btrim(c #>> '{}') THEN quote_literal(c #>> '{}') ELSE c #>> '{}' END, ', ')
                                                            FROM jsonb_array_elements(v_classes) c)),
                      HINT = CASE WHEN v_near IS NOT NULL THEN format('a typo for %s?', quote_literal(v_near))
                                  ELSE 'true and false stand for the classes 1 and 0 of a binary classifier only: give the class' END;
        END IF;
    END IF;
    -- the prediction it judges, kept with it (pgscore.match_outcomes finds it for a prediction logged later).
    -- Both reads take the entity's predictions by the entity's index alone and pick the model's among them
    -- (migration 0116): joined by model_id, a partition never analysed (the nightly scoring's, before
    -- autovacuum analyses it) was read by the (model_id, logged_at) index, every row of the model filtered by
    -- entity, where the planner could not tell the two indexes apart: ~60 ms a call at 100,000 rows, ~0.3 ms
    -- analysed (docs/performance.md). Here the join's `l.model_id + 0` is no condition of that index, so the
    -- entity's index is walked from p_observed_at back and the walk stops at the model's first row: an
    -- entity many models score is not read whole (a subquery with OFFSET 0 read and sorted all its rows).
    -- The rows of one transaction share logged_at: the last of them is its last statement's (statement_at),
    -- then the one written last in it (the command, cmin; then the physical order, for rows one COPY restored)
    -- (migration 0144: the newest by logged_at alone was any of them)
    -- (statement_at read by jsonpath, silently: a cause's statement_at that is no time, which a role that may
    -- INSERT log rows can write, sorts as none; a cast raised on it, and stopped every refresh: review r8)
    SELECT l.model_id, l.logged_at, l.score, l.label INTO v_judged
      FROM pgscore.prediction_log l JOIN pgscore.models m ON m.model_id = l.model_id + 0
     WHERE l.entity_key = p_entity_key AND l.logged_at <= p_observed_at AND m.name = p_model
       AND l.source <> 'shadow'  -- (a shadow's prediction was never served)
     ORDER BY l.logged_at DESC, (jsonb_path_query_first(l.cause, '$.statement_at.datetime()', '{}', true) #>> '{}')::timestamptz DESC NULLS LAST, l.cmin::text::bigint DESC, l.ctid DESC
     LIMIT 1;
    -- the prediction each version of the model made of the entity last by then, served or in shadow, kept in
    -- outcome_version_matches (pgscore.match_outcomes finds them for a prediction logged later); of one
    -- transaction's, its last statement's, as above (a live and a shadow version each judged on the same one)
    SELECT array_agg(p.model_id), array_agg(p.logged_at), array_agg(p.score), array_agg(p.label)
      INTO v_models, v_times, v_scores, v_labels
      FROM (SELECT DISTINCT ON (l.model_id) l.model_id, l.logged_at, l.score, l.label
              FROM (SELECT l.model_id, l.logged_at, l.score, l.label, l.cause, l.cmin, l.ctid
                      FROM pgscore.prediction_log l
                     WHERE l.entity_key = p_entity_key AND l.logged_at <= p_observed_at
                    OFFSET 0) l
              JOIN pgscore.models m ON m.model_id = l.model_id
             WHERE m.name = p_model
             ORDER BY l.model_id, l.logged_at DESC, (jsonb_path_query_first(l.cause, '$.statement_at.datetime()', '{}', true) #>> '{}')::timestamptz DESC NULLS LAST, l.cmin::text::bigint DESC, l.ctid DESC) p;
    -- recorded_by: the caller's role (this function runs as pgscore's owner, whom current_user names;
    -- before migration 0037 every outcome was recorded by it)
    INSERT INTO pgscore.outcomes (model_name, entity_key, outcome, observed_at, judged_model_id, predicted_at,
                                  judged_score, judged_label, judged_at, recorded_by, versions_judged_at)
    VALUES (p_model, p_entity_key, v_value, p_observed_at, v_judged.model_id, v_judged.logged_at, v_judged.score,
            v_judged.label, now(),
            -- the role the caller acts as: SET ROLE's (a pooled login that takes each user's role), else its login
            coalesce(nullif(current_setting('role'), 'none'), session_user), now())
    RETURNING outcome_id INTO v_id;
    INSERT INTO pgscore.outcome_version_matches (outcome_id, model_id, predicted_at, score, label)
    SELECT v_id, u.model_id, u.logged_at, u.score, u.label
      FROM unnest(v_models, v_times, v_scores, v_labels) AS u(model_id, logged_at, score, label);
    -- (0173) each of the two NOTICEs below once a transaction, as 0167's of an outcome ahead (the transaction's id
    -- in the session's setting pgscore.outcome_unjudged_noted): 20,000 outcomes of keys never scored recorded by one
    -- statement gave 20,000 NOTICEs
    -- (0177) once a transaction for each model: the setting holds the transaction's id, then the md5 of each model
    -- noted in it, space-separated (one id alone left a second model's outcomes of the transaction unnoted)
    IF v_judged.model_id IS NOT NULL
       OR (split_part(coalesce(current_setting('pgscore.outcome_unjudged_noted', true), ''), ' ', 1)
               = pg_current_xact_id()::text
           AND md5(p_model) = ANY (string_to_array(current_setting('pgscore.outcome_unjudged_noted', true), ' '))) THEN
        RETURN v_id;
    END IF;
    PERFORM set_config('pgscore.outcome_unjudged_noted',
                       CASE WHEN split_part(coalesce(current_setting('pgscore.outcome_unjudged_noted', true), ''), ' ', 1)
                                 = pg_current_xact_id()::text
                            THEN current_setting('pgscore.outcome_unjudged_noted', true)
                            ELSE pg_current_xact_id()::text END || ' ' || md5(p_model), false);
    IF v_models IS NOT NULL THEN
        -- only versions scored in shadow logged one by then: the outcome judges theirs, per version (it said that
        -- no prediction was logged)
        RAISE NOTICE 'pgscore.record_outcome: no served prediction of % for entity % was logged at or before %: only version% % scored it, in shadow',
                quote_literal(p_model), quote_literal(p_entity_key), p_observed_at, CASE WHEN cardinality(v_models) > 1 THEN 's' ELSE '' END,
                (SELECT string_agg(m.version::text, ', ' ORDER BY m.version) FROM pgscore.models m
                  WHERE m.model_id = ANY (v_models))
            USING DETAIL = 'The outcome is kept and judges the shadow''s prediction per version (pgscore.outcome_version_matches, read by pgscore.realised_performance_by_version); it judges no served prediction, so pgscore.outcome_matches shows it unmatched and realised_performance leaves it out, until pgscore.refresh_monitoring finds a served one logged later (within its p_relook; a prediction scored in this transaction is logged at its commit). This is noted once a transaction for each model: the outcomes of this model this transaction records later that judge no served prediction are recorded without it (pgscore.outcome_matches lists them).';
    ELSE
        RAISE NOTICE 'pgscore.record_outcome: no prediction of % for entity % was logged at or before %', quote_literal(p_model),
                quote_literal(p_entity_key), p_observed_at
            USING DETAIL = 'The outcome is kept; it judges no prediction and pgscore.outcome_matches shows it unmatched, until pgscore.refresh_monitoring finds one logged later (within its p_relook; a prediction scored in this transaction is logged at its commit). This is noted once a transaction for each model: the outcomes of this model this transaction records later that judge no prediction are recorded without it (pgscore.outcome_matches lists them).';
    END IF;
    RETURN v_id;
END
$fn$;
COMMENT ON FUNCTION pgscore.record_outcome(text, text, text, timestamptz) IS 'Record what actually happened to an entity (one of a classifier''s classes, or a regressor''s number), observed at p_observed_at; it judges the newest prediction of the model for that entity logged by then (never a shadow''s), and each version''s newest, served or in shadow (outcome_version_matches). Returns the outcome_id';
