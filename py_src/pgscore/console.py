"""The `pgscore` console script: pgscore score's SIGINTs and SIGTERMs counted from the first line of pgscore's own
that Python runs (this module, before pgscore.cli's imports, ~15-30 ms), then handed to cli's _Early."""

import signal
import sys

COUNTED = []  # the signals counted before cli's _Early took them over
PREVIOUS = None  # the handlers as they were (Python's), which _Early restores where the command is another


def _count(signum, frame):
    COUNTED.append(signum)


def console() -> int:
    """The console script's entry: counting starts here, before pgscore.cli's imports (not at this module's import,
    which changed no handler of a wrapper that imports it and calls pgscore.cli.main itself: session 67)."""
    global PREVIOUS
    if "score" in sys.argv[1:]:
        # (a SIGTERM in the import of pgscore.cli was Python's default: the process died of it, 143 in a shell,
        # where the run's own handling exits 75, "try again later"; session 67)
        PREVIOUS = {s: signal.signal(s, _count) for s in (signal.SIGINT, signal.SIGTERM)}
    from pgscore import cli

    return cli.console()
