-- 0077 to 0076: CALL pgscore.score_table as 0028 made it: a chunk's error raised as it is.
CREATE OR REPLACE PROCEDURE pgscore.score_table(p_model text, p_table regclass, p_key name, p_into name,
                                     p_chunk_size integer DEFAULT 10000, p_version integer DEFAULT NULL,
                                     p_log boolean DEFAULT true, INOUT p_rows bigint DEFAULT NULL,
                                     p_commit boolean DEFAULT true, p_after text DEFAULT NULL,
                                     p_progress interval DEFAULT '10 seconds')
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_after text := p_after;  -- resume: the rows after this key (as text; NULL: from the first)
    v_n integer;
    v_version integer := p_version;
    v_noted timestamptz := pg_catalog.clock_timestamp();
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
        -- default) COMMIT fails: here, before any work, rather than after the first chunk
        COMMIT;
    END IF;
    LOOP
        -- the first chunk resolves the live version; the rest of the run keeps it
        SELECT c.rows, c.last_key, c.version INTO v_n, v_after, v_version
          FROM pgscore.score_chunk(p_model, p_table, p_key, p_into, v_after, p_chunk_size, v_version, p_log) AS c;
        EXIT WHEN v_n OPERATOR(pg_catalog.=) 0;
        p_rows := p_rows OPERATOR(pg_catalog.+) v_n;
        IF p_commit THEN
            COMMIT;
        END IF;
        -- progress, at most once every p_progress: how far it got, and how to go on from there
        IF pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) v_noted OPERATOR(pg_catalog.>=) p_progress THEN
            RAISE NOTICE 'pgscore.score_table: % rows of % scored, up to % %', p_rows, p_table, p_key, v_after
                  USING HINT = CASE WHEN p_commit
                                    THEN pg_catalog.format('they are committed; after an interruption, CALL it again '
                                                           'with p_after => %L to go on after them', v_after)
                                    ELSE 'they commit or roll back with your transaction (p_commit => false)' END;
            v_noted := pg_catalog.clock_timestamp();
        END IF;
    END LOOP;
END
$fn$;
