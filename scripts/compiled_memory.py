"""What a compiled tree model holds: its arrays by name and dtype, as stored (zlib) and as loaded, the
evaluator's footprint (what pgscore.model_cache counts) and a fresh process's RSS growth (and of it
anonymous memory) loading it and scoring 50 rows and a chunk, for the benchmark's models (pgscore bench's
forest and hgb) and a deep forest.

    .venv/bin/python scripts/compiled_memory.py [--deep]

--deep adds a forest of 100 trees with min_samples_leaf=2 (~1.5M nodes, ~80 MB loaded; ~15 s to fit).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

CHILD = """
import sys, numpy as np
from pgscore.compiled import Evaluator
def mem():  # (resident, of it anonymous: numpy's code pages a first call touches are files', shared)
    kib = {l.split(':')[0]: int(l.split()[1]) for l in open('/proc/self/status') if l.startswith(('VmRSS', 'RssAnon'))}
    return kib['VmRSS'], kib['RssAnon']
data, X = open(sys.argv[1], 'rb').read(), np.load(sys.argv[2])
m0 = mem()
ev = Evaluator.from_bytes(data)
for x in X[:50].tolist():
    ev.score_row(x)
m1 = mem()
ev.score(X)
m2 = mem()
print('  RSS growth (anonymous): loading and 50 rows {:,} ({:,}) KiB, and a chunk of {:,} rows {:,} ({:,}) KiB'.format(
      m1[0] - m0[0], m1[1] - m0[1], len(X), m2[0] - m0[0], m2[1] - m0[1]))
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--deep", action="store_true", help="also a forest of 100 trees with min_samples_leaf=2")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    from sklearn.ensemble import RandomForestClassifier

    from pgscore.bench import _models
    from pgscore.compiled import Evaluator, compile_estimator
    from pgscore.serving import footprint

    X, y, _, models = _models(False, ("hgb", "forest"))
    X = np.asarray(X, np.float64)
    if args.deep:
        models["deep forest"] = RandomForestClassifier(100, min_samples_leaf=2, random_state=0, n_jobs=2).fit(X, y)
    with tempfile.TemporaryDirectory() as tmp:
        np.save(f"{tmp}/X.npy", X[:2000])
        for name, est in models.items():
            data = compile_estimator(est, "binary", X.shape[1]).to_bytes()
            ev = Evaluator.from_bytes(data)
            print(f"{name}: {len(ev.arrays['left']):,} nodes, stored {len(data):,} bytes (zlib), "
                  f"footprint loaded {footprint(ev):,} bytes")
            for k in ev.arrays:
                a = ev.arrays[k]
                if a.nbytes >= 4096:
                    print(f"  {k:8} {a.dtype.str:4} {str(a.shape):14} {a.nbytes:>12,}")
            with open(f"{tmp}/m.bin", "wb") as f:
                f.write(data)
            subprocess.run([sys.executable, "-c", CHILD, f"{tmp}/m.bin", f"{tmp}/X.npy"], check=True)


if __name__ == "__main__":
    main()
