-- 0064 to 0063: set_shadow as 0062 left it, activate and rollback as 0060, record_outcome as 0056; the
-- roles that score write pgscore.shadow_failures themselves again.

DROP FUNCTION pgscore.count_shadow_failure(bigint, text, text, bigint, text);
GRANT SELECT, INSERT, UPDATE ON pgscore.shadow_failures TO pgscore_app, pgscore_admin;
COMMENT ON TABLE pgscore.shadow_failures IS 'Statements and chunks in which a shadow version could not score, per version, table, SQLSTATE and backend (pgscore status sums them); emptied for a version by set_shadow and clear_shadow';
COMMENT ON TABLE pgscore.model_locks IS 'Internal: a row per model name, locked by register_model and retire so that one name''s deploys and retires queue; only pgscore_admin may lock it';

CREATE OR REPLACE FUNCTION pgscore.set_shadow(p_name text, p_version integer, p_reason text DEFAULT NULL,
                                   p_force boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_model_id bigint;
    v_live record;
    v_refusal text;
    v_fix text;
    v_n integer := 0;
    v_first record;
    r record;
BEGIN
    IF p_name IS NULL OR p_version IS NULL OR p_force IS NULL THEN
        RAISE EXCEPTION 'pgscore.set_shadow: model name, version and p_force must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- one change at a time per model (as register_model and retire take it)
    INSERT INTO pgscore.model_locks AS l (name) VALUES (p_name)
        ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name;
    IF NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_name) THEN
        RAISE EXCEPTION 'there is no model %', quote_literal(p_name) USING ERRCODE = 'undefined_object',
            HINT = 'list models with: SELECT * FROM pgscore.model_versions';
    END IF;
    SELECT m.model_id INTO v_model_id FROM pgscore.models m WHERE m.name = p_name AND m.version = p_version;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'there is no version % of model %', p_version, quote_literal(p_name)
            USING ERRCODE = 'undefined_object', HINT = 'deploy it first: pgscore deploy --no-activate';
    END IF;
    SELECT d.deployment_id, d.model_id, d.action, m.version INTO v_live
      FROM pgscore.deployments d JOIN pgscore.models m ON m.model_id = d.model_id
     WHERE d.model_name = p_name ORDER BY d.deployment_id DESC LIMIT 1;
    IF NOT FOUND OR v_live.action = 'retire' THEN
        RAISE EXCEPTION 'model % has no live version%: a shadow is scored next to the live one, where that one''s scores are written',
                quote_literal(p_name), CASE WHEN FOUND THEN ' (it was retired)' ELSE '' END
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'activate a version first: pgscore.activate(name, version)';
    END IF;
    IF v_live.model_id = v_model_id THEN
        RAISE EXCEPTION 'version % of % is its live version: it cannot be its own shadow', p_version, quote_literal(p_name)
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'name a version that is not live (SELECT version, live FROM pgscore.model_versions WHERE name = ...)';
    END IF;
    IF EXISTS (SELECT 1 FROM pgscore.shadow_versions s WHERE s.name = p_name AND s.model_id = v_model_id) THEN
        RAISE NOTICE 'version % of % is a shadow already: nothing was changed', p_version, quote_literal(p_name);
        RETURN v_model_id;
    END IF;
    -- p_force (pgscore shadow --force) skips the two checks below, as activate's skips its load: a shadow
    -- they would refuse scores where it can, and its failures elsewhere are counted (pgscore.shadow_failures)
    IF NOT p_force THEN
        -- a version this server cannot load (unsigned where it signs, written with other library versions, damaged)
        -- would fail at every statement it shadows: refused now, with the loader's own reason
        v_refusal := format('version %s of %s cannot be loaded by this server, so it cannot shadow version %s: ',
                            p_version, quote_literal(p_name), v_live.version);
        v_fix := format('to set it anyway (it scores nothing while this server cannot load it): '
                        'pgscore.set_shadow(%L, %s, p_force => true) (pgscore shadow %s %s --force)',
                        p_name, p_version, p_name, p_version);
        PERFORM pgscore.load_or_refuse(v_model_id, v_refusal, v_fix);
        -- every table wired to rescore with the name must feed it, as check_live_version_fed asks of a live version:
        -- a profile table without one of its features, or whose float8[] column features (which the shadow reads
        -- where there is one) holds the live version's features, read from it too (no counters), and another
        -- count, would have every INSERT into the event table score nothing in shadow. Wirings whose trigger or
        -- profile table is gone feed nothing and block nothing
        FOR r IN
            WITH w AS (
                SELECT w.profile_table, w.event_table, w.counters,
                       EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = to_regclass(w.profile_table)
                                  AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = 'features'
                                  AND a.atttypid = 'float8[]'::regtype) AS has_array
                  FROM pgscore.rescoring w
                 WHERE w.model_name = p_name AND to_regclass(w.profile_table) IS NOT NULL
                   AND EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgname = w.trigger_name AND NOT t.tgisinternal))
            SELECT w.profile_table, w.event_table,
                   array_to_string(ARRAY(SELECT quote_literal(f.name)
                                           FROM unnest(m.feature_names) WITH ORDINALITY AS f(name, i)
                                          WHERE NOT w.has_array
                                            AND NOT EXISTS (SELECT 1 FROM pg_attribute a
                                                             WHERE a.attrelid = to_regclass(w.profile_table)
                                                               AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = f.name)
                                          ORDER BY f.i), ', ') AS missing,
                   CASE WHEN w.has_array AND coalesce(w.counters, '{}'::jsonb) = '{}'::jsonb
                             AND cardinality(m.feature_names) <> cardinality(l.feature_names)
                        THEN format('its float8[] column features holds the %s features of live version %s, and version %s has %s',
                                    cardinality(l.feature_names), v_live.version, p_version, cardinality(m.feature_names))
                   END AS miscounted
              FROM w
              JOIN pgscore.models m ON m.model_id = v_model_id
              JOIN pgscore.models l ON l.model_id = v_live.model_id
             ORDER BY 1, 2
        LOOP
            IF r.missing <> '' OR r.miscounted IS NOT NULL THEN
                v_n := v_n + 1;
                IF v_n = 1 THEN
                    v_first := r;
                END IF;
            END IF;
        END LOOP;
        IF v_n > 0 THEN
            RAISE EXCEPTION 'version % of % cannot shadow version %: %, which % rescores with %, %; every INSERT into % would score nothing in shadow',
                    p_version, quote_literal(p_name), v_live.version, v_first.profile_table, v_first.event_table,
                    quote_literal(p_name), CASE WHEN v_first.missing <> '' THEN 'has no column ' || v_first.missing
                                                ELSE v_first.miscounted END, v_first.event_table
                USING ERRCODE = CASE WHEN v_first.missing <> '' THEN 'undefined_column' ELSE 'object_not_in_prerequisite_state' END,
                      DETAIL = format('%s wiring(s) affected', v_n),
                      HINT = format('add the feature column(s) to the profile table first, then set the shadow again; or detach '
                                    'the wiring (pgscore.detach_rescoring); or set it anyway, to score where it can '
                                    '(pgscore score of a table that has them) with the others counted as failures: '
                                    'pgscore.set_shadow(%L, %s, p_force => true) (pgscore shadow %s %s --force)',
                                    p_name, p_version, p_name, p_version);
        END IF;
    END IF;
    -- failures counted in an earlier spell as a shadow are not this one's; a row a session is counting into now
    -- (its transaction open) is left, never waited for: that session may wait for this one's next, on another of
    -- its rows, and a deadlock would fail its INSERT (0062)
    DELETE FROM pgscore.shadow_failures f
     WHERE f.ctid = ANY (ARRAY(SELECT x.ctid FROM pgscore.shadow_failures x WHERE x.model_id = v_model_id
                                 FOR UPDATE SKIP LOCKED));
    -- changed_by: the caller's role (this function runs as its owner, whom current_user names), as record_outcome
    INSERT INTO pgscore.shadows (model_name, model_id, action, since_deployment, reason, changed_by)
    VALUES (p_name, v_model_id, 'start', v_live.deployment_id, p_reason,
            coalesce(nullif(current_setting('role'), 'none'), session_user));
    RETURN v_model_id;
END
$fn$;

CREATE OR REPLACE FUNCTION pgscore.activate(p_name text, p_version integer, p_reason text DEFAULT NULL,
                                 p_force boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET pgscore.allow_version_mismatch = off
AS $fn$
DECLARE
    v_model_id bigint;
    v_refusal text;
    v_fix text;
BEGIN
    IF p_name IS NULL OR p_version IS NULL OR p_force IS NULL THEN
        RAISE EXCEPTION 'pgscore.activate: model name, version and p_force must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_name) THEN
        RAISE EXCEPTION 'there is no model %', quote_literal(p_name) USING ERRCODE = 'undefined_object',
            HINT = 'list models with: SELECT * FROM pgscore.model_versions';
    END IF;
    SELECT m.model_id INTO v_model_id FROM pgscore.models m WHERE m.name = p_name AND m.version = p_version;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'there is no version % of model %', p_version, quote_literal(p_name)
            USING ERRCODE = 'undefined_object', HINT = 'list models with: SELECT * FROM pgscore.model_versions';
    END IF;
    INSERT INTO pgscore.deployments (model_name, model_id, action, reason)
    VALUES (p_name, v_model_id, 'deploy', p_reason);
    IF NOT p_force THEN
        -- the server loads it as a session's first score would (pgscore.load_model: sha256, signature, the
        -- scikit-learn/numpy it was written with against the server's, unpickling), pgscore.allow_version_mismatch
        -- off whatever this session set (the function's SET: other sessions score it): a version it cannot load,
        -- live, fails every score of it and queues every rescored profile. After the row, which its error undoes:
        -- the deployments' trigger refuses first what it refuses (signing on or off as the version is not), with
        -- its own hint. (The words in variables: an error the load raises as the server raised it, a lock timeout
        -- say, quotes the call in its context)
        v_refusal := format('version %s of %s cannot be made live: this server cannot load it: ', p_version,
                            quote_literal(p_name));
        v_fix := format('to make it live anyway (every score of it fails while this server cannot load it): '
                        'pgscore.activate(%L, %s, p_force => true) (pgscore activate %s %s --force)',
                        p_name, p_version, p_name, p_version);
        PERFORM pgscore.load_or_refuse(v_model_id, v_refusal, v_fix);
    END IF;
    RETURN v_model_id;
END
$fn$;
COMMENT ON FUNCTION pgscore.activate(text, integer, text, boolean) IS 'Make a version of a model live (appends a deployment); returns its model_id. Refused where this server cannot load the version (pgscore.load_model fails: signature, the library versions it was written with, unpickling) unless p_force';

CREATE OR REPLACE FUNCTION pgscore.rollback(p_name text, p_to_version integer DEFAULT NULL, p_reason text DEFAULT NULL,
                                 p_force boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET pgscore.allow_version_mismatch = off
AS $fn$
DECLARE
    r record;
    v_stack bigint[] := '{}';
    v_live bigint;
    v_last_live bigint;
    v_at integer;
    v_current_version integer;
    v_target bigint;
    v_version integer;
    v_next integer;
    v_refusal text;
    v_fix text;
BEGIN
    IF p_name IS NULL OR p_force IS NULL THEN
        RAISE EXCEPTION 'pgscore.rollback: model name and p_force must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_name) THEN
        RAISE EXCEPTION 'there is no model %', quote_literal(p_name) USING ERRCODE = 'undefined_object',
            HINT = 'list models with: SELECT * FROM pgscore.model_versions';
    END IF;
    -- the stack of go-lives (model_ids), replayed from the history; v_live: the live version, NULL when none
    FOR r IN SELECT d.model_id, d.action FROM pgscore.deployments d
              WHERE d.model_name = p_name ORDER BY d.deployment_id
    LOOP
        IF r.action = 'retire' THEN
            v_live := NULL;
            CONTINUE;
        END IF;
        IF r.action = 'rollback' THEN
            SELECT max(s.i) INTO v_at FROM unnest(v_stack) WITH ORDINALITY s(id, i) WHERE s.id = r.model_id;
        END IF;
        IF r.action = 'rollback' AND v_at IS NOT NULL THEN  -- popped, and rolled back from wherever they are
            v_stack := ARRAY(SELECT s.id FROM unnest(v_stack) WITH ORDINALITY s(id, i)
                              WHERE s.i <= v_at AND s.id <> ALL (v_stack[v_at + 1:]) ORDER BY s.i);
        ELSE  -- a deploy or activate, or a rollback to a version not on the stack
            v_stack := v_stack || r.model_id;
        END IF;
        v_live := r.model_id;
        v_last_live := r.model_id;
    END LOOP;
    IF p_to_version IS NOT NULL THEN
        SELECT m.model_id INTO v_target FROM pgscore.models m WHERE m.name = p_name AND m.version = p_to_version;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'there is no version % of model %', p_to_version, quote_literal(p_name)
                USING ERRCODE = 'undefined_object', HINT = 'list models with: SELECT * FROM pgscore.model_versions';
        END IF;
    ELSE
        IF v_live IS NULL THEN
            SELECT m.version INTO v_version FROM pgscore.models m WHERE m.model_id = v_last_live;
            RAISE EXCEPTION 'model % has no live version to roll back from', quote_literal(p_name)
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = CASE WHEN v_version IS NULL THEN 'None of its versions was ever made live.'
                               ELSE format('It was retired; version %s was live before.', v_version) END,
                      HINT = 'name the version to make live: pgscore.rollback(name, version)';
        END IF;
        SELECT m.version INTO v_current_version FROM pgscore.models m WHERE m.model_id = v_live;
        v_stack := array_remove(v_stack, v_live);
        v_target := v_stack[cardinality(v_stack)];
        IF v_target IS NULL THEN
            RAISE EXCEPTION 'model % has no earlier deployed version than %', quote_literal(p_name), v_current_version
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = 'A rollback goes to the version that was live before the live one went live, leaving out those rolled back from (pgscore.deployments holds the history).',
                      HINT = 'name the version to make live: pgscore.rollback(name, version)';
        END IF;
    END IF;
    INSERT INTO pgscore.deployments (model_name, model_id, action, reason)
    VALUES (p_name, v_target, 'rollback', p_reason);
    IF NOT p_force THEN  -- as activate checks it (pgscore.load_model, the override off; after the row, as there)
        SELECT m.version INTO v_version FROM pgscore.models m WHERE m.model_id = v_target;
        IF p_to_version IS NULL THEN  -- the one a rollback from there would go to, for the hint
            SELECT m.version INTO v_next FROM pgscore.models m
             WHERE m.model_id = (array_remove(v_stack, v_target))[cardinality(array_remove(v_stack, v_target))];
        END IF;
        v_refusal := format('version %s of %s cannot be made live: this server cannot load it: ', v_version,
                            quote_literal(p_name));
        v_fix := concat_ws('; ',
            CASE WHEN v_next IS NOT NULL
                 THEN format('roll back to the version before it: pgscore.rollback(%L, %s) (pgscore rollback %s --to %s)',
                             p_name, v_next, p_name, v_next) END,
            format('to make it live anyway (every score of it fails while this server cannot load it): '
                   'pgscore.rollback(%L, %s, p_force => true) (pgscore rollback %s --to %s --force)', p_name, v_version,
                   p_name, v_version));
        PERFORM pgscore.load_or_refuse(v_target, v_refusal, v_fix);
    END IF;
    RETURN v_target;
END
$fn$;
COMMENT ON FUNCTION pgscore.rollback(text, integer, text, boolean) IS 'Undo the last go-live (appends a deployment): make live the version that was live before the live one went live, following pgscore.deployments and leaving out versions rolled back from (or the given version); refused where this server cannot load it unless p_force; returns its model_id';

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
       AND l.source <> 'shadow'  -- (a shadow's prediction was never served)
     ORDER BY l.logged_at DESC
     LIMIT 1;
    -- the prediction each version of the model made of the entity last by then, served or in shadow, kept in
    -- outcome_version_matches (pgscore.match_outcomes finds them for a prediction logged later)
    SELECT array_agg(p.model_id), array_agg(p.logged_at), array_agg(p.score), array_agg(p.label)
      INTO v_models, v_times, v_scores, v_labels
      FROM (SELECT DISTINCT ON (l.model_id) l.model_id, l.logged_at, l.score, l.label
              FROM pgscore.prediction_log l JOIN pgscore.models m ON m.model_id = l.model_id
             WHERE l.entity_key = p_entity_key AND l.logged_at <= p_observed_at AND m.name = p_model
             ORDER BY l.model_id, l.logged_at DESC) p;
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
    IF v_judged.model_id IS NULL THEN
        RAISE NOTICE 'pgscore.record_outcome: no prediction of "%" for entity "%" was logged at or before %', p_model, p_entity_key, p_observed_at
            USING DETAIL = 'The outcome is kept; it judges no prediction and pgscore.outcome_matches shows it unmatched, until pgscore.refresh_monitoring finds one logged later (within its p_relook; a prediction scored in this transaction is logged at its commit).';
    END IF;
    RETURN v_id;
END
$fn$;
COMMENT ON FUNCTION pgscore.record_outcome(text, text, text, timestamptz) IS 'Record what actually happened to an entity (one of a classifier''s classes, or a regressor''s number), observed at p_observed_at; it judges the newest prediction of the model for that entity logged by then (never a shadow''s), and each version''s newest, served or in shadow (outcome_version_matches). Returns the outcome_id';

