/*
 * One row per model name, locked (INSERT ... ON CONFLICT DO UPDATE) by
 * every change of the model (register_model, activate, rollback, retire,
 * set_shadow, clear_shadow) so that they queue one behind the other, each
 * reading the history the one before it committed. A table of pgscore's, whose rows only pgscore_admin
 * may lock, rather than an advisory lock, which any role that may connect
 * can take and hold (migration 0043).
 */
CREATE TABLE pgscore.model_locks (
    name text PRIMARY KEY
);
COMMENT ON TABLE pgscore.model_locks IS 'Internal: a row per model name, locked by register_model, activate, rollback, retire, set_shadow and clear_shadow so that one name''s changes queue; only pgscore_admin may lock it (set_shadow and clear_shadow as their owner)';
