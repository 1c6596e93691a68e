-- 0025 to 0026: from a walk-through with keys of other types than numbers and text. The functions that
-- turn entity keys into text (the rescoring trigger's audit rows and error queue, retry_failed reading
-- the queued keys back, score_chunk's resume key, predict_batch's keys) did it in the session's settings:
-- a date key queued under DateStyle 'SQL, DMY' as 04/03/2002 was read back under ISO as 2002-04-03, a
-- different customer. They now write keys with fixed output settings (DateStyle's output style only:
-- the session's day and month order still reads the caller's literals, and ISO reads back under any). From a walk-through of operations over
-- time: retention (drop_log_partitions) deletes the outcomes observed before its cut, which had no
-- prediction left to judge and counted as unmatched for ever.
ALTER FUNCTION pgscore.rescore_events()
    SET "DateStyle" = 'ISO' SET "IntervalStyle" = 'postgres' SET extra_float_digits = 1;
ALTER FUNCTION pgscore.retry_failed(text, integer)
    SET "DateStyle" = 'ISO' SET "IntervalStyle" = 'postgres' SET extra_float_digits = 1;
ALTER FUNCTION pgscore.score_chunk(text, regclass, name, name, text, integer, integer, boolean)
    SET "DateStyle" = 'ISO' SET "IntervalStyle" = 'postgres' SET extra_float_digits = 1;
ALTER FUNCTION pgscore.batch_chunks(text, text, integer, integer, boolean, text)
    SET "DateStyle" = 'ISO' SET "IntervalStyle" = 'postgres' SET extra_float_digits = 1;

-- sql/functions/log_partitions.sql
CREATE OR REPLACE FUNCTION pgscore.drop_log_partitions(p_older_than interval)
RETURNS integer
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_cut timestamptz;
    v_part record;
    v_dropped integer := 0;
    v_rows bigint;
    v_buckets bigint;
    v_outcomes bigint;
BEGIN
    IF p_older_than IS NULL OR p_older_than <= interval '0' THEN
        RAISE EXCEPTION 'pgscore.drop_log_partitions: the retention period must be a positive interval (got %)', p_older_than
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- a number without a unit is seconds to PostgreSQL: '90' would keep today alone
    IF p_older_than < interval '1 day' THEN
        RAISE EXCEPTION 'pgscore.drop_log_partitions: the retention period must be at least 1 day (got %)', p_older_than
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'retention keeps whole UTC days; a number without a unit is seconds: write ''90 days'', not ''90''';
    END IF;
    -- whole UTC days: the day that holds now() - p_older_than is kept, in its partition and in the default
    -- partition alike, so that the drift rollups of every day dropped can go with it. The period is
    -- taken from the UTC time, so that the session's time zone (its DST days) cannot move the cut
    v_cut := date_trunc('day', (now() AT TIME ZONE 'UTC') - p_older_than) AT TIME ZONE 'UTC';
    FOR v_part IN
        SELECT c.relname, to_date(right(c.relname, 8), 'YYYYMMDD') AS day
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'pgscore.prediction_log'::regclass AND c.relname ~ '^prediction_log_[0-9]{8}$'
         ORDER BY 2
    LOOP
        CONTINUE WHEN (v_part.day::timestamp AT TIME ZONE 'UTC') >= v_cut;
        EXECUTE format('DROP TABLE pgscore.%I', v_part.relname);
        v_dropped := v_dropped + 1;
    END LOOP;
    DELETE FROM pgscore.prediction_log_default WHERE logged_at < v_cut;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    -- the rollups of the rows gone: the drift views read them as if the rows were there
    DELETE FROM pgscore.drift_rollup WHERE bucket < v_cut;
    GET DIAGNOSTICS v_buckets = ROW_COUNT;
    DELETE FROM pgscore.drift_rollup_day WHERE day < v_cut;
    -- an outcome judges the newest prediction logged before it was observed: one observed before the cut
    -- has none left to judge, and would count as unmatched (outcome_matches) for ever
    DELETE FROM pgscore.outcomes WHERE observed_at < v_cut;
    GET DIAGNOSTICS v_outcomes = ROW_COUNT;
    RAISE NOTICE 'pgscore.drop_log_partitions: before %: % daily partition(s) dropped, % row(s) deleted from the default partition, % rollup row(s) deleted, % outcome(s) observed before it deleted',
        v_cut, v_dropped, v_rows, v_buckets, v_outcomes;
    RETURN v_dropped;
END
$fn$;
COMMENT ON FUNCTION pgscore.drop_log_partitions(interval) IS 'Retention in whole UTC days: drop the daily partitions of pgscore.prediction_log of the days before the one holding now() - p_older_than, delete the default partition''s rows, the drift rollups of those days and the outcomes observed in them; returns partitions dropped (a NOTICE gives all four counts)';

