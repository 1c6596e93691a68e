"""Entry points for the PL/Python shims in plpython/: each takes plpy (and GD/TD) as arguments.

Nothing here imports plpy; errors from the core are PgscoreError and are
turned into SQL errors with their SQLSTATE by `raising_sql_errors`.
"""

from __future__ import annotations

import functools
import json

from pgscore.errors import PgscoreError


def raising_sql_errors(fn):
    """Re-raise PgscoreError as plpy.error with its SQLSTATE, detail and hint."""

    @functools.wraps(fn)
    def wrapper(plpy, *args, **kwargs):
        try:
            return fn(plpy, *args, **kwargs)
        except PgscoreError as e:
            plpy.error(e.message, detail=e.detail, hint=e.hint, sqlstate=e.sqlstate)

    return wrapper


@raising_sql_errors
def validate_environment(plpy):
    from pgscore.environment import report

    return json.dumps(report(check=True))
