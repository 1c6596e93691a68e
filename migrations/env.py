"""Alembic environment for pgscore: one transaction per run, a version table of its own."""

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import event
from pgscore.errors import InstallError
from pgscore.migrate import (VERSION_TABLE, before_migrating, bound_lock_wait, create_engine,
                             offline_user_data_warning, server_variables, step_lines)

config = context.config
if config.config_file_name is not None:  # plain alembic with alembic.ini: it says which revisions it runs
    fileConfig(config.config_file_name, disable_existing_loggers=False)
    step_lines()


def database_url():
    url = (context.get_x_argument(as_dictionary=True).get("db_url")
           or config.attributes.get("db_url")
           or os.environ.get("PGSCORE_DATABASE_URL")
           or config.get_main_option("sqlalchemy.url"))
    # pgscore's commands where libpq's variables name the database (PGHOST...), or plain alembic with them set: an
    # empty DSN, which libpq completes from them as for psql
    if not url and (config.attributes.get("db_url") == "" or server_variables()):
        return ""
    if not url:
        raise SystemExit("pgscore: no database URL; pass -x db_url=postgresql://... or set PGSCORE_DATABASE_URL (or "
                         "libpq's PGHOST, PGPORT, PGDATABASE or PGSERVICE)")
    return url


def run():
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = create_engine(database_url())
    try:
        with engine.connect() as conn:
            _migrate(conn)
    except InstallError as e:  # plain alembic: a downgrade refused (before_migrating), as alembic's FAILED
        from alembic.util import CommandError

        raise CommandError(f"pgscore: {e.message} (SQLSTATE {e.sqlstate})"
                           + "".join(f"\n{x}" for x in (e.detail, e.hint and "Hint: " + e.hint) if x)) from e
    except Exception as e:  # noqa: BLE001
        # plain alembic: objects of the user's that a revision's DROP stopped are named with what to do, not
        # with the server's DROP ... CASCADE (pgscore's own commands pass a connection and say it themselves)
        from alembic.util import CommandError
        from pgscore.migrate import refused_by_your_objects

        refusal = refused_by_your_objects(e)
        if refusal is None:
            refusal = _needs_a_superuser(e, engine)
        if refusal is None:
            raise
        raise CommandError(refusal) from e


def _needs_a_superuser(e, engine):
    """Plain alembic as a role that is not a superuser (the database's owner, say): what pgscore install says, not
    psycopg2's traceback naming the first pgscore table a revision locks (trial T24, session 68). None for another
    error, or where the role is a superuser."""
    orig = getattr(e, "orig", None) or e
    if getattr(orig, "pgcode", None) != "42501":
        return None
    try:
        with engine.connect() as conn:
            who, superuser = conn.exec_driver_sql(
                "SELECT current_user::text, rolsuper FROM pg_catalog.pg_roles "
                "WHERE rolname OPERATOR(pg_catalog.=) current_user").one()
    except Exception:  # noqa: BLE001 - the original error is the one to tell then
        return None
    if superuser:
        return None
    first = str(orig).strip().splitlines()[0]
    return (f"pgscore: pgscore's migrations need a superuser (connected as {who}): they create and drop PL/Python "
            f"(untrusted) functions, lock and alter pgscore's tables, and grant its roles ({first}; SQLSTATE 42501)"
            "\nHint: run alembic, or pgscore install, as a superuser (-x db_url=postgresql://postgres@host/db); "
            "the database's owner runs everything else as itself (docs/operations.md, 'Who installs, and with what')")


_CATALOG_ONLY = "SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true)"


def _migrate(conn):
    from pgscore.migrate import version_table_check

    # the version table is ours, so an application's own alembic history is never touched; named with its schema,
    # public, so that no schema of another role's earlier on the search_path ("$user": one named after the
    # installing superuser, which the database's owner may create) holds the one alembic reads or writes
    context.configure(connection=conn, version_table=VERSION_TABLE, version_table_schema="public",
                      transactional_ddl=True, transaction_per_migration=False)
    with context.begin_transaction():
        # no schema but pg_catalog searched for the migration's functions and operators (this transaction only):
        # public is the database's owner's (PostgreSQL 15), and an operator of its own there on a type pg_catalog
        # has no exact one for (= (varchar, varchar)) is the exact match for alembic's WHERE version_num = '...'
        # whatever the order of the path; it ran as the superuser at each upgrade, downgrade and uninstall (review
        # r1, session 68: the owner made itself superuser so). The revisions name every object with its schema
        conn.exec_driver_sql(_CATALOG_ONLY)
        # a wait for a lock bounded as pgscore's commands bound it, where nothing set lock_timeout (session 68)
        bound_lock_wait(conn)
        # a version table that runs another role's code when read or written (a view, a trigger: migrate._TRUST)
        # is refused before alembic reads it; a missing one is made here, as alembic would; the one checked is
        # locked (its drop waits for this transaction), then checked again: a drop and a table of the owner's
        # made again between the first check and the lock is refused, not written
        problem = version_table_check(conn)
        if problem is not None:
            raise problem
        conn.exec_driver_sql(
            "DO $do$ BEGIN IF pg_catalog.to_regclass('public.pgscore_alembic_version') IS NULL THEN CREATE TABLE "
            "public.pgscore_alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT "
            "pgscore_alembic_version_pkc PRIMARY KEY (version_num)); END IF; END $do$")
        conn.exec_driver_sql("LOCK TABLE public.pgscore_alembic_version IN ACCESS SHARE MODE")
        problem = version_table_check(conn)
        if problem is not None:
            raise problem
        # the lock keeps the table, not its name: the owner of public may rename the schema (ALTER SCHEMA ... RENAME
        # waits for no lock) and make another public with a table of its own of the name, which alembic's statements
        # would then resolve to, seconds later (after a revision's SQL). Each of them is preceded by a check that the
        # name still resolves to the table locked here; between that check and the statement, only microseconds
        locked = conn.exec_driver_sql(_LOCKED).scalar()
        listener = _still_the_locked_table(locked)
        event.listen(conn, "before_cursor_execute", listener)
        try:
            # the rescoring trigger's tables first, all at once; a downgrade's drop of users' rows refused unless
            # asked
            before_migrating(conn, context)
            context.run_migrations()
            _share_version_table(conn)
        finally:
            event.remove(conn, "before_cursor_execute", listener)


_LOCKED = "SELECT pg_catalog.to_regclass('public.pgscore_alembic_version')::pg_catalog.oid"


def _still_the_locked_table(locked):
    """A before_cursor_execute listener: a statement that names the version table is refused (42501, nothing
    done: the transaction is rolled back) where public.pgscore_alembic_version is no longer the table `locked`."""
    def check(conn, cursor, statement, parameters, context_, executemany):
        if VERSION_TABLE not in statement:
            return
        with conn.connection.dbapi_connection.cursor() as cur:  # (the DBAPI's own: no event, no recursion)
            cur.execute(_LOCKED)
            now = cur.fetchone()[0]
        if now != locked:
            raise InstallError(
                f"public.{VERSION_TABLE} is no longer the table this run checked and locked (another role renamed "
                "or replaced the schema public while it ran): nothing was changed", sqlstate="42501",
                detail="the schema public belongs to the database's owner (PostgreSQL 15), who may rename it and make "
                       "another, with a table of its own of the name, whose trigger would run as this role",
                hint="see who did it (the schemas and their owners: \\dn+ in psql), make the database's schema public "
                     "as it was, then run it again with the database owned by the superuser (ALTER DATABASE ... "
                     "OWNER TO postgres, then back: docs/operations.md, 'Who installs, and with what')")

    return check


# the pgscore roles may read which revision is installed (pgscore status, and every command's check that
# pgscore is there); the version table is alembic's, made outside the migrations, so it is granted (and
# commented, for whoever browses the schema it lies in) here
_SHARE_VERSION = """
DO $do$
BEGIN
    IF pg_catalog.to_regclass('public.pgscore_alembic_version') IS NOT NULL THEN
        COMMENT ON TABLE public.pgscore_alembic_version IS 'pgscore''s schema revision: the alembic migration of the pgscore schema installed here (pgscore install upgrades it, pgscore status compares it with the release); kept apart from an application''s own alembic history. Not data: do not edit';
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'pgscore_admin') THEN
            GRANT SELECT ON public.pgscore_alembic_version TO pgscore_admin;
        END IF;
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'pgscore_app') THEN
            GRANT SELECT ON public.pgscore_alembic_version TO pgscore_app;
        END IF;
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'pgscore_reader') THEN
            GRANT SELECT ON public.pgscore_alembic_version TO pgscore_reader;
        END IF;
    END IF;
END
$do$
"""


def _share_version_table(conn):
    from pgscore.migrate import execute_script

    execute_script(conn, _SHARE_VERSION)


# the script's own version_table_check and _still_the_locked_table (run by hand as a superuser, in psql): before
# each statement on the version table, and after the one that makes it. The first time the table is there, it is
# locked, checked as untrusted_version_table checks it (its owner a superuser or the current role, a plain table,
# no trigger) and its oid kept in the transaction's setting pgscore.locked_version_table; each later time the name
# must still resolve to that table (the owner of public may rename the schema and make another, with a table of
# its own of the name, while the script runs). And a schema pgscore of another role's is refused, at the start.
# Before session 69 (h4) the script checked nothing: the owner's trigger on a table made again ran as the superuser
# at the script's first UPDATE of it. Its hints' backslashes are in E'' literals: the database's owner may set
# standard_conforming_strings off for every session, where a plain literal's backslash was read as an escape
# (session 69, r1)
_OFFLINE_GUARD = """DO $pgscore_version_table$
DECLARE
    t pg_catalog.oid := pg_catalog.to_regclass('public.pgscore_alembic_version');
    locked pg_catalog.text := pg_catalog.current_setting('pgscore.locked_version_table', true);
    who pg_catalog.text;
    kind pg_catalog."char";
    triggers pg_catalog.int8;
BEGIN
    SELECT r.rolname INTO who FROM pg_catalog.pg_namespace n JOIN pg_catalog.pg_roles r
        ON r.oid OPERATOR(pg_catalog.=) n.nspowner
     WHERE n.nspname OPERATOR(pg_catalog.=) 'pgscore' AND NOT (r.rolsuper OR r.rolname OPERATOR(pg_catalog.=) CURRENT_USER);
    IF FOUND THEN
        RAISE EXCEPTION 'the schema pgscore is owned by %, not by a superuser: % may replace the functions in it, which would then run as %; nothing was done', who, who, CURRENT_USER
            USING ERRCODE = '42501', HINT = 'its owner renames or drops it (ALTER SCHEMA pgscore RENAME TO app_pgscore), or a superuser checks its functions and makes it the superuser''s (docs/operations.md, ''Who installs, and with what'')';
    END IF;
    IF locked OPERATOR(pg_catalog.<>) '' THEN
        IF t IS NULL OR t OPERATOR(pg_catalog.<>) locked::pg_catalog.oid THEN
            RAISE EXCEPTION 'public.pgscore_alembic_version is no longer the table this script checked and locked (another role renamed or replaced the schema public while it ran): nothing was changed'
                USING ERRCODE = '42501', HINT = E'see who did it (\\\\dn+ in psql), make the database''s schema public as it was, then run the script again with the database owned by the superuser (docs/operations.md, ''Who installs, and with what'')';
        END IF;
        RETURN;
    END IF;
    IF t IS NULL THEN
        RETURN;
    END IF;
    LOCK TABLE public.pgscore_alembic_version IN ACCESS SHARE MODE;
    t := pg_catalog.to_regclass('public.pgscore_alembic_version');
    SELECT r.rolname, c.relkind, (SELECT pg_catalog.count(*) FROM pg_catalog.pg_trigger g
                                   WHERE g.tgrelid OPERATOR(pg_catalog.=) c.oid AND NOT g.tgisinternal)
      INTO who, kind, triggers
      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) c.relowner
     WHERE c.oid OPERATOR(pg_catalog.=) t
       AND (c.relkind OPERATOR(pg_catalog.<>) 'r' OR NOT (r.rolsuper OR r.rolname OPERATOR(pg_catalog.=) CURRENT_USER)
            OR EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g WHERE g.tgrelid OPERATOR(pg_catalog.=) c.oid AND NOT g.tgisinternal));
    IF FOUND THEN
        RAISE EXCEPTION 'public.pgscore_alembic_version, pgscore''s version table, is % owned by %: reading or writing it could run code of %''s as %; nothing was done',
            CASE kind WHEN 'v' THEN 'a view' WHEN 'm' THEN 'a materialized view' WHEN 'f' THEN 'a foreign table'
                      WHEN 'p' THEN 'a partitioned table'
                      ELSE CASE WHEN triggers OPERATOR(pg_catalog.>) 0 THEN pg_catalog.format('a table with %s trigger(s)', triggers)
                                ELSE 'a table' END END,
            who, who, CURRENT_USER
            USING ERRCODE = '42501', HINT = E'as a superuser, see what it is and who made it without reading it (\\\\d+ public.pgscore_alembic_version in psql), then make it again as the superuser: pgscore install says how (docs/operations.md, ''Who installs, and with what'')';
    END IF;
    PERFORM pg_catalog.set_config('pgscore.locked_version_table', t::pg_catalog.text, true);
END
$pgscore_version_table$;
"""


def _guarded(impl):
    """impl.static_output, with _OFFLINE_GUARD written before each statement that names the version table (and after
    the one that makes it)."""
    write = impl.static_output

    def static_output(text):
        if VERSION_TABLE not in text or text.startswith(_OFFLINE_GUARD[:20]):
            write(text)
        elif text.lstrip().upper().startswith("CREATE TABLE"):
            write(text)
            write(_OFFLINE_GUARD)
        else:
            write(_OFFLINE_GUARD)
            write(text)

    impl.static_output = static_output


if context.is_offline_mode():
    # the SQL is only written out: the dialect is all it needs (a keyword DSN is no SQLAlchemy URL)
    context.configure(dialect_name="postgresql", version_table=VERSION_TABLE, version_table_schema="public",
                      literal_binds=True)
    with context.begin_transaction():
        # run by hand as a superuser, the script too searches no schema of the database's owner (_migrate)
        context.get_context().impl.static_output(f"{_CATALOG_ONLY};\n")
        # and checks and locks the version table, as _migrate does, and refuses a schema pgscore of another role's;
        # what it keeps, set empty first (not from a setting of the database's or the role's: PostgreSQL 15 refuses
        # the database's owner ALTER DATABASE ... SET of it, "permission denied to set parameter", but a superuser's
        # own session settings would otherwise be read as the table checked)
        context.get_context().impl.static_output(
            "SELECT pg_catalog.set_config('pgscore.locked_version_table', '', true);\n")
        context.get_context().impl.static_output(_OFFLINE_GUARD)
        _guarded(context.get_context().impl)
        offline_user_data_warning(context)  # a downgrade's script: what it drops of what users wrote, uncounted
        context.run_migrations()
        # the grants an online run makes (_share_version_table): without them the pgscore roles could not read
        # the revision of a schema installed with this script (pgscore status, drift and retry refused them)
        context.get_context().impl.static_output(_SHARE_VERSION.strip() + ";\n")
else:
    run()
