"""Training data from CSV files (for `pgscore deploy --train`) and a synthetic churn data set."""

from __future__ import annotations

import csv

import numpy as np

from pgscore.errors import InvalidModel


def _rows(path):
    """The header and the (line number, fields) of each row that is not blank."""
    try:
        f = open(path, newline="", encoding="utf-8-sig")
    except OSError as e:
        raise InvalidModel(f"cannot read the training data {path}: {e.strerror}") from None
    with f:
        reader = csv.reader(f, skipinitialspace=True)  # "a, b": the names and values after ", " alike
        try:
            header = next(reader)
        except StopIteration:
            raise InvalidModel(f"{path} is empty") from None
        rows = []
        for r in reader:
            if r and len(r) != len(header):
                raise InvalidModel(f"{path} line {reader.line_num}: {len(r)} fields where the header has "
                                   f"{len(header)}", detail=f"columns: {', '.join(header)}")
            if r:
                rows.append((reader.line_num, r))
    return header, rows


MISSING = {"", "na", "n/a", "null", "none", "nan"}  # a missing value as R, databases, Python and spreadsheets write it


def _missing(v) -> bool:
    return v.strip().lower() in MISSING


# a boolean as pandas' to_csv (True/False), PostgreSQL's COPY ... CSV (t/f) and spreadsheets write it: 1 or 0, as the
# database gives a boolean column to the model (session 67: refused as `holds 'True', not a number`)
BOOLEANS = {"true": 1.0, "false": 0.0, "t": 1.0, "f": 0.0}


def _number(v) -> bool:
    try:
        float(v)
        return True
    except ValueError:
        return False


def _separator_hint(header) -> str | None:
    """For a header read as one column: the separator the file seems to use instead of commas."""
    if len(header) == 1:
        for sep, said in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
            if sep in header[0]:
                return (f"the file seems to separate its columns with {said}: pgscore reads comma-separated values "
                        "(save it as CSV with commas)")
    return None


def read_csv(path, target=None, features=None, classes=None, estimator=None):
    """(X, y, feature_names): numeric columns as floats (an empty cell, NA, N/A, NULL, None or NaN, in any
    case, is missing: NaN; True/False and t/f, in any case, 1 and 0); y from `target` (True/False and t/f, in any
    case, the booleans where `classes` are). A byte-order mark (spreadsheets write one into "CSV UTF-8") is
    not part of the first column's name; a row whose number of fields is not the header's is an error
    naming its line (blank lines skipped). `classes`: the estimator's (its classes_), where it has them: a
    column of text that holds only those, read as a feature where no target is named, is refused as the label
    it seems to be. `estimator`: the model to deploy, whose encoders fitted on words (features.text_conversion)
    name the features whose cells are read as words (missing ones as NaN): X is then an object array."""
    try:
        header, rows = _rows(path)
    except UnicodeDecodeError as e:
        raise InvalidModel(f"{path} is not UTF-8 text: it holds the byte {e.object[e.start:e.start + 1]!r}",
                           hint="save it as CSV UTF-8") from None
    if not rows:
        raise InvalidModel(f"{path} has a header and no rows")
    if target is not None and target not in header:
        raise InvalidModel(f"{path} has no column {target!r}", detail=f"columns: {', '.join(header)}",
                           hint=_separator_hint(header))
    names = list(features) if features else [h for h in header if h != target]
    missing = [n for n in names if n not in header]
    if missing:
        raise InvalidModel(f"{path} has no column {', '.join(map(repr, missing))}", detail=f"columns: {', '.join(header)}",
                           hint=_separator_hint(header))
    idx = [header.index(n) for n in names]

    def num(v, col, line):
        try:
            return np.nan if _missing(v) else float(v)
        except ValueError:
            if v.strip().lower() in BOOLEANS:
                return BOOLEANS[v.strip().lower()]
            from pgscore.features import NUMBERS_ONLY

            raise InvalidModel(f"{path} line {line}: column {col!r} holds {v!r}, not a number",
                               hint=NUMBERS_ONLY if features else _text_column_hint(
                                   col, [r[header.index(col)] for _, r in rows], target, classes)) from None

    words = {}
    if estimator is not None:
        from pgscore.features import by_position, text_conversion

        positional = by_position(estimator)  # (a ColumnTransformer by name: deploy stores it by position)
        try:
            words = {f: set(w) for f, w in text_conversion(positional[0] if positional else estimator,
                                                           names)[1].items()}
        except InvalidModel:  # (deploy says why, where the model cannot score numbers there)
            words = {}
    if words:  # (a word the model knows is that word: 'NA' for North America, 'None', not a missing cell)
        X = np.array([[(np.nan if _missing(r[i]) and r[i] not in words[names[k]] else r[i]) if names[k] in words
                       else num(r[i], names[k], ln) for k, i in enumerate(idx)] for ln, r in rows], dtype=object)
    else:
        X = np.array([[num(r[i], names[k], ln) for k, i in enumerate(idx)] for ln, r in rows], dtype=float)
    y = None
    if target is not None:
        t = header.index(target)
        blank = next((ln for ln, r in rows if not r[t].strip()), None)
        if blank is not None:  # else the whole column read as text, and 0/1 labels as '0', '1'
            raise InvalidModel(f"{path} line {blank}: the target {target!r} is empty",
                               hint="every training row needs its label; drop the rows without one")
        raw = [r[t] for _, r in rows]
        absent = [(ln, r[t].strip()) for ln, r in rows if _missing(r[t])]
        if absent and all(_number(v) for v in raw if not _missing(v)):
            # numeric labels with a missing one (NA, NULL...): its line; as text, every label would be refused
            raise InvalidModel(f"{path} line {absent[0][0]}: the target {target!r} is missing ({absent[0][1]})",
                               hint="every training row needs its label; drop the rows without one")
        try:
            y = np.array([float(v) for v in raw])
            if np.all(y == np.round(y)):
                y = y.astype(int)
        except ValueError:
            y = np.array(raw)
            if (classes is not None and np.asarray(classes).dtype == bool
                    and all(v.strip().lower() in BOOLEANS for v in raw)):
                # a classifier fitted on a bool label (its classes_ [False, True]), as to_csv writes it: its
                # classes (read as text, every label was refused as no class of it; review r1, session 67)
                y = np.array([BOOLEANS[v.strip().lower()] == 1.0 for v in raw], dtype=bool)
            elif (classes is not None and np.asarray(classes).dtype.kind in "iuf"
                  and set(np.asarray(classes).tolist()) == {0, 1} and all(v.strip().lower() in BOOLEANS for v in raw)):
                # one fitted on that label as 1 and 0 (y.astype(int)), the CSV written with the bool column: 1 and 0,
                # as a bool feature reads (session 68: refused, `not classes of the estimator, first 'True', 'False'`)
                y = np.array([BOOLEANS[v.strip().lower()] for v in raw]).astype(np.asarray(classes).dtype)
    return X, y, names


def _text_column_hint(col, values, target, classes) -> str:
    """The hint for a column of text read as a feature (no features named): the label it seems to be, where no
    target is named and it holds the estimator's classes alone (a user who left out --target was told to name
    the features); else how to leave it out."""
    from pgscore.features import NUMBERS_ONLY

    named = "--target COLUMN; target= in an alembic revision"
    if target is None and classes is not None:
        known = {str(c) for c in classes}
        held = {v.strip() for v in values if not _missing(v)}
        if held and held <= known:
            return (f"column {col!r} holds the estimator's classes ({', '.join(sorted(held))}): is it the label? No "
                    f"target was named, so every column was taken as a feature: name it with --target {col} "
                    f"(target={col!r} in an alembic revision)")
    label = (f"if {col!r} is the label, name it ({named}); " if target is None else "")
    return (f"every column but the target is taken as a feature: {label}if {col!r} is none (an id, another label), "
            "name the features (--features a,b,c; feature_names= in an alembic revision). " + NUMBERS_ONLY)


CHURN_FEATURES = ["tenure_months", "monthly_charges", "support_calls", "complaints_30d", "late_payments",
                  "data_usage_gb", "contract_months", "age", "num_products", "discount_pct",
                  "days_since_last_login", "satisfaction"]


def churn(n: int = 5000, seed: int = 0):
    """A synthetic churn table: 12 numeric features and a 0/1 label with a known logistic link."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([
        rng.integers(1, 72, n), rng.normal(70, 20, n).clip(10, 150), rng.poisson(1.5, n), rng.poisson(0.4, n),
        rng.poisson(0.3, n), rng.gamma(2, 5, n), rng.choice([1, 12, 24], n), rng.integers(18, 80, n),
        rng.integers(1, 5, n), rng.choice([0, 5, 10, 20], n), rng.exponential(10, n), rng.integers(1, 6, n),
    ]).astype(float)
    z = (-1.0 - 0.04 * X[:, 0] + 0.015 * X[:, 1] + 0.35 * X[:, 2] + 0.9 * X[:, 3] + 0.5 * X[:, 4]
         - 0.03 * X[:, 6] + 0.03 * X[:, 10] - 0.4 * (X[:, 11] - 3))
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    return X, y, list(CHURN_FEATURES)
