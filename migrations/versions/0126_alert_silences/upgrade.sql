-- 0125 to 0126: silences of alerts. pgscore.alert_silences holds an on-call's mutes (a model's conditions, or those
-- matching a what, subject, metric, window and shadow, for a while, saying who and why), written by
-- pgscore.silence_alerts and lifted by pgscore.lift_silence (both run as their caller, pgscore_admin; the reader
-- reads the table). pgscore.alerts gains silenced_until and silence_id, appended: a silenced condition stays listed.
-- alerts' other columns, its comment and refresh_monitoring (alert_state) are unchanged and not set again.

CREATE TABLE pgscore.alert_silences (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model       text NOT NULL,
    what        text,
    subject     text,
    metric      text,
    window_name text,
    shadow      boolean,
    starts_at   timestamptz NOT NULL DEFAULT now(),
    ends_at     timestamptz NOT NULL,
    reason      text NOT NULL,
    created_by  name NOT NULL DEFAULT session_user,
    created_at  timestamptz NOT NULL DEFAULT now(),
    lifted_at   timestamptz,
    lifted_by   name,
    CONSTRAINT alert_silences_ends_check CHECK (ends_at > starts_at),
    CONSTRAINT alert_silences_reason_check CHECK (btrim(reason) <> ''),
    CONSTRAINT alert_silences_lifted_check CHECK ((lifted_at IS NULL) = (lifted_by IS NULL))
);
-- (alerts looks up the silences in force per model: the ones never lifted)
CREATE INDEX alert_silences_model_idx ON pgscore.alert_silences (model, ends_at) WHERE lifted_at IS NULL;
COMMENT ON TABLE pgscore.alert_silences IS 'Silences of alerts (pgscore.silence_alerts, lift_silence): while one is in force (not lifted, starts_at <= now() < ends_at) the conditions of pgscore.alerts it matches show silenced_until and silence_id and pgscore drift and status do not count them; never deleted by pgscore';
COMMENT ON COLUMN pgscore.alert_silences.id IS 'The silence''s number (pgscore.alerts.silence_id; pgscore unsilence ID)';
COMMENT ON COLUMN pgscore.alert_silences.model IS 'The model name whose conditions it silences';
COMMENT ON COLUMN pgscore.alert_silences.what IS 'Silences the conditions of this what alone (feature, score, performance or class, as pgscore.alerts.what); NULL: any';
COMMENT ON COLUMN pgscore.alert_silences.subject IS 'Silences the conditions of this subject alone (a feature, score, outcomes, ... as pgscore.alerts.subject); NULL: any';
COMMENT ON COLUMN pgscore.alert_silences.metric IS 'Silences the conditions of this metric alone (pgscore.drift_thresholds.metric); NULL: any';
COMMENT ON COLUMN pgscore.alert_silences.window_name IS 'Silences the conditions in this window alone (pgscore.drift_windows); NULL: any';
COMMENT ON COLUMN pgscore.alert_silences.shadow IS 'true: a shadow version''s conditions alone; false: the live version''s alone; NULL: both';
COMMENT ON COLUMN pgscore.alert_silences.starts_at IS 'When the silence begins';
COMMENT ON COLUMN pgscore.alert_silences.ends_at IS 'When it ends (at most 90 days after starts_at through silence_alerts)';
COMMENT ON COLUMN pgscore.alert_silences.reason IS 'Why: the incident, ticket or fix under way';
COMMENT ON COLUMN pgscore.alert_silences.created_by IS 'The login that silenced (session_user: the person''s login, also under SET ROLE pgscore_admin)';
COMMENT ON COLUMN pgscore.alert_silences.created_at IS 'When the silence was made';
COMMENT ON COLUMN pgscore.alert_silences.lifted_at IS 'When it was lifted before its end (pgscore.lift_silence); NULL: not lifted';
COMMENT ON COLUMN pgscore.alert_silences.lifted_by IS 'The login that lifted it (session_user)';
GRANT SELECT ON pgscore.alert_silences TO pgscore_reader;
GRANT SELECT, INSERT ON pgscore.alert_silences TO pgscore_admin;
GRANT UPDATE (lifted_at, lifted_by) ON pgscore.alert_silences TO pgscore_admin;

/*
 * Silences (migration 0126): an on-call mutes a known condition for a while, saying why; alerts shows it as
 * silenced (silenced_until, silence_id), pgscore drift and status do not count it. Run as their caller, as
 * activate is: pgscore_admin inserts the row and sets lifted_*; session_user is who silenced (under SET ROLE, the
 * person's login, not the role's name).
 */
CREATE FUNCTION pgscore.silence_alerts(p_model text, p_for interval, p_reason text, p_what text DEFAULT NULL,
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
                  HINT = 'silence again when it ends, or change the metric''s thresholds for every model in '
                         'pgscore.drift_thresholds';
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
COMMENT ON FUNCTION pgscore.silence_alerts(text, interval, text, text, text, text, text, boolean, timestamptz) IS 'Silence the conditions of pgscore.alerts of model p_model that match every matcher given (p_what, p_subject, p_metric, p_window, p_shadow; NULL: any) from p_starts_at for p_for (positive, at most 90 days), saying why (p_reason); returns the silence''s id (pgscore.alert_silences). alerts still lists them, with silenced_until and silence_id; pgscore drift and status do not count them';

CREATE FUNCTION pgscore.lift_silence(p_id bigint)
RETURNS void
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_row pgscore.alert_silences;
BEGIN
    IF p_id IS NULL THEN
        RAISE EXCEPTION 'pgscore.lift_silence: p_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    UPDATE pgscore.alert_silences s SET lifted_at = now(), lifted_by = session_user
     WHERE s.id = p_id AND s.lifted_at IS NULL AND s.ends_at > now();
    IF FOUND THEN
        RETURN;
    END IF;
    SELECT * INTO v_row FROM pgscore.alert_silences s WHERE s.id = p_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'there is no silence %', p_id USING ERRCODE = 'undefined_object',
            HINT = 'list them with: SELECT * FROM pgscore.alert_silences';
    END IF;
    -- (lifting twice, or one ended already: nothing to do, as activate says of a version live already; lifted_at
    -- is a lift before its end)
    IF v_row.lifted_at IS NULL THEN
        RAISE NOTICE 'silence % ended already (at %): nothing was changed', p_id, v_row.ends_at;
    ELSE
        RAISE NOTICE 'silence % was lifted already (at %, by %): nothing was changed', p_id, v_row.lifted_at,
            v_row.lifted_by;
    END IF;
END
$fn$;
COMMENT ON FUNCTION pgscore.lift_silence(bigint) IS 'End silence p_id (pgscore.alert_silences) now: sets its lifted_at and lifted_by (session_user); a NOTICE and nothing changed where it was lifted already or has ended';

/*
 * What the admin's INSERT and UPDATE (lifted_at, lifted_by) on pgscore.alert_silences allow, which silence_alerts
 * and lift_silence run with (as their caller): a silence made as silence_alerts makes it (by session_user, now, not
 * lifted, at most 90 days), and a silence in force lifted once, now, by session_user. By hand the grants let a
 * lifted silence be put back in force, a silence or a lift be put under another login's name, or a silence be made
 * for years: refused (a restore of the data alone runs with --disable-triggers, as docs/sql.md says).
 */
CREATE FUNCTION pgscore.guard_alert_silences() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.created_by = session_user AND NEW.created_at = now() AND NEW.lifted_at IS NULL
           AND NEW.lifted_by IS NULL AND NEW.ends_at <= NEW.starts_at + interval '90 days' THEN
            RETURN NEW;
        END IF;
    ELSIF OLD.lifted_at IS NULL AND now() < OLD.ends_at AND NEW.lifted_at = now() AND NEW.lifted_by = session_user
          AND to_jsonb(NEW) - 'lifted_at' - 'lifted_by' = to_jsonb(OLD) - 'lifted_at' - 'lifted_by' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'pgscore.alert_silences: a silence is made by pgscore.silence_alerts (by session_user, now, for '
                    'at most 90 days) and lifted once by pgscore.lift_silence (now, by session_user); this % is '
                    'neither', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'silence with pgscore.silence_alerts(model, for, reason, ...), lift with '
                     'pgscore.lift_silence(id); a lifted silence stays lifted: silence again';
END
$fn$;
COMMENT ON FUNCTION pgscore.guard_alert_silences() IS 'Trigger function of pgscore.alert_silences: an INSERT as silence_alerts makes one (created_by session_user, created_at now, not lifted, at most 90 days) and an UPDATE as lift_silence lifts one (once, now, by session_user), nothing else (migration 0126)';
CREATE TRIGGER alert_silences_guard BEFORE INSERT OR UPDATE ON pgscore.alert_silences
    FOR EACH ROW EXECUTE FUNCTION pgscore.guard_alert_silences();
REVOKE EXECUTE ON FUNCTION pgscore.silence_alerts(text, interval, text, text, text, text, text, boolean, timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION pgscore.lift_silence(bigint) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION pgscore.guard_alert_silences() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgscore.silence_alerts(text, interval, text, text, text, text, text, boolean, timestamptz),
    pgscore.lift_silence(bigint) TO pgscore_admin;

CREATE OR REPLACE VIEW pgscore.alerts AS
SELECT f.model, f.version, f.what, f.subject, f.window_name, f.metric, f.value, f.threshold, f.level, s.first_seen AS since,
       f.shadow,
       -- appended (migration 0126): the silence in force now that matches the row, the one that ends last
       q.ends_at AS silenced_until, q.id AS silence_id
  FROM pgscore.firing f
  LEFT JOIN pgscore.alert_state s ON s.model = f.model AND s.version = f.version AND s.what = f.what
        AND s.subject = f.subject AND s.window_name = f.window_name AND s.metric = f.metric AND s.level = f.level
  LEFT JOIN LATERAL (
        SELECT a.id, a.ends_at FROM pgscore.alert_silences a
         WHERE a.model = f.model AND a.lifted_at IS NULL AND a.starts_at <= now() AND a.ends_at > now()
           AND (a.what IS NULL OR a.what = f.what) AND (a.subject IS NULL OR a.subject = f.subject)
           AND (a.metric IS NULL OR a.metric = f.metric) AND (a.window_name IS NULL OR a.window_name = f.window_name)
           AND (a.shadow IS NULL OR a.shadow = f.shadow)
         ORDER BY a.ends_at DESC, a.id DESC LIMIT 1) q ON true
 ORDER BY f.level = 'alert' DESC, f.model, f.shadow, f.version, f.what, f.subject, f.sort_order, f.metric;
COMMENT ON COLUMN pgscore.alerts.silenced_until IS 'When the silence in force now that matches the condition ends (pgscore.alert_silences: not lifted, begun, not ended; the one that ends last where several match); NULL: not silenced. A silenced condition is listed still; pgscore drift and status do not count it';
COMMENT ON COLUMN pgscore.alerts.silence_id IS 'That silence''s id (pgscore.alert_silences.id); NULL: not silenced';
