"""How often rmse_rise (RMSE over the deploy RMSE, minus 1) crosses its noise floor on no drift at all, and how
often it passes it on a real rise: migration 0106's floor (sqrt(F_conf(n, n_holdout)) - 1, the MSE ratio under
normal errors, by Paulson's cube-root normal approximation, as pgscore.noise_floor computes it) and 0108's: the
same F at effective degrees of freedom n * 2 / (kappa - 1) and n_holdout * 2 / (kappa - 1) (Box and Andersen's
correction of the variance-ratio test; whole values rounded down, at least 1, as pgscore.performance_stats_of
passes them), kappa the hold-out errors' kurtosis about 0 (mean(e^4) / mean(e^2)^2, at most its rows), as the
deploy stores it, at least 3. Two more were tried and not kept: "corrected", the hold-out's kurtosis raised for
its bound (1 / kappa - 1 / n_holdout, a sample's being below its rows), and "pooled", 0108's first version,
kappa of the hold-out and the window pooled (Layard's), whose floor rose with the window's own outliers.

Each trial draws a hold-out of n_holdout errors and a window of n errors from one distribution, centred, of
variance 1: normal, Student's t at 5 and 3 degrees of freedom (kurtosis 9 and infinite), Laplace (6) and a
centred lognormal of log-sd 0.5 (skewed, kurtosis 8.9), and takes rmse_rise = sqrt(mean(window^2) /
mean(holdout^2)) - 1. Prints, per cell, the share of no-drift trials over each floor as a multiple of the
nominal 1 - confidence, the median kurtosis and floors, the share of windows whose errors' RMSE rose by 10% and
25% (every error scaled) over the floor (the power), and the same where the drift is outliers: a share of the
window's rows (2% or 5%, at least one row) multiplied so that its expected RMSE rises by 25% or 100%, there with
the pooled rule's power too. --holdout 0 takes the deploy RMSE as exact (1) and knows no kurtosis: 0108's floor
is 0106's there. Numpy and scipy only, no database; bounded by --trials (at most 200,000): about 20 s for the
default grid at 20,000 on a busy shared 2-core machine.

    .venv/bin/python scripts/rmse_floor_noise.py [--trials 20000] [--holdout 100 1000] [--n 20 50 200 1000]
                                                 [--dist normal t5 t3 laplace lognormal] [--rises 0.1 0.25]
                                                 [--outliers 0.02:0.25 0.05:0.25 0.02:1 0.05:1]
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


def inflation(n, share, rise):
    """k = share n rows (at least 1) and the factor c they are multiplied by, so that the window's expected MSE is
    (1 + rise)^2 times the errors': (n - k + k c^2) / n = (1 + rise)^2."""
    k = max(1, round(share * n))
    return k, np.sqrt(((1 + rise) ** 2 * n - (n - k)) / k)


def moments(rng, trials, n, dist, outliers=()):
    """mean(e^2) and mean(e^4) of n errors, per trial; and the same with k of the n errors multiplied by c, per
    (k, c) of outliers (the first k: the errors are independent)."""
    m2, m4 = np.empty(trials), np.empty(trials)
    o2, o4 = np.empty((len(outliers), trials)), np.empty((len(outliers), trials))
    step = max(1, 4_000_000 // n)
    for s in range(0, trials, step):
        t = min(step, trials - s)
        e2 = errors(rng, (t, n), dist) ** 2
        m2[s:s + t] = e2.mean(axis=1)
        m4[s:s + t] = (e2 * e2).mean(axis=1)
        for i, (k, c) in enumerate(outliers):
            head2, head4 = e2[:, :k].sum(axis=1), (e2[:, :k] ** 2).sum(axis=1)
            o2[i, s:s + t] = m2[s:s + t] + head2 * (c * c - 1) / n
            o4[i, s:s + t] = m4[s:s + t] + head4 * (c ** 4 - 1) / n
    return (m2, m4, o2, o4) if outliers else (m2, m4)


def effective(n, kappa):
    """n * 2 / (kappa - 1), kappa at least 3, rounded down, at least 1: as performance_stats_of passes it."""
    return np.maximum(1, np.floor(n * (2 / (np.maximum(kappa, 3) - 1))))


def corrected(kappa_h, m):
    """The hold-out's kurtosis corrected for its bound (tried, not kept): a sample's is below its m rows, so
    1 / kappa_c = 1 / kappa_h - 1 / m maps 1..m onto 1..infinity (kappa_h of m or more: m^2 as a stand-in)."""
    return np.where(kappa_h < m, 1 / np.maximum(1 / kappa_h - 1 / m, 1 / (m * m)), m * m)


def pooled(kappa_h, m, w2, w4, h2, n):
    """Layard's pooled kurtosis (m h4 + n w4) (m + n) / (m h2 + n w2)^2, as 0108's first version computed it from
    the stored kappa_h = h4 / h2^2 and the window's moments (the window's kurtosis at most n, as a sample's is):
    tried, not kept (a window's few huge errors raise its kurtosis with its RMSE, and the floor with it)."""
    rho = w2 / h2
    u = m / (m + n * rho)
    return (m + n) * (np.minimum(kappa_h, m) * u * u / m + np.minimum(w4 / (w2 * w2), n) * (1 - u) ** 2 / n)


def parse_outliers(text):
    share, rise = text.split(":")
    return float(share), float(rise)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=20000, help="trials per cell (default 20000, at most 200000)")
    ap.add_argument("--holdout", type=int, nargs="+", default=[100, 1000], help="hold-out sizes, 0: exact")
    ap.add_argument("--n", type=int, nargs="+", default=[20, 50, 200, 1000], help="window sizes")
    ap.add_argument("--dist", nargs="+", default=DISTS, choices=DISTS)
    ap.add_argument("--rises", type=float, nargs="+", default=[0.10, 0.25], help="RMSE rises for the power")
    ap.add_argument("--outliers", type=parse_outliers, nargs="+", default=[(0.02, 0.25), (0.05, 0.25), (0.02, 1.0),
                                                                           (0.05, 1.0)],
                    metavar="SHARE:RISE", help="outlier drifts: that share of the window's rows inflated so that "
                                               "its RMSE rises by RISE (default 0.02:0.25 0.05:0.25 0.02:1 0.05:1)")
    ap.add_argument("--confidence", type=float, default=0.999)
    ap.add_argument("--seed", type=int, default=20261205)
    args = ap.parse_args(argv)
    if not 1 <= args.trials <= 200_000:
        ap.error("--trials must be 1..200000")
    if max(args.n + args.holdout) > 100_000 or min(args.n) < 1 or min(args.holdout) < 0:
        ap.error("--n 1..100000, --holdout 0..100000")
    if not all(0 < sh < 1 and r > 0 for sh, r in args.outliers):
        ap.error("--outliers SHARE:RISE, 0 < SHARE < 1, RISE > 0")
    conf = args.confidence
    nom = 1 - conf
    t0 = time.monotonic()
    print(f"no-drift windows over rmse_rise's floor at confidence {conf}, as multiples of the nominal {nom:.4g}: "
          f"0106 / 0108 (the hold-out's kurtosis, at least 3) / corrected (1/kappa - 1/m, tried); median kurtosis "
          f"and floors; share of windows past the floor, 0106 / 0108 / corrected, at uniform RMSE rises of "
          f"{', '.join(f'{r:.0%}' for r in args.rises)}, and 0106 / 0108 / corrected / pooled (0108's first "
          f"version) where a share of the window's rows is inflated: "
          f"{', '.join(f'{sh:.0%} to +{r:.0%}' for sh, r in args.outliers)}; {args.trials} trials a cell")
    print(f"{'dist':>9} {'n_holdout':>9} {'n':>5} {'no drift':>20} {'kappa h':>7} {'floor 0106':>10} "
          f"{'floor 0108':>10}" + "".join(f" {f'+{r:.0%}':>17}" for r in args.rises)
          + "".join(f" {f'{sh:.0%} to +{r:.0%}':>23}" for sh, r in args.outliers))
    for dist in args.dist:
        for nh in args.holdout:
            for n in args.n:
                rng = np.random.default_rng([args.seed, n, nh, DISTS.index(dist)])
                infl = [inflation(n, sh, r) for sh, r in args.outliers]
                w2, w4, o2, o4 = moments(rng, args.trials, n, dist, infl)
                if nh > 0:
                    h2, h4 = moments(rng, args.trials, nh, dist)
                    kh = np.minimum(h4 / (h2 * h2), nh)
                    old = np.sqrt(paulson_f(conf, np.full(args.trials, n), np.full(args.trials, nh))) - 1
                    new = np.sqrt(paulson_f(conf, effective(n, kh), effective(nh, kh))) - 1
                    kc = corrected(kh, nh)
                    cor = np.sqrt(paulson_f(conf, effective(n, kc), effective(nh, kc))) - 1

                    def pool(v2, v4):  # 0108's first version at the window's moments v2, v4
                        k = pooled(kh, nh, v2, v4, h2, n)
                        return np.sqrt(paulson_f(conf, effective(n, k), effective(nh, k))) - 1
                else:
                    h2, kh = 1.0, np.full(args.trials, np.nan)
                    old = new = cor = np.sqrt(paulson_f(conf, np.full(args.trials, n), None)) - 1

                    def pool(v2, v4):
                        return old
                ratio = np.sqrt(w2 / h2)
                cells = (f"{np.mean(ratio - 1 > old) / nom:.2f}/{np.mean(ratio - 1 > new) / nom:.2f}/"
                         f"{np.mean(ratio - 1 > cor) / nom:.2f}")
                power = ""
                for r in args.rises:
                    up = ratio * (1 + r) - 1
                    power += f" {np.mean(up > old):.3f}/{np.mean(up > new):.3f}/{np.mean(up > cor):.3f}"
                for i in range(len(infl)):
                    up = np.sqrt(o2[i] / h2) - 1
                    power += (f" {np.mean(up > old):.3f}/{np.mean(up > new):.3f}/{np.mean(up > cor):.3f}/"
                              f"{np.mean(up > pool(o2[i], o4[i])):.3f}")
                print(f"{dist:>9} {nh if nh else 'exact':>9} {n:>5} {cells:>20} "
                      f"{np.nanmedian(kh) if nh else float('nan'):>7.2f} "
                      f"{np.median(old):>10.4f} {np.median(new):>10.4f}{power}", flush=True)
    print(f"({time.monotonic() - t0:.0f} s)")


if __name__ == "__main__":
    main()
