"""Realised performance by outcome time (migration 0125): pgscore.realised_performance_by_outcome_time holds, per
live model and window, the judged predictions whose outcome was recorded (outcomes.recorded_at) within the window,
whenever they were made, judged by the same drift_thresholds, its warn and alert in alerts (subject 'outcomes by
recorded time') and in pgscore drift. Trial T5: outcomes arriving 1-2 weeks after the prediction never alerted, as
the windows by prediction time had moved past the predictions they judged, or blended them with weeks of others."""

from __future__ import annotations

import numpy as np
import psycopg2
import pytest
from sklearn import metrics as skm
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from helpers import ensure_role, query
from pgscore import cli, datasets, registry

TOL = 1e-9
SUBJECT = "outcomes by recorded time"


@pytest.fixture(scope="module")
def trained():
    X, y, names = datasets.churn(3000, seed=0)
    return X, y, names, make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)


@pytest.fixture
def late(db_url, trained):
    """600 predictions made 10 days ago whose outcomes (random: the model has stopped working) arrive now, 300
    observed 3 days ago and 300 now; and 400 made 10 days ago whose (true) outcomes were recorded 9 days ago."""
    X, y, names, model = trained
    rec = registry.deploy(db_url, "churn", model, X, y, feature_names=names)
    conn = psycopg2.connect(db_url)
    conn.autocommit = True
    Xc, yc, _ = datasets.churn(1000, seed=7)
    p = model.predict_proba(Xc)[:, 1]
    keys = [f"k{i}" for i in range(1000)]
    query(conn, """
        INSERT INTO pgscore.prediction_log (logged_at, model_id, entity_key, features, score, source)
        SELECT now() - interval '10 days', %s, k, f, s, 'batch'
          FROM unnest(%s::text[], %s::float8[]) u(k, s)
         CROSS JOIN LATERAL (SELECT %s::float8[] AS f) x""",
          (rec["model_id"], keys, [float(v) for v in p], [float(v) for v in Xc[0]]))
    y_new = np.random.default_rng(3).integers(0, 2, 600)  # unrelated to the score: AUC near 0.5
    for i in range(600):
        query(conn, "SELECT pgscore.record_outcome('churn', %s, %s, now() - %s::interval)",
              (keys[i], int(y_new[i]), "3 days" if i % 2 else "0 seconds"))
    for i in range(600, 1000):
        query(conn, "SELECT pgscore.record_outcome('churn', %s, %s, now() - interval '9 days')", (keys[i], int(yc[i])))
    # recorded 9 days ago: recorded_at is now() in record_outcome, set back here as a job 9 days ago would have left it
    query(conn, "UPDATE pgscore.outcomes SET recorded_at = now() - interval '9 days' WHERE entity_key = ANY (%s)",
          (keys[600:],))
    yield conn, p, y_new, yc[600:]
    conn.close()


COLS = ("n, positives, auc, accuracy, precision, recall, brier, log_loss, status")


def test_outcomes_that_arrive_late_are_judged_in_the_windows_by_outcome_time(late):
    conn, p, y_new, y_old = late
    rows = {r[0]: r[1:] for r in query(conn, f"SELECT window_name, {COLS} "  # noqa: S608 - fixed text
                                             "FROM pgscore.realised_performance_by_outcome_time")}
    assert list(rows) == ["1 hour", "12 hours", "1 day", "7 days", "since deploy"]
    s = p[:600]
    pred = (s > 0.5).astype(int)
    for w in ("1 hour", "12 hours", "1 day", "7 days"):  # the 600 recorded now, not the 400 recorded 9 days ago
        n, pos, auc, acc, prec, rec, brier, ll, status = rows[w]
        assert (n, pos) == (600, int(y_new.sum())), w
        assert auc == pytest.approx(skm.roc_auc_score(y_new, s), abs=TOL)
        assert acc == pytest.approx(skm.accuracy_score(y_new, pred), abs=TOL)
        assert prec == pytest.approx(skm.precision_score(y_new, pred), abs=TOL)
        assert rec == pytest.approx(skm.recall_score(y_new, pred), abs=TOL)
        assert brier == pytest.approx(skm.brier_score_loss(y_new, s), abs=TOL)
        assert ll == pytest.approx(skm.log_loss(y_new, s), abs=TOL)
        assert status == "alert"
    y_all = np.concatenate([y_new, y_old])
    n, pos, auc, *_ = rows["since deploy"]
    assert (n, pos) == (1000, int(y_all.sum()))
    assert auc == pytest.approx(skm.roc_auc_score(y_all, p), abs=TOL)

    # by prediction time (as before): made 10 days ago, in no window but since deploy, blended there
    byp = {r[0]: r[1:] for r in query(conn, "SELECT window_name, n, auc, status FROM pgscore.realised_performance")}
    assert [byp[w][0] for w in ("1 hour", "12 hours", "1 day", "7 days")] == [0, 0, 0, 0]
    assert byp["since deploy"][0] == 1000
    assert byp["since deploy"][1] == pytest.approx(skm.roc_auc_score(y_all, p), abs=TOL)

    # the alerts: by outcome time in the short windows, under their own subject
    alerts = query(conn, "SELECT window_name, metric, level FROM pgscore.alerts "
                         "WHERE what = 'performance' AND subject = %s AND NOT shadow", (SUBJECT,))
    assert ("1 hour", "auc_drop", "alert") in alerts and ("7 days", "auc_drop", "alert") in alerts
    assert not query(conn, "SELECT 1 FROM pgscore.alerts WHERE subject = 'outcomes' AND window_name <> 'since deploy'")
    # refresh_monitoring keeps their first-seen time as the other conditions'
    query(conn, "SELECT pgscore.refresh_monitoring()")
    assert query(conn, "SELECT count(*) > 0, bool_and(since IS NOT NULL) FROM pgscore.alerts WHERE subject = %s",
                 (SUBJECT,)) == [(True, True)]


def test_an_outcome_recorded_before_the_window_is_not_in_it(late):
    conn, *_ = late
    query(conn, "UPDATE pgscore.outcomes SET recorded_at = now() - interval '2 days' "
                "WHERE recorded_at > now() - interval '1 day'")
    rows = dict(query(conn, "SELECT window_name, n FROM pgscore.realised_performance_by_outcome_time"))
    assert rows == {"1 hour": 0, "12 hours": 0, "1 day": 0, "7 days": 600, "since deploy": 1000}
    assert query(conn, "SELECT note FROM pgscore.realised_performance_by_outcome_time WHERE window_name = '1 hour'") \
        == [("no outcome recorded in this window judges a prediction of this version",)]
    assert not query(conn, "SELECT 1 FROM pgscore.alerts WHERE subject = %s AND window_name = '1 hour'", (SUBJECT,))


def test_the_other_kinds_give_what_they_gave(late):
    conn, *_ = late
    # performance_stats() (every kind: NULL) gives the windows and days alone, as before 0125
    assert query(conn, "SELECT DISTINCT period_kind FROM pgscore.performance_stats() ORDER BY 1") \
        == [("day",), ("window",)]
    assert query(conn, "SELECT count(*) FROM pgscore.performance_stats_of(false, NULL, 'outcome_window')") == [(5,)]
    with pytest.raises(psycopg2.errors.InvalidParameterValue):
        query(conn, "SELECT * FROM pgscore.performance_stats_of(false, NULL, 'outcome_windows')")
    with pytest.raises(psycopg2.errors.InvalidParameterValue):
        query(conn, "SELECT * FROM pgscore.drift_counts('outcome_window')")  # drift has no outcome windows


def test_the_reader_reads_it_and_pgscore_drift_lists_its_alerts(late, db_url, capsys):
    conn, *_ = late
    ensure_role(conn, "pgscore_t_late", login=True)
    query(conn, "GRANT pgscore_reader TO pgscore_t_late")
    reader = psycopg2.connect(db_url.replace("postgresql://postgres@", "postgresql://pgscore_t_late@"))
    try:
        assert query(reader, "SELECT count(*) FROM pgscore.realised_performance_by_outcome_time") == [(5,)]
        assert query(reader, "SELECT count(*) > 0 FROM pgscore.alerts WHERE subject = %s", (SUBJECT,)) == [(True,)]
    finally:
        reader.close()
    assert cli.main(["drift", "churn", "--window", "1 hour", "--db", db_url]) == 1
    out = capsys.readouterr().out
    assert SUBJECT in out, out


def test_alerts_reads_both_kinds_of_window_in_one_call_that_gives_each_as_its_own(late):
    """alerts ranked judged_predictions twice (performance_stats_of once for window, once for outcome_window): 2.3
    times 0122's cost (docs/performance.md, "By outcome time"); both_windows gives the two kinds in one pass, each
    period's row as the kind's own call gives it, and firing (so alerts) calls it once."""
    conn, *_ = late
    cols = "period_kind, period, sort_order, n, positives, auc, accuracy, brier, status, firing, checks::text"
    both = query(conn, f"SELECT {cols} FROM pgscore.performance_stats_of(false, NULL, 'both_windows') "  # noqa: S608
                       "ORDER BY 1, 3")
    each = query(conn, f"SELECT {cols} FROM pgscore.performance_stats_of(false, NULL, 'window') UNION ALL "  # noqa: S608
                       f"SELECT {cols} FROM pgscore.performance_stats_of(false, NULL, 'outcome_window') ORDER BY 1, 3")
    assert both == each and len(both) == 10
    # (since 0136 the view reads pgscore.firing_of(NULL), whose body holds the call)
    (defn,), = query(conn, "SELECT pg_get_viewdef('pgscore.firing'::regclass)")
    assert "firing_of(" in defn and "performance_stats_of(" not in defn, defn
    (body,), = query(conn, "SELECT pg_get_functiondef('pgscore.firing_of(text[])'::regprocedure)")
    # (the live versions' one call, both kinds; the shadows' is another, performance_stats_of(true, ...))
    assert body.count("performance_stats_of(false") == 1 and "'both_windows'" in body, body
    # the live rows of both subjects as before: by outcome time in every window, by prediction time since deploy
    got = query(conn, "SELECT subject, window_name, metric, level, value FROM pgscore.alerts "
                      "WHERE what = 'performance' AND NOT shadow ORDER BY 1, 2, 3")
    want = sorted((("outcomes" if k == "window" else SUBJECT), p, c["metric"], c["level"], c["value"])
                  for k, p, c in ((r[0], r[1], c) for r in query(
                      conn, "SELECT period_kind, period, checks FROM pgscore.performance_stats_of(false, NULL, 'window') "
                            "UNION ALL SELECT period_kind, period, checks "
                            "FROM pgscore.performance_stats_of(false, NULL, 'outcome_window')") for c in r[2])
                  if c["level"] in ("warn", "alert"))
    assert got == want and any(r[0] == SUBJECT for r in got)


def test_a_misspelt_kind_is_told_the_kinds_performance_stats_of_takes(late):
    """performance_stats_of took outcome_window, but a caller who misspelt it was told p_period_kind must be 'window'
    or 'day', or NULL for all: neither the kind it takes nor what NULL gives (window and day, not outcome_window)."""
    conn, *_ = late
    with pytest.raises(psycopg2.errors.InvalidParameterValue) as e:
        query(conn, "SELECT * FROM pgscore.performance_stats_of(false, NULL, 'outcome_windows')")
    assert e.value.diag.message_primary == (
        "pgscore.performance_stats_of: p_period_kind must be 'window' or 'day' or 'outcome_window' or 'both_windows', "
        "or NULL for window and day; got 'outcome_windows'")
    # the drift functions' kinds are monitoring_periods' alone, as before
    with pytest.raises(psycopg2.errors.InvalidParameterValue) as e:
        query(conn, "SELECT * FROM pgscore.drift_counts('outcome_window')")
    assert e.value.diag.message_primary == \
        "pgscore.drift_counts: p_period_kind must be 'window' or 'day', or NULL for all; got 'outcome_window'"


def test_a_correction_moves_its_prediction_to_its_window_and_a_duplicate_counts_once(late):
    """record_outcome inserts (no upsert): a correction is a new row, recorded now, and the prediction is judged by
    it (the newest observed) in the windows of its recorded_at, no longer where the first landed; an outcome recorded
    twice judges its prediction once. Per version (p_by_version) the same."""
    conn, p, y_new, y_old = late
    # k600 was recorded 9 days ago (since deploy alone); corrected now, observed when the first was
    (obs,), = query(conn, "SELECT observed_at FROM pgscore.outcomes WHERE entity_key = 'k600'")
    query(conn, "SELECT pgscore.record_outcome('churn', 'k600', %s, %s)", (int(1 - y_old[0]), obs))
    # k0 (recorded now) recorded again, the same outcome, the same observed_at
    (obs0, out0), = query(conn, "SELECT observed_at, outcome::text FROM pgscore.outcomes WHERE entity_key = 'k0'")
    query(conn, "SELECT pgscore.record_outcome('churn', 'k0', %s::jsonb #>> '{}', %s)", (out0, obs0))
    for by_version in (False, True):
        rows = {r[0]: r[1:] for r in query(
            conn, "SELECT period, n, positives FROM pgscore.performance_stats_of(%s, NULL, 'outcome_window') "
                  "WHERE period_kind = 'outcome_window'", (by_version,))}
        y = np.append(y_new, 1 - y_old[0])
        assert rows["1 hour"] == (601, int(y.sum())), by_version
        assert rows["since deploy"] == (1000, int(y_new.sum() + y_old[1:].sum() + 1 - y_old[0])), by_version
