-- 0110 to 0108: the messages as they were (record_outcome, version_drift, score_columns_read, detach_rescoring and
-- forget_rescoring as 0106's schema had them). Replaced in place: comments, owners and grants stay.

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
    IF v_judged.model_id IS NULL AND v_models IS NOT NULL THEN
        -- only versions scored in shadow logged one by then: the outcome judges theirs, per version (it said that
        -- no prediction was logged)
        RAISE NOTICE 'pgscore.record_outcome: no served prediction of "%" for entity "%" was logged at or before %: only version% % scored it, in shadow',
                p_model, p_entity_key, p_observed_at, CASE WHEN cardinality(v_models) > 1 THEN 's' ELSE '' END,
                (SELECT string_agg(m.version::text, ', ' ORDER BY m.version) FROM pgscore.models m
                  WHERE m.model_id = ANY (v_models))
            USING DETAIL = 'The outcome is kept and judges the shadow''s prediction per version (pgscore.outcome_version_matches, read by pgscore.realised_performance_by_version); it judges no served prediction, so pgscore.outcome_matches shows it unmatched and realised_performance leaves it out, until pgscore.refresh_monitoring finds a served one logged later (within its p_relook; a prediction scored in this transaction is logged at its commit).';
    ELSIF v_judged.model_id IS NULL THEN
        RAISE NOTICE 'pgscore.record_outcome: no prediction of "%" for entity "%" was logged at or before %', p_model, p_entity_key, p_observed_at
            USING DETAIL = 'The outcome is kept; it judges no prediction and pgscore.outcome_matches shows it unmatched, until pgscore.refresh_monitoring finds one logged later (within its p_relook; a prediction scored in this transaction is logged at its commit).';
    END IF;
    RETURN v_id;
END
$fn$;

CREATE OR REPLACE FUNCTION pgscore.version_drift(p_model text, p_version integer)
RETURNS TABLE (model text, version integer, live boolean, kind text, feature text, window_name text, n bigint,
               psi float8, ks float8, js float8, mean float8, baseline_mean float8, mean_shift float8,
               null_rate float8, baseline_null_rate float8, out_of_range float8, status text, firing text,
               note text, checks jsonb)
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
           r.mean_shift, r.null_rate, r.baseline_null_rate, r.out_of_range, r.status, r.firing, r.note, r.checks
      FROM (SELECT s.name, s.version, s.kind, s.feature, s.position, s.period, s.sort_order, s.n, s.psi, s.ks, s.js,
                   s.mean, s.baseline_mean, s.mean_shift, s.null_rate, s.baseline_null_rate, s.out_of_range,
                   s.status, s.firing, s.checks,
                   -- as drift_report notes them
                   CASE WHEN s.empty_baseline THEN 'the baseline holds no values (all NULL at training)'
                        WHEN s.n = 0 THEN 'no predictions of this version in this window'
                        WHEN s.status = 'insufficient_data' THEN format('%s values, fewer than the %s needed', s.n, s.min_n)
                        WHEN s.constant_baseline THEN 'constant in the baseline: mean shift undefined, any other value is out of range'
                   END AS note
              FROM pgscore.drift_stats_of(ARRAY[v_id], 'window') s
            UNION ALL
            SELECT m.name, m.version, k.kind, NULL, NULL, w.window_name, w.sort_order, NULL, NULL, NULL, NULL,
                   NULL, NULL, NULL, NULL, NULL, NULL, 'no_baseline', NULL, NULL,
                   'deployed without training data, so there is no baseline: redeploy with --train (or X) to monitor drift'
              FROM pgscore.models m
             CROSS JOIN (VALUES ('feature'), ('score')) k(kind)
             CROSS JOIN pgscore.drift_windows w
             WHERE m.model_id = v_id
               AND NOT EXISTS (SELECT 1 FROM pgscore.baselines b WHERE b.model_id = m.model_id AND b.kind = k.kind)) r
     ORDER BY r.kind = 'score', r.position, r.sort_order;
END
$fn$;

CREATE OR REPLACE FUNCTION pgscore.score_columns_read(p_model_id bigint, p_rescoring_id bigint DEFAULT NULL)
RETURNS TABLE (rescoring_id bigint, profile_table text, event_table text, what text, column_name name, said text)
LANGUAGE plpgsql
STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_name text;
    v_features text[];
BEGIN
    IF p_model_id IS NULL THEN
        RAISE EXCEPTION 'pgscore.score_columns_read: model_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT m.name, m.feature_names INTO v_name, v_features FROM pgscore.models m WHERE m.model_id = p_model_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'pgscore.score_columns_read: there is no model_id %', p_model_id
            USING ERRCODE = 'undefined_object',
                  HINT = 'list the versions and their model_id with: SELECT * FROM pgscore.model_versions';
    END IF;
    IF p_rescoring_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM pgscore.rescoring w WHERE w.rescoring_id = p_rescoring_id AND w.model_name = v_name) THEN
        RAISE EXCEPTION 'pgscore.score_columns_read: there is no wiring % that rescores with %', p_rescoring_id,
                quote_literal(v_name)
            USING ERRCODE = 'undefined_object',
                  HINT = 'list the wirings with: SELECT rescoring_id, event_table, profile_table, model_name FROM pgscore.rescoring';
    END IF;
    RETURN QUERY
        SELECT w.rescoring_id, w.profile_table, w.event_table, c.what, c.col,
               format('%s.%s (the %s column %s rescores into)', w.profile_table, c.col, c.what, w.event_table)
          FROM pgscore.rescoring w
         CROSS JOIN LATERAL (VALUES ('score', w.score_column), ('scored_at', w.scored_at_column)) AS c(what, col)
         WHERE w.model_name = v_name AND to_regclass(w.profile_table) IS NOT NULL
           AND CASE WHEN p_rescoring_id IS NULL
                    THEN EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgname = w.trigger_name AND NOT t.tgisinternal)
                    ELSE w.rescoring_id = p_rescoring_id END
           AND c.col = ANY (v_features)
           AND NOT (coalesce(w.counters, '{}'::jsonb) = '{}'::jsonb
                    AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = to_regclass(w.profile_table)
                                   AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = 'features'
                                   AND a.atttypid = 'float8[]'::regtype))
         ORDER BY 2, 3, 4;
END
$fn$;

CREATE OR REPLACE FUNCTION pgscore.detach_rescoring(p_event_table regclass, p_profile_table regclass DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r record;
    v_n integer := 0;
    v_missing text;
    v_held bigint;
    v_profiles bigint;
BEGIN
    IF p_event_table IS NULL THEN
        RAISE EXCEPTION 'pgscore.detach_rescoring: the event table is NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- an oid cast to regclass is not checked: it would read as "- is not wired" (regclass prints 0 as -)
    v_missing := CASE WHEN NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = p_event_table) THEN 'event'
                      WHEN p_profile_table IS NOT NULL
                           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = p_profile_table) THEN 'profile'
                 END;
    IF v_missing IS NOT NULL THEN
        RAISE EXCEPTION 'pgscore.detach_rescoring: there is no relation with oid % (the % table)',
              CASE v_missing WHEN 'event' THEN p_event_table::oid ELSE p_profile_table::oid END, v_missing
            USING ERRCODE = 'undefined_table',
                  HINT = 'name the table, as ''schema.table''::regclass does; a wiring whose table was dropped is removed with pgscore.forget_rescoring(rescoring_id) (SELECT * FROM pgscore.rescoring lists them)';
    END IF;
    FOR r IN SELECT w.rescoring_id, w.trigger_name, w.replication_trigger, w.event_table, w.profile_table,
                    -- the table its trigger is on: this one, or the one that had its name, since renamed
                    (SELECT t.tgrelid::regclass FROM pg_catalog.pg_trigger t
                      WHERE t.tgname = w.trigger_name AND t.tgfoid = 'pgscore.rescore_events()'::regprocedure
                      ORDER BY t.tgrelid = p_event_table DESC LIMIT 1) AS on_table,
                    -- and its row trigger for replicated rows, where it has one
                    (SELECT t.tgrelid::regclass FROM pg_catalog.pg_trigger t
                      WHERE t.tgname = w.replication_trigger AND t.tgfoid = 'pgscore.rescore_replicated()'::regprocedure
                      ORDER BY t.tgrelid = p_event_table DESC LIMIT 1) AS replicated_on,
                    -- and the constraint trigger that rescores the rows staged by it at the commit
                    w.replication_trigger || '_commit' AS commit_trigger,
                    (SELECT t.tgrelid::regclass FROM pg_catalog.pg_trigger t
                      WHERE t.tgname = w.replication_trigger || '_commit'
                        AND t.tgfoid = 'pgscore.rescore_replicated()'::regprocedure
                      ORDER BY t.tgrelid = p_event_table DESC LIMIT 1) AS commit_on
               FROM pgscore.rescoring w
              -- by name, or by its trigger on this table when the table it names has no such trigger (the
              -- table was renamed since; not a trigger of the same name restored on another table)
              WHERE (w.event_table = p_event_table::text
                     OR (w.trigger_name IN (SELECT t.tgname FROM pg_catalog.pg_trigger t WHERE t.tgrelid = p_event_table)
                         AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t
                                          WHERE t.tgrelid = to_regclass(w.event_table) AND t.tgname = w.trigger_name)))
                AND (p_profile_table IS NULL OR w.profile_table = p_profile_table::text)
              ORDER BY w.rescoring_id
    LOOP
        -- the row first, in rescoring_id order: its DELETE is the lock a concurrent detach or forget waits on (a
        -- SELECT ... FOR UPDATE took UPDATE on pgscore.rescoring, which pgscore_admin holds no more: migration 0082),
        -- and one that removed it meanwhile leaves nothing to remove
        DELETE FROM pgscore.rescoring w WHERE w.rescoring_id = r.rescoring_id;
        CONTINUE WHEN NOT FOUND;
        IF r.on_table IS NOT NULL THEN  -- (dropped by hand, it is gone already)
            EXECUTE format('DROP TRIGGER %I ON %s', r.trigger_name, r.on_table);
        END IF;
        IF r.replicated_on IS NOT NULL THEN
            EXECUTE format('DROP TRIGGER %I ON %s', r.replication_trigger, r.replicated_on);
        END IF;
        IF r.commit_on IS NOT NULL THEN
            EXECUTE format('DROP TRIGGER %I ON %s', r.commit_trigger, r.commit_on);
        END IF;
        -- the replicated events a two_phase subscription held back for it (pgscore.replicated_pending): nothing
        -- would count them once the wiring is gone (retry_failed folds those of the wirings there are), and
        -- pgscore status would count them for ever; deleted with it, saying so
        WITH d AS (DELETE FROM pgscore.replicated_pending q WHERE q.rescoring_id = r.rescoring_id RETURNING q.entity_key)
        SELECT count(*), count(DISTINCT d.entity_key) INTO v_held, v_profiles FROM d;
        IF v_held > 0 THEN
            RAISE WARNING 'pgscore.detach_rescoring: % replicated event(s) of % profile(s) of % held back by a two_phase subscription (pgscore.replicated_pending) were deleted with rescoring % of %, not counted',
                  v_held, v_profiles, r.profile_table, r.rescoring_id, r.event_table
                USING HINT = 'their profiles'' counters and scores lack them; to count them, run SELECT * FROM pgscore.retry_failed() before removing a wiring (it counts those no prepared transaction holds: pg_prepared_xacts)';
        END IF;
        v_n := v_n + 1;
    END LOOP;
    -- triggers of pgscore's on this table that no wiring owns (a dump of the table restored without
    -- pgscore.rescoring's rows): they rescore nothing and warn at every INSERT (not when one profile
    -- table's wiring is asked for: that call says whether it was there)
    FOR r IN SELECT t.tgname FROM pg_catalog.pg_trigger t
              WHERE p_profile_table IS NULL
                AND t.tgrelid = p_event_table
                AND t.tgfoid IN ('pgscore.rescore_events()'::regprocedure, 'pgscore.rescore_replicated()'::regprocedure)
                AND NOT EXISTS (SELECT 1 FROM pgscore.rescoring w
                                 WHERE t.tgname IN (w.trigger_name, w.replication_trigger, w.replication_trigger || '_commit')
                                   AND (to_regclass(w.event_table) = p_event_table
                                        OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger o
                                                        WHERE o.tgrelid = to_regclass(w.event_table)
                                                          AND o.tgname = t.tgname)))
              ORDER BY t.tgname
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', r.tgname, p_event_table);
        RAISE NOTICE 'pgscore.detach_rescoring: dropped trigger % on %, which belonged to no wiring', r.tgname, p_event_table;
        v_n := v_n + 1;
    END LOOP;
    IF v_n = 0 THEN
        RAISE EXCEPTION '% is not wired for rescoring%', p_event_table,
              CASE WHEN p_profile_table IS NULL THEN '' ELSE ' to ' || p_profile_table::text END
            USING ERRCODE = 'undefined_object', HINT = 'list wirings with: SELECT * FROM pgscore.rescoring';
    END IF;
    RETURN v_n;
END
$fn$;

CREATE OR REPLACE FUNCTION pgscore.forget_rescoring(p_rescoring_id bigint)
RETURNS void
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_on regclass;
    v_held bigint;
    v_profiles bigint;
    v_event text;
    v_profile text;
    v_trigger name;
    v_replication_trigger name;
BEGIN
    IF p_rescoring_id IS NULL THEN
        RAISE EXCEPTION 'pgscore.forget_rescoring: the rescoring_id is NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- deleted first: the DELETE is the row's lock (a SELECT ... FOR UPDATE took UPDATE on pgscore.rescoring, which
    -- pgscore_admin holds no more: migration 0082); an error below undoes it with the rest
    DELETE FROM pgscore.rescoring w WHERE w.rescoring_id = p_rescoring_id
    RETURNING w.event_table, w.profile_table, w.trigger_name, w.replication_trigger
         INTO v_event, v_profile, v_trigger, v_replication_trigger;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'there is no rescoring %', p_rescoring_id
            USING ERRCODE = 'undefined_object', HINT = 'list wirings with: SELECT * FROM pgscore.rescoring';
    END IF;
    SELECT t.tgrelid::regclass INTO v_on FROM pg_catalog.pg_trigger t
     WHERE (t.tgname = v_trigger AND t.tgfoid = 'pgscore.rescore_events()'::regprocedure)
        OR (t.tgname = v_replication_trigger AND t.tgfoid = 'pgscore.rescore_replicated()'::regprocedure)
     LIMIT 1;
    IF v_on IS NOT NULL THEN
        RAISE EXCEPTION 'rescoring % still has its trigger, on %', p_rescoring_id, v_on
            USING ERRCODE = 'object_in_use',
                  HINT = format('detach it with: SELECT pgscore.detach_rescoring(%L)', v_on::text);
    END IF;
    -- the replicated events a two_phase subscription held back for it (pgscore.replicated_pending): nothing
    -- would count them once the wiring is gone (retry_failed folds those of the wirings there are), and
    -- pgscore status would count them for ever; deleted with it, saying so
    WITH d AS (DELETE FROM pgscore.replicated_pending q WHERE q.rescoring_id = p_rescoring_id RETURNING q.entity_key)
    SELECT count(*), count(DISTINCT d.entity_key) INTO v_held, v_profiles FROM d;
    IF v_held > 0 THEN
        RAISE WARNING 'pgscore.forget_rescoring: % replicated event(s) of % profile(s) of % held back by a two_phase subscription (pgscore.replicated_pending) were deleted with rescoring % of %, not counted',
              v_held, v_profiles, v_profile, p_rescoring_id, v_event
            USING HINT = 'their profiles'' counters and scores lack them; to count them, run SELECT * FROM pgscore.retry_failed() before removing a wiring (it counts those no prepared transaction holds: pg_prepared_xacts)';
    END IF;
END
$fn$;
