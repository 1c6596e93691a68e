"""Load: 8 clients for 60 seconds inserting events for overlapping customers with rescoring attached,
and a new model version deployed halfway through. Bounded in time (60 s of load, or 30 s past the deploy's
end where the deploy took longer than 30 s, joined within 30 s more) and aimed at the test server on
loopback. Prints its figures."""

import threading
import time

import numpy as np
import psycopg2
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from helpers import make_shop, query
from pgscore import datasets, registry
from pgscore.datasets import CHURN_FEATURES

CLIENTS = 8
SECONDS = 60
N_CUSTOMERS = 100  # few enough that clients collide on the same profiles all the time


def test_eight_clients_for_sixty_seconds_with_a_deploy_halfway(db_url, capsys):
    X, y, _ = datasets.churn(3000, seed=9)
    v1 = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)
    v2 = HistGradientBoostingClassifier(max_iter=40, random_state=0).fit(X, y)
    conn = make_shop(db_url, v1, X, y, N_CUSTOMERS, rescore=True)
    before = dict(query(conn, "SELECT id, support_calls FROM customers"))

    stats = {"statements": 0, "events": 0, "errors": []}
    lock = threading.Lock()
    start = time.monotonic()
    # the clients run until the deploy has returned and 30 s more (at least SECONDS in all): set when it returns.
    # (Until session 68 they stopped at SECONDS whatever the deploy did: at load 8-15 a deploy that ended past
    # 60 s found them gone, no event followed it and every profile kept v1's score, 1.0 on its grown counters.)
    deadline = [float("inf")]
    latencies = [[] for _ in range(CLIENTS)]

    def client(i):
        rng = np.random.default_rng(100 + i)
        n_st = n_ev = 0
        try:
            c = psycopg2.connect(db_url)
            c.autocommit = True
            with c.cursor() as cur:
                while time.monotonic() < deadline[0]:
                    ids = rng.integers(1, N_CUSTOMERS + 1, size=int(rng.choice([1, 1, 1, 4]))).tolist()
                    t = time.perf_counter()
                    if len(ids) == 1:
                        cur.execute("INSERT INTO complaints (customer_id) VALUES (%s)", (ids[0],))
                    else:
                        cur.execute("INSERT INTO complaints (customer_id) SELECT unnest(%s::bigint[])", (ids,))
                    latencies[i].append(time.perf_counter() - t)
                    n_st += 1
                    n_ev += len(ids)
            c.close()
        except Exception as e:  # noqa: BLE001 - every error is a failure, reported below
            with lock:
                stats["errors"].append(repr(e))
        with lock:
            stats["statements"] += n_st
            stats["events"] += n_ev

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    time.sleep(SECONDS / 2)
    deployed_at = time.monotonic() - start
    try:
        v2_id = registry.deploy(db_url, "churn", v2, X, y, feature_names=CHURN_FEATURES)["model_id"]
        live_at = time.monotonic() - start
        # every profile must see events after v2 went live for the scores below to be v2's: 30 s of load follow
        # the deploy however long it took
        deadline[0] = start + max(SECONDS, live_at + SECONDS / 2)
    finally:
        if deadline[0] == float("inf"):  # the deploy failed: stop the clients
            deadline[0] = time.monotonic()
    for t in threads:
        t.join(deadline[0] - time.monotonic() + 30)
    elapsed = time.monotonic() - start
    assert not any(t.is_alive() for t in threads), "a client did not finish within 30 s of the deadline"
    assert not stats["errors"], stats["errors"][:3]

    # every counter equals its events
    events = dict(query(conn, "SELECT customer_id, count(*) FROM complaints GROUP BY 1"))
    assert sum(events.values()) == stats["events"]
    cols = ", ".join(CHURN_FEATURES)
    prof = {r[0]: r[1:] for r in query(conn, f"SELECT id, ARRAY[{cols}]::float8[], support_calls, complaints_30d, "
                                             "churn_score FROM customers")}
    for k, n in events.items():
        assert prof[k][1] == before[k] + n and prof[k][2] == n, k
    # every profile's score is the live version's (v2's) score on its final features
    ids = sorted(events)
    feats = np.array([prof[k][0] for k in ids], dtype=float)
    got = np.array([prof[k][3] for k in ids], dtype=float)
    assert np.max(np.abs(got - v2.predict_proba(feats)[:, 1])) < 1e-9
    # the audit: each event named by exactly one trigger row, and each row's score is what the version it
    # names computes on the features it logged
    (named,), = query(conn, "SELECT count(*) FROM pgscore.prediction_log l, "
                            "jsonb_array_elements(l.cause -> 'event_ids') e WHERE l.source = 'trigger'")
    assert named == stats["events"]
    assert query(conn, "SELECT count(*) FROM (SELECT e FROM pgscore.prediction_log l, "
                       "jsonb_array_elements(l.cause -> 'event_ids') e GROUP BY e HAVING count(*) > 1) d") == [(0,)]
    versions = dict(query(conn, "SELECT model_id, version FROM pgscore.models WHERE name = 'churn'"))
    by_version = {}
    for mid, f, sc in query(conn, "SELECT model_id, features, score FROM pgscore.prediction_log "
                                  "WHERE source = 'trigger'"):
        by_version.setdefault(mid, ([], []))
        by_version[mid][0].append(f)
        by_version[mid][1].append(sc)
    assert set(by_version) == set(versions), "both versions scored during the run"
    for mid, (f, sc) in by_version.items():
        est = v2 if mid == v2_id else v1
        assert np.max(np.abs(np.array(sc) - est.predict_proba(np.array(f, dtype=float))[:, 1])) < 1e-9, versions[mid]
    assert query(conn, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
    conn.close()

    lat = np.concatenate([np.array(v) for v in latencies]) * 1000
    with capsys.disabled():
        print(f"\nload: {CLIENTS} clients, {elapsed:.1f} s, {stats['statements']:,} statements "
              f"({stats['statements'] / elapsed:,.0f}/s), {stats['events']:,} events ({stats['events'] / elapsed:,.0f}/s) "
              f"over {N_CUSTOMERS} customers; latency p50 {np.percentile(lat, 50):.2f} ms, "
              f"p99 {np.percentile(lat, 99):.2f} ms; v2 deployed at {deployed_at:.0f} s, live at {live_at:.0f} s; "
              f"log rows by version: {', '.join(f'v{versions[m]} {len(v[1]):,}' for m, v in sorted(by_version.items()))}; "
              "errors 0")
