-- undo 0003 scoring
DROP VIEW pgscore.predictions;
DROP VIEW pgscore.model_versions;
DROP PROCEDURE pgscore.score_table(text, regclass, name, name, integer, integer, boolean, bigint);
DROP FUNCTION pgscore.score_chunk(text, regclass, name, name, text, integer, integer, boolean);
DROP FUNCTION pgscore.predict_batch(text, text, integer, integer, boolean);
DROP FUNCTION pgscore.batch_chunks(text, text, integer, integer, boolean);
DROP FUNCTION pgscore.create_log_partitions(integer, date);
DROP FUNCTION pgscore.drop_log_partitions(interval);
DROP TABLE pgscore.log_pending;
DROP FUNCTION pgscore.flush_query_log();
DROP FUNCTION pgscore.score(text, float8[], integer, text);
DROP FUNCTION pgscore.score(text, jsonb, integer, text);
DROP FUNCTION pgscore.predict(text, float8[], integer, text);
DROP FUNCTION pgscore.predict(text, jsonb, integer, text);
DROP FUNCTION pgscore.predict_proba(text, float8[], integer, text);
DROP FUNCTION pgscore.predict_proba(text, jsonb, integer, text);
DROP FUNCTION pgscore.register_model(text, bytea, text, jsonb, jsonb, boolean, text, bytea, jsonb);
DROP TABLE pgscore.evaluators;

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

