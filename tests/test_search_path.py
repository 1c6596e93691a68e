"""The row functions run with the caller's search_path (migration 0019): a caller whose path puts a schema of
look-alikes ahead of pg_catalog, and temporary tables named like pgscore's, changes nothing they do.

Every trap records that it fired in a sequence (nextval is not undone by a rollback, so a trap whose error
some code caught and handled still shows) and then raises. Each scenario starts a new backend, so the model
is loaded (pgscore.load_model, the registry's plans, the artifact checks) under the traps too."""

import io
import json

import numpy as np
import psycopg2
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from helpers import query
from pgscore import auditlog, datasets, registry

PATH = "trap, pg_catalog, public"
TABLES = ("deployments", "models", "evaluators", "artifacts", "log_pending", "prediction_log")
TYPES = ("float8", "int8", "int4", "jsonb", "text", "bytea", "name", "bool", "timestamptz", "date", "interval")
FUNCTIONS = {  # what the row path's statements call, by the names they would resolve to unqualified
    "current_setting(text)": "text", "current_setting(text, boolean)": "text",
    "json_build_object(text, text, text, name, text, text, text, integer, text, timestamptz)": "json",
    "json_strip_nulls(json)": "json", "jsonb_strip_nulls(jsonb)": "jsonb",
    "pg_backend_pid()": "integer", "statement_timestamp()": "timestamptz", "now()": "timestamptz",
    "clock_timestamp()": "timestamptz", "transaction_timestamp()": "timestamptz",
    "unnest(text[])": "SETOF text", "unnest(float8[])": "SETOF float8", "unnest(bigint[])": "SETOF bigint",
    "unnest(integer[])": "SETOF integer", "unnest(anyarray)": "SETOF anyelement",
    "to_regprocedure(text)": "regprocedure", "has_function_privilege(oid, text)": "boolean",
    "has_function_privilege(regprocedure, text)": "boolean", "float8_array(bytea)": "float8[]",
    "load_model(bigint)": "text", "pg_current_xact_id()": "xid8", "txid_current()": "bigint",
    "jsonb(text)": "jsonb", "text(json)": "text", "text(jsonb)": "text", "int4(bigint)": "integer",
    "array_length(anyarray, integer)": "integer", "cardinality(anyarray)": "integer",
    "eq_text(text, text)": "boolean", "eq_int4(integer, integer)": "boolean", "eq_int8(bigint, bigint)": "boolean",
    "eq_int84(bigint, integer)": "boolean", "eq_xid8(xid8, xid8)": "boolean",
    "arith_84(bigint, integer)": "bigint", "arith_88(bigint, bigint)": "bigint",
    "arith_44(integer, integer)": "integer", "cmp_88(bigint, bigint)": "boolean", "length(text)": "integer",
    "cmp_44(integer, integer)": "boolean", "concat_text(text, text)": "text",
}
OPERATORS = [("=", "text", "text", "eq_text"), ("=", "integer", "integer", "eq_int4"),
             ("=", "bigint", "bigint", "eq_int8"), ("=", "bigint", "integer", "eq_int84"),
             ("=", "xid8", "xid8", "eq_xid8"), ("||", "text", "text", "concat_text"),
             *[(op, "bigint", "bigint", "cmp_88") for op in ("<", ">", "<=", ">=", "<>")],
             *[(op, "integer", "integer", "cmp_44") for op in ("<", ">", "<=", ">=", "<>")],
             *[(op, left, right, fn) for op in "-*+/%"
               for left, right, fn in [("bigint", "integer", "arith_84"), ("bigint", "bigint", "arith_88"),
                                       ("integer", "integer", "arith_44")]]]

# and what the rescoring trigger's statements compare and add (a function of its own each, made by _plant)
MORE_OPERATORS = [("+", "float8", "float8", "float8"), ("+", "integer", "bigint", "bigint"),
                  ("<=", "bigint", "integer", "boolean"),
                  *[(op, "float8", "float8", "boolean") for op in ("=", "<", ">", "<=", ">=", "<>")],
                  *[(op, "timestamptz", "timestamptz", "boolean") for op in ("=", "<", ">", "<=", ">=")],
                  ("-", "timestamptz", "interval", "timestamptz"), ("=", "tid", "tid", "boolean"),
                  ("=", "xid", "xid", "boolean"), ("=", "date", "date", "boolean"), ("=", "oid", "oid", "boolean"),
                  ("<>", '"char"', '"char"', "boolean"),
                  ("=", '"char"', '"char"', "boolean")]


def _trap_body(name):
    return ("LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_catalog.nextval('trap.fired'); "
            f"RAISE EXCEPTION 'TRAP %', '{name}'; END $$")


def _plant(conn):
    """The trap schema (created by the owner, whose own path does not include it)."""
    ddl = ["CREATE SCHEMA trap", "CREATE SEQUENCE trap.fired",
           f"CREATE FUNCTION trap.fire(text) RETURNS boolean {_trap_body('type')}"]
    for sig, returns in FUNCTIONS.items():
        ddl.append(f"CREATE FUNCTION trap.{sig} RETURNS {returns} {_trap_body(sig.split('(')[0])}")
    for op, left, right, fn in OPERATORS:
        ddl.append(f"CREATE OPERATOR trap.{op} (LEFTARG = {left}, RIGHTARG = {right}, FUNCTION = trap.{fn})")
    for i, (op, left, right, returns) in enumerate(MORE_OPERATORS):
        ddl.append(f"CREATE FUNCTION trap.op_{i}({left}, {right}) RETURNS {returns} {_trap_body(op)}")
        ddl.append(f"CREATE OPERATOR trap.{op} (LEFTARG = {left}, RIGHTARG = {right}, FUNCTION = trap.op_{i})")
    for t in TABLES:
        ddl.append(f"CREATE TABLE trap.{t} (LIKE pgscore.{t})")
    for t in TYPES:  # a cast to the unqualified name (and its array) would run the check
        ddl.append(f"CREATE DOMAIN trap.{t} AS pg_catalog.{t} CHECK (trap.fire('{t}'))")
    for statement in ddl:
        query(conn, statement)


def _trapped(url):
    """A new backend with temporary tables named like pgscore's and the trap schema first on its path."""
    c = psycopg2.connect(url)
    c.autocommit = True
    for t in TABLES:
        query(c, f"CREATE TEMP TABLE {t} (LIKE pgscore.{t})")
    query(c, f"SET search_path = {PATH}")
    return c


def _fired(conn):
    (value, called), = query(conn, "SELECT last_value, is_called FROM trap.fired")
    return value if called else 0


def _error(conn, sql, params=None):
    with pytest.raises(psycopg2.Error) as e:
        query(conn, sql, params)
    return e.value


@pytest.fixture(scope="module")
def trained():
    """The models the traps' database deploys: churn (binary, v1 and v2) and multi (3 classes)."""
    X, Y, names = datasets.churn(300, seed=2)
    Y3 = (X[:, 0] > np.median(X[:, 0])).astype(int) + Y
    fitted = {"churn": make_pipeline(StandardScaler(), LogisticRegression()).fit(X, Y),
              "churn2": make_pipeline(StandardScaler(), LogisticRegression(C=0.1)).fit(X, Y),
              "multi": make_pipeline(StandardScaler(), LogisticRegression()).fit(X, Y3)}
    return fitted, X, Y, Y3, names


@pytest.fixture
def trapped(built_template, clone_of, trained):
    """(url, owner connection, the fitted models) with churn (binary, v1 and v2), multi (3 classes) and
    gone (retired) deployed and the traps planted: a clone of a template built so once, not for each test."""
    fitted, X, Y, Y3, names = trained

    def build(url):
        registry.deploy(url, "churn", fitted["churn"], X, Y, feature_names=names)
        registry.deploy(url, "churn", fitted["churn2"], X, Y, feature_names=names)
        registry.deploy(url, "multi", fitted["multi"], X, Y3, feature_names=names)
        registry.deploy(url, "gone", fitted["churn"], X, Y, feature_names=names)
        registry.retire(url, "gone")
        planter = psycopg2.connect(url)
        planter.autocommit = True
        try:
            _plant(planter)
        finally:
            planter.close()

    db_url = clone_of(built_template(build))
    owner = psycopg2.connect(db_url)
    owner.autocommit = True
    yield db_url, owner, fitted, X, names
    owner.close()


def test_the_traps_fire_when_a_name_is_not_qualified(trapped):
    """The harness itself: each kind of look-alike is what an unqualified name resolves to."""
    url, owner, *_ = trapped
    c = _trapped(url)
    for sql in ["SELECT current_setting('search_path')", "SELECT 'x'::text", "SELECT '{1}'::float8[]",
                "SELECT 'x'::pg_catalog.text = 'y'::pg_catalog.text", "SELECT 2::pg_catalog.int8 - 1",
                "SELECT 2::pg_catalog.int8 > 1::pg_catalog.int8", "SELECT now()", "SELECT unnest(ARRAY[1])",
                "SELECT pg_current_xact_id() OPERATOR(pg_catalog.=) pg_current_xact_id()"]:
        assert "TRAP" in _error(c, sql).pgerror, sql
    assert _fired(owner) == 9
    assert query(c, "SELECT count(*) FROM models") == [(0,)]  # the temporary table
    assert query(owner, "SELECT count(*) FROM pgscore.models") == [(4,)]
    c.close()


def test_the_row_functions_pick_up_no_look_alike(trapped):
    url, owner, fitted, X, names = trapped
    x = X[0].tolist()
    js = json.dumps(dict(zip(names, x)))
    n = auditlog.FLUSH_AT

    def logged():
        return query(owner, "SELECT count(*) FROM pgscore.prediction_log")[0][0]

    def scenario(run):
        before = logged()
        c = _trapped(url)
        try:
            out = run(c)
        finally:
            c.close()
        return out, logged() - before

    # the live version, a pinned one, and a multiclass model by name (predict, predict_proba and score)
    rows, count = scenario(lambda c: query(
        c, "SELECT pgscore.score('churn', %s::pg_catalog.float8[], NULL, 'k'), "
           "pgscore.score('churn', %s::pg_catalog.float8[], 1), pgscore.predict_proba('churn', %s::pg_catalog.jsonb, 2), "
           "pgscore.score('churn', %s::pg_catalog.jsonb), pgscore.predict_proba('churn', %s::pg_catalog.float8[], 1)",
        (x, x, js, js, x)))
    got, v1, v2, by_name, p1 = rows[0]
    want1, want2 = fitted["churn"].predict_proba(X[:1])[0], fitted["churn2"].predict_proba(X[:1])[0]
    assert abs(got - want2[1]) < 1e-12 and abs(v1 - want1[1]) < 1e-12 and np.allclose(v2, want2, rtol=0, atol=1e-12)
    assert abs(by_name - want2[1]) < 1e-12 and np.allclose(p1, want1, rtol=0, atol=1e-12) and count == 5
    rows, count = scenario(lambda c: query(
        c, "SELECT pgscore.predict('multi', %s::pg_catalog.jsonb), pgscore.predict_proba('multi', %s::pg_catalog.jsonb), "
           "pgscore.score('multi', %s::pg_catalog.float8[])", (js, js, x)))
    label, proba, score = rows[0]
    want = fitted["multi"].predict_proba(X[:1])[0]
    assert label == str(fitted["multi"].predict(X[:1])[0]) and np.allclose(proba, want, rtol=0, atol=1e-12)
    assert abs(score - want.max()) < 1e-12 and count == 3

    # the errors, with their own SQLSTATE and message (the lookups behind them run under the traps too)
    for sql, state, message in [
            ("SELECT pgscore.score('nope', %s::pg_catalog.float8[])", "42704", "there is no model 'nope'"),
            ("SELECT pgscore.score('churn', %s::pg_catalog.float8[], 9)", "42704",
             "there is no version 9 of model 'churn'"),
            ("SELECT pgscore.predict('gone', %s::pg_catalog.float8[])", "55000",
             "model 'gone' has no live version (it was retired)"),
            ("SELECT pgscore.score(NULL, %s::pg_catalog.float8[])", "22004", "model name is NULL"),
            ("SELECT pgscore.score('churn', %s::pg_catalog.float8[] OPERATOR(pg_catalog.||) 1.0::pg_catalog.float8)",
             "22023", "takes 12 features, got 13")]:
        err, count = scenario(lambda c: _error(c, sql, (x,)))  # noqa: B023 - called at once
        assert err.pgcode == state and message in err.diag.message_primary and count == 0, err.pgerror
    # a pinned version of the retired model still scores; an error first does not spoil the backend
    (p,), = scenario(lambda c: query(c, "SELECT pgscore.score('gone', %s::pg_catalog.float8[], 1)", (x,)))[0]
    assert abs(p - want1[1]) < 1e-12

    def error_then_score(c):
        _error(c, "SELECT pgscore.score('nope', %s::pg_catalog.float8[])", (x,))
        return query(c, "SELECT pgscore.score('churn', %s::pg_catalog.float8[])", (x,))
    assert scenario(error_then_score)[1] == 1

    # the buffer written in the middle of a statement ('insert'), with two models in it
    rows, count = scenario(lambda c: query(
        c, "SELECT count(pgscore.score(CASE WHEN g OPERATOR(pg_catalog.%%) 2 OPERATOR(pg_catalog.=) 0 "
           "THEN 'churn' ELSE 'multi' END, %s::pg_catalog.float8[])) FROM pg_catalog.generate_series(1, %s) g",
        (x, n + 5)))
    assert rows == [(n + 5,)] and count == n + 5

    # two statements in one transaction, the second filling the buffer; then the log written row by row
    # once the transaction asks for its constraints at once
    def two_statements(c):
        query(c, "BEGIN")
        query(c, "SELECT pgscore.score('churn', %s::pg_catalog.float8[])", (x,))
        out = query(c, "SELECT count(pgscore.predict('churn', %s::pg_catalog.float8[])) "
                       "FROM pg_catalog.generate_series(1, %s)", (x, n))
        query(c, "COMMIT")
        return out
    assert scenario(two_statements) == ([(n,)], n + 1)

    def write_through(c):
        query(c, "BEGIN")
        query(c, "SET CONSTRAINTS ALL IMMEDIATE")
        out = query(c, "SELECT count(pgscore.score('churn', %s::pg_catalog.float8[])) "
                       "FROM pg_catalog.generate_series(1, 10)", (x,))
        query(c, "COMMIT")
        return out
    assert scenario(write_through) == ([(10,)], 10)

    # sampling, and a read-only transaction (scored, not logged, with a warning)
    def sampled(c):
        query(c, "SET pgscore.log_queries = '0.5'")
        return query(c, "SELECT count(pgscore.score('churn', %s::pg_catalog.float8[])) "
                        "FROM pg_catalog.generate_series(1, 400)", (x,))
    rows, count = scenario(sampled)
    assert rows == [(400,)] and 100 < count < 300

    def read_only(c):
        query(c, "BEGIN READ ONLY")
        out = query(c, "SELECT pgscore.score('churn', %s::pg_catalog.float8[])", (x,))
        query(c, "COMMIT")
        return out, c.notices
    (rows, notices), count = scenario(read_only)
    assert abs(rows[0][0] - want2[1]) < 1e-12 and count == 0 and any("read-only" in m for m in notices)

    assert _fired(owner) == 0, "a trap fired (and its error was handled somewhere)"
    for t in TABLES:
        assert query(owner, f"SELECT count(*) FROM trap.{t}") == [(0,)], t  # noqa: S608 - fixed names


def test_the_rescoring_trigger_picks_up_no_look_alike(trapped):
    """Events inserted by a session with the traps first on its path and temporary tables named like
    pgscore's are counted and rescored as anywhere else, on every path of the trigger: a linear model
    scored by its statement (one profile without a lock, several after it; COPY), a profile created for
    an event, a NULL key, a tree model scored in Python, a profile queued as missing (and again), a counter
    whose expression calls a function, and a date key (a tree model's, written back by key) kept as text in
    ISO whatever the session's DateStyle. The trigger has a fixed search_path of its own (its SET clause);
    its statements qualify what they name all the same, and run as well without the clause (the second
    round of INSERTs, the clause dropped: all but the counter expression, which is the wiring owner's
    SQL)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from pgscore import sample

    url, owner, fitted, X, names = trapped
    y = (X[:, 0] > np.median(X[:, 0])).astype(int)
    tree = HistGradientBoostingClassifier(max_iter=5, random_state=0).fit(X, y)
    registry.deploy(url, "tree", tree, X, y, feature_names=names)
    registry.deploy(url, "dated", HistGradientBoostingClassifier(max_iter=5).fit(X[:, :1], y), X[:, :1], y,
                    feature_names=[names[0]])
    registry.deploy(url, "one", LogisticRegression().fit(X[:, :1], y), X[:, :1], y, feature_names=[names[0]])
    with owner.cursor() as cur:
        sample.create_tables(cur)
        sample.load_customers(cur, X[:5])
        sample.rescore_complaints(cur)  # churn: counters, a 30-day window, the score in SQL
        sample.create_tables(cur, customers="tcust", complaints="tcomp")
        sample.load_customers(cur, X[:5], customers="tcust")
        sample.rescore_complaints(cur, model="tree", customers="tcust", complaints="tcomp", missing_profile="queue")
    query(owner, f"""CREATE TABLE dprof (d date PRIMARY KEY, {names[0]} float8 NOT NULL DEFAULT 1, n int NOT NULL DEFAULT 0,
                                         score float8, scored_at timestamptz);
                     INSERT INTO dprof (d) VALUES ('2002-03-04'), ('2002-04-03'), ('2002-05-06');
                     CREATE TABLE dev (d date);
                     SELECT pgscore.attach_rescoring('dev', 'dprof', 'd', 'dated', 'score', '{{"n": "count"}}');
                     CREATE TABLE xprof (k int PRIMARY KEY, {names[0]} float8 NOT NULL DEFAULT 1,
                                         kind_chars bigint NOT NULL DEFAULT 0, score float8);
                     INSERT INTO xprof (k) VALUES (1);
                     CREATE TABLE xev (k int, kind text DEFAULT 'billing');
                     SELECT pgscore.attach_rescoring('xev', 'xprof', 'k', 'one', 'score',
                                                     '{{"kind_chars": {{"add": "length(kind)"}}}}', NULL)""")

    before = {t: dict(query(owner, f"SELECT id, support_calls FROM public.{t}")) for t in ("customers", "tcust")}  # noqa: S608
    c = _trapped(url)
    try:
        query(c, "INSERT INTO public.complaints (customer_id) VALUES (1)")  # one profile, no lock first
        query(c, "INSERT INTO public.complaints (customer_id) VALUES (1), (2), (3), (3)")  # locked, in key order
        with c.cursor() as cur:
            cur.copy_expert("COPY public.complaints (customer_id) FROM STDIN", io.StringIO("2\n4\n"))
        query(c, "INSERT INTO public.complaints (customer_id) VALUES (9)")  # created, and queued: its NULLs
        query(c, "INSERT INTO public.complaints (customer_id) VALUES (NULL)")  # kept, rescores nothing
        query(c, "INSERT INTO public.tcomp (customer_id) VALUES (1)")
        query(c, "INSERT INTO public.tcomp (customer_id) VALUES (2), (5), (8)")  # 8 has no profile: queued
        query(c, "INSERT INTO public.xev (k) VALUES (1)")
        query(c, "SET DateStyle = 'SQL, DMY'")
        query(c, "INSERT INTO public.dev (d) VALUES ('2002-03-04'::pg_catalog.date)")
        notices = list(c.notices)
    finally:
        c.close()
    assert _fired(owner) == 0, "a trap fired (and its error was handled somewhere)"
    assert any("have a NULL customer_id" in n for n in notices), notices

    query(owner, "ALTER FUNCTION pgscore.rescore_events() RESET search_path")
    try:
        c = _trapped(url)
        try:
            query(c, "INSERT INTO public.complaints (customer_id) VALUES (5)")
            query(c, "INSERT INTO public.complaints (customer_id) VALUES (1), (4)")
            query(c, "INSERT INTO public.complaints (customer_id) VALUES (10), (NULL)")  # created; a NULL key
            query(c, "INSERT INTO public.tcomp (customer_id) VALUES (3)")
            query(c, "INSERT INTO public.tcomp (customer_id) VALUES (4), (9), (8)")  # 8 queued again
            query(c, "SET DateStyle = 'SQL, DMY'")
            # the wiring read and its statements prepared under the default path, then run under the traps
            # (where format_type would have named the key's type "date", the look-alike)
            query(c, "RESET search_path")
            query(c, "INSERT INTO public.dev (d) VALUES ('2002-04-03'::pg_catalog.date)")
            query(c, f"SET search_path = {PATH}")
            query(c, "INSERT INTO public.dev (d) VALUES ('2002-05-06'::pg_catalog.date)")
        finally:
            c.close()
    finally:
        query(owner, "ALTER FUNCTION pgscore.rescore_events() SET search_path = pg_catalog, pg_temp")
    assert _fired(owner) == 0, "a trap fired without the trigger's SET clause: a name is not qualified"
    for t in TABLES:
        assert query(owner, f"SELECT count(*) FROM trap.{t}") == [(0,)], t  # noqa: S608 - fixed names

    cols = ", ".join(names)
    for table, model, events, want in [
            ("customers", fitted["churn2"], "complaints", {1: 3, 2: 2, 3: 2, 4: 2, 5: 1}),
            ("tcust", tree, "tcomp", {1: 1, 2: 1, 3: 1, 4: 1, 5: 1})]:
        rows = query(owner, f"SELECT id, support_calls, complaints_30d, churn_score, {cols} FROM public.{table} "  # noqa: S608
                            "WHERE churn_score IS NOT NULL ORDER BY id")
        assert {r[0]: r[2] for r in rows} == want, table  # the window counts every event: all are recent
        assert {r[0]: r[1] for r in rows} == {k: before[table][k] + n for k, n in want.items()}, table
        feats = np.array([[np.nan if v is None else v for v in r[4:]] for r in rows], dtype=float)
        np.testing.assert_allclose([r[3] for r in rows], model.predict_proba(feats)[:, 1], rtol=0, atol=1e-9)
        logged = query(owner, "SELECT count(*) FROM pgscore.prediction_log WHERE source = 'trigger' "
                              "AND cause->>'event_table' = %s", (f"public.{events}",))
        assert logged == [({"complaints": 9, "tcomp": 5}[events],)], events  # one a profile a statement
    assert query(owner, "SELECT entity_key, sqlstate, attempts FROM pgscore.error_queue ORDER BY 1, 2") == \
        [("10", "22023", 1), ("8", "P0002", 2), ("9", "22023", 1), ("9", "P0002", 1)]
    assert query(owner, "SELECT support_calls, churn_score FROM public.customers WHERE id = 9") == [(1, None)]
    # the date keys as text in ISO; the expression that calls a function resolved in pg_catalog
    assert query(owner, "SELECT d::text, n, scored_at IS NOT NULL FROM dprof ORDER BY d") == \
        [("2002-03-04", 1, True), ("2002-04-03", 1, True), ("2002-05-06", 1, True)]
    assert query(owner, "SELECT entity_key FROM pgscore.prediction_log WHERE cause->>'event_table' = 'public.dev' "
                        "ORDER BY 1") == [("2002-03-04",), ("2002-04-03",), ("2002-05-06",)]
    assert query(owner, "SELECT kind_chars, score IS NOT NULL FROM xprof") == [(7, True)]


def test_refresh_windows_picks_up_no_look_alike(trapped):
    """refresh_windows called by a session with the traps first on its path and temporary tables named like
    pgscore's recounts the stale windows and rescores as anywhere else (its SET clause fixes the path; its
    statements qualify their operators and functions as the trigger's do)."""
    import time

    from pgscore import sample

    url, owner, fitted, X, names = trapped
    with owner.cursor() as cur:
        sample.create_tables(cur)
        sample.load_customers(cur, X[:6])
        cur.execute("UPDATE public.customers SET complaints_30d = 0")
        sample.rescore_complaints(cur)
    edge = "now() - interval '29 days 23 hours 59 minutes 59 seconds'"
    query(owner, f"INSERT INTO public.complaints (customer_id, created_at) VALUES (1, {edge}), (2, {edge}), (2, now())")
    time.sleep(1.5)
    c = _trapped(url)
    try:
        assert query(c, "SELECT recounted, rescored, failed FROM pgscore.refresh_windows('public.complaints'::"
                        "pg_catalog.regclass, 10)") == [(2, 2, 0)]
    finally:
        c.close()
    assert _fired(owner) == 0, "a trap fired (and its error was handled somewhere)"
    for t in TABLES:
        assert query(owner, f"SELECT count(*) FROM trap.{t}") == [(0,)], t  # noqa: S608 - fixed names
    assert query(owner, "SELECT id, complaints_30d FROM public.customers WHERE id IN (1, 2) ORDER BY id") == \
        [(1, 0), (2, 1)]
    assert query(owner, "SELECT entity_key FROM pgscore.prediction_log WHERE source = 'refresh' ORDER BY 1") == \
        [("1",), ("2",)]
