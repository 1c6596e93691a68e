"""Numbers from Python to PostgreSQL arrays as one text literal.

PL/Python passes a list given for a float8[] parameter element by element,
through str() and float8in: about 1.3 us a float on the development machine,
Python's repr being most of it, so an audit row's 12 features cost more than
its score. orjson writes the whole array in its shortest round-trip form at
about 35 ns a number; the statement casts the text (`$n::float8[]`, once:
in an initplan or a function argument, never per row), and float8in reads
each number back to the same double. Measured numbers are in
docs/performance.md ("Numbers into PostgreSQL").
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import orjson

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY


def literal(values) -> str:
    """The array literal '{...}' of a flat sequence of floats or ints (a list or a numpy array, read
    flat): exact for every double, NaN and infinities included; None becomes NULL. A float32 array is
    widened first; numpy float32 scalars inside a list are not (orjson writes their float32 form)."""
    if isinstance(values, np.ndarray):
        values = values.ravel()  # orjson takes C-contiguous arrays only (a column is not); 1-D
        if values.dtype.kind == "f" and values.dtype != np.float64:  # orjson would write a float32 in its
            values = values.astype(np.float64)  # own shortest form, a different double once read back
    s = orjson.dumps(values, option=_OPTIONS)
    if b"null" in s:  # orjson writes NaN and infinities as null, as JSON has no other way
        s = _non_finite(s, values)
    return "{" + s[1:-1].decode("ascii") + "}"


def _non_finite(s: bytes, values) -> bytes:
    """Put NaN and the infinities back where orjson wrote null, in order (None stays NULL)."""
    if isinstance(values, np.ndarray):
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
