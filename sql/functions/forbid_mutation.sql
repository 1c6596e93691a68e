/*
 * Trigger function that keeps registry rows immutable: models, artifacts and
 * deployments are appended, never updated. One change only: an artifact's or
 * evaluator's signature of the first scheme (its bytes alone) replaced by one
 * of the scheme that binds it to its model and version, nothing else of the
 * row changed (pgscore.resign_models).
 */
CREATE FUNCTION pgscore.forbid_mutation() RETURNS trigger
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
 * The prediction log is append-only too: an audit trail that can be edited
 * is none, and refresh_monitoring takes a bucket whose row count did not
 * change to hold the rows it rolled up. Retention removes whole days
 * (drop_log_partitions), never single rows' values.
 */
CREATE FUNCTION pgscore.forbid_log_update() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    RAISE EXCEPTION 'pgscore.prediction_log is append-only: UPDATE is not allowed'
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'log a new prediction instead; pgscore.drop_log_partitions removes whole days';
END
$fn$;
COMMENT ON FUNCTION pgscore.forbid_log_update() IS 'Trigger function: refuses UPDATE on pgscore.prediction_log (and each of its partitions), which is append-only';
