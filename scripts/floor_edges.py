"""How often no-drift windows cross pgscore.noise_floor's PSI and JS floors over skewed baselines (a dominant bin,
bins of 0.002-0.01: rare categories, where a bin expects under one value in the window), by a seeded simulation.

Each cell: ten bins of the shares below, a window of --n values, a baseline of m values (exact: its shares are
the true ones; else the true shares Dirichlet(m e), as 0092 measured), the window multinomial over the true
shares; PSI and JS computed exactly as pgscore.drift_stats_of does (every baseline bin counted, the window's
shares over its valid values, PSI's shares floored at 1e-4, JS the Jensen-Shannon distance in base 2); the floor
from pgscore.noise_floor at confidence 0.999 and 0.999^(1/13) (12 features and a score). Prints, per cell, the
floor, the simulated quantile at the confidence, floor / quantile, the windows over the floor and that count over
what the confidence allows (`rate`): over 1.5 is flagged `OVER`, a floor over 1.25 times the quantile `cons`.

    .venv/bin/python scripts/floor_edges.py [--windows 200000] [--n 100 300 1000] [--metric psi js]
                                            [--seed 96] [--dsn URL]

Runs in a throwaway cluster of its own (a free port, loopback, removed at the end) at the head migration, or
against --dsn (a database holding the pgscore schema). About a minute at the defaults.
"""

from __future__ import annotations

import argparse

import numpy as np
import psycopg2

EPS = 1e-4
CONFIDENCES = (("0.999", 0.999), ("0.999^(1/13)", 0.999 ** (1 / 13)))
SHARES = {
    # 0094's case: one dominant bin
    "0.82+9x0.02": [0.82] + [0.02] * 9,
    # a dominant bin and bins of 0.002-0.03
    "0.9,0.03..0.002": [0.9, 0.03, 0.02, 0.01, 0.01, 0.01, 0.008, 0.006, 0.004, 0.002],
    # a very dominant bin, the rest 0.002-0.01
    "0.96,0.01..0.002": [0.96, 0.01, 0.006, 0.006, 0.004, 0.004, 0.004, 0.002, 0.002, 0.002],
    # three common categories, seven rare ones
    "0.5,0.3,0.15,0.01..0.002": [0.5, 0.3, 0.15, 0.01, 0.01, 0.01, 0.008, 0.006, 0.004, 0.002],
    # 0092's skewed shares, proportional to 1/j^2
    "1/j^2": list(1 / np.arange(1, 11) ** 2 / np.sum(1 / np.arange(1, 11) ** 2)),
    # equal shares, for what a change does away from the skewed ones (last: the cells above keep their draws)
    "10x0.1": [0.1] * 10,
}
BASES = (None, 2000, 10_000)


def psi_js(counts, e):
    """PSI and JS of windows (rows of bin counts) against the shares e, as drift_stats_of computes them."""
    c = counts / counts.sum(1, keepdims=True)
    psi = ((np.maximum(c, EPS) - np.maximum(e, EPS)) * np.log(np.maximum(c, EPS) / np.maximum(e, EPS))).sum(1)
    mid = (c + e) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        js = 0.5 * np.where(c > 0, c * np.log(c / mid), 0).sum(1) + 0.5 * (e * np.log(e / mid)).sum(1)
    return psi, np.sqrt(np.maximum(js, 0) / np.log(2))


def table(cur, windows, sizes, metrics, seed):
    """One row per cell: metric, shares, n, m, confidence, floor, quantile, windows over, rate over nominal."""
    rows = []
    rng = np.random.default_rng(seed)
    for name, shares in SHARES.items():
        e = np.asarray(shares, float)
        for n in sizes:
            for m in BASES:
                p = rng.dirichlet(m * e, windows) if m else np.broadcast_to(e, (windows, len(e)))
                psi, js = psi_js(rng.multinomial(n, p), e)
                for metric in metrics:
                    values = psi if metric == "psi" else js
                    for label, conf in CONFIDENCES:
                        cur.execute("SELECT pgscore.noise_floor(%s, %s, %s, %s, %s)", (metric, n, m, e.tolist(), conf))
                        (floor,), = cur.fetchall()
                        q = float(np.quantile(values, conf))
                        over = int((values > floor).sum())
                        rows.append((metric, name, n, m, label, floor, q, over, over / (windows * (1 - conf))))
    return rows


def report(rows, windows):
    print(f"{'metric':6} {'shares':26} {'n':>5} {'m':>6} {'confidence':13} {'floor':>8} {'quantile':>8} "
          f"{'f/q':>5} {'over':>5} {'rate':>5}")
    for metric, name, n, m, label, floor, q, over, rate in rows:
        flag = "OVER" if rate > 1.5 else "cons" if q > 0 and floor > 1.25 * q else ""
        print(f"{metric:6} {name:26} {n:5d} {m or 'exact':>6} {label:13} {floor:8.4f} {q:8.4f} "
              f"{floor / q if q > 0 else float('inf'):5.2f} {over:5d} {rate:5.2f} {flag}")
    for metric in sorted({r[0] for r in rows}):
        mine = [r for r in rows if r[0] == metric]
        high = [r for r in mine if r[8] > 1.5]
        cons = [r for r in mine if r[6] > 0 and r[5] > 1.25 * r[6]]
        print(f"{metric}: {len(mine)} cells of {windows:,} windows; {len(high)} over 1.5 times the nominal rate "
              f"(worst {max(r[8] for r in mine):.2f}), {len(cons)} with the floor over 1.25 times the quantile "
              f"(worst {max(r[5] / r[6] for r in mine if r[6] > 0):.2f})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--windows", type=int, default=200_000, help="no-drift windows per cell (10,000..1,000,000)")
    ap.add_argument("--n", type=int, nargs="+", default=[100, 300, 1000], help="window sizes (10..10,000)")
    ap.add_argument("--metric", nargs="+", choices=("psi", "js"), default=["psi", "js"])
    ap.add_argument("--seed", type=int, default=96, help="the numpy seed (one stream over the cells, in order)")
    ap.add_argument("--dsn", help="a database holding the pgscore schema (default: a throwaway cluster at head)")
    args = ap.parse_args()
    if not 10_000 <= args.windows <= 1_000_000 or not all(10 <= n <= 10_000 for n in args.n) or len(args.n) > 5:
        ap.error("--windows must be 10,000..1,000,000 and up to 5 sizes --n of 10..10,000")
    if args.dsn:
        conn = psycopg2.connect(args.dsn)
        try:
            rows = table(conn.cursor(), args.windows, args.n, args.metric, args.seed)
        finally:
            conn.close()
        report(rows, args.windows)
        return
    from pgscore import migrate
    from pgscore.localdb import scratch_database
    with scratch_database("floor_edges", "pgscore-floor-edges-") as url:
        print(f"schema {migrate.current(url)}; seed {args.seed}", flush=True)
        conn = psycopg2.connect(url)
        try:
            rows = table(conn.cursor(), args.windows, args.n, args.metric, args.seed)
        finally:
            conn.close()
    report(rows, args.windows)


if __name__ == "__main__":
    main()
