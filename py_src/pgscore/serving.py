"""Server side of the registry: resolve the live version, load and cache models, score rows.

Everything takes `plpy` (and the per-backend dict GD) as arguments; nothing
here imports plpy, so the logic is tested through SQL and the math without a
database.
"""

from __future__ import annotations

import json
import os
import re
import warnings

import numpy as np

from pgscore import artifacts
from pgscore.errors import InvalidModel, PgscoreError, SignatureError, UnknownModel

# the signing key's path comes from the server process's environment, which no
# session can change; a GUC would not do: placeholder GUCs are settable by any
# session and invisible in pg_settings, so an override could not be detected
SIGNING_KEY_ENV = "PGSCORE_SIGNING_KEY_FILE"
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,62}$")

_LIVE = ("SELECT d.model_id, d.action FROM pgscore.deployments d "
         "WHERE d.model_name = $1 ORDER BY d.deployment_id DESC LIMIT 1")
_BY_VERSION = "SELECT m.model_id FROM pgscore.models m WHERE m.name = $1 AND m.version = $2"
_LOAD = ("SELECT m.name, m.version, m.task, m.feature_names, m.classes::text AS classes, m.env::text AS env, "
         "a.bytes, a.sha256, a.hmac_sha256 FROM pgscore.models m JOIN pgscore.artifacts a "
         "ON a.model_id = m.model_id WHERE m.model_id = $1")


class Loaded:
    """A verified, unpickled model and what scoring needs to know about it."""

    __slots__ = ("model_id", "name", "version", "task", "feature_names", "classes", "estimator")

    def __init__(self, model_id, name, version, task, feature_names, classes, estimator):
        self.model_id, self.name, self.version, self.task = model_id, name, version, task
        self.feature_names, self.classes, self.estimator = feature_names, classes, estimator

    @property
    def label(self):
        return f"{self.name} v{self.version}"


class Runtime:
    """Per-backend state kept in GD: prepared plans and models cached by immutable model_id."""

    def __init__(self, plpy):
        self.plpy = plpy
        self.models: dict[int, Loaded] = {}
        self.live = plpy.prepare(_LIVE, ["text"])
        self.by_version = plpy.prepare(_BY_VERSION, ["text", "int4"])
        self.load_plan = plpy.prepare(_LOAD, ["int8"])
        self._threads_limited = False

    @classmethod
    def get(cls, plpy, GD) -> "Runtime":
        rt = GD.get("pgscore.runtime")
        if rt is None:
            rt = GD["pgscore.runtime"] = cls(plpy)
        return rt

    def resolve(self, name, version=None) -> Loaded:
        """The live (or pinned) version of `name`, loaded."""
        if name is None:
            raise UnknownModel("model name is NULL", sqlstate="22004")
        if version is None:
            rows = self.live.execute([name])
            if not rows or rows[0]["action"] == "retire":
                self._unknown(name, retired=bool(rows))
            model_id = rows[0]["model_id"]
        else:
            rows = self.by_version.execute([name, version])
            if not rows:
                self._unknown(name, version=version)
            model_id = rows[0]["model_id"]
        model = self.models.get(model_id)
        return model if model is not None else self.load(model_id)

    def _unknown(self, name, version=None, retired=False):
        exists = self.plpy.execute(self.plpy.prepare(
            "SELECT 1 FROM pgscore.models WHERE name = $1 LIMIT 1", ["text"]), [name])
        if not exists:
            raise UnknownModel(f"there is no model {name!r}", hint="list models with: SELECT * FROM pgscore.model_versions")
        if version is not None:
            raise UnknownModel(f"there is no version {version} of model {name!r}")
        raise UnknownModel(f"model {name!r} has no live version" + (" (it was retired)" if retired else ""),
                           sqlstate="55000", hint="activate one with pgscore.activate(name, version)")

    def load(self, model_id) -> Loaded:
        rows = self.load_plan.execute([model_id])
        if not rows:
            raise UnknownModel(f"there is no model with model_id {model_id}")
        r = rows[0]
        label = f"{r['name']} v{r['version']}"
        data = bytes(r["bytes"]) if r["bytes"] is not None else b""
        artifacts.verify(label, data, r["sha256"], r["hmac_sha256"], signing_key())
        for diff in artifacts.check_env(label, json.loads(r["env"]), allow_mismatch=allow_mismatch(self.plpy)):
            self.plpy.warning(f"pgscore: loading model {label} written with {diff}")
        estimator = artifacts.loads(label, data)
        self._limit_threads()
        model = Loaded(model_id, r["name"], r["version"], r["task"], list(r["feature_names"]),
                       json.loads(r["classes"]) if r["classes"] else None, estimator)
        self.models[model_id] = model
        return model

    def _limit_threads(self):
        # one native thread per backend: several sessions with one thread per core collapse throughput
        if not self._threads_limited:
            from threadpoolctl import threadpool_limits

            threadpool_limits(1)
            self._threads_limited = True


def signing_key() -> bytes | None:
    """The server's signing key (from $PGSCORE_SIGNING_KEY_FILE in its environment), or None when off."""
    path = os.environ.get(SIGNING_KEY_ENV)
    return artifacts.read_key(path) if path else None


def allow_mismatch(plpy) -> bool:
    rows = plpy.execute("SELECT current_setting('pgscore.allow_version_mismatch', true) AS v")
    return (rows[0]["v"] or "").lower() in ("on", "true", "yes", "1")


# -- scoring -----------------------------------------------------------------
def as_row(model: Loaded, features) -> np.ndarray:
    """A (1, n) float matrix from a float8[]; NULL elements become NaN (the model decides if it copes)."""
    if features is None:
        raise InvalidModel(f"model {model.label}: the feature array is NULL", sqlstate="22004")
    n = len(model.feature_names)
    if len(features) != n:
        raise InvalidModel(f"model {model.label} takes {n} features, got {len(features)}",
                           detail="expected, in order: " + ", ".join(model.feature_names), sqlstate="22023")
    return np.array([[np.nan if v is None else v for v in features]], dtype=float)


def _run(model: Loaded, fn, X):
    try:
        with warnings.catch_warnings():
            # models fitted on DataFrames warn on arrays; the order is checked above
            warnings.simplefilter("ignore", UserWarning)
            return fn(X)
    except ValueError as e:
        msg = str(e)
        bad = _bad_features(model, X)
        if bad and ("NaN" in msg or "infinity" in msg or "too large" in msg):
            raise InvalidModel(f"model {model.label} cannot take {bad}",
                               detail=msg.splitlines()[0], sqlstate="22023",
                               hint="this model has no imputer for missing values; pass a number") from e
        raise PgscoreError(f"model {model.label} failed: {msg.splitlines()[0]}", sqlstate="22023") from e


def _bad_features(model: Loaded, X) -> str:
    parts = []
    for name, v in zip(model.feature_names, X[0]):
        if np.isnan(v):
            parts.append(f"NULL/NaN in feature {name!r}")
        elif np.isinf(v):
            parts.append(f"Infinity in feature {name!r}")
    return ", ".join(parts)


def score(model: Loaded, X) -> np.ndarray:
    if model.task == "regression":
        return np.asarray(_run(model, model.estimator.predict, X), dtype=float)
    proba = _run(model, model.estimator.predict_proba, X)
    return proba[:, 1] if model.task == "binary" else proba.max(axis=1)


def predict_proba(model: Loaded, X) -> np.ndarray:
    if model.task == "regression":
        raise InvalidModel(f"model {model.label} is a regressor and has no class probabilities",
                           hint="use pgscore.score or pgscore.predict", sqlstate="42809")
    return _run(model, model.estimator.predict_proba, X)


def predict(model: Loaded, X) -> list:
    return list(_run(model, model.estimator.predict, X))


def check_name(name) -> None:
    if name is None or not NAME_RE.match(name):
        raise InvalidModel(f"invalid model name {name!r}",
                           hint="a letter, then up to 62 letters, digits, '_', '.' or '-'")
