"""Scoring in SQL (issue 4): row functions by position and by name, batch and write-back, equal to
scikit-learn; bad input; which version scores."""

import json

import numpy as np
import psycopg2
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (HistGradientBoostingClassifier, HistGradientBoostingRegressor,
                              RandomForestClassifier, RandomForestRegressor)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from helpers import ensure_role, nested_statements, pgscore_cli, plans_of, query, run_past_a_lock
from pgscore import datasets, registry
from pgscore.compiled import compile_estimator

X, Y, NAMES = datasets.churn(800, seed=3)
Y3 = np.digitize(X[:, 1], [55, 85])  # three classes from monthly charges
YR = X[:, 1] * 12 + X[:, 5]  # a regression target
X_NAN = X.copy()
X_NAN[np.random.default_rng(0).random(X.shape) < 0.08] = np.nan
ONEHOT_COLS = [6, 8, 11]  # contract months, support tier, satisfaction: integer-coded categories


def read_into_python(ran) -> bool:
    """Whether a chunk's features were read into Python (not scored in SQL): a statement that reads
    them through float8_image, not the backend's one look for the function."""
    return any("pgscore.float8_image(" in n and "to_regprocedure" not in n for n in ran)


def _onehot(final):
    pre = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), ONEHOT_COLS)],
                            remainder=StandardScaler())
    return make_pipeline(SimpleImputer(strategy="median"), pre, final)


MODELS = {
    # name: (factory, X, y, task)
    "logit": (lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)), X, Y),
    "logit_multi": (lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)), X, Y3),
    "onehot_imputed": (lambda: _onehot(LogisticRegression(max_iter=1000)), X_NAN, Y),
    "ridge_imputed": (lambda: make_pipeline(SimpleImputer(), StandardScaler(), Ridge()), X_NAN, YR),
    "forest": (lambda: RandomForestClassifier(n_estimators=30, max_depth=6, random_state=0), X, Y),
    "forest_multi": (lambda: RandomForestClassifier(n_estimators=20, random_state=0), X, Y3),
    "forest_reg": (lambda: RandomForestRegressor(n_estimators=20, max_depth=8, random_state=0), X, YR),
    "hgb": (lambda: HistGradientBoostingClassifier(max_iter=40, random_state=0), X_NAN, Y),
    "hgb_multi": (lambda: HistGradientBoostingClassifier(max_iter=20, random_state=0), X, Y3),
    "hgb_reg": (lambda: HistGradientBoostingRegressor(max_iter=30, random_state=0), X_NAN, YR),
}
_fitted = {}


def fitted(name):
    if name not in _fitted:
        factory, x, y = MODELS[name]
        _fitted[name] = (factory().fit(x, y), x, y)
    return _fitted[name]


def deploy(url, name, compile=True, model=None):
    est, x, y = fitted(model or name)
    return registry.deploy(url, name, est, x, y, feature_names=NAMES, compile=compile)


def sql_error(conn, sql, params=None):
    with pytest.raises(psycopg2.Error) as e:
        query(conn, sql, params)
    return e.value


def load_rows(conn, x, table="rows"):
    query(conn, f"CREATE TABLE {table} (id int PRIMARY KEY, f float8[], " + ", ".join(f"{n} float8" for n in NAMES)
          + ", s float8)")
    with conn.cursor() as cur:
        for i, r in enumerate(x):
            vals = [None if np.isnan(v) else float(v) for v in r]
            cur.execute(f"INSERT INTO {table} VALUES (%s, %s::float8[], {', '.join(['%s'] * len(NAMES))}, NULL)",
                        (i, vals, *vals))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_sql_equals_scikit_learn(conn, name):
    est, x, y = fitted(name)
    rec = deploy(conn.dsn, name)
    assert rec["engine"] == "numpy", rec["engine_note"]
    x = x[:150]
    load_rows(conn, x)
    task = rec["task"]
    got = query(conn, "SELECT id, pgscore.score(%s, f), pgscore.predict(%s, f), "
                      + ("pgscore.predict_proba(%s, f)" if task != "regression" else "%s") + " FROM rows ORDER BY id",
                (name, name, name))
    if task == "regression":
        want = est.predict(x)
        assert np.abs(np.array([g[1] for g in got]) - want).max() <= 1e-9
        assert np.abs(np.array([float(g[2]) for g in got]) - want).max() <= 1e-9
    else:
        proba = est.predict_proba(x)
        want = proba[:, 1] if task == "binary" else proba.max(axis=1)
        assert np.abs(np.array([g[1] for g in got]) - want).max() <= 1e-9
        assert [g[2] for g in got] == [str(v) for v in est.predict(x)]
        assert np.abs(np.array([g[3] for g in got]) - proba).max() <= 1e-9
    # by name: the row as jsonb (NULLs included) scores the same
    by_name = query(conn, "SELECT pgscore.score(%s, to_jsonb(r) - 'f') FROM rows r ORDER BY id", (name,))
    assert np.abs(np.array([g[0] for g in by_name]) - np.array([g[1] for g in got])).max() <= 1e-12
    # batch: the same numbers, by key
    batch = dict(query(conn, "SELECT key::int, score FROM pgscore.predict_batch(%s, 'SELECT id, f AS features FROM rows', "
                             "p_chunk_size => 40)", (name,)))
    assert np.abs(np.array([batch[i] for i in range(len(x))]) - np.array([g[1] for g in got])).max() <= 1e-12
    # a linear model with one output scores the whole query in one SQL statement, logged (above) or not (a
    # NULL in an array goes through batch_row, NaN columns are scored in SQL); the others chunk by chunk.
    # Either way the scores are the row functions' (`got`, compared with `batch` above)
    (statement,), = query(conn, "SELECT statement FROM pgscore.batch_sql(%s, 'SELECT id, f AS features FROM rows', "
                                "NULL, 40, false, 'public')", (name,))
    # (one-hot lookups too since session 71: onehot_imputed, whose NULL elements here go through batch_row)
    assert (statement is not None) == (name in ("logit", "ridge_imputed", "onehot_imputed")), statement
    for q in ("SELECT id, f AS features FROM rows", "SELECT id, " + ", ".join(NAMES) + " FROM rows"):
        unlogged = dict(query(conn, "SELECT key::int, score FROM pgscore.predict_batch(%s, %s, p_log => false)",
                              (name, q)))
        assert np.abs(np.array([unlogged[i] - batch[i] for i in range(len(x))])).max() <= 1e-12
    # the audit log holds each row's features bit for bit (NaN included) and the score that was returned
    row_of = {x[i].tobytes(): i for i in range(len(x))}
    audit = query(conn, "SELECT source, entity_key, features, score FROM pgscore.prediction_log")
    calls = 4 if task == "regression" else 5  # score, predict, predict_proba, by name, batch
    assert sorted({r[0] for r in audit}) == ["batch", "query"] and len(audit) == calls * len(x)
    for source, key, features, score in audit:
        i = row_of[np.array(features, dtype=np.float64).tobytes()]
        assert (score == batch[int(key)]) if source == "batch" else abs(score - got[i][1]) <= 1e-12
    # written back (a linear model with one output by the chunk's own statement, in SQL)
    query(conn, "CALL pgscore.score_table(%s, 'rows', 'id', 's', 40)", (name,))
    written = [s for (s,) in query(conn, "SELECT s FROM rows ORDER BY id")]
    assert np.abs(np.array(written) - np.array([g[1] for g in got])).max() <= 1e-12
    # inside a transaction block (psycopg2's default): committing after each chunk fails at once, before
    # any work; with p_commit => false every chunk is part of that transaction
    query(conn, "UPDATE rows SET s = NULL")
    logged = query(conn, "SELECT count(*) FROM pgscore.prediction_log")
    tx = psycopg2.connect(conn.dsn)
    with tx.cursor() as cur, pytest.raises(psycopg2.errors.InvalidTransactionTermination):
        cur.execute("CALL pgscore.score_table(%s, 'rows', 'id', 's', 40)", (name,))
    tx.rollback()
    with tx.cursor() as cur:
        cur.execute("CALL pgscore.score_table(%s, 'rows', 'id', 's', 40, p_commit => false)", (name,))
        assert cur.fetchone() == (len(x),)
    tx.rollback()  # and rolls back as a whole
    assert query(conn, "SELECT count(s) FROM rows") == [(0,)]
    assert query(conn, "SELECT count(*) FROM pgscore.prediction_log") == logged
    with tx.cursor() as cur:
        cur.execute("CALL pgscore.score_table(%s, 'rows', 'id', 's', 40, p_commit => false)", (name,))
    tx.commit()
    assert query(conn, "SELECT count(s) FROM rows") == [(len(x),)]
    tx.close()
    # autocommit over the extended protocol (psycopg 3 with parameters; JDBC, asyncpg): Parse starts the
    # transaction and Execute runs the CALL, which is no transaction block: it commits after every chunk
    import psycopg

    query(conn, "UPDATE rows SET s = NULL")
    with psycopg.connect(conn.dsn, autocommit=True) as c3:
        assert c3.execute("CALL pgscore.score_table(%s, 'rows', 'id', 's', 40)", [name]).fetchone() == (len(x),)
    assert query(conn, "SELECT count(s) FROM rows") == [(len(x),)]
    assert sql_error(conn, "CALL pgscore.score_table(%s, 'rows', 'id', 's', p_commit => NULL)", (name,)).pgcode == "22004"


def test_score_table_where_it_cannot_commit_says_so_and_what_to_do(conn):
    """CALL pgscore.score_table (committing after each chunk) where PostgreSQL allows no COMMIT (after BEGIN, from
    psycopg2 with autocommit off, from a function, in a PL/pgSQL block with an EXCEPTION clause) failed with the
    bare "invalid transaction termination": nothing named the procedure or the way out. It is still 2D000, before
    any work, now naming score_table, why, and (HINT) autocommit or p_commit => false. A DO block or a procedure
    called in autocommit may commit: it scores and commits there as a top-level CALL does."""
    deploy(conn.dsn, "logit")
    load_rows(conn, X[:30])
    call = "CALL pgscore.score_table('logit', 'rows', 'id', 's', 10)"
    in_plpgsql = "CALL pgscore.score_table('logit', 'rows', 'id', 's', 10, NULL, true, n)"

    def refused(e):
        assert e.pgcode == "2D000", (e.pgcode, str(e))
        assert e.diag.message_primary.startswith("pgscore: score_table commits after each chunk (p_commit => true), "
                                                 "which PostgreSQL allows only where the CALL is no part of a larger "
                                                 "transaction"), str(e)
        assert "p_commit => false" in e.diag.message_hint and "autocommit" in e.diag.message_hint, e.diag.message_hint
        assert e.diag.message_detail == "PostgreSQL: invalid transaction termination" or \
            "subtransaction" in e.diag.message_detail, e.diag.message_detail

    tx = psycopg2.connect(conn.dsn)  # autocommit off: psycopg2 opens a transaction block
    with tx.cursor() as cur, pytest.raises(psycopg2.Error) as e:
        cur.execute(call)
    tx.rollback()
    refused(e.value)
    tx.close()
    query(conn, "BEGIN")  # an explicit one
    refused(sql_error(conn, call))
    query(conn, "ROLLBACK")
    query(conn, f"CREATE FUNCTION score_rows() RETURNS bigint LANGUAGE plpgsql AS $$DECLARE n bigint; "
                f"BEGIN {in_plpgsql}; RETURN n; END$$")
    refused(sql_error(conn, "SELECT score_rows()"))  # a function is always part of its caller's transaction
    refused(sql_error(conn, f"DO $$DECLARE n bigint; BEGIN BEGIN {in_plpgsql}; EXCEPTION WHEN division_by_zero THEN "
                            "NULL; END; END$$"))
    query(conn, "BEGIN")
    refused(sql_error(conn, f"DO $$DECLARE n bigint; BEGIN {in_plpgsql}; END$$"))
    query(conn, "ROLLBACK")
    query(conn, "BEGIN")
    refused(sql_error(conn, "CALL pgscore.score_table_commit()"))  # (its first step, alone)
    query(conn, "ROLLBACK")
    # a procedure with a SET clause or SECURITY DEFINER cannot commit either, even called in autocommit
    for clause in ("SECURITY DEFINER", "SET work_mem = '4MB'"):
        query(conn, f"CREATE PROCEDURE score_rows_atomic() LANGUAGE plpgsql {clause} "
                    f"AS $$DECLARE n bigint; BEGIN {in_plpgsql}; END$$")
        refused(sql_error(conn, "CALL score_rows_atomic()"))
        query(conn, "DROP PROCEDURE score_rows_atomic()")
    # a caller's handler catches the 2D000 (a block with a handler cannot itself commit: refused, then caught)
    conn.notices.clear()
    query(conn, f"DO $$DECLARE n bigint; BEGIN {in_plpgsql}; EXCEPTION WHEN invalid_transaction_termination "
                "THEN RAISE NOTICE 'caught: %', SQLERRM; END$$")
    assert any("caught: pgscore: score_table commits after each chunk" in n for n in conn.notices), conn.notices
    assert query(conn, "SELECT count(s) FROM rows") == [(0,)]  # refused before any work
    # alone, where it may commit, it commits the caller's work: the UPDATE stays after the DO block fails
    assert sql_error(conn, "DO $$BEGIN UPDATE rows SET s = -1 WHERE id = 0; CALL pgscore.score_table_commit(); "
                           "RAISE EXCEPTION 'after the commit' USING ERRCODE = 'P0001'; END$$").pgcode == "P0001"
    assert query(conn, "SELECT id, s FROM rows WHERE s IS NOT NULL") == [(0, -1.0)]
    query(conn, "UPDATE rows SET s = NULL")
    # where it may commit: a DO block in autocommit, or a procedure called there, commits after each chunk: a
    # second chunk that fails (a trigger refuses row 15) leaves the first chunk's 10 rows scored
    query(conn, "CREATE FUNCTION refuse_15() RETURNS trigger LANGUAGE plpgsql AS "
                "$$BEGIN RAISE EXCEPTION 'row 15 refused' USING ERRCODE = 'P0001'; END$$")
    query(conn, "CREATE TRIGGER refuse_15 BEFORE UPDATE ON rows FOR EACH ROW "
                "WHEN (NEW.id = 15 AND NEW.s IS NOT NULL) EXECUTE FUNCTION refuse_15()")
    do_block = f"DO $$DECLARE n bigint; BEGIN {in_plpgsql}; RAISE NOTICE 'scored %', n; END$$"
    query(conn, f"CREATE PROCEDURE score_rows_p() LANGUAGE plpgsql AS $$DECLARE n bigint; BEGIN {in_plpgsql}; END$$")
    for run in (do_block, "CALL score_rows_p()"):
        e = sql_error(conn, run)
        assert e.pgcode == "P0001" and "row 15 refused" in e.diag.message_primary, (e.pgcode, str(e))
        assert "10 rows of rows scored by earlier chunks are committed" in e.diag.message_detail, e.diag.message_detail
        assert query(conn, "SELECT min(id), max(id), count(s) FROM rows WHERE s IS NOT NULL") == [(0, 9, 10)], run
        query(conn, "UPDATE rows SET s = NULL")
    query(conn, "DROP TRIGGER refuse_15 ON rows")
    conn.notices.clear()
    query(conn, do_block)
    assert any("scored 30" in n for n in conn.notices), conn.notices
    assert query(conn, "SELECT count(s) FROM rows") == [(30,)]
    query(conn, "UPDATE rows SET s = NULL")
    query(conn, "CALL score_rows_p()")
    assert query(conn, "SELECT count(s) FROM rows") == [(30,)]
    # from a function with p_commit => false: part of the caller's transaction, as documented
    query(conn, "UPDATE rows SET s = NULL")
    query(conn, "CREATE FUNCTION score_rows_in() RETURNS bigint LANGUAGE plpgsql AS $$DECLARE n bigint; "
                "BEGIN CALL pgscore.score_table('logit', 'rows', 'id', 's', 10, NULL, true, n, false); RETURN n; END$$")
    assert query(conn, "SELECT score_rows_in()") == [(30,)]
    assert query(conn, "SELECT count(s) FROM rows") == [(30,)]


def test_score_table_runs_for_a_role_granted_what_it_needs_without_pgscore_app(conn):
    """score_table is not SECURITY DEFINER (a procedure that is cannot commit), so it calls its first step,
    score_table_commit, as its caller. Granted to pgscore_app and pgscore_admin alone (0095 as first written), a
    role a DBA granted score_table, score_chunk and what they read, not through pgscore_app, failed every
    committing CALL with 42501 "permission denied for procedure score_table_commit". It does nothing but a
    COMMIT, which any role may run: PUBLIC may call it, and that role scores."""
    deploy(conn.dsn, "logit")
    load_rows(conn, X[:30])
    ensure_role(conn, "pgscore_t_batcher")
    for grant in ("USAGE ON SCHEMA pgscore", "SELECT, UPDATE ON rows",
                  "SELECT ON pgscore.models, pgscore.deployments, pgscore.shadows",
                  "EXECUTE ON FUNCTION pgscore.load_model(bigint)",
                  "EXECUTE ON FUNCTION pgscore.score_chunk(text, regclass, name, name, text, integer, integer, boolean, "
                  "name, name)",
                  "EXECUTE ON PROCEDURE pgscore.score_table(text, regclass, name, name, integer, integer, boolean, "
                  "bigint, boolean, text, interval, name, name)"):
        query(conn, f"GRANT {grant} TO pgscore_t_batcher")
    assert query(conn, "SELECT pg_has_role('pgscore_t_batcher', 'pgscore_app', 'USAGE')") == [(False,)]
    query(conn, "SET ROLE pgscore_t_batcher")
    try:
        assert query(conn, "CALL pgscore.score_table('logit', 'rows', 'id', 's', 10, p_log => false)") == [(30,)]
    finally:
        query(conn, "RESET ROLE")
    assert query(conn, "SELECT count(s) FROM rows") == [(30,)]
    assert query(conn, "SELECT has_function_privilege('public', 'pgscore.score_table_commit()', 'EXECUTE')") == [(True,)]


def test_write_back_of_a_linear_model_is_one_statement_a_chunk(conn):
    """Scored, written and logged by one statement; a value that overflows in SQL (Python's floats give
    infinity) sends the chunk to the read, score, write path, which scores it, each row logged once; a
    value the model refuses is named by that path."""
    est, x, _ = fitted("logit")
    deploy(conn.dsn, "logit")
    load_rows(conn, x[:60])
    ran = nested_statements(conn, "SELECT * FROM pgscore.score_chunk('logit', 'rows', 'id', 's', NULL, 50)")
    assert any("CTE ok" in p for p in plans_of(ran)) and not read_into_python(ran)
    got = [s for (s,) in query(conn, "SELECT s FROM rows WHERE id < 50 ORDER BY id")]
    assert np.abs(np.array(got) - est.predict_proba(x[:50])[:, 1]).max() <= 1e-9
    assert query(conn, "SELECT count(*), min(source) FROM pgscore.prediction_log") == [(50, "batch")]
    from pgscore.compiled import compile_estimator

    ev = compile_estimator(est, "binary", len(NAMES))
    slope = ev.arrays["lin_s"][:, 0]
    assert np.abs(slope).sum() > 1.1  # so that these values overflow the sum
    # 1.7e308, or where the scaler would make that infinite (which scikit-learn refuses), the largest it takes
    huge = [float(np.sign(v) or 1) * float(min(1.7e308, hi if v >= 0 else -lo))
            for v, lo, hi in zip(slope, ev.arrays["fin_lo"], ev.arrays["fin_hi"])]
    assert sum(abs(h * s) for h, s in zip(huge, slope.tolist())) == np.inf  # Python's sum: infinity
    query(conn, f"UPDATE rows SET {', '.join(f'{n} = %s' for n in NAMES)} WHERE id = 52", huge)
    ran = nested_statements(conn, "SELECT * FROM pgscore.score_chunk('logit', 'rows', 'id', 's', '49', 5)")
    assert read_into_python(ran)  # the statement raised; the chunk went through Python
    assert query(conn, "SELECT id, s FROM rows WHERE id BETWEEN 50 AND 54 AND s IS NULL") == []
    assert query(conn, "SELECT s FROM rows WHERE id = 52") == [(1.0,)] == [(est.predict_proba([huge])[0, 1],)]
    assert query(conn, "SELECT count(*), count(DISTINCT entity_key) FROM pgscore.prediction_log") == [(55, 55)]
    query(conn, "UPDATE rows SET age = NULL WHERE id = 57")
    err = sql_error(conn, "SELECT * FROM pgscore.score_chunk('logit', 'rows', 'id', 's', '54', 5)")
    assert err.pgcode == "22023" and "feature 'age' is NULL or NaN (key '57')" in str(err), str(err)


@pytest.mark.parametrize("name", ["logit", "forest"])  # scored in SQL, and through Python
def test_write_back_skips_rows_with_a_null_key(conn, name):
    """A NULL key has no place in key order to resume after: the row is left unscored, the run ends."""
    deploy(conn.dsn, name)
    load_rows(conn, X[:25])
    query(conn, "CREATE TABLE nk AS SELECT * FROM rows; UPDATE nk SET id = NULL WHERE id IN (3, 17)")
    for index in ("", "CREATE UNIQUE INDEX nk_bad ON nk ((id + 0))", "CREATE UNIQUE INDEX nk_bad ON nk (id, s)"):
        if index:  # an expression, or a key of two columns, makes no key of its own
            query(conn, "DROP INDEX IF EXISTS nk_bad; " + index)
        err = sql_error(conn, "CALL pgscore.score_table(%s, 'nk', 'id', 's')", (name,))
        assert err.pgcode == "42P10" and "if its values are unique: ALTER TABLE public.nk ADD PRIMARY KEY (id)" in str(err)
        # a primary key refuses the NULLs this column holds; the unique index the hint names too takes them
        # (as below: the run then scores all but the NULL keys)
        assert "where it holds NULLs (which a primary key refuses): CREATE UNIQUE INDEX ON public.nk (id)" in str(err)
    # a primary key of two columns: no second primary key, but a unique index or a key column of its own
    query(conn, "CREATE TABLE nk2 AS SELECT *, 1 AS part FROM rows; ALTER TABLE nk2 ADD PRIMARY KEY (id, part)")
    err = sql_error(conn, "CALL pgscore.score_table(%s, 'nk2', 'id', 's')", (name,))
    assert err.pgcode == "42P10" and "ADD PRIMARY KEY" not in str(err), str(err)
    fix = "CREATE UNIQUE INDEX ON public.nk2 (id)"
    assert f"its primary key has several columns, and no column of its own names a row; if id's values are unique: " \
           f"{fix}; else add a key of one column: ALTER TABLE public.nk2 ADD COLUMN row_id bigint GENERATED " \
           "ALWAYS AS IDENTITY UNIQUE" in str(err), str(err)
    query(conn, fix)  # as the hint says: now it scores
    query(conn, "CALL pgscore.score_table(%s, 'nk2', 'id', 's')", (name,))
    assert query(conn, "SELECT count(s) FROM nk2") == [(25,)]
    # partitioned by another column: no unique index of id alone can be made; the hint says what can be done
    query(conn, "CREATE TABLE nk3 (LIKE rows, part int NOT NULL DEFAULT 1, PRIMARY KEY (id, part)) "
                "PARTITION BY LIST (part); CREATE TABLE nk3_1 PARTITION OF nk3 FOR VALUES IN (1); "
                "INSERT INTO nk3 SELECT * FROM rows")
    err = sql_error(conn, "CALL pgscore.score_table(%s, 'nk3', 'id', 's')", (name,))
    assert err.pgcode == "42P10" and "public.nk3 is partitioned by part, and PostgreSQL makes no unique index of it " \
        "without that column, so id alone cannot be one: score each partition by its own key" in str(err), str(err)
    assert "ALTER TABLE public.nk3 ADD" not in str(err) and "CREATE UNIQUE INDEX ON public.nk3 (" not in str(err)
    # partitioned by a key of two columns, the key among them: no unique index of it alone either
    query(conn, "CREATE TABLE nk4 (LIKE rows, part int NOT NULL DEFAULT 1, PRIMARY KEY (id, part)) "
                "PARTITION BY RANGE (id, part)")
    err = sql_error(conn, "CALL pgscore.score_table(%s, 'nk4', 'id', 's')", (name,))
    assert "public.nk4 is partitioned by id, part, and PostgreSQL makes no unique index of it without those " \
        "columns" in str(err), str(err)
    query(conn, "CREATE UNIQUE INDEX ON nk3_1 (id)")  # as the hint says: the partition scores
    query(conn, "CALL pgscore.score_table(%s, 'nk3_1', 'id', 's')", (name,))
    assert query(conn, "SELECT count(s) FROM nk3") == [(25,)]
    # a view takes no primary key: the hint does not say to add one
    query(conn, "CREATE VIEW nk_view AS SELECT * FROM rows")
    err = sql_error(conn, "CALL pgscore.score_table(%s, 'nk_view', 'id', 's')", (name,))
    assert err.pgcode == "42P10" and "public.nk_view is a view, which has no index and takes no primary key" in str(err), str(err)
    assert "ADD PRIMARY KEY" not in str(err)
    # a score column of numeric with a precision: not "numeric(12,6); expected ... numeric"
    query(conn, "ALTER TABLE rows ADD COLUMN rounded numeric(12,6)")
    err = sql_error(conn, "CALL pgscore.score_table(%s, 'rows', 'id', 'rounded')", (name,))
    assert err.pgcode == "42804" and "is numeric(12,6); scores need double precision, real or numeric without a " \
        "precision (numeric(p,s) would round the scores)" in str(err), str(err)
    query(conn, "ALTER TABLE rows DROP COLUMN rounded; DROP VIEW nk_view")
    # keyed by a column that is not the key: the hint names the one that is
    err = sql_error(conn, "CALL pgscore.score_table(%s, 'rows', 'tenure_months', 's')", (name,))
    assert err.pgcode == "42P10" and "with a unique index of their own: id (the primary key)" in str(err), str(err)
    query(conn, "DROP INDEX nk_bad; INSERT INTO nk (id) VALUES (5)")  # a duplicate key: the index build fails,
    with pytest.raises(psycopg2.errors.UniqueViolation):  # and leaves an INVALID index, which is no key either
        query(conn, "CREATE UNIQUE INDEX CONCURRENTLY nk_bad ON nk (id)")
    assert sql_error(conn, "CALL pgscore.score_table(%s, 'nk', 'id', 's')", (name,)).pgcode == "42P10"
    query(conn, "DROP INDEX nk_bad; DELETE FROM nk WHERE id = 5 AND s IS NULL AND tenure_months IS NULL")
    query(conn, "CREATE UNIQUE INDEX ON nk (id) INCLUDE (s)")  # a key must be unique (NULLs may repeat)
    query(conn, "SET statement_timeout = '60s'")  # were it to start over at every chunk, it would not end
    assert query(conn, "CALL pgscore.score_table(%s, 'nk', 'id', 's', 10)", (name,)) == [(23,)]
    assert query(conn, "SELECT count(*) FILTER (WHERE s IS NULL), count(*) FILTER (WHERE id IS NULL) FROM nk") \
        == [(2, 2)]
    query(conn, "RESET statement_timeout")


def test_scikit_learn_engine_when_not_compiled(conn):
    est, x, _ = fitted("hgb")
    rec = deploy(conn.dsn, "hgb_sk", compile=False, model="hgb")
    assert rec["engine"] == "scikit-learn" and "compile=False" in rec["engine_note"]
    load_rows(conn, x[:50])
    got = [g[0] for g in query(conn, "SELECT pgscore.score('hgb_sk', f) FROM rows ORDER BY id")]
    assert np.abs(np.array(got) - est.predict_proba(x[:50])[:, 1]).max() <= 1e-9
    batch = query(conn, "SELECT score FROM pgscore.predict_batch('hgb_sk', 'SELECT id, f AS features FROM rows') ORDER BY key::int")
    assert np.abs(np.array([b[0] for b in batch]) - np.array(got)).max() <= 1e-12


def test_features_by_name(conn):
    deploy(conn.dsn, "logit")
    deploy(conn.dsn, "hgb")
    row = dict(zip(NAMES, X[0].tolist()), customer="ada", extra=[1, 2])
    (v,), = query(conn, "SELECT pgscore.score('logit', %s::jsonb)", (json.dumps(row),))
    assert abs(v - fitted("logit")[0].predict_proba(X[:1])[0, 1]) < 1e-12
    err = sql_error(conn, "SELECT pgscore.score('logit', %s::jsonb)", (json.dumps({k: 1 for k in NAMES[1:]}),))
    assert err.pgcode == "22023" and NAMES[0] in err.pgerror and "missing" in err.pgerror
    err = sql_error(conn, "SELECT pgscore.score('logit', %s::jsonb)", (json.dumps({**row, NAMES[2]: "lots"}),))
    assert err.pgcode == "22P02" and NAMES[2] in err.pgerror and "number" in err.pgerror
    err = sql_error(conn, "SELECT pgscore.score('logit', '[1, 2]'::jsonb)")
    assert err.pgcode == "22023" and "must be a JSON object, got an array" in err.pgerror
    err = sql_error(conn, "SELECT pgscore.score('logit', '5'::jsonb)")
    assert err.pgcode == "22023" and "must be a JSON object, got a number" in err.pgerror
    # null: NaN for a model that handles missing values, an error naming the feature otherwise
    (v,), = query(conn, "SELECT pgscore.score('hgb', %s::jsonb)", (json.dumps({**row, NAMES[1]: None}),))
    want = fitted("hgb")[0].predict_proba(np.array([[np.nan if n == NAMES[1] else row[n] for n in NAMES]]))[0, 1]
    assert abs(v - want) < 1e-12
    err = sql_error(conn, "SELECT pgscore.score('logit', %s::jsonb)", (json.dumps({**row, NAMES[1]: None}),))
    assert err.pgcode == "22023" and NAMES[1] in err.pgerror and "imputer" in err.pgerror


def test_a_jsonb_key_misspelt_or_a_number_as_text_says_what_to_do(conn):
    deploy(conn.dsn, "logit")
    row = dict(zip(NAMES, X[0].tolist()), id=7)
    typo = {("monthly_charge" if k == "monthly_charges" else k): v for k, v in row.items()}
    err = sql_error(conn, "SELECT pgscore.score('logit', %s::jsonb)", (json.dumps(typo),))
    assert err.pgcode == "22023" and "'monthly_charges' is missing" in err.diag.message_primary
    assert err.diag.message_hint == "the object has the key 'monthly_charge', which is no feature: " \
                                    "a typo for 'monthly_charges'?", err.diag.message_hint
    err = sql_error(conn, "SELECT pgscore.score('logit', %s::jsonb)", (json.dumps({k: v for k, v in row.items()
                                                                                  if k != "age"}),))
    # nothing near: no guess, but how to pass a missing value (since session 70)
    assert err.pgcode == "22023" and err.diag.message_hint == missing_key_hint("age"), err.pgerror
    err = sql_error(conn, "SELECT pgscore.score('logit', %s::jsonb)", (json.dumps({**row, "age": "44"}),))
    assert err.pgcode == "22P02" and "got \"44\"" in err.diag.message_primary
    assert "JSON number, not a string" in err.diag.message_hint and "::float8" in err.diag.message_hint
    err = sql_error(conn, "SELECT pgscore.score('logit', %s::jsonb)", (json.dumps({**row, "age": "forty"}),))
    assert err.pgcode == "22P02" and "Features are numbers" in err.diag.message_hint


def test_predict_batch_of_a_query_without_its_key_says_the_first_column_is_the_key(conn):
    deploy(conn.dsn, "logit")
    load_rows(conn, X[:3])
    err = sql_error(conn, "SELECT * FROM pgscore.predict_batch('logit', %s)",
                    ("SELECT " + ", ".join(NAMES) + " FROM rows",))
    assert err.pgcode == "42703" and err.diag.message_primary == (
        f"model logit v1: the query's first column, {NAMES[0]}, is taken as the key, so the feature "
        f"'{NAMES[0]}' is missing"), err.diag.message_primary
    assert "key first" in err.diag.message_hint and "SELECT id, * FROM t" in err.diag.message_hint
    # a query that has its key first but lacks a feature still names the missing column
    err = sql_error(conn, "SELECT * FROM pgscore.predict_batch('logit', 'SELECT id, tenure_months FROM rows')")
    assert err.pgcode == "42703" and "needs the column(s)" in err.diag.message_primary


def test_null_features_name_the_type_they_came_as_and_what_was_expected(conn):
    """Not STRICT (docs/sql.md): a NULL is an error naming it. A NULL jsonb was called "the feature array", the
    other form's word, with nothing said of the keys; the jsonb form's shims now say which form they are."""
    deploy(conn.dsn, "logit")
    for fn in ("score", "predict", "predict_proba"):
        err = sql_error(conn, f"SELECT pgscore.{fn}('logit', NULL::jsonb)")
        assert err.pgcode == "22004"
        assert err.diag.message_primary == "pgscore: model logit v1: the features are NULL (a NULL jsonb, not an object)", fn
        assert err.diag.message_detail == "expected a jsonb object with the keys: " + ", ".join(NAMES)
        assert '{"tenure_months": null}' in err.diag.message_hint
        err = sql_error(conn, f"SELECT pgscore.{fn}('logit', NULL::float8[])")
        assert err.pgcode == "22004" and err.diag.message_primary == "pgscore: model logit v1: the feature array is NULL", fn
        assert err.diag.message_detail == "expected a float8[] of 12 features, in order: " + ", ".join(NAMES)
    # a JSON null is an object's absence too, but a value: said as before
    err = sql_error(conn, "SELECT pgscore.score('logit', 'null'::jsonb)")
    assert err.pgcode == "22023" and "must be a JSON object, got null" in err.diag.message_primary


@pytest.mark.parametrize("features, state, words", [
    ("NULL::float8[]", "22004", ["NULL"]),
    ("ARRAY[]::float8[]", "22023", ["takes 12 features, got 0"]),
    ("ARRAY[1.0, 2.0]", "22023", ["takes 12 features, got 2", "tenure_months"]),
    ("array_fill(1.0::float8, ARRAY[100000])", "22023", ["got 100000"]),
    ("array_fill(NULL::float8, ARRAY[12])", "22023", ["NaN"]),
    ("array_fill('NaN'::float8, ARRAY[12])", "22023", ["NaN"]),
    ("array_fill('Infinity'::float8, ARRAY[12])", "22023", ["nfinit"]),
    ("ARRAY[1,2,3,4,5,6,7,8,9,10,11,NULL]::float8[]", "22023", ["satisfaction"]),
])
def test_bad_feature_arrays(conn, features, state, words):
    deploy(conn.dsn, "logit")
    err = sql_error(conn, f"SELECT pgscore.score('logit', {features})")
    assert err.pgcode == state, err.pgerror
    assert "logit v1" in err.pgerror or state == "22004"
    for w in words:
        assert w in err.pgerror


def test_bad_model_names_and_versions(conn):
    deploy(conn.dsn, "logit")
    row = X[0].tolist()
    for sql, params, state in [
        ("SELECT pgscore.score(NULL, %s::float8[])", (row,), "22004"),
        ("SELECT pgscore.score('nope', %s::float8[])", (row,), "42704"),
        ("SELECT pgscore.score($$x'; DROP TABLE pgscore.models; --$$, %s::float8[])", (row,), "42704"),
        ("SELECT pgscore.score('logit', %s::float8[], 9)", (row,), "42704"),
        ("SELECT pgscore.predict_proba('logit', %s::float8[], 9)", (row,), "42704"),
        ("SELECT pgscore.predict('nope', '{}'::jsonb)", (), "42704"),
    ]:
        assert sql_error(conn, sql, params).pgcode == state, sql
    assert query(conn, "SELECT count(*) FROM pgscore.models") == [(1,)]


def test_version_pinning_and_next_statement_swap(conn, db_url):
    deploy(conn.dsn, "m", model="logit")
    deploy(conn.dsn, "m", model="forest")
    row = X[:1]
    v1, v2 = (fitted(n)[0].predict_proba(row)[0, 1] for n in ("logit", "forest"))
    (a, b), = query(conn, "SELECT pgscore.score('m', %s::float8[], 1), pgscore.score('m', %s::float8[])",
                    (row[0].tolist(), row[0].tolist()))
    assert abs(a - v1) < 1e-12 and abs(b - v2) < 1e-12
    # another session rolls back to v1: this session's next statement uses it, without reconnecting
    other = psycopg2.connect(db_url)
    with other, other.cursor() as cur:
        cur.execute("SELECT pgscore.rollback('m')")
    other.close()
    (c,), = query(conn, "SELECT pgscore.score('m', %s::float8[])", (row[0].tolist(),))
    assert abs(c - v1) < 1e-12
    versions = query(conn, "SELECT version FROM pgscore.predictions ORDER BY logged_at, version")
    assert sorted(v for (v,) in versions) == [1, 1, 2]


def test_a_backend_keeps_a_bounded_number_of_versions_loaded(conn, db_url):
    """A pooled connection that scored every version deployed kept each loaded for its lifetime (~1 MB
    a forest): it keeps the MODELS_KEPT resolved last, and loads again one it let go. The count was 16: a fleet
    scoring 17 versions in turn in one backend loaded one again at each call (session 62's trial of 12 models:
    2.9 ms a call against 0.53 ms); 18 versions stay loaded now, each loaded once, and the bytes
    (pgscore.model_cache) bound what they hold."""
    n = 18
    for c in np.geomspace(0.01, 10, n):
        registry.deploy(db_url, "m", make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=500)).fit(X, Y),
                        X, Y, feature_names=NAMES, validate=False)
    query(conn, "CREATE FUNCTION public.loaded() RETURNS int[] LANGUAGE plpython3u AS "
                "$$ rt = GD.get('pgscore.runtime'); return [m.version for m in rt.models.values()] if rt else [] $$")
    query(conn, "CREATE FUNCTION public.loads() RETURNS bigint[] LANGUAGE plpython3u AS "
                "$$ return [id(m) for m in GD['pgscore.runtime'].models.values()] $$")
    query(conn, "CREATE FUNCTION public.keep(n int) RETURNS void LANGUAGE plpython3u AS "
                "$$ import pgscore.serving; pgscore.serving.MODELS_KEPT = n $$")
    row = X[0].tolist()
    first = [query(conn, "SELECT pgscore.score('m', %s::float8[], %s)", (row, v))[0][0] for v in range(1, n + 1)]
    assert query(conn, "SELECT public.loaded()") == [(list(range(1, n + 1)),)]
    (held,), = query(conn, "SELECT public.loads()")
    for v in range(1, n + 1):  # in turn again: none loaded again
        query(conn, "SELECT pgscore.score('m', %s::float8[], %s)", (row, v))
    assert query(conn, "SELECT public.loads()") == [(held,)]
    # past the count, the ones resolved longest ago are let go when another is loaded (the count set low in this
    # backend): resolving one again makes it the newest
    query(conn, "SELECT pgscore.score('m', %s::float8[], 5)", (row,))
    query(conn, "SELECT public.keep(4)")
    registry.deploy(db_url, "m", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y),
                    X, Y, feature_names=NAMES, validate=False)
    query(conn, "SELECT pgscore.score('m', %s::float8[], 19)", (row,))
    assert query(conn, "SELECT public.loaded()") == [([17, 18, 5, 19],)]
    (again,), = query(conn, "SELECT pgscore.score('m', %s::float8[], 1)", (row,))  # let go: loaded again
    assert again == first[0]
    assert query(conn, "SELECT public.loaded()") == [([18, 5, 19, 1],)]


def test_a_backend_holds_a_compiled_forests_node_indices_narrow(conn):
    """The evaluator is stored with its node indices as int64, as before (an earlier release reads it), and
    the backend that loads it holds the feature index as int16 and the child index as int32: 10 bytes a node
    less in its footprint, and its leaf values once (24 bytes a node less), the scores scikit-learn's within
    1e-9 (the forest's trees walk the levels)."""
    est, x, _ = fitted("forest_multi")
    rec = deploy(conn.dsn, "forest_multi")
    (stored,), = query(conn, "SELECT e.bytes FROM pgscore.evaluators e JOIN pgscore.models m USING (model_id) "
                             "WHERE m.name = 'forest_multi'")
    assert b'["feat", "<i8"' in bytes(stored) and b'["left", "<i8"' in bytes(stored)
    got = query(conn, "SELECT pgscore.predict_proba('forest_multi', %s::float8[])", (x[0].tolist(),))[0][0]
    assert np.abs(np.array(got) - est.predict_proba(x[:1])[0]).max() <= 1e-9
    query(conn, "CREATE FUNCTION public.held_nodes() RETURNS text[] LANGUAGE plpython3u AS $$\n"
                "m = list(GD['pgscore.runtime'].models.values())[-1]\n"
                "ev = m.evaluator\n"
                "return [str(ev._feat.dtype), str(ev._left.dtype), str(len(ev._left)), str(m.footprint)]\n$$")
    (feat, left, nodes, held), = query(conn, "SELECT public.held_nodes()")[0]
    assert (feat, left) == ("int16", "int32"), rec
    # a node: leaf values (3 classes, held once: the batch path's transposed array is a view of them) 24,
    # threshold 4, indices 6, missing-goes-right 1
    assert int(held) <= 36 * int(nodes) < int(held) + 10 * int(nodes)


def test_a_backend_keeps_a_bounded_number_of_bytes_of_models_loaded(conn, db_url):
    """Versions were let go by count alone: 16 versions of a forest of 60 deep trees (275 MB as joblib writes
    it, 181 MB compiled) held ~3.8 GB in one backend (3 of them: 730 MB, measured). Past
    MODELS_KEPT_BYTES of footprint those resolved longest ago are let go too, down to the one loaded last."""
    for c in (0.1, 1.0, 10.0):
        registry.deploy(db_url, "m", make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=500)).fit(X, Y),
                        X, Y, feature_names=NAMES, validate=False)
    query(conn, "CREATE FUNCTION public.loaded() RETURNS int[] LANGUAGE plpython3u AS "
                "$$ rt = GD.get('pgscore.runtime'); return [m.version for m in rt.models.values()] if rt else [] $$")
    query(conn, "CREATE FUNCTION public.held() RETURNS bigint[] LANGUAGE plpython3u AS "
                "$$ return [getattr(m, 'footprint', 0) for m in GD['pgscore.runtime'].models.values()] $$")
    query(conn, "CREATE FUNCTION public.keep_bytes(n bigint) RETURNS void LANGUAGE plpython3u AS "
                "$$ import pgscore.serving; pgscore.serving.MODELS_KEPT_BYTES = n $$")
    row = X[0].tolist()

    def score(v):
        return query(conn, "SELECT pgscore.score('m', %s::float8[], %s)", (row, v))[0][0]

    first = score(1)
    (held,), = query(conn, "SELECT public.held()")
    assert len(held) == 1 and 0 < held[0] < 100_000, held  # a scaler and 12 coefficients, compiled: a few hundred bytes
    query(conn, "SELECT public.keep_bytes(%s)", (int(held[0] * 2.5),))
    score(2), score(3)
    assert query(conn, "SELECT public.loaded()") == [([2, 3],)]
    assert score(1) == first  # let go: loaded again, the one resolved longest ago let go
    assert query(conn, "SELECT public.loaded()") == [([3, 1],)]
    query(conn, "SELECT public.keep_bytes(1)")  # less than any: the one loaded last stays
    score(2)
    assert query(conn, "SELECT public.loaded()") == [([2],)]
    rec = registry.deploy(db_url, "u", make_pipeline(StandardScaler(), LogisticRegression()).fit(X, Y), X,
                          feature_names=NAMES, compile=False)  # scored by scikit-learn: counted as its pickle
    query(conn, "SELECT pgscore.score('u', %s::float8[])", (row,))
    (loaded, held, size), = query(conn, "SELECT public.loaded(), (public.held())[1], (SELECT octet_length(bytes) "
                                        "FROM pgscore.artifacts WHERE model_id = %s)", (rec["model_id"],))
    assert loaded == [1] and held == size > 0


def test_the_setting_model_cache_bounds_the_bytes_of_models_a_backend_keeps(conn, db_url):
    """The bytes a backend keeps were fixed at 512 MB: a pool scoring two versions of ~300 MB in turn loaded one
    again at each switch (seconds each). SET pgscore.model_cache sizes it; a bad value is a clear error."""
    for c in (0.1, 1.0, 10.0):
        registry.deploy(db_url, "m", make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=500)).fit(X, Y),
                        X, Y, feature_names=NAMES, validate=False)
    query(conn, "CREATE FUNCTION public.loaded() RETURNS int[] LANGUAGE plpython3u AS "
                "$$ rt = GD.get('pgscore.runtime'); return [m.version for m in rt.models.values()] if rt else [] $$")
    row = X[0].tolist()

    def score(v):
        return query(conn, "SELECT pgscore.score('m', %s::float8[], %s)", (row, v))[0][0]

    score(1), score(2), score(3)
    assert query(conn, "SELECT public.loaded()") == [([1, 2, 3],)]  # a few hundred bytes each: all kept
    (held,), = query(conn, "CREATE FUNCTION public.held() RETURNS bigint[] LANGUAGE plpython3u AS "
                           "$$ return [m.footprint for m in GD['pgscore.runtime'].models.values()] $$; "
                           "SELECT public.held()")
    assert len(set(held)) == 1 and held[0] > 0, held  # three versions of one shape: room for two is 2 * that
    held = held[0]
    query(conn, "SET pgscore.model_cache = '0'")  # none but the one loaded last
    score(3)  # cached: nothing loaded, nothing let go
    assert query(conn, "SELECT public.loaded()") == [([1, 2, 3],)]
    query(conn, "SELECT pgscore.load_model(model_id) FROM pgscore.models WHERE name = 'm' AND version = 1")
    assert query(conn, "SELECT public.loaded()") == [([1],)]
    query(conn, "SET pgscore.model_cache = %s", (f"{2 * held} bytes",))
    score(2), score(3)
    assert query(conn, "SELECT public.loaded()") == [([2, 3],)]
    query(conn, "RESET pgscore.model_cache")  # the default, 512 MB
    score(1)
    assert query(conn, "SELECT public.loaded()") == [([2, 3, 1],)]
    query(conn, "SET pgscore.model_cache = 'plenty'")
    score(2)  # cached: the setting is read when a version is loaded
    err = sql_error(conn, "SELECT pgscore.load_model(model_id) FROM pgscore.models WHERE name = 'm' AND version = 3")
    assert err.pgcode == "22023" and "pgscore.model_cache" in err.pgerror and "'plenty'" in err.pgerror
    assert "2GB" in err.diag.message_hint


def test_regressor_has_no_probabilities(conn):
    deploy(conn.dsn, "ridge_imputed")
    err = sql_error(conn, "SELECT pgscore.predict_proba('ridge_imputed', %s::float8[])", (X[0].tolist(),))
    assert err.pgcode == "42809" and "regressor" in err.pgerror


def test_predict_batch_input_errors(conn):
    deploy(conn.dsn, "logit")
    load_rows(conn, X[:5])
    for q, state, word in [
        ("SELECT id FROM rows", "42601", "key first"),
        ("SELECT id, tenure_months FROM rows", "42703", "monthly_charges"),
        ("SELECT id, ARRAY[1.0, 2.0]::float8[] AS features FROM rows", "22023", "2 features"),
        ("SELEKT nonsense", "42601", "syntax"),
        ("", "22004", "empty"),
    ]:
        err = sql_error(conn, "SELECT * FROM pgscore.predict_batch('logit', %s)", (q,))
        assert err.pgcode == state and word in err.pgerror, (q, err.pgerror)
    err = sql_error(conn, "SELECT * FROM pgscore.predict_batch('logit', 'SELECT id, f AS features FROM rows', "
                          "p_chunk_size => 0)")
    assert err.pgcode == "22023" and "chunk size" in err.pgerror
    # columns by name, extra columns ignored, the key may be any type
    got = query(conn, "SELECT key, score FROM pgscore.predict_batch('logit', "
                      "'SELECT ''c-'' || id AS cust, * FROM rows') ORDER BY key")
    assert [k for k, _ in got] == [f"c-{i}" for i in range(5)]
    # the key is the first column by position: `SELECT id, *` names it twice (docs/sql.md's example)
    twice = query(conn, "SELECT key, score FROM pgscore.predict_batch('logit', 'SELECT id, * FROM rows') ORDER BY key")
    assert [k for k, _ in twice] == [str(i) for i in range(5)] and [s for _, s in twice] == [s for _, s in got]


def test_score_table_refuses_a_materialized_view_by_name(conn):
    """A materialized view may have a unique index, but takes no UPDATE: score_table says so before any
    work, not PostgreSQL's "cannot lock rows in materialized view"."""
    deploy(conn.dsn, "logit")
    load_rows(conn, X[:5])
    query(conn, "CREATE MATERIALIZED VIEW mv AS SELECT id, f AS features, s FROM rows; CREATE UNIQUE INDEX ON mv (id)")
    err = sql_error(conn, "CALL pgscore.score_table('logit', 'mv', 'id', 's')")
    assert err.pgcode == "42809" and "mv is a materialized view, whose rows take no UPDATE" in err.pgerror, err.pgerror
    assert "predict_batch" in err.diag.message_hint


def test_score_table_refuses_the_key_as_its_score_column_and_a_read_only_transaction(conn):
    """`--into` the same as `--key` (a typo) on a float key would have replaced every key with a score and
    said it scored them; a read-only transaction is refused before anything is read, pointing to predict_batch."""
    deploy(conn.dsn, "logit")
    load_rows(conn, X[:20])
    query(conn, "CREATE TABLE fk AS SELECT id::float8 AS id, f AS features, s FROM rows; ALTER TABLE fk ADD PRIMARY KEY (id)")
    for call in ("CALL pgscore.score_table('logit', 'fk', 'id', 'id')",
                 "SELECT * FROM pgscore.score_chunk('logit', 'fk', 'id', 'id')"):
        err = sql_error(conn, call)
        assert err.pgcode == "22023" and "the score column of public.fk is its key column 'id': the scores would " \
            "replace the keys" in err.pgerror, err.pgerror
    assert query(conn, "SELECT array_agg(id ORDER BY id) FROM fk") == [([float(i) for i in range(20)],)]
    query(conn, "SET default_transaction_read_only = on")
    try:
        err = sql_error(conn, "CALL pgscore.score_table('logit', 'fk', 'id', 's')")
    finally:
        query(conn, "RESET default_transaction_read_only")
    assert err.pgcode == "25006" and "not in a read-only transaction" in err.pgerror, err.pgerror
    assert "predict_batch" in err.diag.message_hint
    assert query(conn, "SELECT count(s) FROM fk") == [(0,)]


def test_a_score_that_a_real_column_cannot_hold_names_its_key(conn):
    """A regressor's score beyond a real's range: the chunk fails with 22003 naming the key (from the
    statement that scores in SQL, then in Python), where PostgreSQL's own error named nothing."""
    deploy(conn.dsn, "ridge_imputed")
    load_rows(conn, X[:20])
    query(conn, "CREATE TABLE rr AS SELECT id, f AS features, NULL::real AS s FROM rows; ALTER TABLE rr ADD PRIMARY KEY (id); "
                "UPDATE rr SET features = array_fill(1e60::float8, ARRAY[12]) WHERE id IN (3, 11)")
    err = sql_error(conn, "CALL pgscore.score_table('ridge_imputed', 'rr', 'id', 's')")
    assert err.pgcode == "22003", err.pgerror
    assert "the score of key '3', " in err.pgerror and "does not fit column 's' of public.rr, a real (and 1 more score of this chunk)" \
        in err.pgerror, err.pgerror
    assert err.diag.message_hint == "score into a double precision column"
    query(conn, "UPDATE rr SET features = (SELECT f FROM rows WHERE rows.id = rr.id)")
    assert query(conn, "CALL pgscore.score_table('ridge_imputed', 'rr', 'id', 's')") == [(20,)]


def test_a_chunk_names_the_row_the_model_refuses_and_what_its_value_is(conn):
    """A forest takes a NULL and refuses what float32 cannot hold: the error names the key of the row beyond
    float32's range, not the NULL row before it, and does not call 1e100 infinite; an infinity is named as
    one, the 1e100 counted with it. A model that imputes NULLs and takes 1e100 counts the infinity alone."""
    est, x, _ = fitted("forest")
    deploy(conn.dsn, "forest")
    deploy(conn.dsn, "ridge_imputed")
    load_rows(conn, x[:10])
    query(conn, "UPDATE rows SET f[2] = NULL WHERE id = 2")
    query(conn, "UPDATE rows SET f[2] = 1e100 WHERE id = 5")
    batch = "SELECT * FROM pgscore.predict_batch(%s, 'SELECT id, f AS features FROM rows ORDER BY id', p_log => false)"
    err = sql_error(conn, batch, ("forest",))
    assert err.pgcode == "22023" and f"feature '{NAMES[1]}' is beyond float32's range (±3.4e38), in which this " \
        "model's trees compare (key '5')" in err.pgerror, err.pgerror
    assert "clip the value" in err.pgerror
    err = sql_error(conn, "SELECT pgscore.score('forest', f) FROM rows WHERE id = 5")
    assert err.pgcode == "22023" and f"feature '{NAMES[1]}' is beyond float32's range" in err.pgerror, err.pgerror
    assert len(query(conn, "SELECT pgscore.score('forest', f) FROM rows WHERE id = 2")) == 1
    query(conn, "UPDATE rows SET f[2] = 'Infinity' WHERE id = 7")
    err = sql_error(conn, batch, ("forest",))
    assert f"feature '{NAMES[1]}' is infinite (key '7' and 1 more in this chunk of 10)" in err.pgerror, err.pgerror
    err = sql_error(conn, batch, ("ridge_imputed",))
    assert err.pgcode == "22023" and f"feature '{NAMES[1]}' is infinite (key '7')" in err.pgerror, err.pgerror


def test_a_chunk_keeps_the_feature_its_trials_found_where_the_row_alone_would_name_an_imputed_one(conn):
    """A row refused in a chunk of many is said in its own words (session 55) only where they name the feature the
    chunk's trials found: a pipeline that imputes `a` and takes the log of `b`, the row (NULL, -1), whose NaN comes
    of log(-1). The row alone names its one NULL, `a`, untried (the imputer takes it); the chunk named `b` before,
    and the first version of that change said `a`."""
    pre = ColumnTransformer([("imp", SimpleImputer(), [0]), ("log", FunctionTransformer(np.log), [1])])
    x = np.abs(np.random.default_rng(4).normal(size=(200, 2))) + 0.1
    y = x[:, 0] > x[:, 1]
    registry.deploy(conn.dsn, "logged", make_pipeline(pre, LogisticRegression()).fit(x, y), x, y,
                    feature_names=["a", "b"], compile=False)
    query(conn, "CREATE TABLE two (id text PRIMARY KEY, f float8[])")
    query(conn, "INSERT INTO two VALUES ('r1', '{1,2}'), ('r2', '{NULL,-1}'), ('r3', '{1,2}')")
    err = sql_error(conn, "SELECT * FROM pgscore.predict_batch('logged', 'SELECT id, f AS features FROM two ORDER BY id', "
                          "p_log => false)")
    assert err.pgcode == "22023" and "(key 'r2'; feature 'b')" in err.pgerror, err.pgerror
    assert "feature 'a'" not in err.pgerror, err.pgerror
    # the row alone (a chunk of one, the row path) names no feature it has not tried: it tries each number (b's
    # -1 replaced by 0, the row is taken; session 68: it gave scikit-learn's own words, `Input X contains NaN.`)
    for q in ("SELECT * FROM pgscore.predict_batch('logged', 'SELECT id, f AS features FROM two WHERE id = ''r2''', "
              "p_log => false)", "SELECT pgscore.score('logged', f) FROM two WHERE id = 'r2'"):
        err = sql_error(conn, q)
        assert err.pgcode == "22023" and "feature 'b' is -1.0, which a step of the model before its estimator turns " \
            "into NaN" in err.pgerror, err.pgerror
        assert "feature 'a'" not in err.pgerror, err.pgerror


def test_a_value_a_step_turns_into_nan_is_named_with_why(conn):
    """A FunctionTransformer(np.log1p) model (scored by scikit-learn) given a row without NaN whose x < -1: log1p
    makes it NaN, which LogisticRegression refuses, and the error said `Input X contains NaN.` with the hint `this
    model has no imputer for missing values; pass a number`, of a row that held none (session 68). It names the
    feature, its value and why, in the row path and a chunk of one; a row of numbers the model takes scores."""
    x = np.abs(np.random.default_rng(5).normal(size=(200, 3)))
    y = x[:, 0] > 0.7
    model = make_pipeline(FunctionTransformer(np.log1p), LogisticRegression()).fit(x, y)
    registry.deploy(conn.dsn, "log1p", model, x, y, feature_names=["a", "b", "c"])
    for q in ("SELECT pgscore.score('log1p', ARRAY[0.5, -2, 0.3]::float8[])",
              "SELECT * FROM pgscore.predict_batch('log1p', 'SELECT 1 AS id, ARRAY[0.5, -2, 0.3]::float8[] AS features', "
              "p_log => false)"):
        err = sql_error(conn, q)
        assert err.pgcode == "22023" and "model log1p v1: feature 'b' is -2.0, which a step of the model before its " \
            "estimator turns into NaN (np.log1p of a value below -1" in err.pgerror, err.pgerror
        assert "no imputer" not in err.pgerror and "GREATEST" in err.pgerror, err.pgerror
    got = query(conn, "SELECT pgscore.score('log1p', ARRAY[0.5, 0.2, 0.3]::float8[])")[0][0]
    assert got == pytest.approx(model.predict_proba([[0.5, 0.2, 0.3]])[0, 1], abs=1e-12)


def test_values_a_step_turns_into_nan_are_named_where_each_alone_does(conn):
    """Two values a step turns into NaN (log1p of -2 and of -3), and a NULL the model's imputer takes beside them: no
    one of them replaced by 0 makes the row one the model takes, and the error said scikit-learn's `Input X contains
    NaN.` with the hint `this model has no imputer for missing values` (of a model that has one; session 68 r5). Each
    number the model refuses alone (the others, the NULL too, 0) is named; a row whose zeros the model refuses
    too (a NULL it has no imputer for would be) names none of its numbers."""
    rng = np.random.default_rng(6)
    x = np.abs(rng.normal(size=(300, 4)))
    x[rng.random((300, 4)) < 0.05] = np.nan
    y = np.nan_to_num(x[:, 0]) > 0.7
    model = make_pipeline(SimpleImputer(), FunctionTransformer(np.log1p), LogisticRegression()).fit(x, y)
    registry.deploy(conn.dsn, "log1p2", model, x, y, feature_names=["a", "b", "c", "d"])
    for q in ("SELECT pgscore.score('log1p2', ARRAY[NULL, -2, 0.3, -3]::float8[])",
              "SELECT * FROM pgscore.predict_batch('log1p2', 'SELECT 1 AS id, ARRAY[NULL, -2, 0.3, -3]::float8[] AS "
              "features', p_log => false)"):
        err = sql_error(conn, q)
        assert err.pgcode == "22023" and "model log1p2 v1: feature 'b' is -2.0, feature 'd' is -3.0, which a step of " \
            "the model before its estimator turns into NaN" in err.pgerror, err.pgerror
        assert "no imputer" not in err.pgerror and "feature 'c'" not in err.pgerror, err.pgerror
    got = query(conn, "SELECT pgscore.score('log1p2', ARRAY[NULL, 0.2, 0.3, 0.1]::float8[])")[0][0]
    assert got == pytest.approx(model.predict_proba([[np.nan, 0.2, 0.3, 0.1]])[0, 1], abs=1e-12)


def test_a_chunk_names_the_row_refused_among_rows_of_values_the_model_takes(conn):
    """The refused row is told apart from rows holding values of the same kind that the model takes: a
    pipeline scikit-learn scores (not compiled) that imputes only its first feature, its first row missing
    that one (taken) and a later row missing another (refused); a forest behind a scaler, whose input is
    finite but scaled beyond float32's range; and a compiled model's count of every row refused, in any
    feature."""
    pre = ColumnTransformer([("imp", SimpleImputer(), [0])], remainder="passthrough")
    registry.deploy(conn.dsn, "partial", make_pipeline(pre, LogisticRegression(max_iter=500)).fit(X, Y), X, Y,
                    feature_names=NAMES, compile=False)
    load_rows(conn, X[:10])
    query(conn, "UPDATE rows SET f[1] = NULL WHERE id = 0")
    query(conn, "UPDATE rows SET f[3] = NULL WHERE id = 4")
    batch = "SELECT * FROM pgscore.predict_batch(%s, 'SELECT id, f AS features FROM rows ORDER BY id', p_log => false)"
    err = sql_error(conn, batch, ("partial",))
    assert err.pgcode == "22023" and f"cannot take NULL/NaN in feature {NAMES[2]!r} (key '4')" in err.pgerror, \
        err.pgerror  # (the row's own wording, as a chunk of it alone says it below: session 55)
    # a chunk of one row, missing both (the one named first is taken): its key is named still
    query(conn, "UPDATE rows SET f[1] = NULL WHERE id = 4")
    err = sql_error(conn, "SELECT * FROM pgscore.predict_batch('partial', 'SELECT id, f AS features FROM rows "
                          "WHERE id = 4', p_chunk_size => 1, p_log => false)")
    assert f"NULL/NaN in feature {NAMES[2]!r} (key '4')" in err.pgerror, err.pgerror
    assert f"feature {NAMES[0]!r}" not in err.pgerror, err.pgerror  # the imputed one is no reason
    err = sql_error(conn, "SELECT pgscore.score('partial', f) FROM rows WHERE id = 4")  # the row path alike
    assert err.pgcode == "22023" and f"cannot take NULL/NaN in feature {NAMES[2]!r}" in err.pgerror, err.pgerror
    assert f"feature {NAMES[0]!r}" not in err.pgerror, err.pgerror
    query(conn, "UPDATE rows SET f[5] = NULL WHERE id = 4")  # two it refuses, next to the imputed one: both
    err = sql_error(conn, "SELECT pgscore.score('partial', f) FROM rows WHERE id = 4")
    assert f"cannot take NULL/NaN in feature {NAMES[2]!r}, NULL/NaN in feature {NAMES[4]!r}" in err.pgerror, \
        err.pgerror
    assert f"feature {NAMES[0]!r}" not in err.pgerror, err.pgerror
    query(conn, "UPDATE rows SET f[3] = 1, f[5] = 1 WHERE id = 4")
    assert len(query(conn, batch, ("partial",))) == 10  # the first feature's NULL alone is taken
    # scikit-learn's forest behind a scaler: the row whose value is refused once scaled, not one beyond
    # float32's range that the scaler brings back within it
    x = np.random.default_rng(2).normal(size=(300, 12))
    x[:, 0] *= 1e30
    x[:, 1] *= 1e-10
    sk = make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=5, random_state=0)).fit(x, Y[:300])
    registry.deploy(conn.dsn, "skscaled", sk, x, Y[:300], feature_names=NAMES, compile=False)
    query(conn, "UPDATE rows SET f = %s::float8[]", ([0.0] * 12,))
    query(conn, "UPDATE rows SET f[1] = 1e39 WHERE id = 2")
    query(conn, "UPDATE rows SET f[2] = 1e30 WHERE id = 5")
    query(conn, "UPDATE rows SET f[2] = 1e30 WHERE id = 7")
    err = sql_error(conn, batch, ("skscaled",))
    assert f"(key '5' and 1 more in this chunk of 10; feature {NAMES[1]!r})" in err.pgerror, err.pgerror
    # scaled beyond float32's range: 1e37 over a spread of ~0.01 (the value itself is no float32 overflow)
    x = np.random.default_rng(1).normal(size=(300, 12)) * 0.01
    scaled = make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=5, random_state=0)).fit(x, Y[:300])
    registry.deploy(conn.dsn, "scaled", scaled, x, Y[:300], feature_names=NAMES)
    query(conn, "UPDATE rows SET f = %s::float8[]", (x[0].tolist(),))
    query(conn, "UPDATE rows SET f[5] = 1e37 WHERE id = 6")
    err = sql_error(conn, batch, ("scaled",))
    assert err.pgcode == "22023" and "1e+37, beyond float32's range" in err.pgerror and "(key '6')" in err.pgerror, \
        err.pgerror
    # compiled: the row named holds the feature named; the count takes every row refused
    deploy(conn.dsn, "forest")
    query(conn, "UPDATE rows SET f = %s::float8[]", (X[0].tolist(),))
    query(conn, "UPDATE rows SET f[2] = 1e39 WHERE id = 3")
    query(conn, "UPDATE rows SET f[4] = -1e39 WHERE id = 8")
    err = sql_error(conn, batch, ("forest",))
    assert f"feature {NAMES[1]!r} is beyond float32's range" in err.pgerror and \
        "(key '3' and 1 more in this chunk of 10)" in err.pgerror, err.pgerror


@pytest.mark.parametrize("name", ["logit", "forest"])  # one SQL statement, and chunks through Python
def test_predict_batch_takes_a_query_ending_in_a_semicolon_or_a_comment(conn, name):
    deploy(conn.dsn, name)
    load_rows(conn, X[:10])
    plain = query(conn, "SELECT key, score FROM pgscore.predict_batch(%s, 'SELECT id, f AS features FROM rows') "
                        "ORDER BY key", (name,))
    assert len(plain) == 10
    for ending in (";", " ; ;\n", "\n-- the last line: a comment"):
        got = query(conn, "SELECT key, score FROM pgscore.predict_batch(%s, %s) ORDER BY key",
                    (name, "SELECT id, f AS features FROM rows" + ending))
        assert got == plain, ending


@pytest.mark.parametrize("name", ["logit", "forest"])  # a chunk scored in SQL, and in Python
def test_score_table_resumes_after_a_key_and_says_how_far_it_got(conn, name):
    """p_after: the rows after that key only, as `pgscore score --after`; p_progress: a NOTICE at most that
    often (0: after every chunk) with the rows so far, the last key and the p_after that goes on from there;
    NULL: none."""
    deploy(conn.dsn, name)
    load_rows(conn, X[:30])
    want = dict(query(conn, "SELECT key::int, score FROM pgscore.predict_batch(%s, 'SELECT id, f AS features "
                            "FROM rows', p_log => false)", (name,)))
    del conn.notices[:]
    assert query(conn, "CALL pgscore.score_table(%s, 'rows', 'id', 's', 7, p_after => '19', p_progress => '0')",
                 (name,)) == [(10,)]
    got = dict(query(conn, "SELECT id, s FROM rows"))
    assert [i for i in range(30) if got[i] is not None] == list(range(20, 30))
    assert max(abs(got[i] - want[i]) for i in range(20, 30)) <= 1e-12
    notes = [n for n in conn.notices if "pgscore.score_table" in n]
    assert len(notes) == 2, conn.notices  # chunks of 7 and 3
    assert "pgscore.score_table: 7 rows of rows scored, up to id '26'" in notes[0]
    assert "CALL it again with p_after => '26', p_version => 1 to go on after them" in notes[0]
    assert "10 rows of rows scored, up to id '29'" in notes[1]
    # every p_progress: none within an hour; none at all with NULL; in a transaction, nothing to resume from
    del conn.notices[:]
    query(conn, "CALL pgscore.score_table(%s, 'rows', 'id', 's', 7, p_after => '19')", (name,))
    query(conn, "CALL pgscore.score_table(%s, 'rows', 'id', 's', 7, p_progress => NULL)", (name,))
    assert not [n for n in conn.notices if "pgscore.score_table" in n], conn.notices
    assert query(conn, "CALL pgscore.score_table(%s, 'rows', 'id', 's', 50, p_commit => false, "
                       "p_progress => '0')", (name,)) == [(30,)]
    assert "they commit or roll back with your transaction" in conn.notices[-1]
    # a key after every row's: nothing to do
    assert query(conn, "CALL pgscore.score_table(%s, 'rows', 'id', 's', p_after => '1000')", (name,)) == [(0,)]
    err = sql_error(conn, "CALL pgscore.score_table(%s, 'rows', 'id', 's', p_progress => '-1 second')", (name,))
    assert err.pgcode == "22023" and "p_progress must not be negative" in err.pgerror
    err = sql_error(conn, "CALL pgscore.score_table(%s, 'rows', 'id', 's', p_after => 'x')", (name,))
    assert err.pgcode == "22P02" and 'invalid input syntax for type integer: "x"' in err.pgerror, err.pgerror


@pytest.mark.parametrize("name", ["logit", "forest"])  # a chunk scored in SQL, and in Python
def test_score_table_that_fails_after_committed_chunks_says_they_are_and_where_to_go_on(conn, db_url, name):
    """A chunk that fails after others committed (a value the model refuses, a lock or statement timeout):
    the error is the chunk's own, SQLSTATE and message, and its DETAIL and HINT add how many rows the
    committed chunks scored, up to which key, and the p_after (and p_version) that goes on after them, as
    `pgscore score` says. Before, the error alone: nothing said that 14 rows were written and logged, and a
    user who called it again from the start scored and logged them twice. Where nothing was committed (the
    first chunk, or p_commit => false) the error is as it was."""
    deploy(conn.dsn, name)
    load_rows(conn, X[:30])
    bad = "NULL" if name == "logit" else "'Infinity'"  # the forest takes a NaN (its trees' missing values)
    query(conn, f"UPDATE rows SET age = {bad} WHERE id = 17")  # the third chunk of 7
    err = sql_error(conn, "CALL pgscore.score_table(%s, 'rows', 'id', 's', 7)", (name,))
    assert err.pgcode == "22023" and "feature 'age'" in err.pgerror and "(key '17')" in err.pgerror, err.pgerror
    assert "14 rows of rows scored by earlier chunks are committed, up to id '13'" in err.diag.message_detail, \
        err.diag.message_detail
    hint = err.diag.message_hint
    assert "CALL it again with p_after => '13', p_version => 1 to go on after them" in hint, hint
    assert query(conn, "SELECT count(s), max(id) FILTER (WHERE s IS NOT NULL) FROM rows") == [(14, 13)]
    # as the hint says, once the row is fixed: the rest, each row scored and logged once
    query(conn, "UPDATE rows SET age = 40 WHERE id = 17")
    assert query(conn, "CALL pgscore.score_table(%s, 'rows', 'id', 's', 7, p_after => '13', p_version => 1)",
                 (name,)) == [(16,)]
    assert query(conn, "SELECT count(s) FROM rows") == [(30,)]
    assert query(conn, "SELECT count(*), count(DISTINCT entity_key) FROM pgscore.prediction_log") == [(30, 30)]
    # nothing committed: the error as it was (the first chunk; a run inside the caller's transaction)
    query(conn, "UPDATE rows SET s = NULL, age = " + bad + " WHERE id = 3")
    for call in ("CALL pgscore.score_table(%s, 'rows', 'id', 's', 7)",
                 "CALL pgscore.score_table(%s, 'rows', 'id', 's', 7, p_after => '13', p_commit => false)"):
        query(conn, "UPDATE rows SET age = " + bad + " WHERE id = 17")
        err = sql_error(conn, call, (name,))
        said = f"{err.diag.message_detail} {err.diag.message_hint}"
        assert err.pgcode == "22023" and "committed" not in said and "p_after" not in said, said
    query(conn, "UPDATE rows SET age = 40 WHERE id IN (3, 17)")
    # PostgreSQL's own error keeps the object it names (psycopg2's e.diag), and no field it leaves empty is sent
    query(conn, "UPDATE rows SET s = NULL; ALTER TABLE rows ADD CONSTRAINT s_early CHECK (id < 14 OR s IS NULL)")
    err = sql_error(conn, "CALL pgscore.score_table(%s, 'rows', 'id', 's', 7)", (name,))
    assert err.pgcode == "23514" and "s_early" in err.pgerror, err.pgerror
    assert (err.diag.constraint_name, err.diag.table_name, err.diag.schema_name, err.diag.column_name,
            err.diag.datatype_name) == ("s_early", "rows", "public", None, None)
    assert "up to id '13'" in err.diag.message_detail and "p_after => '13'" in err.diag.message_hint
    query(conn, "ALTER TABLE rows DROP CONSTRAINT s_early")
    # a lock timeout, and a statement timeout (a cancel), in the third chunk: its row held by another session
    for setting, state in (("lock_timeout", "55P03"), ("statement_timeout", "57014")):
        query(conn, "UPDATE rows SET s = NULL")
        holder = psycopg2.connect(db_url)
        try:
            query(holder, "SELECT 1 FROM rows WHERE id = 17 FOR UPDATE")
            query(conn, f"SET {setting} = '1s'")
            err = sql_error(conn, "CALL pgscore.score_table(%s, 'rows', 'id', 's', 7)", (name,))
        finally:
            query(conn, f"RESET {setting}")
            holder.close()
        assert err.pgcode == state, (setting, err.pgcode, str(err))
        assert "14 rows of rows scored by earlier chunks are committed, up to id '13'" in err.diag.message_detail
        assert "CALL it again with p_after => '13'" in err.diag.message_hint
        assert query(conn, "SELECT count(s) FROM rows") == [(14,)]


def test_score_table_quotes_the_key_in_its_progress_and_its_committed_detail(conn):
    """score_table's progress NOTICE and the DETAIL of a chunk's error after committed chunks name the last
    key as an SQL literal and the key column as SQL names it, as a chunk's own error quotes a key (0081):
    before 0083, bare (`up to the key a b`, and for the empty key `up to the key ` with nothing after it), so
    neither where the key began nor that it was empty could be read. `pgscore score` says the same place as
    a shell word (--after='a b', --after='')."""
    deploy(conn.dsn, "logit")
    load_rows(conn, X[:6])
    query(conn, 'CREATE TABLE spaced AS SELECT (ARRAY[\'\', \'a\', \'a b\', \'b\', \'b c\', \'c\'])[id + 1] '
                'COLLATE "C" AS "the key", ' + ", ".join(NAMES) + ', s FROM rows; '
                'ALTER TABLE spaced ADD PRIMARY KEY ("the key")')
    del conn.notices[:]
    assert query(conn, "CALL pgscore.score_table('logit', 'spaced', 'the key', 's', 1, p_progress => '0')") == [(6,)]
    notes = [n for n in conn.notices if "pgscore.score_table" in n]
    assert len(notes) == 6, conn.notices
    assert "pgscore.score_table: 1 rows of spaced scored, up to \"the key\" ''\n" in notes[0], notes[0]
    assert "CALL it again with p_after => '', p_version => 1 to go on after them" in notes[0], notes[0]
    assert "pgscore.score_table: 3 rows of spaced scored, up to \"the key\" 'a b'\n" in notes[2], notes[2]
    # a chunk that fails after committed ones: the DETAIL says where the committed rows end, quoted
    query(conn, "UPDATE spaced SET s = NULL, age = NULL WHERE \"the key\" = 'b c'")
    err = sql_error(conn, "CALL pgscore.score_table('logit', 'spaced', 'the key', 's', 2)")
    assert err.pgcode == "22023" and "(key 'b c')" in err.pgerror, err.pgerror
    assert "4 rows of spaced scored by earlier chunks are committed, up to \"the key\" 'b'" in \
        err.diag.message_detail, err.diag.message_detail
    assert "p_after => 'b'" in err.diag.message_hint, err.diag.message_hint
    # pgscore score: the resume line is a shell word (a key with a space, the empty key)
    r = pgscore_cli("score", "--model", "logit", "--table", "spaced", "--key", "the key", "--into", "s", "--quiet",
                    "--chunk-size", "2", "--db", conn.dsn)
    assert r.returncode == 1 and "(key 'b c')" in r.stderr, r.stderr
    assert "4 rows were scored and committed before the error; once it is fixed, resume with: --after=b " \
           "--version 1" in r.stderr, r.stderr
    query(conn, "UPDATE spaced SET s = NULL; UPDATE spaced SET age = NULL WHERE \"the key\" = 'a'")
    r = pgscore_cli("score", "--model", "logit", "--table", "spaced", "--key", "the key", "--into", "s", "--quiet",
                    "--chunk-size", "1", "--db", conn.dsn)
    assert r.returncode == 1 and "resume with: --after='' --version 1" in r.stderr, r.stderr
    query(conn, "UPDATE spaced SET age = NULL WHERE \"the key\" = 'b'; UPDATE spaced SET age = 40 "
                "WHERE \"the key\" = 'a'")
    r = pgscore_cli("score", "--model", "logit", "--table", "spaced", "--key", "the key", "--into", "s", "--quiet",
                    "--chunk-size", "1", "--after=", "--db", conn.dsn)
    assert r.returncode == 1 and "resume with: --after='a b' --version 1" in r.stderr, r.stderr


def calls_of(conn, model) -> dict:
    """The PL/Python functions predict_batch called, with their numbers of calls, over `rows` unlogged."""
    tx = psycopg2.connect(conn.dsn)
    try:
        with tx.cursor() as cur:
            cur.execute("SET LOCAL track_functions = 'pl'")
            cur.execute("SELECT count(*) FROM pgscore.predict_batch(%s, 'SELECT id, f AS features FROM rows', "
                        "p_log => false)", (model,))
            cur.execute("SELECT funcname, calls FROM pg_stat_xact_user_functions WHERE schemaname = 'pgscore' "
                        "AND funcname NOT IN ('predict_batch', 'load_model')")
            return dict(cur.fetchall())
    finally:
        tx.close()


def test_predict_batch_of_a_linear_model_is_one_statement_in_sql(conn):
    """Nothing logged, a linear model with one output: one statement scores the whole query in SQL and no
    row passes through PL/Python but those SQL cannot score, which batch_row scores as the chunks do (a
    NULL in an array, for a model that imputes) or fails with the chunks' error (an infinity, naming its
    key); a value out of SQL's range is an error, never another score."""
    est, x, _ = fitted("logit")
    deploy(conn.dsn, "logit")
    load_rows(conn, x[:60])
    assert calls_of(conn, "logit") == {"batch_sql": 1}  # neither batch_chunks nor batch_row
    # batch_row by itself: one row's score from its features' image, as the row functions give it
    (one,), = query(conn, "SELECT pgscore.batch_row('logit', NULL, 'k', pgscore.float8_image(%s::float8[]))",
                    (x[0].tolist(),))
    assert abs(one - est.predict_proba(x[:1])[0, 1]) <= 1e-12
    got = query(conn, "SELECT key::int, score FROM pgscore.predict_batch('logit', 'SELECT id, f AS features "
                      "FROM rows', p_log => false) ORDER BY 1")
    assert [k for k, _ in got] == list(range(60))
    assert np.abs(np.array([s for _, s in got]) - est.predict_proba(x[:60])[:, 1]).max() <= 1e-12
    assert query(conn, "SELECT count(*) FROM pgscore.prediction_log") == [(0,)]
    # an infinity: the error of the row that failed, naming its key, whatever rows came before it (session 64: the
    # chunks' own, with a count of the rows like it in its chunk, from the query run a second time chunk by chunk)
    query(conn, "UPDATE rows SET f[2] = 'Infinity' WHERE id IN (41, 45)")
    err = sql_error(conn, "SELECT * FROM pgscore.predict_batch('logit', 'SELECT id, f AS features FROM rows "
                          "ORDER BY id', p_chunk_size => 20, p_log => false)")
    assert err.pgcode == "22023" and "model logit v1: feature 'monthly_charges' is infinite (key '41')" in \
        err.pgerror and "pgscore: model" not in err.pgerror, err.pgerror
    # a model that imputes: a NULL in the array is scored by batch_row, as the chunks score it
    deploy(conn.dsn, "ridge_imputed")
    query(conn, "UPDATE rows SET f[2] = NULL WHERE id IN (41, 45)")
    sql_path, logged = (dict(query(conn, "SELECT key::int, score FROM pgscore.predict_batch('ridge_imputed', "
                                         "'SELECT id, f AS features FROM rows', p_log => %s)", (log,)))
                        for log in (False, True))
    by_row = dict(query(conn, "SELECT id, pgscore.score('ridge_imputed', f) FROM rows"))
    assert sql_path == logged and sql_path.keys() == by_row.keys()
    assert max(abs(sql_path[k] - by_row[k]) for k in by_row) <= 1e-12
    # the audit rows, as the chunks write them: a NULL element as NaN
    (f41,), = query(conn, "SELECT features FROM pgscore.prediction_log WHERE entity_key = '41' AND source = 'batch'")
    assert np.isnan(f41[1]) and sum(np.isnan(f41)) == 1
    want = fitted("ridge_imputed")[0].predict(np.array(query(conn, "SELECT f FROM rows ORDER BY id")[41][0],
                                                            dtype=float).reshape(1, -1))[0]
    assert abs(sql_path[41] - want) <= 1e-9
    assert calls_of(conn, "ridge_imputed") == {"batch_sql": 1, "batch_row": 2}
    # weights above 1: 1e308 times one overflows in SQL, where Python's sum is infinity
    xs = np.random.default_rng(5).normal(size=(50, 2))
    registry.deploy(conn.dsn, "big", Ridge(alpha=1e-9).fit(xs, 2 * xs[:, 0] + 3 * xs[:, 1]), xs,
                    2 * xs[:, 0] + 3 * xs[:, 1], feature_names=["a", "b"])
    (fine,), = query(conn, "SELECT score FROM pgscore.predict_batch('big', 'SELECT 1, 1e300::float8 AS a, "
                           "1e300::float8 AS b', p_log => false)")
    assert abs(fine / 5e300 - 1) < 1e-6
    err = sql_error(conn, "SELECT * FROM pgscore.predict_batch('big', 'SELECT 1, 1e308::float8 AS a, "
                          "1e308::float8 AS b', p_log => false)")
    assert err.pgcode == "22003" and "model big scores this query in SQL, which failed: value out of range" in \
        err.pgerror and "pgscore.score scores such a row" in err.pgerror, err.pgerror


def test_predict_batch_in_sql_runs_a_volatile_query_once_and_names_the_row_that_failed(conn):
    """Session 64: on batch_row's error (and on 22003) predict_batch of a model scored in SQL ran the caller's
    query a second time, chunk by chunk, for the chunks' wording: a query's nextval ran twice, and the second run
    named the row that failed in it (key '27' here, where the row that failed was keyed '7'), or none. The query
    runs once; the error is that of the row that failed, naming its key."""
    deploy(conn.dsn, "logit")
    load_rows(conn, X[:20])
    query(conn, "CREATE SEQUENCE calls")
    volatile = ("SELECT nextval(''calls''), CASE WHEN id = 6 THEN f[1:1] || ''Infinity''::float8 || f[3:] ELSE f END "
                "AS features FROM rows ORDER BY id")
    err = sql_error(conn, f"SELECT * FROM pgscore.predict_batch('logit', '{volatile}', p_log => false)")
    assert err.pgcode == "22023" and "'monthly_charges' is infinite (key '7')" in err.pgerror, err.pgerror
    assert query(conn, "SELECT last_value <= 20 FROM calls") == [(True,)]  # (it was 40: the query twice)
    # logged: the same, and no audit row
    query(conn, "SELECT setval('calls', 1, false)")
    err = sql_error(conn, f"SELECT * FROM pgscore.predict_batch('logit', '{volatile}')")
    assert err.pgcode == "22023" and "(key '7')" in err.pgerror, err.pgerror
    assert query(conn, "SELECT last_value <= 20 FROM calls") == [(True,)]
    assert query(conn, "SELECT count(*) FROM pgscore.prediction_log") == [(0,)]
    # a value out of SQL's range: raised as such, the query run once
    xs = np.random.default_rng(5).normal(size=(50, 2))
    registry.deploy(conn.dsn, "big", Ridge(alpha=1e-9).fit(xs, 2 * xs[:, 0] + 3 * xs[:, 1]), xs,
                    2 * xs[:, 0] + 3 * xs[:, 1], feature_names=["a", "b"])
    query(conn, "SELECT setval('calls', 1, false)")
    err = sql_error(conn, "SELECT * FROM pgscore.predict_batch('big', 'SELECT nextval(''calls''), 1e308::float8 AS a, "
                          "1e308::float8 AS b', p_log => false)")
    assert err.pgcode == "22003" and "model big scores this query in SQL, which failed: value out of range" in \
        err.pgerror, err.pgerror
    assert query(conn, "SELECT last_value FROM calls") == [(1,)]


def test_predict_batch_in_sql_gives_the_querys_own_out_of_range_error_and_a_features_as_they_are(conn):
    """Review r4: since 0149 every 22003 on the SQL path was raised as 'model big scores this query in SQL, which
    failed' with the hint of a feature beyond about 1e300 and 'pgscore.score scores such a row': the caller's query's
    own integer overflow, and a text column's number out of a double's range (feature_number's refusal, naming the
    key, which pgscore.score refuses as well), among them. Only a double's overflow (the score's arithmetic) is."""
    xs = np.random.default_rng(5).normal(size=(50, 2))
    registry.deploy(conn.dsn, "big", Ridge(alpha=1e-9).fit(xs, 2 * xs[:, 0] + 3 * xs[:, 1]), xs,
                    2 * xs[:, 0] + 3 * xs[:, 1], feature_names=["a", "b"])
    err = sql_error(conn, "SELECT * FROM pgscore.predict_batch('big', 'SELECT g, (2147483646 + g)::float8 AS a, "
                          "1::float8 AS b FROM generate_series(1, 3) g', p_log => false)")
    assert err.pgcode == "22003" and err.diag.message_primary == "integer out of range", err.pgerror
    assert "pgscore.score scores such a row" not in err.pgerror, err.pgerror
    err = sql_error(conn, "SELECT * FROM pgscore.predict_batch('big', 'SELECT g, CASE WHEN g = 2 THEN ''1e999'' "
                          "ELSE g::text END AS a, 1::float8 AS b FROM generate_series(1, 3) g', p_log => false)")
    assert err.pgcode == "22003" and err.diag.message_primary.startswith(
        "model big v1: feature 'a' is out of the range of double precision, got '1e999' (key '2'"), err.pgerror
    assert "pgscore.score scores such a row" not in err.pgerror, err.pgerror


@pytest.mark.parametrize("keys", [
    ["a", "b", "c"],
    [""],  # a lone empty key
    ["", None, "x", None, ""],  # NULL keys among empty ones
    ["a\x01b", "\x02", "c,d", "{e}", '"f"', "g\\h"],  # array syntax in keys
    ["".join(map(chr, range(1, 32))), None, "k"],  # control characters
])
def test_predict_batch_gives_back_every_key_as_it_was(conn, keys):
    """Whatever the keys hold, they come back in order, NULL as NULL, each with its own score, whatever
    the chunk size."""
    deploy(conn.dsn, "logit")
    rows = X[: len(keys)]
    q = ("SELECT u.k, " + ", ".join(f"(u.lit::float8[])[{i + 1}] AS {n}" for i, n in enumerate(NAMES)) +
         " FROM unnest(%s::text[], %s::text[]) WITH ORDINALITY AS u(k, lit, i) ORDER BY u.i")
    with conn.cursor() as cur:
        text = cur.mogrify(q, (keys, ["{" + ",".join(map(repr, r)) + "}" for r in rows.tolist()])).decode()
    for chunk in (1, 2, 10):
        got = query(conn, "SELECT key, score FROM pgscore.predict_batch('logit', %s, p_chunk_size => %s, "
                          "p_log => false)", (text, chunk))
        assert [k for k, _ in got] == keys, chunk
        want = fitted("logit")[0].predict_proba(rows)[:, 1]
        assert np.abs(np.array([s for _, s in got]) - want).max() <= 1e-9


def test_predict_batch_resolves_the_query_with_the_callers_search_path(conn):
    """predict_batch runs with a fixed search_path of its own; the query text sees the caller's (or the one
    passed), and the function's own path is back once the query is planned."""
    est, x, _ = fitted("logit")
    deploy(conn.dsn, "logit")
    load_rows(conn, x[:4])
    query(conn, "CREATE SCHEMA shop; CREATE TABLE shop.rows AS SELECT id + 100 AS id, f FROM public.rows")
    q = "SELECT id, f AS features FROM rows ORDER BY id"
    query(conn, "SET search_path = shop, public")
    assert [int(k) for k, _ in query(conn, "SELECT * FROM pgscore.predict_batch('logit', %s)", (q,))] == \
        [100, 101, 102, 103]
    query(conn, "RESET search_path")
    got = query(conn, "SELECT * FROM pgscore.predict_batch('logit', %s, p_search_path => 'shop')", (q,))
    assert [int(k) for k, _ in got] == [100, 101, 102, 103]
    assert np.abs(np.array([s for _, s in got]) - est.predict_proba(x[:4])[:, 1]).max() <= 1e-9
    got = query(conn, "SELECT * FROM pgscore.predict_batch('logit', %s)", (q,))
    assert [int(k) for k, _ in got] == [0, 1, 2, 3]
    # a function the query calls looks up its names while the rows are fetched: with the caller's path too
    query(conn, "CREATE TABLE shop.offset_by AS SELECT 1000 AS n; "
                "CREATE FUNCTION shop.shifted(i int) RETURNS int LANGUAGE plpgsql AS "
                "$$ BEGIN RETURN i + (SELECT n FROM offset_by); END $$")
    query(conn, "SET search_path = shop, public")
    got = query(conn, "SELECT * FROM pgscore.predict_batch('logit', 'SELECT shifted(id), f AS features FROM rows "
                      "ORDER BY id', p_chunk_size => 3)")
    assert [int(k) for k, _ in got] == [1100, 1101, 1102, 1103]
    query(conn, "RESET search_path")
    # inside, pgscore's own statements (the audit rows) ran with its fixed path; the caller's is unchanged
    assert query(conn, "SELECT current_setting('search_path')") == [('"$user", public',)]
    assert query(conn, "SELECT count(*) FROM pgscore.prediction_log WHERE source = 'batch'") == [(16,)]


@pytest.mark.parametrize("name", ["logit", "forest"])  # scored in SQL, and in Python
def test_write_back_waits_for_a_row_being_written_and_scores_its_final_features(conn, db_url, name):
    """A row another transaction was changing (rescoring on INSERT) had its score written over with one
    computed from its features before the change, once the other committed (a walk-through: support_calls
    14 on the row, its score and newest audit row from 6)."""
    est, x, _ = fitted(name)
    deploy(conn.dsn, name)
    load_rows(conn, x[:40])
    run_past_a_lock(db_url, lambda other: query(  # not committed until the write-back waits for it
        other, f"UPDATE rows SET {NAMES[2]} = {NAMES[2]} + 9, {NAMES[3]} = {NAMES[3]} + 4 WHERE id = 5"),
        f"CALL pgscore.score_table('{name}', 'rows', 'id', 's', 10)", "the row being written")
    cols = ", ".join(NAMES)
    (score, feats), = query(conn, f"SELECT s, ARRAY[{cols}]::float8[] FROM rows WHERE id = 5")
    assert score == pytest.approx(est.predict_proba(np.array([feats]))[0, 1], abs=1e-9)
    assert query(conn, "SELECT features, score FROM pgscore.prediction_log WHERE entity_key = '5'") == [(feats, score)]


def test_write_back_of_rows_whose_key_changes_meanwhile_skips_none(conn, db_url, name="logit"):
    """A row whose key another transaction changed while the chunk waited for its lock came back with its
    new key, out of key order: the chunk's range and resume point then skipped every key in between (seen
    on the path that scores in SQL; the Python path reads again on the same check, not seen to fail)."""
    deploy(conn.dsn, name)
    load_rows(conn, fitted(name)[1][:40])
    run_past_a_lock(db_url, lambda other: query(other, "UPDATE rows SET id = 1000 WHERE id = 1"),
                    f"CALL pgscore.score_table('{name}', 'rows', 'id', 's', 10)", "the row being written")
    assert query(conn, "SELECT count(*), count(s) FROM rows") == [(40, 40)]
    assert query(conn, "SELECT count(*), count(DISTINCT entity_key) FROM pgscore.prediction_log") == [(40, 40)]


def test_write_back_leaves_a_foreign_keys_check_alone(conn, db_url):
    """The chunk's lock is the UPDATE's own (FOR NO KEY UPDATE): a row inserted elsewhere that references a
    row of the chunk does not wait for the chunk's transaction (with FOR UPDATE it did, and two such
    transactions could deadlock)."""
    deploy(conn.dsn, "logit")
    load_rows(conn, fitted("logit")[1][:40])
    query(conn, "CREATE TABLE orders (row_id int REFERENCES rows (id))")
    scorer, other = psycopg2.connect(db_url), psycopg2.connect(db_url)
    try:
        assert query(scorer, "SELECT rows FROM pgscore.score_chunk('logit', 'rows', 'id', 's')") == [(40,)]
        query(other, "SET lock_timeout = '2s'")
        query(other, "INSERT INTO orders VALUES (5)")  # while the chunk's transaction is open
        other.commit()
        scorer.commit()
    finally:
        for c in (scorer, other):
            c.rollback()
            c.close()
    assert query(conn, "SELECT count(s) FROM rows") == [(40,)]


def test_write_back_chunks_and_log(conn):
    est, x, _ = fitted("logit")
    deploy(conn.dsn, "logit")
    load_rows(conn, x[:230])
    (n, last, version), = query(conn, "SELECT * FROM pgscore.score_chunk('logit', 'rows', 'id', 's', NULL, 100)")
    assert (n, last, version) == (100, "99", 1)
    assert query(conn, "SELECT count(s) FROM rows") == [(100,)]
    (n, last, _), = query(conn, "SELECT * FROM pgscore.score_chunk('logit', 'rows', 'id', 's', '99', 100)")
    assert (n, last) == (100, "199")
    assert query(conn, "CALL pgscore.score_table('logit', 'rows', 'id', 's', 50)") == [(230,)]
    got = np.array([s for (s,) in query(conn, "SELECT s FROM rows ORDER BY id")])
    assert np.abs(got - est.predict_proba(x[:230])[:, 1]).max() <= 1e-9
    logged = query(conn, "SELECT count(*), count(DISTINCT entity_key), min(source), max(version) "
                         "FROM pgscore.predictions")
    assert logged == [(430, 230, "batch", 1)]
    (f,), = query(conn, "SELECT features FROM pgscore.prediction_log WHERE entity_key = '7' LIMIT 1")
    assert np.allclose(f, x[7])
    for args, state in [("'logit', 'rows', 'nope', 's'", "42703"), ("'logit', 'rows', 'id', 'f'", "42804"),
                        ("'logit', 'no_such_table', 'id', 's'", "42P01"), ("'logit', NULL, 'id', 's'", "22004"),
                        ("'nope', 'rows', 'id', 's'", "42704")]:
        assert sql_error(conn, f"SELECT * FROM pgscore.score_chunk({args})").pgcode == state, args


def test_batch_functions_with_nulls_and_directly(conn):
    deploy(conn.dsn, "logit")
    load_rows(conn, X[:3])
    for sql, state in [("SELECT * FROM pgscore.predict_batch(NULL, 'SELECT id, f AS features FROM rows')", "22004"),
                       ("SELECT * FROM pgscore.predict_batch('logit', NULL)", "22004"),
                       # batch_chunks returns its error as a row, for predict_batch to raise with batch_error
                       ("SELECT pgscore.batch_error(c.error) FROM pgscore.batch_chunks('logit', 'SELECT id, f AS "
                        "features FROM rows', NULL, NULL, false, 'public') AS c", "22004"),  # a NULL chunk size
                       ("SELECT pgscore.batch_error(c.error) FROM pgscore.batch_chunks('logit', 'SELECT id, f AS "
                        "features FROM rows', NULL, 10, false, NULL) AS c", "22004"),
                       ("CALL pgscore.score_table('logit', 'rows', NULL, 's')", "22004")]:
        assert sql_error(conn, sql).pgcode == state, sql
    (keys, scores, error), = query(conn, "SELECT keys, pgscore.float8_array(scores), error FROM pgscore.batch_chunks("
                                         "'logit', 'SELECT id, f AS features FROM rows', NULL, 10, false, 'public')")
    assert error is None
    assert keys == ["0", "1", "2"]
    assert np.abs(np.array(scores) - fitted("logit")[0].predict_proba(X[:3])[:, 1]).max() <= 1e-9
    assert query(conn, "SELECT count(*) FROM pgscore.prediction_log") == [(0,)]


def test_register_model_refuses_an_evaluator_that_does_not_match_its_sha256(conn):
    from pgscore import artifacts

    est, x, y = fitted("logit")
    blob = artifacts.dumps(est)
    meta = json.dumps({"task": "binary", "estimator": "x", "feature_names": NAMES, "feature_types": ["float8"] * 12,
                       "classes": [0, 1], "env": artifacts.writer_env()})
    err = sql_error(conn, "SELECT * FROM pgscore.register_model('bad', %s, %s, %s, NULL, true, NULL, %s, %s)",
                    (blob, artifacts.sha256(blob), meta, b"not the evaluator",
                     json.dumps({"format": "pgscore-numpy-1", "sha256": "0" * 64})))
    assert err.pgcode == "XX001" and "evaluator" in err.pgerror
    assert query(conn, "SELECT count(*) FROM pgscore.models") == [(0,)]


def test_write_back_from_a_features_array_column(conn):
    """One float8[] column named features: scored in SQL when its length is right; a short one takes the
    Python path, which refuses it."""
    est, x, _ = fitted("logit")
    deploy(conn.dsn, "logit")
    query(conn, "CREATE TABLE arr (id int PRIMARY KEY, features float8[], s float8)")
    for i, r in enumerate(x[:30]):
        query(conn, "INSERT INTO arr VALUES (%s, %s, NULL)", (i, [float(v) for v in r]))
    ran = nested_statements(conn, "SELECT * FROM pgscore.score_chunk('logit', 'arr', 'id', 's', NULL, 20)")
    assert any("CTE ok" in p for p in plans_of(ran)) and not read_into_python(ran)
    got = [s for (s,) in query(conn, "SELECT s FROM arr WHERE id < 20 ORDER BY id")]
    assert np.abs(np.array(got) - est.predict_proba(x[:20])[:, 1]).max() <= 1e-9
    query(conn, "UPDATE arr SET features = features[1:11] WHERE id = 25")
    err = sql_error(conn, "SELECT * FROM pgscore.score_chunk('logit', 'arr', 'id', 's', '19', 20)")
    assert err.pgcode == "22023" and "model logit v1 takes 12 features; row 6 (key '25') has 11 features" in str(err), \
        str(err)
    assert query(conn, "SELECT count(s) FROM arr WHERE id >= 20") == [(0,)]


def test_write_back_of_a_wide_features_array_reads_each_row_once(conn, db_url):
    """A linear model of 300 features over one float8[] column (2.4 kB a row: stored out of line, in TOAST):
    the chunk scores a copy of each locked row's array, where each of its 300 subscripts read the stored
    array whole again (a model of 3,000 features: 37 ms a row, 7.2 s for 200 rows, against 0.3 s now).
    Equal to scikit-learn, logged with the row's features; a row changed while its lock was waited for is
    scored on its final features."""
    from pgscore.batch import WIDE_ARRAY

    n = 300
    assert n > WIDE_ARRAY
    rng = np.random.default_rng(5)
    x = rng.normal(size=(400, n))
    est = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(x, (x[:, :4].sum(1) > 0).astype(int))
    registry.deploy(db_url, "wide", est, x, feature_names=[f"f{i}" for i in range(n)])
    query(conn, "CREATE TABLE arr (id int PRIMARY KEY, features float8[], s float8)")
    for i, r in enumerate(x[:30]):
        query(conn, "INSERT INTO arr VALUES (%s, %s, NULL)", (i, [float(v) for v in r]))
    assert query(conn, "SELECT pg_column_size(features) < 2400 FROM arr WHERE id = 0") == [(False,)]  # not compressed
    ran = nested_statements(conn, "SELECT * FROM pgscore.score_chunk('wide', 'arr', 'id', 's', NULL, 20)")
    assert any("CTE a" in p and "CTE ok" in p for p in plans_of(ran)) and not read_into_python(ran)
    got = [s for (s,) in query(conn, "SELECT s FROM arr WHERE id < 20 ORDER BY id")]
    assert np.abs(np.array(got) - est.predict_proba(x[:20])[:, 1]).max() <= 1e-9
    assert query(conn, "SELECT count(*) FROM pgscore.prediction_log l JOIN arr ON arr.id::text = l.entity_key "
                       "WHERE l.features = arr.features AND l.score = arr.s") == [(20,)]
    # the rest, one row changed by another transaction while the chunk waits for its lock
    run_past_a_lock(db_url, lambda other: query(other, "UPDATE arr SET features[1] = features[1] + 7, "
                                                       "features[2] = features[2] - 3 WHERE id = 25"),
                    "CALL pgscore.score_table('wide', 'arr', 'id', 's', 5)", "the row being written")
    (score, feats), = query(conn, "SELECT s, features FROM arr WHERE id = 25")
    assert feats[0] == pytest.approx(x[25, 0] + 7)
    assert score == pytest.approx(est.predict_proba(np.array([feats]))[0, 1], abs=1e-9)
    assert query(conn, "SELECT features, score FROM pgscore.prediction_log WHERE entity_key = '25' "
                       "ORDER BY logged_at DESC LIMIT 1") == [(feats, score)]
    assert query(conn, "SELECT count(s) FROM arr") == [(30,)]


@pytest.mark.parametrize("name", ["logit", "forest"])  # written back by SQL itself, and through Python
def test_a_boolean_feature_column_is_written_back_as_one_and_zero(conn, name):
    """score_table reads a boolean feature column as 1 and 0, on the path that scores in SQL and on the one
    that scores in Python."""
    deploy(conn.dsn, name)
    load_rows(conn, X[:40])
    first = NAMES[0]
    query(conn, f"ALTER TABLE rows ALTER COLUMN {first} TYPE boolean USING {first} > 2")
    query(conn, "CALL pgscore.score_table(%s, 'rows', 'id', 's')", (name,))
    got = np.array([s for (s,) in query(conn, "SELECT s FROM rows ORDER BY id")])
    x = X[:40].copy()
    x[:, 0] = (x[:, 0] > 2).astype(float)
    want = fitted(name)[0].predict_proba(x)[:, 1]
    assert np.max(np.abs(got - want)) < 1e-9


def test_a_new_session_scoring_linear_models_never_imports_numpy(db_url):
    """numpy's import is most of a new session's first score (docs/performance.md, "First call in a
    new session"): the row functions of a linear model (one-hot lookups and imputed NULLs included),
    their audit rows, rescoring in SQL and predict_batch do without it; the first chunk of another
    model's batch imports it."""
    from helpers import make_shop

    make_shop(db_url, fitted("logit")[0], X, Y, 20, rescore=True).close()  # 'churn', wired to complaints
    deploy(db_url, "m", model="onehot_imputed")
    deploy(db_url, "multi", model="logit_multi")
    c = psycopg2.connect(db_url)  # a new backend
    c.autocommit = True
    query(c, "CREATE FUNCTION pg_temp.numpy_loaded() RETURNS boolean LANGUAGE plpython3u "
             "AS $$ import sys; return 'numpy._core' in sys.modules $$")
    row = [None if np.isnan(v) else float(v) for v in X_NAN[0]]
    (s, label, proba, by_name), = query(
        c, "SELECT pgscore.score('churn', %s::float8[]), pgscore.predict('m', %s::float8[]), "
           "pgscore.predict_proba('m', %s::float8[]), pgscore.score('m', %s::jsonb)",
        (X[0].tolist(), row, row, json.dumps(dict(zip(NAMES, row)))))
    query(c, "INSERT INTO complaints (customer_id) VALUES (1), (2), (2)")
    assert query(c, "SELECT pg_temp.numpy_loaded()") == [(False,)]
    est = fitted("onehot_imputed")[0]
    ref = est.predict_proba(X_NAN[:1])[0]
    assert abs(s - fitted("logit")[0].predict_proba(X[:1])[0, 1]) < 1e-9
    assert label == str(est.predict(X_NAN[:1])[0]) and np.allclose(proba, ref, rtol=0, atol=1e-9)
    assert abs(by_name - ref[1]) < 1e-9
    assert query(c, "SELECT count(*) FROM pgscore.prediction_log") == [(4 + 2,)]  # 4 calls, 2 profiles
    assert query(c, "SELECT count(*) FROM customers WHERE id IN (1, 2) AND churn_score IS NOT NULL") \
        == [(2,)]
    # predict_batch of a linear model with one output is one SQL statement (migration 0027), one-hot lookups
    # included since session 71 (whose check for a strict encoder of words imported numpy: review r1); the chunks
    # of another model (a multiclass one) import numpy
    batch = ("SELECT count(*) FROM pgscore.predict_batch(%s, 'SELECT g, pg_catalog.array_fill("
             "1.0::pg_catalog.float8, ARRAY[12]) AS features FROM pg_catalog.generate_series(1, 3) g')")
    assert query(c, batch, ("churn",)) == [(3,)] and query(c, "SELECT pg_temp.numpy_loaded()") == [(False,)]
    assert query(c, batch, ("m",)) == [(3,)] and query(c, "SELECT pg_temp.numpy_loaded()") == [(False,)]
    assert query(c, batch, ("multi",)) == [(3,)] and query(c, "SELECT pg_temp.numpy_loaded()") == [(True,)]
    c.close()


@pytest.mark.parametrize("model", ["logit", "hgb"])
def test_score_table_on_a_table_made_again_under_its_name_scores_the_new_one(conn, model):
    """A session's score_table plans are the table's, not its name's: a plain table replaced by a partitioned
    one of the same name (the usual way to partition a table) is scored whole, in the same session (its plans,
    made with ONLY for the plain table, read no row of the partitioned one: 0 rows scored, no error)."""
    deploy(conn.dsn, model)
    load_rows(conn, X[:30])
    query(conn, "CALL pgscore.score_table(%s, 'rows', 'id', 's', p_chunk_size => 10)", (model,))
    query(conn, "ALTER TABLE rows RENAME TO old_rows")
    query(conn, "CREATE TABLE rows (LIKE old_rows) PARTITION BY RANGE (id); ALTER TABLE rows ADD PRIMARY KEY (id); "
                "CREATE TABLE rows_a PARTITION OF rows FOR VALUES FROM (0) TO (15); "
                "CREATE TABLE rows_b PARTITION OF rows FOR VALUES FROM (15) TO (100); "
                "INSERT INTO rows SELECT id, f, " + ", ".join(NAMES) + ", NULL FROM old_rows")
    (rows,), = query(conn, "CALL pgscore.score_table(%s, 'rows', 'id', 's', p_chunk_size => 10)", (model,))
    assert rows == 30 and query(conn, "SELECT count(s) FROM rows") == [(30,)]


def test_pgscore_score_counts_the_rows_it_scores_not_an_inheriting_tables(conn):
    """`pgscore score` on a table that others inherit from scores the table's own rows (as score_table does):
    its summary counts them, not the children's, nor the children's NULL keys."""
    deploy(conn.dsn, "logit")
    load_rows(conn, X[:12])
    query(conn, "CREATE TABLE ut AS SELECT * FROM rows; ALTER TABLE ut ADD UNIQUE (id); "
                "CREATE TABLE ut_old () INHERITS (ut); INSERT INTO ut_old SELECT * FROM ONLY ut; "
                "UPDATE ut_old SET id = NULL WHERE id < 5")
    r = pgscore_cli("score", "--model", "logit", "--table", "ut", "--key", "id", "--into", "s", "--quiet",
                    "--db", conn.dsn)
    assert r.returncode == 0, r.stderr
    assert "scored 12 rows" in r.stdout and "NULL" not in r.stdout, r.stdout
    assert query(conn, "SELECT count(s) FROM ONLY ut") == [(12,)]
    assert query(conn, "SELECT count(s) FROM ut_old") == [(0,)]


def test_pgscore_score_with_a_key_the_table_lacks_names_it_as_the_key_column(conn):
    """`pgscore score --key` naming a column the table lacks failed in the client's row count with PostgreSQL's
    bare error (`column "id" does not exist`), naming neither the option nor the table, under PostgreSQL's hint
    `Perhaps you meant to reference the column "t.s"`: the score column. It says what score_table says from SQL
    (the key column, the table's columns) and, where the table has one, the columns a key could name."""
    deploy(conn.dsn, "logit")
    load_rows(conn, X[:12])
    query(conn, "CREATE TABLE nokey AS SELECT f AS features, s FROM rows")  # no key column, no unique index
    for table, key, hint in (("nokey", "id", None), ("rows", "ID", "public.rows with a unique index of their own: "
                                                                   "id (the primary key)")):
        r = pgscore_cli("score", "--model", "logit", "--table", table, "--key", key, "--into", "s", "--db", conn.dsn)
        assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
        assert f"error: table public.{table} has no column '{key}' (the key column) (SQLSTATE 42703)\nDetail: " \
               "columns: " in r.stderr and "Perhaps you meant" not in r.stderr, r.stderr
        assert (f"Hint: columns of {hint}" in r.stderr) if hint else "Hint" not in r.stderr, r.stderr
        # from SQL too
        err = sql_error(conn, "CALL pgscore.score_table('logit', %s, %s, 's')", (table, key))
        assert err.pgcode == "42703" and err.diag.message_hint == (f"columns of {hint}" if hint else None)
    assert query(conn, "SELECT count(s) FROM rows") == [(0,)]


def test_temporary_files_past_temp_file_limit_are_said_in_pgscores_words(db_url):
    """predict_batch, score_table and pgscore score past temp_file_limit gave PostgreSQL's bare 'temporary file size
    exceeds temp_file_limit (64kB)', naming neither the model nor the query or table, nor what went to disk or
    what to do. Each now says which model, what spilled (the query scored in one statement with its audit rows'
    features, the rows returned, the caller's query's own sort, a chunk of the table) and what to do; 53400 kept."""
    conn = psycopg2.connect(db_url)
    conn.autocommit = True
    registry.deploy(conn, "lin", LogisticRegression(max_iter=500).fit(X, Y), X, feature_names=NAMES)
    registry.deploy(conn, "tree", HistGradientBoostingClassifier(max_iter=10).fit(X, Y), X, feature_names=NAMES)
    query(conn, "CREATE TABLE t AS SELECT g AS id, ARRAY(SELECT (g * 7 + i) % 50 + 0.5 FROM generate_series(1, 12) i)"
                "::float8[] AS features, NULL::float8 AS s FROM generate_series(1, 20000) g")
    query(conn, "ALTER TABLE t ADD PRIMARY KEY (id)")
    query(conn, "SET work_mem = '64kB'; SET temp_file_limit = '1MB'")  # (both a superuser's, as the tests run)
    raise_it = "have a superuser raise temp_file_limit"
    cases = [
        # a linear model: one statement, holding each row's features for the audit rows
        ("SELECT count(*) FROM pgscore.predict_batch('lin', 'SELECT id, features FROM t')",
         ["pgscore.predict_batch: model lin scores this query in one statement, whose temporary files exceeded "
          "temp_file_limit (1MB)", "with each row's features kept for its audit row"],
         ["score fewer rows a call", "pgscore score", "p_log => false", raise_it]),
        # chunk by chunk: the rows returned, held until the call ends
        ("SELECT count(*) FROM pgscore.predict_batch('tree', 'SELECT id, features FROM t', p_log => false)",
         ["pgscore.predict_batch: model tree: the rows it returns, held until it ends", "temp_file_limit (1MB)"],
         ["score fewer rows a call", "pgscore score", raise_it]),
        # the caller's query's own sort
        ("SELECT count(*) FROM pgscore.predict_batch('tree', 'SELECT id, features FROM t ORDER BY random()', "
         "p_log => false)",
         ["pgscore.predict_batch: model tree v1: the query's temporary files exceeded temp_file_limit (1MB) while "
          "its rows were read"], ["an index that returns its rows without a sort", raise_it]),
        # a chunk of a table, linear (one statement) and not
        ("CALL pgscore.score_table('lin', 't', 'id', 's', 20000)",
         ["model lin v1: a chunk of 20000 rows of public.t took more temporary file space than temp_file_limit "
          "(1MB) allows", "with each row's features for its audit row", "nothing of this chunk was written"],
         ["score smaller chunks (score_table's p_chunk_size, pgscore score's --chunk-size)", "--no-log", raise_it]),
        ("CALL pgscore.score_table('tree', 't', 'id', 's', 20000, p_log => false)",
         ["model tree v1: a chunk of 20000 rows of public.t took more temporary file space"],
         ["score smaller chunks", raise_it]),
    ]
    for sql, said, hinted in cases:
        err = sql_error(conn, sql)
        assert err.pgcode == "53400", (sql, err.pgerror)
        for words in said:
            assert words in err.diag.message_primary, (sql, words, err.diag.message_primary)
        assert "temporary file size exceeds temp_file_limit" in err.diag.message_detail, err.diag.message_detail
        for words in hinted:
            assert words in err.diag.message_hint, (sql, words, err.diag.message_hint)
    # what the hint says works: smaller chunks
    query(conn, "CALL pgscore.score_table('lin', 't', 'id', 's', 2000)")
    assert query(conn, "SELECT count(*) FROM t WHERE s IS NULL") == [(0,)]
    # pgscore score says it too, and where to go on from
    run = pgscore_cli("score", "--model", "tree", "--table", "t", "--key", "id", "--into", "s", "--chunk-size", "5000",
                      "--db", db_url, env={"PGOPTIONS": "-c work_mem=64kB -c temp_file_limit=100kB"})
    assert run.returncode == 1, (run.stdout, run.stderr)
    err = " ".join(run.stderr.split())
    assert "53400" in err and "model tree v1: a chunk of 5000 rows of public.t took more temporary file space" in err
    assert "pgscore score's --chunk-size" in err, err
    conn.close()


def test_a_row_past_the_nearest_scaler_bound_but_within_its_own_is_scored_as_scikit_learn_scores_it(conn):
    """predict_batch and score_table score a linear model in SQL with one test a row against the finite bound
    nearest 0 (feature b's, ~1.8e305); a row past it but within its own feature's bound (a's, ~9e307) goes to
    Python (pgscore.batch_row, score_table's chunk in Python), which scores it as pgscore.score and
    scikit-learn do; a row past a's own bound is refused (22023)."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(300, 3)) * [0.5, 0.001, 10.0]
    y = (x[:, 0] * 2 + x[:, 1] * 1000 + rng.normal(size=300) > 0).astype(int)
    est = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x, y)
    registry.deploy(conn.dsn, "near", est, x, y, feature_names=["a", "b", "c"])
    ev = compile_estimator(est, "binary", 3)
    assert ev.arrays["fin_hi"][1] < 1e306 < 1e307 < ev.arrays["fin_hi"][0]
    rows = [(1, 0.1, 0.001, 3.0), (2, 1e307, 0.001, 1.0), (3, -1e307, -0.002, 2.0)]
    query(conn, "CREATE TABLE near_t (id int PRIMARY KEY, a float8, b float8, c float8, s float8)")
    query(conn, "INSERT INTO near_t VALUES " + ", ".join(["(%s, %s, %s, %s, NULL)"] * 3), [v for r in rows for v in r])
    got = dict(query(conn, "SELECT key, score FROM pgscore.predict_batch('near', 'SELECT id, a, b, c FROM near_t', "
                           "p_log => false)"))
    assert query(conn, "CALL pgscore.score_table('near', 'near_t', 'id', 's', p_log => false)") == [(3,)]
    written = dict(query(conn, "SELECT id, s FROM near_t"))
    for i, *f in rows:
        (one,), = query(conn, "SELECT pgscore.score('near', %s::float8[])", (f,))
        # (SQL clamps exp() at z = -700: 9.9e-305 where Python's is 0.0, as score_sql says)
        assert all(abs(v - one) < 1e-300 for v in (got[str(i)], written[i])), (i, got, one, written)
        assert abs(one - est.predict_proba([f])[0, 1]) <= 1e-9
    query(conn, "UPDATE near_t SET a = 1e308 WHERE id = 2")
    err = sql_error(conn, "SELECT * FROM pgscore.predict_batch('near', 'SELECT id, a, b, c FROM near_t', p_log => false)")
    assert err.pgcode == "22023" and "(key '2'" in err.pgerror, err.pgerror


def test_a_value_the_scaler_makes_infinite_is_refused_as_scikit_learn_refuses_it(conn):
    """A StandardScaler with a small scale_ (~0.001) before a logistic regression: 1e308 divided by it is infinity,
    which scikit-learn's LogisticRegression refuses. The compiled model folds the scaler into its weights, and
    pgscore.score, predict_proba, predict, predict_batch (in SQL and in chunks) and score_table gave a
    probability for that row instead. Each refuses it now (22023, naming the feature and the key), as the model
    scored by scikit-learn does, and scores the largest value scikit-learn takes as scikit-learn does."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(300, 3)) * [1.0, 0.001, 10.0]
    y = (x[:, 0] + x[:, 1] * 1000 + rng.normal(size=300) > 0).astype(int)
    est = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x, y)
    names = ["a", "b", "c"]
    assert registry.deploy(conn.dsn, "tiny", est, x, y, feature_names=names)["engine"] == "numpy"
    registry.deploy(conn.dsn, "tiny_sk", est, x, y, feature_names=names, compile=False)
    with pytest.raises(ValueError, match="Input X contains infinity"):
        est.predict_proba([[0.0, 1e308, 0.0]])
    query(conn, "CREATE TABLE t (id int PRIMARY KEY, a float8, b float8, c float8, s float8)")
    query(conn, "INSERT INTO t VALUES (1, 0.5, 0.001, 3, NULL), (2, 0.1, 1e308, 1, NULL), (3, 0.2, -1e308, 2, NULL)")
    for model in ("tiny", "tiny_sk"):
        for sql in ("SELECT pgscore.score(%s, ARRAY[a, b, c]) FROM t WHERE id = 2",
                    "SELECT pgscore.score(%s, to_jsonb(t)) FROM t WHERE id = 3",
                    "SELECT pgscore.predict_proba(%s, ARRAY[a, b, c]) FROM t WHERE id = 2",
                    "SELECT pgscore.predict(%s, to_jsonb(t)) FROM t WHERE id = 2"):
            err = sql_error(conn, sql, (model,))
            assert err.pgcode == "22023" and "infinity" in err.pgerror, (model, sql, err.pgerror)
            if model == "tiny":
                assert "feature 'b' is " in err.pgerror and "to infinity" in err.pgerror, err.pgerror
        for log in (False, True):  # one statement in SQL, and chunks through Python
            err = sql_error(conn, "SELECT * FROM pgscore.predict_batch(%s, 'SELECT id, a, b, c FROM t ORDER BY id', "
                                  "p_log => %s)", (model, log))
            assert err.pgcode == "22023" and "(key '2'" in err.pgerror, (model, log, err.pgerror)
        err = sql_error(conn, "CALL pgscore.score_table(%s, 't', 'id', 's')", (model,))
        assert err.pgcode == "22023" and "(key '2'" in err.pgerror, (model, err.pgerror)
    # the largest value it takes: scored, as scikit-learn scores it
    ev = compile_estimator(est, "binary", 3)
    top = [0.1, float(ev.arrays["fin_hi"][1]), 1.0]
    (got,), = query(conn, "SELECT pgscore.score('tiny', %s::float8[])", (top,))
    assert abs(got - est.predict_proba([top])[0, 1]) <= 1e-9
    query(conn, "DELETE FROM t WHERE id > 1")
    assert query(conn, "CALL pgscore.score_table('tiny', 't', 'id', 's')") == [(1,)]


@pytest.mark.filterwarnings("ignore:overflow encountered")
def test_a_refused_value_of_a_column_the_linear_model_drops_is_refused_in_sql_too(conn):
    """Two scalers, then a ColumnTransformer that keeps column a alone: scikit-learn refuses b = 1e308 (the first
    scaler makes it infinity, which the second refuses) and b = infinity. pgscore.score refused both (22023), but
    predict_batch's one statement in SQL, whose sum never reads b, gave both rows a score, as did the row path's
    sum for the infinity. Every form refuses them now, naming the key, and still scores the other rows."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    x[:, 1] *= 0.01
    y = (x[:, 0] + rng.normal(size=200) > 0).astype(int)
    scalers = ColumnTransformer([("s", make_pipeline(StandardScaler(), StandardScaler()), [0, 1, 2])])
    est = Pipeline([("ct1", scalers), ("ct2", ColumnTransformer([("p", "passthrough", [0])])),
                    ("lr", LogisticRegression())]).fit(x, y)
    for v in (1e308, np.inf):
        with pytest.raises(ValueError, match="infinity"):
            est.predict_proba([[0.1, v, 0.2]])
    assert registry.deploy(conn.dsn, "dropb", est, x, y, feature_names=["a", "b", "c"])["engine"] == "numpy"
    query(conn, "CREATE TABLE t (id int PRIMARY KEY, a float8, b float8, c float8, s float8)")
    query(conn, "INSERT INTO t VALUES (1, 0.5, 0.001, 3, NULL), (2, 0.1, 1e308, 1, NULL), "
                "(3, 0.2, 'Infinity', 2, NULL)")
    for key in (2, 3):
        err = sql_error(conn, "SELECT pgscore.score('dropb', ARRAY[a, b, c]) FROM t WHERE id = %s", (key,))
        assert err.pgcode == "22023" and "feature 'b' is " in err.pgerror, err.pgerror
        for log in (False, True):  # one statement in SQL, and chunks through Python
            err = sql_error(conn, "SELECT * FROM pgscore.predict_batch('dropb', 'SELECT id, a, b, c FROM t "
                                  "WHERE id IN (1, %s) ORDER BY id', p_log => %s)", (key, log))
            assert err.pgcode == "22023" and f"(key '{key}'" in err.pgerror, (key, log, err.pgerror)
    (got,), = query(conn, "SELECT score FROM pgscore.predict_batch('dropb', 'SELECT id, a, b, c FROM t WHERE id = 1')")
    assert abs(got - est.predict_proba([[0.5, 0.001, 3]])[0, 1]) <= 1e-9


@pytest.mark.filterwarnings("ignore:overflow encountered")
def test_predict_batch_in_sql_refuses_a_dropped_column_s_refused_values_and_scores_the_rest(conn):
    """A scaler then FunctionTransformer(validate=True) over every column, then a ColumnTransformer that keeps a and c:
    b's 1e308 (infinite once scaled), infinities, NaN and NULL are refused by scikit-learn. The model keeps its one
    statement in SQL (score_sql is not None): predict_batch refuses each of those rows as pgscore.score does, naming
    the key, and scores the others as scikit-learn does."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    x[:, 1] *= 0.01
    y = (x[:, 0] + rng.normal(size=200) > 0).astype(int)
    strict = ColumnTransformer([("s", make_pipeline(StandardScaler(), FunctionTransformer(validate=True)), [0, 1, 2])])
    est = Pipeline([("ct1", strict), ("ct2", ColumnTransformer([("p", "passthrough", [0, 2])])),
                    ("lr", LogisticRegression())]).fit(x, y)
    assert compile_estimator(est, "binary", 3).score_sql(["a", "b", "c"]) is not None
    for v in (1e308, np.inf, -np.inf, np.nan):
        with pytest.raises(ValueError):
            est.predict_proba([[0.1, v, 0.2]])
    assert registry.deploy(conn.dsn, "dropv", est, x, y, feature_names=["a", "b", "c"])["engine"] == "numpy"
    query(conn, "CREATE TABLE t (id int PRIMARY KEY, a float8, b float8, c float8)")
    query(conn, "INSERT INTO t VALUES (1, 0.5, 0.001, 3), (2, -1.5, -0.02, 0.25), (3, 0.1, 1e308, 1), "
                "(4, 0.2, 'Infinity', 2), (5, 0.3, '-Infinity', 2), (6, 0.4, 'NaN', 2), (7, 0.6, NULL, 2)")
    for key in (3, 4, 5, 6, 7):
        err = sql_error(conn, "SELECT pgscore.score('dropv', ARRAY[a, b, c]) FROM t WHERE id = %s", (key,))
        assert err.pgcode == "22023" and "feature 'b' is " in err.pgerror, err.pgerror
        err = sql_error(conn, "SELECT * FROM pgscore.predict_batch('dropv', 'SELECT id, a, b, c FROM t "
                              "WHERE id IN (1, 2, %s) ORDER BY id', p_log => false)", (key,))
        assert err.pgcode == "22023" and f"(key '{key}'" in err.pgerror, (key, err.pgerror)
    got = query(conn, "SELECT key::int, score FROM pgscore.predict_batch('dropv', 'SELECT id, a, b, c FROM t "
                      "WHERE id < 3 ORDER BY id', p_log => false) ORDER BY key::int")
    want = est.predict_proba([[0.5, 0.001, 3], [-1.5, -0.02, 0.25]])[:, 1]
    assert [k for k, _ in got] == [1, 2] and all(abs(s - w) <= 1e-9 for (_, s), w in zip(got, want))
    for key, w in zip((1, 2), want):
        (s,), = query(conn, "SELECT pgscore.score('dropv', ARRAY[a, b, c]) FROM t WHERE id = %s", (key,))
        assert abs(s - w) <= 1e-9


def test_the_docs_probability_of_a_class_by_its_name_is_scikit_learns(conn):
    """docs/sql.md's recipe for one class's probability (predict_proba's element at the class's place in
    model_versions.classes) gives scikit-learn's probability of that class, for every class of a multiclass model."""
    est, x, _ = fitted("logit_multi")
    deploy(conn.dsn, "tier", model="logit_multi")
    load_rows(conn, x[:40])
    want = est.predict_proba(x[:40])
    for j, cls in enumerate(est.classes_):
        got = query(conn, "SELECT (pgscore.predict_proba('tier', f))[array_position(ARRAY(SELECT "
                          "jsonb_array_elements_text(v.classes) FROM pgscore.model_versions v WHERE v.name = 'tier' "
                          "AND v.live), %s)] FROM rows ORDER BY id", (str(cls),))
        assert np.abs(np.array([g[0] for g in got]) - want[:, j]).max() <= 1e-9, cls

REGION = ["north", "south", "east", "west"]  # region_code: array_position(ARRAY[...], region) - 1
CAT_NAMES = ["region_code", "spend", "visits"]


def _coded(n=400, seed=5):
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.integers(0, 4, n), rng.normal(50, 10, n), rng.poisson(3, n)]).astype(float)
    return x, (x[:, 0] + (x[:, 1] > 50)).astype(int) % 3  # three classes


@pytest.mark.parametrize("final", ["logit", "forest"])
def test_a_feature_one_hot_encoded_names_its_codes_where_a_value_is_null_or_unknown(conn, final):
    """A strict OneHotEncoder (handle_unknown='error') on a code made in SQL (docs/sql.md "Features are numbers"):
    array_position's NULL for a category unseen was `is NULL or NaN` with "this model has no imputer ...; pass a
    number", and 7 or 1.5 `has unknown category 7.0` with no hint; both now say it is a category, its codes and
    what to do, by array, by name, in predict_batch and in score_table."""
    x, y = _coded()
    est = make_pipeline(ColumnTransformer([("cat", OneHotEncoder(), [0])], remainder=StandardScaler()),
                        LogisticRegression(max_iter=1000) if final == "logit" else
                        RandomForestClassifier(n_estimators=10, max_depth=4, random_state=0)).fit(x, y)
    registry.deploy(conn.dsn, "regions", est, x, y, feature_names=CAT_NAMES)
    (engine,), = query(conn, "SELECT engine FROM pgscore.model_versions WHERE name = 'regions'")
    assert engine == "numpy"
    hint = ("it is a category the model one-hot encodes, with the codes 0, 1, 2, 3; an unknown category or a NULL "
            "(array_position's for a value not in the ARRAY) needs handle_unknown='ignore' (or an imputer) at "
            "training, or the value coded in SQL as one of these")
    for code, said in ((None, "is NULL or NaN"), (7, "has unknown category 7.0"), (1.5, "has unknown category 1.5")):
        for sql, args in (("SELECT pgscore.predict('regions', %s::float8[])", ([code, 50.0, 3.0],)),
                          ("SELECT pgscore.predict_proba('regions', %s::jsonb)",
                           (json.dumps({"region_code": code, "spend": 50.0, "visits": 3}),))):
            err = sql_error(conn, sql, args)
            assert err.pgcode == "22023" and f"feature 'region_code' {said}" in err.diag.message_primary, err.pgerror
            assert err.diag.message_hint == hint, err.pgerror
        query(conn, "DROP TABLE IF EXISTS coded")
        query(conn, "CREATE TABLE coded (id int PRIMARY KEY, region_code float8, spend float8, visits float8, s float8)")
        query(conn, "INSERT INTO coded SELECT g, g % 4, 50, 3 FROM generate_series(1, 30) g")
        query(conn, "UPDATE coded SET region_code = %s WHERE id = 17", (code,))
        err = sql_error(conn, "SELECT * FROM pgscore.predict_batch('regions', "
                              "'SELECT id, region_code, spend, visits FROM coded')")
        assert f"feature 'region_code' {said}" in err.diag.message_primary, err.pgerror
        assert err.diag.message_hint == hint, err.pgerror
        err = sql_error(conn, "CALL pgscore.score_table('regions', 'coded', 'id', 's', 10)")
        assert f"feature 'region_code' {said}" in err.diag.message_primary, err.pgerror
        assert err.diag.message_hint.startswith(hint + "\nonce the cause is fixed, CALL it again"), err.pgerror
    if final == "forest":  # (its trees take a NaN in the others)
        return
    # a feature that is no category keeps the imputer's hint
    err = sql_error(conn, "SELECT pgscore.predict('regions', %s::float8[])", ([1.0, None, 3.0],))
    assert "'spend' is NULL or NaN" in err.diag.message_primary
    assert err.diag.message_hint == "this model has no imputer for missing values; pass a number", err.pgerror


def test_many_codes_are_shown_first_few_and_counted(conn):
    rng = np.random.default_rng(2)
    x = np.column_stack([rng.integers(0, 40, 800), rng.normal(0, 1, 800)]).astype(float)
    x[:40, 0] = np.arange(40)
    y = (x[:, 1] > 0).astype(int)
    est = make_pipeline(ColumnTransformer([("cat", OneHotEncoder(), [0])], remainder="passthrough"),
                        LogisticRegression(max_iter=1000)).fit(x, y)
    registry.deploy(conn.dsn, "stores", est, x, y, feature_names=["store_id", "z"])
    err = sql_error(conn, "SELECT pgscore.score('stores', ARRAY[40.0, 0.0])")
    assert "feature 'store_id' has unknown category 40.0" in err.diag.message_primary, err.pgerror
    assert err.diag.message_hint.startswith("it is a category the model one-hot encodes, with the codes 0, 1, 2, 3, 4, "
                                            "5, 6, 7, 8, 9, ... (40 in all); "), err.pgerror


def test_a_json_object_with_the_text_a_code_is_made_from_names_it(conn):
    """`to_jsonb(a) - 'region_code'`: the object has `region`, the text the missing feature `region_code` is coded
    from; it said only that the feature is missing (region is no near spelling of it)."""
    x, y = _coded()
    est = make_pipeline(ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), [0])],
                                          remainder=StandardScaler()), LogisticRegression(max_iter=1000)).fit(x, y)
    registry.deploy(conn.dsn, "regions", est, x, y, feature_names=CAT_NAMES)
    err = sql_error(conn, "SELECT pgscore.predict('regions', %s::jsonb)",
                    (json.dumps({"region": "east", "spend": 50.0, "visits": 3}),))
    assert err.pgcode == "22023" and "feature 'region_code' is missing" in err.diag.message_primary
    assert err.diag.message_hint == (
        "the object has the key 'region', which is no feature: the model reads the code column 'region_code'; add it "
        "to the object, made from 'region' as at training (array_position(ARRAY[...], value) - 1: docs/sql.md, "
        "'Features are numbers')"), err.pgerror
    # where the code's name is near the text's (region_id, region), the same hint, not a typo's
    registry.deploy(conn.dsn, "regions_id", est, x, y, feature_names=["region_id", "spend", "visits"])
    err = sql_error(conn, "SELECT pgscore.predict('regions_id', %s::jsonb)",
                    (json.dumps({"Region": "east", "spend": 50.0, "visits": 3}),))
    assert "the model reads the code column 'region_id'" in err.diag.message_hint, err.pgerror
    # no such key: no guess, but how to pass a missing value (since session 70); a typo: the typo's
    err = sql_error(conn, "SELECT pgscore.predict('regions', %s::jsonb)",
                    (json.dumps({"area": "east", "spend": 50.0, "visits": 3}),))
    assert err.diag.message_hint == missing_key_hint("region_code"), err.pgerror
    err = sql_error(conn, "SELECT pgscore.predict('regions', %s::jsonb)",
                    (json.dumps({"region_cod": 1, "spend": 50.0, "visits": 3}),))
    assert err.diag.message_hint.endswith("a typo for 'region_code'?"), err.pgerror


@pytest.mark.parametrize("final", ["logit", "forest"])
def test_the_codes_named_are_those_it_takes_where_a_feature_is_one_hot_encoded_twice(conn, final):
    """A feature one-hot encoded by two encoders (a strict one that knows 1, 5, 9 and another that knows 11 too, or
    one that ignores what it does not know): the hint named the union of their codes, 11 among them, for 11 itself
    refused as an unknown category. It names the codes the model takes: those every strict encoder knows."""
    rng = np.random.default_rng(3)
    x = np.column_stack([rng.choice([1, 5, 9], 300), rng.normal(0, 1, 300), rng.choice([0, 2], 300)]).astype(float)
    y = (x[:, 1] + (x[:, 0] == 5) > 0).astype(int)
    ct = ColumnTransformer([("a", OneHotEncoder(categories=[[1, 5, 9]]), [0]),
                            ("b", OneHotEncoder(categories=[[1, 5, 9, 11]], handle_unknown="ignore"), [0]),
                            ("c", OneHotEncoder(categories=[[0, 2, 4]]), [2]),
                            ("d", OneHotEncoder(categories=[[0, 2, 4, 6]]), [2])], remainder="passthrough")
    est = make_pipeline(ct, LogisticRegression(max_iter=1000) if final == "logit" else
                        RandomForestClassifier(n_estimators=5, max_depth=3, random_state=0)).fit(x, y)
    registry.deploy(conn.dsn, "twice", est, x, y, feature_names=["tier_code", "z", "band_code"])
    (engine,), = query(conn, "SELECT engine FROM pgscore.model_versions WHERE name = 'twice'")
    assert engine == "numpy"
    for row, name, bad, codes in (([11, 0, 0], "tier_code", "11.0", "1, 5, 9"), ([1, 0, 6], "band_code", "6.0",
                                                                                 "0, 2, 4")):
        err = sql_error(conn, "SELECT * FROM pgscore.predict_batch('twice', %s)",
                        (f"SELECT 1 AS id, {row[0]}::float8 AS tier_code, {row[1]}::float8 AS z, "
                         f"{row[2]}::float8 AS band_code",))
        assert f"feature '{name}' has unknown category {bad}" in err.diag.message_primary, err.pgerror
        assert err.diag.message_hint.startswith(f"it is a category the model one-hot encodes, with the codes {codes};"),\
            err.pgerror


def test_the_codes_named_are_the_codes_to_the_last_digit(conn):
    """The hint wrote a code with six digits (`{:g}`): 0.1234567 as 0.123457 and 1234567890123457 as 1.23457e+15,
    codes the model does not know, for the user to code the value in SQL as one of "these"."""
    rng = np.random.default_rng(4)
    codes = [0.1234567, 2.5, 1234567890123457.0]
    x = np.column_stack([rng.choice(codes, 300), rng.normal(0, 1, 300)])
    y = (x[:, 1] > 0).astype(int)
    est = make_pipeline(ColumnTransformer([("cat", OneHotEncoder(), [0])], remainder="passthrough"),
                        LogisticRegression(max_iter=1000)).fit(x, y)
    registry.deploy(conn.dsn, "exact", est, x, y, feature_names=["grade_code", "z"])
    err = sql_error(conn, "SELECT pgscore.score('exact', ARRAY[7.0, 0.0])")
    assert "feature 'grade_code' has unknown category 7" in err.diag.message_primary, err.pgerror
    assert err.diag.message_hint.startswith("it is a category the model one-hot encodes, with the codes 0.1234567, "
                                            "2.5, 1234567890123457; "), err.pgerror


def test_a_json_object_with_a_misspelt_code_column_is_told_the_typo_not_to_make_the_code(conn):
    """`to_jsonb(a)` of a table with the text `region` and its code column misspelt `regoin_code`: the hint said to
    add `region_code` made from `region` (the code is there, under a name one letter off); the typo's hint, as
    before session 58, comes first, the code column's only where no key looks like a typo."""
    x, y = _coded()
    est = make_pipeline(ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), [0])],
                                          remainder=StandardScaler()), LogisticRegression(max_iter=1000)).fit(x, y)
    registry.deploy(conn.dsn, "regions", est, x, y, feature_names=CAT_NAMES)
    err = sql_error(conn, "SELECT pgscore.predict('regions', %s::jsonb)",
                    (json.dumps({"region": "east", "regoin_code": 2, "spend": 50.0, "visits": 3}),))
    assert "feature 'region_code' is missing" in err.diag.message_primary, err.pgerror
    assert err.diag.message_hint == ("the object has the key 'regoin_code', which is no feature: a typo for "
                                     "'region_code'?"), err.pgerror
    # the same for region_id, whose name is near region's: the key region is no typo of it
    registry.deploy(conn.dsn, "regions_id", est, x, y, feature_names=["region_id", "spend", "visits"])
    err = sql_error(conn, "SELECT pgscore.predict('regions_id', %s::jsonb)",
                    (json.dumps({"region": "east", "spend": 50.0, "visits": 3}),))
    assert "the model reads the code column 'region_id'" in err.diag.message_hint, err.pgerror


# the HINT of features missing from a JSON object where no key of it looks like one (a typo, a code's text): the
# object's own keys win over the nulls added (`nulls || doc`: `doc || nulls` nulled a key the object had)
def missing_key_hint(*names):
    return ("give every feature as a key: a missing value is a JSON null (" + json.dumps(dict.fromkeys(names))
            + "), which the model reads as NaN, as scikit-learn reads a DataFrame's empty cell; where a client leaves "
            "out the keys of its nulls, add them under the object's own: jsonb_build_object("
            + ", ".join(f"'{n}', NULL" for n in names) + ") || doc")


def test_a_json_object_without_a_feature_s_key_is_told_how_to_pass_a_missing_value(conn):
    """A model server's `pd.DataFrame(rows, columns=COLS)` took a key left out (a client's `exclude_none`) as NaN;
    pgscore refuses it (a typo must not score as a missing value), and said only `feature 'region' is missing from
    the JSON object` with the keys expected: no hint of how to pass a missing value (trial T27). The object with
    the key's null scores as the model given NaN."""
    x, y = _coded()
    x[::7, 1] = np.nan  # (spend missing in some rows: the imputer's)
    est = make_pipeline(ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), [0])],
                                          remainder=make_pipeline(SimpleImputer(), StandardScaler())),
                        LogisticRegression(max_iter=1000)).fit(x, y)
    registry.deploy(conn.dsn, "gappy", est, x, y, feature_names=CAT_NAMES)
    doc = {"region_code": 2, "visits": 3}
    err = sql_error(conn, "SELECT pgscore.score('gappy', %s::jsonb)", (json.dumps(doc),))
    assert err.pgcode == "22023" and "feature 'spend' is missing" in err.diag.message_primary, err.pgerror
    assert err.diag.message_hint == missing_key_hint("spend"), err.pgerror
    # the hint's fix, as written, put in the app's call: it scores an object without the key as NaN, and one with
    # it as the object (`doc || jsonb_build_object('spend', NULL)`, the hint before, nulled every row's spend)
    fix = err.diag.message_hint.rsplit(": ", 1)[1].replace("doc", "%s::jsonb")
    for given, spend in ((doc, np.nan), ({**doc, "spend": 61.5}, 61.5)):
        (got,), = query(conn, f"SELECT pgscore.score('gappy', {fix})", (json.dumps(given),))
        assert abs(got - est.predict_proba(np.array([[2.0, spend, 3.0]]))[0].max()) < 1e-9, given  # (the top class)
    # several missing: one hint for them all (it named the first: the next call was refused for the next)
    err = sql_error(conn, "SELECT pgscore.score('gappy', %s::jsonb)", (json.dumps({"region_code": 2}),))
    assert err.diag.message_hint == missing_key_hint("spend", "visits"), err.pgerror
    # none of them: no nulls for all (a row of NaN, which the imputers would score), but what the object holds
    err = sql_error(conn, "SELECT pgscore.score('gappy', %s::jsonb)", (json.dumps({"customer": doc, "id": 7}),))
    assert err.diag.message_hint == "the object has none of the model's features, its keys being id, customer: the " \
        "features under the key 'customer'? pass doc -> 'customer'", err.pgerror
    # one of them misspelt: that one's typo, not a null for it (a typo must not score as missing)
    err = sql_error(conn, "SELECT pgscore.score('gappy', %s::jsonb)", (json.dumps({"region_code": 2, "vists": 3}),))
    assert err.diag.message_hint == missing_key_hint("spend") + "; the object has the key 'vists', which is no " \
        "feature: a typo for 'visits'?", err.pgerror



def test_the_missing_keys_hint_of_a_wide_model_names_the_first_ten_and_says_how_many_more(conn):
    """Trial T27's leftover (session 71): the hint for the keys an object lacks named every one of them twice (the
    nulls' example and the jsonb_build_object): an object of one key for a model of 300 features got a hint of some
    8 KB. It names the first ten now, saying how many more (the DETAIL lists every feature), and the few keys
    like a feature's name after them."""
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 300))
    typos = ["alpha_score", "bravo_score", "charlie_score", "delta_score", "echo_score"]
    names = [f"feature_{i:03d}" for i in range(295)] + typos
    registry.deploy(conn.dsn, "wide", LinearRegression().fit(x, x[:, 0]), x, x[:, 0], feature_names=names)
    doc = {"feature_000": 1.0, **{t[:-1]: 1.0 for t in typos}}  # (five keys misspelt: alpha_scor...)
    err = sql_error(conn, "SELECT pgscore.score('wide', %s::jsonb)", (json.dumps(doc),))
    hint = err.diag.message_hint
    assert err.pgcode == "22023" and len(hint) < 1200, (len(hint), hint[:300])  # (before: 8,000 and more)
    assert hint.startswith("give every feature as a key (294 are missing, the first 10 named here): a missing value "
                           'is a JSON null ({"feature_001": null, '), hint
    assert "jsonb_build_object('feature_001', NULL, " in hint and "'feature_010', NULL) || doc" in hint, hint
    assert "feature_011" not in hint, hint
    assert "; the object has the key 'alpha_scor', which is no feature: a typo for 'alpha_score'?" in hint, hint
    assert "delta_scor" not in hint and hint.endswith("; and 2 more keys like a feature's name"), hint


def test_a_json_key_that_is_a_number_is_not_named_as_the_text_a_code_is_made_from(conn):
    """The object's `id` (a row's key, a number) for a missing feature `id_code`: the hint said to make the code
    from it with array_position(ARRAY[...], value) - 1, as from a text; a code is made from a text (or a NULL one),
    so a key holding a number is not named so."""
    x, y = _coded()
    est = make_pipeline(ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), [0])],
                                          remainder=StandardScaler()), LogisticRegression(max_iter=1000)).fit(x, y)
    registry.deploy(conn.dsn, "ids", est, x, y, feature_names=["id_code", "spend", "visits"])
    err = sql_error(conn, "SELECT pgscore.predict('ids', %s::jsonb)",
                    (json.dumps({"id": 17, "spend": 50.0, "visits": 3}),))
    assert "feature 'id_code' is missing" in err.diag.message_primary, err.pgerror
    # not the code's hint (the key 'id' is not named), but how to pass a value that is missing (session 70, h3)
    assert err.diag.message_hint == missing_key_hint("id_code"), err.pgerror
    for v in ("A17", None):  # a text, or a NULL one
        err = sql_error(conn, "SELECT pgscore.predict('ids', %s::jsonb)",
                        (json.dumps({"id": v, "spend": 50.0, "visits": 3}),))
        assert "the model reads the code column 'id_code'" in err.diag.message_hint, err.pgerror


def test_a_code_one_strict_encoder_refuses_is_refused_by_one_row_as_by_a_batch(conn):
    """A feature one-hot encoded by a strict encoder (1, 5, 9) and another that knows 11 too: pgscore.score of a row
    with 11 gave NaN (the compiled linear model's row path took the NaN of 11's table row as a score), where
    predict_batch and scikit-learn refuse it as an unknown category."""
    rng = np.random.default_rng(3)
    x = np.column_stack([rng.choice([1, 5, 9], 300), rng.normal(0, 1, 300)]).astype(float)
    y = (x[:, 1] + (x[:, 0] == 5) > 0).astype(int)
    ct = ColumnTransformer([("a", OneHotEncoder(categories=[[1, 5, 9]]), [0]),
                            ("b", OneHotEncoder(categories=[[1, 5, 9, 11]]), [0])], remainder="passthrough")
    est = make_pipeline(ct, LogisticRegression(max_iter=1000)).fit(x, y)
    with pytest.raises(ValueError, match="unknown categories"):
        est.predict_proba([[11.0, 0.0]])
    registry.deploy(conn.dsn, "twice", est, x, y, feature_names=["tier_code", "z"])
    for sql, args in (("SELECT pgscore.score('twice', %s::float8[])", ([11.0, 0.0],)),
                      ("SELECT pgscore.predict_proba('twice', %s::jsonb)", (json.dumps({"tier_code": 11, "z": 0}),))):
        err = sql_error(conn, sql, args)
        assert err.pgcode == "22023" and "feature 'tier_code' has unknown category 11" in err.diag.message_primary, \
            err.pgerror
        assert err.diag.message_hint.startswith("it is a category the model one-hot encodes, with the codes 1, 5, 9;")
    (got,), = query(conn, "SELECT pgscore.score('twice', ARRAY[5.0, 0.3])")
    assert abs(got - est.predict_proba([[5.0, 0.3]])[0, 1]) <= 1e-9
