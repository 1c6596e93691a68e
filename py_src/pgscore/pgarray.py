"""Numbers from Python to PostgreSQL arrays: as raw doubles, or as one text literal.

Where the schema has pgscore.float8_array (migration 0013), a flat array of
doubles goes as their bytes (`doubles`) and the statement turns them into a
float8[] with that function: no number is written out or parsed. Arrays of
fewer than DOUBLES_FROM numbers still go as a literal, which costs less than
the function's call.

PL/Python passes a list given for a float8[] parameter element by element,
through str() and float8in: about 1.3 us a float on the development machine,
Python's repr being most of it, so an audit row's 12 features cost more than
its score. orjson writes the whole array in its shortest round-trip form at
about 35 ns a number; the statement casts the text (`$n::float8[]`, once:
in an initplan or a function argument, never per row), and float8in reads
each number back to the same double. Measured numbers are in
docs/performance-log.md ("Numbers into PostgreSQL").
"""

from __future__ import annotations

import array
import itertools
import math

import orjson

from pgscore.lazy import np

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY


def _ndarray(values) -> bool:
    """Whether values is a numpy array; a list (the row path's audit rows) asks nothing of numpy, which
    the server then need not import (pgscore.lazy)."""
    return type(values) is not list and isinstance(values, np.ndarray)


def literal(values) -> str:
    """The array literal '{...}' of a flat sequence of floats or ints (a list or a numpy array, read
    flat): exact for every double, NaN and infinities included; None becomes NULL. A float32 array is
    widened first; numpy float32 scalars inside a list are not (orjson writes their float32 form)."""
    if _ndarray(values):
        values = values.ravel()  # orjson takes C-contiguous arrays only (a column is not); 1-D
        if values.dtype.kind == "f" and values.dtype != np.float64:  # orjson would write a float32 in its
            values = values.astype(np.float64)  # own shortest form, a different double once read back
    s = orjson.dumps(values, option=_OPTIONS)
    if b"null" in s:  # orjson writes NaN and infinities as null, as JSON has no other way
        s = _non_finite(s, values)
    return "{" + s[1:-1].decode("ascii") + "}"


def _non_finite(s: bytes, values) -> bytes:
    """Put NaN and the infinities back where orjson wrote null, in order (None stays NULL)."""
    if _ndarray(values):
        odd = values[~np.isfinite(values)].tolist()
    else:
        try:  # at C speed: features with missing values are common
            odd = list(itertools.filterfalse(math.isfinite, values))
        except TypeError:  # a None among them
            odd = [v for v in values if v is None or not math.isfinite(v)]
    tokens = [b"NULL" if v is None else b"NaN" if v != v else b"Infinity" if v > 0 else b"-Infinity" for v in odd]
    parts = s.split(b"null")
    out = [parts[0]]
    for token, part in zip(tokens, parts[1:]):
        out += [token, part]
    return b"".join(out)


def doubles(values) -> bytes:
    """A flat sequence of numbers as 8-byte doubles in this machine's byte order: what pgscore.float8_array
    reads. `values`: a list of floats or ints (no None: there is no NULL in raw doubles), or a numpy
    array of any shape, layout or numeric dtype, read flat in row order as literal() reads it. Unlike
    literal(), numpy float32 scalars inside a list are widened like everything else."""
    if _ndarray(values):
        return np.ascontiguousarray(values, dtype=np.float64).tobytes()
    return array.array("d", values).tobytes()


class Literal:
    """A float8[] parameter sent as its text literal, cast by the statement."""

    type = "pg_catalog.text"
    value = staticmethod(literal)

    @staticmethod
    def sql(param: str) -> str:
        return f"{param}::pg_catalog.float8[]"


class Doubles:
    """A float8[] parameter sent as raw doubles, made an array by pgscore.float8_array (0013 on)."""

    type = "pg_catalog.bytea"
    value = staticmethod(doubles)

    @staticmethod
    def sql(param: str) -> str:
        return f"pgscore.float8_array({param})"


LITERAL, DOUBLES = Literal(), Doubles()
# numbers in an array from which raw doubles cost less than a literal, measured inside the server
# (docs/performance-log.md, "Numbers into PostgreSQL as raw doubles"): 16 random doubles 13.7 against 15.5 us
# a statement, 32 10.2 against 15.2, 64 13.0 against 34.1, 256 19.6 against 113.6; 8: 15.2 against 13.8;
# plus ~10 us for checking that float8_array is still there (format_for)
DOUBLES_FROM = 64
_SENDS: list = []  # this backend's long format: DOUBLES while float8_array is there for it, else LITERAL
_FIND = ("SELECT f IS NOT NULL AND pg_catalog.has_function_privilege(f, 'EXECUTE') AS ok "
         "FROM pg_catalog.to_regprocedure('pgscore.float8_array(pg_catalog.bytea)') AS f")
_FIND_PLAN: list = []


def _found(plpy) -> bool:
    if not _FIND_PLAN:
        _FIND_PLAN.append(plpy.prepare(_FIND))
    return plpy.execute(_FIND_PLAN[0])[0]["ok"]


def formats(plpy) -> tuple:
    """(for short arrays, for long ones): LITERAL, and DOUBLES where the schema has pgscore.float8_array
    and the current user may run it, else LITERAL again (code newer than its schema, a role without
    the grant)."""
    if not _SENDS:
        _SENDS.append(DOUBLES if _found(plpy) else LITERAL)
    return LITERAL, _SENDS[0]


def format_for(plpy, count: int):
    """The format to send `count` numbers in. Raw doubles only after checking, each time, that
    float8_array is still there for this user: a backend that found it may outlive it (a downgrade,
    a role switched to one without the grant), and the query path writes at COMMIT, which must not
    fail for it. Checked rather than tried in a subtransaction: a transaction of many writes would hold
    more subtransactions than PostgreSQL keeps in shared memory per backend (64), which slows every
    other backend's snapshots. Once missing, literals for the backend's life."""
    if count < DOUBLES_FROM or _SENDS == [LITERAL]:
        return LITERAL
    _SENDS[:] = [DOUBLES if _found(plpy) else LITERAL]
    return _SENDS[0]
