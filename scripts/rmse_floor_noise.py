"""How often rmse_rise (RMSE over the deploy RMSE, minus 1) crosses its noise floor on no drift at all: before
migration 0106 (z sqrt(v / 2), v = 1/n + 1/n_holdout: the ratio's linearised standard error) and since (the F
quantile: sqrt(F_conf(n, n_holdout)) - 1, chi-square_n / n with an exact deploy RMSE, by Paulson's cube-root
normal approximation, as pgscore.noise_floor computes it), per error distribution, hold-out size and window size.

Each trial draws a hold-out of n_holdout errors and a window of n errors from one distribution, centred, of
variance 1: normal (the sums of squares drawn as chi-square, which they are exactly) or Student's t with --df
degrees of freedom (heavy tails: kurtosis 3 (df - 2) / (df - 4), 9 at 5 df), and takes rmse_rise =
sqrt(mean(window^2) / mean(holdout^2)) - 1; --holdout 0 takes the deploy RMSE as exact (1). Prints, per cell,
the share of trials over each floor as a multiple of the nominal 1 - confidence, the floors themselves (what a
real rise must pass: the power cost), and Paulson's F quantile's relative error against scipy.stats.f.ppf.
Numpy and scipy only, no database; bounded by --trials (at most 200,000): about a minute for the default grid at
20,000 on a busy shared 2-core machine.

    .venv/bin/python scripts/rmse_floor_noise.py [--trials 20000] [--holdout 100 1000 0] [--n 20 50 200 1000]
                                                 [--dist normal t] [--df 5] [--confidence 0.999]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.stats import chi2, f, norm


def paulson_f(conf, d1, d2):
    """F_conf(d1, d2) by Paulson's approximation (d2 None: chi-square_d1 / d1, Wilson-Hilferty), the quadratic in
    y = F^(1/3) solved for its upper root, as noise_floor's rmse_rise; None where it has none (d2 tiny)."""
    z = norm.ppf(conf)
    c1 = 2.0 / (9 * d1)
    c2 = 0.0 if d2 is None else 2.0 / (9 * d2)
    a, b = 1 - c2, 1 - c1
    den = a * a - z * z * c2
    if den <= 0:
        return None
    y = (a * b + z * np.sqrt(a * a * c1 + b * b * c2 - z * z * c1 * c2)) / den
    return max(y, 0.0) ** 3


def exact_f(conf, d1, d2):
    return chi2.ppf(conf, d1) / d1 if d2 is None else f.ppf(conf, d1, d2)


def mse(rng, trials, n, dist, df):
    """Mean squared error of n centred errors of variance 1, per trial."""
    if dist == "normal":
        return rng.chisquare(n, trials) / n
    out = np.empty(trials)
    step = max(1, 4_000_000 // n)
    for s in range(0, trials, step):
        t = min(step, trials - s)
        e = rng.standard_t(df, (t, n)) / np.sqrt(df / (df - 2))
        out[s:s + t] = (e * e).mean(axis=1)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=20000, help="trials per cell (default 20000, at most 200000)")
    ap.add_argument("--holdout", type=int, nargs="+", default=[100, 1000, 0], help="hold-out sizes, 0: exact")
    ap.add_argument("--n", type=int, nargs="+", default=[20, 50, 200, 1000], help="window sizes")
    ap.add_argument("--dist", nargs="+", default=["normal", "t"], choices=["normal", "t"])
    ap.add_argument("--df", type=float, default=5.0, help="Student t's degrees of freedom (> 4; default 5)")
    ap.add_argument("--confidence", type=float, default=0.999)
    ap.add_argument("--seed", type=int, default=20261205)
    args = ap.parse_args(argv)
    if not 1 <= args.trials <= 200_000:
        ap.error("--trials must be 1..200000")
    if args.df <= 4:
        ap.error("--df must be > 4 (a finite kurtosis)")
    conf = args.confidence
    z = norm.ppf(conf)
    t0 = time.monotonic()
    print(f"no-drift windows over rmse_rise's floor at confidence {conf}, as multiples of the nominal "
          f"{1 - conf:.4g}; {args.trials} trials a cell")
    print(f"{'dist':>6} {'n_holdout':>9} {'n':>5} {'before':>7} {'0106':>7} {'floor before':>12} {'floor 0106':>10}"
          f" {'Paulson rel err':>15}")
    for dist in args.dist:
        for nh in args.holdout:
            d2 = nh if nh > 0 else None
            for n in args.n:
                rng = np.random.default_rng([args.seed, n, nh, 0 if dist == "normal" else 1])
                rise = np.sqrt(mse(rng, args.trials, n, dist, args.df)
                               / (mse(rng, args.trials, nh, dist, args.df) if d2 else 1.0)) - 1
                old = z * np.sqrt((1.0 / n + (1.0 / nh if d2 else 0.0)) / 2)
                q = paulson_f(conf, n, d2)
                new = np.sqrt(q) - 1 if q is not None else np.inf
                rel = (q / exact_f(conf, n, d2) - 1) if q is not None else np.nan
                nom = 1 - conf
                print(f"{dist if dist == 'normal' else f't{args.df:g}':>6} {nh if d2 else 'exact':>9} {n:>5} "
                      f"{np.mean(rise > old) / nom:>7.2f} {np.mean(rise > new) / nom:>7.2f} {old:>12.4f} "
                      f"{new:>10.4f} {rel:>15.2e}", flush=True)
    print(f"({time.monotonic() - t0:.0f} s)")


if __name__ == "__main__":
    main()
