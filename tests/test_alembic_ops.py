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


# an env.py as `alembic init` writes one, through SQLAlchemy's own engine (psycopg 3 for postgresql+psycopg://),
# with autogenerate comparing against an empty MetaData, and pgscore's include_name where PGSCORE_TEST_INCLUDE
# is set
PLAIN_ENV = """
import os
import sqlalchemy
from alembic import context
from pgscore.alembic_ops import include_name

url = context.get_x_argument(as_dictionary=True)["db_url"]
options = dict(version_table="app_alembic_version", target_metadata=sqlalchemy.MetaData(), include_schemas=True)
if os.environ.get("PGSCORE_TEST_INCLUDE"):
    options["include_name"] = include_name
if context.is_offline_mode():
    context.configure(url=url, **options)
    with context.begin_transaction():
        context.run_migrations()
else:
    with sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1)).connect() as conn:
        context.configure(connection=conn, **options)
        with context.begin_transaction():
            context.run_migrations()
"""


def plain_example(tmp_path, seed):
    example, est, X, names = make_example(tmp_path, 200, seed)
    (example / "env.py").write_text(PLAIN_ENV)
    return example, est, X, names


def test_psycopg3_connections_get_pgscores_errors(db_url, empty_db_url, tmp_path):
    """SQLAlchemy's psycopg 3 driver: the cycle works, and the server's errors arrive as pgscore's."""
    example, est, X, names = plain_example(tmp_path, seed=6)
    run = alembic(example, empty_db_url, "upgrade", "head")
    assert run.returncode != 0 and "pgscore is not installed in this database" in run.stderr, run.stderr
    assert "install or upgrade it with" in run.stderr and "psycopg.errors" not in run.stderr.splitlines()[-1]
    run = alembic(example, db_url, "upgrade", "head")
    assert run.returncode == 0, run.stderr
    assert registry.show(db_url, "churn")["live"]
    assert alembic(example, db_url, "downgrade", "base").returncode == 0
    # a version a wired table could not feed: refused by the server, translated, the migration rolled back
    query(db_url, "CREATE TABLE people (id int PRIMARY KEY, s float8, scored_at timestamptz, n int DEFAULT 0)")
    query(db_url, "CREATE TABLE calls (person int)")
    query(db_url, "SELECT pgscore.attach_rescoring('calls', 'people', 'person', 'churn', 's', %s::jsonb, "
                  "p_profile_key => 'id')", ('{"n": "count"}',))
    run = alembic(example, db_url, "upgrade", "head")
    assert run.returncode != 0 and "pgscore.errors.InvalidModel: public.people, which public.calls rescores with " \
        "churn, has no column" in run.stderr, run.stderr
    assert query(db_url, "SELECT max(version) FROM pgscore.models WHERE name = 'churn'") == [(1,)]


def test_offline_mode_says_pgscores_operations_need_a_database(db_url, tmp_path):
    example, *_ = plain_example(tmp_path, seed=7)
    run = alembic(example, db_url, "upgrade", "head", "--sql")
    assert run.returncode != 0, run.stdout
    assert "deploy_model and undeploy_model need a database: alembic's offline mode (--sql)" in run.stderr, run.stderr
    assert "AttributeError" not in run.stderr
    assert query(db_url, "SELECT count(*) FROM pgscore.models") == [(0,)]


def test_autogenerate_leaves_pgscore_alone_with_include_name(db_url, tmp_path):
    """Without include_name autogenerate proposes dropping pgscore's schema and version table (the
    control: what the docs warn about); with it, neither."""
    import os

    example, *_ = plain_example(tmp_path, seed=8)
    assert alembic(example, db_url, "upgrade", "head").returncode == 0
    for include, expect_drops in (("", True), ("1", False)):
        env = {**os.environ, "PGSCORE_TEST_INCLUDE": include}
        exe = Path(sys.executable).with_name("alembic")
        run = subprocess.run([str(exe), "-c", str(example / "alembic.ini"), "-x", f"db_url={db_url}", "revision",
                              "--autogenerate", "-m", f"probe{include}"], capture_output=True, text=True, env=env)
        assert run.returncode == 0, run.stderr
        (made,) = [p for p in (example / "versions").glob(f"*probe{include}.py")]
        text = made.read_text()
        made.unlink()
        assert ("pgscore_alembic_version" in text and "schema='pgscore'" in text) is expect_drops, text


# what `alembic init` writes: logging configured by fileConfig from alembic.ini, after env.py's imports
INI_LOGGING = """
[loggers]
keys = root,sqlalchemy,alembic

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console
qualname =

[logger_sqlalchemy]
level = WARNING
handlers =
qualname = sqlalchemy.engine

[logger_alembic]
level = INFO
handlers =
qualname = alembic

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
"""


def test_undeploy_warns_when_the_model_changed_after_the_revision_only(db_url, tmp_path):
    """A rollback by hand after the revision: its downgrade says what it replaces (through alembic's own
    logging, as `alembic init` configures it); two revisions undone in turn: no warning."""
    example, est, X, names = make_example(tmp_path, 200, seed=9)
    ini = example / "alembic.ini"
    ini.write_text(ini.read_text() + INI_LOGGING)
    env = example / "env.py"
    env.write_text("from logging.config import fileConfig\nfrom alembic import context\n"
                   "from pgscore.alembic_ops import include_name  # noqa: F401 - imported before fileConfig\n"
                   "fileConfig(context.config.config_file_name)\n" + env.read_text())
    a1 = example / "versions" / "a1_churn_v1.py"
    (example / "versions" / "a2_churn_v2.py").write_text(
        a1.read_text().replace('revision = "a1"\ndown_revision = None', 'revision = "a2"\ndown_revision = "a1"'))
    registry.deploy(db_url, "churn", est, X, feature_names=names, reason="by hand")  # v1
    assert alembic(example, db_url, "upgrade", "head").returncode == 0  # a1: v2, a2: v3
    run = alembic(example, db_url, "downgrade", "base")  # a2 makes v2 live again, a1 v1: no change by hand
    assert run.returncode == 0, run.stderr
    assert "after alembic revision" not in run.stderr, run.stderr
    assert registry.show(db_url, "churn")["version"] == 1
    assert alembic(example, db_url, "upgrade", "a1").returncode == 0  # v4
    registry.rollback(db_url, "churn", 1)  # v1 live again, by hand, after the revision
    registry.activate(db_url, "churn", 2)
    run = alembic(example, db_url, "downgrade", "base")
    assert run.returncode == 0, run.stderr
    assert ("WARNI [alembic.pgscore] pgscore: churn was deployed, activated or rolled back after alembic revision a1 "
            "(version 2 is live; reason: none given); undoing the revision replaces that: it will make version 1 "
            "live, as before the revision") in run.stderr, run.stderr
    rec = registry.show(db_url, "churn")
    assert rec["version"] == 1 and rec["history"][-1]["reason"] == "alembic downgrade a1"


def test_deploy_model_can_store_a_version_without_making_it_live(db_url, tmp_path):
    example, est, X, names = make_example(tmp_path, 200, seed=10)
    rev = example / "versions" / "a1_churn_v1.py"
    text = rev.read_text()
    assert 'description="churn v1, shipped by migration a1")' in text
    rev.write_text(text.replace('shipped by migration a1")', 'shipped by migration a1", activate=False)'))
    assert alembic(example, db_url, "upgrade", "head").returncode == 0
    assert query(db_url, "SELECT version, live FROM pgscore.model_versions WHERE name = 'churn'") == [(1, False)]
