/*
 * (migration 0129) Each row of pgscore.drift_threshold_overrides says who set it last and when, whoever writes it.
 */
CREATE TRIGGER drift_threshold_overrides_stamp BEFORE INSERT OR UPDATE ON pgscore.drift_threshold_overrides
    FOR EACH ROW EXECUTE FUNCTION pgscore.stamp_threshold_overrides();
-- (0129) no override is judged with a warn above its alert, each inherited where NULL, whichever table changed
CREATE TRIGGER drift_threshold_overrides_order AFTER INSERT OR UPDATE OR DELETE ON pgscore.drift_threshold_overrides
    FOR EACH STATEMENT EXECUTE FUNCTION pgscore.check_threshold_order();
CREATE TRIGGER drift_thresholds_order AFTER UPDATE ON pgscore.drift_thresholds
    FOR EACH STATEMENT EXECUTE FUNCTION pgscore.check_threshold_order();
