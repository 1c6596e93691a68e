-- 0052 to 0051: the previous revision verifies a signature of the bytes alone only: the signatures bound to a
-- model and version are dropped (a server with signing on then refuses those versions as unsigned, and pgscore
-- status names the live ones: deploy them again), with a warning saying how many.
DO $do$
DECLARE
    v_artifacts bigint;
    v_evaluators bigint;
BEGIN
    ALTER TABLE pgscore.artifacts DISABLE TRIGGER artifacts_immutable;
    ALTER TABLE pgscore.evaluators DISABLE TRIGGER evaluators_immutable;
    UPDATE pgscore.artifacts SET hmac_sha256 = NULL WHERE hmac_sha256 ~ '^v2:';
    GET DIAGNOSTICS v_artifacts = ROW_COUNT;
    UPDATE pgscore.evaluators SET hmac_sha256 = NULL WHERE hmac_sha256 ~ '^v2:';
    GET DIAGNOSTICS v_evaluators = ROW_COUNT;
    ALTER TABLE pgscore.artifacts ENABLE TRIGGER artifacts_immutable;
    ALTER TABLE pgscore.evaluators ENABLE TRIGGER evaluators_immutable;
    IF v_artifacts + v_evaluators > 0 THEN
        RAISE WARNING '% artifact(s) and % evaluator(s) were signed bound to their model and version, which this revision cannot verify: they are unsigned now', v_artifacts, v_evaluators
            USING HINT = 'with signing on, the server refuses them: deploy those versions again (pgscore deploy), which signs them';
    END IF;
END
$do$;
ALTER TABLE pgscore.artifacts DROP CONSTRAINT artifacts_hmac_check;
ALTER TABLE pgscore.artifacts ADD CONSTRAINT artifacts_hmac_check CHECK (hmac_sha256 ~ '^[0-9a-f]{64}$');
ALTER TABLE pgscore.evaluators DROP CONSTRAINT evaluators_hmac_check;
ALTER TABLE pgscore.evaluators ADD CONSTRAINT evaluators_hmac_check CHECK (hmac_sha256 ~ '^[0-9a-f]{64}$');

DROP FUNCTION pgscore.resign_models();

CREATE OR REPLACE FUNCTION pgscore.forbid_mutation() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    RAISE EXCEPTION 'pgscore.% rows are immutable: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'deploy a new version, or roll back with pgscore.rollback';
END
$fn$;
COMMENT ON FUNCTION pgscore.forbid_mutation() IS 'Trigger function: refuses UPDATE on the append-only registry tables';
