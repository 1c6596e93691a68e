"""Deploy models from alembic revisions: the artifact is referenced by path and sha256, never pasted in.

    from pgscore.alembic_ops import deploy_model, undeploy_model

    def upgrade():
        deploy_model("churn", HERE / "models/churn-3.joblib", "9f2c...", revision=revision,
                     train_csv=HERE / "models/churn-train.csv", target="churned")

    def downgrade():
        undeploy_model("churn", revision=revision)
"""

from __future__ import annotations

from pgscore import datasets, registry


def _conn():
    from alembic import op

    # the raw psycopg2 connection inside alembic's transaction
    return op.get_bind().connection.dbapi_connection


def deploy_model(name, path, sha256, *, revision, feature_names=None, train_csv=None, target=None,
                 description=None, allow_task_change=False):
    """Deploy the joblib file at `path` (checked against `sha256` before unpickling) as the next version."""
    estimator = registry.load_artifact(path, sha256, given_by=f"alembic revision {revision}")
    X = y = None
    if train_csv is not None:
        X, y, feature_names = datasets.read_csv(train_csv, target=target, features=feature_names)
    return registry.deploy(_conn(), name, estimator, X, y, feature_names=feature_names,
                           description=description, reason=_reason(revision), allow_task_change=allow_task_change)


def undeploy_model(name, *, revision):
    """Make live again what was live before `revision` deployed (or retire the model if nothing was)."""
    with _conn().cursor() as cur:
        cur.execute("SELECT max(deployment_id) FROM pgscore.deployments WHERE model_name = %s AND reason = %s",
                    (name, _reason(revision)))
        (mine,) = cur.fetchone()
        if mine is None:
            return
        cur.execute("SELECT m.version, d.action FROM pgscore.deployments d JOIN pgscore.models m "
                    "ON m.model_id = d.model_id WHERE d.model_name = %s AND d.deployment_id < %s "
                    "ORDER BY d.deployment_id DESC LIMIT 1", (name, mine))
        before = cur.fetchone()
        why = f"alembic downgrade {revision}"
        if before is None or before[1] == "retire":
            cur.execute("SELECT pgscore.retire(%s, %s)", (name, why))
        else:
            cur.execute("SELECT pgscore.rollback(%s, %s, %s)", (name, before[0], why))


def _reason(revision):
    return f"alembic revision {revision}"
