/*
 * The query path buffers its audit rows in the backend and writes them
 * set-based. The first buffered prediction of a transaction inserts one row
 * here; a deferred constraint trigger on it flushes the buffer just before
 * commit, so no prediction of a committed transaction goes unlogged. Rows
 * live only for their transaction (the flush deletes them); unlogged, since
 * they never need to survive a crash. The flush finds its transaction's rows
 * by xid through an index: rows another transaction left (its flush never
 * ran) are not read at every commit (migration 0042).
 */
CREATE UNLOGGED TABLE pgscore.log_pending (
    xid        xid8 NOT NULL DEFAULT pg_current_xact_id(),
    backend    integer NOT NULL DEFAULT pg_backend_pid(),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX log_pending_xid_idx ON pgscore.log_pending (xid);
COMMENT ON TABLE pgscore.log_pending IS 'Internal: one row per transaction with buffered query-path predictions; fires the flush at commit';
