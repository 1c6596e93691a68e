/*
 * Score one row in SQL with the live (or a pinned) version of a model, the
 * features given in the model's order (float8[]) or by name (jsonb: keys
 * matched to the model's feature names, extra keys ignored). Thin shims into
 * pgscore.pl; the model is loaded once per backend and cached by its
 * immutable model_id, and which version is live is resolved once per
 * statement, so a deployment takes effect in every session at its next
 * statement. Each prediction is written to pgscore.prediction_log (setting
 * pgscore.log_queries: all, off, or a sampling rate), hence VOLATILE; not
 * STRICT (a NULL argument is an error that names it); PARALLEL UNSAFE (they
 * run queries and write). They run with the caller's search_path: they are not
 * SECURITY DEFINER, and every query they run qualifies its tables, functions,
 * types and operators (see serving.py and auditlog.py; a test plants look-alike
 * objects ahead of pg_catalog). Migration 0019 dropped their SET search_path
 * clause, which PostgreSQL applied and undid around every call: 1.3-1.4 us, a
 * sixth of the logistic row path (docs/performance.md).
 */
CREATE FUNCTION pgscore.score(p_model text, p_features float8[], p_version integer DEFAULT NULL, p_key text DEFAULT NULL)
RETURNS float8
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
AS $pl$
@@plpython/score.py@@
$pl$;
COMMENT ON FUNCTION pgscore.score(text, float8[], integer, text) IS 'Positive-class probability (binary), top-class probability (multiclass) or value (regression); features in the model''s feature order; p_version pins a version, p_key names the entity in the audit log';

CREATE FUNCTION pgscore.score(p_model text, p_features jsonb, p_version integer DEFAULT NULL, p_key text DEFAULT NULL)
RETURNS float8
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
AS $pl$
@@plpython/score_by_name.py@@
$pl$;
COMMENT ON FUNCTION pgscore.score(text, jsonb, integer, text) IS 'Positive-class probability (binary), top-class probability (multiclass) or value (regression); features by feature name; p_version pins a version, p_key names the entity in the audit log';

CREATE FUNCTION pgscore.predict(p_model text, p_features float8[], p_version integer DEFAULT NULL, p_key text DEFAULT NULL)
RETURNS text
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
AS $pl$
@@plpython/predict.py@@
$pl$;
COMMENT ON FUNCTION pgscore.predict(text, float8[], integer, text) IS 'Predicted label (classifiers) or value (regressors), as text; features in the model''s feature order; p_version pins a version, p_key names the entity in the audit log';

CREATE FUNCTION pgscore.predict(p_model text, p_features jsonb, p_version integer DEFAULT NULL, p_key text DEFAULT NULL)
RETURNS text
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
AS $pl$
@@plpython/predict_by_name.py@@
$pl$;
COMMENT ON FUNCTION pgscore.predict(text, jsonb, integer, text) IS 'Predicted label (classifiers) or value (regressors), as text; features by feature name; p_version pins a version, p_key names the entity in the audit log';

CREATE FUNCTION pgscore.predict_proba(p_model text, p_features float8[], p_version integer DEFAULT NULL, p_key text DEFAULT NULL)
RETURNS float8[]
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
AS $pl$
@@plpython/predict_proba.py@@
$pl$;
COMMENT ON FUNCTION pgscore.predict_proba(text, float8[], integer, text) IS 'Class probabilities in the order of the model''s classes; features in the model''s feature order; p_version pins a version, p_key names the entity in the audit log';

CREATE FUNCTION pgscore.predict_proba(p_model text, p_features jsonb, p_version integer DEFAULT NULL, p_key text DEFAULT NULL)
RETURNS float8[]
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
AS $pl$
@@plpython/predict_proba_by_name.py@@
$pl$;
COMMENT ON FUNCTION pgscore.predict_proba(text, jsonb, integer, text) IS 'Class probabilities in the order of the model''s classes; features by feature name; p_version pins a version, p_key names the entity in the audit log';

/*
 * The code of a word of one of the live version's text features (migration 0123), or of the version p_version
 * pins (migration 0127; NULL: the live one, as score's p_version): its place among the words
 * the model was fitted on (pgscore.model_versions.text_categories), -1 for a word the model does not know (an
 * unknown category), NULL for NULL: what scoring by name or from a text column gives the model, for a caller
 * that builds the float8[] itself. PARALLEL UNSAFE, as feature_number: PL/Python runs each query in a
 * subtransaction, which a parallel worker, and the leader while workers run, may not start. One function, its
 * p_version defaulted (not a second overload beside the three-argument one: a call of three arguments would
 * then be ambiguous).
 */
CREATE FUNCTION pgscore.category_code(p_model text, p_feature text, p_word text, p_version integer DEFAULT NULL)
RETURNS float8
LANGUAGE plpython3u
STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $pl$
@@plpython/category_code.py@@
$pl$;
COMMENT ON FUNCTION pgscore.category_code(text, text, text, integer) IS 'The code of a word of one of the live version''s text features, or of the version p_version pins (its place among the words it was fitted on, from 0), -1 for an unknown word, NULL for NULL';

/*
 * The same for a char(n) word (migration 0127): PostgreSQL gives a char(n) blank-padded (psycopg2, COPY,
 * to_jsonb), so a model fitted on words read from such a column knows them padded, and the cast to text that
 * the text form takes cuts the blanks. This form gets the word padded, and codes it as the columns' paths do:
 * the padded word where the model knows it, else the word cut. A char(n) argument (or a domain over one)
 * resolves to it; a text, varchar or unknown-typed one to the text form.
 */
CREATE FUNCTION pgscore.category_code(p_model text, p_feature text, p_word bpchar, p_version integer DEFAULT NULL)
RETURNS float8
LANGUAGE plpython3u
STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $pl$
@@plpython/category_code_padded.py@@
$pl$;
COMMENT ON FUNCTION pgscore.category_code(text, text, bpchar, integer) IS 'The code of a char(n) word of a text feature of the live version, or of the version p_version pins: the word padded where the model knows it so, else cut; -1 for an unknown word, NULL for NULL';
