"""How often rmse_rise (RMSE over the deploy RMSE, minus 1) crosses its noise floor on no drift at all, and how
often it passes it on a real rise: migration 0106's floor (sqrt(F_conf(n, n_holdout)) - 1, the MSE ratio under
normal errors, by Paulson's cube-root normal approximation, as pgscore.noise_floor computes it) and 0108's: the
same F at effective degrees of freedom n * 2 / (kappa - 1) and n_holdout * 2 / (kappa - 1) (Box and Andersen's
correction of the variance-ratio test; whole values rounded down, at least 1, as pgscore.performance_stats_of
passes them), kappa the errors' kurtosis about 0 (mean(e^4) / mean(e^2)^2) of the hold-out, as the deploy stores
it, and of the window pooled (Layard's: both samples' fourth and second moments summed), at least 3. The column
"hold-out" shows the same floor at the hold-out's kurtosis alone (at least 3), which was not kept: a hold-out of
100 rows underestimates heavy tails (its kurtosis is at most 100, mostly 4-7 for Student t at 3-5 df), and a
window whose MSE is high by a few large errors is the one whose kurtosis is high too, which only pooling sees.

Each trial draws a hold-out of n_holdout errors and a window of n errors from one distribution, centred, of
variance 1: normal, Student's t at 5 and 3 degrees of freedom (kurtosis 9 and infinite), Laplace (6) and a
centred lognormal of log-sd 0.5 (skewed, kurtosis 8.9), and takes rmse_rise = sqrt(mean(window^2) /
mean(holdout^2)) - 1. Prints, per cell, the share of no-drift trials over each floor as a multiple of the
nominal 1 - confidence, the median kurtosis and floors, and the share of windows whose errors' RMSE rose by 10%
and 25% (the window's errors scaled) over the floor, 0106 / 0108 (the power). --holdout 0 takes the deploy RMSE
as exact (1) and knows no kurtosis: 0108's floor is 0106's there. Numpy and scipy only, no database; bounded by
--trials (at most 200,000): about 20 s for the default grid at 20,000 on a busy shared 2-core machine.

    .venv/bin/python scripts/rmse_floor_noise.py [--trials 20000] [--holdout 100 1000] [--n 20 50 200 1000]
                                                 [--dist normal t5 t3 laplace lognormal] [--rises 0.1 0.25]
                                                 [--confidence 0.999]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.stats import norm

DISTS = ["normal", "t5", "t3", "laplace", "lognormal"]
LOGNORMAL_SD = 0.5


def paulson_f(conf, d1, d2):
    """F_conf(d1, d2) by Paulson's approximation (d2 None: chi-square_d1 / d1, Wilson-Hilferty), the quadratic in
    y = F^(1/3) solved for its upper root, at most F(infinity, d2)'s quantile, as noise_floor's rmse_rise (0106);
    d1, d2 arrays (or scalars) of whole degrees of freedom."""
    z = norm.ppf(conf)
    d1 = np.asarray(d1, dtype=float)
    c1 = 2.0 / (9 * d1)
    if d2 is None:
        c2, cap = np.zeros_like(d1), np.full_like(d1, np.inf)
    else:
        d2 = np.asarray(d2, dtype=float)
        c2 = 2.0 / (9 * d2)
        cap = np.where(d2 == 1, 1 / norm.ppf(1 - conf / 2) ** 2, -1 / np.log(conf)) if z > 0 else np.inf
        c2, cap = np.broadcast_arrays(c2 + 0 * d1, cap + 0 * d1)
    a, b = 1 - c2, 1 - c1
    den = a * a - z * z * c2
    with np.errstate(invalid="ignore", divide="ignore"):
        y = (a * b + z * np.sqrt(np.maximum(a * a * c1 + b * b * c2 - z * z * c1 * c2, 0))) / den
        q = np.minimum(np.maximum(y, 0.0) ** 3, cap)
    return np.where(den <= 0, cap, q)


def errors(rng, shape, dist):
    """Centred errors of variance 1."""
    if dist == "normal":
        return rng.standard_normal(shape)
    if dist in ("t5", "t3"):
        df = float(dist[1:])
        return rng.standard_t(df, shape) / np.sqrt(df / (df - 2))
    if dist == "laplace":
        return rng.laplace(0.0, 1 / np.sqrt(2), shape)
    s2 = LOGNORMAL_SD ** 2
    return (rng.lognormal(0.0, LOGNORMAL_SD, shape) - np.exp(s2 / 2)) / np.sqrt((np.exp(s2) - 1) * np.exp(s2))


def moments(rng, trials, n, dist):
    """mean(e^2) and mean(e^4) of n errors, per trial."""
    m2, m4 = np.empty(trials), np.empty(trials)
    step = max(1, 4_000_000 // n)
    for s in range(0, trials, step):
        t = min(step, trials - s)
        e2 = errors(rng, (t, n), dist) ** 2
        m2[s:s + t] = e2.mean(axis=1)
        m4[s:s + t] = (e2 * e2).mean(axis=1)
    return m2, m4


def effective(n, kappa):
    """n * 2 / (kappa - 1), kappa at least 3, rounded down, at least 1: as performance_stats_of passes it."""
    return np.maximum(1, np.floor(n * (2 / (np.maximum(kappa, 3) - 1))))


def pooled(kappa_h, m, w2, w4, h2, n):
    """Layard's pooled kurtosis (m h4 + n w4) (m + n) / (m h2 + n w2)^2, as performance_stats_of computes it from
    the stored kappa_h = h4 / h2^2 and the window's moments (the window's kurtosis at most n, as a sample's is)."""
    rho = w2 / h2
    u = m / (m + n * rho)
    return (m + n) * (kappa_h * u * u / m + np.minimum(w4 / (w2 * w2), n) * (1 - u) ** 2 / n)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=20000, help="trials per cell (default 20000, at most 200000)")
    ap.add_argument("--holdout", type=int, nargs="+", default=[100, 1000], help="hold-out sizes, 0: exact")
    ap.add_argument("--n", type=int, nargs="+", default=[20, 50, 200, 1000], help="window sizes")
    ap.add_argument("--dist", nargs="+", default=DISTS, choices=DISTS)
    ap.add_argument("--rises", type=float, nargs="+", default=[0.10, 0.25], help="RMSE rises for the power")
    ap.add_argument("--confidence", type=float, default=0.999)
    ap.add_argument("--seed", type=int, default=20261205)
    args = ap.parse_args(argv)
    if not 1 <= args.trials <= 200_000:
        ap.error("--trials must be 1..200000")
    if max(args.n + args.holdout) > 100_000 or min(args.n) < 1 or min(args.holdout) < 0:
        ap.error("--n 1..100000, --holdout 0..100000")
    conf = args.confidence
    nom = 1 - conf
    t0 = time.monotonic()
    print(f"no-drift windows over rmse_rise's floor at confidence {conf}, as multiples of the nominal "
          f"{nom:.4g} (0106, at the hold-out's kurtosis alone, 0108); median kurtosis and floors; share of windows "
          f"past the floor (0106/0108) at RMSE rises of "
          f"{', '.join(f'{r:.0%}' for r in args.rises)}; {args.trials} trials a cell")
    print(f"{'dist':>9} {'n_holdout':>9} {'n':>5} {'0106':>7} {'hold-out':>8} {'0108':>7} {'kappa h':>7}"
          f" {'kappa 0108':>10} {'floor 0106':>10} {'floor 0108':>10}"
          + "".join(f" {f'power {r:.0%}':>15}" for r in args.rises))
    for dist in args.dist:
        for nh in args.holdout:
            for n in args.n:
                rng = np.random.default_rng([args.seed, n, nh, DISTS.index(dist)])
                w2, w4 = moments(rng, args.trials, n, dist)
                if nh > 0:
                    h2, h4 = moments(rng, args.trials, nh, dist)
                    kh = h4 / (h2 * h2)
                    old = np.sqrt(paulson_f(conf, np.full(args.trials, n), np.full(args.trials, nh))) - 1
                    alone = np.sqrt(paulson_f(conf, effective(n, kh), effective(nh, kh))) - 1

                    def floor(s):  # 0108's at the window's errors scaled by s
                        k = pooled(kh, nh, w2 * s * s, w4 * s ** 4, h2, n)
                        return np.sqrt(paulson_f(conf, effective(n, k), effective(nh, k))) - 1, k
                else:
                    h2, kh = 1.0, np.full(args.trials, np.nan)
                    old = alone = np.sqrt(paulson_f(conf, np.full(args.trials, n), None)) - 1

                    def floor(s):
                        return old, kh
                ratio = np.sqrt(w2 / h2)
                new, k = floor(1.0)
                power = ""
                for r in args.rises:
                    up = ratio * (1 + r) - 1
                    power += f" {np.mean(up > old):>7.3f}/{np.mean(up > floor(1 + r)[0]):<7.3f}"
                print(f"{dist:>9} {nh if nh else 'exact':>9} {n:>5} {np.mean(ratio - 1 > old) / nom:>7.2f} "
                      f"{np.mean(ratio - 1 > alone) / nom:>8.2f} {np.mean(ratio - 1 > new) / nom:>7.2f} "
                      f"{np.nanmedian(kh) if nh else float('nan'):>7.2f} {np.nanmedian(k) if nh else float('nan'):>10.2f} "
                      f"{np.median(old):>10.4f} {np.median(new):>10.4f}{power}", flush=True)
    print(f"({time.monotonic() - t0:.0f} s)")


if __name__ == "__main__":
    main()
