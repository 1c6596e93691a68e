-- 0013 numbers sent from Python in bulk (audit rows' features and scores, scores written back, the
-- scores predict_batch returns) go as
-- raw doubles through pgscore.float8_array instead of a float8[] literal that PostgreSQL parses number
-- by number (docs/performance.md). The code checks for the function once per backend and sends
-- literals where it is missing (a schema before 0013).

-- sql/functions/batch.sql
-- The way back in: numbers pgscore sends from Python (audit rows' features and scores, scores written
-- back) as raw doubles, 8 bytes each in the machine's byte order. A float8[] parameter would go as
-- text, one float8in per number (~0.3 us for 17 digits; 12 of them per audit row). The array is built
-- from an image: float8_array_unchecked is byteasend declared bytea -> float8[], trusting its argument
-- to be a valid float8[] image, so only its owner may run it. float8_array runs it as its owner and
-- gives it only what it builds itself: the header PostgreSQL writes for an array of that many doubles,
-- then the doubles.
CREATE FUNCTION pgscore.float8_array_unchecked(p_image bytea)
RETURNS float8[]
LANGUAGE internal
IMMUTABLE STRICT PARALLEL SAFE
AS 'byteasend';
COMMENT ON FUNCTION pgscore.float8_array_unchecked(bytea) IS 'Internal, owner only: a float8[] image (as pgscore.float8_image gives) as the array, unchecked; pgscore.float8_array calls it';

CREATE FUNCTION pgscore.float8_array(p_doubles bytea)
RETURNS float8[]
LANGUAGE plpgsql
IMMUTABLE STRICT PARALLEL SAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_empty bytea;
BEGIN
    IF octet_length(p_doubles) % 8 <> 0 THEN
        RAISE EXCEPTION 'pgscore.float8_array: % bytes are not whole doubles (8 bytes each)', octet_length(p_doubles)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- the image PostgreSQL writes for that many zeros: its header, then the doubles in place of the zeros
    v_empty := pgscore.float8_image(array_fill(0::float8, ARRAY[octet_length(p_doubles) / 8]));
    RETURN pgscore.float8_array_unchecked(substr(v_empty, 1, octet_length(v_empty) - octet_length(p_doubles))
                                          || p_doubles);
END
$fn$;
COMMENT ON FUNCTION pgscore.float8_array(bytea) IS 'The doubles in p_doubles (8 bytes each, in the machine''s byte order) as a float8[]; how pgscore''s Python sends numbers in bulk without one float8in each';

-- sql/privileges/roles.sql
-- float8_array is run by the roles that score and log, like batch_chunks (revoked from PUBLIC first, as
-- roles.sql revokes every routine of the schema, so that its privileges read the same)
REVOKE EXECUTE ON FUNCTION pgscore.float8_array_unchecked(bytea) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION pgscore.float8_array(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgscore.float8_array(bytea) TO pgscore_app, pgscore_admin;
-- float8_array_unchecked takes any bytes for an array: its owner's alone, also where default privileges
-- (ALTER DEFAULT PRIVILEGES) granted it to someone when it was created
DO $do$
DECLARE
    v_grantee regrole;
BEGIN
    FOR v_grantee IN SELECT a.grantee::regrole FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a
                      WHERE p.oid = 'pgscore.float8_array_unchecked(bytea)'::pg_catalog.regprocedure
                        AND a.grantee <> p.proowner AND a.grantee <> 0
    LOOP
        EXECUTE pg_catalog.format('REVOKE EXECUTE ON FUNCTION pgscore.float8_array_unchecked(bytea) FROM %s', v_grantee);
    END LOOP;
END
$do$;

-- batch_chunks returns a chunk's scores as raw doubles, which predict_batch turns into a float8[] with
-- float8_array. Only batch_chunks is dropped (its result type changes); predict_batch is replaced in
-- place, so that views calling it and grants on it stay

-- sql/functions/batch.sql
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
