"""Exceptions that carry a SQLSTATE, so PL/Python adapters can raise them as SQL errors."""


class PgscoreError(Exception):
    """Base class: a message, optional detail and hint, and a SQLSTATE."""

    sqlstate = "P0001"  # raise_exception

    def __init__(self, message, *, detail=None, hint=None, sqlstate=None):
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.hint = hint
        if sqlstate:
            self.sqlstate = sqlstate

    def __str__(self):
        parts = [self.message]
        if self.detail:
            parts.append(self.detail)
        if self.hint:
            parts.append("Hint: " + self.hint)
        return "\n".join(parts)


class EnvironmentMismatch(PgscoreError):
    """The Python environment cannot load or run what was asked (missing or mismatched library)."""

    sqlstate = "58P01"  # undefined_file: a required piece of the environment is absent


class ClusterError(PgscoreError):
    """The embedded PostgreSQL cluster cannot be created, started or reached."""


class InstallError(PgscoreError):
    """Installing or upgrading the pgscore schema failed; nothing was left half-done."""
