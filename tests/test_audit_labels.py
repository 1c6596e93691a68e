"""The audit log's label column: a multiclass model's rows carry its predicted class (as pgscore.predict
logs it) whatever path scored them: score, predict_proba, predict_batch, score_table and the CLI, the
rescoring trigger and retry_failed. Binary and regression rows are logged as before."""

from collections import defaultdict

import numpy as np
import psycopg2
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from helpers import pgscore_cli, query
from pgscore import datasets, sample

X, Y, NAMES = datasets.churn(600, seed=11)
BAND = np.digitize(X[:, 1], [55, 85])  # three classes from monthly charges
Y_TEXT = np.array(["low", "mid", "high"])[BAND]  # the same, as strings
YR = X[:, 1] * 12 + X[:, 5]

MODELS = {
    # name: (factory, y, compile): the compiled evaluators (linear with three outputs, boosting) and
    # scikit-learn itself
    "logit": (lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)), BAND, True),
    "hgb_text": (lambda: HistGradientBoostingClassifier(max_iter=20, random_state=0), Y_TEXT, True),
    "forest_sklearn": (lambda: RandomForestClassifier(n_estimators=15, max_depth=6, random_state=0), BAND, False),
    "binary": (lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)), Y, True),
    "binary_hgb": (lambda: HistGradientBoostingClassifier(max_iter=20, random_state=0), Y, True),
    "regression": (lambda: make_pipeline(StandardScaler(), Ridge()), YR, True),
}
MULTICLASS = ["logit", "hgb_text", "forest_sklearn"]
_fitted = {}


def fitted(name):
    if name not in _fitted:
        factory, y, _ = MODELS[name]
        _fitted[name] = factory().fit(X, y)
    return _fitted[name]


def deploy(url, name, as_name="m"):
    from pgscore import registry

    _, y, compile = MODELS[name]
    rec = registry.deploy(url, as_name, fitted(name), X, y, feature_names=NAMES, compile=compile)
    assert rec["engine"] == ("numpy" if compile else "scikit-learn"), rec.get("engine_note")
    return rec


def load_rows(conn, x):
    query(conn, "CREATE TABLE rows (id int PRIMARY KEY, f float8[], " + ", ".join(f"{n} float8" for n in NAMES)
          + ", s float8)")
    with conn.cursor() as cur:
        for i, r in enumerate(x.tolist()):
            cur.execute(f"INSERT INTO rows VALUES (%s, %s::float8[], {', '.join(['%s'] * len(NAMES))}, NULL)",
                        (i, r, *r))
    # for the CLI: a table keyed by text, with one float8[] column named features
    query(conn, "CREATE TABLE rows_cli AS SELECT 'cli:' || id AS k, f AS features, NULL::float8 AS s FROM rows; "
                "ALTER TABLE rows_cli ADD PRIMARY KEY (k)")


def score_every_way(conn, task):
    """Score table rows through every path, each path's audit rows under keys of its own
    ('<path>:<id>'; score_table's keys are the ids)."""
    query(conn, "SELECT pgscore.score('m', f, p_key => 'score:' || id) FROM rows")
    query(conn, "SELECT pgscore.score('m', to_jsonb(r) - 'f', p_key => 'json:' || id) FROM rows r")
    query(conn, "SELECT pgscore.predict('m', f, p_key => 'predict:' || id) FROM rows")
    if task != "regression":
        query(conn, "SELECT pgscore.predict_proba('m', f, p_key => 'proba:' || id) FROM rows")
    query(conn, "SELECT count(*) FROM pgscore.predict_batch('m', 'SELECT ''batch:'' || id, f AS features "
                "FROM rows', p_chunk_size => 50)")
    query(conn, "CALL pgscore.score_table('m', 'rows', 'id', 's', 50)")
    r = pgscore_cli("score", "--model", "m", "--table", "rows_cli", "--key", "k", "--into", "s",
                    "--chunk-size", "50", "--quiet", "--db", conn.dsn)
    assert r.returncode == 0, r.stderr
    by_path = defaultdict(dict)  # path -> {row: (score, label)}
    for key, score, label in query(conn, "SELECT entity_key, score, label FROM pgscore.prediction_log"):
        path, _, i = key.rpartition(":")
        assert int(i) not in by_path[path or "score_table"], key  # each row logged once per path
        by_path[path or "score_table"][int(i)] = (score, label)
    return by_path


PATHS = {"score", "json", "predict", "proba", "batch", "score_table", "cli"}


@pytest.mark.parametrize("name", MULTICLASS)
def test_every_path_logs_a_multiclass_models_predicted_class(conn, name):
    est = fitted(name)
    assert deploy(conn.dsn, name)["task"] == "multiclass"
    x = X[:120]
    load_rows(conn, x)
    want = [str(v) for v in est.predict(x)]
    top = est.predict_proba(x).max(axis=1)
    assert len(set(want)) == 3  # every class is predicted somewhere
    by_path = score_every_way(conn, "multiclass")
    assert set(by_path) == PATHS
    assert all(sorted(got) == list(range(len(x))) for got in by_path.values())
    # every path's labels are the estimator's predictions
    assert sorted(path for path, got in by_path.items() if [got[i][1] for i in range(len(x))] != want) == []
    for path, got in by_path.items():  # and the score logged is still the top class's probability
        assert np.abs(np.array([got[i][0] for i in range(len(x))]) - top).max() <= 1e-9, path
    # the scores written back too
    for table, order in (("rows", "id"), ("rows_cli", "substr(k, 5)::int")):
        written = [s for (s,) in query(conn, f"SELECT s FROM {table} ORDER BY {order}")]
        assert np.abs(np.array(written) - top).max() <= 1e-9, table


def test_a_multiclass_model_scored_only_in_batch_gets_its_accuracy(conn):
    est = fitted("hgb_text")
    deploy(conn.dsn, "hgb_text")
    x = X[:120]
    load_rows(conn, x)
    query(conn, "CALL pgscore.score_table('m', 'rows', 'id', 's', 50)")
    for i in range(len(x)):
        query(conn, "SELECT pgscore.record_outcome('m', %s, %s)", (str(i), str(Y_TEXT[i])))
    (n, accuracy, precision, recall), = query(conn, "SELECT n, accuracy, precision, recall FROM "
                                                    "pgscore.realised_performance WHERE window_name = 'since deploy'")
    assert n == len(x)
    assert accuracy == pytest.approx(float(np.mean(est.predict(x) == Y_TEXT[:len(x)])), abs=1e-12)
    # no positive class: NULL, as auc and brier (they read 0, which a dashboard shows as a broken model)
    assert (precision, recall) == (None, None)
    assert query(conn, "SELECT DISTINCT precision, recall FROM pgscore.performance_by_day") == [(None, None)]


def test_true_and_false_are_no_outcome_of_a_multiclass_model(conn):
    """Classes 0, 1 and 2: true was read as the class 1, and replaced a recorded 2 in the metrics."""
    deploy(conn.dsn, "logit")
    (label,), = query(conn, "SELECT pgscore.predict('m', %s::float8[], p_key => 'k')", (X[0].tolist(),))
    query(conn, "SELECT pgscore.record_outcome('m', 'k', 2)")
    for value in ("true", "false"):
        with pytest.raises(psycopg2.errors.InvalidParameterValue) as e:
            query(conn, f"SELECT pgscore.record_outcome('m', 'k', {value})")
        # (in the wording of every outcome that is no class since migration outcome_words: "for multiclass model 'm'
        # is not one of its classes" before)
        assert e.value.diag.message_primary == (
            f"pgscore.record_outcome: outcome '{value}' is not a class of multiclass model 'm'")
        assert e.value.diag.message_detail == "classes: 0, 1, 2"
        assert "binary classifier only" in e.value.diag.message_hint
    assert query(conn, "SELECT outcome FROM pgscore.outcome_matches") == [(2,)]
    (accuracy,), = query(conn, "SELECT accuracy FROM pgscore.realised_performance WHERE window_name = 'since deploy'")
    assert accuracy == float(label == "2")


@pytest.mark.parametrize("name", ["binary", "binary_hgb", "regression"])
def test_binary_and_regression_rows_are_logged_as_before(conn, name):
    """Only predict logs a label (the class, or the value as text); every other path logs NULL."""
    est = fitted(name)
    task = deploy(conn.dsn, name)["task"]
    x = X[:60]
    load_rows(conn, x)
    by_path = score_every_way(conn, task)
    assert set(by_path) == PATHS - ({"proba"} if task == "regression" else set())
    if task == "binary":
        want_scores, want_labels = est.predict_proba(x)[:, 1], [str(v) for v in est.predict(x)]
    else:
        want_scores, want_labels = est.predict(x), None
    for path, got in by_path.items():
        assert sorted(got) == list(range(len(x))), path
        labels = [got[i][1] for i in range(len(x))]
        if path == "predict" and task == "regression":  # the value as text
            assert np.abs(np.array(labels, dtype=float) - want_scores).max() <= 1e-9
        elif path == "predict":
            assert labels == want_labels
        else:
            assert labels == [None] * len(x), path
        assert np.abs(np.array([got[i][0] for i in range(len(x))]) - want_scores).max() <= 1e-9, path


# -- rescoring ------------------------------------------------------------------------------------------

N_CUSTOMERS = 60


@pytest.mark.parametrize("name", ["logit", "forest_sklearn", "binary", "binary_hgb"])
def test_rescoring_logs_a_multiclass_models_predicted_class(db_url, name):
    """The trigger (a single-row INSERT, several rows, and where the model refuses a NULL, a statement
    whose other rows are then scored one by one) and retry_failed log the class of each profile's final
    features; binary models log no label, as before (the linear one scored by the write statement
    itself, the other in Python)."""
    est = fitted(name)
    multiclass = name in MULTICLASS
    refuses_nan = name in ("logit", "binary")  # no imputer; trees take a NULL
    deploy(db_url, name, as_name="churn")
    conn = psycopg2.connect(db_url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            sample.create_tables(cur)
            sample.load_customers(cur, X[:N_CUSTOMERS])
            sample.rescore_complaints(cur)
        query(conn, "INSERT INTO complaints (customer_id) VALUES (7)")
        query(conn, "INSERT INTO complaints (customer_id) VALUES (1), (2), (2), (3), (40)")
        query(conn, "UPDATE customers SET age = NULL WHERE id = 20")
        query(conn, "INSERT INTO complaints (customer_id) VALUES (20), (21)")
        if refuses_nan:  # 20 is queued, 21 scored alone; then 20 by retry_failed
            assert query(conn, "SELECT entity_key FROM pgscore.error_queue") == [("20",)]
            query(conn, "UPDATE customers SET age = 40 WHERE id = 20")
            assert query(conn, "SELECT rescored, failed FROM pgscore.retry_failed()") == [(1, 0)]
        rows = query(conn, "SELECT entity_key, source, features, score, label FROM pgscore.prediction_log "
                           "ORDER BY logged_at, entity_key")
        assert sorted(int(r[0]) for r in rows) == [1, 2, 3, 7, 20, 21, 40]
        assert {r[1] for r in rows} == ({"trigger", "retry"} if refuses_nan else {"trigger"})
        feats = np.array([r[2] for r in rows], dtype=float)
        assert not np.isnan(feats).any() or not refuses_nan
        proba = est.predict_proba(feats)
        scores = np.array([r[3] for r in rows])
        if multiclass:
            assert [r[4] for r in rows] == [str(v) for v in est.predict(feats)]
            assert np.abs(scores - proba.max(axis=1)).max() <= 1e-9
        else:
            assert [r[4] for r in rows] == [None] * len(rows)
            assert np.abs(scores - proba[:, 1]).max() <= 1e-9
        # and the profiles hold those scores
        stored = dict(query(conn, "SELECT id::text, churn_score FROM customers WHERE churn_score IS NOT NULL"))
        assert {r[0]: r[3] for r in rows} == stored
    finally:
        conn.close()


def test_labels_are_the_estimators_own_predict_where_it_is_not_the_most_probable_class(conn):
    """pgscore.predict (and the label a multiclass model's rows are logged with) was argmax(predict_proba),
    not the estimator's predict: for a tuned decision threshold (FixedThresholdClassifier) or
    SVC(probability=True), whose predict follows its decision function, they differ. Every path now gives
    predict's class; the score stays the probability. Neither model compiles, and were one compiled from
    the classifier inside, verify refuses it (its class differs from predict's)."""
    import warnings

    from sklearn.model_selection import FixedThresholdClassifier
    from sklearn.svm import SVC

    from pgscore import compiled, registry

    x = X[:240]
    load_rows(conn, x)
    tuned = FixedThresholdClassifier(make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
                                     threshold=0.3).fit(X, Y)
    rec = registry.deploy(conn.dsn, "tuned", tuned, X, Y, feature_names=NAMES)
    assert rec["engine"] == "scikit-learn", rec["engine_note"]
    with pytest.raises(compiled.Mismatch, match="predicted class differs"):
        compiled.verify(compiled.compile_estimator(tuned.estimator_, "binary", len(NAMES)), tuned, "binary", x)
    want, proba = tuned.predict(x), tuned.predict_proba(x)
    assert (want != tuned.classes_[proba.argmax(axis=1)]).sum() > 10  # what the test is about
    got = query(conn, "SELECT pgscore.predict('tuned', f, p_key => id::text), pgscore.score('tuned', f) FROM rows "
                      "ORDER BY id")
    assert [g[0] for g in got] == [str(v) for v in want]
    assert np.abs(np.array([g[1] for g in got]) - proba[:, 1]).max() <= 1e-9
    assert query(conn, "SELECT label FROM pgscore.prediction_log WHERE entity_key IS NOT NULL "
                       "ORDER BY entity_key::int") == [(str(v),) for v in want]
    query(conn, "TRUNCATE pgscore.prediction_log")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # probability=True: deprecated in scikit-learn 1.9
        svc = make_pipeline(StandardScaler(), SVC(probability=True, random_state=0)).fit(X, BAND)
        rec = registry.deploy(conn.dsn, "m", svc, X, BAND, feature_names=NAMES)  # (its hold-out refit)
    assert rec["engine"] == "scikit-learn" and rec["task"] == "multiclass"
    want, top = [str(v) for v in svc.predict(x)], svc.predict_proba(x).max(axis=1)
    assert sum(w != str(c) for w, c in zip(want, svc.classes_[svc.predict_proba(x).argmax(axis=1)])) >= 5
    by_path = score_every_way(conn, "multiclass")
    assert set(by_path) == PATHS
    assert sorted(path for path, got in by_path.items() if [got[i][1] for i in range(len(x))] != want) == []
    for path, got in by_path.items():  # the score logged is still the top class's probability
        assert np.abs(np.array([got[i][0] for i in range(len(x))]) - top).max() <= 1e-9, path


# -- one evaluation where predict is the most probable class ------------------------------------------------

class _MyForest(RandomForestClassifier):
    """A user's subclass: its predict may be anything, so it is asked."""


def _argmax_models():
    """(name, fitted classifier, whether its predict is by construction argmax(predict_proba))."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import BaggingClassifier, GradientBoostingClassifier, VotingClassifier
    from sklearn.linear_model import SGDClassifier
    from sklearn.model_selection import FixedThresholdClassifier, GridSearchCV, TunedThresholdClassifierCV
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.naive_bayes import GaussianNB
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.svm import SVC, NuSVC
    from sklearn.tree import DecisionTreeClassifier

    def scaled(est):
        return make_pipeline(StandardScaler(), est)

    models = [
        ("logit", scaled(LogisticRegression(max_iter=1000)), Y, True),
        ("logit_multi", scaled(LogisticRegression(max_iter=1000)), BAND, True),
        ("forest", RandomForestClassifier(n_estimators=10, max_depth=5, random_state=0), BAND, True),
        ("tree", DecisionTreeClassifier(max_depth=4, random_state=0), Y, True),
        ("hgb", HistGradientBoostingClassifier(max_iter=10), Y, True),
        ("gb_multi", GradientBoostingClassifier(n_estimators=10, random_state=0), BAND, True),
        ("knn", scaled(KNeighborsClassifier()), BAND, True),
        ("knn_distance", scaled(KNeighborsClassifier(weights="distance")), Y, False),  # 1-ulp sums on exact ties
        ("nb", GaussianNB(), BAND, True),
        ("mlp", scaled(MLPClassifier((8,), max_iter=300, random_state=0)), Y, True),
        ("calibrated_svc", scaled(CalibratedClassifierCV(SVC(), cv=3)), BAND, True),
        ("soft_vote", VotingClassifier([("lr", scaled(LogisticRegression(max_iter=1000))), ("nb", GaussianNB())],
                                       voting="soft"), BAND, True),
        ("bagging", BaggingClassifier(DecisionTreeClassifier(max_depth=3), n_estimators=5, random_state=0), Y, True),
        ("sgd_log", scaled(SGDClassifier(loss="log_loss", random_state=0)), Y, True),
        ("grid", GridSearchCV(scaled(LogisticRegression(max_iter=1000)), {"logisticregression__C": [0.1, 1]},
                              cv=3), Y, True),
        # predict is not (always) the most probable class
        ("fixed_threshold", FixedThresholdClassifier(scaled(LogisticRegression(max_iter=1000)), threshold=0.3),
         Y, False),
        ("tuned_threshold", TunedThresholdClassifierCV(scaled(LogisticRegression(max_iter=1000)), cv=3), Y, False),
        ("svc", scaled(SVC(probability=True, random_state=0)), BAND, False),
        ("nusvc", scaled(NuSVC(nu=0.3, probability=True, random_state=0)), Y, False),
        ("gb_binary", GradientBoostingClassifier(n_estimators=10, random_state=0), Y, False),  # raw >= 0
        ("sgd_huber", scaled(SGDClassifier(loss="modified_huber", random_state=0)), BAND, False),
        ("sgd_log_multi", scaled(SGDClassifier(loss="log_loss", random_state=0)), BAND, False),  # expits saturate
        ("ovr", OneVsRestClassifier(scaled(LogisticRegression(max_iter=1000))), BAND, False),  # last on ties
        ("knn_callable", KNeighborsClassifier(weights=lambda d: d), Y, False),
        ("subclass", _MyForest(n_estimators=10, max_depth=5, random_state=0), BAND, False),
    ]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # probability=True deprecated, an MLP's convergence
        return [(name, est.fit(X, y), on) for name, est, y, on in models]


def test_predict_is_argmax_only_for_final_estimators_whose_predict_is_by_construction():
    """The decision made once a model loads: the label is read from the probabilities (one scikit-learn
    call) only where predict is the argmax of predict_proba in scikit-learn's code; everything else, a
    user's subclass of a listed class too, is asked its predict."""
    from pgscore.serving import SklearnEvaluator, predict_is_argmax

    models = _argmax_models()
    assert {name: predict_is_argmax(est) for name, est, _ in models} == {name: on for name, _, on in models}
    for name, est, on in models:
        if on:  # what the list promises, on these rows
            assert (est.predict(X) == est.classes_[est.predict_proba(X).argmax(axis=1)]).all(), name
        task = "binary" if len(est.classes_) == 2 else "multiclass"
        assert SklearnEvaluator(est, task, name).predict_is_argmax is on
    regressor = make_pipeline(StandardScaler(), Ridge()).fit(X, YR)
    assert not SklearnEvaluator(regressor, "regression", "r").predict_is_argmax


def _counted(est, task):
    """A Loaded model scored by scikit-learn, and the list of the estimator's methods it calls."""
    from pgscore.serving import Loaded, SklearnEvaluator

    ev = SklearnEvaluator(est, task, "m v1")
    calls, call = [], ev._call
    ev._call = lambda fn, X_: calls.append(fn.__name__) or call(fn, X_)
    return Loaded(1, "m", 1, task, NAMES, est.classes_.tolist(), ev, "scikit-learn"), calls


@pytest.mark.parametrize("name, evaluations", [("forest_sklearn", 1), ("binary", 1), ("tuned", 2)])
def test_a_label_costs_one_evaluation_where_predict_is_the_most_probable_class(name, evaluations):
    """Every path that gives a label (predict_row: predict, and score of a multiclass model; label_row:
    predict_proba's log; scores_and_labels: batches and rescoring; predict: predict_batch) called
    predict_proba and then predict for any model scikit-learn scores, twice the time a row for a forest;
    now once, where predict is by construction the most probable class. Labels stay predict's."""
    from sklearn.model_selection import FixedThresholdClassifier

    if name == "tuned":
        est = FixedThresholdClassifier(make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
                                       threshold=0.3).fit(X, Y)
    else:
        est = fitted(name)
    task = "binary" if len(est.classes_) == 2 else "multiclass"
    m, calls = _counted(est, task)
    x = X[:40]
    want = [str(v) for v in est.predict(x)]
    assert (est.predict(x) != est.classes_[est.predict_proba(x).argmax(axis=1)]).any() == (name == "tuned")
    got = []
    for row in x.tolist():
        calls.clear()
        got.append(m.predict_row(row)[0])
        assert len(calls) == evaluations, calls
        calls.clear()
        p = m.proba_row(row)  # pgscore.predict_proba's log, as pl.predict_proba takes it
        assert m.label_row(row, p) == got[-1] and len(calls) == evaluations, calls
    assert got == want
    calls.clear()
    _, labels = m.scores_and_labels(x)
    if task == "multiclass":
        assert labels == want and len(calls) == evaluations, calls
    calls.clear()
    assert [str(v) for v in m.predict(x)] == want and len(calls) == 1


def test_a_multiclass_models_deploy_accuracy_judges_its_predict(conn):
    """The realised multiclass accuracy judges the logged label, predict's class; the deploy accuracy it is
    compared with (accuracy_drop) judged the most probable class, which for SVC(probability=True) is not
    always predict's. Both judge predict's now."""
    import warnings

    from sklearn import metrics as skm
    from sklearn.base import clone
    from sklearn.model_selection import train_test_split
    from sklearn.svm import SVC

    from pgscore import registry

    svc = make_pipeline(StandardScaler(), SVC(probability=True, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # probability=True: deprecated in scikit-learn 1.9
        rec = registry.deploy(conn.dsn, "m", clone(svc).fit(X, BAND), X, BAND, feature_names=NAMES)
        X_tr, X_te, y_tr, y_te = train_test_split(X, BAND, test_size=0.2, random_state=0, stratify=BAND)
        held = clone(svc).fit(X_tr, y_tr)  # the hold-out's refit clone
    assert rec["engine"] == "scikit-learn" and rec["task"] == "multiclass"
    by_predict = skm.accuracy_score(y_te, held.predict(X_te))
    assert by_predict != skm.accuracy_score(y_te, held.classes_[held.predict_proba(X_te).argmax(axis=1)])
    (deploy_accuracy,), = query(conn, "SELECT (metrics ->> 'accuracy')::float8 FROM pgscore.models")
    assert deploy_accuracy == pytest.approx(by_predict, abs=1e-12)


def test_a_distance_weighted_knn_is_asked_its_predict_where_its_neighbours_tie():
    """KNeighborsClassifier(16, weights='distance') on integer features: equal weights for both classes, which
    predict sums pairwise (np.sum) and predict_proba one neighbour at a time: 1 ulp apart, the other way."""
    from pgscore.serving import Loaded, SklearnEvaluator
    from sklearn.neighbors import KNeighborsClassifier

    rng = np.random.default_rng(0)
    Xtr = rng.integers(0, 4, size=(400, 3)).astype(float)
    Xte = rng.integers(0, 4, size=(2000, 3)).astype(float) + rng.integers(0, 2, size=(2000, 3)) * 0.5
    est = KNeighborsClassifier(16, weights="distance").fit(Xtr, rng.integers(0, 2, size=400))
    assert (est.predict(Xte) != est.classes_[est.predict_proba(Xte).argmax(axis=1)]).any()  # the ties
    m = Loaded(1, "knn", 1, "binary", ["a", "b", "c"], est.classes_.tolist(), SklearnEvaluator(est, "binary", "k"),
               "scikit-learn")
    assert [m.predict_row(r)[0] for r in Xte.tolist()] == [str(v) for v in est.predict(Xte)]
