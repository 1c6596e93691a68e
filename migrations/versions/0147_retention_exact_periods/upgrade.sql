-- 0145 to 0147 (task A1 of session 64): a retention period with a negative part ('-1 mon 31 days', 1 day to
-- PostgreSQL's interval comparison, which takes a month for 30 days, and no day at all in a month of 31) is refused
-- by drop_log_partitions, redact_log_features and the floors' CHECKs; erase_entity replaces the free text that
-- names the key (a shadow's last failure message, another key's queued reason)

-- a floor the new CHECK refuses is named, not left to the bare 23514 of ADD CONSTRAINT
DO $do$
DECLARE
    v_log interval;
    v_features interval;
    v_bad text[];
BEGIN
    SELECT p.keep_log, p.keep_features INTO v_log, v_features FROM pgscore.retention_policy p;
    IF extract(year FROM v_log) < 0 OR extract(month FROM v_log) < 0 OR extract(day FROM v_log) < 0
       OR extract(hour FROM v_log) < 0 OR extract(minute FROM v_log) < 0 OR extract(second FROM v_log) < 0 THEN
        v_bad := v_bad || 'keep_log'::text;
    END IF;
    IF extract(year FROM v_features) < 0 OR extract(month FROM v_features) < 0
       OR extract(day FROM v_features) < 0 OR extract(hour FROM v_features) < 0
       OR extract(minute FROM v_features) < 0 OR extract(second FROM v_features) < 0 THEN
        v_bad := v_bad || 'keep_features'::text;
    END IF;
    -- (the hint names the column at fault: review r2, it named keep_log for a keep_features at fault)
    IF v_bad IS NOT NULL THEN
        RAISE EXCEPTION 'pgscore 0147: pgscore.retention_policy holds a floor with a negative part (keep_log %, keep_features %), a different length on different dates', v_log, v_features
            USING ERRCODE = 'check_violation',
                  HINT = format('as the owner of the pgscore schema, set %s in parts of one sign (UPDATE pgscore.retention_policy SET %s = ''7 years''), then upgrade again',
                                array_to_string(v_bad, ' and '), v_bad[1]);
    END IF;
END
$do$;

ALTER TABLE pgscore.retention_policy DROP CONSTRAINT retention_policy_keep_log_check,
    ADD CONSTRAINT retention_policy_keep_log_check CHECK (
        keep_log >= interval '1 day'
        AND extract(year FROM keep_log) >= 0 AND extract(month FROM keep_log) >= 0
        AND extract(day FROM keep_log) >= 0 AND extract(hour FROM keep_log) >= 0
        AND extract(minute FROM keep_log) >= 0 AND extract(second FROM keep_log) >= 0);
ALTER TABLE pgscore.retention_policy DROP CONSTRAINT retention_policy_keep_features_check,
    ADD CONSTRAINT retention_policy_keep_features_check CHECK (
        keep_features >= interval '1 day'
        AND extract(year FROM keep_features) >= 0 AND extract(month FROM keep_features) >= 0
        AND extract(day FROM keep_features) >= 0 AND extract(hour FROM keep_features) >= 0
        AND extract(minute FROM keep_features) >= 0 AND extract(second FROM keep_features) >= 0);
COMMENT ON COLUMN pgscore.log_retention.detail IS 'The counts of each kind: drop, partitions, default_rows, rollup_rows and outcomes; redact, partitions and complete (no row before the cut was left); erase, the rows removed per table, and (since 0147) those whose free text named the key and was replaced: pgscore.shadow_failures (last_message) and pgscore.error_queue (reason)';

CREATE OR REPLACE FUNCTION pgscore.drop_log_partitions(p_older_than interval)
RETURNS integer
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
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
COMMENT ON FUNCTION pgscore.drop_log_partitions(interval) IS 'Retention in whole UTC days: drop the daily partitions of pgscore.prediction_log of the days before the one holding now() - p_older_than, delete the default partition''s rows, the drift rollups of those days, the outcomes that judge predictions of those days and the unmatched outcomes observed in them; returns partitions dropped (a NOTICE gives all four counts); refuses a period shorter than pgscore.retention_policy.keep_log, and records what it removed in pgscore.log_retention (0141)';

CREATE OR REPLACE FUNCTION pgscore.redact_log_features(p_older_than interval, p_limit integer DEFAULT 100000,
                                            p_recheck boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
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
COMMENT ON FUNCTION pgscore.redact_log_features(interval, integer, boolean) IS 'Empty the features of at most p_limit rows of pgscore.prediction_log logged before the UTC day holding now() - p_older_than, keeping their decisions (model, score, label, source, cause, entity key, time); returns how many; p_older_than at least pgscore.retention_policy.keep_features; recorded in pgscore.log_retention (0141)';

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
    v_reasons bigint := 0;
    v_erased constant text := '(erased: the text named an erased entity key)';
BEGIN
    IF p_key IS NULL THEN
        RAISE EXCEPTION 'pgscore.erase_entity: p_key, the entity key to erase, must not be NULL'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'the key as the log holds it, as text: pgscore.predictions.entity_key';
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
    DELETE FROM pgscore.error_queue e
     WHERE e.entity_key = p_key
       AND (p_model IS NULL OR e.model_name = p_model OR (e.model_name IS NULL AND e.rescoring_id = ANY (v_wirings)));
    GET DIAGNOSTICS v_errors = ROW_COUNT;
    DELETE FROM pgscore.replicated_pending r
     WHERE r.entity_key = p_key AND (p_model IS NULL OR r.rescoring_id = ANY (v_wirings));
    GET DIAGNOSTICS v_pending = ROW_COUNT;
    -- free text that names the key (an empty key is in every text: none is read)
    IF p_key <> '' THEN
        UPDATE pgscore.shadow_failures f SET last_message = v_erased
         WHERE strpos(f.last_message, p_key) > 0 AND (v_ids IS NULL OR f.model_id = ANY (v_ids));
        GET DIAGNOSTICS v_messages = ROW_COUNT;
        UPDATE pgscore.error_queue e SET reason = v_erased
         WHERE strpos(e.reason, p_key) > 0
           AND (p_model IS NULL OR e.model_name = p_model OR (e.model_name IS NULL AND e.rescoring_id = ANY (v_wirings)));
        GET DIAGNOSTICS v_reasons = ROW_COUNT;
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
