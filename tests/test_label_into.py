"""score_table's p_label_into, score_chunk's, and pgscore score --label-into (migration 0115): each row's
predicted class, as pgscore.predict gives it, written in bulk beside its score, chunk by chunk; the score column
as a run without it writes it; what a label column cannot be, refused before anything is written."""

import shlex

import numpy as np
import psycopg2
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import FixedThresholdClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from helpers import StopAtFirstChunk, ensure_role, pgscore_cli, query
from pgscore import datasets, registry

X, Y, NAMES = datasets.churn(400, seed=7)
BAND = np.digitize(X[:, 1], [55, 85])  # three classes from monthly charges
Y_TEXT = np.array(["low", "mid", "high"])[BAND]
YR = X[:, 1] * 12 + X[:, 5]

MODELS = {
    # name: (factory, y, compile, engine, task)
    # multiclass: a pipeline compiled (linear, three outputs), a compiled one with text classes, scikit-learn's own
    "logit": (lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)), BAND, True, "numpy",
              "multiclass"),
    "hgb_text": (lambda: HistGradientBoostingClassifier(max_iter=20, random_state=0), Y_TEXT, True, "numpy",
                 "multiclass"),
    "forest_sklearn": (lambda: RandomForestClassifier(n_estimators=15, max_depth=6, random_state=0), BAND, False,
                       "scikit-learn", "multiclass"),
    # binary: a linear one (its chunks are scored in SQL without a label column), a compiled tree ensemble, and a
    # tuned decision threshold (its predict is not the most probable class)
    "binary": (lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)), Y, True, "numpy", "binary"),
    "binary_hgb": (lambda: HistGradientBoostingClassifier(max_iter=20, random_state=0), Y, True, "numpy", "binary"),
    "tuned": (lambda: FixedThresholdClassifier(make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
                                               threshold=0.3), Y, False, "scikit-learn", "binary"),
    "regression": (lambda: make_pipeline(StandardScaler(), Ridge()), YR, True, "numpy", "regression"),
}
_fitted = {}


def fitted(name):
    if name not in _fitted:
        factory, y, *_ = MODELS[name]
        _fitted[name] = factory().fit(X, y)
    return _fitted[name]


def deploy(url, name):
    _, y, compile, engine, task = MODELS[name]
    rec = registry.deploy(url, "m", fitted(name), X, y, feature_names=NAMES, compile=compile)
    assert (rec["engine"], rec["task"]) == (engine, task), rec.get("engine_note")
    return rec


def load_rows(conn, x, label_type="text"):
    query(conn, "CREATE TABLE rows (id int PRIMARY KEY, f float8[], " + ", ".join(f"{n} float8" for n in NAMES)
          + f", s float8, lab {label_type})")
    with conn.cursor() as cur:
        for i, r in enumerate(x.tolist()):
            cur.execute(f"INSERT INTO rows VALUES (%s, %s::float8[], {', '.join(['%s'] * len(NAMES))}, NULL, NULL)",
                        (i, r, *r))


def sql_error(conn, sql, params=None):
    with pytest.raises(psycopg2.Error) as e:
        query(conn, sql, params)
    return e.value


@pytest.mark.parametrize("name", ["logit", "hgb_text", "forest_sklearn", "binary", "binary_hgb", "tuned"])
def test_score_table_writes_the_class_predict_gives_and_the_score_as_without_it(conn, name):
    est = fitted(name)
    deploy(conn.dsn, name)
    x = X[:150]
    load_rows(conn, x)
    want = [str(v) for v in est.predict(x)]
    assert len(set(want)) >= 2
    if name == "tuned":  # what it is about: predict is not the most probable class
        assert sum(w != str(c) for w, c in zip(want, est.classes_[est.predict_proba(x).argmax(axis=1)])) > 5
    query(conn, "CALL pgscore.score_table('m', 'rows', 'id', 's', 40)")
    without = [s for (s,) in query(conn, "SELECT s FROM rows ORDER BY id")]
    assert query(conn, "SELECT count(*) FROM rows WHERE lab IS NOT NULL") == [(0,)]
    query(conn, "UPDATE rows SET s = NULL; TRUNCATE pgscore.prediction_log")
    query(conn, "CALL pgscore.score_table('m', 'rows', 'id', 's', 40, p_label_into => 'lab')")
    got = query(conn, "SELECT s, lab, pgscore.predict('m', f) FROM rows ORDER BY id")
    assert [lab for _, lab, _ in got] == want  # the estimator's own predict
    assert [lab for _, lab, _ in got] == [p for _, _, p in got]  # pgscore.predict's, row by row
    with_labels = np.array([s for s, _, _ in got])
    if name == "binary":  # scored in SQL without a label column, with numpy with one: the last bit or so
        assert np.abs(with_labels - np.array(without)).max() <= 1e-15
    else:
        assert with_labels.tolist() == without
    # the audit rows carry the label written, as pgscore.predict's do (a binary model's too, where it was computed)
    logged = query(conn, "SELECT entity_key::int, label, score FROM pgscore.prediction_log WHERE source = 'batch' "
                         "ORDER BY 1")
    assert [r[0] for r in logged] == list(range(len(x)))
    assert [r[1] for r in logged] == want
    assert [r[2] for r in logged] == with_labels.tolist()


def test_score_chunk_writes_integer_classes_into_integer_numeric_and_text_columns(conn):
    est = fitted("logit")
    deploy(conn.dsn, "logit")
    x = X[:60]
    load_rows(conn, x)
    want = [int(v) for v in est.predict(x)]
    query(conn, "CREATE TYPE band AS ENUM ('0', '1', '2'); CREATE DOMAIN low_band AS int CHECK (VALUE < 2)")
    for typ, read in (("integer", int), ("bigint", int), ("numeric", int), ("smallint", int), ("text", int),
                      ("varchar", int), ("double precision", int), ("numeric(3,1)", int), ("band", int),
                      ("json", int)):  # (no = for json: the classes are not compared with each other)
        query(conn, f"ALTER TABLE rows DROP COLUMN lab; ALTER TABLE rows ADD COLUMN lab {typ}")
        (n, last, version), = query(conn, "SELECT * FROM pgscore.score_chunk('m', 'rows', 'id', 's', NULL, 100, "
                                          "p_log => false, p_label_into => 'lab')")
        assert (n, last, version) == (60, "59", 1)
        assert [read(v) for (v,) in query(conn, "SELECT lab FROM rows ORDER BY id")] == want, typ
    # a domain that refuses one class: refused before a row is written, naming that class
    query(conn, "UPDATE rows SET s = NULL; ALTER TABLE rows DROP COLUMN lab; ALTER TABLE rows ADD COLUMN lab low_band")
    e = sql_error(conn, "SELECT * FROM pgscore.score_chunk('m', 'rows', 'id', 's', p_label_into => 'lab')")
    assert e.pgcode == "42804" and "is public.low_band, which cannot hold the class '2' of model m v1" in e.diag.message_primary, \
        e.diag.message_primary
    assert query(conn, "SELECT count(s), count(lab) FROM rows") == [(0, 0)]


def test_a_null_label_column_writes_no_label(conn):
    deploy(conn.dsn, "logit")
    load_rows(conn, X[:30])
    query(conn, "CALL pgscore.score_table('m', 'rows', 'id', 's', p_label_into => NULL)")
    assert query(conn, "SELECT count(s), count(lab) FROM rows") == [(30, 0)]
    assert query(conn, "SELECT * FROM pgscore.score_chunk('m', 'rows', 'id', 's', '5', 3, NULL, true, NULL)") \
        == [(3, "8", 1)]


def test_a_label_column_that_cannot_take_the_labels_is_refused_before_anything_is_written(conn):
    deploy(conn.dsn, "hgb_text")  # classes 'high', 'low', 'mid'
    load_rows(conn, X[:30], label_type="integer")
    call = "CALL pgscore.score_table('m', 'rows', 'id', 's', 10, p_label_into => %s)"

    e = sql_error(conn, call, ("lab",))
    assert e.pgcode == "42804", e
    assert e.diag.message_primary == ("pgscore: column 'lab' of public.rows is integer, which cannot hold the classes 'high', 'low', "
                                      "'mid' of model m v1 (the label column); nothing was written")
    assert e.diag.message_detail == "the model's classes: 'high', 'low', 'mid'"
    assert "ALTER TABLE public.rows ALTER COLUMN lab TYPE text" in e.diag.message_hint
    # a varchar too short for one class: refused (an explicit cast would have cut it short)
    query(conn, "ALTER TABLE rows ALTER COLUMN lab TYPE varchar(3)")
    e = sql_error(conn, call, ("lab",))
    assert e.pgcode == "42804" and "is character varying(3), which cannot hold the class 'high' of model m v1" \
        in e.diag.message_primary, e
    assert query(conn, "SELECT count(s), count(lab) FROM rows") == [(0, 0)]
    assert query(conn, "SELECT count(*) FROM pgscore.prediction_log") == [(0,)]

    query(conn, "ALTER TABLE rows ALTER COLUMN lab TYPE text")
    e = sql_error(conn, call, ("labl",))  # no such column: the nearest named
    assert e.pgcode == "42703", e
    assert e.diag.message_primary == ("pgscore: table public.rows has no column 'labl' (the label column of "
                                      "model m v1)")
    assert e.diag.message_hint.startswith("a typo for 'lab'?"), e.diag.message_hint
    e = sql_error(conn, call, ("predicted",))
    assert e.pgcode == "42703" and e.diag.message_hint == "add it first: ALTER TABLE public.rows ADD COLUMN predicted text"
    # (the score column itself: test_the_score_and_the_label_in_one_column_are_refused_in_plain_words)
    for col, what in (("id", "its key column"), ("age", "a feature of model m v1")):
        e = sql_error(conn, call, (col,))
        assert e.pgcode == "22023", (col, e)
        assert e.diag.message_primary == (f"pgscore: the label column '{col}' of public.rows is {what}: model m v1's labels would "
                                          "replace its values"), e.diag.message_primary
    # score_chunk says the same
    e = sql_error(conn, "SELECT * FROM pgscore.score_chunk('m', 'rows', 'id', 's', p_label_into => 'id')")
    assert e.pgcode == "22023" and "is its key column" in e.diag.message_primary
    assert query(conn, "SELECT count(s), count(lab) FROM rows") == [(0, 0)]
    assert query(conn, "SELECT count(*) FROM pgscore.prediction_log") == [(0,)]


def test_a_domain_over_a_short_varchar_is_refused_not_cut_short(conn):
    """A domain over varchar(3) (or over such a domain) has no typmod of its own: the explicit cast to it cuts
    'high' to 'hig' without an error, as varchar(3)'s does, so the class is compared in the type under it."""
    deploy(conn.dsn, "hgb_text")  # classes 'high', 'low', 'mid'
    load_rows(conn, X[:30])
    query(conn, "CREATE DOMAIN short AS varchar(3); CREATE DOMAIN shorter AS short CHECK (VALUE <> 'x'); "
                "CREATE DOMAIN roomy AS varchar(4)")
    for typ in ("short", "shorter"):
        query(conn, f"ALTER TABLE rows ALTER COLUMN lab TYPE {typ}")
        e = sql_error(conn, "CALL pgscore.score_table('m', 'rows', 'id', 's', 10, p_label_into => 'lab')")
        assert e.pgcode == "42804", (typ, e)
        assert f"is public.{typ}, which cannot hold the class 'high' of model m v1" in e.diag.message_primary, \
            e.diag.message_primary
        assert query(conn, "SELECT count(s), count(lab) FROM rows") == [(0, 0)]
    query(conn, "ALTER TABLE rows ALTER COLUMN lab TYPE roomy")
    query(conn, "CALL pgscore.score_table('m', 'rows', 'id', 's', 10, p_label_into => 'lab')")
    want = [str(v) for v in fitted("hgb_text").predict(X[:30])]
    assert [v for (v,) in query(conn, "SELECT lab FROM rows ORDER BY id")] == want


def test_a_column_in_which_two_classes_are_one_value_is_refused(conn):
    """Classes '01' and '1' both cast to the integer 1 (and 'a' and 'a ' to one character(3)): the rows of either
    were labelled alike, with nothing said. Refused before a row is written, naming them; text keeps them apart."""
    from sklearn.tree import DecisionTreeClassifier

    y = np.array(["01", "1", "2"])[BAND]
    est = DecisionTreeClassifier(max_depth=4, random_state=0).fit(X, y)
    registry.deploy(conn.dsn, "m", est, X, y, feature_names=NAMES)
    load_rows(conn, X[:40], label_type="integer")
    call = "CALL pgscore.score_table('m', 'rows', 'id', 's', 10, p_label_into => 'lab')"
    e = sql_error(conn, call)
    assert e.pgcode == "42804", e
    assert e.diag.message_primary == ("pgscore: column 'lab' of public.rows is integer, in which the classes '01' and "
                                      "'1' of model m v1 are one value (the label column): their rows would be "
                                      "labelled alike; nothing was written"), e.diag.message_primary
    assert e.diag.message_detail == "the model's classes: '01', '1', '2'"
    assert query(conn, "SELECT count(s), count(lab) FROM rows") == [(0, 0)]
    query(conn, "ALTER TABLE rows ALTER COLUMN lab TYPE text")
    query(conn, call)
    assert [v for (v,) in query(conn, "SELECT lab FROM rows ORDER BY id")] == [str(v) for v in est.predict(X[:40])]


def test_a_regressor_has_no_labels_to_write(conn):
    deploy(conn.dsn, "regression")
    load_rows(conn, X[:10])
    e = sql_error(conn, "CALL pgscore.score_table('m', 'rows', 'id', 's', p_label_into => 'lab')")
    assert e.pgcode == "42809", e
    assert e.diag.message_primary == ("pgscore: model m v1 is a regressor and has no classes to write into public.rows.lab "
                                      "(the label column)")
    assert e.diag.message_hint == "a regressor's value is its score: write it with p_into alone, without p_label_into"
    assert query(conn, "SELECT count(s) FROM rows") == [(0,)]


def test_a_classifiers_score_into_a_text_column_hints_the_label_column(conn):
    """A new user's `pgscore score --model tier ... --into tier` (a text column, for the class) was refused as a
    column of the wrong type for scores, with no hint: the hint says where a score goes and, for a classifier, that
    its class goes into a column of its own (p_label_into, --label-into); a regressor's names the score alone."""
    deploy(conn.dsn, "hgb_text")
    load_rows(conn, X[:10])
    e = sql_error(conn, "CALL pgscore.score_table('m', 'rows', 'id', 'lab')")
    assert e.pgcode == "42804" and "column 'lab' of public.rows is text; scores need" in e.diag.message_primary, e
    assert e.diag.message_hint == ("score into a column of its own (ALTER TABLE public.rows ADD COLUMN score float8); a "
                                   "classifier's predicted class goes into a column of its own: p_label_into => 'lab' "
                                   "(pgscore score --label-into lab)"), e.diag.message_hint
    registry.deploy(conn.dsn, "r", fitted("regression"), X, YR, feature_names=NAMES)
    e = sql_error(conn, "CALL pgscore.score_table('r', 'rows', 'id', 'lab')")
    assert e.pgcode == "42804" and e.diag.message_hint == ("score into a column of its own (ALTER TABLE public.rows ADD "
                                                           "COLUMN score float8)"), e.diag.message_hint


def test_pgscore_score_label_into_end_to_end_and_resumed_after_an_interruption(conn, monkeypatch, capsys):
    """The CLI writes the labels with the scores; interrupted after a chunk, the line it prints to resume with
    repeats --label-into, and the resumed run labels the rest: every row scored, labelled and logged once."""
    from pgscore import cli, scoring

    est = fitted("hgb_text")
    deploy(conn.dsn, "hgb_text")
    x = X[:50]
    load_rows(conn, x)
    want = [str(v) for v in est.predict(x)]
    r = pgscore_cli("score", "--model", "m", "--table", "rows", "--key", "id", "--into", "s", "--label-into", "lab",
                    "--chunk-size", "20", "--quiet", "--db", conn.dsn)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("scored 50 rows of rows into s and their classes into lab with m v1 in "), r.stdout
    assert [v for (v,) in query(conn, "SELECT lab FROM rows ORDER BY id")] == want
    assert query(conn, "SELECT count(*), count(DISTINCT entity_key), count(label) FROM pgscore.prediction_log") \
        == [(50, 50, 50)]

    query(conn, "UPDATE rows SET s = NULL, lab = NULL; TRUNCATE pgscore.prediction_log")

    monkeypatch.setattr(scoring, "_progress", lambda *a: StopAtFirstChunk())
    code = cli.main(["score", "--model", "m", "--table", "rows", "--key", "id", "--into", "s", "--label-into", "lab",
                     "--where", "lab IS NULL", "--chunk-size", "15", "--db", conn.dsn])
    said = capsys.readouterr().err
    assert code == 130, said
    assert "resume with: --after=29 --version 1 --where='lab IS NULL' --label-into=lab" in said, said
    assert query(conn, "SELECT count(s), count(lab) FROM rows") == [(30, 30)]
    line = said.split("resume with: ", 1)[1].splitlines()[0]
    r = pgscore_cli("score", "--model", "m", "--table", "rows", "--key", "id", "--into", "s", "--chunk-size", "15",
                    "--quiet", *shlex.split(line), "--db", conn.dsn)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("scored 20 rows of rows where lab IS NULL into s and their classes into lab with m v1 "), \
        r.stdout
    assert [v for (v,) in query(conn, "SELECT lab FROM rows ORDER BY id")] == want
    assert query(conn, "SELECT count(*), count(DISTINCT entity_key), count(label) FROM pgscore.prediction_log") \
        == [(50, 50, 50)]


def test_pgscore_score_label_into_a_column_another_run_labels_is_refused(conn):
    """The run holds the label column's lock too: another run writing labels into it (with scores into another
    column) would log every prediction twice."""
    deploy(conn.dsn, "logit")
    load_rows(conn, X[:20])
    query(conn, "ALTER TABLE rows ADD COLUMN s2 float8")
    other = psycopg2.connect(conn.dsn)
    try:
        other.autocommit = True
        with other.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(a.attrelid::int4, a.attnum::int4) FROM pg_attribute a "
                        "WHERE a.attrelid = 'rows'::regclass AND a.attname = 'lab'")
        r = pgscore_cli("score", "--model", "m", "--table", "rows", "--key", "id", "--into", "s2", "--label-into",
                        "lab", "--quiet", "--db", conn.dsn)
        assert r.returncode == 75, r  # (another run holds the column: try again later, session 64)
        # (refused by the run before its first chunk, not by score_chunk's lock on the column, inside one)
        assert "another session is scoring rows.lab (process" in r.stderr, r.stderr
        assert "; nothing was scored" in r.stderr, r.stderr
        # the score column's lock went with the refusal: a run into s2 alone goes
        r = pgscore_cli("score", "--model", "m", "--table", "rows", "--key", "id", "--into", "s2", "--quiet",
                        "--db", conn.dsn)
        assert r.returncode == 0, r.stderr
    finally:
        other.close()
    assert query(conn, "SELECT count(s2), count(lab) FROM rows") == [(20, 0)]


def test_a_score_column_the_table_lacks_lets_the_label_columns_lock_go(conn, capsys):
    """--into misspelt with --label-into: refused as the score column the table lacks, and the label column's lock,
    taken meanwhile, let go in its own session (it was let go as process None's: a warning said the lock stayed
    with `process None`, and on a caller's connection it stayed, refusing every later run on the column)."""
    from pgscore import scoring

    deploy(conn.dsn, "logit")
    load_rows(conn, X[:20])
    r = pgscore_cli("score", "--model", "m", "--table", "rows", "--key", "id", "--into", "ss", "--label-into", "lab",
                    "--quiet", "--db", conn.dsn)
    assert r.returncode == 1, r
    assert "has no column 'ss' (the score column)" in r.stderr and "(SQLSTATE 42703)" in r.stderr, r.stderr
    assert "warning" not in r.stderr and "None" not in r.stderr, r.stderr
    caller = psycopg2.connect(conn.dsn)
    try:
        with pytest.raises(Exception, match="has no column 'ss'"):
            scoring.score_table(caller, "m", "rows", "id", "ss", progress=False, label_into="lab")
        assert "warning" not in capsys.readouterr().err
        caller.rollback()
        with caller.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
            assert cur.fetchone() == (0,)
    finally:
        caller.close()
    assert query(conn, "SELECT count(s), count(lab) FROM rows") == [(0, 0)]


def test_pgscore_score_label_into_skip_unscorable_leaves_the_rows_label_and_says_so(conn, tmp_path):
    """--skip-unscorable with --label-into: a row the model cannot score gets neither a score nor a class, the rest
    of its chunk both; the list of rows left says the label column is untouched too (it named the score column
    alone)."""
    est = fitted("logit")
    deploy(conn.dsn, "logit")  # (compiled: it cannot take a NULL)
    x = X[:30]
    load_rows(conn, x)
    query(conn, "UPDATE rows SET age = NULL WHERE id IN (7, 8)")
    r = pgscore_cli("score", "--model", "m", "--table", "rows", "--key", "id", "--into", "s", "--label-into", "lab",
                    "--chunk-size", "10", "--skip-unscorable", "--quiet", "--db", conn.dsn)
    assert r.returncode == 3, r
    assert "pgscore: 2 rows were left unscored, which the model cannot score (s and lab untouched, nothing logged " \
           "for them):\n" in r.stdout, r.stdout
    want = [str(v) for v in est.predict(x)]
    got = query(conn, "SELECT id, s, lab FROM rows ORDER BY id")
    assert [(i, s, lab) for i, s, lab in got if i in (7, 8)] == [(7, None, None), (8, None, None)]
    assert [lab for i, _, lab in got if i not in (7, 8)] == [w for i, w in enumerate(want) if i not in (7, 8)]
    assert query(conn, "SELECT count(*), count(label) FROM pgscore.prediction_log WHERE entity_key NOT IN ('7', '8')") \
        == [(28, 28)]


def test_a_character_n_label_column_holds_each_class_whole_or_refuses_it(conn):
    """The classes were cast to the column's type as format_type names it without a typmod: `character`, which a
    cast reads as character(1), so a character(5) column got 'h', 'l', 'm' for high, low, mid (and a domain over
    character(3) the class cut short), with nothing said. Cast to bpchar, a class is written whole or refused; a
    "char" column, which keeps a class's first byte, is refused too."""
    deploy(conn.dsn, "hgb_text")  # classes 'high', 'low', 'mid'
    load_rows(conn, X[:30], label_type="character(5)")
    call = "CALL pgscore.score_table('m', 'rows', 'id', 's', 10, p_label_into => 'lab')"
    query(conn, call)
    want = [str(v) for v in fitted("hgb_text").predict(X[:30])]
    assert [v.rstrip() for (v,) in query(conn, "SELECT lab FROM rows ORDER BY id")] == want
    query(conn, "CREATE DOMAIN short_char AS character(3)")
    for typ in ("character(3)", "character", "short_char", '"char"'):
        query(conn, f"UPDATE rows SET s = NULL; ALTER TABLE rows DROP COLUMN lab; ALTER TABLE rows ADD COLUMN lab {typ}")
        e = sql_error(conn, call)
        assert e.pgcode == "42804", (typ, e)
        assert "which cannot hold the class" in e.diag.message_primary and "'high'" in e.diag.message_primary, \
            (typ, e.diag.message_primary)
        assert query(conn, "SELECT count(s), count(lab) FROM rows") == [(0, 0)], typ


def test_a_role_that_may_not_update_the_label_column_is_told_which_column_and_what_to_grant(conn):
    """A role granted pgscore_app and UPDATE on the score column alone got PostgreSQL's `permission denied for table
    rows` from the chunk's UPDATE, which names no column (and the role may update the table's score column): refused
    before a row is written, naming the label column and the GRANT it lacks. The role with UPDATE on both labels."""
    deploy(conn.dsn, "logit")
    load_rows(conn, X[:20])
    ensure_role(conn, "pgscore_t_labeller")
    query(conn, "GRANT pgscore_app TO pgscore_t_labeller; GRANT SELECT, UPDATE (s) ON rows TO pgscore_t_labeller")
    query(conn, "SET ROLE pgscore_t_labeller")
    try:
        for sql in ("CALL pgscore.score_table('m', 'rows', 'id', 's', 10, p_label_into => 'lab')",
                    "SELECT * FROM pgscore.score_chunk('m', 'rows', 'id', 's', p_label_into => 'lab')"):
            e = sql_error(conn, sql)
            assert e.pgcode == "42501", e
            assert e.diag.message_primary == ("pgscore: role pgscore_t_labeller may not UPDATE column 'lab' of "
                                              "public.rows (the label column of model m v1); nothing was written"), \
                e.diag.message_primary
            assert e.diag.message_hint == "GRANT UPDATE (lab) ON public.rows TO pgscore_t_labeller", \
                e.diag.message_hint
        query(conn, "RESET ROLE")
        assert query(conn, "SELECT count(s), count(lab) FROM rows") == [(0, 0)]
        query(conn, "GRANT UPDATE (lab) ON rows TO pgscore_t_labeller; SET ROLE pgscore_t_labeller")
        query(conn, "CALL pgscore.score_table('m', 'rows', 'id', 's', 10, p_label_into => 'lab')")
    finally:
        query(conn, "RESET ROLE")
    assert query(conn, "SELECT count(s), count(lab) FROM rows") == [(20, 20)]


def test_a_label_column_named_as_a_feature_of_a_features_array_table_is_written(conn):
    """A table whose features are its float8[] column `features` reads no feature by name: a label column named as
    one of the model's features (age) holds no feature there, as a score column so named does not, and was refused
    as one (22023, "its labels would replace its values")."""
    deploy(conn.dsn, "hgb_text")
    x = X[:20]
    query(conn, "CREATE TABLE arr (id int PRIMARY KEY, features float8[], s float8, age text)")
    with conn.cursor() as cur:
        for i, r in enumerate(x.tolist()):
            cur.execute("INSERT INTO arr VALUES (%s, %s::float8[], NULL, NULL)", (i, r))
    assert query(conn, "SELECT count(*), min(array_length(features, 1)) FROM arr") == [(20, len(NAMES))]
    query(conn, "CALL pgscore.score_table('m', 'arr', 'id', 's', 10, p_label_into => 'age')")
    assert [v for (v,) in query(conn, "SELECT age FROM arr ORDER BY id")] == [str(v) for v in fitted("hgb_text").predict(x)]


def test_a_check_constraint_of_the_label_column_that_refuses_a_class_is_said_before_anything_is_written(conn):
    """A domain's CHECK that refuses a class was refused before any row was written, a table's CHECK on the label
    column only at the first chunk that predicted that class: the run stopped half done (PostgreSQL's 23514 on a row
    of its own). Refused first too, naming the constraint and the class; a check the classes pass is no bar."""
    deploy(conn.dsn, "logit")  # classes 0, 1, 2
    load_rows(conn, X[:60], label_type="integer CONSTRAINT low_lab CHECK (lab < 2) CHECK (lab >= 0)")
    call = "CALL pgscore.score_table('m', 'rows', 'id', 's', 5, p_label_into => 'lab')"
    e = sql_error(conn, call)
    assert e.pgcode == "23514", e
    assert e.diag.message_primary == ("pgscore: column 'lab' of public.rows has a check constraint, low_lab, that "
                                      "refuses the class '2' of model m v1 (the label column); nothing was written"), \
        e.diag.message_primary
    assert e.diag.message_detail == "low_lab: CHECK ((lab < 2))", e.diag.message_detail
    assert query(conn, "SELECT count(s), count(lab) FROM rows") == [(0, 0)]
    assert query(conn, "SELECT count(*) FROM pgscore.prediction_log") == [(0,)]
    query(conn, "ALTER TABLE rows DROP CONSTRAINT low_lab")
    query(conn, call)
    assert query(conn, "SELECT count(s), count(lab) FROM rows") == [(60, 60)]


def test_a_score_column_made_again_as_text_in_the_same_session_is_refused_as_it_is_at_first(conn):
    """A backend's plans for a table were kept by the label column's type and not the score column's: a score column
    dropped and added again as text between two calls of one session got the scores written as text (the plans of
    the float8 column, whose float8 PostgreSQL assigns to text), where a first call is refused (42804)."""
    deploy(conn.dsn, "logit")
    load_rows(conn, X[:20])
    chunk = "SELECT * FROM pgscore.score_chunk('m', 'rows', 'id', 's', NULL, 5, p_log => false, p_label_into => 'lab')"
    assert query(conn, chunk) == [(5, "4", 1)]
    query(conn, "ALTER TABLE rows DROP COLUMN s; ALTER TABLE rows ADD COLUMN s text")
    e = sql_error(conn, chunk)
    assert e.pgcode == "42804" and "column 's' of public.rows is text; scores need" in e.diag.message_primary, e
    assert query(conn, "SELECT count(s) FROM rows") == [(0,)]


def test_a_generated_score_or_label_column_is_refused_before_anything_is_written(conn):
    """A score or label column PostgreSQL takes no UPDATE of (GENERATED ALWAYS AS (...) STORED, GENERATED ALWAYS AS
    IDENTITY) failed at the first chunk's UPDATE with PostgreSQL's bare `column "s" can only be updated to DEFAULT`:
    refused up front, naming the model, table, column and why, in score_table and score_chunk. A GENERATED BY
    DEFAULT AS IDENTITY column takes an UPDATE: labelled."""
    deploy(conn.dsn, "logit")  # classes 0, 1, 2
    load_rows(conn, X[:20])
    query(conn, "ALTER TABLE rows ADD COLUMN g float8 GENERATED ALWAYS AS (age * 2) STORED, "
                "ADD COLUMN gl text GENERATED ALWAYS AS (age::text) STORED, "
                "ADD COLUMN ia int GENERATED ALWAYS AS IDENTITY, ADD COLUMN ib int GENERATED BY DEFAULT AS IDENTITY")
    cases = [("g", None, "score", "GENERATED ALWAYS AS ((age * (2)::double precision)) STORED",
              "score into a column of its own: ALTER TABLE public.rows ADD COLUMN score float8"),
             ("s", "gl", "label", "GENERATED ALWAYS AS ((age)::text) STORED",
              "write the labels into a column of their own: ALTER TABLE public.rows ADD COLUMN predicted_class text"),
             ("s", "ia", "label", "GENERATED ALWAYS AS IDENTITY",
              "write the labels into a column of their own: ALTER TABLE public.rows ADD COLUMN predicted_class text; "
              "or let an UPDATE write it: ALTER TABLE public.rows ALTER COLUMN ia SET GENERATED BY DEFAULT")]
    for into, label_into, what, how, hint in cases:
        col = label_into or into
        for sql in ("CALL pgscore.score_table('m', 'rows', 'id', %s, 10, p_label_into => %s)",
                    "SELECT * FROM pgscore.score_chunk('m', 'rows', 'id', %s, p_label_into => %s)"):
            e = sql_error(conn, sql, (into, label_into))
            assert e.pgcode == "428C9", (col, e)
            assert e.diag.message_primary == (f"pgscore: column '{col}' of public.rows is {how}, which no UPDATE may "
                                              f"write: it cannot take model m v1's {what}s (the {what} column); "
                                              "nothing was written"), e.diag.message_primary
            assert e.diag.message_hint == hint, e.diag.message_hint
    assert query(conn, "SELECT count(s) FROM rows") == [(0,)]
    assert query(conn, "SELECT count(*) FROM pgscore.prediction_log") == [(0,)]
    want = [int(v) for v in fitted("logit").predict(X[:20])]
    assert query(conn, "CALL pgscore.score_table('m', 'rows', 'id', 's', 10, p_label_into => 'ib')") == [(20,)]
    assert [v for (v,) in query(conn, "SELECT ib FROM rows ORDER BY id")] == want


def test_a_role_that_may_not_update_the_score_column_is_told_which_column_and_what_to_grant(conn):
    """A role that may update the label column (or none) but not the score column got PostgreSQL's bare
    `permission denied for table rows` (42501) from the chunk's UPDATE: refused before a row is written, naming the
    score column and the GRANT it lacks, as the label column's refusal does."""
    deploy(conn.dsn, "logit")
    load_rows(conn, X[:20])
    ensure_role(conn, "pgscore_t_scorer")
    query(conn, "GRANT pgscore_app TO pgscore_t_scorer; GRANT SELECT, UPDATE (lab) ON rows TO pgscore_t_scorer")
    query(conn, "SET ROLE pgscore_t_scorer")
    try:
        for sql in ("CALL pgscore.score_table('m', 'rows', 'id', 's', 10, p_label_into => 'lab')",
                    "CALL pgscore.score_table('m', 'rows', 'id', 's', 10)",
                    "SELECT * FROM pgscore.score_chunk('m', 'rows', 'id', 's', p_label_into => 'lab')",
                    "SELECT * FROM pgscore.score_chunk('m', 'rows', 'id', 's', p_log => false)"):
            e = sql_error(conn, sql)
            assert e.pgcode == "42501", (sql, e)
            assert e.diag.message_primary == ("pgscore: role pgscore_t_scorer may not UPDATE column 's' of "
                                              "public.rows (the score column of model m v1); nothing was written"), \
                e.diag.message_primary
            assert e.diag.message_hint == "GRANT UPDATE (s) ON public.rows TO pgscore_t_scorer", e.diag.message_hint
        query(conn, "RESET ROLE")
        assert query(conn, "SELECT count(s), count(lab) FROM rows") == [(0, 0)]
        query(conn, "GRANT UPDATE (s) ON rows TO pgscore_t_scorer; SET ROLE pgscore_t_scorer")
        query(conn, "CALL pgscore.score_table('m', 'rows', 'id', 's', 10, p_label_into => 'lab')")
    finally:
        query(conn, "RESET ROLE")
    assert query(conn, "SELECT count(s), count(lab) FROM rows") == [(20, 20)]


def test_the_score_and_the_label_in_one_column_are_refused_in_plain_words(conn):
    """p_label_into the same column as p_into (pgscore score --label-into as --into): a float8 column was refused as
    a label column that is 'its score column (p_into)', a text one as a score column of the wrong type whose hint
    said to write the class with p_label_into => that same column; both now say the score and the class need a
    column each, in SQL and in the CLI (before it connects)."""
    deploy(conn.dsn, "hgb_text")
    load_rows(conn, X[:10])
    for col in ("s", "lab"):
        for sql in ("CALL pgscore.score_table('m', 'rows', 'id', %s, p_label_into => %s)",
                    "SELECT * FROM pgscore.score_chunk('m', 'rows', 'id', %s, p_label_into => %s)"):
            e = sql_error(conn, sql, (col, col))
            assert e.pgcode == "22023", (col, e)
            assert e.diag.message_primary == (f"pgscore: p_into and p_label_into both name column '{col}' of "
                                              "public.rows: model m v1's score and its predicted class need a "
                                              "column each"), e.diag.message_primary
            assert e.diag.message_hint == ("write the class into a column of its own: ALTER TABLE public.rows ADD "
                                           "COLUMN predicted_class text, then p_label_into => 'predicted_class' "
                                           "(pgscore score --label-into predicted_class)"), e.diag.message_hint
        r = pgscore_cli("score", "--model", "m", "--table", "rows", "--key", "id", "--into", col, "--label-into", col,
                        "--quiet", "--db", "postgresql://nobody@127.0.0.1:1/none")
        assert r.returncode == 2, r
        assert (f"--label-into {col} is the --into column: the score and the predicted class need a column each"
                in r.stderr), r.stderr
        assert "--label-into predicted_class" in r.stderr, r.stderr
    assert query(conn, "SELECT count(s), count(lab) FROM rows") == [(0, 0)]


def test_score_tables_resume_hints_repeat_p_label_into_and_p_log(conn):
    """score_table's progress NOTICE and the HINT of a chunk's error after committed chunks said to CALL it again
    with p_after (and p_version) alone: a user who followed them resumed without p_label_into (the rest of the rows
    unlabelled) or with p_log back on. They repeat p_label_into and p_log => false where the run was given them, as
    pgscore score's resume line repeats --label-into and --no-log."""
    deploy(conn.dsn, "logit")
    load_rows(conn, X[:30])
    query(conn, "UPDATE rows SET age = NULL WHERE id = 17")  # the third chunk of 7
    del conn.notices[:]
    e = sql_error(conn, "CALL pgscore.score_table('m', 'rows', 'id', 's', 7, p_log => false, p_progress => '0', "
                        "p_label_into => 'lab')")
    assert e.pgcode == "22023" and "(key '17')" in e.diag.message_primary, e
    assert ("CALL it again with p_after => '13', p_version => 1, p_label_into => 'lab', p_log => false to go on "
            "after them") in e.diag.message_hint, e.diag.message_hint
    notes = [n for n in conn.notices if "pgscore.score_table" in n]
    assert ("CALL it again with p_after => '6', p_version => 1, p_label_into => 'lab', p_log => false to go on after "
            "them") in notes[0], notes[0]
    assert query(conn, "SELECT count(s), count(lab) FROM rows") == [(14, 14)]
    assert query(conn, "SELECT count(*) FROM pgscore.prediction_log") == [(0,)]
    # as the hint says, once the row is fixed: the rest, labelled and not logged
    query(conn, "UPDATE rows SET age = 40 WHERE id = 17")
    call = e.diag.message_hint.split("CALL it again with ", 1)[1].split(" to go on after them")[0]
    assert query(conn, f"CALL pgscore.score_table('m', 'rows', 'id', 's', 7, {call})") == [(16,)]
    assert query(conn, "SELECT count(s), count(lab) FROM rows") == [(30, 30)]
    assert query(conn, "SELECT count(*) FROM pgscore.prediction_log") == [(0,)]
    # a run given neither: as before (its label column's name quoted as SQL writes a literal)
    query(conn, "UPDATE rows SET s = NULL, age = NULL WHERE id = 17")
    e = sql_error(conn, "CALL pgscore.score_table('m', 'rows', 'id', 's', 7)")
    assert e.diag.message_hint.endswith("CALL it again with p_after => '13', p_version => 1 to go on after them"), \
        e.diag.message_hint


def test_the_hint_of_an_unwritable_column_named_score_or_predicted_class_adds_a_column_the_table_has_not(conn):
    """A generated score column named score (label column named predicted_class), or the one column named for both:
    the hint said ALTER TABLE ... ADD COLUMN score float8 (predicted_class text), which fails with 'column "score"
    already exists'. It names a column the table has not, as the refusal of a column a generated feature is computed
    from does."""
    deploy(conn.dsn, "logit")
    load_rows(conn, X[:10])
    query(conn, "ALTER TABLE rows ADD COLUMN score float8 GENERATED ALWAYS AS (age * 2) STORED, "
                "ADD COLUMN predicted_class text GENERATED ALWAYS AS (age::text) STORED, "
                "ADD COLUMN score_2 float8, ADD COLUMN predicted_class_2 text")
    e = sql_error(conn, "CALL pgscore.score_table('m', 'rows', 'id', 'score')")
    assert e.pgcode == "428C9", e
    assert e.diag.message_hint == "score into a column of its own: ALTER TABLE public.rows ADD COLUMN score_3 float8", \
        e.diag.message_hint
    e = sql_error(conn, "CALL pgscore.score_table('m', 'rows', 'id', 's', p_label_into => 'predicted_class')")
    assert e.pgcode == "428C9", e
    assert e.diag.message_hint == ("write the labels into a column of their own: ALTER TABLE public.rows ADD COLUMN "
                                   "predicted_class_3 text"), e.diag.message_hint
    e = sql_error(conn, "SELECT * FROM pgscore.score_chunk('m', 'rows', 'id', 'predicted_class_2', "
                        "p_label_into => 'predicted_class_2')")
    assert e.pgcode == "22023", e
    assert e.diag.message_hint == ("write the class into a column of its own: ALTER TABLE public.rows ADD COLUMN "
                                   "predicted_class_3 text, then p_label_into => 'predicted_class_3' (pgscore score "
                                   "--label-into predicted_class_3)"), e.diag.message_hint
    for hint in ("ALTER TABLE public.rows ADD COLUMN score_3 float8",
                 "ALTER TABLE public.rows ADD COLUMN predicted_class_3 text"):
        query(conn, hint)  # as the hints say: it runs
    assert query(conn, "CALL pgscore.score_table('m', 'rows', 'id', 'score_3', p_label_into => 'predicted_class_3')") \
        == [(10,)]


def test_score_tables_progress_hint_resumes_with_the_runs_version(conn):
    """score_table's progress NOTICE said to CALL it again with p_after (and p_label_into, p_log) but not p_version,
    which its error's HINT and pgscore score's resume line give: a run interrupted, a version made live meanwhile,
    and the NOTICE's CALL pasted as it is scored the rest with the new version, the first part with the old. It
    repeats p_version => the run's version."""
    deploy(conn.dsn, "logit")
    load_rows(conn, X[:30])
    query(conn, "UPDATE rows SET age = NULL WHERE id = 17")  # the third chunk of 7: the run stops there
    del conn.notices[:]
    sql_error(conn, "CALL pgscore.score_table('m', 'rows', 'id', 's', 7, p_progress => '0', p_label_into => 'lab')")
    notes = [n for n in conn.notices if "pgscore.score_table" in n]
    assert "CALL it again with p_after => '6', p_version => 1, p_label_into => 'lab' to go on after them" \
        in notes[0], notes[0]
    call = notes[0].split("CALL it again with ", 1)[1].split(" to go on after them")[0]
    rec = registry.deploy(conn.dsn, "m", fitted("logit"), X, MODELS["logit"][1], feature_names=NAMES)  # v2, live
    assert (rec["version"], rec["live"]) == (2, True), rec
    query(conn, "UPDATE rows SET age = 40 WHERE id = 17")
    query(conn, f"CALL pgscore.score_table('m', 'rows', 'id', 's', 7, {call})")
    assert query(conn, "SELECT DISTINCT version FROM pgscore.predictions ORDER BY 1") == [(1,)]
    assert query(conn, "SELECT count(s), count(lab) FROM rows") == [(30, 30)]


def test_the_hint_of_a_text_column_named_score_adds_a_column_the_table_has_not(conn):
    """A text column named score given as the score column (42804): the hint said ALTER TABLE ... ADD COLUMN score
    float8, which fails with 'column "score" already exists'; it names a column the table has not."""
    deploy(conn.dsn, "logit")
    load_rows(conn, X[:5])
    query(conn, "ALTER TABLE rows ADD COLUMN score text")
    e = sql_error(conn, "CALL pgscore.score_table('m', 'rows', 'id', 'score')")
    assert e.pgcode == "42804", e
    assert e.diag.message_hint.startswith("score into a column of its own (ALTER TABLE public.rows ADD COLUMN score_2 "
                                          "float8)"), e.diag.message_hint
