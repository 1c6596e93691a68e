-- 0024 to 0023: the functions, comments and grants as 0023 left them.

REVOKE SELECT ON pgscore.drift_windows, pgscore.drift_thresholds FROM pgscore_reader;

COMMENT ON COLUMN pgscore.drift_by_day.n IS 'How many values (predictions, or matched outcomes) the window holds';
COMMENT ON COLUMN pgscore.performance_by_day.n IS 'How many values (predictions, or matched outcomes) the window holds';
COMMENT ON COLUMN pgscore.calibration.n IS 'How many values (predictions, or matched outcomes) the window holds';

CREATE OR REPLACE FUNCTION pgscore.check_live_version_fed() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r record;
    v_n integer := 0;
    v_first record;
    v_version integer;
BEGIN
    FOR r IN
        SELECT w.profile_table, w.event_table,
               array_to_string(ARRAY(SELECT quote_literal(x) FROM unnest(array_agg(f.name ORDER BY f.i)) x), ', ') AS missing
          FROM pgscore.rescoring w
          JOIN pgscore.models m ON m.model_id = NEW.model_id
         CROSS JOIN LATERAL unnest(m.feature_names) WITH ORDINALITY AS f(name, i)
         WHERE w.model_name = NEW.model_name AND to_regclass(w.profile_table) IS NOT NULL
           AND EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgname = w.trigger_name AND NOT t.tgisinternal)
           AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = to_regclass(w.profile_table)
                              AND a.attnum > 0 AND NOT a.attisdropped
                              AND (a.attname = f.name OR (a.attname = 'features' AND a.atttypid = 'float8[]'::regtype
                                                          AND coalesce(w.counters, '{}'::jsonb) = '{}'::jsonb)))
         GROUP BY w.profile_table, w.event_table
         ORDER BY 1, 2
    LOOP
        v_n := v_n + 1;
        IF v_n = 1 THEN
            v_first := r;
        END IF;
    END LOOP;
    IF v_n > 0 THEN
        SELECT m.version INTO v_version FROM pgscore.models m WHERE m.model_id = NEW.model_id;
        RAISE EXCEPTION '%, which % rescores with %, has no column %: once live, version % could not rescore it',
                v_first.profile_table, v_first.event_table, NEW.model_name, v_first.missing, v_version
            USING ERRCODE = 'undefined_column', DETAIL = format('%s wiring(s) affected', v_n),
                  HINT = CASE NEW.action
                      WHEN 'rollback' THEN format('add the column(s) to the profile table first, then roll back again (version %s)', v_version)
                      ELSE format('add the column(s) to the profile table first, then activate version %s again; a version being deployed can be stored without going live (--no-activate, p_activate => false)', v_version)
                  END;
    END IF;
    RETURN NULL;
END
$fn$;

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

CREATE OR REPLACE FUNCTION pgscore.drop_log_partitions(p_older_than interval)
RETURNS integer
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_cut timestamptz;
    v_part record;
    v_dropped integer := 0;
    v_rows bigint;
    v_buckets bigint;
BEGIN
    IF p_older_than IS NULL OR p_older_than <= interval '0' THEN
        RAISE EXCEPTION 'pgscore.drop_log_partitions: the retention period must be a positive interval (got %)', p_older_than
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- whole UTC days: the day that holds now() - p_older_than is kept, in its partition and in the default
    -- partition alike, so that the drift rollups of every day dropped can go with it. The period is
    -- taken from the UTC time, so that the session's time zone (its DST days) cannot move the cut
    v_cut := date_trunc('day', (now() AT TIME ZONE 'UTC') - p_older_than) AT TIME ZONE 'UTC';
    FOR v_part IN
        SELECT c.relname, to_date(right(c.relname, 8), 'YYYYMMDD') AS day
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'pgscore.prediction_log'::regclass AND c.relname ~ '^prediction_log_[0-9]{8}$'
         ORDER BY 2
    LOOP
        CONTINUE WHEN (v_part.day::timestamp AT TIME ZONE 'UTC') >= v_cut;
        EXECUTE format('DROP TABLE pgscore.%I', v_part.relname);
        v_dropped := v_dropped + 1;
    END LOOP;
    DELETE FROM pgscore.prediction_log_default WHERE logged_at < v_cut;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    -- the rollups of the rows gone: the drift views read them as if the rows were there
    DELETE FROM pgscore.drift_rollup WHERE bucket < v_cut;
    GET DIAGNOSTICS v_buckets = ROW_COUNT;
    DELETE FROM pgscore.drift_rollup_day WHERE day < v_cut;
    RAISE NOTICE 'pgscore.drop_log_partitions: before %: % daily partition(s) dropped, % row(s) deleted from the default partition, % rollup row(s) deleted',
        v_cut, v_dropped, v_rows, v_buckets;
    RETURN v_dropped;
END
$fn$;
