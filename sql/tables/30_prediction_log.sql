/*
 * The audit trail: one row per prediction from any path (query, batch,
 * trigger, retry, refresh). Range-partitioned by day on logged_at, so retention
 * drops whole partitions instead of deleting rows
 * (pgscore.create_log_partitions / pgscore.drop_log_partitions); the default
 * partition catches what no dated partition covers. The (model_id,
 * logged_at) index serves the monitoring windows.
 */
CREATE TABLE pgscore.prediction_log (
    logged_at  timestamptz NOT NULL DEFAULT now(),
    model_id   bigint NOT NULL,
    entity_key text,
    features   float8[] NOT NULL,
    score      float8,
    label      text,
    source     text NOT NULL,
    cause      jsonb,
    -- who wrote the row (migration 0139): the session's login, which the roles' column grant leaves out
    written_by text DEFAULT SESSION_USER,
    CONSTRAINT prediction_log_source_check CHECK (source IN ('query', 'batch', 'trigger', 'retry', 'refresh', 'shadow'))
) PARTITION BY RANGE (logged_at);
CREATE TABLE pgscore.prediction_log_default PARTITION OF pgscore.prediction_log DEFAULT;
CREATE INDEX prediction_log_model_time_idx ON pgscore.prediction_log (model_id, logged_at);
-- outcomes find the prediction they judge by entity, newest first (pgscore.outcome_matches)
CREATE INDEX prediction_log_entity_time_idx ON pgscore.prediction_log (entity_key, logged_at) WHERE entity_key IS NOT NULL;
COMMENT ON TABLE pgscore.prediction_log IS 'Every prediction: model, entity, features, score, source (query/batch/trigger/retry/refresh/shadow) and cause';
COMMENT ON COLUMN pgscore.prediction_log.written_by IS 'The login (session_user) of the session that wrote the row: its default, a column no pgscore role may INSERT (migration 0139); NULL for a row logged before 0139 (not recorded)';
