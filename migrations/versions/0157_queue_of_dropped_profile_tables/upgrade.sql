-- 0156 to 0157: forget_rescoring deletes the queued errors of a profile table that no longer exists (with a
-- WARNING): nothing could rescore them, and a table made later under its name (a tenant's schema made again) took them over

CREATE OR REPLACE FUNCTION pgscore.forget_rescoring(p_rescoring_id bigint)
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
BEGIN
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
        WITH d AS (DELETE FROM pgscore.error_queue q WHERE q.profile_table = v_profile AND q.rescoring_id IS NULL
                   RETURNING 1)
        SELECT count(*) INTO v_gone FROM d;
        IF v_gone > 0 THEN
            RAISE WARNING 'pgscore.forget_rescoring: % queued rescoring(s) of % were deleted with wiring %: no table has that name any more, so nothing could rescore them',
                  v_gone, v_profile, p_rescoring_id
                USING HINT = 'a table made again under that name (or the table renamed) starts with an empty queue: its profiles are rescored by their next event, or by pgscore.rescore_profiles once it is wired';
        END IF;
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
COMMENT ON FUNCTION pgscore.forget_rescoring(bigint) IS 'Remove a wiring whose trigger is gone (its event table dropped, or the trigger dropped by hand); queued errors stay, without their wiring, unless their profile table is gone too (deleted, with a WARNING); replicated events held back for it are deleted, uncounted, with a WARNING';
