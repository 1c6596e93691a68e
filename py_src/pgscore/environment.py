"""What the running Python environment holds, checked against pgscore's pins."""

from __future__ import annotations

import importlib
import platform
import re
import sys
from importlib import metadata
from pathlib import Path

from pgscore.errors import EnvironmentMismatch

# distribution name -> import name, for the stack that artifacts depend on
STACK = {"scikit-learn": "sklearn", "numpy": "numpy", "scipy": "scipy", "joblib": "joblib",
         "threadpoolctl": "threadpoolctl"}
_FIX = ("rebuild the environment the server imports with the server's own Python and pgscore's pins "
        "(/usr/bin/python3 -m venv /opt/pgscore/venv && /opt/pgscore/venv/bin/pip install /path/to/pgscore, a "
        "checkout or a wheel; the embedded cluster's is the checkout's .venv, which scripts/run builds: after a pip "
        "install in it, rm .venv/.pgscore-stamp and any scripts/run command installs the pins again) and restart "
        "the server (not a reload) with PYTHONPATH naming its site-packages directory "
        "(docs/operations.md, 'Installing into an existing server')")


def missing_library(e: ImportError) -> EnvironmentMismatch | None:
    """The EnvironmentMismatch (58P01, with the fix) for an ImportError of a library of the stack: the
    environment the server imports was moved, deleted or rebuilt without it. None for another module's (a
    class of a user's own in a pickle, say: its caller says what that is)."""
    top = (getattr(e, "name", None) or "").split(".")[0]
    if top not in STACK.values():
        return None
    import sys

    dist = next(d for d, m in STACK.items() if m == top)
    return EnvironmentMismatch(
        f"the database's Python ({platform.python_version()}) cannot import {dist} ({e}): a model that "
        f"{'scikit-learn' if top in ('sklearn', 'joblib', 'scipy') else 'numpy'} scores cannot be loaded or scored",
        detail=f"sys.path = {sys.path}", hint=_FIX + "; then SELECT * FROM pgscore.retry_failed() rescores the "
        "profiles rescoring queued meanwhile")


def pinned_versions() -> dict[str, str]:
    """The exact versions pyproject.toml pins for the scientific stack."""
    pins = {}
    try:
        reqs = metadata.requires("pgscore") or []
    except metadata.PackageNotFoundError:
        return pins
    for req in reqs:
        m = re.match(r"^([A-Za-z0-9_.-]+)\s*==\s*([^;\s]+)\s*$", req)
        if m and m.group(1).lower() in STACK:
            pins[m.group(1).lower()] = m.group(2)
    return pins


def library_versions() -> dict[str, str | None]:
    """Installed versions of the stack, None where a library cannot be imported."""
    out = {}
    for dist, mod in STACK.items():
        try:
            out[dist] = importlib.import_module(mod).__version__
        except Exception:  # noqa: BLE001 - any import failure means "not usable"
            out[dist] = None
    return out


def off_pins(names=None) -> dict[str, tuple[str | None, str]]:
    """{library: (version imported, version pinned)} for each of `names` (in that order; default: every pinned
    library of the stack) whose version here is not pgscore's pin; one that cannot be imported counts (None)."""
    pins, have = pinned_versions(), library_versions()
    return {d: (have.get(d), pins[d]) for d in (pins if names is None else names)
            if d in pins and have.get(d) != pins[d]}


def schema_head() -> str | None:
    """The last schema revision this pgscore ships (revisions are numbered 0001, 0002...): the one whose SQL
    functions its code serves, and so which release's code a server runs. Read from the files, not alembic,
    which a backend need not load. None where no revision is found beside the code."""
    import pgscore

    try:
        import pgscore.migrations

        where = Path(pgscore.migrations.__file__).parent
    except ImportError:  # a checkout's py_src on a server's PYTHONPATH: the editable install's mapping is not read
        where = Path(pgscore.__file__).resolve().parents[2] / "migrations"
    revisions = sorted(p.name[:4] for p in where.glob("versions/[0-9][0-9][0-9][0-9]_*.py"))
    return revisions[-1] if revisions else None


def report(check: bool = True) -> dict:
    """Versions seen by this interpreter; with check, raise when a library is missing or off-pin."""
    import pgscore

    libs = library_versions()
    pins = pinned_versions()
    info = {
        "python": platform.python_version(),
        "python_prefix": sys.prefix,
        "pgscore": pgscore.__version__,
        "pgscore_path": pgscore.__file__.rsplit("/", 2)[0],
        **{k.replace("-", "_"): v for k, v in libs.items()},
        "pins": pins,
        "head": schema_head(),
    }
    try:
        from threadpoolctl import threadpool_info

        info["native_threads"] = sorted({p.get("num_threads") for p in threadpool_info()} - {None})
    except Exception:  # noqa: BLE001
        info["native_threads"] = []
    if check:
        missing = [d for d, v in libs.items() if v is None]
        if missing:
            raise EnvironmentMismatch(
                f"the database's Python ({info['python']}) cannot import {', '.join(missing)}",
                detail=f"sys.path = {sys.path}",
                hint=_FIX,
            )
        off = [f"{d} {have} (pinned {p})" for d, (have, p) in off_pins().items()]
        if off:
            raise EnvironmentMismatch(
                f"the database's Python imports {', '.join(off)}",
                detail="models are only safe to load under the library versions that wrote them",
                hint=_FIX,
            )
    return info
