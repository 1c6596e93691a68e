-- 0125 to 0127 log_times_and_version_codes: the application and the administrator insert into pgscore.prediction_log
-- every column but logged_at, which takes its default, the transaction's now(): a row they write by hand can no
-- longer be back-dated (or post-dated) into the windows drift and performance read. The scoring paths that write as
-- their caller (predict_batch, score_chunk and score_table, rescoring's trigger, retry_failed, refresh_windows,
-- backfill_rescoring) list these columns alone; flush_query_log writes as the log's owner.

REVOKE INSERT ON pgscore.prediction_log FROM pgscore_app, pgscore_admin;
GRANT INSERT (model_id, entity_key, features, score, label, source, cause) ON pgscore.prediction_log
    TO pgscore_app, pgscore_admin;
