-- 0015 CALL pgscore.score_table inside a transaction block (as drivers open by default) scores
-- the whole table as part of that transaction instead of failing at its first COMMIT.

-- sql/functions/batch.sql
CREATE OR REPLACE PROCEDURE pgscore.score_table(p_model text, p_table regclass, p_key name, p_into name,
                                     p_chunk_size integer DEFAULT 10000, p_version integer DEFAULT NULL,
                                     p_log boolean DEFAULT true, INOUT p_rows bigint DEFAULT NULL)
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_after text;
    v_n integer;
    v_version integer := p_version;
    -- CALLed as the first statement of its own transaction: outside a transaction block, where it may
    -- commit. Inside one (BEGIN before it, as psycopg2 and other drivers open by default) COMMIT would
    -- fail after the first chunk: the run is then part of the caller's transaction.
    v_commit boolean := pg_catalog.statement_timestamp() OPERATOR(pg_catalog.=) pg_catalog.transaction_timestamp();
BEGIN
    p_rows := 0;
    IF NOT v_commit THEN
        RAISE NOTICE 'pgscore.score_table runs inside a transaction block: every chunk is part of that transaction, which commits or rolls back as a whole'
            USING HINT = 'CALL it outside a transaction block (autocommit) to commit after each chunk';
    END IF;
    LOOP
        -- the first chunk resolves the live version; the rest of the run keeps it
        SELECT c.rows, c.last_key, c.version INTO v_n, v_after, v_version
          FROM pgscore.score_chunk(p_model, p_table, p_key, p_into, v_after, p_chunk_size, v_version, p_log) AS c;
        EXIT WHEN v_n OPERATOR(pg_catalog.=) 0;
        p_rows := p_rows OPERATOR(pg_catalog.+) v_n;
        IF v_commit THEN
            COMMIT;
        END IF;
    END LOOP;
END
$fn$;
COMMENT ON PROCEDURE pgscore.score_table(text, regclass, name, name, integer, integer, boolean, bigint) IS 'Score a whole table into a column chunk by chunk, committing after each chunk (inside a transaction block: as part of that transaction); returns the rows scored';
