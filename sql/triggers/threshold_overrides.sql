/*
 * (migration 0129) Each row of pgscore.drift_threshold_overrides says who set it last and when, whoever writes it.
 */
CREATE TRIGGER drift_threshold_overrides_stamp BEFORE INSERT OR UPDATE ON pgscore.drift_threshold_overrides
    FOR EACH ROW EXECUTE FUNCTION pgscore.stamp_threshold_overrides();
