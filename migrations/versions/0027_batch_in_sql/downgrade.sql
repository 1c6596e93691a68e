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

-- sql/functions/log_partitions.sql as at 0026 (the grants given stay)
CREATE OR REPLACE FUNCTION pgscore.create_log_partitions(p_days integer DEFAULT 7,
                                              p_from date DEFAULT (now() AT TIME ZONE 'UTC')::date)
RETURNS integer
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_day date;
    v_name text;
    v_lo timestamptz;
    v_hi timestamptz;
    v_created integer := 0;
BEGIN
    IF p_days IS NULL OR p_from IS NULL OR p_days < 0 OR p_days > 366 THEN
        RAISE EXCEPTION 'pgscore.create_log_partitions: p_days must be between 0 and 366 and p_from not NULL (got %, %)',
            p_days, p_from USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR i IN 0..p_days LOOP
        v_day := p_from + i;
        v_name := 'prediction_log_' || to_char(v_day, 'YYYYMMDD');
        CONTINUE WHEN to_regclass(format('pgscore.%I', v_name)) IS NOT NULL;
        v_lo := v_day::timestamp AT TIME ZONE 'UTC';
        v_hi := (v_day + 1)::timestamp AT TIME ZONE 'UTC';
        EXECUTE format('CREATE TABLE pgscore.%I (LIKE pgscore.prediction_log INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', v_name);
        EXECUTE format('WITH moved AS (DELETE FROM pgscore.prediction_log_default WHERE logged_at >= %L AND logged_at < %L RETURNING *) '
                       'INSERT INTO pgscore.%I SELECT * FROM moved', v_lo, v_hi, v_name);
        EXECUTE format('ALTER TABLE pgscore.prediction_log ATTACH PARTITION pgscore.%I FOR VALUES FROM (%L) TO (%L)',
                       v_name, v_lo, v_hi);
        v_created := v_created + 1;
    END LOOP;
    RETURN v_created;
END
$fn$;
COMMENT ON FUNCTION pgscore.create_log_partitions(integer, date) IS 'Create the daily partitions of pgscore.prediction_log from p_from (UTC) for p_days more days; returns how many were created';
