"""The monitoring reads with outcomes: alerts, feature_drift, realised_performance, performance_by_day and a
refresh_monitoring() that finds nothing new, over --rows live predictions each judged by an outcome, and with
--shadow a second version set as the model's shadow that logged as many shadow predictions (the same entities
and times), each judged by the same outcome (docs/performance.md, "Shadow alerts" and "Per period kind").

Loads as pgscore.bench_drift.load_judged says (12-feature churn model, 7 days, the last day drifted; the
rollups rebuilt, an hour's more rows and an incremental refresh), then reads each query in turn for
--rounds rounds, each in a fresh connection after a warm-up read, and prints each one's runs (ms).

    .venv/bin/python scripts/bench_drift.py [--rows 200000] [--shadow] [--rounds 3] [--revision REV]
                                            [--features F [--hours H] [--distinct-shares]]
                                            [--variants head,null,0084]
                                            [--data-dir DIR --port PORT]

--revision measures the schema of an earlier migration (the database downgraded to it after the install),
so that a change's before and after are read on one cluster, by the same code.

--features F loads a model of F standard-normal features instead (--rows predictions over the last --hours,
48 by default, no outcomes: bench_drift.load_wide); --distinct-shares rounds each to a grid of its own, so that
each feature's baseline has its own shares (one JS floor per feature and window size, not per window size). --variants reads copies of the loaded database in turn,
round by round: `head` the database as loaded, `null` a copy with every drift_thresholds.confidence NULL (the
thresholds alone), a revision a copy downgraded to it; each read (feature_drift, alerts, realised_performance,
refresh_monitoring) in a fresh connection with parallel workers off, wall and backend CPU (/proc) medians printed,
and how many times pgscore.noise_floor ran in one read.

Runs in the throwaway database `pgscore_bench` of the cluster (the embedded one, or --data-dir/--port;
started if need be), dropped at the end: not while `pgscore bench` runs. A cluster it started is stopped when it
ends, also on an error or Ctrl-C (a SIGTERM as well), unless --keep-running; one already running is left so.
"""

from __future__ import annotations

import argparse
import contextlib

from pgscore import bench, bench_drift, migrate
from pgscore.localdb import Cluster


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000, help="live predictions, each judged (10,000..5,000,000)")
    ap.add_argument("--shadow", action="store_true", help="a second version set as shadow, logging as many")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of the reads (1..20)")
    ap.add_argument("--revision", help="the schema revision to measure (default: head)")
    ap.add_argument("--features", type=int, help="a model of this many features instead of the churn model's 12")
    ap.add_argument("--hours", type=int, default=48, help="with --features: the hours the rows are spread over")
    ap.add_argument("--distinct-shares", action="store_true",
                    help="with --features: each feature rounded to a grid of its own, so that each baseline has its "
                         "own shares (one JS floor per feature and window size)")
    ap.add_argument("--variants", help="read copies of the loaded database in turn: head, null, a revision")
    Cluster.add_arguments(ap)
    ap.add_argument("--keep-running", action="store_true",
                    help="leave the cluster running when it ends (default: stop it if this script started it)")
    args = ap.parse_args()
    if args.features is not None and not (1 <= args.features <= 5000 and 100 <= args.rows <= 1_000_000
                                          and 1 <= args.hours <= 168):
        ap.error("--features must be 1..5,000, --rows 100..1,000,000 and --hours 1..168")
    if args.distinct_shares and args.features is None:
        ap.error("--distinct-shares goes with --features")
    variants = args.variants.split(",") if args.variants else []
    if args.features is None and not 10_000 <= args.rows <= 5_000_000 or not 1 <= args.rounds <= 20:
        ap.error("--rows must be 10,000..5,000,000 and --rounds 1..20")
    cluster = Cluster.from_args(ap, args)

    with cluster.started(args.keep_running):
        measure(args, cluster, variants)


def measure(args, cluster, variants):
    with bench.bench_database(lambda name: cluster.url(dbname=name), cluster.url()) as url:
        if args.revision:
            migrate.downgrade(url, args.revision)
        if args.features is not None:
            print(f"{args.rows:,} live predictions of a {args.features}-feature model over {args.hours} hours"
                  f"{', each feature its own shares' if args.distinct_shares else ''}; schema {migrate.current(url)}")
            bench_drift.load_wide(url, args.rows, args.features, hours=args.hours, distinct_shares=args.distinct_shares)
        else:
            print(f"{args.rows:,} judged live predictions{', a shadow version logging as many' if args.shadow else ''}; "
                  f"schema {migrate.current(url)}")
            bench_drift.load_judged(url, args.rows, shadow=args.shadow)
        if not variants:
            bench_drift.time_reads(url, rounds=args.rounds)
            return
        with copies(cluster, variants) as urls:
            bench_drift.time_variants(urls, VARIANT_READS, rounds=args.rounds)


VARIANT_READS = [("feature_drift", "SELECT * FROM pgscore.feature_drift"),
                 ("alerts", "SELECT * FROM pgscore.alerts"),
                 # (0113) the realised-performance read alone, without the drift alerts reads too
                 ("realised_performance", "SELECT * FROM pgscore.realised_performance"),
                 ("refresh_monitoring(), nothing new", "SELECT * FROM pgscore.refresh_monitoring()")]


@contextlib.contextmanager
def copies(cluster, variants):
    """name -> url of each variant of the bench database: itself (head), copies made from it as a template (null:
    every confidence NULL; a revision: downgraded to it), dropped at the end."""
    import psycopg2
    from psycopg2 import sql

    admin = psycopg2.connect(cluster.url())
    admin.autocommit = True
    made = []
    try:
        urls = {}
        for v in variants:
            if v == "head":
                urls[v] = cluster.url(dbname=bench.BENCH_DB)
                continue
            name = f"{bench.BENCH_DB}_{v}"
            with admin.cursor() as cur:
                cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
                cur.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name),
                                                                            sql.Identifier(bench.BENCH_DB)))
            made.append(name)
            urls[v] = cluster.url(dbname=name)
            if v == "null":
                c = psycopg2.connect(urls[v])
                c.autocommit = True
                with c.cursor() as cur:
                    cur.execute("UPDATE pgscore.drift_thresholds SET confidence = NULL")
                    print(f"  {name}: {cur.rowcount} drift_thresholds rows set to confidence NULL")
                c.close()
            else:
                migrate.downgrade(urls[v], v)
                print(f"  {name}: schema {migrate.current(urls[v])}")
        yield urls
    finally:
        with admin.cursor() as cur:
            for name in made:
                cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.close()


if __name__ == "__main__":
    main()
