-- 0052 to 0051: the previous revision verifies a signature of the bytes alone only: the signatures bound to a
-- model and version are dropped (a server with signing on then refuses those versions as unsigned, and pgscore
-- status names the live ones: deploy them again), with a warning saying how many. predict_batch leaves
-- temporary files past temp_file_limit to the server's own words again.
DO $do$
DECLARE
    v_artifacts bigint;
    v_evaluators bigint;
BEGIN
    ALTER TABLE pgscore.artifacts DISABLE TRIGGER artifacts_immutable;
    ALTER TABLE pgscore.evaluators DISABLE TRIGGER evaluators_immutable;
    UPDATE pgscore.artifacts SET hmac_sha256 = NULL WHERE hmac_sha256 ~ '^v2:';
    GET DIAGNOSTICS v_artifacts = ROW_COUNT;
    UPDATE pgscore.evaluators SET hmac_sha256 = NULL WHERE hmac_sha256 ~ '^v2:';
    GET DIAGNOSTICS v_evaluators = ROW_COUNT;
    ALTER TABLE pgscore.artifacts ENABLE TRIGGER artifacts_immutable;
    ALTER TABLE pgscore.evaluators ENABLE TRIGGER evaluators_immutable;
    IF v_artifacts + v_evaluators > 0 THEN
        RAISE WARNING '% artifact(s) and % evaluator(s) were signed bound to their model and version, which this revision cannot verify: they are unsigned now', v_artifacts, v_evaluators
            USING HINT = 'with signing on, the server refuses them: deploy those versions again (pgscore deploy), which signs them';
    END IF;
END
$do$;
ALTER TABLE pgscore.artifacts DROP CONSTRAINT artifacts_hmac_check;
ALTER TABLE pgscore.artifacts ADD CONSTRAINT artifacts_hmac_check CHECK (hmac_sha256 ~ '^[0-9a-f]{64}$');
ALTER TABLE pgscore.evaluators DROP CONSTRAINT evaluators_hmac_check;
ALTER TABLE pgscore.evaluators ADD CONSTRAINT evaluators_hmac_check CHECK (hmac_sha256 ~ '^[0-9a-f]{64}$');

DROP FUNCTION pgscore.resign_models();

CREATE OR REPLACE FUNCTION pgscore.forbid_mutation() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    RAISE EXCEPTION 'pgscore.% rows are immutable: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'deploy a new version, or roll back with pgscore.rollback';
END
$fn$;
COMMENT ON FUNCTION pgscore.forbid_mutation() IS 'Trigger function: refuses UPDATE on the append-only registry tables';

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
        RETURN QUERY
        SELECT u.key, u.score
          FROM pgscore.batch_chunks(p_model, p_query, p_version, p_chunk_size, p_log, p_search_path) AS c,
               ROWS FROM (pg_catalog.unnest(CASE WHEN c.error IS NULL THEN c.keys ELSE pgscore.batch_error(c.error) END),
                          pg_catalog.unnest(pgscore.float8_array(c.scores))) AS u(key, score);
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
