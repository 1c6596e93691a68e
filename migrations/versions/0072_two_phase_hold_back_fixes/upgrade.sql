-- 0071 to 0072: pgscore.replicated_pending under row-level security, so that only a logical replication worker
-- puts an event there (an app login planted events that retry_failed, run as a role that writes every profile
-- table, counted and scored as replicated); UPDATE on held_at for the fold's claim of the rows it counts (FOR
-- UPDATE SKIP LOCKED: two folds at once counted an event twice), which the policy keeps from changing a row.
ALTER TABLE pgscore.replicated_pending ENABLE ROW LEVEL SECURITY;
CREATE POLICY replicated_pending_read ON pgscore.replicated_pending FOR SELECT USING (true);
CREATE POLICY replicated_pending_put ON pgscore.replicated_pending FOR INSERT
    WITH CHECK ((SELECT a.backend_type FROM pg_catalog.pg_stat_activity a
                  WHERE a.pid OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid())
                OPERATOR(pg_catalog.=) 'logical replication worker');
CREATE POLICY replicated_pending_claim ON pgscore.replicated_pending FOR UPDATE USING (true) WITH CHECK (false);
CREATE POLICY replicated_pending_fold ON pgscore.replicated_pending FOR DELETE USING (true);
GRANT UPDATE (held_at) ON pgscore.replicated_pending TO pgscore_app, pgscore_admin;
