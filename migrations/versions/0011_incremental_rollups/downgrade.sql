-- 0011 down: refresh_monitoring rolls up the whole of its look-back window again, as in 0006-0010,
-- and the prediction log's rows may be updated again

DROP TRIGGER prediction_log_append_only ON pgscore.prediction_log;
DROP FUNCTION pgscore.forbid_log_update();

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
    v_day   timestamptz;
    v_next  timestamptz;
    v_chunk bigint;
    v_until timestamptz;
    v_from  timestamptz;
    v_to    timestamptz := date_bin('5 minutes', now(), '2000-01-01 00:00:00+00');
    v_rows  bigint;
    v_firing bigint;
BEGIN
    IF p_relook IS NULL OR p_rebuild IS NULL OR p_relook < interval '0' THEN
        RAISE EXCEPTION 'pgscore.refresh_monitoring: p_relook must be an interval >= 0 and p_rebuild true or false'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- one refresh at a time; a second waits and then finds little to do
    SELECT s.rolled_until INTO v_until FROM pgscore.monitoring_state s FOR UPDATE;
    v_from := CASE WHEN p_rebuild THEN '-infinity'::timestamptz
                   ELSE date_bin('5 minutes', v_until - p_relook, '2000-01-01 00:00:00+00') END;
    IF p_rebuild THEN
        DELETE FROM pgscore.drift_rollup;
        DELETE FROM pgscore.drift_rollup_day;
    ELSE
        DELETE FROM pgscore.drift_rollup r WHERE r.bucket >= v_from AND r.bucket < v_to;
    END IF;
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
        INSERT INTO pgscore.drift_rollup (model_id, bucket, kind, position, bin, n, total, n_out)
        SELECT v.model_id, date_bin('5 minutes', v.logged_at, '2000-01-01 00:00:00+00'), v.kind, v.position, v.bin,
               count(*), coalesce(sum(v.x) FILTER (WHERE v.bin >= 0), 0), count(*) FILTER (WHERE v.out_of_range)
          FROM pgscore.prediction_values v
         WHERE v.logged_at >= v_day AND v.logged_at < v_next
         GROUP BY 1, 2, 3, 4, 5;
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

    -- alert_state keeps when each firing condition was first seen; cleared ones go
    WITH f AS MATERIALIZED (SELECT * FROM pgscore.firing),
    gone AS (
        DELETE FROM pgscore.alert_state s
         WHERE NOT EXISTS (SELECT 1 FROM f WHERE f.model = s.model AND f.version = s.version AND f.what = s.what
                             AND f.subject = s.subject AND f.window_name = s.window_name
                             AND f.metric = s.metric AND f.level = s.level)
    )
    INSERT INTO pgscore.alert_state (model, version, what, subject, window_name, metric, level)
    SELECT f.model, f.version, f.what, f.subject, f.window_name, f.metric, f.level FROM f
    ON CONFLICT DO NOTHING;
    SELECT count(*) INTO v_firing FROM pgscore.alert_state;
    RETURN QUERY SELECT coalesce(v_from, v_to), greatest(v_to, v_until), v_rows, v_firing;
END
$fn$;
COMMENT ON FUNCTION pgscore.refresh_monitoring(interval, boolean) IS 'Roll the prediction log up by whole 5-minute bucket and by UTC day (re-rolling the last p_relook, for rows of transactions that committed late; p_rebuild rolls up everything again) and record when each firing alert was first seen. Run it every few minutes from pg_cron or cron';
