"""Train the worked example's churn model and write what its revision reads into models/ beside this file:
the joblib artifact, its sha256 and the training CSV. Run it once before `alembic upgrade head`:

    python make_models.py
"""

from pathlib import Path

import joblib
from sklearn.linear_model import LogisticRegression

from pgscore import artifacts, datasets


def make_models(folder, n=1000, seed=0):
    """(estimator, X, feature names) of the model written into folder/models."""
    models = Path(folder) / "models"
    models.mkdir(exist_ok=True)
    X, y, names = datasets.churn(n, seed=seed)
    est = LogisticRegression(max_iter=500).fit(X, y)
    joblib.dump(est, models / "churn-1.joblib")
    (models / "churn-1.joblib.sha256").write_text(artifacts.sha256((models / "churn-1.joblib").read_bytes()) + "\n")
    (models / "churn-train.csv").write_text(",".join(names + ["churned"]) + "\n" + "\n".join(
        ",".join(map(str, [*r, t])) for r, t in zip(X, y)) + "\n")
    return est, X, names


if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    make_models(here)
    print(f"wrote {here / 'models'}: churn-1.joblib, churn-1.joblib.sha256, churn-train.csv")
