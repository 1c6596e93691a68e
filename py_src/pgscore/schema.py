"""Render sql/ (with plpython/ bodies inlined) into the script that defines every pgscore object.

`sql/` is the current truth; a migration freezes the text it applies with
`python -m pgscore.schema render > migrations/versions/<rev>/upgrade.sql`.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

# whether pgscore.models keeps the reason each version was stored with (migration 0029); code that writes
# or reads it also runs against older schemas (pgscore install upgrades; the migrations' tests deploy at each)
VERSION_REASON = ("SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = "
                  "'pgscore.models'::pg_catalog.regclass::pg_catalog.oid "
                  "AND attname = 'reason' AND NOT attisdropped")

# whether pgscore.models keeps each text feature's words (migration 0123)
TEXT_CATEGORIES = ("SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = "
                   "'pgscore.models'::pg_catalog.regclass::pg_catalog.oid "
                   "AND attname = 'text_categories' AND NOT attisdropped")

# whether the schema has pgscore.model_locks (migration 0043), whose row of a name its changes lock
HAS_MODEL_LOCKS = "SELECT pg_catalog.to_regclass('pgscore.model_locks') IS NOT NULL AS t"


def lock_name(first, name, param) -> None:
    """Take model `name`'s lock in the current transaction, as every change of the model does (register_model,
    activate, rollback, retire, set_shadow, clear_shadow, and registry.deploy before its checks): its row of
    pgscore.model_locks, which only pgscore_admin may lock (0043 on), or before 0043 pgscore's advisory lock of
    the name (which a login granted nothing could take and hold). One text for pl.register_model (plpy) and
    registry.lock_name (psycopg2 or psycopg 3): `first(sql, args)` runs `sql` with `args` through the caller's
    driver and returns the first row's first value (None for no row); `param` is its placeholder ($1, %s)."""
    if first(HAS_MODEL_LOCKS, ()):
        first("INSERT INTO pgscore.model_locks AS l (name) VALUES (" + param + ") "
              "ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name", (name,))
    else:  # a schema before 0043 (the migrations' tests deploy with this code at every revision)
        first("SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('pgscore.models'), "
              "pg_catalog.hashtext(" + param + "))", (name,))

KINDS = ("schema", "tables", "functions", "views", "triggers", "privileges")
_PLPYTHON = re.compile(r"^@@(plpython/[A-Za-z0-9_./-]+\.py)@@$", re.M)


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


def sql_files(root: Path | None = None) -> list[Path]:
    root = root or repo_root()
    files = []
    for kind in KINDS:
        files.extend(sorted((root / "sql" / kind).glob("*.sql")))
    return files


def render_file(path: Path, root: Path | None = None) -> str:
    root = root or repo_root()
    text = path.read_text()

    def body(m):
        src = (root / m.group(1)).read_text().rstrip("\n")
        if "$pl$" in src:
            raise ValueError(f"{m.group(1)} contains the $pl$ quote that wraps it")
        return src

    return _PLPYTHON.sub(body, text)


def render(root: Path | None = None) -> str:
    """The whole schema as one SQL script, in dependency order."""
    root = root or repo_root()
    parts = []
    for f in sql_files(root):
        parts.append(f"-- {f.relative_to(root)}\n{render_file(f, root).strip()}\n")
    return "\n".join(parts)


def main(argv=None):
    argv = argv if argv is not None else sys.argv[1:]
    if argv[:1] == ["render"]:
        sys.stdout.write(render())
        return 0
    print("usage: python -m pgscore.schema render", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
