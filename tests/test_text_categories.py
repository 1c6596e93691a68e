"""Text categories (migration 0123): a Pipeline whose encoders were fitted on words deploys as trained, stored
converted to take each word's code, and every path that scores codes the words: by name (jsonb), by position
(pgscore.category_code), predict_batch over text columns, score_table. Each score equals the ORIGINAL estimator's
on the words, an unknown word and NULL included."""

import csv
import json
import re

import joblib
import numpy as np
import psycopg2
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from helpers import pgscore_cli, query
from pgscore import features, registry
from pgscore.errors import InvalidModel

NAMES = ["age", "region", "plan"]
REGIONS = ["east", "west", "north", "south"]
PLANS = ["basic", "plus", "pro"]


def words_data(n=300, seed=0):
    """age (a number, NaN at times), region and plan (words, missing at times, as NaN: as pandas reads them)."""
    rng = np.random.default_rng(seed)
    X = np.empty((n, 3), dtype=object)
    age = rng.normal(40, 10, n)
    age[::13] = np.nan
    X[:, 0] = age
    X[:, 1] = rng.choice(REGIONS, n)
    X[:, 2] = rng.choice(PLANS, n)
    X[::11, 1] = np.nan
    X[::17, 2] = np.nan
    z = (np.nan_to_num(age.astype(float), nan=40) - 40) / 10 + np.where(X[:, 2] == "pro", 1.0, 0.0)
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    return X, y


def binary_model(handle_unknown="ignore"):
    X, y = words_data()
    ct = ColumnTransformer([("cat", OneHotEncoder(handle_unknown=handle_unknown), [1, 2]),
                            ("num", Pipeline([("i", SimpleImputer()), ("s", StandardScaler())]), [0])])
    return Pipeline([("ct", ct), ("lr", LogisticRegression())]).fit(X, y), X, y


def multiclass_model():
    X, _ = words_data(seed=1)
    y = np.random.default_rng(2).integers(0, 3, len(X))
    ct = ColumnTransformer([("cat", Pipeline([("i", SimpleImputer(strategy="constant", fill_value="missing")),
                                              ("o", OneHotEncoder(handle_unknown="ignore"))]), [1, 2]),
                            ("num", SimpleImputer(), [0])])
    return Pipeline([("ct", ct), ("rf", RandomForestClassifier(n_estimators=15, random_state=0))]).fit(X, y), X, y


# rows to score: every word, NULLs, an unknown word ('mars', 'platinum')
ROWS = [(1, 35.0, "east", "basic"), (2, None, "west", "plus"), (3, 52.5, None, "pro"), (4, 41.0, "north", None),
        (5, 29.0, "mars", "basic"), (6, 60.0, "south", "platinum"), (7, None, None, None), (8, 44.0, "south", "pro")]


def original_scores(model, rows, column=1):
    X = np.array([[np.nan if a is None else a, np.nan if r is None else r, np.nan if p is None else p]
                  for _, a, r, p in rows], dtype=object)
    p = model.predict_proba(X)
    return p[:, 1] if column == 1 else p.max(axis=1)


def make_table(conn):
    query(conn, "CREATE TABLE customers (id int PRIMARY KEY, age float8, region text, plan varchar(20), s float8)")
    for row in ROWS:
        query(conn, "INSERT INTO customers (id, age, region, plan) VALUES (%s, %s, %s, %s)", row)


def test_conversion_is_exact_and_refusals_say_why():
    model, X, _ = binary_model()
    converted, vocab = features.text_conversion(model, NAMES)
    assert vocab == {"region": sorted(REGIONS), "plan": PLANS}
    assert model.named_steps["ct"].transformers_[0][1].categories_[1].dtype == object  # the original untouched
    coded = features.code_words(X, NAMES, vocab)
    features.check_text_conversion(model, converted, "binary", vocab, NAMES, X, coded)
    assert np.allclose(converted.predict_proba(coded.astype(float)), model.predict_proba(X), atol=1e-12, rtol=0)
    with pytest.raises(InvalidModel, match="holds the number 3"):  # a code made by hand: another order, maybe
        features.code_words(np.array([[1.0, "east", 3]], dtype=object), NAMES, vocab)
    # the text column also read by another transformer (a FunctionTransformer given the words): refused, why said
    both = ColumnTransformer([("cat", OneHotEncoder(), [2]), ("len", FunctionTransformer(
        lambda a: np.array([[len(str(v))] for v in a[:, 0]], dtype=float)), [2])])
    Xf = np.array([[1.0, "east", p] for p in PLANS * 4], dtype=object)
    est = Pipeline([("ct", both), ("lr", LogisticRegression())]).fit(Xf, [0, 1] * 6)
    with pytest.raises(InvalidModel, match="feature 'plan' feeds an encoder fitted on its words and also"):
        features.text_conversion(est, NAMES)
    # bytes categories
    Xb = np.array([[1.0, b"east", b"pro"], [2.0, b"west", b"basic"]], dtype=object)
    est = Pipeline([("ct", ColumnTransformer([("cat", OneHotEncoder(), [1, 2])])), ("lr", LogisticRegression())]
                   ).fit(Xb, [0, 1])
    with pytest.raises(InvalidModel, match="bytes categories"):
        features.text_conversion(est, NAMES)


def test_deployed_by_registry_scored_by_name_batch_and_score_table(conn, db_url):
    model, X, y = binary_model()
    rec = registry.deploy(db_url, "m", model, X, y, feature_names=NAMES)
    assert rec["text_categories"] == {"region": sorted(REGIONS), "plan": PLANS}
    (stored, types), = query(conn, "SELECT text_categories, feature_types FROM pgscore.model_versions WHERE name = 'm'")
    assert stored == rec["text_categories"] and types == ["float8", "text", "text"]
    make_table(conn)
    want = dict(zip([r[0] for r in ROWS], original_scores(model, ROWS)))
    by_name = dict(query(conn, "SELECT id, pgscore.score('m', to_jsonb(c) - 'id' - 's') FROM customers c"))
    assert max(abs(by_name[k] - want[k]) for k in want) < 1e-9
    batch = dict(query(conn, "SELECT key::int, score FROM pgscore.predict_batch('m', "
                             "'SELECT id, age, region, plan FROM customers')"))
    assert max(abs(batch[k] - want[k]) for k in want) < 1e-9
    query(conn, "CALL pgscore.score_table('m', 'customers', 'id', 's', 3)")
    table = dict(query(conn, "SELECT id, s FROM customers"))
    assert max(abs(table[k] - want[k]) for k in want) < 1e-9
    # by position: the codes, as category_code gives them (an unknown word -1, NULL NULL: NaN to the model)
    codes = query(conn, "SELECT pgscore.category_code('m', 'plan', 'pro'), pgscore.category_code('m', 'region', 'mars'), "
                        "pgscore.category_code('m', 'plan', NULL), pgscore.category_code('m', 'region', 'east')")[0]
    assert codes == (2.0, -1.0, None, 0.0)
    by_position = dict(query(conn, "SELECT id, pgscore.score('m', ARRAY[age, pgscore.category_code('m', 'region', region), "
                                   "pgscore.category_code('m', 'plan', plan)]) FROM customers"))
    assert max(abs(by_position[k] - want[k]) for k in want) < 1e-9
    # a JSON number is taken as the code
    assert abs(query(conn, "SELECT pgscore.score('m', '{\"age\": 35, \"region\": 0, \"plan\": 0}'::jsonb)")[0][0]
               - want[1]) < 1e-9
    # category_code's errors: an unknown model, a feature with no words (and a typo's hint)
    with pytest.raises(psycopg2.Error) as e:
        query(conn, "SELECT pgscore.category_code('m', 'plna', 'pro')")
    assert e.value.pgcode == "22023" and "no text feature 'plna'" in e.value.diag.message_primary
    assert "'plan'" in e.value.diag.message_hint
    with pytest.raises(psycopg2.Error) as e:
        query(conn, "SELECT pgscore.category_code('nope', 'plan', 'pro')")
    assert e.value.pgcode == "42704"


def test_strict_encoder_unknown_word_names_the_word(conn, db_url):
    model, X, y = binary_model(handle_unknown="error")
    registry.deploy(db_url, "strict", model, X, y, feature_names=NAMES)
    assert abs(query(conn, "SELECT pgscore.score('strict', '{\"age\": 35, \"region\": \"east\", \"plan\": \"basic\"}'::jsonb)")
               [0][0] - original_scores(model, ROWS[:1])[0]) < 1e-9
    with pytest.raises(psycopg2.Error) as e:
        query(conn, "SELECT pgscore.score('strict', '{\"age\": 35, \"region\": \"east\", \"plan\": \"platinum\"}'::jsonb)")
    assert e.value.pgcode == "22023"
    assert "feature 'plan' holds the word 'platinum'" in e.value.diag.message_primary
    assert "the words it knows: 'basic', 'plus', 'pro'" in e.value.diag.message_hint
    with pytest.raises(ValueError):  # (the original refuses it too)
        model.predict_proba(np.array([[35.0, "east", "platinum"]], dtype=object))
    # a chunk (predict_batch over a text column): its words in the hint, not the codes (the row's word unknown there)
    make_table(conn)
    with pytest.raises(psycopg2.Error) as e:
        query(conn, "SELECT count(*) FROM pgscore.predict_batch('strict', 'SELECT id, age, region, plan FROM customers')")
    assert e.value.pgcode == "22023" and "feature 'region'" in e.value.diag.message_primary
    assert "the words it knows: 'east', 'north', 'south', 'west'" in e.value.diag.message_hint
    # scored by scikit-learn (not compiled): its refusal says the same, and NULL too, which this encoder knows
    registry.deploy(db_url, "strict", model, X, y, feature_names=NAMES, compile=False)
    assert query(conn, "SELECT engine FROM pgscore.model_versions WHERE name = 'strict' AND live") == [("scikit-learn",)]
    with pytest.raises(psycopg2.Error) as e:
        query(conn, "SELECT pgscore.score('strict', '{\"age\": 35, \"region\": \"mars\", \"plan\": \"pro\"}'::jsonb)")
    assert e.value.pgcode == "22023"
    assert "feature 'region' holds the word 'mars'" in e.value.diag.message_primary
    assert "the words it knows: 'east', 'north', 'south', 'west'" in e.value.diag.message_hint
    (s,), = query(conn, "SELECT pgscore.score('strict', '{\"age\": 35, \"region\": null, \"plan\": \"pro\"}'::jsonb)")
    assert abs(s - model.predict_proba(np.array([[35.0, np.nan, "pro"]], dtype=object))[0, 1]) < 1e-9


def test_cli_deploy_with_words_in_the_csv_multiclass(conn, db_url, tmp_path):
    model, X, y = multiclass_model()
    path, train = tmp_path / "m.joblib", tmp_path / "train.csv"
    joblib.dump(model, path)
    with open(train, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([*NAMES, "y"])
        for row, label in zip(X, y):
            w.writerow(["" if isinstance(v, float) and v != v else v for v in row] + [label])
    r = pgscore_cli("deploy", str(path), "--name", "tier", "--train", str(train), "--target", "y", "--db", db_url)
    assert r.returncode == 0, r.stderr
    assert "text categories: region (5 words), plan (4 words); stored converted" in r.stdout, r.stdout
    (vocab, metrics), = query(conn, "SELECT text_categories, metrics FROM pgscore.model_versions WHERE name = 'tier'")
    assert vocab == {"region": ["east", "missing", "north", "south", "west"], "plan": ["basic", "missing", "plus", "pro"]}
    assert "accuracy" in metrics
    shown = pgscore_cli("show", "tier", "--db", db_url)
    assert shown.returncode == 0, shown.stderr
    assert "  features: age float8, region text, plan text\n" in shown.stdout, shown.stdout
    assert "  words of plan (their codes 0..3): 'basic', 'missing', 'plus', 'pro'\n" in shown.stdout, shown.stdout
    make_table(conn)
    want = dict(zip([r[0] for r in ROWS], original_scores(model, ROWS, column=None)))
    by_name = dict(query(conn, "SELECT id, pgscore.score('tier', to_jsonb(c) - 'id' - 's') FROM customers c"))
    assert max(abs(by_name[k] - want[k]) for k in want) < 1e-9
    batch = dict(query(conn, "SELECT key::int, score FROM pgscore.predict_batch('tier', "
                             "'SELECT id, age, region, plan FROM customers')"))
    assert max(abs(batch[k] - want[k]) for k in want) < 1e-9
    labels = dict(query(conn, "SELECT id, pgscore.predict('tier', to_jsonb(c) - 'id' - 's') FROM customers c"))
    X_rows = np.array([[np.nan if v is None else v for v in r[1:]] for r in ROWS], dtype=object)
    assert [labels[r[0]] for r in ROWS] == [str(c) for c in model.predict(X_rows)]


def _up_down(a):
    return np.where(np.asarray(a, dtype=float) > 0, "up", "down").astype(object)


def test_refused_as_before_where_the_words_cannot_be_coded(db_url):
    # the encoder given its column after a FunctionTransformer (which makes the words from numbers): without training
    # data it is refused as before, the reason the words are not coded said
    fn = FunctionTransformer(_up_down)
    X = np.array([[1.0], [-1.0], [2.0], [-3.0]])
    est = Pipeline([("f", fn), ("o", OneHotEncoder()), ("lr", LogisticRegression())]).fit(X, [1, 0, 1, 0])
    with pytest.raises(InvalidModel) as e:
        registry.deploy(db_url, "f", est, None, feature_names=["x"])
    assert "fitted on text categories" in e.value.message and "given it after another transformer" in e.value.detail


def wired(conn, db_url):
    """The binary model deployed as 'm' and the customers table (text columns) wired to rescore it on an insert
    into events; the model and its training data."""
    model, X, y = binary_model()
    registry.deploy(db_url, "m", model, X, y, feature_names=NAMES)
    make_table(conn)
    query(conn, "ALTER TABLE customers ADD COLUMN scored_at timestamptz")
    query(conn, "CREATE TABLE events (customer_id int)")
    query(conn, "SELECT pgscore.attach_rescoring('events', 'customers', 'customer_id', 'm', 's', p_profile_key => 'id')")
    return model, X, y


def test_rescoring_on_insert_codes_the_profile_tables_text_columns(conn, db_url):
    model, X, y = wired(conn, db_url)
    query(conn, "INSERT INTO events SELECT id FROM customers")
    want = dict(zip([r[0] for r in ROWS], original_scores(model, ROWS)))
    got = dict(query(conn, "SELECT id, s FROM customers"))
    assert max(abs(got[k] - want[k]) for k in want) < 1e-9
    # one event at a time (the trigger's statement of a row)
    query(conn, "UPDATE customers SET s = NULL")
    for k in want:
        query(conn, "INSERT INTO events VALUES (%s)", (k,))
    got = dict(query(conn, "SELECT id, s FROM customers"))
    assert max(abs(got[k] - want[k]) for k in want) < 1e-9


def test_a_version_made_live_over_a_wired_text_table_and_the_downgrade_refused_while_one_is_live(conn, db_url):
    """A new version made live while a profile table with text columns is wired to the name: the go-live check
    (check_live_version_fed) takes the text columns. Below 0123 nothing codes the words: the downgrade is
    refused while a live (or shadow) version has text categories, naming it; after a retire it goes, and
    category_code with it (the column kept, as versions have words)."""
    from pgscore import migrate

    model, X, y = wired(conn, db_url)
    assert registry.deploy(db_url, "m", model, X, y, feature_names=NAMES)["live"]
    query(conn, "INSERT INTO events VALUES (3)")
    (s,), = query(conn, "SELECT s FROM customers WHERE id = 3")
    assert abs(s - original_scores(model, [ROWS[2]])[0]) < 1e-9
    query(conn, "SELECT pgscore.detach_rescoring('events', 'customers')")
    with pytest.raises(Exception, match=r"cannot downgrade below 0123: m version 2 take\(s\) text categories"):
        migrate.downgrade(db_url, "0122")
    assert migrate.current(db_url) == migrate.head()
    registry.retire(db_url, "m")
    migrate.downgrade(db_url, "0122")
    assert migrate.current(db_url) == "0122"
    # (the column kept: versions 1 and 2 have words, test_the_downgrade_keeps_the_words_of_versions_that_are_not_live)
    assert query(conn, "SELECT count(*) FROM pg_attribute WHERE attrelid = 'pgscore.models'::regclass "
                       "AND attname = 'text_categories' AND NOT attisdropped") == [(1,)]
    assert query(conn, "SELECT to_regprocedure('pgscore.category_code(text, text, text)')") == [(None,)]
    # py_src on the older schema: a model fitted on codes deploys and scores
    assert registry.deploy(db_url, "n", LogisticRegression().fit([[0.0], [1.0]], [0, 1]), None,
                           feature_names=["x"])["text_categories"] is None


def test_category_code_is_granted_as_score(conn, db_url):
    """pgscore_app (and pgscore_admin) may call category_code, as they may score; pgscore_reader may not, as it may
    not score; PUBLIC has no EXECUTE."""
    from helpers import ensure_role

    model, X, y = binary_model()
    registry.deploy(db_url, "m", model, X, y, feature_names=NAMES)
    for role, may in (("pgscore_app", True), ("pgscore_admin", True), ("pgscore_reader", False)):
        assert query(conn, "SELECT has_function_privilege(%s, 'pgscore.category_code(text, text, text, integer)', "
                           "'EXECUTE') AND has_function_privilege(%s, 'pgscore.category_code(text, text, bpchar, "
                           "integer)', 'EXECUTE'), "
                           "has_function_privilege(%s, 'pgscore.score(text, jsonb, integer, text)', 'EXECUTE')",
                     (role, role, role)) == [(may, may)]
    assert query(conn, "SELECT count(*) FROM information_schema.routine_privileges WHERE grantee = 'PUBLIC' "
                       "AND routine_name = 'category_code'") == [(0,)]
    ensure_role(conn, "tc_app")
    query(conn, "GRANT pgscore_app TO tc_app")
    query(conn, "SET ROLE tc_app")
    try:
        assert query(conn, "SELECT pgscore.category_code('m', 'plan', 'plus')") == [(1.0,)]
    finally:
        query(conn, "RESET ROLE")


def _encoders():
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.preprocessing import OrdinalEncoder, TargetEncoder

    def ct(enc, num=None):
        return ColumnTransformer([("e", enc, [1, 2]), ("n", num or SimpleImputer(), [0])])

    return {
        "OrdinalEncoder use_encoded_value": Pipeline([("ct", ct(OrdinalEncoder(
            handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-2), "passthrough")),
            ("m", HistGradientBoostingClassifier(max_iter=20, random_state=0))]),
        "TargetEncoder": Pipeline([("ct", ct(TargetEncoder(cv=KFold(5, shuffle=True, random_state=0)))), ("m", LogisticRegression())]),
        "OneHotEncoder infrequent": Pipeline([("ct", ct(OneHotEncoder(handle_unknown="infrequent_if_exist",
                                                                      min_frequency=80))), ("m", LogisticRegression())]),
        "OneHotEncoder drop first": Pipeline([("ct", ct(OneHotEncoder(drop="first"))), ("m", LogisticRegression())]),
        # (an object array: the passthrough column makes the ColumnTransformer's output object, on which the
        # model's own preprocessor fitted its OrdinalEncoder; given the codes, floats, it is float)
        "OrdinalEncoder before HistGradientBoosting's categorical_features": Pipeline([("ct", ct(OrdinalEncoder(
            handle_unknown="use_encoded_value", unknown_value=np.nan), "passthrough")),
            ("m", HistGradientBoostingClassifier(max_iter=20, random_state=0, categorical_features=[0, 1]))]),
        "most_frequent imputer": Pipeline([("ct", ct(Pipeline([("i", SimpleImputer(strategy="most_frequent")),
                                                               ("e", OneHotEncoder(handle_unknown="ignore"))]))),
                                           ("m", LogisticRegression())]),
    }


@pytest.mark.parametrize("kind", sorted(_encoders()))
def test_each_encoder_of_words_converts_exactly(kind):
    """OrdinalEncoder (unknown and missing values encoded), TargetEncoder, OneHotEncoder with infrequent categories
    or a dropped one, a most_frequent imputer before it: the converted model on codes gives what the original gives
    on the words (check_text_conversion, which raises otherwise), every word, NULL and an unknown one included."""
    X, y = words_data()
    model = _encoders()[kind].fit(X, y)
    converted, vocab = features.text_conversion(model, NAMES)
    assert vocab == {"region": sorted(REGIONS), "plan": PLANS}
    coded = features.code_words(X, NAMES, vocab)
    features.check_text_conversion(model, converted, "binary", vocab, NAMES, X, coded)
    rows = np.array([[35.0, "mars", "pro"], [35.0, np.nan, "basic"], [np.nan, "west", np.nan]], dtype=object)
    codes = features.code_words(rows, NAMES, vocab).astype(float)
    assert codes[0, 1] == -1.0 and np.isnan(codes[1, 1])
    try:
        want = model.predict_proba(rows)
    except ValueError:  # (a strict encoder, drop='first': 'mars' refused by both)
        with pytest.raises(ValueError, match="unknown categor"):
            converted.predict_proba(codes)
        want = model.predict_proba(rows[1:])
        codes = codes[1:]
    assert np.allclose(converted.predict_proba(codes), want, rtol=0, atol=1e-12)


def test_an_enum_column_and_a_domain_over_text_are_coded(conn, db_url):
    """A category held in a PostgreSQL ENUM column (or a domain over text) for a feature with words: predict_batch,
    score_table and rescoring code it as its label, as to_jsonb(c) does; it was refused as 'not a number' (42846),
    its hint saying to compute a number in the query. A feature with no words still refuses an ENUM column."""
    model, X, y = binary_model()
    registry.deploy(db_url, "m", model, X, y, feature_names=NAMES)
    query(conn, "CREATE TYPE region_t AS ENUM ('east', 'west', 'north', 'south', 'mars')")
    query(conn, "CREATE DOMAIN plan_d AS text")
    query(conn, "CREATE TABLE t_enum (id int PRIMARY KEY, age float8, region region_t, plan plan_d, s float8, "
                "scored_at timestamptz)")
    for row in ROWS:
        query(conn, "INSERT INTO t_enum (id, age, region, plan) VALUES (%s, %s, %s, %s)", row)
    want = dict(zip([r[0] for r in ROWS], original_scores(model, ROWS)))
    batch = dict(query(conn, "SELECT key::int, score FROM pgscore.predict_batch('m', "
                             "'SELECT id, age, region, plan FROM t_enum')"))
    assert max(abs(batch[k] - want[k]) for k in want) < 1e-9
    query(conn, "CALL pgscore.score_table('m', 't_enum', 'id', 's', 3)")
    table = dict(query(conn, "SELECT id, s FROM t_enum"))
    assert max(abs(table[k] - want[k]) for k in want) < 1e-9
    query(conn, "UPDATE t_enum SET s = NULL")
    query(conn, "CREATE TABLE events (customer_id int)")
    query(conn, "SELECT pgscore.attach_rescoring('events', 't_enum', 'customer_id', 'm', 's', p_profile_key => 'id')")
    query(conn, "INSERT INTO events SELECT id FROM t_enum")
    got = dict(query(conn, "SELECT id, s FROM t_enum"))
    assert max(abs(got[k] - want[k]) for k in want) < 1e-9
    # an ENUM column for a feature with no words (age): refused as before
    query(conn, "CREATE TYPE age_t AS ENUM ('young', 'old')")
    with pytest.raises(psycopg2.Error) as e:
        query(conn, "SELECT count(*) FROM pgscore.predict_batch('m', "
                    "'SELECT id, ''young''::age_t AS age, region, plan FROM t_enum')")
    assert e.value.pgcode == "42846" and "feature 'age' is a column of type public.age_t" in e.value.diag.message_primary


def test_a_char_column_is_coded_as_the_model_was_fitted_on_it(conn, db_url):
    """A char(n) column: PostgreSQL gives its words blank-padded (psycopg2, pandas.read_sql, COPY and to_jsonb
    alike), so a model fitted on words read from it knows 'east    '; one fitted elsewhere knows 'east'. The SQL
    paths (predict_batch, score_table) code the padded word where the model knows it, else the word its cast to
    text cuts: they cut the blanks always, which coded every word of the first model as unknown (-1), silently,
    where scoring by name (to_jsonb) scored them right."""
    query(conn, "CREATE TABLE t_char (id int PRIMARY KEY, age float8, region char(8), plan char(9), s float8)")
    for row in ROWS:
        query(conn, "INSERT INTO t_char (id, age, region, plan) VALUES (%s, %s, %s, %s)", row)
    rows = query(conn, "SELECT id, age, region, plan FROM t_char ORDER BY id")
    assert rows[0][2] == "east    "  # (as psycopg2 reads it)
    X, y = words_data()
    padded = np.array([[a, r if r != r else r.ljust(8), p if p != p else p.ljust(9)] for a, r, p in X], dtype=object)
    for name, Xt, scored in (("padded", padded, rows), ("trimmed", X, ROWS)):
        ct = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), [1, 2]),
                                ("num", SimpleImputer(), [0])])
        model = Pipeline([("ct", ct), ("lr", LogisticRegression(max_iter=1000))]).fit(Xt, y)
        registry.deploy(db_url, name, model, Xt, y, feature_names=NAMES)
        want = dict(zip([r[0] for r in ROWS], original_scores(model, scored)))
        batch = dict(query(conn, "SELECT key::int, score FROM pgscore.predict_batch(%s, "
                                 "'SELECT id, age, region, plan FROM t_char')", (name,)))
        assert max(abs(batch[k] - want[k]) for k in want) < 1e-9, name
        query(conn, "UPDATE t_char SET s = NULL")
        query(conn, "CALL pgscore.score_table(%s, 't_char', 'id', 's', 3)", (name,))
        table = dict(query(conn, "SELECT id, s FROM t_char"))
        assert max(abs(table[k] - want[k]) for k in want) < 1e-9, name
        if name == "padded":  # by name: the padded words, as to_jsonb gives them
            by_name = dict(query(conn, "SELECT id, pgscore.score('padded', to_jsonb(c) - 'id' - 's') FROM t_char c"))
            assert max(abs(by_name[k] - want[k]) for k in want) < 1e-9


def test_the_downgrade_keeps_the_words_of_versions_that_are_not_live(conn, db_url):
    """A version with words that is neither live nor shadow (an older version, a retired model's) can be made live
    again (rollback, activate): its words are what scores it by name and codes a text column. The downgrade dropped
    them with the column (in the registry, whose rows are immutable), and an upgrade again could not give them
    back: that version then refused every word, for ever. The column stays (a NOTICE names the versions) where a
    version has words, and the upgrade again finds them; where none has, it goes as before."""
    from pgscore import migrate

    model, X, y = binary_model()
    registry.deploy(db_url, "m", model, X, y, feature_names=NAMES)
    registry.retire(db_url, "m")
    migrate.downgrade(db_url, "0122")
    assert migrate.current(db_url) == "0122"
    assert query(conn, "SELECT text_categories FROM pgscore.models WHERE name = 'm'") == [(
        {"region": sorted(REGIONS), "plan": PLANS},)]
    assert query(conn, "SELECT to_regprocedure('pgscore.category_code(text, text, text)')") == [(None,)]
    migrate.upgrade(db_url)
    assert migrate.current(db_url) == migrate.head()
    registry.activate(db_url, "m", 1)
    make_table(conn)
    want = dict(zip([r[0] for r in ROWS], original_scores(model, ROWS)))
    by_name = dict(query(conn, "SELECT id, pgscore.score('m', to_jsonb(c) - 'id' - 's') FROM customers c"))
    assert max(abs(by_name[k] - want[k]) for k in want) < 1e-9


def test_a_chunks_refusal_of_an_unknown_word_says_word_not_category_minus_one(conn, db_url):
    """A strict encoder's refusal in a chunk of rows (score_table, predict_batch) said `feature 'region' has unknown
    category -1.0`: a code the caller never wrote, of a feature it passes as words. It says `holds an unknown word
    (code -1)`, its hint the words it knows, as one row's refusal does."""
    model, X, y = binary_model(handle_unknown="error")
    registry.deploy(db_url, "strict", model, X, y, feature_names=NAMES)
    make_table(conn)
    for sql in ("CALL pgscore.score_table('strict', 'customers', 'id', 's', 3)",
                "SELECT count(*) FROM pgscore.predict_batch('strict', 'SELECT id, age, region, plan FROM customers')"):
        with pytest.raises(psycopg2.Error) as e:
            query(conn, sql)
        assert e.value.pgcode == "22023"
        # (score_table reads the row's word by its key since session 61, predict_batch from its query since
        # session 62: the word, not the code)
        assert "feature 'region' holds the word 'mars'" in e.value.diag.message_primary, sql
        assert "-1.0" not in e.value.diag.message_primary
        assert "the words it knows: 'east', 'north', 'south', 'west'" in e.value.diag.message_hint


def test_the_drift_views_count_unknown_words_out_of_range(conn, db_url):
    """The audit log holds the codes the model read, an unknown word -1: below the baseline's range (codes 0 and up),
    so the drift views' out_of_range is the share of unknown words, and a NULL is in null_rate (docs/sql.md)."""
    model, X, y = binary_model()
    registry.deploy(db_url, "m", model, X, y, feature_names=NAMES)
    query(conn, "SELECT pgscore.score('m', jsonb_build_object('age', 40, 'region', CASE WHEN i % 10 = 0 THEN 'mars' "
                "WHEN i % 10 = 1 THEN NULL ELSE 'east' END, 'plan', 'pro')) FROM generate_series(1, 200) i")
    assert query(conn, "SELECT count(*) FILTER (WHERE features[2] = -1), count(*) FILTER (WHERE features[2] = 'NaN') "
                       "FROM pgscore.prediction_log") == [(20, 20)]
    query(conn, "SELECT pgscore.refresh_monitoring()")
    rows = query(conn, "SELECT DISTINCT out_of_range, null_rate FROM pgscore.feature_drift WHERE feature = 'region'")
    assert rows and all(abs(o - 20 / 180) < 1e-9 and abs(n - 0.1) < 1e-9 for o, n in rows), rows


def test_check_refuses_a_converted_model_that_fails_otherwise_than_valueerror():
    """An error other than ValueError of the converted model (a TypeError of an encoder given floats where it was
    fitted on objects) is a difference the check refuses, not a traceback out of deploy."""
    model, X, _ = binary_model()
    converted, vocab = features.text_conversion(model, NAMES)

    class Broken:
        classes_ = converted.classes_

        def predict_proba(self, X):
            raise TypeError("ufunc 'isnan' not supported for the input types")

        def predict(self, X):
            raise TypeError("ufunc 'isnan' not supported for the input types")

    with pytest.raises(InvalidModel, match="does not give what it gives for the words"):
        features.check_text_conversion(model, Broken(), "binary", vocab, NAMES, X, features.code_words(X, NAMES, vocab))


def test_an_imputer_of_none_before_the_encoder_converts():
    """SimpleImputer(missing_values=None) fitted on words with None for missing (as psycopg2 gives NULL): the
    converted imputer fills the code of NULL (NaN), so the model converts and scores NULL as the original None."""
    X, y = words_data()
    X[::11, 1] = None
    X[::17, 2] = None
    ct = ColumnTransformer([("cat", Pipeline([("i", SimpleImputer(strategy="constant", fill_value="missing",
                                                                  missing_values=None)),
                                              ("o", OneHotEncoder(handle_unknown="ignore"))]), [1, 2]),
                            ("num", SimpleImputer(), [0])])
    model = Pipeline([("ct", ct), ("lr", LogisticRegression())]).fit(X, y)
    converted, vocab = features.text_conversion(model, NAMES)
    assert vocab == {"region": sorted(REGIONS + ["missing"]), "plan": sorted(PLANS + ["missing"])}
    coded = features.code_words(X, NAMES, vocab)
    features.check_text_conversion(model, converted, "binary", vocab, NAMES, X, coded)
    rows = np.array([[35.0, None, "pro"], [35.0, "west", None], [np.nan, "mars", None]], dtype=object)
    assert np.allclose(converted.predict_proba(features.code_words(rows, NAMES, vocab).astype(float)),
                       model.predict_proba(rows), rtol=0, atol=1e-12)


def test_the_check_of_a_feature_of_many_words_is_linear():
    """A feature of 40,000 words (ZIP codes) one-hot encoded: the check looked each sample row's words up in lists
    (quadratic: 8.5 s at 20,000 words, about 34 s at 40,000); it looks them up by dict now. Checked without a clock
    (a timed assertion failed on a loaded machine, 6.2 s against 5): the vocabulary's word lists refuse a search,
    `index()` or `in`, each of which is a pass over the list per sample row."""

    class Searched(list):
        def index(self, *a):
            raise AssertionError("a word looked up by a search of the vocabulary's list (quadratic)")

        def __contains__(self, w):
            raise AssertionError("a word looked up by a search of the vocabulary's list (quadratic)")

    n = 40_000
    rng = np.random.default_rng(0)
    X = np.empty((n, 2), dtype=object)
    X[:, 0] = rng.permutation(np.array([f"{i:05d}" for i in range(n)], dtype=object))
    X[:, 1] = rng.choice(PLANS, n)
    y = rng.integers(0, 2, n)
    model = Pipeline([("ct", ColumnTransformer([("o", OneHotEncoder(handle_unknown="ignore"), [0, 1])])),
                      ("lr", LogisticRegression(max_iter=20))]).fit(X, y)
    converted, vocab = features.text_conversion(model, ["zip", "plan"])
    coded = features.as_matrix(features.code_words(X, ["zip", "plan"], vocab), ["zip", "plan"])
    searched = {f: Searched(words) for f, words in vocab.items()}
    features.check_text_conversion(model, converted, "binary", searched, ["zip", "plan"], X, coded)


def test_a_csv_cell_holding_a_word_the_model_knows_is_that_word_not_missing(tmp_path):
    """--train / train_csv: a cell of a text feature reads as missing where it is empty or NA, NULL, None...;
    but a word the encoder was fitted on ('NA', North America; 'None') is that word: read as missing, a strict
    encoder refused the training data and the deploy, and the baselines counted the region as NULL."""
    from pgscore import datasets

    X = np.array([[1.0, r, p] for r in ["NA", "EU", "APAC"] for p in ["None", "basic"]] * 3, dtype=object)
    y = [0, 1] * 9
    model = Pipeline([("ct", ColumnTransformer([("o", OneHotEncoder(), [1, 2])], remainder="passthrough")),
                      ("lr", LogisticRegression())]).fit(X, y)
    path = tmp_path / "train.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([*NAMES, "y"])
        w.writerows([*row, label] for row, label in zip(X.tolist(), y))
        w.writerow([2.0, "", "basic", 1])  # (an empty cell: missing)
    Xr, yr, names = datasets.read_csv(path, target="y", features=NAMES, estimator=model)
    assert Xr[:-1, 1:].tolist() == X[:, 1:].tolist()
    assert np.isnan(Xr[-1, 1]) and Xr[-1, 2] == "basic"


def test_show_quotes_each_word(conn, db_url):
    """pgscore show's line of words: each as an SQL literal, so an empty word, one with a space before it or a comma
    in it reads as it is (joined bare, '', ' a' and 'a, b' were lost among the commas)."""
    X = np.array([[1.0, w, "x"] for w in ["", " a", "a, b", "it's"]] * 4, dtype=object)
    model = Pipeline([("ct", ColumnTransformer([("o", OneHotEncoder(handle_unknown="ignore"), [1])])),
                      ("lr", LogisticRegression())]).fit(X[:, :2], [0, 1] * 8)
    registry.deploy(db_url, "q", model, X[:, :2], None, feature_names=NAMES[:2])
    shown = pgscore_cli("show", "q", "--db", db_url)
    assert shown.returncode == 0, shown.stderr
    assert "  words of region (their codes 0..3): '', ' a', 'a, b', 'it''s'\n" in shown.stdout, shown.stdout


def test_the_check_refuses_a_conversion_that_scores_otherwise():
    """A converted model whose codes are not the vocabulary's order (two words' codes swapped) is refused by the
    check, on the training data and, without any, on the sample of every word: no test of the change failed with
    check_text_conversion doing nothing."""
    model, X, _ = binary_model()
    converted, vocab = features.text_conversion(model, NAMES)
    enc = converted.named_steps["ct"].transformers_[0][1]
    enc.categories_[1] = enc.categories_[1][[1, 0, 2]]  # plan: 'plus' read as 'basic' and 'basic' as 'plus'
    coded = features.code_words(X, NAMES, vocab)
    with pytest.raises(InvalidModel, match="on the training data"):
        features.check_text_conversion(model, converted, "binary", vocab, NAMES, X, coded)
    with pytest.raises(InvalidModel, match="on a sample of every word"):
        features.check_text_conversion(model, converted, "binary", vocab, NAMES)


def test_a_column_transformer_by_name_on_words_deploys_by_position(db_url):
    """A ColumnTransformer that takes its columns by name (fitted on a pandas DataFrame, the usual way) with an
    encoder of words, deployed with the DataFrame: stored selecting the same columns by position (session 65; it
    was refused, 'takes its columns by name ... select the columns by position'), its words coded, every score
    through SQL the original's on the DataFrame, an unknown word and NULL included. Where the selection cannot be
    converted (a ColumnTransformer without the positions scikit-learn keeps: another scikit-learn), refused for
    what it is, as before, not as 'feature ... holds 'east', which is not a number'."""
    import pandas as pd

    X, y = words_data()
    frame = pd.DataFrame({"age": X[:, 0].astype(float), "region": X[:, 1], "plan": X[:, 2]})
    ct = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), ["region", "plan"]),
                            ("num", Pipeline([("i", SimpleImputer()), ("s", StandardScaler())]), ["age"])])
    model = Pipeline([("ct", ct), ("lr", LogisticRegression())]).fit(frame, y)
    rec = registry.deploy(db_url, "byname", model, frame, y)
    assert rec["text_categories"] == {"region": sorted(REGIONS), "plan": PLANS}
    assert rec["feature_names"] == NAMES and rec["feature_types"] == ["float8", "text", "text"]
    scored = query(db_url, "SELECT pgscore.score('byname', jsonb_build_object('age', a, 'region', r, 'plan', p)) "
                           "FROM (VALUES " + ", ".join(["(%s, %s::float8, %s, %s)"] * len(ROWS)) + ") v(i, a, r, p) "
                           "ORDER BY i", [v for row in ROWS for v in row])
    want = model.predict_proba(pd.DataFrame([{"age": np.nan if a is None else a, "region": r, "plan": p}
                                             for _, a, r, p in ROWS]))[:, 1]
    assert [s for (s,) in scored] == pytest.approx(want, abs=1e-12)
    model.named_steps["ct"].__dict__.pop("_transformer_to_input_indices")
    with pytest.raises(InvalidModel) as e:
        registry.deploy(db_url, "byname2", model, frame, y)
    assert "takes its columns by name" in e.value.message, e.value.message
    assert "select the columns by position" in e.value.hint


def test_a_search_or_a_calibration_of_a_pipeline_on_words_converts():
    """GridSearchCV (saved whole rather than its best_estimator_) and CalibratedClassifierCV of a Pipeline fitted on
    words: the encoders inside are fed the model's own columns, so they convert as the Pipeline's do. They were
    refused 'where pgscore cannot tell which feature feeds it'. Folds whose encoders learnt other words are
    refused as two encoders of one feature."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.model_selection import GridSearchCV

    X, y = words_data()
    base = binary_model()[0]
    for est in (GridSearchCV(base, {"lr__C": [0.1, 1.0]}, cv=3), CalibratedClassifierCV(base, cv=3)):
        est.fit(X, y)
        converted, vocab = features.text_conversion(est, NAMES)
        assert vocab == {"region": sorted(REGIONS), "plan": PLANS}
        coded = features.code_words(X, NAMES, vocab)
        features.check_text_conversion(est, converted, "binary", vocab, NAMES, X, coded)
        rows = np.array([[35.0, "mars", "pro"], [35.0, np.nan, "basic"], [np.nan, "west", np.nan]], dtype=object)
        assert np.allclose(converted.predict_proba(features.code_words(rows, NAMES, vocab).astype(float)),
                           est.predict_proba(rows), rtol=0, atol=1e-12)
    rare = X.copy()
    rare[0, 2] = "gold"  # (one row: a fold's encoder never sees it)
    est = CalibratedClassifierCV(base, cv=3).fit(rare, y)
    with pytest.raises(InvalidModel, match="two encoders of feature 'plan' were fitted on other words"):
        features.text_conversion(est, NAMES)


def test_category_code_gives_a_pinned_versions_codes(conn, db_url):
    """category_code's p_version (migration 0127): the codes of the version it pins, as score's p_version pins one
    (here deployed --no-activate, fitted on a word more, so its words' places differ); NULL (or none given) the
    live version's. Before, it gave the live version's alone, and a float8[] built with them scored the pinned
    version on the wrong words. A version the name does not have: score's error. As pgscore_app."""
    from helpers import ensure_role

    live, X, y = binary_model()
    registry.deploy(db_url, "m", live, X, y, feature_names=NAMES)
    X2 = X.copy()
    X2[::5, 2] = "gold"  # the words of version 2: basic, gold, plus, pro
    pinned = Pipeline([("ct", ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), [1, 2]),
                                                 ("num", SimpleImputer(), [0])])),
                       ("lr", LogisticRegression(max_iter=500))]).fit(X2, y)
    assert not registry.deploy(db_url, "m", pinned, X2, y, feature_names=NAMES, activate=False)["live"]
    ensure_role(conn, "tc_app")
    query(conn, "GRANT pgscore_app TO tc_app")
    query(conn, "SET ROLE tc_app")
    try:
        assert query(conn, "SELECT pgscore.category_code('m', 'plan', 'pro'), "
                           "pgscore.category_code('m', 'plan', 'pro', NULL), pgscore.category_code('m', 'plan', 'pro', 1), "
                           "pgscore.category_code('m', 'plan', 'pro', 2), pgscore.category_code('m', 'plan', 'gold'), "
                           "pgscore.category_code('m', 'plan', 'gold', 2), "
                           "pgscore.category_code(p_model => 'm', p_feature => 'plan', p_word => 'gold', p_version => 2)"
                     ) == [(2.0, 2.0, 2.0, 3.0, -1.0, 1.0, 1.0)]
        # a float8[] built with the pinned version's codes scores it as the words by name do
        (by_position, by_name), = query(
            conn, "SELECT pgscore.score('m', ARRAY[41, pgscore.category_code('m', 'region', 'north', 2), "
                  "pgscore.category_code('m', 'plan', 'gold', 2)], 2), "
                  "pgscore.score('m', '{\"age\": 41, \"region\": \"north\", \"plan\": \"gold\"}'::jsonb, 2)")
        want = pinned.predict_proba(np.array([[41.0, "north", "gold"]], dtype=object))[0, 1]
        assert abs(by_position - want) < 1e-9 and abs(by_name - want) < 1e-9
        errs = []
        for sql_text in ("SELECT pgscore.category_code('m', 'plan', 'pro', 9)",
                         "SELECT pgscore.score('m', '{\"age\": 41, \"region\": \"north\", \"plan\": \"pro\"}'::jsonb, 9)"):
            with pytest.raises(psycopg2.Error) as e:
                query(conn, sql_text)
            errs.append((e.value.pgcode, e.value.diag.message_primary))
        assert errs[0] == errs[1] and errs[0][0] == "42704" and "version 9" in errs[0][1], errs
    finally:
        query(conn, "RESET ROLE")


def test_category_code_of_a_char_n_word_codes_it_as_predict_batch_does(conn, db_url):
    """A char(n) column passed to category_code (migration 0127): PostgreSQL gives its words blank-padded, and the
    columns' paths code the padded word where the model knows it so, else the word cut. category_code was given it
    cast to text, cut, so for a model fitted on the padded words (read from such a column) every word but a full
    one was -1 by position where predict_batch found it. Its char(n) form codes it as predict_batch does, for a
    model fitted on padded words and one fitted on cut words; a text argument is coded as given."""
    X, y = words_data()
    padded = X.copy()
    padded[:, 2] = [w.ljust(5) if isinstance(w, str) else w for w in X[:, 2]]
    for name, data in (("cut", X), ("padded", padded)):
        ct = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), [1, 2]), ("num", SimpleImputer(), [0])])
        registry.deploy(db_url, name, Pipeline([("ct", ct), ("lr", LogisticRegression())]).fit(data, y), data, y,
                        feature_names=NAMES)
    query(conn, "CREATE TABLE pads (id int PRIMARY KEY, age float8, region text, plan char(5))")
    query(conn, "INSERT INTO pads VALUES (1, 35, 'east', 'basic'), (2, 40, 'west', 'plus'), (3, 52, 'north', 'pro'), "
                "(4, 41, 'south', NULL), (5, 29, 'east', 'gold')")
    for name in ("cut", "padded"):
        batch = dict(query(conn, f"SELECT key::int, score FROM pgscore.predict_batch('{name}', "
                                 "'SELECT id, age, region, plan FROM pads')"))
        by_position = dict(query(conn, f"SELECT id, pgscore.score('{name}', ARRAY[age, pgscore.category_code('{name}', "
                                       f"'region', region), pgscore.category_code('{name}', 'plan', plan)]) FROM pads"))
        assert max(abs(batch[k] - by_position[k]) for k in batch) < 1e-12, (name, batch, by_position)
        codes = [c for c, in query(conn, f"SELECT pgscore.category_code('{name}', 'plan', plan) FROM pads ORDER BY id")]
        assert codes == [0.0, 1.0, 2.0, None, -1.0], (name, codes)
    # a text argument is coded as given: the padded model knows 'pro  ', not 'pro'
    assert query(conn, "SELECT pgscore.category_code('padded', 'plan', 'pro'), "
                       "pgscore.category_code('padded', 'plan', 'pro  '), pgscore.category_code('padded', 'plan', "
                       "'pro'::char(5)), pgscore.category_code('cut', 'plan', 'pro  '::char(9), 1)") \
        == [(-1.0, 2.0, 2.0, 2.0)]


ZIPS = ["10115", "20095", "80331"]


def zip_model():
    """A model fitted on zip codes written as text ('10115': words that read as numbers), and age."""
    rng = np.random.default_rng(3)
    X = np.empty((200, 2), dtype=object)
    X[:, 0] = rng.normal(40, 10, 200)
    X[:, 1] = rng.choice(ZIPS, 200)
    y = ((X[:, 1] == "80331") | (rng.random(200) < 0.3)).astype(int)
    ct = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), [1]), ("num", "passthrough", [0])])
    return Pipeline([("ct", ct), ("lr", LogisticRegression())]).fit(X, y), X, y


def test_a_number_for_a_text_feature_whose_words_are_numbers_is_refused_not_scored_as_a_code(conn, db_url):
    """A zip code column of integers for a feature fitted on the zips as text: to_jsonb(c) gives {"zip": 80331}, an
    integer column reaches predict_batch, score_table and rescoring. Taken as the code 80331 (an unknown word) it
    scored silently otherwise than scikit-learn on the word '80331'; as the word, leading zeros are lost (01067 is
    1067). Every path refuses it, saying why, its hint the cast; the word as text scores as scikit-learn does."""
    model, X, y = zip_model()
    registry.deploy(db_url, "z", model, X, y, feature_names=["age", "zip"])
    want = model.predict_proba(np.array([[40.0, "80331"]], dtype=object))[0, 1]
    query(conn, "CREATE TABLE homes (id int PRIMARY KEY, age float8, zip int, s float8, scored_at timestamptz)")
    query(conn, "INSERT INTO homes VALUES (1, 40, 80331, NULL)")
    # the word, as text: scikit-learn's score, by name and through a query's cast
    got, = query(conn, "SELECT pgscore.score('z', jsonb_build_object('age', age, 'zip', zip::text)) FROM homes")[0]
    assert abs(got - want) < 1e-9
    got, = query(conn, "SELECT score FROM pgscore.predict_batch('z', 'SELECT id, age, zip::text AS zip FROM homes')")[0]
    assert abs(got - want) < 1e-9
    calls = {"by name": "SELECT pgscore.score('z', to_jsonb(h) - 'id' - 's' - 'scored_at') FROM homes h",
             "predict": "SELECT pgscore.predict('z', '{\"age\": 40, \"zip\": 80331}'::jsonb)",
             "predict_proba": "SELECT pgscore.predict_proba('z', '{\"age\": 40, \"zip\": 0}'::jsonb)",
             "predict_batch": "SELECT * FROM pgscore.predict_batch('z', 'SELECT id, age, zip FROM homes')",
             "score_table": "CALL pgscore.score_table('z', 'homes', 'id', 's')"}
    for what, sql in calls.items():
        with pytest.raises(psycopg2.Error) as e:
            query(conn, sql)
        assert "feature 'zip'" in e.value.diag.message_primary and "words that read as numbers" in \
            e.value.diag.message_primary, what
        assert "::text" in e.value.diag.message_hint and "'10115'" in e.value.diag.message_hint, what
        assert e.value.pgcode == ("22023" if what.startswith("predict") and what != "predict_batch"
                                  or what == "by name" else "42846"), what
    assert query(conn, "SELECT s FROM homes") == [(None,)]
    # rescoring: the profile table's integer column is refused when wired
    query(conn, "CREATE TABLE visits (home_id int)")
    with pytest.raises(psycopg2.Error) as e:
        query(conn, "SELECT pgscore.attach_rescoring('visits', 'homes', 'home_id', 'z', 's', p_profile_key => 'id')")
    assert e.value.pgcode == "42846" and "words that read as numbers" in e.value.diag.message_primary
    # (a feature whose words are no numbers takes a number as its code, as before: test_deployed_by_registry_...)


def test_a_version_fitted_on_zip_words_made_live_over_a_wired_integer_column_is_noted_and_queued_not_misscored(
        conn, db_url):
    """v1 fitted on the zips as numbers rescores a profile table's integer column; v2, fitted on them as text, goes
    live (the go-live check does not read the columns' types): deploy's note names the feature whose numbers v2
    refuses, and each event's rescoring fails into pgscore.error_queue with the refusal (42846), the score left as
    v1 wrote it (before: v2 scored the zip as the code 80331, an unknown word, silently)."""
    model, X, y = zip_model()
    Xn = X.astype(float)
    registry.deploy(db_url, "z", LogisticRegression().fit(Xn, y), Xn, y, feature_names=["age", "zip"])
    query(conn, "CREATE TABLE homes (id int PRIMARY KEY, age float8, zip int, s float8, scored_at timestamptz)")
    query(conn, "INSERT INTO homes VALUES (1, 40, 80331, NULL)")
    query(conn, "CREATE TABLE visits (home_id int)")
    query(conn, "SELECT pgscore.attach_rescoring('visits', 'homes', 'home_id', 'z', 's', p_profile_key => 'id')")
    query(conn, "INSERT INTO visits VALUES (1)")
    (v1,), = query(conn, "SELECT s FROM homes")
    rec = registry.deploy(db_url, "z", model, X, y, feature_names=["age", "zip"])
    assert "'zip': words that read as numbers, for which this version refuses a number by name or a number column" \
        in rec["feature_note"], rec["feature_note"]
    query(conn, "INSERT INTO visits VALUES (1)")
    assert query(conn, "SELECT s FROM homes") == [(v1,)]
    (message, sqlstate), = query(conn, "SELECT reason, sqlstate FROM pgscore.error_queue")
    assert sqlstate == "42846" and "feature 'zip' was fitted on words that read as numbers" in message, message
def test_an_unknown_word_in_a_chunk_names_its_key_and_word_and_is_skipped(conn, db_url, tmp_path):
    """A user trial (session 61, hT8 finding 1): a strict encoder's refusal of an unknown word in a chunk named
    neither the row's key nor the word, so `pgscore score --skip-unscorable` stopped (exit 1) instead of skipping
    the row, and the skipped report lacked it. score_table, predict_batch and the CLI name the key and the word."""
    model, X, y = binary_model(handle_unknown="error")
    registry.deploy(db_url, "strict", model, X, y, feature_names=NAMES)
    make_table(conn)
    for sql in ("CALL pgscore.score_table('strict', 'customers', 'id', 's', 3)",
                "SELECT count(*) FROM pgscore.predict_batch('strict', 'SELECT id, age, region, plan FROM customers')"):
        with pytest.raises(psycopg2.Error) as e:
            query(conn, sql)
        said = e.value.diag.message_primary
        assert e.value.pgcode == "22023", said
        # (the chunk holds the codes: the word is read by the key, from the table, or from predict_batch's query)
        assert said.removeprefix("pgscore: ").startswith("model strict v1: feature 'region' holds the word 'mars'"), \
            said
        assert "(key '5' and 1 more in this chunk of " in said, (sql, said)
        assert "the words it knows: 'east', 'north', 'south', 'west'" in e.value.diag.message_hint
    # a long word is cut in the message
    query(conn, "UPDATE customers SET region = repeat('x', 500) WHERE id = 5")
    with pytest.raises(psycopg2.Error) as e:
        query(conn, "CALL pgscore.score_table('strict', 'customers', 'id', 's')")
    assert "holds the word 'xxxxxxxx" in e.value.diag.message_primary and len(e.value.diag.message_primary) < 400
    query(conn, "UPDATE customers SET region = 'mars' WHERE id = 5")
    # the CLI: both rows of unknown words skipped, named in the report, the others scored (exit 3)
    report = tmp_path / "skipped.csv"
    r = pgscore_cli("score", "--model", "strict", "--table", "customers", "--key", "id", "--into", "s",
                    "--skip-unscorable", "--skipped-report", str(report), "--db", db_url)
    assert r.returncode == 3, (r.returncode, r.stderr)
    rows = list(csv.reader(open(report)))
    assert [row[0] for row in rows[1:]] == ["5", "6"], rows
    assert "feature 'region' holds the word 'mars'" in rows[1][2] and "(key '5')" in rows[1][2], rows
    assert "feature 'plan' holds the word 'platinum'" in rows[2][2], rows
    got = dict(query(conn, "SELECT id, s FROM customers"))
    assert got[5] is None and got[6] is None
    want = dict(zip([r[0] for r in ROWS if r[0] not in (5, 6)],
                    original_scores(model, [r for r in ROWS if r[0] not in (5, 6)])))
    assert max(abs(got[k] - want[k]) for k in want) < 1e-9
    # without --skip-unscorable: exit 1, naming the key and the word
    query(conn, "UPDATE customers SET s = NULL")
    r = pgscore_cli("score", "--model", "strict", "--table", "customers", "--key", "id", "--into", "s", "--db", db_url)
    assert r.returncode == 1 and "holds the word 'mars'" in r.stderr and "(key '5'" in r.stderr, r.stderr
    # --max-skipped 1: stops at the second
    r = pgscore_cli("score", "--model", "strict", "--table", "customers", "--key", "id", "--into", "s",
                    "--skip-unscorable", "--max-skipped", "1", "--db", db_url)
    assert r.returncode != 0 and "more than 1 rows" in r.stderr, r.stderr


def test_an_unknown_word_in_rescoring_and_by_position_is_named(conn, db_url):
    """The rescoring trigger over a profile whose text column holds a word the strict encoder does not know: not
    strict, the event commits and the profile is queued with a reason naming the feature and the word (and
    retry_failed says the same); strict, the INSERT fails saying so. By position (codes), -1 is named as a code,
    never as a word an earlier call by name held."""
    model, X, y = binary_model(handle_unknown="error")
    registry.deploy(db_url, "m", model, X, y, feature_names=NAMES)
    make_table(conn)
    query(conn, "ALTER TABLE customers ADD COLUMN scored_at timestamptz")
    query(conn, "CREATE TABLE events (customer_id int)")
    query(conn, "SELECT pgscore.attach_rescoring('events', 'customers', 'customer_id', 'm', 's', p_profile_key => 'id')")
    query(conn, "INSERT INTO events SELECT id FROM customers")
    got = dict(query(conn, "SELECT id, s FROM customers"))
    assert got[5] is None and got[6] is None and got[1] is not None
    queued = dict(query(conn, "SELECT entity_key, reason FROM pgscore.error_queue ORDER BY 1"))
    assert sorted(queued) == ["5", "6"], queued
    assert "feature 'region' holds the word 'mars'" in queued["5"], queued
    assert "feature 'plan' holds the word 'platinum'" in queued["6"], queued
    # one event alone (the single-row path)
    query(conn, "INSERT INTO events VALUES (5)")
    (reason,), = query(conn, "SELECT reason FROM pgscore.error_queue WHERE entity_key = '5'")
    assert "feature 'region' holds the word 'mars'" in reason, reason
    r = pgscore_cli("retry", "--db", db_url)
    assert r.returncode == 1 and "holds the word 'mars'" in r.stdout + r.stderr, (r.stdout, r.stderr)
    # strict: the INSERT fails naming the word and the key
    query(conn, "SELECT pgscore.detach_rescoring('events', 'customers')")
    query(conn, "DELETE FROM pgscore.error_queue")
    query(conn, "SELECT pgscore.attach_rescoring('events', 'customers', 'customer_id', 'm', 's', p_profile_key => 'id', "
                "p_strict => true)")
    with pytest.raises(psycopg2.Error) as e:
        query(conn, "INSERT INTO events VALUES (1), (5)")
    assert e.value.pgcode == "22023" and "holds the word 'mars'" in e.value.diag.message_primary, e.value
    assert "failed for id 5: model m v1: feature 'region'" in e.value.diag.message_primary, e.value.diag.message_primary
    # by position: the code -1 is said as a code, not as the word of an earlier call by name
    with pytest.raises(psycopg2.Error) as e:
        query(conn, "SELECT pgscore.score('m', '{\"age\": 35, \"region\": \"mars\", \"plan\": \"pro\"}'::jsonb)")
    assert "holds the word 'mars'" in e.value.diag.message_primary
    with pytest.raises(psycopg2.Error) as e:
        query(conn, "SELECT pgscore.score('m', ARRAY[35, -1, 2]::float8[])")
    assert e.value.pgcode == "22023"
    assert "feature 'region' holds an unknown word (code -1)" in e.value.diag.message_primary, e.value
    assert "the words it knows: 'east'" in e.value.diag.message_hint


def test_a_shadow_refusing_an_unknown_word_counts_it_naming_the_word_and_key(conn, db_url):
    """A strict shadow of a live version that takes unknown words: score_table and the rescoring trigger score the
    live version and count the shadow's failure, its last message naming the feature, the word and the key."""
    model, X, y = binary_model()
    registry.deploy(db_url, "m", model, X, y, feature_names=NAMES)
    strict, _, _ = binary_model(handle_unknown="error")
    registry.deploy(db_url, "m", strict, X, y, feature_names=NAMES, activate=False)
    query(conn, "SELECT pgscore.set_shadow('m', 2)")
    make_table(conn)
    query(conn, "CALL pgscore.score_table('m', 'customers', 'id', 's')")
    assert query(conn, "SELECT count(*) FROM customers WHERE s IS NULL") == [(0,)]
    (said,), = query(conn, "SELECT last_message FROM pgscore.shadow_failures")
    assert "feature 'region' holds the word 'mars'" in said and "(key '5' and 1 more in this chunk of 8)" in said, said
    query(conn, "DELETE FROM pgscore.shadow_failures")
    query(conn, "ALTER TABLE customers ADD COLUMN scored_at timestamptz")
    query(conn, "CREATE TABLE events (customer_id int)")
    query(conn, "SELECT pgscore.attach_rescoring('events', 'customers', 'customer_id', 'm', 's', p_profile_key => 'id')")
    query(conn, "INSERT INTO events VALUES (6)")
    (said,), = query(conn, "SELECT last_message FROM pgscore.shadow_failures")
    assert "feature 'plan' holds the word 'platinum'" in said, said


def test_an_unknown_word_in_a_chunk_scikit_learn_scores_names_its_key_and_word(conn, db_url):
    """The same where scikit-learn scores the model (not compiled): its refusal of a chunk names no row either, and
    the row is found the same way."""
    model, X, y = binary_model(handle_unknown="error")
    registry.deploy(db_url, "strict", model, X, y, feature_names=NAMES, compile=False)
    assert query(conn, "SELECT engine FROM pgscore.model_versions WHERE name = 'strict' AND live") == [("scikit-learn",)]
    make_table(conn)
    with pytest.raises(psycopg2.Error) as e:
        query(conn, "CALL pgscore.score_table('strict', 'customers', 'id', 's')")
    said = e.value.diag.message_primary
    assert e.value.pgcode == "22023" and "feature 'region' holds the word 'mars'" in said, said
    assert "(key '5' and 1 more in this chunk of 8)" in said, said


def test_the_hint_s_cast_of_a_number_column_gives_the_words_as_the_model_knows_them(conn, db_url):
    """The refusal's HINT names the cast that reads a number column as the words: taken literally, `zip::text` of a
    numeric column holding 80331.0 gave '80331.0', and of an integer 1067 (the zip '01067') '1067': unknown words,
    scored silently under handle_unknown='ignore' (0.674, not scikit-learn's 0.960), the wrong score the refusal
    is there to prevent. The hint's expression, pasted into the query, scores as scikit-learn does on the words."""
    rng = np.random.default_rng(3)
    zips = ["01067", "10115", "80331"]
    X = np.empty((200, 2), dtype=object)
    X[:, 0] = rng.normal(40, 10, 200)
    X[:, 1] = rng.choice(zips, 200)
    y = ((X[:, 1] == "80331") | (rng.random(200) < 0.3)).astype(int)
    ct = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), [1]), ("num", "passthrough", [0])])
    model = Pipeline([("ct", ct), ("lr", LogisticRegression())]).fit(X, y)
    registry.deploy(db_url, "zz", model, X, y, feature_names=["age", "zip"])
    want = model.predict_proba(np.array([[40.0, "80331"], [40.0, "01067"]], dtype=object))[:, 1]
    query(conn, "CREATE TABLE zhomes (id int PRIMARY KEY, age float8, zi int, zn numeric(10,1), zf float8)")
    query(conn, "INSERT INTO zhomes VALUES (1, 40, 80331, 80331, 80331), (2, 40, 1067, 1067, 1067)")
    for column in ("zi", "zn", "zf"):
        with pytest.raises(psycopg2.Error) as e:
            query(conn, f"SELECT * FROM pgscore.predict_batch('zz', 'SELECT id, age, {column} AS zip FROM zhomes')")
        assert e.value.pgcode == "42846", column
        cast = re.search(r"in the query \((.*) AS zip\)", e.value.diag.message_hint).group(1).replace("zip", column)
        got = query(conn, f"SELECT score FROM pgscore.predict_batch('zz', $q$SELECT id, age, {cast} AS zip FROM "
                          "zhomes ORDER BY id$q$)")
        assert [round(s, 9) for s, in got] == [round(s, 9) for s in want], (column, cast)
    # by name: to_jsonb of the integer column refused, its hint's jsonb_build_object taken literally scores the words
    with pytest.raises(psycopg2.Error) as e:
        query(conn, "SELECT pgscore.score('zz', to_jsonb(h) - 'id' - 'zn' - 'zf' - 'zi' || jsonb_build_object("
                    "'zip', zi)) FROM zhomes h")
    assert e.value.pgcode == "22023"
    cast = re.search(r"jsonb_build_object\(\.\.\., 'zip', (.*?)\), ", e.value.diag.message_hint).group(1)
    got = query(conn, f"SELECT pgscore.score('zz', jsonb_build_object('age', age, 'zip', "
                      f"{cast.replace('<column>', 'zi')})) FROM zhomes ORDER BY id")
    assert [round(s, 9) for s, in got] == [round(s, 9) for s in want], cast


def test_a_code_minus_one_of_a_number_column_is_named_as_a_code_not_a_word(conn, db_url):
    """A number column of a text feature holds codes (pgscore.category_code's): its -1 is an unknown word's code, and
    score_table and the rescoring trigger, which read a refused row's word back by its key, say so, not "the word
    '-1'" (review r2: the column's text read back was named as the word the row held)."""
    model, X, y = binary_model(handle_unknown="error")
    registry.deploy(db_url, "m", model, X, y, feature_names=NAMES)
    query(conn, "CREATE TABLE coded (id int PRIMARY KEY, age float8, region int, plan text, s float8, "
                "scored_at timestamptz)")
    query(conn, "INSERT INTO coded VALUES (1, 30, 0, 'pro'), (2, 31, -1, 'pro'), (3, 32, 1, 'basic')")
    with pytest.raises(psycopg2.Error) as e:
        query(conn, "CALL pgscore.score_table('m', 'coded', 'id', 's')")
    said = e.value.diag.message_primary
    assert e.value.pgcode == "22023" and "feature 'region' holds an unknown word (code -1)" in said, said
    assert "'-1'" not in said.split("(key")[0], said
    query(conn, "CREATE TABLE ev (customer_id int)")
    query(conn, "SELECT pgscore.attach_rescoring('ev', 'coded', 'customer_id', 'm', 's', p_profile_key => 'id')")
    query(conn, "INSERT INTO ev VALUES (1), (2), (3)")
    (reason,), = query(conn, "SELECT reason FROM pgscore.error_queue WHERE entity_key = '2'")
    assert "feature 'region' holds an unknown word (code -1)" in reason, reason


def test_rescoring_sets_unknown_words_apart_only_where_the_encoder_refuses_them():
    """Where a statement's one prediction fails (a NULL the model has no imputer for), rescoring scores the rows
    holding such a value alone and the others together. An unknown word's code (-1) is set apart only where the
    model refuses it (a strict encoder): under handle_unknown='ignore' it is scored with the others (review r2: a
    2,000-row INSERT, 1,000 unknown words and one NULL, took 6.4 s, each unknown word a prediction of its own, where
    the same INSERT without unknown words took 0.29 s)."""
    from pgscore import rescoring
    from pgscore.serving import Loaded, SklearnEvaluator

    X, y = words_data()
    X[:, 0] = np.nan_to_num(X[:, 0].astype(float), nan=40.0)

    def counted(handle_unknown):
        ct = ColumnTransformer([("cat", OneHotEncoder(handle_unknown=handle_unknown), [1, 2]),
                                ("num", StandardScaler(), [0])])  # (no imputer: a NULL age is refused)
        est = Pipeline([("ct", ct), ("lr", LogisticRegression())]).fit(X, y)
        converted, vocab = features.text_conversion(est, NAMES)
        ev = SklearnEvaluator(converted, "binary", "m v1")
        calls, call = [], ev._call
        ev._call = lambda fn, X_: calls.append(len(X_)) or call(fn, X_)
        return Loaded(1, "m", 1, "binary", NAMES, [0, 1], ev, "scikit-learn", vocab), calls, converted

    class Rows:  # the features as they are, for the decode of the read's bytes
        @staticmethod
        def decode(data, n, width, keys=None, model=None):
            return np.array(data[:n], dtype=float)

    rows = np.array([[30.0 + i % 20, i % 4, i % 3] for i in range(200)])
    rows[::2, 1] = -1.0  # 100 unknown regions
    keys = [str(i) for i in range(200)]
    m, calls, converted = counted("ignore")
    rows[7, 0] = np.nan
    failures = []
    scores, _ = rescoring._score(m, keys, rows.tolist(), failures, Rows)
    assert [f.keys for f in failures] == [["7"]] and "feature 'age'" in failures[0].reason, failures
    assert calls[:2] == [200, 199] and len(calls) < 6, calls
    good = [i for i in range(200) if i != 7]
    assert np.max(np.abs(np.array([scores[i] for i in good]) - converted.predict_proba(rows[good])[:, 1])) < 1e-12
    # strict: the unknown words alone, each queued naming its feature, the others together
    m, calls, converted = counted("error")
    rows[7, 0] = 35.0
    failures = []
    scores, _ = rescoring._score(m, keys, rows.tolist(), failures, Rows)
    assert sorted(int(f.keys[0]) for f in failures) == list(range(0, 200, 2))
    assert all("feature 'region' holds an unknown word (code -1)" in f.reason for f in failures), failures[0]
    assert calls[1] == 100, calls[:3]
    odd = list(range(1, 200, 2))
    assert np.max(np.abs(np.array([scores[i] for i in odd]) - converted.predict_proba(rows[odd])[:, 1])) < 1e-12


def _profile_scores(conn, model, ids=None):
    """The customers' scores (of `ids`, else all) as scikit-learn gives them on the words their rows hold (the rows
    read back)."""
    rows = [r for r in query(conn, "SELECT id, age, region, plan FROM customers ORDER BY id") if ids is None or r[0] in ids]
    return dict(zip([r[0] for r in rows], original_scores(model, rows)))


@pytest.mark.parametrize("compile_", [True, False])
def test_a_last_counter_into_a_text_feature_writes_the_word_and_scores_its_code(conn, db_url, compile_):
    """A `last` counter feeding a text feature (review r2): its new value is the word, written into the profile's
    text column as it is, and coded through the model's words as the column is (NULL stays NULL, an unknown word
    -1, which handle_unknown='ignore' scores); before, the trigger cast the word to float8 and queued every event
    ('invalid input syntax for type double precision: "north"'), a word the model knows too."""
    model, X, y = binary_model()
    registry.deploy(db_url, "m", model, X, y, feature_names=NAMES, compile=compile_)
    make_table(conn)
    query(conn, "ALTER TABLE customers ADD COLUMN scored_at timestamptz")
    query(conn, "CREATE TABLE ev (event_id serial PRIMARY KEY, customer_id int, region text)")
    query(conn, "SELECT pgscore.attach_rescoring('ev', 'customers', 'customer_id', 'm', 's', "
                "p_counters => '{\"region\": {\"last\": \"e.region\"}}', p_profile_key => 'id')")
    query(conn, "INSERT INTO ev (customer_id, region) VALUES (1, 'north')")  # the single-row path
    assert query(conn, "SELECT count(*) FROM pgscore.error_queue") == [(0,)], query(conn, "TABLE pgscore.error_queue")
    assert query(conn, "SELECT region FROM customers WHERE id = 1") == [("north",)]
    # a statement of many: a known word, an unknown one, NULL, two events of one profile (the newest's word kept)
    query(conn, "INSERT INTO ev (customer_id, region) VALUES (2, 'south'), (3, 'mars'), (4, NULL), (8, 'east'), "
                "(8, 'west'), (5, 'north')")
    assert query(conn, "SELECT count(*) FROM pgscore.error_queue") == [(0,)], query(conn, "TABLE pgscore.error_queue")
    assert dict(query(conn, "SELECT id, region FROM customers WHERE id IN (2, 3, 4, 5, 8)")) == {
        2: "south", 3: "mars", 4: None, 5: "north", 8: "west"}
    want = _profile_scores(conn, model)
    got = dict(query(conn, "SELECT id, s FROM customers WHERE scored_at IS NOT NULL"))
    assert sorted(got) == [1, 2, 3, 4, 5, 8] and max(abs(got[k] - want[k]) for k in got) < 1e-9, (got, want)
    # the audit rows hold the codes the model was given: the word's, -1 for 'mars', NaN for NULL
    logged = dict(query(conn, "SELECT entity_key, features[2] FROM pgscore.prediction_log WHERE source = 'trigger' "
                              "AND entity_key IN ('1', '3', '8') ORDER BY logged_at"))
    assert logged == {"1": 1.0, "3": -1.0, "8": 3.0}, logged  # (east, north, south, west: 0 to 3)


def test_a_last_counter_into_a_text_feature_of_a_strict_encoder_names_the_unknown_word(conn, db_url):
    """A strict encoder refuses a counter's unknown word as it refuses a column's: the profile is queued naming the
    feature and the word, the others scored as scikit-learn scores their words."""
    model, X, y = binary_model(handle_unknown="error")
    registry.deploy(db_url, "m", model, X, y, feature_names=NAMES)
    make_table(conn)
    query(conn, "ALTER TABLE customers ADD COLUMN scored_at timestamptz")
    query(conn, "UPDATE customers SET region = 'east', plan = coalesce(plan, 'pro')")
    query(conn, "CREATE TABLE ev (event_id serial PRIMARY KEY, customer_id int, region text)")
    query(conn, "SELECT pgscore.attach_rescoring('ev', 'customers', 'customer_id', 'm', 's', "
                "p_counters => '{\"region\": {\"last\": \"e.region\"}}', p_profile_key => 'id')")
    query(conn, "INSERT INTO ev (customer_id, region) VALUES (1, 'north'), (2, 'mars'), (3, 'south')")
    (reason,), = query(conn, "SELECT reason FROM pgscore.error_queue WHERE entity_key = '2'")
    assert "feature 'region' holds the word 'mars'" in reason, reason
    assert query(conn, "SELECT count(*) FROM pgscore.error_queue") == [(1,)]
    assert query(conn, "SELECT region FROM customers WHERE id = 2") == [("mars",)]  # (the word written, not scored)
    want = _profile_scores(conn, model, (1, 3))
    got = dict(query(conn, "SELECT id, s FROM customers WHERE id IN (1, 3)"))
    assert max(abs(got[k] - want[k]) for k in got) < 1e-9, (got, want)
    query(conn, "INSERT INTO ev (customer_id, region) VALUES (6, 'venus')")  # the single-row path
    (reason,), = query(conn, "SELECT reason FROM pgscore.error_queue WHERE entity_key = '6'")
    assert "feature 'region' holds the word 'venus'" in reason, reason


@pytest.mark.parametrize("rule,state", [({"max": "e.region"}, "22023"), ({"min": "e.region"}, "22023"),
                                        ({"set": "count(*)"}, "42804"), ({"last": "e.event_id"}, "42804")])
def test_a_counter_that_gives_no_word_into_a_text_feature_is_refused_at_attach(conn, db_url, rule, state):
    """max and min order words by their spelling, no category's meaning (22023); a last, set or recompute counter of
    values that are no words (an integer, which the text column would hold as '3', a word the model does not know:
    42804): refused at attach for a text feature of the live version, the wiring not made, the hint naming the rules
    that keep a word. A recompute of the most frequent word is taken."""
    wired_model, X, y = binary_model()
    registry.deploy(db_url, "m", wired_model, X, y, feature_names=NAMES)
    make_table(conn)
    query(conn, "ALTER TABLE customers ADD COLUMN scored_at timestamptz")
    query(conn, "CREATE TABLE ev (event_id serial PRIMARY KEY, customer_id int, region text)")
    with pytest.raises(psycopg2.Error) as e:
        query(conn, "SELECT pgscore.attach_rescoring('ev', 'customers', 'customer_id', 'm', 's', "
                    "p_counters => %s::jsonb, p_profile_key => 'id')", (json.dumps({"region": rule}),))
    assert e.value.pgcode == state, e.value
    said = e.value.diag.message_primary
    assert "counter 'region'" in said and "text feature 'region' of model m v1" in said, said
    assert '"last"' in e.value.diag.message_hint, e.value.diag.message_hint
    assert query(conn, "SELECT count(*) FROM pgscore.rescoring") == [(0,)]
    query(conn, "SELECT pgscore.attach_rescoring('ev', 'customers', 'customer_id', 'm', 's', p_profile_key => 'id', "
                "p_counters => '{\"region\": {\"recompute\": \"mode() WITHIN GROUP (ORDER BY e.region)\"}}')")
    query(conn, "INSERT INTO ev (customer_id, region) VALUES (1, 'north'), (1, 'west'), (1, 'north'), (3, 'mars')")
    assert dict(query(conn, "SELECT id, region FROM customers WHERE id IN (1, 3)")) == {1: "north", 3: "mars"}
    want = _profile_scores(conn, wired_model, (1, 3))
    got = dict(query(conn, "SELECT id, s FROM customers WHERE id IN (1, 3)"))
    assert max(abs(got[k] - want[k]) for k in want) < 1e-9, (got, want)


def test_a_last_counter_into_a_char_column_is_coded_padded_as_the_column_holds_it(conn, db_url):
    """A counter's word into a char(n) column is held blank-padded ('east    '), and a model fitted on words read
    from such a column knows it so: the counter's new value is coded as the column holds it (cast to the column's
    type), not as the event's unpadded text, which that model would take as an unknown word."""
    query(conn, "CREATE TABLE t_char (id int PRIMARY KEY, age float8, region char(8), plan char(9), s float8, "
                "scored_at timestamptz)")
    for row in ROWS:
        query(conn, "INSERT INTO t_char (id, age, region, plan) VALUES (%s, %s, %s, %s)", row)
    X, y = words_data()
    padded = np.array([[a, r if r != r else r.ljust(8), p if p != p else p.ljust(9)] for a, r, p in X], dtype=object)
    ct = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), [1, 2]), ("num", SimpleImputer(), [0])])
    model = Pipeline([("ct", ct), ("lr", LogisticRegression(max_iter=1000))]).fit(padded, y)
    registry.deploy(db_url, "padded", model, padded, y, feature_names=NAMES)
    query(conn, "CREATE TABLE ev (event_id serial PRIMARY KEY, customer_id int, region text)")
    query(conn, "SELECT pgscore.attach_rescoring('ev', 't_char', 'customer_id', 'padded', 's', "
                "p_counters => '{\"region\": {\"last\": \"e.region\"}}', p_profile_key => 'id')")
    query(conn, "INSERT INTO ev (customer_id, region) VALUES (1, 'north'), (2, 'west'), (3, 'mars')")
    query(conn, "INSERT INTO ev (customer_id, region) VALUES (4, 'south')")
    rows = query(conn, "SELECT id, age, region, plan FROM t_char WHERE id IN (1, 2, 3, 4) ORDER BY id")
    assert [r[2] for r in rows] == ["north   ", "west    ", "mars    ", "south   "]
    want = dict(zip([r[0] for r in rows], original_scores(model, rows)))
    got = dict(query(conn, "SELECT id, s FROM t_char WHERE id IN (1, 2, 3, 4)"))
    assert max(abs(got[k] - want[k]) for k in want) < 1e-9, (got, want)
    logged = dict(query(conn, "SELECT entity_key, features[2] FROM pgscore.prediction_log WHERE source = 'trigger'"))
    assert logged == {"1": 1.0, "2": 3.0, "3": -1.0, "4": 2.0}, logged


def _numeric_region_model():
    """A version of the same features whose region is a number (its codes as floats), plan words as before."""
    X, y = words_data(seed=4)
    X2 = X.copy()
    X2[:, 1] = [np.nan if not isinstance(r, str) else float(sorted(REGIONS).index(r)) for r in X[:, 1]]
    ct = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), [2]),
                            ("num", Pipeline([("i", SimpleImputer()), ("s", StandardScaler())]), [0, 1])])
    return Pipeline([("ct", ct), ("lr", LogisticRegression())]).fit(X2, y), X2, y


def test_a_version_made_live_that_a_counter_of_words_cannot_feed_is_refused_as_attach_refuses_it(conn, db_url):
    """Session 62: a counter feeding a text feature was checked against the model's words at attach only. A version
    made live later that reads the counter's column otherwise went live silently: one whose feature became a number
    (every event's profile then queued, its word no number), or the first version of a name wired before any was
    stored (a max counter of words, ordered by their spelling). The deployments' trigger refuses both, as it refuses
    a version a wired table lacks a column of: nothing stored by a deploy, the live version left live."""
    model, X, y = binary_model()
    registry.deploy(db_url, "m", model, X, y, feature_names=NAMES)
    make_table(conn)
    query(conn, "CREATE TABLE ev (event_id serial PRIMARY KEY, customer_id int, region text)")
    query(conn, "SELECT pgscore.attach_rescoring('ev', 'customers', 'customer_id', 'm', 's', p_scored_at_column => "
                "NULL, p_counters => '{\"region\": {\"last\": \"e.region\"}}', p_profile_key => 'id')")
    v2, X2, y2 = _numeric_region_model()
    with pytest.raises(InvalidModel) as e:  # (registry.deploy's error for the SQLSTATE: _translate)
        registry.deploy(db_url, "m", v2, X2, y2, feature_names=NAMES)
    said = e.value.message
    assert e.value.sqlstate == "42804", said
    assert said.startswith("public.customers, which public.ev rescores with 'm', feeds the feature 'region' a word "
                           "(counter region, {\"last\": \"e.region\"}), and the version this deploy would have stored "
                           "(version 2; nothing was stored) reads it as a number"), said
    assert "deploy --no-activate" in e.value.hint, e.value.hint
    assert e.value.detail == ('1 counter(s) affected: public.customers (from public.ev): counter region, '
                              '{"last": "e.region"}, of words into a number'), e.value.detail
    assert query(conn, "SELECT max(version) FROM pgscore.model_versions WHERE name = 'm'") == [(1,)]
    query(conn, "INSERT INTO ev (customer_id, region) VALUES (1, 'north')")  # v1 live: scored
    assert query(conn, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
    # stored without going live, then activated: refused the same way, in activate's words
    registry.deploy(db_url, "m", v2, X2, y2, feature_names=NAMES, activate=False)
    with pytest.raises(psycopg2.Error) as e:
        query(conn, "SELECT pgscore.activate('m', 2)")
    assert e.value.pgcode == "42804" and "and version 2 reads it as a number" in e.value.diag.message_primary, \
        e.value.diag.message_primary
    assert "activate version 2 again" in e.value.diag.message_hint
    # wired before any version was stored: a max counter of words, refused when a version fitted on them goes live
    query(conn, "CREATE TABLE ev2 (event_id serial PRIMARY KEY, customer_id int, region text)")
    query(conn, "SELECT pgscore.attach_rescoring('ev2', 'customers', 'customer_id', 'w', 's', p_scored_at_column => "
                "NULL, p_counters => '{\"region\": {\"max\": \"e.region\"}}', p_profile_key => 'id')")
    with pytest.raises(InvalidModel) as e:
        registry.deploy(db_url, "w", model, X, y, feature_names=NAMES)
    said = e.value.message
    assert e.value.sqlstate == "22023", said
    assert said.startswith("public.customers, which public.ev2 rescores with 'w', feeds the text feature 'region' "
                           "of the version this deploy would have stored (version 1; nothing was stored) with a max "
                           "counter (region, {\"max\": \"e.region\"}), which keeps the word that sorts last by its "
                           "spelling"), said
    assert query(conn, "SELECT count(*) FROM pgscore.model_versions WHERE name = 'w'") == [(0,)]




def test_predict_batch_names_the_word_of_a_null_keys_row(conn, db_url):
    """Review r2 (session 62): predict_batch ran its query again for the row of the refused key by its text,
    str(key): a NULL key's was 'None', which found no row (or a row keyed 'None', another row's word), so the
    error said the code, not the word. A NULL key finds the row whose key is NULL."""
    model, X, y = binary_model(handle_unknown="error")
    registry.deploy(db_url, "strict", model, X, y, feature_names=NAMES)
    make_table(conn)
    with pytest.raises(psycopg2.Error) as e:
        query(conn, "SELECT count(*) FROM pgscore.predict_batch('strict', $$SELECT CASE WHEN id = 5 THEN NULL "
                    "ELSE id::text END, age, region, plan FROM customers$$)")
    said = e.value.diag.message_primary
    assert e.value.pgcode == "22023", said
    assert "feature 'region' holds the word 'mars'" in said and "(key NULL" in said, said


def test_predict_batch_names_the_word_of_the_row_refused_without_running_the_query_again(conn, db_url):
    """Session 64: a strict encoder's refusal of an unknown word in predict_batch's chunk was named by running the
    caller's query again for the row of that key: a volatile query ran twice (its nextval), and its second run could
    give another word ('venus' here, where the row refused held 'mars') or none. The word comes from the chunk's
    own rows now."""
    model, X, y = binary_model(handle_unknown="error")
    registry.deploy(db_url, "strict", model, X, y, feature_names=NAMES)
    make_table(conn)
    query(conn, "CREATE SEQUENCE calls")
    with pytest.raises(psycopg2.Error) as e:
        query(conn, "SELECT count(*) FROM pgscore.predict_batch('strict', $$SELECT id, age, CASE WHEN nextval('calls') "
                    "<= 8 THEN region ELSE 'venus' END AS region, plan FROM customers ORDER BY id$$)")
    said = e.value.diag.message_primary
    assert e.value.pgcode == "22023", said
    assert "feature 'region' holds the word 'mars'" in said and "(key '5'" in said, said
    assert query(conn, "SELECT last_value FROM calls") == [(8,)]  # the query once (its 8 rows)



def native_frame(missing=True):
    """words_data as a pandas DataFrame whose region is a category column (declaring a word no row holds), for a
    HistGradientBoosting model that encodes it itself (categorical_features='from_dtype', its default)."""
    import pandas as pd

    X, y = words_data()
    region = X[:, 1] if missing else np.where(pd.isna(X[:, 1]), "east", X[:, 1])
    frame = pd.DataFrame({"age": X[:, 0].astype(float),
                          "region": pd.Categorical(region, categories=["west", "south", "north", "east", "mars"])})
    return frame, y


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_histgradientboosting_encoding_its_own_categories_deploys_scoring_the_words_as_on_the_frame(db_url, kind):
    """HistGradientBoosting fitted on a DataFrame with a pandas category column (categorical_features='from_dtype',
    its default: it encodes the words itself, in its own preprocessor's OrdinalEncoder) deploys as trained (session
    66; it was refused, "the model's HistGradientBoostingClassifier encodes the text categories of 'region' itself
    ... which pgscore does not convert"): its words stored in the order of the model's own codes, and SQL scores
    every word, NULL and an unknown word as the model scores the DataFrame, by name and by position
    (category_code)."""
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    frame, y = native_frame()
    cls = HistGradientBoostingClassifier if kind == "classifier" else HistGradientBoostingRegressor
    model = cls(max_iter=15, random_state=0).fit(frame, y if kind == "classifier" else y + frame["age"].fillna(0))
    words = [w for w in model._preprocessor.named_transformers_["encoder"].categories_[0].tolist() if w == w]
    rec = registry.deploy(db_url, "native", model, frame, y if kind == "classifier" else None)
    assert rec["text_categories"] == {"region": words} and rec["feature_types"] == ["float8", "text"], rec
    rows = [(1, 35.0, "east"), (2, None, "west"), (3, 52.5, None), (4, 41.0, "north"), (5, 29.0, "mars"),
            (6, 60.0, "south"), (7, None, None), (8, 44.0, "venus")]
    values = "(VALUES " + ", ".join(["(%s, %s::float8, %s)"] * len(rows)) + ") v(i, a, r)"
    params = [v for row in rows for v in row]
    by_name = query(db_url, f"SELECT pgscore.score('native', jsonb_build_object('age', a, 'region', r)) FROM {values} "
                            "ORDER BY i", params)
    by_position = query(db_url, "SELECT pgscore.score('native', ARRAY[a, pgscore.category_code('native', 'region', r)]) "
                                f"FROM {values} ORDER BY i", params)
    given = pd.DataFrame({"age": [np.nan if a is None else a for _, a, _ in rows],
                          "region": pd.Series([r for _, _, r in rows], dtype=object).astype("category")})
    want = model.predict_proba(given)[:, 1] if kind == "classifier" else model.predict(given)
    assert [s for (s,) in by_name] == pytest.approx(want, abs=1e-12)
    assert [s for (s,) in by_position] == pytest.approx(want, abs=1e-12)


def test_the_check_of_a_conversion_tries_the_model_given_on_its_dataframe():
    """Given the training DataFrame, the check of a converted model compares it with the model given scoring that
    DataFrame too (what a notebook sees), not only its rows as an object array: a model scoring the two otherwise is
    refused, naming the DataFrame."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    frame, y = native_frame()
    model = HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(frame, y)
    converted, vocab = features.text_conversion(model, NAMES[:2])
    coded = features.code_words(frame, NAMES[:2], vocab)
    features.check_text_conversion(model, converted, "binary", vocab, NAMES[:2], frame, coded)
    scores = model.predict_proba
    model.predict_proba = lambda X: scores(X) + (1e-6 if hasattr(X, "iloc") else 0)
    with pytest.raises(InvalidModel, match="on the training data as the DataFrame given"):
        features.check_text_conversion(model, converted, "binary", vocab, NAMES[:2], frame, coded)


def test_histgradientboosting_encoding_its_own_categories_after_another_step_is_refused_saying_so(db_url):
    """HistGradientBoostingClassifier encoding a pandas category column itself, after a step of the Pipeline (a
    FunctionTransformer passing the DataFrame on): pgscore cannot tell which feature its encoder reads, so it is
    refused, naming what it is (it said "feature 'region' holds 'east', which is not a number", with a hint about
    encoders the model has none of); nothing stored. The hint's way (an OrdinalEncoder of the column before it, by
    name, and categorical_features), given as code (session 66), deploys as written, and SQL scores its words as the
    model scores the DataFrame."""
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.preprocessing import OrdinalEncoder

    frame, y = native_frame(missing=False)
    native = Pipeline([("f", FunctionTransformer()), ("hgb", HistGradientBoostingClassifier(max_iter=10, random_state=0))])
    native.fit(frame, y)
    with pytest.raises(InvalidModel) as e:
        registry.deploy(db_url, "native", native, frame, y)
    assert e.value.message.startswith("the model's HistGradientBoostingClassifier encodes the text categories of "
                                      "'region' itself ('east', 'north', 'south', 'west'"), e.value.message
    assert query(db_url, "SELECT count(*) FROM pgscore.models") == [(0,)]
    code = ("make_pipeline(ColumnTransformer([('cat', OrdinalEncoder(handle_unknown='use_encoded_value', "
            "unknown_value=np.nan), ['region'])], remainder='passthrough'), HistGradientBoostingClassifier("
            "categorical_features=[0], max_iter=10, random_state=0))")
    assert e.value.hint.endswith(": " + code), e.value.hint
    from sklearn.pipeline import make_pipeline  # (the hint's code, as written, deploys)
    model = eval(code, {"make_pipeline": make_pipeline, "ColumnTransformer": ColumnTransformer, "np": np,
                        "OrdinalEncoder": OrdinalEncoder,
                        "HistGradientBoostingClassifier": HistGradientBoostingClassifier}).fit(frame, y)
    assert registry.deploy(db_url, "native", model, frame, y)["text_categories"] == {"region": sorted(REGIONS)}
    got = [s for (s,) in query(db_url, "SELECT pgscore.score('native', jsonb_build_object('age', a, 'region', r)) "
                                       "FROM (VALUES (1, 35.0, 'east'), (2, 50.0, 'south'), (3, 28.0, 'north')) "
                                       "v(i, a, r) ORDER BY i")]
    want = model.predict_proba(pd.DataFrame({"age": [35.0, 50.0, 28.0], "region": ["east", "south", "north"]}))[:, 1]
    assert got == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize("how", ["selected", "remainder"])
def test_histgradientboosting_encoding_its_own_categories_after_a_passthrough_column_transformer_deploys(db_url, how):
    """A ColumnTransformer that only hands columns on ('passthrough' parts, by name, pandas output) before a
    HistGradientBoosting encoding a pandas category column itself: which feature its encoder reads is known (the
    columns in the ColumnTransformer's order), so it deploys, compiled, and SQL scores every word, NULL and an
    unknown word as the model scores the DataFrame (session 68; it was refused as after any step: "the model's
    HistGradientBoostingClassifier encodes the text categories of 'region' itself")."""
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingClassifier

    frame, y = native_frame()
    keep = (ColumnTransformer([("keep", "passthrough", ["region", "age"])]) if how == "selected" else
            ColumnTransformer([("keep", "passthrough", ["region"])], remainder="passthrough"))
    model = Pipeline([("ct", keep.set_output(transform="pandas")),
                      ("hgb", HistGradientBoostingClassifier(max_iter=15, random_state=0))]).fit(frame, y)
    rec = registry.deploy(db_url, "kept", model, frame, y)
    assert set(rec["text_categories"]) == {"region"} and rec["engine"] == "numpy", rec
    rows = [(1, 35.0, "east"), (2, None, "west"), (3, 52.5, None), (4, 41.0, "north"), (5, 29.0, "mars"),
            (6, 60.0, "south"), (7, None, None), (8, 44.0, "venus")]
    values = "(VALUES " + ", ".join(["(%s, %s::float8, %s)"] * len(rows)) + ") v(i, a, r)"
    got = query(db_url, f"SELECT pgscore.score('kept', jsonb_build_object('age', a, 'region', r)) FROM {values} "
                        "ORDER BY i", [v for row in rows for v in row])
    given = pd.DataFrame({"age": [np.nan if a is None else a for _, a, _ in rows],
                          "region": pd.Categorical([r for _, _, r in rows], categories=frame["region"].cat.categories)})
    assert [s for (s,) in got] == pytest.approx(model.predict_proba(given)[:, 1], abs=1e-12)


def test_none_among_the_training_words_that_an_imputer_of_nan_leaves_is_named_in_the_refusal(db_url):
    """An object column of words holding None (not NaN) before SimpleImputer(strategy='most_frequent') and a
    OneHotEncoder: the imputer (missing_values=NaN) leaves None, the encoder learns it as a category of its own,
    and the converted model, given a NULL as NaN, imputes it: refused, as before, on the training data, but the
    DETAIL now says why and how to fit it (it said only 'features with words: plan'). Fitted with None as NaN, the
    same pipeline deploys."""
    X, y = words_data()
    X = X[:, [0, 2]]  # age, plan
    X[::17, 1] = None
    ct = ColumnTransformer([("cat", Pipeline([("i", SimpleImputer(strategy="most_frequent")),
                                              ("o", OneHotEncoder(handle_unknown="ignore"))]), [1]),
                            ("num", SimpleImputer(), [0])])
    model = Pipeline([("ct", ct), ("lr", LogisticRegression())]).fit(X, y)
    with pytest.raises(InvalidModel) as e:
        registry.deploy(db_url, "nones", model, X, y, feature_names=["age", "plan"])
    assert "on the training data" in e.value.message
    assert "the training data holds None (not NaN) in 'plan' (18 rows)" in e.value.detail, e.value.detail
    assert "X.fillna(np.nan)" in e.value.detail
    X[::17, 1] = np.nan
    model.fit(X, y)
    assert registry.deploy(db_url, "nones", model, X, y, feature_names=["age", "plan"])["text_categories"]["plan"] == PLANS


def test_a_string_dtype_column_holding_na_deploys_its_na_as_missing(db_url):
    """A DataFrame whose column of words is pandas' `string` dtype holding <NA> (convert_dtypes(), a read_sql with
    dtype_backend='numpy_nullable'): scikit-learn's own fit fails on it (`boolean value of NA is ambiguous`; docs/guide.md
    says to fit on X.astype({'plan': 'str'})), and deploying the model so fitted with the `string` frame was refused
    as 'takes its columns by name ... select the columns by position' (the model given failed on <NA> in the check),
    with its to_numpy() as 'holds the number <NA>' (trial T19). Its <NA> is now missing, as a NULL: both deploy, and
    SQL scores as the model scores the frame it was fitted on; the caller's DataFrame is left as it was."""
    import pandas as pd

    X, y = words_data()
    plan = pd.array(X[:, 2], dtype="string")  # (NaN read as <NA>)
    frame = pd.DataFrame({"age": np.nan_to_num(X[:, 0].astype(float), nan=40.0), "plan": plan})
    assert frame["plan"].isna().sum() > 0 and frame["plan"].dtype == "string"
    model = Pipeline([("ct", ColumnTransformer([("c", Pipeline([("i", SimpleImputer(strategy="most_frequent")),
                                                                 ("o", OneHotEncoder(handle_unknown="ignore"))]),
                                                 ["plan"])], remainder="passthrough")),
                      ("lr", LogisticRegression())])
    with pytest.raises(TypeError):  # (scikit-learn's own fit, as the guide says)
        model.fit(frame, y)
    fitted_on = frame.astype({"plan": "str"})
    model.fit(fitted_on, y)
    for name, given in (("strframe", frame), ("strarray", frame.to_numpy())):
        rec = registry.deploy(db_url, name, model, given, y)
        assert rec["text_categories"] == {"plan": PLANS}, name
        got = [s for (s,) in query(db_url, "SELECT pgscore.score(%s, jsonb_build_object('age', a, 'plan', p)) FROM "
                                           "(VALUES (1, 35.0, 'pro'), (2, 50.0, NULL), (3, 28.0, 'basic')) v(i, a, p) "
                                           "ORDER BY i", (name,))]
        want = model.predict_proba(pd.DataFrame({"age": [35.0, 50.0, 28.0], "plan": ["pro", np.nan, "basic"]}))[:, 1]
        assert got == pytest.approx(want, abs=1e-12), name
    assert frame["plan"].dtype == "string" and frame["plan"].isna().sum() > 0


def test_histgradientboosting_encoding_its_own_categories_deploys_by_cli_from_a_csv(db_url, tmp_path):
    """pgscore deploy --train CSV --target of a HistGradientBoostingClassifier fitted on a DataFrame with a pandas
    category column: the CSV is read as an array, on which the copy refit for the hold-out found no category column
    and failed (`cannot measure the hold-out metrics: ... could not convert string to float: 'north'`). The copy is
    refit on a DataFrame whose columns the model took as categories are of that dtype again: it deploys with its
    hold-out metrics, and SQL scores a row as the model scores it."""
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingClassifier

    frame, y = native_frame()
    model = HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(frame, y)
    joblib.dump(model, tmp_path / "hgb.joblib")
    frame.assign(churned=y).to_csv(tmp_path / "train.csv", index=False)
    out = pgscore_cli("deploy", str(tmp_path / "hgb.joblib"), "--name", "native_cli", "--train",
                      str(tmp_path / "train.csv"), "--target", "churned", "--db", db_url)
    assert out.returncode == 0, out.stderr
    assert "text categories: region (4 words)" in out.stdout and "hold-out: auc" in out.stdout, out.stdout
    (s,), = query(db_url, "SELECT pgscore.score('native_cli', jsonb_build_object('age', 44.0, 'region', 'north'))")
    want = model.predict_proba(pd.DataFrame({"age": [44.0], "region": pd.Categorical(["north"])}))[0, 1]
    assert s == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize("how", ["integer_categories", "categorical_features_by_name"])
def test_histgradientboosting_categories_deployed_by_cli_measure_the_hold_out_of_the_model_itself(db_url, tmp_path,
                                                                                                  how):
    """pgscore deploy --train CSV --target of a HistGradientBoostingClassifier encoding a column itself, where the
    copy refit for the hold-out is given the CSV as an array: a pandas category column of integers (zone codes) was
    refit as a number, another model (no categorical feature), whose AUC was stored as the model's (0.865 where the
    model's own refit gives 0.879); categorical_features=['zone'], by name, failed the refit (`categorical_features
    should be passed as an array of integers or as a boolean mask when the model is fitted on data without feature
    names`). The copy is refit on a DataFrame of the model's feature names, its category columns of that dtype: the
    hold-out metrics are those of the model refit on its own training DataFrame."""
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingClassifier

    from pgscore import metrics

    rng = np.random.default_rng(1)
    n = 1500
    age = rng.normal(40, 10, n)
    zone = rng.integers(0, 12, n)
    y = (np.isin(zone, [2, 5, 7, 11]) ^ (rng.random(n) < .1)).astype(int)
    if how == "integer_categories":
        frame = pd.DataFrame({"age": age, "zone": pd.Categorical(zone)})
        model = HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(frame, y)
    else:
        frame = pd.DataFrame({"age": age, "zone": np.array([f"z{z}" for z in zone], dtype=object)})
        model = HistGradientBoostingClassifier(max_iter=10, random_state=0, categorical_features=["zone"]).fit(frame, y)
    assert model.is_categorical_.tolist() == [False, True]
    joblib.dump(model, tmp_path / "hgb.joblib")
    frame.assign(churned=y).to_csv(tmp_path / "train.csv", index=False)
    out = pgscore_cli("deploy", str(tmp_path / "hgb.joblib"), "--name", "hgb_cli", "--train",
                      str(tmp_path / "train.csv"), "--target", "churned", "--db", db_url)
    assert out.returncode == 0, out.stderr
    own = metrics.holdout(model, frame, y, "binary")[0]
    shown = registry.show(db_url, "hgb_cli")["metrics"]
    assert shown["auc"] == pytest.approx(own["auc"], abs=1e-12), (shown, own)
    assert shown["log_loss"] == pytest.approx(own["log_loss"], abs=1e-9)


@pytest.mark.parametrize("kind", ["one_hot", "native"])
def test_a_pipeline_step_passthrough_before_the_encoder_of_words_deploys(db_url, kind):
    """A Pipeline step set to 'passthrough' (a grid search's way of leaving a step out) before the encoder of the words:
    it hands the words on unchanged, yet the walk took it for another use of every feature (a ColumnTransformer's
    remainder passthrough), so the model was refused, "feature 'region' holds 'west', which is not a number" (a
    OneHotEncoder's) or "the model's HistGradientBoostingClassifier encodes the text categories of 'region' itself"
    (a HistGradientBoosting encoding a category column). It deploys, SQL scoring the words as the model does."""
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingClassifier

    frame, y = native_frame()
    if kind == "one_hot":
        frame = frame.assign(region=frame["region"].astype(object))
        last = [("ct", ColumnTransformer([("o", OneHotEncoder(handle_unknown="ignore"), ["region"])],
                                         remainder=SimpleImputer())), ("lr", LogisticRegression())]
    else:
        last = [("hgb", HistGradientBoostingClassifier(max_iter=10, random_state=0))]
    model = Pipeline([("reduce", "passthrough"), *last]).fit(frame, y)
    rec = registry.deploy(db_url, "after_passthrough", model, frame, y)
    assert rec["text_categories"] == {"region": sorted(REGIONS)}, rec
    got = [s for (s,) in query(db_url, "SELECT pgscore.score('after_passthrough', jsonb_build_object('age', a, "
                                       "'region', r)) FROM (VALUES (1, 35.0, 'east'), (2, 50.0, NULL), "
                                       "(3, 28.0, 'venus')) v(i, a, r) ORDER BY i")]
    given = pd.DataFrame({"age": [35.0, 50.0, 28.0], "region": ["east", np.nan, "venus"]})
    if kind == "native":
        given["region"] = given["region"].astype("category")
    assert got == pytest.approx(model.predict_proba(given)[:, 1], abs=1e-12)


def test_the_hint_for_a_histgradientboosting_encoding_its_own_categories_keeps_each_constraint_on_its_column():
    """The refusal's hint gives the Pipeline that deploys as code, its OrdinalEncoder's columns first: the model's
    monotonic_cst and interaction_cst, by a column's place, were copied as they were, so in the hint's Pipeline the
    constraint on income (third column, after region moved first) fell on age, another model. They follow their
    columns now: the hint's Pipeline, fitted, constrains the same columns."""
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    frame, y = native_frame(missing=False)
    frame = pd.DataFrame({"age": frame["age"].fillna(40.0), "income": np.linspace(1, 2, len(frame)),
                          "region": frame["region"]})
    model = Pipeline([("f", FunctionTransformer()), ("hgb", HistGradientBoostingClassifier(
        max_iter=5, random_state=0, monotonic_cst=[0, 1, 0], interaction_cst=[[0, 2], [1]]))]).fit(frame, y)
    problem = features.native_categories(model, ["age", "income", "region"])
    code = problem.hint.rsplit(": ", 1)[1]
    assert "monotonic_cst=[0, 0, 1]" in code and "interaction_cst=[[0, 1], [2]]" in code, code
    hinted = eval(code, {"make_pipeline": make_pipeline, "ColumnTransformer": ColumnTransformer, "np": np,
                         "OrdinalEncoder": OrdinalEncoder,
                         "HistGradientBoostingClassifier": HistGradientBoostingClassifier})
    hinted.fit(frame, y)
    out = hinted[0].get_feature_names_out().tolist()
    hgb = hinted[-1]
    assert [out[i].split("__")[-1] for i in np.flatnonzero(hgb.monotonic_cst)] == ["income"]
    groups = sorted(sorted(out[i].split("__")[-1] for i in g) for g in hgb.interaction_cst)
    assert groups == [["age", "region"], ["income"]]


def test_a_bool_column_of_a_training_csv_deploys_as_the_database_gives_it(db_url, tmp_path):
    """A DataFrame's `bool` column written by `to_csv` holds `True`/`False` (PostgreSQL's `COPY ... CSV` writes
    `t`/`f`): pgscore deploy --train read it as a number and refused it (`column 'promo' holds 'True', not a
    number`), though the database gives a boolean column to the model as 1 or 0. Read so, in any case: the model
    (a ColumnTransformer by name, and a HistGradientBoosting fitted on the DataFrame) deploys with its hold-out
    metrics, and a table's boolean column scores as the model scores the DataFrame."""
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingClassifier

    from pgscore import datasets

    rng = np.random.default_rng(1)
    n = 400
    frame = pd.DataFrame({"tenure": rng.normal(20, 5, n), "promo": rng.random(n) > 0.5, "spend": rng.normal(50, 9, n)})
    y = ((frame.tenure - 20) / 5 + frame.promo * 0.8 + rng.normal(0, .7, n) > 0.4).astype(int)
    models = {"bool_ct": Pipeline([("ct", ColumnTransformer([("s", StandardScaler(), ["tenure", "spend"]),
                                                              ("b", "passthrough", ["promo"])])),
                                   ("lr", LogisticRegression())]).fit(frame, y),
              "bool_hgb": HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(frame, y)}
    frame.assign(churned=y).to_csv(tmp_path / "train.csv", index=False)
    assert "True" in (tmp_path / "train.csv").read_text()
    query(db_url, "CREATE TABLE subs (id int PRIMARY KEY, promo boolean, spend float8, tenure float8)")
    for i in range(20):
        query(db_url, "INSERT INTO subs VALUES (%s, %s, %s, %s)",
              (i, bool(frame.promo[i]), float(frame.spend[i]), float(frame.tenure[i])))
    for name, model in models.items():
        joblib.dump(model, tmp_path / f"{name}.joblib")
        out = pgscore_cli("deploy", str(tmp_path / f"{name}.joblib"), "--name", name, "--train",
                          str(tmp_path / "train.csv"), "--target", "churned", "--db", db_url)
        assert out.returncode == 0, out.stderr
        assert "hold-out: auc" in out.stdout, out.stdout
        got = [s for _, s in query(db_url, "SELECT key, score FROM pgscore.predict_batch(%s, "
                                           "'SELECT id, tenure, promo, spend FROM subs ORDER BY id')", (name,))]
        assert got == pytest.approx(model.predict_proba(frame.iloc[:20])[:, 1], abs=1e-12)
    # PostgreSQL's own CSV of a boolean, and the cases a spreadsheet writes
    (tmp_path / "pg.csv").write_text("promo,y\nt,1\nf,0\nTRUE,1\nfalse,0\nNULL,1\n")
    X_, _, _ = datasets.read_csv(tmp_path / "pg.csv", target="y")
    assert X_[:4, 0].tolist() == [1.0, 0.0, 1.0, 0.0] and np.isnan(X_[4, 0])


def test_a_bool_label_of_a_training_csv_deploys_as_the_model_s_bool_classes(db_url, tmp_path):
    """A DataFrame's `bool` label (`churned`, True/False) written by `to_csv`, of a classifier fitted on it (its
    classes_ [False, True]): pgscore deploy --train read the target as text and refused it (`the labels hold 200
    value(s) that are not classes of the estimator, first 'True', 'False'`), after its bool features had been read
    as 1 and 0 (session 67, review r1). Read as the classes' booleans, in any case and as t/f: it deploys with its
    hold-out metrics; a label of other words is refused as before."""
    import pandas as pd

    from pgscore import datasets

    rng = np.random.default_rng(2)
    n = 200
    frame = pd.DataFrame({"a": rng.normal(size=n), "promo": rng.random(n) < 0.5})
    label = (frame.a + frame.promo + rng.normal(size=n)) > 0.5
    model = LogisticRegression().fit(frame, label)
    assert model.classes_.dtype == bool
    frame.assign(churned=label).to_csv(tmp_path / "train.csv", index=False)
    joblib.dump(model, tmp_path / "m.joblib")
    out = pgscore_cli("deploy", str(tmp_path / "m.joblib"), "--name", "bool_label", "--train",
                      str(tmp_path / "train.csv"), "--target", "churned", "--db", db_url)
    assert out.returncode == 0, out.stderr
    assert "hold-out: auc" in out.stdout, out.stdout
    (tmp_path / "pg.csv").write_text("a,promo,y\n1,t,t\n2,f,F\n3,true,TRUE\n")
    _, y, _ = datasets.read_csv(tmp_path / "pg.csv", target="y", classes=model.classes_)
    assert y.dtype == bool and y.tolist() == [True, False, True]
    (tmp_path / "other.csv").write_text("a,promo,y\n1,t,yes\n2,f,no\n")
    _, y, _ = datasets.read_csv(tmp_path / "other.csv", target="y", classes=model.classes_)
    assert y.tolist() == ["yes", "no"]  # (refused by deploy's check of the labels, as before)


def test_a_bool_label_of_a_training_csv_deploys_for_a_model_of_classes_0_and_1(db_url, tmp_path):
    """A classifier fitted on a bool label as 1 and 0 (`label.astype(int)`, classes_ [0, 1]) with the training CSV
    written from the DataFrame's bool column (True/False): pgscore deploy --train refused it, `the labels hold 200
    value(s) that are not classes of the estimator, first 'True', 'False'` (session 68; session 67 read it for bool
    classes). True is 1 and False 0, as a bool feature reads: it deploys with its hold-out metrics; classes other
    than 0 and 1 (1 and 2) still take no booleans."""
    import pandas as pd

    from pgscore import datasets

    rng = np.random.default_rng(3)
    n = 200
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    label = (frame.a + rng.normal(size=n)) > 0.3
    model = LogisticRegression().fit(frame, label.astype(int))
    assert model.classes_.tolist() == [0, 1]
    frame.assign(churned=label).to_csv(tmp_path / "train.csv", index=False)
    joblib.dump(model, tmp_path / "m.joblib")
    out = pgscore_cli("deploy", str(tmp_path / "m.joblib"), "--name", "int_label", "--train",
                      str(tmp_path / "train.csv"), "--target", "churned", "--db", db_url)
    assert out.returncode == 0, out.stderr
    assert "hold-out: auc" in out.stdout, out.stdout
    _, y, _ = datasets.read_csv(tmp_path / "train.csv", target="churned", classes=model.classes_)
    assert y.dtype == model.classes_.dtype and y.tolist() == label.astype(int).tolist()
    _, y, _ = datasets.read_csv(tmp_path / "train.csv", target="churned", classes=np.array([1, 2]))
    assert y.tolist()[:3] == [str(v) for v in label[:3]]  # (refused by deploy's check of the labels, as before)


def test_the_hint_for_a_histgradientboosting_encoding_its_own_categories_runs_with_monotonic_cst_by_name():
    """monotonic_cst given as a dict of feature names (`{'income': 1}`, scikit-learn's way for a model fitted on a
    DataFrame) was copied into the refusal's Pipeline as it was, where the model follows a ColumnTransformer giving
    it an array: the hint's code failed to fit (`monotonic_cst ... feature names`). It is given by place there, each
    constraint on its column: the hint's Pipeline, fitted, constrains income."""
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    frame, y = native_frame(missing=False)
    frame = pd.DataFrame({"age": frame["age"].fillna(40.0), "income": np.linspace(1, 2, len(frame)),
                          "region": frame["region"]})
    model = Pipeline([("f", FunctionTransformer()), ("hgb", HistGradientBoostingClassifier(
        max_iter=5, random_state=0, monotonic_cst={"income": 1}))]).fit(frame, y)
    problem = features.native_categories(model, ["age", "income", "region"])
    code = problem.hint[problem.hint.index("make_pipeline("):]
    hinted = eval(code, {"make_pipeline": make_pipeline, "ColumnTransformer": ColumnTransformer, "np": np,
                         "OrdinalEncoder": OrdinalEncoder,
                         "HistGradientBoostingClassifier": HistGradientBoostingClassifier})
    hinted.fit(frame, y)
    out = hinted[0].get_feature_names_out().tolist()
    hgb = hinted[-1]
    assert "monotonic_cst=[0, 0, 1]" in code, code
    assert [out[i].split("__")[-1] for i in np.flatnonzero(hgb.monotonic_cst)] == ["income"]


def test_histgradientboosting_after_a_column_transformer_of_prefixed_names_is_refused_naming_the_feature(db_url):
    """The same, with the ColumnTransformer's default names ('num__age', 'cat__region': verbose_feature_names_out,
    scikit-learn's default) and monotonic_cst given by those names: the refusal named 'cat__region', no column of
    the table, its hint's code failed (`Some column names are not columns of the dataframe: {'cat__region'}`) and
    kept monotonic_cst as the dict of names the array it is given has none of (session 67; review r1). It names
    region; the hint's code, fitted, encodes region, keeps age's constraint on age, and deploys."""
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    frame, y = native_frame(missing=False)
    frame = pd.DataFrame({"age": frame["age"], "region": frame["region"], "spend": np.linspace(1, 2, len(frame))})
    ct = ColumnTransformer([("num", StandardScaler(), ["age", "spend"]), ("cat", "passthrough", ["region"])]
                           ).set_output(transform="pandas")
    hgb = HistGradientBoostingClassifier(max_iter=10, random_state=0, monotonic_cst={"num__age": 1})
    native = Pipeline([("ct", ct), ("hgb", hgb)]).fit(frame, y)
    assert native[-1].feature_names_in_.tolist() == ["num__age", "num__spend", "cat__region"]
    with pytest.raises(InvalidModel) as e:
        registry.deploy(db_url, "native_prefixed", native, frame, y)
    assert e.value.message.startswith("the model's HistGradientBoostingClassifier encodes the text categories of "
                                      "'region' itself"), e.value.message
    code = e.value.hint[e.value.hint.index("make_pipeline("):]
    model = eval(code, {"make_pipeline": make_pipeline, "ColumnTransformer": ColumnTransformer, "np": np,
                        "OrdinalEncoder": OrdinalEncoder,
                        "HistGradientBoostingClassifier": HistGradientBoostingClassifier}).fit(frame, y)
    out = [n.split("__")[-1] for n in model[0].get_feature_names_out().tolist()]
    assert [out[i] for i in np.flatnonzero(model[-1].is_categorical_)] == ["region"]
    assert dict(zip(out, model[-1].monotonic_cst)) == {"region": 0, "age": 1, "spend": 0}
    assert registry.deploy(db_url, "native_prefixed", model, frame, y)["text_categories"] == {"region": sorted(REGIONS)}


def test_histgradientboosting_after_a_column_transformer_is_refused_naming_its_own_category_column(db_url):
    """A ColumnTransformer giving a DataFrame (set_output) whose columns are in another order than the model's
    features (age, spend scaled; region passed through last), then a HistGradientBoosting encoding region itself:
    the refusal named the model's feature at the place of region in the HistGradientBoosting's own input ('spend',
    third), and its hint's code encoded spend as categories, another model, which deployed. It names region, and
    the hint's code, fitted, takes region as its category column and deploys."""
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    frame, y = native_frame(missing=False)
    frame = pd.DataFrame({"age": frame["age"], "region": frame["region"], "spend": np.linspace(1, 2, len(frame))})
    ct = ColumnTransformer([("num", StandardScaler(), ["age", "spend"]), ("cat", "passthrough", ["region"])],
                           verbose_feature_names_out=False).set_output(transform="pandas")
    native = Pipeline([("ct", ct), ("hgb", HistGradientBoostingClassifier(max_iter=10, random_state=0))]).fit(frame, y)
    with pytest.raises(InvalidModel) as e:
        registry.deploy(db_url, "native_ct", native, frame, y)
    assert e.value.message.startswith("the model's HistGradientBoostingClassifier encodes the text categories of "
                                      "'region' itself"), e.value.message
    code = e.value.hint[e.value.hint.index("make_pipeline("):]
    model = eval(code, {"make_pipeline": make_pipeline, "ColumnTransformer": ColumnTransformer, "np": np,
                        "OrdinalEncoder": OrdinalEncoder,
                        "HistGradientBoostingClassifier": HistGradientBoostingClassifier}).fit(frame, y)
    out = model[0].get_feature_names_out().tolist()
    assert [out[i].split("__")[-1] for i in np.flatnonzero(model[-1].is_categorical_)] == ["region"]
    assert registry.deploy(db_url, "native_ct", model, frame, y)["text_categories"] == {"region": sorted(REGIONS)}


def deploy_padded_words(db_url, name):
    """A linear model of one-hot words fitted on 'plan' words padded to 5 characters (read from a char(5) column)."""
    X, y = words_data()
    padded = X.copy()
    padded[:, 2] = [w.ljust(5) if isinstance(w, str) else w for w in X[:, 2]]
    ct = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), [1, 2]), ("num", SimpleImputer(), [0])])
    registry.deploy(db_url, name, Pipeline([("ct", ct), ("lr", LogisticRegression())]).fit(padded, y), padded, y,
                    feature_names=NAMES)


def test_the_generated_column_offered_for_a_feature_of_padded_words_keeps_their_blanks(conn, db_url):
    """Trial T27's leftover (session 71): a table whose char(5) column of words is named otherwise than the feature
    (plan_ch for plan) was offered `ADD COLUMN plan text GENERATED ALWAYS AS (<its column>) STORED`: for a model
    fitted on the words padded (read from a char(n) column), the text cast cuts their blanks, and every word but a
    full one ('basic') scored as unknown. A feature of padded words is offered them padded (rpad, review r4), kept:
    the hint's ALTER TABLE, run as written, scores as predict_batch over the column scores."""
    deploy_padded_words(db_url, "padded")
    query(conn, "CREATE TABLE w2 (id int PRIMARY KEY, age float8, region text, plan_ch char(5), s float8)")
    query(conn, "INSERT INTO w2 VALUES (1, 35, 'east', 'basic'), (2, 40, 'west', 'plus'), (3, 52, 'north', 'pro'), "
                "(4, 41, 'south', NULL)")
    with pytest.raises(psycopg2.Error) as e:
        query(conn, "CALL pgscore.score_table('padded', 'w2', 'id', 's')")
    hint = e.value.diag.message_hint
    assert hint, e.value.pgerror
    alter = hint.split("a generated column: ")[1].split("; ")[0].replace("...", "w2")
    # (review r4: padded to the words' length, from any string column: a bpchar pads nothing)
    assert alter == ("ALTER TABLE w2 ADD COLUMN plan text GENERATED ALWAYS AS (pg_catalog.rpad(<its column>, "
                     "GREATEST(pg_catalog.length(<its column>), 5))) STORED"), hint
    assert "in a query, pg_catalog.rpad(<its column>, GREATEST(pg_catalog.length(<its column>), 5)) AS plan" in hint
    query(conn, alter.replace("<its column>", "plan_ch"))
    query(conn, "CALL pgscore.score_table('padded', 'w2', 'id', 's')")  # the hint's fix, as written
    batch = dict(query(conn, "SELECT key::int, score FROM pgscore.predict_batch('padded', "
                             "'SELECT id, age, region, plan_ch AS plan FROM w2')"))
    written = dict(query(conn, "SELECT id, s FROM w2"))
    assert max(abs(batch[k] - written[k]) for k in batch) < 1e-12, (batch, written)  # (before: 'plus', 'pro' unknown)


ODD = ["o'brien", "back\\slash", "z\u00fcrich", "", "x'); DROP TABLE customers; --", "1", "1.0", "East"]


def test_a_linear_model_of_one_hot_words_is_scored_in_sql_as_scikit_learn_scores_it(conn, db_url):
    """A linear model after one-hot encoders of words is scored in one SQL statement by predict_batch (batch_sql
    returns it; since session 71, before it returned none: compiled.score_sql gave None for any one-hot lookup), by
    score_table and by rescoring, each score within 1e-12 of scikit-learn's on the words: quotes, a backslash,
    non-ASCII, the empty word, '1' and '1.0' (two words), a word that reads as SQL (scored, not run), NULL (a category,
    an imputer's most frequent word, an imputer's constant), an unknown word (ignored, or the infrequent column), from
    text, varchar and char(n) columns. A strict encoder of words read from a text column is left to the chunks, whose
    refusal names the word; of codes read from a number column, the statement scores it."""
    rng = np.random.default_rng(5)
    n = 400
    X = np.empty((n, 4), dtype=object)
    X[:, 0] = rng.normal(40, 10, n)
    for j in (1, 2, 3):
        X[:, j] = rng.choice(ODD if j == 1 else ODD[:5] if j == 2 else ["a", "bb", "ccc", "dddd"], n,
                             p=None if j != 2 else [0.4, 0.3, 0.2, 0.07, 0.03])
    X[::9, 1], X[::7, 2], X[::8, 3] = np.nan, np.nan, np.nan
    y = (X[:, 1] == "1") | (X[:, 2] == "back\\slash") | (rng.random(n) < 0.3)
    names = ["age", "region", "plan", "tier"]
    ct = ColumnTransformer([
        ("num", StandardScaler(), [0]),
        ("region", OneHotEncoder(handle_unknown="ignore"), [1]),  # NaN a category
        ("plan", Pipeline([("i", SimpleImputer(strategy="most_frequent")),
                           ("o", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=20))]), [2]),
        ("tier", Pipeline([("i", SimpleImputer(strategy="constant", fill_value="none")),
                           ("o", OneHotEncoder(handle_unknown="ignore", drop="first"))]), [3])])
    model = Pipeline([("ct", ct), ("lr", LogisticRegression())]).fit(X, y.astype(int))
    registry.deploy(db_url, "w", model, X, y.astype(int), feature_names=names)
    query(conn, "CREATE TABLE customers (id int PRIMARY KEY, age float8, region text, plan varchar(40), tier char(4), "
                "s float8, scored_at timestamptz)")
    rows = [(i, float(X[i, 0]), *(None if v != v else v for v in X[i, 1:])) for i in range(60)]
    rows += [(100, 30.0, "mars", "platinum", "eeeee"[:4]), (101, 31.0, None, None, None),
             (102, 32.0, "1.00", "", "a"), (103, 33.0, "east", "o'brien", "bb")]
    for r in rows:
        query(conn, "INSERT INTO customers (id, age, region, plan, tier) VALUES (%s, %s, %s, %s, %s)", r)
    frame = np.array([[a, *(np.nan if v is None else v for v in (g, p, t))] for _, a, g, p, t in rows], dtype=object)
    want = dict(zip([r[0] for r in rows], model.predict_proba(frame)[:, 1]))
    q = "SELECT id, age, region, plan, tier FROM customers"
    (statement,), = query(conn, "SELECT c.statement FROM pgscore.batch_sql('w', %s, NULL, 10000, false, 'public') AS c",
                          (q,))
    assert statement is not None and "array_position" in statement
    batch = dict(query(conn, "SELECT key::int, score FROM pgscore.predict_batch('w', %s, p_log => false)", (q,)))
    assert batch.keys() == want.keys() and max(abs(batch[k] - want[k]) for k in want) <= 1e-12
    if query(conn, "SELECT count(*) FROM pg_catalog.pg_available_extensions WHERE name = 'citext'") == [(1,)]:
        query(conn, "CREATE EXTENSION IF NOT EXISTS citext")  # a citext column: compared as scikit-learn compares
        q = "SELECT id, age, region::citext AS region, plan, tier FROM customers"
        (statement,), = query(conn, "SELECT c.statement FROM pgscore.batch_sql('w', %s, NULL, 10000, false, "
                                    "'public') AS c", (q,))
        got = dict(query(conn, "SELECT key::int, score FROM pgscore.predict_batch('w', %s, p_log => false)", (q,)))
        assert statement is not None and max(abs(got[k] - want[k]) for k in want) <= 1e-12
    query(conn, "CALL pgscore.score_table('w', 'customers', 'id', 's', 25)")
    table = dict(query(conn, "SELECT id, s FROM customers"))
    assert max(abs(table[k] - want[k]) for k in want) <= 1e-12
    query(conn, "UPDATE customers SET s = NULL")
    query(conn, "CREATE TABLE events (customer_id int)")
    query(conn, "SELECT pgscore.attach_rescoring('events', 'customers', 'customer_id', 'w', 's', p_profile_key => 'id')")
    query(conn, "INSERT INTO events SELECT id FROM customers")
    rescored = dict(query(conn, "SELECT id, s FROM customers"))
    assert max(abs(rescored[k] - want[k]) for k in want) <= 1e-12
    assert query(conn, "SELECT count(*) FROM customers") == [(len(rows),)]  # the word was data
    # a strict encoder: of words from a text column, the chunks (whose refusal names the word); of codes, SQL
    strict, Xs, ys = binary_model(handle_unknown="error")
    registry.deploy(db_url, "strict", strict, Xs, ys, feature_names=NAMES)
    query(conn, "CREATE TABLE worded (id int PRIMARY KEY, age float8, region text, plan text)")
    query(conn, "CREATE TABLE coded (id int PRIMARY KEY, age float8, region int, plan int)")
    query(conn, "INSERT INTO worded VALUES (1, 30, 'east', 'pro'), (2, 31, 'west', 'basic')")
    query(conn, "INSERT INTO coded VALUES (1, 30, 0, 2), (2, 31, 3, 0)")
    got = query(conn, "SELECT c.statement IS NOT NULL FROM pgscore.batch_sql('strict', 'SELECT * FROM worded', NULL, "
                      "10000, false, 'public') c UNION ALL SELECT c.statement IS NOT NULL FROM pgscore.batch_sql("
                      "'strict', 'SELECT * FROM coded', NULL, 10000, false, 'public') c")
    assert got == [(False,), (True,)]
    by_words = dict(query(conn, "SELECT key::int, score FROM pgscore.predict_batch('strict', 'SELECT * FROM worded')"))
    by_codes = dict(query(conn, "SELECT key::int, score FROM pgscore.predict_batch('strict', 'SELECT * FROM coded')"))
    ref = strict.predict_proba(np.array([[30.0, "east", "pro"], [31.0, "west", "basic"]], dtype=object))[:, 1]
    assert max(abs(by[k] - ref[k - 1]) for by in (by_words, by_codes) for k in (1, 2)) <= 1e-12
    query(conn, "INSERT INTO coded VALUES (3, 32, -1, 0)")
    with pytest.raises(psycopg2.Error) as e:
        query(conn, "SELECT count(*) FROM pgscore.predict_batch('strict', 'SELECT * FROM coded')")
    assert e.value.pgcode == "22023" and "feature 'region' holds an unknown word (code -1)" in str(e.value)


def test_the_generated_column_offered_for_padded_words_pads_them_from_a_varchar_or_another_char_n(conn, db_url):
    """Review r4 of session 71: for a model fitted on the words of a char(5) column (padded: 'plus '), the hint's
    generated column was a bpchar, which keeps a char(5) column's blanks but pads nothing: from a varchar column
    ('plus', a warehouse's copy of the data) or a char(8) one ('plus    '), every word but a full one ('basic') scored
    as unknown. It is a text column of the word padded to the length of the words the model knows (rpad, never cut):
    the hint's ALTER TABLE, run as written over each column, scores as predict_batch over a char(5) column."""
    deploy_padded_words(db_url, "padded5")
    query(conn, "CREATE TABLE w3 (id int PRIMARY KEY, age float8, region text, plan_ch char(5), plan_v varchar(10), "
                "plan_c8 char(8), s float8, s8 float8); INSERT INTO w3 (id, age, region, plan_ch) VALUES "
                "(1, 35, 'east', 'basic'), (2, 40, 'west', 'plus'), (3, 52, 'north', 'pro'), (4, 41, 'south', NULL); "
                "UPDATE w3 SET plan_v = plan_ch, plan_c8 = plan_ch")
    with pytest.raises(psycopg2.Error) as e:
        query(conn, "CALL pgscore.score_table('padded5', 'w3', 'id', 's')")
    alter = e.value.diag.message_hint.split("a generated column: ")[1].split("; ")[0].replace("...", "w3")
    assert alter.startswith("ALTER TABLE w3 ADD COLUMN plan "), alter
    truth = dict(query(conn, "SELECT key::int, score FROM pgscore.predict_batch('padded5', "
                             "'SELECT id, age, region, plan_ch AS plan FROM w3')"))
    assert len(set(truth.values())) == 4, truth  # (each plan scores otherwise)
    written = {}
    for column, into in (("plan_v", "s"), ("plan_c8", "s8")):
        query(conn, alter.replace("<its column>", column))  # the hint's fix, as written
        query(conn, f"CALL pgscore.score_table('padded5', 'w3', 'id', '{into}')")
        written[column] = dict(query(conn, f"SELECT id, {into} FROM w3"))
        query(conn, "ALTER TABLE w3 DROP COLUMN plan")
    assert all(max(abs(truth[k] - got[k]) for k in truth) < 1e-12 for got in written.values()), (truth, written)


def test_words_of_a_case_blind_column_are_coded_as_scikit_learn_compares_them(conn, db_url):
    """A word is coded by its bytes whatever its column's collation (review r1, session 71): a column of a
    nondeterministic, case-blind collation made 'East' the code of 'east' (array_position compares under the
    column's collation), which scikit-learn, comparing strings, takes for an unknown word: predict_batch (in SQL and
    by the chunks alike), score_table and rescoring scored it as 'east'. Now each is scikit-learn's, as a text
    column of the default collation scores it."""
    model, X, y = binary_model()
    registry.deploy(db_url, "ci", model, X, y, feature_names=NAMES)
    query(conn, "CREATE COLLATION IF NOT EXISTS blind (provider = icu, locale = 'und-u-ks-level2', "
                "deterministic = false)")
    query(conn, "CREATE TABLE ci (id int PRIMARY KEY, age float8, region text COLLATE blind, plan varchar(20) COLLATE "
                "blind, s float8, scored_at timestamptz)")
    rows = [(1, 30.0, "east", "pro"), (2, 30.0, "East", "PRO"), (3, 30.0, "EAST", "Basic")]
    for r in rows:
        query(conn, "INSERT INTO ci (id, age, region, plan) VALUES (%s, %s, %s, %s)", r)
    want = dict(zip([1, 2, 3], original_scores(model, rows)))
    assert abs(want[1] - want[2]) > 1e-3  # ('East' is no word of the model's)
    q = "SELECT id, age, region, plan FROM ci"
    got = {"sql": dict(query(conn, "SELECT key::int, score FROM pgscore.predict_batch('ci', %s, p_log => false)",
                             (q,))),
           "chunks": {int(k): s for k, s in query(conn, "SELECT u.k, u.s FROM pgscore.batch_chunks('ci', %s, NULL, "
                                                         "100, false, 'public') AS c, unnest(c.keys, "
                                                         "pgscore.float8_array(c.scores)) AS u(k, s)", (q,))}}
    query(conn, "CALL pgscore.score_table('ci', 'ci', 'id', 's', 10)")
    got["score_table"] = dict(query(conn, "SELECT id, s FROM ci"))
    query(conn, "UPDATE ci SET s = NULL")
    query(conn, "CREATE TABLE ci_events (customer_id int)")
    query(conn, "SELECT pgscore.attach_rescoring('ci_events', 'ci', 'customer_id', 'ci', 's', p_profile_key => 'id')")
    query(conn, "INSERT INTO ci_events VALUES (1), (2), (3)")
    got["rescoring"] = dict(query(conn, "SELECT id, s FROM ci"))
    assert {how: [round(s[k] - want[k], 12) for k in (1, 2, 3)] for how, s in got.items()} == {
        how: [0.0] * 3 for how in got}
