"""The scoring benchmark compares like with like: each write-back run starts from the same table state,
and the client side it is compared with writes the model's own scores."""

import io
import struct
import sys

import numpy as np
import psycopg2
import pytest
from psycopg2 import sql
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from pgscore import bench, datasets


@pytest.fixture
def cur(db_url):
    conn = psycopg2.connect(db_url)
    conn.autocommit = True
    cur = conn.cursor()
    # autovacuum off: only the benchmark's own VACUUM may clean up after the UPDATE below
    cur.execute("CREATE TABLE customers (id int PRIMARY KEY, score float8) WITH (autovacuum_enabled = off)")
    cur.execute("INSERT INTO customers SELECT g, NULL FROM generate_series(1, 2000) AS g")
    cur.execute("UPDATE customers SET score = 1")  # the last run's dead versions
    yield cur
    conn.close()


def _state(cur):
    cur.execute("SELECT c.relpages, s.vacuum_count FROM pg_catalog.pg_class c"
                " JOIN pg_catalog.pg_stat_user_tables s ON s.relid = c.oid WHERE c.oid = 'customers'::regclass")
    pages, vacuums = cur.fetchone()
    cur.execute("SELECT redo_lsn FROM pg_catalog.pg_control_checkpoint()")
    return pages, vacuums, cur.fetchone()[0]


def test_a_write_back_run_starts_vacuumed_and_after_a_checkpoint(cur):
    pages, vacuums, redo = _state(cur)
    assert pages == vacuums == 0  # never vacuumed: pg_class counts no page yet
    seen = []
    assert bench._written_back(cur, lambda: seen.append(_state(cur)) or 1.25) == 1.25
    (pages_in, vacuums_in, redo_in), = seen
    # VACUUM ran first. Not asserted: that it left every page all-visible. It cannot while any snapshot
    # in this database is older than the UPDATE (autovacuum analysing the catalogs of a database this
    # new): CI's run failed on it once, with 0 of 20 pages all-visible
    assert vacuums_in == 1 and pages_in > 0
    assert redo_in != redo  # and a checkpoint


def test_a_write_back_run_is_a_timed_statement_too(cur):
    assert bench._written_back(cur, "UPDATE customers SET score = 2") > 0
    cur.execute("SELECT count(*) FILTER (WHERE score = 2), count(*) FROM customers")
    assert cur.fetchone() == (2000, 2000)


def test_a_write_back_run_vacuums_then_checkpoints_then_runs():
    class Recorder:
        def __init__(self):
            self.done = []

        def execute(self, statement, params=None):
            self.done.append(statement)

        description = None

    cur = Recorder()
    assert bench._written_back(cur, lambda: cur.done.append("the run") or 2.0) == 2.0
    assert cur.done == ["VACUUM customers", "CHECKPOINT", "the run"]
    cur.done.clear()
    assert bench._written_back(cur, "UPDATE customers SET score = 1") > 0
    assert cur.done == ["VACUUM customers", "CHECKPOINT", "UPDATE customers SET score = 1"]


FIELDS = [("id", ">i4"), ("x", ">f8")]


def _copy(*rows, header=bench._PGCOPY, end=bench._PGCOPY_END):
    """Binary COPY bytes of (id, x) rows, None for a NULL x, as PostgreSQL writes them."""
    out = bytearray(header)
    for i, x in rows:
        out += struct.pack(">hii", 2, 4, i)
        out += struct.pack(">i", -1) if x is None else struct.pack(">id", 8, x)
    return bytes(out + end)


def test_binary_copy_is_read_as_written():
    rows = bench.read_binary_copy(_copy((1, 0.5), (-7, -1e300), (2**31 - 1, float("inf"))), FIELDS)
    assert rows["id"].tolist() == [1, -7, 2**31 - 1]
    assert rows["x"].tolist() == [0.5, -1e300, float("inf")]
    assert len(bench.read_binary_copy(_copy(), FIELDS)) == 0


@pytest.mark.parametrize("data", [
    _copy((1, 0.5), (2, None), (3, 1.5)),  # a NULL shortens its row
    # 11 NULLs: rows of 22 bytes, 14 with a NULL, so the body's size is still a multiple of 22
    _copy(*[(i, None) for i in range(11)], *[(i, 1.0) for i in range(11, 20)]),
    # a header extension (this server sends none), here bytes that would read as a row of their own
    _copy((1, 0.5), header=b"PGCOPY\n\xff\r\n\x00" + bytes(4) + struct.pack(">ihiiid", 22, 2, 4, 9, 8, 9.0)),
    _copy((1, 0.5), end=b"\x00\x01"),  # not the trailer
    _copy((1, 0.5))[:-5] + _copy((1, 0.5))[-4:],  # a byte lost
    b"",
], ids=["null", "nulls-aligned", "header-extension", "bad-trailer", "short", "empty"])
def test_binary_copy_that_is_not_these_rows_is_refused(data):
    with pytest.raises(RuntimeError, match="not rows of >i4, >f8, none NULL"):
        bench.read_binary_copy(data, FIELDS)


def test_the_client_side_reads_the_binary_copy_and_writes_the_models_scores(db_url):
    X, y, names = datasets.churn(300, seed=5)
    est = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)
    conn = psycopg2.connect(db_url)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute(sql.SQL("CREATE TABLE customers (id int PRIMARY KEY, {}, score float8)").format(
        sql.SQL(", ").join(sql.SQL("{} float8").format(sql.Identifier(n)) for n in names)))
    ids = list(range(-150, 150))  # negative keys too: big-endian two's complement
    cur.executemany(sql.SQL("INSERT INTO customers VALUES (%s, {})").format(
        sql.SQL(", ").join(sql.Placeholder() * len(names))), [(i, *map(float, x)) for i, x in zip(ids, X)])
    assert bench.client_side(conn, est, names, len(ids)) > 0
    cur.execute("SELECT id, score FROM customers ORDER BY id")
    got = cur.fetchall()
    assert [i for i, _ in got] == ids
    np.testing.assert_allclose([s for _, s in got], est.predict_proba(X)[:, 1], rtol=0, atol=1e-15)

    cur.execute(sql.SQL("UPDATE customers SET {} = NULL WHERE id = 7").format(sql.Identifier(names[3])))
    with pytest.raises(RuntimeError, match="none NULL"):  # a NULL changes the row's layout: refused, not misread
        bench.client_side(conn, est, names, len(ids))
    conn.close()


def test_bench_db_refuses_a_database_in_use_before_it_trains_or_writes_anything(db_url):
    """bench --db deploys its models, empties pgscore.prediction_log between its sections and makes tables of its
    own: in a database that holds a model and audit rows, or a table of one of its names, it is refused with
    what is there, and nothing changes (it emptied the user's audit log, and a second run failed after
    deploying its models again)."""
    from helpers import pgscore_cli, query
    from pgscore import registry

    X, y, names = datasets.churn(300, seed=5)
    registry.deploy(db_url, "churn", make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y), X, y,
                    feature_names=names)
    query(db_url, "SELECT pgscore.score('churn', %s::float8[], p_key => 'c1')", (X[0].tolist(),))
    before = query(db_url, "SELECT (SELECT count(*) FROM pgscore.models), (SELECT count(*) FROM pgscore.prediction_log)")
    run = pgscore_cli("bench", "--quick", "--db", db_url, timeout=120)
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    assert ("pgscore bench --db needs a database of its own, and this one holds 1 model version; audit rows in "
            "pgscore.prediction_log") in run.stderr, run.stderr
    assert "training models" not in run.stdout and "CREATE DATABASE" in run.stderr
    assert query(db_url, "SELECT (SELECT count(*) FROM pgscore.models), (SELECT count(*) FROM pgscore.prediction_log)") \
        == before == [(1, 1)]
    # an empty install, but a table of the benchmark's name (the demo's customers)
    query(db_url, "TRUNCATE pgscore.prediction_log, pgscore.deployments, pgscore.evaluators, pgscore.baselines, "
                  "pgscore.artifacts, pgscore.models CASCADE")
    query(db_url, "CREATE TABLE customers (id int)")
    run = pgscore_cli("bench", "--quick", "--db", db_url, timeout=120)
    assert run.returncode == 1 and "holds objects named customers" in run.stderr, run.stderr
    assert query(db_url, "SELECT count(*) FROM pgscore.models") == [(0,)]


def test_bench_db_drift_takes_out_what_it_loaded(db_url):
    """In a database of its own given with --db, the drift section runs (the earlier sections' rows no longer
    stop it) and takes out its log rows, rollups and partitions afterwards: only the throwaway database is
    dropped whole."""
    from helpers import pgscore_cli, query

    parts = "SELECT count(*) FROM pg_inherits WHERE inhparent = 'pgscore.prediction_log'::regclass"
    (before,), = query(db_url, parts)
    state = query(db_url, "SELECT rolled_until, refreshed_at FROM pgscore.monitoring_state")
    run = pgscore_cli("bench", "--quick", "--only", "drift", "--db", db_url, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "feature_drift, window '1 day'" in run.stdout and "skipped" not in run.stdout, run.stdout
    assert query(db_url, "SELECT count(*) FROM pgscore.prediction_log") == [(0,)]
    assert query(db_url, "SELECT count(*) FROM pgscore.drift_rollup") == [(0,)]
    assert query(db_url, parts) == [(before,)]
    assert query(db_url, "SELECT rolled_until, refreshed_at FROM pgscore.monitoring_state") == state


def test_the_rescoring_and_http_sections_train_the_logistic_pipeline_alone(db_url, monkeypatch):
    """`bench --only rescoring` (or `http`) uses the logistic pipeline alone: it neither trains nor deploys
    the trees, which the scoring section alone measures."""
    from pgscore import bench_http, bench_rescoring, registry

    deployed, sections = [], []
    monkeypatch.setattr(registry, "deploy", lambda url, name, *a, **k: deployed.append(name))
    monkeypatch.setattr(bench_rescoring, "run", lambda url, rep, X, model, **k: sections.append(("rescoring", model)))
    monkeypatch.setattr(bench_http, "run", lambda url, rep, X, model, **k: sections.append(("http", model)))
    for only in ("rescoring", "http"):
        bench.run(db_url, quick=True, say=lambda *a: None, only=only)
    assert deployed == ["logit", "logit"]
    assert [s for s, _ in sections] == ["rescoring", "http"]
    assert all(type(m).__name__ == "Pipeline" for _, m in sections)


class _Terminal(io.StringIO):
    """stderr as a terminal: what tqdm draws on it is kept."""

    def isatty(self):
        return True


def test_training_draws_a_bar_on_a_terminal_and_nothing_elsewhere(monkeypatch, capsys):
    """`pgscore bench` printed nothing while it trained its models (a minute for the three), fitted the rows and
    loaded the log: on a terminal a bar now runs over each of those steps (pgscore.scoring.steps, tqdm's, as
    pgscore score draws one); on a file or a pipe nothing at all, no bar redrawn with carriage returns."""
    bench._models(True, which=("logit",))
    out, err = capsys.readouterr()
    assert (out, err) == ("", ""), (out, err)
    terminal = _Terminal()
    with monkeypatch.context() as m:
        m.setattr(sys, "stderr", terminal)
        bench._models(True, which=("logit", "hgb"))
    drawn = terminal.getvalue()
    assert "training" in drawn and "0/2 " in drawn and "\r" in drawn, drawn  # (redrawn at most every 0.1 s)
    from pgscore.scoring import steps

    items = [1, 2]
    assert steps(items, "x") is items  # (not a terminal: the items as they are)
    monkeypatch.setattr(sys, "stderr", terminal)
    assert list(steps(range(3), "loading the log", unit=" chunks")) == [0, 1, 2]
    assert "loading the log" in terminal.getvalue() and "0/3 " in terminal.getvalue()
