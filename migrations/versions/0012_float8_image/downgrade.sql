-- 0012 down: features leave PostgreSQL through array_send again. A backend that found the function
-- keeps looking for it and fails (42883) on its next batch or rescoring until it reconnects: reconnect
-- pooled sessions after downgrading

DROP FUNCTION pgscore.float8_image(float8[]);

CREATE OR REPLACE FUNCTION pgscore.retire(p_name text, p_reason text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_model_id bigint;
BEGIN
    SELECT d.model_id INTO v_model_id FROM pgscore.deployments d
     WHERE d.model_name = p_name ORDER BY d.deployment_id DESC LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'model % has never been deployed', quote_literal(coalesce(p_name, 'NULL'))
            USING ERRCODE = 'undefined_object';
    END IF;
    INSERT INTO pgscore.deployments (model_name, model_id, action, reason)
    VALUES (p_name, v_model_id, 'retire', p_reason);
END
$fn$;
