"""`pgscore drift`: the monitoring views as text tables and an HTML report, and its exit codes
(0 nothing at alert level, 1 an alert fires, 2 an unknown model or window, 3 the check failed)."""

from __future__ import annotations

import contextlib
import io
import json
import math
import re
import shlex
import shutil
import subprocess

import numpy as np
import psycopg2
import pytest
from sklearn.linear_model import LogisticRegression

from helpers import ROOT, ensure_role, make_tmpdir, pgscore_cli, query, where_its_user_may_not_write
from pgscore import cli, datasets, registry


@pytest.fixture(scope="module")
def trained():
    X, y, names = datasets.churn(2000, seed=0)
    return X, y, names, LogisticRegression(max_iter=1000).fit(X, y)


def score_rows(url, name, X):
    """Log one prediction per row of X through pgscore.score, set-based (entity keys '0', '1', ...)."""
    query(url, "CREATE TABLE IF NOT EXISTS incoming (id int PRIMARY KEY, f float8[])")
    query(url, "TRUNCATE incoming")
    query(url, "INSERT INTO incoming SELECT i, (SELECT array_agg(x::float8) FROM jsonb_array_elements_text(f) x) "
               "FROM unnest(%s::int[], %s::jsonb[]) u(i, f)",
          (list(range(len(X))), [json.dumps(r.tolist()) for r in X]))
    query(url, f"SELECT count(pgscore.score('{name}', f, p_key => id::text)) FROM incoming")


@pytest.fixture
def churn(db_url, trained):
    X, y, names, model = trained
    registry.deploy(db_url, "churn", model, X, y, feature_names=names)
    return db_url


def drift(url, *args):
    return pgscore_cli("drift", *args, "--db", url)


def test_no_drift_exits_0(churn, trained):
    X, *_ = trained
    score_rows(churn, "churn", X[:600])  # the training data itself: nothing moves
    r = drift(churn)
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    assert "churn v1 (binary)" in out and "window '1 day'" in out
    lines = {ln.split()[0]: ln for ln in out.splitlines() if ln.startswith("  ") and ln.split()}
    for feature in trained[2]:  # one line per feature, 600 values, no alert in any window
        assert feature in lines and " 600 " in lines[feature] and "alert" not in lines[feature]
    assert "result: ALERT" not in out and "alert level" not in out
    assert all(len(ln) <= 100 for ln in out.splitlines()), [ln for ln in out.splitlines() if len(ln) > 100]


def test_drifted_feature_exits_1_and_is_named(churn, trained):
    X, *_ = trained
    Xc = X[:600].copy()
    Xc[:, 1] += 4 * X[:, 1].std()  # monthly_charges, four standard deviations up
    score_rows(churn, "churn", Xc)
    r = drift(churn, "churn", "--window", "12 hours")
    assert r.returncode == 1, r.stdout + r.stderr
    out = r.stdout
    feature_line = next(ln for ln in out.splitlines() if ln.split()[:1] == ["monthly_charges"]
                        and "  600  " in ln)
    assert feature_line.split()[-5:] == ["alert"] * 5  # the status in every window
    assert "[12h]" in out  # the chosen window is marked
    # the alerts table: what, subject, windows, metric, value, threshold, level, since
    assert re.search(r"^  feature +monthly_charges +1h 12h 1d 7d all +psi +[\d.]+ +0\.2 +alert ", out, re.M), out
    # a rate (out of the baseline's range) in percent, as the feature table's oor% column shows it
    assert re.search(r"^  feature +monthly_charges +1h 12h 1d 7d all +out_of_range +[\d.]+% +\d+(\.\d+)?% +alert ",
                     out, re.M), out
    assert "result: ALERT" in out
    # the other features stay quiet in the feature table
    tenure = next(ln for ln in out.splitlines() if ln.split()[:1] == ["tenure_months"])
    assert "alert" not in tenure
    # the rows of pgscore.alerts carry a since once the CLI has refreshed
    assert query(churn, "SELECT count(*) FROM pgscore.alerts WHERE level = 'alert' AND since IS NULL") == [(0,)]


def test_warnings_alone_exit_0(churn, trained):
    X, *_ = trained
    Xc = X[:600].copy()
    Xc[:, 1] += 4 * X[:, 1].std()
    score_rows(churn, "churn", Xc)
    query(churn, "UPDATE pgscore.drift_thresholds SET alert = 1e9")  # everything firing is now a warning
    r = drift(churn, "--no-refresh")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "warn" in r.stdout and "result: ok with warnings" in r.stdout
    assert "rollups not refreshed" in r.stdout


def test_a_feature_at_alert_names_its_metrics_at_warn_as_warnings(churn, trained):
    """The line under a feature listed its `firing` metrics after the row's status, the worst of them:
    a shifted week's tenure read 'alert: js, ks, mean_shift, out_of_range, psi' with its KS at warn (the
    alerts table below said warn). Each metric is now named under its own level."""
    X, *_ = trained
    Xc = X[:600].copy()
    Xc[:, 1] += 4 * X[:, 1].std()
    score_rows(churn, "churn", Xc)
    query(churn, "UPDATE pgscore.drift_thresholds SET alert = 1e9 WHERE metric = 'ks'")  # KS can only warn
    r = drift(churn)
    assert r.returncode == 1, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    i = next(i for i, ln in enumerate(lines) if ln.split()[:1] == ["monthly_charges"])
    assert lines[i + 1].strip().startswith("alert: ") and "psi" in lines[i + 1], lines[i:i + 2]
    alert_part, _, warn_part = lines[i + 1].strip().partition("; ")
    assert "ks" not in alert_part.split(": ", 1)[1].split(", "), lines[i + 1]
    assert warn_part == "warn: ks", lines[i + 1]
    # the alerts table agrees
    assert re.search(r"^  feature +monthly_charges +1h 12h 1d 7d all +ks +[\d.]+ +0\.1 +warn ", r.stdout, re.M)
    score = [ln for ln in lines if ln.startswith("    firing in '1 day': ")]
    # the score's line too: 'firing in '1 day': alert: js, psi; warn: ks' where it fires
    assert all("ks" not in ln.split("; warn: ")[0].replace("alert: ", "").split(": ")[-1].split(", ")
               for ln in score), score


def _cron_lines():
    """The crontab lines docs/sql.md (refresh_monitoring) and docs/operations.md give for the refresh: each
    line's command, after its five time fields."""
    lines = []
    for page in ("sql.md", "operations.md"):
        found = [ln for ln in (ROOT / "docs" / page).read_text().splitlines()
                 if ln.startswith("*/5 ") and "pgscore.refresh_monitoring()" in ln]
        assert len(found) == 1, (page, found)
        lines.append(found[0].split(None, 5)[5])
    return lines


def test_the_documented_cron_lines_for_refresh_monitoring_print_nothing_unless_it_fails_or_an_alert_fires(
        churn, trained, empty_db_url):
    """cron mails what a job prints: sql.md's line printed refresh_monitoring's row every run, a mail every 5
    minutes. Each line, run as cron runs it (no environment but PATH): nothing printed while nothing is at
    level alert, a line per condition at alert when one fires, the error and a non-zero exit when it fails."""
    X, *_ = trained

    def run(line, url):
        return subprocess.run(["env", "-i", "PATH=/usr/bin:/bin", "sh", "-c",
                               line.replace("postgresql://ops@dbhost/mydb", url)], capture_output=True, text=True)

    lines = _cron_lines()
    score_rows(churn, "churn", X[:600])  # the training data itself: nothing fires
    for line in lines:
        query(churn, "UPDATE pgscore.monitoring_state SET refreshed_at = NULL")
        r = run(line, churn)
        assert (r.returncode, r.stdout, r.stderr) == (0, "", ""), (line, r)
        assert query(churn, "SELECT refreshed_at IS NOT NULL FROM pgscore.monitoring_state") == [(True,)]  # it ran
    Xc = X[:600].copy()
    Xc[:, 1] += 4 * X[:, 1].std()  # monthly_charges, four standard deviations up
    score_rows(churn, "churn", Xc)
    for line in lines:
        r = run(line, churn)
        assert r.returncode == 0 and r.stderr == "", (line, r)
        assert r.stdout and all(ln.startswith("churn|1|") for ln in r.stdout.splitlines()), (line, r)
        assert "|monthly_charges|" in r.stdout and "|tenure_months|" not in r.stdout, (line, r)
    for line in lines:  # a database without pgscore: the refresh fails, and the alerts are not read
        r = run(line, empty_db_url)
        assert r.returncode != 0 and r.stdout == "", (line, r)
        assert "pgscore.refresh_monitoring" in r.stderr and "pgscore.alerts" not in r.stderr, (line, r)


def test_unknown_model_exits_2(churn):
    r = drift(churn, "nosuchmodel")
    assert r.returncode == 2
    assert "there is no model 'nosuchmodel'" in r.stderr and "live models: churn" in r.stderr
    assert r.stdout == ""
    assert "typo" not in r.stderr, r.stderr
    # a name that looks like a typo for a model's asks whether it is (a new user's `pgscore drift chrun`)
    r = drift(churn, "chrun")
    assert r.returncode == 2 and "there is no model 'chrun'" in r.stderr and "Hint: a typo for 'churn'?" in r.stderr, \
        r.stderr


def test_a_pattern_names_the_live_models_it_matches(churn, trained):
    """Session 66 (trial T18: a model per tenant, churn_tenant_a ...): pgscore drift took names alone, so a fleet
    of 50 was named one by one ('churn_*' said "there is no model 'churn_*'"). A NAME with *, ? or [...] is a
    shell-style pattern of the live models' names; one that matches none is a usage error (exit 2) naming it."""
    X, y, names, model = trained
    for name in ("churn_tenant_a", "churn_tenant_b", "upsell_tenant_a"):
        registry.deploy(churn, name, model, X, y, feature_names=names)
    r = drift(churn, "churn_*")
    assert r.returncode == 0, r.stdout + r.stderr
    shown = re.findall(r"^== (\S+) v1 \(binary\)", r.stdout, re.M)
    assert shown == ["churn_tenant_a", "churn_tenant_b"], r.stdout
    r = drift(churn, "*_tenant_[a]", "churn")  # patterns and names together, each model once
    assert r.returncode == 0, r.stdout + r.stderr
    assert sorted(re.findall(r"^== (\S+) v1 \(binary\)", r.stdout, re.M)) == ["churn", "churn_tenant_a",
                                                                            "upsell_tenant_a"], r.stdout
    r = drift(churn, "nope_*")
    assert r.returncode == 2 and r.stdout == "", r
    assert r.stderr.startswith("usage: pgscore drift "), r.stderr
    assert "pgscore drift: error: no live model matches 'nope_*'" in r.stderr, r.stderr
    assert "live models: churn, churn_tenant_a, churn_tenant_b, upsell_tenant_a" in r.stderr, r.stderr


def test_a_patterns_failure_names_the_model_it_matched_not_the_pattern(churn, trained, monkeypatch):
    """Session 65's trial T18 left it: `pgscore drift 'churn_*'` that failed (exit 3) filled the model's name into
    its hint's command with the pattern itself (`pgscore activate 'churn_*' VERSION`), a command that cannot run.
    It names the model the pattern matched where it matched one (here the model retired while the report was
    read, as a race would), and no model where it matched several."""
    from pgscore import report
    from pgscore.errors import PgscoreError

    X, y, names, model = trained
    registry.deploy(churn, "churn_tenant_a", model, X, y, feature_names=names)

    def retired(*a, **k):  # (the hint serving gives of a model with no live version)
        raise PgscoreError("model 'churn_tenant_a' has no live version", sqlstate="55000",
                           hint="activate one with pgscore.activate(name, version)")

    monkeypatch.setattr(report, "collect", retired)

    def run(*args):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(["drift", *args, "--no-refresh", "--db", churn])
        return code, err.getvalue()

    code, err = run("churn_*")
    assert code == 3, err
    assert " activate churn_tenant_a VERSION" in err and "churn_*" not in err, err
    code, err = run("churn*")  # churn and churn_tenant_a: no one model to name
    assert code == 3 and " activate NAME VERSION" in err and "churn*" not in err, err


def test_unknown_window_exits_2_and_lists_the_windows(churn):
    r = drift(churn, "--window", "2 days")
    assert r.returncode == 2
    assert "there is no drift window '2 days'" in r.stderr
    assert "'1 hour', '12 hours', '1 day', '7 days', 'since deploy'" in r.stderr


def test_an_unknown_model_or_window_is_a_usage_error_with_drifts_usage_line(churn):
    """docs/cli.md: a usage error (exit 2) is printed after the command's usage line as `pgscore COMMAND:
    error: ...`. pgscore drift's unknown model or window printed `pgscore: error: ...` alone, with no usage line;
    now as argparse's own refusals of drift's options, and nothing refreshed or read past the check."""
    for args, said in ((("nosuchmodel",), "there is no model 'nosuchmodel'"),
                       (("--window", "2 days"), "there is no drift window '2 days'")):
        r = drift(churn, *args)
        assert r.returncode == 2, (args, r)
        assert r.stderr.startswith("usage: pgscore drift "), (args, r.stderr)
        assert f"\npgscore drift: error: {said}" in r.stderr, (args, r.stderr)
        assert r.stdout == "" and "Traceback" not in r.stderr, (args, r)
    r = drift(churn, "--bogus")  # argparse's own refusal of an option, for comparison: the same form
    assert r.returncode == 2 and r.stderr.startswith("usage: pgscore drift "), r.stderr


def test_unwritable_report_path_exits_3(churn, tmp_path):
    """2 is for an unknown model or window; a report that cannot be written is a failed check."""
    r = drift(churn, "--html", str(tmp_path / "missing" / "r.html"))
    assert r.returncode == 3, r.stdout + r.stderr
    assert r.stderr == f"pgscore: error: cannot write the report to {tmp_path / 'missing' / 'r.html'}: " \
                       f"there is no directory {tmp_path / 'missing'}\n"
    r = drift(churn, "--html", str(tmp_path))
    assert r.returncode == 3 and r.stderr == f"pgscore: error: cannot write the report to {tmp_path}: it is a " \
                                             "directory\n", r.stderr


def test_no_live_models(db_url):
    r = drift(db_url)
    assert r.returncode == 0, r.stderr
    assert "no live models" in r.stdout
    # (it said no more): what makes one live, with the --db it was run with
    db = f"--db {shlex.quote(db_url)} "
    assert (f"no live models; deploy one with: pgscore {db}deploy MODEL.joblib --name NAME --train CSV --target COL, "
            f"or make a version live with: pgscore {db}activate NAME VERSION (pgscore {db}models lists them)\n"
            ) in r.stdout, r.stdout


def test_drift_of_a_model_with_no_live_version_says_whether_it_was_retired(db_url, trained):
    """`pgscore drift NAME` of a model whose versions were all deployed with --no-activate said `has no live
    version (it was retired)`, as of a retired one: it says none was made live yet now."""
    X, y, names, model = trained
    registry.deploy(db_url, "churn", model, X, y, feature_names=names, activate=False)
    r = drift(db_url, "churn")
    assert r.returncode == 2 and "model 'churn' has no live version (none was made live yet: deployed with " \
        "--no-activate)" in r.stderr and "retired" not in r.stderr, r.stderr
    query(db_url, "SELECT pgscore.activate('churn', 1)")
    query(db_url, "SELECT pgscore.retire('churn')")
    r = drift(db_url, "churn")
    assert r.returncode == 2 and "model 'churn' has no live version (it was retired)" in r.stderr, r.stderr


def test_model_without_baseline_shows_no_baseline(db_url, trained, tmp_path):
    X, y, names, model = trained
    registry.deploy(db_url, "nobase", model, None, feature_names=names)
    score_rows(db_url, "nobase", X[:150])
    r = drift(db_url, "nobase", "--html", str(tmp_path / "r.html"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "no_baseline" in r.stdout and "deployed without training data" in r.stdout
    assert "Traceback" not in r.stderr
    # the result line does not leave "ok" alone: nothing could have warned
    assert ("\nresult: ok - nothing at warn or alert\nnot watched for drift: nobase (deployed without a baseline: "
            "nothing above judged its features or scores; deploy a version with its training data, --train, to "
            "watch it)\n") in r.stdout, r.stdout
    page = (tmp_path / "r.html").read_text()
    assert "no_baseline" in page and "deployed without training data" in page
    assert "not watched for drift (no baseline): nobase" in page


def test_html_report_is_self_contained(db_url, trained, tmp_path):
    X, y, names, model = trained
    names = ["tenure <months> & \"so on\""] + names[1:]  # text from the database is escaped
    registry.deploy(db_url, "churn", model, X, y, feature_names=names)
    Xc = X[:600].copy()
    Xc[:, 1] += 4 * X[:, 1].std()
    score_rows(db_url, "churn", Xc)
    query(db_url, "SELECT count(pgscore.record_outcome('churn', u.k::text, u.y)) FROM unnest(%s::int[], %s::int[]) "
                  "u(k, y)", (list(range(300)), [int(v) for v in y[:300]]))
    path = tmp_path / "report.html"
    r = drift(db_url, "--html", str(path))
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"wrote {path}" in r.stdout
    page = path.read_text()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    # a histogram per feature and the score, PSI per feature, score by day, performance by day, calibration
    assert page.count('<img src="data:image/png;base64,') == len(names) + 5
    assert "tenure &lt;months&gt; &amp; &quot;so on&quot;" in page and "<months>" not in page
    for feature in names[1:]:
        assert feature in page
    # the alert rows: one table row (what, subject, window, metric, value, threshold, level, since) each
    alerts = query(db_url, "SELECT what, subject, window_name, metric, level FROM pgscore.alerts")
    assert ("feature", "monthly_charges", "1 day", "psi", "alert") in alerts
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", page)]
    shown = [tuple(c[:4]) + (c[6],) for c in cells if len(c) == 8]
    assert sorted(shown) == sorted(alerts)
    assert not re.search(r"https?://", page)
    assert "<script" not in page and "<link" not in page


def test_histograms_count_what_the_views_count(churn, trained):
    """The report's per-bin counts (rollups + log) add up to the views' n and give back their PSI."""
    import psycopg2

    from pgscore import report

    X, *_ = trained
    Xc = X[:400].copy()
    Xc[:, 1] += 2 * X[:, 1].std()
    score_rows(churn, "churn", Xc)
    # copies 3 hours and 3 days old: some windows then mix rolled-up hours with the log itself
    query(churn, "INSERT INTO pgscore.prediction_log (logged_at, model_id, entity_key, features, score, source) "
                 "SELECT logged_at - a, model_id, entity_key, features, score, source FROM pgscore.prediction_log, "
                 "(VALUES (interval '3 hours'), (interval '3 days')) v(a) WHERE entity_key::int < 200")
    conn = psycopg2.connect(churn)
    try:
        windows = report.check_args(conn, None, "1 day")
        for w in windows:
            data = report.collect(conn, None, w.name, windows, refreshed=report.refresh(conn), charts=True)
            (m,) = data.models
            for h in m.histograms:
                d = h["drift"]
                assert sum(h["counts"]) + h["n_null"] == d["n"], (w.name, h["feature"])
                c = np.maximum(np.asarray(h["counts"]) / sum(h["counts"]), 1e-4)
                e = np.maximum(np.asarray(h["expected"]), 1e-4)
                assert float(np.sum((c - e) * np.log(c / e))) == pytest.approx(d["psi"], abs=1e-9)
            assert {h["feature"]: h["drift"]["n"] for h in m.histograms}["score"] == \
                {"1 hour": 400, "12 hours": 600, "1 day": 600, "7 days": 800, "since deploy": 800}[w.name]
    finally:
        conn.close()


def test_the_html_reports_histograms_count_the_models_shown_alone(churn, trained, db_url, tmp_path):
    """Session 64: since 0136 pgscore drift NAME computes NAME's drift alone, but its HTML report's histograms read
    pgscore.drift_counts, every live model's counts, once for each model shown (6 models of 20,000 logged rows:
    4.3 s against 46 ms for one model's). They read drift_counts_of for that model alone, which a role granted
    pgscore_admin, the role --html needs, may run."""
    import psycopg2

    from pgscore import report

    X, y, names, model = trained
    registry.deploy(db_url, "other", model, X, y, feature_names=names)
    score_rows(churn, "churn", X[:100])
    score_rows(churn, "other", X[:300])
    conn = psycopg2.connect(churn)
    try:
        windows = report.check_args(conn, "churn", "1 day")
        (m,) = report.collect(conn, "churn", "1 day", windows, charts=False).models
        with conn, conn.cursor() as cur:
            cur.execute("SET LOCAL track_functions = 'all'")
            hist = report._histograms(cur, m, "1 day")
            cur.execute("SELECT funcname FROM pg_stat_xact_user_functions WHERE schemaname = 'pgscore'")
            called = {f for f, in cur.fetchall()}
        assert "drift_counts_of" in called and "drift_counts" not in called, called
        assert {h["feature"]: sum(h["counts"]) + h["n_null"] for h in hist}["score"] == 100
    finally:
        conn.close()
    ensure_role(db_url, "pgscore_t_ops", login=True)
    query(db_url, "GRANT pgscore_admin TO pgscore_t_ops")
    ops = db_url.replace("postgresql://postgres@", "postgresql://pgscore_t_ops@")
    r = pgscore_cli("drift", "churn", "--html", str(tmp_path / "r.html"), "--db", ops)
    assert r.returncode in (0, 1) and (tmp_path / "r.html").exists(), r.stdout + r.stderr


def test_html_report_without_predictions_or_outcomes(churn, tmp_path):
    r = drift(churn, "--html", str(tmp_path / "empty.html"))
    assert r.returncode == 0, r.stdout + r.stderr
    page = (tmp_path / "empty.html").read_text()
    assert "data:image/png" not in page  # nothing to draw: sentences instead of empty charts
    assert "No predictions" in page and "No outcomes" in page


def test_a_check_that_cannot_run_exits_3_not_1(empty_db_url, db_url, trained):
    """cron must tell a failed check from an alert: no pgscore, or a role without privileges, exit 3."""
    r = pgscore_cli("drift", "--db", empty_db_url)
    assert r.returncode == 3 and "pgscore: error:" in r.stderr, r.stdout + r.stderr
    X, y, names, model = trained
    registry.deploy(db_url, "churn", model, X, y, feature_names=names)
    ensure_role(db_url, "pgscore_t_bi", login=True)
    query(db_url, "GRANT pgscore_reader TO pgscore_t_bi")
    bi = db_url.replace("postgresql://postgres@", "postgresql://pgscore_t_bi@")
    # (since 0136 --no-refresh without --html reads what the reader's views read, drift_rows_of, performance_rows_of
    # and alerts_of, which the reader may call: it answers; the refresh and the report's baselines need the admin)
    r = pgscore_cli("drift", "--no-refresh", "--db", bi)
    assert r.returncode == 0 and "churn v1 (binary)" in r.stdout, r.stdout + r.stderr
    for more in ([], ["--no-refresh", "--html", str(make_tmpdir("bi") / "r.html")]):
        r = pgscore_cli("drift", *more, "--db", bi)
        assert r.returncode == 3 and "permission denied" in r.stderr, r.stdout + r.stderr
        # the database's error, with its SQLSTATE, with the refresh or without (the refresh's lacked it)
        assert r.stderr.splitlines()[0].endswith(" (SQLSTATE 42501)"), r.stderr
        assert "Hint: pgscore drift needs a role granted pgscore_admin" in r.stderr, r.stderr
        assert "pgscore_reader reads the views" in r.stderr, r.stderr
        # (what the reader may run: the hint said the admin was needed for the registry and monitoring tables)
        assert "pgscore_reader may run it with --no-refresh, without --html" in r.stderr, r.stderr


def test_the_at_deploy_row_shows_every_hold_out_metric(churn, trained):
    """Over the realised performance, the 'at deploy' row shows the hold-out metrics the model was deployed
    with, precision and recall included (realised_performance's deploy_precision and deploy_recall)."""
    X, y, *_ = trained
    score_rows(churn, "churn", X[:200])
    for i, outcome in enumerate(y[:200]):
        query(churn, "SELECT pgscore.record_outcome('churn', %s, %s)", (str(i), int(outcome)))
    (metrics,), = query(churn, "SELECT metrics FROM pgscore.models WHERE name = 'churn'")
    r = drift(churn)
    assert r.returncode in (0, 1), r.stdout + r.stderr
    lines = r.stdout.splitlines()
    header, = [ln.split() for ln in lines if ln.split()[:3] == ["window", "n", "pos"]]
    row, = [ln.split() for ln in r.stdout.splitlines() if ln.strip().startswith("at deploy")]
    shown = dict(zip(header[-7:-1], row[2:8]))  # the metric columns between n, pos and status
    assert shown == {k: f"{metrics[k]:.3f}" for k in ("auc", "accuracy", "precision", "recall", "brier", "log_loss")}


def test_windows_are_named_short_unless_two_would_share_a_name():
    """'1h', '7d', 'all'; two windows of the same length (or two without one) go by their full names, never cut."""
    from datetime import timedelta

    from pgscore.report import Window, _short_names

    ws = [Window("1 hour", timedelta(hours=1)), Window("week", timedelta(days=7)), Window("since deploy", None)]
    _short_names(ws)
    assert [w.short for w in ws] == ["1h", "7d", "all"]
    ws = [Window("1 hour", timedelta(hours=1)), Window("60 minutes", timedelta(minutes=60)),
          Window("since deploy", None), Window("all time", None), Window("1 day", timedelta(days=1))]
    _short_names(ws)
    assert [w.short for w in ws] == ["1 hour", "60 minutes", "since deploy", "all time", "1d"]


def test_html_rewrites_a_file_of_yours_in_a_directory_you_may_not_write(churn, cluster, trained):
    """The report is written in place: an existing file you may write is rewritten even where its directory
    is not yours to write (it was refused, the directory checked first)."""
    score_rows(churn, "churn", trained[0][:200])
    folder = make_tmpdir("pgscore-report-")
    try:
        page = folder / "report.html"
        page.write_text("last week's")
        page.chmod(0o666)
        url = cluster.url(churn.split("@/", 1)[1].split("?", 1)[0], tcp=True)  # (the socket is the server's)

        def drift(html):
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    code = cli.main(["drift", "--html", str(html), "--db", url])
                except SystemExit as e:
                    code = e.code
            return code, out.getvalue(), err.getvalue()

        # a first report here, by this user: its modules and fonts loaded before the fork (nobody may not read
        # the checkout, where a CI's clone lies in a directory private to root)
        assert drift(folder / "warm.html")[0] == 0
        (folder / "warm.html").unlink()

        code, out, err = where_its_user_may_not_write(folder, lambda: drift(page))
        assert code == 0, out + err
        assert f"wrote {page}" in out and page.read_text().startswith("<!DOCTYPE html>")
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("style", ["postgres_verbose", "sql_standard", "iso_8601"])
def test_drift_reads_the_windows_under_any_interval_style(churn, trained, style):
    """A database whose IntervalStyle is not 'postgres' (which psycopg2 alone reads): before, a traceback
    (ValueError: invalid literal for int() with base 10: '@ 1 hour')."""
    score_rows(churn, "churn", trained[0][:50])
    r = pgscore_cli("drift", "--db", churn, env={"PGOPTIONS": f"-c IntervalStyle={style}"})
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode in (0, 1), r.stdout + r.stderr
    assert "window '1 day'" in r.stdout and "  12 hours " in r.stdout


NO_DRIFT_SEED = 101  # 100 fresh rows from the training distribution that the thresholds alone flag


def _shown(metric, v):
    """A value as pgscore drift shows it: rates in percent."""
    return f"{100 * v:.3g}%" if metric in ("null_rate", "out_of_range") else f"{v:.3g}"


def _held_back_lines(out):
    """The lines naming a metric held at ok by its floor, each with its continuation lines (wrapped at 100
    columns, indented two more) joined to it."""
    held = []  # [indent, text] of each 'ok: ...' or 'ok in 1h 12h: ...' line
    for ln in out.splitlines():
        indent = len(ln) - len(ln.lstrip())
        if ln.lstrip().startswith(("ok: ", "ok in ")):
            held.append([indent, ln])
        elif held and held[-1][0] is not None and indent == held[-1][0] + 2:
            held[-1][1] += " " + ln.strip()
        elif held:
            held[-1][0] = None  # (that one ended)
    return [ln for _, ln in held if "below its noise floor" in ln]


def test_a_metric_over_its_threshold_but_under_its_noise_floor_says_so(churn, trained):
    """100 fresh rows, no drift: a metric reached its threshold, its floor held it at ok. pgscore drift
    showed the value (data_usage_gb: PSI 0.209 over the 0.2 alert) as ok with no reason; it now names
    each such metric with its floor, n and confidence, and says once what the floor is."""
    Xc, _, _ = datasets.churn(100, seed=NO_DRIFT_SEED)
    score_rows(churn, "churn", Xc)
    held = query(churn, """
        SELECT s.feature, c->>'metric', (c->>'value')::float8, (c->>'floor')::float8
          FROM pgscore.drift_stats() s, jsonb_array_elements(s.checks) c
         WHERE s.period_kind = 'window' AND s.period = '1 day' AND s.kind = 'feature' AND c->>'level' = 'ok'
           AND (c->>'value')::float8 >= (c->>'warn')::float8 AND c ? 'floor'""")
    assert held, "the window was meant to reach a threshold without drift"
    r = drift(churn)
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    assert "result: ok - nothing at warn or alert" in out
    lines = _held_back_lines(out)
    # the floors are family-wise (migration 0088): each of the model's k features and score at 0.999^(1/k), which
    # the line says (it said '(confidence 0.999)', the floor of a feature judged alone)
    (k, each), = query(churn, "SELECT count(*), 0.999 ^ (1 / count(*)::float8) FROM pgscore.baselines b "
                              "JOIN pgscore.live_models m USING (model_id) WHERE m.name = 'churn'")
    assert k == 13  # the churn model's 12 features and its score
    for feature, metric, value, floor in held:  # each under its feature's line, with its value and floor
        said = rf"\b{metric} {_shown(metric, value)} .* below its noise floor {_shown(metric, floor)} at n=100 "
        family = re.escape(f"(confidence 0.999 for the 12 features and the score together, each at {each:.6g})")
        assert any(re.search(said + family, ln) for ln in lines), (feature, metric, value, floor, out)
    text = out.splitlines()
    for feature, metric, *_ in held:
        i = next(i for i, ln in enumerate(text) if ln.split()[:1] == [feature])
        j = next(j for j in range(i + 1, len(text)) if not text[j].startswith("      "))  # the next feature's
        below = _held_back_lines("\n".join(text[i + 1:j]))
        assert any(ln.split()[:2] == ["ok:", metric] for ln in below), (feature, metric, text[i:i + 8])
    # the floor is explained once, naming the setting that turns it off
    assert out.count("drift_thresholds.confidence") == 1, out
    assert all(len(ln) <= 100 for ln in out.splitlines()), [ln for ln in out.splitlines() if len(ln) > 100]


def test_the_family_a_held_back_line_names_is_the_one_its_floor_was_computed_at(churn, trained):
    """A held-back line says the family its floor is family-wise over ('for the 12 features and the score
    together, each at 0.999923'): since 0091 the check's own (check_rows' family, family_features and
    check_confidence, as drift_stats_of computed the floor), not k re-derived in Python from the drift rows the
    report happened to read. Given only the rows of one feature's window, the copy counted 1 feature ('for the 1
    feature together, each at 0.999')."""
    import psycopg2

    from pgscore import report

    Xc, _, _ = datasets.churn(100, seed=NO_DRIFT_SEED)
    score_rows(churn, "churn", Xc)
    conn = psycopg2.connect(churn)
    try:
        with conn.cursor() as cur:
            rows = report._rows(cur, "SELECT r.*, " + report.HELD_SQL + " AS held FROM pgscore.drift_rows r "
                                     "WHERE r.period = '1 day' AND r.kind = 'feature' AND r.feature = 'data_usage_gb'")
    finally:
        conn.close()
    assert len(rows) == 1 and rows[0]["held"], rows  # (data_usage_gb's PSI: held back, test above)
    m = report.ModelData(name="churn", version=1, task="binary", model_id=None, feature_names=[])
    report._held_back({"churn": m}, rows, [])
    assert m.held
    for h in m.held:
        assert report.held_text(h).endswith(
            f"(confidence 0.999 for the 12 features and the score together, each at {0.999 ** (1 / 13):.6g})"), h
        assert (h["family"], h["family_features"], h["check_confidence"]) == (13, 12, 0.999 ** (1 / 13))


def test_judged_by_the_thresholds_alone_no_floor_is_shown(churn, trained):
    """With confidence NULL every metric is judged by its thresholds alone: no check has a floor, and
    pgscore drift says nothing of one (what the floors held at ok now warns or alerts)."""
    Xc, _, _ = datasets.churn(100, seed=NO_DRIFT_SEED)
    score_rows(churn, "churn", Xc)
    r = drift(churn)
    assert r.returncode == 0 and _held_back_lines(r.stdout), r.stdout + r.stderr
    query(churn, "UPDATE pgscore.drift_thresholds SET confidence = NULL")
    r = drift(churn)
    assert r.returncode == 1, r.stdout + r.stderr  # the thresholds alone put this window at alert
    assert "result: ALERT" in r.stdout
    assert "noise floor" not in r.stdout and "confidence" not in r.stdout, r.stdout


def test_realised_performance_below_its_noise_floor_says_so(churn, trained):
    """An accuracy 7 points below deploy's over 120 outcomes: past the warning by the thresholds alone,
    within what 120 outcomes vary by, so ok; pgscore drift names it under the performance table."""
    _, _, _, model = trained
    Xc, yc, _ = datasets.churn(120, seed=9)
    score_rows(churn, "churn", Xc)
    (deploy_accuracy,), = query(churn, "SELECT DISTINCT deploy_accuracy FROM pgscore.realised_performance")
    pred = (model.predict_proba(Xc)[:, 1] > 0.5).astype(int)
    k = int(round((np.mean(pred == yc) - (deploy_accuracy - 0.07)) * 120))
    idx = np.flatnonzero((pred == yc) if k > 0 else (pred != yc))[:abs(k)]
    yc = yc.copy()
    yc[idx] = 1 - yc[idx]
    query(churn, "SELECT count(pgscore.record_outcome('churn', u.k::text, u.y)) FROM unnest(%s::int[], %s::int[]) "
                 "u(k, y)", (list(range(120)), [int(v) for v in yc]))
    (check,), = query(churn, "SELECT c FROM pgscore.performance_stats_of(false, NULL, 'window') s, "
                             "jsonb_array_elements(s.checks) c WHERE s.period = '1 day' "
                             "AND c->>'metric' = 'accuracy_drop'")
    assert check["level"] == "ok" and check["warn"] <= check["value"] < check["floor"], check
    r = drift(churn)
    assert r.returncode == 0, r.stdout + r.stderr
    text = r.stdout.splitlines()
    first = text.index("realised performance, by prediction time")
    section = _held_back_lines("\n".join(text[first:text.index("", first)]))
    # one line for the windows that hold the same 120 outcomes
    assert (f"    ok in 1h 12h 1d 7d all: accuracy_drop {check['value']:.3g} (warn at {check['warn']:g}) below "
            f"its noise floor {check['floor']:.3g} at n=120 (confidence 0.999)") in section, section
    assert r.stdout.count("drift_thresholds.confidence") == 1, r.stdout


def test_the_html_report_lists_what_the_noise_floor_held_back(churn, trained, tmp_path):
    Xc, _, _ = datasets.churn(100, seed=NO_DRIFT_SEED)
    score_rows(churn, "churn", Xc)
    path = tmp_path / "report.html"
    r = drift(churn, "--html", str(path))
    assert r.returncode == 0, r.stdout + r.stderr
    page = path.read_text()
    assert "Below the noise floor (ok)" in page and "drift_thresholds.confidence" in page
    table = page[page.index("Below the noise floor (ok)"):]
    table = table[:table.index("</table>")]
    held = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", table)]
    held = [c for c in held if c]  # (the header row's cells are <th>)
    # the window's drift (the score's and features'), each with its value, the level it reached, its floor, the
    # metric's confidence and the one its floor is at: family-wise over the 12 features and the score (0088)
    assert held and all(c[0] in ("score", "feature") and c[2] == "1 day" and c[7] == "100" and c[8] == "0.999"
                        and c[9] == f"{0.999 ** (1 / 13):.6g} (k=13)"
                        and re.fullmatch(r"(warn|alert) at [\d.]+", c[5]) and float(c[4]) < float(c[6])
                        for c in held), held
    assert {c[1] for c in held} >= {"score", "data_usage_gb"}, held
    query(churn, "UPDATE pgscore.drift_thresholds SET confidence = NULL")
    r = drift(churn, "--html", str(path))
    page = path.read_text()
    assert "noise floor" not in page.lower(), page


def _accuracy_drop_outcomes(url, trained, drop=0.07, n=120):
    """n outcomes of fresh rows with the realised accuracy `drop` below deploy's (seed 9, as above)."""
    _, _, _, model = trained
    Xc, yc, _ = datasets.churn(n, seed=9)
    score_rows(url, "churn", Xc)
    (deploy_accuracy,), = query(url, "SELECT DISTINCT deploy_accuracy FROM pgscore.realised_performance")
    pred = (model.predict_proba(Xc)[:, 1] > 0.5).astype(int)
    k = int(round((np.mean(pred == yc) - (deploy_accuracy - drop)) * n))
    idx = np.flatnonzero((pred == yc) if k > 0 else (pred != yc))[:abs(k)]
    yc = yc.copy()
    yc[idx] = 1 - yc[idx]
    query(url, "SELECT count(pgscore.record_outcome('churn', u.k::text, u.y)) FROM unnest(%s::int[], %s::int[]) "
               "u(k, y)", (list(range(n)), [int(v) for v in yc]))


def test_what_the_floor_held_back_is_what_the_sql_judged_at_any_extra_float_digits(churn, trained):
    """The held-back lines are the SQL's own judgement (pgscore.window_checks.held_back_from), not a copy of it in
    Python. The copy read the checks' jsonb, whose performance values were written at the session's
    extra_float_digits: at 0, 15 digits. With warn set to the float8 just above the realised accuracy drop, the
    SQL judged it below its threshold (ok, nothing held back), and the copy, reading the value and warn rounded
    to the same 15 digits, printed 'ok in ...: accuracy_drop ... (warn at ...) below its noise floor'."""
    _accuracy_drop_outcomes(churn, trained)
    (value,), = query(churn, "SELECT DISTINCT deploy_accuracy - accuracy FROM pgscore.realised_performance "
                             "WHERE n > 0")
    warn = np.nextafter(value, np.inf)
    assert f"{value:.15g}" == f"{warn:.15g}"  # (the same at 15 digits: the case this test is about)
    query(churn, "UPDATE pgscore.drift_thresholds SET warn = %s WHERE metric = 'accuracy_drop'", (float(warn),))
    (check,), = query(churn, "SELECT c FROM pgscore.performance_stats_of(false, NULL, 'window') s, "
                             "jsonb_array_elements(s.checks) c WHERE s.period = '1 day' "
                             "AND c->>'metric' = 'accuracy_drop'")
    assert check["level"] == "ok" and check["value"] < check["warn"] < check["floor"], check  # (not reached)
    r = pgscore_cli("drift", "--db", churn, env={"PGOPTIONS": "-c extra_float_digits=0"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert not any("accuracy_drop" in ln for ln in _held_back_lines(r.stdout)), r.stdout
    rows = query(churn, "SELECT DISTINCT level, held_back_from FROM pgscore.window_checks "
                        "WHERE what = 'performance' AND metric = 'accuracy_drop' AND n > 0")
    assert rows == [("ok", None)], rows
    # at the threshold itself it is held back, and said so, at either setting
    query(churn, "UPDATE pgscore.drift_thresholds SET warn = %s WHERE metric = 'accuracy_drop'", (float(value),))
    for env in ({"PGOPTIONS": "-c extra_float_digits=0"}, {}):
        r = pgscore_cli("drift", "--db", churn, env=env)
        assert r.returncode == 0, r.stdout + r.stderr
        assert any("accuracy_drop" in ln for ln in _held_back_lines(r.stdout)), r.stdout


def test_window_checks_hold_every_check_the_views_judged_and_what_the_floor_held_back(churn, trained):
    """pgscore.window_checks (0087): a row per check of drift_stats()' and performance_stats_of's windows, the level
    theirs; held_back_from where the check is ok and its value reached a threshold with a floor (the level that
    threshold names); the warn and alert rows are pgscore.alerts' live ones."""
    Xc, _, _ = datasets.churn(100, seed=NO_DRIFT_SEED)
    score_rows(churn, "churn", Xc)
    # in one statement: the windows end at its start (the parts a window is summed from move as time does, and a
    # mean with them in its last bits)
    (rows, want, alerts), = query(churn, """
        SELECT (SELECT jsonb_agg(jsonb_build_array(what, subject, window_name, metric, value, warn, alert, floor,
                                                   level, held_back_from)) FROM pgscore.window_checks),
               (SELECT jsonb_agg(jsonb_build_array(kind, feature, period, metric, value, level)) FROM (
                    SELECT s.kind, s.feature, s.period, c->>'metric' AS metric, (c->>'value')::float8 AS value,
                           c->>'level' AS level
                      FROM pgscore.drift_stats() s, jsonb_array_elements(s.checks) c WHERE s.period_kind = 'window'
                    UNION ALL
                    SELECT 'performance', 'outcomes', p.period, c->>'metric', (c->>'value')::float8, c->>'level'
                      FROM pgscore.performance_stats_of(false, NULL, 'window') p, jsonb_array_elements(p.checks) c) w),
               (SELECT jsonb_agg(jsonb_build_array(what, subject, window_name, metric, level)) FROM pgscore.alerts
                 WHERE NOT shadow)""")
    rows = [tuple(r) for r in rows]
    assert sorted(map(repr, (r[:5] + r[8:9] for r in rows))) == sorted(map(repr, (tuple(r) for r in want)))
    held = [r for r in rows if r[9] is not None]
    assert held, "the window was meant to reach a threshold without drift"
    for what, subject, window, metric, value, warn, alert, floor, level, back in rows:
        reached = value is not None and floor is not None and level == "ok" and value >= warn
        assert back == (("alert" if value >= alert else "warn") if reached else None), (subject, window, metric)
    firing = {r[:4] + (r[8],) for r in rows if r[8] in ("warn", "alert")}
    assert firing == {tuple(r) for r in alerts or []}


def test_held_back_checks_read_on_a_schema_before_0091(db_url):
    """pgscore drift's read of the held-back checks (report.HELD_SQL) on a database whose schema is still at 0090
    (the code upgraded, pgscore install not run yet): it read check_rows' 0091 columns by name and failed with a
    bare 42703; it reads them where they exist, and the checks without them, both ways."""
    import psycopg2

    from pgscore import migrate
    from pgscore.report import HELD_SQL

    checks = ('[{"metric": "psi", "value": 0.3, "n": 100, "warn": 0.1, "alert": 0.2, "min_n": 50, '
              '"confidence": 0.999, "floor": 0.4, "level": "ok", "family": 13, "family_features": 12, '
              '"check_confidence": 0.9999}]')
    got = {}
    for rev in ("head", "0090"):
        if rev != "head":
            migrate.downgrade(db_url, rev)
        with psycopg2.connect(db_url) as c, c.cursor() as cur:
            cur.execute(f"SELECT {HELD_SQL} FROM (SELECT %s::jsonb AS checks) r", (checks,))
            (got[rev],), = cur.fetchall()
    assert got["head"][0]["family"] == 13 and got["head"][0]["check_confidence"] == 0.9999, got
    assert got["0090"][0]["reached"] == "alert" and "family" not in got["0090"][0], got
    assert {k: v for k, v in got["head"][0].items() if not k.startswith(("family", "check_"))} == got["0090"][0]


def test_with_window_the_result_and_the_exit_code_count_that_window_alone(churn, trained):
    """T5: after a burst, a window the burst is not in was ok, but `pgscore drift --window '5 minutes'` said
    `result: ALERT - 10 condition(s)` and exited 1 for the alerts of the longer windows: a cron job paging on the
    short window paged for a week. Here a window of a second, which the burst has left by the time drift reads."""
    import time

    X, *_ = trained
    Xc = X[:600].copy()
    Xc[:, 1] += 4 * X[:, 1].std()
    score_rows(churn, "churn", Xc)
    # (drift_windows holds windows of 5 minutes or more: the check dropped here, for a window the burst leaves
    # within the test)
    query(churn, "ALTER TABLE pgscore.drift_windows DROP CONSTRAINT drift_windows_length_check")
    query(churn, "INSERT INTO pgscore.drift_windows (window_name, length, sort_order) VALUES ('1 second', "
                 "'1 second', -1)")
    time.sleep(2)
    r = drift(churn, "churn", "--window", "1 second")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "result: ok in '1 second' - nothing at warn or alert" in r.stdout, r.stdout
    # the alerts of the other windows are still listed, and said not to be counted
    assert re.search(r"^  feature +monthly_charges +1h 12h 1d 7d all +psi ", r.stdout, re.M), r.stdout
    assert re.search(r"not counted \(--window '1 second'\): churn: \d+ at alert, \d+ at warn in 1h 12h 1d 7d all",
                     " ".join(r.stdout.split())), r.stdout
    r = drift(churn, "churn", "--window", "1 hour")  # a window the burst is in: the alerts of that window alone
    assert r.returncode == 1, r.stdout + r.stderr
    n_hour, = query(churn, "SELECT count(*) FROM pgscore.alerts WHERE window_name = '1 hour' AND level = 'alert'")[0]
    assert f"result: ALERT in '1 hour' - {n_hour} condition(s) at alert level (churn)" in r.stdout, r.stdout
    r = drift(churn, "churn")  # without --window: every window, as before
    assert r.returncode == 1, r.stdout + r.stderr
    # (a condition counted once however many windows it fires in, as pgscore status counts it)
    n_all, = query(churn, "SELECT count(DISTINCT (what, subject, metric)) FROM pgscore.alerts WHERE level = 'alert'")[0]
    assert n_all >= n_hour and f"result: ALERT - {n_all} condition(s) at alert level (churn)" in r.stdout, r.stdout
    assert "not counted" not in r.stdout


def test_drift_counts_conditions_as_status_does_one_per_metric_however_many_windows(churn, trained, tmp_path):
    """Review of T5's fix: `pgscore status` counts a feature's metric at a level once however many windows it fires
    in (a condition, one line of drift's alerts table), but drift's result line, its HTML summary and its 'not
    counted' line counted it once per window: '10 condition(s) at alert level' beside status's '2 conditions at
    alert (in 5 windows)' for the same burst. They count conditions now, as status does."""
    X, *_ = trained
    Xc = X[:600].copy()
    Xc[:, 1] += 4 * X[:, 1].std()
    score_rows(churn, "churn", Xc)
    html = tmp_path / "r.html"
    r = drift(churn, "churn", "--html", str(html))
    assert r.returncode == 1, r.stdout + r.stderr
    (n_rows, n_cond, n_cond_hour, n_rows_else, n_cond_else), = query(
        churn, "SELECT count(*), count(DISTINCT (what, subject, metric)), count(DISTINCT (what, subject, metric)) "
               "FILTER (WHERE window_name = '1 hour'), count(*) FILTER (WHERE window_name <> '1 hour'), "
               "count(DISTINCT (what, subject, metric)) FILTER (WHERE window_name <> '1 hour') "
               "FROM pgscore.alerts WHERE model = 'churn' AND NOT shadow AND level = 'alert'")
    assert n_rows > n_cond and n_rows_else > n_cond_else, (n_rows, n_cond)  # (a metric firing in several windows)
    assert f"result: ALERT - {n_cond} condition(s) at alert level (churn)" in r.stdout, r.stdout
    assert f"ALERT</span>: {n_cond} condition(s) at alert level" in html.read_text()
    s = pgscore_cli("status", "--db", churn)
    assert s.returncode == 0, s.stdout + s.stderr
    assert re.search(rf"churn: {n_cond} conditions? at alert \(in ", " ".join(s.stdout.split())), s.stdout
    r = drift(churn, "churn", "--window", "1 hour", "--no-refresh")
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"result: ALERT in '1 hour' - {n_cond_hour} condition(s) at alert level (churn)" in r.stdout, r.stdout
    assert re.search(rf"not counted \(--window '1 hour'\): churn: {n_cond_else} at alert, \d+ at warn in ",
                     " ".join(r.stdout.split())), r.stdout


@pytest.fixture
def fleet(db_url, trained):
    """Three live models (hT11: a fleet of 12): a_quiet scored on its training rows, b_loud and c_muted on rows with
    monthly_charges four standard deviations up, c_muted's every condition silenced."""
    X, y, names, model = trained
    Xc = X[:600].copy()
    Xc[:, 1] += 4 * X[:, 1].std()
    for name, rows in (("a_quiet", X[:600]), ("b_loud", Xc), ("c_muted", Xc)):
        registry.deploy(db_url, name, model, X, y, feature_names=names)
        score_rows(db_url, name, rows)
    query(db_url, "SELECT pgscore.silence_alerts('c_muted', '1 hour', 'INC-1: upstream fix under way')")
    return db_url


def _summary(out):
    """The summary table's rows under its heading, {model: [worst, at alert, at warn, silenced]}."""
    lines = out.split("\nsummary, worst first")[1].split("\n\n")[0].splitlines()[2:]
    return {ln.split()[0]: ln.split()[1:] for ln in lines}


def test_drift_of_several_models_summarises_each_at_the_top_worst_first(fleet):
    """hT11: with a dozen models the text ran 352-369 lines with its verdict at the very end; a table at the top says
    each model's worst level and its conditions at alert, at warn and silenced, worst first."""
    r = drift(fleet)
    assert r.returncode == 1, r.stdout + r.stderr
    out = r.stdout
    assert out.index("\nsummary, worst first") < out.index("\n== "), out
    rows = _summary(out)
    assert list(rows) == ["b_loud", "a_quiet", "c_muted"], out
    assert rows["b_loud"][0] == "alert" and int(rows["b_loud"][1]) > 0 and rows["b_loud"][3] == "0", out
    assert rows["a_quiet"] == ["ok", "0", "0", "0"], out
    muted = int(rows["c_muted"][3])
    assert rows["c_muted"][:3] == ["ok", "0", "0"] and muted > 0, out
    # the same counts as the result line's
    assert f"result: ALERT - {rows['b_loud'][1]} condition(s) at alert level (b_loud), {rows['b_loud'][2]} at " \
           f"warn, {muted} silenced" in out, out
    assert "summary" not in drift(fleet, "b_loud").stdout  # one model: its section is its summary


def test_drift_alerting_shows_the_models_at_warn_or_alert_alone_and_exits_as_before(fleet):
    r = drift(fleet, "--alerting")
    assert r.returncode == 1, r.stdout + r.stderr
    out = r.stdout
    assert "== b_loud v1" in out and "== a_quiet" not in out and "== c_muted" not in out, out
    assert list(_summary(out)) == ["b_loud", "a_quiet", "c_muted"], out  # the summary keeps every model
    assert "--alerting: 2 models with nothing at warn or alert left out: a_quiet, c_muted (silenced alone)" \
           in " ".join(out.split()), out
    assert "result: ALERT - " in out
    quiet = drift(fleet, "a_quiet", "--alerting")
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    assert "== a_quiet" not in quiet.stdout and "--alerting: 1 model with nothing at warn or alert left out: " \
           "a_quiet" in quiet.stdout, quiet.stdout
    assert "result: ok - nothing at warn or alert" in quiet.stdout


def test_drift_of_several_named_models_reads_those_alone(fleet):
    r = drift(fleet, "a_quiet", "c_muted")
    assert r.returncode == 0, r.stdout + r.stderr  # b_loud's alerts are not counted
    assert "2 live models" in r.stdout and "== a_quiet v1" in r.stdout and "== c_muted v1" in r.stdout, r.stdout
    assert "b_loud" not in r.stdout, r.stdout
    bad = drift(fleet, "a_quiet", "b_lodu")
    assert bad.returncode == 2 and "there is no model 'b_lodu'" in bad.stderr and "b_loud" in bad.stderr, bad.stderr


def _differences(a, b, at=""):
    """Where two nested dicts or lists differ: [(path, a's, b's)]; floats in the last bits alone (a sum of the same
    values in another order: another plan) are the same."""
    if isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys():
        return [d for k in a for d in _differences(a[k], b[k], f"{at}.{k}")]
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _differences(x, y, f"{at}[{i}]")]
    if isinstance(a, float) and isinstance(b, float):
        return [] if math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15) or (math.isnan(a) and math.isnan(b)) \
            else [(at, a, b)]
    return [] if a == b else [(at, a, b)]


def _same_rows(a, b):
    """The same rows in any order, floats to their last bits (each statement's windows end at its own
    statement_timestamp(): the log's parts may be summed in another order)."""
    def key(r):
        return repr([round(v, 9) if isinstance(v, float) and math.isfinite(v) else v for v in r])
    return _differences(sorted(a, key=key), sorted(b, key=key)) == []


NOISE_FLOOR = "pgscore.noise_floor(text,bigint,bigint,float8[],float8,float8,bigint)"


def _collected(url, names, charts=False):
    """What pgscore drift reads of `names` (report.collect's reads, in one transaction), each model's data as a dict,
    and how many noise floors the database computed for it (pgscore.noise_floor's calls: each judged window of each
    model it computed the drift or realised performance of)."""
    import dataclasses

    import psycopg2

    from pgscore import report

    conn = psycopg2.connect(url)
    try:
        windows = report.check_args(conn, names[0], report.DEFAULT_WINDOW)
        with conn.cursor() as cur:
            cur.execute("SET LOCAL track_functions = 'all'")
            data = report._collect(cur, names, report.DEFAULT_WINDOW, windows, None, charts)
            cur.execute("SELECT coalesce(pg_stat_get_xact_function_calls(%s::regprocedure), 0)", (NOISE_FLOOR,))
            (calls,), = cur.fetchall()
        conn.rollback()
    finally:
        conn.close()
    return {m.name: dataclasses.asdict(m) for m in data.models}, calls


@pytest.mark.parametrize("charts", [False, True])
def test_drift_of_one_model_computes_that_models_alone(fleet, charts):
    """hT11 (12 models): `pgscore drift NAME` took as long as the fleet's drift (4.3-6.2 s), since the views it read
    (drift_rows, performance_rows, alerts) computed every live model's drift and performance before their filter on
    the model. It reads drift_rows_of, performance_rows_of and alerts_of (0136) for the models named: what it shows
    of a model is what the fleet's read shows of it, and no noise floor of another model is computed."""
    every, calls_every = _collected(fleet, ["a_quiet", "b_loud", "c_muted"], charts)
    for name in every:
        one, calls_one = _collected(fleet, [name], charts)
        assert list(one) == [name]
        assert _differences(one[name], every[name]) == [], name
        assert 0 < calls_one < calls_every, (name, calls_one, calls_every)
    # b_loud's drift, performance and alerts computed alone, none of the others'
    _, calls_loud = _collected(fleet, ["b_loud"], charts)
    _, calls_quiet = _collected(fleet, ["a_quiet"], charts)
    assert calls_loud + calls_quiet < calls_every


def test_the_functions_of_the_models_named_give_the_views_rows_of_those_models(fleet):
    """drift_rows_of, performance_rows_of, firing_of and alerts_of (0136): with NULL the views' rows (the views read
    them so), with names those models' rows alone, in the view's order where it has one (alerts); a name not live,
    NULL among the names or none at all, no rows of theirs; a misspelt period kind is refused (22023)."""
    import psycopg2

    conn = psycopg2.connect(fleet)
    try:
        with conn.cursor() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")  # (one now(): the same windows)

            def rows(sql, params=None):
                cur.execute(sql, params)
                return cur.fetchall()

            for view, call, key in (("drift_rows", "drift_rows_of(%s, NULL)", "model"),
                                    ("performance_rows", "performance_rows_of(%s)", "model"),
                                    ("firing", "firing_of(%s)", "model"),
                                    ("alerts", "alerts_of(%s)", "model")):
                every = rows(f"SELECT * FROM pgscore.{view}")  # noqa: S608 - fixed names
                assert every and _same_rows(rows(f"SELECT * FROM pgscore.{call}", (None,)), every), view
                col = [d.name for d in cur.description].index(key)
                for names in (["b_loud"], ["a_quiet", "c_muted"], ["b_loud", None, "b_loud", "nope"]):
                    got = rows(f"SELECT * FROM pgscore.{call}", (names,))  # noqa: S608 - fixed names
                    want = [r for r in every if r[col] in names]
                    assert want and _same_rows(got, want), (view, names)
                    if view == "alerts":  # in the view's order
                        assert _differences(got, want) == [], names
                assert rows(f"SELECT * FROM pgscore.{call}", (["nope"],)) == [], view  # noqa: S608
                assert rows(f"SELECT * FROM pgscore.{call}", ([],)) == [], view  # noqa: S608
            assert any(r[0] == "b_loud" for r in rows("SELECT * FROM pgscore.alerts_of('{b_loud}')"))
            # the periods: the windows, the days, or both (the view's)
            loud = rows("SELECT * FROM pgscore.drift_rows WHERE model = 'b_loud'")
            for kind in ("window", "day"):
                assert _same_rows(rows("SELECT * FROM pgscore.drift_rows_of('{b_loud}', %s)", (kind,)),
                                  [r for r in loud if r[5] == kind]), kind
        conn.rollback()
        with pytest.raises(psycopg2.Error) as e, conn.cursor() as cur:
            cur.execute("SELECT * FROM pgscore.drift_rows_of('{b_loud}', 'windows')")
        assert e.value.pgcode == "22023" and "pgscore.drift_rows_of: p_period_kind must be" in str(e.value)
    finally:
        conn.close()


def test_the_readers_drift_of_a_model_not_live_says_so_and_exits_2(db_url, trained):
    """Since 0136 a role granted pgscore_reader runs `pgscore drift --no-refresh`; named a model with no live version
    it failed (exit 3, 'permission denied for table deployments', hinting pgscore_admin), where the admin is told the
    model has no live version (exit 2): the check read pgscore.deployments, which the reader does not see, to tell a
    retired model from one never made live. The reader is told the model has no live version, with the same hint,
    and exit 2."""
    X, y, names, model = trained
    for name in ("churn", "gone", "never"):
        registry.deploy(db_url, name, model, X, y, feature_names=names, activate=name != "never")
    query(db_url, "SELECT pgscore.retire('gone')")
    ensure_role(db_url, "pgscore_t_bi2", login=True)
    query(db_url, "GRANT pgscore_reader TO pgscore_t_bi2")
    bi = db_url.replace("postgresql://postgres@", "postgresql://pgscore_t_bi2@")
    for name, why in (("gone", "(it was retired)"), ("never", "(none was made live yet")):
        admin = pgscore_cli("drift", name, "--no-refresh", "--db", db_url)
        assert admin.returncode == 2 and f"model '{name}' has no live version {why}" in admin.stderr, admin.stderr
        r = pgscore_cli("drift", name, "--no-refresh", "--db", bi)
        assert r.returncode == 2, r.stdout + r.stderr
        assert f"pgscore drift: error: model '{name}' has no live version" in r.stderr, r.stderr
        assert f"make a version live with: pgscore --db {shlex.quote(bi)} activate {name} VERSION" in r.stderr \
            or f"activate {name} VERSION" in r.stderr, r.stderr
        assert "permission denied" not in r.stderr, r.stderr


def test_the_reports_reads_pick_up_no_look_alike_of_the_owners_where_pg_catalog_is_not_alone(churn, trained):
    """Session 70 (r3): through a pooler pgscore drift's connection puts pg_catalog first, not alone (its path would
    stay with the pool's next client), and the report's reads named unnest(text[]), cardinality(float8[]) (and
    jsonb_agg(jsonb)) unqualified: pg_catalog's take anyarray, and the owner's in public, the exact match, ran as the
    superuser. They name pg_catalog's now."""
    from pgscore import report

    X, _, _, _ = trained
    score_rows(churn, "churn", X[:50])
    query(churn, """
        CREATE FUNCTION public.unnest(text[]) RETURNS SETOF text LANGUAGE plpgsql AS
          $$BEGIN RAISE EXCEPTION 'the owner''s unnest(text[]) ran'; END$$;
        CREATE FUNCTION public.cardinality(float8[]) RETURNS int LANGUAGE plpgsql AS
          $$BEGIN RAISE EXCEPTION 'the owner''s cardinality(float8[]) ran'; END$$;""")
    with contextlib.closing(psycopg2.connect(churn)) as conn:  # (pg_catalog first, implicitly; public searched)
        data = report.collect(conn, None, report.DEFAULT_WINDOW, report.check_args(conn, None, report.DEFAULT_WINDOW),
                              charts=True)
    assert [m.name for m in data.models] == ["churn"] and data.models[0].histograms
