"""Per-model (and per-feature) thresholds (migration 0129): pgscore.set_thresholds overrides pgscore.drift_thresholds
for one model, or one of its features (or its score) alone; each NULL is inherited (a subject's from the model's
override, the model's from drift_thresholds). Every place that judges a metric reads them, identically: judge's
forms with a model, drift_stats_of (in place, noise floors at the override's confidence), class_drift,
realised_performance (by version, by outcome time), version_drift, alerts and refresh_monitoring; each check an
override set says so (override: model or subject). clear_thresholds restores what is inherited."""

from __future__ import annotations

import logging
import re

import numpy as np
import psycopg2
import pytest
from psycopg2 import errors

from helpers import pgscore_cli, query
from pgscore import datasets, migrate, registry
from pgscore.errors import InstallError
from test_monitoring import JUDGED_AS_JUDGE, drifted, log_rows


@pytest.fixture(scope="module")
def trained():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y, names = datasets.churn(3000, seed=0)
    return X, y, names, make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)


def _deploy_drifted(db_url, conn, trained, name, n=600):
    X, y, names, model = trained
    rec = registry.deploy(db_url, name, model, X, y, feature_names=names)
    Xc = drifted(trained, n=n)
    log_rows(conn, rec["model_id"], Xc, model.predict_proba(np.nan_to_num(Xc))[:, 1])
    return rec["model_id"]


@pytest.fixture
def two(db_url, trained):
    """churn and churn_b, the same model under two names, with the same drifted predictions logged: monthly_charges
    alerts in every window of both."""
    conn = psycopg2.connect(db_url)
    conn.autocommit = True
    _deploy_drifted(db_url, conn, trained, "churn")
    _deploy_drifted(db_url, conn, trained, "churn_b")
    yield conn
    conn.close()


def _checks(conn, model, subject="monthly_charges", window="1 hour"):
    """{metric: (warn, alert, min_n, level, override)} of window_checks, with each check's override."""
    rows = query(conn, """
        SELECT c ->> 'metric', (c ->> 'warn')::float8, (c ->> 'alert')::float8, (c ->> 'min_n')::integer,
               c ->> 'level', c ->> 'override'
          FROM pgscore.drift_stats() s CROSS JOIN LATERAL jsonb_array_elements(s.checks) c
         WHERE s.name = %s AND s.feature = %s AND s.period = %s""", (model, subject, window))
    return {r[0]: r[1:] for r in rows}


def _alerts(conn, model, subject="monthly_charges"):
    return {(w, m, lv) for w, m, lv in query(conn, "SELECT window_name, metric, level FROM pgscore.alerts "
                                                   "WHERE model = %s AND subject = %s", (model, subject))}


def test_an_override_of_one_model_changes_its_levels_and_not_the_other_models(two):
    conn = two
    before_a, before_b = _alerts(conn, "churn"), _alerts(conn, "churn_b")
    assert ("1 hour", "psi", "alert") in before_a and before_a == before_b
    query(conn, "SELECT pgscore.set_thresholds('churn', 'psi', p_warn => 50, p_alert => 100)")
    a, b = _checks(conn, "churn"), _checks(conn, "churn_b")
    assert a["psi"][:2] == (50, 100) and a["psi"][3:] == ("ok", "model"), a["psi"]
    assert b["psi"][:2] == (0.1, 0.2) and b["psi"][3:] == ("alert", None), b["psi"]
    assert a["ks"] == b["ks"] and a["ks"][4] is None  # another metric: the defaults, no override said
    assert not any(m == "psi" for _, m, _ in _alerts(conn, "churn"))
    assert _alerts(conn, "churn_b") == before_b
    # every feature of churn, and its score
    assert query(conn, "SELECT DISTINCT (c ->> 'warn')::float8, c ->> 'override' FROM pgscore.drift_stats() s "
                       "CROSS JOIN LATERAL jsonb_array_elements(s.checks) c "
                       "WHERE s.name = 'churn' AND c ->> 'metric' = 'psi'") == [(50, "model")]
    # feature_drift, score_drift and drift_by_day read the same judgement
    (st_a,), = query(conn, "SELECT firing FROM pgscore.feature_drift WHERE model = 'churn' "
                           "AND feature = 'monthly_charges' AND window_name = '1 hour'")
    (st_b,), = query(conn, "SELECT firing FROM pgscore.feature_drift WHERE model = 'churn_b' "
                           "AND feature = 'monthly_charges' AND window_name = '1 hour'")
    assert "psi" not in st_a and "psi" in st_b
    by_day = ("SELECT DISTINCT c ->> 'level', c ->> 'override' FROM pgscore.drift_by_day d "
              "CROSS JOIN LATERAL jsonb_array_elements(d.checks) c "
              "WHERE d.model = %s AND d.feature = 'monthly_charges' AND d.n > 0 AND c ->> 'metric' = 'psi'")
    assert query(conn, by_day, ("churn",)) == [("ok", "model")]
    assert query(conn, by_day, ("churn_b",)) == [("alert", None)]
    # version_drift of the live version, live or not, reads them too
    (vd,), = query(conn, "SELECT checks FROM pgscore.version_drift('churn', 1) WHERE feature = 'monthly_charges' "
                         "AND window_name = '1 hour'")
    psi = next(c for c in vd if c["metric"] == "psi")
    assert (psi["warn"], psi["alert"], psi["level"], psi["override"]) == (50, 100, "ok", "model")
    # refresh_monitoring's alert_state follows alerts
    query(conn, "SELECT * FROM pgscore.refresh_monitoring()")
    assert query(conn, "SELECT count(*) FROM pgscore.alert_state WHERE model = 'churn' AND metric = 'psi'") == [(0,)]
    assert query(conn, "SELECT count(*) > 0 FROM pgscore.alert_state WHERE model = 'churn_b' AND metric = 'psi'") \
        == [(True,)]
    # cleared: as before, as churn_b
    assert query(conn, "SELECT pgscore.clear_thresholds('churn')") == [(1,)]
    assert _alerts(conn, "churn") == before_a
    assert _checks(conn, "churn") == _checks(conn, "churn_b")


def test_a_subjects_override_beats_the_models_and_inherits_what_it_leaves_null(two):
    conn = two
    query(conn, "SELECT pgscore.set_thresholds('churn', 'ks', p_warn => 40, p_alert => 90, p_min_n => 5)")
    query(conn, "SELECT pgscore.set_thresholds('churn', 'ks', p_alert => 95, p_subject => 'monthly_charges')")
    mc, tenure = _checks(conn, "churn"), _checks(conn, "churn", "tenure_months")
    assert mc["ks"] == (40, 95, 5, "ok", "subject"), mc["ks"]  # warn and min_n the model's, alert its own
    assert tenure["ks"][:3] == (40, 90, 5) and tenure["ks"][4] == "model", tenure["ks"]
    assert _checks(conn, "churn", "score")["ks"][4] == "model"
    # a subject's override alone, the model's cleared: the rest of the model back to the defaults
    assert query(conn, "SELECT pgscore.clear_thresholds('churn', 'ks', 'tenure_months')") == [(0,)]
    query(conn, "DELETE FROM pgscore.drift_threshold_overrides WHERE model = 'churn' AND subject IS NULL")
    mc, tenure = _checks(conn, "churn"), _checks(conn, "churn", "tenure_months")
    assert mc["ks"] == (0.1, 95, 100, "warn", "subject"), mc["ks"]
    assert tenure["ks"] == _checks(conn, "churn_b", "tenure_months")["ks"]
    # the score alone, by its subject
    query(conn, "SELECT pgscore.set_thresholds('churn', 'psi', p_min_n => 100000, p_subject => 'score')")
    assert _checks(conn, "churn", "score")["psi"][3:] == ("insufficient_data", "subject")
    assert _checks(conn, "churn")["psi"][4] is None
    assert query(conn, "SELECT pgscore.clear_thresholds('churn')") == [(2,)]
    assert _checks(conn, "churn") == _checks(conn, "churn_b")


def test_drift_stats_judges_each_metric_as_judge_does_with_the_models_overrides(two):
    """drift_stats_of judges in place (no call of judge per feature and period); with overrides of the model and of
    a subject, confidences among them (the noise floors at c^(1/k) of the confidence that applies), its checks,
    status, firing and min_n are judge's with the model and subject, to the byte."""
    conn = two
    query(conn, "SELECT pgscore.set_thresholds('churn', 'psi', p_warn => 0.15, p_alert => 0.3, p_confidence => 0.9)")
    query(conn, "SELECT pgscore.set_thresholds('churn', 'js', p_confidence => 0.99999, p_subject => 'tenure_months')")
    query(conn, "SELECT pgscore.set_thresholds('churn', 'null_rate', p_min_n => 5000, p_subject => 'data_usage_gb')")
    query(conn, "SELECT pgscore.set_thresholds('churn_b', 'mean_shift', p_warn => 0.01, p_alert => 0.02)")
    sql = (JUDGED_AS_JUDGE
           .replace("(SELECT t.confidence ^ (1 / nb.k::float8) FROM pgscore.drift_thresholds t\n"
                    "                                    WHERE t.metric = m.metric)",
                    "(SELECT e.confidence ^ (1 / nb.k::float8) "
                    "FROM pgscore.effective_thresholds(s.name, m.metric, s.feature) e)")  # (0133: the one rule)
           .replace("                   ORDER BY m.i)) j", "                   ORDER BY m.i), s.name, s.feature) j"))
    assert sql.count("effective_thresholds(s.name") == 1 and sql.count("s.name, s.feature) j") == 1
    (n, differ), = query(conn, sql)
    assert n > 0 and differ == 0, (n, differ)
    # and they changed something: the floors at 0.9 and a check of each override
    (k,), = query(conn, "SELECT count(*) FROM pgscore.drift_stats() s "
                        "CROSS JOIN LATERAL jsonb_array_elements(s.checks) c WHERE s.name = 'churn' AND c ->> 'metric' = 'psi' AND (c ->> 'confidence')::float8 = 0.9 "
                        "AND c ->> 'override' = 'model' AND c ? 'floor'")
    assert k > 0
    assert query(conn, "SELECT DISTINCT level FROM pgscore.window_checks WHERE model = 'churn' "
                       "AND subject = 'data_usage_gb' AND metric = 'null_rate'") == [("insufficient_data",)]


def test_judge_with_a_model_reads_its_overrides_and_without_one_the_defaults(two):
    conn = two
    query(conn, "SELECT pgscore.set_thresholds('churn', 'auc_drop', p_warn => 0.01, p_alert => 0.03)")
    query(conn, "SELECT pgscore.set_thresholds('churn', 'psi', p_alert => 0.5, p_subject => 'tenure_months')")
    judge = ("SELECT checks, status FROM pgscore.judge(ARRAY['auc_drop', 'psi'], ARRAY[0.04, 0.3], "
             "ARRAY[500, 500]::bigint[]")
    (plain, st), = query(conn, judge + ")")
    assert st == "alert" and all("override" not in c for c in plain)
    assert query(conn, judge + ", NULL::text, NULL::text)") == [(plain, st)]
    (by_model, st), = query(conn, judge + ", 'churn', NULL)")
    assert {c["metric"]: (c["level"], c.get("override")) for c in by_model} == {
        "auc_drop": ("alert", "model"), "psi": ("alert", None)}
    (by_subject, _), = query(conn, judge + ", 'churn', 'tenure_months')")
    assert {c["metric"]: (c["alert"], c["level"], c.get("override")) for c in by_subject} == {
        "auc_drop": (0.03, "alert", "model"), "psi": (0.5, "warn", "subject")}
    # the form with noise floors: a floor above the value holds it at ok, the override's confidence said
    query(conn, "SELECT pgscore.set_thresholds('churn', 'auc_drop', p_warn => 0.01, p_alert => 0.03, "
                "p_confidence => 0.9)")
    (checks, st), = query(conn, "SELECT checks, status FROM pgscore.judge(ARRAY['auc_drop'], ARRAY[0.04], "
                                "ARRAY[500]::bigint[], ARRAY[0.05], 'churn', NULL)")
    assert st == "ok" and checks[0]["confidence"] == 0.9 and checks[0]["override"] == "model", checks
    (checks, st), = query(conn, "SELECT checks, status FROM pgscore.judge(ARRAY['auc_drop'], ARRAY[0.04], "
                                "ARRAY[500]::bigint[], ARRAY[0.05])")
    assert st == "ok" and checks[0]["confidence"] == 0.999 and "override" not in checks[0], checks


def test_realised_performance_of_one_model_is_judged_by_its_overrides(two, db_url):
    """A model's own auc_drop and brier_rise min_n: in realised_performance, by version, by outcome time, their
    checks (performance_stats_of) and alerts; the other model as before."""
    conn = two
    for name in ("churn", "churn_b"):  # labels the score does not rank: auc_drop and brier_rise alert
        query(conn, "SELECT count(pgscore.record_outcome(%s, k::text, (k %% 2)::float8)) "
                    "FROM generate_series(0, 299) k", (name,))
    views = ("realised_performance", "realised_performance_by_version", "realised_performance_by_outcome_time")
    stats = {"window": "false, NULL, 'window'", "by_version": "true, NULL, 'window'",
             "outcome_window": "false, NULL, 'outcome_window'"}

    def perf(model):
        out = {}
        for v in views:
            out[v] = query(conn, f"SELECT status, firing FROM pgscore.{v} WHERE model = %s "  # noqa: S608
                                 "AND window_name = '1 hour'", (model,))
        for k, args in stats.items():
            for checks, in query(conn, f"SELECT checks FROM pgscore.performance_stats_of({args}) "  # noqa: S608
                                       "WHERE name = %s AND period = '1 hour'", (model,)):
                for c in checks:
                    out[(k, c["metric"])] = (c["min_n"], c["alert"], c["level"], c.get("override"))
        out["alerts"] = query(conn, "SELECT window_name, metric, level FROM pgscore.alerts WHERE model = %s "
                                    "AND what = 'performance' ORDER BY 1, 2", (model,))
        return out

    before = perf("churn_b")
    assert before == perf("churn")
    assert before[("window", "auc_drop")][2] == "alert" and before[("window", "brier_rise")][2] == "alert", before
    assert all(before[v] == [("alert", "accuracy_drop, auc_drop, brier_rise")] for v in views), before
    query(conn, "SELECT pgscore.set_thresholds('churn', 'auc_drop', p_warn => 5, p_alert => 10)")
    query(conn, "SELECT pgscore.set_thresholds('churn', 'brier_rise', p_min_n => 100000)")
    a = perf("churn")
    for k in stats:
        assert a[(k, "auc_drop")][1:] == (10, "ok", "model"), a
        assert a[(k, "brier_rise")][0] == 100000 and a[(k, "brier_rise")][2:] == ("insufficient_data", "model"), a
        assert a[(k, "accuracy_drop")] == before[(k, "accuracy_drop")]
    assert all(a[v] == [("alert", "accuracy_drop")] for v in views), a
    assert not [r for r in a["alerts"] if r[1] in ("auc_drop", "brier_rise")], a["alerts"]
    assert perf("churn_b") == before
    query(conn, "SELECT pgscore.clear_thresholds('churn')")
    assert perf("churn") == before


def test_a_models_own_confidence_moves_its_performance_floors_and_not_the_other_models(two):
    """performance_stats_of computes the floors it passes to judge at the model's own confidence (as judge reports
    it): a lower confidence, a lower floor, for that model alone."""
    conn = two
    for name in ("churn", "churn_b"):
        query(conn, "SELECT count(pgscore.record_outcome(%s, k::text, (k %% 2)::float8)) "
                    "FROM generate_series(0, 299) k", (name,))

    def auc(model):
        (checks,), = query(conn, "SELECT checks FROM pgscore.performance_stats_of(false, NULL, 'window') "
                                 "WHERE name = %s AND period = '1 hour'", (model,))
        c = next(c for c in checks if c["metric"] == "auc_drop")
        return c["confidence"], c["floor"], c.get("override")

    before = auc("churn_b")
    assert auc("churn") == before and before[0] == 0.999 and before[1] is not None, before
    query(conn, "SELECT pgscore.set_thresholds('churn', 'auc_drop', p_confidence => 0.5)")
    conf, floor, override = auc("churn")
    assert (conf, override) == (0.5, "model") and floor < before[1], (conf, floor, before)
    assert auc("churn_b") == before


def test_the_class_mix_of_one_model_is_judged_by_its_override(db_url, trained):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y, names, _ = trained
    conn = psycopg2.connect(db_url)
    conn.autocommit = True
    yk = np.digitize(X[:, 1], np.quantile(X[:, 1], [1 / 3, 2 / 3]))
    labels = np.array(["low", "mid", "high"])[yk]
    est = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, labels)
    for name in ("tier", "tier_b"):
        registry.deploy(db_url, name, est, X, labels, feature_names=names)
        # every prediction 'high': the mix moves far
        query(conn, "SELECT count(pgscore.predict(%s, f)) FROM (SELECT ARRAY(SELECT 1e3::float8 FROM "
                    "generate_series(1, %s)) f FROM generate_series(1, 150)) x", (name, len(names)))
    sql = "SELECT status, checks FROM pgscore.class_drift WHERE model = %s AND window_name = '1 hour'"
    (st_a, _), = query(conn, sql, ("tier",))
    assert st_a == "alert"
    query(conn, "SELECT pgscore.set_thresholds('tier', 'class_mix', p_min_n => 1000)")
    (st_a, ca), = query(conn, sql, ("tier",))
    (st_b, cb), = query(conn, sql, ("tier_b",))
    assert (st_a, ca[0]["override"], st_b) == ("insufficient_data", "model", "alert"), (ca, cb)
    assert "override" not in cb[0]
    assert not query(conn, "SELECT 1 FROM pgscore.alerts WHERE model = 'tier' AND what = 'class'")
    assert query(conn, "SELECT count(*) > 0 FROM pgscore.alerts WHERE model = 'tier_b' AND what = 'class'") \
        == [(True,)]
    conn.close()


def test_pgscore_drift_judges_by_a_models_own_thresholds_and_says_them(two, db_url, tmp_path):
    """pgscore drift reads the views, so a model's own thresholds decide its alerts and exit code; it names them
    under the model, and the HTML report draws the model's PSI lines."""
    conn = two
    drift = pgscore_cli("drift", "churn", "--db", db_url)
    assert drift.returncode == 1 and "own thresholds" not in drift.stdout, drift.stdout
    # monthly_charges is churn's only drifted feature here: its every metric out of reach, and the score's too
    for metric in ("psi", "ks", "js", "mean_shift", "null_rate", "out_of_range"):
        query(conn, "SELECT pgscore.set_thresholds('churn', %s, p_warn => 1e9, p_alert => 1e9)", (metric,))
    query(conn, "SELECT pgscore.set_thresholds('churn', 'psi', p_alert => 'Infinity', p_subject => 'monthly_charges')")
    assert not query(conn, "SELECT 1 FROM pgscore.alerts WHERE model = 'churn'")
    drift = pgscore_cli("drift", "churn", "--db", db_url, "--html", str(tmp_path / "r.html"))
    assert drift.returncode == 0 and "result: ok" in drift.stdout, drift.stdout
    text = " ".join(drift.stdout.split())
    assert "own thresholds (pgscore.drift_threshold_overrides; the rest by pgscore.drift_thresholds): js warn 1e+09 " \
           "alert 1e+09;" in text and "psi of monthly_charges alert inf" in text, drift.stdout
    assert pgscore_cli("drift", "churn_b", "--db", db_url).returncode == 1


def test_pgscore_thresholds_sets_lists_and_clears_a_models_own(two, db_url):
    conn = two
    out = pgscore_cli("thresholds", "churn", "--metric", "auc_drop", "--warn", "0.02", "--alert", "0.03",
                      "--db", db_url)
    assert out.returncode == 0 and out.stdout.startswith("set: churn auc_drop"), (out.stdout, out.stderr)
    out = pgscore_cli("thresholds", "churn", "--metric", "psi", "--alert", "inf", "--subject", "tenure_months",
                      "--db", db_url)
    assert out.returncode == 0, out.stderr
    assert query(conn, "SELECT metric, subject, warn, alert FROM pgscore.drift_threshold_overrides ORDER BY 1") == [
        ("auc_drop", None, 0.02, 0.03), ("psi", "tenure_months", None, float("inf"))]
    out = pgscore_cli("thresholds", "--db", db_url)
    assert out.returncode == 0 and "every model (pgscore.drift_thresholds):" in out.stdout, out.stdout
    lines = [" ".join(ln.split()) for ln in out.stdout.splitlines()]
    assert "churn auc_drop (every) 0.02 0.03 postgres" in lines and "churn psi tenure_months inf postgres" in lines, \
        out.stdout
    # the server's refusals, with their SQLSTATE; usage errors before anything runs
    out = pgscore_cli("thresholds", "churn", "--metric", "psi", "--warn", "0.5", "--db", db_url)
    assert out.returncode == 1 and "warn 0.5 would be above alert 0.2" in out.stderr \
        and "SQLSTATE 22023" in out.stderr, out.stderr
    out = pgscore_cli("thresholds", "churn", "--warn", "0.5", "--db", db_url)
    assert out.returncode == 2 and "give the metric the values are for" in out.stderr, out.stderr
    out = pgscore_cli("thresholds", "--clear", "--db", db_url)
    assert out.returncode == 2 and "give the model" in out.stderr, out.stderr
    out = pgscore_cli("thresholds", "churn", "--clear", "--db", db_url)
    assert out.returncode == 0 and "cleared 2 overrides of churn" in out.stdout, out.stdout
    assert query(conn, "SELECT count(*) FROM pgscore.drift_threshold_overrides") == [(0,)]
    out = pgscore_cli("thresholds", "churn", "--clear", "--db", db_url)
    assert out.returncode == 0 and "churn: no override to clear" in out.stdout, out.stdout


@pytest.mark.parametrize("call, sqlstate, words", [
    ("set_thresholds('churm', 'psi', 0.2, 0.3)", "42704", "there is no model 'churm'"),
    ("set_thresholds('churn', 'PSI', 0.2, 0.3)", "22023", "p_metric 'PSI' is not a metric"),
    ("set_thresholds('churn', 'psi')", "22023", "give at least one of p_warn"),
    ("set_thresholds('churn', 'psi', 0.5, 0.3)", "22023", "warn 0.5 would be above alert 0.3"),
    # inherited: alert 0.2 of the default, below the warn given
    ("set_thresholds('churn', 'psi', p_warn => 0.25)", "22023", "warn 0.25 would be above alert 0.2"),
    ("set_thresholds('churn', 'psi', -1, 0.3)", "22023", "at least 0"),
    ("set_thresholds('churn', 'psi', 'NaN', 0.3)", "22023", "at least 0"),
    ("set_thresholds('churn', 'psi', p_min_n => 0)", "22023", "p_min_n must be at least 1"),
    ("set_thresholds('churn', 'psi', p_confidence => 1)", "22023", "between 0 and 1"),
    ("set_thresholds('churn', 'class_mix', p_confidence => 0.9)", "22023", "class_mix has no noise floor"),
    ("set_thresholds('churn', 'auc_drop', 0.01, 0.03, p_subject => 'tenure_months')", "22023", "judged per model"),
    ("set_thresholds('churn', 'psi', 0.2, 0.3, p_subject => 'Tenure_months')", "22023",
     "p_subject 'Tenure_months' is not a feature of model 'churn'"),
    ("set_thresholds(NULL, 'psi', 0.2, 0.3)", "22004", "must not be NULL"),
    ("set_thresholds('churn', NULL, 0.2, 0.3)", "22004", "must not be NULL"),
    ("clear_thresholds(NULL)", "22004", "must not be NULL"),
    ("clear_thresholds('churm')", "42704", "there is no model 'churm'"),
    ("clear_thresholds('churn', 'auc')", "22023", "p_metric 'auc' is not a metric"),
])
def test_set_and_clear_refuse_bad_arguments_naming_them(two, call, sqlstate, words):
    with pytest.raises(psycopg2.Error) as e:
        query(two, f"SELECT pgscore.{call}")
    assert e.value.pgcode == sqlstate and words in e.value.pgerror, e.value.pgerror
    if "churm" in call:
        assert "a typo for 'churn'" in e.value.diag.message_hint, e.value.diag.message_hint
    if "Tenure_months" in call:
        assert "'tenure_months'" in e.value.diag.message_hint, e.value.diag.message_hint
    assert query(two, "SELECT count(*) FROM pgscore.drift_threshold_overrides") == [(0,)]


def test_a_set_replaces_the_row_and_the_table_refuses_what_set_refuses(two):
    conn = two
    query(conn, "SELECT pgscore.set_thresholds('churn', 'psi', 0.2, 0.4, 50)")
    query(conn, "SELECT pgscore.set_thresholds('churn', 'psi', p_alert => 'Infinity')")  # warn only
    assert query(conn, "SELECT subject, warn, alert, min_n, confidence, created_by = session_user "
                       "FROM pgscore.drift_threshold_overrides") == [(None, None, float("inf"), None, None, True)]
    assert _checks(conn, "churn")["psi"][3:] == ("warn", "model")
    for stmt in ("INSERT INTO pgscore.drift_threshold_overrides (model, metric) VALUES ('churn', 'ks')",
                 "INSERT INTO pgscore.drift_threshold_overrides (model, metric, warn, alert) "
                 "VALUES ('churn', 'ks', 2, 1)",
                 "INSERT INTO pgscore.drift_threshold_overrides (model, metric, subject, warn) "
                 "VALUES ('churn', 'auc_drop', 'tenure_months', 1)",
                 "INSERT INTO pgscore.drift_threshold_overrides (model, metric, warn) VALUES ('churn', 'nope', 1)",
                 "INSERT INTO pgscore.drift_threshold_overrides (model, metric, warn) VALUES ('churn', 'psi', 1)"):
        with pytest.raises(psycopg2.IntegrityError):
            query(conn, stmt)
    assert query(conn, "SELECT pgscore.clear_thresholds('churn', 'psi')") == [(1,)]
    conn.notices.clear()
    assert query(conn, "SELECT pgscore.clear_thresholds('churn', 'psi')") == [(0,)]
    assert "nothing was cleared" in conn.notices[-1]


def test_an_admin_writing_the_table_by_hand_cannot_put_a_row_under_another_name_or_time(two):
    """created_by and updated_at are who set the row last and when (session_user, now), whatever a hand-written
    INSERT or UPDATE of the admin's says."""
    conn = two
    conn.autocommit = False
    try:
        cur = conn.cursor()
        cur.execute("SET LOCAL ROLE pgscore_admin")
        cur.execute("INSERT INTO pgscore.drift_threshold_overrides (model, metric, warn, created_by, updated_at) "
                    "VALUES ('churn', 'psi', 0.05, 'alice', '2001-01-01')")
        cur.execute("INSERT INTO pgscore.drift_threshold_overrides (model, metric, warn) VALUES ('churn', 'ks', 0.05)")
        cur.execute("UPDATE pgscore.drift_threshold_overrides SET created_by = 'bob', updated_at = '1999-01-01' "
                    "WHERE metric = 'ks'")
        cur.execute("SELECT DISTINCT created_by = session_user, updated_at = now() "
                    "FROM pgscore.drift_threshold_overrides")
        assert cur.fetchall() == [(True, True)]
    finally:
        conn.rollback()
        conn.autocommit = True


@pytest.mark.parametrize("stmts, words", [
    # the model's warn raised above a subject's own alert, which inherits the model's warn
    (["SELECT pgscore.set_thresholds('churn', 'psi', 0.5, 1)",
      "SELECT pgscore.set_thresholds('churn', 'psi', p_alert => 0.6, p_subject => 'tenure_months')",
      "SELECT pgscore.set_thresholds('churn', 'psi', 0.8, 1)"],
     "warn 0.8 would be above alert 0.6 for psi of model 'churn', subject 'tenure_months'"),
    # every model's alert lowered below a model's own warn, which inherits it
    (["SELECT pgscore.set_thresholds('churn', 'ks', p_warn => 0.15)",
      "UPDATE pgscore.drift_thresholds SET warn = 0.05, alert = 0.1 WHERE metric = 'ks'"],
     "warn 0.15 would be above alert 0.1 for ks of model 'churn'"),
    # the model's row deleted by hand: a subject's own warn then inherits the alert of drift_thresholds
    (["SELECT pgscore.set_thresholds('churn', 'psi', 0.5, 1)",
      "SELECT pgscore.set_thresholds('churn', 'psi', p_warn => 0.3, p_subject => 'tenure_months')",
      "DELETE FROM pgscore.drift_threshold_overrides WHERE subject IS NULL"],
     "warn 0.3 would be above alert 0.2 for psi of model 'churn', subject 'tenure_months'"),
    # by hand: a warn alone above the alert inherited
    (["INSERT INTO pgscore.drift_threshold_overrides (model, metric, warn) VALUES ('churn', 'js', 0.5)"],
     "warn 0.5 would be above alert 0.19 for js of model 'churn'"),
])
def test_no_write_leaves_a_warn_above_the_alert_it_is_judged_with(two, stmts, words):
    conn = two
    for s in stmts[:-1]:
        query(conn, s)
    before = query(conn, "SELECT * FROM pgscore.drift_threshold_overrides ORDER BY 1, 2, 3")
    with pytest.raises(psycopg2.Error) as e:
        query(conn, stmts[-1])
    assert e.value.pgcode in ("22023", "23514") and words in e.value.pgerror, e.value.pgerror
    assert e.value.diag.message_hint, e.value.pgerror
    assert query(conn, "SELECT * FROM pgscore.drift_threshold_overrides ORDER BY 1, 2, 3") == before
    # what every view judges by: no check with a warn above its alert
    assert query(conn, "SELECT count(*) FROM pgscore.drift_stats() s CROSS JOIN LATERAL jsonb_array_elements(s.checks) c "
                       "WHERE (c ->> 'warn')::float8 > (c ->> 'alert')::float8") == [(0,)]


def test_two_sessions_setting_a_models_and_a_subjects_thresholds_at_once_cannot_invert_them(two, db_url):
    """One session sets a subject's own alert (under the model's warn), another at the same time the model's warn
    above it: each alone is sound, so the second waits for the first and then is refused (write skew before)."""
    import threading

    query(two, "SELECT pgscore.set_thresholds('churn', 'psi', 0.5, 1)")
    first = psycopg2.connect(db_url)
    second = psycopg2.connect(db_url)
    second.autocommit = True
    got = {}

    def raise_the_models_warn():
        try:
            query(second, "SELECT pgscore.set_thresholds('churn', 'psi', 0.8, 1)")
            got["ok"] = True
        except psycopg2.Error as e:
            got["error"] = (e.pgcode, e.pgerror)

    try:
        query(first, "SELECT pgscore.set_thresholds('churn', 'psi', p_alert => 0.6, p_subject => 'tenure_months')")
        t = threading.Thread(target=raise_the_models_warn)
        t.start()
        t.join(2)
        assert t.is_alive(), got  # it waits for the first session
        first.commit()
        t.join(30)
    finally:
        first.close()
        second.close()
    assert "error" in got and got["error"][0] in ("22023", "23514") and "would be above alert 0.6" in got["error"][1], got
    assert query(two, "SELECT subject, warn, alert FROM pgscore.drift_threshold_overrides ORDER BY subject NULLS FIRST") \
        == [(None, 0.5, 1), ("tenure_months", None, 0.6)]


@pytest.mark.parametrize("role, may", [("pgscore_admin", True), ("pgscore_reader", False), ("pgscore_app", False)])
def test_pgscore_admin_sets_and_clears_thresholds_the_reader_reads_them_and_the_app_neither(two, role, may):
    conn = two
    query(conn, "SELECT pgscore.set_thresholds('churn', 'ks', 0.3, 0.4)")
    conn.autocommit = False
    try:
        cur = conn.cursor()
        cur.execute(f"SET LOCAL ROLE {role}")
        for call in ("SELECT pgscore.set_thresholds('churn', 'psi', 0.3, 0.4)",
                     "SELECT pgscore.clear_thresholds('churn', 'ks')",
                     "DELETE FROM pgscore.drift_threshold_overrides"):
            cur.execute("SAVEPOINT s")
            if may:
                cur.execute(call)
            else:
                with pytest.raises(errors.InsufficientPrivilege):
                    cur.execute(call)
                cur.execute("ROLLBACK TO SAVEPOINT s")
        cur.execute("SAVEPOINT s")
        if role == "pgscore_app":
            with pytest.raises(errors.InsufficientPrivilege):
                cur.execute("SELECT * FROM pgscore.drift_threshold_overrides")
        else:
            cur.execute("SELECT count(*) FROM pgscore.drift_threshold_overrides")
            assert cur.fetchone()[0] == (0 if may else 1)
    finally:
        conn.rollback()
        conn.autocommit = True


def test_0129_downgrade_drops_the_overrides_and_upgrade_judges_by_them_again(empty_db_url, trained):
    migrate.upgrade(empty_db_url)
    conn = psycopg2.connect(empty_db_url)
    conn.autocommit = True
    _deploy_drifted(empty_db_url, conn, trained, "churn", n=300)
    query(conn, "SELECT pgscore.set_thresholds('churn', 'psi', 50, 100)")
    query(conn, "SELECT pgscore.set_thresholds('churn', 'ks', p_alert => 100, p_subject => 'monthly_charges')")
    assert _checks(conn, "churn")["psi"][3] == "ok"
    with pytest.raises(InstallError, match="would drop what users wrote") as e:  # (unless asked: the overrides go)
        migrate.downgrade(empty_db_url, "0127")
    assert "0129 drops 2 threshold overrides (pgscore.drift_threshold_overrides)" in e.value.detail
    migrate.downgrade(empty_db_url, "0127", drop_user_data=True)
    assert query(conn, "SELECT to_regclass('pgscore.drift_threshold_overrides')") == [(None,)]
    (checks,), = query(conn, "SELECT checks FROM pgscore.drift_stats() WHERE feature = 'monthly_charges' "
                             "AND period = '1 hour'")
    assert {c["metric"]: c["level"] for c in checks}["psi"] == "alert"
    assert all("override" not in c for c in checks)
    migrate.upgrade(empty_db_url)
    assert _checks(conn, "churn")["psi"][3:] == ("alert", None)
    query(conn, "SELECT pgscore.set_thresholds('churn', 'psi', 50, 100)")
    assert _checks(conn, "churn")["psi"][3:] == ("ok", "model")
    conn.close()
    migrate.downgrade(empty_db_url, "base")


def test_pgscore_thresholds_setting_one_value_keeps_the_rows_others_and_says_the_row(two, db_url):
    """The CLI changes only the options given of a row that exists (set_thresholds replaces the row it names whole):
    --warn alone keeps the model's own alert, min_n and confidence, and says what the row is now."""
    conn = two
    query(conn, "SELECT pgscore.set_thresholds('churn', 'psi', 0.3, 0.6, 40, 0.99)")
    out = pgscore_cli("thresholds", "churn", "--metric", "psi", "--warn", "0.5", "--db", db_url)
    assert out.returncode == 0, out.stderr
    assert query(conn, "SELECT subject, warn, alert, min_n, confidence FROM pgscore.drift_threshold_overrides") == [
        (None, 0.5, 0.6, 40, 0.99)]
    assert "set: churn psi: warn 0.5, alert 0.6 (kept), min_n 40 (kept), confidence 0.99 (kept)" in out.stdout, \
        out.stdout
    # a subject's row is its own: --alert alone on a new one, the others inherited (not copied)
    out = pgscore_cli("thresholds", "churn", "--metric", "psi", "--subject", "tenure_months", "--alert", "0.7",
                      "--db", db_url)
    assert out.returncode == 0 and "set: churn psi of tenure_months: warn inherited, alert 0.7, min_n inherited" in out.stdout, \
        (out.stdout, out.stderr)
    assert query(conn, "SELECT warn, alert, min_n, confidence FROM pgscore.drift_threshold_overrides "
                       "WHERE subject = 'tenure_months'") == [(None, 0.7, None, None)]
    # a refusal changes nothing
    out = pgscore_cli("thresholds", "churn", "--metric", "psi", "--warn", "0.9", "--db", db_url)
    assert out.returncode == 1 and "warn 0.9 would be above alert 0.6" in out.stderr, out.stderr
    assert query(conn, "SELECT warn, alert FROM pgscore.drift_threshold_overrides WHERE subject IS NULL") == [
        (0.5, 0.6)]
    # --clear still clears the row whole
    out = pgscore_cli("thresholds", "churn", "--metric", "psi", "--clear", "--db", db_url)
    assert out.returncode == 0 and "cleared 2 overrides" in out.stdout, out.stdout


def test_pgscore_thresholds_lists_a_known_model_alone_filtered_by_metric_and_subject(two, db_url):
    """Listing an unknown model is an error with the typo hint (42704), as other commands give; --metric and
    --subject narrow the listing (and an unknown metric is refused, 22023)."""
    conn = two
    query(conn, "SELECT pgscore.set_thresholds('churn', 'psi', 0.3, 0.6)")
    query(conn, "SELECT pgscore.set_thresholds('churn', 'ks', 0.3, 0.6)")
    query(conn, "SELECT pgscore.set_thresholds('churn', 'psi', p_alert => 0.7, p_subject => 'tenure_months')")
    out = pgscore_cli("thresholds", "churm", "--db", db_url)
    assert out.returncode == 1 and "there is no model 'churm'" in out.stderr and "SQLSTATE 42704" in out.stderr \
        and "a typo for 'churn'" in out.stderr, (out.stdout, out.stderr)
    out = pgscore_cli("thresholds", "churn_b", "--db", db_url)  # a model without its own: said, exit 0
    assert out.returncode == 0 and "no own thresholds of churn_b" in out.stdout, out.stdout
    out = pgscore_cli("thresholds", "churn", "--metric", "psi", "--db", db_url)
    lines = [" ".join(ln.split()) for ln in out.stdout.splitlines()]
    assert out.returncode == 0 and "churn psi (every) 0.3 0.6 postgres" in lines \
        and "churn psi tenure_months 0.7 postgres" in lines, out.stdout
    assert not any(ln.startswith(("churn ks", "ks ")) for ln in lines), out.stdout
    out = pgscore_cli("thresholds", "--subject", "tenure_months", "--db", db_url)
    lines = [" ".join(ln.split()) for ln in out.stdout.splitlines()]
    assert out.returncode == 0 and "churn psi tenure_months 0.7 postgres" in lines, out.stdout
    assert not any(ln.startswith("churn") and "tenure_months" not in ln for ln in lines), out.stdout
    out = pgscore_cli("thresholds", "churn", "--metric", "ks", "--subject", "tenure_months", "--db", db_url)
    assert out.returncode == 0 and "no own thresholds of churn ks of tenure_months" in out.stdout, out.stdout
    out = pgscore_cli("thresholds", "churn", "--metric", "PSI", "--db", db_url)
    assert out.returncode == 1 and "--metric 'PSI' is not a metric of pgscore.drift_thresholds (" in out.stderr, \
        out.stderr


@pytest.mark.parametrize("stmt, sqlstate, words, hint", [
    ("INSERT INTO pgscore.drift_threshold_overrides (model, metric, warn) VALUES ('churm', 'psi', 0.05)",
     "42704", "there is no model 'churm'", "a typo for 'churn'"),
    ("INSERT INTO pgscore.drift_threshold_overrides (model, metric, subject, warn) "
     "VALUES ('churn', 'psi', 'Tenure_months', 0.05)",
     "22023", "subject 'Tenure_months' is not a feature of model 'churn' nor its score", "'tenure_months'"),
    ("UPDATE pgscore.drift_threshold_overrides SET model = 'nosuch'", "42704", "there is no model 'nosuch'", None),
    ("UPDATE pgscore.drift_threshold_overrides SET subject = 'nope' WHERE metric = 'ks'",
     "22023", "subject 'nope' is not a feature of model 'churn'", "list them with"),
])
def test_an_admins_row_by_hand_names_a_model_and_a_subject_it_has_as_set_thresholds_does(two, stmt, sqlstate, words,
                                                                                          hint):
    """A row written by hand is refused where set_thresholds refuses its model or subject (a row of a model not
    registered, or of a subject the model has not, changed nothing, silently); the score and a feature are taken."""
    conn = two
    query(conn, "SELECT pgscore.set_thresholds('churn', 'ks', 0.05, 0.5)")
    conn.autocommit = False
    try:
        cur = conn.cursor()
        cur.execute("SET LOCAL ROLE pgscore_admin")
        cur.execute("INSERT INTO pgscore.drift_threshold_overrides (model, metric, subject, warn) "
                    "VALUES ('churn', 'psi', 'score', 0.05), ('churn', 'js', 'tenure_months', 0.05)")
        with pytest.raises(psycopg2.Error) as e:
            cur.execute(stmt)
        assert e.value.pgcode == sqlstate and words in e.value.pgerror, e.value.pgerror
        if hint:
            assert hint in e.value.diag.message_hint, e.value.diag.message_hint
    finally:
        conn.rollback()
        conn.autocommit = True


# -- (0133) one rule: pgscore.effective_thresholds, and every consumer agreeing with it ---------------------------

SUBJECTS = ("monthly_charges", "tenure_months", "score")
# (model's row, subject tenure_months' row) of psi and the model's auc_drop, each (warn, alert, min_n, confidence);
# None: no row. Some values NULL: inherited, one level up.
GRID = {
    "none": (None, None, None),
    "model": ((0.01, 0.02, None, None), None, (0.001, None, 50, 0.9)),
    "subject": (None, (None, 0.5, 7, None), None),
    "both": ((0.15, None, 11, 0.9), (None, 0.9, None, 0.99), (None, 0.5, None, None)),
    "floor off": ((None, None, None, 0), (None, None, None, 0.999), (None, None, None, 0)),
}


def _set_grid(conn, case):
    query(conn, "DELETE FROM pgscore.drift_threshold_overrides")
    model, subject, perf = GRID[case]
    for metric, subj, row in (("psi", None, model), ("psi", "tenure_months", subject), ("auc_drop", None, perf)):
        if row is not None:
            query(conn, "SELECT pgscore.set_thresholds('churn', %s, %s, %s, %s, %s, %s)", (metric, *row, subj))


def _effective(conn, metric, subject):
    (row,), = [r for r in query(conn, """
        SELECT to_jsonb(e) FROM pgscore.effective_thresholds('churn', %s, %s) e""", (metric, subject))]
    return row


KEYS = ("warn", "alert", "min_n", "confidence", "override", "warn_from", "alert_from", "min_n_from", "confidence_from")


def _said(check: dict) -> dict:
    """A check's thresholds and where they came from, as effective_thresholds gives them (a check without an override
    says none: every threshold drift_thresholds')."""
    out = {k: check.get(k) for k in KEYS}
    for k in KEYS[5:]:
        out[k] = out[k] or "default"
    return out


@pytest.mark.parametrize("case", list(GRID))
def test_every_consumer_judges_by_effective_thresholds(two, db_url, case):
    """For a grid of overrides (none, the model's, a subject's, both, some values NULL, a confidence of 0), every
    place that judges agrees with pgscore.effective_thresholds, value by value and source by source: judge's two
    forms with the model, drift_stats_of's checks (feature_drift, window_checks), realised performance, window_checks'
    columns, alerts' threshold and threshold_from, pgscore drift's thresholds (report.thresholds_of) and
    set_thresholds' refusal of a warn above the alert a subject inherits. A copy of the rule drifting from it (judge
    reading the model's row before the subject's, say) fails here."""
    from pgscore import report

    conn = two
    _set_grid(conn, case)
    for subject in SUBJECTS:
        e = _effective(conn, "psi", subject)
        want = {k: e[k] for k in KEYS}
        # judge, both forms (the floors' form with a floor of 0: the level by the thresholds)
        (checks,), = query(conn, "SELECT checks FROM pgscore.judge(ARRAY['psi'], ARRAY[0.05], ARRAY[500]::bigint[], "
                                 "'churn', %s)", (subject,))
        assert {**_said(checks[0]), "confidence": e["confidence"]} == want, (case, subject, checks)
        (checks,), = query(conn, "SELECT checks FROM pgscore.judge(ARRAY['psi'], ARRAY[0.05], ARRAY[500]::bigint[], "
                                 "ARRAY[0]::float8[], 'churn', %s)", (subject,))
        assert _said(checks[0]) == want, (case, subject, checks)
        assert ("floor" in checks[0]) == (e["confidence"] is not None), checks
        # drift_stats_of, in place: every window's check of the subject
        for checks, in query(conn, "SELECT checks FROM pgscore.drift_stats() WHERE name = 'churn' AND feature = %s",
                             (subject,)):
            c = next(c for c in checks if c["metric"] == "psi")
            assert _said(c) == want, (case, subject, c)
        # window_checks' columns
        rows = query(conn, "SELECT DISTINCT to_jsonb(w) - ARRAY['model', 'version', 'what', 'subject', 'window_name', "
                           "'metric', 'value', 'n', 'floor', 'level', 'held_back_from', 'family', 'family_features', "
                           "'check_confidence'] FROM pgscore.window_checks w "
                           "WHERE model = 'churn' AND subject = %s AND metric = 'psi'", (subject,))
        assert [r[0] for r in rows] == [{k: v for k, v in want.items() if k != "override" or v is not None}
                                        | {"override": want["override"]}], (case, subject, rows)
        # alerts: the threshold and where it came from
        for level, threshold, src in query(conn, "SELECT level, threshold, threshold_from FROM pgscore.alerts "
                                                 "WHERE model = 'churn' AND subject = %s AND metric = 'psi'",
                                           (subject,)):
            assert (threshold, src) == (e[level], e[level + "_from"]), (case, subject, level, threshold, src)
    # realised performance's auc_drop (no outcomes: no data, its thresholds all the same)
    e = _effective(conn, "auc_drop", None)
    for checks, in query(conn, "SELECT checks FROM pgscore.performance_stats_of(false, NULL, 'both_windows') "
                               "WHERE name = 'churn'"):
        c = next(c for c in checks if c["metric"] == "auc_drop")
        assert _said(c) == {k: e[k] for k in KEYS}, (case, c)
    # pgscore drift reads the same (its PSI lines, the model's and the score's)
    rconn = psycopg2.connect(db_url)
    try:
        data = report.collect(rconn, "churn", "1 hour", report.check_args(rconn, "churn", "1 hour"))
    finally:
        rconn.close()
    m = data.models[0]
    for subject in (None, *SUBJECTS):
        e = _effective(conn, "psi", subject)
        t = report.thresholds_of(m, data, "psi", subject)
        assert {k: t[k] for k in KEYS} == {k: e[k] for k in KEYS}, (case, subject, t, e)
    # set_thresholds refuses a subject's warn above the alert it would inherit (the model's, as effective), and
    # takes one at it; nothing changed either way
    inherited = _effective(conn, "psi", None)["alert"]
    before = query(conn, "SELECT * FROM pgscore.drift_threshold_overrides ORDER BY metric, subject NULLS FIRST")
    with pytest.raises(errors.InvalidParameterValue) as err:
        query(conn, "SELECT pgscore.set_thresholds('churn', 'psi', p_warn => %s, p_subject => 'monthly_charges')",
              (inherited * 1.5,))
    assert f"alert {inherited:g}" in err.value.pgerror, (case, err.value.pgerror)
    query(conn, "BEGIN")
    try:
        query(conn, "SELECT pgscore.set_thresholds('churn', 'psi', p_warn => %s, p_subject => 'monthly_charges')",
              (inherited,))
    finally:
        query(conn, "ROLLBACK")
    assert query(conn, "SELECT * FROM pgscore.drift_threshold_overrides ORDER BY metric, subject NULLS FIRST") \
        == before


def test_effective_thresholds_says_each_value_and_where_it_came_from(two):
    """The one rule called directly: no model, a model without overrides, a model's, a subject's over it (NULLs
    inherited), a metric drift_thresholds has not (no row), an override's confidence 0 (none: NULL)."""
    conn = two
    sql = ("SELECT warn, alert, min_n, confidence, warn_from, alert_from, min_n_from, confidence_from, override "
           "FROM pgscore.effective_thresholds(%s, %s, %s)")
    default = (0.1, 0.2, 100, 0.999, "default", "default", "default", "default", None)
    assert query(conn, sql, (None, "psi", None)) == [default]
    assert query(conn, sql, ("churn", "psi", "tenure_months")) == [default]
    assert query(conn, sql, ("churn", "nosuch", None)) == []
    query(conn, "SELECT pgscore.set_thresholds('churn', 'psi', p_warn => 0.15, p_min_n => 40, p_confidence => 0)")
    query(conn, "SELECT pgscore.set_thresholds('churn', 'psi', p_alert => 0.5, p_subject => 'tenure_months')")
    assert query(conn, sql, ("churn", "psi", None)) == [
        (0.15, 0.2, 40, None, "model", "default", "model", "model", "model")]
    assert query(conn, sql, ("churn", "psi", "tenure_months")) == [
        (0.15, 0.5, 40, None, "model", "subject", "model", "model", "subject")]
    assert query(conn, sql, ("churn", "psi", "monthly_charges")) == query(conn, sql, ("churn", "psi", None))
    assert query(conn, sql, ("churn_b", "psi", "tenure_months")) == [default]
    # inlined where it is called: no function scan of it in a plan
    plan = "\n".join(r[0] for r in query(conn, "EXPLAIN SELECT * FROM pgscore.drift_thresholds t "
                                               "CROSS JOIN LATERAL pgscore.effective_thresholds('churn', t.metric) e"))
    assert "Function Scan" not in plan and "drift_threshold_overrides" in plan, plan


def test_an_overrides_confidence_0_is_no_noise_floor_for_that_model(two):
    """A model cannot otherwise turn its noise floor off (NULL inherits): confidence 0 judges by the thresholds
    alone, its checks as a check without a confidence is (no floor, no family), for its features and score, its
    realised performance too; another model keeps its floors; a subject's own confidence brings its floor back."""
    conn = two
    floors = ("SELECT count(*) FILTER (WHERE c ? 'floor'), count(*) FROM pgscore.drift_stats() s "
              "CROSS JOIN LATERAL jsonb_array_elements(s.checks) c WHERE s.name = %s AND s.feature = %s "
              "AND c ->> 'metric' = 'psi'")
    (with_floor, n), = query(conn, floors, ("churn", "tenure_months"))
    assert with_floor == n > 0
    query(conn, "SELECT pgscore.set_thresholds('churn', 'psi', p_confidence => 0)")
    query(conn, "SELECT pgscore.set_thresholds('churn', 'auc_drop', p_confidence => 0)")
    for subject in ("tenure_months", "monthly_charges", "score"):
        assert query(conn, floors, ("churn", subject))[0][0] == 0, subject
    assert query(conn, floors, ("churn_b", "tenure_months")) == [(n, n)]
    assert query(conn, "SELECT DISTINCT confidence, floor, confidence_from, held_back_from FROM pgscore.window_checks "
                       "WHERE model = 'churn' AND metric = 'psi'") == [(None, None, "model", None)]
    (checks,), = query(conn, "SELECT checks FROM pgscore.performance_stats_of(false, NULL, 'window') "
                             "WHERE name = 'churn' AND period = '1 hour'")
    auc = next(c for c in checks if c["metric"] == "auc_drop")
    assert "confidence" not in auc and "floor" not in auc and auc["confidence_from"] == "model", auc
    query(conn, "SELECT pgscore.set_thresholds('churn', 'psi', p_confidence => 0.999, p_subject => 'tenure_months')")
    assert query(conn, floors, ("churn", "tenure_months")) == [(n, n)]
    assert query(conn, floors, ("churn", "score"))[0][0] == 0
    with pytest.raises(errors.CheckViolation):  # the table's own check, by hand
        query(conn, "UPDATE pgscore.drift_threshold_overrides SET confidence = -0.5")
    with pytest.raises(errors.InvalidParameterValue) as e:
        query(conn, "SELECT pgscore.set_thresholds('churn', 'psi', p_confidence => -0.5)")
    assert "0 included: no noise floor" in e.value.pgerror, e.value.pgerror


def test_an_overrides_confidence_0_is_said_as_no_noise_floor_by_the_cli(two, db_url):
    """A confidence of 0 reads as a very low confidence ('confidence 0.0'), not as what it is since 0133, no noise
    floor: pgscore thresholds (its set line and its listing) and pgscore drift's own thresholds say so."""
    out = pgscore_cli("thresholds", "churn", "--metric", "psi", "--confidence", "0", "--db", db_url)
    assert out.returncode == 0, out.stderr
    said = " ".join(out.stdout.split())
    assert "set: churn psi: warn inherited, alert inherited, min_n inherited, confidence 0 (no noise floor)" in said \
        and re.search(r"churn psi \(every\) 0 \(no noise floor\) ", said), said
    listed = " ".join(pgscore_cli("thresholds", "churn", "--db", db_url).stdout.split())
    assert re.search(r"churn psi \(every\) 0 \(no noise floor\) ", listed), listed
    query(two, "SELECT pgscore.set_thresholds('churn', 'ks', p_confidence => 0.9)")
    drift = " ".join(pgscore_cli("drift", "churn", "--db", db_url).stdout.split())
    assert "ks confidence 0.9; psi confidence 0 (no noise floor)" in drift, drift


def test_an_alert_an_override_raised_says_so_in_alerts_window_checks_and_pgscore_drift(two, db_url):
    """An on-call engineer reading an alert can tell the model's own 0.02 raised it, not the global 0.2."""
    conn = two
    query(conn, "SELECT pgscore.set_thresholds('churn', 'psi', p_warn => 0.01, p_alert => 0.02)")
    rows = query(conn, "SELECT DISTINCT model, level, threshold, threshold_from FROM pgscore.alerts "
                       "WHERE metric = 'psi' AND subject = 'monthly_charges' ORDER BY model")
    assert rows == [("churn", "alert", 0.02, "model"), ("churn_b", "alert", 0.2, "default")], rows
    assert query(conn, "SELECT DISTINCT override, warn_from, alert_from, min_n_from, confidence_from "
                       "FROM pgscore.window_checks WHERE model = 'churn' AND metric = 'psi'") == [
        ("model", "model", "model", "default", "default")]
    assert query(conn, "SELECT DISTINCT override, warn_from FROM pgscore.window_checks WHERE model = 'churn_b'") == [
        (None, "default")]
    out = " ".join(pgscore_cli("drift", "churn", "--db", db_url).stdout.split())
    assert re.search(r"feature monthly_charges 1h 12h 1d 7d all psi [0-9.]+ 0\.02 \(model's own\) alert", out) \
        and re.search(r"feature monthly_charges 1h 12h 1d 7d all ks [0-9.]+ 0\.2 alert", out), out
    out = " ".join(pgscore_cli("drift", "churn_b", "--db", db_url).stdout.split())
    assert "own)" not in out, out


def _rr_race(db_url, second):
    """A REPEATABLE READ transaction takes its snapshot; another session sets churn's psi warn 0.3 alert 0.4 and
    commits; the first then runs `second` (which, judged against its snapshot, would leave warn 0.3 over alert
    0.25). Returns the error the first got (None: it committed)."""
    a = psycopg2.connect(db_url)
    try:
        a.set_session(isolation_level="REPEATABLE READ")
        query(a, "SELECT count(*) FROM pgscore.drift_threshold_overrides")  # the snapshot
        query(db_url, "SELECT pgscore.set_thresholds('churn', 'psi', p_warn => 0.3, p_alert => 0.4)")
        try:
            query(a, second)
            a.commit()
            return None
        except psycopg2.Error as e:
            a.rollback()
            return e
    finally:
        a.close()


@pytest.mark.parametrize("second", [
    "SELECT pgscore.set_thresholds('churn', 'psi', p_alert => 0.25, p_subject => 'tenure_months')",
    # by hand: the statement trigger's turn
    "INSERT INTO pgscore.drift_threshold_overrides (model, metric, subject, alert) "
    "VALUES ('churn', 'psi', 'tenure_months', 0.25)",
])
def test_a_repeatable_read_write_that_missed_anothers_cannot_invert_warn_and_alert(two, db_url, second):
    """set_thresholds and the order trigger lock the overrides, but a REPEATABLE READ snapshot taken before another
    session's write committed read the thresholds as they were: the subject's alert 0.25 went in under the model's
    new warn 0.3 (reproduced on 0131 with two psql sessions). Now it fails with 40001 and a hint, nothing written;
    again, in a fresh transaction, it is refused by the order check as in READ COMMITTED."""
    conn = two
    e = _rr_race(db_url, second)
    assert e is not None and e.pgcode == "40001", e
    assert "another session changed the thresholds" in e.pgerror and "run the transaction again" in e.pgerror, \
        e.pgerror
    assert query(conn, "SELECT subject, warn, alert FROM pgscore.drift_threshold_overrides") == [(None, 0.3, 0.4)]
    assert query(conn, "SELECT warn <= alert FROM pgscore.effective_thresholds('churn', 'psi', 'tenure_months')") \
        == [(True,)]
    b = psycopg2.connect(db_url)
    try:
        b.set_session(isolation_level="REPEATABLE READ")
        with pytest.raises(psycopg2.Error) as again:
            query(b, second)
        assert again.value.pgcode in ("22023", "23514"), again.value.pgerror
        b.rollback()
    finally:
        b.close()


def test_a_repeatable_read_write_of_drift_thresholds_that_missed_an_override_fails(two, db_url):
    """A write of drift_thresholds takes its turn as the overrides' writers do: one whose snapshot missed another
    session's committed write of the thresholds fails with 40001 (whether or not that write inverts anything: its
    check could not know), nothing changed; a REPEATABLE READ write that missed nothing goes through."""
    conn = two
    e = _rr_race(db_url, "UPDATE pgscore.drift_thresholds SET alert = 0.25 WHERE metric = 'psi'")
    assert e is not None and e.pgcode == "40001", e
    assert query(conn, "SELECT alert FROM pgscore.drift_thresholds WHERE metric = 'psi'") == [(0.2,)]
    b = psycopg2.connect(db_url)
    try:
        b.set_session(isolation_level="REPEATABLE READ")
        query(b, "SELECT pgscore.set_thresholds('churn', 'psi', p_alert => 0.35, p_subject => 'tenure_months')")
        b.commit()
    finally:
        b.close()
    assert query(conn, "SELECT alert FROM pgscore.effective_thresholds('churn', 'psi', 'tenure_months')") == [(0.35,)]


def test_two_admins_updating_drift_thresholds_by_hand_at_once_do_not_deadlock(db_url):
    """Session A updates psi's row of drift_thresholds, session B then ks's, A then ks's: B waits for A (one writer
    of the thresholds at a time) before it locks any row, so A goes on and both commit. Before, the statement
    trigger took the overrides' lock after the statement had locked its row: B held ks and waited for the lock A
    held, A waited for ks, and one of them failed with 40P01 (deadlock detected)."""
    import threading
    import time

    a = psycopg2.connect(db_url)
    b = psycopg2.connect(db_url)
    b.autocommit = True
    got = {}
    try:
        query(a, "SET statement_timeout = '20s'")
        query(b, "SET statement_timeout = '20s'")
        (b_pid,), = query(b, "SELECT pg_backend_pid()")
        query(a, "UPDATE pgscore.drift_thresholds SET warn = warn WHERE metric = 'psi'")

        def b_updates_ks():
            try:
                query(b, "UPDATE pgscore.drift_thresholds SET warn = warn WHERE metric = 'ks'")
                got["b"] = "ok"
            except psycopg2.Error as e:
                got["b"] = (e.pgcode, e.pgerror)

        t = threading.Thread(target=b_updates_ks)
        t.start()
        waited = time.monotonic() + 10
        while time.monotonic() < waited and not query(
                db_url, "SELECT 1 FROM pg_stat_activity WHERE pid = %s AND wait_event_type = 'Lock'", (b_pid,)):
            time.sleep(0.05)
        assert t.is_alive(), got  # B waits for A
        try:
            query(a, "UPDATE pgscore.drift_thresholds SET warn = warn WHERE metric = 'ks'")
            a.commit()
            got["a"] = "ok"
        except psycopg2.Error as e:
            got["a"] = (e.pgcode, e.pgerror)
            a.rollback()
        t.join(30)
        assert not t.is_alive()
    finally:
        a.close()
        b.close()
    assert got == {"a": "ok", "b": "ok"}, got


def test_0133_downgrade_warns_of_each_override_whose_confidence_0_it_drops(empty_db_url, trained, caplog):
    """0132 has no "no noise floor" for an override (0 was refused; NULL inherits): the downgrade deletes a row that
    set confidence 0 alone and makes another's 0 NULL, and says so, a WARNING each (model, metric, subject, what it
    becomes), rather than refuse an operator's rollback; the other overrides as they were."""
    migrate.upgrade(empty_db_url)
    conn = psycopg2.connect(empty_db_url)
    conn.autocommit = True
    _deploy_drifted(empty_db_url, conn, trained, "churn", n=50)
    query(conn, "SELECT pgscore.set_thresholds('churn', 'psi', p_confidence => 0)")
    query(conn, "SELECT pgscore.set_thresholds('churn', 'ks', 0.3, 0.5, p_confidence => 0)")
    query(conn, "SELECT pgscore.set_thresholds('churn', 'js', p_confidence => 0, p_subject => 'tenure_months', "
                "p_min_n => 40)")
    query(conn, "SELECT pgscore.set_thresholds('churn', 'mean_shift', 1, 2, p_confidence => 0.9)")
    # the server's notices to the downgrade's connection, as SQLAlchemy's psycopg2 dialect logs them (alembic's too)
    caplog.set_level(logging.INFO, logger="sqlalchemy.dialects.postgresql")
    with pytest.raises(InstallError, match="would drop what users wrote") as e:  # (psi's row: deleted, unless asked)
        migrate.downgrade(empty_db_url, "0132")
    assert e.value.detail == "0133 drops 1 threshold override that set confidence 0 alone " \
                             "(pgscore.drift_threshold_overrides)"
    migrate.downgrade(empty_db_url, "0132", drop_user_data=True)
    said = [r.getMessage() for r in caplog.records]
    warned = sorted(" ".join(n.split()) for n in said if n.startswith("WARNING:") and "confidence 0" in n)
    assert len(warned) == 3, (said, query(conn, "SELECT * FROM pgscore.drift_threshold_overrides"))
    assert "override of js of model 'churn', subject 'tenure_months'" in warned[0] \
        and "confidence NULL (inherited" in warned[0], warned
    assert "override of ks of model 'churn' (the model's)" in warned[1] and "confidence NULL" in warned[1], warned
    assert "override of psi of model 'churn' (the model's)" in warned[2] and "deleted" in warned[2], warned
    assert query(conn, "SELECT metric, subject, warn, alert, min_n, confidence FROM pgscore.drift_threshold_overrides "
                       "ORDER BY metric") == [("js", "tenure_months", None, None, 40, None),
                                              ("ks", None, 0.3, 0.5, None, None),
                                              ("mean_shift", None, 1, 2, None, 0.9)]
    conn.close()
    migrate.downgrade(empty_db_url, "base")


def test_a_downgrades_warnings_are_printed_by_pgscore_uninstall_and_plain_alembic(empty_db_url, trained, tmp_path):
    """0133's downgrade warns of each override with confidence 0 it drops, but neither `pgscore uninstall` nor plain
    `alembic downgrade` (alembic.ini, migrations/env.py) printed the server's WARNINGs: the operator never saw them
    (session 62's CLI printed pgscore score's and deploy's). Both print them on stderr as they come, the server's
    own DDL chatter (`... does not exist, skipping`, `drop cascades to ...`) left out."""
    import subprocess
    import sys
    from pathlib import Path

    from helpers import ROOT

    def override():
        conn = psycopg2.connect(empty_db_url)
        conn.autocommit = True
        query(conn, "SELECT pgscore.set_thresholds('churn', 'psi', p_confidence => 0)")
        conn.close()

    said = "WARNING:  pgscore's migration 0133 downgrade: the override of psi of model 'churn' (the model's) set " \
           "confidence 0 (no noise floor), which revision 0132 cannot hold: deleted"
    alembic = Path(sys.executable).with_name("alembic")
    run = subprocess.run([str(alembic), "-c", str(ROOT / "alembic.ini"), "-x", f"db_url={empty_db_url}",
                          "upgrade", "head"], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0 and "skipping" not in run.stderr, run.stderr  # (DROP ... IF EXISTS: not said)
    conn = psycopg2.connect(empty_db_url)
    conn.autocommit = True
    _deploy_drifted(empty_db_url, conn, trained, "churn", n=50)
    conn.close()
    override()
    # (asked to go on: the override is what users wrote, which a downgrade is refused to drop unasked, and the
    # refusal names it; the WARNING then says each one dropped)
    run = subprocess.run([str(alembic), "-c", str(ROOT / "alembic.ini"), "-x", f"db_url={empty_db_url}",
                          "-x", "drop_user_data=yes", "downgrade", "0132"], capture_output=True, text=True,
                         cwd=tmp_path)
    assert run.returncode == 0 and said in run.stderr, run.stderr
    assert "HINT:  to judge the metric by its thresholds alone at revision 0132" in run.stderr, run.stderr
    assert run.stderr.count("WARNING:") == 1, run.stderr

    migrate.upgrade(empty_db_url)
    override()
    gone = pgscore_cli("uninstall", "--db", empty_db_url)
    assert gone.returncode == 0 and said in gone.stderr, gone.stdout + gone.stderr
    assert gone.stderr.count("WARNING:") == 1 and "drop cascades" not in gone.stderr, gone.stderr
    assert migrate.current(empty_db_url) is None


def test_window_checks_confidence_is_commented_as_the_confidence_it_was_judged_at(conn):
    """Since 0129 the confidence of a check is an override's where one sets it (NULL for an override's 0, no noise
    floor), not drift_thresholds.confidence alone, as the column's comment said."""
    said = dict(query(conn, "SELECT a.attname, col_description(a.attrelid, a.attnum) FROM pg_attribute a "
                            "WHERE a.attrelid = 'pgscore.window_checks'::regclass AND a.attnum > 0"))
    assert "override" in said["confidence"] and "confidence 0" in said["confidence"], said["confidence"]
    assert not any("The metric's drift_thresholds.confidence" in (c or "") for c in said.values()), said
