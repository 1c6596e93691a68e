-- 0011 refresh_monitoring looks back p_relook for buckets whose rows are not those their rollups
-- counted (new buckets, rows of transactions that committed late) and rolls up only those: it had
-- rolled up the whole last hour again at every refresh, however many rows that hour held. It takes a
-- bucket whose row count did not change to hold the same rows, so the prediction log becomes
-- append-only (a row trigger refusing UPDATE, as the registry tables have)

-- sql/functions/monitoring.sql
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
                   v.bin, count(*), coalesce(sum(v.x) FILTER (WHERE v.bin >= 0), 0),
                   count(*) FILTER (WHERE v.out_of_range)
              FROM pgscore.prediction_values v
             WHERE v.logged_at >= v_day AND v.logged_at < v_next
             GROUP BY 1, 2, 3, 4, 5;
        ELSIF EXISTS (SELECT 1 FROM unnest(v_buckets) AS b(bucket) WHERE b.bucket >= v_day AND b.bucket < v_next) THEN
            -- bucket by bucket, each through the log's (model_id, logged_at) index (OFFSET 0 keeps the
            -- planner from scanning the whole span once for every baseline row and bucket)
            INSERT INTO pgscore.drift_rollup (model_id, bucket, kind, position, bin, n, total, n_out)
            SELECT c.model_id, c.bucket, v.kind, v.position, v.bin, count(*),
                   coalesce(sum(v.x) FILTER (WHERE v.bin >= 0), 0), count(*) FILTER (WHERE v.out_of_range)
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
COMMENT ON FUNCTION pgscore.refresh_monitoring(interval, boolean) IS 'Roll the prediction log up by whole 5-minute bucket and by UTC day (looking back p_relook for buckets whose rows changed, by rows of transactions that committed late, and rolling up only those and the new ones; p_rebuild rolls up everything again) and record when each firing alert was first seen. Run it every few minutes from pg_cron or cron';

-- sql/functions/forbid_mutation.sql
/*
 * The prediction log is append-only too: an audit trail that can be edited
 * is none, and refresh_monitoring takes a bucket whose row count did not
 * change to hold the rows it rolled up. Retention removes whole days
 * (drop_log_partitions), never single rows' values.
 */
CREATE FUNCTION pgscore.forbid_log_update() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    RAISE EXCEPTION 'pgscore.prediction_log is append-only: UPDATE is not allowed'
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'log a new prediction instead; pgscore.drop_log_partitions removes whole days';
END
$fn$;
COMMENT ON FUNCTION pgscore.forbid_log_update() IS 'Trigger function: refuses UPDATE on pgscore.prediction_log (and each of its partitions), which is append-only';
REVOKE EXECUTE ON FUNCTION pgscore.forbid_log_update() FROM PUBLIC;

-- sql/triggers/append_only_log.sql
/*
 * Prediction-log rows are never changed (a row trigger on the partitioned
 * table: cloned onto every partition, those created later included).
 */
CREATE TRIGGER prediction_log_append_only BEFORE UPDATE ON pgscore.prediction_log
    FOR EACH ROW EXECUTE FUNCTION pgscore.forbid_log_update();
