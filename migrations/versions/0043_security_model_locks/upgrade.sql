-- 0042 to 0043: deploys and retires of one model queue on the name's row of pgscore.model_locks, which only
-- pgscore_admin may lock, instead of the advisory lock (hashtext('pgscore.models'), hashtext(name)), which any
-- role that may connect can take: a login granted nothing held every deploy and retire of a model for ever.
-- (register_model's Python takes the row where the table exists.)
CREATE TABLE pgscore.model_locks (
    name text PRIMARY KEY
);
COMMENT ON TABLE pgscore.model_locks IS 'Internal: a row per model name, locked by register_model and retire so that one name''s deploys and retires queue; only pgscore_admin may lock it';
GRANT SELECT, INSERT, UPDATE ON pgscore.model_locks TO pgscore_admin;
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
        RAISE EXCEPTION 'there is no model %', quote_literal(p_name) USING ERRCODE = 'undefined_object';
    END IF;
    IF v_action = 'retire' THEN  -- a second retire would only append another to its history (before 0038)
        RAISE NOTICE 'model % has no live version already (retired %): nothing was changed', quote_literal(p_name), v_at;
        RETURN;
    END IF;
    INSERT INTO pgscore.deployments (model_name, model_id, action, reason)
    VALUES (p_name, v_model_id, 'retire', p_reason);
END
$fn$;
COMMENT ON FUNCTION pgscore.retire(text, text) IS 'Leave a model with no live version (appends a retire row; a model retired already is left as it is, with a notice); scoring it then fails until a version is activated';
