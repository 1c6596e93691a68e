/*
 * What retention and erasure removed from the audit log (migration 0141): one row per call of
 * drop_log_partitions that dropped something, of redact_log_features that redacted rows (or found none left
 * before a newer cut) and of erase_entity, written by those functions alone (as their owner). Append-only: a
 * trigger refuses UPDATE, DELETE and TRUNCATE, but of the rows of the writing transaction itself (a function
 * records its call first, and its counts at its end). The erased entity's key is not kept: its SHA-256.
 */
CREATE TABLE pgscore.log_retention (
    retention_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT now(),
    by_user       text NOT NULL DEFAULT session_user,
    action        text NOT NULL,
    model         text,
    cut           timestamptz,
    entity_sha256 text,
    rows          bigint NOT NULL DEFAULT 0,
    detail        jsonb NOT NULL DEFAULT '{}',
    xid           xid8 NOT NULL DEFAULT pg_current_xact_id(),
    CONSTRAINT log_retention_action_check CHECK (action IN ('drop', 'redact', 'erase'))
);
-- the append-only trigger of the log finds a redaction of its own transaction by it
CREATE INDEX log_retention_xid_idx ON pgscore.log_retention (xid);
COMMENT ON TABLE pgscore.log_retention IS 'Every drop of log days (drop_log_partitions), redaction of features (redact_log_features) and erasure of an entity (erase_entity): when, by whom, what and how many rows; written by those functions alone, append-only';
COMMENT ON COLUMN pgscore.log_retention.retention_id IS 'The record''s number, in the order the records were made';
COMMENT ON COLUMN pgscore.log_retention.at IS 'When it ran (the start of its transaction)';
COMMENT ON COLUMN pgscore.log_retention.by_user IS 'The login that ran it (session_user)';
COMMENT ON COLUMN pgscore.log_retention.action IS 'drop (whole UTC days), redact (the features of the rows before cut) or erase (one entity''s rows)';
COMMENT ON COLUMN pgscore.log_retention.model IS 'erase: the model whose rows were erased; NULL for every model';
COMMENT ON COLUMN pgscore.log_retention.cut IS 'drop and redact: the rows logged before this instant (the start of a UTC day)';
COMMENT ON COLUMN pgscore.log_retention.entity_sha256 IS 'erase: the SHA-256 of the entity key''s UTF-8 bytes, in hex (the key itself is not kept)';
COMMENT ON COLUMN pgscore.log_retention.rows IS 'Rows of pgscore.prediction_log removed (drop, erase) or redacted (redact)';
COMMENT ON COLUMN pgscore.log_retention.detail IS 'The counts of each kind: drop, partitions, default_rows, rollup_rows and outcomes; redact, partitions and complete (no row before the cut was left); erase, the rows removed per table, and (since 0147) those whose free text named the key and was replaced: pgscore.shadow_failures (last_message) and pgscore.error_queue (reason)';
COMMENT ON COLUMN pgscore.log_retention.xid IS 'The transaction that wrote it';

/*
 * The floor of retention (migration 0141): one row, which the schema's owner alone may change (no role is
 * granted UPDATE). drop_log_partitions refuses a retention period shorter than keep_log, redact_log_features one
 * shorter than keep_features, whoever calls them; NULL: no floor. A floor is at least a day and has no negative
 * part (a month is 28 to 31 days: '-1 mon 31 days' would be a different length on different dates; session 64).
 */
CREATE TABLE pgscore.retention_policy (
    one           boolean PRIMARY KEY DEFAULT true CONSTRAINT retention_policy_one_check CHECK (one),
    -- at least a day, with no negative part (session 64: '-1 mon 31 days' compares as 1 day and is none in December)
    keep_log      interval CONSTRAINT retention_policy_keep_log_check CHECK (
        keep_log >= interval '1 day'
        AND extract(year FROM keep_log) >= 0 AND extract(month FROM keep_log) >= 0
        AND extract(day FROM keep_log) >= 0 AND extract(hour FROM keep_log) >= 0
        AND extract(minute FROM keep_log) >= 0 AND extract(second FROM keep_log) >= 0),
    keep_features interval CONSTRAINT retention_policy_keep_features_check CHECK (
        keep_features >= interval '1 day'
        AND extract(year FROM keep_features) >= 0 AND extract(month FROM keep_features) >= 0
        AND extract(day FROM keep_features) >= 0 AND extract(hour FROM keep_features) >= 0
        AND extract(minute FROM keep_features) >= 0 AND extract(second FROM keep_features) >= 0)
);
INSERT INTO pgscore.retention_policy DEFAULT VALUES;
COMMENT ON TABLE pgscore.retention_policy IS 'One row: the shortest retention periods drop_log_partitions (keep_log) and redact_log_features (keep_features) accept, whoever calls them; set by the schema''s owner alone';
COMMENT ON COLUMN pgscore.retention_policy.one IS 'true: the one row';
COMMENT ON COLUMN pgscore.retention_policy.keep_log IS 'The shortest p_older_than drop_log_partitions accepts; NULL: no floor (1 day)';
COMMENT ON COLUMN pgscore.retention_policy.keep_features IS 'The shortest p_older_than redact_log_features accepts; NULL: no floor (1 day)';
