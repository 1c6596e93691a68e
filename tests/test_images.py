"""How features leave PostgreSQL for PL/Python: pgscore.float8_image (the array's own bytes) and, for a
schema before migration 0012, array_send. Both decode to the same doubles, bit for bit, with NULL as NaN;
rows of the wrong shape are named; a backend whose schema lacks float8_image falls back to array_send."""

import math
import struct

import numpy as np
import psycopg2
import pytest
from sklearn.tree import DecisionTreeClassifier

from helpers import make_shop, nested_statements, query
from pgscore import batch, datasets, migrate
from pgscore.datasets import CHURN_FEATURES
from pgscore.errors import InvalidModel

from test_pgarray import SPECIAL

FORMATS = {"image": (batch.IMAGE, "pgscore.float8_image"), "send": (batch.SEND, "pg_catalog.array_send")}


def bits(a):
    return [struct.pack("<d", v).hex() for v in np.asarray(a, dtype=np.float64).ravel().tolist()]


def images(conn, fn, rows):
    """Each row's image as the server writes it, and all of them concatenated as string_agg does."""
    literals = ["{" + ",".join("NULL" if v is None else repr(float(v)).replace("inf", "Infinity")
                               for v in r) + "}" for r in rows]
    got = query(conn, f"SELECT {fn}(a::float8[]) FROM unnest(%s::text[]) WITH ORDINALITY AS u(a, i) ORDER BY i",
                (literals,))
    return [bytes(b) for (b,) in got]


@pytest.mark.parametrize("kind", FORMATS)
def test_doubles_come_through_bit_for_bit(conn, kind):
    fmt, fn = FORMATS[kind]
    rng = np.random.default_rng(5)
    values = SPECIAL + (rng.normal(size=2385) * 10.0 ** rng.integers(-300, 300, 2385)).tolist()
    rows = np.array(values).reshape(-1, 12)
    got = fmt.decode(b"".join(images(conn, fn, rows.tolist())), len(rows), 12)
    assert got.dtype == np.float64 and got.flags.c_contiguous and got.shape == rows.shape
    assert bits(got) == bits(rows)
    one = images(conn, fn, rows[:1].tolist())[0]
    assert bits(fmt.decode_one(one, 12)) == bits(rows[0])


@pytest.mark.parametrize("kind", FORMATS)
def test_null_elements_become_nan_and_the_other_rows_stay_exact(conn, kind):
    fmt, fn = FORMATS[kind]
    rows = [[1.5, -0.0, 3.0], [None, math.inf, 2.0], [0.1, None, None], [5e-324, -2.5, math.nan]]
    data = images(conn, fn, rows)
    want = np.array([[np.nan if v is None else v for v in r] for r in rows])
    assert bits(fmt.decode(b"".join(data), 4, 3)) == bits(want)
    assert fmt.decode_one(data[1], 3) is None  # a NULL: not the fast path; decode() reads it
    assert bits(fmt.decode(data[1], 1, 3)) == bits(want[1:2])


@pytest.mark.parametrize("kind", FORMATS)
@pytest.mark.parametrize("bad, length", [([1.0, 2.0], 2), ([], 0), ([1.0, None, 3.0, 4.0], 4)])
def test_a_row_of_another_length_is_named(conn, kind, bad, length):
    fmt, fn = FORMATS[kind]
    data = images(conn, fn, [[1.0, 2.0, 3.0], bad, [4.0, 5.0, 6.0]])
    with pytest.raises(InvalidModel, match=f"row 2 \\(key 'b'\\) has {length} features; the model takes 3"):
        fmt.decode(b"".join(data), 3, 3, ["a", "b", "c"])
    assert fmt.decode_one(data[1], 3) is None
    if length == 0:  # what a NULL array is read as, too
        with pytest.raises(InvalidModel, match="its array is empty or NULL"):
            fmt.decode(b"".join(data), 3, 3, ["a", "b", "c"])


@pytest.mark.parametrize("kind", FORMATS)
def test_two_dimensional_rows_are_refused_and_split_finds_every_row(conn, kind):
    fmt, fn = FORMATS[kind]
    (two_d,), = query(conn, f"SELECT {fn}(ARRAY[[1, 2, 3], [4, NULL, 6]]::float8[])")
    rows = images(conn, fn, [[1.0, 2.0, 3.0], [None, None, 7.0], [], [8.0]])
    mixed = [rows[0], bytes(two_d), rows[1], rows[2], rows[3]]
    assert batch.split(fmt, b"".join(mixed), 5) == mixed
    with pytest.raises(InvalidModel, match="row 2 is a 2-dimensional array; the model takes 3"):
        fmt.decode(b"".join(mixed), 5, 3)


def test_an_image_is_the_arrays_own_layout(conn):
    """What Image reads: one dimension without NULLs has its values at byte 20; with NULLs, the header
    says where they start and a bitmap which elements are there."""
    (plain, with_null), = query(conn, "SELECT pgscore.float8_image(ARRAY[1.0, 2.0]::float8[]), "
                                      "pgscore.float8_image(ARRAY[NULL, 2.0, NULL]::float8[])")
    assert bytes(plain) == struct.pack("=iiIiidd", 1, 0, 701, 2, 1, 1.0, 2.0)
    ndim, offset, elemtype, length, lower = struct.unpack_from("=iiIii", bytes(with_null))
    assert (ndim, elemtype, length, lower) == (1, 701, 3, 1) and offset == 32  # 16 + 8 + 1 bitmap byte, aligned
    assert bytes(with_null)[20] == 0b010 and bytes(with_null)[28:] == struct.pack("=d", 2.0)


def test_a_schema_without_float8_image_reads_through_array_send(db_url):
    """Code newer than its schema (a schema at 0011, before `pgscore install` ran 0012): each backend checks once,
    and predict_batch and the rescoring trigger (a tree: its profiles are read into Python) give the
    same scores through array_send."""
    X, Y, _ = datasets.churn(300, seed=6)
    est = DecisionTreeClassifier(max_depth=4, random_state=0).fit(X, Y)
    make_shop(db_url, est, X, Y, 40, rescore=True).close()
    batch_query = "SELECT id, " + ", ".join(CHURN_FEATURES) + " FROM customers"
    features = "SELECT " + ", ".join(CHURN_FEATURES) + ", churn_score FROM customers WHERE id = ANY(%s) ORDER BY id"
    for kind, customers in (("image", [1, 2, 3]), ("send", [4, 5, 6])):
        conn = psycopg2.connect(db_url)
        conn.autocommit = True
        if kind == "send":  # the schema as 0011 left it: no float8_image (nor 0013's float8_array)
            conn.close()
            migrate.downgrade(db_url, "0011")
            conn = psycopg2.connect(db_url)  # a new backend: it finds no float8_image
            conn.autocommit = True
        fn = FORMATS[kind][1] + "("
        ran = nested_statements(conn, f"SELECT * FROM pgscore.predict_batch('churn', $q${batch_query}$q$)")
        assert [n for n in ran if fn + "ARRAY[" in n], kind
        got = dict(query(conn, f"SELECT * FROM pgscore.predict_batch('churn', $q${batch_query}$q$)"))
        now = query(conn, batch_query + " ORDER BY id")  # the complaints of the first round changed some
        want = est.predict_proba(np.array([r[1:] for r in now], dtype=float))[:, 1]
        assert [got[str(r[0])] for r in now] == pytest.approx(want.tolist(), abs=1e-12), kind
        ran = nested_statements(conn, "INSERT INTO complaints (customer_id) SELECT unnest(%s::bigint[])"
                                      .replace("%s", "ARRAY" + str(customers + customers[:1])))
        assert [n for n in ran if fn in n and "FOR NO KEY UPDATE" in n], kind  # the trigger's read
        rows = query(conn, features, (customers,))
        scores = est.predict_proba(np.array([r[:-1] for r in rows], dtype=float))[:, 1]
        assert [r[-1] for r in rows] == pytest.approx(scores.tolist(), abs=1e-12), kind
        assert query(conn, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
        conn.close()
