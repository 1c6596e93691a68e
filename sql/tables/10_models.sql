/*
 * The model registry. One immutable row per trained model version; the
 * artifact bytes live apart in pgscore.artifacts so that roles may read the
 * registry without being able to read (or unpickle) the bytes.
 */
CREATE TABLE pgscore.models (
    model_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL,
    version       integer NOT NULL,
    task          text NOT NULL,
    estimator     text NOT NULL,
    feature_names text[] NOT NULL,
    feature_types text[] NOT NULL,
    classes       jsonb,
    env           jsonb NOT NULL,
    metrics       jsonb NOT NULL DEFAULT '{}'::jsonb,
    n_train       bigint,
    description   text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    created_by    text NOT NULL DEFAULT current_user,
    reason        text,
    text_categories jsonb,
    CONSTRAINT models_name_version_key UNIQUE (name, version),
    CONSTRAINT models_name_id_key UNIQUE (name, model_id),
    CONSTRAINT models_name_check CHECK (name ~ '^[A-Za-z][A-Za-z0-9_.-]{0,62}$'),
    CONSTRAINT models_version_check CHECK (version > 0),
    CONSTRAINT models_task_check CHECK (task IN ('binary', 'multiclass', 'regression')),
    CONSTRAINT models_features_check CHECK (
        cardinality(feature_names) > 0
        AND cardinality(feature_names) = cardinality(feature_types))
);
COMMENT ON TABLE pgscore.models IS 'One immutable row per model version: features, task, classes, the environment that trained it, validation metrics';
COMMENT ON COLUMN pgscore.models.text_categories IS 'Each text feature''s words, in the order of their codes (a word''s code is its place, from 0): {"plan": ["basic", "plus", "pro"]}; NULL when the model takes no words (migration 0123)';
COMMENT ON COLUMN pgscore.models.reason IS 'The reason given when the version was stored, live or not (an alembic revision''s deploy_model gives ''alembic revision <id>'', which its undeploy_model looks for)';

CREATE TABLE pgscore.artifacts (
    model_id    bigint PRIMARY KEY REFERENCES pgscore.models (model_id),
    format      text NOT NULL DEFAULT 'joblib',
    bytes       bytea NOT NULL,
    sha256      text NOT NULL,
    hmac_sha256 text,
    CONSTRAINT artifacts_sha256_check CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    CONSTRAINT artifacts_hmac_check CHECK (hmac_sha256 ~ '^(v2:)?[0-9a-f]{64}$')
);
COMMENT ON TABLE pgscore.artifacts IS 'Serialised model bytes, their sha256 and optional HMAC-SHA256 signature; readable only by the admin role';
