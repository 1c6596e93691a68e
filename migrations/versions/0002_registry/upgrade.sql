-- 0002 registry
ALTER TABLE pgscore.deployments DROP CONSTRAINT deployments_action_check;
ALTER TABLE pgscore.deployments ADD CONSTRAINT deployments_action_check CHECK (action IN ('deploy', 'rollback', 'retire'));

-- sql/tables/60_baselines.sql
/*
 * Training-time distribution of every feature and of the score, captured at
 * deploy: quantile bin edges (width_bucket semantics), expected fraction per
 * bin, moments, range, null rate and n. The drift views compare against it.
 */
CREATE TABLE pgscore.baselines (
    model_id  bigint NOT NULL REFERENCES pgscore.models (model_id),
    kind      text NOT NULL,
    feature   text NOT NULL,
    position  integer NOT NULL,
    edges     float8[] NOT NULL,
    expected  float8[] NOT NULL,
    mean      float8,
    std       float8,
    min       float8,
    max       float8,
    null_rate float8 NOT NULL,
    n         bigint NOT NULL,
    PRIMARY KEY (model_id, kind, feature),
    CONSTRAINT baselines_kind_check CHECK (kind IN ('feature', 'score')),
    CONSTRAINT baselines_bins_check CHECK (cardinality(expected) = 0 OR cardinality(expected) = cardinality(edges) + 1)
);
COMMENT ON TABLE pgscore.baselines IS 'Per model: the training distribution of each feature and of the score (bin edges, expected fractions, mean, std, min, max, null rate, n)';

-- sql/functions/deployments.sql
/*
 * Deployment actions. Each appends one row to pgscore.deployments; the
 * newest row per name decides what is live.
 */
CREATE FUNCTION pgscore.activate(p_name text, p_version integer, p_reason text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_model_id bigint;
BEGIN
    IF p_name IS NULL OR p_version IS NULL THEN
        RAISE EXCEPTION 'pgscore.activate: model name and version must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT m.model_id INTO v_model_id FROM pgscore.models m WHERE m.name = p_name AND m.version = p_version;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'there is no version % of model %', p_version, quote_literal(p_name)
            USING ERRCODE = 'undefined_object';
    END IF;
    INSERT INTO pgscore.deployments (model_name, model_id, action, reason)
    VALUES (p_name, v_model_id, 'deploy', p_reason);
    RETURN v_model_id;
END
$fn$;
COMMENT ON FUNCTION pgscore.activate(text, integer, text) IS 'Make a version of a model live (appends a deployment); returns its model_id';

CREATE FUNCTION pgscore.rollback(p_name text, p_to_version integer DEFAULT NULL, p_reason text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_live record;
    v_current_version integer;
    v_target bigint;
BEGIN
    IF p_name IS NULL THEN
        RAISE EXCEPTION 'pgscore.rollback: model name must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_name) THEN
        RAISE EXCEPTION 'there is no model %', quote_literal(p_name) USING ERRCODE = 'undefined_object';
    END IF;
    SELECT d.model_id, d.action INTO v_live FROM pgscore.deployments d
     WHERE d.model_name = p_name ORDER BY d.deployment_id DESC LIMIT 1;
    IF p_to_version IS NOT NULL THEN
        SELECT m.model_id INTO v_target FROM pgscore.models m WHERE m.name = p_name AND m.version = p_to_version;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'there is no version % of model %', p_to_version, quote_literal(p_name)
                USING ERRCODE = 'undefined_object';
        END IF;
    ELSE
        IF v_live.model_id IS NULL OR v_live.action = 'retire' THEN
            RAISE EXCEPTION 'model % has no live version to roll back from', quote_literal(p_name)
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'name the version to make live: pgscore.rollback(name, version)';
        END IF;
        SELECT m.version INTO v_current_version FROM pgscore.models m WHERE m.model_id = v_live.model_id;
        -- the newest version below the live one that has ever been live
        SELECT m.model_id INTO v_target FROM pgscore.models m
         WHERE m.name = p_name AND m.version < v_current_version
           AND EXISTS (SELECT 1 FROM pgscore.deployments d WHERE d.model_id = m.model_id AND d.action <> 'retire')
         ORDER BY m.version DESC LIMIT 1;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'model % has no earlier deployed version than %', quote_literal(p_name), v_current_version
                USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
    END IF;
    INSERT INTO pgscore.deployments (model_name, model_id, action, reason)
    VALUES (p_name, v_target, 'rollback', p_reason);
    RETURN v_target;
END
$fn$;
COMMENT ON FUNCTION pgscore.rollback(text, integer, text) IS 'Make the previous deployed version (or the given one) live again (appends a deployment); returns its model_id';

CREATE FUNCTION pgscore.retire(p_name text, p_reason text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_model_id bigint;
BEGIN
    SELECT d.model_id INTO v_model_id FROM pgscore.deployments d
     WHERE d.model_name = p_name ORDER BY d.deployment_id DESC LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'model % has never been deployed', quote_literal(coalesce(p_name, 'NULL'))
            USING ERRCODE = 'undefined_object';
    END IF;
    INSERT INTO pgscore.deployments (model_name, model_id, action, reason)
    VALUES (p_name, v_model_id, 'retire', p_reason);
END
$fn$;
COMMENT ON FUNCTION pgscore.retire(text, text) IS 'Leave a model with no live version (appends a retire row); scoring it then fails until a version is activated';

-- sql/functions/register_model.sql
/*
 * Stores one new model version (called by pgscore.deploy on the client):
 * checks the bytes against their sha256, signs them with the server's key
 * when pgscore.signing_key_file is set in the server configuration, and
 * appends the model, artifact, baseline and (optionally) deployment rows.
 */
CREATE FUNCTION pgscore.register_model(
    p_name text, p_artifact bytea, p_sha256 text, p_meta jsonb, p_baselines jsonb,
    p_activate boolean DEFAULT true, p_reason text DEFAULT NULL)
RETURNS TABLE (model_id bigint, version integer)
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $pl$
from pgscore.pl import register_model
return register_model(plpy, GD, p_name, p_artifact, p_sha256, p_meta, p_baselines, p_activate, p_reason)
$pl$;
COMMENT ON FUNCTION pgscore.register_model(text, bytea, text, jsonb, jsonb, boolean, text) IS 'Store the next version of a model (bytes checked against sha256, signed when a key is configured); used by pgscore.deploy';

-- sql/functions/score.sql
/*
 * Score one row in SQL with the live (or a pinned) version of a model. Thin
 * shims into pgscore.pl; the model is loaded once per backend and cached by
 * its immutable model_id, while which version is live is looked up on every
 * call, so a deployment takes effect in every session at its next statement.
 * STABLE (they read the registry), not STRICT (NULL arguments are errors
 * that name what is missing), PARALLEL UNSAFE (they run queries).
 */
CREATE FUNCTION pgscore.score(p_model text, p_features float8[], p_version integer DEFAULT NULL)
RETURNS float8
LANGUAGE plpython3u
STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $pl$
from pgscore.pl import score
return score(plpy, GD, p_model, p_features, p_version)
$pl$;
COMMENT ON FUNCTION pgscore.score(text, float8[], integer) IS 'Positive-class probability (binary), top-class probability (multiclass) or value (regression) for one feature vector';

CREATE FUNCTION pgscore.predict(p_model text, p_features float8[], p_version integer DEFAULT NULL)
RETURNS text
LANGUAGE plpython3u
STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $pl$
from pgscore.pl import predict
return predict(plpy, GD, p_model, p_features, p_version)
$pl$;
COMMENT ON FUNCTION pgscore.predict(text, float8[], integer) IS 'Predicted label (classifiers) or value (regressors), as text';

CREATE FUNCTION pgscore.predict_proba(p_model text, p_features float8[], p_version integer DEFAULT NULL)
RETURNS float8[]
LANGUAGE plpython3u
STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $pl$
from pgscore.pl import predict_proba
return predict_proba(plpy, GD, p_model, p_features, p_version)
$pl$;
COMMENT ON FUNCTION pgscore.predict_proba(text, float8[], integer) IS 'Class probabilities in the order of the model''s classes';

-- sql/views/model_versions.sql
/*
 * Every model version with its metadata and whether it is live, without the
 * artifact bytes.
 */
CREATE VIEW pgscore.model_versions AS
SELECT m.model_id, m.name, m.version, m.task, m.estimator, m.feature_names, m.feature_types,
       m.classes, m.env, m.metrics, m.n_train, m.description, m.created_at, m.created_by,
       a.sha256, a.hmac_sha256 IS NOT NULL AS signed,
       coalesce(l.model_id = m.model_id AND l.action <> 'retire', false) AS live
  FROM pgscore.models m
  JOIN pgscore.artifacts a ON a.model_id = m.model_id
  LEFT JOIN LATERAL (
        SELECT d.model_id, d.action FROM pgscore.deployments d
         WHERE d.model_name = m.name ORDER BY d.deployment_id DESC LIMIT 1) l ON true;
COMMENT ON VIEW pgscore.model_versions IS 'Every model version, its metadata, sha256, whether it is signed and whether it is live';
COMMENT ON COLUMN pgscore.model_versions.live IS 'true for the version the newest deployment row of its name points at (unless that row retires the model)';

-- sql/triggers/immutable_registry.sql (baselines)
CREATE TRIGGER baselines_immutable BEFORE UPDATE ON pgscore.baselines
    FOR EACH ROW EXECUTE FUNCTION pgscore.forbid_mutation();
