-- 0118 to 0117: score_table and the column comments as 0115 left them.

CREATE OR REPLACE PROCEDURE pgscore.score_table(p_model text, p_table regclass, p_key name, p_into name,
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
                                          'p_version => %s to go on after them', v_after, v_version)),
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
                                                           'with p_after => %L to go on after them', v_after)
                                    ELSE 'they commit or roll back with your transaction (p_commit => false)' END;
            v_noted := pg_catalog.clock_timestamp();
        END IF;
    END LOOP;
END
$fn$;

COMMENT ON COLUMN pgscore.predictions.label IS 'The predicted class: pgscore.predict''s label, and for a multiclass model the predicted class whatever logged it (score, predict_proba, batches, rescoring); NULL for other models'' scores';
COMMENT ON COLUMN pgscore.outcome_matches.label IS 'The judged prediction''s label, where it was logged (pgscore.predict; and, since migration 0017, every path for a multiclass model)';
COMMENT ON COLUMN pgscore.drift_rows.n IS 'How many values (predictions, or matched outcomes) the window holds';
COMMENT ON COLUMN pgscore.drift_report.n IS 'How many values (predictions, or matched outcomes) the window holds';
COMMENT ON COLUMN pgscore.drift_checks.n IS 'How many values (predictions, or matched outcomes) the window holds';
COMMENT ON COLUMN pgscore.performance_rows.n IS 'How many values (predictions, or matched outcomes) the window holds';
