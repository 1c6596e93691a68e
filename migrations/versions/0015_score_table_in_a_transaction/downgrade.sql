-- 0015 back to 0014: score_table without p_commit, committing after every chunk
DROP PROCEDURE pgscore.score_table(text, regclass, name, name, integer, integer, boolean, bigint, boolean);

CREATE PROCEDURE pgscore.score_table(p_model text, p_table regclass, p_key name, p_into name,
                                     p_chunk_size integer DEFAULT 10000, p_version integer DEFAULT NULL,
                                     p_log boolean DEFAULT true, INOUT p_rows bigint DEFAULT NULL)
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_after text;
    v_n integer;
    v_version integer := p_version;
BEGIN
    p_rows := 0;
    LOOP
        -- the first chunk resolves the live version; the rest of the run keeps it
        SELECT c.rows, c.last_key, c.version INTO v_n, v_after, v_version
          FROM pgscore.score_chunk(p_model, p_table, p_key, p_into, v_after, p_chunk_size, v_version, p_log) AS c;
        EXIT WHEN v_n OPERATOR(pg_catalog.=) 0;
        p_rows := p_rows OPERATOR(pg_catalog.+) v_n;
        COMMIT;
    END LOOP;
END
$fn$;
COMMENT ON PROCEDURE pgscore.score_table(text, regclass, name, name, integer, integer, boolean, bigint) IS 'Score a whole table into a column chunk by chunk, committing after each chunk (CALL it outside a transaction block); returns the rows scored';

REVOKE EXECUTE ON PROCEDURE pgscore.score_table(text, regclass, name, name, integer, integer, boolean, bigint) FROM PUBLIC;
GRANT EXECUTE ON PROCEDURE pgscore.score_table(text, regclass, name, name, integer, integer, boolean, bigint)
    TO pgscore_app, pgscore_admin;
