"""record_outcome with the day's log partition never analysed and then analysed, 0115's against this checkout's
(migration 0116_outcome_lookup), A/B in one run. A fresh database in the cluster: the churn model deployed, a
table of --rows customers scored --passes times by pgscore.score_table into today's log partition (autovacuum off
on that partition, so that it stays never analysed, as it is when a nightly outcome job runs right after the
nightly scoring, before autovacuum's analyse), then for each state, never analysed and after `ANALYZE
pgscore.prediction_log`: --keys outcomes a turn by 0115's record_outcome (made from the 0116 downgrade's text, in
a schema of its own) and by the installed one, in one statement each (`SELECT count(rec('churn', id::text, 1))
FROM generate_series(...)`), for keys no outcome names yet; the two take turns, the order reversed every other
round. Prints ms a call, each turn and the median. Loopback only, bounded: at most 50,000 rows, 5 passes, 1,000
keys a turn, 4 rounds.

    .venv/bin/python scripts/bench_outcome_lookup.py [--data-dir DIR --port PORT] [--rows 20000] [--passes 5] \
        [--keys 300] [--rounds 2]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import psycopg2
from psycopg2 import sql
from psycopg2.extras import execute_values

from pgscore import bench, datasets, registry
from pgscore.localdb import Cluster

ROOT = Path(__file__).resolve().parent.parent
DOWNGRADE = ROOT / "migrations/versions/0116_outcome_lookup/downgrade.sql"
BEFORE = "pgscore_bench_0115"  # the schema of 0115's record_outcome


def before_function(conn) -> str:
    """0115's record_outcome(text, text, text, timestamptz), from the 0116 downgrade, made in BEFORE."""
    text = DOWNGRADE.read_text()
    start = text.index("CREATE OR REPLACE FUNCTION pgscore.record_outcome(p_model text, p_entity_key text,")
    end = text.index("$fn$;\n", start) + len("$fn$;\n")
    return text[start:end].replace("pgscore.record_outcome(",
                                     sql.Identifier(BEFORE, "record_outcome").as_string(conn) + "(", 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    Cluster.add_arguments(ap)
    ap.add_argument("--rows", type=int, default=20_000, help="customers scored each pass (1,000..50,000)")
    ap.add_argument("--passes", type=int, default=5, help="score_table runs over them (1..5)")
    ap.add_argument("--keys", type=int, default=300, help="outcomes a turn (10..1,000)")
    ap.add_argument("--rounds", type=int, default=2, help="rounds of both a state (1..4)")
    ap.add_argument("--keep-running", action="store_true", help="leave the cluster running when it ends")
    args = ap.parse_args()
    if not (1000 <= args.rows <= 50_000 and 1 <= args.passes <= 5 and 10 <= args.keys <= 1000
            and 1 <= args.rounds <= 4 and 2 * 2 * args.rounds * args.keys <= args.rows):
        ap.error("--rows 1,000..50,000, --passes 1..5, --keys 10..1,000, --rounds 1..4, "
                 "and 4 x rounds x keys at most --rows (each outcome a key of its own)")
    cluster = Cluster.from_args(ap, args)
    with cluster.started(args.keep_running), \
            bench.bench_database(lambda name: cluster.url(dbname=name), cluster.url()) as url:
        measure(url, args)


def measure(url, args):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y, names = datasets.churn(args.rows, seed=3)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)
    registry.deploy(url, "churn", model, X[:5000], y[:5000], feature_names=names)
    conn = psycopg2.connect(url)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute(sql.SQL("CREATE TABLE public.customers (id bigint PRIMARY KEY, {}, score float8)").format(
        sql.SQL(", ").join(sql.SQL("{} float8").format(sql.Identifier(n)) for n in names)))
    execute_values(cur, sql.SQL("INSERT INTO public.customers (id, {}) VALUES %s").format(
        sql.SQL(", ").join(map(sql.Identifier, names))).as_string(conn),
        [(i + 1, *map(float, row)) for i, row in enumerate(X)])
    cur.execute("SELECT pgscore.create_log_partitions()")
    cur.execute("SELECT c.oid, c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'pgscore.prediction_log'::regclass "
                "AND c.relname = 'prediction_log_' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD')")
    (part, name), = cur.fetchall()
    cur.execute(sql.SQL("ALTER TABLE {} SET (autovacuum_enabled = off)").format(sql.Identifier("pgscore", name)))
    t = time.perf_counter()
    for _ in range(args.passes):
        cur.execute("CALL pgscore.score_table('churn', 'public.customers', 'id', 'score')")
    print(f"score_table x{args.passes} of {args.rows:,} rows: {time.perf_counter() - t:.1f} s")
    cur.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(BEFORE)))
    cur.execute(before_function(conn))
    recs = {"0115": sql.Identifier(BEFORE, "record_outcome"), "0116": sql.Identifier("pgscore", "record_outcome")}
    nxt = [0]

    def turn(kind):
        first = nxt[0] + 1
        nxt[0] += args.keys
        stmt = sql.SQL("SELECT count({}('churn', g::text, '1')) FROM generate_series(%s, %s) g").format(recs[kind])
        t = time.perf_counter()
        cur.execute(stmt, (first, nxt[0]))
        return (time.perf_counter() - t) * 1e3 / args.keys

    for state in ("never analysed", "analysed"):
        if state == "analysed":
            t = time.perf_counter()
            cur.execute("ANALYZE pgscore.prediction_log")
            print(f"ANALYZE pgscore.prediction_log: {(time.perf_counter() - t) * 1e3:.0f} ms")
        cur.execute("SELECT n_live_tup, n_mod_since_analyze, coalesce(last_analyze, last_autoanalyze) IS NOT NULL "
                    "FROM pg_stat_user_tables WHERE relid = %s", (part,))
        live, mod, analysed = cur.fetchone()
        print(f"{name}: {live:,} rows, n_mod_since_analyze {mod:,}, analysed: {analysed}")
        got = bench.take_turns(["0115", "0116"], args.rounds, turn)
        for kind, runs in got.items():
            print(f"  record_outcome of {kind}, {args.keys} outcomes a turn: ms a call, median "
                  f"{statistics.median(runs):.3f}; turns " + " ".join(f"{r:.3f}" for r in runs), flush=True)
    cur.execute("SELECT count(*), count(*) FILTER (WHERE judged_model_id IS NOT NULL) FROM pgscore.outcomes")
    n, matched = cur.fetchone()
    print(f"outcomes recorded: {n:,}, each judging a prediction: {matched == n}")
    conn.close()


if __name__ == "__main__":
    main()
