"""Training-time distributions that the drift views compare against.

Bins follow SQL's width_bucket(value, edges): a value falls in bin i = the
number of edges <= value, so k interior edges make k+1 bins. Edges are actual
data values (quantile method 'lower') above the minimum, so no bin is empty
and none repeats; a feature with few distinct values gets one bin per value.
"""

from __future__ import annotations

import numpy as np

DEFAULT_BINS = 10


def edges_for(values: np.ndarray, n_bins: int = DEFAULT_BINS) -> np.ndarray:
    distinct = np.unique(values)
    if len(distinct) <= 1:
        return np.empty(0)
    if len(distinct) <= n_bins:
        return distinct[1:]  # one bin per distinct value
    probs = np.linspace(0, 1, n_bins + 1)[1:-1]
    edges = np.unique(np.quantile(values, probs, method="lower"))
    return edges[edges > distinct[0]]


def bin_fractions(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
    return counts / max(len(values), 1)


def describe_column(col, n_bins: int = DEFAULT_BINS) -> dict:
    col = np.asarray(col, dtype=float)
    n = int(col.size)
    ok = col[~np.isnan(col)]
    out = {"n": n, "null_rate": float(1 - ok.size / n) if n else 0.0}
    if ok.size == 0:
        return {**out, "edges": [], "expected": [], "mean": None, "std": None, "min": None, "max": None}
    edges = edges_for(ok, n_bins)
    lo, hi = float(ok.min()), float(ok.max())
    # a constant column: its mean is that value and its std exactly 0 (numpy gives 0.2999999999999999 and
    # 1.1e-16 for 2,000 values of 0.3, a mean shift of -14 baseline stds for the same 0.3 in service)
    mean, std = (lo, 0.0) if lo == hi else (float(ok.mean()), float(ok.std()))
    return {**out, "edges": edges.tolist(), "expected": bin_fractions(ok, edges).tolist(),
            "mean": mean, "std": std, "min": lo, "max": hi}


def capture(X: np.ndarray, names: list[str], scores: np.ndarray | None, n_bins: int = DEFAULT_BINS) -> list[dict]:
    """One row per feature (kind 'feature') and one for the score (kind 'score')."""
    rows = [{"kind": "feature", "feature": name, "position": i, **describe_column(X[:, i], n_bins)}
            for i, name in enumerate(names)]
    if scores is not None:
        rows.append({"kind": "score", "feature": "score", "position": 0, **describe_column(scores, n_bins)})
    return rows


def class_mix(predicted, classes: list) -> dict:
    """A multiclass model's predicted-class mix (kind 'class', migration 0122): the share of each of `classes`, in
    their order, among `predicted` (the classes predict gave the rows the score baseline is drawn from). Its edges
    number the classes 1..k-1, so that class i (from 0) is bin i in width_bucket's terms, as the drift views bin
    every baseline."""
    text = np.array([str(c) for c in predicted], dtype=object)  # as the audit log's label holds a class
    counts = np.array([np.sum(text == str(c)) for c in classes], dtype=float)
    n = int(len(text))
    return {"kind": "class", "feature": "class", "position": 0, "edges": [float(i) for i in range(1, len(classes))],
            "expected": (counts / max(n, 1)).tolist(), "mean": None, "std": None, "min": None, "max": None,
            "null_rate": 0.0, "n": n}
