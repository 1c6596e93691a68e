-- 0070 to 0071: pgscore.replicated_pending, the replicated events a two_phase subscription's apply worker held
-- back from their rescoring (a prepared transaction held their profile row), which the next rescoring of the
-- wiring there or retry_failed counts and scores; read, written and emptied by the app and admin roles.
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
GRANT SELECT, INSERT, DELETE ON pgscore.replicated_pending TO pgscore_app, pgscore_admin;
