/*
 * Rescoring on INSERT (see py_src/pgscore/rescoring.py). attach_rescoring
 * checks and stores a wiring and creates a statement-level AFTER INSERT
 * trigger with a transition table on the event table; rescore_events is that
 * trigger; rescore_replicated, a row trigger enabled for replication sessions
 * only, stages each row a subscription's apply worker applies (which fires no
 * statement trigger) and, as a deferred constraint trigger, does the same for
 * the transaction's staged rows at its commit; retry_failed drains the error queue. All run with a fixed
 * search_path: counter expressions must qualify their own objects. The
 * trigger and retry_failed run with JIT off: a statement touching thousands
 * of profiles is estimated past jit_above_cost (the window counters'
 * subqueries), and compiling it cost more than running it (up to 444 ms of
 * a 700 ms 10,000-event INSERT, by auto_explain, when migration 0009 turned
 * it off).
 */
CREATE FUNCTION pgscore.attach_rescoring(
    p_event_table regclass, p_profile_table regclass, p_key name, p_model text, p_score_column name,
    p_counters jsonb DEFAULT '{}'::jsonb, p_scored_at_column name DEFAULT 'scored_at',
    p_profile_key name DEFAULT NULL, p_missing_profile text DEFAULT 'create', p_strict boolean DEFAULT false,
    p_event_id_column name DEFAULT NULL, p_replicated boolean DEFAULT NULL,
    p_label_column name DEFAULT NULL)
RETURNS bigint
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $pl$
@@plpython/attach_rescoring.py@@
$pl$;
COMMENT ON FUNCTION pgscore.attach_rescoring(regclass, regclass, name, text, name, jsonb, name, name, text, boolean, name, boolean, name) IS 'Wire an event table to a profile table: each INSERT updates the profile counters and rescores the profiles it touches in the same statement (p_replicated: and each row logical replication applies, by a row trigger enabled for replication; NULL: where a subscription writes the table; p_label_column: and writes a classifier''s predicted class, as pgscore.predict gives it, into that column); returns the rescoring_id';

CREATE FUNCTION pgscore.detach_rescoring(p_event_table regclass, p_profile_table regclass DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r record;
    v_n integer := 0;
    v_missing text;
    v_held bigint;
    v_profiles bigint;
BEGIN
    -- (session 66) a standby, or a read-only transaction, refuses its writes: said so, with where to run it, as
    -- record_outcome since 0154 (it was PostgreSQL's bare 25006, no hint)
    IF current_setting('transaction_read_only') = 'on' THEN
        PERFORM pgscore.refuse_read_only('pgscore.detach_rescoring writes the wiring (pgscore.rescoring and its triggers)');
    END IF;
    IF p_event_table IS NULL THEN
        RAISE EXCEPTION 'pgscore.detach_rescoring: the event table is NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- an oid cast to regclass is not checked: it would read as "- is not wired" (regclass prints 0 as -)
    v_missing := CASE WHEN NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = p_event_table) THEN 'event'
                      WHEN p_profile_table IS NOT NULL
                           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = p_profile_table) THEN 'profile'
                 END;
    IF v_missing IS NOT NULL THEN
        RAISE EXCEPTION 'pgscore.detach_rescoring: there is no relation with oid % (the % table)',
              CASE v_missing WHEN 'event' THEN p_event_table::oid ELSE p_profile_table::oid END, v_missing
            USING ERRCODE = 'undefined_table',
                  HINT = 'name the table, as ''schema.table''::regclass does; a wiring whose table was dropped is removed with pgscore.forget_rescoring(rescoring_id) (SELECT * FROM pgscore.rescoring lists them)';
    END IF;
    FOR r IN SELECT w.rescoring_id, w.trigger_name, w.replication_trigger, w.event_table, w.profile_table,
                    -- the table its trigger is on: this one, or the one that had its name, since renamed
                    (SELECT t.tgrelid::regclass FROM pg_catalog.pg_trigger t
                      WHERE t.tgname = w.trigger_name AND t.tgfoid = 'pgscore.rescore_events()'::regprocedure
                      ORDER BY t.tgrelid = p_event_table DESC LIMIT 1) AS on_table,
                    -- and its row trigger for replicated rows, where it has one
                    (SELECT t.tgrelid::regclass FROM pg_catalog.pg_trigger t
                      WHERE t.tgname = w.replication_trigger AND t.tgfoid = 'pgscore.rescore_replicated()'::regprocedure
                      ORDER BY t.tgrelid = p_event_table DESC LIMIT 1) AS replicated_on,
                    -- and the constraint trigger that rescores the rows staged by it at the commit
                    w.replication_trigger || '_commit' AS commit_trigger,
                    (SELECT t.tgrelid::regclass FROM pg_catalog.pg_trigger t
                      WHERE t.tgname = w.replication_trigger || '_commit'
                        AND t.tgfoid = 'pgscore.rescore_replicated()'::regprocedure
                      ORDER BY t.tgrelid = p_event_table DESC LIMIT 1) AS commit_on
               FROM pgscore.rescoring w
              -- by name, or by its trigger on this table when the table it names has no such trigger (the
              -- table was renamed since; not a trigger of the same name restored on another table)
              WHERE (w.event_table = p_event_table::text
                     OR (w.trigger_name IN (SELECT t.tgname FROM pg_catalog.pg_trigger t WHERE t.tgrelid = p_event_table)
                         AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t
                                          WHERE t.tgrelid = to_regclass(w.event_table) AND t.tgname = w.trigger_name)))
                AND (p_profile_table IS NULL OR w.profile_table = p_profile_table::text)
              ORDER BY w.rescoring_id
    LOOP
        -- the row first, in rescoring_id order: its DELETE is the lock a concurrent detach or forget waits on (a
        -- SELECT ... FOR UPDATE took UPDATE on pgscore.rescoring, which pgscore_admin holds no more: migration 0082),
        -- and one that removed it meanwhile leaves nothing to remove
        DELETE FROM pgscore.rescoring w WHERE w.rescoring_id = r.rescoring_id;
        CONTINUE WHEN NOT FOUND;
        IF r.on_table IS NOT NULL THEN  -- (dropped by hand, it is gone already)
            EXECUTE format('DROP TRIGGER %I ON %s', r.trigger_name, r.on_table);
        END IF;
        IF r.replicated_on IS NOT NULL THEN
            EXECUTE format('DROP TRIGGER %I ON %s', r.replication_trigger, r.replicated_on);
        END IF;
        IF r.commit_on IS NOT NULL THEN
            EXECUTE format('DROP TRIGGER %I ON %s', r.commit_trigger, r.commit_on);
        END IF;
        -- the replicated events a two_phase subscription held back for it (pgscore.replicated_pending): nothing
        -- would count them once the wiring is gone (retry_failed folds those of the wirings there are), and
        -- pgscore status would count them for ever; deleted with it, saying so
        WITH d AS (DELETE FROM pgscore.replicated_pending q WHERE q.rescoring_id = r.rescoring_id RETURNING q.entity_key)
        SELECT count(*), count(DISTINCT d.entity_key) INTO v_held, v_profiles FROM d;
        IF v_held > 0 THEN
            RAISE WARNING 'pgscore.detach_rescoring: % replicated event(s) of % profile(s) of % held back by a two_phase subscription (pgscore.replicated_pending) were deleted with wiring % of %, not counted',
                  v_held, v_profiles, r.profile_table, r.rescoring_id, r.event_table
                USING HINT = 'their profiles'' counters and scores lack them; to count them, run SELECT * FROM pgscore.retry_failed() before removing a wiring (it counts those no prepared transaction holds: pg_prepared_xacts)';
        END IF;
        v_n := v_n + 1;
    END LOOP;
    -- triggers of pgscore's on this table that no wiring owns (a dump of the table restored without
    -- pgscore.rescoring's rows): they rescore nothing and warn at every INSERT (not when one profile
    -- table's wiring is asked for: that call says whether it was there)
    FOR r IN SELECT t.tgname FROM pg_catalog.pg_trigger t
              WHERE p_profile_table IS NULL
                AND t.tgrelid = p_event_table
                AND t.tgfoid IN ('pgscore.rescore_events()'::regprocedure, 'pgscore.rescore_replicated()'::regprocedure)
                AND NOT EXISTS (SELECT 1 FROM pgscore.rescoring w
                                 WHERE t.tgname IN (w.trigger_name, w.replication_trigger, w.replication_trigger || '_commit')
                                   AND (to_regclass(w.event_table) = p_event_table
                                        OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger o
                                                        WHERE o.tgrelid = to_regclass(w.event_table)
                                                          AND o.tgname = t.tgname)))
              ORDER BY t.tgname
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', r.tgname, p_event_table);
        RAISE NOTICE 'pgscore.detach_rescoring: dropped trigger % on %, which belonged to no wiring', quote_ident(r.tgname), p_event_table;
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
COMMENT ON FUNCTION pgscore.detach_rescoring(regclass, regclass) IS 'Remove the wiring (all of the event table''s, or the one to p_profile_table) and its triggers (the statement trigger, and the two triggers for replicated rows), and (without p_profile_table) any trigger of pgscore''s on the table that no wiring owns; queued errors stay, without their wiring; replicated events held back for it are deleted, uncounted, with a WARNING; returns how many were removed';

CREATE FUNCTION pgscore.forget_rescoring(p_rescoring_id bigint)
RETURNS void
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_on regclass;
    v_held bigint;
    v_profiles bigint;
    v_event text;
    v_profile text;
    v_trigger name;
    v_replication_trigger name;
    v_gone bigint;
    v_name text[];
    v_renamed text;
    v_kept bigint;
BEGIN
    -- (session 66) a standby, or a read-only transaction, refuses its writes: said so, with where to run it, as
    -- record_outcome since 0154 (it was PostgreSQL's bare 25006, no hint)
    IF current_setting('transaction_read_only') = 'on' THEN
        PERFORM pgscore.refuse_read_only('pgscore.forget_rescoring writes the wiring (pgscore.rescoring)');
    END IF;
    IF p_rescoring_id IS NULL THEN
        RAISE EXCEPTION 'pgscore.forget_rescoring: the rescoring_id is NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- deleted first: the DELETE is the row's lock (a SELECT ... FOR UPDATE took UPDATE on pgscore.rescoring, which
    -- pgscore_admin holds no more: migration 0082); an error below undoes it with the rest
    DELETE FROM pgscore.rescoring w WHERE w.rescoring_id = p_rescoring_id
    RETURNING w.event_table, w.profile_table, w.trigger_name, w.replication_trigger
         INTO v_event, v_profile, v_trigger, v_replication_trigger;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'there is no wiring %', p_rescoring_id
            USING ERRCODE = 'undefined_object', HINT = 'list wirings with: SELECT * FROM pgscore.rescoring';
    END IF;
    SELECT t.tgrelid::regclass INTO v_on FROM pg_catalog.pg_trigger t
     WHERE (t.tgname = v_trigger AND t.tgfoid = 'pgscore.rescore_events()'::regprocedure)
        OR (t.tgname = v_replication_trigger AND t.tgfoid = 'pgscore.rescore_replicated()'::regprocedure)
     LIMIT 1;
    IF v_on IS NOT NULL THEN
        RAISE EXCEPTION 'wiring % still has its trigger, on %', p_rescoring_id, v_on
            USING ERRCODE = 'object_in_use',
                  HINT = format('detach it with: SELECT pgscore.detach_rescoring(%L)', v_on::text);
    END IF;
    -- (migration 0157) its queued errors stay for a wiring of their profile table to take over, unless no table has
    -- that name any more (its event table is gone already: a DROP SCHEMA ... CASCADE of a tenant): nothing would
    -- rescore them but a table made later under that name (another tenant's), which took over keys never its own.
    -- (detach_rescoring keeps them: the profile table alone renamed, and named back, is the commoner case there)
    -- (looked up in the catalog, not by to_regclass: that raised 42501 for a caller without USAGE on the table's
    -- schema, a pgscore_admin not given each tenant's schema, and forget_rescoring failed where the table was there)
    v_name := parse_ident(v_profile);
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                    WHERE c.relname = v_name[cardinality(v_name)]
                      AND (cardinality(v_name) = 1 OR n.nspname = v_name[cardinality(v_name) - 1])) THEN
        -- (session 67, h7) but not those queued in this queue for a table that is there still by the OID they keep:
        -- the profile table renamed away (ALTER TABLE ... RENAME, its event table dropped), whose attach_rescoring
        -- under its new name takes them over, as after detach_rescoring (they were deleted, the WARNING saying that
        -- the table renamed "starts with an empty queue")
        WITH d AS (DELETE FROM pgscore.error_queue q WHERE q.profile_table = v_profile AND q.rescoring_id IS NULL
                      AND NOT (q.profile_oid IS NOT NULL
                               AND q.queue_oid = 'pgscore.error_queue'::regclass::oid
                               AND q.queue_system = (SELECT (pg_control_system()).system_identifier)
                               AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = q.profile_oid))
                   RETURNING 1)
        SELECT count(*) INTO v_gone FROM d;
        IF v_gone > 0 THEN
            RAISE WARNING 'pgscore.forget_rescoring: % queued rescoring(s) of % were deleted with wiring %: no table has that name any more, so nothing could rescore them',
                  v_gone, v_profile, p_rescoring_id
                USING HINT = 'a table made again under that name starts with an empty queue (so does the table renamed, where they kept no OID of this database: queued before migration 0160, or restored from a dump): its profiles are rescored by their next event, or by pgscore.rescore_profiles once it is wired';
        END IF;
        FOR v_renamed, v_kept IN
            SELECT q.profile_oid::regclass::text, count(*) FROM pgscore.error_queue q
             WHERE q.profile_table = v_profile AND q.rescoring_id IS NULL
               AND q.queue_oid = 'pgscore.error_queue'::regclass::oid
               AND q.queue_system = (SELECT (pg_control_system()).system_identifier)
               AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = q.profile_oid)
             GROUP BY 1 ORDER BY 1
        LOOP
            RAISE NOTICE 'pgscore.forget_rescoring: % queued rescoring(s) of % were kept, without wiring %: that table was renamed to % since',
                  v_kept, v_profile, p_rescoring_id, v_renamed
                USING HINT = format('an attach_rescoring of an event table to %s takes them over', v_renamed);
        END LOOP;
    END IF;
    -- the replicated events a two_phase subscription held back for it (pgscore.replicated_pending): nothing
    -- would count them once the wiring is gone (retry_failed folds those of the wirings there are), and
    -- pgscore status would count them for ever; deleted with it, saying so
    WITH d AS (DELETE FROM pgscore.replicated_pending q WHERE q.rescoring_id = p_rescoring_id RETURNING q.entity_key)
    SELECT count(*), count(DISTINCT d.entity_key) INTO v_held, v_profiles FROM d;
    IF v_held > 0 THEN
        RAISE WARNING 'pgscore.forget_rescoring: % replicated event(s) of % profile(s) of % held back by a two_phase subscription (pgscore.replicated_pending) were deleted with wiring % of %, not counted',
              v_held, v_profiles, v_profile, p_rescoring_id, v_event
            USING HINT = 'their profiles'' counters and scores lack them; to count them, run SELECT * FROM pgscore.retry_failed() before removing a wiring (it counts those no prepared transaction holds: pg_prepared_xacts)';
    END IF;
END
$fn$;
COMMENT ON FUNCTION pgscore.forget_rescoring(bigint) IS 'Remove a wiring whose trigger is gone (its event table dropped, or the trigger dropped by hand); queued errors stay, without their wiring, unless their profile table is gone too (deleted, with a WARNING); those queued for a profile table renamed since stay, by the OID they keep, for an attach_rescoring of it under its new name (a NOTICE names it); replicated events held back for it are deleted, uncounted, with a WARNING';

CREATE FUNCTION pgscore.rescore_events()
RETURNS trigger
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET "DateStyle" = 'ISO'
SET "IntervalStyle" = 'postgres'
SET extra_float_digits = 1
AS $pl$
@@plpython/rescore_events.py@@
$pl$;
COMMENT ON FUNCTION pgscore.rescore_events() IS 'Trigger created by attach_rescoring (argument: the rescoring_id): counters, one vectorised rescoring of the affected profiles, audit rows, error queue';

CREATE FUNCTION pgscore.rescore_replicated()
RETURNS trigger
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET "DateStyle" = 'ISO'
SET "IntervalStyle" = 'postgres'
SET extra_float_digits = 1
AS $pl$
@@plpython/rescore_replicated.py@@
$pl$;
COMMENT ON FUNCTION pgscore.rescore_replicated() IS 'Row triggers created by attach_rescoring with p_replicated (arguments: the rescoring_id, then stage or commit), enabled for replication sessions only (ENABLE REPLICA): the row trigger stages each row logical replication applies, the constraint trigger (INITIALLY DEFERRED) rescores the transaction''s staged rows at its commit, once, as rescore_events does a statement''s, never failing the apply (a strict wiring queues there too); one of the rescoring_id alone rescores its row at once';

CREATE FUNCTION pgscore.retry_failed(p_model text DEFAULT NULL, p_limit integer DEFAULT NULL)
RETURNS TABLE (rescoring_id bigint, rescored integer, failed integer)
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET "DateStyle" = 'ISO'
SET "IntervalStyle" = 'postgres'
SET extra_float_digits = 1
-- (0183, review r2 of session 71) as the drift functions: under a DBA's work_mem = '64kB' and temp_file_limit =
-- '1MB' a retry (and a rescore_profiles chunk) of 1,000 profiles queued them all, reading the profiles failing (53400)
SET work_mem = '64MB'
AS $pl$
@@plpython/retry_failed.py@@
$pl$;
COMMENT ON FUNCTION pgscore.retry_failed(text, integer) IS 'Rescore the profiles queued in pgscore.error_queue (of one model, up to p_limit per wiring); clears those that succeed and counts up the others; one row per wiring';

CREATE FUNCTION pgscore.refresh_windows(p_event_table regclass DEFAULT NULL, p_limit integer DEFAULT NULL)
RETURNS TABLE (rescoring_id bigint, event_table regclass, profile_table regclass, recounted bigint, rescored bigint,
               failed bigint)
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET "DateStyle" = 'ISO'
SET "IntervalStyle" = 'postgres'
SET extra_float_digits = 1
-- (0183) as retry_failed
SET work_mem = '64MB'
AS $pl$
@@plpython/refresh_windows.py@@
$pl$;
COMMENT ON FUNCTION pgscore.refresh_windows(regclass, integer) IS 'Recount the window counters (and the recomputes that read the clock) of the profiles whose events have left a window since, and rescore those that changed (audit source refresh); up to p_limit profiles per call, in key order; one row per wiring with such counters';

CREATE FUNCTION pgscore.backfill_rescoring(p_event_table regclass)
RETURNS bigint
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET "DateStyle" = 'ISO'
SET "IntervalStyle" = 'postgres'
SET extra_float_digits = 1
-- (0183) as retry_failed
SET work_mem = '64MB'
AS $pl$
@@plpython/backfill_rescoring.py@@
$pl$;
COMMENT ON FUNCTION pgscore.backfill_rescoring(regclass) IS 'Recount the counters of the event table''s wirings from all of its events (what attaching over a table with events, or again after a detach, left uncounted: count, add, max, min, last; windows and recomputes too; a set counter is skipped with a NOTICE), creating the missing profiles as the wiring does and leaving the queued ones to retry_failed, and rescore the profiles whose counters changed (audit source refresh, via backfill_rescoring); in key order, 10,000 profiles a statement; returns how many profiles changed';

CREATE FUNCTION pgscore.rescore_profiles(p_event_table regclass, p_profile_table regclass DEFAULT NULL,
                                         p_after text DEFAULT NULL, p_limit integer DEFAULT 10000)
RETURNS TABLE (rescoring_id bigint, profile_table regclass, rescored integer, failed integer, last_key text)
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET "DateStyle" = 'ISO'
SET "IntervalStyle" = 'postgres'
SET extra_float_digits = 1
-- (0183) as retry_failed
SET work_mem = '64MB'
AS $pl$
@@plpython/rescore_profiles.py@@
$pl$;
COMMENT ON FUNCTION pgscore.rescore_profiles(regclass, regclass, text, integer) IS 'Rescore the profiles of the event table''s wirings (or its wiring to p_profile_table) with the live version as they are, counters unchanged: score, label and scored_at written as the trigger writes them, audit source refresh via rescore_profiles (after a rollback or activate, or an UPDATE of a profile''s own columns); up to p_limit profiles a wiring in key order after p_after; queued profiles are left to retry_failed; one row per wiring, last_key NULL when none is left';
