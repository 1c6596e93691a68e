-- 0123 text_categories: a model whose encoders (OneHotEncoder, OrdinalEncoder, TargetEncoder) were fitted on words
-- deploys as trained: deploy stores it converted to take each word's code (its place among the encoder's
-- categories) and keeps each text feature's words here; scoring by name and from a text column codes a word, and
-- pgscore.category_code gives the code to a caller that builds the float8[] itself
-- (IF NOT EXISTS: the downgrade keeps the column where a version has words, the registry's rows being immutable)
ALTER TABLE pgscore.models ADD COLUMN IF NOT EXISTS text_categories jsonb;
COMMENT ON COLUMN pgscore.models.text_categories IS 'Each text feature''s words, in the order of their codes (a word''s code is its place, from 0): {"plan": ["basic", "plus", "pro"]}; NULL when the model takes no words (migration 0123)';

-- (the column at the end: CREATE OR REPLACE keeps the view's grants and its columns' comments)
CREATE OR REPLACE VIEW pgscore.model_versions AS
SELECT m.model_id, m.name, m.version, m.task, m.estimator, m.feature_names, m.feature_types,
       m.classes, m.env, m.metrics, m.n_train, m.description, m.created_at, m.created_by,
       a.sha256, a.hmac_sha256 IS NOT NULL AS signed,
       coalesce(l.model_id = m.model_id AND l.action <> 'retire', false) AS live,
       CASE WHEN e.bytes IS NOT NULL THEN 'numpy' ELSE 'scikit-learn' END AS engine,
       CASE WHEN e.bytes IS NOT NULL
            THEN format('compiled, equal to scikit-learn on %s rows (max difference %s)', e.checked_rows, e.max_abs_diff)
            ELSE coalesce(e.reason, 'deployed before evaluators existed') END AS engine_note,
       EXISTS (SELECT 1 FROM pgscore.shadow_versions s WHERE s.name = m.name AND s.model_id = m.model_id) AS shadow,
       m.text_categories
  FROM pgscore.models m
  JOIN pgscore.artifacts a ON a.model_id = m.model_id
  LEFT JOIN pgscore.evaluators e ON e.model_id = m.model_id
  LEFT JOIN LATERAL (
        SELECT d.model_id, d.action FROM pgscore.deployments d
         WHERE d.model_name = m.name ORDER BY d.deployment_id DESC LIMIT 1) l ON true;
COMMENT ON COLUMN pgscore.model_versions.text_categories IS 'Each text feature''s words, in the order of their codes (migration 0123): scoring codes a word given by name, or in a text column, as its place among them; NULL when the model takes no words';

CREATE FUNCTION pgscore.category_code(p_model text, p_feature text, p_word text)
RETURNS float8
LANGUAGE plpython3u
STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $pl$
if "f" not in SD:
    try:
        from pgscore.pl import category_code as f
    except ImportError as e:  # a server started without pgscore's environment
        plpy.error("pgscore cannot be imported by the database's Python: %s" % e, sqlstate="58P01",
                   hint="restart the server with PYTHONPATH naming the site-packages directory of the environment pgscore was installed into with the server's own Python, not the venv itself (any pgscore command of that environment prints the exact value; README, 'Installing into an existing server'), then SELECT pgscore.validate_environment()")
    SD["f"] = f
return SD["f"](plpy, GD, p_model, p_feature, p_word)
$pl$;
COMMENT ON FUNCTION pgscore.category_code(text, text, text) IS 'The code of a word of one of the live version''s text features (its place among the words it was fitted on, from 0), -1 for an unknown word, NULL for NULL';
REVOKE EXECUTE ON FUNCTION pgscore.category_code(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgscore.category_code(text, text, text) TO pgscore_app, pgscore_admin;
