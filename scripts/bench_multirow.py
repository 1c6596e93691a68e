"""The multi-row INSERT and COPY part of `pgscore bench --only rescoring` alone: one statement of --events
events for random customers into each event table of bench_rescoring's setup (no trigger, the counter-only
statement trigger, pgscore.attach_rescoring, the hand-written trigger), the tables taking turns (reversed every
other round), --rounds rounds, the median of each; and the backend's CPU per event (user + system of the
backend process, /proc, read before and after each statement). Loopback only, bounded: at most 100,000 events a
statement and 10 rounds.

    .venv/bin/python scripts/bench_multirow.py [--events 10000] [--rounds 3] [--customers 100000] \
        [--data-dir DIR --port PORT] [--only pgscore,by_hand]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import time

import numpy as np
import psycopg2
from psycopg2 import sql

from pgscore import bench_rescoring as br
from pgscore import migrate, registry
from pgscore.localdb import Cluster

DB = "pgscore_bench_multirow"
TABLES = ("plain", "counter_stmt", "pgscore", "by_hand")


def _cpu(pid) -> float:
    """User + system CPU seconds of process `pid` so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one(cur, pid, table, ids, copy) -> tuple[float, float]:
    """(seconds, backend CPU seconds) of one statement inserting `ids`."""
    if copy:
        buf = io.StringIO("".join(f"{i}\n" for i in ids.tolist()))
        c0, t = _cpu(pid), time.perf_counter()
        cur.copy_expert(sql.SQL("COPY {} (customer_id) FROM STDIN").format(br._t(table)).as_string(cur), buf)
    else:
        c0, t = _cpu(pid), time.perf_counter()
        cur.execute(sql.SQL("INSERT INTO {} (customer_id) SELECT unnest(%s::bigint[])").format(br._t(table)),
                    (ids.tolist(),))
    took = time.perf_counter() - t
    return took, _cpu(pid) - c0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=10_000, help="events a statement (100..100,000)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds (1..10)")
    ap.add_argument("--customers", type=int, default=100_000, help="customers (1,000..100,000)")
    ap.add_argument("--only", default=",".join(TABLES), help="event tables, comma-separated: " + ", ".join(TABLES))
    Cluster.add_arguments(ap)
    ap.add_argument("--keep-running", action="store_true", help="leave the cluster running when it ends")
    args = ap.parse_args()
    only = args.only.split(",")
    if not (100 <= args.events <= 100_000 and 1 <= args.rounds <= 10 and 1000 <= args.customers <= 100_000
            and only and set(only) <= set(TABLES)):
        ap.error("--events 100..100,000, --rounds 1..10, --customers 1,000..100,000, --only of " + ", ".join(TABLES))
    cluster = Cluster.from_args(ap, args)
    with cluster.started(args.keep_running):
        admin = psycopg2.connect(cluster.url("postgres"))
        admin.autocommit = True
        a = admin.cursor()
        a.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB)))
        a.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB)))
        try:
            measure(cluster.url(DB), args, only)
        finally:
            a.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB)))
            admin.close()


def measure(url, args, only):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from pgscore import datasets

    migrate.upgrade(url)
    X, y, names = datasets.churn(50_000, seed=7)  # as `pgscore bench` (bench._models)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)
    registry.deploy(url, "logit", model, X[:5000], y[:5000], feature_names=names)
    conn = psycopg2.connect(url)
    conn.autocommit = True
    cur = conn.cursor()
    br.setup(cur, X, args.customers, model)
    cur.execute("SELECT pg_backend_pid()")
    pid = cur.fetchone()[0]
    for t in only:  # warm this backend (imports, plans) outside the measurement
        one(cur, pid, f"events_{t}", np.array([1, 2]), False)
        one(cur, pid, f"events_{t}", np.array([1, 2]), True)
    rng = np.random.default_rng(11)
    for copy in (False, True):
        how = "COPY" if copy else "multi-row INSERT"
        res = {t: [] for t in only}
        for r in range(args.rounds):
            for t in (only if r % 2 == 0 else only[::-1]):
                took, cpu = one(cur, pid, f"events_{t}", rng.integers(1, args.customers + 1, args.events), copy)
                res[t].append((took, cpu))
                print(f"round {r + 1}: {how} of {args.events:,} events, {t}: {args.events / took:,.0f} events/s, "
                      f"backend CPU {cpu * 1e6 / args.events:.1f} µs/event", flush=True)
        for t in only:
            rates = [args.events / s for s, _ in res[t]]
            cpus = [c * 1e6 / args.events for _, c in res[t]]
            print(f"{how}, {t}: median {statistics.median(rates):,.0f} events/s (best {max(rates):,.0f}), "
                  f"backend CPU median {statistics.median(cpus):.1f} µs/event", flush=True)
    cur.execute("SELECT count(*) FROM pgscore.error_queue")
    queued = cur.fetchone()[0]
    if queued:
        print(f"warning: {queued} profile(s) queued in pgscore.error_queue")
    br.detach_all(cur)
    conn.close()


if __name__ == "__main__":
    main()
