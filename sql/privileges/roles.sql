/*
 * Privileges. No pgscore function or procedure is executable by PUBLIC: the superuser
 * (or the owner) grants what each role may call. The reader role, for BI
 * tools, reads the monitoring and score views and nothing else: not the
 * tables behind them, not the artifact bytes, no function that writes. Roles are global
 * to the cluster, so an install creates pgscore_reader only where it is
 * missing; grant it to a login role: GRANT pgscore_reader TO metabase;
 */
REVOKE EXECUTE ON ALL ROUTINES IN SCHEMA pgscore FROM PUBLIC;

DO $do$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'pgscore_reader') THEN
        CREATE ROLE pgscore_reader NOLOGIN;
        COMMENT ON ROLE pgscore_reader IS 'pgscore: reads the monitoring and score views (BI tools); writes nothing';
    END IF;
END
$do$;
GRANT USAGE ON SCHEMA pgscore TO pgscore_reader;
GRANT SELECT ON pgscore.model_versions, pgscore.predictions, pgscore.feature_drift, pgscore.score_drift,
    pgscore.drift_by_day, pgscore.outcome_matches, pgscore.realised_performance, pgscore.performance_by_day,
    pgscore.calibration, pgscore.alerts
    TO pgscore_reader;
-- the read-only functions behind the drift and performance views (a view runs the functions it
-- calls with the caller's privileges; these are SECURITY DEFINER and read only)
GRANT EXECUTE ON FUNCTION pgscore.drift_stats(), pgscore.performance_stats(), pgscore.drift_counts(text, text)
    TO pgscore_reader;
