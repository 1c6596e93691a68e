/*
 * Append-only deployment history: the newest row per model name says which
 * version is live ('deploy', 'rollback'), or that none is ('retire').
 * Nothing is updated in place.
 */
CREATE TABLE pgscore.deployments (
    deployment_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model_name    text NOT NULL,
    model_id      bigint NOT NULL,
    action        text NOT NULL,
    reason        text,
    deployed_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    deployed_by   text NOT NULL DEFAULT current_user,
    CONSTRAINT deployments_model_fkey FOREIGN KEY (model_name, model_id)
        REFERENCES pgscore.models (name, model_id),
    CONSTRAINT deployments_action_check CHECK (action IN ('deploy', 'rollback', 'retire'))
);
CREATE INDEX deployments_live_idx ON pgscore.deployments (model_name, deployment_id DESC);
COMMENT ON TABLE pgscore.deployments IS 'Append-only history of which model version is live; the newest row per name wins';
