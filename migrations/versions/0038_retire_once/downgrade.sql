-- 0038 to 0037: retire as before.
CREATE OR REPLACE FUNCTION pgscore.retire(p_name text, p_reason text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_model_id bigint;
BEGIN
    IF p_name IS NULL THEN
        RAISE EXCEPTION 'pgscore.retire: model name must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT d.model_id INTO v_model_id FROM pgscore.deployments d
     WHERE d.model_name = p_name ORDER BY d.deployment_id DESC LIMIT 1;
    IF NOT FOUND THEN
        IF EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_name) THEN  -- stored, never made live
            RAISE EXCEPTION 'model % has no live version to retire: none of its versions was ever made live',
                  quote_literal(p_name) USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
        RAISE EXCEPTION 'there is no model %', quote_literal(p_name) USING ERRCODE = 'undefined_object';
    END IF;
    INSERT INTO pgscore.deployments (model_name, model_id, action, reason)
    VALUES (p_name, v_model_id, 'retire', p_reason);
END
$fn$;
COMMENT ON FUNCTION pgscore.retire(text, text) IS 'Leave a model with no live version (appends a retire row); scoring it then fails until a version is activated';
