-- 0058 to 0059: the rows logical replication applies are rescored once per applied transaction, not once
-- per row. The row trigger for replicated rows (pgscore.rescore_replicated, ENABLE REPLICA) only stages its
-- row in the worker's temporary table; a constraint trigger beside it (INITIALLY DEFERRED, ENABLE REPLICA)
-- rescores everything staged at its first firing, at the commit, with the statement trigger's statements.
-- Its WHEN queues a firing only for a row staged while the setting pgscore.staged_<rescoring_id> (SET LOCAL by
-- the staging, reset by the rescoring) is not 'on': one for an applied transaction, whose rows are each a
-- statement; any later firing finds nothing pending and returns. detach_rescoring drops both; existing wirings'
-- row triggers are converted here (on the event tables: a brief SHARE ROW EXCLUSIVE lock each).
COMMENT ON COLUMN pgscore.rescoring.replication_trigger IS 'The row trigger (ENABLE REPLICA) that stages the rows logical replication applies to the event table, and with _commit appended the constraint trigger (ENABLE REPLICA, INITIALLY DEFERRED) that rescores them at the commit of their transaction, once; NULL: none, those rows are not rescored';
COMMENT ON FUNCTION pgscore.rescore_replicated() IS 'Row triggers created by attach_rescoring with p_replicated (arguments: the rescoring_id, then stage or commit), enabled for replication sessions only (ENABLE REPLICA): the row trigger stages each row logical replication applies, the constraint trigger (INITIALLY DEFERRED) rescores the transaction''s staged rows at its commit, once, as rescore_events does a statement''s, never failing the apply (a strict wiring queues there too); one of the rescoring_id alone rescores its row at once';

CREATE OR REPLACE FUNCTION pgscore.detach_rescoring(p_event_table regclass, p_profile_table regclass DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r record;
    v_n integer := 0;
    v_missing text;
BEGIN
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
    FOR r IN SELECT w.rescoring_id, w.trigger_name, w.replication_trigger,
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
              ORDER BY w.rescoring_id FOR UPDATE OF w
    LOOP
        IF r.on_table IS NOT NULL THEN  -- (dropped by hand, it is gone already)
            EXECUTE format('DROP TRIGGER %I ON %s', r.trigger_name, r.on_table);
        END IF;
        IF r.replicated_on IS NOT NULL THEN
            EXECUTE format('DROP TRIGGER %I ON %s', r.replication_trigger, r.replicated_on);
        END IF;
        IF r.commit_on IS NOT NULL THEN
            EXECUTE format('DROP TRIGGER %I ON %s', r.commit_trigger, r.commit_on);
        END IF;
        DELETE FROM pgscore.rescoring w WHERE w.rescoring_id = r.rescoring_id;
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
COMMENT ON FUNCTION pgscore.detach_rescoring(regclass, regclass) IS 'Remove the wiring (all of the event table''s, or the one to p_profile_table) and its triggers (the statement trigger, and the two triggers for replicated rows), and (without p_profile_table) any trigger of pgscore''s on the table that no wiring owns; queued errors stay, without their wiring; returns how many were removed';

-- Each wiring's row trigger for replicated rows (one argument: it rescored its row at once) becomes the
-- staging row trigger (arguments: the rescoring_id, 'stage') beside the constraint trigger that rescores
-- the staged rows at the commit (its name and '_commit'; 'commit'), both enabled as the row trigger was.
DO $do$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT w.rescoring_id, t.tgname, t.tgrelid::regclass AS on_table, t.tgenabled
               FROM pgscore.rescoring w
               JOIN pg_catalog.pg_trigger t ON t.tgname = w.replication_trigger
                AND t.tgfoid = 'pgscore.rescore_replicated()'::regprocedure AND t.tgnargs = 1
              ORDER BY w.rescoring_id
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', r.tgname, r.on_table);
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s FOR EACH ROW EXECUTE FUNCTION pgscore.rescore_replicated(%L, %L)',
                       r.tgname, r.on_table, r.rescoring_id::text, 'stage');
        EXECUTE format('CREATE CONSTRAINT TRIGGER %I AFTER INSERT ON %s DEFERRABLE INITIALLY DEFERRED FOR EACH ROW '
                       'WHEN (pg_catalog.current_setting(%L, true) IS DISTINCT FROM %L) '
                       'EXECUTE FUNCTION pgscore.rescore_replicated(%L, %L)',
                       r.tgname || '_commit', r.on_table, 'pgscore.staged_' || r.rescoring_id, 'on',
                       r.rescoring_id::text, 'commit');
        EXECUTE format('ALTER TABLE %s %s TRIGGER %I', r.on_table,
                       CASE r.tgenabled WHEN 'R' THEN 'ENABLE REPLICA' WHEN 'A' THEN 'ENABLE ALWAYS'
                                        WHEN 'D' THEN 'DISABLE' ELSE 'ENABLE' END, r.tgname);
        EXECUTE format('ALTER TABLE %s %s TRIGGER %I', r.on_table,
                       CASE r.tgenabled WHEN 'R' THEN 'ENABLE REPLICA' WHEN 'A' THEN 'ENABLE ALWAYS'
                                        WHEN 'D' THEN 'DISABLE' ELSE 'ENABLE' END, r.tgname || '_commit');
    END LOOP;
END
$do$;
