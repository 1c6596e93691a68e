"""The row path's per-call costs that are not the model: PostgreSQL's function-level SET clause, and plans
prepared under one search_path and run under another.

- `set_clause` (migration 0019): `SELECT count(pgscore.score('logit', features))` over a table, with and
  without a `SET search_path = pg_catalog, pg_temp` clause put back on pgscore.score(text, float8[],
  integer, text) for the timing, against a PL/Python function that takes the same arguments and returns a
  constant; the three take turns, the order reversed every other round; best of the rounds.
- `switch`: one-row `SELECT pgscore.score(...)` statements in one session, alone and each after a one-row
  `pgscore.predict_batch` (which runs with a fixed search_path), medians of 2,000 statements: what a
  session that mixes the two pays at each switch.

    .venv/bin/python scripts/bench_rowpath.py [--rows 100000] [--rounds 4] [--log off|all] [--statements 2000]
                                              [--data-dir DIR --port PORT]

Runs in a throwaway database of the cluster (the embedded one, or --data-dir/--port; started if need be, and
stopped at the end unless --keep-running), dropped at the end.
"""

from __future__ import annotations

import argparse
import statistics
import time

import psycopg2

from pgscore import bench, datasets, registry
from pgscore.localdb import Cluster

SIGNATURE = "pgscore.score(text, float8[], integer, text)"
ROW = "ARRAY[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2]::float8[]"


def setup(url, rows):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y, names = datasets.churn(5000, seed=1)
    registry.deploy(url, "logit", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y),
                    X, y, feature_names=names)
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE sample AS SELECT g AS id, (SELECT array_agg(random()) FROM generate_series(1, 12) "
                    "WHERE g > 0) AS features FROM generate_series(1, %s) AS g", (rows,))
        cur.execute("VACUUM ANALYZE sample")
        cur.execute("CREATE FUNCTION empty_call(m text, f float8[]) RETURNS float8 LANGUAGE plpython3u "
                    "AS $$ return 0.5 $$")
    return conn


def set_clause(conn, rows, rounds, log):
    cur = conn.cursor()
    cur.execute("SELECT set_config('pgscore.log_queries', %s, false)", (log,))

    def rate(way):
        if way != "empty":
            cur.execute(f"ALTER FUNCTION {SIGNATURE} " +
                        ("SET search_path = pg_catalog, pg_temp" if way == "with SET" else "RESET search_path"))
        fn = "empty_call" if way == "empty" else "pgscore.score"
        cur.execute(f"SELECT count({fn}('logit', features)) FROM sample WHERE id <= 100")  # warm
        t = time.perf_counter()
        cur.execute(f"SELECT count({fn}('logit', features)) FROM sample")
        return rows / (time.perf_counter() - t)

    try:
        got = bench.take_turns(["empty", "with SET", "without"], rounds, rate)
    finally:
        cur.execute(f"ALTER FUNCTION {SIGNATURE} RESET search_path")
    empty = max(got["empty"])
    for way, rates in got.items():
        print(f"row path, log {log:<4} {way:<9} " + "  ".join(f"{r:>9,.0f}" for r in rates) +
              f"   best {max(rates):>9,.0f} rows/s  {empty / max(rates):.2f}x the empty call", flush=True)


def switch(conn, statements=2000):
    cur = conn.cursor()
    cur.execute("SET pgscore.log_queries = off")
    one = f"SELECT pgscore.score('logit', {ROW})"
    batch = f"SELECT count(*) FROM pgscore.predict_batch('logit', 'SELECT 1 AS id, {ROW} AS features', p_log => false)"

    def median_us(before):
        times = []
        for _ in range(statements):
            if before:
                cur.execute(before)
                cur.fetchall()
            t = time.perf_counter()
            cur.execute(one)
            cur.fetchall()
            times.append(time.perf_counter() - t)
        return statistics.median(times) * 1e6

    for _ in range(3):
        print(f"one-row score: alone {median_us(None):.0f} us, after a one-row predict_batch "
              f"{median_us(batch):.0f} us (medians of {statements})", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000, help="rows scored per timing (at most 1,000,000)")
    ap.add_argument("--rounds", type=int, default=4, help="rounds of the three ways (at most 10)")
    ap.add_argument("--log", choices=["off", "all"], default="off", help="the query log's setting (default: off)")
    ap.add_argument("--statements", type=int, default=2000,
                    help="one-row statements per median of the switch timing (at most 20,000)")
    Cluster.add_arguments(ap)
    ap.add_argument("--keep-running", action="store_true",
                    help="leave the cluster running when it ends (default: stop it if this script started it)")
    args = ap.parse_args()
    if not 1 <= args.rows <= 1_000_000 or not 1 <= args.rounds <= 10 or not 1 <= args.statements <= 20_000:
        ap.error("--rows must be 1..1,000,000, --rounds 1..10 and --statements 1..20,000")
    cluster = Cluster.from_args(ap, args)
    with cluster.started(args.keep_running), \
            bench.bench_database(lambda name: cluster.url(dbname=name), cluster.url()) as url:
        conn = setup(url, args.rows)
        set_clause(conn, args.rows, args.rounds, args.log)
        switch(conn, args.statements)
        conn.close()


if __name__ == "__main__":
    main()
