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
-- (0133) a writer of either table waits for any other (the overrides' lock) and takes its turn in threshold_writes
-- before its statement locks a row: taken after, two sessions updating drift_thresholds by hand deadlocked (40P01)
CREATE TRIGGER drift_threshold_overrides_turn BEFORE INSERT OR UPDATE OR DELETE ON pgscore.drift_threshold_overrides
    FOR EACH STATEMENT EXECUTE FUNCTION pgscore.check_threshold_order();
CREATE TRIGGER drift_thresholds_turn BEFORE UPDATE ON pgscore.drift_thresholds
    FOR EACH STATEMENT EXECUTE FUNCTION pgscore.check_threshold_order();
