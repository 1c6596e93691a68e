-- 0068 to 0067: pgscore.count_shadow_failure counts nothing again where both its advisory locks are held, whoever
-- holds them; pgscore.set_shadow compares the count of the features a float8[] column holds alone;
-- pgscore.alert_state records no shadow.
CREATE OR REPLACE FUNCTION pgscore.count_shadow_failure(p_model_id bigint, p_relation text, p_sqlstate text, p_profiles bigint,
                                             p_message text)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_row integer;
BEGIN
    IF p_model_id IS NULL OR p_relation IS NULL OR p_sqlstate IS NULL OR p_profiles IS NULL OR p_message IS NULL THEN
        RAISE EXCEPTION 'pgscore.count_shadow_failure: model_id, relation, sqlstate, profiles and message must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF p_profiles < 0 THEN
        RAISE EXCEPTION 'pgscore.count_shadow_failure: the profiles or rows of % that model_id % did not score must not be negative, got %',
                p_relation, p_model_id, p_profiles
            USING ERRCODE = 'invalid_parameter_value', HINT = 'a count of failures only grows: give how many it did not score';
    END IF;
    IF p_sqlstate !~ '^[0-9A-Z]{5}$' THEN
        RAISE EXCEPTION 'pgscore.count_shadow_failure: % is not a SQLSTATE (the failure of model_id % in %)',
                quote_literal(p_sqlstate), p_model_id, p_relation
            USING ERRCODE = 'invalid_parameter_value', HINT = 'give the five characters of the error''s SQLSTATE, 38000 where the model raised';
    END IF;
    -- shadow_versions' rule for this one version (its newest mark a start, and no go-live of it since), read
    -- from the tables: the view's DISTINCT ON over every mark cost this path twice as much
    IF NOT EXISTS (SELECT 1 FROM (SELECT s.model_name, s.action, s.since_deployment FROM pgscore.shadows s
                                   WHERE s.model_id = p_model_id ORDER BY s.shadow_id DESC LIMIT 1) s
                    WHERE s.action = 'start'
                      AND NOT EXISTS (SELECT 1 FROM pgscore.deployments d
                                       WHERE d.model_name = s.model_name AND d.model_id = p_model_id
                                         AND d.deployment_id > coalesce(s.since_deployment, 0) AND d.action <> 'retire')) THEN
        RETURN false;
    END IF;
    -- this backend's row, else its second, whose lock no transaction it PREPAREd holds (the lock and the row go to
    -- the prepared transaction until COMMIT PREPARED: waiting for it never ended); both held: nothing counted
    IF pg_try_advisory_xact_lock(hashtext('pgscore.shadow_failures'), pg_backend_pid()) THEN
        v_row := pg_backend_pid();
    ELSIF pg_try_advisory_xact_lock(hashtext('pgscore.shadow_failures'), -pg_backend_pid()) THEN
        v_row := -pg_backend_pid();
    ELSE
        RETURN NULL;
    END IF;
    INSERT INTO pgscore.shadow_failures AS f (model_id, relation, sqlstate, backend_pid, statements, profiles, first_at,
                                              last_at, last_message)
    VALUES (p_model_id, p_relation, p_sqlstate, v_row, 1, p_profiles, clock_timestamp(), clock_timestamp(),
            p_message)
    ON CONFLICT (model_id, relation, sqlstate, backend_pid) DO UPDATE
       SET statements = f.statements + 1, profiles = f.profiles + EXCLUDED.profiles, last_at = EXCLUDED.last_at,
           last_message = EXCLUDED.last_message;
    RETURN true;
END
$fn$;
COMMENT ON FUNCTION pgscore.count_shadow_failure(bigint, text, text, bigint, text) IS 'Internal: count a statement or chunk in which a version scored in shadow did not score (this backend''s row of pgscore.shadow_failures, its second while a transaction it prepared holds the first); false, nothing counted, for a version that is no shadow now; NULL, nothing counted, where transactions it prepared hold both rows';
CREATE OR REPLACE FUNCTION pgscore.set_shadow(p_name text, p_version integer, p_reason text DEFAULT NULL,
                                   p_force boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET pgscore.allow_version_mismatch = off
AS $fn$
DECLARE
    v_model_id bigint;
    v_live record;
    v_refusal text;
    v_fix text;
    v_n integer := 0;
    v_first record;
    r record;
BEGIN
    IF p_name IS NULL OR p_version IS NULL OR p_force IS NULL THEN
        RAISE EXCEPTION 'pgscore.set_shadow: model name, version and p_force must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- one change at a time per model (as register_model, activate, rollback and retire take it): the live
    -- version read below is the one this shadow will be scored next to
    INSERT INTO pgscore.model_locks AS l (name) VALUES (p_name)
        ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name;
    IF NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_name) THEN
        RAISE EXCEPTION 'there is no model %', quote_literal(p_name) USING ERRCODE = 'undefined_object',
            HINT = 'list models with: SELECT * FROM pgscore.model_versions';
    END IF;
    SELECT m.model_id INTO v_model_id FROM pgscore.models m WHERE m.name = p_name AND m.version = p_version;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'there is no version % of model %', p_version, quote_literal(p_name)
            USING ERRCODE = 'undefined_object', HINT = 'deploy it first: pgscore deploy --no-activate';
    END IF;
    SELECT d.deployment_id, d.model_id, d.action, m.version INTO v_live
      FROM pgscore.deployments d JOIN pgscore.models m ON m.model_id = d.model_id
     WHERE d.model_name = p_name ORDER BY d.deployment_id DESC LIMIT 1;
    IF NOT FOUND OR v_live.action = 'retire' THEN
        RAISE EXCEPTION 'model % has no live version%: a shadow is scored next to the live one, where that one''s scores are written',
                quote_literal(p_name), CASE WHEN FOUND THEN ' (it was retired)' ELSE '' END
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'activate a version first: pgscore.activate(name, version)';
    END IF;
    IF v_live.model_id = v_model_id THEN
        RAISE EXCEPTION 'version % of % is its live version: it cannot be its own shadow', p_version, quote_literal(p_name)
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'name a version that is not live (SELECT version, live FROM pgscore.model_versions WHERE name = ...)';
    END IF;
    IF EXISTS (SELECT 1 FROM pgscore.shadow_versions s WHERE s.name = p_name AND s.model_id = v_model_id) THEN
        RAISE NOTICE 'version % of % is a shadow already: nothing was changed', p_version, quote_literal(p_name);
        RETURN v_model_id;
    END IF;
    -- p_force (pgscore shadow --force) skips the two checks below, as activate's skips its load: a shadow
    -- they would refuse scores where it can, and its failures elsewhere are counted (pgscore.shadow_failures)
    IF NOT p_force THEN
        -- a version this server cannot load (unsigned where it signs, written with other library versions, damaged)
        -- would fail at every statement it shadows: refused now, with the loader's own reason (the override off,
        -- whatever this session set: the function's SET, as activate's; other sessions score it)
        v_refusal := format('version %s of %s cannot be loaded by this server, so it cannot shadow version %s: ',
                            p_version, quote_literal(p_name), v_live.version);
        v_fix := format('to set it anyway (it scores nothing while this server cannot load it): '
                        'pgscore.set_shadow(%L, %s, p_force => true) (pgscore shadow %s %s --force)',
                        p_name, p_version, p_name, p_version);
        PERFORM pgscore.load_or_refuse(v_model_id, v_refusal, v_fix);
        -- every table wired to rescore with the name must feed it, as check_live_version_fed asks of a live version:
        -- a profile table without one of its features, or whose float8[] column features (which the shadow reads
        -- where there is one) holds the live version's features, read from it too (no counters), and another
        -- count, would have every INSERT into the event table score nothing in shadow. Wirings whose trigger or
        -- profile table is gone feed nothing and block nothing
        FOR r IN
            WITH w AS (
                SELECT w.profile_table, w.event_table, w.counters,
                       EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = to_regclass(w.profile_table)
                                  AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = 'features'
                                  AND a.atttypid = 'float8[]'::regtype) AS has_array
                  FROM pgscore.rescoring w
                 WHERE w.model_name = p_name AND to_regclass(w.profile_table) IS NOT NULL
                   AND EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgname = w.trigger_name AND NOT t.tgisinternal))
            SELECT w.profile_table, w.event_table,
                   array_to_string(ARRAY(SELECT quote_literal(f.name)
                                           FROM unnest(m.feature_names) WITH ORDINALITY AS f(name, i)
                                          WHERE NOT w.has_array
                                            AND NOT EXISTS (SELECT 1 FROM pg_attribute a
                                                             WHERE a.attrelid = to_regclass(w.profile_table)
                                                               AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = f.name)
                                          ORDER BY f.i), ', ') AS missing,
                   CASE WHEN w.has_array AND coalesce(w.counters, '{}'::jsonb) = '{}'::jsonb
                             AND cardinality(m.feature_names) <> cardinality(l.feature_names)
                        THEN format('its float8[] column features holds the %s features of live version %s, and version %s has %s',
                                    cardinality(l.feature_names), v_live.version, p_version, cardinality(m.feature_names))
                   END AS miscounted
              FROM w
              JOIN pgscore.models m ON m.model_id = v_model_id
              JOIN pgscore.models l ON l.model_id = v_live.model_id
             ORDER BY 1, 2
        LOOP
            IF r.missing <> '' OR r.miscounted IS NOT NULL THEN
                v_n := v_n + 1;
                IF v_n = 1 THEN
                    v_first := r;
                END IF;
            END IF;
        END LOOP;
        IF v_n > 0 THEN
            RAISE EXCEPTION 'version % of % cannot shadow version %: %, which % rescores with %, %; every INSERT into % would score nothing in shadow',
                    p_version, quote_literal(p_name), v_live.version, v_first.profile_table, v_first.event_table,
                    quote_literal(p_name), CASE WHEN v_first.missing <> '' THEN 'has no column ' || v_first.missing
                                                ELSE v_first.miscounted END, v_first.event_table
                USING ERRCODE = CASE WHEN v_first.missing <> '' THEN 'undefined_column' ELSE 'object_not_in_prerequisite_state' END,
                      DETAIL = format('%s wiring(s) affected', v_n),
                      HINT = format('add the feature column(s) to the profile table first, then set the shadow again; or detach '
                                    'the wiring (pgscore.detach_rescoring); or set it anyway, to score where it can '
                                    '(pgscore score of a table that has them) with the others counted as failures: '
                                    'pgscore.set_shadow(%L, %s, p_force => true) (pgscore shadow %s %s --force)',
                                    p_name, p_version, p_name, p_version);
        END IF;
    END IF;
    -- failures counted in an earlier spell as a shadow are not this one's; a row a session is counting into now
    -- (its transaction open) is left, never waited for: that session may wait for this one's next, on another of
    -- its rows, and a deadlock would fail its INSERT (0062)
    DELETE FROM pgscore.shadow_failures f
     WHERE f.ctid = ANY (ARRAY(SELECT x.ctid FROM pgscore.shadow_failures x WHERE x.model_id = v_model_id
                                 FOR UPDATE SKIP LOCKED));
    -- changed_by: the caller's role (this function runs as its owner, whom current_user names), as record_outcome
    INSERT INTO pgscore.shadows (model_name, model_id, action, since_deployment, reason, changed_by)
    VALUES (p_name, v_model_id, 'start', v_live.deployment_id, p_reason,
            coalesce(nullif(current_setting('role'), 'none'), session_user));
    RETURN v_model_id;
END
$fn$;
COMMENT ON FUNCTION pgscore.set_shadow(text, integer, text, boolean) IS 'Score a version that is not live in shadow: next to the live one wherever that one''s scores are written (rescoring trigger, score_table), logged with source ''shadow'', never served (appends to pgscore.shadows); returns its model_id. Refused where this server cannot load it or a wired profile table cannot feed it, unless p_force';
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
ALTER TABLE pgscore.alert_state DROP COLUMN shadow;
