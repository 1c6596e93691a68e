"""The rescoring benchmark's tables are honest: the hand-written PL/pgSQL trigger does pgscore's work
(the same counters, the same scores, an audit row each), and pgbench's warm rate is read right."""

import io
import sys

import numpy as np
import psycopg2
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from helpers import query
from pgscore import bench_rescoring, datasets, registry
from pgscore.bench import Report, take_turns
from pgscore.datasets import CHURN_FEATURES

X, Y, _ = datasets.churn(1000, seed=22)
MODEL = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y)
N = 50


@pytest.fixture
def bench(db_url):
    registry.deploy(db_url, "logit", MODEL, X, Y, feature_names=CHURN_FEATURES)
    conn = psycopg2.connect(db_url)
    conn.autocommit = True
    bench_rescoring.setup(conn.cursor(), X, N, MODEL)
    yield conn
    bench_rescoring.detach_all(conn.cursor())
    conn.close()


def test_the_hand_written_trigger_does_what_pgscore_does(bench):
    cols = ", ".join(CHURN_FEATURES)
    state = {}
    for kind in ("pgscore", "by_hand"):
        with bench.cursor() as cur:
            cur.execute(f"INSERT INTO rescore.events_{kind} (customer_id) VALUES (3)")  # noqa: S608
            cur.execute(f"INSERT INTO rescore.events_{kind} (customer_id) SELECT unnest(%s::bigint[])",  # noqa: S608
                        ([3, 4, 4, 9],))
        rows = query(bench, f"SELECT id, support_calls, complaints_30d, ARRAY[{cols}]::float8[], churn_score "
                            "FROM rescore.customers WHERE id IN (3, 4, 9) ORDER BY id")
        state[kind] = rows
        feats = np.array([r[3] for r in rows], dtype=float)
        assert np.max(np.abs(np.array([r[4] for r in rows]) - MODEL.predict_proba(feats)[:, 1])) < 1e-9, kind
    # the two share the customers: the second started from the first's counters, and added 2, 2 and 1
    first, second = state["pgscore"], state["by_hand"]
    assert [r[1] for r in second] == [a + b for a, b in zip([r[1] for r in first], [2, 2, 1])]
    assert [r[2] for r in first] == [2, 2, 1] and [r[2] for r in second] == [2, 2, 1]  # each table's window
    logged = query(bench, "SELECT cause->>'event_table', count(*) FROM pgscore.prediction_log "
                          "WHERE source = 'trigger' GROUP BY 1 ORDER BY 1")
    assert logged == [("rescore.events_by_hand", 4), ("rescore.events_pgscore", 4)]


def test_pgbench_reports_the_warm_rate_and_the_whole_run(bench):
    r = bench_rescoring.pgbench(bench.dsn, "events_counter", 2, 1, N)
    assert r["tps"] > 0 and r["cold_tps"] > 0 and r["latency_ms"] > 0 and r["failed"] == 0
    assert r["tps"] != r["cold_tps"]  # the warm rate is read from the progress of the second second
    (n,), = query(bench, "SELECT count(*) FROM rescore.events_counter")
    assert n >= 2 * r["cold_tps"]  # three seconds at the whole run's rate: at least two seconds' worth
    # the latencies are those of the transactions of that second: about as many as its rate says, of
    # two clients each waiting for its INSERT, so about 2 / tps on average
    lat = r["latencies_ms"]
    assert 0.5 * r["tps"] <= len(lat) <= 1.5 * r["tps"] and len(lat) < n
    assert 0.5 < (sum(lat) / len(lat)) / (2000 / r["tps"]) < 2
    m = bench_rescoring._mean_run([r])
    assert 0 < m["p50_ms"] <= m["p99_ms"] <= max(lat) and m["n_warm"] == len(lat)


def test_warm_latencies_read_the_window_of_the_warm_rate(tmp_path):
    """pgbench's per-transaction log: client, number, latency (µs), script, end (epoch s, µs); the
    transactions that ended between 1 and 1 + seconds after the first one started, failed ones left out."""
    (tmp_path / "tx.1").write_text("0 0 500000 0 100 500000\n"  # started at 100.0: the run's start
                                   "0 1 2000 0 101 200000\n0 2 failed 0 101 300000\n")
    (tmp_path / "tx.1.1").write_text("1 0 3000 0 102 100000\n1 1 4000 0 100 900000\n")
    assert sorted(bench_rescoring.warm_latencies(tmp_path.glob("tx.*"), 1)) == [2.0]
    assert sorted(bench_rescoring.warm_latencies(tmp_path.glob("tx.*"), 2)) == [2.0, 3.0]
    assert bench_rescoring.warm_latencies([], 1) == []


def test_kinds_take_turns_in_reverse_every_other_round():
    calls = []
    out = take_turns(["a", "b", "c"], 3, lambda kind: calls.append(kind) or len(calls))
    assert calls == list("abccbaabc")
    assert out == {"a": [1, 6, 7], "b": [2, 5, 8], "c": [3, 4, 9]}


def test_runs_of_one_kind_are_reported_as_one():
    r = bench_rescoring._mean_run([
        {"tps": 100.0, "latency_ms": 1.0, "cold_tps": 90.0, "failed": 0, "latencies_ms": [1.0] * 60 + [9.0] * 40},
        {"tps": 300.0, "latency_ms": 2.0, "cold_tps": 270.0, "failed": 1, "latencies_ms": [2.0] * 300}])
    p99 = r.pop("p99_ms")
    assert r == {"tps": 200.0, "latency_ms": 1.75, "cold_tps": 180.0, "failed": 1,  # latency per transaction
                 "p50_ms": 2.0, "n_warm": 400}  # percentiles of both runs' transactions together
    assert p99 == 9.0


class _Terminal(io.StringIO):
    """stderr as a terminal: what tqdm draws on it is kept."""

    def isatty(self):
        return True


def test_take_turns_draws_a_bar_over_the_runs_on_a_terminal_alone(monkeypatch):
    calls = []
    plain = take_turns(["a", "b", "c"], 2, lambda kind: calls.append(kind) or len(calls))
    for stderr, drawn in ((io.StringIO(), False), (_Terminal(), True)):
        monkeypatch.setattr(sys, "stderr", stderr)
        calls.clear()
        assert take_turns(["a", "b", "c"], 2, lambda kind: calls.append(kind) or len(calls), desc="runs") == plain
        assert calls == list("abccba")
        said = stderr.getvalue()
        assert ("runs" in said and "0/6 " in said and "\r" in said) if drawn else said == "", said


def test_the_pgbench_runs_draw_a_bar_on_a_terminal_and_print_the_same_numbers(db_url, monkeypatch):
    """The pgbench runs of the rescoring section (a minute and a half at 1 then 8 clients in a full run) drew
    nothing while they ran, their lines printed once all had run, where the other long steps draw a bar
    (scoring.steps): a bar runs over them on a terminal now, and nothing is drawn elsewhere; the numbers printed
    are the same. pgbench and the multi-row loads are stand-ins here (fixed numbers); the tables are real."""
    registry.deploy(db_url, "logit", MODEL, X, Y, feature_names=CHURN_FEATURES)
    monkeypatch.setattr(bench_rescoring, "pgbench", lambda url, table, clients, seconds, n: {
        "tps": 100.0 * clients, "latency_ms": 1.0, "cold_tps": 90.0, "failed": 0, "latencies_ms": [1.0, 2.0]})
    monkeypatch.setattr(bench_rescoring, "multi_row", lambda *a, **k: 0.5)
    printed, drawn = {}, {}
    for where, stderr in (("pipe", io.StringIO()), ("terminal", _Terminal())):
        monkeypatch.setattr(sys, "stderr", stderr)
        lines = []
        bench_rescoring.run(db_url, Report(lines.append), X, None, quick=True)
        printed[where], drawn[where] = lines, stderr.getvalue()
    assert printed["pipe"] == printed["terminal"] and any(" tx/s " in line for line in printed["pipe"]), printed
    assert drawn["pipe"] == "", drawn["pipe"]
    for clients in (1, 8):
        assert f"pgbench, single-row INSERT, {clients} client(s)" in drawn["terminal"], drawn["terminal"]
    assert "0/2 " in drawn["terminal"], drawn["terminal"]  # --quick, no hand-written trigger: counter, pgscore
