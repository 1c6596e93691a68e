"""Which running PostgreSQL servers import a Python environment: scripts/run warns before it makes or reinstalls its
.venv under one of them. A server imports from its PYTHONPATH in each backend as the backend starts (PL/Python's
first call), not once at the server's start: a `pip install` there reaches every NEW session at once, while the
sessions already open keep what they imported, so two versions of the libraries run in one server until it is
restarted (a trial: a new session refused a model `written with scikit-learn 1.9.1 (this server has 1.8.0)`, an
older one scored it). Standard library only: it runs before the environment is whole."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def _comm(pid: str) -> str:
    return (Path("/proc") / pid / "comm").read_text().strip()


def _inside(path: Path, prefix: Path) -> bool:
    try:
        path = path.resolve()
    except OSError:
        return False
    return path == prefix or prefix in path.parents


def servers_importing(prefix) -> list[tuple[int, str]]:
    """(pid, data directory) of each running PostgreSQL server (a postmaster: a `postgres` process whose parent is
    not one) whose PYTHONPATH names a directory inside `prefix` (an environment: its site-packages). A server this
    user may not read the environment of (another OS user's, for one not root) is not seen."""
    prefix = Path(prefix).resolve()
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if _comm(d.name) != "postgres":
                continue
            ppid = (d / "stat").read_text().rsplit(")", 1)[1].split()[1]
            try:
                if _comm(ppid) == "postgres":  # a backend or worker: its postmaster is the server
                    continue
            except OSError:
                pass
            environ = (d / "environ").read_bytes().split(b"\0")
            data_dir = os.readlink(d / "cwd")  # (a postmaster runs in its data directory)
        except (OSError, IndexError):
            continue
        for item in environ:
            if item.startswith(b"PYTHONPATH="):
                paths = item[len(b"PYTHONPATH="):].decode(errors="replace").split(os.pathsep)
                if any(p and _inside(Path(p), prefix) for p in paths):
                    found.append((int(d.name), data_dir))
                break
    return sorted(found)


def warning(pid: int, data_dir: str, prefix) -> str:
    return (f"pgscore setup: WARNING: the PostgreSQL server of {data_dir} (pid {pid}) imports {prefix}: each NEW "
            "session of it imports what is installed here at once, with no restart, while the sessions already open "
            "keep the libraries they imported (two versions in one server); restart it (not a reload) once this is "
            "done. To change a server's libraries at a restart instead, build a new environment beside this one and "
            "point the server's PYTHONPATH at it as it restarts (docs/operations.md, 'Upgrading')")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m pgscore.live_env ENVIRONMENT", file=sys.stderr)
        return 2
    for pid, data_dir in servers_importing(argv[0]):
        print(warning(pid, data_dir, argv[0]), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
