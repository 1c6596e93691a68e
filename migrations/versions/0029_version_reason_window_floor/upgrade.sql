-- 0028 to 0029: each model version keeps the reason given when it was stored (pgscore.register_model's
-- p_reason), whether or not it went live: a deployment row holds it only for a version made live at
-- once, and an alembic revision that deploys with activate=False left nothing to find it by. Versions
-- stored before keep NULL.
ALTER TABLE pgscore.models ADD COLUMN reason text;
COMMENT ON COLUMN pgscore.models.reason IS 'The reason given when the version was stored, live or not (an alembic revision''s deploy_model gives ''alembic revision <id>'', which its undeploy_model looks for)';

-- A drift window shorter than the monitoring's 5-minute buckets: written as a bare number ('30', meant
-- as days), which PostgreSQL reads as seconds. A window of this install that is one stops the upgrade,
-- saying which, before anything changes.
DO $do$
DECLARE
    v_name text;
    v_length interval;
BEGIN
    SELECT w.window_name, w.length INTO v_name, v_length FROM pgscore.drift_windows w
     WHERE w.length < interval '5 minutes' ORDER BY w.length LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'pgscore: drift window % is % long; a window is now at least 5 minutes', v_name, v_length
              USING ERRCODE = '23514',
                    HINT = 'a bare number is seconds to PostgreSQL: UPDATE pgscore.drift_windows SET length = ''30 days'' '
                           'WHERE window_name = ... (or delete the row), then upgrade again';
    END IF;
END
$do$;
ALTER TABLE pgscore.drift_windows DROP CONSTRAINT drift_windows_length_check;
ALTER TABLE pgscore.drift_windows ADD CONSTRAINT drift_windows_length_check
    CHECK (length IS NULL OR length >= interval '5 minutes');
COMMENT ON COLUMN pgscore.drift_windows.length IS 'How far back from now() the window reaches, at least 5 minutes; NULL = since deploy (every prediction of the live version)';

-- realised_performance and alerts counted the unmatched outcomes once per model and period (each count
-- reads every outcome: 2.9 s for 1,000 outcomes and one model); now once per model
CREATE OR REPLACE FUNCTION pgscore.performance_stats()
RETURNS TABLE (model_id bigint, name text, version integer, task text, period_kind text, period text,
               sort_order integer, n bigint, positives bigint, auc float8, accuracy float8, "precision" float8,
               recall float8, brier float8, log_loss float8, mae float8, rmse float8, deploy_auc float8,
               deploy_accuracy float8, deploy_brier float8, deploy_log_loss float8, deploy_mae float8,
               deploy_rmse float8, checks jsonb, status text, firing text, min_n integer, unmatched_outcomes bigint)
LANGUAGE sql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
ROWS 100
AS $fn$
WITH periods AS MATERIALIZED (SELECT * FROM pgscore.monitoring_periods),
j AS (
    SELECT jp.*, p.period_kind, p.period
      FROM pgscore.judged_predictions jp
      JOIN periods p ON jp.predicted_at >= p.starts AND jp.predicted_at < p.ends
),
r AS (
    SELECT j.*, rank() OVER (PARTITION BY j.model_id, j.period_kind, j.period ORDER BY j.score)
               + (count(*) OVER (PARTITION BY j.model_id, j.period_kind, j.period, j.score) - 1) / 2.0 AS score_rank
      FROM j
),
s AS (  -- AUC from the rank sum of the positives (Mann-Whitney); log loss clipped at float64 eps like scikit-learn
    SELECT r.model_id, r.period_kind, r.period, count(*) AS n, sum(r.y) AS positives,
           ((sum(r.score_rank) FILTER (WHERE r.y = 1) - sum(r.y) * (sum(r.y) + 1) / 2.0)
                / nullif(sum(r.y) * (count(*) - sum(r.y)), 0))::float8 AS auc,
           (CASE WHEN min(r.task) = 'binary' THEN avg(((r.score >= r.threshold)::integer = r.y)::integer)
                 WHEN min(r.task) = 'multiclass' THEN avg((r.label = r.outcome #>> '{}')::integer) END)::float8 AS accuracy,
           -- binary only: a multiclass model has no positive class (y is NULL), where these gave 0
           CASE WHEN min(r.task) = 'binary' THEN sum(((r.score >= r.threshold) AND r.y = 1)::integer)::float8
               / nullif(sum((r.score >= r.threshold)::integer), 0) END AS "precision",
           CASE WHEN min(r.task) = 'binary'
                THEN sum(((r.score >= r.threshold) AND r.y = 1)::integer)::float8 / nullif(sum(r.y), 0) END AS recall,
           avg((r.score - r.y) ^ 2) AS brier,
           -avg(r.y * ln(least(greatest(r.score, 2.220446049250313e-16), 1 - 2.220446049250313e-16))
                + (1 - r.y) * ln(1 - least(greatest(r.score, 2.220446049250313e-16), 1 - 2.220446049250313e-16))) AS log_loss,
           avg(abs(r.score - r.y_value)) AS mae,
           sqrt(avg((r.score - r.y_value) ^ 2)) AS rmse
      FROM r
     GROUP BY r.model_id, r.period_kind, r.period
),
base AS (
    SELECT m.model_id, m.name, m.version, m.task, p.period_kind, p.period, p.sort_order,
           coalesce(s.n, 0) AS n, s.positives, s.auc, s.accuracy, s."precision", s.recall, s.brier, s.log_loss,
           s.mae, s.rmse,
           (m.metrics ->> 'auc')::float8 AS deploy_auc, (m.metrics ->> 'accuracy')::float8 AS deploy_accuracy,
           (m.metrics ->> 'brier')::float8 AS deploy_brier, (m.metrics ->> 'log_loss')::float8 AS deploy_log_loss,
           (m.metrics ->> 'mae')::float8 AS deploy_mae, (m.metrics ->> 'rmse')::float8 AS deploy_rmse
      FROM pgscore.live_models m
     CROSS JOIN periods p
      LEFT JOIN s ON s.model_id = m.model_id AND s.period_kind = p.period_kind AND s.period = p.period
),
-- once per model, not once per model and period (each reads every outcome: 35 times over, 2.9 s for 1,000)
unmatched AS MATERIALIZED (
    SELECT om.model, count(*) AS n FROM pgscore.outcome_matches om WHERE NOT om.matched GROUP BY om.model
)
SELECT b.*, c.checks, c.status, c.firing, c.min_n,
       coalesce((SELECT u.n FROM unmatched u WHERE u.model = b.name), 0) AS unmatched_outcomes
  FROM base b
 CROSS JOIN LATERAL pgscore.judge(
        CASE b.task WHEN 'binary' THEN ARRAY['auc_drop', 'accuracy_drop', 'brier_rise']
                    WHEN 'multiclass' THEN ARRAY['accuracy_drop'] ELSE ARRAY['rmse_rise'] END,
        CASE b.task WHEN 'binary' THEN ARRAY[b.deploy_auc - b.auc, b.deploy_accuracy - b.accuracy, b.brier - b.deploy_brier]
                    WHEN 'multiclass' THEN ARRAY[b.deploy_accuracy - b.accuracy]
                    ELSE ARRAY[b.rmse / nullif(b.deploy_rmse, 0) - 1] END,
        array_fill(b.n, ARRAY[CASE b.task WHEN 'binary' THEN 3 ELSE 1 END])) c
$fn$;
COMMENT ON FUNCTION pgscore.performance_stats() IS 'Realised performance of every live model and period next to its deploy metrics, with the checks; read it through realised_performance and performance_by_day';

-- A window (and today) ends at the statement's start, with a minute's margin, not at infinity: a log row stamped
-- in the future (a backfill's mistake) was counted in every window and in today, for ever
CREATE OR REPLACE VIEW pgscore.monitoring_periods AS
WITH p AS (
    SELECT 'window'::text AS period_kind, w.window_name AS period, w.sort_order,
           coalesce(now() - w.length, '-infinity'::timestamptz) AS starts,
           -- up to now: every row this statement can see was logged before it began (a minute's margin);
           -- a row stamped later (a backfill's mistake) is in no window until its time comes
           statement_timestamp() + interval '1 minute' AS ends
      FROM pgscore.drift_windows w
    UNION ALL
    SELECT 'day', to_char(d AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 0, d, d + interval '24 hours'
      FROM generate_series(date_trunc('day', now(), 'UTC') - interval '696 hours',  -- 29 days of 24 hours: UTC days
                           date_trunc('day', now(), 'UTC'), interval '24 hours') d
), c AS (
    SELECT p.*, CASE WHEN date_bin('5 minutes', p.starts, '2000-01-01 00:00:00+00') = p.starts THEN p.starts
                     ELSE date_bin('5 minutes', p.starts, '2000-01-01 00:00:00+00') + interval '5 minutes'
                END AS bucket_from
      FROM p
)
SELECT c.period_kind, c.period, c.sort_order, c.starts, c.ends, c.bucket_from,
       greatest(least(greatest(s.rolled_until, c.bucket_from), c.ends), c.bucket_from) AS bucket_to
  FROM c CROSS JOIN pgscore.monitoring_state s;
COMMENT ON VIEW pgscore.monitoring_periods IS 'Internal: each window and each of the last 30 UTC days, and which part of it the rollups cover';

CREATE OR REPLACE FUNCTION pgscore.drift_counts(p_period_kind text DEFAULT NULL, p_period text DEFAULT NULL)
RETURNS TABLE (model_id bigint, period_kind text, period text, kind text, "position" integer, bin integer,
               n bigint, total float8, n_out bigint)
LANGUAGE sql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
SET work_mem = '64MB'
ROWS 20000
AS $fn$
WITH live AS MATERIALIZED (SELECT lm.model_id FROM pgscore.live_models lm),
periods AS (
    SELECT p.*, date_trunc('day', p.bucket_from, 'UTC')
                + CASE WHEN date_trunc('day', p.bucket_from, 'UTC') = p.bucket_from THEN interval '0'
                       ELSE interval '24 hours' END AS first_day,
           date_trunc('day', p.bucket_to, 'UTC') AS end_day
      FROM pgscore.monitoring_periods p
     WHERE (p_period_kind IS NULL OR p.period_kind = p_period_kind) AND (p_period IS NULL OR p.period = p_period)
),
segments AS MATERIALIZED (  -- [lo, hi) of a period and where to count it; the whole days exist only if first_day < end_day
    SELECT p.period_kind, p.period, s.src, s.lo,
           -- today's rows up to where the windows end (monitoring_periods): one part read once for both
           CASE WHEN s.src = 'log' AND s.hi > now() THEN least(s.hi, statement_timestamp() + interval '1 minute')
                ELSE s.hi END AS hi
      FROM periods p
     CROSS JOIN LATERAL (VALUES (p.first_day < p.end_day)) d(whole_days)
     CROSS JOIN LATERAL (VALUES ('log', p.starts, least(p.bucket_from, p.ends)),
                                ('bucket', p.bucket_from, CASE WHEN d.whole_days THEN p.first_day ELSE p.bucket_to END),
                                ('day', p.first_day, CASE WHEN d.whole_days THEN p.end_day ELSE p.first_day END),
                                ('bucket', CASE WHEN d.whole_days THEN p.end_day ELSE p.bucket_to END, p.bucket_to),
                                ('log', p.bucket_to, p.ends)) s(src, lo, hi)
     WHERE s.lo < s.hi
),
parts AS MATERIALIZED (SELECT DISTINCT sg.src, sg.lo, sg.hi FROM segments sg),
part_counts AS MATERIALIZED (
    SELECT pt.src, pt.lo, pt.hi, v.model_id, v.kind, v.position, v.bin, count(*) AS n,
           coalesce(sum(v.x) FILTER (WHERE v.bin >= 0), 0) AS total, count(*) FILTER (WHERE v.out_of_range) AS n_out
      FROM parts pt
     CROSS JOIN live
     CROSS JOIN LATERAL (SELECT pv.* FROM pgscore.prediction_values pv  -- through the log's (model_id, logged_at) index
                          WHERE pv.model_id = live.model_id AND pv.logged_at >= pt.lo AND pv.logged_at < pt.hi
                         OFFSET 0) v
     WHERE pt.src = 'log'
     GROUP BY pt.src, pt.lo, pt.hi, v.model_id, v.kind, v.position, v.bin
    UNION ALL
    SELECT pt.src, pt.lo, pt.hi, r.model_id, r.kind, r.position, r.bin, sum(r.n), sum(r.total), sum(r.n_out)
      FROM parts pt
     CROSS JOIN live
      JOIN pgscore.drift_rollup r ON r.model_id = live.model_id AND r.bucket >= pt.lo AND r.bucket < pt.hi
     WHERE pt.src = 'bucket'
     GROUP BY pt.src, pt.lo, pt.hi, r.model_id, r.kind, r.position, r.bin
    UNION ALL
    SELECT pt.src, pt.lo, pt.hi, r.model_id, r.kind, r.position, r.bin, sum(r.n), sum(r.total), sum(r.n_out)
      FROM parts pt
     CROSS JOIN live
      JOIN pgscore.drift_rollup_day r ON r.model_id = live.model_id AND r.day >= pt.lo AND r.day < pt.hi
     WHERE pt.src = 'day'
     GROUP BY pt.src, pt.lo, pt.hi, r.model_id, r.kind, r.position, r.bin
)
SELECT c.model_id, sg.period_kind, sg.period, c.kind, c.position, c.bin, sum(c.n)::bigint, sum(c.total)::float8,
       sum(c.n_out)::bigint
  FROM segments sg
  JOIN part_counts c ON c.src = sg.src AND c.lo = sg.lo AND c.hi = sg.hi
 GROUP BY c.model_id, sg.period_kind, sg.period, c.kind, c.position, c.bin
$fn$;
COMMENT ON FUNCTION pgscore.drift_counts(text, text) IS 'Per live model, period (each window and each of the last 30 UTC days, or those picked by p_period_kind and p_period), feature (and score) and baseline bin: how many values were logged (bin -1: NULL or NaN), their sum and how many fell outside the baseline range';

-- create_log_partitions refuses a table of a day's name that is no partition of the log (detached to archive it),
-- where it said it had nothing to do and the day's rows went on into the default partition
CREATE OR REPLACE FUNCTION pgscore.create_log_partitions(p_days integer DEFAULT 7,
                                              p_from date DEFAULT (now() AT TIME ZONE 'UTC')::date)
RETURNS integer
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_day date;
    v_name text;
    v_lo timestamptz;
    v_hi timestamptz;
    v_created integer := 0;
BEGIN
    IF p_days IS NULL OR p_from IS NULL OR p_days < 0 OR p_days > 366 THEN
        RAISE EXCEPTION 'pgscore.create_log_partitions: p_days must be between 0 and 366 and p_from not NULL (got %, %)',
            p_days, p_from USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR i IN 0..p_days LOOP
        v_day := p_from + i;
        v_name := 'prediction_log_' || to_char(v_day, 'YYYYMMDD');
        IF to_regclass(format('pgscore.%I', v_name)) IS NOT NULL THEN
            -- a table of the day's name that is no partition of the log (detached to archive it, say): the day's
            -- rows would wait in the default partition while the call said it had nothing to do
            IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i
                            WHERE i.inhrelid = to_regclass(format('pgscore.%I', v_name))
                              AND i.inhparent = 'pgscore.prediction_log'::regclass) THEN
                RAISE EXCEPTION 'pgscore.create_log_partitions: pgscore.% exists and is not a partition of pgscore.prediction_log', v_name
                      USING ERRCODE = 'duplicate_table',
                            HINT = format('rename it (ALTER TABLE pgscore.%I RENAME TO %I) or attach it again, then create the partitions again',
                                          v_name, v_name || '_archived');
            END IF;
            CONTINUE;
        END IF;
        v_lo := v_day::timestamp AT TIME ZONE 'UTC';
        v_hi := (v_day + 1)::timestamp AT TIME ZONE 'UTC';
        EXECUTE format('CREATE TABLE pgscore.%I (LIKE pgscore.prediction_log INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', v_name);
        EXECUTE format('WITH moved AS (DELETE FROM pgscore.prediction_log_default WHERE logged_at >= %L AND logged_at < %L RETURNING *) '
                       'INSERT INTO pgscore.%I SELECT * FROM moved', v_lo, v_hi, v_name);
        EXECUTE format('ALTER TABLE pgscore.prediction_log ATTACH PARTITION pgscore.%I FOR VALUES FROM (%L) TO (%L)',
                       v_name, v_lo, v_hi);
        -- as install grants every table of the schema (migration 0027: the partitions made later had no grant)
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'pgscore_admin') THEN
            EXECUTE format('GRANT SELECT ON pgscore.%I TO pgscore_admin', v_name);
        END IF;
        v_created := v_created + 1;
    END LOOP;
    RETURN v_created;
END
$fn$;
COMMENT ON FUNCTION pgscore.create_log_partitions(integer, date) IS 'Create the daily partitions of pgscore.prediction_log from p_from (UTC) for p_days more days; returns how many were created';

-- A deployment may not make live a version the server would refuse to load: unsigned with signing on, or
-- signed with signing off (every score would fail); pgscore.signing_on() tells the trigger which
CREATE FUNCTION pgscore.signing_on() RETURNS boolean
LANGUAGE plpython3u
STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $pl$
try:
    from pgscore.pl import signing_on
except ImportError as e:  # a server started without pgscore's environment
    plpy.error("pgscore cannot be imported by the database's Python: %s" % e, sqlstate="58P01",
               hint="restart the server with PYTHONPATH naming the site-packages directory of the environment pgscore was installed into with the server's own Python, not the venv itself (any pgscore command of that environment prints the exact value; README, 'Installing into an existing server'), then SELECT pgscore.validate_environment()")
return signing_on(plpy, GD)
$pl$;
COMMENT ON FUNCTION pgscore.signing_on() IS 'Whether this server signs and verifies model artifacts (a signing key in its environment); raises when its key cannot be read';
REVOKE EXECUTE ON FUNCTION pgscore.signing_on() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgscore.signing_on() TO pgscore_admin;

CREATE OR REPLACE FUNCTION pgscore.check_live_version_fed() RETURNS trigger
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
          FROM pgscore.rescoring w
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
    END LOOP;
    IF v_n > 0 THEN
        -- a version stored in this transaction (deploy) is rolled back with it: deploy it again, not activate it
        SELECT m.version, m.created_at = pg_catalog.now() INTO v_version, v_new
          FROM pgscore.models m WHERE m.model_id = NEW.model_id;
        RAISE EXCEPTION '%, which % rescores with %, has no column %: once live, version % could not rescore it',
                v_first.profile_table, v_first.event_table, NEW.model_name, v_first.missing, v_version
            USING ERRCODE = 'undefined_column', DETAIL = format('%s wiring(s) affected', v_n),
                  HINT = CASE
                      WHEN NEW.action = 'rollback' THEN format('add the column(s) to the profile table first, then roll back again (version %s)', v_version)
                      WHEN v_new THEN 'add the column(s) to the profile table first, then deploy again; or store the version without making it live (pgscore deploy --no-activate; in an alembic revision deploy_model(..., activate=False); pgscore.register_model(..., p_activate => false))'
                      ELSE format('add the column(s) to the profile table first, then activate version %s again', v_version)
                  END;
    END IF;
    RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION pgscore.check_live_version_fed() IS 'Trigger function: refuses a deployment that makes live a version whose features a profile table wired to rescore with its name lacks';

-- activate names an unknown model as such, as rollback does (not 'no version 1 of model ...')
CREATE OR REPLACE FUNCTION pgscore.activate(p_name text, p_version integer, p_reason text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_model_id bigint;
BEGIN
    IF p_name IS NULL OR p_version IS NULL THEN
        RAISE EXCEPTION 'pgscore.activate: model name and version must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_name) THEN
        RAISE EXCEPTION 'there is no model %', quote_literal(p_name) USING ERRCODE = 'undefined_object';
    END IF;
    SELECT m.model_id INTO v_model_id FROM pgscore.models m WHERE m.name = p_name AND m.version = p_version;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'there is no version % of model %', p_version, quote_literal(p_name)
            USING ERRCODE = 'undefined_object';
    END IF;
    INSERT INTO pgscore.deployments (model_name, model_id, action, reason)
    VALUES (p_name, v_model_id, 'deploy', p_reason);
    RETURN v_model_id;
END
$fn$;
COMMENT ON FUNCTION pgscore.activate(text, integer, text) IS 'Make a version of a model live (appends a deployment); returns its model_id';

-- drop_log_partitions' NOTICE counts the daily rollups it deletes too
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
BEGIN
    IF p_older_than IS NULL OR p_older_than <= interval '0' THEN
        RAISE EXCEPTION 'pgscore.drop_log_partitions: the retention period must be a positive interval (got %)', p_older_than
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- a number without a unit is seconds to PostgreSQL: '90' would keep today alone
    IF p_older_than < interval '1 day' THEN
        RAISE EXCEPTION 'pgscore.drop_log_partitions: the retention period must be at least 1 day (got %)', p_older_than
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'retention keeps whole UTC days; a number without a unit is seconds: write ''90 days'', not ''90''';
    END IF;
    -- whole UTC days: the day that holds now() - p_older_than is kept, in its partition and in the default
    -- partition alike, so that the drift rollups of every day dropped can go with it. The period is
    -- taken from the UTC time, so that the session's time zone (its DST days) cannot move the cut
    v_cut := date_trunc('day', (now() AT TIME ZONE 'UTC') - p_older_than) AT TIME ZONE 'UTC';
    FOR v_part IN
        SELECT c.relname, to_date(right(c.relname, 8), 'YYYYMMDD') AS day
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'pgscore.prediction_log'::regclass AND c.relname ~ '^prediction_log_[0-9]{8}$'
         ORDER BY 2
    LOOP
        CONTINUE WHEN (v_part.day::timestamp AT TIME ZONE 'UTC') >= v_cut;
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
    -- an outcome judges the newest prediction logged before it was observed: one observed before the cut
    -- has none left to judge, and would count as unmatched (outcome_matches) for ever
    DELETE FROM pgscore.outcomes WHERE observed_at < v_cut;
    GET DIAGNOSTICS v_outcomes = ROW_COUNT;
    RAISE NOTICE 'pgscore.drop_log_partitions: before %: % daily partition(s) dropped, % row(s) deleted from the default partition, % rollup row(s) deleted (% of 5 minutes, % of a day), % outcome(s) observed before it deleted',
        v_cut, v_dropped, v_rows, v_buckets + v_days, v_buckets, v_days, v_outcomes;
    RETURN v_dropped;
END
$fn$;
COMMENT ON FUNCTION pgscore.drop_log_partitions(interval) IS 'Retention in whole UTC days: drop the daily partitions of pgscore.prediction_log of the days before the one holding now() - p_older_than, delete the default partition''s rows, the drift rollups of those days and the outcomes observed in them; returns partitions dropped (a NOTICE gives all four counts)';
