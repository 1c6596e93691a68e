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
