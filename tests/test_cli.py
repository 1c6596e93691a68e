"""pgscore install / uninstall / env / demo, through the CLI."""

import re

from helpers import ROOT, make_tmpdir, pgscore_cli, query
from pgscore import migrate
from pgscore.cli import build_parser
from pgscore.localdb import Cluster, free_port


def test_install_env_uninstall(empty_db_url):
    run = pgscore_cli("install", "--db", empty_db_url)
    assert run.returncode == 0, run.stderr
    assert f"revision none -> {migrate.head()}" in run.stdout
    assert "scikit-learn 1." in run.stdout
    again = pgscore_cli("install", env={"PGSCORE_DATABASE_URL": empty_db_url})
    assert again.returncode == 0 and "up to date" in again.stdout
    env = pgscore_cli("env", "--db", empty_db_url)
    assert env.returncode == 0 and "inside the database: python 3.11" in env.stdout
    gone = pgscore_cli("uninstall", "--db", empty_db_url)
    assert gone.returncode == 0
    assert query(empty_db_url, "SELECT to_regnamespace('pgscore')") == [(None,)]
    assert "not installed" in pgscore_cli("uninstall", "--db", empty_db_url).stdout


def test_install_without_a_database():
    port = free_port()
    run = pgscore_cli("install", "--db", f"postgresql://postgres@127.0.0.1:{port}/nope")
    assert run.returncode == 1
    assert "cannot connect to the database" in run.stderr
    assert "pgscore db start" in run.stderr
    assert "Traceback" not in run.stderr


def test_env_on_a_database_without_pgscore(empty_db_url):
    run = pgscore_cli("env", "--db", empty_db_url)
    assert run.returncode == 1
    assert "pgscore is not installed in this database" in run.stderr
    assert "pgscore install" in run.stderr


def test_demo_runs_end_to_end():
    base = make_tmpdir("pgscore-demo-")
    try:
        run = pgscore_cli("demo", "--data-dir", str(base / "data"), "--port", str(free_port()))
        assert run.returncode == 0, run.stdout + run.stderr
        assert f"revision none -> {migrate.head()}" in run.stdout
        assert "inside the database: python 3.11" in run.stdout
        assert "deployed churn version 1" in run.stdout and "hold-out AUC 0." in run.stdout
        scored = [ln for ln in run.stdout.splitlines() if ln.startswith("customer ")]
        assert len(scored) == 3
        # rescoring: three customers' counters and scores before and after, and the audit rows behind them
        explained = [ln for ln in run.stdout.splitlines() if "caused by public.complaints events" in ln]
        assert len(explained) == 3 and "customer 3: score" in explained[0] and "[1, 2, 3]" in explained[0]
        for ln in scored:  # SQL and Python agree to the printed digits
            sql_val, py_val = ln.split("= ")[1].split()[0], ln.split("Python: ")[1].split(")")[0]
            assert sql_val == py_val
    finally:
        Cluster(data_dir=base / "data").destroy()


def test_every_command_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    commands = []
    for name, sp in sub.choices.items():
        nested = [a for a in sp._actions if a.dest == "db_command"]
        commands += [f"pgscore {name} {n}" for n in nested[0].choices] if nested else [f"pgscore {name}"]
    missing = [c for c in commands if not re.search(re.escape(c) + r"\b", readme)]
    assert not missing, f"undocumented commands: {missing}"


def test_every_sql_function_is_documented():
    doc = (ROOT / "docs" / "sql.md").read_text()
    names = set(re.findall(r"CREATE (?:OR REPLACE )?FUNCTION (pgscore\.\w+)",
                           "\n".join(p.read_text() for p in (ROOT / "sql").rglob("*.sql"))))
    assert names
    missing = [n for n in sorted(names) if f"`{n}(" not in doc]
    assert not missing, f"undocumented SQL functions: {missing}"
