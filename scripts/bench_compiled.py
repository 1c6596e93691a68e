"""Time compiled evaluators against scikit-learn, one thread: score_row latency and score() throughput.

    .venv/bin/python scripts/bench_compiled.py

"NaN row" is score_row with feature 3 missing, where the model allows it.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before numpy / scikit-learn load their thread pools

import math  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from pgscore.compiled import Evaluator, compile_estimator, verify  # noqa: E402

N_FEATURES, N_ROWS = 12, 100_000


def best(fn, repeat=5, number=1):
    """Best wall time of `number` calls, over `repeat` tries."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t) / number)
    return min(times)


def models(X, y):
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    yield "logistic", make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    # the same with numeric columns imputed and the two integer-coded ones one-hot
    pre = ColumnTransformer([("num", make_pipeline(SimpleImputer(), StandardScaler()), slice(0, -2)),
                             ("cat", OneHotEncoder(handle_unknown="ignore"), slice(-2, None))])
    yield "logit+1hot", make_pipeline(pre, LogisticRegression()).fit(X, y)
    yield "rf100/d8", RandomForestClassifier(100, max_depth=8, random_state=0, n_jobs=1).fit(X, y)
    yield "hgb100", HistGradientBoostingClassifier(max_iter=100, early_stopping=False, random_state=0).fit(X, y)


def main():
    warnings.simplefilter("ignore", UserWarning)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N_ROWS, N_FEATURES))
    X[:, -2:] = np.floor(np.abs(X[:, -2:]) * 3)  # two integer-coded categories
    y = (X[:, :4].sum(axis=1) + 0.5 * rng.normal(size=N_ROWS) > 0).astype(int)
    rows = X[:2000].tolist()
    print(f"{N_FEATURES} features, score(X) on {N_ROWS} rows, one thread")
    print(f"{'model':10} {'score_row':>10} {'NaN row':>10} {'compiled rows/s':>16} {'sklearn rows/s':>15} "
          f"{'sklearn 1 row':>14}")
    with threadpool_limits(1):
        for name, est in models(X[:20_000], y[:20_000]):
            ev = Evaluator.from_bytes(compile_estimator(est, "binary", N_FEATURES).to_bytes())
            verify(ev, est, "binary", X[:5000])
            it = iter(range(10**9))
            row = best(lambda: ev.score_row(rows[next(it) % 2000]), number=2000)
            holed = [r[:3] + [float("nan")] + r[4:] for r in rows[:200]]
            nan_row = best(lambda: ev.score_row(holed[next(it) % 200]), number=500) if ev.nan_ok[3] else math.nan
            ours = best(lambda: ev.score(X), repeat=3)
            theirs = best(lambda: est.predict_proba(X), repeat=3)
            one = best(lambda: est.predict_proba(X[:1]), number=200)
            nan_us = "-" if math.isnan(nan_row) else f"{nan_row * 1e6:.2f}us"
            print(f"{name:10} {row * 1e6:8.2f}us {nan_us:>10} {N_ROWS / ours:16,.0f} "
                  f"{N_ROWS / theirs:15,.0f} {one * 1e6:12.0f}us")


if __name__ == "__main__":
    main()
