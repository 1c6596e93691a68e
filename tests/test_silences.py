"""Silences of alerts (migration 0126): pgscore.silence_alerts mutes a model's firing conditions (or those matching
a what, subject, metric, window and shadow) for a while, saying who and why; pgscore.alerts still lists them, with
silenced_until and silence_id; pgscore.lift_silence ends one early. pgscore drift and status do not count a silenced
condition toward their exit code and result line, and say it is silenced."""

from __future__ import annotations

import re

import numpy as np
import psycopg2
import pytest
from psycopg2 import errors

from helpers import pgscore_cli, query
from pgscore import datasets, registry
from test_monitoring import drifted, log_rows


@pytest.fixture(scope="module")
def trained():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y, names = datasets.churn(3000, seed=0)
    return X, y, names, make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)


@pytest.fixture
def firing(db_url, trained):
    """churn deployed, with drifted predictions logged: monthly_charges (and more) alert in every window."""
    X, y, names, model = trained
    rec = registry.deploy(db_url, "churn", model, X, y, feature_names=names)
    conn = psycopg2.connect(db_url)
    conn.autocommit = True
    Xc = drifted(trained, n=600)
    log_rows(conn, rec["model_id"], Xc, model.predict_proba(np.nan_to_num(Xc))[:, 1])
    yield conn
    conn.close()


def _alerts(conn):
    return query(conn, "SELECT what, subject, window_name, metric, level, silenced_until, silence_id "
                       "FROM pgscore.alerts WHERE model = 'churn'")


def _silenced(conn):
    return {(w, s, win, m): (until, sid) for w, s, win, m, _, until, sid in _alerts(conn) if sid is not None}


def test_a_silence_of_the_model_mutes_every_condition_and_keeps_them_listed(firing):
    conn = firing
    rows = _alerts(conn)
    assert rows and all(sid is None and until is None for *_, until, sid in rows)
    (sid,), = query(conn, "SELECT pgscore.silence_alerts('churn', '2 hours', 'upstream fix ships tonight')")
    (ends,), = query(conn, "SELECT ends_at FROM pgscore.alert_silences WHERE id = %s", (sid,))
    after = _alerts(conn)
    assert len(after) == len(rows)  # muted, not hidden
    assert all(r[6] == sid and r[5] == ends for r in after), after
    (by, reason, starts), = query(conn, "SELECT created_by, reason, ends_at - starts_at FROM pgscore.alert_silences")
    (login,), = query(conn, "SELECT session_user")
    assert (by, reason, str(starts)) == (login, "upstream fix ships tonight", "2:00:00")


def test_a_silence_by_metric_and_subject_or_by_window_mutes_those_alone(firing):
    conn = firing
    query(conn, "SELECT pgscore.silence_alerts('churn', '1 hour', 'known', p_metric => 'psi', "
                "p_subject => 'monthly_charges')")
    muted = _silenced(conn)
    assert muted and {(s, m) for _, s, _, m in muted} == {("monthly_charges", "psi")}
    windows = {win for w, s, win, m, *_ in _alerts(conn) if (s, m) == ("monthly_charges", "psi")}
    assert {win for _, _, win, _ in muted} == windows
    assert any(sid is None for *_, sid in _alerts(conn))  # the other conditions still fire
    query(conn, "SELECT pgscore.silence_alerts('churn', '1 hour', 'known', p_window => '1 hour')")
    muted = _silenced(conn)
    assert all(win == "1 hour" or (s, m) == ("monthly_charges", "psi") for _, s, win, m in muted)
    assert all(sid is not None for w, s, win, m, _, _, sid in _alerts(conn) if win == "1 hour")


def test_a_silence_that_matches_nothing_an_ended_one_or_a_lifted_one_mutes_nothing(firing):
    conn = firing
    query(conn, "SELECT pgscore.silence_alerts('churn', '1 hour', 'another metric', p_metric => 'auc_drop')")
    query(conn, "SELECT pgscore.silence_alerts('churn', '1 hour', 'the shadows alone', p_shadow => true)")
    query(conn, "SELECT pgscore.silence_alerts('churn', '1 hour', 'ended', p_starts_at => now() - interval '2 hours')")
    query(conn, "SELECT pgscore.silence_alerts('churn', '1 hour', 'not begun', "
                "p_starts_at => now() + interval '1 hour')")
    (sid,), = query(conn, "SELECT pgscore.silence_alerts('churn', '1 hour', 'lifted')")
    assert _silenced(conn)
    query(conn, "SELECT pgscore.lift_silence(%s)", (sid,))
    assert _silenced(conn) == {}
    (at, by), = query(conn, "SELECT lifted_at, lifted_by FROM pgscore.alert_silences WHERE id = %s", (sid,))
    assert at is not None and by == query(conn, "SELECT session_user")[0][0]
    # lifting twice: a notice, nothing changed
    conn.notices.clear()
    query(conn, "SELECT pgscore.lift_silence(%s)", (sid,))
    assert any(f"silence {sid} was lifted already" in n for n in conn.notices), conn.notices
    assert query(conn, "SELECT lifted_at FROM pgscore.alert_silences WHERE id = %s", (sid,)) == [(at,)]
    assert query(conn, "SELECT count(*) FROM pgscore.alert_silences") == [(5,)]  # never deleted


def test_two_overlapping_silences_give_the_later_end(firing):
    conn = firing
    (a,), = query(conn, "SELECT pgscore.silence_alerts('churn', '3 hours', 'long')")
    (b,), = query(conn, "SELECT pgscore.silence_alerts('churn', '1 hour', 'short, on psi', p_metric => 'psi')")
    (ends_a,), = query(conn, "SELECT ends_at FROM pgscore.alert_silences WHERE id = %s", (a,))
    assert {(until, sid) for until, sid in _silenced(conn).values()} == {(ends_a, a)}
    query(conn, "SELECT pgscore.lift_silence(%s)", (a,))
    assert {sid for _, sid in _silenced(conn).values()} == {b}


@pytest.mark.parametrize("call, sqlstate, words", [
    ("silence_alerts('nope', '1 hour', 'x')", "42704", "there is no model 'nope'"),
    ("silence_alerts('churm', '1 hour', 'x')", "42704", "there is no model 'churm'"),
    ("silence_alerts('churn', '1 hour', '  ')", "22023", "p_reason is blank"),
    ("silence_alerts('churn', '0 hours', 'x')", "22023", "p_for must be a positive interval"),
    ("silence_alerts('churn', '-1 hour', 'x')", "22023", "p_for must be a positive interval"),
    ("silence_alerts('churn', '91 days', 'x')", "22023", "p_for must be at most 90 days"),
    # by the time spanned: three months from May are 92 days (as intervals, '3 months' = '90 days')
    ("silence_alerts('churn', '3 months', 'x', p_starts_at => '2027-05-01')", "22023", "p_for must be at most 90 days"),
    ("silence_alerts('churn', '1 mon -31 days', 'x', p_starts_at => '2027-02-01')", "22023",
     "p_for must be a positive interval"),
    ("silence_alerts('churn', '1 hour', 'x', p_what => 'features')", "22023", "p_what must be feature, score"),
    ("silence_alerts('churn', '1 hour', 'x', p_window => '2 days')", "22023", "p_window '2 days' is not a window"),
    ("silence_alerts('churn', '1 hour', 'x', p_metric => 'auc')", "22023", "p_metric 'auc' is not a metric"),
    # a subject the model's conditions never have (its case wrong, a typo) muted nothing, silently
    ("silence_alerts('churn', '1 hour', 'x', p_subject => 'Monthly_Charges')", "22023",
     "p_subject 'Monthly_Charges' is not a subject of model 'churn'"),
    ("silence_alerts('churn', NULL, 'x')", "22004", "must not be NULL"),
    ("silence_alerts(NULL, '1 hour', 'x')", "22004", "must not be NULL"),
    ("silence_alerts('churn', '1 hour', NULL)", "22004", "must not be NULL"),
    ("lift_silence(12345)", "42704", "there is no silence 12345"),
    ("lift_silence(NULL)", "22004", "must not be NULL"),
])
def test_silence_refuses_bad_arguments_naming_them(firing, call, sqlstate, words):
    with pytest.raises(psycopg2.Error) as e:
        query(firing, f"SELECT pgscore.{call}")
    assert e.value.pgcode == sqlstate and words in e.value.pgerror, e.value.pgerror
    if "churm" in call:
        assert "a typo for 'churn'" in e.value.diag.message_hint, e.value.diag.message_hint
    if "Monthly_Charges" in call:
        assert "'monthly_charges'" in e.value.diag.message_hint, e.value.diag.message_hint
    if "91 days" in call:
        assert "pgscore.drift_thresholds" in e.value.diag.message_hint


@pytest.mark.parametrize("role, may", [("pgscore_admin", True), ("pgscore_reader", False), ("pgscore_app", False)])
def test_pgscore_admin_silences_and_lifts_the_reader_and_the_app_may_not(firing, role, may):
    conn = firing
    (sid,), = query(conn, "SELECT pgscore.silence_alerts('churn', '1 hour', 'by the owner')")
    conn.autocommit = False
    try:
        cur = conn.cursor()
        cur.execute(f"SET LOCAL ROLE {role}")
        for call in ("SELECT pgscore.silence_alerts('churn', '1 hour', 'x')", f"SELECT pgscore.lift_silence({sid})"):
            cur.execute("SAVEPOINT s")
            if may:
                cur.execute(call)
            else:
                with pytest.raises(errors.InsufficientPrivilege):
                    cur.execute(call)
                cur.execute("ROLLBACK TO SAVEPOINT s")
        cur.execute("SAVEPOINT s")
        if role == "pgscore_app":  # the app reads no silences; the reader (BI) and the admin do
            with pytest.raises(errors.InsufficientPrivilege):
                cur.execute("SELECT * FROM pgscore.alert_silences")
        else:
            cur.execute("SELECT count(*) FROM pgscore.alert_silences")
            assert cur.fetchone()[0] == (2 if may else 1)
        if role == "pgscore_admin":  # never deleted, nor rewritten but for lifting
            for stmt in ("DELETE FROM pgscore.alert_silences", "UPDATE pgscore.alert_silences SET reason = 'y'"):
                cur.execute("SAVEPOINT s")
                with pytest.raises(errors.InsufficientPrivilege):
                    cur.execute(stmt)
                cur.execute("ROLLBACK TO SAVEPOINT s")
        if role != "pgscore_app":
            cur.execute("SELECT count(*) FROM pgscore.alerts WHERE silence_id IS NOT NULL")
    finally:
        conn.rollback()
        conn.autocommit = True


def test_drift_and_status_do_not_count_a_silenced_condition_and_say_it_is_silenced(firing, db_url, tmp_path):
    conn = firing
    drift = pgscore_cli("drift", "--db", db_url)
    assert drift.returncode == 1 and "result: ALERT" in drift.stdout and "silenced" not in drift.stdout, drift.stdout
    # every condition but monthly_charges' silenced by the model alone, monthly_charges' by its subject
    out = pgscore_cli("silence", "churn", "--for", "2h", "--reason", "upstream fix ships tonight", "--subject",
                      "monthly_charges", "--db", db_url)
    assert out.returncode == 0, out.stderr
    (sid,), = query(conn, "SELECT max(id) FROM pgscore.alert_silences")
    (n,), = query(conn, "SELECT count(DISTINCT (what, subject, metric, level)) FROM pgscore.alerts "
                        "WHERE subject = 'monthly_charges'")
    assert f"silence #{sid}: churn, subject=monthly_charges, until " in out.stdout, out.stdout
    assert f"it mutes {n} condition{'s' if n != 1 else ''} firing now" in out.stdout, out.stdout
    drift = pgscore_cli("drift", "--db", db_url)
    assert drift.returncode == 1, drift.stdout  # the others still fire
    assert f", {n} silenced\n" in drift.stdout, drift.stdout
    assert f"(#{sid}, by " in drift.stdout and ": upstream fix ships tonight)" in drift.stdout, drift.stdout
    out = pgscore_cli("silence", "churn", "--for", "1 day", "--reason", "retrain under way", "--live", "--db", db_url)
    assert out.returncode == 0, out.stderr
    drift = pgscore_cli("drift", "--db", db_url)
    (total,), = query(conn, "SELECT count(DISTINCT (what, subject, metric, level)) FROM pgscore.alerts")
    assert drift.returncode == 0, drift.stdout  # silenced alone: nothing pages
    assert f"result: ok - {total} silenced, nothing else at warn or alert" in drift.stdout, drift.stdout
    assert "(silenced)" in drift.stdout
    html = tmp_path / "r.html"
    assert pgscore_cli("drift", "--db", db_url, "--html", str(html)).returncode == 0
    page = html.read_text()
    assert f"nothing else at warn or alert; {total} silenced" in page and "(silenced until " in page
    assert ": retrain under way))" in page
    status = " ".join(pgscore_cli("status", "--db", db_url).stdout.split())
    line = status.split("alerts at the last refresh: ")[1].split(" prediction log: ")[0]
    assert line.startswith(f"churn: none at warn or alert, {total} silenced (details: pgscore "), line
    assert line.endswith(" silences)"), line  # where they are listed
    # the list, then one lifted: its conditions count again
    listed = pgscore_cli("silences", "churn", "--db", db_url).stdout
    assert "subject=monthly_charges" in listed and "live" in listed and "retrain under way" in listed, listed
    out = pgscore_cli("unsilence", str(sid + 1), "--db", db_url)
    assert out.returncode == 0 and f"silence #{sid + 1} lifted" in out.stdout, out.stdout
    again = pgscore_cli("unsilence", str(sid + 1), "--db", db_url)
    assert again.returncode == 0 and f"silence {sid + 1} was lifted already" in again.stdout, again.stdout
    assert pgscore_cli("drift", "--db", db_url).returncode == 1
    listed = pgscore_cli("silences", "--db", db_url).stdout
    assert "retrain under way" not in listed, listed
    listed = pgscore_cli("silences", "--all", "--db", db_url).stdout
    assert "retrain under way" in listed and "lifted " in listed, listed
    status = " ".join(pgscore_cli("status", "--db", db_url).stdout.split())
    assert f", {n} silenced (details: pgscore " in status and "alerts at the last refresh: churn: " in status, status


def test_status_counts_the_silenced_conditions_of_each_model_apart(firing, db_url):
    """hT11 (12 models): pgscore status put the fleet-wide silenced count after whichever model came last
    (`tree_repro: 3 conditions at alert (in 5 windows), 5 silenced`, churn_eu's 5) and left out the model whose
    every condition was silenced. Each model says its own now, one wholly silenced listed too."""
    conn = firing
    query(conn, "SELECT * FROM pgscore.refresh_monitoring()")
    (firing_n,), = query(conn, "SELECT count(DISTINCT (what, subject, metric, level)) FROM pgscore.alert_state "
                               "WHERE model = 'churn' AND level = 'alert'")
    # a second model's conditions (by hand, as the refresh records them), every one of them silenced; listed first
    query(conn, "INSERT INTO pgscore.alert_state (model, version, what, subject, window_name, metric, level) "
                "SELECT 'a_churn', 1, 'feature', s, w, 'psi', 'alert' FROM unnest(ARRAY['x', 'y']) s, "
                "unnest(ARRAY['1 hour', '1 day']) w")
    query(conn, "INSERT INTO pgscore.alert_silences (model, ends_at, reason) "
                "VALUES ('a_churn', now() + interval '1 hour', 'INC-1')")
    status = " ".join(pgscore_cli("status", "--db", db_url).stdout.split())
    assert "alerts at the last refresh: a_churn: none at warn or alert, 2 silenced; churn: " \
           f"{firing_n} conditions at alert" in status, status
    line = status.split("alerts at the last refresh: ")[1].split(" (details: ")[0]
    assert line.count("silenced") == 1, line  # churn's none
    # churn's monthly_charges silenced too: each model its own count
    out = pgscore_cli("silence", "churn", "--for", "2h", "--reason", "x", "--subject", "monthly_charges",
                      "--db", db_url)
    assert out.returncode == 0, out.stderr
    (n,), = query(conn, "SELECT count(DISTINCT (what, subject, metric, level)) FROM pgscore.alert_state "
                        "WHERE model = 'churn' AND subject = 'monthly_charges'")
    status = " ".join(pgscore_cli("status", "--db", db_url).stdout.split())
    assert "alerts at the last refresh: a_churn: none at warn or alert, 2 silenced; churn: " in status, status
    line = status.split("; churn: ")[1].split(" (details: ")[0]
    assert line.endswith(f", {n} silenced"), line


def test_pgscore_admin_cannot_unlift_forge_or_stretch_a_silence_by_hand(firing):
    """The admin's INSERT and UPDATE (lifted_at, lifted_by) on the table are what silence_alerts and lift_silence
    run with: by hand they let a lifted silence be put back in force (lifted_at = NULL), a lift or a silence be put
    under another login's name, or a silence made for years. Each is refused; lifting by hand as lift_silence does
    is not."""
    conn = firing
    (lifted,), = query(conn, "SELECT pgscore.silence_alerts('churn', '1 hour', 'lifted')")
    query(conn, "SELECT pgscore.lift_silence(%s)", (lifted,))
    (live,), = query(conn, "SELECT pgscore.silence_alerts('churn', '1 hour', 'in force', p_metric => 'psi')")
    (ended,), = query(conn, "SELECT pgscore.silence_alerts('churn', '1 hour', 'ended', p_starts_at => now() - "
                            "interval '2 hours')")
    conn.autocommit = False
    try:
        cur = conn.cursor()
        cur.execute("SET LOCAL ROLE pgscore_admin")
        for stmt in (f"UPDATE pgscore.alert_silences SET lifted_at = NULL, lifted_by = NULL WHERE id = {lifted}",
                     f"UPDATE pgscore.alert_silences SET lifted_at = now(), lifted_by = 'alice' WHERE id = {lifted}",
                     f"UPDATE pgscore.alert_silences SET lifted_at = now(), lifted_by = 'alice' WHERE id = {live}",
                     f"UPDATE pgscore.alert_silences SET lifted_at = now() - interval '1 day', "
                     f"lifted_by = session_user WHERE id = {live}",
                     # a lift after its end (lift_silence says it ended already: pgscore silences --all said lifted)
                     f"UPDATE pgscore.alert_silences SET lifted_at = now(), lifted_by = session_user WHERE id = {ended}",
                     "INSERT INTO pgscore.alert_silences (model, ends_at, reason, created_by) "
                     "VALUES ('churn', now() + interval '1 hour', 'x', 'alice')",
                     "INSERT INTO pgscore.alert_silences (model, ends_at, reason) "
                     "VALUES ('churn', now() + interval '10 years', 'for good')",
                     "INSERT INTO pgscore.alert_silences (model, ends_at, reason, lifted_at, lifted_by) "
                     "VALUES ('churn', now() + interval '1 hour', 'x', now(), session_user)"):
            cur.execute("SAVEPOINT s")
            with pytest.raises(errors.InsufficientPrivilege) as e:
                cur.execute(stmt)
            assert "pgscore.lift_silence" in (e.value.diag.message_hint or ""), (stmt, e.value.pgerror)
            cur.execute("ROLLBACK TO SAVEPOINT s")
        # lifting by hand as lift_silence does: taken
        cur.execute("UPDATE pgscore.alert_silences SET lifted_at = now(), lifted_by = session_user WHERE id = %s",
                    (live,))
        cur.execute("RESET ROLE")
        cur.execute("SELECT id, lifted_at IS NOT NULL, lifted_by = session_user FROM pgscore.alert_silences "
                    "ORDER BY id")
        assert cur.fetchall() == [(lifted, True, True), (live, True, True), (ended, False, None)]
    finally:
        conn.rollback()
        conn.autocommit = True


def test_silence_says_the_conditions_it_mutes_as_drift_counts_them(firing, db_url):
    """A silence of one window matches a condition that fires in the other windows too: pgscore drift still counts
    it (and exits 1). pgscore silence said it muted every condition it matched in that window ('it mutes N
    conditions firing now (pgscore drift and status do not count them') while drift counted every one still."""
    conn = firing
    out = pgscore_cli("silence", "churn", "--for", "2h", "--reason", "the hourly window is noisy", "--window",
                      "1 hour", "--db", db_url)
    assert out.returncode == 0, out.stderr
    drift = pgscore_cli("drift", "--db", db_url)
    assert drift.returncode == 1 and " silenced\n" not in drift.stdout, drift.stdout  # every one counted still
    (n,), = query(conn, "SELECT count(DISTINCT (what, subject, metric, level)) FROM pgscore.alerts "
                        "WHERE window_name = '1 hour' AND NOT shadow")
    assert n > 0
    assert "it mutes 0 conditions firing now" in out.stdout, out.stdout
    assert f"{n} more it matches fire in other windows too" in " ".join(out.stdout.split()), out.stdout


def test_lifting_a_silence_that_ended_says_so_and_changes_nothing(firing, db_url):
    """lifted_at is 'when it was lifted before its end': lifting one ended already recorded a lift after its end
    (pgscore silences --all then said 'lifted' of a silence that had ended, and pgscore unsilence that the
    conditions it muted count again, which they had since its end)."""
    conn = firing
    (sid,), = query(conn, "SELECT pgscore.silence_alerts('churn', '1 hour', 'ended', "
                          "p_starts_at => now() - interval '2 hours')")
    conn.notices.clear()
    query(conn, "SELECT pgscore.lift_silence(%s)", (sid,))
    assert any(f"silence {sid} ended already" in n for n in conn.notices), conn.notices
    assert query(conn, "SELECT lifted_at, lifted_by FROM pgscore.alert_silences WHERE id = %s", (sid,)) == [(None, None)]
    # (review r3 of session 71) under a login's client_min_messages = warning, which drops lift_silence's NOTICE: it
    # said "silence #N lifted: the conditions it muted count again", read from the NOTICE it did not get
    out = pgscore_cli("unsilence", str(sid), "--db", db_url, env={"PGOPTIONS": "-c client_min_messages=warning"})
    assert out.returncode == 0 and f"silence {sid} ended already" in out.stdout, out.stdout
    listed = pgscore_cli("silences", "--all", "--db", db_url).stdout
    assert "ended" in listed and "lifted" not in listed, listed


def test_each_subject_a_model_has_may_be_silenced(firing):
    conn = firing
    (names,), = query(conn, "SELECT feature_names FROM pgscore.models WHERE name = 'churn'")
    for subject in list(names) + ["score", "outcomes", "outcomes by recorded time", "mix"]:
        query(conn, "SELECT pgscore.silence_alerts('churn', '1 hour', 'x', p_subject => %s)", (subject,))
    assert set(names) | {"score"} >= {s for _, s, *_ in _alerts(conn) if _ in ("feature", "score")}


def test_drift_reads_no_silences_where_no_alert_is_silenced(firing, db_url):
    """pgscore drift's collect read pgscore.alert_silences for the alerts' silence ids even where none is silenced:
    a query for nothing at every report. It reads who silenced and why where an alert is silenced alone (the
    statements it sends recorded by psycopg2's LoggingConnection)."""
    import io

    from psycopg2.extras import LoggingConnection

    from pgscore import report

    sent = io.StringIO()
    conn = psycopg2.connect(db_url, connection_factory=LoggingConnection)
    conn.initialize(sent)
    try:
        data = report.collect(conn, "churn", "1 day", report.check_args(conn, "churn", "1 day"))
        assert data.alerts and all(a["silence_id"] is None and a["silenced_by"] is None for a in data.alerts)
        assert "FROM pgscore.alerts" in sent.getvalue() and "alert_silences" not in sent.getvalue()
        query(firing, "SELECT pgscore.silence_alerts('churn', interval '1 hour', 'retrain under way')")
        data = report.collect(conn, "churn", "1 day", report.check_args(conn, "churn", "1 day"))
        assert "FROM pgscore.alert_silences" in sent.getvalue()
        assert data.alerts and all(a["silence_reason"] == "retrain under way" for a in data.alerts)
    finally:
        conn.close()


def plant_counting_eq(db_url, *types):
    """A database owner's look-alike `=` in public on each of `types`, counting its calls in public.s71_fired (the
    tests of hints pasted into a superuser's psql session whose search_path puts public first)."""
    query(db_url, "CREATE SEQUENCE public.s71_fired; " + "".join(
        f"CREATE FUNCTION public.s71_eq(a {t}, b {t}) RETURNS boolean LANGUAGE plpgsql AS $$ "
        "BEGIN PERFORM pg_catalog.nextval('public.s71_fired'); RETURN a OPERATOR(pg_catalog.=) b; END $$; "
        f"CREATE OPERATOR public.= (LEFTARG = {t}, RIGHTARG = {t}, FUNCTION = public.s71_eq); " for t in types))


def test_the_hints_that_list_a_models_subjects_run_no_look_alike_of_the_owners_pasted_into_psql(db_url, trained):
    """Session 71: the hint of silence_alerts, set_thresholds and drift_threshold_overrides' trigger for a subject the
    model has not (`list them with: SELECT DISTINCT feature FROM pgscore.baselines JOIN pgscore.models USING
    (model_id) WHERE name = 'churn'`) compared a bigint (the join's) and a text with a plain =: pasted into a
    superuser's psql session whose search_path puts the database owner's public ahead of pg_catalog (its ALTER
    DATABASE ... SET search_path), the owner's = (bigint, bigint) and = (text, text) ran as the superuser. It names
    pg_catalog's now, and lists the subjects."""
    X, y, names, model = trained
    registry.deploy(db_url, "churn", model, X, y, feature_names=names)
    plant_counting_eq(db_url, "int8", "text")
    hints = []
    for call in ("SELECT pgscore.silence_alerts('churn', '1 hour', 'x', p_subject => 'zzz')",
                 "SELECT pgscore.set_thresholds('churn', 'psi', 0.1, p_subject => 'zzz')",
                 "INSERT INTO pgscore.drift_threshold_overrides (model, metric, subject, warn) "
                 "VALUES ('churn', 'psi', 'zzz', 0.1)"):
        with pytest.raises(errors.InvalidParameterValue) as e:
            query(db_url, call)
        hints.append(e.value.diag.message_hint.split("list them with: ", 1)[1])
    with psycopg2.connect(db_url) as conn, conn.cursor() as cur:
        cur.execute("SET search_path = public, pg_catalog")  # (as the owner's ALTER DATABASE ... SET search_path)
        cur.execute("SELECT 1::int8 = 2::int8, 'a'::text = 'b'")  # (each look-alike is the one such a session picks)
        cur.execute("SELECT pg_catalog.currval('public.s71_fired')")
        assert cur.fetchone() == (2,)
        for hint in hints:
            cur.execute(hint)
            assert sorted(f for f, in cur.fetchall()) == sorted(names + ["score"]), hint
            cur.execute("SELECT pg_catalog.currval('public.s71_fired')")
            assert cur.fetchone() == (2,), hint  # (before: the owner's = ran for each row)


def test_the_hints_that_list_a_models_versions_name_it_and_run_no_look_alike_of_the_owners_pasted_into_psql(
        db_url, trained):
    """Review r4 of session 71: set_shadow's hint for the live version and version_drift's for a version the model
    has not gave `SELECT version, live FROM pgscore.model_versions WHERE name = ...`, the model left as `...`, and a
    plain = on text, which ran the owner's = (text, text) as the superuser pasting it into a psql session whose
    search_path puts the database owner's public first. They name the model and pg_catalog's = now (0186)."""
    X, y, names, model = trained
    registry.deploy(db_url, "risk.churn-2", model, X, y, feature_names=names)
    plant_counting_eq(db_url, "text")
    hints = []
    for call, pattern in (("SELECT pgscore.set_shadow('risk.churn-2', 1)", r"\((SELECT .*)\)$"),
                          ("SELECT * FROM pgscore.version_drift('risk.churn-2', 7)",
                           r"^(SELECT .*) lists its versions$")):
        with pytest.raises(psycopg2.Error) as e:
            query(db_url, call)
        hint = e.value.diag.message_hint
        assert re.search(pattern, hint), hint
        hints.append(re.search(pattern, hint).group(1))
    with psycopg2.connect(db_url) as conn, conn.cursor() as cur:
        cur.execute("SET search_path = public, pg_catalog")  # (as the owner's ALTER DATABASE ... SET search_path)
        cur.execute("SELECT 'a'::text = 'b'")  # (the look-alike is the one such a session picks)
        cur.execute("SELECT pg_catalog.currval('public.s71_fired')")
        assert cur.fetchone() == (1,)
        for hint in hints:
            cur.execute(hint)
            assert cur.fetchall() == [(1, True)], hint  # (before: the name left as ..., a syntax error)
            cur.execute("SELECT pg_catalog.currval('public.s71_fired')")
            assert cur.fetchone() == (1,), hint
