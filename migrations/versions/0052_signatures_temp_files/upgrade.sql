-- 0051 to 0052: a signature binds an artifact's or evaluator's bytes to its model and version ("v2:" and the
-- HMAC of the bound message); the first scheme's (the bytes alone) stay valid until pgscore.resign_models()
-- signs them again, the one UPDATE the registry's immutability trigger lets through. And predict_batch says
-- in its own words where temporary files exceeded temp_file_limit.
ALTER TABLE pgscore.artifacts DROP CONSTRAINT artifacts_hmac_check;
ALTER TABLE pgscore.artifacts ADD CONSTRAINT artifacts_hmac_check CHECK (hmac_sha256 ~ '^(v2:)?[0-9a-f]{64}$');
ALTER TABLE pgscore.evaluators DROP CONSTRAINT evaluators_hmac_check;
ALTER TABLE pgscore.evaluators ADD CONSTRAINT evaluators_hmac_check CHECK (hmac_sha256 ~ '^(v2:)?[0-9a-f]{64}$');

/*
 * Trigger function that keeps registry rows immutable: models, artifacts and
 * deployments are appended, never updated. One change only: an artifact's or
 * evaluator's signature of the first scheme (its bytes alone) replaced by one
 * of the scheme that binds it to its model and version, nothing else of the
 * row changed (pgscore.resign_models).
 */
CREATE OR REPLACE FUNCTION pgscore.forbid_mutation() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF TG_OP = 'UPDATE' AND TG_TABLE_NAME IN ('artifacts', 'evaluators') THEN
        IF OLD.hmac_sha256 !~ '^v2:' AND NEW.hmac_sha256 ~ '^v2:'
           AND to_jsonb(NEW) - 'hmac_sha256' = to_jsonb(OLD) - 'hmac_sha256' THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'pgscore.% rows are immutable: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'deploy a new version, or roll back with pgscore.rollback';
END
$fn$;
COMMENT ON FUNCTION pgscore.forbid_mutation() IS 'Trigger function: refuses UPDATE on the append-only registry tables (but a first-scheme signature replaced by a bound one, pgscore.resign_models)';


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
try:
    from pgscore.pl import resign_models
except ImportError as e:  # a server started without pgscore's environment
    plpy.error("pgscore cannot be imported by the database's Python: %s" % e, sqlstate="58P01",
               hint="restart the server with PYTHONPATH naming the site-packages directory of the environment pgscore was installed into with the server's own Python, not the venv itself (any pgscore command of that environment prints the exact value; README, 'Installing into an existing server'), then SELECT pgscore.validate_environment()")
return resign_models(plpy, GD)
$pl$;
COMMENT ON FUNCTION pgscore.resign_models() IS 'Sign again, bound to their model and version, the artifacts and evaluators signed under the first scheme (their bytes alone) whose signature verifies with the server''s key; returns each with whether it was';
REVOKE EXECUTE ON FUNCTION pgscore.resign_models() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgscore.resign_models() TO pgscore_admin;

-- predict_batch: temporary files past temp_file_limit (53400) said in pgscore's words: the model, what spilled
-- (the rows it returns, the query scored in one statement with its audit rows' features) and what to do
CREATE OR REPLACE FUNCTION pgscore.predict_batch(p_model text, p_query text, p_version integer DEFAULT NULL,
                                      p_chunk_size integer DEFAULT 10000, p_log boolean DEFAULT true,
                                      p_search_path text DEFAULT pg_catalog.current_setting('search_path'))
RETURNS TABLE (key text, score float8)
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET "DateStyle" = 'ISO'
SET "IntervalStyle" = 'postgres'
SET extra_float_digits = 1
AS $fn$
DECLARE
    v_statement text;
    v_version integer;
    v_error jsonb;
    v_detail text;
    v_hint text;
    v_schema text;
    v_table text;
    v_column text;
    v_type text;
    v_constraint text;
BEGIN
    SELECT b.statement, b.version, b.error INTO v_statement, v_version, v_error
      FROM pgscore.batch_sql(p_model, p_query, p_version, p_chunk_size, p_log, p_search_path) AS b;
    IF v_error IS NOT NULL THEN  -- as the chunks' errors: the message alone, from PL/pgSQL
        PERFORM pgscore.batch_error(v_error);
    END IF;
    IF v_statement IS NULL THEN
        BEGIN
            RETURN QUERY
            SELECT u.key, u.score
              FROM pgscore.batch_chunks(p_model, p_query, p_version, p_chunk_size, p_log, p_search_path) AS c,
                   ROWS FROM (pg_catalog.unnest(CASE WHEN c.error IS NULL THEN c.keys ELSE pgscore.batch_error(c.error) END),
                              pg_catalog.unnest(pgscore.float8_array(c.scores))) AS u(key, score);
        EXCEPTION WHEN SQLSTATE '53400' THEN  -- temporary files past temp_file_limit
            IF SQLERRM LIKE 'pgscore.predict_batch: %' THEN
                RAISE;  -- the caller's query's own, worded by the chunks
            END IF;
            RAISE EXCEPTION 'pgscore.predict_batch: model %: the rows it returns, held until it ends (and the chunks'' scores), took more temporary file space than temp_file_limit (%) allows', p_model, pg_catalog.current_setting('temp_file_limit')
                USING ERRCODE = SQLSTATE, DETAIL = 'the server said: ' || SQLERRM,
                      HINT = 'score fewer rows a call (a range of keys in the query), or write the scores back with pgscore score (pgscore.score_table), whose chunks each fit; or have a superuser raise temp_file_limit (ALTER ROLE ... SET temp_file_limit, or postgresql.conf; docs/operations-disk.md, ''Temporary space'')';
        END;
        RETURN;
    END IF;
    BEGIN
        -- the caller's query text is read with the caller's search_path; the statement qualifies every name
        -- of its own. Back to this function's own path when the block ends in an error (and when it returns)
        PERFORM pg_catalog.set_config('search_path', p_search_path, true);
        RETURN QUERY EXECUTE v_statement USING p_model, v_version;
    EXCEPTION WHEN OTHERS OR query_canceled OR assert_failure THEN
        GET STACKED DIAGNOSTICS v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT, v_schema = SCHEMA_NAME,
                                v_table = TABLE_NAME, v_column = COLUMN_NAME, v_type = PG_DATATYPE_NAME,
                                v_constraint = CONSTRAINT_NAME;
        -- every error raised again as its message, SQLSTATE, DETAIL, HINT and the object it names (a
        -- constraint's table and name, which clients read) alone: its CONTEXT quotes the statement, which
        -- holds the model's weights (a role that may score may not read them)
        v_error := pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
            'message', SQLERRM, 'sqlstate', SQLSTATE, 'detail', nullif(v_detail, ''), 'hint', nullif(v_hint, ''),
            'schema_name', nullif(v_schema, ''), 'table_name', nullif(v_table, ''), 'column_name', nullif(v_column, ''),
            'datatype_name', nullif(v_type, ''), 'constraint_name', nullif(v_constraint, '')));
        -- (pgscore's errors raised in PL/Python, batch_row's among them, begin with the name of their Python
        -- class, which no lc_messages translates, as the context's words are)
        IF SQLSTATE = '53400' THEN  -- temporary files past temp_file_limit: not run again chunk by chunk either
            RAISE EXCEPTION 'pgscore.predict_batch: model % scores this query in one statement, whose temporary files exceeded temp_file_limit (%): the query''s own sorts and hashes and the rows predict_batch returns, held until it ends%', p_model, pg_catalog.current_setting('temp_file_limit'), CASE WHEN p_log THEN ', with each row''s features kept for its audit row' ELSE '' END
                USING ERRCODE = SQLSTATE, DETAIL = 'the server said: ' || SQLERRM,
                      HINT = 'score fewer rows a call (a range of keys in the query), or write the scores back with pgscore score (pgscore.score_table), whose chunks each fit' || CASE WHEN p_log THEN '; p_log => false keeps no features for audit rows, where you need none' ELSE '' END || '; or have a superuser raise temp_file_limit (ALTER ROLE ... SET temp_file_limit, or postgresql.conf; docs/operations-disk.md, ''Temporary space'')';
        END IF;
        IF SQLSTATE NOT LIKE '22%' OR (SQLSTATE <> '22003' AND SQLERRM NOT LIKE 'pgscore: %') THEN
            -- the caller's query's own error (a division by zero, a cast it makes): the chunks would meet it
            -- again, after running the query a second time, and what it does with it (a sequence's nextval)
            PERFORM pgscore.batch_error(v_error);
        END IF;
        -- rows already returned cannot be taken back: an error ends the call. The chunks raise it as they
        -- would have (the key and how many more rows its chunk holds like it); a value out of SQL's range
        -- (beyond about 1e300 times a weight, or a product that underflows), which the chunks score, keeps
        -- PostgreSQL's own error
        PERFORM pgscore.batch_error(c.error)
           FROM pgscore.batch_chunks(p_model, p_query, v_version, p_chunk_size, false, p_search_path) AS c
          WHERE c.error IS NOT NULL;
        IF SQLSTATE = '22003' THEN
            RAISE EXCEPTION 'pgscore.predict_batch: model % scores this query in SQL, which failed: %', p_model, SQLERRM
                USING ERRCODE = SQLSTATE,
                      HINT = 'a feature value beyond about 1e300 (or one whose product with a weight underflows) is out of SQL''s range; pgscore.score scores such a row';
        END IF;
        PERFORM pgscore.batch_error(v_error);  -- not raised again chunk by chunk (rows changed in between)
    END;
END
$fn$;
COMMENT ON FUNCTION pgscore.predict_batch(text, text, integer, integer, boolean, text) IS 'Score every row of a query (first column the key, then a column per feature or one float8[] named features) in chunks, or in one SQL statement for a linear model with one output; returns key and score; the query''s names are resolved with p_search_path (default: the caller''s)';
