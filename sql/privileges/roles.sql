/*
 * Privileges. No pgscore function or procedure but float8_image,
 * score_table_commit and refuse_read_only are executable by PUBLIC; three roles, none a
 * superuser, hold what each kind of user needs:
 *
 * - pgscore_reader (BI tools) reads the monitoring and score views and
 *   nothing else: not the tables behind them, not the artifact bytes, no
 *   function that writes.
 * - pgscore_app (the application) scores (row, batch and write-back), logs
 *   its predictions, records outcomes and drains the rescoring queue; it
 *   reads the registry's metadata but not the artifact bytes
 *   (pgscore.load_model reads them as its owner) and writes no model,
 *   deployment, baseline or threshold. Inserting into a table wired by
 *   attach_rescoring also needs UPDATE (and INSERT, to create profiles) on
 *   the profile table, granted by its owner.
 * - pgscore_admin deploys, activates, rolls back and retires models, edits
 *   windows and thresholds, refreshes the monitoring, manages the log's
 *   partitions and wires rescoring; it holds every right of the app and the
 *   reader too (granted directly: role memberships are global to the
 *   cluster, so pgscore grants none).
 *
 * Roles are global to the cluster, so an install creates each only where it
 * is missing. Grant them to login roles: GRANT pgscore_app TO billing_svc;
 */
REVOKE EXECUTE ON ALL ROUTINES IN SCHEMA pgscore FROM PUBLIC;
-- but not the function that only returns the bytes of an array its caller already has: whoever may run
-- predict_batch, score_table or an INSERT into a wired table reads features through it
GRANT EXECUTE ON FUNCTION pgscore.float8_image(float8[]) TO PUBLIC;
-- nor score_table's first step, which does nothing but a COMMIT (any role may COMMIT): score_table is not
-- SECURITY DEFINER (a procedure that is cannot commit), so whoever may CALL it calls this as itself (migration
-- 0095; granted to pgscore_app and pgscore_admin alone, a role granted EXECUTE on score_table got 42501)
GRANT EXECUTE ON PROCEDURE pgscore.score_table_commit() TO PUBLIC;
-- nor the writers' refusal of a read-only transaction, which reads two settings of its caller's session and raises
-- 25006 or does nothing: the writers that run as their caller call it as that caller (granted to pgscore_admin alone,
-- 0169, a role a DBA granted such a writer directly got 42501 for it in a read-only transaction; session 68)
GRANT EXECUTE ON FUNCTION pgscore.refuse_read_only(text) TO PUBLIC;
-- float8_array_unchecked takes any bytes for an array: its owner's alone, also where default privileges
-- (ALTER DEFAULT PRIVILEGES) granted it to someone when it was created
DO $do$
DECLARE
    v_grantee regrole;
BEGIN
    FOR v_grantee IN SELECT a.grantee::regrole FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a
                      WHERE p.oid = 'pgscore.float8_array_unchecked(bytea)'::pg_catalog.regprocedure
                        AND a.grantee <> p.proowner AND a.grantee <> 0
    LOOP
        EXECUTE pg_catalog.format('REVOKE EXECUTE ON FUNCTION pgscore.float8_array_unchecked(bytea) FROM %s', v_grantee);
    END LOOP;
END
$do$;

DO $do$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'pgscore_reader') THEN
        CREATE ROLE pgscore_reader NOLOGIN;
        COMMENT ON ROLE pgscore_reader IS 'pgscore: reads the monitoring and score views (BI tools); writes nothing';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'pgscore_app') THEN
        CREATE ROLE pgscore_app NOLOGIN;
        COMMENT ON ROLE pgscore_app IS 'pgscore: scores, logs predictions, records outcomes; writes no model and reads no artifact bytes';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'pgscore_admin') THEN
        CREATE ROLE pgscore_admin NOLOGIN;
        COMMENT ON ROLE pgscore_admin IS 'pgscore: deploys and rolls back models, edits thresholds, refreshes monitoring; holds the app''s and the reader''s rights too';
    END IF;
END
$do$;
GRANT USAGE ON SCHEMA pgscore TO pgscore_reader;
GRANT SELECT ON pgscore.model_versions, pgscore.predictions, pgscore.feature_drift, pgscore.score_drift,
    pgscore.drift_by_day, pgscore.outcome_matches, pgscore.realised_performance, pgscore.performance_by_day,
    pgscore.calibration, pgscore.alerts, pgscore.shadow_versions, pgscore.realised_performance_by_version,
    pgscore.performance_by_day_by_version, pgscore.baseline_bins, pgscore.window_checks, pgscore.class_drift,
    pgscore.realised_performance_by_outcome_time TO pgscore_reader;
-- a shadow against the live version: its pairs, their agreement, and both judged on the same outcomes (0138)
GRANT SELECT ON pgscore.shadow_pairs, pgscore.shadow_comparison, pgscore.realised_against_live TO pgscore_reader;
-- the windows and thresholds the views and alerts are computed with (dashboards draw the threshold lines)
GRANT SELECT ON pgscore.drift_windows, pgscore.drift_thresholds TO pgscore_reader;
-- the silences of alerts, which alerts reads (BI shows who silenced what, why and until when; 0126)
GRANT SELECT ON pgscore.alert_silences TO pgscore_reader;
-- the per-model overrides of the thresholds, which the views judge by (0129)
GRANT SELECT ON pgscore.drift_threshold_overrides TO pgscore_reader;
-- what retention and erasure removed, and the floor of retention (an auditor reads them; 0141)
GRANT SELECT ON pgscore.log_retention, pgscore.retention_policy TO pgscore_reader;
-- the read-only functions behind the drift and performance views (a view runs the functions it
-- calls with the caller's privileges; these are SECURITY DEFINER and read only)
GRANT EXECUTE ON FUNCTION pgscore.drift_stats(), pgscore.performance_stats(), pgscore.drift_counts(text, text)
    TO pgscore_reader, pgscore_admin;
-- per version (realised_performance_by_version; version_drift, the drift of a version live or not)
GRANT EXECUTE ON FUNCTION pgscore.performance_stats(boolean), pgscore.version_drift(text, integer)
    TO pgscore_reader, pgscore_admin;
-- the shadow versions' drift and realised performance, which alerts reads
GRANT EXECUTE ON FUNCTION pgscore.shadow_drift_stats(), pgscore.shadow_performance_stats()
    TO pgscore_reader, pgscore_admin;
-- what the views of realised performance read: the kind of period each reports (windows or days) alone
GRANT EXECUTE ON FUNCTION pgscore.performance_stats_of(boolean, bigint[], text) TO pgscore_reader, pgscore_admin;
-- the live versions' drift in the windows alone, which alerts reads (0103)
GRANT EXECUTE ON FUNCTION pgscore.window_drift_stats() TO pgscore_reader, pgscore_admin;
-- the live classifiers' predicted-class mix, which class_drift and alerts read (0122)
GRANT EXECUTE ON FUNCTION pgscore.class_drift_stats() TO pgscore_reader, pgscore_admin;
-- the drift rows, realised performance, firing conditions and alerts of the models named (0136): what the views
-- drift_rows, performance_rows, firing and alerts read for every model (and so their readers call), and pgscore
-- drift NAME for the models it shows
GRANT EXECUTE ON FUNCTION pgscore.drift_rows_of(text[], text), pgscore.performance_rows_of(text[]),
    pgscore.firing_of(text[]), pgscore.alerts_of(text[]) TO pgscore_reader, pgscore_admin;
-- the counts per baseline bin of the versions named, which the HTML report of pgscore drift draws for the models it
-- shows (0149; it read pgscore.drift_counts, which counts every live model's, once for each model shown)
GRANT EXECUTE ON FUNCTION pgscore.drift_counts_of(bigint[], text, text) TO pgscore_admin;
-- the noise floors the levels are judged against, and the normal quantile behind them: they read nothing
GRANT EXECUTE ON FUNCTION pgscore.noise_floor(text, bigint, bigint, float8[], float8, float8, bigint),
    pgscore.normal_quantile(float8) TO pgscore_reader, pgscore_admin;
-- each check of a row's checks, and what its noise floor held back, as window_checks reads them: reads nothing
GRANT EXECUTE ON FUNCTION pgscore.check_rows(jsonb) TO pgscore_reader, pgscore_admin;
-- a JSON number as float8, NULL where it is none (0113), which the views of realised performance call as their
-- reader (performance_rows, realised_performance_by_version, judged_predictions): reads nothing
GRANT EXECUTE ON FUNCTION pgscore.jsonb_float8(jsonb) TO pgscore_reader, pgscore_admin;
-- the thresholds a metric of a model is judged by and where each came from (0133): the one rule, which judge,
-- set_thresholds, the trigger checking their order (run as their caller) and pgscore drift read
GRANT EXECUTE ON FUNCTION pgscore.effective_thresholds(text, text, text) TO pgscore_reader, pgscore_admin;
-- the health check (0140): counts, times and names from small tables, read as its owner, for a monitoring login
GRANT EXECUTE ON FUNCTION pgscore.health() TO pgscore_reader, pgscore_app, pgscore_admin;
GRANT EXECUTE ON FUNCTION pgscore.health(text[]) TO pgscore_reader, pgscore_app, pgscore_admin;
-- (0174) health()'s numbers per model, for a scraper
GRANT EXECUTE ON FUNCTION pgscore.metrics() TO pgscore_reader, pgscore_app, pgscore_admin;
-- (0182) the models the calling backend keeps loaded and their bytes: its own state alone
GRANT EXECUTE ON FUNCTION pgscore.cached_models() TO pgscore_reader, pgscore_app, pgscore_admin;

-- the application
GRANT USAGE ON SCHEMA pgscore TO pgscore_app, pgscore_admin;
GRANT SELECT ON pgscore.models, pgscore.deployments, pgscore.baselines, pgscore.rescoring, pgscore.live_models,
    pgscore.model_versions, pgscore.outcomes, pgscore.shadows, pgscore.shadow_versions
    TO pgscore_app, pgscore_admin;
-- the scoring functions run as their caller and write the audit rows as such (but the query path's rows
-- buffered until COMMIT, which flush_query_log writes as its owner: the role at COMMIT may differ, and
-- each row's cause names the role that scored): the log is a record of
-- what was scored, not proof against a caller that writes rows of its own (outcomes go through
-- record_outcome, which runs as its owner and checks them). INSERT on every column but logged_at (migration
-- 0127): a row takes the column's default, its transaction's now(), so no caller back-dates (or post-dates) one
-- into the windows drift and performance read; every path lists its columns without logged_at
GRANT SELECT ON pgscore.prediction_log TO pgscore_app, pgscore_admin;
GRANT INSERT (model_id, entity_key, features, score, label, source, cause) ON pgscore.prediction_log
    TO pgscore_app, pgscore_admin;
-- the marker of a transaction with buffered audit rows: set by the scoring role, deleted at commit by
-- flush_query_log as its owner (a DELETE would let a role lock the table, and stall every session's scoring).
-- INSERT on created_at alone: the marker's xid and backend are their defaults, this transaction's and this
-- backend's (INSERT ... DEFAULT VALUES needs INSERT on one column). A role that could write xid left rows of
-- made-up transactions, which no flush deletes (migration 0042)
GRANT INSERT (created_at) ON pgscore.log_pending TO pgscore_app, pgscore_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON pgscore.error_queue TO pgscore_app, pgscore_admin;
-- the replicated events a two_phase subscription's worker held back (a prepared transaction held their profile):
-- put there by the worker, which runs as the subscription's owner, and folded (read, claimed FOR UPDATE and
-- deleted) by the next rescoring of the wiring there or by retry_failed, as its caller. The table's row-level
-- security lets only a logical replication worker INSERT and no one UPDATE (UPDATE on held_at: the claim's lock)
GRANT SELECT, INSERT, DELETE ON pgscore.replicated_pending TO pgscore_app, pgscore_admin;
GRANT UPDATE (held_at) ON pgscore.replicated_pending TO pgscore_app, pgscore_admin;
-- a shadow's failures, which pgscore status reads; counted by the rescoring trigger and score_table, as the role
-- that scores, through count_shadow_failure alone (as its owner: its own backend's row, of a version scored in
-- shadow, only added to). INSERT and UPDATE on the table let any app login forge or zero the counts
GRANT SELECT ON pgscore.shadow_failures TO pgscore_app, pgscore_admin;
GRANT EXECUTE ON FUNCTION
    pgscore.score(text, float8[], integer, text), pgscore.score(text, jsonb, integer, text),
    pgscore.category_code(text, text, text, integer), pgscore.category_code(text, text, bpchar, integer),
    pgscore.predict(text, float8[], integer, text), pgscore.predict(text, jsonb, integer, text),
    pgscore.predict_proba(text, float8[], integer, text), pgscore.predict_proba(text, jsonb, integer, text),
    pgscore.predict_batch(text, text, integer, integer, boolean, text),
    pgscore.batch_chunks(text, text, integer, integer, boolean, text), pgscore.batch_error(jsonb),
    pgscore.batch_sql(text, text, integer, integer, boolean, text), pgscore.batch_row(text, integer, text, bytea),
    pgscore.float8_array(bytea), pgscore.feature_number(text, text, text),
    pgscore.feature_number(text, text, text, text),
    pgscore.score_chunk(text, regclass, name, name, text, integer, integer, boolean, name, name),
    pgscore.load_model(bigint),
    pgscore.record_outcome(text, text, text, timestamptz), pgscore.record_outcome(text, text, float8, timestamptz),
    pgscore.record_outcome(text, text, boolean, timestamptz),
    pgscore.record_outcome(text, uuid, text, timestamptz), pgscore.record_outcome(text, uuid, float8, timestamptz),
    pgscore.record_outcome(text, uuid, boolean, timestamptz), pgscore.record_outcome(text, bigint, text, timestamptz),
    pgscore.record_outcome(text, bigint, float8, timestamptz), pgscore.record_outcome(text, bigint, boolean, timestamptz),
    pgscore.retry_failed(text, integer), pgscore.refresh_windows(regclass, integer),
    pgscore.backfill_rescoring(regclass), pgscore.rescore_profiles(regclass, regclass, text, integer),
    pgscore.count_shadow_failure(bigint, text, text, bigint, text)
    TO pgscore_app, pgscore_admin;
GRANT EXECUTE ON PROCEDURE pgscore.score_table(text, regclass, name, name, integer, integer, boolean, bigint, boolean, text, interval,
                                                name, name)
    TO pgscore_app, pgscore_admin;

-- the administrator: everything the app and the reader may do (granted above, not through membership:
-- memberships are global to the cluster, and a downgrade in one database must not change another), and
-- the registry
GRANT SELECT ON ALL TABLES IN SCHEMA pgscore TO pgscore_admin;
GRANT INSERT ON pgscore.models, pgscore.artifacts, pgscore.deployments, pgscore.baselines, pgscore.evaluators
    TO pgscore_admin;
-- (pgscore.shadows: written by set_shadow and clear_shadow alone, as their owner, after set_shadow's checks; and by
-- the deployments' trigger end_shadow_made_live, as its owner, where a go-live ends a shadow: migration 0121)
GRANT USAGE ON SEQUENCE pgscore.rescoring_rescoring_id_seq TO pgscore_admin;  -- attach_rescoring draws the id
-- the lock every change of a model takes per name (register_model, activate, rollback, retire; a row of its
-- own: an advisory lock, which any role may take, let a login granted nothing hold up every deploy and retire
-- of a model; migration 0043)
GRANT INSERT, UPDATE ON pgscore.model_locks TO pgscore_admin;
-- silence_alerts and lift_silence run as their caller (as activate does): a silence is inserted, and lifted by
-- setting lifted_at and lifted_by alone; never deleted (0126)
GRANT INSERT ON pgscore.alert_silences TO pgscore_admin;
GRANT UPDATE (lifted_at, lifted_by) ON pgscore.alert_silences TO pgscore_admin;
-- set_thresholds and clear_thresholds run as their caller too (0129): the admin edits thresholds
GRANT INSERT, UPDATE, DELETE ON pgscore.drift_threshold_overrides TO pgscore_admin;
-- every write of the thresholds updates threshold_writes' row, as its writer (0133: check_threshold_order)
GRANT UPDATE ON pgscore.threshold_writes TO pgscore_admin;
GRANT INSERT, UPDATE, DELETE ON pgscore.drift_windows, pgscore.drift_thresholds,
    pgscore.drift_rollup, pgscore.drift_rollup_day, pgscore.monitoring_state, pgscore.alert_state
    TO pgscore_admin;
-- a wiring is written by attach_rescoring and removed by detach_rescoring and forget_rescoring, as their caller;
-- never updated (UPDATE let a hand-written statement change a wiring's counters, SQL that every role inserting events
-- runs, or its tables, past attach's checks; detach and forget lock the row by deleting it: migration 0082)
GRANT INSERT, DELETE ON pgscore.rescoring TO pgscore_admin;
GRANT EXECUTE ON FUNCTION
    pgscore.register_model(text, bytea, text, jsonb, jsonb, boolean, text, bytea, jsonb),
    pgscore.activate(text, integer, text, boolean), pgscore.rollback(text, integer, text, boolean), pgscore.retire(text, text),
    pgscore.delete_model(text),  -- (as its owner: pgscore_admin deletes from none of the registry's tables; 0156)
    pgscore.load_or_refuse(bigint, text, text),
    pgscore.model_name_hint(text),  -- (activate, rollback and retire give its hint, run as their caller: migration 0124)
    pgscore.set_shadow(text, integer, text, boolean), pgscore.clear_shadow(text, integer, text),
    pgscore.feature_order_differs(text[], text[], integer, integer),  -- (the deployments' trigger runs it as the role that makes a version live)
    pgscore.score_columns_read(bigint, bigint),  -- (the deployments' trigger and attach_rescoring run it as their caller)
    pgscore.refresh_monitoring(interval, boolean), pgscore.match_outcomes(timestamptz),
    pgscore.silence_alerts(text, interval, text, text, text, text, text, boolean, timestamptz),
    pgscore.lift_silence(bigint),
    pgscore.set_thresholds(text, text, float8, float8, integer, float8, text), pgscore.clear_thresholds(text, text, text),
    pgscore.judge(text[], float8[], bigint[]),
    pgscore.judge(text[], float8[], bigint[], float8[]),
    pgscore.judge(text[], float8[], bigint[], text, text),
    pgscore.judge(text[], float8[], bigint[], float8[], text, text),
    pgscore.create_log_partitions(integer, date), pgscore.drop_log_partitions(interval),
    pgscore.redact_log_features(interval, integer, boolean), pgscore.erase_entity(text, text),
    pgscore.attach_rescoring(regclass, regclass, name, text, name, jsonb, name, name, text, boolean, name, boolean, name),
    pgscore.detach_rescoring(regclass, regclass), pgscore.forget_rescoring(bigint), pgscore.rescore_events(),
    pgscore.rescore_replicated(),
    pgscore.validate_environment(), pgscore.signing_on(), pgscore.resign_models()
    TO pgscore_admin;
