-- 0126 to 0127 log_times_and_version_codes: the application and the administrator insert into pgscore.prediction_log
-- every column but logged_at, which takes its default, the transaction's now(): a row they write by hand can no
-- longer be back-dated (or post-dated) into the windows drift and performance read. The scoring paths that write as
-- their caller (predict_batch, score_chunk and score_table, rescoring's trigger, retry_failed, refresh_windows,
-- backfill_rescoring) list these columns alone; flush_query_log writes as the log's owner.

REVOKE INSERT ON pgscore.prediction_log FROM pgscore_app, pgscore_admin;
GRANT INSERT (model_id, entity_key, features, score, label, source, cause) ON pgscore.prediction_log
    TO pgscore_app, pgscore_admin;

-- category_code takes p_version (appended, DEFAULT NULL: the live version, as before; every positional and named
-- call of three arguments keeps working): a version pinned as score's p_version pins it (one deployed
-- --no-activate, a shadow, an older one) may have words of its own. The three-argument function is dropped, not
-- kept beside it (a call of three arguments would be ambiguous), and the new one made with its grants.
DROP FUNCTION pgscore.category_code(text, text, text);

CREATE FUNCTION pgscore.category_code(p_model text, p_feature text, p_word text, p_version integer DEFAULT NULL)
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
return SD["f"](plpy, GD, p_model, p_feature, p_word, p_version)
$pl$;
COMMENT ON FUNCTION pgscore.category_code(text, text, text, integer) IS 'The code of a word of one of the live version''s text features, or of the version p_version pins (its place among the words it was fitted on, from 0), -1 for an unknown word, NULL for NULL';
REVOKE EXECUTE ON FUNCTION pgscore.category_code(text, text, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgscore.category_code(text, text, text, integer) TO pgscore_app, pgscore_admin;

-- category_code of a char(n) word: the word blank-padded, as PostgreSQL gives it, coded as the columns' paths
-- code it (the padded word where the model knows it so, else the word cut); before, a char(n) argument was cast to
-- text, cut, and a model fitted on the padded words gave it -1. A char(n) argument resolves to this form, a text,
-- varchar or unknown-typed one to the text form.
CREATE FUNCTION pgscore.category_code(p_model text, p_feature text, p_word bpchar, p_version integer DEFAULT NULL)
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
return SD["f"](plpy, GD, p_model, p_feature, p_word, p_version, True)
$pl$;
COMMENT ON FUNCTION pgscore.category_code(text, text, bpchar, integer) IS 'The code of a char(n) word of a text feature of the live version, or of the version p_version pins: the word padded where the model knows it so, else cut; -1 for an unknown word, NULL for NULL';
REVOKE EXECUTE ON FUNCTION pgscore.category_code(text, text, bpchar, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgscore.category_code(text, text, bpchar, integer) TO pgscore_app, pgscore_admin;

-- check_period_kind's HINT names p_period only to drift_counts and drift_counts_of, which take it (to
-- drift_stats_of and performance_stats_of, which take none, it named it too); the rest as 0125 left it
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
              -- (p_period is drift_counts' and drift_counts_of's alone: drift_stats_of and performance_stats_of
              -- take none, and their hint named it before 0127)
              HINT = CASE WHEN p_function IN ('pgscore.drift_stats_of', 'pgscore.performance_stats_of')
                          THEN 'each row''s period, a window''s name or a UTC day (YYYY-MM-DD), names one period '
                               'of its kind: filter the rows by it'
                          ELSE 'p_period, a window''s name or a UTC day (YYYY-MM-DD), picks one period of that kind'
                     END;
END
$fn$;
