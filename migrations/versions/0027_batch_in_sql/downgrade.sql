-- 0027 to 0026: predict_batch goes chunk by chunk for every model again, as a SQL function

CREATE OR REPLACE FUNCTION pgscore.predict_batch(p_model text, p_query text, p_version integer DEFAULT NULL,
                                      p_chunk_size integer DEFAULT 10000, p_log boolean DEFAULT true,
                                      p_search_path text DEFAULT pg_catalog.current_setting('search_path'))
RETURNS TABLE (key text, score float8)
LANGUAGE sql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
SELECT u.key, u.score
  FROM pgscore.batch_chunks(p_model, p_query, p_version, p_chunk_size, p_log, p_search_path) AS c,
       ROWS FROM (pg_catalog.unnest(CASE WHEN c.error IS NULL THEN c.keys ELSE pgscore.batch_error(c.error) END),
                  pg_catalog.unnest(pgscore.float8_array(c.scores))) AS u(key, score)
$fn$;
COMMENT ON FUNCTION pgscore.predict_batch(text, text, integer, integer, boolean, text) IS 'Score every row of a query (first column the key, then a column per feature or one float8[] named features) in chunks; returns key and score; the query''s names are resolved with p_search_path (default: the caller''s)';

DROP FUNCTION pgscore.batch_sql(text, text, integer, integer, boolean, text);
DROP FUNCTION pgscore.batch_row(text, integer, text, bytea);
