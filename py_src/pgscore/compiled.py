"""Fitted scikit-learn estimators compiled to plain numpy arrays that score without scikit-learn.

compile_estimator() turns a pipeline into per-column chains of ops feeding a linear model
(folded into weights and per-category lookups) or a table of tree nodes; verify() proves the
result equal to the estimator; to_bytes() is a JSON header and raw arrays, no pickle.
"""

from __future__ import annotations

import array
import bisect
import functools
import io
import json
import math
import operator
import re
import struct
import sys
import warnings
import zlib
from collections.abc import Mapping

from pgscore.lazy import np

FORMAT = 1
MAGIC = b"PGSCEVAL1\n"
if sys.version_info >= (3, 12):  # sum() of floats compensates from 3.12 on; score_sql adds left to right
    def _lsum(items, start=0):
        return functools.reduce(operator.add, items, start)
else:
    _lsum = sum
ROW_CHECKS = 200  # rows of each set verify() also scores one at a time, as the row path does
MAX_BYTES = 1 << 30  # what all of an evaluator's arrays may hold together, decompressed (bytea stops at 1 GB)


# the dtypes to_bytes() writes for numbers, read without numpy: (kind, bytes) -> array module typecode
_TYPECODES = {("f", 8): "d", ("f", 4): "f", ("i", 8): "q", ("i", 4): "i", ("i", 2): "h", ("i", 1): "b",
              ("u", 8): "Q", ("u", 4): "I", ("u", 2): "H", ("u", 1): "B", ("b", 1): "B"}
_NUMBER = re.compile(r"([<|])([biuf])([1-9][0-9]*)")


def _typecode(dtype) -> str | None:
    """The array module's typecode for a dtype string of the index that names a little-endian number
    of the same size, else None (numpy reads that one)."""
    m = _NUMBER.fullmatch(dtype) if isinstance(dtype, str) else None
    code = m and _TYPECODES.get((m[2], int(m[3])))
    return code if code and array.array(code).itemsize == int(m[3]) else None


def _itemsize(dtype) -> int | None:
    """Bytes per item of a dtype string of the index; None for Python objects. numpy is asked only for
    a dtype other than a little-endian number (to_bytes() writes no other)."""
    code = _typecode(dtype)
    if code:
        return array.array(code).itemsize
    dt = np.dtype(dtype)
    return None if dt.hasobject else dt.itemsize


class _Arrays(Mapping):
    """The arrays of Evaluator.to_bytes(), read from their decompressed bytes. All become numpy arrays
    (aligned, writable copies, as numpy.load gives them) when one is first asked for by name; lists()
    reads one as Python lists without numpy, which is all that a linear model's row path and its SQL
    need: a session that only scores those never imports numpy."""

    def __init__(self, blob: bytes, entries: dict):
        self._blob, self._entries, self._np, self.narrow, self.by_column = blob, entries, None, {}, set()

    def __getitem__(self, name):
        if self._np is None:
            blob, self._np = self._blob, {}
            for k, (dt, shape, off) in self._entries.items():
                a = np.frombuffer(blob, dtype=np.dtype(dt), count=math.prod(shape), offset=off).reshape(shape)
                b = _narrowest(a, self.narrow[k]) if k in self.narrow else a
                if k in self.by_column:  # copied in column order: its transpose is then contiguous, no copy
                    b = np.asfortranarray(b)
                self._np[k] = a.copy() if b is a else b  # (narrowed from the bytes: no wide copy made first)
            self._blob = None  # the copies hold it all now
        return self._np[name]

    def __iter__(self):
        return iter(self._entries)

    def __len__(self):
        return len(self._entries)

    def lists(self, name):
        """The array as nested Python lists (a number for a 0-d array): numpy's tolist()."""
        dt, shape, off = self._entries[name]
        code = _typecode(dt) if sys.byteorder == "little" else None
        if self._np is not None or code is None:
            return self[name].tolist()
        flat = array.array(code)
        flat.frombytes(self._blob[off:off + math.prod(shape) * flat.itemsize])
        return _nest([bool(v) for v in flat] if dt[1] == "b" else flat.tolist(), shape)


def _nest(flat: list, shape: list):
    """A flat list in row order as nested lists of that shape (a number for shape [])."""
    if len(shape) < 2:
        return flat if shape else flat[0]
    step = math.prod(shape[1:])
    return [_nest(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def _lists(arrays, name):
    """arrays[name].tolist(), without numpy where arrays came from to_bytes()."""
    return arrays.lists(name) if isinstance(arrays, _Arrays) else np.asarray(arrays[name]).tolist()


def _unpack(data: bytes) -> tuple[dict, Mapping]:
    """The header and arrays of Evaluator.to_bytes(), every size checked before it is used: the index
    first (non-negative shapes, sizes that match them, arrays that neither overlap nor run past the
    end), then a decompression bounded by what the index declares."""
    try:
        start = len(MAGIC) + 4
        (n,) = struct.unpack_from("<I", data, len(MAGIC))
        meta = json.loads(data[start:start + n].decode())
        entries, end = {}, 0
        for name, dtype, shape, offset, size in sorted(meta["arrays"], key=lambda a: a[3]):
            itemsize = _itemsize(dtype)
            if (itemsize is None or not isinstance(shape, list)
                    or not all(type(d) is int and d >= 0 for d in shape)
                    or type(offset) is not int or type(size) is not int or offset < end
                    or math.prod(shape) * itemsize != size):
                raise ValueError(f"array {name!r} is not what the index says")
            end = offset + size
            entries[name] = (dtype, shape, offset)
        if end > MAX_BYTES:
            raise ValueError(f"the arrays would take {end} bytes, more than {MAX_BYTES}")
        inflate = zlib.decompressobj()
        blob = inflate.decompress(data[start + n:], end)
        if len(blob) != end or inflate.unconsumed_tail or inflate.unused_data or not inflate.eof:
            raise ValueError("the arrays' bytes are not what the index says")
        header = meta["header"]
        if not isinstance(header, dict):
            raise ValueError("the header is not an object")
        return header, _Arrays(blob, entries)
    except (struct.error, UnicodeDecodeError, zlib.error, KeyError, TypeError, RecursionError) as e:
        raise ValueError(f"the compiled evaluator is damaged: {e}") from e


_INF = math.inf
F32_INF = 2.0**128 - 2.0**103  # the least float64 that float32() rounds to infinity
# what a tree comparing in float32 says of a finite input it refuses (serving.refusal reads "float32")
_BEYOND_F32 = "beyond float32's range (±3.4e38), in which this model's trees compare"
_ERR, _ZERO = -2, -1  # one-hot slots for an input that raises / that gives all zeros
_CHUNK = 1 << 17  # rows x trees walked at once: the index arrays stay in cache
_LINEAR = {"LogisticRegression", "LogisticRegressionCV", "SGDClassifier", "LinearRegression", "Ridge",
           "RidgeCV", "Lasso", "LassoCV", "ElasticNet", "ElasticNetCV", "SGDRegressor"}
_TREES = {"DecisionTreeClassifier", "DecisionTreeRegressor", "ExtraTreeClassifier", "ExtraTreeRegressor",
          "RandomForestClassifier", "RandomForestRegressor", "ExtraTreesClassifier", "ExtraTreesRegressor"}
_HGB_LINKS = {"IdentityLink": "identity", "LogLink": "exp", "LogitLink": "expit", "MultinomialLogit": "softmax"}


def _f32_refusal(v) -> str:
    return "infinite" if math.isinf(v) else _BEYOND_F32


class Unsupported(Exception):
    """The estimator, or one of its steps, cannot be compiled; the message names the step and why."""


class Mismatch(Exception):
    """verify() found the evaluator and the estimator disagree beyond tolerance."""


def _apply1(ops, v, blocks, src):
    """One value through a column's ops in Python floats (the same IEEE operations as numpy)."""
    raw = v
    for op in ops:
        kind = op[0]
        if kind == "aff":
            v = ((v - op[1]) / op[2]) * op[3] + op[4]
        elif kind == "fill":
            if v != v:
                v = op[1]
        elif kind == "isnan":
            v = 1.0 if v != v else 0.0
        else:
            keys, unknown, nan = blocks[op[1]]
            slot = nan if v != v else keys.get(v, unknown)
            if slot == _ERR:
                raise ValueError(f"feature index {src} has unknown category {raw}")
            v = 1.0 if slot == op[2] else 0.0
    return v


def _ordered(x: float) -> int:
    """x's place among the floats as an integer (the same order as x's)."""
    i = struct.unpack("<q", struct.pack("<d", x))[0]
    return i if i >= 0 else -(i & 0x7FFFFFFFFFFFFFFF)


def _unordered(i: int) -> float:
    return math.copysign(struct.unpack("<d", struct.pack("<q", abs(i)))[0], i if i else 1.0)


def _finite_edge(finite, sign) -> float:
    """The finite input furthest from 0 towards `sign` for which finite(x) holds, given that it holds at 0,
    not at sign * the largest float, and that where it holds is an interval (a chain of scalings is monotone)."""
    ok, bad = 0, _ordered(sign * sys.float_info.max)
    while abs(bad - ok) > 1:
        mid = (ok + bad) // 2
        if finite(_unordered(mid)):
            ok = mid
        else:
            bad = mid
    return _unordered(ok)


def _lookup(keys, v):
    """Row of each value in a table laid out as keys..., unknown, NaN."""
    i = np.searchsorted(keys, v).clip(0, max(len(keys) - 1, 0))
    i = np.where(keys[i] == v, i, len(keys)) if len(keys) else np.zeros(len(v), np.intp)
    i[np.isnan(v)] = len(keys) + 1
    return i


def _compose(ops):
    """The non-NaN path of a numeric chain as y = (x - a) * s + d; s == 0 means a constant."""
    a, s, d, started = 0.0, 1.0, 0.0, False
    for op in ops:
        if op[0] == "isnan":
            a, s, d = 0.0, 0.0, 0.0
        elif op[0] == "aff":
            _, a2, b2, c2, d2 = op
            if not started and s:  # keep the first centring exact: it is where cancellation happens
                a, s, d, started = a2, c2 / b2, d2, True
            else:
                s, d = s * c2 / b2, ((d - a2) / b2) * c2 + d2
    return a, s, d


def _flatten(trees, f32):
    """All trees as one node table: right child = left + 1 and leaves loop to themselves."""
    feat, thr, left, mr, take, roots, depth = [], [], [], [], [], [], 0
    for t, (L, R, F, TH, M) in enumerate(trees):
        base, order, lev = len(left), [0], [0]
        roots.append(base)
        i = 0
        while i < len(order):  # breadth first, so that siblings sit side by side
            o = order[i]
            if L[o] < 0:
                left.append(base + i)
            else:
                left.append(base + len(order))
                order += [L[o], R[o]]
                lev += [lev[i] + 1] * 2
            i += 1
        o = np.asarray(order)
        leaf = L[o] < 0
        feat.append(np.where(leaf, 0, F[o]))
        thr.append(np.where(leaf, _INF, TH[o]))
        mr.append(~leaf & ~np.asarray(M[o], bool))  # missing goes right
        take.append((t, o))
        depth = max(depth, max(lev))
    thr = np.concatenate(thr)
    if f32:  # float32(x) <= t  <=>  float32(x) <= largest float32 not above t
        t32 = thr.astype(np.float32)
        thr = np.where(t32 > thr, np.nextafter(t32, np.float32(-_INF)), t32)
    arrays = {"feat": np.concatenate(feat).astype(np.intp), "thr": thr, "left": np.asarray(left, np.intp),
              "mr": np.concatenate(mr), "roots": np.asarray(roots, np.intp)}
    return arrays, take, depth


def _unknown_key(keys) -> float:
    """A finite number none of the (sorted) keys is: what an encoder is asked of an unknown category. (The largest
    key + 1 was the largest key itself from 2**53 on: a one-hot of 1e30 took an unknown category for 1e30, session
    68 r5.)"""
    if not len(keys):
        return 0.0
    for v in (keys[-1] + 1.0, np.nextafter(keys[-1], _INF), keys[0] - 1.0, np.nextafter(keys[0], -_INF)):
        if math.isfinite(v) and v not in keys:
            return float(v)
    gap = np.flatnonzero(np.nextafter(keys[:-1], _INF) < keys[1:])  # (every float from -max to max a key: none)
    return float(np.nextafter(keys[gap[0]], _INF)) if len(gap) else 0.0


def _hot(enc, rows, cols, where):
    """Which of `cols` the encoder sets for each row: its index, _ZERO for none, _ERR if it raises."""
    try:
        got = enc.transform(rows)
    except ValueError:
        return [_ERR] * len(rows)
    got = np.asarray(got.toarray() if hasattr(got, "toarray") else got, np.float64)[:, cols]
    if ((got != 0) & (got != 1)).any() or (got.sum(axis=1) > 1).any():
        raise Unsupported(f"{where}: does not encode as one-hot")
    return np.where(got.any(axis=1), got.argmax(axis=1), _ZERO).tolist()


class _Compiler:
    """Walks a fitted pipeline, keeping each output column as (input index, ops)."""

    def __init__(self, n):
        self.n = n
        self.blocks, self.dicts = [], []  # one-hot lookups as arrays and as dicts
        self.bad_nan, self.bad_inf = np.zeros(n, bool), np.zeros(n, bool)
        # per input, the finite values a step that refuses infinity takes: past them a rescaling before it
        # overflows to infinity (StandardScaler's x / scale_ of 1e308), which that step refuses
        self.fin_lo, self.fin_hi = np.full(n, -_INF), np.full(n, _INF)

    def probe(self, ops, v, src):
        try:
            return _apply1(ops, v, self.dicts, src)
        except ValueError:
            return None

    def refuse(self, exprs, nan, inf):
        """Mark inputs whose NaN or infinity reaches a step that refuses it."""
        for src, ops in exprs:
            for bad, p in ((self.bad_nan, math.nan), (self.bad_inf, _INF), (self.bad_inf, -_INF)):
                r = self.probe(ops, p, src)
                if r is None or (nan and r != r) or (inf and abs(r) == _INF):
                    bad[src] = True
            if inf and any(op[0] == "aff" for op in ops):
                self.overflow(src, ops)

    def overflow(self, src, ops):
        """Narrow input src's finite range to where its chain `ops` stays finite (an unknown category, which
        raises, is another refusal)."""
        def finite(x):
            r = self.probe(ops, x, src)
            return r is None or math.isfinite(r)

        if not finite(0.0):  # (a mean_ near -1.8e308 over a scale_ below 1): what it takes is no range about 0
            raise Unsupported(f"input {src}: the steps before one that refuses infinity rescale 0 past float64's "
                              "range (±1.8e308), which scikit-learn refuses")
        for sign, edge, tighter in ((1.0, self.fin_hi, min), (-1.0, self.fin_lo, max)):
            if not finite(sign * sys.float_info.max):
                edge[src] = tighter(edge[src], _finite_edge(finite, sign))

    def steps(self, steps, exprs, sparse):
        for name, t in steps:
            exprs, sparse = self.transform(t, exprs, sparse, name)
        return exprs, sparse

    def transform(self, t, exprs, sparse, where):
        if t is None or (isinstance(t, str) and t == "passthrough"):
            return exprs, sparse
        cls = type(t).__name__
        where = f"{where} ({cls})"
        if not type(t).__module__.startswith("sklearn."):
            raise Unsupported(f"{where}: not a scikit-learn transformer")
        if getattr(t, "n_features_in_", len(exprs)) != len(exprs):
            raise Unsupported(f"{where}: takes {t.n_features_in_} columns but gets {len(exprs)}")
        if cls == "Pipeline":
            return self.steps([(f"{where} > {n}", s) for n, s in t.steps], exprs, sparse)
        if cls == "ColumnTransformer":
            out = []
            for name, sub, _ in t.transformers_:
                cols = t._transformer_to_input_indices.get(name, [])
                if len(cols) and not (isinstance(sub, str) and sub == "drop"):
                    out += self.transform(sub, [exprs[i] for i in cols], sparse, f"{where} > {name}")[0]
            return out, bool(t.sparse_output_)
        if cls == "FunctionTransformer":
            if t.func is not None:
                raise Unsupported(f"{where}: only func=None (the identity) compiles")
            if t.validate:
                self.refuse(exprs, True, True)
            return exprs, sparse
        if cls == "SimpleImputer":
            return self.imputer(t, exprs, where), sparse
        if cls in ("StandardScaler", "RobustScaler", "MinMaxScaler", "MaxAbsScaler"):
            return self.scaler(t, exprs, sparse, cls, where), sparse
        if cls == "OneHotEncoder":
            return self.onehot(t, exprs, where), bool(t.sparse_output)
        raise Unsupported(f"{where}: not a supported transformer")

    def imputer(self, t, exprs, where):
        mv = t.missing_values
        if not (isinstance(mv, float) and mv != mv):
            raise Unsupported(f"{where}: only missing_values=np.nan compiles")
        try:
            stats = np.asarray(t.statistics_, dtype=np.float64)
        except (TypeError, ValueError):
            raise Unsupported(f"{where}: fill values are not numeric") from None
        self.refuse(exprs, False, True)
        keep = np.ones(len(stats), bool) if t.keep_empty_features else ~np.isnan(stats)
        out = [(s, ops + (("fill", float(v)),)) for (s, ops), v, k in zip(exprs, stats, keep) if k]
        if t.add_indicator:
            out += [(exprs[f][0], exprs[f][1] + (("isnan",),)) for f in t.indicator_.features_]
        return out

    def scaler(self, t, exprs, sparse, cls, where):
        if getattr(t, "clip", False):
            raise Unsupported(f"{where}: clip=True does not compile")
        z, o = np.zeros(len(exprs)), np.ones(len(exprs))
        a, b, c, d = z, o, o, z  # y = ((x - a) / b) * c + d, in the order scikit-learn does it
        if cls == "StandardScaler":
            a, b = (t.mean_ if t.with_mean else z), (t.scale_ if t.with_std else o)
        elif cls == "RobustScaler":
            a, b = (t.center_ if t.with_centering else z), (t.scale_ if t.with_scaling else o)
        elif cls == "MinMaxScaler":
            c, d = t.scale_, t.min_
        else:
            b = t.scale_
        if sparse:  # sparse input is scaled by the reciprocal
            b, c = o, 1 / np.asarray(b)
        self.refuse(exprs, False, True)
        return [(s, ops + (("aff", *map(float, p)),)) for (s, ops), *p in zip(exprs, a, b, c, d)]

    def onehot(self, t, exprs, where):
        """Each input column becomes a lookup value -> slot, found by asking the encoder itself."""
        if any(np.asarray(c).dtype.kind not in "iuf" for c in t.categories_):
            raise Unsupported(f"{where}: only numeric categories compile")
        self.refuse(exprs, False, True)  # the encoder refuses infinity
        cats = [np.asarray(c, np.float64) for c in t.categories_]
        base, out, col = np.array([c[0] for c in cats]), [], 0
        for i, ((src, ops), c, width) in enumerate(zip(exprs, cats, t._n_features_outs)):
            keys = c[~np.isnan(c)]
            probe = np.repeat(base[None, :], len(keys) + 2, axis=0)
            probe[:, i] = [*keys, _unknown_key(keys), math.nan]  # known, unknown, NaN
            slots = [s for rows in (probe[:-2], probe[-2:-1], probe[-1:])
                     for s in _hot(t, rows, slice(col, col + width), where)]
            b = len(self.blocks)
            self.blocks.append((keys, np.asarray(slots, np.int64)))
            self.dicts.append((dict(zip(keys.tolist(), slots)), slots[-2], slots[-1]))
            out += [(src, ops + (("cat", b, s),)) for s in range(width)]
            col += width
        return out

    def final(self, est, exprs, sparse, task, where):
        cls = type(est).__name__
        where = f"{where} ({cls})"
        if not type(est).__module__.startswith("sklearn."):
            raise Unsupported(f"{where}: not a scikit-learn estimator")
        if getattr(est, "n_features_in_", len(exprs)) != len(exprs):
            raise Unsupported(f"{where}: takes {est.n_features_in_} columns but gets {len(exprs)}")
        classes = getattr(est, "classes_", None)
        k = 0 if classes is None else len(classes)
        if k == 1 or (task == "regression") != (k == 0) or (task == "binary") != (k == 2):
            raise Unsupported(f"{where}: not a {task} model ({k} classes)")
        if cls in _LINEAR:
            return self.linear(est, exprs, k, where)
        if cls in _TREES:
            return self.forest(est, exprs, sparse, k, where)
        if cls in ("HistGradientBoostingClassifier", "HistGradientBoostingRegressor"):
            return self.boosting(est, exprs, k, where)
        raise Unsupported(f"{where}: not a supported estimator")

    def linear(self, est, exprs, k, where):
        """Fold every column chain into weights: (x - centre) * slope per input, tables for one-hot."""
        if hasattr(est.coef_, "toarray"):
            raise Unsupported(f"{where}: sparse coef_ (call densify() first)")
        coef = np.asarray(est.coef_, np.float64)
        if k == 0 and coef.ndim != 1:
            raise Unsupported(f"{where}: multi-output regression")
        if type(est).__name__ == "SGDClassifier" and est.loss != "log_loss":
            raise Unsupported(f"{where}: loss={est.loss!r} has no exact probabilities")
        W = np.atleast_2d(coef).T
        bias = np.broadcast_to(np.asarray(est.intercept_, np.float64), W.shape[1]).copy()
        link = "identity" if k == 0 else "expit" if k == 2 else (
            "ovr" if type(est).__name__ == "SGDClassifier" else "softmax")
        self.refuse(exprs, True, True)
        n, m = self.n, W.shape[1]
        centre, slope, nanc = np.full(n, np.nan), np.zeros((n, m)), np.zeros((n, m))
        used, cat = np.zeros(n, bool), {}
        for (src, ops), w in zip(exprs, W):
            kinds = [op[0] for op in ops]
            if "cat" in kinds:
                if set(kinds[:kinds.index("cat")]) - {"fill"}:
                    raise Unsupported(f"{where}: one-hot of a rescaled column does not fold")
                cat.setdefault(src, []).append((ops, w))
                continue
            a, s, d = _compose(ops)
            if s and centre[src] != centre[src]:
                centre[src] = a
            const = d + (s * (centre[src] - a) if s else 0.0)
            used[src] = True
            slope[src] += s * w
            bias += const * w
            r = _apply1(ops, math.nan, self.dicts, src)
            if r == r:  # what a NaN input contributes instead of its slope term
                nanc[src] += (r - const) * w
        src = np.flatnonzero(used)
        arrays = {"lin_src": src, "lin_a": np.nan_to_num(centre[src]), "lin_s": slope[src],
                  "lin_c": nanc[src], "bias": bias}
        for j, (s, items) in enumerate(sorted(cat.items())):
            keys = np.unique(np.concatenate([self.blocks[op[1]][0] for ops, _ in items for op in ops
                                             if op[0] == "cat"]))
            probes = [*keys.tolist(), _unknown_key(keys), math.nan]
            vals = np.zeros((len(probes), m))  # rows: keys, unknown, NaN; NaN values raise
            for i, v in enumerate(probes):
                for ops, w in items:
                    r = self.probe(ops, v, s)
                    vals[i] += (math.nan if r is None else r) * w
            arrays.update({f"cat{j}_src": np.array(s), f"cat{j}_k": keys, f"cat{j}_v": vals})
        return "linear", {"link": link, "n_cats": len(cat)}, arrays

    def tables(self, exprs, trees, vals, f32):
        arrays, take, depth = _flatten(trees, f32)
        arrays["vals"] = np.concatenate([vals[t][o] for t, o in take])
        # the row itself only where the columns are the inputs, in order, and nothing after them (session 68 r5:
        # HistGradientBoosting's first inputs categorical, or a passthrough of all beside a one-hot, were taken for it)
        ident = [(s, tuple(ops)) for s, ops in exprs] == [(j, ()) for j in range(self.n)]
        header = {"depth": depth, "f32": f32, "z": None if ident else [[s, list(ops)] for s, ops in exprs],
                  "n_blocks": len(self.blocks)}
        for b, (keys, slots) in enumerate(self.blocks):
            arrays.update({f"blk{b}_k": keys, f"blk{b}_s": slots})
        arrays["zsrc"] = np.array([s for s, _ in exprs], np.intp)
        return header, arrays

    def forest(self, est, exprs, sparse, k, where):
        if getattr(est, "n_outputs_", 1) != 1:
            raise Unsupported(f"{where}: multi-output trees")
        ests = getattr(est, "estimators_", [est])
        nan_ok = est.__sklearn_tags__().input_tags.allow_nan and not sparse
        self.refuse(exprs, not nan_ok, True)
        trees = [(e.tree_.children_left, e.tree_.children_right, e.tree_.feature, e.tree_.threshold,
                  e.tree_.missing_go_to_left) for e in ests]
        vals = [e.tree_.value[:, 0, :k] if k else e.tree_.value[:, 0, 0] for e in ests]
        header, arrays = self.tables(exprs, trees, vals, True)
        header.update(link="identity", div=len(ests))
        arrays["base"] = np.zeros(max(k, 1))
        return "trees", header, arrays

    def boosting(self, est, exprs, k, where):
        link = _HGB_LINKS.get(type(est._loss.link).__name__)
        if link is None:
            raise Unsupported(f"{where}: loss {est.loss!r} has an unsupported link")
        self.refuse(exprs, False, False)  # float64 input, NaN routed, infinity compared
        preds = [p[c] for c in range(est.n_trees_per_iteration_) for p in est._predictors]
        nodes = [p.nodes for p in preds]
        trees = [(np.where(nd["is_leaf"], -1, nd["left"].astype(np.int64)), nd["right"], nd["feature_idx"],
                  nd["num_threshold"], nd["missing_go_to_left"]) for nd in nodes]
        if est.is_categorical_ is not None and np.any(est.is_categorical_):
            exprs, trees = self.categorical_splits(est, exprs, preds, trees, where)
        header, arrays = self.tables(exprs, trees, [nd["value"] for nd in nodes], False)
        header.update(link=link, div=1)
        arrays["base"] = np.asarray(est._baseline_prediction, np.float64).ravel()
        return "trees", header, arrays


    def categorical_splits(self, est, exprs, preds, trees, where):
        """HistGradientBoosting's native categories as threshold splits: its own OrdinalEncoder (categorical
        features first, then the others, in its _preprocessor) gives a category its code, NaN for a missing or
        unknown one, and a node sends a code left where its raw_left_cat_bitsets has it, right where only the
        known categories' bitset has it, else (NaN, unknown) the way it sends missing values
        (_predictor.pyx's _predict_one_from_raw_data). Each distinct node (input, codes sent right) becomes a
        column of its own: a lookup of the input's value giving 1.0 where the node sends it right, 0.0 where
        left, which the node compares with 0.5 (the lookup of a one-hot encoder, its NaN and unknown rows
        fixed, so nothing else changes)."""
        pre = getattr(est, "_preprocessor", None)
        try:
            enc = pre.named_transformers_["encoder"]
            cat_in = [int(i) for i in pre._transformer_to_input_indices["encoder"]]
            num_in = [int(i) for i in pre._transformer_to_input_indices["numerical"]]
            if any(isinstance(v, (str, bytes)) for c in enc.categories_ for v in np.asarray(c, dtype=object).tolist()):
                raise TypeError("text")  # ('10' is a word, which float() would read as a number, out of its order)
            cats = [np.asarray(c, np.float64) for c in enc.categories_]
            if any((np.diff(c[~np.isnan(c)]) <= 0).any() for c in cats):
                raise ValueError("unordered")  # (the chunk path bisects the keys: each in order, once)
        except (AttributeError, KeyError, TypeError, ValueError):
            raise Unsupported(f"{where}: categorical_features whose encoder is not numeric do not compile") from None
        if (getattr(enc, "handle_unknown", None) != "use_encoded_value" or len(cats) != len(cat_in)
                or any(d not in cat_in + num_in for d in range(len(exprs)))):
            raise Unsupported(f"{where}: categorical_features encoded in an unexpected way do not compile")
        order = cat_in + num_in  # the predictors' feature index -> the model's input column
        self.refuse([exprs[j] for j in cat_in], False, True)  # the encoder refuses infinity (an array's)
        known, fmap = est._bin_mapper.make_known_categories_bitsets()

        def bit(bits, c):
            return bool((int(bits[c // 32]) >> (c % 32)) & 1)

        columns, derived, out = {}, [], []
        for p, (L, R, F, TH, M) in zip(preds, trees):
            nd = p.nodes
            F, TH, M = F.astype(np.int64), TH.astype(np.float64), M.astype(bool)
            split = np.flatnonzero(nd["is_categorical"] & ~nd["is_leaf"].astype(bool))
            for i in split:
                f = int(nd["feature_idx"][i])
                c = cats[f]
                keys = c[~np.isnan(c)]
                left_bits, known_bits = p.raw_left_cat_bitsets[nd["bitset_idx"][i]], known[fmap[f]]
                miss = 0 if nd["missing_go_to_left"][i] else 1
                right = [0 if c < 256 and bit(left_bits, c) else 1 if c < 256 and bit(known_bits, c) else miss
                         for c in range(len(keys))]
                key = (f, tuple(right), miss)
                if key not in columns:
                    b = len(self.blocks)
                    slots = np.asarray(right + [miss, miss], np.int64)  # known codes, unknown, NaN
                    self.blocks.append((keys, slots))
                    self.dicts.append((dict(zip(keys.tolist(), right)), miss, miss))
                    src, ops = exprs[order[f]]
                    columns[key] = len(order) + len(derived)
                    derived.append((src, ops + (("cat", b, 1),)))
                F[i], TH[i], M[i] = columns[key], 0.5, True
            out.append((L, R, F, TH, M))
        return [exprs[j] for j in order] + derived, out


def _steps(est, where=""):
    """A pipeline as a flat list of (label, step); a nested pipeline at the end is opened too."""
    if type(est).__name__ != "Pipeline":
        return [(where.rstrip(" >") or "estimator", est)]
    *pre, (name, last) = est.steps
    return [(f"{where}{n}", s) for n, s in pre] + _steps(last, f"{where}{name} > ")


def compile_estimator(estimator, task: str, n_features: int) -> "Evaluator":
    """Compile a fitted estimator (or pipeline) for `task` taking `n_features` float inputs.

    Raises Unsupported, naming the step and the reason, for anything it cannot reproduce exactly.
    """
    if task not in ("binary", "multiclass", "regression"):
        raise ValueError(f"task must be binary, multiclass or regression, not {task!r}")
    if getattr(estimator, "n_features_in_", n_features) != n_features:
        raise ValueError(f"the estimator takes {estimator.n_features_in_} features, not {n_features}")
    import sklearn

    c = _Compiler(n_features)
    *pre, (name, last) = _steps(estimator)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # probing an encoder fitted on a DataFrame with arrays
        exprs, sparse = c.steps(pre, [(j, ()) for j in range(n_features)], False)
        kind, header, arrays = c.final(last, exprs, sparse, task, name)
    header.update(format=FORMAT, kind=kind, task=task, n_features=n_features,
                  n_classes=len(getattr(last, "classes_", ())), estimator=type(last).__name__,
                  sklearn=sklearn.__version__)
    arrays.update(nan_ok=~c.bad_nan, inf_ok=~c.bad_inf)
    # finite inputs a step's rescaling makes infinite: refused as scikit-learn refuses them (trees comparing in
    # float32 too: a one-hot lookup between the scaler and them maps the infinity to an unknown category, which
    # the float32 check never sees)
    if np.isfinite(c.fin_lo).any() or np.isfinite(c.fin_hi).any():
        header["finite_range"] = True
        arrays.update(fin_lo=c.fin_lo, fin_hi=c.fin_hi)
    return _KINDS[kind](header, arrays)


def _columns(rows: list, ncols: int) -> list:
    """The columns of a 2-D array given as its rows (numpy's .T.tolist()), also when it has no rows."""
    return [[r[c] for r in rows] for c in range(ncols)]


def _far_refusal(j, v) -> str:
    """What is said of input j's finite value v that a step before the model makes infinite."""
    return (f"feature index {j} is {float(v)!r}, which the steps before the model rescale past float64's range "
            "(±1.8e308) to infinity, and scikit-learn refuses infinity")


def _expit1(z):
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _expit(z):
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-z))


class Evaluator:
    """A compiled estimator: numpy arrays plus a JSON header, scoring without scikit-learn.

    task, n_features, n_classes (0 for regression); nan_ok[i] says whether input i may be NaN
    and allows_nan whether any may. Inputs are float64 (n, n_features) arrays, or for the
    *_row methods a list of floats; a refused NaN or infinity raises ValueError naming the
    feature index, as does an unknown category under handle_unknown='error'.
    """

    def __init__(self, header, arrays):
        self.header, self.arrays = header, arrays
        self.task, self.n_features, self.n_classes = header["task"], header["n_features"], header["n_classes"]
        nan_ok, inf_ok = [bool(v) for v in _lists(arrays, "nan_ok")], [bool(v) for v in _lists(arrays, "inf_ok")]
        self.allows_nan = any(nan_ok)
        self._link, self._ok = header["link"], list(zip(nan_ok, inf_ok))
        # (per input, the finite values a rescaling step keeps finite; the tightest of them; None: no bound)
        self._far = None
        if header.get("finite_range"):
            lo, hi = _lists(arrays, "fin_lo"), _lists(arrays, "fin_hi")
            self._far = (lo, hi, max(lo), min(hi))
        self._setup()

    # whether the input is compared in float32 (scikit-learn's trees but HistGradientBoosting), which
    # refuses what float32 cannot hold
    in_float32 = property(lambda self: bool(self.header.get("f32")))
    _WIDE = ()  # arrays held narrower than to_bytes() writes them
    # numpy's forms, made when first used: the row path reads _ok
    nan_ok = functools.cached_property(lambda self: self.arrays["nan_ok"].astype(bool))
    inf_ok = functools.cached_property(lambda self: self.arrays["inf_ok"].astype(bool))

    def categories(self) -> dict:
        """The inputs a strict one-hot lookup (handle_unknown='error') reads (by index), and the codes it takes, in
        order: the keys every strict lookup of the input knows, where nothing but an imputer's fill comes before
        the lookup (so the keys are the input's own values); not the union of the lookups' keys (one that knows a
        code another refuses) nor an input only lookups that ignore what they do not know read."""
        return {}

    def to_bytes(self) -> bytes:
        """The evaluator as bytes: MAGIC, the length of a JSON index (the header with its format version,
        and each array's name, dtype, shape, offset and size), the index, then the arrays' raw bytes,
        zlib-compressed. No pickle; reading it needs neither numpy.load nor zipfile (~17 ms of a new
        backend's first score)."""
        index, raw, offset = [], [], 0
        for name, a in self.arrays.items():
            a = np.asarray(a)  # tobytes() writes C order; ascontiguousarray would make a 0-d array 1-d
            if a.dtype.hasobject:
                raise TypeError(f"array {name} holds Python objects")
            if name in self._WIDE and a.dtype.kind in "iu":
                a = a.astype(np.int64)
            index.append([name, a.dtype.str, list(a.shape), offset, a.nbytes])
            raw.append(a.tobytes())
            offset += a.nbytes
        meta = json.dumps({"header": self.header, "arrays": index}).encode()
        return MAGIC + struct.pack("<I", len(meta)) + meta + zlib.compress(b"".join(raw), 6)

    @staticmethod
    def from_bytes(data: bytes) -> "Evaluator":
        """Load what to_bytes() wrote (or the npz that versions before it wrote); imports neither
        scikit-learn nor scipy. Raises ValueError for anything else."""
        data = bytes(data)
        if data[:2] == b"PK":  # an npz
            with np.load(io.BytesIO(data), allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            header = json.loads(str(arrays.pop("header")))
        elif data.startswith(MAGIC):
            header, arrays = _unpack(data)
        else:
            raise ValueError("these bytes are not a compiled evaluator")
        if header.get("format") != FORMAT:
            raise ValueError(f"compiled model format {header.get('format')} is not {FORMAT}")
        if header.get("kind") not in _KINDS:
            raise ValueError(f"unknown compiled model kind {header.get('kind')!r}")
        return _KINDS[header["kind"]](header, arrays)

    def proba(self, X) -> np.ndarray:
        """(n, k) class probabilities, columns in the order of the estimator's classes_."""
        if not self.n_classes:
            raise TypeError("a regressor has no class probabilities")
        return self._finish(self._raw(self._matrix(X)))

    def value(self, X) -> np.ndarray:
        """(n,) predicted values of a regressor."""
        if self.n_classes:
            raise TypeError("a classifier has no values; use proba()")
        return self._finish(self._raw(self._matrix(X)))[:, 0]

    def score(self, X) -> np.ndarray:
        """(n,) positive-class probability (binary), top-class probability (multiclass) or value."""
        if not self.n_classes:
            return self.value(X)
        p = self.proba(X)
        return p[:, 1] if self.n_classes == 2 else p.max(axis=1)

    def predict_index(self, X) -> np.ndarray:
        """Index into classes_ of the most probable class (first on ties); a regressor's value."""
        return self.proba(X).argmax(axis=1) if self.n_classes else self.value(X)

    def score_row(self, x) -> float:
        """score() of one row given as a list of floats (NaN for missing): the fast path."""
        r = self._finish1(self._raw_row(x))
        return r[0] if not self.n_classes else r[1] if self.n_classes == 2 else max(r)

    def proba_row(self, x) -> list[float]:
        """proba() of one row given as a list of floats."""
        if not self.n_classes:
            raise TypeError("a regressor has no class probabilities")
        return self._finish1(self._raw_row(x))

    def _matrix(self, X):
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"X has shape {X.shape}; expected (n, {self.n_features})")
        if not np.isfinite(X).all():
            for bad, what in ((np.isnan(X) & ~self.nan_ok, "NULL or NaN"), (np.isinf(X) & ~self.inf_ok, "infinite")):
                if bad.any():
                    raise ValueError(f"feature index {np.argwhere(bad)[0, 1]} is {what}")
        if self._far is not None:
            far = self.beyond_range(X)
            if far.any():
                i, j = np.argwhere(far)[0]
                raise ValueError(_far_refusal(j, X[i, j]))
        return X

    def beyond_range(self, X) -> np.ndarray:
        """Where the input (n, n_features) holds a value that a step before the model rescales to infinity,
        which scikit-learn refuses (and an infinity such a step refuses too): a boolean array of X's shape."""
        if self._far is None:
            return np.zeros(np.shape(X), bool)
        with np.errstate(invalid="ignore"):
            return (X < self.arrays["fin_lo"]) | (X > self.arrays["fin_hi"])

    def _check_far(self, x):
        """Raise for a finite value of row x that a rescaling makes infinite (an infinity is _check_row's)."""
        lo, hi = self._far[:2]
        for j, v in enumerate(x):
            if (v < lo[j] or v > hi[j]) and v - v == 0:
                raise ValueError(_far_refusal(j, v))

    def _check_row(self, x):
        for j, v in enumerate(x):
            if v != v and not self._ok[j][0] or v - v != 0 and v == v and not self._ok[j][1]:
                raise ValueError(f"feature index {j} is {'NULL or NaN' if v != v else 'infinite'}")
        if self._far is not None:
            self._check_far(x)

    def _finish(self, R):
        if self._link == "identity":
            return R
        if self._link == "exp":
            return np.exp(R)
        if self._link == "expit":
            p = _expit(R[:, 0])
            return np.stack([1.0 - p, p], axis=1)
        if self._link == "softmax":  # as sklearn.utils.extmath.softmax
            E = np.exp(R - R.max(axis=1, keepdims=True))
            return E / E.sum(axis=1, keepdims=True)
        P = _expit(R)  # one-vs-rest, normalised as scikit-learn's _predict_proba_lr
        s = P.sum(axis=1, keepdims=True)
        zero = s[:, 0] == 0
        P[zero], s[zero] = 1.0, P.shape[1]
        return P / s

    def _finish1(self, r):
        if self._link == "identity":
            return r
        if self._link == "expit":
            p = _expit1(r[0])
            return [1.0 - p, p]
        if self._link == "exp":
            return [math.exp(r[0]) if r[0] < 709.78 else _INF]
        if self._link == "softmax":
            top = max(r)
            e = [math.exp(v - top) for v in r]
            s = sum(e)
            return [v / s for v in e]
        p = [_expit1(v) for v in r]
        s = sum(p)
        return [v / s for v in p] if s else [1.0 / len(p)] * len(p)


class _Linear(Evaluator):
    """sum over inputs of (x - centre) * slope, plus one lookup per one-hot input, plus bias."""

    def _setup(self):
        # plain Python lists, read without numpy: summing a dozen floats is faster in map() than in numpy,
        # and a session that scores only linear models row by row or in SQL never imports numpy
        L = functools.partial(_lists, self.arrays)
        self._src_l = src = L("lin_src")
        self._get = (None if src == list(range(self.n_features)) else operator.itemgetter(*src)
                     if len(src) > 1 else lambda x: [x[j] for j in src])
        self._ctr_l, self._b_l = L("lin_a"), L("bias")
        self._S_l, self._C_l = _columns(L("lin_s"), len(self._b_l)), _columns(L("lin_c"), len(self._b_l))
        self._cat_d = []
        for j in range(self.header["n_cats"]):
            v = L(f"cat{j}_v")
            self._cat_d.append((int(L(f"cat{j}_src")), dict(zip(L(f"cat{j}_k"), v)), v[-2:]))
        self._plain = len(self._b_l) == 1 and not self._cat_d
        # inputs the sum does not read (a ColumnTransformer dropped them) whose NaN or infinity a step before the
        # drop refuses: the sum, in Python or SQL, cannot refuse them, so score_row's fast path and score_sql's
        # one test a row check them (a finite value past a rescaling's range is in _far's test already)
        self._drop_chk = sorted(j for j in set(range(self.n_features)).difference(src) if not all(self._ok[j]))

    # the batch path's numpy arrays, made when first used
    _src = functools.cached_property(lambda self: self.arrays["lin_src"])
    _ctr = functools.cached_property(lambda self: self.arrays["lin_a"])
    _S = functools.cached_property(lambda self: self.arrays["lin_s"])
    _C = functools.cached_property(lambda self: self.arrays["lin_c"])
    _b = functools.cached_property(lambda self: self.arrays["bias"])
    _cats = functools.cached_property(lambda self: [
        (int(self.arrays[f"cat{j}_src"]), self.arrays[f"cat{j}_k"], self.arrays[f"cat{j}_v"])
        for j in range(self.header["n_cats"])])

    def categories(self) -> dict:
        # (a key's row is NaN where a lookup refuses it; the row of an unknown value, where one does)
        # (without numpy: predict_batch asks it of every linear model it scores in SQL, which imports none)
        return {src: sorted(k for k, row in table.items() if all(v == v for v in row))
                for src, table, miss in self._cat_d if any(v != v for v in miss[0])}

    def score_row(self, x) -> float:
        """score() of one row given as a list of floats (NaN for missing): the fast path."""
        if self._plain and len(x) == self.n_features:  # one output, no lookups: a sum of products
            if self._far is not None and (max(x) > self._far[3] or min(x) < self._far[2]):
                self._check_far(x)  # a value a rescaling makes infinite (a NaN is checked below)
            if self._drop_chk:  # a NaN or infinity the sum does not read: the full check (NaN compares false)
                d = _lsum([x[j] for j in self._drop_chk], 0.0)
                if d - d != 0:  # NaN, an infinity, or (rarely) finite values summing past float64: checked there
                    return super().score_row(x)
            z = _lsum(map(operator.mul, map(operator.sub, x if self._get is None else self._get(x), self._ctr_l),
                          self._S_l[0]), self._b_l[0])
            if z - z == 0:  # else NaN or infinity, checked below
                return _expit1(z) if self.n_classes else z
        return super().score_row(x)

    def score_sql(self, xs):
        """score_row() in SQL: (z, link), z an expression over `xs` (the features' SQL expressions,
        float8, NaN for missing, never NULL) and link(ref) the score from a reference to z's value;
        None where the model has more than one output, one-hot lookups or a non-finite weight. An input
        the sum does not read whose NaN or infinity a step before refuses is tested in _far_sql's one test.

        The arithmetic is score_row's step for step: the same subtractions, products and sums in the
        same order (left to right from the bias, then the fixed terms of allowed NaNs), and the same
        expit, so the result is the same float. z is NaN or infinite exactly where score_row would not
        return a finite z's score (a NaN the model refuses, an infinity): callers leave those rows to
        score_row. Where Python gives infinity PostgreSQL raises an overflow: an error for the caller
        to catch, never another score. exp() is clamped to [-700, 700]: beyond it 1 + exp(-z) is 1.0
        either way, and the other branch differs from score_row by less than 1e-300 (PostgreSQL refuses
        exp() results that underflow).
        """
        if len(self._b_l) != 1 or self._link not in ("identity", "expit"):
            return None
        if not all(math.isfinite(v) for v in (*self._ctr_l, *self._S_l[0], *self._C_l[0], self._b_l[0])):
            return None
        # a one-hot lookup's weights: finite, or NaN where its encoder refuses the value (left to score_row)
        if not all(v == v and math.isfinite(v) or v != v for _, table, miss in self._cat_d
                   for row in (*table.values(), *miss) for v in row):
            return None
        f8 = "::pg_catalog.float8"

        def lit(v):
            return f"'{v!r}'{f8}"  # repr round-trips through float8in exactly

        def op(symbol):  # qualified: predict_batch runs this in the caller's search_path
            return f"OPERATOR(pg_catalog.{symbol})"

        nan = f"'NaN'{f8}"
        main, holes = [lit(self._b_l[0])], []
        for j, ctr, s, c in zip(self._src_l, self._ctr_l, self._S_l[0], self._C_l[0]):
            x = f"({xs[j]})"
            term = f"(({x} {op('-')} {lit(ctr)}) {op('*')} {lit(s)})"
            if self._ok[j][0]:  # a missing value (NaN equals NaN in SQL) adds its fixed term instead
                main.append(f"(CASE WHEN {x} {op('=')} {nan} THEN 0{f8} ELSE {term} END)")
                holes.append(f"(CASE WHEN {x} {op('=')} {nan} THEN {lit(c)} ELSE 0{f8} END)")
            else:
                main.append(term)
        plus = f" {op('+')} "
        z = "(" + plus.join(main) + ")"
        if holes:
            z = f"({z}{plus}(0{f8}{plus}" + plus.join(holes) + "))"
        for j, table, miss in self._cat_d:  # then each lookup's weight, in score_row's order
            z = f"({z}{plus}{self._lookup_sql(xs[j], table, miss, self._ok[j][1], lit, op)})"
        if self._far is not None or self._drop_chk:
            z = self._far_sql(xs, z, lit, op)
        if self._link == "identity":
            return z, lambda ref: ref
        hi, lo, one = lit(700.0), lit(-700.0), f"1{f8}"
        return z, lambda ref: (f"(CASE WHEN {ref} {op('>=')} 0{f8} THEN {one} {op('/')} ({one}{plus}pg_catalog.exp("
                               f"{op('-')} LEAST({ref}, {hi}))) ELSE pg_catalog.exp(GREATEST({ref}, {lo})) {op('/')} "
                               f"({one}{plus}pg_catalog.exp(GREATEST({ref}, {lo}))) END)")

    @staticmethod
    def _lookup_sql(x, table, miss, inf_ok, lit, op):
        """A one-hot lookup's weight for the input x as SQL, the value _raw_row adds, x read once: one subscript of
        a float8[] of weights by width_bucket() of x over bounds, a binary search (review r1, session 71: an
        array_position over the keys compared x with each key in turn, and a CASE read x again for a value not
        found, up to four times, a word's coding each time: a model of 20 encoders of 300 codes was scored ~7x
        slower in SQL than by the chunks, 300 words ~1.2x). The bounds are each key k and the float after it
        (math.nextafter), between -Infinity and Infinity taken as keys, and NaN last; width_bucket counts the bounds
        not above x (by float8's btree order, not a search_path's <: -0 is 0, NaN above Infinity), which is odd
        exactly where x is a key (2i + 1 for the i-th key counting -Infinity as the 0th: a bound k' <= x beside each
        key k < x), even between keys, and the count of every bound for NaN. The weights, a slot per count: a key's,
        an unknown value's between keys (zeros, the infrequent column's), NaN's row, and for an infinity the
        unknown's where the input allows it, else NaN (the row left to score_row, which raises as the Python path
        does). NULL (a float8[]'s NULL element) stays NULL: z NULL, the row left to score_row. The bounds and
        weights are numbers written by repr(), never words."""
        keys = sorted(table)
        f8 = "::pg_catalog.float8"
        w = lambda v: f"'{v!r}'{f8}" if v == v else f"'NaN'{f8}"  # noqa: E731
        unk, nan = w(miss[0][0]), w(miss[1][0])
        inf = unk if inf_ok else f"'NaN'{f8}"
        bounds = [f"'-Infinity'{f8}", lit(math.nextafter(-_INF, 0.0))]
        weights = [unk, inf, unk]  # counts 0 (no value), 1 (-Infinity), 2 (below the first key)
        for k in keys:
            bounds += [lit(float(k)), lit(math.nextafter(float(k), _INF))]
            weights += [w(table[k][0]), unk]
        bounds += [f"'Infinity'{f8}", f"'NaN'{f8}"]
        weights += [inf, nan]  # counts 2K + 3 (Infinity) and 2K + 4 (NaN, above every bound but itself)
        return (f"(ARRAY[{', '.join(weights)}]::pg_catalog.float8[])[pg_catalog.width_bucket(({x}), "
                f"ARRAY[{', '.join(bounds)}]::pg_catalog.float8[]) {op('+')} 1]")

    def _far_sql(self, xs, z, lit, op):
        """z, NaN instead where a feature with a finite bound (one a rescaling makes infinite past it) is further
        from 0 than T, the closest of those bounds to 0: score_row then checks the row's values against each
        bound exactly, and refuses it or gives the same float. One test a row (an abs() per such feature, one
        GREATEST and one comparison) where a test a term against both bounds (a CASE, two comparisons and a
        second read of the feature each) cost ~18% of z's time (0.60 against 0.51 us a row, twelve features
        read from a float8[], two of them bounded). An allowed NaN is not past T: -abs(NaN) is NaN, which LEAST
        passes over and no comparison with < finds smaller; GREATEST would take it (NaN sorts above all).

        An input the sum does not read (_drop_chk) whose NaN or infinity a step before refuses joins the test
        with the largest float as its bound (T is the nearest of all the bounds): abs() of an infinity is past
        it, and abs(NaN) is NaN, which PostgreSQL sorts above every float, so one that refuses NaN goes in the
        GREATEST (NULL never reaches here: callers coalesce it to NaN) and one that allows NaN in the LEAST;
        score_row then refuses the row (or scores it, where the value was allowed)."""
        lo, hi = self._far[:2] if self._far is not None else ((-_INF,) * len(xs), (_INF,) * len(xs))
        bounded = [j for j in range(len(xs)) if math.isfinite(lo[j]) or math.isfinite(hi[j])]
        # an input a one-hot lookup reads is refused by the lookup itself where the lookup refuses its NaN (NaN's row is
        # NaN) and its infinity: not tested again (a word's coding read twice a row)
        looked = {j for j, _, miss in self._cat_d if self._ok[j][0] or any(v != v for v in miss[1])}
        tested = sorted(set(bounded).union(set(self._drop_chk) - looked))
        if not tested:
            return z
        t = min([sys.float_info.max] + [min(-lo[j], hi[j]) for j in bounded])  # finite
        past, nan_ok = [], [j for j in tested if self._ok[j][0]]
        plain = [j for j in tested if not self._ok[j][0]]
        if plain:  # a NaN here is refused: past T too
            past.append(f"GREATEST({', '.join(f'pg_catalog.abs(({xs[j]}))' for j in plain)}) {op('>')} {lit(t)}")
        if nan_ok:
            minus = op("-")
            past.append(f"LEAST({', '.join(f'{minus} pg_catalog.abs(({xs[j]}))' for j in nan_ok)}) {op('<')} {lit(-t)}")
        return f"(CASE WHEN {' OR '.join(past)} THEN 'NaN'::pg_catalog.float8 ELSE {z} END)"

    def _raw_row(self, x):
        if len(x) != self.n_features:
            raise ValueError(f"row has {len(x)} values; expected {self.n_features}")
        total = sum(x)
        if total - total != 0:
            self._check_row(x)  # raises for a NaN or infinity that scikit-learn refuses
        elif self._far is not None and (max(x) > self._far[3] or min(x) < self._far[2]):
            self._check_far(x)
        d = list(map(operator.sub, x if self._get is None else self._get(x), self._ctr_l))
        holes = [k for k, u in enumerate(d) if u != u] if total != total else ()
        for k in holes:  # an allowed NaN adds its fixed contribution instead
            d[k] = 0.0
        r = [_lsum(map(operator.mul, d, s), b) + _lsum(c[k] for k in holes)
             for s, b, c in zip(self._S_l, self._b_l, self._C_l)]
        for j, table, miss in self._cat_d:
            c = table.get(x[j])
            if c is None:  # NaN or a category unseen in training: a fixed row, or an error
                c = miss[x[j] != x[j]]
            if c[0] != c[0]:  # (also a key one encoder knows and another, strict, does not: its row is NaN)
                raise ValueError(f"feature index {j} has unknown category {x[j]}")
            r = list(map(operator.add, r, c))
        return r

    def _raw(self, X):
        D = (X if self._get is None else X[:, self._src]) - self._ctr
        R = D @ self._S + self._b
        nan = np.isnan(R).any(axis=1)  # only from inputs allowed to be NaN
        if nan.any():
            Dn = D[nan]
            m = np.isnan(Dn)
            Dn[m] = 0.0
            R[nan] = Dn @ self._S + self._b + m @ self._C
        for j, keys, vals in self._cats:
            v = X[:, j]
            c = vals[_lookup(keys, v)]
            bad = np.isnan(c).any(axis=1)
            if bad.any():
                r = int(bad.argmax())
                raise ValueError(f"feature index {j} is NULL or NaN" if v[r] != v[r] else
                                 f"feature index {j} has unknown category {v[r]}")
            R += c
        return R


def _narrowest(a, dtypes):
    """Integer array a as the first of dtypes that holds each of its values; a itself where none does."""
    if a.dtype.kind not in "iu":
        return a
    lo, hi = (int(a.min()), int(a.max())) if a.size else (0, 0)
    for dt in dtypes:
        if np.iinfo(dt).min <= lo and hi <= np.iinfo(dt).max:
            return a if a.dtype == dt else a.astype(dt)
    return a


class _Trees(Evaluator):
    """Every tree at once: QuickScorer leaf masks when trees have <= 64 leaves, else a level walk."""

    # the node tables' feature and child indices are held narrow (int16 and int32: 6 bytes a node where int64
    # took 16, ~27% of a forest's arrays) and stored as int64, as before: zlib's output differs by ~1%, and
    # an earlier release's level walk reads them as int64 alone
    _WIDE = ("feat", "left")

    def _setup(self):
        a, h, narrow = self.arrays, self.header, {"feat": (np.int16, np.int32), "left": (np.int32,)}
        if isinstance(a, _Arrays):
            a.narrow.update(narrow)  # made narrow as they are read from the bytes
            a.by_column.add("vals")
        else:
            a.update({k: _narrowest(np.asarray(a[k]), dts) for k, dts in narrow.items()})
            a["vals"] = np.asfortranarray(a["vals"])
        self._feat, self._thr, self._left, self._mr, self._roots = a["feat"], a["thr"], a["left"], a["mr"], a["roots"]
        self._base, self._zsrc = a["base"], a["zsrc"]
        self._depth, self._div, self._f32 = h["depth"], h["div"], h["f32"]
        self._dt = np.float32 if self._f32 else np.float64
        self._k, self._zx = len(self._base), h["z"]
        self._blocks = [(a[f"blk{b}_k"], a[f"blk{b}_s"]) for b in range(h["n_blocks"])]
        self._dicts = [(dict(zip(k.tolist(), s.tolist())), int(s[-2]), int(s[-1])) for k, s in self._blocks]
        # (outputs per leaf, nodes), what the batch path sums from: the leaf values are held in column order
        # (a forest classifier's, one vector a leaf), so this is a view of them, not a second copy
        self._vt = np.ascontiguousarray(np.atleast_2d(a["vals"].T))
        self._qs = self._quickscorer()
        self._rows_as_ints = None  # the row path's copy of the leaf mask tables, made at its first row
        self._fold = None  # (the other columns, the lookups folded by input), made with it
        # one output, leaf masks: each tree's leaf values by mask position, for the row path's sum
        self._leafval = (self._vt[0].take(self._qs[3]) if self._qs is not None and self._k == 1 == len(self._vt)
                         else None)

    def _quickscorer(self):
        """Per input, thresholds ascending and the AND of the leaf masks of each prefix (QuickScorer).
        Masks of 32 bits where every tree has at most 32 leaves (HistGradientBoosting's default 31):
        the AND of a row's masks moves half the bytes."""
        T, N = len(self._roots), len(self._left)
        n_leaves = np.add.reduceat((self._left == np.arange(N)).astype(np.intp), self._roots)  # trees lie in order
        bits = 32 if n_leaves.max() <= 32 else 64
        dt, full = (np.uint32 if bits == 32 else np.uint64), 2**bits - 1
        if n_leaves.max() > 64 or (N - n_leaves.sum() + 2 * len(self._zsrc)) * T * bits // 8 > 64 << 20:
            return None  # masks wider than 64 bits, or tables too big: walk the levels instead
        left, inner, leaves = self._left.tolist(), [], [[] for _ in range(T)]

        def span(n, t):  # leaves under n, numbered left to right
            if left[n] == n:
                leaves[t].append(n)
                return len(leaves[t]) - 1, len(leaves[t])
            a, m = span(left[n], t)
            b = span(left[n] + 1, t)[1]
            inner.append((n, t, ~(((1 << (m - a)) - 1) << a) & full))  # right: no leaf of the left
            return a, b

        for t, r in enumerate(self._roots.tolist()):
            span(r, t)
        node, tree, mask = (np.array([i[k] for i in inner], t) for k, t in enumerate((np.intp, np.intp, dt)))
        feat, ones, tables, index = self._feat[node], np.full(T, full, dt), [], []
        for f in range(len(self._zsrc)):
            on = np.flatnonzero(feat == f)
            on = on[np.argsort(self._thr[node[on]], kind="stable")]
            P = np.tile(ones, (len(on) + 2, 1))
            P[np.arange(1, len(on) + 1), tree[on]] = mask[on]
            P[:-1] = np.bitwise_and.accumulate(P[:-1], axis=0)
            miss = on[self._mr[node[on]]]
            np.bitwise_and.at(P[-1], tree[miss], mask[miss])  # last row: the input is NaN
            base = sum(len(p) for p in tables)
            index.append((self._thr[node[on]], base, base + len(on) + 1))
            tables.append(P)
        leafnode = np.zeros((T, 65), np.intp)
        for t, ls in enumerate(leaves):
            leafnode[t, 1:len(ls) + 1] = ls
        return np.concatenate(tables), index, [(i[0].tolist(), i[1], i[2]) for i in index], \
            leafnode.ravel(), np.arange(T) * 65

    def _z(self, X, unknown_nan=False):
        """The trees' input: the steps before them applied column by column. An unknown category raises, or
        with `unknown_nan` gives NaN in the columns it makes (for beyond_float32, which asks of other values)."""
        Z = np.empty((len(X), len(self._zx)))
        for k, (src, ops) in enumerate(self._zx):
            v = raw = X[:, src]
            for op in ops:
                if op[0] == "aff":
                    v = ((v - op[1]) / op[2]) * op[3] + op[4]
                elif op[0] == "fill":
                    v = np.where(np.isnan(v), op[1], v)
                elif op[0] == "isnan":
                    v = np.isnan(v).astype(np.float64)
                else:
                    keys, slots = self._blocks[op[1]]
                    s = slots[_lookup(keys, v)]
                    unknown = s == _ERR
                    if unknown.any():
                        if not unknown_nan:
                            raise ValueError(f"feature index {src} has unknown category {raw[unknown.argmax()]}")
                        v = np.where(unknown, np.nan, (s == op[2]).astype(np.float64))
                    else:
                        v = (s == op[2]).astype(np.float64)
            Z[:, k] = v
        return Z

    def _outputs(self, Z, bufs):
        """The summed outputs (rows, outputs) of a step of rows."""
        if self._qs is None:
            return self._sum(self._leaves(Z, bufs))
        P, index, _, leafnode, tpos = self._qs
        c, nan = len(Z), bool(np.isnan(Z).any())
        M = np.full((c, len(self._roots)), np.iinfo(P.dtype).max, P.dtype)
        for j, (thr, base, nanrow) in enumerate(index):
            if len(thr):
                i = np.searchsorted(thr, Z[:, j]) + base  # nodes with threshold < x send x right
                if nan:
                    i[np.isnan(Z[:, j])] = nanrow
                M &= P[i]
        at = tpos + np.bitwise_count(M ^ (M - 1))  # lowest set bit = leftmost live leaf
        if self._leafval is not None:  # one output: the leaf values by mask position, no node in between
            return (self._leafval.take(at).sum(axis=1) / self._div + self._base)[:, None]
        return self._sum(leafnode[at])

    def _leaves(self, Z, bufs):
        """Leaf node (rows, trees) of every row in every tree, a level at a time (trees too big for masks)."""
        c, f = Z.shape
        t, nan = len(self._roots), bool(np.isnan(Z).any())
        if c not in bufs:  # row offsets and buffers, reused across chunks: allocating costs as much as the work
            bufs[c] = (np.repeat(np.arange(0, c * f, f, dtype=np.intp), t), np.empty(c * t, np.intp),
                       np.empty(c * t, Z.dtype), np.empty(c * t, Z.dtype), np.empty(c * t, bool),
                       np.empty(c * t, self._feat.dtype), np.empty(c * t, self._left.dtype))
        (off, fi, v, th, go, fn, ln), flat, r = bufs[c], Z.ravel(), self._roots
        w = Z[:, self._feat[r]]  # the roots: a column per tree, no gathers
        root = w > self._thr[r]  # NaN compares False, so goes left unless the node sends missing right
        if nan:
            root |= np.isnan(w) & self._mr[r]
        idx = np.add(self._left[r], root, dtype=np.intp).ravel()
        # the indices gathered with stay intp (numpy would convert narrower ones at each take); the node
        # table's narrow feature and child indices are gathered into buffers of their own dtype, then widened
        for _ in range(self._depth - 1):
            np.add(self._feat.take(idx, out=fn, mode="clip"), off, out=fi)
            np.greater(flat.take(fi, out=v, mode="clip"), self._thr.take(idx, out=th, mode="clip"), out=go)
            if nan:
                go |= np.isnan(v) & self._mr[idx]
            np.add(self._left.take(idx, out=ln, mode="clip"), go, out=idx)
        return idx.reshape(c, t)

    def _raw(self, X):
        Z = X if self._zx is None else self._z(X)
        if self._f32:  # scikit-learn's trees compare float32(x) and refuse what overflows it
            with np.errstate(over="ignore"):
                Z32 = Z.astype(np.float32)
            if np.isinf(Z32).any():
                i, k = np.argwhere(np.isinf(Z32))[0]
                raise ValueError(f"feature index {self._zsrc[k]} is {self._f32_refusal(X[i, self._zsrc[k]])}")
            Z = Z32
        step, bufs = max(1, _CHUNK // len(self._roots)), {}
        return np.concatenate([self._outputs(Z[s:s + step], bufs) for s in range(0, max(len(Z), 1), step)])

    def _f32_refusal(self, v) -> str:
        """What is said of input value v, whose value at the trees float32 cannot hold: the value itself, or
        (scaled by the steps before the trees) what those steps made of it."""
        if self._zx is None or math.isinf(v):
            return _f32_refusal(v)
        return f"{float(v)!r}, {_BEYOND_F32}, once the steps before them have transformed it"

    def beyond_float32(self, X) -> np.ndarray:
        """Where the input (n, n_features) holds a value the trees refuse as float32 cannot hold it, as
        they see it (after the steps before them): a boolean array of X's shape."""
        out = np.zeros(X.shape, bool)
        if not self._f32:
            return out
        # (a row's unknown category is another refusal, not asked about here: NaN in the columns it makes)
        Z = X if self._zx is None else self._z(X, unknown_nan=True)
        zsrc = self._zsrc if self._zx is not None else range(X.shape[1])
        with np.errstate(invalid="ignore"):
            far = np.abs(Z) >= F32_INF
        for k in np.flatnonzero(far.any(axis=0)):
            out[:, zsrc[k]] |= far[:, k]
        return out

    def _sum(self, leaves):
        """Leaf values summed over trees: a vector per leaf (forests), or one value per leaf with the
        trees stored class by class (boosting)."""
        kv, (c, t) = len(self._vt), leaves.shape
        g = self._vt.take(leaves, axis=1).reshape(kv, c, self._k // kv, t * kv // self._k).sum(axis=3)
        return g.transpose(1, 0, 2).reshape(c, self._k) / self._div + self._base

    def categories(self) -> dict:
        out = {}
        for src, ops in self._zx or ():
            kinds = [op[0] for op in ops]
            if "cat" in kinds and not set(kinds[:kinds.index("cat")]) - {"fill"}:
                keys, unknown, _ = self._dicts[ops[kinds.index("cat")][1]]
                if unknown == _ERR:  # a strict lookup: the codes it takes are those it and the others know
                    out[src] = out[src] & keys.keys() if src in out else set(keys)
        return {src: sorted(keys) for src, keys in out.items()}

    def _row_tables(self):
        """The row path's own tables, made at its first row: each leaf mask table row as one Python int (every
        tree's mask side by side: the AND of a row's dozen masks is then a dozen C-level ANDs, not a numpy gather
        and reduce, ~4 us), and, for the columns that are a lookup of an input's own value (one-hot, and
        HistGradientBoosting's categorical splits, a column each), the AND of their rows by that value: one dict
        lookup an input where there was one lookup and one bisection a column (HistGradientBoosting of 100
        iterations with four native categories: 68 such columns)."""
        P, _, index, _, _ = self._qs
        ints = self._rows_as_ints = [int.from_bytes(r.tobytes(), "little") for r in P] if P.nbytes <= 8 << 20 else ()
        self._all_ones = (1 << (8 * P.shape[1] * P.itemsize)) - 1
        if not ints or self._zx is None:
            return
        groups, cols, idx = {}, [], []
        for k, (s, ops) in enumerate(self._zx):
            if len(ops) == 1 and ops[0][0] == "cat":
                groups.setdefault(s, []).append((k, ops[0][1], ops[0][2]))
            else:
                cols.append((s, ops))
                idx.append(index[k])
        if not groups:
            return

        def mask(ks, slot_of):  # the AND of columns ks's rows, each column's lookup giving slot_of(block)
            m = self._all_ones
            for k, b, slot in ks:
                got = slot_of(b)
                if got == _ERR:
                    return None  # the lookup raises
                t, base, _ = index[k]
                m &= ints[base + bisect.bisect_left(t, 1.0 if got == slot else 0.0)]
            return m

        folded = []
        for s, ks in groups.items():
            keys = set().union(*(self._dicts[b][0] for _, b, _ in ks))
            table = {v: mask(ks, lambda b: self._dicts[b][0].get(v, self._dicts[b][1])) for v in keys}
            folded.append((s, table, mask(ks, lambda b: self._dicts[b][1]), mask(ks, lambda b: self._dicts[b][2])))
        self._fold, self._fold_index = (cols, folded), idx

    def _raw_row(self, x):
        if len(x) != self.n_features:
            raise ValueError(f"row has {len(x)} values; expected {self.n_features}")
        total = sum(x)
        nan = total != total
        if total - total != 0:
            self._check_row(x)
        elif self._far is not None and (max(x) > self._far[3] or min(x) < self._far[2]):
            self._check_far(x)
        if self._qs is not None and self._rows_as_ints is None:
            self._row_tables()
        cols, folded = self._fold if self._fold and self._rows_as_ints else (None, ())
        if self._zx is None:
            z = x
        elif cols is None:
            z = [_apply1(ops, x[s], self._dicts, s) for s, ops in self._zx]
        else:  # the lookups folded into masks of their input's value, below; the other columns
            z = [_apply1(ops, x[s], self._dicts, s) for s, ops in cols]
        if self._f32:  # what float32 rounds to infinity, which scikit-learn's trees refuse
            zsrc = self._zsrc if cols is None else [s for s, _ in cols]
            for k, u in enumerate(z):
                if abs(u) >= F32_INF:
                    raise ValueError(f"feature index {zsrc[k]} is {self._f32_refusal(x[zsrc[k]])}")
        if self._qs is not None:
            P, _, index, leafnode, tpos = self._qs
            if self._f32:  # the comparisons of scikit-learn's trees, in float32
                z = np.array(z, np.float32).tolist()
            if cols is not None:
                index = self._fold_index
            rows = [b + bisect.bisect_left(t, u) if u == u else m for u, (t, b, m) in zip(z, index)]
            if self._rows_as_ints:
                m = functools.reduce(operator.and_, map(self._rows_as_ints.__getitem__, rows), self._all_ones)
                for s, table, unknown, nan_mask in folded:
                    v = x[s]
                    f = table.get(v, unknown) if v == v else nan_mask
                    if f is None:
                        raise ValueError(f"feature index {s} has unknown category {v}")
                    m &= f
                M = np.frombuffer(m.to_bytes(P.shape[1] * P.itemsize, "little"), P.dtype)
            else:
                M = np.bitwise_and.reduce(P[rows])
            at = tpos + np.bitwise_count(M ^ (M - 1))
            if self._leafval is not None:  # _sum's arithmetic for one row and one output, without its reshapes
                return [float(self._leafval.take(at).sum() / self._div + self._base[0])]
            idx = leafnode[at]
        else:
            v = np.array(z, self._dt)
            idx, feat, thr, left, mr = self._roots, self._feat, self._thr, self._left, self._mr
            for _ in range(self._depth):  # (indices made intp here: numpy's own conversion is slower)
                w = v[feat[idx].astype(np.intp, copy=False)]
                go = w > thr[idx]
                if nan:
                    go |= np.isnan(w) & mr[idx]
                idx = left[idx].astype(np.intp, copy=False)
                idx += go
        return self._sum(idx[None, :])[0].tolist()


_KINDS = {"linear": _Linear, "trees": _Trees}


def _compare(ev, est, task, X, tol, label):
    clf = task != "regression"
    try:
        ref = np.asarray(est.predict_proba(X) if clf else est.predict(X), np.float64)
    except ValueError as e:
        if not label:
            raise
        raise Mismatch(f"scikit-learn refused{label} what the evaluator allows: {e}") from e
    try:
        got = ev.proba(X) if clf else ev.value(X)
    except ValueError as e:
        raise Mismatch(f"the evaluator refused{label} what scikit-learn scored: {e}") from e
    d = np.abs(ref - got).reshape(len(X), -1).max(axis=1) if len(X) else np.zeros(1)
    d[np.isnan(d)] = _INF
    r = int(d.argmax())
    if d[r] > tol:
        raise Mismatch(f"max abs difference {d[r]:.3g} > {tol:g}{label} at row {r}: "
                       f"scikit-learn {ref[r]} vs compiled {got[r]}")
    if clf and len(X):
        top = np.sort(ref, axis=1)
        clear = top[:, -1] - top[:, -2] > tol  # a near tie is decided by rounding, not by the model
        bad = np.flatnonzero(clear & (np.asarray(est.predict(X)) != est.classes_[got.argmax(axis=1)]))
        if len(bad):
            raise Mismatch(f"predicted class differs{label} at row {bad[0]}: probabilities {ref[bad[0]]}")
    return max(float(d[r]), _compare_rows(ev, ref[:ROW_CHECKS], X[:ROW_CHECKS], clf, tol, label))


def _compare_rows(ev, ref, X, clf, tol, label):
    """The row path (score_row, and proba_row for classifiers: what pgscore.score and predict_proba call
    for each row in SQL) against scikit-learn's `ref` for the rows of X. It is separate code from the
    chunk path (plain floats, the trees' leaf masks as Python ints, a linear model's sum of products),
    so it is proved on its own."""
    rows = X.tolist()
    if not rows:
        return 0.0
    try:
        score = np.array([ev.score_row(x) for x in rows], np.float64)
        got = np.array([ev.proba_row(x) for x in rows], np.float64).reshape(ref.shape) if clf else score
    except ValueError as e:
        raise Mismatch(f"the row path refused{label} what scikit-learn scored: {e}") from e
    want = ref if not clf else ref[:, 1] if ref.shape[1] == 2 else ref.max(axis=1)
    d = np.maximum(np.abs(ref - got).reshape(len(rows), -1).max(axis=1), np.abs(want - score))
    d[np.isnan(d)] = _INF
    r = int(d.argmax())
    if d[r] > tol:
        raise Mismatch(f"max abs difference {d[r]:.3g} > {tol:g} on the row path{label} at row {r}: "
                       f"scikit-learn {ref[r]} vs compiled {got[r]} (score {score[r]})")
    return float(d[r])


def verify(evaluator, estimator, task: str, X, tol: float = 1e-9) -> dict:
    """Check the evaluator against the estimator on X and, if it allows NaN, on X with NaN holes.

    Compares predict_proba (classifiers) or predict (regressors) and the predicted class
    (ignoring rows whose top two probabilities are within tol), a chunk at a time and, for the
    first ROW_CHECKS rows of each set, one row at a time (score_row, proba_row). Returns
    {"rows": rows checked, "max_abs_diff": float}; raises Mismatch on any difference above tol.
    """
    X = np.asarray(X, dtype=np.float64)
    sets = [(X, "")]
    if evaluator.allows_nan:
        holes = X.copy()
        holes[(np.random.default_rng(0).random(X.shape) < 0.1) & evaluator.nan_ok] = np.nan
        sets.append((holes, " with NaN"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # fitted on a DataFrame, checked on arrays
        worst = max(_compare(evaluator, estimator, task, A, tol, label) for A, label in sets)
    return {"rows": sum(len(A) for A, _ in sets), "max_abs_diff": worst}
