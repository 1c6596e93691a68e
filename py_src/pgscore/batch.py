"""Batch scoring inside the server: whole queries or tables in chunks, one vectorised call per chunk.

Features leave PostgreSQL as one bytea per row, the float8[]'s own bytes
(pgscore.float8_image; NULL and NaN both become NaN on the way), so a chunk is
decoded by numpy in one call instead of one Python float per value. A model SQL can score (a linear
one with one output: score_in_sql) is scored by the statements themselves, with no features read into
Python: predict_batch's one statement (query_statement), score_table's chunk (TablePlans). Identifiers
are quoted with plpy.quote_ident (through pgscore.quoting); the user's query runs with the caller's own
rights.
"""

from __future__ import annotations

import collections
import functools
import math
import re
import struct

from pgscore import auditlog, pgarray, shadowing, superuser
from pgscore.errors import InvalidModel, PgscoreError, check_relation, literal, nearest, of_the_transaction
from pgscore.lazy import np
from pgscore.quoting import quote_ident, quote_literal
from pgscore.serving import (CATEGORY, Runtime, first_refused, refused_count, refused_features, refused_values,
                             word_cast)

FLOAT8_ARRAY = 1022
FLOAT8 = 701
KEY = "pgscore_key"  # predict_batch's name for the first column of the caller's query
EMPTY = "'{}'::pg_catalog.float8[]"  # read in place of NULL features (decoded: a row of the wrong length)
SCORE_TYPES = {"double precision", "real", "numeric"}  # as format_type prints them: numeric(12,6) is not one
SCORE_TYPES_SAID = "double precision, real or numeric without a precision (numeric(p,s) would round the scores)"
TABLE_PLANS_KEPT = 16  # score_table statements a backend keeps prepared (each holds its model version)
READS = 3  # reads of a chunk whose keys came back out of order (changed by another transaction meanwhile)


class Send:
    """Rows' features as pg_catalog.array_send writes a float8[]: big-endian, each element after its
    length (-1: NULL). The format of schemas before migration 0012, which has no pgscore.float8_image."""

    HEADER = 20  # a 1-D array: ndim, flags, element type, length, lower bound

    @staticmethod
    def sql(expr: str) -> str:
        return f"pg_catalog.array_send({expr})"

    @staticmethod
    @functools.lru_cache(maxsize=64)
    def _dtype(width):
        return np.dtype([("h", "V20"), ("v", [("len", ">i4"), ("x", ">f8")], (width,))])

    @staticmethod
    @functools.lru_cache(maxsize=64)
    def _struct(width):
        return struct.Struct(">" + "ld" * width)

    def decode_one(self, buf: bytes, width: int) -> list | None:
        if len(buf) != self.HEADER + 12 * width:
            return None
        vals = self._struct(width).unpack_from(buf, self.HEADER)
        return list(vals[1::2]) if all(v == 8 for v in vals[0::2]) else None

    def decode(self, buf: bytes, n: int, width: int, keys=None, model=None) -> np.ndarray:
        if len(buf) == n * (self.HEADER + 12 * width):
            recs = np.frombuffer(buf, dtype=self._dtype(width), count=n)
            if (recs["v"]["len"] == 8).all():
                return recs["v"]["x"].astype(np.float64)
        return _decode_slowly(self, buf, n, width, keys, model)

    @staticmethod
    def walk(buf: bytes, pos: int, width=None):
        """One image at `pos`: (its dimensions, its values with None for NULL, where the next begins); with
        `width`, the values only of a one-dimensional array of that many (else None: its shape is the error)."""
        ndim, _, _ = struct.unpack_from(">iii", buf, pos)
        pos += 12
        dims = []
        for _ in range(ndim):
            length, _ = struct.unpack_from(">ii", buf, pos)
            pos += 8
            dims.append(length)
        if width is not None and (ndim > 1 or (math.prod(dims) if ndim else 0) != width):
            return dims, None, None
        values = []
        for _ in range(math.prod(dims) if ndim else 0):
            (size,) = struct.unpack_from(">i", buf, pos)
            pos += 4
            values.append(None if size < 0 else struct.unpack_from(">d", buf, pos)[0])
            pos += max(size, 0)
        return dims, values, pos


class Image:
    """Rows' features as pgscore.float8_image (migration 0012) gives a float8[]: the array's own bytes
    after its length word, as PostgreSQL keeps them in memory. Header (ndim, offset of the values or 0
    when there are no NULLs, element type, then each dimension's length and lower bound), NULL bitmap
    where there are NULLs, then the values in the machine's byte order, without the per-element lengths
    and byte swaps of array_send (which costs ~0.6 us of a row's ~1 us in SQL, and doubles the bytes).
    The values begin 8-aligned from the length word, so at 12 + 8 * ndim here when there is no bitmap."""

    HEADER = 20

    @staticmethod
    def sql(expr: str) -> str:
        return f"pgscore.float8_image({expr})"

    @staticmethod
    @functools.lru_cache(maxsize=64)
    def _dtype(width):
        return np.dtype([("h", "=i4", (5,)), ("x", "=f8", (width,))])

    @staticmethod
    @functools.lru_cache(maxsize=64)
    def _struct(width):
        return struct.Struct("=iiIii" + "d" * width)

    def decode_one(self, buf: bytes, width: int) -> list | None:
        if len(buf) != self.HEADER + 8 * width:
            return None
        vals = self._struct(width).unpack(buf)
        return list(vals[5:]) if vals[:5] == (1, 0, FLOAT8, width, 1) else None

    def decode(self, buf: bytes, n: int, width: int, keys=None, model=None) -> np.ndarray:
        if len(buf) == n * (self.HEADER + 8 * width):
            recs = np.frombuffer(buf, dtype=self._dtype(width), count=n)
            if (recs["h"] == np.array([1, 0, FLOAT8, width, 1], dtype=np.int32)).all():
                return recs["x"].copy()
        return _decode_slowly(self, buf, n, width, keys, model)

    @staticmethod
    def walk(buf: bytes, pos: int, width=None):
        """One image at `pos`: (its dimensions, its values with None for NULL, where the next begins); with
        `width`, the values only of a one-dimensional array of that many (else None: its shape is the error)."""
        ndim, offset, elemtype = struct.unpack_from("=iiI", buf, pos)
        if elemtype != FLOAT8:
            raise ValueError(f"an array of type {elemtype}, not float8")
        dims = list(struct.unpack_from(f"={ndim}i", buf, pos + 12)) if ndim > 0 else []
        count = math.prod(dims) if ndim else 0
        # what the header claims, against the bytes there are (batch_row takes an image from its caller): no
        # list made for a count that they cannot hold
        least = pos + 12 + 8 * ndim + ((count + 7) // 8 if offset else 8 * count)
        if ndim < 0 or count < 0 or least > len(buf):
            raise ValueError(f"its header claims {count} values in {ndim} dimensions, more than its "
                             f"{len(buf) - pos} bytes hold")
        if width is not None and (ndim > 1 or count != width):  # not a row of the model's: its shape is the error
            return dims, None, None
        if offset:  # a NULL bitmap follows the bounds: bit i set when element i is not NULL
            bits = buf[pos + 12 + 8 * ndim: pos + 12 + 8 * ndim + (count + 7) // 8]
            present = [bool(bits[i >> 3] >> (i & 7) & 1) for i in range(count)]
            start = pos + offset - 4
        else:
            present = [True] * count
            start = pos + 12 + 8 * ndim
        found = sum(present)
        it = iter(struct.unpack_from(f"={found}d", buf, start))
        values = [next(it) if p else None for p in present]
        return dims, values, start + 8 * found


SEND, IMAGE = Send(), Image()
_FORMAT: list = []  # this backend's, found once


def features_format(plpy) -> Send | Image:
    """Image where the schema has pgscore.float8_image (0012 on), else Send (code newer than its schema)."""
    if not _FORMAT:
        found = plpy.execute("SELECT pg_catalog.to_regprocedure('pgscore.float8_image(pg_catalog.float8[])') "
                             "IS NOT NULL AS found")[0]["found"]
        _FORMAT.append(IMAGE if found else SEND)
    return _FORMAT[0]


def split(fmt, buf: bytes, n: int) -> list[bytes]:
    """n concatenated images of float8 arrays, one by one (any shape, NULLs included)."""
    out, pos = [], 0
    for _ in range(n):
        _, _, end = fmt.walk(buf, pos)
        out.append(buf[pos:end])
        pos = end
    return out


def key_text(key) -> str:
    """A row's key as an error names it: quoted as SQL quotes a literal ('17', 'c 17', '', 'it''s'), so that a
    key holding spaces, or an empty one, reads as what it is; NULL as NULL."""
    return "NULL" if key is None else literal(key)


def _decode_slowly(fmt, buf, n, width, keys, model=None):
    """Arrays with NULL elements or of the wrong length: walk them one by one (NULL becomes NaN). A row of
    another length is an error naming the model (where given) and its features, as the row path's."""
    out = np.empty((n, width))
    pos = 0
    for i in range(n):
        try:
            dims, values, pos = fmt.walk(buf, pos, width)
        except (ValueError, struct.error, IndexError) as e:
            who = f" (key {key_text(keys[i])})" if keys is not None else ""
            raise InvalidModel(f"row {i + 1}{who}: its features' image is not a float8[]'s: {e}",
                               sqlstate="22023") from None
        if len(dims) > 1 or (dims[0] if dims else 0) != width:
            who = f" (key {key_text(keys[i])})" if keys is not None else ""
            has = (f"is a {len(dims)}-dimensional array" if len(dims) > 1 else
                   f"has {dims[0] if dims else 0} features")
            why = "" if dims else " (its array is empty or NULL)"
            if model is None:
                raise InvalidModel(f"row {i + 1}{who} {has}; the model takes {width}{why}", sqlstate="22023")
            raise InvalidModel(f"model {model.label} takes {width} features; row {i + 1}{who} {has}{why}",
                               detail="expected, in order: " + ", ".join(model.feature_names), sqlstate="22023")
        out[i] = [np.nan if v is None else v for v in values]
    return out


def feature_sql(plpy, model, columns: dict, alias: str, exprs: dict | None = None, table=None,
                key: str | None = None, profiles=None) -> str:
    """SQL for one row's features as a float8[]: a float8[] `features` column, or a column per feature
    named as the model names it (NULL becomes NaN). `exprs` replaces some columns by SQL expressions.
    `table`: the columns are that table's (score_table's), not a query's, which a refusal's hint says;
    `profiles`: they are that profile table's (rescoring's), which its refusal names; `key`: SQL for the
    row's key, which a text cell that is no number names (feature_items)."""
    if one_array(columns, exprs):
        return f"{alias}.features"
    return f"ARRAY[{', '.join(feature_items(plpy, model, columns, alias, exprs, table, key, profiles))}]"


# score_table's chunk scores a float8[] of more features than this from a copy of it (see TablePlans)
WIDE_ARRAY = 64


def one_array(columns: dict, exprs) -> bool:
    """Whether the features are one float8[] column named features (no column replaced by an expression)."""
    return columns.get("features") == FLOAT8_ARRAY and not exprs


def wide_array(model, columns: dict, exprs) -> bool:
    """Whether the features are one float8[] column of more than WIDE_ARRAY of them: each subscript of
    the stored array reads it whole again (from TOAST past ~2 kB), so score_table's chunk scores a copy of
    it and rescoring scores in Python."""
    return one_array(columns, exprs) and model.n > WIDE_ARRAY


def may_score_in_sql(model) -> bool:
    """Whether SQL may score the model (compiled.score_sql: one output; a multiclass model's rows log their
    class), before its columns are known: score_in_sql can still say no (one-hot lookups, say)."""
    return getattr(model.evaluator, "score_sql", None) is not None and not model.multiclass


def score_in_sql(plpy, model, columns: dict, alias: str, exprs: dict | None = None, key: str | None = None,
                 profiles=None):
    """The model's score as SQL over row `alias` (compiled.score_sql): (items, z, link), or None where
    SQL cannot score the model. With one float8[] features column, z is NULL unless its length is the
    model's, as decode() requires. `profiles`: as feature_sql's."""
    if not may_score_in_sql(model):
        return None
    items = feature_items(plpy, model, columns, alias, exprs, key=key, profiles=profiles)
    zl = model.evaluator.score_sql(items)
    if zl is None:
        return None
    z, link = zl
    if one_array(columns, exprs):
        z = f"(CASE WHEN pg_catalog.cardinality({alias}.features) OPERATOR(pg_catalog.=) {model.n} THEN {z} END)"
    return items, z, link


# the features a hint for columns of other names spells out, the others counted (a table of other columns
# altogether: a generated column for each of them is not the fix)
RENAMED_SHOWN = 4


def _renamed_hint(features: list, words) -> str:
    """The rest of the hint for the features no column is named after: a query renames a column of another name, a
    table scored in place (score_table, `pgscore score`: a warehouse's table, whose column is `monthly_fee` where the
    model was fitted on `monthly_charges`) takes a generated column, which needs no rename (trial T27). `features`
    quoted as identifiers, each named (the first alone was: its fix refused for the next), up to RENAMED_SHOWN;
    `words`: the text features, each to how its column is given: "text"; "bpchar" where the model was fitted on words
    blank-padded (a char(n) column's: a text column's cast cuts the blanks, and every word but a full one scored as
    unknown; session 71, trial T27's leftover), which keeps a char(n) column's words as they are; or, where every
    word it knows is padded to one length n, n: the column's word padded to n (review r4 of session 71: a bpchar pads
    nothing, and from a varchar column, 'plus', or a char(8) one, 'plus    ', every word but a full one scored as
    unknown; a char(n) column would refuse a longer word at every INSERT, and a cast to it cuts one, 'basic2' to
    'basic', which the model knows)."""
    shown = features if len(features) <= RENAMED_SHOWN + 1 else features[:RENAMED_SHOWN]
    more = len(features) - len(shown)
    rest = f" (and so for the {more} other(s))" if more > 0 else ""

    def given(f):
        n = words.get(f)
        return (f"pg_catalog.rpad(<its column>, GREATEST(pg_catalog.length(<its column>), {n}))"
                if isinstance(n, int) else "<its column>")

    adds = ", ".join(f"ADD COLUMN {f} {'text' if isinstance(words.get(f), int) else words.get(f, 'double precision')} "
                     f"GENERATED ALWAYS AS ({given(f)}) STORED" for f in shown)
    return (": in a query, " + ", ".join(f"{given(f)} AS {f}" for f in shown) + rest + "; in a table scored in "
            f"place (score_table, pgscore score), {'a generated column' if len(shown) == 1 else 'generated columns'}: "
            f"ALTER TABLE ... {adds}{rest}; or give one float8[] column named features")


def _renamed_word_type(words) -> str | int:
    """How _renamed_hint gives a text feature's column: "text"; its words' length where the model knows them padded
    to one (a char(n) column's); "bpchar" where it knows padded words of several lengths."""
    texts = [w for w in words if isinstance(w, str)]
    if not any(w.endswith(" ") for w in texts):
        return "text"
    return len(texts[0]) if len({len(w) for w in texts}) == 1 else "bpchar"


def feature_items(plpy, model, columns: dict, alias: str, exprs: dict | None = None, table=None,
                  key: str | None = None, profiles=None) -> list[str]:
    """feature_sql's elements, one SQL float8 per feature, never NULL (NaN for missing); with no column
    per feature, the elements of a float8[] `features` column (NULL where it is too short). A column of a
    string type goes through pgscore.feature_number, with `key` (SQL for the row's key, where the caller
    knows it) for its error to name the row (0081 on; before, the model and the feature alone)."""
    q = functools.partial(quote_ident, plpy)
    exprs = exprs or {}
    if one_array(columns, exprs):
        return [f"{alias}.features[{j + 1}]" for j in range(model.n)]
    missing = [f for f in model.feature_names if f not in columns]
    if missing:
        raise InvalidModel(f"model {model.label} needs the column(s) {', '.join(missing)}",
                           detail="available: " + ", ".join(columns)
                           + (f" (features is {_type_name(plpy, columns['features'])}, not double precision[])"
                              if columns.get("features", FLOAT8_ARRAY) != FLOAT8_ARRAY else ""), sqlstate="42703",
                           hint="name a column after each feature" + (
                               " (the counters' new values are read by those names)" if exprs else
                               _renamed_hint([q(f) for f in missing],
                                             {q(f): _renamed_word_type(ws) for f, ws in
                                              (getattr(model, "text_categories", None) or {}).items()})))
    words = getattr(model, "text_categories", None) or {}  # each text feature's words (0123): a text column coded
    # a counter's new value (rescoring's `exprs`) for a text feature is coded as its column's value is: a word where
    # the column holds words (a string type, an ENUM), a code where it holds codes (a number column)
    worded = {f for f in exprs if f in words and f in columns}
    as_int, as_text, keyed, padded = _number_types(plpy, model,
                                                   {f: columns[f] for f in model.feature_names
                                                    if f not in exprs or f in worded}, table, profiles)
    keyed = keyed and key is not None
    lit = functools.partial(quote_literal, plpy)

    def number(f):
        if f in exprs and not (f in worded and f in as_text):
            return f"({exprs[f]})::pg_catalog.float8"
        if f in as_int:
            return f"{alias}.{q(f)}::pg_catalog.int4::pg_catalog.float8"
        if f in as_text and f in words:  # a word: its code, -1 for one the model does not know (0123)
            value = f"({exprs[f]})" if f in exprs else f"{alias}.{q(f)}"  # the column, or the counter's new word
            # compared by its bytes, as scikit-learn compares strings: array_position compares under the column's
            # collation, and a nondeterministic one took 'East' for 'east' (review r1, session 71)
            col = f'{value}::pg_catalog.text COLLATE pg_catalog."C"'
            vocab = "ARRAY[" + ", ".join(lit(w) for w in words[f]) + "]::pg_catalog.text[]"
            # a char(n)'s word as PostgreSQL gives it (blank-padded: psycopg2, COPY, to_jsonb) where the model
            # knows it so, else as its cast to text cuts it
            pad = (f'pg_catalog.array_position({vocab}, pg_catalog.concat({value}) COLLATE pg_catalog."C"), '
                   if f in padded else "")
            return (f"CASE WHEN {col} IS NULL THEN NULL ELSE coalesce({pad}pg_catalog.array_position({vocab}, "
                    f"{col}), 0) OPERATOR(pg_catalog.-) 1 END::pg_catalog.float8")
        if f in as_text:
            by = f", ({key})::pg_catalog.text" if keyed else ""
            return f"pgscore.feature_number({alias}.{q(f)}::pg_catalog.text, {lit(model.label)}, {lit(f)}{by})"
        return f"{alias}.{q(f)}::pg_catalog.float8"

    return [f"coalesce({number(f)}, 'NaN'::pg_catalog.float8)" for f in model.feature_names]


# each type's name, whether it converts to float8 (a cast, or a string type's input function), and whether
# it is a boolean, or a domain over one (which converts through int4: true is 1); operators qualified, as
# this runs in the caller's search_path
_TYPES = ("SELECT t.oid AS typid, pg_catalog.format_type(t.oid, NULL) AS name, "
          # a domain is left to the server's cast (it looks through every level of domain)
          "t.typtype OPERATOR(pg_catalog.=) 'd' OR t.typcategory OPERATOR(pg_catalog.=) 'S' "
          "OR t.oid OPERATOR(pg_catalog.=) 'pg_catalog.float8'::pg_catalog.regtype OR EXISTS (SELECT 1 "
          "FROM pg_catalog.pg_cast c WHERE c.castsource OPERATOR(pg_catalog.=) t.oid AND c.casttarget "
          "OPERATOR(pg_catalog.=) 'pg_catalog.float8'::pg_catalog.regtype) AS numeric, "
          # (a CASE, not NULLIF, which names an unqualified =)
          "CASE WHEN t.typbasetype OPERATOR(pg_catalog.=) 0::pg_catalog.oid THEN t.oid ELSE t.typbasetype END "
          "OPERATOR(pg_catalog.=) 'pg_catalog.bool'::pg_catalog.regtype "
          "AS boolean, t.typcategory OPERATOR(pg_catalog.=) 'S' AS text, "
          # an ENUM, or a domain over one (a domain has its base type's category): a category's word, coded where
          # the feature has words (0123)
          "t.typcategory OPERATOR(pg_catalog.=) 'E' AS enum, "
          # char(n), or a domain over it: its words blank-padded where PostgreSQL gives them (0123)
          "CASE WHEN t.typbasetype OPERATOR(pg_catalog.=) 0::pg_catalog.oid THEN t.oid ELSE t.typbasetype END "
          "OPERATOR(pg_catalog.=) 'pg_catalog.bpchar'::pg_catalog.regtype AS padded "
          "FROM pg_catalog.pg_type t WHERE t.oid OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.oid[])")
_FEATURE_NUMBER = ("SELECT pg_catalog.to_regprocedure('pgscore.feature_number(pg_catalog.text, pg_catalog.text, "
                   "pg_catalog.text)') IS NOT NULL AS found, pg_catalog.to_regprocedure('pgscore.feature_number("
                   "pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.text)') IS NOT NULL AS keyed")


def _type_name(plpy, typid) -> str:
    return plpy.execute(plpy.prepare("SELECT pg_catalog.format_type($1, NULL) AS t", ["pg_catalog.oid"]),
                        [typid])[0]["t"]


def _number_types(plpy, model, columns: dict, table=None, profiles=None) -> tuple[set, set, bool, set]:
    """The feature columns that are booleans (scored as 1 and 0), those of a string type (text,
    varchar: read through pgscore.feature_number, whose error names the model and the feature, where the
    server has it; an ENUM of a feature with words too), whether the server has the feature_number that names
    the row's key too (0081), and the char(n) columns (whose words PostgreSQL gives blank-padded); an
    InvalidModel naming the first column whose type does not convert to a number at
    all (a date, jsonb), instead of PostgreSQL's cast error. Its hint says where to compute the number:
    in the query (predict_batch's), or, for `table`'s columns (score_table's, which takes no query), in a
    column of the table or a query of predict_batch's. For the columns of `profiles` (rescoring's profile
    table, which takes no query either: it said "in the query" before) the message names the table, the column
    and its type, and the hint a number column of that name (a cast of this one, or a generated column)."""
    types = {r["typid"]: r for r in plpy.execute(plpy.prepare(_TYPES, ["pg_catalog.oid[]"]),
                                                 [sorted(set(columns.values()))])}
    words = getattr(model, "text_categories", None) or {}
    # an ENUM column of a feature with words (0123): its label is the word, coded as a text column's
    labels = {f for f, typid in columns.items() if types[typid]["enum"] and f in words}
    for f, typid in columns.items():
        if f in labels:
            continue
        if not (types[typid]["numeric"] or types[typid]["boolean"]) and profiles is not None:
            col = quote_ident(plpy, f)
            raise InvalidModel(f"model {model.label}: feature {literal(f)} is read from column {literal(f)} of the "
                               f"profile table {profiles}, of type {types[typid]['name']}, which is not a number: "
                               "rescoring reads each feature from the profile table's column of its name, as a "
                               "float8 (a column of a number type, boolean, or text holding numbers)",
                               sqlstate="42846",
                               hint="rescoring has no query to compute a number in: give the column a number type "
                                    f"with a cast (ALTER TABLE {profiles} ALTER COLUMN {col} TYPE float8 USING "
                                    f"<a number from {col}>), or rename it and add a generated column of its name "
                                    f"that computes the number (ALTER TABLE {profiles} ADD COLUMN {col} float8 "
                                    "GENERATED ALWAYS AS (<a number from the renamed column>) STORED), then attach "
                                    "again (docs/sql.md, 'Features are numbers')")
        if not (types[typid]["numeric"] or types[typid]["boolean"]):
            raise InvalidModel(f"model {model.label}: feature {literal(f)} is a column of type {types[typid]['name']}, "
                               "which is not a number", sqlstate="42846",
                               hint="every feature reaches the model as a float8: compute a number from it in "
                                    "the query (docs/sql.md, 'Features are numbers')" if table is None else
                               f"every feature reaches the model as a float8, and score_table (pgscore score's too) reads "
                               f"{table}'s column {literal(f)} as it is, with no query to compute a number in: give "
                               f"the table a number column of that name (rename this one, then ALTER TABLE {table} "
                               f"ADD COLUMN {quote_ident(plpy, f)} float8, filled with the number the model was "
                               "trained on), or score a query that computes it with pgscore.predict_batch and write "
                               "the scores back with UPDATE ... FROM (docs/sql.md, 'Features are numbers')")
    numbered = getattr(model, "numbered", set())  # text features fitted on words that read as numbers
    for f, typid in columns.items():
        if f in numbered and not types[typid]["text"] and f not in labels:
            col = quote_ident(plpy, f)
            cast = functools.partial(word_cast, typename=types[typid]["name"], words=words[f])
            raise model.numbered_word_error(
                f, f"the column {literal(f)} of type {types[typid]['name']}", "42846",
                f"cast it to text in the query ({cast(col)} AS {col})" if table is None and profiles is None else
                (f"score a query that casts it ({cast(col)} AS {col}) with pgscore.predict_batch, or give "
                 if profiles is None else "give ") + f"{profiles or table} a text column of that name (rename this "
                f"one, then ADD COLUMN {col} text GENERATED ALWAYS AS ({cast('<the renamed column>')}) STORED)"
                + (", then attach again" if profiles is not None else ""))
    texts = {f for f, typid in columns.items() if types[typid]["text"]}
    keyed = False
    if texts:
        found = plpy.execute(_FEATURE_NUMBER)[0]
        if not found["found"]:  # a schema before migration 0039
            texts = set()
        keyed = found["keyed"]  # (before 0081: the model and the feature alone)
    return ({f for f, typid in columns.items() if types[typid]["boolean"]}, texts | labels, keyed,
            {f for f, typid in columns.items() if types[typid]["padded"]})


def check_chunk_size(chunk_size) -> int:
    if chunk_size is None:
        raise PgscoreError("p_chunk_size, the chunk size, is NULL", sqlstate="22004")
    if not 1 <= chunk_size <= 1_000_000:
        raise PgscoreError(f"p_chunk_size, the chunk size, must be between 1 and 1000000, got {chunk_size}",
                           sqlstate="22023")
    return chunk_size


_SET_PATH = "SELECT pg_catalog.set_config('search_path', $1, true)"


class CallerPath:
    """`with` it to resolve names with the caller's search_path (for the caller's query text), then go
    back to the function's own fixed path; the plan and that path are read once per call. A local
    setting: the function's SET clause also ends it when the call returns."""

    def __init__(self, plpy, path):
        self.plpy, self.path = plpy, path
        if path is ...:  # already in the caller's search_path (a schema before migration 0008)
            return
        if path is None:
            raise PgscoreError("the search_path for the query is NULL", sqlstate="22004",
                               hint="leave the argument out to use your own search_path")
        self.plan = plpy.prepare(_SET_PATH, ["pg_catalog.text"])
        self.own = plpy.execute("SELECT pg_catalog.current_setting('search_path') AS p")[0]["p"]

    def __enter__(self):
        if self.path is not ...:
            self.plan.execute([self.path])

    def __exit__(self, *exc):
        if self.path is not ...:
            self.plan.execute([self.own])


_ENDING = re.compile(r"[\s;]+\Z")  # what ends a statement: its semicolons and the blanks around them


def _checked(plpy, query, chunk_size, path) -> tuple[CallerPath, str]:
    """The arguments checked; the CallerPath that reads the query in the caller's search_path `path`, and
    the query as a subquery takes it: without the semicolons that end a statement, and ending a line, so
    that a comment at its end (-- ...) does not swallow what follows it."""
    query = _ENDING.sub("", query or "")
    if not query:
        raise PgscoreError("the query is NULL or empty", sqlstate="22004")
    check_chunk_size(chunk_size)
    return CallerPath(plpy, path), query + "\n"


_ONE_QUERY = ("predict_batch reads the query as a subquery: one statement that returns rows (SELECT, VALUES, "
              "TABLE, or WITH ... SELECT), not INSERT, UPDATE or DELETE ... RETURNING, nor two statements; its "
              "semicolons at the end are dropped, but not a comment after them (docs/sql.md, predict_batch)")


_NO_PARAMETERS = ("the query is text that predict_batch runs itself, so a $1 in it is bound to nothing (a driver's "
                  "parameters go to predict_batch's own arguments, not into the query); put values in with "
                  "format(): pgscore.predict_batch('m', format('SELECT id, * FROM t WHERE region = %L', $2)) "
                  "(docs/sql.md, predict_batch)")


def _described(plpy, query, model) -> dict:
    """The query's feature columns (name: type oid), the key left out; run in the caller's search_path."""
    try:
        described = plpy.execute(f"SELECT * FROM ({query}) AS q LIMIT 0")
    except plpy.SPIError as e:
        if getattr(e, "sqlstate", None) == "42P02":  # a driver's bind parameter ($1) written into the query
            raise PgscoreError(f"the query takes no parameters: {e.args[0] if e.args else e}", sqlstate="42P02",
                               hint=_NO_PARAMETERS) from None
        if getattr(e, "sqlstate", None) != "42601":
            raise
        raise PgscoreError(f"the query cannot be read: {e.args[0] if e.args else e}", sqlstate="42601",
                           hint="a syntax error in it, or a statement of another kind: " + _ONE_QUERY) from None
    names, types = described.colnames(), described.coltypes()
    if len(names) < 2:
        raise InvalidModel("the query must return the key first and then the features",
                           detail=f"it returns: {', '.join(names)}", sqlstate="42601")
    wanted = {*model.feature_names, "features"}
    twice = sorted(n for n, k in collections.Counter(names[1:]).items() if k > 1 and n in wanted)
    if twice:  # one would be read, by name: say which, rather than PostgreSQL's "ambiguous" (or a silent pick)
        raise InvalidModel(f"model {model.label}: the query returns the column(s) {', '.join(twice)} more than "
                           "once", sqlstate="42702", hint="give each feature one column (rename or leave out "
                           "the others: SELECT id, * FROM t names id twice, which is allowed for the key only)")
    columns = dict(zip(names[1:], types[1:]))
    if names[0] in model.feature_names and names[0] not in columns and "features" not in columns:
        # the first column is the key whatever its name: a query that starts with a feature lacks it
        raise InvalidModel(f"model {model.label}: the query's first column, {names[0]}, is taken as the key, "
                           f"so the feature {literal(names[0])} is missing", detail="it returns: " + ", ".join(names),
                           sqlstate="42703", hint="return the key first, then the features by name: "
                           "SELECT id, * FROM t names the key twice, which is allowed for the key")
    return columns


def query_chunks(plpy, GD, model, query, chunk_size, log, path):
    """Check `query` now; return an iterator of (keys, scores as an array) per chunk (first column: the
    key; then the features). The query's names are resolved with `path`, the caller's search_path by default."""
    caller, query = _checked(plpy, query, chunk_size, path)
    fmt = features_format(plpy)
    with caller:  # the query is parsed and planned here
        columns = _described(plpy, query, model)
        worded = _worded(plpy, model, columns)
        # each word's own text, read with its row: a strict encoder's refusal names an unknown one without the query
        # run again (session 64: it was, for the row of that key, whose second run could hold another word, or none,
        # and ran the query's functions twice). The text as it is, not a CASE on the word's code, which looked the
        # word up in the vocabulary a second time for every row (review r4: 200,000 rows of a 2,000-word feature,
        # the cursor's statement 18.0 s against 9.5 s without it)
        words = "".join(f", q.{quote_ident(plpy, f)}::pg_catalog.text AS w{i}" for i, f in enumerate(worded))
        # the key by position (renamed: `SELECT id, * FROM t` names it twice), the features by name
        sql = (f"SELECT q.{KEY}::pg_catalog.text AS k, "
               f"{fmt.sql(feature_sql(plpy, model, columns, 'q', key=f'q.{KEY}'))} AS b{words} "
               f"FROM ({query}) AS q({KEY})")
        cursor = plpy.cursor(sql)
    cause = auditlog.cause(plpy, "predict_batch")
    return _chunks(plpy, GD, model, cursor, chunk_size, _logging(plpy, log), cause, caller, fmt, worded)


def _worded(plpy, model, columns) -> list:
    """The text features of `model` (0123) that `columns` holds as words (a string type, an ENUM): their code is
    -1 for a word the model does not know, whose text a strict encoder's refusal names. Not one read as codes
    (a number column), whose -1 is a code the caller wrote."""
    words = getattr(model, "text_categories", None) or {}
    typids = {f: columns[f] for f in model.feature_names if f in words and f in columns}
    if not typids or one_array(columns, None):
        return []
    t = plpy.execute(plpy.prepare("SELECT y.oid::pg_catalog.int8 AS typid FROM pg_catalog.pg_type y WHERE y.oid "
                                  "OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.oid[]) AND y.typcategory "
                                  "OPERATOR(pg_catalog.=) ANY ('{S,E}'::pg_catalog.\"char\"[])", ["pg_catalog.oid[]"]),
                     [sorted(set(typids.values()))])
    texts = {r["typid"] for r in t}
    return [f for f, typid in typids.items() if typid in texts]


def query_statement(plpy, model, query, chunk_size, log, path) -> str | None:
    """predict_batch for a model SQL scores (a linear one with one output): one statement over the whole
    query, for predict_batch to run in the caller's search_path (every name of its own qualified),
    returning (key text, score float8) and with `log` writing the audit rows as the chunks would; None
    for other models, which go chunk by chunk. Its parameters: $1 the model's name, $2 its version. A
    row whose score SQL does not give (a NaN or an infinity, a NULL or an array of the wrong shape) is
    scored by pgscore.batch_row, as the chunks would score it, or raises their error naming its key."""
    caller, query = _checked(plpy, query, chunk_size, path)
    if not may_score_in_sql(model):  # the chunks check and plan the query themselves
        return None
    with caller:
        columns = _described(plpy, query, model)
    # a strict encoder's refusal of a word names the word, which the chunks read from their rows (the statement's
    # fallback, batch_row, is given the codes alone: `holds an unknown word (code -1)`): such a model goes by chunks
    strict = {model.feature_names[j] for j in model.evaluator.categories()}
    if strict and strict.intersection(_worded(plpy, model, columns)):
        return None
    # a float8[] is read once per row into memory of its own: each subscript of an array stored with a
    # short header would otherwise copy it (0.6 against 0.15 us a row for twelve; a slice keeps NULL)
    source = "r"
    inner = (f"(SELECT q.{KEY}, q.features[:] AS features FROM ({query}) AS q({KEY}) OFFSET 0)"
             if one_array(columns, None) else f"({query})")
    in_sql = score_in_sql(plpy, model, columns, source, key=f"{source}.{KEY}")
    if in_sql is None:
        return None
    _, z, link = in_sql
    q = functools.partial(quote_ident, plpy)
    zname = "pgscore_z"
    while zname in columns or zname == KEY:
        zname += "_"
    names = ["features"] if one_array(columns, None) else model.feature_names
    f8 = "::pg_catalog.float8"
    # z once per row (OFFSET 0 keeps the subquery: the score's expression reads z three times)
    t = (f"SELECT {source}.{KEY}::pg_catalog.text AS {KEY}, {z} AS {zname}, "
         + ", ".join(f"{source}.{q(n)}" for n in names) + f" FROM {inner} AS {source}({KEY}) OFFSET 0")
    finite = (f"t.{zname} OPERATOR(pg_catalog.>) '-Infinity'{f8} AND t.{zname} OPERATOR(pg_catalog.<) "
              f"'Infinity'{f8}")
    feats = feature_sql(plpy, model, columns, "t", key=f"t.{KEY}")
    fallback = f"pgscore.batch_row($1, $2, t.{KEY}, {features_format(plpy).sql(feats)})"
    scored_rows = (f"SELECT t.{KEY} AS key, CASE WHEN {finite} THEN {link('t.' + zname)} ELSE {fallback} END "
                   f"AS score")
    if not _logging(plpy, log):
        return f"{scored_rows} FROM ({t}) AS t"
    # the audit rows as the chunks write them: the features as decoded (a NULL element is NaN), no label
    # (one output), the cause computed now, in the same statement as theirs
    if one_array(columns, None):
        feats = f"pg_catalog.array_replace({feats}, NULL::pg_catalog.float8, 'NaN'{f8})"
    return (f"WITH s AS MATERIALIZED ({scored_rows}, {feats} AS f FROM ({t}) AS t), "
            "l AS (INSERT INTO pgscore.prediction_log (model_id, entity_key, features, score, source, cause) "
            f"SELECT {int(model.model_id)}, s.key, s.f, s.score, 'batch', "
            f"{quote_literal(plpy, auditlog.cause(plpy, 'predict_batch'))}::pg_catalog.jsonb FROM s) "
            "SELECT s.key, s.score FROM s")


def _null_features(model, key) -> InvalidModel:
    return InvalidModel(f"model {model.label}: the features of key {key_text(key)} are NULL", sqlstate="22004")


def row_score(plpy, model, key, image) -> float:
    """One row of predict_batch that its statement could not score in SQL, from its features' image: its
    score, or the error the chunks would raise for it."""
    if image is None:
        raise _null_features(model, key)
    fmt = features_format(plpy)
    X = fmt.decode(image, 1, model.n, [key], model)
    scores, _ = scored(model, X, [key], labelled=False)
    return float(scores[0])


def _logging(plpy, log) -> bool:
    """Whether predict_batch writes the audit rows: as asked, but not in a read-only transaction, where it
    scores and says so (as the row path does)."""
    if log and plpy.execute(_READ_ONLY)[0]["ro"] == "on":
        plpy.warning(f"pgscore: {auditlog.read_only_where(plpy)}: predict_batch scores but does not write "
                     "pgscore.prediction_log", hint="p_log => false asks for that without this warning")
        return False
    return log


_READ_ONLY = "SELECT pg_catalog.current_setting('transaction_read_only') AS ro"
_STANDBY = "SELECT pg_catalog.pg_is_in_recovery() AS standby"


TEMP_FILE_LIMIT = "53400"  # temporary file size exceeds temp_file_limit
RAISE_TEMP_FILE_LIMIT = ("or have a superuser raise temp_file_limit (ALTER ROLE ... SET temp_file_limit, or "
                         "postgresql.conf; docs/operations-disk.md, 'Temporary space')")


def _temp_file_limit(plpy) -> str:
    return plpy.execute("SELECT pg_catalog.current_setting('temp_file_limit') AS v")[0]["v"]


def _chunks(plpy, GD, model, cursor, chunk_size, log, cause, caller, fmt, worded=()):
    while True:
        with caller:  # functions the query calls look up names as they run
            try:
                rows = cursor.fetch(chunk_size)
            except plpy.SPIError as e:  # the caller's query's own sort, hash or materialised result, on disk
                if getattr(e, "sqlstate", None) != TEMP_FILE_LIMIT:
                    raise
                raise PgscoreError(
                    f"pgscore.predict_batch: model {model.label}: the query's temporary files exceeded "
                    f"temp_file_limit ({_temp_file_limit(plpy)}) while its rows were read: a sort, a hash or a "
                    "result the query itself holds went to disk past work_mem", sqlstate=TEMP_FILE_LIMIT,
                    detail=f"the server said: {e.args[0] if e.args else e}",
                    hint="score fewer rows a call (a range of keys in the query), or give the query an index that "
                         f"returns its rows without a sort; {RAISE_TEMP_FILE_LIMIT}") from None
        if not rows:
            break
        keys = [r["k"] for r in rows]
        try:
            data = b"".join([r["b"] for r in rows])
        except TypeError:  # a NULL features array
            i = next(i for i, r in enumerate(rows) if r["b"] is None)
            raise _null_features(model, keys[i]) from None
        X = fmt.decode(data, len(rows), model.n, keys, model)
        # a multiclass model's rows are logged with their predicted classes (argmax of the chunk)
        word_of = functools.partial(_chunk_word, model, rows, keys, worded) if worded else None
        scores, labels = scored(model, X, keys, labelled=log, word_of=word_of)
        if log:
            auditlog.write_batch(Runtime.get(plpy, GD).log, model.model_id, keys, X, model.n, scores,
                                 labels if labels is not None else [None] * len(keys), "batch", cause)
        yield keys, scores


def _chunk_word(model, rows, keys, worded, key, feature):
    """word_of for predict_batch's chunk: the unknown word of text feature `feature` that its row of key `key` holds,
    as the chunk's own rows read it (query_chunks' w columns: each row's word); the first row of that key holding a
    word the model does not know, which is the first row refused (an earlier one holding an unknown word in that
    feature would have been refused first)."""
    if feature not in worded:
        return None
    col = f"w{worded.index(feature)}"
    known = {str(w) for w in (model.text_categories or {}).get(feature) or []}
    return next((r[col] for k, r in zip(keys, rows) if k == key and r[col] is not None and r[col] not in known), None)


def scored(model, X, keys, labelled, every_classifier=False, word_of=None):
    """A chunk's scores (and, when `labelled`, a multiclass model's labels, with `every_classifier` a binary
    one's too: scores_and_labels); a row the model cannot take fails the chunk with an error that names its key
    where a value is missing, infinite or beyond float32's range, or a category (a word) its strict encoder was
    not fitted on, so that it can be found among millions. `word_of(key, feature)`: that row's word, read by its
    key (the chunk holds its code, -1), for the error to name, where the caller can read it."""
    try:
        return (model.scores_and_labels(X, every_classifier) if labelled else (model.score(X), None))
    except InvalidModel as e:
        kind = getattr(e, "refusal", None)  # serving.refusal: what kind of value the model refused
        if kind is None:
            raise
        if kind == CATEGORY:
            _refused_category(model, X, keys, e, word_of)
        if model.engine == "numpy":  # compiled: it names the feature, and what it takes in each column is known
            first, more, which = _refused_compiled(model, X, kind, getattr(e, "feature", None))
        else:
            first, more, which = _refused_by_trying(model, X, kind)
        if first is None:
            raise
        said, hint = e.message, e.hint
        if model.engine != "numpy" and len(keys) > 1:
            # the row's own complaint, as a chunk of that row alone says it (`cannot take NULL/NaN in feature 'age'`):
            # scikit-learn's for the chunk names no feature (`Input X contains NaN.`), so the same row was said two
            # ways by the size of the chunk that held it
            alone = _row_refused(model, X[first:first + 1], kind)
            # (only where it names the feature the chunk's trials found, or they found none: a row alone names
            # its one NULL without trying it, which a pipeline's imputer may take while another step makes the
            # NaN it refuses, np.log of a negative one)
            if alone is not None and alone.message != e.message and which in (
                    "", f"; feature {literal(alone.feature)}" if alone.feature is not None else ""):
                said, hint, which = alone.message, alone.hint, ""
        said = f"{said} (key {key_text(keys[first])}{_more_said(more, len(keys))}{which})"
        raise InvalidModel(said, detail=e.detail, hint=hint,
                           sqlstate=e.sqlstate, **e.objects) from None


def _refused_category(model, X, keys, e, word_of):
    """Raise a strict encoder's refusal of an unknown category in a chunk naming the first row's key, its feature
    and (`word_of`) its word, and how many more rows the chunk holds that it refuses (found by bisection: a
    compiled model's and scikit-learn's complaint alike name the feature, not the row); `e` where none is found."""
    refuses = _refuses(model, CATEGORY)
    first = first_refused(refuses, X)
    if first is None:
        raise e
    more = refused_count(refuses, X[first + 1:], _COUNTED)
    alone = _row_refused(model, X[first:first + 1], CATEGORY) or e
    name = getattr(alone, "feature", None)
    if word_of is not None and name in model.text_categories and X[first, model.feature_names.index(name)] == -1.0:
        word = word_of(keys[first], name)
        if word is not None:
            alone = model.refused_word(X[first], name, word) or alone
    said = f"{alone.message} (key {key_text(keys[first])}{_more_said(more, len(keys))})"
    raise InvalidModel(said, detail=alone.detail, hint=alone.hint,
                       sqlstate=alone.sqlstate, **alone.objects) from None


def _row_refused(model, row, kind):
    """The error of scoring `row` (one row) alone where it is a refusal of that kind, else None."""
    try:
        model.score(row)
    except InvalidModel as err:
        return err if getattr(err, "refusal", None) == kind else None
    return None


_COUNTED = 10  # rows refused counted beyond the first where a model (scikit-learn's) is asked row set by row set


def _more_said(more, n) -> str:
    """How many more rows than the first a chunk of `n` holds that the model refuses, as its error says it."""
    return (f" and {more} more in this chunk of {n}" if 0 < more < _COUNTED else
            f" and at least {_COUNTED} more in this chunk of {n}" if more else "")


def _refuses(model, kind):
    """refuses(rows) for first_refused and refused_count: whether the model refuses `rows` for a value of `kind`."""

    def refuses(rows):
        try:
            model.score(rows)
        except InvalidModel as err:
            return getattr(err, "refusal", None) == kind
        return False

    return refuses


def _refused_compiled(model, X, kind, name):
    """(the first row holding what the message says in feature `name`, how many other rows hold a value the
    model refuses (of any kind: all of them to fix), the feature clause ('' where the message names it))."""
    ev = model.evaluator
    far = ev.beyond_float32(X) if ev.in_float32 else None  # (as the trees see it: after the steps before them)
    # finite values a step's rescaling makes infinite
    huge = ev.beyond_range(X)
    refused = np.isnan(X) & ~ev.nan_ok | np.isinf(X) & ~ev.inf_ok | huge
    if far is not None:
        refused |= far
    rows = np.flatnonzero(refused.any(axis=1))
    if name is None:
        return (rows[0] if len(rows) else None), max(len(rows) - 1, 0), (
            f"; feature {literal(model.feature_names[int(np.flatnonzero(refused[rows[0]])[0])])}" if len(rows) else "")
    j = model.feature_names.index(name)
    said = far[:, j] if kind == "float32" and far is not None else refused_values(X[:, j], kind)
    if kind == "infinite":
        said = said | huge[:, j]
    of_name = np.flatnonzero(refused[:, j] & said)
    return (of_name[0] if len(of_name) else None), max(len(rows) - 1, 0), ""


def _refused_by_trying(model, X, kind):
    """The same for a model scikit-learn scores, whose message names no feature: the first row it refuses
    found by bisection, the others counted (up to _COUNTED), the feature by trying another row's value."""
    refuses = _refuses(model, kind)
    first = first_refused(refuses, X)
    if first is None:
        return None, 0, ""
    more = refused_count(refuses, X[first + 1:], _COUNTED)
    cols = refused_features(refuses, X, first)
    which = f"; feature {', '.join(literal(model.feature_names[j]) for j in cols)}" if cols else ""
    return first, more, which


_COLUMNS = ("SELECT a.attname::pg_catalog.text AS name, a.atttypid::pg_catalog.int8 AS typid, "
            "pg_catalog.format_type(a.atttypid, a.atttypmod) AS type FROM pg_catalog.pg_attribute a "
            "WHERE a.attrelid OPERATOR(pg_catalog.=) $1 AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped "
            "ORDER BY a.attnum")


_KEYS = ("SELECT a.attname::pg_catalog.text AS name, pg_catalog.bool_or(i.indisprimary) AS pk "
         "FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid "
         "AND a.attnum = i.indkey[0] WHERE i.indrelid = $1 AND i.indisunique AND i.indnkeyatts = 1 "
         "AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL GROUP BY 1 ORDER BY 2 DESC, 1")


def unique_keys(plpy, relation) -> dict:
    """The columns of `relation` (a name or an oid) that alone are the key of a valid unique index (no
    predicate, no expression; INCLUDE columns allowed): name -> whether it is the primary key, the
    primary key first."""
    kind = "pg_catalog.oid" if isinstance(relation, int) else "pg_catalog.regclass"
    return {r["name"]: r["pk"] for r in plpy.execute(plpy.prepare(_KEYS, [kind]), [relation])}


def key_hint(plpy, keys: dict, name, column, rescoring=False) -> str:
    """What to do about `column` of table `name` not being one of its `keys` (unique_keys): the columns
    that are, or, where none is, how to make it one."""
    if keys:
        return ("columns of " + name + " with a unique index of their own: "
                + ", ".join(k + (" (the primary key)" if pk else "") for k, pk in keys.items()))
    kind = plpy.execute(plpy.prepare(_KIND, ["pg_catalog.regclass"]), [name])[0]["kind"]
    if kind is not None:  # ALTER TABLE ... ADD PRIMARY KEY fails on these
        return (f"{name} is a {kind}: use the table it reads from (pgscore.predict_batch scores the rows of "
                "any query without writing them back)")
    col = quote_ident(plpy, column)
    parts = plpy.execute(plpy.prepare(_PARTITION_KEY, ["pg_catalog.regclass"]), [name])[0]["cols"]
    if parts is not None and parts != [column]:  # a unique index of a partitioned table holds its partition key
        why = (f"{name} is partitioned by {', '.join(parts)}, and PostgreSQL makes no unique index of it without "
               f"{'that column' if len(parts) == 1 else 'those columns'}, so {column} alone cannot be one")
        if rescoring:  # (each profile is written by its key)
            return (f"{why}: wire a profile table partitioned by {column} alone (PARTITION BY HASH ({col}), say), "
                    "or one that is not partitioned")
        return (f"{why}: score each partition by its own key (CREATE UNIQUE INDEX ON <partition> ({col}), then "
                "score the partition), or use pgscore.predict_batch, which scores the rows of any query without "
                "writing them back")
    if plpy.execute(plpy.prepare(_HAS_PRIMARY_KEY, ["pg_catalog.regclass"]), [name])[0]["pk"]:  # of several columns
        return (f"its primary key has several columns, and no column of its own names a row; if {column}'s values "
                f"are unique: CREATE UNIQUE INDEX ON {name} ({col}); else add a key of one column: ALTER TABLE "
                f"{name} ADD COLUMN row_id bigint GENERATED ALWAYS AS IDENTITY UNIQUE")
    return (f"if its values are unique: ALTER TABLE {name} ADD PRIMARY KEY ({col}); where it holds NULLs (which a "
            f"primary key refuses): CREATE UNIQUE INDEX ON {name} ({col})")


_TABLE_OID = "SELECT $1::pg_catalog.oid::pg_catalog.int8 AS oid"
_RELKIND = "SELECT c.relkind::pg_catalog.text AS k FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) $1"
# a partitioned table's partition key columns (NULL for another table; an expression shows as its text)
_PARTITION_KEY = ("SELECT (SELECT pg_catalog.array_agg(COALESCE(a.attname::pg_catalog.text, '(an expression)') "
                  "ORDER BY k.i) FROM pg_catalog.unnest(p.partattrs) WITH ORDINALITY AS k(n, i) "
                  "LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = k.n) AS cols "
                  "FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_partitioned_table p ON p.partrelid = c.oid "
                  "WHERE c.oid = $1")
_HAS_PRIMARY_KEY = ("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = $1 AND i.indisprimary) "
                    "AS pk")


_KIND = ("SELECT CASE c.relkind WHEN 'v' THEN 'view, which has no index and takes no primary key' "
         "WHEN 'm' THEN 'materialized view, which takes no primary key and no UPDATE' "
         "WHEN 'f' THEN 'foreign table, which has no index' END AS kind "
         "FROM pg_catalog.pg_class c WHERE c.oid = $1")


def columns_of(plpy, relation) -> tuple[dict, dict]:
    """A table's columns in order: name -> type oid, and name -> type as format_type prints it.
    `relation` is a name (text) or an oid (int)."""
    kind = "pg_catalog.oid" if isinstance(relation, int) else "pg_catalog.regclass"
    rows = plpy.execute(plpy.prepare(_COLUMNS, [kind]), [relation])
    return {r["name"]: r["typid"] for r in rows}, {r["name"]: r["type"] for r in rows}


# the generated columns among $3 (the feature columns a model reads) of table $1 whose expression reads column $2
# (a generated column's dependencies on the columns it reads are the column's own in pg_depend, 12 on; its
# pg_attrdef's are taken too), with the expression as pg_get_expr prints it
_GENERATED_FROM = ("SELECT g.attname::pg_catalog.text AS name, pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) AS expr, "
                   "g.attgenerated OPERATOR(pg_catalog.=) 's' AS stored FROM pg_catalog.pg_attribute g "
                   "JOIN pg_catalog.pg_attrdef ad ON ad.adrelid OPERATOR(pg_catalog.=) g.attrelid "
                   "AND ad.adnum OPERATOR(pg_catalog.=) g.attnum "
                   "JOIN pg_catalog.pg_attribute c ON c.attrelid OPERATOR(pg_catalog.=) g.attrelid "
                   "AND c.attname OPERATOR(pg_catalog.=) $2 AND c.attnum OPERATOR(pg_catalog.>) 0 "
                   "AND NOT c.attisdropped "
                   "WHERE g.attrelid OPERATOR(pg_catalog.=) $1 AND g.attgenerated OPERATOR(pg_catalog.<>) '' "
                   "AND NOT g.attisdropped AND g.attname OPERATOR(pg_catalog.=) ANY ($3::pg_catalog.name[]) "
                   "AND EXISTS (SELECT FROM pg_catalog.pg_depend d WHERE d.refclassid OPERATOR(pg_catalog.=) "
                   "'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid OPERATOR(pg_catalog.=) g.attrelid "
                   "AND d.refobjsubid OPERATOR(pg_catalog.=) c.attnum AND ((d.classid OPERATOR(pg_catalog.=) "
                   "'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid OPERATOR(pg_catalog.=) g.attrelid "
                   "AND d.objsubid OPERATOR(pg_catalog.=) g.attnum) OR (d.classid OPERATOR(pg_catalog.=) "
                   "'pg_catalog.pg_attrdef'::pg_catalog.regclass AND d.objid OPERATOR(pg_catalog.=) ad.oid))) "
                   "ORDER BY g.attnum")


def generated_from(plpy, table, column, features) -> list[tuple[str, str]]:
    """[(feature column, 'GENERATED ALWAYS AS (...) STORED')]: the columns of `table` (a name or an oid) among
    `features` (the columns a model reads) that PostgreSQL computes from `column`: a score or label written into
    `column` would change them in the row the model scored (a new user's --label-into region, of which the feature
    region_code is generated, made it NULL in every row, and the audit rows logged features never scored)."""
    kind = "pg_catalog.oid" if isinstance(table, int) else "pg_catalog.regclass"
    rows = plpy.execute(plpy.prepare(_GENERATED_FROM, [kind, "pg_catalog.name", "pg_catalog.name[]"]),
                        [table, column, list(features)])
    return [(r["name"], f"GENERATED ALWAYS AS ({r['expr']}) {'STORED' if r['stored'] else 'VIRTUAL'}") for r in rows]


def generated_said(plpy, gen) -> str:
    """The DETAIL of a refusal of a column that the features `gen` (generated_from) are computed from."""
    return "; ".join(f"{quote_ident(plpy, f)} {e}" for f, e in gen)


def features_read(model, columns: dict) -> list[str]:
    """The columns of a table (name -> type oid) that feature_sql reads for `model`."""
    return ["features"] if one_array(columns, None) else [f for f in model.feature_names if f in columns]


def unused_column(name, columns) -> str:
    """`name`, or name_2, name_3, ... : the first a table of `columns` has not (the column a hint says to add: the
    refused column is often named score or predicted_class itself, and a hint to add it again fails)."""
    return next(n for n in (name, *(f"{name}_{i}" for i in range(2, len(columns) + 3))) if n not in columns)


def score_column_hint(plpy, table, columns) -> str:
    """The hint of a refused score column: a column of its own, one `table` (of `columns`) has not."""
    return (f"score into a column of its own: ALTER TABLE {table} ADD COLUMN "
            f"{quote_ident(plpy, unused_column('score', columns))} float8")


def label_column_hint(plpy, table, columns) -> str:
    """The hint of a refused label column: a column of their own, one `table` (of `columns`) has not."""
    return (f"write the labels into a column of their own: ALTER TABLE {table} ADD COLUMN "
            f"{quote_ident(plpy, unused_column('predicted_class', columns))} text")


def _refuse_generated_from(plpy, model, table, column, columns, what):
    """Raise (22023) where a feature column `model` reads of `table` is generated from `column`, which score_table
    writes (`what`: 'score' or 'label'), naming the model, the table, the column and the feature, before anything
    is written."""
    gen = generated_from(plpy, table, column, features_read(model, columns))
    if not gen:
        return
    (feature, expr), q = gen[0], quote_ident(plpy, column)
    if what == "score":
        said = (f"column {literal(column)} of {table} is one that feature {literal(feature)} of model {model.label} "
                "is generated from: its scores would change the values it scores")
        hint = score_column_hint(plpy, table, columns)
    else:
        said = (f"the label column {literal(column)} of {table} is one that feature {literal(feature)} of model "
                f"{model.label} is generated from: model {model.label}'s labels would change the values it scores")
        hint = label_column_hint(plpy, table, columns)
    raise InvalidModel(said + "; nothing was written", sqlstate="22023",
                       detail=generated_said(plpy, gen) + f" (reads {q})", hint=hint)


def word_by_key_sql(plpy, rows, feature, key, ktype) -> str:
    """SQL of the word of text feature `feature` in the row of `rows` whose `key` is $1 (text), and whether its column
    holds words (`s`: of a string type, or an ENUM): a number column holds codes, whose text ('-1') is no word."""
    q = functools.partial(quote_ident, plpy)
    return (f"SELECT t.{q(feature)}::pg_catalog.text AS w, (SELECT y.typcategory OPERATOR(pg_catalog.=) ANY "
            f"('{{S,E}}'::pg_catalog.\"char\"[]) FROM pg_catalog.pg_type y WHERE y.oid OPERATOR(pg_catalog.=) "
            f"pg_catalog.pg_typeof(t.{q(feature)})) AS s FROM {rows} AS t WHERE t.{q(key)} = $1::{ktype}")


def read_word(plpy, sql, key):
    """The word `sql` (word_by_key_sql's) reads for `key`, None where it cannot be read or the column holds codes."""
    try:
        with plpy.subtransaction():
            rows = plpy.execute(plpy.prepare(sql, ["pg_catalog.text"]), [str(key)])
    except plpy.SPIError:  # (the error without the word, not another one)
        return None
    return rows[0]["w"] if rows and rows[0]["s"] else None


def _words_by_key(plpy, model, rows, key, ktype, columns) -> dict:
    """{text feature: SQL of its word in the row of key $1 (text)} of the table `rows` names (TablePlans.word_of)."""
    return {f: word_by_key_sql(plpy, rows, f, key, ktype)
            for f in getattr(model, "text_categories", None) or {} if f in columns}


class TablePlans:
    """Prepared read and write statements for scoring one table's key range into one of its columns."""

    def word_of(self, plpy, key, feature):
        """The word of text feature `feature` in the row of key `key` (text), read where a strict encoder refused its
        code (scored's error names it); None where it cannot be read."""
        sql = self._word.get(feature)
        return None if sql is None else read_word(plpy, sql, key)

    def __init__(self, plpy, model, table, key, into, log, label_into=None, scored_at_into=None):
        q = functools.partial(quote_ident, plpy)
        relkind = plpy.execute(plpy.prepare(_RELKIND, ["pg_catalog.regclass"]), [table])[0]["k"]
        # the table's own rows, not those of tables that inherit from it: its unique index covers its own
        # only, and a child's row of the same key would be scored and written as the parent's (a
        # partitioned table's rows are its partitions', which its unique index covers)
        rows = table if relkind == "p" else f"ONLY {table}"
        if relkind == "m":
            # it may have a unique index, but takes no UPDATE ("cannot lock rows in materialized view")
            raise InvalidModel(f"{table} is a materialized view, whose rows take no UPDATE: score_table writes "
                               "each score into its row", sqlstate="42809",
                               hint="score into the table it reads from, or compute the score in the view's own "
                                    "query with pgscore.score (pgscore.predict_batch scores any query's rows)")
        columns, types = columns_of(plpy, table)
        for what, col in (("key", key), ("score", into)):
            if col not in columns:
                keys = unique_keys(plpy, table) if what == "key" else None  # the columns a key could name instead
                add = f"add it first: ALTER TABLE {table} ADD COLUMN {q(col)} float8"
                near = nearest(col, columns) if what == "score" else None
                raise InvalidModel(f"table {table} has no column {literal(col)} (the {what} column)", sqlstate="42703",
                                   detail="columns: " + ", ".join(columns),
                                   hint=(f"a typo for {literal(near)}? Else {add}" if near else add)
                                   if what == "score" else key_hint(plpy, keys, table, col) if keys else None)
        if label_into is not None and label_into == into:
            free = unused_column("predicted_class", columns)
            # (checked before the score column's type: a text column named for both was refused as a score column
            # whose hint said to write the class with p_label_into => that same column)
            raise InvalidModel(f"p_into and p_label_into both name column {literal(into)} of {table}: model "
                               f"{model.label}'s score and its predicted class need a column each", sqlstate="22023",
                               hint=f"write the class into a column of its own: ALTER TABLE {table} ADD COLUMN "
                                    f"{q(free)} text, then p_label_into => {literal(free)} (pgscore score "
                                    f"--label-into {free})")
        if into == key:
            raise InvalidModel(f"the score column of {table} is its key column {literal(key)}: the scores would replace "
                               "the keys", sqlstate="22023",
                               hint="score into a column of its own: ALTER TABLE ... ADD COLUMN score float8")
        if into in model.feature_names and not one_array(columns, None):
            raise InvalidModel(f"column {literal(into)} of {table} is a feature of model {model.label}: its scores "
                               "would replace the values it scores", sqlstate="22023")
        _refuse_generated_from(plpy, model, table, into, columns, "score")
        keys = unique_keys(plpy, table)
        if key not in keys:
            raise InvalidModel(f"{table}.{q(key)} has no unique index of its own; each score is written back by "
                               "its key, so a key must name one row", sqlstate="42P10",
                               hint=key_hint(plpy, keys, table, key))
        if types[into] not in SCORE_TYPES:
            # (a classifier's class asked for as its score: a new user's `--into tier` of a text column)
            label = (f"; a classifier's predicted class goes into a column of its own: p_label_into => "
                     f"{literal(into)} (pgscore score --label-into {into})" if model.task != "regression"
                     and label_into is None else "")
            raise InvalidModel(f"column {literal(into)} of {table} is {types[into]}; scores need {SCORE_TYPES_SAID}",
                               sqlstate="42804", hint=f"score into a column of its own (ALTER TABLE {table} ADD COLUMN "
                               f"{q(unused_column('score', columns))} float8){label}")
        # a column no UPDATE may write, and one this role may not: said before anything is written (the first
        # chunk's UPDATE said PostgreSQL's `column "s" can only be updated to DEFAULT`, or `permission denied for
        # table t`, naming no column)
        _writable(plpy, model.label, table, into, "score", score_column_hint(plpy, table, columns))
        # p_label_into: the class pgscore.predict gives each row, cast to that column's type (its type without a
        # typmod: an explicit cast to varchar(3) would cut a class short, the assignment refuses it)
        self.label_cast = (None if label_into is None else
                           _label_cast(plpy, model, table, key, label_into, columns, types))
        # p_scored_at_into: the chunk's now() in the same UPDATE as the score (migration 0130), or the time the row
        # holds where that is later (an event's, committed after the chunk's transaction began): as every write of a
        # wiring's scored_at, it never moves backwards (rescoring._scored_at; review r6, session 62)
        if scored_at_into is not None:
            _scored_at_column(plpy, model, table, key, into, label_into, scored_at_into, columns, types)
        set_at = ("" if scored_at_into is None else
                  f", {q(scored_at_into)} = {scored_at_sql(q(scored_at_into), 't', columns[scored_at_into] == TIMESTAMP_OID)}")
        feats = feature_sql(plpy, model, columns, "t", table=table, key=f"t.{q(key)}")
        self.fmt = features_format(plpy)
        self.into, self.into_type, self.table = into, types[into], table
        ktype, k = types[key], q(key)
        self._word = _words_by_key(plpy, model, rows, key, ktype, columns)  # (word_of)
        # rows with a NULL key are left out: no key to resume after, none to write the score by. The chunk's
        # rows are locked as they are read, in key order (as rescoring locks profiles): a row another
        # transaction is writing (rescoring on INSERT) is read once it commits, so its score is computed from
        # its final features, not written over the other's with one from the features before. FOR NO KEY
        # UPDATE, as the UPDATE itself takes: a foreign key's check on a row (FOR KEY SHARE) is not blocked.
        # A row whose key the other transaction changed comes back with its new key, out of key order: the
        # chunk is read again (table_chunk), else its range and resume point would skip rows
        wheres = (f"WHERE t.{k} IS NOT NULL", f"WHERE t.{k} > $2::{ktype}")

        def select(where):
            return (f"SELECT pg_catalog.array_agg(s.k) AS keys, pg_catalog.string_agg(s.b, ''::pg_catalog.bytea) "
                    f"AS data, pg_catalog.array_agg(s.o) = pg_catalog.array_agg(s.o ORDER BY s.o) AS in_order "
                    f"FROM (SELECT t.{k}::pg_catalog.text AS k, COALESCE({self.fmt.sql(feats)}, "
                    f"{self.fmt.sql(EMPTY)}) AS b, t.{k} AS o "
                    f"FROM {rows} AS t {where} ORDER BY t.{k} LIMIT $1 FOR NO KEY UPDATE OF t) AS s")

        self.first = plpy.prepare(select(wheres[0]), ["pg_catalog.int4"])
        self.next = plpy.prepare(select(wheres[1]), ["pg_catalog.int4", "pg_catalog.text"])

        # the chunk's labels (text[], in the keys' order, $7, or $5 unlogged): a multiclass model's for its audit
        # rows; with p_label_into every classifier's, written into that column and logged (as pgscore.predict
        # logs a binary classifier's label too)
        self.labels = label_into is not None
        self.labelled = bool(log) and model.multiclass or self.labels
        labels = "$7" if log else "$5"
        unnest, named, ret, col, val = ((f", pg_catalog.unnest({labels}::pg_catalog.text[])", "k, s, l", ", s.l",
                                         "label, ", "w.l, ") if self.labelled else ("", "k, s", "", "", ""))
        # (a label NULL: none, as an unlabelled row's; every label of a chunk here is a class)
        set_label = "" if label_into is None else f", {q(label_into)} = CAST(s.l AS {self.label_cast})"

        # logged: each row's features as the model scored them, read from the row as it was before the UPDATE
        # (o, the same row in the statement's snapshot, locked by the chunk's read), not from the row it wrote: a
        # feature changed by a BEFORE UPDATE trigger (or generated from the written column, refused above) was
        # logged as written, and the audit row did not give its score again (the SQL path below logs the row it
        # read, as here). The join costs ~6-10% of a logged chunk's backend CPU (docs/changes.md, session 57)
        scored_feats, before = ((feature_sql(plpy, model, columns, "o", table=table, key=f"o.{q(key)}"),
                                 f", {rows} AS o") if log else (None, ""))

        def write(fmt):  # $2: the scores in pgarray format fmt
            update = (f"UPDATE {rows} AS t SET {q(into)} = s.s{set_label}{set_at} FROM ROWS FROM ("
                      f"pg_catalog.unnest($1::pg_catalog.text[]), "
                      f"pg_catalog.unnest({fmt.sql('$2')}){unnest}) AS s({named}){before} "
                      f"WHERE t.{k} = s.k::{ktype} AND t.{k} >= $3::{ktype} AND t.{k} <= $4::{ktype}")
            if log:
                # (by its key, in the chunk's range, not by its ctid: a role granted SELECT on the table's columns,
                # not on the table, may not read a ctid (`permission denied for table`); and a partition's ctid is
                # of its own)
                update += f" AND o.{k} = t.{k} AND o.{k} >= $3::{ktype} AND o.{k} <= $4::{ktype}"
            args = ["pg_catalog.text[]", fmt.type, "pg_catalog.text", "pg_catalog.text"]
            if log:
                update = (f"WITH w AS ({update} RETURNING s.k, s.s{ret}, {scored_feats}::pg_catalog.float8[] AS f) "
                          "INSERT INTO pgscore.prediction_log (model_id, entity_key, features, score, "
                          f"{col}source, cause) SELECT $5, w.k, w.f, w.s, {val}'batch', "
                          "(SELECT $6::pg_catalog.jsonb) FROM w")
                args += ["pg_catalog.int8", "pg_catalog.text"]
            if self.labelled:
                args.append("pg_catalog.text[]")
            return plpy.prepare(update, args)

        self.write = {fmt: write(fmt) for fmt in set(pgarray.formats(plpy))}
        # a linear model: the chunk is scored, written and logged by one statement (compiled.score_sql),
        # no float through Python; it writes nothing when a row's z is not finite (a refused NaN, an
        # infinity) and the chunk then takes the statements above, which say which row and why
        # With one float8[] column of more than WIDE_ARRAY features the locking read takes a copy of the
        # array (a slice), and z is computed from that copy: each subscript of the stored array reads it whole
        # again (from TOAST, where a row holds more than ~2 kB), 3,000 times a row for a model of 3,000
        # features (37 ms a row, against 1.6 ms from the copy). The copy is the locked row's (a row changed
        # meanwhile is read again with it, as z is). Shorter arrays are read in place: the copy and the
        # second CTE cost more than their subscripts
        # (not with p_label_into: the chunks above write the labels too, from the probabilities they score)
        wide = wide_array(model, columns, None)
        in_sql = (score_in_sql(plpy, model, columns, "a" if wide else "t", key="a.k" if wide else f"t.{k}")
                  if label_into is None else None)
        self.sql = None
        if in_sql is not None:
            _, z, link = in_sql
            f8 = "::pg_catalog.float8"

            def read(where):  # c: the chunk's keys, z (and the features, logged), its rows locked
                if wide:
                    return (f"WITH a AS MATERIALIZED (SELECT t.{k} AS k, t.features[:] AS features FROM {rows} AS t "
                            f"{where} ORDER BY t.{k} LIMIT $1 FOR NO KEY UPDATE OF t), "
                            f"c AS MATERIALIZED (SELECT a.k, {z} AS z" + (", a.features AS f" if log else "")
                            + " FROM a), ")
                return (f"WITH c AS MATERIALIZED (SELECT t.{k} AS k, {z} AS z"
                        + (f", {feats}::pg_catalog.float8[] AS f" if log else "") +
                        f" FROM {rows} AS t {where} ORDER BY t.{k} LIMIT $1 FOR NO KEY UPDATE OF t), ")

            def chunk(where):
                return (read(where) +
                        "ok AS MATERIALIZED (SELECT COALESCE(pg_catalog.bool_and(COALESCE("
                        f"c.z > '-Infinity'{f8} AND c.z < 'Infinity'{f8}, false)), true) "
                        # keys out of order: one changed while its lock was waited for (the path below reads again)
                        "AND COALESCE(pg_catalog.array_agg(c.k) = pg_catalog.array_agg(c.k ORDER BY c.k), true) AS ok, "
                        "pg_catalog.count(*) AS n, (SELECT c.k FROM c ORDER BY c.k LIMIT 1) AS lo, "
                        "(SELECT c.k FROM c ORDER BY c.k DESC LIMIT 1) AS hi FROM c), "
                        # the key range, as the statements above give it: the planner knows nothing of
                        # the chunk's size and would otherwise join the whole table
                        f"u AS (UPDATE {rows} AS t SET {q(into)} = {link('c.z')}{set_at} FROM c WHERE t.{k} = c.k "
                        f"AND t.{k} >= (SELECT ok.lo FROM ok) AND t.{k} <= (SELECT ok.hi FROM ok) "
                        f"AND (SELECT ok.ok FROM ok) RETURNING c.k::pg_catalog.text AS k, {link('c.z')} AS s"
                        + (", c.f) " if log else ") ") +
                        ("" if not log else
                         ", l AS (INSERT INTO pgscore.prediction_log (model_id, entity_key, features, score, "
                         "source, cause) SELECT $3, u.k, u.f, u.s, 'batch', (SELECT $4::pg_catalog.jsonb) FROM u) ") +
                        "SELECT ok.ok, ok.n, ok.hi::pg_catalog.text AS last FROM ok")

            types = ["pg_catalog.int4", "pg_catalog.text", "pg_catalog.int8", "pg_catalog.text"]
            self.sql = tuple(plpy.prepare(chunk(where), types) for where in wheres)


# the column's type without a typmod, and the type under its domains (a domain's own, where it is none), without a
# typmod too: a domain over varchar(3) cuts a class short on an explicit cast to it, as varchar(3) itself does.
# format_type(oid, -1), not (oid, NULL): NULL names bpchar `character` and bit `bit`, which a cast reads as
# character(1) and bit(1) (a character(5) label column got 'h' for the class high); -1 names them bpchar and "bit".
# root_oid: the type under the domains, whose input may keep part of a class ("char" its first byte, name 63 bytes)
_BASE_TYPE = ("WITH RECURSIVE d(oid, base, kind) AS (SELECT t.oid, t.typbasetype, t.typtype FROM pg_catalog.pg_type t "
              "WHERE t.oid OPERATOR(pg_catalog.=) $1::pg_catalog.oid UNION ALL SELECT t.oid, t.typbasetype, t.typtype "
              "FROM d JOIN pg_catalog.pg_type t ON t.oid OPERATOR(pg_catalog.=) d.base "
              "WHERE d.kind OPERATOR(pg_catalog.=) 'd') "
              "SELECT pg_catalog.format_type($1::pg_catalog.oid, -1) AS t, "
              "(SELECT pg_catalog.format_type(d.oid, -1) FROM d WHERE d.kind OPERATOR(pg_catalog.<>) 'd') AS root, "
              "(SELECT d.oid::pg_catalog.int8 FROM d WHERE d.kind OPERATOR(pg_catalog.<>) 'd') AS root_oid, "
              "(SELECT d.kind OPERATOR(pg_catalog.=) 'd' FROM d WHERE d.oid OPERATOR(pg_catalog.=) "
              "$1::pg_catalog.oid) AS domain")
# whether the current role may write the score or label column $2 (its own grant or the table's), and whether
# any UPDATE may: attgenerated ('s' stored, 'v' virtual; '' none) and attidentity ('a' always, 'd' by default)
_WRITABLE = ("SELECT pg_catalog.has_column_privilege($1, $2, 'UPDATE') AS ok, CURRENT_USER::pg_catalog.text AS who, "
             "NULLIF(a.attgenerated::pg_catalog.text, '') AS generated, "
             "NULLIF(a.attidentity::pg_catalog.text, '') AS identity, "
             "pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS expr "
             "FROM pg_catalog.pg_attribute a LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid OPERATOR(pg_catalog.=) "
             "a.attrelid AND d.adnum OPERATOR(pg_catalog.=) a.attnum WHERE a.attrelid OPERATOR(pg_catalog.=) $1 "
             "AND a.attname OPERATOR(pg_catalog.=) $2")
# a table's check constraints on the label column alone ($2): the expression, as SQL over the column by name
_LABEL_CHECKS = ("SELECT c.conname::pg_catalog.text AS name, pg_catalog.pg_get_expr(c.conbin, c.conrelid) AS expr, "
                 "pg_catalog.pg_get_constraintdef(c.oid) AS def FROM pg_catalog.pg_constraint c "
                 "JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.conrelid "
                 "AND a.attname OPERATOR(pg_catalog.=) $2 WHERE c.conrelid OPERATOR(pg_catalog.=) $1 "
                 "AND c.contype OPERATOR(pg_catalog.=) 'c' AND c.conkey OPERATOR(pg_catalog.=) ARRAY[a.attnum] "
                 "ORDER BY c.conname")
# the types whose input keeps part of a longer value without an error: "char" (its first byte), name (63 bytes)
_CUTTING_TYPES = {18, 19}


# (in SQL's words: the command line says it in its own, cli.CLI_WORDS)
REGRESSOR_LABEL_WITHOUT = "write it with p_into alone, without p_label_into"


def _writable(plpy, model_label, table, col, what, hint) -> None:
    """The error of a column that score_table's UPDATE cannot write the model's scores or labels (`what`) into: a
    generated column (GENERATED ALWAYS AS (...) STORED), an identity column GENERATED ALWAYS (one GENERATED BY
    DEFAULT takes an UPDATE), or one the current role may not UPDATE; before anything is written."""
    q = functools.partial(quote_ident, plpy)
    c = plpy.execute(plpy.prepare(_WRITABLE, ["pg_catalog.regclass", "pg_catalog.name"]), [table, col])[0]
    how = (f"GENERATED ALWAYS AS ({c['expr']}) {'VIRTUAL' if c['generated'] == 'v' else 'STORED'}"
           if c["generated"] else "GENERATED ALWAYS AS IDENTITY" if c["identity"] == "a" else None)
    if how is not None:
        if c["identity"] == "a":
            hint += f"; or let an UPDATE write it: ALTER TABLE {table} ALTER COLUMN {q(col)} SET GENERATED BY DEFAULT"
        raise InvalidModel(f"column {literal(col)} of {table} is {how}, which no UPDATE may write: it cannot take "
                           f"model {model_label}'s {what}s (the {what} column); nothing was written",
                           sqlstate="428C9", hint=hint)
    if not c["ok"]:
        raise InvalidModel(f"role {c['who']} may not UPDATE column {literal(col)} of {table} (the {what} "
                           f"column of model {model_label}); nothing was written", sqlstate="42501",
                           hint=f"GRANT UPDATE ({q(col)}) ON {table} TO {q(c['who'])}")


def _label_cast(plpy, model, table, key, label_into, columns, types) -> str:
    """The type (as SQL writes it, without a typmod) that score_table's chunks cast each label to for the column
    `label_into` of `table`; or the error of a column that cannot take the model's labels (a regressor's, none;
    missing; the key or a feature column (the score column: TablePlans); one a feature is generated from; a
    generated one; one the role may not UPDATE; a type that cannot hold every class), before any row is written."""
    refuse_regressor(plpy, model, table, label_into)
    # (a feature: read by name, or the features array; a column named as a feature is none where the table's
    # features are its array, as for the score column)
    array = one_array(columns, None)
    # (the score column itself: refused by TablePlans before the score column's checks)
    label_column(plpy, model.label, table, label_into, columns, {key: "its key column"},
                 feature=label_into == "features" if array else label_into in model.feature_names, writable=False)
    _refuse_generated_from(plpy, model, table, label_into, columns, "label")
    _writable(plpy, model.label, table, label_into, "label", label_column_hint(plpy, table, columns))
    return label_type(plpy, model, table, label_into, columns, types)


SCORED_AT_TYPES = {"timestamp with time zone", "timestamp without time zone"}


def _scored_at_column(plpy, model, table, key, into, label_into, col, columns, types) -> None:
    """The error of a column that cannot take the time each row is scored (p_scored_at_into): missing (42703), the
    key, score, label or a feature column (22023), a type no time fits (42804), one no UPDATE may write; before any
    row is written."""
    q = functools.partial(quote_ident, plpy)
    add = f"ALTER TABLE {table} ADD COLUMN {q(unused_column('scored_at', columns))} timestamptz"
    if col not in columns:
        near = nearest(col, columns)
        raise InvalidModel(f"table {table} has no column {literal(col)} (the scored-at column); nothing was written",
                           sqlstate="42703", detail="columns: " + ", ".join(columns),
                           hint=f"a typo for {literal(near)}? Else add it first: {add}" if near
                           else f"add it first: {add}")
    taken = {key: "its key column", into: "its score column", label_into: "its label column"}
    what = taken.get(col) or (f"a feature of model {model.label}" if col in model.feature_names
                              or (col == "features" and one_array(columns, None)) else None)
    if what is not None:
        raise InvalidModel(f"the scored-at column {literal(col)} of {table} is {what}; nothing was written",
                           sqlstate="22023", hint=f"write the time into a column of its own: {add}")
    if types[col] not in SCORED_AT_TYPES:
        raise InvalidModel(f"column {literal(col)} of {table} is {types[col]}; the scored-at column needs "
                           "timestamptz or timestamp; nothing was written", sqlstate="42804",
                           hint=f"write the time into a column of its own: {add}")
    _writable(plpy, model.label, table, col, "scored-at time", f"write the time into a column of its own: {add}")


def refuse_regressor(plpy, model, table, label_into, without=REGRESSOR_LABEL_WITHOUT):
    """A regressor has no classes to write into a label column (42809); `without`: how to do without it (SQL's
    words by default: the command line says it in its own, cli.CLI_WORDS)."""
    if model.task == "regression" or not model.classes:
        raise InvalidModel(f"model {model.label} is a regressor and has no classes to write into "
                           f"{table}.{quote_ident(plpy, label_into)} (the label column)", sqlstate="42809",
                           hint=f"a regressor's value is its score: {without}")


def label_column(plpy, model_label, table, label_into, columns, taken, feature=False, writable=True):
    """The checks of a label column that need no model version: it exists (42703, the nearest name said), is none
    of the columns `taken` ({column: what it is}, 22023) nor a feature (`feature`: of model `model_label`, 22023),
    and, with `writable`, an UPDATE by the current role may write it (_writable: 428C9, 42501)."""
    q = functools.partial(quote_ident, plpy)
    if label_into not in columns:
        near = nearest(label_into, columns)
        add = f"add it first: ALTER TABLE {table} ADD COLUMN {q(label_into)} text"
        raise InvalidModel(f"table {table} has no column {literal(label_into)} (the label column of model "
                           f"{model_label})", sqlstate="42703", detail="columns: " + ", ".join(columns),
                           hint=f"a typo for {literal(near)}? Else {add}" if near else add)
    what = taken.get(label_into) or (f"a feature of model {model_label}" if feature else None)
    if what is not None:
        raise InvalidModel(f"the label column {literal(label_into)} of {table} is {what}: model {model_label}'s labels "
                           "would replace its values", sqlstate="22023", hint=label_column_hint(plpy, table, columns))
    # (a role that may update the score column and not this one got PostgreSQL's `permission denied for table t`
    # from the chunk's UPDATE, naming no column)
    if writable:
        _writable(plpy, model_label, table, label_into, "label", label_column_hint(plpy, table, columns))


def label_type(plpy, model, table, label_into, columns, types) -> str:
    """The type (as SQL writes it, without a typmod) each of classifier `model`'s labels is cast to for the column
    `label_into` of `table`; or the error of a type that cannot hold every class (42804: refused, cut, or two
    classes one value) or a check constraint on the column alone that refuses one (23514)."""
    q = functools.partial(quote_ident, plpy)
    t = plpy.execute(plpy.prepare(_BASE_TYPE, ["pg_catalog.int8"]), [columns[label_into]])[0]
    base, root = t["t"], t["root"]
    typed = types[label_into]
    cast = plpy.prepare(f"SELECT CAST($1 AS {base}) AS v", ["pg_catalog.text"])
    # (a typmod, the column's or one under its domain: the class cast to the column's own type as the assignment
    # would keep it, compared with the class in the type under it, without a typmod; a type with no equality
    # operator is not compared)
    same = None
    if t["root_oid"] in _CUTTING_TYPES:  # ("char": 'high' is 'h'; the class read back as text is the class, or cut)
        same = plpy.prepare(f"SELECT CAST(CAST($1 AS {base}) AS pg_catalog.text) = $1 AS same", ["pg_catalog.text"])
    elif typed != base or t["domain"]:
        try:
            with plpy.subtransaction():
                same = plpy.prepare(f"SELECT CAST(CAST(CAST($1 AS {base}) AS {typed}) AS {root}) = CAST($1 AS {root}) "
                                    "AS same", ["pg_catalog.text"])
        except plpy.SPIError as e:
            if getattr(e, "sqlstate", None) != "42883":  # (no = for the type: not compared)
                raise
    classes = [str(c) for c in model.classes]  # (as pgscore.predict gives them: label_row)
    # (an error, 22P02, 22003, 22001, a domain's 23514: the class is no value of the type)
    refused = _classes_refused(plpy, classes, lambda c: plpy.execute(cast, [c]) and same is not None
                               and plpy.execute(same, [c])[0]["same"] is False)
    text_hint = (f"write the labels into a text column: ALTER TABLE {table} ALTER COLUMN {q(label_into)} TYPE text, "
                 "or ADD COLUMN predicted_class text")
    if refused:
        raise InvalidModel(f"column {literal(label_into)} of {table} is {typed}, which cannot hold "
                           f"{_the_classes(refused)} of model {model.label} (the label column); nothing was written",
                           sqlstate="42804", detail="the model's classes: " + ", ".join(literal(c) for c in classes),
                           hint=text_hint)
    # classes that are one value of the type ('1' and '01' in an integer, 'yes' and 'on' in a boolean, 'a' and
    # 'a ' in a character(n)): the rows of either would be labelled alike (a type whose values cannot be grouped is
    # not compared)
    try:
        with plpy.subtransaction():
            alike = [r["c"] for r in plpy.execute(plpy.prepare(
                "SELECT pg_catalog.array_agg(u.c ORDER BY u.o) AS c FROM pg_catalog.unnest($1::pg_catalog.text[]) "
                f"WITH ORDINALITY AS u(c, o) GROUP BY CAST(u.c AS {base}) HAVING pg_catalog.count(*) > 1 "
                "ORDER BY pg_catalog.min(u.o)", ["pg_catalog.text[]"]), [classes])]
    except plpy.SPIError as e:
        if getattr(e, "sqlstate", None) not in ("42883", "42809"):  # (no = or no ordering for the type)
            raise
        alike = []
    if alike:
        raise InvalidModel(f"column {literal(label_into)} of {table} is {typed}, in which the classes "
                           + "; ".join(" and ".join(literal(c) for c in same) for same in alike)
                           + f" of model {model.label} are one value (the label column): their rows would be "
                             "labelled alike; nothing was written", sqlstate="42804",
                           detail="the model's classes: " + ", ".join(literal(c) for c in classes),
                           hint=text_hint)
    # the table's check constraints on the label column alone, each class tried as the column's value: a domain's
    # check was tried above, a table's failed the first chunk that predicted such a class, the chunks before it
    # committed (a constraint on other columns too is the row's, not the class's: not tried)
    for check in plpy.execute(plpy.prepare(_LABEL_CHECKS, ["pg_catalog.regclass", "pg_catalog.name"]),
                              [table, label_into]):
        test = plpy.prepare(f"SELECT ({check['expr']}) IS NOT FALSE AS ok FROM (SELECT CAST(CAST($1 AS {base}) AS "
                            f"{typed}) AS {q(label_into)}) AS t", ["pg_catalog.text"])
        # (an error: the check raised for the class, which would fail the chunk's UPDATE too)
        refused = _classes_refused(plpy, classes, lambda c: not plpy.execute(test, [c])[0]["ok"])
        if refused:
            raise InvalidModel(f"column {literal(label_into)} of {table} has a check constraint, {q(check['name'])}, "
                               f"that refuses {_the_classes(refused)} of model {model.label} (the label column); "
                               "nothing was written", sqlstate="23514",
                               detail=f"{q(check['name'])}: {check['def']}",
                               hint=f"drop or widen it (ALTER TABLE {table} DROP CONSTRAINT {q(check['name'])}), or "
                                    f"write the labels into a column of their own: ALTER TABLE {table} ADD COLUMN "
                                    "predicted_class text")
    return base


def _classes_refused(plpy, classes, refuses) -> list[str]:
    """The classes `refuses(c)` holds for, or raises a server error for, each tried in a subtransaction of its own
    (_label_cast: the label column's type, a table's check constraint on it)."""
    refused = []
    for c in classes:
        try:
            with plpy.subtransaction():
                if refuses(c):
                    refused.append(c)
        except plpy.SPIError:
            refused.append(c)
    return refused


def _the_classes(classes) -> str:
    """'the class 'x'' or 'the classes 'x', 'y'', as a refusal names them."""
    return f"{'the class' if len(classes) == 1 else 'the classes'} {', '.join(literal(c) for c in classes)}"


# the chunk's transaction-level lock on the score column: the key `pgscore score` holds for its whole run
# (scoring._hold_column: the table's oid and the column's number), so that two runs at once, a CALL of
# score_table among them, do not both score every row and log every prediction twice
_COLUMN_LOCK = ("SELECT pg_catalog.pg_try_advisory_xact_lock(a.attrelid::pg_catalog.int4, a.attnum::pg_catalog.int4) "
                "AS locked, a.attnum::pg_catalog.int4 AS attnum, a.atttypid::pg_catalog.int8 AS typid, "
                "a.atttypmod AS typmod FROM pg_catalog.pg_attribute a "
                "WHERE a.attrelid OPERATOR(pg_catalog.=) $1 AND a.attname OPERATOR(pg_catalog.=) $2 "
                "AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped")
# who holds it (pg_locks keeps the keys as oids: classid the table's, objid the column's number)
_COLUMN_HOLDER = ("SELECT a.pid, a.application_name AS app, a.state, pg_catalog.date_trunc('second', a.xact_start)::pg_catalog.text AS since "
                  "FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid OPERATOR(pg_catalog.=) l.pid "
                  "WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory' AND l.granted AND l.database "
                  "OPERATOR(pg_catalog.=) (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname "
                  "OPERATOR(pg_catalog.=) pg_catalog.current_database()) AND l.classid OPERATOR(pg_catalog.=) $1 "
                  "AND l.objid OPERATOR(pg_catalog.=) $2::pg_catalog.oid AND l.objsubid OPERATOR(pg_catalog.=) 2 "
                  "AND l.pid OPERATOR(pg_catalog.<>) pg_catalog.pg_backend_pid() LIMIT 1")


_COLUMN_TYPE = ("SELECT a.atttypid::pg_catalog.int8 AS t FROM pg_catalog.pg_attribute a WHERE a.attrelid "
                "OPERATOR(pg_catalog.=) $1 AND a.attname OPERATOR(pg_catalog.=) $2 AND a.attnum OPERATOR(pg_catalog.>) 0 "
                "AND NOT a.attisdropped")


def _hold_column(plpy, GD, oid, table, into):
    """Take the chunk's lock on the score column (and the label column: each, in turn), or refuse (55P03) naming
    the session that holds it. Returns the column's (type oid, typmod), which the chunk's plans are kept by; None
    where the table has no such column (TablePlans says so)."""
    plan = GD.get("pgscore.column_lock")
    if plan is None:
        plan = GD["pgscore.column_lock"] = plpy.prepare(_COLUMN_LOCK, ["pg_catalog.oid", "pg_catalog.name"])
    got = plan.execute([oid, into])
    if not got:
        return None
    if got[0]["locked"]:
        return got[0]["typid"], got[0]["typmod"]
    who = plpy.execute(plpy.prepare(_COLUMN_HOLDER, ["pg_catalog.oid", "pg_catalog.int8"]), [oid, got[0]["attnum"]])
    by = ""
    if who:
        w = who[0]
        by = (f" (process {w['pid']}" + (f", {w['app']}" if w["app"] else "") + (f", {w['state']}" if w["state"] else "")
              + (f", its transaction begun {w['since']}" if w["since"] else "") + ")")
    raise PgscoreError(f"another session is scoring {table}.{quote_ident(plpy, into)}{by}: two runs at once would both score every row "
                       "and log every prediction twice; this chunk was not scored", sqlstate="55P03",
                       hint="wait for it to finish, then go on after the last key committed (score_table's p_after, "
                            "pgscore score's --after)")


def table_chunk(plpy, GD, model, table, key, into, after, chunk_size, log, label_into=None, scored_at_into=None):
    """Score the next `chunk_size` rows of `table` after key `after` into column `into` (and, where given, the
    class pgscore.predict gives each row into `label_into`, and the chunk's now() into `scored_at_into`); returns
    (rows scored, last key)."""
    check_chunk_size(chunk_size)
    for what, v in (("table", table), ("key column", key), ("score column", into)):
        if v is None:
            raise PgscoreError(f"the {what} is NULL", sqlstate="22004")
    check_relation(table, "table to score")
    if log is None:  # (as predict_batch's: a NULL would log nothing, and no audit row would say so)
        raise PgscoreError("p_log must not be NULL: true writes an audit row per score, false none", sqlstate="22004")
    if plpy.execute(_READ_ONLY)[0]["ro"] == "on":
        if plpy.execute(_STANDBY)[0]["standby"]:  # (no transaction there can write: say where to run it)
            raise PgscoreError(f"score_table and score_chunk write each score into its row of {table}: not on a "
                               "standby, whose transactions are all read-only",
                               sqlstate="25006", hint="run it on the primary (the scores reach the standby by "
                               "replication); on the standby, pgscore.predict_batch scores the rows of a query "
                               "without writing them")
        raise PgscoreError(f"score_table and score_chunk write each score into its row of {table}: not in a "
                           "read-only transaction",
                           sqlstate="25006", hint="pgscore.predict_batch scores the rows of a query in one")
    if scored_at_into is None:  # into a wiring's score column: its scored_at column too (_wired_scored_at)
        scored_at_into = _wired_scored_at(plpy, GD, table, into, model.name)
    cache = GD.setdefault("pgscore.table_plans", {})
    # by the table's oid, not its name: a table made again under the name (a plain one replaced by a
    # partitioned one, whose rows the plans' ONLY would not see) or another one the name reaches under
    # another search_path has plans of its own
    oid_plan = GD.get("pgscore.table_oid")
    if oid_plan is None:
        oid_plan = GD["pgscore.table_oid"] = plpy.prepare(_TABLE_OID, ["pg_catalog.regclass"])
    # (and by the version's `made`: another version under the same model_id has plans of its own)
    oid = oid_plan.execute([table])[0]["oid"]
    # a superuser's UPDATE of a table whose owner or triggers are another role's runs their code as the superuser
    others = superuser.others_code(plpy, GD, lambda: superuser.tree(plpy, oid))
    if others:
        raise PgscoreError(f"score_table and score_chunk write each score into its row of {table} as their caller: "
                           f"{superuser.said(table, others)}; nothing was written", sqlstate="42501",
                           hint=superuser.way_out("run pgscore score (CALL pgscore.score_table)"))
    # (and by the label column's type: its plans cast each label to it, and were checked against it; and by the
    # score column's: one made again as text between two calls was written with the plans of the float8 one, where
    # TablePlans refuses it). Each type read as its column's lock is taken: one catalog read a column and chunk
    score_type = _hold_column(plpy, GD, oid, table, into)
    label_type = None if label_into is None else _hold_column(plpy, GD, oid, table, label_into)
    # (the scored-at column is not held: two runs into two score columns may stamp one column; its type is
    # checked where the plans are made. The plans are kept by its type: a timestamp is written as UTC's wall clock,
    # a timestamptz as the instant, and one retyped between two calls of a session got the other's, hours off in
    # the session's TimeZone: review r5 of session 67)
    at_type = None
    if scored_at_into is not None:
        at_plan = GD.get("pgscore.column_type")
        if at_plan is None:
            at_plan = GD["pgscore.column_type"] = plpy.prepare(_COLUMN_TYPE, ["pg_catalog.oid", "pg_catalog.name"])
        at_rows = at_plan.execute([oid, scored_at_into])
        at_type = at_rows[0]["t"] if at_rows else None
    ident = (model.model_id, oid, key, into, bool(log), model.made, label_into, label_type, score_type,
             scored_at_into, at_type)
    plans = cache.get(ident)
    if plans is None:
        while len(cache) >= TABLE_PLANS_KEPT:  # each holds its model: the oldest go
            del cache[next(iter(cache))]
        plans = cache[ident] = TablePlans(plpy, model, table, key, into, log, label_into, scored_at_into)
    try:
        return _table_chunk(plpy, model, plans, after, chunk_size, log, table)
    except plpy.SPIError as e:
        if getattr(e, "sqlstate", None) != TEMP_FILE_LIMIT:
            raise
        raise PgscoreError(
            f"model {model.label}: a chunk of {chunk_size} rows of {table} took more temporary file space than "
            f"temp_file_limit ({_temp_file_limit(plpy)}) allows: its rows, read in key order"
            + (" and held with each row's features for its audit row" if log else " and held") + ", went to disk "
            "past work_mem; nothing of this chunk was written", sqlstate=TEMP_FILE_LIMIT,
            detail=f"the server said: {e.args[0] if e.args else e}",
            hint="score smaller chunks (score_table's p_chunk_size, pgscore score's --chunk-size): the chunks "
                 "committed before are kept, and p_after (--after) goes on after the last of them"
                 + ("; p_log => false (--no-log) keeps no features for audit rows, where you need none" if log
                    else "") + f"; {RAISE_TEMP_FILE_LIMIT}") from None


# the scored_at column of the wirings of model $3 that rescore into column $2 of table $1, where it is there and the
# caller may update it
_WIRED_SCORED_AT = (
    "SELECT DISTINCT r.scored_at_column::pg_catalog.text AS c FROM pgscore.rescoring r "
    "JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) $1 "
    "AND a.attname OPERATOR(pg_catalog.=) r.scored_at_column AND a.attnum OPERATOR(pg_catalog.>) 0 "
    "AND NOT a.attisdropped "
    "WHERE pg_catalog.to_regclass(r.profile_table) OPERATOR(pg_catalog.=) $1 "
    "AND r.score_column OPERATOR(pg_catalog.=) $2 AND r.model_name OPERATOR(pg_catalog.=) $3 "
    "AND pg_catalog.has_column_privilege($1, a.attnum, 'UPDATE')")


_READS_WIRINGS = ("SELECT w IS NOT NULL AND pg_catalog.has_table_privilege(w, 'SELECT') AS ok "
                  "FROM pg_catalog.to_regclass('pgscore.rescoring') AS w")


def scored_at_sql(ts, alias="p", no_zone=False) -> str:
    """What a write sets the scored_at column `ts` (quoted) of the row `alias` (a profile, a scored row) to: its
    transaction's now(), or the time the row holds where that is later (a transaction that began before the one
    that scored it last, and writes after that one committed, under the row's lock): scored_at never moves
    backwards (session 62; the rescoring trigger, rescore_profiles, retry and score_table alike). A time the row
    holds later than the clock (set by hand, loaded, written while the clock ran ahead or by a session of a zone
    ahead into a timestamp column) is no writer's: the write's now() replaces it, not that time kept for ever (no
    later score would have moved it, review r2). (GREATEST ignores the NULL of a time not kept, as it does a NULL
    scored_at: now().)
    `no_zone`: the column is a `timestamp` (without time zone): the time is written, and read, as UTC's wall clock
    (session 67: it was each writing session's, so that Sydney's and New York's scores of one column were dated
    16 hours apart, one instant written two ways)."""
    if no_zone:
        held = f"pg_catalog.timezone('UTC'::pg_catalog.text, {alias}.{ts})"
        return (f"pg_catalog.timezone('UTC'::pg_catalog.text, GREATEST(pg_catalog.now(), CASE WHEN {held} "
                f"OPERATOR(pg_catalog.<=) pg_catalog.clock_timestamp() THEN {held} END))")
    return (f"GREATEST(pg_catalog.now(), CASE WHEN {alias}.{ts} OPERATOR(pg_catalog.<=) "
            f"pg_catalog.clock_timestamp() THEN {alias}.{ts} END)")


TIMESTAMP_OID = 1114  # timestamp (without time zone), of any precision: scored_at_sql's `no_zone` (by its oid)


def _wired_scored_at(plpy, GD, table, into, name):
    """The scored_at column score_table stamps where its caller names none (p_scored_at_into): the one of the
    wirings of model `name` whose score column is `into` of `table` (user trial hT12: a nightly pgscore score into
    a wired profile table wrote the score without it, and pgscore rollback, activate and status, which read a
    profile's version from it (stale_scores), counted the profiles by the version of their last event). None where
    there is no such wiring, where its wirings name two, or where the column is gone or the caller may not update
    it, and where the caller may not read pgscore.rescoring (a role granted score_table and its table alone, not
    pgscore_app): the run writes the score alone, as before."""
    if not plpy.execute(_READS_WIRINGS)[0]["ok"]:
        return None
    plan = GD.get("pgscore.wired_scored_at")
    if plan is None:
        plan = GD["pgscore.wired_scored_at"] = plpy.prepare(
            _WIRED_SCORED_AT, ["pg_catalog.regclass", "pg_catalog.name", "pg_catalog.text"])
    rows = plan.execute([table, into, name])
    return rows[0]["c"] if len(rows) == 1 else None


def _table_chunk(plpy, model, plans, after, chunk_size, log, table):
    if plans.sql is not None:
        try:
            r = plans.sql[after is not None].execute(
                [chunk_size, after, model.model_id, auditlog.cause(plpy, "score_table") if log else None])[0]
        except plpy.SPIError as e:  # an overflow PostgreSQL raises where Python gives infinity, a score too
            if of_the_transaction(getattr(e, "sqlstate", None)):  # small for a real column: Python scores it
                raise  # a cancel, a deadlock, a serialization failure or a lock timeout is the caller's
            r = {"ok": False}  # (temp_file_limit too: the path below holds less, and table_chunk words its error)
        if r["ok"]:
            return r["n"], (r["last"] if r["n"] else after)
    for _ in range(READS):
        r = (plans.first.execute([chunk_size]) if after is None else plans.next.execute([chunk_size, after]))[0]
        if r["in_order"] is not False:
            break
    else:
        raise PgscoreError(f"the keys of {table} kept changing while a chunk was read ({READS} reads)",
                           sqlstate="40001", hint="run it again: the chunks committed so far stay")
    keys = r["keys"]
    if not keys:
        return 0, after
    X = plans.fmt.decode(r["data"], len(keys), model.n, keys, model)
    scores, labels = scored(model, X, keys, plans.labelled, plans.labels, functools.partial(plans.word_of, plpy))
    fmt = pgarray.format_for(plpy, len(keys))
    args = [keys, fmt.value(scores), keys[0], keys[-1]]
    if log:
        args += [model.model_id, auditlog.cause(plpy, "score_table")]
    if plans.labelled:
        args.append(labels)
    try:
        plans.write[fmt].execute(args)
    except plpy.SPIError as e:
        if getattr(e, "sqlstate", None) == "22003":  # a score a real cannot hold: say which
            _unfit(model, plans, keys, scores)
        raise
    return len(keys), keys[-1]


# the versions in shadow of $1, where $2 is its live version (a chunk of another, pinned, version has none)
_SHADOWS = ("SELECT s.model_id FROM pgscore.shadow_versions s WHERE s.name OPERATOR(pg_catalog.=) $1 "
            "AND (SELECT CASE WHEN d.action OPERATOR(pg_catalog.=) 'retire' THEN NULL ELSE d.model_id END "
            "FROM pgscore.deployments d WHERE d.model_name OPERATOR(pg_catalog.=) $1 "
            "ORDER BY d.deployment_id DESC LIMIT 1) OPERATOR(pg_catalog.=) $2 ORDER BY s.model_id")
SHADOW_PLANS_KEPT = 8


class ShadowTablePlans:
    """A shadow version's statements for score_table's chunks of one table: its features read from the rows
    of a chunk the live version wrote (its rows locked already), and its audit rows."""

    word_of = TablePlans.word_of

    def __init__(self, plpy, model, table, key):
        q = functools.partial(quote_ident, plpy)
        relkind = plpy.execute(plpy.prepare(_RELKIND, ["pg_catalog.regclass"]), [table])[0]["k"]
        rows = table if relkind == "p" else f"ONLY {table}"
        columns, types = columns_of(plpy, table)
        # (a missing column raises here: the caller warns)
        feats = feature_sql(plpy, model, columns, "t", table=table, key=f"t.{q(key)}")
        self.fmt, self.model = features_format(plpy), model
        self.by_position = one_array(columns, None)  # one float8[] column features, which the live version laid out
        k, ktype = q(key), types[key]
        self._word = _words_by_key(plpy, model, rows, key, ktype, columns)  # (word_of)
        read = ("SELECT pg_catalog.array_agg(s.k ORDER BY s.o) AS keys, pg_catalog.string_agg(s.b, "
                f"''::pg_catalog.bytea ORDER BY s.o) AS data FROM (SELECT t.{k}::pg_catalog.text AS k, "
                f"COALESCE({self.fmt.sql(feats)}, {self.fmt.sql(EMPTY)}) AS b, t.{k} AS o FROM {rows} AS t WHERE ")
        # the rows the live version's statement wrote: in the chunk's key range, with the xmin of its last row (one
        # UPDATE writes the chunk, in one PL/Python subtransaction). A row another session inserted into the
        # range since (this is a later statement, READ COMMITTED) was not scored by the live version: nor here
        written = f" AND t.xmin OPERATOR(pg_catalog.=) (SELECT w.xmin FROM {rows} AS w WHERE w.{k} = $LAST::{ktype})"
        wrote = written + ") AS s"
        self.read = plpy.prepare(read + f"t.{k} > $1::{ktype} AND t.{k} <= $2::{ktype}" + wrote.replace("$LAST", "$2"),
                                 ["pg_catalog.text", "pg_catalog.text"])
        self.first = plpy.prepare(read + f"t.{k} IS NOT NULL AND t.{k} <= $1::{ktype}" + wrote.replace("$LAST", "$1"),
                                  ["pg_catalog.text"])
        # where a read fails for a value some rows hold (22: a text cell that is no number): the rows' keys alone, then
        # their features by key in halves, as the trigger's shadow reads (rescoring._features_apart)
        keys = f"SELECT pg_catalog.array_agg(t.{k}::pg_catalog.text ORDER BY t.{k}) AS keys FROM {rows} AS t WHERE "
        self.read_keys = plpy.prepare(keys + f"t.{k} > $1::{ktype} AND t.{k} <= $2::{ktype}"
                                      + written.replace("$LAST", "$2"),
                                      ["pg_catalog.text", "pg_catalog.text"])
        self.first_keys = plpy.prepare(keys + f"t.{k} IS NOT NULL AND t.{k} <= $1::{ktype}"
                                       + written.replace("$LAST", "$1"), ["pg_catalog.text"])
        self.by_keys = plpy.prepare(read + f"t.{k} = ANY($1::pg_catalog.text[]::{ktype}[])) AS s",
                                    ["pg_catalog.text[]"])
        labelled = model.multiclass
        self.log = plpy.prepare(
            f"WITH s AS (SELECT s.k::{ktype} AS o, s.* FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.text[]), "
            "pg_catalog.unnest($2::pg_catalog.float8[])" + (", pg_catalog.unnest($5::pg_catalog.text[])" if labelled else "")
            + ") AS s(k, s" + (", l" if labelled else "") + ")) "
            "INSERT INTO pgscore.prediction_log (model_id, entity_key, features, score, " + ("label, " if labelled else "")
            + f"source, cause) SELECT $3, s.k, {feats}::pg_catalog.float8[], s.s, " + ("s.l, " if labelled else "")
            + f"'shadow', $4::pg_catalog.jsonb FROM s JOIN {rows} AS t ON t.{k} = s.o WHERE s.s IS NOT NULL",
            ["pg_catalog.text[]", "pg_catalog.text", "pg_catalog.int8", "pg_catalog.text"]
            + (["pg_catalog.text[]"] if labelled else []))


def shadow_chunk(plpy, GD, live, table, key, after, last, n=0, into=None, label_into=None):
    """score_table's shadows: where `live` is its name's live version (score_table pins the version its first
    chunk found for the chunks after it), each version of its name scored in shadow (pgscore.shadow_versions) scores
    the rows of the chunk the live version just wrote (keys after `after` up to `last`), one vectorised call,
    and logs them (source 'shadow', the cause's shadow_of the live model_id). A shadow's failure never fails
    the chunk: it is counted, with the chunk's `n` rows, and a WARNING names it once per session, version and
    SQLSTATE (shadowing.failed; errors of the transaction, a cancel say, are raised). A shadow that reads `into`,
    the column the live version's scores were just written into, is one such failure (_reads_the_score), and so is
    one that reads `label_into`, the column its predicted classes were (p_label_into)."""
    # a schema without shadow scoring (the server's code newer than its schema: pgscore install not run yet) has
    # none; looked for at each chunk until found
    if not GD.get("pgscore.shadowable"):
        GD["pgscore.shadowable"] = plpy.execute("SELECT pg_catalog.to_regclass('pgscore.shadows') IS NOT NULL "
                                                "AS ok")[0]["ok"]
        if not GD["pgscore.shadowable"]:
            return
    plan = GD.get("pgscore.shadows_plan")
    if plan is None:
        plan = GD["pgscore.shadows_plan"] = plpy.prepare(_SHADOWS, ["pg_catalog.text", "pg_catalog.int8"])
    ids = [r["model_id"] for r in plan.execute([live.name, live.model_id])]
    if not ids or last is None:
        return
    import json

    cache = GD.setdefault("pgscore.shadow_table_plans", {})
    oid = GD["pgscore.table_oid"].execute([table])[0]["oid"]
    for model_id in ids:
        label = f"model_id {model_id}"
        try:
            model = Runtime.get(plpy, GD).by_id(model_id)
            label = model.label
            ident = (model_id, model.made, oid, key)
            sp = cache.get(ident)
            if sp is None:
                while len(cache) >= SHADOW_PLANS_KEPT:
                    del cache[next(iter(cache))]
                sp = cache[ident] = ShadowTablePlans(plpy, model, table, key)
            if sp.by_position:
                _same_order(model, live, table)
            else:
                _reads_the_score(plpy, model, table, into)
                _reads_the_score(plpy, model, table, label_into, "classes")
            failures = []
            try:
                r = (sp.first.execute([last]) if after is None else sp.read.execute([after, last]))[0]
                keys, data = r["keys"] or [], r["data"]
            except plpy.SPIError as e:
                from pgscore import rescoring

                if of_the_transaction(getattr(e, "sqlstate", None)) or not rescoring._of_some_rows(e):
                    raise
                # a value some rows hold (a text cell that is no number, in a column the live version may not
                # read): the others read in halves, as the trigger's shadow reads its profiles (the rows are
                # locked already, by the live version's UPDATE); those at fault counted, each part with its reason
                k = (sp.first_keys.execute([last]) if after is None else sp.read_keys.execute([after, last]))[0]
                keys, data, _ = rescoring._features_apart(plpy, sp.by_keys, k["keys"] or [], e, failures,
                                                          "reading the features failed: {}")
            _shadow_failed_rows(plpy, GD, live.name, model_id, label, table, key, failures)
            if not keys:
                continue
            X = sp.fmt.decode(data, len(keys), model.n, keys, model)
            scores, labels = scored(model, X, keys, model.multiclass, word_of=functools.partial(sp.word_of, plpy))
            cause = json.loads(auditlog.cause(plpy, "score_table"))
            cause["shadow_of"] = live.model_id
            args = [keys, pgarray.literal(np.asarray(scores, dtype=float).tolist()), model_id, json.dumps(cause)]
            sp.log.execute(args + [labels] if model.multiclass else args)
        except plpy.SPIError as e:
            if of_the_transaction(getattr(e, "sqlstate", None)):
                raise
            _shadow_failed(plpy, GD, live.name, model_id, label, table, n, getattr(e, "sqlstate", None),
                           str(e.args[0]) if e.args else str(e))
        except PgscoreError as e:
            if of_the_transaction(e.sqlstate):  # (a cancel met while loading the shadow: the chunk's)
                raise
            _shadow_failed(plpy, GD, live.name, model_id, label, table, n, e.sqlstate, e.message)
        except Exception as e:  # noqa: BLE001 - the shadow's model raised: the live chunk stands
            _shadow_failed(plpy, GD, live.name, model_id, label, table, n, shadowing.MODEL_RAISED,
                           f"the model raised {type(e).__name__}: {e}")


def _same_order(model, live, table):
    """Raise (55000) where a shadow reading `table`'s one float8[] column features by position would read other
    features than its own: the live version's scores were written from that array, so it holds the live version's
    features in its order, and a shadow of as many features named otherwise or in another order would score
    every row on values that are not its features (set_shadow refuses that for wired profile tables; score_table's
    tables are known only here). A shadow of another count is refused likewise."""
    why = shadowing.order_differs(model.feature_names, live.feature_names, live.version, model.version)
    if why is None:
        return
    raise PgscoreError(f"{table}'s float8[] column features {why}: read by position, every row would be scored in "
                       "shadow on values that are not its features (a table of a column per feature is read by name)",
                       sqlstate=shadowing.READ_BY_POSITION)


def _reads_the_score(plpy, model, table, into, what="scores"):
    """Raise (22023) where a shadow reads `table` by name and `into` is one of its features, or one of its features
    is generated from `into`: its features are read from the rows after the live version's scores (`what`: or its
    predicted classes, p_label_into) were written into them, so each row would be scored in shadow on the live
    version's new score, not on the value the column held (TablePlans refuses a live version that reads it; set_shadow
    refuses such a shadow of a wired profile table's score column, but score_table's tables and columns are known
    only here)."""
    if into is None:
        return
    one, it = ("score", "into") if what == "scores" else ("class", "its classes into")
    if into in model.feature_names:
        raise PgscoreError(f"column {literal(into)} of {table}, which the live version's {what} were just written "
                           f"into, is one of its features: read after that write, each row would be scored in shadow "
                           f"on the live version's new {one}, not on the value the column held (score_table refuses "
                           f"a live version that reads the column it scores {it})", sqlstate="22023")
    gen = generated_from(plpy, table, into, model.feature_names)
    if gen:
        raise PgscoreError(f"column {literal(into)} of {table}, which the live version's {what} were just written "
                           f"into, is one that its feature {literal(gen[0][0])} is generated from: read after that "
                           f"write, each row would be scored in shadow on a feature computed from the live version's "
                           f"new {one}, not from the value the column held (score_table refuses a live version with "
                           f"a feature generated from the column it scores {it})", sqlstate="22023")


def _shadow_failed(plpy, GD, name, model_id, label, table, n, sqlstate, reason):
    """A chunk the shadow did not score: counted, and warned of once per session (shadowing.failed)."""
    shadowing.failed(plpy, GD, model_id, label, name, str(table), sqlstate, n, f"{n} row(s) of a chunk of {table}",
                     reason)


def _shadow_failed_rows(plpy, GD, name, model_id, label, table, key, failures):
    """The rows of a chunk the shadow could not read (`failures`, rescoring.Failure each: its keys, reason and
    SQLSTATE), counted one count per SQLSTATE, naming their first keys, as the trigger's shadow counts its profiles."""
    from pgscore.rescoring import PARTS_BUDGET

    by_state = {}
    for f in failures:
        by_state.setdefault(f.sqlstate or shadowing.MODEL_RAISED, []).append(f)
    for state, fs in by_state.items():
        keys = [k for f in fs for k in f.keys]
        n = len(keys)
        # the parts counted whole once the search stopped (rescoring.Unsearched's note in their reason): their rows
        # may be readable, which the first part's reason, a single row's, does not say (review r6)
        whole = sum(len(f.keys) for f in fs if f"stopped after {PARTS_BUDGET} statements" in f.reason)
        shadowing.failed(plpy, GD, model_id, label, name, str(table), state, n,
                         f"{n} row(s) of a chunk of {table} ({quote_ident(plpy, key)} "
                         f"{', '.join(map(str, keys[:5]))}{', ...' if n > 5 else ''}"
                         + (f"; {whole} of them in parts not searched, each readable or not: the search for the "
                            f"rows at fault stopped after {PARTS_BUDGET} statements" if whole else "") + ")",
                         fs[0].reason)


def _unfit(model, plans, keys, scores):
    """Raise the error for the first score that the score column's type cannot hold, naming its key (a
    real: beyond its range, or too small not to round to 0); return where every score fits."""
    if plans.into_type != "real":
        return
    s = np.asarray(scores, dtype=np.float64)
    with np.errstate(over="ignore", under="ignore"):
        f = s.astype(np.float32)
    bad = np.flatnonzero((np.isinf(f) & np.isfinite(s)) | ((f == 0) & (s != 0)))
    if len(bad):
        i = int(bad[0])
        more = f" (and {len(bad) - 1} more score of this chunk)" if len(bad) > 1 else ""
        raise InvalidModel(f"model {model.label}: the score of key {key_text(keys[i])}, {float(s[i])!r}, does not fit column "
                           f"{literal(plans.into)} of {plans.table}, a real{more}", sqlstate="22003",
                           hint="score into a double precision column")


# what pgscore.score_table says where it may not commit after each chunk (commit_for_score_table)
TABLE_COMMIT_REFUSED = (
    "score_table commits after each chunk (p_commit => true), which PostgreSQL allows only where the CALL is no "
    "part of a larger transaction: it was called inside a transaction block (after BEGIN, or from a driver with "
    "autocommit off, as psycopg2 opens by default), from a function, from a procedure with a SET clause or "
    "SECURITY DEFINER, or in a PL/pgSQL block with an EXCEPTION clause")
TABLE_COMMIT_HINT = (
    "CALL it outside a transaction block (autocommit on: psql's default, conn.autocommit = True in psycopg2; or "
    "pgscore score, which commits each chunk itself), from a DO block or a procedure called so, or pass "
    "p_commit => false to score every chunk as part of your transaction, which commits or rolls back as a whole")


def commit_for_score_table(plpy):
    """pgscore.score_table_commit, the first thing score_table does: commit, where the CALL may (outside a
    transaction block, through CALL and DO alone), or raise 2D000 in pgscore's words, before any work, where
    PostgreSQL refuses (its own error, a bare 'invalid transaction termination', named neither the procedure
    nor the way out). PL/Python raises the refusal as an exception before the transaction changes (SPI_commit
    checks first), so it goes on as it was for the error raised here."""
    try:
        plpy.commit()
    except plpy.SPIError as e:
        if getattr(e, "sqlstate", None) != "2D000":
            raise
        raise PgscoreError(TABLE_COMMIT_REFUSED, sqlstate="2D000", detail=f"PostgreSQL: {e}",
                           hint=TABLE_COMMIT_HINT) from None
