-- 0026 to 0027: predict_batch of a linear model with one output scores the whole query in one SQL
-- statement, which also writes the audit rows (batch_sql writes it, batch_row scores a row SQL cannot),
-- instead of moving every row through PL/Python chunk by chunk; other models go chunk by chunk as before.
-- predict_batch is now PL/pgSQL, with batch_chunks' fixed output settings for the keys' text.
-- create_log_partitions grants SELECT on the partitions it makes to pgscore_admin, as install grants every
-- table of the schema (those made later had no grant: the administrator read them through the log only).

-- A linear model with one output: predict_batch runs one statement over the whole query that scores in
-- SQL and writes the audit rows (batch_sql writes it: the caller's query with the model's arithmetic
-- around it), no row through PL/Python but one SQL cannot score (a NaN or an infinity, a NULL, an array
-- of the wrong shape), which batch_row scores as the chunks would, or fails with their error (migration 0027)
CREATE FUNCTION pgscore.batch_sql(p_model text, p_query text, p_version integer, p_chunk_size integer, p_log boolean,
                                  p_search_path text)
RETURNS TABLE (statement text, version integer, error jsonb)
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $pl$
try:
    from pgscore.pl import batch_sql
except ImportError as e:  # a server started without pgscore's environment
    plpy.error("pgscore cannot be imported by the database's Python: %s" % e, sqlstate="58P01",
               hint="restart the server with PYTHONPATH naming the site-packages directory of the environment pgscore was installed into with the server's own Python, not the venv itself (any pgscore command of that environment prints the exact value; README, 'Installing into an existing server'), then SELECT pgscore.validate_environment()")
return batch_sql(plpy, GD, p_model, p_query, p_version, p_chunk_size, p_log, p_search_path)
$pl$;
COMMENT ON FUNCTION pgscore.batch_sql(text, text, integer, integer, boolean, text) IS 'Internal: checks predict_batch''s arguments and returns the statement that scores p_query in SQL (NULL where it goes chunk by chunk: another model) and the version it scores with, or the error it found; use pgscore.predict_batch';

CREATE FUNCTION pgscore.batch_row(p_model text, p_version integer, p_key text, p_features bytea)
RETURNS float8
LANGUAGE plpython3u
STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $pl$
try:
    from pgscore.pl import batch_row
except ImportError as e:  # a server started without pgscore's environment
    plpy.error("pgscore cannot be imported by the database's Python: %s" % e, sqlstate="58P01",
               hint="restart the server with PYTHONPATH naming the site-packages directory of the environment pgscore was installed into with the server's own Python, not the venv itself (any pgscore command of that environment prints the exact value; README, 'Installing into an existing server'), then SELECT pgscore.validate_environment()")
return batch_row(plpy, GD, p_model, p_version, p_key, p_features)
$pl$;
COMMENT ON FUNCTION pgscore.batch_row(text, integer, text, bytea) IS 'Internal: the score of one row predict_batch''s statement could not score in SQL (features as pgscore.float8_image gives them), or the error that names its key; use pgscore.predict_batch';

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
    EXCEPTION WHEN data_exception THEN
        -- rows already returned cannot be taken back: an error ends the call. The chunks raise it as they
        -- would have (the key and how many more rows its chunk holds like it); a value out of SQL's range
        -- (beyond about 1e300 times a weight, or a product that underflows), which the chunks score, keeps
        -- PostgreSQL's own error
        SELECT c.error INTO v_error
          FROM pgscore.batch_chunks(p_model, p_query, v_version, p_chunk_size, false, p_search_path) AS c
         WHERE c.error IS NOT NULL;
        IF v_error IS NOT NULL THEN
            PERFORM pgscore.batch_error(v_error);
        END IF;
        IF SQLSTATE = '22003' THEN
            RAISE EXCEPTION 'pgscore.predict_batch: model % scores this query in SQL, which failed: %', p_model, SQLERRM
                USING ERRCODE = SQLSTATE,
                      HINT = 'a feature value beyond about 1e300 (or one whose product with a weight underflows) is out of SQL''s range; pgscore.score scores such a row';
        END IF;
        RAISE;  -- not raised again chunk by chunk (a query whose rows changed in between): as it was
    END;
END
$fn$;
COMMENT ON FUNCTION pgscore.predict_batch(text, text, integer, integer, boolean, text) IS 'Score every row of a query (first column the key, then a column per feature or one float8[] named features) in chunks, or in one SQL statement for a linear model with one output; returns key and score; the query''s names are resolved with p_search_path (default: the caller''s)';

REVOKE EXECUTE ON FUNCTION pgscore.batch_sql(text, text, integer, integer, boolean, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION pgscore.batch_row(text, integer, text, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    pgscore.batch_sql(text, text, integer, integer, boolean, text), pgscore.batch_row(text, integer, text, bytea)
    TO pgscore_app, pgscore_admin;

-- sql/functions/log_partitions.sql: a partition made after install gets the grant install gives every table
CREATE OR REPLACE FUNCTION pgscore.create_log_partitions(p_days integer DEFAULT 7,
                                              p_from date DEFAULT (now() AT TIME ZONE 'UTC')::date)
RETURNS integer
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_day date;
    v_name text;
    v_lo timestamptz;
    v_hi timestamptz;
    v_created integer := 0;
BEGIN
    IF p_days IS NULL OR p_from IS NULL OR p_days < 0 OR p_days > 366 THEN
        RAISE EXCEPTION 'pgscore.create_log_partitions: p_days must be between 0 and 366 and p_from not NULL (got %, %)',
            p_days, p_from USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR i IN 0..p_days LOOP
        v_day := p_from + i;
        v_name := 'prediction_log_' || to_char(v_day, 'YYYYMMDD');
        CONTINUE WHEN to_regclass(format('pgscore.%I', v_name)) IS NOT NULL;
        v_lo := v_day::timestamp AT TIME ZONE 'UTC';
        v_hi := (v_day + 1)::timestamp AT TIME ZONE 'UTC';
        EXECUTE format('CREATE TABLE pgscore.%I (LIKE pgscore.prediction_log INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', v_name);
        EXECUTE format('WITH moved AS (DELETE FROM pgscore.prediction_log_default WHERE logged_at >= %L AND logged_at < %L RETURNING *) '
                       'INSERT INTO pgscore.%I SELECT * FROM moved', v_lo, v_hi, v_name);
        EXECUTE format('ALTER TABLE pgscore.prediction_log ATTACH PARTITION pgscore.%I FOR VALUES FROM (%L) TO (%L)',
                       v_name, v_lo, v_hi);
        -- as install grants every table of the schema (migration 0027: the partitions made later had no grant)
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'pgscore_admin') THEN
            EXECUTE format('GRANT SELECT ON pgscore.%I TO pgscore_admin', v_name);
        END IF;
        v_created := v_created + 1;
    END LOOP;
    RETURN v_created;
END
$fn$;
COMMENT ON FUNCTION pgscore.create_log_partitions(integer, date) IS 'Create the daily partitions of pgscore.prediction_log from p_from (UTC) for p_days more days; returns how many were created';
GRANT SELECT ON ALL TABLES IN SCHEMA pgscore TO pgscore_admin;
