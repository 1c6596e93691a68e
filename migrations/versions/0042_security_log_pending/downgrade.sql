DROP INDEX pgscore.log_pending_xid_idx;
REVOKE INSERT (created_at) ON pgscore.log_pending FROM pgscore_app, pgscore_admin;
GRANT INSERT ON pgscore.log_pending TO pgscore_app, pgscore_admin;
