"""pgscore.pgarray: numbers reach PostgreSQL as one array literal, and PostgreSQL reads back the same
doubles (bit for bit: NaN, infinities, -0.0, subnormals, the largest double), integers and NULLs."""

import math
import struct

import numpy as np
import pytest

from helpers import query
from pgscore import pgarray

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
