"""Fixtures: one throwaway cluster per session, the migrated schema built once as a template
database (pytest-postgresql's DatabaseJanitor), and a fresh clone of it for every test."""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil

import psycopg2
import pytest
from pytest_postgresql.janitor import DatabaseJanitor

from helpers import make_tmpdir
from pgscore import migrate
from pgscore.localdb import SUPERUSER, Cluster, free_port

# libpq's variables of the shell that runs the suite (a developer's PGHOST/PGPORT for a server of theirs, CI's):
# the CLI honours them where no --db, PGSCORE_DATABASE_URL or PGSCORE_DATA_DIR is given, and libpq everywhere
# (PGUSER, PGSSLMODE, PGOPTIONS...): dropped before anything connects, so that no test goes to that server; a test
# that wants one sets it (tests/test_cli.py test_the_suite_is_not_redirected_by_the_shell_s_libpq_variables)
for _name in [n for n in os.environ if n.startswith("PG") and not n.startswith("PGSCORE_")]:
    del os.environ[_name]

TEMPLATE_DB = "pgscore_template"
_counter = itertools.count()


@pytest.fixture(scope="session")
def cluster():
    base = make_tmpdir("pgscore-test-")
    c = Cluster(data_dir=base / "data", port=free_port())
    c.start()
    yield c
    c.destroy()
    shutil.rmtree(base, ignore_errors=True)


def _janitor(cluster: Cluster, dbname: str, **kw) -> DatabaseJanitor:
    return DatabaseJanitor(user=SUPERUSER, host=str(cluster.socket_dir), port=cluster.port,
                           dbname=dbname, **kw)


@pytest.fixture(scope="session")
def template_db(cluster):
    """The schema migrated to head, once per session."""

    def install(host, port, user, dbname, password, autocommit=False):
        migrate.upgrade(cluster.url(dbname))

    janitor = _janitor(cluster, TEMPLATE_DB, as_template=True)
    with janitor:
        janitor.load(install)
        yield TEMPLATE_DB


@pytest.fixture
def db_url(request, cluster, template_db):
    """URL of a fresh clone of the migrated template; for a test that takes `shop` (also through another fixture)
    in a module that defines a `shop_template` fixture (a built_template), of that template, so that its db_url
    is the shop's."""
    template = template_db
    if "shop" in request.fixturenames and hasattr(request.module, "shop_template"):
        template = request.getfixturevalue("shop_template")
    name = f"t{next(_counter)}"
    with _janitor(cluster, name, template_dbname=template):
        yield cluster.url(name)


@pytest.fixture(scope="session")
def built_template(cluster, template_db):
    """built_template(build): the name of a template database cloned from the migrated one and built on by
    `build(url)` once a session: a module's set-up that each of its tests would repeat (deploys, tables,
    rows). A module defines a `shop_template` fixture returning it (db_url above clones it for tests that take
    `shop`), or overrides `db_url` with `clone_of(built_template(build))`."""
    made = {}
    with contextlib.ExitStack() as stack:
        def template(build):
            key = (build.__module__, build.__qualname__)  # not the function: a module fixture set up again
            if key not in made:  # (modules interleaved: --ff, --lf) makes a new closure of the same build
                name = f"b{next(_counter)}"
                stack.enter_context(_janitor(cluster, name, template_dbname=template_db, as_template=True))
                build(cluster.url(name))
                made[key] = name
            return made[key]

        yield template


@pytest.fixture
def clone_of(cluster):
    """clone_of(template): URL of a fresh clone of `template` (a built_template), dropped after the test."""
    with contextlib.ExitStack() as stack:
        def clone(template):
            name = f"t{next(_counter)}"
            stack.enter_context(_janitor(cluster, name, template_dbname=template))
            return cluster.url(name)

        yield clone


@pytest.fixture
def empty_db_url(cluster):
    """URL of a fresh database without pgscore."""
    name = f"e{next(_counter)}"
    with _janitor(cluster, name):
        yield cluster.url(name)


@pytest.fixture
def conn(db_url):
    """An autocommit psycopg2 connection to a fresh migrated database."""
    c = psycopg2.connect(db_url)
    c.autocommit = True
    yield c
    c.close()

