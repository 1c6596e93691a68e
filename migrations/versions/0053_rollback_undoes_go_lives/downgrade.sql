-- 0053 to 0052: pgscore.activate and pgscore.rollback as 0051 left them (no p_force, no load check; rollback
-- by version order), with their grants.
DROP FUNCTION pgscore.activate(text, integer, text, boolean);
DROP FUNCTION pgscore.rollback(text, integer, text, boolean);

CREATE FUNCTION pgscore.activate(p_name text, p_version integer, p_reason text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_model_id bigint;
BEGIN
    IF p_name IS NULL OR p_version IS NULL THEN
        RAISE EXCEPTION 'pgscore.activate: model name and version must not be NULL'
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
    RETURN v_model_id;
END
$fn$;
COMMENT ON FUNCTION pgscore.activate(text, integer, text) IS 'Make a version of a model live (appends a deployment); returns its model_id';

CREATE FUNCTION pgscore.rollback(p_name text, p_to_version integer DEFAULT NULL, p_reason text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_live record;
    v_current_version integer;
    v_target bigint;
BEGIN
    IF p_name IS NULL THEN
        RAISE EXCEPTION 'pgscore.rollback: model name must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_name) THEN
        RAISE EXCEPTION 'there is no model %', quote_literal(p_name) USING ERRCODE = 'undefined_object';
    END IF;
    SELECT d.model_id, d.action INTO v_live FROM pgscore.deployments d
     WHERE d.model_name = p_name ORDER BY d.deployment_id DESC LIMIT 1;
    IF p_to_version IS NOT NULL THEN
        SELECT m.model_id INTO v_target FROM pgscore.models m WHERE m.name = p_name AND m.version = p_to_version;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'there is no version % of model %', p_to_version, quote_literal(p_name)
                USING ERRCODE = 'undefined_object';
        END IF;
    ELSE
        IF v_live.model_id IS NULL OR v_live.action = 'retire' THEN
            RAISE EXCEPTION 'model % has no live version to roll back from', quote_literal(p_name)
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'name the version to make live: pgscore.rollback(name, version)';
        END IF;
        SELECT m.version INTO v_current_version FROM pgscore.models m WHERE m.model_id = v_live.model_id;
        -- the newest version below the live one that has ever been live, but not one a rollback to an older
        -- version took away the last time it was live (a challenger that did worse: migration 0051)
        SELECT m.model_id INTO v_target FROM pgscore.models m
         WHERE m.name = p_name AND m.version < v_current_version
           AND EXISTS (SELECT 1 FROM pgscore.deployments d WHERE d.model_id = m.model_id AND d.action <> 'retire')
           AND NOT EXISTS (
                SELECT 1
                  FROM (SELECT d.deployment_id FROM pgscore.deployments d
                         WHERE d.model_id = m.model_id AND d.action <> 'retire'
                         ORDER BY d.deployment_id DESC LIMIT 1) last_live
                  JOIN LATERAL (SELECT n.action, nm.version FROM pgscore.deployments n
                                  JOIN pgscore.models nm ON nm.model_id = n.model_id
                                 WHERE n.model_name = p_name AND n.deployment_id > last_live.deployment_id
                                 ORDER BY n.deployment_id LIMIT 1) ended ON true
                 WHERE ended.action = 'rollback' AND ended.version < m.version)
         ORDER BY m.version DESC LIMIT 1;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'model % has no earlier deployed version than %', quote_literal(p_name), v_current_version
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = 'A rollback goes to the newest earlier version that was live, leaving out those rolled back from.',
                      HINT = 'name the version to make live: pgscore.rollback(name, version)';
        END IF;
    END IF;
    INSERT INTO pgscore.deployments (model_name, model_id, action, reason)
    VALUES (p_name, v_target, 'rollback', p_reason);
    RETURN v_target;
END
$fn$;
COMMENT ON FUNCTION pgscore.rollback(text, integer, text) IS 'Make the previous deployed version (or the given one) live again (appends a deployment): the newest earlier version that was live, leaving out one rolled back from; returns its model_id';

REVOKE ALL ON FUNCTION pgscore.activate(text, integer, text), pgscore.rollback(text, integer, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgscore.activate(text, integer, text), pgscore.rollback(text, integer, text) TO pgscore_admin;
