-- 0064 to 0063: set_shadow as 0062 left it, activate and rollback as 0060; the roles that score write
-- pgscore.shadow_failures themselves again.

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

