-- sql/schema/pgscore.sql
/*
 * The pgscore schema, the PL/Python language it runs in, and a record of
 * what the install created (so that uninstalling removes only that).
 */
CREATE SCHEMA pgscore;
COMMENT ON SCHEMA pgscore IS 'pgscore: scikit-learn models deployed, run, audited and watched inside PostgreSQL';

CREATE TABLE pgscore.install_info (
    singleton        boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    installed_at     timestamptz NOT NULL DEFAULT now(),
    installed_by     text NOT NULL DEFAULT current_user,
    created_plpython boolean NOT NULL
);
COMMENT ON TABLE pgscore.install_info IS 'One row: when pgscore was installed, by whom, and whether the install created plpython3u';

DO $do$
DECLARE
    v_created boolean := false;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'plpython3u') THEN
        CREATE EXTENSION plpython3u;
        v_created := true;
    END IF;
    INSERT INTO pgscore.install_info (created_plpython) VALUES (v_created);
END
$do$;

-- sql/tables/10_models.sql
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

CREATE TABLE pgscore.artifacts (
    model_id    bigint PRIMARY KEY REFERENCES pgscore.models (model_id),
    format      text NOT NULL DEFAULT 'joblib',
    bytes       bytea NOT NULL,
    sha256      text NOT NULL,
    hmac_sha256 text,
    CONSTRAINT artifacts_sha256_check CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    CONSTRAINT artifacts_hmac_check CHECK (hmac_sha256 ~ '^[0-9a-f]{64}$')
);
COMMENT ON TABLE pgscore.artifacts IS 'Serialised model bytes, their sha256 and optional HMAC-SHA256 signature; readable only by the admin role';

-- sql/tables/20_deployments.sql
/*
 * Append-only deployment history: the newest row per model name is the live
 * version. Deploy and rollback both append; nothing is updated in place.
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
    CONSTRAINT deployments_action_check CHECK (action IN ('deploy', 'rollback'))
);
CREATE INDEX deployments_live_idx ON pgscore.deployments (model_name, deployment_id DESC);
COMMENT ON TABLE pgscore.deployments IS 'Append-only history of which model version is live; the newest row per name wins';

-- sql/tables/30_prediction_log.sql
/*
 * The audit trail: one row per prediction from any path (query, batch,
 * trigger, retry). Range-partitioned on time so retention drops partitions
 * instead of deleting rows; the default partition catches what no dated
 * partition covers.
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
    CONSTRAINT prediction_log_source_check CHECK (source IN ('query', 'batch', 'trigger', 'retry'))
) PARTITION BY RANGE (logged_at);
CREATE TABLE pgscore.prediction_log_default PARTITION OF pgscore.prediction_log DEFAULT;
CREATE INDEX prediction_log_model_time_idx ON pgscore.prediction_log (model_id, logged_at);
COMMENT ON TABLE pgscore.prediction_log IS 'Every prediction: model, entity, features, score, source (query/batch/trigger/retry) and cause';

-- sql/tables/40_outcomes.sql
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

-- sql/tables/50_error_queue.sql
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
    first_failed_at timestamptz NOT NULL DEFAULT now(),
    last_failed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX error_queue_profile_idx ON pgscore.error_queue (profile_table, entity_key);
COMMENT ON TABLE pgscore.error_queue IS 'Profiles whose rescoring failed, with the reason; drained by retry';

-- sql/functions/forbid_mutation.sql
/*
 * Trigger function that keeps registry rows immutable: models, artifacts and
 * deployments are appended, never updated.
 */
CREATE FUNCTION pgscore.forbid_mutation() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    RAISE EXCEPTION 'pgscore.% rows are immutable: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'deploy a new version, or roll back with pgscore.rollback';
END
$fn$;
COMMENT ON FUNCTION pgscore.forbid_mutation() IS 'Trigger function: refuses UPDATE on the append-only registry tables';

-- sql/functions/validate_environment.sql
/*
 * Reports the Python environment PL/Python sees (Python, scikit-learn,
 * numpy, scipy, joblib, pgscore) and fails, naming the missing piece and the
 * fix, when pgscore or its pinned stack cannot be imported.
 */
CREATE FUNCTION pgscore.validate_environment() RETURNS jsonb
LANGUAGE plpython3u
STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $pl$
# Self-contained on purpose: it must explain what is wrong when pgscore itself cannot be imported.
try:
    from pgscore.pl import validate_environment
except ImportError as e:
    import sys
    plpy.error("pgscore cannot be imported by the database's Python: %s" % e, sqlstate="58P01",
               detail="PL/Python runs %s; its sys.path is %s" % (sys.version.split()[0], sys.path),
               hint="start the server with PYTHONPATH pointing at the environment built with /usr/bin/python3 (pgscore db start does this; see README, 'Installing into an existing server')")
return validate_environment(plpy)
$pl$;
COMMENT ON FUNCTION pgscore.validate_environment() IS 'Versions of Python, scikit-learn, numpy, scipy, joblib and pgscore inside the database; raises if any is missing or differs from the pins';

-- sql/triggers/immutable_registry.sql
/*
 * Registry rows are append-only.
 */
CREATE TRIGGER models_immutable BEFORE UPDATE ON pgscore.models
    FOR EACH ROW EXECUTE FUNCTION pgscore.forbid_mutation();
CREATE TRIGGER artifacts_immutable BEFORE UPDATE ON pgscore.artifacts
    FOR EACH ROW EXECUTE FUNCTION pgscore.forbid_mutation();
CREATE TRIGGER deployments_immutable BEFORE UPDATE ON pgscore.deployments
    FOR EACH ROW EXECUTE FUNCTION pgscore.forbid_mutation();
