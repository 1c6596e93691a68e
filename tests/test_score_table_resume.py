"""Where a `CALL pgscore.score_table` got to when its session died without a word (pg_terminate_backend, a lost
connection, a restart): its progress NOTICE comes at most every p_progress, so the last one a client saw may be
chunks behind the rows committed (user trial hT8, finding 2: the NOTICE said 'AC-0390000', 540,000 rows had
committed, and resuming from it logged 150,000 predictions twice). The audit rows commit with each chunk, so the
docs' resume query reads the point from them: exact, and in the key's own order (an integer key's max as text,
'99999', is below '100000')."""

import re
import threading
import time
from pathlib import Path

import psycopg2
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from helpers import query
from pgscore import datasets, registry

X, Y, NAMES = datasets.churn(300, seed=5)
SQL_MD = Path(__file__).resolve().parents[1] / "docs" / "sql.md"
FIRST, LAST = 98_001, 110_000  # keys across 99999 -> 100000


def resume_query() -> str:
    """The docs' query (docs/sql.md, score_table, 'After the session dies'), as the page gives it."""
    text = SQL_MD.read_text()
    part = text[text.index("*After the session dies.*"):]
    return re.search(r"```sql\n(.*?)```", part, re.S).group(1)


def run_and_kill(conn, after_rows):
    """A CALL on a connection of its own, terminated once `after_rows` rows are committed; returns the NOTICEs
    its client got."""
    other = psycopg2.connect(conn.dsn)
    other.autocommit = True
    (pid,), = query(other, "SELECT pg_backend_pid()")
    ended = []

    def call():
        try:
            query(other, "CALL pgscore.score_table('churn', 'customers', 'id', 'churn_score', 200, "
                         "p_progress => '1 hour')")
        except psycopg2.Error as e:
            ended.append(e)

    t = threading.Thread(target=call)
    t.start()
    deadline = time.time() + 120
    while query(conn, "SELECT count(churn_score) FROM customers")[0][0] < after_rows:
        assert time.time() < deadline and t.is_alive(), ended
        time.sleep(0.02)
    query(conn, "SELECT pg_terminate_backend(%s)", (pid,))
    t.join(60)
    assert ended and isinstance(ended[0], psycopg2.OperationalError), ended
    notes = list(other.notices)
    other.close()
    return notes


def test_the_docs_resume_query_finds_the_last_committed_key_of_a_terminated_call(conn):
    est = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, Y)
    registry.deploy(conn.dsn, "churn", est, X, Y, feature_names=NAMES)
    query(conn, "CREATE TABLE customers (id bigint PRIMARY KEY, features float8[], churn_score float8)")
    query(conn, "INSERT INTO customers SELECT i, %s::float8[], NULL FROM generate_series(%s, %s) i",
          (X[0].tolist(), FIRST, LAST))
    # each chunk's UPDATE waits a little: the CALL is terminated in the middle, past key 100000
    query(conn, "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS "
                "$$BEGIN PERFORM pg_sleep(0.03); RETURN NULL; END$$; "
                "CREATE TRIGGER slow AFTER UPDATE ON customers FOR EACH STATEMENT EXECUTE FUNCTION slow()")
    # an earlier run, finished, whose audit rows cover every key: the query must not read them
    query(conn, "CALL pgscore.score_table('churn', 'customers', 'id', 'churn_score', 5000)")
    query(conn, "UPDATE customers SET churn_score = NULL")
    notes = run_and_kill(conn, 3000)
    assert not [n for n in notes if "pgscore.score_table:" in n]  # no NOTICE: nothing said where it got to
    (committed,), = query(conn, "SELECT max(id) FROM customers WHERE churn_score IS NOT NULL")
    assert committed > 100_000
    # as text the log's max key is '99999': resumed from it, the committed rows after it are logged twice
    (as_text,), = query(conn, "SELECT max(entity_key) FROM pgscore.predictions WHERE source = 'batch' "
                              "AND logged_at > (SELECT max(logged_at) - interval '1 hour' FROM pgscore.predictions)")
    assert as_text == "99999"
    sql = resume_query()
    (after, version), = query(conn, sql)
    assert (after, version) == (str(committed), 1)
    query(conn, "CALL pgscore.score_table('churn', 'customers', 'id', 'churn_score', 200, p_after => %s, "
                "p_version => %s)", (after, version))
    assert query(conn, "SELECT count(*), count(churn_score) FROM customers") == [(LAST - FIRST + 1,) * 2]
    # every key logged once by the two calls of this night (and once by the earlier run)
    assert query(conn, "SELECT count(*) FROM (SELECT entity_key FROM pgscore.predictions WHERE source = 'batch' "
                       "GROUP BY 1 HAVING count(*) <> 2) d") == [(0,)]


def test_the_progress_notice_says_it_may_lag_and_where_to_read_the_point(conn):
    est = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, Y)
    registry.deploy(conn.dsn, "churn", est, X, Y, feature_names=NAMES)
    query(conn, "CREATE TABLE customers (id bigint PRIMARY KEY, features float8[], churn_score float8)")
    query(conn, "INSERT INTO customers SELECT i, %s::float8[], NULL FROM generate_series(1, 30) i", (X[0].tolist(),))
    del conn.notices[:]
    query(conn, "CALL pgscore.score_table('churn', 'customers', 'id', 'churn_score', 20, p_progress => '0')")
    notes = [n for n in conn.notices if "pgscore.score_table:" in n]
    assert len(notes) == 2, conn.notices
    assert "CALL it again with p_after => '20', p_version => 1 to go on after them" in notes[0], notes[0]
    assert ("where the session ended without a word (pg_terminate_backend, a lost connection), later chunks may "
            "be committed too: read where it got to from the audit log (docs/sql.md, score_table, 'After the "
            "session dies')") in notes[0], notes[0]
