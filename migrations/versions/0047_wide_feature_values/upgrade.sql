-- 0046 to 0047: prediction_values reads each logged row's features once, into a copy, and each value
-- from that (a subscript of the stored array read it whole again, from TOAST where it is long).
CREATE OR REPLACE VIEW pgscore.prediction_values AS
SELECT l.model_id, l.logged_at, b.kind, b.position, v.x,
       CASE WHEN v.x IS NULL OR v.x = 'NaN'::float8 THEN -1 ELSE width_bucket(v.x, b.edges) END AS bin,
       (v.x <> 'NaN'::float8 AND (v.x < b.min OR v.x > b.max)) AS out_of_range
  FROM pgscore.prediction_log l
 CROSS JOIN LATERAL (SELECT l.features[:] AS f OFFSET 0) a
  JOIN pgscore.baselines b ON b.model_id = l.model_id
 CROSS JOIN LATERAL (SELECT CASE WHEN b.kind = 'score' THEN l.score ELSE a.f[b.position + 1] END AS x) v;
