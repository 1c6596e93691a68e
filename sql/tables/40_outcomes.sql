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
    recorded_by text NOT NULL DEFAULT current_user
);
CREATE INDEX outcomes_model_entity_idx ON pgscore.outcomes (model_name, entity_key, observed_at);
COMMENT ON TABLE pgscore.outcomes IS 'Observed outcomes (ground truth) per model and entity, recorded after the fact';
