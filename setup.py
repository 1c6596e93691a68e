"""Build configuration beside pyproject.toml (which holds all the project's metadata): setuptools builds in a
fresh temporary directory, never in the checkout's build/.

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
