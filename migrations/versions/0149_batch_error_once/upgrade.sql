-- 0147 to 0149: predict_batch of a model scored in SQL no longer runs the caller's query a second time, chunk by
-- chunk, on a row's error (batch_row's) or a value out of range: the error is the failed row's own, the query run once;
-- pgscore_admin may count the bins of the models it names (drift_counts_of), as pgscore drift --html does for those
-- it shows; firing_of computes the class mix of the models it names alone (class_drift_stats_of), not every live
-- classifier's

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

GRANT EXECUTE ON FUNCTION pgscore.drift_counts_of(bigint[], text, text) TO pgscore_admin;

-- the class mix of the live versions named (firing_of's), which class_drift_stats now reads for every live one
CREATE FUNCTION pgscore.class_drift_stats_of(p_model_ids bigint[])
RETURNS TABLE (model_id bigint, name text, version integer, task text, window_name text, sort_order integer,
               n bigint, n_unlabelled bigint, classes text[], shares float8[], baseline_shares float8[],
               baseline_n bigint, psi float8, largest_change_class text, largest_change float8, checks jsonb,
               status text, firing text, min_n integer)
LANGUAGE sql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
SET work_mem = '64MB'
SET extra_float_digits = 1
ROWS 50
AS $fn$
WITH live AS MATERIALIZED (
    SELECT lm.model_id, lm.name, lm.version, lm.task, ARRAY(SELECT jsonb_array_elements_text(lm.classes)) AS classes,
           b.expected, b.n AS base_n
      FROM pgscore.live_models lm
      LEFT JOIN pgscore.baselines b ON b.model_id = lm.model_id AND b.kind = 'class'
     WHERE lm.task IN ('binary', 'multiclass') AND jsonb_typeof(lm.classes) = 'array'
       AND lm.model_id = ANY (p_model_ids)
),
counts AS MATERIALIZED (
    SELECT c.model_id, c.period, c.bin, c.n
      FROM pgscore.class_counts_of(ARRAY(SELECT l.model_id FROM live l WHERE l.expected IS NOT NULL)) c
),
shares AS (
    SELECT g.*, g.k::float8 / nullif(sum(g.k) OVER w, 0) AS c, sum(g.k) OVER w AS n
      FROM (SELECT l.model_id, dw.window_name, g.i, l.classes[g.i + 1] AS class, l.expected[g.i + 1] AS e,
                   coalesce((SELECT sum(c.n) FROM counts c
                              WHERE c.model_id = l.model_id AND c.period = dw.window_name AND c.bin = g.i), 0) AS k
              FROM live l
             CROSS JOIN pgscore.drift_windows dw
             CROSS JOIN LATERAL generate_series(0, cardinality(l.expected) - 1) g(i)
             WHERE l.expected IS NOT NULL) g
    WINDOW w AS (PARTITION BY g.model_id, g.window_name)
),
mix AS (
    SELECT s.model_id, s.window_name, max(s.n)::bigint AS n,
           CASE WHEN max(s.n) > 0 THEN array_agg(s.c ORDER BY s.i) END AS shares,
           -- none of them without a prediction in the window (n 0, c NULL): greatest() skips a NULL, which made
           -- PSI that of 1e-4 shares and named the first class as the one that moved
           CASE WHEN max(s.n) > 0 THEN sum((greatest(s.c, 1e-4) - greatest(s.e, 1e-4))
                                           * ln(greatest(s.c, 1e-4) / greatest(s.e, 1e-4))) END AS psi,
           CASE WHEN max(s.n) > 0 THEN (array_agg(s.class ORDER BY abs(s.c - s.e) DESC, s.i))[1] END
               AS largest_change_class,
           CASE WHEN max(s.n) > 0 THEN (array_agg(s.c - s.e ORDER BY abs(s.c - s.e) DESC, s.i))[1] END
               AS largest_change
      FROM shares s
     GROUP BY s.model_id, s.window_name
)
SELECT l.model_id, l.name, l.version, l.task, dw.window_name, dw.sort_order,
       CASE WHEN l.expected IS NOT NULL THEN coalesce(m.n, 0) END,
       CASE WHEN l.expected IS NOT NULL
            THEN coalesce((SELECT sum(c.n) FROM counts c
                            WHERE c.model_id = l.model_id AND c.period = dw.window_name AND c.bin = -1), 0)::bigint END,
       l.classes, m.shares, l.expected, l.base_n, m.psi, m.largest_change_class, m.largest_change,
       j.checks, j.status, j.firing, j.min_n
  FROM live l
 CROSS JOIN pgscore.drift_windows dw
  LEFT JOIN mix m ON m.model_id = l.model_id AND m.window_name = dw.window_name
  LEFT JOIN LATERAL pgscore.judge(ARRAY['class_mix'], ARRAY[m.psi], ARRAY[coalesce(m.n, 0)], l.name, NULL::text) j
         ON l.expected IS NOT NULL
$fn$;
COMMENT ON FUNCTION pgscore.class_drift_stats_of(bigint[]) IS 'class_drift_stats of the live versions among p_model_ids alone (a version not live, or NULL, has no rows), computed for them alone: what pgscore.firing_of reads for the models it is given (migration 0149)';
REVOKE EXECUTE ON FUNCTION pgscore.class_drift_stats_of(bigint[]) FROM PUBLIC;

CREATE OR REPLACE FUNCTION pgscore.class_drift_stats()
RETURNS TABLE (model_id bigint, name text, version integer, task text, window_name text, sort_order integer,
               n bigint, n_unlabelled bigint, classes text[], shares float8[], baseline_shares float8[],
               baseline_n bigint, psi float8, largest_change_class text, largest_change float8, checks jsonb,
               status text, firing text, min_n integer)
LANGUAGE sql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
SET work_mem = '64MB'
SET extra_float_digits = 1
ROWS 50
AS $fn$
SELECT * FROM pgscore.class_drift_stats_of(ARRAY(SELECT lm.model_id FROM pgscore.live_models lm))
$fn$;

CREATE OR REPLACE FUNCTION pgscore.firing_of(p_models text[])
RETURNS TABLE (model text, version integer, what text, subject text, window_name text, sort_order integer,
               metric text, value float8, threshold float8, level text, shadow boolean, threshold_from text)
LANGUAGE sql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
ROWS 100
AS $fn$
WITH live AS MATERIALIZED (SELECT lm.model_id, lm.name FROM pgscore.live_models lm
                            WHERE p_models IS NULL OR lm.name = ANY (p_models)),
shadows AS MATERIALIZED (SELECT sv.model_id FROM pgscore.shadow_versions sv
                           JOIN live lm ON lm.name = sv.name
                          WHERE sv.model_id <> lm.model_id)
SELECT s.name AS model, s.version, s.kind AS what, s.feature AS subject, s.period AS window_name, s.sort_order,
       c.metric, c.value, CASE c.level WHEN 'alert' THEN c.alert ELSE c.warn END AS threshold, c.level,
       false AS shadow,
       -- appended (migration 0133): where the threshold came from (subject, model: an override; default)
       coalesce(CASE c.level WHEN 'alert' THEN c.alert_from ELSE c.warn_from END, 'default') AS threshold_from
  FROM pgscore.drift_stats_of(ARRAY(SELECT l.model_id FROM live l), 'window') s
 CROSS JOIN LATERAL jsonb_to_recordset(s.checks) c(metric text, value float8, warn float8, alert float8, level text,
                                                warn_from text, alert_from text)
 WHERE c.level IN ('warn', 'alert')
UNION ALL
-- the live versions' realised performance in the windows by prediction time (subject 'outcomes') and, since
-- migration 0125, by outcome time (subject 'outcomes by recorded time': the judged predictions whose outcome was
-- recorded in the window), in one call: judged_predictions, its sort and the unmatched outcomes read once (two
-- calls, one a kind, cost alerts 2.3 times what 0122's did; docs/performance.md, "By outcome time")
SELECT r.name, r.version, 'performance',
       CASE r.period_kind WHEN 'window' THEN 'outcomes' ELSE 'outcomes by recorded time' END, r.period,
       r.sort_order, c.metric, (c.value)::float8, (CASE c.level WHEN 'alert' THEN c.alert ELSE c.warn END)::float8,
       c.level, false, coalesce(CASE c.level WHEN 'alert' THEN c.alert_from ELSE c.warn_from END, 'default')
  FROM pgscore.performance_stats_of(false, CASE WHEN p_models IS NOT NULL THEN ARRAY(SELECT l.model_id FROM live l) END,
                                    'both_windows') r
 CROSS JOIN LATERAL jsonb_to_recordset(r.checks) c(metric text, value float8, warn float8, alert float8, level text,
                                                warn_from text, alert_from text)
 WHERE r.period_kind IN ('window', 'outcome_window') AND c.level IN ('warn', 'alert')
UNION ALL
-- each shadow version of a model with a live version: its drift against its own baseline, and its realised
-- performance judged by its own predictions (shadow_performance_stats: the shadows' alone, in the windows)
SELECT s.name, s.version, s.kind, s.feature, s.period, s.sort_order, c.metric, c.value,
       CASE c.level WHEN 'alert' THEN c.alert ELSE c.warn END, c.level, true, coalesce(CASE c.level WHEN 'alert' THEN c.alert_from ELSE c.warn_from END, 'default')
  FROM pgscore.drift_stats_of(ARRAY(SELECT sh.model_id FROM shadows sh), 'window') s
 CROSS JOIN LATERAL jsonb_to_recordset(s.checks) c(metric text, value float8, warn float8, alert float8, level text,
                                                warn_from text, alert_from text)
 WHERE c.level IN ('warn', 'alert')
UNION ALL
SELECT r.name, r.version, 'performance', 'outcomes', r.period, r.sort_order, c.metric, (c.value)::float8,
       (CASE c.level WHEN 'alert' THEN c.alert ELSE c.warn END)::float8, c.level, true, coalesce(CASE c.level WHEN 'alert' THEN c.alert_from ELSE c.warn_from END, 'default')
  FROM pgscore.performance_stats_of(true, ARRAY(SELECT sh.model_id FROM shadows sh), 'window') r
 CROSS JOIN LATERAL jsonb_to_recordset(r.checks) c(metric text, value float8, warn float8, alert float8, level text,
                                                warn_from text, alert_from text)
 WHERE c.level IN ('warn', 'alert')
UNION ALL
-- the live versions' predicted-class mix (migration 0122): what 'class', subject 'mix'
SELECT s.name, s.version, 'class', 'mix', s.window_name, s.sort_order, c.metric, c.value,
       CASE c.level WHEN 'alert' THEN c.alert ELSE c.warn END, c.level, false, coalesce(CASE c.level WHEN 'alert' THEN c.alert_from ELSE c.warn_from END, 'default')
  -- (0149) the live versions named alone (it read class_drift_stats(), every live classifier's, and kept theirs)
  FROM pgscore.class_drift_stats_of(ARRAY(SELECT l.model_id FROM live l)) s
 CROSS JOIN LATERAL jsonb_to_recordset(s.checks) c(metric text, value float8, warn float8, alert float8, level text,
                                                warn_from text, alert_from text)
 WHERE c.level IN ('warn', 'alert')
$fn$;
