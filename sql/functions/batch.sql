/*
 * Batch scoring: a whole query or table in chunks, one vectorised call per
 * chunk, each chunk's audit rows written in one statement (source 'batch').
 * batch_chunks and predict_batch run with a fixed search_path like every
 * pgscore function, and resolve the caller's query text with p_search_path,
 * which defaults to the caller's own (a default is evaluated before the call,
 * in the caller's setting). score_table is a procedure that commits after
 * every chunk, which a SET clause would forbid; every query of its own is
 * fully qualified. score_chunk runs with JIT off: compiling its chunk's
 * UPDATE cost more than it saved (as in the rescoring trigger, migration
 * 0009). batch_chunks returns a chunk's scores as raw doubles, which predict_batch turns into a float8[]
 * with float8_array (migration 0013; a float8[] literal that predict_batch cast
 * before, 0010): PL/Python would pass a list of floats one float at a time,
 * through repr.
 */
-- A float8[]'s own bytes as bytea, for moving features into PL/Python: byteasend, the identity on a
-- varlena's contents (it detoasts and copies), taking the array as its argument. No per-element send
-- function, byte swap or length as pg_catalog.array_send has; pgscore.batch reads the layout, checks
-- its header (dimensions, element type, NULL bitmap) and falls back to walking it.
CREATE FUNCTION pgscore.float8_image(p_values float8[])
RETURNS bytea
LANGUAGE internal
IMMUTABLE STRICT PARALLEL SAFE
AS 'byteasend';
COMMENT ON FUNCTION pgscore.float8_image(float8[]) IS 'Internal: the array''s bytes as PostgreSQL keeps them (header, NULL bitmap, values in the machine''s byte order), which pgscore''s batch and rescoring paths decode with numpy';

-- The way back in: numbers pgscore sends from Python (audit rows' features and scores, scores written
-- back) as raw doubles, 8 bytes each in the machine's byte order. A float8[] parameter would go as
-- text, one float8in per number (~0.3 us for 17 digits; 12 of them per audit row). The array is built
-- from an image: float8_array_unchecked is byteasend declared bytea -> float8[], trusting its argument
-- to be a valid float8[] image, so only its owner may run it. float8_array runs it as its owner and
-- gives it only what it builds itself: the header PostgreSQL writes for an array of that many doubles,
-- then the doubles.
CREATE FUNCTION pgscore.float8_array_unchecked(p_image bytea)
RETURNS float8[]
LANGUAGE internal
IMMUTABLE STRICT PARALLEL SAFE
AS 'byteasend';
COMMENT ON FUNCTION pgscore.float8_array_unchecked(bytea) IS 'Internal, owner only: a float8[] image (as pgscore.float8_image gives) as the array, unchecked; pgscore.float8_array calls it';

CREATE FUNCTION pgscore.float8_array(p_doubles bytea)
RETURNS float8[]
LANGUAGE plpgsql
IMMUTABLE STRICT PARALLEL SAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_empty bytea;
BEGIN
    IF octet_length(p_doubles) % 8 <> 0 THEN
        RAISE EXCEPTION 'pgscore.float8_array: % bytes are not whole doubles (8 bytes each)', octet_length(p_doubles)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- the image PostgreSQL writes for that many zeros: its header, then the doubles in place of the zeros
    v_empty := pgscore.float8_image(array_fill(0::float8, ARRAY[octet_length(p_doubles) / 8]));
    RETURN pgscore.float8_array_unchecked(substr(v_empty, 1, octet_length(v_empty) - octet_length(p_doubles))
                                          || p_doubles);
END
$fn$;
COMMENT ON FUNCTION pgscore.float8_array(bytea) IS 'The doubles in p_doubles (8 bytes each, in the machine''s byte order) as a float8[]; how pgscore''s Python sends numbers in bulk without one float8in each';

CREATE FUNCTION pgscore.batch_chunks(p_model text, p_query text, p_version integer, p_chunk_size integer, p_log boolean,
                                     p_search_path text)
RETURNS TABLE (keys text[], scores bytea, error jsonb)
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET "DateStyle" = 'ISO'
SET "IntervalStyle" = 'postgres'
SET extra_float_digits = 1
AS $pl$
@@plpython/batch_chunks.py@@
$pl$;
COMMENT ON FUNCTION pgscore.batch_chunks(text, text, integer, integer, boolean, text) IS 'Internal: scores p_query chunk by chunk, one row of keys and scores (raw doubles, for pgscore.float8_array) per chunk, or a last row with the error that stopped it; use pgscore.predict_batch';

-- batch_chunks hands predict_batch the error that stopped it as a row (message, sqlstate, detail, hint and
-- the names of the object it is about), and batch_error raises it: PL/Python would report an error raised
-- while it iterates as "error fetching next item from iterator", the message in DETAIL, and every other one
-- prefixed with its Python exception class
CREATE FUNCTION pgscore.batch_error(p_error jsonb)
RETURNS text[]
LANGUAGE plpgsql
IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_message text := coalesce(p_error ->> 'message', 'pgscore.predict_batch failed');
    v_state text := coalesce(p_error ->> 'sqlstate', 'P0001');
    v_detail text := p_error ->> 'detail';
    v_hint text := p_error ->> 'hint';
    v_schema text := p_error ->> 'schema_name';
    v_table text := p_error ->> 'table_name';
    v_column text := p_error ->> 'column_name';
    v_type text := p_error ->> 'datatype_name';
    v_constraint text := p_error ->> 'constraint_name';
BEGIN
    -- RAISE takes no NULL option, and an empty DETAIL or HINT would still print its label (an empty
    -- TABLE or CONSTRAINT would still reach the client): one RAISE for each set of fields. The object an
    -- error names (a client reads it as psycopg2's e.diag.constraint_name) goes as PostgreSQL's own errors
    -- name one: a table, its column or constraint; a type, its constraint
    IF v_schema IS NOT NULL AND v_table IS NOT NULL AND v_column IS NOT NULL THEN
        IF v_detail IS NULL AND v_hint IS NULL THEN
            RAISE EXCEPTION USING MESSAGE = v_message, ERRCODE = v_state, SCHEMA = v_schema, TABLE = v_table, COLUMN = v_column;
        ELSIF v_hint IS NULL THEN
            RAISE EXCEPTION USING MESSAGE = v_message, ERRCODE = v_state, SCHEMA = v_schema, TABLE = v_table, COLUMN = v_column,
                DETAIL = v_detail;
        ELSIF v_detail IS NULL THEN
            RAISE EXCEPTION USING MESSAGE = v_message, ERRCODE = v_state, SCHEMA = v_schema, TABLE = v_table, COLUMN = v_column,
                HINT = v_hint;
        END IF;
        RAISE EXCEPTION USING MESSAGE = v_message, ERRCODE = v_state, SCHEMA = v_schema, TABLE = v_table, COLUMN = v_column,
            DETAIL = v_detail, HINT = v_hint;
    ELSIF v_schema IS NOT NULL AND v_table IS NOT NULL AND v_constraint IS NOT NULL THEN
        IF v_detail IS NULL AND v_hint IS NULL THEN
            RAISE EXCEPTION USING MESSAGE = v_message, ERRCODE = v_state, SCHEMA = v_schema, TABLE = v_table,
                CONSTRAINT = v_constraint;
        ELSIF v_hint IS NULL THEN
            RAISE EXCEPTION USING MESSAGE = v_message, ERRCODE = v_state, SCHEMA = v_schema, TABLE = v_table,
                CONSTRAINT = v_constraint, DETAIL = v_detail;
        ELSIF v_detail IS NULL THEN
            RAISE EXCEPTION USING MESSAGE = v_message, ERRCODE = v_state, SCHEMA = v_schema, TABLE = v_table,
                CONSTRAINT = v_constraint, HINT = v_hint;
        END IF;
        RAISE EXCEPTION USING MESSAGE = v_message, ERRCODE = v_state, SCHEMA = v_schema, TABLE = v_table,
            CONSTRAINT = v_constraint, DETAIL = v_detail, HINT = v_hint;
    ELSIF v_schema IS NOT NULL AND v_table IS NOT NULL THEN
        IF v_detail IS NULL AND v_hint IS NULL THEN
            RAISE EXCEPTION USING MESSAGE = v_message, ERRCODE = v_state, SCHEMA = v_schema, TABLE = v_table;
        ELSIF v_hint IS NULL THEN
            RAISE EXCEPTION USING MESSAGE = v_message, ERRCODE = v_state, SCHEMA = v_schema, TABLE = v_table,
                DETAIL = v_detail;
        ELSIF v_detail IS NULL THEN
            RAISE EXCEPTION USING MESSAGE = v_message, ERRCODE = v_state, SCHEMA = v_schema, TABLE = v_table,
                HINT = v_hint;
        END IF;
        RAISE EXCEPTION USING MESSAGE = v_message, ERRCODE = v_state, SCHEMA = v_schema, TABLE = v_table,
            DETAIL = v_detail, HINT = v_hint;
    ELSIF v_schema IS NOT NULL AND v_type IS NOT NULL AND v_constraint IS NOT NULL THEN
        IF v_detail IS NULL AND v_hint IS NULL THEN
            RAISE EXCEPTION USING MESSAGE = v_message, ERRCODE = v_state, SCHEMA = v_schema, DATATYPE = v_type,
                CONSTRAINT = v_constraint;
        ELSIF v_hint IS NULL THEN
            RAISE EXCEPTION USING MESSAGE = v_message, ERRCODE = v_state, SCHEMA = v_schema, DATATYPE = v_type,
                CONSTRAINT = v_constraint, DETAIL = v_detail;
        ELSIF v_detail IS NULL THEN
            RAISE EXCEPTION USING MESSAGE = v_message, ERRCODE = v_state, SCHEMA = v_schema, DATATYPE = v_type,
                CONSTRAINT = v_constraint, HINT = v_hint;
        END IF;
        RAISE EXCEPTION USING MESSAGE = v_message, ERRCODE = v_state, SCHEMA = v_schema, DATATYPE = v_type,
            CONSTRAINT = v_constraint, DETAIL = v_detail, HINT = v_hint;
    ELSIF v_schema IS NOT NULL AND v_type IS NOT NULL THEN
        IF v_detail IS NULL AND v_hint IS NULL THEN
            RAISE EXCEPTION USING MESSAGE = v_message, ERRCODE = v_state, SCHEMA = v_schema, DATATYPE = v_type;
        ELSIF v_hint IS NULL THEN
            RAISE EXCEPTION USING MESSAGE = v_message, ERRCODE = v_state, SCHEMA = v_schema, DATATYPE = v_type,
                DETAIL = v_detail;
        ELSIF v_detail IS NULL THEN
            RAISE EXCEPTION USING MESSAGE = v_message, ERRCODE = v_state, SCHEMA = v_schema, DATATYPE = v_type,
                HINT = v_hint;
        END IF;
        RAISE EXCEPTION USING MESSAGE = v_message, ERRCODE = v_state, SCHEMA = v_schema, DATATYPE = v_type,
            DETAIL = v_detail, HINT = v_hint;
    END IF;
    IF v_detail IS NULL AND v_hint IS NULL THEN
        RAISE EXCEPTION USING MESSAGE = v_message, ERRCODE = v_state;
    ELSIF v_hint IS NULL THEN
        RAISE EXCEPTION USING MESSAGE = v_message, ERRCODE = v_state, DETAIL = v_detail;
    ELSIF v_detail IS NULL THEN
        RAISE EXCEPTION USING MESSAGE = v_message, ERRCODE = v_state, HINT = v_hint;
    END IF;
    RAISE EXCEPTION USING MESSAGE = v_message, ERRCODE = v_state, DETAIL = v_detail, HINT = v_hint;
END
$fn$;
COMMENT ON FUNCTION pgscore.batch_error(jsonb) IS 'Internal: raises the error batch_chunks reports (message, sqlstate, detail, hint, and the schema, table, column, type or constraint it names) as predict_batch''s own';

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
@@plpython/batch_sql.py@@
$pl$;
COMMENT ON FUNCTION pgscore.batch_sql(text, text, integer, integer, boolean, text) IS 'Internal: checks predict_batch''s arguments and returns the statement that scores p_query in SQL (NULL where it goes chunk by chunk: another model) and the version it scores with, or the error it found; use pgscore.predict_batch';

/*
 * A feature read from a column of a string type (text, varchar) that holds numbers as text: its number, or
 * an error naming the model and the feature, where the cast alone names neither (migration 0039). The
 * statements of predict_batch, score_table and rescoring call it for such columns only (a subtransaction a
 * value: ~µs, against a bare cast). PARALLEL UNSAFE: a parallel worker, and the leader while workers run,
 * may not start the subtransaction its EXCEPTION block needs (migration 0045).
 */
CREATE FUNCTION pgscore.feature_number(p_value text, p_model text, p_feature text)
RETURNS float8
LANGUAGE plpgsql
IMMUTABLE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    RETURN p_value::float8;
EXCEPTION
    WHEN invalid_text_representation THEN
        RAISE EXCEPTION 'model %: feature % must be a number, got % (its column holds text)', p_model,
              quote_literal(p_feature), quote_literal(left(p_value, 60))
            USING ERRCODE = 'invalid_text_representation',
                  HINT = 'every feature reaches the model as a float8: compute a number from the text in the query (docs/sql.md, ''Features are numbers'')';
    WHEN numeric_value_out_of_range THEN
        RAISE EXCEPTION 'model %: feature % is out of the range of double precision, got % (its column holds text)',
              p_model, quote_literal(p_feature), quote_literal(left(p_value, 60))
            USING ERRCODE = 'numeric_value_out_of_range';
END
$fn$;
COMMENT ON FUNCTION pgscore.feature_number(text, text, text) IS 'Internal: a feature''s number from a text column, or an error naming the model and the feature; the statements of predict_batch, score_table and rescoring before migration 0081 called it, which call the one with p_key now';

/*
 * feature_number with the row's key (migration 0081): the error names the key too, where the statements of
 * predict_batch, score_table and rescoring know it (the one above named the model and the feature alone, so a
 * text cell that was no number in a table of a million rows had to be searched for). Not STRICT: a NULL key
 * (a query's row for predict_batch may have one) is named as such, and a NULL value still gives NULL, before
 * the EXCEPTION block (migration 0083; it entered the block, a subtransaction, for every NULL cell).
 */
CREATE FUNCTION pgscore.feature_number(p_value text, p_model text, p_feature text, p_key text)
RETURNS float8
LANGUAGE plpgsql
IMMUTABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    -- a NULL cell is NULL (NaN to the model) without the block below, whose EXCEPTION clause starts a
    -- subtransaction each time it is entered (migration 0083: the 3-argument form, STRICT, is never called
    -- for one)
    IF p_value IS NULL THEN
        RETURN NULL;
    END IF;
    BEGIN
        RETURN p_value::float8;
    EXCEPTION
        WHEN invalid_text_representation THEN
            RAISE EXCEPTION 'model %: feature % must be a number, got % (key %; its column holds text)', p_model,
                  quote_literal(p_feature), quote_literal(left(p_value, 60)), quote_nullable(p_key)
                USING ERRCODE = 'invalid_text_representation',
                      HINT = 'every feature reaches the model as a float8: compute a number from the text in the query (docs/sql.md, ''Features are numbers'')';
        WHEN numeric_value_out_of_range THEN
            RAISE EXCEPTION 'model %: feature % is out of the range of double precision, got % (key %; its column holds text)',
                  p_model, quote_literal(p_feature), quote_literal(left(p_value, 60)), quote_nullable(p_key)
                USING ERRCODE = 'numeric_value_out_of_range';
    END;
END
$fn$;
COMMENT ON FUNCTION pgscore.feature_number(text, text, text, text) IS 'Internal: a feature''s number from a text column, or an error naming the model, the feature and the row''s key; used by the statements of predict_batch, score_table and rescoring';

CREATE FUNCTION pgscore.batch_row(p_model text, p_version integer, p_key text, p_features bytea)
RETURNS float8
LANGUAGE plpython3u
STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $pl$
@@plpython/batch_row.py@@
$pl$;
COMMENT ON FUNCTION pgscore.batch_row(text, integer, text, bytea) IS 'Internal: the score of one row predict_batch''s statement could not score in SQL (features as pgscore.float8_image gives them), or the error that names its key; use pgscore.predict_batch';

CREATE FUNCTION pgscore.predict_batch(p_model text, p_query text, p_version integer DEFAULT NULL,
                                      p_chunk_size integer DEFAULT 10000, p_log boolean DEFAULT true,
                                      p_search_path text DEFAULT pg_catalog.current_setting('search_path'))
RETURNS TABLE (key text, score float8)
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET "DateStyle" = 'ISO'
SET "IntervalStyle" = 'postgres'
SET extra_float_digits = 1
-- (0183, review r2 of session 71) as score_chunk: under a DBA's jit_above_cost = 0 its statements were compiled at
-- each call, 1.25-1.53 s for 1,000 rows against 60-120 ms (the query it is given runs without JIT too)
SET jit = off
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
        -- (batch_row's message without the name PL/Python puts before it, pgscore: , as the chunks say it)
        v_error := pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
            'message', CASE WHEN SQLERRM LIKE 'pgscore: %' THEN pg_catalog.substr(SQLERRM, 10) ELSE SQLERRM END,
            'sqlstate', SQLSTATE, 'detail', nullif(v_detail, ''), 'hint', nullif(v_hint, ''),
            'schema_name', nullif(v_schema, ''), 'table_name', nullif(v_table, ''), 'column_name', nullif(v_column, ''),
            'datatype_name', nullif(v_type, ''), 'constraint_name', nullif(v_constraint, '')));
        -- (pgscore's errors raised in PL/Python, batch_row's among them, begin with the name of their Python
        -- class, which no lc_messages translates, as the context's words are)
        IF SQLSTATE = '53400' THEN  -- temporary files past temp_file_limit: not run again chunk by chunk either
            RAISE EXCEPTION 'pgscore.predict_batch: model % scores this query in one statement, whose temporary files exceeded temp_file_limit (%): the query''s own sorts and hashes and the rows predict_batch returns, held until it ends%', p_model, pg_catalog.current_setting('temp_file_limit'), CASE WHEN p_log THEN ', with each row''s features kept for its audit row' ELSE '' END
                USING ERRCODE = SQLSTATE, DETAIL = 'the server said: ' || SQLERRM,
                      HINT = 'score fewer rows a call (a range of keys in the query), or write the scores back with pgscore score (pgscore.score_table), whose chunks each fit' || CASE WHEN p_log THEN '; p_log => false keeps no features for audit rows, where you need none' ELSE '' END || '; or have a superuser raise temp_file_limit (ALTER ROLE ... SET temp_file_limit, or postgresql.conf; docs/operations-disk.md, ''Temporary space'')';
        END IF;
        -- the error raised as it is: the row batch_row refused (its key, and why), or the query's own. The query is
        -- not run again (0149; it was, chunk by chunk, for the chunks' count of the rows like it: the query's
        -- functions ran twice, a sequence's nextval, and a query giving other rows the second time, random() or a
        -- table changed meanwhile, had its error name another row than the one that failed, or none). A double's
        -- overflow: the score's own arithmetic where a feature is beyond about 1e300 times a weight (not another 22003:
        -- the query's own integer or numeric overflow, or feature_number's refusal of a text column's number, naming
        -- its key, which pgscore.score refuses as well; review r4)
        IF SQLSTATE = '22003' AND SQLERRM LIKE 'value out of range: %' THEN
            RAISE EXCEPTION 'pgscore.predict_batch: model % scores this query in SQL, which failed: %', p_model, SQLERRM
                USING ERRCODE = SQLSTATE,
                      HINT = 'a feature value beyond about 1e300 (or one whose product with a weight underflows) is out of SQL''s range; pgscore.score scores such a row (where the query''s own arithmetic overflows, it fails alone too)';
        END IF;
        PERFORM pgscore.batch_error(v_error);
    END;
END
$fn$;
COMMENT ON FUNCTION pgscore.predict_batch(text, text, integer, integer, boolean, text) IS 'Score every row of a query (first column the key, then a column per feature or one float8[] named features) in chunks, or in one SQL statement for a linear model with one output; returns key and score; the query''s names are resolved with p_search_path (default: the caller''s)';

CREATE FUNCTION pgscore.score_chunk(p_model text, p_table regclass, p_key name, p_into name,
                                    p_after text DEFAULT NULL, p_chunk_size integer DEFAULT 10000,
                                    p_version integer DEFAULT NULL, p_log boolean DEFAULT true,
                                    p_label_into name DEFAULT NULL, p_scored_at_into name DEFAULT NULL)
RETURNS TABLE (rows integer, last_key text, version integer)
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET "DateStyle" = 'ISO'
SET "IntervalStyle" = 'postgres'
SET extra_float_digits = 1
AS $pl$
@@plpython/score_chunk.py@@
$pl$;
COMMENT ON FUNCTION pgscore.score_chunk(text, regclass, name, name, text, integer, integer, boolean, name, name) IS 'Score the next p_chunk_size rows of a table (in key order, after p_after) into a column (and a classifier''s predicted class, as pgscore.predict gives it, into p_label_into; the transaction''s now() into p_scored_at_into, in the same UPDATE) and log them; returns rows scored, the last key and the version used';

-- score_table's first step: a COMMIT where its CALL may commit, else 2D000 saying so in its words (PostgreSQL's
-- own, from a COMMIT in PL/pgSQL, is a bare "invalid transaction termination"; a caller's EXCEPTION WHEN
-- invalid_transaction_termination catches either, but a block with an EXCEPTION clause cannot itself commit).
-- No SET clause, not SECURITY DEFINER: a procedure with either cannot commit. Executable by PUBLIC: it does
-- nothing but a COMMIT, which any role may run, and score_table (not SECURITY DEFINER) calls it as its caller
CREATE PROCEDURE pgscore.score_table_commit()
LANGUAGE plpython3u
AS $pl$
@@plpython/score_table_commit.py@@
$pl$;
COMMENT ON PROCEDURE pgscore.score_table_commit() IS 'Internal to score_table: commits where the CALL may (outside a transaction block, through CALL and DO alone), else raises 2D000 naming score_table, why and what to do';

CREATE PROCEDURE pgscore.score_table(p_model text, p_table regclass, p_key name, p_into name,
                                     p_chunk_size integer DEFAULT 10000, p_version integer DEFAULT NULL,
                                     p_log boolean DEFAULT true, INOUT p_rows bigint DEFAULT NULL,
                                     p_commit boolean DEFAULT true, p_after text DEFAULT NULL,
                                     p_progress interval DEFAULT '10 seconds', p_label_into name DEFAULT NULL,
                                     p_scored_at_into name DEFAULT NULL)
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_after text := p_after;  -- resume: the rows after this key (as text; NULL: from the first)
    v_n integer;
    v_version integer := p_version;
    v_noted timestamptz := pg_catalog.clock_timestamp();
    v_state text;
    v_message text;
    v_detail text;
    v_hint text;
    v_schema text;
    v_table text;
    v_column text;
    v_constraint text;
    v_datatype text;
    -- the run's options that choose what is written, repeated in each resume hint (session 57; before, p_after and
    -- p_version alone: a run resumed as they said left the rest of the rows unlabelled, or logged them), as
    -- pgscore score's resume line repeats --label-into and --no-log
    v_again text := pg_catalog.concat(
        CASE WHEN p_label_into IS NOT NULL THEN pg_catalog.format(', p_label_into => %L', p_label_into) END,
        CASE WHEN p_scored_at_into IS NOT NULL THEN pg_catalog.format(', p_scored_at_into => %L', p_scored_at_into) END,
        CASE WHEN NOT p_log THEN ', p_log => false' END);
BEGIN
    IF p_commit IS NULL THEN
        RAISE EXCEPTION 'pgscore.score_table: p_commit must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF p_progress OPERATOR(pg_catalog.<) '0'::pg_catalog.interval THEN
        RAISE EXCEPTION 'pgscore.score_table: p_progress must not be negative, got %', p_progress
              USING ERRCODE = 'invalid_parameter_value', HINT = 'NULL for no progress notices, 0 for one a chunk';
    END IF;
    p_rows := 0;
    IF p_commit THEN
        -- inside a transaction block (BEGIN before the CALL, as psycopg2 and other drivers open by
        -- default), or called from a function, COMMIT fails: here, before any work, rather than after the
        -- first chunk, and in words that name this procedure and the way out (score_table_commit)
        CALL pgscore.score_table_commit();
    END IF;
    LOOP
        -- the first chunk resolves the live version; the rest of the run keeps it
        IF p_commit AND p_rows OPERATOR(pg_catalog.>) 0 THEN
            -- chunks are committed: a chunk's error (a cancel or timeout too) says so, and where to go on,
            -- in its DETAIL and HINT (as pgscore score does); its SQLSTATE, message and fields are kept
            BEGIN
                SELECT c.rows, c.last_key, c.version INTO v_n, v_after, v_version
                  FROM pgscore.score_chunk(p_model, p_table, p_key, p_into, v_after, p_chunk_size, v_version,
                                           p_log, p_label_into, p_scored_at_into) AS c;
            EXCEPTION WHEN query_canceled OR OTHERS THEN
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                    v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT, v_schema = SCHEMA_NAME,
                    v_table = TABLE_NAME, v_column = COLUMN_NAME, v_constraint = CONSTRAINT_NAME,
                    v_datatype = PG_DATATYPE_NAME;
                -- raised by batch_error, as predict_batch raises a chunk's: no empty field reaches the client
                PERFORM pgscore.batch_error(pg_catalog.jsonb_build_object(
                    'message', v_message, 'sqlstate', v_state,
                    'detail', pg_catalog.concat_ws(E'\n', NULLIF(v_detail, ''),
                        -- the key column as SQL names it and its value as a literal, as the chunks' errors
                        -- quote a key (migration 0083; before, bare: a key with a space, or '', was ambiguous)
                        pg_catalog.format('pgscore.score_table: %s rows of %s scored by earlier chunks are '
                                          'committed, up to %I %L', p_rows, p_table, p_key, v_after)),
                    'hint', pg_catalog.concat_ws(E'\n', NULLIF(v_hint, ''),
                        pg_catalog.format('once the cause is fixed, CALL it again with p_after => %L, '
                                          'p_version => %s%s to go on after them', v_after, v_version, v_again)),
                    'schema_name', NULLIF(v_schema, ''), 'table_name', NULLIF(v_table, ''),
                    'column_name', NULLIF(v_column, ''), 'constraint_name', NULLIF(v_constraint, ''),
                    'datatype_name', NULLIF(v_datatype, '')));
            END;
        ELSE
            SELECT c.rows, c.last_key, c.version INTO v_n, v_after, v_version
              FROM pgscore.score_chunk(p_model, p_table, p_key, p_into, v_after, p_chunk_size, v_version, p_log,
                                       p_label_into, p_scored_at_into) AS c;
        END IF;
        EXIT WHEN v_n OPERATOR(pg_catalog.=) 0;
        p_rows := p_rows OPERATOR(pg_catalog.+) v_n;
        IF p_commit THEN
            COMMIT;
        END IF;
        -- progress, at most once every p_progress: how far it got, and how to go on from there
        IF pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) v_noted OPERATOR(pg_catalog.>=) p_progress THEN
            RAISE NOTICE 'pgscore.score_table: % rows of % scored, up to % %', p_rows, p_table,
                  pg_catalog.quote_ident(p_key), pg_catalog.quote_nullable(v_after)
                  USING HINT = CASE WHEN p_commit
                                    THEN pg_catalog.format('they are committed; after an interruption, CALL it again '
                                                           'with p_after => %L, p_version => %s%s to go on after '
                                                           'them; where the session ended without a word '
                                                           '(pg_terminate_backend, a lost connection), later chunks '
                                                           'may be committed too: read where it got to from the '
                                                           'audit log (docs/sql.md, score_table, ''After the '
                                                           'session dies'')', v_after, v_version, v_again)
                                    ELSE 'they commit or roll back with your transaction (p_commit => false)' END;
            v_noted := pg_catalog.clock_timestamp();
        END IF;
    END LOOP;
END
$fn$;
COMMENT ON PROCEDURE pgscore.score_table(text, regclass, name, name, integer, integer, boolean, bigint, boolean, text, interval, name, name) IS 'Score a whole table into a column (and a classifier''s predicted class into p_label_into, the time each chunk is scored into p_scored_at_into) chunk by chunk, committing after each chunk (outside a transaction block; with p_commit => false, as part of the caller''s transaction), from the first key or after p_after, with a progress NOTICE every p_progress; returns the rows scored';
