-- 0044 to 0043: refresh_windows goes; its audit rows stay, under the source 'retry' (what rescored a profile
-- outside the trigger before it; their cause's "via" still says refresh_windows), so that the CHECK of 0043
-- holds again. The log is append-only (a row trigger refuses every UPDATE, on each partition): the trigger is
-- off for the relabelling alone, under the ACCESS EXCLUSIVE lock the DROP CONSTRAINT took.
DROP FUNCTION pgscore.refresh_windows(regclass, integer);
ALTER TABLE pgscore.prediction_log DROP CONSTRAINT prediction_log_source_check;
ALTER TABLE pgscore.prediction_log DISABLE TRIGGER prediction_log_append_only;
UPDATE pgscore.prediction_log SET source = 'retry' WHERE source = 'refresh';
ALTER TABLE pgscore.prediction_log ENABLE TRIGGER prediction_log_append_only;
ALTER TABLE pgscore.prediction_log ADD CONSTRAINT prediction_log_source_check
    CHECK (source IN ('query', 'batch', 'trigger', 'retry')) NOT VALID;
ALTER TABLE pgscore.prediction_log VALIDATE CONSTRAINT prediction_log_source_check;
COMMENT ON TABLE pgscore.prediction_log IS 'Every prediction: model, entity, features, score, source (query/batch/trigger/retry) and cause';
