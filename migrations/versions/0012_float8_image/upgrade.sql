-- 0012 features leave PostgreSQL for PL/Python (predict_batch, score_table's chunks read through
-- Python, the rescoring trigger's read) as the float8[]'s own bytes instead of array_send's: about
-- half the cost of moving a row (docs/performance.md). The code checks for the function once per
-- backend and uses array_send where it is missing (a schema before 0012).

-- sql/functions/batch.sql
-- A float8[]'s own bytes as bytea, for moving features into PL/Python: byteasend, the identity on a
-- varlena's contents (it detoasts and copies), taking the array as its argument. No per-element send
-- function, byte swap or length as pg_catalog.array_send has; pgscore.batch reads the layout, checks
-- its header (dimensions, element type, NULL bitmap) and falls back to walking it.
CREATE FUNCTION pgscore.float8_image(p_values float8[])
RETURNS bytea
LANGUAGE internal
IMMUTABLE STRICT PARALLEL SAFE
AS 'byteasend';
COMMENT ON FUNCTION pgscore.float8_image(float8[]) IS 'Internal: the array''s bytes as PostgreSQL keeps them (header, NULL bitmap, values in the machine''s byte order), which pgscore''s batch and rescoring paths decode with numpy';

-- everyone may run it, as everyone may run array_send: it returns the bytes of an array its caller
-- already has, and roles of yours granted predict_batch or INSERT on a wired table read through it
-- (revoked first, as roles.sql revokes every routine of the schema, so that its privileges read the same)
REVOKE EXECUTE ON FUNCTION pgscore.float8_image(float8[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgscore.float8_image(float8[]) TO PUBLIC;

-- retire(NULL) names the NULL (22004) instead of looking up a model called NULL

-- sql/functions/deployments.sql
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
        RAISE EXCEPTION 'model % has never been deployed', quote_literal(coalesce(p_name, 'NULL'))
            USING ERRCODE = 'undefined_object';
    END IF;
    INSERT INTO pgscore.deployments (model_name, model_id, action, reason)
    VALUES (p_name, v_model_id, 'retire', p_reason);
END
$fn$;
