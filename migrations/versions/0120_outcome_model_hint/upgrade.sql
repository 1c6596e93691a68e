-- 0119 to 0120: record_outcome and version_drift say an unknown model in scoring's words and with its hint:
-- "there is no model 'teir'", HINT "a typo for 'tier'? Else list models with: SELECT * FROM pgscore.model_versions"
-- (they said "model 'teir' does not exist", and named no near model). The hint is scoring's own, through the new
-- internal pgscore.model_name_hint (executable by its owner alone: both callers are SECURITY DEFINER). The SQLSTATE
-- stays 42704 (undefined_object). record_outcome's other overloads call the text one.
-- The two functions are replaced in place, their comments unchanged and not set again: a DBA's own comment on
-- either stays (test_migrations test_0097_keeps_version_drift_..., which a COMMENT here failed).

CREATE FUNCTION pgscore.model_name_hint(p_name text) RETURNS text
LANGUAGE plpython3u
STABLE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $pl$
try:
    from pgscore.pl import model_name_hint
except ImportError as e:  # a server started without pgscore's environment
    plpy.error("pgscore cannot be imported by the database's Python: %s" % e, sqlstate="58P01",
               hint="restart the server with PYTHONPATH naming the site-packages directory of the environment pgscore was installed into with the server's own Python, not the venv itself (any pgscore command of that environment prints the exact value; README, 'Installing into an existing server'), then SELECT pgscore.validate_environment()")
return model_name_hint(plpy, p_name)
$pl$;
COMMENT ON FUNCTION pgscore.model_name_hint(text) IS 'Internal: the hint of an unknown model''s error, the model it looks like a typo for, as scoring gives it';
REVOKE EXECUTE ON FUNCTION pgscore.model_name_hint(text) FROM PUBLIC;

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
    -- entity many models score is not read whole (a subquery with OFFSET 0 read and sorted all its rows)
    SELECT l.model_id, l.logged_at, l.score, l.label INTO v_judged
      FROM pgscore.prediction_log l JOIN pgscore.models m ON m.model_id = l.model_id + 0
     WHERE l.entity_key = p_entity_key AND l.logged_at <= p_observed_at AND m.name = p_model
       AND l.source <> 'shadow'  -- (a shadow's prediction was never served)
     ORDER BY l.logged_at DESC
     LIMIT 1;
    -- the prediction each version of the model made of the entity last by then, served or in shadow, kept in
    -- outcome_version_matches (pgscore.match_outcomes finds them for a prediction logged later)
    SELECT array_agg(p.model_id), array_agg(p.logged_at), array_agg(p.score), array_agg(p.label)
      INTO v_models, v_times, v_scores, v_labels
      FROM (SELECT DISTINCT ON (l.model_id) l.model_id, l.logged_at, l.score, l.label
              FROM (SELECT l.model_id, l.logged_at, l.score, l.label
                      FROM pgscore.prediction_log l
                     WHERE l.entity_key = p_entity_key AND l.logged_at <= p_observed_at
                    OFFSET 0) l
              JOIN pgscore.models m ON m.model_id = l.model_id
             WHERE m.name = p_model
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
            -- (migration 0120: in scoring's words, with its hint; it said "model 'teir' does not exist")
            RAISE EXCEPTION 'pgscore.version_drift: there is no model %', quote_literal(p_model)
                USING ERRCODE = 'undefined_object', HINT = pgscore.model_name_hint(p_model);
        END IF;
        RAISE EXCEPTION 'pgscore.version_drift: model % has no version %', quote_literal(p_model), p_version
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
