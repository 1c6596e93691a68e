-- (0174, session 68 h2) whether the server's Python imports pgscore's module, for health()'s server_python check: a
-- server restarted without the PYTHONPATH naming pgscore's environment refused every score and every INSERT into a
-- wired event table (58P01), and health() said every wiring rescored. NULL where it imports, else why not. Not
-- granted: health() calls it as its owner
CREATE FUNCTION pgscore.server_python() RETURNS text
LANGUAGE plpython3u
STABLE
SET search_path = pg_catalog, pg_temp
AS $pl$
@@plpython/server_python.py@@
$pl$;
COMMENT ON FUNCTION pgscore.server_python() IS 'Internal to pgscore.health() (migration 0174): NULL where the server''s Python imports pgscore''s module (pgscore.pl), else the error its import raised (an ImportError''s message; another''s type and message)';

/*
 * (migration 0140) A cheap health check for a probe (Prometheus, Nagios, systemd): one row per check, each
 * ok, warn or fail, with a number a probe can graph or judge by its own threshold and one line saying what to
 * do. It reads small tables and the catalogs alone: no drift is computed (the alerts are those the last
 * refresh_monitoring stored), no model is loaded (pgscore status does that), the log is not read. Run as its
 * owner, so that pgscore_reader (a monitoring login) may call it: it returns counts, times and names of
 * tables and models, never a profile's key or a reason's text.
 */
CREATE FUNCTION pgscore.health(p_models text[])
RETURNS TABLE (check_name text, state text, value float8, detail text)
LANGUAGE plpgsql
STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- (0159) the ages in its details in one style, a probe's text whatever the caller's IntervalStyle: they said
-- 'last refresh PT1M21S ago' under a role's iso_8601, '@ 13 secs ago' under postgres_verbose (trial T21); and its
-- days in ISO whatever the caller's DateStyle: 'daily partitions until 14.12.2026 (UTC)' under German, '14/12/2026'
-- under 'SQL, DMY' (review r5)
SET IntervalStyle = 'postgres'
SET DateStyle = 'ISO, YMD'
-- (review r2, 0174) no JIT for its queries, whatever the caller's: with 100,000 profiles queued the queue's count was
-- planned over jit_above_cost and compiled at each call, 1.5-1.9 s where it ran in 0.4 s (a scraper's 1 s
-- statement_timeout cancelled it)
SET jit = off
AS $fn$
DECLARE
    v_unknown text;
    v_receiving boolean;
    v_behind boolean;
    v_lag interval;
    v_delay interval;
    -- (0185) its ages read at its statement's start, as metrics() reads them (0182): now(), its transaction's start,
    -- under-reported the oldest queued row's age in a health check inside a long transaction (warn where it was fail)
    v_now timestamptz := statement_timestamp();
    v_today date := (statement_timestamp() AT TIME ZONE 'UTC')::date;
    v_live integer;
    v_refreshed timestamptz;
    v_age float8;
    v_n bigint;
    v_oldest timestamptz;
    v_tries integer;
    v_unowned bigint;
    v_gone bigint;
    v_remade bigint;
    v_renamed bigint;
    v_sqlstate text;
    v_left bigint;
    v_moved bigint;
    v_handed bigint;
    v_sqlstate_n bigint;
    v_subs bigint;
    v_copies text;
    v_wired boolean;
    v_registry boolean;
    v_held oid[] := '{}';
    v_rel oid;
    v_sql text;
    v_exists boolean;
    v_lock_timeout text;
    v_list text;
    v_last date;
    v_has_today boolean;
    v_has_tomorrow boolean;
    v_alert integer;
    v_warn integer;
    v_import text;
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
    -- (session 67, h7) those of no wiring whose profile table's name is gone but that were queued in this database
    -- for a table there still (by its OID): renamed away, its attach_rescoring under the new name takes them over
    -- (they were counted as of a table that no longer exists: "nothing can rescore them")
    SELECT count(*), min(q.first_failed_at), max(q.attempts), count(*) FILTER (WHERE q.rescoring_id IS NULL),
           count(*) FILTER (WHERE q.rescoring_id IS NULL AND to_regclass(q.profile_table) IS NULL
                              AND NOT (q.profile_oid IS NOT NULL
                                       AND q.queue_oid = 'pgscore.error_queue'::regclass::oid
                                       AND q.queue_system = (SELECT (pg_control_system()).system_identifier)
                                       AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = q.profile_oid))),
           count(*) FILTER (WHERE q.rescoring_id IS NULL AND to_regclass(q.profile_table) IS NULL
                              AND q.profile_oid IS NOT NULL
                              AND q.queue_oid = 'pgscore.error_queue'::regclass::oid
                              AND q.queue_system = (SELECT (pg_control_system()).system_identifier)
                              AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = q.profile_oid)),
           -- (0160, session 66 review r4) those of no wiring queued in this database for a profile table dropped
           -- since, another made under its name: its next attach_rescoring deletes them (they said they waited for
           -- it); a row queued before 0160 keeps no OID (NULL), one of a restored dump another queue's: by name
           count(*) FILTER (WHERE q.rescoring_id IS NULL AND to_regclass(q.profile_table) IS NOT NULL
                              AND q.profile_oid IS NOT NULL
                              AND q.queue_oid = 'pgscore.error_queue'::regclass::oid
                              AND q.queue_system = (SELECT (pg_control_system()).system_identifier)
                              AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = q.profile_oid))
           -- (0173) those of a wiring queued in this database for its profile table renamed since, another made under
           -- its name: retry_failed leaves them (they were said to be rescored by pgscore retry)
           , count(*) FILTER (WHERE q.rescoring_id IS NOT NULL AND q.profile_oid IS NOT NULL
                                AND q.queue_oid = 'pgscore.error_queue'::regclass::oid
                                AND q.queue_system = (SELECT (pg_control_system()).system_identifier)
                                AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = q.profile_oid)
                                AND q.profile_oid <> (SELECT to_regclass(r.profile_table)::oid
                                                        FROM pgscore.rescoring r
                                                       WHERE r.rescoring_id = q.rescoring_id))
           -- (0173, review r4) those of a wiring queued for its profile table renamed since, no table made under its
           -- name: retry_failed skips the wiring, its WARNING giving the way (counted above as the others, they were
           -- sent to pgscore status for an UPDATE to a table of the name that status does not give)
           , count(*) FILTER (WHERE q.rescoring_id IS NOT NULL AND q.profile_oid IS NOT NULL
                                AND q.queue_oid = 'pgscore.error_queue'::regclass::oid
                                AND q.queue_system = (SELECT (pg_control_system()).system_identifier)
                                AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = q.profile_oid)
                                AND EXISTS (SELECT 1 FROM pgscore.rescoring r
                                             WHERE r.rescoring_id = q.rescoring_id
                                               AND to_regclass(r.profile_table) IS NULL))
           -- (0180, session 70) those of a wiring retry_failed handed over to a copy swapped in for their profile
           -- table that lacks their key (P0002, cause handed_over): retry leaves them, and pgscore status gives the
           -- DELETE; said here to be rescored by pgscore retry (of the table of the name now: not counted above)
           , count(*) FILTER (WHERE q.rescoring_id IS NOT NULL AND q.sqlstate = 'P0002'
                                AND q.cause ? 'handed_over'
                                AND q.profile_oid = (SELECT to_regclass(r.profile_table)::oid
                                                       FROM pgscore.rescoring r
                                                      WHERE r.rescoring_id = q.rescoring_id))
      INTO v_n, v_oldest, v_tries, v_unowned, v_gone, v_renamed, v_remade, v_left, v_moved, v_handed
      FROM pgscore.error_queue q
     WHERE p_models IS NULL
        OR EXISTS (SELECT 1 FROM pgscore.rescoring r
                    WHERE r.rescoring_id = q.rescoring_id AND r.model_name = ANY (p_models));
    -- (0165, session 67 trial T23) the SQLSTATE most of them share, and how many: 572 profiles queued by a full disk
    -- said how many waited, not why (53100); a code, not the reason's text, which this function never returns
    -- (0173) the rows without a SQLSTATE are a group too, as pgscore status counts them: where they were the
    -- largest, this named a smaller group's code as the one most share, and status another
    SELECT q.sqlstate, count(*) INTO v_sqlstate, v_sqlstate_n FROM pgscore.error_queue q
     WHERE p_models IS NULL
        OR EXISTS (SELECT 1 FROM pgscore.rescoring r
                    WHERE r.rescoring_id = q.rescoring_id AND r.model_name = ANY (p_models))
     GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1;
    check_name := 'error_queue';
    value := v_n;
    state := CASE WHEN v_n = 0 THEN 'ok' WHEN v_now - v_oldest > interval '1 hour' THEN 'fail' ELSE 'warn' END;
    detail := CASE WHEN v_n = 0 THEN 'no profile waits'
                   -- (0173) the caller that may not read the queue (pgscore_reader: its reasons may name keys)
                   -- is told who may (this function runs as its owner: the caller's role is SET ROLE's, or the login)
                   ELSE format('%s profile(s) wait, the oldest since %s (%s ago), the most tried %s time(s)%s: '
                               'SELECT * FROM pgscore.error_queue for why%s; %s', v_n,
                               to_char(v_oldest AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"'),
                               date_trunc('second', greatest(v_now - v_oldest, interval '0')), v_tries,
                               concat(CASE WHEN v_sqlstate_n IS NOT NULL
                                           THEN format(', %s with %s', v_sqlstate_n,
                                                       coalesce('SQLSTATE ' || v_sqlstate, 'no SQLSTATE')) END,
                                      CASE WHEN v_unowned > 0 THEN format(', %s of no wiring', v_unowned) END),
                               CASE WHEN NOT has_table_privilege(coalesce(nullif(current_setting('role'), 'none'),
                                                                          session_user),
                                                                 'pgscore.error_queue', 'SELECT')
                                    THEN ' (as pgscore_app or pgscore_admin, or pgscore status run as one: '
                                         'this role may not read it, its reasons may name keys)' END,
                               CASE WHEN v_unowned = 0 AND v_left = 0 AND v_moved = 0 AND v_handed = 0
                                    THEN 'pgscore retry rescores them'
                                    ELSE concat_ws('; ',
                                        CASE WHEN v_n > v_unowned + v_left + v_moved + v_handed
                                             THEN 'pgscore retry rescores those of a wiring' END,
                                        CASE WHEN v_handed > 0 THEN format(
                                            '%s of a wiring were handed over to a copy swapped in for the profile '
                                            'table they were queued for, which lacks their key (SQLSTATE P0002): '
                                            'pgscore retry leaves them; pgscore status gives the DELETE that clears '
                                            'them where the profiles are gone (else insert their rows, then pgscore '
                                            'retry)', v_handed) END,
                                        CASE WHEN v_left > 0 THEN format(
                                            '%s of a wiring were queued for its profile table renamed since, another '
                                            'made under its name, which pgscore retry leaves: pgscore status gives '
                                            'the UPDATE that hands them to the table of the name (a copy of it), or '
                                            'the DELETE', v_left) END,
                                        CASE WHEN v_moved > 0 THEN format(
                                            '%s of a wiring were queued for its profile table renamed since, no table '
                                            'made under its name: pgscore retry skips the wiring, its WARNING giving '
                                            'the way to a wiring of the new name (or rename it back)', v_moved) END,
                                        CASE WHEN v_unowned > v_gone + v_renamed + v_remade THEN format(
                                            '%s of no wiring wait for the next attach_rescoring of their profile '
                                            'table', v_unowned - v_gone - v_renamed - v_remade) END,
                                        CASE WHEN v_renamed > 0 THEN format(
                                            '%s of no wiring were queued for a profile table renamed since: the next '
                                            'attach_rescoring of it under its new name takes them over (pgscore '
                                            'status names it)', v_renamed) END,
                                        CASE WHEN v_remade > 0 THEN format(
                                            '%s of no wiring were queued for a profile table dropped since, another '
                                            'made under its name: nothing can rescore them, the next '
                                            'attach_rescoring of that table deletes them; pgscore status gives the '
                                            'DELETE that clears them', v_remade) END,
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
               r.trigger_name, r.replication_trigger
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
                   CASE WHEN w.no_live THEN format('model %s has no live version', quote_literal(w.model_name)) END,
                   -- (0158) the rows a subscription applies fire the wiring's triggers for replicated rows alone,
                   -- enabled REPLICA (pgscore status said NOT RESCORING where this check said ok)
                   CASE WHEN w.events IS NOT NULL AND w.replication_trigger IS NOT NULL AND NOT EXISTS (
                            SELECT 1 FROM pg_catalog.pg_trigger t
                             WHERE t.tgrelid = w.events AND t.tgname = w.replication_trigger AND t.tgenabled = 'R'
                               AND t.tgfoid = 'pgscore.rescore_replicated()'::regprocedure)
                        THEN 'its row trigger for replicated rows is dropped, disabled or enabled for local sessions'
                        END,
                   CASE WHEN w.events IS NOT NULL AND EXISTS (
                            SELECT 1 FROM pg_catalog.pg_trigger t
                             WHERE t.tgrelid = w.events AND t.tgname = w.replication_trigger AND t.tgnargs > 1
                               AND t.tgfoid = 'pgscore.rescore_replicated()'::regprocedure)
                         AND NOT EXISTS (
                            SELECT 1 FROM pg_catalog.pg_trigger t
                             WHERE t.tgrelid = w.events AND t.tgname = w.replication_trigger || '_commit'
                               AND t.tgenabled = 'R' AND t.tgfoid = 'pgscore.rescore_replicated()'::regprocedure)
                        THEN 'its commit trigger for replicated rows is dropped, disabled or enabled for local '
                             'sessions (the rows staged are not rescored)' END,
                   -- (0183, review r2 of session 71) the statement trigger enabled ALWAYS beside the triggers for
                   -- replicated rows (a way docs/sql.md gives for an ETL loader's session_replication_role = replica,
                   -- never with p_replicated): such a session's rows counted twice, and this check said ok
                   CASE WHEN w.events IS NOT NULL AND w.replication_trigger IS NOT NULL AND EXISTS (
                            SELECT 1 FROM pg_catalog.pg_trigger t
                             WHERE t.tgrelid = w.events AND t.tgname = w.trigger_name AND t.tgenabled = 'A')
                        THEN format('its statement trigger is enabled ALWAYS beside its triggers for replicated '
                                    'rows: the rows of a session with session_replication_role = replica are '
                                    'counted twice (ALTER TABLE ... ENABLE TRIGGER %s)', quote_ident(w.trigger_name))
                        END,
                   CASE WHEN w.events IS NOT NULL AND w.replication_trigger IS NULL AND EXISTS (
                            SELECT 1 FROM pg_catalog.pg_subscription_rel sr WHERE sr.srrelid = w.events)
                        THEN 'a subscription writes its event table and it has no trigger for replicated rows (the '
                             'rows replication applies fire no statement trigger)' END)
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

    -- (0158) the subscriptions of logical replication that write a wired table (of these models) or one of
    -- pgscore's own (a registry published from another database): disabled, their apply worker not running (it
    -- exits at each error, a duplicate key or a column missing here, and the launcher starts it again after
    -- wal_retrieve_retry_interval), or such a table's initial copy not done. Their events are not applied, so
    -- their profiles are not rescored: the scores go stale with every check above ok. A copy that runs (its sync
    -- worker copying, no copy error counted) is how each subscription starts, for as long as the table takes: said,
    -- not warned of. A standby runs no worker (logical replication workers start once recovery ends): its check
    -- leaves them to the primary's, and says what the catalogs it replays say (disabled; the events copied first)
    -- (0172) a wired table a subscription has yet to copy that holds rows here already (loaded, or kept from a
    -- former subscription): its copy fails on each key the publisher also has, at every retry, for ever (and an
    -- events' copy waits for its profiles' for as long); pgscore refuses an events' copy into kept events. Not one
    -- that another subscription writes too (several publishers' rows in one table). Read with a short lock_timeout
    -- (a probe never waits behind an ALTER TABLE queued for the copy's lock): a table it cannot read is not said
    v_lock_timeout := current_setting('lock_timeout');
    FOR v_rel, v_sql IN
        SELECT DISTINCT sr.srrelid, format('SELECT EXISTS (SELECT 1 FROM %I.%I)', n.nspname, c.relname)
          FROM pg_catalog.pg_subscription_rel sr
          JOIN pg_catalog.pg_subscription s ON s.oid = sr.srsubid
          JOIN pg_catalog.pg_class c ON c.oid = sr.srrelid
          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE s.subdbid = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = current_database())
           -- its copy started and not running now ('d', no sync worker of its own: it failed, or waits for a
           -- retry), so those rows are not its own (uncommitted while it runs): a copy not started yet, or running, is
           -- not said (the publisher's keys may all be others)
           AND sr.srsubstate = 'd'
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_subscription a
                            WHERE a.subid = sr.srsubid AND a.relid = sr.srrelid AND a.pid IS NOT NULL)
           -- a wired table or a partition of one (by its ancestors, which lock nothing: pg_partition_tree of a
           -- wired table locks each partition, and a probe waited behind one locked ACCESS EXCLUSIVE; review r3)
           AND EXISTS (SELECT 1 FROM pgscore.rescoring r,
                              LATERAL (SELECT sr.srrelid::regclass UNION ALL
                                       SELECT p.relid FROM pg_catalog.pg_partition_ancestors(sr.srrelid) p) a (relid)
                        WHERE (p_models IS NULL OR r.model_name = ANY (p_models))
                          AND a.relid IN (to_regclass(r.event_table), to_regclass(r.profile_table)))
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_subscription_rel o
                            WHERE o.srrelid = sr.srrelid AND o.srsubid <> sr.srsubid)
    LOOP
        BEGIN
            PERFORM set_config('lock_timeout', '100ms', true);
            EXECUTE v_sql INTO v_exists;
        EXCEPTION WHEN insufficient_privilege OR lock_not_available THEN
            v_exists := false;
        END;
        IF v_exists THEN
            v_held := v_held || v_rel;
        END IF;
    END LOOP;
    PERFORM set_config('lock_timeout', v_lock_timeout, true);
    -- (0172) the wired tables' partitions too: a table subscribed by partition (publish_via_partition_root false),
    -- found by the ancestors of the tables subscribed (pg_partition_ancestors locks nothing; pg_partition_tree of a
    -- wired table locked its partitions, and the probe waited behind one locked ACCESS EXCLUSIVE; review r3)
    WITH rel AS (
        SELECT to_regclass(r.event_table) AS rel FROM pgscore.rescoring r
         WHERE p_models IS NULL OR r.model_name = ANY (p_models)
        UNION
        SELECT to_regclass(r.profile_table) FROM pgscore.rescoring r
         WHERE p_models IS NULL OR r.model_name = ANY (p_models)
        UNION
        SELECT sr.srrelid FROM pg_catalog.pg_subscription_rel sr
         WHERE EXISTS (SELECT 1 FROM pgscore.rescoring r, pg_catalog.pg_partition_ancestors(sr.srrelid) a
                        WHERE (p_models IS NULL OR r.model_name = ANY (p_models))
                          AND a.relid IN (to_regclass(r.event_table), to_regclass(r.profile_table)))
        UNION
        SELECT c.oid FROM pg_catalog.pg_class c
         WHERE c.relnamespace = 'pgscore'::regnamespace AND c.relkind IN ('r', 'p')),
    sub AS (
        SELECT s.subname, s.subenabled, s.subdisableonerr,
               EXISTS (SELECT 1 FROM pg_catalog.pg_stat_subscription a
                        WHERE a.subid = s.oid AND a.relid IS NULL AND a.pid IS NOT NULL) AS applying,
               -- a sync worker of its own copying, or every copy of these tables done but for the apply worker's
               -- last step (s: synchronized, caught up by the apply worker)
               EXISTS (SELECT 1 FROM pg_catalog.pg_stat_subscription a
                        WHERE a.subid = s.oid AND a.relid IS NOT NULL AND a.pid IS NOT NULL)
                 OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_subscription_rel sr
                                 WHERE sr.srsubid = s.oid AND sr.srsubstate NOT IN ('r', 's')
                                   AND sr.srrelid IN (SELECT rel.rel FROM rel)) AS syncing,
               (SELECT string_agg(format('%s (%s)', sr.srrelid::regclass,
                                         CASE sr.srsubstate WHEN 'i' THEN 'not started' WHEN 'd' THEN 'copying'
                                              ELSE 'catching up' END), ', ' ORDER BY sr.srrelid::regclass::text)
                  FROM pg_catalog.pg_subscription_rel sr
                 WHERE sr.srsubid = s.oid AND sr.srsubstate <> 'r' AND sr.srrelid IN (SELECT rel.rel FROM rel))
                   AS copying,
               coalesce(st.apply_error_count, 0) AS apply_errors, coalesce(st.sync_error_count, 0) AS sync_errors,
               -- a wired profile table still being copied while its events' copy is done: that copy's rescoring
               -- created the missing profiles (p_missing_profile 'create'), on whose keys the profiles' copy fails
               -- at every retry (a copy running beside it is waited for, not overtaken)
               (SELECT string_agg(DISTINCT format('%s before %s', to_regclass(r.event_table),
                                                  to_regclass(r.profile_table)), ', ')
                  FROM pgscore.rescoring r
                  JOIN pg_catalog.pg_subscription_rel sp
                    -- (0166) not copied yet: once copied ('f', 's': the apply worker catching up) it fails no more
                    -- (0172) a partition of it too
                    ON sp.srsubid = s.oid AND sp.srsubstate IN ('i', 'd')
                   AND (sp.srrelid = to_regclass(r.profile_table) OR to_regclass(r.profile_table) IN (
                           SELECT a.relid FROM pg_catalog.pg_partition_ancestors(sp.srrelid) a))
                  JOIN pg_catalog.pg_subscription_rel se
                    ON se.srsubstate = 'r'
                   AND (se.srrelid = to_regclass(r.event_table) OR to_regclass(r.event_table) IN (
                           SELECT a.relid FROM pg_catalog.pg_partition_ancestors(se.srrelid) a))
                 WHERE r.missing_profile = 'create' AND (p_models IS NULL OR r.model_name = ANY (p_models)))
                   AS events_first,
               -- (0166) an event table's copy that waits for its profiles': the row trigger for replicated rows fails
               -- it until a subscription has copied the profile table, and PostgreSQL starts it again
               (SELECT string_agg(DISTINCT format('%s for %s', to_regclass(r.event_table), to_regclass(r.profile_table)),
                                  ', ')
                  FROM pgscore.rescoring r
                  JOIN pg_catalog.pg_subscription_rel se
                    ON se.srsubid = s.oid AND se.srsubstate IN ('i', 'd')
                   AND (se.srrelid = to_regclass(r.event_table) OR to_regclass(r.event_table) IN (
                           SELECT a.relid FROM pg_catalog.pg_partition_ancestors(se.srrelid) a))
                  JOIN pg_catalog.pg_subscription_rel sp
                    ON sp.srsubstate IN ('i', 'd')
                   AND (sp.srrelid = to_regclass(r.profile_table) OR to_regclass(r.profile_table) IN (
                           SELECT a.relid FROM pg_catalog.pg_partition_ancestors(sp.srrelid) a))
                 WHERE p_models IS NULL OR r.model_name = ANY (p_models)) AS waiting,
               -- (0172) whether the profiles it waits for hold rows here already: that copy fails, and it waits for ever
               EXISTS (SELECT 1 FROM pgscore.rescoring r
                         JOIN pg_catalog.pg_subscription_rel se
                           ON se.srsubid = s.oid AND se.srsubstate IN ('i', 'd')
                          AND (se.srrelid = to_regclass(r.event_table) OR to_regclass(r.event_table) IN (
                                  SELECT a.relid FROM pg_catalog.pg_partition_ancestors(se.srrelid) a))
                         JOIN pg_catalog.pg_subscription_rel sp
                           ON sp.srsubstate IN ('i', 'd') AND sp.srrelid = ANY (v_held)
                          AND (sp.srrelid = to_regclass(r.profile_table) OR to_regclass(r.profile_table) IN (
                                  SELECT a.relid FROM pg_catalog.pg_partition_ancestors(sp.srrelid) a))
                        WHERE p_models IS NULL OR r.model_name = ANY (p_models)) AS waits_for_held,
               -- (0172) its tables not copied yet that hold rows here already, and its publications (for the way on)
               (SELECT string_agg(sr.srrelid::regclass::text, ', ' ORDER BY sr.srrelid::regclass::text)
                  FROM pg_catalog.pg_subscription_rel sr
                 WHERE sr.srsubid = s.oid AND sr.srsubstate IN ('i', 'd') AND sr.srrelid = ANY (v_held)) AS held,
               (SELECT string_agg(quote_ident(p), ', ') FROM unnest(s.subpublications) p) AS pubs,
               cardinality(s.subpublications) AS npubs,
               -- (review r3) of those, the wired event tables (a partition by its table): TRUNCATE alone counts
               -- their events a second time at the copy, the counters to recount with pgscore backfill
               (SELECT string_agg(DISTINCT format('%s, an event table: TRUNCATE alone counts its events a second '
                                                  'time once copied; recount its counters then with pgscore backfill '
                                                  '--table %s', r.event_table, r.event_table), '; ')
                  FROM pg_catalog.pg_subscription_rel sr
                  JOIN pgscore.rescoring r
                    ON (sr.srrelid = to_regclass(r.event_table) OR to_regclass(r.event_table) IN (
                           SELECT a.relid FROM pg_catalog.pg_partition_ancestors(sr.srrelid) a))
                 WHERE sr.srsubid = s.oid AND sr.srsubstate IN ('i', 'd') AND sr.srrelid = ANY (v_held)
                   AND (p_models IS NULL OR r.model_name = ANY (p_models))) AS held_events,
               -- (0166) what its rows are: a wired table's, pgscore's own (a registry published from another database)
               EXISTS (SELECT 1 FROM pg_catalog.pg_subscription_rel sr JOIN pg_catalog.pg_class c ON c.oid = sr.srrelid
                        WHERE sr.srsubid = s.oid AND c.relnamespace = 'pgscore'::regnamespace) AS registry,
               EXISTS (SELECT 1 FROM pg_catalog.pg_subscription_rel sr
                        WHERE sr.srsubid = s.oid AND sr.srrelid IN (SELECT rel.rel FROM rel)
                          AND sr.srrelid NOT IN (SELECT c.oid FROM pg_catalog.pg_class c
                                                  WHERE c.relnamespace = 'pgscore'::regnamespace)) AS wired
          FROM pg_catalog.pg_subscription s
          LEFT JOIN pg_catalog.pg_stat_subscription_stats st ON st.subid = s.oid
         WHERE s.subdbid = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = current_database())
           AND EXISTS (SELECT 1 FROM pg_catalog.pg_subscription_rel sr
                        WHERE sr.srsubid = s.oid AND sr.srrelid IN (SELECT rel.rel FROM rel))),
    why AS (
        SELECT sub.subname, sub.copying, sub.registry, sub.wired,
               concat_ws('; ',
                   CASE WHEN NOT sub.subenabled
                        THEN format('disabled: nothing it publishes is applied (ALTER SUBSCRIPTION %I ENABLE)',
                                    sub.subname)
                        WHEN NOT sub.applying AND NOT pg_is_in_recovery()
                        THEN format('enabled, but its apply worker is not running: it stops at each error and '
                                    'starts again (%s apply and %s copy errors counted in '
                                    'pg_stat_subscription_stats; the server log says why)',
                                    sub.apply_errors, sub.sync_errors) END,
                   CASE WHEN sub.copying IS NOT NULL
                         AND (NOT sub.subenabled
                              OR NOT pg_is_in_recovery() AND (sub.sync_errors > 0 OR NOT sub.syncing OR NOT sub.applying))
                        THEN format('the initial copy of %s is not done (%s copy errors counted%s)', sub.copying,
                                    sub.sync_errors,
                                    coalesce('; waiting for the profiles'' copy, ' || sub.waiting || ': pgscore fails '
                                             'an event table''s copy until its profiles are copied, and '
                                             -- (0166) disable_on_error: PostgreSQL disabled it at that error, no retry
                                             || CASE WHEN NOT sub.subenabled AND sub.subdisableonerr AND sub.sync_errors > 0
                                                     THEN format('disable_on_error = true disabled the subscription '
                                                                 'at that error: ALTER SUBSCRIPTION %I SET '
                                                                 '(disable_on_error = false), then ENABLE', sub.subname)
                                                     -- (0172) a profiles' copy that fails: no end by itself
                                                     WHEN sub.waits_for_held
                                                     THEN 'it waits for as long as their copy fails (below)'
                                                     ELSE 'PostgreSQL starts it again' END, '')) END,
                   -- (0172) tables not copied yet that hold rows here: their copy fails on each shared key, for ever
                   CASE WHEN sub.held IS NOT NULL AND sub.events_first IS NULL
                        THEN format('%s %s rows here already: %s copy fails at every retry on each key the publisher '
                                    'also has (duplicate key value violates unique constraint, in the server log; an '
                                    'event table''s copy, pgscore refuses it: its events would be counted again); '
                                    'keep this server''s rows and copy none of the publisher''s (on the publisher '
                                    'ALTER PUBLICATION %s DROP TABLE each%s, here ALTER SUBSCRIPTION %I REFRESH '
                                    'PUBLICATION, then ADD TABLE it there again and here REFRESH PUBLICATION WITH '
                                    '(copy_data = false)), or TRUNCATE it here for the copy to bring the publisher''s',
                                    sub.held, CASE WHEN sub.held LIKE '%, %' THEN 'hold' ELSE 'holds' END,
                                    CASE WHEN sub.held LIKE '%, %' THEN 'their' ELSE 'its' END,
                                    -- (review r3) ALTER PUBLICATION takes one name: of several, the one that
                                    -- publishes it ('ALTER PUBLICATION p, p2 DROP TABLE' was no statement)
                                    CASE WHEN sub.npubs > 1 THEN 'P' ELSE coalesce(sub.pubs, 'PUBLICATION') END,
                                    CASE WHEN sub.npubs > 1
                                         THEN format(' (P: the one of %s that publishes it)', sub.pubs) ELSE '' END,
                                    sub.subname) || coalesce(' (' || sub.held_events || ')', '') END,
                   CASE WHEN sub.events_first IS NOT NULL
                        THEN format('the events were copied first (%s): their rescoring created the missing '
                                    'profiles, on whose keys the profiles'' copy fails at every retry; DROP '
                                    'SUBSCRIPTION %I, TRUNCATE both tables and subscribe to the profiles first',
                                    sub.events_first, sub.subname) END) AS reason
          FROM sub)
    SELECT count(*) FILTER (WHERE why.reason <> ''), count(*),
           string_agg(format('subscription %I: %s', why.subname, why.reason), '; ' ORDER BY why.subname)
               FILTER (WHERE why.reason <> ''),
           string_agg(format('subscription %I: %s', why.subname, why.copying), '; ' ORDER BY why.subname)
               FILTER (WHERE why.reason = '' AND why.copying IS NOT NULL),
           coalesce(bool_or(why.wired) FILTER (WHERE why.reason <> ''), false),
           coalesce(bool_or(why.registry) FILTER (WHERE why.reason <> ''), false)
      INTO v_n, v_subs, v_list, v_copies, v_wired, v_registry
      FROM why;
    check_name := 'subscriptions';
    value := v_n;
    state := CASE WHEN v_n = 0 THEN 'ok' ELSE 'warn' END;
    detail := CASE WHEN v_subs = 0 THEN 'no subscription writes a wired table or pgscore''s'
                   WHEN v_n = 0 AND pg_is_in_recovery()
                   THEN format('%s subscription(s) write wired tables or pgscore''s; a standby: their workers run on '
                               'the primary (pgscore health there says whether they apply)', v_subs)
                   WHEN v_n = 0 THEN format('%s subscription(s) write wired tables or pgscore''s, each applying',
                                            v_subs) || coalesce('; initial copies running: ' || v_copies, '')
                   -- (0166) what a stopped subscription of the registry means: the publisher's deploys do not come
                   ELSE v_list || ': their rows are not applied, so '
                        || coalesce(nullif(concat_ws(', and ',
                                     CASE WHEN v_wired THEN 'their profiles are not rescored' END,
                                     CASE WHEN v_registry
                                          THEN 'the registry here lags the publisher''s (its deploys, activations and '
                                               'rollbacks do not reach this server, which scores with the versions '
                                               'live as of the last change applied)' END), ''),
                                    'their profiles are not rescored')
                        || ' (docs/operations.md, ''A fleet: events by logical replication'')' END;
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
        -- (review r3 of session 71) a silence in force at now(), as metrics(), pgscore.alerts and the table define
        -- it (0185 read it at v_now, this statement's start: in a transaction begun before a silence, health said it
        -- silenced where metrics counted it)
        HAVING NOT bool_and(EXISTS (
                   SELECT 1 FROM pgscore.alert_silences q
                    WHERE q.model = a.model AND q.lifted_at IS NULL AND q.starts_at <= now() AND q.ends_at > now()
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

    -- (0174, session 68 h2) the server's Python imports pgscore, in this session as in every other: a server
    -- restarted without the PYTHONPATH naming its environment (pg_ctl restart from a shell, an environment file
    -- lost) refuses every score and every INSERT into a wired event table with 58P01, where every check above said
    -- ok. 45-90 ms in a new session (PL/Python's start and the import), nothing after
    -- (review r2) PL/Python that cannot start at all (plpython3u's library or libpython gone after an OS
    -- upgrade), or an exception past the function's own: the check's fail, not health()'s error (every check lost)
    BEGIN
        v_import := pgscore.server_python();
    EXCEPTION WHEN OTHERS THEN
        v_import := SQLERRM;
    END;
    check_name := 'server_python';
    value := CASE WHEN v_import IS NULL THEN 0 ELSE 1 END;
    state := CASE WHEN v_import IS NULL THEN 'ok' ELSE 'fail' END;
    detail := CASE WHEN v_import IS NULL
                   THEN 'the server''s Python imports pgscore: scoring and rescoring can run'
                   ELSE format('the server''s Python cannot import pgscore (%s): every score, and every INSERT into a '
                               'wired event table, fails with 58P01 until the server is restarted with PYTHONPATH '
                               'naming the site-packages directory of pgscore''s environment (any pgscore command of '
                               'that environment prints the value; docs/operations.md, When the server cannot import '
                               'pgscore)', v_import) END;
    RETURN NEXT;
END
$fn$;
COMMENT ON FUNCTION pgscore.health(text[]) IS 'pgscore.health() of some models alone (migration 0153): their wirings, queued profiles, shadow failures and alerts; the refresh, the log''s partitions and the standby are the database''s';

-- every model (0140's function, reading 0153's)
CREATE FUNCTION pgscore.health()
RETURNS TABLE (check_name text, state text, value float8, detail text)
LANGUAGE plpgsql
STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    RETURN QUERY SELECT * FROM pgscore.health(NULL::text[]);
END
$fn$;
COMMENT ON FUNCTION pgscore.health() IS 'A cheap health check, one row per check (monitoring_refresh, error_queue, rescoring, subscriptions, shadow_failures, log_partitions, alerts, standby, server_python), each ok, warn or fail with a value and what to do; reads small tables and the catalogs alone (no drift computed, no model loaded); pgscore health prints it';

-- (0174, session 68 h2) health()'s numbers that its details alone said, per model, for a scraper that reads SQL as
-- a pgscore_reader login (which may not read error_queue or alert_state): the queue's depth and its oldest
-- profile's age, the conditions at alert and at warn (as health() counts them), the last refresh's time
CREATE FUNCTION pgscore.metrics()
RETURNS TABLE (metric text, model text, value float8)
LANGUAGE sql
STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off  -- (review r2) as health()'s
AS $fn$
WITH queue AS (
    SELECT coalesce(r.model_name, q.model_name) AS model, count(*) AS n, min(q.first_failed_at) AS oldest,
           -- (0178) the profiles whose rescoring failed in the last hour (first or again: an INSERT's, a retry's):
           -- a session warns of a wiring's failure once a minute, not at each statement (session 68's trial T25)
           -- (0182) the failures' own times (clock_timestamp(): a failure late in a transaction that ran over an
           -- hour was stamped with its start, now(), and never counted), read against this statement's start, not
           -- the reader's transaction's
           count(*) FILTER (WHERE q.first_failed_at > statement_timestamp() - interval '1 hour') AS last_hour
      FROM pgscore.error_queue q
      LEFT JOIN pgscore.rescoring r ON r.rescoring_id = q.rescoring_id
     GROUP BY 1
), firing AS (  -- health()'s count: a condition silenced in every window it fires in is not counted
    SELECT a.model, a.level
      FROM pgscore.alert_state a
     WHERE a.shadow IS NOT TRUE
     GROUP BY a.model, a.version, a.what, a.subject, a.metric, a.level
    HAVING NOT bool_and(EXISTS (
               SELECT 1 FROM pgscore.alert_silences q
                WHERE q.model = a.model AND q.lifted_at IS NULL AND q.starts_at <= now() AND q.ends_at > now()
                  AND (q.what IS NULL OR q.what = a.what) AND (q.subject IS NULL OR q.subject = a.subject)
                  AND (q.metric IS NULL OR q.metric = a.metric)
                  AND (q.window_name IS NULL OR q.window_name = a.window_name)
                  AND (q.shadow IS NULL OR q.shadow = coalesce(a.shadow, false))))
), alerts AS (
    SELECT f.model, count(*) FILTER (WHERE f.level = 'alert') AS alert, count(*) FILTER (WHERE f.level = 'warn') AS warn
      FROM firing f GROUP BY f.model
), names AS (  -- (0178) and the models whose alerts are stored, deleted since (health() counts them: 0174 left them out)
    SELECT m.name FROM pgscore.models m
    UNION
    SELECT queue.model FROM queue
    UNION
    SELECT alerts.model FROM alerts
)
SELECT x.metric, x.model, x.value
  FROM (SELECT 1 AS o, 'error_queue_profiles' AS metric, n.name AS model, coalesce(q.n, 0)::float8 AS value
          FROM names n LEFT JOIN queue q ON q.model IS NOT DISTINCT FROM n.name
        UNION ALL
        SELECT 2, 'error_queue_oldest_seconds', n.name, greatest(coalesce(extract(epoch FROM statement_timestamp() - q.oldest), 0), 0)::float8
          FROM names n LEFT JOIN queue q ON q.model IS NOT DISTINCT FROM n.name
        UNION ALL
        SELECT 3, 'alerts_at_alert', n.name, coalesce(a.alert, 0)::float8
          FROM names n LEFT JOIN alerts a ON a.model = n.name WHERE n.name IS NOT NULL
        UNION ALL
        SELECT 4, 'alerts_at_warn', n.name, coalesce(a.warn, 0)::float8
          FROM names n LEFT JOIN alerts a ON a.model = n.name WHERE n.name IS NOT NULL
        UNION ALL
        SELECT 5, 'error_queue_queued_last_hour', n.name, coalesce(q.last_hour, 0)::float8
          FROM names n LEFT JOIN queue q ON q.model IS NOT DISTINCT FROM n.name
        UNION ALL
        -- (0178) a row whatever monitoring_state holds: NULL where never refreshed or its row is gone (a partial
        -- restore); 0174 gave no row then, and a scraper cannot alert on a row it never sees
        SELECT 6, 'monitoring_refreshed_at', NULL,
               (SELECT extract(epoch FROM s.refreshed_at)::float8 FROM pgscore.monitoring_state s)) x
 ORDER BY x.o, x.model NULLS FIRST
$fn$;
COMMENT ON FUNCTION pgscore.metrics() IS 'For a scraper (migration 0174): per model, error_queue_profiles, error_queue_oldest_seconds (0: none queued), alerts_at_alert and alerts_at_warn (as health() counts them), error_queue_queued_last_hour (0178); monitoring_refreshed_at, always a row (epoch seconds, NULL: never); reads small tables alone';

-- (0182, session 70 h4) the model versions the calling backend keeps loaded and the bytes each holds, as the cache
-- pgscore.model_cache counts them: an SRE could see a backend's memory from the host alone. The calling backend's
-- alone (another's Python is its own); STABLE as current_setting() (it writes nothing; the session's state,
-- which scoring changes between statements), RESTRICTED (a parallel worker's Python holds none of the leader's)
CREATE FUNCTION pgscore.cached_models()
RETURNS TABLE (model text, version integer, model_id bigint, engine text, footprint_bytes bigint, lru_rank integer)
LANGUAGE plpython3u
STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $pl$
@@plpython/cached_models.py@@
$pl$;
COMMENT ON FUNCTION pgscore.cached_models() IS 'The model versions this backend keeps loaded (migration 0182), each with its footprint in bytes as pgscore.model_cache counts it and its lru_rank (1: the first let go past the limit); the calling backend''s alone, no other''s';
