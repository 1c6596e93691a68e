"""realised_performance_by_outcome_time, realised_performance and alerts at the head and again downgraded to 0122.

Loads as pgscore.bench_drift.load_judged says (the churn model, 200,000 live predictions over 7 days, each judged,
every outcome recorded now: each judged prediction is in every window by outcome time, the worst case), deletes
every other outcome (half judged), then reads each query 3 times after a warm-up in a fresh connection with
parallel workers off, at the head, then downgraded to 0122 (docs/performance.md, "By outcome time").

    .venv/bin/python scripts/bench_outcome_time.py --data-dir DIR --port PORT

Runs in the throwaway database pgscore_bench of a running cluster (dropped at the end)."""
import argparse
import statistics
import time

import psycopg2

from pgscore import bench, bench_drift, migrate

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--data-dir", required=True, help="the running cluster's directory")
ap.add_argument("--port", type=int, required=True)
args = ap.parse_args()
base = "postgresql://postgres@/{}?host=" + args.data_dir + "/run&port=" + str(args.port)
READS = [("realised_performance_by_outcome_time", "SELECT * FROM pgscore.realised_performance_by_outcome_time"),
         ("realised_performance", "SELECT * FROM pgscore.realised_performance"),
         ("alerts", "SELECT * FROM pgscore.alerts")]

def t(url, q, runs=3):
    c = psycopg2.connect(url)
    cur = c.cursor()
    cur.execute("SET max_parallel_workers_per_gather = 0")
    cur.execute(q)
    n = len(cur.fetchall())
    s = []
    for _ in range(runs):
        t0 = time.perf_counter()
        cur.execute(q)
        cur.fetchall()
        s.append((time.perf_counter() - t0) * 1000)
    c.close()
    return n, s

with bench.bench_database(lambda name: base.format(name), base.format("postgres")) as url:
    bench_drift.load_judged(url, 200_000)
    c = psycopg2.connect(url)
    c.autocommit = True
    cur = c.cursor()
    cur.execute("DELETE FROM pgscore.outcomes WHERE outcome_id % 2 = 0")
    cur.execute("SELECT count(*) FROM pgscore.prediction_log"); print("logged", cur.fetchone()[0])
    cur.execute("SELECT count(*) FROM pgscore.outcomes"); print("outcomes", cur.fetchone()[0])
    cur.execute("VACUUM ANALYZE pgscore.outcomes")
    c.close()
    for rev in ("head", "0122"):
        if rev != "head":
            migrate.downgrade(url, rev)
        print("schema", migrate.current(url))
        for what, q in READS:
            if rev == "0122" and what.endswith("outcome_time"):
                continue
            n, s = t(url, q)
            print(f"  {what}: {n} rows; runs ms {', '.join(f'{v:.0f}' for v in s)}; median {statistics.median(s):.0f}")
