"""validate_environment(): what PL/Python sees, checked through SQL, and the pins it checks against."""

import json
import os
import tomllib

import numpy
import psycopg2
from psycopg2 import sql
import pytest
import scipy
import sklearn
import joblib

from helpers import ROOT, pgscore_cli, query
from pgscore import environment, localdb, migrate
from pgscore.errors import EnvironmentMismatch


def test_validate_environment_reports_the_same_stack_as_the_client(conn):
    (report,) = query(conn, "SELECT pgscore.validate_environment()")[0]
    assert report["python"].startswith("3.11.")
    assert report["scikit_learn"] == sklearn.__version__
    assert report["numpy"] == numpy.__version__
    assert report["scipy"] == scipy.__version__
    assert report["joblib"] == joblib.__version__
    assert report["pgscore"] == __import__("pgscore").__version__
    assert report["head"] == migrate.head() == environment.report(check=False)["head"]  # this release's code
    # native thread pools are limited to one thread inside the server
    assert report["native_threads"] in ([], [1])


def test_validate_environment_declaration(conn):
    rows = query(conn, """SELECT provolatile, proisstrict, proparallel, prosecdef, proconfig
                          FROM pg_proc WHERE oid = 'pgscore.validate_environment()'::regprocedure""")
    assert rows == [("s", False, "s", False, ["search_path=pg_catalog, pg_temp"])]


def test_pins_live_in_pyproject_only():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pinned = {d.split("==")[0].lower(): d.split("==")[1] for d in project["dependencies"] if "==" in d}
    assert environment.pinned_versions() == {k: v for k, v in pinned.items() if k in environment.STACK}
    assert set(environment.STACK) <= set(pinned), "every library artifacts depend on is pinned exactly"


def test_report_refuses_an_off_pin_library(monkeypatch):
    monkeypatch.setattr(environment, "pinned_versions", lambda: {"scikit-learn": "0.0.1"})
    with pytest.raises(EnvironmentMismatch) as e:
        environment.report(check=True)
    assert f"scikit-learn {sklearn.__version__} (pinned 0.0.1)" in str(e.value)
    assert "/usr/bin/python3" in e.value.hint
    # a server's environment as docs/operations.md builds it: not editable, its site-packages on PYTHONPATH
    assert "/opt/pgscore/venv/bin/pip install /path/to/pgscore" in e.value.hint and "-e ." not in e.value.hint
    assert "restart the server (not a reload) with PYTHONPATH naming its site-packages directory" in e.value.hint
    # a checkout's .venv changed by a pip install keeps its stamp: scripts/run rebuilds it only without one
    assert "rm .venv/.pgscore-stamp and any scripts/run command installs the pins again" in e.value.hint


@pytest.fixture(scope="module")
def bare_cluster():
    """A server whose PL/Python cannot import pgscore (no PYTHONPATH)."""
    from helpers import own_cluster

    with own_cluster("pgscore-bare-", python_path=[]) as c:
        yield c


def test_server_that_cannot_import_pgscore_gets_a_clear_error(bare_cluster):
    from pgscore import migrate
    from pgscore.errors import InstallError

    url = bare_cluster.url()
    with pytest.raises(InstallError) as e:
        migrate.upgrade(url)
    msg = str(e.value)
    assert "pgscore cannot be imported by the database's Python" in msg
    # the hint names the directories this pgscore imports from, which a PYTHONPATH naming a venv misses
    pythonpath = "PYTHONPATH=" + os.pathsep.join(localdb.server_python_path())
    assert pythonpath in e.value.hint and "OMP_NUM_THREADS=1" in e.value.hint
    assert migrate.current(url) is None, "a failed install must roll back"
    assert query(url, "SELECT to_regnamespace('pgscore')") == [(None,)]
    # with the check skipped, the function itself raises with a SQLSTATE
    migrate.upgrade(url, check_environment=False)
    with pytest.raises(psycopg2.Error) as e:
        query(url, "SELECT pgscore.validate_environment()")
    assert e.value.pgcode == "58P01"
    assert "pgscore cannot be imported" in e.value.pgerror
    assert "PYTHONPATH naming the site-packages directory" in e.value.diag.message_hint
    r = pgscore_cli("env", "--db", url)  # the command line adds the same fix to the server's error
    assert r.returncode == 1 and "pgscore cannot be imported" in r.stderr, r.stderr
    assert f"For this pgscore: restart the server (not a reload) with {pythonpath} " in r.stderr
    migrate.downgrade(url)


@pytest.fixture(scope="module")
def release_cluster():
    """A server that imports pgscore from a release of its own (`release`/py_src, with its migrations beside
    it, as in a checkout), and the stack from this environment; each test puts a release there, which every
    new backend then imports."""
    from helpers import own_cluster

    def setup(base):
        (base / "release" / "py_src").mkdir(parents=True)
        return {"python_path": [str(base / "release" / "py_src"), *localdb.server_python_path()[1:]]}

    with own_cluster("pgscore-release-", setup=setup) as c:
        yield c, c.data_dir.parent / "release"


def _serve(release, tree, drop=()):
    """Put py_src and migrations of `tree` (a directory) in `release`, without the revisions `drop`."""
    import shutil

    shutil.rmtree(release)
    for part in ("py_src", "migrations"):
        shutil.copytree(tree / part, release / part, ignore=shutil.ignore_patterns("__pycache__", *drop))


def test_install_refuses_a_server_that_runs_code_from_before_it_reported_its_head(release_cluster, tmp_path):
    """The server still ran an older release's pgscore code (the last before validate_environment() named
    the schema revision its code knows): install from this release succeeded, both saying 0.1.0, and every
    deploy then failed with `cannot import name ... from pgscore.pl`. It refuses now, and rolls back."""
    import subprocess

    from pgscore.errors import InstallError

    cluster, release = release_cluster
    old = tmp_path / "old"
    old.mkdir()
    archive = subprocess.run(f"git -C {ROOT} archive 576a64e py_src migrations | tar -x -C {old}", shell=True,
                             capture_output=True, text=True)
    if archive.returncode != 0:
        pytest.skip(f"git could not read the release before this check (576a64e) from this checkout (not in its "
                    f"history, or git refuses a checkout another user owns): {archive.stderr.strip()}")
    _serve(release, old)
    url = cluster.url()
    with pytest.raises(InstallError) as e:
        migrate.upgrade(url)
    assert ("the database server runs an older release's pgscore code, from before pgscore reported the schema "
            f"revision it knows, this pgscore up to {migrate.head()}; both say version 0.1.0") in e.value.message
    assert e.value.detail == f"the server imports pgscore from {release / 'py_src'}"
    # an embedded cluster (db start made it): restarted by this release's db stop and db start, not by installing
    # this release into the environment the server imports (T15: the way back, which docs/operations.md keeps)
    assert (f"restart the cluster with this release: {localdb.command('db stop', cluster.data_dir)} then "
            f"{localdb.command('db start', cluster.data_dir)}") in e.value.hint, e.value.hint
    assert "--data-dir" in e.value.hint and "install this release into" not in e.value.hint, e.value.hint
    assert e.value.hint.endswith("run the install again")
    assert migrate.current(url) is None, "a refused install must roll back"
    assert query(url, "SELECT to_regnamespace('pgscore')") == [(None,)]


def test_another_servers_older_code_is_hinted_to_import_this_environment_built_beside(release_cluster):
    """A server that is no embedded cluster and imports an older release: the hint points it at this environment,
    built beside the one it imports (which stays as the way back); it said first to install this release into
    the environment the server imports, in place, which docs/operations.md "Upgrading" warns against."""
    report = {"head": "0100", "pgscore": "0.1.0", "pgscore_path": "/opt/pgscore/venv/lib/python3.11/site-packages"}
    what, where, fix = migrate.other_release(report)
    assert what.startswith("the database server runs an older release's pgscore code, which knows schema revisions "
                           "up to 0100")
    assert "install this release into" not in fix and "restart the server (not a reload) with PYTHONPATH=" in fix
    assert "built beside the one it imports now, which stays as the way back" in fix, fix


def test_install_refuses_a_server_that_runs_another_releases_code_and_status_says_so(release_cluster):
    """A server that imports a release knowing one revision less than this pgscore: install refuses, naming
    the revision each knows, and rolls back; status (of a schema installed without the check) warns; once
    the server imports this release, the install goes through."""
    from pgscore.errors import InstallError

    cluster, release = release_cluster
    url = cluster.url()
    head = migrate.head()
    before = sorted(p.name[:4] for p in (ROOT / "migrations" / "versions").glob("[0-9]*.py"))[-2]
    _serve(release, ROOT, drop=(f"{head}_*",))
    with pytest.raises(InstallError) as e:
        migrate.upgrade(url)
    assert (f"the database server runs an older release's pgscore code, which knows schema revisions up to {before}, "
            f"this pgscore up to {head}; both say version 0.1.0; nothing was changed") == e.value.message
    assert str(release / "py_src") in e.value.detail
    assert migrate.current(url) is None
    migrate.upgrade(url, check_environment=False)
    run = pgscore_cli("status", "--db", url)
    assert run.returncode == 0, run.stderr
    assert (f"WARNING: the database server runs an older release's pgscore code, which knows schema revisions up "
            f"to {before}, this pgscore up to {head}") in run.stdout
    # an embedded cluster: restarted by this release's db stop and db start, as install says (status and env gave
    # the hint of another server, to have it import this environment)
    for said in (run.stdout, pgscore_cli("env", "--db", url).stdout):
        assert (f"restart the cluster with this release: {localdb.command('db stop', cluster.data_dir)} then "
                f"{localdb.command('db start', cluster.data_dir)}") in said, said
        assert "PYTHONPATH=" not in said.split("WARNING: the database server runs")[1].split("\n")[0], said
    migrate.downgrade(url)
    _serve(release, ROOT)  # this release's code: what the embedded and the test clusters run
    assert migrate.upgrade(url)["head"] == head
    assert migrate.current(url) == head
    assert "WARNING: the database server runs" not in pgscore_cli("status", "--db", url).stdout
    migrate.downgrade(url)


def test_a_backend_limits_native_threads_without_the_servers_environment():
    """A server started without OMP_NUM_THREADS and friends: pgscore's PL/Python entry module sets them
    before numpy and scikit-learn load their thread pools, so a backend still runs one native thread
    (a Python with the backend's import order: the shims import pgscore.pl first). A value given stays."""
    import os
    import subprocess
    import sys

    code = ("import pgscore.pl, sklearn.ensemble, json; from threadpoolctl import threadpool_info; "
            "print(json.dumps(sorted({p['num_threads'] for p in threadpool_info()})))")
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    bare = subprocess.run([sys.executable, "-c", code.replace("import pgscore.pl, ", "import ")], env=env,
                          capture_output=True, text=True, check=True)
    if max(json.loads(bare.stdout)) == 1:
        pytest.skip("this machine's thread pools run one thread anyway: nothing to limit")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [1]
    out = subprocess.run([sys.executable, "-c", code], env={**env, "OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2"},
                         capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [2]


def test_a_backend_that_cannot_import_pgscore_says_so(db_url, conn):
    """A server started without pgscore's environment: every pgscore function (the rescoring trigger too)
    fails with 58P01 and the way to fix it, not PL/Python's bare ModuleNotFoundError. Simulated in one
    backend by hiding pgscore.pl from its Python before any pgscore function was called there."""
    query(db_url, "CREATE TABLE people (id int PRIMARY KEY, s float8, scored_at timestamptz, n int)")
    query(db_url, "CREATE TABLE calls (person int)")
    query(db_url, "SELECT pgscore.attach_rescoring('calls', 'people', 'person', 'churn', 's', '{\"n\": \"count\"}', "
                  "p_profile_key => 'id')")  # in another backend, which can import it
    query(conn, "DO $$ import sys; sys.modules['pgscore.pl'] = None $$ LANGUAGE plpython3u")
    for sql in ("INSERT INTO calls VALUES (1)",
                "SELECT pgscore.score('churn', ARRAY[1.0]::float8[])",
                "SELECT * FROM pgscore.predict_batch('churn', 'SELECT 1, ARRAY[1.0]::float8[]')",
                "SELECT * FROM pgscore.retry_failed()"):
        with pytest.raises(psycopg2.Error) as e:
            query(conn, sql)
        assert e.value.pgcode == "58P01", (sql, e.value.pgerror)
        assert "pgscore cannot be imported by the database's Python" in e.value.pgerror
        assert "PYTHONPATH naming the site-packages directory" in e.value.diag.message_hint
        assert "not the venv itself" in e.value.diag.message_hint
    assert query(conn, "SELECT pgscore.detach_rescoring('calls')") == [(1,)]  # PL/pgSQL: the way out works
    query(conn, "INSERT INTO calls VALUES (1)")


def test_a_server_that_lost_a_library_of_the_stack_says_so_and_what_to_do(db_url):
    """The environment the server imports moved or deleted (its site-packages gone, pgscore's checkout left):
    the first score of a model scikit-learn scores failed with `pgscore: ModuleNotFoundError: No module named
    'joblib'` (SQLSTATE 38000, no hint), and rescoring queued its profiles with that reason. Now 58P01, naming
    the library, with the fix; a compiled model, which needs neither, still scores. The session's imports are
    made to fail as they would (None in sys.modules)."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    from pgscore import datasets, registry

    X, Y, names = datasets.churn(300, seed=3)
    registry.deploy(db_url, "forest", RandomForestClassifier(n_estimators=5, random_state=0).fit(X, Y), None,
                    feature_names=names)  # no data: not compiled, scikit-learn scores it
    registry.deploy(db_url, "lin", LogisticRegression(max_iter=300).fit(X, Y), X, feature_names=names)
    cols = sql.SQL(", ").join(sql.SQL("{} float8").format(sql.Identifier(n)) for n in names)
    query(db_url, sql.SQL("CREATE TABLE prof (id text PRIMARY KEY, {}, score float8, scored_at timestamptz); "
                          "CREATE TABLE ev (event_id bigserial PRIMARY KEY, id text)").format(cols))
    query(db_url, "SELECT pgscore.attach_rescoring('ev', 'prof', 'id', 'forest', 'score')")
    conn = psycopg2.connect(db_url)
    conn.autocommit = True
    query(conn, "DO $$ import sys; sys.modules['joblib'] = None $$ LANGUAGE plpython3u")
    row = X[0].tolist()
    with pytest.raises(psycopg2.Error) as e:
        query(conn, "SELECT pgscore.score('forest', %s)", (row,))
    assert e.value.pgcode == "58P01", e.value.pgerror
    assert "the database's Python" in e.value.pgerror and "cannot import joblib" in e.value.pgerror
    assert "ModuleNotFoundError" not in e.value.diag.message_primary
    assert "restart the server (not a reload) with PYTHONPATH" in e.value.diag.message_hint
    assert "retry_failed" in e.value.diag.message_hint
    (v,), = query(conn, "SELECT pgscore.score('lin', %s)", (row,))
    assert 0 <= v <= 1
    query(conn, "INSERT INTO prof (id) VALUES ('a'); INSERT INTO ev (id) VALUES ('a')")  # kept, and queued
    assert query(conn, "SELECT count(*) FROM ev") == [(1,)]
    (reason, state), = query(conn, "SELECT reason, sqlstate FROM pgscore.error_queue")
    assert state == "58P01" and "cannot import joblib" in reason, reason
    conn.close()
    (n,), = query(db_url, "SELECT rescored FROM pgscore.retry_failed()")  # another backend: imports it
    assert n == 1 and query(db_url, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]


def test_a_version_mismatch_says_when_the_server_is_what_left_the_pins(monkeypatch):
    """A server whose environment had scikit-learn upgraded in place (pip install -U) refused every model
    deployed under the pins with the hint "retrain and deploy it from the environment the server imports":
    deploying from the off-pin environment. Where the server's versions are not pgscore's pins, the hint now
    says to put them back (or to move with a release that pins the new ones); where they are, to fit the
    model again under them."""
    from pgscore import artifacts
    from pgscore.errors import VersionMismatch

    here = artifacts.writer_env()
    with pytest.raises(VersionMismatch) as e:
        artifacts.check_env("m v1", {**here, "scikit-learn": "1.2.0"})
    assert "model m v1 was written with scikit-learn 1.2.0 (this server has" in e.value.message
    assert "fit it again in an environment with pgscore's pins" in e.value.hint and "pinned versions back" not in e.value.hint
    monkeypatch.setattr(environment, "pinned_versions", lambda: {"scikit-learn": "1.2.0", "numpy": here["numpy"]})
    with pytest.raises(VersionMismatch) as e:
        artifacts.check_env("m v1", {**here, "scikit-learn": "1.2.0"})
    assert (f"this server imports scikit-learn {here['scikit-learn']} where pgscore pins 1.2.0 (pgscore env): put the "
            "pinned versions back into the environment it imports and restart it") in e.value.hint
    assert "Upgrading scikit-learn, numpy or Python" in e.value.hint
    assert artifacts.check_env("m v1", {**here, "scikit-learn": "1.2.0"}, allow_mismatch=True) == [
        f"scikit-learn 1.2.0 (this server has {here['scikit-learn']})"]


def test_a_change_to_the_environment_a_running_server_imports_is_warned_of(cluster, tmp_path):
    """pip install into the environment the server imports reaches every NEW backend at once, no restart (sessions
    already open keep the old libraries: two versions live in one server, a trial found); docs said it took effect
    at the restart. scripts/run, about to make or reinstall its .venv, warns where a running server imports it
    (pgscore.live_env, run by scripts/run before pip)."""
    import subprocess
    import sys

    from pgscore import live_env

    if os.geteuid() != 0 and cluster.server_user != os.environ.get("USER"):
        pytest.skip("another OS user's server: its environment cannot be read")
    found = live_env.servers_importing(sys.prefix)
    assert (cluster.pid(), str(cluster.data_dir)) in found, found
    assert live_env.servers_importing(tmp_path) == []
    run = subprocess.run([sys.executable, "-m", "pgscore.live_env", sys.prefix], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert (f"pgscore setup: WARNING: the PostgreSQL server of {cluster.data_dir} (pid {cluster.pid()}) imports "
            f"{sys.prefix}: ") in run.stderr, run.stderr
    assert "each NEW session of it imports what is installed here at once" in run.stderr, run.stderr
    quiet = subprocess.run([sys.executable, "-m", "pgscore.live_env", str(tmp_path)], capture_output=True, text=True)
    assert quiet.returncode == 0 and quiet.stderr == "" and quiet.stdout == "", quiet
    script = (ROOT / "scripts" / "run").read_text()
    warn, pip = script.index('-m pgscore.live_env "$VENV"'), script.index("-m pip install")
    assert warn < pip and warn < script.index('rm -rf "$VENV"'), "scripts/run warns before it changes the venv"


def test_the_live_environment_check_runs_this_checkouts_code_whatever_state_the_venv_is_in(tmp_path):
    """scripts/run ran `$VENV/bin/python -m pgscore.live_env` before it remade or reinstalled a .venv: one whose
    pip install had failed, or copied with the checkout from another place (its editable install naming the
    other's code), said `No module named pgscore.live_env` on every run instead of checking. It runs the server's
    Python on this checkout's py_src (live_env is standard library only)."""
    import re
    import subprocess
    import venv

    script = (ROOT / "scripts" / "run").read_text()
    line = re.search(r"^ *(.*-m pgscore\.live_env \"\$VENV\".*)$", script, re.M).group(1)
    bare = tmp_path / "venv"
    venv.create(bare, with_pip=False)  # a venv pgscore was never installed into
    run = subprocess.run(["bash", "-c", f'ROOT={ROOT}; VENV={bare}; SERVER_PYTHON=/usr/bin/python3; {line}'],
                         capture_output=True, text=True)
    assert run.returncode == 0 and run.stderr == "", run.stderr
