-- 0143 (review r6 of session 63): the retention floor is the day it cuts at, not an interval compared (a year
-- compares as 360 days, so '360 days' passed a floor of '1 year'); the redaction's one UPDATE of the log
-- changes the features alone, every other column compared (written_by, 0139, was not).

CREATE OR REPLACE FUNCTION pgscore.forbid_log_update() RETURNS trigger
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
    v_part_rows bigint := 0;
    v_n bigint;
BEGIN
    IF p_older_than IS NULL OR p_older_than <= interval '0' THEN
        RAISE EXCEPTION 'pgscore.drop_log_partitions: p_older_than, the retention period, must be a positive interval (got %)', p_older_than
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'retention keeps whole UTC days, at least one: for example ''90 days''';
    END IF;
    -- a number without a unit is seconds to PostgreSQL: '90' would keep today alone
    IF p_older_than < interval '1 day' THEN
        RAISE EXCEPTION 'pgscore.drop_log_partitions: p_older_than, the retention period, must be at least 1 day (got %)', p_older_than
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'retention keeps whole UTC days; a number without a unit is seconds: write ''90 days'', not ''90''';
    END IF;
    -- the floor the schema's owner set (migration 0141), whoever calls
    SELECT p.keep_log INTO v_floor FROM pgscore.retention_policy p;
    -- the floor is the day it cuts at, not an interval compared (a year compares as 360 days; review r6)
    IF date_trunc('day', (now() AT TIME ZONE 'UTC') - p_older_than)
       > date_trunc('day', (now() AT TIME ZONE 'UTC') - v_floor) THEN
        RAISE EXCEPTION 'pgscore.drop_log_partitions: p_older_than % is shorter than the retention floor, %', p_older_than, v_floor
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'pgscore.retention_policy.keep_log, which the owner of the pgscore schema alone may lower';
    END IF;
    -- whole UTC days: the day that holds now() - p_older_than is kept, in its partition and in the default
    -- partition alike, so that the drift rollups of every day dropped can go with it. The period is
    -- taken from the UTC time, so that the session's time zone (its DST days) cannot move the cut
    v_cut := date_trunc('day', (now() AT TIME ZONE 'UTC') - p_older_than) AT TIME ZONE 'UTC';
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
    v_cut timestamptz;
    v_done timestamptz;
    v_id bigint;
    v_left bigint;
    v_n bigint;
    v_rows bigint := 0;
    v_parts integer := 0;
    v_part record;
BEGIN
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
    -- the floor is the day it cuts at, not an interval compared (a year compares as 360 days; review r6)
    IF date_trunc('day', (now() AT TIME ZONE 'UTC') - p_older_than)
       > date_trunc('day', (now() AT TIME ZONE 'UTC') - v_floor) THEN
        RAISE EXCEPTION 'pgscore.redact_log_features: p_older_than % is shorter than the floor of features'' retention, %', p_older_than, v_floor
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'pgscore.retention_policy.keep_features, which the owner of the pgscore schema alone may lower';
    END IF;
    v_cut := date_trunc('day', (now() AT TIME ZONE 'UTC') - p_older_than) AT TIME ZONE 'UTC';
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
