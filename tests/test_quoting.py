"""Names and text beyond ASCII in a database that is neither UTF8 nor SQL_ASCII (LATIN1 here): PL/Python passes
a statement's UTF-8 bytes, so pgscore writes such statements in ASCII (pgscore.quoting)."""

import numpy as np
import psycopg2
import pytest
from psycopg2 import sql
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from helpers import query
from pgscore import migrate, registry
from pgscore.errors import PgscoreError
from pgscore.quoting import ascii_sql

NAMES = ["größe", "été", "Straße"]


def test_ascii_sql_writes_names_and_strings_beyond_ascii_as_unicode_escapes():
    assert ascii_sql('SELECT "größe" FROM public."Ereignisse_Ä" -- ä', True, "LATIN1") == \
        'SELECT U&"gr\\00F6\\00DFe" FROM public.U&"Ereignisse_\\00C4" -- ?'
    assert ascii_sql("SELECT 'a\\b ü', E'x\\'ü', N'ñ', 'it''s é', \"a\"\"ä\\\"", True, "LATIN1") == \
        "SELECT E'a\\\\b \\u00FC', E'x\\'\\u00FC', E'\\u00F1', E'it''s \\u00E9', U&\"a\"\"\\00E4\\\\\""
    # with standard_conforming_strings off a plain string reads backslashes as E'' does
    assert ascii_sql("SELECT 'a\\b ü', 'it\\'s é'", False, "LATIN1") == "SELECT E'a\\b \\u00FC', E'it\\'s \\u00E9'"
    assert ascii_sql("SELECT 1 /* ä /* ö */ ü */, $1, a$b, '日本'", True, "EUC_JP") == \
        "SELECT 1 /* ? /* ? */ ? */, $1, a$b, E'\\u65E5\\u672C'"
    plain = "SELECT \"x\" FROM t WHERE a = 'b'"
    assert ascii_sql(plain, True, "LATIN1") is plain


@pytest.mark.parametrize("bad", ["SELECT größe FROM t", "SELECT $x$ä$x$", "SELECT U&'ä'", 'SELECT U&"ä"'])
def test_ascii_sql_refuses_what_it_cannot_escape(bad):
    with pytest.raises(PgscoreError) as e:
        ascii_sql(bad, True, "LATIN1")
    assert e.value.sqlstate == "0A000" and "LATIN1" in e.value.message and "U&" in e.value.hint


@pytest.fixture(scope="module")
def latin1(cluster, template_db):
    """A LATIN1 database (C locale: no OS locale needed) with pgscore, the models fahrt (linear: rescoring
    in one SQL statement) and baum (a tree: scored in Python), both on the features größe, été, Straße."""
    admin = psycopg2.connect(cluster.url("postgres"))
    admin.autocommit = True
    query(admin, "CREATE DATABASE pgscore_latin1 TEMPLATE template0 ENCODING 'LATIN1' LC_COLLATE 'C' "
                 "LC_CTYPE 'C'")
    url = cluster.url("pgscore_latin1")
    try:
        migrate.upgrade(url)
        rng = np.random.default_rng(0)
        X = rng.normal(size=(300, 3))
        y = np.where(X[:, 0] + X[:, 1] > 0, "übrig", "geblieben")
        registry.deploy(url, "fahrt", LogisticRegression().fit(X, y), X, y, feature_names=NAMES)
        registry.deploy(url, "baum", DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y), X, y,
                        feature_names=NAMES)
        yield url
    finally:
        query(admin, "DROP DATABASE pgscore_latin1 WITH (FORCE)")
        admin.close()


@pytest.fixture
def lat(latin1):
    c = psycopg2.connect(latin1)
    c.autocommit = True
    yield c
    c.close()


@pytest.mark.parametrize("model", ["fahrt", "baum"])
def test_rescoring_names_and_strings_beyond_ascii_in_latin1(lat, model):
    """Before, attach failed with 'relation "public.Ereignisse_Ä" does not exist' (its name reached the server
    as "Ereignisse_Ã\\x84"), and a counter's 'Rückgabe' would have matched no event."""
    events, profiles = f"Ereignisse_Ä_{model}", f"Kunden_{model}"
    query(lat, sql.SQL('CREATE TABLE {} ("Kunden-Nr" int PRIMARY KEY, "größe" float8 DEFAULT 0, '
                       '"été" float8 DEFAULT 0, "Straße" float8 DEFAULT 0, "Punktzahl" float8, scored_at timestamptz)'
                       ).format(sql.Identifier(profiles)))
    query(lat, sql.SQL('CREATE TABLE {} (id serial PRIMARY KEY, "Kunden-Nr" int, "Betrag" float8, "Art" text)')
          .format(sql.Identifier(events)))
    query(lat, "SELECT pgscore.attach_rescoring(%s, %s, 'Kunden-Nr', %s, 'Punktzahl', %s)",
          (sql.Identifier(events).as_string(lat), sql.Identifier(profiles).as_string(lat), model,
           '{"größe": "count", "été": {"add": "coalesce(e.\\"Betrag\\", 0)"}, '
           '"Straße": {"recompute": "count(*) FILTER (WHERE e.\\"Art\\" = \'Rückgabe\')"}}'))
    query(lat, sql.SQL('INSERT INTO {} ("Kunden-Nr", "Betrag", "Art") VALUES (1, 2.5, \'Rückgabe\'), '
                       "(1, 1, 'Kauf'), (2, -3, 'Rückgabe'), (3, 0.5, 'Kauf')").format(sql.Identifier(events)))
    got = query(lat, sql.SQL('SELECT "Kunden-Nr", "größe", "été", "Straße", "Punktzahl" FROM {} ORDER BY 1')
                .format(sql.Identifier(profiles)))
    assert [r[:4] for r in got] == [(1, 2, 3.5, 1), (2, 1, -3, 1), (3, 1, 0.5, 0)]
    for k, *features, score in got:
        assert score == pytest.approx(query(lat, "SELECT pgscore.score(%s, %s::float8[])", (model, features))[0][0])
    assert query(lat, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
    batch = query(lat, "SELECT key, score FROM pgscore.predict_batch(%s, %s) ORDER BY 1",
                  (model, sql.SQL('SELECT "Kunden-Nr" AS key, "größe", "été", "Straße" FROM {}')
                   .format(sql.Identifier(profiles)).as_string(lat)))
    assert [(int(k), pytest.approx(s)) for k, s in batch] == [(r[0], r[4]) for r in got]
    assert query(lat, "SELECT pgscore.predict(%s, ARRAY[1, 1, 0]::float8[])", (model,)) == [("übrig",)]


@pytest.mark.parametrize("standard", [True, False])
def test_ascii_sql_reads_as_the_statement_it_rewrites(lat, standard):
    """The server reads each rewritten statement as it reads the statement itself (sent by psycopg2, in the
    database's encoding). A backslash before a character beyond ASCII in a string read with escapes (E'\\Ä';
    '\\Ä' with standard_conforming_strings off), which stands for the character, was written E'\\\\u00C4': a
    backslash and 'u00C4'."""
    query(lat, "SET standard_conforming_strings = " + ("on" if standard else "off"))
    query(lat, "SET escape_string_warning = off")
    for stmt in ["SELECT E'\\Ä', E'\\\\Ö', E'x\\'ü', E'\\\\\\é'", "SELECT 'it''s é', 'a\\b ü', N'ñ', '\\Ä'",
                 'SELECT 1 AS "Ä""b", \'ü\' /* \'ö */ -- é\n']:
        assert query(lat, ascii_sql(stmt, standard, "LATIN1")) == query(lat, stmt), stmt


def test_a_bare_name_beyond_ascii_is_refused_in_latin1(lat):
    """A name the server would downcase (written without quotes) cannot be escaped: refused, naming it, where
    before its mangled name was 'column ... does not exist'."""
    query(lat, 'CREATE TABLE kunden_bare (id int PRIMARY KEY, "größe" float8, "été" float8, "Straße" float8)')
    with pytest.raises(psycopg2.errors.FeatureNotSupported) as e:
        query(lat, "SELECT * FROM pgscore.predict_batch('fahrt', 'SELECT id AS key, größe, \"été\", \"Straße\" "
                   "FROM kunden_bare')")
    assert "größe" in e.value.diag.message_primary and "LATIN1" in e.value.diag.message_primary
    assert "U&" in e.value.diag.message_hint


def test_the_cli_refuses_text_beyond_ascii_for_a_sql_ascii_database_clearly(cluster, template_db):
    """psycopg2 sends only ASCII to a SQL_ASCII database: a --reason beyond ASCII ended in a Python traceback
    (UnicodeEncodeError); now an error naming the text, exit 1, and the retire not done."""
    from helpers import pgscore_cli

    admin = psycopg2.connect(cluster.url("postgres"))
    admin.autocommit = True
    query(admin, "CREATE DATABASE pgscore_sqlascii TEMPLATE template0 ENCODING 'SQL_ASCII' LC_COLLATE 'C' "
                 "LC_CTYPE 'C'")
    url = cluster.url("pgscore_sqlascii")
    try:
        migrate.upgrade(url)
        rng = np.random.default_rng(0)
        X = rng.normal(size=(100, 2))
        y = (X[:, 0] > 0).astype(int)
        registry.deploy(url, "plain", LogisticRegression().fit(X, y), X, y, feature_names=["a", "b"])
        r = pgscore_cli("retire", "plain", "--reason", "Größe", "--db", url)
        assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
        assert "'öß'" in r.stderr and "SQL_ASCII" in r.stderr, r.stderr
        assert query(url, "SELECT count(*) FROM pgscore.live_models") == [(1,)]  # not retired
    finally:
        query(admin, "DROP DATABASE pgscore_sqlascii WITH (FORCE)")
        admin.close()


def test_erasure_finds_a_key_as_python_s_repr_writes_it_in_latin1(lat):
    """(session 68) erase_entity makes a key's Python repr in SQL, a character beyond ASCII that Python does not print
    (a C1 control, a no-break space) escaped as repr escapes it: in a LATIN1 database too (code points as ascii()
    gives them), each key's repr in a reason found, a printable é kept as itself."""
    keys = ["caf\xe9\x85", "nb\xa0sp\xe9", "it's \"\xe9\""]
    c = psycopg2.connect(lat.dsn)
    try:
        cur = c.cursor()
        cur.executemany("INSERT INTO pgscore.error_queue (model_name, profile_table, entity_key, reason) "
                        "VALUES ('fahrt', 'public.t', %s, %s)",
                        [(f"h{i}", f"KeyError: {k!r}") for i, k in enumerate(keys)])
        got = []
        for k in keys:
            cur.execute("SELECT rows FROM pgscore.erase_entity(%s, 'fahrt') WHERE table_name = "
                        "'pgscore.error_queue (reason)'", (k,))
            got.append(cur.fetchone()[0])
    finally:
        c.rollback()
        c.close()
    assert got == [1, 1, 1], got
