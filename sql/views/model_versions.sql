/*
 * Every model version with its metadata and whether it is live, without the
 * artifact bytes.
 */
CREATE VIEW pgscore.model_versions AS
SELECT m.model_id, m.name, m.version, m.task, m.estimator, m.feature_names, m.feature_types,
       m.classes, m.env, m.metrics, m.n_train, m.description, m.created_at, m.created_by,
       a.sha256, a.hmac_sha256 IS NOT NULL AS signed,
       coalesce(l.model_id = m.model_id AND l.action <> 'retire', false) AS live,
       CASE WHEN e.bytes IS NOT NULL THEN 'numpy' ELSE 'scikit-learn' END AS engine,
       CASE WHEN e.bytes IS NOT NULL
            THEN format('compiled, equal to scikit-learn on %s rows (max difference %s)', e.checked_rows, e.max_abs_diff)
            ELSE coalesce(e.reason, 'deployed before evaluators existed') END AS engine_note
  FROM pgscore.models m
  JOIN pgscore.artifacts a ON a.model_id = m.model_id
  LEFT JOIN pgscore.evaluators e ON e.model_id = m.model_id
  LEFT JOIN LATERAL (
        SELECT d.model_id, d.action FROM pgscore.deployments d
         WHERE d.model_name = m.name ORDER BY d.deployment_id DESC LIMIT 1) l ON true;
COMMENT ON VIEW pgscore.model_versions IS 'Every model version, its metadata, sha256, whether it is signed and whether it is live';
COMMENT ON COLUMN pgscore.model_versions.live IS 'true for the version the newest deployment row of its name points at (unless that row retires the model)';
COMMENT ON COLUMN pgscore.model_versions.engine IS 'numpy: scored by the evaluator compiled at deploy; scikit-learn: scored by the unpickled estimator';
COMMENT ON COLUMN pgscore.model_versions.engine_note IS 'How the evaluator was checked against scikit-learn, or why the model could not be compiled';
