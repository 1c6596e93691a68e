"""The row path of a HistGradientBoosting model with native categories (categorical_features): compiled (since
session 68) against scored by scikit-learn (what every such model was before: `categorical_features do not
compile`), and against the same data one-hot into a compiled HistGradientBoosting.

`SELECT count(pgscore.score(model, features)) FROM sample` (float8[] rows, the query log off) for three models
trained on datasets.churn with four of its integer-coded columns as categories (contract, a 1-4 code, a 0-20
step, a 1-5 code), 100 iterations each: `native` deployed with compile=False (scored by scikit-learn, as before),
`native` compiled, and `onehot` (OneHotEncoder of those columns before the model, compiled). Each takes its turn,
the order reversed every other round; a rate a round, and the best.

    .venv/bin/python scripts/bench_categories.py [--rows 3000] [--rounds 2] [--data-dir DIR --port PORT]
                                                 [--keep-running]

Runs in a throwaway database of the cluster (the embedded one, or --data-dir/--port; started if need be, and
stopped at the end unless --keep-running), dropped at the end.
"""

from __future__ import annotations

import argparse
import time

import psycopg2

from pgscore import bench, datasets, registry
from pgscore.localdb import Cluster

CATS = [6, 8, 9, 11]


def setup(url, rows):
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    X, y, names = datasets.churn(5000, seed=1)
    native = HistGradientBoostingClassifier(categorical_features=CATS, max_iter=100, early_stopping=False,
                                            random_state=0).fit(X, y)
    onehot = make_pipeline(ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                                                CATS)], remainder="passthrough"),
                           HistGradientBoostingClassifier(max_iter=100, early_stopping=False, random_state=0)).fit(X, y)
    formats = {}
    for name, model, compile_ in (("before", native, False), ("native", native, True), ("onehot", onehot, True)):
        rec = registry.deploy(url, name, model, X, y, feature_names=names, compile=compile_)
        formats[name] = rec["engine"]
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        test, _, _ = datasets.churn(rows, seed=2)
        cur.execute("CREATE TABLE sample (id int PRIMARY KEY, features float8[])")
        cur.executemany("INSERT INTO sample VALUES (%s, %s)", [(i, [float(v) for v in r]) for i, r in enumerate(test)])
        cur.execute("VACUUM ANALYZE sample")
    return conn, formats


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=3000, help="rows scored per timing (at most 100,000)")
    ap.add_argument("--rounds", type=int, default=2, help="rounds of the three models (at most 10)")
    Cluster.add_arguments(ap)
    ap.add_argument("--keep-running", action="store_true",
                    help="leave the cluster running when it ends (default: stop it if this script started it)")
    args = ap.parse_args()
    if not 1 <= args.rows <= 100_000 or not 1 <= args.rounds <= 10:
        ap.error("--rows must be 1..100,000 and --rounds 1..10")
    cluster = Cluster.from_args(ap, args)
    with cluster.started(args.keep_running), \
            bench.bench_database(lambda name: cluster.url(dbname=name), cluster.url()) as url:
        conn, formats = setup(url, args.rows)
        cur = conn.cursor()
        cur.execute("SET pgscore.log_queries = off")

        def rate(model):
            cur.execute("SELECT count(pgscore.score(%s, features)) FROM sample WHERE id < 20", (model,))  # warm
            t = time.perf_counter()
            cur.execute("SELECT count(pgscore.score(%s, features)) FROM sample", (model,))
            return args.rows / (time.perf_counter() - t)

        got = bench.take_turns(["before", "native", "onehot"], args.rounds, rate)
        what = {"before": "native categories, scored by scikit-learn (before)", "native":
                "native categories, compiled", "onehot": "one-hot categories, compiled"}
        for model, rates in got.items():
            print(f"{what[model]:<52} " + "  ".join(f"{r:>9,.0f}" for r in rates) +
                  f"   best {max(rates):>9,.0f} rows/s  ({formats[model]})", flush=True)
        conn.close()


if __name__ == "__main__":
    main()
