"""A classifier's predicted-class mix against its mix at deploy (migration 0122): the class baseline a multiclass
deploy captures, pgscore.class_drift's shares, PSI and status against a count and a computation by hand, the
class_mix check in alerts, through the log and through the rollups, and what a version without a class baseline
(a binary classifier, a model deployed before 0122) shows."""

from __future__ import annotations

import math

import numpy as np
import psycopg2
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from helpers import ensure_role, query
from pgscore import datasets, metrics, registry

TOL = 1e-9
EPS = 1e-4  # the PSI floor, as in pgscore.drift_stats_of
CLASSES = ["high", "low", "mid"]  # the model's classes, in scikit-learn's (sorted) order, as pgscore.models holds them


@pytest.fixture(scope="module")
def tier_data():
    X, _, names = datasets.churn(1500, seed=3)
    # three tiers by a feature's terciles, with noise: the model learns them, not perfectly
    rng = np.random.default_rng(0)
    z = np.nan_to_num(X[:, 0]) + rng.normal(0, 0.3 * np.nanstd(X[:, 0]), len(X))
    y = np.array(["low", "mid", "high"])[np.digitize(z, np.quantile(z, [1 / 3, 2 / 3]))]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(np.nan_to_num(X), y)
    return np.nan_to_num(X), y, names, model


@pytest.fixture
def tier(db_url, tier_data):
    X, y, names, model = tier_data
    rec = registry.deploy(db_url, "tier", model, X, y, feature_names=names)
    conn = psycopg2.connect(db_url)
    conn.autocommit = True
    yield conn, rec["model_id"]
    conn.close()


def log_labels(conn, model_id, labels, ago="0 seconds"):
    """Prediction-log rows of model_id carrying `labels` (None: no label), logged `ago` before now()."""
    query(conn, """
        INSERT INTO pgscore.prediction_log (logged_at, model_id, entity_key, features, score, label, source)
        SELECT now() - %s::interval, %s, 'k' || i, ARRAY[0.0]::float8[], 0.5, l, 'batch'
          FROM unnest(%s::text[]) WITH ORDINALITY u(l, i)""", (ago, model_id, list(labels)))


def mix(counts):
    return [c for c, k in zip(CLASSES, counts) for _ in range(k)]


def hand_psi(shares, expected):
    return sum((max(c, EPS) - max(e, EPS)) * math.log(max(c, EPS) / max(e, EPS)) for c, e in zip(shares, expected))


def class_row(conn, window="1 hour"):
    cols = ["n", "n_unlabelled", "classes", "shares", "baseline_shares", "psi", "largest_change_class",
            "largest_change", "status", "firing", "note", "baseline_n", "task"]
    row, = query(conn, f"SELECT {', '.join(cols)} FROM pgscore.class_drift "  # noqa: S608 - names from the list
                       "WHERE model = 'tier' AND window_name = %s", (window,))
    return dict(zip(cols, row))


def test_a_multiclass_deploy_captures_the_class_mix_of_the_rows_its_score_baseline_is_drawn_from(tier, tier_data):
    """The class baseline: one row, the share of each class (in the model's class order) that the hold-out copy
    predicts for the hold-out rows, which the score baseline is drawn from too; edges 1..k-1; n the hold-out's."""
    conn, model_id = tier
    X, y, _, model = tier_data
    _, held, held_classes, _ = metrics.holdout(model, X, y, "multiclass", matrix=X)
    (classes,), = query(conn, "SELECT classes FROM pgscore.models WHERE model_id = %s", (model_id,))
    expected = [float(np.mean(held_classes == c)) for c in classes]
    rows = query(conn, "SELECT feature, position, edges, expected, n, null_rate, mean FROM pgscore.baselines "
                       "WHERE model_id = %s AND kind = 'class'", (model_id,))
    assert len(rows) == 1
    feature, position, edges, got, n, null_rate, mean = rows[0]
    assert (feature, position, edges, n, null_rate, mean) == ("class", 0, [1.0, 2.0], len(held), 0.0, None)
    assert np.allclose(got, expected, atol=TOL, rtol=0) and abs(sum(got) - 1) < TOL
    (score_n,), = query(conn, "SELECT n FROM pgscore.baselines WHERE model_id = %s AND kind = 'score'", (model_id,))
    assert score_n == n
    # the feature and score views and baseline_bins keep to their own rows
    assert query(conn, "SELECT DISTINCT kind FROM pgscore.baseline_bins WHERE model = 'tier' ORDER BY 1") == [
        ("feature",), ("score",)]
    log_labels(conn, model_id, mix([10, 10, 10]))
    assert query(conn, "SELECT count(*) FROM pgscore.score_drift WHERE model = 'tier'") == [(5,)]
    assert query(conn, "SELECT DISTINCT what FROM pgscore.window_checks WHERE model = 'tier' "
                       "AND what <> 'performance' ORDER BY 1") == [
        ("feature",), ("score",)]


def test_class_drift_counts_the_shares_and_psi_by_hand_from_the_log_and_from_the_rollups(tier):
    """Each class's share among the window's labelled predictions, a count by hand; the unlabelled (no label, a
    label none of the classes) apart; PSI as computed by hand; the largest change; the same numbers once
    refresh_monitoring has rolled the rows up."""
    conn, model_id = tier
    counts = [50, 30, 120]
    log_labels(conn, model_id, mix(counts) + [None] * 7 + ["nope"] * 3, ago="20 minutes")
    (expected,), = query(conn, "SELECT expected FROM pgscore.baselines WHERE model_id = %s AND kind = 'class'",
                         (model_id,))
    shares = [k / 200 for k in counts]
    psi = hand_psi(shares, expected)
    change = [c - e for c, e in zip(shares, expected)]
    top = max(range(3), key=lambda i: abs(change[i]))
    for refreshed in (False, True):
        if refreshed:
            query(conn, "SELECT pgscore.refresh_monitoring()")
            assert query(conn, "SELECT sum(n) FROM pgscore.drift_rollup WHERE model_id = %s AND kind = 'class'",
                         (model_id,)) == [(210,)]
        r = class_row(conn)
        assert (r["n"], r["n_unlabelled"], r["classes"], r["task"]) == (200, 10, CLASSES, "multiclass"), refreshed
        assert np.allclose(r["shares"], shares, atol=TOL, rtol=0)
        assert np.allclose(r["baseline_shares"], expected, atol=TOL, rtol=0)
        assert abs(r["psi"] - psi) < TOL
        assert (r["largest_change_class"], round(r["largest_change"], 12)) == (CLASSES[top], round(change[top], 12))
        want = "alert" if psi >= 0.2 else "warn" if psi >= 0.1 else "ok"
        assert (r["status"], r["note"]) == (want, None)


def test_a_shift_of_the_mix_warns_or_alerts_and_no_shift_stays_ok(tier):
    """The mix at deploy stays ok; a mix whose PSI passes class_mix's warn warns, past its alert alerts, in
    class_drift and in alerts (what class, subject mix); fewer than min_n is insufficient_data."""
    conn, model_id = tier
    (expected,), = query(conn, "SELECT expected FROM pgscore.baselines WHERE model_id = %s AND kind = 'class'",
                         (model_id,))
    (warn, alert, min_n), = query(conn, "SELECT warn, alert, min_n FROM pgscore.drift_thresholds "
                                        "WHERE metric = 'class_mix'")
    assert (warn, alert, min_n) == (0.1, 0.2, 100)

    def status_after(counts):
        query(conn, "DELETE FROM pgscore.prediction_log WHERE model_id = %s", (model_id,))
        log_labels(conn, model_id, mix(counts))
        return class_row(conn)

    same = [round(e * 3000) for e in expected]
    r = status_after(same)
    assert (r["status"], r["firing"]) == ("ok", None) and r["psi"] < 0.01
    assert query(conn, "SELECT count(*) FROM pgscore.alerts WHERE model = 'tier' AND what = 'class'") == [(0,)]
    # the trial's shift: 'high' for 83% of the predictions
    r = status_after([2490, 255, 255])
    assert r["psi"] >= alert and (r["status"], r["firing"]) == ("alert", "class_mix")
    assert r["largest_change_class"] == "high"
    assert ("class", "mix", "1 hour", "class_mix", "alert") in query(
        conn, "SELECT what, subject, window_name, metric, level FROM pgscore.alerts WHERE model = 'tier'")
    # a shift between warn and alert: move shares from low to high until PSI is in [warn, alert)
    for moved in range(0, 3000, 10):
        counts = [same[0] + min(moved, same[1]), same[1] - min(moved, same[1]), same[2]]
        if warn <= hand_psi([k / sum(counts) for k in counts], expected) < alert:
            break
    else:
        pytest.fail("no mix with a PSI between warn and alert")
    r = status_after(counts)
    assert (r["status"], r["firing"]) == ("warn", "class_mix")
    assert ("class", "mix", "1 hour", "class_mix", "warn") in query(
        conn, "SELECT what, subject, window_name, metric, level FROM pgscore.alerts WHERE model = 'tier'")
    r = status_after([99, 0, 0])
    assert (r["status"], r["note"]) == ("insufficient_data", "99 predictions, fewer than the 100 needed")
    r = status_after([])
    assert (r["n"], r["status"], r["shares"], r["note"]) == (
        0, "no_data", None, "no predictions with a predicted class in this window")


def test_a_version_without_a_class_baseline_has_no_status_and_says_why(tier):
    """A model deployed before 0122 (its class baseline deleted here) shows the classes, no shares, a NULL status
    and a note; never an alert."""
    conn, model_id = tier
    log_labels(conn, model_id, mix([500, 0, 0]))
    assert class_row(conn)["status"] == "alert"
    query(conn, "DELETE FROM pgscore.baselines WHERE model_id = %s AND kind = 'class'", (model_id,))
    r = class_row(conn)
    assert (r["status"], r["n"], r["shares"], r["baseline_shares"], r["psi"], r["classes"]) == (
        None, None, None, None, None, CLASSES)
    assert r["note"].startswith("no class baseline: deployed before migration 0122")
    assert query(conn, "SELECT count(*) FROM pgscore.alerts WHERE model = 'tier' AND what = 'class'") == [(0,)]


def test_a_binary_classifier_is_listed_without_a_class_baseline(db_url, tier_data):
    """A binary classifier's predicted class is its score above the threshold, which score_drift judges: its deploy
    captures no class baseline, and class_drift lists it with a NULL status and a note saying so."""
    X, y, names, _ = tier_data
    yb = (y == "high").astype(int)
    rec = registry.deploy(db_url, "yes_no", LogisticRegression(max_iter=1000).fit(X, yb), X, yb,
                          feature_names=names)
    conn = psycopg2.connect(db_url)
    conn.autocommit = True
    assert query(conn, "SELECT count(*) FROM pgscore.baselines WHERE model_id = %s AND kind = 'class'",
                 (rec["model_id"],)) == [(0,)]
    rows = query(conn, "SELECT task, status, n, note FROM pgscore.class_drift WHERE model = 'yes_no'")
    assert len(rows) == 5 and {r[:3] for r in rows} == {("binary", None, None)}
    assert rows[0][3].startswith("a binary classifier: its predicted class is its score above the threshold")
    conn.close()


def test_the_reader_role_reads_class_drift(db_url, tier):
    conn, model_id = tier
    log_labels(conn, model_id, mix([500, 0, 0]))
    ensure_role(conn, "pgscore_t_bi", login=True)
    query(conn, "GRANT pgscore_reader TO pgscore_t_bi")
    reader = psycopg2.connect(db_url.replace("postgresql://postgres@", "postgresql://pgscore_t_bi@"))
    reader.autocommit = True
    assert query(reader, "SELECT status FROM pgscore.class_drift WHERE model = 'tier' AND window_name = '1 hour'") == [
        ("alert",)]
    assert query(reader, "SELECT count(*) FROM pgscore.alerts WHERE what = 'class'") == [(5,)]
    reader.close()


def test_realised_performance_says_why_a_multiclass_models_auc_brier_and_log_loss_are_null(tier):
    """A multiclass model's judged window: auc, brier and log_loss NULL, deploy_log_loss filled, and the note says
    why (the log holds the top class's probability alone) and that accuracy is what it is judged on (0122: the
    note was empty)."""
    conn, model_id = tier
    log_labels(conn, model_id, mix([40, 40, 40]), ago="1 minute")
    query(conn, "SELECT pgscore.record_outcome('tier', 'k' || i, 'high') FROM generate_series(1, 120) i")
    (auc, brier, log_loss, accuracy, deploy_log_loss, status, note), = query(
        conn, "SELECT auc, brier, log_loss, accuracy, deploy_log_loss, status, note FROM pgscore.realised_performance "
              "WHERE model = 'tier' AND window_name = '1 hour'")
    assert (auc, brier, log_loss) == (None, None, None)
    assert abs(accuracy - 40 / 120) < TOL and deploy_log_loss is not None and status in ("ok", "warn", "alert")
    assert note.startswith("a multiclass model: auc, brier and log_loss are NULL, as the audit log holds the top "
                           "class's probability alone")
    assert "accuracy (the logged predicted class against the outcome) is what it is judged on" in note


def test_pgscore_drift_lists_the_class_mix_alert(tier):
    """pgscore drift reads pgscore.alerts: the class mix's alert is in its alert list (what class, subject mix,
    metric class_mix)."""
    from pgscore import report

    conn, model_id = tier
    log_labels(conn, model_id, mix([500, 0, 0]))
    conn.autocommit = False
    data = report.collect(conn, "tier", "1 hour", report.check_args(conn, "tier", "1 hour"))
    conn.autocommit = True
    lines = [ln for ln in report.render_text(data).splitlines() if "class_mix" in ln]
    assert lines and lines[0].split()[:2] == ["class", "mix"], lines


def test_a_window_without_predictions_has_no_psi_and_no_class_that_moved(tier):
    """A window with no labelled prediction (none logged, or only rows without a label): n 0, status no_data, and
    no PSI, no largest change and no class that moved, in the view and in its check (before: greatest() skipped the
    NULL shares, so PSI was that of a mix of 1e-4 shares against the baseline's, ~0.9 here, and the first class
    was named as the one that moved most)."""
    conn, model_id = tier
    log_labels(conn, model_id, [None] * 5)
    for window in ("1 hour", "1 day"):
        r = class_row(conn, window)
        assert (r["n"], r["n_unlabelled"], r["status"], r["shares"]) == (0, 5, "no_data", None), window
        assert (r["psi"], r["largest_change_class"], r["largest_change"]) == (None, None, None), window
        (checks,), = query(conn, "SELECT checks FROM pgscore.class_drift WHERE model = 'tier' AND window_name = %s",
                           (window,))
        assert [(c["metric"], c["value"], c["level"]) for c in checks] == [("class_mix", None, "no_data")], checks


def test_0122_down_and_up_again_with_class_baselines_rollups_and_alerts(db_url, tier):
    """0122's downgrade with a multiclass model's class baseline, class rollups and a class_mix alert_state row
    present: it runs (0121's CHECK takes no kind 'class'), leaves none of them, and the upgrade after it runs; the
    version deployed before the re-upgrade then has no class baseline, a NULL status and no alert."""
    from pgscore import migrate

    conn, model_id = tier
    log_labels(conn, model_id, mix([500, 0, 0]), ago="20 minutes")
    query(conn, "SELECT pgscore.refresh_monitoring()")
    assert query(conn, "SELECT count(*) > 0 FROM pgscore.alert_state WHERE metric = 'class_mix'") == [(True,)]
    assert query(conn, "SELECT count(*) > 0 FROM pgscore.drift_rollup_day WHERE kind = 'class'") == [(True,)]
    migrate.downgrade(db_url, "0121")
    for table in ("baselines", "drift_rollup", "drift_rollup_day"):
        assert query(conn, f"SELECT count(*) FROM pgscore.{table} WHERE kind = 'class'") == [(0,)], table  # noqa: S608
    assert query(conn, "SELECT count(*) FROM pgscore.alert_state WHERE metric = 'class_mix'") == [(0,)]
    migrate.upgrade(db_url)
    r = class_row(conn)
    assert (r["status"], r["baseline_shares"]) == (None, None) and r["note"].startswith("no class baseline")
    query(conn, "SELECT pgscore.refresh_monitoring()")
    assert query(conn, "SELECT count(*) FROM pgscore.alerts WHERE what = 'class'") == [(0,)]


def test_the_html_reports_histograms_are_the_features_and_the_score_alone(tier, tier_data):
    """pgscore drift --html draws a histogram per baseline row of features and score: the class baseline is none
    of them (without report.py's kind filter, a histogram named 'class' was drawn among the features)."""
    from pgscore import report

    conn, model_id = tier
    _, _, names, _ = tier_data
    log_labels(conn, model_id, mix([10, 10, 10]))
    conn.autocommit = False
    data = report.collect(conn, "tier", "1 hour", report.check_args(conn, "tier", "1 hour"), charts=True)
    conn.autocommit = True
    m, = data.models
    assert [(h["kind"], h["feature"]) for h in m.histograms] == [("feature", f) for f in names] + [("score", "score")]


def test_a_new_version_is_judged_on_its_own_baseline_and_rows_and_a_rollback_on_the_old_ones(db_url, tier,
                                                                                             tier_data):
    """Redeployed: class_drift lists the new version, its baseline (captured at its deploy), and its own rows
    alone; rolled back: the old version again, with its baseline and rows."""
    conn, v1 = tier
    X, y, names, model = tier_data
    keep = (y != "low") | (np.arange(len(y)) % 4 == 0)  # version 2 learns a mix with fewer 'low'
    v2 = registry.deploy(db_url, "tier", make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(
        X[keep], y[keep]), X[keep], y[keep], feature_names=names)["model_id"]
    base = dict(query(conn, "SELECT model_id, expected FROM pgscore.baselines WHERE kind = 'class' "
                            "AND model_id IN (%s, %s)", (v1, v2)))
    assert not np.allclose(base[v1], base[v2])
    log_labels(conn, v1, mix([300, 0, 0]))
    log_labels(conn, v2, mix([0, 0, 150]))
    r = class_row(conn)
    (version,), = query(conn, "SELECT version FROM pgscore.class_drift WHERE model = 'tier' AND window_name = '1 hour'")
    assert version == 2 and np.allclose(r["baseline_shares"], base[v2], atol=TOL, rtol=0)
    assert (r["n"], r["shares"]) == (150, [0.0, 0.0, 1.0])
    assert abs(r["psi"] - hand_psi([0, 0, 1], base[v2])) < TOL
    registry.rollback(db_url, "tier")
    r = class_row(conn)
    assert np.allclose(r["baseline_shares"], base[v1], atol=TOL, rtol=0)
    assert (r["n"], r["shares"]) == (300, [1.0, 0.0, 0.0])


def test_every_window_counts_the_same_from_the_log_and_from_the_rollups_and_retention_drops_both(tier):
    """Rows logged over days: each window's n, n_unlabelled and shares are the same read from the log and, after
    refresh_monitoring, from the 5-minute and day rollups (a rebuild too); drop_log_partitions drops the days it
    cuts from both."""
    conn, model_id = tier
    log_labels(conn, model_id, mix([30, 5, 5]) + [None], ago="50 hours")
    log_labels(conn, model_id, mix([5, 30, 5]) + ["nope"], ago="26 hours")
    log_labels(conn, model_id, mix([5, 5, 30]), ago="3 hours")
    log_labels(conn, model_id, mix([7, 0, 3]), ago="10 minutes")
    cols = "window_name, n, n_unlabelled, shares, psi, largest_change_class, status"
    read = f"SELECT {cols} FROM pgscore.class_drift WHERE model = 'tier' ORDER BY window_name"  # noqa: S608
    from_log = query(conn, read)
    assert {r[0]: r[1:3] for r in from_log} == {"1 hour": (10, 0), "12 hours": (50, 0), "1 day": (50, 0),
                                                 "7 days": (130, 2), "since deploy": (130, 2)}
    query(conn, "SELECT pgscore.refresh_monitoring()")
    assert query(conn, "SELECT count(*) > 0 FROM pgscore.drift_rollup_day WHERE kind = 'class'") == [(True,)]
    assert query(conn, read) == from_log
    query(conn, "SELECT pgscore.refresh_monitoring(p_rebuild => true)")
    assert query(conn, read) == from_log
    query(conn, "SELECT pgscore.drop_log_partitions('1 day')")
    (day,), = query(conn, "SELECT date_trunc('day', (now() AT TIME ZONE 'UTC') - interval '1 day') AT TIME ZONE 'UTC'")
    assert query(conn, "SELECT count(*) FROM pgscore.drift_rollup_day WHERE kind = 'class' AND day < %s",
                 (day,)) == [(0,)]
    left, = query(conn, "SELECT n + n_unlabelled FROM pgscore.class_drift WHERE model = 'tier' "
                        "AND window_name = '7 days'")
    assert left == query(conn, "SELECT count(*) FROM pgscore.prediction_log WHERE model_id = %s", (model_id,))[0]


def test_class_drift_stats_called_directly_gives_the_views_counts_and_shares(db_url, tier):
    """pgscore.class_drift_stats(), called through SQL (as the reader may), gives each window's n, shares and psi
    that class_drift shows, and class_counts_of (owner only) counts each class's predictions by hand."""
    conn, model_id = tier
    log_labels(conn, model_id, mix([300, 100, 100]) + [None] * 7)
    got = query(conn, "SELECT window_name, n, n_unlabelled, shares, psi FROM pgscore.class_drift_stats() "
                      "WHERE name = 'tier' ORDER BY window_name")
    view = query(conn, "SELECT window_name, n, n_unlabelled, shares, psi FROM pgscore.class_drift "
                       "WHERE model = 'tier' ORDER BY window_name")
    assert got == view and got
    hour = {r[0]: r for r in got}["1 hour"]
    assert hour[1:3] == (500, 7)
    assert np.allclose(hour[3], [0.6, 0.2, 0.2], rtol=0, atol=1e-12), hour[3]
    counts = dict(query(conn, "SELECT bin, sum(n)::bigint FROM pgscore.class_counts_of(ARRAY[%s]::bigint[]) "
                              "WHERE period = '1 hour' GROUP BY bin", (model_id,)))
    assert [counts.get(i, 0) for i in range(len(CLASSES))] == [300, 100, 100] and counts.get(-1) == 7, counts
    ensure_role(conn, "pgscore_t_bi2", login=True)
    query(conn, "GRANT pgscore_reader TO pgscore_t_bi2")
    reader = psycopg2.connect(db_url.replace("postgresql://postgres@", "postgresql://pgscore_t_bi2@"))
    reader.autocommit = True
    try:
        assert query(reader, "SELECT window_name, n, n_unlabelled, shares, psi FROM pgscore.class_drift_stats() "
                             "WHERE name = 'tier' ORDER BY window_name") == got
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            query(reader, "SELECT * FROM pgscore.class_counts_of(ARRAY[1]::bigint[])")
    finally:
        reader.close()


def test_firing_of_a_name_computes_its_class_mix_alone(db_url, tier, tier_data):
    """Session 64: firing_of(p_models)'s class-mix branch read class_drift_stats(), every live classifier's class mix,
    and kept the names asked for (6 live classifiers of 20,000 logged rows each: that branch 741 ms, one's 97 ms). It
    reads class_drift_stats_of for the live versions it names. class_drift_stats_of, through SQL: class_drift_stats()'s
    rows of those versions; none for NULL, an empty array, an unknown id or a version no longer live; repeated ids
    once; the owner's alone (the reader reads class_drift_stats(), and firing_of runs as its owner)."""
    import collections

    conn, model_id = tier
    X, y, names, model = tier_data
    other = registry.deploy(db_url, "tier2", model, X, y, feature_names=names)["model_id"]
    log_labels(conn, model_id, mix([500, 0, 0]))  # 'tier' predicts one class: its mix fires
    log_labels(conn, other, mix([0, 500, 0]))
    cols = "model_id, name, version, window_name, n, n_unlabelled, shares, psi, status, checks"
    every = query(conn, f"SELECT {cols} FROM pgscore.class_drift_stats() ORDER BY 1, 4")
    assert {r[0] for r in every} == {model_id, other}
    for ids, want in (([model_id], [model_id]), ([other, model_id, other], [model_id, other]), (None, []), ([], []),
                      ([-1], []), ([None, model_id], [model_id])):
        got = query(conn, f"SELECT {cols} FROM pgscore.class_drift_stats_of(%s::bigint[]) ORDER BY 1, 4", (ids,))
        assert got == [r for r in every if r[0] in want], ids
    # firing_of for one name: its class mix computed for it alone (each statement of its body as auto_explain shows
    # it: the class mix of the versions named, not every live one's filtered)
    conn.notices = collections.deque(maxlen=100000)
    with conn.cursor() as cur:
        cur.execute("LOAD 'auto_explain'")
        cur.execute("SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on; "
                    "SET client_min_messages = log")
        cur.execute("SELECT model, what, subject FROM pgscore.firing_of(ARRAY['tier'])")
        fired = cur.fetchall()
        cur.execute("RESET client_min_messages; RESET auto_explain.log_min_duration")
    plans = "".join(conn.notices)
    assert "Function Scan on class_drift_stats_of s" in plans, plans[-3000:]
    assert "Function Scan on class_drift_stats s" not in plans, plans[-3000:]
    assert ("tier", "class", "mix") in fired and not any(m == "tier2" for m, *_ in fired), fired
    # a version no longer live has no rows; the reader may not call it
    new = registry.deploy(db_url, "tier2", model, X, y, feature_names=names)["model_id"]
    assert query(conn, "SELECT count(*) FROM pgscore.class_drift_stats_of(ARRAY[%s]::bigint[])", (other,)) == [(0,)]
    assert query(conn, "SELECT count(*) > 0 FROM pgscore.class_drift_stats_of(ARRAY[%s]::bigint[])", (new,)) == [(True,)]
    ensure_role(conn, "pgscore_t_bi3", login=True)
    query(conn, "GRANT pgscore_reader TO pgscore_t_bi3")
    reader = psycopg2.connect(db_url.replace("postgresql://postgres@", "postgresql://pgscore_t_bi3@"))
    try:
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            query(reader, "SELECT * FROM pgscore.class_drift_stats_of(ARRAY[1]::bigint[])")
    finally:
        reader.close()
