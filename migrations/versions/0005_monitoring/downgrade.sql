-- undo 0005 monitoring
REVOKE ALL ON ALL TABLES IN SCHEMA pgscore FROM pgscore_reader;
REVOKE ALL ON SCHEMA pgscore FROM pgscore_reader;
REVOKE ALL ON FUNCTION pgscore.drift_stats(), pgscore.performance_stats() FROM pgscore_reader;
GRANT EXECUTE ON ALL ROUTINES IN SCHEMA pgscore TO PUBLIC;
DROP VIEW pgscore.alerts;
DROP VIEW pgscore.firing;
DROP VIEW pgscore.calibration;
DROP VIEW pgscore.performance_by_day;
DROP VIEW pgscore.realised_performance;
DROP FUNCTION pgscore.performance_stats();
DROP VIEW pgscore.judged_predictions;
DROP VIEW pgscore.outcome_matches;
DROP VIEW pgscore.drift_by_day;
DROP VIEW pgscore.score_drift;
DROP VIEW pgscore.feature_drift;
DROP VIEW pgscore.drift_report;
DROP VIEW pgscore.drift_checks;
DROP FUNCTION pgscore.drift_stats();
DROP FUNCTION pgscore.judge(text[], float8[], bigint[]);
DROP VIEW pgscore.monitoring_periods;
DROP VIEW pgscore.prediction_values;
DROP VIEW pgscore.live_models;
DROP FUNCTION pgscore.refresh_monitoring(interval, boolean);
DROP FUNCTION pgscore.record_outcome(text, text, boolean, timestamptz);
DROP FUNCTION pgscore.record_outcome(text, text, float8, timestamptz);
DROP FUNCTION pgscore.record_outcome(text, text, text, timestamptz);
DROP TABLE pgscore.alert_state;
DROP TABLE pgscore.monitoring_state;
DROP TABLE pgscore.drift_rollup;
DROP TABLE pgscore.drift_thresholds;
DROP TABLE pgscore.drift_windows;
DROP INDEX pgscore.prediction_log_entity_time_idx;
-- the role is the cluster's: dropped only if this install made it and no other database still uses it
DO $do$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
                WHERE r.rolname = 'pgscore_reader'
                  AND pg_catalog.shobj_description(r.oid, 'pg_authid') LIKE 'pgscore:%') THEN
        BEGIN
            DROP ROLE pgscore_reader;
        EXCEPTION WHEN dependent_objects_still_exist THEN
            RAISE NOTICE 'pgscore_reader is kept: another database still grants it privileges';
        END;
    END IF;
END
$do$;
