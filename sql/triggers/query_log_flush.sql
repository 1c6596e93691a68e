/*
 * Deferred to commit, so the query path's buffered audit rows are written
 * in the transaction that made the predictions.
 */
CREATE CONSTRAINT TRIGGER log_pending_flush AFTER INSERT ON pgscore.log_pending
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION pgscore.flush_query_log();
