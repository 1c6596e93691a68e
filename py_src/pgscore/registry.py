"""Client side of the registry: deploy, activate, roll back, retire, list and show models, over a psycopg2
connection (or, inside an alembic revision, its driver's: psycopg2's or psycopg 3's)."""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import stat

import numpy as np

from pgscore import artifacts, baseline, features, metrics
from pgscore.errors import ArtifactError, InvalidModel, PgscoreError, UnknownModel, UsageError, literal, typo_hint

MODEL_COLUMNS = ("model_id", "name", "version", "task", "estimator", "feature_names", "feature_types",
                 "classes", "env", "metrics", "n_train", "description", "created_at", "created_by",
                 "sha256", "signed", "live", "engine", "engine_note", "shadow")
VERIFY_ROWS = 5000  # deploy-data rows the compiled evaluator is checked on
HELD_SCORES = 100  # hold-out scores needed for the score baseline to be drawn from them (else the training rows')
# the hold-out copy's scores are not the score baseline where more than this share of them sit on values the copy
# gives at least STRAY_ATOM of them and the version never gives (score_baseline: a tree's leaves), unless the copy
# scores the rows it was refit on unlike them (it fits its training rows, and so does the version): a PSI over FIT_PSI
# plus what two samples of one distribution of these sizes give by chance ((bins - 1)(1/n + 1/m)), and over the PSI
# of the version's scores of those rows against the copy's (what the copy's other values cost: score_baseline)
STRAY_SHARE = 0.1
STRAY_ATOM = 0.01
FIT_PSI = 0.1


def libpq_target(db):
    """`db` as pgscore connects to it: (a libpq URL or connection string, the SQLAlchemy driver its URL named or
    None) for a URL (text or an SQLAlchemy URL) or an SQLAlchemy engine; (db, None) for a psycopg2 connection. A
    notebook's SQLAlchemy engine, its `engine.url`, or that URL as text (`postgresql+psycopg://...`, which psycopg2
    refused as `invalid dsn: invalid connection option "postgresql+psycopg://..."`, session 66) is taken as its URL;
    an SQLAlchemy Connection or another database's URL is refused (UsageError, 22023)."""
    if hasattr(getattr(db, "engine", None), "url") and hasattr(db, "exec_driver_sql"):  # an SQLAlchemy Connection
        # (it failed, `AttributeError: 'Connection' object has no attribute 'cursor'`; opening another connection of
        # its engine's would leave its transaction out, which a given connection's is not)
        raise UsageError("db is an SQLAlchemy Connection, which pgscore does not use: pgscore takes a psycopg2 "
                         "connection, a URL, or an SQLAlchemy engine",
                         hint="pass the engine (conn.engine) or its URL; or, inside that connection's transaction "
                              "where its driver is psycopg2 (postgresql+psycopg2://), conn.connection.dbapi_connection")
    if hasattr(getattr(db, "url", None), "render_as_string") and hasattr(db, "connect"):  # an SQLAlchemy Engine
        db = db.url
    if hasattr(db, "render_as_string") and hasattr(db, "drivername"):  # an SQLAlchemy URL
        if db.get_backend_name() != "postgresql":  # (psycopg2's `invalid dsn: missing "=" after "sqlite:///..."`)
            raise UsageError(f"db is an SQLAlchemy URL of {db.get_backend_name()!r}, not of PostgreSQL "
                             f"({db.render_as_string()}): pgscore is in a PostgreSQL database",
                             hint="pass the engine or URL of the PostgreSQL database pgscore is installed in "
                                  "(postgresql://... or postgresql+<driver>://...)")
        db = db.render_as_string(hide_password=False)
    if isinstance(db, str):
        driver = re.match(r"\s*postgres(?:ql)?\+(\w+)://", db)
        db = re.sub(r"^(postgres(?:ql)?)\+\w+://", r"\1://", db)  # (SQLAlchemy's driver, which libpq does not know)
        return db, driver.group(1) if driver else None
    return db, None


def connect(db, driver=None, **kwargs):
    """psycopg2.connect(db, **kwargs) for libpq_target's (db, driver): a driver's own query parameter in the URL
    (asyncpg's ssl=require) refused naming the driver (UsageError, 22023), the URL's password masked."""
    import psycopg2

    from pgscore.migrate import catalog_first

    try:
        conn = psycopg2.connect(db, **kwargs)
    except psycopg2.ProgrammingError as e:  # (a driver's own query parameter, asyncpg's ssl=require say: psycopg2's
        if driver is None:  # `invalid dsn: invalid URI query parameter: "ssl"`, naming no driver)
            raise
        why = re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1***@", str(e).strip())
        raise UsageError(f"db is a URL for SQLAlchemy's {driver} driver that libpq, which pgscore "
                         f"connects with, does not take ({why})",
                         hint="give the URL libpq's connection parameters: sslmode=require for asyncpg's "
                              "ssl=require, and none of a driver's own (prepared_statement_cache_size...); "
                              "docs/cli.md, Deploying from Python") from None
    # pg_catalog searched first, as for pgscore install: the database's owner may set its search_path (public,
    # pg_catalog) for every session, and a function or operator of its own in public named like a built-in one
    # then ran in place of it, as whoever connected, a superuser's pgscore deploy or score too (session 69, h4)
    try:
        return catalog_first(conn)
    except BaseException:
        conn.close()
        raise


@contextlib.contextmanager
def connection(db):
    """Yield a psycopg2 connection: for a URL, opened and committed here; a given connection's
    transaction belongs to the caller (so an alembic revision can deploy inside its own). What db may be:
    libpq_target."""
    db, driver = libpq_target(db)
    if isinstance(db, str):
        conn = connect(db, driver)
        try:
            with conn:
                yield conn
        finally:
            conn.close()
    else:
        yield db


def _not_converted(problem, why_not):
    """A refusal of a model fitted on words (features._fitted_on_text's), with why its words could not be coded
    (features.text_conversion's refusal), where it says; `problem` as it is otherwise."""
    if problem is not None and why_not is not None and "text categories" in problem.message:
        problem.detail = "; ".join(filter(None, [problem.detail, "pgscore codes the words of an encoder fitted on "
                                                 "text where it can, and not here: " + why_not.message]))
        problem.hint = why_not.hint or problem.hint
    return problem


def _missing_refused(e, estimator, task, matrix, names):
    """The training data's missing values, where the estimator refused them (it has no imputer for their
    columns): the first row and feature holding one, not scikit-learn's paragraph."""
    from pgscore.serving import first_refused, refused_features

    if not isinstance(e, ValueError) or "NaN" not in str(e) or not np.isnan(matrix).any():
        return None

    def refuses(rows):
        try:
            features.scores_of(estimator, task, rows)
        except ValueError as err:
            return "NaN" in str(err)
        return False

    first = first_refused(refuses, matrix)
    if first is None:
        return None
    cols = refused_features(refuses, matrix, first) or list(np.flatnonzero(np.isnan(matrix[first])))
    return InvalidModel(f"the estimator cannot take a missing value, and the training data holds one it refuses: "
                        f"the first in row {first + 1} (counted from 1, after a CSV's header), feature "
                        f"{', '.join(literal(names[j]) for j in cols)}",
                        hint="fill or drop those rows, or fit a Pipeline with a SimpleImputer before the estimator "
                             "(scoring in the database passes a NULL to the model as NaN)")


# the object a "does not exist" names is pgscore's schema or one of its objects: "pgscore" or "pgscore.x" in
# quotes, in the server's words whatever its lc_messages (English "...", German »...«, French « ... »)
_NAMES_PGSCORE = re.compile("(?:^|[\\s\"'(\u00ab\u00bb\u201c\u201e\u2018\u201a])pgscore(?:\\s*[\"'\u00ab\u00bb\u201c\u201d\u2019]|\\.)")


def _translate(e):
    """Driver errors (psycopg2's or psycopg 3's) raised by pgscore's SQL functions become the matching
    Python exception."""
    from pgscore import errors

    by_state = {"42704": errors.UnknownModel, "22023": errors.InvalidModel, "XX001": errors.ArtifactError,
                "42501": errors.SignatureError, "58P01": errors.EnvironmentMismatch,
                "42703": errors.InvalidModel,  # a version made live that a wired table cannot feed
                "42804": errors.InvalidModel}  # or a wired counter of words cannot (migration 0132)
    # (pgscore.check_live_version_fed, which checks deploy, activate and rollback alike)
    code = getattr(e, "pgcode", None) or getattr(e, "sqlstate", None)  # psycopg2's name, psycopg 3's
    diag = getattr(e, "diag", None)
    primary = (diag.message_primary or "") if diag is not None else ""
    # (not where the statement's missing relation or schema is one a user gave: `--table pgscore.nosuch`, a typo
    # of theirs, is a table that does not exist, not a schema older than this pgscore; see _call's `given`)
    if code in ("3F000", "42P01", "42883") and _NAMES_PGSCORE.search(primary) \
            and not getattr(e, "names_a_given_table", False):
        return errors.PgscoreError(f"pgscore is not installed in this database, or its schema is older than this "
                                   f"pgscore ({primary})", sqlstate=code,
                                   hint="install or upgrade it with: " + errors.command("install --db URL"))
    cls = by_state.get(code)
    if cls is None:
        return e
    return cls(errors.server_message(diag.message_primary), detail=diag.message_detail, hint=diag.message_hint,
               sqlstate=code)


def _db_errors() -> tuple:
    """The drivers' base error classes: psycopg2's, and psycopg 3's where it is installed (SQLAlchemy's
    driver for postgresql+psycopg://, and for postgresql:// since 2.1: an alembic revision's connection
    may be either). Only evaluated when an error is being matched, so psycopg is imported only then."""
    import psycopg2

    try:
        import psycopg
    except ImportError:
        return (psycopg2.Error,)
    return psycopg2.Error, psycopg.Error


def _call(conn, sql, params, *, given=False):
    """Run `sql`; a driver error raised as _translate makes it. With `given`, the statement's only relation or
    schema that can be missing is a table name the caller was given (a `%s::regclass` over the catalogs): its
    42P01 or 3F000 is marked so (names_a_given_table) and raised as the driver's, whatever schema it names."""
    with conn.cursor() as cur:
        try:
            cur.execute(sql, params)
        except _db_errors() as e:
            if given and (getattr(e, "pgcode", None) or getattr(e, "sqlstate", None)) in ("3F000", "42P01"):
                e.names_a_given_table = True
                raise
            raise _translate(e) from e
        return cur.fetchall() if cur.description else None


def stray_share(own: np.ndarray, held: np.ndarray) -> float:
    """The share of the hold-out copy's scores `held` that sit on a value the copy gives at least 1% of them
    (STRAY_ATOM) and that is none of `own`, the values the version gives: a tree's leaves (or a boosted model's
    sums of few), whose values a copy refit on other rows has others of (0 for a model whose scores do not pile
    up on values, or pile up on the same ones: a forest of pure leaves, k nearest neighbours, a logistic model)."""
    vals, counts = np.unique(np.asarray(held, dtype=float), return_counts=True)
    atom = counts >= max(2.0, STRAY_ATOM * len(held))
    if not atom.any():
        return 0.0
    mine = np.unique(np.asarray(own, dtype=float))
    at = np.clip(np.searchsorted(mine, vals[atom]), 1, max(len(mine) - 1, 1))
    near = np.minimum(np.abs(mine[at - 1] - vals[atom]), np.abs(mine[np.minimum(at, len(mine) - 1)] - vals[atom]))
    stray = ~(near <= 1e-9 * np.maximum(1.0, np.abs(vals[atom])))
    return float(counts[atom][stray].sum() / len(held))


def values_given(estimator, task: str, matrix: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """The score values the version gives: its scores of its training rows, and of up to VERIFY_ROWS rows it never
    saw, each column of the training rows shuffled on its own (a model that fits its training rows exactly, extra
    trees' fully grown ones, scores each of them 0 or 1, and new rows between); the first alone where the shuffled
    rows cannot be scored."""
    rng = np.random.default_rng(0)
    rows = matrix[rng.choice(len(matrix), size=min(len(matrix), VERIFY_ROWS), replace=False)]
    shuffled = np.column_stack([rng.permutation(col) for col in rows.T]) if rows.size else rows
    try:
        return np.concatenate([scores, features.scores_of(estimator, task, shuffled)])
    except Exception:  # noqa: BLE001 - rows it cannot score show no values: its training rows' alone
        return scores


def psi(base: np.ndarray, cur: np.ndarray) -> tuple[float, int]:
    """The PSI of scores `cur` against a baseline of scores `base`, binned as the drift views bin a score baseline
    (baseline.describe_column's edges, shares floored at 1e-4), and the number of bins."""
    d = baseline.describe_column(base)
    edges, e = np.asarray(d["edges"], dtype=float), np.maximum(np.asarray(d["expected"], dtype=float), 1e-4)
    c = np.maximum(baseline.bin_fractions(np.asarray(cur, dtype=float), edges), 1e-4)
    return float(np.sum((c - e) * np.log(c / e))), len(edges) + 1


def fit_psi(fit: np.ndarray, held: np.ndarray) -> tuple[float, float]:
    """The PSI of the hold-out copy's scores of the rows it did not learn from, `held`, against a baseline of its
    scores of the rows it was refit on, `fit`, and the most it may be for the copy to score both alike: FIT_PSI plus
    the PSI two samples of one distribution of these sizes give by chance, (bins - 1)(1/len(held) + 1/len(fit))."""
    got, bins = psi(fit, held)
    return got, FIT_PSI + (bins - 1) * (1 / len(held) + 1 / len(fit))


def score_baseline(estimator, task: str, matrix, scores, predicted, held, held_classes, fit) -> tuple:
    """The scores (and, for a multiclass model, predicted classes) the score baseline is drawn from, and what
    `metrics.score_baseline` says of them (session 62, scripts/score_baseline_study.py): the hold-out copy's
    scores of the rows it did not learn from where at least HELD_SCORES were held out (a forest, extra trees, a
    boosted model or k neighbours score their own training rows more surely than new rows: PSI 0.07-1.6 against
    new rows of the same kind); but the version's own scores of its training rows where more than STRAY_SHARE of
    the copy's scores pile up on values the version never gives (stray_share, values_given: a tree's leaves, PSI
    1.8-7.3 of the deployed tree's new rows against its copy's, 0.005-0.015 against its own training rows; a
    50-tree GradientBoostingClassifier on rare positives, 0.07-0.36 against 0.002-0.011), unless the copy scores
    the rows it was refit on unlike those it did not learn from (fit_psi: a model that fits its training rows
    scores them unlike new rows, and so would its in-sample baseline) by more than chance allows and more than the
    version's scores of those rows differ from the copy's (what a baseline of the copy's other values costs; review
    r5: an isotonic-calibrated 50-tree forest on 1,000 rows, whose scores pile up on the isotonic steps, PSI 0.278
    of new rows against its in-sample scores, 0.070 against the hold-out's: fit 0.393, values 0.037; on the study's
    data the other way round, in-sample 0.43-0.47, hold-out 0.77-1.10: fit 0.55-0.62, values 0.73-1.64).
    `metrics.score_baseline` says what was found. `scores` and `predicted` are the version's own of its training
    rows `matrix`; `held` and `held_classes` the copy's, `fit` (positions in `matrix`, the copy's scores of those
    rows) the rows it was refit on (None: none)."""
    n = len(scores)
    if held is None or len(held) < HELD_SCORES:
        return scores, predicted, f"training rows: {n} scored by this version (in-sample)"
    said = f"hold-out: {len(held)} rows scored by the copy refit on the rest"
    stray = stray_share(values_given(estimator, task, matrix, scores), held)
    if stray <= STRAY_SHARE:
        return held, held_classes, said
    at, fitted = fit
    over, most = fit_psi(fitted, held)
    values = psi(fitted, np.asarray(scores)[at])[0]
    if over > max(most, values):
        return held, held_classes, (
            f"{said} ({stray:.0%} of them had a score this version never gives, but the copy scored its "
            f"{len(fitted)} training rows unlike them, PSI {over:.3f}, over {most:.3f} and over the {values:.3f} of "
            "this version's scores of those rows against the copy's: it fits its training rows)")
    return scores, predicted, (
        f"training rows: {n} scored by this version (in-sample): {stray:.0%} of the {len(held)} hold-out rows "
        f"scored by the copy refit on the rest had a score this version never gives (PSI {values:.3f} of this "
        f"version's scores of the copy's {len(fitted)} training rows against the copy's), and the copy scored those "
        f"rows " + (f"as it scored them (PSI {over:.3f}, at most {most:.3f})" if over <= most else
                   f"unlike them by less (PSI {over:.3f})"))


def deploy(db, name, estimator, X, y=None, *, feature_names=None, description=None, activate=True,
           reason=None, validate=True, n_bins=baseline.DEFAULT_BINS, compile=True,
           allow_task_change=False, allow_feature_change=False, source=None, progress=None,
           if_new=False) -> dict:
    """Store a fitted estimator as the next version of `name`; returns the new version's record.

    Records the joblib bytes and their sha256 (the server signs them when a
    key is configured), the environment that wrote them, ordered feature
    names and types, task and classes, hold-out metrics when y is given, and
    a baseline of every feature and of the score on X, and (unless
    compile=False) the estimator compiled to numpy arrays, proved equal to
    it on up to VERIFY_ROWS rows of X, a chunk at a time and row by row
    (compiled.verify), or scored by scikit-learn when it cannot be compiled
    or proved. A version whose task or classes differ from the live one's (with none live, the one
    live last's, else the newest's) is refused unless allow_task_change: wired tables, outcomes and
    dashboards read the name's scores as the earlier kind. So is one whose feature names or their order
    differ, unless allow_feature_change: a caller passing a float8[] passes them by position. Made live, it is refused
    (42703) by the server when a table wired to rescore with `name` lacks one of its features
    (pgscore.check_live_version_fed). `source` (the file's name and sha256, as load_artifact gives them) is
    recorded with the environment, as `env.source`: the sha256 a user can check the file against, where the
    stored bytes' own differs. The bytes are the estimator as given, serialised before deploy calls it, and
    the same for the same estimator in any process (artifacts.dumps): `same_artifact` in what it returns lists
    the name's earlier versions that store the same bytes (a file deployed again). `progress`, if given, is
    called with a line saying what the deploy does next (a big model takes a minute or more).

    `if_new` (pgscore deploy without --again, session 64): where the name's newest version stores these very bytes
    with these feature names, from the same training data (`source`'s `train`, which pgscore deploy records) and
    description, signed as this server stores it (the same deploy again: a scheduler's retry of a task), nothing is
    stored and that version's record is returned with `stored` False (True otherwise), made live first where
    `activate` and it is not live (`made_live`, `shadows_ended` as activate gives them). Checked before the
    hold-out and the compiling (a retry takes seconds), and again under the name's lock.

    A model whose encoders were fitted on words (text categories, migration 0123: features.text_conversion) is
    stored converted to take each word's code, checked against the original on X and on every word, NULL and an
    unknown word; its vocabulary goes in the record's `text_categories`, X's words are coded before the baselines
    and the checks, and the hold-out refits a copy of the original on the words. The bytes are then the converted
    model's.
    """
    say = progress or (lambda _: None)
    features.check_fitted(estimator)
    # pandas' <NA> in a column of words (the `string` dtype's) as NaN, as a NULL reaches the model (session 66: such a
    # DataFrame was refused as 'takes its columns by name', or 'holds the number <NA>')
    X = features.na_as_nan(X)
    # serialised as given, before anything below calls it: scoring changes some estimators' state (a
    # KNeighborsClassifier's KD-tree counts its queries), and the bytes stored, and their sha256, were then those
    # of the estimator after this deploy's checks, other with --train than without
    names, types = features.describe(estimator, X, feature_names)
    # encoders fitted on words (text categories, migration 0123): the model stored takes each word's code, its
    # place in the encoder's categories, which every path that scores gives it (why_not: why it cannot, where
    # it cannot, said where the model is refused as before)
    # a ColumnTransformer selecting by name (fitted on a DataFrame, the usual way) refuses the float array the server
    # gives: stored selecting the same columns by position, checked equal on the training data (session 65)
    positional = features.by_position(estimator)
    if positional is not None and positional[1]:
        say("converting its ColumnTransformer's selection by name to positions")
        _check_by_position(estimator, positional[0], X)
        estimator = positional[0]
    original, vocab, why_not = estimator, {}, None
    try:
        estimator, vocab = features.text_conversion(estimator, names)
    except InvalidModel as e:
        why_not = e
    say("serialising the estimator" + (" (converted to take the codes of its words)" if vocab else ""))
    blob = artifacts.dumps(estimator)
    main = artifacts.main_references(estimator, blob)
    if main:  # (found here, before the hold-out and the compiling: the server's load would refuse it after them)
        raise artifacts.not_importable(name, main[0], "__main__", "the database server could not load it",
                                       InvalidModel)
    check_size(name, "the estimator serialised by joblib", blob)
    if if_new:  # (a retried deploy: before the hold-out and the compiling, which take minutes for a big model)
        with connection(db) as conn:
            same = _newest_same(conn, name, artifacts.sha256(blob), names, source, description)
        if same is not None:
            return _deployed_already(db, name, same, activate, reason)
    task, classes = features.task_of(estimator)
    features.check_labels(estimator, y, classes)
    words = X  # the training data as given (with words where the model was fitted on them)
    if X is None:  # no training data: no baseline, no metrics
        matrix, scores, y = np.empty((0, len(names))), None, None
    else:
        if why_not is not None:  # (words pgscore could not code: a model the database could never score says why
            # first, not that a text column is not numbers: a ColumnTransformer selecting by name, the usual way)
            # (one of words given it after a transformer is tried on X below: it may make its text from numbers)
            problem = features.unservable(estimator, names)
            if problem is not None and "text categories" not in problem.message:
                raise problem
        try:
            matrix = features.as_matrix(features.code_words(X, names, vocab), names)
        except InvalidModel as e:  # (text where a HistGradientBoosting encodes its own categories: said so)
            raise features.native_categories(estimator, names) or e
        types = ["float8" if t == "text" and n not in vocab else t for n, t in zip(names, types)]
    if vocab:
        types = ["text" if n in vocab else t for n, t in zip(names, types)]
        say(f"checking the converted model against the original on {'the training data and ' if X is not None else ''}"
            "a sample of every word")
        features.check_text_conversion(original, estimator, task, vocab, names, words,
                                       matrix if X is not None else None)
    if X is None:  # nothing to try the model on: what the fitted estimator shows
        problem = _not_converted(features.unservable(estimator, names), why_not)
        if problem is not None:
            problem.hint += ("; a model that does take numbers there (a step before the encoder makes the "
                             "text) deploys with training data, on which it is tried")
            raise problem
        values = features.of_zeros(estimator, task, len(names)) if task == "regression" else None
        if values is not None:  # what it gives for a row, where it takes a row of zeros
            features.one_value_a_row(estimator, values, 1)
    else:
        try:  # the float matrix, as the server will give it (a DataFrame could score where that cannot)
            scores = features.scores_of(estimator, task, matrix)
        except Exception as e:  # noqa: BLE001 - the estimator cannot score its own training data
            raise (_not_converted(features.unservable(estimator, names), why_not)
                   or _missing_refused(e, estimator, task, matrix, names) or InvalidModel(
                       "the estimator cannot score X as a float array, as the database gives it: "
                       f"{type(e).__name__}: {e}")) from e
        # an encoder fitted on text and given numbers scores them as unknown categories: it deployed and went
        # live, its scores made without that feature, and no error said so
        problem = _not_converted(features.given_numbers_for_text(estimator, task, matrix, names), why_not)
        if problem is not None:
            raise problem
        features.one_value_a_row(estimator, scores, len(matrix))
    meta = {
        "task": task, "estimator": f"{type(estimator).__module__}.{type(estimator).__qualname__}",
        "feature_names": names, "feature_types": types, "classes": classes,
        "env": {**artifacts.writer_env(), **({"source": dict(source)} if source else {})}, "n_train": int(len(matrix)) if X is not None else None,
        "description": description,
        "metrics": {},
    }
    if vocab:  # (register_model stores it where the schema has the column, 0123 on)
        meta["text_categories"] = vocab
    held = held_classes = fit = None
    if y is not None and validate:
        if len(matrix) >= metrics.HOLDOUT_MIN_ROWS:  # (the one step that trains: a big model's takes minutes)
            held_out = math.ceil(len(matrix) * metrics.HOLDOUT_SHARE)
            say(f"hold-out metrics: training a copy of {_estimator_name(estimator)} on 80% of {len(matrix):,} rows "
                f"({len(matrix) - held_out:,}), to measure it on the other {held_out:,}")
        try:
            # (a model fitted on words: its copy refit on the words, as the original was, and scoring them)
            meta["metrics"], held, held_classes, fit = (
                metrics.holdout(original, features.with_native_categories(original, X, names), y, task,
                                matrix=features.object_rows(X)) if vocab else
                metrics.holdout(estimator, features.with_native_categories(estimator, X, names), y, task,
                                matrix=matrix))
        except metrics.HoldoutError as e:  # (a traceback before; errors of pgscore's own code still are)
            raise InvalidModel(
                f"cannot measure the hold-out metrics: a copy of {_estimator_name(estimator)} refit on 80% of the "
                f"{len(matrix):,} rows of the training data failed: {e}",
                hint="the training data must be what the estimator was fitted on, as numbers (a class seen "
                     "once or twice can be all in the other 20%); without the target (--train without --target, "
                     "y=None) it deploys with its baseline and no hold-out metrics") from e
    # what the realised metrics count as predicted positive (0.5 where none is recorded): this version's own
    # predict's threshold, where it has one (not the hold-out copy's, which a tuned threshold refits)
    threshold = metrics.positive_above(estimator) if task == "binary" else 0.5
    if threshold != 0.5:
        meta["metrics"]["threshold"] = threshold
    # the predicted classes of the rows the score baseline is drawn from (a multiclass model's class mix, 0122)
    predicted = features.predicted_of(estimator, matrix) if task == "multiclass" and scores is not None else None
    if scores is not None:  # the score baseline: what service will look like
        scores, predicted, meta["metrics"]["score_baseline"] = score_baseline(
            estimator, task, matrix, scores, predicted, held, held_classes, fit)
    rows = baseline.capture(matrix, names, scores, n_bins) if X is not None else []
    if predicted is not None:
        rows.append(baseline.class_mix(predicted, classes))
    if compile:
        say(f"compiling it to numpy and proving it equal on up to {min(len(matrix), VERIFY_ROWS):,} rows, and on "
            "them again with values blanked where it takes missing values")  # (engine_note counts both sets)
    ev_bytes, ev_meta = compile_evaluator(estimator, task, len(names), matrix) if compile else \
        (None, {"format": "none", "reason": "deployed with compile=False"})
    if ev_bytes is not None:
        check_size(name, "its compiled evaluator", ev_bytes)
    try:
        rec = _store(db, name, blob, ev_bytes, ev_meta, meta, rows, activate, reason, allow_task_change,
                     allow_feature_change, task, classes, names, if_new, say)
    except _SameAsNewest as e:  # (rolled back: nothing of this deploy's stored)
        return _deployed_already(db, name, e.version, activate, reason)
    known = rec.pop("_known")
    notes = [features.long_names_note(names), _codes_changed_note(known[0] if known else None, vocab, names)]
    if any(notes):
        rec["feature_note"] = "; ".join(filter(None, notes))
    return rec


def _check_by_position(given, converted, X) -> None:
    """The model converted to select its columns by position (features.by_position) gives what the model given
    gives on the training data, where that is a DataFrame (the one such a model takes): predict_proba (predict
    where it has none) of up to VERIFY_ROWS rows, the given model on the DataFrame, the converted one on its
    values as an array; else the refusal of a selection by name, as before. Training data given as an array (a
    numpy X, pgscore deploy's --train CSV, whose columns it reads by the names the model was fitted with) is tried
    as a DataFrame of those names, where pandas is installed (session 66: it was not checked at all); where the
    model given cannot score even that, as before (unchecked: the conversion keeps each part's columns)."""
    import copy
    import warnings

    made_up = X is None
    if made_up:  # (no training data: rows made up, session 67: a wrong conversion deployed unchecked)
        X = _made_up_rows(given)
        if X is None:
            return
    built = not hasattr(X, "iloc")
    if built:
        names = features.fitted_names(given)
        try:
            import pandas as pd
        except ImportError:
            return
        arr = np.asarray(X)
        if names is None or arr.ndim != 2 or arr.shape[1] != len(names):
            return
        X = pd.DataFrame(arr[:VERIFY_ROWS], columns=names)
        if arr.dtype == object:  # (numbers among words, as read from a CSV: each column as pandas infers it)
            X = X.infer_objects()

    # on copies: scoring changes some estimators' state (a KNeighborsClassifier's KD-tree counts its queries), and
    # the converted model is serialised after this check: its bytes differed from one deploy to the next in the
    # same process (deploy(if_new=True) run again stored a new version), and the caller's model was changed
    given, converted = copy.deepcopy(given), copy.deepcopy(converted)

    rows = X.iloc[:VERIFY_ROWS]
    how = "predict_proba" if hasattr(given, "predict_proba") else "predict"
    failed = None  # (the converted model's error on the array, where the model given scores the DataFrame)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # (fitted on a DataFrame, given an array: as it is meant)
            want = np.asarray(getattr(given, how)(rows))
            try:
                got = np.asarray(getattr(converted, how)(_as_the_database_gives(rows)))
            except Exception as e:  # noqa: BLE001 - said below
                failed = e
                raise
        same = want.shape == got.shape and (
            np.allclose(want, got, rtol=0, atol=1e-12, equal_nan=True) if want.dtype.kind in "biuf"
            else bool(np.all(want == got)))
    except Exception:  # noqa: BLE001 - refused below, as a selection by name was before
        if (built or made_up) and failed is None:
            return  # (the model given refuses the DataFrame made of the array: not checked, as before)
        same = False
    if made_up and failed is None and not same:  # (one failing on the array: said below, as with training data)
        raise InvalidModel(
            "the model's ColumnTransformer selecting its columns by name, converted to select them by position, "
            f"does not give what it gives on {len(rows)} rows of made-up numbers as a DataFrame of its feature "
            "names (deployed without training data)",
            hint="select the columns by position: ColumnTransformer([(..., [0, 2]), ...]) with the positions in the "
                 "feature names, and train on X.to_numpy(); or deploy with the training data, on which it is tried")
    if failed is not None:  # (a step inside reading the DataFrame's columns by name: the refusal of a selection by
        # name said to select by position, which deploy had just done)
        raise InvalidModel(
            "the model's ColumnTransformer selecting its columns by name, converted to select them by position, "
            f"fails on the float array the database gives: {type(failed).__name__}: {failed}",
            hint="a step inside it reads a pandas DataFrame (a FunctionTransformer's function taking columns by "
                 "name, say), which the database never gives: make it take an array, its columns by position, "
                 "and fit on X.to_numpy()") from failed
    if not same:
        if built:
            raise InvalidModel(
                "the model's ColumnTransformer selecting its columns by name, converted to select them by position, "
                "does not give what it gives on the training data (an array, given the model's feature names "
                f"{', '.join(map(literal, X.columns[:6]))}{', ...' if len(X.columns) > 6 else ''} as a DataFrame)",
                hint="select the columns by position: ColumnTransformer([(..., [0, 2]), ...]) with the positions in "
                     "the feature names, and train on X.to_numpy(); or deploy with the training DataFrame")
        problem = features.unservable(given, list(map(str, getattr(X, "columns", []))))
        raise problem or InvalidModel("the model's ColumnTransformer selecting its columns by name, converted to "
                                      "select them by position, does not give what it gives on the training data")


def _as_the_database_gives(rows):
    """A DataFrame's rows as the database gives them to the model converted to select by position: a float array
    where every column holds numbers (booleans as 1 and 0); else an object array of rows, words and numbers as they
    are. (An object array of numbers, which the database never gives, failed a FunctionTransformer(np.log1p): `loop
    of ufunc does not support argument 0 of type float`, and the model was refused; review r1, session 67.)"""
    import pandas as pd

    if all(pd.api.types.is_numeric_dtype(rows[c]) or pd.api.types.is_bool_dtype(rows[c]) for c in rows.columns):
        return np.asarray(features.object_rows(rows), dtype=float)
    return features.object_rows(rows)


def _made_up_rows(given, n=64):
    """For a model deployed without training data: a DataFrame of its feature names (feature_names_in_) holding n
    rows of made-up numbers, each column its own (normal draws of a scale of its own), or where the model given
    refuses those, small integers (codes an encoder was fitted on); None where it has no names or refuses both."""
    import copy
    import warnings

    names = features.fitted_names(given)
    try:
        import pandas as pd
    except ImportError:
        return None
    if not names:
        return None
    rng = np.random.default_rng(0)
    how = "predict_proba" if hasattr(given, "predict_proba") else "predict"
    codes = features.encoded_codes(given)  # (an encoder's own codes where one fitted on numbers reads the feature)
    for rows in (rng.normal(size=(n, len(names))) * (1 + np.arange(len(names))) + np.arange(len(names)),
                 rng.integers(0, 3, size=(n, len(names))).astype(float)):
        for j, name in enumerate(names):
            if name in codes:
                rows[:, j] = rng.choice(codes[name], n)
        frame = pd.DataFrame(rows, columns=names)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                getattr(copy.deepcopy(given), how)(frame)  # (a copy: scoring changes some estimators' state)
        except Exception:  # noqa: BLE001 - the next kind of rows, or none
            continue
        return frame
    return None


class _SameAsNewest(Exception):
    """deploy(if_new=True) found, under the name's lock, the newest version storing the same bytes."""

    def __init__(self, version):
        super().__init__(version)
        self.version = version


def _newest_same(conn, name, sha256, names, source, description) -> int | None:
    """The name's newest version, where it is this deploy again: it stores the bytes of `sha256` with feature
    names `names`, from the same training data (`source`'s `train`: the CSV's sha256 and target, as pgscore deploy
    records them; none without --train) and with the same description, signed as this server signs what it
    stores (a version stored unsigned before the key, or signed before the server lost it, is one this server
    refuses to load: the server's hint for it is to deploy the artifact again); else None. (Another CSV or
    description is a deploy of its own: a fresh baseline and metrics, which a retry check stored nothing of.)"""
    import json

    train = (source or {}).get("train")
    # (a schema before 0029 has no pgscore.signing_on(), and no check of a signature against the server's key)
    signing = _call(conn, "SELECT to_regprocedure('pgscore.signing_on()') IS NOT NULL", ())[0][0]
    row = _call(conn, "SELECT v.version, v.sha256, v.feature_names, "
                      + ("v.signed IS NOT DISTINCT FROM pgscore.signing_on()" if signing else "true")
                      + " AND (v.env -> 'source' -> 'train') IS NOT DISTINCT FROM %s::jsonb "
                      "AND v.description IS NOT DISTINCT FROM %s FROM pgscore.model_versions v WHERE v.name = %s "
                      "ORDER BY v.version DESC LIMIT 1",
                (None if train is None else json.dumps(train), description, name))
    if row and row[0][1] == sha256 and list(row[0][2] or []) == list(names) and row[0][3]:
        return row[0][0]
    return None


def _deployed_already(db, name, version, make_live, reason) -> dict:
    """deploy(if_new=True)'s record of the newest version, which stores the bytes deployed: made live where
    `activate` and it is not (as activate makes it live, with its checks), else left as it is."""
    with connection(db) as conn:
        rec = show(conn, name, version)
    made = {"made_live": False, "shadows_ended": [], "taken_off": None}
    if make_live and not rec["live"]:
        done = activate(db, name, version, reason)
        rec, made = done, {"made_live": not done["already"], "shadows_ended": done["shadows_ended"],
                           "taken_off": _taken_off(rec["history"], version) if not done["already"] else None}
    worse = _worse_than_before(db, name, rec) if rec["live"] else None
    return {**rec, **made, "stored": False, "same_artifact": [], **({"worse_than_live": worse} if worse else {})}


def _worse_than_before(db, name, rec) -> dict | None:
    """A live version's `worse_than_live` as its deploy gave it, for deploy(if_new=True)'s record of it (a retried
    weekly job: without it, a retry passed the job's gate on `worse_than_live`, and one after the job's rollback made
    the worse version live again unsaid): its hold-out metric against that of the version live before it last went
    live (from show's history), where it is worse; None otherwise."""
    rows = [h for h in rec["history"] if "deployment_id" in h]
    live_at = [i for i, h in enumerate(rows) if h["version"] == rec["version"] and h["action"] != "retire"]
    if not live_at or live_at[-1] == 0 or rows[live_at[-1] - 1]["action"] == "retire":
        return None
    before = rows[live_at[-1] - 1]["version"]
    if before == rec["version"]:
        return None
    with connection(db) as conn:
        (old_metrics,), = _call(conn, "SELECT v.metrics FROM pgscore.model_versions v WHERE v.name = %s AND "
                                      "v.version = %s", (name, before))
    if isinstance(old_metrics, str):  # (jsonb as text, on a connection that does not decode it)
        old_metrics = json.loads(old_metrics)
    worse = metrics.worse_than(rec.get("metrics"), old_metrics)
    return {"metric": worse[0], "value": worse[1], "live_value": worse[2], "live_version": before} if worse else None


def _taken_off(history, version) -> dict | None:
    """The deployment (rollback, activate of another version, retire) that took `version` off after it was last
    live, from show's history (by time); None where it was never live (stored with --no-activate)."""
    rows = [h for h in history if "deployment_id" in h]
    live_at = [i for i, h in enumerate(rows) if h["version"] == version and h["action"] != "retire"]
    return next((h for h in rows[live_at[-1] + 1:] if h["version"] != version or h["action"] == "retire"),
                None) if live_at else None


def _store(db, name, blob, ev_bytes, ev_meta, meta, rows, activate, reason, allow_task_change,
           allow_feature_change, task, classes, names, if_new, say) -> dict:
    """deploy's transaction: the bytes sent, the name's lock, the checks against what callers know of the name,
    register_model; the new version's record (`_known`: what callers knew, for the notes)."""
    with connection(db) as conn, _one_transaction(conn):
        # a version the server scores by unpickling it (not compiled) is loaded there in the same statement:
        # one whose classes the server cannot import is not stored (a connection in autocommit included)
        load = ", pgscore.load_model(r.model_id)" if ev_bytes is None else ""
        say(f"sending {(len(blob) + len(ev_bytes or b'')) / 2**20:,.1f} MB to the server, which checks and stores it"
            + (" and loads it" if ev_bytes is None else ""))
        # the bytes first, with no lock of the name's held: an upload of hundreds of MB over a slow link held the
        # name's lock throughout, and an operator's activate, rollback, retire or shadow of the model waited on it
        check_writable(conn, f"deploying model {name}")  # (a standby said "cannot assign OIDs during recovery")
        blob_sql, blob_arg, blob_lo = _bytes_arg(conn, blob)
        ev_sql, ev_arg, ev_lo = _bytes_arg(conn, ev_bytes)
        # then the name's lock, as register_model takes it (held to the end of the transaction, which in autocommit
        # _one_transaction opens): the checks below read what a concurrent deploy, activate or rollback of the
        # name committed while this one waited, and register_model stores against what they read
        lock_name(conn, name)
        if if_new:  # (a deploy of the same bytes that committed while this one checked and uploaded)
            same = _newest_same(conn, name, artifacts.sha256(blob), names, meta["env"].get("source"),
                                meta["description"])
            if same is not None:
                raise _SameAsNewest(same)
        # what callers know of the name: the live version; with none live, the one live last (a retire, or an
        # alembic downgrade to before the model's first revision, leaves it the latest deployment's); else the newest
        # (and its words, 0123: read out of the row's jsonb, which a schema before it lacks)
        known = _call(conn, "SELECT v.version, v.task, v.classes, v.feature_names, "
                            "pg_catalog.to_jsonb(v) -> 'text_categories' FROM pgscore.model_versions v "
                            "WHERE v.name = %s ORDER BY v.live DESC, (SELECT max(d.deployment_id) FROM "
                            "pgscore.deployments d WHERE d.model_id = v.model_id) DESC NULLS LAST, v.version DESC "
                            "LIMIT 1", (name,))
        if known and not allow_task_change:
            _check_same_task(name, known[0], task, classes)
        if known and not allow_feature_change:
            _check_same_features(name, known[0], names)
        # the live version's hold-out metrics, which a version made live by this deploy is compared with (a note
        # where its own are worse: metrics.worse_than)
        live_before = _call(conn, "SELECT v.version, v.metrics FROM pgscore.model_versions v WHERE v.name = %s "
                                  "AND v.live", (name,)) if activate else []
        (model_id, version, *_), = _call(
            conn, f"SELECT r.model_id, r.version{load} FROM pgscore.register_model(%s, {blob_sql}, %s, %s, %s, %s, "
                  f"%s, {ev_sql}, %s) AS r", (name, blob_arg, artifacts.sha256(blob), json.dumps(meta, default=_json),
                                               json.dumps(rows), activate, reason, ev_arg, json.dumps(ev_meta)))
        for oid in filter(None, (blob_lo, ev_lo)):
            _call(conn, "SELECT pg_catalog.lo_unlink(%s::pg_catalog.oid)", (oid,))
        rec = show(conn, name, version)
        # the versions of the name that store these very bytes (the same estimator, deployed again: the bytes are
        # canonical, artifacts.dumps), which the command says
        rec["same_artifact"] = [v for (v,) in _call(
            conn, "SELECT v.version FROM pgscore.model_versions v WHERE v.name = %s AND v.sha256 = %s "
                  "AND v.version <> %s ORDER BY v.version", (name, rec["sha256"], version))]
        if rec["live"] and live_before:
            old_version, old_metrics = live_before[0]
            if isinstance(old_metrics, str):  # (jsonb as text, on a connection that does not decode it)
                old_metrics = json.loads(old_metrics)
            worse = metrics.worse_than(rec.get("metrics"), old_metrics)
            if worse:  # (metric, this version's, the version live before it's)
                rec["worse_than_live"] = {"metric": worse[0], "value": worse[1], "live_value": worse[2],
                                          "live_version": old_version}
        rec["stored"], rec["_known"] = True, known
    return rec


def _codes_changed_note(known, vocab, names) -> str | None:
    """What deploy says where a text feature's codes differ from the version callers know (`known`, as deploy read
    it: its words last): a caller passing a float8[], or a number column, gives the codes of one vocabulary, which
    a version of other words (or none) reads as other words, silently; None where none differs (migration 0123)."""
    if known is None:
        return None
    before = known[4] or {}
    changed = [f for f in names if vocab.get(f) != before.get(f) and (f in vocab or f in before)]
    if not changed:
        return None
    def codes(words):
        return ("its numbers as given" if words is None else
                ", ".join(f"{k} {literal(w)}" for k, w in enumerate(words[:5])) + (", ..." if len(words) > 5 else ""))

    said = "; ".join(f"{literal(f)}: {codes(vocab.get(f))} (version {known[0]}: {codes(before.get(f))})"
                     for f in changed)
    from pgscore.serving import numbered_features  # (serving's rule, as scoring applies it)

    numbered = sorted(numbered_features(vocab) & set(changed))
    return (f"the codes of a text feature differ from the version callers know: {said}. A caller that passes them "
            "as numbers (a float8[], a JSON number, a number column) must give this version's (pgscore.category_code "
            "gives the live version's, and a version's by its p_version, the version score is pinned to; "
            "pgscore.model_versions.text_categories lists each version's words in the order of their codes); words "
            "given by name or in a text column are coded by each version" + (
                f". {', '.join(map(literal, numbered))}: words that read as numbers, for which this version refuses a "
                "number by name or a number column (a word or a code?): pass the words as text (docs/sql.md, "
                "'Words that read as numbers')" if numbered else ""))


# whether the session may write: a hot standby (in recovery) takes no writes, nor a read-only transaction
_WRITABLE = ("SELECT pg_catalog.pg_is_in_recovery(), pg_catalog.current_setting('transaction_read_only') "
             "OPERATOR(pg_catalog.=) 'on'")


def check_writable(conn, what) -> None:
    """A 25006 PgscoreError where `conn`'s transaction may not write (`what` does): on a standby, saying so, with
    the hint to run it on the primary; in a read-only transaction, to run it in one that may write. Before the
    bytes are sent: a standby refused the large object they go in with "cannot assign OIDs during recovery", no
    SQLSTATE, no hint (trial hT17 of session 64)."""
    from pgscore.errors import read_only_error

    (standby, read_only), = _call(conn, _WRITABLE, None)
    if standby or read_only:
        e = read_only_error(f"{what} writes the registry", standby)
        e.sqlstate_said = True  # (the CLI prints it, as the server's refusals say theirs)
        raise e
    check_not_subscribed(conn, what)


# the subscriptions of logical replication that write this database's registry (pgscore.models or deployments
# published from another database: one deploy, two clusters)
_REGISTRY_SUBSCRIBED = (
    "SELECT pg_catalog.string_agg(DISTINCT pg_catalog.quote_ident(s.subname), ', ') "
    "FROM pg_catalog.pg_subscription_rel r JOIN pg_catalog.pg_subscription s ON s.oid OPERATOR(pg_catalog.=) r.srsubid "
    "WHERE r.srrelid OPERATOR(pg_catalog.=) ANY (ARRAY[pg_catalog.to_regclass('pgscore.models'), "
    "pg_catalog.to_regclass('pgscore.deployments')])")


def check_not_subscribed(conn, what) -> None:
    """A 55000 PgscoreError where a subscription of logical replication writes this database's registry
    (pgscore.models or pgscore.deployments published from another database): a deploy, go-live, retire or delete
    here takes ids from this database's own identity sequences, which replication does not advance. It failed with
    a bare 23505 on models_pkey or deployments_pkey (a retry burnt an id each), and once one passed, the publisher's
    next deploy of that id stopped the subscription at every try, this database keeping the old live version
    (trial T20 of session 66)."""
    (subs,), = _call(conn, _REGISTRY_SUBSCRIBED, None)
    if subs:
        e = PgscoreError(
            f"{what} writes the registry, which subscription {subs} writes here (logical replication of "
            "pgscore.models and pgscore.deployments from another database)",
            sqlstate="55000",
            detail="ids taken here would collide with the ones the publisher sends: the write fails (23505), or the "
                   "subscription stops at the publisher's next one",
            hint="deploy, activate, roll back, retire and delete in the publisher's database, whose changes reach "
                 "this one (docs/operations.md, 'A fleet: events by logical replication')")
        e.sqlstate_said = True
        raise e


@contextlib.contextmanager
def _one_transaction(conn):
    """One transaction for what runs in the block: a connection in autocommit gets its own (BEGIN ... COMMIT, a
    ROLLBACK on an error), so that the name's lock lock_name takes is held to register_model; a connection in a
    transaction is the caller's, left as it is."""
    if not getattr(conn, "autocommit", False):
        yield
        return
    _call(conn, "BEGIN", None)
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):
            _call(conn, "ROLLBACK", None)
        raise
    _call(conn, "COMMIT", None)


def lock_name(conn, name) -> None:
    """Take model `name`'s lock in `conn`'s transaction, as every change of the model does (register_model,
    activate, rollback, retire, set_shadow, clear_shadow): its row of pgscore.model_locks (migration 0043), or
    before that pgscore's advisory lock of the name: schema.lock_name's SQL, which register_model runs too."""
    from pgscore import schema
    from pgscore.serving import check_name

    check_name(name)  # (a name register_model refuses locks no row: the same error, before it)

    def first(sql, args):
        rows = _call(conn, sql, args or None)
        return rows[0][0] if rows else None
    schema.lock_name(first, name, "%s")


def _estimator_name(estimator) -> str:
    """The estimator's class, as a progress line names it: a Pipeline's by its last step (Pipeline ending in
    LogisticRegression)."""
    steps = getattr(estimator, "steps", None)
    if isinstance(steps, list) and steps and isinstance(steps[-1], tuple) and len(steps[-1]) == 2:
        return f"a Pipeline ending in {type(steps[-1][1]).__name__}"
    return type(estimator).__name__


# PostgreSQL's largest value is 1 GB, and COPY writes a bytea as hex, twice its size: pg_dump (COPY) of a row
# over ~512 MB fails, and with it every dump of the database. Below that, with room for the row's other columns.
MAX_ARTIFACT_BYTES = 500 * 2**20
_LO_CHUNK = 32 * 2**20  # bytes a large-object write sends at a time
_LITERAL_MAX = 255 * 2**20  # bytes psycopg2 can send in a statement's text: PostgreSQL's parser holds a literal
# (hex: twice the bytes) in under 512 MB


def check_size(name, what, data) -> None:
    """InvalidModel (54000) for bytes the registry could store but pg_dump could not dump (see
    MAX_ARTIFACT_BYTES): refused before anything is sent to the server."""
    if len(data) > MAX_ARTIFACT_BYTES:
        raise _too_big(f"model {name}: {what}", len(data))


def _expanded_past(data, limit) -> int | None:
    """For a file joblib compressed (zlib, gzip, bz2, xz, lzma, lz4) holding a pickle of protocol 3 on (whose
    arrays are their bytes, about the size deploy serialises it to): the bytes it expands to, counted a megabyte at
    a time and no further once past `limit`; None where it stays within it or is not such a file."""
    try:
        from joblib.compressor import _COMPRESSORS
        from joblib.numpy_pickle_utils import _detect_compressor
    except ImportError:
        return None
    f = io.BytesIO(data)
    try:
        name = _detect_compressor(f)
        if name not in _COMPRESSORS:
            return None
        f.seek(0)
        with _COMPRESSORS[name].decompressor_file(f) as z:
            n = len(head := z.read(2))
            if not (head[:1] == b"\x80" and head[1:] >= b"\x03"):
                return None
            while n <= limit:
                chunk = z.read(1 << 20)
                if not chunk:
                    return None
                n += len(chunk)
            return n
    except Exception:  # noqa: BLE001 - not such a file: read as before
        return None


def _too_big(what, size) -> InvalidModel:
    """check_size's refusal of `what`, of `size` bytes."""
    return InvalidModel(f"{what} is {size / 2**20:,.0f} MB, and pgscore stores at most {MAX_ARTIFACT_BYTES // 2**20} "
                        "MB a version: pg_dump writes a bytea as hex, twice its size, and cannot dump a value over "
                        "PostgreSQL's 1 GB limit (every dump of the database would fail)", sqlstate="54000",
                        hint="make the model smaller: fewer or shallower trees (max_depth, min_samples_leaf, "
                             "max_leaf_nodes), or a model that does not keep its training data")


def _bytes_arg(conn, data):
    """How register_model is given `data` (bytes or None): (SQL, parameter, large object to unlink after). Over a
    psycopg2 connection in a transaction, through a large object, written in binary a chunk at a time: psycopg2
    sends a bytes parameter as a hex literal in the statement's text, which failed over 256 MB (`invalid memory
    alloc request size`: PostgreSQL's parser holds a literal in under 512 MB), took ~6 times the artifact's size in
    the backend, and put the whole hex text into the server log with any error the statement raised."""
    import psycopg2.extensions

    if data is None or not isinstance(conn, psycopg2.extensions.connection):
        return "%s", data, None  # (psycopg 3 binds its parameters)
    if conn.autocommit:  # a large object needs a transaction
        if len(data) > _LITERAL_MAX:
            raise InvalidModel(f"{len(data) / 2**20:,.0f} MB of model bytes cannot be sent over a psycopg2 connection "
                               f"in autocommit: at most {_LITERAL_MAX // 2**20} MB go in a statement's text",
                               sqlstate="54000", hint="deploy over a connection in a transaction (autocommit off, "
                                                      "as pgscore deploy and alembic's deploy_model do)")
        return "%s", data, None
    try:
        lo = conn.lobject(0, "wb")
    except psycopg2.Error as e:
        raise _translate(e) from e
    try:
        view = memoryview(data)
        for at in range(0, len(data), _LO_CHUNK):
            lo.write(bytes(view[at:at + _LO_CHUNK]))
        lo.close()
    except BaseException as e:
        # the write's error is the one to raise: closing in the transaction it aborted fails too ("current
        # transaction is aborted"), which in a finally replaced it; the rollback closes and drops the object
        with contextlib.suppress(psycopg2.Error):
            lo.close()
        if isinstance(e, psycopg2.Error):
            raise _translate(e) from e
        raise
    return "pg_catalog.lo_get(%s::pg_catalog.oid)", lo.oid, lo.oid


def _check_same_task(name, known, task, classes):
    """InvalidModel when the new version of `name` predicts another kind of thing than `known` (the
    version live, or with none live the one live last, else the newest: version, task, classes, feature
    names): a regressor deployed under a classifier's name had rescoring write its values into a probability
    column, and outcomes recorded as classes refused."""
    version, old_task, old_classes = known[:3]
    if (old_task, old_classes) == (task, classes):
        return
    def kind(t, c):
        return f"a {t} model" + (f" (classes {', '.join(map(repr, c))})" if c else "")

    e = InvalidModel(f"{name} v{version} is {kind(old_task, old_classes)}, and this estimator is "
                     f"{kind(task, classes)}: what reads {name}'s scores (rescored tables, outcomes, "
                     "dashboards) reads them as the former", sqlstate="22023",
                     hint=f"deploy it under another name; or, if every reader of {name} expects the change, "
                          "with --allow-task-change (allow_task_change=True)")
    e.sqlstate_said = True  # (the CLI prints it, as the deploy's refusals by the server say theirs)
    raise e


def _check_same_features(name, known, names):
    """InvalidModel when the new version of `name` takes other features, or the same in another order,
    than `known` (as for _check_same_task): every caller that passes a float8[] passes them by position,
    and one of the same length would be scored on the wrong features, silently."""
    version, old = known[0], list(known[3])
    if old == list(names):
        return
    gone, new = [n for n in old if n not in names], [n for n in names if n not in old]
    what = "; ".join(filter(None, (f"without {', '.join(gone)}" if gone else "",
                                   f"with {', '.join(new)}" if new else "",
                                   "in another order" if not gone and not new else "")))
    e = InvalidModel(f"{name} v{version} takes the features {', '.join(old)}, and this estimator takes "
                     f"{', '.join(names)} ({what}): a caller of pgscore.score('{name}', ARRAY[...]) passes "
                     "them by position", sqlstate="22023",
                     hint="deploy it under another name; or, once every caller that passes an array passes the "
                          "new features in the new order (callers by name, jsonb, and rescoring read them by "
                          "name), with --allow-feature-change (allow_feature_change=True)")
    e.sqlstate_said = True  # (the CLI prints it, as the deploy's refusals by the server say theirs)
    raise e


def compile_evaluator(estimator, task, n_features, matrix) -> tuple[bytes | None, dict]:
    """The estimator compiled to numpy and proved equal on the deploy data, or None and the reason."""
    from pgscore import compiled

    try:
        ev = compiled.compile_estimator(estimator, task, n_features)
    except compiled.Unsupported as e:
        return None, {"format": "none", "reason": f"not compiled: {e}"}
    if len(matrix) == 0:
        return None, {"format": "none", "reason": "not compiled: no deploy data to prove the evaluator on"}
    rng = np.random.default_rng(0)
    sample = matrix if len(matrix) <= VERIFY_ROWS else matrix[rng.choice(len(matrix), VERIFY_ROWS, replace=False)]
    try:
        check = compiled.verify(ev, estimator, task, sample)
    except compiled.Mismatch as e:
        return None, {"format": "none", "reason": f"not compiled: differs from scikit-learn: {e}"}
    except ValueError as e:  # the deploy data itself cannot be scored as a float matrix
        return None, {"format": "none", "reason": f"not compiled: cannot check it on the deploy data: {e}"}
    data = ev.to_bytes()
    return data, {"format": f"pgscore-numpy-{compiled.FORMAT}", "sha256": artifacts.sha256(data), "checked_rows": check["rows"],
                  "max_abs_diff": check["max_abs_diff"]}


def _json(o):
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(f"{type(o).__name__} is not JSON serialisable")


def forcing(call: str, force: bool) -> str:
    """An activate, rollback or set_shadow call (ending in its closing parenthesis) with p_force => true where `force`:
    named only then, so that a schema from before it (pgscore install not run yet) still takes the call."""
    return call[:-1] + ", p_force => true)" if force else call


@contextlib.contextmanager
def server_notices(conn):
    """The server's notices (NOTICEs, WARNINGs) raised on `conn` while the block runs, into the list it yields
    once the block ends: psycopg2's as it appends them to conn.notices, psycopg 3's (an alembic revision's
    connection, which has no conn.notices) in the same form, `WARNING:  message` with its DETAIL and HINT
    lines, through a notice handler. (Only those the server sends: client_min_messages above notice, a user's
    or PGOPTIONS', drops its NOTICEs before they leave it.)"""
    got = []
    notices = getattr(conn, "notices", None)
    if notices is not None:  # psycopg2
        # conn.notices is the block's own for its duration, each notice passed on to the one it replaces: psycopg2
        # keeps a list at its last 50 entries, and one that held 50 already (a long-lived connection's) did not
        # grow, so that reading it by its length found nothing of the block's
        heard = _Heard(notices)
        conn.notices = heard
        try:
            yield got
        finally:
            conn.notices = notices
            got.extend(n.strip() for n in heard.said)
        return
    add = getattr(conn, "add_notice_handler", None)
    if add is None:  # (another driver: none to read)
        yield got
        return

    def heard(diag):  # psycopg 3's Diagnostic, written as libpq writes a notice for psycopg2
        got.append("\n".join(f"{label}:  {text}" for label, text in (
            (diag.severity, diag.message_primary), ("DETAIL", diag.message_detail), ("HINT", diag.message_hint))
            if text))

    add(heard)
    try:
        yield got
    finally:
        conn.remove_notice_handler(heard)


class _Heard:
    """psycopg2's conn.notices for a server_notices block: what psycopg2 appends, kept whole (not a list, which
    psycopg2 cuts to its last 50 entries) and passed on to `given`, the object it stands for (the caller's list,
    cut to 50 as psycopg2 cuts it, or the command's printing one)."""

    def __init__(self, given):
        self.given, self.said = given, []

    def append(self, notice):
        self.said.append(notice)
        self.given.append(notice)
        if isinstance(self.given, list) and len(self.given) > 50:
            del self.given[:-50]


def rollback(db, name, to_version=None, reason=None, force=False, from_version=None) -> dict:
    """Undo the last go-live (the version live before the live one went live, leaving out those rolled back
    from), or make `to_version` live, by appending a deployment; refused where the server cannot load that
    version, unless `force`. `warnings` in what it returns: the server's WARNINGs (a version set in shadow that
    lacks a column of a wired profile table, which a rollback lets through where a version was live before).
    `already`: `to_version` was live before (nothing changed, no row appended; migration 0093), read as
    activate reads it (no row appended in the call's transaction, or the server's NOTICE).

    `from_version` (pgscore rollback --from N, session 64: the form a scheduler can retry): roll back only where
    that version is live, read under the name's lock; where it is not, nothing is changed and the record of the
    live version (the newest where none is) comes back with `not_live` True (a version that does not exist is
    refused, as show refuses it). The check and the rollback are one transaction (a connection in autocommit
    gets one), so the lock is held from one to the other."""
    with connection(db) as conn, (_one_transaction(conn) if from_version is not None else contextlib.nullcontext()):
        if from_version is not None:
            show(conn, name, from_version)  # (a version that does not exist: show's error, exit 1 as it says)
            lock_name(conn, name)
            if not _call(conn, "SELECT v.live FROM pgscore.model_versions v WHERE v.name = %s AND v.version = %s",
                         (name, from_version))[0][0]:
                return {**show(conn, name), "warnings": [], "already": False, "not_live": True,
                        "shadows_ended": []}
        check_not_subscribed(conn, f"rolling back model {name}")
        said = []  # (the server's notices: psycopg2's or psycopg 3's, an alembic revision's say)
        shadows = shadow_versions(conn, name)
        # (typed: psycopg 3 binds a None as a parameter of no type, which the call cannot resolve)
        already = _appended_nothing(conn, _LAST_DEPLOYMENT, name,
                                    forcing("SELECT pgscore.rollback(%s, %s::integer, %s::text)", force),
                                    (name, to_version, reason), "is live already: nothing was changed", said)
        return {**show(conn, name), "warnings": [n for n in said if n.startswith("WARNING:")], "already": already,
                "not_live": False, "shadows_ended": shadows_ended(conn, name, shadows)}


def activate(db, name, version, reason=None, force=False) -> dict:
    """Make `version` of `name` live (append a deploy row); refused where the server cannot load it, unless
    `force`. `already` in what it returns: the version was live before (nothing changed, no row appended;
    migration 0080): the name's history has no row after the call that it lacked before, read in the call's
    transaction, or the server's NOTICE says so (a row another session appended between the two reads, before
    the call took the name's lock, is its, not this call's). The NOTICE alone was missed where the session's
    client_min_messages is warning or above (a user's setting, PGOPTIONS), and `is live` was said."""
    with connection(db) as conn:
        check_not_subscribed(conn, f"activating model {name}")
        shadows = shadow_versions(conn, name)
        already = _appended_nothing(
            conn, _LAST_DEPLOYMENT, name,
            forcing("SELECT pgscore.activate(%s, %s::integer, %s::text)", force), (name, version, reason),
            "is live already: nothing was changed")
        return {**show(conn, name, version), "already": already, "shadows_ended": shadows_ended(conn, name, shadows)}


def model_names(conn) -> list[str]:
    """The names of the models stored (for an unknown name's error: the one it may be a typo for, typo_hint)."""
    return [n for n, in _call(conn, "SELECT DISTINCT name FROM pgscore.model_versions", None)]


def shadow_versions(conn, name) -> list[int]:
    """The versions of `name` scored in shadow now (pgscore.shadow_versions), in order; none before shadows."""
    if not _shadowing(conn):
        return []
    return [v for v, in _call(conn, "SELECT v.version FROM pgscore.shadow_versions v WHERE v.name = %s "
                                    "ORDER BY v.version", (name,))]


def shadows_ended(conn, name, before) -> list[int]:
    """Of `before` (shadow_versions before a go-live, in its transaction), those that are no longer shadows after
    it: the one made live (a live version is not scored in shadow). activate's, rollback's and alembic's
    undeploy_model's `shadows_ended`."""
    after = shadow_versions(conn, name) if before else []
    return [v for v in before if v not in after]


# the newest row of a model's deployment history (_appended_nothing's `last` for activate and rollback)
_LAST_DEPLOYMENT = "SELECT max(d.deployment_id) FROM pgscore.deployments d WHERE d.model_name = %s"


def _appended_nothing(conn, last, name, call, params, notice, notices=None) -> bool:
    """Run `call`; whether it appended no row to the name's history (`last`: its newest id), read before and
    after it in its transaction, or the server's NOTICE says `notice` (activate's, rollback's and set_shadow's
    `already`). `notices`, a list: the server's notices of the call are added to it (rollback's warnings)."""
    (before,), = _call(conn, last, (name,))
    with server_notices(conn) as said:
        _call(conn, call, params)
    if notices is not None:
        notices.extend(said)
    (after,), = _call(conn, last, (name,))
    return after == before or any(notice in n for n in said)


def retire(db, name, reason=None) -> None:
    """Leave `name` with no live version (append a retire row)."""
    with connection(db) as conn:
        check_not_subscribed(conn, f"retiring model {name}")
        _call(conn, "SELECT pgscore.retire(%s, %s)", (name, reason))


DELETE_CHECK_LOCK_WAIT = 100  # ms a dry run of delete_model waits for a lock at most (review r2 of session 66)


def delete_model(db, name, *, dry_run=False) -> dict:
    """Delete model `name` with all its versions (pgscore.delete_model, migration 0156: under the name's lock, as
    lock_name takes it; refused, 2BP01, where anything depends on it: predictions, outcomes, a wiring, a shadow,
    thresholds or silences of its own). Returns the rows deleted per table, {'pgscore.models': 2, ...}. With
    `dry_run`, the server's checks and counts alone: the call is rolled back (its own transaction, or a savepoint
    of the caller's), so that `pgscore delete` says a refusal before it asks (session 66). A dry run waits
    DELETE_CHECK_LOCK_WAIT ms at most for a lock (the function's SHARE lock on the log waits for every transaction
    in flight that scored, and every score after it waits for it; the name's lock, for a change of the model):
    55P03 (the driver's LockNotAvailable) where it would wait longer (review r2 of session 66).
    Its own transactions (a URL's connection, or a connection in autocommit) are begun READ COMMITTED, which
    pgscore.delete_model needs: a role or database whose transactions default to REPEATABLE READ was refused (25000,
    review r2 of session 66); a caller's transaction is the caller's."""
    with connection(db) as conn:
        if isinstance(db, str):
            conn.set_session(isolation_level="READ COMMITTED")
        check_writable(conn, f"deleting model {name}")
        sql = "SELECT d.table_name, d.rows FROM pgscore.delete_model(%s) AS d"
        own = bool(getattr(conn, "autocommit", False))
        if not dry_run and not own:
            return dict(_call(conn, sql, (name,)))
        _call(conn, "BEGIN ISOLATION LEVEL READ COMMITTED" if own else "SAVEPOINT pgscore_delete_model_dry_run", None)
        if not dry_run:
            try:
                deleted = dict(_call(conn, sql, (name,)))
            except BaseException:
                with contextlib.suppress(Exception):
                    _call(conn, "ROLLBACK", None)
                raise
            _call(conn, "COMMIT", None)
            return deleted
        try:
            # (local to the transaction, or undone with the savepoint; a shorter lock_timeout of the session's kept)
            _call(conn, "SELECT pg_catalog.set_config('lock_timeout', CASE WHEN s.setting::pg_catalog.int8 "
                        "OPERATOR(pg_catalog.>) 0 AND s.setting::pg_catalog.int8 OPERATOR(pg_catalog.<) %s "
                        "THEN s.setting ELSE %s::pg_catalog.text END, true) FROM pg_catalog.pg_settings s "
                        "WHERE s.name OPERATOR(pg_catalog.=) 'lock_timeout'",
                  (DELETE_CHECK_LOCK_WAIT, DELETE_CHECK_LOCK_WAIT))
            return dict(_call(conn, sql, (name,)))
        finally:
            _call(conn, "ROLLBACK" if own else "ROLLBACK TO SAVEPOINT pgscore_delete_model_dry_run", None)


def set_shadow(db, name, version, reason=None, force=False) -> dict:
    """Score `version` of `name` in shadow next to its live version (append a 'start' row to pgscore.shadows);
    refused where the server cannot load it or a profile table wired to rescore with `name` cannot feed it,
    unless `force`. `already` in what it returns: the version was a shadow before (nothing changed)."""
    with connection(db) as conn:  # (`already` read as activate reads it: a 'start' row appended, or the NOTICE)
        already = _appended_nothing(
            conn, "SELECT max(s.shadow_id) FROM pgscore.shadows s WHERE s.model_name = %s", name,
            forcing("SELECT pgscore.set_shadow(%s, %s, %s)", force), (name, version, reason), "is a shadow already")
        return {**show(conn, name, version), "already": already}


def clear_shadow(db, name, version=None, reason=None) -> int:
    """Stop scoring `version` (or every version) of `name` in shadow; returns how many stopped."""
    with connection(db) as conn:
        return _call(conn, "SELECT pgscore.clear_shadow(%s, %s, %s)", (name, version, reason))[0][0]


def clear_shadow_versions(db, name, version=None, reason=None) -> list[int]:
    """clear_shadow, returning the versions it stopped, in order (its count is their number): the 'stop' rows
    pgscore.clear_shadow appended to pgscore.shadows, read in its transaction (by their xmin), so that a shadow
    set or stopped meanwhile by another session is not named; nor one a go-live in this transaction ended (its
    stop, end_shadow_made_live's since migration 0121, names that deployment in since_deployment: clear_shadow's
    names none). A connection in autocommit gets one transaction for the two statements. (pgscore.clear_shadow
    keeps its signature: it returns the count.)"""
    with connection(db) as conn:
        own = bool(getattr(conn, "autocommit", False))
        if own:
            _call(conn, "BEGIN", None)
        try:
            n = _call(conn, "SELECT pgscore.clear_shadow(%s, %s, %s)", (name, version, reason))[0][0]
            versions = [v for v, in _call(
                conn, "SELECT m.version FROM pgscore.shadows s JOIN pgscore.models m ON m.model_id = s.model_id "
                      "WHERE s.model_name = %s AND s.action = 'stop' AND s.since_deployment IS NULL "
                      "AND s.xmin = pg_catalog.xid(pg_catalog.pg_current_xact_id()) ORDER BY m.version",
                (name,))] if n else []
        except BaseException:
            if own:
                _call(conn, "ROLLBACK", None)
            raise
        if own:
            _call(conn, "COMMIT", None)
    return versions


def _shadowing(conn) -> bool:
    """Whether the schema has shadow scoring (pgscore.shadows): an older one, which deploy, models and show
    serve too (an alembic revision of its own deploys before the upgrade), has no shadow column to read."""
    return _call(conn, "SELECT pg_catalog.to_regclass('pgscore.shadows') IS NOT NULL", None)[0][0]


def _version_columns(conn, shadowing=None) -> str:
    """MODEL_COLUMNS as pgscore.model_versions has them (`shadow` false where the schema predates it)."""
    shadowing = _shadowing(conn) if shadowing is None else shadowing
    return ", ".join(c if c != "shadow" or shadowing else "false AS shadow" for c in MODEL_COLUMNS)


def list_models(db) -> list[dict]:
    with connection(db) as conn:
        rows = _call(conn, "SELECT " + _version_columns(conn) + " FROM pgscore.model_versions "
                     "ORDER BY name, version", None)
    return [dict(zip(MODEL_COLUMNS, r)) for r in rows]


def show(db, name, version=None) -> dict:
    """One version's record (the live one, or the newest when none is live, by default)."""
    with connection(db) as conn:
        shadowing = _shadowing(conn)
        rows = _call(conn, "SELECT " + _version_columns(conn, shadowing) + " FROM pgscore.model_versions "
                     # (typed: psycopg 3 binds a None as a parameter of no type, `$3 IS NULL` unresolved)
                     "WHERE name = %s AND (version = %s::integer OR (%s::integer IS NULL)) "
                     "ORDER BY live DESC, version DESC LIMIT 1", (name, version, version))
        if not rows:
            # (version 0 is a version asked for, not None: it said "there is no model 'm'" of a model that
            # exists; and a version of a model that does not exist names the model, as the server's functions do)
            known = version is not None and _call(
                conn, "SELECT EXISTS (SELECT FROM pgscore.model_versions WHERE name = %s)", (name,))[0][0]
            what = f"version {version} of model {name!r}" if known else f"model {name!r}"
            # (the server's hint for a model it does not know; the command line turns it into `pgscore models`)
            lists = "list models with: SELECT * FROM pgscore.model_versions"
            if not known:  # (a typo of a model's name: the one it looks like)
                lists = typo_hint(name, model_names(conn), lists)
            raise UnknownModel(f"there is no {what}", hint=lists)
        rec = dict(zip(MODEL_COLUMNS, rows[0]))
        # each text feature's words (0123; read out of the row's jsonb, which a schema before it lacks)
        rec["text_categories"] = _call(conn, "SELECT pg_catalog.to_jsonb(m) -> 'text_categories' FROM pgscore.models m "
                                             "WHERE m.model_id = %s", (rec["model_id"],))[0][0]
        # the deployments (`activated`: an 'activate', migration 0121; before it, activate appended 'deploy', and
        # a 'deploy' of a version that had gone live before is read as one, and so is one of a version scored in
        # shadow before it: stored earlier and not live then, which register_model's 'deploy' never is)
        before = ("d.action = 'deploy' AND (EXISTS (SELECT 1 FROM pgscore.deployments e WHERE e.model_id = d.model_id "
                  "AND e.deployment_id < d.deployment_id)" + (
                      " OR EXISTS (SELECT 1 FROM pgscore.shadows s WHERE s.model_id = d.model_id "
                      "AND s.action = 'start' AND s.since_deployment < d.deployment_id)" if shadowing else "") + ")")
        rec["history"] = [dict(zip(("deployment_id", "version", "action", "reason", "deployed_at", "deployed_by",
                                    "activated"), r))
                          for r in _call(conn, "SELECT d.deployment_id, m.version, d.action, d.reason, d.deployed_at, "
                                         f"d.deployed_by, d.action = 'activate' OR {before} "
                                         "FROM pgscore.deployments d JOIN pgscore.models m "
                                         "USING (model_id) WHERE d.model_name = %s ORDER BY d.deployment_id",
                                         (name,))]
        # the versions stored without being made live (deploy --no-activate, register_model(p_activate => false)):
        # no deployment row says it, the version's own does (created_at, created_by, its reason since 0029). One a
        # 'deploy' made live is stored and made live at once, that line says both (not one read as an activation)
        from pgscore import schema

        reason = "m.reason" if _call(conn, schema.VERSION_REASON, None) else "NULL"
        rec["history"] += [dict(zip(("version", "action", "reason", "deployed_at", "deployed_by", "live"), r))
                           for r in _call(conn, f"SELECT m.version, 'deploy', {reason}, m.created_at, m.created_by, "
                                          "false FROM pgscore.models m WHERE m.name = %s AND NOT EXISTS (SELECT 1 "
                                          "FROM pgscore.deployments d WHERE d.model_id = m.model_id "
                                          f"AND d.action = 'deploy' AND NOT ({before})) ORDER BY m.version", (name,))]
        # shadow scoring's marks, as history entries of their own ('shadow', 'unshadow'); a shadow that a
        # deployment made live ended there: since 0121 a stop says so (its reason 'made live by activate'), before
        # it nothing did, and its end is read off that deployment, as pgscore.shadow_versions reads it (a 'deploy'
        # then was an activate's: a version stored and made live at once was never a shadow)
        rec["history"] += [dict(zip(("version", "action", "reason", "deployed_at", "deployed_by"), r))
                           for r in (_call(conn, "SELECT m.version, CASE s.action WHEN 'start' THEN 'shadow' "
                                           "ELSE 'unshadow' END, s.reason, s.changed_at, s.changed_by "
                                           "FROM pgscore.shadows s JOIN pgscore.models m USING (model_id) "
                                           "WHERE s.model_name = %s "
                                           "UNION ALL "
                                           "SELECT m.version, 'unshadow', 'made live by ' || CASE d.action "
                                           "WHEN 'deploy' THEN 'activate' ELSE d.action END, d.deployed_at, "
                                           "d.deployed_by FROM pgscore.shadows s JOIN pgscore.models m USING "
                                           "(model_id) CROSS JOIN LATERAL (SELECT d.action, d.deployed_at, "
                                           "d.deployed_by FROM pgscore.deployments d WHERE d.model_name = s.model_name "
                                           "AND d.model_id = s.model_id AND d.action <> 'retire' AND d.deployment_id > "
                                           "coalesce(s.since_deployment, 0) ORDER BY d.deployment_id LIMIT 1) d "
                                           "WHERE s.model_name = %s AND s.action = 'start' AND NOT EXISTS (SELECT 1 "
                                           "FROM pgscore.shadows n WHERE n.model_name = s.model_name "
                                           "AND n.model_id = s.model_id AND n.shadow_id > s.shadow_id "
                                           "AND n.changed_at <= d.deployed_at)", (name, name))
                                     if shadowing else [])]
        rec["history"].sort(key=lambda h: h["deployed_at"])
        return rec


def load_artifact(path: str, expected_sha256: str | None = None, given_by: str | None = None,
                  allow_version_mismatch: bool = False):
    """Read a joblib file for deployment, checking its sha256 first when one is given. `given_by` names
    where that hash came from (`--sha256`): a file that differs is then named with both hashes, rather
    than as bytes changed after deployment. Returns the estimator and the file's name and sha256 as read
    (deploy's `source`: the bytes stored are the estimator serialised again, whose sha256 is another). A file
    scikit-learn pickled under another of its versions is refused (VersionMismatch), unless
    allow_version_mismatch: then its version is recorded in the source too, as `scikit-learn`."""
    try:
        with open(os.fspath(path), "rb") as f:
            # a pickle joblib wrote uncompressed is about the size deploy serialises it to: one well over the limit
            # is refused before it is read, unpickled and serialised again, which would be refused then (session
            # 67: a 500-tree forest's 1.8 GB file took 50 s and 5.4 GB of the client's memory to be told so)
            # (a pipe's size is 0: `pgscore deploy <(gsutil cat ...)` is read whole; no seek back, which a pipe
            # cannot do: review r6, `cannot read the model file /dev/fd/63: None`)
            # (a pickle of protocol 3 on, whose bytes are bytes: protocol 2 writes an array's bytes as text, those
            # over 127 as two, a file ~1.25-1.5 times what deploy stores, read and judged by that: review r6)
            size = os.fstat(f.fileno()).st_size
            head = f.read(2)
            if head[:1] == b"\x80" and head[1:] >= b"\x03" and size > MAX_ARTIFACT_BYTES * 5 // 4:
                raise _too_big(f"{path} (a pickle as joblib writes it uncompressed, about the size deploy stores)",
                               size)
            data = head + f.read()
            regular = stat.S_ISREG(os.fstat(f.fileno()).st_mode)
    except OSError as e:
        raise ArtifactError(f"cannot read the model file {path}: {e.strerror}") from None
    past = _expanded_past(data, MAX_ARTIFACT_BYTES * 5 // 4)
    if past is not None:  # (session 68: a small compressed file expanding past it was unpickled, then refused)
        raise _too_big(f"{path} (compressed by joblib; its pickle, about the size deploy stores, expands to more)",
                       past)
    if expected_sha256 is not None and given_by is None:
        artifacts.verify(str(path), data, expected_sha256, None, None)
    elif expected_sha256 is not None:
        actual = artifacts.sha256(data)
        if actual != expected_sha256.strip().lower():
            raise ArtifactError(f"the sha256 of {path} is {actual}, not {expected_sha256} as given with {given_by}: "
                                "refusing to deploy it")
    estimator, written = artifacts.loads_file(str(path), data, allow_mismatch=allow_version_mismatch)
    # (a pipe's name, `pgscore deploy <(cat m.joblib)`'s /dev/fd/63, is no file's: its basename was recorded, `63`)
    source = {"file": os.path.basename(os.fspath(path)) if regular else f"{os.fspath(path)} (a pipe)",
              "sha256": artifacts.sha256(data)}
    if written is not None:  # (only with allow_version_mismatch: refused otherwise)
        source["scikit-learn"] = written
    return estimator, source
