-- 0008 undone: the row functions without SET search_path; batch_chunks and predict_batch as before

-- sql/functions/score.sql
ALTER FUNCTION pgscore.score(text, float8[], integer, text) RESET search_path;
ALTER FUNCTION pgscore.score(text, jsonb, integer, text) RESET search_path;
ALTER FUNCTION pgscore.predict(text, float8[], integer, text) RESET search_path;
ALTER FUNCTION pgscore.predict(text, jsonb, integer, text) RESET search_path;
ALTER FUNCTION pgscore.predict_proba(text, float8[], integer, text) RESET search_path;
ALTER FUNCTION pgscore.predict_proba(text, jsonb, integer, text) RESET search_path;

-- sql/functions/batch.sql
DROP FUNCTION pgscore.predict_batch(text, text, integer, integer, boolean, text);
DROP FUNCTION pgscore.batch_chunks(text, text, integer, integer, boolean, text);

CREATE FUNCTION pgscore.batch_chunks(p_model text, p_query text, p_version integer, p_chunk_size integer, p_log boolean)
RETURNS TABLE (keys text[], scores float8[])
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
AS $pl$
from pgscore.pl import batch_chunks
return batch_chunks(plpy, GD, p_model, p_query, p_version, p_chunk_size, p_log)
$pl$;
COMMENT ON FUNCTION pgscore.batch_chunks(text, text, integer, integer, boolean) IS 'Internal: scores p_query chunk by chunk, one row of keys and scores per chunk; use pgscore.predict_batch';

CREATE FUNCTION pgscore.predict_batch(p_model text, p_query text, p_version integer DEFAULT NULL,
                                      p_chunk_size integer DEFAULT 10000, p_log boolean DEFAULT true)
RETURNS TABLE (key text, score float8)
LANGUAGE sql
VOLATILE PARALLEL UNSAFE
AS $fn$
SELECT u.key, u.score
  FROM pgscore.batch_chunks(p_model, p_query, p_version, p_chunk_size, p_log) AS c,
       ROWS FROM (pg_catalog.unnest(c.keys), pg_catalog.unnest(c.scores)) AS u(key, score)
$fn$;
COMMENT ON FUNCTION pgscore.predict_batch(text, text, integer, integer, boolean) IS 'Score every row of a query (first column the key, then a column per feature or one float8[] named features) in chunks; returns key and score';

-- sql/privileges/roles.sql
REVOKE EXECUTE ON FUNCTION pgscore.predict_batch(text, text, integer, integer, boolean), pgscore.batch_chunks(text, text, integer, integer, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgscore.predict_batch(text, text, integer, integer, boolean), pgscore.batch_chunks(text, text, integer, integer, boolean) TO pgscore_app, pgscore_admin;
