-- 0047 to 0046: prediction_values as before.
CREATE OR REPLACE VIEW pgscore.prediction_values AS
SELECT l.model_id, l.logged_at, b.kind, b.position, v.x,
       CASE WHEN v.x IS NULL OR v.x = 'NaN'::float8 THEN -1 ELSE width_bucket(v.x, b.edges) END AS bin,
       (v.x <> 'NaN'::float8 AND (v.x < b.min OR v.x > b.max)) AS out_of_range
  FROM pgscore.prediction_log l
  JOIN pgscore.baselines b ON b.model_id = l.model_id
 CROSS JOIN LATERAL (SELECT CASE WHEN b.kind = 'score' THEN l.score ELSE l.features[b.position + 1] END AS x) v;
