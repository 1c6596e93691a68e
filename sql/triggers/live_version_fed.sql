/*
 * Every deployment that makes a version live is checked against the tables
 * wired to rescore with its name (pgscore.check_live_version_fed).
 */
CREATE TRIGGER deployments_feed_wirings AFTER INSERT ON pgscore.deployments
    FOR EACH ROW WHEN (NEW.action IN ('deploy', 'activate', 'rollback'))
    EXECUTE FUNCTION pgscore.check_live_version_fed();

/*
 * A version scored in shadow that a deployment makes live is a shadow no
 * more: the stop is recorded in pgscore.shadows (pgscore.end_shadow_made_live).
 */
CREATE TRIGGER deployments_end_shadow AFTER INSERT ON pgscore.deployments
    FOR EACH ROW WHEN (NEW.action IN ('deploy', 'activate', 'rollback'))
    EXECUTE FUNCTION pgscore.end_shadow_made_live();
