"""Describe what a fitted estimator takes and gives: ordered feature names and types, task, classes."""

from __future__ import annotations

import math

from pgscore.errors import InvalidModel, literal
from pgscore.lazy import np


def check_fitted(estimator) -> None:
    from sklearn.base import BaseEstimator
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    if not isinstance(estimator, BaseEstimator):  # (a dict of models, a list, a fitted model's predictions...)
        raise InvalidModel(f"{type(estimator).__name__} is not a scikit-learn estimator with predict()",
                           hint="deploy a fitted estimator, as joblib.dump(model, path) writes it after "
                                "model.fit(X, y): a classifier, a regressor, or a Pipeline ending in one")
    if not hasattr(estimator, "predict"):
        from sklearn.base import is_clusterer, is_outlier_detector

        if is_outlier_detector(estimator):  # (LocalOutlierFactor without novelty=True, its default: review r6, told
            raise _neither(estimator)  # `a transformer alone predicts nothing`)
        if is_clusterer(estimator):  # (DBSCAN, AgglomerativeClustering: told `a transformer alone predicts nothing`)
            final = _final_step(estimator)
            raise InvalidModel(f"{_named(estimator, final)} is a clusterer without predict(): it labels the rows it "
                               "was fitted on (labels_), and no others",
                               hint="write its labels_ into a column from Python; or fit a classifier on them "
                                    f"(KNeighborsClassifier().fit(X, {_path_to_final(estimator)}.labels_)) and deploy "
                                    "that (docs/sql.md, 'Estimators pgscore scores')")
        raise InvalidModel(f"{type(estimator).__name__} is not a scikit-learn estimator with predict()",
                           hint="a transformer alone predicts nothing: deploy the Pipeline it is a step of, "
                                "ending in a classifier or a regressor")
    try:
        check_is_fitted(estimator)
    except NotFittedError as e:
        raise InvalidModel(f"{type(estimator).__name__} is not fitted", hint="call fit() before deploying") from e
    vectorizer = _text_vectorizer(estimator)
    if vectorizer is not None:
        raise InvalidModel(
            f"{type(estimator).__name__} holds a {vectorizer}, which turns free text into a column per token: pgscore "
            "scores features that are numbers, and codes the words of a category (a OneHotEncoder's), not the tokens "
            "of a text",
            hint="make the text's features numbers before the model, in SQL as at training: a column per term that "
                 "matters (a flag of a whole word, (body ~* '[[:<:]]refund[[:>:]]')::int, or a count: a rescoring "
                 "counter's expression, which takes no backslash, takes it too), or a score of another model written "
                 "into a column; or score the text in Python and write the scores into a column "
                 "(docs/sql.md, 'Estimators pgscore scores')")


def _text_vectorizer(estimator) -> str | None:
    """The class name of a text vectorizer (CountVectorizer, TfidfVectorizer, HashingVectorizer) anywhere in the
    estimator (a Pipeline's step, a ColumnTransformer's, a vote's...), else None. Session 67: a pipeline of one was
    refused as `feature 'body' holds 'late refund', which is not a number` with a hint about category encoders, or,
    fitted on a Series, as `the feature names are unknown`."""
    from sklearn.feature_extraction.text import _VectorizerMixin

    seen = [estimator]
    params = getattr(estimator, "get_params", None)
    if params is not None:
        try:
            seen += list(params(deep=True).values())
        except Exception:  # noqa: BLE001 - an estimator of its own whose get_params fails: nothing to find
            pass
    for value in seen:
        for one in (value if isinstance(value, (list, tuple)) else [value]):
            for part in (one if isinstance(one, (list, tuple)) else [one]):  # (a ColumnTransformer's tuples)
                if isinstance(part, _VectorizerMixin):
                    return type(part).__name__
    return None


def task_of(estimator) -> tuple[str, list | None]:
    """The task and a classifier's classes; InvalidModel for a model pgscore cannot score: one that predicts
    several outputs a row, as far as the fitted estimator shows it (deploy checks the values it gives too:
    one_value_a_row), and a classifier without predict_proba (its score is a class probability)."""
    from sklearn.base import is_classifier, is_regressor

    if is_classifier(estimator):
        if any(np.ndim(c) for c in estimator.classes_):  # a list of arrays: the classes of each output
            raise _several_outputs(estimator, len(estimator.classes_))
        if not hasattr(estimator, "predict_proba"):
            raise InvalidModel(f"{type(estimator).__name__} has no predict_proba: pgscore's score of a classifier is "
                               "a class probability, and this one gives none",
                               hint="wrap it in CalibratedClassifierCV (CalibratedClassifierCV(model).fit(X, y)), "
                                    "or use a classifier with predict_proba")
        classes = [c.item() if hasattr(c, "item") else c for c in estimator.classes_]
        return ("binary" if len(classes) == 2 else "multiclass"), classes
    if is_regressor(estimator):
        final = _final_step(estimator)
        coef = getattr(final, "coef_", None)
        outputs = max(getattr(final, "n_outputs_", 1),
                      np.shape(coef)[0] if is_regressor(final) and np.ndim(coef) == 2 else 1)
        if outputs > 1:  # a forest's n_outputs_; a linear model has none, its coef_ a row an output
            raise _several_outputs(estimator, outputs)
        return "regression", None
    raise _neither(estimator)


def _neither(estimator) -> InvalidModel:
    """The refusal of an estimator that is neither a classifier nor a regressor, saying what it is and what to do
    (session 67: `IsolationForest is neither a classifier nor a regressor`, and no more, for an anomaly detector or a
    KMeans, which the docs did not mention either)."""
    from sklearn.base import is_clusterer, is_outlier_detector

    final = _final_step(estimator)
    what = _named(estimator, final)
    why = ("pgscore scores classifiers (a class probability, and the class) and regressors (a value), one number a "
           "row it can compare with outcomes")
    if is_outlier_detector(estimator):
        return InvalidModel(
            f"{what} is an outlier detector, neither a classifier nor a regressor: {why}, and serves no "
            "detector's -1/1, decision_function or score_samples",
            hint="score it in Python and write its scores into a column (docs/sql.md, 'Estimators pgscore scores'); "
                 "or, with anomalies labelled, deploy a classifier of them")
    if is_clusterer(estimator):
        hint = "assign the clusters in Python and write them into a column"
        if type(final).__name__ in ("KMeans", "MiniBatchKMeans"):
            km = _path_to_final(estimator) if final is not estimator else "km"
            knn = (f"KNeighborsClassifier(n_neighbors=1).fit({km}.cluster_centers_, range({km}.n_clusters))")
            # (every step before it, a pipeline's last step that is a pipeline opened too: review r6, `model[-1]`
            # was the inner Pipeline, `no attribute 'cluster_centers_'`)
            before = ["model" + "[-1]" * depth + "[:-1]" for depth in range(km.count("[-1]"))]
            served = f"make_pipeline({', '.join(before)}, {knn})" if final is not estimator else knn
            hint = (f"a {type(final).__name__}'s cluster is its nearest centre, which a nearest-neighbour classifier "
                    f"of the centres gives: deploy {served} (from sklearn.neighbors) and read the cluster with "
                    "pgscore.predict; else " + hint)
        hint += " (docs/sql.md, 'Estimators pgscore scores')"
        return InvalidModel(f"{what} is a clusterer, neither a classifier nor a regressor: {why}", hint=hint)
    return InvalidModel(f"{what} is neither a classifier nor a regressor: {why}",
                        hint="deploy a classifier or a regressor, or a Pipeline ending in one "
                             "(docs/sql.md, 'Estimators pgscore scores')")


def _named(estimator, final) -> str:
    """`final` (the estimator's _final_step) named as a refusal names it: its class, and the Pipeline's it ends."""
    return type(final).__name__ + (f" (the last step of a {type(estimator).__name__})" if final is not estimator
                                   else "")


def _path_to_final(estimator, name="model") -> str:
    """Python reaching the estimator's _final_step from `name` (`model[-1]`, `model[-1][-1]` for a pipeline's
    last step that is a pipeline), or `name` itself, for a refusal's hint."""
    while hasattr(estimator, "steps"):
        estimator, name = estimator.steps[-1][1], f"{name}[-1]"
    return name


def _final_step(estimator):
    """The estimator at the end of a pipeline (of pipelines), which predicts; the estimator itself otherwise."""
    while hasattr(estimator, "steps"):
        estimator = estimator.steps[-1][1]
    return estimator


def _several_outputs(estimator, outputs) -> InvalidModel:
    return InvalidModel(f"{type(estimator).__name__} predicts {outputs} outputs a row (it was fitted on a y of "
                        f"{outputs} columns); pgscore scores one value a row",
                        hint="deploy one model per output, each fitted on one column of y")


def one_value_a_row(estimator, values, rows) -> None:
    """InvalidModel unless `values`, what the estimator gave for `rows` rows, is one value a row in one
    dimension, as every path that scores reads them: a model fitted on a y of several columns gives a row of
    values for each (pgscore zipped them, flattened, with the keys: each row got another's), and one fitted
    on a y of one column gives a column, which the row functions cannot take as a number."""
    shape = np.shape(values)
    if shape == (rows,):
        return
    if len(shape) == 2 and shape[0] == rows and shape[1] == 1:
        raise InvalidModel(f"{type(estimator).__name__} predicts a column (shape {shape}), not one value a row: it "
                           "was fitted on a y of one column in two dimensions",
                           hint="fit it on a one-dimensional y: y.ravel(), or df['target'] rather than "
                                "df[['target']]")
    if len(shape) > 1 and shape[0] == rows:
        raise _several_outputs(estimator, math.prod(shape[1:]))
    raise InvalidModel(f"{type(estimator).__name__} gives values of shape {shape} for {rows} rows, not one value "
                       "a row")


def check_labels(estimator, y, classes) -> None:
    """InvalidModel when labels y hold a value that is not one of the classifier's classes: metrics
    computed against them would describe some other model (a label column of another task)."""
    if classes is None or y is None:
        return
    y = np.asarray(y)
    known = np.asarray(estimator.classes_)
    if y.dtype.kind in "US" and known.dtype.kind in "iufb":
        # numeric classes, labels read as text: one cell that is no number ('yes') reads a CSV's whole column
        # so, '0' and '1' too, and all of them were counted as unknown; those that are numbers compare as numbers
        number = set(known.tolist())
        unknown = y[[not _is_one_of(v, number) for v in y]]
        if not len(unknown):  # every label a class, but as text (y.astype(str) from Python): metrics would not match
            values = list(dict.fromkeys(v.item() for v in y[:1000]))[:5]
            raise InvalidModel(f"the labels are text ({', '.join(map(repr, values))}) and the estimator's classes "
                               "numbers", detail=f"classes: {', '.join(map(repr, classes))}",
                               hint="pass the labels as numbers, as the estimator was fitted on")
    else:
        try:
            unknown = y[~np.isin(y, known)]
        except TypeError:  # labels and classes of types that do not compare (text against numbers)
            unknown = y
    if len(unknown):
        values = list(dict.fromkeys(v.item() if hasattr(v, "item") else v for v in unknown[:1000]))[:5]
        raise InvalidModel(f"the labels hold {len(unknown)} value(s) that are not classes of the estimator, "
                           f"first {', '.join(map(repr, values))}",
                           detail=f"classes: {', '.join(map(repr, classes))}",
                           hint="is --target the column the model was trained to predict?")


def _is_one_of(text, numbers: set) -> bool:
    try:
        return float(text) in numbers
    except ValueError:
        return False


def _sql_type(dtype) -> str:
    kind = np.dtype(dtype).kind if not hasattr(dtype, "kind") else dtype.kind
    return {"f": "float8", "i": "int8", "u": "int8", "b": "bool"}.get(kind, "text")


def fitted_names(estimator) -> list[str] | None:
    """The column names the estimator was fitted with (a DataFrame's: feature_names_in_), or None."""
    names = getattr(estimator, "feature_names_in_", None)
    return None if names is None else [str(n) for n in names]


def check_csv_width(estimator, names, *, csv: str, target_given: bool, target_hint: str, features_hint: str) -> None:
    """A training CSV of more (or fewer) columns than the estimator takes, its features not named: refused naming
    the CSV, its columns and how to name the target or the features (the deploy's own "12 feature names given but
    the estimator takes 5 features" named neither). csv: how the CSV is named; target_hint and features_hint: how
    the caller names them (pgscore deploy's options, alembic deploy_model's arguments)."""
    width = getattr(estimator, "n_features_in_", None)
    if width is None or width == len(names):
        return
    if not target_given and width == len(names) - 1:
        raise InvalidModel(f"{csv} has {len(names)} columns and the estimator takes {width} features: is one of them "
                           "the label?", detail=f"columns: {', '.join(names)}", hint=f"name it with {target_hint}")
    besides = " besides the target" if target_given else ""  # (no target given: it named one)
    raise InvalidModel(f"{csv} has {len(names)} columns{besides} and the estimator takes {width} features",
                       detail=f"columns: {', '.join(names)}",
                       hint=f"name the features, in the order the estimator takes them, with {features_hint}: the "
                            "CSV's other columns (an id, another label) are left out")


def describe(estimator, X, feature_names=None) -> tuple[list[str], list[str]]:
    """Ordered feature names (argument, DataFrame columns, or feature_names_in_) and SQL types."""
    width = getattr(estimator, "n_features_in_", None)
    if feature_names is not None:
        names = [str(n) for n in feature_names]
    elif hasattr(X, "columns"):
        names = [str(c) for c in X.columns]
    elif hasattr(estimator, "feature_names_in_"):
        names = [str(n) for n in estimator.feature_names_in_]
    else:
        raise InvalidModel("the feature names are unknown",
                           hint="pass feature_names=[...] (or train on a DataFrame)")
    blank = [i + 1 for i, n in enumerate(names) if not n.strip()]
    if blank:
        raise InvalidModel(f"feature name {blank[0]} of {len(names)} is empty", detail=f"names: {names}",
                           hint="every feature needs the name of the column or JSON key that holds it")
    if len(set(names)) != len(names):
        raise InvalidModel(f"feature names repeat: {names}")
    if width is not None and width != len(names):
        raise InvalidModel(f"{len(names)} feature names given but the estimator takes {width} features",
                           detail="names given: " + ", ".join(names),
                           hint=f"name the {width} features it was fitted on, in their order")
    fitted = fitted_names(estimator)
    if fitted is not None and names != fitted:
        how = ("in another order" if sorted(names) == sorted(fitted) else "with other names")
        raise InvalidModel(f"the estimator was fitted on named columns {', '.join(fitted)}; the feature names given "
                           f"({', '.join(names)}) name them {how}, and each value would reach the model in the "
                           "place of another", sqlstate="22023",
                           hint="give the names it was fitted with, in that order (--features " + ",".join(fitted)
                                + "; with --train the CSV's columns are picked by name, in any order)")
    if X is None:
        types = ["float8"] * len(names)
    elif hasattr(X, "dtypes"):
        types = [_sql_type(t) for t in X.dtypes]
    else:
        arr = np.asarray(X)
        if arr.ndim != 2 or arr.shape[1] != len(names):
            raise InvalidModel(f"X has shape {arr.shape}; expected (n, {len(names)})")
        types = [_sql_type(arr.dtype)] * len(names)
    return names, types


NAMEDATALEN = 64  # PostgreSQL's identifiers: 63 bytes, longer ones cut short with a NOTICE


def long_names_note(names) -> str | None:
    """What deploy says of feature names no column can carry (over 63 bytes in UTF-8), or None."""
    long = [n for n in names if len(n.encode()) >= NAMEDATALEN]
    if not long:
        return None
    return (f"{len(long)} feature name(s) longer than {NAMEDATALEN - 1} bytes, which PostgreSQL cuts short as a "
            f"column name ({', '.join(literal(n) for n in long[:3])}{', ...' if len(long) > 3 else ''}): score "
            "them by position (a float8[]) or by name as jsonb; a query with a column per feature, "
            "score_table and rescoring on INSERT read columns by these names and cannot find them")


NUMBERS_ONLY = ("pgscore scores numbers: every feature reaches the model as a float8 (a float8[] element or "
                "a JSON number). pgscore codes a category's words itself where an encoder fitted on them "
                "(OneHotEncoder, OrdinalEncoder, TargetEncoder) reads the column directly or after a SimpleImputer; "
                "else train on integer codes for a category (one-hot encode the codes inside the pipeline) and code "
                "the text in SQL, e.g. array_position(ARRAY['basic','plus','pro'], plan) - 1")


def _nested(est, cols=None, seen=None, within=None):
    """(estimator, the input columns a ColumnTransformer gives it or None, the columns given to the part it
    is a step of, or None) for `est` and every estimator
    fitted inside it: Pipeline steps, ColumnTransformer and FeatureUnion parts, and any fitted attribute
    holding estimators (a search's best_estimator_, an ensemble's estimators_, a calibrated classifier's,
    HistGradientBoosting's own preprocessor)."""
    from sklearn.base import BaseEstimator

    seen = set() if seen is None else seen
    if id(est) in seen:
        return
    seen.add(id(est))
    yield est, cols, within
    if hasattr(est, "steps"):
        for _, step in est.steps:
            yield from _nested(step, None, seen, cols if cols is not None else within)
    if hasattr(est, "transformers_"):
        for _, part, part_cols in est.transformers_:
            if not isinstance(part, str):  # ('remainder', 'drop', [...]): no estimator
                yield from _nested(part, part_cols, seen)
    if hasattr(est, "transformer_list"):
        for _, part in est.transformer_list:
            yield from _nested(part, None, seen)
    for attr, value in getattr(est, "__dict__", {}).items():
        if not (attr.endswith("_") or attr == "_preprocessor") or attr == "transformers_":
            continue
        items = value if isinstance(value, (list, tuple)) else [value]
        for item in items:
            for inner in (item if isinstance(item, tuple) else (item,)):
                inner = getattr(inner, "estimator", inner) if not isinstance(inner, BaseEstimator) else inner
                if isinstance(inner, BaseEstimator):
                    yield from _nested(inner, None, seen)


def _handed_on(step, positions) -> list | None:
    """The features (positions, None where unknown) of the columns a fitted ColumnTransformer whose every part is
    'passthrough' or 'drop' gives, in its output's order (its parts', the remainder last); None for any other step.
    (A HistGradientBoosting encoding a pandas category column itself after `ColumnTransformer([('keep',
    'passthrough', [...])]).set_output(transform='pandas')` was refused as after any step, session 68.)"""
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import FunctionTransformer

    index = getattr(step, "_transformer_to_input_indices", None)
    if type(step) is not ColumnTransformer or not hasattr(step, "transformers_") or index is None:
        return None
    out = []
    for name, part, _ in step.transformers_:
        if isinstance(part, str) and part == "drop":
            continue
        # ('passthrough', which a fitted ColumnTransformer holds as a FunctionTransformer of no function)
        identity = type(part) is FunctionTransformer and part.func is None
        if not (isinstance(part, str) and part == "passthrough" or identity) or name not in index:
            return None
        out += [positions[c] if c < len(positions) else None for c in map(int, index[name])]
    return out


def _positions(cols, n) -> list:
    """A ColumnTransformer's column selection as positions or names: a boolean mask, a slice, an int or a
    name, or a list of either. A slice of names (slice('a', 'c'), which scikit-learn takes from a DataFrame,
    both ends included) as the names at its ends: a selection by name (it raised TypeError, a traceback at deploy)."""
    if isinstance(cols, slice):
        if any(isinstance(end, str) for end in (cols.start, cols.stop)):
            return [end for end in (cols.start, cols.stop) if end is not None]
        return list(range(n))[cols]
    if isinstance(cols, (str, int, np.integer)):
        return [cols]
    cols = list(cols) if isinstance(cols, (list, tuple, np.ndarray)) else []
    if cols and all(isinstance(c, (bool, np.bool_)) for c in cols):
        return np.flatnonzero(cols).tolist()
    return cols


def _by_name(ct) -> bool:
    """A fitted ColumnTransformer that selects some of its columns by name (a DataFrame's, or by a
    make_column_selector, which it resolved to names when fitted)."""
    return any(isinstance(c, str) for _, _, cols in getattr(ct, "transformers_", [])
               for c in _positions(cols, getattr(ct, "n_features_in_", 0)))


def by_position(estimator):
    """(a copy of the estimator in which every ColumnTransformer that selects its columns by name selects the same
    columns by position, True); (the estimator itself, False) where none does. Such a ColumnTransformer (fitted on a
    pandas DataFrame, the usual way) refuses the float array the database gives every model; the positions are its
    own (_transformer_to_input_indices: the place of each name in the columns it was fitted on, which are the model's
    features for one at its head), so the copy takes the array in the order of the feature names, and a DataFrame
    as before (fitted on one, it still selects a DataFrame's columns by their names). Its unfitted specification is
    converted too, so that a clone refit on an array (the hold-out) selects the same columns. None where a
    ColumnTransformer by name cannot be converted (no _transformer_to_input_indices: another scikit-learn)."""
    import copy

    if not any(_by_name(est) for est, _, _ in _nested(estimator)):
        return estimator, False
    twin = copy.deepcopy(estimator)
    for est, _, _ in list(_nested(twin)):
        if not _by_name(est):
            continue
        index = getattr(est, "_transformer_to_input_indices", None)
        if not isinstance(index, dict):
            return None

        def at(name, cols):
            pos = [int(i) for i in index[name]]
            return pos[0] if isinstance(cols, (str, int, np.integer)) and len(pos) == 1 else pos
        try:
            est.transformers_ = [(name, part, at(name, cols)) for name, part, cols in est.transformers_]
            est.transformers = [(name, part, at(name, cols)) for name, part, cols in est.transformers]
            if getattr(est, "_columns", None) is not None:
                est._columns = [at(name, cols) for (name, _, _), cols in zip(est.transformers, est._columns)]
            if getattr(est, "_remainder", None) is not None and "remainder" in index:
                est._remainder = (est._remainder[0], est._remainder[1], [int(i) for i in index["remainder"]])
        except (KeyError, TypeError, ValueError):
            return None
        if _by_name(est):
            return None
    return twin, True


def native_categories(estimator, names) -> InvalidModel | None:
    """A HistGradientBoosting model that encodes text categories itself (categorical_features: from a pandas
    category dtype, its default since scikit-learn 1.6, or given), fitted on words: its own encoder, inside it, is
    not one pgscore codes, so the words reach it as text the database never gives. The refusal for it, or None
    (deploy said `feature 'region' holds 'east', which is not a number`, and a hint about encoders the model has
    none of)."""
    for est, cols, within in _nested(estimator):
        inner = getattr(est, "_preprocessor", None)
        marks = getattr(est, "is_categorical_", None)
        if inner is None or marks is None or cols is not None or within is not None:
            continue
        words = [c for _, enc, _ in getattr(inner, "transformers_", []) for cats in (getattr(enc, "categories_", None) or [])
                 for c in np.asarray(cats, dtype=object).tolist() if isinstance(c, (str, bytes))]
        if not words:
            continue
        # (its own input's names where it has them: after a step, its place i is not the model's feature i; the
        # refusal named 'spend' for region, and its hint's code encoded spend, session 67)
        inputs = _as_features(fitted_names(est), names) or names
        which = [inputs[i] for i in np.flatnonzero(np.asarray(marks)) if i < len(inputs)] or ["its categorical features"]
        return InvalidModel(
            f"the model's {type(est).__name__} encodes the text categories of {', '.join(map(literal, which))} "
            f"itself ({', '.join(map(repr, words[:5]))}: categorical_features, from a pandas category dtype or "
            "given), which pgscore does not convert; the database gives every feature as a number",
            hint="put an OrdinalEncoder of those columns before it, as the first step, and give it categorical_features "
                 "with their places in its input, which pgscore codes (docs/cli.md, Text categories): "
                 + native_alternative(type(est).__name__, which, est, names))
    return None


def with_native_categories(estimator, X, names):
    """Training data X given as an array (pgscore deploy's --train CSV, a numpy X) as a DataFrame of `names` whose
    columns a HistGradientBoosting model of the estimator took as a pandas category dtype (its categorical_features
    'from_dtype', fitted on the features' own DataFrame) are of that dtype again: what a copy refit for the hold-out
    needs (on the array it finds no categorical column and fails, `could not convert string to float: 'north'`; a
    category column of integers it refit as numbers, another model, and measured that one's metrics, session 66 r3);
    a DataFrame of `names` alike for a model given categorical_features by name (on an array its refit failed). X
    as it is where it is a DataFrame, pandas is not installed, or no such model reads it."""
    if X is None or hasattr(X, "iloc"):
        return X
    cats = set()
    named = False  # (categorical_features given as names: a refit on an array fails, `categorical_features should
    # be passed as an array of integers or as a boolean mask when the model is fitted on data without feature names`)
    for est, _, _ in _nested(estimator):
        marks = getattr(est, "is_categorical_", None)
        if marks is None or fitted_names(est) != list(names):
            continue
        given = getattr(est, "categorical_features", None)
        if isinstance(given, str) and given == "from_dtype":
            cats |= {names[i] for i in np.flatnonzero(np.asarray(marks))}
        elif given is not None and any(isinstance(c, str) for c in np.asarray(given, dtype=object).ravel().tolist()):
            named = True
    if not cats and not named:
        return X
    try:
        import pandas as pd
    except ImportError:
        return X
    frame = pd.DataFrame(np.asarray(X, dtype=object), columns=names)

    def column(n):
        if n in cats:
            col = frame[n].where(frame[n].notna(), np.nan)
            if not any(isinstance(v, str) for v in col.tolist()):  # (integer categories, read as floats: of a float
                col = col.astype(float)  # dtype, as an object one the refit copy's encoder fails on, 'isnan')
            return pd.Categorical(col)
        try:
            return pd.to_numeric(frame[n])
        except (TypeError, ValueError):  # (words another encoder reads: as they are)
            return frame[n]
    frame = frame.copy()
    for n in names:
        frame[n] = column(n)
    return frame


def _as_features(inputs, names):
    """A model's input names (a step's output before it: a ColumnTransformer's, which prefixes each with its part's
    name by default, 'cat__region') as the features they are, where one is named so (`names`, the model's: 'region');
    None where `inputs` is. (The refusal of a HistGradientBoosting after such a step named 'cat__region', and its
    hint's code failed, `Some column names are not columns of the dataframe: {'cat__region'}`; review r1.)"""
    if inputs is None:
        return None
    if names is None:
        return list(inputs)
    known = set(map(str, names))

    def feature(n):
        if n in known:
            return n
        found = [m for m in known if n.endswith("__" + m)]
        return found[0] if len(found) == 1 else n
    return [feature(str(n)) for n in inputs]


def native_alternative(kind, which, est=None, names=None) -> str:
    """The Pipeline that deploys in place of a HistGradientBoosting model encoding the text categories `which` itself
    (native_categories' hint), as code: an OrdinalEncoder of them by name (unknown words missing, as the model's own
    encoder makes them), the other columns passed on after them, and the model told they are its first ones. Its
    settings by a column's place (monotonic_cst, interaction_cst) follow their columns to their new places (given
    as they were, a constraint of the third column fell on the second: another model, session 66 r3); monotonic_cst
    by name is given by place (the model after the encoder is given an array, with no names: session 67)."""
    params = ""
    if est is not None:  # (the model's own settings that differ from the defaults, but categorical_features)
        given = est.get_params(deep=False)
        default = type(est)().get_params(deep=False)
        own = fitted_names(est)  # (its input's names as it was fitted on them: monotonic_cst's keys)
        inputs = _as_features(own, names) or (list(names) if names is not None else None)
        # the hint's model's input: the encoded columns, then the model's other features in their order (its
        # remainder); the model's own input, after a step, may hold them in another order
        after = list(which) + [n for n in (names if names is not None else inputs or []) if n not in which]
        if inputs is not None and sorted(inputs) == sorted(after):
            place = {old: after.index(n) for old, n in enumerate(inputs)}  # (a place in its input -> in the hint's)
            cst = given.get("monotonic_cst")
            if isinstance(cst, dict):  # (by name: the hint's model is given an array, which has none, session 67)
                cst = [int(cst.get(n, 0)) for n in (own or inputs)]
            if cst is not None and len(cst) == len(inputs):
                given["monotonic_cst"] = [np.asarray(cst).tolist()[inputs.index(n)] for n in after]
            groups = given.get("interaction_cst")
            if groups is not None and not isinstance(groups, str):
                given["interaction_cst"] = [sorted(place.get(int(i), int(i)) for i in g) for g in groups]
        params = "".join(f", {k}={v!r}" for k, v in given.items()
                         if k != "categorical_features" and repr(v) != repr(default.get(k)))
    return ("make_pipeline(ColumnTransformer([('cat', OrdinalEncoder(handle_unknown='use_encoded_value', "
            f"unknown_value=np.nan), {list(which)!r})], remainder='passthrough'), "
            f"{kind}(categorical_features={list(range(len(which)))!r}{params}))")


def unservable(estimator, names) -> InvalidModel | None:
    """What in the fitted estimator itself keeps the server from ever scoring it, or None: an encoder fitted
    on text categories or on an object array (it refuses the float array every feature reaches the model
    as), a ColumnTransformer that selects its columns by name (it takes only a pandas DataFrame). Deploy
    raises it when there is no training data to try the model on, and names it when that data fails."""
    for est, cols, within in _nested(estimator):
        by_name = [c for _, _, part_cols in getattr(est, "transformers_", []) for c in _positions(part_cols, len(names))
                   if isinstance(c, str)]
        if by_name:
            return InvalidModel(
                f"the model's {type(est).__name__} takes its columns by name ({', '.join(map(repr, by_name[:5]))}) "
                "from a pandas DataFrame; the database gives the model a float array, in the order of its "
                "feature names, which such a ColumnTransformer refuses",
                hint="select the columns by position: ColumnTransformer([(..., [0, 2]), ...]) with the "
                     f"positions in the feature names ({', '.join(names[:6])}{', ...' if len(names) > 6 else ''}), "
                     "and train on X.to_numpy()")
        for i, cats in enumerate(getattr(est, "categories_", None) or []):
            cats = np.asarray(cats)
            if cats.dtype.kind not in "OUS":  # numbers; text may also come as a numpy string array
                continue
            text = [c for c in cats.tolist() if isinstance(c, (str, bytes))]
            if text:
                return _fitted_on_text(est, cols, within, i, text, names)
            feature = _input_named(cols, within, i, names)
            return InvalidModel(f"the model's {type(est).__name__} was fitted on an object array for {feature} "
                                "(numbers held as Python objects): it refuses the float array the database gives "
                                "every model", hint="fit it on floats: X.astype(float)")
    return None


def _input_named(cols, within, i, names) -> str:
    """An encoder's input i, as a feature name where the columns it is given say which."""
    def named(selection):
        return [names[c] if isinstance(c, (int, np.integer)) and 0 <= c < len(names) else str(c)
                for c in _positions(selection, len(names))]

    seen, part = named(cols), named(within)
    return (f"feature {literal(seen[i])}" if i < len(seen) else f"its input {i + 1}"
            + (f" (in the part given {', '.join(map(repr, part))})" if part else ""))


def _fitted_on_text(est, cols, within, i, text, names) -> InvalidModel:
    return InvalidModel(f"the model's {type(est).__name__} was fitted on text categories for "
                        f"{_input_named(cols, within, i, names)} ({', '.join(map(repr, text[:5]))}); the database "
                        "gives every feature to the model as a number", hint=NUMBERS_ONLY)


def _a_number(v) -> bool:
    """v is a value given as a number: neither text nor missing (None, NaN)."""
    return not isinstance(v, (str, bytes)) and v is not None and v == v


def given_numbers_for_text(estimator, task: str, X, names) -> InvalidModel | None:
    """An encoder fitted on text categories that, the model scoring X (the float array the server gives), is
    given numbers for one of them, or None. It scores each such value as an unknown category (none, with
    handle_unknown='ignore'): the model scores, but without that feature, and no error says so. Where a step
    before the encoder makes its text from the numbers (a FunctionTransformer), the encoder is given text."""
    import copy

    import joblib

    found = [(k, est, cols, within) for k, (est, cols, within) in enumerate(_nested(estimator))
             if any(isinstance(c, (str, bytes)) for cats in (getattr(est, "categories_", None) or [])
                    for c in np.asarray(cats).tolist())]
    if not found:
        return None
    try:
        twin = copy.deepcopy(estimator)  # its encoders watched as the model scores: the estimator is left as it is
    except Exception:  # noqa: BLE001 - a model that cannot be copied is not checked (it deploys as before)
        return None
    twins = dict(enumerate(est for est, _, _ in _nested(twin)))
    given = []

    def watch(k, enc):
        transform = enc.transform

        def watched(Xin, *args, **kwargs):
            arr = np.asarray(Xin, dtype=object)
            for i, cats in enumerate(enc.categories_):
                texts = any(isinstance(c, (str, bytes)) for c in np.asarray(cats).tolist())
                # any number given (a missing code is not one: an imputer before the encoder fills it with
                # one of its words, and a column of codes then holds text too)
                if texts and arr.ndim == 2 and i < arr.shape[1] and any(
                        _a_number(v) for v in arr[:, i].tolist()):
                    given.append((k, i))
            return transform(Xin, *args, **kwargs)
        enc.transform = watched

    for k, *_ in found:
        watch(k, twins[k])
    try:
        # in this process: a ColumnTransformer or FeatureUnion with n_jobs transforms in workers, whose encoders
        # are copies this function does not watch
        with joblib.parallel_config(backend="sequential"):
            scores_of(twin, task, np.asarray(X)[:1000])
    except Exception:  # noqa: BLE001 - a model that cannot score X is refused by the caller's own try
        return None
    if not given:
        return None
    k, i = given[0]
    est, cols, within = next((e, c, w) for kk, e, c, w in found if kk == k)
    text = [c for c in np.asarray(est.categories_[i]).tolist() if isinstance(c, (str, bytes))]
    problem = _fitted_on_text(est, cols, within, i, text, names)
    problem.detail = ("scoring the training data as the server does, every value it is given there is a number, "
                      "never one of those categories: it scores each as an unknown category, the feature ignored")
    return problem


def as_matrix(X, names) -> np.ndarray:
    """X as a float matrix (None and NaN are missing values); InvalidModel naming the first feature in
    `names` whose values are not numbers: text ('basic', and '0' too: a model trained on strings takes
    strings), or what float() refuses. Such a model could never be scored."""
    if not hasattr(X, "columns"):
        arr = np.asarray(X)
        if arr.dtype.kind in "biuf":
            return arr.astype(float)
        X = np.asarray(X, dtype=object)
    cols = [_numbers_of(X[c]) for c in X.columns] if hasattr(X, "columns") else list(X.T)
    out = []
    for name, col in zip(names, cols):
        bad = _not_a_number(col) if col.dtype.kind not in "biuf" else None
        if bad is None:
            try:
                out.append(np.asarray(col, dtype=float))
                continue
            except (TypeError, ValueError):
                bad = next(v for v in col if v is not None)
        raise InvalidModel(f"feature {literal(name)} holds {bad!r}, which is not a number", hint=NUMBERS_ONLY)
    return np.column_stack(out) if out else np.empty((len(X), 0))


def _numbers_of(col) -> np.ndarray:
    """A DataFrame's column as an array. A column of one of pandas' nullable number dtypes (boolean, Int64,
    Float64: an extension dtype of kind b, i, u or f) as floats, its <NA> a missing value (NaN): np.asarray gives
    a nullable boolean column as objects holding pd.NA, which float() refuses. Text dtypes are left as they are
    ('0' in a text column is text)."""
    if _nullable_number(col):
        try:
            return col.to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError):
            pass
    return np.asarray(col)


def _nullable_number(col) -> bool:
    """A DataFrame's column of one of pandas' nullable number dtypes (boolean, Int64, Float64...)."""
    dtype = getattr(col, "dtype", None)
    return (dtype is not None and not isinstance(dtype, np.dtype) and hasattr(col, "to_numpy")
            and getattr(dtype, "kind", None) in ("b", "i", "u", "f"))


def _not_a_number(col):
    """The first value of an object or text column that is text or that float() refuses; None if none."""
    for v in col:
        if v is None:
            continue
        if not isinstance(v, (str, bytes)):
            try:
                float(v)
                continue
            except (TypeError, ValueError):
                pass
        return v.item() if isinstance(v, np.generic) else v  # 'basic', not np.str_('basic')
    return None


def scores_of(estimator, task: str, X) -> np.ndarray:
    """The score: positive-class probability (binary), top-class probability (multiclass), value (regression)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # fitted on a DataFrame, scored on an array
        return _scores(estimator, task, X)


def predicted_of(estimator, X) -> np.ndarray:
    """The class predict gives each row of X, as the audit log's label holds it (serving.label_row: the
    estimator's predict)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # fitted on a DataFrame, scored on an array
        return np.asarray(estimator.predict(X))


def of_zeros(estimator, task: str, n_features: int):
    """What the estimator gives for one row of zeros (scores_of), or None where it refuses that row; quietly
    (a log of 0): it shows what a model deployed without training data gives a row."""
    import warnings

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return _scores(estimator, task, np.zeros((1, n_features)))
        except Exception:  # noqa: BLE001 - a row it refuses shows nothing
            return None


def _scores(estimator, task, X):
    if task == "regression":
        return np.asarray(estimator.predict(X), dtype=float)
    proba = estimator.predict_proba(X)
    return proba[:, 1] if task == "binary" else proba.max(axis=1)


# -- text categories: an encoder fitted on words, deployed as trained (migration 0123) -------------------------

def _is_encoder(est) -> bool:
    from sklearn.preprocessing._encoders import _BaseEncoder

    return isinstance(est, _BaseEncoder)


def encoded_codes(estimator) -> dict:
    """{feature name: the numbers an encoder fitted on numbers knows of it} for the encoders of the estimator that
    a ColumnTransformer gives columns by name (directly or first in a part's Pipeline): the values the made-up rows
    of a deploy without training data draw for those features (normal draws are unknown to such an encoder, which
    with handle_unknown='ignore' gives zeros for any of them, so two such parts given each other's columns scored
    alike; session 68)."""
    out = {}
    for est, cols, within in _nested(estimator):
        sel = cols if cols is not None else within
        cats = getattr(est, "categories_", None)
        if not _is_encoder(est) or cats is None or not isinstance(sel, (list, tuple)) or len(sel) != len(cats):
            continue
        for name, c in zip(sel, cats):
            if isinstance(name, str) and not _texts(c):
                known = [float(v) for v in np.asarray(c, dtype=float).tolist() if v == v]
                if known:
                    out.setdefault(name, known)
    return out


def _texts(cats) -> bool:
    return any(isinstance(c, (str, bytes)) for c in np.asarray(cats, dtype=object).tolist())


def _missing_value(c) -> bool:
    return c is None or (isinstance(c, float) and c != c) or _is_pandas_na(c)


def _is_pandas_na(v) -> bool:
    """pandas' <NA> (pd.NA), without importing pandas (not a dependency of pgscore's)."""
    return type(v).__name__ == "NAType" and type(v).__module__.startswith("pandas")


def na_as_nan(X):
    """Training data X with pandas' <NA> in its columns of words (the `string` dtype's missing value, which
    `convert_dtypes()` and `dtype_backend='numpy_nullable'` make, or an object column holding it) as NaN, the missing
    value the database gives for a NULL and the one scikit-learn's imputers and encoders take (they fail on <NA>:
    `TypeError: boolean value of NA is ambiguous`); an object array's <NA> (a DataFrame's to_numpy()) likewise. X as
    it is otherwise (the nullable number dtypes' <NA> are read as missing where they are read)."""
    if hasattr(X, "columns") and hasattr(X, "dtypes"):
        fixed = {}
        for c, dtype in zip(X.columns, X.dtypes):
            if getattr(dtype, "na_value", None) is not None and _is_pandas_na(dtype.na_value) and \
                    getattr(dtype, "kind", None) in ("O", "U"):  # (the `string` dtype: Int64's na_value is <NA> too)
                fixed[c] = X[c].astype(object).where(X[c].notna(), np.nan)
            elif dtype == object and any(_is_pandas_na(v) for v in X[c].tolist()):
                fixed[c] = X[c].where(X[c].notna(), np.nan)
        if fixed:
            X = X.copy()  # (the caller's DataFrame as it was)
            for c, col in fixed.items():
                X[c] = col
        return X
    if isinstance(X, np.ndarray) and X.dtype == object and any(_is_pandas_na(v) for v in X.ravel().tolist()):
        X = X.copy()
        X[np.vectorize(_is_pandas_na, otypes=[bool])(X)] = np.nan
    return X


def _vocabulary(est, i, feature) -> list[str]:
    """An encoder's categories for input i as words (the code of a word is its index); a missing category,
    which scikit-learn keeps last, is left out (NULL codes as NaN). InvalidModel where they are not all text."""
    cats = np.asarray(est.categories_[i], dtype=object).tolist()
    words = cats[:-1] if cats and _missing_value(cats[-1]) else cats
    odd = [c for c in words if not isinstance(c, str)]
    if odd:
        raise InvalidModel(f"the model's {type(est).__name__} was fitted on categories for feature {literal(feature)} "
                           f"that are not all text ({', '.join(map(repr, odd[:3]))}): pgscore codes words (str) "
                           "only, a word's code its place among them", hint=NUMBERS_ONLY)
    return words


class _Walk:
    """Which top-level feature each transformer's input column is, through Pipelines, ColumnTransformers and
    FeatureUnions: the encoders fitted on text, the imputers before them, and every other use of a feature."""

    def __init__(self, names):
        self.names = names
        self.encoders = []  # (encoder, input index, feature position)
        self.imputers = []  # (imputer, input index, feature position)
        self.other = {}  # feature position -> what else reads it

    def walk(self, est, positions):
        from sklearn.compose import ColumnTransformer
        from sklearn.impute import SimpleImputer
        from sklearn.pipeline import FeatureUnion, Pipeline

        if isinstance(est, str) or est is None:  # 'passthrough', 'drop'
            if est == "passthrough":
                for p in positions:
                    self._use(p, "passed through to the next step")
            return
        if type(est) is Pipeline:
            current = positions
            for _, step in est.steps:
                if isinstance(step, str) or step is None:  # ('passthrough', None: a step left out hands the columns
                    continue  # on as they are; walked as a remainder's 'passthrough', every feature seemed used by it)
                handed = _handed_on(step, current)  # columns handed on as they are, in its order: used by the next
                if handed is not None:
                    current = handed
                    continue
                self.walk(step, current)
                if not (isinstance(step, SimpleImputer) and not step.add_indicator
                        or isinstance(step, str) or step is None):
                    current = [None]  # after a transformer that makes other columns: which feature is unknown
            return
        if type(est) is ColumnTransformer:
            for _, part, cols in est.transformers_:
                sel = _positions(cols, len(positions))
                if part == "drop":
                    continue
                self.walk(part, [positions[c] if isinstance(c, (int, np.integer)) and c < len(positions) else None
                                 for c in sel])
            return
        if type(est) is FeatureUnion:
            for _, part in est.transformer_list:
                self.walk(part, positions)
            return
        if _is_encoder(est):
            for i, cats in enumerate(est.categories_):
                p = positions[i] if i < len(positions) else None
                if not _texts(cats):
                    self._use(p, f"the {type(est).__name__} fitted on numbers")
                    continue
                if p is None:
                    raise InvalidModel(
                        f"the model's {type(est).__name__} was fitted on text categories "
                        f"({', '.join(map(repr, np.asarray(cats, dtype=object).tolist()[:5]))}) given it after "
                        "another transformer: pgscore codes the words of a feature as it reaches the model, and "
                        "cannot tell which feature these are", hint=NUMBERS_ONLY)
                if any(isinstance(c, bytes) for c in np.asarray(cats, dtype=object).tolist()):
                    raise InvalidModel(f"the model's {type(est).__name__} was fitted on bytes categories for feature "
                                       f"{literal(self.names[p])}: pgscore codes text (str) only", hint=NUMBERS_ONLY)
                self.encoders.append((est, i, p))
            return
        if isinstance(est, SimpleImputer) and getattr(est, "statistics_", None) is not None:
            stats = np.asarray(est.statistics_, dtype=object).tolist()
            for i, p in enumerate(positions):
                if i < len(stats) and isinstance(stats[i], (str, bytes)):
                    if p is None or est.strategy not in ("most_frequent", "constant") or est.add_indicator:
                        raise InvalidModel(f"the model's SimpleImputer fills a text column ({stats[i]!r}) pgscore "
                                           "cannot code", hint=NUMBERS_ONLY)
                    self.imputers.append((est, i, p))
                else:
                    self._use(p, "a SimpleImputer of numbers")
            return
        # a HistGradientBoosting model that encodes its categorical features itself (categorical_features, from a
        # pandas category dtype by default): its own preprocessor, a ColumnTransformer of an OrdinalEncoder of those
        # columns (unknown and missing words NaN) and the numbers passed on, reads the features; its trees read the
        # codes that encoder makes, which the converted encoder makes of the words' codes alike (session 66; refused
        # before: native_categories)
        if getattr(est, "is_categorical_", None) is not None and type(getattr(est, "_preprocessor", None)) \
                is ColumnTransformer:
            self.walk(est._preprocessor, positions)
            return
        # a search saved whole (its best_estimator_ predicts) and a calibrated classifier (each fold's estimator):
        # fed the model's own columns, as a Pipeline's first step is
        if hasattr(est, "best_estimator_") and hasattr(est, "cv_results_"):
            self.walk(est.best_estimator_, positions)
            return
        if hasattr(est, "calibrated_classifiers_"):
            for c in est.calibrated_classifiers_:
                self.walk(c.estimator, positions)
            return
        for p in positions:
            self._use(p, f"{type(est).__name__}")
        for inner, _, _ in _nested(est):
            if any(_texts(c) for c in (getattr(inner, "categories_", None) or [])):
                raise InvalidModel(f"the model's {type(inner).__name__} inside {type(est).__name__} was fitted on "
                                   "text categories where pgscore cannot tell which feature feeds it",
                                   hint=NUMBERS_ONLY)

    def _use(self, p, what):
        if p is not None:
            self.other.setdefault(p, what)


def fitted_on_words(estimator) -> bool:
    """Whether an encoder of the estimator was fitted on text categories (what text_conversion converts)."""
    return any(_texts(c) for est, _, _ in _nested(estimator) for c in (getattr(est, "categories_", None) or []))


def text_conversion(estimator, names):
    """(the estimator with its text categories replaced by their codes, {feature: its words, in the order of
    their codes}) for a model whose encoders (OneHotEncoder, OrdinalEncoder, TargetEncoder) were fitted on
    text, each fed a top-level feature directly or through a SimpleImputer (most_frequent or constant); the
    estimator itself and {} where none is. InvalidModel where the conversion would not be exact: the feature
    also feeds another transformer, the encoder is given it after a transformer, two encoders of it know
    other words, bytes categories."""
    import copy

    if not fitted_on_words(estimator):
        return estimator, {}
    twin = copy.deepcopy(estimator)
    walk = _Walk(names)
    walk.walk(twin, list(range(len(names))))
    vocab = {}
    for est, i, p in walk.encoders:
        words = _vocabulary(est, i, names[p])
        if vocab.setdefault(p, words) != words:
            raise InvalidModel(f"two encoders of feature {literal(names[p])} were fitted on other words "
                               f"({', '.join(map(repr, vocab[p][:5]))} and {', '.join(map(repr, words[:5]))}): "
                               "one code cannot stand for a word in both", hint=NUMBERS_ONLY)
        if p in walk.other:
            raise InvalidModel(f"feature {literal(names[p])} feeds an encoder fitted on its words and also "
                               f"{walk.other[p]}, which takes the words themselves: pgscore gives it a code",
                               hint=NUMBERS_ONLY)
    for est, i, p in walk.imputers:
        if p not in vocab:
            raise InvalidModel(f"the model's SimpleImputer fills feature {literal(names[p])} with a word, and no "
                               "encoder fitted on words reads it after", hint=NUMBERS_ONLY)
    for est, i, p in walk.encoders:
        cats = np.asarray(est.categories_[i], dtype=object).tolist()
        codes = np.arange(len(cats), dtype=float)
        if cats and _missing_value(cats[-1]):
            codes[-1] = np.nan
        est.categories_[i] = codes
    for est, i, p in walk.imputers:
        stats = np.asarray(est.statistics_, dtype=object)
        word = stats[i]
        # (a word the encoder after it does not know, such as fill_value='missing' where the training data
        # had no missing value: an unknown word's code)
        stats[i] = float(vocab[p].index(word)) if word in vocab[p] else -1.0
    for est in {id(e): e for e, _, _ in walk.imputers}.values():
        stats = np.asarray(est.statistics_, dtype=object)
        if all(isinstance(s, (int, float)) for s in stats.tolist()):
            est.statistics_ = stats.astype(float)
            if est.missing_values is None:  # (fitted on words with None missing: NULL's code is NaN; the check
                est.missing_values = np.nan  # refuses a model whose training data's NaN it left as they were)
            est._fit_dtype = np.dtype(float)
            est._fill_dtype = np.dtype(float)
        else:
            raise InvalidModel("the model's SimpleImputer fills text columns pgscore does not code", hint=NUMBERS_ONLY)
    # an encoder after the converted ones fitted on numbers held as objects (a ColumnTransformer's output where a
    # passthrough column was an object array's: HistGradientBoosting's own preprocessor): given the codes, floats,
    # it took them for another type and failed; its categories as floats map the same numbers alike
    converted = {id(e) for e, _, _ in walk.encoders}
    for est, _, _ in _nested(twin):
        if _is_encoder(est) and id(est) not in converted and getattr(est, "categories_", None) is not None:
            est.categories_ = [np.asarray(c, dtype=float) if np.asarray(c).dtype == object and not _texts(c)
                               and all(isinstance(v, (int, float, np.number)) for v in np.asarray(c).tolist())
                               else c for c in est.categories_]
    return twin, {names[p]: vocab[p] for p in sorted(vocab)}


def object_rows(X) -> np.ndarray:
    """X (an array, or a DataFrame's columns) as an object array of rows: words and numbers as they are (a
    nullable number column's <NA> as NaN)."""
    if hasattr(X, "columns"):
        cols = [_numbers_of(X[c]).astype(object) if _nullable_number(X[c]) else np.asarray(X[c], dtype=object)
                for c in X.columns]
        return np.column_stack(cols) if cols else np.empty((len(X), 0), dtype=object)
    return np.asarray(X, dtype=object)


def code_words(X, names, vocab):
    """Training data X with each word of a feature that has a vocabulary replaced by its code (-1 for a word the
    model does not know, NaN for a missing value): a float matrix. InvalidModel where such a feature holds a
    number (a code made by hand may use another order)."""
    if not vocab:
        return X
    cols = list(object_rows(X).T)  # (a nullable number column's <NA> as NaN)
    out = []
    for name, col in zip(names, cols):
        words = vocab.get(name)
        if words is None:
            out.append(col)
            continue
        index = {w: k for k, w in enumerate(words)}
        coded = np.empty(len(col), dtype=float)
        for r, v in enumerate(col.tolist()):
            if _missing_value(v):  # (None, or a float NaN: numpy's floats are floats)
                coded[r] = np.nan
            elif isinstance(v, str):
                coded[r] = index.get(v, -1.0)
            else:
                raise InvalidModel(f"feature {literal(name)} holds the number {v!r} in the training data, where the "
                                   f"model was fitted on its words ({', '.join(map(repr, words[:5]))}): pgscore codes "
                                   "the words itself", hint="give the training data the words, as the model was "
                                                            "fitted on them")
        out.append(coded)
    return np.column_stack(out).astype(object) if out else np.empty((len(cols[0]) if cols else 0, 0))


def check_text_conversion(original, converted, task, vocab, names, words_X=None, coded=None) -> None:
    """InvalidModel unless the converted model on codes gives what the original gives on words: on the training
    data (words_X, and coded, the same coded) and on a sample of every word, NULL and an unknown word of each
    feature (scores to 1e-12, labels equal, the same rows refused)."""
    import warnings

    positions = {names.index(f): words for f, words in vocab.items()}
    frame = words_X if hasattr(words_X, "iloc") else None  # (a DataFrame: the model given is also tried on it)
    if coded is not None and len(coded):
        base_codes = np.asarray(coded[0], dtype=float)
    else:
        base_codes = np.zeros(len(names))
    base_words = [(vocab[names[j]][int(c)] if j in positions and c == c and 0 <= c < len(positions[j]) else
                   (None if j in positions else c)) for j, c in enumerate(base_codes)]
    if words_X is not None:
        words_X = object_rows(words_X)
        if len(words_X):
            base_words = list(words_X[0])
    for j, words in positions.items():  # (a base row with a word in each: a sample row holds one NULL at most)
        if not isinstance(base_words[j], str) and words:
            base_words[j] = words[0]
    index = {j: {w: k for k, w in enumerate(words)} for j, words in positions.items()}  # (a word's code at once: a
    # list's index() of each sample row's words made the check quadratic, 20,000 words 8.5 s, 40,000 half a minute)
    base_codes = [float(x) if not isinstance(x, str) and x is not None else np.nan for x in base_words]
    for jj in positions:  # the text features' codes of the base row
        v = base_words[jj]
        base_codes[jj] = np.nan if _missing_value(v) else float(index[jj].get(v, -1.0))
    w_rows, c_rows = [], []  # (each sample row: its words for the original (NULL as None, else as NaN), its codes)
    for j, words in positions.items():
        for k, w in enumerate(words + [np.nan, "\x00 no such word"]):
            rw, rc = list(base_words), list(base_codes)
            rw[j] = w
            rc[j] = float(k) if k < len(words) else (np.nan if k == len(words) else -1.0)
            w_rows.append(rw)
            c_rows.append(rc)

    def outcome(est, X):
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                return scores_of(est, task, X), (predicted_of(est, X) if task != "regression" else None)
            except Exception as e:  # noqa: BLE001 - any error is the model's answer (a TypeError as well)
                return type(e), None

    def same(a, b):
        if isinstance(a[0], type) or isinstance(b[0], type):
            return a[0] is b[0]
        return (np.shape(a[0]) == np.shape(b[0]) and np.allclose(a[0], b[0], rtol=0, atol=1e-12, equal_nan=True)
                and (a[1] is None or np.array_equal(a[1], b[1])))

    def refuse(what, why=""):
        raise InvalidModel("the model converted to take each word's code does not give what it gives for the words "
                           f"themselves, on {what}; it cannot be deployed with its text categories coded",
                           detail=f"features with words: {', '.join(vocab)}{why}", hint=NUMBERS_ONLY)

    if words_X is not None and coded is not None and len(coded):
        xw = words_X[:VERIFY_TEXT_ROWS]
        if not same(outcome(original, xw), outcome(converted, np.asarray(coded, dtype=float)[:VERIFY_TEXT_ROWS])):
            # None in a column of words (an object column, as SQL's NULL reaches pandas through some drivers): a
            # SimpleImputer of NaN leaves it, and the encoder took it as a category of its own, where the database
            # gives a NULL as a missing value
            held = [f"{literal(names[j])} ({n} rows)" for j in positions
                    for n in [sum(v is None for v in words_X[:, j].tolist())] if n]
            refuse("the training data", "; the training data holds None (not NaN) in " + ", ".join(held)
                   + ": a SimpleImputer of NaN leaves None, which the encoder takes as a category of its own, where "
                   "the database gives a NULL as a missing value (NaN); fit on the data with None as NaN "
                   "(X.fillna(np.nan))" if held else "")
        # the training DataFrame itself, as the model given scores it in the notebook (a HistGradientBoosting model
        # reading a pandas category dtype's words, session 66): where it scores the frame, the converted model on
        # the codes gives the same (a model that refuses its own frame is tried on its rows above alone)
        if frame is not None:
            mine = outcome(original, frame.iloc[:VERIFY_TEXT_ROWS])
            if not isinstance(mine[0], type) and not same(
                    mine, outcome(converted, np.asarray(coded, dtype=float)[:VERIFY_TEXT_ROWS])):
                refuse("the training data as the DataFrame given")
    # the rows of known words at once (a feature of thousands of words: as many calls of a big forest took minutes),
    # one at a time where either model refuses that batch; the rows of a NULL or an unknown word one at a time
    # (a strict encoder refuses one row, not the batch)
    known = [i for i, rw in enumerate(w_rows) if all(isinstance(rw[j], str) and rw[j] in index[j] for j in positions)]
    if known:
        xw = np.array([w_rows[i] for i in known], dtype=object)
        a, b = outcome(original, xw), outcome(converted, np.array([c_rows[i] for i in known], dtype=float))
        if not (isinstance(a[0], type) or isinstance(b[0], type)):
            if not same(a, b):
                refuse("a sample of every word")
            done = set(known)
            w_rows = [rw for i, rw in enumerate(w_rows) if i not in done]
            c_rows = [rc for i, rc in enumerate(c_rows) if i not in done]
    for rw, rc in zip(w_rows, c_rows):
        b = outcome(converted, np.array([rc], dtype=float))
        xw = np.array([rw], dtype=object)
        if not same(outcome(original, xw), b):
            # a NULL: the original given None where it was fitted on None (pandas gives NaN, psycopg2 None)
            nulls = [j for j, v in enumerate(rw) if isinstance(v, float) and v != v and j in positions]
            for j in nulls:
                xw[0, j] = None
            if not nulls or not same(outcome(original, xw), b):
                refuse("a sample of every word, NULL and an unknown word")


VERIFY_TEXT_ROWS = 5000
