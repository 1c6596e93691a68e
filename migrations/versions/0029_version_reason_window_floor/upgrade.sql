-- 0028 to 0029: each model version keeps the reason given when it was stored (pgscore.register_model's
-- p_reason), whether or not it went live: a deployment row holds it only for a version made live at
-- once, and an alembic revision that deploys with activate=False left nothing to find it by. Versions
-- stored before keep NULL.
ALTER TABLE pgscore.models ADD COLUMN reason text;
COMMENT ON COLUMN pgscore.models.reason IS 'The reason given when the version was stored, live or not (an alembic revision''s deploy_model gives ''alembic revision <id>'', which its undeploy_model looks for)';

-- A drift window shorter than the monitoring's 5-minute buckets: written as a bare number ('30', meant
-- as days), which PostgreSQL reads as seconds. A window of this install that is one stops the upgrade,
-- saying which, before anything changes.
DO $do$
DECLARE
    v_name text;
    v_length interval;
BEGIN
    SELECT w.window_name, w.length INTO v_name, v_length FROM pgscore.drift_windows w
     WHERE w.length < interval '5 minutes' ORDER BY w.length LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'pgscore: drift window % is % long; a window is now at least 5 minutes', v_name, v_length
              USING ERRCODE = '23514',
                    HINT = 'a bare number is seconds to PostgreSQL: UPDATE pgscore.drift_windows SET length = ''30 days'' '
                           'WHERE window_name = ... (or delete the row), then upgrade again';
    END IF;
END
$do$;
ALTER TABLE pgscore.drift_windows DROP CONSTRAINT drift_windows_length_check;
ALTER TABLE pgscore.drift_windows ADD CONSTRAINT drift_windows_length_check
    CHECK (length IS NULL OR length >= interval '5 minutes');
COMMENT ON COLUMN pgscore.drift_windows.length IS 'How far back from now() the window reaches, at least 5 minutes; NULL = since deploy (every prediction of the live version)';
