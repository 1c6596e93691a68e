-- 0158 to 0157: pgscore.health(text[]) as 0157 left it

CREATE OR REPLACE FUNCTION pgscore.health(p_models text[])
RETURNS TABLE (check_name text, state text, value float8, detail text)
LANGUAGE plpgsql
STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_unknown text;
    v_receiving boolean;
    v_behind boolean;
    v_lag interval;
    v_delay interval;
    v_now timestamptz := now();
    v_today date := (now() AT TIME ZONE 'UTC')::date;
    v_live integer;
    v_refreshed timestamptz;
    v_age float8;
    v_n bigint;
    v_oldest timestamptz;
    v_tries integer;
    v_unowned bigint;
    v_gone bigint;
    v_list text;
    v_last date;
    v_has_today boolean;
    v_has_tomorrow boolean;
    v_alert integer;
    v_warn integer;
BEGIN
    -- (0153) the checks of some models alone (a pipeline's probe of its own model: another team's alerts failed
    -- it): the wirings, queued profiles, shadow failures and alerts of these names; the refresh, the log's
    -- partitions and the standby are the database's. A name of no model is an error, not an ok
    IF p_models IS NOT NULL THEN
        SELECT string_agg(quote_nullable(n), ', ' ORDER BY n) INTO v_unknown  -- (a NULL too: it names none)
          FROM unnest(p_models) AS n
         WHERE n IS NULL OR NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = n);
        IF v_unknown IS NOT NULL OR cardinality(p_models) = 0 THEN
            RAISE EXCEPTION 'pgscore.health: no model named %', coalesce(v_unknown, '(an empty list)')
                USING ERRCODE = 'undefined_object',
                      HINT = 'list the models with: SELECT DISTINCT name FROM pgscore.model_versions (pgscore models); '
                             'pgscore.health() checks them all';
        END IF;
    END IF;
    -- the monitoring: refresh_monitoring() stores the alerts and rolls the log up (docs: every 5 minutes)
    SELECT count(*) INTO v_live FROM pgscore.live_models WHERE p_models IS NULL OR name = ANY (p_models);
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
    -- (0157) those of no wiring wait for an attach_rescoring of their profile table, and those whose profile table
    -- is gone (a tenant's schema dropped) for nothing: retry rescores neither, as the detail said of them all
    SELECT count(*), min(q.first_failed_at), max(q.attempts), count(*) FILTER (WHERE q.rescoring_id IS NULL),
           count(*) FILTER (WHERE q.rescoring_id IS NULL AND to_regclass(q.profile_table) IS NULL)
      INTO v_n, v_oldest, v_tries, v_unowned, v_gone FROM pgscore.error_queue q
     WHERE p_models IS NULL
        OR EXISTS (SELECT 1 FROM pgscore.rescoring r
                    WHERE r.rescoring_id = q.rescoring_id AND r.model_name = ANY (p_models));
    check_name := 'error_queue';
    value := v_n;
    state := CASE WHEN v_n = 0 THEN 'ok' WHEN v_now - v_oldest > interval '1 hour' THEN 'fail' ELSE 'warn' END;
    detail := CASE WHEN v_n = 0 THEN 'no profile waits'
                   ELSE format('%s profile(s) wait, the oldest since %s (%s ago), the most tried %s time(s)%s: '
                               'SELECT * FROM pgscore.error_queue for why; %s', v_n,
                               to_char(v_oldest AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"'),
                               date_trunc('second', v_now - v_oldest), v_tries,
                               CASE WHEN v_unowned > 0 THEN format(', %s of no wiring', v_unowned) ELSE '' END,
                               CASE WHEN v_unowned = 0 THEN 'pgscore retry rescores them'
                                    ELSE concat_ws('; ',
                                        CASE WHEN v_n > v_unowned THEN 'pgscore retry rescores those of a wiring' END,
                                        CASE WHEN v_unowned > v_gone THEN format(
                                            '%s of no wiring wait for the next attach_rescoring of their profile '
                                            'table', v_unowned - v_gone) END,
                                        CASE WHEN v_gone > 0 THEN format(
                                            '%s of no wiring name a profile table that no longer exists: nothing can '
                                            'rescore them, pgscore status gives the DELETE that clears them', v_gone)
                                            END) END) END;
    RETURN NEXT;

    -- wirings that do not rescore: no live version of their model, a table or the trigger gone or disabled
    WITH w AS (
        SELECT r.rescoring_id, r.event_table, r.profile_table, r.model_name, r.strict,
               to_regclass(r.event_table) AS events, to_regclass(r.profile_table) AS profiles,
               NOT EXISTS (SELECT 1 FROM pgscore.live_models l WHERE l.name = r.model_name) AS no_live,
               r.trigger_name
          FROM pgscore.rescoring r
         WHERE p_models IS NULL OR r.model_name = ANY (p_models)),
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
    detail := CASE WHEN v_n = 0 THEN format('%s wiring(s), each rescoring', (SELECT count(*) FROM pgscore.rescoring r
                                                                          WHERE p_models IS NULL
                                                                             OR r.model_name = ANY (p_models)))
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
      LEFT JOIN pgscore.models m ON m.model_id = f.model_id
     WHERE p_models IS NULL OR m.name = ANY (p_models);
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
         WHERE a.shadow IS NOT TRUE AND (p_models IS NULL OR a.model = ANY (p_models))
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

    -- (0153) a hot standby: how far its replay is behind (nothing here writes: rescoring, refresh_monitoring and
    -- maintain run on the primary, whose state the checks above read as replayed). A WAL receiver's pid is
    -- visible to any role; the rest of pg_stat_wal_receiver is not, and is not needed
    check_name := 'standby';
    IF NOT pg_is_in_recovery() THEN
        value := NULL;
        state := 'ok';
        detail := 'not a standby (not in recovery): this server takes the writes';
    ELSE
        v_receiving := EXISTS (SELECT 1 FROM pg_catalog.pg_stat_wal_receiver w WHERE w.pid IS NOT NULL);
        -- behind: received WAL past the page the replay ended in (a receiver (re)starts at a page's boundary, so
        -- a caught-up standby's receive LSN may lie at the end of that page, or before the replay's, not at it)
        v_behind := pg_last_wal_receive_lsn() - pg_last_wal_replay_lsn()
                    > (current_setting('wal_block_size')::numeric
                       - (pg_last_wal_replay_lsn() - '0/0'::pg_lsn) % current_setting('wal_block_size')::numeric)
                      % current_setting('wal_block_size')::numeric;
        v_lag := v_now - pg_last_xact_replay_timestamp();
        -- a standby delayed on purpose (recovery_min_apply_delay) is behind by that much: its lag is beyond it
        SELECT s.setting::bigint * interval '1 ms' INTO v_delay  -- (its unit is the millisecond)
          FROM pg_catalog.pg_settings s WHERE s.name = 'recovery_min_apply_delay';
        value := CASE WHEN v_receiving AND v_behind IS NOT TRUE THEN 0
                      WHEN v_lag IS NOT NULL THEN greatest(extract(epoch FROM v_lag - v_delay), 0) END;
        state := CASE WHEN NOT v_receiving THEN 'warn' WHEN value > 1800 THEN 'fail' WHEN value > 60 THEN 'warn'
                      WHEN value IS NULL THEN 'warn' ELSE 'ok' END;
        detail := CASE WHEN NOT v_receiving
                       THEN format('a standby with no WAL receiver: not streaming from the primary (replaying from an '
                                   'archive, or the primary unreachable); its last replayed transaction committed %s '
                                   'ago', coalesce(date_trunc('second', v_lag)::text, '(none since it started)'))
                       WHEN v_behind IS NOT TRUE
                       THEN 'a standby, streaming, its replay caught up with what it received'
                       WHEN v_lag IS NULL
                       THEN 'a standby, streaming, its replay behind what it received, no transaction replayed since '
                            'it started'
                       ELSE format('a standby, streaming, its replay %s behind the primary''s last transaction it '
                                   'replayed%s (a query on it that conflicts with replay holds it back up to '
                                   'max_standby_streaming_delay; so do the primary''s pgscore maintain days: '
                                   'docs/sql.md, ''On a standby'')', date_trunc('second', v_lag),
                                   CASE WHEN v_delay > interval '0' THEN format(', %s of it its recovery_min_apply_delay',
                                                                                v_delay) ELSE '' END) END
                  || '; writes (rescoring, refresh_monitoring, pgscore maintain, deploys) run on the primary';
    END IF;
    RETURN NEXT;
END
$fn$;
COMMENT ON FUNCTION pgscore.health(text[]) IS 'pgscore.health() of some models alone (migration 0153): their wirings, queued profiles, shadow failures and alerts; the refresh, the log''s partitions and the standby are the database''s';

COMMENT ON FUNCTION pgscore.health() IS 'A cheap health check, one row per check (monitoring_refresh, error_queue, rescoring, shadow_failures, log_partitions, alerts, standby), each ok, warn or fail with a value and what to do; reads small tables and the catalogs alone (no drift computed, no model loaded); pgscore health prints it';

-- (0158) the registry's triggers refusing local writes where a subscription writes it
DROP TRIGGER models_not_subscribed ON pgscore.models;
DROP TRIGGER deployments_not_subscribed ON pgscore.deployments;
DROP FUNCTION pgscore.refuse_subscribed_registry();
