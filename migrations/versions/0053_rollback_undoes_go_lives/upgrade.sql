-- 0052 to 0053: pgscore.rollback without a version undoes the last go-live, following pgscore.deployments
-- (before, the newest earlier version by version number, which could be one the operator had skipped);
-- activate and rollback refuse a version this server cannot load (pgscore.load_model), unless p_force.
-- A new argument: dropped and created again, with their grants (old callers' positional arguments work).
DROP FUNCTION pgscore.activate(text, integer, text);
DROP FUNCTION pgscore.rollback(text, integer, text);

CREATE FUNCTION pgscore.activate(p_name text, p_version integer, p_reason text DEFAULT NULL,
                                 p_force boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET pgscore.allow_version_mismatch = off
AS $fn$
DECLARE
    v_model_id bigint;
    v_state text;
    v_msg text;
    v_detail text;
    v_hint text;
BEGIN
    IF p_name IS NULL OR p_version IS NULL OR p_force IS NULL THEN
        RAISE EXCEPTION 'pgscore.activate: model name, version and p_force must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_name) THEN
        RAISE EXCEPTION 'there is no model %', quote_literal(p_name) USING ERRCODE = 'undefined_object';
    END IF;
    SELECT m.model_id INTO v_model_id FROM pgscore.models m WHERE m.name = p_name AND m.version = p_version;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'there is no version % of model %', p_version, quote_literal(p_name)
            USING ERRCODE = 'undefined_object';
    END IF;
    INSERT INTO pgscore.deployments (model_name, model_id, action, reason)
    VALUES (p_name, v_model_id, 'deploy', p_reason);
    IF NOT p_force THEN
        -- the server loads it as a session's first score would (pgscore.load_model: sha256, signature, the
        -- scikit-learn/numpy it was written with against the server's, unpickling), pgscore.allow_version_mismatch
        -- off whatever this session set (the function's SET: other sessions score it): a version it cannot load,
        -- live, fails every score of it and queues every rescored profile. After the row, which its error undoes:
        -- the deployments' trigger refuses first what it refuses (signing on or off as the version is not), with
        -- its own hint
        BEGIN
            PERFORM pgscore.load_model(v_model_id);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT,
                                    v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT;
            IF v_state IN ('40001', '40P01', '57014', '55P03') THEN  -- the transaction's, not the version's
                RAISE;
            END IF;
            RAISE EXCEPTION 'version % of % cannot be made live: this server cannot load it: %', p_version,
                    quote_literal(p_name), regexp_replace(v_msg, '^pgscore: ', '')
                USING ERRCODE = v_state,
                      DETAIL = coalesce(nullif(v_detail, ''), 'pgscore.load_model failed, as every score of it would'),
                      HINT = concat_ws('; ', nullif(v_hint, ''), format(
                          'to make it live anyway (every score of it fails while this server cannot load it): '
                          'pgscore.activate(%L, %s, p_force => true) (pgscore activate %s %s --force)',
                          p_name, p_version, p_name, p_version));
        END;
    END IF;
    RETURN v_model_id;
END
$fn$;
COMMENT ON FUNCTION pgscore.activate(text, integer, text, boolean) IS 'Make a version of a model live (appends a deployment); returns its model_id. Refused where this server cannot load the version (pgscore.load_model fails: signature, the library versions it was written with, unpickling) unless p_force';

/*
 * A rollback undoes go-lives, following pgscore.deployments (the order things
 * went live, not version numbers). The history read as a stack of versions:
 * a deploy or activate pushes its version; a rollback to a version on the
 * stack pops everything above its last entry and removes the popped versions
 * from the rest of the stack too (rolled back from); a rollback to one not on
 * it pushes it (a roll forward: nothing is taken away); a retire changes
 * nothing (the model has no live version until one is made live, and what
 * was live before it stays on the stack). Without a version, a rollback makes
 * live the top of the stack once the live version is removed from it: the
 * version live before the current one last went live, leaving out those
 * rolled back from (v1, v2, v3 live: v2, then v1; v1, v2, v3, rollback to
 * v1, v4: v1, not v2).
 */
CREATE FUNCTION pgscore.rollback(p_name text, p_to_version integer DEFAULT NULL, p_reason text DEFAULT NULL,
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
    v_state text;
    v_msg text;
    v_detail text;
    v_hint text;
BEGIN
    IF p_name IS NULL OR p_force IS NULL THEN
        RAISE EXCEPTION 'pgscore.rollback: model name and p_force must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_name) THEN
        RAISE EXCEPTION 'there is no model %', quote_literal(p_name) USING ERRCODE = 'undefined_object';
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
                USING ERRCODE = 'undefined_object';
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
        BEGIN
            PERFORM pgscore.load_model(v_target);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT,
                                    v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT;
            IF v_state IN ('40001', '40P01', '57014', '55P03') THEN  -- the transaction's, not the version's
                RAISE;
            END IF;
            SELECT m.version INTO v_version FROM pgscore.models m WHERE m.model_id = v_target;
            IF p_to_version IS NULL THEN  -- the one a rollback from there would go to, for the hint
                SELECT m.version INTO v_next FROM pgscore.models m
                 WHERE m.model_id = (array_remove(v_stack, v_target))[cardinality(array_remove(v_stack, v_target))];
            END IF;
            RAISE EXCEPTION 'version % of % cannot be made live: this server cannot load it: %', v_version,
                    quote_literal(p_name), regexp_replace(v_msg, '^pgscore: ', '')
                USING ERRCODE = v_state,
                      DETAIL = coalesce(nullif(v_detail, ''), 'pgscore.load_model failed, as every score of it would'),
                      HINT = concat_ws('; ', nullif(v_hint, ''),
                          CASE WHEN v_next IS NOT NULL
                               THEN format('roll back to the version before it: pgscore.rollback(%L, %s) (pgscore rollback %s --to %s)',
                                           p_name, v_next, p_name, v_next) END,
                          format('to make it live anyway (every score of it fails while this server cannot load it): '
                                 'pgscore.rollback(%L, %s, p_force => true) (pgscore rollback %s --to %s --force)', p_name, v_version,
                                 p_name, v_version));
        END;
    END IF;
    RETURN v_target;
END
$fn$;
COMMENT ON FUNCTION pgscore.rollback(text, integer, text, boolean) IS 'Undo the last go-live (appends a deployment): make live the version that was live before the live one went live, following pgscore.deployments and leaving out versions rolled back from (or the given version); refused where this server cannot load it unless p_force; returns its model_id';

REVOKE ALL ON FUNCTION pgscore.activate(text, integer, text, boolean), pgscore.rollback(text, integer, text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgscore.activate(text, integer, text, boolean), pgscore.rollback(text, integer, text, boolean) TO pgscore_admin;
