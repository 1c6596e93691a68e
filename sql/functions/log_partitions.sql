/*
 * Daily partitions of pgscore.prediction_log (UTC days) and retention. Both run as
 * their owner (SECURITY DEFINER): creating and dropping partitions takes the log's
 * ownership, which pgscore_admin, who may call them, does not have.
 * Call create_log_partitions() daily (pg_cron, cron, or `pgscore maintain`)
 * so rows land in dated partitions; rows that arrive before their day's
 * partition exists wait in the default partition and are moved into it when
 * it is created; so are the rows of days before p_from that wait there (a
 * backfill, a clock behind, maintenance not run for weeks): their days are made
 * too (migration 0104). drop_log_partitions() drops the whole UTC days before the
 * one that holds now() minus the retention period: their partitions, their
 * rows still in the default partition, and their drift rollups.
 */
CREATE FUNCTION pgscore.create_log_partitions(p_days integer DEFAULT 7,
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
COMMENT ON FUNCTION pgscore.create_log_partitions(integer, date) IS 'Create the daily partitions of pgscore.prediction_log from p_from (UTC) for p_days more days, and those of the days before p_from that rows in the default partition hold (at most 31 a call, the newest first), moving their rows; returns how many were created';

CREATE FUNCTION pgscore.drop_log_partitions(p_older_than interval)
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
COMMENT ON FUNCTION pgscore.drop_log_partitions(interval) IS 'Retention in whole UTC days: drop the daily partitions of pgscore.prediction_log of the days before the one holding now() - p_older_than, delete the default partition''s rows, the drift rollups of those days, the outcomes that judge predictions of those days and the unmatched outcomes observed in them; returns partitions dropped (a NOTICE gives all four counts); refuses a period shorter than pgscore.retention_policy.keep_log, and records what it removed in pgscore.log_retention (0141)';

SELECT pgscore.create_log_partitions();
