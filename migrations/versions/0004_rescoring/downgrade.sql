-- undo 0004 rescoring (refuses while a wired event table still has its trigger: detach first)
DROP FUNCTION pgscore.retry_failed(text, integer);
DROP FUNCTION pgscore.rescore_events();
DROP FUNCTION pgscore.detach_rescoring(regclass, regclass);
DROP FUNCTION pgscore.attach_rescoring(regclass, regclass, name, text, name, jsonb, name, name, text, boolean, name);
DROP INDEX pgscore.error_queue_rescoring_entity_idx;
ALTER TABLE pgscore.error_queue DROP COLUMN rescoring_id;
DROP TABLE pgscore.rescoring;
