-- 0120 to 0121: pgscore.deployments says what happened. pgscore.activate appends 'activate' (it appended 'deploy',
-- as register_model does for a version stored and made live at once); the action's CHECK takes it, and the
-- deployments' trigger (check_live_version_fed) checks an activate as it checked a deploy. A deployment that makes
-- a version scored in shadow live appends that shadow's 'stop' to pgscore.shadows (pgscore.end_shadow_made_live,
-- trigger deployments_end_shadow; the end was recorded nowhere, pgscore.shadow_versions read it off the
-- deployment). Old rows are left as they are: an activation before 0121 reads 'deploy'.

ALTER TABLE pgscore.deployments DROP CONSTRAINT deployments_action_check;
ALTER TABLE pgscore.deployments ADD CONSTRAINT deployments_action_check
    CHECK (action IN ('deploy', 'activate', 'rollback', 'retire'));

DROP TRIGGER deployments_feed_wirings ON pgscore.deployments;
CREATE TRIGGER deployments_feed_wirings AFTER INSERT ON pgscore.deployments
    FOR EACH ROW WHEN (NEW.action IN ('deploy', 'activate', 'rollback'))
    EXECUTE FUNCTION pgscore.check_live_version_fed();

CREATE OR REPLACE FUNCTION pgscore.activate(p_name text, p_version integer, p_reason text DEFAULT NULL,
                                 p_force boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET pgscore.allow_version_mismatch = off
AS $fn$
DECLARE
    v_model_id bigint;
    v_refusal text;
    v_fix text;
BEGIN
    IF p_name IS NULL OR p_version IS NULL OR p_force IS NULL THEN
        RAISE EXCEPTION 'pgscore.activate: model name, version and p_force must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- one change at a time per model, as register_model, rollback, retire, set_shadow and clear_shadow take it: a
    -- rollback or retire in progress reads the history with this go-live once it commits, a set_shadow of this
    -- version refuses it live (none waited before: a rollback undid the go-live before this one too)
    INSERT INTO pgscore.model_locks AS l (name) VALUES (p_name)
        ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name;
    IF NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_name) THEN
        RAISE EXCEPTION 'there is no model %', quote_literal(p_name) USING ERRCODE = 'undefined_object',
            HINT = 'list models with: SELECT * FROM pgscore.model_versions';
    END IF;
    SELECT m.model_id INTO v_model_id FROM pgscore.models m WHERE m.name = p_name AND m.version = p_version;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'there is no version % of model %', p_version, quote_literal(p_name)
            USING ERRCODE = 'undefined_object', HINT = 'list models with: SELECT * FROM pgscore.model_versions';
    END IF;
    -- the live version already (the history's last entry a go-live of it, read under the lock above): nothing
    -- changes, and the history records no go-live of a version that never went away (as set_shadow says of a
    -- shadow already)
    IF (SELECT d.action <> 'retire' AND d.model_id = v_model_id FROM pgscore.deployments d
         WHERE d.model_name = p_name ORDER BY d.deployment_id DESC LIMIT 1) THEN
        RAISE NOTICE 'version % of % is live already: nothing was changed', p_version, quote_literal(p_name);
        RETURN v_model_id;
    END IF;
    -- 'activate': a version stored before made live (before 0121, 'deploy', as register_model writes it)
    INSERT INTO pgscore.deployments (model_name, model_id, action, reason)
    VALUES (p_name, v_model_id, 'activate', p_reason);
    IF NOT p_force THEN
        -- the server loads it as a session's first score would (pgscore.load_model: sha256, signature, the
        -- scikit-learn/numpy it was written with against the server's, unpickling), pgscore.allow_version_mismatch
        -- off whatever this session set (the function's SET: other sessions score it): a version it cannot load,
        -- live, fails every score of it and queues every rescored profile. After the row, which its error undoes:
        -- the deployments' trigger refuses first what it refuses (signing on or off as the version is not), with
        -- its own hint. (The words in variables: an error the load raises as the server raised it, a lock timeout
        -- say, quotes the call in its context)
        v_refusal := format('version %s of %s cannot be made live: this server cannot load it: ', p_version,
                            quote_literal(p_name));
        v_fix := format('to make it live anyway (every score of it fails while this server cannot load it): '
                        'pgscore.activate(%L, %s, p_force => true) (pgscore activate %s %s --force)',
                        p_name, p_version, p_name, p_version);
        PERFORM pgscore.load_or_refuse(v_model_id, v_refusal, v_fix);
    END IF;
    RETURN v_model_id;
END
$fn$;
COMMENT ON FUNCTION pgscore.activate(text, integer, text, boolean) IS 'Make a version of a model live (appends an ''activate'' deployment; a NOTICE and nothing appended where it is live already); returns its model_id. Refused where this server cannot load the version (pgscore.load_model fails: signature, the library versions it was written with, unpickling) unless p_force';

/*
 * A deployment that makes a version scored in shadow live ends its shadow
 * (pgscore.shadow_versions leaves out a version made live since its mark):
 * the stop is appended to pgscore.shadows as clear_shadow appends one, so
 * that the history says when the shadow ended and why. since_deployment names
 * the deployment that made it live, reason says which action ('made live by
 * activate'), changed_at and changed_by are the deployment's. Before
 * migration 0121 such an end was recorded nowhere in pgscore.shadows: a
 * 'start' followed by a deployment of the same version (deployment_id greater
 * than its since_deployment, not a retire) reads as its end. Runs as its
 * owner: pgscore.shadows is written by set_shadow and clear_shadow alone, as
 * theirs.
 */
CREATE FUNCTION pgscore.end_shadow_made_live() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    INSERT INTO pgscore.shadows (model_name, model_id, action, since_deployment, reason, changed_at, changed_by)
    SELECT s.model_name, s.model_id, 'stop', NEW.deployment_id, 'made live by ' || NEW.action, NEW.deployed_at,
           NEW.deployed_by
      FROM (SELECT s.model_name, s.model_id, s.action, s.since_deployment FROM pgscore.shadows s
             WHERE s.model_name = NEW.model_name AND s.model_id = NEW.model_id
             ORDER BY s.shadow_id DESC LIMIT 1) s
     WHERE s.action = 'start'
       -- (a shadow made live before, its end read off that deployment: a stop is recorded once)
       AND NOT EXISTS (SELECT 1 FROM pgscore.deployments d
                        WHERE d.model_name = s.model_name AND d.model_id = s.model_id
                          AND d.deployment_id > coalesce(s.since_deployment, 0)
                          AND d.deployment_id < NEW.deployment_id AND d.action <> 'retire');
    RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION pgscore.end_shadow_made_live() IS 'Trigger function: a deployment that makes a version scored in shadow live appends its ''stop'' to pgscore.shadows (since_deployment: that deployment)';
REVOKE EXECUTE ON FUNCTION pgscore.end_shadow_made_live() FROM PUBLIC;

/*
 * A version scored in shadow that a deployment makes live is a shadow no
 * more: the stop is recorded in pgscore.shadows (pgscore.end_shadow_made_live).
 */
CREATE TRIGGER deployments_end_shadow AFTER INSERT ON pgscore.deployments
    FOR EACH ROW WHEN (NEW.action IN ('deploy', 'activate', 'rollback'))
    EXECUTE FUNCTION pgscore.end_shadow_made_live();

COMMENT ON TABLE pgscore.shadows IS 'Append-only history of shadow scoring (set_shadow, clear_shadow, and a stop where a deployment made the version live, since_deployment naming it: migration 0121); the newest row per version wins, and a version made live since its mark is no shadow';
