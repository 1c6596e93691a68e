-- 0186's downgrade: the three functions' text before 0186 again (the hint's plain =)

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
