"""Names, values and statements that reach the server from PL/Python, right in every server encoding.

PL/Python hands the server a statement's text (plpy.execute, plpy.prepare, plpy.cursor) as its UTF-8 bytes,
and plpy.quote_ident/quote_literal read their answer back as the server's encoding, whatever that is: in a
database that is neither UTF8 nor SQL_ASCII (LATIN1, WIN1252, EUC_JP...), a name or text beyond ASCII in a
statement names another object or compares with other text ("Ä" becomes "Ã\\x84"), with no error. There a
statement beyond ASCII is written in ASCII before it is sent: each such quoted name as U&"...", each such
string as E'...', with Unicode escapes, which the server reads in its own encoding.
"""

from __future__ import annotations

import re

from pgscore import backend
from pgscore.errors import PgscoreError, literal

_PASS = ("UTF8", "SQL_ASCII")  # encodings PL/Python passes text to unchanged
_DOLLAR = re.compile(r"\$([A-Za-z_\u0080-\U0010ffff][A-Za-z0-9_\u0080-\U0010ffff]*)?\$")
_WORD = re.compile(r"[A-Za-z0-9_$\u0080-\U0010ffff]+")


def quote_ident(plpy, name: str) -> str:
    """plpy.quote_ident, also for a name beyond ASCII in a database that is not UTF-8 (whose answer PL/Python
    reads back as the server's encoding). Such a name is always quoted (the server leaves only a-z, 0-9 and
    _ bare), as here."""
    if name.isascii():
        return plpy.quote_ident(name)
    return '"' + name.replace('"', '""') + '"'


def quote_literal(plpy, value) -> str:
    """plpy.quote_literal, also for text beyond ASCII in a database that is not UTF-8 (as quote_ident)."""
    value = str(value)
    if value.isascii():
        return plpy.quote_literal(value)
    return literal(value)  # (quote_literal's rule: ' and \ doubled, E'' where a \ is)


def _escaped(text: str, escape: str = "\\") -> str:
    r"""The characters beyond ASCII of text as Unicode escapes: \XXXX or \+XXXXXX (U&), \uXXXX or \UXXXXXXXX
    (E'')."""
    out = []
    for c in text:
        if c.isascii():
            out.append(c)
        elif escape == "u":
            out.append(f"\\u{ord(c):04X}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08X}")
        else:
            out.append(f"\\{ord(c):04X}" if ord(c) <= 0xFFFF else f"\\+{ord(c):06X}")
    return "".join(out)


def _backslash_dropped(inner: str) -> str:
    r"""The text of a string read with backslash escapes (E'...'), each backslash before a character beyond ASCII
    dropped: such a character escaped stands for itself, where the escape written for it after a backslash
    (\u00C4) would read as a backslash and 'u00C4'."""
    out, i = [], 0
    while i < len(inner):
        if inner[i] == "\\" and i + 1 < len(inner):
            out.append(inner[i + 1] if not inner[i + 1].isascii() else inner[i:i + 2])
            i += 2
        else:
            out.append(inner[i])
            i += 1
    return "".join(out)


def _refuse(what: str, sql: str, encoding: str):
    return PgscoreError(
        f"{what} beyond ASCII cannot be passed to this database (encoding {encoding}) from PL/Python, which "
        f"would pass other characters in their place", sqlstate="0A000",
        detail=f"in: {sql if len(sql) <= 300 else sql[:300] + '...'}",
        hint="write the name double-quoted (\"...\"), or write those characters as Unicode escapes "
             "(U&\"gr\\00F6\\00DFe\", E'R\\u00FCckgabe'); or use a UTF8 database")


def ascii_sql(sql: str, standard_strings: bool, encoding: str) -> str:
    """sql written in ASCII, the same statement: quoted names and strings beyond ASCII as U&"..." and E'...'
    with Unicode escapes, comments' other characters as '?'. A bare word, a dollar-quoted string or a U&
    form beyond ASCII is refused (PgscoreError, 0A000). `standard_strings`: the session's
    standard_conforming_strings (off: a plain '...' reads backslashes as E'...' does)."""
    if sql.isascii():
        return sql
    out, i, n = [], 0, len(sql)
    while i < n:
        c = sql[i]
        if sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            out.append("".join(ch if ch.isascii() else "?" for ch in sql[i:j]))
            i = j
        elif sql.startswith("/*", i):  # (nested, as PostgreSQL's are)
            depth, j = 0, i
            while j < n:
                if sql.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif sql.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                    if not depth:
                        break
                else:
                    j += 1
            out.append("".join(ch if ch.isascii() else "?" for ch in sql[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while True:
                j = sql.find('"', j)
                if j < 0 or sql[j + 1:j + 2] != '"':
                    break
                j += 2
            j = n if j < 0 else j + 1
            body = sql[i:j]
            if not body.isascii():
                if "".join(out[-2:])[-2:].upper() == "U&":
                    raise _refuse("a U&\"...\" name", sql, encoding)
                body = 'U&"' + _escaped(body[1:-1].replace("\\", "\\\\")) + body[-1:]
            out.append(body)
            i = j
        elif c == "'":
            before = "".join(out[-3:])
            prefix = before[-1:].upper() if before[-1:].upper() in ("E", "U", "N", "B", "X") and not (
                len(before) >= 2 and (before[-2].isalnum() or before[-2] in "_$")) else ""
            if before[-2:].upper() == "U&":
                prefix = "U&"
            backslashes = prefix == "E" or (not standard_strings and prefix in ("", "N"))
            j = i + 1
            while j < n:
                if backslashes and sql[j] == "\\":
                    j += 2
                elif sql[j] == "'" and sql[j + 1:j + 2] == "'":
                    j += 2
                elif sql[j] == "'":
                    break
                else:
                    j += 1
            j = min(j + 1, n)
            body = sql[i:j]
            if not body.isascii():
                if prefix == "U&":
                    raise _refuse("a U&'...' string", sql, encoding)
                inner = _backslash_dropped(body[1:-1]) if backslashes else body[1:-1].replace("\\", "\\\\")
                if prefix == "N":  # (N'...' is text, as E'...' is; NE'...' would be no string)
                    out.pop()
                body = ("" if prefix == "E" else "E") + "'" + _escaped(inner, "u") + body[-1:]
            out.append(body)
            i = j
        elif c == "$" and (m := _DOLLAR.match(sql, i)) and not (out and out[-1][-1:].isalnum()):
            end = sql.find(m.group(0), m.end())
            j = n if end < 0 else end + len(m.group(0))
            if not sql[i:j].isascii():
                raise _refuse("a dollar-quoted string", sql, encoding)
            out.append(sql[i:j])
            i = j
        elif (m := _WORD.match(sql, i)):
            if not m.group(0).isascii():
                raise _refuse(f"the name {m.group(0)} (not double-quoted)", sql, encoding)
            out.append(m.group(0))
            i = m.end()
        else:
            out.append(c)
            i += 1
    return "".join(out)


class _InEncoding:
    """plpy, with each statement that goes beyond ASCII in a database that is neither UTF8 nor SQL_ASCII
    written in ASCII first (ascii_sql). plpy's other names are this object's own (copied once), so that
    reaching them costs what it costs on plpy."""

    def __init__(self, plpy):
        self.__dict__.update({k: v for k, v in vars(plpy).items() if k not in ("execute", "prepare", "cursor")})
        self._plpy = plpy

    def __getattr__(self, name):
        return getattr(self._plpy, name)

    def _sql(self, query):
        if not isinstance(query, str) or query.isascii():
            return query
        if _encoding[0] is None:  # (not known without SPI: asked here, where a statement goes through SPI anyway)
            _encoding[0] = self._plpy.execute("SELECT pg_catalog.current_setting('server_encoding') AS e")[0]["e"]
        if _encoding[0] in _PASS:
            return query
        on = self._plpy.execute("SELECT pg_catalog.current_setting('standard_conforming_strings') = 'on' AS on")
        return ascii_sql(query, on[0]["on"], _encoding[0])

    def execute(self, query, *args):
        return self._plpy.execute(self._sql(query), *args)

    def prepare(self, query, *args):
        return self._plpy.prepare(self._sql(query), *args)

    def cursor(self, query, *args):
        return self._plpy.cursor(self._sql(query), *args)


_encoding = []  # the server's, once a backend (a backend serves one database)
_wrapped = {}  # id(plpy) -> (plpy, its _InEncoding)


def in_server_encoding(plpy):
    """plpy, with statements beyond ASCII written in ASCII where the database's encoding needs it; plpy itself
    in a UTF8 or SQL_ASCII database (read once a backend), so that the calls there cost nothing more."""
    if not _encoding:  # (by ctypes: a parallel worker may not run a statement through SPI; None: unknown)
        _encoding.append(backend.database_encoding())
    if _encoding[0] in _PASS:
        return plpy
    got = _wrapped.get(id(plpy))
    if got is None or got[0] is not plpy:
        got = _wrapped[id(plpy)] = (plpy, _InEncoding(plpy))
    return got[1]


def oid_of(name) -> str:
    """The OID of the relation named `name` (SQL text, a name as regclass prints it), NULL where there is none; looked
    up in the catalog, which needs no privilege (to_regclass raises 42501 without USAGE on its schema)."""
    last = "i.x[pg_catalog.cardinality(i.x)]"
    return ("(SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) "
            f"c.relnamespace, pg_catalog.parse_ident({name}) AS i(x) WHERE c.relname OPERATOR(pg_catalog.=) {last} "
            "AND CASE WHEN pg_catalog.cardinality(i.x) OPERATOR(pg_catalog.=) 1 THEN c.oid OPERATOR(pg_catalog.=) "
            f"pg_catalog.to_regclass({name})::pg_catalog.oid ELSE n.nspname OPERATOR(pg_catalog.=) "
            "i.x[pg_catalog.cardinality(i.x) OPERATOR(pg_catalog.-) 1] END)")
