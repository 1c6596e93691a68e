-- 0144 to 0145: an empty monitoring_state no longer silences monitoring (monitoring_periods reads it as never
-- refreshed, refresh_monitoring puts its row back, health says so); count_shadow_failure takes an improper name for
-- a table it does not write (42501), not its parser's bare 42601

CREATE OR REPLACE VIEW pgscore.monitoring_periods AS
WITH p AS (
    SELECT 'window'::text AS period_kind, w.window_name AS period, w.sort_order,
           -- (in UTC: a day is 24 hours whatever the reader's TimeZone, where a DST change makes it 23 or 25)
           coalesce((now() AT TIME ZONE 'UTC' - w.length) AT TIME ZONE 'UTC', '-infinity'::timestamptz) AS starts,
           -- up to now: every row this statement can see was logged before it began (a minute's margin);
           -- a row stamped later (a backfill's mistake) is in no window until its time comes
           statement_timestamp() + interval '1 minute' AS ends
      FROM pgscore.drift_windows w
    UNION ALL
    SELECT 'day', to_char(d AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 0, d, d + interval '24 hours'
      FROM generate_series(date_trunc('day', now(), 'UTC') - interval '696 hours',  -- 29 days of 24 hours: UTC days
                           date_trunc('day', now(), 'UTC'), interval '24 hours') d
), c AS (
    SELECT p.*, CASE WHEN date_bin('5 minutes', p.starts, '2000-01-01 00:00:00+00') = p.starts THEN p.starts
                     ELSE date_bin('5 minutes', p.starts, '2000-01-01 00:00:00+00') + interval '5 minutes'
                END AS bucket_from
      FROM p
)
SELECT c.period_kind, c.period, c.sort_order, c.starts, c.ends, c.bucket_from,
       greatest(least(greatest(coalesce(s.rolled_until, '-infinity'), c.bucket_from), c.ends), c.bucket_from)
           AS bucket_to
  -- (0136) its one row (a boolean key that must be true) through LIMIT 1, which the planner takes for one row:
  -- monitoring_state is rarely analyzed (a new install's never, until autovacuum counts 50 refreshes), and
  -- unanalyzed it was taken for 1,810 rows, each period as many; performance_stats_of then planned a hash join
  -- of 1e14 rows in 16.7 million batches, which cost every call 0.5-0.7 s whatever the models asked for
  -- (0145) and its row missing (a partial restore that left the table empty) as never refreshed: '-infinity', no
  -- rollup read, every row from the log. Joined, it gave no period at all, and every drift and performance view
  -- and alerts_of came back empty, as if nothing were logged
  FROM c LEFT JOIN (SELECT ms.rolled_until FROM pgscore.monitoring_state ms LIMIT 1) s ON true;
COMMENT ON VIEW pgscore.monitoring_periods IS 'Internal: each window and each of the last 30 UTC days, and which part of it the rollups cover';

CREATE OR REPLACE FUNCTION pgscore.refresh_monitoring(p_relook interval DEFAULT '1 hour', p_rebuild boolean DEFAULT false)
RETURNS TABLE (rolled_from timestamptz, rolled_until timestamptz, rollup_rows bigint, firing bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET work_mem = '256MB'
SET enable_sort = off
SET enable_incremental_sort = off
AS $fn$
DECLARE
    v_day     timestamptz;
    v_next    timestamptz;
    v_chunk   bigint;
    v_until   timestamptz;
    v_from    timestamptz;
    v_to      timestamptz := date_bin('5 minutes', now(), '2000-01-01 00:00:00+00');
    v_rows    bigint;
    v_firing  bigint;
    v_models  bigint[];
    v_buckets timestamptz[];
    v_all     boolean;
BEGIN
    IF p_relook IS NULL OR p_rebuild IS NULL OR p_relook < interval '0' THEN
        RAISE EXCEPTION 'pgscore.refresh_monitoring: p_relook must be an interval >= 0 and p_rebuild true or false'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- (0145) its one row put back where a partial restore left the table empty (it stayed empty, and each refresh
    -- said 0 firing while every view read no period): what the rollups hold is not known then to be what the log
    -- holds, so they are rolled up again, as a rebuild rolls them
    INSERT INTO pgscore.monitoring_state DEFAULT VALUES ON CONFLICT (singleton) DO NOTHING;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    p_rebuild := p_rebuild OR v_rows > 0;
    -- one refresh at a time; a second waits and then finds little to do
    SELECT s.rolled_until INTO v_until FROM pgscore.monitoring_state s FOR UPDATE;
    v_from := CASE WHEN p_rebuild THEN '-infinity'::timestamptz
                   ELSE date_bin('5 minutes', v_until - p_relook, '2000-01-01 00:00:00+00') END;
    v_all := v_from = '-infinity';  -- a rebuild, or the first refresh ever: every row of the log
    IF p_rebuild THEN
        DELETE FROM pgscore.drift_rollup;
        DELETE FROM pgscore.drift_rollup_day;
    ELSIF v_all THEN
        DELETE FROM pgscore.drift_rollup r WHERE r.bucket < v_to;
    ELSE
        -- the buckets of [v_from, v_to) to roll up again: those whose rows are not the ones their
        -- rollups counted (new buckets, and rows of transactions that committed late). The log's rows
        -- are never updated (a trigger refuses it) and retention only deletes them, which lowers the
        -- count, so a bucket whose count of rows is what its rollups hold has not changed; each row
        -- counts once in every (kind, position)
        SELECT coalesce(array_agg(coalesce(l.model_id, r.model_id)), '{}'),
               coalesce(array_agg(coalesce(l.bucket, r.bucket)), '{}')
          INTO v_models, v_buckets
          FROM (SELECT l.model_id, date_bin('5 minutes', l.logged_at, '2000-01-01 00:00:00+00') AS bucket,
                       count(*) AS n
                  FROM pgscore.prediction_log l
                 WHERE l.logged_at >= v_from AND l.logged_at < v_to
                   AND l.model_id IN (SELECT b.model_id FROM pgscore.baselines b)
                 GROUP BY 1, 2) l
          FULL JOIN (SELECT c.model_id, c.bucket, max(c.n) AS n
                       FROM (SELECT r.model_id, r.bucket, sum(r.n) AS n FROM pgscore.drift_rollup r
                              WHERE r.bucket >= v_from AND r.bucket < v_to
                              GROUP BY r.model_id, r.bucket, r.kind, r.position) c
                      GROUP BY c.model_id, c.bucket) r ON r.model_id = l.model_id AND r.bucket = l.bucket
         WHERE l.n IS DISTINCT FROM r.n;
        DELETE FROM pgscore.drift_rollup r USING unnest(v_models, v_buckets) AS c(model_id, bucket)
         WHERE r.model_id = c.model_id AND r.bucket = c.bucket;
    END IF;
    -- (values beyond +-1e290 summed as +-1e290, as drift_counts sums them: no sum overflows)
    -- one UTC day at a time (the log's partitions), so each aggregate is a hash over at most a day of
    -- values and temp space does not grow with the log; a rebuild starts at the oldest row
    IF v_from = '-infinity' THEN
        SELECT date_bin('5 minutes', min(l.logged_at), '2000-01-01 00:00:00+00') INTO v_from
          FROM pgscore.prediction_log l;
    END IF;
    v_rows := 0;
    v_day := v_from;
    WHILE v_day IS NOT NULL AND v_day < v_to LOOP
        v_next := least(date_trunc('day', v_day, 'UTC') + interval '24 hours', v_to);
        IF v_all THEN
            INSERT INTO pgscore.drift_rollup (model_id, bucket, kind, position, bin, n, total, n_out)
            SELECT v.model_id, date_bin('5 minutes', v.logged_at, '2000-01-01 00:00:00+00'), v.kind, v.position,
                   v.bin, count(*), coalesce(sum(least(greatest(v.x, -1e290), 1e290)) FILTER (WHERE v.bin >= 0), 0),
                   count(*) FILTER (WHERE v.out_of_range)
              FROM pgscore.prediction_values v
             WHERE v.logged_at >= v_day AND v.logged_at < v_next
             GROUP BY 1, 2, 3, 4, 5;
        ELSIF EXISTS (SELECT 1 FROM unnest(v_buckets) AS b(bucket) WHERE b.bucket >= v_day AND b.bucket < v_next) THEN
            -- bucket by bucket, each through the log's (model_id, logged_at) index (OFFSET 0 keeps the
            -- planner from scanning the whole span once for every baseline row and bucket)
            INSERT INTO pgscore.drift_rollup (model_id, bucket, kind, position, bin, n, total, n_out)
            SELECT c.model_id, c.bucket, v.kind, v.position, v.bin, count(*),
                   coalesce(sum(least(greatest(v.x, -1e290), 1e290)) FILTER (WHERE v.bin >= 0), 0), count(*) FILTER (WHERE v.out_of_range)
              FROM unnest(v_models, v_buckets) AS c(model_id, bucket)
             CROSS JOIN LATERAL (SELECT pv.* FROM pgscore.prediction_values pv
                                  WHERE pv.model_id = c.model_id AND pv.logged_at >= c.bucket
                                    AND pv.logged_at < c.bucket + interval '5 minutes' OFFSET 0) v
             WHERE c.bucket >= v_day AND c.bucket < v_next
             GROUP BY 1, 2, 3, 4, 5;
        ELSE
            v_day := v_next;  -- nothing of this day changed: its day rollup stays as it is
            CONTINUE;
        END IF;
        GET DIAGNOSTICS v_chunk = ROW_COUNT;
        v_rows := v_rows + v_chunk;
        -- and the whole UTC day again from its 5-minute rollups (those before v_day stay as they were)
        DELETE FROM pgscore.drift_rollup_day d WHERE d.day = date_trunc('day', v_day, 'UTC');
        INSERT INTO pgscore.drift_rollup_day (model_id, day, kind, position, bin, n, total, n_out)
        SELECT r.model_id, date_trunc('day', v_day, 'UTC'), r.kind, r.position, r.bin, sum(r.n), sum(r.total),
               sum(r.n_out)
          FROM pgscore.drift_rollup r
         WHERE r.bucket >= date_trunc('day', v_day, 'UTC') AND r.bucket < date_trunc('day', v_day, 'UTC') + interval '24 hours'
         GROUP BY r.model_id, r.kind, r.position, r.bin;
        v_day := v_next;
    END LOOP;
    UPDATE pgscore.monitoring_state s SET rolled_until = greatest(v_to, s.rolled_until), refreshed_at = now();

    -- the alerts are planned as any query: with the sorts turned off (for the rollups' hash aggregates)
    -- the firing view took five times as long; the function's SET clauses end these with the call
    SET LOCAL enable_sort = on;
    SET LOCAL enable_incremental_sort = on;
    -- outcomes observed within the look-back (all of them on a rebuild) find a prediction logged late
    PERFORM pgscore.match_outcomes(coalesce(CASE WHEN NOT v_all THEN v_until - p_relook END, '-infinity'));
    -- alert_state keeps when each firing condition was first seen; cleared ones go
    WITH f AS MATERIALIZED (SELECT * FROM pgscore.firing),
    gone AS (
        DELETE FROM pgscore.alert_state s
         WHERE NOT EXISTS (SELECT 1 FROM f WHERE f.model = s.model AND f.version = s.version AND f.what = s.what
                             AND f.subject = s.subject AND f.window_name = s.window_name
                             AND f.metric = s.metric AND f.level = s.level)
    )
    -- with whether each is a shadow's as this refresh read it (pgscore status counts them apart: the deployments
    -- by refreshed_at, the transaction's start, missed a version made live or a shadow set while the refresh ran)
    INSERT INTO pgscore.alert_state AS s (model, version, what, subject, window_name, metric, level, shadow)
    SELECT DISTINCT ON (f.model, f.version, f.what, f.subject, f.window_name, f.metric, f.level)
           f.model, f.version, f.what, f.subject, f.window_name, f.metric, f.level, f.shadow FROM f
    ON CONFLICT (model, version, what, subject, window_name, metric, level) DO UPDATE SET shadow = EXCLUDED.shadow
       WHERE s.shadow IS DISTINCT FROM EXCLUDED.shadow;
    SELECT count(*) INTO v_firing FROM pgscore.alert_state;
    RETURN QUERY SELECT coalesce(v_from, v_to), greatest(v_to, v_until), v_rows, v_firing;
END
$fn$;
COMMENT ON FUNCTION pgscore.refresh_monitoring(interval, boolean) IS 'Roll the prediction log up by whole 5-minute bucket and by UTC day (looking back p_relook for buckets whose rows changed, by rows of transactions that committed late, and rolling up only those and the new ones; p_rebuild rolls up everything again) and record when each firing alert was first seen. Run it every few minutes from pg_cron or cron';

CREATE OR REPLACE FUNCTION pgscore.health()
RETURNS TABLE (check_name text, state text, value float8, detail text)
LANGUAGE plpgsql
STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_now timestamptz := now();
    v_today date := (now() AT TIME ZONE 'UTC')::date;
    v_live integer;
    v_refreshed timestamptz;
    v_age float8;
    v_n bigint;
    v_oldest timestamptz;
    v_tries integer;
    v_unowned bigint;
    v_list text;
    v_last date;
    v_has_today boolean;
    v_has_tomorrow boolean;
    v_alert integer;
    v_warn integer;
BEGIN
    -- the monitoring: refresh_monitoring() stores the alerts and rolls the log up (docs: every 5 minutes)
    SELECT count(*) INTO v_live FROM pgscore.live_models;
    SELECT s.refreshed_at INTO v_refreshed FROM pgscore.monitoring_state s;
    v_age := extract(epoch FROM v_now - v_refreshed);
    check_name := 'monitoring_refresh';
    value := v_age;
    IF NOT FOUND THEN  -- (0145) a partial restore left the table empty: the next refresh puts the row back
        state := 'warn';
        detail := 'pgscore.monitoring_state has no row (a partial restore?): no alert is stored, and the drift views '
                  'read the whole log, until SELECT FROM pgscore.refresh_monitoring() puts it back (it rolls the log '
                  'up again); schedule it every 5 minutes';
    ELSIF v_refreshed IS NULL THEN
        state := CASE WHEN v_live > 0 THEN 'warn' ELSE 'ok' END;
        detail := 'never refreshed' || CASE WHEN v_live > 0 THEN ': no alert is stored, and the drift views read the '
                  'whole log; schedule SELECT FROM pgscore.refresh_monitoring() every 5 minutes' ELSE ' (no live model)'
                  END;
    ELSE
        state := CASE WHEN v_age > 3600 THEN 'fail' WHEN v_age > 600 THEN 'warn' ELSE 'ok' END;
        detail := format('last refresh %s ago (%s)', date_trunc('second', v_now - v_refreshed),
                         to_char(v_refreshed AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"'))
                  || CASE WHEN state <> 'ok' THEN '; is the job running SELECT FROM pgscore.refresh_monitoring() '
                          '(every 5 minutes) failing or stopped?' ELSE '' END;
    END IF;
    RETURN NEXT;

    -- profiles the rescoring trigger could not score: their events committed, their scores wait for a retry
    SELECT count(*), min(q.first_failed_at), max(q.attempts), count(*) FILTER (WHERE q.rescoring_id IS NULL)
      INTO v_n, v_oldest, v_tries, v_unowned FROM pgscore.error_queue q;
    check_name := 'error_queue';
    value := v_n;
    state := CASE WHEN v_n = 0 THEN 'ok' WHEN v_now - v_oldest > interval '1 hour' THEN 'fail' ELSE 'warn' END;
    detail := CASE WHEN v_n = 0 THEN 'no profile waits'
                   ELSE format('%s profile(s) wait, the oldest since %s (%s ago), the most tried %s time(s)%s: '
                               'SELECT * FROM pgscore.error_queue for why; pgscore retry rescores them', v_n,
                               to_char(v_oldest AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"'),
                               date_trunc('second', v_now - v_oldest), v_tries,
                               CASE WHEN v_unowned > 0 THEN format(', %s of no wiring', v_unowned) ELSE '' END) END;
    RETURN NEXT;

    -- wirings that do not rescore: no live version of their model, a table or the trigger gone or disabled
    WITH w AS (
        SELECT r.rescoring_id, r.event_table, r.profile_table, r.model_name, r.strict,
               to_regclass(r.event_table) AS events, to_regclass(r.profile_table) AS profiles,
               NOT EXISTS (SELECT 1 FROM pgscore.live_models l WHERE l.name = r.model_name) AS no_live,
               r.trigger_name
          FROM pgscore.rescoring r),
    why AS (
        SELECT w.rescoring_id, w.event_table, w.profile_table, w.model_name, w.strict,
               concat_ws(', ',
                   CASE WHEN w.events IS NULL THEN 'the event table is gone (renamed or dropped)' END,
                   CASE WHEN w.profiles IS NULL THEN 'the profile table is gone (renamed or dropped)' END,
                   CASE WHEN w.events IS NOT NULL AND NOT EXISTS (
                            SELECT 1 FROM pg_catalog.pg_trigger t
                             WHERE t.tgrelid = w.events AND t.tgname = w.trigger_name AND t.tgenabled IN ('O', 'A'))
                        THEN 'its trigger is dropped or disabled' END,
                   CASE WHEN w.no_live THEN format('model %s has no live version', quote_literal(w.model_name)) END)
                   AS reason
          FROM w)
    SELECT count(*),
           string_agg(format('wiring %s: %s -> %s: %s%s', why.rescoring_id, why.event_table, why.profile_table,
                             why.reason, CASE WHEN why.strict THEN ' (strict: its INSERTs fail)' ELSE '' END),
                      '; ' ORDER BY why.rescoring_id)
      INTO v_n, v_list
      FROM why WHERE why.reason <> '';
    check_name := 'rescoring';
    value := v_n;
    state := CASE WHEN v_n = 0 THEN 'ok' ELSE 'fail' END;
    detail := CASE WHEN v_n = 0 THEN format('%s wiring(s), each rescoring', (SELECT count(*) FROM pgscore.rescoring))
                   ELSE v_list || ' (events are kept and their profiles queued; pgscore status says what fixes it)' END;
    RETURN NEXT;

    -- versions scored in shadow that failed to score in the last day (counted since the shadow was set)
    SELECT coalesce(sum(f.profiles), 0),
           string_agg(format('%s v%s on %s: %s profile(s), the last %s (%s)', m.name, m.version, f.relation,
                             f.profiles, to_char(f.last_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"'),
                             f.sqlstate), '; ' ORDER BY f.last_at DESC)
      INTO v_n, v_list
      FROM (SELECT s.model_id, s.relation, s.sqlstate, sum(s.profiles) AS profiles, max(s.last_at) AS last_at
              FROM pgscore.shadow_failures s
             GROUP BY 1, 2, 3 HAVING max(s.last_at) > v_now - interval '1 day') f
      LEFT JOIN pgscore.models m ON m.model_id = f.model_id;
    check_name := 'shadow_failures';
    value := v_n;
    state := CASE WHEN v_n = 0 THEN 'ok' ELSE 'warn' END;
    detail := CASE WHEN v_n = 0 THEN 'no shadow failed to score in the last day'
                   ELSE v_list || ' (pgscore status: why, and the pgscore shadow --off that stops it)' END;
    RETURN NEXT;

    -- the audit log's daily partitions (create_log_partitions, which pgscore maintain runs): a day without one
    -- sends its rows to the default partition, which retention cannot drop by the day
    WITH d AS (
        SELECT to_date(substring(c.relname, '^prediction_log_([0-9]{8})$'), 'YYYYMMDD') AS day
          FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'pgscore.prediction_log'::regclass)
    SELECT max(d.day), coalesce(bool_or(d.day = v_today), false), coalesce(bool_or(d.day = v_today + 1), false)
      INTO v_last, v_has_today, v_has_tomorrow FROM d;
    check_name := 'log_partitions';
    value := v_last - v_today;
    state := CASE WHEN NOT v_has_today THEN 'fail' WHEN NOT v_has_tomorrow THEN 'warn' ELSE 'ok' END;
    detail := CASE WHEN NOT v_has_today THEN format('no partition for today (%s UTC): its audit rows go to the '
                                                    'default partition; run pgscore maintain (daily, from cron)', v_today)
                   WHEN NOT v_has_tomorrow THEN format('no partition for tomorrow (%s UTC): run pgscore maintain (daily, '
                                                       'from cron)', v_today + 1)
                   ELSE format('daily partitions until %s (UTC), %s day(s) after today''s', v_last, v_last - v_today) END;
    RETURN NEXT;

    -- the live versions' alerts as the last refresh stored them (a condition: a metric of a feature, the score or
    -- the performance at a level, in however many windows); one silenced in every window it fires in not counted
    WITH c AS (
        SELECT a.model, a.level
          FROM pgscore.alert_state a
         WHERE a.shadow IS NOT TRUE
         GROUP BY a.model, a.version, a.what, a.subject, a.metric, a.level
        HAVING NOT bool_and(EXISTS (
                   SELECT 1 FROM pgscore.alert_silences q
                    WHERE q.model = a.model AND q.lifted_at IS NULL AND q.starts_at <= v_now AND q.ends_at > v_now
                      AND (q.what IS NULL OR q.what = a.what) AND (q.subject IS NULL OR q.subject = a.subject)
                      AND (q.metric IS NULL OR q.metric = a.metric)
                      AND (q.window_name IS NULL OR q.window_name = a.window_name)
                      AND (q.shadow IS NULL OR q.shadow = coalesce(a.shadow, false)))))
    SELECT count(*) FILTER (WHERE c.level = 'alert'), count(*) FILTER (WHERE c.level = 'warn'),
           (SELECT string_agg(format('%s: %s at alert, %s at warn', x.model, x.alert, x.warn), '; ' ORDER BY x.model)
              FROM (SELECT c2.model, count(*) FILTER (WHERE c2.level = 'alert') AS alert,
                           count(*) FILTER (WHERE c2.level = 'warn') AS warn
                      FROM c AS c2 GROUP BY c2.model) x)
      INTO v_alert, v_warn, v_list FROM c;
    check_name := 'alerts';
    value := v_alert;
    state := CASE WHEN v_alert > 0 THEN 'fail' WHEN v_warn > 0 THEN 'warn' ELSE 'ok' END;
    detail := CASE WHEN v_refreshed IS NULL THEN 'no refresh has stored any alert'
                   WHEN v_alert + v_warn = 0 THEN 'no condition at warn or alert at the last refresh'
                   ELSE format('conditions at the last refresh (%s): %s (details: pgscore drift --no-refresh)',
                               to_char(v_refreshed AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"'), v_list) END;
    RETURN NEXT;
END
$fn$;
COMMENT ON FUNCTION pgscore.health() IS 'A cheap health check, one row per check (monitoring_refresh, error_queue, rescoring, shadow_failures, log_partitions, alerts), each ok, warn or fail with a value and what to do; reads small tables and the catalogs alone (no drift computed, no model loaded); pgscore health prints it';

CREATE OR REPLACE FUNCTION pgscore.count_shadow_failure(p_model_id bigint, p_relation text, p_sqlstate text, p_profiles bigint,
                                             p_message text)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_row integer;
    v_role text := coalesce(nullif(current_setting('role'), 'none'), session_user);
    v_oid regclass;
    v_relation text;
BEGIN
    IF p_model_id IS NULL OR p_relation IS NULL OR p_sqlstate IS NULL OR p_profiles IS NULL OR p_message IS NULL THEN
        RAISE EXCEPTION 'pgscore.count_shadow_failure: model_id, relation, sqlstate, profiles and message must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF p_profiles < 0 THEN
        RAISE EXCEPTION 'pgscore.count_shadow_failure: the profiles or rows of % that model_id % did not score must not be negative, got %',
                p_relation, p_model_id, p_profiles
            USING ERRCODE = 'invalid_parameter_value', HINT = 'a count of failures only grows: give how many it did not score';
    END IF;
    IF p_sqlstate !~ '^[0-9A-Z]{5}$' THEN
        RAISE EXCEPTION 'pgscore.count_shadow_failure: % is not a SQLSTATE (the failure of model_id % in %)',
                quote_literal(p_sqlstate), p_model_id, p_relation
            USING ERRCODE = 'invalid_parameter_value', HINT = 'give the five characters of the error''s SQLSTATE, 38000 where the model raised';
    END IF;
    -- a table the caller writes as it scores, by its name as the trigger and score_table give it (regclass's text
    -- under this function's search_path: schema-qualified), resolved exactly; not a temporary table (0137: 0134
    -- took any schema's table of the name, a temporary one among them); counted under its schema-qualified name.
    -- A name that is no name of a relation (too many dots, another database's, an unclosed quote, empty) is one
    -- it does not write either (0145: to_regclass raised its parser's bare 42601, 0A000 or 42602)
    BEGIN
        v_oid := to_regclass(p_relation);
    EXCEPTION WHEN syntax_error OR feature_not_supported OR invalid_name THEN
        v_oid := NULL;
    END;
    SELECT format('%I.%I', n.nspname, c.relname) INTO v_relation
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = v_oid AND c.relkind IN ('r', 'p', 'f') AND c.relpersistence <> 't'
       AND has_any_column_privilege(v_role, c.oid, 'UPDATE');
    IF v_relation IS NULL THEN
        RAISE EXCEPTION 'pgscore.count_shadow_failure: role % does not write %: a shadow''s failures are counted in the table its caller scores, which it may UPDATE, named schema-qualified, not a temporary table (model_id %); nothing was counted',
                quote_ident(v_role), p_relation, p_model_id
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'the rescoring trigger and score_table count them, as the role that writes the table, under its schema-qualified name';
    END IF;
    -- shadow_versions' rule for this one version (its newest mark a start, and no go-live of it since), read
    -- from the tables: the view's DISTINCT ON over every mark cost this path twice as much
    IF NOT EXISTS (SELECT 1 FROM (SELECT s.model_name, s.action, s.since_deployment FROM pgscore.shadows s
                                   WHERE s.model_id = p_model_id ORDER BY s.shadow_id DESC LIMIT 1) s
                    WHERE s.action = 'start'
                      AND NOT EXISTS (SELECT 1 FROM pgscore.deployments d
                                       WHERE d.model_name = s.model_name AND d.model_id = p_model_id
                                         AND d.deployment_id > coalesce(s.since_deployment, 0) AND d.action <> 'retire')) THEN
        RETURN false;
    END IF;
    -- this backend's row, else its second, whose lock no transaction it PREPAREd holds (the lock and the row go to
    -- the prepared transaction until COMMIT PREPARED: waiting for it never ended); both held: nothing counted,
    -- where a prepared transaction holds a lock on the table. Any login may take an advisory lock: one granted
    -- nothing that held both of this backend's had its failures counted nothing. No prepared transaction holding
    -- a lock on the table, none holds a row of it (nor one counted into without the lock, here), and the count
    -- waits for none
    IF pg_try_advisory_xact_lock(hashtext('pgscore.shadow_failures'), pg_backend_pid()) THEN
        v_row := pg_backend_pid();
    ELSIF pg_try_advisory_xact_lock(hashtext('pgscore.shadow_failures'), -pg_backend_pid()) THEN
        v_row := -pg_backend_pid();
    ELSIF NOT EXISTS (SELECT 1 FROM pg_locks l
                       WHERE l.locktype = 'relation' AND l.relation = 'pgscore.shadow_failures'::regclass
                         AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
                         AND l.pid IS NULL) THEN
        v_row := pg_backend_pid();
    ELSE
        RETURN NULL;
    END IF;
    INSERT INTO pgscore.shadow_failures AS f (model_id, relation, sqlstate, backend_pid, statements, profiles, first_at,
                                              last_at, last_message)
    VALUES (p_model_id, v_relation, p_sqlstate, v_row, 1, p_profiles, clock_timestamp(), clock_timestamp(),
            p_message)
    ON CONFLICT (model_id, relation, sqlstate, backend_pid) DO UPDATE
       SET statements = f.statements + 1, profiles = f.profiles + EXCLUDED.profiles, last_at = EXCLUDED.last_at,
           last_message = EXCLUDED.last_message;
    RETURN true;
END
$fn$;
COMMENT ON FUNCTION pgscore.count_shadow_failure(bigint, text, text, bigint, text) IS 'Internal: count a statement or chunk in which a version scored in shadow did not score in a table the caller may UPDATE, named schema-qualified, not temporary (42501 for another, and for a name that is no relation''s: 0134, 0137, 0145), under its schema-qualified name (this backend''s row of pgscore.shadow_failures, its second while a transaction it prepared holds the first); false, nothing counted, for a version that is no shadow now; NULL, nothing counted, where transactions it prepared hold both rows';
