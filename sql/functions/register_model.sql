/*
 * Stores one new model version (called by pgscore.deploy on the client):
 * checks the bytes (and the compiled evaluator's) against their sha256,
 * signs them with the server's key when PGSCORE_SIGNING_KEY_FILE is set in
 * the server's environment, and appends the model, artifact, evaluator,
 * baseline and (optionally) deployment rows.
 */
CREATE FUNCTION pgscore.register_model(
    p_name text, p_artifact bytea, p_sha256 text, p_meta jsonb, p_baselines jsonb,
    p_activate boolean DEFAULT true, p_reason text DEFAULT NULL,
    p_evaluator bytea DEFAULT NULL, p_evaluator_meta jsonb DEFAULT NULL)
RETURNS TABLE (model_id bigint, version integer)
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $pl$
@@plpython/register_model.py@@
$pl$;
COMMENT ON FUNCTION pgscore.register_model(text, bytea, text, jsonb, jsonb, boolean, text, bytea, jsonb) IS 'Store the next version of a model (bytes checked against sha256, signed when a key is configured) with its compiled evaluator; used by pgscore.deploy';

/*
 * Signs again every artifact and evaluator signed under the first scheme (the
 * HMAC of its bytes alone, which verified wherever those bytes were copied:
 * another model, another version), bound to its model and version as deploy
 * signs now, once that signature verifies with the server's key; those that
 * do not verify are left as they are and returned with why. Runs as its owner:
 * it reads the bytes, as load_model does.
 */
CREATE FUNCTION pgscore.resign_models()
RETURNS TABLE (name text, version integer, kind text, resigned boolean, reason text)
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $pl$
@@plpython/resign_models.py@@
$pl$;
COMMENT ON FUNCTION pgscore.resign_models() IS 'Sign again, bound to their model and version, the artifacts and evaluators signed under the first scheme (their bytes alone) whose signature verifies with the server''s key; returns each with whether it was';
