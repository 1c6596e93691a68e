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
    judged_at       timestamptz,
    -- when each version's own prediction of the entity was looked for (pgscore.outcome_version_matches); NULL
    -- for an outcome recorded before this column was added that no refresh_monitoring has looked at yet
    versions_judged_at timestamptz
);
CREATE INDEX outcomes_model_entity_idx ON pgscore.outcomes (model_name, entity_key, observed_at);
-- the outcomes each refresh_monitoring pairs again (match_outcomes): observed within its look-back, or never
-- looked at (recorded before migration 0033)
CREATE INDEX outcomes_observed_at_idx ON pgscore.outcomes (observed_at);
CREATE INDEX outcomes_unjudged_idx ON pgscore.outcomes (outcome_id) WHERE judged_at IS NULL;
CREATE INDEX outcomes_versions_unjudged_idx ON pgscore.outcomes (outcome_id) WHERE versions_judged_at IS NULL;
COMMENT ON TABLE pgscore.outcomes IS 'Observed outcomes (ground truth) per model and entity, recorded after the fact';
COMMENT ON COLUMN pgscore.outcomes.judged_model_id IS 'The model version row of the prediction the outcome judges: the newest of the model for the entity logged at or before observed_at, found when the outcome was recorded or by a later refresh_monitoring; NULL when none was found';
COMMENT ON COLUMN pgscore.outcomes.predicted_at IS 'When the judged prediction was logged';
COMMENT ON COLUMN pgscore.outcomes.judged_score IS 'The judged prediction''s score';
COMMENT ON COLUMN pgscore.outcomes.judged_label IS 'The judged prediction''s label, where one was logged';
COMMENT ON COLUMN pgscore.outcomes.judged_at IS 'When the judged prediction was found (or, finding none, first looked for); NULL for an outcome recorded before migration 0033 and not yet looked at by refresh_monitoring (outcome_matches then looks it up in the log)';
COMMENT ON COLUMN pgscore.outcomes.versions_judged_at IS 'When each version''s own prediction was looked for (pgscore.outcome_version_matches); NULL for an outcome recorded before the column was added (per-version matching) and not yet looked at by refresh_monitoring';

/*
 * Each outcome against every version of its model: the newest prediction of that version for the entity
 * logged at or before the outcome was observed (a version that logged none has no row), found as the
 * outcome's own (pgscore.outcomes.judged_*) is, by record_outcome and by refresh_monitoring
 * (pgscore.match_outcomes) for a prediction logged late. A champion and a challenger that both logged
 * predictions of an entity are judged on the same outcome: pgscore.realised_performance_by_version.
 * Retention deletes a row with its prediction, and with its outcome.
 */
CREATE TABLE pgscore.outcome_version_matches (
    -- (no foreign key: its check locked the outcome row record_outcome had just inserted, once per version's
    -- row, which cost record_outcome more than the rows themselves in a trial; retention, which alone deletes
    -- outcomes, deletes their rows here with them)
    outcome_id   bigint NOT NULL,
    model_id     bigint NOT NULL,
    predicted_at timestamptz NOT NULL,
    score        float8,
    label        text,
    matched_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (outcome_id, model_id)
);
COMMENT ON TABLE pgscore.outcome_version_matches IS 'Each outcome with the prediction of each version of its model it judges: the newest of that version for the entity logged at or before observed_at (none: no row); read it through realised_performance_by_version';
COMMENT ON COLUMN pgscore.outcome_version_matches.outcome_id IS 'The outcome (pgscore.outcomes)';
COMMENT ON COLUMN pgscore.outcome_version_matches.model_id IS 'The model version row whose prediction the outcome judges';
COMMENT ON COLUMN pgscore.outcome_version_matches.predicted_at IS 'When that version''s judged prediction was logged';
COMMENT ON COLUMN pgscore.outcome_version_matches.score IS 'The judged prediction''s score';
COMMENT ON COLUMN pgscore.outcome_version_matches.label IS 'The judged prediction''s label, where one was logged';
COMMENT ON COLUMN pgscore.outcome_version_matches.matched_at IS 'When the prediction was found (record_outcome, or a later refresh_monitoring for one logged late)';
