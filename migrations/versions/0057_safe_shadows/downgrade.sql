-- 0057 to 0056: set_shadow and clear_shadow as 0054 made them (running as their caller, set_shadow without
-- p_force or the check of the wired profile tables), pgscore_admin's INSERT on pgscore.shadows back, and no
-- count of a shadow's failures (the rescoring trigger and score_table of this release look for it, and warn
-- once per session without it).
DROP FUNCTION pgscore.set_shadow(text, integer, text, boolean);
CREATE FUNCTION pgscore.set_shadow(p_name text, p_version integer, p_reason text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_model_id bigint;
    v_live record;
    v_state text;
    v_message text;
    v_hint text;
BEGIN
    IF p_name IS NULL OR p_version IS NULL THEN
        RAISE EXCEPTION 'pgscore.set_shadow: model name and version must not be NULL'
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
    -- a version this server cannot load (unsigned where it signs, written with other library versions, damaged)
    -- would fail at every statement it shadows: refused now, with the loader's own reason
    BEGIN
        PERFORM pgscore.load_model(v_model_id);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT, v_hint = PG_EXCEPTION_HINT;
        IF v_state IN ('40001', '40P01', '57014', '55P03') THEN  -- the transaction's, not the version's
            RAISE;
        END IF;
        RAISE EXCEPTION 'version % of % cannot be loaded by this server, so it cannot shadow version %: %',
                p_version, quote_literal(p_name), v_live.version, v_message
            USING ERRCODE = v_state, HINT = coalesce(nullif(v_hint, ''), 'deploy it again (pgscore deploy --no-activate)');
    END;
    INSERT INTO pgscore.shadows (model_name, model_id, action, since_deployment, reason)
    VALUES (p_name, v_model_id, 'start', v_live.deployment_id, p_reason);
    RETURN v_model_id;
END
$fn$;
COMMENT ON FUNCTION pgscore.set_shadow(text, integer, text) IS 'Score a version that is not live in shadow: next to the live one wherever that one''s scores are written (rescoring trigger, score_table), logged with source ''shadow'', never served (appends to pgscore.shadows); returns its model_id';

CREATE OR REPLACE FUNCTION pgscore.clear_shadow(p_name text, p_version integer DEFAULT NULL, p_reason text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
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
        RAISE EXCEPTION 'there is no model %', quote_literal(p_name) USING ERRCODE = 'undefined_object',
            HINT = 'list models with: SELECT * FROM pgscore.model_versions';
    END IF;
    IF p_version IS NOT NULL THEN
        SELECT m.model_id INTO v_model_id FROM pgscore.models m WHERE m.name = p_name AND m.version = p_version;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'there is no version % of model %', p_version, quote_literal(p_name)
                USING ERRCODE = 'undefined_object';
        END IF;
    END IF;
    INSERT INTO pgscore.shadows (model_name, model_id, action, reason)
    SELECT s.name, s.model_id, 'stop', p_reason FROM pgscore.shadow_versions s
     WHERE s.name = p_name AND (v_model_id IS NULL OR s.model_id = v_model_id)
     ORDER BY s.version;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    IF v_n = 0 THEN
        RAISE NOTICE '% has no shadow%: nothing was changed', CASE WHEN p_version IS NULL
            THEN 'model ' || quote_literal(p_name) ELSE format('version %s of %s', p_version, quote_literal(p_name)) END,
            CASE WHEN p_version IS NULL THEN ' version' ELSE ' mark' END;
    END IF;
    RETURN v_n;
END
$fn$;
COMMENT ON FUNCTION pgscore.clear_shadow(text, integer, text) IS 'Stop scoring a version (or, without one, every version) of a model in shadow (appends to pgscore.shadows); returns how many stopped';

REVOKE EXECUTE ON FUNCTION pgscore.set_shadow(text, integer, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgscore.set_shadow(text, integer, text) TO pgscore_admin;
GRANT INSERT ON pgscore.shadows TO pgscore_admin;
DROP TABLE pgscore.shadow_failures;
