/*
 * Stores one new model version (called by pgscore.deploy on the client):
 * checks the bytes against their sha256, signs them with the server's key
 * when pgscore.signing_key_file is set in the server configuration, and
 * appends the model, artifact, baseline and (optionally) deployment rows.
 */
CREATE FUNCTION pgscore.register_model(
    p_name text, p_artifact bytea, p_sha256 text, p_meta jsonb, p_baselines jsonb,
    p_activate boolean DEFAULT true, p_reason text DEFAULT NULL)
RETURNS TABLE (model_id bigint, version integer)
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $pl$
@@plpython/register_model.py@@
$pl$;
COMMENT ON FUNCTION pgscore.register_model(text, bytea, text, jsonb, jsonb, boolean, text) IS 'Store the next version of a model (bytes checked against sha256, signed when a key is configured); used by pgscore.deploy';
