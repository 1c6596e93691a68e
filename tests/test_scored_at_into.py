"""score_table's p_scored_at_into, score_chunk's, and pgscore score --scored-at-into (migration 0130): the time each
row was scored (its chunk's transaction's now()) written in the same UPDATE as its score, so an incremental run's
`--where "scored_at IS NULL OR updated_at > scored_at"` finds every row changed after its chunk read it (a stamp
UPDATE after the run, the docs' recipe before, stamped rows changed meanwhile as fresh: user trial hT8, finding 3);
what a scored-at column cannot be, refused before anything is written."""

import shlex

import psycopg2
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from helpers import StopAtFirstChunk, pgscore_cli, query
from pgscore import datasets, registry

X, Y, NAMES = datasets.churn(300, seed=11)


def deploy(url, kind):
    # linear: its chunks are scored in one SQL statement (compiled.score_sql); hgb: through numpy
    est = (make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)) if kind == "linear"
           else HistGradientBoostingClassifier(max_iter=15, random_state=0)).fit(X, Y)
    registry.deploy(url, "m", est, X, Y, feature_names=NAMES)


def load_rows(conn, n=100, at="timestamptz"):
    query(conn, "CREATE TABLE rows (id int PRIMARY KEY, " + ", ".join(f"{c} float8" for c in NAMES)
          + f", s float8, lab text, at {at}, note text)")
    with conn.cursor() as cur:
        for i, r in enumerate(X[:n].tolist()):
            cur.execute(f"INSERT INTO rows VALUES (%s, {', '.join(['%s'] * len(NAMES))})", (i, *r))


def sql_error(conn, sql, params=None):
    with pytest.raises(psycopg2.Error) as e:
        query(conn, sql, params)
    return e.value


@pytest.mark.parametrize("kind", ["linear", "hgb"])
def test_score_table_writes_each_chunks_time_with_its_scores(conn, kind):
    deploy(conn.dsn, kind)
    load_rows(conn)
    (before,), = query(conn, "SELECT clock_timestamp()")
    query(conn, "CALL pgscore.score_table('m', 'rows', 'id', 's', 30, p_scored_at_into => 'at')")
    (after,), = query(conn, "SELECT clock_timestamp()")
    got = query(conn, "SELECT id, s, at FROM rows ORDER BY id")
    assert all(s is not None and before <= at <= after for _, s, at in got), got[:3]
    # a time per chunk (each commits: its own transaction's now()), the same for every row of a chunk
    chunks = [sorted({at for i, _, at in got if i // 30 == c}) for c in range(4)]
    assert all(len(c) == 1 for c in chunks), chunks
    assert [c[0] for c in chunks] == sorted(c[0] for c in chunks)
    # the same as the audit rows' logged_at: the time the prediction was made
    assert query(conn, "SELECT count(*) FROM rows r JOIN pgscore.prediction_log l ON l.entity_key = r.id::text "
                       "AND l.source = 'batch' WHERE l.logged_at <> r.at") == [(0,)]
    # p_commit => false: the caller's transaction's now()
    query(conn, "UPDATE rows SET s = NULL, at = NULL")
    with conn.cursor() as cur:
        cur.execute("BEGIN; SELECT now()")
        (now,), = cur.fetchall()
        cur.execute("CALL pgscore.score_table('m', 'rows', 'id', 's', 30, p_commit => false, "
                    "p_scored_at_into => 'at')")
        cur.execute("COMMIT")
    assert query(conn, "SELECT count(*), count(DISTINCT at), min(at) FROM rows") == [(100, 1, now)]
    # with a label column, both in the same UPDATE; a timestamp (without time zone) column takes it too
    query(conn, "UPDATE rows SET s = NULL, at = NULL; ALTER TABLE rows ALTER COLUMN at TYPE timestamp")
    (n, last, v), = query(conn, "SELECT * FROM pgscore.score_chunk('m', 'rows', 'id', 's', NULL, 50, "
                                "p_label_into => 'lab', p_scored_at_into => 'at')")
    assert (n, last, v) == (50, "49", 1)
    assert query(conn, "SELECT count(s), count(lab), count(at) FROM rows") == [(50, 50, 50)]


def test_without_it_the_column_is_left_alone_and_old_calls_still_work(conn):
    deploy(conn.dsn, "hgb")
    load_rows(conn, 40)
    query(conn, "UPDATE rows SET at = '2000-01-01'")
    query(conn, "CALL pgscore.score_table('m', 'rows', 'id', 's', 30)")
    query(conn, "SELECT * FROM pgscore.score_chunk('m', 'rows', 'id', 's', NULL, 10, NULL, true, NULL)")
    assert query(conn, "SELECT count(s), count(*) FILTER (WHERE at = '2000-01-01') FROM rows") == [(40, 40)]


@pytest.mark.parametrize("column, sqlstate, said", [
    ("nope", "42703", "has no column 'nope' (the scored-at column)"),
    ("note", "42804", "column 'note' of public.rows is text; the scored-at column needs timestamptz or timestamp"),
    ("id", "22023", "the scored-at column 'id' of public.rows is its key column"),
    ("s", "22023", "the scored-at column 's' of public.rows is its score column"),
    ("lab", "22023", "the scored-at column 'lab' of public.rows is its label column"),
])
def test_a_column_that_cannot_take_the_time_is_refused_before_anything_is_written(conn, column, sqlstate, said):
    deploy(conn.dsn, "linear")
    load_rows(conn, 20)
    for call in (f"CALL pgscore.score_table('m', 'rows', 'id', 's', 10, p_label_into => 'lab', "
                 f"p_scored_at_into => '{column}')",
                 f"SELECT * FROM pgscore.score_chunk('m', 'rows', 'id', 's', p_label_into => 'lab', "
                 f"p_scored_at_into => '{column}')"):
        e = sql_error(conn, call)
        assert e.pgcode == sqlstate, e.pgerror
        assert said in e.pgerror, e.pgerror
        assert "nothing was written" in e.pgerror
        assert query(conn, "SELECT count(s) FROM rows") == [(0,)]
        assert query(conn, "SELECT count(*) FROM pgscore.prediction_log") == [(0,)]


def test_a_feature_column_is_refused_as_the_scored_at_column(conn):
    deploy(conn.dsn, "linear")
    load_rows(conn, 5)
    e = sql_error(conn, f"CALL pgscore.score_table('m', 'rows', 'id', 's', p_scored_at_into => '{NAMES[0]}')")
    assert e.pgcode in ("22023", "42804"), e.pgerror
    assert query(conn, "SELECT count(s) FROM rows") == [(0,)]


def test_pgscore_score_scored_at_into_and_its_resume_line(conn, monkeypatch, capsys):
    """--scored-at-into writes the time with the scores; the line to resume with repeats it; a later
    `--where "at IS NULL OR updated > at"` picks up a row changed after its chunk was scored."""
    from pgscore import cli, scoring

    deploy(conn.dsn, "hgb")
    load_rows(conn, 50)
    monkeypatch.setattr(scoring, "_progress", lambda *a: StopAtFirstChunk())
    code = cli.main(["score", "--model", "m", "--table", "rows", "--key", "id", "--into", "s",
                     "--scored-at-into", "at", "--chunk-size", "20", "--db", conn.dsn])
    said = capsys.readouterr().err
    assert code == 130, said
    assert "resume with: --after=39 --version 1 --scored-at-into=at" in said, said
    assert query(conn, "SELECT count(s), count(at) FROM rows") == [(40, 40)]
    monkeypatch.undo()
    line = said.split("resume with: ", 1)[1].splitlines()[0]
    r = pgscore_cli("score", "--model", "m", "--table", "rows", "--key", "id", "--into", "s", "--quiet",
                    *shlex.split(line), "--db", conn.dsn)
    assert r.returncode == 0, r.stderr
    assert query(conn, "SELECT count(s), count(at) FROM rows") == [(50, 50)]
    # a row changed after it was scored: the incremental run rescores it, and it alone
    query(conn, "ALTER TABLE rows ADD COLUMN updated timestamptz; UPDATE rows SET updated = at")
    query(conn, f"UPDATE rows SET {NAMES[1]} = {NAMES[1]} + 50, updated = clock_timestamp() WHERE id = 7")
    r = pgscore_cli("score", "--model", "m", "--table", "rows", "--key", "id", "--into", "s", "--quiet",
                    "--scored-at-into", "at", "--where", "at IS NULL OR updated > at", "--db", conn.dsn)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("scored 1 row of rows where at IS NULL OR updated > at into s and the time scored into at with m v1 "), r.stdout
    assert query(conn, "SELECT count(*) FROM rows WHERE updated > at") == [(0,)]
    r = pgscore_cli("score", "--model", "m", "--table", "rows", "--key", "id", "--into", "s", "--quiet",
                    "--scored-at-into", "s", "--db", conn.dsn)
    assert r.returncode == 2, r.stderr
    assert "--scored-at-into s is the --into column" in r.stderr


def test_score_tables_resume_hint_repeats_p_scored_at_into(conn):
    deploy(conn.dsn, "hgb")
    load_rows(conn, 30)
    del conn.notices[:]
    query(conn, "CALL pgscore.score_table('m', 'rows', 'id', 's', 20, p_progress => '0', p_scored_at_into => 'at')")
    notes = [n for n in conn.notices if "pgscore.score_table:" in n]
    assert "CALL it again with p_after => '19', p_version => 1, p_scored_at_into => 'at' to go on after them" \
        in notes[0], notes[0]
    # and a chunk that fails after committed ones says it in its HINT
    query(conn, "UPDATE rows SET s = NULL, at = NULL")
    query(conn, "CREATE FUNCTION no_nan() RETURNS trigger LANGUAGE plpgsql AS "
                "$$BEGIN IF NEW.id = 25 THEN RAISE EXCEPTION 'row 25' USING ERRCODE = '23514'; END IF; "
                "RETURN NEW; END$$; CREATE TRIGGER no_nan BEFORE UPDATE ON rows FOR EACH ROW EXECUTE FUNCTION no_nan()")
    e = sql_error(conn, "CALL pgscore.score_table('m', 'rows', 'id', 's', 20, p_scored_at_into => 'at')")
    assert "p_after => '19', p_version => 1, p_scored_at_into => 'at'" in e.diag.message_hint, e.diag.message_hint


def test_a_scored_at_column_no_update_may_write_or_the_role_may_not_is_refused(conn):
    from helpers import ensure_role

    deploy(conn.dsn, "linear")
    load_rows(conn, 10)
    query(conn, "ALTER TABLE rows ADD COLUMN g timestamp GENERATED ALWAYS AS ('2000-01-01'::timestamp) STORED")
    e = sql_error(conn, "CALL pgscore.score_table('m', 'rows', 'id', 's', p_scored_at_into => 'g')")
    assert e.pgcode == "428C9" and "column 'g' of public.rows is GENERATED ALWAYS AS" in e.pgerror, e.pgerror
    ensure_role(conn, "pgscore_t_stamper")
    query(conn, "GRANT pgscore_app TO pgscore_t_stamper; GRANT SELECT, UPDATE (s) ON rows TO pgscore_t_stamper")
    with conn.cursor() as cur:
        cur.execute("SET ROLE pgscore_t_stamper")
        with pytest.raises(psycopg2.Error) as e:
            cur.execute("CALL pgscore.score_table('m', 'rows', 'id', 's', p_scored_at_into => 'at')")
        cur.execute("RESET ROLE")
    assert e.value.pgcode == "42501" and "may not UPDATE column 'at' of public.rows" in e.value.pgerror, \
        e.value.pgerror
    assert query(conn, "SELECT count(s) FROM rows") == [(0,)]
