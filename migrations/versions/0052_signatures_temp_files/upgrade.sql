-- 0051 to 0052: a signature binds an artifact's or evaluator's bytes to its model and version ("v2:" and the
-- HMAC of the bound message); the first scheme's (the bytes alone) stay valid until pgscore.resign_models()
-- signs them again, the one UPDATE the registry's immutability trigger lets through.
ALTER TABLE pgscore.artifacts DROP CONSTRAINT artifacts_hmac_check;
ALTER TABLE pgscore.artifacts ADD CONSTRAINT artifacts_hmac_check CHECK (hmac_sha256 ~ '^(v2:)?[0-9a-f]{64}$');
ALTER TABLE pgscore.evaluators DROP CONSTRAINT evaluators_hmac_check;
ALTER TABLE pgscore.evaluators ADD CONSTRAINT evaluators_hmac_check CHECK (hmac_sha256 ~ '^(v2:)?[0-9a-f]{64}$');

/*
 * Trigger function that keeps registry rows immutable: models, artifacts and
 * deployments are appended, never updated. One change only: an artifact's or
 * evaluator's signature of the first scheme (its bytes alone) replaced by one
 * of the scheme that binds it to its model and version, nothing else of the
 * row changed (pgscore.resign_models).
 */
CREATE OR REPLACE FUNCTION pgscore.forbid_mutation() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF TG_OP = 'UPDATE' AND TG_TABLE_NAME IN ('artifacts', 'evaluators') THEN
        IF OLD.hmac_sha256 !~ '^v2:' AND NEW.hmac_sha256 ~ '^v2:'
           AND to_jsonb(NEW) - 'hmac_sha256' = to_jsonb(OLD) - 'hmac_sha256' THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'pgscore.% rows are immutable: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'deploy a new version, or roll back with pgscore.rollback';
END
$fn$;
COMMENT ON FUNCTION pgscore.forbid_mutation() IS 'Trigger function: refuses UPDATE on the append-only registry tables (but a first-scheme signature replaced by a bound one, pgscore.resign_models)';


/*
 * Signs again every artifact and evaluator signed under the first scheme (the
 * HMAC of its bytes alone, which verified wherever those bytes were copied:
 * another model, another version), bound to its model and version as deploy
 * signs now, once that signature verifies with the server's key; those that
 * do not verify are left as they are and returned with why. Runs as its owner:
 * it reads the bytes, as load_model does.
 */
CREATE FUNCTION pgscore.resign_models()
RETURNS TABLE (name text, version integer, kind text, resigned boolean, reason text)
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $pl$
try:
    from pgscore.pl import resign_models
except ImportError as e:  # a server started without pgscore's environment
    plpy.error("pgscore cannot be imported by the database's Python: %s" % e, sqlstate="58P01",
               hint="restart the server with PYTHONPATH naming the site-packages directory of the environment pgscore was installed into with the server's own Python, not the venv itself (any pgscore command of that environment prints the exact value; README, 'Installing into an existing server'), then SELECT pgscore.validate_environment()")
return resign_models(plpy, GD)
$pl$;
COMMENT ON FUNCTION pgscore.resign_models() IS 'Sign again, bound to their model and version, the artifacts and evaluators signed under the first scheme (their bytes alone) whose signature verifies with the server''s key; returns each with whether it was';
REVOKE EXECUTE ON FUNCTION pgscore.resign_models() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgscore.resign_models() TO pgscore_admin;
