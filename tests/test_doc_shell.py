"""The ```sh blocks of docs/guide.md run, as written and in order, as a reader runs them from the checkout on the
demo's shop (test_doc_examples.py runs the ```sql blocks, test_doc_python.py the ```python ones; before this,
nothing ran the guide's shell steps: the retrained model's heredoc, its deploy, `show`, `shadow` and `models`).

Each block runs under `bash -e -o pipefail` in a folder of its own where `.venv/bin/python` and `scripts/run`, as the
guide writes them, are the checkout's (a link, and a script that runs the checkout's), so that the files the heredoc
writes land there, not in the checkout, with PGSCORE_DATABASE_URL the test database's URL, which is what `export PGSCORE_DATA_DIR`
gives a reader on the demo's cluster. What the guide's comments say a command prints is checked too."""

import os
import re
import subprocess

import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from helpers import ROOT, make_shop, query
from pgscore.datasets import churn

GUIDE = ROOT / "docs" / "guide.md"


def sh_blocks():
    """(line, text) of each ```sh block of the guide."""
    text = GUIDE.read_text()
    return [(text[:m.start()].count("\n") + 1, m.group(1))
            for m in re.finditer(r"^```sh\n(.*?)^```", text, re.M | re.S)]


@pytest.fixture
def shop(db_url):
    """The demo's shop: churn v1 (a logistic pipeline) live, customers, complaints wired to rescore them."""
    X, y, _ = churn(300, seed=5)
    conn = make_shop(db_url, make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y), X, y, 300,
                     rescore=True)
    yield conn
    conn.close()


def test_the_guides_shell_blocks_run_as_written(shop, db_url, tmp_path):
    blocks = sh_blocks()
    assert len(blocks) >= 3, blocks  # the retrained model's heredoc, its deploy and show, shadow and models
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    (tmp_path / "scripts").mkdir()  # (scripts/run finds its checkout by its own path: the real one's, run from here)
    (tmp_path / "scripts" / "run").write_text(f'#!/bin/sh\nexec "{ROOT}/scripts/run" "$@"\n')
    (tmp_path / "scripts" / "run").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PGSCORE_")}
    env["PGSCORE_DATABASE_URL"] = db_url
    out = {}
    for line, block in blocks:
        run = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", block], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, f"docs/guide.md:{line}: exit {run.returncode}\n{run.stdout}\n{run.stderr}"
        out[line] = run.stdout + run.stderr
    text = "\n".join(out.values())
    # the challenger's and the live version's hold-out metrics (`show ... | grep metrics`), each once
    assert len(re.findall(r"^  metrics: auc ", text, re.M)) == 2, text
    # version 2 deployed beside version 1, not live, then scored in shadow: `models` says so in its live column
    assert re.search(r"^churn +2 +binary +shadow ", text, re.M), text
    assert re.search(r"^churn +1 +binary +yes ", text, re.M), text
    assert query(db_url, "SELECT version, live, description FROM pgscore.model_versions WHERE name = 'churn' "
                         "ORDER BY version") == [(1, True, None), (2, False, "May retrain")]
