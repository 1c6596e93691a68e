-- 0032 to 0033: each outcome keeps the prediction it judges, found when it is recorded (record_outcome) and,
-- for a prediction logged later, by refresh_monitoring (pgscore.match_outcomes): outcome_matches reads it
-- instead of probing every partition of the log for every outcome (100,000 outcomes over 30 daily
-- partitions: 3.8 s for outcome_matches, 7.4 s for realised_performance). The outcomes recorded before
-- are paired by the first refresh after this (their judged_at NULL: the view looks them up meanwhile),
-- not here, where the outcomes table would stay locked while the log is probed. Retention deletes the
-- outcomes of the predictions it deletes, and the unmatched ones observed before its cut.
ALTER TABLE pgscore.outcomes ADD COLUMN judged_model_id bigint, ADD COLUMN predicted_at timestamptz,
    ADD COLUMN judged_score float8, ADD COLUMN judged_label text, ADD COLUMN judged_at timestamptz;
CREATE INDEX outcomes_observed_at_idx ON pgscore.outcomes (observed_at);
CREATE INDEX outcomes_unjudged_idx ON pgscore.outcomes (outcome_id) WHERE judged_at IS NULL;
COMMENT ON COLUMN pgscore.outcomes.judged_model_id IS 'The model version row of the prediction the outcome judges: the newest of the model for the entity logged at or before observed_at, found when the outcome was recorded or by a later refresh_monitoring; NULL when none was found';
COMMENT ON COLUMN pgscore.outcomes.predicted_at IS 'When the judged prediction was logged';
COMMENT ON COLUMN pgscore.outcomes.judged_score IS 'The judged prediction''s score';
COMMENT ON COLUMN pgscore.outcomes.judged_label IS 'The judged prediction''s label, where one was logged';
COMMENT ON COLUMN pgscore.outcomes.judged_at IS 'When the judged prediction was found (or, finding none, first looked for); NULL for an outcome recorded before migration 0033 and not yet looked at by refresh_monitoring (outcome_matches then looks it up in the log)';

CREATE FUNCTION pgscore.match_outcomes(p_since timestamptz)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER  -- outcomes are written only by pgscore's functions
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_rows bigint;
    v_chunk bigint;
BEGIN
    IF p_since IS NULL THEN
        RAISE EXCEPTION 'pgscore.match_outcomes: p_since must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- never looked at (and every outcome on a rebuild): each in the whole log, newest first
    UPDATE pgscore.outcomes o
       SET judged_model_id = p.model_id, predicted_at = p.logged_at, judged_score = p.score,
           judged_label = p.label, judged_at = now()
      FROM pgscore.outcomes o2
      LEFT JOIN LATERAL (
            SELECT l.model_id, l.logged_at, l.score, l.label
              FROM pgscore.prediction_log l
              JOIN pgscore.models pm ON pm.model_id = l.model_id
             WHERE l.entity_key = o2.entity_key AND l.logged_at <= o2.observed_at AND pm.name = o2.model_name
             ORDER BY l.logged_at DESC
             LIMIT 1) p ON true
     WHERE o.outcome_id = o2.outcome_id AND (o2.judged_at IS NULL OR p_since = '-infinity')
       AND (o.judged_at IS NULL OR p.logged_at > coalesce(o.predicted_at, '-infinity'::timestamptz));
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    IF p_since = '-infinity' THEN
        RETURN v_rows;
    END IF;
    -- observed since p_since: the predictions logged since then, joined as a set (not a probe of the log's
    -- partitions per outcome), the newest for each outcome where it is newer than the one it holds
    UPDATE pgscore.outcomes o
       SET judged_model_id = p.model_id, predicted_at = p.logged_at, judged_score = p.score,
           judged_label = p.label, judged_at = now()
      FROM (SELECT DISTINCT ON (c.outcome_id) c.outcome_id, l.model_id, l.logged_at, l.score, l.label
              FROM pgscore.outcomes c
              JOIN pgscore.models pm ON pm.name = c.model_name
              JOIN pgscore.prediction_log l ON l.model_id = pm.model_id AND l.entity_key = c.entity_key
                                           AND l.logged_at <= c.observed_at AND l.logged_at >= p_since
             WHERE c.observed_at >= p_since AND c.judged_at IS NOT NULL
             ORDER BY c.outcome_id, l.logged_at DESC) p
     WHERE o.outcome_id = p.outcome_id AND p.logged_at > coalesce(o.predicted_at, '-infinity'::timestamptz);
    GET DIAGNOSTICS v_chunk = ROW_COUNT;
    RETURN v_rows + v_chunk;
END
$fn$;
COMMENT ON FUNCTION pgscore.match_outcomes(timestamptz) IS 'Internal: looks again for the prediction each outcome observed since p_since judges, among those logged since then, and for every outcome never looked at; refresh_monitoring calls it. Returns how many outcomes changed';
REVOKE EXECUTE ON FUNCTION pgscore.match_outcomes(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgscore.match_outcomes(timestamptz) TO pgscore_admin;

CREATE OR REPLACE FUNCTION pgscore.record_outcome(p_model text, p_entity_key text, p_outcome text,
                                       p_observed_at timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER  -- the app records outcomes only through here
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_task    text;
    v_classes jsonb;
    v_value   jsonb;
    v_num     float8;
    v_text    text := btrim(p_outcome);
    v_id      bigint;
    v_judged  record;
BEGIN
    IF p_model IS NULL OR p_entity_key IS NULL OR p_outcome IS NULL OR p_observed_at IS NULL THEN
        RAISE EXCEPTION 'pgscore.record_outcome: % must not be NULL',
            CASE WHEN p_model IS NULL THEN 'the model' WHEN p_entity_key IS NULL THEN 'the entity key'
                 WHEN p_outcome IS NULL THEN 'the outcome' ELSE 'observed_at' END
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- the live version decides what an outcome must look like; a retired model, its newest version
    SELECT m.task, m.classes INTO v_task, v_classes
      FROM pgscore.models m
      LEFT JOIN pgscore.live_models l ON l.model_id = m.model_id
     WHERE m.name = p_model
     ORDER BY l.model_id IS NOT NULL DESC, m.version DESC
     LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'pgscore.record_outcome: model "%" does not exist', p_model
            USING ERRCODE = 'undefined_object', HINT = 'SELECT name FROM pgscore.model_versions lists the models';
    END IF;
    IF v_task = 'regression' THEN
        BEGIN
            v_num := v_text::float8;
        EXCEPTION WHEN invalid_text_representation OR numeric_value_out_of_range THEN
            RAISE EXCEPTION 'pgscore.record_outcome: outcome "%" for regression model "%" is not a number', p_outcome, p_model
                USING ERRCODE = 'invalid_text_representation';
        END;
        IF v_num IN ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8) THEN
            RAISE EXCEPTION 'pgscore.record_outcome: outcome % for regression model "%" is not a finite number', v_num, p_model
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        v_value := to_jsonb(v_num);
    ELSE
        -- one of the classes, by its text or (for numeric classes) its value; true/false for 1/0 of a
        -- binary classifier (of classes 0..3, true read as 1 replaced a recorded 2 in the metrics)
        IF lower(v_text) IN ('true', 'false') AND v_task <> 'binary'
           AND NOT EXISTS (SELECT FROM jsonb_array_elements(v_classes) c WHERE c #>> '{}' = v_text) THEN
            RAISE EXCEPTION 'pgscore.record_outcome: outcome % for % model "%" is not one of its classes', v_text, v_task, p_model
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('classes: %s', (SELECT string_agg(c #>> '{}', ', ') FROM jsonb_array_elements(v_classes) c)),
                      HINT = 'true and false stand for the classes 1 and 0 of a binary classifier only: give the class';
        END IF;
        SELECT c INTO v_value
          FROM jsonb_array_elements(v_classes) c
         WHERE c #>> '{}' = v_text
            -- ([.], not a backslash: a session with standard_conforming_strings off reads '\.' as '.')
            OR (jsonb_typeof(c) = 'number' AND v_text ~ '^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$'
                AND (c #>> '{}')::numeric = v_text::numeric)
            OR (jsonb_typeof(c) = 'number' AND lower(v_text) IN ('true', 'false')
                AND (c #>> '{}')::numeric = CASE lower(v_text) WHEN 'true' THEN 1 ELSE 0 END)
         LIMIT 1;
        IF v_value IS NULL THEN
            RAISE EXCEPTION 'pgscore.record_outcome: outcome "%" is not a class of % model "%"', p_outcome, v_task, p_model
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('classes: %s', (SELECT string_agg(c #>> '{}', ', ') FROM jsonb_array_elements(v_classes) c));
        END IF;
    END IF;
    -- the prediction it judges, kept with it (pgscore.match_outcomes finds it for a prediction logged later)
    SELECT l.model_id, l.logged_at, l.score, l.label INTO v_judged
      FROM pgscore.prediction_log l JOIN pgscore.models m ON m.model_id = l.model_id
     WHERE l.entity_key = p_entity_key AND l.logged_at <= p_observed_at AND m.name = p_model
     ORDER BY l.logged_at DESC
     LIMIT 1;
    INSERT INTO pgscore.outcomes (model_name, entity_key, outcome, observed_at, judged_model_id, predicted_at,
                                  judged_score, judged_label, judged_at)
    VALUES (p_model, p_entity_key, v_value, p_observed_at, v_judged.model_id, v_judged.logged_at, v_judged.score,
            v_judged.label, now())
    RETURNING outcome_id INTO v_id;
    IF v_judged.model_id IS NULL THEN
        RAISE NOTICE 'pgscore.record_outcome: no prediction of "%" for entity "%" was logged at or before %', p_model, p_entity_key, p_observed_at
            USING DETAIL = 'The outcome is kept; it judges no prediction and pgscore.outcome_matches shows it unmatched, until pgscore.refresh_monitoring finds one logged later (within its p_relook; a prediction scored in this transaction is logged at its commit).';
    END IF;
    RETURN v_id;
END
$fn$;
COMMENT ON FUNCTION pgscore.record_outcome(text, text, text, timestamptz) IS 'Record what actually happened to an entity (one of a classifier''s classes, or a regressor''s number), observed at p_observed_at; it judges the newest prediction of the model for that entity logged by then. Returns the outcome_id';

CREATE OR REPLACE FUNCTION pgscore.refresh_monitoring(p_relook interval DEFAULT '1 hour', p_rebuild boolean DEFAULT false)
RETURNS TABLE (rolled_from timestamptz, rolled_until timestamptz, rollup_rows bigint, firing bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET work_mem = '256MB'
SET enable_sort = off
SET enable_incremental_sort = off
AS $fn$
DECLARE
    v_day     timestamptz;
    v_next    timestamptz;
    v_chunk   bigint;
    v_until   timestamptz;
    v_from    timestamptz;
    v_to      timestamptz := date_bin('5 minutes', now(), '2000-01-01 00:00:00+00');
    v_rows    bigint;
    v_firing  bigint;
    v_models  bigint[];
    v_buckets timestamptz[];
    v_all     boolean;
BEGIN
    IF p_relook IS NULL OR p_rebuild IS NULL OR p_relook < interval '0' THEN
        RAISE EXCEPTION 'pgscore.refresh_monitoring: p_relook must be an interval >= 0 and p_rebuild true or false'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- one refresh at a time; a second waits and then finds little to do
    SELECT s.rolled_until INTO v_until FROM pgscore.monitoring_state s FOR UPDATE;
    v_from := CASE WHEN p_rebuild THEN '-infinity'::timestamptz
                   ELSE date_bin('5 minutes', v_until - p_relook, '2000-01-01 00:00:00+00') END;
    v_all := v_from = '-infinity';  -- a rebuild, or the first refresh ever: every row of the log
    IF p_rebuild THEN
        DELETE FROM pgscore.drift_rollup;
        DELETE FROM pgscore.drift_rollup_day;
    ELSIF v_all THEN
        DELETE FROM pgscore.drift_rollup r WHERE r.bucket < v_to;
    ELSE
        -- the buckets of [v_from, v_to) to roll up again: those whose rows are not the ones their
        -- rollups counted (new buckets, and rows of transactions that committed late). The log's rows
        -- are never updated (a trigger refuses it) and retention only deletes them, which lowers the
        -- count, so a bucket whose count of rows is what its rollups hold has not changed; each row
        -- counts once in every (kind, position)
        SELECT coalesce(array_agg(coalesce(l.model_id, r.model_id)), '{}'),
               coalesce(array_agg(coalesce(l.bucket, r.bucket)), '{}')
          INTO v_models, v_buckets
          FROM (SELECT l.model_id, date_bin('5 minutes', l.logged_at, '2000-01-01 00:00:00+00') AS bucket,
                       count(*) AS n
                  FROM pgscore.prediction_log l
                 WHERE l.logged_at >= v_from AND l.logged_at < v_to
                   AND l.model_id IN (SELECT b.model_id FROM pgscore.baselines b)
                 GROUP BY 1, 2) l
          FULL JOIN (SELECT c.model_id, c.bucket, max(c.n) AS n
                       FROM (SELECT r.model_id, r.bucket, sum(r.n) AS n FROM pgscore.drift_rollup r
                              WHERE r.bucket >= v_from AND r.bucket < v_to
                              GROUP BY r.model_id, r.bucket, r.kind, r.position) c
                      GROUP BY c.model_id, c.bucket) r ON r.model_id = l.model_id AND r.bucket = l.bucket
         WHERE l.n IS DISTINCT FROM r.n;
        DELETE FROM pgscore.drift_rollup r USING unnest(v_models, v_buckets) AS c(model_id, bucket)
         WHERE r.model_id = c.model_id AND r.bucket = c.bucket;
    END IF;
    -- (values beyond +-1e290 summed as +-1e290, as drift_counts sums them: no sum overflows)
    -- one UTC day at a time (the log's partitions), so each aggregate is a hash over at most a day of
    -- values and temp space does not grow with the log; a rebuild starts at the oldest row
    IF v_from = '-infinity' THEN
        SELECT date_bin('5 minutes', min(l.logged_at), '2000-01-01 00:00:00+00') INTO v_from
          FROM pgscore.prediction_log l;
    END IF;
    v_rows := 0;
    v_day := v_from;
    WHILE v_day IS NOT NULL AND v_day < v_to LOOP
        v_next := least(date_trunc('day', v_day, 'UTC') + interval '24 hours', v_to);
        IF v_all THEN
            INSERT INTO pgscore.drift_rollup (model_id, bucket, kind, position, bin, n, total, n_out)
            SELECT v.model_id, date_bin('5 minutes', v.logged_at, '2000-01-01 00:00:00+00'), v.kind, v.position,
                   v.bin, count(*), coalesce(sum(least(greatest(v.x, -1e290), 1e290)) FILTER (WHERE v.bin >= 0), 0),
                   count(*) FILTER (WHERE v.out_of_range)
              FROM pgscore.prediction_values v
             WHERE v.logged_at >= v_day AND v.logged_at < v_next
             GROUP BY 1, 2, 3, 4, 5;
        ELSIF EXISTS (SELECT 1 FROM unnest(v_buckets) AS b(bucket) WHERE b.bucket >= v_day AND b.bucket < v_next) THEN
            -- bucket by bucket, each through the log's (model_id, logged_at) index (OFFSET 0 keeps the
            -- planner from scanning the whole span once for every baseline row and bucket)
            INSERT INTO pgscore.drift_rollup (model_id, bucket, kind, position, bin, n, total, n_out)
            SELECT c.model_id, c.bucket, v.kind, v.position, v.bin, count(*),
                   coalesce(sum(least(greatest(v.x, -1e290), 1e290)) FILTER (WHERE v.bin >= 0), 0), count(*) FILTER (WHERE v.out_of_range)
              FROM unnest(v_models, v_buckets) AS c(model_id, bucket)
             CROSS JOIN LATERAL (SELECT pv.* FROM pgscore.prediction_values pv
                                  WHERE pv.model_id = c.model_id AND pv.logged_at >= c.bucket
                                    AND pv.logged_at < c.bucket + interval '5 minutes' OFFSET 0) v
             WHERE c.bucket >= v_day AND c.bucket < v_next
             GROUP BY 1, 2, 3, 4, 5;
        ELSE
            v_day := v_next;  -- nothing of this day changed: its day rollup stays as it is
            CONTINUE;
        END IF;
        GET DIAGNOSTICS v_chunk = ROW_COUNT;
        v_rows := v_rows + v_chunk;
        -- and the whole UTC day again from its 5-minute rollups (those before v_day stay as they were)
        DELETE FROM pgscore.drift_rollup_day d WHERE d.day = date_trunc('day', v_day, 'UTC');
        INSERT INTO pgscore.drift_rollup_day (model_id, day, kind, position, bin, n, total, n_out)
        SELECT r.model_id, date_trunc('day', v_day, 'UTC'), r.kind, r.position, r.bin, sum(r.n), sum(r.total),
               sum(r.n_out)
          FROM pgscore.drift_rollup r
         WHERE r.bucket >= date_trunc('day', v_day, 'UTC') AND r.bucket < date_trunc('day', v_day, 'UTC') + interval '24 hours'
         GROUP BY r.model_id, r.kind, r.position, r.bin;
        v_day := v_next;
    END LOOP;
    UPDATE pgscore.monitoring_state s SET rolled_until = greatest(v_to, s.rolled_until), refreshed_at = now();

    -- the alerts are planned as any query: with the sorts turned off (for the rollups' hash aggregates)
    -- the firing view took five times as long; the function's SET clauses end these with the call
    SET LOCAL enable_sort = on;
    SET LOCAL enable_incremental_sort = on;
    -- outcomes observed within the look-back (all of them on a rebuild) find a prediction logged late
    PERFORM pgscore.match_outcomes(coalesce(CASE WHEN NOT v_all THEN v_until - p_relook END, '-infinity'));
    -- alert_state keeps when each firing condition was first seen; cleared ones go
    WITH f AS MATERIALIZED (SELECT * FROM pgscore.firing),
    gone AS (
        DELETE FROM pgscore.alert_state s
         WHERE NOT EXISTS (SELECT 1 FROM f WHERE f.model = s.model AND f.version = s.version AND f.what = s.what
                             AND f.subject = s.subject AND f.window_name = s.window_name
                             AND f.metric = s.metric AND f.level = s.level)
    )
    INSERT INTO pgscore.alert_state (model, version, what, subject, window_name, metric, level)
    SELECT f.model, f.version, f.what, f.subject, f.window_name, f.metric, f.level FROM f
    ON CONFLICT DO NOTHING;
    SELECT count(*) INTO v_firing FROM pgscore.alert_state;
    RETURN QUERY SELECT coalesce(v_from, v_to), greatest(v_to, v_until), v_rows, v_firing;
END
$fn$;
COMMENT ON FUNCTION pgscore.refresh_monitoring(interval, boolean) IS 'Roll the prediction log up by whole 5-minute bucket and by UTC day (looking back p_relook for buckets whose rows changed, by rows of transactions that committed late, and rolling up only those and the new ones; p_rebuild rolls up everything again) and record when each firing alert was first seen. Run it every few minutes from pg_cron or cron';

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
    -- outcomes recorded before migration 0033 that no refresh has paired yet: paired while their
    -- predictions are there, so that they go with them (below)
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
    DELETE FROM pgscore.outcomes WHERE predicted_at < v_cut OR (predicted_at IS NULL AND observed_at < v_cut);
    GET DIAGNOSTICS v_outcomes = ROW_COUNT;
    RAISE NOTICE 'pgscore.drop_log_partitions: before %: % daily partition(s) dropped, % row(s) deleted from the default partition, % rollup row(s) deleted (% of 5 minutes, % of a day), % outcome(s) of those days deleted',
        v_cut, v_dropped, v_rows, v_buckets + v_days, v_buckets, v_days, v_outcomes;
    RETURN v_dropped;
END
$fn$;
COMMENT ON FUNCTION pgscore.drop_log_partitions(interval) IS 'Retention in whole UTC days: drop the daily partitions of pgscore.prediction_log of the days before the one holding now() - p_older_than, delete the default partition''s rows, the drift rollups of those days, the outcomes that judge predictions of those days and the unmatched outcomes observed in them; returns partitions dropped (a NOTICE gives all four counts)';

CREATE OR REPLACE VIEW pgscore.outcome_matches AS
SELECT o.outcome_id, o.model_name AS model, o.entity_key, o.outcome, o.observed_at, o.judged_model_id AS model_id,
       pm.version, o.predicted_at, o.judged_score AS score, o.judged_label AS label,
       o.judged_model_id IS NOT NULL AS matched
  FROM pgscore.outcomes o
  LEFT JOIN pgscore.models pm ON pm.model_id = o.judged_model_id
 WHERE o.judged_at IS NOT NULL
UNION ALL
SELECT o.outcome_id, o.model_name, o.entity_key, o.outcome, o.observed_at, p.model_id, p.version, p.logged_at,
       p.score, p.label, p.model_id IS NOT NULL
  FROM pgscore.outcomes o
  LEFT JOIN LATERAL (
        SELECT l.model_id, lm.version, l.logged_at, l.score, l.label
          FROM pgscore.prediction_log l
          JOIN pgscore.models lm ON lm.model_id = l.model_id
         WHERE l.entity_key = o.entity_key AND l.logged_at <= o.observed_at AND lm.name = o.model_name
         ORDER BY l.logged_at DESC
         LIMIT 1) p ON true
 WHERE o.judged_at IS NULL;
COMMENT ON VIEW pgscore.outcome_matches IS 'Every recorded outcome with the prediction it judges: the newest prediction of that model for that entity logged at or before the outcome was observed (found when the outcome was recorded, or by a later refresh_monitoring for one logged late; retention deletes the outcome with its prediction)';
