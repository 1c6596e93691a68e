-- 0186's downgrade: the functions' text before 0186 again (the hints' plain =)

CREATE OR REPLACE FUNCTION pgscore.silence_alerts(p_model text, p_for interval, p_reason text, p_what text DEFAULT NULL,
                                       p_subject text DEFAULT NULL, p_metric text DEFAULT NULL,
                                       p_window text DEFAULT NULL, p_shadow boolean DEFAULT NULL,
                                       p_starts_at timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_id bigint;
BEGIN
    -- (session 66) a standby, or a read-only transaction, refuses its writes: said so, with where to run it, as
    -- record_outcome since 0154 (it was PostgreSQL's bare 25006, no hint)
    IF current_setting('transaction_read_only') = 'on' THEN
        PERFORM pgscore.refuse_read_only('pgscore.silence_alerts writes pgscore.alert_silences');
    END IF;
    IF p_model IS NULL OR p_for IS NULL OR p_reason IS NULL OR p_starts_at IS NULL THEN
        RAISE EXCEPTION 'pgscore.silence_alerts: p_model, p_for, p_reason and p_starts_at must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_model) THEN
        RAISE EXCEPTION 'there is no model %', quote_literal(p_model) USING ERRCODE = 'undefined_object',
            HINT = pgscore.model_name_hint(p_model);
    END IF;
    IF btrim(p_reason) = '' THEN
        RAISE EXCEPTION 'pgscore.silence_alerts: p_reason is blank: say why (the incident, ticket or fix under way)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- (judged by the time they span from p_starts_at: '3 months' compares equal to '90 days' as intervals, and
    -- '1 mon -30 days' is neither positive nor negative until added to a date)
    IF p_starts_at + p_for <= p_starts_at THEN
        RAISE EXCEPTION 'pgscore.silence_alerts: p_for must be a positive interval, got %', p_for
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- (a silence is not a way to switch monitoring off: a metric too sensitive for good has its thresholds)
    IF p_starts_at + p_for > p_starts_at + interval '90 days' THEN
        RAISE EXCEPTION 'pgscore.silence_alerts: p_for must be at most 90 days, got %', p_for
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'silence again when it ends, or change the metric''s thresholds: the model''s with '
                         'pgscore.set_thresholds, every model''s in pgscore.drift_thresholds';
    END IF;
    IF p_what IS NOT NULL AND p_what NOT IN ('feature', 'score', 'performance', 'class') THEN
        RAISE EXCEPTION 'pgscore.silence_alerts: p_what must be feature, score, performance or class (as '
                        'pgscore.alerts.what), or NULL for any; got %', quote_literal(p_what)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_subject IS NOT NULL AND p_subject NOT IN ('outcomes', 'outcomes by recorded time', 'mix')
       AND NOT EXISTS (SELECT 1 FROM pgscore.baselines b JOIN pgscore.models m ON m.model_id = b.model_id
                        WHERE m.name = p_model AND b.feature = p_subject) THEN
        -- (a subject no condition of the model has, its case wrong or a typo, would mute nothing, silently)
        RAISE EXCEPTION 'pgscore.silence_alerts: p_subject % is not a subject of model %: a feature or the score of '
                        'its baselines, outcomes, outcomes by recorded time or mix (as pgscore.alerts.subject), or '
                        'NULL for any', quote_literal(p_subject), quote_literal(p_model)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = coalesce((SELECT 'a typo for ' || string_agg(DISTINCT quote_literal(b.feature), ' or ') || '?'
                                     FROM pgscore.baselines b JOIN pgscore.models m ON m.model_id = b.model_id
                                    WHERE m.name = p_model AND lower(b.feature) = lower(p_subject)),
                                  'list them with: SELECT DISTINCT feature FROM pgscore.baselines JOIN pgscore.models '
                                  'USING (model_id) WHERE name = ' || quote_literal(p_model));
    END IF;
    IF p_window IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pgscore.drift_windows w WHERE w.window_name = p_window) THEN
        RAISE EXCEPTION 'pgscore.silence_alerts: p_window % is not a window of pgscore.drift_windows (%), or NULL '
                        'for any', quote_literal(p_window),
                        (SELECT string_agg(quote_literal(w.window_name), ', ' ORDER BY w.sort_order, w.window_name)
                           FROM pgscore.drift_windows w)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_metric IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pgscore.drift_thresholds t WHERE t.metric = p_metric) THEN
        RAISE EXCEPTION 'pgscore.silence_alerts: p_metric % is not a metric of pgscore.drift_thresholds (%), or '
                        'NULL for any', quote_literal(p_metric),
                        (SELECT string_agg(t.metric, ', ' ORDER BY t.metric) FROM pgscore.drift_thresholds t)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO pgscore.alert_silences (model, what, subject, metric, window_name, shadow, starts_at, ends_at, reason)
    VALUES (p_model, p_what, p_subject, p_metric, p_window, p_shadow, p_starts_at, p_starts_at + p_for, p_reason)
    RETURNING id INTO v_id;
    RETURN v_id;
END
$fn$;

CREATE OR REPLACE FUNCTION pgscore.set_thresholds(p_model text, p_metric text, p_warn float8 DEFAULT NULL,
                                       p_alert float8 DEFAULT NULL, p_min_n integer DEFAULT NULL,
                                       p_confidence float8 DEFAULT NULL, p_subject text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_warn  float8;
    v_alert float8;
BEGIN
    -- (session 66) a standby, or a read-only transaction, refuses its writes: said so, with where to run it, as
    -- record_outcome since 0154 (it was PostgreSQL's bare 25006, no hint)
    IF current_setting('transaction_read_only') = 'on' THEN
        PERFORM pgscore.refuse_read_only('pgscore.set_thresholds writes pgscore.drift_threshold_overrides');
    END IF;
    IF p_model IS NULL OR p_metric IS NULL THEN
        RAISE EXCEPTION 'pgscore.set_thresholds: p_model and p_metric must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_model) THEN
        RAISE EXCEPTION 'there is no model %', quote_literal(p_model) USING ERRCODE = 'undefined_object',
            HINT = pgscore.model_name_hint(p_model);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pgscore.drift_thresholds t WHERE t.metric = p_metric) THEN
        RAISE EXCEPTION 'pgscore.set_thresholds: p_metric % is not a metric of pgscore.drift_thresholds (%)',
                        quote_literal(p_metric),
                        (SELECT string_agg(t.metric, ', ' ORDER BY t.metric) FROM pgscore.drift_thresholds t)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_subject IS NOT NULL AND p_metric NOT IN ('psi', 'ks', 'js', 'mean_shift', 'null_rate', 'out_of_range') THEN
        RAISE EXCEPTION 'pgscore.set_thresholds: % is judged per model, not per feature: p_subject must be NULL',
                        p_metric
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'a subject narrows a drift metric (psi, ks, js, mean_shift, null_rate, out_of_range) to one '
                         'feature or the score';
    END IF;
    IF p_subject IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM pgscore.baselines b JOIN pgscore.models m ON m.model_id = b.model_id
                        WHERE m.name = p_model AND b.kind IN ('feature', 'score') AND b.feature = p_subject) THEN
        -- (an override of a subject the model has not, its case wrong or a typo, would change nothing, silently)
        RAISE EXCEPTION 'pgscore.set_thresholds: p_subject % is not a feature of model % nor its score (as '
                        'pgscore.alerts.subject), or NULL for every one', quote_literal(p_subject), quote_literal(p_model)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = coalesce((SELECT 'a typo for ' || string_agg(DISTINCT quote_literal(b.feature), ' or ') || '?'
                                     FROM pgscore.baselines b JOIN pgscore.models m ON m.model_id = b.model_id
                                    WHERE m.name = p_model AND b.kind IN ('feature', 'score')
                                      AND lower(b.feature) = lower(p_subject)),
                                  'list them with: SELECT DISTINCT feature FROM pgscore.baselines JOIN pgscore.models '
                                  'USING (model_id) WHERE name = ' || quote_literal(p_model));
    END IF;
    IF p_warn IS NULL AND p_alert IS NULL AND p_min_n IS NULL AND p_confidence IS NULL THEN
        RAISE EXCEPTION 'pgscore.set_thresholds: give at least one of p_warn, p_alert, p_min_n and p_confidence'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'to go back to the inherited thresholds: pgscore.clear_thresholds(model, metric, subject)';
    END IF;
    IF p_warn < 0 OR p_alert < 0 OR p_warn = 'NaN' OR p_alert = 'NaN' THEN
        RAISE EXCEPTION 'pgscore.set_thresholds: p_warn and p_alert must be numbers of at least 0, got % and %',
                        p_warn, p_alert
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'a level never reached: ''Infinity'' (alert = ''Infinity'': warn only)';
    END IF;
    IF p_min_n < 1 THEN
        RAISE EXCEPTION 'pgscore.set_thresholds: p_min_n must be at least 1, got %', p_min_n
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT (p_confidence >= 0 AND p_confidence < 1) THEN
        RAISE EXCEPTION 'pgscore.set_thresholds: p_confidence must be between 0 and 1 (0 included: no noise floor), got %', p_confidence
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'e.g. 0.999, the default''s; 0 for no noise floor (the thresholds alone judge it)';
    END IF;
    IF p_confidence IS NOT NULL AND p_metric = 'class_mix' THEN
        RAISE EXCEPTION 'pgscore.set_thresholds: class_mix has no noise floor: p_confidence must be NULL'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- (one writer of the overrides at a time, until it commits: two sessions each setting a sound row, a model's warn
    -- and a subject's alert, could together leave the subject's warn above its alert; check_threshold_order reads
    -- what the other committed once it has the lock)
    LOCK TABLE pgscore.drift_threshold_overrides IN SHARE ROW EXCLUSIVE MODE;
    -- (0133) this write's turn: a REPEATABLE READ or SERIALIZABLE transaction whose snapshot missed another
    -- session's committed write would check the order against thresholds no longer in place; its update of
    -- threshold_writes' row (which that write updated too) fails instead
    BEGIN
        UPDATE pgscore.threshold_writes SET writes = writes + 1;
    EXCEPTION WHEN serialization_failure THEN
        RAISE EXCEPTION '%: another session changed the thresholds after this transaction''s snapshot was taken',
                        'pgscore.set_thresholds'
            USING ERRCODE = 'serialization_failure',
                  DETAIL = 'a REPEATABLE READ or SERIALIZABLE transaction checks warn at most alert against the '
                           'thresholds as its snapshot has them, which may no longer be in place',
                  HINT = 'run the transaction again (or write thresholds in a READ COMMITTED transaction, the '
                         'default, which reads what the other committed once it has the lock)';
    END;
    -- warn <= alert as they will be judged, each inherited where not given
    -- (0133: what it inherits is what the level above it is judged by, pgscore.effective_thresholds: a subject's
    -- the model's, the model's drift_thresholds')
    SELECT coalesce(p_warn, e.warn), coalesce(p_alert, e.alert) INTO v_warn, v_alert
      FROM pgscore.effective_thresholds(CASE WHEN p_subject IS NOT NULL THEN p_model END, p_metric, NULL) e;
    IF v_warn > v_alert THEN
        RAISE EXCEPTION 'pgscore.set_thresholds: warn % would be above alert % for % of model %', v_warn, v_alert,
                        p_metric, quote_literal(p_model)
                        || CASE WHEN p_subject IS NOT NULL THEN ', subject ' || quote_literal(p_subject) ELSE '' END
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'give both p_warn and p_alert, warn at most alert (a NULL one is inherited)';
    END IF;
    INSERT INTO pgscore.drift_threshold_overrides AS o (model, metric, subject, warn, alert, min_n, confidence)
    VALUES (p_model, p_metric, p_subject, p_warn, p_alert, p_min_n, p_confidence)
        ON CONFLICT ON CONSTRAINT drift_threshold_overrides_key
        DO UPDATE SET warn = EXCLUDED.warn, alert = EXCLUDED.alert, min_n = EXCLUDED.min_n,
                      confidence = EXCLUDED.confidence, created_by = session_user, updated_at = now();
END
$fn$;

CREATE OR REPLACE FUNCTION pgscore.stamp_threshold_overrides() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.model IS DISTINCT FROM OLD.model OR NEW.subject IS DISTINCT FROM OLD.subject THEN
        IF NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = NEW.model) THEN
            RAISE EXCEPTION 'pgscore.drift_threshold_overrides: there is no model %', quote_literal(NEW.model)
                USING ERRCODE = 'undefined_object', HINT = pgscore.model_name_hint(NEW.model);
        END IF;
        IF NEW.subject IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM pgscore.baselines b JOIN pgscore.models m ON m.model_id = b.model_id
                            WHERE m.name = NEW.model AND b.kind IN ('feature', 'score') AND b.feature = NEW.subject)
        THEN
            RAISE EXCEPTION 'pgscore.drift_threshold_overrides: subject % is not a feature of model % nor its score '
                            '(as pgscore.alerts.subject), or NULL for every one', quote_literal(NEW.subject),
                            quote_literal(NEW.model)
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = coalesce((SELECT 'a typo for ' || string_agg(DISTINCT quote_literal(b.feature), ' or ')
                                              || '?'
                                         FROM pgscore.baselines b JOIN pgscore.models m ON m.model_id = b.model_id
                                        WHERE m.name = NEW.model AND b.kind IN ('feature', 'score')
                                          AND lower(b.feature) = lower(NEW.subject)),
                                      'list them with: SELECT DISTINCT feature FROM pgscore.baselines JOIN '
                                      'pgscore.models USING (model_id) WHERE name = ' || quote_literal(NEW.model));
        END IF;
    END IF;
    NEW.created_by := session_user;
    NEW.updated_at := now();
    RETURN NEW;
END
$fn$;

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
    v_columns text[];
    r record;
BEGIN
    -- (session 66) a standby, or a read-only transaction, refuses its writes: said so, with where to run it, as
    -- record_outcome since 0154 (it was PostgreSQL's bare 25006, no hint)
    IF current_setting('transaction_read_only') = 'on' THEN
        PERFORM pgscore.refuse_read_only('pgscore.set_shadow writes pgscore.shadows');
    END IF;
    IF p_name IS NULL OR p_version IS NULL OR p_force IS NULL THEN
        RAISE EXCEPTION 'pgscore.set_shadow: model name, version and p_force must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- one change at a time per model (as register_model, activate, rollback and retire take it): the live
    -- version read below is the one this shadow will be scored next to
    INSERT INTO pgscore.model_locks AS l (name) VALUES (p_name)
        ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name;
    IF NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_name) THEN
        -- (migration 0124: with scoring's hint, the model it looks like a typo for; it said where they are listed)
        RAISE EXCEPTION 'there is no model %', quote_literal(p_name) USING ERRCODE = 'undefined_object',
            HINT = pgscore.model_name_hint(p_name);
    END IF;
    SELECT m.model_id INTO v_model_id FROM pgscore.models m WHERE m.name = p_name AND m.version = p_version;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'there is no version % of model %', p_version, quote_literal(p_name)
            USING ERRCODE = 'undefined_object', HINT = 'deploy it first: pgscore deploy --no-activate';
    END IF;
    SELECT d.deployment_id, d.model_id, d.action, m.version, m.feature_names INTO v_live
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
        -- a profile table without one of its features (a wiring with counters reads it by name, a float8[] column
        -- features beside never), or whose float8[] column features (which the shadow reads where there is one and
        -- no counters) holds the live version's features, read from it too, and another
        -- count, would have every INSERT into the event table score nothing in shadow; as many features named
        -- otherwise or in another order, score every profile on values that are not its features. Wirings whose
        -- trigger or profile table is gone feed nothing and block nothing
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
                                          WHERE NOT (w.has_array AND coalesce(w.counters, '{}'::jsonb) = '{}'::jsonb)
                                            AND NOT EXISTS (SELECT 1 FROM pg_attribute a
                                                             WHERE a.attrelid = to_regclass(w.profile_table)
                                                               AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = f.name)
                                          ORDER BY f.i), ', ') AS missing,
                   -- read by position: as many features named otherwise, or in another order, would score the
                   -- live version's values as the shadow's own
                   CASE WHEN NOT w.has_array OR coalesce(w.counters, '{}'::jsonb) <> '{}'::jsonb THEN NULL
                        ELSE 'its float8[] column features '
                             || pgscore.feature_order_differs(m.feature_names, l.feature_names, v_live.version, p_version)
                   END AS miscounted,
                   w.has_array AND coalesce(w.counters, '{}'::jsonb) = '{}'::jsonb
                       AND cardinality(m.feature_names) = cardinality(l.feature_names)
                       AND m.feature_names IS DISTINCT FROM l.feature_names AS reordered
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
            RAISE EXCEPTION 'version % of % cannot shadow version %: %, which % rescores with %, %; every INSERT into % would score %',
                    p_version, quote_literal(p_name), v_live.version, v_first.profile_table, v_first.event_table,
                    quote_literal(p_name), CASE WHEN v_first.missing <> '' THEN 'has no column ' || v_first.missing
                                                ELSE v_first.miscounted END, v_first.event_table,
                    CASE WHEN v_first.missing = '' AND v_first.reordered
                         THEN 'it in shadow on values that are not its features' ELSE 'nothing in shadow' END
                USING ERRCODE = CASE WHEN v_first.missing <> '' THEN 'undefined_column' ELSE 'object_not_in_prerequisite_state' END,
                      DETAIL = format('%s wiring(s) affected', v_n),
                      -- (a profile table's float8[] column features is read wherever there is one: columns added
                      -- beside it would not be)
                      HINT = format('%s; or detach the wiring (pgscore.detach_rescoring); or set it anyway, to score '
                                    'where it can (pgscore score of a table that has %s) with the others counted as '
                                    'failures: pgscore.set_shadow(%L, %s, p_force => true) (pgscore shadow %s %s --force)',
                                    CASE WHEN v_first.missing <> ''
                                         THEN 'add the feature column(s) to the profile table first, then set the shadow again'
                                         ELSE format('shadow a version trained on the %s features of live version %s in its order, '
                                                     'or wire a profile table of a column per feature (no float8[] column features)',
                                                     cardinality(v_live.feature_names), v_live.version) END,
                                    CASE WHEN v_first.missing <> '' THEN 'them' ELSE 'a column per feature' END,
                                    p_name, p_version, p_name, p_version);
        END IF;
    END IF;
    -- a wired profile table read by name (no float8[] column features, or counters) whose score or scored_at column
    -- the shadow reads: every INSERT would score it on the score the live version just wrote, and made live it would
    -- feed its own output back in (attach_rescoring refuses such a column of the live version, the deployments'
    -- trigger of a version made live). Not skipped by p_force: such a shadow never fails, and no count would say
    -- that its scores are not the ones it would score live. The check is pgscore.score_columns_read, which the
    -- deployments' trigger and attach_rescoring ask too
    v_n := 0;
    v_columns := '{}';
    FOR r IN
        SELECT c.profile_table, c.event_table, c.what, c.column_name AS col, c.said
          FROM pgscore.score_columns_read(v_model_id) AS c
         ORDER BY 1, 2, 3
    LOOP
        v_n := v_n + 1;
        IF v_n = 1 THEN
            v_first := r;
        END IF;
        v_columns := v_columns || r.said;
    END LOOP;
    IF v_n > 0 THEN
        RAISE EXCEPTION 'version % of % cannot shadow version %: %.%, the % column % rescores with % into, is one of its features; every INSERT into % would score the shadow on the live version''s new score, and once live it would feed its own output back in',
                p_version, quote_literal(p_name), v_live.version, v_first.profile_table, v_first.col, v_first.what,
                v_first.event_table, quote_literal(p_name), v_first.event_table
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('%s column(s) affected: %s', v_n, array_to_string(v_columns, ', ')),
                  HINT = format('shadow a version that does not read %s.%s, or wire the table''s score and scored_at to '
                                'columns no version of %s reads (pgscore.detach_rescoring(%L), then '
                                'pgscore.attach_rescoring(...) again)',
                                v_first.profile_table, v_first.col, quote_literal(p_name), v_first.event_table);
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
