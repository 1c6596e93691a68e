-- 0028 to 0027: score_table without p_after and p_progress again
DROP PROCEDURE pgscore.score_table(text, regclass, name, name, integer, integer, boolean, bigint, boolean, text, interval);

CREATE PROCEDURE pgscore.score_table(p_model text, p_table regclass, p_key name, p_into name,
                                     p_chunk_size integer DEFAULT 10000, p_version integer DEFAULT NULL,
                                     p_log boolean DEFAULT true, INOUT p_rows bigint DEFAULT NULL,
                                     p_commit boolean DEFAULT true)
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_after text;
    v_n integer;
    v_version integer := p_version;
BEGIN
    IF p_commit IS NULL THEN
        RAISE EXCEPTION 'pgscore.score_table: p_commit must not be NULL' USING ERRCODE = 'null_value_not_allowed';
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
    END LOOP;
END
$fn$;
COMMENT ON PROCEDURE pgscore.score_table(text, regclass, name, name, integer, integer, boolean, bigint, boolean) IS 'Score a whole table into a column chunk by chunk, committing after each chunk (outside a transaction block; with p_commit => false, as part of the caller''s transaction); returns the rows scored';

REVOKE EXECUTE ON PROCEDURE pgscore.score_table(text, regclass, name, name, integer, integer, boolean, bigint, boolean) FROM PUBLIC;
GRANT EXECUTE ON PROCEDURE pgscore.score_table(text, regclass, name, name, integer, integer, boolean, bigint, boolean) TO pgscore_app, pgscore_admin;
