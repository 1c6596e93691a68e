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
VERSION_REASON = ("SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = 'pgscore.models'::pg_catalog.regclass "
                  "AND attname = 'reason' AND NOT attisdropped")

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
