"""How often the drift levels fire on no drift at all, and how often on a real shift: judged by the thresholds
alone (drift_thresholds.confidence NULL, the judging before migration 0085) and against the noise floors
(confidence 0.999, the default since 0085), each metric's floors family-wise over the model's features and its
score as the views judge them since 0088 (each of k at 0.999^(1/k); --per-feature: at 0.999 each, as before).

A baseline is captured from 3,000 rows of the synthetic churn table (12 features, as `pgscore deploy` captures
it: pgscore.baseline.capture). Each trial draws a fresh window of --n rows from the same distribution (seeded,
a different seed per trial) and computes each feature's PSI, KS, JS, mean shift, null rate and out-of-range share
as pgscore.drift_stats_of does (numpy: tests/test_monitoring.py's expected_metrics, which the views match to
1e-9); the database judges them, through pgscore.judge (thresholds alone) and through the new judge with
pgscore.noise_floor's floors, all trials in one statement. The shifted trials move monthly_charges by +0.5 of
its baseline standard deviation, or blank 30% of data_usage_gb.

Prints, per window size and case: the share of trials with any feature at warn or alert, at alert, and (for a
shift) the share in which the shifted feature is at warn or alert.

    .venv/bin/python scripts/drift_noise.py [--trials 400] [--n 100 300]

Runs in a throwaway cluster of its own (a free port, loopback, removed at the end).
"""

from __future__ import annotations

import argparse

import numpy as np
import psycopg2

from pgscore import baseline, datasets, migrate
from pgscore.localdb import scratch_database

EPS = 1e-4
PER_FEATURE = False  # --per-feature
METRICS = ["psi", "ks", "js", "mean_shift", "null_rate", "out_of_range"]
CASES = ("no drift", "mean +0.5 sd", "30% NULL")  # --cases


def metrics_of(values, base):
    """The six metrics of one window of a feature against its baseline row, as drift_stats_of computes them."""
    edges, expected = np.asarray(base["edges"], float), np.asarray(base["expected"], float)
    ok = values[~np.isnan(values)]
    counts = np.bincount(np.searchsorted(edges, ok, side="right"), minlength=len(expected))
    cur = counts / counts.sum()
    c, e = np.maximum(cur, EPS), np.maximum(expected, EPS)
    m = (cur + expected) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        js = 0.5 * np.sum(np.where(cur > 0, cur * np.log(cur / m), 0)) + \
            0.5 * np.sum(np.where(expected > 0, expected * np.log(expected / m), 0))
    constant = base["std"] == 0 or base["min"] == base["max"]
    return {
        "psi": float(np.sum((c - e) * np.log(c / e))),
        "ks": float(np.max(np.abs(np.cumsum(cur) - np.cumsum(expected)))),
        "js": float(np.sqrt(max(js, 0) / np.log(2))),
        "mean_shift": None if constant else abs(float((ok.mean() - base["mean"]) / base["std"])),
        "null_rate": 1 - len(ok) / len(values) - base["null_rate"],
        "out_of_range": float(np.mean((ok < base["min"]) | (ok > base["max"]))),
        "n": len(values), "n_valid": len(ok),
    }


JUDGE = """
WITH t AS (SELECT * FROM unnest(%(trial)s::integer[], %(feature)s::integer[], %(psi)s::float8[], %(ks)s::float8[],
                                %(js)s::float8[], %(mean_shift)s::float8[], %(null_rate)s::float8[],
                                %(out_of_range)s::float8[], %(n)s::bigint[], %(n_valid)s::bigint[],
                                %(n_base)s::bigint[], %(n_base_valid)s::bigint[], %(expected)s::text[],
                                %(base_null)s::float8[])
                  AS u(trial, feature, psi, ks, js, mean_shift, null_rate, out_of_range, n, n_valid, n_base,
                       n_base_valid, expected, base_null)),
c AS (SELECT metric, confidence FROM pgscore.drift_thresholds)
SELECT t.trial, t.feature, old.status, new.status, new.firing, fl.floors
  FROM t
 CROSS JOIN LATERAL pgscore.judge(ARRAY['psi', 'ks', 'js', 'mean_shift', 'null_rate', 'out_of_range'],
                                  ARRAY[t.psi, t.ks, t.js, t.mean_shift, t.null_rate, t.out_of_range],
                                  ARRAY[t.n_valid, t.n_valid, t.n_valid, t.n_valid, t.n, t.n_valid]) old
 CROSS JOIN LATERAL (SELECT ARRAY(SELECT CASE WHEN m.n > 0 THEN pgscore.noise_floor(m.metric, m.n, m.n_base, t.expected::float8[],
                                                                 (SELECT c.confidence ^ (1 / %(family)s::float8)
                                                                  FROM c WHERE c.metric = m.metric),
                                                                 CASE WHEN m.metric = 'null_rate' THEN t.base_null END) END
                FROM unnest(ARRAY['psi', 'ks', 'js', 'mean_shift', 'null_rate', 'out_of_range'],
                            ARRAY[t.n_valid, t.n_valid, t.n_valid, t.n_valid, t.n, t.n_valid],
                            ARRAY[t.n_base_valid, t.n_base_valid, t.n_base_valid, t.n_base_valid, t.n_base,
                                  t.n_base_valid]) WITH ORDINALITY AS m(metric, n, n_base, i)
               ORDER BY m.i) AS floors) fl
 CROSS JOIN LATERAL pgscore.judge(
        ARRAY['psi', 'ks', 'js', 'mean_shift', 'null_rate', 'out_of_range'],
        ARRAY[t.psi, t.ks, t.js, t.mean_shift, t.null_rate, t.out_of_range],
        ARRAY[t.n_valid, t.n_valid, t.n_valid, t.n_valid, t.n, t.n_valid], fl.floors) new
"""


def draw(n, seed, features):
    """n rows of the churn table's 12 features and, past them, features - 12 standard-normal ones."""
    X, _, names = datasets.churn(n, seed=seed)
    if features > 12:
        X = np.column_stack([X, np.random.default_rng([seed, 1]).standard_normal((n, features - 12))])
        names = names + [f"z{i}" for i in range(features - 12)]
    return X, names


def window(n, seed, case, sd, features=12):
    """A window of n fresh rows; monthly_charges moved by half its baseline standard deviation sd, or 30% of
    data_usage_gb blanked, as the case says."""
    X, _ = draw(n, seed, features)
    if case == "mean +0.5 sd":
        X[:, 1] += 0.5 * sd
    elif case == "30% NULL":
        X[np.random.default_rng(seed).random(n) < 0.3, 5] = np.nan
    return X


def run(conn, bases, names, n, trials, case, first_seed):
    cols = {k: [] for k in ("trial", "feature", *METRICS, "n", "n_valid", "n_base", "n_base_valid", "expected",
                            "base_null")}
    for t in range(trials):
        X = window(n, first_seed + t, case, bases[1]["std"], len(bases))
        for f, base in enumerate(bases):
            m = metrics_of(X[:, f], base)
            cols["trial"].append(t)
            cols["feature"].append(f)
            for k in (*METRICS, "n", "n_valid"):
                cols[k].append(m[k])
            cols["n_base"].append(base["n"])
            cols["n_base_valid"].append(round(base["n"] * (1 - base["null_rate"])) or None)
            cols["expected"].append("{" + ",".join(repr(float(e)) for e in base["expected"]) + "}")
            cols["base_null"].append(base["null_rate"])
    with conn.cursor() as cur:
        # each metric family-wise over the model's features and score, as drift_stats_of judges them since 0088
        # (--per-feature: at the confidence for each, as 0085 and 0086 did)
        cur.execute(JUDGE, {**cols, "family": 1 if PER_FEATURE else len(bases) + 1})
        rows = cur.fetchall()
    any_old, alert_old, any_new, alert_new, hit_old, hit_new = (set() for _ in range(6))
    target = {"mean +0.5 sd": 1, "30% NULL": 5}.get(case)
    fired = {}
    over = dict.fromkeys(METRICS, 0)  # feature-windows over the floor alone, per metric
    checked = dict.fromkeys(METRICS, 0)
    for trial, feature, old, new, firing, floors in rows:
        for m, fl in zip(METRICS, floors):
            v = cols[m][trial * len(bases) + feature]
            if fl is not None and v is not None:
                checked[m] += 1
                over[m] += abs(v) > fl if m == "mean_shift" else v > fl
        for m in firing.split(", ") if firing else ():
            fired[(names[feature], m)] = fired.get((names[feature], m), 0) + 1
        if old in ("warn", "alert"):
            any_old.add(trial)
            hit_old.update([trial] if feature == target else [])
        if old == "alert":
            alert_old.add(trial)
        if new in ("warn", "alert"):
            any_new.add(trial)
            hit_new.update([trial] if feature == target else [])
        if new == "alert":
            alert_new.add(trial)
    pct = lambda s: f"{100 * len(s) / trials:5.1f}%"  # noqa: E731
    line = (f"n={n:<5} {case:<13} thresholds alone: any warn/alert {pct(any_old)}, alert {pct(alert_old)}"
            f" | with floors: any warn/alert {pct(any_new)}, alert {pct(alert_new)}")
    if target is not None:
        line += f" | shifted feature at warn/alert: {pct(hit_old)} -> {pct(hit_new)}"
    print(line, flush=True)
    if case == "no drift":
        print("    over the floor alone (feature-windows, any threshold aside): " + ", ".join(
            f"{m} {100 * over[m] / checked[m]:.2f}%" for m in METRICS if checked[m]), flush=True)
    if fired:
        per_metric = {}
        for (_, m), k in fired.items():
            per_metric[m] = per_metric.get(m, 0) + k
        print("    with floors, feature-windows at warn/alert per metric: " + ", ".join(
            f"{m} {k}" for m, k in sorted(per_metric.items(), key=lambda x: -x[1])), flush=True)
        top = sorted(fired.items(), key=lambda x: -x[1])[:6]
        print("    with floors, firing (feature metric: windows):", ", ".join(f"{f} {m}: {k}" for (f, m), k in top),
              flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=400, help="windows per size and case (10..2000)")
    ap.add_argument("--n", type=int, nargs="+", default=[100, 300], help="window sizes (10..10000)")
    ap.add_argument("--features", type=int, default=12,
                    help="features of the model: the churn table's 12 and, past them, standard-normal ones (12..200)")
    ap.add_argument("--per-feature", action="store_true",
                    help="each feature's floors at the confidence (0085, 0086), not family-wise over the model (0088)")
    ap.add_argument("--confidence", type=float, help="every metric's drift_thresholds.confidence (default: 0.999)")
    ap.add_argument("--cases", default=",".join(CASES),
                    help="which cases, comma-separated, of: " + ", ".join(CASES).replace("%", "%%"))
    args = ap.parse_args()
    # a case misspelt ran nothing of it, and nothing at all where none was right, without a word
    cases = [c.strip() for c in args.cases.split(",")]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        ap.error(f"--cases: no case {', '.join(repr(c) for c in unknown)}; the cases are: {', '.join(CASES)}")
    if args.confidence is not None and not 0 < args.confidence < 1:
        ap.error("--confidence must be between 0 and 1")
    if not 10 <= args.trials <= 2000 or not all(10 <= n <= 10_000 for n in args.n) or len(args.n) > 5 \
            or not 12 <= args.features <= 200 or args.trials * args.features > 200_000:
        ap.error("--trials must be 10..2000, up to 5 sizes --n of 10..10000, --features 12..200 and"
                 " --trials x --features at most 200,000")
    global PER_FEATURE
    PER_FEATURE = args.per_feature
    X, names = draw(3000, 0, args.features)
    bases = baseline.capture(X, names, None)
    with scratch_database("drift_noise", "pgscore-drift-noise-") as url:
        conn = psycopg2.connect(url)
        conn.autocommit = True
        cur = conn.cursor()
        if args.confidence is not None:
            cur.execute("UPDATE pgscore.drift_thresholds SET confidence = %s", (args.confidence,))
        cur.execute("SELECT string_agg(DISTINCT confidence::text, ', ') FROM pgscore.drift_thresholds")
        (conf,), = cur.fetchall()
        print(f"schema {migrate.current(url)}; {args.trials} windows per size and case; baseline 3,000 rows, {args.features} features;"
              f" confidence {conf}" + (" for each feature" if PER_FEATURE else f", family-wise over the {args.features} features and a score")
              + "; default thresholds and min_n", flush=True)
        cur.execute("SELECT n, pgscore.noise_floor('psi', n, 3000, array_fill(0.1::float8, ARRAY[10]), 0.999), "
                    "pgscore.noise_floor('js', n, 3000, array_fill(0.1::float8, ARRAY[10]), 0.999), "
                    "pgscore.noise_floor('ks', n, 3000, NULL, 0.999), pgscore.noise_floor('mean_shift', n, 3000, NULL, 0.999) "
                    "FROM unnest(%s::bigint[]) n", (args.n,))
        for n, psi, js, ks, shift in cur.fetchall():
            print(f"floors at n={n} against 3,000 (ten equal bins), confidence 0.999: PSI {psi:.3f}, JS {js:.3f}, "
                  f"KS {ks:.3f}, mean shift {shift:.3f} sd", flush=True)
        for n in args.n:
            for i, case in enumerate(CASES):
                if case not in cases:
                    continue
                run(conn, bases, names, n, args.trials, case, first_seed=1000 + 100_000 * i)
        conn.close()


if __name__ == "__main__":
    main()
