"""Validation metrics on a held-out part of the training data."""

from __future__ import annotations

import numpy as np


HOLDOUT_SHARE = 0.2  # of the rows, held out (train_test_split's test_size)
HOLDOUT_MIN_ROWS = 10  # fewer: no hold-out


# deploy's note of a version made live with a worse hold-out metric than the live one's: the headline metric both
# versions recorded (the first of these), and how much worse it may be before the note is printed: each version's is
# measured on a fifth of its own training rows, so two equally good versions differ by sampling alone
WORSE_MARGIN = {"auc": 0.01, "auc_ovr": 0.01, "accuracy": 0.01, "r2": 0.01}  # higher is better; by this much
WORSE_RMSE_SHARE = 0.02  # lower is better: an rmse over the live one's by more than 2% of it


def worse_than(new: dict | None, old: dict | None) -> tuple[str, float, float] | None:
    """(metric, new value, old value) where the headline hold-out metric both records hold (auc, auc_ovr,
    accuracy, r2, then rmse) is worse in `new` than in `old` beyond its margin; None where it is not, or where they
    share none (a version deployed without --target records none)."""
    new, old = new or {}, old or {}
    for k in (*WORSE_MARGIN, "rmse"):
        a, b = new.get(k), old.get(k)
        if not (isinstance(a, (int, float)) and isinstance(b, (int, float))) or isinstance(a, bool) \
                or isinstance(b, bool) or not (np.isfinite(a) and np.isfinite(b)):
            continue
        worse = a > b * (1 + WORSE_RMSE_SHARE) if k == "rmse" else a < b - WORSE_MARGIN[k]
        return (k, float(a), float(b)) if worse else None
    return None


class HoldoutError(Exception):
    """The hold-out copy could not be trained on the data given (scikit-learn's refusal, or a class all in the
    hold-out): the data's problem, not pgscore's; the message says which."""


def holdout(estimator, X, y, task: str, test_size: float = HOLDOUT_SHARE, seed: int = 0,
            matrix=None) -> tuple[dict, np.ndarray | None, np.ndarray | None, tuple | None]:
    """Refit a clone on the rest, measure on the held-out part (the deployed estimator is untouched).

    Returns the metrics and, given `matrix` (X as the float array the server scores), the clone's
    scores of the held-out rows of it: scores of rows the model did not learn from, which is what it
    will give in service (a forest or a boosted model scores its own training rows more confidently);
    then, for a multiclass model, the classes the clone predicts for those rows (the class mix's baseline,
    migration 0122); then (the positions in `matrix` of the rows the clone was refit on, its scores of them):
    registry.score_baseline compares those with its hold-out scores (a model that scores its training rows unlike
    new ones) and with the deployed version's scores of the same rows. None for the scores, classes and the pair
    when the hold-out was skipped."""
    from sklearn.base import clone
    from sklearn.model_selection import train_test_split

    from pgscore import features

    y = np.asarray(y)
    if len(y) < HOLDOUT_MIN_ROWS:
        return {"holdout": "skipped: fewer than 10 rows"}, None, None, None
    strat = y if task != "regression" and np.unique(y, return_counts=True)[1].min() >= 2 else None
    X_tr, X_te, y_tr, y_te, fit_at, at = train_test_split(X, y, np.arange(len(y)), test_size=test_size,
                                                     random_state=seed, stratify=strat)
    try:
        model = clone(estimator).fit(X_tr, y_tr)
    except MemoryError:
        raise
    except Exception as e:  # noqa: BLE001 - scikit-learn's refusal to fit the copy on the data it was given
        raise HoldoutError(f"{type(e).__name__}: {e}") from e
    if task != "regression":
        unseen = sorted(set(np.unique(y_te).tolist()) - set(np.asarray(model.classes_).tolist()), key=str)
        if unseen:  # (its scores have no column for them: the metrics cannot be measured)
            raise HoldoutError(f"the hold-out holds class(es) {', '.join(map(repr, unseen[:5]))} that the other "
                               "80% lacks, so the copy never learnt them")
    out = {"holdout_rows": int(len(y_te)), **evaluate(model, X_te, y_te, task)}
    if task == "binary":
        # the realised AUC's noise floor counts the hold-out's own sampling noise, by its positives (migration 0098)
        out["holdout_positives"] = int(np.sum(y_te == model.classes_[1]))
    if matrix is None:
        return out, None, None, None
    return (out, features.scores_of(model, task, matrix[at]),
            features.predicted_of(model, matrix[at]) if task == "multiclass" else None,
            (fit_at, features.scores_of(model, task, matrix[fit_at])))


def _finite(metrics: dict) -> dict:
    """The metrics with a value scikit-learn could not define (NaN: a multiclass AUC where the hold-out lacks
    a class, with a warning rather than an error) as None, as the others undefined are: JSON has no NaN, and
    the deploy that stored it failed with "invalid input syntax for type json"."""
    return {k: None if isinstance(v, float) and not np.isfinite(v) else v for k, v in metrics.items()}


def evaluate(model, X, y, task: str) -> dict:
    return _finite(_evaluate(model, X, y, task))


def _evaluate(model, X, y, task: str) -> dict:
    from sklearn import metrics as m

    if task == "regression":
        pred = model.predict(X)
        return {"mae": float(m.mean_absolute_error(y, pred)),
                "rmse": float(np.sqrt(m.mean_squared_error(y, pred))),
                "r2": float(m.r2_score(y, pred)),
                "error_kurtosis": error_kurtosis(y, pred)}
    proba = model.predict_proba(X)
    if task == "binary":
        # positive above the threshold, as the realised metrics count it (score > threshold): 0.5 but for a
        # model whose predict thresholds the score itself (positive_above)
        threshold = positive_above(model)
        pred = model.classes_[(proba[:, 1] > threshold).astype(int)]
    else:  # predict's class, which every path logs and the realised accuracy judges (not always the most probable)
        pred = model.predict(X)
    out = {"accuracy": float(m.accuracy_score(y, pred)),
           "log_loss": float(m.log_loss(y, proba, labels=model.classes_))}
    if task == "binary":
        pos = model.classes_[1]
        p1 = proba[:, 1]
        yb = (y == pos).astype(int)
        out.update({
            "auc": float(m.roc_auc_score(yb, p1)) if len(np.unique(yb)) == 2 else None,
            "brier": float(m.brier_score_loss(yb, p1)),
            # positive above the threshold (with 0.5, a score of exactly 0.5 is the negative one), as the accuracy's
            "precision": float(m.precision_score(yb, (pred == pos).astype(int), zero_division=0)),
            "recall": float(m.recall_score(yb, (pred == pos).astype(int), zero_division=0)),
            "threshold": threshold,
        })
    else:
        try:
            out["auc_ovr"] = float(m.roc_auc_score(y, proba, multi_class="ovr", labels=model.classes_))
        except ValueError:
            out["auc_ovr"] = None
    return out


def error_kurtosis(y, pred) -> float:
    """mean(e^4) / mean(e^2)^2 of the errors e = y - pred, about 0 (not their mean): the MSE's variance is
    (kurtosis - 1) mean(e^2)^2 / n, which rmse_rise's noise floor reads (migration 0108); NaN where every error is 0."""
    e = np.asarray(y, dtype=float).ravel() - np.asarray(pred, dtype=float).ravel()
    top = np.max(np.abs(e)) if e.size else 0.0
    if not top > 0 or not np.isfinite(top):
        return float("nan")
    s2 = np.square(e / top)  # scaled first: e^4 overflows float64 past 1e77
    return float(np.mean(s2 * s2) / np.mean(s2) ** 2)


def positive_above(model) -> float:
    """The score (the probability of classes_[1]) above which a binary classifier's predict gives classes_[1],
    which the realised accuracy, precision and recall count as predicted positive: 0.5 where predict takes
    the most probable class (a score of exactly 0.5 is classes_[0], as argmax gives it). A classifier that
    thresholds that probability itself, FixedThresholdClassifier or TunedThresholdClassifierCV (alone or the
    last step of a Pipeline) deciding on predict_proba with classes_[1] as its positive label, gives
    classes_[1] at its threshold and above: the float just below the threshold, so that "above" counts the
    threshold itself, as its predict does. Where it decides on decision_function, or on classes_[0]'s
    probability, no threshold on the score says what its predict gives: 0.5, as for the others."""
    est = model.steps[-1][1] if hasattr(model, "steps") else model
    kind = type(est).__name__
    if kind not in ("FixedThresholdClassifier", "TunedThresholdClassifierCV") or \
            getattr(est, "response_method", None) not in ("auto", "predict_proba"):
        return 0.5
    if getattr(est, "pos_label", None) is not None and est.pos_label != est.classes_[1]:
        return 0.5
    if kind == "FixedThresholdClassifier":
        threshold = 0.5 if est.threshold == "auto" else est.threshold
    else:
        threshold = est.best_threshold_
    return float(np.nextafter(float(threshold), -np.inf))
