-- 0017 Retention (drop_log_partitions) works in whole UTC days and deletes the drift rollups of the days
-- it drops: the drift views read the rollups as if the rows were still there ("since deploy" counted
-- predictions retention had deleted). It refuses a zero period, and a NOTICE gives what it deleted.
-- realised_performance's note no longer says "deployed without a target" when the deploy metrics are
-- there but the matched multiclass predictions carry no predicted class. alerts.level and out_of_range
-- say what they hold.

-- sql/functions/log_partitions.sql
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
COMMENT ON FUNCTION pgscore.drop_log_partitions(interval) IS 'Retention in whole UTC days: drop the daily partitions of pgscore.prediction_log of the days before the one holding now() - p_older_than, delete the default partition''s rows and the drift rollups of those days; returns partitions dropped (a NOTICE gives all three counts)';

-- sql/views/monitoring.sql
CREATE OR REPLACE VIEW pgscore.realised_performance AS
SELECT name AS model, version, task, period AS window_name, n, positives, auc, accuracy, precision, recall, brier,
       log_loss, mae, rmse, deploy_auc, deploy_accuracy, deploy_brier, deploy_log_loss, deploy_mae, deploy_rmse,
       status, firing,
       CASE WHEN n = 0 THEN 'no outcomes matched to predictions of this version in this window'
            WHEN status = 'insufficient_data' THEN format('%s outcomes, fewer than the %s needed', n, min_n)
            WHEN status = 'not_applicable' AND coalesce(deploy_auc, deploy_accuracy, deploy_rmse) IS NULL
                THEN 'no hold-out metrics at deploy to compare with (deployed without a target)'
            WHEN status = 'not_applicable' AND task = 'multiclass'
                THEN 'the predictions matched carry no predicted class (logged before migration 0017 by score, predict_proba or in batch): accuracy compares predict''s label with the outcome'
            WHEN status = 'not_applicable' THEN 'no realised metric to compare with the deploy metrics'
       END AS note,
       unmatched_outcomes
  FROM pgscore.performance_stats()
 WHERE period_kind = 'window'
 ORDER BY model, sort_order;
COMMENT ON VIEW pgscore.realised_performance IS 'Per live model and window (by prediction time): metrics realised on the outcomes recorded so far, next to the hold-out metrics captured at deploy';
COMMENT ON COLUMN pgscore.alerts.level IS 'warn or alert: the level the condition reached (conditions below warn are not listed)';
COMMENT ON COLUMN pgscore.outcome_matches.label IS 'The judged prediction''s label, where it was logged (pgscore.predict; and, since migration 0017, every path for a multiclass model)';

-- sql/privileges/column_comments.sql
DO $do$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT c.oid::regclass AS view, a.attname
          FROM pg_catalog.pg_class c
          JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         WHERE c.relnamespace = 'pgscore'::regnamespace AND c.relkind = 'v' AND a.attname = 'out_of_range'
           AND pg_catalog.col_description(c.oid, a.attnum) = 'Share of the window''s values outside the baseline min..max'
    LOOP
        EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', r.view, r.attname,
                       'Share of the window''s non-NULL values outside the baseline min..max (null_rate counts the NULL ones)');
    END LOOP;
END
$do$;
