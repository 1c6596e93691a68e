GRANT SELECT, DELETE ON pgscore.log_pending TO pgscore_app, pgscore_admin;
