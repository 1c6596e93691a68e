"""`python -m pgscore ...`: the `pgscore` command, as its console script runs it."""

import sys

from pgscore.console import console

sys.exit(console())
