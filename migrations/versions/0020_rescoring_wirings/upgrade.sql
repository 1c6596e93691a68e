-- 0019 to 0020: detach_rescoring drops a wiring's trigger on the table it is on (given the new table
-- that took a renamed one's name, it dropped nothing there and left the trigger on the renamed one);
-- forget_rescoring removes a wiring whose trigger is gone (its event table dropped), which
-- detach_rescoring, taking a table, cannot name.

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
              -- by name, or by its trigger on this table (the table may have been renamed since)
              WHERE (w.event_table = p_event_table::text
                     OR w.trigger_name IN (SELECT t.tgname FROM pg_catalog.pg_trigger t WHERE t.tgrelid = p_event_table))
                AND (p_profile_table IS NULL OR w.profile_table = p_profile_table::text)
              ORDER BY w.rescoring_id FOR UPDATE OF w
    LOOP
        IF r.on_table IS NOT NULL THEN  -- (dropped by hand, it is gone already)
            EXECUTE format('DROP TRIGGER %I ON %s', r.trigger_name, r.on_table);
        END IF;
        DELETE FROM pgscore.rescoring w WHERE w.rescoring_id = r.rescoring_id;
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
COMMENT ON FUNCTION pgscore.detach_rescoring(regclass, regclass) IS 'Remove the wiring (all of the event table''s, or the one to p_profile_table) and its trigger; queued errors stay, without their wiring; returns how many were removed';

CREATE FUNCTION pgscore.forget_rescoring(p_rescoring_id bigint)
RETURNS void
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_on regclass;
BEGIN
    IF p_rescoring_id IS NULL THEN
        RAISE EXCEPTION 'pgscore.forget_rescoring: the rescoring_id is NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM 1 FROM pgscore.rescoring w WHERE w.rescoring_id = p_rescoring_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'there is no rescoring %', p_rescoring_id
            USING ERRCODE = 'undefined_object', HINT = 'list wirings with: SELECT * FROM pgscore.rescoring';
    END IF;
    SELECT t.tgrelid::regclass INTO v_on FROM pgscore.rescoring w
      JOIN pg_catalog.pg_trigger t ON t.tgname = w.trigger_name
                                  AND t.tgfoid = 'pgscore.rescore_events()'::regprocedure
     WHERE w.rescoring_id = p_rescoring_id LIMIT 1;
    IF v_on IS NOT NULL THEN
        RAISE EXCEPTION 'rescoring % still has its trigger, on %', p_rescoring_id, v_on
            USING ERRCODE = 'object_in_use',
                  HINT = format('detach it with: SELECT pgscore.detach_rescoring(%L)', v_on::text);
    END IF;
    DELETE FROM pgscore.rescoring w WHERE w.rescoring_id = p_rescoring_id;
END
$fn$;
COMMENT ON FUNCTION pgscore.forget_rescoring(bigint) IS 'Remove a wiring whose trigger is gone (its event table dropped, or the trigger dropped by hand); queued errors stay, without their wiring';
REVOKE ALL ON FUNCTION pgscore.forget_rescoring(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgscore.forget_rescoring(bigint) TO pgscore_admin;
