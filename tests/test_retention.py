"""Retention and erasure of the audit log (session 63, a compliance auditor's trial): features removed from old
days while their decisions stay (redact_log_features), one customer's rows erased from every pgscore table
(erase_entity), and every drop, redaction and erasure recorded in pgscore.log_retention, under a floor the
schema's owner sets (pgscore.retention_policy)."""

import datetime
import hashlib

import psycopg2
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from helpers import ensure_role, pgscore_cli, query
from pgscore import datasets, registry, scoring

X, Y, NAMES = datasets.churn(400, seed=5)
ROW = X[0].tolist()
ADMIN, APP, BI = "pgscore_t_ret_admin", "pgscore_t_ret_app", "pgscore_t_ret_bi"


def connect(url):
    c = psycopg2.connect(url)
    c.autocommit = True
    return c


@pytest.fixture
def churn(db_url):
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y)
    registry.deploy(db_url, "churn", model, X, Y, feature_names=NAMES)
    c = connect(db_url)
    yield c
    c.close()


@pytest.fixture
def logins(db_url, churn):
    """A login of each role (roles are the cluster's: made once, granted again in each database)."""
    for name, role in ((ADMIN, "pgscore_admin"), (APP, "pgscore_app"), (BI, "pgscore_reader")):
        ensure_role(db_url, name, login=True)
        query(db_url, f"GRANT {role} TO {name}")
    made = {k: connect(db_url.replace("postgresql://postgres@", f"postgresql://{n}@"))
            for k, n in (("admin", ADMIN), ("app", APP), ("bi", BI))}
    yield made
    for c in made.values():
        c.close()


def refused(conn, sql, params=None):
    with pytest.raises(psycopg2.Error) as e:
        query(conn, sql, params)
    return e.value


def log_rows(conn, ages, key_prefix="k"):
    """One prediction of the live churn model per age (an interval before now), keyed key_prefix-i."""
    for i, age in enumerate(ages):
        query(conn, "INSERT INTO pgscore.prediction_log (logged_at, model_id, entity_key, features, score, label, "
                    "source, cause) SELECT now() - %s::interval, model_id, %s, %s, 0.25, '1', 'batch', "
                    "'{\"via\": \"test\"}' FROM pgscore.models WHERE name = 'churn'",
              (age, f"{key_prefix}-{i}", ROW))


def test_redaction_keeps_the_decisions_of_old_days_and_drops_their_features(churn, logins):
    """Finding 3: decisions kept 7 years, features 2. The log's append-only trigger refused every UPDATE, even
    the owner's, and retention dropped whole days: redact_log_features empties the features of the rows logged
    before the cut, a bounded number a call, and keeps model, score, label, source, cause, entity key and time;
    the trigger lets it through, and nothing else."""
    log_rows(churn, ["3 years", "3 years 1 day", "2 years 2 days", "1 year", "0 days"])
    # two of the old days in partitions of their own, the others wait in the default partition
    query(churn, "SELECT pgscore.create_log_partitions(0, ((now() - interval '3 years') AT TIME ZONE 'UTC')::date)")
    keep = "SELECT entity_key, logged_at, model_id, score, label, source, cause FROM pgscore.prediction_log ORDER BY 1"
    before = query(churn, keep)
    admin = logins["admin"]
    del admin.notices[:]
    assert query(admin, "SELECT pgscore.redact_log_features('2 years', 2)") == [(2,)]
    assert query(admin, "SELECT pgscore.redact_log_features('2 years', 2)") == [(1,)]
    assert query(admin, "SELECT pgscore.redact_log_features('2 years', 2)") == [(0,)]  # idempotent
    assert any("redact_log_features" in n and "row(s)" in n for n in admin.notices), admin.notices
    assert query(churn, keep) == before
    # a row logged back-dated later into a day redacted whole: that day is read again with p_recheck alone
    log_rows(churn, ["3 years"], key_prefix="late")
    assert query(admin, "SELECT pgscore.redact_log_features('2 years', 2)") == [(0,)]
    assert query(admin, "SELECT pgscore.redact_log_features('2 years', 2, p_recheck => true)") == [(1,)]
    query(churn, "DELETE FROM pgscore.prediction_log WHERE entity_key = 'late-0'")
    assert query(churn, "SELECT entity_key, cardinality(features) FROM pgscore.prediction_log ORDER BY 1") \
        == [("k-0", 0), ("k-1", 0), ("k-2", 0), ("k-3", len(NAMES)), ("k-4", len(NAMES))]
    # the predictions view names the features, with no value
    assert query(churn, "SELECT features_by_name->>%s FROM pgscore.predictions WHERE entity_key = 'k-0'", (NAMES[0],)) \
        == [(None,)]
    # recorded, each call that removed something, by whom and before when
    rows = query(churn, "SELECT action, by_user, rows, cut < now() - interval '2 years' "
                        "FROM pgscore.log_retention ORDER BY retention_id")
    assert rows == [("redact", ADMIN, 2, True), ("redact", ADMIN, 1, True), ("redact", ADMIN, 1, True)]
    assert query(logins["bi"], "SELECT count(*) FROM pgscore.log_retention") == [(3,)]
    # every other UPDATE is refused, the owner's too, and one that changes more than the features within the call
    e = refused(churn, "UPDATE pgscore.prediction_log SET features = '{}' WHERE entity_key = 'k-4'")
    assert e.pgcode == "42501" and "append-only" in e.pgerror and "redact_log_features" in e.diag.message_hint
    assert refused(logins["app"], "SELECT pgscore.redact_log_features('2 years')").pgcode == "42501"
    assert refused(logins["app"], "UPDATE pgscore.prediction_log SET features = '{}'").pgcode == "42501"
    for bad in ("NULL", "'-1 day'", "'90'"):
        e = refused(admin, f"SELECT pgscore.redact_log_features({bad})")
        assert e.pgcode == "22023" and e.diag.message_hint, bad
    assert refused(admin, "SELECT pgscore.redact_log_features('2 years', 0)").pgcode == "22023"


def test_drift_over_redacted_days_leaves_their_features_out(churn, logins):
    """A redacted row has no feature values: the drift views count its score and leave it out of its features'
    counts (it read as a NULL value of every feature, a null rate of 100% for those days, before)."""
    log_rows(churn, ["3 years"] * 5 + ["1 hour"] * 3)
    query(churn, "INSERT INTO pgscore.drift_windows (window_name, length, sort_order) VALUES ('5 years', '5 years', 99)")
    query(churn, "SELECT pgscore.redact_log_features('2 years')")
    for rebuild in (False, True):  # read from the log, then from the rollups
        if rebuild:
            query(churn, "SELECT * FROM pgscore.refresh_monitoring(p_rebuild => true)")
        assert query(churn, "SELECT n FROM pgscore.score_drift WHERE window_name = '5 years'") == [(8,)]
        assert set(query(churn, "SELECT n, null_rate FROM pgscore.feature_drift WHERE window_name = '5 years'")) \
            == {(3, 0.0)}, rebuild
        assert query(churn, "SELECT count(*) FROM pgscore.drift_by_day") [0][0] >= 0
    query(logins["bi"], "SELECT * FROM pgscore.alerts")


def test_drops_are_recorded_under_the_owners_floor(churn, logins):
    """Finding 5: drop_log_partitions left only a client NOTICE and had no floor. Every drop is recorded in
    pgscore.log_retention; the owner sets a floor in pgscore.retention_policy that an admin cannot lower."""
    log_rows(churn, ["400 days", "40 days", "0 days"])
    query(churn, "SELECT pgscore.create_log_partitions(0, ((now() - interval '400 days') AT TIME ZONE 'UTC')::date)")
    admin = logins["admin"]
    assert query(admin, "SELECT keep_log, keep_features FROM pgscore.retention_policy") == [(None, None)]
    assert refused(admin, "UPDATE pgscore.retention_policy SET keep_log = '1 day'").pgcode == "42501"
    query(churn, "UPDATE pgscore.retention_policy SET keep_log = '365 days', keep_features = '30 days'")
    e = refused(admin, "SELECT pgscore.drop_log_partitions('30 days')")
    assert e.pgcode == "42501" and "365 days" in e.pgerror and "retention_policy" in e.diag.message_hint
    e = refused(admin, "SELECT pgscore.redact_log_features('7 days')")
    assert e.pgcode == "42501" and "30 days" in e.pgerror
    assert query(churn, "SELECT count(*) FROM pgscore.prediction_log") == [(3,)]
    assert query(admin, "SELECT pgscore.drop_log_partitions('365 days')") == [(1,)]
    assert query(churn, "SELECT count(*) FROM pgscore.prediction_log") == [(2,)]
    assert query(admin, "SELECT pgscore.drop_log_partitions('365 days')") == [(0,)]  # nothing to drop: no record
    rows = query(logins["bi"], "SELECT action, by_user, rows, detail->>'partitions' FROM pgscore.log_retention")
    assert rows == [("drop", ADMIN, 1, "1")]
    for who in ("admin", "app", "bi"):
        assert refused(logins[who], "DELETE FROM pgscore.log_retention").pgcode == "42501"
        assert refused(logins[who], "INSERT INTO pgscore.log_retention (action) VALUES ('drop')").pgcode == "42501"
    # the record itself is append-only, for its owner too
    e = refused(churn, "UPDATE pgscore.log_retention SET rows = 0")
    assert e.pgcode == "42501"


def test_erasure_removes_a_customer_from_every_table_and_records_it(churn, logins):
    """Finding 4: only a superuser could erase a customer, and outcome_version_matches kept the decision after.
    erase_entity, run by an admin, deletes the key's rows from the log, the outcomes and their per-version
    matches, the error queue and the held replicated events, says per table how many, records the erasure with
    a hash of the key, and the views keep working."""
    query(churn, "SELECT pgscore.score('churn', %s::float8[], p_key => 'cust-9')", (ROW,))
    query(churn, "SELECT pgscore.score('churn', %s::float8[], p_key => 'cust-8')", (ROW,))
    log_rows(churn, ["40 days"], key_prefix="cust-9")  # 'cust-9-0': another customer
    query(churn, "SELECT pgscore.record_outcome('churn', 'cust-9', '1')")
    query(churn, "SELECT pgscore.record_outcome('churn', 'cust-8', '0')")
    assert query(churn, "SELECT count(*) FROM pgscore.outcome_version_matches") == [(2,)]
    query(churn, "INSERT INTO pgscore.error_queue (model_name, profile_table, entity_key, reason) VALUES "
                 "('churn', 'public.customers', 'cust-9', 'x'), ('churn', 'public.customers', 'cust-8', 'x')")
    # an event of a two_phase subscription held back for the key (put there by a replication worker alone: here
    # by the superuser, past the row-level security)
    query(churn, "INSERT INTO pgscore.replicated_pending (rescoring_id, entity_key, event) VALUES "
                 "(1, 'cust-9', '{\"id\": \"cust-9\"}'), (1, 'cust-8', '{}')")
    admin = logins["admin"]
    got = dict(query(admin, "SELECT table_name, rows FROM pgscore.erase_entity('cust-9')"))
    assert got == {"pgscore.prediction_log": 1, "pgscore.outcomes": 1, "pgscore.outcome_version_matches": 1,
                   "pgscore.error_queue": 1, "pgscore.replicated_pending": 1, "pgscore.shadow_failures": 0,
                   "pgscore.error_queue (reason)": 0}
    # nothing of the key is left in any column of any pgscore table
    found = query(churn, """
        SELECT c.relname, a.attname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
         WHERE c.relnamespace = 'pgscore'::regnamespace AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
           AND a.atttypid IN ('text'::regtype, 'jsonb'::regtype, 'json'::regtype)""")
    for rel, col in found:
        (n,), = query(churn, f'SELECT count(*) FROM pgscore."{rel}" WHERE "{col}"::text ~ %s', (r"\mcust-9\M(?!-)",))
        assert n == 0, (rel, col)
    assert query(churn, "SELECT entity_key FROM pgscore.prediction_log ORDER BY 1") == [("cust-8",), ("cust-9-0",)]
    assert query(churn, "SELECT count(*) FROM pgscore.outcome_version_matches") == [(1,)]
    digest = hashlib.sha256(b"cust-9").hexdigest()
    assert query(logins["bi"], "SELECT action, by_user, model, entity_sha256, rows, detail->>'pgscore.outcomes' "
                               "FROM pgscore.log_retention") == [("erase", ADMIN, None, digest, 1, "1")]
    assert query(churn, "SELECT count(*) FROM pgscore.log_retention WHERE detail::text ~ 'cust-9'") == [(0,)]
    # the views keep working
    query(logins["bi"], "SELECT * FROM pgscore.realised_performance")
    query(churn, "SELECT * FROM pgscore.refresh_monitoring()")
    query(logins["bi"], "SELECT * FROM pgscore.score_drift")
    # one model alone: another model's rows of the key stay
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y)
    registry.deploy(churn.dsn, "upsell", model, X, Y, feature_names=NAMES)
    query(churn, "SELECT pgscore.score(m, %s::float8[], p_key => 'cust-8') FROM unnest('{churn,upsell}'::text[]) m",
          (ROW,))
    got = dict(query(admin, "SELECT table_name, rows FROM pgscore.erase_entity('cust-8', 'upsell')"))
    assert got["pgscore.prediction_log"] == 1 and got["pgscore.outcomes"] == 0
    assert query(churn, "SELECT m.name, count(*) FROM pgscore.prediction_log l JOIN pgscore.models m USING (model_id) "
                        "WHERE entity_key = 'cust-8' GROUP BY 1") == [("churn", 2)]
    assert query(churn, "SELECT model FROM pgscore.log_retention ORDER BY retention_id DESC LIMIT 1") == [("upsell",)]
    # an erasure of nothing is recorded too (the request was carried out)
    assert dict(query(admin, "SELECT table_name, rows FROM pgscore.erase_entity('nobody')"))["pgscore.prediction_log"] == 0
    assert query(churn, "SELECT count(*) FROM pgscore.log_retention WHERE action = 'erase'") == [(3,)]
    # bad input, and the app may not erase
    for sql, code in (("SELECT * FROM pgscore.erase_entity(NULL)", "22023"),
                      ("SELECT * FROM pgscore.erase_entity('cust-8', 'nosuch')", "42704")):
        e = refused(admin, sql)
        assert e.pgcode == code and e.diag.message_hint, sql
    assert refused(logins["app"], "SELECT * FROM pgscore.erase_entity('cust-8')").pgcode == "42501"


def test_maintain_keep_features_redacts_in_calls_of_their_own(churn):
    """pgscore maintain --keep-features: redact_log_features called until one call redacts fewer than its limit,
    after the partitions and retention; a period refused is a usage error before anything changes."""
    log_rows(churn, ["3 years"] * 3 + ["1 day"])
    url = churn.dsn
    r = pgscore_cli("maintain", "--keep", "2555 days", "--keep-features", "2 years", "--db", url)
    assert r.returncode == 0, r.stderr
    assert "features kept '2 years': 3 row(s) redacted (before " in r.stdout and "none left" in r.stdout, r.stdout
    assert query(churn, "SELECT count(*) FILTER (WHERE features = '{}'), count(*) FROM pgscore.prediction_log") \
        == [(3, 4)]
    # calls of at most `limit` rows, each committed (of a day with no partition: in the default partition, read at
    # every call; a day's partition before the last complete call's cut is read again with p_recheck alone)
    log_rows(churn, ["2 years 10 days"] * 5, key_prefix="m")
    assert scoring.redact_features(url, "2 years", limit=2)[0] == 5
    assert query(churn, "SELECT count(*), sum(rows) FROM pgscore.log_retention WHERE action = 'redact'") == [(4, 8)]
    query(churn, "UPDATE pgscore.retention_policy SET keep_features = '3 years'")
    r = pgscore_cli("maintain", "--keep-features", "2 years", "--db", url)
    assert r.returncode == 1 and "shorter than the floor of features' retention" in r.stderr, r.stderr
    before = query(churn, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'pgscore.prediction_log'::regclass")
    r = pgscore_cli("maintain", "--days-ahead", "30", "--keep-features", "2", "--db", url)
    assert r.returncode == 2 and "has no unit" in r.stderr, r.stderr
    assert query(churn, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'pgscore.prediction_log'::regclass") \
        == before  # nothing made


def test_the_floor_holds_in_calendar_time_not_in_interval_arithmetic(churn, logins):
    """Review r6: the floor was compared as an interval, and PostgreSQL compares a year as 360 days: under
    keep_log = keep_features = '1 year' an admin's drop_log_partitions('360 days') and redact_log_features('360
    days') passed it and removed a row 362 days old, which the floor keeps (under '7 years', '2521 days' took 36
    days more). The floor is the day it cuts at: a period whose cut is later is refused."""
    log_rows(churn, ["362 days", "0 days"])
    query(churn, "SELECT pgscore.create_log_partitions(0, ((now() - interval '362 days') AT TIME ZONE 'UTC')::date)")
    query(churn, "UPDATE pgscore.retention_policy SET keep_log = '1 year', keep_features = '1 year'")
    admin = logins["admin"]
    for fn in ("redact_log_features", "drop_log_partitions"):
        e = refused(admin, f"SELECT pgscore.{fn}('360 days')")
        assert e.pgcode == "42501" and "1 year" in e.pgerror and "retention_policy" in e.diag.message_hint, fn
    assert query(churn, "SELECT count(*) FROM pgscore.prediction_log WHERE cardinality(features) > 0") == [(2,)]
    # a period that cuts at the floor's day, or before it, is accepted
    assert query(admin, "SELECT pgscore.redact_log_features('12 mons')") == [(0,)]
    assert query(admin, "SELECT pgscore.drop_log_partitions('1 year 1 day')") == [(0,)]
    assert query(churn, "SELECT count(*) FROM pgscore.prediction_log") == [(2,)]


def test_the_redaction_door_changes_the_features_alone(churn):
    """Review r6: the trigger's one UPDATE compared the columns it named, not written_by (0139): in a transaction
    that recorded a redaction, an UPDATE emptying the features could also rewrite who wrote the row. Every column
    but the features must stay."""
    log_rows(churn, ["3 days"])
    e = refused(churn, "DO $$ BEGIN INSERT INTO pgscore.log_retention (action, cut) VALUES ('redact', now()); "
                       "UPDATE pgscore.prediction_log SET features = '{}', written_by = 'mallory'; END $$")
    assert e.pgcode == "42501" and "append-only" in e.pgerror
    assert query(churn, "SELECT cardinality(features), written_by FROM pgscore.prediction_log") \
        == [(len(NAMES), "postgres")]


# (session 64, task A1) '-1 mon 31 days' is 1 day to PostgreSQL's interval comparison (a month compares as 30 days)
# and none at all in December, whose month is 31 days: now() minus it is now(), and the cut today's midnight
MIXED = ("-1 mon 31 days", "1 mon -29 days", "1 year -359 days", "2 days -25:00", "2 days -1 hour")


def test_a_period_with_a_negative_part_is_refused_not_compared_as_30_day_months(churn, logins):
    """0141's 'at least 1 day' compared p_older_than with interval '1 day', which takes a month for 30 days: a
    period of mixed signs, '-1 mon 31 days', passed it and is no day at all where the month has 31 days (on
    December 6 it cut at today's midnight: drop_log_partitions dropped yesterday, which '1 day' keeps), and more or
    less than a day on other dates. A period with a negative part is refused (22023) by both functions, by the
    floor's CHECK and by pgscore maintain (a usage error, exit 2), before anything changes."""
    log_rows(churn, ["1 day", "0 days"])
    query(churn, "SELECT pgscore.create_log_partitions(0, ((now() - interval '1 day') AT TIME ZONE 'UTC')::date)")
    admin = logins["admin"]
    for period in MIXED:
        for fn in ("drop_log_partitions", "redact_log_features"):
            e = refused(admin, f"SELECT pgscore.{fn}(%s)", (period,))
            assert e.pgcode == "22023" and "negative part" in e.pgerror and e.diag.message_hint, (fn, period)
        for col in ("keep_log", "keep_features"):
            e = refused(churn, f"UPDATE pgscore.retention_policy SET {col} = %s", (period,))
            assert e.pgcode == "23514" and e.diag.constraint_name == f"retention_policy_{col}_check", (col, period)
        for opt in ("--keep", "--keep-features"):
            r = pgscore_cli("maintain", opt, period, "--db", churn.dsn)
            assert r.returncode == 2 and "negative part" in r.stderr, (opt, period, r.stderr)
    assert query(churn, "SELECT count(*), count(*) FILTER (WHERE cardinality(features) > 0) "
                        "FROM pgscore.prediction_log") == [(2, 2)]
    assert query(churn, "SELECT count(*) FROM pgscore.log_retention") == [(0,)]
    # whole positive parts still pass, and a month is a calendar month
    query(churn, "UPDATE pgscore.retention_policy SET keep_log = '1 mon', keep_features = '1 day'")
    assert query(admin, "SELECT pgscore.drop_log_partitions('1 mon 1 day')") == [(0,)]
    assert query(admin, "SELECT pgscore.redact_log_features('1 day 00:00:01')") == [(0,)]


def test_a_drift_window_with_a_negative_part_is_refused_as_a_retention_period_is(churn, logins):
    """(session 65, D2) pgscore.drift_windows took a length of mixed signs that 0029's CHECK (at least 5 minutes)
    compared as an interval, a month as 30 days: '-1 mon 31 days' passed as 1 day, and the window reached back
    now() minus it, no time at all in a month of 31 days (on December 6, every drift row of the window 'no_data',
    as if nothing were logged), 3 days in February. drift_windows_length_check refuses a negative part as
    retention_policy's CHECKs do (0147): 23514, for the admin's INSERT and UPDATE alike; whole positive parts and
    NULL (since deploy) still pass, and their window counts the rows logged in it."""
    log_rows(churn, ["2 hours"])
    admin = logins["admin"]
    for period in MIXED + ("1 mon -40 days", "-1 day", "1 day -25 hours"):
        for sql in ("INSERT INTO pgscore.drift_windows (window_name, length, sort_order) VALUES ('mixed', %s, 9)",
                    "UPDATE pgscore.drift_windows SET length = %s WHERE window_name = '1 day'"):
            e = refused(admin, sql, (period,))
            assert e.pgcode == "23514" and e.diag.constraint_name == "drift_windows_length_check", (period, sql)
    assert query(churn, "SELECT length FROM pgscore.drift_windows WHERE window_name = '1 day'") == [
        (datetime.timedelta(days=1),)]
    assert query(churn, "SELECT count(*) FROM pgscore.drift_windows WHERE window_name = 'mixed'") == [(0,)]
    query(admin, "INSERT INTO pgscore.drift_windows (window_name, length, sort_order) "
                 "VALUES ('a month and a day', '1 mon 1 day', 9), ('all', NULL, 10)")
    assert query(churn, "SELECT window_name, max(n) FROM pgscore.feature_drift "
                        "WHERE window_name IN ('a month and a day', 'all') GROUP BY 1 ORDER BY 1") == [
        ("a month and a day", 1), ("all", 1)]


def test_a_drift_window_reaching_back_before_4713_bc_is_refused_not_failing_every_drift_view(churn, logins):
    """(review r1 of 0155) A drift window of '10000 years' (an admin's "everything") passed the CHECK, and now()
    minus it is before 4713 BC, the earliest time PostgreSQL holds: every drift and performance view, of every
    model and every window, failed with a bare 22008 "timestamp out of range". drift_windows_length_check refuses a
    length over 1000 years (23514); 1000 years and NULL (since deploy) pass, and the views read them."""
    log_rows(churn, ["2 hours"])
    admin = logins["admin"]
    for length in ("10000 years", "178000000 years", "1000 years 1 second", "12001 mon", "360001 days"):
        e = refused(admin, "INSERT INTO pgscore.drift_windows (window_name, length, sort_order) VALUES ('ever', %s, 9)",
                    (length,))
        assert e.pgcode == "23514" and e.diag.constraint_name == "drift_windows_length_check", (length, e.pgerror)
    query(admin, "INSERT INTO pgscore.drift_windows (window_name, length, sort_order) "
                 "VALUES ('a millennium', '1000 years', 9), ('all', NULL, 10)")
    assert query(churn, "SELECT window_name, max(n) FROM pgscore.feature_drift "
                        "WHERE window_name IN ('a millennium', 'all', '1 day') GROUP BY 1 ORDER BY 1") == [
        ("1 day", 1), ("a millennium", 1), ("all", 1)]


def test_maintain_refuses_keep_features_under_the_floor_before_it_changes_anything(churn):
    """A --keep-features shorter than pgscore.retention_policy.keep_features was refused by the server after
    maintain had committed --keep's drops and the partitions (exit 1 with half the run done). It is read first
    now: refused (exit 1, 42501, the server's words) before any partition is made or dropped."""
    log_rows(churn, ["400 days", "0 days"])
    query(churn, "SELECT pgscore.create_log_partitions(0, ((now() - interval '400 days') AT TIME ZONE 'UTC')::date)")
    query(churn, "UPDATE pgscore.retention_policy SET keep_features = '3 years'")
    parts = "SELECT count(*) FROM pg_inherits WHERE inhparent = 'pgscore.prediction_log'::regclass"
    before = query(churn, parts)
    r = pgscore_cli("maintain", "--keep", "365 days", "--days-ahead", "30", "--keep-features", "2 years",
                    "--db", churn.dsn)
    assert r.returncode == 1 and "shorter than the floor of features' retention" in r.stderr, r.stderr
    assert "42501" in r.stderr and "retention_policy.keep_features" in r.stderr, r.stderr
    assert "partition(s) created" not in r.stdout, r.stdout
    assert query(churn, parts) == before  # nothing dropped, nothing made
    assert query(churn, "SELECT count(*) FROM pgscore.prediction_log") == [(2,)]
    assert query(churn, "SELECT count(*) FROM pgscore.log_retention") == [(0,)]


def test_erasure_scrubs_the_free_text_that_names_the_key(churn, logins):
    """erase_entity deleted the key's rows, and left the key where pgscore keeps free text: a shadow's last
    failure message (pgscore.shadow_failures.last_message, a scoring error that may name the profile and its
    values) and the reason of another profile's queued rescoring. Such text is replaced, of the model asked (or
    every model's), counted per table and recorded in log_retention; another key's text stays."""
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y)
    registry.deploy(churn.dsn, "upsell", model, X, Y, feature_names=NAMES)
    ids = dict(query(churn, "SELECT name, model_id FROM pgscore.models"))
    # (written by count_shadow_failure alone, as its owner: here by the superuser)
    query(churn, "INSERT INTO pgscore.shadow_failures VALUES "
                 "(%(c)s, 'public.customers', '22023', 1, 1, 1, now(), now(), 'profile cust-9: tenure -3 out of range'),"
                 "(%(c)s, 'public.customers', 'XX000', 1, 1, 1, now(), now(), 'profile cust-8: tenure -4 out of range'),"
                 "(%(u)s, 'public.customers', '22023', 1, 1, 1, now(), now(), 'profile cust-9: tenure -3 out of range')",
          {"c": ids["churn"], "u": ids["upsell"]})
    query(churn, "INSERT INTO pgscore.error_queue (model_name, profile_table, entity_key, reason) VALUES "
                 "('churn', 'public.customers', 'cust-8', 'batch with cust-9 failed: duplicate key'), "
                 "('churn', 'public.customers', 'cust-7', 'x')")
    admin = logins["admin"]
    got = dict(query(admin, "SELECT table_name, rows FROM pgscore.erase_entity('cust-9', 'churn')"))
    assert got["pgscore.shadow_failures"] == 1 and got["pgscore.error_queue (reason)"] == 1, got
    assert query(churn, "SELECT m.name, f.last_message FROM pgscore.shadow_failures f JOIN pgscore.models m "
                        "USING (model_id) ORDER BY 1, 2") == [
        ("churn", "(erased: the text named an erased entity key)"), ("churn", "profile cust-8: tenure -4 out of range"),
        ("upsell", "profile cust-9: tenure -3 out of range")]
    assert query(churn, "SELECT entity_key, reason FROM pgscore.error_queue ORDER BY 1") == [
        ("cust-7", "x"), ("cust-8", "(erased: the text named an erased entity key)")]
    assert query(churn, "SELECT detail->>'pgscore.shadow_failures', detail->>'pgscore.error_queue (reason)' "
                        "FROM pgscore.log_retention") == [("1", "1")]
    # every model: nothing of the key is left in any text or json column of any pgscore table
    got = dict(query(admin, "SELECT table_name, rows FROM pgscore.erase_entity('cust-9')"))
    assert got["pgscore.shadow_failures"] == 1, got
    found = query(churn, """
        SELECT c.relname, a.attname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
         WHERE c.relnamespace = 'pgscore'::regnamespace AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
           AND a.atttypid IN ('text'::regtype, 'jsonb'::regtype, 'json'::regtype)""")
    for rel, col in found:
        (n,), = query(churn, f'SELECT count(*) FROM pgscore."{rel}" WHERE "{col}"::text ~ %s', (r"\mcust-9\M",))
        assert n == 0, (rel, col)
    # an empty key scrubs nothing (every text holds it)
    got = dict(query(admin, "SELECT table_name, rows FROM pgscore.erase_entity('')"))
    assert got["pgscore.shadow_failures"] == 0 and got["pgscore.error_queue (reason)"] == 0, got
    assert query(churn, "SELECT count(*) FROM pgscore.error_queue WHERE reason = 'x'") == [(1,)]


# keys that are substrings and superstrings of each other, with LIKE's and regular expressions' metacharacters,
# quotes, backslashes and letters beyond ASCII
TOKEN_KEYS = ["12", "123", "4125", "c_1", "c%1", "c_1%", "%", "_", ".", "a.b", "a.b.c", "\\", "a\\b", "it", "it's",
              "ключ", "ключи", "café", "cafés", "(x)", "x"]
# the other keys' reasons a key's erasure replaces too: where that key holds it between punctuation ('x' in
# `(key '(x)')`), or in text pgscore did not write, where it goes on with punctuation ('a.b' in `profile a.b.c`)
# or an apostrophe ('it' in `profile it's`)
OVER = {"c_1": ["c_1%-free"], "a.b": ["a.b.c-free"], "x": ["(x)", "(x)-free"],
        # (review r1: an apostrophe after a key is the end of a word, `12's`; `it's` is the key it too)
        "it": ["it's-free"]}


@pytest.mark.parametrize("conforming", ["on", "off"])
def test_erasure_scrubs_the_key_as_a_whole_token_not_inside_other_keys(churn, logins, conforming):
    """(session 66, h6) erase_entity replaced every reason holding the key as a substring: erasing key '12' rewrote
    the queued reasons of keys '123' and '4125', '%' those of 'c%1', 'it' that of 'it''s'; and it missed its own
    key in pgscore's format where quoting changes it ('it''s', E'a\\\\b'). A reason names a key as batch.key_text
    writes it (quote_literal's: `(key '12')`), or as text pgscore did not write (a model's own error: `profile 12
    failed`): each is matched whole now, the other keys' reasons left as they were.
    (review r1) Alike in a session with standard_conforming_strings off (docs/sql.md: pgscore works there): the
    expression escaping the key's metacharacters read '\\\\' as one backslash, so `(x)` was a group matching x,
    `a.b` matched axb, and 9 WARNINGs of nonstandard escapes came with each call."""
    from pgscore.batch import key_text
    holders = {k: f"holder-{i}" for i, k in enumerate(TOKEN_KEYS)}
    # each holder's reason names one key: in pgscore's form (quoted) and, for another holder, in free text
    rows = []
    for k, h in holders.items():
        rows.append((h, f"model churn v1: feature 'tenure' is infinite (key {key_text(k)} and 2 more in this chunk)"))
        rows.append((h + "-free", f"the model raised: profile {k} has no tenure"))
    for k in TOKEN_KEYS:  # (each erasure in a transaction rolled back)
        c = psycopg2.connect(churn.dsn)
        try:
            cur = c.cursor()
            cur.execute("DELETE FROM pgscore.error_queue")
            cur.executemany("INSERT INTO pgscore.error_queue (model_name, profile_table, entity_key, reason) "
                            "VALUES ('churn', 'public.customers', %s, %s)", rows)
            cur.execute("SET LOCAL standard_conforming_strings = %s", (conforming,))
            del c.notices[:]
            cur.execute("SELECT table_name, rows FROM pgscore.erase_entity(%s, 'churn')", (k,))
            # (the function's own: this statement's '\\' quoted by psycopg2 is one too)
            assert not [n for n in c.notices if "nonstandard" in n and "QUERY:" in n], (k, c.notices)
            got = dict(cur.fetchall())
            cur.execute("SELECT entity_key FROM pgscore.error_queue WHERE reason LIKE '(erased:%%' ORDER BY 1")
            scrubbed = [r[0] for r in cur.fetchall()]
        finally:
            c.rollback()
            c.close()
        # (a key is bounded by anything but a letter, digit, _ or ': OVER, the side an erasure errs on)
        over = [holders[o.removesuffix("-free")] + ("-free" if o.endswith("-free") else "") for o in OVER.get(k, [])]
        assert scrubbed == sorted([holders[k], holders[k] + "-free"] + over), (k, scrubbed)
        assert got["pgscore.error_queue (reason)"] == 2 + len(over), (k, got)
    # a shadow's last failure message likewise
    query(churn, "INSERT INTO pgscore.shadow_failures SELECT m.model_id, 'public.customers', '22023', 1, 1, 1, now(), "
                 "now(), 'model churn v1: feature ''tenure'' is infinite (key ''123'')' FROM pgscore.models m")
    got = dict(query(logins["admin"], "SELECT table_name, rows FROM pgscore.erase_entity('12', 'churn')"))
    assert got["pgscore.shadow_failures"] == 0, got
    got = dict(query(logins["admin"], "SELECT table_name, rows FROM pgscore.erase_entity('123', 'churn')"))
    assert got["pgscore.shadow_failures"] == 1, got


# text a model's error may put around a key: punctuation, spaces and symbols beyond ASCII, and an apostrophe
BOUNDED = ["profile «12» failed", "profile “12” failed", "profile ‘12’ failed", "customer 12’s tenure",
           "customer 12's tenure", "ids—12—failed", "key\u00a012\u00a0failed", "key 12… failed", "キー「12」失敗",
           "キー（12）失敗", "キー：12。", "المفتاح،12،", "कुंजी 12।", "key 🔑12🔑", "x ×12× y", "12¶", "§12",
           "'12' failed", "prix 12 €"]
# and what continues a word: letters, digits and marks beyond ASCII, _ (and pgscore's own quoting of other keys)
UNBOUNDED = ["ключ12", "12ключ", "café12", "12é", "の12の", "12\u0301", "x_12", "(key '12''s')", "(key 'it''12')"]


def test_erasure_finds_the_key_between_punctuation_beyond_ascii(churn):
    """(session 66, review r1) h6's whole token counted every character beyond ASCII as a letter, and an
    apostrophe as one: a key in text a model wrote around it with «», curly quotes, a dash, a no-break space, CJK
    or Arabic punctuation or an emoji, or followed by 's (`customer 12's tenure`), was not found, where the
    substring of 0147 found it: the erasure left the key in the queue. Failed before: the 16 of BOUNDED beyond
    ASCII and `12's` left as they were."""
    c = psycopg2.connect(churn.dsn)
    try:
        cur = c.cursor()
        cur.execute("DELETE FROM pgscore.error_queue")
        cur.executemany("INSERT INTO pgscore.error_queue (model_name, profile_table, entity_key, reason) "
                        "VALUES ('churn', 'public.customers', %s, %s)",
                        [(f"b{i}", t) for i, t in enumerate(BOUNDED)] + [(f"u{i}", t) for i, t in enumerate(UNBOUNDED)])
        cur.execute("SELECT table_name, rows FROM pgscore.erase_entity('12', 'churn')")
        got = dict(cur.fetchall())
        cur.execute("SELECT reason FROM pgscore.error_queue WHERE reason NOT LIKE '(erased:%%' ORDER BY error_id")
        left = [r[0] for r in cur.fetchall()]
    finally:
        c.rollback()
        c.close()
    assert left == UNBOUNDED, [t for t in BOUNDED if t in left] or left
    assert got["pgscore.error_queue (reason)"] == len(BOUNDED), got


def test_erasure_finds_a_key_as_python_s_repr_writes_it(churn):
    """(session 67) A model's own error names a key as Python's repr writes it (`KeyError: 'a\\\\b'`, a tab as
    `\\t`): a key holding a backslash, tab, newline or carriage return is not in that text as itself, and neither
    the substring nor the whole token found it: the erasure left the key in the queue. It is found now, bounded as
    the key is but for the quotes around it; another key's repr holding it inside a word is left. Failed before:
    the three reasons of the keys' reprs left as they were."""
    keys = {"a\\b": "KeyError: 'a\\\\b'", "tab\tkey": "no profile 'tab\\tkey' in the frame",
            "\\": "bad key: '\\\\' (a backslash)"}
    others = ["KeyError: 'xa\\\\by'", "KeyError: 'tab\\tkeys'"]
    c = psycopg2.connect(churn.dsn)
    try:
        cur = c.cursor()
        cur.execute("DELETE FROM pgscore.error_queue")
        cur.executemany("INSERT INTO pgscore.error_queue (model_name, profile_table, entity_key, reason) "
                        "VALUES ('churn', 'public.customers', %s, %s)",
                        [(f"h{i}", t) for i, t in enumerate(list(keys.values()) + others)])
        got = {}
        for k in keys:
            cur.execute("SELECT table_name, rows FROM pgscore.erase_entity(%s, 'churn')", (k,))
            got[k] = dict(cur.fetchall())["pgscore.error_queue (reason)"]
        cur.execute("SELECT reason FROM pgscore.error_queue WHERE reason NOT LIKE '(erased:%%' ORDER BY error_id")
        left = [r[0] for r in cur.fetchall()]
    finally:
        c.rollback()
        c.close()
    assert left == others, left
    assert got == {k: 1 for k in keys}, got


# keys whose repr is not the key between quotes: both quotes (the one repr quotes with escaped), a control character
# beyond \t \n \r (\x07, \x1b, DEL), a tab beside both quotes, and beyond ASCII what Python does not print (a
# C1 control, a no-break space, a zero-width space, a private use character, one of a private use plane)
REPR_KEYS = ["it's \"x\"", "a\x07b", "esc\x1b[0m", "del\x7f", "tab\t'\"", "nb\xa0sp", "c1\x85", "zw\u200bj",
             "pua\ue000", "plane\U000f0000", "\x07"]


def test_erasure_finds_every_key_as_python_s_repr_writes_it(churn):
    """(session 68) 0169 wrote a key's repr escaping a backslash, tab, newline and carriage return alone: a key holding
    both quotes (repr: 'it\\'s "x"'), another control character ('a\\x07b') or a character Python does not print
    (a no-break space, '\\xa0') was named by a model's KeyError in a form none of the key's forms matched, and the
    erasure left it in the queue's reason and the shadow's last message (a privacy defect: the entity "erased" still
    named). Each key's repr, as Python writes it, is found now in both, and in a log row's own key; the same repr
    inside a longer word is left. Failed before: 0 of the 11 keys' reasons replaced."""
    ids = dict(query(churn, "SELECT name, model_id FROM pgscore.models"))
    reprs = [f"KeyError: {k!r}" for k in REPR_KEYS]
    assert all(k not in r for k, r in zip(REPR_KEYS, reprs)) and len(set(reprs)) == len(reprs)
    others = [f"KeyError: 'x{repr(k)[1:-1]}y'" for k in ("a\x07b", "nb\xa0sp")]
    c = psycopg2.connect(churn.dsn)
    try:
        cur = c.cursor()
        cur.execute("DELETE FROM pgscore.error_queue")
        cur.executemany("INSERT INTO pgscore.error_queue (model_name, profile_table, entity_key, reason) "
                        "VALUES ('churn', 'public.customers', %s, %s)",
                        [(f"h{i}", t) for i, t in enumerate(reprs + others)])
        cur.executemany("INSERT INTO pgscore.shadow_failures VALUES (%s, 'public.customers', '42703', %s, 1, 1, now(), "
                        "now(), %s)", [(ids["churn"], i, t) for i, t in enumerate(reprs)])
        cur.executemany("INSERT INTO pgscore.prediction_log (model_id, entity_key, features, score, label, source, "
                        "cause) VALUES (%s, %s, %s, 0.25, '1', 'query', '{\"via\": \"test\"}')",
                        [(ids["churn"], k, ROW) for k in REPR_KEYS])
        got = {}
        for k in REPR_KEYS:
            cur.execute("SELECT table_name, rows FROM pgscore.erase_entity(%s, 'churn')", (k,))
            t = dict(cur.fetchall())
            got[k] = (t["pgscore.prediction_log"], t["pgscore.error_queue (reason)"], t["pgscore.shadow_failures"])
        cur.execute("SELECT reason FROM pgscore.error_queue WHERE reason NOT LIKE '(erased:%%' ORDER BY error_id")
        left = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT last_message FROM pgscore.shadow_failures WHERE last_message NOT LIKE '(erased:%%'")
        left_messages = cur.fetchall()
    finally:
        c.rollback()
        c.close()
    assert got == {k: (1, 1, 1) for k in REPR_KEYS}, got
    assert left == others, left
    assert left_messages == [], left_messages


def test_erasure_of_a_long_key_is_not_refused_as_too_complex(churn):
    """(session 66, review r1) The whole token was a regular expression holding the key: a 100,000-character key
    named in a reason failed every erasure of it (2201B `invalid regular expression: regular expression is too
    complex`), and one of 20,000 took 8.5 s to compile. A key longer than 1,000 characters is matched as a
    substring (the side an erasure errs on)."""
    key = "k" * 100_000
    c = psycopg2.connect(churn.dsn)
    try:
        cur = c.cursor()
        cur.execute("INSERT INTO pgscore.error_queue (model_name, profile_table, entity_key, reason) VALUES "
                    "('churn', 'public.customers', 'other', %s), ('churn', 'public.customers', 'other2', %s)",
                    (f"model churn v1: x (key '{key}')", f"profile {key}k failed"))
        cur.execute("SELECT table_name, rows FROM pgscore.erase_entity(%s, 'churn')", (key,))
        got = dict(cur.fetchall())
    finally:
        c.rollback()
        c.close()
    assert got["pgscore.error_queue (reason)"] == 2, got


def test_erasure_reads_the_error_queue_once(db_url, churn, logins):
    """(session 65, D2) erase_entity read all of pgscore.error_queue twice, a DELETE of the key's rows (no index
    leads with entity_key) and an UPDATE of the reasons naming the key (a substring: every reason is read): two
    sequential scans of the queue each erasure, 66-70 ms on 200,000 rows. One scan finds both now, each row then
    by its primary key (46-54 ms); what it deletes, replaces and counts is unchanged, of the model asked alone."""
    query(churn, "INSERT INTO pgscore.error_queue (model_name, profile_table, entity_key, reason) "
                 "SELECT 'churn', 'public.customers', 'cust-' || g, 'rescoring failed: tenure out of range' "
                 "FROM generate_series(1000, 5999) g")
    query(churn, "INSERT INTO pgscore.error_queue (model_name, profile_table, entity_key, reason) VALUES "
                 "('churn', 'public.customers', 'cust-9', 'profile cust-9: tenure -3'), "
                 "('churn', 'public.customers', 'cust-8', 'batch with cust-9 failed'), "
                 "('upsell', 'public.customers', 'cust-9', 'profile cust-9: tenure -3'), "
                 "('upsell', 'public.customers', 'cust-7', 'batch with cust-9 failed')")
    query(churn, "ANALYZE pgscore.error_queue")
    c = psycopg2.connect(db_url.replace("postgresql://postgres@", f"postgresql://{ADMIN}@"))  # (one transaction)
    try:
        got = dict(query(c, "SELECT table_name, rows FROM pgscore.erase_entity('cust-9', 'churn')"))
        # (the scans of this transaction, not yet reported to the shared statistics)
        scans = query(c, "SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relid = 'pgscore.error_queue'::regclass")
        c.commit()
    finally:
        c.close()
    assert scans == [(1,)], scans
    assert got["pgscore.error_queue"] == 1 and got["pgscore.error_queue (reason)"] == 1, got
    assert query(churn, "SELECT model_name, entity_key, reason FROM pgscore.error_queue "
                        "WHERE entity_key IN ('cust-7', 'cust-8', 'cust-9') ORDER BY 1, 2") == [
        ("churn", "cust-8", "(erased: the text named an erased entity key)"),
        ("upsell", "cust-7", "batch with cust-9 failed"), ("upsell", "cust-9", "profile cust-9: tenure -3")]
    assert query(churn, "SELECT count(*) FROM pgscore.error_queue WHERE reason = 'rescoring failed: tenure out of "
                        "range'") == [(5000,)]
    # every model's: the rest; again, nothing left to do; NULL and an unknown model refused
    got = dict(query(logins["admin"], "SELECT table_name, rows FROM pgscore.erase_entity('cust-9')"))
    assert got["pgscore.error_queue"] == 1 and got["pgscore.error_queue (reason)"] == 1, got
    got = dict(query(logins["admin"], "SELECT table_name, rows FROM pgscore.erase_entity('cust-9')"))
    assert got["pgscore.error_queue"] == 0 and got["pgscore.error_queue (reason)"] == 0, got
    assert query(churn, "SELECT count(*) FROM pgscore.error_queue WHERE strpos(reason, 'cust-9') > 0") == [(0,)]
    e = refused(logins["admin"], "SELECT * FROM pgscore.erase_entity(NULL)")
    assert e.pgcode == "22023" and e.diag.message_hint, e.pgerror
    e = refused(logins["admin"], "SELECT * FROM pgscore.erase_entity('cust-9', 'nosuch')")
    assert e.pgcode == "42704" and e.diag.message_hint, e.pgerror


def test_erasure_names_a_model_version_fitted_on_the_key_as_a_word(churn, logins):
    """(session 65, D2) A key a model was fitted on as a text feature's word (an id column among its features) is in
    pgscore.models.text_categories and in the artifact, which an erasure cannot change (the version scores with those
    codes): erase_entity said nothing of it, and the docs said no other table held keys. It names such versions in a
    NOTICE now (of p_model alone where given), with a hint to retrain; a key that is no word says nothing."""
    from test_text_categories import NAMES as WORD_NAMES, binary_model

    model, Xw, yw = binary_model()
    registry.deploy(churn.dsn, "regions", model, Xw, yw, feature_names=WORD_NAMES)
    admin = logins["admin"]
    del admin.notices[:]
    got = dict(query(admin, "SELECT table_name, rows FROM pgscore.erase_entity('west')"))
    assert got["pgscore.prediction_log"] == 0, got
    said = [n for n in admin.notices if "erase_entity" in n]
    assert len(said) == 1 and "the key is a word a model was fitted on" in said[0], admin.notices
    assert "regions v1 (region)" in said[0] and "churn" not in said[0], said
    # of the model asked alone; no word, no notice
    for key, model_name in (("west", "churn"), ("cust-9", None), ("", None)):
        del admin.notices[:]
        query(admin, "SELECT * FROM pgscore.erase_entity(%s, %s)", (key, model_name))
        assert not [n for n in admin.notices if "fitted on" in n], (key, admin.notices)
    assert query(churn, "SELECT text_categories->'region' ? 'west' FROM pgscore.models WHERE name = 'regions'") == [
        (True,)]


def test_a_period_or_a_floor_reaching_before_4713_bc_is_named_not_a_bare_timestamp_overflow(churn, logins):
    """(review r2 of 0147) now() minus '10000 years' is before 4713 BC, the earliest time PostgreSQL holds: both
    functions failed with a bare 22008 "timestamp out of range"; a floor of '10000 years' (an owner's "keep every
    day") made every call fail so, and `maintain --keep '90 days'` blame its --keep for reaching before 4713 BC,
    `--keep-features '10000 years'` exit 1. A period that long is refused by name (22008, a hint; maintain exit 2);
    a floor that long keeps every day: any period is shorter than it (42501, maintain exit 1). Nothing changes."""
    log_rows(churn, ["400 days", "0 days"])
    admin = logins["admin"]
    for fn in ("drop_log_partitions", "redact_log_features"):
        e = refused(admin, f"SELECT pgscore.{fn}('10000 years')")
        assert e.pgcode == "22008" and f"pgscore.{fn}" in e.pgerror and "4713 BC" in e.pgerror, e.pgerror
        assert e.diag.message_hint, fn
    r = pgscore_cli("maintain", "--keep-features", "10000 years", "--db", churn.dsn)
    assert r.returncode == 2 and "4713 BC" in r.stderr, r.stderr
    query(churn, "UPDATE pgscore.retention_policy SET keep_log = '10000 years', keep_features = '10000 years'")
    for fn in ("drop_log_partitions", "redact_log_features"):
        e = refused(admin, f"SELECT pgscore.{fn}('90 days')")
        assert e.pgcode == "42501" and "shorter than" in e.pgerror and "10000 years" in e.pgerror, e.pgerror
    r = pgscore_cli("maintain", "--keep", "90 days", "--db", churn.dsn)
    assert r.returncode == 1 and "shorter than the retention floor" in r.stderr, r.stderr
    r = pgscore_cli("maintain", "--keep-features", "90 days", "--db", churn.dsn)
    assert r.returncode == 1 and "shorter than the floor of features' retention" in r.stderr, r.stderr
    assert "partition(s) created" not in r.stdout, r.stdout
    assert query(churn, "SELECT count(*), count(*) FILTER (WHERE cardinality(features) > 0) "
                        "FROM pgscore.prediction_log") == [(2, 2)]
    assert query(churn, "SELECT count(*) FROM pgscore.log_retention") == [(0,)]


@pytest.mark.parametrize("style", ["iso_8601", "postgres_verbose", "sql_standard"])
def test_maintain_keep_runs_under_every_interval_style(db_url, style):
    """Session 66's trial T21 (finding 1): `pgscore maintain --keep` checked its period with `SELECT %s::interval`,
    whose value psycopg2 reads only as IntervalStyle 'postgres' prints it: under a role's or PGOPTIONS'
    'iso_8601' it stopped, `pgscore: error: iso_8601 intervalstyle currently not supported` (exit 1, no hint),
    and retention did not run."""
    r = pgscore_cli("maintain", "--keep", "200 days", "--keep-features", "190 days", "--db", db_url,
                    env={"PGOPTIONS": f"-c IntervalStyle={style}"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "retention '200 days', before " in r.stdout and "features kept '190 days'" in r.stdout, r.stdout


def test_retentions_notices_say_their_cut_in_utc_whatever_the_sessions_zone_and_datestyle(db_url):
    """Session 66's trial T21 (finding 4): retention cuts at a UTC midnight, and its NOTICEs printed the cut in the
    caller's TimeZone and DateStyle: from New York `pgscore maintain --keep 200d` said `before 2026-05-20
    20:00:00-04` (read there as 20:00 local), psql under DateStyle German `20.05.2026 20:00:00 EDT`. They say it
    in UTC now, as create_log_partitions does its days."""
    conn = connect(db_url)
    try:
        query(conn, "SET TimeZone = 'America/New_York'; SET DateStyle = 'German'")
        (cut,), = query(conn, "SELECT to_char(date_trunc('day', (now() AT TIME ZONE 'UTC') - interval '200 days'), "
                              "'YYYY-MM-DD') || ' 00:00:00+00'")
        query(conn, "SELECT pgscore.drop_log_partitions('200 days')")
        query(conn, "SELECT pgscore.redact_log_features('200 days')")
        said = [n for n in conn.notices if ": before " in n]
        assert len(said) == 2 and all(f": before {cut}: " in n for n in said), conn.notices
    finally:
        conn.close()
    r = pgscore_cli("maintain", "--keep", "200 days", "--keep-features", "200 days", "--db", db_url,
                    env={"PGOPTIONS": "-c TimeZone=America/New_York"})
    assert r.returncode == 0 and f"retention '200 days', before {cut}: " in r.stdout, r.stdout + r.stderr
    assert f"(before {cut}: 0 row(s) redacted" in r.stdout, r.stdout


@pytest.mark.parametrize("style", ["iso_8601", "postgres_verbose", "sql_standard"])
def test_retentions_record_and_refusals_say_the_period_alike_under_every_interval_style(churn, style):
    """Review r5 of session 66 (trial T21): pgscore.log_retention's record of a call kept its period as the caller's
    IntervalStyle printed it, `"older_than": "P200D"` under a role's iso_8601, `"@ 200 days"` under postgres_verbose
    (an audit row that read differently by who ran it, for ever), and the floor's refusal said `p_older_than P10D is
    shorter than the retention floor, P2Y`; 0159 made the cut read alike. The period reads as 'postgres' prints it."""
    log_rows(churn, ["300 days", "300 days"])
    query(churn, f"SET IntervalStyle = {style}")
    query(churn, "SELECT pgscore.redact_log_features('200 days')")
    query(churn, "SELECT pgscore.drop_log_partitions('200 days')")
    query(churn, "UPDATE pgscore.retention_policy SET keep_log = '2 years', keep_features = '1 year'")
    floors = [str(refused(churn, f"SELECT pgscore.{f}('10 days')")).splitlines()[0]
              for f in ("drop_log_partitions", "redact_log_features")]
    query(churn, "RESET IntervalStyle")
    assert query(churn, "SELECT action, detail->>'older_than' FROM pgscore.log_retention ORDER BY retention_id") \
        == [("redact", "200 days"), ("drop", "200 days")]
    assert "p_older_than 10 days is shorter than the retention floor, 2 years" in floors[0], floors
    assert "p_older_than 10 days is shorter than the floor of features' retention, 1 year" in floors[1], floors
    for flag, floor in (("--keep", "retention floor, 2 years"), ("--keep-features", "floor of features' retention, 1 year")):
        r = pgscore_cli("maintain", flag, "10 days", "--db", churn.dsn, env={"PGOPTIONS": f"-c IntervalStyle={style}"})
        assert r.returncode == 1 and f"p_older_than 10 days is shorter than the {floor}" in r.stderr, r.stderr
