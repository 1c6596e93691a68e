"""What the go-live check of NULLs in a wired profile table (pgscore.wired_nulls, run by deploy, activate,
rollback and status) costs on a big profile table: --rows profiles of 12 float8 features, one of them NULL in 8%,
wired to a logistic model without an imputer; the check's wall time in a fresh connection (as the CLI makes one),
with the table ANALYZEd (pg_stats) and with a copy of it ANALYZE never saw (the first 10,000 rows read), taking
turns, --rounds rounds, medians and min-max. Loopback only, bounded: at most 5,000,000 rows and 20 rounds.

    .venv/bin/python scripts/wired_nulls_cost.py [--rows 1000000] [--rounds 5] [--data-dir DIR --port PORT]
"""

from __future__ import annotations

import argparse
import statistics
import time

import psycopg2
from psycopg2 import sql

from pgscore import migrate, registry, wired_nulls
from pgscore.localdb import Cluster

DB = "pgscore_bench_nulls"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="profiles (10,000..5,000,000)")
    ap.add_argument("--rounds", type=int, default=5, help="rounds (1..20)")
    Cluster.add_arguments(ap)
    ap.add_argument("--keep-running", action="store_true", help="leave the cluster running when it ends")
    args = ap.parse_args()
    if not (10_000 <= args.rows <= 5_000_000 and 1 <= args.rounds <= 20):
        ap.error("--rows 10,000..5,000,000, --rounds 1..20")
    cluster = Cluster.from_args(ap, args)
    with cluster.started(args.keep_running):
        admin = psycopg2.connect(cluster.url("postgres"))
        admin.autocommit = True
        a = admin.cursor()
        a.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB)))
        a.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB)))
        try:
            measure(cluster.url(DB), args)
        finally:
            a.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB)))
            admin.close()


def measure(url, args):
    from sklearn.linear_model import LogisticRegression

    from pgscore import datasets

    migrate.upgrade(url)
    X, y, names = datasets.churn(5_000, seed=7)
    conn = psycopg2.connect(url)
    conn.autocommit = True
    cur = conn.cursor()
    cols = sql.SQL(", ").join(sql.SQL("{} float8").format(sql.Identifier(n)) for n in names)
    values = sql.SQL(", ").join(
        sql.SQL("CASE WHEN mod(i, 100) < 8 THEN NULL ELSE random() END" if j == 3 else "random()") for j in range(len(names)))
    for table, analysed in (("analysed", True), ("never_analysed", False)):
        cur.execute(sql.SQL("CREATE TABLE {} (id bigint PRIMARY KEY, {}, s float8, scored_at timestamptz) "
                            "WITH (autovacuum_enabled = off); CREATE TABLE {} (cid bigint)").format(
            sql.Identifier(table), cols, sql.Identifier(table + "_ev")))
        cur.execute(sql.SQL("INSERT INTO {} SELECT i, {} FROM generate_series(1, %s) i").format(
            sql.Identifier(table), values), (args.rows,))
        if analysed:
            cur.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
        cur.execute("SELECT pg_catalog.pg_size_pretty(pg_catalog.pg_total_relation_size(%s::regclass))", (table,))
        print(f"{table}: {args.rows:,} rows, {cur.fetchone()[0]}", flush=True)
    for table in ("analysed", "never_analysed"):  # a model of its own for each, wired to the one table
        registry.deploy(url, table, LogisticRegression(max_iter=500).fit(X, y), X, y, feature_names=names)
        cur.execute("SELECT pgscore.attach_rescoring(%s, %s, 'cid', %s, 's', p_profile_key => 'id', "
                    "p_missing_profile => 'queue')",  # (the rows' NULLs alone: no created profile's warning)
                    (table + "_ev", table, table))
    res = {t: [] for t in ("analysed", "never_analysed")}
    for r in range(args.rounds):
        for t in (list(res) if r % 2 == 0 else list(res)[::-1]):
            start = time.perf_counter()
            with psycopg2.connect(url) as c:
                said = wired_nulls.warnings(c, t, 1)
            took = time.perf_counter() - start
            c.close()
            assert len(said) == 1 and names[3] in said[0], said
            res[t].append(took)
            print(f"round {r + 1}: {t}: {took * 1000:.0f} ms", flush=True)
    print(f"the check of one wiring over {args.rows:,} rows, a fresh connection each (connect, stats or sample, "
          "the compiled evaluator's nan_ok read where the role may, else one probe that loads the model):")
    for t, v in res.items():
        print(f"  {t:<15} median {statistics.median(v) * 1000:.0f} ms (min {min(v) * 1000:.0f}, "
              f"max {max(v) * 1000:.0f}) over {len(v)} rounds")
    print(f"  an example: {said[0]}")
    conn.close()


if __name__ == "__main__":
    main()
