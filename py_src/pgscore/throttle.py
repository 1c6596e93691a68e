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
    profiles: int = 0  # the profiles they queued (of a NULL key's WARNING: the events)
    first: bool = field(default=True)  # (the first WARNING of it in this backend)
    every: float = DEFAULT_SECONDS  # the interval when it was last said (due() reads no setting)


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
    state[key] = Held(now, wall, first=False, every=every)
    return held if held is not None else Held(now, wall, every=every)


def due(state: dict | None, wiring_id, now: float | None = None,
        wall: datetime.datetime | None = None) -> list:
    """(session 70, h4) The counts held back of a wiring's failures that no WARNING said yet, an interval or more
    after their last WARNING, each [(key, Held)] reset as if said now: asked at the end of each of the wiring's
    statements, so that where the failures stop, the last count is said at its first statement an interval
    after the last WARNING (say() said it where that statement failed so too). Pure dict work, no setting read:
    the interval is the one of the last WARNING. A backend that never inserts into the wiring again (it ended,
    or its client moved on) never says it: pgscore.error_queue holds what committed."""
    if not state:
        return []
    now = time.monotonic() if now is None else now
    out = []
    for key, held in state.items():
        if key[0] == wiring_id and held.statements and now - held.said_at >= held.every:
            out.append((key, held))
    if out:
        wall = datetime.datetime.now(datetime.timezone.utc) if wall is None else wall
        for key, held in out:
            state[key] = Held(now, wall, first=False, every=held.every)
    return out


NULL_KEY = "null key"  # the third part of the key of a wiring's WARNING of events with a NULL key


def since(held: Held) -> str:
    return f"since its last such WARNING ({held.said_wall:%Y-%m-%d %H:%M:%S} UTC)"


def stopped(held: Held, key, profiles: str, events: str, event_key: str) -> str:
    """The WARNING that says a count due() found: what failed so, not said, since the last WARNING of it."""
    if key[2] == NULL_KEY:
        return (f"pgscore: {held.statements} more statement(s) of this session inserted {held.profiles} event(s) "
                f"with a NULL {event_key} into {events} {since(held)}, not said; they were kept unless rolled back "
                f"and rescored no profile; this session's statements since have none")
    return (f"pgscore: {held.statements} more statement(s) of this session could not rescore profiles of {profiles} "
            f"for {events} so (SQLSTATE {', '.join(s or '?' for s in key[2])}) {since(held)}, not said, queuing "
            f"{held.profiles} profile(s) unless rolled back (pgscore.error_queue holds those committed); this "
            "session's statements since do not fail so")


def detail(held: Held, every: float, note: str | None = None, event_key: str | None = None) -> str:
    """The WARNING's DETAIL: what this backend held back since its last WARNING of it, and how often it says it;
    `event_key` (quoted): of a NULL key's WARNING, where the events are counted nowhere else."""
    where = ("the profiles are counted in pgscore.error_queue, pgscore health and pgscore.metrics()"
             if event_key is None else f"the events are in the event table, WHERE {event_key} IS NULL")
    how = (f"said at most once every {every:g} s per session and wiring ({SETTING}); {where}" if every > 0 else
           f"said at every statement ({SETTING} is 0)")
    if held.first:
        said = f"the first such WARNING of this session: {how}"
    elif held.statements and event_key is not None:
        said = (f"{held.statements} more statement(s) of this session inserted {held.profiles} event(s) with a NULL "
                f"{event_key} {since(held)}, not said, kept unless rolled back: {how}")
    elif held.statements:
        # (review r2) "failed so", not "queued": the count is this backend's Python state, which no ROLLBACK
        # undoes, so a statement counted may have rolled back since, its profiles queued nowhere
        said = (f"{held.statements} more statement(s) of this session failed so {since(held)}, not said, queuing "
                f"{held.profiles} profile(s) unless rolled back (pgscore.error_queue holds those committed): {how}")
    else:
        said = (f"no statement of this session {'inserted such events' if event_key else 'failed so'} since its last "
                f"such WARNING: {how}")
    return f"{said}; {note}" if note else said
