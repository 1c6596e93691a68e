-- 0020 to 0019: detach_rescoring as it was; no forget_rescoring.

DROP FUNCTION pgscore.forget_rescoring(bigint);

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
    FOR r IN SELECT w.rescoring_id, w.trigger_name FROM pgscore.rescoring w
              -- by name, or by its trigger on this table (the table may have been renamed since)
              WHERE (w.event_table = p_event_table::text
                     OR w.trigger_name IN (SELECT t.tgname FROM pg_catalog.pg_trigger t WHERE t.tgrelid = p_event_table))
                AND (p_profile_table IS NULL OR w.profile_table = p_profile_table::text)
              ORDER BY w.rescoring_id FOR UPDATE
    LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', r.trigger_name, p_event_table);
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
