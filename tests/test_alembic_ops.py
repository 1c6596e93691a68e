"""The alembic worked example in docs/ deploys, rolls back and redeploys a model."""

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path


from helpers import ROOT, query
from pgscore import registry


def alembic(example, url, *args):
    exe = Path(sys.executable).with_name("alembic")
    return subprocess.run([str(exe), "-c", str(example / "alembic.ini"), "-x", f"db_url={url}", *args],
                          capture_output=True, text=True)


def make_example(tmp_path, n, seed):
    """The docs example copied out, with a trained artifact, its sha256 and the training CSV beside it,
    written by the example's own make_models.py (what its README says to run first)."""
    example = tmp_path / "app"
    shutil.copytree(ROOT / "docs" / "examples" / "alembic_deploy", example)
    spec = importlib.util.spec_from_file_location("make_models", example / "make_models.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    est, X, names = module.make_models(example, n, seed)
    return example, est, X, names


def test_worked_example_upgrade_downgrade_upgrade(db_url, tmp_path):
    example, est, X, names = make_example(tmp_path, 300, seed=4)
    models = example / "models"

    # a version deployed by hand before the migration
    registry.deploy(db_url, "churn", est, X, feature_names=names, reason="by hand")
    run = alembic(example, db_url, "upgrade", "head")
    assert run.returncode == 0, run.stderr
    rec = registry.show(db_url, "churn")
    assert rec["version"] == 2 and rec["live"] and rec["history"][-1]["reason"] == "alembic revision a1"
    assert rec["metrics"]["holdout_rows"] == 60
    assert query(db_url, "SELECT count(*) FROM pgscore.baselines WHERE model_id = %s", (rec["model_id"],)) == [(13,)]

    run = alembic(example, db_url, "downgrade", "base")
    assert run.returncode == 0, run.stderr
    rec = registry.show(db_url, "churn")
    assert rec["version"] == 1 and rec["live"]
    assert rec["history"][-1]["reason"] == "alembic downgrade a1"

    run = alembic(example, db_url, "upgrade", "head")
    assert run.returncode == 0, run.stderr
    assert registry.show(db_url, "churn")["version"] == 3

    # a tampered artifact fails the migration before unpickling, and nothing is deployed
    alembic(example, db_url, "downgrade", "base")
    (models / "churn-1.joblib").write_bytes(b"tampered")
    run = alembic(example, db_url, "upgrade", "head")
    assert run.returncode != 0 and "not " in run.stderr and "as given with alembic revision a1: refusing to deploy it" \
        in run.stderr, run.stderr
    assert query(db_url, "SELECT max(version) FROM pgscore.models WHERE name = 'churn'") == [(3,)]


def test_undeploy_retires_when_nothing_was_live_before(db_url, tmp_path):
    example, *_ = make_example(tmp_path, 200, seed=5)
    assert alembic(example, db_url, "upgrade", "head").returncode == 0
    assert alembic(example, db_url, "downgrade", "base").returncode == 0
    assert not registry.show(db_url, "churn")["live"]
    assert registry.show(db_url, "churn")["history"][-1]["action"] == "retire"
