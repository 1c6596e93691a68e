"""pgscore.health() and pgscore health: a cheap check for a probe, one row (and line) per check."""

import datetime
import re

import psycopg2
import pytest
from psycopg2 import errors
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from helpers import ensure_role, hinted, make_shop, pgscore_cli, query
from pgscore import datasets
from pgscore.cli import build_parser

CHECKS = ["monitoring_refresh", "error_queue", "rescoring", "subscriptions", "shadow_failures", "log_partitions",
          "alerts", "standby", "server_python"]


@pytest.fixture(scope="module")
def trained():
    X, y, _ = datasets.churn(600, seed=5)
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y), X, y


@pytest.fixture(scope="module")
def shop_template(built_template, trained):
    model, X, y = trained
    return built_template(lambda url: make_shop(url, model, X, y, 50, rescore=True).close())


def health(conn_or_url):
    """{check: (state, value, detail)}, in the function's order."""
    rows = query(conn_or_url, "SELECT check_name, state, value, detail FROM pgscore.health()")
    assert [r[0] for r in rows] == CHECKS, rows
    return {r[0]: r[1:] for r in rows}


def states(conn_or_url):
    return {k: v[0] for k, v in health(conn_or_url).items()}


def test_a_fresh_install_is_healthy_and_the_command_exits_0(db_url):
    h = health(db_url)
    assert {k: v[0] for k, v in h.items()} == dict.fromkeys(CHECKS, "ok"), h
    assert h["monitoring_refresh"][1:] == (None, "never refreshed (no live model)")
    assert h["log_partitions"][1] == 7  # install makes today's and the 7 days after it
    run = pgscore_cli("health", "--db", db_url)
    assert run.returncode == 0, (run.stdout, run.stderr)
    lines = run.stdout.splitlines()
    assert lines[0] == "pgscore health: OK (0 fail, 0 warn, 9 ok)", run.stdout
    assert [ln.split()[:2] for ln in lines[1:]] == [["OK", c] for c in CHECKS], run.stdout
    assert "OK error_queue 0: no profile waits" in lines, run.stdout
    assert "OK monitoring_refresh -: never refreshed (no live model)" in lines, run.stdout
    assert "OK standby -: not a standby (not in recovery): this server takes the writes" in lines, run.stdout
    assert ("OK server_python 0: the server's Python imports pgscore: scoring and rescoring can run" in lines), \
        run.stdout


def test_the_checks_of_some_models_alone(shop_template, clone_of):
    """A pipeline's probe of its own model (the data engineer's trial, T16): pgscore health failed on another
    team's model's alerts, wirings and queue. pgscore.health(p_models) and `pgscore health NAME...` count those of
    the names alone; the refresh and the log's partitions stay the database's; a name of no model is 42704 (the
    command: exit 2), not an ok."""
    url = clone_of(shop_template)
    query(url, "SELECT * FROM pgscore.refresh_monitoring()")
    # another model (a copy of churn's version under another name, retired: no live version) that fails
    query(url, "INSERT INTO pgscore.alert_state (model, version, what, subject, window_name, metric, level, shadow) "
               "VALUES ('other', 1, 'feature', 'age', '1 day', 'psi', 'alert', false)")
    query(url, "SELECT pgscore.retire('churn')")
    query(url, "INSERT INTO complaints (customer_id) VALUES (3)")
    every = states(url)
    assert (every["alerts"], every["rescoring"], every["error_queue"]) == ("fail", "fail", "warn"), health(url)
    # a NULL array is every model: health() itself (the refresh's age aside, read at each call)
    assert query(url, "SELECT check_name, state, detail FROM pgscore.health(NULL::text[]) WHERE check_name <> "
                      "'monitoring_refresh'") == \
        query(url, "SELECT check_name, state, detail FROM pgscore.health() WHERE check_name <> 'monitoring_refresh'")
    rows = query(url, "SELECT check_name, state, value FROM pgscore.health(ARRAY['churn'])")
    assert [r[0] for r in rows] == CHECKS, rows
    mine = {r[0]: r[1:] for r in rows}
    assert mine["alerts"] == ("ok", 0) and mine["rescoring"] == ("fail", 1) and mine["error_queue"] == ("warn", 1), mine
    # churn live again, its queue emptied, an alert of its own: its checks see it
    query(url, "INSERT INTO pgscore.alert_state (model, version, what, subject, window_name, metric, level, shadow) "
               "VALUES ('churn', 1, 'score', 'score', '1 day', 'ks', 'alert', false)")
    query(url, "SELECT pgscore.activate('churn', 1)")
    query(url, "DELETE FROM pgscore.error_queue")
    mine = {r[0]: r[1:] for r in query(url, "SELECT check_name, state, value FROM pgscore.health(ARRAY['churn'])")}
    assert mine["alerts"] == ("fail", 1) and mine["rescoring"] == ("ok", 0), mine
    query(url, "DELETE FROM pgscore.alert_state WHERE model = 'churn'")
    run = pgscore_cli("health", "churn", "--db", url)
    assert run.returncode == 0 and run.stdout.startswith("pgscore health: OK (0 fail, 0 warn, 9 ok)\n"), run.stdout
    run = pgscore_cli("health", "--db", url)  # every model: 'other''s alert
    assert run.returncode == 1 and "\nFAIL alerts 1: " in run.stdout and "other: 1 at alert" in run.stdout, run.stdout
    # names of no model
    # (a NULL among them named none either: ARRAY[NULL] passed the check, matched nothing and said every check ok)
    for names in (["nope"], ["churn", "nope", "zz"], [], [None], ["churn", None]):
        with pytest.raises(errors.UndefinedObject) as e:
            query(url, "SELECT * FROM pgscore.health(%s::text[])", (names,))
        assert str(e.value).startswith("pgscore.health: no model named "), e.value
    assert "'nope', 'zz'" in str(pytest.raises(errors.UndefinedObject, query, url,
                                               "SELECT * FROM pgscore.health(ARRAY['churn', 'nope', 'zz'])").value)
    run = pgscore_cli("health", "nope", "--db", url)
    assert run.returncode == 2 and "no model named 'nope'" in run.stderr, (run.stdout, run.stderr)


def test_the_error_queue_check_says_what_rescores_which_queued_profile(shop_template, clone_of):
    """Session 65, review r3 (trial T18 finding 4): the error_queue check said `pgscore retry rescores them` of every
    queued profile, those of no wiring too (retry does not: it exits 1, they belong to no wiring) and those of a
    tenant's profile table dropped with its schema (nothing ever will: pgscore status gives the DELETE). It says
    which: retry those of a wiring, an attach_rescoring those of no wiring, nothing those of a table that is gone."""
    url = clone_of(shop_template)
    tail = "SELECT * FROM pgscore.error_queue for why; "
    query(url, "UPDATE customers SET age = NULL WHERE id IN (3, 4, 5, 6)")
    query(url, "INSERT INTO complaints (customer_id) VALUES (3), (4)")  # queued (age is NULL), of wiring 1
    detail = health(url)["error_queue"][2]
    assert detail.startswith("2 profile(s) wait, ") and detail.endswith(tail + "pgscore retry rescores them"), detail
    query(url, "CREATE SCHEMA tenant_c; CREATE TABLE tenant_c.customers (LIKE public.customers INCLUDING ALL); "
               "CREATE TABLE tenant_c.complaints (LIKE public.complaints INCLUDING ALL); "
               "INSERT INTO tenant_c.customers SELECT * FROM public.customers WHERE id IN (5, 6)")
    query(url, "SELECT pgscore.attach_rescoring('tenant_c.complaints', 'tenant_c.customers', 'customer_id', 'churn', "
               "'churn_score', '{\"support_calls\": \"count\"}', p_profile_key => 'id')")
    query(url, "INSERT INTO tenant_c.complaints (customer_id) VALUES (5), (6)")
    query(url, "SELECT pgscore.detach_rescoring('tenant_c.complaints')")
    state, value, detail = health(url)["error_queue"]
    assert (state, value) == ("warn", 4), (state, value, detail)
    assert detail.endswith(", 2 of no wiring: " + tail + "pgscore retry rescores those of a wiring; 2 of no wiring "
                           "wait for the next attach_rescoring of their profile table"), detail
    query(url, "DROP SCHEMA tenant_c CASCADE")
    detail = health(url)["error_queue"][2]
    assert detail.endswith(", 2 of no wiring: " + tail + "pgscore retry rescores those of a wiring; 2 of no wiring "
                           "name a profile table that no longer exists: nothing can rescore them, pgscore status "
                           "gives the DELETE that clears them"), detail
    query(url, "DELETE FROM pgscore.error_queue WHERE rescoring_id IS NOT NULL")
    detail = health(url)["error_queue"][2]
    assert detail.endswith(", 2 of no wiring: " + tail + "2 of no wiring name a profile table that no longer exists: "
                           "nothing can rescore them, pgscore status gives the DELETE that clears them"), detail
    query(url, "DELETE FROM pgscore.error_queue WHERE rescoring_id IS NULL AND pg_catalog.to_regclass(profile_table) "
               "IS NULL")  # as pgscore status prints it
    assert health(url)["error_queue"][:2] == ("ok", 0)


def test_the_error_queue_check_names_the_sqlstate_most_queued_profiles_share(shop_template, clone_of):
    """Session 67, trial T23 (h2), migration 0165: the audit log's volume full, 572 profiles were queued with SQLSTATE
    53100, and the check said `572 profile(s) wait, ..., the most tried 6 time(s): SELECT * FROM pgscore.error_queue
    for why`: how many, not why. It names the SQLSTATE most of them share and how many (a code: the function returns
    no reason's text), of the models asked for alone where some are named."""
    url = clone_of(shop_template)
    query(url, "UPDATE customers SET age = NULL WHERE id IN (3, 4)")
    query(url, "INSERT INTO complaints (customer_id) VALUES (3), (4)")  # queued: age is NULL (22023)
    query(url, "SELECT pgscore.retire('churn')")
    query(url, "INSERT INTO complaints (customer_id) VALUES (5)")  # another reason: no live version
    states_ = dict(query(url, "SELECT sqlstate, count(*) FROM pgscore.error_queue GROUP BY 1"))
    assert states_.get("22023") == 2 and len(states_) == 2, states_
    tail = ": SELECT * FROM pgscore.error_queue for why; pgscore retry rescores them"
    state, value, detail = health(url)["error_queue"]
    assert (state, value) == ("warn", 3) and detail.endswith(", the most tried 1 time(s), 2 with SQLSTATE 22023" + tail), \
        detail
    (detail,), = query(url, "SELECT detail FROM pgscore.health(ARRAY['churn']) WHERE check_name = 'error_queue'")
    assert detail.endswith(", 2 with SQLSTATE 22023" + tail), detail
    query(url, "UPDATE pgscore.error_queue SET sqlstate = NULL")  # none kept: (0173) said so, as pgscore status does
    assert health(url)["error_queue"][2].endswith(", the most tried 1 time(s), 3 with no SQLSTATE" + tail)


def test_the_error_queue_check_and_status_name_the_same_largest_group_where_it_has_no_sqlstate(shop_template,
                                                                                                clone_of):
    """Session 67's leftover (h4, session 68): where the rows without a SQLSTATE were the largest group, the check
    named a smaller group's code as the one most share (0165 left the NULLs out) and pgscore status said `SQLSTATE
    none`: two answers to one question. Both count them as a group now. A pgscore_reader, which may call health() and
    may not read pgscore.error_queue (its reasons may name keys), was told to SELECT from it: it is told who may;
    a role that may read it is not."""
    url = clone_of(shop_template)
    query(url, "UPDATE customers SET age = NULL WHERE id IN (3, 4, 5)")
    query(url, "INSERT INTO complaints (customer_id) VALUES (3), (4), (5)")  # queued: age is NULL (22023)
    query(url, "UPDATE pgscore.error_queue SET sqlstate = NULL WHERE entity_key IN ('3', '4')")
    detail = health(url)["error_queue"][2]
    assert ", 2 with no SQLSTATE: SELECT * FROM pgscore.error_queue for why; " in detail, detail
    run = pgscore_cli("status", "--db", url)
    assert "; 2 of them with no SQLSTATE, the latest: " in run.stdout, run.stdout
    c = psycopg2.connect(url)
    try:
        c.autocommit = True
        with c.cursor() as cur:
            cur.execute("SET ROLE pgscore_reader")
            cur.execute("SELECT detail FROM pgscore.health() WHERE check_name = 'error_queue'")
            (said,), = cur.fetchall()
            with pytest.raises(errors.InsufficientPrivilege):
                cur.execute("SELECT 1 FROM pgscore.error_queue")
            cur.execute("RESET ROLE; SET ROLE pgscore_app")
            cur.execute("SELECT detail FROM pgscore.health() WHERE check_name = 'error_queue'")
            (app,), = cur.fetchall()
    finally:
        c.close()
    assert ("SELECT * FROM pgscore.error_queue for why (as pgscore_app or pgscore_admin, or pgscore status run as "
            "one: this role may not read it, its reasons may name keys); pgscore retry rescores them") in said, said
    ago = re.compile(r"\(\d+:\d\d:\d\d ago\)")  # (seconds pass between the two reads)
    assert ago.sub("", app) == ago.sub("", detail), app
    # forget_rescoring's COMMENT names the rows it keeps for a profile table renamed since (session 67, 0169)
    (comment,), = query(url, "SELECT obj_description('pgscore.forget_rescoring(bigint)'::regprocedure, 'pg_proc')")
    assert "renamed since stay, by the OID they keep, for an attach_rescoring of it under its new name" in comment, \
        comment


def test_the_error_queue_check_says_the_next_attach_deletes_the_queue_of_a_profile_table_made_again(shop_template,
                                                                                                      clone_of):
    """Session 66, review r4: queued errors of no wiring (a detach) whose profile table was dropped and made again
    under its name: the check said they "wait for the next attach_rescoring of their profile table", which deletes
    them since migration 0160 (they were queued for the dropped table). It says so, by the table's OID; a row queued
    by the code before 0160 (no OID kept) keeps the by-name wording."""
    url = clone_of(shop_template)
    tail = "SELECT * FROM pgscore.error_queue for why; "
    query(url, "CREATE SCHEMA tenant_c; CREATE TABLE tenant_c.customers (LIKE public.customers INCLUDING ALL); "
               "CREATE TABLE tenant_c.complaints (LIKE public.complaints INCLUDING ALL); "
               "INSERT INTO tenant_c.customers SELECT * FROM public.customers WHERE id IN (5, 6); "
               "UPDATE tenant_c.customers SET age = NULL")
    query(url, "SELECT pgscore.attach_rescoring('tenant_c.complaints', 'tenant_c.customers', 'customer_id', 'churn', "
               "'churn_score', '{\"support_calls\": \"count\"}', p_profile_key => 'id')")
    query(url, "INSERT INTO tenant_c.complaints (customer_id) VALUES (5), (6)")  # queued: age is NULL
    query(url, "SELECT pgscore.detach_rescoring('tenant_c.complaints')")
    query(url, "DROP TABLE tenant_c.customers")
    query(url, "CREATE TABLE tenant_c.customers (LIKE public.customers INCLUDING ALL)")
    state, value, detail = health(url)["error_queue"]
    assert (state, value) == ("warn", 2), (state, value, detail)
    assert detail.endswith(", 2 of no wiring: " + tail + "2 of no wiring were queued for a profile table dropped "
                           "since, another made under its name: nothing can rescore them, the next attach_rescoring "
                           "of that table deletes them; pgscore status gives the DELETE that clears them"), detail
    # rows queued by the code before 0160 keep no OID: matched by name, the next attach takes them over
    query(url, "UPDATE pgscore.error_queue SET profile_oid = NULL")
    detail = health(url)["error_queue"][2]
    assert detail.endswith(", 2 of no wiring: " + tail + "2 of no wiring wait for the next attach_rescoring of their "
                           "profile table"), detail


def test_each_check_warns_and_fails_and_the_command_exits_1(shop_template, clone_of):
    url = clone_of(shop_template)
    query(url, "SELECT * FROM pgscore.refresh_monitoring()")
    assert states(url) == dict.fromkeys(CHECKS, "ok"), health(url)
    # the monitoring: refreshed 20 minutes ago warns, 2 hours ago fails
    query(url, "UPDATE pgscore.monitoring_state SET refreshed_at = now() - interval '20 minutes'")
    state, value, detail = health(url)["monitoring_refresh"]
    assert (state, round(value)) == ("warn", 1200) and detail.startswith("last refresh 00:20:00 ago"), detail
    query(url, "UPDATE pgscore.monitoring_state SET refreshed_at = now() - interval '2 hours'")
    assert states(url)["monitoring_refresh"] == "fail"
    query(url, "UPDATE pgscore.monitoring_state SET refreshed_at = now()")
    # a wired model retired: the wiring fails; its events are kept and their profiles queued (warn, then fail
    # once the oldest has waited over an hour)
    query(url, "SELECT pgscore.retire('churn')")
    query(url, "INSERT INTO complaints (customer_id) VALUES (3), (4)")
    h = health(url)
    assert h["rescoring"][:2] == ("fail", 1), h["rescoring"]
    assert ("wiring 1: public.complaints -> public.customers: model 'churn' has no live version (events are kept"
            in h["rescoring"][2]), h["rescoring"]
    assert h["error_queue"][:2] == ("warn", 2), h["error_queue"]
    assert "2 profile(s) wait, the oldest since " in h["error_queue"][2]
    query(url, "UPDATE pgscore.error_queue SET first_failed_at = now() - interval '2 hours'")
    assert states(url)["error_queue"] == "fail"
    run = pgscore_cli("health", "--db", url)
    assert run.returncode == 1, (run.stdout, run.stderr)
    assert run.stdout.startswith("pgscore health: FAIL (2 fail, 0 warn, 7 ok)\n"), run.stdout
    assert "\nFAIL rescoring 1: wiring 1: public.complaints -> public.customers: " in run.stdout, run.stdout
    assert "\nFAIL error_queue 2: 2 profile(s) wait" in run.stdout, run.stdout
    # pgscore status reports and exits 0 (it ran); its last line gives the checks that are not ok
    run = pgscore_cli("status", "--db", url)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-1] == (f"health: FAIL: error_queue fail, rescoring fail (pgscore {hinted(url)}"
                                           "health; status exits 0 whatever it finds)"), run.stdout
    query(url, "SELECT pgscore.activate('churn', 1)")
    query(url, "DELETE FROM pgscore.error_queue")
    # the trigger disabled (the wiring's, by its name in pgscore.rescoring)
    (trigger,), = query(url, "SELECT trigger_name FROM pgscore.rescoring")
    query(url, f'ALTER TABLE complaints DISABLE TRIGGER "{trigger}"')
    assert "its trigger is dropped or disabled" in health(url)["rescoring"][2]
    query(url, f'ALTER TABLE complaints ENABLE TRIGGER "{trigger}"')
    assert states(url) == dict.fromkeys(CHECKS, "ok"), health(url)
    # a shadow's failures in the last day warn; older ones do not
    query(url, "INSERT INTO pgscore.shadow_failures VALUES (1, 'public.customers', '22P02', 1, 3, 7, now(), now(), "
               "'x'), (1, 'public.customers', '42703', 2, 1, 5, now() - interval '3 days', now() - interval '2 days', "
               "'y')")
    state, value, detail = health(url)["shadow_failures"]
    assert (state, value) == ("warn", 7) and detail.startswith("churn v1 on public.customers: 7 profile(s), "), detail
    query(url, "DELETE FROM pgscore.shadow_failures WHERE sqlstate = '22P02'")
    assert states(url)["shadow_failures"] == "ok"
    # the log's partitions: none for tomorrow warns, none for today fails
    (today,), = query(url, "SELECT (now() AT TIME ZONE 'UTC')::date")
    query(url, f"DROP TABLE pgscore.prediction_log_{today + datetime.timedelta(1):%Y%m%d}")
    assert health(url)["log_partitions"][:2] == ("warn", 7)
    query(url, f"DROP TABLE pgscore.prediction_log_{today:%Y%m%d}")
    state, _, detail = health(url)["log_partitions"]
    assert state == "fail" and detail.startswith(f"no partition for today ({today:%Y-%m-%d} UTC)"), detail
    query(url, "SELECT pgscore.create_log_partitions(7)")
    # the alerts the last refresh stored: a live version's at alert fails, at warn warns, a silenced one is not
    # counted, a shadow's neither
    query(url, "INSERT INTO pgscore.alert_state (model, version, what, subject, window_name, metric, level, shadow) "
               "VALUES ('churn', 1, 'feature', 'age', '1 day', 'psi', 'warn', false), "
               "('churn', 2, 'feature', 'age', '1 day', 'psi', 'alert', true)")
    state, value, detail = health(url)["alerts"]
    assert (state, value) == ("warn", 0) and "churn: 0 at alert, 1 at warn" in detail, detail
    query(url, "INSERT INTO pgscore.alert_state (model, version, what, subject, window_name, metric, level, shadow) "
               "SELECT 'churn', 1, 'score', 'score', w, 'ks', 'alert', false FROM unnest(ARRAY['1 hour', '1 day']) w")
    assert health(url)["alerts"][:2] == ("fail", 1)  # one condition, in two windows
    query(url, "SELECT pgscore.silence_alerts('churn', '1 hour', 'INC-1', p_metric => 'ks')")
    assert health(url)["alerts"][:2] == ("warn", 0)
    run = pgscore_cli("health", "--db", url)
    assert run.returncode == 1 and run.stdout.startswith("pgscore health: WARN (0 fail, 1 warn, 8 ok)\n"), run.stdout


def test_it_reads_no_log_and_a_reader_may_run_it(shop_template, clone_of):
    """Cheap: no partition of the audit log is read (no drift computed); run as its owner, so that a monitoring
    login granted pgscore_reader alone calls it (and the command runs as it), a role granted nothing may not."""
    url = clone_of(shop_template)
    query(url, "INSERT INTO complaints (customer_id) SELECT g % 50 + 1 FROM generate_series(1, 200) g")
    query(url, "SELECT * FROM pgscore.refresh_monitoring()")
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM pgscore.health()")
            cur.execute("SELECT relname, seq_scan, idx_scan FROM pg_stat_xact_all_tables "
                        "WHERE relname LIKE 'prediction_log%%' AND seq_scan + coalesce(idx_scan, 0) > 0 "
                        "OR relname IN ('drift_rollup', 'drift_rollup_day', 'outcomes', 'baselines') "
                        "AND seq_scan + coalesce(idx_scan, 0) > 0")
            assert cur.fetchall() == []
            # (the same read counts a scan of the log: the check can fail)
            cur.execute("SELECT count(*) FROM pgscore.prediction_log")
            cur.execute("SELECT count(*) FROM pg_stat_xact_all_tables WHERE relname LIKE 'prediction_log%%' "
                        "AND seq_scan > 0")
            assert cur.fetchone()[0] > 0
    finally:
        conn.rollback()
        conn.close()
    ensure_role(url, "health_probe", login=True)
    ensure_role(url, "health_nobody", login=True)
    query(url, "GRANT pgscore_reader TO health_probe")
    try:
        probe = url.replace("postgresql://postgres@", "postgresql://health_probe@")
        assert states(probe) == dict.fromkeys(CHECKS, "ok")
        run = pgscore_cli("health", "--db", probe)
        assert run.returncode == 0, (run.stdout, run.stderr)
        with pytest.raises(errors.InsufficientPrivilege):
            query(url.replace("postgresql://postgres@", "postgresql://health_nobody@"), "SELECT * FROM pgscore.health()")
        run = pgscore_cli("health", "--db", url.replace("postgresql://postgres@", "postgresql://health_nobody@"))
        assert run.returncode == 3, (run.stdout, run.stderr)
        assert "permission denied for schema pgscore (SQLSTATE 42501)" in run.stderr, run.stderr
        assert "pgscore health needs a role granted pgscore_reader, pgscore_app or pgscore_admin" in run.stderr
    finally:
        query(url, "REVOKE pgscore_reader FROM health_probe")


def test_the_command_exits_3_where_pgscore_is_not_installed_or_no_server_answers(empty_db_url):
    run = pgscore_cli("health", "--db", empty_db_url)
    assert run.returncode == 3, (run.stdout, run.stderr)
    assert run.stdout == ""
    assert "pgscore is not installed in this database" in run.stderr, run.stderr
    run = pgscore_cli("health", "--db", "postgresql://postgres@127.0.0.1:1/nope")  # no server answers
    assert run.returncode == 3 and "cannot connect to the database" in run.stderr, (run.stdout, run.stderr)
    assert "Traceback" not in run.stderr


def test_a_probe_blocked_by_a_lock_or_a_server_that_does_not_answer_exits_3_in_its_timeout(db_url):
    """pgscore health had no lock, statement or connect timeout: a session holding a lock on a table pgscore.health()
    reads (a migration's, a LOCK TABLE left in an open transaction), or a server that took the connection and never
    answered, held the probe for ever (session 64, T14's leftovers), which a Nagios or a load balancer's check reads
    as no verdict at all. It waits --timeout (10s by default; 0 for ever), then exits 3 (Nagios's UNKNOWN) saying it
    could not tell in time, and why."""
    import socket

    holder = psycopg2.connect(db_url)
    try:
        holder.cursor().execute("LOCK TABLE pgscore.monitoring_state IN ACCESS EXCLUSIVE MODE")
        run = pgscore_cli("health", "--db", db_url, "--timeout", "1s", timeout=120)
        assert run.returncode == 3, (run.stdout, run.stderr)
        assert run.stdout == ""
        assert "pgscore: error: pgscore health could not tell in 1s whether pgscore is healthy: a lock another " \
               "session holds on a table pgscore.health() reads (55P03, lock_timeout)\nHint: see who holds locks on " \
               "pgscore's tables: SELECT l.relation::pg_catalog.regclass, l.mode, a.pid" in run.stderr, run.stderr
        assert "--timeout sets how long the check waits (0 for ever)" in run.stderr, run.stderr
        run = pgscore_cli("health", "--db", db_url, timeout=120)  # (the default, 10s)
        assert run.returncode == 3, (run.stdout, run.stderr)
        assert "could not tell in 10s whether pgscore is healthy: a lock another session holds" in run.stderr, \
            run.stderr
    finally:
        holder.close()
    assert pgscore_cli("health", "--db", db_url, "--timeout", "0").returncode in (0, 1)
    # the longest --timeout it takes (lock_timeout's int of milliseconds): its statement_timeout, 500 ms longer, was
    # past the int and the server refused it (22023, exit 3: 'invalid value for parameter "statement_timeout"')
    run = pgscore_cli("health", "--db", db_url, "--timeout", "2147483647ms")
    assert run.returncode in (0, 1), (run.stdout, run.stderr)
    mute = socket.socket()  # a server that takes the connection and never answers
    mute.bind(("127.0.0.1", 0))
    mute.listen(1)
    try:
        run = pgscore_cli("health", "--db", f"postgresql://postgres@127.0.0.1:{mute.getsockname()[1]}/pgscore",
                          "--timeout", "1s", timeout=120)
    finally:
        mute.close()
    assert run.returncode == 3, (run.stdout, run.stderr)
    assert "pgscore health could not tell in 1s whether pgscore is healthy: the server did not answer" in run.stderr, \
        run.stderr
    assert "Traceback" not in run.stderr


def test_status_blocked_by_a_lock_stops_in_its_timeout_naming_the_check_and_the_holder(db_url):
    """pgscore status ran pgscore.health() (and its own reads) with no lock or statement timeout: a session holding
    a lock on a table one of them reads (a LOCK TABLE left in an open transaction, a migration's) held status for
    ever (session 64's leftovers). It has health's --timeout now (10s by default; 0 for ever): it stops when a wait
    runs out, exit 1, saying what it was reading (in pgscore.health(), the check) and which session holds the lock.
    Each case waits 1 s."""
    holder = psycopg2.connect(db_url)
    try:
        cur = holder.cursor()
        cur.execute("SELECT pg_backend_pid(), current_user")
        pid, who = cur.fetchone()
        # alert_state: read by health()'s alerts check, and by status itself only after a refresh (none here)
        cur.execute("LOCK TABLE pgscore.alert_state IN ACCESS EXCLUSIVE MODE")
        run = pgscore_cli("status", "--db", db_url, "--timeout", "1s", timeout=60)
        assert run.returncode == 1, (run.stdout, run.stderr)
        assert "pgscore schema: revision" in run.stdout and "health:" not in run.stdout, run.stdout  # (up to there)
        assert "pgscore: error: pgscore status could not tell in 1s: reading pgscore.health()'s check alerts, it " \
               "waited for a lock another session holds (55P03, lock_timeout)\n" in run.stderr, run.stderr
        assert f"Hint: pgscore.alert_state is locked (AccessExclusiveLock) by server process {pid} (role {who}, " \
               "idle in transaction, in a transaction open since " in run.stderr, run.stderr
        assert "--timeout sets how long each of its waits lasts (0 for ever)" in run.stderr, run.stderr
        holder.rollback()
        # a table status reads itself, before the health line: named as what it was reading
        cur.execute("LOCK TABLE pgscore.error_queue IN ACCESS EXCLUSIVE MODE")
        run = pgscore_cli("status", "--db", db_url, "--timeout", "1s", timeout=60)
        assert run.returncode == 1 and "could not tell in 1s: reading the rescoring wirings and the error queue " \
            "(pgscore.rescoring, error_queue), it waited for a lock" in run.stderr, (run.stdout, run.stderr)
        assert "Hint: pgscore.error_queue is locked" in run.stderr, run.stderr
        holder.rollback()
        # the first read, through migrate's own connection (a migration holds the version table's lock)
        cur.execute("LOCK TABLE pgscore_alembic_version IN ACCESS EXCLUSIVE MODE")
        run = pgscore_cli("status", "--db", db_url, "--timeout", "1s", timeout=60)
        assert run.returncode == 1 and run.stdout == "" and "could not tell in 1s: reading whether pgscore is " \
            "installed (its version table, pgscore_alembic_version), it waited for a lock" in run.stderr, \
            (run.stdout, run.stderr)
        assert "Traceback" not in run.stderr
    finally:
        holder.close()
    run = pgscore_cli("status", "--db", db_url, "--timeout", "0")  # (0 waits for ever: nothing holds a lock now)
    assert run.returncode == 0 and "\nhealth: OK" in run.stdout, (run.stdout, run.stderr)
    assert build_parser().parse_args(["status"]).timeout == "10s"  # (the default, as health's)
    assert pgscore_cli("status", "--timeout", "5").returncode == 2  # (a duration with its unit, as health's)


def test_status_stopped_by_a_timeout_of_the_sessions_own_says_so_not_that_its_timeout_ran_out(db_url):
    """pgscore status gives every connection its --timeout's lock_timeout and pgscore.health() alone a
    statement_timeout; a statement_timeout of the session's own (PGOPTIONS, the URL's options, ALTER ROLE ... SET: a
    DBA's cap) or its lock_timeout under --timeout 0 that ran out was said as status's: `could not tell in 0`
    (`in 10s`) `... (57014, statement_timeout)` with the hint `--timeout sets how long each of its waits lasts`,
    which no --timeout changes (review r2 of session 65). Said as the session's own setting now. Waits 0.5 s."""
    # a statement_timeout of 1 ms: validate_environment() (the server importing its Python) alone outlasts it
    for timeout in ("0", "10s"):
        run = pgscore_cli("status", "--db", db_url, "--timeout", timeout, env={"PGOPTIONS": "-c statement_timeout=1ms"},
                          timeout=60)
        assert run.returncode == 1 and "pgscore: error: pgscore status stopped: reading " in run.stderr, \
            (run.stdout, run.stderr)
        assert "canceling statement due to statement timeout (57014), not in its --timeout: status sets no " \
               "statement_timeout on its own reads (only on pgscore.health()); a statement_timeout of the session's " \
               "own (PGOPTIONS, " in run.stderr, run.stderr
        assert "could not tell" not in run.stderr and "--timeout sets" not in run.stderr, run.stderr
        assert "Hint: SHOW statement_timeout says the session's; run status with it lifted " \
               "(PGOPTIONS='-c statement_timeout=0', " in run.stderr, run.stderr
    holder = psycopg2.connect(db_url)
    try:
        holder.cursor().execute("LOCK TABLE pgscore.alert_state IN ACCESS EXCLUSIVE MODE")
        run = pgscore_cli("status", "--db", db_url, "--timeout", "0", env={"PGOPTIONS": "-c lock_timeout=500ms"},
                          timeout=60)
    finally:
        holder.close()
    assert run.returncode == 1 and "pgscore status stopped: reading pgscore.health()" in run.stderr, \
        (run.stdout, run.stderr)
    assert "canceling statement due to lock timeout (55P03), not in its --timeout: status sets no lock_timeout " \
           "with --timeout 0; a lock_timeout of the session's own" in run.stderr, run.stderr
    assert "could not tell" not in run.stderr and "pg_cancel_backend" not in run.stderr, run.stderr


def test_status_timeout_keeps_the_options_of_pgoptions_and_of_a_service_file(db_url, tmp_path):
    """status --timeout gives the server its lock_timeout in the connection's options, which replace those libpq
    would take otherwise: PGOPTIONS' (kept since 84d7a6d, checked by hand only) and a service file's (pg_service.conf,
    `--db service=NAME`: dropped, review r2 of session 65). Each is kept now: a statement_timeout of 1 ms there stops
    status (validate_environment() outlasts it), as it stops any of that session's queries."""
    from psycopg2.extensions import parse_dsn

    from pgscore import migrate

    where = parse_dsn(migrate.libpq_dsn(db_url))
    (tmp_path / "pg_service.conf").write_text(
        "[r2svc]\n" + "".join(f"{k}={where[k]}\n" for k in ("host", "port", "user", "dbname") if k in where)
        + "options=-c statement_timeout=1ms\n")
    for args, env in ((["--db", "service=r2svc"], {"PGSERVICEFILE": str(tmp_path / "pg_service.conf")}),
                      (["--db", db_url], {"PGOPTIONS": "-c statement_timeout=1ms"})):
        run = pgscore_cli("status", *args, "--timeout", "10s", env=env, timeout=60)
        assert run.returncode == 1 and "canceling statement due to statement timeout (57014)" in run.stderr, \
            (args, run.stdout, run.stderr)
    # (without the setting the service's status runs through)
    (tmp_path / "pg_service.conf").write_text(
        "[r2svc]\n" + "".join(f"{k}={where[k]}\n" for k in ("host", "port", "user", "dbname") if k in where))
    run = pgscore_cli("status", "--db", "service=r2svc", "--timeout", "10s",
                      env={"PGSERVICEFILE": str(tmp_path / "pg_service.conf")}, timeout=60)
    assert run.returncode == 0 and "\nhealth: " in run.stdout, (run.stdout, run.stderr)


def test_health_timeout_is_a_duration_with_its_unit():
    run = pgscore_cli("health", "--timeout", "5")
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert "pgscore health: error: argument --timeout: give '5' a unit: 5s or 5min" in run.stderr, run.stderr


@pytest.mark.parametrize("style", ["iso_8601", "postgres_verbose", "sql_standard"])
def test_the_checks_say_their_ages_alike_under_every_interval_style(shop_template, clone_of, style):
    """Session 66's trial T21 (finding 3): the refresh's and the error queue's ages were printed in the caller's
    IntervalStyle (a role's, PGOPTIONS'): `last refresh PT1M21S ago` under iso_8601, `@ 13 secs ago` under
    postgres_verbose, where a probe reading the text (and the docs) had `00:00:25 ago`. They read alike now."""
    url = clone_of(shop_template)
    query(url, "SELECT * FROM pgscore.refresh_monitoring()")
    query(url, "UPDATE pgscore.monitoring_state SET refreshed_at = now() - interval '1 day 2 hours 3 minutes'")
    query(url, "UPDATE customers SET age = NULL WHERE id = 3")
    query(url, "INSERT INTO complaints (customer_id) VALUES (3)")  # queued (age is NULL)
    query(url, "UPDATE pgscore.error_queue SET first_failed_at = now() - interval '2 hours'")
    conn = psycopg2.connect(url)
    try:
        conn.autocommit = True
        query(conn, f"SET IntervalStyle = {style}")
        got = dict(query(conn, "SELECT check_name, detail FROM pgscore.health() "
                               "WHERE check_name IN ('monitoring_refresh', 'error_queue')"))
    finally:
        conn.close()
    # (the seconds: the statements' own, a second or two after the UPDATEs)
    assert re.match(r"last refresh 1 day 02:03:0\d ago \(", got["monitoring_refresh"]), got
    assert re.search(r" \(02:00:0\d ago\)", got["error_queue"]), got
    run = pgscore_cli("health", "--db", url, env={"PGOPTIONS": f"-c IntervalStyle={style}"})
    assert re.search(r"last refresh 1 day 02:03:0\d ago \(", run.stdout), run.stdout + run.stderr


@pytest.mark.parametrize("datestyle", ["German", "SQL, DMY", "SQL, MDY", "Postgres, DMY"])
def test_the_log_partitions_check_says_its_days_alike_under_every_datestyle(db_url, datestyle):
    """Review r5 of session 66 (trial T21): the log_partitions check's days were printed in the caller's DateStyle,
    `daily partitions until 14.12.2026 (UTC)` under a role's German, `14/12/2026` under 'SQL, DMY' and `12/14/2026`
    under 'SQL, MDY' (psql's probe; psycopg2, and so pgscore health, sets ISO), where 0159 made its ages read alike
    under every IntervalStyle. They are ISO now, in each of its three details."""
    drop_from = ("DO $$ DECLARE r record; BEGIN FOR r IN SELECT c.relname FROM pg_inherits i JOIN pg_class c "
                 "ON c.oid = i.inhrelid WHERE i.inhparent = 'pgscore.prediction_log'::regclass AND c.relname "
                 "~ '^prediction_log_[0-9]{8}$' AND right(c.relname, 8) >= to_char((now() AT TIME ZONE 'UTC')::date "
                 "+ %s, 'YYYYMMDD') LOOP EXECUTE format('DROP TABLE pgscore.%%I', r.relname); END LOOP; END $$")
    for state, drop in (("ok", None), ("warn", 1), ("fail", 0)):
        if drop is not None:
            query(db_url, drop_from % drop)
        (iso_day,), = query(db_url, "SELECT to_char((now() AT TIME ZONE 'UTC')::date + %s, 'YYYY-MM-DD')",
                            (7 if drop is None else drop,))
        conn = psycopg2.connect(db_url)
        try:
            conn.autocommit = True
            query(conn, f"SET DateStyle = '{datestyle}'")
            got = query(conn, "SELECT state, detail FROM pgscore.health() WHERE check_name = 'log_partitions'")
        finally:
            conn.close()
        assert got[0][0] == state and iso_day in got[0][1], (state, got)


def test_a_server_whose_python_cannot_import_pgscore_fails_the_check(shop_template, clone_of):
    """An on-call SRE's trial (session 68, h2): the server restarted without the PYTHONPATH that names pgscore's
    environment (`pg_ctl restart` from a shell, a lost environment file): every INSERT into a wired event table
    failed with 58P01 (238 refused in 50 s under a load of single-row INSERTs) and every score did, while `pgscore
    health` said `OK rescoring 0: 1 wiring(s), each rescoring` and exited 0 (or 1 for an unrelated alert). The
    server_python check imports pgscore's PL/Python module in the probe's own session, as scoring does: fail.
    The session's Python is made unable to import it (sys.modules' None), as a server started without it is."""
    shop = psycopg2.connect(clone_of(shop_template))  # (one session: its Python is the one made unable)
    shop.autocommit = True
    assert health(shop)["server_python"][:2] == ("ok", 0)
    query(shop, "DO $$ import sys; sys.modules['pgscore.pl'] = None $$ LANGUAGE plpython3u")
    with pytest.raises(psycopg2.Error) as e:  # (what the application meets: its event refused)
        query(shop, "INSERT INTO complaints (customer_id) VALUES (3)")
    assert e.value.pgcode == "58P01", e.value
    state, value, detail = health(shop)["server_python"]
    assert (state, value) == ("fail", 1), detail
    assert detail.startswith("the server's Python cannot import pgscore (import of pgscore.pl halted; None in "
                             "sys.modules): every score, and every INSERT into a wired event table, fails with 58P01 "
                             "until the server is restarted with PYTHONPATH naming the site-packages directory of "
                             "pgscore's environment"), detail
    assert query(shop, "SELECT state FROM pgscore.health(ARRAY['churn']) WHERE check_name = 'server_python'") == \
        [("fail",)]
    shop.close()


def test_health_json_is_one_document_a_scraper_parses(shop_template, clone_of):
    """An on-call SRE's trial (session 68, h2): `pgscore health` had no --json (deploy, models and show have one); a
    scraper or a Nagios plugin parsed `STATE CHECK VALUE: detail` lines. --json prints one JSON document: the
    verdict, the counts and each check with its state, value (null for none) and detail; the exit codes are
    unchanged."""
    import json

    url = clone_of(shop_template)
    query(url, "SELECT pgscore.retire('churn')")
    query(url, "INSERT INTO complaints (customer_id) VALUES (3)")
    run = pgscore_cli("health", "--json", "--db", url)
    assert run.returncode == 1, (run.stdout, run.stderr)
    doc = json.loads(run.stdout)
    assert (doc["verdict"], doc["fail"], doc["warn"], doc["ok"]) == ("FAIL", 1, 1, 7), doc
    assert [c["check"] for c in doc["checks"]] == CHECKS, doc
    checks = {c["check"]: c for c in doc["checks"]}
    assert (checks["rescoring"]["state"], checks["rescoring"]["value"]) == ("fail", 1), checks
    assert (checks["error_queue"]["state"], checks["error_queue"]["value"]) == ("warn", 1), checks
    assert checks["standby"]["value"] is None and checks["standby"]["detail"].startswith("not a standby"), checks
    # (the queue's age, `(00:00:01 ago)`, read twice a second apart on a loaded machine: the same, but for it)
    aged = re.compile(r"\(\d+:\d\d:\d\d ago\)")
    same = {k: {**c, "detail": aged.sub("(... ago)", c["detail"])} for k, c in checks.items()}
    assert same == {r[0]: {"check": r[0], "state": r[1], "value": r[2], "detail": aged.sub("(... ago)", r[3])}
                    for r in query(url, "SELECT check_name, state, value, detail FROM pgscore.health()")
                    if r[0] != "monitoring_refresh"} | {"monitoring_refresh": same["monitoring_refresh"]}, checks
    assert aged.search(checks["error_queue"]["detail"]), checks
    run = pgscore_cli("health", "churn", "--json", "--db", url)
    assert run.returncode == 1 and json.loads(run.stdout)["verdict"] == "FAIL", run.stdout


def test_metrics_gives_a_reader_the_numbers_the_details_said(shop_template, clone_of):
    """An on-call SRE's trial (session 68, h2): a scraper's login granted pgscore_reader got `permission denied for
    table error_queue` (and alert_state, monitoring_state); health() gave the queue's depth as a number, but its
    oldest profile's age and the alerts at warn only inside the details' text. pgscore.metrics() gives them per
    model, to the three roles, as health() counts them."""
    url = clone_of(shop_template)
    ensure_role(url, "h2_scraper", login=True)
    query(url, "GRANT pgscore_reader TO h2_scraper")
    query(url, "SELECT pgscore.retire('churn')")
    query(url, "INSERT INTO complaints (customer_id) VALUES (3), (4)")
    query(url, "UPDATE pgscore.error_queue SET first_failed_at = now() - interval '2 hours'"
               " WHERE error_id = (SELECT min(error_id) FROM pgscore.error_queue)")
    query(url, "INSERT INTO pgscore.alert_state (model, version, what, subject, window_name, metric, level, shadow) "
               "VALUES ('churn', 1, 'feature', 'age', '1 day', 'psi', 'alert', false), "
               "('churn', 1, 'feature', 'tenure_months', '1 day', 'psi', 'warn', false), "
               "('churn', 1, 'score', 'score', '1 day', 'ks', 'warn', false)")
    query(url, "SELECT pgscore.silence_alerts('churn', interval '1 hour', 'known', p_subject => 'tenure_months')")
    with psycopg2.connect(url, user="h2_scraper") as c:
        with pytest.raises(errors.InsufficientPrivilege):
            query(c, "SELECT count(*) FROM pgscore.error_queue")
        c.rollback()
        got = {(r[0], r[1]): r[2] for r in query(c, "SELECT metric, model, value FROM pgscore.metrics()")}
    c.close()
    assert got[("error_queue_profiles", "churn")] == 2, got
    assert 7200 <= got[("error_queue_oldest_seconds", "churn")] < 7300, got
    assert (got[("alerts_at_alert", "churn")], got[("alerts_at_warn", "churn")]) == (1, 1), got  # (one silenced)
    assert got[("monitoring_refreshed_at", None)] is None, got  # never refreshed
    query(url, "SELECT * FROM pgscore.refresh_monitoring()")
    (at,), = query(url, "SELECT value FROM pgscore.metrics() WHERE metric = 'monitoring_refreshed_at'")
    (refreshed,), = query(url, "SELECT extract(epoch FROM refreshed_at)::float8 FROM pgscore.monitoring_state")
    assert at == refreshed, (at, refreshed)


def test_metrics_says_never_refreshed_counts_a_deleted_model_s_alerts_and_the_last_hour_s_failures(shop_template,
                                                                                                  clone_of):
    """Session 68's trial T25 review: metrics() gave no monitoring_refreshed_at row where pgscore.monitoring_state
    was empty (a partial restore: a scraper cannot alert on a row it never sees), and no row for the alerts of a
    model no longer in pgscore.models, which health() counts. And now that a session warns of a broken wiring once
    a minute, not at every INSERT, the profiles that failed in the last hour are a number per model
    (error_queue_queued_last_hour). Failed before (0174's metrics()): KeyError ('monitoring_refreshed_at', None)."""
    url = clone_of(shop_template)
    query(url, "DELETE FROM pgscore.monitoring_state")
    query(url, "INSERT INTO pgscore.alert_state (model, version, what, subject, window_name, metric, level, shadow) "
               "VALUES ('gone', 1, 'feature', 'age', '1 day', 'psi', 'alert', false), "
               "('gone', 1, 'feature', 'age', '1 day', 'ks', 'warn', false)")
    query(url, "SELECT pgscore.retire('churn')")
    query(url, "INSERT INTO complaints (customer_id) VALUES (3), (4), (5)")
    query(url, "UPDATE pgscore.error_queue SET first_failed_at = now() - interval '2 hours', last_failed_at = now() - "
               "interval '2 hours' WHERE entity_key = '5'")
    query(url, "SELECT * FROM pgscore.retry_failed()")  # (fails again, the model retired: last_failed_at now, all 3)
    rows = query(url, "SELECT metric, model, value FROM pgscore.metrics()")
    got = {(r[0], r[1]): r[2] for r in rows}
    assert got[("monitoring_refreshed_at", None)] is None, rows  # never refreshed: NULL, not no row
    assert rows[-1][:2] == ("monitoring_refreshed_at", None), rows
    assert (got[("alerts_at_alert", "gone")], got[("alerts_at_warn", "gone")]) == (1, 1), rows
    assert (got[("error_queue_profiles", "churn")], got[("error_queue_queued_last_hour", "churn")]) == (3, 2), rows
    assert got[("error_queue_queued_last_hour", "gone")] == 0, rows
    # health() counts the deleted model's alert too: the two agree
    (value,), = query(url, "SELECT value FROM pgscore.health() WHERE check_name = 'alerts'")
    assert value == sum(v for (m, _), v in got.items() if m == "alerts_at_alert"), (value, rows)


def test_the_queue_s_failure_times_are_the_failure_s_own_and_metrics_reads_them_at_its_statement(shop_template,
                                                                                                   clone_of):
    """Session 69's review: pgscore.error_queue's first_failed_at and last_failed_at were now(), the transaction's
    start: a profile that failed late in a transaction that ran over an hour was never in metrics()'
    error_queue_queued_last_hour. They are the failure's own time (clock_timestamp(): the column defaults and
    rescoring's UPDATEs, a retry's too), and metrics() reads them against its statement's start, not its reader's
    transaction's. Failed before: first_failed_at = now() (the transaction's start) after a later INSERT."""
    shop = psycopg2.connect(clone_of(shop_template))
    try:
        query(shop, "SELECT pgscore.retire('churn')")
        shop.commit()
        query(shop, "SELECT pg_sleep(0.2)")  # (the transaction began: its now() stays)
        query(shop, "INSERT INTO complaints (customer_id) VALUES (3)")
        assert query(shop, "SELECT first_failed_at > now() + interval '0.2 s', last_failed_at > now() + "
                           "interval '0.2 s' FROM pgscore.error_queue") == [(True, True)]
        query(shop, "INSERT INTO complaints (customer_id) VALUES (3)")  # again: last_failed_at moves
        query(shop, "SELECT * FROM pgscore.retry_failed()")  # (fails again, the model retired)
        assert query(shop, "SELECT attempts, last_failed_at > first_failed_at FROM pgscore.error_queue") == [(3, True)]
        # a reader's transaction that began long ago (0.2 s here) counts in its last hour what failed in the
        # hour before its statement, not before its transaction began
        query(shop, "UPDATE pgscore.error_queue SET first_failed_at = now() - interval '1 hour' + interval '0.1 s'")
        got = dict(((m, k), v) for m, k, v in query(shop, "SELECT metric, model, value FROM pgscore.metrics()"))
        assert got[("error_queue_queued_last_hour", "churn")] == 0, got
        assert got[("error_queue_oldest_seconds", "churn")] >= 3600, got
        shop.rollback()
    finally:
        shop.close()


def test_health_reads_the_queue_s_age_at_its_statement_not_its_transaction_s_start(shop_template, clone_of):
    """Session 70's review: pgscore.health() read the error queue's oldest row against now(), its transaction's start,
    where metrics() (0182) reads it against its statement's: a health check inside a long transaction under-reported
    the oldest row's age (warn, under an hour, where it was over). health() reads its ages at its statement's start
    now (migration 0185). Failed before: state 'warn', the oldest '00:59:59 ago'."""
    shop = psycopg2.connect(clone_of(shop_template))
    try:
        query(shop, "SELECT pgscore.retire('churn')")
        shop.commit()
        query(shop, "INSERT INTO complaints (customer_id) VALUES (3)")  # (queued: the model retired)
        query(shop, "UPDATE pgscore.error_queue SET first_failed_at = now() - interval '1 hour' + interval '0.1 s'")
        query(shop, "SELECT pg_sleep(0.2)")  # (the transaction began: its now() stays)
        (state, detail), = query(shop, "SELECT state, detail FROM pgscore.health() WHERE check_name = 'error_queue'")
        assert state == "fail" and re.search(r"\(01:0\d:\d\d ago\)", detail), (state, detail)
        got = dict(((m, k), v) for m, k, v in query(shop, "SELECT metric, model, value FROM pgscore.metrics()"))
        assert got[("error_queue_oldest_seconds", "churn")] >= 3600, got  # (the two agree)
        shop.rollback()
    finally:
        shop.close()


def test_health_and_metrics_agree_on_a_silence_made_after_the_reader_s_transaction_began(shop_template, clone_of):
    """Review r3 of session 71: 0185 read health()'s clock at its statement's start for its ages, and so for the
    silences too, which metrics(), pgscore.alerts and the table's definition read at now() (starts_at <= now() <
    ends_at): inside a transaction begun before another session silenced a firing condition, health()'s alerts check
    said it silenced ('ok') while metrics() counted it at alert. Failed before: ('ok', 1)."""
    url = clone_of(shop_template)
    query(url, "INSERT INTO pgscore.alert_state (model, version, what, subject, window_name, metric, level, shadow) "
               "VALUES ('churn', 1, 'feature', 'age', '1 day', 'psi', 'alert', false)")
    reader = psycopg2.connect(url)
    try:
        query(reader, "SELECT 1")  # (its transaction began: its now() stays)
        query(url, "SELECT pgscore.silence_alerts('churn', interval '1 hour', 'INC-2')")
        (state,), = query(reader, "SELECT state FROM pgscore.health() WHERE check_name = 'alerts'")
        (n,), = query(reader, "SELECT value FROM pgscore.metrics() WHERE metric = 'alerts_at_alert' AND model = 'churn'")
        assert (state, n) == ("fail", 1), (state, n)  # (the silence is in force from its start, after this now())
        reader.rollback()
        (state,), = query(reader, "SELECT state FROM pgscore.health() WHERE check_name = 'alerts'")
        assert state == "ok", state  # (a new transaction: silenced)
    finally:
        reader.close()


def test_cached_models_lists_the_calling_backend_s_loaded_versions_with_their_bytes(shop_template, clone_of,
                                                                                     trained):
    """Session 69's review: the models a backend keeps loaded (up to pgscore.model_cache bytes each) were seen from
    the host alone (its RSS), not which versions nor how much. pgscore.cached_models() gives the calling backend's,
    the first let go first, with the footprint the cache counts; another backend's are not its own. Failed before:
    function pgscore.cached_models() does not exist."""
    url = clone_of(shop_template)
    ensure_role(url, "h4_scraper", login=True)
    query(url, "GRANT pgscore_reader TO h4_scraper")
    c = psycopg2.connect(url)
    c.autocommit = True
    other = psycopg2.connect(url)
    try:
        assert query(c, "SELECT * FROM pgscore.cached_models()") == []  # (scored nothing yet)
        query(c, "SELECT pgscore.score('churn', %s::float8[])", (list(map(float, trained[1][0])),))
        (model, version, model_id, engine, held, rank), = query(c, "SELECT * FROM pgscore.cached_models()")
        assert (model, version, engine, rank) == ("churn", 1, "numpy", 1) and held > 0, (model, version, engine, rank)
        assert query(c, "SELECT model_id FROM pgscore.model_versions WHERE name = 'churn' AND version = 1") == [
            (model_id,)]
        assert query(other, "SELECT * FROM pgscore.cached_models()") == []  # another backend's: its own alone
        query(c, "SET ROLE h4_scraper")  # (a scraper's login, granted pgscore_reader: its own backend's, the same)
        assert query(c, "SELECT model, lru_rank FROM pgscore.cached_models()") == [("churn", 1)]
        query(c, "RESET ROLE")
        ensure_role(url, "h4_nobody")
        query(c, "SET ROLE h4_nobody")
        with pytest.raises(errors.InsufficientPrivilege):
            query(c, "SELECT * FROM pgscore.cached_models()")
    finally:
        c.close()
        other.close()


def test_server_python_fails_the_check_whatever_the_import_raises(shop_template, clone_of):
    """Review r2 (session 68): server_python caught ImportError alone, so an import that raised anything else (a
    site-packages of another Python's: SyntaxError; a native library's RuntimeError or OSError) made
    pgscore.health() itself fail, every check lost (`ERROR: RuntimeError: ...`: a probe's UNKNOWN, a scraper's
    gap), where every score meets the same error. And PL/Python that cannot start at all (plpython3u's library or
    libpython gone after an OS upgrade, simulated by an exception no Python `except Exception` catches) failed it
    alike. Each is the check's fail now, with the error, the other checks kept."""
    shop = psycopg2.connect(clone_of(shop_template))  # (one session: its Python is the one made unable)
    shop.autocommit = True
    assert health(shop)["server_python"][:2] == ("ok", 0)
    query(shop, """DO $$
import sys
for k in [k for k in sys.modules if k == 'pgscore' or k.startswith('pgscore.')]:
    del sys.modules[k]
class Broken:
    exc = RuntimeError
    def find_spec(self, name, path=None, target=None):
        if name == 'pgscore' or name.startswith('pgscore.'):
            raise Broken.exc('simulated: numpy.core.multiarray failed to import')
        return None
GD['r2_broken'] = Broken
sys.meta_path.insert(0, Broken())
$$ LANGUAGE plpython3u""")
    state, value, detail = health(shop)["server_python"]
    assert (state, value) == ("fail", 1), detail
    assert "RuntimeError: simulated: numpy.core.multiarray failed to import" in detail, detail
    query(shop, "DO $$ GD['r2_broken'].exc = SystemExit $$ LANGUAGE plpython3u")  # (past `except Exception`)
    state, value, detail = health(shop)["server_python"]
    assert (state, value) == ("fail", 1), detail
    assert "simulated: numpy.core.multiarray failed to import" in detail, detail
    shop.close()



def test_the_documented_scraper_login_reads_the_documented_activity_query_and_runs_without_jit(shop_template,
                                                                                                  clone_of):
    """Review r2 (session 68): docs/operations.md's 'Monitoring: a scraper's queries' made its scraper a login
    granted pgscore_reader alone, and then had it find a running pgscore command in pg_stat_activity: another role's
    session showed it NULL state and start and `<insufficient privilege>` for its query. And its per-minute query,
    whose plan's estimate starts JIT compilation on a default server, took 180-420 ms (once over a 1 s
    statement_timeout) at 1 million log rows where it took 25-40 ms without. The page's own set-up, run as
    written (the role renamed), gives the login what the queries need."""
    import pathlib

    url = clone_of(shop_template)
    page = (pathlib.Path(__file__).resolve().parents[1] / "docs" / "operations.md").read_text()
    section = page[page.index("## Monitoring: a scraper's queries"):]
    setup = re.search(r"\n```\n(CREATE ROLE scraper.*?)\n```\n", section, re.S).group(1)
    activity = re.search(r"\n```sql\n(SELECT pid, application_name.*?)\n```\n", section, re.S).group(1)
    role = "r2_doc_scraper"
    query(url, f"DROP ROLE IF EXISTS {role}")
    query(url, re.sub(r"\bscraper\b", role, setup))
    busy = psycopg2.connect(url, application_name="pgscore rescore")  # (another role's: the superuser's)
    try:
        busy.cursor().execute("SELECT 1")  # (idle in its transaction)
        with psycopg2.connect(url, user=role) as c:
            jit = query(c, "SHOW jit")
            rows = query(c, activity)
        c.close()
    finally:
        busy.close()
    assert [(r[1], r[2], r[4]) for r in rows] == [("pgscore rescore", "idle in transaction", "SELECT 1")], rows
    assert jit == [("off",)]


def test_health_and_metrics_plan_their_queries_without_jit(shop_template, clone_of):
    """Review r2 (session 68): with 100,000 profiles queued, health()'s error_queue count was planned over the
    server's jit_above_cost, so each call compiled it: 1.5-1.9 s where it ran in 0.4 s without JIT (a scraper's
    1 s statement_timeout cancelled it; the demo, a loaded 2-core machine), and metrics() alike. Both turn JIT off
    for their own queries, whatever the caller's setting; the settings read here are the functions' own."""
    url = clone_of(shop_template)
    got = dict(query(url, "SELECT p.oid::regprocedure::text, p.proconfig FROM pg_proc p "
                          "WHERE p.oid IN ('pgscore.health(text[])'::regprocedure, 'pgscore.metrics()'::regprocedure)"))
    assert all("jit=off" in (got[f] or []) for f in ("pgscore.health(text[])", "pgscore.metrics()")), got
    # (and they run so under a caller's jit = on with every query over its cost)
    conn = psycopg2.connect(url)
    try:
        conn.autocommit = True
        query(conn, "SET jit = on; SET jit_above_cost = 0")
        assert len(query(conn, "SELECT * FROM pgscore.health()")) == len(CHECKS)
        assert query(conn, "SELECT count(*) > 0 FROM pgscore.metrics()") == [(True,)]
        assert query(conn, "SHOW jit") == [("on",)]
    finally:
        conn.close()


def test_server_python_fails_in_a_session_that_imported_pgscore_before_its_files_went(shop_template, clone_of):
    """Review r2 (session 68): a scraper's lasting connection (postgres_exporter keeps one) imported pgscore's module
    at its first health(); the environment then removed or moved (a venv rebuilt, a package removed) fails every new
    session's score with 58P01, while that session's check said ok: sys.modules answered. The check looks for the
    module's file too (its path made one that is gone here, as a removed environment's)."""
    shop = psycopg2.connect(clone_of(shop_template))
    shop.autocommit = True
    assert health(shop)["server_python"][:2] == ("ok", 0)
    query(shop, "DO $$ import sys; sys.modules['pgscore.pl'].__file__ = '/nonexistent/r2/pgscore/pl.py' $$ "
                "LANGUAGE plpython3u")
    state, value, detail = health(shop)["server_python"]
    assert (state, value) == ("fail", 1), detail
    assert "/nonexistent/r2/pgscore/pl.py" in detail, detail
    shop.close()
