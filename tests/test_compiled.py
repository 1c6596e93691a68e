"""Compiled evaluators against scikit-learn: equal within 1e-9, round trip, refusals, no sklearn at load."""

from __future__ import annotations

import io
import json
import math
import struct
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (ExtraTreesClassifier, ExtraTreesRegressor, HistGradientBoostingClassifier,
                              HistGradientBoostingRegressor, RandomForestClassifier, RandomForestRegressor)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import (ElasticNet, Lasso, LinearRegression, LogisticRegression, Ridge, SGDClassifier,
                                  SGDRegressor)
from sklearn.multioutput import MultiOutputRegressor
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (FunctionTransformer, MaxAbsScaler, MinMaxScaler, OneHotEncoder,
                                   PolynomialFeatures, RobustScaler, StandardScaler)
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from threadpoolctl import threadpool_limits

from pgscore.compiled import MAGIC, Evaluator, Mismatch, Unsupported, compile_estimator, verify
from pgscore.serving import footprint

N, F = 500, 6  # columns 0-3 numeric, 4 and 5 integer-coded categories
NUM, CAT = [0, 1, 2, 3], [4, 5]
TASKS = ["binary", "multiclass", "regression"]


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """OpenMP threads spin on a busy machine: boosting fits slow down tenfold."""
    with threadpool_limits(1):
        yield


def data(task, nan=False, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, F)) * [1, 10, 0.1, 1000, 0, 0] + [0, 5, 0, -300, 0, 0]
    X[:, 4], X[:, 5] = rng.integers(0, 4, N), rng.integers(0, 3, N)
    t = X[:, 0] + X[:, 1] / 10 + (X[:, 4] == 2) - (X[:, 5] == 1) + rng.normal(scale=0.5, size=N)
    y = {"binary": t > 0.5, "multiclass": np.digitize(t, [0, 1]), "regression": 3 * t + 10}[task]
    if nan:
        X[:, NUM] = np.where(rng.random((N, len(NUM))) < 0.15, np.nan, X[:, NUM])
    return X, (y if task == "regression" else y.astype(int))


def num_cat(num, cat):
    return ColumnTransformer([("num", num, NUM), ("cat", cat, CAT)])


def linear(task, **kw):
    if task == "regression":
        return Ridge(alpha=0.3)
    return LogisticRegression(max_iter=2000, **kw)


def trees(kind, task, **kw):
    pair = {"dt": (DecisionTreeClassifier, DecisionTreeRegressor), "et": (ExtraTreesClassifier, ExtraTreesRegressor),
            "rf": (RandomForestClassifier, RandomForestRegressor),
            "hgb": (HistGradientBoostingClassifier, HistGradientBoostingRegressor)}[kind]
    if kind == "hgb":
        return pair[task == "regression"](max_iter=25, **kw)
    return pair[task == "regression"](random_state=0, **({} if kind == "dt" else {"n_estimators": 15}), **kw)


# name -> (build(task), whether X has NaN holes)
FAMILIES = {
    "scaler-linear": (lambda t: make_pipeline(StandardScaler(), linear(t)), False),
    "l1-linear": (lambda t: make_pipeline(RobustScaler(), linear(t, solver="saga", l1_ratio=1.0, C=0.5)
                                          if t != "regression" else Lasso(alpha=0.05)), False),
    "elasticnet": (lambda t: make_pipeline(MinMaxScaler(), linear(t, solver="saga", l1_ratio=0.5)
                                           if t != "regression" else ElasticNet(alpha=0.05)), False),
    "unpenalised": (lambda t: make_pipeline(MaxAbsScaler(), linear(t, C=np.inf) if t != "regression"
                                            else LinearRegression()), False),
    "sgd": (lambda t: make_pipeline(StandardScaler(), SGDRegressor(random_state=0) if t == "regression"
                                    else SGDClassifier(loss="log_loss", random_state=0)), False),
    "impute-onehot-linear": (lambda t: make_pipeline(num_cat(
        make_pipeline(SimpleImputer(strategy="median"), StandardScaler(with_mean=False)),
        OneHotEncoder(handle_unknown="ignore", drop="first")), linear(t)), True),
    "indicator-linear": (lambda t: make_pipeline(ColumnTransformer(
        [("num", SimpleImputer(add_indicator=True), NUM), ("cat", OneHotEncoder(drop="if_binary"), CAT)]),
        StandardScaler(), linear(t)), True),
    "nested-linear": (lambda t: Pipeline([("pre", Pipeline([("id", FunctionTransformer()), ("ct", ColumnTransformer(
        [("num", make_pipeline(SimpleImputer(strategy="constant", fill_value=-1.0), MinMaxScaler()), [0, 1]),
         ("cat", OneHotEncoder(min_frequency=60, handle_unknown="infrequent_if_exist",
                               sparse_output=False), [True, False, False, False, True, True])],
        remainder=make_pipeline(SimpleImputer(strategy="most_frequent"), RobustScaler())))])),
        ("model", Pipeline([("last", "passthrough"), ("est", linear(t))]))]), True),
    "overlap-linear": (lambda t: make_pipeline(ColumnTransformer(  # column 4 both as a number and one-hot
        [("num", StandardScaler(), [0, 1, 2, 3, 4]), ("cat", OneHotEncoder(), [4, 5])]), linear(t)), False),
    "sparse-linear": (lambda t: make_pipeline(ColumnTransformer(
        [("num", SimpleImputer(), NUM), ("cat", OneHotEncoder(), CAT)], sparse_threshold=1.0),
        StandardScaler(with_mean=False), MaxAbsScaler(), linear(t)), True),
    "dt": (lambda t: trees("dt", t, max_depth=7), True),
    "rf": (lambda t: trees("rf", t, max_depth=6), True),
    "rf-deep": (lambda t: trees("rf", t, min_samples_leaf=2), True),
    "et": (lambda t: trees("et", t, max_depth=8), True),
    "onehot-rf": (lambda t: make_pipeline(num_cat(SimpleImputer(), OneHotEncoder(handle_unknown="ignore")),
                                          trees("rf", t, max_depth=9)), True),
    "scaled-et": (lambda t: make_pipeline(ColumnTransformer([("num", StandardScaler(), NUM)],
                                                            remainder="passthrough"), trees("et", t)), True),
    "hgb": (lambda t: trees("hgb", t), True),
    "hgb-wide": (lambda t: trees("hgb", t, max_leaf_nodes=90, min_samples_leaf=2), True),
    "hgb-onehot": (lambda t: make_pipeline(num_cat("passthrough", OneHotEncoder(sparse_output=False)),
                                           trees("hgb", t)), True),
    # HistGradientBoosting's own categories (its OrdinalEncoder, a bitset a split), compiled since session 68
    "hgb-native": (lambda t: trees("hgb", t, categorical_features=CAT), True),
    "hgb-native-wide": (lambda t: trees("hgb", t, categorical_features=[5, 4], max_leaf_nodes=90,
                                        min_samples_leaf=2), True),
    "scaled-hgb-native": (lambda t: make_pipeline(ColumnTransformer([("num", StandardScaler(), NUM)],
                                                                    remainder="passthrough"),
                                                  trees("hgb", t, categorical_features=[4, 5])), True),
}


def fitted(name, task):
    build, nan = FAMILIES[name]
    X, y = data(task, nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build(task).fit(X, y), X


def sk(est, task, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return est.predict(X) if task == "regression" else est.predict_proba(X)


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("name", FAMILIES)
def test_equal_to_sklearn(name, task):
    est, X = fitted(name, task)
    ev = compile_estimator(est, task, F)
    report = verify(ev, est, task, X)
    assert report["max_abs_diff"] <= 1e-9 and report["rows"] == N * (2 if ev.allows_nan else 1)
    assert ev.allows_nan == FAMILIES[name][1] and ev.n_classes == {"binary": 2, "multiclass": 3}.get(task, 0)
    Xt, _ = data(task, FAMILIES[name][1], seed=1)  # unseen rows
    ref = sk(est, task, Xt)
    loaded = Evaluator.from_bytes(ev.to_bytes())
    for e in (ev, loaded):
        got = e.value(Xt) if task == "regression" else e.proba(Xt)
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-9)
        score = ref if task == "regression" else ref[:, 1] if task == "binary" else ref.max(axis=1)
        np.testing.assert_allclose(e.score(Xt), score, rtol=0, atol=1e-9)
        rows = Xt[:40].tolist()
        np.testing.assert_allclose([e.score_row(r) for r in rows], score[:40], rtol=0, atol=1e-9)
        assert e.score(Xt[:0]).shape == (0,)
        if task != "regression":
            np.testing.assert_allclose([e.proba_row(r) for r in rows], ref[:40], rtol=0, atol=1e-9)
            # the same class as scikit-learn's predict, but where the top two probabilities are within the
            # 1e-9 the probabilities may differ by (either side may then win)
            top2 = np.sort(ref, axis=1)[:, -2:]
            clear = (top2[:, 1] - top2[:, 0]) > 1e-9
            assert clear.mean() > 0.9
            assert (est.classes_[e.predict_index(Xt)] == est.predict(Xt))[clear].all()


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("leaves", [31, 90])
def test_native_categories_of_hgb_compile_equal_on_unknown_categories_and_nan(task, leaves):
    """HistGradientBoosting with categorical_features compiles (before session 68: Unsupported, 'categorical_features
    do not compile', scored by scikit-learn at 130-240 rows/s on the row path): categories that are no small
    integers (negative, fractions, 1e6, NaN in training), and rows of unknown categories (2.5 of a feature of
    integers, -1, 7, 1e300), NaN in every column: within 1e-12 of predict_proba / predict in the chunk path and
    the row path, compiled and loaded from its bytes, with leaf masks (31 leaves) and the level walk (90).
    An infinity in a categorical column is refused, as its encoder refuses it; a numeric column's is compared."""
    rng = np.random.default_rng(3)
    n = 3000
    odd = np.array([-3.5, 0.25, 2.0, 7.0, 1e6])
    X = np.c_[rng.integers(0, 12, n), rng.normal(size=n), rng.choice(odd, n), rng.normal(size=n)].astype(float)
    X[rng.random(n) < 0.05, 0] = np.nan
    X[rng.random(n) < 0.05, 1] = np.nan
    t = (X[:, 0] % 3 == 0) + np.nan_to_num(X[:, 1]) + (X[:, 2] > 1) - (X[:, 2] == 7.0) + rng.normal(scale=0.3, size=n)
    y = {"binary": t > 0.5, "multiclass": np.digitize(t, [0, 1]), "regression": 3 * t}[task]
    cls = HistGradientBoostingRegressor if task == "regression" else HistGradientBoostingClassifier
    est = cls(categorical_features=[0, 2], max_iter=30, max_leaf_nodes=leaves, min_samples_leaf=2,
              random_state=0).fit(X, y)
    ev = compile_estimator(est, task, 4)
    m = 4000  # unseen rows: unknown categories, NaN in each column
    Xt = np.c_[rng.choice([*range(-1, 14), 2.5, 1e300, -0.0], m), rng.normal(size=m),
               rng.choice([*odd, 3.0, -1.0, 0.0], m), rng.normal(size=m)]
    Xt[rng.random((m, 4)) < 0.1] = np.nan
    assert np.isnan(Xt).any(axis=0).all() and not np.isin(Xt[:, 0], np.arange(12)).all()
    ref = sk(est, task, Xt)
    assert verify(ev, est, task, Xt, tol=1e-12)["max_abs_diff"] <= 1e-12
    for e in (ev, Evaluator.from_bytes(ev.to_bytes())):
        got = e.value(Xt) if task == "regression" else e.proba(Xt)
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)
        rows = Xt[:500].tolist()
        score = ref if task == "regression" else ref[:, 1] if task == "binary" else ref.max(axis=1)
        np.testing.assert_allclose([e.score_row(r) for r in rows], score[:500], rtol=0, atol=1e-12)
        if task != "regression":
            np.testing.assert_allclose([e.proba_row(r) for r in rows], ref[:500], rtol=0, atol=1e-12)
    assert ev._qs is None if leaves == 90 else ev._qs is not None
    # with leaf masks the row path folds each input's split lookups into one mask a value (two categorical inputs)
    assert (ev._fold is None) if leaves == 90 else len(ev._fold[1]) == 2
    for j, sk_refuses in ((0, True), (2, True), (1, False), (3, False)):
        row = Xt[0].copy()
        row[j] = np.inf
        if sk_refuses:
            with pytest.raises(ValueError, match="infinity"):
                sk(est, task, row[None, :])
            for call in (lambda: ev.score(row[None, :]), lambda: ev.score_row(row.tolist())):
                with pytest.raises(ValueError, match=f"^feature index {j} is infinite$"):
                    call()
        else:
            want = sk(est, task, row[None, :])
            want = want[0] if task == "regression" else want[0, 1] if task == "binary" else want[0].max()
            assert abs(ev.score_row(row.tolist()) - want) <= 1e-12 and abs(ev.score(row[None, :])[0] - want) <= 1e-12


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("model", ["hgb-native-first", "passthrough-and-onehot"])
def test_columns_after_the_inputs_in_their_order_are_no_identity(task, model):
    """Columns that take each input as it is, in order, followed by more (HistGradientBoosting's categories when they
    are its first inputs, categorical_features=[0, 1]: its encoder's output order is the inputs' own, then a lookup
    column a split; or a passthrough of every input beside a one-hot of one): the trees' input is not the row
    itself (before session 68 r5 it was taken for it: the row path dropped the columns after the inputs, a silently
    wrong score, 0.85 for scikit-learn's 0.21, and the chunk path raised IndexError, as did the deploy's check)."""
    rng = np.random.default_rng(5)
    n = 1500
    X = np.c_[rng.integers(0, 5, n), rng.integers(-2, 3, n), rng.normal(size=n)].astype(float)
    t = (X[:, 0] % 2 == 0) + (X[:, 1] == 1) + X[:, 2] + rng.normal(scale=0.3, size=n)
    y = {"binary": t > 1, "multiclass": np.digitize(t, [0.5, 1.5]), "regression": 3 * t}[task]
    if model == "hgb-native-first":
        est = trees("hgb", task, categorical_features=[0, 1]).fit(X, y)
    else:
        est = make_pipeline(ColumnTransformer([("all", "passthrough", [0, 1, 2]), ("hot", OneHotEncoder(), [0])]),
                            trees("rf", task)).fit(X, y)
    ev = compile_estimator(est, task, 3)
    Xt = np.c_[rng.integers(-1, 6, 300), rng.integers(-3, 4, 300), rng.normal(size=300)].astype(float)
    if model == "passthrough-and-onehot":
        Xt[:, 0] = Xt[:, 0].clip(0, 4)  # (its encoder refuses an unknown category)
    ref = sk(est, task, Xt)
    np.testing.assert_allclose(ev.value(Xt) if task == "regression" else ev.proba(Xt), ref, rtol=0, atol=1e-12)
    score = ref if task == "regression" else ref[:, 1] if task == "binary" else ref.max(axis=1)
    np.testing.assert_allclose([ev.score_row(r) for r in Xt.tolist()], score, rtol=0, atol=1e-12)
    assert verify(ev, est, task, Xt, tol=1e-12)["max_abs_diff"] <= 1e-12


def test_native_categories_of_words_that_read_as_numbers_do_not_compile():
    """HistGradientBoosting fitted on words that read as numbers ('1', '10', '2', '3': its encoder's order, not the
    numbers') does not compile (before session 68 r5 it did: float('10') went the way of the code 1 in the row path
    and of an unknown category in the chunk path, whose bisection of keys out of order missed it; scikit-learn,
    given numbers, takes each as an unknown category)."""
    rng = np.random.default_rng(0)
    w = rng.choice(np.array(["1", "10", "2", "3"]), 1000)
    x = rng.normal(size=1000)
    est = HistGradientBoostingClassifier(categorical_features=[0], max_iter=10, random_state=0).fit(
        np.c_[w.astype(object), x], ((w == "10") | (w == "3")) ^ (x > 1))
    with pytest.raises(Unsupported, match="categorical_features whose encoder is not numeric"):
        compile_estimator(est, "binary", 2)


@pytest.mark.parametrize("model", ["linear", "trees", "masks"])
@pytest.mark.parametrize("big", [1e30, 2.0**53, -1e300])
def test_an_unknown_category_beside_one_from_2_to_the_53_on_is_unknown(model, big):
    """A one-hot encoder (handle_unknown='ignore') of a category from 2**53 on (an id read as a float): an unknown
    category gives zeros, as scikit-learn's does (before session 68 r5 the compiler asked the encoder of the largest
    key + 1 as its unknown, which from 2**53 on is that key: every unknown category was scored as it, silently, and
    the deploy's data, all known, proved it equal)."""
    rng = np.random.default_rng(2)
    n = 1200
    X = np.c_[rng.choice([0.5, 1.5, big], n), rng.normal(size=n)]
    y = (X[:, 0] == big) ^ (X[:, 1] > 0.5)
    final = {"linear": linear("binary"), "trees": DecisionTreeClassifier(random_state=0),
             "masks": HistGradientBoostingClassifier(max_iter=10)}[model]
    est = make_pipeline(ColumnTransformer([("hot", OneHotEncoder(handle_unknown="ignore"), [0])],
                                          remainder="passthrough"), final).fit(X, y)
    ev = compile_estimator(est, "binary", 2)
    Xt = np.c_[rng.choice([0.5, 1.5, big, 7.0, -2.0, 1e200], 400), rng.normal(size=400)]
    ref = sk(est, "binary", Xt)[:, 1]
    np.testing.assert_allclose(ev.score(Xt), ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose([ev.score_row(r) for r in Xt.tolist()], ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name,masks", [("hgb", np.uint32), ("rf", np.uint64), ("hgb-wide", None), ("et", None)])
def test_trees_take_leaf_masks_of_32_or_64_bits_or_walk_the_levels(name, masks):
    """Trees of at most 32 leaves (HistGradientBoosting's default 31) are scored with 32-bit leaf masks,
    of at most 64 with 64-bit ones, deeper trees by walking the levels; test_equal_to_sklearn checks
    each family's scores, this that each way is taken (through scoring a chunk and a row)."""
    est, X = fitted(name, "binary")
    ev = Evaluator.from_bytes(compile_estimator(est, "binary", F).to_bytes())
    assert (ev._qs[0].dtype if ev._qs is not None else None) == masks
    leaves = np.add.reduceat((ev._left == np.arange(len(ev._left))).astype(int), ev._roots)
    assert (leaves.max() <= 32) == (masks == np.uint32) and (leaves.max() <= 64) == (masks is not None)
    ref = sk(est, "binary", X)
    assert np.abs(ev.proba(X) - ref).max() <= 1e-9
    assert np.abs(np.array([ev.proba_row(x.tolist()) for x in X[:50]]) - ref[:50]).max() <= 1e-9
    # one output and leaf masks: the row path sums each tree's leaf value by mask position, the same
    # float as the batch path's sum (the two apply expit differently, so compare before it)
    assert (ev._leafval is not None) == (masks is not None and name.startswith("hgb"))
    assert [ev._raw_row(x.tolist()) for x in X[:200]] == ev._raw(X[:200]).tolist()
    if masks is not None:  # the row path ANDs the masks as Python ints; tables over 8 MB go through numpy
        assert len(ev._rows_as_ints) == len(ev._qs[0])
        ev._rows_as_ints = ()
        assert [ev._raw_row(x.tolist()) for x in X[:200]] == ev._raw(X[:200]).tolist()


@pytest.mark.parametrize("name,task", [("hgb", "binary"), ("rf-deep", "multiclass"), ("et", "regression")])
def test_tree_node_indices_are_held_narrow_and_stored_as_int64(name, task):
    """A tree model's feature and child indices are held as int16 and int32 (6 bytes a node where int64 took
    16) once compiled or loaded, and written as int64 as before: the bytes are those an evaluator of int64
    indices writes (an earlier release's level walk reads int64 alone). Bytes of either width load narrow and
    score alike, in the chunk path and the row path, within 1e-9 of scikit-learn (hgb takes leaf masks,
    rf-deep and et walk the levels)."""
    est, X = fitted(name, task)
    ev = compile_estimator(est, task, F)
    data = ev.to_bytes()
    (n,) = struct.unpack_from("<I", data, len(MAGIC))
    stored = {a[0]: a[1] for a in json.loads(data[len(MAGIC) + 4:len(MAGIC) + 4 + n])["arrays"]}
    assert (stored["feat"], stored["left"]) == ("<i8", "<i8")
    wide = io.BytesIO()  # as the npz of earlier versions held them: intp
    np.savez_compressed(wide, header=np.array(json.dumps(ev.header)),
                        **{k: (np.asarray(v, np.intp) if k in ("feat", "left") else v) for k, v in ev.arrays.items()})
    assert Evaluator.from_bytes(wide.getvalue()).to_bytes() == data
    ev._WIDE = ()  # written as held
    narrow = ev.to_bytes()
    assert b'"feat", "<i2"' in narrow and b'"left", "<i4"' in narrow
    ref = ev.proba(X) if task != "regression" else ev.value(X)
    for e in (ev, *(Evaluator.from_bytes(b) for b in (data, narrow, wide.getvalue()))):
        assert (e._feat.dtype, e._left.dtype, e.arrays["feat"].dtype) == (np.int16, np.int32, np.int16)
        assert np.array_equal(e.proba(X) if task != "regression" else e.value(X), ref)
        assert [e._raw_row(x.tolist()) for x in X[:100]] == e._raw(X[:100]).tolist()
        assert verify(e, est, task, X)["max_abs_diff"] <= 1e-9


@pytest.mark.parametrize("name,task", [("rf-deep", "multiclass"), ("rf", "binary"), ("et", "regression")])
def test_a_forests_leaf_values_are_held_once(name, task):
    """The batch path sums leaf values from an array of (outputs, nodes); a forest classifier's leaf values
    (nodes, outputs) were held again as that transposed copy (16 bytes a node of a binary forest, as much as
    the values themselves). They are held in column order, and the batch path's array is a view of them:
    compiled or loaded (from the bytes or an npz), the same stored bytes and the same scores to the bit."""
    est, X = fitted(name, task)
    ev = compile_estimator(est, task, F)
    data = ev.to_bytes()
    npz = io.BytesIO()
    np.savez_compressed(npz, header=np.array(json.dumps(ev.header)), **ev.arrays)
    ref = ev.proba(X) if task != "regression" else ev.value(X)
    for e in (ev, *(Evaluator.from_bytes(b) for b in (data, npz.getvalue()))):
        vals = e.arrays["vals"]
        assert np.shares_memory(e._vt, vals) and e._vt.flags["C_CONTIGUOUS"]
        assert footprint([e.arrays, e._vt]) == footprint(e.arrays)  # counted once, as the model cache counts
        assert e.to_bytes() == data
        assert np.array_equal(e.proba(X) if task != "regression" else e.value(X), ref)
        assert [e._raw_row(x.tolist()) for x in X[:100]] == e._raw(X[:100]).tolist()
        assert verify(e, est, task, X)["max_abs_diff"] <= 1e-9


def test_hgb_poisson_and_gamma():
    X, y = data("regression", nan=True)
    for loss in ("poisson", "gamma"):
        est = HistGradientBoostingRegressor(loss=loss, max_iter=30).fit(X, np.exp(y / 10))
        assert verify(compile_estimator(est, "regression", F), est, "regression", X)["max_abs_diff"] <= 1e-9


def test_sparse_input_to_trees_refuses_nan_like_sklearn():
    X, y = data("binary", nan=True)
    ct = ColumnTransformer([("num", StandardScaler(with_mean=False), NUM), ("cat", OneHotEncoder(), CAT)],
                           sparse_threshold=1.0)
    est = make_pipeline(ct, RandomForestClassifier(10, random_state=0))
    est.fit(np.nan_to_num(X), y)
    ev = compile_estimator(est, "binary", F)
    assert not ev.allows_nan
    with pytest.raises(ValueError, match="feature index 0 is NULL or NaN"):
        ev.score(X[np.isnan(X[:, 0])][:1])
    with pytest.raises(ValueError):
        est.predict_proba(X[np.isnan(X[:, 0])][:1])
    assert verify(ev, est, "binary", np.nan_to_num(X))["max_abs_diff"] <= 1e-9


def test_imputer_drops_an_empty_column():
    X, y = data("regression", nan=True)
    X[:, 2] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = make_pipeline(SimpleImputer(), StandardScaler(), Ridge()).fit(X, y)
    ev = compile_estimator(est, "regression", F)
    assert ev.nan_ok.all() and not ev.inf_ok.any()
    assert verify(ev, est, "regression", X)["max_abs_diff"] <= 1e-9


def test_tree_thresholds_compare_in_float32():
    est, X = fitted("rf", "binary")
    thr = np.concatenate([e.tree_.threshold[e.tree_.feature >= 0] for e in est.estimators_])
    feat = np.concatenate([e.tree_.feature[e.tree_.feature >= 0] for e in est.estimators_])
    feat, thr = feat[np.isfinite(thr)], thr[np.isfinite(thr)]  # an infinite threshold splits off NaN
    edge = np.repeat(X[:1], 3 * len(thr), axis=0)  # each threshold, and one step either side
    for k, d in enumerate((-np.inf, None, np.inf)):
        v = thr if d is None else np.nextafter(thr, d)
        edge[k * len(thr) + np.arange(len(thr)), feat] = v
    assert verify(compile_estimator(est, "binary", F), est, "binary", edge)["max_abs_diff"] <= 1e-9


def test_loads_without_sklearn_or_scipy(tmp_path):
    for name, task in (("impute-onehot-linear", "multiclass"), ("onehot-rf", "binary"), ("hgb", "regression")):
        est, X = fitted(name, task)
        ev = compile_estimator(est, task, F)
        (tmp_path / f"{name}.bin").write_bytes(ev.to_bytes())
        np.save(tmp_path / f"{name}.x.npy", X[:50])
        np.save(tmp_path / f"{name}.y.npy", sk(est, task, X[:50]))
    code = (
        "import sys, glob, numpy as np\n"
        "from pgscore.compiled import Evaluator\n"
        f"for p in glob.glob({str(tmp_path)!r} + '/*.bin'):\n"
        "    ev = Evaluator.from_bytes(open(p, 'rb').read())\n"
        "    X, want = np.load(p[:-4] + '.x.npy'), np.load(p[:-4] + '.y.npy')\n"
        "    got = ev.value(X) if ev.task == 'regression' else ev.proba(X)\n"
        "    assert np.abs(got - want).max() <= 1e-9, p\n"
        "    assert abs(ev.score_row(X[0].tolist()) - ev.score(X[:1])[0]) <= 1e-12\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'scipy', 'joblib'))\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_bytes_are_a_json_index_and_raw_arrays_without_pickle():
    import zlib

    est, X = fitted("indicator-linear", "binary")
    ev = compile_estimator(est, "binary", F)
    data = ev.to_bytes()
    assert data.startswith(MAGIC)
    (n,) = struct.unpack_from("<I", data, len(MAGIC))
    meta = json.loads(data[len(MAGIC) + 4:len(MAGIC) + 4 + n])
    header = meta["header"]
    assert header["format"] == 1 and header["estimator"] == "LogisticRegression"
    assert all(np.dtype(dtype) != object for _, dtype, *_ in meta["arrays"])
    assert np.array_equal(Evaluator.from_bytes(data).proba(X), ev.proba(X))

    def rebuilt(meta, blob=None):
        m = json.dumps(meta).encode()
        return MAGIC + struct.pack("<I", len(m)) + m + (blob if blob is not None else data[len(MAGIC) + 4 + n:])

    with pytest.raises(ValueError, match="format"):
        Evaluator.from_bytes(rebuilt({**meta, "header": {**header, "format": 99}}))
    first, second = meta["arrays"][0], meta["arrays"][1]
    for bad in ([first[0], "|O", first[2], first[3], first[4]],  # Python objects
                [first[0], first[1], [10 ** 6], first[3], first[4]],  # more than its bytes
                [first[0], first[1], [-1], first[3], -8],  # a negative shape
                [first[0], first[1], [True], first[3], first[4]],  # not an int
                [first[0], first[1], first[2], 10 ** 9, first[4]],  # past the end
                [first[0], first[1], second[2], second[3], second[4]]):  # on top of the next array
        with pytest.raises(ValueError, match="not what the index says"):
            Evaluator.from_bytes(rebuilt({**meta, "arrays": [bad, *meta["arrays"][1:]]}))
    with pytest.raises(ValueError, match="more than"):  # declares more than any evaluator holds
        Evaluator.from_bytes(rebuilt({**meta, "arrays": [[first[0], "<f8", [1 << 28], 0, 1 << 31]]}))
    bomb = zlib.compress(bytes(50 * (1 << 20)))  # 50 MiB of zeros where the index declares far less
    with pytest.raises(ValueError, match="not what the index says"):
        Evaluator.from_bytes(rebuilt(meta, bomb))
    with pytest.raises(ValueError, match="not what the index says"):  # bytes after the arrays
        Evaluator.from_bytes(data + b"junk")
    for damaged in (data[:len(MAGIC) + 2], rebuilt(meta, b"not zlib"), b"PGSC" + data[4:20], b"",
                    rebuilt({**meta, "header": [1, 2]}), rebuilt({**meta, "header": {**header, "kind": "nope"}})):
        with pytest.raises(ValueError):
            Evaluator.from_bytes(damaged)
    # the arrays are aligned, writable copies, as numpy.load gave them
    loaded = Evaluator.from_bytes(data)
    assert all(a.flags.writeable and a.flags.aligned for a in loaded.arrays.values())


def test_evaluators_stored_as_npz_by_earlier_versions_still_load():
    est, X = fitted("indicator-linear", "binary")
    ev = compile_estimator(est, "binary", F)
    buf = io.BytesIO()
    np.savez_compressed(buf, header=np.array(json.dumps(ev.header)), **ev.arrays)
    assert np.array_equal(Evaluator.from_bytes(buf.getvalue()).proba(X), ev.proba(X))
    with pytest.raises(ValueError, match="format"):
        buf = io.BytesIO()
        np.savez(buf, header=np.array(json.dumps({**ev.header, "format": 99})))
        Evaluator.from_bytes(buf.getvalue())


@pytest.mark.parametrize("est, where", [
    (SVC(), "SVC"),
    (KNeighborsClassifier(), "KNeighborsClassifier"),
    (make_pipeline(PolynomialFeatures(), linear("binary")), "PolynomialFeatures"),
    (make_pipeline(MinMaxScaler(clip=True), linear("binary")), "clip"),
    (make_pipeline(FunctionTransformer(np.log1p), linear("binary")), "FunctionTransformer"),
    (SGDClassifier(loss="hinge"), "hinge"),
    (make_pipeline(StandardScaler(), OneHotEncoder(handle_unknown="ignore"), linear("binary")), "rescaled"),
])
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_unsupported(est, where):
    X, y = data("binary")
    X = np.abs(X)
    est.fit(X, y)
    with pytest.raises(Unsupported, match=where):
        compile_estimator(est, "binary", F)


def test_unsupported_task_and_multioutput():
    X, y = data("regression")
    with pytest.raises(Unsupported, match="multi-output"):
        compile_estimator(LinearRegression().fit(X, np.c_[y, y]), "regression", F)
    with pytest.raises(Unsupported):
        compile_estimator(MultiOutputRegressor(Ridge()).fit(X, np.c_[y, y]), "regression", F)
    est, _ = fitted("scaler-linear", "binary")
    with pytest.raises(Unsupported, match="not a multiclass model"):
        compile_estimator(est, "multiclass", F)
    with pytest.raises(ValueError, match="takes 6 features"):
        compile_estimator(est, "binary", 5)


def test_linear_refuses_nan_and_infinity_like_sklearn():
    est, X = fitted("scaler-linear", "binary")
    ev = compile_estimator(est, "binary", F)
    assert not ev.allows_nan and not ev.nan_ok.any()
    for bad, what in ((np.nan, "NULL or NaN"), (np.inf, "infinite"), (-np.inf, "infinite")):
        row = X[0].copy()
        row[2] = bad
        for call in (lambda: ev.score(row[None, :]), lambda: ev.score_row(row.tolist())):
            with pytest.raises(ValueError, match=f"^feature index 2 is {what}$"):
                call()
        with pytest.raises(ValueError):
            est.predict_proba(row[None, :])
    with pytest.raises(ValueError, match="expected"):
        ev.score_row([1.0] * (F - 1))


def test_imputed_columns_allow_nan_others_do_not():
    est = make_pipeline(ColumnTransformer([("num", SimpleImputer(), [0, 1]), ("rest", "passthrough", [2, 3, 4, 5])]),
                        linear("binary"))
    X, y = data("binary")
    ev = compile_estimator(est.fit(X, y), "binary", F)
    assert ev.nan_ok.tolist() == [True, True, False, False, False, False] and ev.allows_nan
    row = X[0].tolist()
    row[1] = float("nan")
    assert abs(ev.score_row(row) - est.predict_proba([row])[0, 1]) <= 1e-12
    row[3] = float("nan")
    with pytest.raises(ValueError, match="feature index 3 is NULL or NaN"):
        ev.score_row(row)


@pytest.mark.parametrize("model", ["linear", "trees", "masks"])
def test_unknown_category(model):
    """(masks: trees of leaf masks, whose row path folds a strict lookup's columns into one mask a value)"""
    X, y = data("binary")
    final = {"linear": linear("binary"), "trees": RandomForestClassifier(5, random_state=0),
             "masks": HistGradientBoostingClassifier(max_iter=10)}[model]
    strict = make_pipeline(num_cat("passthrough", OneHotEncoder(handle_unknown="error")), final).fit(X, y)
    ev = compile_estimator(strict, "binary", F)
    assert abs(ev.score_row(X[2].tolist()) - strict.predict_proba(X[2:3])[0, 1]) <= 1e-12
    assert (getattr(ev, "_fold", None) is not None) == (model == "masks")
    row = X[0].tolist()
    row[4] = 9.0
    for call in (lambda: ev.score_row(row), lambda: ev.score(np.array([X[1], row]))):
        with pytest.raises(ValueError, match="feature index 4 has unknown category 9"):
            call()
    lax = make_pipeline(num_cat("passthrough", OneHotEncoder(handle_unknown="ignore")), final).fit(X, y)
    ev = compile_estimator(lax, "binary", F)
    Xu = X.copy()
    Xu[::3, 4], Xu[::4, 5] = 9.0, -1.0
    assert verify(ev, lax, "binary", Xu)["max_abs_diff"] <= 1e-9
    assert abs(ev.score_row(row) - lax.predict_proba([row])[0, 1]) <= 1e-12


@pytest.mark.filterwarnings("ignore:overflow encountered in cast")
def test_trees_mirror_sklearn_on_infinity():
    est, X = fitted("rf", "binary")
    ev = compile_estimator(est, "binary", F)
    row = X[0].tolist()
    for bad, said in ((np.inf, "infinite"), (1e39, "beyond float32's range")):  # 1e39 overflows float32
        row[0] = bad
        for call in (lambda: ev.score_row(row), lambda: ev.score(np.array([row]))):
            with pytest.raises(ValueError, match=f"feature index 0 is {said}"):
                call()
        with pytest.raises(ValueError):
            est.predict_proba([row])
    est, X = fitted("hgb", "multiclass")  # boosting compares float64 and takes infinity
    ev = compile_estimator(est, "multiclass", F)
    Xi = X.copy()
    Xi[::5, 1], Xi[1::5, 3] = np.inf, -np.inf
    assert ev.inf_ok.all()
    np.testing.assert_allclose(ev.proba(Xi), est.predict_proba(Xi), rtol=0, atol=1e-9)
    np.testing.assert_allclose([ev.score_row(r) for r in Xi[:20].tolist()], est.predict_proba(Xi[:20]).max(axis=1),
                               rtol=0, atol=1e-9)


# a rescaling before a step that refuses infinity: a finite value it takes past float64's range is refused
OVERFLOWING = {
    "scaler-linear": lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
    "minmax-sgd": lambda: make_pipeline(MinMaxScaler(), SGDClassifier(loss="log_loss", random_state=0)),
    "scalers-hgb": lambda: make_pipeline(StandardScaler(), MinMaxScaler(), HistGradientBoostingClassifier(max_iter=10)),
}


@pytest.mark.filterwarnings("ignore:overflow encountered")
@pytest.mark.parametrize("name", OVERFLOWING)
def test_a_value_rescaled_to_infinity_is_refused_as_sklearn_refuses_it(name):
    """StandardScaler divides by scale_ (column 2's is ~0.1): a finite 1e308 becomes infinity, which the step
    after it refuses in scikit-learn. The compiled model, its weights folded, gave a probability for it (row
    path, chunk path and SQL alike). It refuses it now, naming the feature, and takes the largest value
    scikit-learn takes."""
    X, y = data("binary")
    X[:, 2] *= 0.01  # a small scale_: x / scale_ overflows from ~1e306 on
    est = OVERFLOWING[name]().fit(X, y)
    ev = Evaluator.from_bytes(compile_estimator(est, "binary", F).to_bytes())
    for sign in (1.0, -1.0):
        bad = X[0].copy()
        bad[2] = sign * 1e308
        with pytest.raises(ValueError, match="Input X contains infinity"):
            est.predict_proba(bad[None, :])
        for call in (lambda: ev.score_row(bad.tolist()), lambda: ev.proba_row(bad.tolist()),
                     lambda: ev.score(np.vstack([X[:3], bad]))):
            with pytest.raises(ValueError, match="feature index 2 is .*1e\\+308.* to infinity"):
                call()
        assert ev.beyond_range(np.vstack([X[:3], bad]))[:, 2].tolist() == [False, False, False, True]
        # the largest value it takes, and the next float, which it refuses: as scikit-learn does
        edge = ev.arrays["fin_hi" if sign > 0 else "fin_lo"][2]
        assert 1e300 < abs(edge) < 1e308
        ok = X[0].copy()
        ok[2] = edge
        np.testing.assert_allclose(ev.proba_row(ok.tolist()), est.predict_proba(ok[None, :])[0], rtol=0, atol=1e-9)
        ok[2] = np.nextafter(edge, sign * np.inf)
        with pytest.raises(ValueError, match="Input X contains infinity"):
            est.predict_proba(ok[None, :])
        with pytest.raises(ValueError, match="feature index 2"):
            ev.score_row(ok.tolist())
    np.testing.assert_allclose(ev.proba(X), est.predict_proba(X), rtol=0, atol=1e-9)


@pytest.mark.parametrize("final", [DecisionTreeClassifier, RandomForestClassifier, ExtraTreesClassifier])
def test_a_value_rescaled_to_infinity_before_a_one_hot_lookup_is_refused_by_float32_trees(final):
    """Scaler, OneHotEncoder, then a tree comparing in float32: 1e308 / scale_ is infinity, which OneHotEncoder
    refuses in scikit-learn. The bounds were dropped for float32 trees (their float32 check refuses what float32
    cannot hold), but the one-hot lookup made the infinity an unknown category first, so every path scored it."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 4, size=(300, 2)).astype(float) * 0.01
    y = (X[:, 0] > 0.015).astype(int)
    est = make_pipeline(StandardScaler(), OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                        final(random_state=0, **({} if final is DecisionTreeClassifier else {"n_estimators": 5})))
    est.fit(X, y)
    ev = Evaluator.from_bytes(compile_estimator(est, "binary", 2).to_bytes())
    assert ev.in_float32
    for sign in (1.0, -1.0):
        bad = [sign * 1e308, 0.01]
        with pytest.raises(ValueError, match="infinity"):
            est.predict_proba([bad])
        for call in (lambda: ev.score_row(bad), lambda: ev.proba_row(bad), lambda: ev.score(np.array([X[0], bad]))):
            with pytest.raises(ValueError, match="feature index 0 is .*1e\\+308.* to infinity"):
                call()
        assert ev.beyond_range(np.array([X[0], bad]))[:, 0].tolist() == [False, True]
    np.testing.assert_allclose(ev.proba(X), est.predict_proba(X), rtol=0, atol=1e-9)
    np.testing.assert_allclose([ev.score_row(r) for r in X[:20].tolist()], est.predict_proba(X[:20])[:, 1],
                               rtol=0, atol=1e-9)


@pytest.mark.filterwarnings("ignore:overflow encountered")
def test_a_scaler_that_makes_0_infinite_is_not_compiled():
    """A StandardScaler whose mean_ is near -1.8e308 with a scale_ below 1 makes 0 (and every small value) infinite,
    which LogisticRegression refuses in scikit-learn; the bound search assumed 0 stays finite and gave the input no
    bound, so the compiled model scored such rows. It is not compiled now (deploy scores it by scikit-learn)."""
    X, y = data("binary")
    est = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X, y)
    est[0].mean_[0], est[0].scale_[0] = -1.5e308, 0.5
    row = X[0].copy()
    row[0] = 0.0
    with pytest.raises(ValueError, match="infinity"):
        est.predict_proba(row[None, :])
    with pytest.raises(Unsupported, match="input 0: .* rescale 0 past float64's range"):
        compile_estimator(est, "binary", F)


def test_verify_raises_mismatch():
    est, X = fitted("scaler-linear", "regression")
    ev = compile_estimator(est, "regression", F)
    ev.arrays["bias"] = ev.arrays["bias"] + 1e-6
    with pytest.raises(Mismatch, match="max abs difference"):
        verify(Evaluator.from_bytes(ev.to_bytes()), est, "regression", X)
    ev = compile_estimator(est, "regression", F)
    ev.arrays["nan_ok"] = np.ones(F, bool)  # claims NaN has a result where scikit-learn refuses it
    with pytest.raises(Mismatch, match="scikit-learn refused with NaN"):
        verify(Evaluator.from_bytes(ev.to_bytes()), est, "regression", X)
    est, X = fitted("hgb", "binary")
    ev = compile_estimator(est, "binary", F)
    ev.arrays["vals"] = ev.arrays["vals"] * 0.5
    with pytest.raises(Mismatch, match="at row"):
        verify(Evaluator.from_bytes(ev.to_bytes()), est, "binary", X)


@pytest.mark.parametrize("name,task,corrupt", [
    # the row path's thresholds (bisected as lists; the chunk path searches arrays of its own)
    ("hgb", "binary", lambda ev: setattr(ev, "_qs", (*ev._qs[:2], [([u + 0.5 for u in t], b, m) for t, b, m in
                                                                  ev._qs[2]], *ev._qs[3:]))),
    ("rf", "multiclass", lambda ev: setattr(ev, "_rows_as_ints", [m >> 1 for m in ev._rows_as_ints])),
    ("scaler-linear", "binary", lambda ev: setattr(ev, "_b_l", [ev._b_l[0] + 1e-6])),  # score_row's bias
    ("scaler-linear", "regression", lambda ev: setattr(ev, "_S_l", [[w * 2 for w in ev._S_l[0]]])),
])
def test_verify_proves_the_row_path_too(name, task, corrupt):
    """score_row and proba_row (what the SQL row functions call) are code of their own: verify() scores
    rows one at a time too, and a row path that disagrees fails the deploy's proof even when the chunk
    path is right."""
    est, X = fitted(name, task)
    ev = Evaluator.from_bytes(compile_estimator(est, task, F).to_bytes())
    assert verify(ev, est, task, X)["max_abs_diff"] <= 1e-9
    ev.score_row(X[0].tolist())  # builds the row path's own tables (the leaf masks as Python ints)
    corrupt(ev)
    np.testing.assert_allclose(ev.proba(X) if task != "regression" else ev.value(X), sk(est, task, X),
                               rtol=0, atol=1e-9)  # the chunk path is untouched
    with pytest.raises(Mismatch, match="on the row path"):
        verify(ev, est, task, X)



# -- score_sql: the linear score as SQL (rescoring computes it inside its write) ---------------------------

def _in_postgres(conn, ev, rows):
    """(score, z) of score_sql's expressions, evaluated by PostgreSQL, for each row."""
    z, link = ev.score_sql([f"r.x[{j + 1}]" for j in range(ev.n_features)])
    out = []
    with conn.cursor() as cur:
        for row in rows:
            cur.execute(f"SELECT {link('s.z')}, s.z FROM (SELECT {z} AS z FROM (SELECT %s::float8[] AS x) AS r) AS s",
                        ([float(v) for v in row],))
            out.append(cur.fetchone())
    return out


def _imputed_binary():
    X, y = data("binary", nan=True)
    est = make_pipeline(ColumnTransformer([("num", SimpleImputer(strategy="median"), NUM), ("cat", "passthrough", CAT)]),
                        StandardScaler(), linear("binary"))
    return est.fit(X, y), X


SQL_CASES = {
    "scaler-binary": (lambda: fitted("scaler-linear", "binary"), "binary"),
    "scaler-regression": (lambda: fitted("scaler-linear", "regression"), "regression"),
    "sgd-binary": (lambda: fitted("sgd", "binary"), "binary"),
    "unpenalised-regression": (lambda: fitted("unpenalised", "regression"), "regression"),
    "imputed-binary": (_imputed_binary, "binary"),
}


@pytest.mark.parametrize("case", SQL_CASES)
def test_score_sql_gives_score_row_in_postgres(conn, case):
    make, task = SQL_CASES[case]
    est, X = make()
    ev = compile_estimator(est, task, F)
    rows = X[:40].copy()
    big = X[0].copy()
    big[3] *= 1e6  # z far beyond +-700: exp() is clamped in SQL, the score is not changed by it
    rows = np.vstack([rows, big, -big])
    got = _in_postgres(conn, ev, rows)
    assert abs(got[-1][1]) > 700 and abs(got[-2][1]) > 700
    for row, (score, z) in zip(rows, got):
        want = ev.score_row(row.tolist())
        assert math.isfinite(z)
        assert score == want or abs(score - want) < 1e-300, (row, score, want)
        if abs(z) < 700:
            assert score == want  # the same operations in the same order: the same float
        ref = sk(est, task, row[None, :])
        assert abs(score - (ref[0] if task == "regression" else ref[0, 1])) < 1e-9
    if case == "imputed-binary":  # missing values took the fixed-term branch
        assert ev.nan_ok[NUM].all() and np.isnan(rows[:40, NUM]).any()


def test_score_sql_leaves_refused_values_to_score_row(conn):
    est, X = fitted("scaler-linear", "binary")
    ev = compile_estimator(est, "binary", F)
    rows = [X[0].copy() for _ in range(3)]
    rows[0][2], rows[1][2], rows[2][2] = np.nan, np.inf, -np.inf
    for score, z in _in_postgres(conn, ev, rows):
        assert not math.isfinite(z)  # the caller sees a non-finite z and lets score_row raise


@pytest.mark.filterwarnings("ignore:overflow encountered")
def test_score_sql_leaves_values_rescaled_to_infinity_to_score_row(conn):
    """Column 2 divided by a scale_ of ~0.001: 1e308 is infinity to scikit-learn's LogisticRegression, which
    refuses it; SQL's folded weights gave it a finite z (a probability). z is NaN now, for score_row to refuse."""
    X, y = data("binary")
    X[:, 2] *= 0.01
    est = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X, y)
    ev = compile_estimator(est, "binary", F)
    rows = [X[0].copy() for _ in range(4)]
    rows[0][2], rows[1][2] = 1e308, -1e308
    rows[2][2] = ev.arrays["fin_hi"][2]  # the largest value it takes: scored
    got = _in_postgres(conn, ev, rows)
    assert [math.isnan(z) for _, z in got] == [True, True, False, False]
    for row, (score, z) in zip(rows[2:], got[2:]):
        assert score == ev.score_row(row.tolist())
        assert abs(score - est.predict_proba(row[None, :])[0, 1]) < 1e-9


@pytest.mark.filterwarnings("ignore:overflow encountered")
def test_score_sql_leaves_a_row_past_the_nearest_bound_to_score_row_which_checks_each_bound(conn):
    """score_sql tests a row once, against T, the finite bound nearest 0 of any feature (column 2's, ~1.8e305
    here), not each term against its own two bounds: a value past T but within its own feature's bound
    (column 5's, ~1.5e308) makes z NaN too, and score_row scores it as scikit-learn does; past its own bound,
    score_row refuses it. An allowed NaN of a bounded feature is not past T: SQL scores that row."""
    X, y = data("binary")
    X[:, 2] *= 0.01
    est = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X, y)
    ev = compile_estimator(est, "binary", F)
    hi, lo = ev.arrays["fin_hi"], ev.arrays["fin_lo"]
    assert hi[2] < 1e306 < hi[5] < sys.float_info.max and lo[5] == -hi[5]
    rows = [X[0].copy() for _ in range(5)]
    rows[0][5], rows[1][5], rows[2][5], rows[3][5] = 1e307, -1e307, hi[5], np.nextafter(hi[5], np.inf)
    got = _in_postgres(conn, ev, rows)
    assert [math.isnan(z) for _, z in got] == [True, True, True, True, False]
    for row in rows[:3]:
        assert abs(ev.score_row(row.tolist()) - est.predict_proba(row[None, :])[0, 1]) <= 1e-9
    with pytest.raises(ValueError, match="feature index 5 is .* to infinity"):
        ev.score_row(rows[3].tolist())
    assert got[4][0] == ev.score_row(rows[4].tolist())
    # an imputer before the scaler: column 2 may be NaN and is bounded (scale_ ~0.1)
    est, X = _imputed_binary()
    ev = compile_estimator(est, "binary", F)
    assert ev.nan_ok[2] and np.isfinite(ev.arrays["fin_hi"][2])
    rows = [X[0].copy() for _ in range(3)]
    rows[0][2], rows[1][2], rows[2][2] = np.nan, 1e308, -np.inf
    got = _in_postgres(conn, ev, rows)
    assert math.isfinite(got[0][1]) and got[0][0] == ev.score_row(rows[0].tolist())
    assert math.isnan(got[1][1]) and not math.isfinite(got[2][1])
    for row in rows[1:]:
        with pytest.raises(ValueError, match="feature index 2 is"):
            ev.score_row(row.tolist())


@pytest.mark.filterwarnings("ignore:overflow encountered")
def test_score_sql_leaves_a_refused_value_of_an_input_it_does_not_read_to_score_row(conn):
    """Two scalers, then a ColumnTransformer that keeps column 0 alone: scikit-learn refuses column 1's 1e308 (the
    first scaler makes it infinity, which the second refuses) and its infinities. SQL's sum never read column 1 and
    scored such rows, as score_row's fast path (a sum over the columns read) scored the infinity. score_sql's one
    test a row now covers column 1 (z NaN or infinite: left to score_row, which refuses it); an allowed NaN there
    and an ordinary row are scored in SQL as score_row scores them."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    X[:, 1] *= 0.01
    y = (X[:, 0] + rng.normal(size=200) > 0).astype(int)
    scalers = ColumnTransformer([("s", make_pipeline(StandardScaler(), StandardScaler()), [0, 1, 2])])
    est = Pipeline([("ct1", scalers), ("ct2", ColumnTransformer([("p", "passthrough", [0])])),
                    ("lr", LogisticRegression())]).fit(X, y)
    ev = Evaluator.from_bytes(compile_estimator(est, "binary", 3).to_bytes())
    rows = [X[0].copy() for _ in range(6)]
    rows[0][1], rows[1][1], rows[2][1], rows[3][1], rows[4][1] = 1e308, -1e308, np.inf, -np.inf, np.nan
    got = _in_postgres(conn, ev, rows)
    assert [math.isfinite(z) for _, z in got] == [False, False, False, False, True, True]
    for row in rows[:4]:
        with pytest.raises(ValueError, match="infinity"):
            est.predict_proba([row])
        with pytest.raises(ValueError, match="feature index 1"):
            ev.score_row(row.tolist())
    for row, (score, _) in zip(rows[4:], got[4:]):
        assert score == ev.score_row(row.tolist())
        assert abs(score - est.predict_proba([row])[0, 1]) <= 1e-9
    keep = Pipeline([("ct1", scalers), ("lr", LogisticRegression())]).fit(X, y)
    assert compile_estimator(keep, "binary", 3).score_sql(["x0", "x1", "x2"]) is not None


@pytest.mark.filterwarnings("ignore:overflow encountered")
def test_a_dropped_input_refused_as_nan_or_infinity_is_tested_in_sql_and_by_the_fast_path(conn):
    """Inputs a ColumnTransformer drops after a step that refuses their NaN (FunctionTransformer(validate=True)) or
    their infinity (SimpleImputer, which allows NaN): score_sql is not None, defers such a row (z not finite) and
    scores the others as score_row does; score_row refuses it as scikit-learn does, fast path or not."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] + rng.normal(size=200) > 0).astype(int)
    strict = Pipeline([("ct1", ColumnTransformer([("v", FunctionTransformer(validate=True), [0, 1, 2])])),
                       ("ct2", ColumnTransformer([("p", "passthrough", [0, 2])])), ("lr", LogisticRegression())])
    imputed = Pipeline([("imp", SimpleImputer()), ("ct2", ColumnTransformer([("p", "passthrough", [0, 2])])),
                        ("lr", LogisticRegression())])
    for est, nan_refused in ((strict.fit(X, y), True), (imputed.fit(X, y), False)):
        ev = Evaluator.from_bytes(compile_estimator(est, "binary", 3).to_bytes())
        assert ev.score_sql(["x0", "x1", "x2"]) is not None
        rows = [X[0].copy() for _ in range(5)]
        rows[0][1], rows[1][1], rows[2][1], rows[3][1] = np.inf, -np.inf, np.nan, 1e308
        got = _in_postgres(conn, ev, rows)
        assert [math.isfinite(z) for _, z in got] == [False, False, not nan_refused, True, True]
        for row, (score, z) in zip(rows, got):
            try:
                want = est.predict_proba([row])[0, 1]
            except ValueError:
                with pytest.raises(ValueError, match="feature index 1"):
                    ev.score_row(row.tolist())
                assert not math.isfinite(z)
                continue
            assert math.isfinite(z) and score == ev.score_row(row.tolist())
            assert abs(score - want) <= 1e-9


def _in_postgres_at_once(conn, ev, rows):
    """_in_postgres's (score, z) for all `rows` in one statement (a 2-D float8[], a row per subscript)."""
    z, link = ev.score_sql([f"s.m[s.i][{j + 1}]" for j in range(ev.n_features)])
    with conn.cursor() as cur:
        cur.execute(f"SELECT {link('v.z')}, v.z FROM (SELECT s.i, {z} AS z FROM (SELECT %s::float8[] AS m, i FROM "
                    "pg_catalog.generate_series(1, %s) AS i) AS s OFFSET 0) AS v ORDER BY v.i",
                    ([[float(v) for v in r] for r in rows], len(rows)))
        return cur.fetchall()


def _codes(n=300, seed=3):
    """x (a number), c1 (codes 0, 1, 7.5, -3 and NaN), c2 (codes 0-5, the last three rare)."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(size=n), rng.choice([0.0, 1.0, 7.5, -3.0], n),
                         rng.choice(6, n, p=[0.4, 0.3, 0.18, 0.06, 0.04, 0.02]).astype(float)])
    X[rng.random(n) < 0.1, 1] = np.nan
    y = X[:, 0] + (X[:, 1] == 1.0) - 2 * (X[:, 1] == 7.5) + (X[:, 2] == 2) + rng.normal(scale=0.5, size=n)
    return X, y


def _onehot_cases():
    def ct(c1, c2):
        return ColumnTransformer([("x", StandardScaler(), [0]), ("c1", c1, [1]), ("c2", c2, [2])])

    ohe = OneHotEncoder
    return {
        "ignore, NaN a category": (ct(ohe(handle_unknown="ignore"), ohe(handle_unknown="ignore")), "binary", True),
        "ignore, regression": (ct(ohe(handle_unknown="ignore"), ohe(handle_unknown="ignore", drop="first")),
                               "regression", True),
        "error, most_frequent, drop first, if_binary": (ct(
            make_pipeline(SimpleImputer(strategy="most_frequent"), ohe(drop="first")), ohe(drop="if_binary")),
            "binary", True),
        "infrequent_if_exist, constant, min_frequency, max_categories": (ct(
            make_pipeline(SimpleImputer(strategy="constant", fill_value=7.5),
                          ohe(handle_unknown="infrequent_if_exist", min_frequency=40)),
            ohe(handle_unknown="infrequent_if_exist", max_categories=3)), "binary", True),
        "error, no imputer, NaN not fitted": (ct(ohe(), ohe(handle_unknown="ignore")), "binary", False),
    }


@pytest.mark.filterwarnings("ignore:Found unknown categories")
@pytest.mark.parametrize("case", list(_onehot_cases()))
def test_score_sql_of_one_hot_lookups_gives_score_row_and_scikit_learn(conn, case):
    """One-hot lookups are SQL too (session 71; score_sql returned None for any): each input's weight found among its
    codes by array_position, NaN's row, an unknown code's row (zeros, the infrequent column's weight) or NaN where the
    encoder refuses it (z NaN, left to score_row, which raises as scikit-learn does). Every row scores the same float
    as score_row and scikit-learn's within 1e-12 (a weight on the wrong category would not): every code, -0 for 0,
    an unknown code, 0.5, NaN, infinities, 1e300."""
    est, task, nan_fitted = _onehot_cases()[case]
    X, y = _codes()
    if not nan_fitted:
        X[np.isnan(X[:, 1]), 1] = 1.0
    est = make_pipeline(est, linear(task) if task == "regression" else LogisticRegression())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y if task == "regression" else (y > 0.5).astype(int))
    ev = Evaluator.from_bytes(compile_estimator(est, task, 3).to_bytes())
    assert ev._cat_d and ev.score_sql(["0"] * 3) is not None
    rows = [X[i] for i in range(60)]
    for j in (1, 2):
        for v in (-0.0, 99.0, 0.5, np.nan, np.inf, -np.inf, 1e300, 4.0, 5.0):
            r = X[0].copy()
            r[j] = v
            rows.append(r)
    rows.append(np.array([np.inf, 0.0, 1.0]))
    got = _in_postgres_at_once(conn, ev, rows)
    refused = 0
    for row, (score, z) in zip(rows, got):
        try:
            ref = sk(est, task, row[None, :])
        except ValueError:
            refused += 1
            assert not math.isfinite(z), row  # left to score_row, which refuses it
            with pytest.raises(ValueError, match="feature index"):
                ev.score_row(row.tolist())
            continue
        assert math.isfinite(z) and score == ev.score_row(row.tolist()), row
        assert abs(score - (ref[0] if task == "regression" else ref[0, 1])) <= 1e-12, row
    assert refused >= 5  # the infinities at least
    # a NULL (a float8[]'s NULL element) is NULL, not an unknown code: the caller leaves the row to score_row, which
    # scores it as a missing value where the model imputes it (it was an unknown code's row: 0.05 off, test_scoring)
    z, _ = ev.score_sql(["0.5::pg_catalog.float8", "NULL::pg_catalog.float8", "NULL::pg_catalog.float8"])
    with conn.cursor() as cur:
        cur.execute(f"SELECT {z}")
        assert cur.fetchall() == [(None,)]
    assert {r[1] for r in rows[:60] if r[1] == r[1]} == {0.0, 1.0, 7.5, -3.0}  # every code scored


@pytest.mark.filterwarnings("ignore:Found unknown categories")
def test_score_sql_of_a_lookup_reads_its_input_once_and_finds_every_key(conn):
    """A lookup's input is read once a row (review r1, session 71: array_position over the keys, then a CASE that
    read it again up to four times for a value not found, each read a word's coding, and a scan of every key a row:
    20 encoders of 300 codes scored ~7x slower in SQL than by the chunks), and every key is found where keys sit
    next to each other (1.0 and the float after it, 0 and 5e-324) and at float64's ends: each row the same float as
    score_row and within 1e-12 of scikit-learn's, or left to score_row where that refuses it."""
    big = sys.float_info.max
    cats = [-big, -1.0, 0.0, 5e-324, 1.0, math.nextafter(1.0, 2.0), 2.0, big]
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.choice(cats, 400), rng.normal(size=400), rng.choice([3.0, 4.0, 5.0], 400)])
    y = (rng.random(400) < 0.4).astype(int)
    est = make_pipeline(ColumnTransformer([("a", OneHotEncoder(), [0]), ("b", OneHotEncoder(handle_unknown="ignore"),
                                                                           [2])], remainder="passthrough"),
                        LogisticRegression()).fit(X, y)
    ev = Evaluator.from_bytes(compile_estimator(est, "binary", 3).to_bytes())
    probes = cats + [-0.0, -5e-324, math.nextafter(-big, 0.0), math.nextafter(big, 0.0), math.nextafter(1.0, 0.0),
                     3.0, -np.inf, np.inf, np.nan]
    rows = [np.array([v, 0.25, 4.0]) for v in probes] + [np.array([1.0, 0.5, v]) for v in (3.0, 9.0, np.nan, -np.inf)]
    refused = 0
    for row, (score, z) in zip(rows, _in_postgres_at_once(conn, ev, rows)):
        try:
            ref = est.predict_proba(row[None, :])[0, 1]
        except ValueError:
            refused += 1
            assert not math.isfinite(z), row
            with pytest.raises(ValueError, match="feature index"):
                ev.score_row(row.tolist())
            continue
        assert math.isfinite(z) and score == ev.score_row(row.tolist()) and abs(score - ref) <= 1e-12, row
    assert refused == 9  # strict a's five unknown values, its infinities and NaN; ignoring b's -Infinity
    # each lookup's input read once a row, a value found or not: counted by a sequence each read advances
    z, _ = ev.score_sql([f"(pg_catalog.nextval('reads') * 0 + s.m[s.i][{j + 1}])" if j != 1 else f"s.m[s.i][{j + 1}]"
                         for j in range(3)])
    with conn.cursor() as cur:
        cur.execute("CREATE TEMPORARY SEQUENCE reads")
        cur.execute(f"SELECT count({z}) FROM (SELECT %s::float8[] AS m, i FROM pg_catalog.generate_series(1, %s) AS i) "
                    "AS s", ([[float(v) for v in r] for r in rows], len(rows)))
        cur.execute("SELECT pg_catalog.currval('reads')")
        assert cur.fetchall() == [(2 * len(rows),)]  # (before: 82 reads of these 21 rows)


@pytest.mark.parametrize("name", ["impute-onehot-linear", "indicator-linear", "nested-linear", "overlap-linear",
                                  "sparse-linear"])
@pytest.mark.parametrize("task", ["binary", "regression"])
def test_score_sql_of_the_one_hot_linear_families_gives_score_row(conn, name, task):
    est, X = fitted(name, task)
    ev = compile_estimator(est, task, F)
    rows = np.vstack([X[:40], [[0.5, 1, 0, 1, 9, 2], [0.5, 1, 0, 1, 1, -0.0], [0.5, 1, 0, 1, np.nan, 1]]])
    for row, (score, z) in zip(rows, _in_postgres_at_once(conn, ev, rows)):
        try:
            ref = sk(est, task, row[None, :])
        except ValueError:
            assert not math.isfinite(z)
            continue
        assert score == ev.score_row(row.tolist()), row
        assert abs(score - (ref[0] if task == "regression" else ref[0, 1])) <= 1e-9, row


@pytest.mark.parametrize("name,task", [("scaler-linear", "multiclass"), ("impute-onehot-linear", "multiclass"),
                                       ("hgb", "binary"), ("rf", "regression")])
def test_score_sql_is_none_where_it_does_not_apply(name, task):
    est, _ = fitted(name, task)
    assert getattr(compile_estimator(est, task, F), "score_sql", lambda xs: None)(["0"] * F) is None


def test_arrays_are_read_as_python_lists_without_numpy_as_numpy_reads_them():
    """A loaded evaluator's arrays as lists (the row path of a linear model and its SQL need no more)
    equal numpy's tolist(), in value and in type, for every shape and dtype to_bytes() writes, and
    reading them so makes no numpy array."""
    from pgscore.compiled import _Arrays

    samples = {"f8": np.arange(6, dtype="<f8").reshape(2, 3) / 7, "f4": np.array([0.1, -2.5, np.inf], "<f4"),
               "i8": np.array([-3, 0, 1 << 40]), "i4": np.array([[1], [2]], "<i4"), "u1": np.array([0, 255], "u1"),
               "u8": np.array([1 << 63], "<u8"), "b1": np.array([True, False, True]), "nan": np.array([np.nan, 1.0]),
               "scalar": np.array(3.5), "int-scalar": np.array(7), "rows-of-nothing": np.zeros((3, 0)),
               "no-rows": np.zeros((0, 2)), "3-d": np.arange(24.0).reshape(2, 3, 4), "empty": np.zeros(0)}
    blob, entries = b"", {}
    for name, a in samples.items():
        entries[name] = (a.dtype.str, list(a.shape), len(blob))
        blob += a.tobytes()
    arrays = _Arrays(blob, entries)

    def same(got, want):  # nested lists of the same values (NaN where NaN) and the same Python types
        if isinstance(want, list):
            return isinstance(got, list) and len(got) == len(want) and all(map(same, got, want))
        return type(got) is type(want) and (got == want or got != got and want != want)

    for name, a in samples.items():
        assert same(arrays.lists(name), a.tolist()), name
    assert arrays._np is None  # no numpy array was made
    assert np.array_equal(arrays["3-d"], samples["3-d"]) and arrays["b1"].dtype == bool
    assert same(arrays.lists("i4"), samples["i4"].tolist())  # and from the numpy copies once they exist
    big = np.arange(3, dtype=">f8")  # another byte order: read through numpy
    assert same(_Arrays(big.tobytes(), {"b": (big.dtype.str, [3], 0)}).lists("b"), big.tolist())


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("name", list(FAMILIES)[:10])  # the linear ones
def test_a_loaded_linear_model_scores_rows_and_writes_its_sql_without_numpy_arrays(name, task):
    est, X = fitted(name, task)
    compiled = compile_estimator(est, task, F)
    loaded = Evaluator.from_bytes(compiled.to_bytes())
    assert type(loaded).__name__ == "_Linear"
    rows = X[:40].tolist()
    np.testing.assert_array_equal([loaded.score_row(r) for r in rows], [compiled.score_row(r) for r in rows])
    sql = getattr(loaded, "score_sql", lambda xs: None)([f"x{j}" for j in range(F)])
    ref = getattr(compiled, "score_sql", lambda xs: None)([f"x{j}" for j in range(F)])
    assert (sql and sql[0]) == (ref and ref[0])
    if task != "regression":
        np.testing.assert_array_equal([loaded.proba_row(r) for r in rows], [compiled.proba_row(r) for r in rows])
    assert loaded.arrays._np is None  # the row path made no numpy array
    np.testing.assert_array_equal(loaded.score(X), compiled.score(X))  # the batch path makes them
    assert loaded.arrays._np is not None


def test_beyond_float32_reads_the_trees_input_past_a_row_of_unknown_category():
    """Which values a forest behind a scaler refuses as beyond float32 is asked of the scaled input, also in
    rows next to one whose category the encoder does not know (another refusal): a raw 1e39 that the scaler
    brings within range is taken, a finite 3e8 that it takes beyond it is refused."""
    rng = np.random.default_rng(4)
    X = np.column_stack([rng.integers(0, 3, 400).astype(float), rng.normal(size=400) * 1e30,
                         rng.normal(size=400) * 1e-31])
    y = (X[:, 1] > 0).astype(int)
    pre = ColumnTransformer([("cat", OneHotEncoder(), [0]), ("num", StandardScaler(), [1, 2])])
    ev = compile_estimator(make_pipeline(pre, RandomForestClassifier(n_estimators=3, random_state=0)).fit(X, y),
                           "binary", 3)
    rows = np.array([[7.0, 1.0, 0.0],     # an unknown category
                     [1.0, 1e39, 0.0],    # raw beyond float32's range, ~1 once scaled: taken
                     [1.0, 1.0, 3e8]])    # ~3e39 once scaled: refused
    far = ev.beyond_float32(rows)
    assert far.tolist() == [[False, False, False], [False, False, False], [False, False, True]]
