"""One packaging source; the image installs from it; CI runs the README's test command."""

import re
import tomllib

from helpers import ROOT


def test_dockerfile_uses_bookworm_plpython_and_the_project_pins():
    text = (ROOT / "Dockerfile.postgres").read_text()
    assert re.search(r"^FROM postgres:15-bookworm\b", text, re.M)
    assert "postgresql-plpython3-${PG_MAJOR}=${PG_VERSION}" in text
    assert "/usr/bin/python3 -m venv" in text
    assert "pip install --no-cache-dir /opt/pgscore/src" in text
    # no second set of pins: every version comes from pyproject.toml
    assert not re.search(r"(scikit-learn|numpy|joblib|scipy)==", text)
    assert "PYTHONPATH=/opt/pgscore/venv/lib/python3.11/site-packages" in text
    assert "OMP_NUM_THREADS=1" in text


def test_the_image_reaches_its_own_server_and_every_place_names_the_same_thread_settings():
    """`docker exec pgscore pgscore deploy ...` had no database (no --db, no PGSCORE_DATABASE_URL) and looked
    for the embedded cluster; and the thread variables of pgscore's hint (what db start gives its cluster),
    the README's and the image's differed."""
    from pgscore.localdb import SERVER_THREAD_ENV

    docker = (ROOT / "Dockerfile.postgres").read_text()
    env = docker.split("\nENV ", 1)[1]
    assert 'PGSCORE_DATABASE_URL="postgresql://postgres@/postgres?host=/var/run/postgresql"' in env
    readme = (ROOT / "README.md").read_text()
    environment_file = readme.split("/etc/postgresql/15/main/environment", 1)[1].split("```", 2)[1]
    pg_ctl = readme.split("su postgres -c '", 1)[1].split("'", 1)[0]
    assert "pg_ctl -D DIR -l LOGFILE start" in pg_ctl
    threads = set(SERVER_THREAD_ENV)
    assert set(re.findall(r"^\s*(\w+_THREADS)=1\b", env, re.M)) == threads
    assert set(re.findall(r"^\s*(\w+_THREADS) = '1'$", environment_file, re.M)) == threads
    assert set(re.findall(r"(\w+_THREADS)=1\b", pg_ctl)) == threads


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"^(scripts/run \w+)", readme, re.M)
    assert commands[:2] == ["scripts/run demo", "scripts/run test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^exec scripts/run test$", ci, re.M)


def test_console_script_and_python_floor():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["pgscore"] == "pgscore.cli:main"
    assert project["requires-python"] == ">=3.11"
