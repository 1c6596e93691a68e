/*
 * The versions scored in shadow now: for each, the newest row of
 * pgscore.shadows is a 'start', and no deployment has made it live since.
 * The rescoring trigger and score_table read it (by model name) at each
 * statement and chunk.
 */
CREATE VIEW pgscore.shadow_versions AS
SELECT s.model_name AS name, m.version, s.model_id, s.changed_at AS since, s.changed_by AS set_by, s.reason
  FROM (SELECT DISTINCT ON (s.model_name, s.model_id) s.model_name, s.model_id, s.action, s.since_deployment,
               s.changed_at, s.changed_by, s.reason
          FROM pgscore.shadows s ORDER BY s.model_name, s.model_id, s.shadow_id DESC) s
  JOIN pgscore.models m ON m.model_id = s.model_id
 WHERE s.action = 'start'
   AND NOT EXISTS (SELECT 1 FROM pgscore.deployments d
                    WHERE d.model_name = s.model_name AND d.model_id = s.model_id
                      AND d.deployment_id > coalesce(s.since_deployment, 0) AND d.action <> 'retire');
COMMENT ON VIEW pgscore.shadow_versions IS 'The versions scored in shadow next to their name''s live version (pgscore.set_shadow): logged with source ''shadow'', never served';
COMMENT ON COLUMN pgscore.shadow_versions.since IS 'When pgscore.set_shadow marked it';
COMMENT ON COLUMN pgscore.shadow_versions.set_by IS 'The role that marked it';
COMMENT ON COLUMN pgscore.shadow_versions.reason IS 'The reason given to pgscore.set_shadow';

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
            ELSE coalesce(e.reason, 'deployed before evaluators existed') END AS engine_note,
       EXISTS (SELECT 1 FROM pgscore.shadow_versions s WHERE s.name = m.name AND s.model_id = m.model_id) AS shadow,
       m.text_categories
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
COMMENT ON COLUMN pgscore.model_versions.shadow IS 'true for a version scored in shadow next to the live one (pgscore.set_shadow; pgscore.shadow_versions)';
COMMENT ON COLUMN pgscore.model_versions.text_categories IS 'Each text feature''s words, in the order of their codes (migration 0123): scoring codes a word given by name, or in a text column, as its place among them; NULL when the model takes no words';
