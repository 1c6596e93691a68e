"""The optimistic one-profile statement of rescoring (Sql.fast(optimistic=True)) at a revision before against this
checkout's, A/B in one run: two sessions of the same cluster and database, session A with Sql.fast as --before
has it (its text from git, put in place of this checkout's in that backend before its first INSERT), session B
with this checkout's. Each turn, one session inserts --inserts single rows for random customers (the backend's
CPU per INSERT), then one single-row INSERT and right after it one multi-row INSERT of --events events for random
customers (the backend's CPU and the wall time of that statement alone); the sessions take turns, the order
reversed every other round; medians of the rounds and their spread (min..max). The setup is `pgscore bench`'s
rescoring section's (bench_rescoring.setup: --customers customers, the logistic pipeline, three counters, one a
30-day window: the optimistic statement's case). Loopback only, bounded: at most 20,000 single rows and 100,000
events a turn, 10 rounds.

    .venv/bin/python scripts/bench_optimistic.py [--data-dir DIR --port PORT] [--before 731b705] \
        [--inserts 1000] [--events 10000] [--rounds 5] [--customers 100000]
"""

from __future__ import annotations

import argparse
import ast
import os
import statistics
import subprocess
import textwrap
import time
from pathlib import Path

import numpy as np
import psycopg2
from psycopg2 import sql

from pgscore import bench, bench_rescoring as br, datasets, registry
from pgscore.localdb import Cluster

ROOT = Path(__file__).resolve().parent.parent
TABLE = f"{br.SCHEMA}.events_pgscore"


def cpu_seconds(pid) -> float:
    """User + system CPU seconds of process `pid` so far (/proc, Linux)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def old_fast(rev) -> str:
    """The text of Sql.fast at git revision `rev`, dedented."""
    src = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:py_src/pgscore/rescoring.py"], check=True,
                         capture_output=True, text=True).stdout
    for node in ast.parse(src).body:
        if isinstance(node, ast.ClassDef) and node.name == "Sql":
            for f in node.body:
                if isinstance(f, ast.FunctionDef) and f.name == "fast":
                    return textwrap.dedent(ast.get_source_segment(src, f))
    raise SystemExit(f"no Sql.fast in {rev}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    Cluster.add_arguments(ap)
    ap.add_argument("--before", default="731b705", help="the git revision whose Sql.fast session A runs "
                    "(default: the commit before the one-profile statement's guard)")
    ap.add_argument("--inserts", type=int, default=1000, help="single-row INSERTs a turn (100..20,000)")
    ap.add_argument("--events", type=int, default=10_000, help="events of the multi-row INSERT (100..100,000)")
    ap.add_argument("--rounds", type=int, default=5, help="rounds (1..10)")
    ap.add_argument("--customers", type=int, default=100_000, help="customers (1,000..100,000)")
    ap.add_argument("--keep-running", action="store_true", help="leave the cluster running when it ends")
    args = ap.parse_args()
    if not (100 <= args.inserts <= 20_000 and 100 <= args.events <= 100_000 and 1 <= args.rounds <= 10
            and 1000 <= args.customers <= 100_000):
        ap.error("--inserts 100..20,000, --events 100..100,000, --rounds 1..10, --customers 1,000..100,000")
    cluster = Cluster.from_args(ap, args)
    before = old_fast(args.before)
    with cluster.started(args.keep_running), \
            bench.bench_database(lambda name: cluster.url(dbname=name), cluster.url()) as url:
        measure(url, args, before)


def measure(url, args, before):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y, names = datasets.churn(20_000, seed=7)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)
    registry.deploy(url, "logit", model, X[:5000], y[:5000], feature_names=names)
    admin = psycopg2.connect(url)
    admin.autocommit = True
    acur = admin.cursor()
    br.setup(acur, X, args.customers, model)
    sessions = {}
    for kind in ("before", "after"):
        c = psycopg2.connect(url, options="-c synchronous_commit=off")
        c.autocommit = True
        cur = c.cursor()
        if kind == "before":  # this backend's Sql.fast is --before's, from its first INSERT on
            code = "from __future__ import annotations\n" + before
            body = ("import pgscore.rescoring as r\nns = {}\n"
                    f"exec(compile({code!r}, '<before>', 'exec'), r.__dict__, ns)\nr.Sql.fast = ns['fast']\n")
            cur.execute(sql.SQL("DO {} LANGUAGE plpython3u").format(sql.Literal(body)))
        cur.execute("SELECT pg_catalog.pg_backend_pid()")
        sessions[kind] = (cur, cur.fetchone()[0])
    insert = f"INSERT INTO {TABLE} (customer_id) VALUES (%s)"
    many = f"INSERT INTO {TABLE} (customer_id) SELECT unnest(%s::bigint[])"
    rng = np.random.default_rng(5)
    for cur, _ in sessions.values():  # warm each backend (imports, plans) outside the measurement
        for k in rng.integers(1, args.customers + 1, 50).tolist():
            cur.execute(insert, (k,))
        cur.execute(many, (rng.integers(1, args.customers + 1, 100).tolist(),))

    def turn(kind):
        cur, pid = sessions[kind]
        keys = rng.integers(1, args.customers + 1, args.inserts).tolist()
        c0 = cpu_seconds(pid)
        for k in keys:
            cur.execute(insert, (k,))
        single = (cpu_seconds(pid) - c0) / args.inserts * 1e6
        cur.execute(insert, (int(rng.integers(1, args.customers + 1)),))
        ids = rng.integers(1, args.customers + 1, args.events).tolist()
        c0, w0 = cpu_seconds(pid), time.perf_counter()
        cur.execute(many, (ids,))
        return single, (cpu_seconds(pid) - c0) * 1e3, (time.perf_counter() - w0) * 1e3

    got = bench.take_turns(["before", "after"], args.rounds, turn)
    print(f"A = Sql.fast of {args.before}, B = this checkout's; {args.rounds} rounds, taking turns; medians "
          "[min..max]")
    for i, what in enumerate((f"single-row INSERT, backend CPU us/INSERT ({args.inserts:,} a turn)",
                              f"{args.events:,}-event INSERT right after a single-row one, backend CPU ms",
                              f"{args.events:,}-event INSERT right after a single-row one, wall ms")):
        print(what)
        for kind, runs in got.items():
            v = [r[i] for r in runs]
            print(f"  {kind:<6} {statistics.median(v):8.1f}  [{min(v):.1f}..{max(v):.1f}]  "
                  + " ".join(f"{x:.1f}" for x in v), flush=True)
        d = [a[i] - b[i] for a, b in zip(got["before"], got["after"])]  # (the machine drifts between rounds)
        print(f"  before - after, round by round: median {statistics.median(d):.1f} [{min(d):.1f}..{max(d):.1f}]")
    acur.execute("SELECT count(*) FROM pgscore.error_queue")
    queued = acur.fetchone()[0]
    if queued:
        print(f"warning: {queued} profile(s) queued in pgscore.error_queue")
    for cur, _ in sessions.values():
        cur.connection.close()
    br.detach_all(acur)
    admin.close()


if __name__ == "__main__":
    main()
