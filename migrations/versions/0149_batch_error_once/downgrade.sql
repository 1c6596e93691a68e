-- 0149 to 0145: predict_batch as 0052 made it (its query run again chunk by chunk on batch_row's error or 22003)

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

REVOKE EXECUTE ON FUNCTION pgscore.drift_counts_of(bigint[], text, text) FROM pgscore_admin;
