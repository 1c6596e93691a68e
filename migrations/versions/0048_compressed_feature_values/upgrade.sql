-- 0047 to 0048: prediction_values unnests a row whose features are stored compressed too (a wide array of
-- mostly zeros, one-hot features, fits in under 1 kB compressed), whose every subscript decompressed it again.
CREATE OR REPLACE VIEW pgscore.prediction_values AS
SELECT l.model_id, l.logged_at, b.kind, b.position, v.x,
       CASE WHEN v.x IS NULL OR v.x = 'NaN'::float8 THEN -1 ELSE width_bucket(v.x, b.edges) END AS bin,
       (v.x <> 'NaN'::float8 AND (v.x < b.min OR v.x > b.max)) AS out_of_range
  FROM pgscore.prediction_log l
  JOIN pgscore.baselines b ON b.model_id = l.model_id
 CROSS JOIN LATERAL (SELECT CASE WHEN b.kind = 'score' THEN l.score ELSE l.features[b.position + 1] END AS x) v
 WHERE pg_column_size(l.features) <= 1024 AND pg_column_compression(l.features) IS NULL
UNION ALL
SELECT l.model_id, l.logged_at, b.kind, b.position, v.x,
       CASE WHEN v.x IS NULL OR v.x = 'NaN'::float8 THEN -1 ELSE width_bucket(v.x, b.edges) END AS bin,
       (v.x <> 'NaN'::float8 AND (v.x < b.min OR v.x > b.max)) AS out_of_range
  FROM pgscore.prediction_log l
 CROSS JOIN LATERAL (SELECT 'score'::text AS kind, 0 AS position, l.score AS x
                     UNION ALL
                     SELECT 'feature'::text, (u.i - 1)::integer, u.x
                       FROM unnest(l.features) WITH ORDINALITY AS u(x, i)) v
  JOIN pgscore.baselines b ON b.model_id = l.model_id AND b.kind = v.kind AND b.position = v.position
 WHERE pg_column_size(l.features) > 1024 OR pg_column_compression(l.features) IS NOT NULL;
