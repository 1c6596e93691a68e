-- 0017 back to 0016: drop_log_partitions, realised_performance and the comments as 0016 left them

-- sql/functions/log_partitions.sql
CREATE OR REPLACE FUNCTION pgscore.drop_log_partitions(p_older_than interval)
RETURNS integer
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_cutoff timestamptz;
    v_part record;
    v_dropped integer := 0;
BEGIN
    IF p_older_than IS NULL OR p_older_than < interval '0' THEN
        RAISE EXCEPTION 'pgscore.drop_log_partitions: the retention period must be a positive interval (got %)', p_older_than
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_cutoff := now() - p_older_than;
    FOR v_part IN
        SELECT c.relname, to_date(right(c.relname, 8), 'YYYYMMDD') AS day
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'pgscore.prediction_log'::regclass AND c.relname ~ '^prediction_log_[0-9]{8}$'
         ORDER BY 2
    LOOP
        CONTINUE WHEN ((v_part.day + 1)::timestamp AT TIME ZONE 'UTC') > v_cutoff;
        EXECUTE format('DROP TABLE pgscore.%I', v_part.relname);
        v_dropped := v_dropped + 1;
    END LOOP;
    DELETE FROM pgscore.prediction_log_default WHERE logged_at < v_cutoff;
    RETURN v_dropped;
END
$fn$;
COMMENT ON FUNCTION pgscore.drop_log_partitions(interval) IS 'Retention: drop the daily partitions of pgscore.prediction_log wholly older than p_older_than, delete older rows left in the default partition; returns partitions dropped';

-- sql/views/monitoring.sql
CREATE OR REPLACE VIEW pgscore.realised_performance AS
SELECT name AS model, version, task, period AS window_name, n, positives, auc, accuracy, precision, recall, brier,
       log_loss, mae, rmse, deploy_auc, deploy_accuracy, deploy_brier, deploy_log_loss, deploy_mae, deploy_rmse,
       status, firing,
       CASE WHEN n = 0 THEN 'no outcomes matched to predictions of this version in this window'
            WHEN status = 'insufficient_data' THEN format('%s outcomes, fewer than the %s needed', n, min_n)
            WHEN status = 'not_applicable' THEN 'no hold-out metrics at deploy to compare with (deployed without a target)'
       END AS note,
       unmatched_outcomes
  FROM pgscore.performance_stats()
 WHERE period_kind = 'window'
 ORDER BY model, sort_order;
COMMENT ON VIEW pgscore.realised_performance IS 'Per live model and window (by prediction time): metrics realised on the outcomes recorded so far, next to the hold-out metrics captured at deploy';
COMMENT ON COLUMN pgscore.alerts.level IS 'ok, warn or alert (or no_data, insufficient_data, not_applicable when the metric cannot be judged)';
COMMENT ON COLUMN pgscore.outcome_matches.label IS 'The judged prediction''s label, where it was logged (pgscore.predict)';

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
    LOOP
        EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', r.view, r.attname,
                       'Share of the window''s values outside the baseline min..max');
    END LOOP;
END
$do$;
