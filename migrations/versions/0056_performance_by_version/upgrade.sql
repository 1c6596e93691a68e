-- 0055 to 0056: realised performance and drift per model version, live or not, so that a champion and a
-- challenger are compared in SQL. Each outcome is judged against each version's own newest prediction of
-- the entity before it (pgscore.outcome_version_matches, filled by record_outcome and refresh_monitoring,
-- deleted by retention with its prediction or its outcome): pgscore.realised_performance_by_version. The
-- outcomes recorded before are matched per version by the first refresh_monitoring after this
-- (versions_judged_at NULL), not here, where the outcomes table would stay locked while the log is probed.
-- pgscore.version_drift(model, version) gives feature_drift and score_drift for any version against its
-- own baseline. The existing views keep their columns and meaning; drift_counts, drift_stats and
-- performance_stats() call the per-version functions with the live versions.
ALTER TABLE pgscore.outcomes ADD COLUMN versions_judged_at timestamptz;
CREATE INDEX outcomes_versions_unjudged_idx ON pgscore.outcomes (outcome_id) WHERE versions_judged_at IS NULL;
COMMENT ON COLUMN pgscore.outcomes.versions_judged_at IS 'When each version''s own prediction was looked for (pgscore.outcome_version_matches); NULL for an outcome recorded before the column was added (per-version matching) and not yet looked at by refresh_monitoring';

/*
 * Each outcome against every version of its model: the newest prediction of that version for the entity
 * logged at or before the outcome was observed (a version that logged none has no row), found as the
 * outcome's own (pgscore.outcomes.judged_*) is, by record_outcome and by refresh_monitoring
 * (pgscore.match_outcomes) for a prediction logged late. A champion and a challenger that both logged
 * predictions of an entity are judged on the same outcome: pgscore.realised_performance_by_version.
 * Retention deletes a row with its prediction, and with its outcome.
 */
CREATE TABLE pgscore.outcome_version_matches (
    -- (no foreign key: its check locked the outcome row record_outcome had just inserted, once per version's
    -- row, which cost record_outcome more than the rows themselves in a trial; retention, which alone deletes
    -- outcomes, deletes their rows here with them)
    outcome_id   bigint NOT NULL,
    model_id     bigint NOT NULL,
    predicted_at timestamptz NOT NULL,
    score        float8,
    label        text,
    matched_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (outcome_id, model_id)
);
COMMENT ON TABLE pgscore.outcome_version_matches IS 'Each outcome with the prediction of each version of its model it judges: the newest of that version for the entity logged at or before observed_at (none: no row); read it through realised_performance_by_version';
COMMENT ON COLUMN pgscore.outcome_version_matches.outcome_id IS 'The outcome (pgscore.outcomes)';
COMMENT ON COLUMN pgscore.outcome_version_matches.model_id IS 'The model version row whose prediction the outcome judges';
COMMENT ON COLUMN pgscore.outcome_version_matches.predicted_at IS 'When that version''s judged prediction was logged';
COMMENT ON COLUMN pgscore.outcome_version_matches.score IS 'The judged prediction''s score';
COMMENT ON COLUMN pgscore.outcome_version_matches.label IS 'The judged prediction''s label, where one was logged';
COMMENT ON COLUMN pgscore.outcome_version_matches.matched_at IS 'When the prediction was found (record_outcome, or a later refresh_monitoring for one logged late)';


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
       AND l.source <> 'shadow'  -- (a shadow's prediction was never served)
     ORDER BY l.logged_at DESC
     LIMIT 1;
    -- the prediction each version of the model made of the entity last by then, served or in shadow, kept in
    -- outcome_version_matches (pgscore.match_outcomes finds them for a prediction logged later)
    SELECT array_agg(p.model_id), array_agg(p.logged_at), array_agg(p.score), array_agg(p.label)
      INTO v_models, v_times, v_scores, v_labels
      FROM (SELECT DISTINCT ON (l.model_id) l.model_id, l.logged_at, l.score, l.label
              FROM pgscore.prediction_log l JOIN pgscore.models m ON m.model_id = l.model_id
             WHERE l.entity_key = p_entity_key AND l.logged_at <= p_observed_at AND m.name = p_model
             ORDER BY l.model_id, l.logged_at DESC) p;
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
    IF v_judged.model_id IS NULL THEN
        RAISE NOTICE 'pgscore.record_outcome: no prediction of "%" for entity "%" was logged at or before %', p_model, p_entity_key, p_observed_at
            USING DETAIL = 'The outcome is kept; it judges no prediction and pgscore.outcome_matches shows it unmatched, until pgscore.refresh_monitoring finds one logged later (within its p_relook; a prediction scored in this transaction is logged at its commit).';
    END IF;
    RETURN v_id;
END
$fn$;
COMMENT ON FUNCTION pgscore.record_outcome(text, text, text, timestamptz) IS 'Record what actually happened to an entity (one of a classifier''s classes, or a regressor''s number), observed at p_observed_at; it judges the newest prediction of the model for that entity logged by then (never a shadow''s), and each version''s newest, served or in shadow (outcome_version_matches). Returns the outcome_id';

CREATE OR REPLACE FUNCTION pgscore.match_outcomes(p_since timestamptz)
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
               AND l.source <> 'shadow'
             ORDER BY l.logged_at DESC
             LIMIT 1) p ON true
     WHERE o.outcome_id = o2.outcome_id AND (o2.judged_at IS NULL OR p_since = '-infinity')
       AND (o.judged_at IS NULL OR p.logged_at > coalesce(o.predicted_at, '-infinity'::timestamptz));
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    -- each version's own prediction, for the outcomes never looked at for it (recorded before
    -- outcome_version_matches was added; marked here in the same statement) and every outcome on a rebuild:
    -- each version's newest before the outcome, in one read of the entity's predictions; only a newer
    -- prediction replaces the one a row holds
    WITH todo AS (
        UPDATE pgscore.outcomes o SET versions_judged_at = now()
         WHERE o.versions_judged_at IS NULL
     RETURNING o.outcome_id, o.model_name, o.entity_key, o.observed_at
    )
    INSERT INTO pgscore.outcome_version_matches AS vm (outcome_id, model_id, predicted_at, score, label)
    SELECT o.outcome_id, p.model_id, p.logged_at, p.score, p.label
      FROM (SELECT t.outcome_id, t.model_name, t.entity_key, t.observed_at FROM todo t WHERE p_since <> '-infinity'
            UNION ALL
            SELECT a.outcome_id, a.model_name, a.entity_key, a.observed_at FROM pgscore.outcomes a
             WHERE p_since = '-infinity') o
     CROSS JOIN LATERAL (
            SELECT DISTINCT ON (l.model_id) l.model_id, l.logged_at, l.score, l.label
              FROM pgscore.prediction_log l
              JOIN pgscore.models pm ON pm.model_id = l.model_id
             WHERE l.entity_key = o.entity_key AND l.logged_at <= o.observed_at AND pm.name = o.model_name
             ORDER BY l.model_id, l.logged_at DESC) p
    ON CONFLICT (outcome_id, model_id) DO UPDATE
       SET predicted_at = excluded.predicted_at, score = excluded.score, label = excluded.label, matched_at = now()
     WHERE excluded.predicted_at > vm.predicted_at;
    IF p_since = '-infinity' THEN
        RETURN v_rows;
    END IF;
    -- observed since p_since: the predictions logged since then, joined as a set (not a probe of the log's
    -- partitions per outcome), each version's newest for each outcome, read once for both: where newer than
    -- the one a version's row holds, it replaces it (rows that would not change are left untouched, not
    -- locked), and the newest of all where newer than the one the outcome holds
    -- (each version's newest served and newest in shadow: the outcome judges the newest served, a version's
    -- row holds its newest of either; a shadow's prediction was never served)
    WITH p AS MATERIALIZED (
        SELECT DISTINCT ON (c.outcome_id, l.model_id, l.source <> 'shadow')
               c.outcome_id, l.model_id, l.logged_at, l.score, l.label, l.source <> 'shadow' AS served
          FROM pgscore.outcomes c
          JOIN pgscore.models pm ON pm.name = c.model_name
          JOIN pgscore.prediction_log l ON l.model_id = pm.model_id AND l.entity_key = c.entity_key
                                       AND l.logged_at <= c.observed_at AND l.logged_at >= p_since
         WHERE c.observed_at >= p_since AND c.judged_at IS NOT NULL
         ORDER BY c.outcome_id, l.model_id, l.source <> 'shadow', l.logged_at DESC
    ),
    versions AS (
        INSERT INTO pgscore.outcome_version_matches AS vm (outcome_id, model_id, predicted_at, score, label)
        SELECT DISTINCT ON (p.outcome_id, p.model_id) p.outcome_id, p.model_id, p.logged_at, p.score, p.label
          FROM p
         WHERE NOT EXISTS (SELECT 1 FROM pgscore.outcome_version_matches e
                            WHERE e.outcome_id = p.outcome_id AND e.model_id = p.model_id
                              AND e.predicted_at >= p.logged_at)
         ORDER BY p.outcome_id, p.model_id, p.logged_at DESC
        ON CONFLICT (outcome_id, model_id) DO UPDATE
           SET predicted_at = excluded.predicted_at, score = excluded.score, label = excluded.label, matched_at = now()
         WHERE excluded.predicted_at > vm.predicted_at
    )
    UPDATE pgscore.outcomes o
       SET judged_model_id = n.model_id, predicted_at = n.logged_at, judged_score = n.score,
           judged_label = n.label, judged_at = now()
      FROM (SELECT DISTINCT ON (p.outcome_id) p.* FROM p WHERE p.served ORDER BY p.outcome_id, p.logged_at DESC) n
     WHERE o.outcome_id = n.outcome_id AND n.logged_at > coalesce(o.predicted_at, '-infinity'::timestamptz);
    GET DIAGNOSTICS v_chunk = ROW_COUNT;
    RETURN v_rows + v_chunk;
END
$fn$;
COMMENT ON FUNCTION pgscore.match_outcomes(timestamptz) IS 'Internal: looks again for the prediction each outcome observed since p_since judges (the newest served of any version, never a shadow''s, and each version''s own, served or in shadow, in outcome_version_matches), among those logged since then, and for every outcome never looked at; refresh_monitoring calls it. Returns how many outcomes changed';

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

CREATE FUNCTION pgscore.drift_counts_of(p_model_ids bigint[], p_period_kind text, p_period text)
RETURNS TABLE (model_id bigint, period_kind text, period text, kind text, "position" integer, bin integer,
               n bigint, total float8, n_out bigint)
LANGUAGE sql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
SET work_mem = '64MB'
ROWS 20000
AS $fn$
WITH live AS MATERIALIZED (SELECT DISTINCT u.model_id FROM unnest(p_model_ids) AS u(model_id) WHERE u.model_id IS NOT NULL),
periods AS (
    SELECT p.*, date_trunc('day', p.bucket_from, 'UTC')
                + CASE WHEN date_trunc('day', p.bucket_from, 'UTC') = p.bucket_from THEN interval '0'
                       ELSE interval '24 hours' END AS first_day,
           date_trunc('day', p.bucket_to, 'UTC') AS end_day
      FROM pgscore.monitoring_periods p
     WHERE (p_period_kind IS NULL OR p.period_kind = p_period_kind) AND (p_period IS NULL OR p.period = p_period)
),
segments AS MATERIALIZED (  -- [lo, hi) of a period and where to count it; the whole days exist only if first_day < end_day
    SELECT p.period_kind, p.period, s.src, s.lo,
           -- today's rows up to where the windows end (monitoring_periods): one part read once for both
           CASE WHEN s.src = 'log' AND s.hi > now() THEN least(s.hi, statement_timestamp() + interval '1 minute')
                ELSE s.hi END AS hi
      FROM periods p
     CROSS JOIN LATERAL (VALUES (p.first_day < p.end_day)) d(whole_days)
     CROSS JOIN LATERAL (VALUES ('log', p.starts, least(p.bucket_from, p.ends)),
                                ('bucket', p.bucket_from, CASE WHEN d.whole_days THEN p.first_day ELSE p.bucket_to END),
                                ('day', p.first_day, CASE WHEN d.whole_days THEN p.end_day ELSE p.first_day END),
                                ('bucket', CASE WHEN d.whole_days THEN p.end_day ELSE p.bucket_to END, p.bucket_to),
                                ('log', p.bucket_to, p.ends)) s(src, lo, hi)
     WHERE s.lo < s.hi
),
parts AS MATERIALIZED (SELECT DISTINCT sg.src, sg.lo, sg.hi FROM segments sg),
part_counts AS MATERIALIZED (
    SELECT pt.src, pt.lo, pt.hi, v.model_id, v.kind, v.position, v.bin, count(*) AS n,
           coalesce(sum(least(greatest(v.x, -1e290), 1e290)) FILTER (WHERE v.bin >= 0), 0) AS total, count(*) FILTER (WHERE v.out_of_range) AS n_out
      FROM parts pt
     CROSS JOIN live
     CROSS JOIN LATERAL (SELECT pv.* FROM pgscore.prediction_values pv  -- through the log's (model_id, logged_at) index
                          WHERE pv.model_id = live.model_id AND pv.logged_at >= pt.lo AND pv.logged_at < pt.hi
                         OFFSET 0) v
     WHERE pt.src = 'log'
     GROUP BY pt.src, pt.lo, pt.hi, v.model_id, v.kind, v.position, v.bin
    UNION ALL
    SELECT pt.src, pt.lo, pt.hi, r.model_id, r.kind, r.position, r.bin, sum(r.n), sum(r.total), sum(r.n_out)
      FROM parts pt
     CROSS JOIN live
      JOIN pgscore.drift_rollup r ON r.model_id = live.model_id AND r.bucket >= pt.lo AND r.bucket < pt.hi
     WHERE pt.src = 'bucket'
     GROUP BY pt.src, pt.lo, pt.hi, r.model_id, r.kind, r.position, r.bin
    UNION ALL
    SELECT pt.src, pt.lo, pt.hi, r.model_id, r.kind, r.position, r.bin, sum(r.n), sum(r.total), sum(r.n_out)
      FROM parts pt
     CROSS JOIN live
      JOIN pgscore.drift_rollup_day r ON r.model_id = live.model_id AND r.day >= pt.lo AND r.day < pt.hi
     WHERE pt.src = 'day'
     GROUP BY pt.src, pt.lo, pt.hi, r.model_id, r.kind, r.position, r.bin
)
SELECT c.model_id, sg.period_kind, sg.period, c.kind, c.position, c.bin, sum(c.n)::bigint, sum(c.total)::float8,
       sum(c.n_out)::bigint
  FROM segments sg
  JOIN part_counts c ON c.src = sg.src AND c.lo = sg.lo AND c.hi = sg.hi
 GROUP BY c.model_id, sg.period_kind, sg.period, c.kind, c.position, c.bin
$fn$;
COMMENT ON FUNCTION pgscore.drift_counts_of(bigint[], text, text) IS 'drift_counts for the model versions p_model_ids (live or not: each version''s rows against its own baseline), the periods picked by p_period_kind and p_period (NULL: all)';

CREATE OR REPLACE FUNCTION pgscore.drift_counts(p_period_kind text DEFAULT NULL, p_period text DEFAULT NULL)
RETURNS TABLE (model_id bigint, period_kind text, period text, kind text, "position" integer, bin integer,
               n bigint, total float8, n_out bigint)
LANGUAGE sql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
SET work_mem = '64MB'
ROWS 20000
AS $fn$
SELECT * FROM pgscore.drift_counts_of(ARRAY(SELECT lm.model_id FROM pgscore.live_models lm), p_period_kind, p_period)
$fn$;
COMMENT ON FUNCTION pgscore.drift_counts(text, text) IS 'Per live model, period (each window and each of the last 30 UTC days, or those picked by p_period_kind and p_period), feature (and score) and baseline bin: how many values were logged (bin -1: NULL or NaN), their sum and how many fell outside the baseline range';

CREATE FUNCTION pgscore.drift_stats_of(p_model_ids bigint[], p_period_kind text)
RETURNS TABLE (model_id bigint, name text, version integer, period_kind text, period text, sort_order integer,
               kind text, feature text, "position" integer, n bigint, n_valid bigint, null_rate float8,
               baseline_null_rate float8, mean float8, baseline_mean float8, mean_shift float8, out_of_range float8,
               psi float8, ks float8, js float8, constant_baseline boolean, empty_baseline boolean,
               checks jsonb, status text, firing text, min_n integer)
LANGUAGE sql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
SET work_mem = '64MB'
SET extra_float_digits = 1
ROWS 2000
AS $fn$
WITH live AS MATERIALIZED (SELECT m.model_id, m.name, m.version FROM pgscore.models m
                            WHERE m.model_id = ANY (p_model_ids)),
periods AS MATERIALIZED (SELECT * FROM pgscore.monitoring_periods mp
                          WHERE p_period_kind IS NULL OR mp.period_kind = p_period_kind),
counts AS MATERIALIZED (SELECT * FROM pgscore.drift_counts_of(p_model_ids, p_period_kind, NULL)),
base AS MATERIALIZED (
    SELECT live.model_id, live.name, live.version, b.kind, b.feature, b.position, b.edges, b.expected, b.mean,
           b.std, b.null_rate,
           -- constant at training (min = max), whatever std the float arithmetic left (before 0036: 1.1e-16
           -- for a column of 0.3, which made any mean shift of it an alert)
           b.std = 0 OR b.min = b.max AS constant
      FROM live JOIN pgscore.baselines b ON b.model_id = live.model_id
),
agg AS MATERIALIZED (
    SELECT c.model_id, c.period_kind, c.period, c.kind, c.position,
           sum(c.n) AS n, coalesce(sum(c.n) FILTER (WHERE c.bin = -1), 0) AS n_null,
           coalesce(sum(c.n) FILTER (WHERE c.bin >= 0), 0) AS n_valid, sum(c.total) AS total, sum(c.n_out) AS n_out,
           array_agg(c.bin) AS bins, array_agg(c.n) AS bin_n  -- each bin that holds a value, and how many
      FROM counts c
     GROUP BY c.model_id, c.period_kind, c.period, c.kind, c.position
),
-- every baseline bin of each live model, feature (or score) and period that holds a valid value, with its
-- current count (0 if none): stats keeps PSI, KS and JS only there (n_valid > 0), so a period without one
-- (most of the 30 days of a model logging now and then) is no longer spread over its bins for nothing
grid AS (
    SELECT b.model_id, a.period_kind, a.period, b.kind, b.position, g.bin, b.expected[g.bin + 1] AS e,
           coalesce(a.bin_n[array_position(a.bins, g.bin)], 0) AS n
      FROM agg a
      JOIN base b ON b.model_id = a.model_id AND b.kind = a.kind AND b.position = a.position
     CROSS JOIN LATERAL generate_series(0, cardinality(b.expected) - 1) g(bin)
     WHERE a.n_valid > 0
),
shares AS (
    SELECT g.*, g.n::float8 / nullif(sum(g.n) OVER w, 0) AS c,
           (sum(g.n) OVER (w ORDER BY g.bin))::float8 / nullif(sum(g.n) OVER w, 0) AS c_cum,
           sum(g.e) OVER (w ORDER BY g.bin) AS e_cum
      FROM grid g
    WINDOW w AS (PARTITION BY g.model_id, g.period_kind, g.period, g.kind, g.position)
),
dist AS (  -- PSI (shares floored at 1e-4), KS at the bin edges, Jensen-Shannon distance in base 2
    SELECT s.model_id, s.period_kind, s.period, s.kind, s.position,
           sum((greatest(s.c, 1e-4) - greatest(s.e, 1e-4)) * ln(greatest(s.c, 1e-4) / greatest(s.e, 1e-4))) AS psi,
           max(abs(s.c_cum - s.e_cum)) AS ks,
           sqrt(greatest(0, 0.5 * sum(CASE WHEN s.c > 0 THEN s.c * ln(s.c / ((s.c + s.e) / 2)) ELSE 0 END)
                          + 0.5 * sum(CASE WHEN s.e > 0 THEN s.e * ln(s.e / ((s.c + s.e) / 2)) ELSE 0 END)) / ln(2)) AS js
      FROM shares s
     GROUP BY s.model_id, s.period_kind, s.period, s.kind, s.position
),
stats AS (
    SELECT b.model_id, b.name, b.version, p.period_kind, p.period, p.sort_order, b.kind, b.feature, b.position,
           coalesce(a.n, 0)::bigint AS n, coalesce(a.n_valid, 0)::bigint AS n_valid,
           a.n_null::float8 / nullif(a.n, 0) AS null_rate, b.null_rate AS baseline_null_rate,
           -- in numeric (from each float8's exact text: a cast keeps 15 digits), kept within float8's range:
           -- huge means over a tiny std, or tiny over huge, raise no overflow or underflow (a value rounded
           -- to 323 places is 0 or at least 1e-323, which float8 holds)
           round(a.total::text::numeric / nullif(a.n_valid, 0), 323)::float8 AS mean, b.mean AS baseline_mean,
           CASE WHEN NOT b.constant AND a.n_valid > 0  -- (greatest and least take no NULL for an answer)
                THEN least(greatest(round((a.total::text::numeric / a.n_valid - b.mean::text::numeric)
                                          / b.std::text::numeric, 323), -1e300), 1e300)::float8 END AS mean_shift,
           a.n_out::float8 / nullif(a.n_valid, 0) AS out_of_range,
           CASE WHEN a.n_valid > 0 THEN d.psi END AS psi,
           CASE WHEN a.n_valid > 0 THEN d.ks END AS ks,
           CASE WHEN a.n_valid > 0 THEN d.js END AS js,
           b.constant AS constant_baseline, cardinality(b.expected) = 0 AS empty_baseline
      FROM base b
     CROSS JOIN periods p
      LEFT JOIN agg a ON a.model_id = b.model_id AND a.period_kind = p.period_kind AND a.period = p.period
                     AND a.kind = b.kind AND a.position = b.position
      LEFT JOIN dist d ON d.model_id = b.model_id AND d.period_kind = p.period_kind AND d.period = p.period
                      AND d.kind = b.kind AND d.position = b.position
),
-- pgscore.drift_thresholds in one row (NULLs for a metric it holds no row for), with each metric's check
-- but for its value, n and level built once
th AS MATERIALIZED (
    SELECT t.*,
           -- the text of each metric's check up to its value, for checks built as text: jsonb_build_object took
           -- 20 us a row more, for the same jsonb (a number is read from its float8 text either way)
           rtrim(t.psi_check::text, '}') || ', "value": ' AS psi_prefix,
           rtrim(t.ks_check::text, '}') || ', "value": ' AS ks_prefix,
           rtrim(t.js_check::text, '}') || ', "value": ' AS js_prefix,
           rtrim(t.mean_shift_check::text, '}') || ', "value": ' AS mean_shift_prefix,
           rtrim(t.null_rate_check::text, '}') || ', "value": ' AS null_rate_prefix,
           rtrim(t.out_of_range_check::text, '}') || ', "value": ' AS out_of_range_prefix
      FROM (SELECT t.*, t.psi_min_n IS NOT NULL AND t.ks_min_n IS NOT NULL AND t.js_min_n IS NOT NULL AND t.mean_shift_min_n IS NOT NULL AND t.null_rate_min_n IS NOT NULL AND t.out_of_range_min_n IS NOT NULL AS complete,
                       jsonb_build_object('metric', 'psi', 'warn', t.psi_warn, 'alert', t.psi_alert, 'min_n', t.psi_min_n) AS psi_check,
                       jsonb_build_object('metric', 'ks', 'warn', t.ks_warn, 'alert', t.ks_alert, 'min_n', t.ks_min_n) AS ks_check,
                       jsonb_build_object('metric', 'js', 'warn', t.js_warn, 'alert', t.js_alert, 'min_n', t.js_min_n) AS js_check,
                       jsonb_build_object('metric', 'mean_shift', 'warn', t.mean_shift_warn, 'alert', t.mean_shift_alert, 'min_n', t.mean_shift_min_n) AS mean_shift_check,
                       jsonb_build_object('metric', 'null_rate', 'warn', t.null_rate_warn, 'alert', t.null_rate_alert, 'min_n', t.null_rate_min_n) AS null_rate_check,
                       jsonb_build_object('metric', 'out_of_range', 'warn', t.out_of_range_warn, 'alert', t.out_of_range_alert, 'min_n', t.out_of_range_min_n) AS out_of_range_check
      FROM (SELECT max(t.warn) FILTER (WHERE t.metric = 'psi') AS psi_warn, max(t.alert) FILTER (WHERE t.metric = 'psi') AS psi_alert,
                   max(t.min_n) FILTER (WHERE t.metric = 'psi') AS psi_min_n,
                   max(t.warn) FILTER (WHERE t.metric = 'ks') AS ks_warn, max(t.alert) FILTER (WHERE t.metric = 'ks') AS ks_alert,
                   max(t.min_n) FILTER (WHERE t.metric = 'ks') AS ks_min_n,
                   max(t.warn) FILTER (WHERE t.metric = 'js') AS js_warn, max(t.alert) FILTER (WHERE t.metric = 'js') AS js_alert,
                   max(t.min_n) FILTER (WHERE t.metric = 'js') AS js_min_n,
                   max(t.warn) FILTER (WHERE t.metric = 'mean_shift') AS mean_shift_warn, max(t.alert) FILTER (WHERE t.metric = 'mean_shift') AS mean_shift_alert,
                   max(t.min_n) FILTER (WHERE t.metric = 'mean_shift') AS mean_shift_min_n,
                   max(t.warn) FILTER (WHERE t.metric = 'null_rate') AS null_rate_warn, max(t.alert) FILTER (WHERE t.metric = 'null_rate') AS null_rate_alert,
                   max(t.min_n) FILTER (WHERE t.metric = 'null_rate') AS null_rate_min_n,
                   max(t.warn) FILTER (WHERE t.metric = 'out_of_range') AS out_of_range_warn, max(t.alert) FILTER (WHERE t.metric = 'out_of_range') AS out_of_range_alert,
                   max(t.min_n) FILTER (WHERE t.metric = 'out_of_range') AS out_of_range_min_n
              FROM pgscore.drift_thresholds t) t) t
)
-- each metric's level and check as pgscore.judge gives them (a metric with no threshold row is left out;
-- none: NULLs), in place: a call of judge per feature and period cost ~55 us, 105,000 calls for 3,000 features
SELECT s.*,
       CASE WHEN th.complete THEN ('[' || th.js_prefix || coalesce(CASE WHEN s.js IN ('Infinity', '-Infinity', 'NaN') THEN to_jsonb(s.js)::text ELSE (s.js)::text END, 'null') || ', "n": ' || s.n_valid || ', "level": "' || l.js || '"'
                  || '}, ' || th.ks_prefix || coalesce(CASE WHEN s.ks IN ('Infinity', '-Infinity', 'NaN') THEN to_jsonb(s.ks)::text ELSE (s.ks)::text END, 'null') || ', "n": ' || s.n_valid || ', "level": "' || l.ks || '"'
                  || '}, ' || th.mean_shift_prefix || coalesce(CASE WHEN abs(s.mean_shift) IN ('Infinity', '-Infinity', 'NaN') THEN to_jsonb(abs(s.mean_shift))::text ELSE (abs(s.mean_shift))::text END, 'null') || ', "n": ' || s.n_valid || ', "level": "' || l.mean_shift || '"'
                  || '}, ' || th.null_rate_prefix || coalesce(CASE WHEN s.null_rate - s.baseline_null_rate IN ('Infinity', '-Infinity', 'NaN') THEN to_jsonb(s.null_rate - s.baseline_null_rate)::text ELSE (s.null_rate - s.baseline_null_rate)::text END, 'null') || ', "n": ' || s.n || ', "level": "' || l.null_rate || '"'
                  || '}, ' || th.out_of_range_prefix || coalesce(CASE WHEN s.out_of_range IN ('Infinity', '-Infinity', 'NaN') THEN to_jsonb(s.out_of_range)::text ELSE (s.out_of_range)::text END, 'null') || ', "n": ' || s.n_valid || ', "level": "' || l.out_of_range || '"'
                  || '}, ' || th.psi_prefix || coalesce(CASE WHEN s.psi IN ('Infinity', '-Infinity', 'NaN') THEN to_jsonb(s.psi)::text ELSE (s.psi)::text END, 'null') || ', "n": ' || s.n_valid || ', "level": "' || l.psi || '"'
                  || '}]')::jsonb
            ELSE nullif(CASE WHEN l.js IS NOT NULL THEN jsonb_build_array(th.js_check || jsonb_build_object('value', s.js, 'n', s.n_valid, 'level', l.js)) ELSE '[]' END
                       || CASE WHEN l.ks IS NOT NULL THEN jsonb_build_array(th.ks_check || jsonb_build_object('value', s.ks, 'n', s.n_valid, 'level', l.ks)) ELSE '[]' END
                       || CASE WHEN l.mean_shift IS NOT NULL THEN jsonb_build_array(th.mean_shift_check || jsonb_build_object('value', abs(s.mean_shift), 'n', s.n_valid, 'level', l.mean_shift)) ELSE '[]' END
                       || CASE WHEN l.null_rate IS NOT NULL THEN jsonb_build_array(th.null_rate_check || jsonb_build_object('value', s.null_rate - s.baseline_null_rate, 'n', s.n, 'level', l.null_rate)) ELSE '[]' END
                       || CASE WHEN l.out_of_range IS NOT NULL THEN jsonb_build_array(th.out_of_range_check || jsonb_build_object('value', s.out_of_range, 'n', s.n_valid, 'level', l.out_of_range)) ELSE '[]' END
                       || CASE WHEN l.psi IS NOT NULL THEN jsonb_build_array(th.psi_check || jsonb_build_object('value', s.psi, 'n', s.n_valid, 'level', l.psi)) ELSE '[]' END, '[]') END AS checks,
       (ARRAY['not_applicable', 'no_data', 'insufficient_data', 'ok', 'warn', 'alert'])[greatest(
               CASE l.js WHEN 'alert' THEN 6 WHEN 'warn' THEN 5 WHEN 'ok' THEN 4 WHEN 'insufficient_data' THEN 3 WHEN 'no_data' THEN 2 WHEN 'not_applicable' THEN 1 END,
               CASE l.ks WHEN 'alert' THEN 6 WHEN 'warn' THEN 5 WHEN 'ok' THEN 4 WHEN 'insufficient_data' THEN 3 WHEN 'no_data' THEN 2 WHEN 'not_applicable' THEN 1 END,
               CASE l.mean_shift WHEN 'alert' THEN 6 WHEN 'warn' THEN 5 WHEN 'ok' THEN 4 WHEN 'insufficient_data' THEN 3 WHEN 'no_data' THEN 2 WHEN 'not_applicable' THEN 1 END,
               CASE l.null_rate WHEN 'alert' THEN 6 WHEN 'warn' THEN 5 WHEN 'ok' THEN 4 WHEN 'insufficient_data' THEN 3 WHEN 'no_data' THEN 2 WHEN 'not_applicable' THEN 1 END,
               CASE l.out_of_range WHEN 'alert' THEN 6 WHEN 'warn' THEN 5 WHEN 'ok' THEN 4 WHEN 'insufficient_data' THEN 3 WHEN 'no_data' THEN 2 WHEN 'not_applicable' THEN 1 END,
               CASE l.psi WHEN 'alert' THEN 6 WHEN 'warn' THEN 5 WHEN 'ok' THEN 4 WHEN 'insufficient_data' THEN 3 WHEN 'no_data' THEN 2 WHEN 'not_applicable' THEN 1 END)] AS status,
       nullif(concat_ws(', ', CASE WHEN l.js IN ('warn', 'alert') THEN 'js' END,
                     CASE WHEN l.ks IN ('warn', 'alert') THEN 'ks' END,
                     CASE WHEN l.mean_shift IN ('warn', 'alert') THEN 'mean_shift' END,
                     CASE WHEN l.null_rate IN ('warn', 'alert') THEN 'null_rate' END,
                     CASE WHEN l.out_of_range IN ('warn', 'alert') THEN 'out_of_range' END,
                     CASE WHEN l.psi IN ('warn', 'alert') THEN 'psi' END), '') AS firing,
       greatest(CASE WHEN l.js = 'insufficient_data' THEN th.js_min_n END,
                CASE WHEN l.ks = 'insufficient_data' THEN th.ks_min_n END,
                CASE WHEN l.mean_shift = 'insufficient_data' THEN th.mean_shift_min_n END,
                CASE WHEN l.null_rate = 'insufficient_data' THEN th.null_rate_min_n END,
                CASE WHEN l.out_of_range = 'insufficient_data' THEN th.out_of_range_min_n END,
                CASE WHEN l.psi = 'insufficient_data' THEN th.psi_min_n END) AS min_n
  FROM stats s
 CROSS JOIN th
 CROSS JOIN LATERAL (SELECT CASE WHEN th.psi_min_n IS NULL THEN NULL WHEN s.n_valid = 0 THEN 'no_data' WHEN s.n_valid < th.psi_min_n THEN 'insufficient_data'
                                WHEN s.psi IS NULL THEN 'not_applicable' WHEN s.psi >= th.psi_alert THEN 'alert'
                                WHEN s.psi >= th.psi_warn THEN 'warn' ELSE 'ok' END AS psi,
                           CASE WHEN th.ks_min_n IS NULL THEN NULL WHEN s.n_valid = 0 THEN 'no_data' WHEN s.n_valid < th.ks_min_n THEN 'insufficient_data'
                                WHEN s.ks IS NULL THEN 'not_applicable' WHEN s.ks >= th.ks_alert THEN 'alert'
                                WHEN s.ks >= th.ks_warn THEN 'warn' ELSE 'ok' END AS ks,
                           CASE WHEN th.js_min_n IS NULL THEN NULL WHEN s.n_valid = 0 THEN 'no_data' WHEN s.n_valid < th.js_min_n THEN 'insufficient_data'
                                WHEN s.js IS NULL THEN 'not_applicable' WHEN s.js >= th.js_alert THEN 'alert'
                                WHEN s.js >= th.js_warn THEN 'warn' ELSE 'ok' END AS js,
                           CASE WHEN th.mean_shift_min_n IS NULL THEN NULL WHEN s.n_valid = 0 THEN 'no_data' WHEN s.n_valid < th.mean_shift_min_n THEN 'insufficient_data'
                                WHEN abs(s.mean_shift) IS NULL THEN 'not_applicable' WHEN abs(s.mean_shift) >= th.mean_shift_alert THEN 'alert'
                                WHEN abs(s.mean_shift) >= th.mean_shift_warn THEN 'warn' ELSE 'ok' END AS mean_shift,
                           CASE WHEN th.null_rate_min_n IS NULL THEN NULL WHEN s.n = 0 THEN 'no_data' WHEN s.n < th.null_rate_min_n THEN 'insufficient_data'
                                WHEN s.null_rate - s.baseline_null_rate IS NULL THEN 'not_applicable' WHEN s.null_rate - s.baseline_null_rate >= th.null_rate_alert THEN 'alert'
                                WHEN s.null_rate - s.baseline_null_rate >= th.null_rate_warn THEN 'warn' ELSE 'ok' END AS null_rate,
                           CASE WHEN th.out_of_range_min_n IS NULL THEN NULL WHEN s.n_valid = 0 THEN 'no_data' WHEN s.n_valid < th.out_of_range_min_n THEN 'insufficient_data'
                                WHEN s.out_of_range IS NULL THEN 'not_applicable' WHEN s.out_of_range >= th.out_of_range_alert THEN 'alert'
                                WHEN s.out_of_range >= th.out_of_range_warn THEN 'warn' ELSE 'ok' END AS out_of_range) l
$fn$;
COMMENT ON FUNCTION pgscore.drift_stats_of(bigint[], text) IS 'drift_stats for the model versions p_model_ids, live or not, each against its own baseline, in the periods of kind p_period_kind (window or day; NULL: both); pgscore.version_drift reads it for one version';

CREATE OR REPLACE FUNCTION pgscore.drift_stats()
RETURNS TABLE (model_id bigint, name text, version integer, period_kind text, period text, sort_order integer,
               kind text, feature text, "position" integer, n bigint, n_valid bigint, null_rate float8,
               baseline_null_rate float8, mean float8, baseline_mean float8, mean_shift float8, out_of_range float8,
               psi float8, ks float8, js float8, constant_baseline boolean, empty_baseline boolean,
               checks jsonb, status text, firing text, min_n integer)
LANGUAGE sql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
SET work_mem = '64MB'
SET extra_float_digits = 1
ROWS 2000
AS $fn$
SELECT * FROM pgscore.drift_stats_of(ARRAY(SELECT lm.model_id FROM pgscore.live_models lm), NULL)
$fn$;
COMMENT ON FUNCTION pgscore.drift_stats() IS 'The drift metrics of every live model, feature (and score) and period (each window and each of the last 30 UTC days), with each metric''s level and the worst; read it through feature_drift, score_drift and drift_by_day';

CREATE FUNCTION pgscore.version_drift(p_model text, p_version integer)
RETURNS TABLE (model text, version integer, live boolean, kind text, feature text, window_name text, n bigint,
               psi float8, ks float8, js float8, mean float8, baseline_mean float8, mean_shift float8,
               null_rate float8, baseline_null_rate float8, out_of_range float8, status text, firing text,
               note text)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
ROWS 100
AS $fn$
#variable_conflict use_column
DECLARE
    v_id   bigint;
    v_live boolean;
BEGIN
    IF p_model IS NULL OR p_version IS NULL THEN
        RAISE EXCEPTION 'pgscore.version_drift: % must not be NULL', CASE WHEN p_model IS NULL THEN 'the model' ELSE 'the version' END
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'give the model''s name and the version to read: SELECT name, version FROM pgscore.model_versions lists them';
    END IF;
    SELECT m.model_id INTO v_id FROM pgscore.models m WHERE m.name = p_model AND m.version = p_version;
    IF NOT FOUND THEN
        IF NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_model) THEN
            RAISE EXCEPTION 'pgscore.version_drift: model "%" does not exist', p_model
                USING ERRCODE = 'undefined_object', HINT = 'SELECT name FROM pgscore.model_versions lists the models';
        END IF;
        RAISE EXCEPTION 'pgscore.version_drift: model "%" has no version %', p_model, p_version
            USING ERRCODE = 'undefined_object',
                  DETAIL = format('versions: %s', (SELECT string_agg(m.version::text, ', ' ORDER BY m.version)
                                                     FROM pgscore.models m WHERE m.name = p_model)),
                  HINT = 'SELECT version, live FROM pgscore.model_versions WHERE name = ... lists its versions';
    END IF;
    v_live := EXISTS (SELECT 1 FROM pgscore.live_models l WHERE l.model_id = v_id);
    RETURN QUERY
    SELECT r.name, r.version, v_live, r.kind, r.feature, r.period, r.n, r.psi, r.ks, r.js, r.mean, r.baseline_mean,
           r.mean_shift, r.null_rate, r.baseline_null_rate, r.out_of_range, r.status, r.firing, r.note
      FROM (SELECT s.name, s.version, s.kind, s.feature, s.position, s.period, s.sort_order, s.n, s.psi, s.ks, s.js,
                   s.mean, s.baseline_mean, s.mean_shift, s.null_rate, s.baseline_null_rate, s.out_of_range,
                   s.status, s.firing,
                   -- as drift_report notes them
                   CASE WHEN s.empty_baseline THEN 'the baseline holds no values (all NULL at training)'
                        WHEN s.n = 0 THEN 'no predictions of this version in this window'
                        WHEN s.status = 'insufficient_data' THEN format('%s values, fewer than the %s needed', s.n, s.min_n)
                        WHEN s.constant_baseline THEN 'constant in the baseline: mean shift undefined, any other value is out of range'
                   END AS note
              FROM pgscore.drift_stats_of(ARRAY[v_id], 'window') s
            UNION ALL
            SELECT m.name, m.version, k.kind, NULL, NULL, w.window_name, w.sort_order, NULL, NULL, NULL, NULL,
                   NULL, NULL, NULL, NULL, NULL, NULL, 'no_baseline', NULL,
                   'deployed without training data, so there is no baseline: redeploy with --train (or X) to monitor drift'
              FROM pgscore.models m
             CROSS JOIN (VALUES ('feature'), ('score')) k(kind)
             CROSS JOIN pgscore.drift_windows w
             WHERE m.model_id = v_id
               AND NOT EXISTS (SELECT 1 FROM pgscore.baselines b WHERE b.model_id = m.model_id AND b.kind = k.kind)) r
     ORDER BY r.kind = 'score', r.position, r.sort_order;
END
$fn$;
COMMENT ON FUNCTION pgscore.version_drift(text, integer) IS 'feature_drift and score_drift for one version of a model, live or not: the predictions it logged in each window against its own baseline captured at its deploy; a version not live has no row in the drift views';

CREATE VIEW pgscore.judged_predictions_by_version AS
SELECT DISTINCT ON (vm.model_id, o.entity_key, vm.predicted_at)
       m.model_id, m.name, m.version, m.task, m.metrics, vm.predicted_at, vm.score, vm.label, o.outcome,
       CASE WHEN m.task = 'binary' THEN (o.outcome = m.classes -> 1)::integer END AS y,
       CASE WHEN m.task = 'regression' THEN (o.outcome #>> '{}')::float8 END AS y_value,
       coalesce((m.metrics ->> 'threshold')::float8, 0.5) AS threshold
  FROM pgscore.outcome_version_matches vm
  JOIN pgscore.outcomes o ON o.outcome_id = vm.outcome_id
  JOIN pgscore.models m ON m.model_id = vm.model_id
 ORDER BY vm.model_id, o.entity_key, vm.predicted_at, o.observed_at DESC, o.outcome_id DESC;
COMMENT ON VIEW pgscore.judged_predictions_by_version IS 'Internal: predictions of every version that outcomes judge (each outcome against each version''s own newest prediction of the entity before it), each once with the newest outcome observed for it';
COMMENT ON COLUMN pgscore.judged_predictions_by_version.model_id IS 'The model version''s row in pgscore.models';
COMMENT ON COLUMN pgscore.judged_predictions_by_version.name IS 'Model name';
COMMENT ON COLUMN pgscore.judged_predictions_by_version.version IS 'Model version';
COMMENT ON COLUMN pgscore.judged_predictions_by_version.task IS 'binary, multiclass or regression';
COMMENT ON COLUMN pgscore.judged_predictions_by_version.metrics IS 'Hold-out metrics captured at deploy';
COMMENT ON COLUMN pgscore.judged_predictions_by_version.predicted_at IS 'When the judged prediction was logged';
COMMENT ON COLUMN pgscore.judged_predictions_by_version.score IS 'The score: positive-class probability, top-class probability or regression value';
COMMENT ON COLUMN pgscore.judged_predictions_by_version.label IS 'The predicted label, where it was logged';
COMMENT ON COLUMN pgscore.judged_predictions_by_version.outcome IS 'The observed outcome';
COMMENT ON COLUMN pgscore.judged_predictions_by_version.y IS '1 when the outcome is the positive class, else 0 (binary classifiers)';
COMMENT ON COLUMN pgscore.judged_predictions_by_version.y_value IS 'The outcome as a number (regressors)';
COMMENT ON COLUMN pgscore.judged_predictions_by_version.threshold IS 'The threshold crossed (the alert level for alerts, the warn level for warnings)';

CREATE FUNCTION pgscore.performance_stats(p_by_version boolean)
RETURNS TABLE (model_id bigint, name text, version integer, task text, period_kind text, period text,
               sort_order integer, n bigint, positives bigint, auc float8, accuracy float8, "precision" float8,
               recall float8, brier float8, log_loss float8, mae float8, rmse float8, deploy_auc float8,
               deploy_accuracy float8, deploy_brier float8, deploy_log_loss float8, deploy_mae float8,
               deploy_rmse float8, checks jsonb, status text, firing text, min_n integer, unmatched_outcomes bigint)
LANGUAGE sql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
ROWS 100
AS $fn$
WITH periods AS MATERIALIZED (SELECT * FROM pgscore.monitoring_periods),
j AS (
    SELECT jp.*, p.period_kind, p.period
      FROM (SELECT * FROM pgscore.judged_predictions WHERE NOT p_by_version
            UNION ALL
            SELECT * FROM pgscore.judged_predictions_by_version WHERE p_by_version) jp
      JOIN periods p ON jp.predicted_at >= p.starts AND jp.predicted_at < p.ends
),
r AS (
    SELECT j.*, rank() OVER (PARTITION BY j.model_id, j.period_kind, j.period ORDER BY j.score)
               + (count(*) OVER (PARTITION BY j.model_id, j.period_kind, j.period, j.score) - 1) / 2.0 AS score_rank
      FROM j
),
s AS (  -- AUC from the rank sum of the positives (Mann-Whitney); log loss clipped at float64 eps like scikit-learn
    SELECT r.model_id, r.period_kind, r.period, count(*) AS n, sum(r.y) AS positives,
           ((sum(r.score_rank) FILTER (WHERE r.y = 1) - sum(r.y) * (sum(r.y) + 1) / 2.0)
                / nullif(sum(r.y) * (count(*) - sum(r.y)), 0))::float8 AS auc,
           -- positive above the threshold: a score of exactly 0.5 is the negative class, as predict gives it
           (CASE WHEN min(r.task) = 'binary' THEN avg(((r.score > r.threshold)::integer = r.y)::integer)
                 WHEN min(r.task) = 'multiclass' THEN avg((r.label = r.outcome #>> '{}')::integer) END)::float8 AS accuracy,
           -- binary only: a multiclass model has no positive class (y is NULL), where these gave 0
           CASE WHEN min(r.task) = 'binary' THEN sum(((r.score > r.threshold) AND r.y = 1)::integer)::float8
               / nullif(sum((r.score > r.threshold)::integer), 0) END AS "precision",
           CASE WHEN min(r.task) = 'binary'
                THEN sum(((r.score > r.threshold) AND r.y = 1)::integer)::float8 / nullif(sum(r.y), 0) END AS recall,
           avg((r.score - r.y) ^ 2) AS brier,
           -avg(r.y * ln(least(greatest(r.score, 2.220446049250313e-16), 1 - 2.220446049250313e-16))
                + (1 - r.y) * ln(1 - least(greatest(r.score, 2.220446049250313e-16), 1 - 2.220446049250313e-16))) AS log_loss,
           avg(abs(r.score - r.y_value)) AS mae,
           sqrt(avg((r.score - r.y_value) ^ 2)) AS rmse
      FROM r
     GROUP BY r.model_id, r.period_kind, r.period
),
-- the live versions; per version also every version an outcome judges (each is in s: the window without
-- a length holds every judged prediction)
versions AS (
    SELECT lm.model_id FROM pgscore.live_models lm
    UNION
    SELECT s.model_id FROM s WHERE p_by_version
),
base AS (
    SELECT m.model_id, m.name, m.version, m.task, p.period_kind, p.period, p.sort_order,
           coalesce(s.n, 0) AS n, s.positives, s.auc, s.accuracy, s."precision", s.recall, s.brier, s.log_loss,
           s.mae, s.rmse,
           (m.metrics ->> 'auc')::float8 AS deploy_auc, (m.metrics ->> 'accuracy')::float8 AS deploy_accuracy,
           (m.metrics ->> 'brier')::float8 AS deploy_brier, (m.metrics ->> 'log_loss')::float8 AS deploy_log_loss,
           (m.metrics ->> 'mae')::float8 AS deploy_mae, (m.metrics ->> 'rmse')::float8 AS deploy_rmse
      FROM versions v
      JOIN pgscore.models m ON m.model_id = v.model_id
     CROSS JOIN periods p
      LEFT JOIN s ON s.model_id = m.model_id AND s.period_kind = p.period_kind AND s.period = p.period
),
-- once per model, not once per model and period (each reads every outcome: 35 times over, 2.9 s for 1,000);
-- per version: the model's outcomes that judge no prediction of the version
unmatched AS MATERIALIZED (
    SELECT om.model, NULL::bigint AS model_id, count(*) AS n
      FROM pgscore.outcome_matches om WHERE NOT om.matched AND NOT p_by_version GROUP BY om.model
    UNION ALL
    SELECT t.model_name, v.model_id, t.n - coalesce(k.n, 0)
      FROM (SELECT o.model_name, count(*) AS n FROM pgscore.outcomes o WHERE p_by_version GROUP BY o.model_name) t
      JOIN pgscore.models vm ON vm.name = t.model_name
      JOIN versions v ON v.model_id = vm.model_id
      LEFT JOIN (SELECT c.model_id, count(*) AS n FROM pgscore.outcome_version_matches c
                  WHERE p_by_version GROUP BY c.model_id) k ON k.model_id = v.model_id
)
SELECT b.*, c.checks, c.status, c.firing, c.min_n,
       coalesce((SELECT u.n FROM unmatched u WHERE u.model = b.name
                    AND u.model_id IS NOT DISTINCT FROM CASE WHEN p_by_version THEN b.model_id END), 0)
           AS unmatched_outcomes
  FROM base b
 CROSS JOIN LATERAL pgscore.judge(
        CASE b.task WHEN 'binary' THEN ARRAY['auc_drop', 'accuracy_drop', 'brier_rise']
                    WHEN 'multiclass' THEN ARRAY['accuracy_drop'] ELSE ARRAY['rmse_rise'] END,
        CASE b.task WHEN 'binary' THEN ARRAY[b.deploy_auc - b.auc, b.deploy_accuracy - b.accuracy, b.brier - b.deploy_brier]
                    WHEN 'multiclass' THEN ARRAY[b.deploy_accuracy - b.accuracy]
                    -- (a hold-out RMSE of 0, a tree fitted to an integer target: any error in service is a rise)
                    -- (no hold-out RMSE at all, a regressor deployed without a target: nothing to compare)
                    ELSE ARRAY[CASE WHEN b.deploy_rmse <> 0 THEN b.rmse / b.deploy_rmse - 1
                                    WHEN b.deploy_rmse = 0 THEN CASE WHEN b.rmse > 0 THEN 1e300
                                                                     WHEN b.rmse = 0 THEN 0 END END] END,
        array_fill(b.n, ARRAY[CASE b.task WHEN 'binary' THEN 3 ELSE 1 END])) c
$fn$;
COMMENT ON FUNCTION pgscore.performance_stats(boolean) IS 'Realised performance of every live model (p_by_version false) or of every version outcomes judge and every live one (true: each outcome against each version''s own prediction) per period, next to its deploy metrics, with the checks; read it through realised_performance, performance_by_day and realised_performance_by_version';

CREATE OR REPLACE FUNCTION pgscore.performance_stats()
RETURNS TABLE (model_id bigint, name text, version integer, task text, period_kind text, period text,
               sort_order integer, n bigint, positives bigint, auc float8, accuracy float8, "precision" float8,
               recall float8, brier float8, log_loss float8, mae float8, rmse float8, deploy_auc float8,
               deploy_accuracy float8, deploy_brier float8, deploy_log_loss float8, deploy_mae float8,
               deploy_rmse float8, checks jsonb, status text, firing text, min_n integer, unmatched_outcomes bigint)
LANGUAGE sql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
ROWS 100
AS $fn$
SELECT * FROM pgscore.performance_stats(false)
$fn$;
COMMENT ON FUNCTION pgscore.performance_stats() IS 'Realised performance of every live model and period next to its deploy metrics, with the checks; read it through realised_performance and performance_by_day';

CREATE VIEW pgscore.realised_performance_by_version AS
SELECT name AS model, version, live, task, period AS window_name, n, positives, auc, accuracy, precision, recall,
       brier, log_loss, mae, rmse, deploy_auc, deploy_accuracy, deploy_brier, deploy_log_loss, deploy_mae,
       deploy_rmse, deploy_precision, deploy_recall, status, firing,
       CASE WHEN n = 0 THEN 'no outcomes matched to predictions of this version in this window'
            WHEN status = 'insufficient_data' THEN format('%s outcomes, fewer than the %s needed', n, min_n)
            WHEN status = 'not_applicable' AND coalesce(deploy_auc, deploy_accuracy, deploy_rmse) IS NULL
                THEN 'no hold-out metrics at deploy to compare with (deployed without a target)'
            WHEN status = 'not_applicable' AND task = 'multiclass'
                THEN 'the predictions matched carry no predicted class (logged before migration 0017 by score, predict_proba or in batch): accuracy compares predict''s label with the outcome'
            WHEN status = 'not_applicable' THEN 'no realised metric to compare with the deploy metrics'
       END AS note,
       unmatched_outcomes
  FROM (SELECT p.*, l.model_id IS NOT NULL AS live, (m.metrics ->> 'precision')::float8 AS deploy_precision,
               (m.metrics ->> 'recall')::float8 AS deploy_recall
          FROM pgscore.performance_stats(true) p
          JOIN pgscore.models m ON m.model_id = p.model_id
          LEFT JOIN pgscore.live_models l ON l.model_id = p.model_id) p
 WHERE period_kind = 'window'
 ORDER BY model, version, sort_order;
COMMENT ON VIEW pgscore.realised_performance_by_version IS 'Per model version that outcomes judge (and each live one) and window (by prediction time): metrics realised on the outcomes recorded so far, each outcome against that version''s own newest prediction of the entity before it, next to the version''s hold-out metrics captured at deploy';
COMMENT ON COLUMN pgscore.realised_performance_by_version.n IS 'How many predictions of this version made in the window have a matched outcome';
COMMENT ON COLUMN pgscore.realised_performance_by_version.status IS 'The worst level among the metrics against this version''s deploy metrics: alert, warn, ok; or insufficient_data, no_data, not_applicable';
COMMENT ON COLUMN pgscore.realised_performance_by_version.live IS 'true for the version live now';
COMMENT ON COLUMN pgscore.realised_performance_by_version.unmatched_outcomes IS 'Outcomes of the model that judge no prediction of this version (none logged for the entity before the outcome)';
COMMENT ON COLUMN pgscore.realised_performance_by_version.model IS 'Model name';
COMMENT ON COLUMN pgscore.realised_performance_by_version.version IS 'Model version';
COMMENT ON COLUMN pgscore.realised_performance_by_version.live IS 'true for the version live now';
COMMENT ON COLUMN pgscore.realised_performance_by_version.task IS 'binary, multiclass or regression';
COMMENT ON COLUMN pgscore.realised_performance_by_version.window_name IS 'The window (pgscore.drift_windows)';
COMMENT ON COLUMN pgscore.realised_performance_by_version.n IS 'How many predictions of this version made in the window have a matched outcome';
COMMENT ON COLUMN pgscore.realised_performance_by_version.positives IS 'How many outcomes are the positive class (binary classifiers)';
COMMENT ON COLUMN pgscore.realised_performance_by_version.auc IS 'Area under the ROC curve on the outcomes (binary classifiers; ties count half)';
COMMENT ON COLUMN pgscore.realised_performance_by_version.accuracy IS 'Share of predictions whose label (at the decision threshold, for a binary classifier) equals the outcome';
COMMENT ON COLUMN pgscore.realised_performance_by_version."precision" IS 'Of the predictions above the decision threshold, the metrics'' threshold (0.5 unless the model''s predict thresholds the score itself; a score equal to it is the negative class, as predict gives it), the share whose outcome is positive (binary classifiers; NULL for others)';
COMMENT ON COLUMN pgscore.realised_performance_by_version.recall IS 'Of the positive outcomes, the share scored above the decision threshold, the metrics'' threshold (0.5 unless the model''s predict thresholds the score itself; a score equal to it is the negative class, as predict gives it) (binary classifiers; NULL for others)';
COMMENT ON COLUMN pgscore.realised_performance_by_version.brier IS 'Mean squared difference between the score and the 0/1 outcome (binary classifiers)';
COMMENT ON COLUMN pgscore.realised_performance_by_version.log_loss IS 'Mean negative log-likelihood of the outcome under the score (binary classifiers; scores clipped to [eps, 1-eps] as scikit-learn does)';
COMMENT ON COLUMN pgscore.realised_performance_by_version.mae IS 'Mean absolute error against the outcomes (regressors)';
COMMENT ON COLUMN pgscore.realised_performance_by_version.rmse IS 'Root mean squared error against the outcomes (regressors)';
COMMENT ON COLUMN pgscore.realised_performance_by_version.deploy_auc IS 'Hold-out AUC captured at deploy';
COMMENT ON COLUMN pgscore.realised_performance_by_version.deploy_accuracy IS 'Hold-out accuracy captured at deploy';
COMMENT ON COLUMN pgscore.realised_performance_by_version.deploy_brier IS 'Hold-out Brier score captured at deploy';
COMMENT ON COLUMN pgscore.realised_performance_by_version.deploy_log_loss IS 'Hold-out log loss captured at deploy';
COMMENT ON COLUMN pgscore.realised_performance_by_version.deploy_mae IS 'Hold-out mean absolute error captured at deploy';
COMMENT ON COLUMN pgscore.realised_performance_by_version.deploy_rmse IS 'Hold-out root mean squared error captured at deploy';
COMMENT ON COLUMN pgscore.realised_performance_by_version.deploy_precision IS 'Hold-out precision captured at deploy, at the decision threshold (binary classifiers)';
COMMENT ON COLUMN pgscore.realised_performance_by_version.deploy_recall IS 'Hold-out recall captured at deploy, at the decision threshold (binary classifiers)';
COMMENT ON COLUMN pgscore.realised_performance_by_version.status IS 'The worst level among the metrics against this version''s deploy metrics: alert, warn, ok; or insufficient_data, no_data, not_applicable';
COMMENT ON COLUMN pgscore.realised_performance_by_version.firing IS 'The metrics at warn or alert level, comma-separated';
COMMENT ON COLUMN pgscore.realised_performance_by_version.note IS 'What is missing or unusual, when something is';
COMMENT ON COLUMN pgscore.realised_performance_by_version.unmatched_outcomes IS 'Outcomes of the model that judge no prediction of this version (none logged for the entity before the outcome)';

REVOKE EXECUTE ON FUNCTION pgscore.drift_counts_of(bigint[], text, text), pgscore.drift_stats_of(bigint[], text),
    pgscore.performance_stats(boolean), pgscore.version_drift(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgscore.performance_stats(boolean), pgscore.version_drift(text, integer)
    TO pgscore_reader, pgscore_admin;
GRANT SELECT ON pgscore.realised_performance_by_version TO pgscore_reader;
GRANT SELECT ON pgscore.outcome_version_matches, pgscore.judged_predictions_by_version,
    pgscore.realised_performance_by_version TO pgscore_admin;
