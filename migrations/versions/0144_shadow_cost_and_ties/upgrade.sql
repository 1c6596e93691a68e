-- 0143 to 0144: pgscore.shadow_comparison sums each version's pairs from its own shadow rows (a filter on
-- shadow_model_id reaches the log); record_outcome and match_outcomes judge each version on its row of a
-- transaction's last statement (statement_at, then cmin, then ctid), not any row sharing logged_at
CREATE OR REPLACE VIEW pgscore.shadow_comparison AS
SELECT m.name AS model, m.version AS shadow_version, p.live_version,
       sv.model_id IS NOT NULL AS in_shadow, sv.since, coalesce(p.pairs, 0) AS pairs, p.first_at, p.last_at,
       coalesce(p.labelled_pairs, 0) AS labelled_pairs, p.label_agreement, coalesce(p.decisions_compared, 0)
       AS decisions_compared, coalesce(p.decisions_changed, 0) AS decisions_changed,
       p.decisions_changed::float8 / nullif(p.decisions_compared, 0) AS decisions_changed_share,
       p.mean_abs_diff, p.max_abs_diff,
       coalesce(f.statements, 0) AS failed_statements, coalesce(f.profiles, 0) AS failed_profiles,
       m.model_id AS shadow_model_id, p.live_model_id
  FROM pgscore.models m
  LEFT JOIN pgscore.shadow_versions sv ON sv.model_id = m.model_id
  LEFT JOIN LATERAL (
        SELECT sp.live_version, sp.live_model_id,
               count(*) AS pairs, min(sp.logged_at) AS first_at, max(sp.logged_at) AS last_at,
               count(*) FILTER (WHERE sp.live_label IS NOT NULL AND sp.shadow_label IS NOT NULL) AS labelled_pairs,
               avg((sp.live_label = sp.shadow_label)::integer::float8) AS label_agreement,
               count(sp.decision_changed) AS decisions_compared,
               count(*) FILTER (WHERE sp.decision_changed) AS decisions_changed,
               avg(sp.abs_diff) AS mean_abs_diff, max(sp.abs_diff) AS max_abs_diff
          FROM pgscore.shadow_pairs sp
         WHERE sp.shadow_model_id = m.model_id
         GROUP BY sp.live_version, sp.live_model_id) p ON true
  LEFT JOIN (SELECT sf.model_id, sum(sf.statements) AS statements, sum(sf.profiles) AS profiles
               FROM pgscore.shadow_failures sf GROUP BY sf.model_id) f ON f.model_id = m.model_id
 -- (a version with pairs, and a shadow that has scored nothing yet, or failed in every statement: pairs 0)
 WHERE p.pairs IS NOT NULL OR sv.model_id IS NOT NULL;

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
    -- never looked at (and every outcome on a rebuild): each in the whole log, newest first; the entity's
    -- predictions read by the entity's index alone, newest first, as record_outcome reads them (migration 0116)
    UPDATE pgscore.outcomes o
       SET judged_model_id = p.model_id, predicted_at = p.logged_at, judged_score = p.score,
           judged_label = p.label, judged_at = now()
      FROM pgscore.outcomes o2
      LEFT JOIN LATERAL (
            SELECT l.model_id, l.logged_at, l.score, l.label
              FROM pgscore.prediction_log l
              JOIN pgscore.models pm ON pm.model_id = l.model_id + 0
             WHERE l.entity_key = o2.entity_key AND l.logged_at <= o2.observed_at AND pm.name = o2.model_name
               AND l.source <> 'shadow'
             ORDER BY l.logged_at DESC, (jsonb_path_query_first(l.cause, '$.statement_at.datetime()', '{}', true) #>> '{}')::timestamptz DESC NULLS LAST, l.cmin::text::bigint DESC, l.ctid DESC
             LIMIT 1) p ON true
     WHERE o.outcome_id = o2.outcome_id AND (o2.judged_at IS NULL OR p_since = '-infinity')
       AND (o.judged_at IS NULL OR p.logged_at > coalesce(o.predicted_at, '-infinity'::timestamptz)
            -- (a rebuild corrects one judged on another statement of the same transaction: before 0144)
            OR (p_since = '-infinity' AND p.logged_at = o.predicted_at
                AND (p.model_id, p.score, p.label) IS DISTINCT FROM (o.judged_model_id, o.judged_score, o.judged_label)));
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    -- each version's own prediction, for the outcomes never looked at for it (recorded before
    -- outcome_version_matches was added; marked here in the same statement) and every outcome on a rebuild:
    -- each version's newest before the outcome (of one transaction's, its last statement's, as record_outcome
    -- takes it), in one read of the entity's predictions; only a newer prediction replaces the one a row holds
    -- (and, on a rebuild, another of the same transaction: one judged before 0144 on another statement's)
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
              FROM (SELECT l.model_id, l.logged_at, l.score, l.label, l.cause, l.cmin, l.ctid
                      FROM pgscore.prediction_log l
                     WHERE l.entity_key = o.entity_key AND l.logged_at <= o.observed_at
                    OFFSET 0) l
              JOIN pgscore.models pm ON pm.model_id = l.model_id
             WHERE pm.name = o.model_name
             ORDER BY l.model_id, l.logged_at DESC, (jsonb_path_query_first(l.cause, '$.statement_at.datetime()', '{}', true) #>> '{}')::timestamptz DESC NULLS LAST, l.cmin::text::bigint DESC, l.ctid DESC) p
    ON CONFLICT (outcome_id, model_id) DO UPDATE
       SET predicted_at = excluded.predicted_at, score = excluded.score, label = excluded.label, matched_at = now()
     WHERE excluded.predicted_at > vm.predicted_at
        OR (p_since = '-infinity' AND excluded.predicted_at = vm.predicted_at
            AND (excluded.score, excluded.label) IS DISTINCT FROM (vm.score, vm.label));
    IF p_since = '-infinity' THEN
        RETURN v_rows;
    END IF;
    -- observed since p_since: the predictions logged since then, joined as a set (not a probe of the log's
    -- partitions per outcome), each version's newest for each outcome, read once for both: where newer than
    -- the one a version's row holds, it replaces it (rows that would not change are left untouched, not
    -- locked), and the newest of all where newer than the one the outcome holds
    -- (each version's newest served and newest in shadow: the outcome judges the newest served, a version's
    -- row holds its newest of either; a shadow's prediction was never served)
    -- (of one transaction's rows, its last statement's: statement_at, then the command, as above)
    WITH p AS MATERIALIZED (
        SELECT DISTINCT ON (c.outcome_id, l.model_id, l.source <> 'shadow')
               c.outcome_id, l.model_id, l.logged_at, l.score, l.label, l.source <> 'shadow' AS served,
               (jsonb_path_query_first(l.cause, '$.statement_at.datetime()', '{}', true) #>> '{}')::timestamptz AS statement_at, l.cmin::text::bigint AS command, l.ctid
          FROM pgscore.outcomes c
          JOIN pgscore.models pm ON pm.name = c.model_name
          JOIN pgscore.prediction_log l ON l.model_id = pm.model_id AND l.entity_key = c.entity_key
                                       AND l.logged_at <= c.observed_at AND l.logged_at >= p_since
         WHERE c.observed_at >= p_since AND c.judged_at IS NOT NULL
         ORDER BY c.outcome_id, l.model_id, l.source <> 'shadow', l.logged_at DESC, (jsonb_path_query_first(l.cause, '$.statement_at.datetime()', '{}', true) #>> '{}')::timestamptz DESC NULLS LAST, l.cmin::text::bigint DESC, l.ctid DESC
    ),
    versions AS (
        INSERT INTO pgscore.outcome_version_matches AS vm (outcome_id, model_id, predicted_at, score, label)
        SELECT DISTINCT ON (p.outcome_id, p.model_id) p.outcome_id, p.model_id, p.logged_at, p.score, p.label
          FROM p
         WHERE NOT EXISTS (SELECT 1 FROM pgscore.outcome_version_matches e
                            WHERE e.outcome_id = p.outcome_id AND e.model_id = p.model_id
                              AND e.predicted_at >= p.logged_at)
         ORDER BY p.outcome_id, p.model_id, p.logged_at DESC, p.statement_at DESC NULLS LAST, p.command DESC,
                  p.ctid DESC
        ON CONFLICT (outcome_id, model_id) DO UPDATE
           SET predicted_at = excluded.predicted_at, score = excluded.score, label = excluded.label, matched_at = now()
         WHERE excluded.predicted_at > vm.predicted_at
    )
    UPDATE pgscore.outcomes o
       SET judged_model_id = n.model_id, predicted_at = n.logged_at, judged_score = n.score,
           judged_label = n.label, judged_at = now()
      FROM (SELECT DISTINCT ON (p.outcome_id) p.* FROM p WHERE p.served
             ORDER BY p.outcome_id, p.logged_at DESC, p.statement_at DESC NULLS LAST, p.command DESC, p.ctid DESC) n
     WHERE o.outcome_id = n.outcome_id AND n.logged_at > coalesce(o.predicted_at, '-infinity'::timestamptz);
    GET DIAGNOSTICS v_chunk = ROW_COUNT;
    RETURN v_rows + v_chunk;
END
$fn$;
COMMENT ON FUNCTION pgscore.match_outcomes(timestamptz) IS 'Internal: looks again for the prediction each outcome observed since p_since judges (the newest served of any version, never a shadow''s, and each version''s own, served or in shadow, in outcome_version_matches), among those logged since then, and for every outcome never looked at; refresh_monitoring calls it. Returns how many outcomes changed';

COMMENT ON COLUMN pgscore.realised_against_live.same_transaction IS 'Of them, those whose two judged predictions were logged in the same transaction (the same logged_at): the ones the metrics of this view judge. Each version is judged on its prediction of the transaction''s last statement it scored in (statement_at, then the command that wrote it; migration 0144): the same statement, on the same features, unless the shadow failed in the last one';
