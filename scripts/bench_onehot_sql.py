"""A linear model after one-hot encoders of words, scored by `predict_batch` (the log off and logged), `pgscore score`
and rescoring of a multi-row INSERT, against the same model's numbers alone (no encoder): trial T27's pipeline (three
numbers scaled, three word columns one-hot with handle_unknown='ignore', LogisticRegression). Since session 71 the
one-hot lookups are SQL too (compiled.score_sql); before, any one-hot model went through Python chunk by chunk.

    .venv/bin/python scripts/bench_onehot_sql.py [--rows 200000] [--events 20000] [--rounds 2] [--label L] \
        [--data-dir DIR --port PORT] [--keep] [--keep-running]

Each round runs every measurement once, the models taking turns (the order reversed every other round), and prints
the seconds and rows/s of each; a line per measurement at the end with every round's seconds. `--label` is printed
on each line (to take turns between two trees of the code: copy the older py_src/pgscore files in, run a round with
--label before, copy them out, run one with --label after; the backends import the package afresh). Runs in a
database of its own (pgscore_bench_onehot), made at the first run and kept with --keep (for the next label's run),
else dropped. A cluster it starts is stopped at its end (--keep-running leaves it running). Loopback only; at most
1,000,000 rows and 10 rounds.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import numpy as np
import psycopg2
from psycopg2 import sql

from pgscore import migrate, registry
from pgscore.localdb import Cluster

DB = "pgscore_bench_onehot"
REGIONS = ["east", "west", "north", "south", "centre", "o'brien's", "z\u00fcrich", ""]
PLANS = ["basic", "plus", "pro", "x'); DROP TABLE t; --", "back\\slash"]
TIERS = [f"tier {i}" for i in range(12)]
NUMS = ["a", "b", "c"]
WORDS = ["region", "plan", "tier"]


def data(n, seed):
    rng = np.random.default_rng(seed)
    X = np.empty((n, 6), dtype=object)
    X[:, :3] = rng.normal(size=(n, 3))
    for j, words in zip(range(3, 6), (REGIONS, PLANS, TIERS)):
        X[:, j] = rng.choice(words, n)
    z = X[:, 0].astype(float) + (X[:, 4] == "pro") - (X[:, 3] == "east")
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    return X, y


def setup(url, rows):
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    X, y = data(3000, 0)
    words = Pipeline([("ct", ColumnTransformer([("n", StandardScaler(), [0, 1, 2]),
                                                ("w", OneHotEncoder(handle_unknown="ignore"), [3, 4, 5])])),
                      ("lr", LogisticRegression())]).fit(X, y)
    numbers = Pipeline([("s", StandardScaler()), ("lr", LogisticRegression())]).fit(X[:, :3].astype(float), y)
    registry.deploy(url, "words", words, X, y, feature_names=NUMS + WORDS)
    registry.deploy(url, "numbers", numbers, X[:, :3].astype(float), y, feature_names=NUMS)
    conn = psycopg2.connect(url)
    conn.autocommit = True
    T, _ = data(rows, 1)
    with conn.cursor() as cur:
        for t in ("t_words", "t_numbers"):
            cur.execute(sql.SQL("CREATE TABLE {} (id int PRIMARY KEY, a float8, b float8, c float8, region text, "
                                "plan varchar(40), tier text, s float8, scored_at timestamptz)").format(sql.Identifier(t)))
            cur.execute(sql.SQL("INSERT INTO {} SELECT i, a, b, c, r, p, w FROM unnest(%s::int[], %s::float8[], "
                                "%s::float8[], %s::float8[], %s::text[], %s::text[], %s::text[]) "
                                "AS u(i, a, b, c, r, p, w)").format(sql.Identifier(t)),
                        (list(range(rows)), *[T[:, j].astype(float).tolist() for j in range(3)],
                         *[T[:, j].tolist() for j in range(3, 6)]))
            cur.execute(sql.SQL("CREATE TABLE {} (customer_id int)").format(sql.Identifier(f"e_{t}")))
            cur.execute("SELECT pgscore.attach_rescoring(%s, %s, 'customer_id', %s, 's', p_profile_key => 'id')",
                        (f"e_{t}", t, t[2:]))
            cur.execute(sql.SQL("VACUUM ANALYZE {}").format(sql.Identifier(t)))
    return conn


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200000, help="rows of each table (at most 1,000,000)")
    ap.add_argument("--events", type=int, default=20000, help="events of the multi-row INSERT (at most the rows)")
    ap.add_argument("--rounds", type=int, default=2, help="rounds (at most 10)")
    ap.add_argument("--label", default="", help="printed on every line (which tree of the code runs)")
    Cluster.add_arguments(ap)
    ap.add_argument("--keep", action="store_true", help="keep the database for another run (else dropped)")
    ap.add_argument("--keep-running", action="store_true", help="leave a cluster it started running")
    args = ap.parse_args()
    if not (0 < args.rows <= 1_000_000 and 0 < args.events <= args.rows and 0 < args.rounds <= 10):
        ap.error("--rows at most 1,000,000, --events at most --rows, --rounds at most 10")
    cluster = Cluster.from_args(ap, args)
    with cluster.started(args.keep_running):
        run(cluster, args)


def run(cluster, args):
    admin = psycopg2.connect(cluster.url("postgres"))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB,))
        made = cur.fetchone() is None
        if made:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB)))
    url = cluster.url(DB)
    if made:
        migrate.upgrade(url)
        conn = setup(url, args.rows)
    else:
        conn = psycopg2.connect(url)
        conn.autocommit = True
    env = dict(os.environ, PGSCORE_DATABASE_URL=url)

    def query_of(cur, m):  # predict_batch's query text: the table's columns the model reads, and its key first
        names = ["id", *NUMS, *(WORDS if m == "words" else [])]
        return sql.SQL("SELECT {} FROM {}").format(sql.SQL(", ").join(map(sql.Identifier, names)),
                                                   sql.Identifier(f"t_{m}")).as_string(cur)

    steps = {
        "predict_batch, log off": lambda cur, m: cur.execute(
            "SELECT count(*) FROM pgscore.predict_batch(%s, %s, p_log => false)",
            (m, query_of(cur, m))),
        "predict_batch, logged": lambda cur, m: cur.execute(
            "SELECT count(*) FROM pgscore.predict_batch(%s, %s, p_log => true)",
            (m, query_of(cur, m))),
        "pgscore score --no-log": lambda cur, m: subprocess.run(
            [sys.executable, "-m", "pgscore.cli", "score", "--model", m, "--table", f"t_{m}", "--key", "id", "--into",
             "s", "--no-log", "--quiet"], env=env, check=True, stdout=subprocess.DEVNULL),
        f"rescoring, INSERT of {args.events} events": lambda cur, m: cur.execute(
            sql.SQL("INSERT INTO {} SELECT i FROM generate_series(0, %s) AS i").format(sql.Identifier(f"e_t_{m}")),
            (args.events - 1,)),
    }
    times = {}
    try:
        for r in range(args.rounds):
            for name, step in steps.items():
                for m in (("words", "numbers") if r % 2 == 0 else ("numbers", "words")):
                    with conn.cursor() as cur:
                        cur.execute("TRUNCATE pgscore.prediction_log") if "logged" in name else None
                        t0 = time.perf_counter()
                        step(cur, m)
                        dt = time.perf_counter() - t0
                    n = args.events if name.startswith("rescoring") else args.rows
                    times.setdefault((name, m), []).append(dt)
                    print(f"{args.label} round {r + 1} {name} {m}: {dt:.3f} s, {n / dt:,.0f} rows/s", flush=True)
        print(f"== {args.label} {args.rows} rows, {args.rounds} rounds (seconds each round)")
        for (name, m), ts in times.items():
            print(f"{args.label} {name:40s} {m:8s} " + " ".join(f"{t:.3f}" for t in ts))
    finally:
        conn.close()
        if not args.keep:
            with admin.cursor() as cur:
                cur.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(DB)))
        admin.close()


if __name__ == "__main__":
    main()
