"""predict_batch's bound test (session 51: a finite value a scaler makes infinite is refused) against forms of it
that were tried instead, taking turns, as the backend's CPU time.

The benchmark's logistic pipeline (`pgscore bench`'s: two bounded features, complaints_30d and late_payments) over
--rows rows of its data, with a float8[] and with a column per feature. Each variant is predict_batch's own
statement (pgscore.batch_sql's, p_log => false) with another expression for z, run by a PL/pgSQL function that
returns it as predict_batch does (RETURN QUERY EXECUTE); `predict_batch` is the function itself, at head:

- before: no bound test (the code before session 51);
- head: score_sql's test, GREATEST(abs(x)) over the bounded features against the bound nearest 0;
- fold: no test; each bounded term computed as ((x * P) - centre * P) * (slope / P), P the power of 2 at or above
  float64's largest over the feature's nearest bound: the same float (scaling by a power of 2 is exact) and
  x * P raises 22003 past max / P. Rejected: max / P is up to 2x below the bound, so values scikit-learn scores
  (the largest one it takes among them) raise in predict_batch, which cannot take back the rows it returned;
- abs_or: abs(x) > T OR ... instead of GREATEST; or_cmp: x > T OR x < -T OR ...;
- nullif: x replaced by NULLIF(LEAST(x, H), H) (and GREATEST for the low bound), H the next float past the
  bound: exact, but NULLIF names an unqualified = (the caller's search_path).

Every variant's scores are checked against head's over the first 20,000 rows before the timings.

    .venv/bin/python scripts/bench_bound.py [--rows 1000000] [--rounds 4] [--variants before,head,fold]
                                            [--data-dir DIR --port PORT] [--keep-running]

Runs in the throwaway database `pgscore_bench` (dropped at the end): not while `pgscore bench` runs.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import statistics
import sys

import numpy as np

from pgscore import bench, registry
from pgscore.compiled import compile_estimator
from pgscore.localdb import Cluster

VARIANTS = ("predict_batch", "before", "head", "fold", "abs_or", "or_cmp", "nullif")
F8 = "::pg_catalog.float8"
RETURN_QUERY = ("CREATE FUNCTION bench_bound(stmt text, v integer) RETURNS TABLE (key text, score float8) "
                "LANGUAGE plpgsql AS $$ BEGIN RETURN QUERY EXECUTE stmt USING 'logit'::text, v; END $$")


def lit(v):
    return f"'{v!r}'{F8}"


def op(symbol):
    return f"OPERATOR(pg_catalog.{symbol})"


def variant_z(variant, est, n, items):
    """z for `variant` over the SQL expressions `items` (the model has no feature that may be NaN)."""
    ev = compile_estimator(est, "binary", n)
    if variant == "head":
        return ev.score_sql(items)[0]
    lo, hi = ev._far[:2]
    bounded = [j for j in range(n) if math.isfinite(lo[j]) or math.isfinite(hi[j])]
    assert bounded and not ev._drop_chk and not any(ok[0] for ok in ev._ok)
    terms = {j: (ctr, s) for j, ctr, s in zip(ev._src_l, ev._ctr_l, ev._S_l[0])}
    ev._far = None
    if variant == "nullif":
        xs = list(items)
        for j in bounded:
            x = f"({items[j]})"
            if math.isfinite(hi[j]):
                h = lit(float(np.nextafter(hi[j], np.inf)))
                x = f"NULLIF(LEAST({x}, {h}), {h})"
            if math.isfinite(lo[j]):
                low = lit(float(np.nextafter(lo[j], -np.inf)))
                x = f"NULLIF(GREATEST({x}, {low}), {low})"
            xs[j] = x
        return ev.score_sql(xs)[0]
    z = ev.score_sql(items)[0]
    t = min(min(-lo[j], hi[j]) for j in bounded)
    if variant == "fold":
        for j in bounded:
            ctr, s = terms[j]
            p = 2.0 ** math.ceil(math.log2(sys.float_info.max / min(-lo[j], hi[j])))
            assert sys.float_info.max / p <= min(-lo[j], hi[j]) and math.isfinite(ctr * p) and s / p * p == s
            x = f"({items[j]})"
            plain = f"(({x} {op('-')} {lit(ctr)}) {op('*')} {lit(s)})"
            assert z.count(plain) == 1
            z = z.replace(plain, f"((({x} {op('*')} {lit(p)}) {op('-')} {lit(ctr * p)}) {op('*')} {lit(s / p)})")
        return z
    if variant == "abs_or":
        past = " OR ".join(f"pg_catalog.abs(({items[j]})) {op('>')} {lit(t)}" for j in bounded)
    elif variant == "or_cmp":
        past = " OR ".join(f"({items[j]}) {op('>')} {lit(t)} OR ({items[j]}) {op('<')} {lit(-t)}" for j in bounded)
    else:
        assert variant == "before"
        return z
    return f"(CASE WHEN {past} THEN 'NaN'{F8} ELSE {z} END)"


def load(url, rows):
    """The benchmark's logistic pipeline deployed as `logit`, and `customers` as `pgscore bench` makes it."""
    import psycopg2
    from psycopg2 import sql

    X, y, names, models = bench._models(False, which=("logit",))
    registry.deploy(url, "logit", models["logit"], X[:5000], y[:5000], feature_names=names)
    data = X[np.random.default_rng(1).integers(0, len(X), rows)]
    buf = io.StringIO()
    for i, r in enumerate(data):
        buf.write(f"{i}\t{{{','.join(repr(float(v)) for v in r)}}}\t" + "\t".join(repr(float(v)) for v in r)
                  + "\t\\N\n")
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cols = sql.SQL(", ").join(sql.SQL("{} float8").format(sql.Identifier(n)) for n in names)
        cur.execute(sql.SQL("CREATE TABLE customers (id int PRIMARY KEY, features float8[], {}, score float8)")
                    .format(cols))
        buf.seek(0)
        cur.copy_expert("COPY customers FROM STDIN", buf)
        cur.execute("VACUUM ANALYZE customers")
    return conn, models["logit"], names


def measure(conn, est, names, variants, rounds):
    from psycopg2 import sql

    cur = conn.cursor()
    cur.execute(RETURN_QUERY)
    cur.execute("SELECT pg_catalog.pg_backend_pid()")
    pid, tick = cur.fetchone()[0], os.sysconf("SC_CLK_TCK")

    def cpu():
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / tick

    queries = {"float8[]": sql.SQL("SELECT id, features FROM customers").as_string(conn),
               "a column per feature": sql.SQL("SELECT id, {} FROM customers").format(
                   sql.SQL(", ").join(map(sql.Identifier, names))).as_string(conn)}
    def quote_ident(name):  # as PostgreSQL's quote_ident (feature_items' quoting)
        cur.execute("SELECT pg_catalog.quote_ident(%s)", (name,))
        return cur.fetchone()[0]

    runs = {}
    for form, query in queries.items():
        cur.execute("SELECT b.statement, b.version FROM pgscore.batch_sql('logit', %s, NULL, 10000, false, "
                    "pg_catalog.current_setting('search_path')) AS b", (query,))
        statement, version = cur.fetchone()
        items = ([f"r.features[{j + 1}]" for j in range(len(names))] if form == "float8[]" else
                 [f"coalesce(r.{quote_ident(n)}::pg_catalog.float8, 'NaN'::pg_catalog.float8)" for n in names])
        head = variant_z("head", est, len(names), items)
        assert statement.count(head) == 1, f"{form}: batch_sql's statement is not score_sql's z over these items"
        for v in variants:
            if v == "predict_batch":
                runs[(form, v)] = ("SELECT count(*), sum(s.score) FROM pgscore.predict_batch('logit', %s, "
                                   "p_log => false) AS s", (query,))
            else:
                runs[(form, v)] = ("SELECT count(*), sum(s.score) FROM bench_bound(%s, %s) AS s",
                                   (statement.replace(head, variant_z(v, est, len(names), items)), version))
    for (form, v), (q, args) in runs.items():  # the same scores as head's
        cur.execute(q.replace("AS s", "AS s WHERE s.key::pg_catalog.int4 < 20000"), args)
        got = cur.fetchone()
        ref = runs[(form, "head")] if (form, "head") in runs else None
        if ref is not None:
            cur.execute(ref[0].replace("AS s", "AS s WHERE s.key::pg_catalog.int4 < 20000"), ref[1])
            assert got == cur.fetchone(), (form, v)
    rates = {k: [] for k in runs}
    keys = list(runs)
    for r in range(rounds):
        for k in (keys if r % 2 == 0 else keys[::-1]):
            c = cpu()
            cur.execute(*runs[k])
            n = cur.fetchone()[0]
            rates[k].append(n / max(cpu() - c, 1 / tick))
    print(f"rows/s of backend CPU, median of {rounds} rounds taking turns (each round's in brackets)")
    for (form, v), rs in rates.items():
        print(f"  {form:<22} {v:<14} {statistics.median(rs):>12,.0f}   [{', '.join(f'{x:,.0f}' for x in rs)}]")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows of customers (at most 1,000,000)")
    ap.add_argument("--rounds", type=int, default=4, help="rounds taking turns (at most 10)")
    ap.add_argument("--variants", default=",".join(VARIANTS), help=f"of {', '.join(VARIANTS)}")
    Cluster.add_arguments(ap)
    ap.add_argument("--keep-running", action="store_true", help="leave a cluster it started running")
    args = ap.parse_args()
    variants = args.variants.split(",")
    if not 10_000 <= args.rows <= 1_000_000 or not 1 <= args.rounds <= 10 or not set(variants) <= set(VARIANTS):
        ap.error(f"--rows must be 10,000..1,000,000, --rounds 1..10, --variants of {', '.join(VARIANTS)}")
    if "head" not in variants:
        variants.append("head")
    cluster = Cluster.from_args(ap, args)
    with cluster.started(args.keep_running):
        with bench.bench_database(lambda name: cluster.url(dbname=name), cluster.url()) as url:
            conn, est, names = load(url, args.rows)
            try:
                measure(conn, est, names, variants, args.rounds)
            finally:
                conn.close()


if __name__ == "__main__":
    main()
