"""Rescoring of the rows logical replication applies: a subscription's apply rate into the sample event table,
wired (attach_rescoring, whose p_replicated row trigger rescores them) and not wired, taking turns.

One cluster (wal_level = logical, set and restarted if need be; started if need be, and stopped at the end
unless --keep-running), publisher and subscriber two databases of it,
over its Unix socket: `pgscore_bench_pub` and `pgscore_bench_sub`, made anew and dropped at the end. The
subscriber holds --customers customers (the churn logistic pipeline, the sample wiring's three counters, one a
30-day window). Each turn creates a logical slot, publishes --events events for random customers in
transactions of --per-tx (the apply worker not running yet), then creates the subscription on that slot
(copy_data = false) and times from its creation until the last event is in the subscriber's table: the apply
worker's rate alone, the events already in the WAL. (A turn waits out wal_retrieve_retry_interval since the
previous turn's worker exited before it creates the subscription: the launcher starts no worker sooner.) At most 100,000 events a turn and --timeout seconds of
waiting; the turns alternate wired and unwired.

    .venv/bin/python scripts/bench_replication.py [--events 20000] [--per-tx 100] [--rounds 1] \
        [--data-dir DIR --port PORT]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import psycopg2
from psycopg2 import sql

from pgscore import migrate, registry, sample
from pgscore.datasets import CHURN_FEATURES, churn
from pgscore.localdb import Cluster

PUB, SUB = "pgscore_bench_pub", "pgscore_bench_sub"
EVENTS = ("(complaint_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer_id bigint, "
          "kind text NOT NULL DEFAULT 'billing', created_at timestamptz NOT NULL DEFAULT now())")


def connect(url):
    c = psycopg2.connect(url)
    c.autocommit = True
    return c


def run(cur, statement, params=None):
    if isinstance(cur, psycopg2.extensions.connection):
        cur = cur.cursor()
    cur.execute(statement, params)
    return cur.fetchall() if cur.description else None


def turn(cluster, pub, sub, wired, args, rng) -> float:
    """One turn: events/s applied."""
    run(pub, "TRUNCATE complaints")
    run(sub, "TRUNCATE complaints")
    if wired:
        run(sub, "SELECT pgscore.detach_rescoring('complaints') FROM pgscore.rescoring LIMIT 1")
        run(sub, "UPDATE customers SET support_calls = 0, complaints_30d = 0, last_complaint_at = NULL")
        run(sub, "SELECT pgscore.attach_rescoring('complaints', 'customers', 'customer_id', 'churn', 'churn_score', "
                 "%s::jsonb, p_profile_key => 'id', p_replicated => true)", (json.dumps(sample.COUNTERS),))
        assert run(sub, "SELECT replication_trigger IS NOT NULL FROM pgscore.rescoring") == [(True,)]
    else:
        run(sub, "SELECT pgscore.detach_rescoring('complaints') FROM pgscore.rescoring LIMIT 1")
    run(pub, "SELECT pg_create_logical_replication_slot('s', 'pgoutput')")
    keys = rng.integers(1, args.customers + 1, args.events)
    for i in range(0, args.events, args.per_tx):
        part = ",".join(f"({int(k)})" for k in keys[i:i + args.per_tx])
        run(pub, f"INSERT INTO complaints (customer_id) VALUES {part}")
    # (the launcher starts apply workers at most once a wal_retrieve_retry_interval, counted from its last look,
    # which the previous turn's worker woke as it exited: a turn timed sooner waited out the rest of it)
    wait = _retry_interval(sub) - (time.perf_counter() - LAST_EXIT[0])
    if wait > 0:
        time.sleep(wait + 0.1)
    start = time.perf_counter()
    run(sub, "CREATE SUBSCRIPTION s CONNECTION %s PUBLICATION p WITH (create_slot = false, slot_name = 's', "
             "copy_data = false)", (_conn(cluster),))
    try:
        while run(sub, "SELECT count(*) FROM complaints")[0][0] < args.events:
            if time.perf_counter() - start > args.timeout:
                raise SystemExit(f"timed out after {args.timeout} s: "
                                 f"{run(sub, 'SELECT count(*) FROM complaints')[0][0]} of {args.events} applied")
            time.sleep(0.02)
        took = time.perf_counter() - start
    finally:
        run(sub, "ALTER SUBSCRIPTION s DISABLE")
        for _ in range(200):  # the worker gone, before the slot is dropped
            if not run(sub, "SELECT count(*) FROM pg_stat_subscription WHERE subname = 's' AND pid IS NOT NULL")[0][0]:
                break
            time.sleep(0.05)
        LAST_EXIT[0] = time.perf_counter()
        run(sub, "ALTER SUBSCRIPTION s SET (slot_name = NONE)")
        run(sub, "DROP SUBSCRIPTION s")
        for _ in range(200):  # (its walsender may outlive the worker a moment: "slot is active")
            try:
                run(pub, "SELECT pg_drop_replication_slot('s')")
                break
            except psycopg2.errors.ObjectInUse:
                time.sleep(0.05)
        else:
            run(pub, "SELECT pg_drop_replication_slot('s')")
    if wired:  # what was measured is what the documentation promises: every event counted, nothing queued
        assert run(sub, "SELECT sum(support_calls)::bigint, count(*) FILTER (WHERE support_calls > 0 AND scored_at "
                        "IS NULL) FROM customers") == [(args.events, 0)]
        assert run(sub, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
    return args.events / took


LAST_EXIT = [float("-inf")]  # when the last turn's apply worker was gone


def _retry_interval(sub) -> float:
    """wal_retrieve_retry_interval, in seconds."""
    return run(sub, "SELECT setting::float8 / 1000 FROM pg_settings WHERE name = 'wal_retrieve_retry_interval'")[0][0]


def _conn(cluster):
    d = cluster.dsn(PUB)
    return f"host={d['host']} port={d['port']} dbname={PUB} user={d['user']}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=20_000, help="events a turn (100..100,000)")
    ap.add_argument("--per-tx", type=int, default=100, help="events a published transaction (1..10,000)")
    ap.add_argument("--customers", type=int, default=2_000, help="customers (100..100,000)")
    ap.add_argument("--rounds", type=int, default=1, help="rounds of a wired and an unwired turn (1..10)")
    ap.add_argument("--timeout", type=float, default=300, help="seconds a turn may wait for its events (<= 1800)")
    Cluster.add_arguments(ap)
    ap.add_argument("--keep-running", action="store_true",
                    help="leave the cluster running when it ends (default: stop it if this script started it)")
    args = ap.parse_args()
    if not (100 <= args.events <= 100_000 and 1 <= args.per_tx <= 10_000 and 100 <= args.customers <= 100_000
            and 1 <= args.rounds <= 10 and 0 < args.timeout <= 1800):
        ap.error("--events 100..100,000, --per-tx 1..10,000, --customers 100..100,000, --rounds 1..10, --timeout <= 1800")
    cluster = Cluster.from_args(ap, args)
    with cluster.started(args.keep_running):
        replicate(args, cluster)


def replicate(args, cluster):
    admin = connect(cluster.url("postgres"))
    if run(admin, "SHOW wal_level")[0][0] != "logical":
        run(admin, "ALTER SYSTEM SET wal_level = logical")
        admin.close()
        cluster.stop()
        cluster.start()
        admin = connect(cluster.url("postgres"))
    for db in (SUB, PUB):
        run(admin, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))
        run(admin, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db)))
    try:
        migrate.upgrade(cluster.url(SUB))
        X, y = churn(max(args.customers, 1000), seed=3)[:2]
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)
        registry.deploy(cluster.url(SUB), "churn", model, X, y, feature_names=CHURN_FEATURES)
        pc, sc = connect(cluster.url(PUB)), connect(cluster.url(SUB))
        pub, sub = pc.cursor(), sc.cursor()
        sample.create_tables(sub)
        sample.load_customers(sub, X[:args.customers])
        run(pub, f"CREATE TABLE complaints {EVENTS}; CREATE PUBLICATION p FOR TABLE complaints")
        rng = np.random.default_rng(5)
        rates = {True: [], False: []}
        for r in range(args.rounds):
            for wired in ((True, False) if r % 2 == 0 else (False, True)):
                rate = turn(cluster, pub, sub, wired, args, rng)
                rates[wired].append(rate)
                print(f"round {r + 1}: {'wired' if wired else 'unwired'}: {args.events:,} events in transactions of "
                      f"{args.per_tx:,}: {rate:,.0f} events/s", flush=True)
        for wired in (True, False):
            print(f"{'wired' if wired else 'unwired'}: median {statistics.median(rates[wired]):,.0f} events/s")
        pc.close()
        sc.close()
    finally:
        for db in (SUB, PUB):
            run(admin, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))
        admin.close()


if __name__ == "__main__":
    main()
