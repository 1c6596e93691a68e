"""The audit log (issue 4): every prediction of a committed transaction logged once, with model, version,
entity, features, score, source and cause; sampling; rollback; read-only transactions; partitions."""

import datetime
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psycopg2
import pytest
from psycopg2 import sql
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from helpers import hinted, pgscore_cli, pgscore_cli_on_a_terminal, query
from pgscore import datasets, registry, scoring
from pgscore.errors import PgscoreError

X, Y, NAMES = datasets.churn(400, seed=5)
ROW = X[0].tolist()


@pytest.fixture(scope="module")
def logit():
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y)


@pytest.fixture
def churn(db_url, logit):
    registry.deploy(db_url, "churn", logit, X, Y, feature_names=NAMES)
    c = psycopg2.connect(db_url)
    c.autocommit = True
    query(c, "CREATE TABLE customers AS SELECT i AS id, %s::float8[] AS f FROM generate_series(1, 25000) i", (ROW,))
    yield c
    c.close()


def logged(conn, where="true"):
    return query(conn, f"SELECT count(*) FROM pgscore.predictions WHERE {where}")[0][0]


def test_every_prediction_is_logged_with_what_made_it(churn, logit):
    query(churn, "SET application_name = 'crm'")
    (s,), = query(churn, "SELECT pgscore.score('churn', %s::float8[], p_key => 'cust-1')", (ROW,))
    query(churn, "SELECT pgscore.predict('churn', f) FROM customers WHERE id <= 3")
    rows = query(churn, "SELECT model, version, entity_key, features, score, label, source, cause->>'application', "
                        "cause->>'user' FROM pgscore.predictions ORDER BY entity_key NULLS LAST")
    assert len(rows) == 4
    model, version, key, features, score, label, source, app, user = rows[0]
    assert (model, version, key, source, app, user) == ("churn", 1, "cust-1", "query", "crm", "postgres")
    assert np.allclose(features, ROW) and score == s and label is None
    assert {r[5] for r in rows[1:]} == {str(logit.predict(X[:1])[0])}


def test_more_rows_than_the_buffer_in_one_statement(churn):
    (n,), = query(churn, "SELECT count(pgscore.score('churn', f, NULL, id::text)) FROM customers")
    assert n == 25000
    assert logged(churn) == 25000
    assert query(churn, "SELECT count(DISTINCT entity_key) FROM pgscore.prediction_log") == [(25000,)]


def test_one_flush_of_rows_from_two_models_and_two_statements(churn, logit):
    """A transaction's buffer holds rows of another model (another width) and another statement (another
    cause): each audit row keeps its own model, features, score and cause."""
    small = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X[:, :5], Y)
    registry.deploy(churn.dsn, "small", small, X[:, :5], Y, feature_names=NAMES[:5])
    rows = [X[i].tolist() for i in range(3)]
    with churn.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute("SELECT pgscore.score('churn', %s::float8[], p_key => 'a')", (rows[0],))
        cur.execute("SELECT pg_sleep(0.01)")
        cur.execute("SELECT pgscore.score('small', r[1:5], p_key => 'b' || i), "
                    "pgscore.score('churn', r, p_key => 'c' || i) "
                    "FROM (VALUES (1, %s::float8[]), (2, %s::float8[])) AS v(i, r)", (rows[1], rows[2]))
        cur.execute("COMMIT")
    got = query(churn, "SELECT entity_key, model, features, score, cause->>'statement_at' FROM pgscore.predictions "
                       "ORDER BY entity_key")
    assert [g[0] for g in got] == ["a", "b1", "b2", "c1", "c2"]
    want = {"a": ("churn", rows[0], logit), "b1": ("small", rows[1][:5], small), "b2": ("small", rows[2][:5], small),
            "c1": ("churn", rows[1], logit), "c2": ("churn", rows[2], logit)}
    for key, model, features, score, _ in got:
        name, x, est = want[key]
        assert (model, features) == (name, x)
        assert abs(score - est.predict_proba([x])[0, 1]) <= 1e-9
    assert got[0][4] != got[1][4] == got[3][4]  # the first statement's cause, then the second's


def test_rollback_logs_nothing_and_leaves_nothing_behind(churn):
    with churn.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute("SELECT count(pgscore.score('churn', f)) FROM customers WHERE id <= 50")
        cur.execute("ROLLBACK")
    assert logged(churn) == 0
    query(churn, "SELECT pgscore.score('churn', f) FROM customers WHERE id <= 2")
    assert logged(churn) == 2  # the rolled-back buffer did not leak into the next transaction
    assert query(churn, "SELECT count(*) FROM pgscore.log_pending") == [(0,)]


def test_savepoints_and_immediate_constraints(churn):
    with churn.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute("SAVEPOINT a")
        cur.execute("SELECT pgscore.score('churn', f) FROM customers WHERE id <= 3")
        cur.execute("ROLLBACK TO SAVEPOINT a")
        cur.execute("SELECT pgscore.score('churn', f) FROM customers WHERE id <= 4")
        cur.execute("COMMIT")
    # the 3 predictions made inside the rolled-back savepoint were still made: they are logged too
    assert logged(churn) == 7
    with churn.cursor() as cur:  # and with scoring before the savepoint and none after it
        cur.execute("BEGIN")
        cur.execute("SELECT pgscore.score('churn', f) FROM customers WHERE id <= 2")
        cur.execute("SAVEPOINT a")
        cur.execute("SELECT pgscore.score('churn', f) FROM customers WHERE id <= 3")
        cur.execute("ROLLBACK TO SAVEPOINT a")
        cur.execute("COMMIT")
    assert logged(churn) == 12
    with churn.cursor() as cur:  # all of it inside: lost with the savepoint (docs/sql.md says so)
        cur.execute("BEGIN")
        cur.execute("SAVEPOINT a")
        cur.execute("SELECT pgscore.score('churn', f) FROM customers WHERE id <= 3")
        cur.execute("ROLLBACK TO SAVEPOINT a")
        cur.execute("COMMIT")
    assert logged(churn) == 12
    with churn.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cur.execute("SELECT pgscore.score('churn', f) FROM customers WHERE id <= 5")
        cur.execute("COMMIT")
    assert logged(churn) == 17


def by_prefix(conn):
    return dict(query(conn, "SELECT left(entity_key, 1), count(*) FROM pgscore.prediction_log GROUP BY 1"))


@pytest.mark.parametrize("after", [True, False])
def test_a_buffer_written_inside_a_savepoint_that_rolls_back_is_written_again(churn, after):
    """More predictions inside a savepoint than the buffer holds write it there, with the rows buffered
    before the savepoint: rolled back with it, they were lost (and some of the savepoint's kept). Each is
    logged once, as the rows of a rolled-back savepoint are, with scoring after the savepoint or not."""
    with churn.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute("SELECT count(pgscore.score('churn', f, p_key => 'A' || id)) FROM customers WHERE id <= 100")
        cur.execute("SAVEPOINT s")
        cur.execute("SELECT count(pgscore.score('churn', f, p_key => 'B' || id)) FROM customers WHERE id <= 24000")
        cur.execute("ROLLBACK TO SAVEPOINT s")
        if after:
            cur.execute("SELECT count(pgscore.score('churn', f, p_key => 'C' || id)) FROM customers WHERE id <= 100")
        cur.execute("COMMIT")
    assert by_prefix(churn) == {"A": 100, "B": 24000, **({"C": 100} if after else {})}
    assert query(churn, "SELECT count(DISTINCT entity_key) FROM pgscore.prediction_log") == [(24200 if after else 24100,)]


def test_a_buffer_written_in_a_plpgsql_exception_block_that_catches_an_error_is_written_again(churn):
    """The same through a PL/pgSQL block whose EXCEPTION clause catches an error (a subtransaction), nested
    in a savepoint that is released: what the block wrote is rolled back with it, and written again."""
    with churn.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute("SELECT count(pgscore.score('churn', f, p_key => 'A' || id)) FROM customers WHERE id <= 100")
        cur.execute("SAVEPOINT s")
        cur.execute("""DO $$ BEGIN
                         PERFORM count(pgscore.score('churn', f, p_key => 'B' || id)) FROM customers WHERE id <= 15000;
                         RAISE EXCEPTION 'caught';
                       EXCEPTION WHEN raise_exception THEN NULL; END $$""")
        cur.execute("SELECT count(pgscore.score('churn', f, p_key => 'C' || id)) FROM customers WHERE id <= 12000")
        cur.execute("RELEASE SAVEPOINT s")
        cur.execute("COMMIT")
    assert by_prefix(churn) == {"A": 100, "B": 15000, "C": 12000}


def test_a_rolled_back_buffer_is_written_again_when_immediate_constraints_flush_inside_a_savepoint(churn):
    """SET CONSTRAINTS ALL IMMEDIATE inside a savepoint fires the commit-time flush there: what a rolled-back
    savepoint took is written again then, not forgotten with the flush's marker."""
    with churn.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute("SELECT count(pgscore.score('churn', f, p_key => 'A' || id)) FROM customers WHERE id <= 100")
        cur.execute("SAVEPOINT s")
        cur.execute("SELECT count(pgscore.score('churn', f, p_key => 'B' || id)) FROM customers WHERE id <= 15000")
        cur.execute("ROLLBACK TO SAVEPOINT s")
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cur.execute("COMMIT")
    assert by_prefix(churn) == {"A": 100, "B": 15000}


def test_immediate_constraints_from_the_start_still_log_a_rolled_back_savepoint_at_commit(churn):
    """SET CONSTRAINTS ALL IMMEDIATE before any scoring: the flush's marker fired at once and every row was
    written through, inside the savepoint that then rolled back, with nothing left to write it again at
    commit. pgscore defers its own flush again; each prediction is logged once, and no marker row is left."""
    with churn.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cur.execute("SELECT count(pgscore.score('churn', f, p_key => 'A' || id)) FROM customers WHERE id <= 2")
        cur.execute("SAVEPOINT a")
        cur.execute("SELECT count(pgscore.score('churn', f, p_key => 'B' || id)) FROM customers WHERE id <= 3")
        cur.execute("ROLLBACK TO SAVEPOINT a")
        cur.execute("COMMIT")
    assert by_prefix(churn) == {"A": 2, "B": 3}
    assert query(churn, "SELECT count(*) FROM pgscore.log_pending") == [(0,)]


def test_what_is_kept_for_savepoints_is_bounded_and_says_so(churn):
    """A transaction that stays inside a savepoint (a driver's autosave) keeps what it wrote there only up to
    100,000 rows, with one WARNING; released, every row is logged once."""
    churn.notices.clear()
    with churn.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute("SAVEPOINT s")
        for i in range(5):
            cur.execute(f"SELECT count(pgscore.score('churn', f, p_key => '{i}-' || id)) FROM customers")
        cur.execute("RELEASE SAVEPOINT s")
        cur.execute("COMMIT")
    assert logged(churn) == 125000
    warned = [n for n in churn.notices if "more than 100,000 predictions of this transaction" in n]
    assert len(warned) == 1, churn.notices


def test_sampling_and_off(churn):
    query(churn, "SET pgscore.log_queries = 'off'")
    query(churn, "SELECT count(pgscore.score('churn', f)) FROM customers")
    assert logged(churn) == 0
    query(churn, "SET pgscore.log_queries = '0.1'")
    query(churn, "SELECT count(pgscore.score('churn', f)) FROM customers")
    assert 2000 < logged(churn) < 3000  # 2,500 expected; the bounds are 10 standard deviations
    query(churn, "SET pgscore.log_queries = 'sometimes'")
    with pytest.raises(psycopg2.Error) as e:
        query(churn, "SELECT pgscore.score('churn', f) FROM customers WHERE id = 1")
    assert e.value.pgcode == "22023" and "pgscore.log_queries" in e.value.pgerror


def test_a_sampled_row_says_its_rate_so_that_a_count_can_be_scaled(churn):
    """Under sampling the logged rows' cause said nothing of it: a trial's 1,000 scores at '0.1' left 103 rows
    that read as 103 predictions. Each sampled row names its rate (cause->>'sample_rate'); rows logged whole
    name none."""
    query(churn, "SET pgscore.log_queries = '0.25'")
    query(churn, "SELECT count(pgscore.score('churn', f)) FROM customers WHERE id <= 4000")
    rates = query(churn, "SELECT cause->>'sample_rate', count(*), sum(1 / (cause->>'sample_rate')::float8) "
                         "FROM pgscore.predictions GROUP BY 1")
    assert len(rates) == 1 and rates[0][0] == "0.25" and 800 < rates[0][1] < 1200, rates  # 1,000 expected
    assert 3200 < rates[0][2] < 4800  # the count scaled: 4,000 served
    query(churn, "SET pgscore.log_queries = 'all'")
    query(churn, "SELECT count(pgscore.score('churn', f)) FROM customers WHERE id <= 3")
    query(churn, "SELECT count(*) FROM pgscore.predict_batch('churn', 'SELECT id, f AS features FROM customers WHERE id <= 2')")
    assert logged(churn, "NOT cause ? 'sample_rate'") == 5
    # docs/sql.md's scaled count, taken literally, counts the rows logged whole too (a sum over NULL left them out)
    doc = (Path(__file__).parent.parent / "docs" / "sql.md").read_text()
    (expr,) = re.findall(r"`(sum\(1 / [^`]*sample_rate[^`]*)`", doc)
    assert query(churn, f"SELECT {expr} FROM pgscore.predictions WHERE NOT cause ? 'sample_rate'") == [(5,)], expr


def test_log_queries_set_local_lasts_one_transaction(churn):
    """Behind a pooler in transaction mode a plain SET stays with the server session, and governs the next
    client's logging: docs/sql.md says to use SET LOCAL (or set_config(..., true)), which the setting,
    read at each statement, obeys for the transaction and no further."""
    churn.autocommit = False
    with churn.cursor() as cur:
        cur.execute("SET LOCAL pgscore.log_queries = 'off'")
        cur.execute("SELECT count(pgscore.score('churn', f)) FROM customers WHERE id <= 100")
    churn.commit()
    with churn.cursor() as cur:
        cur.execute("SELECT pg_catalog.set_config('pgscore.log_queries', '0', true)")
        cur.execute("SELECT count(pgscore.score('churn', f)) FROM customers WHERE id <= 100")
    churn.commit()
    churn.autocommit = True
    assert logged(churn) == 0
    query(churn, "SELECT count(pgscore.score('churn', f)) FROM customers WHERE id <= 100")  # the next transaction
    assert logged(churn) == 100


def test_read_only_transactions_score_without_logging(churn, logit):
    with churn.cursor() as cur:
        cur.execute("BEGIN READ ONLY")
        cur.execute("SELECT pgscore.score('churn', %s::float8[])", (ROW,))
        (s,), = cur.fetchall()
        cur.execute("COMMIT")
    assert abs(s - logit.predict_proba(X[:1])[0, 1]) < 1e-12
    assert any("read-only" in n for n in churn.notices)
    assert logged(churn) == 0
    # predict_batch too: scored, not logged, with a warning (it failed with 25006 before)
    del churn.notices[:]
    with churn.cursor() as cur:
        cur.execute("BEGIN READ ONLY")
        cur.execute("SELECT * FROM pgscore.predict_batch('churn', 'SELECT 1, %s::float8[] AS features')", (ROW,))
        (row,) = cur.fetchall()
        cur.execute("COMMIT")
    assert row[0] == "1" and abs(row[1] - s) < 1e-12
    assert any("read-only transaction: predict_batch scores but does not write" in n for n in churn.notices)
    assert logged(churn) == 0


def test_a_transaction_made_read_only_after_it_scored_fails_at_commit_saying_why(churn):
    """A transaction may turn read-only after its first query (SET TRANSACTION READ ONLY, SET LOCAL
    transaction_read_only = on), never back. Its predictions made before are buffered for the commit, which
    cannot write them then: the commit failed with 'pgscore: cannot execute INSERT in a read-only transaction'
    from a trigger the caller never heard of. It still fails (every prediction returned is logged or the
    transaction rolls back, as with a full disk), now saying what happened and what to do."""
    for switch in ("SET TRANSACTION READ ONLY", "SET LOCAL transaction_read_only = on"):
        with churn.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("SELECT count(pgscore.score('churn', f)) FROM customers WHERE id <= 3")
            cur.execute(switch)
            cur.execute("SELECT count(pgscore.score('churn', f)) FROM customers WHERE id <= 2")
            with pytest.raises(psycopg2.Error) as e:
                cur.execute("COMMIT")
        churn.rollback()
        assert e.value.pgcode == "25006"
        assert "scored 3 predictions before it was made read-only" in e.value.diag.message_primary
        assert "BEGIN READ ONLY" in e.value.diag.message_hint
    assert logged(churn) == 0
    assert query(churn, "SELECT count(*) FROM pgscore.log_pending") == [(0,)]
    # made read-only before it scores, a transaction commits, unlogged (one WARNING a statement)
    with churn.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute("SET TRANSACTION READ ONLY")
        cur.execute("SELECT count(pgscore.score('churn', f)) FROM customers WHERE id <= 3")
        cur.execute("COMMIT")
    assert logged(churn) == 0


def test_log_partitions_and_retention(churn):
    parts = query(churn, "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                         "WHERE i.inhparent = 'pgscore.prediction_log'::regclass ORDER BY 1")
    assert len(parts) >= 8 and parts[-1][0] == "prediction_log_default"  # today and 7 days ahead, from install
    # rows of an old day wait in the default partition and move when their partition is created
    query(churn, "INSERT INTO pgscore.prediction_log (logged_at, model_id, features, score, source) "
                 "SELECT now() - interval '40 days', model_id, %s, 0.5, 'batch' FROM pgscore.models", (ROW,))
    assert query(churn, "SELECT count(*) FROM pgscore.prediction_log_default") == [(1,)]
    (made,), = query(churn, "SELECT pgscore.create_log_partitions(1, ((now() - interval '40 days') AT TIME ZONE 'UTC')::date)")
    assert made == 2
    assert query(churn, "SELECT count(*) FROM pgscore.prediction_log_default") == [(0,)]
    # the administrator reads every partition, those made at install and those made later alike
    assert query(churn, "SELECT count(*), count(*) FILTER (WHERE has_table_privilege('pgscore_admin', i.inhrelid, "
                        "'SELECT')) FROM pg_inherits i WHERE i.inhparent = 'pgscore.prediction_log'::regclass") \
        == [(len(parts) + 2,) * 2]
    assert query(churn, "SELECT tableoid::regclass::text FROM pgscore.prediction_log")[0][0].startswith(
        "pgscore.prediction_log_2")
    query(churn, "SELECT pgscore.score('churn', %s::float8[])", (ROW,))
    (dropped,), = query(churn, "SELECT pgscore.drop_log_partitions('30 days')")
    assert dropped == 2
    assert logged(churn) == 1  # today's row stays
    for sql in ("SELECT pgscore.drop_log_partitions(NULL)", "SELECT pgscore.drop_log_partitions('-1 day')",
                "SELECT pgscore.create_log_partitions(-1)", "SELECT pgscore.create_log_partitions(5000)"):
        with pytest.raises(psycopg2.Error) as e:
            query(churn, sql)
        assert e.value.pgcode == "22023"


def _make_days_once_it_waits_for(churn, holder, day):
    """Run create_log_partitions(0, day) in another session until it waits for a lock, then commit `holder` (a
    connection with a transaction open) and let it finish: {"made": its rows} or {"error": its error}."""
    result = {}

    def make():
        c = psycopg2.connect(churn.dsn)
        c.autocommit = True
        try:
            query(c, "SET application_name = 'pgscore-test-partitions'")
            result["made"] = query(c, f"SELECT pgscore.create_log_partitions(0, {day})")
        except psycopg2.Error as e:
            result["error"] = e
        finally:
            c.close()

    t = threading.Thread(target=make)
    t.start()
    for _ in range(300):
        if query(churn, "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                        "'pgscore-test-partitions' AND wait_event_type = 'Lock'") == [(1,)]:
            break
        time.sleep(0.05)
    else:
        holder.rollback()
        t.join(60)
        raise AssertionError(f"create_log_partitions never waited for the other transaction: {result}")
    holder.commit()
    t.join(60)
    return result


def test_a_days_partition_is_made_while_another_session_logs_that_day_into_the_default_partition(churn):
    """A day without its partition (a clock jump, maintenance stopped for over a week) logs into the default
    partition; create_log_partitions moves the day's rows, then attaches. A transaction that logged a row of the
    day and committed after the move made ATTACH fail ('updated partition constraint for default partition ...
    would be violated by some row') and the whole call roll back, for as long as scoring went on; now the call
    takes ATTACH's locks first, waits for that transaction and moves its row too (migration 0100)."""
    day = "((now() AT TIME ZONE 'UTC')::date + 20)"
    (lo, name), = query(churn, f"SELECT {day}::timestamp AT TIME ZONE 'UTC', "
                               f"'pgscore.prediction_log_' || to_char({day}, 'YYYYMMDD')")
    other = psycopg2.connect(churn.dsn)
    try:
        with other.cursor() as cur:  # a scoring transaction, open: its row waits in the default partition
            cur.execute("INSERT INTO pgscore.prediction_log (logged_at, model_id, features, score, source) "
                        "SELECT %s + interval '1 hour', model_id, %s, 0.5, 'batch' FROM pgscore.models", (lo, ROW))
        result = _make_days_once_it_waits_for(churn, other, day)
    finally:
        other.close()
    assert "error" not in result, result["error"].pgerror
    assert result["made"] == [(1,)]
    assert query(churn, "SELECT tableoid::regclass::text, count(*) FROM pgscore.prediction_log "
                        "WHERE logged_at >= %s GROUP BY 1", (lo,)) == [(name, 1)]


def test_two_calls_making_the_same_days_at_once_both_succeed(churn):
    """The partitions' job run twice at once (pg_cron and a host's cron, two hosts' crons): both made the same
    day, and the second failed on the first's table (42P07, 'relation "prediction_log_YYYYMMDD" already
    exists'); now the second waits for the first and finds the day made (migration 0100)."""
    day = "((now() AT TIME ZONE 'UTC')::date + 30)"
    first = psycopg2.connect(churn.dsn)
    try:
        with first.cursor() as cur:
            cur.execute(f"SELECT pgscore.create_log_partitions(0, {day})")
            assert cur.fetchall() == [(1,)]
        result = _make_days_once_it_waits_for(churn, first, day)
    finally:
        first.close()
    assert "error" not in result, result["error"].pgerror
    assert result["made"] == [(0,)]
    assert query(churn, f"SELECT count(*) FROM pg_inherits WHERE inhrelid = to_regclass("
                        f"'pgscore.prediction_log_' || to_char({day}, 'YYYYMMDD'))") == [(1,)]


def test_making_days_waits_for_no_session_that_holds_a_partitions_vacuum_lock(churn):
    """create_log_partitions locks the log alone (LOCK TABLE ONLY), as ATTACH does: locking the partitioned log
    without ONLY locked every day too, so an ANALYZE, VACUUM or autovacuum's freeze of an old day made the daily
    call wait (and `pgscore maintain` fail at its lock_timeout), also when it had nothing to make."""
    query(churn, "SELECT pgscore.create_log_partitions()")
    day = query(churn, "SELECT c.relname FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = "
                       "i.inhrelid WHERE i.inhparent = 'pgscore.prediction_log'::regclass AND c.relname <> "
                       "'prediction_log_default' ORDER BY c.relname LIMIT 1")[0][0]
    holder = psycopg2.connect(churn.dsn)
    try:
        with holder.cursor() as cur:  # ANALYZE in a transaction block keeps its SHARE UPDATE EXCLUSIVE lock
            cur.execute(sql.SQL("ANALYZE {}").format(sql.Identifier("pgscore", day)))
        other = psycopg2.connect(churn.dsn)
        other.autocommit = True
        try:
            with other.cursor() as cur:
                cur.execute("SET lock_timeout = '2s'")
                cur.execute("SELECT pgscore.create_log_partitions()")
                assert cur.fetchall() == [(0,)]
                cur.execute("SELECT pgscore.create_log_partitions(0, (now() AT TIME ZONE 'UTC')::date + 40)")
                assert cur.fetchall() == [(1,)]
        finally:
            other.close()
    finally:
        holder.close()


INDEXES = ("prediction_log_model_time_idx", "prediction_log_entity_time_idx")


def test_new_days_go_to_the_logs_tablespace_as_partition_of_would_put_them(churn):
    """A log moved to a volume of its own (ALTER TABLE pgscore.prediction_log SET TABLESPACE, as
    docs/operations-disk.md says) gets each new day's partition there, its indexes following the log's; before
    migration 0050 create_log_partitions made every new day in default_tablespace, filling the full disk."""
    space = f"pgscore_test_{os.getpid()}"
    (data_dir,), = query(churn, "SELECT current_setting('data_directory')")
    where = tempfile.mkdtemp(prefix="pgscore-ts-")
    os.chmod(where, 0o700)
    os.chown(where, os.stat(data_dir).st_uid, os.stat(data_dir).st_gid)  # the server's OS user (root's test: postgres)
    ident = sql.Identifier(space)

    def back():
        for index in INDEXES:
            query(churn, sql.SQL("ALTER INDEX {} SET TABLESPACE pg_default").format(sql.Identifier("pgscore", index)))
        query(churn, "ALTER TABLE pgscore.prediction_log SET TABLESPACE pg_default")

    query(churn, sql.SQL("CREATE TABLESPACE {} LOCATION {}").format(ident, sql.Literal(where)))
    try:
        query(churn, sql.SQL("ALTER TABLE pgscore.prediction_log SET TABLESPACE {}").format(ident))
        for index in INDEXES:
            query(churn, sql.SQL("ALTER INDEX {} SET TABLESPACE {}").format(sql.Identifier("pgscore", index), ident))
        day = "((now() AT TIME ZONE 'UTC')::date + 30)"
        assert query(churn, f"SELECT pgscore.create_log_partitions(0, {day})") == [(1,)]
        rows = query(churn, "SELECT c.relkind::text, coalesce(t.spcname, '-') FROM pg_class c "
                            "JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_tablespace t ON "
                            "t.oid = c.reltablespace WHERE n.nspname = 'pgscore' AND c.relname LIKE "
                            f"'prediction_log_' || to_char({day}, 'YYYYMMDD') || '%' ORDER BY 1, 2")
        assert rows == [("i", space), ("i", space), ("r", space)], rows
        # the days made before stay where they were, and a log without a tablespace of its own puts new days in
        # default_tablespace as before
        assert query(churn, "SELECT count(*) FROM pg_class WHERE relname = 'prediction_log_default' "
                            "AND reltablespace = 0") == [(1,)]
        back()
        assert query(churn, f"SELECT pgscore.create_log_partitions(0, {day} + 1)") == [(1,)]
        assert query(churn, "SELECT count(*), count(*) FILTER (WHERE c.reltablespace = 0) FROM pg_class c "
                            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'pgscore' AND c.relname "
                            f"LIKE 'prediction_log_' || to_char({day} + 1, 'YYYYMMDD') || '%'") == [(3, 3)]
    finally:
        back()
        for t in query(churn, "SELECT c.relname FROM pg_class c JOIN pg_tablespace t ON t.oid = "
                              "c.reltablespace WHERE t.spcname = %s AND c.relkind = 'r'", (space,)):
            query(churn, sql.SQL("DROP TABLE {}").format(sql.Identifier("pgscore", t[0])))  # its indexes with it
        query(churn, sql.SQL("DROP TABLESPACE {}").format(ident))
        shutil.rmtree(where, ignore_errors=True)


def test_a_detached_partition_of_a_days_name_stops_partitioning_and_says_so(churn):
    """A day's partition detached (to archive it) and left under its name: creating the partitions raised
    nothing and created nothing (the day's rows went on into the default partition, and `pgscore status`
    kept asking for `pgscore maintain`); now it is an error naming the table and how to clear it."""
    (day,), = query(churn, "SELECT 'prediction_log_' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD')")
    query(churn, f"ALTER TABLE pgscore.prediction_log DETACH PARTITION pgscore.{day}")
    with pytest.raises(psycopg2.errors.DuplicateTable) as e:
        query(churn, "SELECT pgscore.create_log_partitions()")
    assert f"pgscore.{day} exists and is not a partition of pgscore.prediction_log" in e.value.pgerror
    hint = e.value.diag.message_hint
    assert hint.startswith(f"rename it (ALTER TABLE pgscore.{day} RENAME TO {day}_archived)"), hint
    query(churn, f"ALTER TABLE pgscore.{day} RENAME TO {day}_archived")
    assert query(churn, "SELECT pgscore.create_log_partitions()") == [(1,)]
    assert query(churn, "SELECT count(*) FROM pg_inherits WHERE inhrelid = %s::regclass",
                 (f"pgscore.{day}",)) == [(1,)]


# rows of the UTC day %s days before today's, around its noon
_PAST_ROWS = ("INSERT INTO pgscore.prediction_log (logged_at, model_id, entity_key, features, score, source) "
              "SELECT ((now() AT TIME ZONE 'UTC')::date - %s)::timestamp AT TIME ZONE 'UTC' + interval '12 hours' "
              "- g * interval '1 second', m.model_id, g::text, %s, g / 10.0, 'batch' "
              "FROM pgscore.models m, generate_series(1, %s) g")
_ROWS = ("SELECT count(*), md5(string_agg(l::text, ',' ORDER BY l::text)) FROM "
         "(SELECT logged_at, model_id, entity_key, features, score, label, source, cause FROM pgscore.prediction_log) l")
# where the rows of the UTC day %s days before today's are
_WHERE = ("SELECT tableoid::regclass::text, count(*) FROM pgscore.prediction_log "
          "WHERE (logged_at AT TIME ZONE 'UTC')::date = (now() AT TIME ZONE 'UTC')::date - %s GROUP BY 1")


def _day(days):
    """The name of the log's partition of the UTC day `days` before today's."""
    return (datetime.datetime.now(datetime.timezone.utc).date() - datetime.timedelta(days=days)).strftime(
        "pgscore.prediction_log_%Y%m%d")


def test_rows_of_past_days_get_their_partitions_from_the_default_one(churn):
    """Rows logged 40 and 3 days ago into a log whose partitions start today (an import of old predictions, a clock
    behind, maintenance not run for weeks) waited in the default partition until retention deleted them: no call
    with the default p_from made their days (migration 0104). One create_log_partitions() makes both days and moves
    their rows, nothing lost or doubled; a row years ahead (a clock jump) stays in the default partition; a second
    call makes nothing."""
    for days, n in ((40, 30), (3, 5)):
        query(churn, _PAST_ROWS, (days, ROW, n))
    query(churn, "INSERT INTO pgscore.prediction_log (logged_at, model_id, features, score, source) "
                 "SELECT now() + interval '400 days', model_id, %s, 0.5, 'batch' FROM pgscore.models", (ROW,))
    before = query(churn, _ROWS)
    assert query(churn, "SELECT count(*) FROM pgscore.prediction_log_default") == [(36,)]
    churn.notices.clear()
    assert query(churn, "SELECT pgscore.create_log_partitions()") == [(2,)]
    assert query(churn, _ROWS) == before
    assert query(churn, _WHERE, (40,)) == [(_day(40), 30)]
    assert query(churn, _WHERE, (3,)) == [(_day(3), 5)]
    assert query(churn, "SELECT tableoid::regclass::text, count(*) FROM pgscore.prediction_log "
                        "WHERE logged_at > now() + interval '399 days' GROUP BY 1") == [("pgscore.prediction_log_default", 1)]
    said = [n for n in churn.notices if "create_log_partitions" in n]
    iso = [datetime.datetime.strptime(_day(d)[-8:], "%Y%m%d").date().isoformat() for d in (0, 3, 40)]
    assert len(said) == 1 and (f"2 day(s) before {iso[0]} made from the default partition's rows (35 row(s) "
                               f"moved): {iso[1]}, {iso[2]}") in said[0], said
    # the days made are partitions the administrator reads, as those made ahead
    assert query(churn, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'pgscore.prediction_log'::regclass "
                        "AND inhrelid IN (%s::regclass, %s::regclass) AND has_table_privilege('pgscore_admin', "
                        "inhrelid, 'SELECT')", (_day(40), _day(3))) == [(2,)]
    churn.notices.clear()
    assert query(churn, "SELECT pgscore.create_log_partitions()") == [(0,)]
    assert query(churn, _ROWS) == before
    assert not [n for n in churn.notices if "create_log_partitions" in n], churn.notices


def test_a_table_of_a_past_days_name_leaves_its_rows_in_the_default_with_a_warning(churn):
    """A table of a backfilled day's name that is no partition of the log (the day detached to archive it, then a
    stray row of it logged) leaves the day's rows in the default partition with a WARNING naming the table and the
    RENAME that clears it, and the other days are made: an error (42P07, as for a day ahead) rolled back the days
    ahead too, so a week later scoring filled the default partition (the review of migration 0104)."""
    query(churn, _PAST_ROWS, (3, ROW, 4))
    query(churn, sql.SQL("CREATE TABLE {} (LIKE pgscore.prediction_log)").format(
        sql.Identifier("pgscore", _day(3)[8:])))
    ahead = query(churn, "SELECT count(*) FROM generate_series(0, 10) i WHERE to_regclass("
                         "'pgscore.prediction_log_' || to_char((now() AT TIME ZONE 'UTC')::date + i, 'YYYYMMDD')) IS NULL")
    assert ahead[0][0] > 0  # (install made 7 days ahead: the call below has days ahead to make)
    churn.notices.clear()
    assert query(churn, "SELECT pgscore.create_log_partitions(10)") == ahead
    said = [n for n in churn.notices if "create_log_partitions" in n]
    assert len(said) == 1 and said[0].startswith("WARNING:") and (
        f"{_day(3)} exists and is not a partition of pgscore.prediction_log: the day's rows stay in the default "
        "partition") in said[0], said
    assert query(churn, "SELECT count(*) FROM pgscore.prediction_log_default") == [(4,)]
    # pgscore maintain passes the WARNING on (on stderr, with its HINT), and says no past day made, the day's rows
    # left in the default partition pointing to the warning (not to run it again)
    r = pgscore_cli("maintain", "--db", churn.dsn)
    day = _iso(3)
    assert r.returncode == 0 and r.stdout == (
        f"prediction log: 0 daily partition(s) created\nprediction log: the default partition held 4 row(s) of {day} "
        f"(UTC); 4 of {day} stay there (the warning above says why)\n"), (r.stdout, r.stderr)
    assert (f"pgscore: WARNING:  pgscore.create_log_partitions: {_day(3)} exists and is not a partition" in r.stderr
            and "HINT:  rename it" in r.stderr), r.stderr
    # renamed out of the way, the day is made
    query(churn, sql.SQL("ALTER TABLE {} RENAME TO {}").format(
        sql.Identifier("pgscore", _day(3)[8:]), sql.Identifier(_day(3)[8:] + "_archived")))
    assert query(churn, "SELECT pgscore.create_log_partitions(0)") == [(1,)]
    assert query(churn, "SELECT count(*) FROM pgscore.prediction_log_default") == [(0,)]


def test_rows_at_minus_infinity_stay_in_the_default_partition(churn):
    """A row logged at -infinity (the log has no check that logged_at is finite) made the skip scan for past days
    find the same row as its next day for ever, holding the log's lock (the review of migration 0104): it stays in
    the default partition, and a past day beside it is made. Under a statement_timeout, so that a loop fails."""
    query(churn, "INSERT INTO pgscore.prediction_log (logged_at, model_id, features, score, source) "
                 "SELECT '-infinity', model_id, %s, 0.5, 'batch' FROM pgscore.models", (ROW,))
    query(churn, _PAST_ROWS, (5, ROW, 3))
    query(churn, "SET statement_timeout = '60s'")
    assert query(churn, "SELECT pgscore.create_log_partitions(0)") == [(1,)]
    assert query(churn, _WHERE, (5,)) == [(_day(5), 3)]
    assert query(churn, "SELECT count(*), min(logged_at) = '-infinity' FROM pgscore.prediction_log_default") == [
        (1, True)]


def test_retention_takes_the_logs_lock_before_it_reads_it(churn):
    """drop_log_partitions took no lock before it read the log: two calls at once (two hosts' jobs, two `pgscore
    maintain --keep`, which since 0104 runs retention first) each read it, then each waited for the other to drop
    a day, and one failed on the deadlock. It takes the log's own SHARE UPDATE EXCLUSIVE (ONLY) at its start now,
    as create_log_partitions does: held by a call whose transaction is open, a second call waits for it."""
    other = psycopg2.connect(churn.dsn)
    try:
        query(other, "SELECT pgscore.drop_log_partitions('30 days')")  # (in other's open transaction)
        pid = query(other, "SELECT pg_backend_pid()")[0][0]
        assert query(churn, "SELECT mode FROM pg_locks WHERE pid = %s AND relation = 'pgscore.prediction_log'::regclass "
                            "AND granted AND mode = 'ShareUpdateExclusiveLock'", (pid,)) == [("ShareUpdateExclusiveLock",)]
        query(churn, "SET lock_timeout = '1s'")
        with pytest.raises(psycopg2.errors.LockNotAvailable):
            query(churn, "SELECT pgscore.drop_log_partitions('30 days')")
    finally:
        other.rollback()
        other.close()
    query(churn, "RESET lock_timeout")
    assert query(churn, "SELECT pgscore.drop_log_partitions('30 days')") == [(0,)]


def test_maintain_says_the_past_days_it_made(churn):
    """pgscore maintain says which past days it made out of the default partition's rows (migration 0104), and
    status no longer says that those rows stay there until retention deletes them."""
    query(churn, _PAST_ROWS, (3, ROW, 4))
    out = pgscore_cli("status", "--db", churn.dsn).stdout
    assert "4 row(s) in the default partition, of days that had no partition of their own (the latest " \
           f"{_iso(3)} UTC): pgscore {hinted(churn.dsn)}maintain moves them into partitions of their days (31 days " \
           "a run)\n" in out, out
    day = datetime.datetime.strptime(_day(3)[-8:], "%Y%m%d").date()
    r = pgscore_cli("maintain", "--db", churn.dsn, env={"PGOPTIONS": "-c client_min_messages=warning"})
    assert r.returncode == 0, r.stderr
    assert (f"prediction log: 1 daily partition(s) created, of which 1 day(s) before {day + datetime.timedelta(3)} "
            f"made from the default partition's rows (4 row(s) moved): {day}\n"
            f"prediction log: the default partition held 4 row(s) of {day} (UTC); 4 of {day} moved into partitions "
            "of their days; none stay there\n") in r.stdout, r.stdout
    assert query(churn, "SELECT count(*) FROM pgscore.prediction_log_default") == [(0,)]
    r = pgscore_cli("maintain", "--db", churn.dsn)
    assert r.returncode == 0 and r.stdout == "prediction log: 0 daily partition(s) created\n", r.stdout


def _iso(days):
    """The UTC day `days` before today's (after it, where negative), as ISO text."""
    return (datetime.datetime.now(datetime.timezone.utc).date() - datetime.timedelta(days=days)).isoformat()


def test_maintain_and_status_say_the_rows_of_days_after_the_partitions_and_the_command_that_makes_them(churn):
    """Rows dated after the last partition made ahead (1,000 of a day 15 days ahead, past days too) wait in the
    default partition: maintain said only `0 daily partition(s) created`, and status `maintain moves them into
    partitions of their days (past days too, 31 a run), but for days after those it makes ahead (--days-ahead)`
    (the trial of session 58). Now maintain says the rows the default partition held and of which days, those it
    moved, and for those of the days after the last it made, the command with the --days-ahead that reaches
    them; status says that command too; run, it moves them."""
    query(churn, "SELECT pgscore.create_log_partitions()")
    query(churn, _PAST_ROWS, (-15, ROW, 1000))
    query(churn, _PAST_ROWS, (2, ROW, 3))
    out = pgscore_cli("status", "--db", churn.dsn).stdout
    assert f"prediction log: 1,003 row(s) in the default partition, of days that had no partition of their own (the " \
           f"latest {_iso(-15)} UTC): pgscore {hinted(churn.dsn)}maintain moves those of past days into partitions of " \
           f"their days (31 days a run); those of the days after {_iso(-7)}, the last partition's, stay there until " \
           f"their partitions are made: pgscore {hinted(churn.dsn)}maintain --days-ahead 15\n" in out, out
    r = pgscore_cli("maintain", "--db", churn.dsn)
    assert r.returncode == 0, r.stderr
    assert f"prediction log: the default partition held 1,003 row(s) of 2 days, {_iso(2)} to {_iso(-15)} (UTC); 3 " \
           f"of {_iso(2)} moved into partitions of their days; 1,000 of {_iso(-15)} stay there, after {_iso(-7)} " \
           f"(the last day made ahead): make their partitions with: pgscore {hinted(churn.dsn)}maintain " \
           "--days-ahead 15\n" in r.stdout, r.stdout
    assert query(churn, _WHERE, (-15,)) == [("pgscore.prediction_log_default", 1000)]
    r = pgscore_cli("maintain", "--days-ahead", "15", "--db", churn.dsn)
    assert r.returncode == 0, r.stderr
    assert f"prediction log: the default partition held 1,000 row(s) of {_iso(-15)} (UTC); 1,000 of {_iso(-15)} " \
           "moved into partitions of their days; none stay there\n" in r.stdout, r.stdout
    assert query(churn, _WHERE, (-15,)) == [(_day(-15), 1000)]
    out = pgscore_cli("status", "--db", churn.dsn).stdout
    assert "in the default partition" not in out, out
    r = pgscore_cli("maintain", "--db", churn.dsn)
    assert r.returncode == 0 and r.stdout == "prediction log: 0 daily partition(s) created\n", r.stdout


def test_maintain_over_its_count_s_bound_gives_the_days_ahead_that_reaches_the_latest_day(churn, monkeypatch, capsys):
    """Over the bound of its count (1,000,001 rows: here 6), maintain read the default partition's first rows (an
    index scan: the earliest days) and gave the --days-ahead of the latest day among them: 200,000 rows of a day 40
    days ahead, after 1,000,000 of one 20 days ahead and 1 of one 30 days ahead, were not said, and `--days-ahead 30`
    left them there while status said --days-ahead 40 (review rB, session 58). Now the latest day is read exactly
    (per model on the (model_id, logged_at) index, as status reads it), and the count said as at least."""
    from pgscore import cli, scoring

    query(churn, "SELECT pgscore.create_log_partitions()")
    query(churn, _PAST_ROWS, (-20, ROW, 10))
    query(churn, _PAST_ROWS, (-30, ROW, 1))
    query(churn, _PAST_ROWS, (-40, ROW, 2))
    monkeypatch.setattr(scoring, "DEFAULT_ROWS", 5)
    capsys.readouterr()
    assert cli.main(["maintain", "--db", churn.dsn]) == 0
    out = capsys.readouterr().out
    assert f"; at least 6 of days {_iso(-20)} to {_iso(-40)} stay there, after {_iso(-7)} (the last day made " \
           f"ahead): make their partitions with: pgscore {hinted(churn.dsn)}maintain --days-ahead 40\n" in out, out
    assert f"prediction log: the default partition held over 5 row(s) of days {_iso(-20)} to {_iso(-40)} (UTC); " \
        in out, out
    assert cli.main(["maintain", "--days-ahead", "40", "--db", churn.dsn]) == 0  # (as said: none stay there)
    out = capsys.readouterr().out
    assert f"prediction log: the default partition held over 5 row(s) of days {_iso(-20)} to {_iso(-40)} (UTC); at " \
           "least 6 of them moved into partitions of their days; none stay there\n" in out, out


def test_maintain_counts_what_stays_in_the_default_partition_after_letting_the_log_go(churn, monkeypatch):
    """maintain counted the default partition's rows (up to 1,000,001 of them: 0.7 s on a million) a second time
    inside the transaction that made the partitions, holding their ACCESS EXCLUSIVE lock on the default partition:
    every read of the log (the drift views, pgscore.predictions, status) and every row logged for a day with no
    partition waited behind the count (review rB, session 58). Now it counts after the partitions are committed: a
    read of the log during that count does not wait."""
    from pgscore import cli

    query(churn, "SELECT pgscore.create_log_partitions()")
    counted, waited = scoring._default_days, []

    def probed(conn):
        if conn.info.transaction_status != psycopg2.extensions.TRANSACTION_STATUS_IDLE or waited:
            # (the count after the partitions: does a logging INSERT wait for the log's locks meanwhile?)
            with psycopg2.connect(churn.dsn) as other, other.cursor() as cur:
                cur.execute("SET lock_timeout = '300ms'")
                try:
                    cur.execute("SELECT count(*) FROM pgscore.prediction_log")
                    waited.append(False)
                except psycopg2.errors.LockNotAvailable:
                    waited.append(True)
            other.close()
        return counted(conn)

    monkeypatch.setattr(scoring, "_default_days", probed)
    assert cli.main(["maintain", "--days-ahead", "9", "--db", churn.dsn]) == 0
    assert waited and not waited[-1], waited


def test_backfill_makes_at_most_31_past_days_a_call_the_newest_first(churn):
    """The bound of one call: 31 past days, the newest first (the days monitoring reads); the older wait for the
    next call (each past day's ATTACH reads the whole default partition under its lock)."""
    query(churn, "INSERT INTO pgscore.prediction_log (logged_at, model_id, features, score, source) "
                 "SELECT now() - g * interval '1 day', model_id, %s, 0.5, 'batch' FROM pgscore.models, "
                 "generate_series(1, 40) g", (ROW,))
    assert query(churn, "SELECT pgscore.create_log_partitions(0)") == [(31,)]
    assert query(churn, "SELECT count(*), max(logged_at) < now() - interval '31 days' "
                        "FROM pgscore.prediction_log_default") == [(9, True)]
    assert query(churn, "SELECT pgscore.create_log_partitions(0)") == [(9,)]
    assert query(churn, "SELECT count(*) FROM pgscore.prediction_log_default") == [(0,)]


def test_retention_drops_whole_days_and_their_rollups(churn):
    """Retention cuts at the start of the UTC day that holds now() - period, in the partitions and the
    default partition alike, and deletes the drift rollups of the days it drops (the drift views read
    the rollups as if their rows were still logged) and the outcomes of the predictions it deletes."""
    cut = "date_trunc('day', (now() AT TIME ZONE 'UTC') - interval '5 days') AT TIME ZONE 'UTC'"
    query(churn, "INSERT INTO pgscore.prediction_log (logged_at, model_id, features, score, source) "
                 f"SELECT at, model_id, %s, 0.5, 'batch' FROM pgscore.models, (VALUES (now() - interval '10 days'), "
                 f"({cut} - interval '1 second'), ({cut} + interval '1 second'), (now() - interval '2 days')) v(at)",
                 (ROW,))
    query(churn, "SELECT * FROM pgscore.refresh_monitoring(p_rebuild => true)")
    rolled = "SELECT count(*) FILTER (WHERE bucket < {c}), count(*) FILTER (WHERE bucket >= {c}) FROM pgscore.drift_rollup"
    (before, after), = query(churn, rolled.format(c=cut))
    assert before > 0 and after > 0
    (day_before,), = query(churn, f"SELECT count(*) FROM pgscore.drift_rollup_day WHERE day < {cut}")
    assert day_before > 0
    # an outcome of a prediction before the cut goes with it, whenever it was observed (c); one judging
    # nothing, observed before the cut, has nothing left to judge (a); the others stay (b, d)
    query(churn, "INSERT INTO pgscore.outcomes (model_name, entity_key, outcome, observed_at, predicted_at, "
                 "judged_at) VALUES "
                 f"('churn', 'a', '1', {cut} - interval '1 second', NULL, now()), ('churn', 'b', '1', {cut}, NULL, now()), "
                 f"('churn', 'c', '1', now(), {cut} - interval '1 second', now()), "
                 f"('churn', 'd', '1', now(), {cut} + interval '1 second', now())")
    # and one recorded before migration 0033, not yet paired by a refresh: paired first, then deleted with its
    # prediction (it was kept, and counted as unmatched)
    query(churn, "INSERT INTO pgscore.prediction_log (logged_at, model_id, entity_key, features, score, source) "
                 f"SELECT {cut} - interval '2 seconds', model_id, 'e', %s, 0.5, 'batch' FROM pgscore.models", (ROW,))
    query(churn, "INSERT INTO pgscore.outcomes (model_name, entity_key, outcome) VALUES ('churn', 'e', '1')")
    del churn.notices[:]
    query(churn, "SET TimeZone = 'America/New_York'")  # the cut is in UTC days whatever the session's zone
    assert query(churn, "SELECT pgscore.drop_log_partitions('5 days')") == [(0,)]  # the old days were unpartitioned
    assert query(churn, f"SELECT count(*) FILTER (WHERE logged_at < {cut}), count(*) FROM pgscore.prediction_log") \
        == [(0, 2)]  # the second after the cut is kept with its whole day
    assert query(churn, rolled.format(c=cut)) == [(0, after)]
    assert query(churn, f"SELECT count(*) FROM pgscore.drift_rollup_day WHERE day < {cut}") == [(0,)]
    said = [n for n in churn.notices if "drop_log_partitions" in n]
    assert said and "0 daily partition(s) dropped, 3 row(s) deleted from the default partition" in said[-1], said
    assert query(churn, "SELECT entity_key FROM pgscore.outcomes ORDER BY 1") == [("b",), ("d",)]
    assert "3 outcome(s) of those days deleted" in said[-1], said
    assert f"{before + day_before} rollup row(s) deleted ({before} of 5 minutes, {day_before} of a day)" in said[-1]
    with pytest.raises(psycopg2.Error) as e:
        query(churn, "SELECT pgscore.drop_log_partitions('0')")
    assert e.value.pgcode == "22023" and "positive" in e.value.pgerror


def test_cli_score_and_maintain(churn):
    url = churn.dsn
    query(churn, "CREATE TABLE profiles (customer_id text PRIMARY KEY, "
                 + ", ".join(f"{n} float8" for n in NAMES) + ", churn_score float8)")
    query(churn, "INSERT INTO profiles SELECT 'c' || lpad(i::text, 5, '0'), "
                 + ", ".join(f"%s + i" for _ in NAMES) + ", NULL FROM generate_series(1, 2500) i", ROW)
    r = pgscore_cli_on_a_terminal("score", "--model", "churn", "--table", "profiles", "--key", "customer_id",
                                  "--into", "churn_score", "--chunk-size", "1000", "--after", "c01000", "--db", url)
    assert r.returncode == 0, r.stderr
    assert "scored 1500 rows" in r.stdout and "| 1500/1500 [" in r.stderr, r.stderr  # the progress bar, at its end
    assert "0.00/" not in r.stderr and ".0/" not in r.stderr  # drawn from the first chunk, in whole rows
    assert query(churn, "SELECT count(churn_score), min(customer_id) FILTER (WHERE churn_score IS NOT NULL) "
                        "FROM profiles") == [(1500, "c01001")]
    assert logged(churn, "source = 'batch'") == 1500
    r = pgscore_cli("score", "--model", "churn", "--table", "profiles", "--key", "nope", "--into", "churn_score",
                    "--db", url)
    assert r.returncode == 1 and "nope" in r.stderr and "%|" not in r.stderr  # an error, and no progress bar
    r = pgscore_cli("maintain", "--days-ahead", "10", "--keep", "90 days", "--db", url)
    assert r.returncode == 0 and "3 daily partition(s) created" in r.stdout, r.stdout + r.stderr
    assert "retention '90 days', before " in r.stdout and "0 row(s) deleted from the default partition" in r.stdout
    # what retention deleted is drop_log_partitions' NOTICE: said too where the user's session drops NOTICEs
    r = pgscore_cli("maintain", "--keep", "90 days", "--db", url, env={"PGOPTIONS": "-c client_min_messages=warning"})
    assert r.returncode == 0 and "0 daily partition(s) created" in r.stdout, r.stdout + r.stderr
    assert "retention '90 days', before " in r.stdout and "0 row(s) deleted from the default partition" in r.stdout
    r = pgscore_cli("maintain", "--keep", "garbage", "--db", url)
    assert r.returncode == 2 and "--keep 'garbage' is not an interval" in r.stderr and "90 days" in r.stderr
    for empty in ("", "  "):  # `--keep "$KEEP"` with KEEP unset in a cron job: refused, not a run without retention
        r = pgscore_cli("maintain", "--keep", empty, "--db", url)
        assert r.returncode == 2 and "--keep is empty: retention needs an interval" in r.stderr, r.stderr


def test_one_score_runs_rows_share_one_run_id_and_another_run_has_its_own(churn):
    """`pgscore score` logs each chunk with its own statement's statement_at (a compliance trial of session 63:
    grouping by it counted one run of 3 chunks as 3 runs). Every row of a run now says the run in cause->>'run' (the
    run's start in statement_at's form and its server process), the same in each chunk; a second run has another.
    A CALL of score_table is one run too; a driver of its own names its run by pgscore.run; a query's rows name none."""
    url = churn.dsn
    query(churn, "CREATE TABLE profiles (customer_id text PRIMARY KEY, "
                 + ", ".join(f"{n} float8" for n in NAMES) + ", churn_score float8)")
    query(churn, "INSERT INTO profiles SELECT 'c' || lpad(i::text, 5, '0'), "
                 + ", ".join(f"%s + i" for _ in NAMES) + ", NULL FROM generate_series(1, 2500) i", ROW)
    runs = []
    for _ in range(2):
        query(churn, "UPDATE profiles SET churn_score = NULL")
        r = pgscore_cli("score", "--model", "churn", "--table", "profiles", "--key", "customer_id", "--into",
                        "churn_score", "--chunk-size", "1000", "--db", url)
        assert r.returncode == 0, r.stderr
        runs.append(query(churn, "SELECT cause->>'run', count(*), count(DISTINCT cause->>'statement_at'), "
                                 "min(cause->>'statement_at') FROM pgscore.prediction_log WHERE source = 'batch' "
                                 "AND coalesce(cause->>'run', '') <> ALL(%s::text[]) GROUP BY 1",
                          ([row[0] for rows in runs for row in rows],)))
    (first, n1, chunks1, at1), = runs[0]
    (second, n2, chunks2, _), = runs[1]
    assert (n1, chunks1, n2, chunks2) == (2500, 3, 2500, 3)  # one run id over 3 chunks' statement_at, each run
    assert first is not None and second is not None and first != second
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00/\d+", first), first
    assert first.split("/")[0] < at1  # the run's start, before its first chunk's statement
    # a CALL: its chunks are one statement, one run (its start and its backend)
    query(churn, "UPDATE profiles SET churn_score = NULL")
    query(churn, "CALL pgscore.score_table('churn', 'profiles', 'customer_id', 'churn_score', 1000)")
    call = query(churn, "SELECT cause->>'run' = (cause->>'statement_at') || '/' || (cause->>'backend'), count(*) "
                        "FROM pgscore.prediction_log WHERE source = 'batch' AND cause->>'run' <> ALL(%s) GROUP BY 1",
                 ([first, second],))
    assert call == [(True, 2500)]
    # the library on a caller's connection: one run, and the session's pgscore.run unset again at its end
    caller = psycopg2.connect(url)
    try:
        query(churn, "UPDATE profiles SET churn_score = NULL")
        assert scoring.score_table(caller, "churn", "profiles", "customer_id", "churn_score", chunk_size=1000,
                                   progress=False)["rows"] == 2500
        assert query(caller, "SELECT current_setting('pgscore.run', true)") == [("",)]
    finally:
        caller.close()
    assert query(churn, "SELECT count(DISTINCT cause->>'run'), count(DISTINCT cause->>'statement_at') "
                        "FROM pgscore.prediction_log WHERE source = 'batch' AND cause->>'run' <> ALL(%s) "
                        "AND cause->>'run' <> (cause->>'statement_at') || '/' || (cause->>'backend')",
                 ([first, second],)) == [(1, 3)]
    # a driver of its own calls score_chunk chunk by chunk, naming its run
    query(churn, "SET pgscore.run = 'nightly-2026-12-06'")
    for after in (None, "c01000"):
        query(churn, "SELECT * FROM pgscore.score_chunk('churn', 'profiles', 'customer_id', 'churn_score', %s, 1000)",
              (after,))
    query(churn, "RESET pgscore.run")
    assert query(churn, "SELECT count(*), count(DISTINCT cause->>'statement_at') FROM pgscore.prediction_log "
                        "WHERE cause->>'run' = 'nightly-2026-12-06'") == [(2000, 2)]
    # a query's rows: no run (the statement is its own), whatever pgscore.run says
    query(churn, "SET pgscore.run = 'x'")
    query(churn, "SELECT pgscore.score('churn', %s::float8[])", (ROW,))
    assert query(churn, "SELECT cause ? 'run' FROM pgscore.prediction_log WHERE source = 'query'") == [(False,)]


def test_each_predict_batch_call_is_a_run_of_its_own(churn):
    """predict_batch's rows had no cause->>'run' (a data engineer's trial of session 64: docs/sql.md's "runs of a
    model" query gave one NULL row for four calls: a dbt table, a materialized view's create and refresh, a CTAS).
    Each call is a run now, as a CALL of score_table is (its statement's start and server process), on both of its
    paths (one SQL statement for a linear model, chunks for another) and over all of its chunks; a session that names
    its run (pgscore.run) names predict_batch's too."""
    from sklearn.ensemble import RandomForestClassifier

    registry.deploy(churn.dsn, "rf", RandomForestClassifier(n_estimators=5, random_state=0).fit(X, Y), X, Y,
                    feature_names=NAMES, compile=False)
    batch = ("SELECT count(*) FROM pgscore.predict_batch(%s, 'SELECT id, f AS features FROM customers "
             "WHERE id <= 250', p_chunk_size => 100)")
    for model in ("churn", "churn", "rf", "rf"):
        query(churn, batch, (model,))
    runs = query(churn, "SELECT model, cause->>'run', count(*), count(DISTINCT cause->>'statement_at'), "
                        "bool_and(cause->>'run' = (cause->>'statement_at') || '/' || (cause->>'backend')) "
                        "FROM pgscore.predictions WHERE source = 'batch' GROUP BY 1, 2 ORDER BY 1, 2")
    expected = [("churn", 250, 1, True)] * 2 + [("rf", 250, 1, True)] * 2
    assert [(m, n, at, own) for m, _, n, at, own in runs] == expected, runs
    assert len({r[1] for r in runs}) == 4 and all(r[1] is not None for r in runs)
    query(churn, "SET pgscore.run = 'dbt-2026-12-06'")
    for model in ("churn", "rf"):
        query(churn, batch, (model,))
    query(churn, "RESET pgscore.run")
    assert query(churn, "SELECT count(*), count(DISTINCT cause->>'statement_at') FROM pgscore.predictions "
                        "WHERE cause->>'run' = 'dbt-2026-12-06'") == [(500, 2)]
    # docs/sql.md's runs of a model, newest first: one row a call (it was one NULL row of 750)
    doc = (Path(__file__).parent.parent / "docs" / "sql.md").read_text()
    (runs_query,) = re.findall(r"`(SELECT cause->>'run', count\(\*\)[^`]*)`", doc)
    assert [(run == "dbt-2026-12-06", n) for run, n, _ in query(churn, runs_query.replace("'churn'", "'rf'"))] \
        == [(True, 250), (False, 250), (False, 250)]


def test_two_predict_batch_calls_in_one_statement_are_two_runs(churn):
    """Each predict_batch call is a run, docs/sql.md and guide.md say; but the run was the statement's start and
    server process, so two calls in one statement (a UNION ALL of two, a function calling it twice, a dbt model's
    SQL with two) were one run, their rows told apart by nothing (review r5 of session 64: 30 rows of 2 calls, one
    run). The second call of a statement is `<statement_at>/<backend>#2`, and so on; the first keeps score_table's
    shape; a session's pgscore.run still names them all."""
    q = ("SELECT count(*) FROM (SELECT * FROM pgscore.predict_batch('churn', 'SELECT id, f AS features FROM "
         "customers WHERE id <= 10') UNION ALL SELECT * FROM pgscore.predict_batch('churn', 'SELECT id, f AS "
         "features FROM customers WHERE id > 10 AND id <= 30')) s")
    assert query(churn, q) == [(30,)]
    runs = query(churn, "SELECT cause->>'run', (cause->>'statement_at') || '/' || (cause->>'backend'), count(*) "
                        "FROM pgscore.predictions WHERE source = 'batch' GROUP BY 1, 2 ORDER BY 1")
    assert [(run[len(own):], n) for run, own, n in runs] == [("", 10), ("#2", 20)], runs
    assert query(churn, q) == [(30,)]  # the next statement starts again at its first call
    assert query(churn, "SELECT count(DISTINCT cause->>'run') FROM pgscore.predictions WHERE source = 'batch' "
                        "AND cause->>'run' NOT LIKE '%#%'") == [(2,)]
    query(churn, "SET pgscore.run = 'dbt-2026-12-06'")
    try:
        assert query(churn, q) == [(30,)]
    finally:
        query(churn, "RESET pgscore.run")
    assert query(churn, "SELECT count(*) FROM pgscore.predictions WHERE cause->>'run' = 'dbt-2026-12-06'") == [(30,)]


def test_maintain_keep_too_long_is_said_to_be_too_long(churn):
    """--keep '1000000 years' is an interval, too long to subtract from now (timestamp out of range, 22008):
    said so, not 'not an interval PostgreSQL reads'; an interval out of range itself is not one it reads."""
    r = pgscore_cli("maintain", "--keep", "1000000 years", "--db", churn.dsn)
    assert r.returncode == 2 and "--keep '1000000 years' reaches back before the earliest time PostgreSQL " \
        "holds" in r.stderr and "not an interval" not in r.stderr, r.stderr
    r = pgscore_cli("maintain", "--keep", "300000000 years", "--db", churn.dsn)
    assert r.returncode == 2 and "--keep '300000000 years' is not an interval PostgreSQL reads" in r.stderr, r.stderr


def test_maintain_keep_too_long_is_said_so_whatever_the_servers_language(churn):
    """The SQLSTATE tells a --keep too long from one that is no interval, not the server's message, which
    lc_messages translates (Ukrainian: "позначка часу поза діапазоном"; skipped where the system has no
    uk_UA.UTF-8 locale)."""
    try:
        query(churn, "SET lc_messages = 'uk_UA.UTF-8'")
    except psycopg2.Error:
        pytest.skip("no uk_UA.UTF-8 locale: localedef -i uk_UA -f UTF-8 uk_UA.UTF-8")
    finally:
        query(churn, "RESET lc_messages")
    ukrainian = {"PGOPTIONS": "-c lc_messages=uk_UA.UTF-8"}
    r = pgscore_cli("maintain", "--keep", "1000000 years", "--db", churn.dsn, env=ukrainian)
    assert r.returncode == 2 and "--keep '1000000 years' reaches back before the earliest time PostgreSQL " \
        "holds" in r.stderr, r.stderr
    for garbage in ("300000000 years", "garbage"):
        r = pgscore_cli("maintain", "--keep", garbage, "--db", churn.dsn, env=ukrainian)
        assert r.returncode == 2 and f"--keep '{garbage}' is not an interval PostgreSQL reads" in r.stderr, r.stderr


def test_a_chunk_error_names_the_key_of_the_row_at_fault(db_url):
    """A feature the model takes NaN in (imputed) next to one it does not: the error names the row whose
    refused feature is missing or infinite, not the first row holding a NaN."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer

    pre = ColumnTransformer([("imp", SimpleImputer(), [0]), ("rest", "passthrough", list(range(1, 12)))])
    model = make_pipeline(pre, LogisticRegression(max_iter=500)).fit(X, Y)
    registry.deploy(db_url, "partial", model, X, Y, feature_names=NAMES)
    rows = "SELECT g, ARRAY[CASE WHEN g <= 3 THEN 'NaN'::float8 ELSE 1 END, CASE WHEN g = 7 THEN {} ELSE 2 END, " \
           "3, 4, 5, 6, 7, 8, 9, 10, 11, 12]::float8[] AS features FROM generate_series(1, 20) g"
    for value, said in (("'NaN'::float8", "is NULL or NaN (key '7')"), ("'Infinity'::float8", "is infinite (key '7')")):
        with pytest.raises(psycopg2.Error) as e:
            query(db_url, "SELECT count(*) FROM pgscore.predict_batch('partial', %s)", (rows.format(value),))
        assert e.value.pgcode == "22023" and f"feature '{NAMES[1]}' {said}" in e.value.pgerror, e.value.pgerror
    (n,), = query(db_url, "SELECT count(*) FROM pgscore.predict_batch('partial', %s)", (rows.format("2"),))
    assert n == 20  # the imputed NaN alone is no error


def test_cli_score_names_the_key_scikit_learn_refuses_and_no_version_it_lacks(churn):
    """A model scikit-learn scores (deployed without compiling it): the row it refuses for a NaN is named by
    its key and feature, as the compiled models' are (it said "Input X contains NaN." alone); a --version
    that does not exist is an error without the note that it scores with it."""
    registry.deploy(churn.dsn, "sk", LogisticRegression(max_iter=500).fit(X, Y), X, Y, feature_names=NAMES,
                    compile=False)
    query(churn, "CREATE TABLE t (id int PRIMARY KEY, features float8[], s float8)")
    query(churn, "INSERT INTO t SELECT i, %s, NULL FROM generate_series(1, 50) i", (ROW,))
    query(churn, "UPDATE t SET features[2] = 'NaN' WHERE id IN (30, 40)")
    r = pgscore_cli("score", "--model", "sk", "--table", "t", "--key", "id", "--into", "s", "--quiet",
                    "--db", churn.dsn)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert "cannot take NULL/NaN in feature 'monthly_charges' (key '30' and 1 more in this chunk of 50)" \
        in r.stderr, r.stderr  # (the row's own wording, as a chunk of it alone says it: session 55)
    # a forest takes a NaN, and refuses a value beyond float32's range: that row is named, not the NaN's
    from sklearn.ensemble import RandomForestClassifier

    registry.deploy(churn.dsn, "rf", RandomForestClassifier(n_estimators=5, random_state=0).fit(X, Y), X, Y,
                    feature_names=NAMES, compile=False)
    query(churn, "UPDATE t SET features[3] = 1e39 WHERE id = 45")
    r = pgscore_cli("score", "--model", "rf", "--table", "t", "--key", "id", "--into", "s", "--quiet",
                    "--db", churn.dsn)
    assert r.returncode == 1 and f"cannot take 1e+39 in feature {NAMES[2]!r} (key '45') (SQLSTATE 22023)" in r.stderr, \
        r.stderr
    r = pgscore_cli("score", "--model", "sk", "--table", "t", "--key", "id", "--into", "s", "--version", "9",
                    "--quiet", "--db", churn.dsn)
    assert r.returncode == 1 and "there is no version 9 of model 'sk' (SQLSTATE 42704)" in r.stderr, r.stderr
    assert "note" not in r.stderr and "scoring with v9" not in r.stderr, r.stderr


def test_cli_score_failing_mid_way_says_where_to_resume(churn):
    """A row that cannot be scored stops the run at its chunk; the chunks before it are committed, and
    the message says so, with the arguments that go on from there once the row is fixed."""
    query(churn, "CREATE TABLE t (id int PRIMARY KEY, features float8[], s float8)")
    query(churn, "INSERT INTO t SELECT i, %s, NULL FROM generate_series(1, 250) i", (ROW,))
    query(churn, "UPDATE t SET features[2] = 'NaN' WHERE id = 230")
    r = pgscore_cli("score", "--model", "churn", "--table", "t", "--key", "id", "--into", "s", "--chunk-size",
                    "100", "--quiet", "--db", churn.dsn)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "feature 'monthly_charges' is NULL or NaN (key '230')" in r.stderr, r.stderr
    assert "200 rows were scored and committed before the error; once it is fixed, resume with: --after=200 " \
           "--version 1" in r.stderr, r.stderr
    assert query(churn, "SELECT count(s) FROM t") == [(200,)]
    query(churn, "UPDATE t SET features[2] = 1 WHERE id = 230")
    r = pgscore_cli("score", "--model", "churn", "--table", "t", "--key", "id", "--into", "s", "--after", "200",
                    "--version", "1", "--quiet", "--db", churn.dsn)
    assert r.returncode == 0 and query(churn, "SELECT count(s) FROM t") == [(250,)]
    assert "note" not in r.stderr  # v1 is live
    # an --after that is no value of the key (edited by hand) names the option and the column
    r = pgscore_cli("score", "--model", "churn", "--table", "t", "--key", "id", "--into", "s", "--after", "abc",
                    "--quiet", "--db", churn.dsn)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "usage: pgscore score" in r.stderr
    assert "--after abc is not a value of id, the key of t: invalid input syntax for type integer" \
        in r.stderr, r.stderr
    # a resume line run after the model was retired scores with the version it names, and says so
    query(churn, "SELECT pgscore.retire('churn')")
    r = pgscore_cli("score", "--model", "churn", "--table", "t", "--key", "id", "--into", "s", "--after", "240",
                    "--version", "1", "--quiet", "--db", churn.dsn)
    assert r.returncode == 0 and "pgscore: note: churn v1 is not the live version (no version is); scoring " \
        "with v1 as --version asks" in r.stderr, r.stderr
    # without --version: the hint names the model, in the command that makes one live (and so does drift's)
    r = pgscore_cli("score", "--model", "churn", "--table", "t", "--key", "id", "--into", "s", "--quiet",
                    "--db", churn.dsn)
    assert r.returncode == 1 and "activate churn VERSION" in r.stderr and "NAME" not in r.stderr, r.stderr
    r = pgscore_cli("drift", "churn", "--db", churn.dsn)
    assert r.returncode == 2 and "activate churn VERSION" in r.stderr and "SELECT" not in r.stderr, r.stderr
    # a chunk longer than the role's statement_timeout: the hint says what to lower
    query(churn, "SELECT pgscore.activate('churn', 1)")
    query(churn, "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS "
                 "$$ BEGIN PERFORM pg_sleep(0.01); RETURN NEW; END $$")
    query(churn, "CREATE TRIGGER slow BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION slow()")
    r = pgscore_cli("score", "--model", "churn", "--table", "t", "--key", "id", "--into", "s", "--quiet",
                    "--db", churn.dsn, env={"PGOPTIONS": "-c statement_timeout=300"})
    # (exit 75, EX_TEMPFAIL, since session 62: stopped by no fault of the data, docs/cli.md exit codes)
    assert r.returncode == 75 and "canceling statement due to statement timeout" in r.stderr, r.stderr
    assert "which a smaller --chunk-size shortens" in r.stderr and "Traceback" not in r.stderr


def test_score_table_takes_a_notebooks_sqlalchemy_engine_its_url_or_that_url_as_text(churn, db_url):
    """Session 66, h7 (review r4's left item): scoring.score_table did not take what registry's functions take as db
    since this session: a postgresql+psycopg:// URL failed with psycopg2's `invalid dsn: missing "=" after
    "postgresql+psycopg://..."`, an engine or engine.url, taken for a connection, with an AttributeError. Each is
    taken as its URL now, and an SQLAlchemy Connection is refused as registry refuses it."""
    from sqlalchemy import create_engine

    from pgscore import scoring
    from pgscore.errors import UsageError

    query(churn, "CREATE TABLE t (id int PRIMARY KEY, features float8[], s float8)")
    query(churn, "INSERT INTO t SELECT i, %s, NULL FROM generate_series(1, 250) i", (ROW,))
    url = db_url.replace("postgresql://", "postgresql+psycopg://", 1)
    assert url != db_url
    engine = create_engine(url)
    try:
        for db in (url, engine.url, engine):
            query(churn, "UPDATE t SET s = NULL")
            done = scoring.score_table(db, "churn", "t", "id", "s", chunk_size=100, progress=False)
            assert done["rows"] == 250, (db, done)
            assert query(churn, "SELECT count(*) FROM t WHERE s IS NULL") == [(0,)], db
        with engine.begin() as conn:
            with pytest.raises(UsageError, match="db is an SQLAlchemy Connection, which pgscore does not use"):
                scoring.score_table(conn, "churn", "t", "id", "s", chunk_size=100, progress=False)
    finally:
        engine.dispose()


def test_score_progress_off_a_terminal_is_plain_lines(churn, capsys, monkeypatch):
    """Where stderr is not a terminal (a log file, cron's mail), progress is a line now and then, not a
    bar redrawn with carriage returns."""
    from pgscore import scoring

    query(churn, "CREATE TABLE t (id int PRIMARY KEY, features float8[], s float8)")
    query(churn, "INSERT INTO t SELECT i, %s, NULL FROM generate_series(1, 250) i", (ROW,))
    monkeypatch.setattr(scoring._Lines, "LINE_EVERY", 0.0)
    done = scoring.score_table(churn.dsn, "churn", "t", "id", "s", chunk_size=100, progress=True)
    assert done["rows"] == 250
    err = capsys.readouterr().err
    assert "\r" not in err
    # a line when it starts (once its first chunk is in), then the progress lines, each stamped with its time
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[+-]\d{4} "
    lines = err.splitlines()
    assert re.fullmatch(stamp + r"churn -> t\.s: started, 250 rows to score, backend \d+", lines[0]), lines
    assert re.match(stamp + r"churn -> t\.s: 200 of 250 rows \(80%\), [\d,]+ rows/s$", lines[1]), lines
    assert re.match(stamp + r"churn -> t\.s: 250 of 250 rows \(100%\), [\d,]+ rows/s$", lines[2]), lines


def test_cli_score_lines_off_a_terminal_say_where_to_resume_and_survive_a_sigkill(churn, tmp_path, monkeypatch,
                                                                                   capsys):
    """Off a terminal (cron's log file) each progress line ends with the options that resume after the rows
    committed so far, and every line is in the file as soon as it is printed: a run killed by SIGKILL (the OOM
    killer) left an empty log before (user trial hT8, finding 5), with no start line and no resume point."""
    import shlex
    import sys

    from pgscore import cli

    query(churn, "CREATE TABLE t (id int PRIMARY KEY, features float8[], s float8)")
    query(churn, "INSERT INTO t SELECT i, %s, NULL FROM generate_series(1, 250) i", (ROW,))
    monkeypatch.setattr(scoring._Lines, "LINE_EVERY", 0.0)
    assert cli.main(["score", "--model", "churn", "--table", "t", "--key", "id", "--into", "s", "--where",
                     "s IS NULL", "--chunk-size", "100", "--db", churn.dsn]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert lines[1].endswith(" rows/s; committed, resume with: --after=200 --version 1 --where='s IS NULL'"), lines
    assert shlex.split(lines[1].split("resume with: ")[1])[0] == "--after=200"
    # SIGKILL, stderr a file: the lines printed before it are in the file
    query(churn, "UPDATE t SET s = NULL; CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS "
                 "$$BEGIN PERFORM pg_sleep(0.5); RETURN NULL; END$$; "
                 "CREATE TRIGGER slow AFTER UPDATE ON t FOR EACH STATEMENT EXECUTE FUNCTION slow()")
    log = tmp_path / "cron.log"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    with open(log, "w") as out:
        p = subprocess.Popen([sys.executable, "-m", "pgscore.cli", "score", "--model", "churn", "--table", "t",
                              "--key", "id", "--into", "s", "--chunk-size", "50", "--db", churn.dsn],
                             stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    deadline = time.time() + 120
    while query(churn, "SELECT count(s) FROM t")[0][0] < 100 and p.poll() is None:
        assert time.time() < deadline
        time.sleep(0.05)
    p.send_signal(signal.SIGKILL)
    p.wait(30)
    said = log.read_text()
    started = re.fullmatch(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[+-]\d{4}) churn -> t\.s: started, 250 rows to score, "
                           r"backend (\d+)\n", said.splitlines(keepends=True)[0])
    assert started, said
    # docs/cli.md's exact point, after another run of the model since (another table, the same keys): the start
    # line's backend, not the newest run's (review r5: that query gave the other run's last key, 250 here)
    query(churn, "CREATE TABLE u (id int PRIMARY KEY, features float8[], s float8)")
    query(churn, "INSERT INTO u SELECT i, %s, NULL FROM generate_series(1, 250) i", (ROW,))
    assert cli.main(["score", "--model", "churn", "--table", "u", "--key", "id", "--into", "s", "--db", churn.dsn]) == 0
    point = query(churn, "SELECT max(a.id) AS after, min(p.version) AS version "
                         "FROM pgscore.predictions p JOIN t a ON a.id = p.entity_key::bigint "
                         "WHERE p.model = 'churn' AND p.source = 'batch' AND p.logged_at >= %s "
                         "AND p.cause->>'backend' = %s", started.groups())
    assert point == [(query(churn, "SELECT max(id) FROM t WHERE s IS NOT NULL")[0][0], 1)], point


@pytest.mark.parametrize("signum", ["SIGINT", "SIGTERM"])
def test_cli_score_interrupted_keeps_finished_chunks(churn, tmp_path, signum):
    """SIGINT (Ctrl-C) or SIGTERM (timeout, systemd) in the middle: the committed chunks stay, and the
    message says where to resume, quoted for a shell whatever the key holds (a backslash, a quote, a
    dollar sign); resumed as printed, every row is scored and logged once."""
    import os
    import shlex
    import signal
    import sys
    import time

    query(churn, "CREATE TABLE big (id text PRIMARY KEY, features float8[], s float8)")
    query(churn, "INSERT INTO big SELECT 'k\\' || lpad(i::text, 7, '0') || '''$\"', %s::float8[], NULL "
                 "FROM generate_series(1, 200000) i", (ROW,))
    assert query(churn, "SELECT min(id) FROM big") == [("k\\0000001'$\"",)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    p = subprocess.Popen([sys.executable, "-m", "pgscore.cli", "score", "--model", "churn", "--table", "big",
                          "--key", "id", "--into", "s", "--chunk-size", "2000", "--quiet", "--db", churn.dsn],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.time() + 600  # a bound for a hung run, not a speed: it fails as such
    while query(churn, "SELECT count(s) FROM big")[0][0] < 4000 and p.poll() is None:
        assert time.time() < deadline, "pgscore score committed no 2 chunks in 10 minutes"
        time.sleep(0.05)
    assert p.poll() is None, "the run ended before it could be interrupted: " + p.communicate()[1]
    p.send_signal(getattr(signal, signum))
    out, err = p.communicate(timeout=60)
    # (a SIGTERM, a scheduler's task timeout: 75, try again later, since session 65; it exited 130 as a Ctrl-C)
    assert p.returncode == (130 if signum == "SIGINT" else 75), err
    (done,), = query(churn, "SELECT count(s) FROM big")
    assert 0 < done < 200000 and done % 2000 == 0
    said = "interrupted" if signum == "SIGINT" else "stopped by a SIGTERM"
    assert f"pgscore: {said} after {done} rows (committed); resume with: --after=" in err, err
    resume = shlex.split(err.split("resume with: ")[1].strip())  # as a shell reads it
    assert resume[0] == "--after=" + query(churn, "SELECT max(id) FROM big WHERE s IS NOT NULL")[0][0], resume
    r = pgscore_cli("score", "--model", "churn", "--table", "big", "--key", "id", "--into", "s", *resume,
                    "--quiet", "--db", churn.dsn)
    assert r.returncode == 0, r.stderr
    assert query(churn, "SELECT count(s) FROM big") == [(200000,)]
    assert query(churn, "SELECT count(*), count(DISTINCT entity_key) FROM pgscore.prediction_log "
                        "WHERE source = 'batch'") == [(200000, 200000)]


def test_cli_score_second_ctrl_c_cancels_the_chunk_in_flight(churn):
    """The first Ctrl-C waits for the chunk in flight; a second one stops at once: the chunk's statement is
    cancelled on the server and rolled back, not left to finish (here it would take 40 s)."""
    import os
    import signal
    import sys
    import time

    query(churn, "CREATE TABLE slow (id int PRIMARY KEY, features float8[], s float8)")
    query(churn, "INSERT INTO slow SELECT i, %s::float8[], NULL FROM generate_series(1, 400) i", (ROW,))
    query(churn, "CREATE FUNCTION slow_down() RETURNS trigger LANGUAGE plpgsql "
                 "AS $$ BEGIN PERFORM pg_sleep(0.1); RETURN NEW; END $$")
    query(churn, "CREATE TRIGGER slow BEFORE UPDATE ON slow FOR EACH ROW EXECUTE FUNCTION slow_down()")
    running = ("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%%score_chunk%%' "
               "AND pid <> pg_backend_pid()")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    p = subprocess.Popen([sys.executable, "-m", "pgscore.cli", "score", "--model", "churn", "--table", "slow",
                          "--key", "id", "--into", "s", "--chunk-size", "1000", "--quiet", "--db", churn.dsn],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.time() + 120
    while query(churn, running) != [(1,)] and p.poll() is None:
        assert time.time() < deadline, "the chunk never started"
        time.sleep(0.05)
    p.send_signal(signal.SIGINT)
    time.sleep(0.3)
    assert p.poll() is None, "the first Ctrl-C stopped the chunk in flight: " + p.communicate()[1]
    sent = time.time()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert time.time() - sent < 20, "the second Ctrl-C waited for the chunk"  # 40 s of pg_sleep if left to run
    assert "interrupted before the first chunk was committed: nothing was written" in err, err
    assert "Traceback" not in err and query(churn, "SELECT count(s) FROM slow") == [(0,)]
    while query(churn, running) != [(0,)]:  # cancelled, not left running on the server
        assert time.time() - sent < 20, "the chunk's statement still runs on the server"
        time.sleep(0.05)


def test_score_a_second_ctrl_c_during_a_commit_waits_for_it(churn):
    """A second Ctrl-C while a chunk's COMMIT is in flight (the server may have committed it already) waits
    until the chunk is committed and counted, then stops: the resume point is the last committed key, not a
    chunk behind (resuming would score and log that chunk twice). Not a race against a timer: the two
    Ctrl-Cs are raised inside commit() once the server has committed (signal.raise_signal runs the handler
    before it returns), where a Ctrl-C arriving while COMMIT's reply is awaited lands."""
    import signal

    from pgscore import scoring

    query(churn, "CREATE TABLE t (id int PRIMARY KEY, features float8[], s float8)")
    query(churn, "INSERT INTO t SELECT i, %s, NULL FROM generate_series(1, 300) i", (ROW,))

    class Interrupted(psycopg2.extensions.connection):
        commits = 0

        def commit(self):
            super().commit()
            Interrupted.commits += 1
            if Interrupted.commits == 2:  # the first chunk's (the first ends the count of the rows to score)
                signal.raise_signal(signal.SIGINT)
                signal.raise_signal(signal.SIGINT)

    before = signal.getsignal(signal.SIGINT)
    conn = psycopg2.connect(churn.dsn, connection_factory=Interrupted)
    try:
        with pytest.raises(KeyboardInterrupt) as e:
            scoring.score_table(conn, "churn", "t", "id", "s", chunk_size=100, progress=False, cancel=True)
    finally:
        conn.close()
    state = e.value.args[0]
    assert query(churn, "SELECT count(s), max(id) FILTER (WHERE s IS NOT NULL) FROM t") == [(100, 100)]
    assert state["rows"] == 100 and str(state["last_key"]) == "100", state
    assert signal.getsignal(signal.SIGINT) is before  # the handler is put back


def test_score_table_refuses_a_chunk_while_another_session_scores_the_column(churn, db_url):
    """CALL pgscore.score_table takes the score column's lock for each chunk, as pgscore score does for its run:
    a second run at once is refused (55P03) naming the session that holds it, not run beside it (both scored
    every row and logged every prediction twice); it goes ahead once that transaction ends."""
    query(churn, "ALTER TABLE customers ADD PRIMARY KEY (id); ALTER TABLE customers ADD COLUMN s float8; "
                 "ALTER TABLE customers RENAME COLUMN f TO features")
    first = psycopg2.connect(db_url)
    first.set_session(autocommit=False)
    with first.cursor() as cur:  # a chunk of a run, its transaction still open
        cur.execute("SELECT pg_backend_pid(), (pgscore.score_chunk('churn', 'customers', 'id', 's', NULL, 100)).rows")
        (pid, n), = cur.fetchall()
    assert n == 100
    with pytest.raises(psycopg2.errors.LockNotAvailable) as e:
        query(churn, "SET lock_timeout = '10s'")  # (a run beside the first would wait on its uncommitted rows)
        query(churn, "CALL pgscore.score_table('churn', 'customers', 'id', 's', p_chunk_size => 1000)")
    assert e.value.diag.message_primary.startswith(f"pgscore: another session is scoring public.customers.s (process {pid}, idle in "
                                              "transaction, its transaction begun "), \
        e.value.diag.message_primary
    assert "this chunk was not scored" in e.value.diag.message_primary
    assert query(churn, "SELECT count(s) FROM customers") == [(0,)]  # the first's uncommitted
    first.rollback()
    first.close()
    assert query(churn, "CALL pgscore.score_table('churn', 'customers', 'id', 's', p_chunk_size => 10000)") == [(25000,)]
    assert query(churn, "SELECT count(*), count(DISTINCT entity_key) FROM pgscore.prediction_log "
                        "WHERE source = 'batch'") == [(25000, 25000)]


def test_score_a_third_ctrl_c_stops_a_commit_that_does_not_end_and_says_the_chunk_is_in_doubt(churn):
    """A COMMIT that does not end (a synchronous standby down; here a deferred trigger waiting on a lock
    the test holds): the second Ctrl-C is held off, a third stops the run at once, and the chunk's fate is
    asked on a new connection: its transaction still in progress, the state says both resume points. The
    first two Ctrl-Cs are raised inside commit() (handled before it goes on), the third sent to the main
    thread once the COMMIT waits; where it is held off too, the lock goes after 15 s and the test fails."""
    import signal
    import threading

    from pgscore import scoring

    query(churn, "CREATE TABLE t (id int PRIMARY KEY, features float8[], s float8)")
    query(churn, "INSERT INTO t SELECT i, %s, NULL FROM generate_series(1, 300) i", (ROW,))
    query(churn, "CREATE FUNCTION wait_at_commit() RETURNS trigger LANGUAGE plpgsql AS "
                 "$$BEGIN PERFORM pg_advisory_xact_lock(4242); RETURN NULL; END$$; "
                 "CREATE CONSTRAINT TRIGGER wait_at_commit AFTER UPDATE ON t DEFERRABLE INITIALLY DEFERRED "
                 "FOR EACH ROW EXECUTE FUNCTION wait_at_commit()")
    holder = psycopg2.connect(churn.dsn)
    holder.autocommit = True
    query(holder, "SELECT pg_advisory_lock(4242)")
    main, done = threading.main_thread().ident, threading.Event()

    class Hanging(psycopg2.extensions.connection):
        commits = 0

        def commit(self):
            Hanging.commits += 1
            if Hanging.commits == 2:  # the first chunk's (the first ends the count of the rows to score)
                signal.raise_signal(signal.SIGINT)
                signal.raise_signal(signal.SIGINT)
                pid = self.get_backend_pid()

                def third():
                    probe = psycopg2.connect(churn.dsn)
                    probe.autocommit = True
                    try:
                        for _ in range(200):
                            if query(probe, "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s",
                                     (pid,)) == [(True,)]:
                                signal.pthread_kill(main, signal.SIGINT)
                                break
                            time.sleep(0.05)
                        if not done.wait(15):
                            holder.close()  # its lock goes, and so the held-off run goes on
                    finally:
                        probe.close()

                threading.Thread(target=third, daemon=True).start()
            super().commit()

    conn = psycopg2.connect(churn.dsn, connection_factory=Hanging)
    try:
        with pytest.raises(KeyboardInterrupt) as e:
            scoring.score_table(conn, "churn", "t", "id", "s", chunk_size=100, progress=False, cancel=True)
    finally:
        done.set()
        conn.close()
    state = e.value.args[0]
    assert state["rows"] == 0 and state["last_key"] is None, state
    doubt = state.get("in_doubt")
    assert doubt and doubt["status"] == "in progress" and doubt["rows"] == 100 and str(doubt["last_key"]) == "100" \
        and doubt["version"] == 1, state
    assert query(churn, "SELECT pg_xact_status(%s::xid8)", (doubt["xid"],)) == [("in progress",)]
    holder.close()  # the COMMIT goes on, and so the chunk is committed after all
    for _ in range(200):
        if query(churn, "SELECT pg_xact_status(%s::xid8)", (doubt["xid"],)) != [("in progress",)]:
            break
        time.sleep(0.05)
    assert query(churn, "SELECT pg_xact_status(%s::xid8), (SELECT count(s) FROM t)",
                 (doubt["xid"],)) == [("committed", 100)]


def test_score_a_third_ctrl_c_after_the_server_committed_counts_the_chunk(churn):
    """The third Ctrl-C lands once the server has committed the chunk (its reply not yet read): asked on a
    new connection, the chunk's transaction is committed, so the resume point is after it."""
    import signal

    from pgscore import scoring

    query(churn, "CREATE TABLE t (id int PRIMARY KEY, features float8[], s float8)")
    query(churn, "INSERT INTO t SELECT i, %s, NULL FROM generate_series(1, 300) i", (ROW,))

    class Interrupted(psycopg2.extensions.connection):
        commits = 0

        def commit(self):
            super().commit()
            Interrupted.commits += 1
            if Interrupted.commits == 2:
                for _ in range(3):
                    signal.raise_signal(signal.SIGINT)

    conn = psycopg2.connect(churn.dsn, connection_factory=Interrupted)
    try:
        with pytest.raises(KeyboardInterrupt) as e:
            scoring.score_table(conn, "churn", "t", "id", "s", chunk_size=100, progress=False, cancel=True)
    finally:
        conn.close()
    state = e.value.args[0]
    assert state["rows"] == 100 and str(state["last_key"]) == "100" and "in_doubt" not in state, state
    assert query(churn, "SELECT count(s) FROM t") == [(100,)]


def test_score_a_connection_lost_during_a_commit_asks_how_the_chunk_ended(churn):
    """The connection goes during a chunk's COMMIT (a deferred trigger terminates its own backend, which
    rolls the chunk back): the chunk's transaction, asked on a new connection, is aborted, so the run fails
    with the connection's error and the resume point stays before the chunk. (The backend sends its FATAL
    before it ends the transaction: asked that early, it is still in progress, and the chunk in doubt.)"""
    from pgscore import scoring

    query(churn, "CREATE TABLE t (id int PRIMARY KEY, features float8[], s float8)")
    query(churn, "INSERT INTO t SELECT i, %s, NULL FROM generate_series(1, 300) i", (ROW,))
    query(churn, "CREATE FUNCTION gone_at_commit() RETURNS trigger LANGUAGE plpgsql AS "
                 "$$BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NULL; END$$; "
                 "CREATE CONSTRAINT TRIGGER gone_at_commit AFTER UPDATE ON t DEFERRABLE INITIALLY DEFERRED "
                 "FOR EACH ROW EXECUTE FUNCTION gone_at_commit()")
    state = {}
    with pytest.raises(psycopg2.OperationalError):
        scoring.score_table(churn.dsn, "churn", "t", "id", "s", chunk_size=100, progress=False, cancel=True,
                            state=state)
    assert state["rows"] == 0 and state["last_key"] is None, state
    assert "in_doubt" not in state or state["in_doubt"]["status"] == "in progress", state
    assert query(churn, "SELECT count(s) FROM t") == [(0,)]


def test_score_says_both_resume_lines_where_the_last_chunk_is_in_doubt(capsys):
    from pgscore import cli

    cli._say_in_doubt({"rows": 100, "last_key": 100, "version": 1,
                       "in_doubt": {"rows": 200, "last_key": "x y", "version": 1, "xid": "777", "status": "in progress"}},
                      "interrupted")
    said = capsys.readouterr().err
    assert said.startswith("pgscore: interrupted while the last chunk was being committed, and whether it committed is "
                           "unknown: its transaction 777 is still in progress; ask with: SELECT "
                           "pg_catalog.pg_xact_status('777')"), said
    assert "if 'committed', 200 rows are, resume with: --after='x y' --version 1; if 'aborted', 100 rows are, resume " \
        "with: --after=100 --version 1" in said, said


def test_cli_score_refuses_a_second_run_on_the_same_column(churn):
    """Two runs on the same table and column at once (a cron job overrunning its interval) would both score
    every row and log every prediction twice: the second is refused while the first holds the column,
    naming the first's process; once it is gone, a run goes ahead. (The second run's lock_timeout bounds a
    run that would instead wait on the first's rows.)"""
    import os
    import sys
    import time

    query(churn, "CREATE TABLE slow (id int PRIMARY KEY, features float8[], s float8)")
    query(churn, "INSERT INTO slow SELECT i, %s::float8[], NULL FROM generate_series(1, 400) i", (ROW,))
    query(churn, "CREATE FUNCTION slow_down() RETURNS trigger LANGUAGE plpgsql "
                 "AS $$ BEGIN PERFORM pg_sleep(0.1); RETURN NEW; END $$")
    query(churn, "CREATE TRIGGER slow BEFORE UPDATE ON slow FOR EACH ROW EXECUTE FUNCTION slow_down()")
    running = ("SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%%score_chunk%%' "
               "AND pid <> pg_backend_pid()")
    score = ["score", "--model", "churn", "--table", "slow", "--key", "id", "--into", "s", "--quiet", "--db", churn.dsn]
    p = subprocess.Popen([sys.executable, "-m", "pgscore.cli", *score, "--chunk-size", "1000"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.time() + 120
        while not query(churn, running) and p.poll() is None:
            assert time.time() < deadline, "the chunk never started"
            time.sleep(0.05)
        (pid,), = query(churn, running)
        r = pgscore_cli(*score, env={"PGOPTIONS": "-c lock_timeout=5s"}, timeout=120)
        assert r.returncode == 75, r.stdout + r.stderr
        assert f"pgscore: error: another session is scoring slow.s (process {pid}, pgscore score, connected since " \
            in r.stderr and "nothing was scored" in r.stderr and "Traceback" not in r.stderr, r.stderr
        assert p.poll() is None, "the first run ended under the second: " + p.communicate()[1]
    finally:
        query(churn, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = "
                     "'pgscore score' AND pid <> pg_backend_pid()")
        _, err = p.communicate(timeout=60)
    # its session ended under it: said so in a few lines, not libpq's FATAL text and the chunk's SQL (and, its
    # first chunk cut, that nothing was written); by pg_terminate_backend here, not a server that went away (a
    # shutdown's words are the same: both named, session 59)
    assert p.returncode == 75 and err.startswith(  # (exit 75 since session 62: stopped, not bad data)
        "pgscore: nothing was written: the server ended the session (an administrator's pg_terminate_backend or a "
        "shutdown) before the first chunk was committed; once the server answers, run it again as it was\n"
        "pgscore: error: the connection to the database was lost: terminating connection due to administrator "
        "command"), err
    assert "CONTEXT" not in err and len(err) < 600, err
    query(churn, "DROP TRIGGER slow ON slow")
    r = pgscore_cli(*score)  # the first run's session is gone, and its lock with it
    assert r.returncode == 0 and "scored 400 rows" in r.stdout, r.stdout + r.stderr
    assert query(churn, "SELECT count(*), count(DISTINCT entity_key) FROM pgscore.prediction_log "
                        "WHERE source = 'batch'") == [(400, 400)]
    from pgscore import scoring

    conn = psycopg2.connect(churn.dsn)  # a caller's own connection: the lock goes when the run ends
    try:
        assert scoring.score_table(conn, "churn", "slow", "id", "s", progress=False)["rows"] == 400
        assert query(conn, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                           "AND pid = pg_backend_pid()") == [(0,)]
    finally:
        conn.close()


class _TransactionPooler:
    """What score_table sees through a pooler in transaction mode (PgBouncer's pool_mode = transaction), over
    two real sessions: each transaction may run in another server session, and closing the client's
    connection leaves the server sessions open. `spread`: each transaction in the other session (a busy
    pool); without it, in the same one (a pool with one client)."""

    def __init__(self, dsn, spread, connect=psycopg2.connect):
        self.sessions = [connect(dsn), connect(dsn)]
        self.spread, self.at, self.dsn, self.closed = spread, 0, dsn, 0

    def pids(self):
        return [s.info.backend_pid for s in self.sessions]

    def get_backend_pid(self):
        return -1  # (libpq's idea of its server process: a pooler's own cancel key, as PgBouncer gives, no pid)

    def cursor(self, *a, **kw):
        return self.sessions[self.at].cursor(*a, **kw)

    def _ended(self):
        if self.spread:
            self.at ^= 1

    def commit(self):
        self.sessions[self.at].commit()
        self._ended()

    def rollback(self):
        self.sessions[self.at].rollback()
        self._ended()

    def get_transaction_status(self):
        return self.sessions[self.at].get_transaction_status()

    def close(self):
        self.closed = 1  # the server sessions stay, in the pool


def _column_locks(conn):
    return query(conn, "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = 'customers'::regclass "
                       "AND objsubid = 2")


@pytest.mark.parametrize("spread", [False, True])
def test_score_through_a_transaction_pooler_leaves_no_lock_behind(churn, monkeypatch, spread):
    """pgscore score's lock on the column is its session's: through a pooler in transaction mode closing the
    connection did not end the server session, whose lock then stayed, and every later run and CALL
    score_table on the column was refused, naming a run that had ended (\"process N, pgscore score, idle\"). The
    run gives the lock back itself; where a chunk lands in another server session than the lock's, the run
    stops saying that its connection is pooled (before, score_chunk refused it naming the run's own lock)."""
    query(churn, "ALTER TABLE customers ADD PRIMARY KEY (id); ALTER TABLE customers ADD COLUMN s float8; "
                 "ALTER TABLE customers RENAME COLUMN f TO features")
    pooled = []
    real = psycopg2.connect

    def connect(dsn, **kw):
        pooled.append(_TransactionPooler(dsn, spread, real))
        return pooled[-1]

    monkeypatch.setattr(psycopg2, "connect", connect)
    try:
        if spread:
            with pytest.raises(PgscoreError) as e:
                scoring.score_table(churn.dsn, "churn", "customers", "id", "s", chunk_size=5000, progress=False)
            msg = str(e.value)
            assert "pooler in transaction mode" in msg and "pool_mode = transaction" in msg, msg
            assert "another session is scoring" not in msg, msg
        else:
            r = scoring.score_table(churn.dsn, "churn", "customers", "id", "s", chunk_size=5000, progress=False)
            assert r["rows"] == 25000
    finally:
        monkeypatch.setattr(psycopg2, "connect", real)
    assert _column_locks(churn) == []  # the pool's sessions, still open, hold nothing
    assert query(churn, "CALL pgscore.score_table('churn', 'customers', 'id', 's', p_chunk_size => 10000)") == [(25000,)]
    for s in pooled[0].sessions:
        s.close()


def test_cli_score_says_what_it_left_out(churn):
    """Rows with a NULL key are left out (no key to write a score by), and the summary counts them; an
    --after past every key says so instead of a bare 'scored 0 rows'."""
    query(churn, "CREATE TABLE t (id int UNIQUE, features float8[], s float8)")
    query(churn, "INSERT INTO t SELECT CASE WHEN i %% 10 = 0 THEN NULL ELSE i END, %s, NULL "
                 "FROM generate_series(1, 100) i", (ROW,))
    r = pgscore_cli("score", "--model", "churn", "--table", "t", "--key", "id", "--into", "s", "--quiet",
                    "--db", churn.dsn)
    assert r.returncode == 0, r.stderr
    assert "scored 90 rows of t into s" in r.stdout and "; 10 row(s) with a NULL id were left out" in r.stdout
    r = pgscore_cli("score", "--model", "churn", "--table", "t", "--key", "id", "--into", "s", "--after", "1000",
                    "--quiet", "--db", churn.dsn)
    assert r.returncode == 0 and "nothing after --after 1000: every row was scored already, or that key sorts " \
        "after every id of t" in r.stdout, r.stdout


def test_cli_score_names_itself_in_the_audit_rows(churn):
    query(churn, "CREATE TABLE t (id int PRIMARY KEY, features float8[], s float8)")
    query(churn, "INSERT INTO t SELECT i, %s, NULL FROM generate_series(1, 10) i", (ROW,))
    r = pgscore_cli("score", "--model", "churn", "--table", "t", "--key", "id", "--into", "s", "--quiet",
                    "--db", churn.dsn)
    assert r.returncode == 0, r.stderr
    assert query(churn, "SELECT DISTINCT cause->>'application', cause->>'via' FROM pgscore.prediction_log") == \
        [("pgscore score", "score_table")]


class _Partition:
    """A unix-socket proxy to the cluster: `cut` set drops the server's replies and leaves new connections
    unanswered (accepted, never forwarded), as a network partition would after the COMMIT went out."""

    def __init__(self, sockdir, port):
        self.target = os.path.join(sockdir, f".s.PGSQL.{port}")
        self.dir = tempfile.mkdtemp(prefix="proxy-")
        self.port = port
        self.srv = socket.socket(socket.AF_UNIX)
        self.srv.bind(os.path.join(self.dir, f".s.PGSQL.{port}"))
        self.srv.listen(16)
        self.cut = threading.Event()
        self.socks = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            self.socks.append(c)
            if self.cut.is_set():
                continue  # never answered
            s = socket.socket(socket.AF_UNIX)
            s.connect(self.target)
            self.socks.append(s)
            threading.Thread(target=self._pump, args=(c, s, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(s, c, True), daemon=True).start()

    def _pump(self, a, b, reply):
        while True:
            try:
                d = a.recv(65536)
            except OSError:
                return
            if not d:
                return
            if reply and self.cut.is_set():
                continue  # the server's reply is lost
            try:
                b.sendall(d)
            except OSError:
                return

    def close(self):
        self.srv.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        for s in self.socks:
            try:
                s.close()
            except OSError:
                pass


def test_score_a_ctrl_c_while_the_server_is_asked_how_the_chunk_ended_leaves_it_in_doubt(db_url, cluster):
    """The chunk's COMMIT goes out and its answer is lost (a network partition, through a proxy): the third
    Ctrl-C gets out of it, and a fourth stops the asking on a new connection (which the partition leaves
    unanswered). The chunk committed on the server: the run must not say it did not (resuming from there
    would score and log it twice), but that it is in doubt."""
    from pgscore import scoring

    registry.deploy(db_url, "churn", LogisticRegression(max_iter=500).fit(X, Y), X, Y, feature_names=NAMES)
    query(db_url, "CREATE TABLE t (id int PRIMARY KEY, features float8[], s float8)")
    query(db_url, "INSERT INTO t SELECT i, %s, NULL FROM generate_series(1, 300) i", (ROW,))
    proxy = _Partition(str(cluster.socket_dir), cluster.port)
    dsn = f"dbname={db_url.split('/')[3].split('?')[0]} user={cluster.dsn()['user']} host={proxy.dir} port={cluster.port}"
    main = threading.main_thread().ident

    class Cut(psycopg2.extensions.connection):
        commits = 0

        def commit(self):
            Cut.commits += 1
            if Cut.commits == 2:  # the first chunk's COMMIT goes out, its reply is lost
                proxy.cut.set()

                def ctrl_c():
                    for _ in range(4):  # 3 to get out of the COMMIT, a 4th while the status is asked
                        time.sleep(1.5)
                        signal.pthread_kill(main, signal.SIGINT)

                threading.Thread(target=ctrl_c, daemon=True).start()
            super().commit()

    conn = psycopg2.connect(dsn, connection_factory=Cut)
    t0 = time.time()
    try:
        with pytest.raises(KeyboardInterrupt) as e:
            scoring.score_table(conn, "churn", "t", "id", "s", chunk_size=100, progress=False, cancel=True)
    finally:
        conn.close()
        proxy.close()
    state = e.value.args[0]
    committed = query(db_url, "SELECT count(s) FROM t")[0][0]
    assert committed == 100 and time.time() - t0 < 60
    assert state["rows"] == 0 and state["in_doubt"]["status"] is None, state  # in doubt: both resume lines


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "Asia/Shanghai", "Asia/Jakarta", "Pacific/Chatham"])
def test_a_days_partition_is_the_utc_day_whatever_the_sessions_datestyle_and_timezone(db_url, zone):
    """create_log_partitions wrote each bound into its SQL as the session's text of a timestamptz: under a
    DateStyle that prints the zone's abbreviation (SQL, Postgres, German) PostgreSQL read it back by its own
    abbreviations, so from Asia/Kolkata ('IST', Israel's to PostgreSQL) a day began at 03:30 UTC, from
    Asia/Shanghai ('CST', US Central) at 14:00 UTC, and from Asia/Jakarta ('WIB', unknown) the call failed."""
    c = psycopg2.connect(db_url)
    c.autocommit = True
    try:
        for style in ("SQL, DMY", "Postgres, MDY", "German"):
            query(c, "SELECT set_config('TimeZone', %s, false), set_config('DateStyle', %s, false)", (zone, style))
            assert query(c, "SELECT pgscore.create_log_partitions(0, '2031-03-09')") == [(1,)]
            query(c, "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY'")
            bounds = query(c, "SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_class c "
                              "WHERE c.oid = 'pgscore.prediction_log_20310309'::regclass")
            assert bounds == [("FOR VALUES FROM ('2031-03-09 00:00:00+00') TO ('2031-03-10 00:00:00+00')",)], (
                style, bounds)
            query(c, "DROP TABLE pgscore.prediction_log_20310309")
    finally:
        c.close()
