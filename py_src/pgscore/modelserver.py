"""The model server of the benchmark's HTTP alternative: what a user would put behind gunicorn.

A WSGI app: POST /score with {"features": [...]} answers {"score": p}, the
positive-class probability. Each worker loads the joblib file named by
$PGSCORE_MODEL_FILE when it starts (when gunicorn imports this module in
it) if $PGSCORE_MODEL_READY_DIR is set, and then leaves a file ready-<pid>
there, so that the benchmark starts its clock only once every worker can
answer at once; otherwise on its first request. Native thread pools are
limited to one thread (several workers share the cores, as pgscore's
backends do).
With $PGSCORE_MODEL_ENGINE=compiled it scores with the same compiled numpy
evaluator pgscore uses in the database, instead of the estimator's own
predict_proba (what a user would run), so that the benchmark can show both;
an estimator the compiler does not handle (compiled.Unsupported) is scored by
predict_proba then, as pgscore's deploy falls back to scikit-learn.
"""

from __future__ import annotations

import json
import os

_model = None  # (number of features, row -> score)


def _load():
    global _model
    if _model is None:
        import joblib
        import numpy as np
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
        est = joblib.load(os.environ["PGSCORE_MODEL_FILE"])
        n = int(est.n_features_in_)
        _model = n, lambda row: est.predict_proba(np.asarray([row], dtype=float))[0, 1]
        if os.environ.get("PGSCORE_MODEL_ENGINE") == "compiled":
            from pgscore import compiled

            try:
                _model = n, compiled.compile_estimator(est, "binary", n).score_row
            except compiled.Unsupported:  # as registry.compile_evaluator does: scikit-learn scores it
                pass
    return _model


def _reply(start_response, status, payload):
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def app(environ, start_response):
    if environ.get("REQUEST_METHOD") != "POST" or environ.get("PATH_INFO") != "/score":
        return _reply(start_response, "404 Not Found", {"error": "POST /score"})
    try:
        n = int(environ.get("CONTENT_LENGTH") or 0)
        features = json.loads(environ["wsgi.input"].read(n))["features"]
        n_features, score = _load()
        row = [float(v) for v in features]
        if len(row) != n_features:
            raise ValueError(f"expected {n_features} features, got {len(row)}")
        p = float(score(row))
    except (ValueError, KeyError, TypeError) as e:  # not JSON, no features, not numbers, the wrong count
        return _reply(start_response, "400 Bad Request", {"error": f"{type(e).__name__}: {e}"})
    return _reply(start_response, "200 OK", {"score": p})


if os.environ.get("PGSCORE_MODEL_READY_DIR"):  # a gunicorn worker starting: load now, then say so
    _load()
    with open(os.path.join(os.environ["PGSCORE_MODEL_READY_DIR"], f"ready-{os.getpid()}"), "w"):
        pass
