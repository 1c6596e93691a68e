/*
 * Deployment actions. Each appends one row to pgscore.deployments; the
 * newest row per name decides what is live.
 */
CREATE FUNCTION pgscore.activate(p_name text, p_version integer, p_reason text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_model_id bigint;
BEGIN
    IF p_name IS NULL OR p_version IS NULL THEN
        RAISE EXCEPTION 'pgscore.activate: model name and version must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_name) THEN
        RAISE EXCEPTION 'there is no model %', quote_literal(p_name) USING ERRCODE = 'undefined_object';
    END IF;
    SELECT m.model_id INTO v_model_id FROM pgscore.models m WHERE m.name = p_name AND m.version = p_version;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'there is no version % of model %', p_version, quote_literal(p_name)
            USING ERRCODE = 'undefined_object';
    END IF;
    INSERT INTO pgscore.deployments (model_name, model_id, action, reason)
    VALUES (p_name, v_model_id, 'deploy', p_reason);
    RETURN v_model_id;
END
$fn$;
COMMENT ON FUNCTION pgscore.activate(text, integer, text) IS 'Make a version of a model live (appends a deployment); returns its model_id';

CREATE FUNCTION pgscore.rollback(p_name text, p_to_version integer DEFAULT NULL, p_reason text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_live record;
    v_current_version integer;
    v_target bigint;
BEGIN
    IF p_name IS NULL THEN
        RAISE EXCEPTION 'pgscore.rollback: model name must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_name) THEN
        RAISE EXCEPTION 'there is no model %', quote_literal(p_name) USING ERRCODE = 'undefined_object';
    END IF;
    SELECT d.model_id, d.action INTO v_live FROM pgscore.deployments d
     WHERE d.model_name = p_name ORDER BY d.deployment_id DESC LIMIT 1;
    IF p_to_version IS NOT NULL THEN
        SELECT m.model_id INTO v_target FROM pgscore.models m WHERE m.name = p_name AND m.version = p_to_version;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'there is no version % of model %', p_to_version, quote_literal(p_name)
                USING ERRCODE = 'undefined_object';
        END IF;
    ELSE
        IF v_live.model_id IS NULL OR v_live.action = 'retire' THEN
            RAISE EXCEPTION 'model % has no live version to roll back from', quote_literal(p_name)
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'name the version to make live: pgscore.rollback(name, version)';
        END IF;
        SELECT m.version INTO v_current_version FROM pgscore.models m WHERE m.model_id = v_live.model_id;
        -- the newest version below the live one that has ever been live, but not one a rollback to an older
        -- version took away the last time it was live (a challenger that did worse: migration 0051)
        SELECT m.model_id INTO v_target FROM pgscore.models m
         WHERE m.name = p_name AND m.version < v_current_version
           AND EXISTS (SELECT 1 FROM pgscore.deployments d WHERE d.model_id = m.model_id AND d.action <> 'retire')
           AND NOT EXISTS (
                SELECT 1
                  FROM (SELECT d.deployment_id FROM pgscore.deployments d
                         WHERE d.model_id = m.model_id AND d.action <> 'retire'
                         ORDER BY d.deployment_id DESC LIMIT 1) last_live
                  JOIN LATERAL (SELECT n.action, nm.version FROM pgscore.deployments n
                                  JOIN pgscore.models nm ON nm.model_id = n.model_id
                                 WHERE n.model_name = p_name AND n.deployment_id > last_live.deployment_id
                                 ORDER BY n.deployment_id LIMIT 1) ended ON true
                 WHERE ended.action = 'rollback' AND ended.version < m.version)
         ORDER BY m.version DESC LIMIT 1;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'model % has no earlier deployed version than %', quote_literal(p_name), v_current_version
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = 'A rollback goes to the newest earlier version that was live, leaving out those rolled back from.',
                      HINT = 'name the version to make live: pgscore.rollback(name, version)';
        END IF;
    END IF;
    INSERT INTO pgscore.deployments (model_name, model_id, action, reason)
    VALUES (p_name, v_target, 'rollback', p_reason);
    RETURN v_target;
END
$fn$;
COMMENT ON FUNCTION pgscore.rollback(text, integer, text) IS 'Make the previous deployed version (or the given one) live again (appends a deployment): the newest earlier version that was live, leaving out one rolled back from; returns its model_id';

CREATE FUNCTION pgscore.retire(p_name text, p_reason text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_model_id bigint;
    v_action text;
    v_at timestamptz;
BEGIN
    IF p_name IS NULL THEN
        RAISE EXCEPTION 'pgscore.retire: model name must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- one retire at a time per model (as register_model takes it): two at once would both find it live. The
    -- name's row in pgscore.model_locks, which only pgscore_admin may lock (an advisory lock, before 0043, any
    -- role could take and hold)
    INSERT INTO pgscore.model_locks AS l (name) VALUES (p_name)
        ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name;
    SELECT d.model_id, d.action, d.deployed_at INTO v_model_id, v_action, v_at FROM pgscore.deployments d
     WHERE d.model_name = p_name ORDER BY d.deployment_id DESC LIMIT 1;
    IF NOT FOUND THEN
        IF EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_name) THEN  -- stored, never made live
            RAISE EXCEPTION 'model % has no live version to retire: none of its versions was ever made live',
                  quote_literal(p_name) USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
        RAISE EXCEPTION 'there is no model %', quote_literal(p_name) USING ERRCODE = 'undefined_object';
    END IF;
    IF v_action = 'retire' THEN  -- a second retire would only append another to its history (before 0038)
        RAISE NOTICE 'model % has no live version already (retired %): nothing was changed', quote_literal(p_name), v_at;
        RETURN;
    END IF;
    INSERT INTO pgscore.deployments (model_name, model_id, action, reason)
    VALUES (p_name, v_model_id, 'retire', p_reason);
END
$fn$;
COMMENT ON FUNCTION pgscore.retire(text, text) IS 'Leave a model with no live version (appends a retire row; a model retired already is left as it is, with a notice); scoring it then fails until a version is activated';

/*
 * Whether this server signs and verifies model artifacts: a signing key in
 * its environment (PGSCORE_SIGNING_KEY_FILE). A key it cannot read raises.
 */
CREATE FUNCTION pgscore.signing_on() RETURNS boolean
LANGUAGE plpython3u
STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $pl$
@@plpython/signing_on.py@@
$pl$;
COMMENT ON FUNCTION pgscore.signing_on() IS 'Whether this server signs and verifies model artifacts (a signing key in its environment); raises when its key cannot be read';

/*
 * A version made live (deploy, activate, rollback; through SQL, the command
 * line, Python or an alembic revision) must feed every table wired to rescore
 * with its name: a profile table without one of its features would have every
 * INSERT update counters and queue its profiles. Wirings whose trigger is gone
 * (the event table dropped) or whose profile table is gone feed nothing and
 * block nothing; a float8[] column named features feeds any model where the
 * wiring has no counters (as the rescoring trigger reads it). Nor may it be a
 * version the server would refuse to load (its signing not the server's).
 */
CREATE FUNCTION pgscore.check_live_version_fed() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r record;
    v_n integer := 0;
    v_first record;
    v_version integer;
    v_new boolean;
    v_signed boolean;
BEGIN
    -- a version the server would refuse to load, live: every score would fail (signing on and it unsigned, or
    -- signing off and it signed: fail closed). Only a version stored before the key changed can be either
    SELECT a.hmac_sha256 IS NOT NULL, m.version INTO v_signed, v_version
      FROM pgscore.artifacts a JOIN pgscore.models m ON m.model_id = a.model_id WHERE a.model_id = NEW.model_id;
    IF v_signed <> pgscore.signing_on() THEN  -- (no artifact: NULL, as scoring says)
        RAISE EXCEPTION 'version % of % is %, and this server %: once live, no call could score it', v_version,
                quote_literal(NEW.model_name), CASE WHEN v_signed THEN 'signed' ELSE 'not signed' END,
                CASE WHEN v_signed THEN 'has no signing key to verify it with' ELSE 'signs its models' END
            USING ERRCODE = 'insufficient_privilege',
                  HINT = CASE WHEN v_signed
                      THEN 'start the server with the key it was signed with (pgscore db start --signing-key FILE, or PGSCORE_SIGNING_KEY_FILE), or deploy its artifact again without a key'
                      ELSE 'deploy its artifact again (pgscore deploy, or an alembic revision''s deploy_model), which has the server sign it, and make that version live'
                  END;
    END IF;
    FOR r IN
        SELECT w.profile_table, w.event_table,
               array_to_string(ARRAY(SELECT quote_literal(x) FROM unnest(array_agg(f.name ORDER BY f.i)) x), ', ') AS missing
          FROM pgscore.rescoring w
          JOIN pgscore.models m ON m.model_id = NEW.model_id
         CROSS JOIN LATERAL unnest(m.feature_names) WITH ORDINALITY AS f(name, i)
         WHERE w.model_name = NEW.model_name AND to_regclass(w.profile_table) IS NOT NULL
           AND EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgname = w.trigger_name AND NOT t.tgisinternal)
           AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = to_regclass(w.profile_table)
                              AND a.attnum > 0 AND NOT a.attisdropped
                              AND (a.attname = f.name OR (a.attname = 'features' AND a.atttypid = 'float8[]'::regtype
                                                          AND coalesce(w.counters, '{}'::jsonb) = '{}'::jsonb)))
         GROUP BY w.profile_table, w.event_table
         ORDER BY 1, 2
    LOOP
        v_n := v_n + 1;
        IF v_n = 1 THEN
            v_first := r;
        END IF;
    END LOOP;
    IF v_n > 0 THEN
        -- a version stored in this transaction (deploy) is rolled back with it: deploy it again, not activate it
        SELECT m.version, m.created_at = pg_catalog.now() INTO v_version, v_new
          FROM pgscore.models m WHERE m.model_id = NEW.model_id;
        RAISE EXCEPTION '%, which % rescores with %, has no column %: once live, version % could not rescore it',
                v_first.profile_table, v_first.event_table, NEW.model_name, v_first.missing, v_version
            USING ERRCODE = 'undefined_column', DETAIL = format('%s wiring(s) affected', v_n),
                  HINT = CASE
                      WHEN NEW.action = 'rollback' THEN format('add the column(s) to the profile table first, then roll back again (version %s)', v_version)
                      WHEN v_new THEN 'add the column(s) to the profile table first, then deploy again; or store the version without making it live (pgscore deploy --no-activate; in an alembic revision deploy_model(..., activate=False); pgscore.register_model(..., p_activate => false))'
                      ELSE format('add the column(s) to the profile table first, then activate version %s again', v_version)
                  END;
    END IF;
    RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION pgscore.check_live_version_fed() IS 'Trigger function: refuses a deployment that makes live a version whose features a profile table wired to rescore with its name lacks';
