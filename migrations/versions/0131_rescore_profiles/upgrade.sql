-- 0130 to 0131: pgscore.rescore_profiles rescores the profiles of an event table's wirings with the live version
-- as they are (after a rollback or activate, or an UPDATE of a profile's own columns), writing score, label
-- and scored_at as the trigger does. activate and rollback say, a NOTICE per wiring of the model, that its
-- profiles keep the scores another version gave them until their next event, and what rescores them.
CREATE FUNCTION pgscore.rescore_profiles(p_event_table regclass, p_profile_table regclass DEFAULT NULL,
                                         p_after text DEFAULT NULL, p_limit integer DEFAULT 10000)
RETURNS TABLE (rescoring_id bigint, profile_table regclass, rescored integer, failed integer, last_key text)
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET "DateStyle" = 'ISO'
SET "IntervalStyle" = 'postgres'
SET extra_float_digits = 1
AS $pl$
try:
    from pgscore.pl import rescore_profiles
except ImportError as e:  # a server started without pgscore's environment
    plpy.error("pgscore cannot be imported by the database's Python: %s" % e, sqlstate="58P01",
               hint="restart the server with PYTHONPATH naming the site-packages directory of the environment pgscore was installed into with the server's own Python, not the venv itself (any pgscore command of that environment prints the exact value; README, 'Installing into an existing server'), then SELECT pgscore.validate_environment()")
return rescore_profiles(plpy, GD, p_event_table, p_profile_table, p_after, p_limit)
$pl$;
COMMENT ON FUNCTION pgscore.rescore_profiles(regclass, regclass, text, integer) IS 'Rescore the profiles of the event table''s wirings (or its wiring to p_profile_table) with the live version as they are, counters unchanged: score, label and scored_at written as the trigger writes them, audit source refresh via rescore_profiles (after a rollback or activate, or an UPDATE of a profile''s own columns); up to p_limit profiles a wiring in key order after p_after; queued profiles are left to retry_failed; one row per wiring, last_key NULL when none is left';

REVOKE EXECUTE ON FUNCTION pgscore.rescore_profiles(regclass, regclass, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgscore.rescore_profiles(regclass, regclass, text, integer) TO pgscore_app, pgscore_admin;

CREATE OR REPLACE FUNCTION pgscore.activate(p_name text, p_version integer, p_reason text DEFAULT NULL,
                                 p_force boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET pgscore.allow_version_mismatch = off
AS $fn$
DECLARE
    r record;
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
    -- the wired profiles keep the score of the version live before until their next event, and nothing rescored
    -- them (migration 0131: the trial's customer 11 held v2's score with v1 live, nothing said so)
    FOR r IN SELECT w.event_table, w.profile_table FROM pgscore.rescoring w
              WHERE w.model_name = p_name ORDER BY w.rescoring_id
    LOOP
        RAISE NOTICE 'the profiles of % (wired from %) keep the scores another version gave them until their next event',
              r.profile_table, r.event_table
            USING HINT = format('rescore them with the live version: SELECT * FROM pgscore.rescore_profiles(%L) '
                                '(pgscore rescore --table %s)', r.event_table, r.event_table);
    END LOOP;
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
    -- the wired profiles keep the score of the version live before until their next event, and nothing rescored
    -- them (migration 0131: the trial's customer 11 held v2's score with v1 live, nothing said so)
    FOR r IN SELECT w.event_table, w.profile_table FROM pgscore.rescoring w
              WHERE w.model_name = p_name ORDER BY w.rescoring_id
    LOOP
        RAISE NOTICE 'the profiles of % (wired from %) keep the scores another version gave them until their next event',
              r.profile_table, r.event_table
            USING HINT = format('rescore them with the live version: SELECT * FROM pgscore.rescore_profiles(%L) '
                                '(pgscore rescore --table %s)', r.event_table, r.event_table);
    END LOOP;
    RETURN v_target;
END
$fn$;
