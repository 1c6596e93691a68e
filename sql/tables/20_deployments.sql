/*
 * Append-only deployment history: the newest row per model name says which
 * version is live ('deploy': stored and made live at once; 'activate': a
 * version stored before made live; 'rollback'), or that none is ('retire').
 * A version stored without being made live (pgscore deploy --no-activate)
 * has no row here: pgscore.models.created_at says when it was stored. Before
 * migration 0121 an activation was recorded as 'deploy' too. Nothing is
 * updated in place.
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
    CONSTRAINT deployments_action_check CHECK (action IN ('deploy', 'activate', 'rollback', 'retire'))
);
CREATE INDEX deployments_live_idx ON pgscore.deployments (model_name, deployment_id DESC);
COMMENT ON TABLE pgscore.deployments IS 'Append-only history of which model version is live; the newest row per name wins';
