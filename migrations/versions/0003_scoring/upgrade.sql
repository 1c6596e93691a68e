-- 0003 scoring
DROP FUNCTION pgscore.score(text, float8[], integer);
DROP FUNCTION pgscore.predict(text, float8[], integer);
DROP FUNCTION pgscore.predict_proba(text, float8[], integer);
DROP FUNCTION pgscore.register_model(text, bytea, text, jsonb, jsonb, boolean, text);
DROP VIEW pgscore.model_versions;

-- sql/tables/70_evaluators.sql
/*
 * The fast evaluator of each model version: the estimator compiled at deploy
 * into plain numpy arrays (no pickle), proved equal to scikit-learn on the
 * deploy data. A row without bytes records why the model could not be
 * compiled; such models are scored by scikit-learn itself.
 */
CREATE TABLE pgscore.evaluators (
    model_id     bigint PRIMARY KEY REFERENCES pgscore.models (model_id),
    format       text NOT NULL,
    bytes        bytea,
    sha256       text,
    hmac_sha256  text,
    checked_rows integer,
    max_abs_diff float8,
    reason       text,
    CONSTRAINT evaluators_bytes_check CHECK ((bytes IS NULL) = (sha256 IS NULL)),
    CONSTRAINT evaluators_reason_check CHECK (bytes IS NOT NULL OR reason IS NOT NULL),
    CONSTRAINT evaluators_sha256_check CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    CONSTRAINT evaluators_hmac_check CHECK (hmac_sha256 ~ '^[0-9a-f]{64}$')
);
COMMENT ON TABLE pgscore.evaluators IS 'Each model compiled to numpy arrays at deploy and checked against scikit-learn; bytes NULL (with a reason) means scikit-learn scores it';

-- sql/tables/80_log_pending.sql
/*
 * The query path buffers its audit rows in the backend and writes them
 * set-based. The first buffered prediction of a transaction inserts one row
 * here; a deferred constraint trigger on it flushes the buffer just before
 * commit, so no prediction of a committed transaction goes unlogged. Rows
 * live only for their transaction (the flush deletes them); unlogged, since
 * they never need to survive a crash.
 */
CREATE UNLOGGED TABLE pgscore.log_pending (
    xid        xid8 NOT NULL DEFAULT pg_current_xact_id(),
    backend    integer NOT NULL DEFAULT pg_backend_pid(),
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE pgscore.log_pending IS 'Internal: one row per transaction with buffered query-path predictions; fires the flush at commit';

-- sql/functions/register_model.sql
/*
 * Stores one new model version (called by pgscore.deploy on the client):
 * checks the bytes (and the compiled evaluator's) against their sha256,
 * signs them with the server's key when PGSCORE_SIGNING_KEY_FILE is set in
 * the server's environment, and appends the model, artifact, evaluator,
 * baseline and (optionally) deployment rows.
 */
CREATE FUNCTION pgscore.register_model(
    p_name text, p_artifact bytea, p_sha256 text, p_meta jsonb, p_baselines jsonb,
    p_activate boolean DEFAULT true, p_reason text DEFAULT NULL,
    p_evaluator bytea DEFAULT NULL, p_evaluator_meta jsonb DEFAULT NULL)
RETURNS TABLE (model_id bigint, version integer)
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $pl$
from pgscore.pl import register_model
return register_model(plpy, GD, p_name, p_artifact, p_sha256, p_meta, p_baselines, p_activate, p_reason,
                      p_evaluator, p_evaluator_meta)
$pl$;
COMMENT ON FUNCTION pgscore.register_model(text, bytea, text, jsonb, jsonb, boolean, text, bytea, jsonb) IS 'Store the next version of a model (bytes checked against sha256, signed when a key is configured) with its compiled evaluator; used by pgscore.deploy';

-- sql/functions/score.sql
/*
 * Score one row in SQL with the live (or a pinned) version of a model, the
 * features given in the model's order (float8[]) or by name (jsonb: keys
 * matched to the model's feature names, extra keys ignored). Thin shims into
 * pgscore.pl; the model is loaded once per backend and cached by its
 * immutable model_id, and which version is live is resolved once per
 * statement, so a deployment takes effect in every session at its next
 * statement. Each prediction is written to pgscore.prediction_log (setting
 * pgscore.log_queries: all, off, or a sampling rate), hence VOLATILE; not
 * STRICT (a NULL argument is an error that names it); PARALLEL UNSAFE (they
 * run queries and write). No SET search_path: it would double the cost of a
 * call; every query they run qualifies its tables, functions, types and
 * operators instead (see serving.py).
 */
CREATE FUNCTION pgscore.score(p_model text, p_features float8[], p_version integer DEFAULT NULL, p_key text DEFAULT NULL)
RETURNS float8
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
AS $pl$
if "f" not in SD:  # import once per function and backend: an import statement costs ~1 us a call
    from pgscore.pl import score as f; SD["f"] = f
return SD["f"](plpy, GD, p_model, p_features, p_version, p_key)
$pl$;
COMMENT ON FUNCTION pgscore.score(text, float8[], integer, text) IS 'Positive-class probability (binary), top-class probability (multiclass) or value (regression); features in the model''s feature order; p_version pins a version, p_key names the entity in the audit log';

CREATE FUNCTION pgscore.score(p_model text, p_features jsonb, p_version integer DEFAULT NULL, p_key text DEFAULT NULL)
RETURNS float8
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
AS $pl$
if "f" not in SD:  # import once per function and backend: an import statement costs ~1 us a call
    from pgscore.pl import score as f; SD["f"] = f
return SD["f"](plpy, GD, p_model, p_features, p_version, p_key)
$pl$;
COMMENT ON FUNCTION pgscore.score(text, jsonb, integer, text) IS 'Positive-class probability (binary), top-class probability (multiclass) or value (regression); features by feature name; p_version pins a version, p_key names the entity in the audit log';

CREATE FUNCTION pgscore.predict(p_model text, p_features float8[], p_version integer DEFAULT NULL, p_key text DEFAULT NULL)
RETURNS text
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
AS $pl$
if "f" not in SD:  # import once per function and backend: an import statement costs ~1 us a call
    from pgscore.pl import predict as f; SD["f"] = f
return SD["f"](plpy, GD, p_model, p_features, p_version, p_key)
$pl$;
COMMENT ON FUNCTION pgscore.predict(text, float8[], integer, text) IS 'Predicted label (classifiers) or value (regressors), as text; features in the model''s feature order; p_version pins a version, p_key names the entity in the audit log';

CREATE FUNCTION pgscore.predict(p_model text, p_features jsonb, p_version integer DEFAULT NULL, p_key text DEFAULT NULL)
RETURNS text
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
AS $pl$
if "f" not in SD:  # import once per function and backend: an import statement costs ~1 us a call
    from pgscore.pl import predict as f; SD["f"] = f
return SD["f"](plpy, GD, p_model, p_features, p_version, p_key)
$pl$;
COMMENT ON FUNCTION pgscore.predict(text, jsonb, integer, text) IS 'Predicted label (classifiers) or value (regressors), as text; features by feature name; p_version pins a version, p_key names the entity in the audit log';

CREATE FUNCTION pgscore.predict_proba(p_model text, p_features float8[], p_version integer DEFAULT NULL, p_key text DEFAULT NULL)
RETURNS float8[]
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
AS $pl$
if "f" not in SD:  # import once per function and backend: an import statement costs ~1 us a call
    from pgscore.pl import predict_proba as f; SD["f"] = f
return SD["f"](plpy, GD, p_model, p_features, p_version, p_key)
$pl$;
COMMENT ON FUNCTION pgscore.predict_proba(text, float8[], integer, text) IS 'Class probabilities in the order of the model''s classes; features in the model''s feature order; p_version pins a version, p_key names the entity in the audit log';

CREATE FUNCTION pgscore.predict_proba(p_model text, p_features jsonb, p_version integer DEFAULT NULL, p_key text DEFAULT NULL)
RETURNS float8[]
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
AS $pl$
if "f" not in SD:  # import once per function and backend: an import statement costs ~1 us a call
    from pgscore.pl import predict_proba as f; SD["f"] = f
return SD["f"](plpy, GD, p_model, p_features, p_version, p_key)
$pl$;
COMMENT ON FUNCTION pgscore.predict_proba(text, jsonb, integer, text) IS 'Class probabilities in the order of the model''s classes; features by feature name; p_version pins a version, p_key names the entity in the audit log';

-- sql/functions/flush_query_log.sql
/*
 * Fired at commit by the deferred constraint trigger on pgscore.log_pending:
 * writes the query path's buffered predictions to pgscore.prediction_log.
 */
CREATE FUNCTION pgscore.flush_query_log()
RETURNS trigger
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $pl$
from pgscore.pl import flush_query_log
return flush_query_log(plpy, GD, TD)
$pl$;
COMMENT ON FUNCTION pgscore.flush_query_log() IS 'Internal trigger: writes the buffered query-path predictions of this transaction at commit';

-- sql/functions/batch.sql
/*
 * Batch scoring: a whole query or table in chunks, one vectorised call per
 * chunk, each chunk's audit rows written in one statement (source 'batch').
 * batch_chunks and predict_batch run the caller's query text with the
 * caller's rights and search_path, so they carry no SET search_path; every
 * query of their own is fully qualified. score_table is a procedure that
 * commits after every chunk, which a SET clause would forbid.
 */
CREATE FUNCTION pgscore.batch_chunks(p_model text, p_query text, p_version integer, p_chunk_size integer, p_log boolean)
RETURNS TABLE (keys text[], scores float8[])
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
AS $pl$
from pgscore.pl import batch_chunks
return batch_chunks(plpy, GD, p_model, p_query, p_version, p_chunk_size, p_log)
$pl$;
COMMENT ON FUNCTION pgscore.batch_chunks(text, text, integer, integer, boolean) IS 'Internal: scores p_query chunk by chunk, one row of keys and scores per chunk; use pgscore.predict_batch';

CREATE FUNCTION pgscore.predict_batch(p_model text, p_query text, p_version integer DEFAULT NULL,
                                      p_chunk_size integer DEFAULT 10000, p_log boolean DEFAULT true)
RETURNS TABLE (key text, score float8)
LANGUAGE sql
VOLATILE PARALLEL UNSAFE
AS $fn$
SELECT u.key, u.score
  FROM pgscore.batch_chunks(p_model, p_query, p_version, p_chunk_size, p_log) AS c,
       ROWS FROM (pg_catalog.unnest(c.keys), pg_catalog.unnest(c.scores)) AS u(key, score)
$fn$;
COMMENT ON FUNCTION pgscore.predict_batch(text, text, integer, integer, boolean) IS 'Score every row of a query (first column the key, then a column per feature or one float8[] named features) in chunks; returns key and score';

CREATE FUNCTION pgscore.score_chunk(p_model text, p_table regclass, p_key name, p_into name,
                                    p_after text DEFAULT NULL, p_chunk_size integer DEFAULT 10000,
                                    p_version integer DEFAULT NULL, p_log boolean DEFAULT true)
RETURNS TABLE (rows integer, last_key text, version integer)
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $pl$
from pgscore.pl import score_chunk
return score_chunk(plpy, GD, p_model, p_table, p_key, p_into, p_after, p_chunk_size, p_version, p_log)
$pl$;
COMMENT ON FUNCTION pgscore.score_chunk(text, regclass, name, name, text, integer, integer, boolean) IS 'Score the next p_chunk_size rows of a table (in key order, after p_after) into a column and log them; returns rows scored, the last key and the version used';

CREATE PROCEDURE pgscore.score_table(p_model text, p_table regclass, p_key name, p_into name,
                                     p_chunk_size integer DEFAULT 10000, p_version integer DEFAULT NULL,
                                     p_log boolean DEFAULT true, INOUT p_rows bigint DEFAULT NULL)
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_after text;
    v_n integer;
    v_version integer := p_version;
BEGIN
    p_rows := 0;
    LOOP
        -- the first chunk resolves the live version; the rest of the run keeps it
        SELECT c.rows, c.last_key, c.version INTO v_n, v_after, v_version
          FROM pgscore.score_chunk(p_model, p_table, p_key, p_into, v_after, p_chunk_size, v_version, p_log) AS c;
        EXIT WHEN v_n OPERATOR(pg_catalog.=) 0;
        p_rows := p_rows OPERATOR(pg_catalog.+) v_n;
        COMMIT;
    END LOOP;
END
$fn$;
COMMENT ON PROCEDURE pgscore.score_table(text, regclass, name, name, integer, integer, boolean, bigint) IS 'Score a whole table into a column chunk by chunk, committing after each chunk (CALL it outside a transaction block); returns the rows scored';

-- sql/functions/log_partitions.sql
/*
 * Daily partitions of pgscore.prediction_log (UTC days) and retention.
 * Call create_log_partitions() daily (pg_cron, cron, or `pgscore maintain`)
 * so rows land in dated partitions; rows that arrive before their day's
 * partition exists wait in the default partition and are moved into it when
 * it is created. drop_log_partitions() drops whole days older than the
 * retention period and deletes older rows still in the default partition.
 */
CREATE FUNCTION pgscore.create_log_partitions(p_days integer DEFAULT 7,
                                              p_from date DEFAULT (now() AT TIME ZONE 'UTC')::date)
RETURNS integer
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
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
        CONTINUE WHEN to_regclass(format('pgscore.%I', v_name)) IS NOT NULL;
        v_lo := v_day::timestamp AT TIME ZONE 'UTC';
        v_hi := (v_day + 1)::timestamp AT TIME ZONE 'UTC';
        EXECUTE format('CREATE TABLE pgscore.%I (LIKE pgscore.prediction_log INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', v_name);
        EXECUTE format('WITH moved AS (DELETE FROM pgscore.prediction_log_default WHERE logged_at >= %L AND logged_at < %L RETURNING *) '
                       'INSERT INTO pgscore.%I SELECT * FROM moved', v_lo, v_hi, v_name);
        EXECUTE format('ALTER TABLE pgscore.prediction_log ATTACH PARTITION pgscore.%I FOR VALUES FROM (%L) TO (%L)',
                       v_name, v_lo, v_hi);
        v_created := v_created + 1;
    END LOOP;
    RETURN v_created;
END
$fn$;
COMMENT ON FUNCTION pgscore.create_log_partitions(integer, date) IS 'Create the daily partitions of pgscore.prediction_log from p_from (UTC) for p_days more days; returns how many were created';

CREATE FUNCTION pgscore.drop_log_partitions(p_older_than interval)
RETURNS integer
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_cutoff timestamptz;
    v_part record;
    v_dropped integer := 0;
BEGIN
    IF p_older_than IS NULL OR p_older_than < interval '0' THEN
        RAISE EXCEPTION 'pgscore.drop_log_partitions: the retention period must be a positive interval (got %)', p_older_than
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_cutoff := now() - p_older_than;
    FOR v_part IN
        SELECT c.relname, to_date(right(c.relname, 8), 'YYYYMMDD') AS day
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'pgscore.prediction_log'::regclass AND c.relname ~ '^prediction_log_[0-9]{8}$'
         ORDER BY 2
    LOOP
        CONTINUE WHEN ((v_part.day + 1)::timestamp AT TIME ZONE 'UTC') > v_cutoff;
        EXECUTE format('DROP TABLE pgscore.%I', v_part.relname);
        v_dropped := v_dropped + 1;
    END LOOP;
    DELETE FROM pgscore.prediction_log_default WHERE logged_at < v_cutoff;
    RETURN v_dropped;
END
$fn$;
COMMENT ON FUNCTION pgscore.drop_log_partitions(interval) IS 'Retention: drop the daily partitions of pgscore.prediction_log wholly older than p_older_than, delete older rows left in the default partition; returns partitions dropped';

SELECT pgscore.create_log_partitions();

-- sql/views/model_versions.sql
/*
 * Every model version with its metadata and whether it is live, without the
 * artifact bytes.
 */
CREATE VIEW pgscore.model_versions AS
SELECT m.model_id, m.name, m.version, m.task, m.estimator, m.feature_names, m.feature_types,
       m.classes, m.env, m.metrics, m.n_train, m.description, m.created_at, m.created_by,
       a.sha256, a.hmac_sha256 IS NOT NULL AS signed,
       coalesce(l.model_id = m.model_id AND l.action <> 'retire', false) AS live,
       CASE WHEN e.bytes IS NOT NULL THEN 'numpy' ELSE 'scikit-learn' END AS engine,
       CASE WHEN e.bytes IS NOT NULL
            THEN format('compiled, equal to scikit-learn on %s rows (max difference %s)', e.checked_rows, e.max_abs_diff)
            ELSE coalesce(e.reason, 'deployed before evaluators existed') END AS engine_note
  FROM pgscore.models m
  JOIN pgscore.artifacts a ON a.model_id = m.model_id
  LEFT JOIN pgscore.evaluators e ON e.model_id = m.model_id
  LEFT JOIN LATERAL (
        SELECT d.model_id, d.action FROM pgscore.deployments d
         WHERE d.model_name = m.name ORDER BY d.deployment_id DESC LIMIT 1) l ON true;
COMMENT ON VIEW pgscore.model_versions IS 'Every model version, its metadata, sha256, whether it is signed and whether it is live';
COMMENT ON COLUMN pgscore.model_versions.live IS 'true for the version the newest deployment row of its name points at (unless that row retires the model)';
COMMENT ON COLUMN pgscore.model_versions.engine IS 'numpy: scored by the evaluator compiled at deploy; scikit-learn: scored by the unpickled estimator';
COMMENT ON COLUMN pgscore.model_versions.engine_note IS 'How the evaluator was checked against scikit-learn, or why the model could not be compiled';

-- sql/views/predictions.sql
/*
 * The audit log with each row's model name and version, for people and BI
 * tools.
 */
CREATE VIEW pgscore.predictions AS
SELECT l.logged_at, m.name AS model, m.version, l.model_id, l.entity_key, l.features, l.score, l.label,
       l.source, l.cause
  FROM pgscore.prediction_log l
  JOIN pgscore.models m ON m.model_id = l.model_id;
COMMENT ON VIEW pgscore.predictions IS 'Every logged prediction with its model name and version';
COMMENT ON COLUMN pgscore.predictions.logged_at IS 'When the prediction was logged (the start of its transaction)';
COMMENT ON COLUMN pgscore.predictions.model IS 'Model name';
COMMENT ON COLUMN pgscore.predictions.version IS 'The model version that produced this prediction';
COMMENT ON COLUMN pgscore.predictions.entity_key IS 'The entity scored, where known (p_key, the batch key, the profile key)';
COMMENT ON COLUMN pgscore.predictions.features IS 'The feature vector, in the model''s feature order (NaN for missing)';
COMMENT ON COLUMN pgscore.predictions.score IS 'Positive-class probability, top-class probability or regression value';
COMMENT ON COLUMN pgscore.predictions.label IS 'The predicted label, for pgscore.predict';
COMMENT ON COLUMN pgscore.predictions.source IS 'query, batch, trigger or retry';
COMMENT ON COLUMN pgscore.predictions.cause IS 'What asked for it: user, application, backend, statement time; the events for triggers';

-- sql/triggers/query_log_flush.sql
/*
 * Deferred to commit, so the query path's buffered audit rows are written
 * in the transaction that made the predictions.
 */
CREATE CONSTRAINT TRIGGER log_pending_flush AFTER INSERT ON pgscore.log_pending
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION pgscore.flush_query_log();

CREATE TRIGGER evaluators_immutable BEFORE UPDATE ON pgscore.evaluators
    FOR EACH ROW EXECUTE FUNCTION pgscore.forbid_mutation();
