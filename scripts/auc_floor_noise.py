"""auc_drop's noise floor, 0098's, 0107's and 0111's, and "delta" (measured in session 55, not made): how often a
window crosses it without drift (as a multiple of the nominal 1 - confidence) and how often it flags a real drop
(the window's true AUC lowered), in one run.

Each trial draws a hold-out and a window from a binormal model (seeded numpy, no database): negatives' scores
N(0, 1), positives' N(d, 1), AUC = Phi(d / sqrt 2), each row positive with probability --positive-rate (the
window's --window-rate where given: few positives in the window). The deploy AUC is the hold-out's measured AUC
and its positives as deploy records them; the window's AUC and the floors are computed as
pgscore.performance_stats_of and pgscore.noise_floor compute them (AUC from the positives' mid-rank sum; a row
of one class has no AUC and is not judged). Under a drop the window's positives are drawn at AUC - drop.

    .venv/bin/python scripts/auc_floor_noise.py [--trials 20000] [--auc 0.9] [--holdout 100 1000]
        [--n 20 50 200 1000] [--positive-rate 0.01 0.05 0.2] [--window-rate R ...] [--drop 0 0.05 0.1]
        [--alternatives]

Prints per cell the share over each floor: without drift as a multiple of nominal (1 means as often as the
confidence says; 20,000 trials put the nominal at 20 windows, so a binomial standard deviation of about 0.22 in
these units), under a drop the share flagged (power). Bounded: --trials at most 100,000 a cell and --max-seconds
(default 600) for the whole run, after which the cells left are skipped (and said so); the defaults take about
100 s on a shared 2-core machine.
"""

from __future__ import annotations

import argparse
import time
from statistics import NormalDist

import numpy as np
from scipy.stats import rankdata

ND = NormalDist()


def hm_var(a, pos, n):
    """Hanley and McNeil's variance of an AUC at a, pos of n positive (noise_floor's auc_drop before 0107)."""
    neg = n - pos
    q1, q2 = a / (2 - a), 2 * a ** 2 / (1 + a)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.maximum(0, a * (1 - a) + (pos - 1) * (q1 - a ** 2) + (neg - 1) * (q2 - a ** 2)) \
            / np.where(pos * neg > 0, pos * neg, np.nan)


def floor_0098(a, pos, n, z):
    return z * np.sqrt(hm_var(a, pos, n))


def hm_floor_0107(a, pos, n, z):
    """0107's noise_floor('auc_drop'): Hanley and McNeil's at a, but at no more than (m + 1) / (m + 2), m the
    smaller class's count (Laplace's rule of succession: m of m ranked right is no proof of an AUC of 1)."""
    m = np.minimum(pos, n - pos)
    return z * np.sqrt(hm_var(np.minimum(a, (m + 1) / (m + 2)), pos, n))


WINDOW_FEW = 4  # 0111: the window's own Laplace cap where its smaller class is at most this


def laplace(m):
    return (m + 1) / (m + 2)


def floor_0111(a_h, pos_h, n_h, pos_w, n_w, z, few=WINDOW_FEW):
    """0111's: both terms at A' = min(deploy AUC, Laplace's AUC of the HOLD-OUT's smaller class) (the deploy AUC is
    as reliable as the hold-out it was measured on), the window's term also at no more than its own Laplace AUC
    where its smaller class has `few` or fewer (the skew of an AUC of 1-4 positives); no cap at the deploy AUC."""
    a = np.minimum(a_h, laplace(np.minimum(pos_h, n_h - pos_h)))
    m_w = np.minimum(pos_w, n_w - pos_w)
    a_w = np.where(m_w <= few, np.minimum(a, laplace(m_w)), a)
    return np.sqrt((z * np.sqrt(hm_var(a_w, pos_w, n_w))) ** 2 + (z * np.sqrt(hm_var(a, pos_h, n_h))) ** 2)


def hm_dvar(a, pos, n):
    """d/da of hm_var at a (its slope: negative above an AUC of about 0.5 to 0.7)."""
    neg = n - pos
    dq1, dq2 = 2 / (2 - a) ** 2, (2 * a ** 2 + 4 * a) / (1 + a) ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        return (1 - 2 * a + (pos - 1) * (dq1 - 2 * a) + (neg - 1) * (dq2 - 2 * a)) \
            / np.where(pos * neg > 0, pos * neg, np.nan)


def floor_lcb(a_h, pos_h, n_h, pos_w, n_w, z, few=WINDOW_FEW, k=1.0, both=True):
    """Measured in session 55, not made: 0111's, the terms at a lower confidence bound of the deploy AUC, A' - k
    SE_h(A') (SE_h the hold-out's own Hanley-McNeil standard error at A'), both terms ("both") or the hold-out's
    alone."""
    a = np.minimum(a_h, laplace(np.minimum(pos_h, n_h - pos_h)))
    lo = np.minimum(a, np.maximum(0.5, a - k * np.sqrt(hm_var(a, pos_h, n_h))))
    m_w = np.minimum(pos_w, n_w - pos_w)
    a_w0 = lo if both else a
    a_w = np.where(m_w <= few, np.minimum(a_w0, laplace(m_w)), a_w0)
    return z * np.sqrt(hm_var(a_w, pos_w, n_w) + hm_var(lo, pos_h, n_h))


def floor_delta(a_h, pos_h, n_h, pos_w, n_w, z, few=WINDOW_FEW, window_slope=False, at_cap=True):
    """Measured in session 55, not made (docs/changes.md): 0111's, the hold-out's term counted (1 - f')^2 times, f'
    the slope of the floor in the deploy AUC through the hold-out's term where it falls (f = z sqrt(V_w + V_h), both
    at A'). A window crosses where A_h - f(A_h) > A_w, and A_h - f(A_h) moves 1 - f' times as far as A_h does (the
    delta method): a deploy AUC high by chance both widens the drop and lowers the floor. Also measured: the
    window's slope too (window_slope) and no slope where the deploy AUC is over the hold-out's Laplace AUC (at_cap
    False: the floor no longer follows it there)."""
    cap = laplace(np.minimum(pos_h, n_h - pos_h))
    a = np.minimum(a_h, cap)
    m_w = np.minimum(pos_w, n_w - pos_w)
    a_w = np.where(m_w <= few, np.minimum(a, laplace(m_w)), a)
    v_w, v_h = hm_var(a_w, pos_w, n_w), hm_var(a, pos_h, n_h)
    dv_w = np.where((a_w < a) | (not window_slope), 0.0, hm_dvar(a, pos_w, n_w))
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where((a_h < cap) | at_cap, z * (dv_w + hm_dvar(a, pos_h, n_h)) / (2 * np.sqrt(v_w + v_h)), 0.0)
    return z * np.sqrt(v_w + (1 - np.minimum(slope, 0)) ** 2 * v_h)


def floors(a_h, pos_h, n_h, pos_w, n_w, z, few=WINDOW_FEW, alternatives=False):
    """{name: floor}: 0098's (the window's and the hold-out's terms combined, at the deploy AUC), 0107's (each term
    at most at its own Laplace AUC, the combined floor capped at the deploy AUC), 0111's (both at the hold-out's
    Laplace AUC, the window's at its own where it has `few` or fewer; "0111-h" without that rule) and "delta"
    (0111's, the hold-out's term counted (1 - f')^2 times; session 55, not made). With `alternatives`, the others
    measured in session 55 and not made: the terms at the deploy AUC less k of the hold-out's standard errors
    ("lcb1" both terms, "lcb1-h" and "lcb2-h" the hold-out's alone), "delta" with the window's slope too ("delta-w")
    and without a slope over the hold-out's Laplace AUC ("delta-nocap")."""
    out = {"0098": np.sqrt(floor_0098(a_h, pos_w, n_w, z) ** 2 + floor_0098(a_h, pos_h, n_h, z) ** 2),
           "0107": np.minimum(np.sqrt(hm_floor_0107(a_h, pos_w, n_w, z) ** 2
                                      + hm_floor_0107(a_h, pos_h, n_h, z) ** 2), a_h),
           "0111": floor_0111(a_h, pos_h, n_h, pos_w, n_w, z, few),
           "0111-h": floor_0111(a_h, pos_h, n_h, pos_w, n_w, z, 0),
           "delta": floor_delta(a_h, pos_h, n_h, pos_w, n_w, z, few)}
    if alternatives:
        out.update({"lcb1": floor_lcb(a_h, pos_h, n_h, pos_w, n_w, z, few, 1.0, True),
                    "lcb1-h": floor_lcb(a_h, pos_h, n_h, pos_w, n_w, z, few, 1.0, False),
                    "lcb2-h": floor_lcb(a_h, pos_h, n_h, pos_w, n_w, z, few, 2.0, False),
                    "delta-w": floor_delta(a_h, pos_h, n_h, pos_w, n_w, z, few, True, False),
                    "delta-nocap": floor_delta(a_h, pos_h, n_h, pos_w, n_w, z, few, False, False)})
    return out


def aucs(rng, t, n, rate, d):
    y = rng.random((t, n)) < rate
    s = rng.standard_normal((t, n)) + np.where(y, d, 0.0)
    r = rankdata(s, axis=1)
    pos = y.sum(axis=1)
    neg = n - pos
    with np.errstate(invalid="ignore", divide="ignore"):
        return ((r * y).sum(axis=1) - pos * (pos + 1) / 2.0) / np.where(pos * neg > 0, pos * neg, np.nan), pos


def d_of(auc):
    return np.sqrt(2) * ND.inv_cdf(auc)


def cell(rng, trials, auc, n_h, rate_h, n_w, rate_w, drop, z, few=WINDOW_FEW, alternatives=False, chunk=4_000_000):
    over, judged = {}, 0
    step = max(1, chunk // max(n_h, n_w))
    for start in range(0, trials, step):
        t = min(step, trials - start)
        a_h, pos_h = aucs(rng, t, n_h, rate_h, d_of(auc))
        a_w, pos_w = aucs(rng, t, n_w, rate_w, d_of(auc - drop))
        f = floors(a_h, pos_h, n_h, pos_w, n_w, z, few, alternatives)
        ok = np.isfinite(a_h) & np.isfinite(a_w)
        judged += int(ok.sum())
        for k, v in f.items():
            over[k] = over.get(k, 0) + int(np.sum(ok & np.isfinite(v) & (a_h - a_w > v)))
    return {k: c / max(judged, 1) for k, c in over.items()}, judged


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=20000, help="trials a cell (default 20000)")
    ap.add_argument("--auc", type=float, nargs="+", default=[0.9], help="true (deploy) AUCs (default 0.9)")
    ap.add_argument("--holdout", type=int, nargs="+", default=[100, 1000], help="hold-out rows")
    ap.add_argument("--n", type=int, nargs="+", default=[20, 50, 200, 1000], help="window outcomes")
    ap.add_argument("--positive-rate", type=float, nargs="+", default=[0.01, 0.05, 0.2])
    ap.add_argument("--window-rate", type=float, nargs="+",
                    help="the window's share of positives (default: the hold-out's)")
    ap.add_argument("--drop", type=float, nargs="+", default=[0.0, 0.05, 0.1])
    ap.add_argument("--confidence", type=float, default=0.999)
    ap.add_argument("--window-few", type=int, default=WINDOW_FEW,
                    help="0111: the window's smaller class at most this takes its own Laplace AUC (default 4)")
    ap.add_argument("--alternatives", action="store_true",
                    help="also the floors measured in session 55 and not made (lcb1, lcb1-h, lcb2-h, delta-w, "
                         "delta-nocap)")
    ap.add_argument("--seed", type=int, default=20261205)
    ap.add_argument("--max-seconds", type=float, default=600)
    args = ap.parse_args(argv)
    if not 1 <= args.trials <= 100_000:
        ap.error("--trials must be 1..100000")
    z = ND.inv_cdf(args.confidence)
    nominal = 1 - args.confidence
    t0 = time.monotonic()
    names = None
    skipped = 0
    for auc in args.auc:
        for rate in args.positive_rate:
            for w_rate in args.window_rate or [rate]:
                for n_h in args.holdout:
                    for n_w in args.n:
                        for drop in args.drop:
                            if time.monotonic() - t0 > args.max_seconds:
                                skipped += 1
                                continue
                            rng = np.random.default_rng([args.seed, int(auc * 1000), int(rate * 1000),
                                                         int(w_rate * 1000), n_h, n_w, int(drop * 1000)])
                            res, judged = cell(rng, args.trials, auc, n_h, rate, n_w, w_rate, drop, z, args.window_few,
                                              args.alternatives)
                            if names is None:
                                names = list(res)
                                print(f"confidence {args.confidence}, {args.trials} trials a cell; drop 0: "
                                      f"crossings / nominal {nominal:g}, else the share flagged")
                                print(f"{'auc':>5} {'rate':>5} {'w_rate':>6} {'n_hold':>6} {'n':>5} {'drop':>5} "
                                      f"{'judged':>6} " + " ".join(f"{k:>13}" for k in names))
                            vals = [res[k] / nominal if drop == 0 else res[k] for k in names]
                            print(f"{auc:>5} {rate:>5} {w_rate:>6} {n_h:>6} {n_w:>5} {drop:>5} {judged:>6} "
                                  + " ".join(f"{v:>13.3f}" for v in vals), flush=True)
    print(f"({time.monotonic() - t0:.0f} s{f'; {skipped} cells skipped past --max-seconds' if skipped else ''})")


if __name__ == "__main__":
    main()
