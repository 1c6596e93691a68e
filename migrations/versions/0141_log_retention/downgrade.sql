-- 0141 to 0140: no record of retention, no floor, no redaction, no erasure function
DROP FUNCTION pgscore.erase_entity(text, text);
DROP FUNCTION pgscore.redact_log_features(interval, integer, boolean);
DROP TABLE pgscore.log_retention;
DROP TABLE pgscore.retention_policy;

CREATE OR REPLACE FUNCTION pgscore.forbid_log_update() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    RAISE EXCEPTION 'pgscore.prediction_log is append-only: UPDATE is not allowed'
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'log a new prediction instead; pgscore.drop_log_partitions removes whole days';
END
$fn$;
COMMENT ON FUNCTION pgscore.forbid_log_update() IS 'Trigger function: refuses UPDATE on pgscore.prediction_log (and each of its partitions), which is append-only';

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
    v_days bigint;
    v_outcomes bigint;
BEGIN
    IF p_older_than IS NULL OR p_older_than <= interval '0' THEN
        RAISE EXCEPTION 'pgscore.drop_log_partitions: p_older_than, the retention period, must be a positive interval (got %)', p_older_than
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'retention keeps whole UTC days, at least one: for example ''90 days''';
    END IF;
    -- a number without a unit is seconds to PostgreSQL: '90' would keep today alone
    IF p_older_than < interval '1 day' THEN
        RAISE EXCEPTION 'pgscore.drop_log_partitions: p_older_than, the retention period, must be at least 1 day (got %)', p_older_than
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'retention keeps whole UTC days; a number without a unit is seconds: write ''90 days'', not ''90''';
    END IF;
    -- whole UTC days: the day that holds now() - p_older_than is kept, in its partition and in the default
    -- partition alike, so that the drift rollups of every day dropped can go with it. The period is
    -- taken from the UTC time, so that the session's time zone (its DST days) cannot move the cut
    v_cut := date_trunc('day', (now() AT TIME ZONE 'UTC') - p_older_than) AT TIME ZONE 'UTC';
    -- outcomes recorded before migration 0033 that no refresh has paired yet: paired while their
    -- predictions are there, so that they go with them (below)
    -- the log's own lock (ONLY), as create_log_partitions takes it at its start, before the log is read: two calls at
    -- once (two hosts' cron jobs, two `pgscore maintain --keep`) each read the log (ACCESS SHARE), then each waited
    -- for the other to drop a day (ACCESS EXCLUSIVE), and one failed on the deadlock; now the second waits for the
    -- first (migration 0104)
    LOCK TABLE ONLY pgscore.prediction_log IN SHARE UPDATE EXCLUSIVE MODE;
    PERFORM pgscore.match_outcomes('infinity');
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
    GET DIAGNOSTICS v_days = ROW_COUNT;
    -- the outcomes of the predictions gone (each keeps the prediction it judges, migration 0033): realised
    -- performance is by the day of the prediction, and a day goes whole, its outcomes with it, whenever
    -- they were observed; and those that judge nothing, observed before the cut, which have none left to
    -- judge and would count as unmatched for ever
    -- with each version's prediction they judge (outcome_version_matches)
    WITH gone AS (
        DELETE FROM pgscore.outcomes WHERE predicted_at < v_cut OR (predicted_at IS NULL AND observed_at < v_cut)
        RETURNING outcome_id
    ), versions AS (
        DELETE FROM pgscore.outcome_version_matches m USING gone WHERE m.outcome_id = gone.outcome_id
    )
    SELECT count(*) INTO v_outcomes FROM gone;
    -- and each version's judged prediction of those days where the outcome stays, judging a newer prediction
    -- of another version
    DELETE FROM pgscore.outcome_version_matches WHERE predicted_at < v_cut;
    RAISE NOTICE 'pgscore.drop_log_partitions: before %: % daily partition(s) dropped, % row(s) deleted from the default partition, % rollup row(s) deleted (% of 5 minutes, % of a day), % outcome(s) of those days deleted',
        v_cut, v_dropped, v_rows, v_buckets + v_days, v_buckets, v_days, v_outcomes;
    RETURN v_dropped;
END
$fn$;
COMMENT ON FUNCTION pgscore.drop_log_partitions(interval) IS 'Retention in whole UTC days: drop the daily partitions of pgscore.prediction_log of the days before the one holding now() - p_older_than, delete the default partition''s rows, the drift rollups of those days, the outcomes that judge predictions of those days and the unmatched outcomes observed in them; returns partitions dropped (a NOTICE gives all four counts)';

CREATE OR REPLACE VIEW pgscore.prediction_values AS
SELECT l.model_id, l.logged_at, b.kind, b.position, v.x,
       CASE WHEN v.x IS NULL OR v.x = 'NaN'::float8 THEN -1 ELSE width_bucket(v.x, b.edges) END AS bin,
       (v.x <> 'NaN'::float8 AND (v.x < b.min OR v.x > b.max)) AS out_of_range
  FROM pgscore.prediction_log l
  JOIN pgscore.baselines b ON b.model_id = l.model_id AND b.kind <> 'class'
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
 WHERE pg_column_size(l.features) > 1024 OR pg_column_compression(l.features) IS NOT NULL
UNION ALL
-- a multiclass model's predicted class (migration 0122), where its version has a class baseline: bin i is the
-- (i+1)th of its classes, -1 a row without a label (or with one that is none of them); x is NULL, never summed
SELECT l.model_id, l.logged_at, b.kind, b.position, NULL::float8, coalesce(k.i, -1), false
  FROM pgscore.prediction_log l
  JOIN pgscore.baselines b ON b.model_id = l.model_id AND b.kind = 'class'
  LEFT JOIN (SELECT cb.model_id, e.c, (e.i - 1)::integer AS i
               FROM pgscore.baselines cb
               JOIN pgscore.models m ON m.model_id = cb.model_id AND jsonb_typeof(m.classes) = 'array'
              CROSS JOIN LATERAL jsonb_array_elements_text(m.classes) WITH ORDINALITY AS e(c, i)
              WHERE cb.kind = 'class') k ON k.model_id = l.model_id AND k.c = l.label;
COMMENT ON COLUMN pgscore.feature_drift.n IS 'How many predictions of the version were logged in the window: the feature''s values, NULL and NaN ones included (null_rate is their share; the drift metrics read the others)';
COMMENT ON COLUMN pgscore.predictions.features IS 'The feature vector, in the model''s feature order (NaN for missing)';
