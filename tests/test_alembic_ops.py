"""The alembic worked example in docs/ deploys, rolls back and redeploys a model."""

import hashlib
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import joblib
import psycopg2
import pytest
from sklearn.linear_model import LogisticRegression

from helpers import ROOT, ohe_model_over_a_wired_table, query
from pgscore import artifacts, registry
from pgscore.errors import InvalidModel, command


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
    # the file it came from, with the sha256 the revision checked (the stored bytes' own is another)
    assert rec["env"]["source"] == {"file": "churn-1.joblib",
                                    "sha256": hashlib.sha256((models / "churn-1.joblib").read_bytes()).hexdigest()}
    assert rec["sha256"] != rec["env"]["source"]["sha256"]
    assert "source" not in registry.show(db_url, "churn", 1)["env"]  # deployed from Python: not recorded
    assert query(db_url, "SELECT count(*) FROM pgscore.baselines WHERE model_id = %s", (rec["model_id"],)) == [(13,)]

    run = alembic(example, db_url, "downgrade", "base")
    assert run.returncode == 0, run.stderr
    rec = registry.show(db_url, "churn")
    assert rec["version"] == 1 and rec["live"]
    assert rec["history"][-1]["reason"] == "alembic downgrade a1"
    assert "pgscore: churn version 1 is live again, as before alembic revision a1" in run.stderr, run.stderr

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
    run = alembic(example, db_url, "downgrade", "base")
    assert run.returncode == 0 and "pgscore: churn retired (no version was live before alembic revision a1)" \
        in run.stderr, run.stderr
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
    assert run.returncode != 0 and "pgscore.errors.InvalidModel: alembic revision a1, deploy_model('churn'): " \
        "public.people, which public.calls rescores with churn, has no column" in run.stderr, run.stderr
    assert query(db_url, "SELECT max(version) FROM pgscore.models WHERE name = 'churn'") == [(1,)]


def test_offline_mode_says_pgscores_operations_need_a_database(db_url, tmp_path):
    example, *_ = plain_example(tmp_path, seed=7)
    run = alembic(example, db_url, "upgrade", "head", "--sql")
    assert run.returncode != 0, run.stdout
    assert "deploy_model and undeploy_model need a database: alembic's offline mode (--sql)" in run.stderr, run.stderr
    # it names the revision, and how to write the SQL of those before it
    assert "(alembic revision a1)" in run.stderr and "upgrade <the revision before it> --sql" in run.stderr, run.stderr
    assert "AttributeError" not in run.stderr
    assert query(db_url, "SELECT count(*) FROM pgscore.models") == [(0,)]


def test_offline_mode_names_retire_model_where_it_stops(db_url, tmp_path):
    """A revision that retires a model stops offline mode with an error naming retire_model (before: it named
    deploy_model and undeploy_model, and a deployment storing the model's bytes, which a retire does not)."""
    example, *_ = plain_example(tmp_path, seed=24)
    (example / "versions" / "a2_retire.py").write_text(
        "from pgscore.alembic_ops import retire_model, undeploy_model\nrevision = 'a2'\ndown_revision = 'a1'\n"
        "def upgrade():\n    retire_model('churn', revision=revision)\n"
        "def downgrade():\n    undeploy_model('churn', revision=revision)\n")
    run = alembic(example, db_url, "upgrade", "a1:head", "--sql")
    assert run.returncode != 0, run.stdout
    assert "retire_model needs a database: alembic's offline mode (--sql)" in run.stderr, run.stderr
    assert "deploy_model" not in run.stderr.splitlines()[-2] and "(alembic revision a2)" in run.stderr, run.stderr


def test_offline_downgrade_names_undeploy_model_and_how_to_write_the_downgrades_before_it(db_url, tmp_path):
    """`alembic downgrade a2:base --sql` stops at a1's undeploy_model: the error names undeploy_model and the
    revision, and its hint the offline downgrade that writes the SQL before it (before: the upgrade's message,
    deploy_model storing the model's bytes, and a hint to run `alembic upgrade`)."""
    example, *_ = plain_example(tmp_path, seed=25)
    (example / "versions" / "a2_notes.py").write_text(
        "from alembic import op\nrevision = 'a2'\ndown_revision = 'a1'\n"
        "def upgrade():\n    op.execute('CREATE TABLE notes (id int)')\n"
        "def downgrade():\n    op.execute('DROP TABLE notes')\n")
    run = alembic(example, db_url, "downgrade", "a2:base", "--sql")
    assert run.returncode != 0, run.stdout
    assert "DROP TABLE notes" in run.stdout, run.stdout
    error, hint = run.stderr.splitlines()[-2:]
    assert error == ("pgscore.errors.PgscoreError: pgscore's undeploy_model needs a database: alembic's offline mode "
                     "(--sql) writes SQL without one, and undoing a revision reads the model's deployment history "
                     "(alembic revision a1)"), run.stderr
    assert hint == ("Hint: run the downgrade against the database (alembic downgrade without --sql); `alembic "
                    "downgrade <the current revision>:a1 --sql` writes the SQL of the downgrades before it"), run.stderr
    assert query(db_url, "SELECT count(*) FROM pgscore.models") == [(0,)]


def test_the_worked_examples_env_takes_a_libpq_string_and_offline_mode_needs_no_url(db_url, tmp_path):
    """The docs' env.py: a `host=... dbname=...` string works as every pgscore command takes it; `--sql`
    needs no database (with a libpq string or no URL at all: before, a URL parse error or a KeyError),
    and stops at deploy_model with pgscore's error; online without a URL it says what to give."""
    import os

    example, *_ = make_example(tmp_path, 200, seed=14)
    params = psycopg2.extensions.parse_dsn(db_url)
    libpq = " ".join(f"{k}={v}" for k, v in params.items())
    exe = str(Path(sys.executable).with_name("alembic"))
    env = {k: v for k, v in os.environ.items() if k != "PGSCORE_DATABASE_URL"}
    for args in (["-x", f"db_url={libpq}"], []):
        run = subprocess.run([exe, "-c", str(example / "alembic.ini"), *args, "upgrade", "head", "--sql"],
                             capture_output=True, text=True, env=env)
        assert run.returncode != 0 and "deploy_model and undeploy_model need a database" in run.stderr, run.stderr
        assert "ArgumentError" not in run.stderr and "KeyError" not in run.stderr, run.stderr
    run = subprocess.run([exe, "-c", str(example / "alembic.ini"), "upgrade", "head"], capture_output=True, text=True,
                         env=env)
    assert run.returncode != 0 and "which database? alembic -x db_url=URL" in run.stderr, run.stderr
    run = alembic(example, libpq, "upgrade", "head")
    assert run.returncode == 0, run.stderr
    assert registry.show(db_url, "churn")["live"]


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


def with_logging(example):
    """The example's env.py with pgscore's alembic_ops imported before alembic.ini's logging is configured
    (fileConfig disables the loggers that exist by then and that it does not configure)."""
    env = example / "env.py"
    env.write_text("from pgscore.alembic_ops import include_name  # noqa: F401 - imported before fileConfig\n"
                   + env.read_text())


def test_undeploy_warns_when_the_model_changed_after_the_revision_only(db_url, tmp_path):
    """A rollback by hand after the revision: its downgrade says what it replaces (through alembic's own
    logging, as `alembic init` configures it); two revisions undone in turn: no warning."""
    example, est, X, names = make_example(tmp_path, 200, seed=9)
    with_logging(example)
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


def test_undeploy_says_the_shadow_it_made_live_again_stopped(db_url, tmp_path):
    """A downgrade that makes live again a version scored in shadow meanwhile ends its shadow mark (a live version
    is not scored in shadow), and said only `is live again` (a new user's trial): it says the shadow stopped, after
    the go-live, as pgscore activate and rollback do."""
    example, est, X, names = make_example(tmp_path, 200, seed=29)
    with_logging(example)
    registry.deploy(db_url, "churn", est, X, feature_names=names, reason="by hand")  # v1
    assert alembic(example, db_url, "upgrade", "head").returncode == 0  # a1: v2 live
    query(db_url, "SELECT pgscore.set_shadow('churn', 1)")
    run = alembic(example, db_url, "downgrade", "base")
    assert run.returncode == 0, run.stderr
    assert "pgscore: churn version 1 is live again, as before alembic revision a1\n" in run.stderr, run.stderr
    assert "INFO  [alembic.pgscore] pgscore: churn: 1 shadow version stopped: v1 (a live version is not scored in " \
           "shadow)" in run.stderr.split("is live again")[1], run.stderr
    assert query(db_url, "SELECT count(*) FROM pgscore.shadow_versions") == [(0,)]
    assert alembic(example, db_url, "upgrade", "head").returncode == 0  # v3, no shadow: nothing more said
    run = alembic(example, db_url, "downgrade", "base")
    assert run.returncode == 0 and "shadow" not in run.stderr, run.stderr


def test_undeploy_reads_the_history_once_a_change_of_the_model_in_progress_has_committed(db_url, tmp_path):
    """undeploy_model read the history before pgscore.rollback took the name's lock: a downgrade run while an
    operator's activate of v3 was uncommitted decided from v2 (the revision's) live, waited in the rollback, and
    replaced v3 without the warning that names it. It takes the name's lock first now, and warns."""
    import time

    example, est, X, names = make_example(tmp_path, 200, seed=9)
    with_logging(example)
    registry.deploy(db_url, "churn", est, X, feature_names=names, reason="by hand")  # v1
    assert alembic(example, db_url, "upgrade", "head").returncode == 0  # a1: v2
    registry.deploy(db_url, "churn", est, X, feature_names=names, activate=False)  # v3
    holder, probe = psycopg2.connect(db_url), psycopg2.connect(db_url)
    probe.autocommit = True
    try:
        query(holder, "SELECT pgscore.activate('churn', 3)")
        exe = Path(sys.executable).with_name("alembic")
        down = subprocess.Popen([str(exe), "-c", str(example / "alembic.ini"), "-x", f"db_url={db_url}", "downgrade",
                                 "base"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(600):  # until the downgrade waits on the name's lock, held by the uncommitted activate
            if query(probe, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                            "AND datname = current_database()")[0][0] or down.poll() is not None:
                break
            time.sleep(0.05)
        holder.commit()
        _, stderr = down.communicate(timeout=120)
    finally:
        holder.rollback()
        holder.close()
        probe.close()
    assert down.returncode == 0, stderr
    assert ("pgscore: churn was deployed, activated or rolled back after alembic revision a1 (version 3 is live; "
            "reason: none given); undoing the revision replaces that: it will make version 1 live") in stderr, stderr
    assert registry.show(db_url, "churn")["version"] == 1


def test_deploy_model_can_store_a_version_without_making_it_live(db_url, tmp_path):
    example, est, X, names = make_example(tmp_path, 200, seed=10)
    rev = example / "versions" / "a1_churn_v1.py"
    text = rev.read_text()
    assert 'description="churn v1, shipped by migration a1")' in text
    rev.write_text(text.replace('shipped by migration a1")', 'shipped by migration a1", activate=False)'))
    run = alembic(example, db_url, "upgrade", "head")
    assert run.returncode == 0, run.stderr
    assert query(db_url, "SELECT version, live FROM pgscore.model_versions WHERE name = 'churn'") == [(1, False)]
    assert re.search(r"\] pgscore: deployed churn version 1 \(model_id \d+, sha256 \w{12}\.\.\., \w+, not live\) by "
                     r"alembic revision a1; hold-out: auc ", run.stderr), run.stderr


def test_an_upgrade_logs_what_deploy_model_deployed_as_pgscore_deploy_says_it(db_url, tmp_path):
    """deploy_model writes to alembic's log the version it stored and its hold-out metrics, in pgscore deploy's
    words (before: alembic's `Running upgrade  -> a1` alone; the downgrade said which version it made live)."""
    example, *_ = make_example(tmp_path, 200, seed=12)
    run = alembic(example, db_url, "upgrade", "head")
    assert run.returncode == 0, run.stderr
    rec = registry.show(db_url, "churn")
    m = rec["metrics"]
    said = [line for line in run.stderr.splitlines() if "pgscore: deployed" in line]
    assert said == [f"INFO  [alembic.pgscore] pgscore: deployed churn version 1 (model_id {rec['model_id']}, sha256 "
                    f"{rec['sha256'][:12]}..., {'signed' if rec['signed'] else 'unsigned'}, live) by alembic revision "
                    f"a1; hold-out: auc {m['auc']:.3f}, accuracy {m['accuracy']:.3f} on {m['holdout_rows']} rows "
                    f"(every metric: {command('show churn --version 1')})"], run.stderr
    # the downgrade and a second upgrade: the new version's own line
    assert alembic(example, db_url, "downgrade", "base").returncode == 0
    run = alembic(example, db_url, "upgrade", "head")
    assert run.returncode == 0 and "pgscore: deployed churn version 2 (model_id " in run.stderr, run.stderr


def history(db_url):
    return query(db_url, "SELECT m.version, d.action, d.reason FROM pgscore.deployments d JOIN pgscore.models m "
                         "ON m.model_id = d.model_id WHERE d.model_name = 'churn' ORDER BY d.deployment_id")


def test_undeploy_of_an_unknown_model_or_of_a_revision_that_stored_none_fails_the_migration(db_url, tmp_path):
    """A misspelt model name or revision= in downgrade() fails the downgrade, with what to check; nothing
    changes and alembic stays at the revision (before: it did nothing, and the model stayed live)."""
    example, *_ = make_example(tmp_path, 200, seed=11)
    rev = example / "versions" / "a1_churn_v1.py"
    text = rev.read_text()
    assert alembic(example, db_url, "upgrade", "head").returncode == 0
    for wrong, said in (('undeploy_model("chrun", revision=revision)', "there is no model 'chrun'\nHint: a typo for "
                                                                       "'churn'? Else the name deploy_model was given"),
                        ('undeploy_model("churn", revision="a9")', "alembic revision a9 stored no version of model "
                                                                   "'churn'")):
        rev.write_text(text.replace('undeploy_model("churn", revision=revision)', wrong))
        run = alembic(example, db_url, "downgrade", "base")
        assert run.returncode != 0 and "pgscore.errors.UnknownModel" in run.stderr and said in run.stderr, run.stderr
        assert query(db_url, "SELECT version_num FROM churn_app_alembic_version") == [("a1",)]
        assert history(db_url) == [(1, "deploy", "alembic revision a1")]


def test_undeploy_undoes_a_version_stored_without_going_live_once_it_went_live(db_url, tmp_path):
    """deploy_model(activate=False), then `pgscore activate` (as docs/alembic.md suggests): the downgrade
    makes live again what was live before (before migration 0029 it found nothing and left the version
    live). Never activated, the downgrade leaves everything as it is."""
    example, est, X, names = make_example(tmp_path, 200, seed=12)
    rev = example / "versions" / "a1_churn_v1.py"
    rev.write_text(rev.read_text().replace('shipped by migration a1")', 'shipped by migration a1", activate=False)'))
    registry.deploy(db_url, "churn", est, X, feature_names=names, reason="by hand")  # v1, live
    assert alembic(example, db_url, "upgrade", "head").returncode == 0  # v2, stored
    assert query(db_url, "SELECT reason FROM pgscore.models WHERE version = 2") == [("alembic revision a1",)]
    run = alembic(example, db_url, "downgrade", "base")
    assert run.returncode == 0, run.stderr
    assert history(db_url) == [(1, "deploy", "by hand")]  # v2 never went live: nothing to undo
    assert alembic(example, db_url, "upgrade", "head").returncode == 0  # v3, stored
    registry.activate(db_url, "churn", 3, reason="go live")
    run = alembic(example, db_url, "downgrade", "base")
    assert run.returncode == 0, run.stderr
    assert history(db_url)[-2:] == [(3, "activate", "go live"), (1, "rollback", "alembic downgrade a1")]
    assert registry.show(db_url, "churn")["version"] == 1


def test_a_revision_undone_already_or_whose_model_is_back_as_before_changes_nothing(db_url, tmp_path):
    """Downgrading a revision again (alembic stamp, then downgrade) does not bring back what its first
    downgrade replaced; nor does a downgrade append a rollback to the version live already."""
    example, est, X, names = make_example(tmp_path, 200, seed=13)
    with_logging(example)
    assert alembic(example, db_url, "upgrade", "head").returncode == 0  # v1, live: nothing before it
    assert alembic(example, db_url, "downgrade", "base").returncode == 0  # retired
    assert alembic(example, db_url, "stamp", "a1").returncode == 0
    run = alembic(example, db_url, "downgrade", "base")
    assert run.returncode == 0, run.stderr
    assert "churn: alembic revision a1 was undone already" in run.stderr, run.stderr
    assert history(db_url) == [(1, "deploy", "alembic revision a1"), (1, "retire", "alembic downgrade a1")]
    # a version live before the revision, made live again by hand: the downgrade has nothing to do
    registry.deploy(db_url, "churn", est, X, feature_names=names, reason="by hand")  # v2
    assert alembic(example, db_url, "upgrade", "head").returncode == 0  # v3
    registry.rollback(db_url, "churn", 2, reason="by hand again")
    before = history(db_url)
    run = alembic(example, db_url, "downgrade", "base")
    assert run.returncode == 0, run.stderr
    assert history(db_url) == before and before[-1] == (2, "rollback", "by hand again")
    assert "after alembic revision" not in run.stderr, run.stderr
    assert "churn is as it was before alembic revision a1 (version 2 live): nothing to do" in run.stderr, run.stderr


def test_undeploy_on_a_schema_before_0029_finds_the_revision_by_its_deployment(empty_db_url, tmp_path):
    """A database whose pgscore schema is older than this pgscore (no pgscore.models.reason): deploy_model and
    undeploy_model still work, by the deployments' reasons."""
    from pgscore import migrate

    migrate.upgrade(empty_db_url, "0028")
    example, *_ = make_example(tmp_path, 200, seed=15)
    assert alembic(example, empty_db_url, "upgrade", "head").returncode == 0
    run = alembic(example, empty_db_url, "downgrade", "base")
    assert run.returncode == 0, run.stderr
    assert history(empty_db_url) == [(1, "deploy", "alembic revision a1"), (1, "retire", "alembic downgrade a1")]
    migrate.downgrade(empty_db_url, "base")


def test_a_revision_that_deploys_a_model_twice_is_undone_to_what_was_live_before_it(db_url, tmp_path):
    """A revision storing two versions of one model (v2, then v3 live): its downgrade makes live again what
    was live before the first of them (v1), not the revision's own v2 (which it did, silently: alembic
    said the revision was undone and the wrong model scored)."""
    example, est, X, names = make_example(tmp_path, 200, seed=15)
    with_logging(example)
    rev = example / "versions" / "a1_churn_v1.py"
    text = rev.read_text()
    deploy = text[text.index("    deploy_model("):text.index("\n\n\ndef downgrade")]
    rev.write_text(text.replace(deploy, deploy + "\n" + deploy.replace("churn v1", "churn v1 again")))
    registry.deploy(db_url, "churn", est, X, feature_names=names, reason="by hand")  # v1
    run = alembic(example, db_url, "upgrade", "head")  # v2, then v3 live
    assert run.returncode == 0, run.stderr
    assert registry.show(db_url, "churn")["version"] == 3
    # the estimator fitted here and its file unpickled in alembic's process are the same bytes, each time (the
    # same file deployed again stored another sha256), and alembic's log says so
    assert len({r[0] for r in query(db_url, "SELECT sha256 FROM pgscore.model_versions")}) == 1
    assert "pgscore: churn version 3, stored by alembic revision a1, stores the same artifact as versions 1, 2 " \
           "(sha256 " in run.stderr, run.stderr
    run = alembic(example, db_url, "downgrade", "base")
    assert run.returncode == 0, run.stderr
    assert "after alembic revision" not in run.stderr, run.stderr
    assert history(db_url)[-1] == (1, "rollback", "alembic downgrade a1")
    assert registry.show(db_url, "churn")["version"] == 1
    # stored by the revision, none of them live: nothing to undo, said for both
    rev.write_text(rev.read_text().replace('shipped by migration a1")', 'shipped by migration a1", activate=False)')
                   .replace('shipped by migration a1 again")', 'shipped by migration a1 again", activate=False)'))
    assert alembic(example, db_url, "upgrade", "head").returncode == 0  # v4, v5 stored
    run = alembic(example, db_url, "downgrade", "base")
    assert run.returncode == 0 and "versions 4, 5 of churn, stored by alembic revision a1, never went live" \
        in run.stderr, run.stderr
    assert registry.show(db_url, "churn")["version"] == 1


def test_your_revisions_downgrade_after_pgscore_was_uninstalled(empty_db_url, tmp_path):
    """pgscore uninstalled after the revision (and installed again): no model is left to undo, and the
    downgrade goes on, with a warning, to your revision's own DDL (before: 'pgscore is not installed', whose
    hint led to 'there is no model', and alembic stayed at the revision)."""
    from helpers import pgscore_cli

    example, *_ = make_example(tmp_path, 200, seed=16)
    with_logging(example)
    assert pgscore_cli("install", "--db", empty_db_url).returncode == 0
    for again in (False, True):
        assert alembic(example, empty_db_url, "upgrade", "head").returncode == 0
        assert pgscore_cli("uninstall", "--db", empty_db_url).returncode == 0
        if again:
            assert pgscore_cli("install", "--db", empty_db_url).returncode == 0
        run = alembic(example, empty_db_url, "downgrade", "base")
        assert run.returncode == 0, run.stderr
        said = ("no model is stored in this database" if again else "pgscore is not installed in this database")
        assert f"undeploy_model of alembic revision a1: {said}" in run.stderr, run.stderr
        assert query(empty_db_url, "SELECT count(*) FROM churn_app_alembic_version") == [(0,)]
        if not again:
            assert pgscore_cli("install", "--db", empty_db_url).returncode == 0


def test_downgrade_base_and_upgrade_again_after_a_revision_that_changed_the_features(db_url, tmp_path):
    """a1 deploys churn, a2 a version with another feature (allow_feature_change=True). Down to base
    (churn retired, its last live version a1's) and up again: a1's deploy is compared with the version live
    last, not with a2's newest one, never live since, and goes through (before: refused, `churn v2 takes
    the features ...`, so a CI cycle of downgrade base and upgrade head failed)."""
    example, est, X, names = make_example(tmp_path, 200, seed=21)
    models = example / "models"
    wider = sklearn_logit_with_extra_feature(X, est)
    joblib.dump(wider, models / "churn-2.joblib")
    (example / "versions" / "a2_churn_wider.py").write_text(
        "from pathlib import Path\nfrom pgscore.alembic_ops import deploy_model, undeploy_model\n"
        "revision = 'a2'\ndown_revision = 'a1'\nHERE = Path(__file__).resolve().parent\n"
        f"def upgrade():\n    deploy_model('churn', HERE.parent / 'models' / 'churn-2.joblib', "
        f"'{artifacts.sha256((models / 'churn-2.joblib').read_bytes())}', revision=revision, "
        f"feature_names={names + ['extra']!r}, allow_feature_change=True)\n"
        "def downgrade():\n    undeploy_model('churn', revision=revision)\n")
    for _ in range(2):
        run = alembic(example, db_url, "upgrade", "head")
        assert run.returncode == 0, run.stderr
        assert registry.show(db_url, "churn")["feature_names"] == names + ["extra"]
        run = alembic(example, db_url, "downgrade", "base")
        assert run.returncode == 0, run.stderr
        assert not registry.show(db_url, "churn")["live"]
    # the rule still holds against the version live last: a1's features, in another order, are refused
    with pytest.raises(InvalidModel, match=r"churn v3 takes the features .*\(in another order\)"):
        registry.deploy(db_url, "churn", est, X, feature_names=names[::-1])


def sklearn_logit_with_extra_feature(X, est):
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    y = est.predict(X)
    return LogisticRegression(max_iter=500).fit(np.column_stack([X, X[:, 0]]), y)


def test_a_missing_or_corrupt_model_file_names_the_revision_and_changes_nothing(db_url, tmp_path):
    """In an `upgrade head` of many revisions the error says which revision's file it is (before: only the
    path, for a missing or unloadable artifact or training CSV); nothing of the revision is left, and
    upgrade runs again once the file is back."""
    example, *_ = make_example(tmp_path, 200, seed=22)
    models = example / "models"
    good = (models / "churn-1.joblib").read_bytes()
    (models / "churn-1.joblib").unlink()
    run = alembic(example, db_url, "upgrade", "head")
    assert run.returncode != 0 and "ArtifactError: alembic revision a1, deploy_model('churn'): cannot read the " \
        "model file" in run.stderr and "churn-1.joblib" in run.stderr, run.stderr
    # a corrupt file whose sha256 file was written from it: refused as not loadable, naming the revision
    (models / "churn-1.joblib").write_bytes(b"garbage")
    (models / "churn-1.joblib.sha256").write_text(artifacts.sha256(b"garbage") + "\n")
    run = alembic(example, db_url, "upgrade", "head")
    assert run.returncode != 0 and "alembic revision a1, deploy_model('churn'): " in run.stderr \
        and "churn-1.joblib is not a joblib or pickle file of an estimator (it is not a pickle" in run.stderr, \
        run.stderr
    (models / "churn-1.joblib").write_bytes(good)
    (models / "churn-1.joblib.sha256").write_text(artifacts.sha256(good) + "\n")
    csv = (models / "churn-train.csv").read_bytes()
    (models / "churn-train.csv").unlink()
    run = alembic(example, db_url, "upgrade", "head")
    assert run.returncode != 0 and "alembic revision a1, deploy_model('churn'): cannot read" in run.stderr \
        and "churn-train.csv" in run.stderr, run.stderr
    assert query(db_url, "SELECT count(*) FROM pgscore.models") == [(0,)]
    # the transaction that would have created alembic's version table is rolled back with it
    assert query(db_url, "SELECT to_regclass('public.churn_app_alembic_version')") == [(None,)]
    (models / "churn-train.csv").write_bytes(csv)
    run = alembic(example, db_url, "upgrade", "head")
    assert run.returncode == 0, run.stderr
    assert registry.show(db_url, "churn")["version"] == 1


def test_a_deploy_the_registry_refuses_names_the_revision_and_changes_nothing(db_url, tmp_path):
    """A model whose feature count disagrees with the features the revision declares, one whose features
    differ from the live version's, one trained on an array with no names given: the error begins with the
    revision and the model, as a missing file's does (before, the deploy's own refusals named neither: in an
    `upgrade head` of many revisions nothing said which one to fix), and nothing of the upgrade is left."""
    example, est, X, names = make_example(tmp_path, 200, seed=23)
    assert alembic(example, db_url, "upgrade", "head").returncode == 0
    models = example / "models"
    narrow = LogisticRegression(max_iter=500).fit(X[:, :5], est.predict(X))
    joblib.dump(narrow, models / "churn-5.joblib")
    sha = artifacts.sha256((models / "churn-5.joblib").read_bytes())

    def a2(arguments):
        (example / "versions" / "a2_churn_narrow.py").write_text(
            "from pathlib import Path\nfrom pgscore.alembic_ops import deploy_model, undeploy_model\n"
            "revision = 'a2'\ndown_revision = 'a1'\nHERE = Path(__file__).resolve().parent\n"
            f"def upgrade():\n    deploy_model('churn', HERE.parent / 'models' / 'churn-5.joblib', '{sha}', "
            f"revision=revision{arguments})\n"
            "def downgrade():\n    undeploy_model('churn', revision=revision)\n")
        return alembic(example, db_url, "upgrade", "head")

    for arguments, said in ((f", feature_names={names!r}", "12 feature names given but the estimator takes 5 "
                                                           "features"),
                            (f", feature_names={names[:5]!r}", "churn v1 takes the features tenure_months"),
                            ("", "the feature names are unknown")):
        run = a2(arguments)
        assert run.returncode != 0 and f"InvalidModel: alembic revision a2, deploy_model('churn'): {said}" \
            in run.stderr, run.stderr
        assert [r[:2] for r in history(db_url)] == [(1, "deploy")]
    assert query(db_url, "SELECT version_num FROM churn_app_alembic_version") == [("a1",)]
    shown = registry.show(db_url, "churn")
    assert (shown["version"], shown["live"], shown["feature_names"]) == (1, True, names)


def test_a_training_csv_wider_than_the_estimator_names_the_csv_and_feature_names(db_url, tmp_path):
    """train_csv= of 12 feature columns for an estimator of 5, no feature_names=: the error names the CSV and
    the argument to pass, as `pgscore deploy --train` names the CSV and --features (before: "12 feature names
    given but the estimator takes 5 features", which named neither); passing it deploys."""
    example, est, X, names = make_example(tmp_path, 200, seed=23)
    assert alembic(example, db_url, "upgrade", "head").returncode == 0
    models = example / "models"
    joblib.dump(LogisticRegression(max_iter=500).fit(X[:, :5], est.predict(X)), models / "churn-5.joblib")
    sha = artifacts.sha256((models / "churn-5.joblib").read_bytes())

    def a2(arguments):
        (example / "versions" / "a2_churn_narrow.py").write_text(
            "from pathlib import Path\nfrom pgscore.alembic_ops import deploy_model, undeploy_model\n"
            "revision = 'a2'\ndown_revision = 'a1'\nHERE = Path(__file__).resolve().parent\n"
            f"def upgrade():\n    deploy_model('churn', HERE.parent / 'models' / 'churn-5.joblib', '{sha}', "
            f"revision=revision, train_csv=HERE.parent / 'models' / 'churn-train.csv', target='churned'"
            f"{arguments})\n"
            "def downgrade():\n    undeploy_model('churn', revision=revision)\n")
        return alembic(example, db_url, "upgrade", "head")

    run = a2("")
    assert run.returncode != 0, run.stderr
    assert (f"InvalidModel: alembic revision a2, deploy_model('churn'): train_csv {models / 'churn-train.csv'} has "
            "12 columns besides the target and the estimator takes 5 features") in run.stderr, run.stderr
    assert "feature_names=" in run.stderr and "the CSV's other columns" in run.stderr, run.stderr
    assert [r[:2] for r in history(db_url)] == [(1, "deploy")]
    run = a2(f", feature_names={names[:5]!r}, allow_feature_change=True")
    assert run.returncode == 0, run.stderr
    shown = registry.show(db_url, "churn")
    assert (shown["version"], shown["feature_names"]) == (2, names[:5])


def test_a_revision_that_retires_a_model_is_undone_by_its_downgrade(db_url, tmp_path):
    """retire_model in upgrade(), undeploy_model in downgrade(): the downgrade makes the retired version live
    again (before: no operation retired a model in a revision; pgscore.retire in op.execute had no undo, and
    undeploy_model of such a revision failed, 'stored no version')."""
    example, *_ = make_example(tmp_path, 200, seed=23)
    with_logging(example)
    (example / "versions" / "a2_retire.py").write_text(
        "from pgscore.alembic_ops import retire_model, undeploy_model\nrevision = 'a2'\ndown_revision = 'a1'\n"
        "def upgrade():\n    retire_model('churn', revision=revision)\n"
        "def downgrade():\n    undeploy_model('churn', revision=revision)\n")
    run = alembic(example, db_url, "upgrade", "head")
    assert run.returncode == 0, run.stderr
    assert "pgscore: churn retired by alembic revision a2 (version 1 was live)" in run.stderr, run.stderr
    assert not registry.show(db_url, "churn")["live"]
    run = alembic(example, db_url, "downgrade", "-1")
    assert run.returncode == 0, run.stderr
    assert "pgscore: churn version 1 is live again, as before alembic revision a2" in run.stderr, run.stderr
    assert history(db_url) == [(1, "deploy", "alembic revision a1"), (1, "retire", "alembic revision a2"),
                               (1, "rollback", "alembic downgrade a2")]
    # up and down again, then to base: each downgrade undoes its own upgrade's retire
    assert alembic(example, db_url, "upgrade", "head").returncode == 0
    run = alembic(example, db_url, "downgrade", "base")
    assert run.returncode == 0, run.stderr
    assert history(db_url)[-2:] == [(1, "rollback", "alembic downgrade a2"), (1, "retire", "alembic downgrade a1")]
    # a model retired already (by hand) is left as it is, with a warning; its downgrade finds the revision
    # undone already (the earlier cycle's) and changes nothing
    assert alembic(example, db_url, "upgrade", "a1").returncode == 0
    query(db_url, "SELECT pgscore.retire('churn', 'by hand')")
    run = alembic(example, db_url, "upgrade", "head")
    assert run.returncode == 0 and "churn has no live version already (reason: by hand): nothing changed" \
        in run.stderr, run.stderr
    before = history(db_url)
    run = alembic(example, db_url, "downgrade", "-1")
    assert run.returncode == 0 and "alembic revision a2 was undone already" in run.stderr, run.stderr
    assert history(db_url) == before
    # the first time (no earlier cycle): its downgrade has nothing to undo either, and says so (before: it failed,
    # 'alembic revision a3 stored no version of model churn')
    (example / "versions" / "a3_retire.py").write_text(
        (example / "versions" / "a2_retire.py").read_text().replace("revision = 'a2'\ndown_revision = 'a1'",
                                                                     "revision = 'a3'\ndown_revision = 'a2'"))
    run = alembic(example, db_url, "upgrade", "a3")
    assert run.returncode == 0 and "churn has no live version already (reason: by hand): nothing changed" \
        in run.stderr, run.stderr
    before = history(db_url)
    run = alembic(example, db_url, "downgrade", "a2")
    assert run.returncode == 0 and "pgscore: churn: alembic revision a3's retire_model changed nothing (the model " \
        "was retired already, or `alembic stamp` ran past the revision): nothing to undo" in run.stderr, run.stderr
    assert history(db_url) == before
    assert alembic(example, db_url, "downgrade", "a1").returncode == 0
    (example / "versions" / "a3_retire.py").unlink()
    # a model that does not exist fails the upgrade, naming it; alembic stays where it was
    (example / "versions" / "a2_retire.py").write_text(
        (example / "versions" / "a2_retire.py").read_text().replace("retire_model('churn'", "retire_model('chrun'"))
    run = alembic(example, db_url, "upgrade", "head")
    assert run.returncode != 0 and "UnknownModel: retire_model of alembic revision a2: there is no model 'chrun'\n" \
        "Hint: a typo for 'churn'? Else list the models with: pgscore models" in run.stderr, run.stderr
    assert query(db_url, "SELECT version_num FROM churn_app_alembic_version") == [("a1",)]


def test_the_worked_examples_revision_reads_its_files_only_when_it_runs(db_url, tmp_path):
    """alembic imports every revision for every command: `alembic history` and `current` work before
    make_models.py has written models/ (before: FileNotFoundError of the .sha256, read at import), and
    upgrade says which revision's file is missing."""
    example = tmp_path / "app"
    shutil.copytree(ROOT / "docs" / "examples" / "alembic_deploy", example)
    run = alembic(example, db_url, "history")
    assert run.returncode == 0 and "<base> -> a1 (head)" in run.stdout, run.stderr
    assert alembic(example, db_url, "current").returncode == 0
    run = alembic(example, db_url, "upgrade", "head")
    assert run.returncode != 0 and "churn-1.joblib.sha256" in run.stderr and "a1_churn_v1.py" in run.stderr, run.stderr


def test_two_branches_deploying_one_model_are_undone_each_to_the_state_without_it(db_url, tmp_path):
    """Teams A and B each deploy churn on a branch of their own after a1. Downgrading A's branch leaves B's
    version live (before: it retired or replaced it, with a warning, though alembic still held B applied);
    then downgrading B's makes a1's version live, as before both (before: A's, whose revision was undone)."""
    example, *_ = make_example(tmp_path, 200, seed=24)
    with_logging(example)
    a1 = example / "versions" / "a1_churn_v1.py"
    for team in ("A", "B"):
        (example / "versions" / f"b{team}.py").write_text(a1.read_text().replace(
            'revision = "a1"\ndown_revision = None\nbranch_labels = None',
            f'revision = "b{team}"\ndown_revision = "a1"\nbranch_labels = ("team{team}",)'))
    assert alembic(example, db_url, "upgrade", "a1").returncode == 0  # v1
    for cycle in range(2):
        for team in ("A", "B"):
            run = alembic(example, db_url, "upgrade", f"team{team}@head")
            assert run.returncode == 0, run.stderr
        a, b = 2 + 2 * cycle, 3 + 2 * cycle
        assert registry.show(db_url, "churn")["version"] == b
        run = alembic(example, db_url, "downgrade", "bA@-1")
        assert run.returncode == 0, run.stderr
        assert f"version {b} is live, set by alembic revision bB (still applied) after alembic revision bA" in \
            run.stderr and "WARN" not in run.stderr, run.stderr
        rec = registry.show(db_url, "churn")
        assert rec["live"] and rec["version"] == b
        run = alembic(example, db_url, "downgrade", "bB@-1")
        assert run.returncode == 0, run.stderr
        assert query(db_url, "SELECT version_num FROM churn_app_alembic_version") == [("a1",)]
        rec = registry.show(db_url, "churn")
        assert rec["live"] and rec["version"] == 1, (a, rec["history"])
    # the other order: B's branch first makes A's version live (A is still applied), then A's a1's
    for team in ("A", "B"):
        assert alembic(example, db_url, "upgrade", f"team{team}@head").returncode == 0
    assert alembic(example, db_url, "downgrade", "bB@-1").returncode == 0
    assert registry.show(db_url, "churn")["version"] == 6
    assert alembic(example, db_url, "downgrade", "bA@-1").returncode == 0
    assert registry.show(db_url, "churn")["version"] == 1


def test_a_branch_retiring_a_model_is_undone_leaving_another_branchs_later_version_live(db_url, tmp_path):
    """Team A retires churn on its branch, team B deploys a version of its own after it on another. Downgrading
    A's branch leaves B's version live, as a deploy's undo does across branches (before: it warned that churn
    had changed since and made a1's version live in place of B's, though alembic still held bB applied)."""
    example, *_ = make_example(tmp_path, 200, seed=25)
    with_logging(example)
    a1 = example / "versions" / "a1_churn_v1.py"
    (example / "versions" / "bA.py").write_text(
        "from pgscore.alembic_ops import retire_model, undeploy_model\nrevision = 'bA'\ndown_revision = 'a1'\n"
        "branch_labels = ('teamA',)\ndepends_on = None\n"
        "def upgrade():\n    retire_model('churn', revision=revision)\n"
        "def downgrade():\n    undeploy_model('churn', revision=revision)\n")
    (example / "versions" / "bB.py").write_text(a1.read_text().replace(
        'revision = "a1"\ndown_revision = None\nbranch_labels = None',
        'revision = "bB"\ndown_revision = "a1"\nbranch_labels = ("teamB",)'))
    assert alembic(example, db_url, "upgrade", "a1").returncode == 0  # v1
    for team in ("A", "B"):
        run = alembic(example, db_url, "upgrade", f"team{team}@head")
        assert run.returncode == 0, run.stderr
    assert registry.show(db_url, "churn")["version"] == 2
    run = alembic(example, db_url, "downgrade", "bA@-1")
    assert run.returncode == 0, run.stderr
    assert "WARN" not in run.stderr, run.stderr
    rec = registry.show(db_url, "churn")
    assert rec["live"] and rec["version"] == 2, rec["history"]
    run = alembic(example, db_url, "downgrade", "bB@-1")
    assert run.returncode == 0, run.stderr
    rec = registry.show(db_url, "churn")
    assert rec["live"] and rec["version"] == 1, rec["history"]


def through_psycopg3(example):
    """The example's env.py connecting through SQLAlchemy's psycopg 3 driver (postgresql+psycopg://) instead of
    psycopg2."""
    env = example / "env.py"
    env.write_text(env.read_text().replace(
        "with create_engine(url).connect() as conn:",
        "import sqlalchemy\n    with sqlalchemy.create_engine(url.replace('postgresql://', 'postgresql+psycopg://', "
        "1)).connect() as conn:"))


@pytest.mark.parametrize("driver", ["psycopg2", "psycopg"])
def test_undeploy_writes_the_rollbacks_warnings_to_alembics_log(db_url, tmp_path, driver):
    """The rollback an undeploy_model makes can go through with a server WARNING (a version set in shadow that a
    wired profile table cannot feed: pgscore.rollback lets it through where a version was live before). Neither
    driver's was shown (alembic shows no notice); registry.rollback returned psycopg2's alone. They are written
    to alembic's log now, as pgscore's notes are, through psycopg2 (the example's env.py) and psycopg 3
    (SQLAlchemy's postgresql+psycopg://) alike."""
    import numpy as np

    example, est, X, names = make_example(tmp_path, 200, seed=26)
    if driver == "psycopg":
        through_psycopg3(example)
    with_logging(example)
    registry.deploy(db_url, "churn", est, X, feature_names=names, reason="by hand")  # v1, live before the revision
    run = alembic(example, db_url, "upgrade", "head")  # v2
    assert run.returncode == 0, run.stderr
    cols = ", ".join(f"{n} float8 DEFAULT 0" for n in names)
    query(db_url, f"CREATE TABLE people (id int PRIMARY KEY, {cols}, loyalty float8, s float8, scored_at timestamptz, "
                  "n int DEFAULT 0)")
    query(db_url, "CREATE TABLE calls (person int)")
    query(db_url, "SELECT pgscore.attach_rescoring('calls', 'people', 'person', 'churn', 's', %s::jsonb, "
                  "p_profile_key => 'id')", ('{"n": "count"}',))
    X3 = np.column_stack([X, X[:, 0]])
    registry.deploy(db_url, "churn", LogisticRegression(max_iter=500).fit(X3, est.predict(X)), X3,
                    feature_names=[*names, "loyalty"], activate=False, allow_feature_change=True)  # v3
    query(db_url, "SELECT pgscore.set_shadow('churn', 3)")
    query(db_url, "ALTER TABLE people DROP COLUMN loyalty")
    run = alembic(example, db_url, "downgrade", "base")
    assert run.returncode == 0, run.stderr
    assert registry.show(db_url, "churn")["version"] == 1
    assert "WARNI [alembic.pgscore] pgscore: churn: pgscore.rollback: version 1 of 'churn' was made live by a " \
           "rollback while version 3 is its shadow: public.people, which public.calls rescores with 'churn', has no " \
           "column 'loyalty'" in run.stderr, run.stderr
    assert "HINT:  add the feature column(s) to the profile table, or clear the shadow: " \
           "pgscore.clear_shadow('churn', 3)" in run.stderr, run.stderr


def test_the_worked_examples_version_table_is_its_projects_own(db_url, tmp_path):
    """The docs advised every project the version table app_alembic_version, so two alembic projects in one
    database shared it: the second read the first's revision as its own (its upgrade failed on a revision it
    does not know, or skipped its own where both named it a1). The example names its own in alembic.ini
    (churn_app_alembic_version), which its env.py reads: another project beside it, with its own name, keeps its
    own history; without a name, or with pgscore's, env.py stops before touching the database."""
    example, *_ = make_example(tmp_path / "one", 200, seed=27)
    other, *_ = make_example(tmp_path / "two", 200, seed=28)
    ini = other / "alembic.ini"
    ini.write_text(ini.read_text().replace("version_table = churn_app_alembic_version",
                                           "version_table = billing_alembic_version"))
    rev = other / "versions" / "a1_churn_v1.py"
    rev.write_text(rev.read_text().replace('deploy_model("churn"', 'deploy_model("billing"').replace(
        'undeploy_model("churn"', 'undeploy_model("billing"'))
    assert alembic(example, db_url, "upgrade", "head").returncode == 0
    run = alembic(other, db_url, "upgrade", "head")  # its own a1: run, not taken for the other's
    assert run.returncode == 0, run.stderr
    assert registry.show(db_url, "billing")["live"]
    assert query(db_url, "SELECT version_num FROM churn_app_alembic_version") == [("a1",)]
    assert query(db_url, "SELECT version_num FROM billing_alembic_version") == [("a1",)]
    assert alembic(other, db_url, "downgrade", "base").returncode == 0
    assert query(db_url, "SELECT version_num FROM churn_app_alembic_version") == [("a1",)]
    for line, said in (("version_table = pgscore_alembic_version", "is pgscore's own version table"),
                       ("", "name this project's own alembic version table in alembic.ini")):
        ini.write_text(re.sub(r"(?m)^version_table = .*$", line, ini.read_text()))
        run = alembic(other, db_url, "upgrade", "head")
        assert run.returncode != 0 and said in run.stderr and "<your project>_alembic_version" in run.stderr, \
            run.stderr
    assert query(db_url, "SELECT count(*) FROM billing_alembic_version") == [(0,)]


def wired_churn_profiles(db_url, X, names, nulls):
    """A profile table prof of churn's features (row i: X[i], the column names[3] NULL in the first `nulls` rows,
    analysed), wired to rescore with churn from events of prof_ev, a missing profile queued."""
    query(db_url, f"CREATE TABLE prof (id int PRIMARY KEY, {', '.join(f'{n} float8' for n in names)}, s float8, "
                  "scored_at timestamptz) WITH (autovacuum_enabled = off); CREATE TABLE prof_ev (cid int)")
    with psycopg2.connect(db_url) as conn, conn.cursor() as cur:
        for i in range(len(X)):
            cur.execute(f"INSERT INTO prof VALUES (%s, {', '.join(['%s'] * len(names))})",
                        (i, *[None if j == 3 and i < nulls else float(v) for j, v in enumerate(X[i])]))
    conn.close()
    query(db_url, "ANALYZE prof; SELECT pgscore.attach_rescoring('prof_ev', 'prof', 'cid', 'churn', 's', "
                  "p_profile_key => 'id', p_missing_profile => 'queue')")


# a revision after the deploy's, in the same transaction (alembic's default): the session's settings as it finds them
SETTINGS_SEEN = ("from alembic import op\nrevision = '{rev}'\ndown_revision = '{down}'\n"
                 "def upgrade():\n    op.execute(\"CREATE TABLE seen AS SELECT current_setting('statement_timeout') "
                 "AS st, current_setting('lock_timeout') AS lt, current_setting('search_path') AS sp\")\n"
                 "def downgrade():\n    op.execute('DROP TABLE seen')\n")
SETTINGS = ("SELECT current_setting('statement_timeout'), current_setting('lock_timeout'), "
            "current_setting('search_path')")


def logging_example(tmp_path, driver, seed):
    """The example (psycopg2), or one with an env.py as `alembic init` writes it (SQLAlchemy's psycopg 3), with the
    logging of its alembic.ini (the one `alembic init` writes alike): (example, est, X, names, version table)."""
    if driver == "psycopg2":
        return *make_example(tmp_path, 200, seed), "churn_app_alembic_version"
    example, est, X, names = plain_example(tmp_path, seed)
    env = example / "env.py"
    env.write_text("from logging.config import fileConfig\nfrom alembic import context\n"
                   "fileConfig(context.config.config_file_name)\n" + env.read_text())
    return example, est, X, names, "app_alembic_version"


@pytest.mark.parametrize("driver", ["psycopg2", "psycopg 3"])
def test_a_revision_making_a_version_live_over_a_wired_table_with_nulls_logs_the_go_live_warning(db_url, tmp_path,
                                                                                                  driver):
    """pgscore deploy, activate and rollback warn where the version they make live takes no missing value in a
    feature a wired profile table holds NULLs in (each event for such a profile queued, 22023); deploy_model and
    undeploy_model said nothing. They log the same warning now, checked in the migration's transaction (the
    version is not committed: a connection of the check's own would not see it), which commits, the session's
    settings as they were; nothing once the column is filled. Through psycopg2 (the example's env.py) and
    SQLAlchemy's psycopg 3 alike."""
    example, est, X, names, table = logging_example(tmp_path, driver, seed=29)
    said = "WARNI [alembic.pgscore] pgscore: "
    registry.deploy(db_url, "churn", est, X, feature_names=names, reason="by hand")  # (version 1, undone to)
    wired_churn_profiles(db_url, X, names, nulls=20)
    (example / "versions" / "a2_seen.py").write_text(SETTINGS_SEEN.format(rev="a2", down="a1"))
    c = names[3]
    warning = (f"churn version {{v}} takes no missing value in {c}, and public.prof (wired to rescore with it: "
               f"wiring 1) holds NULL there: {c} (~10.0% of ~200 rows) (pg_stats.null_frac, an estimate from the last "
               "ANALYZE); the rescoring of each event for such a profile will fail and be queued in "
               f"pgscore.error_queue (22023) until the column is filled (UPDATE \"public\".\"prof\" SET \"{c}\" = ... "
               f"WHERE \"{c}\" IS NULL OR \"{c}\" = 'NaN'; ANALYZE \"public\".\"prof\"), or deploy a model that takes "
               "missing values (an imputer in its pipeline, or HistGradientBoosting)\n")
    run = alembic(example, db_url, "upgrade", "head")
    assert run.returncode == 0, run.stderr
    assert f"{said}alembic revision a1: " + warning.format(v=2) in run.stderr, run.stderr
    assert run.stderr.count("takes no missing value") == 1 and "skipped" not in run.stderr, run.stderr
    assert query(db_url, f"SELECT version_num FROM {table}") == [("a2",)]
    assert registry.show(db_url, "churn")["version"] == 2 and registry.show(db_url, "churn")["live"]
    assert query(db_url, "SELECT st, lt, sp FROM seen") == query(db_url, SETTINGS)  # (not the check's)
    # (what it warns of)
    query(db_url, "INSERT INTO prof_ev VALUES (0), (150)")
    assert query(db_url, "SELECT entity_key, sqlstate FROM pgscore.error_queue") == [("0", "22023")]

    run = alembic(example, db_url, "downgrade", "base")  # (a1's undo makes version 1 live again)
    assert run.returncode == 0, run.stderr
    assert f"{said}alembic downgrade a1: " + warning.format(v=1) in run.stderr, run.stderr
    assert registry.show(db_url, "churn")["version"] == 1

    query(db_url, f"UPDATE prof SET {c} = 0 WHERE {c} IS NULL; ANALYZE prof")
    run = alembic(example, db_url, "upgrade", "head")
    assert run.returncode == 0, run.stderr
    assert "takes no missing value" not in run.stderr and "skipped" not in run.stderr, run.stderr
    assert registry.show(db_url, "churn")["version"] == 3


@pytest.mark.parametrize("driver", ["psycopg2", "psycopg 3"])
def test_a_go_live_check_that_fails_in_a_revision_leaves_the_migration_committing(db_url, tmp_path, driver):
    """The check's probe refused by the server for another reason than the NULL (a version deployed without
    train_csv has no training minimum: 0 is an unknown category of its one-hot encoder), an ERROR in the
    migration's own transaction: in the check's savepoint, rolled back; the migration goes on and commits, the
    session's settings as they were, and a note says the check was skipped. Through psycopg2 and psycopg 3."""
    example, *_, table = logging_example(tmp_path, driver, seed=30)
    path = example / "models" / "ohe.joblib"
    ohe_model_over_a_wired_table(db_url, path, seed=30)
    (example / "versions" / "a2_ohe.py").write_text(
        "from pathlib import Path\nfrom pgscore.alembic_ops import deploy_model, undeploy_model\n"
        "revision = 'a2'\ndown_revision = 'a1'\nHERE = Path(__file__).resolve().parent\n"
        f"def upgrade():\n    deploy_model('ohe', HERE.parent / 'models' / 'ohe.joblib', "
        f"'{artifacts.sha256(path.read_bytes())}', revision=revision, feature_names=['x', 'c1', 'c2'])\n"
        "def downgrade():\n    undeploy_model('ohe', revision=revision)\n")
    (example / "versions" / "a3_seen.py").write_text(SETTINGS_SEEN.format(rev="a3", down="a2"))
    run = alembic(example, db_url, "upgrade", "head")
    assert run.returncode == 0, run.stderr
    assert ("INFO  [alembic.pgscore] pgscore: alembic revision a2: the check of ohe version 1's wired profile "
            "tables for NULLs it refuses was skipped: ") in run.stderr and "unknown categor" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr and "takes no missing value" not in run.stderr, run.stderr
    assert query(db_url, f"SELECT version_num FROM {table}") == [("a3",)]
    assert registry.show(db_url, "ohe")["live"] and registry.show(db_url, "churn")["live"]
    assert query(db_url, "SELECT st, lt, sp FROM seen") == query(db_url, SETTINGS)


def unanalysed_churn_profiles(db_url, names):
    """An empty profile table wired to churn and never analysed (the go-live check reads its first rows)."""
    query(db_url, f"CREATE TABLE prof (id int PRIMARY KEY, {', '.join(f'{n} float8' for n in names)}, s float8, "
                  "scored_at timestamptz); CREATE TABLE prof_ev (cid int); "
                  "SELECT pgscore.attach_rescoring('prof_ev', 'prof', 'cid', 'churn', 's', p_profile_key => 'id', "
                  "p_missing_profile => 'queue')")


def test_the_downgrade_of_a_retire_model_revision_logs_the_go_live_warning(db_url, tmp_path):
    """undeploy_model of a revision whose retire_model retired the model makes the retired version live again:
    over a wired table with NULLs it refuses, it logs the warning as a deploy does (reason: the downgrade)."""
    example, est, X, names = make_example(tmp_path, 200, seed=31)
    wired_churn_profiles(db_url, X, names, nulls=20)
    (example / "versions" / "a2_retire.py").write_text(
        "from pgscore.alembic_ops import retire_model, undeploy_model\nrevision = 'a2'\ndown_revision = 'a1'\n"
        "def upgrade():\n    retire_model('churn', revision=revision)\n"
        "def downgrade():\n    undeploy_model('churn', revision=revision)\n")
    run = alembic(example, db_url, "upgrade", "head")
    assert run.returncode == 0, run.stderr
    assert run.stderr.count("takes no missing value") == 1, run.stderr  # (a1's deploy; a2's retire: none)
    run = alembic(example, db_url, "downgrade", "-1")
    assert run.returncode == 0 and "pgscore: churn version 1 is live again, as before alembic revision a2" \
        in run.stderr, run.stderr
    assert (f"WARNI [alembic.pgscore] pgscore: alembic downgrade a2: churn version 1 takes no missing value in "
            f"{names[3]}, and public.prof (wired to rescore with it: wiring 1) holds NULL there") in run.stderr, \
        run.stderr
    assert registry.show(db_url, "churn")["live"]


@pytest.mark.parametrize("driver", ["psycopg2", "psycopg 3"])
def test_a_go_live_check_past_its_deadline_in_a_revision_leaves_the_migration_committing(db_url, tmp_path, driver):
    """The check's deadline (here 1 s, set by the revision, its lock wait longer) past while it waits for a wired
    table another session locks: the server cancels the statement (57014) in the migration's own transaction, in
    the check's savepoint, rolled back; the note says it took too long, and the migration commits, the session's
    settings (the deadline's statement_timeout) as they were."""
    example, est, X, names, table = logging_example(tmp_path, driver, seed=32)
    unanalysed_churn_profiles(db_url, names)  # (its first rows are read, under its lock)
    rev = example / "versions" / "a1_churn_v1.py"
    rev.write_text("from pgscore import wired_nulls\nwired_nulls.DEADLINE_S, wired_nulls.LOCK_TIMEOUT_MS = 1.0, 5000\n"
                   + rev.read_text())
    (example / "versions" / "a2_seen.py").write_text(SETTINGS_SEEN.format(rev="a2", down="a1"))
    holder = psycopg2.connect(db_url)
    try:
        holder.cursor().execute("LOCK TABLE prof IN ACCESS EXCLUSIVE MODE")
        run = alembic(example, db_url, "upgrade", "head")
    finally:
        holder.close()
    assert run.returncode == 0, run.stderr
    assert ("INFO  [alembic.pgscore] pgscore: alembic revision a1: the check of churn version 1's wired profile "
            "tables for NULLs it refuses was skipped: it took more than 1 s\n") in run.stderr, run.stderr
    assert query(db_url, f"SELECT version_num FROM {table}") == [("a2",)]
    assert registry.show(db_url, "churn")["live"]
    assert query(db_url, "SELECT st, lt, sp FROM seen") == query(db_url, SETTINGS)


@pytest.mark.parametrize("driver", ["psycopg2", "psycopg 3"])
def test_a_go_live_check_in_a_revision_leaves_no_savepoint_open(db_url, tmp_path, driver):
    """The check's savepoint was rolled back to and left open: the rest of the migration (the revisions after it)
    ran in a subtransaction of its own, one more for each deploy's check (past 64 of them open at once, every
    snapshot on the server overflows its subtransaction cache while the migration lasts). Released now: a revision
    after the deploy writes with the migration's own transaction id, and the check still warns."""
    example, est, X, names, table = logging_example(tmp_path, driver, seed=33)
    wired_churn_profiles(db_url, X, names, nulls=20)
    (example / "versions" / "a2_xid.py").write_text(
        "from alembic import op\nrevision = 'a2'\ndown_revision = 'a1'\n"
        "def upgrade():\n    op.execute('CREATE TABLE written AS SELECT pg_catalog.pg_current_xact_id()::text::bigint"
        " % 4294967296 AS top')\ndef downgrade():\n    op.execute('DROP TABLE written')\n")
    run = alembic(example, db_url, "upgrade", "head")
    assert run.returncode == 0, run.stderr
    assert run.stderr.count("takes no missing value") == 1, run.stderr  # (the check ran, in a1)
    assert query(db_url, f"SELECT version_num FROM {table}") == [("a2",)]
    # (a row's xmin is the transaction id of the (sub)transaction that wrote it)
    assert query(db_url, "SELECT xmin::text::bigint = top FROM written") == [(True,)]


def test_a_go_live_check_cancelled_in_a_revision_says_so_not_that_it_took_too_long(db_url, tmp_path):
    """A cancel of the migration's statement while the check waits (pg_cancel_backend by an operator, 57014 as the
    deadline's statement_timeout) was said as the deadline: `it took more than 8 s`, after well under a second. The
    note gives the server's reason now (the migration goes on, as for any check that cannot end)."""
    import threading
    import time

    example, est, X, names = make_example(tmp_path, 200, seed=34)
    unanalysed_churn_profiles(db_url, names)  # (its first rows are read, under its lock)
    rev = example / "versions" / "a1_churn_v1.py"
    rev.write_text("from pgscore import wired_nulls\nwired_nulls.LOCK_TIMEOUT_MS = 8000\n" + rev.read_text())
    cancelled = []

    def cancel():  # (the check's read of prof, waiting for its lock: its text is cut before the name)
        for _ in range(200):
            rows = query(db_url, "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                 "AND query LIKE 'SELECT pg_catalog.count(*)%%' AND pid <> pg_backend_pid()")
            if rows:
                cancelled.append(time.monotonic())
                return
            time.sleep(0.05)

    holder = psycopg2.connect(db_url)
    try:
        holder.cursor().execute("LOCK TABLE prof IN ACCESS EXCLUSIVE MODE")
        thread = threading.Thread(target=cancel)
        thread.start()
        run = alembic(example, db_url, "upgrade", "head")
        thread.join()
    finally:
        holder.close()
    assert cancelled and run.returncode == 0, run.stderr
    assert ("INFO  [alembic.pgscore] pgscore: alembic revision a1: the check of churn version 1's wired profile "
            "tables for NULLs it refuses was skipped: canceling statement due to user request (57014)\n") \
        in run.stderr, run.stderr
    assert registry.show(db_url, "churn")["live"]


@pytest.mark.parametrize("driver", ["psycopg2", "psycopg 3"])
def test_a_go_live_check_in_an_autocommit_block_warns(db_url, tmp_path, driver):
    """deploy_model in alembic's autocommit_block() (no transaction: the version is committed as it is stored): the
    check's SAVEPOINT, refused outside a transaction block, made it skipped with the error of its ROLLBACK TO, no
    SQLSTATE. It runs in a transaction of its own there, rolled back, and warns as anywhere."""
    example, est, X, names, _ = logging_example(tmp_path, driver, seed=35)
    wired_churn_profiles(db_url, X, names, nulls=20)
    rev = example / "versions" / "a1_churn_v1.py"
    rev.write_text(rev.read_text().replace(
        "def upgrade():\n    deploy_model(", "from alembic import op\n\n\ndef upgrade():\n"
        "    with op.get_context().autocommit_block():\n        deploy_model("))
    run = alembic(example, db_url, "upgrade", "head")
    assert run.returncode == 0, run.stderr
    assert "skipped" not in run.stderr and run.stderr.count("takes no missing value") == 1, run.stderr
    assert registry.show(db_url, "churn")["live"]


@pytest.mark.parametrize("driver", ["psycopg2", "psycopg"])
def test_the_deployed_line_without_train_csv_says_no_hold_out_through_either_driver(db_url, tmp_path, driver):
    """deploy_model without train_csv measures no hold-out: its log line names the version it stored and no
    metrics, through psycopg2 (the example's env.py) and psycopg 3 (SQLAlchemy's postgresql+psycopg://) alike."""
    example, _, _, names = make_example(tmp_path, 200, seed=31)
    if driver == "psycopg":
        through_psycopg3(example)
    rev = example / "versions" / "a1_churn_v1.py"
    text = rev.read_text()
    cut = re.search(r",\s*train_csv=[^\n]*?target=\"churned\"", text)
    assert cut, text
    rev.write_text(text.replace(cut.group(0), f", feature_names={list(names)!r}"))
    run = alembic(example, db_url, "upgrade", "head")
    assert run.returncode == 0, run.stderr
    rec = registry.show(db_url, "churn")
    said = [line for line in run.stderr.splitlines() if "pgscore: deployed" in line]
    assert said == [f"INFO  [alembic.pgscore] pgscore: deployed churn version 1 (model_id {rec['model_id']}, sha256 "
                    f"{rec['sha256'][:12]}..., {'signed' if rec['signed'] else 'unsigned'}, live) by alembic revision "
                    "a1"], run.stderr


def test_deploy_model_with_a_training_csv_of_words_deploys_the_model_fitted_on_them(db_url, tmp_path):
    """deploy_model(train_csv=...) of a Pipeline whose OneHotEncoder was fitted on words (migration 0123): the
    CSV's words are read as words and coded, the model stored converted, its words recorded, and it scores them
    by name as the original does (before: the CSV's 'east' was "not a number")."""
    import csv

    import numpy as np
    from test_text_categories import NAMES, binary_model

    example, *_ = make_example(tmp_path, 200, seed=23)
    assert alembic(example, db_url, "upgrade", "head").returncode == 0
    models = example / "models"
    model, X, y = binary_model()
    joblib.dump(model, models / "plans.joblib")
    with open(models / "plans-train.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([*NAMES, "y"])
        for row, label in zip(X, y):
            w.writerow(["NA" if isinstance(v, float) and v != v else v for v in row] + [label])
    sha = artifacts.sha256((models / "plans.joblib").read_bytes())
    (example / "versions" / "a2_plans.py").write_text(
        "from pathlib import Path\nfrom pgscore.alembic_ops import deploy_model, undeploy_model\n"
        "revision = 'a2'\ndown_revision = 'a1'\nHERE = Path(__file__).resolve().parent\n"
        f"def upgrade():\n    deploy_model('plans', HERE.parent / 'models' / 'plans.joblib', '{sha}', "
        "revision=revision, train_csv=HERE.parent / 'models' / 'plans-train.csv', target='y')\n"
        "def downgrade():\n    undeploy_model('plans', revision=revision)\n")
    run = alembic(example, db_url, "upgrade", "head")
    assert run.returncode == 0, run.stderr
    shown = registry.show(db_url, "plans")
    assert shown["text_categories"] == {"region": ["east", "north", "south", "west"], "plan": ["basic", "plus", "pro"]}
    assert "auc" in shown["metrics"]
    (score,), = query(db_url, "SELECT pgscore.score('plans', '{\"age\": 35, \"region\": \"west\", \"plan\": \"pro\"}'::jsonb)")
    assert abs(score - model.predict_proba(np.array([[35.0, "west", "pro"]], dtype=object))[0, 1]) < 1e-9


def test_deploy_model_logs_a_version_made_live_with_a_worse_hold_out_metric_as_pgscore_deploy_notes_it(db_url,
                                                                                                       tmp_path):
    """deploy_model shares registry.deploy's comparison with the live version's hold-out metrics: made live with a
    worse one (beyond the margin), alembic's log says so in pgscore deploy's words; the upgrade still succeeds."""
    example, est, X, names = make_example(tmp_path, 200, seed=13)
    # a live version by hand whose hold-out labels its own estimator learns almost perfectly: an AUC near 1
    registry.deploy(db_url, "churn", est, X, est.predict(X), feature_names=names, reason="by hand")
    run = alembic(example, db_url, "upgrade", "head")
    assert run.returncode == 0, run.stderr
    (new,), (old,) = query(db_url, "SELECT (metrics->>'auc')::float8 FROM pgscore.model_versions WHERE name = 'churn' "
                                   "ORDER BY version DESC")
    assert new < old - 0.01, (new, old)
    said = [line for line in run.stderr.splitlines() if "is live now with hold-out" in line]
    # (alembic.ini's log format cuts the level name to 5 characters: WARNI)
    assert said == [f"WARNI [alembic.pgscore] pgscore: alembic revision a1: churn version 2 is live now with hold-out "
                    f"auc {new:.3f}, under the {old:.3f} of version 1, live before it, by more than 0.01 (each "
                    "measured on a fifth of its own training rows); to make version 1 live again: "
                    f"{command('rollback churn')}; "
                    "to compare a version before it goes live, deploy it with --no-activate and score it next to the "
                    f"live one, logged and never served: {command('shadow churn VERSION')} (docs/guide.md, "
                    "Retraining)"], run.stderr


# the shadow-then-promote recipe of docs/alembic.md: a1 (the worked example: v1 live), m2 (a second artifact stored
# with activate=False, shadow=True), m3 (promote_model of what m2 stored); one project shared by the tests below,
# each of which runs it against its own database
M2 = '''
from pathlib import Path
from pgscore.alembic_ops import deploy_model, undeploy_model
revision = "m2"
down_revision = "a1"
MODELS = Path(__file__).resolve().parent.parent / "models"
def upgrade():
    deploy_model("churn", MODELS / "churn-2.joblib", "@SHA", revision=revision, train_csv=MODELS / "churn-train.csv",
                 target="churned", activate=False, shadow=True)
def downgrade():
    undeploy_model("churn", revision=revision)
'''
M3 = '''
from pgscore.alembic_ops import promote_model, undeploy_model
revision = "m3"
down_revision = "m2"
def upgrade():
    promote_model("churn", revision=revision, stored_by="m2")
def downgrade():
    undeploy_model("churn", revision=revision)
'''


@pytest.fixture(scope="module")
def promoting_app(tmp_path_factory):
    example, est, X, names = make_example(tmp_path_factory.mktemp("promote"), 200, seed=31)
    with_logging(example)
    models = example / "models"
    joblib.dump(LogisticRegression(C=0.05, max_iter=500).fit(X, est.predict(X)), models / "churn-2.joblib")
    sha = hashlib.sha256((models / "churn-2.joblib").read_bytes()).hexdigest()
    (example / "versions" / "m2_churn_v2_shadow.py").write_text(M2.replace("@SHA", sha))
    (example / "versions" / "m3_promote_v2.py").write_text(M3)
    return example


def live_and_shadows(db_url):
    """(the live version, the versions scored in shadow) of churn."""
    live = query(db_url, "SELECT version FROM pgscore.model_versions WHERE name = 'churn' AND live")
    shadows = query(db_url, "SELECT version FROM pgscore.shadow_versions WHERE name = 'churn' ORDER BY version")
    return (live[0][0] if live else None), [v for v, in shadows]


def test_a_shadow_promoted_by_a_revision_is_undone_exactly_by_its_downgrade_cycle_after_cycle(db_url, promoting_app):
    """deploy_model(activate=False, shadow=True) stores v2 in shadow; promote_model makes it live; the promotion's
    downgrade makes v1 live and v2 a shadow again, m2's ends its shadow mark, three up/down cycles alike (a new
    user's trial: op.execute of set_shadow and activate, undone by undeploy_model of m2, gave another state at each
    cycle: v2 no shadow, then `nothing to undo`, then the previous cycle's copy of v2 live)."""
    app = promoting_app
    run = alembic(app, db_url, "upgrade", "a1")
    assert run.returncode == 0, run.stderr
    for cycle in range(3):
        v = 2 + cycle  # each upgrade of m2 stores a new copy of the artifact
        run = alembic(app, db_url, "upgrade", "m2")
        assert run.returncode == 0, run.stderr
        assert live_and_shadows(db_url) == (1, [v]), cycle
        assert f"pgscore: churn version {v} is scored in shadow next to live version 1, set by alembic revision m2" \
            in run.stderr, run.stderr
        run = alembic(app, db_url, "upgrade", "m3")
        assert run.returncode == 0, run.stderr
        assert live_and_shadows(db_url) == (v, []), cycle
        assert history(db_url)[-1] == (v, "activate", "alembic revision m3")
        assert (f"pgscore: churn version {v}, stored by alembic revision m2, is live, promoted by alembic revision m3 "
                "(version 1 was)") in run.stderr, run.stderr
        assert f"pgscore: churn: shadow version v{v} stopped: it is live" in run.stderr, run.stderr
        run = alembic(app, db_url, "downgrade", "-1")
        assert run.returncode == 0, run.stderr
        assert live_and_shadows(db_url) == (1, [v]), cycle
        assert history(db_url)[-1] == (1, "rollback", "alembic downgrade m3")
        assert "pgscore: churn version 1 is live again, as before alembic revision m3" in run.stderr, run.stderr
        assert f"pgscore: churn version {v} is scored in shadow again, as before alembic revision m3" in run.stderr
        run = alembic(app, db_url, "downgrade", "-1")
        assert run.returncode == 0, run.stderr
        assert live_and_shadows(db_url) == (1, []), cycle
        assert f"pgscore: churn version {v} is no longer scored in shadow, as before alembic revision m2 (it stays " \
            "stored)" in run.stderr, run.stderr
        # (its shadow ended, the log says nothing contrary: before, `... (version 1 live): nothing to do` followed)
        assert "pgscore: churn is as it was before alembic revision m2 (version 1 live): nothing else to do" \
            in run.stderr and "nothing to do" not in run.stderr, run.stderr
        assert "shadow" not in query(db_url, "SELECT string_agg(action, ',') FROM pgscore.deployments")[0][0]
    assert query(db_url, "SELECT count(*) FROM pgscore.models WHERE name = 'churn'") == [(4,)]  # all kept
    # downgraded twice (alembic stamp, downgrade again): nothing changes, and it says so
    before = history(db_url), live_and_shadows(db_url)
    assert alembic(app, db_url, "upgrade", "head").returncode == 0
    assert alembic(app, db_url, "downgrade", "m2").returncode == 0
    assert alembic(app, db_url, "stamp", "m3").returncode == 0
    run = alembic(app, db_url, "downgrade", "m2")
    assert run.returncode == 0 and "churn: alembic revision m3 was undone already" in run.stderr, run.stderr
    assert live_and_shadows(db_url) == (1, [5])
    assert alembic(app, db_url, "downgrade", "a1").returncode == 0
    assert live_and_shadows(db_url) == before[1]


def test_a_deploy_revision_run_again_shadows_a_twin_and_the_promotion_of_the_newest_copy_is_undone_to_it(
        db_url, promoting_app):
    """`alembic stamp a1; alembic upgrade m2` stores a second copy of v2 and sets it in shadow too: a note says both
    score each event alike, and how to stop one (before: no word). m3 promotes the newest copy; its downgrade
    leaves both shadows as they were before it, m2's the first copy alone, as before its second upgrade."""
    app = promoting_app
    assert alembic(app, db_url, "upgrade", "m2").returncode == 0  # v1 live, v2 shadow
    assert alembic(app, db_url, "stamp", "a1").returncode == 0
    run = alembic(app, db_url, "upgrade", "m2")  # v3: the same bytes as v2
    assert run.returncode == 0, run.stderr
    assert live_and_shadows(db_url) == (1, [2, 3])
    (sha,), = query(db_url, "SELECT DISTINCT sha256 FROM pgscore.model_versions WHERE name = 'churn' AND shadow")
    assert ("INFO  [alembic.pgscore] pgscore: alembic revision m2: churn: versions 2 (shadow), 3 (shadow) store the "
            f"same artifact (sha256 {sha[:12]}...): each event is scored by each of them, with identical results; stop "
            f"the shadow that repeats it: {command('shadow churn 2 --off')} (SQL: pgscore.clear_shadow('churn', 2))") \
        in run.stderr, run.stderr
    run = alembic(app, db_url, "upgrade", "m3")
    assert run.returncode == 0, run.stderr
    assert live_and_shadows(db_url) == (3, [2])  # the newest copy promoted
    assert "churn: versions 2 (shadow), 3 (live) store the same artifact" in run.stderr, run.stderr
    assert "(SQL: pgscore.clear_shadow('churn', 2))" in run.stderr, run.stderr
    v = 3
    for cycle in range(3):  # down and up again: the same states, with the new copy m2 stores
        run = alembic(app, db_url, "downgrade", "-1")
        assert run.returncode == 0, run.stderr
        assert live_and_shadows(db_url) == (1, [2, v]), cycle
        run = alembic(app, db_url, "downgrade", "-1")
        assert run.returncode == 0, run.stderr
        assert live_and_shadows(db_url) == (1, [2]), cycle
        v += 1
        assert alembic(app, db_url, "upgrade", "m2").returncode == 0
        assert live_and_shadows(db_url) == (1, [2, v]), cycle
        assert alembic(app, db_url, "upgrade", "m3").returncode == 0
        assert live_and_shadows(db_url) == (v, [2]), cycle


@pytest.mark.parametrize("driver", ["psycopg2", "psycopg"])
def test_promote_model_logs_the_wired_profiles_that_keep_the_version_befores_score(db_url, promoting_app, tmp_path,
                                                                                     driver):
    """User trial hT12, finding 5: pgscore activate says how many wired profiles keep the score another version gave
    them, with pgscore rescore; promote_model (and a downgrade's go-live) said nothing, and pgscore status counted
    3,000 right after. It logs activate's line per wiring (stale_scores), on the migration's connection: psycopg2's
    (the example's env.py) and psycopg 3's (SQLAlchemy's postgresql+psycopg://; review r6: untested)."""
    import shutil

    app = promoting_app
    if driver == "psycopg":
        app = tmp_path / "app"
        shutil.copytree(promoting_app, app)
        through_psycopg3(app)
    assert alembic(app, db_url, "upgrade", "m2").returncode == 0  # v1 live, v2 shadow
    names = query(db_url, "SELECT feature_names FROM pgscore.models WHERE name = 'churn' AND version = 1")[0][0]
    cols = ", ".join(f"{n} float8 DEFAULT 0" for n in names)
    query(db_url, f"CREATE TABLE people (id int PRIMARY KEY, {cols}, s float8, scored_at timestamptz, "
                  "n int DEFAULT 0)")
    query(db_url, "CREATE TABLE calls (person int)")
    query(db_url, "INSERT INTO people (id) SELECT generate_series(1, 3)")
    query(db_url, "SELECT pgscore.attach_rescoring('calls', 'people', 'person', 'churn', 's', %s::jsonb, "
                  "p_profile_key => 'id')", ('{"n": "count"}',))
    query(db_url, "INSERT INTO calls VALUES (1), (2), (3)")  # scored by v1
    run = alembic(app, db_url, "upgrade", "m3")
    assert run.returncode == 0, run.stderr
    assert ("pgscore: alembic revision m3: churn: 3 profiles of public.people (wired from public.calls) hold another "
            "version's score until their next event; rescore them with the live version: ") in run.stderr, run.stderr
    assert "rescore --table public.calls" in run.stderr, run.stderr
    run = alembic(app, db_url, "downgrade", "-1")  # v1 live again: the profiles hold its score
    assert run.returncode == 0 and "another version's score" not in run.stderr, run.stderr
    query(db_url, "SELECT pgscore.detach_rescoring('calls', 'people')")


def test_promote_model_of_a_version_that_was_no_shadow_and_its_refusals(db_url, promoting_app, tmp_path):
    """A version stored by m2 whose shadow was stopped by hand: the promotion's downgrade makes v1 live and leaves
    it no shadow, as it was. A stored_by that stored nothing fails the upgrade with the revisions that did, and
    shadow=True with activate=True fails it before anything is stored."""
    app = promoting_app
    assert alembic(app, db_url, "upgrade", "m2").returncode == 0
    query(db_url, "SELECT pgscore.clear_shadow('churn', 2, 'by hand')")
    assert alembic(app, db_url, "upgrade", "m3").returncode == 0
    assert live_and_shadows(db_url) == (2, [])
    run = alembic(app, db_url, "downgrade", "-1")
    assert run.returncode == 0, run.stderr
    assert live_and_shadows(db_url) == (1, [])
    run = alembic(app, db_url, "downgrade", "-1")  # m2: its mark stopped by hand already, v1 live: nothing to undo
    assert run.returncode == 0 and "churn is as it was before alembic revision m2 (version 1 live): nothing to do" \
        in run.stderr, run.stderr
    assert live_and_shadows(db_url) == (1, [])

    copy = tmp_path / "app"
    shutil.copytree(app, copy)
    m3 = copy / "versions" / "m3_promote_v2.py"
    m3.write_text(m3.read_text().replace('stored_by="m2"', 'stored_by="m9"'))
    assert alembic(copy, db_url, "upgrade", "m2").returncode == 0
    before = history(db_url), live_and_shadows(db_url)
    run = alembic(copy, db_url, "upgrade", "m3")
    assert run.returncode != 0, run.stderr
    assert ("pgscore.errors.UnknownModel: promote_model of alembic revision m3: alembic revision m9 stored no version "
            "of model 'churn'\nHint: stored_by= names the revision whose deploy_model(..., activate=False) stored the "
            "version to promote (alembic revisions that stored versions of it: a1, m2)") in run.stderr, run.stderr
    assert (history(db_url), live_and_shadows(db_url)) == before
    m2 = copy / "versions" / "m2_churn_v2_shadow.py"
    m2.write_text(m2.read_text().replace("activate=False, shadow=True", "shadow=True"))
    assert alembic(copy, db_url, "downgrade", "a1").returncode == 0
    n = query(db_url, "SELECT count(*) FROM pgscore.models")
    run = alembic(copy, db_url, "upgrade", "m2")
    assert run.returncode != 0 and "alembic revision m2, deploy_model('churn'): shadow=True scores a version that " \
        "is not live next to the live one, and activate=True makes it live\nHint: pass activate=False with " \
        "shadow=True" in run.stderr, run.stderr
    assert query(db_url, "SELECT count(*) FROM pgscore.models") == n


def test_a_promotion_written_as_a_deploy_of_the_shadows_file_again_notes_the_twin(db_url, promoting_app, tmp_path):
    """The promotion docs/alembic.md described before (a deploy of the shadow's artifact again, live): the shadow
    went on scoring every event next to its live copy without a word; deploy_model notes it now."""
    copy = tmp_path / "app"
    shutil.copytree(promoting_app, copy)
    m2 = (copy / "versions" / "m2_churn_v2_shadow.py").read_text()
    (copy / "versions" / "m3_promote_v2.py").write_text(
        m2.replace('revision = "m2"\ndown_revision = "a1"', 'revision = "m3"\ndown_revision = "m2"')
        .replace(", activate=False, shadow=True", ""))
    run = alembic(copy, db_url, "upgrade", "head")
    assert run.returncode == 0, run.stderr
    assert live_and_shadows(db_url) == (3, [2])
    assert "pgscore: alembic revision m3: churn: versions 2 (shadow), 3 (live) store the same artifact" in run.stderr


def test_offline_mode_names_promote_model_where_it_stops(db_url, promoting_app):
    """`alembic upgrade m2:m3 --sql` stops at promote_model with an error naming it and its revision (without its
    own words it would say deploy_model and undeploy_model need a database, storing the model's bytes)."""
    run = alembic(promoting_app, db_url, "upgrade", "m2:m3", "--sql")
    assert run.returncode != 0, run.stdout
    assert "pgscore's promote_model needs a database: alembic's offline mode (--sql) writes SQL without one, and a " \
           "promotion reads the registry (alembic revision m3)" in run.stderr, run.stderr

def _revision(example, rev, down, upgrade, downgrade="pass", imports="deploy_model, undeploy_model"):
    """A revision of the example's project: `upgrade` and `downgrade` are the bodies of its functions."""
    (example / "versions" / f"{rev}_t.py").write_text(
        f"from pathlib import Path\nfrom alembic import op\nfrom pgscore.alembic_ops import {imports}\n"
        f"revision = {rev!r}\ndown_revision = {down!r}\nHERE = Path(__file__).resolve().parent\n"
        f"MODEL = HERE.parent / 'models' / 'churn-1.joblib'\nCSV = dict(train_csv=HERE.parent / 'models' / "
        f"'churn-train.csv', target='churned')\n"
        f"def sha256():\n    return (HERE.parent / 'models' / 'churn-1.joblib.sha256').read_text().split()[0]\n"
        f"def upgrade():\n    {upgrade}\ndef downgrade():\n    {downgrade}\n")


def test_a_schema_behind_this_pgscores_is_noted_and_one_too_old_for_the_operation_refused(empty_db_url, tmp_path):
    """On a database whose pgscore schema is older than this pgscore's, deploy_model, retire_model and
    undeploy_model ran with no word (pgscore deploy notes it), and where the schema was too old for them failed
    with a raw SQL error or, worse, did what could not be undone: a version stored with activate=False before
    0029 records no revision, and its downgrade failed. Now pgscore deploy's note is logged (once an alembic run),
    and a schema too old for the operation is refused, naming both revisions, before anything changes."""
    from pgscore import migrate
    from pgscore.cli import behind_note

    head = migrate.head()
    migrate.upgrade(empty_db_url, "0028")
    example, *_ = make_example(tmp_path, 200, seed=31)
    _revision(example, "a2", "a1", "retire_model('churn', revision=revision)",
              "undeploy_model('churn', revision=revision)", imports="retire_model, undeploy_model")
    note = behind_note("0028", head, "pgscore install --db URL (the database your alembic env.py connects to), "
                                     "then run alembic again")
    run = alembic(example, empty_db_url, "upgrade", "head")
    assert run.returncode == 0, run.stderr
    assert run.stderr.count(f"WARNI [alembic.pgscore] {note}\n") == 1, run.stderr
    assert "pgscore: churn retired by alembic revision a2" in run.stderr
    run = alembic(example, empty_db_url, "downgrade", "base")
    assert run.returncode == 0 and run.stderr.count(note) == 1, run.stderr
    assert history(empty_db_url)[-2:] == [(1, "rollback", "alembic downgrade a2"), (1, "retire", "alembic downgrade a1")]
    # a version stored without going live, on a schema that cannot record the revision that stored it
    (example / "versions" / "a2_t.py").unlink()
    _revision(example, "a2", "a1", "deploy_model('churn', MODEL, sha256(), **CSV, revision=revision, activate=False)",
              "undeploy_model('churn', revision=revision)")
    run = alembic(example, empty_db_url, "upgrade", "head")
    assert run.returncode != 0 and "PgscoreError: alembic revision a2, deploy_model('churn'): this database's " \
        "pgscore schema is at revision 0028, older than 0029, which records the revision a version stored with " \
        "activate=False was stored by" in run.stderr, run.stderr
    assert "upgrade pgscore's schema first: pgscore install --db URL" in run.stderr
    # the first upgrade's version alone: this one's a1 is rolled back with a2, which stored nothing
    assert query(empty_db_url, "SELECT count(*) FROM pgscore.models") == [(1,)]
    # a model fitted on words, whose words a schema before 0123 cannot keep
    from test_text_categories import binary_model

    model, *_ = binary_model()
    joblib.dump(model, example / "models" / "plans.joblib")
    sha = artifacts.sha256((example / "models" / "plans.joblib").read_bytes())
    (example / "versions" / "a2_t.py").unlink()
    _revision(example, "a2", "a1", f"deploy_model('plans', HERE.parent / 'models' / 'plans.joblib', {sha!r}, "
              "revision=revision, feature_names=['age', 'region', 'plan'])")
    run = alembic(example, empty_db_url, "upgrade", "head")
    assert run.returncode != 0 and "deploy_model('plans'): this database's pgscore schema is at revision 0028, " \
        "older than 0123, which keeps the words a model's encoders were fitted on" in run.stderr, run.stderr
    assert "alembic revision a2, deploy_model('plans'): alembic revision a2" not in run.stderr
    # a schema older than any of them runs: refused, not `function pgscore.register_model(...) does not exist`
    assert alembic(example, empty_db_url, "downgrade", "base").returncode == 0
    migrate.downgrade(empty_db_url, "0002")
    (example / "versions" / "a2_t.py").unlink()
    run = alembic(example, empty_db_url, "upgrade", "head")
    assert run.returncode != 0 and "alembic revision a1, deploy_model('churn'): this database's pgscore schema is " \
        "at revision 0002, older than 0003, which deploy_model needs: pgscore.register_model takes the compiled " \
        "evaluator" in run.stderr, run.stderr
    assert "does not exist" not in run.stderr
    migrate.downgrade(empty_db_url, "base")


def test_a_rolled_back_migration_says_that_what_pgscore_logged_as_done_is_not_stored(db_url, tmp_path):
    """alembic upgrade head through a revision that deploys and one that fails after it: the log said `deployed
    churn version 1 ... live`, then the traceback, and nothing said the deploy was rolled back with the rest.
    A warning now says which of pgscore's changes are not stored: all of them where alembic runs the migrations
    in one transaction, the failing revision's alone with transaction_per_migration. A downgrade whose later
    step fails says the same of what its undeploy_model logged (docs/alembic.md)."""
    example, *_ = make_example(tmp_path, 200, seed=32)
    _revision(example, "a2", "a1", "deploy_model('churn', MODEL, sha256(), **CSV, revision=revision); "
              "op.execute('SELECT 1/0')", "undeploy_model('churn', revision=revision)")
    run = alembic(example, db_url, "upgrade", "head")
    assert run.returncode != 0 and "division by zero" in run.stderr, run.stderr
    said = [line for line in run.stderr.splitlines() if "rolled back" in line]
    assert said == ["WARNI [alembic.pgscore] pgscore: the migration's transaction was rolled back, and with it what "
                    "pgscore logged above: deployed churn version 1 (alembic revision a1); deployed churn version 2 "
                    "(alembic revision a2): none of it is stored"], run.stderr
    assert query(db_url, "SELECT count(*) FROM pgscore.models") == [(0,)]
    env = example / "env.py"
    text = env.read_text()
    assert "context.configure(connection=conn, version_table=VERSION_TABLE)" in text
    env.write_text(text.replace("context.configure(connection=conn, version_table=VERSION_TABLE)",
                                "context.configure(connection=conn, version_table=VERSION_TABLE, "
                                "transaction_per_migration=True)"))
    run = alembic(example, db_url, "upgrade", "head")
    assert run.returncode != 0, run.stderr
    said = [line for line in run.stderr.splitlines() if "rolled back" in line]
    assert said == ["WARNI [alembic.pgscore] pgscore: the migration's transaction was rolled back, and with it what "
                    "pgscore logged above: deployed churn version 2 (alembic revision a2): none of it is stored"], \
        run.stderr
    assert query(db_url, "SELECT version, live FROM pgscore.model_versions WHERE name = 'churn'") == [(1, True)]
    # an upgrade that commits says nothing of the kind; a downgrade whose later step fails says what it undid
    (example / "versions" / "a2_t.py").unlink()
    _revision(example, "a2", "a1", "deploy_model('churn', MODEL, sha256(), **CSV, revision=revision)",
              "undeploy_model('churn', revision=revision); op.execute('SELECT 1/0')")
    run = alembic(example, db_url, "upgrade", "head")
    assert run.returncode == 0 and "rolled back" not in run.stderr, run.stderr
    run = alembic(example, db_url, "downgrade", "base")
    assert run.returncode != 0 and "pgscore: churn version 1 is live again, as before alembic revision a2" in run.stderr
    said = [line for line in run.stderr.splitlines() if "rolled back" in line]
    assert said == ["WARNI [alembic.pgscore] pgscore: the migration's transaction was rolled back, and with it what "
                    "pgscore logged above: churn version 1 live again (alembic downgrade a2): none of it is stored"], \
        run.stderr
    assert query(db_url, "SELECT version FROM pgscore.model_versions WHERE name = 'churn' AND live") == [(2,)]


def test_a_rolled_back_promotion_says_the_version_it_made_live_is_not(db_url, tmp_path):
    """promote_model logged `churn version 2 ... is live, promoted by alembic revision a3` and, where a later
    statement of the same migration failed, nothing said that the promotion (and the shadow deploy before it) were
    rolled back: its change is named in the rollback's warning too, and its downgrade's."""
    example, *_ = make_example(tmp_path, 200, seed=34)
    _revision(example, "a2", "a1", "deploy_model('churn', MODEL, sha256(), **CSV, revision=revision, activate=False, "
              "shadow=True)", "undeploy_model('churn', revision=revision)")
    _revision(example, "a3", "a2", "promote_model('churn', revision=revision, stored_by='a2'); op.execute('SELECT 1/0')",
              "undeploy_model('churn', revision=revision)", imports="promote_model, undeploy_model")
    run = alembic(example, db_url, "upgrade", "head")
    assert run.returncode != 0 and "division by zero" in run.stderr, run.stderr
    said = [line for line in run.stderr.splitlines() if "rolled back" in line]
    assert said == ["WARNI [alembic.pgscore] pgscore: the migration's transaction was rolled back, and with it what "
                    "pgscore logged above: deployed churn version 1 (alembic revision a1); deployed churn version 2 "
                    "(alembic revision a2); churn version 2 live (promoted by alembic revision a3): none of it is "
                    "stored"], run.stderr
    assert query(db_url, "SELECT count(*) FROM pgscore.models") == [(0,)]
    # a promotion's downgrade whose later step fails: the version live again and the shadow set again named
    (example / "versions" / "a3_t.py").unlink()
    _revision(example, "a3", "a2", "promote_model('churn', revision=revision, stored_by='a2')",
              "undeploy_model('churn', revision=revision); op.execute('SELECT 1/0')", imports="promote_model, undeploy_model")
    run = alembic(example, db_url, "upgrade", "head")
    assert run.returncode == 0 and "rolled back" not in run.stderr, run.stderr
    run = alembic(example, db_url, "downgrade", "a2")
    assert run.returncode != 0, run.stderr
    said = [line for line in run.stderr.splitlines() if "rolled back" in line]
    assert said == ["WARNI [alembic.pgscore] pgscore: the migration's transaction was rolled back, and with it what "
                    "pgscore logged above: churn version 1 live again (alembic downgrade a3); churn version 2 in "
                    "shadow again (alembic downgrade a3): none of it is stored"], run.stderr
    assert query(db_url, "SELECT version FROM pgscore.model_versions WHERE name = 'churn' AND live") == [(2,)]

def test_deploy_model_of_a_file_another_scikit_learn_pickled_hints_and_takes_allow_version_mismatch(db_url, tmp_path,
                                                                                                     monkeypatch):
    """A file pickled under another scikit-learn is refused, and the hint said `pgscore deploy
    --allow-version-mismatch deploys it anyway`, a flag a revision does not have. deploy_model now takes
    allow_version_mismatch=True, as the flag does (the file's version recorded, pgscore deploy's warning logged),
    and the hint names it."""
    import sklearn
    import sklearn.base

    example, est, *_ = make_example(tmp_path, 200, seed=33)
    models = example / "models"
    with monkeypatch.context() as m:  # (as scikit-learn 1.5.2 pickles it: its estimators' state names the version)
        m.setattr(sklearn.base, "__version__", "1.5.2")
        joblib.dump(est, models / "churn-1.joblib")
    (models / "churn-1.joblib.sha256").write_text(artifacts.sha256((models / "churn-1.joblib").read_bytes()) + "\n")
    run = alembic(example, db_url, "upgrade", "head")
    assert run.returncode != 0 and "VersionMismatch: alembic revision a1, deploy_model('churn'): " in run.stderr \
        and f"churn-1.joblib was written with scikit-learn 1.5.2, and this Python has {sklearn.__version__}" \
        in run.stderr, run.stderr
    assert "allow_version_mismatch=True in deploy_model(...) deploys it anyway, at your own risk" in run.stderr
    assert "--allow-version-mismatch" not in run.stderr
    rev = example / "versions" / "a1_churn_v1.py"
    text = rev.read_text()
    assert 'shipped by migration a1")' in text
    rev.write_text(text.replace('shipped by migration a1")', 'shipped by migration a1", allow_version_mismatch=True)'))
    run = alembic(example, db_url, "upgrade", "head")
    assert run.returncode == 0, run.stderr
    assert "InconsistentVersionWarning" not in run.stderr, run.stderr
    assert f"WARNI [alembic.pgscore] pgscore: alembic revision a1: {models / 'churn-1.joblib'} was written with " \
        f"scikit-learn 1.5.2 and is deployed as this Python's {sklearn.__version__} loads it " \
        "(allow_version_mismatch=True): " in run.stderr, run.stderr
    (src,), = query(db_url, "SELECT env->'source' FROM pgscore.models WHERE name = 'churn'")
    assert src["scikit-learn"] == "1.5.2"
    # pgscore show names how the mismatch was let through in words true of a revision too (it said `deployed with
    # --allow-version-mismatch`, a flag the revision does not have)
    from helpers import pgscore_cli

    run = pgscore_cli("show", "churn", "--db", db_url)
    assert run.returncode == 0, run.stderr
    assert "written with scikit-learn 1.5.2 (deployed with pgscore deploy --allow-version-mismatch or alembic's " \
        "deploy_model(..., allow_version_mismatch=True))" in run.stdout, run.stdout


# alembic run twice in one Python process on one pooled engine (an application's own engine, as Flask-Migrate's
# env.py passes it; a test suite that upgrades and downgrades): the second run gets the first's DBAPI connection
# back from the pool, with the Connection.info the first left on it
TWICE = '''
import sys
from pathlib import Path
import psycopg2
import sqlalchemy
from alembic import command
from alembic.config import Config
from pgscore import migrate
app, url = Path(sys.argv[1]), sys.argv[2]
(app / "env.py").write_text("""
from logging.config import fileConfig
from alembic import context
fileConfig(context.config.config_file_name)
with context.config.attributes["engine"].connect() as conn:
    context.configure(connection=conn, version_table="twice_alembic_version")
    with context.begin_transaction():
        context.run_migrations()
""")
dsn = migrate.libpq_dsn(url)
engine = sqlalchemy.create_engine("postgresql+psycopg2://", creator=lambda: psycopg2.connect(dsn))
for step in sys.argv[3:]:
    print(f"== {step}", file=sys.stderr, flush=True)
    verb, rev = step.split(" ")
    if verb == "pgscore":  # pgscore install, between the two runs
        migrate.upgrade(url, rev)
        continue
    cfg = Config(str(app / "alembic.ini"))
    cfg.attributes["engine"] = engine
    try:
        getattr(command, verb)(cfg, rev)
    except Exception as e:
        print(f"failed: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
'''


def test_a_second_alembic_run_on_a_pooled_connection_reads_the_schema_again_and_says_its_rollback(empty_db_url,
                                                                                                   tmp_path):
    """What alembic_ops kept of a run (the pgscore schema's revision, the changes pgscore logged, and whether it
    listened for the transaction's end) was kept on the DBAPI connection (Connection.info), which a pool hands to
    the next run in the same process: after pgscore install, that run still refused as at the old revision, and a
    run whose transaction was rolled back said nothing of the versions it logged as deployed (no listener on its
    Connection). Each run now reads the schema's revision and listens for its own transaction's end."""
    from pgscore import migrate

    migrate.upgrade(empty_db_url, "0028")
    example, *_ = make_example(tmp_path, 200, seed=35)
    (tmp_path / "twice.py").write_text(TWICE)
    _revision(example, "a2", "a1", "deploy_model('churn', MODEL, sha256(), **CSV, revision=revision, activate=False); "
              "op.execute('SELECT 1/0')", "undeploy_model('churn', revision=revision)")
    run = subprocess.run([sys.executable, str(tmp_path / "twice.py"), str(example), empty_db_url, "upgrade a1",
                          f"pgscore {migrate.head()}", "upgrade head", "upgrade head"], capture_output=True, text=True)
    first, second, third = run.stderr.split("== upgrade ")[1:]
    assert "pgscore: deployed churn version 1" in first and "schema is at revision 0028, behind" in first, first
    assert "failed: DataError" in second and "division by zero" in second, second
    assert "0028" not in second and "behind this pgscore" not in second, second  # (it is at the head now)
    said = [line for line in second.splitlines() if "rolled back" in line]
    assert said == ["WARNI [alembic.pgscore] pgscore: the migration's transaction was rolled back, and with it what "
                    "pgscore logged above: deployed churn version 2 (alembic revision a2): none of it is stored"], second
    said = [line for line in third.splitlines() if "rolled back" in line]  # its own, not the second run's again
    assert said == ["WARNI [alembic.pgscore] pgscore: the migration's transaction was rolled back, and with it what "
                    "pgscore logged above: deployed churn version 2 (alembic revision a2): none of it is stored"], third
    assert query(empty_db_url, "SELECT count(*) FROM pgscore.models") == [(1,)]
    migrate.downgrade(empty_db_url, "base")


def test_shadow_and_promote_model_on_a_schema_too_old_for_them_are_refused_before_anything_changes(empty_db_url,
                                                                                                      tmp_path):
    """promote_model was taken from 0003 on, as the others: before 0121 an activation was recorded as a 'deploy',
    which undeploy_model read back as the promoting revision's own deploy, so the downgrade of a promotion of a
    version that was live before (v1, after a2's v2) retired the model, where at the head it makes v2 live again,
    and a promoted shadow was no shadow again after the downgrade. deploy_model(shadow=True) before 0054 deployed,
    logged it, and then failed without naming the revision it needs. Both are refused, naming it, before anything
    changes."""
    from pgscore import migrate

    migrate.upgrade(empty_db_url, "0053")
    example, *_ = make_example(tmp_path, 200, seed=36)
    _revision(example, "a2", "a1", "deploy_model('churn', MODEL, sha256(), **CSV, revision=revision, activate=False, "
              "shadow=True)", "undeploy_model('churn', revision=revision)")
    run = alembic(example, empty_db_url, "upgrade", "head")
    assert run.returncode != 0 and "PgscoreError: alembic revision a2, deploy_model('churn'): this database's " \
        "pgscore schema is at revision 0053, older than 0054, which scores a version in shadow" in run.stderr, \
        run.stderr
    assert "by alembic revision a2" not in run.stderr, run.stderr  # (refused before the deploy)
    assert "upgrade pgscore's schema first: pgscore install --db URL" in run.stderr
    migrate.upgrade(empty_db_url, "0120")
    (example / "versions" / "a2_t.py").unlink()
    _revision(example, "a2", "a1", "deploy_model('churn', MODEL, sha256(), **CSV, revision=revision)",
              "undeploy_model('churn', revision=revision)")
    _revision(example, "a3", "a2", "promote_model('churn', revision=revision, stored_by='a1')",
              "undeploy_model('churn', revision=revision)", imports="promote_model, undeploy_model")
    assert alembic(example, empty_db_url, "upgrade", "a2").returncode == 0
    run = alembic(example, empty_db_url, "upgrade", "a3")
    assert run.returncode != 0 and "PgscoreError: alembic revision a3, promote_model('churn'): this database's " \
        "pgscore schema is at revision 0120, older than 0121, which records a promotion" in run.stderr, run.stderr
    assert history(empty_db_url) == [(1, "deploy", "alembic revision a1"), (2, "deploy", "alembic revision a2")]
    # at 0121 it goes, and its downgrade makes v2 live again (before 0121 it retired churn)
    migrate.upgrade(empty_db_url, "0121")
    assert alembic(example, empty_db_url, "upgrade", "a3").returncode == 0
    run = alembic(example, empty_db_url, "downgrade", "a2")
    assert run.returncode == 0, run.stderr
    assert query(empty_db_url, "SELECT version FROM pgscore.model_versions WHERE name = 'churn' AND live") == [(2,)]
    assert alembic(example, empty_db_url, "downgrade", "base").returncode == 0
    migrate.downgrade(empty_db_url, "base")


def test_a_migration_whose_commit_fails_says_that_what_pgscore_logged_is_not_stored(db_url, tmp_path):
    """The listener forgot pgscore's changes on SQLAlchemy's commit event, which fires before the COMMIT: where
    the COMMIT itself failed (a deferred constraint of the application's own revision, a serialization failure),
    the transaction was rolled back and the log said `deployed churn version 2 ... live` above the traceback,
    nothing more. Those changes are forgotten once the COMMIT went through."""
    example, *_ = make_example(tmp_path, 200, seed=37)
    _revision(example, "a2", "a1", "op.execute('CREATE TABLE parent (id int PRIMARY KEY); CREATE TABLE child (pid int "
              "REFERENCES parent DEFERRABLE INITIALLY DEFERRED); INSERT INTO child VALUES (1)'); "
              "deploy_model('churn', MODEL, sha256(), **CSV, revision=revision)", "pass")
    run = alembic(example, db_url, "upgrade", "head")
    assert run.returncode != 0 and "child_pid_fkey" in run.stderr, run.stderr
    said = [line for line in run.stderr.splitlines() if "is stored" in line]
    assert said == ["WARNI [alembic.pgscore] pgscore: the migration's transaction failed to commit (rolled back), and "
                    "with it what pgscore logged above: deployed churn version 1 (alembic revision a1); deployed churn "
                    "version 2 (alembic revision a2): none of it is stored"], run.stderr
    assert query(db_url, "SELECT count(*) FROM pgscore.models") == [(0,)]
    # a commit that goes through says nothing, and the next run's failed commit names its own changes alone
    (example / "versions" / "a2_t.py").unlink()
    _revision(example, "a2", "a1", "pass", "pass")
    run = alembic(example, db_url, "upgrade", "head")
    assert run.returncode == 0 and "is stored" not in run.stderr, run.stderr


def test_a_deploy_in_an_autocommit_block_is_not_named_by_a_later_rollback(db_url, tmp_path):
    """docs/alembic.md: a change made in an autocommit_block() is committed as it is made, and a later failure of
    the same run does not name it (nor what alembic committed as the block began); the version stays (nothing
    tested it; the block's own commit, as alembic ends it, forgets the change even without _pending's autocommit
    test)."""
    example, *_ = make_example(tmp_path, 200, seed=38)
    _revision(example, "a2", "a1", "\n    with op.get_context().autocommit_block():\n        deploy_model('churn', MODEL, "
              "sha256(), **CSV, revision=revision)\n    op.execute('SELECT 1/0')", "pass")
    run = alembic(example, db_url, "upgrade", "head")
    assert run.returncode != 0 and "division by zero" in run.stderr, run.stderr
    assert "pgscore: deployed churn version 2" in run.stderr and "is stored" not in run.stderr, run.stderr
    assert query(db_url, "SELECT version, live FROM pgscore.model_versions WHERE name = 'churn' ORDER BY version") \
        == [(1, False), (2, True)]


def test_promote_model_refuses_a_stored_by_that_is_not_an_ancestor_of_its_revision(db_url, promoting_app, tmp_path):
    """m3 branched off a1 beside m2 (stored_by="m2" not among its ancestors): once m2 has been downgraded (its shadow
    ended, its version left stored), `upgrade m3` made live that copy of a revision no longer applied (before: v2
    live, m2 not applied; `upgrade m2` then stored v3 in shadow next to its live twin). Now the upgrade fails first,
    saying to make m2 an ancestor of m3, and nothing changes."""
    copy = tmp_path / "app"
    shutil.copytree(promoting_app, copy)
    m3 = copy / "versions" / "m3_promote_v2.py"
    m3.write_text(m3.read_text().replace('down_revision = "m2"', 'down_revision = "a1"'))
    assert alembic(copy, db_url, "upgrade", "m2").returncode == 0
    assert alembic(copy, db_url, "downgrade", "m2@-1").returncode == 0
    before = history(db_url), live_and_shadows(db_url)
    assert before[1] == (1, [])
    run = alembic(copy, db_url, "upgrade", "m3")
    assert run.returncode != 0, run.stderr
    assert ("promote_model of alembic revision m3: alembic revision m2 (stored_by) is not an ancestor of revision m3: "
            "the version it stored may be of an upgrade undone since, or not stored yet") in run.stderr, run.stderr
    assert "Hint: add 'm2' to revision m3's down_revision or depends_on" in run.stderr, run.stderr
    assert (history(db_url), live_and_shadows(db_url)) == before


def test_the_downgrade_of_a_promotion_undone_by_the_deploy_revisions_downgrade_changes_nothing(db_url,
                                                                                               promoting_app):
    """m3 promoted v2; `alembic stamp m2` and a downgrade of m2 made v1 live again (v2 no shadow); m2 upgraded again
    stored v3 in shadow; `alembic stamp m3` and `downgrade m2` then found m3's activation of v2 (of that earlier
    upgrade of m2) and set v2 in shadow again next to v3 (before: shadows 2 and 3). That promotion was undone:
    nothing changes, and the log says so."""
    app = promoting_app
    assert alembic(app, db_url, "upgrade", "m3").returncode == 0
    assert live_and_shadows(db_url) == (2, [])
    assert alembic(app, db_url, "stamp", "m2").returncode == 0
    assert alembic(app, db_url, "downgrade", "a1").returncode == 0
    assert live_and_shadows(db_url) == (1, [])
    assert alembic(app, db_url, "upgrade", "m2").returncode == 0
    assert live_and_shadows(db_url) == (1, [3])
    assert alembic(app, db_url, "stamp", "m3").returncode == 0
    before = history(db_url)
    run = alembic(app, db_url, "downgrade", "m2")
    assert run.returncode == 0, run.stderr
    assert live_and_shadows(db_url) == (1, [3])
    assert history(db_url) == before
    assert ("pgscore: churn: alembic revision m3's promotion of version 2 was undone already (alembic revision m2, "
            "which stored it, was downgraded or upgraded again since): nothing to do") in run.stderr, run.stderr
    # and where m2 was not upgraded again (stamped to m3 straight after m2's downgrade): the same
    assert alembic(app, db_url, "downgrade", "a1").returncode == 0
    assert alembic(app, db_url, "upgrade", "m3").returncode == 0
    assert alembic(app, db_url, "stamp", "m2").returncode == 0
    assert alembic(app, db_url, "downgrade", "a1").returncode == 0
    assert live_and_shadows(db_url) == (1, [])
    assert alembic(app, db_url, "stamp", "m3").returncode == 0
    run = alembic(app, db_url, "downgrade", "m2")
    assert run.returncode == 0, run.stderr
    assert live_and_shadows(db_url) == (1, [])
    assert "alembic revision m3's promotion of version 4 was undone already" in run.stderr, run.stderr
    # and where m2 was upgraded again while m3's promotion stood (`alembic stamp a1`, `upgrade m2`: v5 in shadow
    # next to live v4), then `alembic stamp m3`: m3's downgrade leaves v4 live and v5 in shadow, as before
    assert alembic(app, db_url, "downgrade", "a1").returncode == 0
    assert alembic(app, db_url, "upgrade", "m3").returncode == 0
    assert live_and_shadows(db_url) == (5, [])
    assert alembic(app, db_url, "stamp", "a1").returncode == 0
    assert alembic(app, db_url, "upgrade", "m2").returncode == 0
    assert live_and_shadows(db_url) == (5, [6])
    assert alembic(app, db_url, "stamp", "m3").returncode == 0
    before = history(db_url)
    run = alembic(app, db_url, "downgrade", "m2")
    assert run.returncode == 0, run.stderr
    assert (live_and_shadows(db_url), history(db_url)) == ((5, [6]), before)
    assert "alembic revision m3's promotion of version 5 was undone already" in run.stderr, run.stderr


def test_a_promotion_whose_downgrade_only_set_its_shadow_again_is_undone_already(db_url, promoting_app):
    """m3 promoted v2, an operator rolled back to v1 by hand: m3's downgrade only set v2 in shadow again (a shadow
    row, no deployment, with the downgrade's reason). Downgraded again (`alembic stamp m3`) after the operator
    stopped that shadow, it changes nothing and says so (no test read that shadow row: without it the shadow was
    set again over the operator's change)."""
    app = promoting_app
    assert alembic(app, db_url, "upgrade", "m3").returncode == 0
    query(db_url, "SELECT pgscore.rollback('churn', 1, 'by hand')")
    run = alembic(app, db_url, "downgrade", "m2")
    assert run.returncode == 0, run.stderr
    assert live_and_shadows(db_url) == (1, [2])
    assert "pgscore: churn version 2 is scored in shadow again, as before alembic revision m3" in run.stderr
    query(db_url, "SELECT pgscore.clear_shadow('churn', 2, 'by hand')")
    assert alembic(app, db_url, "stamp", "m3").returncode == 0
    before = history(db_url)
    run = alembic(app, db_url, "downgrade", "m2")
    assert run.returncode == 0, run.stderr
    assert (live_and_shadows(db_url), history(db_url)) == ((1, []), before)
    assert "pgscore: churn: alembic revision m3 was undone already (a change with reason 'alembic downgrade m3'): " \
        "nothing to do" in run.stderr, run.stderr


def test_the_downgrade_of_a_promotion_from_a_retired_model_says_the_shadow_it_cannot_set_again(db_url, promoting_app):
    """v2 in shadow (m2), the model retired by hand (v2 stays listed as a shadow), m3 promotes v2: its downgrade
    retires the model again, but pgscore.set_shadow needs a live version: v2 cannot be a shadow again. The log says
    so and how to set it once a version is live (before: not a word, where docs/alembic.md says it is set again)."""
    app = promoting_app
    assert alembic(app, db_url, "upgrade", "m2").returncode == 0
    query(db_url, "SELECT pgscore.retire('churn', 'by hand')")
    assert live_and_shadows(db_url) == (None, [2])
    assert alembic(app, db_url, "upgrade", "m3").returncode == 0
    run = alembic(app, db_url, "downgrade", "-1")
    assert run.returncode == 0, run.stderr
    assert live_and_shadows(db_url) == (None, [])
    assert ("pgscore: churn version 2 was scored in shadow before alembic revision m3, and is not again: churn is "
            "retired, as it was, and a shadow needs a live version; once one is, set it again: "
            f"{command('shadow churn 2')}") in run.stderr, run.stderr


def test_the_downgrade_of_a_promotion_of_a_version_live_already_changes_nothing_and_says_so(db_url, promoting_app,
                                                                                             tmp_path):
    """v2 in shadow (m2), made live by hand before m3 promotes it: m3 finds it live already and changes nothing;
    its downgrade restores exactly that, nothing to undo (before: it failed, `alembic revision m3 stored no version
    of model 'churn'`, and the user had to `alembic stamp` past it). m2's downgrade then undoes v2's go-live as
    ever. An undeploy_model of a name the revision's upgrade promotes nowhere still fails (a misspelt name)."""
    app = promoting_app
    assert alembic(app, db_url, "upgrade", "m2").returncode == 0
    query(db_url, "SELECT pgscore.activate('churn', 2, 'by hand')")
    before = history(db_url), live_and_shadows(db_url)
    assert before[1] == (2, [])
    run = alembic(app, db_url, "upgrade", "m3")
    assert run.returncode == 0, run.stderr
    assert "churn version 2 (stored by alembic revision m2) is live already: nothing changed" in run.stderr
    assert (history(db_url), live_and_shadows(db_url)) == before
    run = alembic(app, db_url, "downgrade", "m2")
    assert run.returncode == 0, run.stderr
    assert ("pgscore: churn: alembic revision m3's promote_model changed nothing (the version it promotes was live "
            "already, or `alembic stamp` ran past the revision): nothing to undo") in run.stderr, run.stderr
    assert (history(db_url), live_and_shadows(db_url)) == before
    run = alembic(app, db_url, "downgrade", "a1")
    assert run.returncode == 0, run.stderr
    assert live_and_shadows(db_url) == (1, [])
    # a downgrade naming a model the revision's upgrade does not promote (a misspelt name): still refused
    X = [[0.0], [1.0], [2.0], [3.0]]
    registry.deploy(db_url, "other", LogisticRegression().fit(X, [0, 0, 1, 1]), X, [0, 0, 1, 1], feature_names=["x"])
    copy = tmp_path / "app"
    shutil.copytree(app, copy)
    m3 = copy / "versions" / "m3_promote_v2.py"
    m3.write_text(m3.read_text().replace('undeploy_model("churn"', 'undeploy_model("other"'))
    assert alembic(copy, db_url, "upgrade", "m2").returncode == 0
    query(db_url, "SELECT pgscore.activate('churn', (SELECT max(version) FROM pgscore.models WHERE name = 'churn'))")
    assert alembic(copy, db_url, "upgrade", "m3").returncode == 0
    run = alembic(copy, db_url, "downgrade", "m2")
    assert run.returncode != 0 and "alembic revision m3 stored no version of model 'other'" in run.stderr, run.stderr
