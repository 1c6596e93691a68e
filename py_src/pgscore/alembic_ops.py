"""Deploy models from alembic revisions: the artifact is referenced by path and sha256, never pasted in.

    from pgscore.alembic_ops import deploy_model, undeploy_model

    def upgrade():
        deploy_model("churn", HERE / "models/churn-3.joblib", "9f2c...", revision=revision,
                     train_csv=HERE / "models/churn-train.csv", target="churned")

    def downgrade():
        undeploy_model("churn", revision=revision)
"""

from __future__ import annotations

import logging

from pgscore import datasets, registry
from pgscore.errors import PgscoreError

# under alembic's own logger: the env.py that `alembic init` writes calls logging.config.fileConfig, which
# disables every logger it does not configure (or a child of one) that exists by then, this module's
# included once env.py has imported it
log = logging.getLogger("alembic.pgscore")


def _conn():
    from alembic import op

    if op.get_context().as_sql:
        raise PgscoreError("pgscore's deploy_model and undeploy_model need a database: alembic's offline mode "
                           "(--sql) writes SQL without one, and a deployment reads the registry and stores the "
                           "model's bytes", hint="run the revision against the database (alembic upgrade "
                           "without --sql)")
    # the raw DB-API connection (psycopg2's or psycopg 3's) inside alembic's transaction
    return op.get_bind().connection.dbapi_connection


def deploy_model(name, path, sha256, *, revision, feature_names=None, train_csv=None, target=None,
                 description=None, allow_task_change=False, allow_feature_change=False, activate=True):
    """Deploy the joblib file at `path` (checked against `sha256` before unpickling) as the next version;
    with activate=False it is stored without going live."""
    conn = _conn()
    estimator = registry.load_artifact(path, sha256, given_by=f"alembic revision {revision}")
    X = y = None
    if train_csv is not None:
        X, y, feature_names = datasets.read_csv(train_csv, target=target, features=feature_names)
    return registry.deploy(conn, name, estimator, X, y, feature_names=feature_names, activate=activate,
                           description=description, reason=_reason(revision), allow_task_change=allow_task_change,
                           allow_feature_change=allow_feature_change)


def undeploy_model(name, *, revision):
    """Make live again what was live before `revision` deployed (or retire the model if nothing was); a
    warning when the model was deployed, activated or rolled back since."""
    conn = _conn()
    rows = registry._call(conn, "SELECT max(deployment_id) FROM pgscore.deployments WHERE model_name = %s "
                                "AND reason = %s", (name, _reason(revision)))
    (mine,), = rows
    if mine is None:
        return
    before = registry._call(conn, "SELECT m.version, d.action FROM pgscore.deployments d JOIN pgscore.models m "
                                  "ON m.model_id = d.model_id WHERE d.model_name = %s AND d.deployment_id < %s "
                                  "ORDER BY d.deployment_id DESC LIMIT 1", (name, mine))
    # what is live now, where it is not what the revision made live (a later revision undone since, which
    # made it live again, is no change)
    since = registry._call(conn, "SELECT m.version, d.action, d.reason FROM pgscore.deployments d JOIN pgscore.models m "
                                 "ON m.model_id = d.model_id WHERE d.model_name = %s AND d.deployment_id > %s "
                                 "AND (d.action = 'retire' OR d.model_id <> (SELECT x.model_id FROM pgscore.deployments x "
                                 "WHERE x.deployment_id = %s)) AND d.deployment_id = (SELECT max(y.deployment_id) "
                                 "FROM pgscore.deployments y WHERE y.model_name = %s)", (name, mine, mine, name))
    back = "retire it" if not before or before[0][1] == "retire" else f"make version {before[0][0]} live"
    if since:
        version, action, reason = since[0]
        now = "it is retired" if action == "retire" else f"version {version} is live"
        log.warning("pgscore: %s was deployed, activated or rolled back after alembic revision %s (%s; reason: "
                    "%s); undoing the revision replaces that: it will %s, as before the revision", name, revision,
                    now, reason or "none given", back)
    why = f"alembic downgrade {revision}"
    if back == "retire it":
        registry._call(conn, "SELECT pgscore.retire(%s, %s)", (name, why))
    else:
        registry._call(conn, "SELECT pgscore.rollback(%s, %s, %s)", (name, before[0][0], why))


def include_name(name, type_, parent_names) -> bool:
    """For alembic's autogenerate (context.configure(include_name=include_name)): leave out pgscore's
    schema and its version table, which are not your application's to drop."""
    if type_ == "schema":
        return name != "pgscore"
    if type_ == "table":
        return not (name == "pgscore_alembic_version" and parent_names.get("schema_name") in (None, "public"))
    return True


def _reason(revision):
    return f"alembic revision {revision}"
