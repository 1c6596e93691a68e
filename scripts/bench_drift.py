"""The monitoring reads with outcomes: alerts, feature_drift, realised_performance, performance_by_day and a
refresh_monitoring() that finds nothing new, over --rows live predictions each judged by an outcome, and with
--shadow a second version set as the model's shadow that logged as many shadow predictions (the same entities
and times), each judged by the same outcome (docs/performance.md, "Shadow alerts" and "Per period kind").

Loads as pgscore.bench_drift.load_judged says (12-feature churn model, 7 days, the last day drifted; the
rollups rebuilt, an hour's more rows and an incremental refresh), then reads each query in turn for
--rounds rounds, each in a fresh connection after a warm-up read, and prints each one's runs (ms).

    .venv/bin/python scripts/bench_drift.py [--rows 200000] [--shadow] [--rounds 3] [--revision REV]
                                            [--data-dir DIR --port PORT]

--revision measures the schema of an earlier migration (the database downgraded to it after the install),
so that a change's before and after are read on one cluster, by the same code.

Runs in the throwaway database `pgscore_bench` of the cluster (the embedded one, or --data-dir/--port;
started if need be), dropped at the end: not while `pgscore bench` runs.
"""

from __future__ import annotations

import argparse

from pgscore import bench, bench_drift, migrate
from pgscore.localdb import Cluster


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000, help="live predictions, each judged (10,000..5,000,000)")
    ap.add_argument("--shadow", action="store_true", help="a second version set as shadow, logging as many")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of the reads (1..20)")
    ap.add_argument("--revision", help="the schema revision to measure (default: head)")
    ap.add_argument("--data-dir", help="the cluster's data directory (default: the embedded cluster's)")
    ap.add_argument("--port", type=int)
    args = ap.parse_args()
    if not 10_000 <= args.rows <= 5_000_000 or not 1 <= args.rounds <= 20:
        ap.error("--rows must be 10,000..5,000,000 and --rounds 1..20")
    cluster = Cluster(**{k: v for k, v in (("data_dir", args.data_dir), ("port", args.port)) if v is not None})
    cluster.start()
    with bench.bench_database(lambda name: cluster.url(dbname=name), cluster.url()) as url:
        if args.revision:
            migrate.downgrade(url, args.revision)
        print(f"{args.rows:,} judged live predictions{', a shadow version logging as many' if args.shadow else ''}; "
              f"schema {migrate.current(url)}")
        bench_drift.load_judged(url, args.rows, shadow=args.shadow)
        bench_drift.time_reads(url, rounds=args.rounds)


if __name__ == "__main__":
    main()
