"""The model server of the benchmark's HTTP alternative: what a user would put behind gunicorn.

A WSGI app: POST /score with {"features": [...]} answers {"score": p}, the
positive-class probability from the estimator's own predict_proba. Each
worker loads the joblib file named by $PGSCORE_MODEL_FILE on its first
request, with native thread pools limited to one thread (several workers
share the cores, as pgscore's backends do).
"""

from __future__ import annotations

import json
import os

_model = None


def _load():
    global _model
    if _model is None:
        import joblib
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
        _model = joblib.load(os.environ["PGSCORE_MODEL_FILE"])
    return _model


def _reply(start_response, status, payload):
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def app(environ, start_response):
    import numpy as np

    if environ.get("REQUEST_METHOD") != "POST" or environ.get("PATH_INFO") != "/score":
        return _reply(start_response, "404 Not Found", {"error": "POST /score"})
    try:
        n = int(environ.get("CONTENT_LENGTH") or 0)
        features = json.loads(environ["wsgi.input"].read(n))["features"]
        score = float(_load().predict_proba(np.asarray([features], dtype=float))[0, 1])
    except (ValueError, KeyError, TypeError) as e:  # not JSON, no features, not numbers, the wrong count
        return _reply(start_response, "400 Bad Request", {"error": f"{type(e).__name__}: {e}"})
    return _reply(start_response, "200 OK", {"score": score})
