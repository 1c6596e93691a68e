"""`pgscore score`'s options against a plain run (scoring.score_table, as the CLI calls it), taking turns: the
plain run, --skip-unscorable on a table with no row it cannot score (what skipping costs a clean chunk),
--where holding for every row, for runs of 1,000 rows in 2,000, for one row in 100, and for none, and
--skip-unscorable with --bad rows the model cannot score spread over the table. Each run's wall time, its
backend's CPU (from /proc) and the WAL it wrote (pg_current_wal_lsn before and after: the scores and log rows
written, and any row lock, which writes its row's header), after VACUUM and CHECKPOINT (not timed), the
prediction log emptied after it.

    .venv/bin/python scripts/bench_score_options.py [--rows 200000] [--rounds 3] [--chunk 10000] [--bad 12]
        [--kinds plain,skip,where-all,where-runs,where-1pc,where-none,skip-bad] [--data-dir DIR --port PORT]
        [--keep-running]

The table and model are scripts/bench_writeback.py's (`pgscore bench`'s customers and logistic pipeline), in
the throwaway database `pgscore_bench` of the cluster, dropped at the end: not while `pgscore bench` runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import psycopg2
from psycopg2 import sql

from pgscore import bench, registry, scoring
from pgscore.localdb import Cluster

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_writeback import cpu_seconds, load  # noqa: E402 - (a script beside this one)

KINDS = {"plain": {}, "skip": {"skip": True}, "where-all": {"where": "true"},
         "where-runs": {"where": "id / 1000 % 2 = 0"}, "where-1pc": {"where": "id % 100 = 0"},
         "where-none": {"where": "false"},
         "skip-bad": {"skip": True}}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000, help="rows of the table (10,000..2,000,000)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds (1..10)")
    ap.add_argument("--chunk", type=int, default=10_000, help="chunk size")
    ap.add_argument("--bad", type=int, default=12, help="rows skip-bad's run cannot score (1..100)")
    ap.add_argument("--kinds", default=",".join(KINDS), help=f"some of {','.join(KINDS)}")
    Cluster.add_arguments(ap)
    ap.add_argument("--keep-running", action="store_true")
    args = ap.parse_args()
    kinds = args.kinds.split(",")
    if not 10_000 <= args.rows <= 2_000_000 or not 1 <= args.rounds <= 10 or not set(kinds) <= set(KINDS) \
            or not 1 <= args.bad <= 100:
        ap.error(f"--rows must be 10,000..2,000,000, --rounds 1..10, --bad 1..100, --kinds of {','.join(KINDS)}")
    cluster = Cluster.from_args(ap, args)
    with cluster.started(args.keep_running), \
            bench.bench_database(lambda name: cluster.url(dbname=name), cluster.url()) as url:
        X, y, names, models = bench._models(False, which=("logit",))
        registry.deploy(url, "logit", models["logit"], X[:5000], y[:5000], feature_names=names)
        conn = psycopg2.connect(url)
        conn.autocommit = True
        cur = conn.cursor()
        load(cur, X, names, args.rows)
        bad = [int(i) for i in range(args.rows // args.bad // 2, args.rows, args.rows // args.bad)][:args.bad]
        first = sql.Identifier(names[0])
        work = psycopg2.connect(url, fallback_application_name="pgscore score")
        with work.cursor() as w:
            w.execute("SELECT pg_backend_pid()")
            pid = w.fetchone()[0]
            # the model loaded in the backend first (sklearn's import, ~1 s), not in the first run's time
            w.execute("SELECT count(*) FROM pgscore.predict_batch('logit', 'SELECT id, features FROM customers "
                      "WHERE id < 100', p_log => false)")
        work.commit()
        print(f"{args.rows:,} rows, chunks of {args.chunk:,}, {args.rounds} rounds taking turns; skip-bad: "
              f"{len(bad)} rows with {names[0]} infinite")

        def run(kind):
            cur.execute("VACUUM customers")
            cur.execute("CHECKPOINT")
            if kind == "skip-bad":
                # (the model reads the float8[] column `features`, where the table has one)
                cur.execute(sql.SQL("UPDATE customers SET {} = 'Infinity', features[1] = 'Infinity' WHERE id = "
                                    "ANY(%s)").format(first), (bad,))
            cur.execute("SELECT pg_current_wal_lsn()")
            lsn = cur.fetchone()[0]
            c0, t0 = cpu_seconds(pid), time.perf_counter()
            done = scoring.score_table(work, "logit", "customers", "id", "score", chunk_size=args.chunk,
                                       progress=False, **KINDS[kind])
            s, cpu = time.perf_counter() - t0, cpu_seconds(pid) - c0
            cur.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", (lsn,))
            wal = float(cur.fetchone()[0]) / 1e6
            if kind == "skip-bad":
                assert len(done["skipped"]) == len(bad), done["skipped"]
                cur.execute(sql.SQL("UPDATE customers SET {} = 1, features[1] = 1 WHERE id = ANY(%s)").format(first),
                            (bad,))
            cur.execute("TRUNCATE pgscore.prediction_log")
            print(f"  {kind:<11} {s:7.2f} s  {done['rows']:>9,} rows scored  backend CPU {cpu:6.2f} s  WAL "
                  f"{wal:7.2f} MB", flush=True)
            return s, cpu, done["rows"], wal

        out = bench.take_turns(kinds, args.rounds, run)
        print("medians (min-max), ratio of the medians to plain's:")
        base = statistics.median(r[0] for r in out["plain"]) if "plain" in out else None
        for k, v in out.items():
            walls = [r[0] for r in v]
            med = statistics.median(walls)
            cpu = statistics.median(r[1] for r in v)
            wal = [r[3] for r in v]
            ratio = f"  x{med / base:.3f}" if base else ""
            print(f"  {k:<11} {med:7.2f} s ({min(walls):.2f}-{max(walls):.2f})  backend CPU {cpu:6.2f} s  "
                  f"WAL {statistics.median(wal):.2f} MB ({min(wal):.2f}-{max(wal):.2f})  {v[0][2]:>9,} rows{ratio}")
        work.close()
        conn.close()


if __name__ == "__main__":
    main()
