"""Cheap reads of the PostgreSQL backend's own statement and transaction counters.

PL/Python has no per-statement or per-transaction hook, and asking through
SPI costs ~13 us a call, more than scoring a row. The server exports its
symbols to extensions, so ctypes can call the same getters C extensions use
(~0.13 us). Where they cannot be found (another build), `clock()` returns
None and callers fall back to asking through SPI every time.
"""

from __future__ import annotations

import ctypes


class Clock:
    """Identify the current statement and (sub)transaction of this backend."""

    def __init__(self, lib):
        self._stmt = _fn(lib, "GetCurrentStatementStartTimestamp", ctypes.c_int64)
        # GetCurrentCommandId(bool used) called with the int 0, no argtypes: converting a Python bool
        # through argtypes=[c_bool] cost ~0.4 us more a call, and this runs once a scored row
        self._cid = _fn(lib, "GetCurrentCommandId", ctypes.c_uint32, argtypes=None)
        self._xid = _fn(lib, "GetTopTransactionIdIfAny", ctypes.c_uint32)
        self._subxid = _fn(lib, "GetCurrentSubTransactionId", ctypes.c_uint32)
        self._level = _fn(lib, "GetCurrentTransactionNestLevel", ctypes.c_int)
        self._own_xid = _fn(lib, "GetCurrentTransactionIdIfAny", ctypes.c_uint32)
        self._did_abort = _fn(lib, "TransactionIdDidAbort", ctypes.c_bool, [ctypes.c_uint32])
        # (optional: without it the clock still serves, and PostgreSQL's own error stands)
        self._restricted = (_fn(lib, "InSecurityRestrictedOperation", ctypes.c_bool)
                            if hasattr(lib, "InSecurityRestrictedOperation") else (lambda: False))

    def statement(self) -> tuple[int, int]:
        """Changes with every top-level statement and after every command that wrote data."""
        return self._stmt(), self._cid(0)

    def transaction(self) -> tuple[int, int]:
        """(top-level xid or 0 before one is assigned, subtransaction id)."""
        return self._xid(), self._subxid()

    def nested(self) -> bool:
        """Whether a subtransaction is running: a savepoint, a PL/pgSQL block with an EXCEPTION clause."""
        return self._level() > 1

    def written_in(self) -> tuple[int, int]:
        """(top-level xid, the xid of the current subtransaction, or of the transaction at the top level),
        0 where none is assigned (nothing written yet)."""
        return self._xid(), self._own_xid()

    def restricted(self) -> bool:
        """Whether a security-restricted operation runs (CREATE or REFRESH MATERIALIZED VIEW's query), where
        PostgreSQL refuses to queue a deferred trigger."""
        return bool(self._restricted())

    def aborted(self, xid) -> bool:
        """Whether (sub)transaction `xid` rolled back; one released into its parent has not, until that does."""
        return bool(self._did_abort(xid))


def _fn(lib, name, restype, argtypes=()):
    """A getter of the server's; argtypes None leaves the arguments unchecked and unconverted."""
    f = getattr(lib, name)
    f.restype = restype
    if argtypes is not None:
        f.argtypes = list(argtypes)
    return f


def clock() -> Clock | None:
    """A Clock when running inside a PostgreSQL backend that exports the getters, else None."""
    try:
        lib = ctypes.CDLL(None)
        if not hasattr(lib, "SPI_connect"):  # not inside postgres (e.g. plain Python): no backend to ask
            return None
        return Clock(lib)
    except (OSError, AttributeError):
        return None


def database_encoding() -> str | None:
    """The server encoding's name (GetDatabaseEncodingName, as server_encoding shows it), without SPI: SPI runs
    each statement of PL/Python's in a subtransaction, which a parallel worker may not start. None outside a
    backend or where the server does not export it."""
    try:
        lib = ctypes.CDLL(None)
        if not hasattr(lib, "SPI_connect") or not hasattr(lib, "GetDatabaseEncodingName"):
            return None
        name = _fn(lib, "GetDatabaseEncodingName", ctypes.c_char_p)()
        return name.decode("ascii") if name else None
    except (OSError, AttributeError, UnicodeDecodeError):
        return None
