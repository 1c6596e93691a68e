-- 0016 back to 0015: batch_chunks and predict_batch as 0013 made them; predict_batch's errors read as
-- PL/Python reports them again
DROP FUNCTION pgscore.batch_chunks(text, text, integer, integer, boolean, text);

CREATE FUNCTION pgscore.batch_chunks(p_model text, p_query text, p_version integer, p_chunk_size integer, p_log boolean,
                                     p_search_path text)
RETURNS TABLE (keys text[], scores bytea)
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $pl$
from pgscore.pl import batch_chunks
return batch_chunks(plpy, GD, p_model, p_query, p_version, p_chunk_size, p_log, p_search_path, doubles=True)
$pl$;
COMMENT ON FUNCTION pgscore.batch_chunks(text, text, integer, integer, boolean, text) IS 'Internal: scores p_query chunk by chunk, one row of keys and scores (raw doubles, for pgscore.float8_array) per chunk; use pgscore.predict_batch';

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
       ROWS FROM (pg_catalog.unnest(c.keys), pg_catalog.unnest(pgscore.float8_array(c.scores))) AS u(key, score)
$fn$;
COMMENT ON FUNCTION pgscore.predict_batch(text, text, integer, integer, boolean, text) IS 'Score every row of a query (first column the key, then a column per feature or one float8[] named features) in chunks; returns key and score; the query''s names are resolved with p_search_path (default: the caller''s)';

-- sql/privileges/roles.sql
REVOKE EXECUTE ON FUNCTION pgscore.batch_chunks(text, text, integer, integer, boolean, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgscore.batch_chunks(text, text, integer, integer, boolean, text) TO pgscore_app, pgscore_admin;

DROP FUNCTION pgscore.batch_error(jsonb);
