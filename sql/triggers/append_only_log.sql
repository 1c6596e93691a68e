/*
 * Prediction-log rows are never changed (a row trigger on the partitioned
 * table: cloned onto every partition, those created later included), but
 * their features emptied by redact_log_features (migration 0141).
 */
CREATE TRIGGER prediction_log_append_only BEFORE UPDATE ON pgscore.prediction_log
    FOR EACH ROW EXECUTE FUNCTION pgscore.forbid_log_update();
-- and the record of what retention and erasure removed (migration 0141)
CREATE TRIGGER log_retention_append_only BEFORE UPDATE OR DELETE ON pgscore.log_retention
    FOR EACH ROW EXECUTE FUNCTION pgscore.forbid_log_update();
CREATE TRIGGER log_retention_no_truncate BEFORE TRUNCATE ON pgscore.log_retention
    FOR EACH STATEMENT EXECUTE FUNCTION pgscore.forbid_log_update();
