"""The version table, public.pgscore_alembic_version, lies in a schema the database's owner owns (PostgreSQL 15:
pg_database_owner), who may drop it and make another of the name: a table with a trigger, or a view, whose
functions then ran as whoever wrote or read it, the installing superuser's pgscore install, downgrade or status
among them (trial T24, session 68: the database's owner made itself superuser so). Every path that reads or writes
it refuses such a table (migrate._TRUST), and the superuser's code never runs the owner's."""

import contextlib

import psycopg2
import pytest
from helpers import ensure_role, query
from psycopg2 import sql

from pgscore import migrate
from pgscore.errors import InstallError

PREV_0169 = "0167"  # the revision before head's, which an upgrade then writes over
OWNER = "t24_db_owner"

# what the database's owner does, as itself: the table again, with a trigger (or a view) recording who ran it
TRIGGER = """
DROP TABLE public.pgscore_alembic_version;
CREATE TABLE public.pgscore_alembic_version (version_num varchar(32) PRIMARY KEY);
INSERT INTO public.pgscore_alembic_version VALUES (%(rev)s);
CREATE FUNCTION public.t24_ran() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.t24_ran_as SELECT current_user, rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user;
    RETURN NULL;
END $$;
CREATE TRIGGER t24 AFTER INSERT OR UPDATE OR DELETE ON public.pgscore_alembic_version
    FOR EACH ROW EXECUTE FUNCTION public.t24_ran();
"""
VIEW = """
DROP TABLE public.pgscore_alembic_version;
CREATE FUNCTION public.t24_rev() RETURNS varchar LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.t24_ran_as SELECT current_user, rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user;
    RETURN %(rev)s;
END $$;
CREATE VIEW public.pgscore_alembic_version AS SELECT public.t24_rev()::varchar(32) AS version_num;
"""


def _as_owner(url, script, rev):
    """The database given to OWNER (public then its too, as for a database made OWNER app), and `script` run as
    it; public.t24_ran_as (writable by all) records each role that ran its function."""
    ensure_role(url, OWNER)
    db = query(url, "SELECT current_database()")[0][0]
    query(url, sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(db), sql.Identifier(OWNER)))
    query(url, "CREATE TABLE public.t24_ran_as (who text, super boolean); GRANT ALL ON public.t24_ran_as TO PUBLIC")
    with contextlib.closing(psycopg2.connect(url)) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(OWNER)))
        cur.execute(script, {"rev": rev})
        conn.commit()


def _ran(url):
    return query(url, "SELECT who, super FROM public.t24_ran_as")


def _refused(excinfo, kind):
    e = excinfo.value
    assert e.sqlstate == "42501"
    assert f"public.pgscore_alembic_version, pgscore's version table, is {kind} owned by {OWNER}" in e.message
    assert "DROP " in e.hint and "CREATE TABLE public.pgscore_alembic_version" in e.hint


def test_an_upgrade_refuses_a_version_table_with_the_owners_trigger(empty_db_url):
    migrate.upgrade(empty_db_url, PREV_0169, check_environment=False)
    _as_owner(empty_db_url, TRIGGER, PREV_0169)
    with pytest.raises(InstallError) as excinfo:
        migrate.upgrade(empty_db_url, check_environment=False)
    _refused(excinfo, "a table with 1 trigger(s)")
    assert _ran(empty_db_url) == []  # (before: [('postgres', True)], the owner's function run as the superuser)
    assert query(empty_db_url, "SELECT version_num FROM public.pgscore_alembic_version") == [(PREV_0169,)]


def test_a_downgrade_and_an_uninstall_refuse_it_too(empty_db_url):
    migrate.upgrade(empty_db_url, check_environment=False)
    _as_owner(empty_db_url, TRIGGER, migrate.head())
    with pytest.raises(InstallError) as excinfo:
        migrate.downgrade(empty_db_url, PREV_0169)
    _refused(excinfo, "a table with 1 trigger(s)")
    with pytest.raises(InstallError) as excinfo:
        migrate.downgrade(empty_db_url, "base")
    _refused(excinfo, "a table with 1 trigger(s)")
    assert _ran(empty_db_url) == []


def test_reading_the_revision_refuses_a_view_of_the_owners(empty_db_url):
    migrate.upgrade(empty_db_url, check_environment=False)
    _as_owner(empty_db_url, VIEW, migrate.head())
    for read in (migrate.current, migrate.missing_objects, migrate.stale_revision,
                 lambda u: migrate.current(u, check=True)):
        with pytest.raises(InstallError) as excinfo:
            read(empty_db_url)
        _refused(excinfo, "a view")
    assert _ran(empty_db_url) == []  # (before: the view's function ran as the superuser at each read)


def test_the_hints_fix_lets_the_install_go_on(empty_db_url):
    migrate.upgrade(empty_db_url, PREV_0169, check_environment=False)
    _as_owner(empty_db_url, TRIGGER, PREV_0169)
    with pytest.raises(InstallError) as excinfo:
        migrate.upgrade(empty_db_url, check_environment=False)
    fix = excinfo.value.hint.split("in one transaction: ")[1].split("; REVISION")[0].replace("REVISION", PREV_0169)
    query(empty_db_url, fix)
    migrate.upgrade(empty_db_url, check_environment=False)
    assert migrate.current(empty_db_url) == migrate.head()
    assert _ran(empty_db_url) == []

