"""validate_environment(): what PL/Python sees, checked through SQL, and the pins it checks against."""

import json
import os
import tomllib

import numpy
import psycopg2
import pytest
import scipy
import sklearn
import joblib

from helpers import ROOT, pgscore_cli, query
from pgscore import environment, localdb
from pgscore.errors import EnvironmentMismatch


def test_validate_environment_reports_the_same_stack_as_the_client(conn):
    (report,) = query(conn, "SELECT pgscore.validate_environment()")[0]
    assert report["python"].startswith("3.11.")
    assert report["scikit_learn"] == sklearn.__version__
    assert report["numpy"] == numpy.__version__
    assert report["scipy"] == scipy.__version__
    assert report["joblib"] == joblib.__version__
    assert report["pgscore"] == __import__("pgscore").__version__
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
