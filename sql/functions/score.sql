/*
 * Score one row in SQL with the live (or a pinned) version of a model. Thin
 * shims into pgscore.pl; the model is loaded once per backend and cached by
 * its immutable model_id, while which version is live is looked up on every
 * call, so a deployment takes effect in every session at its next statement.
 * STABLE (they read the registry), not STRICT (NULL arguments are errors
 * that name what is missing), PARALLEL UNSAFE (they run queries).
 */
CREATE FUNCTION pgscore.score(p_model text, p_features float8[], p_version integer DEFAULT NULL)
RETURNS float8
LANGUAGE plpython3u
STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $pl$
@@plpython/score.py@@
$pl$;
COMMENT ON FUNCTION pgscore.score(text, float8[], integer) IS 'Positive-class probability (binary), top-class probability (multiclass) or value (regression) for one feature vector';

CREATE FUNCTION pgscore.predict(p_model text, p_features float8[], p_version integer DEFAULT NULL)
RETURNS text
LANGUAGE plpython3u
STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $pl$
@@plpython/predict.py@@
$pl$;
COMMENT ON FUNCTION pgscore.predict(text, float8[], integer) IS 'Predicted label (classifiers) or value (regressors), as text';

CREATE FUNCTION pgscore.predict_proba(p_model text, p_features float8[], p_version integer DEFAULT NULL)
RETURNS float8[]
LANGUAGE plpython3u
STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $pl$
@@plpython/predict_proba.py@@
$pl$;
COMMENT ON FUNCTION pgscore.predict_proba(text, float8[], integer) IS 'Class probabilities in the order of the model''s classes';
