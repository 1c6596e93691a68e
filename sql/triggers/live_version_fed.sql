/*
 * Every deployment that makes a version live is checked against the tables
 * wired to rescore with its name (pgscore.check_live_version_fed).
 */
CREATE TRIGGER deployments_feed_wirings AFTER INSERT ON pgscore.deployments
    FOR EACH ROW WHEN (NEW.action IN ('deploy', 'rollback'))
    EXECUTE FUNCTION pgscore.check_live_version_fed();
