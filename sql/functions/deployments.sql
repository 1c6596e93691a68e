/*
 * Deployment actions. Each appends one row to pgscore.deployments; the
 * newest row per name decides what is live.
 */

/*
 * The load check of activate, rollback and set_shadow: the server loads the
 * version as a session's first score would (pgscore.load_model: sha256,
 * signature, the scikit-learn/numpy it was written with against the
 * server's, unpickling); a version it cannot load is refused with the
 * caller's p_refusal before the loader's message, the loader's SQLSTATE and
 * the caller's p_fix in the hint: the loader's message without its
 * 'pgscore: ', its detail (or that every score would fail), its hint then
 * p_fix (the forced call). A lock timeout, deadlock,
 * serialization failure or cancel is the transaction's, not the version's:
 * raised as the server raised it. Internal: granted to pgscore_admin alone.
 */
CREATE FUNCTION pgscore.load_or_refuse(p_model_id bigint, p_refusal text, p_fix text)
RETURNS void
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_state text;
    v_msg text;
    v_detail text;
    v_hint text;
BEGIN
    IF p_model_id IS NULL OR p_refusal IS NULL OR p_fix IS NULL THEN
        RAISE EXCEPTION 'pgscore.load_or_refuse: model_id, refusal and fix must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    BEGIN
        PERFORM pgscore.load_model(p_model_id);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT,
                                v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT;
        -- the transaction's, not the version's (as pgscore.errors.of_the_transaction): class 40, transaction
        -- rollback, every code of it (40002 and 40003 too, which the client meets as it meets a serialization
        -- failure); a lock_timeout; class 57, operator intervention (a cancel, which OTHERS does not catch, as a
        -- shutdown's FATAL is not: any other raised as an ERROR)
        IF left(v_state, 2) IN ('40', '57') OR v_state = '55P03' THEN
            RAISE;
        END IF;
        RAISE EXCEPTION '%', p_refusal || regexp_replace(v_msg, '^pgscore: ', '')
            USING ERRCODE = v_state,
                  DETAIL = coalesce(nullif(v_detail, ''), 'pgscore.load_model failed, as every score of it would'),
                  HINT = concat_ws('; ', nullif(v_hint, ''), p_fix);
    END;
END
$fn$;
COMMENT ON FUNCTION pgscore.load_or_refuse(bigint, text, text) IS 'Internal: activate''s, rollback''s and set_shadow''s load check: pgscore.load_model, and a version it fails on refused with the caller''s words before the loader''s message and SQLSTATE';
CREATE FUNCTION pgscore.activate(p_name text, p_version integer, p_reason text DEFAULT NULL,
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
COMMENT ON FUNCTION pgscore.activate(text, integer, text, boolean) IS 'Make a version of a model live (appends an ''activate'' deployment; a NOTICE and nothing appended where it is live already); returns its model_id. Refused where this server cannot load the version (pgscore.load_model fails: signature, the library versions it was written with, unpickling) unless p_force';

/*
 * A rollback undoes go-lives, following pgscore.deployments (the order things
 * went live, not version numbers). The history read as a stack of versions:
 * a deploy or activate pushes its version; a rollback to a version on the
 * stack pops everything above its last entry and removes the popped versions
 * from the rest of the stack too (rolled back from); a rollback to one not on
 * it pushes it (a roll forward: nothing is taken away); a retire changes
 * nothing (the model has no live version until one is made live, and what
 * was live before it stays on the stack). Without a version, a rollback makes
 * live the top of the stack once the live version is removed from it: the
 * version live before the current one last went live, leaving out those
 * rolled back from (v1, v2, v3 live: v2, then v1; v1, v2, v3, rollback to
 * v1, v4: v1, not v2).
 */
CREATE FUNCTION pgscore.rollback(p_name text, p_to_version integer DEFAULT NULL, p_reason text DEFAULT NULL,
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
COMMENT ON FUNCTION pgscore.rollback(text, integer, text, boolean) IS 'Undo the last go-live (appends a deployment): make live the version that was live before the live one went live, following pgscore.deployments and leaving out versions rolled back from (or the given version; a NOTICE and nothing appended where it is live already); refused where this server cannot load it unless p_force; returns its model_id';

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
COMMENT ON FUNCTION pgscore.retire(text, text) IS 'Leave a model with no live version (appends a retire row; a model retired already is left as it is, with a notice); scoring it then fails until a version is activated';

/*
 * (migration 0156) A model name deployed by mistake (a typo, a test model in production) deleted with all its
 * versions: their artifacts, evaluators, baselines, deployments and shadow history, and the name's alert state.
 * Only where nothing depends on it: refused (2BP01, naming what holds it, with the hint to retire it instead)
 * where a version logged predictions (pgscore.prediction_log: the audit log names the version), outcomes were
 * recorded for the name, a table is wired to rescore with it, a version is scored in shadow (next to the live
 * one), the name has thresholds of its own, or a silence of it is in force or to come. Takes the name's row of
 * pgscore.model_locks, as every change of a model does: a deploy, activate or shadow of the name waits for it,
 * then reads no version of it (a deploy stores version 1). Runs as its owner (pgscore_admin inserts into the
 * registry's tables and deletes from none); granted to pgscore_admin alone. Silences that ended or were lifted
 * stay, with the name: its next first version drops them (pgscore.forget_deleted_namesake). Since migration 0162
 * the rollups of its versions (pgscore.drift_rollup, drift_rollup_day: left where erase_entity took all their log
 * rows) go with it. The queued rescorings of a wiring of it detached before (pgscore.error_queue of no wiring)
 * stay: the next wiring of their profile table takes them over, whatever its model, and retry_failed rescores them.
 */
CREATE FUNCTION pgscore.delete_model(p_name text)
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
    v_waited text;  -- (what a lock_timeout ended the wait for, said)
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
    -- for holding nothing, and both taken again. A lock_timeout's 55P03 still ends the call.
    -- (session 68) the name's row of pgscore.model_locks too, last and without waiting: a transaction that deployed
    -- the name (holding its row) and then refreshed waited for the refresh's lock, held by this delete waiting for
    -- the name's row: 40P01 (it predates session 67). Held, all are let go and the name is waited for holding
    -- nothing. (A name deployed for the first time by a transaction still open has no row to see: the INSERT below
    -- waits for it as before.)
    LOOP
        v_step := 'the log';
        BEGIN
            LOCK TABLE ONLY pgscore.log_pending, pgscore.prediction_log, pgscore.outcomes IN SHARE MODE;
            v_step := 'the refresh';
            LOCK TABLE ONLY pgscore.monitoring_state IN SHARE ROW EXCLUSIVE MODE NOWAIT;
            v_step := 'the name';
            PERFORM FROM pgscore.model_locks l WHERE l.name = p_name FOR UPDATE NOWAIT;
            EXIT;
        EXCEPTION WHEN lock_not_available THEN
            IF v_step = 'the log' THEN
                v_waited := 'the transactions writing pgscore.log_pending, pgscore.prediction_log or '
                            'pgscore.outcomes (a score, a recorded outcome or a refresh_monitoring() not yet '
                            'committed), which hold their locks until they end';
            END IF;
        END;
        -- (review r6 of session 68) a lock_timeout's 55P03 names what was waited for: PostgreSQL's own said "canceling
        -- statement due to lock timeout", its context a statement of this body ("while locking tuple (0,134) in
        -- relation model_locks")
        IF v_waited IS NULL THEN
            BEGIN
                IF v_step = 'the refresh' THEN
                    LOCK TABLE ONLY pgscore.monitoring_state IN SHARE ROW EXCLUSIVE MODE;
                ELSE
                    PERFORM FROM pgscore.model_locks l WHERE l.name = p_name FOR UPDATE;
                END IF;
                RAISE EXCEPTION USING ERRCODE = 'PGS67';  -- (let go at once: only waited for)
            EXCEPTION WHEN SQLSTATE 'PGS67' THEN
                NULL;
            WHEN lock_not_available THEN
                v_waited := CASE WHEN v_step = 'the refresh'
                                 THEN 'a pgscore.refresh_monitoring() running, which holds its lock until it ends'
                                 ELSE format('a change of model %s in progress (a deploy, activate, rollback, retire '
                                             'or shadow of the name, which holds its row of pgscore.model_locks '
                                             'until it ends)', quote_literal(p_name)) END;
            END;
        END IF;
        IF v_waited IS NOT NULL THEN
            RAISE EXCEPTION 'pgscore.delete_model: lock timeout (%) waiting for %', current_setting('lock_timeout'),
                            v_waited
                USING ERRCODE = 'lock_not_available',
                      HINT = 'nothing was deleted: call it again once that ended, or with a longer lock_timeout';
        END IF;
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
COMMENT ON FUNCTION pgscore.delete_model(text) IS 'Delete a model name deployed by mistake with all its versions (artifacts, evaluators, baselines, deployments, shadow history, alert state; since 0162 its versions'' rollups), under the name''s lock; refused (2BP01, naming what holds it; hint: retire it) where a version logged predictions, outcomes were recorded, a table is wired to it, a version is a shadow, or it has thresholds or silences in force; returns the rows deleted per table (migration 0156)';

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
 * version the server would refuse to load (its signing not the server's), nor
 * one that reads the score or scored_at column of a wired table read by name
 * (its own output fed back in), nor one made live next to a version scored in
 * shadow that lacks a column of such a table, nor one whose features such an
 * array holds, in its order, where a version scored in shadow now reads it by
 * position as other features (set_shadow checked the shadow against the
 * version live then), nor one that a wiring's counter into a column of words
 * cannot feed: a count, add, window, max or min into a text feature, words
 * into a feature it reads as a number that another version took as words.
 */
-- (migration 0176) each query reads the wirings of NEW.model_name alone, in a subquery the planner does not merge
-- (OFFSET 0), before to_regclass resolves their tables' names: with two teams' schemas wired in one database, the
-- other team's wiring's table was resolved too, and every deploy and go-live failed with `permission denied for
-- schema growth` for a role without USAGE on it
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
    v_columns text[];
    v_detail text;
    v_clear text;
    v_s text;
    v_again text;
    v_before integer;
    v_wired text[] := '{}';
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
          FROM (SELECT x.* FROM pgscore.rescoring x WHERE x.model_name = NEW.model_name OFFSET 0) w
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
        -- each one, in the DETAIL (migration 0131; before, "2 wiring(s) affected" named the first alone)
        v_wired := v_wired || format('%s (from %s) lacks %s', r.profile_table, r.event_table, r.missing);
    END LOOP;
    IF v_n > 0 THEN
        -- a version stored in this transaction (deploy) is rolled back with it: deploy it again, not activate it
        SELECT m.version, m.created_at = pg_catalog.now() INTO v_version, v_new
          FROM pgscore.models m WHERE m.model_id = NEW.model_id;
        -- a version this deploy stores is rolled back with it, and its number with it: the next deploy takes the
        -- number (migration 0131; before, "version 3 could not rescore it", and the next deploy was version 3)
        RAISE EXCEPTION '%, which % rescores with %, has no column %: once live, % could not rescore it',
                v_first.profile_table, v_first.event_table, NEW.model_name, v_first.missing,
                CASE WHEN v_new THEN format('the version this deploy would have stored (version %s; nothing was stored)',
                                            v_version)
                     ELSE format('version %s', v_version) END
            USING ERRCODE = 'undefined_column',
                  DETAIL = format('%s wiring(s) affected: %s', v_n, array_to_string(v_wired, '; ')),
                  HINT = CASE
                      WHEN NEW.action = 'rollback' THEN format('add the column(s) to the profile table first, then roll back again (version %s)', v_version)
                      WHEN v_new THEN 'add the column(s) to the profile table first, then deploy again; or store the version without making it live (pgscore deploy --no-activate; in an alembic revision deploy_model(..., activate=False); pgscore.register_model(..., p_activate => false))'
                      ELSE format('add the column(s) to the profile table first, then activate version %s again', v_version)
                  END;
    END IF;
    -- a counter feeding a feature of the version through a profile column of words (a string type or an ENUM):
    -- attach_rescoring refuses, of the version live then, a count, add, window, max or min counter into a text
    -- feature's column (a model fitted on words: they count or sum numbers, or order words by their spelling,
    -- 22023); a version made live after the table was wired, or the first of a name wired before any was stored,
    -- was not checked (migration 0132). Nor is a version that reads as a number a feature another version of the
    -- name took as words, where a last, set or recompute counter keeps words in its column (42804): every event's
    -- profile would be queued, its word no number. Each one in the DETAIL, the first in the message
    v_n := 0;
    v_wired := '{}';
    FOR r IN
        SELECT c.profile_table, c.event_table, c.col, c.rule, c.kind, c.words
          FROM (SELECT w.profile_table, w.event_table, e.key AS col, e.value::text AS rule,
                       CASE WHEN e.value = '"count"'::jsonb THEN 'count'
                            WHEN jsonb_typeof(e.value) = 'object'
                            THEN (SELECT k FROM jsonb_object_keys(e.value) AS k
                                   WHERE k IN ('add', 'max', 'min', 'window', 'last', 'set', 'recompute') LIMIT 1)
                       END AS kind,
                       coalesce(m.text_categories ? e.key, false) AS words,
                       EXISTS (SELECT 1 FROM pgscore.models o
                                WHERE o.name = NEW.model_name AND o.model_id <> NEW.model_id
                                  AND coalesce(o.text_categories ? e.key, false)) AS words_before
                  FROM (SELECT x.* FROM pgscore.rescoring x WHERE x.model_name = NEW.model_name OFFSET 0) w
                  JOIN pgscore.models m ON m.model_id = NEW.model_id
                 CROSS JOIN LATERAL jsonb_each(coalesce(w.counters, '{}'::jsonb)) AS e
                 WHERE w.model_name = NEW.model_name AND to_regclass(w.profile_table) IS NOT NULL
                   AND EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgname = w.trigger_name AND NOT t.tgisinternal)
                   AND e.key = ANY (m.feature_names)
                   AND EXISTS (SELECT 1 FROM pg_attribute a JOIN pg_type y ON y.oid = a.atttypid
                                WHERE a.attrelid = to_regclass(w.profile_table) AND a.attname = e.key
                                  AND a.attnum > 0 AND NOT a.attisdropped AND y.typcategory IN ('S', 'E'))) AS c
         WHERE (c.words AND c.kind IN ('count', 'add', 'window', 'max', 'min'))
            OR (NOT c.words AND c.words_before AND c.kind IN ('last', 'set', 'recompute'))
         ORDER BY c.words DESC, 1, 2, 3
    LOOP
        v_n := v_n + 1;
        IF v_n = 1 THEN
            v_first := r;
        END IF;
        v_wired := v_wired || format('%s (from %s): counter %s, %s, %s', r.profile_table, r.event_table,
                                     quote_ident(r.col), r.rule,
                                     CASE WHEN r.words THEN 'into a text feature' ELSE 'of words into a number' END);
    END LOOP;
    IF v_n > 0 THEN
        SELECT m.version, m.created_at = pg_catalog.now() INTO v_version, v_new
          FROM pgscore.models m WHERE m.model_id = NEW.model_id;
        v_s := CASE WHEN v_new THEN format('the version this deploy would have stored (version %s; nothing was stored)',
                                          v_version)
                    ELSE format('version %s', v_version) END;
        v_again := format('wire %s anew with a counter the version can read (pgscore.detach_rescoring(%L), then '
                          'pgscore.attach_rescoring(...) again: a last, set or recompute counter of words for a text '
                          'feature, a number for a number), or retrain the version on the feature as the wiring feeds '
                          'it; then ', v_first.profile_table, v_first.event_table);
        v_again := v_again || CASE
            WHEN NEW.action = 'rollback' THEN format('roll back again (version %s)', v_version)
            WHEN v_new THEN 'deploy again; or store the version without making it live (pgscore deploy --no-activate; in an alembic revision deploy_model(..., activate=False); pgscore.register_model(..., p_activate => false))'
            ELSE format('activate version %s again', v_version) END;
        v_detail := format('%s counter(s) affected: %s', v_n, array_to_string(v_wired, '; '));
        IF v_first.words THEN
            RAISE EXCEPTION '%, which % rescores with %, feeds the text feature % of % with a % counter (%, %), which %: the model was fitted on words; once live, every INSERT into % would score the profiles on what that counter leaves',
                    v_first.profile_table, v_first.event_table, quote_literal(NEW.model_name),
                    quote_literal(v_first.col), v_s, v_first.kind, quote_ident(v_first.col), v_first.rule,
                    CASE v_first.kind WHEN 'max' THEN 'keeps the word that sorts last by its spelling, no order of the model''s'
                                      WHEN 'min' THEN 'keeps the word that sorts first by its spelling, no order of the model''s'
                                      WHEN 'add' THEN 'adds up numbers, no word'
                                      ELSE 'counts events, no word' END,
                    v_first.event_table
                USING ERRCODE = 'invalid_parameter_value', DETAIL = v_detail, HINT = v_again;
        END IF;
        RAISE EXCEPTION '%, which % rescores with %, feeds the feature % a word (counter %, %), and % reads it as a number: once live, every INSERT into % would queue its profiles, their word no number',
                v_first.profile_table, v_first.event_table, quote_literal(NEW.model_name), quote_literal(v_first.col),
                quote_ident(v_first.col), v_first.rule, v_s, v_first.event_table
            USING ERRCODE = 'datatype_mismatch', DETAIL = v_detail, HINT = v_again;
    END IF;
    -- a wired profile table read by name (no float8[] column features, or counters) whose score or scored_at column
    -- is one of the version's features: each rescoring would write its score into a feature its next read fed back
    -- in. attach_rescoring refuses it of the version live then, set_shadow of a shadow: not of a version made live
    -- after the table was wired. The check is pgscore.score_columns_read, which all three ask
    v_n := 0;
    v_columns := '{}';
    FOR r IN
        SELECT c.profile_table, c.event_table, c.what, c.column_name AS col, c.said
          FROM pgscore.score_columns_read(NEW.model_id) AS c
         ORDER BY 1, 2, 3
    LOOP
        v_n := v_n + 1;
        IF v_n = 1 THEN
            v_first := r;
        END IF;
        v_columns := v_columns || r.said;
    END LOOP;
    IF v_n > 0 THEN
        -- (the version read again: the signing check's read finds none for a version without an artifact)
        SELECT m.version, m.created_at = pg_catalog.now() INTO v_version, v_new
          FROM pgscore.models m WHERE m.model_id = NEW.model_id;
        v_again := format('wire the table''s score and scored_at to columns version %s does not read first '
                          '(pgscore.detach_rescoring(%L), then pgscore.attach_rescoring(...) again), then ',
                          v_version, v_first.event_table);
        RAISE EXCEPTION 'version % of % cannot be made live: %.%, the % column % rescores with % into, is one of its features; each rescoring would feed its own output back in',
                v_version, quote_literal(NEW.model_name), v_first.profile_table, v_first.col, v_first.what,
                v_first.event_table, quote_literal(NEW.model_name)
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('%s column(s) affected: %s', v_n, array_to_string(v_columns, ', ')),
                  HINT = v_again || CASE
                      WHEN NEW.action = 'rollback' THEN format('roll back again (version %s)', v_version)
                      WHEN v_new THEN 'deploy again; or store the version without making it live (pgscore deploy --no-activate; in an alembic revision deploy_model(..., activate=False); pgscore.register_model(..., p_activate => false))'
                      ELSE format('activate version %s again', v_version)
                  END;
    END IF;
    -- a version scored in shadow now (the one made live is one no more) reads each wired profile table as the live
    -- version does. Read by name (no float8[] column features, or counters): a column per feature, as set_shadow
    -- checks it against the tables wired then and attach_rescoring a table wired after it; one it lacks a column of
    -- (dropped since, a forced set_shadow, a table wired while no version was live) scores nothing in shadow next to
    -- the version made live ('missing'). Read by position (the array, no counters): the array holds the live
    -- version's features in its order, and a shadow of other features or another order, checked against the old
    -- live version at set_shadow, would be scored on the new one's values in the wrong places ('order'). One row
    -- per kind: how many wirings and shadows, the first (by table, then version), every shadow named (a hint that
    -- named the first alone met the same refusal for the next once it was cleared), and each one's why
    SELECT m.version INTO v_version FROM pgscore.models m WHERE m.model_id = NEW.model_id;
    FOR r IN
        WITH w AS (
            SELECT w.profile_table, w.event_table,
                   coalesce(w.counters, '{}'::jsonb) <> '{}'::jsonb
                   OR NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = to_regclass(w.profile_table)
                                     AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = 'features'
                                     AND a.atttypid = 'float8[]'::regtype) AS by_name
              FROM (SELECT x.* FROM pgscore.rescoring x WHERE x.model_name = NEW.model_name OFFSET 0) w
             WHERE w.model_name = NEW.model_name AND to_regclass(w.profile_table) IS NOT NULL
               AND EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgname = w.trigger_name AND NOT t.tgisinternal)),
        s AS (
            SELECT v.version, m.feature_names FROM pgscore.shadow_versions v
              JOIN pgscore.models m ON m.model_id = v.model_id
             WHERE v.name = NEW.model_name AND v.model_id <> NEW.model_id),
        found AS (
            SELECT 'missing' AS kind, w.profile_table, w.event_table, s.version,
                   array_to_string(ARRAY(SELECT quote_literal(f.name) FROM unnest(s.feature_names) WITH ORDINALITY AS f(name, i)
                                          WHERE NOT EXISTS (SELECT 1 FROM pg_attribute a
                                                             WHERE a.attrelid = to_regclass(w.profile_table)
                                                               AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = f.name)
                                          ORDER BY f.i), ', ') AS what
              FROM w CROSS JOIN s
             WHERE w.by_name
            UNION ALL
            SELECT 'order', w.profile_table, w.event_table, s.version,
                   pgscore.feature_order_differs(s.feature_names, l.feature_names, l.version, s.version)
              FROM w CROSS JOIN s JOIN pgscore.models l ON l.model_id = NEW.model_id
             WHERE NOT w.by_name)
        SELECT f.kind, count(*)::integer AS n,
               (array_agg(f.profile_table ORDER BY f.profile_table, f.event_table, f.version))[1] AS profile_table,
               (array_agg(f.event_table ORDER BY f.profile_table, f.event_table, f.version))[1] AS event_table,
               (array_agg(f.version ORDER BY f.profile_table, f.event_table, f.version))[1] AS version,
               (array_agg(f.what ORDER BY f.profile_table, f.event_table, f.version))[1] AS what,
               array_agg(DISTINCT f.version ORDER BY f.version) AS shadows,
               array_agg(CASE f.kind WHEN 'missing' THEN format('%s has no column %s of version %s', f.profile_table, f.what, f.version)
                                     ELSE format('%s''s float8[] column features %s', f.profile_table, f.what) END
                         ORDER BY f.profile_table, f.event_table, f.version) AS whys
          FROM found f
         WHERE f.what <> ''  -- (the order's NULL: read as its own)
         GROUP BY f.kind
         ORDER BY f.kind  -- a missing column first
    LOOP
        v_detail := format('%s wiring(s) and shadow version(s) affected: %s', r.n, array_to_string(r.whys, '; '));
        v_clear := array_to_string(ARRAY(SELECT format('pgscore.clear_shadow(%L, %s) (pgscore shadow %s %s --off)',
                                                       NEW.model_name, v.v, NEW.model_name, v.v)
                                           FROM unnest(r.shadows) AS v(v) ORDER BY v.v), ', ');
        v_s := CASE WHEN cardinality(r.shadows) > 1 THEN 's' ELSE '' END;
        v_again := CASE NEW.action WHEN 'rollback' THEN format('roll back to version %s', v_version)
                                   ELSE format('make version %s live', v_version) END;
        IF r.kind = 'missing' THEN
            -- a shadow read by name lacks its column whichever version is live: next to the version live before a
            -- rollback it scored nothing already, and the rollback (the way back in an emergency) makes nothing worse:
            -- let through, with a WARNING that names the shadows and their clear_shadow. Refused where no version
            -- was live before (never, or retired): the shadow would begin failing only now. activate and a deploy
            -- are planned, and refused: clearing the shadow first costs nothing there
            IF NEW.action = 'rollback' THEN
                SELECT CASE WHEN d.action <> 'retire' THEN m.version END INTO v_before
                  FROM pgscore.deployments d JOIN pgscore.models m ON m.model_id = d.model_id
                 WHERE d.model_name = NEW.model_name AND d.deployment_id < NEW.deployment_id
                 ORDER BY d.deployment_id DESC LIMIT 1;
                IF v_before IS NOT NULL THEN
                    RAISE WARNING 'pgscore.rollback: version % of % was made live by a rollback while version % is its shadow: %, which % rescores with %, has no column %, which the shadow reads by name; every INSERT into % scores nothing in shadow, as it did next to version %',
                            v_version, quote_literal(NEW.model_name), r.version, r.profile_table, r.event_table,
                            quote_literal(NEW.model_name), r.what, r.event_table, v_before
                        USING DETAIL = v_detail,
                              HINT = format('add the feature column(s) to the profile table, or clear the shadow%s: %s',
                                            v_s, v_clear);
                    CONTINUE;
                END IF;
                v_detail := v_detail || '; no version was live before this rollback (never made live, or retired): '
                                     || 'the shadow would begin failing only now';
            END IF;
            RAISE EXCEPTION 'version % of % cannot be made live while version % is its shadow: %, which % rescores with %, has no column %, which the shadow reads by name; every INSERT into % would score nothing in shadow',
                    v_version, quote_literal(NEW.model_name), r.version, r.profile_table, r.event_table,
                    quote_literal(NEW.model_name), r.what, r.event_table
                USING ERRCODE = 'undefined_column', DETAIL = v_detail,
                      HINT = format('add the feature column(s) to the profile table first, or clear the shadow%s first: '
                                    '%s; then %s again', v_s, v_clear, v_again);
        END IF;
        RAISE EXCEPTION 'version % of % cannot be made live while version % is its shadow: %, which % rescores with %, has one float8[] column features, which %; read by position, every INSERT into % would score the shadow on values that are not its features',
                v_version, quote_literal(NEW.model_name), r.version, r.profile_table, r.event_table,
                quote_literal(NEW.model_name), r.what, r.event_table
            USING ERRCODE = 'object_not_in_prerequisite_state', DETAIL = v_detail,
                  HINT = format('clear the shadow%s first: %s, then %s again; or wire a profile table of a column per '
                                'feature (no float8[] column features), read by name', v_s, v_clear, v_again);
    END LOOP;
    RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION pgscore.check_live_version_fed() IS 'Trigger function: refuses a deployment that makes live a version whose features a profile table wired to rescore with its name lacks or whose score column it reads, or that a counter of such a wiring cannot feed (a count, add, window, max or min into a text feature, words into a feature it reads as a number), or while a version scored in shadow lacks a column of such a table or would read its float8[] column features as other features';
