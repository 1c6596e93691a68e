/*
 * Rescoring that failed: the event committed, the score did not. Each row
 * names the profile, the reason and the SQLSTATE; a retry drains the queue.
 */
CREATE TABLE pgscore.error_queue (
    error_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model_name      text,
    profile_table   text NOT NULL,
    entity_key      text NOT NULL,
    reason          text NOT NULL,
    sqlstate        text,
    cause           jsonb,
    attempts        integer NOT NULL DEFAULT 1,
    first_failed_at timestamptz NOT NULL DEFAULT clock_timestamp(),  -- (0182) the failure's time, not its
    last_failed_at  timestamptz NOT NULL DEFAULT clock_timestamp()   -- transaction's start (now())
);
CREATE INDEX error_queue_profile_idx ON pgscore.error_queue (profile_table, entity_key);
COMMENT ON TABLE pgscore.error_queue IS 'Profiles whose rescoring failed, with the reason; drained by retry';
