"""Exceptions that carry a SQLSTATE, so PL/Python adapters can raise them as SQL errors."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path


LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout, NOWAIT


def of_the_transaction(sqlstate) -> bool:
    """Errors no other way of scoring can help with, which the caller must see: class 40, transaction
    rollback (a serialization failure, a deadlock: the client retries the transaction); class 57, operator
    intervention (a cancel or statement_timeout, 57014; a shutdown or dropped database, 57P01-57P05, which
    postgres_fdw and dblink raise as an ERROR with the remote server's SQLSTATE); a lock_timeout (55P03: what the
    session asked for). SQL's pgscore.load_or_refuse follows the same rule. Not class 53, insufficient
    resources: another way helps there (past temp_file_limit, 53400, score_table's Python path holds less than
    its SQL statement; rescoring queues the profile), and a shadow's out of memory is the shadow's."""
    state = sqlstate or ""
    return state.startswith(("40", "57")) or state == LOCK_NOT_AVAILABLE


READ_ONLY = "25006"  # read_only_sql_transaction: a hot standby, or a read-only transaction
# the hints of pgscore's refusals of a write (25006) on a standby and in a read-only transaction of a primary; the
# command line says either as its own (cli.read_only_hint: run pgscore COMMAND against the primary); sql/ writes
# them too (record_outcome, refresh_monitoring: migration 0154)
STANDBY_HINT = "run it on the primary: a hot standby (a read replica) takes no writes, and gets them by replication"
READ_ONLY_HINT = ("run it in a transaction that may write: not one begun READ ONLY, nor in a session with "
                  "default_transaction_read_only = on")
_IN_RECOVERY = "SELECT pg_catalog.pg_is_in_recovery() AS standby"


def on_a_standby(plpy) -> bool:
    """Whether the server is a hot standby (in recovery), where no transaction may write."""
    return bool(plpy.execute(_IN_RECOVERY)[0]["standby"])


def read_only_error(what: str, standby: bool) -> "PgscoreError":
    """The 25006 of `what` (a write: 'rescore_profiles writes public.customers') in a read-only transaction:
    saying a standby where it is one (whose transactions are all read-only: not a setting of the caller's), with
    the hint of each (registry.check_writable's from a client, read_only_refusal's in the server)."""
    if standby:
        return PgscoreError(f"{what}: not on a standby, whose transactions are all read-only", sqlstate=READ_ONLY,
                            hint=STANDBY_HINT)
    return PgscoreError(f"{what}: not in a read-only transaction", sqlstate=READ_ONLY, hint=READ_ONLY_HINT)


def read_only_refusal(plpy, what: str) -> "PgscoreError":
    """read_only_error of `what`, in the server (PL/Python): a standby where pg_is_in_recovery() says so."""
    return read_only_error(what, on_a_standby(plpy))


# the database the running command was given with --db, as its hints name it (hinted_database); None where the
# command found its database itself ($PGSCORE_DATABASE_URL, the embedded cluster), as the hinted command will
_hinted_db: str | None = None
# the running command found its database itself: a hint's `--db URL` (the placeholder a caller from Python needs)
# goes, as the hinted command finds that database the same way (pasted, `install --db URL` failed on "URL")
_found_itself = False


def hinted_database(url: str | None, found_itself: bool = False) -> None:
    """Hints name `url` (the command line's --db) in the commands they give, so that one pasted as it is acts
    on that database, not on $PGSCORE_DATABASE_URL's or the embedded cluster: without its password (a hint is
    printed, and lands in logs), which libpq then reads from ~/.pgpass or PGPASSWORD as for any client.
    Without `url`, `found_itself` says that the command line found its database itself: hints leave out the
    `--db URL` placeholder."""
    global _hinted_db, _found_itself
    _hinted_db = None
    _found_itself = found_itself and not url
    if not url:
        return
    import psycopg2.extensions

    try:
        parts = psycopg2.extensions.parse_dsn(url)
    except Exception:  # noqa: BLE001 - the command itself says what is wrong with it
        return
    if {"password", "sslpassword"} & parts.keys():  # a URL's own form, where it holds none; else libpq's
        for secret in ("password", "sslpassword"):  # key=value form without them (sslpassword: the client key's)
            parts.pop(secret, None)
        url = psycopg2.extensions.make_dsn(**parts)
    _hinted_db = url


def hint_the_primary() -> None:
    """On a hot standby (pgscore status): the commands hints give write, or read what the primary has first, so
    they name `--db PRIMARY_URL`, not the standby's URL (pasted, each failed there with 25006)."""
    global _hinted_db, _found_itself
    _hinted_db = PRIMARY_URL
    _found_itself = False


PRIMARY_URL = "PRIMARY_URL"


def command(rest: str, data_dir=None) -> str:
    """A pgscore command as the user runs it, for hints: `pgscore REST`, or through the checkout's
    scripts/run (which sets PGSCORE_COMMAND to its own absolute path), where `pgscore` is not on the PATH;
    quoted for a shell. With `data_dir` (a db command's cluster), `--data-dir DIR` where it is not the
    default cluster's, so that the hint acts on the cluster it is about; run with --db, the command has it
    (hinted_database), a db command (the embedded cluster's) excepted."""
    prog = os.environ.get("PGSCORE_COMMAND", "").strip() or "pgscore"
    if _found_itself and data_dir is None:  # the hinted command finds the database as the running one did
        rest = re.sub(r"(^| )--db URL(?= |$)", "", rest).strip()
    db = f" --db {shlex.quote(_hinted_db)}" if _hinted_db and data_dir is None and not rest.startswith("db ") else ""
    if db and re.search(r"(^| )--db ", rest):  # a hint that names a --db of its own
        if re.search(r"(^| )--db URL( |$)", rest):  # the placeholder for the database given: that one, once
            rest = re.sub(r"(^| )--db URL(?= |$)", "", rest).strip()
        else:  # another database (bench's URL-OF-BENCH): not the one given
            db = ""
    out = f"{shlex.quote(prog)}{db} {rest}"
    if data_dir is not None:
        from pgscore.localdb import default_data_dir

        if Path(data_dir).absolute() != default_data_dir().absolute():
            out += f" --data-dir {shlex.quote(str(Path(data_dir).absolute()))}"
    return out


def server_message(primary: str | None) -> str | None:
    """A server error's message without the exception's name that PL/Python puts before it
    ('pgscore: ' for pgscore's own errors, 'plpy.Error: ', 'spiexceptions.UndefinedTable: ')."""
    if primary and primary.startswith(("pgscore: ", "plpy.", "spiexceptions.")):
        name, sep, rest = primary.partition(": ")
        if sep and " " not in name:
            return rest
    return primary


class PgscoreError(Exception):
    """Base class: a message, optional detail and hint, a SQLSTATE, and the object an error of PostgreSQL's
    names (schema_name, table_name, column_name, datatype_name, constraint_name: what a client reads as
    psycopg2's e.diag.constraint_name), kept where such an error is raised again as pgscore's."""

    sqlstate = "P0001"  # raise_exception

    def __init__(self, message, *, detail=None, hint=None, sqlstate=None, **objects):
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.hint = hint
        if sqlstate:
            self.sqlstate = sqlstate
        unknown = set(objects) - set(OBJECT_FIELDS)
        if unknown:
            raise TypeError(f"unexpected keyword arguments: {', '.join(sorted(unknown))}")
        self.objects = {k: v for k, v in objects.items() if v is not None}

    def fields(self) -> dict:
        """Message, SQLSTATE, detail, hint and object names, the ones set only (as spi_fields gives them)."""
        out = {"message": self.message, "sqlstate": self.sqlstate, "detail": self.detail, "hint": self.hint,
               **self.objects}
        return {k: v for k, v in out.items() if v is not None}

    def __str__(self):
        parts = [self.message]
        if self.detail:
            parts.append(self.detail)
        if self.hint:
            parts.append("Hint: " + self.hint)
        return "\n".join(parts)


class UsageError(PgscoreError):
    """A value the caller gave (a command line's option) refused as such, before anything was changed: the
    command line exits 2 with the command's usage line, as argparse's own refusals do (docs/cli.md, "Global
    options, errors and exit codes")."""

    sqlstate = "22023"  # invalid_parameter_value


class EnvironmentMismatch(PgscoreError):
    """The Python environment cannot load or run what was asked (missing or mismatched library)."""

    sqlstate = "58P01"  # undefined_file: a required piece of the environment is absent


class ClusterError(PgscoreError):
    """The embedded PostgreSQL cluster cannot be created, started or reached."""


class InstallError(PgscoreError):
    """Installing or upgrading the pgscore schema failed; nothing was left half-done."""


class UnknownModel(PgscoreError):
    """No model (or no such version) under that name."""

    sqlstate = "42704"  # undefined_object


class InvalidModel(PgscoreError):
    """What was given to deploy is not a usable fitted scikit-learn estimator, or its metadata disagrees."""

    sqlstate = "22023"  # invalid_parameter_value


class ArtifactError(PgscoreError):
    """Artifact bytes that fail their sha256, their signature, or cannot be unpickled."""

    sqlstate = "XX001"  # data_corrupted


class SignatureError(ArtifactError):
    """Signing is on and the artifact's HMAC-SHA256 is missing or does not verify."""

    sqlstate = "42501"  # insufficient_privilege: never unpickle what the key did not sign


class VersionMismatch(EnvironmentMismatch):
    """The artifact was written by other library versions than the ones loading it."""


def nearest(name, candidates) -> str | None:
    """The one of `candidates` (other than `name` itself) that a misspelt `name` looks like, if one does: difflib's
    ratio of 0.75 or more. For an error's hint only (a typo, rather than a name to add)."""
    import difflib  # only on an error

    near = difflib.get_close_matches(name, [c for c in candidates if c != name], n=1, cutoff=0.75)
    return near[0] if near else None


def typo_hint(name, candidates, hint=None) -> str | None:
    """`hint` (what to do about a name that is not there), after the name of `candidates` that `name` looks like a
    typo for, if one does: "a typo for 'churn'? Else list models with: ...", or the question alone where there is
    no `hint`. The command line keeps the question where it rewrites the rest of such a hint (cli.cli_hint)."""
    near = nearest(name, candidates) if isinstance(name, str) else None
    if near is None:
        return hint
    return f"{TYPO_FOR}{literal(near)}?" + (f" Else {hint}" if hint else "")


TYPO_FOR = "a typo for "


def literal(name: str) -> str:
    """A name (a feature's, a column's) quoted in a message as SQL's quote_literal quotes it, as pgscore's SQL
    messages do: 'churn_30d', 'it''s "x"'. Python's repr escaped a name holding both quotes ('it\\'s "x"')."""
    name = str(name)
    body = "'" + name.replace("'", "''").replace("\\", "\\\\") + "'"
    return "E" + body if "\\" in name else body


def check_relation(value, what: str) -> None:
    """Refuse a regclass argument that names no relation: an oid cast to regclass is not checked, and reaches
    PL/Python as regclass prints it, the oid's number ('-' for 0), which no statement can use."""
    if value is not None and (value == "-" or value.isdigit()):
        oid = 0 if value == "-" else int(value)
        raise PgscoreError(f"there is no relation with oid {oid} (the {what})", sqlstate="42P01",
                           hint="name the table, as 'schema.table'::regclass does (which checks that it exists); "
                                "an oid cast to regclass is not checked")


def spi_fields(e) -> dict:
    """A PL/Python SPIError's message, SQLSTATE, detail and hint, and the names of the object it is about
    (the set ones). PL/Python keeps the last three in the
    exception's spidata (the SQLSTATE packed as an int, six bits a character, as PGSIXBIT packs it), not
    in attributes of its own."""
    data = getattr(e, "spidata", None) or (None, None, None)
    code = data[0]
    names = dict(zip(OBJECT_FIELDS, data[5:10]))  # PostgreSQL 9.6+: the object an error is about
    return {"message": e.args[0] if e.args else str(e),
            "sqlstate": ("".join(chr(((code >> (6 * i)) & 0x3F) + ord("0")) for i in range(5))
                         if isinstance(code, int) else getattr(e, "sqlstate", None)),
            "detail": data[1], "hint": data[2], **{k: v for k, v in names.items() if v is not None}}


def spi_objects(e) -> dict:
    """The object names a PL/Python SPIError carries (see spi_fields), as PgscoreError's keywords."""
    return {k: v for k, v in spi_fields(e).items() if k in OBJECT_FIELDS}


# the fields of an error that name its object, as PostgreSQL's errtable/errtablecol/errtableconstraint/
# errdatatype/errdomainconstraint set them, and as plpy.error and PL/Python's exceptions take them
OBJECT_FIELDS = ("schema_name", "table_name", "column_name", "datatype_name", "constraint_name")
