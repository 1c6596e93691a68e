-- 0072 to 0071: pgscore.replicated_pending without row-level security, its policies and the UPDATE on held_at.
REVOKE UPDATE (held_at) ON pgscore.replicated_pending FROM pgscore_app, pgscore_admin;
DROP POLICY replicated_pending_read ON pgscore.replicated_pending;
DROP POLICY replicated_pending_put ON pgscore.replicated_pending;
DROP POLICY replicated_pending_claim ON pgscore.replicated_pending;
DROP POLICY replicated_pending_fold ON pgscore.replicated_pending;
ALTER TABLE pgscore.replicated_pending DISABLE ROW LEVEL SECURITY;
