"""How often a backend repeats a WARNING that every statement would raise (a broken wiring's): pure, no plpy.

Session 68's trial T25: a wiring whose model was retired wrote a 3-line WARNING per INSERT into the server log
(10,000 single-row INSERTs a minute: ~30,000 lines, ~5.5 MB a minute), burying everything else. A backend now
says a wiring's failure once, then at most once an interval (the setting below, 60 s unless set), the next
WARNING counting the statements and profiles it did not say; the events are kept and queued as before.
"""

from __future__ import annotations

import datetime
import re
import time
from dataclasses import dataclass, field

SETTING = "pgscore.rescoring_warning_interval"
DEFAULT_SECONDS = 60.0
GD_KEY = "pgscore.rescoring.warned"  # GD: (wiring, its stamp, SQLSTATEs) -> Held

_UNITS = {"": 1.0, "ms": 0.001, "s": 1.0, "sec": 1.0, "min": 60.0, "h": 3600.0}
_DURATION = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|sec|min|h|)\s*", re.IGNORECASE)


def interval(value: str | None) -> tuple[float, str | None]:
    """The setting's value in seconds ('60s', '500ms', '1min', '0': every statement warns; a bare number is
    seconds), and a note where it is no duration (the default is used: a typo never fails an INSERT)."""
    if value is None or value.strip() == "":
        return DEFAULT_SECONDS, None
    m = _DURATION.fullmatch(value)
    if m is None:
        return DEFAULT_SECONDS, (f"{SETTING} {value!r} is no duration (say '60s', '500ms', '5min' or '0'): "
                                 f"{DEFAULT_SECONDS:g} s used")
    return float(m.group(1)) * _UNITS[m.group(2).lower()], None


@dataclass
class Held:
    """What one backend said of one failure, and what it held back since."""

    said_at: float  # time.monotonic() of the last WARNING
    said_wall: datetime.datetime  # the same, for the reader (UTC)
    statements: int = 0  # statements since then that failed so, not said
    profiles: int = 0  # the profiles they queued
    first: bool = field(default=True)  # (the first WARNING of it in this backend)


def say(state: dict, key, profiles: int, every: float, now: float | None = None,
        wall: datetime.datetime | None = None) -> Held | None:
    """Whether to WARN of a statement that queued `profiles` for failure `key`: None where it is held back
    (counted in `state`), else what was held since the last WARNING (statements 0 the first time), the
    state reset to this WARNING."""
    now = time.monotonic() if now is None else now
    wall = datetime.datetime.now(datetime.timezone.utc) if wall is None else wall
    held = state.get(key)
    if held is not None and every > 0 and now - held.said_at < every:
        held.statements += 1
        held.profiles += profiles
        return None
    state[key] = Held(now, wall, first=False)
    return held if held is not None else Held(now, wall)


def detail(held: Held, every: float, note: str | None = None) -> str:
    """The WARNING's DETAIL: what this backend held back since its last WARNING of it, and how often it says it."""
    how = (f"said at most once every {every:g} s per session and wiring ({SETTING}); the profiles are counted "
           "in pgscore.error_queue, pgscore health and pgscore.metrics()" if every > 0 else
           f"said at every statement ({SETTING} is 0)")
    if held.first:
        said = f"the first such WARNING of this session: {how}"
    elif held.statements:
        # (review r2) "failed so", not "queued": the count is this backend's Python state, which no ROLLBACK
        # undoes, so a statement counted may have rolled back since, its profiles queued nowhere
        said = (f"{held.statements} more statement(s) of this session failed so since its last such WARNING "
                f"({held.said_wall:%Y-%m-%d %H:%M:%S} UTC), not said, queuing {held.profiles} profile(s) unless "
                f"rolled back (pgscore.error_queue holds those committed): {how}")
    else:
        said = f"no statement of this session failed so since its last such WARNING: {how}"
    return f"{said}; {note}" if note else said
