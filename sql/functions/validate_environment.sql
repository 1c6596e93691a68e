/*
 * Reports the Python environment PL/Python sees (Python, scikit-learn,
 * numpy, scipy, joblib, pgscore) and fails, naming the missing piece and the
 * fix, when pgscore or its pinned stack cannot be imported.
 */
CREATE FUNCTION pgscore.validate_environment() RETURNS jsonb
LANGUAGE plpython3u
STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $pl$
@@plpython/validate_environment.py@@
$pl$;
COMMENT ON FUNCTION pgscore.validate_environment() IS 'Versions of Python, scikit-learn, numpy, scipy, joblib and pgscore inside the database; raises if any is missing or differs from the pins';
