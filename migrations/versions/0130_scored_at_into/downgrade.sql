-- 0130 to 0129: score_chunk and score_table without p_scored_at_into, as 0115 to 0129 left them (comments and
-- grants too).

-- a DBA's grants on them (to a role of its own, an ETL login say), made again on the new signatures below, as the
-- owner (review r5: dropped with the functions, the job's CALL failed with 42501 after the migration)
CREATE TEMPORARY TABLE pgscore_0130_grants AS
SELECT CASE WHEN p.oid = 'pgscore.score_table(text, regclass, name, name, integer, integer, boolean, bigint, boolean, text, interval, name, name)'::pg_catalog.regprocedure THEN 'score_table' ELSE 'score_chunk' END AS what,
       a.grantor, a.grantee, a.is_grantable, p.proowner AS owner
  FROM pg_catalog.pg_proc p CROSS JOIN LATERAL pg_catalog.aclexplode(p.proacl) a
 WHERE p.oid IN ('pgscore.score_table(text, regclass, name, name, integer, integer, boolean, bigint, boolean, text, interval, name, name)'::pg_catalog.regprocedure,
                 'pgscore.score_chunk(text, regclass, name, name, text, integer, integer, boolean, name, name)'::pg_catalog.regprocedure)
   AND a.privilege_type = 'EXECUTE' AND a.grantee <> p.proowner;

DROP PROCEDURE pgscore.score_table(text, regclass, name, name, integer, integer, boolean, bigint, boolean, text, interval, name, name);

DROP FUNCTION pgscore.score_chunk(text, regclass, name, name, text, integer, integer, boolean, name, name);

CREATE FUNCTION pgscore.score_chunk(p_model text, p_table regclass, p_key name, p_into name,
                                    p_after text DEFAULT NULL, p_chunk_size integer DEFAULT 10000,
                                    p_version integer DEFAULT NULL, p_log boolean DEFAULT true,
                                    p_label_into name DEFAULT NULL)
RETURNS TABLE (rows integer, last_key text, version integer)
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET "DateStyle" = 'ISO'
SET "IntervalStyle" = 'postgres'
SET extra_float_digits = 1
AS $pl$
try:
    from pgscore.pl import score_chunk
except ImportError as e:  # a server started without pgscore's environment
    plpy.error("pgscore cannot be imported by the database's Python: %s" % e, sqlstate="58P01",
               hint="restart the server with PYTHONPATH naming the site-packages directory of the environment pgscore was installed into with the server's own Python, not the venv itself (any pgscore command of that environment prints the exact value; README, 'Installing into an existing server'), then SELECT pgscore.validate_environment()")
return score_chunk(plpy, GD, p_model, p_table, p_key, p_into, p_after, p_chunk_size, p_version, p_log,
                   p_label_into)
$pl$;
COMMENT ON FUNCTION pgscore.score_chunk(text, regclass, name, name, text, integer, integer, boolean, name) IS 'Score the next p_chunk_size rows of a table (in key order, after p_after) into a column (and a classifier''s predicted class, as pgscore.predict gives it, into p_label_into) and log them; returns rows scored, the last key and the version used';

CREATE PROCEDURE pgscore.score_table(p_model text, p_table regclass, p_key name, p_into name,
                                     p_chunk_size integer DEFAULT 10000, p_version integer DEFAULT NULL,
                                     p_log boolean DEFAULT true, INOUT p_rows bigint DEFAULT NULL,
                                     p_commit boolean DEFAULT true, p_after text DEFAULT NULL,
                                     p_progress interval DEFAULT '10 seconds', p_label_into name DEFAULT NULL)
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
                                           p_log, p_label_into) AS c;
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
                                       p_label_into) AS c;
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
                                                           'them', v_after, v_version, v_again)
                                    ELSE 'they commit or roll back with your transaction (p_commit => false)' END;
            v_noted := pg_catalog.clock_timestamp();
        END IF;
    END LOOP;
END
$fn$;
COMMENT ON PROCEDURE pgscore.score_table(text, regclass, name, name, integer, integer, boolean, bigint, boolean, text, interval, name) IS 'Score a whole table into a column (and a classifier''s predicted class into p_label_into) chunk by chunk, committing after each chunk (outside a transaction block; with p_commit => false, as part of the caller''s transaction), from the first key or after p_after, with a progress NOTICE every p_progress; returns the rows scored';

REVOKE EXECUTE ON FUNCTION pgscore.score_chunk(text, regclass, name, name, text, integer, integer, boolean, name) FROM PUBLIC;
REVOKE EXECUTE ON PROCEDURE pgscore.score_table(text, regclass, name, name, integer, integer, boolean, bigint, boolean, text, interval, name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgscore.score_chunk(text, regclass, name, name, text, integer, integer, boolean, name) TO pgscore_app, pgscore_admin;
GRANT EXECUTE ON PROCEDURE pgscore.score_table(text, regclass, name, name, integer, integer, boolean, bigint, boolean, text, interval, name) TO pgscore_app, pgscore_admin;

DO $do$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT g.* FROM pgscore_0130_grants g ORDER BY g.what, g.grantee LOOP
        IF r.grantor <> r.owner THEN
            RAISE WARNING 'pgscore''s migration 0130 granted EXECUTE on pgscore.% to % as the owner, not as its grantor %',
                r.what, CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE r.grantee::pg_catalog.regrole::pg_catalog.text END,
                r.grantor::pg_catalog.regrole;
        END IF;
        EXECUTE pg_catalog.format('GRANT EXECUTE ON %s %s TO %s%s',
                                  CASE WHEN r.what = 'score_table' THEN 'PROCEDURE' ELSE 'FUNCTION' END,
                                  CASE WHEN r.what = 'score_table' THEN 'pgscore.score_table(text, regclass, name, name, integer, integer, boolean, bigint, boolean, text, interval, name)'
                                       ELSE 'pgscore.score_chunk(text, regclass, name, name, text, integer, integer, boolean, name)' END,
                                  CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE r.grantee::pg_catalog.regrole::pg_catalog.text END,
                                  CASE WHEN r.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
END
$do$;
DROP TABLE pgscore_0130_grants;
