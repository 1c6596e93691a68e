-- 0154 to 0155 (task D2 of session 65): a drift window's length with a negative part ('-1 mon 31 days', 1 day to
-- 0029's CHECK, which compared it as an interval, a month taken for 30 days; no time at all in a month of 31 days)
-- is refused by drift_windows_length_check, as 0147 refuses a retention period, and so is one over 1000 years (review
-- r1: '10000 years' reached back before 4713 BC, and every drift view failed with 22008); erase_entity reads
-- pgscore.error_queue once (its key's rows and the reasons that name the key found by one scan) and names in a
-- NOTICE the model versions fitted on the key as a text feature's word (text_categories, which it does not change)

-- a window the new CHECK refuses is named, not left to the bare 23514 of ADD CONSTRAINT: the upgrade stops before
-- anything changes (what length was meant is the admin's to say: the same length on every date is one of its
-- parts' signs alone, '1 day' or '1 mon', not pgscore's to guess)
DO $do$
DECLARE
    v_bad text[];
    v_first text;
BEGIN
    SELECT array_agg(format('%s (%s)', w.window_name, w.length) ORDER BY w.sort_order, w.window_name),
           (array_agg(w.window_name ORDER BY w.sort_order, w.window_name))[1]
      INTO v_bad, v_first
      FROM pgscore.drift_windows w
     WHERE extract(year FROM w.length) < 0 OR extract(month FROM w.length) < 0 OR extract(day FROM w.length) < 0
        OR extract(hour FROM w.length) < 0 OR extract(minute FROM w.length) < 0 OR extract(second FROM w.length) < 0
        -- (review r1) over 1000 years: '10000 years' reached back before 4713 BC, and every drift view failed (22008)
        OR w.length > interval '1000 years';
    IF v_bad IS NOT NULL THEN
        RAISE EXCEPTION 'pgscore 0155: pgscore.drift_windows holds a window whose length has a negative part, a different length on different dates, or is over 1000 years, which the drift views cannot reach back (%)', array_to_string(v_bad, ', ')
            USING ERRCODE = 'check_violation',
                  HINT = format('as a pgscore_admin, set each length in parts of one sign and at most 1000 years (UPDATE pgscore.drift_windows SET length = ''1 day'' WHERE window_name = %L; a NULL length is every prediction since deploy) or delete the row, then upgrade again',
                                v_first);
    END IF;
END
$do$;

ALTER TABLE pgscore.drift_windows DROP CONSTRAINT drift_windows_length_check,
    ADD CONSTRAINT drift_windows_length_check CHECK (length IS NULL OR (
        length >= interval '5 minutes' AND length <= interval '1000 years'
        AND extract(year FROM length) >= 0 AND extract(month FROM length) >= 0
        AND extract(day FROM length) >= 0 AND extract(hour FROM length) >= 0
        AND extract(minute FROM length) >= 0 AND extract(second FROM length) >= 0));
COMMENT ON COLUMN pgscore.drift_windows.length IS 'How far back from now() the window reaches, at least 5 minutes and at most 1000 years, in parts of one sign (since 0155: ''-1 mon 31 days'' is a different length on different dates); NULL = since deploy (every prediction of the live version)';

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
BEGIN
    IF p_key IS NULL THEN
        RAISE EXCEPTION 'pgscore.erase_entity: p_key, the entity key to erase, must not be NULL'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'the key as the log holds it, as text: pgscore.predictions.entity_key';
    END IF;
    -- (0155, review r1) a standby, or a read-only transaction, refuses its deletes: said so, with where to run it, as
    -- record_outcome since 0154 (it was PostgreSQL's bare 25006, no hint, quoting the DELETE of the log)
    IF current_setting('transaction_read_only') = 'on' THEN
        RAISE EXCEPTION 'pgscore.erase_entity deletes the key''s rows: not %',
            CASE WHEN pg_is_in_recovery() THEN 'on a standby, whose transactions are all read-only'
                 ELSE 'in a read-only transaction' END
            USING ERRCODE = 'read_only_sql_transaction',
                  HINT = CASE WHEN pg_is_in_recovery()
                              THEN 'run it on the primary: a hot standby (a read replica) takes no writes, and gets them by replication'
                              ELSE 'run it in a transaction that may write: not one begun READ ONLY, nor in a session with default_transaction_read_only = on' END;
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
    -- the reasons each read the whole queue: no index leads with entity_key, and a substring needs every reason
    -- read anyway, so one scan finds both (an index on the key would spare nothing more)
    SELECT array_agg(e.error_id) FILTER (WHERE e.entity_key = p_key),
           array_agg(e.error_id) FILTER (WHERE e.entity_key <> p_key)
      INTO v_gone, v_named
      FROM pgscore.error_queue e
     WHERE (e.entity_key = p_key OR (p_key <> '' AND strpos(e.reason, p_key) > 0))
       AND (p_model IS NULL OR e.model_name = p_model OR (e.model_name IS NULL AND e.rescoring_id = ANY (v_wirings)));
    -- (each condition again: a row a concurrent retry changed since is judged as it is now)
    DELETE FROM pgscore.error_queue e WHERE e.error_id = ANY (v_gone) AND e.entity_key = p_key;
    GET DIAGNOSTICS v_errors = ROW_COUNT;
    UPDATE pgscore.error_queue e SET reason = v_erased WHERE e.error_id = ANY (v_named) AND strpos(e.reason, p_key) > 0;
    GET DIAGNOSTICS v_reasons = ROW_COUNT;
    DELETE FROM pgscore.replicated_pending r
     WHERE r.entity_key = p_key AND (p_model IS NULL OR r.rescoring_id = ANY (v_wirings));
    GET DIAGNOSTICS v_pending = ROW_COUNT;
    -- free text that names the key (an empty key is in every text: none is read)
    IF p_key <> '' THEN
        UPDATE pgscore.shadow_failures f SET last_message = v_erased
         WHERE strpos(f.last_message, p_key) > 0 AND (v_ids IS NULL OR f.model_id = ANY (v_ids));
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
