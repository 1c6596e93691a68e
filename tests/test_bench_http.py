"""The benchmark's HTTP alternative is an honest one: the model server answers what the estimator does,
and both paths leave the same counters and scores behind."""

import http.client
import io
import json
import time

import numpy as np
import psycopg2
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from helpers import query
from pgscore import bench_http, datasets, modelserver, registry
from pgscore.datasets import CHURN_FEATURES

X, Y, _ = datasets.churn(1000, seed=21)
MODEL = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y)


def _wsgi(method, path, body=b""):
    env = {"REQUEST_METHOD": method, "PATH_INFO": path, "CONTENT_LENGTH": str(len(body)),
           "wsgi.input": io.BytesIO(body)}
    status = []
    out = b"".join(modelserver.app(env, lambda s, h: status.append(s)))
    return status[0], json.loads(out)


def test_model_server_app_answers_the_estimators_score_and_refuses_bad_requests(tmp_path, monkeypatch):
    import joblib

    joblib.dump(MODEL, tmp_path / "m.joblib")
    monkeypatch.setenv("PGSCORE_MODEL_FILE", str(tmp_path / "m.joblib"))
    monkeypatch.setattr(modelserver, "_model", None)
    status, out = _wsgi("POST", "/score", json.dumps({"features": X[3].tolist()}).encode())
    assert status == "200 OK" and abs(out["score"] - MODEL.predict_proba(X[3:4])[0, 1]) < 1e-12
    assert _wsgi("GET", "/score")[0].startswith("404")
    monkeypatch.setenv("PGSCORE_MODEL_ENGINE", "compiled")
    monkeypatch.setattr(modelserver, "_model", None)
    status, out = _wsgi("POST", "/score", json.dumps({"features": X[3].tolist()}).encode())
    assert status == "200 OK" and abs(out["score"] - MODEL.predict_proba(X[3:4])[0, 1]) < 1e-9
    for bad in (b"not json", b'{"x": 1}', b'{"features": ["a"]}', b'{"features": [1, 2]}'):
        status, out = _wsgi("POST", "/score", bad)
        assert status.startswith("400") and out["error"], bad


def test_model_server_scores_an_estimator_the_compiler_refuses_with_scikit_learn(tmp_path, monkeypatch):
    """PGSCORE_MODEL_ENGINE=compiled with an estimator compile_estimator does not handle (k-nearest neighbours):
    app raised compiled.Unsupported on loading (gunicorn answers 500); it falls back to predict_proba, as deploy does."""
    import joblib

    from pgscore import compiled

    knn = KNeighborsClassifier(5).fit(X, Y)
    with pytest.raises(compiled.Unsupported):
        compiled.compile_estimator(knn, "binary", X.shape[1])
    joblib.dump(knn, tmp_path / "k.joblib")
    monkeypatch.setenv("PGSCORE_MODEL_FILE", str(tmp_path / "k.joblib"))
    monkeypatch.setenv("PGSCORE_MODEL_ENGINE", "compiled")
    monkeypatch.setattr(modelserver, "_model", None)
    status, out = _wsgi("POST", "/score", json.dumps({"features": X[3].tolist()}).encode())
    assert status == "200 OK" and out["score"] == knn.predict_proba(X[3:4])[0, 1]


def test_both_paths_do_the_same_work(db_url):
    """Each path, run alone on fresh tables by 2 clients for a second: every complaint counted once in
    support_calls and in the 30-day window, every touched profile scored as the model scores its final
    features. The model server stops with its block."""
    import os

    registry.deploy(db_url, "logit", MODEL, X, Y, feature_names=CHURN_FEATURES)
    conn = psycopg2.connect(db_url)
    conn.autocommit = True
    cur = conn.cursor()
    cols = ", ".join(CHURN_FEATURES)
    with bench_http.model_server(MODEL, workers=2, engine="compiled") as (port, master):
        deadline = time.monotonic() + 20
        while len(bench_http._children(master)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)  # gunicorn listens before every worker is up
        assert len(bench_http._children(master)) == 2, "gunicorn did not start its 2 workers"
        web = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        assert abs(bench_http._score(web, X[5].tolist()) - MODEL.predict_proba(X[5:6])[0, 1]) < 1e-9
        web.close()
        for kind, table in (("pgscore", "events_pgscore"), ("http", "events_plain")):
            sql = bench_http.prepare(cur, X, 40)
            before = dict(query(conn, "SELECT id, support_calls FROM rescore.customers"))
            _, lat = bench_http._run_clients(kind, db_url, port, sql[kind], 40, 2, 1.0)
            events = dict(query(conn, f"SELECT customer_id, count(*) FROM rescore.{table} GROUP BY 1"))  # noqa: S608
            assert len(lat) + 2 == sum(events.values()) > 2, kind  # and each client's one before the clock
            rows = query(conn, f"SELECT id, support_calls, complaints_30d, ARRAY[{cols}]::float8[], churn_score "
                               "FROM rescore.customers WHERE id = ANY(%s)", (list(events),))
            for cid, calls, c30, _, _ in rows:
                assert calls == before[cid] + events[cid] and c30 == events[cid], (kind, cid)
            feats = np.array([r[3] for r in rows], dtype=float)
            got = np.array([r[4] for r in rows], dtype=float)
            assert np.max(np.abs(got - MODEL.predict_proba(feats)[:, 1])) < 1e-9, kind
            bench_http.cleanup(cur)
    with pytest.raises(ProcessLookupError):
        os.kill(master, 0)
    conn.close()


def test_latency_of_a_stalled_run_does_not_fail_the_benchmark():
    import math

    from pgscore.bench_http import latency

    p50, p99 = latency([float(v) for v in range(1, 101)])
    assert p50 == 50.5 and 99.0 <= p99 <= 100.0
    assert latency([1200.0]) == (1200.0, 1200.0)
    assert all(math.isnan(v) for v in latency([]))


def test_clients_that_cannot_connect_fail_the_run_at_once(db_url):
    """A client that cannot reach the model server fails the run before its clock starts, and the other
    clients stop waiting for it instead of sitting out the barrier's two minutes."""
    from pgscore.localdb import free_port

    t = time.monotonic()
    with pytest.raises(ConnectionRefusedError):
        bench_http._run_clients("http", db_url, free_port(), {}, 40, 3, 1.0)
    assert time.monotonic() - t < 60


def test_memory_is_a_row_of_the_summary_with_the_backend_against_a_worker():
    """Issue 8: the table reports a scoring backend's memory against a model-server worker's."""
    from pgscore.bench import Report

    lines = []
    rep = Report(lines.append)
    bench_http._memory_row(rep, f"{bench_http.MEMORY_WORKER} (sklearn)", (120 * 1024, 80 * 1024), "1 of 4")
    bench_http._memory_row(rep, bench_http.MEMORY_BACKEND, (88 * 1024, 60 * 1024),
                           ref=f"{bench_http.MEMORY_WORKER} (sklearn)")
    bench_http._memory_row(rep, f"{bench_http.MEMORY_WORKER} (compiled)", (None, None))  # /proc unreadable: no row
    bench_http._memory_row(rep, "memory: elsewhere, PSS", (100 * 1024, None),  # no PSS: RSS, said so, and
                           ref=f"{bench_http.MEMORY_WORKER} (sklearn)")      # compared with no PSS row
    assert [r[:3] for r in rep.rows] == [[f"{bench_http.MEMORY_WORKER} (sklearn)", 80.0, "MiB"],
                                         [bench_http.MEMORY_BACKEND, 60.0, "MiB"], ["memory: elsewhere, RSS", 100.0, "MiB"]]
    assert rep.rows[2][4] is None
    rep.summary()
    backend = next(ln for ln in lines if ln.lstrip().startswith(bench_http.MEMORY_BACKEND) and "0.75x" in ln)
    assert "MiB" in backend


class _Terminal(io.StringIO):
    """stderr as a terminal: what tqdm draws on it is kept."""

    def isatty(self):
        return True


def test_the_http_runs_draw_a_bar_on_a_terminal_and_print_the_same_numbers(db_url, monkeypatch):
    """The timed runs of the HTTP section (a minute in a full run) drew nothing while they ran, their lines printed
    once all had run: a bar runs over them on a terminal now (scoring.steps), nothing elsewhere, and the numbers
    printed are the same. The clients are a stand-in here (fixed numbers); the model servers and tables are real."""
    import sys

    from pgscore.bench import Report

    registry.deploy(db_url, "logit", MODEL, X, Y, feature_names=CHURN_FEATURES)
    monkeypatch.setattr(bench_http, "_run_clients",
                        lambda kind, dsn, port, sql, n, clients, seconds: (50.0 * clients, [1.0, 3.0]))
    printed, drawn = {}, {}
    for where, stderr in (("pipe", io.StringIO()), ("terminal", _Terminal())):
        monkeypatch.setattr(sys, "stderr", stderr)
        lines = []
        bench_http.run(db_url, Report(lines.append), X, MODEL, quick=True, say=lambda *a: None)
        printed[where], drawn[where] = [line for line in lines if " tx/s " in line], stderr.getvalue()
    assert printed["pipe"] == printed["terminal"] and len(printed["pipe"]) == 6, printed  # (memory rows aside)
    assert drawn["pipe"] == "", drawn["pipe"]
    for clients in (1, 8):
        assert f"pgscore and HTTP, {clients} client(s)" in drawn["terminal"], drawn["terminal"]
    assert "0/3 " in drawn["terminal"], drawn["terminal"]
