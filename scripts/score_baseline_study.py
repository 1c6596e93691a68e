"""Which score baseline gives the deployed model's scores of new rows of the same kind no drift, for every family?

For each task (binary, multiclass, regression), estimator family and seed: the estimator is fitted on N rows (the
"deployed" model, D), and its scores of N fresh rows of the same generator (iid) and of N shifted rows are judged,
with pgscore's own binning, PSI and KS (baseline.describe_column's edges; the drift views' PSI with shares floored
at 1e-4 and KS at the bin edges), against each candidate baseline drawn from the N training rows:

  in-sample   D's scores of its own training rows (pgscore without --target)
  holdout     a copy refit on 80% scoring the other 20% (pgscore with --target, before session 62)
  oof         5-fold cross-fitting: each fold scored by a copy refit on the other four (cross_val_predict)
  reference   D's scores of N other rows it did not learn from (what NannyML and Evidently call the reference
              set: not available from the training data alone, shown as the target every other is measured by)
  chosen      the rule deploy uses (registry.score_baseline): see its docstring

Bounded: 3 tasks x 8 families (binary 9: review r5's isotonic-calibrated forest; and 2 on the trial's fraud data, rare
positives) x SEEDS seeds, N rows each (760 s at N=3000, SEEDS=3 with OMP_NUM_THREADS=1 on the shared machine, as
docs/performance.md says, before the calibrated forest; 39 s at 600 1; 208 s at 1000 2 with it, other tests running).
Run: .venv/bin/python scripts/score_baseline_study.py [N] [SEEDS]
"""

from __future__ import annotations

import sys
import time

import numpy as np

sys.path.insert(0, "py_src")

from pgscore import baseline, features, metrics, registry  # noqa: E402


def psi_ks(base_scores, cur_scores):
    d = baseline.describe_column(base_scores)
    edges, e = np.asarray(d["edges"]), np.asarray(d["expected"])
    c = baseline.bin_fractions(np.asarray(cur_scores, float), edges)
    cf, ef = np.maximum(c, 1e-4), np.maximum(e, 1e-4)
    return float(np.sum((cf - ef) * np.log(cf / ef))), float(np.max(np.abs(np.cumsum(c) - np.cumsum(e))))


def gen(task, seed, n, shift=False):
    r = np.random.default_rng(seed)
    amount = r.lognormal(3, 1, n) * (3 if shift else 1)  # shifted: amount x3 and x4 by 1.5 standard deviations  # the trial's generator (hT11 repro/make.py) and two more
    n_tx = r.poisson(3, n).astype(float)
    age = r.integers(1, 2000, n).astype(float)
    x4 = r.normal(1.5 if shift else 0, 1, n)
    x5 = r.integers(0, 5, n).astype(float)
    X = np.column_stack([amount, n_tx, age, x4, x5])
    z = 0.01 * amount + 0.3 * n_tx - 0.001 * age + 0.8 * x4 + 0.2 * x5
    if task == "rare positives":  # the trial's fraud model's data (hT11 train.py): about 3% positives
        X = np.column_stack([amount, r.integers(0, 24, n).astype(float), n_tx, age])
        z = -4 + 0.01 * amount + 0.3 * n_tx - 0.001 * age + 0.05 * (X[:, 1] < 5)
        return X, (r.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    if task == "binary":
        y = (r.random(n) < 1 / (1 + np.exp(-(z - 3)))).astype(int)
    elif task == "multiclass":
        y = np.digitize(z + r.logistic(0, 1, n), [1.0, 2.5])
    else:
        y = z * 10 + r.normal(0, 5, n)
    return X, y


def families(task):
    from sklearn import ensemble, linear_model, neighbors, pipeline, preprocessing, tree

    if task == "rare positives":
        return {"gradient boosting (50)": ensemble.GradientBoostingClassifier(n_estimators=50, random_state=0),
                "tree (depth 5)": tree.DecisionTreeClassifier(max_depth=5, random_state=0)}
    if task == "regression":
        return {
            "ridge pipeline": pipeline.make_pipeline(preprocessing.StandardScaler(), linear_model.Ridge()),
            "tree (default)": tree.DecisionTreeRegressor(random_state=0),
            "tree (depth 5)": tree.DecisionTreeRegressor(max_depth=5, random_state=0),
            "random forest": ensemble.RandomForestRegressor(n_estimators=100, random_state=0),
            "extra trees": ensemble.ExtraTreesRegressor(n_estimators=100, random_state=0),
            "gradient boosting": ensemble.GradientBoostingRegressor(random_state=0),
            "hist gradient boosting": ensemble.HistGradientBoostingRegressor(random_state=0),
            "knn (15)": pipeline.make_pipeline(preprocessing.StandardScaler(),
                                               neighbors.KNeighborsRegressor(15)),
        }
    from sklearn import calibration

    extra = {} if task != "binary" else {"calibrated forest": calibration.CalibratedClassifierCV(  # review r5
        ensemble.RandomForestClassifier(n_estimators=50, random_state=0), method="isotonic")}
    return {
        **extra,
        "logistic pipeline": pipeline.make_pipeline(preprocessing.StandardScaler(),
                                                    linear_model.LogisticRegression(max_iter=1000)),
        "tree (default)": tree.DecisionTreeClassifier(random_state=0),
        "tree (depth 5)": tree.DecisionTreeClassifier(max_depth=5, random_state=0),
        "random forest": ensemble.RandomForestClassifier(n_estimators=100, random_state=0),
        "extra trees": ensemble.ExtraTreesClassifier(n_estimators=100, random_state=0),
        "gradient boosting": ensemble.GradientBoostingClassifier(random_state=0),
        "hist gradient boosting": ensemble.HistGradientBoostingClassifier(random_state=0),
        "knn (15)": pipeline.make_pipeline(preprocessing.StandardScaler(), neighbors.KNeighborsClassifier(15)),
    }


def candidates(est, task, X, y, Xref):
    from sklearn.base import clone
    from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

    out = {"in-sample": features.scores_of(est, task, X)}
    strat = y if task != "regression" else None
    X_tr, X_te, y_tr, _ = train_test_split(X, y, test_size=0.2, random_state=0, stratify=strat)
    out["holdout"] = features.scores_of(clone(est).fit(X_tr, y_tr), task, X_te)
    folds = (StratifiedKFold if strat is not None else KFold)(5, shuffle=True, random_state=0)
    oof = np.empty(len(X))
    for tr, te in folds.split(X, y):
        oof[te] = features.scores_of(clone(est).fit(X[tr], y[tr]), task, X[te])
    out["oof"] = oof
    out["reference"] = features.scores_of(est, task, Xref)
    _, held, _, fit = metrics.holdout(est, X, y, task, matrix=X)  # deploy's own hold-out, then its rule
    out["chosen"], _, note = registry.score_baseline(est, task, X, out["in-sample"], None, held, None, fit)
    out["chosen_is"] = note.split(":")[0]
    return out


def main(n=3000, seeds=3):
    names = ["in-sample", "holdout", "oof", "reference", "chosen"]
    print(f"N={n} rows, {seeds} seeds; each cell: PSI / KS of D's scores of {n} iid rows against the baseline, "
          "worst over the seeds; then [PSI of shifted rows, least over the seeds]")
    print(f"| task | family | {' | '.join(names)} |")
    print("|" + " --- |" * (len(names) + 2))
    for task in ("binary", "multiclass", "regression", "rare positives"):
        for fam in families(task):
            cells, chose = {k: [] for k in names}, set()
            for seed in range(seeds):
                X, y = gen(task, 10 * seed + 1, n)
                Xref, _ = gen(task, 10 * seed + 2, n)
                Xnew, _ = gen(task, 10 * seed + 3, n)
                Xsh, _ = gen(task, 10 * seed + 4, n, shift=True)
                from sklearn.base import clone
                est = clone(families(task)[fam]).fit(X, y)
                kind = "binary" if task == "rare positives" else task
                new, sh = features.scores_of(est, kind, Xnew), features.scores_of(est, kind, Xsh)
                got = candidates(est, kind, X, y, Xref)
                chose.add(got.pop("chosen_is"))
                for k, b in got.items():
                    cells[k].append((*psi_ks(b, new), psi_ks(b, sh)[0]))
            row = []
            for k in names:
                v = np.array(cells[k])
                row.append(f"{v[:, 0].max():.3f} / {v[:, 1].max():.3f} [{v[:, 2].min():.2f}]")
            print(f"| {task} | {fam} | {' | '.join(row)} ({'/'.join(sorted(chose))}) |", flush=True)


if __name__ == "__main__":
    t = time.time()
    main(*(int(a) for a in sys.argv[1:3]))
    print(f"({time.time() - t:.0f} s)")
