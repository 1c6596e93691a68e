"""numpy, imported inside the server when first used rather than when pgscore's modules are.

A new backend's first score pays for every import on its way, and numpy's alone is ~80-130 ms here.
The row path of a linear model scores in Python floats and rescoring scores it in SQL, so neither
needs numpy: in PL/Python (where `plpy` is loaded) `from pgscore.lazy import np` gives a module whose
first attribute access imports numpy (importlib.util.LazyLoader), so a session that scores only those
never imports it. `import numpy` elsewhere in the backend (a user's own PL/Python function) loads it
as usual. Outside the server numpy is imported at once: LazyLoader is not thread-safe before Python
3.12, and nothing there gains from the wait.
"""

from __future__ import annotations

import importlib.util
import sys


def _lazy(name: str):
    module = sys.modules.get(name)
    if module is not None:
        return module
    spec = importlib.util.find_spec(name)
    if spec is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


if "plpy" in sys.modules:
    np = _lazy("numpy")
else:
    import numpy as np  # noqa: F401
