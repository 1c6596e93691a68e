/*
 * Ground truth that arrives after the prediction, joined to the predictions
 * it judges by model name and entity key.
 */
CREATE TABLE pgscore.outcomes (
    outcome_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model_name  text NOT NULL,
    entity_key  text NOT NULL,
    outcome     jsonb NOT NULL,
    observed_at timestamptz NOT NULL DEFAULT now(),
    recorded_at timestamptz NOT NULL DEFAULT now(),
    recorded_by text NOT NULL DEFAULT current_user,
    -- the prediction it judges, found when it is recorded (and by refresh_monitoring, for a prediction logged
    -- late): kept with it, so that reading the metrics probes no partition of the log (migration 0033);
    -- retention deletes it with the prediction
    judged_model_id bigint,
    predicted_at    timestamptz,
    judged_score    float8,
    judged_label    text,
    judged_at       timestamptz
);
CREATE INDEX outcomes_model_entity_idx ON pgscore.outcomes (model_name, entity_key, observed_at);
-- the outcomes each refresh_monitoring pairs again (match_outcomes): observed within its look-back, or never
-- looked at (recorded before migration 0033)
CREATE INDEX outcomes_observed_at_idx ON pgscore.outcomes (observed_at);
CREATE INDEX outcomes_unjudged_idx ON pgscore.outcomes (outcome_id) WHERE judged_at IS NULL;
COMMENT ON TABLE pgscore.outcomes IS 'Observed outcomes (ground truth) per model and entity, recorded after the fact';
COMMENT ON COLUMN pgscore.outcomes.judged_model_id IS 'The model version row of the prediction the outcome judges: the newest of the model for the entity logged at or before observed_at, found when the outcome was recorded or by a later refresh_monitoring; NULL when none was found';
COMMENT ON COLUMN pgscore.outcomes.predicted_at IS 'When the judged prediction was logged';
COMMENT ON COLUMN pgscore.outcomes.judged_score IS 'The judged prediction''s score';
COMMENT ON COLUMN pgscore.outcomes.judged_label IS 'The judged prediction''s label, where one was logged';
COMMENT ON COLUMN pgscore.outcomes.judged_at IS 'When the judged prediction was found (or, finding none, first looked for); NULL for an outcome recorded before migration 0033 and not yet looked at by refresh_monitoring (outcome_matches then looks it up in the log)';
