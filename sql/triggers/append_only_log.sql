/*
 * Prediction-log rows are never changed (a row trigger on the partitioned
 * table: cloned onto every partition, those created later included).
 */
CREATE TRIGGER prediction_log_append_only BEFORE UPDATE ON pgscore.prediction_log
    FOR EACH ROW EXECUTE FUNCTION pgscore.forbid_log_update();
