/*
 * Replicated events held back from their rescoring: a two_phase subscription's
 * apply worker does not wait for a profile row that a prepared transaction
 * holds (it is released only by a COMMIT PREPARED later in the stream, which
 * the waiting worker would never apply). Each event of such a profile is kept
 * here, its row as JSON, instead of being counted now; the next rescoring of
 * the wiring in such a worker that can lock the profile, or retry_failed,
 * counts and scores it (one audit row naming it) and deletes it.
 */
CREATE TABLE pgscore.replicated_pending (
    pending_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rescoring_id  bigint NOT NULL,
    entity_key    text NOT NULL,
    event         json NOT NULL,
    subscription  text,
    held_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX replicated_pending_rescoring_idx ON pgscore.replicated_pending (rescoring_id, pending_id);
COMMENT ON TABLE pgscore.replicated_pending IS 'Replicated events of a two_phase subscription whose profile a prepared transaction held: counted and scored by the next rescoring of the wiring that can lock it, or by retry_failed';
COMMENT ON COLUMN pgscore.replicated_pending.entity_key IS 'The event''s key (the profile it counts towards), as text';
COMMENT ON COLUMN pgscore.replicated_pending.event IS 'The event table''s row, as row_to_json made it';
-- Row-level security: any role with the grants (sql/privileges/roles.sql) reads, claims and deletes the rows (a
-- fold, as its caller), but only a logical replication worker puts one there: an app login could otherwise plant
-- an event that retry_failed, run as a role that writes every profile table, counts and scores as replicated.
-- The claim (FOR UPDATE) takes UPDATE, which changes no row (WITH CHECK false).
-- A worker's backend_type begins 'logical replication' ('... worker' in PostgreSQL 15; '... apply worker',
-- '... parallel worker', '... tablesync worker' in later releases).
ALTER TABLE pgscore.replicated_pending ENABLE ROW LEVEL SECURITY;
CREATE POLICY replicated_pending_read ON pgscore.replicated_pending FOR SELECT USING (true);
CREATE POLICY replicated_pending_put ON pgscore.replicated_pending FOR INSERT
    WITH CHECK ((SELECT a.backend_type FROM pg_catalog.pg_stat_activity a
                  WHERE a.pid OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid())
                OPERATOR(pg_catalog.^@) 'logical replication');
CREATE POLICY replicated_pending_claim ON pgscore.replicated_pending FOR UPDATE USING (true) WITH CHECK (false);
CREATE POLICY replicated_pending_fold ON pgscore.replicated_pending FOR DELETE USING (true);
