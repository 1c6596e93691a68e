-- undo 0007 roles (the roles themselves are global to the cluster and stay)
REVOKE ALL ON ALL TABLES IN SCHEMA pgscore FROM pgscore_app, pgscore_admin;
REVOKE ALL ON ALL ROUTINES IN SCHEMA pgscore FROM pgscore_app, pgscore_admin;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA pgscore FROM pgscore_app, pgscore_admin;
REVOKE ALL ON SCHEMA pgscore FROM pgscore_app, pgscore_admin;
ALTER FUNCTION pgscore.create_log_partitions(integer, date) SECURITY INVOKER;
ALTER FUNCTION pgscore.drop_log_partitions(interval) SECURITY INVOKER;
ALTER FUNCTION pgscore.record_outcome(text, text, text, timestamptz) SECURITY INVOKER;
DROP FUNCTION pgscore.load_model(bigint);
