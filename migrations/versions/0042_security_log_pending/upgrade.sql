-- 0041 to 0042: the markers of buffered audit rows are always their own transaction's. INSERT on the whole of
-- pgscore.log_pending let any role granted pgscore_app write rows with a made-up xid, which no flush deletes:
-- 2 million of them made every logged scoring transaction's commit read them all (+300 ms). INSERT ... DEFAULT
-- VALUES, what the query path runs, needs INSERT on one column; and the flush's DELETE by xid uses an index.
REVOKE INSERT ON pgscore.log_pending FROM pgscore_app, pgscore_admin;
GRANT INSERT (created_at) ON pgscore.log_pending TO pgscore_app, pgscore_admin;
CREATE INDEX log_pending_xid_idx ON pgscore.log_pending (xid);
