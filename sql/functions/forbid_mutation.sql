/*
 * Trigger function that keeps registry rows immutable: models, artifacts and
 * deployments are appended, never updated.
 */
CREATE FUNCTION pgscore.forbid_mutation() RETURNS trigger
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
