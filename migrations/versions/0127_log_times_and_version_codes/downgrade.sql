-- 0127 to 0126: INSERT on the whole of pgscore.prediction_log for the application and the administrator again
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

-- check_period_kind's HINT naming p_period to every caller, as 0125 left it
CREATE OR REPLACE FUNCTION pgscore.check_period_kind(p_function text, p_period_kind text)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    -- monitoring_periods' period_kind; and performance_stats_of's own (migration 0125), which its error names:
    -- it said "must be 'window' or 'day', or NULL for all" to a caller of outcome_window who mistyped it
    v_perf  CONSTANT boolean := p_function IS NOT DISTINCT FROM 'pgscore.performance_stats_of';
    v_kinds CONSTANT text[] := ARRAY['window', 'day']
                               || CASE WHEN v_perf THEN ARRAY['outcome_window', 'both_windows'] ELSE '{}' END;
BEGIN
    IF p_period_kind IS NULL OR p_period_kind = ANY (v_kinds) THEN
        RETURN p_period_kind;
    END IF;
    RAISE EXCEPTION '%: p_period_kind must be %, or NULL for %; got %', coalesce(p_function, 'pgscore'),
          (SELECT string_agg(quote_literal(k), ' or ' ORDER BY i) FROM unnest(v_kinds) WITH ORDINALITY u(k, i)),
          CASE WHEN v_perf THEN 'window and day' ELSE 'all' END, quote_literal(p_period_kind)
        USING ERRCODE = 'invalid_parameter_value',
              HINT = 'p_period, a window''s name or a UTC day (YYYY-MM-DD), picks one period of that kind';
END
$fn$;
