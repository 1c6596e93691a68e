-- 0022 to 0023: CALL pgscore.score_table inside a transaction block (a BEGIN, or psycopg2's implicit
-- one) says what is wrong and what to do (autocommit, pgscore score, or p_commit => false), SQLSTATE
-- 2D000 as before, instead of PostgreSQL's bare "invalid transaction termination". Replaced in place.

CREATE OR REPLACE PROCEDURE pgscore.score_table(p_model text, p_table regclass, p_key name, p_into name,
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
        -- default) COMMIT fails, with PostgreSQL's bare "invalid transaction termination". A transaction
        -- that began before this statement did is one: say so, and what to do. (Where BEGIN and CALL
        -- came in one query string the two times are equal, and the COMMIT below still fails first.)
        IF pg_catalog.transaction_timestamp() OPERATOR(pg_catalog.<) pg_catalog.statement_timestamp() THEN
            RAISE EXCEPTION 'pgscore.score_table commits after every chunk, which it cannot do inside a transaction block'
                USING ERRCODE = 'invalid_transaction_termination',
                      DETAIL = 'The transaction began before the CALL: a BEGIN, or a driver that opens one (psycopg2 does unless autocommit is on).',
                      HINT = 'CALL it in autocommit mode (or use the pgscore score command), or pass p_commit => false to score inside your transaction, committed with it.';
        END IF;
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
