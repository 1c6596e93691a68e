/*
 * Load one model version into this backend's cache. It is the only code
 * that reads artifact and evaluator bytes, and runs as its owner (SECURITY
 * DEFINER) for that reason: the roles that score (pgscore_app) may read the
 * registry's metadata but not the bytes. It returns the engine only, never
 * the bytes; calling it directly just warms the cache. The scoring functions
 * call it on a cache miss.
 */
CREATE FUNCTION pgscore.load_model(p_model_id bigint)
RETURNS text
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $pl$
@@plpython/load_model.py@@
$pl$;
COMMENT ON FUNCTION pgscore.load_model(bigint) IS 'Load a model version (by model_id) into this backend''s cache after verifying its sha256 (and signature, when signing is on); returns its engine (numpy or scikit-learn). Runs as its owner so that only it reads artifact bytes';
