"""Features into PL/Python as the float8[]'s own bytes (pgscore.float8_image) against array_send, on the
same code: with the function renamed away, a new backend finds none and reads through array_send.

    .venv/bin/python scripts/bench_features_format.py [--rows 1000000] [--rounds 3]

Runs in a throwaway database of the embedded cluster (started if need be), dropped at the end; each
timing is a new session (warmed by a 10-row call), the two ways taking turns, the order reversed every
other round. Prints rows/s of each round and the median.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import psycopg2

from pgscore import bench, registry
from pgscore.localdb import Cluster

NAMES = [f"a{i}" for i in range(1, 13)]
QUERY = "SELECT id, " + ", ".join(NAMES) + " FROM t"
CASES = {
    "logit: predict_batch, log off": "SELECT count(*) FROM pgscore.predict_batch('logit', $q${q}$q$, p_log => false)",
    "hgb: predict_batch, log off": "SELECT count(*) FROM pgscore.predict_batch('hgb', $q${q}$q$, p_log => false)",
    "hgb: score_table, not logged": "CALL pgscore.score_table('hgb', 't', 'id', 's', p_log => false)",
}
OFF = "ALTER FUNCTION pgscore.float8_image(float8[]) RENAME TO float8_image_off"
ON = "ALTER FUNCTION pgscore.float8_image_off(float8[]) RENAME TO float8_image"


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


def timed(url, way, sql) -> float:
    admin = psycopg2.connect(url)
    admin.autocommit = True
    if way == "array_send":
        admin.cursor().execute(OFF)
    try:
        conn = psycopg2.connect(url)  # a new backend: it looks for float8_image once
        conn.autocommit = True
        with conn.cursor() as cur:
            for m in ("logit", "hgb"):
                cur.execute(f"SELECT count(*) FROM pgscore.predict_batch('{m}', $q${QUERY} LIMIT 10$q$, p_log => false)")
            t = time.perf_counter()
            cur.execute(sql)
            elapsed = time.perf_counter() - t
        conn.close()
    finally:
        if way == "array_send":
            admin.cursor().execute(ON)
        admin.close()
    return elapsed


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows in the scored table (at most 5,000,000)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of every case both ways (at most 10)")
    args = ap.parse_args()
    if not 1 <= args.rows <= 5_000_000 or not 1 <= args.rounds <= 10:
        ap.error("--rows must be 1..5,000,000 and --rounds 1..10")
    cluster = Cluster()
    cluster.start()
    with bench.bench_database(lambda name: cluster.url(dbname=name), cluster.url()) as url:
        setup(url, args.rows)
        for case, sql in CASES.items():
            got = bench.take_turns(["float8_image", "array_send"], args.rounds,
                                   lambda way, sql=sql.format(q=QUERY): args.rows / timed(url, way, sql))
            for way, rates in got.items():
                print(f"{case:<30} {way:<13} " + "  ".join(f"{r:>9,.0f}" for r in rates) +
                      f"   median {np.median(rates):>9,.0f} rows/s", flush=True)


if __name__ == "__main__":
    main()
