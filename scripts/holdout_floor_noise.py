"""How often a window of realised performance crosses its noise floor on no drift at all, with the deploy metric
measured on a hold-out of n_holdout rows: the floors before migration 0098 (the window's sampling noise alone, the
deploy metric taken as exact) against 0098's (the window's and the hold-out's combined).

Each trial draws a hold-out and a window from the same distribution (seeded): a calibrated binary classifier
(x ~ N(0, 1), score = sigmoid(-1 + 1.5 x), y ~ Bernoulli(score): about 30% positive) and a regressor (score = f,
y = f + N(0, 1)). The metrics are computed as pgscore.performance_stats_of computes them (AUC from the positives'
mid-rank sum, accuracy at score > 0.5, Brier, RMSE; rmse_rise = RMSE / deploy RMSE - 1) and the floors as
pgscore.noise_floor gives them (AUC: Hanley-McNeil at the deploy AUC; accuracy and Brier: z sqrt(p(1 - p) v);
RMSE: z sqrt(v / 2); v = 1/n, and since 0098 1/n + 1/n_holdout, AUC's the two Hanley-McNeil variances summed).

Prints, per hold-out size, window size and metric, the share of trials over each floor (value > floor) against
the nominal 1 - confidence. Numpy only, no database; bounded by --trials (at most 200,000): 447 s at the defaults
on a busy shared 2-core machine, the hold-out of 10,000 most of it.

    .venv/bin/python scripts/holdout_floor_noise.py [--trials 20000] [--holdout 100 300 1000 10000] [--n 100 1000]
                                                    [--positive-rate 0.3 ...] [--exact-holdout]

--positive-rate sets the classifier's intercept so that about that share is positive (0.05: a hold-out accuracy
of about 0.95; by default -1, about 30%); --holdout 0 with --exact-holdout takes the deploy metric as exact (the
population's, from 400,000 draws). Since 0101 accuracy_drop's floor (the second column) is the binomial's
quantile of the window's errors where they vary by 100 or less (the hold-out's error rate normal), else the
normal floor with Cornish and Fisher's skew term, at the window's and hold-out's accuracy pooled: the first
column is then 0098's (normal, at the hold-out's accuracy).
"""

from __future__ import annotations

import argparse
import time
from statistics import NormalDist

import numpy as np

METRICS = ["auc_drop", "accuracy_drop", "brier_rise", "rmse_rise"]


def auc_rows(score, y):
    """AUC per row from the positives' mid-rank sum (Mann-Whitney), as performance_stats_of's s0."""
    from scipy.stats import rankdata

    r = rankdata(score, axis=1)
    pos = y.sum(axis=1)
    neg = y.shape[1] - pos
    with np.errstate(invalid="ignore", divide="ignore"):
        return ((r * y).sum(axis=1) - pos * (pos + 1) / 2.0) / np.where(pos * neg > 0, pos * neg, np.nan), pos


def hanley_mcneil(a, pos, n):
    """noise_floor's auc_drop without z: Hanley and McNeil's standard error at AUC a, pos of n positive."""
    neg = n - pos
    q1 = a / (2 - a)
    q2 = 2 * a ** 2 / (1 + a)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt(np.maximum(0, a * (1 - a) + (pos - 1) * (q1 - a ** 2) + (neg - 1) * (q2 - a ** 2))
                       / np.where(pos * neg > 0, pos * neg, np.nan))


def accuracy_floor(acc, n, n_holdout, confidence):
    """noise_floor's accuracy_drop since 0101 (a numpy port): the binomial quantile of the window's error rate
    over the hold-out's (normal; None: exact), midway between counts where the hold-out is exact."""
    from scipy.optimize import brentq
    from scipy.stats import binom, norm

    e = 1 - min(max(acc, 0.0), 1.0)
    var = n * e * (1 - e)
    if var <= 0:
        return 0.0
    hsd = np.sqrt(e * (1 - e) / n_holdout) if n_holdout else 0.0
    if var > 100:
        v = 1.0 / n + (1.0 / n_holdout if n_holdout else 0.0)
        sd = np.sqrt(e * (1 - e) * v)
        g = e * (1 - e) * (1 - 2 * e) * (1.0 / n ** 2 - (1.0 / n_holdout ** 2 if n_holdout else 0.0)) / sd ** 3
        z = NormalDist().inv_cdf(confidence)
        return sd * (z + (z * z - 1) * g / 6)
    k = np.arange(n + 1)
    pmf = binom.pmf(k, n, e)
    if hsd < 0.05 / n:
        tail = np.cumsum(pmf[::-1])[::-1]  # P(K >= k)
        kstar = int(np.argmax(np.append(tail[1:], 0) <= 1 - confidence))  # the first k with P(K > k) within
        return (kstar + 0.5) / n - e
    return brentq(lambda x: (pmf * norm.cdf((k / n - x - e) / hsd)).sum() - (1 - confidence), -1 - 12 * hsd,
                  1 + 12 * hsd, xtol=1e-9)


def draw(rng, trials, n, intercept=-1.0):
    x = rng.standard_normal((trials, n))
    p = 1 / (1 + np.exp(-(intercept + 1.5 * x)))
    y = (rng.random((trials, n)) < p).astype(np.int8)
    f = rng.standard_normal((trials, n))
    yv = f + rng.standard_normal((trials, n))
    auc, pos = auc_rows(p, y)
    return {"auc": auc, "pos": pos, "accuracy": ((p > 0.5).astype(np.int8) == y).mean(axis=1),
            "brier": ((p - y) ** 2).mean(axis=1), "rmse": np.sqrt(((f - yv) ** 2).mean(axis=1))}


def intercept_for(rate):
    """The intercept a of sigmoid(a + 1.5 x) at which about `rate` of the classifier's rows are positive."""
    from scipy.optimize import brentq

    x = np.random.default_rng(0).standard_normal(400_000)
    return brentq(lambda a: (1 / (1 + np.exp(-(a + 1.5 * x)))).mean() - rate, -20, 20)


def population(intercept):
    """The metrics of 400,000 rows (the deploy metrics as exact, for --exact-holdout)."""
    d = draw(np.random.default_rng(1), 20, 20_000, intercept)
    return {k: np.full(1, np.nanmean(v)) for k, v in d.items()}


def run(trials, n_holdout, n, confidence, seed, chunk_cells=4_000_000, intercept=-1.0, exact=False):
    """The share of trials over each floor: {metric: (before, after)}; with `exact` the deploy metrics are the
    population's (no hold-out noise: n_holdout ignored), else measured on a hold-out of n_holdout rows."""
    z = NormalDist().inv_cdf(confidence)
    rng = np.random.default_rng([seed, n_holdout, n])
    pop = population(intercept) if exact else None
    over = {m: [0, 0] for m in METRICS}
    judged = {m: 0 for m in METRICS}
    step = max(1, chunk_cells // max(n, n_holdout))
    for start in range(0, trials, step):
        t = min(step, trials - start)
        w = draw(rng, t, n, intercept)
        h = {k: np.broadcast_to(v, (t,)) for k, v in pop.items()} if exact else draw(rng, t, n_holdout, intercept)
        vals = {"auc_drop": h["auc"] - w["auc"], "accuracy_drop": h["accuracy"] - w["accuracy"],
                "brier_rise": w["brier"] - h["brier"], "rmse_rise": w["rmse"] / h["rmse"] - 1}
        v_old, v_new = 1.0 / n, 1.0 / n + (0.0 if exact else 1.0 / n_holdout)
        acc = np.clip(h["accuracy"], 0, 1)
        bri = np.clip(h["brier"], 0, 1)
        a = np.clip(h["auc"], 0, 1)
        se_w = hanley_mcneil(a, w["pos"], n)
        se_h = np.zeros(t) if exact else hanley_mcneil(a, h["pos"], n_holdout)
        # (0101: the binomial quantile at the window's and hold-out's accuracy pooled, as performance_stats_of
        # passes it; one per distinct pooled accuracy, which takes at most n + n_holdout + 1 values)
        pooled = acc if exact else np.round((acc * n_holdout + w["accuracy"] * n) / (n_holdout + n), 12)
        acc_floor = {u: accuracy_floor(u, n, None if exact else n_holdout, confidence) for u in np.unique(pooled)}
        floors = {"auc_drop": (z * se_w, z * np.sqrt(se_w ** 2 + se_h ** 2)),
                  "accuracy_drop": (z * np.sqrt(acc * (1 - acc) * v_new), np.array([acc_floor[u] for u in pooled])),
                  "brier_rise": (z * np.sqrt(bri * (1 - bri) * v_old), z * np.sqrt(bri * (1 - bri) * v_new)),
                  "rmse_rise": (np.full(t, z * np.sqrt(v_old / 2)), np.full(t, z * np.sqrt(v_new / 2)))}
        for m in METRICS:
            ok = np.isfinite(vals[m]) & np.isfinite(floors[m][0])
            judged[m] += int(ok.sum())
            for i in (0, 1):
                over[m][i] += int(np.sum(ok & (vals[m] > floors[m][i])))
    return {m: tuple(c / max(judged[m], 1) for c in over[m]) for m in METRICS}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=20000, help="trials per hold-out and window size (default 20000)")
    ap.add_argument("--holdout", type=int, nargs="+", default=[100, 300, 1000, 10000],
                    help="hold-out sizes (default 100 300 1000 10000)")
    ap.add_argument("--n", type=int, nargs="+", default=[100, 1000], help="window sizes (default 100 1000)")
    ap.add_argument("--confidence", type=float, default=0.999, help="the floors' confidence (default 0.999)")
    ap.add_argument("--seed", type=int, default=20261204)
    ap.add_argument("--positive-rate", type=float, nargs="+",
                    help="the classifier's share of positives, one run each (default: its intercept of -1, ~30%%)")
    ap.add_argument("--exact-holdout", action="store_true",
                    help="the deploy metrics exact (the population's): the window's noise alone")
    args = ap.parse_args(argv)
    if args.trials < 1 or args.trials > 200_000:
        ap.error("--trials must be 1..200000")
    t0 = time.monotonic()
    print(f"share of no-drift windows over the floor at confidence {args.confidence} (nominal "
          f"{1 - args.confidence:.4f}), {args.trials} trials each: before 0098 / 0098")
    print("(accuracy_drop: 0098 / 0101)")
    print(f"{'rate':>5} {'n_holdout':>9} {'n':>5} " + " ".join(f"{m:>21}" for m in METRICS))
    for rate in args.positive_rate or [None]:
        intercept = -1.0 if rate is None else intercept_for(rate)
        for nh in ([0] if args.exact_holdout else args.holdout):
            for n in args.n:
                res = run(args.trials, nh, n, args.confidence, args.seed, intercept=intercept,
                          exact=args.exact_holdout)
                print(f"{'~0.3' if rate is None else rate:>5} {'exact' if args.exact_holdout else nh:>9} {n:>5} "
                      + " ".join(f"{res[m][0]:>10.4f} / {res[m][1]:<8.4f}" for m in METRICS), flush=True)
    print(f"({time.monotonic() - t0:.0f} s)")


if __name__ == "__main__":
    main()
