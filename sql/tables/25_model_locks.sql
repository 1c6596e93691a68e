/*
 * One row per model name, locked (INSERT ... ON CONFLICT DO UPDATE) by
 * register_model and retire so that deploys and retires of one name queue
 * one behind the other. A table of pgscore's, whose rows only pgscore_admin
 * may lock, rather than an advisory lock, which any role that may connect
 * can take and hold (migration 0043).
 */
CREATE TABLE pgscore.model_locks (
    name text PRIMARY KEY
);
COMMENT ON TABLE pgscore.model_locks IS 'Internal: a row per model name, locked by register_model and retire so that one name''s deploys and retires queue; only pgscore_admin may lock it';
