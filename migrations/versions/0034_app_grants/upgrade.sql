-- 0033 to 0034: pgscore.log_pending takes INSERT from the application and the administrator, nothing more (the
-- administrator reads every pgscore table still). A role that may DELETE a table may LOCK it in ACCESS EXCLUSIVE
-- mode: one session granted pgscore_app stalled every other session's scoring, the superuser's too. The marker
-- rows are deleted by flush_query_log, as its owner.
REVOKE SELECT, DELETE ON pgscore.log_pending FROM pgscore_app;
REVOKE DELETE ON pgscore.log_pending FROM pgscore_admin;
