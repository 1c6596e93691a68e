-- 0016 predict_batch raises the error that stopped it as its own message, with its SQLSTATE, DETAIL and
-- HINT: batch_chunks returns it as a last row, pgscore.batch_error raises it. Before, an error found
-- after the first rows read "error fetching next item from iterator" (PL/Python's words), the message
-- in DETAIL, and the others carried PL/Python's exception class before the message. Only batch_chunks
-- is dropped (its result type changes); predict_batch is replaced in place, so that views calling it
-- and grants on it stay.

-- sql/functions/batch.sql
DROP FUNCTION pgscore.batch_chunks(text, text, integer, integer, boolean, text);

CREATE FUNCTION pgscore.batch_chunks(p_model text, p_query text, p_version integer, p_chunk_size integer, p_log boolean,
                                     p_search_path text)
RETURNS TABLE (keys text[], scores bytea, error jsonb)
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $pl$
from pgscore.pl import batch_chunks
return batch_chunks(plpy, GD, p_model, p_query, p_version, p_chunk_size, p_log, p_search_path, doubles=True, errors=True)
$pl$;
COMMENT ON FUNCTION pgscore.batch_chunks(text, text, integer, integer, boolean, text) IS 'Internal: scores p_query chunk by chunk, one row of keys and scores (raw doubles, for pgscore.float8_array) per chunk, or a last row with the error that stopped it; use pgscore.predict_batch';

-- batch_chunks hands predict_batch the error that stopped it as a row (message, sqlstate, detail, hint),
-- and batch_error raises it: PL/Python would report an error raised while it iterates as "error
-- fetching next item from iterator", the message in DETAIL, and every other one prefixed with its
-- Python exception class
CREATE FUNCTION pgscore.batch_error(p_error jsonb)
RETURNS text[]
LANGUAGE plpgsql
IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_message text := coalesce(p_error ->> 'message', 'pgscore.predict_batch failed');
    v_state text := coalesce(p_error ->> 'sqlstate', 'P0001');
    v_detail text := p_error ->> 'detail';
    v_hint text := p_error ->> 'hint';
BEGIN
    -- RAISE takes no NULL option, and an empty DETAIL or HINT would still print its label
    IF v_detail IS NULL AND v_hint IS NULL THEN
        RAISE EXCEPTION USING MESSAGE = v_message, ERRCODE = v_state;
    ELSIF v_hint IS NULL THEN
        RAISE EXCEPTION USING MESSAGE = v_message, ERRCODE = v_state, DETAIL = v_detail;
    ELSIF v_detail IS NULL THEN
        RAISE EXCEPTION USING MESSAGE = v_message, ERRCODE = v_state, HINT = v_hint;
    END IF;
    RAISE EXCEPTION USING MESSAGE = v_message, ERRCODE = v_state, DETAIL = v_detail, HINT = v_hint;
END
$fn$;
COMMENT ON FUNCTION pgscore.batch_error(jsonb) IS 'Internal: raises the error batch_chunks reports (message, sqlstate, detail, hint) as predict_batch''s own';

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

-- sql/privileges/roles.sql
REVOKE EXECUTE ON FUNCTION pgscore.batch_chunks(text, text, integer, integer, boolean, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION pgscore.batch_error(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgscore.batch_chunks(text, text, integer, integer, boolean, text), pgscore.batch_error(jsonb)
    TO pgscore_app, pgscore_admin;
