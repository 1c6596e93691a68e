/*
 * Monitoring functions: recording ground truth, and the refresh that rolls
 * the prediction log up by 5 minutes and notes when each alert first fired.
 */

/*
 * The hint of a SQL function's "there is no model 'teir'" (record_outcome's, version_drift's; since 0124
 * activate's, rollback's, retire's, set_shadow's and clear_shadow's), as scoring gives it: the name of a model it
 * looks like a typo for, if one does ('tier' for 'teir', 'Tier' or 'tiers'), then where the models are listed
 * (migration 0120; they said "model 'teir' does not exist", and no near name; the deploy functions, 0124, only
 * where the models are listed). Internal: executable by its owner, and by pgscore_admin, as whom activate,
 * rollback and retire run (the others run as its owner); the app and the reader may not call it.
 */
CREATE FUNCTION pgscore.model_name_hint(p_name text) RETURNS text
LANGUAGE plpython3u
STABLE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $pl$
@@plpython/model_name_hint.py@@
$pl$;
COMMENT ON FUNCTION pgscore.model_name_hint(text) IS 'Internal: the hint of an unknown model''s error, the model it looks like a typo for, as scoring gives it';
CREATE FUNCTION pgscore.record_outcome(p_model text, p_entity_key text, p_outcome text,
                                       p_observed_at timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER  -- the app records outcomes only through here
SET search_path = pg_catalog, pg_temp
-- (migration 0113) a regressor's number is stored as to_jsonb gives it, which writes float8 as the session's
-- extra_float_digits says: at 0, float8's largest was stored as 1.79769313486232e+308, past float8's range, and
-- every model's realised-performance views failed reading it (22003); 0.1 + 0.2 as 0.3. At 3, the float8 itself
SET extra_float_digits = 3
SET jit = off  -- (0183) a call per outcome: under jit_above_cost = 0 each of its statements compiled, 73 ms an outcome
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

CREATE FUNCTION pgscore.record_outcome(p_model text, p_entity_key text, p_outcome float8,
                                       p_observed_at timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET extra_float_digits = 3  -- (0113) the float8's own digits: at the caller's 0, 15, its largest past float8
SET jit = off  -- (0183) as the one it calls
BEGIN ATOMIC
    SELECT pgscore.record_outcome(p_model, p_entity_key, p_outcome::text, p_observed_at);
END;
COMMENT ON FUNCTION pgscore.record_outcome(text, text, float8, timestamptz) IS 'record_outcome with a numeric outcome (a class such as 1, or a regressor''s value)';

CREATE FUNCTION pgscore.record_outcome(p_model text, p_entity_key text, p_outcome boolean,
                                       p_observed_at timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off  -- (0183) as the one it calls
BEGIN ATOMIC
    SELECT pgscore.record_outcome(p_model, p_entity_key, p_outcome::text, p_observed_at);
END;
COMMENT ON FUNCTION pgscore.record_outcome(text, text, boolean, timestamptz) IS 'record_outcome with a boolean outcome (true matches a class true or 1, false a class false or 0)';

/*
 * record_outcome with an entity key of type uuid or bigint (an integer or smallint one too, by PostgreSQL's
 * implicit cast to bigint), for each form of the outcome (migration 0081): the key as its text, which is what
 * p_key => id::text logged (one form only: uuid and integers print the same under every setting). Before, such a
 * key needed an explicit ::text, and without it the call failed, 42883 "function pgscore.record_outcome(unknown,
 * uuid, integer) does not exist". SQL functions that call the text one, which checks and records as its owner.
 */
CREATE FUNCTION pgscore.record_outcome(p_model text, p_entity_key uuid, p_outcome text,
                                       p_observed_at timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off  -- (0183) as the one it calls
BEGIN ATOMIC
    SELECT pgscore.record_outcome(p_model, p_entity_key::text, p_outcome, p_observed_at);
END;
COMMENT ON FUNCTION pgscore.record_outcome(text, uuid, text, timestamptz) IS 'record_outcome for an entity key of type uuid, as its text; its class or number as text';

CREATE FUNCTION pgscore.record_outcome(p_model text, p_entity_key uuid, p_outcome float8,
                                       p_observed_at timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET extra_float_digits = 3  -- (0113) the float8's own digits: at the caller's 0, 15, its largest past float8
SET jit = off  -- (0183) as the one it calls
BEGIN ATOMIC
    SELECT pgscore.record_outcome(p_model, p_entity_key::text, p_outcome::text, p_observed_at);
END;
COMMENT ON FUNCTION pgscore.record_outcome(text, uuid, float8, timestamptz) IS 'record_outcome for an entity key of type uuid, as its text; a numeric outcome';

CREATE FUNCTION pgscore.record_outcome(p_model text, p_entity_key uuid, p_outcome boolean,
                                       p_observed_at timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off  -- (0183) as the one it calls
BEGIN ATOMIC
    SELECT pgscore.record_outcome(p_model, p_entity_key::text, p_outcome::text, p_observed_at);
END;
COMMENT ON FUNCTION pgscore.record_outcome(text, uuid, boolean, timestamptz) IS 'record_outcome for an entity key of type uuid, as its text; a boolean outcome';

CREATE FUNCTION pgscore.record_outcome(p_model text, p_entity_key bigint, p_outcome text,
                                       p_observed_at timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off  -- (0183) as the one it calls
BEGIN ATOMIC
    SELECT pgscore.record_outcome(p_model, p_entity_key::text, p_outcome, p_observed_at);
END;
COMMENT ON FUNCTION pgscore.record_outcome(text, bigint, text, timestamptz) IS 'record_outcome for an entity key of type bigint (or integer, smallint), as its text; its class or number as text';

CREATE FUNCTION pgscore.record_outcome(p_model text, p_entity_key bigint, p_outcome float8,
                                       p_observed_at timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET extra_float_digits = 3  -- (0113) the float8's own digits: at the caller's 0, 15, its largest past float8
SET jit = off  -- (0183) as the one it calls
BEGIN ATOMIC
    SELECT pgscore.record_outcome(p_model, p_entity_key::text, p_outcome::text, p_observed_at);
END;
COMMENT ON FUNCTION pgscore.record_outcome(text, bigint, float8, timestamptz) IS 'record_outcome for an entity key of type bigint (or integer, smallint), as its text; a numeric outcome';

CREATE FUNCTION pgscore.record_outcome(p_model text, p_entity_key bigint, p_outcome boolean,
                                       p_observed_at timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off  -- (0183) as the one it calls
BEGIN ATOMIC
    SELECT pgscore.record_outcome(p_model, p_entity_key::text, p_outcome::text, p_observed_at);
END;
COMMENT ON FUNCTION pgscore.record_outcome(text, bigint, boolean, timestamptz) IS 'record_outcome for an entity key of type bigint (or integer, smallint), as its text; a boolean outcome';

/*
 * The prediction each outcome judges, looked for again: among the predictions logged since p_since, for the
 * outcomes observed since then (a transaction that committed late, an outcome observed after it was
 * recorded: one observed before p_since has no prediction there to find); in the whole log, for those never
 * looked at (recorded before migration 0033). A prediction logged before p_since and committed after it is
 * as late as neither this nor the drift rollups' look-back sees. Only a newer prediction replaces the one an
 * outcome holds (retention deletes predictions). Returns how many outcomes changed.
 */
CREATE FUNCTION pgscore.match_outcomes(p_since timestamptz)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER  -- outcomes are written only by pgscore's functions
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_rows bigint;
    v_chunk bigint;
BEGIN
    -- (session 66) a standby, or a read-only transaction, refuses its writes: said so, with where to run it, as
    -- record_outcome since 0154 (it was PostgreSQL's bare 25006, no hint)
    IF current_setting('transaction_read_only') = 'on' THEN
        PERFORM pgscore.refuse_read_only('pgscore.match_outcomes writes pgscore.outcome_version_matches');
    END IF;
    IF p_since IS NULL THEN
        RAISE EXCEPTION 'pgscore.match_outcomes: p_since must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- never looked at (and every outcome on a rebuild): each in the whole log, newest first; the entity's
    -- predictions read by the entity's index alone, newest first, as record_outcome reads them (migration 0116)
    UPDATE pgscore.outcomes o
       SET judged_model_id = p.model_id, predicted_at = p.logged_at, judged_score = p.score,
           judged_label = p.label, judged_at = now()
      FROM pgscore.outcomes o2
      LEFT JOIN LATERAL (
            SELECT l.model_id, l.logged_at, l.score, l.label
              FROM pgscore.prediction_log l
              JOIN pgscore.models pm ON pm.model_id = l.model_id + 0
             WHERE l.entity_key = o2.entity_key AND l.logged_at <= o2.observed_at AND pm.name = o2.model_name
               AND l.source <> 'shadow'
             ORDER BY l.logged_at DESC, (jsonb_path_query_first(l.cause, '$.statement_at.datetime()', '{}', true) #>> '{}')::timestamptz DESC NULLS LAST, l.cmin::text::bigint DESC, l.ctid DESC
             LIMIT 1) p ON true
     WHERE o.outcome_id = o2.outcome_id AND (o2.judged_at IS NULL OR p_since = '-infinity')
       AND (o.judged_at IS NULL OR p.logged_at > coalesce(o.predicted_at, '-infinity'::timestamptz)
            -- (a rebuild corrects one judged on another statement of the same transaction: before 0144)
            OR (p_since = '-infinity' AND p.logged_at = o.predicted_at
                AND (p.model_id, p.score, p.label) IS DISTINCT FROM (o.judged_model_id, o.judged_score, o.judged_label)));
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    -- each version's own prediction, for the outcomes never looked at for it (recorded before
    -- outcome_version_matches was added; marked here in the same statement) and every outcome on a rebuild:
    -- each version's newest before the outcome (of one transaction's, its last statement's, as record_outcome
    -- takes it), in one read of the entity's predictions; only a newer prediction replaces the one a row holds
    -- (and, on a rebuild, another of the same transaction: one judged before 0144 on another statement's)
    WITH todo AS (
        UPDATE pgscore.outcomes o SET versions_judged_at = now()
         WHERE o.versions_judged_at IS NULL
     RETURNING o.outcome_id, o.model_name, o.entity_key, o.observed_at
    )
    INSERT INTO pgscore.outcome_version_matches AS vm (outcome_id, model_id, predicted_at, score, label)
    SELECT o.outcome_id, p.model_id, p.logged_at, p.score, p.label
      FROM (SELECT t.outcome_id, t.model_name, t.entity_key, t.observed_at FROM todo t WHERE p_since <> '-infinity'
            UNION ALL
            SELECT a.outcome_id, a.model_name, a.entity_key, a.observed_at FROM pgscore.outcomes a
             WHERE p_since = '-infinity') o
     CROSS JOIN LATERAL (
            SELECT DISTINCT ON (l.model_id) l.model_id, l.logged_at, l.score, l.label
              FROM (SELECT l.model_id, l.logged_at, l.score, l.label, l.cause, l.cmin, l.ctid
                      FROM pgscore.prediction_log l
                     WHERE l.entity_key = o.entity_key AND l.logged_at <= o.observed_at
                    OFFSET 0) l
              JOIN pgscore.models pm ON pm.model_id = l.model_id
             WHERE pm.name = o.model_name
             ORDER BY l.model_id, l.logged_at DESC, (jsonb_path_query_first(l.cause, '$.statement_at.datetime()', '{}', true) #>> '{}')::timestamptz DESC NULLS LAST, l.cmin::text::bigint DESC, l.ctid DESC) p
    ON CONFLICT (outcome_id, model_id) DO UPDATE
       SET predicted_at = excluded.predicted_at, score = excluded.score, label = excluded.label, matched_at = now()
     WHERE excluded.predicted_at > vm.predicted_at
        OR (p_since = '-infinity' AND excluded.predicted_at = vm.predicted_at
            AND (excluded.score, excluded.label) IS DISTINCT FROM (vm.score, vm.label));
    IF p_since = '-infinity' THEN
        RETURN v_rows;
    END IF;
    -- observed since p_since: the predictions logged since then, joined as a set (not a probe of the log's
    -- partitions per outcome), each version's newest for each outcome, read once for both: where newer than
    -- the one a version's row holds, it replaces it (rows that would not change are left untouched, not
    -- locked), and the newest of all where newer than the one the outcome holds
    -- (each version's newest served and newest in shadow: the outcome judges the newest served, a version's
    -- row holds its newest of either; a shadow's prediction was never served)
    -- (of one transaction's rows, its last statement's: statement_at, then the command, as above)
    WITH p AS MATERIALIZED (
        SELECT DISTINCT ON (c.outcome_id, l.model_id, l.source <> 'shadow')
               c.outcome_id, l.model_id, l.logged_at, l.score, l.label, l.source <> 'shadow' AS served,
               (jsonb_path_query_first(l.cause, '$.statement_at.datetime()', '{}', true) #>> '{}')::timestamptz AS statement_at, l.cmin::text::bigint AS command, l.ctid
          FROM pgscore.outcomes c
          JOIN pgscore.models pm ON pm.name = c.model_name
          JOIN pgscore.prediction_log l ON l.model_id = pm.model_id AND l.entity_key = c.entity_key
                                       AND l.logged_at <= c.observed_at AND l.logged_at >= p_since
         WHERE c.observed_at >= p_since AND c.judged_at IS NOT NULL
         ORDER BY c.outcome_id, l.model_id, l.source <> 'shadow', l.logged_at DESC, (jsonb_path_query_first(l.cause, '$.statement_at.datetime()', '{}', true) #>> '{}')::timestamptz DESC NULLS LAST, l.cmin::text::bigint DESC, l.ctid DESC
    ),
    versions AS (
        INSERT INTO pgscore.outcome_version_matches AS vm (outcome_id, model_id, predicted_at, score, label)
        SELECT DISTINCT ON (p.outcome_id, p.model_id) p.outcome_id, p.model_id, p.logged_at, p.score, p.label
          FROM p
         WHERE NOT EXISTS (SELECT 1 FROM pgscore.outcome_version_matches e
                            WHERE e.outcome_id = p.outcome_id AND e.model_id = p.model_id
                              AND e.predicted_at >= p.logged_at)
         ORDER BY p.outcome_id, p.model_id, p.logged_at DESC, p.statement_at DESC NULLS LAST, p.command DESC,
                  p.ctid DESC
        ON CONFLICT (outcome_id, model_id) DO UPDATE
           SET predicted_at = excluded.predicted_at, score = excluded.score, label = excluded.label, matched_at = now()
         WHERE excluded.predicted_at > vm.predicted_at
    )
    UPDATE pgscore.outcomes o
       SET judged_model_id = n.model_id, predicted_at = n.logged_at, judged_score = n.score,
           judged_label = n.label, judged_at = now()
      FROM (SELECT DISTINCT ON (p.outcome_id) p.* FROM p WHERE p.served
             ORDER BY p.outcome_id, p.logged_at DESC, p.statement_at DESC NULLS LAST, p.command DESC, p.ctid DESC) n
     WHERE o.outcome_id = n.outcome_id AND n.logged_at > coalesce(o.predicted_at, '-infinity'::timestamptz);
    GET DIAGNOSTICS v_chunk = ROW_COUNT;
    RETURN v_rows + v_chunk;
END
$fn$;
COMMENT ON FUNCTION pgscore.match_outcomes(timestamptz) IS 'Internal: looks again for the prediction each outcome observed since p_since judges (the newest served of any version, never a shadow''s, and each version''s own, served or in shadow, in outcome_version_matches), among those logged since then, and for every outcome never looked at; refresh_monitoring calls it. Returns how many outcomes changed';

CREATE FUNCTION pgscore.refresh_monitoring(p_relook interval DEFAULT '1 hour', p_rebuild boolean DEFAULT false)
RETURNS TABLE (rolled_from timestamptz, rolled_until timestamptz, rollup_rows bigint, firing bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET work_mem = '256MB'
SET enable_sort = off
SET enable_incremental_sort = off
AS $fn$
DECLARE
    v_day     timestamptz;
    v_next    timestamptz;
    v_chunk   bigint;
    v_until   timestamptz;
    v_from    timestamptz;
    v_to      timestamptz := date_bin('5 minutes', now(), '2000-01-01 00:00:00+00');
    v_rows    bigint;
    v_firing  bigint;
    v_models  bigint[];
    v_buckets timestamptz[];
    v_all     boolean;
BEGIN
    IF p_relook IS NULL OR p_rebuild IS NULL OR p_relook < interval '0' THEN
        RAISE EXCEPTION 'pgscore.refresh_monitoring: p_relook must be an interval >= 0 and p_rebuild true or false'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- (0154) a standby, or a read-only transaction, refuses its writes: said so, with where to run it (it was
    -- PostgreSQL's bare 25006, no hint, quoting this function's statement: trial hT17 of session 64)
    IF current_setting('transaction_read_only') = 'on' THEN
        PERFORM pgscore.refuse_read_only('pgscore.refresh_monitoring writes the rollups (pgscore.drift_rollup, pgscore.monitoring_state)');
    END IF;
    -- (0145) its one row put back where a partial restore left the table empty (it stayed empty, and each refresh
    -- said 0 firing while every view read no period): what the rollups hold is not known then to be what the log
    -- holds, so they are rolled up again, as a rebuild rolls them
    INSERT INTO pgscore.monitoring_state DEFAULT VALUES ON CONFLICT (singleton) DO NOTHING;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    p_rebuild := p_rebuild OR v_rows > 0;
    -- one refresh at a time; a second waits and then finds little to do
    SELECT s.rolled_until INTO v_until FROM pgscore.monitoring_state s FOR UPDATE;
    v_from := CASE WHEN p_rebuild THEN '-infinity'::timestamptz
                   ELSE date_bin('5 minutes', v_until - p_relook, '2000-01-01 00:00:00+00') END;
    v_all := v_from = '-infinity';  -- a rebuild, or the first refresh ever: every row of the log
    IF p_rebuild THEN
        DELETE FROM pgscore.drift_rollup;
        DELETE FROM pgscore.drift_rollup_day;
    ELSIF v_all THEN
        DELETE FROM pgscore.drift_rollup r WHERE r.bucket < v_to;
    ELSE
        -- the buckets of [v_from, v_to) to roll up again: those whose rows are not the ones their
        -- rollups counted (new buckets, and rows of transactions that committed late). The log's rows
        -- are never updated (a trigger refuses it) and retention only deletes them, which lowers the
        -- count, so a bucket whose count of rows is what its rollups hold has not changed; each row
        -- counts once in every (kind, position)
        SELECT coalesce(array_agg(coalesce(l.model_id, r.model_id)), '{}'),
               coalesce(array_agg(coalesce(l.bucket, r.bucket)), '{}')
          INTO v_models, v_buckets
          FROM (SELECT l.model_id, date_bin('5 minutes', l.logged_at, '2000-01-01 00:00:00+00') AS bucket,
                       count(*) AS n
                  FROM pgscore.prediction_log l
                 WHERE l.logged_at >= v_from AND l.logged_at < v_to
                   AND l.model_id IN (SELECT b.model_id FROM pgscore.baselines b)
                 GROUP BY 1, 2) l
          FULL JOIN (SELECT c.model_id, c.bucket, max(c.n) AS n
                       FROM (SELECT r.model_id, r.bucket, sum(r.n) AS n FROM pgscore.drift_rollup r
                              WHERE r.bucket >= v_from AND r.bucket < v_to
                              GROUP BY r.model_id, r.bucket, r.kind, r.position) c
                      GROUP BY c.model_id, c.bucket) r ON r.model_id = l.model_id AND r.bucket = l.bucket
         WHERE l.n IS DISTINCT FROM r.n;
        DELETE FROM pgscore.drift_rollup r USING unnest(v_models, v_buckets) AS c(model_id, bucket)
         WHERE r.model_id = c.model_id AND r.bucket = c.bucket;
    END IF;
    -- (values beyond +-1e290 summed as +-1e290, as drift_counts sums them: no sum overflows)
    -- one UTC day at a time (the log's partitions), so each aggregate is a hash over at most a day of
    -- values and temp space does not grow with the log; a rebuild starts at the oldest row
    IF v_from = '-infinity' THEN
        SELECT date_bin('5 minutes', min(l.logged_at), '2000-01-01 00:00:00+00') INTO v_from
          FROM pgscore.prediction_log l;
    END IF;
    v_rows := 0;
    v_day := v_from;
    WHILE v_day IS NOT NULL AND v_day < v_to LOOP
        v_next := least(date_trunc('day', v_day, 'UTC') + interval '24 hours', v_to);
        IF v_all THEN
            INSERT INTO pgscore.drift_rollup (model_id, bucket, kind, position, bin, n, total, n_out)
            SELECT v.model_id, date_bin('5 minutes', v.logged_at, '2000-01-01 00:00:00+00'), v.kind, v.position,
                   v.bin, count(*), coalesce(sum(least(greatest(v.x, -1e290), 1e290)) FILTER (WHERE v.bin >= 0), 0),
                   count(*) FILTER (WHERE v.out_of_range)
              FROM pgscore.prediction_values v
             WHERE v.logged_at >= v_day AND v.logged_at < v_next
             GROUP BY 1, 2, 3, 4, 5;
        ELSIF EXISTS (SELECT 1 FROM unnest(v_buckets) AS b(bucket) WHERE b.bucket >= v_day AND b.bucket < v_next) THEN
            -- bucket by bucket, each through the log's (model_id, logged_at) index (OFFSET 0 keeps the
            -- planner from scanning the whole span once for every baseline row and bucket)
            INSERT INTO pgscore.drift_rollup (model_id, bucket, kind, position, bin, n, total, n_out)
            SELECT c.model_id, c.bucket, v.kind, v.position, v.bin, count(*),
                   coalesce(sum(least(greatest(v.x, -1e290), 1e290)) FILTER (WHERE v.bin >= 0), 0), count(*) FILTER (WHERE v.out_of_range)
              FROM unnest(v_models, v_buckets) AS c(model_id, bucket)
             CROSS JOIN LATERAL (SELECT pv.* FROM pgscore.prediction_values pv
                                  WHERE pv.model_id = c.model_id AND pv.logged_at >= c.bucket
                                    AND pv.logged_at < c.bucket + interval '5 minutes' OFFSET 0) v
             WHERE c.bucket >= v_day AND c.bucket < v_next
             GROUP BY 1, 2, 3, 4, 5;
        ELSE
            v_day := v_next;  -- nothing of this day changed: its day rollup stays as it is
            CONTINUE;
        END IF;
        GET DIAGNOSTICS v_chunk = ROW_COUNT;
        v_rows := v_rows + v_chunk;
        -- and the whole UTC day again from its 5-minute rollups (those before v_day stay as they were)
        DELETE FROM pgscore.drift_rollup_day d WHERE d.day = date_trunc('day', v_day, 'UTC');
        INSERT INTO pgscore.drift_rollup_day (model_id, day, kind, position, bin, n, total, n_out)
        SELECT r.model_id, date_trunc('day', v_day, 'UTC'), r.kind, r.position, r.bin, sum(r.n), sum(r.total),
               sum(r.n_out)
          FROM pgscore.drift_rollup r
         WHERE r.bucket >= date_trunc('day', v_day, 'UTC') AND r.bucket < date_trunc('day', v_day, 'UTC') + interval '24 hours'
         GROUP BY r.model_id, r.kind, r.position, r.bin;
        v_day := v_next;
    END LOOP;
    UPDATE pgscore.monitoring_state s SET rolled_until = greatest(v_to, s.rolled_until), refreshed_at = now();

    -- the alerts are planned as any query: with the sorts turned off (for the rollups' hash aggregates)
    -- the firing view took five times as long; the function's SET clauses end these with the call
    SET LOCAL enable_sort = on;
    SET LOCAL enable_incremental_sort = on;
    -- outcomes observed within the look-back (all of them on a rebuild) find a prediction logged late
    PERFORM pgscore.match_outcomes(coalesce(CASE WHEN NOT v_all THEN v_until - p_relook END, '-infinity'));
    -- alert_state keeps when each firing condition was first seen; cleared ones go
    WITH f AS MATERIALIZED (SELECT * FROM pgscore.firing),
    gone AS (
        DELETE FROM pgscore.alert_state s
         WHERE NOT EXISTS (SELECT 1 FROM f WHERE f.model = s.model AND f.version = s.version AND f.what = s.what
                             AND f.subject = s.subject AND f.window_name = s.window_name
                             AND f.metric = s.metric AND f.level = s.level)
    )
    -- with whether each is a shadow's as this refresh read it (pgscore status counts them apart: the deployments
    -- by refreshed_at, the transaction's start, missed a version made live or a shadow set while the refresh ran)
    INSERT INTO pgscore.alert_state AS s (model, version, what, subject, window_name, metric, level, shadow)
    SELECT DISTINCT ON (f.model, f.version, f.what, f.subject, f.window_name, f.metric, f.level)
           f.model, f.version, f.what, f.subject, f.window_name, f.metric, f.level, f.shadow FROM f
    ON CONFLICT (model, version, what, subject, window_name, metric, level) DO UPDATE SET shadow = EXCLUDED.shadow
       WHERE s.shadow IS DISTINCT FROM EXCLUDED.shadow;
    SELECT count(*) INTO v_firing FROM pgscore.alert_state;
    RETURN QUERY SELECT coalesce(v_from, v_to), greatest(v_to, v_until), v_rows, v_firing;
END
$fn$;
COMMENT ON FUNCTION pgscore.refresh_monitoring(interval, boolean) IS 'Roll the prediction log up by whole 5-minute bucket and by UTC day (looking back p_relook for buckets whose rows changed, by rows of transactions that committed late, and rolling up only those and the new ones; p_rebuild rolls up everything again) and record when each firing alert was first seen. Run it every few minutes from pg_cron or cron';

/*
 * Silences (migration 0126): an on-call mutes a known condition for a while, saying why; alerts shows it as
 * silenced (silenced_until, silence_id), pgscore drift and status do not count it. Run as their caller, as
 * activate is: pgscore_admin inserts the row and sets lifted_*; session_user is who silenced (under SET ROLE, the
 * person's login, not the role's name).
 */
CREATE FUNCTION pgscore.silence_alerts(p_model text, p_for interval, p_reason text, p_what text DEFAULT NULL,
                                       p_subject text DEFAULT NULL, p_metric text DEFAULT NULL,
                                       p_window text DEFAULT NULL, p_shadow boolean DEFAULT NULL,
                                       p_starts_at timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_id bigint;
BEGIN
    -- (session 66) a standby, or a read-only transaction, refuses its writes: said so, with where to run it, as
    -- record_outcome since 0154 (it was PostgreSQL's bare 25006, no hint)
    IF current_setting('transaction_read_only') = 'on' THEN
        PERFORM pgscore.refuse_read_only('pgscore.silence_alerts writes pgscore.alert_silences');
    END IF;
    IF p_model IS NULL OR p_for IS NULL OR p_reason IS NULL OR p_starts_at IS NULL THEN
        RAISE EXCEPTION 'pgscore.silence_alerts: p_model, p_for, p_reason and p_starts_at must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_model) THEN
        RAISE EXCEPTION 'there is no model %', quote_literal(p_model) USING ERRCODE = 'undefined_object',
            HINT = pgscore.model_name_hint(p_model);
    END IF;
    IF btrim(p_reason) = '' THEN
        RAISE EXCEPTION 'pgscore.silence_alerts: p_reason is blank: say why (the incident, ticket or fix under way)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- (judged by the time they span from p_starts_at: '3 months' compares equal to '90 days' as intervals, and
    -- '1 mon -30 days' is neither positive nor negative until added to a date)
    IF p_starts_at + p_for <= p_starts_at THEN
        RAISE EXCEPTION 'pgscore.silence_alerts: p_for must be a positive interval, got %', p_for
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- (a silence is not a way to switch monitoring off: a metric too sensitive for good has its thresholds)
    IF p_starts_at + p_for > p_starts_at + interval '90 days' THEN
        RAISE EXCEPTION 'pgscore.silence_alerts: p_for must be at most 90 days, got %', p_for
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'silence again when it ends, or change the metric''s thresholds: the model''s with '
                         'pgscore.set_thresholds, every model''s in pgscore.drift_thresholds';
    END IF;
    IF p_what IS NOT NULL AND p_what NOT IN ('feature', 'score', 'performance', 'class') THEN
        RAISE EXCEPTION 'pgscore.silence_alerts: p_what must be feature, score, performance or class (as '
                        'pgscore.alerts.what), or NULL for any; got %', quote_literal(p_what)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_subject IS NOT NULL AND p_subject NOT IN ('outcomes', 'outcomes by recorded time', 'mix')
       AND NOT EXISTS (SELECT 1 FROM pgscore.baselines b JOIN pgscore.models m ON m.model_id = b.model_id
                        WHERE m.name = p_model AND b.feature = p_subject) THEN
        -- (a subject no condition of the model has, its case wrong or a typo, would mute nothing, silently)
        RAISE EXCEPTION 'pgscore.silence_alerts: p_subject % is not a subject of model %: a feature or the score of '
                        'its baselines, outcomes, outcomes by recorded time or mix (as pgscore.alerts.subject), or '
                        'NULL for any', quote_literal(p_subject), quote_literal(p_model)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = coalesce((SELECT 'a typo for ' || string_agg(DISTINCT quote_literal(b.feature), ' or ') || '?'
                                     FROM pgscore.baselines b JOIN pgscore.models m ON m.model_id = b.model_id
                                    WHERE m.name = p_model AND lower(b.feature) = lower(p_subject)),
                                  -- (session 71) pg_catalog's = named: pasted where the owner's public
                                  -- comes first on the path, a plain = (the join's too) ran the owner's
                                  'list them with: SELECT DISTINCT b.feature FROM pgscore.baselines b JOIN '
                                  'pgscore.models m ON m.model_id OPERATOR(pg_catalog.=) b.model_id WHERE m.name '
                                  'OPERATOR(pg_catalog.=) ' || quote_literal(p_model));
    END IF;
    IF p_window IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pgscore.drift_windows w WHERE w.window_name = p_window) THEN
        RAISE EXCEPTION 'pgscore.silence_alerts: p_window % is not a window of pgscore.drift_windows (%), or NULL '
                        'for any', quote_literal(p_window),
                        (SELECT string_agg(quote_literal(w.window_name), ', ' ORDER BY w.sort_order, w.window_name)
                           FROM pgscore.drift_windows w)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_metric IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pgscore.drift_thresholds t WHERE t.metric = p_metric) THEN
        RAISE EXCEPTION 'pgscore.silence_alerts: p_metric % is not a metric of pgscore.drift_thresholds (%), or '
                        'NULL for any', quote_literal(p_metric),
                        (SELECT string_agg(t.metric, ', ' ORDER BY t.metric) FROM pgscore.drift_thresholds t)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO pgscore.alert_silences (model, what, subject, metric, window_name, shadow, starts_at, ends_at, reason)
    VALUES (p_model, p_what, p_subject, p_metric, p_window, p_shadow, p_starts_at, p_starts_at + p_for, p_reason)
    RETURNING id INTO v_id;
    RETURN v_id;
END
$fn$;
COMMENT ON FUNCTION pgscore.silence_alerts(text, interval, text, text, text, text, text, boolean, timestamptz) IS 'Silence the conditions of pgscore.alerts of model p_model that match every matcher given (p_what, p_subject, p_metric, p_window, p_shadow; NULL: any) from p_starts_at for p_for (positive, at most 90 days), saying why (p_reason); returns the silence''s id (pgscore.alert_silences). alerts still lists them, with silenced_until and silence_id; pgscore drift and status do not count them';

CREATE FUNCTION pgscore.lift_silence(p_id bigint)
RETURNS void
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_row pgscore.alert_silences;
BEGIN
    -- (session 66) a standby, or a read-only transaction, refuses its writes: said so, with where to run it, as
    -- record_outcome since 0154 (it was PostgreSQL's bare 25006, no hint)
    IF current_setting('transaction_read_only') = 'on' THEN
        PERFORM pgscore.refuse_read_only('pgscore.lift_silence writes pgscore.alert_silences');
    END IF;
    IF p_id IS NULL THEN
        RAISE EXCEPTION 'pgscore.lift_silence: p_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    UPDATE pgscore.alert_silences s SET lifted_at = now(), lifted_by = session_user
     WHERE s.id = p_id AND s.lifted_at IS NULL AND s.ends_at > now();
    IF FOUND THEN
        RETURN;
    END IF;
    SELECT * INTO v_row FROM pgscore.alert_silences s WHERE s.id = p_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'there is no silence %', p_id USING ERRCODE = 'undefined_object',
            HINT = 'list them with: SELECT * FROM pgscore.alert_silences';
    END IF;
    -- (lifting twice, or one ended already: nothing to do, as activate says of a version live already; lifted_at
    -- is a lift before its end)
    IF v_row.lifted_at IS NULL THEN
        RAISE NOTICE 'silence % ended already (at %): nothing was changed', p_id, v_row.ends_at;
    ELSE
        RAISE NOTICE 'silence % was lifted already (at %, by %): nothing was changed', p_id, v_row.lifted_at,
            v_row.lifted_by;
    END IF;
END
$fn$;
COMMENT ON FUNCTION pgscore.lift_silence(bigint) IS 'End silence p_id (pgscore.alert_silences) now: sets its lifted_at and lifted_by (session_user); a NOTICE and nothing changed where it was lifted already or has ended';

/*
 * What the admin's INSERT and UPDATE (lifted_at, lifted_by) on pgscore.alert_silences allow, which silence_alerts
 * and lift_silence run with (as their caller): a silence made as silence_alerts makes it (by session_user, now, not
 * lifted, at most 90 days), and a silence in force lifted once, now, by session_user. By hand the grants let a
 * lifted silence be put back in force, a silence or a lift be put under another login's name, or a silence be made
 * for years: refused (a restore of the data alone runs with --disable-triggers, as docs/sql.md says).
 */
CREATE FUNCTION pgscore.guard_alert_silences() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.created_by = session_user AND NEW.created_at = now() AND NEW.lifted_at IS NULL
           AND NEW.lifted_by IS NULL AND NEW.ends_at <= NEW.starts_at + interval '90 days' THEN
            RETURN NEW;
        END IF;
    ELSIF OLD.lifted_at IS NULL AND now() < OLD.ends_at AND NEW.lifted_at = now() AND NEW.lifted_by = session_user
          AND to_jsonb(NEW) - 'lifted_at' - 'lifted_by' = to_jsonb(OLD) - 'lifted_at' - 'lifted_by' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'pgscore.alert_silences: a silence is made by pgscore.silence_alerts (by session_user, now, for '
                    'at most 90 days) and lifted once by pgscore.lift_silence (now, by session_user); this % is '
                    'neither', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'silence with pgscore.silence_alerts(model, for, reason, ...), lift with '
                     'pgscore.lift_silence(id); a lifted silence stays lifted: silence again';
END
$fn$;
COMMENT ON FUNCTION pgscore.guard_alert_silences() IS 'Trigger function of pgscore.alert_silences: an INSERT as silence_alerts makes one (created_by session_user, created_at now, not lifted, at most 90 days) and an UPDATE as lift_silence lifts one (once, now, by session_user), nothing else (migration 0126)';

/*
 * Per-model thresholds (migration 0129): pgscore.drift_thresholds holds one warn, alert, min_n and confidence per
 * metric for every model; set_thresholds overrides them for one model (p_subject NULL) or for one of its features
 * (or its score) alone, each argument left NULL inherited (a subject's from the model's row of the metric, the
 * model's from drift_thresholds). A set replaces the row it names whole. Run as their caller, as silence_alerts
 * is: pgscore_admin writes pgscore.drift_threshold_overrides. Every view that judges a metric reads them.
 */
CREATE FUNCTION pgscore.set_thresholds(p_model text, p_metric text, p_warn float8 DEFAULT NULL,
                                       p_alert float8 DEFAULT NULL, p_min_n integer DEFAULT NULL,
                                       p_confidence float8 DEFAULT NULL, p_subject text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_warn  float8;
    v_alert float8;
BEGIN
    -- (session 66) a standby, or a read-only transaction, refuses its writes: said so, with where to run it, as
    -- record_outcome since 0154 (it was PostgreSQL's bare 25006, no hint)
    IF current_setting('transaction_read_only') = 'on' THEN
        PERFORM pgscore.refuse_read_only('pgscore.set_thresholds writes pgscore.drift_threshold_overrides');
    END IF;
    IF p_model IS NULL OR p_metric IS NULL THEN
        RAISE EXCEPTION 'pgscore.set_thresholds: p_model and p_metric must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_model) THEN
        RAISE EXCEPTION 'there is no model %', quote_literal(p_model) USING ERRCODE = 'undefined_object',
            HINT = pgscore.model_name_hint(p_model);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pgscore.drift_thresholds t WHERE t.metric = p_metric) THEN
        RAISE EXCEPTION 'pgscore.set_thresholds: p_metric % is not a metric of pgscore.drift_thresholds (%)',
                        quote_literal(p_metric),
                        (SELECT string_agg(t.metric, ', ' ORDER BY t.metric) FROM pgscore.drift_thresholds t)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_subject IS NOT NULL AND p_metric NOT IN ('psi', 'ks', 'js', 'mean_shift', 'null_rate', 'out_of_range') THEN
        RAISE EXCEPTION 'pgscore.set_thresholds: % is judged per model, not per feature: p_subject must be NULL',
                        p_metric
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'a subject narrows a drift metric (psi, ks, js, mean_shift, null_rate, out_of_range) to one '
                         'feature or the score';
    END IF;
    IF p_subject IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM pgscore.baselines b JOIN pgscore.models m ON m.model_id = b.model_id
                        WHERE m.name = p_model AND b.kind IN ('feature', 'score') AND b.feature = p_subject) THEN
        -- (an override of a subject the model has not, its case wrong or a typo, would change nothing, silently)
        RAISE EXCEPTION 'pgscore.set_thresholds: p_subject % is not a feature of model % nor its score (as '
                        'pgscore.alerts.subject), or NULL for every one', quote_literal(p_subject), quote_literal(p_model)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = coalesce((SELECT 'a typo for ' || string_agg(DISTINCT quote_literal(b.feature), ' or ') || '?'
                                     FROM pgscore.baselines b JOIN pgscore.models m ON m.model_id = b.model_id
                                    WHERE m.name = p_model AND b.kind IN ('feature', 'score')
                                      AND lower(b.feature) = lower(p_subject)),
                                  -- (session 71) pg_catalog's = named: pasted where the owner's public
                                  -- comes first on the path, a plain = (the join's too) ran the owner's
                                  'list them with: SELECT DISTINCT b.feature FROM pgscore.baselines b JOIN '
                                  'pgscore.models m ON m.model_id OPERATOR(pg_catalog.=) b.model_id WHERE m.name '
                                  'OPERATOR(pg_catalog.=) ' || quote_literal(p_model));
    END IF;
    IF p_warn IS NULL AND p_alert IS NULL AND p_min_n IS NULL AND p_confidence IS NULL THEN
        RAISE EXCEPTION 'pgscore.set_thresholds: give at least one of p_warn, p_alert, p_min_n and p_confidence'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'to go back to the inherited thresholds: pgscore.clear_thresholds(model, metric, subject)';
    END IF;
    IF p_warn < 0 OR p_alert < 0 OR p_warn = 'NaN' OR p_alert = 'NaN' THEN
        RAISE EXCEPTION 'pgscore.set_thresholds: p_warn and p_alert must be numbers of at least 0, got % and %',
                        p_warn, p_alert
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'a level never reached: ''Infinity'' (alert = ''Infinity'': warn only)';
    END IF;
    IF p_min_n < 1 THEN
        RAISE EXCEPTION 'pgscore.set_thresholds: p_min_n must be at least 1, got %', p_min_n
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT (p_confidence >= 0 AND p_confidence < 1) THEN
        RAISE EXCEPTION 'pgscore.set_thresholds: p_confidence must be between 0 and 1 (0 included: no noise floor), got %', p_confidence
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'e.g. 0.999, the default''s; 0 for no noise floor (the thresholds alone judge it)';
    END IF;
    IF p_confidence IS NOT NULL AND p_metric = 'class_mix' THEN
        RAISE EXCEPTION 'pgscore.set_thresholds: class_mix has no noise floor: p_confidence must be NULL'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- (one writer of the overrides at a time, until it commits: two sessions each setting a sound row, a model's warn
    -- and a subject's alert, could together leave the subject's warn above its alert; check_threshold_order reads
    -- what the other committed once it has the lock)
    LOCK TABLE pgscore.drift_threshold_overrides IN SHARE ROW EXCLUSIVE MODE;
    -- (0133) this write's turn: a REPEATABLE READ or SERIALIZABLE transaction whose snapshot missed another
    -- session's committed write would check the order against thresholds no longer in place; its update of
    -- threshold_writes' row (which that write updated too) fails instead
    BEGIN
        UPDATE pgscore.threshold_writes SET writes = writes + 1;
    EXCEPTION WHEN serialization_failure THEN
        RAISE EXCEPTION '%: another session changed the thresholds after this transaction''s snapshot was taken',
                        'pgscore.set_thresholds'
            USING ERRCODE = 'serialization_failure',
                  DETAIL = 'a REPEATABLE READ or SERIALIZABLE transaction checks warn at most alert against the '
                           'thresholds as its snapshot has them, which may no longer be in place',
                  HINT = 'run the transaction again (or write thresholds in a READ COMMITTED transaction, the '
                         'default, which reads what the other committed once it has the lock)';
    END;
    -- warn <= alert as they will be judged, each inherited where not given
    -- (0133: what it inherits is what the level above it is judged by, pgscore.effective_thresholds: a subject's
    -- the model's, the model's drift_thresholds')
    SELECT coalesce(p_warn, e.warn), coalesce(p_alert, e.alert) INTO v_warn, v_alert
      FROM pgscore.effective_thresholds(CASE WHEN p_subject IS NOT NULL THEN p_model END, p_metric, NULL) e;
    IF v_warn > v_alert THEN
        RAISE EXCEPTION 'pgscore.set_thresholds: warn % would be above alert % for % of model %', v_warn, v_alert,
                        p_metric, quote_literal(p_model)
                        || CASE WHEN p_subject IS NOT NULL THEN ', subject ' || quote_literal(p_subject) ELSE '' END
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'give both p_warn and p_alert, warn at most alert (a NULL one is inherited)';
    END IF;
    INSERT INTO pgscore.drift_threshold_overrides AS o (model, metric, subject, warn, alert, min_n, confidence)
    VALUES (p_model, p_metric, p_subject, p_warn, p_alert, p_min_n, p_confidence)
        ON CONFLICT ON CONSTRAINT drift_threshold_overrides_key
        DO UPDATE SET warn = EXCLUDED.warn, alert = EXCLUDED.alert, min_n = EXCLUDED.min_n,
                      confidence = EXCLUDED.confidence, created_by = session_user, updated_at = now();
END
$fn$;
COMMENT ON FUNCTION pgscore.set_thresholds(text, text, float8, float8, integer, float8, text) IS 'Override pgscore.drift_thresholds for model p_model''s metric p_metric (every version of the name), for its feature (or score) p_subject alone where given (a drift metric): p_warn, p_alert, p_min_n, p_confidence, each NULL inherited (a subject''s from the model''s override, the model''s from drift_thresholds); replaces the row it names (pgscore.drift_threshold_overrides)';

CREATE FUNCTION pgscore.clear_thresholds(p_model text, p_metric text DEFAULT NULL, p_subject text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_n integer;
BEGIN
    -- (session 66) a standby, or a read-only transaction, refuses its writes: said so, with where to run it, as
    -- record_outcome since 0154 (it was PostgreSQL's bare 25006, no hint)
    IF current_setting('transaction_read_only') = 'on' THEN
        PERFORM pgscore.refuse_read_only('pgscore.clear_thresholds writes pgscore.drift_threshold_overrides');
    END IF;
    IF p_model IS NULL THEN
        RAISE EXCEPTION 'pgscore.clear_thresholds: p_model must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_model)
       AND NOT EXISTS (SELECT 1 FROM pgscore.drift_threshold_overrides o WHERE o.model = p_model) THEN
        RAISE EXCEPTION 'there is no model %', quote_literal(p_model) USING ERRCODE = 'undefined_object',
            HINT = pgscore.model_name_hint(p_model);
    END IF;
    IF p_metric IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pgscore.drift_thresholds t WHERE t.metric = p_metric) THEN
        RAISE EXCEPTION 'pgscore.clear_thresholds: p_metric % is not a metric of pgscore.drift_thresholds (%), or '
                        'NULL for any', quote_literal(p_metric),
                        (SELECT string_agg(t.metric, ', ' ORDER BY t.metric) FROM pgscore.drift_thresholds t)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    LOCK TABLE pgscore.drift_threshold_overrides IN SHARE ROW EXCLUSIVE MODE;  -- (as set_thresholds)
    DELETE FROM pgscore.drift_threshold_overrides o
     WHERE o.model = p_model AND (p_metric IS NULL OR o.metric = p_metric)
       AND (p_subject IS NULL OR o.subject = p_subject);
    GET DIAGNOSTICS v_n = ROW_COUNT;
    IF v_n = 0 THEN
        RAISE NOTICE 'model % has no threshold override%: nothing was cleared', quote_literal(p_model),
            CASE WHEN p_metric IS NOT NULL THEN ' of ' || p_metric ELSE '' END
            || CASE WHEN p_subject IS NOT NULL THEN ' for subject ' || quote_literal(p_subject) ELSE '' END;
    END IF;
    RETURN v_n;
END
$fn$;
COMMENT ON FUNCTION pgscore.clear_thresholds(text, text, text) IS 'Remove model p_model''s overrides of pgscore.drift_thresholds (pgscore.set_thresholds) that match p_metric and p_subject (NULL: any, the model-wide and every subject''s); returns how many; its metrics are judged by what they inherit again';

/*
 * (0129) created_by and updated_at of pgscore.drift_threshold_overrides are who set a row last and when
 * (session_user, now): stamped on every INSERT and UPDATE, set_thresholds' and the admin's by hand alike (the
 * admin's grants would otherwise let a row be put under another login's name, or dated at any time). A row that
 * names its model or subject anew is checked as set_thresholds checks them: a row by hand of a model not registered,
 * or of a subject the model has not, changed nothing, silently.
 */
CREATE FUNCTION pgscore.stamp_threshold_overrides() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.model IS DISTINCT FROM OLD.model OR NEW.subject IS DISTINCT FROM OLD.subject THEN
        IF NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = NEW.model) THEN
            RAISE EXCEPTION 'pgscore.drift_threshold_overrides: there is no model %', quote_literal(NEW.model)
                USING ERRCODE = 'undefined_object', HINT = pgscore.model_name_hint(NEW.model);
        END IF;
        IF NEW.subject IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM pgscore.baselines b JOIN pgscore.models m ON m.model_id = b.model_id
                            WHERE m.name = NEW.model AND b.kind IN ('feature', 'score') AND b.feature = NEW.subject)
        THEN
            RAISE EXCEPTION 'pgscore.drift_threshold_overrides: subject % is not a feature of model % nor its score '
                            '(as pgscore.alerts.subject), or NULL for every one', quote_literal(NEW.subject),
                            quote_literal(NEW.model)
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = coalesce((SELECT 'a typo for ' || string_agg(DISTINCT quote_literal(b.feature), ' or ')
                                              || '?'
                                         FROM pgscore.baselines b JOIN pgscore.models m ON m.model_id = b.model_id
                                        WHERE m.name = NEW.model AND b.kind IN ('feature', 'score')
                                          AND lower(b.feature) = lower(NEW.subject)),
                                      'list them with: SELECT DISTINCT b.feature FROM pgscore.baselines b JOIN '
                                      'pgscore.models m ON m.model_id OPERATOR(pg_catalog.=) b.model_id WHERE m.name '
                                      'OPERATOR(pg_catalog.=) ' || quote_literal(NEW.model));
        END IF;
    END IF;
    NEW.created_by := session_user;
    NEW.updated_at := now();
    RETURN NEW;
END
$fn$;
COMMENT ON FUNCTION pgscore.stamp_threshold_overrides() IS 'Trigger function of pgscore.drift_threshold_overrides: each row inserted or updated is stamped with who (session_user) and when (now), whatever the statement gave; a row naming its model or subject anew is refused where set_thresholds would refuse them (a model not registered, 42704; a subject not one of its features nor its score, 22023) (migration 0129)';

/*
 * (0129) warn at most alert as each override is judged, whichever statement changed it: set_thresholds checks the row
 * it writes, but a model's row raised above a subject's own alert (the subject inheriting the model's warn), a
 * pgscore.drift_thresholds row lowered below a model's own warn, or a row written by hand, left a check judged with a
 * warn above its alert (levels warn never reached); so did deleting a model's row by hand (its subjects then
 * inherit drift_thresholds'). Fired after each statement writing either table; and (0133) before it, where it waits
 * for any other writer of the thresholds before the statement locks a row.
 */
CREATE FUNCTION pgscore.check_threshold_order() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r record;
BEGIN
    -- (0133) the writer's turn is taken BEFORE the statement, ahead of any row lock it takes: taken after (0129: in
    -- the AFTER trigger alone), a session updating drift_thresholds' ks row waited for the overrides' lock that
    -- another held, which then waited for the ks row: one of them failed with 40P01 (deadlock detected)
    IF TG_WHEN = 'BEFORE' THEN
        -- (a writer by hand waits for any other, as set_thresholds does, and reads what it committed)
        LOCK TABLE pgscore.drift_threshold_overrides IN SHARE ROW EXCLUSIVE MODE;
        -- (0133) this write's turn: a REPEATABLE READ or SERIALIZABLE transaction whose snapshot missed another
        -- session's committed write would check the order against thresholds no longer in place; its update of
        -- threshold_writes' row (which that write updated too) fails instead
        BEGIN
            UPDATE pgscore.threshold_writes SET writes = writes + 1;
        EXCEPTION WHEN serialization_failure THEN
            RAISE EXCEPTION '%: another session changed the thresholds after this transaction''s snapshot was taken',
                            'pgscore.' || TG_TABLE_NAME
                USING ERRCODE = 'serialization_failure',
                      DETAIL = 'a REPEATABLE READ or SERIALIZABLE transaction checks warn at most alert against the '
                               'thresholds as its snapshot has them, which may no longer be in place',
                      HINT = 'run the transaction again (or write thresholds in a READ COMMITTED transaction, the '
                             'default, which reads what the other committed once it has the lock)';
        END;
        RETURN NULL;
    END IF;
    -- (0133: each override as it is judged, pgscore.effective_thresholds)
    SELECT o.model, o.metric, o.subject, e.warn, e.alert INTO r
      FROM pgscore.drift_threshold_overrides o
     CROSS JOIN LATERAL pgscore.effective_thresholds(o.model, o.metric, o.subject) e
     WHERE e.warn > e.alert
     ORDER BY o.model, o.metric, o.subject NULLS FIRST
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'pgscore.drift_threshold_overrides: warn % would be above alert % for % of model %', r.warn,
                        r.alert, r.metric, quote_literal(r.model)
                        || CASE WHEN r.subject IS NOT NULL THEN ', subject ' || quote_literal(r.subject) ELSE '' END
            USING ERRCODE = 'check_violation',
                  HINT = 'a NULL warn or alert is inherited (a subject''s from the model''s override, the model''s '
                         'from pgscore.drift_thresholds): give that override both with pgscore.set_thresholds, or '
                         'clear it with pgscore.clear_thresholds';
    END IF;
    RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION pgscore.check_threshold_order() IS 'Trigger function of pgscore.drift_threshold_overrides and pgscore.drift_thresholds: before a statement writing either, waits for any other writer of the thresholds (their lock, taken before any row lock: migration 0133) and takes its turn in pgscore.threshold_writes; after it, refuses a statement that leaves an override judged with a warn above its alert, each inherited where NULL (migration 0129)';
