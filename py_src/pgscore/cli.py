"""The `pgscore` command line."""

from __future__ import annotations

import argparse
import contextlib
import datetime
import errno
import json
import os
import re
import shlex
import signal
import sys
from pathlib import Path

from pgscore.errors import (READ_ONLY_HINT, STANDBY_HINT, TYPO_FOR, PgscoreError, UnknownModel, UsageError, command,
                            hint_the_primary, hinted_database, literal, server_message)
# (every command's connection: migrate.connect_catalog_first, pg_catalog searched first)
from pgscore import migrate


def _say_wrapped(msg: str) -> None:
    """A long line (a warning, say) wrapped at 100 columns, the lines after the first indented; a command or a
    URL in it is never broken (at a hyphen or inside a word), so that it can be copied as it stands."""
    import textwrap

    _say("\n".join(textwrap.wrap(msg, 100, subsequent_indent="  ", break_on_hyphens=False, break_long_words=False)))


def _say(msg: str) -> None:
    try:
        print(msg, flush=True)
    except BrokenPipeError:  # `pgscore models | head -1`: the reader is gone, so stop quietly
        _gone()


def _gone():
    _stdout_to_null()
    raise SystemExit(128 + signal.SIGPIPE) from None  # the status of a command killed by SIGPIPE


def _stdout_to_null():
    # what is still buffered would fail again at exit: send it nowhere (as Python's signal docs do)
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _cluster(args):
    from pgscore.localdb import Cluster

    kw = {"port": args.port, "log": _say, "signing_key": getattr(args, "signing_key", None)}
    c = Cluster(data_dir=args.data_dir, **kw) if args.data_dir else Cluster(**kw)
    c.require_own()
    return c


# where a command without --db finds its database (resolve_db's order), as --help and the empty --db's refusal say it
DB_ORDER = ("$PGSCORE_DATABASE_URL, else $PGSCORE_DATA_DIR's cluster, else libpq's PGHOST, PGPORT, PGDATABASE or "
            "PGSERVICE, else the embedded cluster")


def resolve_db(args) -> str:
    """--db, else PGSCORE_DATABASE_URL, else the embedded cluster PGSCORE_DATA_DIR names, else the database libpq's
    variables name (PGHOST, PGHOSTADDR, PGPORT, PGDATABASE, PGSERVICE: an empty DSN, which libpq completes from
    them as for psql), else the default embedded cluster when there is one."""
    from pgscore import migrate
    from pgscore.migrate import libpq_dsn

    global _RESOLVED
    migrate.reached_by_environment(False)
    given = getattr(args, "db", None) or os.environ.get("PGSCORE_DATABASE_URL")
    if given:
        try:
            _RESOLVED = libpq_dsn(given)  # the same string for psycopg2 and SQLAlchemy, or one clear error
        except PgscoreError as e:  # (--db was read before the command ran: the variable's, said as such)
            raise PgscoreError(f"PGSCORE_DATABASE_URL: {e.message}") from None
        return _RESOLVED
    from pgscore.localdb import Cluster

    c = Cluster()
    # (a trial's DBA with PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE set was sent to the default embedded
    # cluster, which would have been another user's, as its superuser)
    if not os.environ.get("PGSCORE_DATA_DIR") and migrate.server_variables():
        for name in ("PGPORT", "PGCONNECT_TIMEOUT"):  # (libpq's `invalid integer value` came after other work)
            value = os.environ.get(name, "")
            if value.strip() and not re.fullmatch(r"\s*[+-]?[0-9]+\s*(,\s*[+-]?[0-9]+\s*)*", value):
                raise PgscoreError(f"{name} is {value!r}, not a whole number",
                                   hint="libpq's variables name the database (no --db, PGSCORE_DATABASE_URL or "
                                   "PGSCORE_DATA_DIR given): correct it, or unset it")
        migrate.reached_by_environment(True)
        _RESOLVED = ""  # libpq reads the variables, as for psql
        return _RESOLVED
    if c.initialized:
        c.require_own()
        _RESOLVED = c.url()
        return _RESOLVED
    raise PgscoreError(f"no database given, and no embedded cluster in {c.data_dir}",
                       hint="pass --db postgresql://... (or a libpq string, 'host=... dbname=...') or set "
                       "PGSCORE_DATABASE_URL, or libpq's PGHOST, PGPORT, PGDATABASE or PGSERVICE (with PGUSER, and "
                       "the password in PGPASSWORD or ~/.pgpass); for a cluster started with "
                       "--data-dir DIR, set PGSCORE_DATA_DIR=DIR (or pass --db \"$(" + command("db url --data-dir DIR")
                       + ")\"); or start the embedded one with: " + command("db start"))


_RESOLVED = None  # the database resolve_db found last (an error's hint may look at its schema's revision)


def older_schema(e, command_name=None):
    """A database error of a column, table, function or schema that does not exist, raised by one of pgscore's
    own queries on a schema older than this pgscore, said as the registry's calls say it: `pgscore is not
    installed in this database, or its schema is older than this pgscore (...)` with the upgrade's command.
    `pgscore models` and `show` on a schema at 0002 said `column "engine" does not exist` and no more; drift,
    retry and refresh-windows the missing relation or function. Any other error is returned as it is: one where
    the schema is at this pgscore's head, a table the user named (score's --table), a column of the user's
    (score's --key and --into: 42703 there is the user's)."""
    import psycopg2

    from pgscore import migrate
    from pgscore.registry import _translate

    code = getattr(e, "pgcode", None)
    if not isinstance(e, psycopg2.Error) or code not in ("3F000", "42P01", "42883", "42703") \
            or getattr(e, "names_a_given_table", False) or (code == "42703" and command_name == "score"):
        return e
    if code == "42703" and e.diag.statement_position is None:  # not the command's statement's own column: one a
        return e  # function of pgscore's raised (a wired table that cannot feed a version, deploy's 42703)
    if _RESOLVED is not None:  # a schema at head that a restore left some objects out of: which, and the way out
        try:
            missing = migrate.missing_objects(_RESOLVED)
        except Exception:  # noqa: BLE001 - (the error said is the command's own)
            missing = []
        if missing:
            said = migrate.lacking_error(missing)
            said.__cause__ = e
            return said
    if code != "42703":
        said = _translate(e)  # (one that names pgscore's schema or an object of it)
        if isinstance(said, PgscoreError):
            return said
    if _RESOLVED is None:
        return e
    try:
        current = migrate.current(_RESOLVED)
        behind = current is not None and current < migrate.head()  # revisions are numbered 0001, 0002, ...
    except Exception:  # noqa: BLE001 - (the error said is the command's own)
        return e
    if not behind:
        return e
    said = PgscoreError(f"pgscore is not installed in this database, or its schema is older than this pgscore "
                        f"({server_message(e.diag.message_primary)}): its revision is {current}, this pgscore's "
                        f"{migrate.head()}", sqlstate=code, hint="install or upgrade it with: " + command("install --db URL"))
    said.__cause__ = e  # (its SQLSTATE said, as the database's errors are)
    return said


# -- db ----------------------------------------------------------------------
def cmd_db_start(args):
    c = _cluster(args)
    c.start()
    for line in _after_start(c):
        _say(line)
    _say(f"stop it with: {command('db stop', c.data_dir)}")
    _say(c.url())  # last: scripts read it
    return 0


def _after_start(c) -> list[str]:
    """What `db start` says to run next: `pgscore install` where pgscore is not installed in the cluster's
    database, and how the commands that follow reach this cluster where they would find another database
    ($PGSCORE_DATABASE_URL, libpq's PGHOST... for the default one, or another data directory than this one)."""
    import psycopg2

    from pgscore import migrate
    from pgscore.localdb import default_data_dir

    url = c.url()
    reach = None  # how a command without --db reaches this cluster, where it would not
    if os.environ.get("PGSCORE_DATABASE_URL", "").strip():
        reach = (f"--db {shlex.quote(url)}", "PGSCORE_DATABASE_URL is set: the commands that follow use that "
                 f"database unless given --db {shlex.quote(url)}")
    elif not os.environ.get("PGSCORE_DATA_DIR") and migrate.server_variables():  # (they come before this one)
        reach = (f"--db {shlex.quote(url)}", f"{', '.join(migrate.server_variables())} set: the commands that "
                 "follow use the database libpq's variables name unless given --db "
                 f"{shlex.quote(url)} (or PGSCORE_DATA_DIR={shlex.quote(str(Path(c.data_dir).absolute()))})")
    elif Path(c.data_dir).absolute() != default_data_dir().absolute():
        env = f"PGSCORE_DATA_DIR={shlex.quote(str(Path(c.data_dir).absolute()))}"
        reach = (None, f"the commands that follow find this cluster with: export {env} (or --db "
                 f"{shlex.quote(url)}); without, they look in {default_data_dir()}")
    try:
        with contextlib.closing(migrate.connect_catalog_only(url, connect_timeout=10)) as conn, \
                conn.cursor() as cur:
            cur.execute("SELECT pg_catalog.to_regclass('pgscore.models') IS NOT NULL")
            installed = cur.fetchone()[0]
    except psycopg2.Error:  # (it answered start's own check: a failure here is said by the next command)
        installed = True
    lines = [reach[1]] if reach else []
    if not installed:
        install = command("install") if reach is None or reach[0] is None else command(f"install {reach[0]}")
        if reach is not None and reach[0] is None:
            install = f"export PGSCORE_DATA_DIR={shlex.quote(str(Path(c.data_dir).absolute()))}; {install}"
        lines.append(f"pgscore is not installed in it: next, run {install}")
    return lines


# where a db command found no cluster: which one it looked at, and how to name another
_ELSEWHERE = "a cluster elsewhere (the demo's --data-dir): --data-dir DIR, or export PGSCORE_DATA_DIR=DIR"


def cmd_db_stop(args):
    c = _cluster(args)
    if not c.initialized:  # an error, not "stopped": a cluster named wrongly keeps running
        raise PgscoreError(f"no cluster in {c.data_dir}: nothing stopped", hint=_ELSEWHERE)
    _say("stopped" if c.stop() else f"PostgreSQL is not running in {c.data_dir}")
    return 0


def cmd_db_status(args):
    c = _cluster(args)
    st = c.status()
    if not st["initialized"]:
        _say(f"no cluster in {c.data_dir} (create one with: {command('db start', c.data_dir)}); for {_ELSEWHERE}")
        return 3
    state = f"running (pid {st['pid']})" if st["running"] else "stopped"
    _say(f"{state}\ndata directory: {st['data_dir']}\nport: {st['port']}\n"
         f"server user: {st['server_user']}\nsigning key: {st['signing_key'] or 'none (models are not signed)'}\n"
         f"url: {st['url']}" + (f"\nstop it with: {command('db stop', c.data_dir)}" if st["running"] else
                                # (on the port it was last started on, which db start remembers)
                                f"\nstart it with: {command('db start', c.data_dir)}"))
    return 0 if st["running"] else 3


def cmd_db_url(args):
    c = _cluster(args)
    if not c.initialized:
        raise PgscoreError(f"no cluster in {c.data_dir}",
                           hint=f"create and start one with: {command('db start', c.data_dir)}; for {_ELSEWHERE}")
    _say(c.url(dbname=args.dbname, tcp=args.tcp))
    return 0


# -- schema ------------------------------------------------------------------
def cmd_install(args):
    from pgscore import migrate

    url = resolve_db(args)
    _drop_leftover_scratch(url)
    if args.repair:
        made = migrate.repair(url)
        if not made:
            _say(f"nothing to repair: this database's pgscore schema has every table, view and function of revision "
                 f"{migrate.head()} (or it is not at that revision: run {command('install')})")
        else:
            _say(f"made again as a new install at revision {migrate.head()} makes them: "
                 + ", ".join(f"{kind} pgscore.{name}" for kind, name in made))
        return 0
    before = migrate.current(url)
    stale = migrate.stale_revision(url) if before is None else None  # a dump of the public schema alone
    report = migrate.upgrade(url, check_environment=not args.no_check, lock_timeout=args.lock_timeout)
    after = migrate.current(url)
    if before == after:
        _say(f"pgscore schema is up to date (revision {after})")
    else:
        _say(f"installed pgscore schema: revision {before or 'none'} -> {after}")
    if stale:
        print("pgscore: " + migrate.stale_note(stale), file=sys.stderr)
    if report:
        _print_env(report)
    if before is None:  # (a first install: an upgrade's is said by pgscore status)
        _say_cluster_sharing(url)
    return 0


# the other databases of the cluster where pgscore is installed: those where one of its roles is granted anything
# (pg_shdepend, which every database of the cluster shares, holds a row per grant to a role in each database),
# templates left out (a template is copied, not used)
_OTHER_INSTALLS = """SELECT d.datname FROM pg_catalog.pg_database d
                      WHERE d.datname <> pg_catalog.current_database() AND NOT d.datistemplate
                        AND EXISTS (SELECT FROM pg_catalog.pg_shdepend s
                                      JOIN pg_catalog.pg_roles r ON r.oid = s.refobjid
                                     WHERE s.dbid = d.oid AND s.refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass::pg_catalog.oid
                                       AND r.rolname IN ('pgscore_admin', 'pgscore_app', 'pgscore_reader'))
                      ORDER BY d.datname"""

# the roles other than superusers that may grant and revoke pgscore's roles (WITH ADMIN OPTION, or CREATEROLE,
# which before PostgreSQL 16 grants and revokes every role but a superuser), and whether by ADMIN OPTION (review r3:
# a CREATEROLE role holds none, and REVOKE ADMIN OPTION, the one fix said, left it granting them: NOCREATEROLE does)
_ROLE_GRANTERS = """SELECT pg_catalog.quote_ident(m.rolname), EXISTS (SELECT FROM pg_catalog.pg_auth_members a
                                               JOIN pg_catalog.pg_roles r ON r.oid = a.roleid
                                              WHERE a.member = m.oid AND a.admin_option
                                                AND r.rolname IN ('pgscore_admin', 'pgscore_app', 'pgscore_reader')),
                           m.rolcreaterole AND pg_catalog.current_setting('server_version_num')::int < 160000
                      FROM pg_catalog.pg_roles m
                     WHERE NOT m.rolsuper AND m.rolname !~ '^pg_'
                     ORDER BY m.rolname"""


def cluster_sharing_warnings(cur) -> list[str]:
    """Where pgscore is installed in other databases of the cluster too (trial T26, session 69): its three roles are
    the cluster's, so a login granted one for another database uses it here as well wherever it may connect (every
    role may connect to a database whose CONNECT is PUBLIC's, the default), and a role granted them WITH ADMIN
    OPTION grants and revokes them for the other databases' logins too. A line each, with the SQL that keeps the
    teams apart; none where no other database has pgscore."""
    cur.execute(_OTHER_INSTALLS)
    others = [name for name, in cur.fetchall()]
    if not others:
        return []
    where = ("database " if len(others) == 1 else "databases ") + ", ".join(others)
    cur.execute("SELECT pg_catalog.quote_ident(pg_catalog.current_database()), "
                "pg_catalog.has_database_privilege('public', pg_catalog.current_database(), 'CONNECT')")
    here, public = cur.fetchone()
    lines = []
    if public:
        lines.append(
            f"cluster: pgscore is also installed in {where} of this cluster, and its roles are the cluster's: a login "
            f"granted pgscore_admin, pgscore_app or pgscore_reader for {'it' if len(others) == 1 else 'one of them'} "
            f"holds it here too, and may connect here (PUBLIC holds CONNECT on {here}): it deploys, rolls back, "
            f"deletes and erases this database's models, or scores and reads its audit log, as it does there. To "
            f"keep each team to its database: REVOKE CONNECT ON DATABASE {here} FROM PUBLIC; GRANT CONNECT ON "
            f"DATABASE {here} TO <this team's logins>; and the same in each other database (docs/operations.md, "
            "Several teams on one cluster)")
    cur.execute(_ROLE_GRANTERS)
    rows = cur.fetchall()
    admins = [name for name, admin, _ in rows if admin]
    creators = [name for name, _, creator in rows if creator]
    granters = sorted(set(admins) | set(creators))
    if granters:
        fixes = ([f"REVOKE ADMIN OPTION FOR pgscore_admin, pgscore_app, pgscore_reader FROM {', '.join(admins)};"]
                 if admins else [])
        fixes += [f"ALTER ROLE {name} NOCREATEROLE;" for name in creators]
        lines.append(
            f"cluster: {', '.join(granters)} may grant and revoke pgscore's roles (WITH ADMIN OPTION, or CREATEROLE) "
            f"for every login of the cluster, those of {where} too (a team's owner may REVOKE pgscore_admin FROM "
            f"another team's): where teams share the cluster, the superuser grants them: {' '.join(fixes)} "
            "(docs/operations.md, Several teams on one cluster)")
    return lines


def _say_cluster_sharing(url) -> None:
    """A first install's last step: cluster_sharing_warnings on stderr, as notes (what cannot be read is left unsaid:
    the install is done)."""
    import psycopg2

    try:
        # (session 70) pg_catalog alone searched: a first install's connection, the superuser's, in a database whose
        # owner may have set its search_path, public first, before the install; this one kept it, and the owner's
        # = on oid ran in _OTHER_INSTALLS as the superuser
        with contextlib.closing(migrate.connect_catalog_only(url)) as conn:
            with conn.cursor() as cur:
                lines = cluster_sharing_warnings(cur)
    except psycopg2.Error:
        return
    for line in lines:
        print("pgscore: note: " + line, file=sys.stderr)


def _drop_leftover_scratch(url) -> None:
    """install's first step (session 65): drop the scratch databases an install --repair killed or cut off left on
    this server (marked as its own, and held by no running repair: migrate.leftover_scratch), each said on stderr;
    one only named as such is said, with how to drop it. A database install cannot reach is left to it to say."""
    import psycopg2

    from pgscore import migrate

    try:
        dropped, left = migrate.drop_leftover_scratch(url)
    except (psycopg2.Error, PgscoreError):
        return
    for name in dropped:
        print(f"pgscore: note: dropped database {name}, the scratch database of a pgscore install --repair that was "
              "interrupted (killed, or its connection lost) before it could drop it", file=sys.stderr)
    for name, why in left:
        print(f"pgscore: note: database {name} is named as the scratch database of a pgscore install --repair, "
              f"and no repair runs with it, but it was left: {why}; if it is one, drop it: DROP DATABASE {name} "
              "WITH (FORCE)", file=sys.stderr)


def cmd_uninstall(args):
    from pgscore import migrate

    url = resolve_db(args)
    if migrate.current(url) is None:
        _say("pgscore is not installed in this database")
        return 0
    migrate.downgrade(url, "base", lock_timeout=args.lock_timeout)
    _say("removed the pgscore schema (and plpython3u, if pgscore had created it)")
    return 0


def require_installed(url: str) -> None:
    from pgscore import migrate

    # (checked too: a schema a restore left without PL/Python, or without its revision recorded)
    if migrate.current(url, check=True) is None:
        raise PgscoreError("pgscore is not installed in this database",
                           hint="install it with: " + command("install"))


def _db_for_deploying(args) -> str:
    """The database of deploy, activate and rollback, with a note where its schema is behind (note_if_behind)."""
    url = resolve_db(args)
    note_if_behind(url)
    return url


def note_if_behind(url: str) -> None:
    """A note on stderr where the database's pgscore schema is older than this pgscore: what a deployment
    checks in the server (that every wired table can feed the version made live, from revision 0023; that
    the server would load it, from 0029) is its revision's until pgscore install upgrades it."""
    from pgscore import migrate

    try:
        current, head = migrate.current(url), migrate.head()
    except PgscoreError:
        return  # (the command itself says what is wrong)
    if current is not None and current < head:  # revisions are numbered 0001, 0002, ...
        print(behind_note(current, head), file=sys.stderr)


def behind_note(current: str, head: str, install: str | None = None) -> str:
    """The note of a database whose pgscore schema is at revision `current`, behind this pgscore's `head`: the
    CLI's (note_if_behind) and an alembic revision's (alembic_ops), in the same words. `install`: the command
    that upgrades it, as the caller's user would run it (by default pgscore install, as the CLI hints it)."""
    return (f"pgscore: note: this database's pgscore schema is at revision {current}, behind this pgscore's {head}: "
            f"the checks the server makes of a deployment are those of {current} (from 0023 a version that a wired "
            "table cannot feed is refused) until it is upgraded with: " + (install or command("install")))


def cmd_env(args):
    from pgscore import migrate

    url = resolve_db(args)
    require_installed(url)
    with migrate.connect_catalog_first(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT pgscore.validate_environment()")
        report = cur.fetchone()[0]
        _print_env(report, _embedded_data_dir(cur))
    return 0


def unsigned_warning(url=None) -> str:
    """What `pgscore status` says while models are not signed (built when said: the hint
    names the command as run, and the cluster `url` reaches where pgscore started it)."""
    return ("models are not signed: loading a model unpickles it, and a pickle can run any code, so whoever "
            "can write pgscore.models and pgscore.artifacts can run code inside the database server as its OS "
            "user. Keep those tables to the admin role (which can deploy code, so trust it like a superuser); to "
            "refuse artifacts that did not come through deploy, restart the server with a signing key "
            f"({with_signing_key(url)}) and deploy again.")


def with_signing_key(url) -> str:
    """How to restart the server `url` reaches with a signing key: the db commands that do it where it is an
    embedded cluster (a key cannot be given to one that runs), else the variable its environment needs."""
    from psycopg2.extensions import parse_dsn

    from pgscore.localdb import STATE_FILE

    try:
        host = Path(parse_dsn(url).get("host") or "") if url else None
    except Exception:  # noqa: BLE001 - a DSN psycopg2 cannot parse: no cluster of ours to name
        host = None
    if host is not None and host.name == "run" and (host.parent / STATE_FILE).exists():
        return (f"{command('db stop', host.parent)}, then {command('db start --signing-key FILE', host.parent)}, "
                "which sets PGSCORE_SIGNING_KEY_FILE for the server, FILE a secret of 32 bytes or more")
    return ("a server of your own: set PGSCORE_SIGNING_KEY_FILE in its environment and restart it; the embedded "
            f"cluster: {command('db stop')}, then {command('db start --signing-key FILE')}")


def cmd_status(args):
    """What a user should know about an install: versions, signing, who may write models, models, monitoring.
    Bounded by --timeout (session 65: a session holding a lock on one of pgscore's tables held it for ever): each
    connection's connect_timeout and lock_timeout, and pgscore.health()'s statement_timeout, as pgscore health
    sets them; where one ran out, an error naming what status was reading and who holds the lock. Its own slow
    work (the server's Python imported, each live version loaded) has no statement_timeout: on a loaded server
    validate_environment() alone took over 1.5 s."""
    import psycopg2.errors

    from pgscore import migrate

    url = resolve_db(args)
    limit = _seconds_of(args.timeout)
    dsn = _bounded_dsn(url, limit)  # (every connection status makes: its own, and migrate's)
    step = ["whether pgscore is installed (its version table, pgscore_alembic_version)"]
    try:
        require_installed(dsn)
        step[0] = "which of pgscore's objects the database has"
        missing = migrate.missing_objects(dsn)  # (a restore that left some out: the queries below would fail on them)
        if missing:
            raise migrate.lacking_error(missing)
        try:
            return _status(url, dsn, step, limit)
        except psycopg2.errors.InsufficientPrivilege as e:
            raise PgscoreError(f"pgscore status needs a role that may read pgscore's registry and run "
                               f"pgscore.validate_environment(): {server_message(e.diag.message_primary)}",
                               hint="run it as a superuser or a role granted pgscore_admin; pgscore_app scores "
                               "and pgscore_reader reads the views") from e  # (its SQLSTATE: say_error)
    except (psycopg2.Error, PgscoreError) as e:
        cause = _timed_out(e)
        if cause is None:
            raise
        # (status's own: its lock_timeout on every connection, its statement_timeout on pgscore.health() alone;
        # else a setting of the session's (PGOPTIONS, the URL's options, ALTER ROLE ... SET) or a cancel)
        if limit and (cause.pgcode == "55P03" or step[0].startswith("pgscore.health()")):
            raise _status_timed_out(args.timeout, step[0], cause, dsn) from None
        raise _status_stopped(step[0], cause) from None


def _status_stopped(step, e) -> PgscoreError:
    """pgscore status's error where a lock_timeout or statement_timeout that is not its --timeout's ran out (the
    session's own setting: PGOPTIONS, the URL's options, ALTER ROLE or ALTER DATABASE ... SET), or a cancel: said
    as such (review r2 of session 65: `could not tell in 0`, `in 10s`, for a role's statement_timeout of 300ms)."""
    setting = "lock_timeout" if e.pgcode == "55P03" else "statement_timeout"
    return PgscoreError(
        f"pgscore status stopped: reading {step}, {server_message(e.diag.message_primary) or str(e).strip()} "
        f"({e.pgcode}), not in its --timeout: status sets "
        + ("no lock_timeout with --timeout 0" if e.pgcode == "55P03" else
           "no statement_timeout on its own reads (only on pgscore.health())")
        + f"; a {setting} of the session's own (PGOPTIONS, the URL's options, ALTER ROLE or ALTER DATABASE ... SET "
        f"{setting})" + (" or another session's cancel (pg_cancel_backend)" if e.pgcode == "57014" else "")
        + " stopped it", sqlstate=e.pgcode,
        hint=f"SHOW {setting} says the session's; run status with it lifted (PGOPTIONS='-c {setting}=0', or "
             "options=-c%20" + setting + "%3D0 in the URL)"
             + (", or give --timeout a duration (status's own lock_timeout then)" if e.pgcode == "55P03" else ""))


def _bounded_dsn(url: str, limit: float) -> str:
    """The libpq string of `url` with `limit` (seconds; 0 for none) as its connect_timeout (whole seconds, at
    least 2) and, in the options it gives the server (after those a connection by `url` takes: the URL's, else
    PGOPTIONS' or a service file's), lock_timeout, as pgscore health sets them."""
    import contextlib
    import math

    import psycopg2
    import psycopg2.extensions

    from pgscore import migrate

    dsn = migrate.libpq_dsn(url)
    if not limit:
        return dsn
    timeout = max(2, math.ceil(limit))
    # an options given replaces all libpq would take: the URL's, PGOPTIONS' and a service file's (pg_service.conf:
    # its options were dropped, review r2 of session 65); those a connection takes, kept (else, unreachable: the
    # URL's or PGOPTIONS', and the error is require_installed's to say)
    # (session 71) a plain connection, which runs no statement: connect_catalog_first's SET ran under the options'
    # own statement_timeout, and where it ran out (1ms in a service file, on a loaded machine) the fallback below
    # dropped the service file's options, and status ran without them (test_status_timeout_keeps_the_options_...)
    try:
        with contextlib.closing(psycopg2.connect(dsn, connect_timeout=timeout)) as conn:
            own = conn.get_dsn_parameters().get("options")
    except psycopg2.Error:
        own = psycopg2.extensions.parse_dsn(dsn).get("options") or os.environ.get("PGOPTIONS")
    options = " ".join(filter(None, [own, f"-c lock_timeout={limit * 1000:.0f}"]))
    return psycopg2.extensions.make_dsn(dsn, options=options, connect_timeout=timeout)


def _timed_out(e):
    """The psycopg2 error behind `e` (itself, or what a PgscoreError was raised from) where it is a lock_timeout
    (55P03) or a statement_timeout (57014); else None."""
    seen = 0
    while e is not None and seen < 5:
        e = getattr(e, "orig", None) or e  # (SQLAlchemy's wrapper of migrate's reads)
        if getattr(e, "pgcode", None) in ("55P03", "57014"):
            return e
        e, seen = e.__cause__, seen + 1
    return None


def _status_timed_out(timeout, step, e, dsn) -> PgscoreError:
    """pgscore status's error where its --timeout ran out: what it was reading, why, and who holds the locks on
    pgscore's tables (a fresh connection: the one that waited has its transaction aborted)."""
    import contextlib

    import psycopg2

    from pgscore import migrate

    why = ("it waited for a lock another session holds (55P03, lock_timeout)" if e.pgcode == "55P03" else
           "its query ran out of time (57014, statement_timeout)")
    try:
        with contextlib.closing(migrate.connect_catalog_first(dsn)) as conn, conn.cursor() as cur:
            cur.execute(_LOCK_HOLDERS)
            holders = cur.fetchall()
    except psycopg2.Error:
        holders = []
    # (on a standby the lock is a transaction's of the primary, which this server's recovery (its startup process:
    # no role, no state) replays: ending this server's process is no fix, session 65 review r2)
    replayed = any(kind == "startup" for *_, kind in holders)
    held = "; ".join((f"{rel} is locked ({mode}) by a transaction on the primary, which this standby's recovery "
                      f"(server process {pid}) replays" if kind == "startup" else
                      f"{rel} is locked ({mode}) by server process {pid} (role {who}, {state}"
                      + (f", in a transaction open since {_in_utc(since):%Y-%m-%d %H:%M:%S %Z}" if since else "") + ")")
                     for rel, mode, pid, who, state, since, kind in holders)
    hint = ((f"{held}: end that transaction on the primary (its pg_locks and pg_stat_activity name it) and run "
             "pgscore status again" if replayed else
             f"{held}: end that transaction (or SELECT pg_catalog.pg_terminate_backend(PID)) and run pgscore status again"
             if held else "a session holding a lock on a table pgscore status reads (a migration's, a LOCK TABLE "
             "left in an open transaction): see pg_locks and pg_stat_activity") if e.pgcode == "55P03" else
            "a server this busy is not healthy")
    return PgscoreError(f"pgscore status could not tell in {timeout}: reading {step}, {why}", sqlstate=e.pgcode,
                        hint=f"{hint}; --timeout sets how long each of its waits lasts (0 for ever)")


# the locks other sessions hold that a read waits for (ACCESS EXCLUSIVE: LOCK TABLE, ALTER, DROP, TRUNCATE, VACUUM
# FULL, a migration's) on this database's tables, pgscore's first; a temporary table's (of no other session's use)
# left out; on a standby, the primary's, which its recovery replays (backend_type startup)
_LOCK_HOLDERS = """SELECT l.relation::pg_catalog.regclass::text, l.mode, a.pid, a.usename, a.state, a.xact_start,
       a.backend_type
  FROM pg_catalog.pg_locks l
  JOIN pg_catalog.pg_stat_activity a ON a.pid OPERATOR(pg_catalog.=) l.pid
  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) l.relation
 WHERE l.granted AND l.locktype OPERATOR(pg_catalog.=) 'relation'
   AND l.mode OPERATOR(pg_catalog.=) 'AccessExclusiveLock'
   AND l.database OPERATOR(pg_catalog.=) (SELECT d.oid FROM pg_catalog.pg_database d
                                           WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())
   AND c.relpersistence OPERATOR(pg_catalog.<>) 't' AND l.pid OPERATOR(pg_catalog.<>) pg_catalog.pg_backend_pid()
 ORDER BY c.relnamespace OPERATOR(pg_catalog.<>) pg_catalog.to_regnamespace('pgscore'), a.xact_start, 1
 LIMIT 3"""


def _status(url, dsn, step, limit):
    import psycopg2

    from pgscore import migrate

    step[0] = "the server's version"
    with migrate.connect_catalog_first(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT current_setting('server_version'), current_database(), current_user")
        version, dbname, user = cur.fetchone()
        _say(f"database: {dbname} (PostgreSQL {version}), connected as {user}")
        if migrate.reached_by_environment_now():
            _say_wrapped(f"found by libpq's variables ({migrate.environment_said()}): no --db, PGSCORE_DATABASE_URL "
                         "or PGSCORE_DATA_DIR was given")
        cur.execute("SELECT pg_catalog.pg_is_in_recovery(), pg_catalog.pg_last_xact_replay_timestamp()")
        standby, replayed = cur.fetchone()
        if standby:  # a read replica: what follows is the primary's, as far as replayed; nothing here writes
            _say_wrapped(
                "server: a hot standby (a read replica), replayed up to "
                + (f"a transaction of {_in_utc(replayed):%Y-%m-%d %H:%M:%S %Z}" if replayed
                   else "where it started (no transaction replayed since)")
                + ": scoring here works and is not logged (docs/sql.md, 'On a standby'); deploy, rollback, "
                "retire, maintain, retry, refresh-windows and the monitoring refresh run against the primary, "
                "and the fixes below too (PRIMARY_URL: the primary's URL)")
            hint_the_primary()  # the fixes' commands name the primary (with the standby's URL each failed: 25006)
        step[0] = "the schema revision (pgscore_alembic_version)"
        current, head = migrate.current(dsn), migrate.head()
        behind = ("" if current == head else
                  f"; upgrade it with: {command('install')}" if current < head else  # 0001... sort
                  "; newer than this pgscore: run the pgscore that installed it")
        _say(f"pgscore schema: revision {current} (this pgscore's head: {head}){behind}")
        step[0] = "the databases on this server (a repair's scratch database left behind)"
        found = migrate.leftover_scratch_why(cur)
        marked, unmarked = ([n for n, _ in names] for names in found)
        why = dict(found[1])
        if marked or unmarked:  # (status drops nothing: install does, session 65)
            every = marked + unmarked
            cur.execute("SELECT pg_catalog.current_database()")
            here = cur.fetchone()[0]

            def left(n):
                # (session 67) one named as a repair's (pgscore_repair_scratch_*) left because somebody is connected
                # to it was said "not marked as one: an earlier pgscore's, or not one": the next install drops it
                # once nobody is; and where that somebody is this status, it says so
                if why[n].startswith("not marked (its repair killed"):
                    return (f"{n} (named as a repair's, not marked: its repair was killed before it marked it) is "
                            + ("this database, which pgscore status is connected to (run it against your "
                               "database)" if n == here else "left while somebody is connected to it (SELECT pid, "
                               f"usename, application_name FROM pg_catalog.pg_stat_activity WHERE datname OPERATOR(pg_catalog.=) "
                               f"'{n}')")
                            + f": the next {command('install')} drops it once nobody is")
                return f"{n} (not marked as one: an earlier pgscore's, or not one) is left to you"
            # (a standby's pg_locks hold none of the primary's advisory locks: a repair running on the primary is
            # not seen there, and its scratch database was said as one left behind: review r2 of session 65)
            _say_wrapped(
                f"WARNING: {', '.join(every)}: the scratch database{'s' if len(every) > 1 else ''}"
                + (" of a pgscore install --repair on the primary, which may still run with "
                   f"{'them' if len(every) > 1 else 'it'} (a standby sees none of the primary's locks: pgscore "
                   "status on the primary tells); if none runs: " if standby else
                   " of a pgscore install --repair that was interrupted (killed, or its connection lost), left on "
                   "this server, no repair running with it: ")
                + (f"the next {command('install')} drops {', '.join(marked)}" if marked else "")
                + ("; " if marked and unmarked else "")
                + "; ".join(left(n) for n in unmarked)
                + f"; or by hand{' on the primary' if standby else ''}: "
                + "; ".join(f"DROP DATABASE {n} WITH (FORCE)" for n in every))
        step[0] = "the database's Python (pgscore.validate_environment())"
        cur.execute("SELECT pgscore.validate_environment()")
        env = cur.fetchone()[0]
        env = json.loads(env) if isinstance(env, str) else env
        _print_env(env, _embedded_data_dir(cur))
        signing = env.get("signing", "off")
        _say(f"signing: {signing}")
        step[0] = "the models' signatures"
        _say_unbound_signatures(cur)
        step[0] = "who may write models"
        cur.execute("""SELECT r.rolname, r.rolsuper FROM pg_catalog.pg_roles r
                        WHERE r.rolname !~ '^pg_'
                          AND (pg_catalog.has_table_privilege(r.oid, 'pgscore.artifacts', 'INSERT')
                               OR pg_catalog.has_table_privilege(r.oid, 'pgscore.models', 'INSERT'))
                        ORDER BY r.rolsuper DESC, r.rolname""")
        writers = cur.fetchall()
        who = ", ".join(f"{r}{' (superuser)' if su else ''}" for r, su in writers) or "nobody"
        _say(f"may write models and artifacts: {who}")
        step[0] = "the other databases of the cluster with pgscore"
        for line in cluster_sharing_warnings(cur):
            _say_wrapped("WARNING: " + line)
        if signing != "on":
            _say_wrapped("WARNING: " + unsigned_warning(url))
        step[0] = "pgscore's roles and their grants"
        cur.execute(_ROLES)
        roles = cur.fetchall()
        lacking = [f"{name} {'does not exist' if missing else 'lacks its grants'}" for name, missing, ok, _ in roles
                   if missing or not ok]
        # the app's grant there, but not on a column scoring writes (revoked by hand, say): that column's GRANT
        columns = [(name, cols) for name, missing, ok, cols in roles if ok and cols]
        for name, cols in columns:
            _say_wrapped(f"WARNING: roles: {name} lacks INSERT on pgscore.prediction_log ({cols}), which every "
                         f"scoring path writes, and scoring fails: GRANT INSERT ({cols}) ON pgscore.prediction_log "
                         f"TO {name}; docs/sql.md, Roles")
        roles = [row[:3] for row in roles]
        cur.execute(_WRITTEN_BY_WRITERS)
        parts = {}
        for table, name in cur.fetchall():  # (0139: a row's login holds while no role but the owner may write it)
            if table != "prediction_log":
                parts.setdefault(name, []).append(f"pgscore.{table}")
                continue
            _say_wrapped(f"WARNING: roles: {name} may INSERT pgscore.prediction_log.written_by, so its rows may name "
                         f"any login: REVOKE INSERT ON pgscore.prediction_log FROM {name}; "
                         # (PUBLIC: no install grants it the log; its columns' grant would give every role them)
                         + ("" if name == "PUBLIC" else
                            f"GRANT INSERT (model_id, entity_key, features, score, label, source, cause) ON "
                            f"pgscore.prediction_log TO {name}; ")
                         + "docs/sql.md, Roles")
        # a partition's INSERT writes the row straight into it, the log's columns' grant not applied: one line a
        # role, however many days (GRANT ... ON ALL TABLES, ALTER DEFAULT PRIVILEGES ... ON TABLES gives each new one)
        for name, tables in parts.items():
            n = len(tables)
            _say_wrapped(f"WARNING: roles: {name} may INSERT written_by into {n} partition{'s' if n > 1 else ''} of "
                         f"pgscore.prediction_log, so its rows may name any login: REVOKE INSERT ON "
                         f"{', '.join(tables)} FROM {name} (and where a default privilege gives each new day it, "
                         f"\\ddp pgscore: ALTER DEFAULT PRIVILEGES ... REVOKE); docs/sql.md, Roles")
        if lacking:
            acl = "pg_restore -l DUMP | grep ' ACL ' > acl.list; pg_restore -L acl.list -d DB DUMP"
            # (not the whole dump again into this database: its audit log has no unique key, and every row of it
            # would be there twice)
            fix = ("create the roles (the pgscore_* lines of pg_dumpall --roles-only on the old cluster), then "
                   f"restore the grants alone from the dump's access lists: {acl} (restoring the whole dump again "
                   "into this database would load its audit rows a second time)" if any(m for _, m, _ in roles)
                   else f"its grants are in the dump's access lists, restored alone with: {acl} (or restore the "
                        "roles first, then the dump into a new database)")
            _say_wrapped(
                f"WARNING: roles: {'; '.join(lacking)} (a database restored into another cluster without its roles, "
                f"say): {fix}; docs/sql.md, Roles")
        # (every version, also one without its artifact: a partial restore, which the views leave out)
        step[0] = "the models (pgscore.models, artifacts, live_models)"
        # (session 70: count schema-qualified: pg_catalog's takes "any", and the database owner's count(text) in
        # public was the exact match for count(DISTINCT m.name), run as the superuser running pgscore status)
        cur.execute("""SELECT pg_catalog.count(*), pg_catalog.count(DISTINCT m.name), pg_catalog.count(l.model_id),
                              pg_catalog.count(*) FILTER (WHERE a.model_id IS NOT NULL AND a.hmac_sha256 IS NULL),
                              pg_catalog.array_agg(pg_catalog.format('%s v%s', m.name, m.version)
                                                   ORDER BY m.name, m.version) FILTER (WHERE a.model_id IS NULL)
                         FROM pgscore.models m
                         LEFT JOIN pgscore.artifacts a ON a.model_id = m.model_id
                         LEFT JOIN pgscore.live_models l ON l.model_id = m.model_id""")
        versions, names, live, unsigned, bare = cur.fetchone()
        _say(f"models: {names} ({versions} version{'' if versions == 1 else 's'}, {live} live, {unsigned} unsigned)")
        if bare:
            shown = ", ".join(bare[:10]) + (f" and {len(bare) - 10} more" if len(bare) > 10 else "")
            _say_wrapped(
                f"WARNING: {len(bare)} model version(s) without their artifact: {shown}; they cannot be scored, "
                "and pgscore models and the views leave them out. A partial restore leaves this: pg_restore into "
                "a database where pgscore install had run (its constraints refuse the dump's artifacts, "
                "deployments and baselines), or with -t/-L, or pg_restore --data-only without --disable-triggers "
                "(the rescoring triggers fire on the restored events and create profile rows first: your profile "
                "tables' own rows then fail on their key and are lost). Restore the whole dump into a new, empty "
                "database instead, or its data with --disable-triggers (docs/sql.md, Moving a database)")
        if signing in ("on", "off"):  # live versions this server refuses to load: every score of them fails
            cur.execute("""SELECT pg_catalog.format('%%s v%%s', l.name, l.version) FROM pgscore.live_models l
                             JOIN pgscore.artifacts a ON a.model_id OPERATOR(pg_catalog.=) l.model_id
                            WHERE (a.hmac_sha256 IS NULL) OPERATOR(pg_catalog.=) %s ORDER BY l.name""",
                        (signing == "on",))
            unloadable = [r[0] for r in cur.fetchall()]
            if unloadable:
                why = ("unsigned, and this server signs its models" if signing == "on" else
                       "signed, and this server has no signing key to verify them with")
                fix = (f"deploy them again ({command('deploy')}), which signs them" if signing == "on" else
                       f"start the server with the key they were signed with ({with_signing_key(url)})")
                _say_wrapped(
                    f"WARNING: live: {', '.join(unloadable)}: {why}; every score of them fails: {fix}")
        else:
            unloadable = []
        step[0] = "the live versions, each loaded as a score loads it (pgscore.load_model)"
        failing = _say_live_versions_that_do_not_load(cur, url, set(unloadable))
        step[0] = "the models' signatures"
        _say_first_scheme_signatures(cur, url, signing, set(unloadable) | failing)
        step[0] = "the shadow versions (pgscore.shadows, shadow_failures)"
        _say_shadows(cur)
        step[0] = "the monitoring (pgscore.monitoring_state, the alerts the last refresh stored)"
        cur.execute("SELECT rolled_until, refreshed_at FROM pgscore.monitoring_state")
        state = cur.fetchone()
        rolled, refreshed = state or (None, None)
        _say("monitoring: " + (f"last refresh {_in_utc(refreshed):%Y-%m-%d %H:%M:%S %Z}, "
                                f"rollups until {_in_utc(rolled):%H:%M %Z}"
                                if refreshed else "never refreshed (SELECT * FROM pgscore.refresh_monitoring())"
                                if state else
                                # (a partial restore that left it empty: status failed, cannot unpack None; 0145)
                                "pgscore.monitoring_state has no row (a partial restore?): the next SELECT * FROM "
                                "pgscore.refresh_monitoring() puts it back, and rolls the log up again; until then "
                                "no alert is stored"))
        if refreshed:
            # (a shadow version's apart: pgscore drift shows the live versions', the view pgscore.alerts both; each
            # as it was at the refresh)
            cur.execute("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid OPERATOR(pg_catalog.=) "
                        "'pgscore.alert_state'::pg_catalog.regclass AND a.attname OPERATOR(pg_catalog.=) 'shadow' "
                        "AND NOT a.attisdropped)")
            recorded = cur.fetchone()[0]
            cur.execute("SELECT pg_catalog.to_regclass('pgscore.alert_silences') IS NOT NULL")
            silenced = _SILENCED if cur.fetchone()[0] else "false"  # (a schema before 0126 has no silences)
            cur.execute(_ALERTS.format(recorded="NOT a.shadow, " if recorded else "", silenced=silenced))
            # per model, the conditions (a what, subject and metric at a level, in the windows it fires in: a line
            # of pgscore drift's alerts table) at each level; before, the rows summed over the models and windows
            # ('30 at level alert' for two incidents, a feature's metric firing in 5 windows counted 5 times). A
            # condition silenced in every window it fires in is not counted, as pgscore drift does not (0126)
            # (per model: one count for the fleet was said after whichever model came last, hT11 of session 62,
            # and a model whose every condition was silenced was left out)
            conditions, shadow_conditions, silenced = {}, {}, {}
            for level, live, model, n, muted in cur.fetchall():
                if muted:  # (the live versions', as the line counts them; a shadow's silenced are left out)
                    if live:
                        silenced[model] = silenced.get(model, 0) + 1
                    continue
                into = conditions if live else shadow_conditions
                into.setdefault(model, {}).setdefault(level, []).append(n)
            _say_wrapped(f"alerts at the last refresh: {_counted_conditions(conditions, silenced)}"
                         + f" (details: {command('drift')}"
                         + (f"; silences: {command('silences')})" if silenced else ")")
                         + (f"; of shadow versions: {_counted_conditions(shadow_conditions)} "
                            "(SELECT * FROM pgscore.alerts WHERE shadow)" if shadow_conditions else ""))
        step[0] = "the prediction log's partitions"
        cur.execute(_PARTITIONS)
        last, today, has_today, in_default, gaps = cur.fetchone()
        latest = None
        if in_default:  # (the latest day there, as maintain reads it)
            from pgscore.scoring import DEFAULT_LATEST

            cur.execute(DEFAULT_LATEST)
            (latest,), = cur.fetchall()
        gaps = gaps or []
        if not has_today:
            _say("prediction log: WARNING: no partition for today (UTC): its rows go to the default partition, which "
                 f"retention cannot drop by the day; create them with: {command('maintain')} (daily, from cron)")
        if gaps:  # days dropped by hand, or partitions made ahead of days that have none
            fix = partitions_until(gaps[0], gaps[-1], today)
            days = ", ".join(f"{g:%Y-%m-%d}" for g in gaps[:5]) + (f" and {len(gaps) - 5} more" if len(gaps) > 5 else "")
            _say(f"prediction log: WARNING: no partition for {days} (UTC), though later days have one (until "
                 f"{last:%Y-%m-%d}): {'their' if len(gaps) > 1 else 'that day' + chr(39) + 's'} rows will go to the "
                 f"default partition; create {'them' if len(gaps) > 1 else 'it'} with: {fix}")
        if has_today and not gaps:
            _say(f"prediction log: daily partitions until {last:%Y-%m-%d} (UTC), {(last - today).days} day(s) after "
                 f"today's; {command('maintain')} daily keeps them ahead")
        step[0] = "the prediction log's size and oldest day"
        cur.execute(_LOG_SIZE)
        total, oldest, oldest_in_default = cur.fetchone()
        _say(f"prediction log: {total} on disk (indexes included)"
             + (f", its oldest day holding rows {oldest:%Y-%m-%d} (UTC)" if oldest else "")
             + (", in the default partition (days that had no partition of their own), where --keep deletes rows "
                "but frees no disk until a VACUUM FULL pgscore.prediction_log_default (docs/operations-disk.md, "
                "'The way out', step 2)" if oldest_in_default else "")
             + f"; {command('maintain')} --keep '90 days' deletes the days older than that "
             "(docs/operations-disk.md)")
        step[0] = "the query-path log setting"
        _say_query_log_setting(cur)
        step[0] = "the prediction log's default partition"
        if in_default:
            ahead = latest is not None and (last is None or latest > last)
            _say(f"prediction log: {'over ' if in_default > _DEFAULT_ROWS else ''}"
                 f"{min(in_default, _DEFAULT_ROWS):,} row(s) in the default partition, of days that had no partition "
                 "of their own" + (f" (the latest {latest:%Y-%m-%d} UTC)" if latest else "") + ": "
                 + (f"{command('maintain')} moves those of past days into partitions of their days (31 days a "
                    f"run); those of the days after {last:%Y-%m-%d}, the last partition's, stay there until their "
                    f"partitions are made: {partitions_until(last + datetime.timedelta(1), latest, today)}"
                    if ahead and last is not None else
                    f"{command('maintain')} moves them into partitions of their days (31 days a run)"))
        step[0] = "the rescoring wirings and the error queue (pgscore.rescoring, error_queue)"
        _rescoring_status(cur)
        step[0] = "pgscore.health()"
        _say_health(cur, step, limit)
    return 0


# the settings of pgscore.log_queries made by ALTER ROLE / ALTER DATABASE that apply in this database
_LOG_SETTINGS = """
SELECT CASE WHEN s.setrole = 0 AND s.setdatabase = 0 THEN 'every role'
            WHEN s.setrole = 0 THEN 'database ' || d.datname
            WHEN s.setdatabase = 0 THEN 'role ' || r.rolname
            ELSE 'role ' || r.rolname || ' in database ' || d.datname END,
       pg_catalog.substr(c.c, pg_catalog.length('pgscore.log_queries=') + 1),
       -- the statement that removes it
       CASE WHEN s.setrole = 0 AND s.setdatabase = 0 THEN 'ALTER ROLE ALL'
            WHEN s.setrole = 0 THEN pg_catalog.format('ALTER DATABASE %I', d.datname)
            WHEN s.setdatabase = 0 THEN pg_catalog.format('ALTER ROLE %I', r.rolname)
            ELSE pg_catalog.format('ALTER ROLE %I IN DATABASE %I', r.rolname, d.datname) END
            || ' RESET pgscore.log_queries'
  FROM pg_catalog.pg_db_role_setting s
 CROSS JOIN LATERAL pg_catalog.unnest(s.setconfig) c(c)
  LEFT JOIN pg_catalog.pg_roles r ON r.oid = s.setrole
  LEFT JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase
 WHERE s.setdatabase IN (0, (SELECT o.oid FROM pg_catalog.pg_database o
                               WHERE o.datname = pg_catalog.current_database()))
   AND pg_catalog.lower(c.c) LIKE 'pgscore.log_queries=%'
 ORDER BY s.setrole <> 0, s.setdatabase = 0 DESC, r.rolname"""


def _say_query_log_setting(cur):
    """The query path's log setting in force here (the server's, as far as this login can tell) and each role's
    and database's own (ALTER ROLE / DATABASE ... SET pgscore.log_queries), which no scoring session shows."""
    import psycopg2

    from pgscore import auditlog

    cur.execute("SELECT s.setting, s.source FROM pg_catalog.pg_settings s WHERE s.name = 'pgscore.log_queries'")
    row = cur.fetchone()
    server = "all"
    if row and row[1] not in ("user", "database", "database user", "session", "client"):
        server = row[0]
    elif row:  # this session's value came from a role's or database's setting: the server's own is the file's
        cur.execute("SAVEPOINT pgscore_file_settings")
        try:
            cur.execute("SELECT f.setting FROM pg_catalog.pg_file_settings f WHERE f.name = 'pgscore.log_queries' "
                        "AND f.applied ORDER BY f.seqno DESC LIMIT 1")
            got = cur.fetchone()
            server = got[0] if got else "all"
        except psycopg2.Error:  # (pg_file_settings is the superuser's)
            cur.execute("ROLLBACK TO SAVEPOINT pgscore_file_settings")
            server = "the server's own unknown to this login"
        cur.execute("RELEASE SAVEPOINT pgscore_file_settings")
    cur.execute(_LOG_SETTINGS)
    rows = cur.fetchall()
    known = ([] if server.startswith("the server") else
             [("the server", server, "ALTER SYSTEM RESET pgscore.log_queries (or postgresql.conf's line)")])
    # each value as the query path reads it: a rate that samples (0 < rate < 1: '1.0' logs every row), or none
    # pgscore reads ('10%'), which fails every score of the sessions that take it (22023) and was listed as a rate
    sampled, invalid = False, []
    for who, value, reset in known + rows:
        try:
            sampled = sampled or 0.0 < auditlog.parse_mode(value) < 1.0
        except PgscoreError:
            invalid.append((who, value, reset))
    notes = [f"{who}: {value}" for who, value, _ in rows]
    notes += ["sampled rows say their rate: cause->>'sample_rate'"] if sampled else []
    _say_wrapped(f"query-path log: {server}" + (f" ({'; '.join(notes)})" if notes else ""))
    for who, value, reset in invalid:
        _say_wrapped(f"WARNING: query-path log: {who}'s pgscore.log_queries {value!r} is not all, off or a rate "
                     "between 0 and 1: every score, predict and predict_proba of its sessions fails (22023): "
                     f"{reset} (or SET it to a value that is)")


def _say_health(cur, step, limit):
    """The last line: pgscore.health()'s checks that are not ok (status itself exits 0 whatever it finds: it
    reports; pgscore health is the probe, exit 1 on any). Nothing on a schema before 0140. Bounded as pgscore
    health bounds it (`limit` seconds, 0 for none): where status's --timeout runs out in it, `step` names the
    check it was at (_health_check_at)."""
    import psycopg2.errors

    cur.execute("SELECT pg_catalog.to_regprocedure('pgscore.health()') IS NOT NULL")
    if not cur.fetchone()[0]:
        return
    cur.execute("SAVEPOINT pgscore_status_health")
    # (its statement_timeout 500 ms past lock_timeout, so that a wait for a lock is said as one)
    cur.execute("SELECT pg_catalog.set_config('statement_timeout', %s, true)",
                (f"{min(limit * 1000 + 500, 2_147_483_647):.0f}ms" if limit else "0",))
    try:
        cur.execute("SELECT h.check_name, h.state FROM pgscore.health() AS h")
    except (psycopg2.errors.LockNotAvailable, psycopg2.errors.QueryCanceled) as e:
        cur.execute("ROLLBACK TO SAVEPOINT pgscore_status_health")
        check = _health_check_at(cur, e.diag.context)
        if check:
            step[0] = f"pgscore.health()'s check {check}"
        raise
    bad = sorted((r for r in cur.fetchall() if r[1] != "ok"), key=lambda r: (r[1] != "fail", r[0]))
    worst = "OK" if not bad else "FAIL" if bad[0][1] == "fail" else "WARN"
    _say(f"health: {worst}" + (": " + ", ".join(f"{n} {st}" for n, st in bad) if bad else "")
         + f" ({command('health')}; status exits 0 whatever it finds)")


def _health_check_at(cur, context) -> str | None:
    """The check of pgscore.health(text[]) whose statement an error's CONTEXT names (`PL/pgSQL function
    pgscore.health(text[]) line N at ...`): the first `check_name := '...'` at or after line N of the function's
    body as this database has it (each check's query comes before its name is set); None where it cannot tell."""
    m = re.search(r"PL/pgSQL function pgscore\.health\(text\[\]\) line (\d+)", context or "")
    if not m:
        return None
    cur.execute("SELECT p.prosrc FROM pg_catalog.pg_proc p "
                "WHERE p.oid OPERATOR(pg_catalog.=) pg_catalog.to_regprocedure('pgscore.health(text[])')")
    row = cur.fetchone()
    lines = (row[0] if row else "").split("\n")[int(m.group(1)) - 1:]
    return next((n.group(1) for n in map(lambda line: re.search(r"check_name := '(\w+)'", line), lines) if n), None)


def _say_live_versions_that_do_not_load(cur, url, named):
    """Each live version (but those `named` already) that this server fails to load, as its first score would:
    pgscore.load_model verifies the artifact's sha256 and signature with the server's key and reads it. A
    database restored into a cluster with another signing key (or a version stored signed with another) says
    signing on and signed, and every score of it fails; a restore that lost the artifacts likewise."""
    import psycopg2

    from pgscore.errors import server_message

    cur.execute("SELECT l.model_id, pg_catalog.format('%s v%s', l.name, l.version) FROM pgscore.live_models l "
                "ORDER BY l.name")
    failed = []
    for model_id, label in cur.fetchall():
        if label in named:
            continue
        cur.execute("SAVEPOINT pgscore_status_load")
        try:
            cur.execute("SELECT pgscore.load_model(%s)", (model_id,))
        except psycopg2.Error as e:
            if e.pgcode in ("55P03", "57014"):  # (status's --timeout: no fault of the version's)
                raise
            cur.execute("ROLLBACK TO SAVEPOINT pgscore_status_load")
            failed.append((label, e.pgcode, server_message(e.diag.message_primary) or str(e).strip()))
        cur.execute("RELEASE SAVEPOINT pgscore_status_load")
    keyed = [label for label, _, msg in failed if "does not verify" in msg]
    if keyed:  # one warning, one fix, for the versions signed with another key
        _say_wrapped(
            f"WARNING: live: {', '.join(keyed)}: signed with another key than this server's (the signature does not "
            "verify: a database restored from another cluster, say); every score of them fails, and rescoring "
            f"queues their profiles: start the server with the key they were signed with ({with_signing_key(url)}), "
            f"or deploy them again ({command('deploy')}), which signs them with this server's")
    for label, code, msg in failed:
        if label not in keyed:
            _say_wrapped(
                f"WARNING: live: {label}: this server cannot load it ({code}: {msg}); every score of it fails, and "
                f"rescoring queues its profiles: deploy it again ({command('deploy')}), or make another version "
                f"live ({command('rollback')})")
    return {label for label, _, _ in failed}


# the versions whose signature of what loads (the evaluator where it has bytes, else the pickle) is of the first
# scheme: those pgscore.unbound_signatures = 'refuse' refuses
_UNBOUND_LOADED = """SELECT pg_catalog.count(*) FROM pgscore.models m
                       LEFT JOIN pgscore.artifacts a ON a.model_id OPERATOR(pg_catalog.=) m.model_id
                       LEFT JOIN pgscore.evaluators e ON e.model_id OPERATOR(pg_catalog.=) m.model_id
                      WHERE CASE WHEN e.sha256 IS NOT NULL THEN e.hmac_sha256 ELSE a.hmac_sha256 END
                            OPERATOR(pg_catalog.!~) '^v2:'"""


def _say_unbound_signatures(cur):
    """The mode of pgscore.unbound_signatures (as this session reads it: the server's, the database's or the
    role's) and how many versions it refuses, or would refuse."""
    from pgscore.artifacts import refuse_unbound

    cur.execute("SELECT pg_catalog.current_setting('pgscore.unbound_signatures', true)")
    value = cur.fetchone()[0]
    try:
        refuse = refuse_unbound(value)
    except PgscoreError:
        _say_wrapped(
            f"unbound signatures: WARNING: pgscore.unbound_signatures is {value!r}, neither 'accept' nor 'refuse': "
            "every load of a model fails (22023) until it is one of them")
        return
    cur.execute(_UNBOUND_LOADED)
    n = cur.fetchone()[0]
    _say(f"unbound signatures: {'refuse' if refuse else 'accept'} (pgscore.unbound_signatures; "
         + (f"{n} version(s) signed under the first scheme {'are' if refuse else 'would be'} refused at load"
            + (f": {command('resign')} binds them" if n else "") + ")"))


def _say_first_scheme_signatures(cur, url, signing, named):
    """How many versions (but the live ones `named` already, which do not load) carry a signature of the first
    scheme, the bytes alone: their rows copied into another model or version verify there too, until pgscore
    resign signs them again bound to their model and version. The live ones by name."""
    cur.execute("""SELECT pg_catalog.format('%s v%s', m.name, m.version), l.model_id IS NOT NULL
                     FROM pgscore.models m
                     LEFT JOIN pgscore.artifacts a ON a.model_id = m.model_id
                     LEFT JOIN pgscore.evaluators e ON e.model_id = m.model_id
                     LEFT JOIN pgscore.live_models l ON l.model_id = m.model_id
                    WHERE a.hmac_sha256 !~ '^v2:' OR e.hmac_sha256 !~ '^v2:'
                    ORDER BY m.name, m.version""")
    rows = [(label, live) for label, live in cur.fetchall() if label not in named]
    if not rows:
        return
    live = [label for label, is_live in rows if is_live]
    fix = f"{command('resign')} signs them again, bound to their model and version, and names each"
    if signing != "on":
        fix = f"with the server started with the key they were signed with ({with_signing_key(url)}), {fix}"
    _say_wrapped(
        f"WARNING: {len(rows)} model version(s) signed under the first scheme, the bytes alone (their rows copied "
        "into another model or version verify there too)" + (f", live: {', '.join(live)}" if live else "")
        + f": {fix} (docs/operations.md, 'Signing')")


def _say_shadows(cur):
    """The versions scored in shadow, each with the live version it shadows, and what each failed to score since
    it was set (pgscore.shadow_failures, summed over the backends: per table and SQLSTATE, the newest reason).
    Nothing on a schema from before shadow scoring; no counts on one from before they were kept."""
    cur.execute("SELECT pg_catalog.to_regclass('pgscore.shadows') IS NOT NULL, "
                "pg_catalog.to_regclass('pgscore.shadow_failures') IS NOT NULL")
    shadowing, counted = cur.fetchone()
    if not shadowing:
        return
    cur.execute("""SELECT s.name, s.version, s.model_id, l.version, s.since, s.set_by, s.reason
                     FROM pgscore.shadow_versions s LEFT JOIN pgscore.live_models l ON l.name = s.name
                    ORDER BY s.name, s.version""")
    shadows = cur.fetchall()
    if not shadows:
        _say(f"shadows: none ({command('shadow NAME VERSION')} scores a version next to the live one)")
        return
    failures = {}
    if counted:
        cur.execute("""SELECT f.model_id, f.relation, f.sqlstate, sum(f.statements)::bigint, sum(f.profiles)::bigint,
                              max(f.last_at), (pg_catalog.array_agg(f.last_message ORDER BY f.last_at DESC))[1]
                         FROM pgscore.shadow_failures f WHERE f.model_id = ANY (%s)
                        GROUP BY f.model_id, f.relation, f.sqlstate ORDER BY 1, 4 DESC""",
                    ([r[2] for r in shadows],))
        for model_id, *rest in cur.fetchall():
            failures.setdefault(model_id, []).append(rest)
    for name, version, model_id, live, since, by, reason in shadows:
        next_to = f"next to v{live}" if live is not None else "no live version: scores nothing until one is made live"
        _say(f"shadow: {name} v{version}, {next_to}, since {_in_utc(since):%Y-%m-%d %H:%M %Z} by {by}"
             + (f": {reason}" if reason else "") + (", no failure counted" if counted and model_id not in failures
                                                     else ""))
        for relation, state, statements, profiles, last, message in failures.get(model_id, []):
            _say_wrapped(
                f"WARNING: shadow {name} v{version}: {statements:,} statement(s) or chunk(s) of {relation} in which it "
                f"did not score ({profiles:,} profile(s) or row(s)), SQLSTATE {state}, the last at "
                f"{_in_utc(last):%Y-%m-%d %H:%M:%S %Z}: {message}; the live version's scores were written: fix the "
                f"cause, or stop the shadow: {command(f'shadow {name} {version} --off')}")


def _counted_conditions(by_model: dict, silenced: dict | None = None) -> str:
    """{model: {level: [windows of each condition]}} as `churn: 3 conditions at alert (in 1-5 windows), 1 condition
    at warn (in 2 windows), 2 silenced; fraud: ...`, alert first, then warn, then the model's conditions silenced
    ({model: how many}; a model with these alone `churn_eu: none at warn or alert, 5 silenced`); "none" for none."""
    silenced = silenced or {}
    parts = []
    for model in sorted(set(by_model) | set(silenced)):
        levels = by_model.get(model, {})
        said = []
        for level in sorted(levels, key=lambda lv: ({"alert": 0, "warn": 1}.get(lv, 2), lv)):
            ws = levels[level]
            span = str(min(ws)) if min(ws) == max(ws) else f"{min(ws)}-{max(ws)}"
            said.append(f"{len(ws)} condition{'s' if len(ws) != 1 else ''} at {level} "
                        f"(in {span} window{'s' if max(ws) != 1 else ''})")
        said = said or ["none at warn or alert"]
        said += [f"{silenced[model]} silenced"] if silenced.get(model) else []
        parts.append(f"{model}: {', '.join(said)}")
    return "; ".join(parts) or "none"


# per condition (model, version, what, subject, metric, level: how many windows it fires in), whether the version was
# the live one at the last refresh: as the refresh recorded it (alert_state.shadow), else (a row or a schema from
# before it) where the newest deployment of its name by then made it live, else a shadow then (a shadow is scored next
# to a live version: a name with none then counts as live): what it is now may differ (a shadow stopped or made live
# since). (By refreshed_at, the refresh's start, a version made live while it ran had its live alerts counted as a
# shadow's.)
_ALERTS = """SELECT a.level, COALESCE({recorded}a.version OPERATOR(pg_catalog.=) (
                   SELECT CASE WHEN d.action OPERATOR(pg_catalog.<>) 'retire' THEN m.version END
                     FROM pgscore.deployments d JOIN pgscore.models m ON m.model_id OPERATOR(pg_catalog.=) d.model_id
                    WHERE d.model_name OPERATOR(pg_catalog.=) a.model
                      AND d.deployed_at OPERATOR(pg_catalog.<=) s.refreshed_at
                    ORDER BY d.deployment_id DESC LIMIT 1), true) AS live, a.model, pg_catalog.count(*),
                   pg_catalog.bool_and({silenced}) AS silenced
              FROM pgscore.alert_state a CROSS JOIN pgscore.monitoring_state s
             GROUP BY 1, 2, 3, a.version, a.what, a.subject, a.metric"""
# whether a silence in force now mutes an alert_state row a (migration 0126), as pgscore.alerts matches them: the
# condition is counted unless every window it fires in is silenced (as pgscore drift counts it)
_SILENCED = """EXISTS (SELECT 1 FROM pgscore.alert_silences q
                WHERE q.model OPERATOR(pg_catalog.=) a.model AND q.lifted_at IS NULL
                  AND q.starts_at OPERATOR(pg_catalog.<=) pg_catalog.now()
                  AND q.ends_at OPERATOR(pg_catalog.>) pg_catalog.now()
                  AND (q.what IS NULL OR q.what OPERATOR(pg_catalog.=) a.what)
                  AND (q.subject IS NULL OR q.subject OPERATOR(pg_catalog.=) a.subject)
                  AND (q.metric IS NULL OR q.metric OPERATOR(pg_catalog.=) a.metric)
                  AND (q.window_name IS NULL OR q.window_name OPERATOR(pg_catalog.=) a.window_name)
                  AND (q.shadow IS NULL OR q.shadow OPERATOR(pg_catalog.=) a.shadow))"""
# pgscore's roles, whether each is missing, and whether it has one grant install gives it (on any column: the
# app's INSERT on the log is on its columns but logged_at, migration 0127)
# each pgscore role, whether it is missing, whether it holds the grant that says it has its grants, and the app's
# columns of the log it may not insert: scoring writes every column but logged_at and written_by (granted each since
# 0127, which no role may insert; written_by since 0139), so one revoked fails every scoring call (a grant on any
# column counted as the grant before)
# the roles granted INSERT on the written_by of the log or of one of its partitions (a table-wide GRANT INSERT, say;
# ALTER DEFAULT PRIVILEGES, on each day create_log_partitions makes), but the table's owner (migration 0139)
_WRITTEN_BY_WRITERS = """
SELECT DISTINCT pg_catalog.quote_ident(c.relname),
       CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(r.rolname) END
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = 'written_by'
 CROSS JOIN LATERAL pg_catalog.aclexplode(pg_catalog.array_cat(c.relacl, a.attacl)) g
  LEFT JOIN pg_catalog.pg_roles r ON r.oid = g.grantee
 WHERE (c.oid = 'pgscore.prediction_log'::pg_catalog.regclass::pg_catalog.oid
        OR c.oid IN (SELECT i.inhrelid FROM pg_catalog.pg_inherits i
                      WHERE i.inhparent = 'pgscore.prediction_log'::pg_catalog.regclass::pg_catalog.oid))
   AND g.privilege_type = 'INSERT' AND g.grantee <> c.relowner
 ORDER BY 2, 1"""
_ROLES = """SELECT w.name, r.oid IS NULL AS missing,
                   r.oid IS NOT NULL AND pg_catalog.has_any_column_privilege(r.oid, w.obj, w.priv) AS ok,
                   (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum)
                      FROM pg_catalog.pg_attribute a
                     WHERE w.name OPERATOR(pg_catalog.=) 'pgscore_app' AND r.oid IS NOT NULL
                       AND a.attrelid OPERATOR(pg_catalog.=) 'pgscore.prediction_log'::pg_catalog.regclass
                       AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
                       AND a.attname OPERATOR(pg_catalog.<>) ALL (ARRAY['logged_at', 'written_by']::pg_catalog.name[])
                       AND NOT pg_catalog.has_column_privilege(r.oid, a.attrelid, a.attnum, 'INSERT')) AS columns
              FROM (VALUES ('pgscore_admin', 'pgscore.models', 'INSERT'),
                           ('pgscore_app', 'pgscore.prediction_log', 'INSERT'),
                           ('pgscore_reader', 'pgscore.alerts', 'SELECT')) AS w(name, obj, priv)
              LEFT JOIN pg_catalog.pg_roles r ON r.rolname = w.name
             ORDER BY w.name"""
# the newest daily partition of the log (named prediction_log_YYYYMMDD by create_log_partitions)
# and whether today has one (not only a later day), the rows in the default partition (counted up to
# _DEFAULT_ROWS + 1: a bound, not a scan of a default partition that grew large), and the days after today,
# up to the newest partition's, that have none
_DEFAULT_ROWS = 1_000_000
_PARTITIONS = f"""
WITH d AS (SELECT pg_catalog.to_date(pg_catalog.substring(c.relname, '^prediction_log_([0-9]{{8}})$'), 'YYYYMMDD') AS day
             FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'pgscore.prediction_log'::pg_catalog.regclass::pg_catalog.oid),
     t AS (SELECT (pg_catalog.now() AT TIME ZONE 'UTC')::pg_catalog.date AS today)
SELECT pg_catalog.max(d.day), t.today, COALESCE(pg_catalog.bool_or(d.day OPERATOR(pg_catalog.=) t.today), false),
       (SELECT pg_catalog.count(*) FROM (SELECT 1 FROM pgscore.prediction_log_default
                                          LIMIT {_DEFAULT_ROWS + 1}) AS x),
       (SELECT pg_catalog.array_agg(g.day::pg_catalog.date ORDER BY g.day)
          FROM pg_catalog.generate_series(t.today::pg_catalog.timestamp, (SELECT pg_catalog.max(e.day) FROM d AS e),
                                          '1 day'::pg_catalog.interval) AS g(day)
         WHERE g.day OPERATOR(pg_catalog.>) t.today::pg_catalog.timestamp
           AND NOT EXISTS (SELECT 1 FROM d AS f WHERE f.day OPERATOR(pg_catalog.=) g.day::pg_catalog.date))
  FROM t LEFT JOIN d ON true GROUP BY t.today"""


def partitions_until(first, last, today) -> str:
    """The command that makes the log's daily partitions of the days `first` to `last` (after `today`, UTC):
    pgscore maintain with the --days-ahead that reaches `last`; beyond maintain's 366 days, SQL that makes them
    in blocks of 367 days."""
    need = (last - today).days
    if need <= 366:
        return command("maintain" + (f" --days-ahead {need}" if need > 7 else ""))
    return (f"SELECT pgscore.create_log_partitions(LEAST(366, '{last:%Y-%m-%d}'::date - d::date), d::date) "
            f"FROM pg_catalog.generate_series('{first:%Y-%m-%d}'::date, '{last:%Y-%m-%d}'::date, '367 days') AS d")


# how big the audit log is, and its oldest day holding rows (a size, not a count: a count reads the log): what
# fills a disk first. The oldest day is that of the oldest daily partition holding a row, or of the default
# partition's oldest row where that is older (days that had no partition of their own; the third column says so):
# its min(logged_at) taken per model_id on its (model_id, logged_at) index, model_ids found by skipping through that
# index (a few pages per model; a plain min(logged_at) reads the whole index, 130 ms at a million rows). A daily
# partition holds a row where a read of its day through the log finds one, tried oldest first among those with
# pages until one does: its first page where it holds rows from there; a partition emptied by DELETE keeps its
# pages until VACUUM truncates them, and was counted as holding rows by its size alone (the day is bound per partition,
# so that run-time pruning leaves the other partitions unread; OFFSET 0 keeps the order before the probe). The read
# is bounded: a TID range scan of its first and of its last _PROBE_PAGES pages (no index starts with logged_at, and
# a read of the day scanned an emptied partition's dead pages whole: 32 MB of them per 300k rows, at every status).
# A partition of at most twice that many pages is so read whole, exactly; a bigger one of which neither end holds a
# row holds rows where the cumulative statistics count a live row (pg_stat_get_live_tuples: rows kept only in the
# middle, or the second after a DELETE whose stats have not reached pg_stat yet), and none where they count none and
# saw its rows inserted and as many deleted (emptied by retention's DELETE: its dead pages are not read). Where they
# saw fewer deleted than inserted, or none inserted (no statistics after a crash or pg_stat_reset; an aborted insert),
# the pages between the two ends are read, up to the first live row (a TID range scan: rows kept only in the middle
# were not counted, and the day said was a later one; an emptied partition is then read whole)
_PROBE_PAGES = 16
_LOG_SIZE = f"""
WITH RECURSIVE p AS (
           SELECT i.inhrelid AS oid, pg_catalog.to_date(pg_catalog.substring(c.relname, '^prediction_log_([0-9]{{8}})$'),
                                                        'YYYYMMDD') AS day
             FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'pgscore.prediction_log'::pg_catalog.regclass::pg_catalog.oid),
     m AS (SELECT pg_catalog.min(d.model_id) AS id FROM pgscore.prediction_log_default d
           UNION ALL
           SELECT (SELECT pg_catalog.min(d.model_id) FROM pgscore.prediction_log_default d
                    WHERE d.model_id OPERATOR(pg_catalog.>) m.id)
             FROM m WHERE m.id IS NOT NULL),
     dated AS (SELECT s.day
                 FROM (SELECT p.oid, p.day, (pg_catalog.pg_relation_size(p.oid)
                                             OPERATOR(pg_catalog./) pg_catalog.current_setting('block_size')::pg_catalog.int8)
                                            AS pages
                         FROM p
                        WHERE p.day IS NOT NULL AND pg_catalog.pg_relation_size(p.oid) OPERATOR(pg_catalog.>) 0
                        ORDER BY p.day OFFSET 0) AS s
                WHERE EXISTS (SELECT FROM pgscore.prediction_log l
                               WHERE l.logged_at OPERATOR(pg_catalog.>=)
                                         (s.day::pg_catalog.timestamp AT TIME ZONE 'UTC')
                                 AND l.logged_at OPERATOR(pg_catalog.<)
                                         ((s.day OPERATOR(pg_catalog.+) 1)::pg_catalog.timestamp AT TIME ZONE 'UTC')
                                 AND l.ctid OPERATOR(pg_catalog.<) '({_PROBE_PAGES},0)'::pg_catalog.tid)
                   OR (s.pages OPERATOR(pg_catalog.>) {_PROBE_PAGES}
                       AND EXISTS (SELECT FROM pgscore.prediction_log l
                                    WHERE l.logged_at OPERATOR(pg_catalog.>=)
                                              (s.day::pg_catalog.timestamp AT TIME ZONE 'UTC')
                                      AND l.logged_at OPERATOR(pg_catalog.<)
                                              ((s.day OPERATOR(pg_catalog.+) 1)::pg_catalog.timestamp AT TIME ZONE 'UTC')
                                      AND l.ctid OPERATOR(pg_catalog.>=)
                                              ('(' OPERATOR(pg_catalog.||)
                                               GREATEST(s.pages OPERATOR(pg_catalog.-) {_PROBE_PAGES}, {_PROBE_PAGES})
                                               OPERATOR(pg_catalog.||) ',0)')::pg_catalog.tid))
                   OR (s.pages OPERATOR(pg_catalog.>) {2 * _PROBE_PAGES}
                       AND pg_catalog.pg_stat_get_live_tuples(s.oid) OPERATOR(pg_catalog.>) 0)
                   OR (s.pages OPERATOR(pg_catalog.>) {2 * _PROBE_PAGES}
                       AND NOT (pg_catalog.pg_stat_get_tuples_inserted(s.oid) OPERATOR(pg_catalog.>) 0
                                AND pg_catalog.pg_stat_get_tuples_deleted(s.oid) OPERATOR(pg_catalog.>=)
                                        pg_catalog.pg_stat_get_tuples_inserted(s.oid))
                       AND EXISTS (SELECT FROM pgscore.prediction_log l
                                    WHERE l.logged_at OPERATOR(pg_catalog.>=)
                                              (s.day::pg_catalog.timestamp AT TIME ZONE 'UTC')
                                      AND l.logged_at OPERATOR(pg_catalog.<)
                                              ((s.day OPERATOR(pg_catalog.+) 1)::pg_catalog.timestamp AT TIME ZONE 'UTC')
                                      AND l.ctid OPERATOR(pg_catalog.>=) '({_PROBE_PAGES},0)'::pg_catalog.tid
                                      AND l.ctid OPERATOR(pg_catalog.<)
                                              ('(' OPERATOR(pg_catalog.||) (s.pages OPERATOR(pg_catalog.-) {_PROBE_PAGES})
                                               OPERATOR(pg_catalog.||) ',0)')::pg_catalog.tid))
                LIMIT 1),
     dflt AS (SELECT (pg_catalog.min((SELECT pg_catalog.min(d.logged_at) FROM pgscore.prediction_log_default d
                                        WHERE d.model_id OPERATOR(pg_catalog.=) m.id))
                       AT TIME ZONE 'UTC')::pg_catalog.date AS day
                FROM m WHERE m.id IS NOT NULL)
SELECT (SELECT pg_catalog.pg_size_pretty(COALESCE(pg_catalog.sum(pg_catalog.pg_total_relation_size(p.oid)), 0))
          FROM p),
       LEAST((SELECT day FROM dated), (SELECT day FROM dflt)),
       (SELECT day FROM dflt) OPERATOR(pg_catalog.<) COALESCE((SELECT day FROM dated), 'infinity'::pg_catalog.date)"""


def _trigger_arg(alias) -> str:
    """SQL for the first argument of trigger `alias` (pg_trigger): the rescoring_id rescore_events reads."""
    return f"pg_catalog.split_part(pg_catalog.encode({alias}.tgargs, 'escape'), E'\\\\000', 1)"


# a wiring as status shows it: its tables as they are named now (NULL: renamed or dropped), the table its
# trigger is on and whether it fires in ordinary sessions, its model's live version
# the row trigger for replicated rows that stages its row (its second argument; one of a single argument rescores
# each row at once, as before the stage), and how the constraint trigger that rescores the staged rows at the
# commit is enabled
_COMMIT_TRIGGER = """(SELECT rt.tgnargs OPERATOR(pg_catalog.>) 1 FROM pg_catalog.pg_trigger rt
         WHERE rt.tgrelid = e.oid AND rt.tgname = r.replication_trigger
           AND rt.tgfoid = 'pgscore.rescore_replicated()'::pg_catalog.regprocedure::pg_catalog.oid) AS staging,
       (SELECT ct.tgenabled FROM pg_catalog.pg_trigger ct
         WHERE ct.tgrelid = e.oid AND ct.tgname = r.replication_trigger OPERATOR(pg_catalog.||) '_commit'
           AND ct.tgfoid = 'pgscore.rescore_replicated()'::pg_catalog.regprocedure::pg_catalog.oid) AS commit_enabled,
       pg_catalog.quote_ident(r.replication_trigger OPERATOR(pg_catalog.||) '_commit') AS commit_trigger"""

_WIRINGS = """
SELECT r.rescoring_id, r.event_table, r.profile_table, r.model_name, r.score_column,
       pg_catalog.quote_ident(r.score_column) AS score_quoted,  -- quoted where it needs it, as the server does
       (SELECT pg_catalog.count(*) FROM pg_catalog.jsonb_object_keys(
            CASE WHEN pg_catalog.jsonb_typeof(r.counters) = 'object' THEN r.counters END)) AS counters,
       e.oid IS NOT NULL AS event_found, p.oid IS NOT NULL AS profile_found,
       t.tgrelid::pg_catalog.regclass::pg_catalog.text AS trigger_on, t.tgrelid = e.oid AS on_its_table,
       t.tgenabled, pg_catalog.quote_ident(r.trigger_name) AS trigger_name, l.version AS live_version,
       (SELECT pg_catalog.array_agg(c.what || ' ' || pg_catalog.quote_ident(c.col) || ' of '
                                    || c.rel::pg_catalog.regclass::pg_catalog.text ORDER BY c.ord, c.col)
          FROM (SELECT 1, 'key column', r.event_key, e.oid UNION ALL
                SELECT 2, 'event id column', r.event_id_column, e.oid UNION ALL
                SELECT 3, 'key column', r.profile_key, p.oid UNION ALL
                SELECT 4, 'score column', r.score_column, p.oid UNION ALL
                SELECT 5, 'scored_at column', r.scored_at_column, p.oid UNION ALL
                SELECT 5, 'label column', pg_catalog.to_jsonb(r) OPERATOR(pg_catalog.->>) 'label_column', p.oid
                UNION ALL
                SELECT 6, 'counter', k.k, p.oid FROM pg_catalog.jsonb_object_keys(
                    CASE WHEN pg_catalog.jsonb_typeof(r.counters) = 'object' THEN r.counters END) AS k(k) UNION ALL
                SELECT 7, 'time column', v.value ->> 'time', e.oid FROM pg_catalog.jsonb_each(
                    CASE WHEN pg_catalog.jsonb_typeof(r.counters) = 'object' THEN r.counters END) AS v
                 WHERE pg_catalog.jsonb_typeof(v.value) = 'object') AS c(ord, what, col, rel)
         WHERE c.col IS NOT NULL AND c.rel IS NOT NULL AND NOT EXISTS (
               SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.rel AND a.attname = c.col
                  AND a.attnum > 0 AND NOT a.attisdropped)) AS missing,
       NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = e.oid AND a.attname = r.event_key
                      AND a.attnum > 0 AND NOT a.attisdropped) AS no_event_key,
       -- the live version's features the profile table lacks (a float8[] column named features feeds any
       -- model where the wiring has no counters, as the trigger reads it)
       (SELECT pg_catalog.array_agg(pg_catalog.quote_ident(f.f) ORDER BY f.i)
          FROM pg_catalog.unnest(l.feature_names) WITH ORDINALITY AS f(f, i)
         WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = p.oid AND a.attnum > 0
                              AND NOT a.attisdropped AND (a.attname = f.f OR (a.attname = 'features'
                              AND a.atttypid = 'pg_catalog.float8[]'::pg_catalog.regtype::pg_catalog.oid
                              AND COALESCE(r.counters, '{}'::pg_catalog.jsonb) = '{}'::pg_catalog.jsonb)))) AS unfed,
       -- the wiring's trigger under another name on its table (renamed by hand: it still rescores)
       (SELECT pg_catalog.quote_ident(o.tgname) FROM pg_catalog.pg_trigger o
         WHERE o.tgrelid = e.oid AND o.tgfoid = 'pgscore.rescore_events()'::pg_catalog.regprocedure::pg_catalog.oid
           AND o.tgname <> r.trigger_name AND """ + _trigger_arg("o") + """ = r.rescoring_id::pg_catalog.text
         ORDER BY o.tgname LIMIT 1) AS renamed_to,
       -- subscriptions of logical replication that write the event table: their apply worker fires no
       -- statement trigger, whatever ENABLE ALWAYS says
       (SELECT pg_catalog.array_agg(pg_catalog.quote_ident(s.subname) ORDER BY s.subname)
          FROM pg_catalog.pg_subscription_rel sr JOIN pg_catalog.pg_subscription s ON s.oid = sr.srsubid
         WHERE sr.srrelid = e.oid) AS subscriptions,
       -- the wiring's row trigger for replicated rows (p_replicated), and how it is enabled on the event table
       pg_catalog.quote_ident(r.replication_trigger) AS replication_trigger,
       (SELECT rt.tgenabled FROM pg_catalog.pg_trigger rt
         WHERE rt.tgrelid = e.oid AND rt.tgname = r.replication_trigger
           AND rt.tgfoid = 'pgscore.rescore_replicated()'::pg_catalog.regprocedure::pg_catalog.oid) AS
               replication_enabled,
       """ + _COMMIT_TRIGGER + """,
       r.event_key, r.profile_key, r.counters::pg_catalog.text, r.scored_at_column, r.missing_profile, r.strict,
       r.event_id_column,
       -- the label column (attach_rescoring's p_label_column; through the row as jsonb: a schema before migration
       -- 0119 has none)
       pg_catalog.to_jsonb(r) OPERATOR(pg_catalog.->>) 'label_column' AS label_column,
       pg_catalog.quote_ident(pg_catalog.to_jsonb(r) OPERATOR(pg_catalog.->>) 'label_column') AS label_quoted,
       -- the schemas of its tables this role may not use (a pgscore_admin not given a tenant's schema): what status
       -- reads of them it reads from the catalog, and the checks that read the tables themselves are skipped
       (SELECT pg_catalog.array_agg(pg_catalog.quote_ident(n.nspname) ORDER BY n.nspname) FROM pg_catalog.pg_namespace n
         WHERE n.oid IN (e.relnamespace, p.relnamespace)
           AND NOT pg_catalog.has_schema_privilege(n.oid, 'USAGE')) AS no_usage,
       -- (review r5 of session 67) a profile table renamed away: the table, by the OID its queued rows keep (0160;
       -- of this database's queue: not a dump's), where it lives on under another name (read through the row as
       -- jsonb: a schema before 0160 has no such columns)
       (SELECT CASE WHEN pg_catalog.count(DISTINCT c.oid) = 1
                    THEN pg_catalog.min(c.oid::pg_catalog.regclass::pg_catalog.text) END
          FROM pgscore.error_queue q
          JOIN pg_catalog.pg_class c ON c.oid = (pg_catalog.to_jsonb(q) OPERATOR(pg_catalog.->>) 'profile_oid')::pg_catalog.oid
         WHERE p.oid IS NULL AND q.rescoring_id = r.rescoring_id
           AND (pg_catalog.to_jsonb(q) OPERATOR(pg_catalog.->>) 'queue_oid')::pg_catalog.oid
               = 'pgscore.error_queue'::pg_catalog.regclass::pg_catalog.oid
           AND (pg_catalog.to_jsonb(q) OPERATOR(pg_catalog.->>) 'queue_system')::pg_catalog.int8
               = (SELECT (pg_catalog.pg_control_system()).system_identifier)) AS renamed_away
  FROM pgscore.rescoring r
  LEFT JOIN pg_catalog.pg_class e ON e.oid = pg_catalog.to_regclass(r.event_table)::pg_catalog.oid
  LEFT JOIN pg_catalog.pg_class p ON p.oid = pg_catalog.to_regclass(r.profile_table)::pg_catalog.oid
  LEFT JOIN LATERAL (SELECT t.tgrelid, t.tgenabled FROM pg_catalog.pg_trigger t
                      WHERE t.tgname = r.trigger_name AND t.tgfoid =
                          'pgscore.rescore_events()'::pg_catalog.regprocedure::pg_catalog.oid
                      ORDER BY t.tgrelid = e.oid DESC LIMIT 1) AS t ON true
  LEFT JOIN pgscore.live_models l ON l.name = r.model_name
 ORDER BY r.rescoring_id"""

def _by_catalog(text: str) -> str:
    """`text` with each pg_catalog.to_regclass(r.x) of a wired table's name looked up in the catalog instead
    (quoting.oid_of): to_regclass raises 42501 without USAGE on the table's schema, and status failed as a whole
    for a pgscore_admin not given a tenant's schema (session 66)."""
    from pgscore.quoting import oid_of

    return re.sub(r"pg_catalog\.to_regclass\(([a-z]\.[a-z_]+)\)", lambda m: oid_of(m.group(1)), text)


_WIRINGS = _by_catalog(_WIRINGS)

# the same against a schema before the row trigger for replicated rows (the server's code newer than its schema:
# pgscore install not run yet), whose wirings have none
_WIRINGS_BEFORE_REPLICATED = (
    _WIRINGS.replace("pg_catalog.quote_ident(r.replication_trigger) AS replication_trigger",
                     "NULL::pg_catalog.text AS replication_trigger")
    .replace("""(SELECT rt.tgenabled FROM pg_catalog.pg_trigger rt
         WHERE rt.tgrelid = e.oid AND rt.tgname = r.replication_trigger
           AND rt.tgfoid = 'pgscore.rescore_replicated()'::pg_catalog.regprocedure::pg_catalog.oid) AS
               replication_enabled""",
             "NULL::pg_catalog.\"char\" AS replication_enabled")
    .replace(_COMMIT_TRIGGER, "NULL::pg_catalog.bool AS staging, NULL::pg_catalog.\"char\" AS commit_enabled, "
             "NULL::pg_catalog.text AS commit_trigger"))

# pgscore's triggers that no wiring owns (a table restored from a dump without pgscore.rescoring's rows, or a
# trigger copied to another table than its wiring's): each INSERT warns and rescores nothing
_ORPHAN_TRIGGERS = """
SELECT t.tgrelid::pg_catalog.regclass::pg_catalog.text, pg_catalog.quote_ident(t.tgname), a.arg
  FROM pg_catalog.pg_trigger t,
       LATERAL (SELECT """ + _trigger_arg("t") + """ AS arg) AS a
 WHERE t.tgfoid = 'pgscore.rescore_events()'::pg_catalog.regprocedure::pg_catalog.oid
   -- the trigger rescores where its wiring's event table is the table it is on (as rescore_events checks,
   -- whatever the trigger is named); a wiring whose table was renamed away from its trigger is the wiring
   -- loop's to report
   AND NOT EXISTS (SELECT 1 FROM pgscore.rescoring r
                    WHERE r.rescoring_id::pg_catalog.text = a.arg
                      AND (pg_catalog.to_regclass(r.event_table)::pg_catalog.oid = t.tgrelid
                           OR (r.trigger_name = t.tgname
                               AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger o
                                                WHERE o.tgrelid = pg_catalog.to_regclass(r.event_table)::pg_catalog.oid
                                                  AND o.tgname = r.trigger_name))))
 ORDER BY 1, 2"""
_ORPHAN_TRIGGERS = _by_catalog(_ORPHAN_TRIGGERS)

# the queue, and how much of it no wiring can retry: detached, or its event table gone (by its name)
# (review r5 of session 67) a queued row `q` queued in this database (not a restored dump's) for a table that still
# exists, by the OID it keeps (migration 0160; through the row as jsonb: a schema before has none)
_RENAMED_AWAY = """(COALESCE((pg_catalog.to_jsonb(q) OPERATOR(pg_catalog.->>) 'queue_oid')::pg_catalog.oid
                = 'pgscore.error_queue'::pg_catalog.regclass::pg_catalog.oid
              AND (pg_catalog.to_jsonb(q) OPERATOR(pg_catalog.->>) 'queue_system')
                = (pg_catalog.pg_control_system()).system_identifier::pg_catalog.text
              AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c
                           WHERE c.oid = (pg_catalog.to_jsonb(q) OPERATOR(pg_catalog.->>) 'profile_oid')::pg_catalog.oid),
              false))"""
_QUEUED = """
SELECT pg_catalog.count(*),
       pg_catalog.count(*) FILTER (WHERE w.rescoring_id IS NULL OR pg_catalog.to_regclass(w.event_table) IS NULL),
       pg_catalog.min(q.first_failed_at), pg_catalog.max(q.attempts),
       -- of no wiring, and no table has their profile table's name any more (left by a detach, or by a
       -- forget_rescoring before migration 0157): nothing can rescore them
       pg_catalog.count(*) FILTER (WHERE q.rescoring_id IS NULL AND pg_catalog.to_regclass(q.profile_table) IS NULL
                                    AND NOT """ + _RENAMED_AWAY + """),
       (pg_catalog.array_agg(DISTINCT q.profile_table)
         FILTER (WHERE q.rescoring_id IS NULL AND pg_catalog.to_regclass(q.profile_table) IS NULL
                   AND NOT """ + _RENAMED_AWAY + """)),
       -- (migration 0160: the row keeps its table's OID; through the row as jsonb, a schema before has none) of no
       -- wiring, queued in this database for a table that no longer exists, though a table has its name (dropped
       -- and made again): the next attach_rescoring to it deletes them (rescoring.gone_queued), never takes them over
       pg_catalog.count(*) FILTER (WHERE q.rescoring_id IS NULL AND pg_catalog.to_regclass(q.profile_table) IS NOT NULL
         AND (pg_catalog.to_jsonb(q) OPERATOR(pg_catalog.->>) 'profile_oid') IS NOT NULL
         AND (pg_catalog.to_jsonb(q) OPERATOR(pg_catalog.->>) 'queue_oid')::pg_catalog.oid
             = 'pgscore.error_queue'::pg_catalog.regclass::pg_catalog.oid
         AND (pg_catalog.to_jsonb(q) OPERATOR(pg_catalog.->>) 'queue_system')
             = (pg_catalog.pg_control_system()).system_identifier::pg_catalog.text
         AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c
                          WHERE c.oid = (pg_catalog.to_jsonb(q) OPERATOR(pg_catalog.->>) 'profile_oid')::pg_catalog.oid)),
       -- whether the schema keeps them (migration 0160)
       EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid =
           'pgscore.error_queue'::pg_catalog.regclass::pg_catalog.oid
                  AND a.attname = 'profile_oid' AND NOT a.attisdropped),
       -- (review r5 of session 67) of no wiring, their profile table's name gone, queued in this database for a
       -- table that lives on under another name (renamed away): the next attach_rescoring to that name takes them
       -- over by the OID they keep (rescoring._ADOPT_OID); how many, and which tables, as 'old, now new'
       pg_catalog.count(*) FILTER (WHERE q.rescoring_id IS NULL AND pg_catalog.to_regclass(q.profile_table) IS NULL
                                    AND """ + _RENAMED_AWAY + """),
       (pg_catalog.array_agg(DISTINCT q.profile_table OPERATOR(pg_catalog.||) ', now ' OPERATOR(pg_catalog.||)
            (pg_catalog.to_jsonb(q) OPERATOR(pg_catalog.->>) 'profile_oid')::pg_catalog.oid::pg_catalog.regclass::pg_catalog.text)
         FILTER (WHERE q.rescoring_id IS NULL AND pg_catalog.to_regclass(q.profile_table) IS NULL
                   AND """ + _RENAMED_AWAY + """))
  FROM pgscore.error_queue q LEFT JOIN pgscore.rescoring w ON w.rescoring_id = q.rescoring_id"""
_QUEUED = _by_catalog(_QUEUED)
# the queued rows of the wirings retried left for another table than the one their profile table's name finds now (a
# table renamed since, another made under its name; migration 0160, through the row as jsonb: a schema before has none)
_LEFT_ELSEWHERE = _by_catalog("""
SELECT pg_catalog.count(*) FROM pgscore.error_queue q JOIN pgscore.rescoring r ON r.rescoring_id = q.rescoring_id
 WHERE q.rescoring_id = ANY (%s)
   AND (pg_catalog.to_jsonb(q) OPERATOR(pg_catalog.->>) 'profile_oid')::pg_catalog.oid
       <> pg_catalog.to_regclass(r.profile_table)::pg_catalog.oid
   -- queued in this database (a restored dump's rows name another's tables: by name, as retry_failed takes them)
   AND (pg_catalog.to_jsonb(q) OPERATOR(pg_catalog.->>) 'queue_oid')::pg_catalog.oid
       = 'pgscore.error_queue'::pg_catalog.regclass::pg_catalog.oid
   AND (pg_catalog.to_jsonb(q) OPERATOR(pg_catalog.->>) 'queue_system')
       = (pg_catalog.pg_control_system()).system_identifier::pg_catalog.text
   -- (review r2) a table that still exists, renamed: not one dropped since (a wiring retry_failed skipped, a column
   -- missing, keeps those rows, and the line called them renamed)
   AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c
                WHERE c.oid = (pg_catalog.to_jsonb(q) OPERATOR(pg_catalog.->>) 'profile_oid')::pg_catalog.oid)""")
# (session 68) the same rows of every wiring, by wiring: its profile table's name, how many, the tables now named
# (status said "once the cause is fixed: retry" of them, which leaves them, and gave neither an UPDATE nor a DELETE)
_LEFT_BY_WIRING = (_LEFT_ELSEWHERE
                   .replace("SELECT pg_catalog.count(*) FROM",
                            "SELECT r.rescoring_id, r.profile_table, pg_catalog.count(*), pg_catalog.array_agg("
                            "DISTINCT (pg_catalog.to_jsonb(q) OPERATOR(pg_catalog.->>) 'profile_oid')::pg_catalog.oid"
                            "::pg_catalog.regclass::pg_catalog.text) FROM", 1)
                   .replace("WHERE q.rescoring_id = ANY (%s)\n   AND", "WHERE", 1)
                   + "\n GROUP BY 1, 2 ORDER BY 1")
# (session 69) by wiring, the rows retry_failed handed over to a copy swapped in for their profile table that lacks
# their key (rescoring._HAND_OVER, then P0002), its profile table's name
_HANDED_GONE = _by_catalog("""
SELECT q.rescoring_id, pg_catalog.count(*), pg_catalog.min(r.profile_table) FROM pgscore.error_queue q
  JOIN pgscore.rescoring r ON r.rescoring_id = q.rescoring_id
 WHERE q.sqlstate = 'P0002' AND q.cause OPERATOR(pg_catalog.?) 'handed_over'
 GROUP BY 1 ORDER BY 1""")
# the SQLSTATE most queued rows share, how many, and the reason of the latest of them
_QUEUED_WHY = """
SELECT q.sqlstate, pg_catalog.count(*),
       (pg_catalog.array_agg(q.reason ORDER BY q.last_failed_at DESC, q.error_id DESC))[1]
  FROM pgscore.error_queue q GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1"""
_QUEUED_WHY = _by_catalog(_QUEUED_WHY)
# (session 71) = in the statements status prints for a superuser to paste into psql, where the database owner's public
# may come first on the search_path (its own connection puts pg_catalog first; a psql session does not)
_EQ = "OPERATOR(pg_catalog.=)"
# the DELETE status gives for the queued rows of no wiring that nothing can rescore: their profile table is gone by
# name; or (migration 0160: the row keeps its table's OID) queued in this database for a table dropped since, another
# made under its name (the DELETE by name alone left those; a row of a restored dump, whose OIDs are all new, is
# matched by name as attach_rescoring does)
_GONE_DELETE = ("DELETE FROM pgscore.error_queue q WHERE q.rescoring_id IS NULL AND "
                "pg_catalog.to_regclass(q.profile_table) IS NULL")
_GONE_DELETE_BY_OID = ("DELETE FROM pgscore.error_queue q WHERE q.rescoring_id IS NULL AND "
                       # (review r5 of session 67: not those of a table renamed away, which its attach takes over)
                       "((pg_catalog.to_regclass(q.profile_table) IS NULL AND NOT COALESCE(q.queue_oid OPERATOR(pg_catalog.=) "
                       "'pgscore.error_queue'::pg_catalog.regclass::pg_catalog.oid AND q.queue_system OPERATOR(pg_catalog.=) (SELECT "
                       "(pg_catalog.pg_control_system()).system_identifier) AND EXISTS (SELECT 1 FROM "
                       "pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) q.profile_oid), false)) OR (q.profile_oid IS NOT NULL AND "
                       "q.queue_oid OPERATOR(pg_catalog.=) 'pgscore.error_queue'::pg_catalog.regclass::pg_catalog.oid AND "
                       "q.queue_system OPERATOR(pg_catalog.=) (SELECT (pg_catalog.pg_control_system()).system_identifier) AND "
                       "NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) q.profile_oid)))")
# (session 67) their profile table looked up in the catalog, as status reads it: to_regclass raises 42501 for a
# pgscore_admin not given USAGE on the tenant's schema, and the DELETE failed for the role status runs as
# (a name without its schema is still read by to_regclass, through the search_path, which raises nothing)
_GONE_DELETE, _GONE_DELETE_BY_OID = _by_catalog(_GONE_DELETE), _by_catalog(_GONE_DELETE_BY_OID)

# the replicated events held back (rescoring.hold_back): how many, of how many profiles, since when
_HELD_BACK = """
SELECT pg_catalog.count(*), pg_catalog.count(DISTINCT (q.rescoring_id, q.entity_key)), pg_catalog.min(q.held_at)
  FROM pgscore.replicated_pending q"""


def _aging_counters(cur, counters) -> list[str]:
    """The wiring's counters that age with no event (rescoring.ages), quoted as identifiers where they need it;
    none where the stored counters cannot be read (status reports what it can)."""
    from pgscore import rescoring

    try:
        aging = [c.column for c in rescoring.parse_counters(counters) if rescoring.ages(c)]
    except (PgscoreError, ValueError, TypeError):
        return []
    if not aging:
        return []
    cur.execute("SELECT pg_catalog.array_agg(pg_catalog.quote_ident(u.n) ORDER BY u.o) "
                "FROM pg_catalog.unnest(%s::pg_catalog.text[]) WITH ORDINALITY AS u(n, o)", (aging,))
    return cur.fetchone()[0]


def _say_stale_scores_in_status(cur, names) -> None:
    """The wired profiles that hold another version's score than their model's live one (a rollback or activate
    since their last event; stale_scores), a line per wiring with the command that rescores them."""
    import psycopg2

    from pgscore import stale_scores

    for name in sorted(names):
        cur.execute("SAVEPOINT pgscore_status_stale")
        try:
            said = stale_scores.lines(name, stale_scores.counts(cur, name), uncounted=False)
        except psycopg2.Error:  # (advice: the rest of status is said; a role that cannot read the history)
            said = []
        cur.execute("ROLLBACK TO SAVEPOINT pgscore_status_stale")
        for line in said:
            _say(f"  warning: {line}")


def _say_wired_nulls_in_status(cur, live) -> None:
    """deploy's warning of NULLs a wired profile table holds where the live version takes none, for each model with
    wirings and a live version (`live`: its (name, version) pairs); in a savepoint, saying in one line where the
    check cannot run."""
    import psycopg2

    from pgscore import wired_nulls

    for name, version in sorted(live):
        cur.execute("SAVEPOINT pgscore_status_nulls")
        why = None
        try:
            said = wired_nulls.warnings(cur.connection, name, version)
        except (wired_nulls.CheckFailed, psycopg2.Error) as e:  # (advice: the rest of status is said)
            said, why = [], wired_nulls.first_line(e)
        cur.execute("ROLLBACK TO SAVEPOINT pgscore_status_nulls")
        for w in said:
            _say(f"  warning: {w}")
        if why:
            _say(f"  note: {wired_nulls.skipped(name, version, why)}")


def _rescoring_status(cur):
    """The wirings of attach_rescoring, what stops one from rescoring (with the statement that fixes it),
    and the error queue."""
    from psycopg2 import sql

    def lit(text):  # for the statements the user is told to run
        return sql.Literal(text).as_string(cur)

    def attach_call(*args, **kw):  # (the call retry_failed's hints give too: rescoring.attach_call)
        from pgscore import rescoring

        return rescoring.attach_call(lit, *args, **kw)

    cur.execute("SET LOCAL search_path = pg_catalog, pg_temp")  # table names as regclass prints them: qualified
    cur.execute("SELECT pg_catalog.to_regprocedure('pgscore.rescore_replicated()') IS NOT NULL")
    cur.execute(_WIRINGS if cur.fetchone()[0] else _WIRINGS_BEFORE_REPLICATED)
    wirings = cur.fetchall()
    cur.execute("SELECT current_user, pg_catalog.quote_ident(current_user)")
    user, user_quoted = cur.fetchone()
    if not wirings:
        _say("rescoring: nothing attached (SELECT pgscore.attach_rescoring(...), docs/sql.md)")
    else:
        _say(f"rescoring: {len(wirings)} wiring{'' if len(wirings) == 1 else 's'}")
    # each wiring's attach_rescoring call, by its event table: a detach of the event table detaches every wiring of
    # it, and a line that says to detach one gives the others' calls too (review r5 of session 67: they were lost)
    calls: dict = {}
    for w in wirings:
        calls.setdefault(w[1], []).append((w[0], attach_call(w[1], w[2], w[3], w[4], *w[24:31], label=w[31],
                                                             replicated=w[19] is not None)))

    def others_again(rid, events):
        again = [c for r, c in calls.get(events, []) if r != rid]
        return ("".join(f"; {c}" for c in again) + f" (the detach takes its other wiring{'s' if len(again) > 1 else ''}"
                " too: attached again)") if again else ""

    for (rid, events, profiles, model, column, column_quoted, n_counters, event_found, profile_found, trigger_on,
         on_its_table, enabled, trigger, live, missing, no_event_key, unfed, renamed_to, subscriptions,
         replication_trigger, replication_enabled, staging, commit_enabled, commit, *wiring) in wirings:
        strict = wiring[5]
        again = ("and attach it again: " + attach_call(trigger_on if trigger_on and not on_its_table else events,
                                                        profiles, model, column, *wiring[:7], label=wiring[7],
                                                        replicated=replication_trigger is not None))
        line = (f"  wiring {rid}: {events} -> {profiles}.{column_quoted}"
                + (f" (class into {wiring[8]})" if wiring[7] is not None else "") + f", model {model} "
                + (f"(live version {live})" if live is not None else "(no live version)")
                + (f", {n_counters} counter{'' if n_counters == 1 else 's'}" if n_counters else ""))
        stop = "\n     NOT RESCORING: "
        if trigger_on is not None and not on_its_table:
            line += (f"{stop}the event table was renamed to {trigger_on}, which has the trigger (its events are "
                     f"kept, not rescored); detach with SELECT pgscore.detach_rescoring({lit(trigger_on)}) {again}")
        elif not event_found:
            line += (f"{stop}the event table {events} was dropped; forget the wiring with SELECT "
                     f"pgscore.forget_rescoring({rid}), or create and attach a table of that name again")
        elif trigger_on is None and renamed_to is not None:
            line += (f"\n     its trigger {trigger} on {events} was renamed to {renamed_to}: it rescores, but "
                     f"detach_rescoring and attach_rescoring know it by its name; rename it back with ALTER TRIGGER "
                     f"{renamed_to} ON {events} RENAME TO {trigger}")
        elif trigger_on is None:
            line += (f"{stop}its trigger {trigger} on {events} was dropped; detach with SELECT "
                     f"pgscore.detach_rescoring({lit(events)}) {again}")
        elif not profile_found and wiring[10] is not None:  # (renamed away: its queued rows name where to)
            line += (f"{stop}the profile table {profiles} was renamed to {wiring[10]}, which its queued profiles "
                     f"wait for; to rescore it there, detach with SELECT pgscore.detach_rescoring({lit(events)}) and "
                     "attach it there: " + attach_call(events, wiring[10], model, column, *wiring[:7], label=wiring[7],
                                                      replicated=replication_trigger is not None)
                     + others_again(rid, events) + "; or rename it back")
        elif not profile_found:
            line += (f"{stop}the profile table {profiles} was renamed or dropped; detach with SELECT "
                     f"pgscore.detach_rescoring({lit(events)}) {again}{others_again(rid, events)}")
        elif enabled in ("D", "R"):
            line += (f"{stop}its trigger {trigger} on {events} is "
                     + ("disabled" if enabled == "D" else "enabled for replication sessions only")
                     + f"; enable it with ALTER TABLE {events} ENABLE TRIGGER {trigger} (events inserted "
                       "meanwhile were not counted; window and recompute counters catch up at each profile's "
                       "next event, the others do not)")
        elif missing and strict:
            line += (f"{stop}its {', '.join(missing)} no longer exist{'s' if len(missing) == 1 else ''} (renamed or "
                     f"dropped), and the wiring is strict: every INSERT into {events} fails; rename "
                     f"{'it' if len(missing) == 1 else 'them'} back, or detach with SELECT "
                     f"pgscore.detach_rescoring({lit(events)}) and attach it again with the new names")
        elif missing:
            line += (f"{stop}its {', '.join(missing)} no longer exist{'s' if len(missing) == 1 else ''} (renamed or "
                     "dropped): its events are kept and no counter changes, "
                     + ("and no profile can be named (a WARNING at each INSERT)" if no_event_key else
                        "and each profile they name is queued")
                     + f"; rename {'it' if len(missing) == 1 else 'them'} back, then {command('retry')}, or detach "
                     f"with SELECT pgscore.detach_rescoring({lit(events)}) and attach it again with the new names")
        elif live is not None and unfed:
            line += (f"{stop}{profiles} has no column {', '.join(unfed)}, which version {live} of {model} needs: "
                     + (f"the wiring is strict, so every INSERT into {events} fails; add the column(s)" if strict else
                        "its events are counted and each profile they name is queued; add the column(s), then "
                        f"{command('retry')}"))
        elif live is None and strict:
            line += (f"{stop}no version of {model} is live, and the wiring is strict: every INSERT into {events} "
                     f"fails until one is (make one live with: {command(f'activate {model} VERSION')})")
        elif live is None:
            line += ("\n     counters only: inserted events are counted and their profiles queued until a version "
                     f"of {model} is live (make one live with: {command(f'activate {model} VERSION')}, then: "
                     f"{command('retry')})")
        if replication_trigger is not None and event_found and replication_enabled != "R":
            fix = (f"ALTER TABLE {events} ENABLE REPLICA TRIGGER {replication_trigger}" if replication_enabled else
                   f"detach with SELECT pgscore.detach_rescoring({lit(events)}) and attach it again with "
                   "p_replicated => true")
            line += (f"{stop}its row trigger for replicated rows, {replication_trigger} on {events}, "
                     + ("was dropped" if replication_enabled is None else "is disabled" if replication_enabled == "D"
                        else "is enabled for local sessions too: their rows are counted twice"
                        + (", replicated ones never" if replication_enabled == "O" else ""))
                     + f"; {fix}")
        elif replication_trigger is not None and event_found and staging and commit_enabled != "R":
            fix = (f"ALTER TABLE {events} ENABLE REPLICA TRIGGER {commit}" if commit_enabled else
                   f"detach with SELECT pgscore.detach_rescoring({lit(events)}) and attach it again with "
                   "p_replicated => true")
            line += (f"{stop}its commit trigger for replicated rows, {commit} on {events}, "
                     + ("was dropped" if commit_enabled is None else "is disabled" if commit_enabled == "D"
                        else "is enabled for local sessions too")
                     + f": the rows its row trigger {replication_trigger} stages are not rescored; {fix}")
        elif replication_trigger is not None and enabled == "A" and not subscriptions and trigger_on is not None \
                and on_its_table:
            # (review r2 of session 71) the statement trigger enabled ALWAYS (docs/sql.md's way for an ETL loader's
            # session_replication_role = replica) beside the replicated triggers: each such row counted twice, and
            # nothing said so where no subscription writes the table (the branch below says it where one does)
            line += (f"\n     its statement trigger {trigger} on {events} is enabled ALWAYS beside its triggers for "
                     "replicated rows: the rows of a session with session_replication_role = replica (an ETL load) "
                     f"are counted twice; ALTER TABLE {events} ENABLE TRIGGER {trigger}")
        elif subscriptions and replication_trigger is not None and trigger_on is not None and on_its_table:
            line += (f"\n     the rows subscription {', '.join(subscriptions)} applies to {events} are rescored "
                     + (f"once per applied transaction, staged by its row trigger {replication_trigger} and rescored "
                        f"at the commit by {commit} (both enabled "
                        "for replication sessions only)" if staging else
                        f"one at a time by its row trigger {replication_trigger} (enabled for replication sessions "
                        "only; pgscore install makes it rescore once per applied transaction)")
                     + (f"; its statement trigger {trigger} is enabled ALWAYS, so a table's initial copy by the "
                        f"subscription is counted twice: ALTER TABLE {events} ENABLE TRIGGER {trigger}"
                        if enabled == "A" else ""))
        elif subscriptions and trigger_on is not None and on_its_table:
            line += (f"{stop}the rows subscription {', '.join(subscriptions)} applies to {events} (logical "
                     "replication) fire no statement trigger, not even one enabled ALWAYS: they are kept, not "
                     "counted or rescored; detach with SELECT "
                     f"pgscore.detach_rescoring({lit(events)}) and attach it again with p_replicated => true "
                     "(docs/sql.md, 'Events from logical replication')")
        if wiring[9]:  # (the note goes on: the rest of status is said)
            schemas = ", ".join(wiring[9])
            line += (f"\n     note: {user} may not use schema {schemas} (no USAGE): status read this wiring from the "
                     f"catalog alone, and the checks that read its tables were skipped ({command('retry')} and "
                     f"refresh-windows run as {user} skip this wiring too, with a WARNING); "
                     + " ".join(f"GRANT USAGE ON SCHEMA {n} TO {user_quoted};" for n in wiring[9])
                     + " lets it read them (with SELECT on the tables; retry needs UPDATE of the profiles too)")
        aging = _aging_counters(cur, wiring[2])
        if aging and stop not in line:  # stale in every profile no event reaches (issue 5's 30 days)
            line += (f"\n     {', '.join(aging)} change{'s' if len(aging) == 1 else ''} as time passes (a window, or "
                     "a count that reads the clock): an event recounts its own profile, nothing recounts the others "
                     f"but {command('refresh-windows')}: run it from cron, hourly for a window of days "
                     "(docs/sql.md, refresh_windows)")
        _say(line)
    _say_wired_nulls_in_status(cur, {(w[3], w[13]) for w in wirings if w[13] is not None})
    _say_stale_scores_in_status(cur, {w[3] for w in wirings if w[13] is not None})
    cur.execute(_ORPHAN_TRIGGERS)
    for table, trigger, arg in cur.fetchall():
        _say(f"  trigger {trigger} on {table} names wiring {arg}, which no wiring of that table is: its events "
             f"are inserted with a WARNING and rescore nothing (a table restored without pgscore.rescoring's rows?); "
             f"remove it with SELECT pgscore.detach_rescoring({lit(table)}), then attach the table again if it "
             "should rescore")
    cur.execute(_QUEUED)
    queued, orphans, oldest, attempts, gone, gone_tables, remade, by_oid, renamed, renamed_tables = cur.fetchone()
    if queued:
        waiting = (f"error queue: {queued} profile{'' if queued == 1 else 's'} waiting to be rescored, the oldest "
                   f"failed {_in_utc(oldest):%Y-%m-%d %H:%M %Z}, "
                   f"{'tried' if queued == 1 else 'the most tried'} {attempts} "
                   f"time{'' if attempts == 1 else 's'}; "  # (attempts so far, not a limit: "up to N" read as one)
                   "see SELECT * FROM pgscore.error_queue")
        # (session 67, trial T23: 572 profiles queued by a full disk, and status said how many, not why) the SQLSTATE
        # most of them share, with its latest reason
        cur.execute(_QUEUED_WHY)
        why = cur.fetchone()
        if why is not None:
            reason = " ".join(str(why[2]).split())
            # (session 68: "SQLSTATE none"; pgscore health says "no SQLSTATE", counting them alike since 0173)
            waiting += (f"; {why[1]} of them with {'SQLSTATE ' + why[0] if why[0] else 'no SQLSTATE'}, the latest: "
                        + (reason if len(reason) <= 200 else reason[:197] + "..."))
        left = []
        if by_oid:
            cur.execute(_LEFT_BY_WIRING)
            left = cur.fetchall()
        # (session 69) rows handed over to a copy swapped in for their profile table that lacks their key: retry
        # leaves them (said "once the cause is fixed: retry" of them too)
        cur.execute(_HANDED_GONE)
        handed = cur.fetchall()
        if queued > orphans + sum(r[2] for r in left) + sum(r[1] for r in handed):
            waiting += f"; once the cause is fixed: {command('retry')}"
        for rid, n, table in handed:
            waiting += (f"; {n} of them (wiring {rid}) were handed over to {table}, a copy swapped in for the table "
                        "they were queued for, which lacks their key (SQLSTATE P0002): retry leaves them; where the "
                        f"profiles are gone, DELETE FROM pgscore.error_queue WHERE rescoring_id {_EQ} {int(rid)} AND "
                        f"sqlstate {_EQ} 'P0002' AND cause OPERATOR(pg_catalog.?) 'handed_over'; else insert their rows into {table}, then "
                        f"{command('retry')}")
        for rid, table, n, olds in left:  # (session 68) retry leaves them: said, with both ways
            other = f"profile_oid OPERATOR(pg_catalog.<>) {lit(table)}::pg_catalog.regclass::pg_catalog.oid"
            waiting += (f"; {n} of them (wiring {rid}) were queued for {', '.join(sorted(olds))}, renamed since, "
                        f"another made under its name as {table}, which retry leaves: where {table} is a copy of it, "
                        f"UPDATE pgscore.error_queue SET profile_oid = "
                        f"{lit(table)}::pg_catalog.regclass::pg_catalog.oid WHERE "
                        f"rescoring_id {_EQ} {int(rid)} AND {other} hands them to it; where they are not wanted (the "
                        f"old table kept as an archive), DELETE FROM pgscore.error_queue WHERE rescoring_id {_EQ} "
                        f"{int(rid)} AND {other}; {command('retry')}'s WARNING gives the way to a wiring of their own")
        if renamed:  # (review r5 of session 67: said to be past rescuing, and the DELETE given deleted them)
            waiting += (f"; {renamed} of them were queued for a profile table renamed since "
                        f"({'; '.join(renamed_tables[:3])}{'; ...' if len(renamed_tables) > 3 else ''}): the next "
                        "attach_rescoring to it under its new name takes them over")
        if orphans > gone + remade + renamed:
            waiting += (f"; {orphans - gone - remade - renamed} of them belong to no wiring that can rescore them (detached, or their event "
                        "table dropped or renamed): the next attach_rescoring to their profile table takes them over "
                        "(a wiring attached before does not), and retry then rescores them")
        if gone:  # (session 65, trial T18: a tenant's schema dropped)
            waiting += (f"; {gone} of them belong to no wiring and name a profile table that no longer exists "
                        f"({', '.join(gone_tables[:3])}{', ...' if len(gone_tables) > 3 else ''}): "
                        "nothing can rescore them, and a table made later under that name would "
                        + ("not take them over (its attach_rescoring deletes them)" if by_oid else "take them over"))
        if remade:  # (session 66, review r4: said to be taken over by the next attach, which deletes them)
            waiting += (f"; {remade} of them belong to no wiring and were queued for a table that was dropped since, "
                        "another made under its name: nothing can rescore them, and the next attach_rescoring to that "
                        "table deletes them, with a WARNING (they are not its profiles)")
        if gone or remade:  # (session 66, h7: the DELETE matched by name alone, leaving those of a table made again)
            waiting += f"; delete {'both' if gone and remade else 'them'} with " + (_GONE_DELETE_BY_OID if by_oid
                                                                                     else _GONE_DELETE)
        _say(waiting)
    elif wirings:
        _say("error queue: empty")
    # a two_phase subscription's events held back from their rescoring (a prepared transaction held or created the
    # profile)
    cur.execute("SELECT pg_catalog.to_regclass('pgscore.replicated_pending') IS NOT NULL")
    if cur.fetchone()[0]:
        cur.execute(_HELD_BACK)
        held, profiles, oldest = cur.fetchone()
        if held:
            _say(f"{held} replicated event{'' if held == 1 else 's'} of {profiles} profile{'' if profiles == 1 else 's'} "
                 f"held back, not counted yet, the oldest since {_in_utc(oldest):%Y-%m-%d %H:%M %Z} (a transaction prepared on "
                 "this server held or created the profile: see pg_prepared_xacts); counted by the next transaction a two_phase "
                 f"subscription applies to the table, or by {command('retry')}; see SELECT * FROM "
                 "pgscore.replicated_pending")


def _embedded_data_dir(cur):
    """migrate.embedded_data_dir through a psycopg2 cursor: the data directory of the server where it is an embedded
    cluster (db start made it, on this host), else None (or where this role may not read the setting)."""
    from pgscore.localdb import STATE_FILE

    cur.execute("SELECT s.setting FROM pg_catalog.pg_settings s WHERE s.name OPERATOR(pg_catalog.=) 'data_directory'")
    where = (cur.fetchone() or (None,))[0]
    try:
        return Path(where) if where and (Path(where) / STATE_FILE).is_file() else None
    except OSError:
        return None


def _print_env(report, embedded=None):
    """What the server's Python runs, and a warning where it runs another release's code; `embedded`: the data
    directory of an embedded cluster the server is (_embedded_data_dir), whose fix is this release's db stop and db
    start, as install says (without it, status and env gave another server's fix)."""
    from pgscore import migrate
    from pgscore.localdb import SERVER_THREAD_ENV

    if isinstance(report, str):
        report = json.loads(report)
    keys = ["python", "pgscore", "scikit_learn", "numpy", "scipy", "joblib", "threadpoolctl"]
    _say("inside the database: " + ", ".join(f"{k.replace('_', '-')} {report.get(k)}" for k in keys))
    other = migrate.other_release(report, embedded)
    if other is not None:  # every deploy fails until the server runs this release's code
        what, where, fix = other
        _say(f"WARNING: {what} ({where}); pgscore's functions may fail there (a deploy with `cannot import name "
             f"... from pgscore.pl`): {fix}")
    threads = [n for n in report.get("native_threads") or [] if n > 1]
    if threads:
        _say(f"WARNING: the server's native thread pools (BLAS, OpenMP) run {max(threads)} threads per backend: "
             "with several sessions scoring at once they fight over the cores. Start the server with "
             f"{' '.join(f'{k}={v}' for k, v in SERVER_THREAD_ENV.items())} (docs/operations.md, "
             "'Installing into an existing server')")


def _exit_3_on_failure(run, args, command: str, name=None) -> int:
    """Run a command that cron calls (retry, refresh-windows, backfill, drift): a UsageError (an unknown model, a
    --table not wired) goes on to _main, which exits 2 with the command's usage line; a failure of the command
    itself (unreachable, not installed, no privilege, an older schema) is said in the command's words, exit 3, so
    that cron can tell it from the command's own 1."""
    import psycopg2

    try:
        return run(args)
    except UsageError:
        raise
    except (PgscoreError, psycopg2.Error) as e:
        say_error(older_schema(e, command), command, name() if callable(name) else name)
        return 3


# the statement pgscore health's hint gives to paste into psql, a superuser's maybe: pg_catalog's catalogs, casts and
# operators named (review r4 of session 71: `pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid`, `l.mode = ...`,
# `relation IN (...)` and `relnamespace = 'pgscore'::regnamespace` ran, where the database owner's public comes first
# on the search_path, its views of those names and its = on int4, text and oid, and its = (oid, regnamespace) whatever
# the path: pg_catalog has none)
HEALTH_LOCK_HOLDERS = (
    "SELECT l.relation::pg_catalog.regclass, l.mode, a.pid, a.usename, a.state, a.xact_start FROM "
    "pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid OPERATOR(pg_catalog.=) l.pid WHERE "
    "l.granted AND l.mode OPERATOR(pg_catalog.=) 'AccessExclusiveLock' AND EXISTS (SELECT FROM pg_catalog.pg_class c "
    "WHERE c.oid OPERATOR(pg_catalog.=) l.relation AND c.relnamespace OPERATOR(pg_catalog.=) "
    "'pgscore'::pg_catalog.regnamespace::pg_catalog.oid)")


def cmd_health(args):
    """pgscore.health(), a line per check: exit 0 when every check is ok, 1 when one warns or fails, 3 when the
    check itself cannot run (unreachable, not installed, a schema before 0140, no privilege), for a probe."""
    return _exit_3_on_failure(_health, args, "health")


def _health(args):
    import functools
    import math
    import time

    import psycopg2
    import psycopg2.errors
    import psycopg2.extensions as ext

    from pgscore import migrate, scoring

    url = resolve_db(args)
    limit = _seconds_of(args.timeout)
    # bounded (a probe blocked by a lock another session held hung for ever: session 64): the server's
    # lock_timeout and statement_timeout, libpq's connect_timeout, and a deadline of the client's a little later
    # for a server that does not answer at all (stopped, or its network gone)
    # (libpq's own connect, whose errors say_error reads: a wait callback's words differ)
    previous = ext.get_wait_callback()
    conn = None
    try:
        conn = migrate.connect_catalog_first(url, **({"connect_timeout": max(2, math.ceil(limit))} if limit else {}))
        if limit:
            ext.set_wait_callback(functools.partial(scoring._wait, deadline=time.monotonic() + limit + HEALTH_GRACE))
        with conn, conn.cursor() as cur:
            conn.set_session(readonly=True)
            # (the statement's a little longer than the lock's: a wait for a lock is said as such)
            cur.execute("SELECT pg_catalog.set_config('lock_timeout', %s, true), "
                        "pg_catalog.set_config('statement_timeout', %s, true)",
                        (f"{limit * 1000:.0f}ms",  # (both an int of milliseconds: the longest --timeout's too)
                         f"{min(limit * 1000 + 500, 2_147_483_647):.0f}ms" if limit else "0"))
            if args.names:  # (0153) a pipeline's probe of its own models: their wirings, queue, shadows and alerts
                try:
                    cur.execute("SELECT h.check_name, h.state, h.value, h.detail "
                                "FROM pgscore.health(%s::text[]) AS h", (list(args.names),))
                except psycopg2.errors.UndefinedObject as e:  # a name of no model: a usage error (exit 2)
                    raise UsageError(database_error_text(e)) from None
            else:
                cur.execute("SELECT h.check_name, h.state, h.value, h.detail FROM pgscore.health() AS h")
            rows = cur.fetchall()
    except (psycopg2.errors.LockNotAvailable, psycopg2.errors.QueryCanceled, psycopg2.OperationalError) as e:
        waits = f"see who holds locks on pgscore's tables: {HEALTH_LOCK_HOLDERS}"
        why, hint = (("a lock another session holds on a table pgscore.health() reads (55P03, lock_timeout)", waits)
                     if e.pgcode == "55P03" else
                     ("its query ran out of time (57014, statement_timeout)", "a server this busy is not healthy")
                     if e.pgcode == "57014" else
                     ("the server did not answer", "is the server up and reachable, and not stopped?")
                     if "no answer in time" in str(e) or "timeout expired" in str(e) else (None, None))
        if why is None:
            raise
        raise PgscoreError(f"pgscore health could not tell in {args.timeout} whether pgscore is healthy: {why}",
                           sqlstate=e.pgcode or "08006",
                           hint=f"{hint}; --timeout sets how long the check waits (0 for ever)") from None
    finally:
        ext.set_wait_callback(previous)
        if conn is not None:
            conn.close()
    counts = {st: sum(1 for r in rows if r[1] == st) for st in ("fail", "warn", "ok")}
    worst = "FAIL" if counts["fail"] else "WARN" if counts["warn"] else "OK"
    if args.json:  # (session 68) one document for a scraper, the exit code as the lines'
        print(json.dumps({"verdict": worst, **counts,
                          "checks": [{"check": name, "state": st, "value": value, "detail": detail}
                                     for name, st, value, detail in rows]}))
        return 0 if worst == "OK" else 1
    print(f"pgscore health: {worst} ({counts['fail']} fail, {counts['warn']} warn, {counts['ok']} ok)")
    for name, st, value, detail in rows:
        shown = "-" if value is None else f"{int(value)}" if float(value).is_integer() else f"{value:.1f}"
        print(f"{st.upper()} {name} {shown}: {detail}")
    return 0 if worst == "OK" else 1


HEALTH_GRACE = 2.0  # seconds past --timeout the client waits for a server that does not answer, its own timeouts aside


def _seconds_of(text: str) -> float:
    """A duration _duration took (10s, 500ms, 1min, 0), in seconds."""
    m = re.fullmatch(r"\s*(\d+(\.\d*)?|\.\d+)\s*(us|ms|s|min|h|d)?\s*", text)
    return float(m.group(1)) * {"us": 1e-6, "ms": 0.001, "s": 1, "min": 60, "h": 3600, "d": 86400}.get(m.group(3),
                                                                                                       0.001)


def cmd_retry(args):
    """pgscore.retry_failed(): rescore the profiles rescoring queued; exit 1 while some still fail, 2 for an
    unknown --model, 3 when the retry itself fails (unreachable, not installed, no privilege), so that cron
    can tell the two apart."""
    return _exit_3_on_failure(_retry, args, "retry")


def _retry(args):
    import psycopg2
    import psycopg2.errors

    url = resolve_db(args)
    require_installed(url)
    with migrate.connect_catalog_first(url) as conn, conn.cursor() as cur:
        migrate.hear_warnings(conn, _Notices())  # retry_failed's WARNINGs (a wiring skipped) as they come
        try:
            _once_more_on_serialization_failure(
                conn, cur, "SELECT r.rescoring_id, w.event_table, w.profile_table, r.rescored, r.failed "
                           "FROM pgscore.retry_failed(%s, %s) AS r "
                           "LEFT JOIN pgscore.rescoring w ON w.rescoring_id = r.rescoring_id ORDER BY 1",
                (args.model, args.limit), "retry_failed")
        except psycopg2.errors.UndefinedObject as e:  # an unknown --model: a usage error, not profiles failing,
            # printed after retry's usage line as the CLI's other usage errors are (before: the error line alone)
            raise UsageError(database_error_text(e)) from None
        rows = cur.fetchall()
        left_out = _skipped_wirings(cur, conn.notices)
        cur.execute("SELECT pg_catalog.count(*) FROM pgscore.error_queue q WHERE q.rescoring_id IS NULL")
        (unowned,) = cur.fetchone()
        # what --limit left untried, beside what failed (the queue of the wirings retried, after the retry)
        cur.execute("SELECT pg_catalog.count(*) FROM pgscore.error_queue q WHERE q.rescoring_id = ANY (%s)",
                    ([r[0] for r in rows],))
        (queued,) = cur.fetchone()
        # (session 67, trial T23) of those, the ones left for a table of its profile table's name that was renamed
        # since (a copy swapped in under the name): no failure, but nothing rescores them (retry_failed's WARNING
        # says what does); a cron on the exit code saw 0
        cur.execute(_LEFT_ELSEWHERE, ([r[0] for r in rows],))
        (elsewhere,) = cur.fetchone()
        reasons = []
        if any(r[4] for r in rows):  # why they still fail: the commonest reasons, each with a key it holds for
            cur.execute("SELECT pg_catalog.count(*), pg_catalog.min(q.entity_key), q.reason FROM pgscore.error_queue q "
                        "WHERE q.rescoring_id = ANY (%s) GROUP BY q.reason ORDER BY 1 DESC, 3 LIMIT 4",
                        ([r[0] for r in rows],))
            reasons = cur.fetchall()
    for rid, events, profiles, rescored, failed in rows:
        _say(f"wiring {rid}: {events} -> {profiles}: {rescored} rescored, {failed} still failing")
    failing = sum(r[4] for r in rows)
    # left by a detach: no wiring's to retry, until a table is attached to their profile table
    stranded = (f"{unowned} profile{' belongs' if unowned == 1 else 's belong'} to no wiring (see "
                f"{command('status')})") if unowned else ""
    if not rows:
        # (session 69, trial T26) another team's wirings skipped: their queue is not nothing, only not this role's
        others = len(left_out)
        # (review r2 of session 70) said by the denial: a wiring denied by a table's privilege is not in a schema
        # the role may not use (the line said so of both)
        by_schema = sum(left_out.values())
        by_table = others - by_schema
        kinds = " and ".join(k for k in (f"{by_schema} wiring(s) in a schema it may not use" if by_schema else "",
                                         f"{by_table}{'' if by_schema else ' wiring(s)'} whose tables it may not "
                                         "read or update" if by_table else "") if k)
        _say("nothing queued" + (f" for model {args.model}" if args.model else "")
             + (f" for a wiring this role may use ({kinds} skipped: {_see_warnings(conn.notices, left_out)})"
                if others else "")
             + (f" for a wiring; {stranded}" if unowned else ""))
    else:
        if failing or queued:
            untried = queued - failing - elsewhere  # (review r2) those left for a renamed table were not untried
            _say(f"{queued} profile{'' if queued == 1 else 's'} still queued"
                 + (f" ({untried} not tried: --limit {args.limit})" if untried > 0 and args.limit else "")
                 + ": see their reasons with SELECT * FROM pgscore.error_queue")
        for n, key, reason in reasons[:3]:
            reason = " ".join(str(reason).split())
            _say(f"  {n} {'with key' if n == 1 else 'such as key'} {literal(key)}: "
                 + (reason if len(reason) <= 200 else reason[:197] + "..."))
        if len(reasons) > 3:
            _say("  and other reasons")
        if elsewhere:
            _say(f"{elsewhere} of them {'was' if elsewhere == 1 else 'were'} queued for another table of the profile "
                 "table's name (renamed since), which this retry cannot rescore: see its WARNING")
        if unowned:
            _say(stranded)
    return 1 if failing or unowned or elsewhere else 0


def _once_more_on_serialization_failure(conn, cur, sql, params, what):
    """cur.execute(sql, params), run once more in a new transaction where it failed with 40001: (session 71) under a
    role's default_transaction_isolation = 'repeatable read' (or serializable) a wiring another session detached
    while retry_failed or refresh_windows ran is still in the call's snapshot, and the write of its queue rows fails
    the call (exit 3); a new transaction's snapshot has the detach, and the call skips the wiring as under READ
    COMMITTED. Once only: what fails again is said as it was."""
    import psycopg2.errors

    try:
        cur.execute(sql, params)
    except psycopg2.errors.SerializationFailure as e:
        conn.rollback()
        _say(f"{what} was stopped by another session's change ({database_error_text(e)}; this session's transactions "
             "are REPEATABLE READ or SERIALIZABLE): run again once, in a new transaction")
        # (review r3 of session 71) the WARNINGs the first call printed (a wiring of another team skipped) are not
        # printed again when the second raises them once more: each was printed twice
        if isinstance(conn.notices, _Notices):
            conn.notices.repeated = list(conn.notices.said)
        # (session 71) the new transaction hears WARNINGs as the first did: migrate.hear_warnings lowers a login's
        # client_min_messages = error for one transaction, which the rollback ended (the second call's WARNINGs lost)
        migrate.hear_warnings(conn, conn.notices)
        cur.execute(sql, params)


def cmd_refresh_windows(args):
    """pgscore.refresh_windows(): recount the window counters that time has made stale and rescore the profiles
    whose counters changed; exit 1 when some profile was queued or a wiring skipped, 2 for a --table that does
    not exist or is not wired, 3 when the refresh itself fails (unreachable, not installed, no privilege)."""
    return _exit_3_on_failure(_refresh_windows, args, "refresh-windows")


def _refresh_windows(args):
    import psycopg2
    import psycopg2.errors

    url = resolve_db(args)
    require_installed(url)
    with migrate.connect_catalog_first(url) as conn, conn.cursor() as cur:
        migrate.hear_warnings(conn, _Notices())  # refresh_windows' WARNINGs (a wiring skipped) as they come
        try:
            # the table as a name: to_regclass reads it as SQL writes it (quoted where it has capitals)
            _once_more_on_serialization_failure(
                conn, cur, "SELECT r.rescoring_id, r.event_table::text, r.profile_table::text, w.event_table, "
                           "w.profile_table, r.recounted, r.rescored, r.failed "
                           "FROM pgscore.refresh_windows(%s::regclass, %s) AS r "
                           "LEFT JOIN pgscore.rescoring w ON w.rescoring_id = r.rescoring_id ORDER BY 1",
                (args.event_table, args.limit), "refresh_windows")
        except psycopg2.Error as e:
            # (a schema that does not exist, 3F000, and a name of too many dots, 42601, were exit 3 as if the
            # refresh itself had failed)
            if not _names_no_table(e) or (args.event_table is None and e.pgcode in ("3F000", "42601")):
                raise  # (those two only of a --table given: else the refresh's own, exit 3 as before)
            raise _no_wired_table(e) from None  # a usage error: after refresh-windows' usage line, as the others
        rows = cur.fetchall()
        left_out = _skipped_wirings(cur, conn.notices)  # (review r2 of session 70) left out: another role's
    others = len(left_out)
    skipped = failing = done = 0
    for rid, events, profiles, wired_events, wired_profiles, recounted, rescored, failed in rows:
        where = f"{events or wired_events} -> {profiles or wired_profiles}"
        if recounted is None:
            skipped += 1
            _say(f"wiring {rid}: {where}: skipped (see the warning above)")
            continue
        failing += failed
        done += recounted + failed
        _say(f"wiring {rid}: {where}: {recounted} recounted, {rescored} rescored, {failed} queued")
    if not rows:
        _say(("no wiring this role may use has a window counter" if others else "no wiring has a window counter")
             + (f" on {args.event_table}" if args.event_table else ""))
    if others:
        _say(f"{others} wiring(s) this role may not use (a schema, or a table) skipped: "
             f"{_see_warnings(conn.notices, left_out)}")
    if failing:
        _say(f"{failing} profile{'' if failing == 1 else 's'} queued: see their reasons with SELECT * FROM "
             f"pgscore.error_queue, then {command('retry')}")
    if args.limit and done >= args.limit:
        _say(f"--limit {args.limit} reached: run it again for any profiles after these")
    return 1 if failing or skipped else 0


def cmd_backfill(args):
    """pgscore.backfill_rescoring(): recount the counters of an event table's wirings from all of its events (what
    attaching over a table with events, or again after a detach, left uncounted) and rescore the profiles whose
    counters changed; exit 1 when the backfill warned (some profile queued, profiles it could not create), 2 for a
    --table that does not exist or is not wired, 3 when the backfill itself fails."""
    return _exit_3_on_failure(_backfill, args, "backfill")


def _backfill(args):
    import psycopg2

    url = resolve_db(args)
    require_installed(url)
    with migrate.connect_catalog_first(url) as conn, conn.cursor() as cur:
        notices = migrate.hear_warnings(conn, _Notices())  # its NOTICEs and WARNINGs as they come
        try:
            cur.execute("SELECT pgscore.backfill_rescoring(%s::regclass)", (args.event_table,))
        except psycopg2.Error as e:
            if not _names_no_table(e):
                raise
            raise _no_wired_table(e) from None
        (n,) = cur.fetchone()
        # (session 71) how many WARNINGs it raised, as the function counted them: a role's client_min_messages =
        # error hid them, and the backfill that warned exited 0 (the notices' text only from an older server's)
        cur.execute("SELECT pg_catalog.current_setting('pgscore.backfill_warnings', true)")
        (counted,) = cur.fetchone()
    warned = int(counted) > 0 if counted else notices.warned
    _say(f"{args.event_table}: every profile's counters recounted from the event table's events; {n} "
         f"profile{'' if n == 1 else 's'} changed, rescored where scored")
    if warned:
        where = "see the warning above" if notices.warned else "see its WARNING above or in the server log"
        _say(f"{where}; the queued profiles: SELECT * FROM pgscore.error_queue, then {command('retry')}")
        return 1
    return 0


def cmd_rescore(args):
    """pgscore.rescore_profiles(): rescore the profiles of an event table's wirings with the live version as they
    are (after a rollback or activate, or an UPDATE of a profile's own columns), --chunk-size profiles a
    transaction, a line per chunk; exit 1 when some profile was queued, 2 for a --table that does not exist or is
    not wired, 3 when the rescoring itself fails (no live version, unreachable, not installed, no privilege)."""
    return _exit_3_on_failure(_rescore, args, "rescore")


def _rescore(args):
    import psycopg2

    url = resolve_db(args)
    require_installed(url)
    conn = migrate.connect_catalog_first(url)
    conn.autocommit = True  # a transaction a chunk: what is done stays done if the run is interrupted
    conn.notices = _Notices()
    # (hearing: the server's WARNINGs where the login hides them, for each chunk's own transaction)
    sql = migrate.hearing("SELECT r.rescoring_id, r.profile_table::text, r.rescored, r.failed, r.last_key "
                          "FROM pgscore.rescore_profiles(%s::regclass, %s::regclass, %s, %s) AS r ORDER BY 1")
    totals = {}  # rescoring_id -> [profile table, rescored, failed]
    try:
        with conn.cursor() as cur:
            try:
                cur.execute(sql, (args.event_table, args.profile_table, None, args.chunk_size))
            except psycopg2.Error as e:
                if not _names_no_table(e):
                    raise
                raise _no_wired_table(e) from None
            pending = cur.fetchall()
            while pending:
                rid, profiles, rescored, failed, last = pending.pop(0)
                t = totals.setdefault(rid, [profiles, 0, 0])
                t[1] += rescored
                t[2] += failed
                if last is not None:
                    if not args.quiet:
                        _say(f"wiring {rid}: {args.event_table} -> {profiles}: {t[1]} rescored, {t[2]} queued so "
                             f"far (after key {last})")
                    cur.execute(sql, (args.event_table, profiles, last, args.chunk_size))
                    pending = cur.fetchall() + pending
    finally:
        conn.close()
    failing = 0
    for rid, (profiles, rescored, failed) in sorted(totals.items()):
        failing += failed
        _say(f"wiring {rid}: {args.event_table} -> {profiles}: {rescored} rescored with the live version, "
             f"{failed} queued")
    if failing:
        _say(f"{failing} profile{'' if failing == 1 else 's'} queued: see their reasons with SELECT * FROM "
             f"pgscore.error_queue, then {command('retry')}")
    return 1 if failing else 0


def _skipped_wirings(cur, notices) -> dict:
    """The wirings retry_failed or refresh_windows (just called, in this transaction) left out as this role's to
    leave (another team's): {rescoring_id: whether by a schema it may not use}, as the call left them in the setting
    pgscore.skipped_wirings (session 71: they were counted from the WARNINGs' text, which a role's client_min_messages
    = error hides and a translated lc_messages words otherwise: "nothing queued", the other team's queue unsaid); from
    the WARNINGs only where the server's pgscore predates the setting."""
    cur.execute("SELECT pg_catalog.current_setting('pgscore.skipped_wirings', true)")
    (value,) = cur.fetchone()
    if not value:
        return {k: bool(v) for k, v in notices.skipped.items()}
    return {k: kind == "schema" for k, kind in json.loads(value).items()}


def _see_warnings(notices, left_out) -> str:
    """Where the WARNINGs of the wirings left out are: above, or where this session did not match one in English
    (the server's lc_messages words 'WARNING:' in its language: printed above all the same; or an older server's
    text) above or in the server log. (review r3 of session 71: it said the session's client_min_messages did not let
    it through, which the CLI's sessions lower from error to warning since h1's migrate.hear_warnings: a WARNING
    printed just above was said to be hidden)"""
    if all(k in notices.skipped for k in left_out):
        return "see the WARNING"
    return f"see the WARNING above or in the server log; {command('status')} lists the queue by wiring"


class _Notices(list):
    """A psycopg2 notices list that prints each notice (a WARNING from the server) as it arrives, but the
    function's own WARNING that profiles were queued (or stay queued): the command's lines say that per
    wiring, with the exit code (the WARNING is for those who see only the server log, as under pg_cron)."""

    QUEUED = re.compile(r"WARNING:  pgscore: (retry_failed|refresh_windows): \d+ profile\(s\) of ")
    warned = False  # whether a WARNING came (backfill's exit code)
    # (session 70) and those denied later, by a table's privilege (USAGE on the schema, no SELECT on its table): left
    # out of retry_failed's result as those are. (session 71) Read only where the server's pgscore leaves no
    # pgscore.skipped_wirings (_skipped_wirings): the text is English and client_min_messages may hide it
    NOT_USABLE = re.compile(r"WARNING:  pgscore: (?:retry_failed|refresh_windows) skipped wiring (\d+) (.*: this role "
                            r"\(.*\) may not use "
                            r"schema |\(.*\): permission denied for )")

    def __init__(self):
        super().__init__()
        self.said = []  # the notices printed
        self.repeated = []  # those a first call printed, which its run again (on 40001) does not print twice
        self.skipped = {}  # wirings retry_failed skipped as in a schema the role may not use (session 69; its
        # queue and its held-back replicated events are each said: one wiring), or denied by a table's privilege:
        # whether by the schema

    def append(self, notice):
        self.warned = self.warned or notice.startswith("WARNING:")
        skipped = self.NOT_USABLE.match(notice)
        if skipped:
            self.skipped[skipped.group(1)] = self.skipped.get(skipped.group(1), False) or "may not use schema " in \
                skipped.group(2)
        if notice in self.repeated:
            self.repeated.remove(notice)
        elif not self.QUEUED.match(notice):
            self.said.append(notice)
            _say(notice.strip())


class _Warnings(list):
    """A psycopg2 notices list that prints each WARNING from the server on stderr as it arrives (pgscore score's:
    a shadow version that did not score rows of a chunk, which the command said nothing of: user trial hT12)."""

    def append(self, notice):
        super().append(notice)
        if notice.startswith("WARNING:"):
            _flush()
            if sys.stderr.isatty():  # through the bar drawn there (cleared, the WARNING, the bar again below it):
                from tqdm import tqdm  # printed as it is, it was glued to the end of the bar's line

                tqdm.write(notice.strip(), file=sys.stderr)
            else:
                print(notice.strip(), file=sys.stderr, flush=True)


# -- registry ----------------------------------------------------------------
def _note_off_pins():
    """A note on stderr where this environment's scikit-learn or numpy is not pgscore's pins: the version is
    stored as written with them, and a server on the pins refuses to load it wherever scikit-learn scores it
    (the server checks the writer's versions against its own; compiled versions are not affected)."""
    from pgscore import artifacts, environment

    off = [f"{lib} {have} (pgscore pins {p})" for lib, (have, p) in environment.off_pins(artifacts.CHECKED).items()]
    if off:
        print(f"pgscore: note: this environment imports {', '.join(off)}: the version is stored as written with "
              "them, and a server on the pins will refuse to load it wherever scikit-learn scores it (docs/sql.md, "
              "'Upgrading scikit-learn, numpy or Python')", file=sys.stderr)


def cmd_deploy(args):
    from pgscore import datasets, registry
    from pgscore.features import check_csv_width, check_fitted, fitted_names

    # usage errors (exit 2, with deploy's usage line): the options alone say so, before a file is read
    if args.features is not None and not args.features.strip(", "):
        raise UsageError("--features is empty: give the feature names, comma-separated (--features a,b,c)")
    if args.features and "" in (n.strip() for n in args.features.split(",")):
        # (a,,b, a trailing or leading comma: deploy refused the empty name with exit 1, after loading the file)
        raise UsageError(f"--features {shlex.quote(args.features)} names an empty feature (two commas in a row, or "
                         "one at either end): give each feature's name, comma-separated (--features a,b,c)")
    if args.features:
        given = [n.strip() for n in args.features.split(",")]
        twice = sorted({n for n in given if given.count(n) > 1})
        if twice:  # (refused with exit 1 after the file was read, as an empty name was)
            raise UsageError(f"--features {shlex.quote(args.features)} names {', '.join(twice)} more than once: "
                             "each feature is one column or JSON key, named once (--features a,b,c)")
    if args.target and not args.train:
        raise UsageError("--target names the label column of --train CSV: without --train it does nothing",
                           hint="add --train CSV (the baseline and hold-out metrics come from it), or leave "
                                "--target out")
    _refuse_a_read_only_server(args)
    progress = _deploy_progress()
    if progress is not None and os.path.isfile(args.artifact):
        csv = (f" and {args.train} ({os.path.getsize(args.train) / 2**20:,.1f} MB)"
               if args.train and os.path.isfile(args.train) else "")
        progress(f"reading {args.artifact} ({os.path.getsize(args.artifact) / 2**20:,.1f} MB){csv}")
    estimator, source = registry.load_artifact(args.artifact, args.sha256, given_by="--sha256",
                                               allow_version_mismatch=args.allow_version_mismatch)
    try:  # (deploy checks it again) named with its file here, before the CSV is read
        check_fitted(estimator)
    except PgscoreError as e:
        raise PgscoreError(f"{args.artifact}: {e.message}", hint=e.hint, detail=e.detail) from None
    if source.get("scikit-learn"):
        import sklearn

        print(f"pgscore: warning: {args.artifact} was written with scikit-learn {source['scikit-learn']} and is "
              f"deployed as this Python's {sklearn.__version__} loads it (--allow-version-mismatch): scikit-learn does "
              "not support that, and it may score otherwise than where it was fitted; pgscore show names the "
              "version it was written with", file=sys.stderr)
    # (trial T27) neither: the names the estimator was fitted with (a DataFrame's, feature_names_in_), as
    # registry.deploy takes them; it asked for --features, exit 2, where the file held them
    if not (args.features or args.train or fitted_names(estimator)):
        raise UsageError("give the feature names with --features a,b,c or training data with --train CSV: "
                         f"{args.artifact}'s estimator was fitted without column names (no feature_names_in_)")
    _note_off_pins()
    X = y = None
    names = [n.strip() for n in args.features.split(",")] if args.features else None
    if args.train:
        X, y, names = datasets.read_csv(args.train, target=args.target, features=names or fitted_names(estimator),
                                        classes=getattr(estimator, "classes_", None), estimator=estimator)
        if not args.features:
            check_csv_width(estimator, names, csv=args.train, target_given=args.target is not None,
                            target_hint="--target COLUMN", features_hint="--features a,b,c")
        # (recorded with the version: a deploy of the same file from other training data is no retry of this one)
        source = {**source, "train": {"sha256": _file_sha256(args.train), "target": args.target}}
    url = _db_for_deploying(args)
    rec = registry.deploy(url, args.name, estimator, X, y, feature_names=names,
                          description=args.description, activate=not args.no_activate, reason=args.reason,
                          allow_task_change=args.allow_task_change,
                          allow_feature_change=args.allow_feature_change, source=source, progress=progress,
                          if_new=not args.again)
    if not rec["stored"]:  # (the newest version stores these bytes: a retried deploy task, say)
        return _deployed_already(args, url, rec)
    if args.json:  # (one document on stdout; the notes below go to stderr as they do without it)
        _say_json(_deploy_json(rec))
    say = (lambda _: None) if args.json else _say
    say(deployed_line(rec))
    say(f"  from: {_source(rec)}")
    say(f"  engine: {rec['engine']}" + (f" ({rec['engine_note']})" if rec.get("engine_note") else ""))
    if rec.get("text_categories"):  # (the artifact stored is the estimator converted to take the codes)
        say("  " + text_categories_line(rec))
    held = holdout_line(rec)
    if held:  # (with --target: what the deploy measured, which it said nowhere but in pgscore show)
        say("  " + held)
    if not rec["live"]:  # --no-activate: what makes it live (it said "not live", and no more)
        say("  " + _not_live_next(url, rec["name"], rec["version"]))
    if rec.get("same_artifact"):  # (a note: deploying the same file again is allowed, for a new baseline say)
        same, again = rec["same_artifact"], command(f"activate {shlex.quote(rec['name'])} {rec['same_artifact'][-1]}")
        print(f"pgscore: note: version {rec['version']} stores the same artifact as {rec['name']} version"
              f"{'s' if len(same) > 1 else ''} {', '.join(map(str, same))} (sha256 {rec['sha256'][:12]}...): the same "
              f"estimator, deployed again; what differs is this deploy's record (baseline, metrics, description); to "
              f"make an earlier one live instead: {again}", file=sys.stderr)
    if rec.get("feature_note"):
        print(f"pgscore: note: {rec['feature_note']}", file=sys.stderr)
    if rec.get("worse_than_live"):  # made live with a worse hold-out metric than the version live before it
        print(f"pgscore: note: {worse_than_live_note(rec)}", file=sys.stderr)
    if rec["live"]:  # (a wired profile table with NULLs the version refuses: each event's rescoring queued)
        _say_wired_nulls(url, rec["name"], rec["version"])
        if rec["version"] > 1:  # (the wired profiles keep the version before's score: as activate; a first, none)
            _say_stale_scores(url, rec["name"])
        if rec["version"] > 1:
            _say_other_deployer(url, rec["name"], rec["version"])
    if not args.train:  # a note, on stderr as the others are
        print("pgscore: note: without --train: no baseline (the drift views say no_baseline), no hold-out metrics, "
              "and no compiled evaluator (it is proved equal to scikit-learn on deploy data); deploy with --train "
              "CSV for them", file=sys.stderr)
    return 0


def _say_other_deployer(url, name, version) -> None:
    """After a deploy made `version` live (session 69, trial T26): where the last deploy, activate or rollback of
    another version of the model was another role's, a note on stderr saying so. Two teams sharing a database (a
    schema each) share one registry, and growth's `pgscore deploy --name churn` made its estimator live as v2 of
    risk's churn, for risk's wirings and queries, and said nothing of it. Never fails the deploy."""
    import psycopg2

    try:
        with contextlib.closing(migrate.connect_catalog_only(url)) as conn, conn.cursor() as cur:
            cur.execute("SELECT d.deployed_by, m.version, CURRENT_USER::pg_catalog.text FROM pgscore.deployments d "
                        "JOIN pgscore.models m ON m.model_id OPERATOR(pg_catalog.=) d.model_id "
                        "WHERE d.model_name OPERATOR(pg_catalog.=) %s AND m.version OPERATOR(pg_catalog.<>) %s "
                        "ORDER BY d.deployment_id DESC LIMIT 1", (name, version))
            row = cur.fetchone()
    except psycopg2.Error:  # (a note: the deploy is done)
        return
    if row is None or row[0] == row[2]:
        return
    by, before, me = row
    print(f"pgscore: note: {name} v{before} was deployed (or made live) by {by}, not by this role ({me}): v{version} "
          f"now scores wherever {name} is used in this database, {by}'s wirings and queries too (a model's name is the "
          f"database's, not a schema's or a team's); where two teams share the database, give each model a name of "
          f"its own (a name may hold '.': growth.{name}; docs/sql.md, One cluster, several teams); to make v{before} "
          f"live again: {command(f'rollback {shlex.quote(name)}')}", file=sys.stderr)


def _refuse_a_read_only_server(args) -> None:
    """deploy's first look at its database: a hot standby, or a session whose transactions are read-only, is
    refused (25006, registry.check_writable) before the file is unpickled and the training data read and refit,
    where a standby said "cannot assign OIDs during recovery" after 5 s of them (trial hT17 of session 64). A
    database it cannot reach is left to the deploy to say, after the file is read, as before."""
    import psycopg2

    from pgscore import registry

    try:
        conn = migrate.connect_catalog_first(resolve_db(args))
    except (PgscoreError, psycopg2.Error):
        return
    try:
        registry.check_writable(conn, f"deploying model {args.name}")
    except psycopg2.Error:
        return
    finally:
        conn.close()


def _file_sha256(path) -> str:
    """The sha256 of a file's bytes (a training CSV's, read a MB at a time), as sha256sum prints it."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(2**20), b""):
            h.update(block)
    return h.hexdigest()


def _deploy_json(rec: dict) -> dict:
    """deploy --json's document: the version deployed (or found deployed already), whether this deploy stored it
    and whether it made it live; where it stored nothing, what matched (`matched`: the facts the text's `matched:`
    line gives) and the deployment that had taken the version off (`taken_off`, the text's note on stderr), and
    the shadow versions its go-live stopped (`shadows_ended`, the text's line)."""
    off = rec.get("taken_off")
    return {"name": rec["name"], "version": rec["version"], "model_id": rec["model_id"], "sha256": rec["sha256"],
            "signed": rec["signed"], "live": rec["live"], "stored": rec["stored"],
            "made_live": rec["live"] if rec["stored"] else rec["made_live"],
            "same_artifact": rec.get("same_artifact") or [], "metrics": rec.get("metrics") or {},
            "matched": None if rec["stored"] else _matched(rec),
            "taken_off": off and {"action": off["action"], "at": off["deployed_at"], "by": off["deployed_by"],
                                  "reason": off.get("reason"),
                                  "undo": command(f"rollback {shlex.quote(rec['name'])} --from {rec['version']}")},
            "shadows_ended": list(rec.get("shadows_ended") or [])}


def _matched(rec: dict) -> dict:
    """What a deploy that stored nothing found the same in the name's newest version (registry._newest_same's
    checks): the bytes' sha256, the feature names in order, the training data (the --train CSV's sha256 and
    --target, None without --train), the description, and the signing (as this server stores its models)."""
    train = ((rec.get("env") or {}).get("source") or {}).get("train")
    return {"sha256": rec["sha256"], "feature_names": list(rec.get("feature_names") or []),
            "train": train, "description": rec.get("description"), "signed": rec["signed"]}


def _matched_line(rec: dict) -> str:
    """deploy's `matched:` line where it stored nothing: why this deploy is the newest version's again."""
    m = _matched(rec)
    names = m["feature_names"]
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    train = m["train"]
    data = ("no training data, as this deploy gave none (no --train)" if train is None else
            f"the same training data (a --train CSV of sha256 {str(train.get('sha256'))[:12]}..., "
            + (f"--target {train['target']})" if train.get("target") else "no --target)"))
    return (f"matched: the estimator's bytes (sha256 {m['sha256'][:12]}...), the {len(names)} feature name"
            f"{'' if len(names) == 1 else 's'} in order ({shown}), {data}, "
            + (f"the description {m['description']!r}" if m["description"] is not None else "no description")
            + f", {'signed' if m['signed'] else 'unsigned'} as this server stores its models")


def _deployed_already(args, url, rec) -> int:
    """deploy where the name's newest version stores the bytes deployed (with its feature names): nothing stored;
    made live where the deploy would have made a new version live and it is not (exit 0 either way)."""
    if args.json:
        _say_json(_deploy_json(rec))
    else:
        _say(f"already deployed: {rec['name']} version {rec['version']} (model_id {rec['model_id']}, sha256 "
             f"{rec['sha256'][:12]}..., {'signed' if rec['signed'] else 'unsigned'}, "
             f"{'live' if rec['live'] else 'not live'}), the newest version, is this deploy again: nothing was "
             "stored" + ("; it was not live: made it live" if rec["made_live"] else ""))
        _say("  " + _matched_line(rec))
        _say("  to store it again as a new version anyway (a fresh baseline and hold-out metrics, say): add --again; "
             "another --train CSV, --target or --description stores a version without it")
        if not rec["live"]:
            _say("  " + _not_live_next(url, rec["name"], rec["version"]))
    if rec.get("taken_off"):  # (a rollback or retire a person or a gate made: undone by this retry, say so)
        off = rec["taken_off"]
        at = off["deployed_at"].astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC") \
            if hasattr(off["deployed_at"], "astimezone") else off["deployed_at"]
        _flush()
        print(f"pgscore: note: {rec['name']} version {rec['version']} was taken off by the {off['action']} of {at} "
              f"by {off['deployed_by']}" + (f" ({off['reason']!r})" if off.get("reason") else "")
              + ": this deploy made it live again; to undo it: "
              + command(f"rollback {shlex.quote(rec['name'])} --from {rec['version']}"), file=sys.stderr)
    if rec["made_live"]:  # (activate's notes)
        if not args.json:
            _say_shadows_ended(rec)
        _say_wired_nulls(url, rec["name"], rec["version"])
        _say_stale_scores(url, rec["name"])
    return 0


def _jsonable(o):
    """--json's encoding of what json cannot write: a time as ISO 8601 (a timestamptz in UTC: show --json wrote the
    session's offset, `+11:00` from Sydney, where models --json writes UTC; review r5 of session 66), a Decimal as a
    number, else its text."""
    import datetime
    import decimal

    if isinstance(o, datetime.datetime) and o.tzinfo is not None:
        return o.astimezone(datetime.timezone.utc).isoformat()
    if isinstance(o, (datetime.datetime, datetime.date)):
        return o.isoformat()
    if isinstance(o, decimal.Decimal):
        return float(o)
    return str(o)


def _say_json(doc) -> None:
    """--json: one JSON document on stdout."""
    import json

    _say(json.dumps(doc, indent=2, default=_jsonable))


def _say_wired_nulls(url, name, version) -> None:
    """Where a version goes live over a wired profile table holding NULLs in a feature it takes no missing value
    in, a warning on stderr (each such profile's rescoring would be queued); never fails the command."""
    from pgscore import wired_nulls

    _flush()  # (the command's own lines first, where both go to one file)
    wired_nulls.say_warnings(url, name, version, sys.stderr)


def text_categories_line(rec: dict) -> str:
    """deploy's line of a model fitted on words (migration 0123): each text feature and how many words it knows, and
    that the artifact stored is the model converted to take their codes (its sha256 not the file's)."""
    cats = rec["text_categories"]
    said = ", ".join(f"{f} ({len(cats[f])} word{'s' if len(cats[f]) != 1 else ''})"  # (jsonb orders its keys)
                     for f in rec.get("feature_names") or cats if f in cats)
    return (f"text categories: {said}; stored converted to take each word's code (its place among the words), so "
            "its sha256 is not the file's; scoring codes the words (docs/sql.md, 'Features are numbers')")


def deployed_line(rec: dict) -> str:
    """deploy's first line: the name, version, model_id, sha256, signed and live of the version it stored (also
    alembic_ops.deploy_model's, in alembic's log)."""
    return (f"deployed {rec['name']} version {rec['version']} (model_id {rec['model_id']}, sha256 "
            f"{rec['sha256'][:12]}..., {'signed' if rec['signed'] else 'unsigned'}, "
            f"{'live' if rec['live'] else 'not live'})")


def holdout_line(rec: dict) -> str | None:
    """deploy's line of the hold-out metrics it measured (with --target), the headline ones; None without (also
    alembic_ops.deploy_model's)."""
    m = rec.get("metrics") or {}
    said = [f"{k} {m[k]:.3f}" for k in ("auc", "auc_ovr", "accuracy", "r2", "rmse", "mae")
            if isinstance(m.get(k), float)]
    if not said:
        return None
    rows = m.get("holdout_rows")
    show = command(f"show {shlex.quote(rec['name'])} --version {rec['version']}")
    return (f"hold-out: {', '.join(said)}" + (f" on {rows:,} rows" if isinstance(rows, int) else "")
            + f" (every metric: {show})")


def worse_than_live_note(rec: dict) -> str:
    """deploy's note of a version it made live whose hold-out metric is worse than the version live before it's
    (registry.deploy's `worse_than_live`, metrics.worse_than): both numbers, the way back, and the way to compare
    first (also alembic_ops.deploy_model's)."""
    from pgscore import metrics

    def num(x):  # 3 decimals; 3 significant digits under 0.1 (an rmse of 0.0004 read 0.000)
        return f"{x:.3g}" if x and abs(x) < 0.1 else f"{x:.3f}"

    w, name = rec["worse_than_live"], shlex.quote(rec["name"])
    margin = (f"{metrics.WORSE_RMSE_SHARE:.0%} of it" if w["metric"] == "rmse"
              else f"{metrics.WORSE_MARGIN[w['metric']]:g}")
    return (f"{rec['name']} version {rec['version']} is live now with hold-out {w['metric']} {num(w['value'])}, "
            f"{'over' if w['metric'] == 'rmse' else 'under'} the {num(w['live_value'])} of version "
            f"{w['live_version']}, live before it, by more than {margin} (each measured on a fifth of its own "
            f"training rows); to make version {w['live_version']} live again: {command(f'rollback {name}')}; to "
            "compare a version before it goes live, deploy it with --no-activate and score it next to the live one, "
            f"logged and never served: {command(f'shadow {name} VERSION')} (docs/guide.md, Retraining)")


def _not_live_next(url, name, version) -> str:
    """What to run next for a version deployed without going live: activate, and where another version is live,
    shadow first (which scores it next to that one; with none live there is nothing to shadow)."""
    import psycopg2

    try:  # (the version is stored and committed: a failure here must not make the deploy look failed)
        with contextlib.closing(migrate.connect_catalog_first(url)) as conn, conn.cursor() as cur:
            cur.execute("SELECT pg_catalog.bool_or(live) FROM pgscore.model_versions WHERE name = %s", (name,))
            other_live = bool(cur.fetchone()[0])
    except psycopg2.Error:
        other_live = False  # (activate's hint alone)
    it = f"{shlex.quote(name)} {version}"
    return (f"next: make it live with: {command(f'activate {it}')}" + (
        f"; or first score it next to the live version, logged and never served, with: {command(f'shadow {it}')}"
        if other_live else ""))


def _deploy_progress():
    """On a terminal, what deploy does next, on stderr with the seconds since it began (a big model's deploy
    took a minute, silent); elsewhere (a log file, cron's mail) nothing."""
    if not sys.stderr.isatty():
        return None
    import time

    start = time.monotonic()

    def say(what):
        print(f"pgscore: {time.monotonic() - start:5.1f}s {what}...", file=sys.stderr, flush=True)
    return say


def _source(rec) -> str:
    """The file a version was deployed from, as recorded (env.source: its name and sha256, which `sha256sum`
    prints; the sha256 of the stored bytes, the estimator serialised again, is another)."""
    src = (rec.get("env") or {}).get("source")
    if not isinstance(src, dict) or not src.get("sha256"):
        return "- (not recorded: deployed from Python, or before this release)"
    # (the source records that the mismatch was let through, not by which of the two: say both)
    written = (f", written with scikit-learn {src['scikit-learn']} (deployed with pgscore deploy "
               "--allow-version-mismatch or alembic's deploy_model(..., allow_version_mismatch=True))"
               if src.get("scikit-learn") else "")
    return f"{src.get('file') or '-'}, sha256 {src['sha256']}{written}"


def cmd_models(args):
    from pgscore import registry

    rows = registry.list_models(resolve_db(args))
    if args.json:  # (a list, [] for none; created_at in UTC)
        import datetime

        _say_json([{**r, "created_at": r["created_at"].astimezone(datetime.timezone.utc)} for r in rows])
        return 0
    if not rows:
        _say("no models deployed")
        return 0
    import datetime

    _say(f"{'name':<20} {'version':>7} {'task':<11} {'live':<6} {'signed':<6} {'created (UTC)':<20} estimator")
    for r in rows:  # in UTC whatever the session's TimeZone (a role's, PGTZ), which it printed bare before
        live = "yes" if r["live"] else "shadow" if r["shadow"] else ""
        _say(f"{r['name']:<20} {r['version']:>7} {r['task']:<11} {live:<6} "
             f"{'yes' if r['signed'] else 'no':<6} {r['created_at'].astimezone(datetime.timezone.utc):%Y-%m-%d %H:%M:%S} "
             f"{r['estimator']}")
    return 0


# show's metrics: the headline ones first (a jsonb object's keys come back by length, then bytes), then the counts
# and the others by name; a text one (score_baseline's prose, a skipped hold-out's reason) on its own line
_HEADLINE_METRICS = ("auc", "auc_ovr", "accuracy", "precision", "recall", "brier", "log_loss", "r2", "rmse", "mae",
                     "error_kurtosis", "threshold", "holdout_rows", "holdout_positives")


def _metrics_lines(metrics):
    order = {k: i for i, k in enumerate(_HEADLINE_METRICS)}
    keys = sorted(metrics, key=lambda k: (order.get(k, len(order)), k))
    values = [k for k in keys if not isinstance(metrics[k], str)]
    line = ", ".join(f"{k} {metrics[k]:.4g}" if isinstance(metrics[k], float) else
                     f"{k} {'-' if metrics[k] is None else metrics[k]}" for k in values)
    return [f"  metrics: {line or '-'}"] + [f"  {k}: {metrics[k]}" for k in keys if isinstance(metrics[k], str)]


def cmd_show(args):
    from pgscore import registry

    r = registry.show(resolve_db(args), args.name, args.version)
    if args.json:  # (the record as registry.show gives it: history by time, times in ISO 8601)
        _say_json(r)
        return 0
    state = " - live" if r["live"] else " - in shadow" if r["shadow"] else ""
    if not state and args.version is None:  # (the newest version, shown since none is live: it said so nowhere)
        deployments = [h for h in r["history"] if "deployment_id" in h]
        state = (" - no version is live: the model is retired" if deployments and deployments[-1]["action"] == "retire"
                 else " - no version is live")
    _say(f"{r['name']} version {r['version']} (model_id {r['model_id']}){state}")
    for k in ("task", "estimator", "classes", "n_train", "description", "created_at", "created_by", "sha256",
              "signed", "engine", "engine_note"):
        # '-' for what was not recorded; created_at in UTC, as the history's times (session 66, T21)
        _say(f"  {k}: {'-' if r[k] is None or r[k] == '' else _in_utc(r[k]) if k == 'created_at' else r[k]}")
    _say("  features: " + ", ".join(f"{n} {t}" for n, t in zip(r["feature_names"], r["feature_types"])))
    for f in (n for n in r["feature_names"] if n in (r.get("text_categories") or {})):  # (0123: each one's words)
        words = r["text_categories"][f]
        _say(f"  words of {f} (their codes 0..{len(words) - 1}): " + ", ".join(map(literal, words[:20]))
             + (f", ... ({len(words)} in all)" if len(words) > 20 else ""))
    _say(f"  from: {_source(r)}")
    _say("  environment: " + (", ".join(f"{k} {v}" for k, v in (r["env"] or {}).items() if k != "source") or "-"))
    for line in _metrics_lines(r["metrics"] or {}):
        _say(line)
    _say("  history:")
    for h in r["history"]:
        # (activated: an 'activate', or before 0121 a 'deploy' of a version live before; live False: a version
        # stored without being made live, deploy --no-activate)
        action = "activate" if h.get("activated") else h["action"]
        # (in UTC: it printed the session's TimeZone's wall clock, bare, `13:57:04` from Sydney for `02:57:04`)
        _say(f"    {_in_utc(h['deployed_at']):%Y-%m-%d %H:%M:%S} {action:<8} v{h['version']} by {h['deployed_by']}"
             + (", not made live" if h.get("live") is False else "") + (f": {h['reason']}" if h["reason"] else ""))
    return 0


def cmd_rollback(args):
    from pgscore import registry

    url = _db_for_deploying(args)
    try:
        r = registry.rollback(url, args.name, args.to, args.reason, force=args.force, from_version=args.from_version)
    except registry._db_errors() as e:
        said = _nothing_to_roll_back_to(url, args.name, e)
        if said is None:
            raise
        raise said from e
    if r["not_live"]:  # --from a version that is not live (rolled back from already, say): a retry's no-op
        live = (f"version {r['version']} is" if r["live"] else "no version is")
        _say(f"{r['name']} version {args.from_version} is not live ({live}): nothing was changed"
             + (" (--reason is recorded with a change only)" if args.reason else ""))
        return 0
    if r["already"]:  # --to the live version (migration 0093: nothing appended; before, "is live again")
        _say(f"{r['name']} version {r['version']} is live already: nothing was changed"
             + (" (--reason is recorded with a change only)" if args.reason else ""))
        return 0
    _say(f"{r['name']} version {r['version']} is live again")
    _say_shadows_ended(r)
    _say_wired_nulls(url, r["name"], r["version"])
    _say_stale_scores(url, r["name"])
    for w in r["warnings"]:  # (a shadow that scores nothing, which the rollback let through)
        _say(w)
    return 0


def _nothing_to_roll_back_to(url, name, e):
    """Where a rollback found no earlier version and the model has no version but the live one, the error with a
    hint that says so (the server's, to name a version with --to, names none that there is); else None."""
    from pgscore import registry

    diag = getattr(e, "diag", None)
    if getattr(e, "pgcode", None) != "55000" or "has no earlier deployed version" not in (diag.message_primary or ""):
        return None
    if len([m for m in registry.list_models(url) if m["name"] == name]) != 1:
        return None  # another version there is, which --to names
    quoted = shlex.quote(name)
    return PgscoreError(server_message(diag.message_primary), detail=diag.message_detail, sqlstate="55000",
                        hint=f"it has no other version: deploy one to go to ({command('deploy MODEL.joblib --name ' + quoted)}), "
                        f"or leave it with no live version ({command('retire ' + quoted)})")


def cmd_activate(args):
    from pgscore import registry

    url = _db_for_deploying(args)
    r = registry.activate(url, args.name, args.version, args.reason, force=args.force)
    if r["already"]:  # (the history records no go-live: a reason given is not kept)
        _say(f"{r['name']} version {r['version']} is live already: nothing was changed"
             + (" (--reason is recorded with a change only)" if args.reason else ""))
        return 0
    _say(f"{r['name']} version {r['version']} is live")
    _say_shadows_ended(r)
    _say_wired_nulls(url, r["name"], r["version"])
    _say_stale_scores(url, r["name"])
    return 0


def _say_stale_scores(url, name) -> None:
    """After a go-live (activate, rollback): the wired profiles that hold another version's score (stale_scores),
    a line per wiring with the command that rescores them, on stderr; never fails the command."""
    import psycopg2

    from pgscore import stale_scores

    _flush()
    try:
        with migrate.connect_catalog_first(url) as conn, conn.cursor() as cur:
            said = stale_scores.lines(name, stale_scores.counts(cur, name))
            conn.rollback()
        conn.close()
    except psycopg2.Error as e:  # (advice: the go-live is done)
        said = [f"{name}: the wired profiles holding another version's score were not counted: "
                f"{str(e).strip().splitlines()[0]}"]
    for line in said:
        print(f"warning: {line}", file=sys.stderr, flush=True)


def _say_shadows_ended(r) -> None:
    """The shadow versions a go-live stopped (activate, rollback): the version made live was one (the guide says
    a go-live ends its shadow mark; the commands said nothing of it)."""
    ended = r.get("shadows_ended") or []
    if ended:
        _say(f"{r['name']}: {len(ended)} shadow version{'' if len(ended) == 1 else 's'} stopped: "
             + ", ".join(f"v{v}" for v in ended) + " (a live version is not scored in shadow)")


def cmd_resign(args):
    """pgscore resign: pgscore.resign_models(), each version it signed again (or could not) on a line."""
    import psycopg2

    url = resolve_db(args)
    require_installed(url)
    with migrate.connect_catalog_first(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT name, version, kind, resigned, reason FROM pgscore.resign_models()")
        rows = cur.fetchall()
    conn.close()
    failed = 0
    for name, version, kind, resigned, reason in rows:
        what = f"{name} v{version}" + (" (evaluator)" if kind == "evaluator" else "")
        if resigned:
            _say(f"signed again: {what}")
        else:
            failed += 1
            _say(f"not signed again: {what}: {reason}")
    done = len(rows) - failed
    _say(f"{done} signature(s) of the first scheme signed again, bound to their model and version"
         + (f"; {failed} did not verify with the server's key and were left as they are (loading refuses them: "
            f"deploy those versions again with {command('deploy')}, or start the server with the key they were "
            "signed with and run resign again)" if failed else "")
         if rows else "nothing to re-sign: no signature of the first scheme (every signed version, if any, is bound "
                      "to its model and version)")
    return 1 if failed else 0


def cmd_shadow(args):
    from pgscore import registry

    # (usage errors: exit 2 after the one synopsis, SHADOW_USAGE, as argparse's own errors of shadow print it)
    if args.version is None and not args.off:
        raise UsageError("give a VERSION to score in shadow, or --off to stop")
    if args.off and args.force:
        raise UsageError("--force sets a shadow, --off stops one: give one of them")
    url = _db_for_deploying(args)
    if args.off:
        stopped = registry.clear_shadow_versions(url, args.name, args.version, args.reason)
        n = len(stopped)
        what = f"version {args.version}" if args.version is not None else "version" + ("" if n == 1 else "s")
        # (which ones, by their numbers: "1 shadow version stopped" named none, with --off and no VERSION too)
        _say(f"{args.name}: {n} shadow {what} stopped" + ("" if args.version is not None else
                                                           ": " + ", ".join(f"v{v}" for v in stopped)) if n else
             f"{args.name}: no shadow {what} to stop: nothing was changed")
        return 0
    r = registry.set_shadow(url, args.name, args.version, args.reason, force=args.force)
    if r["already"]:
        _say(f"{r['name']} version {r['version']} is scored in shadow already: nothing was changed")
        return 0
    _say(f"{r['name']} version {r['version']} is scored in shadow: next to the live version wherever its scores are "
         "written (rescoring on INSERT, pgscore score), logged with source 'shadow', never served")
    return 0


# pgscore shadow's synopsis, its two forms (argparse's own would be one line of every option, in another order
# than the forms its usage errors named)
SHADOW_USAGE = ("%(prog)s NAME VERSION [--reason TEXT] [--force] [--db URL]\n"
                "       %(prog)s NAME [VERSION] --off [--reason TEXT] [--db URL]")


def cmd_retire(args):
    from pgscore import registry

    import psycopg2

    url = resolve_db(args)
    require_installed(url)
    # the tables wired to it in strict mode, whose INSERTs fail meanwhile (asked first: the retire is the last
    # thing that can fail); a role that may retire reads the wirings (pgscore_admin)
    conn = migrate.connect_catalog_first(url)
    retired = strict = None
    try:
        with conn, conn.cursor() as cur:
            # retired already (the last entry of its history): a second retire would only append another
            cur.execute("SELECT d.deployed_at FROM pgscore.deployments d WHERE d.model_name = %s AND d.deployment_id = "
                        "(SELECT max(e.deployment_id) FROM pgscore.deployments e WHERE e.model_name = %s) "
                        "AND d.action = 'retire'", (args.name, args.name))
            retired = next(iter(cur.fetchall()), (None,))[0]
            cur.execute("SELECT pg_catalog.string_agg(r.event_table, ', ' ORDER BY r.event_table) "
                        "FROM pgscore.rescoring r WHERE r.model_name = %s AND r.strict", (args.name,))
            (strict,), = cur.fetchall()
    except psycopg2.errors.InsufficientPrivilege:
        pass  # (retire itself then says what the role lacks)
    finally:
        conn.close()
    if retired is not None:
        _say(f"{args.name} has no live version already (retired {_in_utc(retired):%Y-%m-%d %H:%M:%S %Z}): nothing was "
             "changed")
        return 0
    registry.retire(url, args.name, args.reason)
    _say(f"{args.name} has no live version: scoring it fails, and rescoring on INSERT queues its profiles (fails "
         f"the INSERT, where wired in strict mode), until a version is made live "
         f"({command(f'activate {args.name} VERSION')})")
    if strict:
        _say(f"WARNING: {strict} {'is' if ', ' not in strict else 'are'} wired to rescore with {args.name} in strict "
             f"mode: every INSERT into {'it' if ', ' not in strict else 'them'} fails until a version is made live")
    return 0


def cmd_delete(args):
    """pgscore delete NAME: pgscore.delete_model (migration 0156), a model name deployed by mistake deleted with
    all its versions where nothing depends on it; asked on a terminal first, --yes without one."""
    from pgscore import registry

    import psycopg2
    import psycopg2.errors

    url = resolve_db(args)
    require_installed(url)
    if not args.yes:
        # the server's checks first (pgscore.delete_model run and rolled back): a model that cannot be deleted, or
        # none of that name, is said before anything is asked, and a script's run without --yes is told that, not
        # to add --yes (session 66)
        # (its locks waited for at most registry.DELETE_CHECK_LOCK_WAIT ms: it waited for every transaction in
        # flight that had scored, and every score waited for it, also where the answer was no: review r2 of session
        # 66; where it would wait longer, the checks are left to the delete after the answer, as before)
        try:
            registry.delete_model(url, args.name, dry_run=True)
        except psycopg2.errors.LockNotAvailable:
            pass
        if not sys.stdin.isatty():
            raise UsageError(f"pgscore delete deletes model {args.name} and every version of it for good, and there "
                             "is no terminal to ask on: add --yes (to stop scoring it and keep its versions: "
                             f"{command('retire ' + shlex.quote(args.name))})")
        conn = migrate.connect_catalog_first(url)
        try:
            with conn, conn.cursor() as cur:
                cur.execute("SELECT v.version, v.live FROM pgscore.model_versions v WHERE v.name = %s "
                            "ORDER BY v.version", (args.name,))
                versions = cur.fetchall()
        finally:
            conn.close()
        if versions:  # (none: pgscore.delete_model says there is no such model, and the model it looks like)
            live = [v for v, is_live in versions if is_live]
            said = ", ".join(str(v) for v, _ in versions)
            print(f"delete model {args.name}: version{'s' if len(versions) > 1 else ''} {said}"
                  + (f" (version {live[0]} live)" if live else "")
                  + ", with their artifacts, baselines and deployment history? It cannot be undone. [y/N] ",
                  end="", file=sys.stderr, flush=True)
            answer = sys.stdin.readline().strip().lower()
            if answer not in ("y", "yes"):
                print(f"pgscore: nothing was deleted: {args.name} is as it was", file=sys.stderr)
                return 1
    deleted = registry.delete_model(url, args.name)
    if args.json:
        _say_json({"name": args.name, "deleted": deleted})
        return 0
    n = deleted.get("pgscore.models", 0)
    _say(f"deleted model {args.name}: {n} version{'s' if n != 1 else ''}, with {deleted.get('pgscore.artifacts', 0)} "
         f"artifact(s), {deleted.get('pgscore.evaluators', 0)} evaluator(s), {deleted.get('pgscore.baselines', 0)} "
         f"baseline row(s) and {deleted.get('pgscore.deployments', 0)} deployment row(s); the name is free: "
         f"a deploy of it stores version 1")
    return 0


# -- scoring -----------------------------------------------------------------
_NOT_A_VALUE = ("22P02", "22003", "22007", "22008")  # invalid text, out of range, bad datetime format or field


def _names_fit(args, options):
    """A column name over 63 bytes (NAMEDATALEN - 1), which PostgreSQL cuts to its first 63 with no word (onto
    another column, where the table has one of that name), is a usage error naming the option."""
    from pgscore.features import NAMEDATALEN

    for dest, opt in options:
        value = getattr(args, dest, None)
        if value is not None and len(value.encode()) >= NAMEDATALEN:
            raise UsageError(f"{opt} {value!r} is {len(value.encode())} bytes long: PostgreSQL keeps {NAMEDATALEN - 1} "
                             "bytes of a name and would cut it short, to another column's name perhaps",
                             hint=f"name a column of the table (at most {NAMEDATALEN - 1} bytes in UTF-8)")


def cmd_score(args):
    from pgscore import scoring

    _names_fit(args, (("key", "--key"), ("into", "--into"), ("label_into", "--label-into"),
                      ("scored_at_into", "--scored-at-into")))
    if not args.skip_unscorable and (args.max_skipped is not None or args.skipped_report is not None):
        raise UsageError(f"{'--max-skipped' if args.max_skipped is not None else '--skipped-report'} goes with "
                         "--skip-unscorable: without it, the first row the model cannot score stops the run")
    if args.label_into is not None and args.label_into == args.into:
        raise UsageError(f"--label-into {args.label_into} is the --into column: the score and the predicted class "
                         "need a column each",
                         hint=f"write the class into a column of its own (ALTER TABLE {args.table} ADD COLUMN "
                              "predicted_class text), then --label-into predicted_class")
    if args.scored_at_into is not None and args.scored_at_into in (args.into, args.label_into, args.key):
        what = ("--into" if args.scored_at_into == args.into else "--label-into" if args.scored_at_into ==
                args.label_into else "--key")
        raise UsageError(f"--scored-at-into {args.scored_at_into} is the {what} column: the time each row is scored "
                         "needs a column of its own",
                         hint=f"ALTER TABLE {args.table} ADD COLUMN scored_at timestamptz, then --scored-at-into "
                              "scored_at")
    report = None
    if args.skipped_report is not None:  # opened first: a file that cannot be written is said before any work
        try:
            report = open(args.skipped_report, "w", newline="", encoding="utf-8")  # noqa: SIM115 - (closed below)
        except OSError as e:
            raise PgscoreError(f"cannot write --skipped-report {args.skipped_report}: {e.strerror}") from None
    # SIGINT and SIGTERM (a scheduler's task timeout) are the run's from here to its exit: before the chunks (while it
    # connects, checks the model and table, takes the column's lock) a SIGTERM was Python's default, exit 143, not
    # STOPPED_EXIT with "nothing was written", and a scheduler retrying on 75 did not retry (session 65)
    stop = scoring.Stop()
    state = {}
    with scoring.handling(stop):
        try:
            early = _early()
            if early is not None and early.take():  # a signal since main() began: stop now, as it would have
                stop.extend(early)
                stop.phase = "stopping"
                raise KeyboardInterrupt
            url = resolve_db(args)
            if args.version is not None:
                scoring.say_if_not_live(url, args.model, args.version)
            return _score(args, url, state, stop)
        except KeyboardInterrupt:  # before the run's connection (or while what _score says is printed)
            stop.phase = "stopping"
            if stop.terminated:
                print("pgscore: stopped by a SIGTERM before the first chunk was committed: nothing was written; run "
                      "it again as it was", file=sys.stderr)
                return STOPPED_EXIT
            print("pgscore: interrupted before the first chunk was committed: nothing was written", file=sys.stderr)
            return 130
        finally:
            stop.phase = "done" if stop.phase == "done" else "stopping"  # (printing: a signal raises nothing more)
            if report is not None:
                _write_skipped(report, state.get("skipped", []))
                report.close()


def _score(args, url, state, stop=None):
    from pgscore import scoring

    try:
        done = scoring.score_table(url, args.model, args.table, args.key, args.into, chunk_size=args.chunk_size,
                                   version=args.version, after=args.after, log=not args.no_log,
                                   progress=not args.quiet, state=state, cancel=True, where=args.where,
                                   skip=args.skip_unscorable,
                                   max_skipped=args.max_skipped if args.max_skipped is not None else
                                   scoring.MAX_SKIPPED, label_into=args.label_into,
                                   scored_at_into=args.scored_at_into, said=lambda st: _resume(st, args),
                                   notices=_Warnings(), stop=stop)
    except KeyboardInterrupt as e:
        if stop is not None and stop.phase != "done":  # (what follows is printed whole: a signal raises nothing more)
            stop.phase = "stopping"
        state.update(e.args[0] if e.args else {})
        _say_skipped(args, state, sys.stderr)
        if state.get("term_cancelled") and not state.get("in_doubt"):
            return _term_cancelled(state, args)
        # a SIGTERM (a scheduler's task timeout, a stop): try again later, STOPPED_EXIT, not 130 (a Ctrl-C's)
        term = stop is not None and stop.terminated
        how = "stopped by a SIGTERM" if term else "interrupted"
        if state.get("in_doubt"):
            _say_in_doubt(state, how, args)
        elif state.get("unconfirmed"):  # (its COMMIT cancelled while it waited for a synchronous standby: session 67)
            print(f"pgscore: {how} after {state['rows']} rows: committed on this server, but the last chunk's "
                  f"{state['unconfirmed']} rows were not confirmed by a synchronous standby (its COMMIT was cancelled "
                  "while it waited for one, synchronous_standby_names); a failover to the standby would lose them: "
                  "check the standby (pg_stat_replication) before you rely on them; resume with: "
                  f"{_resume(state, args)}", file=sys.stderr)
        elif state.get("rows") or (state.get("last_key") is not None and state.get("last_key") != args.after):
            print(f"pgscore: {how} after {state['rows']} rows (committed); resume with: "
                  f"{_resume(state, args)}", file=sys.stderr)
        else:  # (with --after: the run as it was resumes from there still)
            print(f"pgscore: {how} before the first chunk was committed: nothing was written"
                  + ("; run it again as it was" if term else ""), file=sys.stderr)
        return STOPPED_EXIT if term else 130
    except Exception as e:
        if (args.after is not None and not state.get("rows") and getattr(e, "pgcode", None) in _NOT_A_VALUE
                and args.after in str(e)):  # the key column's type cannot read --after (a line edited by hand)
            key = state.get("shown", {}).get("key") or args.key  # (as SQL writes it: "Id")
            raise UsageError(f"--after {shlex.quote(args.after)} is not a value of {key}, the key of "
                               f"{args.table}: {server_message(e.diag.message_primary)}",
                               hint=f"give --after a value of {key} as PostgreSQL writes it as text (as in the "
                                    "--after= line an interrupted run prints)") from None
        _say_skipped(args, state, sys.stderr)
        row = _refused_key(e)
        # a chunk committed: the last key moved on from --after (with --where or skips, one may have scored no row)
        committed = state.get("last_key") is not None and state.get("last_key") != args.after
        if state.get("in_doubt"):  # the connection was lost during a chunk's COMMIT
            _say_in_doubt(state, "the connection was lost", args)
            _said_resume(e, "once the server is back, ask how the last chunk ended and resume with the line above "
                            "for its answer (a run from the start would score and log the committed rows again)"
                         if state.get("last_key") is not None or state["in_doubt"].get("last_key") is not None
                         else None)
        elif row is not None and not args.skip_unscorable:  # a row the model cannot score: which, and the ways on
            key = state.get("shown", {}).get("key") or args.key
            where = (f"{state['rows']} rows were scored and committed before the error; once it is fixed, resume "
                     f"with: {_resume(state, args)}" if committed else
                     "nothing was written (the first chunk holds it); once the row is fixed, run it again as it was")
            print(f"pgscore: stopped at the row of {key} {row}, which the model cannot score (the error below says "
                  f"which feature and why); {where}; or add --skip-unscorable to leave such rows unscored and "
                  "score the rest", file=sys.stderr)
        elif committed:  # chunks before the failing one are committed: say where to go on from
            cause = _stopped_by(e)
            if cause is None:
                print(f"pgscore: {state['rows']} rows were scored and committed before the error; once it is "
                      f"fixed, resume with: {_resume(state, args)}", file=sys.stderr)
            else:  # an operator's cancel, a timeout, the server gone: nothing to fix in the data
                print(f"pgscore: {state['rows']} rows were scored and committed before {cause[0]}; "
                      f"{cause[1]}resume{_shorter(e, args, ' with') or ' with'}: {_resume(state, args)}",
                      file=sys.stderr)
            _said_resume(e, cause[1] + RESUME_LINE if cause else None)  # (once the server answers, or is back)
        elif _stopped_by(e) is not None and row is None:  # the first chunk (or the count before it) stopped
            cause = _stopped_by(e)
            print(f"pgscore: nothing was written: {cause[0]} before the first chunk was committed; "
                  f"{cause[1]}run it again{_shorter(e, args, ' with') or ' as it was'}", file=sys.stderr)
        if row is None and _stopped_by(e) is not None:  # no fault in the data: exit STOPPED_EXIT, not 1
            try:
                e.pgscore_exit = STOPPED_EXIT
            except AttributeError:  # (an exception that takes no attribute: 1, as before)
                pass
        if isinstance(e, scoring.ColumnBusy):  # another run holds the column: try again later (user trial hT16)
            e.pgscore_exit = STOPPED_EXIT
        raise
    key, into = done["shown"]["key"], done["shown"]["into"]  # as SQL writes them ("Score", "order")
    rate = done["rows"] / max(done["seconds"], 1e-9)  # (a few rows in a second or more: not '0 rows/s')
    rate = f"{rate:,.0f}" if rate >= 10 or not done["rows"] else f"{rate:.2g}"
    _say(f"scored {done['rows']} row{'' if done['rows'] == 1 else 's'} of {args.table}"
         + (f" where {args.where}" if args.where is not None else "") + f" into {into}"
         + (f" and their classes into {done['shown']['label_into']}" if args.label_into is not None else "")
         + (f" and the time scored into {args.scored_at_into}" if args.scored_at_into is not None else "")
         + f" with {args.model}{'' if done['version'] is None else ' v' + str(done['version'])} "
         f"in {done['seconds']:.1f} s ({rate} rows/s)"
         + (f"; {done['null_keys']:,} row(s) with a NULL {key} were left out (no key to write a score by)"
            if done.get("null_keys") else ""))
    if args.after is not None and done["rows"] == 0 and not done["skipped"]:
        _say(f"nothing after --after {shlex.quote(args.after)}"
             + (" that --where holds for" if args.where is not None else "") + ": every row was scored already, "
             f"or that key sorts after every {key} of {args.table}")
    _say_skipped(args, done, sys.stdout)
    return SKIPPED_EXIT if done["skipped"] else 0


def _term_cancelled(state, args):
    """A SIGTERM (a scheduler's task timeout, a stop) whose chunk in flight did not commit within
    scoring.TERM_GRACE seconds, which was cancelled and rolled back: what was kept, the resume line, and
    STOPPED_EXIT (try again later: no fault of the data), not 130."""
    from pgscore import scoring

    what = (f"the chunk in flight had not committed {scoring.TERM_GRACE:g} s after a SIGTERM (waiting on a row lock "
            "another transaction holds, say): it was cancelled and rolled back")
    if state.get("last_key") is not None:
        print(f"pgscore: stopped: {what}; {state['rows']} rows were scored and committed before it; resume with: "
              f"{_resume(state, args)}", file=sys.stderr)
    else:
        print(f"pgscore: stopped: {what}; nothing was written; run it again as it was", file=sys.stderr)
    return STOPPED_EXIT


SKIPPED_EXIT = 3  # pgscore score ran to the end, but left rows the model cannot score unscored (--skip-unscorable)
# pgscore score was stopped by no fault of the data (an operator's cancel or pg_terminate_backend, a shutdown, a
# statement or idle timeout, the connection lost): resume it with the line it printed. sysexits.h's EX_TEMPFAIL,
# "try again later", which a scheduler can tell from 1, an error to fix (a row the model cannot score, say)
STOPPED_EXIT = 75
SKIPPED_SHOWN = 5  # of those, the ones whose key and reason are printed


def _say_skipped(args, state, out):
    """The rows a run with --skip-unscorable left unscored (committed chunks' only): how many, the first few with
    why, and where the whole list is."""
    skipped = state.get("skipped") or []
    if not skipped:
        return
    into = state.get("shown", {}).get("into") or args.into
    if args.label_into is not None:  # (its label column too: no class is written for such a row)
        into += f" and {state.get('shown', {}).get('label_into') or args.label_into}"
    lines = [f"pgscore: {len(skipped):,} row{' was' if len(skipped) == 1 else 's were'} left unscored, which the "
             f"model cannot score ({into} untouched, nothing logged for them):"]
    lines += [f"  {message} ({code})" for _, code, message in skipped[:SKIPPED_SHOWN]]
    if len(skipped) > SKIPPED_SHOWN:
        lines.append(f"  ... and {len(skipped) - SKIPPED_SHOWN:,} more")
    lines.append(f"  each listed with its key and why in {args.skipped_report}" if args.skipped_report else
                 "  list each with its key and why: --skipped-report FILE")
    try:
        print("\n".join(lines), file=out, flush=True)
    except BrokenPipeError:
        _gone()


def _write_skipped(report, skipped):
    """--skipped-report: a CSV of the rows left unscored, key (as text), SQLSTATE and the error's message."""
    import csv

    w = csv.writer(report)
    w.writerow(["key", "sqlstate", "message"])
    w.writerows(skipped)


def _not_connected(e):
    """_stopped_by of a connection pgscore score could not make (psycopg2 gives no SQLSTATE there): a server not
    up (refused, starting up, shutting down, in recovery, no answer in connect_timeout) or out of connections
    (53300: max_connections, a role's or database's CONNECTION LIMIT), which a later try may not meet, as
    docs/cli.md's exit codes say of classes 08 and 53 (they exited 1 at the start, 75 a chunk later: user trial
    hT16); else None (a wrong password, no such database or role: exit 1). Judged by the last attempt alone: libpq
    tries each host of a URL in turn (host=a,b; a name with an IPv6 and an IPv4 address) and its message gives every
    attempt's failure, so a first host refused and the next's `database "x" does not exist` read as refused, exit 75,
    and a scheduler retried a wrong URL for ever (review r6)."""
    from pgscore.migrate import last_attempt

    text = last_attempt(str(e))
    for words, what, *when in NOT_CONNECTED:
        if words in text:
            return f"the server refused the connection ({what})", (when or ["once the server is back, "])[0]
    return None


# the words of libpq and of the server for a connection refused for a while, and what they mean (in English: under
# another lc_messages the server's FATAL is in that language, and the run exits 1 as before). Not the server's "the
# database system is not accepting connections" (57P03 too): PostgreSQL says it of a standby with hot_standby = off
# alone ("Hot standby mode is disabled"), which takes no connection for as long as it is a standby, nor the run's
# writes after: a URL to fix, exit 1 (it exited 75, and a scheduler retried it for ever: review r6)
NOT_CONNECTED = (
    ("Connection refused", "08001: no server listening there, restarting or down, transient"),
    ("timeout expired", "08001: no answer within connect_timeout, transient"),
    ("the database system is starting up", "57P03: it is starting up, transient"),
    ("the database system is shutting down", "57P03: it is shutting down, transient"),
    ("the database system is in recovery mode", "57P03: it is in recovery, transient"),
    ("the database system is not yet accepting connections", "57P03: it is starting up, transient"),
    # a role's or database's CONNECTION LIMIT reached, and a CONNECTION LIMIT 0, which refuses every try until it is
    # raised: PostgreSQL says both in the same words, and the run can make no other connection as the role to ask
    # (session 65): 75, with what to check where it does not pass
    ("too many connections for role", "53300 too_many_connections: the role's CONNECTION LIMIT, transient; "
                                      "PostgreSQL says the same of a CONNECTION LIMIT 0, which refuses every try: "
                                      "where tries do not pass, read the role's rolconnlimit in pg_roles",
     "once the role has a connection free, "),
    ("too many connections for database", "53300 too_many_connections: the database's CONNECTION LIMIT, transient; "
                                          "PostgreSQL says the same of a CONNECTION LIMIT 0, which refuses every try: "
                                          "where tries do not pass, read the database's datconnlimit in pg_database",
     "once the database has a connection free, "),
    ("too many connections", "53300 too_many_connections: max_connections, or a CONNECTION LIMIT, transient"),
    ("sorry, too many clients already", "53300 too_many_connections: max_connections, transient"),
    ("remaining connection slots are reserved", "53300 too_many_connections: max_connections, transient"),
)


def _stopped_by(e):
    """Where what stopped a `pgscore score` run is no fault to fix (an operator's cancel, a statement_timeout, a
    shutdown, the connection lost): what it was, as a line says it, and when to go on ("" or "once ..., ");
    else None."""
    code = getattr(e, "pgcode", None)
    if getattr(e, "pgscore_connecting", False):  # the run's connection could not be made
        return _not_connected(e)
    if code == "57014":  # (the server's words tell which, in English: lc_messages may be another language)
        if "statement timeout" in str(e):
            return "a statement_timeout cancelled a statement", ""
        if "user request" in str(e):
            return "the statement was cancelled (pg_cancel_backend, an operator's)", ""
        return "the statement was cancelled (57014: an operator's pg_cancel_backend or a statement_timeout)", ""
    # 57P01, admin_shutdown: a backend's SIGTERM, an operator's pg_terminate_backend or a shutdown's (which signals
    # every backend so), in the same words; it said `the server shut the session down; once the server is back`.
    # libpq's lost connection that quotes those words (psycopg2 gives no SQLSTATE there) is the same
    if code == "57P01" or (lost_connection(e) and ADMIN_ENDED_WORDS in str(e)):
        return ADMIN_ENDED, "once the server answers, "
    if code == "57P02":  # crash_shutdown: another backend crashed, the server restarts
        return "the server ended the session (57P02: another server process crashed)", "once the server is back, "
    if code == "57P03":  # cannot_connect_now: starting up, shutting down, in recovery
        return "the server refused the session (57P03: it is starting up or shutting down)", "once the server is back, "
    # the session's own idle timeouts (a role's or database's setting): the same run may meet them again, so the
    # way on names the setting; libpq's lost connection that quotes the server's words is the same
    if code == "57P05" or (lost_connection(e) and IDLE_ENDED_WORDS in str(e)):
        return ("the server ended the session (57P05: idle longer than its idle_session_timeout)",
                "with a longer idle_session_timeout (or 0) for the role, ")
    if code == "25P03" or (lost_connection(e) and IDLE_IN_TRANSACTION_ENDED_WORDS in str(e)):
        return ("the server ended the session (25P03: idle in a transaction longer than its "
                "idle_in_transaction_session_timeout)", "with a longer idle_in_transaction_session_timeout (or 0) "
                "for the role, ")
    if lost_connection(e):
        return "the connection to the database was lost", "once the server is back, "
    if code and code[:2] == "08" and _session_lives(e):
        # a connection failure the server reports at ERROR, its session going on: not the run's own connection (that
        # one ends, libpq's word or a FATAL) but one the server made for a statement, dblink's or postgres_fdw's to a
        # remote that is down (08001), which the same statement meets again at every run until the remote is back:
        # it exited 75 "transient ... the connection to the database failed" (session 64)
        return None
    if code in TRANSIENT:
        return TRANSIENT[code]
    if code and code[:2] in TRANSIENT and code not in NOT_TRANSIENT:  # (its class's words, with its SQLSTATE)
        return TRANSIENT[code[:2]][0].format(code=code), TRANSIENT[code[:2]][1]
    return None


# the other server errors that are no fault of the data (session 63: they exited 1, "once it is fixed", and a job
# that resumes on 75 and pages on 1 paged someone for a lock wait): what stopped the run, as a line says it, and
# when to go on; by SQLSTATE, else by class (53: the server out of memory, disk or connections, which a later run
# may find again until an operator acts, but which no change of the data or the command fixes; 08: a connection
# failure the server reports, not 08P01, a protocol violation, and at FATAL: at ERROR it is a remote's, _stopped_by)
TRANSIENT = {
    "55P03": ("a lock wait timed out (55P03 lock_not_available, transient: another transaction held a lock longer "
              "than lock_timeout)", ""),
    "40P01": ("a deadlock ended a chunk (40P01 deadlock_detected, transient: another transaction locked the same "
              "rows in another order)", ""),
    "40001": ("a serialization failure ended a chunk (40001 serialization_failure, transient: a concurrent "
              "transaction's write)", ""),
    "53100": ("the server ran out of a resource (53100 disk_full, transient: the server's disk is full)",
              "once there is room on the server's disk, "),
    "53200": ("the server ran out of a resource (53200 out_of_memory, transient: the server's memory)", ""),
    "53300": ("the server ran out of a resource (53300 too_many_connections, transient: max_connections)", ""),
    "53": ("the server ran out of a resource ({code}, transient)", ""),
    "08": ("the connection to the database failed ({code}, transient)", "once the server is back, "),
}
# of those classes, the ones the same run meets again: a protocol violation (08P01), and a setting's limit (53400
# configuration_limit_exceeded: temp_file_limit, which a chunk past it exceeds at every run; score_table's error says
# to score smaller chunks or raise the limit), which exited 75 "transient ... run it again as it was" (review r5 of
# session 63)
NOT_TRANSIENT = ("08P01", "53400")


def _session_lives(e) -> bool:
    """The server reported `e` at ERROR: the session it came on goes on (a FATAL or PANIC ends it)."""
    diag = getattr(e, "diag", None)
    severity = getattr(diag, "severity_nonlocalized", None) or getattr(diag, "severity", None)
    return severity == "ERROR"


# the server's words for a session it ended by its backend's SIGTERM (57P01): pg_terminate_backend's and a
# shutdown's alike (in English: lc_messages may be another language, where the SQLSTATE alone tells)
ADMIN_ENDED_WORDS = "terminating connection due to administrator command"
ADMIN_ENDED = "the server ended the session (an administrator's pg_terminate_backend or a shutdown)"
# the server's words for a session it ended for its idle timeouts (57P05, 25P03), in English
IDLE_ENDED_WORDS = "terminating connection due to idle-session timeout"
IDLE_IN_TRANSACTION_ENDED_WORDS = "terminating connection due to idle-in-transaction timeout"


def _shorter(e, args, lead):
    """Where a statement_timeout stopped the run: what to change before going on (the same chunks would time out
    again), after `lead`; else ""."""
    if getattr(e, "pgcode", None) == "57014" and "statement timeout" in str(e) and getattr(e, "pgscore_counting", 0):
        return (f"{lead} a longer statement_timeout (the count of the rows to score timed out, which a smaller "
                "--chunk-size does not shorten)")
    if getattr(e, "pgcode", None) == "57014" and "statement timeout" in str(e):
        return f"{lead} a smaller --chunk-size (this run's: {args.chunk_size}) or a longer statement_timeout"
    return ""


RESUME_LINE = "resume with the line above (a run from the start would score and log the committed rows again)"


def _said_resume(e, hint):
    """Mark `e` as said after a resume line: its Hint says to resume with that line (not to run the command
    again, which would score and log the committed rows again)."""
    if hint is not None:
        try:
            e.resume_hint = hint
        except AttributeError:  # (an exception that takes no attribute: its own hint stays)
            pass


def _refused_key(e):
    """The key (as an SQL literal) of the row the model could not score that error `e` names, else None."""
    from pgscore.scoring import _row_of, _said, named_key

    if _row_of(e, None) is None:
        return None
    return named_key(_said(e)[1])


def _say_in_doubt(state, what, args=None):
    """Where the last chunk's COMMIT got no answer and the server did not say (or could not be asked) how
    it ended: both resume lines, and how to ask."""
    d = state["in_doubt"]
    status = f"is still {d['status']}" if d["status"] else "cannot be asked about (no connection)"
    before = (f"resume with: {_resume(state, args)}" if state.get("last_key") is not None else
              "run it again as it was (no chunk of it was committed)")
    print(f"pgscore: {what} while the last chunk was being committed, and whether it committed is unknown: its "
          f"transaction {d['xid']} {status}; ask with: SELECT pg_catalog.pg_xact_status('{d['xid']}'); if 'committed', "
          f"{d['rows']} rows are, resume with: {_resume(d, args)}; if 'aborted', {state['rows']} rows are, {before}",
          file=sys.stderr)


def _resume(state, args=None) -> str:
    """The options that go on from where a `pgscore score` run stopped: --after, its version (once it has one) and
    the run's own options that choose the rows and what is done with them (--where, --skip-unscorable,
    --max-skipped, --no-log: a resumed run without them scored the rows --where had left out, or logged what the
    run did not) and --label-into (a resumed run without it left the rest of the rows unlabelled), quoted for a
    shell: a key and an expression hold any character. Not --skipped-report (the resumed
    run would write the first one's file over: give it another)."""
    def opt(name, value):
        return f"{name}={shlex.quote(str(value))}"  # '=': a key or an expression may start with '-'

    said = [opt("--after", state["last_key"])]
    # (the version the run pinned where no chunk has said one yet: a resumed run without it scored the rest with the
    # live version of its own start, another where one was made live meanwhile)
    version = state.get("version") if state.get("version") is not None else state.get("pinned")
    if version is not None:
        said.append(f"--version {version}")
    if args is None:
        return " ".join(said)
    if args.where is not None:
        said.append(opt("--where", args.where))
    if args.label_into is not None:
        said.append(opt("--label-into", args.label_into))
    if getattr(args, "scored_at_into", None) is not None:
        said.append(opt("--scored-at-into", args.scored_at_into))
    if args.skip_unscorable:
        said.append("--skip-unscorable")
    if args.max_skipped is not None:
        said.append(f"--max-skipped {args.max_skipped}")
    if args.no_log:
        said.append("--no-log")
    return " ".join(said)


def cmd_maintain(args):
    from pgscore import scoring

    held = {}
    if args.keep_features is not None:  # read before anything changes
        scoring.check_features_period(resolve_db(args), args.keep_features)
    made, deleted, past, warned = scoring.maintain(resolve_db(args), days_ahead=args.days_ahead, keep=args.keep,
                                                   lock_timeout=args.lock_timeout, held=held)
    for w in warned:  # (a past day left in the default partition, and why: the server's words, with its HINT)
        print("pgscore: " + w, file=sys.stderr)
    _say(f"prediction log: {made} daily partition(s) created"
         + (f", of which {past}" if past else "")
         + (f"; retention {args.keep!r}, {deleted}" if deleted else ""))
    _say_default_days(held, args.days_ahead, warned)
    if args.keep_features is not None:  # (after the partitions: calls of their own, each committed; migration 0141)
        rows, said = scoring.redact_features(resolve_db(args), args.keep_features, lock_timeout=args.lock_timeout)
        _say(f"prediction log: features kept {args.keep_features!r}: {rows} row(s) redacted"
             + (f" ({said})" if said else ""))
    return 0


def _days(days) -> str:
    """Sorted dates as a line says them: one, or the first to the last, with how many."""
    if len(days) == 1:
        return f"{days[0]:%Y-%m-%d}"
    return f"{len(days)} days, {days[0]:%Y-%m-%d} to {days[-1]:%Y-%m-%d}"


def _say_default_days(held, days_ahead, warned):
    """What pgscore maintain found in the default partition (rows of days that had no partition of their own): of
    which days, which it moved into partitions of their days, and the command that makes the days it cannot (after
    those it makes ahead)."""
    from pgscore.scoring import DEFAULT_ROWS

    before, after, today = held.get("before") or {}, held.get("after") or {}, held.get("today")
    if not before and not after:
        return
    total = sum(before.values())
    over = "over " if total > DEFAULT_ROWS else ""
    moved = {d: n - after.get(d, 0) for d, n in before.items() if n > after.get(d, 0)}
    held_days = sorted(before)
    if over and held.get("latest_before") is not None and held["latest_before"] > held_days[-1]:  # (the bound)
        held_days.append(held["latest_before"])
    line = (f"prediction log: the default partition held {over}{min(total, DEFAULT_ROWS):,} row(s) of "
            + (f"days {held_days[0]:%Y-%m-%d} to {held_days[-1]:%Y-%m-%d}" if over and len(held_days) > 1
               else _days(held_days)) + " (UTC)" if before else "prediction log: the default partition")
    if moved:  # (over the count's bound, of the rows counted: the count says at least)
        line += (f"; at least {sum(moved.values()):,} of them moved into partitions of their days" if over else
                 f"; {sum(moved.values()):,} of {_days(sorted(moved))} moved into partitions of their days")
    last = today + datetime.timedelta(days_ahead)
    ahead = sorted(d for d in after if d > last)
    # over the count's bound, the rows counted are some of those there: the latest day is read exactly (the command
    # must reach it), and the rows of the days ahead are said as at least those counted
    bounded = sum(after.values()) > DEFAULT_ROWS
    latest = held.get("latest")
    if latest is not None and latest > last and (not ahead or latest > ahead[-1]):
        ahead.append(latest)
    past = sorted(d for d in after if d < today)
    if not ahead and not past:
        _say(line + ("; none stay there" if moved else ""))
        return
    if ahead:
        fix = partitions_until(last + datetime.timedelta(1), ahead[-1], today)
        days = (f"days {ahead[0]:%Y-%m-%d} to {ahead[-1]:%Y-%m-%d}" if bounded and len(ahead) > 1 else
                _days(ahead))
        line += (f"; {'at least ' if bounded else ''}{sum(after.get(d, 0) for d in ahead):,} of {days} stay there, "
                 f"after {last:%Y-%m-%d} (the last day made ahead): make their partitions with: {fix}")
    # (a past day whose table of its name is no partition: the WARNING above says it and what to do)
    named = {datetime.datetime.strptime(m, "%Y%m%d").date() for w in warned
             for m in re.findall(r"prediction_log_([0-9]{8}) exists", w)}
    kept = [d for d in past if d in named]
    if kept:
        line += f"; {sum(after[d] for d in kept):,} of {_days(kept)} stay there (the warning above says why)"
    past = [d for d in past if d not in named]
    if past:
        line += (f"; {sum(after[d] for d in past):,} of {_days(past)} stay there (31 past days a run): run "
                 f"{command('maintain')} again")
    _say(line)


def cmd_bench(args):
    from pgscore import bench
    from pgscore.localdb import sigterm_as_ctrl_c

    # a SIGTERM unwinds like Ctrl-C: the model server, the schema, the database go (a command run in process, by
    # a test or a program of one's own, gets its handler back)
    with sigterm_as_ctrl_c():
        if args.db:
            require_installed(args.db)
            bench.refuse_a_database_in_use(args.db)  # before anything is trained or written
            bench.run(args.db, quick=args.quick, say=_say, only=args.only)
            return 0
        c = _cluster(args)
        # (also on an error, Ctrl-C or SIGTERM: as the demo says how, the bench stops what it started)
        with c.started(args.keep_running, say=_say) as started:
            try:
                with bench.bench_database(lambda name: c.url(dbname=name), c.url()) as url:
                    bench.run(url, quick=args.quick, say=_say, only=args.only, throwaway=True)
            finally:
                if started and args.keep_running:
                    _say(f"the cluster it started is left running (--keep-running): stop it with: "
                         f"{command('db stop', c.data_dir)}")
        return 0


# -- monitoring --------------------------------------------------------------
def cmd_drift(args):
    """Drift, realised performance and alerts of the live models; exit 1 when an alert fires, 2 for an
    unknown model or window (or a pattern matching no live model), 3 when the check itself fails or its report
    cannot be written (so that cron can tell a failed check from an alert)."""
    names = getattr(args, "name", None) or []
    def named():
        # (session 67) the model a failure names, to fill a hint's command: a pattern's one match once it is read,
        # never the pattern itself (`pgscore activate 'churn_*' VERSION` of 'churn_*')
        found = getattr(args, "models_found", None)
        if found is None:  # (failed before the patterns were read)
            found = [n for n in names if not _PATTERN_CHARS & set(n)] if len(names) == 1 else []
        return found[0] if len(found) == 1 else None

    return _exit_3_on_failure(_drift, args, "drift", named)


def _drift(args):
    import psycopg2

    from pgscore import report

    if args.html:  # checked before the work; a report that cannot be written is a failed check (exit 3)
        folder = os.path.dirname(os.path.abspath(args.html))
        # an existing file is rewritten in place (its directory need not be writable); a new one is created
        why = ("it is a directory" if os.path.isdir(args.html) else
               f"there is no directory {folder}" if not os.path.isdir(folder) else
               ("it is not writable" if not os.access(args.html, os.W_OK) else None) if os.path.exists(args.html) else
               f"{folder} is not writable" if not os.access(folder, os.W_OK) else None)
        if why:
            raise PgscoreError(f"cannot write the report to {args.html}: {why}")
    url = resolve_db(args)
    require_installed(url)
    window = report.DEFAULT_WINDOW if args.window is None else args.window
    conn = migrate.connect_catalog_only(url)  # (it names no table of the user's: no schema but pg_catalog searched)
    try:
        names = args.models_found = _drift_names(conn, args.name)
        try:
            for name in names or [None]:  # (several: each checked, the first unknown said)
                windows = report.check_args(conn, name, window)
        except (UnknownModel, report.UnknownWindow) as e:  # a usage error (exit 2), with drift's usage line as
            # the CLI's other usage errors print it (before: the error line alone, without the usage line)
            raise UsageError(e.message, detail=e.detail, hint=e.hint, sqlstate=e.sqlstate) from None
        refreshed = None if args.no_refresh else report.refresh(conn)
        data = report.collect(conn, names or None, window, windows, refreshed=refreshed,
                              charts=bool(args.html))
        # with --window, the result line and the exit code count that window's alerts alone (before, an alert in
        # any window exited 1: a cron job paging on '5 minutes' paged for 7 days after one bad hour)
        data.only = args.window
        data.alerting = args.alerting
    finally:
        conn.close()
    _say(report.render_text(data))
    if args.html:
        page = report.render_html(data)
        try:
            with open(args.html, "w", encoding="utf-8") as f:
                f.write(page)
        except OSError as e:
            raise PgscoreError(f"cannot write the report to {args.html}: {e.strerror}") from None
        _say(f"wrote {args.html}")
    return report.exit_code(data)


_PATTERN_CHARS = frozenset("*?[")  # (no model name holds one: serving.check_name)


def _drift_names(conn, given) -> list:
    """pgscore drift's NAMEs with each pattern (a NAME holding *, ? or [...], shell-style, case-sensitive) replaced
    by the live models it matches, in order of name; a pattern that matches none is a usage error (exit 2), as an
    unknown model is. (Session 66: a fleet of a model per tenant, churn_tenant_a ..., is checked as 'churn_*'.)"""
    import fnmatch

    if not any(_PATTERN_CHARS & set(n) for n in given or []):
        return list(given or [])
    with conn.cursor() as cur:
        cur.execute("SELECT DISTINCT name FROM pgscore.model_versions WHERE live ORDER BY name")
        live = [r[0] for r in cur.fetchall()]
    names = []
    for n in given:
        found = [m for m in live if fnmatch.fnmatchcase(m, n)] if _PATTERN_CHARS & set(n) else [n]
        if not found:
            raise UsageError(f"no live model matches {literal(n)}",
                             detail=f"live models: {', '.join(live)}" if live else "no model is live",
                             hint="a NAME with *, ? or [...] is a pattern of live models' names (quote it, "
                                  "'churn_*', so that the shell leaves it alone); " + command("models")
                                  + " lists the models and their live versions")
        names += [m for m in found if m not in names]
    return names


# -- silences (migration 0126) -------------------------------------------------
def _matchers(r: dict) -> str:
    """A silence's matchers as 'metric=psi subject=monthly_charges window=1 hour live', or 'every condition'."""
    said = [f"{k}={r[k]}" for k in ("what", "subject", "metric") if r[k] is not None]
    said += [f"window={r['window_name']}"] if r["window_name"] is not None else []
    said += [] if r["shadow"] is None else ["shadow" if r["shadow"] else "live"]
    return " ".join(said) or "every condition"


_SILENCE_COLUMNS = ("id, model, what, subject, metric, window_name, shadow, starts_at, ends_at, created_by, reason, "
                    "lifted_at, lifted_by")


def cmd_silence(args):
    """pgscore silence MODEL --for 2h --reason TEXT [matchers]: pgscore.silence_alerts; prints the id, what it
    matches and how many conditions firing now it mutes."""
    import psycopg2
    import psycopg2.extras

    url = resolve_db(args)
    require_installed(url)
    conn = migrate.connect_catalog_first(url)
    conn.autocommit = True
    try:
        cur = conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor)
        # (the interval is the server's to read: '2h', '30min', '1d', '2 hours', '1 day 12 hours')
        cur.execute("SELECT pgscore.silence_alerts(%s, %s::interval, %s, p_what => %s, p_subject => %s, "
                    "p_metric => %s, p_window => %s, p_shadow => %s) AS id",
                    (args.name, args.for_, args.reason, args.what, args.subject, args.metric, args.window,
                     args.shadow))
        sid = cur.fetchone()["id"]
        cur.execute(f"SELECT {_SILENCE_COLUMNS} FROM pgscore.alert_silences WHERE id = %s", (sid,))
        r = cur.fetchone()
        # the conditions firing now that it matches (begun: a silence from a later start mutes none yet), and of
        # those the ones pgscore drift and status no longer count: silenced in every window they fire in (one that
        # fires unsilenced in another window still counts, as drift counts it)
        cur.execute("""SELECT count(*) FILTER (WHERE c.muted) AS n, count(*) FILTER (WHERE NOT c.muted) AS partly
                         FROM (SELECT bool_and(a.silence_id IS NOT NULL) AS muted
                                 FROM pgscore.alerts a JOIN pgscore.alert_silences q ON q.id = %s
                                WHERE a.model = q.model
                                GROUP BY a.shadow, a.version, a.what, a.subject, a.metric, a.level
                               HAVING bool_or(q.starts_at <= now()
                                  AND (q.what IS NULL OR q.what = a.what)
                                  AND (q.subject IS NULL OR q.subject = a.subject)
                                  AND (q.metric IS NULL OR q.metric = a.metric)
                                  AND (q.window_name IS NULL OR q.window_name = a.window_name)
                                  AND (q.shadow IS NULL OR q.shadow = a.shadow))) c""", (sid,))
        counts = cur.fetchone()
        n, partly = counts["n"], counts["partly"]
    finally:
        conn.close()
    from pgscore.report import _utc

    _say(f"silence #{sid}: {r['model']}, {_matchers(r)}, until {_utc(r['ends_at'])}")
    _say(f"it mutes {n} condition{'' if n == 1 else 's'} firing now (pgscore drift and status do not count "
         "them" + (f"; {partly} more it matches fire in other windows too and still count: silence those "
                   "windows too" if partly else "") + f"; lift it with: {command(f'unsilence {sid}')})")
    return 0


def cmd_silences(args):
    """pgscore silences [MODEL] [--all]: the silences in force (or every one), a line each."""
    import psycopg2
    import psycopg2.extras

    from pgscore.report import _table, _utc

    url = resolve_db(args)
    require_installed(url)
    with migrate.connect_catalog_first(url) as conn, conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute(f"SELECT {_SILENCE_COLUMNS}, lifted_at IS NULL AND ends_at > now() AS in_force, "
                    "starts_at > now() AS later FROM pgscore.alert_silences "
                    "WHERE (%s::text IS NULL OR model = %s) AND (%s OR (lifted_at IS NULL AND ends_at > now())) "
                    "ORDER BY ends_at, id", (args.name, args.name, args.all))
        rows = cur.fetchall()
    conn.close()
    if not rows:
        _say("no silences" + ("" if args.all else " in force") + (f" of {args.name}" if args.name else ""))
        return 0
    headers = ["id", "model", "matches", "until", "by", "reason"] + (["state"] if args.all else [])
    table = [[str(r["id"]), r["model"], _matchers(r), _utc(r["ends_at"]), r["created_by"], r["reason"]]
             + ([f"lifted {_utc(r['lifted_at'])} by {r['lifted_by']}" if r["lifted_at"] else
                 "from " + _utc(r["starts_at"]) if r["later"] else "in force" if r["in_force"] else "ended"]
                if args.all else []) for r in rows]
    _say("\n".join(_table(headers, table, (0,), indent="")))
    return 0


def _in_utc(ts):
    """A timestamptz read back in UTC (its %Z then prints `UTC`): status printed its times in the session's TimeZone
    (`UTC+11:00` from Sydney), where health, drift, models, silences and shadows print UTC (session 66, T21)."""
    return ts.astimezone(datetime.timezone.utc) if getattr(ts, "tzinfo", None) is not None else ts


def _interval(td) -> str:
    """A timedelta as 1d 02:03:04 (seconds rounded)."""
    secs = int(round(td.total_seconds()))
    days, rest = divmod(secs, 86400)
    return (f"{days}d " if days else "") + f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"


def _num(x, fmt=".4f") -> str:
    return "-" if x is None else format(x, fmt)


def cmd_shadows(args):
    """pgscore shadows [NAME]: each version scored in shadow now, against the live version: its pairs
    (pgscore.shadow_comparison), its failures, and both judged on the same outcomes (pgscore.realised_against_live).
    Reads views alone: a pgscore_reader may run it."""
    import psycopg2
    import psycopg2.extras

    from pgscore.errors import typo_hint
    from pgscore.report import _utc

    url = resolve_db(args)
    require_installed(url)
    with migrate.connect_catalog_first(url) as conn, conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        if args.name is not None:
            cur.execute("SELECT DISTINCT name FROM pgscore.model_versions")
            names = [r["name"] for r in cur.fetchall()]
            if args.name not in names:
                raise UnknownModel(f"there is no model {literal(args.name)}",
                                   hint=typo_hint(args.name, names, "list models with: pgscore models"))
        cur.execute("SELECT s.name, s.version, s.model_id, s.since, s.set_by, s.reason, l.version AS live_version "
                    "FROM pgscore.shadow_versions s LEFT JOIN pgscore.model_versions l ON l.name = s.name AND l.live "
                    "WHERE %(n)s::text IS NULL OR s.name = %(n)s ORDER BY s.name, s.version", {"n": args.name})
        shadows = cur.fetchall()
        # the views read the shown shadows' rows alone (migration 0144), in ~1 ms for a shadow with few; planned
        # for a log of 100,000 rows their cost passes jit_above_cost, and compiling them took 6-7 s (a loaded
        # machine) for that millisecond
        cur.execute("SET LOCAL jit = off")
        cur.execute("SELECT * FROM pgscore.shadow_comparison WHERE shadow_model_id = ANY(%s) "
                    "ORDER BY model, shadow_version, live_version", ([r["model_id"] for r in shadows],))
        pairs = cur.fetchall()
        # (its intervals as seconds: psycopg2 reads an interval only as IntervalStyle 'postgres' prints it, and a
        # role's or PGOPTIONS' 'iso_8601' stopped the command, 'postgres_verbose' with a traceback; session 66, T21)
        cur.execute("SELECT r.model_id, r.live_version, r.outcomes, r.same_transaction, r.older_than_live, "
                    "pg_catalog.date_part('epoch', r.max_behind_live) AS max_behind_secs, r.newer_than_live, "
                    "r.accuracy, r.live_accuracy, r.brier, r.live_brier, r.mae, r.live_mae "
                    "FROM pgscore.realised_against_live r WHERE r.model_id = ANY(%s)",
                    ([r["model_id"] for r in shadows],))
        realised = {r["model_id"]: r for r in cur.fetchall()}
    conn.close()
    if not shadows:
        _say("no version" + (f" of {args.name}" if args.name else "") + " is scored in shadow "
             "(set one with: pgscore shadow NAME VERSION)")
        return 0
    for s in shadows:
        live = f"v{s['live_version']}" if s["live_version"] is not None else "no live version"
        _say(f"{s['name']} v{s['version']} in shadow since {_utc(s['since'])} (by {s['set_by']}"
             + (f": {s['reason']}" if s["reason"] else "") + f"), next to {live}")
        rows = [p for p in pairs if p["shadow_model_id"] == s["model_id"]]
        mine = [p for p in rows if p["pairs"]]
        if not mine:
            _say("  pairs: none yet (it scores where the live version's scores are written: rescoring on INSERT, "
                 "pgscore score)")
        for p in mine:
            changed = ("-" if not p["decisions_compared"] else
                       f"{p['decisions_changed']} of {p['decisions_compared']} "
                       f"({100 * p['decisions_changed_share']:.1f}%)")
            agree = ("-" if not p["labelled_pairs"] else
                     f"{100 * p['label_agreement']:.1f}% of {p['labelled_pairs']}")
            _say(f"  against v{p['live_version']}: {p['pairs']} pairs ({_utc(p['first_at'])} to {_utc(p['last_at'])}), "
                 f"decisions changed {changed}, labels agree {agree}, mean |diff| {_num(p['mean_abs_diff'])}, "
                 f"max |diff| {_num(p['max_abs_diff'])}")
        failed = rows[0] if rows else None
        if failed is not None and failed["failed_statements"]:
            _say(f"  failures: {failed['failed_statements']} statement(s) or chunk(s), {failed['failed_profiles']} "
                 "profile(s) or row(s) not scored in shadow (pgscore.shadow_failures; pgscore status says why)")
        else:
            _say("  failures: none counted")
        r = realised.get(s["model_id"])
        if r is None:
            _say(f"  outcomes: none judges a prediction of both v{s['version']} and {live}")
            continue
        behind = (f", {r['older_than_live']} judge a prediction of v{s['version']} older than v{r['live_version']}'s "
                  f"(by up to {_interval(datetime.timedelta(seconds=r['max_behind_secs']))}, on older features)" if r["older_than_live"] else "")
        _say(f"  outcomes judging both: {r['outcomes']}, {r['same_transaction']} of them predictions of the same "
             f"transaction{behind}")
        if r["same_transaction"]:
            metrics = [(k, r[k], r[f"live_{k}"]) for k in ("accuracy", "brier", "mae") if r[k] is not None]
            _say(f"  on those {r['same_transaction']}: " + ", ".join(
                f"{k} {_num(v)} (v{r['live_version']} {_num(lv)})" for k, v, lv in metrics))
    return 0


def cmd_thresholds(args):
    """pgscore thresholds [MODEL] [--metric M] [--subject S] [--warn X] [--alert Y] [--min-n N] [--confidence C]
    [--clear]: with a value, pgscore.set_thresholds; with --clear, pgscore.clear_thresholds; else the thresholds each
    metric is judged by (drift_thresholds, and the overrides of MODEL or every model)."""
    import psycopg2
    import psycopg2.extras

    from pgscore.report import _table

    values = (args.warn, args.alert, args.min_n, args.confidence)
    setting = any(v is not None for v in values)
    if (setting or args.clear) and args.name is None:
        raise UsageError("give the model: pgscore thresholds MODEL ...")
    if setting and args.clear:
        raise UsageError("--clear takes no --warn, --alert, --min-n or --confidence")
    if setting and args.metric is None:
        raise UsageError("give the metric the values are for: --metric M (pgscore thresholds lists them)")
    url = resolve_db(args)
    require_installed(url)
    conn = migrate.connect_catalog_first(url)
    conn.autocommit = True
    try:
        cur = conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor)
        if setting:
            row = _set_keeping_the_rest(conn, cur, args, values)
        elif args.clear:
            cur.execute("SELECT pgscore.clear_thresholds(%s, %s, %s) AS n", (args.name, args.metric, args.subject))
            n = cur.fetchone()["n"]
        cur.execute("SELECT metric, warn, alert, min_n, confidence FROM pgscore.drift_thresholds ORDER BY metric")
        defaults = cur.fetchall()
        if not (setting or args.clear):
            _known_to_list(cur, args, [d["metric"] for d in defaults])
            defaults = [d for d in defaults if args.metric in (None, d["metric"])]
        # (listing: --metric and --subject narrow it, as they narrow what --clear removes)
        cur.execute("SELECT model, metric, subject, warn, alert, min_n, confidence, created_by "
                    "FROM pgscore.drift_threshold_overrides WHERE (%(m)s::text IS NULL OR model = %(m)s) "
                    "AND (%(metric)s::text IS NULL OR metric = %(metric)s) "
                    "AND (%(subject)s::text IS NULL OR subject = %(subject)s) "
                    "ORDER BY model, metric, subject NULLS FIRST",
                    {"m": args.name, "metric": None if setting or args.clear else args.metric,
                     "subject": None if setting or args.clear else args.subject})
        overrides = cur.fetchall()
    finally:
        conn.close()
    what = (args.name or "") + (f" {args.metric}" if args.metric else "") + (f" of {args.subject}" if args.subject
                                                                              else "")
    from pgscore.report import confidence_text
    show = {"warn": _g, "alert": _g, "min_n": _g, "confidence": confidence_text}
    if setting:
        parts = [f"{k} {show[k](row[k])}{'' if given is not None else ' (kept)'}" if row[k] is not None
                 else f"{k} inherited" for k, given in zip(("warn", "alert", "min_n", "confidence"), values)]
        _say(f"set: {what}: {', '.join(parts)}" + (" (inherited: a subject's from the model's row, the model's "
                                                   "from drift_thresholds)" if None in row.values() else ""))
    elif args.clear:
        _say(f"cleared {n} override{'' if n == 1 else 's'} of {what}: judged by what they inherit again" if n
             else f"{what}: no override to clear")
    if not (setting or args.clear):
        _say("every model (pgscore.drift_thresholds):")
        rows = [[d["metric"], _g(d["warn"]), _g(d["alert"]), str(d["min_n"]), _g(d["confidence"])] for d in defaults]
        _say("\n".join(_table(["metric", "warn", "alert", "min_n", "confidence"], rows, (1, 2, 3, 4))))
    if not overrides:
        if not (setting or args.clear) and (args.metric or args.subject):
            _say(f"no own thresholds of {args.name or 'any model'}{what[len(args.name or ''):]}: judged by what they "
                 "inherit")
            return 0
        _say(f"no own thresholds of {args.name}: every metric by drift_thresholds" if args.name else
             "no model's own thresholds: every metric by drift_thresholds (set one with: "
             + command("thresholds MODEL --metric M --warn X --alert Y") + ")")
        return 0
    _say("own thresholds (pgscore.drift_threshold_overrides; blank: inherited):")
    rows = [[o["model"], o["metric"], o["subject"] or "(every)", _g(o["warn"]), _g(o["alert"]), _g(o["min_n"]),
             confidence_text(o["confidence"]), o["created_by"]] for o in overrides]
    _say("\n".join(_table(["model", "metric", "subject", "warn", "alert", "min_n", "confidence", "by"], rows,
                          (3, 4, 5, 6))))
    return 0


def _known_to_list(cur, args, metrics) -> None:
    """Refuses to list an unknown model (42704, with the typo hint pgscore.model_name_hint gives; a model with
    overrides left is known) or a --metric not of drift_thresholds, rather than say it has no thresholds of its own."""
    from pgscore.errors import typo_hint

    if args.metric is not None and args.metric not in metrics:
        raise PgscoreError(f"--metric {literal(args.metric)} is not a metric of pgscore.drift_thresholds "
                           f"({', '.join(metrics)})", sqlstate="22023",
                           hint=typo_hint(args.metric, metrics))
    if args.name is None:
        return
    cur.execute("SELECT EXISTS (SELECT FROM pgscore.model_versions WHERE name = %(n)s) "
                "OR EXISTS (SELECT FROM pgscore.drift_threshold_overrides WHERE model = %(n)s) AS known",
                {"n": args.name})
    if not cur.fetchone()["known"]:
        cur.execute("SELECT DISTINCT name FROM pgscore.model_versions")
        raise UnknownModel(f"there is no model {literal(args.name)}",
                           hint=typo_hint(args.name, [r["name"] for r in cur.fetchall()],
                                          "list models with: SELECT * FROM pgscore.model_versions"))


def _set_keeping_the_rest(conn, cur, args, values) -> dict:
    """pgscore.set_thresholds of the row args name with the values given, the row's others (where it exists) kept:
    set_thresholds replaces the row whole, so --warn alone would put its alert back to the inherited. Read and set
    in one transaction, the table locked as set_thresholds locks it, so that no other writer's change is lost.
    Returns the row as it is now (warn, alert, min_n, confidence)."""
    keys = ("warn", "alert", "min_n", "confidence")
    conn.autocommit = False
    try:
        cur.execute("LOCK TABLE pgscore.drift_threshold_overrides IN SHARE ROW EXCLUSIVE MODE")
        select = ("SELECT warn, alert, min_n, confidence FROM pgscore.drift_threshold_overrides "
                  "WHERE model = %s AND metric = %s AND subject IS NOT DISTINCT FROM %s")
        cur.execute(select, (args.name, args.metric, args.subject))
        old = cur.fetchone() or dict.fromkeys(keys)
        merged = [old[k] if v is None else v for k, v in zip(keys, values)]
        cur.execute("SELECT pgscore.set_thresholds(%s, %s, p_warn => %s, p_alert => %s, p_min_n => %s, "
                    "p_confidence => %s, p_subject => %s)", (args.name, args.metric, *merged, args.subject))
        cur.execute(select, (args.name, args.metric, args.subject))
        row = cur.fetchone()
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.autocommit = True
    return row


def _g(v) -> str:
    return "" if v is None else f"{v:g}"


def cmd_unsilence(args):
    """pgscore unsilence ID: pgscore.lift_silence (a silence lifted already: said, exit 0)."""
    import psycopg2

    url = resolve_db(args)
    require_installed(url)
    conn = migrate.connect_catalog_first(url)
    try:
        # (review r3 of session 71) what it did read from the row in the call's transaction, not from its NOTICE:
        # a login's client_min_messages = warning or error drops the NOTICE, and a silence lifted already or ended
        # was said "lifted: the conditions it muted count again". lift_silence sets lifted_at = now() and lifted_by
        # = session_user, both the transaction's: lifted by this call where they are these
        with conn, conn.cursor() as cur:
            cur.execute("SELECT pgscore.lift_silence(%s)", (args.id,))
            cur.execute("SELECT s.lifted_at IS NOT DISTINCT FROM pg_catalog.now() AND s.lifted_by IS NOT DISTINCT "
                        "FROM session_user, s.lifted_at::pg_catalog.text, s.lifted_by, "
                        "s.ends_at::pg_catalog.text FROM pgscore.alert_silences s WHERE s.id = %s", (args.id,))
            now_lifted, lifted_at, lifted_by, ends_at = cur.fetchone()
    finally:
        conn.close()
    if now_lifted:
        _say(f"silence #{args.id} lifted: the conditions it muted count again")
    elif lifted_at is not None:  # (the words of lift_silence's NOTICE)
        _say(f"silence {args.id} was lifted already (at {lifted_at}, by {lifted_by}): nothing was changed")
    else:
        _say(f"silence {args.id} ended already (at {ends_at}): nothing was changed")
    return 0


# -- demo --------------------------------------------------------------------
def cmd_demo(args):
    from pgscore.demo import run

    return run(args, _cluster(args), say=_say)


def _int_between(lo: int, hi: int):
    """An argparse type: an integer in [lo, hi], else a usage error (exit 2) naming the bounds."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"must be between {lo:,} and {hi:,}, got {value:,}")
        return value
    return parse


def _duration(text: str) -> str:
    """--lock-timeout: a duration with its unit (a bare number is milliseconds to PostgreSQL), or 0."""
    m = re.fullmatch(r"\s*(\d+(\.\d*)?|\.\d+)\s*(us|ms|s|min|h|d)?\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r}: give a number and its unit as PostgreSQL "
                                         "reads them: 10s, 1min, 500ms (0 waits for ever)")
    if m.group(3) is None and float(m.group(1)) != 0:  # (a fraction too)
        raise argparse.ArgumentTypeError(f"give {text!r} a unit: {text}s or {text}min (a bare number is "
                                         "milliseconds to PostgreSQL)")
    ms = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}.get(
        m.group(3), 1)
    if 0 < ms < 1:  # PostgreSQL rounds it to 0, which waits for ever
        raise argparse.ArgumentTypeError(f"{text.strip()} is less than a millisecond, which PostgreSQL takes for 0: "
                                         "no time limit; give 1ms or more (or 0 to wait for ever)")
    if ms > 2_147_483_647:  # lock_timeout is an int of milliseconds: the server would refuse it after connecting
        raise argparse.ArgumentTypeError(f"{text.strip()} is longer than PostgreSQL's longest lock_timeout, "
                                         "2147483647ms (about 24 days); give less, or 0 to wait for ever")
    return text


def _port(text: str) -> int:
    """--port: a TCP port, 1 to 65535 (refused before anything is created or remembered)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a TCP port: give one from 1 to 65535 (one of 1024 or above "
                                         "for a server not run as root)")
    return port


class _CommandParser(argparse.ArgumentParser):
    """A command's parser (`pgscore shadow`'s, `pgscore db start`'s): an argument it does not know is refused
    with its own usage line, `pgscore shadow: error: unrecognized arguments: --bogus`. argparse hands what a
    command's parser leaves over back to the top parser, whose parse_args refused it with `usage: pgscore [-h]
    [--version] [--db DB] COMMAND ...`, which says nothing of the command's options."""

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error("unrecognized arguments: " + " ".join(extras))
        return namespace, extras


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pgscore", description=__doc__.strip() + " "
                                "Scikit-learn models deployed, run, audited and watched inside PostgreSQL.",
                                epilog="Every command, its options, refusals and exit codes: docs/cli.md.")
    from pgscore import __version__

    p.add_argument("--version", action="version", version=f"pgscore {__version__}")
    # --db before the command too (pgscore --db URL models); after it, the command's own wins
    p.add_argument("--db", default=None, metavar="URL",
                   help="database URL, for the commands that take one (also after the command)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_CommandParser)

    def cluster_opts(sp, port=True):
        sp.add_argument("--data-dir", metavar="DIR", help="cluster directory (default: $PGSCORE_DATA_DIR, else "
                        "~/.local/share/pgscore/cluster, or /var/lib/pgscore/cluster as root)")
        if port:  # stop, status and url read the port the cluster was started with: no --port to get wrong
            sp.add_argument("--port", type=_port, default=None, metavar="N", help="TCP port on 127.0.0.1 (default: "
                            "the port the cluster was last started on, else 54329)")
        else:
            sp.set_defaults(port=None)

    def no_db_opt(sp):  # (taken, to be refused by name: "--db does not apply to pgscore demo")
        sp.add_argument("--db", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    def json_opt(sp, what):
        sp.add_argument("--json", action="store_true", help=f"one JSON document on stdout: {what}")

    def db_opt(sp):
        sp.add_argument("--db", default=argparse.SUPPRESS, metavar="URL",
                        help=f"database URL or libpq string (default: {DB_ORDER})")

    db = sub.add_parser("db", help="the embedded local PostgreSQL: start, stop, status, url")
    dbsub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    sp = dbsub.add_parser("start", help="initialise (if needed) and start; prints the URL last")
    cluster_opts(sp)
    sp.add_argument("--signing-key", metavar="FILE",
                    help="sign deployed models with this key and refuse unsigned ones (remembered; '' turns it off)")
    no_db_opt(sp)
    sp.set_defaults(func=cmd_db_start)
    sp = dbsub.add_parser("stop", help="stop the cluster")
    cluster_opts(sp, port=False)
    no_db_opt(sp)
    sp.set_defaults(func=cmd_db_stop)
    sp = dbsub.add_parser("status", help="running or not, where, on which port (exit 3 when stopped)")
    cluster_opts(sp, port=False)
    no_db_opt(sp)
    sp.set_defaults(func=cmd_db_status)
    sp = dbsub.add_parser("url", help="print the connection URL")
    cluster_opts(sp, port=False)
    sp.add_argument("--dbname", default="pgscore", metavar="NAME", help="database name in the URL (default pgscore)")
    sp.add_argument("--tcp", action="store_true", help="a TCP URL with the password instead of the private socket")
    no_db_opt(sp)
    sp.set_defaults(func=cmd_db_url)

    sp = sub.add_parser("install", help="install or upgrade the pgscore schema (alembic upgrade head)")
    db_opt(sp)
    sp.add_argument("--no-check", action="store_true",
                    help="do not run validate_environment() before committing")
    sp.add_argument("--lock-timeout", default="10s", metavar="DURATION", type=_duration,
                    help="how long to wait for a lock another session holds on pgscore's tables (as PostgreSQL "
                         "reads it: 10s, 1min; 0 waits for ever), then fail, changing nothing (default 10s): "
                         "sessions that use a table an upgrade alters wait behind it meanwhile")
    sp.add_argument("--repair", action="store_true",
                    help="in a database at head that lacks some of pgscore's tables or views (a restore of a dump "
                         "taken with pg_dump -T 'pgscore.prediction_log*'), make them as a new install does, from "
                         "a scratch database installed and dropped for it (needs pg_dump and psql); nothing else")
    sp.set_defaults(func=cmd_install)

    sp = sub.add_parser("uninstall", help="remove the pgscore schema (alembic downgrade base)")
    db_opt(sp)
    sp.add_argument("--lock-timeout", default="10s", metavar="DURATION", type=_duration,
                    help="how long to wait for a lock another session holds on pgscore's objects (as PostgreSQL "
                         "reads it: 10s, 1min; 0 waits for ever), then fail, changing nothing (default 10s): "
                         "sessions that use pgscore wait behind the uninstall meanwhile")
    sp.set_defaults(func=cmd_uninstall)

    sp = sub.add_parser("status", help="schema revision, the database's Python, signing, who may write models, "
                                       "models, monitoring")
    db_opt(sp)
    sp.add_argument("--timeout", default="10s", metavar="DURATION", type=_duration,
                    help="how long status waits to connect, for a lock another session holds, and for each query "
                         "(as PostgreSQL reads it: 10s, 1min; 0 waits for ever), then fails naming what it was "
                         "reading (default 10s)")
    sp.set_defaults(func=cmd_status)

    sp = sub.add_parser("health", help="a cheap health check for a probe, a line per check (exit 1 when one warns "
                                       "or fails, 3 when the check cannot run or cannot tell in time)")
    sp.add_argument("names", nargs="*", metavar="NAME",
                    help="check these models alone (their wirings, queued profiles, shadow failures and alerts; the "
                         "refresh, the log's partitions and the standby are the database's); default: every model")
    db_opt(sp)
    sp.add_argument("--timeout", default="10s", metavar="DURATION", type=_duration,
                    help="how long the check waits to connect, for a lock another session holds, and for its query "
                         "(as PostgreSQL reads it: 10s, 1min; 0 waits for ever), then exits 3 (default 10s)")
    sp.add_argument("--json", action="store_true",
                    help="one JSON document on stdout: the verdict, the counts and each check's state, value and "
                         "detail (the exit code as without it)")
    sp.set_defaults(func=cmd_health)

    sp = sub.add_parser("env", help="print the Python environment seen inside the database")
    db_opt(sp)
    sp.set_defaults(func=cmd_env)

    sp = sub.add_parser("deploy", help="deploy a joblib-pickled estimator as the next version of a model",
                        epilog="Every feature reaches the model as a number (a float8): an encoder fitted on text "
                        "categories (OneHotEncoder on plan = 'basic', 'plus', 'pro') deploys as trained, stored "
                        "converted to take each word's code, which scoring gives it from the words (--train CSV "
                        "holds the words); a model trained on integer codes has them coded in SQL with the same "
                        "vocabulary, e.g. array_position(ARRAY['basic','plus','pro'], plan) - 1 "
                        "(docs/sql.md, 'Features are numbers'). Train with this environment's Python "
                        "(.venv/bin/python), whose scikit-learn the server loads the model with.")
    sp.add_argument("artifact", metavar="MODEL.joblib",
                    help="the fitted estimator (or Pipeline), as joblib.dump(estimator, path) wrote it")
    sp.add_argument("--name", required=True, help="model name")
    sp.add_argument("--features", metavar="a,b,c", help="ordered feature names, comma-separated; with --train, the "
                    "CSV's columns "
                    "to take as features (default: every column but --target); with neither, the names the estimator was "
                    "fitted with (a DataFrame's columns, feature_names_in_); without --train there is no "
                    "baseline, no hold-out metrics and no compiled evaluator (scored by scikit-learn, more slowly)")
    sp.add_argument("--train", metavar="CSV", help="training data with a header row: feature names (every column "
                    "but --target, unless --features names them), baseline, metrics")
    sp.add_argument("--target", metavar="COL", help="the label column of --train (enables hold-out metrics)")
    sp.add_argument("--sha256", metavar="HEX", help="refuse the file unless its sha256 is this")
    sp.add_argument("--description", metavar="TEXT", help="what the version is, shown by pgscore show")
    sp.add_argument("--reason", metavar="TEXT", help="why, recorded in the deployment history (with "
                    "--no-activate, with the version stored)")
    sp.add_argument("--no-activate", action="store_true", help="store the version without making it live")
    sp.add_argument("--allow-task-change", action="store_true",
                    help="deploy even if the task or classes differ from the live version's (a regressor "
                    "under a classifier's name): refused otherwise")
    sp.add_argument("--allow-feature-change", action="store_true",
                    help="deploy even if the feature names or their order differ from the live version's: "
                    "refused otherwise, as callers that pass a float8[] pass the features by position")
    sp.add_argument("--allow-version-mismatch", action="store_true",
                    help="deploy a file scikit-learn pickled under another of its versions, loaded as this "
                    "environment loads it, at your own risk: refused otherwise (scikit-learn does not support it)")
    sp.add_argument("--again", action="store_true",
                    help="store a new version even where the model's newest version stores this estimator with "
                    "these features, training data and description (without it: nothing is stored, that version "
                    "is made live unless "
                    "--no-activate, exit 0: a retried deploy is harmless)")
    json_opt(sp, "name, version, model_id, sha256, signed, live, stored, made_live, same_artifact, metrics")
    db_opt(sp)
    sp.set_defaults(func=cmd_deploy)

    sp = sub.add_parser("models", help="list every model version")
    json_opt(sp, "a list of every version: name, version, model_id, task, live, shadow, signed, created_at, ...")
    db_opt(sp)
    sp.set_defaults(func=cmd_models)

    sp = sub.add_parser("show", help="one model's metadata, metrics and deployment history")
    sp.add_argument("name", metavar="NAME", help="the model's name (pgscore models lists them)")
    sp.add_argument("--version", type=int, metavar="N", help="a version (default: the live one)")
    json_opt(sp, "the version's record, its metrics and the model's history")
    db_opt(sp)
    sp.set_defaults(func=cmd_show)

    sp = sub.add_parser("rollback", help="undo the last go-live: make the version live before it (or the given one) live again")
    sp.add_argument("name", metavar="NAME", help="the model whose last go-live to undo")
    sp.add_argument("--to", type=int, metavar="VERSION", help="the version to make live")
    sp.add_argument("--from", type=int, metavar="VERSION", dest="from_version",
                    help="roll back only if this version is live; else change nothing and exit 0 (the form a "
                    "scheduler can retry: a second rollback without it steps back again)")
    sp.add_argument("--reason", metavar="TEXT", help="why, recorded in the deployment history")
    sp.add_argument("--force", action="store_true",
                    help="make it live even where the server cannot load it (every score of it then fails)")
    db_opt(sp)
    sp.set_defaults(func=cmd_rollback)

    sp = sub.add_parser("activate", help="make a version live (one deployed with --no-activate, or any other)")
    sp.add_argument("name", metavar="NAME", help="the model's name")
    sp.add_argument("version", type=int, metavar="VERSION", help="the version to make live")
    sp.add_argument("--reason", metavar="TEXT", help="why, recorded in the deployment history")
    sp.add_argument("--force", action="store_true",
                    help="make it live even where the server cannot load it (every score of it then fails)")
    db_opt(sp)
    sp.set_defaults(func=cmd_activate)

    sp = sub.add_parser("silence", help="silence a model's alerts (or those matching --what, --subject, --metric, "
                        "--window, --shadow/--live) for a while: pgscore drift and status do not count them")
    sp.add_argument("name", metavar="MODEL", help="the model's name")
    sp.add_argument("--for", dest="for_", required=True, metavar="INTERVAL",
                    help="how long, as PostgreSQL reads an interval: 2h, 30min, 1d, '2 hours' (at most 90 days)")
    sp.add_argument("--reason", required=True, metavar="TEXT", help="why: the incident, ticket or fix under way")
    sp.add_argument("--what", metavar="W", help="feature, score, performance or class alone")
    sp.add_argument("--subject", metavar="S", help="this subject alone (a feature, score, outcomes, ...)")
    sp.add_argument("--metric", metavar="M", help="this metric alone (pgscore.drift_thresholds)")
    sp.add_argument("--window", metavar="W", help="this window alone (pgscore.drift_windows)")
    g = sp.add_mutually_exclusive_group()
    g.add_argument("--shadow", dest="shadow", action="store_const", const=True,
                   help="a shadow version's conditions alone")
    g.add_argument("--live", dest="shadow", action="store_const", const=False,
                   help="the live version's conditions alone")
    db_opt(sp)
    sp.set_defaults(func=cmd_silence, shadow=None)

    sp = sub.add_parser("silences", help="the silences in force (with --all, the ended and lifted ones too)")
    sp.add_argument("name", nargs="?", metavar="MODEL", help="this model's alone")
    sp.add_argument("--all", action="store_true", help="every silence, ended and lifted too")
    db_opt(sp)
    sp.set_defaults(func=cmd_silences)

    sp = sub.add_parser("thresholds", help="the thresholds each metric is judged by; with --warn, --alert, --min-n or "
                        "--confidence a model's own (or a feature's), with --clear back to the inherited")
    sp.add_argument("name", nargs="?", metavar="MODEL", help="the model (to list: its overrides alone)")
    sp.add_argument("--metric", metavar="M", help="the metric (pgscore.drift_thresholds)")
    sp.add_argument("--subject", metavar="S", help="one feature of the model, or score, alone (a drift metric)")
    sp.add_argument("--warn", type=float, metavar="X", help="warn at or above X")
    sp.add_argument("--alert", type=float, metavar="Y", help="alert at or above Y (inf: never)")
    sp.add_argument("--min-n", dest="min_n", type=int, metavar="N", help="judge windows of N values (outcomes) or more")
    sp.add_argument("--confidence", type=float, metavar="C",
                    help="the noise floor's confidence, 0 < C < 1; 0: no noise floor (0133)")
    sp.add_argument("--clear", action="store_true",
                    help="remove MODEL's overrides (of --metric, --subject where given)")
    db_opt(sp)
    sp.set_defaults(func=cmd_thresholds)

    sp = sub.add_parser("unsilence", help="lift a silence now (pgscore silences lists them)")
    sp.add_argument("id", type=int, metavar="ID", help="the silence's id")
    db_opt(sp)
    sp.set_defaults(func=cmd_unsilence)

    sp = sub.add_parser("resign", help="sign again, bound to their model and version, the versions signed under the "
                        "first scheme (the bytes alone); exit 1 when one did not verify")
    db_opt(sp)
    sp.set_defaults(func=cmd_resign)

    sp = sub.add_parser("shadow", help="score a version that is not live next to the live one, logged and never "
                                       "served (or stop it: --off)", usage=SHADOW_USAGE)
    sp.add_argument("name", metavar="NAME", help="the model's name")
    sp.add_argument("version", type=int, nargs="?", metavar="VERSION",
                    help="the version to score in shadow; with --off, the one to stop (default: every one)")
    sp.add_argument("--off", action="store_true", help="stop scoring VERSION (default: every version) in shadow")
    sp.add_argument("--reason", metavar="TEXT", help="why, recorded in pgscore.shadows")
    sp.add_argument("--force", action="store_true",
                    help="set it even where the server cannot load it or a wired profile table lacks its features "
                         "(it scores where it can; its failures are counted, see pgscore status)")
    db_opt(sp)
    sp.set_defaults(func=cmd_shadow)

    sp = sub.add_parser("shadows", help="each version scored in shadow against the live one: pairs, agreement, "
                                        "failures, both judged on the same outcomes")
    sp.add_argument("name", nargs="?", metavar="NAME", help="this model's alone (default: every model's)")
    db_opt(sp)
    sp.set_defaults(func=cmd_shadows)

    sp = sub.add_parser("retire", help="leave a model with no live version (scoring it fails until one is made live)")
    sp.add_argument("name", metavar="NAME", help="the model to leave with no live version")
    sp.add_argument("--reason", metavar="TEXT", help="why, recorded in the deployment history")
    db_opt(sp)
    sp.set_defaults(func=cmd_retire)

    sp = sub.add_parser("delete", help="delete a model deployed by mistake and all its versions, where nothing "
                                       "depends on it (no predictions, outcomes, wiring, shadow, thresholds)")
    sp.add_argument("name", metavar="NAME", help="the model to delete")
    sp.add_argument("--yes", action="store_true",
                    help="delete without asking (needed where stdin is no terminal)")
    json_opt(sp, "name, and the rows deleted per table")
    db_opt(sp)
    sp.set_defaults(func=cmd_delete)

    sp = sub.add_parser("score", help="score a table into one of its columns, a commit per chunk, with progress")
    sp.add_argument("--model", required=True, metavar="NAME", help="model name")
    sp.add_argument("--table", required=True, metavar="T", help="table to score (schema-qualified if needed)")
    sp.add_argument("--key", required=True, metavar="COL", help="its unique key column: chunks go in key order")
    sp.add_argument("--into", required=True, metavar="COL",
                    help="the double precision/real/numeric column that receives the score")
    sp.add_argument("--label-into", metavar="COL",
                    help="a classifier's: also write each row's predicted class (as pgscore.predict gives it) into "
                         "this column, in the same chunks (text holds any class; integer classes fit an integer "
                         "column)")
    sp.add_argument("--scored-at-into", metavar="COL",
                    help="also write the time each row is scored (its chunk's transaction's now()) into this "
                         "timestamptz or timestamp column, in the same UPDATE as the score (for an incremental "
                         "--where \"scored_at IS NULL OR updated_at > scored_at\")")
    sp.add_argument("--version", type=int, metavar="N",
                    help="score with this version (default: the live one when the run starts)")
    sp.add_argument("--chunk-size", type=_int_between(1, 1_000_000), default=10000, metavar="N",
                    help="rows per chunk and commit (default 10000; at most 1,000,000)")
    sp.add_argument("--after", metavar="KEY", help="resume: start after this key (printed when a run is interrupted)")
    sp.add_argument("--no-log", action="store_true", help="do not write the predictions to pgscore.prediction_log")
    sp.add_argument("--quiet", action="store_true", help="no progress bar")
    sp.add_argument("--where", metavar="SQL",
                    help="score only the rows this boolean SQL expression over the table's columns holds for "
                         "(e.g. \"score IS NULL\"); the others are left as they are")
    sp.add_argument("--skip-unscorable", action="store_true",
                    help="leave a row the model cannot score (a NULL it cannot take, a value that is no number or "
                         "infinite) as it is and score the rest; such rows are listed at the end, exit 3")
    sp.add_argument("--max-skipped", type=_int_between(0, 2**31 - 1), metavar="N",
                    help="with --skip-unscorable: stop once more than N rows were skipped (default 100)")
    sp.add_argument("--skipped-report", metavar="FILE",
                    help="with --skip-unscorable: write every row skipped (key, SQLSTATE, why) to FILE as CSV")
    db_opt(sp)
    sp.set_defaults(func=cmd_score)

    sp = sub.add_parser("retry", help="rescore the profiles that rescoring on INSERT queued in pgscore.error_queue "
                                      "(exit 1 while some still fail)")
    sp.add_argument("--model", metavar="NAME", help="only the wirings of this model")
    sp.add_argument("--limit", type=_int_between(1, 2**31 - 1), metavar="N",
                    help="at most this many profiles per wiring")
    db_opt(sp)
    sp.set_defaults(func=cmd_retry)

    sp = sub.add_parser("refresh-windows", help="recount the window counters that time has made stale and rescore "
                                                "the profiles whose counters changed (for cron; exit 1 when some "
                                                "were queued or a wiring skipped)")
    sp.add_argument("--table", metavar="EVENTS", dest="event_table",
                    help="only the wirings of this event table (as SQL writes its name)")
    sp.add_argument("--limit", type=_int_between(1, 2**31 - 1), metavar="N",
                    help="at most this many profiles in all, in key order; the next run goes on after them")
    db_opt(sp)
    sp.set_defaults(func=cmd_refresh_windows)

    sp = sub.add_parser("backfill", help="recount an event table's counters from all of its events (after attaching "
                                         "over a table with events, or again after a detach) and rescore the profiles "
                                         "whose counters changed (exit 1 when it warned)")
    sp.add_argument("--table", metavar="EVENTS", dest="event_table", required=True,
                    help="the wired event table (as SQL writes its name)")
    db_opt(sp)
    sp.set_defaults(func=cmd_backfill)

    sp = sub.add_parser("rescore", help="rescore the profiles of an event table's wirings with the live version, "
                                        "counters unchanged, score and scored_at written as rescoring writes them "
                                        "(after a rollback or activate, or an UPDATE of a profile's own columns; "
                                        "exit 1 when some were queued)")
    sp.add_argument("--table", metavar="EVENTS", dest="event_table", required=True,
                    help="the wired event table (as SQL writes its name)")
    sp.add_argument("--profile-table", metavar="PROFILES",
                    help="only its wiring to this profile table (default: every wiring of the event table)")
    sp.add_argument("--chunk-size", type=_int_between(1, 1_000_000), default=10000, metavar="N",
                    help="profiles per transaction (default 10000)")
    sp.add_argument("--quiet", action="store_true", help="no line per chunk")
    db_opt(sp)
    sp.set_defaults(func=cmd_rescore)

    sp = sub.add_parser("maintain", help="create the coming days' prediction-log partitions; apply retention")
    sp.add_argument("--days-ahead", type=_int_between(0, 366), default=7, metavar="N",
                    help="daily partitions to have ready after today's (default 7; 0 to 366)")
    sp.add_argument("--keep", metavar="INTERVAL", help="drop log partitions older than this, e.g. '90 days'")
    sp.add_argument("--keep-features", metavar="INTERVAL",
                    help="empty the features of log rows older than this, keeping their decisions, e.g. '2 years' "
                         "(pgscore.redact_log_features)")
    sp.add_argument("--lock-timeout", default="10s", metavar="DURATION", type=_duration,
                    help="how long to wait for a lock another session holds on the prediction log (as PostgreSQL "
                         "reads it: 10s, 1min; 0 waits for ever), then fail, changing nothing (default 10s): "
                         "scoring that logs waits behind maintain meanwhile")
    db_opt(sp)
    sp.set_defaults(func=cmd_maintain)

    sp = sub.add_parser("drift", help="drift, realised performance and alerts of the live models (exit 1 on alert)")
    sp.add_argument("name", nargs="*", metavar="NAME",
                    help="the models (default: every live model); a NAME with *, ? or [...] is a shell-style "
                    "pattern of live models' names, quoted: 'churn_*' (none matching: exit 2)")
    sp.add_argument("--alerting", action="store_true",
                    help="the text's sections of the models at warn or alert alone (the summary at the top lists "
                    "every model, and the result line and the exit code count them all as before)")
    sp.add_argument("--window", metavar="W",
                    help="the window the feature table and histograms show, a row of pgscore.drift_windows "
                    "(default '1 day'); every window's status is shown too. Given, the result line and the exit "
                    "code count the alerts in W alone (without it, in every window)")
    sp.add_argument("--html", metavar="FILE", help="also write a self-contained HTML report with charts")
    sp.add_argument("--no-refresh", action="store_true",
                    help="do not run pgscore.refresh_monitoring() first (the views still read the log past the last "
                    "refresh, only slower; alerts no refresh has seen have no 'since'); a role granted pgscore_reader "
                    "may run it (since 0136), with --html one granted pgscore_admin")
    db_opt(sp)
    sp.set_defaults(func=cmd_drift)

    sp = sub.add_parser("bench", help="scoring, rescoring (also against an HTTP model server) and drift benchmarks "
                        "in a throwaway database", description="Scoring throughput and latency against "
                        "scikit-learn's own limit, rescoring on INSERT (also against an HTTP model server) and the "
                        "drift views over a large prediction log, in a throwaway database it drops afterwards "
                        "(docs/performance.md).")
    sp.add_argument("--quick", action="store_true", help="fewer rows and shorter runs (about two minutes)")
    sp.add_argument("--only", choices=["scoring", "rescoring", "http", "drift"], metavar="PART",
                    help="run one part (scoring, rescoring, http or drift): scoring in SQL, rescoring on INSERT, "
                    "per-customer rescoring against an "
                    "HTTP model server, or the drift views over a large prediction log")
    sp.add_argument("--keep-running", action="store_true",
                    help="leave the embedded cluster running at the end if the benchmark started it (default: stop "
                    "it, also on an error or Ctrl-C; one that was running before is left running)")
    sp.add_argument("--db", default=argparse.SUPPRESS, metavar="URL",
                    help="benchmark in this database, one of its own (pgscore "
                    "installed, no model, nothing logged; its tables are added and kept) instead of a throwaway "
                    "database in the embedded cluster")
    cluster_opts(sp)
    sp.set_defaults(func=cmd_bench)

    sp = sub.add_parser("demo", help="the whole product on the embedded database")
    cluster_opts(sp)
    sp.add_argument("--report", metavar="FILE", help="write the drift report (HTML) here (default: "
                    "drift-report.html in the cluster's data directory)")
    no_db_opt(sp)
    sp.set_defaults(func=cmd_demo)
    return p


# the server's hints name SQL; on the command line the command that does the same
CLI_HINTS = {"SELECT * FROM pgscore.model_versions": ("list them with: ", "models"),
             "pgscore.activate(name, version)": ("make one live with: ", "activate NAME VERSION"),
             "pgscore.rollback(name, version)": ("name the version to make live: ", "rollback NAME --to VERSION")}


# ... and the SQL a hint names in passing, with `...` for the model's name, which the command line knows
CLI_HINT_PARTS = {"(SELECT version, live FROM pgscore.model_versions WHERE name = ...)": ("(list them with: ", "models",
                                                                                         ")")}


# ... and that SQL where the server names the model (0186: `WHERE name OPERATOR(pg_catalog.=) 'churn'`)
CLI_HINT_NAMED = {r"\(SELECT version, live FROM pgscore\.model_versions WHERE name OPERATOR\(pg_catalog\.=\) "
                  r"E?'(?:[^'\\]|''|\\.)*'\)": ("(list them with: ", "models", ")")}  # (quote_literal's E'' too)


# ... and a server hint's SQL parameters, where the command line has options of its own for them: the hint's
# words replaced (`score --label-into` with a regressor was told to leave out p_label_into)
CLI_WORDS = {"write it with p_into alone, without p_label_into": "write it with --into alone, without --label-into"}


def cli_hint(hint, name=None):
    """The command line's form of a server hint; NAME filled in with the model the command names, if any."""
    def filled(rest):
        return rest.replace("NAME", shlex.quote(name), 1) if name else rest

    for sql, said in CLI_WORDS.items():
        if hint and sql in hint:
            hint = hint.replace(sql, said)

    for sql, (say, rest, after) in CLI_HINT_PARTS.items():
        if hint and sql in hint:
            hint = hint.replace(sql, say + command(rest) + after)
    # (0186, review r4 of session 71) the server names the model now, and pg_catalog's =
    for sql, (say, rest, after) in CLI_HINT_NAMED.items():
        if hint:
            hint = re.sub(sql, lambda _: say + command(rest) + after, hint)
    # (a name that looks like a typo for another: the question stays before the command line's own hint)
    typo = hint.partition("? Else ")[0] + "? Else " if hint and hint.startswith(TYPO_FOR) and "? Else " in hint else ""
    return next((typo + say + command(filled(rest)) for sql, (say, rest) in CLI_HINTS.items() if hint and sql in hint),
                hint)


def named_commands(text):
    """`text` (a hint the database wrote) with each `pgscore COMMAND` it names as command() gives it: through
    the checkout's scripts/run where that ran this command (the database writes `pgscore`, which is on no PATH
    there), with the --db it was given. Not for the command line's own hints, which use command() and may name
    a command in prose ('pgscore uninstall runs as a superuser'); nor a command named in the possessive, prose in
    the database's hints too ('pgscore score's --chunk-size')."""
    if not text or "pgscore " not in text:
        return text
    global _COMMAND_NAMES
    if _COMMAND_NAMES is None:
        names = {c for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction) for c in a.choices}
        _COMMAND_NAMES = re.compile(r"(?<![\w./-])pgscore (%s)(?![\w-]|'s\b)" % "|".join(
            map(re.escape, sorted(names, key=len, reverse=True))))
    return _COMMAND_NAMES.sub(lambda m: command(m.group(1) + " ").rstrip(), text)


_COMMAND_NAMES = None


# libpq's words for a session that was open and ended under it (not a connection that never opened)
_LOST = ("server closed the connection unexpectedly", "SSL connection has been closed unexpectedly",
         "SSL SYSCALL error", "could not receive data from server", "could not send data to server",
         "no connection to the server", "connection already closed", "terminating connection")


def lost_connection(e) -> bool:
    """`e` is libpq's word that a session that was open ended under it (no SQLSTATE: a restart, a crash, a
    terminated backend), not the server's error."""
    import psycopg2

    if not isinstance(e, psycopg2.Error) or getattr(getattr(e, "diag", None), "sqlstate", None):
        return False
    text = str(e).strip()
    first = text.splitlines()[0].strip() if text else ""
    return first.removeprefix("FATAL:").strip().startswith(_LOST)


_NO_VERSION = re.compile(r"there is no version -?\d+ of model ")


def versions_hint(message, hint):
    """Where `message` says that a version of a model does not exist, the hint that lists the versions there are,
    as the server's own hint gives it for show, activate, rollback and score (`pgscore shadow m 0` says only to
    deploy it: set_shadow's hint), after what else the hint says; where it lists the shadows (shadow --off VERSION),
    as it is."""
    if not message or not _NO_VERSION.match(message):
        return hint
    lists = "list them with: " + command("models")
    if hint and (lists in hint or "list the shadows" in hint):
        return hint
    return f"{hint}; or {lists}" if hint else lists


def database_error_text(e, name=None) -> str:
    """A server error as a user reads it: the message, DETAIL and HINT, not the PL/Python traceback in CONTEXT."""
    import psycopg2

    diag = getattr(e, "diag", None)
    primary = diag.message_primary if diag is not None else None
    text = str(e).strip()
    first = text.splitlines()[0].strip() if text else repr(e)
    # libpq's own words, no SQLSTATE (psycopg2 raises them as OperationalError, a bare DatabaseError, or
    # InterfaceError for a connection it already knows closed)
    # (a backend terminated by a shutdown or pg_terminate_backend: libpq's text starts with the server's
    # "FATAL:  terminating connection ...", then a CONTEXT that may hold a whole generated statement)
    bare = first.removeprefix("FATAL:").strip()
    if lost_connection(e):
        # (where the command printed a line to resume with, that line: run again, the command would redo what
        # was committed, as pgscore score would score and log its committed chunks again)
        if ADMIN_ENDED_WORDS in first:  # (pg_terminate_backend or a shutdown: the server may be up)
            why, when = "an administrator's pg_terminate_backend or a shutdown", "answers"
        else:
            why, when = "a restart or a crash, or its backend was killed", "is back"
        return (f"the connection to the database was lost: {bare}\n"
                f"Hint: the server ended this session ({why}); what was committed before stays: "
                + (getattr(e, "resume_hint", None) or f"run the command again once the server {when}"))
    if not primary:  # not from the server: most often no server to talk to
        from pgscore import migrate
        from pgscore.migrate import connect_problem

        problem = connect_problem(text)
        if isinstance(e, psycopg2.OperationalError) and problem is not None:
            last = migrate.last_attempt(text).strip()  # (of several hosts tried, the last one's: review r6)
            return f"{migrate.cannot_connect(last.splitlines()[0].strip())}\nHint: {problem}"
        return text
    primary = server_message(primary)
    # labelled as pgscore's own errors are (PgscoreError's str): one style on the command line
    lines = [f"{primary} (SQLSTATE {diag.sqlstate})" if diag.sqlstate else primary]
    hint = versions_hint(primary, named_commands(cli_hint(diag.message_hint, name)))
    lines += [f"{label}: {text}" for label, text in (("Detail", diag.message_detail), ("Hint", hint)) if text]
    return "\n".join(lines)


class _Early(list):
    """pgscore score's SIGINTs and SIGTERMs counted from main()'s start (the console script's from its first line,
    pgscore.console, which hands them over here), until cmd_score's Stop takes them over (its
    handlers, which stop the run: they need pgscore.scoring and psycopg2, a quarter of a second to import); where
    the command is another, they are let go at once and a signal counted meanwhile is delivered again, as it came.
    (Before session 65 a SIGTERM there was Python's default: exit 143, not 75.)"""

    def __init__(self, argv):
        super().__init__()
        self.taken = False
        self.previous = None
        words = sys.argv[1:] if argv is None else argv
        if "score" in words and threading_main():
            self.previous = {s: signal.signal(s, self.count) for s in (signal.SIGINT, signal.SIGTERM)}
            early = sys.modules.get("pgscore.console")  # (the console script: counting from its first line)
            if argv is None and early is not None and early.PREVIOUS is not None:
                self.previous, early.PREVIOUS = early.PREVIOUS, None
                self.extend(early.COUNTED)
                early.COUNTED.clear()

    def count(self, signum, frame):
        self.append(signum)

    def take(self) -> list:
        """The signals counted so far, for the Stop that handles them from now on."""
        self.taken = True
        return list(self)

    def release(self, ending=False):
        """Python's handlers again, and where the command was not pgscore score, a signal counted delivered again;
        `ending` (main() of the process, whose exit follows): pgscore score's ignored to the end, its exit status told
        already (a second SIGTERM a few ms after the first, a scheduler's and a wrapper's, exited 143
        after the run had said 75 and its resume line)."""
        if self.previous is None:
            return
        if ending and self.taken:  # ignored, not counted: Python's exit sets a handler of its back to the default
            for s in self.previous:
                signal.signal(s, signal.SIG_IGN)
            return
        previous, self.previous = self.previous, None
        for s, handler in previous.items():
            signal.signal(s, handler)
        if not self.taken:
            for signum in dict.fromkeys(self):  # (not pgscore score: as it would have been)
                signal.raise_signal(signum)


def threading_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


_EARLY = []  # main()'s _Early, for cmd_score: the main thread's only (where it installed its handlers)


def _early():
    """The _Early of this main() call, in the main thread (only there are signals handled); None elsewhere: a
    main() in another thread (a scheduler's worker, a notebook's) took the main thread's, whose pgscore score it
    released (signal.signal outside the main thread: ValueError, the other command failed; review r6)."""
    return _EARLY[-1] if _EARLY and threading_main() else None


def main(argv=None) -> int:
    """pgscore's commands, called from Python (`argv`, else sys.argv's): the process goes on after it, its signal
    handlers as they were (a wrapper that set sys.argv and called main() had Ctrl-C and SIGTERM ignored after a
    pgscore score; review r6 of session 65)."""
    return _main_ending(argv, ending=False)


def console() -> int:
    """The `pgscore` command (its console script, and python -m pgscore.cli): main() of a process whose exit
    follows, in which pgscore score's signals stay ignored once it has said how it ended."""
    return _main_ending(None, ending=True)


def _main_ending(argv, ending) -> int:
    early = _Early(argv)
    mine = early.previous is not None  # (handlers installed: the main thread's pgscore score)
    if mine:
        _EARLY.append(early)
    try:
        return _main_of(argv)
    finally:
        if mine:
            _EARLY.pop()
        early.release(ending=ending)


def _main_of(argv=None) -> int:
    try:
        status = _main(argv)
    except SystemExit:  # argparse's --help, --version and usage errors, a command's own exit
        _flush()
        raise
    except BrokenPipeError:  # stdout's reader went away (`| head -1`): stop quietly, as _say does
        _gone()
    except OSError as e:
        if e.errno == errno.ENOSPC and e.filename is None:  # print() to a full stdout (/dev/full)
            _cannot_write(e)
        raise
    except UnicodeEncodeError as e:  # psycopg2 sends only ASCII to a SQL_ASCII database (a --reason of yours)
        print(f"pgscore: error: {e.object[e.start:e.end]!r} cannot be sent as {e.encoding}: a database whose "
              "encoding is SQL_ASCII takes only ASCII text from pgscore's commands, and the command stopped before sending it\n"
              "Hint: write it in ASCII (docs/sql.md, \"Databases that are not UTF-8, C or English\")",
              file=sys.stderr)
        return 1
    _flush()
    return status


def _flush():
    """Write what stdout still buffers now, where a reader gone (`--help | head -1`) or a full disk can still
    be told apart (at exit Python prints a traceback for either)."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _gone()
    except OSError as e:
        _cannot_write(e)


def _cannot_write(e: OSError):
    _stdout_to_null()
    print(f"pgscore: error: cannot write the output: {e.strerror}", file=sys.stderr)
    raise SystemExit(1) from None


# options an empty value ("$VAR" with VAR unset) would turn into another meaning (the default cluster) or a
# baffling error: refused as an empty --db is (exit 2)
_NOT_EMPTY = (
    ("data_dir", "--data-dir", "give the cluster's directory (or leave --data-dir out for $PGSCORE_DATA_DIR, else the "
                               "default cluster)"),
    ("html", "--html", "give the report's file name (or leave --html out)"),
    ("report", "--report", "give the report's file name (or leave --report out for drift-report.html in the cluster's "
                           "data directory)"),
    ("train", "--train", "give the training CSV (or leave --train out and name the features with --features)"),
    ("artifact", "MODEL.joblib", "give the model file's path"),
    ("sha256", "--sha256", "give the file's sha256 (or leave --sha256 out)"),
    ("table", "--table", "give the table's name as SQL writes it"),
    ("key", "--key", "give the key column's name"),
    ("into", "--into", "give the name of the column that receives the score"),
    ("label_into", "--label-into", "give the name of the column that receives the predicted class (or leave "
                                   "--label-into out to write the score alone)"),
    ("scored_at_into", "--scored-at-into", "give the name of the timestamptz column that receives the time each row "
                                           "is scored (or leave --scored-at-into out)"),
    ("dbname", "--dbname", "give a database name (or leave --dbname out for pgscore)"),
    ("event_table", "--table", "give the event table's name (or leave --table out for every wiring)"),
    ("profile_table", "--profile-table", "give the profile table's name (or leave --profile-table out for every "
                                         "wiring of --table)"),
    # a model is never named '' (deploy --name '' failed with exit 1 after reading the file; score --model ''
    # after connecting); the positional NAME of show, rollback, ... is the same name
    ("name", {"deploy": "--name", "silence": "MODEL", "silences": "MODEL", "thresholds": "MODEL"},
     "give the model's name"),
    ("model", "--model", "give the model's name"),
    ("target", "--target", "give the label column of --train (or leave --target out)"),
    # the other free-text options (`--reason "$WHY"` with WHY unset): refused before anything is read or connected
    # to, not a window '' looked up in the database (not score --after: '' is a key, the empty one, which an
    # interrupted run prints as --after='' to resume; nor db start --signing-key, where '' turns signing off)
    ("features", "--features", "give the feature names, comma-separated (--features a,b,c)"),
    ("description", "--description", "give what the version is (or leave --description out)"),
    # pgscore silence's (migration 0126)
    ("for_", "--for", "give how long, an interval: 2h, 30min, 1d, '2 hours'"),
    ("what", "--what", "give feature, score, performance or class (or leave --what out for any)"),
    ("subject", "--subject", "give a feature, score, outcomes, ... (or leave --subject out for any)"),
    ("metric", "--metric", "give a metric of pgscore.drift_thresholds (or leave --metric out for any)"),
    ("reason", "--reason", "give why, recorded in the history (or leave --reason out)"),
    ("keep", "--keep", "retention needs an interval, for example --keep '90 days' (or leave --keep out to create "
                       "partitions only)"),
    ("keep_features", "--keep-features", "redaction needs an interval, for example --keep-features '2 years' (or "
                                         "leave --keep-features out to keep every feature)"),
    ("window", "--window", "give a window_name of pgscore.drift_windows (or leave --window out for '1 day')"),
    ("where", "--where", "give a boolean SQL expression over the table's columns (or leave --where out to score "
                         "every row)"),
    ("skipped_report", "--skipped-report", "give the report's file name (or leave --skipped-report out)"),
)


def _main(argv=None) -> int:
    parser = build_parser()
    args = None
    try:
        args = parser.parse_args(argv)
    finally:
        if _early() is not None and getattr(args, "command", None) != "score":
            _early().release()  # (not pgscore score: Python's handlers again, as they were)
    # the usage errors found once parsed are the command's, as argparse's own of it are: its usage line
    usage = command_parser(parser, args)
    if args.db is not None and args.command in ("db", "demo"):
        usage.error(f"--db does not apply to pgscore {args.command}, which runs the embedded cluster (--data-dir, "
                    "--port)")
    if args.db == "":  # --db "$URL" with URL unset: not the default database
        usage.error("--db is empty: give a database URL (or leave --db out for " +
                    ("a throwaway database in the embedded cluster)" if args.command == "bench" else
                     f"{DB_ORDER})"))
    if args.db is not None and args.command not in ("db", "demo"):  # (a URL libpq cannot read: usage, not a failure)
        from pgscore.migrate import libpq_dsn

        try:
            libpq_dsn(args.db)
        except PgscoreError as e:
            usage.error(f"--db: {e.message}")
    if args.command == "silence" and args.window == "":  # (not drift's '1 day')
        usage.error("--window is empty: give a window_name of pgscore.drift_windows (or leave --window out for any)")
    if args.command == "silence" and args.reason is not None and not args.reason.strip():  # (required, not blank)
        usage.error(f"--reason is {'empty' if args.reason == '' else 'blank'}: say why (the incident, ticket or fix "
                    "under way)")
    for dest, opt, give in _NOT_EMPTY:  # --data-dir "$DIR" with DIR unset: not the default cluster, nor file ''
        if getattr(args, dest, None) == "":
            if isinstance(opt, dict):  # the option's name per command, else the positional's
                opt = opt.get(args.command, "NAME")
            usage.error(f"{opt} is empty: {give}")
    if args.command == "drift" and "" in args.name:  # (its NAMEs a list: `pgscore drift "$M"` with M unset)
        usage.error("NAME is empty: give the model's name (or leave NAME out for every live model)")
    if args.command == "health" and "" in args.names:  # (the same for health's NAMEs, 0153)
        usage.error("NAME is empty: give the model's name (or leave NAME out for every model)")
    if args.command == "bench" and args.db is not None and (args.data_dir or args.port):
        usage.error("pgscore bench takes --db, or --data-dir and --port, not both")
    if args.command == "bench" and args.db is not None and args.keep_running:
        usage.error("--keep-running is about the embedded cluster pgscore bench starts, not a database given with --db")
    name = getattr(args, "name", None) or getattr(args, "model", None)  # the model a hint may name
    if isinstance(name, list):  # (drift's NAMEs: one named, or none)
        name = name[0] if len(name) == 1 else None
    # (bench's hints are about its own database; the setting is the process's: a command run in process, by a
    # test or a program of one's own, must not leave its database in the next one's hints)
    hinted_database(args.db if args.command not in ("db", "demo", "bench") else None,
                    found_itself=args.command not in ("db", "demo", "bench"))
    # each connection the command opens says which command it is in pg_stat_activity and in its audit rows' cause
    # (`pgscore rescore`; only `pgscore score` did: a runaway rescore or backfill had no name, session 68), unless
    # PGAPPNAME (or the URL's application_name) names another; not for the embedded cluster's commands, whose
    # server would inherit it, and the environment as it was after the command (a command run in process)
    # (an empty PGAPPNAME names none: libpq then left application_name empty, session 68's T25 review)
    appname, was = None, os.environ.get("PGAPPNAME")
    if args.command not in ("db", "demo", "bench") and not was:
        appname = os.environ["PGAPPNAME"] = f"pgscore {args.command}"
    try:
        return args.func(args) or 0
    except UsageError as e:  # an option refused as such: exit 2 with the command's usage line, as argparse's own
        command_parser(parser, args).error(error_text(e, args.command, name))
    except PgscoreError as e:
        # (the registry's calls make pgscore's exception of the driver's: models and show said `column "engine"
        # does not exist` of a schema at 0002, an InvalidModel of its 42703)
        # (that exception alone, the database's message as it was: not an error of pgscore's own made of one, as
        # install's `failed in revision 0028`)
        cause = e.__cause__
        said = older_schema(cause, args.command) if server_message(
            getattr(getattr(cause, "diag", None), "message_primary", None)) == e.message else None
        say_error(said if isinstance(said, PgscoreError) else e, args.command, name)
        return getattr(e, "pgscore_exit", 1)
    except KeyboardInterrupt:
        print("pgscore: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - database errors get one clear line, not a traceback
        import psycopg2

        if isinstance(e, psycopg2.Error):
            # a table or function of pgscore's that a command's own query names and the schema lacks (one older
            # than this pgscore: `pgscore retire` or `status` on a schema before 0004 said `relation
            # "pgscore.rescoring" does not exist`, and no more): said as the registry's calls say it, with the
            # upgrade's command
            # (and a column, table or function its queries read that the schema lacks, older than this pgscore:
            # `pgscore models` said `column "engine" does not exist`)
            said = older_schema(e, args.command)
            say_error(said, args.command, name)
            return getattr(e, "pgscore_exit", 1)  # (pgscore score stopped by no fault of the data: STOPPED_EXIT)
        raise
    finally:
        if appname is not None and os.environ.get("PGAPPNAME") == appname:
            if was is None:
                del os.environ["PGAPPNAME"]
            else:
                os.environ["PGAPPNAME"] = was
        hinted_database(None)
        from pgscore import migrate

        migrate.reached_by_environment(False)


def command_parser(parser, args) -> argparse.ArgumentParser:
    """The parser of the command that ran (`pgscore deploy`'s, `pgscore db start`'s), whose error() prints
    that command's usage line and exits 2."""
    for name in (args.command, getattr(args, "db_command", None)):
        sub = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
        if sub is None or name not in sub.choices:
            break
        parser = sub.choices[name]
    return parser


def say_error(e, command_name, name=None) -> None:
    """`pgscore: error: ...` on stderr, in one style for pgscore's errors and the database's: the message
    (the database's with its SQLSTATE), then its detail and `Hint: `, with the role a command needs where a
    permission error names none."""
    print(f"pgscore: error: {error_text(e, command_name, name)}", file=sys.stderr)


def error_text(e, command_name, name=None) -> str:
    """say_error's text, without its `pgscore: error: `."""
    import psycopg2

    if isinstance(e, psycopg2.Error):
        text = command_error_text(e, command_name, name)
    else:
        hint = cli_hint(e.hint, name)
        said = getattr(e.__cause__, "orig", None) or e.__cause__  # the database's error it was made of, if any
        if hint and hint == getattr(getattr(said, "diag", None), "message_hint", None):  # the database's hint
            hint = named_commands(hint)
        hint = versions_hint(e.message.strip(), hint)
        if hint is None and e.sqlstate == "42501" and "permission denied" in e.message:
            hint = role_needed(command_name, e.message)
        # labelled as the database's errors are (database_error_text): with its SQLSTATE where the database
        # raised it (registry._translate makes pgscore's exception of the driver's)
        from pgscore.registry import _db_errors

        first = e.message.strip()
        cause = e.__cause__
        cause = getattr(cause, "orig", None) or cause  # (SQLAlchemy's error wraps the driver's)
        state = (getattr(cause, "pgcode", None) or getattr(cause, "sqlstate", None)) \
            if isinstance(cause, _db_errors()) else None
        if state is None and isinstance(e, UnknownModel):  # (registry.show reads the view itself: no model is
            state = e.sqlstate  # what the server's functions refuse with 42704, and `pgscore retire nope` says so)
        if state is None and getattr(e, "sqlstate_said", False):  # a refusal the client makes where the server's
            state = e.sqlstate  # would say one (deploy's of other features or another task: user trial hT12)
        if state:  # the database's own code (pgscore's exception may carry a default of its own)
            first += f" (SQLSTATE {state})"
        if (state or e.sqlstate) == "25006" and (hint is None or hint in _READ_ONLY_HINTS):
            hint = read_only_hint(command_name)
        text = "\n".join([first] + [f"{label}: {v}" for label, v in (("Detail", e.detail), ("Hint", hint)) if v])
    return text


# the hints of pgscore's refusals of a write on a standby or in a read-only transaction (25006), which the command
# line says as read_only_hint: the command to run against the primary
_READ_ONLY_HINTS = (STANDBY_HINT, READ_ONLY_HINT)


def read_only_hint(command_name) -> str:
    """What to do where a command that writes met a read-only server (25006): a hot standby, or a session
    whose transactions are read-only by default. PostgreSQL's own message names only the statement."""
    hint = ("this server takes no writes from this session: a hot standby (a read replica) takes none, and a "
            "session with default_transaction_read_only = on none by default; "
            f"run pgscore {command_name} against the primary")
    if command_name == "drift":
        hint += (", or pgscore drift --no-refresh here, which reads the views without refreshing the rollups "
                 "(a standby has those the primary's last refresh wrote)")
    return hint


def _no_wired_table(e) -> "UsageError":
    """The usage error of a --table that names no wired event table (_names_no_table): the database's error, and
    where it has no hint of its own (relation "x" does not exist), which names are wanted and where to see them."""
    text = database_error_text(e)
    if "\nHint:" not in text:
        text += ("\nHint: --table takes a wired event table's name as SQL writes it (quoted where it has capitals or "
                 "spaces: --table '\"My Events\"'); the wired ones: SELECT event_table FROM pgscore.rescoring")
    return UsageError(text)


def _names_no_table(e) -> bool:
    """A table name regclass cannot read or that names no table: no such relation (42P01) or schema (3F000), a
    name it cannot parse (42602; 42601 for too many dotted names), or one refresh_windows finds not wired (42704)."""
    state = getattr(e, "pgcode", None)
    primary = getattr(getattr(e, "diag", None), "message_primary", None) or ""
    return state in ("42P01", "3F000", "42602", "42704") or (
        state == "42601" and primary.startswith("improper relation name"))


def command_error_text(e, command_name, name=None) -> str:
    """database_error_text, with what the command line adds: the role a command needs, how --table is
    written, the PYTHONPATH that lets the server import this pgscore."""
    text = database_error_text(e, name)
    if e.pgcode == "42501" and "\nHint:" not in text and role_needed(command_name):
        text += f"\nHint: {role_needed(command_name, text.split(chr(10))[0])}"
    # the table name, which regclass reads: one it cannot read, or that names no table (a table of another
    # schema than the search_path's, a name with capitals unquoted)
    # (not where the error has a hint of its own, as refresh-windows' --table: a second Hint: line)
    if command_name == "score" and "\nHint:" not in text \
            and (_names_no_table(e) and e.pgcode != "42704"
                 and ("pgscore." not in text or getattr(e, "names_a_given_table", False))):
        text += ("\nHint: --table takes a table name as SQL writes it (quote one with capitals or spaces: "
                 "--table '\"My Table\"', or 'data.\"My Table\"' with its schema); --key and --into take "
                 "column names as they are")
    if e.pgcode == "57014" and command_name == "score" and "statement timeout" in text:
        text += ("\nHint: a statement_timeout cancelled one of pgscore score's statements: the count of the rows "
                 "to score at the start, or a chunk (one statement each, which a smaller --chunk-size shortens; "
                 "the chunks committed before it stay: where there were some, the --after printed above resumes)")
    if e.pgcode == "57014" and "statement timeout" in text and "\nHint:" not in text and command_name in _TIMED_OUT:
        text += f"\nHint: {_TIMED_OUT[command_name]}"
    if e.pgcode == "55P03" and "lock timeout" in text and "\nHint:" not in text and command_name in _LOCK_TIMED_OUT:
        text += f"\nHint: {_LOCK_TIMED_OUT[command_name]}"
    said = getattr(getattr(e, "diag", None), "message_hint", None)
    if e.pgcode == "25006" and said in _READ_ONLY_HINTS:  # pgscore's own refusal's, for a caller in SQL
        text = text.replace(f"\nHint: {said}", f"\nHint: {read_only_hint(command_name)}")
    if e.pgcode == "25006" and "\nHint:" not in text:
        text += f"\nHint: {read_only_hint(command_name)}"
    if _stopped_by(e) is not None and e.pgcode != "57014" and getattr(e, "resume_hint", None) \
            and "\nHint:" not in text:
        text += f"\nHint: what was committed before stays: {e.resume_hint}"
    if e.pgcode == "58P01" and "cannot be imported by the database's Python" in text:
        from pgscore.localdb import import_fix

        text += f"\nFor this pgscore: {import_fix()}"
    return text


# (session 71, trial T28: a bank's statement_timeout = '30s' cluster-wide) what a statement_timeout that cancelled the
# command's work leaves, and how to go on: said `canceling statement due to statement timeout (SQLSTATE 57014)` alone
_LIFTED = ("the session's statement_timeout (SHOW statement_timeout: ALTER ROLE or ALTER DATABASE ... SET, PGOPTIONS) "
           "lifted for this run: PGOPTIONS='-c statement_timeout=0' before the command")
_TIMED_OUT = {
    "backfill": "a statement_timeout cancelled backfill_rescoring, one statement over every event of the table: "
                "nothing was changed (it rolled back whole); run it again with " + _LIFTED,
    "retry": "a statement_timeout cancelled retry_failed, one transaction over the queue: nothing was changed; run it "
             "again with fewer profiles (--limit N) or with " + _LIFTED,
    "refresh-windows": "a statement_timeout cancelled refresh_windows, one transaction: nothing was changed; run it "
                       "again with fewer profiles (--limit N) or with " + _LIFTED,
    "rescore": "a statement_timeout cancelled a chunk of rescore_profiles (one statement each): the chunks said above "
               "stay rescored; run it again with a smaller --chunk-size or with " + _LIFTED,
}


# (review r2 of session 71) the same for the login's lock_timeout (the bank's '5s' beside its statement_timeout),
# which such a command waiting on a profile row an application's open transaction holds meets first: it said
# `canceling statement due to lock timeout (SQLSTATE 55P03)` alone
def _lock_timed_out(what: str, kept: str) -> str:
    return (f"a lock_timeout cancelled {what} while it waited for a lock another session holds (a row or table an "
            f"open transaction has written: pg_stat_activity, pg_blocking_pids): {kept}; run it again once that "
            "transaction has ended, or with the session's lock_timeout (SHOW lock_timeout) lifted for this run, to "
            "wait for it: PGOPTIONS='-c lock_timeout=0' before the command")


_LOCK_TIMED_OUT = {
    "backfill": _lock_timed_out("backfill_rescoring", "nothing was changed (it rolled back whole)"),
    "retry": _lock_timed_out("retry_failed", "nothing was changed"),
    "refresh-windows": _lock_timed_out("refresh_windows", "nothing was changed"),
    "rescore": _lock_timed_out("a chunk of rescore_profiles", "the chunks said above stay rescored"),
}


# who may run a command, for a permission error that does not say (docs/sql.md, "Who may do what")
ROLE_NEEDED = {
    "env": "a superuser or a role granted pgscore_admin (it runs pgscore.validate_environment())",
    "maintain": "a role granted pgscore_admin (partitions and retention)",
    "deploy": "a role granted pgscore_admin", "activate": "a role granted pgscore_admin",
    "retire": "a role granted pgscore_admin", "rollback": "a role granted pgscore_admin",
    "delete": "a role granted pgscore_admin",
    "shadow": "a role granted pgscore_admin",
    "score": "a role granted pgscore_app or pgscore_admin, with SELECT and UPDATE on the table",
    "models": "a role granted pgscore_app, pgscore_admin or pgscore_reader",
    "show": "a role granted pgscore_app or pgscore_admin",
    "retry": "a role granted pgscore_app or pgscore_admin (it runs pgscore.retry_failed())",
    "backfill": "a role granted pgscore_app or pgscore_admin (it runs pgscore.backfill_rescoring()), with SELECT, "
                "UPDATE (and INSERT, to create profiles) on the profile tables and SELECT on the event table",
    "refresh-windows": "a role granted pgscore_app or pgscore_admin (it runs pgscore.refresh_windows()), with "
                       "SELECT and UPDATE on the profile tables and SELECT on the event tables",
    "status": "a superuser or a role granted pgscore_admin (it reads pgscore's registry and settings)",
    "health": "a role granted pgscore_reader, pgscore_app or pgscore_admin (it runs pgscore.health())",
    "drift": "a role granted pgscore_admin: it refreshes the rollups, and --html reads the baselines (pgscore_reader "
             "may run it with --no-refresh, without --html, since migration 0136; pgscore_reader reads the views, "
             "pgscore.alerts, pgscore.feature_drift, ..., in SQL)",
    "uninstall": "a superuser, like install: it drops PL/Python functions, which only a superuser may do",
    "install": "a superuser: it creates PL/Python (untrusted) functions, three roles and their grants",
}


def role_needed(command, message="") -> str | None:
    """The hint for a permission error of `command` that names no role itself. Where it is PostgreSQL's `permission
    denied for schema X` (session 69, trial T26), the role is not the matter: a table in X, one of another team's,
    wired to rescore with the model a deploy made live say, which the role may not read; said so, with the role."""
    # (review r3: the whole name, which the message does not quote, not its first word: `Risk Team` was said `Risk`)
    m = re.search(r"permission denied for schema (.+?)(?: \(SQLSTATE \w{5}\))?$", (message or "").split("\n")[0])
    if m and m.group(1) != "pgscore" and command in ROLE_NEEDED:  # (pgscore's own: the role is the matter)
        return (f"this role may not use schema {m.group(1)} (USAGE), where pgscore {command} read a table: a table "
                f"wired to rescore with the model, or one the command names; run it as a role granted USAGE on schema "
                f"{m.group(1)} (and {ROLE_NEEDED[command]}); where two teams share the database, give each model a "
                "name of its own (docs/sql.md, One cluster, several teams)")
    return f"pgscore {command} needs {ROLE_NEEDED[command]}" if command in ROLE_NEEDED else None


if __name__ == "__main__":
    raise SystemExit(console())
