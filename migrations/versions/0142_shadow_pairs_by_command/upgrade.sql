-- 0141 to 0142: pgscore.shadow_pairs pairs a shadow row with the live row written last before it in its statement
-- (cmin, then ctid), not the k-th with the k-th by physical order
CREATE OR REPLACE VIEW pgscore.shadow_pairs AS
SELECT s.logged_at, ms.name AS model, s.entity_key, s.statement_at,
       ml.version AS live_version, l.score AS live_score, l.label AS live_label, l.source AS live_source,
       ms.version AS shadow_version, s.score AS shadow_score, s.label AS shadow_label,
       abs(s.score - l.score) AS abs_diff,
       CASE WHEN ms.task = 'binary' AND ml.task = 'binary'
            THEN (l.score > coalesce(pgscore.jsonb_float8(ml.metrics -> 'threshold'), 0.5))
                 <> (s.score > coalesce(pgscore.jsonb_float8(ms.metrics -> 'threshold'), 0.5))
            WHEN ms.task = 'multiclass' AND ml.task = 'multiclass' THEN l.label <> s.label END AS decision_changed,
       l.model_id AS live_model_id, s.model_id AS shadow_model_id
  FROM (SELECT p.logged_at, p.model_id, p.entity_key, p.score, p.label,
               (jsonb_path_query_first(p.cause, '$.statement_at.datetime()', '{}', true) #>> '{}')::timestamptz AS statement_at,
               CASE WHEN p.cause ->> 'shadow_of' ~ '^[0-9]{1,18}$' THEN (p.cause ->> 'shadow_of')::bigint END AS shadow_of,
               p.cmin::text::bigint AS command, p.ctid
          FROM pgscore.prediction_log p
         WHERE p.source = 'shadow' AND p.entity_key IS NOT NULL) s
  CROSS JOIN LATERAL (
        SELECT l.model_id, l.score, l.label, l.source
          FROM pgscore.prediction_log l
         WHERE l.entity_key = s.entity_key AND l.logged_at = s.logged_at AND l.model_id = s.shadow_of
           AND l.source <> 'shadow'
           AND (jsonb_path_query_first(l.cause, '$.statement_at.datetime()', '{}', true) #>> '{}')::timestamptz
               IS NOT DISTINCT FROM s.statement_at
           AND (l.cmin::text::bigint < s.command OR (l.cmin::text::bigint = s.command AND l.ctid < s.ctid))
         ORDER BY l.cmin::text::bigint DESC, l.ctid DESC
         LIMIT 1) l
  JOIN pgscore.models ms ON ms.model_id = s.model_id
  JOIN pgscore.models ml ON ml.model_id = l.model_id;
