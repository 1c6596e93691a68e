-- 0174 to 0175 (session 68, h6): pgscore.refuse_read_only is executable by PUBLIC (granted to pgscore_admin
-- alone, a role a DBA granted a writer that runs as its caller directly got 42501 for it in a read-only
-- transaction, not the writer's 25006); erase_entity finds a key as Python's repr writes it in full (both quotes, the
-- quote escaped; a control character as \xhh; a character Python does not print beyond ASCII): such a key named by
-- a model's KeyError stayed in the queue's reason and the shadow's last message; delete_model takes the name's row of
-- pgscore.model_locks without waiting too, waiting for it holding nothing (a transaction that deployed the name and
-- then refreshed deadlocked with a delete of the name waiting for it, 40P01); a lock_timeout ending one of its waits
-- names what it waited for (review r6 of session 68, edited in place before landing)

REVOKE EXECUTE ON FUNCTION pgscore.refuse_read_only(text) FROM pgscore_admin;
GRANT EXECUTE ON FUNCTION pgscore.refuse_read_only(text) TO PUBLIC;

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
    -- (session 67) as Python's repr writes the key (a model's KeyError: 'a\\b'), where the key itself is not in the
    -- text: bounded as the key is but for the quotes around it (missed before: the reason kept the key). Session 68:
    -- written as CPython's unicode_repr writes it (0169 escaped a backslash, tab, newline and carriage return alone:
    -- a key holding both quotes, 'it\'s "x"', or another control character, 'a\x07b', was missed); made in the body
    v_repr text;
    -- what Python's str.isprintable() calls not printable beyond ASCII, of the characters assigned in Unicode 14
    -- (Python 3.11's): the C1 controls, the spaces but ' ', the format characters, the private use planes; repr
    -- writes each as \xhh, \uhhhh or \Uhhhhhhhh. (An unassigned code point, which repr escapes too, is not known here.)
    v_unprintable constant text :=
        E'[\\u0080-\\u00A0\\u00AD\\u0600-\\u0605\\u061C\\u06DD\\u070F\\u0890-\\u0891\\u08E2\\u1680\\u180E'
        || E'\\u2000-\\u200F\\u2028-\\u202F\\u205F-\\u2064\\u2066-\\u206F\\u3000\\uE000-\\uF8FF\\uFEFF'
        || E'\\uFFF9-\\uFFFB\\U000110BD\\U000110CD\\U00013430-\\U00013438\\U0001BCA0-\\U0001BCA3'
        || E'\\U0001D173-\\U0001D17A\\U000E0001\\U000E0020-\\U000E007F\\U000F0000-\\U000FFFFD'
        || E'\\U00100000-\\U0010FFFD]';
    -- a key longer than 1,000 characters as a substring (the side an erasure errs on): as a regular expression, one
    -- of 100,000 was refused as too complex (2201B), one of 20,000 took 8.5 s to compile
    v_token text;
BEGIN
    IF p_key IS NULL THEN
        RAISE EXCEPTION 'pgscore.erase_entity: p_key, the entity key to erase, must not be NULL'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'the key as the log holds it, as text: pgscore.predictions.entity_key';
    END IF;
    -- the key as Python's repr writes it, between its quotes: ' unless the key holds ' and not ", the quote and \
    -- escaped, \t \n \r, another control character as \xhh, a character not printable beyond ASCII as \xhh,
    -- \uhhhh or \Uhhhhhhhh; NULL where that is the key itself (a form found already)
    SELECT NULLIF(string_agg(
               CASE WHEN t.ch = q.q OR t.ch = E'\\' THEN E'\\' || t.ch
                    WHEN t.ch = E'\t' THEN E'\\t' WHEN t.ch = E'\n' THEN E'\\n' WHEN t.ch = E'\r' THEN E'\\r'
                    WHEN ascii(t.ch) < 32 OR ascii(t.ch) = 127 THEN E'\\x' || lpad(to_hex(ascii(t.ch)), 2, '0')
                    WHEN ascii(t.ch) < 127 OR t.ch !~ v_unprintable THEN t.ch
                    WHEN ascii(t.ch) <= 255 THEN E'\\x' || lpad(to_hex(ascii(t.ch)), 2, '0')
                    WHEN ascii(t.ch) <= 65535 THEN E'\\u' || lpad(to_hex(ascii(t.ch)), 4, '0')
                    ELSE E'\\U' || lpad(to_hex(ascii(t.ch)), 8, '0') END, '' ORDER BY t.n), p_key)
      INTO v_repr
      FROM regexp_split_to_table(p_key, '') WITH ORDINALITY AS t(ch, n),
           (SELECT CASE WHEN strpos(p_key, '''') > 0 AND strpos(p_key, '"') = 0 THEN '"' ELSE '''' END AS q) q;
    v_token := CASE WHEN length(p_key) <= 1000 THEN
        '(?<![' || v_word || '''])'
        || regexp_replace(p_key, E'([.^$*+?()[\\]{}|\\\\])', E'\\\\\\1', 'g')
        || '(?![' || v_word || '])(?!''[^' || v_word || ']|''$)|(?<!'')'
        || regexp_replace(quote_literal(p_key), E'([.^$*+?()[\\]{}|\\\\])', E'\\\\\\1', 'g') || '(?!'')'
        || CASE WHEN v_repr IS NOT NULL THEN
               '|(?<![' || v_word || '])'
               || regexp_replace(v_repr, E'([.^$*+?()[\\]{}|\\\\])', E'\\\\\\1', 'g') || '(?![' || v_word || '])'
           ELSE '' END END;
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
COMMENT ON FUNCTION pgscore.erase_entity(text, text) IS 'Erase an entity: delete its rows of model p_model (NULL: every model) from pgscore.prediction_log, outcomes, outcome_version_matches, error_queue and replicated_pending, and replace the free text holding the key (shadow_failures.last_message, another key''s error_queue.reason; 0147); returns the rows deleted or rewritten per table and records them in pgscore.log_retention with the key''s SHA-256, not the key (0141)';

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
