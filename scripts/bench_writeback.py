"""The write-back section of `pgscore bench` alone: `CALL pgscore.score_table` (logged and not) against the
client side (binary COPY out, predict, COPY in, UPDATE ... FROM), taking turns, each run from the same table
state (as bench._written_back: VACUUM and CHECKPOINT first, not timed), with each run's wall time, the backend's CPU (from
/proc, the cluster on this machine) and the WAL it wrote (pg_current_wal_lsn before and after).

    .venv/bin/python scripts/bench_writeback.py [--rows 1000000] [--rounds 3] [--chunk 10000] [--model logit]
        [--kinds logged,unlogged,client] [--before FILE] [--data-dir DIR --port PORT] [--keep-running]

With --before FILE (another version of py_src/pgscore/batch.py, e.g. `git show REV:py_src/pgscore/batch.py`),
the kinds logged-before and unlogged-before run score_table in a second session whose backend uses that file's
TablePlans (the chunk's statements), swapped in by a DO block: a change's before and after in one run, taking
turns.

The table is `pgscore bench`'s `customers` (an int key, the features as one float8[] and as 12 float8
columns, the score column), the logistic pipeline of `pgscore bench` (trained on its 50,000 churn rows), whose
chunks SQL scores; --model hgb: its gradient boosting classifier, whose chunks are scored in Python (the chunk's
locking read, then its UPDATE and audit rows from the scores sent back).
Runs in the throwaway database `pgscore_bench` of the cluster, dropped at the end: not while `pgscore bench`
runs.
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

from pgscore import bench, registry
from pgscore.localdb import Cluster

KINDS = ("logged", "unlogged", "client", "logged-before", "unlogged-before")

# in the second session: the TablePlans of the --before file, in place of pgscore.batch's
SWAP = """DO $$
import importlib.util, pgscore.batch
spec = importlib.util.spec_from_file_location('pgscore_batch_before', %s)
before = importlib.util.module_from_spec(spec)
spec.loader.exec_module(before)
class TablePlans(before.TablePlans):
    unlocked = None  # (where the file has none: the chunk's locking statement alone)
    def __init__(self, *args):
        self.unlocked = None
        super().__init__(*args)
pgscore.batch.TablePlans = TablePlans
$$ LANGUAGE plpython3u"""


def cpu_seconds(pid) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115 - read at once
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load(cur, X, names, n):
    """`pgscore bench`'s customers table of n rows, as its run makes it (the same seed and rows)."""
    cols = sql.SQL(", ").join(sql.SQL("{} float8").format(sql.Identifier(c)) for c in names)
    data = X[np.random.default_rng(1).integers(0, len(X), n)]
    buf = io.StringIO()
    for i, r in enumerate(data):
        buf.write(f"{i}\t{{{','.join(repr(float(v)) for v in r)}}}\t" + "\t".join(repr(float(v)) for v in r)
                  + "\t\\N\n")
    cur.execute(sql.SQL("CREATE TABLE customers (id int PRIMARY KEY, features float8[], {}, score float8)").format(cols))
    buf.seek(0)
    cur.copy_expert("COPY customers FROM STDIN", buf)
    cur.execute("VACUUM ANALYZE customers")
    cur.execute("ALTER TABLE customers SET (autovacuum_enabled = off)")
    cur.execute("UPDATE customers SET score = NULL")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows of the table (10,000..2,000,000)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds (1..10)")
    ap.add_argument("--chunk", type=int, default=10_000, help="score_table's chunk size")
    ap.add_argument("--kinds", default=",".join(KINDS), help=f"some of {','.join(KINDS)}")
    ap.add_argument("--before", help="a batch.py whose TablePlans the -before kinds use")
    ap.add_argument("--model", choices=("logit", "hgb"), default="logit",
                    help="logit (chunks scored in SQL, the default) or hgb (chunks scored in Python)")
    Cluster.add_arguments(ap)
    ap.add_argument("--keep-running", action="store_true")
    args = ap.parse_args()
    kinds = args.kinds.split(",")
    if not 10_000 <= args.rows <= 2_000_000 or not 1 <= args.rounds <= 10 or not set(kinds) <= set(KINDS):
        ap.error(f"--rows must be 10,000..2,000,000, --rounds 1..10, --kinds of {','.join(KINDS)}")
    if any(k.endswith("-before") for k in kinds) != bool(args.before):
        ap.error("--before FILE goes with the kinds logged-before and unlogged-before")
    cluster = Cluster.from_args(ap, args)
    with cluster.started(args.keep_running), \
            bench.bench_database(lambda name: cluster.url(dbname=name), cluster.url()) as url:
        m = args.model
        X, y, names, models = bench._models(False, which=(m,))
        registry.deploy(url, m, models[m], X[:5000], y[:5000], feature_names=names)
        conn = psycopg2.connect(url)
        conn.autocommit = True
        cur = conn.cursor()
        load(cur, X, names, args.rows)
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
        old = psycopg2.connect(url)
        old.autocommit = True
        ocur = old.cursor()
        ocur.execute("SELECT pg_backend_pid()")
        opid = ocur.fetchone()[0]
        if args.before:
            ocur.execute(SWAP % "%s", (os.path.abspath(args.before),))
        calls = {"logged": f"CALL pgscore.score_table('{m}', 'customers', 'id', 'score', {int(args.chunk)})",
                 "unlogged": f"CALL pgscore.score_table('{m}', 'customers', 'id', 'score', {int(args.chunk)}, "
                             "p_log => false)",
                 "client": lambda: bench.client_side(conn, models[m], names, args.rows)}
        calls["logged-before"], calls["unlogged-before"] = calls["logged"], calls["unlogged"]
        print(f"{args.rows:,} rows, model {m}, chunks of {args.chunk:,}, {args.rounds} rounds taking turns")

        def run(kind):
            cur.execute("VACUUM customers")  # the same start as bench._written_back's
            cur.execute("CHECKPOINT")
            cur.execute("SELECT pg_current_wal_lsn()")
            lsn = cur.fetchone()[0]
            on, on_pid = (ocur, opid) if kind.endswith("-before") else (cur, pid)
            c0 = cpu_seconds(on_pid)
            call = calls[kind]
            s = call() if callable(call) else bench._timed(on, call)
            cpu = cpu_seconds(on_pid) - c0
            cur.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", (lsn,))
            wal = float(cur.fetchone()[0]) / 1e6
            cur.execute("TRUNCATE pgscore.prediction_log")
            print(f"  {kind:<15} {s:7.2f} s  {args.rows / s:>9,.0f} rows/s  backend CPU {cpu:6.2f} s  WAL {wal:7.1f} MB", flush=True)
            return s, cpu, wal

        out = bench.take_turns(kinds, args.rounds, run)
        print("medians:")
        med = {k: statistics.median(r[0] for r in v) for k, v in out.items()}
        for k, v in out.items():
            print(f"  {k:<15} {med[k]:7.2f} s  {args.rows / med[k]:>9,.0f} rows/s  backend CPU "
                  f"{statistics.median(r[1] for r in v):6.2f} s  WAL {statistics.median(r[2] for r in v):7.1f} MB"
                  + (f"  {med['client'] / med[k]:.3f}x the client side" if "client" in med else ""))
        conn.close()
        old.close()


if __name__ == "__main__":
    t = time.perf_counter()
    main()
    print(f"took {time.perf_counter() - t:.0f} s")
