"""Build configuration beside pyproject.toml (which holds all the project's metadata): setuptools builds a
wheel (`pip install /path/to/checkout`, `pip wheel`) in a fresh temporary directory, not in the checkout's build/.
A strict editable install (`pip install -e . --config-settings editable_mode=strict`) still writes its tree of
links to the checkout's build/__editable__.*, wherever build_base points; the default editable install (what
scripts/run makes) writes nothing there.

`pip install /path/to/checkout` (and `pip wheel`) builds in the source tree, and setuptools keeps its build/lib
from one build to the next: a module deleted since an earlier install stayed in it and was shipped again, and
a module whose file is older than the copy there (restored from a backup, `cp -p`, a tarball) was shipped as
that earlier copy. Each build here starts empty and is removed when it ends."""

import atexit
import shutil
import tempfile

from setuptools import setup

_BUILD = tempfile.mkdtemp(prefix="pgscore-build-")
atexit.register(shutil.rmtree, _BUILD, True)

setup(options={"build": {"build_base": _BUILD}})
