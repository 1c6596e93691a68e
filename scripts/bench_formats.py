"""How numbers cross between PostgreSQL and PL/Python, each way measured against the one before it on the
same code: a new backend that finds no such function falls back.

- `--compare float8_image` (migration 0012): features into PL/Python as the float8[]'s own bytes,
  against array_send;
- `--compare float8_array` (migration 0013): numbers out of PL/Python (audit rows' features and scores,
  scores returned or written back) as raw doubles, against a float8[] literal.

float8_image is renamed away while the fallback's session looks for it (float8_array calls it); for
float8_array's, the schema is downgraded to 0012
(predict_batch itself calls float8_array from 0013 on) and upgraded again after the timing.

    .venv/bin/python scripts/bench_formats.py [--compare float8_array] [--rows 1000000] [--rounds 3] \
        [--data-dir DIR --port PORT]

The features are random doubles (17 significant digits), the costliest kind of number to parse;
`pgscore bench`'s churn data has 9 integer-valued features of 12.

Runs in a throwaway database of the cluster (the embedded one, or --data-dir/--port; started if need be, and
stopped at the end unless --keep-running), dropped at the end; each
timing is a new session (warmed by a 10-row call), the two ways taking turns, the order reversed every
other round. Prints rows/s of each round and the median.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import psycopg2

from pgscore import bench, migrate, registry
from pgscore.localdb import Cluster

NAMES = [f"a{i}" for i in range(1, 13)]
QUERY = "SELECT id, " + ", ".join(NAMES) + " FROM t"
ROW_PATH = ("SELECT sum(pgscore.score('logit', ARRAY[" + ", ".join(NAMES) + "])) FROM (SELECT * FROM t "
            "ORDER BY id LIMIT {n}) s")
COMPARISONS = {  # function: (its signature, the fallback's name, {case: (SQL, rows it scores at most)})
    "float8_image": ("float8[]", "array_send", {
        "logit: predict_batch, log off": ("SELECT count(*) FROM pgscore.predict_batch('logit', $q${q}$q$, "
                                          "p_log => false)", None),
        "hgb: predict_batch, log off": ("SELECT count(*) FROM pgscore.predict_batch('hgb', $q${q}$q$, "
                                        "p_log => false)", None),
        "hgb: score_table, not logged": ("CALL pgscore.score_table('hgb', 't', 'id', 's', p_log => false)", None),
    }),
    "float8_array": ("bytea", "literal", {
        "logit: row path, every prediction logged": (ROW_PATH, 100_000),
        "logit: predict_batch, log off": ("SELECT count(*) FROM pgscore.predict_batch('logit', $q${q}$q$, "
                                          "p_log => false)", None),
        "logit: predict_batch, log on": ("SELECT count(*) FROM pgscore.predict_batch('logit', $q${q}$q$)", None),
        "hgb: predict_batch, log on": ("SELECT count(*) FROM pgscore.predict_batch('hgb', $q${q}$q$)", None),
        "hgb: score_table, logged": ("CALL pgscore.score_table('hgb', 't', 'id', 's')", None),
    }),
}


def setup(url, rows):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    X = rng.random((5000, 12))
    y = (X[:, 0] + X[:, 1] + rng.normal(0, 0.3, 5000) > 1).astype(int)
    for name, est in (("logit", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))),
                      ("hgb", HistGradientBoostingClassifier(max_iter=100))):
        registry.deploy(url, name, est.fit(X, y), X, y, feature_names=NAMES)
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE t AS SELECT g AS id, " + ", ".join(f"random() AS {n}" for n in NAMES) +
                    " FROM generate_series(1, %s) AS g", (rows,))
        cur.execute("ALTER TABLE t ADD PRIMARY KEY (id), ADD COLUMN s float8")
    conn.close()
    conn = psycopg2.connect(url)
    conn.autocommit = True
    conn.cursor().execute("VACUUM ANALYZE t")
    conn.close()


def timed(url, function, way, sql) -> float:
    signature = COMPARISONS[function][0]
    admin = psycopg2.connect(url)
    admin.autocommit = True
    off = way != function
    if off and function == "float8_array":
        migrate.downgrade(url, "0012")
    try:
        conn = psycopg2.connect(url)  # a new backend: it looks for the function once
        conn.autocommit = True
        with conn.cursor() as cur:
            if off and function == "float8_image":
                # hidden only while this backend looks for it: float8_array (0013 on), which predict_batch
                # calls, calls float8_image itself, and failed without it (42883) where it stayed renamed
                admin.cursor().execute(f"ALTER FUNCTION pgscore.{function}({signature}) RENAME TO {function}_off")
                try:
                    for m in ("logit", "hgb"):  # batch_chunks reads features through Python, unlike float8_array
                        cur.execute("SELECT count(*) FROM pgscore.batch_chunks(%s, %s, NULL, 10, false, "
                                    "pg_catalog.current_setting('search_path'))", (m, QUERY + " LIMIT 10"))
                finally:
                    admin.cursor().execute(f"ALTER FUNCTION pgscore.{function}_off({signature}) RENAME TO {function}")
            for m in ("logit", "hgb"):
                cur.execute(f"SELECT count(*) FROM pgscore.predict_batch('{m}', $q${QUERY} LIMIT 10$q$, p_log => false)")
            t = time.perf_counter()
            cur.execute(sql)
            elapsed = time.perf_counter() - t
        conn.close()
    finally:
        if off and function == "float8_array":
            migrate.upgrade(url, "head", check_environment=False)
    admin.close()
    return elapsed


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--compare", choices=sorted(COMPARISONS), default="float8_array",
                    help="which function to measure against its fallback (default: float8_array)")
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows in the scored table (at most 5,000,000)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of every case both ways (at most 10)")
    Cluster.add_arguments(ap)
    ap.add_argument("--keep-running", action="store_true",
                    help="leave the cluster running when it ends (default: stop it if this script started it)")
    args = ap.parse_args()
    if not 1 <= args.rows <= 5_000_000 or not 1 <= args.rounds <= 10:
        ap.error("--rows must be 1..5,000,000 and --rounds 1..10")
    cluster = Cluster.from_args(ap, args)
    with cluster.started(args.keep_running), \
            bench.bench_database(lambda name: cluster.url(dbname=name), cluster.url()) as url:
        setup(url, args.rows)
        _, fallback, cases = COMPARISONS[args.compare]
        for case, (sql, most) in cases.items():
            n = min(args.rows, most or args.rows)
            got = bench.take_turns([args.compare, fallback], args.rounds,
                                   lambda way, sql=sql.format(q=QUERY, n=n): n / timed(url, args.compare, way, sql))
            for way, rates in got.items():
                print(f"{case:<42} {way:<13} " + "  ".join(f"{r:>9,.0f}" for r in rates) +
                      f"   median {np.median(rates):>9,.0f} rows/s", flush=True)


if __name__ == "__main__":
    main()
