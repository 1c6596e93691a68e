"""Entry points for the PL/Python shims in plpython/: each takes plpy (and GD/TD) as arguments.

Nothing here imports plpy; errors from the core are PgscoreError and are
turned into SQL errors with their SQLSTATE by `raising_sql_errors`.
"""

from __future__ import annotations

import functools
import json

from pgscore.errors import PgscoreError


def raising_sql_errors(fn):
    """Re-raise PgscoreError as plpy.error with its SQLSTATE, detail and hint."""

    @functools.wraps(fn)
    def wrapper(plpy, *args, **kwargs):
        try:
            return fn(plpy, *args, **kwargs)
        except PgscoreError as e:
            plpy.error(e.message, detail=e.detail, hint=e.hint, sqlstate=e.sqlstate)

    return wrapper


@raising_sql_errors
def validate_environment(plpy):
    from pgscore.environment import report

    return json.dumps(report(check=True))


def _runtime(plpy, GD):
    from pgscore.serving import Runtime

    return Runtime.get(plpy, GD)


@raising_sql_errors
def score(plpy, GD, model, features, version=None):
    from pgscore import serving

    m = _runtime(plpy, GD).resolve(model, version)
    return float(serving.score(m, serving.as_row(m, features))[0])


@raising_sql_errors
def predict(plpy, GD, model, features, version=None):
    from pgscore import serving

    m = _runtime(plpy, GD).resolve(model, version)
    value = serving.predict(m, serving.as_row(m, features))[0]
    return str(value.item() if hasattr(value, "item") else value)


@raising_sql_errors
def predict_proba(plpy, GD, model, features, version=None):
    from pgscore import serving

    m = _runtime(plpy, GD).resolve(model, version)
    return serving.predict_proba(m, serving.as_row(m, features))[0].tolist()


_INSERT_MODEL = ("INSERT INTO pgscore.models (name, version, task, estimator, feature_names, feature_types, "
                 "classes, env, metrics, n_train, description) SELECT $1, $2, j->>'task', j->>'estimator', "
                 "ARRAY(SELECT jsonb_array_elements_text(j->'feature_names')), "
                 "ARRAY(SELECT jsonb_array_elements_text(j->'feature_types')), "
                 "NULLIF(j->'classes', 'null'::jsonb), j->'env', coalesce(NULLIF(j->'metrics', 'null'::jsonb), '{}'), "
                 "(j->>'n_train')::bigint, j->>'description' FROM (SELECT $3::jsonb AS j) s RETURNING model_id")
_INSERT_BASELINES = ("INSERT INTO pgscore.baselines (model_id, kind, feature, position, edges, expected, mean, "
                     "std, min, max, null_rate, n) SELECT $1, b.kind, b.feature, b.position, b.edges, b.expected, "
                     "b.mean, b.std, b.min, b.max, b.null_rate, b.n FROM jsonb_to_recordset($2::jsonb) AS b("
                     "kind text, feature text, position int, edges float8[], expected float8[], mean float8, "
                     "std float8, min float8, max float8, null_rate float8, n bigint)")


@raising_sql_errors
def register_model(plpy, GD, name, artifact, sha, meta, baselines, activate, reason):
    from pgscore import artifacts, serving
    from pgscore.errors import ArtifactError, InvalidModel

    serving.check_name(name)
    if artifact is None or not sha or meta is None:
        raise InvalidModel("register_model needs the artifact bytes, their sha256 and the metadata",
                           sqlstate="22004")
    data = bytes(artifact)
    if artifacts.sha256(data) != sha:
        raise ArtifactError(f"model {name}: the artifact does not match the sha256 sent with it",
                            detail="the bytes were changed or truncated on the way")
    key = serving.signing_key()
    signature = artifacts.sign(data, key) if key else None
    # versions number 1, 2, 3... per name; concurrent deploys of one name queue here
    plpy.execute(plpy.prepare("SELECT pg_advisory_xact_lock(hashtext('pgscore.models'), hashtext($1))",
                              ["text"]), [name])
    version = plpy.execute(plpy.prepare("SELECT coalesce(max(version), 0) + 1 AS v FROM pgscore.models "
                                        "WHERE name = $1", ["text"]), [name])[0]["v"]
    model_id = plpy.execute(plpy.prepare(_INSERT_MODEL, ["text", "int4", "text"]),
                            [name, version, meta])[0]["model_id"]
    plpy.execute(plpy.prepare("INSERT INTO pgscore.artifacts (model_id, bytes, sha256, hmac_sha256) "
                              "VALUES ($1, $2, $3, $4)", ["int8", "bytea", "text", "text"]),
                 [model_id, data, sha, signature])
    if baselines:
        plpy.execute(plpy.prepare(_INSERT_BASELINES, ["int8", "text"]), [model_id, baselines])
    if activate is None or activate:
        plpy.execute(plpy.prepare("INSERT INTO pgscore.deployments (model_name, model_id, action, reason) "
                                  "VALUES ($1, $2, 'deploy', $3)", ["text", "int8", "text"]),
                     [name, model_id, reason])
    return [(model_id, version)]
