-- 0023 to 0022: no check of deployments against the wired tables in the server.

DROP TRIGGER deployments_feed_wirings ON pgscore.deployments;
DROP FUNCTION pgscore.check_live_version_fed();
