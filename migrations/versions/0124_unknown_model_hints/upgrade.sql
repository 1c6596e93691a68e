-- 0123 to 0124: activate, rollback, retire, set_shadow and clear_shadow say an unknown model with scoring's hint:
-- "there is no model 'teir'", HINT "a typo for 'tier'? Else list models with: SELECT * FROM pgscore.model_versions"
-- (their hint said where the models are listed alone, as record_outcome's and version_drift's did before 0120).
-- The hint is pgscore.model_name_hint's (0120); activate, rollback and retire run as their caller, so
-- pgscore_admin may execute it now (set_shadow and clear_shadow run as its owner; the app and the reader still may
-- not). The message and the SQLSTATE (42704, undefined_object) stay.
-- The five are replaced in place, their comments unchanged and not set again: a DBA's own comment stays.

GRANT EXECUTE ON FUNCTION pgscore.model_name_hint(text) TO pgscore_admin;

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
    -- one change at a time per model, as register_model, rollback, retire, set_shadow and clear_shadow take it: a
    -- rollback or retire in progress reads the history with this go-live once it commits, a set_shadow of this
    -- version refuses it live (none waited before: a rollback undid the go-live before this one too)
    INSERT INTO pgscore.model_locks AS l (name) VALUES (p_name)
        ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name;
    IF NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_name) THEN
        -- (migration 0124: with scoring's hint, the model it looks like a typo for; it said where they are listed)
        RAISE EXCEPTION 'there is no model %', quote_literal(p_name) USING ERRCODE = 'undefined_object',
            HINT = pgscore.model_name_hint(p_name);
    END IF;
    SELECT m.model_id INTO v_model_id FROM pgscore.models m WHERE m.name = p_name AND m.version = p_version;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'there is no version % of model %', p_version, quote_literal(p_name)
            USING ERRCODE = 'undefined_object', HINT = 'list models with: SELECT * FROM pgscore.model_versions';
    END IF;
    -- the live version already (the history's last entry a go-live of it, read under the lock above): nothing
    -- changes, and the history records no go-live of a version that never went away (as set_shadow says of a
    -- shadow already)
    IF (SELECT d.action <> 'retire' AND d.model_id = v_model_id FROM pgscore.deployments d
         WHERE d.model_name = p_name ORDER BY d.deployment_id DESC LIMIT 1) THEN
        RAISE NOTICE 'version % of % is live already: nothing was changed', p_version, quote_literal(p_name);
        RETURN v_model_id;
    END IF;
    -- 'activate': a version stored before made live (before 0121, 'deploy', as register_model writes it)
    INSERT INTO pgscore.deployments (model_name, model_id, action, reason)
    VALUES (p_name, v_model_id, 'activate', p_reason);
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
    -- one change at a time per model (as activate takes it): the history replayed below is the one this
    -- rollback's row follows, an activate or deploy in progress committed into it (without the lock, a rollback
    -- while v3 went live read v1, v2 and undid both)
    INSERT INTO pgscore.model_locks AS l (name) VALUES (p_name)
        ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name;
    IF NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_name) THEN
        -- (migration 0124: with scoring's hint, the model it looks like a typo for; it said where they are listed)
        RAISE EXCEPTION 'there is no model %', quote_literal(p_name) USING ERRCODE = 'undefined_object',
            HINT = pgscore.model_name_hint(p_name);
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
        -- the live version already: nothing changes, and the history records no rollback to a version that never
        -- went away (as activate says of it, migration 0080; before 0093 a row was appended, and pgscore rollback
        -- said "is live again")
        IF v_target = v_live THEN
            RAISE NOTICE 'version % of % is live already: nothing was changed', p_to_version, quote_literal(p_name);
            RETURN v_target;
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

CREATE OR REPLACE FUNCTION pgscore.retire(p_name text, p_reason text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_model_id bigint;
    v_action text;
    v_at timestamptz;
BEGIN
    IF p_name IS NULL THEN
        RAISE EXCEPTION 'pgscore.retire: model name must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- one retire at a time per model (as register_model takes it): two at once would both find it live. The
    -- name's row in pgscore.model_locks, which only pgscore_admin may lock (an advisory lock, before 0043, any
    -- role could take and hold)
    INSERT INTO pgscore.model_locks AS l (name) VALUES (p_name)
        ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name;
    SELECT d.model_id, d.action, d.deployed_at INTO v_model_id, v_action, v_at FROM pgscore.deployments d
     WHERE d.model_name = p_name ORDER BY d.deployment_id DESC LIMIT 1;
    IF NOT FOUND THEN
        IF EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_name) THEN  -- stored, never made live
            RAISE EXCEPTION 'model % has no live version to retire: none of its versions was ever made live',
                  quote_literal(p_name) USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
        -- (migration 0124: with scoring's hint, the model it looks like a typo for; it said where they are listed)
        RAISE EXCEPTION 'there is no model %', quote_literal(p_name) USING ERRCODE = 'undefined_object',
            HINT = pgscore.model_name_hint(p_name);
    END IF;
    IF v_action = 'retire' THEN  -- a second retire would only append another to its history (before 0038)
        RAISE NOTICE 'model % has no live version already (retired %): nothing was changed', quote_literal(p_name), v_at;
        RETURN;
    END IF;
    INSERT INTO pgscore.deployments (model_name, model_id, action, reason)
    VALUES (p_name, v_model_id, 'retire', p_reason);
END
$fn$;

CREATE OR REPLACE FUNCTION pgscore.set_shadow(p_name text, p_version integer, p_reason text DEFAULT NULL,
                                   p_force boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET pgscore.allow_version_mismatch = off
AS $fn$
DECLARE
    v_model_id bigint;
    v_live record;
    v_refusal text;
    v_fix text;
    v_n integer := 0;
    v_first record;
    v_columns text[];
    r record;
BEGIN
    IF p_name IS NULL OR p_version IS NULL OR p_force IS NULL THEN
        RAISE EXCEPTION 'pgscore.set_shadow: model name, version and p_force must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- one change at a time per model (as register_model, activate, rollback and retire take it): the live
    -- version read below is the one this shadow will be scored next to
    INSERT INTO pgscore.model_locks AS l (name) VALUES (p_name)
        ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name;
    IF NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_name) THEN
        -- (migration 0124: with scoring's hint, the model it looks like a typo for; it said where they are listed)
        RAISE EXCEPTION 'there is no model %', quote_literal(p_name) USING ERRCODE = 'undefined_object',
            HINT = pgscore.model_name_hint(p_name);
    END IF;
    SELECT m.model_id INTO v_model_id FROM pgscore.models m WHERE m.name = p_name AND m.version = p_version;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'there is no version % of model %', p_version, quote_literal(p_name)
            USING ERRCODE = 'undefined_object', HINT = 'deploy it first: pgscore deploy --no-activate';
    END IF;
    SELECT d.deployment_id, d.model_id, d.action, m.version, m.feature_names INTO v_live
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
        -- would fail at every statement it shadows: refused now, with the loader's own reason (the override off,
        -- whatever this session set: the function's SET, as activate's; other sessions score it)
        v_refusal := format('version %s of %s cannot be loaded by this server, so it cannot shadow version %s: ',
                            p_version, quote_literal(p_name), v_live.version);
        v_fix := format('to set it anyway (it scores nothing while this server cannot load it): '
                        'pgscore.set_shadow(%L, %s, p_force => true) (pgscore shadow %s %s --force)',
                        p_name, p_version, p_name, p_version);
        PERFORM pgscore.load_or_refuse(v_model_id, v_refusal, v_fix);
        -- every table wired to rescore with the name must feed it, as check_live_version_fed asks of a live version:
        -- a profile table without one of its features (a wiring with counters reads it by name, a float8[] column
        -- features beside never), or whose float8[] column features (which the shadow reads where there is one and
        -- no counters) holds the live version's features, read from it too, and another
        -- count, would have every INSERT into the event table score nothing in shadow; as many features named
        -- otherwise or in another order, score every profile on values that are not its features. Wirings whose
        -- trigger or profile table is gone feed nothing and block nothing
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
                                          WHERE NOT (w.has_array AND coalesce(w.counters, '{}'::jsonb) = '{}'::jsonb)
                                            AND NOT EXISTS (SELECT 1 FROM pg_attribute a
                                                             WHERE a.attrelid = to_regclass(w.profile_table)
                                                               AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = f.name)
                                          ORDER BY f.i), ', ') AS missing,
                   -- read by position: as many features named otherwise, or in another order, would score the
                   -- live version's values as the shadow's own
                   CASE WHEN NOT w.has_array OR coalesce(w.counters, '{}'::jsonb) <> '{}'::jsonb THEN NULL
                        ELSE 'its float8[] column features '
                             || pgscore.feature_order_differs(m.feature_names, l.feature_names, v_live.version, p_version)
                   END AS miscounted,
                   w.has_array AND coalesce(w.counters, '{}'::jsonb) = '{}'::jsonb
                       AND cardinality(m.feature_names) = cardinality(l.feature_names)
                       AND m.feature_names IS DISTINCT FROM l.feature_names AS reordered
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
            RAISE EXCEPTION 'version % of % cannot shadow version %: %, which % rescores with %, %; every INSERT into % would score %',
                    p_version, quote_literal(p_name), v_live.version, v_first.profile_table, v_first.event_table,
                    quote_literal(p_name), CASE WHEN v_first.missing <> '' THEN 'has no column ' || v_first.missing
                                                ELSE v_first.miscounted END, v_first.event_table,
                    CASE WHEN v_first.missing = '' AND v_first.reordered
                         THEN 'it in shadow on values that are not its features' ELSE 'nothing in shadow' END
                USING ERRCODE = CASE WHEN v_first.missing <> '' THEN 'undefined_column' ELSE 'object_not_in_prerequisite_state' END,
                      DETAIL = format('%s wiring(s) affected', v_n),
                      -- (a profile table's float8[] column features is read wherever there is one: columns added
                      -- beside it would not be)
                      HINT = format('%s; or detach the wiring (pgscore.detach_rescoring); or set it anyway, to score '
                                    'where it can (pgscore score of a table that has %s) with the others counted as '
                                    'failures: pgscore.set_shadow(%L, %s, p_force => true) (pgscore shadow %s %s --force)',
                                    CASE WHEN v_first.missing <> ''
                                         THEN 'add the feature column(s) to the profile table first, then set the shadow again'
                                         ELSE format('shadow a version trained on the %s features of live version %s in its order, '
                                                     'or wire a profile table of a column per feature (no float8[] column features)',
                                                     cardinality(v_live.feature_names), v_live.version) END,
                                    CASE WHEN v_first.missing <> '' THEN 'them' ELSE 'a column per feature' END,
                                    p_name, p_version, p_name, p_version);
        END IF;
    END IF;
    -- a wired profile table read by name (no float8[] column features, or counters) whose score or scored_at column
    -- the shadow reads: every INSERT would score it on the score the live version just wrote, and made live it would
    -- feed its own output back in (attach_rescoring refuses such a column of the live version, the deployments'
    -- trigger of a version made live). Not skipped by p_force: such a shadow never fails, and no count would say
    -- that its scores are not the ones it would score live. The check is pgscore.score_columns_read, which the
    -- deployments' trigger and attach_rescoring ask too
    v_n := 0;
    v_columns := '{}';
    FOR r IN
        SELECT c.profile_table, c.event_table, c.what, c.column_name AS col, c.said
          FROM pgscore.score_columns_read(v_model_id) AS c
         ORDER BY 1, 2, 3
    LOOP
        v_n := v_n + 1;
        IF v_n = 1 THEN
            v_first := r;
        END IF;
        v_columns := v_columns || r.said;
    END LOOP;
    IF v_n > 0 THEN
        RAISE EXCEPTION 'version % of % cannot shadow version %: %.%, the % column % rescores with % into, is one of its features; every INSERT into % would score the shadow on the live version''s new score, and once live it would feed its own output back in',
                p_version, quote_literal(p_name), v_live.version, v_first.profile_table, v_first.col, v_first.what,
                v_first.event_table, quote_literal(p_name), v_first.event_table
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('%s column(s) affected: %s', v_n, array_to_string(v_columns, ', ')),
                  HINT = format('shadow a version that does not read %s.%s, or wire the table''s score and scored_at to '
                                'columns no version of %s reads (pgscore.detach_rescoring(%L), then '
                                'pgscore.attach_rescoring(...) again)',
                                v_first.profile_table, v_first.col, quote_literal(p_name), v_first.event_table);
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

CREATE OR REPLACE FUNCTION pgscore.clear_shadow(p_name text, p_version integer DEFAULT NULL, p_reason text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_model_id bigint;
    v_n integer;
BEGIN
    IF p_name IS NULL THEN
        RAISE EXCEPTION 'pgscore.clear_shadow: model name must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    INSERT INTO pgscore.model_locks AS l (name) VALUES (p_name)
        ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name;
    IF NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_name) THEN
        -- (migration 0124: with scoring's hint, the model it looks like a typo for; it said where they are listed)
        RAISE EXCEPTION 'there is no model %', quote_literal(p_name) USING ERRCODE = 'undefined_object',
            HINT = pgscore.model_name_hint(p_name);
    END IF;
    IF p_version IS NOT NULL THEN
        SELECT m.model_id INTO v_model_id FROM pgscore.models m WHERE m.name = p_name AND m.version = p_version;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'there is no version % of model %', p_version, quote_literal(p_name)
                USING ERRCODE = 'undefined_object',
                      HINT = 'list the shadows with: SELECT * FROM pgscore.shadow_versions (or pgscore status)';
        END IF;
    END IF;
    INSERT INTO pgscore.shadows (model_name, model_id, action, reason, changed_by)
    SELECT s.name, s.model_id, 'stop', p_reason, coalesce(nullif(current_setting('role'), 'none'), session_user)
      FROM pgscore.shadow_versions s
     WHERE s.name = p_name AND (v_model_id IS NULL OR s.model_id = v_model_id)
     ORDER BY s.version;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    -- the failures counted while they were shadows (pgscore.shadow_failures) go with their marks, but a row a
    -- session is counting into now, which is never waited for (as at set_shadow)
    DELETE FROM pgscore.shadow_failures f
     WHERE f.ctid = ANY (ARRAY(SELECT x.ctid FROM pgscore.shadow_failures x JOIN pgscore.models m ON m.model_id = x.model_id
                                WHERE m.name = p_name AND (v_model_id IS NULL OR x.model_id = v_model_id)
                                  FOR UPDATE OF x SKIP LOCKED));
    IF v_n = 0 THEN
        RAISE NOTICE '% has no shadow%: nothing was changed', CASE WHEN p_version IS NULL
            THEN 'model ' || quote_literal(p_name) ELSE format('version %s of %s', p_version, quote_literal(p_name)) END,
            CASE WHEN p_version IS NULL THEN ' version' ELSE ' mark' END;
    END IF;
    RETURN v_n;
END
$fn$;
