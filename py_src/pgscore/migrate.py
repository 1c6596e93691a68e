"""Install, upgrade and remove the pgscore schema through alembic."""

from __future__ import annotations

import os
import re
import shlex
import sys
from pathlib import Path

from pgscore.errors import InstallError, PgscoreError, command

VERSION_TABLE = "pgscore_alembic_version"


def libpq_dsn(url: str) -> str:
    """What psycopg2.connect takes for a postgresql:// URL (a SQLAlchemy '+driver' dropped) or a
    'host=... dbname=...' string; anything else is an InstallError, not SQLAlchemy's traceback."""
    import psycopg2.extensions

    dsn = re.sub(r"^(postgres(?:ql)?)\+\w+://", r"\1://", url.strip())
    try:
        options = psycopg2.extensions.parse_dsn(dsn)
    except psycopg2.ProgrammingError as e:
        why = str(e).strip().removeprefix("invalid dsn: ")
        raise InstallError("the database URL is neither a postgresql://user@host/dbname URL nor a "
                           f"'host=... dbname=...' string ({why})") from None
    # (parse_dsn takes any text for these: libpq refuses it only at connect, `invalid integer value "x" for
    # connection option "port"`, which a command said as a failure of its own, exit 1, or after other work)
    for option in _INTEGER_OPTIONS:
        for value in (options.get(option) or "").split(",") if option == "port" else [options.get(option) or ""]:
            if value.strip() and not re.fullmatch(r"\s*[+-]?[0-9]+\s*", value):
                raise InstallError(f"the database URL's {option} is {value!r}, not a whole number")
    return dsn


# libpq's connection options that take a whole number (port a comma-separated list of them, one per host)
_INTEGER_OPTIONS = ("port", "connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval",
                    "keepalives_count", "tcp_user_timeout")


# libpq's variables that name a server or a database: with any of them set (and no --db, PGSCORE_DATABASE_URL or
# PGSCORE_DATA_DIR) a command connects as libpq's own clients do, with an empty DSN; PGUSER and PGPASSWORD alone name
# no server (they apply to whichever database is reached)
SERVER_VARIABLES = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGSERVICE")
# the running command's database is the one libpq's environment names (resolve_db sets it): its connection errors
# say so, and their hints name those variables rather than --db
_from_environment = False


def server_variables() -> list[str]:
    """The SERVER_VARIABLES set (not empty) in this process's environment."""
    return [v for v in SERVER_VARIABLES if os.environ.get(v, "").strip()]


def reached_by_environment(on: bool) -> None:
    global _from_environment
    _from_environment = on


def reached_by_environment_now() -> bool:
    return _from_environment


# a password inside a connection string that a message would show: a URL's user part (`://u:PASSWORD@`, up to its
# last @ before the path) and query (`?password=`, `&password=`), a `key=value` string's `password=` (quoted or not).
# PGDATABASE may hold one (libpq reads it as a database's name), which the server's `database "..." does not exist`
# echoes too
_URL_PASSWORD = re.compile(r"(://[^:/@\s\"']*:)[^\s\"'/]*@")
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&#\s\"']*", re.IGNORECASE)
_KEY_PASSWORD = re.compile(r"(?<![?&\w])(password\s*=\s*)(?:'(?:[^'\\]|\\.)*'|[^\s'\"]+)", re.IGNORECASE)


def password_spans(value: str) -> list[tuple[int, int]]:
    """Where the passwords of connection string `value` (the whole of it: PGDATABASE's) lie, read as libpq reads
    one, wider where unsure: a URL's user part after its first `:` up to its last `@` (any characters: a quote, a
    space, a `/`), a query's `password=` up to the next `&`, a `key=value` string's `password=` value as libpq's
    parser ends it (a quoted one at its closing quote, or the end where it has none; an unquoted one at a blank,
    `\\` escaping the next character). The patterns of without_password stopped at a quote or a space there."""
    from urllib.parse import unquote

    spans = []
    url = re.match(r"\s*postgres(?:ql)?://", value)
    if url:
        begin, at = url.end(), value.rfind("@")
        colon = value.find(":", begin, at) if at > begin else -1
        if colon >= 0:
            spans.append((colon + 1, at))
        query = value.find("?", max(at, begin))
        while query >= 0:
            end = value.find("&", query + 1)
            key, eq, _ = value[query + 1:len(value) if end < 0 else end].partition("=")
            if eq and unquote(key).strip().lower() == "password":
                spans.append((query + 1 + len(key) + 1, len(value) if end < 0 else end))
            query = end
        return spans
    i, n = 0, len(value)
    while i < n:
        while i < n and value[i].isspace():
            i += 1
        start = i
        while i < n and not value[i].isspace() and value[i] != "=":
            i += 1
        key = value[start:i]
        while i < n and value[i].isspace():
            i += 1
        if i >= n or value[i] != "=":
            break  # (no key=value string: libpq refuses it)
        i += 1
        while i < n and value[i].isspace():
            i += 1
        begin, quoted = i, i < n and value[i] == "'"
        i += quoted
        while i < n and (quoted or not value[i].isspace()):
            if value[i] == "\\":
                i += 1
            elif quoted and value[i] == "'":
                i += 1
                break
            i += 1
        if key.lower() == "password":
            spans.append((begin, min(i, n)))
    return spans


def _value_masked_in(text: str, value: str) -> str:
    """`text` with `value`'s passwords (password_spans) written `****` wherever `value` is in it, and wherever its
    first bytes are, past the first password's start (the server cuts a database's name to 63 bytes, and its
    `database "..." does not exist` quotes what is left: a URL's user part without its `@`)."""
    spans = password_spans(value) if value.strip() else []
    if not spans:
        return text
    masked, last = [], 0
    for begin, end in sorted(spans):
        masked += [value[last:begin], "****"]
        last = max(last, end)
    text = text.replace(value, "".join(masked) + value[last:])
    first = min(begin for begin, _ in spans)
    for k in range(len(value) - 1, first, -1):  # (the longest of its first bytes first)
        text = text.replace(value[:k], value[:first] + "****")
    return text


def without_password(text: str, values=None) -> str:
    """`text` with every password of a connection string in it written `****` (`postgresql://u:****@h/db`,
    `password=****`): what a message may print of libpq's variables and of the server's words about them.
    `values`: the connection strings `text` may hold, read whole (password_spans; PGDATABASE's by default), before
    the patterns, which find one in any text."""
    for value in (values if values is not None else (os.environ.get("PGDATABASE", ""),)):
        text = _value_masked_in(text, value)
    text = _URL_PASSWORD.sub(r"\1****@", text)
    text = _QUERY_PASSWORD.sub(r"\1****", text)
    return _KEY_PASSWORD.sub(r"\1****", text)


def environment_said() -> str:
    """libpq's variables that reach the database, as a message names them: their values, a password's only that
    it is set (`PGHOST=127.0.0.1 PGPORT=5432 PGUSER=app; PGPASSWORD is set`), and a password inside one (a URL in
    PGDATABASE) left out: without_password."""
    said = " ".join(f"{v}={without_password(os.environ[v])}"
                    for v in (*SERVER_VARIABLES, "PGSERVICEFILE", "PGUSER", "PGPASSFILE")
                    if os.environ.get(v, "").strip())
    return said + ("; PGPASSWORD is set" if os.environ.get("PGPASSWORD") else "")


def last_attempt(text: str) -> str:
    """libpq's message for a connection it could not make, of its last attempt alone: it tries each host of a URL in
    turn (host=a,b; a name with an IPv6 and an IPv4 address) and gives every attempt's failure, each beginning
    `connection to server at ...` or `... on socket ...` (libpq 14 and later); the last is what ended the trying (a
    first host refused, the next's `database "x" does not exist`: the first line said only `Connection refused`,
    review r6)."""
    parts = [part for part in _CONNECTION_ATTEMPT.split(text) if part.strip()]
    return parts[-1] if parts else text


_CONNECTION_ATTEMPT = re.compile(r"(?m)^(?=connection to server (?:at |on socket ))")


def cannot_connect(first_line: str) -> str:
    """The first line of a connection's failure: where the database came from when libpq's environment named it
    (libpq's line without a password of a connection string it may quote: PGDATABASE's, as a database's name)."""
    first_line = without_password(first_line)
    if _from_environment:
        return f"cannot connect to the database libpq's environment names ({environment_said()}): {first_line}"
    return f"cannot connect to the database: {first_line}"


def database_holds_a_connection_string() -> bool:
    """PGDATABASE holds a URL or a `key=value` string, which libpq reads as a database's name (it expands a
    connection string given as dbname to a connection call, never PGDATABASE's)."""
    value = os.environ.get("PGDATABASE", "")
    return "://" in value or bool(re.search(r"\w\s*=", value))


# pg_catalog searched first, where the database's (or the role's) search_path puts another schema ahead of it:
# the database's owner may ALTER DATABASE ... SET search_path = public, pg_catalog for every session, and a
# function or operator of its own in public named like a built-in one then runs in place of it wherever a
# statement names it unqualified (SQLAlchemy's `select current_schema()` when it connects), as the superuser that
# runs pgscore install or status there (trial T24, session 68). Set only where pg_catalog is not first already
# (nothing changes elsewhere, through a pooler too); the rest of the path is kept, so tables resolve as before
# (session 70, r3) the first schema searched but the session's temporary one, which holds no function or operator
# that an unqualified name finds, and comes first in any server session in which a temporary table was ever made
# (through a pooler, by any of its clients: DISCARD ALL empties it and keeps it); it was taken for an owner's
_NOT_CATALOG_FIRST = ("NOT COALESCE((pg_catalog.array_remove(pg_catalog.current_schemas(true), "
                      "pg_catalog.pg_my_temp_schema()::pg_catalog.regnamespace::pg_catalog.text::pg_catalog.name))[1] "
                      "OPERATOR(pg_catalog.=) 'pg_catalog'::pg_catalog.name, false)")
_CATALOG_FIRST = ("SELECT pg_catalog.set_config('search_path', pg_catalog.concat('pg_catalog, ', "
                  "pg_catalog.current_setting('search_path')), false) "
                  f"WHERE {_NOT_CATALOG_FIRST}")  # (run where _NEEDED says so)


def catalog_first(conn, alone: bool = False):
    """`conn` (a psycopg2 connection, just opened) with pg_catalog first on its search_path (_CATALOG_FIRST), or with
    `alone` pg_catalog, pg_temp alone (_CATALOG_ONLY) where it is no pooler's; committed, so that it holds for the
    session. Returns `conn`."""
    with conn.cursor() as cur:
        cur.execute(_NEEDED)
        needed, server_pid = cur.fetchone()
        # (session 70, r3) pg_catalog alone not through a pooler (libpq's backend PID not the server process's): in
        # transaction mode the server session keeps the setting for the pool's next client, whose tables in public
        # were then not found ('relation "orders" does not exist' after a pgscore drift through PgBouncer);
        # pg_catalog put first, where the path needs it, leaves the rest of that client's path as it was
        if alone and conn.get_backend_pid() == server_pid:
            cur.execute(_CATALOG_ONLY)
        elif needed:
            cur.execute(_CATALOG_FIRST)
    conn.commit()
    if needed:
        warn_if_pooled(conn, server_pid)
    return conn


# whether the session's search_path puts another schema ahead of pg_catalog (the database's or the role's setting),
# and the server process the statement ran in
_NEEDED = f"SELECT {_NOT_CATALOG_FIRST}, pg_catalog.pg_backend_pid()"
_pooled_said = False


def warn_if_pooled(conn, server_pid) -> None:
    """A warning on stderr (once a process) where `conn` goes through a pooler (libpq's backend PID, the pooler's
    cancel key, is not the server process's) and its search_path had to be set: the setting is the server session's,
    and a pooler in transaction mode (PgBouncer's pool_mode = transaction) runs the connection's next transactions in
    other server sessions, which keep the database's search_path, the owner's schema ahead of pg_catalog, where the
    owner's look-alike of a built-in function or operator runs as whoever runs pgscore (session 70; session-level
    state is lost so through such a pooler, and PgBouncer 1.18 forwards no startup `options`)."""
    global _pooled_said
    try:
        libpq_pid = conn.get_backend_pid()
    except Exception:  # noqa: BLE001 - (a connection object without one: nothing to tell)
        return
    if _pooled_said or libpq_pid == server_pid:
        return
    _pooled_said = True
    print("pgscore: warning: this connection goes through a pooler, and the database's (or the role's) search_path "
          "puts another schema ahead of pg_catalog: pgscore puts pg_catalog first for the server session, which a "
          "pooler in transaction mode (PgBouncer's pool_mode = transaction) does not keep, so that a function or "
          "operator of that schema's owner named like a built-in one may run as this role; connect directly, or "
          "through a pool in session mode, or have a superuser run ALTER ROLE ... IN DATABASE ... SET search_path "
          "= pg_catalog, ... for this role (docs/operations.md, Behind a connection pooler)",
          file=sys.stderr, flush=True)


def connect_catalog_first(dsn, alone: bool = False, **kwargs):
    """psycopg2.connect, then catalog_first: the connections of the commands a superuser runs (install, upgrade,
    downgrade, uninstall, status), in a database whose owner may set its search_path; the connection is closed
    where that fails."""
    import psycopg2

    conn = psycopg2.connect(dsn, **kwargs)
    try:
        return catalog_first(conn, alone)
    except BaseException:
        conn.close()
        raise


# pg_catalog alone (and pg_temp, last): for a command that names no table of the user's (pgscore drift), no schema of
# the database's owner is searched at all. pg_catalog first is not enough: a function or operator of the owner's in
# public whose argument types match exactly where pg_catalog's are polymorphic or take another type (unnest(text[])
# where pg_catalog has unnest(anyarray), < on numeric and int4) is the one PostgreSQL picks whatever the order, and
# drift's unnest(ARRAY[...]::text[]) ran the owner's as the superuser (session 70). A regclass prints schema-qualified
# under it: not for a command that prints a table's name so. Not through a pooler (connect_catalog_only).
_CATALOG_ONLY = "SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', false)"


def connect_catalog_only(dsn, **kwargs):
    """psycopg2.connect, with the session's search_path pg_catalog, pg_temp (_CATALOG_ONLY), committed; through a
    pooler, pg_catalog first alone, where it is not (_CATALOG_FIRST, as connect_catalog_first)."""
    return connect_catalog_first(dsn, alone=True, **kwargs)


# (session 71, trial T28) a login whose client_min_messages is 'error' (a DBA's ALTER ROLE or ALTER DATABASE ... SET,
# PGOPTIONS) is sent no WARNING, and the CLI tells some outcomes by a WARNING alone: a profile backfill could not
# recount (its exit 1), a wiring retry or refresh-windows skipped, a shadow version score could not score. Before,
# such a backfill printed nothing of it and exited 0. The CLI's sessions lower it to warning where it is error
# (NOTICEs stay dropped as the setting asks, and no other value is changed): for the transaction (review r2 of
# session 71: set for the server session, it stayed there for a transaction pooler's next client, and rescore's
# chunks, a transaction each, ran through such a pooler in server sessions where it was not set)
_HEAR_WARNINGS = ("SELECT pg_catalog.set_config('client_min_messages', 'warning', {local}) "
                  "WHERE pg_catalog.current_setting('client_min_messages') OPERATOR(pg_catalog.=) 'error'")


def hear_warnings(conn, notices, *, session: bool = False):
    """`conn.notices = notices`, with client_min_messages lowered from error to warning (_HEAR_WARNINGS) for the
    transaction this begins (retry, refresh-windows, backfill: one transaction each; not committed here), or with
    `session` for the server session, committed (pgscore score's chunks, which a transaction pooler is refused);
    an autocommit connection's statements take migrate.hearing(sql) instead. Returns `notices`."""
    conn.notices = notices
    with conn.cursor() as cur:
        cur.execute(_HEAR_WARNINGS.format(local="false" if session else "true"))
    if session and not conn.autocommit:
        conn.commit()
    return notices


def hearing(sql: str) -> str:
    """`sql` after _HEAR_WARNINGS for its own transaction, in one query string: an autocommit connection's statement
    (pgscore rescore's chunks) and the setting run as one implicit transaction, in one server session through a
    pooler in transaction mode too. `sql`'s result is the cursor's. (Parameters are psycopg2's, interpolated in
    the client: one simple query.)"""
    return _HEAR_WARNINGS.format(local="true") + "; " + sql


def create_engine(url: str):
    """A pool-less SQLAlchemy engine on psycopg2 that libpq connects, so URLs and 'key=value'
    strings mean here what they mean to psycopg2.connect everywhere else."""
    import psycopg2
    import sqlalchemy
    from sqlalchemy.pool import NullPool

    dsn = libpq_dsn(url)

    def connect():
        conn = catalog_first(psycopg2.connect(dsn))
        conn.notices = ServerNotices()  # what the revisions raise, said as it comes
        return conn

    # psycopg2 named explicitly: SQLAlchemy 2.1 defaults to psycopg 3, which parses '%' even without parameters
    return sqlalchemy.create_engine("postgresql+psycopg2://", creator=connect, poolclass=NullPool)


class ServerNotices(list):
    """A psycopg2 notices list that prints each NOTICE or WARNING of the server on stderr as it comes (after the
    statement that raised it: a revision's SQL is one), as pgscore score prints its WARNINGs: 0133's downgrade warns
    of each override it drops, and neither pgscore uninstall nor plain alembic said so (their connections kept the
    notices unread). The server's own chatter of the DDL is left out: `... does not exist, skipping` of a DROP ...
    IF EXISTS, `drop cascades to ...` of the schema's drop. Kept in the list too, for SQLAlchemy's psycopg2 dialect,
    which logs them (logger sqlalchemy.dialects.postgresql at INFO)."""

    CHATTER = re.compile(r"NOTICE:  (.* (does not exist|already exists), skipping|drop cascades to .*)$", re.S)

    def append(self, notice):
        super().append(notice)
        if not self.CHATTER.match(notice.strip()):
            print(notice.strip(), file=sys.stderr, flush=True)


def run_frozen(revision_file: str, name: str) -> None:
    """Execute the SQL a revision froze beside itself (<revision>/<name>), as one driver call."""
    from alembic import context, op

    path = Path(revision_file).with_suffix("") / name
    if context.is_offline_mode():  # `alembic upgrade --sql`: the script is written out as it is
        context.get_context().impl.static_output(path.read_text().rstrip() + "\n")
        return
    try:
        execute_script(op.get_bind(), path.read_text())
    except Exception as e:  # noqa: BLE001 - said where it failed (a traceback of plain alembic shows the note)
        e.add_note(f"{_STEP}{path.parent.name}/{name}")
        raise


# the note run_frozen adds to the error of the revision's SQL that failed: which file (failed_step reads it)
_STEP = "pgscore: in migrations/versions/"
# the errors of SQL that met pgscore's objects other than the revision before it built them (a column, function,
# table or object missing, or one already there, or a call two functions now match)
_MISMATCH = {"42703", "42883", "42P01", "42704", "42P07", "42723", "42701", "42710", "42725"}


def failed_step(exc: BaseException) -> tuple[str, str] | None:
    """(revision, its file under migrations/versions) of the revision SQL whose error `exc` is (or wraps), as
    run_frozen noted it; None for an error from elsewhere."""
    for e in (exc, getattr(exc, "orig", None), exc.__cause__, exc.__context__):
        for note in getattr(e, "__notes__", None) or ():
            if isinstance(note, str) and note.startswith(_STEP):
                where = note[len("pgscore: in "):]
                return where.split("/")[2].split("_", 1)[0], where
    return None


def execute_script(conn, script: str):
    """Run SQL text through the raw psycopg2 cursor, with no parameters.

    Neither SQLAlchemy's text() (':name' binds) nor exec_driver_sql (which
    hands psycopg2 an empty mapping, so '%' is parsed) leaves PL/Python and
    format('%I') bodies alone; a parameterless cursor.execute does.
    """
    with conn.connection.cursor() as cur:
        cur.execute(script)
        return cur.fetchone() if cur.description else None


def migrations_dir() -> Path:
    import pgscore.migrations

    return Path(pgscore.migrations.__file__).parent


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.attributes["db_url"] = url
    return cfg


def _newer(msg) -> InstallError:
    """Alembic's "Can't locate revision": the schema was installed by a newer pgscore."""
    return InstallError(f"this database's pgscore schema is newer than this pgscore (head {head()}); nothing "
                        "was changed", detail=msg,
                        hint="run the pgscore that installed it; to go back to this release, downgrade with "
                             f"that one first (alembic -x db_url=... downgrade {head()})")


def _unrecorded(missing: bool, detail=None) -> InstallError:
    """A pgscore schema whose revision is not recorded: the version table dropped (`missing`), or restored
    empty (pg_dump --schema-only)."""
    create = f"CREATE TABLE public.{VERSION_TABLE} (version_num varchar(32) PRIMARY KEY); " if missing else ""
    why = ("not the table that records its revision (public.{t}): it was dropped, perhaps by another alembic "
           "project's autogenerate (docs/alembic.md, include_name), or left out of a dump taken with pg_dump -n "
           "pgscore (it lies in public: restore it from the database dumped, pg_dump -t public.{t}, which records "
           "the revision the dump's schema has)" if missing else
           ", and the table that records its revision (public.{t}) is empty: a restore of a dump taken with "
           "pg_dump --schema-only, which writes no rows (restore the data with pg_restore --data-only "
           "--disable-triggers: the rescoring triggers would otherwise fire on the restored events)")
    return InstallError("this database has a pgscore schema" + (" but " if missing else "")
                        + why.format(t=VERSION_TABLE), detail=detail,
                        hint=f"only if this pgscore (head '{head()}') installed or last upgraded it, record "
                        f"that revision{' again' if missing else ''}: {create}INSERT INTO public.{VERSION_TABLE} "
                        f"VALUES ('{head()}'); then run the install again. If an older pgscore did, record its head "
                        "instead (its environment prints it: python -c 'from pgscore import migrate; "
                        "print(migrate.head())'): the install then upgrades the schema from there")


# the version table lies in public, which PostgreSQL 15 gives the database's owner (pg_database_owner), and alembic
# names it unqualified ("$user" comes first: a schema named after the installing role, which the database's owner
# may create). A schema's owner may drop any table in it and make another of that name: a view calling its
# functions, or a table with a trigger, which run as whoever reads or writes it: the installing superuser's next
# pgscore install, downgrade or uninstall, or its pgscore status (trial T24, session 68: the database's owner made
# itself superuser so). Read or written only where its owner is a superuser or the current role, and it is a
# plain table with no trigger
_TRUST = """SELECT pg_catalog.format('%%s.%%I', c.relnamespace::pg_catalog.regnamespace, c.relname), r.rolname::text,
       c.relkind::text,
       (SELECT pg_catalog.count(*) FROM pg_catalog.pg_trigger t
         WHERE t.tgrelid OPERATOR(pg_catalog.=) c.oid AND NOT t.tgisinternal), CURRENT_USER::text
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) c.relowner
 WHERE c.oid OPERATOR(pg_catalog.=) ANY (ARRAY[pg_catalog.to_regclass(%(t)s), pg_catalog.to_regclass(%(p)s)])
   AND (c.relkind OPERATOR(pg_catalog.<>) 'r'
        OR EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t
                    WHERE t.tgrelid OPERATOR(pg_catalog.=) c.oid AND NOT t.tgisinternal)
        OR NOT (r.rolsuper OR r.rolname OPERATOR(pg_catalog.=) CURRENT_USER))"""


# the schema pgscore, owned by a role neither a superuser nor the current one: its owner may drop and make again any
# function in it, which the superuser's commands and pgscore's SECURITY DEFINER functions then call (a database's
# owner may make the schema before the first install, which then stopped on CREATE SCHEMA, told that a restore had
# left out PL/Python). Whether the install made it: pgscore.install_info
_SCHEMA_TRUST = """SELECT r.rolname::text, CURRENT_USER::text, pg_catalog.to_regclass('pgscore.install_info') IS NOT NULL
  FROM pg_catalog.pg_namespace n JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) n.nspowner
 WHERE n.nspname OPERATOR(pg_catalog.=) 'pgscore' AND NOT (r.rolsuper OR r.rolname OPERATOR(pg_catalog.=) CURRENT_USER)"""


def untrusted_version_table(execute) -> InstallError | None:
    """The refusal to read or write a version table that a role other than a superuser or the current one could
    make run code (_TRUST), or None. `execute(sql, params)` returns its rows (a psycopg2 cursor's or a SQLAlchemy
    connection's: version_table_check)."""
    rows = execute(_SCHEMA_TRUST, None)
    if rows:
        owner, me, made = rows[0]
        return InstallError(
            f"the schema pgscore is owned by {owner}, not by a superuser: {owner} may replace the functions in it, "
            f"which would then run as {me}; nothing was done", sqlstate="42501",
            detail="the install makes the schema as a superuser" + (
                "; this one has pgscore's objects (a restore made as its owner, or a change of owner)" if made else
                ", and this one it did not make (it has no pgscore.install_info): a schema of the database's owner, "
                "made before the install"),
            hint=("its owner renames or drops it (ALTER SCHEMA pgscore RENAME TO app_pgscore), then a superuser runs "
                  "pgscore install" if not made else
                  "restore the database as a superuser (docs/sql.md, 'Moving a database'), or, as a superuser, "
                  "check its functions and ALTER SCHEMA pgscore OWNER TO the superuser that installed it")
            + " (docs/operations.md, 'Who installs, and with what')")
    rows = execute(_TRUST, {"t": VERSION_TABLE, "p": f"public.{VERSION_TABLE}"})
    if not rows:
        return None
    name, owner, kind, triggers, me = rows[0]
    what = {"v": "a view", "m": "a materialized view", "f": "a foreign table", "p": "a partitioned table"}.get(
        kind, f"a table with {triggers} trigger(s)" if triggers else "a table")
    drop = "VIEW" if kind == "v" else "MATERIALIZED VIEW" if kind == "m" else "FOREIGN TABLE" if kind == "f" else "TABLE"
    return InstallError(
        f"{name}, pgscore's version table, is {what} owned by {owner}: reading or writing it could run code of "
        f"{owner}'s as {me}; nothing was done", sqlstate="42501",
        detail="the install makes it as a superuser, a plain table, in the schema public, which belongs to the "
               "database's owner (PostgreSQL 15): a schema's owner may drop it and make another of the name, a view "
               "or a table with a trigger, whose functions run as whoever reads or writes it (docs/operations.md, "
               "'Who installs, and with what')",
        hint=f"as a superuser, see what it is and who made it without reading it (\\d+ {name} in psql, and the "
             f"functions it calls), then make it again as the superuser, in one transaction: DROP {drop} {name}; "
             f"CREATE TABLE public.{VERSION_TABLE} (version_num varchar(32) PRIMARY KEY); INSERT INTO "
             f"public.{VERSION_TABLE} VALUES ('REVISION'); GRANT SELECT ON public.{VERSION_TABLE} TO pgscore_admin, "
             f"pgscore_app, pgscore_reader; REVISION being the head of the pgscore that installed or last upgraded "
             f"the schema (this one's is '{head()}'; another's environment prints its own: python -c 'from pgscore "
             "import migrate; print(migrate.head())')")


# the version table, by both names the checks read (_TRUST: unqualified, and in public), locked ACCESS SHARE as a
# read locks it (allowed on a standby and in a read-only transaction): its drop, and a view of the owner of public's
# made in its place, wait for the reader's transaction
_LOCK_VERSIONS = """DO $do$
BEGIN
    IF pg_catalog.to_regclass('public.pgscore_alembic_version') IS NOT NULL THEN
        LOCK TABLE public.pgscore_alembic_version IN ACCESS SHARE MODE;
    END IF;
    IF pg_catalog.to_regclass('pgscore_alembic_version') IS NOT NULL THEN
        LOCK TABLE pgscore_alembic_version IN ACCESS SHARE MODE;
    END IF;
END
$do$"""


def _checked_and_locked(execute) -> InstallError | None:
    """untrusted_version_table, then the table locked (_LOCK_VERSIONS) and checked again: a view swapped in between
    the first check and the read that follows it is refused, not read (current() since session 68; stale_revision(),
    lacking() and damage() since session 69, h4: each read it after one check, unlocked, and the view's function
    ran as the superuser). `execute` as untrusted_version_table's; the caller reads in the same transaction."""
    problem = untrusted_version_table(execute)
    if problem is not None:
        return problem
    execute(_LOCK_VERSIONS, None)
    return untrusted_version_table(execute)


def version_table_check(conn) -> InstallError | None:
    """untrusted_version_table through a SQLAlchemy connection."""
    return untrusted_version_table(lambda q, params: conn.exec_driver_sql(q, params).fetchall())


def version_table_checked_and_locked(conn) -> InstallError | None:
    """_checked_and_locked through a SQLAlchemy connection."""
    def execute(q, params):
        result = conn.exec_driver_sql(q, params)
        return result.fetchall() if result.returns_rows else None

    return _checked_and_locked(execute)


def _refuse_untrusted(cur) -> None:
    """_checked_and_locked through a psycopg2 cursor, raised."""
    def execute(q, params):
        cur.execute(q, params)
        return cur.fetchall() if cur.description is not None else None

    problem = _checked_and_locked(execute)
    if problem is not None:
        raise problem


# what a restore can leave of an install: the schema, whether PL/Python is there, the version table and its rows
_STATE = ("SELECT pg_catalog.to_regnamespace('pgscore') IS NOT NULL AS schema, EXISTS (SELECT 1 FROM "
          "pg_catalog.pg_language l WHERE l.lanname OPERATOR(pg_catalog.=) 'plpython3u') AS plpython, "
          "pg_catalog.to_regclass(:t) IS NOT NULL AS versions")


def damage(conn) -> InstallError | None:
    """What is wrong with a pgscore schema that a restore brought, before anything runs against it (a
    SQLAlchemy connection): no PL/Python (pg_dump -n leaves extensions out, and with them every function in
    it), or no revision recorded. None where there is no pgscore schema, or nothing wrong."""
    from sqlalchemy import func, select, table, text

    problem = version_table_checked_and_locked(conn)
    if problem is not None:
        return problem
    s = conn.execute(text(_STATE), {"t": VERSION_TABLE}).mappings().one()
    if not s["schema"]:
        return None
    if not s["plpython"]:
        return InstallError(
            "this database has a pgscore schema but no PL/Python (plpython3u), and so none of pgscore's "
            "PL/Python functions: a restore of a dump taken with pg_dump -n or --schema, which leaves extensions "
            "out", hint="as a superuser, CREATE EXTENSION plpython3u in the database, then restore the dump again "
                        "(pg_restore --clean --if-exists -d DB DUMP; or into a new database where you create the "
                        "extension first)")
    if not s["versions"]:
        return _unrecorded(missing=True)
    if not conn.execute(select(func.count()).select_from(table(VERSION_TABLE))).scalar():
        return _unrecorded(missing=False)
    return None


# which of the tables, views and functions a schema at head has (head_objects) this database lacks, in that order
_MISSING = """SELECT e.kind, e.name
  FROM ROWS FROM (pg_catalog.unnest(%(kinds)s::text[]), pg_catalog.unnest(%(names)s::text[])) WITH ORDINALITY
       AS e(kind, name, n)
 WHERE NOT CASE e.kind
       WHEN 'function' THEN (
           SELECT pg_catalog.count(*) FROM pg_catalog.pg_proc p
            WHERE p.pronamespace OPERATOR(pg_catalog.=) pg_catalog.to_regnamespace('pgscore')
              AND p.proname OPERATOR(pg_catalog.=) e.name)
           OPERATOR(pg_catalog.>=) COALESCE((%(forms)s::jsonb OPERATOR(pg_catalog.->>) e.name)::bigint, 1)
       ELSE EXISTS (
           SELECT 1 FROM pg_catalog.pg_class c
            WHERE c.relnamespace OPERATOR(pg_catalog.=) pg_catalog.to_regnamespace('pgscore')
              AND c.relname OPERATOR(pg_catalog.=) e.name
              AND c.relkind OPERATOR(pg_catalog.=) ANY (CASE e.kind WHEN 'table' THEN '{r,p}'::"char"[]
                                                         ELSE '{v,m}'::"char"[] END))
       END
 ORDER BY e.n"""


def lacking(cur) -> list[tuple[str, str]]:
    """(kind, name) of each table, view and function that a pgscore schema at this pgscore's head has
    (head_objects) and this database's lacks, through a psycopg2 cursor: a restore of a dump that left them out
    (pg_dump -T 'pgscore.prediction_log*' leaves out the audit log, and the five views that read it fail to
    restore). Empty where pgscore is not installed or its revision is not head (an upgrade makes what it lacks)."""
    import json

    from psycopg2 import sql

    from pgscore import head_objects

    _refuse_untrusted(cur)
    cur.execute("SELECT pg_catalog.to_regnamespace('pgscore') IS NOT NULL AND pg_catalog.to_regclass(%s) IS NOT NULL",
                (f"public.{VERSION_TABLE}",))
    if not cur.fetchone()[0]:
        return []
    cur.execute(sql.SQL("SELECT version_num FROM {}").format(sql.Identifier("public", VERSION_TABLE)))
    if [r for r, in cur.fetchall()] != [head()]:
        return []
    wanted = ([("table", n) for n in head_objects.TABLES] + [("view", n) for n in head_objects.VIEWS]
              + [("function", n) for n in head_objects.FUNCTIONS])
    cur.execute(_MISSING, {"kinds": [k for k, _ in wanted], "names": [n for _, n in wanted],
                           "forms": json.dumps(head_objects.FORMS)})
    return [tuple(r) for r in cur.fetchall()]


def missing_objects(url: str) -> list[tuple[str, str]]:
    """lacking() of the database `url` reaches."""
    import contextlib

    import psycopg2

    try:
        with contextlib.closing(connect_catalog_first(libpq_dsn(url))) as conn, conn.cursor() as cur:
            return lacking(cur)
    except psycopg2.Error as e:
        raise _explain(e, installing=False) from e


# the partitions (the log's, by the day: a partitioned table's dump has none of them) of the tables named
_PARTITIONS = """SELECT c.relname FROM pg_catalog.unnest(%s::text[]) AS m(name),
       pg_catalog.pg_partition_tree(pg_catalog.format('pgscore.%%I', m.name)::pg_catalog.regclass) t
  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) t.relid
 WHERE t.level OPERATOR(pg_catalog.>) 0"""

# the constraints of pgscore's tables but those named (which their dump makes), each with the statement that adds it
_CONSTRAINTS = """SELECT c.relname, k.conname,
       pg_catalog.format('ALTER TABLE %%I.%%I ADD CONSTRAINT %%I %%s', 'pgscore', c.relname, k.conname,
                         pg_catalog.pg_get_constraintdef(k.oid))
  FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) k.conrelid
 WHERE c.relnamespace OPERATOR(pg_catalog.=) pg_catalog.to_regnamespace('pgscore') AND NOT c.relispartition
   AND k.conparentid OPERATOR(pg_catalog.=) 0 AND c.relname OPERATOR(pg_catalog.<>) ALL (%s::text[])"""


# install --repair's scratch database (session 65): named so, marked by its comment, and locked for its life by the
# repair's session (an advisory lock of class SCRATCH_LOCK, keyed by the name's 8 hex digits). One a repair left
# behind (killed, its connection lost) is marked and no longer locked: the next install drops it
# (drop_leftover_scratch)
# (session 66) A repair killed between its CREATE DATABASE and its COMMENT left one unmarked, which no install
# dropped: the name says it is a repair's since (SCRATCH_NAMED, pgscore_repair_scratch_PID_HEX), and one of that name
# no repair holds is dropped marked or not, unmarked only where nobody is connected to it. The older name
# (SCRATCH_NAME: session 65's, or an earlier pgscore's) is dropped only marked, as before.
SCRATCH_NAME = re.compile(r"pgscore_repair_[0-9]+_[0-9a-f]{8}")
SCRATCH_NAMED = re.compile(r"pgscore_repair_scratch_[0-9]+_[0-9a-f]{8}")
SCRATCH_MARK = "pgscore install --repair: scratch database"
SCRATCH_LOCK = 0x70677363  # 'pgsc'
# (session 66) held by a repair of a database (an advisory lock of that database) from before it reads what is
# missing to its end: a second repair of it at once waits, then finds nothing missing (its psql failed with
# `relation ... already exists` on what the first had made)
REPAIR_LOCK = 0x70677364  # 'pgsd'


def _scratch_key(name: str) -> int:
    """The second key (an int4) of the advisory lock a repair holds on its scratch database `name`."""
    u = int(name[-8:], 16)
    return u - 2**32 if u >= 2**31 else u


def leftover_scratch(cur) -> tuple[list[str], list[str]]:
    """The scratch databases of pgscore install --repair left on this server: (marked as a repair's and held by no
    running repair: safe to drop; named as one but not marked, an earlier pgscore's or someone else's, and held by
    none: only to be named, with how to drop it if it is a repair's)."""
    return tuple([n for n, _ in names] for names in _leftover_scratch(cur))


def leftover_scratch_why(cur) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """leftover_scratch's lists, each name with why (pgscore status says why one is left: session 67)."""
    return _leftover_scratch(cur)


def _leftover_scratch(cur) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """leftover_scratch's lists, each name with why: (name, why) of those to drop, and of those only to name."""
    cur.execute("SELECT d.datname, pg_catalog.shobj_description(d.oid, 'pg_database'), EXISTS (SELECT 1 FROM "
                "pg_catalog.pg_stat_activity a WHERE a.datid OPERATOR(pg_catalog.=) d.oid) FROM pg_catalog.pg_database "
                "d WHERE d.datname OPERATOR(pg_catalog.~) '^pgscore_repair_(scratch_)?[0-9]+_[0-9a-f]{8}$' ORDER BY 1")
    found = cur.fetchall()
    if not found:
        return [], []
    cur.execute("SELECT l.objid::pg_catalog.int8 FROM pg_catalog.pg_locks l WHERE l.locktype OPERATOR(pg_catalog.=) "
                "'advisory' AND l.classid OPERATOR(pg_catalog.=) %s::pg_catalog.oid AND l.objsubid "
                "OPERATOR(pg_catalog.=) 2", (SCRATCH_LOCK,))
    held = {int(r[0]) for r in cur.fetchall()}
    drop, name = [], []
    for db, note, connected in found:
        if _scratch_key(db) % 2**32 in held:
            continue
        if (note or "").startswith(SCRATCH_MARK):
            drop.append((db, "marked"))
        elif SCRATCH_NAMED.fullmatch(db) and not connected:
            drop.append((db, "named as a repair's, made before its mark"))
        elif SCRATCH_NAMED.fullmatch(db):
            name.append((db, "not marked (its repair killed before it marked it, or not one), and somebody is "
                             "connected to it"))
        else:
            name.append((db, "not marked as a repair's scratch database (an earlier pgscore's, or not one)"))
    return drop, name


def drop_leftover_scratch(url: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Drop the scratch databases an interrupted pgscore install --repair left (leftover_scratch's first list):
    (those dropped, (name, why) of those named as one and left: not marked as a repair's, or the drop refused)."""
    import contextlib

    import psycopg2
    from psycopg2 import sql

    dropped, left = [], []
    with contextlib.closing(connect_catalog_first(libpq_dsn(url))) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            marked, left = _leftover_scratch(cur)
            for name, why in marked:
                # (FORCE for a marked one: a pg_dump the killed repair started may still be connected to it; not
                # for one only named so, dropped because nobody was connected to it: whoever connected since makes
                # the drop fail, and is not cut off: review r2 of session 66)
                force = sql.SQL(" WITH (FORCE)" if why == "marked" else "")
                try:
                    cur.execute(sql.SQL("DROP DATABASE IF EXISTS {}{}").format(sql.Identifier(name), force))
                    dropped.append(name)
                except psycopg2.Error as e:
                    left.append((name, f"{e.pgcode}: {str(e).strip().splitlines()[0]}"))
    return dropped, left


def repair(url: str) -> list[tuple[str, str]]:
    """Make the tables and views a database at head lacks (lacking) as a new install makes them, with their
    partitions, indexes, triggers, grants and comments: pgscore installed into a scratch database of the same
    server, those objects dumped from it (pg_dump --schema-only -t ...) and run here by psql in one transaction
    (ON_ERROR_STOP: all or nothing), the scratch database dropped. The rows here are not touched. Returns what
    was made (empty: nothing lacked). A missing function (each form of one overloaded) is made too, with its comment
    and grants, and with it the triggers of pgscore's tables here that called it (a restore that could not make the
    function could not make them): picked from a custom-format dump of the scratch database by pg_restore -L (session
    64; -t picks no function, and repair refused them)."""
    import contextlib
    import datetime
    import secrets
    import socket
    import threading

    import psycopg2

    from pgscore.localdb import sigterm_as_ctrl_c

    if not missing_objects(url):
        return []
    dsn = libpq_dsn(url)

    # (the name says it is a repair's scratch database, before its comment marks it: session 66)
    scratch = f"pgscore_repair_scratch_{os.getpid()}_{secrets.token_hex(4)}"  # (not another client's of the PID)
    admin = connect_catalog_first(dsn)
    admin.autocommit = True
    # a SIGTERM (a scheduler's stop) unwinds as Ctrl-C does, so that the scratch database is dropped below (it was
    # left behind); what is killed outright, or loses its connection, leaves it to the next install to drop
    terms = sigterm_as_ctrl_c() if threading.current_thread() is threading.main_thread() else contextlib.nullcontext()
    try:
        with terms:
            _one_repair_at_a_time(admin)
            missing = missing_objects(url)  # (again: a repair that ran meanwhile made them)
            if not missing:
                return []
            functions = [n for k, n in missing if k == "function"]
            with admin.cursor() as cur:
                # held by this session while the scratch database lives: a leftover is one no session holds it for
                cur.execute("SELECT pg_catalog.pg_advisory_lock(%s, %s)", (SCRATCH_LOCK, _scratch_key(scratch)))
                cur.execute("SELECT pg_catalog.current_database(), current_user")
                target, who = cur.fetchone()
            mark = (f"{SCRATCH_MARK} of database {target}, made by {who} from {socket.gethostname()} (process "
                    f"{os.getpid()}) at {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M:%S} UTC; "
                    "dropped at the repair's end, else (the repair killed, its connection lost) by the next "
                    "pgscore install")
            _repair_in(scratch, mark, dsn, admin, missing, functions)
    except psycopg2.Error as e:
        raise _explain(e) from e
    finally:
        admin.close()
    return missing


def _one_repair_at_a_time(admin) -> None:
    """Take this database's REPAIR_LOCK for `admin`'s session (held to its end); where another repair holds it,
    say so on stderr and wait, polling, so that Ctrl-C and a SIGTERM stop the wait (session 66)."""
    import time

    with admin.cursor() as cur:
        said = False
        while True:
            cur.execute("SELECT pg_catalog.pg_try_advisory_lock(%s, 0)", (REPAIR_LOCK,))
            if cur.fetchone()[0]:
                return
            if not said:
                cur.execute("SELECT string_agg(l.pid::text, ', ') FROM pg_catalog.pg_locks l WHERE l.locktype "
                            "OPERATOR(pg_catalog.=) 'advisory' AND l.classid OPERATOR(pg_catalog.=) %s::pg_catalog.oid "
                            "AND l.objid OPERATOR(pg_catalog.=) 0 AND l.database OPERATOR(pg_catalog.=) (SELECT d.oid "
                            "FROM pg_catalog.pg_database d WHERE d.datname OPERATOR(pg_catalog.=) "
                            "pg_catalog.current_database()) AND l.granted", (REPAIR_LOCK,))
                pids = cur.fetchone()[0] or "?"
                print(f"pgscore: note: another pgscore install --repair of this database runs (server process "
                      f"{pids}); waiting for it to end, then repairing what is still missing", file=sys.stderr,
                      flush=True)
                said = True
            time.sleep(0.2)


def _repair_in(scratch, mark, dsn, admin, missing, functions) -> None:
    """repair's work in its scratch database (made here, with its comment `mark`): dropped at the end, also on an
    error, Ctrl-C or SIGTERM (by a fresh connection where the repair's own is lost; else said, and the next install
    drops it)."""
    import contextlib
    import subprocess

    import psycopg2
    from psycopg2 import sql
    from psycopg2.extensions import make_dsn, parse_dsn

    from pgscore.localdb import pg_bin_dir

    try:
        with admin.cursor() as cur:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(scratch)))
            cur.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(scratch), sql.Literal(mark)))
        scratch_dsn = make_dsn(dsn, dbname=scratch)
        upgrade(scratch_dsn, check_environment=False)
        # each by its exact name, a table with its partitions (a pattern `drift_rollup*` took drift_rollup_day)
        with contextlib.closing(connect_catalog_first(scratch_dsn)) as conn, conn.cursor() as cur:
            cur.execute(_PARTITIONS, ([n for k, n in missing if k == "table"],))
            names = ([f"pgscore.{n}" for k, n in missing if k != "function"]
                     + [f"pgscore.{r}" for r, in cur.fetchall()])
            cur.execute(_CONSTRAINTS, ([n for k, n in missing if k == "table"],))
            constraints = cur.fetchall()
        with contextlib.closing(connect_catalog_first(dsn)) as conn, conn.cursor() as cur:
            cur.execute(_CONSTRAINTS, ([],))  # (the keys of the tables here that pointed at one lost with it)
            here = {(t, c) for t, c, _ in cur.fetchall()}
            cur.execute(_SIGNATURES)
            ours = [typed for typed, _ in cur.fetchall()]
            cur.execute(_OWNER)
            owner, = cur.fetchone()
        keys = "".join(f"{add};\n" for t, c, add in constraints if (t, c) not in here)
        # what is made is owned as pgscore's schema is here, not by the role that runs the repair (its scratch
        # install's owner: review r4, a DBA's own superuser login owned the SECURITY DEFINER functions it made)
        with contextlib.closing(connect_catalog_first(scratch_dsn)) as conn, conn.cursor() as cur:
            cur.execute(_OWNERS, {"names": [n.removeprefix("pgscore.") for n in names], "ours": ours,
                                  "owner": owner})
            owners = "".join(f"{alter}\n" for alter, in cur.fetchall())
        picks = [a for n in names for a in ("-t", n)]
        # a password goes by the environment: a command line is anyone's to read (ps, /proc/PID/cmdline)
        options = parse_dsn(dsn)
        password = options.pop("password", None)
        env = {**os.environ, **({"PGPASSWORD": password} if password is not None else {})}
        routines = (_routines(scratch_dsn, dsn, [n for k, n in missing if k == "table"], env,
                              make_dsn(**{**options, "dbname": scratch})) if functions else ("", ""))
        dump = subprocess.CompletedProcess([], 0, "", "")
        if picks:
            dump = subprocess.run([str(pg_bin_dir() / "pg_dump"), *picks,  # (with the rows a new install gives)
                                   "-d", make_dsn(**{**options, "dbname": scratch})],
                                  capture_output=True, text=True, env=env)
        if dump.returncode != 0:
            raise InstallError("repairing pgscore failed: pg_dump of the scratch database failed; nothing was "
                               "changed", detail=dump.stderr.strip())
        # the functions first (their dump does not check their bodies), then the tables and views, which may
        # call them, then the triggers that called them on the tables that were here
        fix = subprocess.run([str(pg_bin_dir() / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-1",
                              "-d", make_dsn(**options)],
                             input=routines[0] + dump.stdout + keys + routines[1] + owners, capture_output=True,
                             text=True,
                             env=env)
        if fix.returncode != 0:
            raise InstallError("repairing pgscore failed; nothing was changed", detail=fix.stderr.strip())
    finally:
        drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(scratch))
        try:
            with admin.cursor() as cur:
                cur.execute(drop)
        except psycopg2.Error:  # (its connection lost: another, else the next install drops it)
            try:
                with contextlib.closing(connect_catalog_first(dsn)) as conn:
                    conn.autocommit = True
                    with conn.cursor() as cur:
                        cur.execute(drop)
            except psycopg2.Error as e:
                print(f"pgscore: note: the repair's scratch database {scratch} could not be dropped "
                      f"({str(e).strip().splitlines()[0]}): the next pgscore install drops it, or DROP DATABASE "
                      f"{scratch} WITH (FORCE)", file=sys.stderr)


# pgscore's functions, each form by its signature as pg_dump's list names it (`name(type, type)`), and the triggers of
# its tables (by table and trigger name)
# (and as its comment and grants name it there: `name(p_a type, ...)`)
_SIGNATURES = """SELECT p.proname OPERATOR(pg_catalog.||) '(' OPERATOR(pg_catalog.||) pg_catalog.array_to_string(ARRAY(
           SELECT pg_catalog.format_type(a.t, NULL) FROM pg_catalog.unnest(p.proargtypes::pg_catalog.oid[])
                  WITH ORDINALITY AS a(t, i) ORDER BY a.i), ', ') OPERATOR(pg_catalog.||) ')',
       p.proname OPERATOR(pg_catalog.||) '(' OPERATOR(pg_catalog.||)
           pg_catalog.pg_get_function_identity_arguments(p.oid) OPERATOR(pg_catalog.||) ')'
  FROM pg_catalog.pg_proc p WHERE p.pronamespace OPERATOR(pg_catalog.=) pg_catalog.to_regnamespace('pgscore')"""
# the owner of the pgscore schema here (its objects' owner), and the statements that give it the objects a repair makes:
# the tables and views named (their partitions among them) and the functions whose signatures are not among `ours`
_OWNER = "SELECT n.nspowner::pg_catalog.regrole::pg_catalog.text FROM pg_catalog.pg_namespace n WHERE n.nspname " \
         "OPERATOR(pg_catalog.=) 'pgscore'"
_OWNERS = """SELECT pg_catalog.format('ALTER %%s %%s OWNER TO %%s;', CASE WHEN c.relkind OPERATOR(pg_catalog.=) 'v'
           THEN 'VIEW' WHEN c.relkind OPERATOR(pg_catalog.=) 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
           pg_catalog.format('%%I.%%I', 'pgscore', c.relname), %(owner)s)
  FROM pg_catalog.pg_class c
 WHERE c.relnamespace OPERATOR(pg_catalog.=) pg_catalog.to_regnamespace('pgscore')
   AND c.relname OPERATOR(pg_catalog.=) ANY (%(names)s::text[]) AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p,v,m}')
UNION ALL
SELECT pg_catalog.format('ALTER ROUTINE %%s OWNER TO %%s;', s.p::pg_catalog.regprocedure, %(owner)s)
  FROM (""" + _SIGNATURES.replace("SELECT p.proname", "SELECT p.oid AS p, p.proname", 1).replace("%", "%%") + """)
       AS s(p, typed, named)
 WHERE s.typed OPERATOR(pg_catalog.<>) ALL (%(ours)s::text[])"""
_TRIGGERS = """SELECT c.relname, t.tgname FROM pg_catalog.pg_trigger t
  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) t.tgrelid
 WHERE c.relnamespace OPERATOR(pg_catalog.=) pg_catalog.to_regnamespace('pgscore') AND NOT t.tgisinternal"""


def _routines(scratch_dsn, dsn, tables_missing, env, scratch_cmd) -> tuple[str, str]:
    """(the SQL that makes each form of pgscore's functions that the scratch install has and this database lacks, with
    its comment and grants; the SQL that makes the triggers of pgscore's tables here that the scratch has and they
    lack): entries of pg_restore's list of a custom-format dump of the scratch database, picked by their names."""
    import contextlib
    import subprocess
    import tempfile

    import psycopg2

    from pgscore.localdb import pg_bin_dir

    def read(d):
        with contextlib.closing(connect_catalog_first(d)) as conn, conn.cursor() as cur:
            cur.execute(_SIGNATURES)
            sigs = set(cur.fetchall())
            cur.execute(_TRIGGERS)
            return sigs, set(cur.fetchall())

    (new_sigs, new_trigs), (our_sigs, our_trigs) = read(scratch_dsn), read(dsn)
    ours = {typed for typed, _ in our_sigs}
    sigs = {name for typed, named in new_sigs if typed not in ours for name in (typed, named)}
    trigs = {f"{t} {g}" for t, g in new_trigs - our_trigs if t not in tables_missing}
    with tempfile.TemporaryDirectory() as tmp:
        archive = os.path.join(tmp, "scratch.dump")
        dump = subprocess.run([str(pg_bin_dir() / "pg_dump"), "-Fc", "--schema-only", "-n", "pgscore", "-f", archive,
                               "-d", scratch_cmd], capture_output=True, text=True, env=env)
        if dump.returncode != 0:
            raise InstallError("repairing pgscore failed: pg_dump of the scratch database failed; nothing was "
                               "changed", detail=dump.stderr.strip())
        def restore(*args):  # (its failure is repair's, said as pg_dump's is: not a CalledProcessError's traceback)
            run = subprocess.run([str(pg_bin_dir() / "pg_restore"), *args, archive], capture_output=True, text=True,
                                 env=env)
            if run.returncode != 0:
                raise InstallError("repairing pgscore failed: pg_restore of the scratch database's dump failed; "
                                   "nothing was changed", detail=run.stderr.strip())
            return run.stdout

        listing = restore("-l")
        # `id; oid oid FUNCTION pgscore name(types) owner`; its COMMENT and ACL as `... COMMENT pgscore FUNCTION
        # name(types) owner`; a trigger `... TRIGGER pgscore table trigger owner`
        entry = re.compile(r"^\d+; \d+ \d+ (FUNCTION|PROCEDURE|COMMENT|ACL|TRIGGER) pgscore "
                           r"(?:(?:FUNCTION|PROCEDURE) )?(.*) \S+$")
        made, triggers = [], []
        for line in listing.splitlines():
            m = entry.match(line)
            if m is None:
                continue
            if m.group(1) == "TRIGGER":
                if m.group(2) in trigs:
                    triggers.append(line)
            elif m.group(2) in sigs:
                made.append(line)

        def sql(lines):
            if not lines:
                return ""
            listed = os.path.join(tmp, "picked.list")
            with open(listed, "w", encoding="utf-8") as f:
                f.write("\n".join(lines) + "\n")
            return restore("-L", listed, "-f", "-")

        return sql(made), sql(triggers)


def lacking_error(missing: list[tuple[str, str]]) -> InstallError:
    """What status and install say of a schema at head that lacks some of its objects: which, the likely cause,
    and the way out (docs/operations.md, 'Backups')."""
    names = ", ".join(f"{kind} pgscore.{name}" for kind, name in missing)
    relations = [(k, n) for k, n in missing if k != "function"]
    from pgscore import head_objects

    def pick(kind, name):  # a table with its partitions (the log's, by the day), but not a table named like them
        alike = [o for o in head_objects.TABLES + head_objects.VIEWS if o.startswith(f"{name}_")]
        return f"-t pgscore.{name}" + (f" -t 'pgscore.{name}_*'" if kind == "table" and not alike else "")

    picks = " ".join(pick(k, n) for k, n in relations)
    # (functions too since session 64: repair picks them from a custom-format dump; by hand, tables and views alone)
    remake = ("; or make the missing tables and views as a new install makes them, keeping the rows you have: "
              f"{command('install --repair')} (a scratch database installed and dropped for it), or by hand: "
              f"createdb pgscore_scratch; {command('install --db postgresql:///pgscore_scratch')}; pg_dump "
              f"{picks} -d pgscore_scratch | psql -X -v ON_ERROR_STOP=1 -1 -d THIS_DATABASE; "
              "dropdb pgscore_scratch (docs/operations.md, 'Backups')"
              if relations and len(relations) == len(missing) else
              "; or make them as a new install makes them, keeping the rows you have: "
              f"{command('install --repair')} (a scratch database installed and dropped for it; the functions with "
              "their grants and the triggers of pgscore's tables that called them)")
    return InstallError(
        f"this database's pgscore schema is at revision {head()} but lacks some of its objects: {names}. It was "
        "most likely restored from a dump that left them out (pg_dump -T, -t, -n or a pg_restore -L list: "
        "pg_dump -T 'pgscore.prediction_log*' leaves out the audit log, and with it the views that read it), or "
        "from a restore that failed part way; scoring fails until they are there", sqlstate="42P01",
        hint="restore again, into a new database, from a dump that keeps them (to leave the audit log's rows out, "
        "pg_dump --exclude-table-data='pgscore.prediction_log*', which keeps its definition)" + remake)


def _explain(exc: Exception, installing=True) -> PgscoreError:
    """One paragraph that names what is wrong and how to fix it; `installing` False for a command that only
    reads what is installed (a role without pgscore's grants is then told it may not read it, not that
    install needs a superuser)."""
    msg = str(getattr(exc, "orig", None) or exc).strip()
    low = msg.lower()
    problem = connect_problem(msg)
    if problem is not None:
        # (libpq's first line, as the other commands say it: database_error_text; the lines after it are libpq's
        # own hint, "Is the server running ...", which the hint says better)
        return InstallError(cannot_connect(last_attempt(msg).splitlines()[0].strip()), hint=problem)
    if not installing:
        if "permission denied" in low:  # the command line adds the role the command needs
            return PgscoreError(f"permission denied reading pgscore's schema: {msg.splitlines()[0]}", sqlstate="42501")
        return PgscoreError("reading pgscore's schema failed", detail=msg)
    if "plpython3u" in low and ("control file" in low or "is not available" in low):
        return InstallError("the database server has no PL/Python (plpython3u)", detail=msg,
                            hint="install postgresql-plpython3-15 on the server, then run the install again")
    if "permission denied to create extension" in low or ("plpython3u" in low and "permission denied" in low):
        return InstallError("pgscore install needs a superuser: PL/Python (plpython3u) is an untrusted "
                            "language, and only a superuser may create it or functions in it", detail=msg,
                            hint="run the install as a superuser (e.g. --db postgresql://postgres@host/db); "
                            "afterwards grant pgscore_app, pgscore_reader or pgscore_admin to your roles")
    if "permission denied" in low or "must be owner of" in low:  # a login without the rights, say a pgscore role's
        return InstallError("pgscore install needs a superuser: it creates PL/Python (untrusted) functions, three "
                            "roles and their grants, and checks the server's Python", detail=msg,
                            hint="run the install as a superuser (e.g. --db postgresql://postgres@host/db); "
                            "afterwards grant pgscore_app, pgscore_reader or pgscore_admin to your roles")
    if getattr(getattr(exc, "orig", None), "pgcode", None) == "55P03" or "lock timeout" in low:
        return InstallError("installing pgscore waited too long for a lock another session holds on one of "
                            "pgscore's tables; nothing was changed", detail=msg,
                            hint="find the session in pg_stat_activity (a transaction left open after it used "
                                 "pgscore: state 'idle in transaction'), let it end, and run the install again; "
                                 "or wait longer with --lock-timeout (0: for ever; sessions that use the table "
                                 "wait behind the install meanwhile)")
    if getattr(getattr(exc, "orig", None) or exc, "pgcode", None) == "40P01":  # (run_frozen's: psycopg2's own)
        return _deadlocked("installing pgscore", msg)
    if 'schema "public" does not exist' in low:  # (dropped: env.py makes the version table there, by that name)
        return InstallError(f"pgscore keeps its version table, public.{VERSION_TABLE}, in the schema public, which "
                            "this database has not; nothing was changed", sqlstate="3F000", detail=msg,
                            hint="as a superuser, CREATE SCHEMA public (a superuser's own: the database's owner may "
                                 "then neither drop the version table nor rename the schema), then run the install "
                                 "again (docs/operations.md, 'Who installs, and with what')")
    if 'schema "pgscore" already exists' in low:  # installed, and its version table dropped since
        return _unrecorded(missing=True, detail=msg)
    if "can't locate revision identified by" in low:
        return _newer(msg)
    if "cannot be imported by the database's python" in low:
        from pgscore.localdb import import_fix

        return InstallError("the database server's Python cannot import pgscore; nothing was changed", detail=msg,
                            hint=import_fix() + ", then run the install again")
    step = failed_step(exc)
    if step is None:
        return InstallError("installing pgscore failed; nothing was changed", detail=msg)
    hint = None
    if getattr(getattr(exc, "orig", None) or exc, "pgcode", None) in _MISMATCH:
        # a database built by a pgscore between releases: a revision's text was changed after that commit (0033's,
        # 0060's), so the schema at the revision it records is not what that revision builds now
        hint = (f"this database's pgscore objects are not what the revisions before {step[0]} build: a pgscore of a "
                "commit between releases built it (a revision's SQL was changed after that commit), or they were "
                "changed by hand. With the pgscore that built it, downgrade it to a revision before the ones that "
                "differ (alembic -x db_url=... downgrade REVISION), then run this install again; or restore the "
                "data into a database this release installed")
    return InstallError(f"installing pgscore failed in revision {step[0]} ({step[1]}); nothing was changed",
                        detail=msg, hint=hint)


def connect_problem(msg: str) -> str | None:
    """The hint for libpq's message when a connection could not be made (None: it was made): what to check
    for a wrong password or database name, how to start a local server for one that is not running."""
    low = msg.lower().strip()
    # a value of libpq's variables that libpq itself refuses, before it connects: PGSERVICE not in the service file,
    # PGPORT=99999, PGSSLMODE=bogus (else said bare: `definition of service "nope" not found`)
    if _from_environment and re.match(r'(definition of service "|service file "|invalid [a-z_ ]*(value|number)'
                                      r'|could not match \d+ (host names|port numbers))', low):
        named = [v for v in sorted(os.environ) if v.startswith("PG") and not v.startswith("PGSCORE_")
                 and v not in ("PGPASSWORD", "PGPASSFILE", "PGAPPNAME") and os.environ[v].strip()]  # PGSSLMODE's too
        # (PGAPPNAME: libpq takes any value, and the CLI sets it to its own command's name since session 68)
        hint = f"libpq refused one of its variables ({', '.join(named)}): correct it or unset it"
        if low.startswith(("definition of service", "service file")):
            hint += "; PGSERVICE names a section of PGSERVICEFILE's file (else ~/.pg_service.conf)"
        return hint
    if not low.startswith(("connection to server", "could not connect", "could not translate host")):
        return None  # (libpq's words for a connection it could not make begin so)
    if _from_environment and database_holds_a_connection_string():
        value = os.environ["PGDATABASE"]
        hidden = " (its password written **** above)" if without_password(value) != value else ""
        return (f"PGDATABASE holds a connection string{hidden}, which libpq reads as a database's name, not where the "
                "server is: give the string by --db or PGSCORE_DATABASE_URL instead, or its parts by PGHOST, PGPORT, "
                "PGUSER and PGDATABASE (the password by PGPASSWORD or ~/.pgpass)")
    fatal = low.partition("fatal:")[2]  # what the server said, if it answered (not the host's name)
    # where the user, password, database, host and port came from: --db or the variable, or libpq's own variables
    src = f"libpq's variables ({', '.join(server_variables())})" if _from_environment else "--db / PGSCORE_DATABASE_URL"
    if "password authentication failed" in fatal or "no password supplied" in low:
        # (a password in a URL shows in ps, and a command a hint prints leaves it out: libpq's own places for it)
        hint = ("check the user and password: the user in PGUSER, the password in PGPASSWORD or ~/.pgpass "
                "(PGPASSFILE names another file)" if _from_environment
                else f"check the user and password in {src}; give the password by PGPASSWORD or in ~/.pgpass "
                "(PGPASSFILE names another file) rather than in the URL, which ps shows")
        if "no password supplied" in low:
            hint = f"the server asks for a password and none was given: {hint}"
        # a server on this machine may be an embedded cluster, whose password is generated: its URL says it
        if re.match(r'(connection to server at|could not connect to server at) "(127\.[\d.]+|localhost|::1)"', low):
            hint += (f"; for an embedded cluster (pgscore db start), {command('db url --tcp')} [--data-dir DIR] "
                     "prints its URL with the generated password")
        return hint
    if re.search(r'role "[^"]*" does not exist', fatal):
        return "check the user in PGUSER" if _from_environment else f"check the user in {src}"
    if re.search(r'database "[^"]*" does not exist', fatal):
        return (f"check the database name in {src} (or create it, then: "
                + command("install" if _from_environment else "install --db URL") + ")")
    if "pg_hba.conf" in fatal:
        return (f"the server refuses this host, user or database (its pg_hba.conf): check {src}, or ask its "
                "administrator")
    if fatal.strip():  # too many clients, starting up, shutting down...: the server's own words say
        return "the server refused the connection, for the reason it gives above"
    # the socket of an embedded cluster (DIR/run/.s.PGSQL.N): that cluster is stopped, and a bare `db start`
    # would start another ($PGSCORE_DATA_DIR's, or the default one)
    socket = re.search(r'on socket "(.+)/\.s\.PGSQL\.\d+"', msg)
    if socket:
        from pathlib import Path

        from pgscore.localdb import STATE_FILE

        data_dir = Path(socket.group(1)).parent
        try:
            embedded = (data_dir / STATE_FILE).exists()
        except OSError:
            embedded = False
        if embedded:
            return f"the embedded cluster in {data_dir} is not running: start it with: " + command("db start", data_dir)
    if _from_environment:
        # (a shell's PGPORT or PGHOST set for something else now comes before the default embedded cluster: say so)
        from pgscore.localdb import STATE_FILE, builtin_data_dir

        default = builtin_data_dir()
        try:
            ours = (default / STATE_FILE).exists()
        except OSError:
            ours = False
        if ours:
            return (f"is the server running? check the host and port in {src}; they come before the embedded "
                    f"cluster in {default}: to use it, unset them, or export "
                    f"PGSCORE_DATA_DIR={shlex.quote(str(default))}")
        return f"is the server running? check the host and port in {src}"
    return ("is the server running? check the host and port in --db / PGSCORE_DATABASE_URL; for the embedded "
            "one run: " + command("db start"))


# an upgrade or uninstall locks pgscore's tables one after another, each to the end of its transaction: a client's
# transaction of several statements that holds one of them and asks for another then deadlocks with it, and
# PostgreSQL cancels one of the two (40P01): measured, 3 of 4 clients' transactions (an INSERT into a wired table,
# then a score) during an upgrade from 0040; or the install, where it waited first
DEADLOCK_HINT = ("run it again; if it keeps failing so, run it when fewer transactions use pgscore (an "
                 "application's transaction cancelled by such a deadlock fails with 40P01 and may be retried)")


def _deadlocked(what: str, detail: str) -> InstallError:
    """An install, upgrade or uninstall that PostgreSQL cancelled to end a deadlock (40P01, DEADLOCK_HINT)."""
    return InstallError(f"{what} failed: a deadlock with another session's transaction that uses pgscore, which "
                        "PostgreSQL ended by cancelling it; nothing was changed", detail=detail, hint=DEADLOCK_HINT)

LOCK_TIMEOUT = "10s"  # how long an install waits for a lock another session holds on pgscore's tables

# plain alembic (env.py's own engine) where nothing set lock_timeout (the server's default, 0: for ever): LOCK_TIMEOUT,
# as pgscore's commands (session 68). A revision waiting in the queue for a table a long reader holds (a BI query of
# pgscore.models) held every query of that table that came after behind it for as long, a dashboard's with it; a
# lock_timeout that a DBA set (postgresql.conf, ALTER ROLE or DATABASE ... SET, PGOPTIONS, a SET) is kept
_PLAIN_LOCK_TIMEOUT = ("SELECT pg_catalog.set_config('lock_timeout', :t, true) FROM pg_catalog.pg_settings s "
                       "WHERE s.name OPERATOR(pg_catalog.=) 'lock_timeout' AND s.source OPERATOR(pg_catalog.=) 'default'")


def bound_lock_wait(conn) -> None:
    """In the migration's transaction (env.py): lock_timeout LOCK_TIMEOUT where the session has the server's default."""
    from sqlalchemy import text

    conn.execute(text(_PLAIN_LOCK_TIMEOUT), {"t": LOCK_TIMEOUT})


def upgrade(url: str, revision: str = "head", check_environment: bool = True,
            lock_timeout: str = LOCK_TIMEOUT) -> dict | None:
    """alembic upgrade in one transaction, then validate_environment() in the same one.

    Any failure rolls everything back and is raised as one InstallError.
    Returns what validate_environment() reported (None when not checked). A revision that alters a table
    waits for the sessions using it, and sessions that come after wait behind it: `lock_timeout` (as
    PostgreSQL reads it; '0' waits for ever) bounds that wait, and the install then fails, changing nothing.
    """
    from alembic import command
    from sqlalchemy import text

    cfg = alembic_config(url)
    report = None
    engine = create_engine(url)
    try:
        try:
            with engine.connect() as conn, conn.begin():
                cfg.attributes["connection"] = conn
                conn.execute(text("SELECT pg_catalog.set_config('lock_timeout', :t, true)"), {"t": lock_timeout})
                problem = damage(conn)
                if problem is not None:
                    raise problem
                with conn.connection.cursor() as cur:  # (at head, what a restore left out: nothing would make it)
                    missing = lacking(cur)
                if missing:
                    raise lacking_error(missing)
                _forget_a_stale_revision(conn)
                command.upgrade(cfg, revision)
                if check_environment:
                    report = execute_script(conn, "SELECT pgscore.validate_environment()")[0]
                    problem = other_release(report, embedded_data_dir(conn))
                    if problem is not None:
                        raise InstallError(problem[0] + "; nothing was changed", detail=problem[1],
                                           hint=problem[2] + ", then run the install again")
        finally:
            engine.dispose()
    except InstallError:
        raise
    except Exception as e:  # noqa: BLE001 - every failure becomes one clear paragraph
        raise _explain(e) from e
    return report


def other_release(report, embedded=None) -> tuple[str, str, str] | None:
    """Where the server's Python runs another release's pgscore code than this one (from `report`, what
    validate_environment() returned): what is wrong, where the server imports it from, and what to do. An
    install from a new release while the server ran the old one's code succeeded, and every deploy then
    failed: both may say version 0.1.0, the schema revision each knows tells them apart. None where the server
    runs this release's code. `embedded`: the data directory of an embedded cluster the server is
    (embedded_data_dir), restarted by `db stop` and `db start` of this release."""
    import json

    import pgscore
    from pgscore.localdb import import_fix

    info = json.loads(report) if isinstance(report, str) else report
    theirs, ours = info.get("head"), head()
    if theirs == ours:
        return None
    if theirs is None or theirs < ours:  # code from before its report named its head is older than this
        what = ("an older release's pgscore code, from before pgscore reported the schema revision it knows"
                if theirs is None else f"an older release's pgscore code, which knows schema revisions up to {theirs}")
        if embedded is not None:  # (installing into the environment it imports would lose the way back)
            fix = (f"restart the cluster with this release: {command('db stop', embedded)} then "
                   f"{command('db start', embedded)} (it then imports this environment's pgscore; the older "
                   "environment stays as it is, the way back)")
        else:
            fix = ("to have it import this environment (built beside the one it imports now, which stays as the "
                   "way back: docs/operations.md, 'Upgrading'), " + import_fix())
    else:
        what = f"a newer release's pgscore code, which knows schema revisions up to {theirs}"
        fix = ("install with the pgscore of the release the server runs (its environment's pgscore command); or, "
               "to have it import this environment, " + import_fix())
    same = (f"; both say version {info.get('pgscore')}" if info.get("pgscore") == pgscore.__version__ else
            f"; it says version {info.get('pgscore')}, this one {pgscore.__version__}")
    return (f"the database server runs {what}, this pgscore up to {ours}{same}",
            f"the server imports pgscore from {info.get('pgscore_path')}", fix)


def embedded_data_dir(conn):
    """The data directory of the server `conn` reaches where it is an embedded cluster (pgscore db start made
    it, on this host), else None (or where this role may not read the setting)."""
    from pgscore.localdb import STATE_FILE
    from sqlalchemy import text

    where = conn.execute(text("SELECT s.setting FROM pg_catalog.pg_settings s "
                              "WHERE s.name OPERATOR(pg_catalog.=) 'data_directory'")).scalar()
    try:
        return Path(where) if where and (Path(where) / STATE_FILE).is_file() else None
    except OSError:
        return None


def refused_by_your_objects(e: BaseException) -> str | None:
    """A migration run by plain alembic (`alembic downgrade 0019`) that objects outside pgscore stopped
    (2BP01: a view of the user's on a view a downgrade drops and makes again, a rescoring trigger): the server's
    message and DETAIL, which name them, with what to do; a revision's own hint where it gives one (0021's
    names the views), never the server's "DROP ... CASCADE", which drops the user's objects and, run on
    pgscore's, breaks the install. None for any other error."""
    orig = getattr(e, "orig", None) or e  # SQLAlchemy's wrapper, or psycopg2's own error (run_frozen)
    diag = getattr(orig, "diag", None)
    if getattr(orig, "pgcode", None) != "2BP01" or diag is None:
        return None
    hint = diag.message_hint
    if not hint or "CASCADE" in hint:
        hint = ("pgscore drops nothing of yours: keep the definition of each view of yours the Detail line names "
                "(SET search_path = pg_catalog, public; SELECT pg_catalog.pg_get_viewdef("
                "'public.my_view'::pg_catalog.regclass, true): pg_catalog first, as pg_get_viewdef runs a query of its "
                "own on the session's search_path), drop it, run the migration again, then create the view again; a "
                "rescoring trigger goes with SELECT pgscore.detach_rescoring('event_table')")
    lines = [f"pgscore's migration stopped, and nothing was changed: {diag.message_primary}"]
    if diag.message_detail:
        lines.append(f"Detail: {diag.message_detail}")
    return "\n".join([*lines, f"Hint: {hint}"])


# what refuses an uninstall (the first revision's downgrade checks it last, after every later revision's
# downgrade has locked and changed pgscore's tables): objects outside pgscore that depend on it, as a rescoring
# trigger on an event table does. Checked first, from the catalogs alone: under traffic the downgrades before
# it waited for the sessions using pgscore, held up every session after, and could deadlock with a client's
# statement (40P01, the client's or the uninstall's), to be refused in the end all the same
_DEPENDENTS = """DO $do$
DECLARE
    v_schema oid := pg_catalog.to_regnamespace('pgscore');
    v_dependents text;
BEGIN
    IF v_schema IS NULL THEN
        RETURN;
    END IF;
    WITH ours AS (
        SELECT 'pg_catalog.pg_class'::pg_catalog.regclass AS classid, c.oid AS objid
          FROM pg_catalog.pg_class c WHERE c.relnamespace OPERATOR(pg_catalog.=) v_schema
        UNION ALL
        SELECT 'pg_catalog.pg_proc'::pg_catalog.regclass, p.oid
          FROM pg_catalog.pg_proc p WHERE p.pronamespace OPERATOR(pg_catalog.=) v_schema
        UNION ALL
        SELECT 'pg_catalog.pg_type'::pg_catalog.regclass, t.oid
          FROM pg_catalog.pg_type t WHERE t.typnamespace OPERATOR(pg_catalog.=) v_schema
    ), dependents AS (
        SELECT DISTINCT pg_catalog.pg_describe_object(d.classid, d.objid, 0) AS what
          FROM pg_catalog.pg_depend d
          JOIN ours o ON d.refclassid OPERATOR(pg_catalog.=) o.classid AND d.refobjid OPERATOR(pg_catalog.=) o.objid
         WHERE d.deptype OPERATOR(pg_catalog.=) 'n'
           AND NOT EXISTS (SELECT 1 FROM ours o2 WHERE o2.classid OPERATOR(pg_catalog.=) d.classid
                              AND o2.objid OPERATOR(pg_catalog.=) d.objid)
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_rewrite r
                            WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass
                              AND r.oid OPERATOR(pg_catalog.=) d.objid AND r.ev_class IN (SELECT objid FROM ours))
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t
                            WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_trigger'::pg_catalog.regclass
                              AND t.oid OPERATOR(pg_catalog.=) d.objid AND t.tgrelid IN (SELECT objid FROM ours))
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k
                            WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_constraint'::pg_catalog.regclass
                              AND k.oid OPERATOR(pg_catalog.=) d.objid AND k.conrelid IN (SELECT objid FROM ours))
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attrdef a
                            WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_attrdef'::pg_catalog.regclass
                              AND a.oid OPERATOR(pg_catalog.=) d.objid AND a.adrelid IN (SELECT objid FROM ours))
    )
    SELECT pg_catalog.string_agg(what, ', ' ORDER BY what) INTO v_dependents FROM dependents;
    IF v_dependents IS NOT NULL THEN
        RAISE EXCEPTION 'cannot remove pgscore: objects outside it depend on it: %', v_dependents
            USING ERRCODE = 'dependent_objects_still_exist',
                  HINT = 'drop or detach them first; pgscore removes only what it created';
    END IF;
END
$do$"""


# the statement uninstall's hint gives a superuser to paste into psql: every catalog, cast and operator pg_catalog's
# (review r4 of session 71: `FROM pg_trigger WHERE tgfoid = ...::oid` and `tgrelid::regclass`, pasted where the
# database owner's public comes first on the search_path, ran the owner's = (oid, oid), once per trigger of the
# database, and read an owner's public.pg_trigger)
DETACH_ALL = ("SELECT pgscore.detach_rescoring(t.e) FROM (SELECT DISTINCT g.tgrelid::pg_catalog.regclass AS e FROM "
              "pg_catalog.pg_trigger g WHERE g.tgfoid OPERATOR(pg_catalog.=) "
              "'pgscore.rescore_events'::pg_catalog.regproc::pg_catalog.oid) AS t")


def downgrade(url: str, revision: str = "base", lock_timeout: str = LOCK_TIMEOUT,
              drop_user_data: bool = False) -> None:
    """alembic downgrade in one transaction; to base, also drop our (then empty) version table. Like an
    upgrade, it waits at most `lock_timeout` for a lock another session holds (every session that uses
    pgscore waits behind it meanwhile), then fails, changing nothing. A downgrade (not to base) that would drop
    rows users wrote (USER_DATA: silences, threshold overrides, label columns) is refused, naming them, unless
    `drop_user_data`."""
    from alembic import command
    from sqlalchemy import MetaData, Table, text

    libpq_dsn(url)  # an unparseable URL says so, not "removing pgscore failed"
    cfg = alembic_config(url)
    try:
        engine = create_engine(url)
        try:
            with engine.connect() as conn, conn.begin():
                cfg.attributes["connection"] = conn
                cfg.attributes["drop_user_data"] = drop_user_data  # (env.py: before_migrating)
                conn.execute(text("SELECT pg_catalog.set_config('lock_timeout', :t, true)"), {"t": lock_timeout})
                if revision == "base":  # refused before any lock is taken (_DEPENDENTS)
                    execute_script(conn, _DEPENDENTS)
                command.downgrade(cfg, revision)
                if revision == "base":
                    # (by its schema's name: env.py left only pg_catalog on the transaction's search_path)
                    Table(VERSION_TABLE, MetaData(), schema="public").drop(conn, checkfirst=True)
        finally:
            engine.dispose()
    except InstallError:  # (before_migrating's refusal, said as it is)
        raise
    except Exception as e:  # noqa: BLE001
        orig = getattr(e, "orig", None) or e  # SQLAlchemy's wrapper, or psycopg2's own error (run_frozen)
        hint, detail = None, str(orig).strip()
        if "can't locate revision identified by" in detail.lower():
            raise _newer(detail) from e
        if getattr(orig, "pgcode", None) == "42501":
            hint = ("pgscore uninstall runs as a superuser, like install: it drops PL/Python functions, which "
                    "only a superuser may do")
        diag = getattr(orig, "diag", None)
        if (revision != "base" and getattr(orig, "pgcode", None) == "2BP01" and diag and diag.message_hint
                and "CASCADE" not in diag.message_hint):
            detail, hint = diag.message_primary, diag.message_hint  # a revision's own, which names what to do
        elif getattr(orig, "pgcode", None) == "2BP01":  # objects of the user's depend on pgscore's
            # the server's own HINT says DROP ... CASCADE, which would drop the user's objects: not repeated
            detail = "\n".join(x for x in (diag.message_primary, diag.message_detail) if x) if diag else detail
            hint = (f"pgscore drops nothing of yours: detach the rescoring triggers first ({DETACH_ALL}), and drop or "
                    "change your own objects that use pgscore (the Detail line lists them)")
        what = "removing pgscore" if revision == "base" else f"downgrading pgscore to revision {revision}"
        if getattr(orig, "pgcode", None) == "40P01":
            raise _deadlocked(what, detail) from e
        if getattr(orig, "pgcode", None) == "55P03":
            raise InstallError(f"{what} waited too long for a lock another session holds on one of pgscore's "
                               "objects; nothing was changed", detail=detail,
                               hint="find the session in pg_stat_activity (a transaction left open after it used "
                                    "pgscore: state 'idle in transaction'), let it end, and run it again; or wait "
                                    "longer with --lock-timeout (0: for ever; sessions that use pgscore wait behind "
                                    "it meanwhile)") from e
        raise InstallError(f"{what} failed; nothing was changed", detail=detail, hint=hint) from e


# what a downgrade drops of what users wrote (not what pgscore derives again: rollups, alert states, baselines), by
# the revision whose downgrade drops it: (one row's noun, the plural, where it is kept, a column the count needs or
# None, which rows, how to save them with psql). A downgrade past any with rows is refused unless asked to go on
# (downgrade's drop_user_data, plain alembic's -x drop_user_data=yes): it dropped them with no word, and upgrading
# again does not bring them back. From revision 0100 on (docs/operations.md, "Going back to an earlier release")
USER_DATA = {
    # (0141: the record of what retention and erasure removed, evidence an auditor asks for, and the owner's floors)
    "0141": (("retention record", "retention records", "pgscore.log_retention", "log_retention", None, "true",
              "\\copy pgscore.log_retention TO 'log_retention.csv' CSV HEADER"),
             ("retention floor", "retention floors", "pgscore.retention_policy", "retention_policy", None,
              "keep_log IS NOT NULL OR keep_features IS NOT NULL",
              "\\copy pgscore.retention_policy TO 'retention_policy.csv' CSV HEADER"),),
    "0133": (("threshold override that set confidence 0 alone", "threshold overrides that set confidence 0 alone",
              "pgscore.drift_threshold_overrides", "drift_threshold_overrides", "confidence",
              "confidence = 0 AND warn IS NULL AND alert IS NULL AND min_n IS NULL",
              "\\copy pgscore.drift_threshold_overrides TO 'drift_threshold_overrides.csv' CSV HEADER"),),
    "0129": (("threshold override", "threshold overrides", "pgscore.drift_threshold_overrides",
              "drift_threshold_overrides", None, "true",
              "\\copy pgscore.drift_threshold_overrides TO 'drift_threshold_overrides.csv' CSV HEADER"),),
    "0126": (("silence", "silences", "pgscore.alert_silences", "alert_silences", None, "true",
              "\\copy pgscore.alert_silences TO 'alert_silences.csv' CSV HEADER"),),
    "0119": (("wiring's label column", "wirings' label columns", "pgscore.rescoring.label_column", "rescoring",
              "label_column", "label_column IS NOT NULL",
              "\\copy (SELECT rescoring_id, event_table, profile_table, model_name, label_column FROM "
              "pgscore.rescoring WHERE label_column IS NOT NULL) TO 'label_columns.csv' CSV HEADER"),),
}

# the tables a rescoring trigger reads or writes (in the order it takes them: a backend's first call reads
# pgscore.rescoring first, later ones after shadows), which an upgrade or downgrade takes all at once first
# (NOWAIT, all or none, tried again for as long as lock_timeout allows, between tries waiting its turn for one another
# session holds, holding none of the others, or 20 ms where none is held: a downgrade waiting with
# models locked while an INSERT's trigger held deployments and waited for models cancelled the INSERT, 40P01, as
# did an upgrade from 0100 holding rescoring; two orders of the trigger's own, the first call's and the later
# ones', leave no one order to wait in)
_LOCK_TRIGGER_TABLES = """DO $do$
DECLARE
    v_tables text;
    v_oids oid[];
    v_busy regclass;
    v_wait text := pg_catalog.current_setting('lock_timeout');
    v_until timestamptz;
BEGIN
    SELECT pg_catalog.string_agg(pg_catalog.format('pgscore.%I', t.name), ', ' ORDER BY t.n),
           pg_catalog.array_agg(pg_catalog.to_regclass(pg_catalog.format('pgscore.%I', t.name))::oid)
      INTO v_tables, v_oids
      FROM pg_catalog.unnest(ARRAY['deployments', 'models', 'evaluators', 'log_pending', 'shadows',
                                   'rescoring', 'error_queue', 'replicated_pending', 'shadow_failures'])
           WITH ORDINALITY AS t(name, n)
     WHERE pg_catalog.to_regclass(pg_catalog.format('pgscore.%I', t.name)) IS NOT NULL;
    IF v_tables IS NULL THEN
        RETURN;
    END IF;
    IF v_wait::interval > interval '0' THEN
        v_until := pg_catalog.clock_timestamp() + v_wait::interval;
    END IF;
    LOOP
        BEGIN
            -- holding none of them (a failed try let go of all), wait in the queue for one another session holds,
            -- so that the sessions coming after wait behind this one (NOWAIT alone, while readers' queries of
            -- models overlapped, never found them all free); then try them all at once, without waiting
            IF v_busy IS NOT NULL THEN
                IF v_until IS NOT NULL THEN
                    PERFORM pg_catalog.set_config('lock_timeout', GREATEST(1, pg_catalog.ceil(
                        1000 * extract(epoch FROM v_until - pg_catalog.clock_timestamp())))::bigint || 'ms', true);
                END IF;
                EXECUTE pg_catalog.format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', v_busy);
            END IF;
            EXECUTE 'LOCK TABLE ' || v_tables || ' IN ACCESS EXCLUSIVE MODE NOWAIT';
            PERFORM pg_catalog.set_config('lock_timeout', v_wait, true);
            RETURN;
        EXCEPTION WHEN lock_not_available THEN
            IF v_until IS NOT NULL AND pg_catalog.clock_timestamp() >= v_until THEN
                RAISE EXCEPTION 'canceling statement due to lock timeout: the locks of % (waited %)', v_tables, v_wait
                    USING ERRCODE = 'lock_not_available';
            END IF;
        END;
        SELECT l.relation::regclass INTO v_busy
          FROM pg_catalog.pg_locks l
         WHERE l.relation OPERATOR(pg_catalog.=) ANY (v_oids) AND l.granted
           AND l.pid OPERATOR(pg_catalog.<>) pg_catalog.pg_backend_pid()
         LIMIT 1;
        IF v_busy IS NULL THEN
            PERFORM pg_catalog.pg_sleep(0.02);
        END IF;
    END LOOP;
END
$do$"""


def migrating(context) -> tuple[list, bool]:
    """The revision steps alembic's command is about to run (an upgrade's or a downgrade's; none for a stamp or
    any other command), and whether they go down to base. `context` is env.py's alembic.context, configured."""
    from alembic.runtime.migration import RevisionStep

    mc = context.get_context()
    fn = mc.opts.get("fn")
    if fn is None or "destination_rev" not in mc.opts:  # (current, history: a fn that prints)
        return [], False
    steps = [s for s in fn(mc.get_current_heads(), mc) if isinstance(s, RevisionStep)]
    return steps, any(s.is_downgrade and not s.to_revisions_no_deps for s in steps)


def user_data_lost(conn, revisions) -> list[tuple[str, str, str]]:
    """What undoing `revisions` would drop of what users wrote: (revision, what, how to save it), one a table."""
    from psycopg2 import sql

    lost = []
    with conn.connection.cursor() as cur:
        for revision in revisions:
            for one, many, kept_in, table, column, where, save in USER_DATA.get(revision, ()):
                cur.execute("SELECT pg_catalog.to_regclass(%(t)s) IS NOT NULL AND (%(c)s::text IS NULL OR EXISTS "
                            "(SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid OPERATOR(pg_catalog.=) "
                            "pg_catalog.to_regclass(%(t)s) AND a.attname OPERATOR(pg_catalog.=) %(c)s "
                            "AND NOT a.attisdropped))", {"t": f"pgscore.{table}", "c": column})
                if not cur.fetchone()[0]:
                    continue
                cur.execute(sql.SQL("SELECT pg_catalog.count(*) FROM {} WHERE " + where)
                            .format(sql.Identifier("pgscore", table)))
                n = cur.fetchone()[0]
                if n:
                    lost.append((revision, f"{revision} drops {n} {one if n == 1 else many} ({kept_in})", save))
    return lost


def _x_yes(context, name: str) -> bool:
    """Plain alembic's `-x NAME=yes` (or true, on, 1); no, false, off, 0 or no -x say no; any other value is
    refused (InstallError 22023), not read as no: `-x drop_user_data=y` went on to refuse again, naming yes alone."""
    given = context.get_x_argument(as_dictionary=True).get(name)
    if given is None:
        return False
    value = given.strip().lower()
    if value in ("yes", "true", "on", "1"):
        return True
    if value in ("no", "false", "off", "0", ""):
        return False
    raise InstallError(f"-x {name}={given}: not yes or no; nothing was changed", sqlstate="22023",
                       hint=f"write -x {name}=yes (or true, on, 1) to go on, or leave it out")


def before_migrating(conn, context) -> None:
    """Where alembic's command (env.py) runs revisions: first the rescoring trigger's tables, all at once
    (_LOCK_TRIGGER_TABLES); then, for a downgrade (not to base: pgscore uninstall, where everything goes), a
    refusal naming what it would drop of what users wrote (USER_DATA), unless asked to go on."""
    steps, to_base = migrating(context)
    if not steps:
        return
    execute_script(conn, _LOCK_TRIGGER_TABLES)
    revisions = [s.revision.revision for s in steps if s.is_downgrade]
    if not revisions or to_base:
        return
    config = context.config
    asked = config.attributes.get("drop_user_data") or _x_yes(context, "drop_user_data")
    lost = user_data_lost(conn, revisions)
    if not lost or asked:
        return
    target = revisions[-1]
    below = context.get_context().script.get_revision(target).down_revision or "base"
    saves = list(dict.fromkeys(save for _, _, save in lost))
    raise InstallError(
        f"downgrading pgscore to revision {below} would drop what users wrote since; nothing was changed",
        detail="\n".join(what for _, what, _ in lost), sqlstate="55000",
        hint="save the rows first if you want them, then downgrade again asking to drop them: plain alembic with "
             "-x drop_user_data=yes, Python's pgscore.migrate.downgrade with drop_user_data=True (docs/operations.md, "
             "'Going back to an earlier release'). To save them, in psql, each line as it is (a \\copy takes the "
             "rest of its line):\n" + "\n".join(saves))


# (an offline script cannot count: it names every table and column a downgrade it writes would drop rows of, and
# 0139's written_by, which an online downgrade does not count either)
_OFFLINE_ALSO = {"0139": ("every audit row's written_by (pgscore.prediction_log.written_by)",
                          "\\copy (SELECT logged_at, model_id, entity_key, written_by FROM pgscore.prediction_log WHERE "
                          "written_by IS NOT NULL) TO 'written_by.csv' CSV HEADER")}


def offline_user_data_warning(context) -> None:
    """alembic's offline mode (--sql), writing a downgrade: no database to count in, so the script starts with a
    comment naming what each revision it undoes drops of what users wrote (USER_DATA, 0139's written_by) and how to
    save it first, and says the same on stderr (a DBA reviewing the script read nothing of it: the online
    downgrade's refusal never ran)."""
    import sys

    steps, to_base = migrating(context)
    revisions = [s.revision.revision for s in steps if s.is_downgrade]
    if not revisions or to_base:
        return
    lines = []
    for revision in revisions:
        for one, many, kept_in, table, column, where, save in USER_DATA.get(revision, ()):
            which = f"{kept_in}: {where}" if where != "true" else kept_in
            lines.append((f"undoing {revision} drops every {one} ({which})", save))
        if revision in _OFFLINE_ALSO:
            what, save = _OFFLINE_ALSO[revision]
            lines.append((f"undoing {revision} drops {what}", save))
    if not lines:
        return
    text = ["pgscore: WARNING: this downgrade script drops what users wrote, and an upgrade does not bring it back "
            "(written offline: nothing was counted; the online downgrade refuses where there are rows, "
            "docs/operations.md, 'Going back to an earlier release'). Save them first, in psql:"]
    for what, save in lines:
        text += [f"  {what}", f"    {save}"]
    print("\n".join(text), file=sys.stderr)
    context.get_context().impl.static_output("".join(f"-- {t}\n" for t in text))


# the version table says a revision, and there is no pgscore schema: a dump of the public schema alone (pg_dump
# -n public carries the table) restored into a database without pgscore; the revision describes nothing here
_STALE = "SELECT pg_catalog.to_regclass(:t) IS NOT NULL AND pg_catalog.to_regnamespace('pgscore') IS NULL"


def _forget_a_stale_revision(conn) -> None:
    """Empty a version table that describes no pgscore schema, so that upgrade installs from the start (it
    would otherwise find head recorded and do nothing)."""
    from sqlalchemy import table, text

    if conn.execute(text(_STALE), {"t": VERSION_TABLE}).scalar():
        conn.execute(table(VERSION_TABLE).delete())


def current(url: str, check: bool = False) -> str | None:
    """The installed revision, or None when pgscore is not installed (also where a version table restored
    without the pgscore schema names one). With `check`, damage()'s InstallError first, if any."""
    from sqlalchemy import column, select, table, text

    engine = create_engine(url)
    problem = None
    try:
        with engine.connect() as conn:
            # the one checked, locked (a drop, and a view of the owner of public's in its place, waits for this
            # transaction) and checked again: one swapped in before the lock is refused, not read (its function ran
            # as whoever read it: review r1, session 68); damage() does the same (_checked_and_locked)
            problem = damage(conn) if check else version_table_checked_and_locked(conn)
            if problem is None:
                exists = conn.execute(text("SELECT to_regclass(:t)"), {"t": VERSION_TABLE}).scalar()
                if not exists or conn.execute(text(_STALE), {"t": VERSION_TABLE}).scalar():
                    return None
                return conn.execute(select(column("version_num")).select_from(table(VERSION_TABLE))).scalar()
    except Exception as e:  # noqa: BLE001
        raise _explain(e, installing=False) from e
    finally:
        engine.dispose()
    raise problem


def stale_revision(url: str) -> str | None:
    """The revision a version table names where there is no pgscore schema (_STALE: a dump of the public schema
    alone restored, pg_dump -n public), or None. What came with pgscore's schema did not come: models, audit log,
    outcomes, and the rescoring wirings, whose triggers on the user's tables call pgscore.rescore_events and so
    failed to restore; `pgscore install` installs from the start and says so (stale_note)."""
    from sqlalchemy import column, select, table, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            problem = version_table_checked_and_locked(conn)
            if problem is not None:
                raise problem
            if not conn.execute(text(_STALE), {"t": VERSION_TABLE}).scalar():
                return None
            return conn.execute(select(column("version_num")).select_from(table(VERSION_TABLE))).scalar() or None
    except InstallError:  # (untrusted_version_table's, as it is)
        raise
    except Exception as e:  # noqa: BLE001
        raise _explain(e, installing=False) from e
    finally:
        engine.dispose()


def stale_note(revision: str) -> str:
    return (f"note: public.{VERSION_TABLE} said revision {revision}, and this database had no pgscore schema: it "
            "was restored from a dump without it (pg_dump -n public, say), so pgscore was installed from the start. "
            "No model, audit row, outcome or rescoring wiring came with that dump, and the wirings' triggers on "
            "your tables could not be restored (they call pgscore.rescore_events, which was not there): until "
            "they are attached again, inserting events rescores nothing. Restore a dump that includes the pgscore "
            "schema into a new database instead (docs/operations.md, 'Backups'), or deploy the models and attach "
            "the tables again")


def step_line(step) -> str:
    """What plain alembic says of a revision it runs (its `Running %s` line, whose argument is the step): one line
    that names the revision's file, and for a downgrade the revision it goes back to. Alembic's own line ends with
    the first paragraph of the revision's docstring, ten lines for 0131, and for a downgrade (0131 -> 0130) that
    paragraph described the upgrade, ending "restores the three functions as 0127 left them"."""
    revision = getattr(step, "revision", None)
    path = getattr(revision, "path", None)
    if not path:
        return str(step)
    name = Path(path).stem
    frm, to = (",".join(step.from_revisions_no_deps) or ""), (",".join(step.to_revisions_no_deps) or "base")
    if step.is_upgrade:
        return f"{step.name} {frm} -> {to} ({name})"
    return f"{step.name} {frm} -> {to} (undoes {name}: the schema of revision {to})"


def step_lines() -> None:
    """Plain alembic's `Running ...` lines said as step_line says them (migrations/env.py, where alembic.ini's
    logging is on)."""
    import logging

    class _OneLine(logging.Filter):
        def filter(self, record):
            args = record.args if isinstance(record.args, tuple) else ()
            if record.msg == "Running %s" and len(args) == 1 and hasattr(args[0], "is_upgrade"):
                record.args = (step_line(args[0]),)
            return True

    logger = logging.getLogger("alembic.runtime.migration")
    if not any(type(f).__name__ == "_OneLine" for f in logger.filters):
        logger.addFilter(_OneLine())


def head() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("unused")).get_current_head()
