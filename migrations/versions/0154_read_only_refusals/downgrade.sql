-- 0154 to 0153: record_outcome and refresh_monitoring as 0145 left them (none of 0147-0153 changed them)

CREATE OR REPLACE FUNCTION pgscore.record_outcome(p_model text, p_entity_key text, p_outcome text,
                                       p_observed_at timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER  -- the app records outcomes only through here
SET search_path = pg_catalog, pg_temp
-- (migration 0113) a regressor's number is stored as to_jsonb gives it, which writes float8 as the session's
-- extra_float_digits says: at 0, float8's largest was stored as 1.79769313486232e+308, past float8's range, and
-- every model's realised-performance views failed reading it (22003); 0.1 + 0.2 as 0.3. At 3, the float8 itself
SET extra_float_digits = 3
AS $fn$
DECLARE
    v_task    text;
    v_classes jsonb;
    v_value   jsonb;
    v_num     float8;
    -- the outcome without the spaces around it (since 0005: an outcome read from a text export or typed into a
    -- form carries them, and a number is read so by float8's input anyway); a class is stored as the model has it
    v_text    text := btrim(p_outcome);
    v_near    text;
    v_id      bigint;
    v_models  bigint[];
    v_times   timestamptz[];
    v_scores  float8[];
    v_labels  text[];
    v_judged  record;
BEGIN
    IF p_model IS NULL OR p_entity_key IS NULL OR p_outcome IS NULL OR p_observed_at IS NULL THEN
        RAISE EXCEPTION 'pgscore.record_outcome: % must not be NULL',
            CASE WHEN p_model IS NULL THEN 'the model' WHEN p_entity_key IS NULL THEN 'the entity key'
                 WHEN p_outcome IS NULL THEN 'the outcome' ELSE 'observed_at' END
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- an outcome judges the newest prediction logged by observed_at: at infinity (a sentinel date) it would
    -- judge each newer prediction in turn, for ever (migration 0035)
    IF NOT isfinite(p_observed_at) THEN
        RAISE EXCEPTION 'pgscore.record_outcome: observed_at % is not a point in time', p_observed_at
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'give when the outcome was observed (now() when it is not known); an outcome observed at infinity would judge every newer prediction of the entity in turn';
    END IF;
    IF p_observed_at > now() + interval '1 day' THEN
        RAISE NOTICE 'pgscore.record_outcome: observed_at % is in the future', p_observed_at
            USING DETAIL = 'The outcome judges the newest prediction of the entity logged by then: until then each refresh_monitoring pairs it with any newer one, of whichever version is live.';
    END IF;
    -- the live version decides what an outcome must look like; a retired model, its newest version
    SELECT m.task, m.classes INTO v_task, v_classes
      FROM pgscore.models m
      LEFT JOIN pgscore.live_models l ON l.model_id = m.model_id
     WHERE m.name = p_model
     ORDER BY l.model_id IS NOT NULL DESC, m.version DESC
     LIMIT 1;
    IF NOT FOUND THEN
        -- (migration 0120: in scoring's words, with its hint; it said "model 'teir' does not exist")
        RAISE EXCEPTION 'pgscore.record_outcome: there is no model %', quote_literal(p_model)
            USING ERRCODE = 'undefined_object', HINT = pgscore.model_name_hint(p_model);
    END IF;
    IF v_task = 'regression' THEN
        BEGIN
            v_num := v_text::float8;
        EXCEPTION WHEN invalid_text_representation OR numeric_value_out_of_range THEN
            RAISE EXCEPTION 'pgscore.record_outcome: outcome % for regression model % is not a number', quote_literal(p_outcome),
                  quote_literal(p_model)
                USING ERRCODE = 'invalid_text_representation';
        END;
        IF v_num IN ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8) THEN
            RAISE EXCEPTION 'pgscore.record_outcome: outcome % for regression model % is not a finite number', v_num, quote_literal(p_model)
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        v_value := to_jsonb(v_num);
    ELSE
        -- one of the classes, by its text or (for numeric classes) its value; true/false for 1/0 of a
        -- binary classifier only (of classes 0..3, true read as 1 replaced a recorded 2 in the metrics). Its text
        -- without the spaces around it, as since 0005, then as given where no class is that (migration
        -- outcome_words: a class with spaces of its own, ' gold' from a CSV read without skipinitialspace, could not
        -- be recorded; tried first, it took ' gold' where ' gold' had recorded the class gold of a model of both)
        SELECT c INTO v_value
          FROM jsonb_array_elements(v_classes) WITH ORDINALITY e(c, i)
         WHERE c #>> '{}' IN (p_outcome, v_text)
            -- ([.], not a backslash: a session with standard_conforming_strings off reads '\.' as '.')
            OR (jsonb_typeof(c) = 'number' AND v_text ~ '^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$'
                AND (c #>> '{}')::numeric = v_text::numeric)
            OR (v_task = 'binary' AND jsonb_typeof(c) = 'number' AND lower(v_text) IN ('true', 'false')
                AND (c #>> '{}')::numeric = CASE lower(v_text) WHEN 'true' THEN 1 ELSE 0 END)
         ORDER BY c #>> '{}' = p_outcome AND p_outcome <> v_text, i
         LIMIT 1;
        IF v_value IS NULL THEN
            -- one wording for every outcome that is no class (migration outcome_words: true for a multiclass model
            -- said "is not one of its classes"); the hint names the class it differs from only in case or the spaces
            -- around it ('Gold' for 'gold'), as a misspelt feature key's names the feature, or says what true and
            -- false stand for; of two such, the one it differs from in case only ('Gold': gold, not ' gold')
            SELECT c #>> '{}' INTO v_near
              FROM jsonb_array_elements(v_classes) WITH ORDINALITY e(c, i)
             WHERE lower(btrim(c #>> '{}')) = lower(v_text)
             ORDER BY lower(c #>> '{}') = lower(p_outcome) DESC, lower(c #>> '{}') = lower(v_text) DESC, i
             LIMIT 1;
            -- (the DETAIL quotes a class with spaces around it, as the hint does: ' gold' and gold read as one)
            IF v_near IS NULL AND NOT (lower(v_text) IN ('true', 'false') AND v_task <> 'binary') THEN
                RAISE EXCEPTION 'pgscore.record_outcome: outcome % is not a class of % model %', quote_literal(p_outcome),
                      v_task, quote_literal(p_model)
                    USING ERRCODE = 'invalid_parameter_value',
                          DETAIL = format('classes: %s', (SELECT string_agg(CASE WHEN c #>> '{}' <> btrim(c #>> '{}') THEN quote_literal(c #>> '{}') ELSE c #>> '{}' END, ', ')
                                                            FROM jsonb_array_elements(v_classes) c));
            END IF;
            RAISE EXCEPTION 'pgscore.record_outcome: outcome % is not a class of % model %', quote_literal(p_outcome), v_task,
                  quote_literal(p_model)
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('classes: %s', (SELECT string_agg(CASE WHEN c #>> '{}' <> btrim(c #>> '{}') THEN quote_literal(c #>> '{}') ELSE c #>> '{}' END, ', ')
                                                            FROM jsonb_array_elements(v_classes) c)),
                      HINT = CASE WHEN v_near IS NOT NULL THEN format('a typo for %s?', quote_literal(v_near))
                                  ELSE 'true and false stand for the classes 1 and 0 of a binary classifier only: give the class' END;
        END IF;
    END IF;
    -- the prediction it judges, kept with it (pgscore.match_outcomes finds it for a prediction logged later).
    -- Both reads take the entity's predictions by the entity's index alone and pick the model's among them
    -- (migration 0116): joined by model_id, a partition never analysed (the nightly scoring's, before
    -- autovacuum analyses it) was read by the (model_id, logged_at) index, every row of the model filtered by
    -- entity, where the planner could not tell the two indexes apart: ~60 ms a call at 100,000 rows, ~0.3 ms
    -- analysed (docs/performance.md). Here the join's `l.model_id + 0` is no condition of that index, so the
    -- entity's index is walked from p_observed_at back and the walk stops at the model's first row: an
    -- entity many models score is not read whole (a subquery with OFFSET 0 read and sorted all its rows).
    -- The rows of one transaction share logged_at: the last of them is its last statement's (statement_at),
    -- then the one written last in it (the command, cmin; then the physical order, for rows one COPY restored)
    -- (migration 0144: the newest by logged_at alone was any of them)
    -- (statement_at read by jsonpath, silently: a cause's statement_at that is no time, which a role that may
    -- INSERT log rows can write, sorts as none; a cast raised on it, and stopped every refresh: review r8)
    SELECT l.model_id, l.logged_at, l.score, l.label INTO v_judged
      FROM pgscore.prediction_log l JOIN pgscore.models m ON m.model_id = l.model_id + 0
     WHERE l.entity_key = p_entity_key AND l.logged_at <= p_observed_at AND m.name = p_model
       AND l.source <> 'shadow'  -- (a shadow's prediction was never served)
     ORDER BY l.logged_at DESC, (jsonb_path_query_first(l.cause, '$.statement_at.datetime()', '{}', true) #>> '{}')::timestamptz DESC NULLS LAST, l.cmin::text::bigint DESC, l.ctid DESC
     LIMIT 1;
    -- the prediction each version of the model made of the entity last by then, served or in shadow, kept in
    -- outcome_version_matches (pgscore.match_outcomes finds them for a prediction logged later); of one
    -- transaction's, its last statement's, as above (a live and a shadow version each judged on the same one)
    SELECT array_agg(p.model_id), array_agg(p.logged_at), array_agg(p.score), array_agg(p.label)
      INTO v_models, v_times, v_scores, v_labels
      FROM (SELECT DISTINCT ON (l.model_id) l.model_id, l.logged_at, l.score, l.label
              FROM (SELECT l.model_id, l.logged_at, l.score, l.label, l.cause, l.cmin, l.ctid
                      FROM pgscore.prediction_log l
                     WHERE l.entity_key = p_entity_key AND l.logged_at <= p_observed_at
                    OFFSET 0) l
              JOIN pgscore.models m ON m.model_id = l.model_id
             WHERE m.name = p_model
             ORDER BY l.model_id, l.logged_at DESC, (jsonb_path_query_first(l.cause, '$.statement_at.datetime()', '{}', true) #>> '{}')::timestamptz DESC NULLS LAST, l.cmin::text::bigint DESC, l.ctid DESC) p;
    -- recorded_by: the caller's role (this function runs as pgscore's owner, whom current_user names;
    -- before migration 0037 every outcome was recorded by it)
    INSERT INTO pgscore.outcomes (model_name, entity_key, outcome, observed_at, judged_model_id, predicted_at,
                                  judged_score, judged_label, judged_at, recorded_by, versions_judged_at)
    VALUES (p_model, p_entity_key, v_value, p_observed_at, v_judged.model_id, v_judged.logged_at, v_judged.score,
            v_judged.label, now(),
            -- the role the caller acts as: SET ROLE's (a pooled login that takes each user's role), else its login
            coalesce(nullif(current_setting('role'), 'none'), session_user), now())
    RETURNING outcome_id INTO v_id;
    INSERT INTO pgscore.outcome_version_matches (outcome_id, model_id, predicted_at, score, label)
    SELECT v_id, u.model_id, u.logged_at, u.score, u.label
      FROM unnest(v_models, v_times, v_scores, v_labels) AS u(model_id, logged_at, score, label);
    IF v_judged.model_id IS NULL AND v_models IS NOT NULL THEN
        -- only versions scored in shadow logged one by then: the outcome judges theirs, per version (it said that
        -- no prediction was logged)
        RAISE NOTICE 'pgscore.record_outcome: no served prediction of % for entity % was logged at or before %: only version% % scored it, in shadow',
                quote_literal(p_model), quote_literal(p_entity_key), p_observed_at, CASE WHEN cardinality(v_models) > 1 THEN 's' ELSE '' END,
                (SELECT string_agg(m.version::text, ', ' ORDER BY m.version) FROM pgscore.models m
                  WHERE m.model_id = ANY (v_models))
            USING DETAIL = 'The outcome is kept and judges the shadow''s prediction per version (pgscore.outcome_version_matches, read by pgscore.realised_performance_by_version); it judges no served prediction, so pgscore.outcome_matches shows it unmatched and realised_performance leaves it out, until pgscore.refresh_monitoring finds a served one logged later (within its p_relook; a prediction scored in this transaction is logged at its commit).';
    ELSIF v_judged.model_id IS NULL THEN
        RAISE NOTICE 'pgscore.record_outcome: no prediction of % for entity % was logged at or before %', quote_literal(p_model),
                quote_literal(p_entity_key), p_observed_at
            USING DETAIL = 'The outcome is kept; it judges no prediction and pgscore.outcome_matches shows it unmatched, until pgscore.refresh_monitoring finds one logged later (within its p_relook; a prediction scored in this transaction is logged at its commit).';
    END IF;
    RETURN v_id;
END
$fn$;
COMMENT ON FUNCTION pgscore.record_outcome(text, text, text, timestamptz) IS 'Record what actually happened to an entity (one of a classifier''s classes, or a regressor''s number), observed at p_observed_at; it judges the newest prediction of the model for that entity logged by then (never a shadow''s), and each version''s newest, served or in shadow (outcome_version_matches). Returns the outcome_id';

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
    -- (0145) its one row put back where a partial restore left the table empty (it stayed empty, and each refresh
    -- said 0 firing while every view read no period): what the rollups hold is not known then to be what the log
    -- holds, so they are rolled up again, as a rebuild rolls them
    INSERT INTO pgscore.monitoring_state DEFAULT VALUES ON CONFLICT (singleton) DO NOTHING;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    p_rebuild := p_rebuild OR v_rows > 0;
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
    -- with whether each is a shadow's as this refresh read it (pgscore status counts them apart: the deployments
    -- by refreshed_at, the transaction's start, missed a version made live or a shadow set while the refresh ran)
    INSERT INTO pgscore.alert_state AS s (model, version, what, subject, window_name, metric, level, shadow)
    SELECT DISTINCT ON (f.model, f.version, f.what, f.subject, f.window_name, f.metric, f.level)
           f.model, f.version, f.what, f.subject, f.window_name, f.metric, f.level, f.shadow FROM f
    ON CONFLICT (model, version, what, subject, window_name, metric, level) DO UPDATE SET shadow = EXCLUDED.shadow
       WHERE s.shadow IS DISTINCT FROM EXCLUDED.shadow;
    SELECT count(*) INTO v_firing FROM pgscore.alert_state;
    RETURN QUERY SELECT coalesce(v_from, v_to), greatest(v_to, v_until), v_rows, v_firing;
END
$fn$;
COMMENT ON FUNCTION pgscore.refresh_monitoring(interval, boolean) IS 'Roll the prediction log up by whole 5-minute bucket and by UTC day (looking back p_relook for buckets whose rows changed, by rows of transactions that committed late, and rolling up only those and the new ones; p_rebuild rolls up everything again) and record when each firing alert was first seen. Run it every few minutes from pg_cron or cron';
