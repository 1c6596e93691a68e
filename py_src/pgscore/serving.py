"""Server side of the registry: resolve the live version, load and cache models, score rows and chunks.

Everything takes `plpy` (and the per-backend dict GD) as arguments; nothing
here imports plpy, so the logic is tested through SQL and the math without a
database. Every query here qualifies its tables, functions, types and
operators, so the caller's search_path never changes what it means: the row
functions (score, predict, predict_proba) run with the caller's path (no SET
clause since migration 0019: it cost a sixth of each call), the others with
a fixed one. A prepared plan run under another search_path than its last
run is parsed and planned again (~35 us), so the row path keeps plans of its
own rather than share them with the trigger and the batches.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import warnings

from pgscore import artifacts, backend
from pgscore.errors import (ArtifactError, InvalidModel, PgscoreError, UnknownModel, literal, nearest, server_message,
                            spi_fields, typo_hint)
from pgscore.lazy import np

# the signing key's path comes from the server process's environment, which no
# session can change; a GUC would not do: placeholder GUCs are settable by any
# session and invisible in pg_settings, so an override could not be detected
SIGNING_KEY_ENV = "PGSCORE_SIGNING_KEY_FILE"
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,62}$")
EQ = "OPERATOR(pg_catalog.=)"

# `made`: when the version's row was written, which tells a version from another under the same model_id (a
# database restored over with pg_restore --clean, or pgscore uninstalled and installed again, numbers its
# versions from where the dump or 1 left off, while a session keeps the models it loaded before)
_MADE = "pg_catalog.date_part('epoch', m.created_at) AS made"
_LIVE = (f"SELECT d.model_id, d.action, (SELECT {_MADE} FROM pgscore.models m WHERE m.model_id {EQ} d.model_id) "
         f"AS made FROM pgscore.deployments d WHERE d.model_name {EQ} $1 ORDER BY d.deployment_id DESC LIMIT 1")
_BY_VERSION = f"SELECT m.model_id, {_MADE} FROM pgscore.models m WHERE m.name {EQ} $1 AND m.version {EQ} $2"
_EXISTS = f"SELECT 1 FROM pgscore.models m WHERE m.name {EQ} $1 LIMIT 1"
_NAMES = "SELECT DISTINCT m.name FROM pgscore.models m"  # (an unknown name's error only: typo_hint)
# (text_categories, 0123 on, read out of the row's jsonb: a schema before it has no such column)
_META = (f"SELECT m.name, m.version, m.task, m.feature_names, m.classes::pg_catalog.text AS classes, {_MADE}, "
         "(pg_catalog.to_jsonb(m) OPERATOR(pg_catalog.->) 'text_categories')::pg_catalog.text AS text_categories, "
         "m.env::pg_catalog.text AS env, e.format, e.bytes, e.sha256, e.hmac_sha256 "
         f"FROM pgscore.models m LEFT JOIN pgscore.evaluators e ON e.model_id {EQ} m.model_id "
         f"WHERE m.model_id {EQ} $1")
_ARTIFACT = f"SELECT a.bytes, a.sha256, a.hmac_sha256 FROM pgscore.artifacts a WHERE a.model_id {EQ} $1"
# artifact and evaluator bytes are read only by pgscore.load_model, which runs as its owner: the roles
# that score may read the registry's metadata but never the bytes
_LOAD = "SELECT pgscore.load_model($1)"
_FEATURE_INDEX = re.compile(r"feature index (\d+)")


# final estimators whose predict is, in scikit-learn's code (1.9), the argmax of their predict_proba, first on
# ties: their predict calls predict_proba (or the same array) and takes its argmax, or takes the argmax (or,
# binary, the sign > 0, a probability above 0.5) of a decision function that predict_proba maps through a
# monotone link (expit, softmax, exp of log-likelihoods), so the two differ only where rounding makes the
# probabilities of two classes equal while their decision values are not (a decision within ~1e-16 of the
# boundary), as for the compiled engine, which takes the argmax of the same links. Each maps to a condition
# on the fitted estimator; a subclass (a user's) is not on the list, nor any other class (a tuned threshold,
# SVC's decision function, one-vs-rest's last class on ties): its predict is called
_ARGMAX_PREDICT = {
    "LogisticRegression": None, "LogisticRegressionCV": None,
    # modified_huber clips its probabilities (ties); a multiclass log_loss one normalises one-vs-rest
    # expits, which saturate at 1 for two classes far on their side (a tie predict breaks by margin)
    "SGDClassifier": lambda est: est.loss == "log_loss" and len(est.classes_) == 2,
    "DecisionTreeClassifier": None, "ExtraTreeClassifier": None,
    "RandomForestClassifier": None, "ExtraTreesClassifier": None,
    "HistGradientBoostingClassifier": None,
    # binary predict is raw >= 0: a raw score of 0 predicts the positive class, argmax of 0.5/0.5 the other
    "GradientBoostingClassifier": lambda est: len(est.classes_) > 2,
    # uniform: the mode of the neighbours' classes (smallest on ties), or predict_proba's argmax itself. Not
    # distance weights: predict sums each class's weights with np.sum (pairwise from 8 neighbours on), predict_proba
    # one neighbour at a time, so an exact tie (integer features) comes out 1 ulp apart, either way; nor a callable
    "KNeighborsClassifier": lambda est: est.weights == "uniform",
    "GaussianNB": None, "MultinomialNB": None, "ComplementNB": None, "BernoulliNB": None, "CategoricalNB": None,
    "MLPClassifier": None,  # binary: output > 0.5 against [1 - output, output]
    "CalibratedClassifierCV": None, "BaggingClassifier": None,
    "VotingClassifier": lambda est: est.voting == "soft",
}
# wrappers whose predict and predict_proba are those of the estimator inside (Pipeline: after the same transforms)
_LOOK_THROUGH = {
    "Pipeline": lambda est: est.steps[-1][1],
    "GridSearchCV": lambda est: getattr(est, "best_estimator_", None),
    "RandomizedSearchCV": lambda est: getattr(est, "best_estimator_", None),
}


def predict_is_argmax(estimator) -> bool:
    """Whether a fitted classifier's predict is by construction the argmax of its predict_proba, first on
    ties (_ARGMAX_PREDICT), so that its label can be read from the probabilities scored anyway; decided
    from the exact type of the final estimator, looking through a Pipeline or a search's best estimator."""
    est = estimator
    while est is not None and type(est).__module__.startswith("sklearn.") and type(est).__name__ in _LOOK_THROUGH:
        est = _LOOK_THROUGH[type(est).__name__](est)
    if est is None or not type(est).__module__.startswith("sklearn.") or type(est).__name__ not in _ARGMAX_PREDICT:
        return False
    condition = _ARGMAX_PREDICT[type(est).__name__]
    try:
        return condition is None or bool(condition(est))
    except AttributeError:  # (an estimator unpickled from another version lacking one): ask predict
        return False


class SklearnEvaluator:
    """The unpickled estimator behind the evaluator interface, for models that could not be compiled."""

    def __init__(self, estimator, task, label):
        self.estimator, self.task, self.label = estimator, task, label
        # where its predict is the most probable class, a label is read from the probabilities (one call)
        self.predict_is_argmax = task != "regression" and predict_is_argmax(estimator)

    def _call(self, fn, X):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # fitted on a DataFrame, scored on an array
            return fn(X)

    def proba(self, X):
        fn = getattr(self.estimator, "predict_proba", None)
        if fn is None:  # stored before deploy refused a classifier without it (features.task_of)
            raise InvalidModel(f"model {self.label}: {type(self.estimator).__name__} has no predict_proba, and a "
                               "classifier's score is a class probability", sqlstate="22023",
                               hint="deploy it again wrapped in CalibratedClassifierCV")
        return self._call(fn, X)

    def score(self, X):
        if self.task == "regression":
            values = np.asarray(self._call(self.estimator.predict, X), dtype=float)
            if values.shape != (len(X),):  # stored before deploy refused it (features.one_value_a_row): the
                # values of several outputs, flattened, would go to the keys of other rows
                raise InvalidModel(f"model {self.label}: {type(self.estimator).__name__} predicts values of shape "
                                   f"{values.shape[1:]} a row, not one value", sqlstate="22023",
                                   hint="deploy one model per output, each fitted on one column of y as one "
                                        "dimension")
            return values
        p = self.proba(X)
        return p[:, 1] if self.task == "binary" else p.max(axis=1)

    def predict_index(self, X):
        """Index into classes_ of the class the estimator's own predict gives, which need not be the most
        probable one (a tuned decision threshold, SVC's decision function); a regressor's value."""
        if self.task == "regression":
            return self.score(X)
        classes = np.asarray(self.estimator.classes_)
        labels = np.asarray(self._call(self.estimator.predict, X))
        order = np.argsort(classes, kind="stable")
        index = order[np.minimum(np.searchsorted(classes, labels, sorter=order), len(classes) - 1)]
        if not np.array_equal(classes[index], labels):
            raise InvalidModel(f"model {self.label}: {type(self.estimator).__name__}.predict gave a class that is not "
                               "one of its classes_", sqlstate="22023")
        return index

    def score_row(self, x):
        return float(self.score(np.array([x], dtype=float))[0])

    def proba_row(self, x):
        return self.proba(np.array([x], dtype=float))[0].tolist()


class Loaded:
    """A verified model: its metadata and the evaluator that scores it (compiled numpy, or scikit-learn)."""

    def __init__(self, model_id, name, version, task, feature_names, classes, evaluator, engine,
                 text_categories=None):
        self.model_id, self.name, self.version, self.task = model_id, name, version, task
        # each text feature's words, in the order of their codes (migration 0123; {} when none): a word given by
        # name becomes its code (_codes: feature -> word -> code), an unknown word -1, an unknown category
        self.text_categories = dict(text_categories or {})
        self._codes = {f: {w: float(k) for k, w in enumerate(words)} for f, words in self.text_categories.items()}
        # the text features with a word that reads as a number ('10115', a zip code): a number given for one could
        # be that word or a code, and is refused (numbered_word_error) rather than scored silently as either
        self.numbered = numbered_features(self.text_categories)
        self._unknown_words = None  # {feature index: word} of the last row given by name with an unknown word
        self.made = None  # when its row was written (_MADE), set by load_as_owner
        self.feature_names, self.classes = feature_names, classes
        self.n = len(feature_names)
        self.evaluator, self.engine = evaluator, engine
        self.label = f"{name} v{version}"
        # a multiclass model's audit rows carry the predicted class (as predict's), whatever path logged
        # them: the multiclass accuracy is computed from it. Chosen once here, so the row functions of
        # binary models and regressors do no work for it
        self.multiclass = task == "multiclass" and bool(classes)
        # a classifier's label: scikit-learn's predict where it scores the model (SklearnEvaluator.predict_index)
        # and that need not be the most probable class, else the most probable class (one evaluation less)
        self.own_labels = isinstance(evaluator, SklearnEvaluator) and not evaluator.predict_is_argmax
        # each class as text, as label_row gives it (for the labels of a chunk: scores_and_labels); a binary
        # classifier's made when first asked (score_table's p_label_into): a linear model's row path, its audit rows
        # and rescoring in SQL import no numpy in a new session (docs/performance.md, "First call in a new session")
        self._class_text = np.array([str(c) for c in classes], dtype=object) if self.multiclass else None
        # the writer's environment of a pickle loaded under pgscore.allow_version_mismatch, which another
        # version of scikit-learn or numpy wrote: checked again each time it is resolved (Runtime.resolve)
        self.mismatched_env = None
        # where what loaded (evaluator or pickle) has a signature of the first scheme, not bound to the version,
        # accepted under pgscore.unbound_signatures = 'accept': its label, checked again each time it is resolved
        self.unbound = None
        self.footprint = 0  # bytes it holds, near enough (set by load_as_owner; Runtime's cache counts them)
        self._categories = None  # categories(), made when an error first asks

    # -- inputs --------------------------------------------------------------
    def vector(self, features, by_name=False) -> list:
        """The feature list from a float8[] (a list) or a jsonb object (a str), checked; `by_name`: the
        function's features are jsonb (a NULL of either type reaches Python as None)."""
        if type(features) is str:
            return self.from_json(features)
        if features is None:
            raise self._null_features(by_name)
        if self._unknown_words is not None:  # (an earlier row's by name: not this one's words)
            self._unknown_words = None
        if len(features) != self.n or features and type(features[0]) is list:  # a list in it: more dimensions
            raise self._shape_error(features)
        if None in features:
            return [math.nan if v is None else v for v in features]
        return features

    def _null_features(self, by_name) -> InvalidModel:
        if by_name:  # (before, a NULL jsonb was called "the feature array", which it is not)
            return InvalidModel(f"model {self.label}: the features are NULL (a NULL jsonb, not an object)",
                                detail="expected a jsonb object with the keys: " + ", ".join(self.feature_names),
                                hint="a feature that is missing is a JSON null in the object ({\"" + self.feature_names[0]
                                     + "\": null}), which the model reads as NaN; a NULL object is no row to score",
                                sqlstate="22004")
        return InvalidModel(f"model {self.label}: the feature array is NULL",
                            detail=f"expected a float8[] of {self.n} features, in order: " + ", ".join(self.feature_names),
                            sqlstate="22004")

    def _shape_error(self, features) -> InvalidModel:
        expected = "expected, in order: " + ", ".join(self.feature_names)
        dims, inner = [], features
        while type(inner) is list:
            dims.append(len(inner))
            inner = inner[0] if inner else None
        if len(dims) > 1:
            return InvalidModel(f"model {self.label} takes one row of {self.n} features as a one-dimensional array, "
                                f"got a {len(dims)}-dimensional one ({' x '.join(map(str, dims))})",
                                detail=expected, hint="score each row with its own call, or a whole query with "
                                "pgscore.predict_batch", sqlstate="22023")
        return InvalidModel(f"model {self.label} takes {self.n} features, got {len(features)}", detail=expected,
                            sqlstate="22023")

    def from_json(self, text) -> list:
        try:
            obj = json.loads(text, parse_int=float)  # as a double (jsonb keeps any number of digits)
        except ValueError as e:
            raise InvalidModel(f"model {self.label}: the features are not valid JSON: {e}", sqlstate="22P02") from e
        if not isinstance(obj, dict):
            kind = {float: "a number", str: "a string", list: "an array", bool: "a boolean"}.get(type(obj), "null")
            raise InvalidModel(f"model {self.label}: features by name must be a JSON object, got {kind}",
                               detail="keys: " + ", ".join(self.feature_names),
                               sqlstate="22023")
        out = []
        self._unknown_words = None
        for name in self.feature_names:
            try:
                v = obj[name]
            except KeyError:
                raise InvalidModel(f"model {self.label}: feature {literal(name)} is missing from the JSON object",
                                   detail="expected keys: " + ", ".join(self.feature_names),
                                   hint=_near_key(name, obj, self.feature_names)
                                   or _missing_key_hint(obj, self.feature_names),
                                   sqlstate="22023") from None
            if v is None:
                out.append(math.nan)
            elif isinstance(v, (int, float)):  # booleans count as 0/1
                if name in self.numbered:
                    said = json.dumps(v) if isinstance(v, bool) else str(int(v)) if v.is_integer() else repr(v)
                    raise self.numbered_word_error(name, f"the JSON number {said}", "22023",
                                                   "pass the word as a JSON string (a text column's to_jsonb, or "
                                                   f"jsonb_build_object(..., {literal(name)}, "
                                                   + word_cast("<column>", typename=None, words=self.text_categories[
                                                       name]) + "), pg_catalog.trim_scale(<column>) in it for a "
                                                   "numeric")
                if math.isinf(v):  # JSON has no Infinity: a number such as 1e400, which jsonb keeps exactly
                    raise InvalidModel(f"model {self.label}: feature {literal(name)} is out of the range of double "
                                       "precision", sqlstate="22003")
                out.append(float(v))
            elif isinstance(v, str) and name in self._codes:
                out.append(self.code(name, v))
            else:
                raise InvalidModel(f"model {self.label}: feature {literal(name)} must be a number, got "
                                   f"{json.dumps(v)[:60]}", sqlstate="22P02", hint=_number_hint(v))
        return out

    def code(self, feature, word) -> float:
        """A word's code for a feature with a vocabulary: its place among the words, -1.0 for one the model does
        not know (an unknown category), remembered for the error a strict encoder's refusal becomes."""
        code = self._codes[feature].get(word)
        if code is None:
            if self._unknown_words is None:
                self._unknown_words = {}
            self._unknown_words[self.feature_names.index(feature)] = word
            return -1.0
        return code

    def category_code(self, feature, word, padded=False):
        """pgscore.category_code: a word's code for one of the model's text features (-1 for an unknown word,
        None for NULL); an error naming the model's text features for a feature that has no words. `padded`: a
        char(n)'s word, blank-padded as PostgreSQL gives it: that where the model knows it so, else the word cut
        (its cast to text), as the columns' paths code it (batch.feature_items)."""
        if feature not in self._codes:
            known = ", ".join(map(literal, self.text_categories)) or "none"
            raise InvalidModel(f"model {self.label} has no text feature {literal(feature)}", sqlstate="22023",
                               detail="its text features: " + known,
                               hint=typo_hint(feature, list(self.text_categories)))
        if word is None:
            return None
        if padded and word not in self._codes[feature]:
            word = word.rstrip(" ")
        return self._codes[feature].get(word, -1.0)

    def numbered_word_error(self, feature, given, sqlstate, how) -> InvalidModel:
        """The refusal of a number given for a text feature fitted on words that read as numbers (self.numbered):
        taken as a code (the meaning a number has for any other text feature) it scored a zip code 80331 as an
        unknown word, silently, where scikit-learn given the word '80331' scores that word; taken as the word, a
        number has lost the word's form (01067 is 1067, 5.0 is 5) and a code given by name would be misread.
        `given`: what was given; `how`: how to pass the word as text on that path."""
        words = self.text_categories[feature]
        said = ", ".join(map(literal, words[:3])) + (", ..." if len(words) > 3 else "")
        return InvalidModel(f"model {self.label}: feature {literal(feature)} was fitted on words that read as numbers "
                            f"({said}) and is given {given}, which could mean such a word or a word's code: it is "
                            "scored as neither", sqlstate=sqlstate,
                            hint=f"{how}; each word as the model knows it, leading zeros kept (the words it knows: "
                                 + ", ".join(map(literal, words[:10])) + (f", ... ({len(words)} in all)" if len(words)
                                                                          > 10 else "")
                                 + "); or the codes by position (pgscore.category_code)")

    def _word_error(self, msg, X):
        """A strict encoder's refusal of an unknown word (or NULL) of a feature with a vocabulary, naming the feature
        and the word (where the row was given by name), its hint the words the model knows; None otherwise."""
        if not self.text_categories or "unknown categor" not in msg.lower() or len(X) != 1:
            return None
        m = _FEATURE_INDEX.search(msg)
        row = np.asarray(X, dtype=float)[0]
        candidates = [int(m.group(1))] if m else [j for j, f in enumerate(self.feature_names) if f in self._codes
                                                  and (row[j] == -1.0 or row[j] != row[j])]
        j = next((j for j in candidates if j < self.n and self.feature_names[j] in self._codes), None)
        if j is None:
            return None
        name = self.feature_names[j]
        words = self.text_categories[name]
        given = (self._unknown_words or {}).get(j)
        what = (f"the word {shown_word(given)}" if given is not None else "NULL" if row[j] != row[j] else
                "an unknown word (code -1)" if row[j] == -1.0 else f"the code {row[j]:g}")
        err = InvalidModel(f"model {self.label}: feature {literal(name)} holds {what}, which is none of the words the "
                           "model was fitted on, and its encoder refuses an unknown category", sqlstate="22023",
                           hint=_words_hint(words))
        err.feature, err.refusal = name, CATEGORY  # (batch.scored names the key of the first row holding one)
        return err

    def refused_word(self, x, feature, word):
        """The error of one row `x` (its codes) a strict encoder refuses for an unknown word of `feature`, naming
        `word`, the row's word as read by its key (a chunk's rows hold codes only: batch.scored); None where
        scoring it is no such refusal."""
        self._unknown_words = {self.feature_names.index(feature): word}
        try:
            self.score(np.asarray([x], dtype=float))
        except InvalidModel as e:
            return e if getattr(e, "refusal", None) == CATEGORY and e.feature == feature else None
        finally:
            self._unknown_words = None
        return None

    # -- scoring -------------------------------------------------------------
    def score_row(self, x) -> float:
        try:
            return self.evaluator.score_row(x)
        except ValueError as e:
            raise self._bad_input(e, [x]) from e

    def proba_row(self, x) -> list:
        self._has_classes()
        try:
            return self.evaluator.proba_row(x)
        except ValueError as e:
            raise self._bad_input(e, [x]) from e

    def predict_row(self, x) -> tuple[str, float]:
        """The label (or value, as text) and the score, from one evaluation (two where the label is the
        estimator's predict, which need not be the most probable class: label_row)."""
        if self.task == "regression":
            value = self.score_row(x)
            return str(value), value
        p = self.proba_row(x)
        return self.label_row(x, p), (p[1] if self.task == "binary" else max(p))

    def label_row(self, x, p) -> str:
        """A classifier's predicted class for row x, whose class probabilities are p, as text: the estimator's
        own predict where scikit-learn scores it and that need not be the most probable class (own_labels),
        else the most probable class, first on ties, as argmax (the estimator's predict: compiled.verify
        proved it for a compiled model, predict_is_argmax holds for the others)."""
        if self.own_labels:
            try:
                top = int(self.evaluator.predict_index(np.array([x], dtype=float))[0])
            except ValueError as e:
                raise self._bad_input(e, [x]) from e
        else:
            top = max(range(len(p)), key=p.__getitem__)
        return str(self.classes[top])

    def score(self, X) -> np.ndarray:
        try:
            return self.evaluator.score(X)
        except ValueError as e:
            raise self._bad_input(e, X) from e

    def scores_and_labels(self, X, every_classifier=False) -> tuple[np.ndarray, list | None]:
        """score(X), and for a multiclass model each row's predicted class as text (predict_row's: the most
        probable, first on ties, or where that need not be its predict's, its predict's), both from one
        evaluation (two for those labels); None for the labels of other models. With `every_classifier` a
        binary classifier's labels too (score_table's p_label_into), as predict_row gives them: the scores are
        score(X)'s, the positive class's probability from the same evaluation."""
        if not (self.multiclass or every_classifier and self.task == "binary" and self.classes):
            return self.score(X), None
        if self._class_text is None:
            self._class_text = np.array([str(c) for c in self.classes], dtype=object)
        try:
            p = self.evaluator.proba(X)
        except ValueError as e:
            raise self._bad_input(e, X) from e
        scores = p.max(axis=1) if self.multiclass else p[:, 1]
        if self.own_labels:
            try:
                top = self.evaluator.predict_index(X)
            except ValueError as e:
                raise self._bad_input(e, X) from e
        else:
            top = p.argmax(axis=1)
        return scores, self._class_text[top].tolist()

    def predict(self, X) -> list:
        try:
            idx = self.evaluator.predict_index(X)
        except ValueError as e:
            raise self._bad_input(e, X) from e
        if self.task == "regression":
            return [float(v) for v in idx]
        return [self.classes[int(i)] for i in idx]

    def _has_classes(self):
        if self.task == "regression":
            raise InvalidModel(f"model {self.label} is a regressor and has no class probabilities",
                               hint="use pgscore.score or pgscore.predict", sqlstate="42809")

    def _refused_alone(self, row, cols, kind) -> list[int]:
        """Of the columns `cols` of one row that hold values of the kind the model refused, those it refuses
        alone: each tried with the others' values replaced by 0 (a pipeline's imputer may take some columns'
        NaN and not others', and scikit-learn's message names none)."""
        return [j for j in cols if self._refuses(row, [c for c in cols if c != j], kind)]

    def _made_nan(self, row) -> list:
        """(column, value) of one row's numbers (up to _TRIED_MADE of them) without which, replaced by 0, the model
        takes the row where it refused a NaN: values a step before its estimator turns into NaN (a log1p model given
        -2 said only `Input X contains NaN.`, session 68)."""
        cols = [j for j, v in enumerate(row) if v is not None and v == v]
        every = list(range(len(row)))
        if len(cols) > _TRIED_MADE or self._refuses(row, every, "NaN"):  # (a row of zeros refused: not its numbers)
            return []
        made = [(j, row[j]) for j in cols if not self._refuses(row, [j], "NaN")]
        if not made and len(cols) > 1:  # two or more such values (log1p of -2 and -3): each the model refuses
            # alone, the others (NULLs too) 0 (no one replaced by 0 was enough, and the error said scikit-learn's
            # `Input X contains NaN.`, hint `this model has no imputer`, session 68 r5)
            made = [(j, row[j]) for j in cols if self._refuses(row, [c for c in every if c != j], "NaN")]
        return made

    def _refused_without(self, row, col, kind) -> bool:
        """Whether the model refuses one row (a refusal of that kind) with its value in column `col` replaced by 0."""
        return self._refuses(row, [col], kind)

    def _refuses(self, row, zeroed, kind) -> bool:
        """Whether the model refuses one row, its values in columns `zeroed` replaced by 0, with a refusal of that
        kind."""
        x = np.array([math.nan if v is None else v for v in row], dtype=float)
        x[zeroed] = 0.0
        try:
            self.evaluator.score(x[None, :])
        except ValueError as e:
            return refusal(str(e).splitlines()[0] if str(e) else "") == kind
        return False

    def categories(self) -> dict:
        """The features it one-hot encodes (by index) and the codes each knows ({} for a model scikit-learn
        scores): asked of the evaluator once, where an error needs them."""
        if self._categories is None:
            get = getattr(self.evaluator, "categories", None)
            self._categories = get() if get is not None else {}
        return self._categories

    @property
    def in_float32(self) -> bool:
        """Whether its trees compare their input in float32, and so refuse what float32 cannot hold too."""
        return getattr(self.evaluator, "in_float32", False)

    def _bad_input(self, e: ValueError, X) -> PgscoreError:
        """Name the feature and what was expected in the evaluator's (or scikit-learn's) complaint."""
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        words = self._word_error(msg, X)
        if words is not None:
            return words
        kind = refusal(msg)
        if kind is None and "unknown categor" in msg.lower():
            kind = CATEGORY  # a strict encoder's refusal of a code (a word) it was not fitted on
        missing = None  # the feature whose value of that kind the model refused, if that is the complaint
        codes = None  # the codes it knows, where that feature is one the model one-hot encodes
        named = None  # the feature the complaint names
        m = _FEATURE_INDEX.search(msg)
        if m and int(m.group(1)) < self.n:
            name = named = self.feature_names[int(m.group(1))]
            if kind == "NaN" or "unknown category" in msg:
                codes = self.categories().get(int(m.group(1)))
            msg = _FEATURE_INDEX.sub(lambda _: f"feature {literal(name)}", msg)  # (no escapes read in the name)
            missing = name if kind else None
        elif kind and kind != CATEGORY and len(X) == 1:  # one row (a chunk's rows are told apart by batch.scored)
            bad, missing = _bad_features(self.feature_names, X, kind, self._refused_alone, self._refused_without)
            made = self._made_nan(list(X[0])) if not bad and kind == "NaN" else []
            if made:  # (no NaN of its own, or none the model refuses alone: a step made one of a value)
                kind = "made NaN"
                msg = (", ".join(f"feature {literal(self.feature_names[j])} is {float(v)!r}" for j, v in made[:8])
                       + (f" (and {len(made) - 8} more)" if len(made) > 8 else "")
                       + ", which a step of the model before its estimator turns into NaN (np.log1p of a value below "
                       "-1, np.log or np.sqrt of one below 0, say), and the estimator refuses NaN")
            msg = f"cannot take {bad}" if bad else msg
        hint = None
        if named in self.text_categories and codes is not None:  # (a chunk's: the words it knows, not the codes)
            hint = _words_hint(self.text_categories[named])
            # (and the word the caller passed, not a code it never wrote: -1 is an unknown word, NaN a NULL)
            msg = _UNKNOWN_CODE.sub(lambda c: "holds an unknown word (code -1)" if float(c.group(1)) == -1 else
                                    "holds NULL" if c.group(1).lower() == "nan" else
                                    f"holds the code {float(c.group(1)):g}, none of its words'", msg)
        elif codes is not None:
            hint = _category_hint(codes)
        elif kind == "NaN":
            hint = "this model has no imputer for missing values; pass a number"
        elif kind == "made NaN":
            kind = "NaN"
            hint = ("pass a value the model's own steps can transform (within its training data's range), or bound it "
                    "in SQL (GREATEST(x, ...)); the model was fitted without such values")
        elif kind == "float32" or kind == "infinite" and self.in_float32:
            hint = ("this model's trees read their input as float32, as scikit-learn's do, and refuse what float32 "
                    "cannot hold; clip the value within ±3.4e38")
        err = InvalidModel(f"model {self.label}: {msg}", sqlstate="22023", hint=hint)
        err.feature = missing  # batch.scored names the key of the first row with such a value in it
        err.refusal = kind
        return err


# a word that reads as a number (a text feature's, Loaded.numbered): digits, a point, an exponent
_NUMERAL = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def numbered_features(text_categories) -> set:
    """The text features (of a {feature: words}) with a word that reads as a number: Loaded.numbered."""
    return {f for f, words in (text_categories or {}).items()
            if any(_NUMERAL.fullmatch(str(w).strip()) for w in words)}


CATEGORY = "unknown category"  # the kind of a strict encoder's refusal of a word (a code) it was not fitted on
SHOWN_WORD = 60  # characters of a word an error quotes


def shown_word(word) -> str:
    """A word as an error quotes it: the first SHOWN_WORD characters of a long one, then how long it is."""
    return literal(word) if len(word) <= SHOWN_WORD else f"{literal(word[:SHOWN_WORD])}... ({len(word)} characters)"


def word_cast(col, *, typename, words) -> str:
    """The cast of number column `col` (of type `typename`; None by name, the type unknown) to the text of a
    feature's `words` that read as numbers (Loaded.numbered), as the refusal's hint gives it: `col::text` alone gave
    a numeric's 80331.0 as '80331.0', and an integer 1067 as '1067' where the word is '01067' (unknown words, scored
    silently under handle_unknown='ignore'): a numeric's scale trimmed where no word has a point, the zeros put back
    where every word of digits has the same width."""
    plain = [str(w) for w in words if re.fullmatch(r"\d+", str(w))]
    # a word such as '2.0' or '1e3': the numeric's text left as it is
    points = any(_NUMERAL.fullmatch(str(w).strip()) and not re.fullmatch(r"[-+]?\d+", str(w).strip()) for w in words)
    expr = f"pg_catalog.trim_scale({col})" if typename == "numeric" and not points else col
    expr = f"{expr}::text"
    if len({len(w) for w in plain}) == 1 and any(len(w) > 1 and w.startswith("0") for w in plain):
        expr = f"pg_catalog.lpad({expr}, {len(plain[0])}, '0')"
    return expr


# the evaluator's refusal of a code it does not know (compiled: `has unknown category -1.0`)
_UNKNOWN_CODE = re.compile(r"has unknown category (-?\d+(?:\.\d*)?(?:e[-+]?\d+)?|nan)", re.IGNORECASE)


def _words_hint(words, shown=10) -> str:
    """The hint of a strict encoder's refusal of a word it does not know (or a NULL): the words it knows, the first
    `shown` then how many (migration 0123)."""
    said = ", ".join(map(literal, words[:shown])) + (f", ... ({len(words)} in all)" if len(words) > shown else "")
    return (f"the words it knows: {said} (pgscore.category_code gives their codes); an unknown word needs "
            "handle_unknown='ignore' (or a NULL an imputer) at training")


def _category_hint(codes, shown=10) -> str:
    """What to do about a NULL or an unknown code in a feature the model one-hot encodes (handle_unknown='error'):
    not an imputer's "pass a number", but one of the codes it knows (the first `shown` of them, if more)."""
    said = ", ".join(_code(c) for c in codes[:shown])
    if len(codes) > shown:
        said += f", ... ({len(codes)} in all)"
    return (f"it is a category the model one-hot encodes, with the codes {said}; an unknown category or a NULL "
            "(array_position's for a value not in the ARRAY) needs handle_unknown='ignore' (or an imputer) at "
            "training, or the value coded in SQL as one of these")


def _code(c) -> str:
    """A code as SQL may write it, to the last digit: 3 (not 3.0), 0.1234567, 1234567890123457 (not 1.23457e+15)."""
    c = float(c)
    return str(int(c)) if c.is_integer() and abs(c) < 2 ** 53 else repr(c)


def refusal(message) -> str | None:
    """What a model's complaint (the compiled evaluator's, or scikit-learn's) says it refused: "NaN" (a NULL
    too), "infinite", "float32" (a value float32 cannot hold, infinities included: trees compare their input
    in float32, scikit-learn's and the compiled ones, Evaluator.in_float32), or None for another complaint."""
    if "float32" in message:
        return "float32"
    if "NaN" in message:
        return "NaN"
    if "infinit" in message or "too large" in message:
        return "infinite"
    return None


def refused_values(X, kind):
    """Where X (numpy) holds values of the kind `refusal` named."""
    from pgscore.compiled import F32_INF

    if kind == "NaN":
        return np.isnan(X)
    if kind == "infinite":
        return np.isinf(X)
    with np.errstate(invalid="ignore"):
        return np.abs(X) >= F32_INF  # (NaN compares False)


def first_refused(refuses, X) -> int | None:
    """The first row of X a model refuses, where it cannot say which (scikit-learn's "Input X contains NaN."
    names none, and an imputer may take some columns' NaN): `refuses(rows)` says whether scoring those rows
    fails for the kind of value asked about, which holds for a set of rows as soon as for one of them, so a
    bisection finds it in log2(len(X)) tries. None when X is taken."""
    if not len(X) or not refuses(X):
        return None
    lo, hi = 0, len(X)  # X[:lo] taken, X[:hi] refused
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if refuses(X[:mid]):
            hi = mid
        else:
            lo = mid
    return hi - 1


def refused_count(refuses, X, cap=10) -> int:
    """How many rows of X `refuses` refuses (first_refused), counted up to `cap`: halves tried in turn."""
    found, parts = 0, [X]
    while parts and found < cap:
        part = parts.pop()
        if not len(part) or not refuses(part):
            continue
        if len(part) == 1:
            found += 1
        else:
            parts += [part[len(part) // 2:], part[:len(part) // 2]]  # the first half first
    return found


def refused_features(refuses, X, i) -> list[int]:
    """The columns of row i whose value, replaced by that of a row the model takes (one before it, else
    after it), makes the model take the row; [] where no single one does, or no row is taken."""
    taken = next((r for r in [*range(i - 1, -1, -1), *range(i + 1, min(len(X), i + 50))]
                  if not refuses(X[r:r + 1])), None)
    if taken is None:
        return []
    out = []
    for j in range(X.shape[1]):
        if X[i, j] != X[taken, j] and not (X[i, j] != X[i, j] and X[taken, j] != X[taken, j]):
            trial = X[i:i + 1].copy()
            trial[0, j] = X[taken, j]
            if not refuses(trial):
                out.append(j)
    return out


_TRIED_MADE = 64  # a row of more numbers than this is not tried a number at a time for one a step made NaN
_TRIED_ALONE = 8  # a row holding more values of the kind than this names them all, untried (an error path
# that rescoring may take row by row, each try a call of scikit-learn's)


def _bad_features(names, X, kind, alone=None, without=None) -> tuple[str, str | None]:
    """The first row's features holding values of the kind `refusal` named, as text, and the first one's name.
    Where several do (up to _TRIED_ALONE), `alone(row, cols, kind)` says which of them the model refuses on
    their own (an imputer takes the others'); all are named where it names none. One alone is named only where the
    model takes the row without it (`without(row, col, kind)`: whether the row, that value replaced by 0, is still
    refused): else another step made the value it refused (np.log of a negative number), and its own complaint
    says more than a guess ("", None)."""
    from pgscore.compiled import F32_INF

    row = list(X[0])
    found = []  # (column, text)
    for j, (name, v) in enumerate(zip(names, row)):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            if kind == "NaN":
                found.append((j, f"NULL/NaN in feature {literal(name)}"))
        elif isinstance(v, float) and (math.isinf(v) or kind == "float32" and abs(v) >= F32_INF):
            if kind != "NaN":
                found.append((j, f"{'Infinity' if math.isinf(v) else repr(float(v))} in feature {literal(name)}"))
    if len(found) == 1 and without is not None and without(row, found[0][0], kind):
        found = []
    elif 1 < len(found) <= _TRIED_ALONE and alone is not None:
        refused = set(alone(row, [j for j, _ in found], kind))
        found = [f for f in found if f[0] in refused] or found
    return ", ".join(t for _, t in found), (names[found[0][0]] if found else None)


MODELS_KEPT = 256  # versions a backend keeps loaded; past it, the one resolved longest ago is let go (it was 16: a
# fleet scoring 17 versions in turn in one pooled backend loaded one again at every call, 2.9 ms against 0.53)
# and past this many bytes held by those versions (footprint), likewise, down to the one loaded last: 16 versions
# of a forest of 60 deep trees (275 MB as joblib writes it, 181 MB compiled) took a backend to ~3.8 GB
MODELS_KEPT_BYTES = 512 * 2**20  # the default of the setting pgscore.model_cache (cache_limit)
_CACHE_SETTING = "SELECT pg_catalog.current_setting('pgscore.model_cache', true) AS v"
_SIZE = re.compile(r"\s*(\d+)\s*(b|bytes|kb|mb|gb|tb)?\s*", re.IGNORECASE)
_UNITS = {None: 1, "b": 1, "bytes": 1, "kb": 2**10, "mb": 2**20, "gb": 2**30, "tb": 2**40}


_UNBOUND_SETTING = "SELECT pg_catalog.current_setting('pgscore.unbound_signatures', true) AS v"


def cache_limit(value: str | None) -> int:
    """The setting pgscore.model_cache ('512MB', '2GB', a number of bytes; unset or '' -> the default): the bytes
    of model footprint a backend keeps loaded. A pool that scores two versions of ~300 MB in turn loaded one again
    at each switch (seconds) under the fixed 512 MB."""
    if value is None or not value.strip():
        return MODELS_KEPT_BYTES
    m = _SIZE.fullmatch(value)
    if not m:
        raise PgscoreError(f"invalid value for pgscore.model_cache: {value!r}", sqlstate="22023",
                           hint="a size such as '512MB' or '2GB' (the bytes of models one backend keeps loaded), "
                                "e.g. SET pgscore.model_cache = '2GB'")
    return int(m.group(1)) * _UNITS[(m.group(2) or "").lower() or None]


def footprint(obj, seen=None, ndarray=None) -> int:
    """The bytes of the numpy arrays and bytes objects reachable from obj through its attributes, dicts, lists
    and tuples, each buffer counted once (a view as its base): what a compiled model holds, near enough. Does not
    import numpy (a linear model scores without it): where it is not imported, no array can be reached."""
    if seen is None:
        # (sys.modules' numpy may be pgscore.lazy's, which an attribute imports: numpy._core says it is loaded)
        loaded = "numpy._core" in sys.modules or "numpy.core" in sys.modules
        seen, ndarray = set(), sys.modules["numpy"].ndarray if loaded else ()  # (isinstance of () is False)
    if isinstance(obj, ndarray):
        while isinstance(obj, ndarray) and obj.base is not None:
            obj = obj.base
    if obj is None or id(obj) in seen:
        return 0
    seen.add(id(obj))
    if isinstance(obj, ndarray):
        return obj.nbytes
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return len(obj)
    if isinstance(obj, dict):
        return sum(footprint(v, seen, ndarray) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(footprint(v, seen, ndarray) for v in obj)
    return sum(footprint(v, seen, ndarray) for v in vars(obj).values()) if hasattr(obj, "__dict__") else 0


class Runtime:
    """Per-backend state kept in GD: prepared plans, models cached by immutable model_id (up to
    MODELS_KEPT versions and MODELS_KEPT_BYTES of their footprint, the least recently resolved let go first,
    the one loaded last kept however big: a pooled connection that saw every version deployed kept each for
    its lifetime), and which version is live, resolved once per statement."""

    def __init__(self, plpy):
        self.plpy = plpy
        self.models: dict[int, Loaded] = {}
        self.live_plan = plpy.prepare(_LIVE, ["pg_catalog.text"])
        self.by_version = plpy.prepare(_BY_VERSION, ["pg_catalog.text", "pg_catalog.int4"])
        self.row_plans = None  # the row path's own (live_plan, by_version), made at its first call
        self.meta_plan = plpy.prepare(_META, ["pg_catalog.int8"])
        self.load_plan = plpy.prepare(_LOAD, ["pg_catalog.int8"])
        self._exists = None  # _EXISTS, prepared when first asked (_unknown)
        self.clock = backend.clock()
        self.statement = None
        self.current: dict = {}  # (name, version) -> Loaded, for self.statement
        self._threads_limited = False
        from pgscore.auditlog import QueryLog

        self.log = QueryLog(plpy, self.clock)

    @classmethod
    def get(cls, plpy, GD) -> "Runtime":
        rt = GD.get("pgscore.runtime")
        if rt is None:
            rt = GD["pgscore.runtime"] = cls(plpy)
        return rt

    def model(self, name, version=None) -> Loaded:
        """The model a statement scores with: resolved at its first call, then kept for the statement."""
        stmt = self.clock.statement() if self.clock is not None else None
        if stmt != self.statement or stmt is None:
            self.statement = stmt
            self.current.clear()
            self.log.new_statement()
        m = self.current.get((name, version))
        if m is None:
            if self.row_plans is None:
                self.row_plans = (self.plpy.prepare(_LIVE, ["pg_catalog.text"]),
                                  self.plpy.prepare(_BY_VERSION, ["pg_catalog.text", "pg_catalog.int4"]))
            m = self.current[(name, version)] = self.resolve(name, version, self.row_plans)
        return m

    def resolve(self, name, version=None, plans=None) -> Loaded:
        """The live (or pinned) version of `name`, loaded; `plans`: the (live, by version) plans to ask
        with, if not the runtime's own (the row path's, see the module's docstring)."""
        if name is None:
            raise UnknownModel("model name is NULL", sqlstate="22004")
        live_plan, by_version = plans or (self.live_plan, self.by_version)
        if version is None:
            rows = live_plan.execute([name])
            if not rows or rows[0]["action"] == "retire":
                self._unknown(name, retired=bool(rows))
        else:
            rows = by_version.execute([name, version])
            if not rows:
                self._unknown(name, version=version)
        model_id = rows[0]["model_id"]
        model = self.models.pop(model_id, None)
        if model is None or model.made != rows[0]["made"]:  # (another version under its model_id: load it)
            return self.load(model_id)
        self.models[model_id] = model  # the most recently resolved last
        return self._allowed(model)

    def by_id(self, model_id) -> Loaded:
        """A version by its model_id (a shadow's), as cached or loaded now; see _allowed."""
        return self._allowed(self.models.get(model_id) or self.load(model_id))

    def _allowed(self, model) -> Loaded:
        if model.unbound is not None and artifacts.refuse_unbound(self.plpy.execute(_UNBOUND_SETTING)[0]["v"]):
            # (loaded while the setting accepted it: in another transaction, or by another client of a pooler
            # sharing this backend)
            raise artifacts.unbound_refused(model.unbound)
        if model.mismatched_env is not None:  # loaded under the override: only while the setting is on (it
            # was the setting of one transaction, or of one client of a pooler sharing this backend)
            artifacts.check_env(model.label, model.mismatched_env, allow_mismatch=allow_mismatch(self.plpy))
        return model

    def _unknown(self, name, version=None, retired=False):
        if not retired:  # (a model retired exists; rescoring asks at each statement while none is live)
            if self._exists is None:
                self._exists = self.plpy.prepare(_EXISTS, ["pg_catalog.text"])
            if not self._exists.execute([name]):
                raise UnknownModel(f"there is no model {name!r}", hint=unknown_model_hint(self.plpy, name))
        if version is not None:
            raise UnknownModel(f"there is no version {version} of model {name!r}",
                               hint="list models with: SELECT * FROM pgscore.model_versions")
        raise UnknownModel(f"model {name!r} has no live version" + (" (it was retired)" if retired else ""),
                           sqlstate="55000", hint="activate one with pgscore.activate(name, version)")

    def load(self, model_id) -> Loaded:
        """Load a version through pgscore.load_model (SECURITY DEFINER), which puts it in self.models."""
        try:
            self.load_plan.execute([model_id])
        except self.plpy.SPIError as e:  # its own error, with its SQLSTATE, detail and hint, not wrapped in ours
            f = spi_fields(e)
            raise PgscoreError(server_message(f.pop("message")), **f) from None
        model = self.models.get(model_id)
        if model is None:
            raise ArtifactError(f"pgscore.load_model({model_id}) did not load the model")
        return model

    def load_as_owner(self, model_id) -> Loaded:
        """The body of pgscore.load_model: read, verify and deserialise one version, and cache it."""
        rows = self.meta_plan.execute([model_id])
        if not rows:
            raise UnknownModel(f"there is no model with model_id {model_id}")
        r = rows[0]
        label = f"{r['name']} v{r['version']}"
        classes = json.loads(r["classes"]) if r["classes"] else None
        refuse = artifacts.refuse_unbound(self.plpy.execute(_UNBOUND_SETTING)[0]["v"])
        if r["bytes"] is not None:
            evaluator, engine = self._compiled(label, r, refuse), "numpy"
            held = footprint(evaluator)
            unbound = f"{label} (evaluator)" if artifacts.old_scheme(r["hmac_sha256"]) else None
        else:
            env = json.loads(r["env"])
            # (held: a pickle's size: its arrays, near enough)
            estimator, held, unbound = self._unpickle(model_id, label, env, (r["name"], r["version"]), refuse)
            evaluator, engine = SklearnEvaluator(estimator, r["task"], label), "scikit-learn"
        model = Loaded(model_id, r["name"], r["version"], r["task"], list(r["feature_names"]), classes,
                       evaluator, engine, json.loads(r["text_categories"]) if r["text_categories"] else None)
        model.unbound = unbound
        if engine == "scikit-learn" and artifacts.check_env(label, env, allow_mismatch=True):
            model.mismatched_env = env
        model.made = r["made"]
        model.footprint = held
        self.models.pop(model_id, None)
        self.models[model_id] = model
        limit = cache_limit(self.plpy.execute(_CACHE_SETTING)[0]["v"])
        while len(self.models) > 1 and (len(self.models) > MODELS_KEPT or
                                        sum(m.footprint for m in self.models.values()) > limit):
            del self.models[next(iter(self.models))]  # (the one loaded now is last: kept, however big)
        return model

    def _compiled(self, label, r, refuse=False):
        from pgscore import compiled

        data = bytes(r["bytes"])
        artifacts.verify(f"{label} (evaluator)", data, r["sha256"], r["hmac_sha256"], signing_key(),
                         ("evaluator", r["name"], r["version"]), accept_unbound=not refuse)
        try:
            return compiled.Evaluator.from_bytes(data)
        except ImportError as e:  # numpy, where the server's environment lost it: not a damaged evaluator
            from pgscore.environment import missing_library

            raise missing_library(e) or ArtifactError(
                f"model {label}: the compiled evaluator cannot be read: {type(e).__name__}: {e}") from e
        except Exception as e:  # noqa: BLE001 - a damaged evaluator raises anything
            raise ArtifactError(f"model {label}: the compiled evaluator cannot be read: {type(e).__name__}: {e}") from e

    def _unpickle(self, model_id, label, env, name_version, refuse=False):
        """(estimator, its size, its label where its signature is of the first scheme else None)."""
        rows = self.plpy.execute(self.plpy.prepare(_ARTIFACT, ["pg_catalog.int8"]), [model_id])
        if not rows:  # a models row written around register_model, with no artifact
            raise ArtifactError(f"model {label} has no artifact", hint="deploy it again with pgscore deploy")
        r = rows[0]
        data = bytes(r["bytes"]) if r["bytes"] is not None else b""
        artifacts.verify(label, data, r["sha256"], r["hmac_sha256"], signing_key(), ("artifact", *name_version),
                         accept_unbound=not refuse)
        for diff in artifacts.check_env(label, env, allow_mismatch=allow_mismatch(self.plpy)):
            self.plpy.warning(f"pgscore: loading model {label} written with {diff}")
        estimator = artifacts.loads(label, data)
        self._limit_threads()
        return estimator, len(data), (label if artifacts.old_scheme(r["hmac_sha256"]) else None)

    def _limit_threads(self):
        # one native thread per backend: several sessions with one thread per core collapse throughput
        if not self._threads_limited:
            from threadpoolctl import threadpool_limits

            threadpool_limits(1)
            self._threads_limited = True


def signing_key() -> bytes | None:
    """The server's signing key (from $PGSCORE_SIGNING_KEY_FILE in its environment), or None when off."""
    path = os.environ.get(SIGNING_KEY_ENV)
    return artifacts.read_key(path) if path else None


def allow_mismatch(plpy) -> bool:
    rows = plpy.execute("SELECT pg_catalog.current_setting('pgscore.allow_version_mismatch', true) AS v")
    return (rows[0]["v"] or "").lower() in ("on", "true", "yes", "1")


def unknown_model_hint(plpy, name) -> str:
    """The hint of "there is no model 'teir'": the model's name it looks like a typo for, if one does, then where
    the models are listed. Scoring's, pgscore.model_name_hint's (record_outcome's, version_drift's, and since 0124
    activate's, rollback's, retire's, set_shadow's and clear_shadow's), and retry_failed's."""
    return typo_hint(name, [r["name"] for r in plpy.execute(_NAMES)],
                     "list models with: SELECT * FROM pgscore.model_versions")


def check_name(name) -> None:
    if name is None or not NAME_RE.match(name):
        raise InvalidModel(f"invalid model name {name!r}",
                           hint="a letter, then up to 62 letters, digits, '_', '.' or '-'")


def _near_key(name, obj: dict, feature_names) -> str | None:
    """A hint naming the object's key that looks like a misspelt `name` (a typo in a column), if one does."""
    keys = [k for k in obj if isinstance(k, str) and k not in feature_names]
    # a typo first (regoin_code, the code there misspelt), but not the key the code is made from (region_id is
    # near region): that one is named as such
    near = nearest(name, [k for k in keys if k.lower() != _base(name)])
    if near is None:
        return _source_key(name, [k for k in keys if obj[k] is None or isinstance(obj[k], str)])  # (a text's)
    return f"the object has the key {literal(near)}, which is no feature: a typo for {literal(name)}?"


def _missing_key_hint(obj: dict, feature_names) -> str:
    """How to pass the features whose values are missing, where the object lacks their keys and no key looks like
    the first's: a model server's `pd.DataFrame(rows, columns=...)` took a key left out as NaN (a client's
    `exclude_none`), which pgscore refuses, since a typo must not score as a missing value (trial T27). Every
    feature missing with no key like it is named (one hint, not a refusal per key), the object's keys winning over
    the nulls added (`doc || nulls` nulled a key the object had: an app that added the hint's nulls to every call
    scored every row as missing there); a missing feature that has a key like it is named as a typo after them. An
    object with none of the features is said to be so, with its keys (an object nested in another's key), not
    offered a null for each: that scores a row of NaN, which a pipeline that imputes scores as a number."""
    missing = [f for f in feature_names if f not in obj]
    if len(missing) == len(feature_names):  # none: a wrong object (a nested one), not missing values, whose nulls
        # would score a row of NaN, which a pipeline that imputes scores as a number
        keys = [k for k in obj if isinstance(k, str)]
        nested = [k for k in keys if isinstance(obj[k], dict)]
        return ("the object has none of the model's features" + (f", its keys being {', '.join(keys[:10])}"
                                                                 + (", ..." if len(keys) > 10 else "")
                                                                 if keys else " (it is empty)")
                + (f": the features under the key {literal(nested[0])}? pass doc -> {literal(nested[0])}"
                   if nested else ""))
    near = {f: _near_key(f, obj, feature_names) for f in missing}
    nulls = [f for f in missing if near[f] is None]
    # (session 71, trial T27's leftover) the first _NAMED of them: every one, twice, made an object of one key for a
    # model of 300 features a hint of 13 KB; how many more is said (the DETAIL lists every feature)
    shown = nulls[:_NAMED]
    pairs = ", ".join(f"{literal(f)}, NULL" for f in shown)
    example = json.dumps(dict.fromkeys(shown), ensure_ascii=False)  # (the names as the object's keys are written)
    typos = [near[f] for f in missing if near[f] is not None]
    return (f"give every feature as a key"
            + (f" ({len(nulls)} are missing, the first {_NAMED} named here)" if len(nulls) > _NAMED else "")
            + f": a missing value is a JSON null ({example}), "
            "which the model reads as NaN, as scikit-learn reads a DataFrame's empty cell; where a client leaves out "
            f"the keys of its nulls, add them under the object's own: jsonb_build_object({pairs}) || doc"
            + "".join(f"; {t}" for t in typos[:_TYPOS])
            + (f"; and {len(typos) - _TYPOS} more keys like a feature's name" if len(typos) > _TYPOS else ""))


# how many missing keys, and keys like a feature's, the hint for an object that lacks some names
_NAMED, _TYPOS = 10, 3


# what ends the name of a column of codes made from another (region_code from region, docs/sql.md "Features are
# numbers"): a feature so named, missing from an object that holds the name without it, is that column not made
_CODE_SUFFIXES = ("_code", "_codes", "_id", "_idx", "_index", "_num", "_no", "_key", "_cat", "_enc", "_encoded")


def _source_key(name, keys) -> str | None:
    """A hint where the object holds the key a missing feature's code is made from (`region` for `region_code`:
    the text column, the code not made), if it does. `keys`: those holding a text (or a NULL), not a number."""
    base = _base(name)
    if base is not None:
        key = next((k for k in keys if k.lower() == base), None)
        if key is not None:
            return (f"the object has the key {literal(key)}, which is no feature: the model reads the code "
                    f"column {literal(name)}; add it to the object, made from {literal(key)} as at training "
                    "(array_position(ARRAY[...], value) - 1: docs/sql.md, 'Features are numbers')")
    return None


def _base(name) -> str | None:
    """The name, lower case, of what a code column's name says it is made from (region for Region_Code), if any."""
    low = name.lower()
    return next((low[:-len(s)] for s in _CODE_SUFFIXES if low.endswith(s) and len(low) > len(s)), None)


def _number_hint(v) -> str | None:
    """What to do about a feature given as a JSON string (or other non-number)."""
    if isinstance(v, str):
        try:
            float(v)
        except ValueError:
            return "compute a number from the text in SQL (docs/sql.md, 'Features are numbers')"
        return "pass it as a JSON number, not a string: cast the column to a number (col::float8) before to_jsonb"
    return "every feature is a JSON number (or null, where the model takes missing values)"

