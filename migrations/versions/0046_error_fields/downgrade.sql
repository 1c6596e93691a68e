-- 0046 to 0045: the previous texts of batch_error, predict_batch and detach_rescoring.
CREATE OR REPLACE FUNCTION pgscore.batch_error(p_error jsonb)
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
BEGIN
    -- RAISE takes no NULL option, and an empty DETAIL or HINT would still print its label
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
COMMENT ON FUNCTION pgscore.batch_error(jsonb) IS 'Internal: raises the error batch_chunks reports (message, sqlstate, detail, hint) as predict_batch''s own';

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
        GET STACKED DIAGNOSTICS v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT;
        -- every error raised again as its message, SQLSTATE, DETAIL and HINT alone: its CONTEXT quotes the
        -- statement, which holds the model's weights (a role that may score may not read them)
        v_error := pg_catalog.jsonb_build_object('message', SQLERRM, 'sqlstate', SQLSTATE,
                                                 'detail', nullif(v_detail, ''), 'hint', nullif(v_hint, ''));
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

CREATE OR REPLACE FUNCTION pgscore.detach_rescoring(p_event_table regclass, p_profile_table regclass DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r record;
    v_n integer := 0;
BEGIN
    IF p_event_table IS NULL THEN
        RAISE EXCEPTION 'pgscore.detach_rescoring: the event table is NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    FOR r IN SELECT w.rescoring_id, w.trigger_name,
                    -- the table its trigger is on: this one, or the one that had its name, since renamed
                    (SELECT t.tgrelid::regclass FROM pg_catalog.pg_trigger t
                      WHERE t.tgname = w.trigger_name AND t.tgfoid = 'pgscore.rescore_events()'::regprocedure
                      ORDER BY t.tgrelid = p_event_table DESC LIMIT 1) AS on_table
               FROM pgscore.rescoring w
              -- by name, or by its trigger on this table when the table it names has no such trigger (the
              -- table was renamed since; not a trigger of the same name restored on another table)
              WHERE (w.event_table = p_event_table::text
                     OR (w.trigger_name IN (SELECT t.tgname FROM pg_catalog.pg_trigger t WHERE t.tgrelid = p_event_table)
                         AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t
                                          WHERE t.tgrelid = to_regclass(w.event_table) AND t.tgname = w.trigger_name)))
                AND (p_profile_table IS NULL OR w.profile_table = p_profile_table::text)
              ORDER BY w.rescoring_id FOR UPDATE OF w
    LOOP
        IF r.on_table IS NOT NULL THEN  -- (dropped by hand, it is gone already)
            EXECUTE format('DROP TRIGGER %I ON %s', r.trigger_name, r.on_table);
        END IF;
        DELETE FROM pgscore.rescoring w WHERE w.rescoring_id = r.rescoring_id;
        v_n := v_n + 1;
    END LOOP;
    -- triggers of pgscore's on this table that no wiring owns (a dump of the table restored without
    -- pgscore.rescoring's rows): they rescore nothing and warn at every INSERT (not when one profile
    -- table's wiring is asked for: that call says whether it was there)
    FOR r IN SELECT t.tgname FROM pg_catalog.pg_trigger t
              WHERE p_profile_table IS NULL
                AND t.tgrelid = p_event_table AND t.tgfoid = 'pgscore.rescore_events()'::regprocedure
                AND NOT EXISTS (SELECT 1 FROM pgscore.rescoring w
                                 WHERE w.trigger_name = t.tgname
                                   AND (to_regclass(w.event_table) = p_event_table
                                        OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger o
                                                        WHERE o.tgrelid = to_regclass(w.event_table)
                                                          AND o.tgname = w.trigger_name)))
              ORDER BY t.tgname
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', r.tgname, p_event_table);
        RAISE NOTICE 'pgscore.detach_rescoring: dropped trigger % on %, which belonged to no wiring', r.tgname, p_event_table;
        v_n := v_n + 1;
    END LOOP;
    IF v_n = 0 THEN
        RAISE EXCEPTION '% is not wired for rescoring%', p_event_table,
              CASE WHEN p_profile_table IS NULL THEN '' ELSE ' to ' || p_profile_table::text END
            USING ERRCODE = 'undefined_object', HINT = 'list wirings with: SELECT * FROM pgscore.rescoring';
    END IF;
    RETURN v_n;
END
$fn$;
COMMENT ON FUNCTION pgscore.detach_rescoring(regclass, regclass) IS 'Remove the wiring (all of the event table''s, or the one to p_profile_table) and its trigger, and (without p_profile_table) any trigger of pgscore''s on the table that no wiring owns; queued errors stay, without their wiring; returns how many were removed';
