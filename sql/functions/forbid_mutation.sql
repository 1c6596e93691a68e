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
 * (drop_log_partitions) and one entity's rows (erase_entity), never single
 * rows' values; one change only (migration 0141): a row's features emptied,
 * nothing else of it changed, by redact_log_features, which first records its
 * call in pgscore.log_retention with its cut: the row must be logged before
 * the cut of a redaction of the updating transaction itself. No setting lets
 * a writer past (a role that may write log_retention is its owner).
 * pgscore.log_retention is append-only too, but for the rows of the
 * transaction that writes them (its functions record a call, then its counts).
 */
CREATE FUNCTION pgscore.forbid_log_update() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF TG_TABLE_NAME = 'log_retention' THEN
        IF TG_LEVEL = 'ROW' AND OLD.xid = pg_current_xact_id() THEN
            RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
        END IF;
        RAISE EXCEPTION 'pgscore.log_retention is append-only: % is not allowed', TG_OP
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'it records what drop_log_partitions, redact_log_features and erase_entity removed';
    END IF;
    -- every column but the features unchanged, written_by (0139) and any added later included (review r6)
    IF NEW.features = '{}'::float8[] AND cardinality(OLD.features) > 0
       AND to_jsonb(NEW) - 'features' = to_jsonb(OLD) - 'features'
       AND EXISTS (SELECT 1 FROM pgscore.log_retention r
                    WHERE r.xid = pg_current_xact_id() AND r.action = 'redact' AND OLD.logged_at < r.cut) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'pgscore.prediction_log is append-only: UPDATE is not allowed'
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'log a new prediction instead; pgscore.drop_log_partitions removes whole days, '
                     'pgscore.redact_log_features the features of old days, pgscore.erase_entity an entity''s rows';
END
$fn$;
COMMENT ON FUNCTION pgscore.forbid_log_update() IS 'Trigger function: refuses UPDATE on pgscore.prediction_log (and each of its partitions), which is append-only, but a row''s features emptied by pgscore.redact_log_features (0141); and UPDATE, DELETE and TRUNCATE on pgscore.log_retention but of the rows of the writing transaction';

/*
 * (migration 0158) pgscore.models and pgscore.deployments written by a subscription of logical replication (the
 * registry published from another database: one deploy, two clusters): a row appended or deleted here takes ids of
 * this database's own identity sequences, which replication does not advance, and fails on the key (23505), or,
 * once one passes, stops the subscription at the publisher's next row of that id. pgscore deploy, activate,
 * rollback, retire and delete refuse first (registry.check_not_subscribed); this refuses the same writes made in
 * SQL (pgscore.activate, register_model, retire, a row by hand), a statement at a time. The subscription's apply
 * worker runs as the replica role, for which a trigger enabled as this one (origin) does not fire.
 */
CREATE FUNCTION pgscore.refuse_subscribed_registry() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_subs text;
BEGIN
    SELECT string_agg(DISTINCT quote_ident(s.subname), ', ') INTO v_subs
      FROM pg_subscription_rel r
      JOIN pg_subscription s ON s.oid = r.srsubid
     WHERE r.srrelid IN ('pgscore.models'::regclass, 'pgscore.deployments'::regclass);
    IF v_subs IS NOT NULL THEN
        RAISE EXCEPTION '% on pgscore.% writes the registry, which subscription % writes here (logical replication of pgscore.models and pgscore.deployments from another database)',
                        TG_OP, TG_TABLE_NAME, v_subs
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'ids taken here would collide with the ones the publisher sends: the write fails (23505), '
                           'or the subscription stops at the publisher''s next one',
                  HINT = 'deploy, activate, roll back, retire and delete in the publisher''s database, whose changes '
                         'reach this one (docs/operations.md, ''A fleet: events by logical replication'')';
    END IF;
    RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION pgscore.refuse_subscribed_registry() IS 'Trigger function: refuses an INSERT or DELETE of pgscore.models or pgscore.deployments where a subscription of logical replication writes either (55000; the apply worker, a replica session, is not refused)';
