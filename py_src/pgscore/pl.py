"""Entry points for the PL/Python shims in plpython/: each takes plpy (and GD/TD) as arguments.

Nothing here imports plpy; errors from the core are PgscoreError and are
turned into SQL errors with their SQLSTATE by `raising_sql_errors`.
"""

from __future__ import annotations

import functools
import json
import os

from pgscore.errors import READ_ONLY, PgscoreError, read_only_refusal, server_message, spi_fields
from pgscore.quoting import in_server_encoding

# One native thread per backend: OpenBLAS, OpenMP and MKL read these when numpy or scikit-learn first
# loads them, which in a backend is after this module (every shim imports it first). With several
# sessions, each with a pool of threads on the server's cores, a trigger workload dropped from 1,300
# to 10 transactions/s. A server started with its own values keeps them.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


def raising_sql_errors(fn):
    """Re-raise PgscoreError as plpy.error with its SQLSTATE, detail and hint; and an error of
    PostgreSQL's own that a query inside raised (a deadlock, a lock or statement timeout, a full disk, a
    constraint of the caller's table) the same way, its SQLSTATE, detail and hint kept: PL/Python would
    print it as 'spiexceptions.DeadlockDetected: deadlock detected', and an application's log is where
    that is read."""

    @functools.wraps(fn)
    def wrapper(plpy, *args, **kwargs):
        plpy = in_server_encoding(plpy)  # (PL/Python passes a statement's UTF-8 bytes, whatever the database's)
        try:
            return fn(plpy, *args, **kwargs)
        except PgscoreError as e:
            _raise(plpy, e)
        except ImportError as e:  # the environment the server imports lost a library (moved, deleted)
            from pgscore.environment import missing_library

            found = missing_library(e)
            if found is None:
                raise
            _raise(plpy, found)
        except plpy.SPIError as e:
            f = spi_fields(e)
            if not f["sqlstate"]:
                raise
            err = _sql_error(plpy.Error)(server_message(f.pop("message")))
            for k, v in f.items():  # the SQLSTATE, detail, hint and the constraint, table... it names
                if v is not None:
                    setattr(err, k, v)
            raise err from None

    return wrapper


def writing(what):
    """A rescoring function called in SQL (the app role's retry_failed, refresh_windows, backfill_rescoring,
    rescore_profiles; and since session 66 register_model, attach_rescoring, resign_models) on a standby or in a read-only transaction: pgscore's 25006 naming `what` it writes, a standby
    where it is one, with the hint to run it on the primary (errors.read_only_refusal), where PostgreSQL's bare one
    said 'cannot execute INSERT in a read-only transaction' (or SELECT FOR NO KEY UPDATE), no hint; a superuser's
    CLI already had pgscore's from counter_code, a PgscoreError with its hint, which passes (review r5 of
    session 64). A call that writes nothing (nothing queued, no window stale) still succeeds there: the refusal is
    of the write met, not asked up front."""

    def wrap(fn):
        @functools.wraps(fn)
        def wrapper(plpy, *args, **kwargs):
            try:
                return fn(plpy, *args, **kwargs)
            except plpy.SPIError as e:
                if spi_fields(e)["sqlstate"] != READ_ONLY:
                    raise
            raise read_only_refusal(plpy, what)

        return wrapper

    return wrap


def _raise(plpy, e: PgscoreError):
    """Raise e as the SQL error it describes. PL/Python puts the name of an uncaught exception's class
    before its message, with the module where it is not builtins ('plpy.Error: there is no model ...'):
    raised as an instance of plpy.Error's subclass named pgscore, it reads 'pgscore: there is no model ...'.
    PL/Python takes the SQLSTATE, detail, hint and the object's names (the table, the constraint... of an
    error of PostgreSQL's that pgscore raises again) from the attributes plpy.error would set."""
    err = _sql_error(plpy.Error)(e.message)
    for k, v in e.fields().items():  # a None would be printed as the word "None"
        if k != "message":
            setattr(err, k, v)
    raise err from None


@functools.cache
def _sql_error(base):
    return type("pgscore", (base,), {"__module__": "builtins"})


@raising_sql_errors
def validate_environment(plpy):
    from pgscore.environment import report
    from pgscore.serving import signing_key

    info = report(check=True)
    try:  # the server's own view: its environment decides whether artifacts are verified before unpickling
        info["signing"] = "on" if signing_key() else "off"
    except PgscoreError as e:
        info["signing"] = f"broken: {e}"
    return json.dumps(info)


def server_python():
    """pgscore.server_python (health()'s server_python check), once pgscore.pl imported: None, or why a new
    session would not import it. (review r2) A session that imported it before (a scraper's lasting connection) is
    answered by sys.modules: an environment removed or moved since fails every new session while this one said ok."""
    path = __file__
    return None if os.path.exists(path) else f"its module's file {path} is gone since this session imported it"


@raising_sql_errors
def cached_models(plpy, GD) -> list:
    """pgscore.cached_models (session 70, h4): the versions this backend keeps loaded, the first let go first (as
    Runtime.load lets them go past pgscore.model_cache), each with its footprint as the cache counts it. This
    backend's alone: another backend's Python is its own, which no SQL reaches. Imports nothing new (a session
    that scored nothing has no runtime: no row)."""
    rt = GD.get("pgscore.runtime")
    if rt is None:
        return []
    return [(m.name, m.version, m.model_id, m.engine, int(getattr(m, "footprint", 0) or 0), rank)
            for rank, m in enumerate(list(rt.models.values()), 1)]


@raising_sql_errors
def load_model(plpy, GD, model_id):
    """pgscore.load_model: runs as its owner, so that only it reads artifact and evaluator bytes."""
    if model_id is None:
        raise PgscoreError("pgscore.load_model: the model_id must not be NULL", sqlstate="22004")
    return _runtime(plpy, GD).load_as_owner(model_id).engine


@raising_sql_errors
def signing_on(plpy, GD) -> bool:
    """pgscore.signing_on: whether this server signs and verifies models (a key in its environment)."""
    from pgscore.serving import signing_key

    return signing_key() is not None


@raising_sql_errors
def model_name_hint(plpy, name) -> str:
    """pgscore.model_name_hint: the hint of a SQL function's "there is no model 'teir'", as scoring gives it (the
    name it looks like a typo for, if one does; where the models are listed)."""
    from pgscore.serving import unknown_model_hint

    return unknown_model_hint(plpy, name)


@raising_sql_errors
def category_code(plpy, GD, model, feature, word, version=None, padded=False):
    """pgscore.category_code(model, feature, word, version): the code of a word of one of the live version's text
    features (migration 0123), or of the version `version` pins (migration 0127, as score's p_version), -1 for a
    word it does not know, NULL for NULL: a float8[]'s element, in SQL. `padded`: the word of a char(n) (the
    bpchar form, migration 0127), as PostgreSQL gives it blank-padded."""
    from pgscore.errors import InvalidModel

    if feature is None:
        raise InvalidModel("the feature is NULL", sqlstate="22004")
    # (the live or pinned version as the row functions resolve it: once a statement, then kept for it)
    return _runtime(plpy, GD).model(model, version).category_code(feature, word, padded)


def _runtime(plpy, GD):
    from pgscore.serving import Runtime

    return Runtime.get(plpy, GD)


# the three row functions are the hot path: a few microseconds each, so no extra layers. `by_name`: the jsonb
# form's shims (plpython/*_by_name.py) pass True, for a NULL's error: a NULL of either type reaches Python as None
@raising_sql_errors
def score(plpy, GD, model, features, version=None, key=None, by_name=False):
    rt = GD.get("pgscore.runtime") or _runtime(plpy, GD)
    m = rt.model(model, version)
    x = m.vector(features, by_name)
    if m.multiclass:  # logged with its predicted class, as predict logs it (one evaluation for both)
        label, s = m.predict_row(x)
        rt.log.record(m.model_id, key, x, s, label)
        return s
    s = m.score_row(x)
    rt.log.record(m.model_id, key, x, s, None)
    return s


@raising_sql_errors
def predict(plpy, GD, model, features, version=None, key=None, by_name=False):
    rt = GD.get("pgscore.runtime") or _runtime(plpy, GD)
    m = rt.model(model, version)
    x = m.vector(features, by_name)
    label, s = m.predict_row(x)
    rt.log.record(m.model_id, key, x, s, label)
    return label


@raising_sql_errors
def predict_proba(plpy, GD, model, features, version=None, key=None, by_name=False):
    rt = GD.get("pgscore.runtime") or _runtime(plpy, GD)
    m = rt.model(model, version)
    x = m.vector(features, by_name)
    p = m.proba_row(x)
    if m.multiclass:  # the top class's probability and the class predict gives (label_row)
        rt.log.record(m.model_id, key, x, max(p), m.label_row(x, p))
    else:
        rt.log.record(m.model_id, key, x, p[1] if m.task == "binary" else max(p), None)
    return p


@raising_sql_errors
def flush_query_log(plpy, GD, TD):
    rt = GD.get("pgscore.runtime")
    if rt is not None:
        rt.log.at_commit()
    else:  # a new backend cannot have buffered anything: just clear the marker
        plpy.execute("DELETE FROM pgscore.log_pending p WHERE p.xid OPERATOR(pg_catalog.=) "
                     "pg_catalog.pg_current_xact_id()")
    return None


@raising_sql_errors
def batch_chunks(plpy, GD, model, query, version, chunk_size, log, search_path=..., literal=False, doubles=False,
                 errors=False):
    # ...: called by a schema before 0008, whose batch_chunks runs in the caller's search_path already;
    # the scores as raw doubles with `doubles` (0013 on), as one float8[] literal with `literal` (0010-0012),
    # else as a list of floats (before). With `errors` (0016 on) a third column, NULL but in a last row
    # that carries the error which stopped the run, for predict_batch to raise as its own
    # (pgscore.batch_error): PL/Python reports an error raised while it iterates as "error fetching next
    # item from iterator", the message in DETAIL, and prefixes every other with its exception class
    from pgscore import batch, pgarray

    def row(keys, scores):
        out = keys, (pgarray.doubles(scores) if doubles else pgarray.literal(scores) if literal else scores.tolist())
        return (*out, None) if errors else out

    try:
        m = _runtime(plpy, GD).resolve(model, version)
        chunks = batch.query_chunks(plpy, GD, m, query, chunk_size, log, search_path)  # checks the query first
        # the first chunk is scored here: without `errors`, its errors (the usual ones: a wrong shape, a
        # NULL) are then the function's own, not the iterator's
        first = next(chunks, None)
    except (PgscoreError, plpy.SPIError) as e:
        if not errors:
            raise
        return [(None, None, _error_row(e))]

    def rows():
        if first is None:
            return
        yield row(*first)
        try:
            for keys, scores in chunks:
                yield row(keys, scores)
        except (PgscoreError, plpy.SPIError) as e:
            if errors:
                yield None, None, _error_row(e)
            elif isinstance(e, PgscoreError):
                _raise(plpy, e)
            else:
                raise

    return rows()


@raising_sql_errors
def batch_sql(plpy, GD, model, query, version, chunk_size, log, search_path):
    """predict_batch's statement for a model SQL scores: (statement, version, error), the statement NULL
    where the chunks must score (another model); the version is the one resolved now, for the chunks to
    use if the statement fails. An error is returned (as batch_chunks returns it) for predict_batch to
    raise with batch_error, its message alone, as it raises the chunks' errors."""
    from pgscore import batch

    try:
        m = _runtime(plpy, GD).resolve(model, version)
        if log is None:
            raise PgscoreError("p_log must not be NULL", sqlstate="22004")
        return [(batch.query_statement(plpy, m, query, chunk_size, log, search_path), m.version, None)]
    except (PgscoreError, plpy.SPIError) as e:
        return [(None, None, _error_row(e))]


@raising_sql_errors
def batch_row(plpy, GD, model, version, key, image):
    from pgscore import batch

    return batch.row_score(plpy, _runtime(plpy, GD).resolve(model, version), key, image)


def _error_row(e) -> str:
    """A PgscoreError or a PL/Python SPIError as the JSON pgscore.batch_error raises."""
    # (with the names of the object it is about: the table and constraint of a violation, say)
    fields = e.fields() if isinstance(e, PgscoreError) else spi_fields(e)  # a query failed: PostgreSQL's own
    return json.dumps({k: v for k, v in fields.items() if v is not None})


@raising_sql_errors
def score_chunk(plpy, GD, model, table, key, into, after, chunk_size, version, log, label_into=None,
                scored_at_into=None):
    # label_into: p_label_into (0115 on; None from the shim of a schema before it); scored_at_into: p_scored_at_into
    # (0130 on)
    from pgscore import batch

    m = _runtime(plpy, GD).resolve(model, version)
    n, last = batch.table_chunk(plpy, GD, m, table, key, into, after, chunk_size, log, label_into, scored_at_into)
    if log and n:  # where m is the live version, its shadows score the chunk's rows too
        batch.shadow_chunk(plpy, GD, m, table, key, after, last, n, into, label_into)
    return [(n, last, m.version)]


# @C and @V: ", reason" and ", $4" where pgscore.models has the column (migration 0029), else nothing; @T (with @C)
# the text_categories of the metadata where it has that column (0123)
_INSERT_MODEL = ("INSERT INTO pgscore.models (name, version, task, estimator, feature_names, feature_types, "
                 "classes, env, metrics, n_train, description@C) SELECT $1, $2, j->>'task', j->>'estimator', "
                 "ARRAY(SELECT jsonb_array_elements_text(j->'feature_names')), "
                 "ARRAY(SELECT jsonb_array_elements_text(j->'feature_types')), "
                 "NULLIF(j->'classes', 'null'::jsonb), j->'env', coalesce(NULLIF(j->'metrics', 'null'::jsonb), '{}'), "
                 "(j->>'n_train')::bigint, j->>'description'@V@T FROM (SELECT $3::jsonb AS j) s RETURNING model_id")
_INSERT_BASELINES = ("INSERT INTO pgscore.baselines (model_id, kind, feature, position, edges, expected, mean, "
                     "std, min, max, null_rate, n) SELECT $1, b.kind, b.feature, b.position, b.edges, b.expected, "
                     "b.mean, b.std, b.min, b.max, b.null_rate, b.n FROM jsonb_to_recordset($2::jsonb) AS b("
                     "kind text, feature text, position int, edges float8[], expected float8[], mean float8, "
                     "std float8, min float8, max float8, null_rate float8, n bigint)")


def _first(plpy, sql, args):
    """The first row's first value of `sql` run with text `args` ($1, $2...), or None (schema.lock_name's way)."""
    rows = plpy.execute(plpy.prepare(sql, ["text"] * len(args)), list(args)) if args else plpy.execute(sql)
    return next(iter(rows[0].values())) if rows else None


@raising_sql_errors
@writing("pgscore.register_model writes the registry")
def register_model(plpy, GD, name, artifact, sha, meta, baselines, activate, reason, evaluator=None,
                   evaluator_meta=None):
    from pgscore import artifacts, schema, serving
    from pgscore.errors import ArtifactError, InvalidModel

    serving.check_name(name)
    if artifact is None or not sha or meta is None:
        raise InvalidModel("register_model needs the artifact bytes, their sha256 and the metadata",
                           sqlstate="22004")
    data = bytes(artifact)
    if artifacts.sha256(data) != sha:
        raise ArtifactError(f"model {name}: the artifact does not match the sha256 sent with it",
                            detail="the bytes were changed or truncated on the way")
    key = serving.signing_key()
    # versions number 1, 2, 3... per name; concurrent deploys of one name (and retires) queue here, on the name's
    # row of pgscore.model_locks, which only pgscore_admin may lock (0043 on; before, an advisory lock, which a
    # login granted nothing could take and hold)
    schema.lock_name(lambda sql, args: _first(plpy, sql, args), name, "$1")
    version = plpy.execute(plpy.prepare("SELECT coalesce(max(version), 0) + 1 AS v FROM pgscore.models "
                                        "WHERE name = $1", ["text"]), [name])[0]["v"]
    # the reason goes with the version too, live or not (a schema before 0029 has no column for it: the
    # migrations' tests deploy with this code at every revision)
    with_reason = bool(plpy.execute(schema.VERSION_REASON))
    words = bool(plpy.execute(schema.TEXT_CATEGORIES))
    insert = _INSERT_MODEL.replace("@C", (", reason" if with_reason else "") + (", text_categories" if words else ""))
    insert = insert.replace("@V", ", $4" if with_reason else "").replace(
        "@T", ", NULLIF(j->'text_categories', 'null'::jsonb)" if words else "")
    types, args = ["text", "int4", "text"], [name, version, meta]
    if with_reason:
        types, args = types + ["text"], args + [reason]
    model_id = plpy.execute(plpy.prepare(insert, types), args)[0]["model_id"]
    # signed as this name's version: its rows copied into another model or version do not verify there
    signature = artifacts.sign(key, "artifact", name, version, sha) if key else None
    plpy.execute(plpy.prepare("INSERT INTO pgscore.artifacts (model_id, bytes, sha256, hmac_sha256) "
                              "VALUES ($1, $2, $3, $4)", ["int8", "bytea", "text", "text"]),
                 [model_id, data, sha, signature])
    if evaluator_meta is not None:
        _insert_evaluator(plpy, name, version, model_id, evaluator, json.loads(evaluator_meta), key)
    if baselines:
        plpy.execute(plpy.prepare(_INSERT_BASELINES, ["int8", "text"]), [model_id, baselines])
    if activate is None or activate:
        plpy.execute(plpy.prepare("INSERT INTO pgscore.deployments (model_name, model_id, action, reason) "
                                  "VALUES ($1, $2, 'deploy', $3)", ["text", "int8", "text"]),
                     [name, model_id, reason])
        if version > 1:  # (the wired profiles keep the version before's score: activate's NOTICE, migration 0131)
            for w in plpy.execute(plpy.prepare(_WIRINGS_OF, ["text"]), [name]):
                plpy.notice(f"the profiles of {w['profile_table']} (wired from {w['event_table']}) keep the scores "
                            "another version gave them until their next event",
                            hint=f"rescore them with the live version: SELECT * FROM pgscore.rescore_profiles("
                                 f"{w['lit']}) (pgscore rescore --table {w['event_table']})")
    return [(model_id, version)]


# the wirings of a model, as activate's NOTICE names them
_WIRINGS_OF = ("SELECT w.event_table, w.profile_table, pg_catalog.quote_literal(w.event_table) AS lit "
               "FROM pgscore.rescoring w WHERE w.model_name OPERATOR(pg_catalog.=) $1 ORDER BY w.rescoring_id")


def _insert_evaluator(plpy, name, version, model_id, data, meta, key):
    from pgscore import artifacts
    from pgscore.errors import ArtifactError

    sha = signature = None
    if data is not None:
        data = bytes(data)
        sha = artifacts.sha256(data)
        if sha != meta.get("sha256"):
            raise ArtifactError(f"model {name}: the evaluator does not match the sha256 sent with it")
        signature = artifacts.sign(key, "evaluator", name, version, sha) if key else None
    plpy.execute(plpy.prepare(
        "INSERT INTO pgscore.evaluators (model_id, format, bytes, sha256, hmac_sha256, checked_rows, max_abs_diff, "
        "reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        ["int8", "text", "bytea", "text", "text", "int4", "float8", "text"]),
        [model_id, meta.get("format") or "none", data, sha, signature, meta.get("checked_rows"),
         fifteen_digits(meta.get("max_abs_diff")), meta.get("reason")])


def fifteen_digits(x):
    """`x` rounded to 15 significant digits: model_versions.engine_note prints it with format('%s'), as the
    reading session's extra_float_digits says, and a float8 of 15 digits or fewer prints the same under any
    setting from 0 (15 digits) to 3 (the shortest that reads back, as Python's repr): 2.220446049250313e-16
    read `...(max difference 2.22044604925031e-16)` under 0 and `2.220446049250313e-16` under 1 to 3."""
    return None if x is None else float(format(float(x), ".15g"))


@raising_sql_errors
@writing("pgscore.attach_rescoring writes the wiring (pgscore.rescoring and its triggers)")
def attach_rescoring(plpy, GD, *args):
    from pgscore import rescoring

    return rescoring.attach(plpy, GD, *args)


@raising_sql_errors
def rescore_events(plpy, GD, TD):
    from pgscore import rescoring

    return rescoring.on_insert(plpy, GD, TD)


@raising_sql_errors
def rescore_replicated(plpy, GD, TD):
    from pgscore import rescoring

    return rescoring.on_insert(plpy, GD, TD, replicated=True)


@raising_sql_errors
@writing("pgscore.retry_failed writes the profiles it rescores and pgscore.error_queue")
def retry_failed(plpy, GD, model, limit):
    from pgscore import rescoring

    return rescoring.retry(plpy, GD, model, limit)


@raising_sql_errors
def score_table_commit(plpy):
    from pgscore import batch

    batch.commit_for_score_table(plpy)


@raising_sql_errors
@writing("pgscore.refresh_windows writes the counters it recounts and the profiles' scores")
def refresh_windows(plpy, GD, event_table, limit):
    from pgscore import rescoring

    return rescoring.refresh(plpy, GD, event_table, limit)


@raising_sql_errors
@writing("pgscore.backfill_rescoring writes the counters it recounts and the profiles' scores")
def backfill_rescoring(plpy, GD, event_table):
    from pgscore import rescoring

    return rescoring.backfill(plpy, GD, event_table)


@raising_sql_errors
@writing("pgscore.rescore_profiles writes the profiles' scores")
def rescore_profiles(plpy, GD, event_table, profile_table, after, limit):
    from pgscore import rescoring

    return rescoring.rescore_profiles(plpy, GD, event_table, profile_table, after, limit)


# the rows signed under the first scheme (the bytes alone), and one row's bytes: a query per table (no table name
# formatted into SQL)
_OLD_SIGNED = {
    "artifact": "SELECT a.model_id, m.name, m.version, a.hmac_sha256 FROM pgscore.artifacts a "
                "JOIN pgscore.models m ON m.model_id OPERATOR(pg_catalog.=) a.model_id "
                "WHERE a.hmac_sha256 OPERATOR(pg_catalog.!~) '^v2:' ORDER BY m.name, m.version",
    "evaluator": "SELECT e.model_id, m.name, m.version, e.hmac_sha256 FROM pgscore.evaluators e "
                 "JOIN pgscore.models m ON m.model_id OPERATOR(pg_catalog.=) e.model_id "
                 "WHERE e.hmac_sha256 OPERATOR(pg_catalog.!~) '^v2:' ORDER BY m.name, m.version",
}
_SIGNED_BYTES = {
    "artifact": "SELECT a.bytes, a.sha256 FROM pgscore.artifacts a WHERE a.model_id OPERATOR(pg_catalog.=) $1",
    "evaluator": "SELECT e.bytes, e.sha256 FROM pgscore.evaluators e WHERE e.model_id OPERATOR(pg_catalog.=) $1",
}
_RESIGN = {  # only the signature changes, and only from the first scheme's (the registry's trigger allows no other)
    "artifact": "UPDATE pgscore.artifacts SET hmac_sha256 = $2 WHERE model_id OPERATOR(pg_catalog.=) $1 "
                "AND hmac_sha256 OPERATOR(pg_catalog.=) $3",
    "evaluator": "UPDATE pgscore.evaluators SET hmac_sha256 = $2 WHERE model_id OPERATOR(pg_catalog.=) $1 "
                 "AND hmac_sha256 OPERATOR(pg_catalog.=) $3",
}


@raising_sql_errors
@writing("pgscore.resign_models writes the models' signatures")
def resign_models(plpy, GD):
    """pgscore.resign_models: every artifact and evaluator signed under the first scheme (the HMAC of its bytes
    alone), whose signature verifies with the server's key, signed again bound to its model and version. Those
    that do not verify are left as they are (loading refuses them) and named. With none, no rows, also on a
    server without a key (which refuses only where there is something to verify and sign)."""
    from pgscore import artifacts, serving
    from pgscore.errors import ArtifactError

    old = {kind: plpy.execute(_OLD_SIGNED[kind]) for kind in artifacts.KINDS}
    if not any(len(rows) for rows in old.values()):  # nothing to re-sign, with a key or without one
        return []
    key = serving.signing_key()
    if key is None:
        raise PgscoreError("pgscore.resign_models: this server has no signing key: there is nothing to verify the "
                           "old signatures with, nor to sign them", sqlstate="55000",
                           hint="start the server with the key the models were signed with (PGSCORE_SIGNING_KEY_FILE "
                                "in its environment; pgscore db start --signing-key FILE), then call it again")
    out = []
    for kind in artifacts.KINDS:
        for r in old[kind]:
            row = plpy.execute(plpy.prepare(_SIGNED_BYTES[kind], ["int8"]), [r["model_id"]])[0]
            label = f"{r['name']} v{r['version']}" + (" (evaluator)" if kind == "evaluator" else "")
            try:
                artifacts.verify(label, bytes(row["bytes"]), row["sha256"], r["hmac_sha256"], key)
            except ArtifactError as e:
                out.append((r["name"], r["version"], kind, False, e.message))
                continue
            signature = artifacts.sign(key, kind, r["name"], r["version"], row["sha256"])
            plpy.execute(plpy.prepare(_RESIGN[kind], ["int8", "text", "text"]),
                         [r["model_id"], signature, r["hmac_sha256"]])
            out.append((r["name"], r["version"], kind, True, None))
    return out
