"""pgscore.pgarray: numbers reach PostgreSQL as raw doubles (pgscore.float8_array) or as one array
literal, and PostgreSQL reads back the same doubles (bit for bit: NaN, infinities, -0.0, subnormals, the
largest double), integers and NULLs. The audit log holds the same numbers either way; a backend whose
schema lacks float8_array sends literals."""

import math
import struct

import numpy as np
import pytest

import psycopg2
from sklearn.linear_model import LogisticRegression

from helpers import nested_statements, query
from pgscore import datasets, pgarray, registry

SPECIAL = [0.0, -0.0, math.nan, math.inf, -math.inf, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
           -1.7976931348623157e308, 0.1, 1 / 3, 1e22, 1e-7, 123456789012345678.0, -2.5]


def bits(values):
    return [None if v is None else struct.pack(">d", v) for v in values]


def read_back(conn, literal, kind="float8"):
    (got,), = query(conn, f"SELECT %s::{kind}[]", (literal,))
    return got


@pytest.mark.parametrize("as_numpy", [False, True])
def test_doubles_come_back_bit_for_bit(conn, as_numpy):
    rng = np.random.default_rng(3)
    values = SPECIAL + (rng.normal(size=2000) * 10.0 ** rng.integers(-300, 300, 2000)).tolist()
    got = read_back(conn, pgarray.literal(np.array(values) if as_numpy else values))
    assert bits(got) == bits(values)


def test_null_stays_null_next_to_non_finite_values(conn):
    values = [1.5, None, math.nan, None, -math.inf, 2.0]
    got = read_back(conn, pgarray.literal(values))
    assert bits(got) == bits(values)


def test_integers_and_empty_arrays(conn):
    assert read_back(conn, pgarray.literal([1, -2, 2 ** 62, 0]), "int8") == [1, -2, 2 ** 62, 0]
    assert read_back(conn, pgarray.literal(np.arange(5, dtype=np.int64)), "int4") == [0, 1, 2, 3, 4]
    assert read_back(conn, pgarray.literal([])) == []
    assert pgarray.literal([]) == "{}"


def test_float32_and_columns_are_read_as_the_doubles_they_widen_to(conn):
    a = np.array([[0.1, 1 / 3], [2.5, 1e-40]], dtype=np.float32)
    assert bits(read_back(conn, pgarray.literal(a[:, 0]))) == bits(a[:, 0].astype(np.float64).tolist())
    assert bits(read_back(conn, pgarray.literal(a))) == bits(a.ravel().astype(np.float64).tolist())


@pytest.mark.parametrize("as_numpy", [False, True])
def test_raw_doubles_come_back_bit_for_bit(conn, as_numpy):
    rng = np.random.default_rng(4)
    values = SPECIAL + (rng.normal(size=2000) * 10.0 ** rng.integers(-300, 300, 2000)).tolist()
    data = pgarray.doubles(np.array(values) if as_numpy else values)
    assert len(data) == 8 * len(values)
    (got,), = query(conn, "SELECT pgscore.float8_array(%s)", (data,))
    assert bits(got) == bits(values)
    # a 2-D array is read flat, as literal() reads it; ints and float32 become the doubles they widen to
    a = np.array([[0.1, 1 / 3], [2.5, 1e-40]], dtype=np.float32)
    (got,), = query(conn, "SELECT pgscore.float8_array(%s)", (pgarray.doubles(a),))
    assert bits(got) == bits(a.ravel().astype(np.float64).tolist())
    (got,), = query(conn, "SELECT pgscore.float8_array(%s)", (pgarray.doubles([1, -2, 2 ** 53]),))
    assert got == [1.0, -2.0, 2.0 ** 53]


def test_raw_doubles_make_a_plain_array(conn):
    """What float8_array returns is an ordinary float8[]: one dimension from 1, no NULLs; it slices,
    compares and stores as the same array written as a literal does."""
    data = pgarray.doubles([1.5, math.nan, -0.0, 4.0])
    got = query(conn, "SELECT a = '{1.5,NaN,-0,4}'::float8[], array_dims(a), array_ndims(a), a[2:3], "
                      "array_position(a, NULL) IS NULL, pgscore.float8_image(a) = pgscore.float8_image("
                      "'{1.5,NaN,-0,4}'::float8[]) FROM (SELECT pgscore.float8_array(%s) AS a) s", (data,))
    eq, dims, ndims, sliced, no_null, same_bytes = got[0]
    assert (eq, dims, ndims, no_null, same_bytes) == (True, "[1:4]", 1, True, True)
    assert math.isnan(sliced[0]) and bits(sliced[1:]) == bits([-0.0])
    assert query(conn, "SELECT pgscore.float8_array(''::bytea) = '{}'::float8[]") == [(True,)]
    # its helper, run by its owner (the test's superuser) on an image float8_image wrote, and on NULL
    got = query(conn, "SELECT pgscore.float8_array_unchecked(pgscore.float8_image('{1.5,-0,NaN}'::float8[])), "
                      "pgscore.float8_array_unchecked(NULL)")
    assert bits(got[0][0]) == bits([1.5, -0.0, math.nan]) and got[0][1] is None


def _logged(conn, n, hide):
    """Score `n` rows through the query path in one statement (every prediction logged) in a new backend;
    with `hide`, float8_array is renamed away first. The audit rows, and whether their INSERT sent the
    numbers as raw doubles."""
    if hide:
        query(conn, "ALTER FUNCTION pgscore.float8_array(bytea) RENAME TO float8_array_away")
    try:
        c = psycopg2.connect(conn.dsn)
        c.autocommit = True
        query(c, "DELETE FROM pgscore.prediction_log")
        ran = nested_statements(c, "SELECT count(pgscore.score('churn', f, NULL, k)) FROM (SELECT i::text AS k, "
                                   f"ARRAY[i * 0.1::float8, i / 3.0::float8, -i, 1e-300, 2, 3, 4, 5, 6, 7, 8, 9] AS f FROM "
                                   f"generate_series(1, {n}) i) s")
        rows = query(c, "SELECT entity_key, features, score FROM pgscore.prediction_log ORDER BY entity_key::int")
        c.close()
    finally:
        if hide:
            query(conn, "ALTER FUNCTION pgscore.float8_array_away(bytea) RENAME TO float8_array")
    flushes = [t for t in ran if "INSERT INTO pgscore.prediction_log" in t]
    assert flushes, ran
    return rows, any("pgscore.float8_array($3)" in t for t in flushes)


def test_audit_rows_are_the_same_sent_as_raw_doubles_or_as_a_literal(db_url):
    """A flush of many rows sends raw doubles; a short one, or a backend whose schema has no float8_array,
    a literal. The features and scores logged are the same, bit for bit."""
    X, Y, names = datasets.churn(300, seed=9)
    registry.deploy(db_url, "churn", LogisticRegression(max_iter=500).fit(X, Y), X, Y, feature_names=names)
    conn = psycopg2.connect(db_url)
    conn.autocommit = True
    n = 300  # 12 numbers a row: a flush of 300 rows is long enough for raw doubles, one of a single row is not
    assert 12 < pgarray.DOUBLES_FROM <= 12 * n
    raw, sent_raw = _logged(conn, n, hide=False)
    lit, sent_lit = _logged(conn, n, hide=True)
    one, sent_one = _logged(conn, 1, hide=False)
    assert (sent_raw, sent_lit, sent_one) == (True, False, False)
    assert len(raw) == n and [r[0] for r in raw] == [r[0] for r in lit] == [str(i) for i in range(1, n + 1)]
    assert [bits(r[1]) for r in raw] == [bits(r[1]) for r in lit] and bits(r[2] for r in raw) == bits(r[2] for r in lit)
    assert bits(one[0][1]) == bits(raw[0][1]) and bits([one[0][2]]) == bits([raw[0][2]])
    assert raw[6][1][:4] == [0.7000000000000001, 7 / 3.0, -7.0, 1e-300]
    # without keys (and labels), a column of NULLs goes as one NULL: every row is still there, whole
    query(conn, "DELETE FROM pgscore.prediction_log")
    query(conn, "SELECT pgscore.score('churn', ARRAY[i * 0.1::float8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]) "
                "FROM generate_series(1, 300) i")
    got = query(conn, "SELECT features[1], entity_key, label, score FROM pgscore.prediction_log ORDER BY features[1]")
    assert [r[0] for r in got] == [i * 0.1 for i in range(1, 301)] and {r[1:3] for r in got} == {(None, None)}
    assert all(0 < r[3] < 1 for r in got)
    conn.close()


def test_a_flush_after_float8_array_went_away_still_commits(db_url):
    """A backend that found float8_array, which then goes away (a downgrade while it stays connected), logs
    its next flush as a literal: the COMMIT that flushes does not fail, and nothing is lost."""
    X, Y, names = datasets.churn(300, seed=9)
    registry.deploy(db_url, "churn", LogisticRegression(max_iter=500).fit(X, Y), X, Y, feature_names=names)
    conn = psycopg2.connect(db_url)
    scored = "SELECT count(pgscore.score('churn', %s::float8[])) FROM generate_series(1, 100)"
    query(conn, scored, (X[0].tolist(),))
    conn.commit()  # flushed as raw doubles: the backend found the function
    admin = psycopg2.connect(db_url)
    admin.autocommit = True
    query(admin, "DROP FUNCTION pgscore.float8_array(bytea)")
    query(conn, scored, (X[1].tolist(),))
    conn.commit()
    query(conn, scored, (X[2].tolist(),))  # and from then on, literals straight away
    conn.commit()
    got = query(admin, "SELECT features, count(*) FROM pgscore.prediction_log GROUP BY features ORDER BY min(logged_at)")
    assert got == [(X[i].tolist(), 100) for i in range(3)]
    conn.close()
    admin.close()


def test_only_its_owner_may_run_the_unchecked_helper_whatever_default_privileges_say(empty_db_url):
    """ALTER DEFAULT PRIVILEGES granting every new function to a role does not reach float8_array_unchecked;
    float8_array itself is the scoring roles'."""
    from pgscore import migrate

    query(empty_db_url, "ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO pgscore_reader")
    migrate.upgrade(empty_db_url)
    acl = query(empty_db_url, "SELECT a.grantee::regrole::text, a.privilege_type FROM pg_proc p, aclexplode(p.proacl) a "
                              "WHERE p.oid = 'pgscore.float8_array_unchecked(bytea)'::regprocedure")
    (owner,), = query(empty_db_url, "SELECT proowner::regrole::text FROM pg_proc "
                                    "WHERE oid = 'pgscore.float8_array_unchecked(bytea)'::regprocedure")
    assert acl == [(owner, "EXECUTE")]
    may = query(empty_db_url, "SELECT r, has_function_privilege(r, 'pgscore.float8_array(bytea)', 'EXECUTE') FROM "
                              "unnest(ARRAY['pgscore_app', 'pgscore_admin', 'public']) r ORDER BY r")
    assert may == [("pgscore_admin", True), ("pgscore_app", True), ("public", False)]
    migrate.downgrade(empty_db_url, "base")
