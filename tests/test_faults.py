"""Faults: the server killed (SIGKILL) in the middle of a COPY of events with rescoring attached.

Runs on its own throwaway cluster, since the shared test server must not be killed.
"""

import io
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import psycopg2
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from helpers import make_shop, own_cluster, query
from pgscore import bench_http, datasets, migrate
from pgscore.datasets import CHURN_FEATURES

N_CUSTOMERS = 200
BULK = 300_000  # events in the COPY the kill lands in: several seconds of work at ~30k events/s


@pytest.fixture
def crashable():
    """A cluster of its own with pgscore installed, customers, complaints wired to rescoring, churn live."""
    with own_cluster("pgscore-faults-") as c:
        url = c.url()
        migrate.upgrade(url)
        X, y, _ = datasets.churn(2000, seed=5)
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)
        conn = make_shop(url, model, X, y, N_CUSTOMERS, rescore=True)
        calls = dict(query(conn, "SELECT id, support_calls FROM customers"))
        conn.close()
        yield c, model, calls


def _server_pids(postmaster: int) -> list[int]:
    """The postmaster and every process it started."""
    return [postmaster, *bench_http._children(postmaster)]


def _wait_for(ready, what, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} within {timeout} s")
        time.sleep(0.01)


def _wait_gone(pids, timeout=30.0):
    """Until every killed process is gone: a dead postmaster not yet reaped (a zombie) still looks alive to
    pg_ctl status, which would then take the crashed cluster for a running one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(Path(f"/proc/{p}").exists() for p in pids):
            return
        time.sleep(0.1)
    raise TimeoutError(f"server processes still present {timeout} s after SIGKILL")


def test_sigkill_during_copy_leaves_events_counters_scores_and_audit_consistent(crashable):
    cluster, model, calls_before = crashable
    url = cluster.url()
    stop = threading.Event()
    outcome = {"bulk": None, "small": 0, "small_errors": 0}

    def bulk_copy():
        conn = psycopg2.connect(url)
        try:
            rows = "".join(f"{1 + i % N_CUSTOMERS}\tbulk\n" for i in range(BULK))
            with conn.cursor() as cur:
                cur.copy_expert("COPY complaints (customer_id, kind) FROM STDIN", io.StringIO(rows))
            conn.commit()
            outcome["bulk"] = "committed"
        except psycopg2.Error as e:
            outcome["bulk"] = type(e).__name__
        finally:
            try:
                conn.close()
            except psycopg2.Error:
                pass

    def small_inserts(seed):
        rng = np.random.default_rng(seed)
        try:
            conn = psycopg2.connect(url)
            conn.autocommit = True
            with conn.cursor() as cur:
                while not stop.is_set():
                    ids = rng.integers(1, N_CUSTOMERS + 1, size=int(rng.choice([1, 3]))).tolist()
                    cur.execute("INSERT INTO complaints (customer_id, kind) SELECT unnest(%s::bigint[]), 'small'",
                                (ids,))
                    outcome["small"] += 1
        except psycopg2.Error:
            outcome["small_errors"] += 1  # the kill: expected

    small = [threading.Thread(target=small_inserts, args=(s,)) for s in range(2)]
    bulk = threading.Thread(target=bulk_copy)
    threads = [bulk, *small]
    for t in small:
        t.start()
    _wait_for(lambda: outcome["small"] >= 5, "no small insert committed")
    bulk.start()
    # kill once the server has inserted a third of the COPY's rows: well inside the statement, whatever the
    # machine's speed (a fixed sleep let a fast run commit the COPY first)
    watch = psycopg2.connect(url)
    watch.autocommit = True

    def copy_progress():
        return (query(watch, "SELECT coalesce(max(tuples_processed), 0) FROM pg_stat_progress_copy")[0][0]
                >= BULK // 3)

    _wait_for(copy_progress, "the COPY never got a third of the way")
    pids = _server_pids(cluster.pid())
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    stop.set()
    _wait_gone(pids)
    watch.close()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert outcome["bulk"] != "committed", "the COPY finished before the kill: make BULK larger"
    assert outcome["small"] > 0, "no small insert committed before the kill"

    cluster.start()  # crash recovery from the WAL
    conn = psycopg2.connect(url)
    conn.autocommit = True
    # the COPY is one statement: none of it is there
    assert query(conn, "SELECT count(*) FROM complaints WHERE kind = 'bulk'") == [(0,)]
    events = dict(query(conn, "SELECT customer_id, count(*) FROM complaints GROUP BY 1"))
    assert events, "no committed events survived"
    cols = ", ".join(CHURN_FEATURES)
    prof = {r[0]: r[1:] for r in query(conn, f"SELECT id, ARRAY[{cols}]::float8[], support_calls, complaints_30d, "
                                             "churn_score FROM customers")}
    for k, n in events.items():  # every committed event counted once, no other
        assert prof[k][1] == calls_before[k] + n, k
        assert prof[k][2] == n, k
    untouched = set(prof) - set(events)
    assert all(prof[k][1] == calls_before[k] and prof[k][3] is None for k in untouched)
    # every touched profile carries the model's score on its final features
    ids = sorted(events)
    feats = np.array([prof[k][0] for k in ids], dtype=float)
    got = np.array([prof[k][3] for k in ids], dtype=float)
    assert np.max(np.abs(got - model.predict_proba(feats)[:, 1])) < 1e-9
    # the audit log: each committed event is named by exactly one trigger row, and no row names an event
    # that did not commit; each profile's final features and score were logged; the error queue is empty
    named = query(conn, "SELECT e::bigint FROM pgscore.prediction_log l, "
                        "jsonb_array_elements_text(l.cause -> 'event_ids') e WHERE l.source = 'trigger'")
    committed = [r[0] for r in query(conn, "SELECT complaint_id FROM complaints")]
    assert sorted(r[0] for r in named) == sorted(committed)
    logged = {(k, tuple(f), sc) for k, f, sc in query(
        conn, "SELECT entity_key::bigint, features, score FROM pgscore.prediction_log WHERE source = 'trigger'")}
    assert all((k, tuple(prof[k][0]), prof[k][3]) in logged for k in ids)
    assert query(conn, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
    conn.close()
