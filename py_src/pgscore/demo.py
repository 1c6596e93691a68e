"""`pgscore demo`: the product end to end on the embedded database."""

from __future__ import annotations

import json


def run(args, cluster, say=print) -> int:
    from pgscore import migrate

    say("== 1. embedded PostgreSQL")
    cluster.start()
    url = cluster.url()
    say(f"database: {url}")

    say("== 2. schema")
    before = migrate.current(url)
    report = migrate.upgrade(url)
    after = migrate.current(url)
    say(f"pgscore schema revision {before or 'none'} -> {after}")
    env = json.loads(report) if isinstance(report, str) else report
    say("inside the database: " + ", ".join(
        f"{k.replace('_', '-')} {env.get(k)}" for k in ("python", "pgscore", "scikit_learn", "numpy", "joblib")))

    say("== 3. train and deploy a churn model")
    import psycopg2
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from pgscore import datasets, registry

    X, y, names = datasets.churn(5000, seed=0)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)
    rec = registry.deploy(url, "churn", model, X, y, feature_names=names, description="demo churn model",
                          reason="pgscore demo")
    m = rec["metrics"]
    say(f"deployed churn version {rec['version']} (sha256 {rec['sha256'][:12]}..., "
        f"{'signed' if rec['signed'] else 'unsigned'}): hold-out AUC {m['auc']:.3f}, accuracy {m['accuracy']:.3f} "
        f"on {m['holdout_rows']} rows; baseline of {len(names)} features and the score captured")

    say("== 4. score in SQL")
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        for i in range(3):
            cur.execute("SELECT pgscore.score('churn', %s), pgscore.predict('churn', %s)",
                        (X[i].tolist(), X[i].tolist()))
            s, label = cur.fetchone()
            want = model.predict_proba(X[i:i + 1])[0, 1]
            say(f"customer {i}: SELECT pgscore.score('churn', ARRAY[...]) = {s:.6f} "
                f"(scikit-learn in Python: {want:.6f}), predicted label {label}")
    conn.close()

    say("== done")
    say(f"connect with: psql '{url}'")
    say("stop the database with: pgscore db stop" + (f" --data-dir {args.data_dir}" if args.data_dir else ""))
    return 0
