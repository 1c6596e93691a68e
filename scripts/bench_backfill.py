"""create_log_partitions' backfill (migration 0104): what finding the days of the default partition's rows costs,
and what making them costs, as the server's time per statement, taking turns.

- empty: create_log_partitions(0) with nothing to make and an empty default partition, head's against 0100's (the
  function before 0104, installed beside it as public.bench_create_log_partitions_0100), --calls calls a turn;
- days: with --rows rows of --days past days (1 to --days days ago, --models model_ids) in the default partition,
  head's query of the days (a skip scan of the (model_id, logged_at) index: each model_id, then each of its days)
  against a plain SELECT DISTINCT of the days, which reads the whole default partition;
- backfill: create_log_partitions(0) making those days and moving their rows, in a transaction rolled back after
  each turn: head's, which reads each past day's rows through the (model_id, logged_at) index by the model_ids in
  the default partition, against `day scan`, head's with the day's bounds alone (as 0100 reads a day ahead's rows:
  a scan of the whole default partition for each day), installed as public.bench_create_log_partitions_dayscan.

    .venv/bin/python scripts/bench_backfill.py [--rows 1000000] [--days 30] [--models 5] [--rounds 5]
                                               [--calls 50] [--data-dir DIR --port PORT] [--keep-running]

Runs in the throwaway database `pgscore_bench` (dropped at the end): not while `pgscore bench` runs.
"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import time

import psycopg2

from pgscore import bench
from pgscore.localdb import Cluster

ROOT = pathlib.Path(__file__).resolve().parent.parent
OLD = ROOT / "migrations" / "versions" / "0104_log_backfill" / "downgrade.sql"
HEAD_DAYS = """
WITH RECURSIVE m AS (
    SELECT min(d.model_id) AS id FROM pgscore.prediction_log_default d
    UNION ALL
    SELECT (SELECT min(d.model_id) FROM pgscore.prediction_log_default d WHERE d.model_id > m.id)
      FROM m WHERE m.id IS NOT NULL
), t AS (
    SELECT m.id, (SELECT min(d.logged_at) FROM pgscore.prediction_log_default d WHERE d.model_id = m.id) AS at
      FROM m WHERE m.id IS NOT NULL
    UNION ALL
    SELECT t.id, (SELECT min(d.logged_at) FROM pgscore.prediction_log_default d
                   WHERE d.model_id = t.id
                     AND d.logged_at >= (date_trunc('day', t.at AT TIME ZONE 'UTC') + interval '1 day') AT TIME ZONE 'UTC')
      FROM t WHERE t.at IS NOT NULL AND t.at < current_date::timestamp AT TIME ZONE 'UTC'
)
SELECT array_agg(s.day ORDER BY s.day DESC)
  FROM (SELECT DISTINCT (t.at AT TIME ZONE 'UTC')::date AS day FROM t
         WHERE t.at < current_date::timestamp AT TIME ZONE 'UTC' ORDER BY 1 DESC LIMIT 366) AS s"""
DISTINCT_DAYS = """
SELECT array_agg(s.day ORDER BY s.day DESC)
  FROM (SELECT DISTINCT (logged_at AT TIME ZONE 'UTC')::date AS day FROM pgscore.prediction_log_default
         WHERE logged_at < current_date::timestamp AT TIME ZONE 'UTC' ORDER BY 1 DESC LIMIT 366) AS s"""


def timed(cur, stmt, n=1):
    t = time.perf_counter()
    for _ in range(n):
        cur.execute(stmt)
        got = cur.fetchall()
    return (time.perf_counter() - t) / n * 1000, got


def report(name, ms):
    print(f"{name:<32} median {statistics.median(ms):9.2f} ms  (min {min(ms):.2f}, max {max(ms):.2f}, "
          f"{len(ms)} turns)", flush=True)


def run(url, args):
    conn = psycopg2.connect(url)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SET TimeZone = 'UTC'; SET statement_timeout = '600s'")
    old = OLD.read_text().split("CREATE OR REPLACE FUNCTION pgscore.create_log_partitions", 1)[1]
    old = old.split("COMMENT ON FUNCTION", 1)[0]
    cur.execute("CREATE FUNCTION public.bench_create_log_partitions_0100" + old)
    empty = {"head": [], "0100": []}
    for _ in range(args.rounds):
        for name, fn in (("head", "pgscore.create_log_partitions"), ("0100", "public.bench_create_log_partitions_0100")):
            ms, got = timed(cur, f"SELECT {fn}(0)", args.calls)
            assert got == [(0,)], got
            empty[name].append(ms)
    for name in ("head", "0100"):
        report(f"empty default: {name}", empty[name])
    t = time.perf_counter()
    cur.execute("INSERT INTO pgscore.prediction_log (logged_at, model_id, entity_key, features, score, source) "
                "SELECT current_date::timestamp AT TIME ZONE 'UTC' - (1 + g %% %s) * interval '1 day' "
                "+ (g %% 86311) * interval '1 second', 1 + g %% %s, g::text, ARRAY[g, g / 2.0, g / 3.0, 1]::float8[], "
                "0.5, 'batch' FROM generate_series(1, %s) g", (args.days, args.models, args.rows))
    cur.execute("VACUUM (ANALYZE) pgscore.prediction_log_default")
    cur.execute("SELECT count(*), pg_size_pretty(pg_total_relation_size('pgscore.prediction_log_default')) "
                "FROM pgscore.prediction_log_default")
    n, size = cur.fetchone()
    print(f"default partition: {n:,} rows, {size} with its indexes (loaded in {time.perf_counter() - t:.0f} s)",
          flush=True)
    days = {"skip scan (head)": [], "SELECT DISTINCT": []}
    for _ in range(args.rounds):
        for name, stmt in (("skip scan (head)", HEAD_DAYS), ("SELECT DISTINCT", DISTINCT_DAYS)):
            ms, got = timed(cur, stmt)
            assert len(got[0][0]) == args.days, got
            days[name].append(ms)
    for name, ms in days.items():
        report(f"days of the default: {name}", ms)
    cur.execute("SELECT pg_get_functiondef('pgscore.create_log_partitions(integer, date)'::regprocedure)")
    head = cur.fetchone()[0]
    by_index = "CASE WHEN v_day < p_from THEN ' AND model_id = ANY ($1)' ELSE '' END"
    assert by_index in head
    cur.execute(head.replace(by_index, "''").replace("pgscore.create_log_partitions(", "public.bench_create_log_partitions_dayscan(", 1))
    moved = {"head": [], "day scan": []}
    for _ in range(args.backfill_rounds):
        for name, fn in (("head", "pgscore.create_log_partitions"), ("day scan", "public.bench_create_log_partitions_dayscan")):
            cur.execute("BEGIN")
            ms, got = timed(cur, f"SELECT {fn}(0)")
            assert got == [(args.days,)], got
            cur.execute("SELECT count(*) FROM pgscore.prediction_log_default")
            assert cur.fetchone() == (0,)
            cur.execute("ROLLBACK")
            moved[name].append(ms)
    for name, ms in moved.items():
        report(f"backfill of {args.days} days: {name}", ms)
    conn.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows in the default partition (at most 2,000,000)")
    ap.add_argument("--days", type=int, default=30, help="past days they are spread over (1..366)")
    ap.add_argument("--models", type=int, default=5, help="model_ids they are spread over (1..100)")
    ap.add_argument("--rounds", type=int, default=5, help="turns of each measurement (1..20)")
    ap.add_argument("--calls", type=int, default=50, help="calls a turn on the empty default partition (1..1000)")
    ap.add_argument("--backfill-rounds", type=int, default=3, help="backfills of each, rolled back (1..5)")
    Cluster.add_arguments(ap)
    ap.add_argument("--keep-running", action="store_true", help="leave a cluster it started running")
    args = ap.parse_args()
    if not (1 <= args.rows <= 2_000_000 and 1 <= args.days <= 366 and 1 <= args.models <= 100
            and 1 <= args.rounds <= 20 and 1 <= args.calls <= 1000 and 1 <= args.backfill_rounds <= 5):
        ap.error("--rows 1..2,000,000, --days 1..366, --models 1..100, --rounds 1..20, --calls 1..1000, "
                 "--backfill-rounds 1..5")
    cluster = Cluster.from_args(ap, args)
    with cluster.started(args.keep_running):
        with bench.bench_database(lambda name: cluster.url(dbname=name), cluster.url()) as url:
            run(url, args)


if __name__ == "__main__":
    main()
