-- 0127 to 0125: INSERT on the whole of pgscore.prediction_log for the application and the administrator again
-- (logged_at included), as 0125 left it.

REVOKE INSERT (model_id, entity_key, features, score, label, source, cause) ON pgscore.prediction_log
    FROM pgscore_app, pgscore_admin;
GRANT INSERT ON pgscore.prediction_log TO pgscore_app, pgscore_admin;

-- category_code of a char(n) word goes (a char(n) argument is cast to text again, cut)
DROP FUNCTION pgscore.category_code(text, text, bpchar, integer);

-- category_code without p_version, the live version's codes alone, as 0123 made it (comment and grants too).
DROP FUNCTION pgscore.category_code(text, text, text, integer);

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
