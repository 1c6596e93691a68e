-- 0167 to 0169 (session 67, h6): the refusal of a writer on a standby or in a read-only transaction, written into
-- nineteen writers (0154, 0162, 0163), is one internal function, pgscore.refuse_read_only, each writer calling it
-- (its messages unchanged); delete_model takes the refresh's lock (monitoring_state's) too, never holding it or its
-- SHARE locks while it waits for the other (a refresh running and a delete_model deadlocked: the refresh held the
-- day rollups it had deleted, which the delete of the model's rollups waited for, and waited for delete_model's
-- SHARE lock on the outcomes; review r3: taken first and held, it deadlocked with a transaction that wrote and then
-- refreshed)

CREATE FUNCTION pgscore.refuse_read_only(p_writes text) RETURNS void
LANGUAGE plpgsql
VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF p_writes IS NULL THEN
        RAISE EXCEPTION 'pgscore.refuse_read_only: what the writer writes must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'it is internal to pgscore''s writers: pass a phrase such as ''pgscore.retire writes the registry''';
    END IF;
    IF current_setting('transaction_read_only') = 'on' THEN
        RAISE EXCEPTION '%: not %', p_writes,
            CASE WHEN pg_is_in_recovery() THEN 'on a standby, whose transactions are all read-only'
                 ELSE 'in a read-only transaction' END
            USING ERRCODE = 'read_only_sql_transaction',
                  HINT = CASE WHEN pg_is_in_recovery()
                              THEN 'run it on the primary: a hot standby (a read replica) takes no writes, and gets them by replication'
                              ELSE 'run it in a transaction that may write: not one begun READ ONLY, nor in a session with default_transaction_read_only = on' END;
    END IF;
END
$fn$;
COMMENT ON FUNCTION pgscore.refuse_read_only(text) IS 'Internal: raises 25006 naming what the calling writer writes and where to run it, on a standby or in a read-only transaction; else nothing';
REVOKE EXECUTE ON FUNCTION pgscore.refuse_read_only(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgscore.refuse_read_only(text) TO pgscore_admin;

CREATE OR REPLACE FUNCTION pgscore.activate(p_name text, p_version integer, p_reason text DEFAULT NULL,
                                 p_force boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET pgscore.allow_version_mismatch = off
AS $fn$
DECLARE
    r record;
    v_model_id bigint;
    v_refusal text;
    v_fix text;
BEGIN
    -- (session 66) a standby, or a read-only transaction, refuses its writes: said so, with where to run it, as
    -- record_outcome since 0154 (it was PostgreSQL's bare 25006, no hint)
    IF current_setting('transaction_read_only') = 'on' THEN
        PERFORM pgscore.refuse_read_only('pgscore.activate writes the registry');
    END IF;
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
        -- (migration 0124: with scoring's hint, the model it looks like a typo for; it said where they are listed)
        RAISE EXCEPTION 'there is no model %', quote_literal(p_name) USING ERRCODE = 'undefined_object',
            HINT = pgscore.model_name_hint(p_name);
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
    -- the wired profiles keep the score of the version live before until their next event, and nothing rescored
    -- them (migration 0131: the trial's customer 11 held v2's score with v1 live, nothing said so)
    FOR r IN SELECT w.event_table, w.profile_table FROM pgscore.rescoring w
              WHERE w.model_name = p_name ORDER BY w.rescoring_id
    LOOP
        RAISE NOTICE 'the profiles of % (wired from %) keep the scores another version gave them until their next event',
              r.profile_table, r.event_table
            USING HINT = format('rescore them with the live version: SELECT * FROM pgscore.rescore_profiles(%L) '
                                '(pgscore rescore --table %s)', r.event_table, r.event_table);
    END LOOP;
    RETURN v_model_id;
END
$fn$;

CREATE OR REPLACE FUNCTION pgscore.rollback(p_name text, p_to_version integer DEFAULT NULL, p_reason text DEFAULT NULL,
                                 p_force boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET pgscore.allow_version_mismatch = off
AS $fn$
DECLARE
    r record;
    v_stack bigint[] := '{}';
    v_live bigint;
    v_last_live bigint;
    v_at integer;
    v_current_version integer;
    v_target bigint;
    v_version integer;
    v_next integer;
    v_refusal text;
    v_fix text;
BEGIN
    -- (session 66) a standby, or a read-only transaction, refuses its writes: said so, with where to run it, as
    -- record_outcome since 0154 (it was PostgreSQL's bare 25006, no hint)
    IF current_setting('transaction_read_only') = 'on' THEN
        PERFORM pgscore.refuse_read_only('pgscore.rollback writes the registry');
    END IF;
    IF p_name IS NULL OR p_force IS NULL THEN
        RAISE EXCEPTION 'pgscore.rollback: model name and p_force must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- one change at a time per model (as activate takes it): the history replayed below is the one this
    -- rollback's row follows, an activate or deploy in progress committed into it (without the lock, a rollback
    -- while v3 went live read v1, v2 and undid both)
    INSERT INTO pgscore.model_locks AS l (name) VALUES (p_name)
        ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name;
    IF NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_name) THEN
        -- (migration 0124: with scoring's hint, the model it looks like a typo for; it said where they are listed)
        RAISE EXCEPTION 'there is no model %', quote_literal(p_name) USING ERRCODE = 'undefined_object',
            HINT = pgscore.model_name_hint(p_name);
    END IF;
    -- the stack of go-lives (model_ids), replayed from the history; v_live: the live version, NULL when none
    FOR r IN SELECT d.model_id, d.action FROM pgscore.deployments d
              WHERE d.model_name = p_name ORDER BY d.deployment_id
    LOOP
        IF r.action = 'retire' THEN
            v_live := NULL;
            CONTINUE;
        END IF;
        IF r.action = 'rollback' THEN
            SELECT max(s.i) INTO v_at FROM unnest(v_stack) WITH ORDINALITY s(id, i) WHERE s.id = r.model_id;
        END IF;
        IF r.action = 'rollback' AND v_at IS NOT NULL THEN  -- popped, and rolled back from wherever they are
            v_stack := ARRAY(SELECT s.id FROM unnest(v_stack) WITH ORDINALITY s(id, i)
                              WHERE s.i <= v_at AND s.id <> ALL (v_stack[v_at + 1:]) ORDER BY s.i);
        ELSE  -- a deploy or activate, or a rollback to a version not on the stack
            v_stack := v_stack || r.model_id;
        END IF;
        v_live := r.model_id;
        v_last_live := r.model_id;
    END LOOP;
    IF p_to_version IS NOT NULL THEN
        SELECT m.model_id INTO v_target FROM pgscore.models m WHERE m.name = p_name AND m.version = p_to_version;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'there is no version % of model %', p_to_version, quote_literal(p_name)
                USING ERRCODE = 'undefined_object', HINT = 'list models with: SELECT * FROM pgscore.model_versions';
        END IF;
        -- the live version already: nothing changes, and the history records no rollback to a version that never
        -- went away (as activate says of it, migration 0080; before 0093 a row was appended, and pgscore rollback
        -- said "is live again")
        IF v_target = v_live THEN
            RAISE NOTICE 'version % of % is live already: nothing was changed', p_to_version, quote_literal(p_name);
            RETURN v_target;
        END IF;
    ELSE
        IF v_live IS NULL THEN
            SELECT m.version INTO v_version FROM pgscore.models m WHERE m.model_id = v_last_live;
            RAISE EXCEPTION 'model % has no live version to roll back from', quote_literal(p_name)
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = CASE WHEN v_version IS NULL THEN 'None of its versions was ever made live.'
                               ELSE format('It was retired; version %s was live before.', v_version) END,
                      HINT = 'name the version to make live: pgscore.rollback(name, version)';
        END IF;
        SELECT m.version INTO v_current_version FROM pgscore.models m WHERE m.model_id = v_live;
        v_stack := array_remove(v_stack, v_live);
        v_target := v_stack[cardinality(v_stack)];
        IF v_target IS NULL THEN
            RAISE EXCEPTION 'model % has no earlier deployed version than %', quote_literal(p_name), v_current_version
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = 'A rollback goes to the version that was live before the live one went live, leaving out those rolled back from (pgscore.deployments holds the history).',
                      HINT = 'name the version to make live: pgscore.rollback(name, version)';
        END IF;
    END IF;
    INSERT INTO pgscore.deployments (model_name, model_id, action, reason)
    VALUES (p_name, v_target, 'rollback', p_reason);
    IF NOT p_force THEN  -- as activate checks it (pgscore.load_model, the override off; after the row, as there)
        SELECT m.version INTO v_version FROM pgscore.models m WHERE m.model_id = v_target;
        IF p_to_version IS NULL THEN  -- the one a rollback from there would go to, for the hint
            SELECT m.version INTO v_next FROM pgscore.models m
             WHERE m.model_id = (array_remove(v_stack, v_target))[cardinality(array_remove(v_stack, v_target))];
        END IF;
        v_refusal := format('version %s of %s cannot be made live: this server cannot load it: ', v_version,
                            quote_literal(p_name));
        v_fix := concat_ws('; ',
            CASE WHEN v_next IS NOT NULL
                 THEN format('roll back to the version before it: pgscore.rollback(%L, %s) (pgscore rollback %s --to %s)',
                             p_name, v_next, p_name, v_next) END,
            format('to make it live anyway (every score of it fails while this server cannot load it): '
                   'pgscore.rollback(%L, %s, p_force => true) (pgscore rollback %s --to %s --force)', p_name, v_version,
                   p_name, v_version));
        PERFORM pgscore.load_or_refuse(v_target, v_refusal, v_fix);
    END IF;
    -- the wired profiles keep the score of the version live before until their next event, and nothing rescored
    -- them (migration 0131: the trial's customer 11 held v2's score with v1 live, nothing said so)
    FOR r IN SELECT w.event_table, w.profile_table FROM pgscore.rescoring w
              WHERE w.model_name = p_name ORDER BY w.rescoring_id
    LOOP
        RAISE NOTICE 'the profiles of % (wired from %) keep the scores another version gave them until their next event',
              r.profile_table, r.event_table
            USING HINT = format('rescore them with the live version: SELECT * FROM pgscore.rescore_profiles(%L) '
                                '(pgscore rescore --table %s)', r.event_table, r.event_table);
    END LOOP;
    RETURN v_target;
END
$fn$;

CREATE OR REPLACE FUNCTION pgscore.retire(p_name text, p_reason text DEFAULT NULL)
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
    -- (session 66) a standby, or a read-only transaction, refuses its writes: said so, with where to run it, as
    -- record_outcome since 0154 (it was PostgreSQL's bare 25006, no hint)
    IF current_setting('transaction_read_only') = 'on' THEN
        PERFORM pgscore.refuse_read_only('pgscore.retire writes the registry');
    END IF;
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
        -- (migration 0124: with scoring's hint, the model it looks like a typo for; it said where they are listed)
        RAISE EXCEPTION 'there is no model %', quote_literal(p_name) USING ERRCODE = 'undefined_object',
            HINT = pgscore.model_name_hint(p_name);
    END IF;
    IF v_action = 'retire' THEN  -- a second retire would only append another to its history (before 0038)
        RAISE NOTICE 'model % has no live version already (retired %): nothing was changed', quote_literal(p_name), v_at;
        RETURN;
    END IF;
    INSERT INTO pgscore.deployments (model_name, model_id, action, reason)
    VALUES (p_name, v_model_id, 'retire', p_reason);
END
$fn$;

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
    v_step text;  -- (the lock being taken: a NOWAIT's 55P03 is the refresh's, a lock_timeout's is raised)
BEGIN
    IF p_name IS NULL THEN
        RAISE EXCEPTION 'pgscore.delete_model: model name must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- a standby, or a read-only transaction, refuses its writes: said so, with where to run it (as record_outcome)
    IF current_setting('transaction_read_only') = 'on' THEN
        PERFORM pgscore.refuse_read_only('pgscore.delete_model writes the registry');
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
    -- (0169) the refresh's lock too, neither held while waiting for the other: a refresh running held the day
    -- rollups it had deleted (which the delete of the model's rollups waited for) and then waited for the SHARE
    -- lock on the outcomes (its match_outcomes); and a transaction that recorded an outcome (or scored) and then
    -- refreshed waited for the refresh's lock, held by a delete waiting for that transaction's outcomes: each a
    -- deadlock (40P01), one of the two rolled back (review r3 of session 67: the second where 0169 first took the
    -- refresh's lock before these). The SHARE locks are taken, then the refresh's (monitoring_state's table
    -- lock, which a refresh holds from its first statement: no row needed, a partial restore may leave none)
    -- without waiting; a refresh running, both are let go (the block's subtransaction), the refresh is waited
    -- for holding nothing, and both taken again. A lock_timeout's 55P03 still ends the call
    LOOP
        v_step := 'the log';
        BEGIN
            LOCK TABLE ONLY pgscore.log_pending, pgscore.prediction_log, pgscore.outcomes IN SHARE MODE;
            v_step := 'the refresh';
            LOCK TABLE ONLY pgscore.monitoring_state IN SHARE ROW EXCLUSIVE MODE NOWAIT;
            EXIT;
        EXCEPTION WHEN lock_not_available THEN
            IF v_step <> 'the refresh' THEN
                RAISE;
            END IF;
        END;
        BEGIN
            LOCK TABLE ONLY pgscore.monitoring_state IN SHARE ROW EXCLUSIVE MODE;
            RAISE EXCEPTION USING ERRCODE = 'PGS67';  -- (let go at once: only waited for)
        EXCEPTION WHEN SQLSTATE 'PGS67' THEN
            NULL;
        END;
    END LOOP;
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

CREATE OR REPLACE FUNCTION pgscore.create_log_partitions(p_days integer DEFAULT 7,
                                              p_from date DEFAULT (now() AT TIME ZONE 'UTC')::date)
RETURNS integer
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- each bound is written into the statements below as text: ISO, in UTC, so that PostgreSQL reads back the
-- instant it was (the session's DateStyle could print a zone abbreviation, 'IST' for Asia/Kolkata, which
-- PostgreSQL reads as Israel's; migration 0041)
SET DateStyle = 'ISO, YMD'
SET TimeZone = 'UTC'
AS $fn$
DECLARE
    v_day date;
    v_name text;
    v_lo timestamptz;
    v_hi timestamptz;
    v_space name;
    v_created integer := 0;
    v_days date[];
    v_past date[];
    v_moved bigint;
    v_backfilled bigint := 0;
    v_models bigint[];
    v_made_past date[] := '{}';
BEGIN
    IF p_days IS NULL OR p_from IS NULL OR p_days < 0 OR p_days > 366 THEN
        RAISE EXCEPTION 'pgscore.create_log_partitions: p_days must be between 0 and 366 and p_from not NULL (got %, %)',
            p_days, p_from USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- each day in the log's tablespace where it has one (ALTER TABLE pgscore.prediction_log SET TABLESPACE), as
    -- CREATE TABLE ... PARTITION OF would put it (its indexes follow the log's indexes' at ATTACH); else in
    -- default_tablespace (migration 0050: the log's was ignored, so a log moved to a volume of its own went on
    -- filling the default one with each new day)
    -- ATTACH's lock on the log alone (ONLY: not on its partitions, which ATTACH leaves alone and VACUUM, ANALYZE
    -- and autovacuum take), which conflicts with itself, before any day is looked for: two calls at once (the
    -- cron jobs of two hosts) made the same day, and the second failed on the first's table (42P07, 'relation
    -- "prediction_log_YYYYMMDD" already exists'); now it waits for the first and finds its days made (0100)
    -- (session 66) a standby makes no day, nor takes this lock: said so before it ('cannot execute LOCK TABLE during
    -- recovery', no hint); a read-only transaction of the primary is refused at the first day it would make
    IF pg_is_in_recovery() THEN
        PERFORM pgscore.refuse_read_only('pgscore.create_log_partitions writes pgscore.prediction_log (makes its days)');
    END IF;
    LOCK TABLE ONLY pgscore.prediction_log IN SHARE UPDATE EXCLUSIVE MODE;
    SELECT t.spcname INTO v_space
      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_tablespace t ON t.oid = c.reltablespace
     WHERE c.oid = 'pgscore.prediction_log'::regclass;
    -- the days before p_from that rows in the default partition hold (backfilled rows, a clock behind, maintenance
    -- not run for weeks): no call with the default p_from made them, so their rows stayed there, read by every
    -- query on the log, until retention deleted them (migration 0104). Found by skipping through the default
    -- partition's (model_id, logged_at) index (no index starts with logged_at): each model_id, then each of its
    -- days, one probe each (a few pages per model and day; an empty default partition, one probe). At most 31
    -- per call, the newest first; later calls make the older (each ATTACH reads the whole default partition under
    -- its ACCESS EXCLUSIVE lock, and each day holds a dozen locks to the end). Days after p_from + p_days (a clock
    -- that jumped ahead) stay in the default partition: a partition years ahead would leave every day between
    -- without one; and so do rows at -infinity (no day holds them; the probe for the next day after one found
    -- the same row again, for ever)
    WITH RECURSIVE m AS (
        SELECT min(d.model_id) AS id FROM pgscore.prediction_log_default d
        UNION ALL
        SELECT (SELECT min(d.model_id) FROM pgscore.prediction_log_default d WHERE d.model_id > m.id)
          FROM m WHERE m.id IS NOT NULL
    ), t AS (
        SELECT m.id, (SELECT min(d.logged_at) FROM pgscore.prediction_log_default d
                       WHERE d.model_id = m.id AND d.logged_at > '-infinity') AS at
          FROM m WHERE m.id IS NOT NULL
        UNION ALL
        SELECT t.id, (SELECT min(d.logged_at) FROM pgscore.prediction_log_default d
                       WHERE d.model_id = t.id
                         AND d.logged_at >= (date_trunc('day', t.at AT TIME ZONE 'UTC') + interval '1 day') AT TIME ZONE 'UTC')
          FROM t WHERE t.at IS NOT NULL AND isfinite(t.at) AND t.at < p_from::timestamp AT TIME ZONE 'UTC'
    )
    SELECT array_agg(s.day ORDER BY s.day DESC) INTO v_past
      FROM (SELECT DISTINCT (t.at AT TIME ZONE 'UTC')::date AS day FROM t
             WHERE isfinite(t.at) AND t.at < p_from::timestamp AT TIME ZONE 'UTC'
             ORDER BY 1 DESC LIMIT 31) AS s;
    SELECT array_agg(p_from + i ORDER BY i) INTO v_days FROM generate_series(0, p_days) AS i;
    v_days := v_days || COALESCE(v_past, '{}');
    FOREACH v_day IN ARRAY v_days LOOP
        v_name := 'prediction_log_' || to_char(v_day, 'YYYYMMDD');
        IF to_regclass(format('pgscore.%I', v_name)) IS NOT NULL THEN
            -- a table of the day's name that is no partition of the log (detached to archive it, say): the day's
            -- rows would wait in the default partition while the call said it had nothing to do
            IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i
                            WHERE i.inhrelid = to_regclass(format('pgscore.%I', v_name))
                              AND i.inhparent = 'pgscore.prediction_log'::regclass) THEN
                -- for a past day (archived, then a stray row of it logged) a WARNING, and its rows stay in the
                -- default partition: an error would roll back the days ahead too, and scoring would fill the
                -- default partition a week later
                IF v_day < p_from THEN
                    RAISE WARNING 'pgscore.create_log_partitions: pgscore.% exists and is not a partition of pgscore.prediction_log: the day''s rows stay in the default partition', v_name
                          USING HINT = format('rename it (ALTER TABLE pgscore.%I RENAME TO %I) or attach it again, then create the partitions again',
                                              v_name, v_name || '_archived');
                    CONTINUE;
                END IF;
                RAISE EXCEPTION 'pgscore.create_log_partitions: pgscore.% exists and is not a partition of pgscore.prediction_log', v_name
                      USING ERRCODE = 'duplicate_table',
                            HINT = format('rename it (ALTER TABLE pgscore.%I RENAME TO %I) or attach it again, then create the partitions again',
                                          v_name, v_name || '_archived');
            END IF;
            CONTINUE;
        END IF;
        v_lo := v_day::timestamp AT TIME ZONE 'UTC';
        v_hi := (v_day + 1)::timestamp AT TIME ZONE 'UTC';
        -- the default partition's lock ATTACH takes, before the day's rows are moved (the log's is held since
        -- the start): a transaction that logged a row of the day into the default partition and committed after
        -- the move (scoring while the day's partition was missing) made ATTACH fail, 'updated partition
        -- constraint for default partition would be violated', and the whole call roll back (migration 0100)
        LOCK TABLE pgscore.prediction_log_default IN ACCESS EXCLUSIVE MODE;
        -- a past day's rows are read through the (model_id, logged_at) index, by the model_ids in the default
        -- partition read under its lock (no row comes in meanwhile): a read of the day alone scanned the whole
        -- default partition for each day
        IF v_day < p_from AND v_models IS NULL THEN
            WITH RECURSIVE m AS (
                SELECT min(d.model_id) AS id FROM pgscore.prediction_log_default d
                UNION ALL
                SELECT (SELECT min(d.model_id) FROM pgscore.prediction_log_default d WHERE d.model_id > m.id)
                  FROM m WHERE m.id IS NOT NULL
            )
            SELECT COALESCE(array_agg(m.id), '{}') INTO v_models FROM m WHERE m.id IS NOT NULL;
        END IF;
        -- (session 66) a standby, or a read-only transaction, refuses the day it would make: said so, with where to run it, as
        -- record_outcome since 0154 (it was PostgreSQL's bare 25006, no hint)
        IF current_setting('transaction_read_only') = 'on' THEN
            PERFORM pgscore.refuse_read_only('pgscore.create_log_partitions writes pgscore.prediction_log (makes its days)');
        END IF;
        EXECUTE format('CREATE TABLE pgscore.%I (LIKE pgscore.prediction_log INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                       v_name) || CASE WHEN v_space IS NULL THEN '' ELSE format(' TABLESPACE %I', v_space) END;
        EXECUTE format('WITH moved AS (DELETE FROM pgscore.prediction_log_default WHERE logged_at >= %L AND logged_at < %L%s RETURNING *) '
                       'INSERT INTO pgscore.%I SELECT * FROM moved', v_lo, v_hi,
                       CASE WHEN v_day < p_from THEN ' AND model_id = ANY ($1)' ELSE '' END, v_name)
            USING v_models;
        GET DIAGNOSTICS v_moved = ROW_COUNT;
        IF v_day < p_from THEN
            v_backfilled := v_backfilled + v_moved;
            v_made_past := v_made_past || v_day;
        END IF;
        EXECUTE format('ALTER TABLE pgscore.prediction_log ATTACH PARTITION pgscore.%I FOR VALUES FROM (%L) TO (%L)',
                       v_name, v_lo, v_hi);
        -- as install grants every table of the schema (migration 0027: the partitions made later had no grant)
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'pgscore_admin') THEN
            EXECUTE format('GRANT SELECT ON pgscore.%I TO pgscore_admin', v_name);
        END IF;
        v_created := v_created + 1;
    END LOOP;
    IF cardinality(v_made_past) > 0 THEN
        RAISE NOTICE 'pgscore.create_log_partitions: % day(s) before % made from the default partition''s rows (% row(s) moved): %',
            cardinality(v_made_past), p_from, v_backfilled, array_to_string(v_made_past, ', ');
    END IF;
    RETURN v_created;
END
$fn$;

CREATE OR REPLACE FUNCTION pgscore.drop_log_partitions(p_older_than interval)
RETURNS integer
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- (0159) its NOTICE's cut, a UTC midnight, said in UTC and ISO: it printed the caller's, 'before 2026-05-20
-- 20:00:00-04' from New York, '20.05.2026 20:00:00 EDT' under DateStyle German (trial T21)
SET DateStyle = 'ISO, YMD'
SET TimeZone = 'UTC'
-- (review r5) and its period in one IntervalStyle: log_retention kept `"older_than": "P200D"` of a role's
-- iso_8601, and the floor's refusal said `P10D ... P2Y`
SET IntervalStyle = 'postgres'
AS $fn$
DECLARE
    v_cut timestamptz;
    v_part record;
    v_dropped integer := 0;
    v_rows bigint;
    v_buckets bigint;
    v_days bigint;
    v_outcomes bigint;
    v_floor interval;
    v_floor_cut timestamptz;
    v_part_rows bigint := 0;
    v_n bigint;
BEGIN
    -- (session 66) a standby, or a read-only transaction, refuses its writes: said so, with where to run it, as
    -- record_outcome since 0154 (it was PostgreSQL's bare 25006, no hint)
    IF current_setting('transaction_read_only') = 'on' THEN
        PERFORM pgscore.refuse_read_only('pgscore.drop_log_partitions writes pgscore.prediction_log (drops its days)');
    END IF;
    IF p_older_than IS NULL OR p_older_than <= interval '0' THEN
        RAISE EXCEPTION 'pgscore.drop_log_partitions: p_older_than, the retention period, must be a positive interval (got %)', p_older_than
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'retention keeps whole UTC days, at least one: for example ''90 days''';
    END IF;
    -- a part of each sign (session 64): compared as an interval, a month is 30 days, and '-1 mon 31 days' (1 day
    -- to the comparison below) is none in a month of 31 days, its cut today's midnight
    IF extract(year FROM p_older_than) < 0 OR extract(month FROM p_older_than) < 0
       OR extract(day FROM p_older_than) < 0 OR extract(hour FROM p_older_than) < 0
       OR extract(minute FROM p_older_than) < 0 OR extract(second FROM p_older_than) < 0 THEN
        RAISE EXCEPTION 'pgscore.drop_log_partitions: p_older_than, the retention period, has a negative part (got %): a month is 28 to 31 days, so such a period is a different length on different dates', p_older_than
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'write the period in parts of one sign: ''90 days'', ''3 mons'' or ''1 year 6 mons''';
    END IF;
    -- a number without a unit is seconds to PostgreSQL: '90' would keep today alone (every part positive or zero:
    -- a month is at least 28 days, so this comparison is exact)
    IF p_older_than < interval '1 day' THEN
        RAISE EXCEPTION 'pgscore.drop_log_partitions: p_older_than, the retention period, must be at least 1 day (got %)', p_older_than
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'retention keeps whole UTC days; a number without a unit is seconds: write ''90 days'', not ''90''';
    END IF;
    -- the floor the schema's owner set (migration 0141), whoever calls
    SELECT p.keep_log INTO v_floor FROM pgscore.retention_policy p;
    -- the cuts: a period reaching back before 4713 BC, the earliest time PostgreSQL holds, is refused by name,
    -- and a floor that does keeps every day (session 64, review r2: each was a bare 22008 "timestamp out of range",
    -- and a floor of '10000 years' made every call fail so)
    -- whole UTC days: the day that holds now() - p_older_than is kept, in its partition and in the default
    -- partition alike, so that the drift rollups of every day dropped can go with it. The period is
    -- taken from the UTC time, so that the session's time zone (its DST days) cannot move the cut
    BEGIN
        v_cut := date_trunc('day', (now() AT TIME ZONE 'UTC') - p_older_than) AT TIME ZONE 'UTC';
    EXCEPTION WHEN datetime_field_overflow THEN
        RAISE EXCEPTION 'pgscore.drop_log_partitions: p_older_than % reaches back before the earliest time PostgreSQL holds (4713 BC)', p_older_than
            USING ERRCODE = 'datetime_field_overflow',
                  HINT = 'for example ''90 days'' or ''7 years''; to keep every day, do not call it';
    END;
    BEGIN
        v_floor_cut := date_trunc('day', (now() AT TIME ZONE 'UTC') - v_floor) AT TIME ZONE 'UTC';
    EXCEPTION WHEN datetime_field_overflow THEN
        v_floor_cut := '-infinity';
    END;
    -- the floor is the day it cuts at, not an interval compared (a year compares as 360 days; review r6)
    IF v_cut > v_floor_cut THEN
        RAISE EXCEPTION 'pgscore.drop_log_partitions: p_older_than % is shorter than the retention floor, %', p_older_than, v_floor
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'pgscore.retention_policy.keep_log, which the owner of the pgscore schema alone may lower';
    END IF;
    -- outcomes recorded before migration 0033 that no refresh has paired yet: paired while their
    -- predictions are there, so that they go with them (below)
    -- the log's own lock (ONLY), as create_log_partitions takes it at its start, before the log is read: two calls at
    -- once (two hosts' cron jobs, two `pgscore maintain --keep`) each read the log (ACCESS SHARE), then each waited
    -- for the other to drop a day (ACCESS EXCLUSIVE), and one failed on the deadlock; now the second waits for the
    -- first (migration 0104)
    LOCK TABLE ONLY pgscore.prediction_log IN SHARE UPDATE EXCLUSIVE MODE;
    PERFORM pgscore.match_outcomes('infinity');
    FOR v_part IN
        SELECT c.relname, to_date(right(c.relname, 8), 'YYYYMMDD') AS day
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'pgscore.prediction_log'::regclass AND c.relname ~ '^prediction_log_[0-9]{8}$'
         ORDER BY 2
    LOOP
        CONTINUE WHEN (v_part.day::timestamp AT TIME ZONE 'UTC') >= v_cut;
        -- its rows, counted for the record (migration 0141)
        EXECUTE format('SELECT count(*) FROM pgscore.%I', v_part.relname) INTO v_n;
        v_part_rows := v_part_rows + v_n;
        EXECUTE format('DROP TABLE pgscore.%I', v_part.relname);
        v_dropped := v_dropped + 1;
    END LOOP;
    DELETE FROM pgscore.prediction_log_default WHERE logged_at < v_cut;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    -- the rollups of the rows gone: the drift views read them as if the rows were there
    DELETE FROM pgscore.drift_rollup WHERE bucket < v_cut;
    GET DIAGNOSTICS v_buckets = ROW_COUNT;
    DELETE FROM pgscore.drift_rollup_day WHERE day < v_cut;
    GET DIAGNOSTICS v_days = ROW_COUNT;
    -- the outcomes of the predictions gone (each keeps the prediction it judges, migration 0033): realised
    -- performance is by the day of the prediction, and a day goes whole, its outcomes with it, whenever
    -- they were observed; and those that judge nothing, observed before the cut, which have none left to
    -- judge and would count as unmatched for ever
    -- with each version's prediction they judge (outcome_version_matches)
    WITH gone AS (
        DELETE FROM pgscore.outcomes WHERE predicted_at < v_cut OR (predicted_at IS NULL AND observed_at < v_cut)
        RETURNING outcome_id
    ), versions AS (
        DELETE FROM pgscore.outcome_version_matches m USING gone WHERE m.outcome_id = gone.outcome_id
    )
    SELECT count(*) INTO v_outcomes FROM gone;
    -- and each version's judged prediction of those days where the outcome stays, judging a newer prediction
    -- of another version
    DELETE FROM pgscore.outcome_version_matches WHERE predicted_at < v_cut;
    RAISE NOTICE 'pgscore.drop_log_partitions: before %: % daily partition(s) dropped, % row(s) deleted from the default partition, % rollup row(s) deleted (% of 5 minutes, % of a day), % outcome(s) of those days deleted',
        v_cut, v_dropped, v_rows, v_buckets + v_days, v_buckets, v_days, v_outcomes;
    -- recorded where a reader sees it, each call that removed something (migration 0141)
    IF v_dropped > 0 OR v_rows > 0 OR v_buckets + v_days > 0 OR v_outcomes > 0 THEN
        INSERT INTO pgscore.log_retention (action, cut, rows, detail)
        VALUES ('drop', v_cut, v_part_rows + v_rows,
                jsonb_build_object('partitions', v_dropped, 'default_rows', v_rows, 'rollup_rows', v_buckets + v_days,
                                   'outcomes', v_outcomes, 'older_than', p_older_than::text));
    END IF;
    RETURN v_dropped;
END
$fn$;

CREATE OR REPLACE FUNCTION pgscore.record_outcome(p_model text, p_entity_key text, p_outcome text,
                                       p_observed_at timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER  -- the app records outcomes only through here
SET search_path = pg_catalog, pg_temp
-- (migration 0113) a regressor's number is stored as to_jsonb gives it, which writes float8 as the session's
-- extra_float_digits says: at 0, float8's largest was stored as 1.79769313486232e+308, past float8's range, and
-- every model's realised-performance views failed reading it (22003); 0.1 + 0.2 as 0.3. At 3, the float8 itself
SET extra_float_digits = 3
AS $fn$
DECLARE
    v_task    text;
    v_classes jsonb;
    v_value   jsonb;
    v_num     float8;
    -- the outcome without the spaces around it (since 0005: an outcome read from a text export or typed into a
    -- form carries them, and a number is read so by float8's input anyway); a class is stored as the model has it
    v_text    text := btrim(p_outcome);
    v_near    text;
    v_id      bigint;
    v_models  bigint[];
    v_times   timestamptz[];
    v_scores  float8[];
    v_labels  text[];
    v_judged  record;
BEGIN
    IF p_model IS NULL OR p_entity_key IS NULL OR p_outcome IS NULL OR p_observed_at IS NULL THEN
        RAISE EXCEPTION 'pgscore.record_outcome: % must not be NULL',
            CASE WHEN p_model IS NULL THEN 'the model' WHEN p_entity_key IS NULL THEN 'the entity key'
                 WHEN p_outcome IS NULL THEN 'the outcome' ELSE 'observed_at' END
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- (0154) a standby, or a read-only transaction, refuses its writes: said so, with where to run it (it was
    -- PostgreSQL's bare 25006, no hint, quoting this function's statement: trial hT17 of session 64)
    IF current_setting('transaction_read_only') = 'on' THEN
        PERFORM pgscore.refuse_read_only('pgscore.record_outcome writes pgscore.outcomes');
    END IF;
    -- an outcome judges the newest prediction logged by observed_at: at infinity (a sentinel date) it would
    -- judge each newer prediction in turn, for ever (migration 0035)
    IF NOT isfinite(p_observed_at) THEN
        RAISE EXCEPTION 'pgscore.record_outcome: observed_at % is not a point in time', p_observed_at
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'give when the outcome was observed (now() when it is not known); an outcome observed at infinity would judge every newer prediction of the entity in turn';
    END IF;
    -- (0159) more than 15 minutes ahead, not a day: a `timestamp` in UTC (an event's created_at) given from a
    -- session west of UTC is read as its wall clock, hours ahead, and judged the predictions logged until then,
    -- silently (trial T21); the hint names the session's zone
    -- (0167) once a transaction, not once a row: 20,000 outcomes an hour ahead recorded by one statement gave
    -- 20,000 NOTICEs (23.5 s against 19.1 s); the transaction's id kept in a setting of the session (a SET LOCAL
    -- would end with this function's SET clauses; one rolled back is noted again). The hint says "if": PostgreSQL
    -- casts a `timestamp` argument to timestamptz before the call, so which the caller passed cannot be told here
    IF p_observed_at > now() + interval '15 minutes' THEN
        IF current_setting('pgscore.outcome_ahead_noted', true) IS DISTINCT FROM pg_current_xact_id()::text THEN
            PERFORM set_config('pgscore.outcome_ahead_noted', pg_current_xact_id()::text, false);
            RAISE NOTICE 'pgscore.record_outcome: observed_at % is in the future', p_observed_at
                USING DETAIL = format('It is %s minute(s) ahead of now(). The outcome judges the newest prediction of the entity logged by then: until then each refresh_monitoring pairs it with any newer one, of whichever version is live. This is noted once a transaction: the outcomes this transaction records later, ahead or not, are recorded without it.',
                                      floor(extract(epoch FROM p_observed_at - now()) / 60)),
                      HINT = format('if observed_at was a timestamp without time zone, PostgreSQL read it in this session''s TimeZone (%s) before the call (which type the caller passed cannot be told here): give one in UTC as created_at AT TIME ZONE ''UTC'' (the zone its values are in); if it was a timestamptz, the clock or the source that wrote it is ahead', current_setting('TimeZone'));
        END IF;
    END IF;
    -- the live version decides what an outcome must look like; a retired model, its newest version
    SELECT m.task, m.classes INTO v_task, v_classes
      FROM pgscore.models m
      LEFT JOIN pgscore.live_models l ON l.model_id = m.model_id
     WHERE m.name = p_model
     ORDER BY l.model_id IS NOT NULL DESC, m.version DESC
     LIMIT 1;
    IF NOT FOUND THEN
        -- (migration 0120: in scoring's words, with its hint; it said "model 'teir' does not exist")
        RAISE EXCEPTION 'pgscore.record_outcome: there is no model %', quote_literal(p_model)
            USING ERRCODE = 'undefined_object', HINT = pgscore.model_name_hint(p_model);
    END IF;
    IF v_task = 'regression' THEN
        BEGIN
            v_num := v_text::float8;
        EXCEPTION WHEN invalid_text_representation OR numeric_value_out_of_range THEN
            RAISE EXCEPTION 'pgscore.record_outcome: outcome % for regression model % is not a number', quote_literal(p_outcome),
                  quote_literal(p_model)
                USING ERRCODE = 'invalid_text_representation';
        END;
        IF v_num IN ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8) THEN
            RAISE EXCEPTION 'pgscore.record_outcome: outcome % for regression model % is not a finite number', v_num, quote_literal(p_model)
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        v_value := to_jsonb(v_num);
    ELSE
        -- one of the classes, by its text or (for numeric classes) its value; true/false for 1/0 of a
        -- binary classifier only (of classes 0..3, true read as 1 replaced a recorded 2 in the metrics). Its text
        -- without the spaces around it, as since 0005, then as given where no class is that (migration
        -- outcome_words: a class with spaces of its own, ' gold' from a CSV read without skipinitialspace, could not
        -- be recorded; tried first, it took ' gold' where ' gold' had recorded the class gold of a model of both)
        SELECT c INTO v_value
          FROM jsonb_array_elements(v_classes) WITH ORDINALITY e(c, i)
         WHERE c #>> '{}' IN (p_outcome, v_text)
            -- ([.], not a backslash: a session with standard_conforming_strings off reads '\.' as '.')
            OR (jsonb_typeof(c) = 'number' AND v_text ~ '^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$'
                AND (c #>> '{}')::numeric = v_text::numeric)
            OR (v_task = 'binary' AND jsonb_typeof(c) = 'number' AND lower(v_text) IN ('true', 'false')
                AND (c #>> '{}')::numeric = CASE lower(v_text) WHEN 'true' THEN 1 ELSE 0 END)
         ORDER BY c #>> '{}' = p_outcome AND p_outcome <> v_text, i
         LIMIT 1;
        IF v_value IS NULL THEN
            -- one wording for every outcome that is no class (migration outcome_words: true for a multiclass model
            -- said "is not one of its classes"); the hint names the class it differs from only in case or the spaces
            -- around it ('Gold' for 'gold'), as a misspelt feature key's names the feature, or says what true and
            -- false stand for; of two such, the one it differs from in case only ('Gold': gold, not ' gold')
            SELECT c #>> '{}' INTO v_near
              FROM jsonb_array_elements(v_classes) WITH ORDINALITY e(c, i)
             WHERE lower(btrim(c #>> '{}')) = lower(v_text)
             ORDER BY lower(c #>> '{}') = lower(p_outcome) DESC, lower(c #>> '{}') = lower(v_text) DESC, i
             LIMIT 1;
            -- (the DETAIL quotes a class with spaces around it, as the hint does: ' gold' and gold read as one)
            IF v_near IS NULL AND NOT (lower(v_text) IN ('true', 'false') AND v_task <> 'binary') THEN
                RAISE EXCEPTION 'pgscore.record_outcome: outcome % is not a class of % model %', quote_literal(p_outcome),
                      v_task, quote_literal(p_model)
                    USING ERRCODE = 'invalid_parameter_value',
                          DETAIL = format('classes: %s', (SELECT string_agg(CASE WHEN c #>> '{}' <> btrim(c #>> '{}') THEN quote_literal(c #>> '{}') ELSE c #>> '{}' END, ', ')
                                                            FROM jsonb_array_elements(v_classes) c));
            END IF;
            RAISE EXCEPTION 'pgscore.record_outcome: outcome % is not a class of % model %', quote_literal(p_outcome), v_task,
                  quote_literal(p_model)
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('classes: %s', (SELECT string_agg(CASE WHEN c #>> '{}' <> btrim(c #>> '{}') THEN quote_literal(c #>> '{}') ELSE c #>> '{}' END, ', ')
                                                            FROM jsonb_array_elements(v_classes) c)),
                      HINT = CASE WHEN v_near IS NOT NULL THEN format('a typo for %s?', quote_literal(v_near))
                                  ELSE 'true and false stand for the classes 1 and 0 of a binary classifier only: give the class' END;
        END IF;
    END IF;
    -- the prediction it judges, kept with it (pgscore.match_outcomes finds it for a prediction logged later).
    -- Both reads take the entity's predictions by the entity's index alone and pick the model's among them
    -- (migration 0116): joined by model_id, a partition never analysed (the nightly scoring's, before
    -- autovacuum analyses it) was read by the (model_id, logged_at) index, every row of the model filtered by
    -- entity, where the planner could not tell the two indexes apart: ~60 ms a call at 100,000 rows, ~0.3 ms
    -- analysed (docs/performance.md). Here the join's `l.model_id + 0` is no condition of that index, so the
    -- entity's index is walked from p_observed_at back and the walk stops at the model's first row: an
    -- entity many models score is not read whole (a subquery with OFFSET 0 read and sorted all its rows).
    -- The rows of one transaction share logged_at: the last of them is its last statement's (statement_at),
    -- then the one written last in it (the command, cmin; then the physical order, for rows one COPY restored)
    -- (migration 0144: the newest by logged_at alone was any of them)
    -- (statement_at read by jsonpath, silently: a cause's statement_at that is no time, which a role that may
    -- INSERT log rows can write, sorts as none; a cast raised on it, and stopped every refresh: review r8)
    SELECT l.model_id, l.logged_at, l.score, l.label INTO v_judged
      FROM pgscore.prediction_log l JOIN pgscore.models m ON m.model_id = l.model_id + 0
     WHERE l.entity_key = p_entity_key AND l.logged_at <= p_observed_at AND m.name = p_model
       AND l.source <> 'shadow'  -- (a shadow's prediction was never served)
     ORDER BY l.logged_at DESC, (jsonb_path_query_first(l.cause, '$.statement_at.datetime()', '{}', true) #>> '{}')::timestamptz DESC NULLS LAST, l.cmin::text::bigint DESC, l.ctid DESC
     LIMIT 1;
    -- the prediction each version of the model made of the entity last by then, served or in shadow, kept in
    -- outcome_version_matches (pgscore.match_outcomes finds them for a prediction logged later); of one
    -- transaction's, its last statement's, as above (a live and a shadow version each judged on the same one)
    SELECT array_agg(p.model_id), array_agg(p.logged_at), array_agg(p.score), array_agg(p.label)
      INTO v_models, v_times, v_scores, v_labels
      FROM (SELECT DISTINCT ON (l.model_id) l.model_id, l.logged_at, l.score, l.label
              FROM (SELECT l.model_id, l.logged_at, l.score, l.label, l.cause, l.cmin, l.ctid
                      FROM pgscore.prediction_log l
                     WHERE l.entity_key = p_entity_key AND l.logged_at <= p_observed_at
                    OFFSET 0) l
              JOIN pgscore.models m ON m.model_id = l.model_id
             WHERE m.name = p_model
             ORDER BY l.model_id, l.logged_at DESC, (jsonb_path_query_first(l.cause, '$.statement_at.datetime()', '{}', true) #>> '{}')::timestamptz DESC NULLS LAST, l.cmin::text::bigint DESC, l.ctid DESC) p;
    -- recorded_by: the caller's role (this function runs as pgscore's owner, whom current_user names;
    -- before migration 0037 every outcome was recorded by it)
    INSERT INTO pgscore.outcomes (model_name, entity_key, outcome, observed_at, judged_model_id, predicted_at,
                                  judged_score, judged_label, judged_at, recorded_by, versions_judged_at)
    VALUES (p_model, p_entity_key, v_value, p_observed_at, v_judged.model_id, v_judged.logged_at, v_judged.score,
            v_judged.label, now(),
            -- the role the caller acts as: SET ROLE's (a pooled login that takes each user's role), else its login
            coalesce(nullif(current_setting('role'), 'none'), session_user), now())
    RETURNING outcome_id INTO v_id;
    INSERT INTO pgscore.outcome_version_matches (outcome_id, model_id, predicted_at, score, label)
    SELECT v_id, u.model_id, u.logged_at, u.score, u.label
      FROM unnest(v_models, v_times, v_scores, v_labels) AS u(model_id, logged_at, score, label);
    IF v_judged.model_id IS NULL AND v_models IS NOT NULL THEN
        -- only versions scored in shadow logged one by then: the outcome judges theirs, per version (it said that
        -- no prediction was logged)
        RAISE NOTICE 'pgscore.record_outcome: no served prediction of % for entity % was logged at or before %: only version% % scored it, in shadow',
                quote_literal(p_model), quote_literal(p_entity_key), p_observed_at, CASE WHEN cardinality(v_models) > 1 THEN 's' ELSE '' END,
                (SELECT string_agg(m.version::text, ', ' ORDER BY m.version) FROM pgscore.models m
                  WHERE m.model_id = ANY (v_models))
            USING DETAIL = 'The outcome is kept and judges the shadow''s prediction per version (pgscore.outcome_version_matches, read by pgscore.realised_performance_by_version); it judges no served prediction, so pgscore.outcome_matches shows it unmatched and realised_performance leaves it out, until pgscore.refresh_monitoring finds a served one logged later (within its p_relook; a prediction scored in this transaction is logged at its commit).';
    ELSIF v_judged.model_id IS NULL THEN
        RAISE NOTICE 'pgscore.record_outcome: no prediction of % for entity % was logged at or before %', quote_literal(p_model),
                quote_literal(p_entity_key), p_observed_at
            USING DETAIL = 'The outcome is kept; it judges no prediction and pgscore.outcome_matches shows it unmatched, until pgscore.refresh_monitoring finds one logged later (within its p_relook; a prediction scored in this transaction is logged at its commit).';
    END IF;
    RETURN v_id;
END
$fn$;

CREATE OR REPLACE FUNCTION pgscore.match_outcomes(p_since timestamptz)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER  -- outcomes are written only by pgscore's functions
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_rows bigint;
    v_chunk bigint;
BEGIN
    -- (session 66) a standby, or a read-only transaction, refuses its writes: said so, with where to run it, as
    -- record_outcome since 0154 (it was PostgreSQL's bare 25006, no hint)
    IF current_setting('transaction_read_only') = 'on' THEN
        PERFORM pgscore.refuse_read_only('pgscore.match_outcomes writes pgscore.outcome_version_matches');
    END IF;
    IF p_since IS NULL THEN
        RAISE EXCEPTION 'pgscore.match_outcomes: p_since must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- never looked at (and every outcome on a rebuild): each in the whole log, newest first; the entity's
    -- predictions read by the entity's index alone, newest first, as record_outcome reads them (migration 0116)
    UPDATE pgscore.outcomes o
       SET judged_model_id = p.model_id, predicted_at = p.logged_at, judged_score = p.score,
           judged_label = p.label, judged_at = now()
      FROM pgscore.outcomes o2
      LEFT JOIN LATERAL (
            SELECT l.model_id, l.logged_at, l.score, l.label
              FROM pgscore.prediction_log l
              JOIN pgscore.models pm ON pm.model_id = l.model_id + 0
             WHERE l.entity_key = o2.entity_key AND l.logged_at <= o2.observed_at AND pm.name = o2.model_name
               AND l.source <> 'shadow'
             ORDER BY l.logged_at DESC, (jsonb_path_query_first(l.cause, '$.statement_at.datetime()', '{}', true) #>> '{}')::timestamptz DESC NULLS LAST, l.cmin::text::bigint DESC, l.ctid DESC
             LIMIT 1) p ON true
     WHERE o.outcome_id = o2.outcome_id AND (o2.judged_at IS NULL OR p_since = '-infinity')
       AND (o.judged_at IS NULL OR p.logged_at > coalesce(o.predicted_at, '-infinity'::timestamptz)
            -- (a rebuild corrects one judged on another statement of the same transaction: before 0144)
            OR (p_since = '-infinity' AND p.logged_at = o.predicted_at
                AND (p.model_id, p.score, p.label) IS DISTINCT FROM (o.judged_model_id, o.judged_score, o.judged_label)));
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    -- each version's own prediction, for the outcomes never looked at for it (recorded before
    -- outcome_version_matches was added; marked here in the same statement) and every outcome on a rebuild:
    -- each version's newest before the outcome (of one transaction's, its last statement's, as record_outcome
    -- takes it), in one read of the entity's predictions; only a newer prediction replaces the one a row holds
    -- (and, on a rebuild, another of the same transaction: one judged before 0144 on another statement's)
    WITH todo AS (
        UPDATE pgscore.outcomes o SET versions_judged_at = now()
         WHERE o.versions_judged_at IS NULL
     RETURNING o.outcome_id, o.model_name, o.entity_key, o.observed_at
    )
    INSERT INTO pgscore.outcome_version_matches AS vm (outcome_id, model_id, predicted_at, score, label)
    SELECT o.outcome_id, p.model_id, p.logged_at, p.score, p.label
      FROM (SELECT t.outcome_id, t.model_name, t.entity_key, t.observed_at FROM todo t WHERE p_since <> '-infinity'
            UNION ALL
            SELECT a.outcome_id, a.model_name, a.entity_key, a.observed_at FROM pgscore.outcomes a
             WHERE p_since = '-infinity') o
     CROSS JOIN LATERAL (
            SELECT DISTINCT ON (l.model_id) l.model_id, l.logged_at, l.score, l.label
              FROM (SELECT l.model_id, l.logged_at, l.score, l.label, l.cause, l.cmin, l.ctid
                      FROM pgscore.prediction_log l
                     WHERE l.entity_key = o.entity_key AND l.logged_at <= o.observed_at
                    OFFSET 0) l
              JOIN pgscore.models pm ON pm.model_id = l.model_id
             WHERE pm.name = o.model_name
             ORDER BY l.model_id, l.logged_at DESC, (jsonb_path_query_first(l.cause, '$.statement_at.datetime()', '{}', true) #>> '{}')::timestamptz DESC NULLS LAST, l.cmin::text::bigint DESC, l.ctid DESC) p
    ON CONFLICT (outcome_id, model_id) DO UPDATE
       SET predicted_at = excluded.predicted_at, score = excluded.score, label = excluded.label, matched_at = now()
     WHERE excluded.predicted_at > vm.predicted_at
        OR (p_since = '-infinity' AND excluded.predicted_at = vm.predicted_at
            AND (excluded.score, excluded.label) IS DISTINCT FROM (vm.score, vm.label));
    IF p_since = '-infinity' THEN
        RETURN v_rows;
    END IF;
    -- observed since p_since: the predictions logged since then, joined as a set (not a probe of the log's
    -- partitions per outcome), each version's newest for each outcome, read once for both: where newer than
    -- the one a version's row holds, it replaces it (rows that would not change are left untouched, not
    -- locked), and the newest of all where newer than the one the outcome holds
    -- (each version's newest served and newest in shadow: the outcome judges the newest served, a version's
    -- row holds its newest of either; a shadow's prediction was never served)
    -- (of one transaction's rows, its last statement's: statement_at, then the command, as above)
    WITH p AS MATERIALIZED (
        SELECT DISTINCT ON (c.outcome_id, l.model_id, l.source <> 'shadow')
               c.outcome_id, l.model_id, l.logged_at, l.score, l.label, l.source <> 'shadow' AS served,
               (jsonb_path_query_first(l.cause, '$.statement_at.datetime()', '{}', true) #>> '{}')::timestamptz AS statement_at, l.cmin::text::bigint AS command, l.ctid
          FROM pgscore.outcomes c
          JOIN pgscore.models pm ON pm.name = c.model_name
          JOIN pgscore.prediction_log l ON l.model_id = pm.model_id AND l.entity_key = c.entity_key
                                       AND l.logged_at <= c.observed_at AND l.logged_at >= p_since
         WHERE c.observed_at >= p_since AND c.judged_at IS NOT NULL
         ORDER BY c.outcome_id, l.model_id, l.source <> 'shadow', l.logged_at DESC, (jsonb_path_query_first(l.cause, '$.statement_at.datetime()', '{}', true) #>> '{}')::timestamptz DESC NULLS LAST, l.cmin::text::bigint DESC, l.ctid DESC
    ),
    versions AS (
        INSERT INTO pgscore.outcome_version_matches AS vm (outcome_id, model_id, predicted_at, score, label)
        SELECT DISTINCT ON (p.outcome_id, p.model_id) p.outcome_id, p.model_id, p.logged_at, p.score, p.label
          FROM p
         WHERE NOT EXISTS (SELECT 1 FROM pgscore.outcome_version_matches e
                            WHERE e.outcome_id = p.outcome_id AND e.model_id = p.model_id
                              AND e.predicted_at >= p.logged_at)
         ORDER BY p.outcome_id, p.model_id, p.logged_at DESC, p.statement_at DESC NULLS LAST, p.command DESC,
                  p.ctid DESC
        ON CONFLICT (outcome_id, model_id) DO UPDATE
           SET predicted_at = excluded.predicted_at, score = excluded.score, label = excluded.label, matched_at = now()
         WHERE excluded.predicted_at > vm.predicted_at
    )
    UPDATE pgscore.outcomes o
       SET judged_model_id = n.model_id, predicted_at = n.logged_at, judged_score = n.score,
           judged_label = n.label, judged_at = now()
      FROM (SELECT DISTINCT ON (p.outcome_id) p.* FROM p WHERE p.served
             ORDER BY p.outcome_id, p.logged_at DESC, p.statement_at DESC NULLS LAST, p.command DESC, p.ctid DESC) n
     WHERE o.outcome_id = n.outcome_id AND n.logged_at > coalesce(o.predicted_at, '-infinity'::timestamptz);
    GET DIAGNOSTICS v_chunk = ROW_COUNT;
    RETURN v_rows + v_chunk;
END
$fn$;

CREATE OR REPLACE FUNCTION pgscore.refresh_monitoring(p_relook interval DEFAULT '1 hour', p_rebuild boolean DEFAULT false)
RETURNS TABLE (rolled_from timestamptz, rolled_until timestamptz, rollup_rows bigint, firing bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET work_mem = '256MB'
SET enable_sort = off
SET enable_incremental_sort = off
AS $fn$
DECLARE
    v_day     timestamptz;
    v_next    timestamptz;
    v_chunk   bigint;
    v_until   timestamptz;
    v_from    timestamptz;
    v_to      timestamptz := date_bin('5 minutes', now(), '2000-01-01 00:00:00+00');
    v_rows    bigint;
    v_firing  bigint;
    v_models  bigint[];
    v_buckets timestamptz[];
    v_all     boolean;
BEGIN
    IF p_relook IS NULL OR p_rebuild IS NULL OR p_relook < interval '0' THEN
        RAISE EXCEPTION 'pgscore.refresh_monitoring: p_relook must be an interval >= 0 and p_rebuild true or false'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- (0154) a standby, or a read-only transaction, refuses its writes: said so, with where to run it (it was
    -- PostgreSQL's bare 25006, no hint, quoting this function's statement: trial hT17 of session 64)
    IF current_setting('transaction_read_only') = 'on' THEN
        PERFORM pgscore.refuse_read_only('pgscore.refresh_monitoring writes the rollups (pgscore.drift_rollup, pgscore.monitoring_state)');
    END IF;
    -- (0145) its one row put back where a partial restore left the table empty (it stayed empty, and each refresh
    -- said 0 firing while every view read no period): what the rollups hold is not known then to be what the log
    -- holds, so they are rolled up again, as a rebuild rolls them
    INSERT INTO pgscore.monitoring_state DEFAULT VALUES ON CONFLICT (singleton) DO NOTHING;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    p_rebuild := p_rebuild OR v_rows > 0;
    -- one refresh at a time; a second waits and then finds little to do
    SELECT s.rolled_until INTO v_until FROM pgscore.monitoring_state s FOR UPDATE;
    v_from := CASE WHEN p_rebuild THEN '-infinity'::timestamptz
                   ELSE date_bin('5 minutes', v_until - p_relook, '2000-01-01 00:00:00+00') END;
    v_all := v_from = '-infinity';  -- a rebuild, or the first refresh ever: every row of the log
    IF p_rebuild THEN
        DELETE FROM pgscore.drift_rollup;
        DELETE FROM pgscore.drift_rollup_day;
    ELSIF v_all THEN
        DELETE FROM pgscore.drift_rollup r WHERE r.bucket < v_to;
    ELSE
        -- the buckets of [v_from, v_to) to roll up again: those whose rows are not the ones their
        -- rollups counted (new buckets, and rows of transactions that committed late). The log's rows
        -- are never updated (a trigger refuses it) and retention only deletes them, which lowers the
        -- count, so a bucket whose count of rows is what its rollups hold has not changed; each row
        -- counts once in every (kind, position)
        SELECT coalesce(array_agg(coalesce(l.model_id, r.model_id)), '{}'),
               coalesce(array_agg(coalesce(l.bucket, r.bucket)), '{}')
          INTO v_models, v_buckets
          FROM (SELECT l.model_id, date_bin('5 minutes', l.logged_at, '2000-01-01 00:00:00+00') AS bucket,
                       count(*) AS n
                  FROM pgscore.prediction_log l
                 WHERE l.logged_at >= v_from AND l.logged_at < v_to
                   AND l.model_id IN (SELECT b.model_id FROM pgscore.baselines b)
                 GROUP BY 1, 2) l
          FULL JOIN (SELECT c.model_id, c.bucket, max(c.n) AS n
                       FROM (SELECT r.model_id, r.bucket, sum(r.n) AS n FROM pgscore.drift_rollup r
                              WHERE r.bucket >= v_from AND r.bucket < v_to
                              GROUP BY r.model_id, r.bucket, r.kind, r.position) c
                      GROUP BY c.model_id, c.bucket) r ON r.model_id = l.model_id AND r.bucket = l.bucket
         WHERE l.n IS DISTINCT FROM r.n;
        DELETE FROM pgscore.drift_rollup r USING unnest(v_models, v_buckets) AS c(model_id, bucket)
         WHERE r.model_id = c.model_id AND r.bucket = c.bucket;
    END IF;
    -- (values beyond +-1e290 summed as +-1e290, as drift_counts sums them: no sum overflows)
    -- one UTC day at a time (the log's partitions), so each aggregate is a hash over at most a day of
    -- values and temp space does not grow with the log; a rebuild starts at the oldest row
    IF v_from = '-infinity' THEN
        SELECT date_bin('5 minutes', min(l.logged_at), '2000-01-01 00:00:00+00') INTO v_from
          FROM pgscore.prediction_log l;
    END IF;
    v_rows := 0;
    v_day := v_from;
    WHILE v_day IS NOT NULL AND v_day < v_to LOOP
        v_next := least(date_trunc('day', v_day, 'UTC') + interval '24 hours', v_to);
        IF v_all THEN
            INSERT INTO pgscore.drift_rollup (model_id, bucket, kind, position, bin, n, total, n_out)
            SELECT v.model_id, date_bin('5 minutes', v.logged_at, '2000-01-01 00:00:00+00'), v.kind, v.position,
                   v.bin, count(*), coalesce(sum(least(greatest(v.x, -1e290), 1e290)) FILTER (WHERE v.bin >= 0), 0),
                   count(*) FILTER (WHERE v.out_of_range)
              FROM pgscore.prediction_values v
             WHERE v.logged_at >= v_day AND v.logged_at < v_next
             GROUP BY 1, 2, 3, 4, 5;
        ELSIF EXISTS (SELECT 1 FROM unnest(v_buckets) AS b(bucket) WHERE b.bucket >= v_day AND b.bucket < v_next) THEN
            -- bucket by bucket, each through the log's (model_id, logged_at) index (OFFSET 0 keeps the
            -- planner from scanning the whole span once for every baseline row and bucket)
            INSERT INTO pgscore.drift_rollup (model_id, bucket, kind, position, bin, n, total, n_out)
            SELECT c.model_id, c.bucket, v.kind, v.position, v.bin, count(*),
                   coalesce(sum(least(greatest(v.x, -1e290), 1e290)) FILTER (WHERE v.bin >= 0), 0), count(*) FILTER (WHERE v.out_of_range)
              FROM unnest(v_models, v_buckets) AS c(model_id, bucket)
             CROSS JOIN LATERAL (SELECT pv.* FROM pgscore.prediction_values pv
                                  WHERE pv.model_id = c.model_id AND pv.logged_at >= c.bucket
                                    AND pv.logged_at < c.bucket + interval '5 minutes' OFFSET 0) v
             WHERE c.bucket >= v_day AND c.bucket < v_next
             GROUP BY 1, 2, 3, 4, 5;
        ELSE
            v_day := v_next;  -- nothing of this day changed: its day rollup stays as it is
            CONTINUE;
        END IF;
        GET DIAGNOSTICS v_chunk = ROW_COUNT;
        v_rows := v_rows + v_chunk;
        -- and the whole UTC day again from its 5-minute rollups (those before v_day stay as they were)
        DELETE FROM pgscore.drift_rollup_day d WHERE d.day = date_trunc('day', v_day, 'UTC');
        INSERT INTO pgscore.drift_rollup_day (model_id, day, kind, position, bin, n, total, n_out)
        SELECT r.model_id, date_trunc('day', v_day, 'UTC'), r.kind, r.position, r.bin, sum(r.n), sum(r.total),
               sum(r.n_out)
          FROM pgscore.drift_rollup r
         WHERE r.bucket >= date_trunc('day', v_day, 'UTC') AND r.bucket < date_trunc('day', v_day, 'UTC') + interval '24 hours'
         GROUP BY r.model_id, r.kind, r.position, r.bin;
        v_day := v_next;
    END LOOP;
    UPDATE pgscore.monitoring_state s SET rolled_until = greatest(v_to, s.rolled_until), refreshed_at = now();

    -- the alerts are planned as any query: with the sorts turned off (for the rollups' hash aggregates)
    -- the firing view took five times as long; the function's SET clauses end these with the call
    SET LOCAL enable_sort = on;
    SET LOCAL enable_incremental_sort = on;
    -- outcomes observed within the look-back (all of them on a rebuild) find a prediction logged late
    PERFORM pgscore.match_outcomes(coalesce(CASE WHEN NOT v_all THEN v_until - p_relook END, '-infinity'));
    -- alert_state keeps when each firing condition was first seen; cleared ones go
    WITH f AS MATERIALIZED (SELECT * FROM pgscore.firing),
    gone AS (
        DELETE FROM pgscore.alert_state s
         WHERE NOT EXISTS (SELECT 1 FROM f WHERE f.model = s.model AND f.version = s.version AND f.what = s.what
                             AND f.subject = s.subject AND f.window_name = s.window_name
                             AND f.metric = s.metric AND f.level = s.level)
    )
    -- with whether each is a shadow's as this refresh read it (pgscore status counts them apart: the deployments
    -- by refreshed_at, the transaction's start, missed a version made live or a shadow set while the refresh ran)
    INSERT INTO pgscore.alert_state AS s (model, version, what, subject, window_name, metric, level, shadow)
    SELECT DISTINCT ON (f.model, f.version, f.what, f.subject, f.window_name, f.metric, f.level)
           f.model, f.version, f.what, f.subject, f.window_name, f.metric, f.level, f.shadow FROM f
    ON CONFLICT (model, version, what, subject, window_name, metric, level) DO UPDATE SET shadow = EXCLUDED.shadow
       WHERE s.shadow IS DISTINCT FROM EXCLUDED.shadow;
    SELECT count(*) INTO v_firing FROM pgscore.alert_state;
    RETURN QUERY SELECT coalesce(v_from, v_to), greatest(v_to, v_until), v_rows, v_firing;
END
$fn$;

CREATE OR REPLACE FUNCTION pgscore.silence_alerts(p_model text, p_for interval, p_reason text, p_what text DEFAULT NULL,
                                       p_subject text DEFAULT NULL, p_metric text DEFAULT NULL,
                                       p_window text DEFAULT NULL, p_shadow boolean DEFAULT NULL,
                                       p_starts_at timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_id bigint;
BEGIN
    -- (session 66) a standby, or a read-only transaction, refuses its writes: said so, with where to run it, as
    -- record_outcome since 0154 (it was PostgreSQL's bare 25006, no hint)
    IF current_setting('transaction_read_only') = 'on' THEN
        PERFORM pgscore.refuse_read_only('pgscore.silence_alerts writes pgscore.alert_silences');
    END IF;
    IF p_model IS NULL OR p_for IS NULL OR p_reason IS NULL OR p_starts_at IS NULL THEN
        RAISE EXCEPTION 'pgscore.silence_alerts: p_model, p_for, p_reason and p_starts_at must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_model) THEN
        RAISE EXCEPTION 'there is no model %', quote_literal(p_model) USING ERRCODE = 'undefined_object',
            HINT = pgscore.model_name_hint(p_model);
    END IF;
    IF btrim(p_reason) = '' THEN
        RAISE EXCEPTION 'pgscore.silence_alerts: p_reason is blank: say why (the incident, ticket or fix under way)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- (judged by the time they span from p_starts_at: '3 months' compares equal to '90 days' as intervals, and
    -- '1 mon -30 days' is neither positive nor negative until added to a date)
    IF p_starts_at + p_for <= p_starts_at THEN
        RAISE EXCEPTION 'pgscore.silence_alerts: p_for must be a positive interval, got %', p_for
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- (a silence is not a way to switch monitoring off: a metric too sensitive for good has its thresholds)
    IF p_starts_at + p_for > p_starts_at + interval '90 days' THEN
        RAISE EXCEPTION 'pgscore.silence_alerts: p_for must be at most 90 days, got %', p_for
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'silence again when it ends, or change the metric''s thresholds: the model''s with '
                         'pgscore.set_thresholds, every model''s in pgscore.drift_thresholds';
    END IF;
    IF p_what IS NOT NULL AND p_what NOT IN ('feature', 'score', 'performance', 'class') THEN
        RAISE EXCEPTION 'pgscore.silence_alerts: p_what must be feature, score, performance or class (as '
                        'pgscore.alerts.what), or NULL for any; got %', quote_literal(p_what)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_subject IS NOT NULL AND p_subject NOT IN ('outcomes', 'outcomes by recorded time', 'mix')
       AND NOT EXISTS (SELECT 1 FROM pgscore.baselines b JOIN pgscore.models m ON m.model_id = b.model_id
                        WHERE m.name = p_model AND b.feature = p_subject) THEN
        -- (a subject no condition of the model has, its case wrong or a typo, would mute nothing, silently)
        RAISE EXCEPTION 'pgscore.silence_alerts: p_subject % is not a subject of model %: a feature or the score of '
                        'its baselines, outcomes, outcomes by recorded time or mix (as pgscore.alerts.subject), or '
                        'NULL for any', quote_literal(p_subject), quote_literal(p_model)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = coalesce((SELECT 'a typo for ' || string_agg(DISTINCT quote_literal(b.feature), ' or ') || '?'
                                     FROM pgscore.baselines b JOIN pgscore.models m ON m.model_id = b.model_id
                                    WHERE m.name = p_model AND lower(b.feature) = lower(p_subject)),
                                  'list them with: SELECT DISTINCT feature FROM pgscore.baselines JOIN pgscore.models '
                                  'USING (model_id) WHERE name = ' || quote_literal(p_model));
    END IF;
    IF p_window IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pgscore.drift_windows w WHERE w.window_name = p_window) THEN
        RAISE EXCEPTION 'pgscore.silence_alerts: p_window % is not a window of pgscore.drift_windows (%), or NULL '
                        'for any', quote_literal(p_window),
                        (SELECT string_agg(quote_literal(w.window_name), ', ' ORDER BY w.sort_order, w.window_name)
                           FROM pgscore.drift_windows w)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_metric IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pgscore.drift_thresholds t WHERE t.metric = p_metric) THEN
        RAISE EXCEPTION 'pgscore.silence_alerts: p_metric % is not a metric of pgscore.drift_thresholds (%), or '
                        'NULL for any', quote_literal(p_metric),
                        (SELECT string_agg(t.metric, ', ' ORDER BY t.metric) FROM pgscore.drift_thresholds t)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO pgscore.alert_silences (model, what, subject, metric, window_name, shadow, starts_at, ends_at, reason)
    VALUES (p_model, p_what, p_subject, p_metric, p_window, p_shadow, p_starts_at, p_starts_at + p_for, p_reason)
    RETURNING id INTO v_id;
    RETURN v_id;
END
$fn$;

CREATE OR REPLACE FUNCTION pgscore.lift_silence(p_id bigint)
RETURNS void
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_row pgscore.alert_silences;
BEGIN
    -- (session 66) a standby, or a read-only transaction, refuses its writes: said so, with where to run it, as
    -- record_outcome since 0154 (it was PostgreSQL's bare 25006, no hint)
    IF current_setting('transaction_read_only') = 'on' THEN
        PERFORM pgscore.refuse_read_only('pgscore.lift_silence writes pgscore.alert_silences');
    END IF;
    IF p_id IS NULL THEN
        RAISE EXCEPTION 'pgscore.lift_silence: p_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    UPDATE pgscore.alert_silences s SET lifted_at = now(), lifted_by = session_user
     WHERE s.id = p_id AND s.lifted_at IS NULL AND s.ends_at > now();
    IF FOUND THEN
        RETURN;
    END IF;
    SELECT * INTO v_row FROM pgscore.alert_silences s WHERE s.id = p_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'there is no silence %', p_id USING ERRCODE = 'undefined_object',
            HINT = 'list them with: SELECT * FROM pgscore.alert_silences';
    END IF;
    -- (lifting twice, or one ended already: nothing to do, as activate says of a version live already; lifted_at
    -- is a lift before its end)
    IF v_row.lifted_at IS NULL THEN
        RAISE NOTICE 'silence % ended already (at %): nothing was changed', p_id, v_row.ends_at;
    ELSE
        RAISE NOTICE 'silence % was lifted already (at %, by %): nothing was changed', p_id, v_row.lifted_at,
            v_row.lifted_by;
    END IF;
END
$fn$;

CREATE OR REPLACE FUNCTION pgscore.set_thresholds(p_model text, p_metric text, p_warn float8 DEFAULT NULL,
                                       p_alert float8 DEFAULT NULL, p_min_n integer DEFAULT NULL,
                                       p_confidence float8 DEFAULT NULL, p_subject text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_warn  float8;
    v_alert float8;
BEGIN
    -- (session 66) a standby, or a read-only transaction, refuses its writes: said so, with where to run it, as
    -- record_outcome since 0154 (it was PostgreSQL's bare 25006, no hint)
    IF current_setting('transaction_read_only') = 'on' THEN
        PERFORM pgscore.refuse_read_only('pgscore.set_thresholds writes pgscore.drift_threshold_overrides');
    END IF;
    IF p_model IS NULL OR p_metric IS NULL THEN
        RAISE EXCEPTION 'pgscore.set_thresholds: p_model and p_metric must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_model) THEN
        RAISE EXCEPTION 'there is no model %', quote_literal(p_model) USING ERRCODE = 'undefined_object',
            HINT = pgscore.model_name_hint(p_model);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pgscore.drift_thresholds t WHERE t.metric = p_metric) THEN
        RAISE EXCEPTION 'pgscore.set_thresholds: p_metric % is not a metric of pgscore.drift_thresholds (%)',
                        quote_literal(p_metric),
                        (SELECT string_agg(t.metric, ', ' ORDER BY t.metric) FROM pgscore.drift_thresholds t)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_subject IS NOT NULL AND p_metric NOT IN ('psi', 'ks', 'js', 'mean_shift', 'null_rate', 'out_of_range') THEN
        RAISE EXCEPTION 'pgscore.set_thresholds: % is judged per model, not per feature: p_subject must be NULL',
                        p_metric
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'a subject narrows a drift metric (psi, ks, js, mean_shift, null_rate, out_of_range) to one '
                         'feature or the score';
    END IF;
    IF p_subject IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM pgscore.baselines b JOIN pgscore.models m ON m.model_id = b.model_id
                        WHERE m.name = p_model AND b.kind IN ('feature', 'score') AND b.feature = p_subject) THEN
        -- (an override of a subject the model has not, its case wrong or a typo, would change nothing, silently)
        RAISE EXCEPTION 'pgscore.set_thresholds: p_subject % is not a feature of model % nor its score (as '
                        'pgscore.alerts.subject), or NULL for every one', quote_literal(p_subject), quote_literal(p_model)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = coalesce((SELECT 'a typo for ' || string_agg(DISTINCT quote_literal(b.feature), ' or ') || '?'
                                     FROM pgscore.baselines b JOIN pgscore.models m ON m.model_id = b.model_id
                                    WHERE m.name = p_model AND b.kind IN ('feature', 'score')
                                      AND lower(b.feature) = lower(p_subject)),
                                  'list them with: SELECT DISTINCT feature FROM pgscore.baselines JOIN pgscore.models '
                                  'USING (model_id) WHERE name = ' || quote_literal(p_model));
    END IF;
    IF p_warn IS NULL AND p_alert IS NULL AND p_min_n IS NULL AND p_confidence IS NULL THEN
        RAISE EXCEPTION 'pgscore.set_thresholds: give at least one of p_warn, p_alert, p_min_n and p_confidence'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'to go back to the inherited thresholds: pgscore.clear_thresholds(model, metric, subject)';
    END IF;
    IF p_warn < 0 OR p_alert < 0 OR p_warn = 'NaN' OR p_alert = 'NaN' THEN
        RAISE EXCEPTION 'pgscore.set_thresholds: p_warn and p_alert must be numbers of at least 0, got % and %',
                        p_warn, p_alert
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'a level never reached: ''Infinity'' (alert = ''Infinity'': warn only)';
    END IF;
    IF p_min_n < 1 THEN
        RAISE EXCEPTION 'pgscore.set_thresholds: p_min_n must be at least 1, got %', p_min_n
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT (p_confidence >= 0 AND p_confidence < 1) THEN
        RAISE EXCEPTION 'pgscore.set_thresholds: p_confidence must be between 0 and 1 (0 included: no noise floor), got %', p_confidence
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'e.g. 0.999, the default''s; 0 for no noise floor (the thresholds alone judge it)';
    END IF;
    IF p_confidence IS NOT NULL AND p_metric = 'class_mix' THEN
        RAISE EXCEPTION 'pgscore.set_thresholds: class_mix has no noise floor: p_confidence must be NULL'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- (one writer of the overrides at a time, until it commits: two sessions each setting a sound row, a model's warn
    -- and a subject's alert, could together leave the subject's warn above its alert; check_threshold_order reads
    -- what the other committed once it has the lock)
    LOCK TABLE pgscore.drift_threshold_overrides IN SHARE ROW EXCLUSIVE MODE;
    -- (0133) this write's turn: a REPEATABLE READ or SERIALIZABLE transaction whose snapshot missed another
    -- session's committed write would check the order against thresholds no longer in place; its update of
    -- threshold_writes' row (which that write updated too) fails instead
    BEGIN
        UPDATE pgscore.threshold_writes SET writes = writes + 1;
    EXCEPTION WHEN serialization_failure THEN
        RAISE EXCEPTION '%: another session changed the thresholds after this transaction''s snapshot was taken',
                        'pgscore.set_thresholds'
            USING ERRCODE = 'serialization_failure',
                  DETAIL = 'a REPEATABLE READ or SERIALIZABLE transaction checks warn at most alert against the '
                           'thresholds as its snapshot has them, which may no longer be in place',
                  HINT = 'run the transaction again (or write thresholds in a READ COMMITTED transaction, the '
                         'default, which reads what the other committed once it has the lock)';
    END;
    -- warn <= alert as they will be judged, each inherited where not given
    -- (0133: what it inherits is what the level above it is judged by, pgscore.effective_thresholds: a subject's
    -- the model's, the model's drift_thresholds')
    SELECT coalesce(p_warn, e.warn), coalesce(p_alert, e.alert) INTO v_warn, v_alert
      FROM pgscore.effective_thresholds(CASE WHEN p_subject IS NOT NULL THEN p_model END, p_metric, NULL) e;
    IF v_warn > v_alert THEN
        RAISE EXCEPTION 'pgscore.set_thresholds: warn % would be above alert % for % of model %', v_warn, v_alert,
                        p_metric, quote_literal(p_model)
                        || CASE WHEN p_subject IS NOT NULL THEN ', subject ' || quote_literal(p_subject) ELSE '' END
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'give both p_warn and p_alert, warn at most alert (a NULL one is inherited)';
    END IF;
    INSERT INTO pgscore.drift_threshold_overrides AS o (model, metric, subject, warn, alert, min_n, confidence)
    VALUES (p_model, p_metric, p_subject, p_warn, p_alert, p_min_n, p_confidence)
        ON CONFLICT ON CONSTRAINT drift_threshold_overrides_key
        DO UPDATE SET warn = EXCLUDED.warn, alert = EXCLUDED.alert, min_n = EXCLUDED.min_n,
                      confidence = EXCLUDED.confidence, created_by = session_user, updated_at = now();
END
$fn$;

CREATE OR REPLACE FUNCTION pgscore.clear_thresholds(p_model text, p_metric text DEFAULT NULL, p_subject text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_n integer;
BEGIN
    -- (session 66) a standby, or a read-only transaction, refuses its writes: said so, with where to run it, as
    -- record_outcome since 0154 (it was PostgreSQL's bare 25006, no hint)
    IF current_setting('transaction_read_only') = 'on' THEN
        PERFORM pgscore.refuse_read_only('pgscore.clear_thresholds writes pgscore.drift_threshold_overrides');
    END IF;
    IF p_model IS NULL THEN
        RAISE EXCEPTION 'pgscore.clear_thresholds: p_model must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_model)
       AND NOT EXISTS (SELECT 1 FROM pgscore.drift_threshold_overrides o WHERE o.model = p_model) THEN
        RAISE EXCEPTION 'there is no model %', quote_literal(p_model) USING ERRCODE = 'undefined_object',
            HINT = pgscore.model_name_hint(p_model);
    END IF;
    IF p_metric IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pgscore.drift_thresholds t WHERE t.metric = p_metric) THEN
        RAISE EXCEPTION 'pgscore.clear_thresholds: p_metric % is not a metric of pgscore.drift_thresholds (%), or '
                        'NULL for any', quote_literal(p_metric),
                        (SELECT string_agg(t.metric, ', ' ORDER BY t.metric) FROM pgscore.drift_thresholds t)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    LOCK TABLE pgscore.drift_threshold_overrides IN SHARE ROW EXCLUSIVE MODE;  -- (as set_thresholds)
    DELETE FROM pgscore.drift_threshold_overrides o
     WHERE o.model = p_model AND (p_metric IS NULL OR o.metric = p_metric)
       AND (p_subject IS NULL OR o.subject = p_subject);
    GET DIAGNOSTICS v_n = ROW_COUNT;
    IF v_n = 0 THEN
        RAISE NOTICE 'model % has no threshold override%: nothing was cleared', quote_literal(p_model),
            CASE WHEN p_metric IS NOT NULL THEN ' of ' || p_metric ELSE '' END
            || CASE WHEN p_subject IS NOT NULL THEN ' for subject ' || quote_literal(p_subject) ELSE '' END;
    END IF;
    RETURN v_n;
END
$fn$;

CREATE OR REPLACE FUNCTION pgscore.detach_rescoring(p_event_table regclass, p_profile_table regclass DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r record;
    v_n integer := 0;
    v_missing text;
    v_held bigint;
    v_profiles bigint;
BEGIN
    -- (session 66) a standby, or a read-only transaction, refuses its writes: said so, with where to run it, as
    -- record_outcome since 0154 (it was PostgreSQL's bare 25006, no hint)
    IF current_setting('transaction_read_only') = 'on' THEN
        PERFORM pgscore.refuse_read_only('pgscore.detach_rescoring writes the wiring (pgscore.rescoring and its triggers)');
    END IF;
    IF p_event_table IS NULL THEN
        RAISE EXCEPTION 'pgscore.detach_rescoring: the event table is NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- an oid cast to regclass is not checked: it would read as "- is not wired" (regclass prints 0 as -)
    v_missing := CASE WHEN NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = p_event_table) THEN 'event'
                      WHEN p_profile_table IS NOT NULL
                           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = p_profile_table) THEN 'profile'
                 END;
    IF v_missing IS NOT NULL THEN
        RAISE EXCEPTION 'pgscore.detach_rescoring: there is no relation with oid % (the % table)',
              CASE v_missing WHEN 'event' THEN p_event_table::oid ELSE p_profile_table::oid END, v_missing
            USING ERRCODE = 'undefined_table',
                  HINT = 'name the table, as ''schema.table''::regclass does; a wiring whose table was dropped is removed with pgscore.forget_rescoring(rescoring_id) (SELECT * FROM pgscore.rescoring lists them)';
    END IF;
    FOR r IN SELECT w.rescoring_id, w.trigger_name, w.replication_trigger, w.event_table, w.profile_table,
                    -- the table its trigger is on: this one, or the one that had its name, since renamed
                    (SELECT t.tgrelid::regclass FROM pg_catalog.pg_trigger t
                      WHERE t.tgname = w.trigger_name AND t.tgfoid = 'pgscore.rescore_events()'::regprocedure
                      ORDER BY t.tgrelid = p_event_table DESC LIMIT 1) AS on_table,
                    -- and its row trigger for replicated rows, where it has one
                    (SELECT t.tgrelid::regclass FROM pg_catalog.pg_trigger t
                      WHERE t.tgname = w.replication_trigger AND t.tgfoid = 'pgscore.rescore_replicated()'::regprocedure
                      ORDER BY t.tgrelid = p_event_table DESC LIMIT 1) AS replicated_on,
                    -- and the constraint trigger that rescores the rows staged by it at the commit
                    w.replication_trigger || '_commit' AS commit_trigger,
                    (SELECT t.tgrelid::regclass FROM pg_catalog.pg_trigger t
                      WHERE t.tgname = w.replication_trigger || '_commit'
                        AND t.tgfoid = 'pgscore.rescore_replicated()'::regprocedure
                      ORDER BY t.tgrelid = p_event_table DESC LIMIT 1) AS commit_on
               FROM pgscore.rescoring w
              -- by name, or by its trigger on this table when the table it names has no such trigger (the
              -- table was renamed since; not a trigger of the same name restored on another table)
              WHERE (w.event_table = p_event_table::text
                     OR (w.trigger_name IN (SELECT t.tgname FROM pg_catalog.pg_trigger t WHERE t.tgrelid = p_event_table)
                         AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t
                                          WHERE t.tgrelid = to_regclass(w.event_table) AND t.tgname = w.trigger_name)))
                AND (p_profile_table IS NULL OR w.profile_table = p_profile_table::text)
              ORDER BY w.rescoring_id
    LOOP
        -- the row first, in rescoring_id order: its DELETE is the lock a concurrent detach or forget waits on (a
        -- SELECT ... FOR UPDATE took UPDATE on pgscore.rescoring, which pgscore_admin holds no more: migration 0082),
        -- and one that removed it meanwhile leaves nothing to remove
        DELETE FROM pgscore.rescoring w WHERE w.rescoring_id = r.rescoring_id;
        CONTINUE WHEN NOT FOUND;
        IF r.on_table IS NOT NULL THEN  -- (dropped by hand, it is gone already)
            EXECUTE format('DROP TRIGGER %I ON %s', r.trigger_name, r.on_table);
        END IF;
        IF r.replicated_on IS NOT NULL THEN
            EXECUTE format('DROP TRIGGER %I ON %s', r.replication_trigger, r.replicated_on);
        END IF;
        IF r.commit_on IS NOT NULL THEN
            EXECUTE format('DROP TRIGGER %I ON %s', r.commit_trigger, r.commit_on);
        END IF;
        -- the replicated events a two_phase subscription held back for it (pgscore.replicated_pending): nothing
        -- would count them once the wiring is gone (retry_failed folds those of the wirings there are), and
        -- pgscore status would count them for ever; deleted with it, saying so
        WITH d AS (DELETE FROM pgscore.replicated_pending q WHERE q.rescoring_id = r.rescoring_id RETURNING q.entity_key)
        SELECT count(*), count(DISTINCT d.entity_key) INTO v_held, v_profiles FROM d;
        IF v_held > 0 THEN
            RAISE WARNING 'pgscore.detach_rescoring: % replicated event(s) of % profile(s) of % held back by a two_phase subscription (pgscore.replicated_pending) were deleted with wiring % of %, not counted',
                  v_held, v_profiles, r.profile_table, r.rescoring_id, r.event_table
                USING HINT = 'their profiles'' counters and scores lack them; to count them, run SELECT * FROM pgscore.retry_failed() before removing a wiring (it counts those no prepared transaction holds: pg_prepared_xacts)';
        END IF;
        v_n := v_n + 1;
    END LOOP;
    -- triggers of pgscore's on this table that no wiring owns (a dump of the table restored without
    -- pgscore.rescoring's rows): they rescore nothing and warn at every INSERT (not when one profile
    -- table's wiring is asked for: that call says whether it was there)
    FOR r IN SELECT t.tgname FROM pg_catalog.pg_trigger t
              WHERE p_profile_table IS NULL
                AND t.tgrelid = p_event_table
                AND t.tgfoid IN ('pgscore.rescore_events()'::regprocedure, 'pgscore.rescore_replicated()'::regprocedure)
                AND NOT EXISTS (SELECT 1 FROM pgscore.rescoring w
                                 WHERE t.tgname IN (w.trigger_name, w.replication_trigger, w.replication_trigger || '_commit')
                                   AND (to_regclass(w.event_table) = p_event_table
                                        OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger o
                                                        WHERE o.tgrelid = to_regclass(w.event_table)
                                                          AND o.tgname = t.tgname)))
              ORDER BY t.tgname
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', r.tgname, p_event_table);
        RAISE NOTICE 'pgscore.detach_rescoring: dropped trigger % on %, which belonged to no wiring', quote_ident(r.tgname), p_event_table;
        v_n := v_n + 1;
    END LOOP;
    IF v_n = 0 THEN
        RAISE EXCEPTION '% is not wired for rescoring%', p_event_table,
              CASE WHEN p_profile_table IS NULL THEN '' ELSE ' to ' || p_profile_table::text END
            USING ERRCODE = 'undefined_object', HINT = 'list wirings with: SELECT * FROM pgscore.rescoring';
    END IF;
    RETURN v_n;
END
$fn$;

CREATE OR REPLACE FUNCTION pgscore.forget_rescoring(p_rescoring_id bigint)
RETURNS void
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_on regclass;
    v_held bigint;
    v_profiles bigint;
    v_event text;
    v_profile text;
    v_trigger name;
    v_replication_trigger name;
    v_gone bigint;
    v_name text[];
    v_renamed text;
    v_kept bigint;
BEGIN
    -- (session 66) a standby, or a read-only transaction, refuses its writes: said so, with where to run it, as
    -- record_outcome since 0154 (it was PostgreSQL's bare 25006, no hint)
    IF current_setting('transaction_read_only') = 'on' THEN
        PERFORM pgscore.refuse_read_only('pgscore.forget_rescoring writes the wiring (pgscore.rescoring)');
    END IF;
    IF p_rescoring_id IS NULL THEN
        RAISE EXCEPTION 'pgscore.forget_rescoring: the rescoring_id is NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- deleted first: the DELETE is the row's lock (a SELECT ... FOR UPDATE took UPDATE on pgscore.rescoring, which
    -- pgscore_admin holds no more: migration 0082); an error below undoes it with the rest
    DELETE FROM pgscore.rescoring w WHERE w.rescoring_id = p_rescoring_id
    RETURNING w.event_table, w.profile_table, w.trigger_name, w.replication_trigger
         INTO v_event, v_profile, v_trigger, v_replication_trigger;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'there is no wiring %', p_rescoring_id
            USING ERRCODE = 'undefined_object', HINT = 'list wirings with: SELECT * FROM pgscore.rescoring';
    END IF;
    SELECT t.tgrelid::regclass INTO v_on FROM pg_catalog.pg_trigger t
     WHERE (t.tgname = v_trigger AND t.tgfoid = 'pgscore.rescore_events()'::regprocedure)
        OR (t.tgname = v_replication_trigger AND t.tgfoid = 'pgscore.rescore_replicated()'::regprocedure)
     LIMIT 1;
    IF v_on IS NOT NULL THEN
        RAISE EXCEPTION 'wiring % still has its trigger, on %', p_rescoring_id, v_on
            USING ERRCODE = 'object_in_use',
                  HINT = format('detach it with: SELECT pgscore.detach_rescoring(%L)', v_on::text);
    END IF;
    -- (migration 0157) its queued errors stay for a wiring of their profile table to take over, unless no table has
    -- that name any more (its event table is gone already: a DROP SCHEMA ... CASCADE of a tenant): nothing would
    -- rescore them but a table made later under that name (another tenant's), which took over keys never its own.
    -- (detach_rescoring keeps them: the profile table alone renamed, and named back, is the commoner case there)
    -- (looked up in the catalog, not by to_regclass: that raised 42501 for a caller without USAGE on the table's
    -- schema, a pgscore_admin not given each tenant's schema, and forget_rescoring failed where the table was there)
    v_name := parse_ident(v_profile);
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                    WHERE c.relname = v_name[cardinality(v_name)]
                      AND (cardinality(v_name) = 1 OR n.nspname = v_name[cardinality(v_name) - 1])) THEN
        -- (session 67, h7) but not those queued in this queue for a table that is there still by the OID they keep:
        -- the profile table renamed away (ALTER TABLE ... RENAME, its event table dropped), whose attach_rescoring
        -- under its new name takes them over, as after detach_rescoring (they were deleted, the WARNING saying that
        -- the table renamed "starts with an empty queue")
        WITH d AS (DELETE FROM pgscore.error_queue q WHERE q.profile_table = v_profile AND q.rescoring_id IS NULL
                      AND NOT (q.profile_oid IS NOT NULL
                               AND q.queue_oid = 'pgscore.error_queue'::regclass::oid
                               AND q.queue_system = (SELECT (pg_control_system()).system_identifier)
                               AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = q.profile_oid))
                   RETURNING 1)
        SELECT count(*) INTO v_gone FROM d;
        IF v_gone > 0 THEN
            RAISE WARNING 'pgscore.forget_rescoring: % queued rescoring(s) of % were deleted with wiring %: no table has that name any more, so nothing could rescore them',
                  v_gone, v_profile, p_rescoring_id
                USING HINT = 'a table made again under that name starts with an empty queue (so does the table renamed, where they kept no OID of this database: queued before migration 0160, or restored from a dump): its profiles are rescored by their next event, or by pgscore.rescore_profiles once it is wired';
        END IF;
        FOR v_renamed, v_kept IN
            SELECT q.profile_oid::regclass::text, count(*) FROM pgscore.error_queue q
             WHERE q.profile_table = v_profile AND q.rescoring_id IS NULL
               AND q.queue_oid = 'pgscore.error_queue'::regclass::oid
               AND q.queue_system = (SELECT (pg_control_system()).system_identifier)
               AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = q.profile_oid)
             GROUP BY 1 ORDER BY 1
        LOOP
            RAISE NOTICE 'pgscore.forget_rescoring: % queued rescoring(s) of % were kept, without wiring %: that table was renamed to % since',
                  v_kept, v_profile, p_rescoring_id, v_renamed
                USING HINT = format('an attach_rescoring of an event table to %s takes them over', v_renamed);
        END LOOP;
    END IF;
    -- the replicated events a two_phase subscription held back for it (pgscore.replicated_pending): nothing
    -- would count them once the wiring is gone (retry_failed folds those of the wirings there are), and
    -- pgscore status would count them for ever; deleted with it, saying so
    WITH d AS (DELETE FROM pgscore.replicated_pending q WHERE q.rescoring_id = p_rescoring_id RETURNING q.entity_key)
    SELECT count(*), count(DISTINCT d.entity_key) INTO v_held, v_profiles FROM d;
    IF v_held > 0 THEN
        RAISE WARNING 'pgscore.forget_rescoring: % replicated event(s) of % profile(s) of % held back by a two_phase subscription (pgscore.replicated_pending) were deleted with wiring % of %, not counted',
              v_held, v_profiles, v_profile, p_rescoring_id, v_event
            USING HINT = 'their profiles'' counters and scores lack them; to count them, run SELECT * FROM pgscore.retry_failed() before removing a wiring (it counts those no prepared transaction holds: pg_prepared_xacts)';
    END IF;
END
$fn$;

CREATE OR REPLACE FUNCTION pgscore.redact_log_features(p_older_than interval, p_limit integer DEFAULT 100000,
                                            p_recheck boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- (0159) its NOTICE's cut, a UTC midnight, said in UTC and ISO, as drop_log_partitions' (trial T21)
SET DateStyle = 'ISO, YMD'
SET TimeZone = 'UTC'
-- (review r5) and its period in one IntervalStyle: log_retention kept `"older_than": "P200D"` of a role's
-- iso_8601, and the floor's refusal said `P10D ... P2Y`
SET IntervalStyle = 'postgres'
AS $fn$
DECLARE
    v_floor interval;
    v_floor_cut timestamptz;
    v_cut timestamptz;
    v_done timestamptz;
    v_id bigint;
    v_left bigint;
    v_n bigint;
    v_rows bigint := 0;
    v_parts integer := 0;
    v_part record;
BEGIN
    -- (session 66) a standby, or a read-only transaction, refuses its writes: said so, with where to run it, as
    -- record_outcome since 0154 (it was PostgreSQL's bare 25006, no hint)
    IF current_setting('transaction_read_only') = 'on' THEN
        PERFORM pgscore.refuse_read_only('pgscore.redact_log_features writes pgscore.prediction_log');
    END IF;
    -- a part of each sign (session 64): compared as an interval, a month is 30 days, and '-1 mon 31 days' (1 day
    -- to the comparison below) is none in a month of 31 days, its cut today's midnight
    IF extract(year FROM p_older_than) < 0 OR extract(month FROM p_older_than) < 0
       OR extract(day FROM p_older_than) < 0 OR extract(hour FROM p_older_than) < 0
       OR extract(minute FROM p_older_than) < 0 OR extract(second FROM p_older_than) < 0 THEN
        RAISE EXCEPTION 'pgscore.redact_log_features: p_older_than, how long features are kept, has a negative part (got %): a month is 28 to 31 days, so such a period is a different length on different dates', p_older_than
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'write the period in parts of one sign: ''2 years'', ''730 days'' or ''1 year 6 mons''';
    END IF;
    -- (every part positive or zero: a month is at least 28 days, so this comparison is exact)
    IF p_older_than IS NULL OR p_older_than < interval '1 day' THEN
        RAISE EXCEPTION 'pgscore.redact_log_features: p_older_than, how long features are kept, must be at least 1 day (got %)', p_older_than
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'features are kept for whole UTC days; a number without a unit is seconds: write ''2 years'', not ''2''';
    END IF;
    IF p_limit IS NULL OR p_limit < 1 OR p_recheck IS NULL THEN
        RAISE EXCEPTION 'pgscore.redact_log_features: p_limit, the rows redacted a call, must be at least 1 and p_recheck not NULL (got %, %)', p_limit, p_recheck
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'for example 100000: call it again until it returns fewer';
    END IF;
    SELECT p.keep_features INTO v_floor FROM pgscore.retention_policy p;
    -- the cuts: a period reaching back before 4713 BC, the earliest time PostgreSQL holds, is refused by name,
    -- and a floor that does keeps every day (session 64, review r2: each was a bare 22008 "timestamp out of range",
    -- and a floor of '10000 years' made every call fail so)
    BEGIN
        v_cut := date_trunc('day', (now() AT TIME ZONE 'UTC') - p_older_than) AT TIME ZONE 'UTC';
    EXCEPTION WHEN datetime_field_overflow THEN
        RAISE EXCEPTION 'pgscore.redact_log_features: p_older_than % reaches back before the earliest time PostgreSQL holds (4713 BC)', p_older_than
            USING ERRCODE = 'datetime_field_overflow',
                  HINT = 'for example ''90 days'' or ''7 years''; to keep every day, do not call it';
    END;
    BEGIN
        v_floor_cut := date_trunc('day', (now() AT TIME ZONE 'UTC') - v_floor) AT TIME ZONE 'UTC';
    EXCEPTION WHEN datetime_field_overflow THEN
        v_floor_cut := '-infinity';
    END;
    -- the floor is the day it cuts at, not an interval compared (a year compares as 360 days; review r6)
    IF v_cut > v_floor_cut THEN
        RAISE EXCEPTION 'pgscore.redact_log_features: p_older_than % is shorter than the floor of features'' retention, %', p_older_than, v_floor
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'pgscore.retention_policy.keep_features, which the owner of the pgscore schema alone may lower';
    END IF;
    -- as drop_log_partitions and create_log_partitions: one call at a time, and no day dropped or made meanwhile
    LOCK TABLE ONLY pgscore.prediction_log IN SHARE UPDATE EXCLUSIVE MODE;
    IF NOT p_recheck THEN
        SELECT max(r.cut) INTO v_done FROM pgscore.log_retention r
         WHERE r.action = 'redact' AND r.detail @> '{"complete": true}';
    END IF;
    -- recorded first: the append-only trigger lets through the rows before this cut, in this transaction alone
    INSERT INTO pgscore.log_retention (action, cut) VALUES ('redact', v_cut) RETURNING retention_id INTO v_id;
    v_left := p_limit;
    FOR v_part IN
        SELECT s.relname, s.day
          FROM (SELECT c.relname, to_date(right(c.relname, 8), 'YYYYMMDD') AS day
                  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                 WHERE i.inhparent = 'pgscore.prediction_log'::regclass AND c.relname ~ '^prediction_log_[0-9]{8}$'
                UNION ALL
                SELECT 'prediction_log_default'::name, NULL::date) s
         ORDER BY s.day NULLS FIRST
    LOOP
        EXIT WHEN v_left = 0;
        CONTINUE WHEN v_part.day IS NOT NULL AND (v_part.day::timestamp AT TIME ZONE 'UTC') >= v_cut;
        CONTINUE WHEN v_part.day IS NOT NULL AND ((v_part.day + 1)::timestamp AT TIME ZONE 'UTC') <= v_done;
        EXECUTE format('UPDATE pgscore.%I SET features = ''{}'' WHERE ctid = ANY (ARRAY(SELECT ctid FROM pgscore.%I '
                       'WHERE logged_at < $1 AND cardinality(features) > 0 LIMIT $2))', v_part.relname, v_part.relname)
            USING v_cut, v_left;
        GET DIAGNOSTICS v_n = ROW_COUNT;
        IF v_n > 0 THEN
            v_parts := v_parts + 1;
        END IF;
        v_rows := v_rows + v_n;
        v_left := v_left - v_n;
    END LOOP;
    RAISE NOTICE 'pgscore.redact_log_features: before %: % row(s) redacted in % partition(s); %', v_cut, v_rows, v_parts,
        CASE WHEN v_left > 0 THEN 'none left' ELSE 'more may remain: call it again' END;
    -- kept where it redacted rows, or where none is left before a newer cut than the last such call's
    IF v_rows > 0 OR (v_left > 0 AND v_cut > coalesce(v_done, '-infinity')) THEN
        UPDATE pgscore.log_retention
           SET rows = v_rows, detail = jsonb_build_object('partitions', v_parts, 'complete', v_left > 0,
                                                          'older_than', p_older_than::text)
         WHERE retention_id = v_id;
    ELSE
        DELETE FROM pgscore.log_retention WHERE retention_id = v_id;
    END IF;
    RETURN v_rows;
END
$fn$;

CREATE OR REPLACE FUNCTION pgscore.erase_entity(p_key text, p_model text DEFAULT NULL)
RETURNS TABLE (table_name text, rows bigint)
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_ids bigint[];
    v_wirings bigint[];
    v_log bigint;
    v_outcomes bigint;
    v_matches bigint;
    v_errors bigint;
    v_pending bigint;
    v_messages bigint := 0;
    v_reasons bigint;
    v_gone bigint[];
    v_named bigint[];
    v_fitted text;
    v_erased constant text := '(erased: the text named an erased entity key)';
    -- (session 66) the key as a whole token, not a substring (erasing '12' replaced the reasons naming '123' and
    -- '4125'): as pgscore's messages name a key (batch.key_text: quote_literal's, `(key '12')`, E'a\\b'), or in
    -- text pgscore did not write (a model's own error) where no letter, digit or _ is next to it, nor ' before it,
    -- nor ' after it but as an apostrophe ('s) (quote_literal's form not inside a longer literal: 'it' is in
    -- 'it''s', a doubled quote on either side)
    -- (review r1 of session 66) what continues a word beyond ASCII: the letters, marks and digits of the
    -- alphabets' blocks; not the punctuation, spaces and symbols of Latin-1's block, of U+2000-U+2BFF (curly quotes,
    -- dashes, no-break spaces, currency, arrows), the CJK and fullwidth punctuation, nor emoji (every character
    -- beyond ASCII counted as a letter, and ' after the key: a key in guillemets, curly quotes, before an em dash
    -- or before 's was not found). E''
    -- strings throughout: a session with standard_conforming_strings off read '\\' as one backslash (`(x)` was a
    -- group)
    v_word constant text :=
        E'[:alnum:]_'
        || E'\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u037D\\u037F-\\u0386\\u0388-\\u0559\\u0560-\\u0588'
        || E'\\u058B-\\u05BD\\u05BF\\u05C1-\\u05C2\\u05C4-\\u05C5\\u05C7-\\u05F2\\u05F5-\\u060B'
        || E'\\u060E-\\u061A\\u061C\\u0620-\\u0669\\u066E-\\u06D3\\u06D5-\\u0963\\u0966-\\u096F'
        || E'\\u0971-\\u0E4E\\u0E50-\\u0E59\\u0E5C-\\u10FA\\u10FC-\\u135F\\u1369-\\u167F\\u1681-\\u16EA'
        || E'\\u16EE-\\u17D3\\u17DB-\\u17FF\\u180B-\\u1FFF\\u2C00-\\u2DFF\\u2E80-\\u2FEF\\u3005-\\u3007'
        || E'\\u3021-\\u302F\\u3031-\\u303C\\u3040-\\u309F\\u30A1-\\u30FA\\u30FC-\\uD7FF\\uF900-\\uFD3D'
        || E'\\uFD40-\\uFE0F\\uFE20-\\uFE2F\\uFE70-\\uFEFE\\uFF10-\\uFF19\\uFF21-\\uFF3A\\uFF41-\\uFF5A'
        || E'\\uFF66-\\uFFDF\\U00010000-\\U0001EFFF\\U0001FC00-\\U000DFFFF\\U000E0080-\\U000EFFFF';
    v_quoted text := quote_literal(p_key);
    -- (session 67) as Python's repr writes a key holding a backslash, tab, newline or carriage return (a model's
    -- KeyError: 'a\\b'), where the key itself is not in the text: each escaped, bounded as the key is but for the
    -- quotes around it (missed before: the reason kept the key)
    v_repr text := CASE WHEN p_key ~ E'[\\\\\t\n\r]' THEN
        replace(replace(replace(replace(p_key, E'\\', E'\\\\'), E'\t', E'\\t'), E'\n', E'\\n'), E'\r', E'\\r') END;
    -- a key longer than 1,000 characters as a substring (the side an erasure errs on): as a regular expression, one
    -- of 100,000 was refused as too complex (2201B), one of 20,000 took 8.5 s to compile
    v_token text := CASE WHEN length(p_key) <= 1000 THEN
        '(?<![' || v_word || '''])'
        || regexp_replace(p_key, E'([.^$*+?()[\\]{}|\\\\])', E'\\\\\\1', 'g')
        || '(?![' || v_word || '])(?!''[^' || v_word || ']|''$)|(?<!'')'
        || regexp_replace(quote_literal(p_key), E'([.^$*+?()[\\]{}|\\\\])', E'\\\\\\1', 'g') || '(?!'')'
        || CASE WHEN v_repr IS NOT NULL THEN
               '|(?<![' || v_word || '])'
               || regexp_replace(v_repr, E'([.^$*+?()[\\]{}|\\\\])', E'\\\\\\1', 'g') || '(?![' || v_word || '])'
           ELSE '' END END;
BEGIN
    IF p_key IS NULL THEN
        RAISE EXCEPTION 'pgscore.erase_entity: p_key, the entity key to erase, must not be NULL'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'the key as the log holds it, as text: pgscore.predictions.entity_key';
    END IF;
    -- (0155, review r1) a standby, or a read-only transaction, refuses its deletes: said so, with where to run it, as
    -- record_outcome since 0154 (it was PostgreSQL's bare 25006, no hint, quoting the DELETE of the log)
    IF current_setting('transaction_read_only') = 'on' THEN
        PERFORM pgscore.refuse_read_only('pgscore.erase_entity deletes the key''s rows');
    END IF;
    IF p_model IS NOT NULL THEN
        SELECT array_agg(m.model_id) INTO v_ids FROM pgscore.models m WHERE m.name = p_model;
        IF v_ids IS NULL THEN
            RAISE EXCEPTION 'pgscore.erase_entity: there is no model %', quote_literal(p_model)
                USING ERRCODE = 'undefined_object',
                      HINT = 'p_model NULL erases the entity''s rows of every model';
        END IF;
        SELECT coalesce(array_agg(w.rescoring_id), '{}') INTO v_wirings
          FROM pgscore.rescoring w WHERE w.model_name = p_model;
    END IF;
    DELETE FROM pgscore.prediction_log l WHERE l.entity_key = p_key AND (v_ids IS NULL OR l.model_id = ANY (v_ids));
    GET DIAGNOSTICS v_log = ROW_COUNT;
    WITH o AS (
        DELETE FROM pgscore.outcomes o WHERE o.entity_key = p_key AND (p_model IS NULL OR o.model_name = p_model)
        RETURNING o.outcome_id
    ), m AS (
        DELETE FROM pgscore.outcome_version_matches v USING o WHERE v.outcome_id = o.outcome_id RETURNING 1
    )
    SELECT (SELECT count(*) FROM o), (SELECT count(*) FROM m) INTO v_outcomes, v_matches;
    -- the queue read once (0155): its key's rows and the other keys' rows whose reason names it (an empty key is in
    -- every text: no reason is read), each then by its primary key. Before, a DELETE by the key and an UPDATE of
    -- the reasons each read the whole queue: no index leads with entity_key, and a token needs every reason
    -- read anyway, so one scan finds both (an index on the key would spare nothing more); strpos first, the
    -- regular expression only for the reasons that hold the key at all
    SELECT array_agg(e.error_id) FILTER (WHERE e.entity_key = p_key),
           array_agg(e.error_id) FILTER (WHERE e.entity_key <> p_key)
      INTO v_gone, v_named
      FROM pgscore.error_queue e
     WHERE (e.entity_key = p_key OR (p_key <> '' AND (strpos(e.reason, p_key) > 0 OR strpos(e.reason, v_quoted) > 0 OR strpos(e.reason, v_repr) > 0)
                                         AND (v_token IS NULL OR e.reason ~ v_token)))
       AND (p_model IS NULL OR e.model_name = p_model OR (e.model_name IS NULL AND e.rescoring_id = ANY (v_wirings)));
    -- (each condition again: a row a concurrent retry changed since is judged as it is now)
    DELETE FROM pgscore.error_queue e WHERE e.error_id = ANY (v_gone) AND e.entity_key = p_key;
    GET DIAGNOSTICS v_errors = ROW_COUNT;
    UPDATE pgscore.error_queue e SET reason = v_erased
     WHERE e.error_id = ANY (v_named)
       AND (strpos(e.reason, p_key) > 0 OR strpos(e.reason, v_quoted) > 0 OR strpos(e.reason, v_repr) > 0) AND (v_token IS NULL OR e.reason ~ v_token);
    GET DIAGNOSTICS v_reasons = ROW_COUNT;
    DELETE FROM pgscore.replicated_pending r
     WHERE r.entity_key = p_key AND (p_model IS NULL OR r.rescoring_id = ANY (v_wirings));
    GET DIAGNOSTICS v_pending = ROW_COUNT;
    -- free text that names the key (an empty key is in every text: none is read)
    IF p_key <> '' THEN
        UPDATE pgscore.shadow_failures f SET last_message = v_erased
         WHERE (strpos(f.last_message, p_key) > 0 OR strpos(f.last_message, v_quoted) > 0 OR strpos(f.last_message, v_repr) > 0) AND (v_token IS NULL OR f.last_message ~ v_token)
           AND (v_ids IS NULL OR f.model_id = ANY (v_ids));
        GET DIAGNOSTICS v_messages = ROW_COUNT;
        -- (0155) a version fitted on the key as a text feature's word holds it in its words (text_categories) and its
        -- artifact, whose codes it scores with: not changed by an erasure, said, for the operator to retrain
        SELECT string_agg(format('%s v%s (%s)', m.name, m.version, t.key), ', ' ORDER BY m.name, m.version, t.key)
          INTO v_fitted
          FROM pgscore.models m
         CROSS JOIN LATERAL jsonb_each(m.text_categories) t
         WHERE (v_ids IS NULL OR m.model_id = ANY (v_ids)) AND jsonb_typeof(t.value) = 'array' AND t.value ? p_key;
        IF v_fitted IS NOT NULL THEN
            RAISE NOTICE 'pgscore.erase_entity: the key is a word a model was fitted on, in its text_categories and artifact: %', v_fitted
                USING HINT = 'an erasure does not change a model version: retrain without the key and deploy; the versions that hold it stay with the model''s history until its rows are deleted (docs/operations.md, Deleting a model)';
        END IF;
    END IF;
    INSERT INTO pgscore.log_retention (action, model, entity_sha256, rows, detail)
    VALUES ('erase', p_model, encode(sha256(convert_to(p_key, 'UTF8')), 'hex'), v_log,
            jsonb_build_object('pgscore.prediction_log', v_log, 'pgscore.outcomes', v_outcomes,
                               'pgscore.outcome_version_matches', v_matches, 'pgscore.error_queue', v_errors,
                               'pgscore.replicated_pending', v_pending, 'pgscore.shadow_failures', v_messages,
                               'pgscore.error_queue (reason)', v_reasons));
    RETURN QUERY VALUES ('pgscore.prediction_log', v_log), ('pgscore.outcomes', v_outcomes),
                        ('pgscore.outcome_version_matches', v_matches), ('pgscore.error_queue', v_errors),
                        ('pgscore.replicated_pending', v_pending), ('pgscore.shadow_failures', v_messages),
                        ('pgscore.error_queue (reason)', v_reasons);
END
$fn$;

CREATE OR REPLACE FUNCTION pgscore.set_shadow(p_name text, p_version integer, p_reason text DEFAULT NULL,
                                   p_force boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET pgscore.allow_version_mismatch = off
AS $fn$
DECLARE
    v_model_id bigint;
    v_live record;
    v_refusal text;
    v_fix text;
    v_n integer := 0;
    v_first record;
    v_columns text[];
    r record;
BEGIN
    -- (session 66) a standby, or a read-only transaction, refuses its writes: said so, with where to run it, as
    -- record_outcome since 0154 (it was PostgreSQL's bare 25006, no hint)
    IF current_setting('transaction_read_only') = 'on' THEN
        PERFORM pgscore.refuse_read_only('pgscore.set_shadow writes pgscore.shadows');
    END IF;
    IF p_name IS NULL OR p_version IS NULL OR p_force IS NULL THEN
        RAISE EXCEPTION 'pgscore.set_shadow: model name, version and p_force must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- one change at a time per model (as register_model, activate, rollback and retire take it): the live
    -- version read below is the one this shadow will be scored next to
    INSERT INTO pgscore.model_locks AS l (name) VALUES (p_name)
        ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name;
    IF NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_name) THEN
        -- (migration 0124: with scoring's hint, the model it looks like a typo for; it said where they are listed)
        RAISE EXCEPTION 'there is no model %', quote_literal(p_name) USING ERRCODE = 'undefined_object',
            HINT = pgscore.model_name_hint(p_name);
    END IF;
    SELECT m.model_id INTO v_model_id FROM pgscore.models m WHERE m.name = p_name AND m.version = p_version;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'there is no version % of model %', p_version, quote_literal(p_name)
            USING ERRCODE = 'undefined_object', HINT = 'deploy it first: pgscore deploy --no-activate';
    END IF;
    SELECT d.deployment_id, d.model_id, d.action, m.version, m.feature_names INTO v_live
      FROM pgscore.deployments d JOIN pgscore.models m ON m.model_id = d.model_id
     WHERE d.model_name = p_name ORDER BY d.deployment_id DESC LIMIT 1;
    IF NOT FOUND OR v_live.action = 'retire' THEN
        RAISE EXCEPTION 'model % has no live version%: a shadow is scored next to the live one, where that one''s scores are written',
                quote_literal(p_name), CASE WHEN FOUND THEN ' (it was retired)' ELSE '' END
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'activate a version first: pgscore.activate(name, version)';
    END IF;
    IF v_live.model_id = v_model_id THEN
        RAISE EXCEPTION 'version % of % is its live version: it cannot be its own shadow', p_version, quote_literal(p_name)
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'name a version that is not live (SELECT version, live FROM pgscore.model_versions WHERE name = ...)';
    END IF;
    IF EXISTS (SELECT 1 FROM pgscore.shadow_versions s WHERE s.name = p_name AND s.model_id = v_model_id) THEN
        RAISE NOTICE 'version % of % is a shadow already: nothing was changed', p_version, quote_literal(p_name);
        RETURN v_model_id;
    END IF;
    -- p_force (pgscore shadow --force) skips the two checks below, as activate's skips its load: a shadow
    -- they would refuse scores where it can, and its failures elsewhere are counted (pgscore.shadow_failures)
    IF NOT p_force THEN
        -- a version this server cannot load (unsigned where it signs, written with other library versions, damaged)
        -- would fail at every statement it shadows: refused now, with the loader's own reason (the override off,
        -- whatever this session set: the function's SET, as activate's; other sessions score it)
        v_refusal := format('version %s of %s cannot be loaded by this server, so it cannot shadow version %s: ',
                            p_version, quote_literal(p_name), v_live.version);
        v_fix := format('to set it anyway (it scores nothing while this server cannot load it): '
                        'pgscore.set_shadow(%L, %s, p_force => true) (pgscore shadow %s %s --force)',
                        p_name, p_version, p_name, p_version);
        PERFORM pgscore.load_or_refuse(v_model_id, v_refusal, v_fix);
        -- every table wired to rescore with the name must feed it, as check_live_version_fed asks of a live version:
        -- a profile table without one of its features (a wiring with counters reads it by name, a float8[] column
        -- features beside never), or whose float8[] column features (which the shadow reads where there is one and
        -- no counters) holds the live version's features, read from it too, and another
        -- count, would have every INSERT into the event table score nothing in shadow; as many features named
        -- otherwise or in another order, score every profile on values that are not its features. Wirings whose
        -- trigger or profile table is gone feed nothing and block nothing
        FOR r IN
            WITH w AS (
                SELECT w.profile_table, w.event_table, w.counters,
                       EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = to_regclass(w.profile_table)
                                  AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = 'features'
                                  AND a.atttypid = 'float8[]'::regtype) AS has_array
                  FROM pgscore.rescoring w
                 WHERE w.model_name = p_name AND to_regclass(w.profile_table) IS NOT NULL
                   AND EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgname = w.trigger_name AND NOT t.tgisinternal))
            SELECT w.profile_table, w.event_table,
                   array_to_string(ARRAY(SELECT quote_literal(f.name)
                                           FROM unnest(m.feature_names) WITH ORDINALITY AS f(name, i)
                                          WHERE NOT (w.has_array AND coalesce(w.counters, '{}'::jsonb) = '{}'::jsonb)
                                            AND NOT EXISTS (SELECT 1 FROM pg_attribute a
                                                             WHERE a.attrelid = to_regclass(w.profile_table)
                                                               AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = f.name)
                                          ORDER BY f.i), ', ') AS missing,
                   -- read by position: as many features named otherwise, or in another order, would score the
                   -- live version's values as the shadow's own
                   CASE WHEN NOT w.has_array OR coalesce(w.counters, '{}'::jsonb) <> '{}'::jsonb THEN NULL
                        ELSE 'its float8[] column features '
                             || pgscore.feature_order_differs(m.feature_names, l.feature_names, v_live.version, p_version)
                   END AS miscounted,
                   w.has_array AND coalesce(w.counters, '{}'::jsonb) = '{}'::jsonb
                       AND cardinality(m.feature_names) = cardinality(l.feature_names)
                       AND m.feature_names IS DISTINCT FROM l.feature_names AS reordered
              FROM w
              JOIN pgscore.models m ON m.model_id = v_model_id
              JOIN pgscore.models l ON l.model_id = v_live.model_id
             ORDER BY 1, 2
        LOOP
            IF r.missing <> '' OR r.miscounted IS NOT NULL THEN
                v_n := v_n + 1;
                IF v_n = 1 THEN
                    v_first := r;
                END IF;
            END IF;
        END LOOP;
        IF v_n > 0 THEN
            RAISE EXCEPTION 'version % of % cannot shadow version %: %, which % rescores with %, %; every INSERT into % would score %',
                    p_version, quote_literal(p_name), v_live.version, v_first.profile_table, v_first.event_table,
                    quote_literal(p_name), CASE WHEN v_first.missing <> '' THEN 'has no column ' || v_first.missing
                                                ELSE v_first.miscounted END, v_first.event_table,
                    CASE WHEN v_first.missing = '' AND v_first.reordered
                         THEN 'it in shadow on values that are not its features' ELSE 'nothing in shadow' END
                USING ERRCODE = CASE WHEN v_first.missing <> '' THEN 'undefined_column' ELSE 'object_not_in_prerequisite_state' END,
                      DETAIL = format('%s wiring(s) affected', v_n),
                      -- (a profile table's float8[] column features is read wherever there is one: columns added
                      -- beside it would not be)
                      HINT = format('%s; or detach the wiring (pgscore.detach_rescoring); or set it anyway, to score '
                                    'where it can (pgscore score of a table that has %s) with the others counted as '
                                    'failures: pgscore.set_shadow(%L, %s, p_force => true) (pgscore shadow %s %s --force)',
                                    CASE WHEN v_first.missing <> ''
                                         THEN 'add the feature column(s) to the profile table first, then set the shadow again'
                                         ELSE format('shadow a version trained on the %s features of live version %s in its order, '
                                                     'or wire a profile table of a column per feature (no float8[] column features)',
                                                     cardinality(v_live.feature_names), v_live.version) END,
                                    CASE WHEN v_first.missing <> '' THEN 'them' ELSE 'a column per feature' END,
                                    p_name, p_version, p_name, p_version);
        END IF;
    END IF;
    -- a wired profile table read by name (no float8[] column features, or counters) whose score or scored_at column
    -- the shadow reads: every INSERT would score it on the score the live version just wrote, and made live it would
    -- feed its own output back in (attach_rescoring refuses such a column of the live version, the deployments'
    -- trigger of a version made live). Not skipped by p_force: such a shadow never fails, and no count would say
    -- that its scores are not the ones it would score live. The check is pgscore.score_columns_read, which the
    -- deployments' trigger and attach_rescoring ask too
    v_n := 0;
    v_columns := '{}';
    FOR r IN
        SELECT c.profile_table, c.event_table, c.what, c.column_name AS col, c.said
          FROM pgscore.score_columns_read(v_model_id) AS c
         ORDER BY 1, 2, 3
    LOOP
        v_n := v_n + 1;
        IF v_n = 1 THEN
            v_first := r;
        END IF;
        v_columns := v_columns || r.said;
    END LOOP;
    IF v_n > 0 THEN
        RAISE EXCEPTION 'version % of % cannot shadow version %: %.%, the % column % rescores with % into, is one of its features; every INSERT into % would score the shadow on the live version''s new score, and once live it would feed its own output back in',
                p_version, quote_literal(p_name), v_live.version, v_first.profile_table, v_first.col, v_first.what,
                v_first.event_table, quote_literal(p_name), v_first.event_table
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('%s column(s) affected: %s', v_n, array_to_string(v_columns, ', ')),
                  HINT = format('shadow a version that does not read %s.%s, or wire the table''s score and scored_at to '
                                'columns no version of %s reads (pgscore.detach_rescoring(%L), then '
                                'pgscore.attach_rescoring(...) again)',
                                v_first.profile_table, v_first.col, quote_literal(p_name), v_first.event_table);
    END IF;
    -- failures counted in an earlier spell as a shadow are not this one's; a row a session is counting into now
    -- (its transaction open) is left, never waited for: that session may wait for this one's next, on another of
    -- its rows, and a deadlock would fail its INSERT (0062)
    DELETE FROM pgscore.shadow_failures f
     WHERE f.ctid = ANY (ARRAY(SELECT x.ctid FROM pgscore.shadow_failures x WHERE x.model_id = v_model_id
                                 FOR UPDATE SKIP LOCKED));
    -- changed_by: the caller's role (this function runs as its owner, whom current_user names), as record_outcome
    INSERT INTO pgscore.shadows (model_name, model_id, action, since_deployment, reason, changed_by)
    VALUES (p_name, v_model_id, 'start', v_live.deployment_id, p_reason,
            coalesce(nullif(current_setting('role'), 'none'), session_user));
    RETURN v_model_id;
END
$fn$;

CREATE OR REPLACE FUNCTION pgscore.clear_shadow(p_name text, p_version integer DEFAULT NULL, p_reason text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_model_id bigint;
    v_n integer;
BEGIN
    -- (session 66) a standby, or a read-only transaction, refuses its writes: said so, with where to run it, as
    -- record_outcome since 0154 (it was PostgreSQL's bare 25006, no hint)
    IF current_setting('transaction_read_only') = 'on' THEN
        PERFORM pgscore.refuse_read_only('pgscore.clear_shadow writes pgscore.shadows');
    END IF;
    IF p_name IS NULL THEN
        RAISE EXCEPTION 'pgscore.clear_shadow: model name must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    INSERT INTO pgscore.model_locks AS l (name) VALUES (p_name)
        ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name;
    IF NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_name) THEN
        -- (migration 0124: with scoring's hint, the model it looks like a typo for; it said where they are listed)
        RAISE EXCEPTION 'there is no model %', quote_literal(p_name) USING ERRCODE = 'undefined_object',
            HINT = pgscore.model_name_hint(p_name);
    END IF;
    IF p_version IS NOT NULL THEN
        SELECT m.model_id INTO v_model_id FROM pgscore.models m WHERE m.name = p_name AND m.version = p_version;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'there is no version % of model %', p_version, quote_literal(p_name)
                USING ERRCODE = 'undefined_object',
                      HINT = 'list the shadows with: SELECT * FROM pgscore.shadow_versions (or pgscore status)';
        END IF;
    END IF;
    INSERT INTO pgscore.shadows (model_name, model_id, action, reason, changed_by)
    SELECT s.name, s.model_id, 'stop', p_reason, coalesce(nullif(current_setting('role'), 'none'), session_user)
      FROM pgscore.shadow_versions s
     WHERE s.name = p_name AND (v_model_id IS NULL OR s.model_id = v_model_id)
     ORDER BY s.version;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    -- the failures counted while they were shadows (pgscore.shadow_failures) go with their marks, but a row a
    -- session is counting into now, which is never waited for (as at set_shadow)
    DELETE FROM pgscore.shadow_failures f
     WHERE f.ctid = ANY (ARRAY(SELECT x.ctid FROM pgscore.shadow_failures x JOIN pgscore.models m ON m.model_id = x.model_id
                                WHERE m.name = p_name AND (v_model_id IS NULL OR x.model_id = v_model_id)
                                  FOR UPDATE OF x SKIP LOCKED));
    IF v_n = 0 THEN
        RAISE NOTICE '% has no shadow%: nothing was changed', CASE WHEN p_version IS NULL
            THEN 'model ' || quote_literal(p_name) ELSE format('version %s of %s', p_version, quote_literal(p_name)) END,
            CASE WHEN p_version IS NULL THEN ' version' ELSE ' mark' END;
    END IF;
    RETURN v_n;
END
$fn$;
