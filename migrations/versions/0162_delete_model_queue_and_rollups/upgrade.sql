-- 0160 to 0162: pgscore.delete_model also deletes its versions' rollups (pgscore.drift_rollup, drift_rollup_day)
-- and counts them; the queued rescorings of its detached wirings stay (review r2 of session 66); its signature,
-- owner and grants are unchanged

CREATE OR REPLACE FUNCTION pgscore.delete_model(p_name text)
RETURNS TABLE (table_name text, rows bigint)
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_ids bigint[];
    v_holds text[] := '{}';
    v_steps text[] := '{}';
    v_list text;
    v_more boolean;
    v_detach text;  -- (a holder's steps, as its hint gives them)
    v_models bigint;
    v_artifacts bigint;
    v_evaluators bigint;
    v_baselines bigint;
    v_deployments bigint;
    v_shadows bigint;
    v_failures bigint;
    v_states bigint;
    v_rollups bigint;
    v_rollup_days bigint;
BEGIN
    IF p_name IS NULL THEN
        RAISE EXCEPTION 'pgscore.delete_model: model name must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- a standby, or a read-only transaction, refuses its writes: said so, with where to run it (as record_outcome)
    IF current_setting('transaction_read_only') = 'on' THEN
        RAISE EXCEPTION 'pgscore.delete_model writes the registry: not %',
            CASE WHEN pg_is_in_recovery() THEN 'on a standby, whose transactions are all read-only'
                 ELSE 'in a read-only transaction' END
            USING ERRCODE = 'read_only_sql_transaction',
                  HINT = CASE WHEN pg_is_in_recovery()
                              THEN 'run it on the primary: a hot standby (a read replica) takes no writes, and gets them by replication'
                              ELSE 'run it in a transaction that may write: not one begun READ ONLY, nor in a session with default_transaction_read_only = on' END;
    END IF;
    -- no prediction or outcome in flight: a transaction that scored the name (its audit rows buffered in
    -- pgscore.log_pending, or written to pgscore.prediction_log and not yet committed) or recorded an outcome of it
    -- is waited for, and none starts until this commits; else its rows, invisible to the checks below, committed
    -- after the delete and named a version gone (rows of the log no model names). Taken before the name's lock, as
    -- a transaction that scored and then deploys the name takes the log's before the name's
    -- (a REPEATABLE READ or SERIALIZABLE transaction reads as of its snapshot, taken before the lock: it would not
    -- see what the transactions it waited for committed)
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'pgscore.delete_model must run in a READ COMMITTED transaction, not %',
                        upper(current_setting('transaction_isolation'))
            USING ERRCODE = 'invalid_transaction_state',
                  HINT = 'it waits for the predictions and outcomes of the name in flight, then reads them: a '
                         'snapshot taken before that cannot see them; call it on its own (autocommit) or in a '
                         'transaction begun READ COMMITTED, as pgscore delete does';
    END IF;
    LOCK TABLE ONLY pgscore.log_pending, pgscore.prediction_log, pgscore.outcomes IN SHARE MODE;
    -- one change at a time per model, as register_model, activate, rollback, retire and the shadows take it: what
    -- is read below includes what a deploy or shadow of the name committed while this waited, and one that waits
    -- for this reads the name deleted
    INSERT INTO pgscore.model_locks AS l (name) VALUES (p_name)
        ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name;
    v_ids := ARRAY(SELECT m.model_id FROM pgscore.models m WHERE m.name = p_name ORDER BY m.version);
    IF cardinality(v_ids) = 0 THEN
        RAISE EXCEPTION 'there is no model %', quote_literal(p_name) USING ERRCODE = 'undefined_object',
            HINT = pgscore.model_name_hint(p_name);
    END IF;
    -- what holds it, each a phrase of the refusal (and, where it can be undone, a step of its hint): the versions
    -- that logged, not their rows counted (a log of millions, read by its index once per version)
    SELECT string_agg(m.version::text, ', ' ORDER BY m.version), count(*) > 1 INTO v_list, v_more
      FROM pgscore.models m
     WHERE m.model_id = ANY (v_ids)
       AND EXISTS (SELECT 1 FROM pgscore.prediction_log g WHERE g.model_id = m.model_id);
    IF v_list IS NOT NULL THEN
        v_holds := v_holds || format('version%s %s logged predictions (pgscore.prediction_log, the audit log)',
                                     CASE WHEN v_more THEN 's' ELSE '' END, v_list);
    END IF;
    IF EXISTS (SELECT 1 FROM pgscore.outcomes o WHERE o.model_name = p_name) THEN
        v_holds := v_holds || 'outcomes were recorded for it (pgscore.outcomes)'::text;
    END IF;
    SELECT string_agg(format('%s from %s', w.profile_table, w.event_table), ', ' ORDER BY w.rescoring_id),
           string_agg(format('pgscore.detach_rescoring(%L)', w.event_table), ', ' ORDER BY w.rescoring_id)
      INTO v_list, v_detach
      FROM pgscore.rescoring w WHERE w.model_name = p_name;
    IF v_list IS NOT NULL THEN
        v_holds := v_holds || format('it rescores %s (pgscore.rescoring)', v_list);
        v_steps := v_steps || v_detach;
    END IF;
    SELECT string_agg(s.version::text, ', ' ORDER BY s.version), count(*) > 1 INTO v_list, v_more
      FROM pgscore.shadow_versions s WHERE s.name = p_name;
    IF v_list IS NOT NULL THEN
        v_holds := v_holds || format('version%s %s %s scored in shadow (pgscore.shadow_versions)',
                                     CASE WHEN v_more THEN 's' ELSE '' END, v_list,
                                     CASE WHEN v_more THEN 'are' ELSE 'is' END);
        v_steps := v_steps || format('pgscore.clear_shadow(%L) (pgscore shadow %s --off)', p_name, p_name);
    END IF;
    SELECT string_agg(DISTINCT o.metric, ', ') INTO v_list
      FROM pgscore.drift_threshold_overrides o WHERE o.model = p_name;
    IF v_list IS NOT NULL THEN
        v_holds := v_holds || format('it has thresholds of its own, of %s (pgscore.drift_threshold_overrides)', v_list);
        v_steps := v_steps || format('pgscore.clear_thresholds(%L) (pgscore thresholds %s --clear)', p_name,
                                     p_name);
    END IF;
    SELECT string_agg(q.id::text, ', ' ORDER BY q.id), count(*) > 1,
           string_agg(format('pgscore.lift_silence(%s) (pgscore unsilence %s)', q.id, q.id), ', ' ORDER BY q.id)
      INTO v_list, v_more, v_detach
      FROM pgscore.alert_silences q WHERE q.model = p_name AND q.lifted_at IS NULL AND q.ends_at > now();
    IF v_list IS NOT NULL THEN
        v_holds := v_holds || format('silence%s %s of its alerts %s in force or to come (pgscore.alert_silences)',
                                     CASE WHEN v_more THEN 's' ELSE '' END, v_list,
                                     CASE WHEN v_more THEN 'are' ELSE 'is' END);
        v_steps := v_steps || v_detach;
    END IF;
    IF cardinality(v_holds) > 0 THEN
        -- (the hint's steps only where each holder has one: predictions and outcomes go with retention alone)
        RAISE EXCEPTION 'model % cannot be deleted: %', quote_literal(p_name), array_to_string(v_holds, '; ')
            USING ERRCODE = 'dependent_objects_still_exist',
                  HINT = format('retire it instead: pgscore.retire(%L) (pgscore retire %s) stops its scoring and '
                                'keeps its versions', p_name, p_name)
                         || CASE WHEN cardinality(v_steps) = cardinality(v_holds)
                                 THEN '; or, to delete it, first ' || array_to_string(v_steps, ', ')
                                 ELSE '' END;
    END IF;
    -- the rows that refer to the versions first (explain_model_delete refuses a version still referred to)
    DELETE FROM pgscore.shadow_failures f WHERE f.model_id = ANY (v_ids);
    GET DIAGNOSTICS v_failures = ROW_COUNT;
    DELETE FROM pgscore.shadows s WHERE s.model_name = p_name;
    GET DIAGNOSTICS v_shadows = ROW_COUNT;
    DELETE FROM pgscore.deployments d WHERE d.model_name = p_name;
    GET DIAGNOSTICS v_deployments = ROW_COUNT;
    DELETE FROM pgscore.evaluators e WHERE e.model_id = ANY (v_ids);
    GET DIAGNOSTICS v_evaluators = ROW_COUNT;
    DELETE FROM pgscore.baselines b WHERE b.model_id = ANY (v_ids);
    GET DIAGNOSTICS v_baselines = ROW_COUNT;
    DELETE FROM pgscore.artifacts a WHERE a.model_id = ANY (v_ids);
    GET DIAGNOSTICS v_artifacts = ROW_COUNT;
    DELETE FROM pgscore.models m WHERE m.model_id = ANY (v_ids);
    GET DIAGNOSTICS v_models = ROW_COUNT;
    DELETE FROM pgscore.alert_state a WHERE a.model = p_name;
    GET DIAGNOSTICS v_states = ROW_COUNT;
    -- (the queued rescorings of a wiring of it detached before, pgscore.error_queue of no wiring, stay: they are
    -- profiles whose score is stale, which the next wiring of their profile table takes over, whatever its model,
    -- and retry_failed rescores; review r2 of session 66)
    -- (migration 0162) the rollups of its versions, left where their log rows were all erased (erase_entity):
    -- rows of a model_id no model has, read by nothing, until retention took their days
    DELETE FROM pgscore.drift_rollup r WHERE r.model_id = ANY (v_ids);
    GET DIAGNOSTICS v_rollups = ROW_COUNT;
    DELETE FROM pgscore.drift_rollup_day r WHERE r.model_id = ANY (v_ids);
    GET DIAGNOSTICS v_rollup_days = ROW_COUNT;
    RETURN QUERY VALUES ('pgscore.models', v_models), ('pgscore.artifacts', v_artifacts),
                        ('pgscore.evaluators', v_evaluators), ('pgscore.baselines', v_baselines),
                        ('pgscore.deployments', v_deployments), ('pgscore.shadows', v_shadows),
                        ('pgscore.shadow_failures', v_failures), ('pgscore.alert_state', v_states),
                        ('pgscore.drift_rollup', v_rollups), ('pgscore.drift_rollup_day', v_rollup_days);
END
$fn$;
COMMENT ON FUNCTION pgscore.delete_model(text) IS 'Delete a model name deployed by mistake with all its versions (artifacts, evaluators, baselines, deployments, shadow history, alert state; since 0162 its versions'' rollups), under the name''s lock; refused (2BP01, naming what holds it; hint: retire it) where a version logged predictions, outcomes were recorded, a table is wired to it, a version is a shadow, or it has thresholds or silences in force; returns the rows deleted per table (migration 0156)';
