"""Model artifacts: joblib bytes, their sha256, an optional HMAC-SHA256 signature, checked before unpickling."""

from __future__ import annotations

import hashlib
import hmac
import io
import platform

from pgscore.errors import ArtifactError, InvalidModel, PgscoreError, SignatureError, VersionMismatch

# the libraries whose versions must match between writer and reader
CHECKED = ("scikit-learn", "numpy")


def writer_env() -> dict[str, str]:
    """Versions of the environment serialising an artifact."""
    import joblib
    import numpy
    import scipy
    import sklearn

    return {"python": platform.python_version(), "scikit-learn": sklearn.__version__,
            "numpy": numpy.__version__, "scipy": scipy.__version__, "joblib": joblib.__version__}


def dumps(estimator) -> bytes:
    """The estimator as joblib.dump(estimator, f, compress=0) writes it, the same bytes for the same estimator
    whichever process writes them (_CanonicalPickler): the sha256 of a file deployed again is the same, and says
    that it is the same artifact."""
    import pickle

    buf = io.BytesIO()
    try:
        _canonical_pickler()(buf).dump(estimator)
    except (pickle.PicklingError, AttributeError, TypeError) as e:  # a lambda, a function defined in a function
        if "pickle" not in str(e):  # (session 67: a bare PicklingError, no hint)
            raise
        import re

        hint = ("Python pickles a function by its module and name, so a lambda or a function defined inside another "
                "has none: give FunctionTransformer a numpy function (FunctionTransformer(np.log1p)), or a def in a "
                "module of its own installed where you deploy and into the environment the database server imports "
                "pgscore from")
        # a class or function defined again after the model was made of it (review r6: its module reloaded, as
        # IPython's %autoreload does, was told the lambda's hint); one of __main__ is refused as such
        held = re.match(r"cannot pickle '([^']+)' object", str(e))
        if held is not None:  # (review r6: a lock, a connection, a generator were given the lambda's hint)
            hint = (f"the model holds a {held.group(1)} object, something of the running Python (a lock, a database "
                    "connection, an open file, a generator), not data: no pickle holds one; set the attribute or "
                    "parameter that holds it (a callback's, a cached handle's) to None, or leave it out, and deploy "
                    "again")
        again = re.search(r"it's not the same object as ([\w.]+)$", str(e))
        if again is not None:
            module, _, name = again.group(1).rpartition(".")
            hint = (not_importable("", name, module).hint if module == "__main__" else
                    f"{again.group(1)} was defined again after the model was made of it (its module reloaded: "
                    "importlib.reload, or IPython's %autoreload after an edit): fit the model again (in a new kernel "
                    f"that imports {module}), then deploy it")
        raise InvalidModel(f"{type(estimator).__name__} cannot be pickled, as deploy stores it: {e}", hint=hint) from e
    return buf.getvalue()


def _canonical_pickler():
    """joblib's NumpyPickler (what joblib.dump uses; joblib.load reads what it writes) without the two things
    that made the same estimator serialise to other bytes in another process, or in the same one later:

    - a str was written once and then referred to (pickle's memo) where two references were the same object,
      and that depends on the process, not on the estimator: unpickling interns attribute names, so whether
      two estimators' `n_features_in_` were one object depended on what the process had loaded before
      (a Pipeline deployed alone, and after another model: 1,473 bytes both, 101 of them different). Here a
      str is referred to wherever an equal one was written before, by value (a str's identity means nothing
      to what reads it, and the bytes are fewer);
    - a structured array's padding (bytes no field covers) is written as the memory holds it, and
      scikit-learn's trees (sklearn.tree._tree.Tree, the nodes of every tree of a forest or boosting model:
      64 bytes a node, 7 of them padding after `missing_go_to_left`) hold whatever the allocator left there
      after unpickling: the same file loaded in three processes gave three sha256s. Padding is written as
      zeros here, on a copy (the estimator is not changed); the fields are written as they are;
    - a set (or frozenset) was written in its iteration order, which for str is their hash order and changes
      with PYTHONHASHSEED (a FunctionTransformer's kw_args holding a set of column names: three processes,
      three sha256s), and for numbers depends on how the set was built. A set whose elements are all str, or
      all real numbers (numbers.Real: int, float, bool, numpy's), is written sorted here (others as before);
    - a numpy dtype was referred to (pickle's memo) where it was the same object as one written before, and
      whether equal dtypes are one object depends on the process: a forest fitted here and the same forest
      loaded from a file (each tree's node array its own dtype object, or one) gave 9,289 and 9,353 bytes.
      A dtype is referred to here wherever one that pickles to the same bytes was written before.
    """
    import pickle

    import numpy as np
    from joblib.numpy_pickle import NumpyPickler

    class _CanonicalPickler(NumpyPickler):
        dispatch = NumpyPickler.dispatch.copy()
        dispatch[set] = lambda self, obj: self.save_sorted_set(obj)
        dispatch[frozenset] = lambda self, obj: self.save_sorted_set(obj)

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.strs = {}  # a str written: its memo key, by value
            self.dtypes = {}  # a dtype written: its memo key, by its pickle's bytes

        def memoize(self, obj):
            if type(obj) is str and not self.fast:
                self.strs.setdefault(obj, len(self.memo))
            super().memoize(obj)

        def save_sorted_set(self, obj):
            order = _sorted_elements(obj)
            if order is None:  # (mixed or other elements: as pickle writes them)
                return NumpyPickler.dispatch[type(obj)](self, obj)
            if self.proto < 4:
                return self.save_reduce(type(obj), (order,), obj=obj)
            if type(obj) is frozenset:  # (pickle's save_frozenset, in this order)
                self.write(pickle.MARK)
                for item in order:
                    self.save(item)
                if id(obj) in self.memo:  # (recursive: what is on the stack is thrown away)
                    self.write(pickle.POP_MARK + self.get(self.memo[id(obj)][0]))
                    return None
                self.write(pickle.FROZENSET)
                self.memoize(obj)
                return None
            self.write(pickle.EMPTY_SET)  # (pickle's save_set, in this order)
            self.memoize(obj)
            for at in range(0, len(order), self._BATCHSIZE):
                self.write(pickle.MARK)
                for item in order[at:at + self._BATCHSIZE]:
                    self.save(item)
                self.write(pickle.ADDITEMS)
            return None

        def save(self, obj, *args, **kwargs):
            if type(obj) is str and obj in self.strs:
                self.write(self.get(self.strs[obj]))  # (where the same value was written first)
                return None
            if isinstance(obj, np.dtype) and not self.fast and id(obj) not in self.memo:
                key = pickle.dumps(obj, protocol=self.proto)
                if key in self.dtypes:
                    self.write(self.get(self.dtypes[key]))  # (where an equal dtype was written first)
                    return None
                super().save(obj, *args, **kwargs)
                if id(obj) in self.memo:
                    self.dtypes[key] = self.memo[id(obj)][0]
                return None
            if type(obj) in (np.ndarray, np.matrix, np.memmap) and obj.dtype.names is not None \
                    and not obj.dtype.hasobject and obj.size:
                pad = _padding(obj.dtype)
                if pad.any():
                    obj = np.array(np.asarray(obj) if type(obj) is np.memmap else obj, order="C", subok=True)
                    np.asarray(obj).reshape(-1).view(np.uint8).reshape(obj.size, obj.dtype.itemsize)[:, pad] = 0
            return super().save(obj, *args, **kwargs)

    return _CanonicalPickler


def _sorted_elements(elements) -> list | None:
    """The elements of a set sorted, where they are all str or all real numbers (numbers.Real, numpy's too);
    else None. NaNs go last (they compare with nothing)."""
    import math
    import numbers

    items = list(elements)
    if all(type(x) is str for x in items):
        return sorted(items)
    if all(isinstance(x, numbers.Real) for x in items):
        try:
            return sorted(items, key=lambda x: (math.isnan(x), 0.0 if math.isnan(x) else x))
        except (TypeError, ValueError, OverflowError):  # (a Real that will not be read as a float)
            return None
    return None


def _padding(dtype):
    """A boolean per byte of one item of the structured `dtype`: True where no field (of a nested structure or
    a subarray's element, at any depth) covers it."""
    import numpy as np

    used = np.zeros(dtype.itemsize, dtype=bool)

    def cover(dt, at):
        if dt.names is not None:
            for name in dt.names:
                field, offset = dt.fields[name][:2]
                cover(field, at + offset)
        elif dt.subdtype is not None and dt.subdtype[0].names is not None:
            base, shape = dt.subdtype
            for i in range(int(np.prod(shape))):
                cover(base, at + i * base.itemsize)
        else:
            used[at:at + dt.itemsize] = True

    cover(dtype, 0)
    return ~used


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# A signature binds the bytes (through their sha256, which verify checks against the bytes) to the model's name
# and version and to what they are (the joblib artifact or the compiled evaluator): "v2:" and the HMAC-SHA256 of
# SCHEME's message. The first scheme, the HMAC of the bytes alone, 64 hex digits with no prefix,
# verified for any row holding those bytes: a signed version copied into another model or version (its bytes,
# sha256 and signature; whoever can write pgscore.models, or a restored dump) verified there too. Such signatures
# still verify, the old way, until pgscore.resign_models() signs them again under this scheme.
SCHEME = "v2"
KINDS = ("artifact", "evaluator")


def sign(key: bytes, kind: str, name: str, version: int, sha: str) -> str:
    """The signature of `kind`'s bytes (of sha256 `sha`) as version `version` of model `name`."""
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r} is not one of {KINDS}")
    message = "\0".join(("pgscore-signature-" + SCHEME, kind, name, str(int(version)), sha)).encode()
    return f"{SCHEME}:{hmac.new(key, message, hashlib.sha256).hexdigest()}"


def sign_v1(data: bytes, key: bytes) -> str:
    """The first scheme's signature: the HMAC of the bytes alone (verified for old rows; never written now)."""
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def old_scheme(signature: str | None) -> bool:
    """Whether a stored signature is of the first scheme (bytes only), which pgscore.resign_models replaces."""
    return bool(signature) and not signature.startswith(SCHEME + ":")


def refuse_unbound(value: str | None) -> bool:
    """The setting pgscore.unbound_signatures: 'accept' (unset or '': the default; a signature of the first
    scheme, the bytes alone, verifies the old way) or 'refuse' (loading refuses it)."""
    v = (value or "").strip().lower()
    if v in ("", "accept"):
        return False
    if v == "refuse":
        return True
    raise PgscoreError(f"invalid value for pgscore.unbound_signatures: {value!r}", sqlstate="22023",
                       hint="'accept' (the default: signatures of the first scheme, the bytes alone, verify the old "
                            "way) or 'refuse' (loading refuses them; after pgscore resign), e.g. "
                            "ALTER SYSTEM SET pgscore.unbound_signatures = 'refuse'")


def unbound_refused(model: str) -> SignatureError:
    """The refusal of a signature of the first scheme under pgscore.unbound_signatures = 'refuse'."""
    return SignatureError(f"model {model}: its signature is of the first scheme, the bytes alone, not bound to its "
                          "model and version, and this server refuses those (pgscore.unbound_signatures is "
                          "'refuse')", detail="a signed version's rows copied into another model or version verify "
                          "there under the first scheme; it will not be unpickled",
                          hint="sign it again bound to its model and version with pgscore resign "
                               "(pgscore.resign_models()), which does so once its signature verifies with the "
                               "server's key; or deploy the version again")


def read_key(path: str) -> bytes:
    """The signing key: a file of at least 32 bytes (surrounding whitespace ignored)."""
    try:
        with open(path, "rb") as f:
            key = f.read().strip()
    except OSError as e:
        raise SignatureError(f"cannot read the signing key file {path}: {e.strerror}",
                             hint="PGSCORE_SIGNING_KEY_FILE in the server's environment must name a file its OS user can read") from e
    if len(key) < 32:
        raise SignatureError(f"the signing key in {path} is too short ({len(key)} bytes; at least 32)")
    return key


def check_env(model: str, env: dict, allow_mismatch: bool = False) -> list[str]:
    """Raise VersionMismatch when the writer's scikit-learn/numpy differ from ours; with allow, return warnings."""
    here = writer_env()
    diffs = [f"{lib} {env.get(lib)} (this server has {here[lib]})"
             for lib in CHECKED if env.get(lib) != here[lib]]
    if diffs and not allow_mismatch:
        from pgscore.environment import off_pins

        off = [f"{lib} {have} where pgscore pins {p}" for lib, (have, p) in off_pins(CHECKED).items()]
        if off:  # the server is what changed (a pip install -U in its environment, say): not the model
            hint = (f"this server imports {', '.join(off)} (pgscore env): put the pinned versions back into the "
                    "environment it imports and restart it (not a reload), which loads every model deployed under "
                    "the pins again; to move to other versions, install a pgscore release that pins them and "
                    "deploy again from it each version scikit-learn scores (docs/sql.md, 'Upgrading scikit-learn, "
                    "numpy or Python'); or SET pgscore.allow_version_mismatch = on to load it anyway at your own "
                    "risk")
        else:
            hint = ("fit it again in an environment with pgscore's pins (the server's versions) and deploy it, or "
                    "make a version deployed under them live (pgscore rollback); or SET "
                    "pgscore.allow_version_mismatch = on to load it anyway at your own risk")
        raise VersionMismatch(
            f"model {model} was written with {', '.join(diffs)}",
            detail="a pickle is only safe to load under the library versions that wrote it",
            hint=hint,
        )
    return diffs


def verify(model: str, data: bytes, expected_sha256: str, signature: str | None, key: bytes | None,
           bound: tuple[str, str, int] | None = None, accept_unbound: bool = True) -> None:
    """Integrity (sha256) always; authenticity (HMAC) when a key is configured, of the bytes as `bound`'s (kind,
    model name, version): a signature of the first scheme, of the bytes alone, the old way, or, without
    accept_unbound (pgscore.unbound_signatures = 'refuse'), refused. Never unpickles."""
    if not data:
        raise ArtifactError(f"model {model} has an empty artifact")
    actual = sha256(data)
    if actual != expected_sha256:
        raise ArtifactError(f"model {model}: artifact sha256 {actual[:12]}... does not match the recorded "
                            f"{(expected_sha256 or '')[:12]}...",
                            detail="the bytes were changed or truncated after deployment")
    if key is None and signature:  # fail closed: a server restarted without its key does not drop to unverified
        raise SignatureError(f"model {model} is signed, and the server has no signing key: it will not be loaded "
                             "unverified", hint="start the server with PGSCORE_SIGNING_KEY_FILE naming the key it "
                             "was signed with (to turn signing off, deploy the models again without a key)")
    if key is not None:
        if not signature:
            raise SignatureError(f"model {model} is not signed and signing is on",
                                 hint="deploy it again with the pgscore command (pgscore deploy) or pgscore.registry.deploy in Python, "
                                 "which have the server sign it; or an alembic revision that calls deploy_model")
        if old_scheme(signature) and not accept_unbound:
            raise unbound_refused(model)
        if old_scheme(signature):
            expected = sign_v1(data, key)
        elif bound is None:
            raise SignatureError(f"model {model}: the signature binds the artifact to its model and version, and "
                                 "none was given to check it against")
        else:
            expected = sign(key, *bound, expected_sha256)
        if not hmac.compare_digest(expected, signature):
            detail = "it was not deployed through pgscore with this key; it will not be unpickled"
            if bound is not None and not old_scheme(signature):
                detail = (f"it was not deployed through pgscore with this key as {bound[0]} of version {bound[2]} of "
                          f"model {bound[1]} (a signed version's rows copied into another model or version do not "
                          "verify there); it will not be unpickled")
            raise SignatureError(f"model {model}: the artifact's signature does not verify with the server's key",
                                 detail=detail)


def loads(model: str, data: bytes):
    """Unpickle verified bytes; any failure is an ArtifactError naming the model (a VersionMismatch naming both
    versions where another scikit-learn wrote a pickle this one cannot load). Warnings are shown as they come."""
    return _loads(model, data, show_version_warning=True)[0]


def loads_file(model: str, data: bytes, allow_mismatch: bool = False):
    """loads() for a file given to deploy, which is stored serialised again, under this environment's versions,
    where the server's check of the writer's versions could no longer see them: a pickle whose estimators
    scikit-learn wrote under another version (its InconsistentVersionWarning, not shown) is refused with
    VersionMismatch unless allow_mismatch. Returns the estimator and that version (None for this one's)."""
    estimator, written = _loads(model, data, show_version_warning=False, file=True)
    if written is not None and not allow_mismatch:
        raise _cross_version(model, written)
    return estimator, written


def _loads(model, data, show_version_warning, file=False):
    """(estimator, the scikit-learn version its InconsistentVersionWarning names, else None), the warnings
    recorded meanwhile shown after (scikit-learn's own about versions only with show_version_warning). With
    `file`, `model` is the path of a file given to deploy, and the errors name it as such."""
    import warnings

    import joblib

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            estimator = _load(model, data, joblib, file)
        except ArtifactError as e:
            written = _written_with(seen)
            if written is None:
                raise
            raise _cross_version(model, written, cause=str(e.message)) from e
    for w in seen:  # as they would have been shown
        if show_version_warning or w.category.__name__ != "InconsistentVersionWarning":
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return estimator, _written_with(seen)


def _written_with(seen) -> str | None:
    """The scikit-learn version scikit-learn's InconsistentVersionWarning says a pickle's estimators were
    written with (the first one's), or None where it gave none."""
    for w in seen:
        if w.category.__name__ == "InconsistentVersionWarning":
            return str(getattr(w.message, "original_sklearn_version", None) or "another version")
    return None


def _cross_version(model, written, cause=None) -> VersionMismatch:
    import sklearn

    return VersionMismatch(
        f"{model} was written with scikit-learn {written}, and this Python has {sklearn.__version__}"
        + (f" (it cannot be loaded here: {cause})" if cause else ""),
        detail="scikit-learn does not support loading a model pickled under another of its versions: it may load "
               "and score differently, and deploy would store it as written with these versions",
        hint=f"fit the estimator again in this environment (the versions pgscore pins: pgscore env) and deploy "
             f"that; or deploy the file from an environment with scikit-learn {written}, to a server that imports "
             "the same (docs/sql.md, 'Upgrading scikit-learn, numpy or Python')"
             + ("" if cause else "; " + ALLOW_MISMATCH_HINT))


# how the hint of a VersionMismatch of a file says to deploy it anyway (alembic_ops says it in a revision's terms)
ALLOW_MISMATCH_HINT = "pgscore deploy --allow-version-mismatch deploys it anyway, at your own risk"


def _load(model: str, data: bytes, joblib, file=False):
    if file and not data:
        raise ArtifactError(f"{model} is empty: it is not a joblib or pickle file of an estimator", hint=_WRITE_IT)
    try:
        return joblib.load(io.BytesIO(data))
    except ModuleNotFoundError as e:  # a class of the user's own, or of another version of a library
        import importlib.util
        import sys

        if not data.startswith(_WRITTEN_BY_JOBLIB) and not all(p.isidentifier() for p in (e.name or "").split(".")):
            # text read as an old pickle's opcodes (a CSV whose header begins with "c" names a "module")
            raise _not_loadable(model, data, e, file) from e
        top = (e.name or "").split(".")[0]
        if top and top != e.name and importlib.util.find_spec(top) is not None:
            from importlib.metadata import PackageNotFoundError, version

            try:
                have = f" {version(top)}"
            except (PackageNotFoundError, ValueError):
                have = ""
            raise ArtifactError(f"model {model}: the artifact cannot be loaded here: it needs {e.name!r}, which "
                                f"{top}{have} in this Python ({sys.executable}) lacks: it was written by another "
                                f"version of {top}", hint="write it again with the versions pgscore pins (the "
                                "environment `pgscore env` reports)") from e
        raise ArtifactError(f"model {model}: the artifact cannot be loaded here: it needs the module {e.name!r}, "
                            f"which this Python ({sys.executable}) cannot import",
                            hint=f"a class of your own must be importable wherever the model is loaded: by the "
                                 "Python that deploys it and by the environment the database server imports "
                                 f"pgscore from; install the package that defines {e.name!r} into both, or build "
                                 "the model from scikit-learn's classes alone") from e
    except AttributeError as e:  # a class or function the module named no longer (or never, here) defines
        where = _missing_attribute(e)
        # (a pickle of protocol 0 or 1, Python 2's, begins as text does: one naming a Python name of a module is
        # one, review r6: `it is not a pickle` was said of one of a class of __main__)
        if where is None or not data.startswith(_WRITTEN_BY_JOBLIB) and not all(
                p.isidentifier() for p in [*where[0].split("."), *where[1].split(".")]):
            raise _not_loadable(model, data, e, file) from e
        raise not_importable(model, *where) from e
    except Exception as e:  # noqa: BLE001 - corrupt pickles raise anything
        raise _not_loadable(model, data, e, file) from e


def _missing_attribute(e) -> tuple[str, str] | None:
    """(name, module) of pickle's `Can't get attribute 'Clip' on <module '__main__' ...>` (or `module 'm' has no
    attribute 'X'`), else None."""
    import re
    import sys

    found = re.match(r"Can't get attribute '([^']+)' on <module '([^']+)'", str(e))
    if not found:  # (a module's own __getattr__, scikit-learn's lazy imports)
        found = re.match(r"module '([^']+)' has no attribute '([^']+)'$", str(e))
        return (found.group(2), found.group(1)) if found else None
    main = getattr(getattr(sys.modules.get("__main__"), "__spec__", None), "name", None)
    # (`python -m pgscore.cli`'s __main__ is shown by its spec's name)
    return found.group(1), "__main__" if found.group(2) == main else found.group(2)


def not_importable(model, name, module, lead="the artifact cannot be loaded here", cls=None) -> ArtifactError:
    """The refusal of a model that needs `name` of `module`, which the Python loading it lacks: above all one
    defined in the script or notebook that pickled it (`__main__`), which no other Python can import (session 67:
    `pgscore deploy` called such a file `cut short or damaged`, and the server's refusal said to write it with
    joblib.dump, as the user had). `lead` says what failed, `cls` the error's class (ArtifactError)."""
    import sys

    if module == "__main__":
        return (cls or ArtifactError)(
            f"model {model}: {lead}: it needs {name!r}, which the script or notebook that "
            "pickled it defines (its module __main__): Python pickles a class or function by its module and name, "
            "and no other Python, the database server's included, can import that script's",
            hint=f"move {name} into a module of its own (a .py file or package), import it from there, fit and dump "
                 "the model again, and install that module where you deploy and into the environment the database "
                 "server imports pgscore from; or build the model from scikit-learn's classes alone (a numpy "
                 "function such as FunctionTransformer(np.log1p) pickles by its numpy name)")
    return ArtifactError(f"model {model}: the artifact cannot be loaded here: it needs {name!r} of the module "
                         f"{module!r}, which {module} in this Python ({sys.executable or 'the server'}) lacks: it "
                         f"was written with another version of {module.split('.')[0]}",
                         hint="install the version that wrote it where you deploy and into the environment the "
                              "database server imports pgscore from, or write the model again with the versions "
                              "found there (the environment `pgscore env` reports)")


def main_references(estimator, blob: bytes) -> list[str]:
    """The names of classes and functions of `__main__` (the script or notebook that pickled them) that
    `estimator`, serialised as `blob` (dumps), refers to, in order, once each: no other Python can import them."""
    if b"__main__" not in blob:  # (the scan below only where the name occurs: a big forest is 300 MB)
        return []
    import pickletools

    # protocol 2 names each class or function in one GLOBAL opcode, "module name" (joblib's own stream holds its
    # arrays' raw bytes between the opcodes, which a scan of opcodes cannot read past)
    try:
        plain = io.BytesIO()
        _main_scan()(plain, protocol=2).dump(estimator)
        plain = plain.getvalue()
    except Exception:  # noqa: BLE001 - what protocol 2 cannot write is left to the server's load to judge
        return []
    found = []
    for op, arg, _ in pickletools.genops(plain):
        if op.name in ("GLOBAL", "INST"):
            module, _, name = str(arg).partition(" ")
            if module == "__main__" and name not in found:
                found.append(name)
    return found


def _main_scan():
    import pickle

    import numpy as np

    class _MainScan(pickle.Pickler):
        """main_references' pickler: an array of numbers names no class, and is written as a reference to nothing
        (review r6: protocol 2 writes an array's bytes as text, and a 170 MB forest holding a class of __main__ took
        4.7 s and 740 MB more to be refused); an array of objects is written, and what it holds scanned."""

        def persistent_id(self, obj):
            return 0 if type(obj) is np.ndarray and not obj.dtype.hasobject else None

    return _MainScan


_WRITE_IT = "write it with joblib.dump(estimator, path) from a fitted scikit-learn estimator"


def _not_loadable(model, data, e, file=False) -> ArtifactError:
    pickled = data.startswith(_WRITTEN_BY_JOBLIB)
    what = "" if pickled else f" (it is not a pickle, nor compressed by joblib: it starts with {bytes(data[:8])!r})"
    if not file:  # (bytes stored in the registry)
        return ArtifactError(f"model {model}: the artifact cannot be loaded{what}: {type(e).__name__}: {e}",
                             hint=_WRITE_IT)
    # a file given to deploy: what unpickling said of text (a CSV's header read as a module's name, say) means
    # nothing to its reader, and is left out; of a pickle cut short or damaged, it is the detail
    if not pickled:
        return ArtifactError(f"{model} is not a joblib or pickle file of an estimator{what}",
                             hint=_WRITE_IT + "; a CSV of training data is given with --train (pgscore deploy) "
                                              "or as deploy_model's train_csv")
    return ArtifactError(f"{model} is not a joblib or pickle file of an estimator that can be read: it looks like "
                         "one cut short or damaged", detail=f"unpickling it failed with {type(e).__name__}: {e}",
                         hint=_WRITE_IT + ", and copy the whole file")


# how a pickle (protocol 2 and later) or a file joblib compressed (zlib, gzip, bz2, xz, lzma, lz4) begins
_WRITTEN_BY_JOBLIB = (b"\x80", b"x", b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"\x5d\x00", b"\x04\x22\x4d\x18")
