"""Rescoring on INSERT: wiring, every way rows arrive, nothing lost, audit, bad input, dump and restore."""

import contextlib
import datetime
import io
import json
import os
import re
import subprocess
import time

import numpy as np
import psycopg2
import pytest
from psycopg2 import errors
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from helpers import ensure_role, hinted, make_shop, nested_statements, pgscore_cli, plans_of, query, run_past_a_lock
from pgscore import datasets, registry, sample
from pgscore.datasets import CHURN_FEATURES
from pgscore.localdb import pg_bin_dir

N_CUSTOMERS = 300


@pytest.fixture(scope="module")
def trained():
    X, y, names = datasets.churn(2000, seed=3)
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y), X, y


@pytest.fixture(scope="module")
def shop_template(built_template, trained):
    """A template with customers 1..N_CUSTOMERS, an empty complaints table and model churn v1 live (made once,
    not for each of the tests that take `shop`)."""
    model, X, y = trained

    def build(url):
        make_shop(url, model, X, y, N_CUSTOMERS).close()

    return built_template(build)


@pytest.fixture
def shop(db_url):
    """An autocommit connection to a database with customers 1..N_CUSTOMERS, an empty complaints table and
    model churn v1 live (a clone of shop_template)."""
    conn = psycopg2.connect(db_url)
    conn.autocommit = True
    yield conn
    conn.close()


def attach(conn, **options):
    with conn.cursor() as cur:
        return sample.rescore_complaints(cur, **options)


def profiles(conn, ids=None):
    """{id: (features, support_calls, complaints_30d, last_complaint_at, churn_score, scored_at)}"""
    cols = ", ".join(CHURN_FEATURES)
    rows = query(conn, f"SELECT id, ARRAY[{cols}]::float8[], support_calls, complaints_30d, last_complaint_at, "
                       "churn_score, scored_at FROM customers" + (" WHERE id = ANY(%s)" if ids else "") + " ORDER BY id",
                 (list(ids),) if ids else None)
    return {r[0]: r[1:] for r in rows}


def assert_scores_match_model(conn, model, ids):
    """Each profile's stored score equals scikit-learn's on its stored (final) features."""
    rows = profiles(conn, ids)
    feats = np.array([r[0] for r in rows.values()], dtype=float)
    want = model.predict_proba(feats)[:, 1]
    got = np.array([r[4] for r in rows.values()], dtype=float)
    assert np.max(np.abs(got - want)) < 1e-9


def trigger_log(conn):
    return query(conn, "SELECT entity_key, score, features, cause FROM pgscore.prediction_log "
                       "WHERE source = 'trigger' ORDER BY logged_at, entity_key")


# -- the happy path, every way rows arrive -----------------------------------------------------------

def test_single_row_insert_updates_counters_and_score_in_the_same_transaction(shop, trained):
    model = trained[0]
    rid = attach(shop)
    before = profiles(shop, [7])[7]
    assert before[4] is None  # never scored
    shop.autocommit = False
    with shop.cursor() as cur:
        cur.execute("INSERT INTO complaints (customer_id, kind) VALUES (7, 'billing') RETURNING complaint_id")
        (cid,) = cur.fetchone()
        cur.execute("SELECT support_calls, complaints_30d, churn_score, scored_at = now() FROM customers WHERE id = 7")
        calls, c30, score, at_now = cur.fetchone()
    shop.commit()
    shop.autocommit = True
    assert calls == before[1] + 1 and c30 == 1 and at_now  # before the commit, inside the transaction
    assert_scores_match_model(shop, model, [7])
    (key, logged, feats, cause), = trigger_log(shop)
    assert key == "7" and logged == score
    assert feats == profiles(shop, [7])[7][0]
    assert cause["via"] == "trigger" and cause["event_table"] == "public.complaints"
    assert cause["event_ids"] == [cid] and cause["events"] == 1 and cause["rescoring_id"] == rid


def test_multi_row_insert_select_and_copy_rescore_once_per_statement(shop, trained):
    model = trained[0]
    attach(shop)
    before = profiles(shop)
    query(shop, "INSERT INTO complaints (customer_id) VALUES (1), (2), (2), (3), (3), (3)")
    query(shop, "INSERT INTO complaints (customer_id) SELECT 1 + g % 50 FROM generate_series(0, 199) g")
    with shop.cursor() as cur:
        cur.copy_expert("COPY complaints (customer_id, kind) FROM STDIN",
                        io.StringIO("".join(f"{k}\tcopy\n" for k in [4, 4, 5, 60, 60, 60])))
    after = profiles(shop)
    events = dict(query(shop, "SELECT customer_id, count(*) FROM complaints GROUP BY 1"))
    for k, v in after.items():
        assert v[1] == before[k][1] + events.get(k, 0), k  # support_calls: +1 per complaint
        assert v[2] == (events[k] if k in events else before[k][2]), k  # complaints_30d: recounted
    assert_scores_match_model(shop, model, list(events))
    # one audit row per profile per statement: 3 + 50 + 3 rows, the events that caused each
    per_stmt = query(shop, "SELECT cause->>'statement_at', count(*), sum((cause->>'events')::int) "
                           "FROM pgscore.prediction_log WHERE source = 'trigger' GROUP BY 1 ORDER BY 1")
    assert [(n, e) for _, n, e in per_stmt] == [(3, 6), (50, 200), (3, 6)]
    ids = [r[0] for r in query(shop, "SELECT cause->'event_ids' FROM pgscore.prediction_log WHERE entity_key = '3' "
                                     "ORDER BY logged_at, cause->>'statement_at'")]
    assert sum(ids, []) == [r[0] for r in query(shop, "SELECT complaint_id FROM complaints WHERE customer_id = 3 "
                                                      "ORDER BY complaint_id")]
    assert ids[0] == [4, 5, 6]  # the first statement's three complaints for customer 3
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]


def wait_until_the_insert_waits(probe, t, pid=None, seconds=10) -> bool:
    """Whether the INSERT INTO complaints of thread `t` (of backend `pid`, when known) came to wait on a
    lock within `seconds`."""
    for _ in range(int(seconds / 0.05)):
        if query(probe, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND query LIKE 'INSERT INTO complaints%%' AND (%s::int IS NULL OR pid = %s::int)",
                 (pid, pid))[0][0]:
            return True
        t.join(0.05)
    return False


def while_the_insert_waits(inserter, holder, probe, insert, release):
    """Run `insert` (on connection `inserter`) in a thread until it waits on a lock, then `release()`
    (what `holder` does to let it go on); then commit the insert's transaction and close all three."""
    import threading

    pid = inserter.get_backend_pid()  # before the thread uses the connection
    t = threading.Thread(target=insert)
    t.start()
    try:
        assert wait_until_the_insert_waits(probe, t, pid)
        release()
        t.join(30)
        assert not t.is_alive()
        inserter.commit()
    finally:
        holder.rollback()
        t.join(10)
        for c in (holder, inserter, probe):
            c.close()


def test_profiles_are_updated_in_key_order(shop):
    """The profiles a statement touches are locked in key order (FOR UPDATE over a sort): blocked at
    customer 2, a statement for customers 3, 1, 2 holds 1 and not yet 3."""
    import threading

    attach(shop)
    holder = psycopg2.connect(shop.dsn)
    with holder.cursor() as cur:
        cur.execute("SELECT 1 FROM customers WHERE id = 2 FOR UPDATE")
    done = []
    t = threading.Thread(target=lambda: done.append(
        query(shop.dsn, "INSERT INTO complaints (customer_id) VALUES (3), (1), (2)")))
    t.start()
    probe = psycopg2.connect(shop.dsn)
    probe.autocommit = True
    try:
        assert wait_until_the_insert_waits(probe, t)
        with pytest.raises(errors.LockNotAvailable):
            query(probe, "SELECT 1 FROM customers WHERE id = 1 FOR UPDATE NOWAIT")
        probe.autocommit = False
        assert query(probe, "SELECT id FROM customers WHERE id = 3 FOR UPDATE NOWAIT") == [(3,)]
        probe.rollback()
    finally:
        holder.rollback()
        t.join(10)
        holder.close()
        probe.close()
    assert done == [None] and not t.is_alive()


def test_windowed_and_max_counters(shop):
    attach(shop)
    query(shop, "ALTER TABLE complaints DISABLE TRIGGER USER")
    query(shop, "INSERT INTO complaints (customer_id, created_at) VALUES (9, now() - interval '40 days'), "
                "(9, now() - interval '10 days')")
    query(shop, "ALTER TABLE complaints ENABLE TRIGGER USER")
    query(shop, "INSERT INTO complaints (customer_id, created_at) VALUES (9, now() - interval '1 day')")
    calls, c30, last = query(shop, "SELECT support_calls, complaints_30d, last_complaint_at = "
                                   "(SELECT max(created_at) FROM complaints) FROM customers WHERE id = 9")[0]
    assert c30 == 2  # the 10-day and 1-day complaints, not the 40-day one
    assert last is True  # the 1-day complaint's time: the counter saw only it (the others came untriggered)


@pytest.mark.parametrize("window", ["P30D", "720:00:00", "30 days"])
def test_a_window_with_its_unit_in_any_notation_is_taken(shop, window):
    """ISO 8601 and a clock's hours count as units: only a bare number (seconds to PostgreSQL) is refused."""
    query(shop, ATTACH, {**GOOD, "counters": json.dumps(
        {"support_calls": "count", "complaints_30d": {"window": window, "time": "created_at"}})})
    query(shop, "INSERT INTO complaints (customer_id, created_at) VALUES (9, now() - interval '40 days'), "
                "(9, now() - interval '29 days'), (9, now() - interval '1 minute')")
    assert query(shop, "SELECT complaints_30d FROM customers WHERE id = 9") == [(2,)]


def test_add_max_and_min_counters_keep_their_extremes(shop):
    """Several events in one statement: count adds them all, max and min take the extremes of the
    statement and of the value before (an older event leaves max alone, a newer one leaves min)."""
    query(shop, "ALTER TABLE customers ADD COLUMN first_at timestamptz")
    query(shop, "SELECT pgscore.attach_rescoring('complaints', 'customers', 'customer_id', 'churn', 'churn_score', "
                "%s::jsonb, p_profile_key => 'id')",
          (json.dumps({"support_calls": "count", "last_complaint_at": {"max": "created_at"},
                       "first_at": {"min": "created_at"}}),))
    (before,), = query(shop, "SELECT support_calls FROM customers WHERE id = 9")
    query(shop, "INSERT INTO complaints (customer_id, created_at) VALUES (9, '2026-01-05Z'), (9, '2026-01-09Z'), "
                "(9, '2026-01-07Z'), (10, '2026-02-01Z')")
    at = "SELECT support_calls - %s, last_complaint_at = %s::timestamptz, first_at = %s::timestamptz FROM customers WHERE id = 9"
    assert query(shop, at, (before, "2026-01-09Z", "2026-01-05Z")) == [(3, True, True)]
    query(shop, "INSERT INTO complaints (customer_id, created_at) VALUES (9, '2026-01-01Z')")  # older than both
    assert query(shop, at, (before, "2026-01-09Z", "2026-01-01Z")) == [(4, True, True)]
    query(shop, "INSERT INTO complaints (customer_id, created_at) VALUES (9, '2026-01-20Z')")  # newer than both
    assert query(shop, at, (before, "2026-01-20Z", "2026-01-01Z")) == [(5, True, True)]


def test_custom_expressions_and_recompute(shop, trained):
    query(shop, "ALTER TABLE customers ADD COLUMN refunds float8 NOT NULL DEFAULT 0, ADD COLUMN kinds text, "
                "ADD COLUMN billing_total bigint")
    query(shop, "ALTER TABLE complaints ADD COLUMN refund float8")
    attach(shop, counters={
        "refunds": {"add": "COALESCE(refund, 0) * 2"},
        "kinds": {"set": "string_agg(DISTINCT kind, ',' ORDER BY kind)"},
        "billing_total": {"recompute": "count(*) FILTER (WHERE e.kind = 'billing')"},
        "support_calls": "count",
    })
    query(shop, "INSERT INTO complaints (customer_id, kind, refund) VALUES (11, 'billing', 5), (11, 'network', 2.5), "
                "(11, 'billing', NULL)")
    query(shop, "INSERT INTO complaints (customer_id, kind) VALUES (11, 'billing')")
    assert query(shop, "SELECT refunds, kinds, billing_total FROM customers WHERE id = 11") == [(15.0, "billing", 3)]
    assert_scores_match_model(shop, trained[0], [11])


def test_a_set_counter_keeps_its_aggregate_and_the_last_event_by_id_where_it_orders_them(shop):
    """"Fold order for set counters": a statement (a multi-row INSERT, a COPY) brings several events of one profile,
    and a set counter keeps one value. It is its aggregate's over the profile's new events of the statement (the value
    before is replaced); an expression that is no aggregate (e.kind) is refused at attach (42803), and its hint now
    gives the aggregate that keeps the last event's value by the wiring's event id column: by id, not by the order
    the rows arrived (none of which SQL promises to an aggregate without ORDER BY). Before, the refusal said
    PostgreSQL's GROUP BY message alone."""
    query(shop, "ALTER TABLE customers ADD COLUMN last_kind text")
    with pytest.raises(psycopg2.Error) as e:
        attach(shop, counters={"support_calls": "count", "last_kind": {"set": "e.kind"}})
    assert e.value.pgcode == "42803", e.value.pgerror
    assert e.value.diag.message_primary.startswith("pgscore: counter 'last_kind': column \"e.kind\" must appear in "
                                                   "the GROUP BY clause"), e.value.diag.message_primary
    assert e.value.diag.message_hint == (
        "a set counter takes an aggregate over each profile's new events of the statement; to keep the value of its "
        'last event (by e.complaint_id) write {"last": "e.kind"}'), e.value.diag.message_hint
    last = "(pg_catalog.array_agg((e.kind) ORDER BY e.complaint_id DESC))[1]"
    attach(shop, counters={"support_calls": "count", "last_kind": {"set": last}})
    # the highest id last in no order the rows arrive in
    query(shop, "INSERT INTO complaints (complaint_id, customer_id, kind) OVERRIDING SYSTEM VALUE VALUES "
                "(1005, 9, 'network'), (1003, 9, 'billing'), (1004, 9, 'other'), (1002, 10, 'billing')")
    assert query(shop, "SELECT id, last_kind FROM customers WHERE id IN (9, 10) ORDER BY id") == [
        (9, "network"), (10, "billing")]
    with shop.cursor() as cur:  # COPY: ids drawn in the order the rows arrive
        cur.copy_expert("COPY complaints (customer_id, kind) FROM STDIN", io.StringIO("9\tz\n9\ta\n9\tm\n"))
    assert query(shop, "SELECT last_kind FROM customers WHERE id = 9") == [("m",)]
    query(shop, "INSERT INTO complaints (customer_id, kind) VALUES (9, 'billing')")  # the value before replaced
    assert query(shop, "SELECT last_kind FROM customers WHERE id = 9") == [("billing",)]


def test_a_last_counter_keeps_the_newest_events_value_by_the_event_id(shop, trained):
    """{"last": expr} keeps expr of the profile's newest event of the statement, by the wiring's event id column
    (complaint_id, the primary key): in a single-row INSERT, a multi-row INSERT whose ids arrive in no order, and a
    COPY; the newest event's NULL is kept (it is the last value), and each later statement replaces the value. Before,
    the rule was refused (unknown rule, 22023) and a set counter with an ordered array_agg was the way."""
    query(shop, "ALTER TABLE customers ADD COLUMN last_kind text, ADD COLUMN last_note text")
    query(shop, "ALTER TABLE complaints ADD COLUMN note text")
    attach(shop, counters={"support_calls": "count", "last_kind": {"last": "e.kind"},
                           "last_note": {"last": "e.note"}})
    assert query(shop, "SELECT counters->'last_kind' FROM pgscore.rescoring") == [({"last": "e.kind"},)]
    last = "SELECT id, last_kind, last_note FROM customers WHERE id IN (9, 10) ORDER BY id"
    query(shop, "INSERT INTO complaints (customer_id, kind, note) VALUES (9, 'outage', 'first')")
    assert query(shop, last) == [(9, "outage", "first"), (10, None, None)]
    query(shop, "INSERT INTO complaints (complaint_id, customer_id, kind, note) OVERRIDING SYSTEM VALUE VALUES "
                "(1005, 9, 'network', NULL), (1003, 9, 'billing', 'b'), (1004, 9, 'other', 'o'), "
                "(1002, 10, 'billing', 'x'), (1001, 10, 'network', NULL)")
    assert query(shop, last) == [(9, "network", None), (10, "billing", "x")]  # 1005's NULL note kept
    with shop.cursor() as cur:  # COPY: ids drawn in the order the rows arrive
        cur.copy_expert("COPY complaints (customer_id, kind, note) FROM STDIN",
                        io.StringIO("9\tz\tz\n10\ta\t\\N\n9\ta\ta\n9\tm\t\\N\n10\tq\tq\n"))
    assert query(shop, last) == [(9, "m", None), (10, "q", "q")]
    query(shop, "INSERT INTO complaints (customer_id, kind, note) VALUES (9, 'billing', 'later')")
    assert query(shop, last) == [(9, "billing", "later"), (10, "q", "q")]
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
    assert_scores_match_model(shop, trained[0], [9, 10])


def test_a_last_counter_by_an_expression_orders_by_it_nulls_last_then_by_the_id(shop):
    """{"last": expr, "by": order}: the newest event is the one of the highest `by` (NULLs last, as the oldest),
    ties and NULLs broken by the event id; a later statement replaces the value whatever its `by` (a value is the
    last statement's, as the other kinds combine the statement with the value before)."""
    query(shop, "ALTER TABLE customers ADD COLUMN last_kind text")
    query(shop, "ALTER TABLE complaints ALTER COLUMN created_at DROP NOT NULL")
    attach(shop, counters={"last_kind": {"last": "e.kind", "by": "e.created_at"}})
    assert query(shop, "SELECT counters FROM pgscore.rescoring") == [
        ({"last_kind": {"last": "e.kind", "by": "e.created_at"}},)]
    query(shop, "INSERT INTO complaints (complaint_id, customer_id, kind, created_at) OVERRIDING SYSTEM VALUE VALUES "
                "(2001, 9, 'a', '2026-01-05Z'), (2002, 9, 'b', '2026-01-09Z'), (2005, 9, 'c', NULL), "
                "(2004, 9, 'd', '2026-01-09Z'), (2003, 9, 'e', '2026-01-01Z'), "
                "(2011, 10, 'f', NULL), (2012, 10, 'g', NULL), (2010, 10, 'h', NULL)")
    at = "SELECT id, last_kind FROM customers WHERE id IN (9, 10) ORDER BY id"
    assert query(shop, at) == [(9, "d"), (10, "g")]  # 2004 and 2002 tie on 01-09: the higher id
    query(shop, "INSERT INTO complaints (customer_id, kind, created_at) VALUES (9, 'older', '2020-01-01Z')")
    assert query(shop, at) == [(9, "older"), (10, "g")]


def test_last_counters_are_refused_where_nothing_orders_the_events_or_the_rule_is_not_theirs(shop):
    """A last counter's refusals, each at attach, with nothing left of the wiring: without "by" on events with no id
    column (42P10); "by" on another kind (22023); an aggregate as its expression or its "by" (42803, PostgreSQL's
    nested aggregate in the DETAIL); values that do not go into the column (42804, as the other kinds say it); array
    values, of which an array_agg's first element is no array (0A000). With "by", events without an id column are
    wired."""
    query(shop, "ALTER TABLE customers ADD COLUMN last_kind text, ADD COLUMN n integer")
    query(shop, "CREATE TABLE visits (customer_id bigint, page text, at timestamptz, tags text[])")

    def refused(rule, events="complaints", column="last_kind"):
        with pytest.raises(psycopg2.Error) as e:
            query(shop, ATTACH, {**GOOD, "events": events, "counters": json.dumps({column: rule})})
        assert query(shop, "SELECT count(*) FROM pgscore.rescoring") == [(0,)]
        return e.value

    e = refused({"last": "e.page"}, "visits")
    assert e.pgcode == "42P10", e.pgerror
    assert e.diag.message_primary == (
        'pgscore: counter \'last_kind\' ({"last": "e.page"}) keeps the value of the newest event, by the event id '
        "column, and public.visits has none: no p_event_id_column was given and it has no primary key of one column")
    assert 'e.g. {"last": "e.page", "by": "e.created_at"}' in e.diag.message_hint, e.diag.message_hint
    e = refused({"set": "e.page"}, "visits")  # a set that is no aggregate, on events without an id: "by" hinted
    assert e.pgcode == "42803", e.pgerror
    assert e.diag.message_hint == ("a set counter takes an aggregate over each profile's new events of the statement; "
                                   'to keep the value of its last event write {"last": "e.page", "by": "e.ID"}, ID a '
                                   "column that orders the events (or wire one as p_event_id_column)")
    for rule in ({"max": "e.created_at", "by": "e.complaint_id"}, {"set": "max(e.kind)", "by": "e.complaint_id"},
                 {"window": "30 days", "time": "created_at", "by": "e.complaint_id"}):
        e = refused(rule)
        assert e.pgcode == "22023", e.pgerror
        assert e.diag.message_primary.startswith(
            'pgscore: counter \'last_kind\': "by" orders the events of a last counter, and no other rule takes it'), \
            e.diag.message_primary
    for rule in ({"last": "max(e.kind)"}, {"last": "e.kind", "by": "max(e.created_at)"}):
        e = refused(rule)
        assert e.pgcode == "42803", e.pgerror
        assert e.diag.message_primary == (f"pgscore: counter 'last_kind' ({json.dumps(rule)}): a last counter takes "
                                          'an expression over each event e (and "by" one too), which is no aggregate '
                                          "and holds none"), e.diag.message_primary
        assert e.diag.message_detail == "PostgreSQL: aggregate function calls cannot be nested", e.diag.message_detail
        assert e.diag.message_hint.startswith("an aggregate over each profile's new events of the statement is a set "
                                              "counter: {\"set\": "), e.diag.message_hint
    e = refused({"last": "e.kind"}, column="n")
    assert e.pgcode == "42804", e.pgerror
    assert e.diag.message_primary == ('pgscore: counter \'n\' ({"last": "e.kind"}) computes text values and '
                                      "public.customers.n is integer: a last counter takes a column its expression's "
                                      "values are assigned to"), e.diag.message_primary
    e = refused({"last": "e.tags", "by": "e.at"}, "visits")
    assert e.pgcode == "0A000", e.pgerror
    assert e.diag.message_primary == ('pgscore: counter \'last_kind\' ({"last": "e.tags", "by": "e.at"}) computes '
                                      "text[] values: a last counter keeps a value that is no array")
    query(shop, ATTACH, {**GOOD, "events": "visits",
                         "counters": json.dumps({"last_kind": {"last": "e.page", "by": "e.at"}})})
    query(shop, "INSERT INTO visits VALUES (4, 'old', '2026-01-01Z'), (4, 'new', '2026-01-02Z'), (4, 'none', NULL)")
    assert query(shop, "SELECT last_kind FROM customers WHERE id = 4") == [("new",)]


# -- missing profiles, NULL keys -----------------------------------------------------------------------

def test_missing_profile_is_created_by_default(shop):
    attach(shop)
    query(shop, "INSERT INTO complaints (customer_id) VALUES (5000), (5000)")
    calls, score = query(shop, "SELECT support_calls, churn_score FROM customers WHERE id = 5000")[0]
    assert calls == 2 and score is None  # created with its counters; its other features are NULL
    (reason, state, attempts), = query(shop, "SELECT reason, sqlstate, attempts FROM pgscore.error_queue "
                                             "WHERE entity_key = '5000'")
    assert "tenure_months" in reason and state == "22023" and attempts == 1


def test_a_profile_that_cannot_be_created_is_queued_and_the_others_rescored(shop, trained):
    query(shop, "ALTER TABLE customers ADD COLUMN region text NOT NULL DEFAULT 'north'; "
                "ALTER TABLE customers ALTER COLUMN region DROP DEFAULT")
    attach(shop)  # warned: a missing profile cannot be created
    warned = [n for n in shop.notices if "NOT NULL column(s) without a default: region" in n]
    assert warned and "such events will be kept and their profiles queued" in warned[0], shop.notices
    before = profiles(shop, [1])[1]
    query(shop, "INSERT INTO complaints (customer_id) VALUES (5000), (1)")
    assert query(shop, "SELECT count(*) FROM complaints") == [(2,)]  # both events kept
    assert query(shop, "SELECT count(*) FROM customers WHERE id = 5000") == [(0,)]
    after = profiles(shop, [1])[1]
    assert after[1] == before[1] + 1 and after[4] is not None  # the profile that exists: counted and scored
    assert_scores_match_model(shop, trained[0], [1])
    (key, reason, state), = query(shop, "SELECT entity_key, reason, sqlstate FROM pgscore.error_queue")
    assert (key, state) == ("5000", "23502")
    assert reason.startswith("public.customers has no row with this id and creating it failed: null value in "
                             'column "region"'), reason


def test_a_missing_profile_that_cannot_be_created_leaves_the_others_created_and_counted(shop, trained):
    """With 'create', one missing profile that a constraint refuses must not cost the statement's other
    missing profiles their rows and counters: they are created and counted, and only its key is queued,
    with its reason. retry_failed does not create it later (its events' counters were never applied), and
    says so."""
    query(shop, "ALTER TABLE customers ADD CONSTRAINT below_7000 CHECK (id < 7000)")
    attach(shop)
    query(shop, "INSERT INTO complaints (customer_id) VALUES (5000), (5000), (7000), (5001), (1)")
    assert query(shop, "SELECT count(*) FROM complaints") == [(5,)]  # every event kept
    assert query(shop, "SELECT id, support_calls FROM customers WHERE id >= 5000 ORDER BY id") == [(5000, 2), (5001, 1)]
    assert_scores_match_model(shop, trained[0], [1])
    queued = {k: (s, r) for k, s, r in query(shop, "SELECT entity_key, sqlstate, reason FROM pgscore.error_queue")}
    assert sorted(queued) == ["5000", "5001", "7000"], queued  # (5000 and 5001: created with NULL features)
    assert queued["5000"][0] == queued["5001"][0] == "22023", queued
    state, reason = queued["7000"]
    assert state == "23514" and reason.startswith(
        "public.customers has no row with this id and creating it failed: new row for relation \"customers\" "
        "violates check constraint \"below_7000\""), reason
    query(shop, "ALTER TABLE customers DROP CONSTRAINT below_7000")
    query(shop, "SELECT * FROM pgscore.retry_failed()")
    assert query(shop, "SELECT count(*) FROM customers WHERE id = 7000") == [(0,)]
    (state, reason), = query(shop, "SELECT sqlstate, reason FROM pgscore.error_queue WHERE entity_key = '7000'")
    assert state == "P0002" and "retry_failed does not create a missing profile" in reason, reason


# a counter whose expression raises for one event's value (10 / 0): the trial's division by zero, a bad cast alike
FAULTY = {"support_calls": "count", "complaints_30d": {"window": "30 days", "time": "created_at"},
          "late_payments": {"add": "10 / e.amount"}}


def _faulty_shop(conn, defaults=False):
    """complaints with an amount (5 by default) and the FAULTY counters attached; with `defaults`, every feature
    column of customers has a default, so that a profile the trigger creates can be scored at once."""
    query(conn, "ALTER TABLE complaints ADD COLUMN amount numeric DEFAULT 5")
    if defaults:
        query(conn, "; ".join(f"ALTER TABLE customers ALTER COLUMN {f} SET DEFAULT 1" for f in CHURN_FEATURES))
    return attach(conn, counters=FAULTY)


def test_a_counter_that_fails_for_one_event_queues_its_profile_alone_and_names_the_event(shop, trained):
    """Trial hT7, finding 2: one event whose counter expression raises (10 / 0) failed the statement's read, and
    the read without the features aggregated the counters too: every profile of the statement was queued under
    that event's error, unscored (their counters written). Now the events' counters are probed by key in halves:
    the profile at fault alone is queued, no counter of it changed, its reason naming the counter and the event,
    and the others are counted and scored. retry_failed replays its events once the event is corrected."""
    rid = _faulty_shop(shop)
    before = {k: v for k, v in query(shop, "SELECT id, support_calls FROM customers WHERE id <= 10")}
    late = {k: v for k, v in query(shop, "SELECT id, late_payments FROM customers WHERE id <= 10")}
    shop.notices.clear()
    query(shop, "INSERT INTO complaints (customer_id, amount) SELECT g, CASE WHEN g = 7 THEN 0 ELSE 5 END "
                "FROM generate_series(1, 10) g")
    (bad,), = query(shop, "SELECT complaint_id FROM complaints WHERE amount = 0")
    (key, state, reason, cause), = query(shop, "SELECT entity_key, sqlstate, reason, cause FROM pgscore.error_queue")
    assert (key, state) == ("7", "22012"), (key, state, reason)
    assert reason.startswith(f'counter late_payments ({{"add": "10 / e.amount"}}) failed on event complaint_id {bad}: '
                             "division by zero; no counter changed"), reason
    assert cause["uncounted_event_ids"] == [bad], cause
    assert query(shop, "SELECT support_calls, late_payments, churn_score FROM customers WHERE id = 7") == [
        (before[7], late[7], None)]
    good = [k for k in range(1, 11) if k != 7]
    got = {k: (c, lp) for k, c, lp in query(shop, "SELECT id, support_calls, late_payments FROM customers "
                                                  "WHERE id = ANY(%s)", (good,))}
    assert got == {k: (before[k] + 1, late[k] + 2) for k in good}, got
    assert_scores_match_model(shop, trained[0], good)
    assert sorted(int(k) for k, *_ in trigger_log(shop)) == good
    warning, = [n for n in shop.notices if "could not be rescored" in n]
    assert "1 profile(s)" in warning, warning
    query(shop, "UPDATE complaints SET amount = NULL WHERE amount = 0")  # the event corrected
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 1, 0)]
    assert query(shop, "SELECT support_calls, late_payments FROM customers WHERE id = 7") == [(before[7] + 1, late[7])]
    assert_scores_match_model(shop, trained[0], [7])


def test_with_no_live_version_a_counter_that_fails_for_one_event_leaves_the_others_counted(shop):
    """With no live version every profile is queued, but the one event at fault cost the statement's other
    profiles their reason ("reading the profiles failed: division by zero", not the missing version) and its
    missing profiles their rows. Now only its key says so; the others are counted (and created), queued for the
    version."""
    _faulty_shop(shop, defaults=True)
    query(shop, "SELECT pgscore.retire('churn')")
    (calls,), = query(shop, "SELECT support_calls FROM customers WHERE id = 1")
    query(shop, "INSERT INTO complaints (customer_id, amount) VALUES (1, 5), (2, 0), (5001, 5)")
    queued = dict(query(shop, "SELECT entity_key, sqlstate FROM pgscore.error_queue"))
    assert queued == {"1": "55000", "2": "22012", "5001": "55000"}, queued
    assert query(shop, "SELECT id, support_calls FROM customers WHERE id IN (1, 5001) ORDER BY id") == [
        (1, calls + 1), (5001, 2)]

def test_a_bad_cast_in_a_counter_queues_only_its_profile_with_the_cast_error(shop, trained):
    """The realistic form of the fault: a cast of an event's payload field ('n/a' as numeric, 22P02)."""
    query(shop, "ALTER TABLE complaints ADD COLUMN payload jsonb DEFAULT '{\"days_late\": \"1\"}'")
    attach(shop, counters={"support_calls": "count",
                           "late_payments": {"add": "(e.payload OPERATOR(pg_catalog.->>) 'days_late')::numeric"}})
    query(shop, "INSERT INTO complaints (customer_id, payload) VALUES (1, DEFAULT), (2, '{\"days_late\": \"n/a\"}'), "
                "(2, DEFAULT), (3, DEFAULT)")
    (bad,), = query(shop, "SELECT complaint_id FROM complaints WHERE payload->>'days_late' = 'n/a'")
    (key, state, reason), = query(shop, "SELECT entity_key, sqlstate, reason FROM pgscore.error_queue")
    assert (key, state) == ("2", "22P02"), reason
    assert f"failed on event complaint_id {bad}: invalid input syntax for type numeric: \"n/a\"" in reason, reason
    assert_scores_match_model(shop, trained[0], [1, 3])


def test_a_counter_that_fails_only_on_events_together_says_how_many(shop, trained):
    """A sum that overflows only where two events meet (1e308 + 1e308, each alone fine): the search for the event
    at fault halves the ids and, finding neither half failing alone, said "failed on its 1 event(s) together" (the
    last half it went to). Now it names the events that fail together: both ids, "2 event(s) together"."""
    query(shop, "ALTER TABLE complaints ADD COLUMN amount float8 DEFAULT 1")
    attach(shop, counters={"support_calls": "count", "late_payments": {"add": "e.amount"}})
    query(shop, "INSERT INTO complaints (customer_id, amount) VALUES (1, 1), (2, 1e308), (2, 1e308), (3, 1)")
    ids = [i for i, in query(shop, "SELECT complaint_id FROM complaints WHERE amount = 1e308 ORDER BY 1")]
    (key, state, reason), = query(shop, "SELECT entity_key, sqlstate, reason FROM pgscore.error_queue")
    assert (key, state) == ("2", "22003"), reason
    assert reason.startswith('counter late_payments ({"add": "e.amount"}) failed on its 2 event(s) together '
                             f"(complaint_id {ids[0]}, {ids[1]}): value out of range: overflow"), reason
    assert_scores_match_model(shop, trained[0], [1, 3])


def test_a_counter_that_fails_for_a_new_profiles_event_leaves_the_others_created_counted_and_scored(shop, trained):
    """Trial hT7, finding 1: one bad event in a statement that creates profiles left every one of them uncreated
    and queued ("reading the profiles failed"); backfill_rescoring then created them with every counter at its
    default and said "0 profiles changed", and retry_failed scored those rows, clearing the queue: a customer
    with 3 events held 0. Now the statement's other new profiles are created, counted and scored; the one at
    fault is not created (queued, naming the event); retry_failed still does not create it; backfill_rescoring,
    once the event is corrected, creates it, recounts it, scores it, clears its queue row and counts it."""
    rid = _faulty_shop(shop, defaults=True)
    query(shop, "INSERT INTO complaints (customer_id, amount) VALUES (5001, 5), (5001, 5), (5001, 5), (5002, 0)")
    (bad,), = query(shop, "SELECT complaint_id FROM complaints WHERE amount = 0")
    assert query(shop, "SELECT id, support_calls, late_payments FROM customers WHERE id > 5000 ORDER BY id") == [
        (5001, 4, 7)]  # (the default 1, and 3 events, 10 / 5 each)
    assert_scores_match_model(shop, trained[0], [5001])
    (key, state, reason), = query(shop, "SELECT entity_key, sqlstate, reason FROM pgscore.error_queue")
    assert (key, state) == ("5002", "22012"), reason
    assert reason.startswith("public.customers has no row with this id, and it was not created: counter late_payments "
                             f'({{"add": "10 / e.amount"}}) failed on event complaint_id {bad}: division by zero; '
                             "no counter changed; once the event is corrected, SELECT "
                             "pgscore.backfill_rescoring('public.complaints') creates it"), reason
    query(shop, "UPDATE complaints SET amount = NULL WHERE amount = 0")
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 0, 1)]
    assert query(shop, "SELECT count(*) FROM customers WHERE id = 5002") == [(0,)]
    assert query(shop, "SELECT pgscore.backfill_rescoring('complaints')")[0][0] >= 1  # 5002 created, counted
    assert query(shop, "SELECT support_calls, late_payments, complaints_30d FROM customers WHERE id = 5002") == [
        (1, 0, 1)]  # (add: 0 where every value is NULL, as the backfill documents)
    assert_scores_match_model(shop, trained[0], [5001, 5002])
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == []


def test_backfill_creates_a_queued_missing_profile_with_its_counters_and_counts_it(shop, trained):
    """A key queued because its profile could not be created (a CHECK): backfill_rescoring, once the cause is
    gone, created the row with every counter at its default, left it uncounted (queued: left to retry_failed) and
    returned 0; retry_failed then scored the row on counters that missed its events. Now the backfill counts the
    rows it creates, queued or not, scores them, clears their queue rows, and returns them in its count."""
    query(shop, "; ".join(f"ALTER TABLE customers ALTER COLUMN {f} SET DEFAULT 1" for f in CHURN_FEATURES))
    query(shop, "ALTER TABLE customers ADD CONSTRAINT below_7000 CHECK (id < 7000)")
    rid = attach(shop)
    query(shop, "INSERT INTO complaints (customer_id) VALUES (7000), (7000), (7000)")
    assert query(shop, "SELECT entity_key, sqlstate FROM pgscore.error_queue") == [("7000", "23514")]
    query(shop, "ALTER TABLE customers DROP CONSTRAINT below_7000")
    shop.notices.clear()
    assert query(shop, "SELECT pgscore.backfill_rescoring('complaints')") == [(1,)]
    assert not [n for n in shop.notices if "were left" in n], shop.notices
    assert query(shop, "SELECT support_calls, complaints_30d FROM customers WHERE id = 7000") == [(3, 3)]
    assert_scores_match_model(shop, trained[0], [7000])
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == []
    assert rid


def test_a_key_queued_as_missing_is_not_created_by_its_next_event_but_by_backfill_with_every_event(shop, trained):
    """A key whose profile could not be created (a CHECK) is queued, its events counted nowhere. Its next event,
    once the cause was gone, created the row with that event's counters alone, scored it and cleared the queue
    row: the first events were missing from its counters for good, with nothing queued. Now a key queued as
    missing is left uncreated by the trigger (queued, its reason saying why and what to run), and
    backfill_rescoring creates it with the counters of all of its events."""
    query(shop, "; ".join(f"ALTER TABLE customers ALTER COLUMN {f} SET DEFAULT 1" for f in CHURN_FEATURES))
    query(shop, "ALTER TABLE customers ADD CONSTRAINT below_7000 CHECK (id < 7000)")
    attach(shop)
    query(shop, "INSERT INTO complaints (customer_id) VALUES (7000), (7000)")
    query(shop, "ALTER TABLE customers DROP CONSTRAINT below_7000")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (7000), (7001), (1)")
    assert query(shop, "SELECT id, support_calls FROM customers WHERE id >= 7000 ORDER BY id") == [(7001, 2)]
    (state, reason), = query(shop, "SELECT sqlstate, reason FROM pgscore.error_queue WHERE entity_key = '7000'")
    assert state == "P0002" and reason.startswith(
        "public.customers has no row with this id, and it was not created: it is queued as missing, so its earlier "
        "events were never counted"), reason
    assert "backfill_rescoring" in reason, reason
    assert_scores_match_model(shop, trained[0], [1, 7001])
    query(shop, "SELECT pgscore.backfill_rescoring('complaints')")
    assert query(shop, "SELECT support_calls FROM customers WHERE id = 7000") == [(3,)]
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]

def test_a_key_queued_as_missing_with_its_events_named_for_the_replay_is_created_by_its_next_event(shop, trained):
    """The exception to the rule above: a key queued while its profile was missing whose queue row names its events
    for retry_failed's replay (a column the wiring uses renamed: _broken) is created by its next event as before,
    its row kept, and retry_failed replays the earlier events into it."""
    query(shop, "; ".join(f"ALTER TABLE customers ALTER COLUMN {f} SET DEFAULT 0" for f in CHURN_FEATURES))
    rid = attach(shop)
    query(shop, "ALTER TABLE customers RENAME COLUMN last_complaint_at TO lca")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (8000), (8000)")
    query(shop, "ALTER TABLE customers RENAME COLUMN lca TO last_complaint_at")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (8000)")
    assert query(shop, "SELECT support_calls FROM customers WHERE id = 8000") == [(1,)]
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue WHERE entity_key = '8000'") == [(1,)]
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 1, 0)]
    assert query(shop, "SELECT support_calls FROM customers WHERE id = 8000") == [(3,)]
    assert_scores_match_model(shop, trained[0], [8000])

def test_a_create_every_row_of_which_fails_is_not_tried_again_in_parts(shop):
    """A NOT NULL column without a default (attach warns) refuses every missing profile's row: the INSERT
    gives the key alone. It is tried once, not once per part (each a scan of the statement's events): a
    column whose default is nextval() counts the rows tried, one per statement (each fails at its first)."""
    query(shop, "CREATE SEQUENCE tries; ALTER TABLE customers ADD COLUMN try bigint DEFAULT nextval('tries'), "
                "ADD COLUMN region text NOT NULL DEFAULT 'north'; ALTER TABLE customers ALTER COLUMN region DROP DEFAULT")
    attach(shop)
    before = query(shop, "SELECT nextval('tries')")[0][0]
    query(shop, "INSERT INTO complaints (customer_id) SELECT g FROM generate_series(1001, 1100) g")
    assert query(shop, "SELECT nextval('tries')")[0][0] - before == 2  # the one INSERT, then this nextval
    assert query(shop, "SELECT count(*), min(sqlstate), max(sqlstate) FROM pgscore.error_queue") == [(100, "23502", "23502")]
    assert query(shop, "SELECT count(*) FROM customers WHERE id > 1000") == [(0,)]


def test_a_not_null_column_a_trigger_sets_for_some_rows_is_still_created_in_parts(shop, trained):
    """23502 lies in some rows where a BEFORE INSERT trigger sets the NOT NULL column for some keys only
    (so too a NOT NULL column of one partition, or a generated one): the others are created and counted."""
    query(shop, "ALTER TABLE customers ADD COLUMN region text NOT NULL DEFAULT 'north'; "
                "ALTER TABLE customers ALTER COLUMN region DROP DEFAULT")
    query(shop, "CREATE FUNCTION set_region() RETURNS trigger LANGUAGE plpgsql AS "
                "$$BEGIN IF NEW.id < 7000 THEN NEW.region := 'south'; END IF; RETURN NEW; END$$; "
                "CREATE TRIGGER set_region BEFORE INSERT ON customers FOR EACH ROW EXECUTE FUNCTION set_region()")
    attach(shop)
    query(shop, "INSERT INTO complaints (customer_id) VALUES (5000), (7000), (5001)")
    assert query(shop, "SELECT id, support_calls FROM customers WHERE id >= 5000 ORDER BY id") == [(5000, 1), (5001, 1)]
    assert query(shop, "SELECT sqlstate FROM pgscore.error_queue WHERE entity_key = '7000'") == [("23502",)]


def test_a_profile_another_session_creates_while_the_create_fails_is_counted(shop, trained):
    """The missing profiles' INSERT fails (a NOT NULL column a BEFORE INSERT trigger leaves empty), and
    meanwhile another session creates and commits one of them: 5000, made over dblink by that trigger as
    it is handed 5000. The next statement finds 5000 neither missing nor read before: it is read again,
    locked and counted, and only 5001, which nobody could create, is queued (before, 5000's event went
    neither counted nor queued)."""
    query(shop, "CREATE EXTENSION dblink")
    query(shop, "ALTER TABLE customers ADD COLUMN region text NOT NULL DEFAULT 'north'; "
                "ALTER TABLE customers ALTER COLUMN region DROP DEFAULT")
    here = psycopg2.extensions.parse_dsn(shop.dsn)
    other = " ".join(f"{k}={v}" for k, v in here.items() if k in ("host", "port", "dbname", "user"))
    query(shop, "CREATE FUNCTION create_elsewhere() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN "
                "IF NEW.id = 5000 AND NEW.region IS NULL THEN "
                "PERFORM public.dblink_exec(" + psycopg2.extensions.QuotedString(other).getquoted().decode() + ", "
                "'INSERT INTO public.customers (id, region, support_calls) VALUES (5000, ''south'', 0)'); "
                "END IF; RETURN NEW; END$$; "
                "CREATE TRIGGER create_elsewhere BEFORE INSERT ON customers FOR EACH ROW "
                "EXECUTE FUNCTION create_elsewhere()")
    attach(shop)
    query(shop, "INSERT INTO complaints (customer_id) VALUES (5000), (5001)")
    assert query(shop, "SELECT count(*) FROM complaints") == [(2,)]
    assert query(shop, "SELECT id, region, support_calls FROM customers WHERE id >= 5000 ORDER BY id") == [
        (5000, "south", 1)]
    queued = dict(query(shop, "SELECT entity_key, sqlstate FROM pgscore.error_queue"))
    assert queued.get("5001") == "23502" and queued.get("5000") != "23502", queued


def test_the_parts_of_a_create_that_failed_create_the_profiles_in_key_order(shop):
    """Where the INSERT of the missing profiles fails (a CHECK refuses 7000), its parts create them in the
    key's order, as every other statement does (not the keys' text order, "1000" before "900"): a concurrent
    statement creating 900 then 1000 would otherwise deadlock with it. A BEFORE INSERT trigger on the
    profile table says each row it is given, in a NOTICE (sent even from a statement that fails)."""
    query(shop, "ALTER TABLE customers ADD CONSTRAINT below_7000 CHECK (id < 7000)")
    query(shop, "CREATE FUNCTION say_created() RETURNS trigger LANGUAGE plpgsql AS "
                "$$BEGIN RAISE NOTICE 'creating %', NEW.id; RETURN NEW; END$$; "
                "CREATE TRIGGER say_created BEFORE INSERT ON customers FOR EACH ROW EXECUTE FUNCTION say_created()")
    attach(shop)
    shop.notices.clear()
    query(shop, "INSERT INTO complaints (customer_id) VALUES (1000), (7000), (900)")
    tried = [int(n.split("NOTICE:  creating ")[1]) for n in shop.notices if "NOTICE:  creating " in n]
    assert tried[:3] == [900, 1000, 7000], tried  # the INSERT of them all, in key order, refused at 7000
    parts = tried[3:]
    assert parts and parts.index(900) < parts.index(1000), tried
    assert query(shop, "SELECT id, support_calls FROM customers WHERE id >= 900 ORDER BY id") == [(900, 1), (1000, 1)]


@pytest.mark.parametrize("trees", [False, True], ids=["linear", "trees"])
def test_a_profile_created_while_the_statement_waits_is_locked_before_it_is_read(shop, trained, trees):
    """Queue mode and a window counter: the profiles are locked by a statement of their own, then read
    (and recounted) by the next. The lock waits on customer 2; meanwhile another session creates
    customer 9001, which the same INSERT names, and commits: the lock's snapshot does not hold 9001,
    the read's does. The trigger locks again before it goes on, so that every profile it reads and
    writes was locked first (unlocked, another client's event for 9001 between the read and the write
    would have its recount overwritten). The count the last lock took is kept in a transaction-local
    setting, read here before the INSERT's transaction commits. With the linear model the fast path's
    own check (profiles read = profiles locked) fails first, and the general path's lock then takes
    both; with the trees only the general path runs, and its read finds the profile it did not lock."""
    from sklearn.ensemble import RandomForestClassifier

    model, X, y = trained
    if trees:  # no scoring in SQL: only the read, score, write path runs
        model = RandomForestClassifier(n_estimators=10, max_depth=5, random_state=0).fit(X, y)
        registry.deploy(shop.dsn, "churn", model, X, y, feature_names=CHURN_FEATURES)
    attach(shop, missing_profile="queue")
    first = profiles(shop, [1])[1]
    holder, inserter, probe = (psycopg2.connect(shop.dsn) for _ in range(3))
    probe.autocommit = True
    with holder.cursor() as cur:
        cur.execute("SELECT 1 FROM customers WHERE id = 2 FOR UPDATE")
    got = []

    def insert():
        with inserter.cursor() as cur:
            cur.execute("INSERT INTO complaints (customer_id) VALUES (2), (9001)")
            cur.execute("SELECT pg_catalog.current_setting('pgscore.rescoring_locked', true)")
            got.append(cur.fetchone()[0])

    def create_9001():
        cols = ", ".join(CHURN_FEATURES)
        with holder.cursor() as cur:
            cur.execute(f"INSERT INTO customers (id, {cols}) SELECT 9001, {cols} FROM customers WHERE id = 1")
        holder.commit()

    while_the_insert_waits(inserter, holder, probe, insert, create_9001)
    assert got == ["2"]
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
    after = profiles(shop, [9001])[9001]
    assert (after[1], after[2]) == (first[1] + 1, 1)  # support_calls, complaints_30d
    assert_scores_match_model(shop, model, [2, 9001])


def test_missing_profile_queued_when_asked(shop):
    attach(shop, missing_profile="queue")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (5001), (1)")
    assert query(shop, "SELECT count(*) FROM customers WHERE id = 5001") == [(0,)]
    assert query(shop, "SELECT count(*) FROM complaints WHERE customer_id = 5001") == [(1,)]  # kept
    (reason, state), = query(shop, "SELECT reason, sqlstate FROM pgscore.error_queue WHERE entity_key = '5001'")
    assert "has no row" in reason and state == "P0002"
    assert query(shop, "SELECT churn_score IS NOT NULL FROM customers WHERE id = 1") == [(True,)]


def test_null_keys_are_kept_with_a_warning_or_refused_when_strict(shop):
    attach(shop)
    query(shop, "INSERT INTO complaints (customer_id) VALUES (NULL), (12)")
    assert any("NULL customer_id; they were kept" in n for n in shop.notices)
    assert query(shop, "SELECT count(*) FROM complaints") == [(2,)]
    assert query(shop, "SELECT churn_score IS NOT NULL FROM customers WHERE id = 12") == [(True,)]
    query(shop, "SELECT pgscore.detach_rescoring('complaints')")
    attach(shop, strict=True)
    with pytest.raises(errors.NotNullViolation) as e:
        query(shop, "INSERT INTO complaints (customer_id) VALUES (NULL)")
    assert "the wiring is strict, so the INSERT fails" in str(e.value) and "kept" not in str(e.value)


def test_the_null_key_warning_is_given_once_when_the_rescoring_fails_too(shop):
    """A feature column renamed: the statement's read is made again with the model resolved again, and the
    WARNING of the events with a NULL key was given by each read (item 5 of a user's trial): once now."""
    attach(shop)
    query(shop, "ALTER TABLE customers RENAME COLUMN age TO age_years")
    shop.notices.clear()
    query(shop, "INSERT INTO complaints (customer_id) VALUES (NULL), (61)")
    said = [x for x in shop.notices if "have a NULL customer_id" in x]
    assert len(said) == 1, shop.notices
    assert any("could not be rescored" in x or "queued" in x for x in shop.notices), shop.notices


# -- nothing lost -------------------------------------------------------------------------------------

def test_no_live_model_keeps_events_and_counters_then_retry_drains_the_queue(db_url, trained):
    model, X, y = trained
    conn = psycopg2.connect(db_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        sample.create_tables(cur)
        sample.load_customers(cur, X[:50])
    rid = attach(conn)  # the model does not exist yet: allowed, with a notice
    assert any("there is no model 'churn'" in n for n in conn.notices)
    before = profiles(conn, [1, 2])
    query(conn, "INSERT INTO complaints (customer_id) VALUES (1), (2), (2)")
    after = profiles(conn, [1, 2])
    assert [after[k][1] - before[k][1] for k in (1, 2)] == [1, 2]  # the counters moved, unscored
    assert [after[k][4] for k in (1, 2)] == [None, None]
    queued = query(conn, "SELECT rescoring_id, entity_key, sqlstate, attempts FROM pgscore.error_queue ORDER BY 2")
    assert queued == [(rid, "1", "42704", 1), (rid, "2", "42704", 1)]
    assert query(conn, "SELECT * FROM pgscore.retry_failed()") == [(rid, 0, 2)]
    assert query(conn, "SELECT max(attempts) FROM pgscore.error_queue") == [(2,)]
    registry.deploy(db_url, "churn", model, X, y, feature_names=CHURN_FEATURES)
    assert query(conn, "SELECT * FROM pgscore.retry_failed('churn')") == [(rid, 2, 0)]
    assert query(conn, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
    assert_scores_match_model(conn, model, [1, 2])
    assert query(conn, "SELECT entity_key, cause->>'via' FROM pgscore.prediction_log WHERE source = 'retry' "
                       "ORDER BY 1") == [("1", "retry_failed"), ("2", "retry_failed")]
    assert query(conn, "SELECT * FROM pgscore.retry_failed()") == []  # nothing queued
    conn.close()


def test_two_retries_at_once_rescore_each_queued_profile_once(shop, db_url, trained):
    """A retry that waited for the profiles another retry held rescored them again once it had them (a
    cron job and a user's pgscore retry: 520 rescored and 520 audit rows for 200 queued profiles)."""
    model, _, _ = trained
    rid = attach(shop)
    query(shop, "SELECT pgscore.retire('churn')")
    query(shop, "INSERT INTO complaints (customer_id) SELECT g FROM generate_series(1, 200) g")
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(200,)]
    query(shop, "SELECT pgscore.activate('churn', 1)")
    first, second = run_past_a_lock(  # the first not committed until the second waits for its profiles
        db_url, lambda first: query(first, "SELECT * FROM pgscore.retry_failed(p_limit => 120)"),
        "SELECT * FROM pgscore.retry_failed()", "the first retry's locks")
    assert first == [(rid, 120, 0)] and second == [(rid, 80, 0)]
    assert query(shop, "SELECT count(*), count(DISTINCT entity_key) FROM pgscore.prediction_log "
                       "WHERE source = 'retry'") == [(200, 200)]
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
    assert_scores_match_model(shop, model, range(1, 201))


def test_retry_recounts_the_windows_and_queues_a_profile_whose_recount_fails(shop, trained):
    """retry_failed recounts the counters that read the event table before it rescores: a window made
    current (events aged out since the queueing drop out). A profile whose recount cannot be written
    (a constraint on the counter) stays queued with that reason; the others are rescored."""
    model, _, _ = trained
    rid = attach(shop)
    query(shop, "SELECT pgscore.retire('churn')")
    query(shop, "INSERT INTO complaints (customer_id, created_at) VALUES (2, now()), (2, now()), (2, now()), "
                "(3, now() - interval '29 days 23 hours 59 minutes 59 seconds'), (4, now())")
    counted = "SELECT id, complaints_30d FROM customers WHERE id IN (2, 3, 4) ORDER BY id"
    assert query(shop, counted) == [(2, 3), (3, 1), (4, 1)]
    time.sleep(1.5)  # customer 3's complaint is now out of the window
    query(shop, "ALTER TABLE customers ADD CONSTRAINT few CHECK (complaints_30d < 3) NOT VALID")
    query(shop, "SELECT pgscore.activate('churn', 1)")
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 2, 1)]
    assert query(shop, counted) == [(2, 3), (3, 0), (4, 1)]
    assert_scores_match_model(shop, model, [3, 4])
    (key, state, reason), = query(shop, "SELECT entity_key, sqlstate, reason FROM pgscore.error_queue")
    assert (key, state) == ("2", "23514")
    assert reason.startswith("recounting the counters that read public.complaints failed: ") and "few" in reason


def test_a_retry_that_waits_for_a_profile_recounts_with_the_events_committed_meanwhile(shop, db_url, trained):
    """The retry's recount runs once it holds the profiles' locks, in a statement of its own: an INSERT that
    held the profile and committed while the retry waited is counted (counted in the same statement as the
    lock, its snapshot from before the wait wrote the count without that event over the INSERT's)."""
    rid = attach(shop)
    query(shop, "SELECT pgscore.retire('churn')")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (5)")  # queued, counted
    query(shop, "SELECT pgscore.activate('churn', 1)")

    def hold(conn):  # another event for 5, its trigger holding the profile (and clearing its queued row)
        query(conn, "INSERT INTO complaints (customer_id) VALUES (5)")

    _, out = run_past_a_lock(db_url, hold, "SELECT * FROM pgscore.retry_failed()", "the INSERT's lock on profile 5")
    assert out == [(rid, 0, 0)]  # the INSERT rescored it and cleared it from the queue meanwhile
    assert query(shop, "SELECT complaints_30d FROM customers WHERE id = 5") == \
        query(shop, "SELECT count(*) FROM complaints WHERE customer_id = 5 AND created_at > now() - interval '30 days'")
    assert_scores_match_model(shop, trained[0], [5])


def test_a_model_name_no_version_was_stored_under_is_attached_with_a_warning_naming_the_nearest(shop, trained):
    """Attaching before the first deploy is allowed (docs/sql.md), but a typo looks the same: it was a NOTICE,
    which alembic and most clients hide, and every INSERT then queued its profiles. A WARNING now, naming the
    registered models nearest to the name (case aside), or those there are, with the detach to redo it; a model
    that is registered but has no live version (retired) keeps its NOTICE."""
    model, X, y = trained
    registry.deploy(shop.dsn, "Churn_v2", model, X[:300], y[:300], feature_names=CHURN_FEATURES)
    registry.deploy(shop.dsn, "fraud", model, X[:300], y[:300], feature_names=CHURN_FEATURES)
    for name, detail in (("chrun", "registered models nearest to it: 'churn', 'Churn_v2'"),
                         ("CHURN_V2x", "registered models nearest to it: 'Churn_v2', 'churn'"),
                         ("zzz", "none of the 3 registered model(s) is near it: 'Churn_v2', 'churn', 'fraud'")):
        shop.notices.clear()
        attach(shop, model=name)
        said = [n for n in shop.notices if f"there is no model '{name}'" in n]
        assert len(said) == 1 and said[0].startswith(f"WARNING:  pgscore: there is no model '{name}'; until it has a "
                                                     "live version, events update the counters and queue each "
                                                     "profile in pgscore.error_queue\n"), shop.notices
        assert f"DETAIL:  {detail}\n" in said[0], said[0]
        assert "HINT:  if the name is a typo: SELECT pgscore.detach_rescoring('public.complaints') and attach" in said[0]
        query(shop, "SELECT pgscore.detach_rescoring('complaints')")
    query(shop, "SELECT pgscore.retire('fraud')")
    shop.notices.clear()
    attach(shop, model="fraud")
    said = [n for n in shop.notices if "model 'fraud' has no live version" in n]
    assert len(said) == 1 and said[0].startswith("NOTICE:  "), shop.notices


def test_status_says_a_strict_wiring_fails_its_inserts_where_another_would_queue(db_url, trained):
    """A strict wiring whose model has no live version, or whose profile table lacks a feature or a column it
    names, fails every INSERT: attach_rescoring's notice and `pgscore status` say so (they said its events were
    counted and its profiles queued, as for a wiring that is not strict)."""
    model, X, y = trained
    conn = psycopg2.connect(db_url)
    conn.autocommit = True
    conn.notices = []
    with conn.cursor() as cur:
        sample.create_tables(cur)
        sample.load_customers(cur, X[:20])
    rid = attach(conn, strict=True)  # no model churn yet
    assert any("until it has a live version, every INSERT into the event table fails (the wiring is strict)" in n
               for n in conn.notices), conn.notices
    out = pgscore_cli("status", "--db", db_url).stdout
    assert (f"  wiring {rid}: public.complaints -> public.customers.churn_score, model churn (no live version), "
            "3 counters\n"
            "     NOT RESCORING: no version of churn is live, and the wiring is strict: every INSERT into "
            f"public.complaints fails until one is (make one live with: pgscore {hinted(db_url)}activate churn "
            "VERSION)") \
        in out, out
    assert "counters only" not in out
    with pytest.raises(psycopg2.Error) as e:
        query(conn, "INSERT INTO complaints (customer_id) VALUES (1)")
    assert e.value.pgcode == "42704"  # (no model churn: a retired one's would be 55000)
    registry.deploy(db_url, "churn", model, X, y, feature_names=CHURN_FEATURES)
    run = pgscore_cli("retire", "churn", "--db", db_url)  # says what it does to the strict wiring
    assert run.returncode == 0 and "WARNING: public.complaints is wired to rescore with churn in strict mode: every " \
        "INSERT into it fails until a version is made live" in run.stdout, run.stdout + run.stderr
    with pytest.raises(psycopg2.Error) as e:
        query(conn, "INSERT INTO complaints (customer_id) VALUES (1)")
    assert e.value.pgcode == "55000", e.value.pgerror
    assert pgscore_cli("activate", "churn", "1", "--db", db_url).returncode == 0
    query(conn, "ALTER TABLE customers RENAME COLUMN support_calls TO calls")  # a counter's column
    out = pgscore_cli("status", "--db", db_url).stdout
    assert "no longer exists (renamed or dropped), and the wiring is strict: every INSERT into public.complaints " \
           "fails; rename it back" in out, out
    with pytest.raises(psycopg2.Error):
        query(conn, "INSERT INTO complaints (customer_id) VALUES (1)")
    assert query(conn, "SELECT count(*) FROM complaints") == [(0,)]


def test_status_shows_the_wirings_and_the_queue_and_pgscore_retry_drains_it(db_url, trained):
    """What stops a wiring from rescoring, as `pgscore status` says it, and `pgscore retry` (exit 1 while
    a profile still fails)."""
    model, X, y = trained
    status = lambda: pgscore_cli("status", "--db", db_url).stdout  # noqa: E731
    assert "rescoring: nothing attached" in status()
    conn = psycopg2.connect(db_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        sample.create_tables(cur)
        sample.load_customers(cur, X[:20])
    rid = attach(conn)  # no model churn yet
    out = status()
    assert (f"  wiring {rid}: public.complaints -> public.customers.churn_score, model churn (no live version), "
            "3 counters\n     counters only:") in out
    assert "error queue: empty" in out
    query(conn, "INSERT INTO complaints (customer_id) VALUES (1), (2)")
    out = status()
    assert "error queue: 2 profiles waiting to be rescored, the oldest failed " in out
    # the most attempts so far, not a limit ("up to 1 attempt" read as a retry limit)
    assert "the most tried 1 time; " in out and f"once the cause is fixed: pgscore {hinted(db_url)}retry" in out
    run = pgscore_cli("retry", "--db", db_url)
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"wiring {rid}: public.complaints -> public.customers: 0 rescored, 2 still failing" in run.stdout
    assert "2 profiles still queued" in run.stdout
    assert "the most tried 2 times; " in status()
    registry.deploy(db_url, "churn", model, X, y, feature_names=CHURN_FEATURES)
    out = status()
    # the window counter ages with no event: status says what recounts it (before, nothing said so, and a
    # profile's complaints_30d stayed at 1 for good after its last complaint left the 30 days)
    assert ("model churn (live version 1), 3 counters\n     complaints_30d changes as time passes (a window, or a "
            "count that reads the clock): an event recounts its own profile, nothing recounts the others but "
            f"pgscore {hinted(db_url)}refresh-windows: run it from cron, hourly for a window of days "
            "(docs/sql.md, refresh_windows)\n") in out, out
    run = pgscore_cli("retry", "--model", "other", "--db", db_url)  # no such model: a usage error
    assert run.returncode == 2 and "there is no model 'other'" in run.stderr, run.stderr
    run = pgscore_cli("retry", "--limit", "1", "--db", db_url)  # and says what the limit left queued
    assert (run.returncode, run.stdout) == (0, f"wiring {rid}: public.complaints -> public.customers: 1 rescored, "
                                               "0 still failing\n1 profile still queued (1 not tried: --limit 1): "
                                               "see their reasons with SELECT * FROM pgscore.error_queue\n")
    run = pgscore_cli("retry", "--model", "churn", "--db", db_url)
    assert (run.returncode, run.stdout) == (0, f"wiring {rid}: public.complaints -> public.customers: 1 rescored, "
                                               "0 still failing\n")
    assert_scores_match_model(conn, model, [1, 2])
    assert pgscore_cli("retry", "--db", db_url).stdout == "nothing queued\n"
    assert "error queue: empty" in status()
    # what stops a wiring, and what to do about it (each fix as printed, run)
    (counters,), = query(conn, "SELECT counters::text FROM pgscore.rescoring")

    def again(events):  # the attach call status prints for the wiring
        return (f"and attach it again: SELECT pgscore.attach_rescoring('{events}', 'public.customers', 'customer_id', "
                f"'churn', 'churn_score', '{counters}', p_scored_at_column => 'scored_at', p_profile_key => 'id', "
                "p_missing_profile => 'create', p_strict => false, p_event_id_column => 'complaint_id')")
    query(conn, "ALTER TABLE complaints DISABLE TRIGGER ALL")
    fix = f"ALTER TABLE public.complaints ENABLE TRIGGER pgscore_rescore_{rid}"
    out = status()
    assert f"NOT RESCORING: its trigger pgscore_rescore_{rid} on public.complaints is disabled; enable it with {fix} " \
           "(events inserted meanwhile were not counted;" in out
    assert "changes as time passes" not in out  # what stops it comes first, alone
    query(conn, fix)
    query(conn, f"ALTER TABLE complaints ENABLE REPLICA TRIGGER pgscore_rescore_{rid}")
    assert "is enabled for replication sessions only; enable it with" in status()
    query(conn, fix)
    assert "NOT RESCORING" not in status()
    query(conn, "ALTER TABLE customers RENAME TO clients")
    fix = "SELECT pgscore.detach_rescoring('public.complaints')"
    assert ("NOT RESCORING: the profile table public.customers was renamed or dropped; detach with "
            f"{fix} {again('public.complaints')}") in status()
    query(conn, "ALTER TABLE clients RENAME TO customers")
    query(conn, "ALTER TABLE complaints RENAME TO grievances")
    fix = "SELECT pgscore.detach_rescoring('public.grievances')"
    assert (f"NOT RESCORING: the event table was renamed to public.grievances, which has the trigger (its events are "
            f"kept, not rescored); detach with {fix} {again('public.grievances')}") in status()
    query(conn, "ALTER TABLE grievances RENAME TO complaints")
    query(conn, f"DROP TRIGGER pgscore_rescore_{rid} ON complaints")
    fix = "SELECT pgscore.detach_rescoring('public.complaints')"
    assert (f"NOT RESCORING: its trigger pgscore_rescore_{rid} on public.complaints was dropped; detach with {fix} "
            f"{again('public.complaints')}") in status()
    assert query(conn, fix) == [(1,)]
    # the attach call status printed, run as printed, wires it again as it was
    query(conn, again('public.complaints').removeprefix("and attach it again: "))
    assert "NOT RESCORING" not in status()
    assert query(conn, fix) == [(1,)]
    rid = attach(conn)
    query(conn, "UPDATE customers SET age = NULL WHERE id = 3")
    query(conn, "INSERT INTO complaints (customer_id) VALUES (3)")  # queued: age is NULL
    query(conn, "DROP TABLE complaints")
    out = status()
    fix = f"SELECT pgscore.forget_rescoring({rid})"
    assert f"NOT RESCORING: the event table public.complaints was dropped; forget the wiring with {fix}," in out
    assert "; once the cause is fixed" not in out  # its profile belongs to no live wiring: retry cannot reach it
    query(conn, fix)
    out = status()
    assert "rescoring: nothing attached" in out
    assert "error queue: 1 profile waiting to be rescored" in out
    assert ("; 1 of them belong to no wiring that can rescore them (detached, or their event table dropped or "
            "renamed): the next attach_rescoring to their profile table takes them over (a wiring attached "
            "before does not), and retry then rescores them") in out
    run = pgscore_cli("retry", "--db", db_url)
    assert (run.returncode, run.stdout) == (1, "nothing queued for a wiring; 1 profile belongs to no wiring (see "
                                               f"pgscore {hinted(db_url)}status)\n"), run.stdout
    conn.close()


def test_a_bad_row_queues_only_its_profile(shop, trained):
    attach(shop)
    query(shop, "UPDATE customers SET age = NULL WHERE id = 20")
    calls = profiles(shop, [20])[20][1]
    query(shop, "INSERT INTO complaints (customer_id) VALUES (20), (21)")
    assert query(shop, "SELECT entity_key, reason FROM pgscore.error_queue") == [
        ("20", "model churn v1: feature 'age' is NULL or NaN")]
    assert any("could not be rescored" in n for n in shop.notices)
    assert_scores_match_model(shop, trained[0], [21])
    # the write statement wrote nothing for 21 before the read, score, write path scored it: one audit row
    assert query(shop, "SELECT count(*) FROM pgscore.prediction_log WHERE entity_key = '21'") == [(1,)]
    assert profiles(shop, [20])[20][1] == calls + 1  # its counter moved although it was not scored
    # a later successful rescoring clears the profile's queued error
    query(shop, "UPDATE customers SET age = 40 WHERE id = 20")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (20)")
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]


def test_the_warning_says_when_profiles_failed_for_different_reasons(shop):
    attach(shop)
    query(shop, "UPDATE customers SET age = NULL WHERE id = 23; UPDATE customers SET tenure_months = NULL WHERE id = 24")
    del shop.notices[:]
    query(shop, "INSERT INTO complaints (customer_id) VALUES (23), (24)")
    assert [r for (r,) in query(shop, "SELECT reason FROM pgscore.error_queue ORDER BY entity_key")] == [
        "model churn v1: feature 'age' is NULL or NaN", "model churn v1: feature 'tenure_months' is NULL or NaN"]
    warning, = [n for n in shop.notices if "could not be rescored" in n]
    assert "2 profile(s)" in warning and "'age' is NULL or NaN; and 1 other reason(s)" in warning


def test_a_broken_wiring_warns_once_a_session_then_once_an_interval_counting_what_it_did_not_say(shop):
    """Session 68's trial T25: a wiring whose model was retired (or whose scored_at column was dropped) wrote a
    3-line WARNING per INSERT into the server log: 10,000 single-row INSERTs a minute wrote ~30,000 lines, burying
    everything else. Now a session says it once, then at most once an interval (pgscore.rescoring_warning_interval,
    60 s unless set) per wiring and SQLSTATEs, the next WARNING counting the statements and profiles it did not
    say; every event is still kept and its profile queued. Failed before: 60 WARNINGs for 60 INSERTs."""
    import collections

    attach(shop)
    query(shop, "SELECT pgscore.retire('churn')")
    shop.notices = collections.deque()  # (a list keeps the last 50 alone)
    for i in range(60):
        query(shop, "INSERT INTO complaints (customer_id) VALUES (%s)", (1 + i % 50,))
    said = [n for n in shop.notices if "could not be rescored" in n]
    assert len(said) == 1, (len(said), said[:3])
    assert "model 'churn' has no live version" in said[0], said[0]
    assert "DETAIL:  the first such WARNING of this session: said at most once every 60 s per session and wiring " \
           "(pgscore.rescoring_warning_interval)" in said[0], said[0]
    # nothing lost: every event kept, every profile queued, each statement's attempt counted
    assert query(shop, "SELECT count(*) FROM complaints") == [(60,)]
    assert query(shop, "SELECT count(*), sum(attempts) FROM pgscore.error_queue") == [(50, 60)]
    # another session says it once too
    other = psycopg2.connect(shop.dsn)
    other.autocommit = True
    try:
        query(other, "INSERT INTO complaints (customer_id) VALUES (1)")
        query(other, "INSERT INTO complaints (customer_id) VALUES (2)")
        assert len([n for n in other.notices if "could not be rescored" in n]) == 1, other.notices
    finally:
        other.close()
    # at the next WARNING (the interval over: here, the setting at 0, every statement said), what was held back
    shop.notices.clear()
    query(shop, "SET pgscore.rescoring_warning_interval = 0")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (1), (2)")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (3)")
    first, second = [n for n in shop.notices if "could not be rescored" in n]
    assert "DETAIL:  59 more statement(s) of this session failed so since its last such WARNING (" in first and \
           "UTC), not said, queuing 59 profile(s) unless rolled back (pgscore.error_queue holds those committed): said " \
           "at every statement (pgscore.rescoring_warning_interval is 0)" in first, first
    assert "DETAIL:  no statement of this session failed so since its last such WARNING: said at every statement" \
        in second, second
    # a failure with another SQLSTATE is said at once, whatever the interval
    query(shop, "SET pgscore.rescoring_warning_interval = '1h'")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (1)")
    shop.notices.clear()
    query(shop, "ALTER TABLE customers DROP COLUMN scored_at")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (4)")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (5)")
    said = [n for n in shop.notices if "could not be rescored" in n]
    assert len(said) == 1 and "scored_at" in said[0], said
    # a value that is no duration: the default, said in the DETAIL (a typo never fails an INSERT)
    other = psycopg2.connect(shop.dsn)
    other.autocommit = True
    try:
        query(other, "SET pgscore.rescoring_warning_interval = 'soon'")
        query(other, "INSERT INTO complaints (customer_id) VALUES (6)")
        query(other, "INSERT INTO complaints (customer_id) VALUES (7)")
        said, = [n for n in other.notices if "could not be rescored" in n]
    finally:
        other.close()
    assert "; pgscore.rescoring_warning_interval 'soon' is no duration (say '60s', '500ms', '5min' or '0'): 60 s " \
           "used" in said, said
    assert query(shop, "SELECT count(*) FROM complaints") == [(70,)]


def test_a_held_back_count_does_not_say_a_rolled_back_statement_queued_its_profiles(shop):
    """Review r2 (session 69): a WARNING held back counts the statement in the session's Python state, which no
    ROLLBACK undoes, and the next WARNING's DETAIL said those statements 'queued N profile(s) so' where the
    transaction that ran them rolled back and pgscore.error_queue holds none of them. It says they failed so, the
    profiles queued unless rolled back. Failed before: '2 more statement(s) of this session queued 2 profile(s) so'
    with the queue unchanged."""
    attach(shop)
    query(shop, "SELECT pgscore.retire('churn')")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (1)")  # said: the session's first
    query(shop, "BEGIN")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (2)")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (3)")
    query(shop, "ROLLBACK")
    assert query(shop, "SELECT entity_key, attempts FROM pgscore.error_queue") == [("1", 1)]
    del shop.notices[:]
    query(shop, "SET pgscore.rescoring_warning_interval = 0")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (1)")
    said, = [n for n in shop.notices if "could not be rescored" in n]
    assert "DETAIL:  2 more statement(s) of this session failed so since its last such WARNING (" in said, said
    assert "UTC), not said, queuing 2 profile(s) unless rolled back (pgscore.error_queue holds those committed): " \
           "said at every statement" in said, said
    assert "queued 2 profile(s)" not in said, said


def test_the_null_key_warning_is_said_once_an_interval_counting_what_it_did_not_say(shop):
    """Session 69's review: the WARNING of events whose key is NULL was said at every statement (2 lines in the
    server log per INSERT of an application that inserts such events), where a broken wiring's is said once an
    interval. It is not the events' only record (they are kept in the event table): it is held back like the
    others, the next one counting what it did not say. Failed before: 5 WARNINGs for 5 INSERTs."""
    import collections

    attach(shop)
    shop.notices = collections.deque()
    query(shop, "INSERT INTO complaints (customer_id) VALUES (NULL), (1); INSERT INTO complaints (customer_id) "
                "VALUES (NULL), (2); INSERT INTO complaints (customer_id) VALUES (NULL), (NULL), (3)")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (NULL)")  # (the general path's read, not the fast one)
    query(shop, "INSERT INTO complaints (customer_id) VALUES (NULL), (4)")
    said = [n for n in shop.notices if "have a NULL customer_id" in n]
    assert len(said) == 1, (len(said), said)
    assert "pgscore: 1 event(s) inserted into public.complaints have a NULL customer_id; they were kept and rescored " \
           "no profile" in said[0], said[0]
    assert "DETAIL:  the first such WARNING of this session: said at most once every 60 s per session and wiring " \
           "(pgscore.rescoring_warning_interval); the events are in the event table, WHERE customer_id IS NULL" \
           in said[0], said[0]
    assert query(shop, "SELECT count(*) FROM complaints WHERE customer_id IS NULL") == [(6,)]
    assert query(shop, "SELECT count(*) FROM customers WHERE churn_score IS NOT NULL AND id <= 4") == [(4,)]
    shop.notices.clear()
    query(shop, "SET pgscore.rescoring_warning_interval = 0")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (NULL), (NULL)")
    said, = [n for n in shop.notices if "have a NULL customer_id" in n]
    assert "pgscore: 2 event(s) inserted into public.complaints" in said, said
    assert "DETAIL:  4 more statement(s) of this session inserted 5 event(s) with a NULL customer_id since its last " \
           "such WARNING (" in said and "UTC), not said, kept unless rolled back: said at every statement" in said, said


def test_a_held_back_count_is_said_when_the_failure_stops(shop):
    """Session 69's review: the count of the statements a broken wiring's WARNING held back was said by its next
    WARNING alone: where the failures stopped (the model made live again), the last count was never said. Now the
    wiring's first statement an interval after the last WARNING that does not fail so says it (once). Failed
    before: no WARNING after the model was live again, however long the session inserted."""
    attach(shop)
    query(shop, "SELECT pgscore.retire('churn')")
    query(shop, "SET pgscore.rescoring_warning_interval = '1s'")
    del shop.notices[:]
    query(shop, "INSERT INTO complaints (customer_id) VALUES (1); INSERT INTO complaints (customer_id) VALUES (2); "
                "INSERT INTO complaints (customer_id) VALUES (3), (4)")
    assert len([n for n in shop.notices if "could not be rescored" in n]) == 1, shop.notices
    query(shop, "SELECT pgscore.activate('churn', 1)")
    said = []
    deadline = time.monotonic() + 60  # (a bound, not a timing: the count is due 1 s after the WARNING)
    while not said and time.monotonic() < deadline:
        time.sleep(0.2)
        query(shop, "INSERT INTO complaints (customer_id) VALUES (5)")
        said = [n for n in shop.notices if "more statement(s) of this session" in n]
    assert said, list(shop.notices)
    assert "WARNING:  pgscore: 2 more statement(s) of this session could not rescore profiles of public.customers " \
           "for public.complaints so (SQLSTATE 55000) since its last such WARNING (" in said[0], said
    assert "UTC), not said, queuing 3 profile(s) unless rolled back (pgscore.error_queue holds those committed); " \
           "this session's statements since do not fail so" in said[0], said
    del shop.notices[:]
    query(shop, "INSERT INTO complaints (customer_id) VALUES (6)")  # said once
    assert not [n for n in shop.notices if "pgscore" in n], shop.notices
    assert query(shop, "SELECT count(*) FROM customers WHERE churn_score IS NOT NULL AND id IN (5, 6)") == [(2,)]


def _text_shop(shop, trained, trees, **options):
    """customers.satisfaction as text (the model still reads it as a number), churn v1 or a forest live, wired."""
    from sklearn.ensemble import RandomForestClassifier

    model, X, y = trained
    if trees:  # no scoring in SQL: only the read, score, write path runs
        model = RandomForestClassifier(n_estimators=10, max_depth=5, random_state=0).fit(X, y)
        registry.deploy(shop.dsn, "churn", model, X, y, feature_names=CHURN_FEATURES)
    query(shop, "ALTER TABLE customers ALTER COLUMN satisfaction TYPE text")
    return model, attach(shop, **options)


def _text_scored(conn, model, ids):
    """{id: (churn_score, scored_at, support_calls)} of `ids`, asserting each score is the model's on the
    profile's stored features (satisfaction read from its text)."""
    cols = ", ".join(f"{c}::float8" for c in CHURN_FEATURES)
    rows = query(conn, f"SELECT id, ARRAY[{cols}], churn_score, scored_at, support_calls FROM customers "
                       "WHERE id = ANY(%s) ORDER BY id", (list(ids),))
    want = model.predict_proba(np.array([r[1] for r in rows], dtype=float))[:, 1]
    assert np.max(np.abs(np.array([r[2] for r in rows], dtype=float) - want)) < 1e-9
    return {r[0]: r[2:] for r in rows}


@pytest.mark.parametrize("trees", [False, True], ids=["linear", "trees"])
def test_a_text_cell_that_is_no_number_queues_only_its_profile(shop, trained, trees):
    """Issue 5: a profile whose text feature cell is no number ('n/a') failed the statement's one read of
    the features, and every profile the statement named was queued with that one cell's reason (naming
    the other profile's key), none scored. Now only that profile is queued, with its own reason; the
    others are scored (one prediction for them), their audit rows written; its counters still moved."""
    model, _ = _text_shop(shop, trained, trees)
    query(shop, "UPDATE customers SET satisfaction = 'n/a' WHERE id = 32")
    (calls,), = query(shop, "SELECT support_calls FROM customers WHERE id = 32")
    del shop.notices[:]
    query(shop, "INSERT INTO complaints (customer_id) VALUES (30), (31), (32), (33)")
    (key, reason, state), = query(shop, "SELECT entity_key, reason, sqlstate FROM pgscore.error_queue")
    assert (key, state) == ("32", "22P02")
    assert "feature 'satisfaction' must be a number, got 'n/a' (key '32'" in reason, reason
    good = _text_scored(shop, model, [30, 31, 33])
    assert all(at is not None for _, at, _ in good.values())
    assert [k for k, *_ in trigger_log(shop)] == ["30", "31", "33"]
    assert query(shop, "SELECT churn_score, scored_at, support_calls FROM customers WHERE id = 32") == [
        (None, None, calls + 1)]
    warning, = [n for n in shop.notices if "could not be rescored" in n]
    assert "1 profile(s)" in warning


def test_a_numeric_beyond_double_precision_queues_only_its_profile(shop, trained):
    """Another value some profiles hold that fails the statement's read of the features: a numeric column's
    value beyond double precision (22003 from its cast to float8). Only that profile is queued; the others
    are scored."""
    model = trained[0]
    query(shop, "ALTER TABLE customers ALTER COLUMN age TYPE numeric")
    attach(shop)
    query(shop, "UPDATE customers SET age = 1e400 WHERE id = 52")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (51), (52), (53)")
    assert query(shop, "SELECT entity_key, sqlstate FROM pgscore.error_queue") == [("52", "22003")]
    assert_scores_match_model(shop, model, [51, 53])
    assert [k for k, *_ in trigger_log(shop)] == ["51", "53"]

# a counter that counts its own evaluations: each event's expression calls nextval, which no rollback undoes (the
# parts that fail run in subtransactions), so the sequence says how many events the statements aggregated
EVALUATED = {"support_calls": {"add": "1 OPERATOR(pg_catalog.+) (0 OPERATOR(pg_catalog.*) "
                                      "pg_catalog.nextval('public.evaluated'))"}}


def _evaluations(conn, statement) -> int:
    """How many times `statement` evaluated the counter of EVALUATED (each probe draws one value itself)."""
    (before,), = query(conn, "SELECT pg_catalog.nextval('public.evaluated')")
    query(conn, statement)
    (after,), = query(conn, "SELECT pg_catalog.nextval('public.evaluated')")
    return after - before - 1


def _events_of(first, profiles=64, each=3) -> str:
    return (f"INSERT INTO complaints (customer_id) SELECT {first} + g % {profiles} "
            f"FROM generate_series(0, {profiles * each - 1}) g")


def test_a_multi_row_statement_after_a_single_row_one_aggregates_its_events_once(shop, trained):
    """After a single-row statement the optimistic statement (one profile, no lock before it: Sql.fast) runs
    first; where the events name several profiles it gives up at the first event of another key, before it
    aggregates them: it aggregated all 192 events first, found 64 profiles and wrote nothing, then the locked
    statement aggregated them again (384 evaluations; 192 now). Events of one profile (NULL keys aside) still
    take it and write there (3 evaluations, not 6); NULL keys are warned of as before. Each statement rescores
    every profile it names: counters and score."""
    model = trained[0]
    query(shop, "CREATE SEQUENCE public.evaluated")
    query(shop, "SET pgscore.rescoring_warning_interval = 0")  # (each statement's NULL key said: session 70)
    attach(shop, counters={**EVALUATED, "complaints_30d": {"window": "30 days", "time": "created_at"}})
    before = profiles(shop)
    assert _evaluations(shop, "INSERT INTO complaints (customer_id) VALUES (7)") == 1
    assert _evaluations(shop, _events_of(1)) == 64 * 3
    assert _evaluations(shop, "INSERT INTO complaints (customer_id) VALUES (7)") == 1  # (locked: after several)
    assert _evaluations(shop, "INSERT INTO complaints (customer_id) VALUES (7)") == 1
    shop.notices.clear()
    assert _evaluations(shop, "INSERT INTO complaints (customer_id) VALUES (9), (NULL), (9)") == 3
    assert [n for n in shop.notices if "1 event(s) inserted into public.complaints have a NULL" in n], shop.notices
    assert _evaluations(shop, "INSERT INTO complaints (customer_id) VALUES (7)") == 1
    shop.notices.clear()
    assert _evaluations(shop, "INSERT INTO complaints (customer_id) VALUES (NULL), (11), (12), (11)") == 4
    assert [n for n in shop.notices if "1 event(s) inserted into public.complaints have a NULL" in n], shop.notices
    after = profiles(shop)
    events = dict(query(shop, "SELECT customer_id, count(*) FROM complaints WHERE customer_id IS NOT NULL "
                              "GROUP BY 1"))
    for k, v in after.items():
        assert v[1] == before[k][1] + events.get(k, 0), k
        assert v[2] == (events[k] if k in events else before[k][2]), k
    assert_scores_match_model(shop, model, list(events))
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]


def test_each_part_of_a_read_in_parts_aggregates_its_own_profiles_events_alone(shop, trained):
    """Where the statement's read of the features fails for one profile's cell, the features are read in
    halves down to that profile (_features_apart): each part's statement aggregated every event of the
    statement, then joined its own profiles (64 profiles, 192 events, one bad cell: 12 parts of 192 events
    each, 2,304 evaluations of each counter). Each part aggregates its own profiles' events alone now: the
    halves down to one profile hold fewer than twice the statement's events together (378 here)."""
    query(shop, "CREATE SEQUENCE public.evaluated")
    model, _ = _text_shop(shop, trained, True, counters=EVALUATED)  # (a forest: no statement scoring in SQL)
    n = 64 * 3
    clean = _evaluations(shop, _events_of(201))  # the read and the write: each aggregates the events once
    assert clean == 2 * n
    query(shop, "UPDATE customers SET satisfaction = 'n/a' WHERE id = 132")
    (calls,), = query(shop, "SELECT support_calls FROM customers WHERE id = 132")
    bad = _evaluations(shop, _events_of(101))
    # the read that failed (at most the events), the read without the features, then the parts
    assert bad - clean <= n + 2 * n, bad
    assert query(shop, "SELECT entity_key, sqlstate FROM pgscore.error_queue") == [("132", "22P02")]
    _text_scored(shop, model, [k for k in range(101, 165) if k != 132])
    assert query(shop, "SELECT support_calls, churn_score FROM customers WHERE id = 132") == [(calls + 3, None)]


def test_each_part_of_a_counters_update_in_parts_aggregates_its_own_profiles_events_alone(shop, trained):
    """Where the counters' update fails for one profile (a CHECK, no model live), the others are updated in
    halves (_counters_only): each part aggregated every event of the statement (12 parts of 192 events); its
    own profiles' events alone now, fewer than twice the statement's events together."""
    query(shop, "CREATE SEQUENCE public.evaluated")
    attach(shop, counters=EVALUATED)
    query(shop, "SELECT pgscore.retire('churn')")
    n = 64 * 3
    clean = _evaluations(shop, _events_of(201))  # the read (no features), the counters' one update
    assert clean == 2 * n
    query(shop, "UPDATE customers SET support_calls = 999 WHERE id = 132")
    query(shop, "ALTER TABLE customers ADD CONSTRAINT few_calls CHECK (support_calls < 1000)")
    before = dict(query(shop, "SELECT id, support_calls FROM customers WHERE id BETWEEN 101 AND 164"))
    bad = _evaluations(shop, _events_of(101))
    assert bad - clean <= 3 * n, bad  # (the update that failed: at most the events; then the parts)
    after = dict(query(shop, "SELECT id, support_calls FROM customers WHERE id BETWEEN 101 AND 164"))
    assert after == {k: v + (3 if k != 132 else 0) for k, v in before.items()}
    # (each profile queued: no model is live, the first reason of each)
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue WHERE entity_key::int BETWEEN 101 AND 164") == [(64,)]


def test_each_part_of_a_write_in_parts_aggregates_its_own_profiles_events_alone(shop, trained):
    """Where the write of the counters and scores fails for one profile (a CHECK on its score), the others are
    written in halves (_write): each part aggregated every event of the statement (12 parts of 192 events, and
    the one profile's counters alone: 192 more); its own profiles' events alone now, fewer than twice the
    statement's events together (381 here)."""
    query(shop, "CREATE SEQUENCE public.evaluated")
    model, _ = _text_shop(shop, trained, True, counters=EVALUATED)  # (a forest: no statement scoring in SQL)
    n = 64 * 3
    query(shop, "ALTER TABLE customers ADD CONSTRAINT unscored_132 CHECK (id <> 132 OR churn_score IS NULL)")
    clean = _evaluations(shop, _events_of(201))
    assert clean == 2 * n
    (calls,), = query(shop, "SELECT support_calls FROM customers WHERE id = 132")
    bad = _evaluations(shop, _events_of(101))
    # the write that failed (at most the events), then the parts and the one profile's counters alone
    assert bad - clean <= n + 2 * n, bad
    assert query(shop, "SELECT entity_key, sqlstate FROM pgscore.error_queue") == [("132", "23514")]
    _text_scored(shop, model, [k for k in range(101, 165) if k != 132])
    assert query(shop, "SELECT support_calls, churn_score FROM customers WHERE id = 132") == [(calls + 3, None)]


@pytest.mark.parametrize("trees", [False, True], ids=["linear", "trees"])
def test_retry_failed_rescores_the_queued_profiles_a_bad_text_cell_does_not_hold(shop, trained, trees):
    """retry_failed reads the queued profiles' features in one statement: one profile's text cell that is no
    number failed it, and every queued profile stayed queued under that reason. Now it stays queued alone."""
    model, rid = _text_shop(shop, trained, trees)
    query(shop, "UPDATE customers SET satisfaction = 'n/a' WHERE id IN (40, 42)")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (40), (41), (42)")
    assert query(shop, "SELECT entity_key FROM pgscore.error_queue ORDER BY 1") == [("40",), ("42",)]
    query(shop, "UPDATE customers SET satisfaction = '3' WHERE id = 42")  # fixed: 40 is still bad
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 1, 1)]
    (key, reason, attempts), = query(shop, "SELECT entity_key, reason, attempts FROM pgscore.error_queue")
    assert (key, attempts) == ("40", 2)
    assert "got 'n/a' (key '40'" in reason, reason
    assert _text_scored(shop, model, [41, 42])[42][1] is not None
    assert query(shop, "SELECT entity_key FROM pgscore.prediction_log WHERE source = 'retry'") == [("42",)]


def test_rows_a_model_refuses_are_scored_alone_and_the_others_in_one_prediction(trained):
    """Where the statement's one prediction fails for some rows' values (a NULL the model has no imputer
    for, an infinity), the rows holding such values are scored alone, each queued with its own reason, and
    the others in one prediction: it was one prediction per row for all of them (1,000 rows, one NULL:
    1,001 calls of the model). A model that raises whatever its input still fails every row alone."""
    from pgscore import rescoring
    from pgscore.serving import Loaded, SklearnEvaluator

    model, X, _ = trained
    ev = SklearnEvaluator(model, "binary", "churn v1")
    calls, call = [], ev._call
    ev._call = lambda fn, X_: calls.append(len(X_)) or call(fn, X_)
    m = Loaded(1, "churn", 1, "binary", CHURN_FEATURES, model.classes_.tolist(), ev, "scikit-learn")

    class Rows:  # the features as they are, for the decode of the read's bytes
        @staticmethod
        def decode(data, n, width, keys=None, model=None):
            return np.array(data[:n], dtype=float)

    rows = X[:1000].copy()
    rows[10, CHURN_FEATURES.index("age")] = np.nan
    rows[500, 0] = np.inf
    keys = [str(i) for i in range(1000)]
    failures = []
    scores, labels = rescoring._score(m, keys, rows.tolist(), failures, Rows)
    # (each refused row once more, its one refused value replaced by 0: the feature named is the one refused,
    # not a value a step of the model's takes; session 55)
    assert labels is None and calls == [1000, 998, 1, 1, 1, 1]
    assert [(f.keys, f.sqlstate) for f in failures] == [(["10"], "22023"), (["500"], "22023")]
    assert "feature 'age'" in failures[0].reason
    good = [i for i in range(1000) if i not in (10, 500)]
    assert scores[10] is None and scores[500] is None
    assert np.max(np.abs(np.array([scores[i] for i in good]) - model.predict_proba(rows[good])[:, 1])) < 1e-12

    def raises(fn, X_):
        calls.append(len(X_))
        raise RuntimeError("broken")

    ev._call, calls[:], failures[:] = raises, [], []
    scores, _ = rescoring._score(m, keys[8:13], rows[8:13].tolist(), failures, Rows)  # (10's NULL among them)
    assert scores == [None] * 5 and calls == [5, 4, 1, 1, 1, 1, 1]
    assert [f.keys for f in failures] == [[k] for k in keys[8:13]]
    assert all(f.sqlstate == rescoring.MODEL_RAISED for f in failures)
    calls[:], failures[:] = [], []  # no row holds such a value: the one prediction is not made again
    assert rescoring._score(m, keys[:5], rows[:5].tolist(), failures, Rows)[0] == [None] * 5
    assert calls == [5, 1, 1, 1, 1, 1] and len(failures) == 5


def test_an_exception_inside_the_model_keeps_the_events(db_url, trained):
    import operator

    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    _, X, y = trained
    lr = LogisticRegression(max_iter=500).fit(X, y)
    boom = Pipeline([("boom", FunctionTransformer(operator.itemgetter("x")).fit(X)), ("lr", lr)])
    registry.deploy(db_url, "churn", boom, None, feature_names=CHURN_FEATURES)  # scoring raises IndexError
    conn = psycopg2.connect(db_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        sample.create_tables(cur)
        sample.load_customers(cur, X[:20])
    attach(conn)
    query(conn, "INSERT INTO complaints (customer_id) VALUES (1), (2)")
    assert query(conn, "SELECT count(*) FROM complaints") == [(2,)]
    assert query(conn, "SELECT count(*) FROM customers WHERE support_calls IS NOT NULL AND churn_score IS NULL "
                       "AND id IN (1, 2)") == [(2,)]
    rows = query(conn, "SELECT entity_key, sqlstate, reason FROM pgscore.error_queue ORDER BY 1")
    assert [r[:2] for r in rows] == [("1", "38000"), ("2", "38000")]
    assert "the model raised IndexError" in rows[0][2]
    conn.close()


def test_a_failing_write_keeps_events_and_counters(shop):
    attach(shop)
    query(shop, "ALTER TABLE customers ADD CONSTRAINT low_scores CHECK (churn_score < 0.0001)")
    before = profiles(shop, [30])[30]
    query(shop, "INSERT INTO complaints (customer_id) VALUES (30)")
    after = profiles(shop, [30])[30]
    assert after[1] == before[1] + 1 and after[4] is None
    (reason, state), = query(shop, "SELECT reason, sqlstate FROM pgscore.error_queue")
    assert "low_scores" in reason and state == "23514"


def test_a_write_failing_for_one_profile_keeps_the_others_counters_and_scores(shop, trained):
    """One profile's row breaks a constraint: the others of the statement are written as if nothing
    happened (counters, score, audit row), and only that one is queued, with what failed: its counters
    (then none of its changes is kept) or only its score (then its counters are)."""
    attach(shop)
    for i in (40, 42, 44, 46):
        query(shop, "UPDATE customers SET support_calls = 0 WHERE id = %s", (i,))
    query(shop, "UPDATE customers SET support_calls = 9 WHERE id IN (41, 45)")
    query(shop, "ALTER TABLE customers ADD CONSTRAINT few_calls CHECK (support_calls < 10) NOT VALID")
    before = profiles(shop, range(40, 47))
    del shop.notices[:]
    query(shop, "INSERT INTO complaints (customer_id) VALUES (40), (41), (42), (43), (44), (45), (46)")
    after = profiles(shop, range(40, 47))
    for i in (40, 42, 43, 44, 46):
        assert after[i][1] == before[i][1] + 1 and after[i][5] is not None, i
    assert_scores_match_model(shop, trained[0], [40, 42, 43, 44, 46])
    for i in (41, 45):  # the counter that would break the constraint: nothing of theirs changed
        assert after[i][1:] == before[i][1:], i
    rows = query(shop, "SELECT entity_key, sqlstate, reason FROM pgscore.error_queue ORDER BY entity_key")
    assert [r[:2] for r in rows] == [("41", "23514"), ("45", "23514")]
    assert all(r[2].startswith("updating the counters failed") and "few_calls" in r[2] for r in rows), rows
    assert all(r[2].endswith("; retry_failed recounts complaints_30d and replays support_calls, last_complaint_at "
                             "from these events (their ids in the queue row's cause, uncounted_event_ids)")
               for r in rows), rows
    logged = query(shop, "SELECT entity_key FROM pgscore.prediction_log WHERE source = 'trigger' ORDER BY 1")
    assert [k for (k,) in logged] == ["40", "42", "43", "44", "46"]
    assert any("2 profile(s)" in n for n in shop.notices), shop.notices

    # a score only one profile's row refuses: its counters are kept, its score is not written
    query(shop, "ALTER TABLE customers DROP CONSTRAINT few_calls")
    (low,), = query(shop, "SELECT churn_score FROM customers WHERE id = 50")
    query(shop, "ALTER TABLE customers ADD CONSTRAINT not_50 CHECK (id <> 50 OR churn_score IS NOT DISTINCT FROM %s) "
                "NOT VALID", (low,))
    before = profiles(shop, [50, 51])
    query(shop, "INSERT INTO complaints (customer_id) VALUES (50), (51)")
    after = profiles(shop, [50, 51])
    assert after[50][1] == before[50][1] + 1 and after[50][4] == low and after[51][1] == before[51][1] + 1
    assert_scores_match_model(shop, trained[0], [51])
    (state, reason), = query(shop, "SELECT sqlstate, reason FROM pgscore.error_queue WHERE entity_key = '50'")
    assert state == "23514" and reason.startswith("writing the score and its audit row failed") and "not_50" in reason

    # retry_failed, the same way: 41 and 45 are rescored (from their counters as they are), 50 fails again
    (rid,), = query(shop, "SELECT rescoring_id FROM pgscore.rescoring")
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 2, 1)]
    assert query(shop, "SELECT entity_key, attempts FROM pgscore.error_queue") == [("50", 2)]
    assert_scores_match_model(shop, trained[0], [41, 45])
    assert profiles(shop, [50])[50][4] == low

    # with no live model, the counters alone, the same way
    query(shop, "UPDATE customers SET support_calls = 9 WHERE id = 61")
    query(shop, "ALTER TABLE customers ADD CONSTRAINT few_calls CHECK (support_calls < 10) NOT VALID")
    query(shop, "SELECT pgscore.retire('churn')")
    before = profiles(shop, [60, 61, 62])
    query(shop, "INSERT INTO complaints (customer_id) VALUES (60), (61), (62)")
    after = profiles(shop, [60, 61, 62])
    assert [after[i][1] - before[i][1] for i in (60, 61, 62)] == [1, 0, 1]
    assert query(shop, "SELECT entity_key, sqlstate FROM pgscore.error_queue WHERE entity_key IN ('60', '61', '62') "
                       "ORDER BY 1") == [("60", "55000"), ("61", "55000"), ("62", "55000")]


def test_a_write_failing_for_every_profile_keeps_every_counter_within_a_bounded_search(shop):
    """Every profile's score breaks the constraint: the search for the rows at fault stops after
    PARTS_BUDGET statements, and what is left is written (its counters) and queued by the part."""
    from pgscore.rescoring import PARTS_BUDGET

    attach(shop)
    query(shop, "ALTER TABLE customers ADD CONSTRAINT low_scores CHECK (churn_score < 0.0001) NOT VALID")
    before = profiles(shop)
    assert len(before) > PARTS_BUDGET // 2  # more profiles than the search can single out
    query(shop, "INSERT INTO complaints (customer_id) SELECT id FROM customers")
    after = profiles(shop)
    assert all(after[i][1] == before[i][1] + 1 and after[i][4:] == before[i][4:] for i in before)
    assert query(shop, "SELECT count(*), min(sqlstate), max(sqlstate), bool_and(reason LIKE 'writing the score "
                       "and its audit row failed%%low_scores%%') FROM pgscore.error_queue") == [(len(before), "23514", "23514", True)]
    assert query(shop, "SELECT count(*) FROM pgscore.prediction_log WHERE source = 'trigger'") == [(0,)]


RENAMED = [("customers", "support_calls", "counter"), ("customers", "complaints_30d", "counter"),
           ("customers", "churn_score", "score column"), ("customers", "scored_at", "scored_at column"),
           ("customers", "id", "key column"), ("complaints", "created_at", "time column"),
           ("complaints", "customer_id", "key column")]


@pytest.mark.parametrize("table, column, what", RENAMED, ids=[f"{t}.{c}" for t, c, _ in RENAMED])
def test_a_column_the_wiring_uses_renamed_keeps_the_events_and_queues_the_profiles(shop, db_url, trained, table,
                                                                                   column, what):
    """A column the wiring itself reads or writes renamed after attach (a counter's, the score's,
    scored_at's, a key, a window's time column): every INSERT is kept (in the session that made the plans,
    in a new one, and again in each), no counter changes, each profile is queued with the reason (none can
    be named without the event key: a WARNING), retry skips the wiring, and `pgscore status` names the
    column; renamed back, retry rescores them and rescoring goes on."""
    model = trained[0]
    rid = attach(shop)
    query(shop, "INSERT INTO complaints (customer_id) VALUES (1)")  # this session has made its plans
    before = profiles(shop, [2, 3])
    query(shop, f"ALTER TABLE {table} RENAME COLUMN {column} TO renamed")
    fresh = psycopg2.connect(db_url)
    fresh.autocommit = True
    event_key = column == "customer_id"
    for conn, ids, first in ((shop, (2, 3), True), (fresh, (3,), True), (shop, (3,), False)):
        del conn.notices[:]
        query(conn, "INSERT INTO complaints (" + ("renamed" if event_key else "customer_id") + ") VALUES "
              + ", ".join(f"({i})" for i in ids))
        said = "no profile was rescored" if event_key else "could not be rescored"
        # (session 69) said once a session, then at most once a minute: the session's second statement kept and
        # queued as the first, not said again. Not where the event key is gone (review r2): no profile can be
        # queued, no counter changed, so the WARNING is these events' only record (error_queue, health and
        # metrics() count none of them): said at every statement, as before
        assert any(said in n and "the events were kept" in n for n in conn.notices) == (first or event_key), \
            conn.notices
    fresh.close()
    assert query(shop, "SELECT count(*) FROM complaints") == [(5,)]
    queued = query(shop, "SELECT entity_key, sqlstate, reason, attempts FROM pgscore.error_queue ORDER BY 1")
    if event_key:
        assert queued == []
    else:
        assert [(k, st, n) for k, st, _, n in queued] == [("2", "42703", 1), ("3", "42703", 3)]
        assert all(column in r for _, _, r, _ in queued), queued
        # the reason says which counters the retry makes up for: the window recounted, the count and the max
        # replayed from the events the queue row names (before, they missed these events for good)
        assert all(r.endswith("; retry_failed recounts complaints_30d and replays support_calls, last_complaint_at "
                              "from these events (their ids in the queue row's cause, uncounted_event_ids)")
                   for _, _, r, _ in queued), queued
        del shop.notices[:]
        assert query(shop, "SELECT rescoring_id, rescored, failed FROM pgscore.retry_failed()") == [(rid, 0, 2)]
        assert any(f"retry_failed skipped wiring {rid}: column(s) missing: public.{table}.{column}" in n
                   for n in shop.notices), shop.notices
    out = pgscore_cli("status", "--db", db_url).stdout
    assert (f"NOT RESCORING: its {what} {column} of public.{table} no longer exists (renamed or dropped): its "
            "events are kept and no counter changes, ") in out, out
    query(shop, f"ALTER TABLE {table} RENAME COLUMN renamed TO {column}")
    assert "NOT RESCORING" not in pgscore_cli("status", "--db", db_url).stdout
    if not event_key:
        assert query(shop, "SELECT rescoring_id, rescored, failed FROM pgscore.retry_failed()") == [(rid, 2, 0)]
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
    after = profiles(shop, [2, 3])
    # the counts missed those events until the retry replayed them (before, for good)
    assert [after[i][1] for i in (2, 3)] == [before[i][1] + (0 if event_key else n) for i, n in ((2, 1), (3, 3))]
    if not event_key:
        # the window was recounted by the retry (it reads the event table), and the scores are of that
        recount = "SELECT count(*) FROM complaints WHERE customer_id = %s AND created_at > now() - interval '30 days'"
        assert [after[i][2] for i in (2, 3)] == [query(shop, recount, (i,))[0][0] for i in (2, 3)]
        assert [after[i][2] for i in (2, 3)] != [before[i][2] for i in (2, 3)]
        assert_scores_match_model(shop, model, [2, 3])
    query(shop, "INSERT INTO complaints (customer_id) VALUES (2)")  # and rescoring goes on as before
    assert profiles(shop, [2])[2][1] == after[2][1] + 1
    assert_scores_match_model(shop, model, [2])


def test_a_column_a_strict_wiring_writes_renamed_fails_the_insert_clearly(shop):
    attach(shop, strict=True)
    query(shop, "INSERT INTO complaints (customer_id) VALUES (4)")  # this session has made its plans
    query(shop, "ALTER TABLE customers RENAME COLUMN support_calls TO calls")
    fresh = psycopg2.connect(shop.dsn)
    fresh.autocommit = True
    for conn, why in ((shop, "column p.support_calls does not exist"),
                      (fresh, "column(s) missing: public.customers.support_calls (a counter)")):
        with pytest.raises(errors.UndefinedColumn) as e:
            query(conn, "INSERT INTO complaints (customer_id) VALUES (4)")
        assert e.value.diag.message_primary == (f"pgscore: rescoring public.customers for public.complaints fails: "
                                                f"{why}; the wiring is strict, so the INSERT fails")
        assert "pgscore status names the wiring's columns that are missing" in e.value.diag.message_hint
    fresh.close()
    assert query(shop, "SELECT count(*) FROM complaints") == [(1,)]


def test_a_strict_wirings_constraint_violation_keeps_its_own_error(shop):
    """Row errors a strict wiring raises (a CHECK on the score column) reach the client as PostgreSQL's,
    with their SQLSTATE and constraint, not as a wiring that cannot run."""
    attach(shop, strict=True)
    query(shop, "ALTER TABLE customers ADD CONSTRAINT low_scores CHECK (churn_score < 0.0001) NOT VALID")
    with pytest.raises(errors.CheckViolation) as e:
        query(shop, "INSERT INTO complaints (customer_id) VALUES (4)")
    assert e.value.diag.constraint_name == "low_scores"
    assert "rescoring" not in e.value.diag.message_primary
    assert query(shop, "SELECT count(*) FROM complaints") == [(0,)]


def test_strict_mode_fails_the_insert(shop):
    attach(shop, strict=True)
    query(shop, "UPDATE customers SET age = NULL WHERE id = 40")
    with pytest.raises(errors.InvalidParameterValue) as e:
        query(shop, "INSERT INTO complaints (customer_id) VALUES (40)")
    assert "feature 'age' is NULL or NaN" in str(e.value)
    assert query(shop, "SELECT count(*) FROM complaints") == [(0,)]
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]


def test_a_new_version_takes_over_at_the_next_statement(shop, trained):
    model, X, y = trained
    attach(shop)
    query(shop, "INSERT INTO complaints (customer_id) VALUES (50)")
    m2 = make_pipeline(StandardScaler(), LogisticRegression(C=0.01, max_iter=1000)).fit(X, y)
    registry.deploy(shop.dsn, "churn", m2, X, y, feature_names=CHURN_FEATURES)
    query(shop, "INSERT INTO complaints (customer_id) VALUES (50)")
    assert [r[0] for r in query(shop, "SELECT m.version FROM pgscore.prediction_log l JOIN pgscore.models m "
                                      "USING (model_id) WHERE l.source = 'trigger' ORDER BY l.logged_at")] == [1, 2]
    assert_scores_match_model(shop, m2, [50])
    # the wiring keeps the plans of the version it scores with, not of every one it has seen
    query(shop, "SELECT pgscore.rollback('churn')")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (50)")
    query(shop, "CREATE FUNCTION public.planned() RETURNS int[] LANGUAGE plpython3u AS $$ "
                "return sorted({k[0] for w in GD['pgscore.rescoring'].values() for k in w.plans}) $$")
    assert query(shop, "SELECT public.planned()") == [([rid for (rid,) in query(
        shop, "SELECT model_id FROM pgscore.models WHERE name = 'churn' AND version = 1")],)]


# -- linear models are scored inside the write statement -------------------------------------------------

def wrote_in_sql(ran):  # the statement that scores in SQL computes the new values as CTE n
    return any("CTE n" in p for p in plans_of(ran))


def read_into_python(ran):  # the write of scores from Python has no CTE n
    return any("CTE l" in p and "CTE n" not in p for p in plans_of(ran))


def per_row_outputs(plan, what):
    """The Output lines of `plan` (VERBOSE) that compute `what` for each row: those of nodes outside an
    InitPlan (an InitPlan's value is computed once a statement)."""
    found, once = [], None  # `once`: the indent of the InitPlan being read, while inside one
    for line in plan.splitlines():
        indent = len(line) - len(line.lstrip())
        if once is not None and indent <= once:
            once = None
        if line.strip().startswith("InitPlan") and once is None:
            once = indent
        elif once is None and line.strip().startswith("Output:") and what in line:
            found.append(line.strip())
    return found


def test_the_audit_rows_cause_is_built_once_a_statement_and_each_rows_events_added(shop, trained, db_url):
    """What the audit rows of a statement share in their cause (who, when, which wiring) is built once, in an
    InitPlan; each row adds its events and their ids. Both writes: the statement that scores in SQL and
    the write of scores from Python (a model SQL cannot score)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    model, X, y = trained
    attach(shop)
    query(shop, "LOAD 'auto_explain'; SET auto_explain.log_verbose = on")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (2)")  # this session has read the wiring
    ran = nested_statements(shop, "INSERT INTO complaints (customer_id) VALUES (3), (4), (4)")
    assert wrote_in_sql(ran), ran
    hgb = HistGradientBoostingClassifier(max_iter=10).fit(X, y)
    registry.deploy(db_url, "churn", hgb, X, y, feature_names=CHURN_FEATURES)
    query(shop, "INSERT INTO complaints (customer_id) VALUES (5)")  # the plans for the new version
    ran2 = nested_statements(shop, "INSERT INTO complaints (customer_id) VALUES (6), (7), (7), (7)")
    assert read_into_python(ran2), ran2
    for r in (ran, ran2):
        audit = [p for p in plans_of(r) if "Insert on pgscore.prediction_log" in p]
        assert audit, r
        for plan in audit:  # (the statement for one profile, which refused these, too)
            assert "statement_timestamp()" in plan
            assert per_row_outputs(plan, "statement_timestamp()") == [], plan
    rows = query(shop, "SELECT entity_key, cause FROM pgscore.prediction_log WHERE source = 'trigger' "
                       "AND entity_key IN ('3', '4', '6', '7') ORDER BY entity_key")
    ids = dict(query(shop, "SELECT customer_id::text, array_agg(complaint_id ORDER BY complaint_id) FROM complaints "
                           "GROUP BY 1"))
    (pid,), = query(shop, "SELECT pg_backend_pid()")
    for k, cause in rows:
        assert sorted(cause) == ["application", "backend", "event_ids", "event_table", "events", "rescoring_id",
                                 "statement_at", "user", "via"], cause
        assert (cause["via"], cause["event_table"], cause["backend"]) == ("trigger", "public.complaints", pid)
        assert cause["event_ids"] == ids[k] and cause["events"] == len(ids[k]), (k, cause)
    assert len({c["statement_at"] for k, c in rows if k in ("3", "4")}) == 1
    assert len({c["statement_at"] for k, c in rows if k in ("6", "7")}) == 1


def test_the_statement_that_scores_in_sql_probes_the_queue_once_when_the_wiring_has_nothing_queued(shop):
    """Clearing the profiles' queued errors: with none queued for the wiring (the usual case) the statement that
    scores in SQL asks once, not the queue's index for each profile it writes; with one queued, that one is
    cleared (and its events named by the audit row: test_events_whose_rescoring_failed_are_named_by_...)."""
    attach(shop)
    query(shop, "LOAD 'auto_explain'; SET auto_explain.log_analyze = on")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (2), (3)")  # this session has read the wiring

    def probes(sql):
        ran = nested_statements(shop, sql)
        assert wrote_in_sql(ran), ran
        plan = [p for p in plans_of(ran) if "CTE d" in p][-1]
        clear = plan.split("CTE d", 1)[1].split("CTE l", 1)[0]
        # (the probe once a statement is of q0)
        return [line.strip() for line in clear.splitlines() if "error_queue_rescoring_entity_idx" in line
                and " q0 " not in line]

    ran = probes("INSERT INTO complaints (customer_id) VALUES (3), (4), (5)")
    assert ran and all("never executed" in line for line in ran), ran
    live, = query(shop, "SELECT version FROM pgscore.live_models WHERE name = 'churn'")[0]
    query(shop, "SELECT pgscore.retire('churn')")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (6)")
    query(shop, "SELECT pgscore.activate('churn', %s)", (live,))
    query(shop, "INSERT INTO complaints (customer_id) VALUES (8), (9)")  # planned again for the version live again
    assert query(shop, "SELECT entity_key FROM pgscore.error_queue") == [("6",)]
    ran = probes("INSERT INTO complaints (customer_id) VALUES (6), (7)")
    assert ran and not all("never executed" in line for line in ran), ran
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]


def test_a_linear_model_is_scored_by_the_write_statement_itself(shop, trained, db_url):
    """Lock and one statement (counters, score, audit): no read of the features, no scoring in Python.
    A model that SQL cannot score (boosting) takes the read, score, write path."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    model, X, y = trained
    attach(shop)
    before = profiles(shop, [3, 4])
    query(shop, "LOAD 'auto_explain'; SET auto_explain.log_analyze = on")  # plans with their filters
    query(shop, "INSERT INTO complaints (customer_id) VALUES (2)")  # this session has read the wiring

    def statements(sql):
        ran = nested_statements(shop, sql)
        assert wrote_in_sql(ran) and not read_into_python(ran), ran
        return [n.split("Query Text: ", 1)[1][:21] for n in ran]

    write, lock, insert = "WITH a AS MATERIALIZE", "SELECT pg_catalog.set", "INSERT INTO complaint"
    # one profile: the write alone, no lock before it (the window counter's recount is checked by the
    # UPDATE finding the row version it read; see the next test), its xmin an ordinary filter, which
    # PostgreSQL re-checks on a re-read row whatever the scan (a TID scan's condition was not, before
    # the releases of late 2025)
    ran = nested_statements(shop, "INSERT INTO complaints (customer_id) VALUES (3)")
    assert [n.split("Query Text: ", 1)[1][:21] for n in ran] == [write, insert]
    update = plans_of(ran)[0].split("CTE u", 1)[1].split("CTE d", 1)[0]
    assert "Filter:" in update and "xmin = n.x" in update, update
    # two: that write refuses (it would lock them out of key order), then the lock and the write, one plan
    # of two statements
    ran = nested_statements(shop, "INSERT INTO complaints (customer_id) VALUES (3), (4)")
    assert [n.split("Query Text: ", 1)[1][:21] for n in ran] == [write, lock, lock, insert]
    # (and gives up at the second key, before it aggregates the events: its `a` is never run)
    assert "CTE a" in plans_of(ran)[0] and "(never executed)" in plans_of(ran)[0].split("CTE a", 1)[1].split(
        "\n", 2)[1], plans_of(ran)[0]
    # and after a statement naming several profiles the next one locks first
    assert statements("INSERT INTO complaints (customer_id) VALUES (4)") == [lock, lock, insert]
    assert statements("INSERT INTO complaints (customer_id) VALUES (4)") == [write, insert]
    # events of one profile, several rows (a NULL key aside), after a single-row statement: the write alone, and
    # (session 70) the NULL key's WARNING reading pgscore.rescoring_warning_interval, as a broken wiring's does
    assert statements("INSERT INTO complaints (customer_id) VALUES (4), (NULL), (4)") == [
        write, "SELECT pg_catalog.cur", insert]
    after = profiles(shop, [3, 4])
    assert [(after[k][1] - before[k][1], after[k][2]) for k in (3, 4)] == [(2, 2), (5, 5)]  # calls, 30 days
    assert_scores_match_model(shop, model, [2, 3, 4])
    hgb = HistGradientBoostingClassifier(max_iter=10).fit(X, y)
    registry.deploy(db_url, "churn", hgb, X, y, feature_names=CHURN_FEATURES)
    # the first statement after the deploy finds its plans stale (the live version changed): it writes
    # nothing, and the general path plans for the new version
    query(shop, "INSERT INTO complaints (customer_id) VALUES (5)")
    ran = nested_statements(shop, "INSERT INTO complaints (customer_id) VALUES (6)")
    assert read_into_python(ran) and not wrote_in_sql(ran)
    for k in (5, 6):
        (score,), = query(shop, "SELECT churn_score FROM customers WHERE id = %s", (k,))
        feats = np.array([profiles(shop, [k])[k][0]], dtype=float)
        assert abs(score - hgb.predict_proba(feats)[0, 1]) < 1e-9
    assert [r[0] for r in query(shop, "SELECT m.version FROM pgscore.prediction_log l JOIN pgscore.models m "
                                      "USING (model_id) WHERE l.source = 'trigger' AND l.entity_key IN ('5', '6')")] == [2, 2]


def test_a_profile_changed_after_the_unlocked_read_is_locked_and_recounted(shop, trained):
    """The write without a lock before it (events naming one profile) reads the profile and recounts
    its window without waiting; here another session has rescored customer 7 for its own event and not
    committed, so the read and the recount see neither. The UPDATE waits for that session; once it
    commits, the row is no longer the version read: nothing is written, and the trigger locks the
    profile and writes again, now counting both events. Without that check the second write would
    overwrite the first (support_calls one short, complaints_30d 1)."""
    model, _, _ = trained
    attach(shop)
    before = profiles(shop, [7])[7]
    holder, inserter, probe = (psycopg2.connect(shop.dsn) for _ in range(3))
    probe.autocommit = True
    query(inserter, "INSERT INTO complaints (customer_id) VALUES (8)")  # plans made, the wiring read
    inserter.commit()
    query(holder, "INSERT INTO complaints (customer_id) VALUES (7)")  # rescored, not committed
    done = []
    while_the_insert_waits(inserter, holder, probe, lambda: done.append(
        nested_statements(inserter, "INSERT INTO complaints (customer_id) VALUES (7)")), holder.commit)
    texts = [n.split("Query Text: ", 1)[1][:21] for n in done[0]]
    assert texts == ["WITH a AS MATERIALIZE", "SELECT pg_catalog.set", "SELECT pg_catalog.set",
                     "INSERT INTO complaint"]  # the write that found the row changed, the lock, the write
    after = profiles(shop, [7])[7]
    assert (after[1] - before[1], after[2]) == (2, 2)  # support_calls, complaints_30d
    assert_scores_match_model(shop, model, [7])
    logged = query(shop, "SELECT features[4], score FROM pgscore.prediction_log WHERE source = 'trigger' "
                         "AND entity_key = '7' ORDER BY logged_at")
    assert [f for f, _ in logged] == [1, 2] and logged[-1][1] == after[4]
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]


def test_a_profile_whose_other_writer_rolls_back_is_written_by_the_unlocked_statement(shop, trained):
    """As above, but the other session rolls back: the UPDATE then finds the version it read, and the
    write without a lock before it is the only statement that runs."""
    model, _, _ = trained
    attach(shop)
    before = profiles(shop, [7])[7]
    holder, inserter, probe = (psycopg2.connect(shop.dsn) for _ in range(3))
    probe.autocommit = True
    query(inserter, "INSERT INTO complaints (customer_id) VALUES (8)")
    inserter.commit()
    query(holder, "INSERT INTO complaints (customer_id) VALUES (7)")
    done = []
    while_the_insert_waits(inserter, holder, probe, lambda: done.append(
        nested_statements(inserter, "INSERT INTO complaints (customer_id) VALUES (7)")), holder.rollback)
    texts = [n.split("Query Text: ", 1)[1][:21] for n in done[0]]
    assert texts == ["WITH a AS MATERIALIZE", "INSERT INTO complaint"]
    after = profiles(shop, [7])[7]
    assert (after[1] - before[1], after[2]) == (1, 1)  # support_calls, complaints_30d
    assert_scores_match_model(shop, model, [7])


@pytest.mark.parametrize("strict", [False, True], ids=["queue", "strict"])
def test_serialization_failures_and_lock_timeouts_fail_the_insert(shop, strict):
    """Errors that no other way of rescoring can help with reach the client even where the wiring
    queues failures: under REPEATABLE READ a profile another session updated after the snapshot
    raises 40001 (queuing instead would commit counters from a stale snapshot), and a lock_timeout
    raises 55P03. Nothing of the failed transaction stays."""
    attach(shop, strict=strict)
    before = profiles(shop, [9])[9]
    rr = psycopg2.connect(shop.dsn)
    rr.set_session(isolation_level="REPEATABLE READ")
    query(rr, "SELECT 1")  # the snapshot
    query(shop.dsn, "INSERT INTO complaints (customer_id) VALUES (9)")  # another session, committed
    with pytest.raises(errors.SerializationFailure) as e:
        query(rr, "INSERT INTO complaints (customer_id) VALUES (9)")
    # PostgreSQL's own message, read as pgscore's errors are (it read 'spiexceptions.SerializationFailure: ...')
    assert e.value.diag.message_primary.startswith("pgscore: could not serialize access"), e.value.diag.message_primary
    rr.rollback()
    rr.close()
    holder, waiter = psycopg2.connect(shop.dsn), psycopg2.connect(shop.dsn)
    query(holder, "SELECT 1 FROM customers WHERE id = 9 FOR UPDATE")
    query(waiter, "SET lock_timeout = '200ms'")
    with pytest.raises(errors.LockNotAvailable) as e:
        query(waiter, "INSERT INTO complaints (customer_id) VALUES (9)")
    assert e.value.diag.message_primary == "pgscore: canceling statement due to lock timeout"
    waiter.rollback()
    holder.rollback()
    holder.close()
    waiter.close()
    after = profiles(shop, [9])[9]
    assert (after[1] - before[1], after[2]) == (1, 1)  # the committed event only
    assert query(shop, "SELECT count(*) FROM complaints") == [(1,)]
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]


@pytest.mark.parametrize("state,raised", [
    ("40001", True), ("40P01", True), ("40002", True), ("40003", True),
    ("57014", True), ("57000", True), ("57P01", True), ("57P02", True), ("57P03", True), ("57P04", True),
    ("57P05", True), ("55P03", True),
    ("53100", False), ("53200", False), ("53300", False), ("53400", False), ("55000", False), ("42501", False),
    ("XX001", False), ("P0001", False), ("", False), (None, False)])
def test_of_the_transaction_is_classes_40_and_57_and_a_lock_timeout(state, raised):
    """One rule for an error of the transaction, not of the model, in Python as in SQL's load_or_refuse: class
    40, all of class 57 (operator intervention: it held 57014 alone, so an administrator's shutdown or a dropped
    database met through postgres_fdw, 57P01-57P05, was queued or counted as the model's) and 55P03. Class 53 is
    not: another way of scoring helps there."""
    from pgscore.errors import of_the_transaction

    assert of_the_transaction(state) is raised


@pytest.mark.parametrize("strict", [False, True], ids=["queue", "strict"])
def test_an_operator_intervention_fails_the_insert(shop, strict):
    """An error of class 57 met while rescoring (here 57P01, as postgres_fdw raises a foreign server's shutdown,
    from a trigger on the profile table) fails the INSERT where the wiring queues failures, as a cancel does:
    it was queued in pgscore.error_queue as the profile's failure, and the event committed."""
    attach(shop, strict=strict)
    before = profiles(shop, [9])[9]
    query(shop, "CREATE FUNCTION shut() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN "
                "RAISE EXCEPTION 'terminating connection due to administrator command' USING ERRCODE = '57P01'; "
                "END$$")
    query(shop, "CREATE TRIGGER shut BEFORE UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION shut()")
    with pytest.raises(errors.AdminShutdown) as e:
        query(shop, "INSERT INTO complaints (customer_id) VALUES (9)")
    assert "administrator command" in e.value.diag.message_primary, e.value.diag.message_primary
    assert profiles(shop, [9])[9][1:3] == before[1:3]  # support_calls, complaints_30d: unchanged
    assert query(shop, "SELECT count(*) FROM complaints") == [(0,)]
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]


@pytest.mark.parametrize("strict", [False, True], ids=["queue", "strict"])
def test_a_statement_timeout_during_the_first_model_load_fails_the_insert(shop, trained, db_url, strict):
    """A statement_timeout that passes while a fresh backend loads the model (here the import of scikit-learn
    and the unpickling of a model scored in Python, ~1 s, under a 200 ms timeout) fails the INSERT with 57014
    when the load ends, as the first pgscore.score() of a fresh backend does: before, the INSERT ran past it
    and committed (4.15 s under a 1 s timeout in an SRE's trial). Nothing of it stays, nothing is queued; the
    model stays loaded, and the same statement again (no timeout) rescores the profile."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    _, X, y = trained
    hgb = HistGradientBoostingClassifier(max_iter=10).fit(X, y)
    # (compile=False: scored by scikit-learn, whose import the load waits for; compiled, the load took numpy's
    # import alone, under the timeout on an idle machine: the test passed only on a busy one)
    registry.deploy(db_url, "churn", hgb, X, y, feature_names=CHURN_FEATURES, compile=False)
    attach(shop, strict=strict)
    before = profiles(shop, [9])[9]
    fresh = psycopg2.connect(shop.dsn)
    fresh.autocommit = True
    try:
        query(fresh, "SET statement_timeout = '200ms'")
        started = time.monotonic()
        with pytest.raises(errors.QueryCanceled) as e:
            query(fresh, "INSERT INTO complaints (customer_id) VALUES (9)")
        took = time.monotonic() - started
        assert "statement timeout" in e.value.diag.message_primary, e.value.diag.message_primary
        assert took > 0.2, took
        assert profiles(shop, [9])[9][1:3] == before[1:3]  # support_calls, complaints_30d: unchanged
        assert query(shop, "SELECT count(*) FROM complaints") == [(0,)]
        assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
        query(fresh, "RESET statement_timeout")  # (the backend's first rescoring plans too: not timed here)
        query(fresh, "INSERT INTO complaints (customer_id) VALUES (9)")  # the model stayed loaded
    finally:
        fresh.close()
    after = profiles(shop, [9])[9]
    assert (after[1] - before[1], after[2]) == (1, 1)
    assert_scores_match_model(shop, hgb, [9])


def test_a_statement_timeout_while_the_insert_loads_its_shadow_fails_the_insert(shop, trained, db_url):
    """A statement_timeout that passes while a rescoring INSERT loads the version scored in shadow (a forest of
    scikit-learn's ensemble, which the backend, the live pipeline loaded, had not imported) fails the INSERT with
    57014 when the load ends, as loading the live version does: the cancel is the statement's, not the shadow's
    failure. Without the re-raise the shadow took it for its own failure to load, counted it in shadow_failures,
    and the INSERT committed past its timeout (review r5 of session 63: the shadow's half of that change had no
    test). Nothing of it stays, no shadow failure is counted."""
    from sklearn.ensemble import RandomForestClassifier

    _, X, y = trained
    attach(shop)
    fresh = psycopg2.connect(shop.dsn)
    fresh.autocommit = True
    try:
        query(fresh, "INSERT INTO complaints (customer_id) VALUES (8)")  # the live version loaded in this backend
        forest = RandomForestClassifier(n_estimators=300, random_state=0).fit(X, y)
        registry.deploy(db_url, "churn", forest, X, y, feature_names=CHURN_FEATURES, activate=False,
                        compile=False)  # (scored by scikit-learn: its ensemble's import is the load's time)
        registry.set_shadow(db_url, "churn", 2)
        query(fresh, "SET statement_timeout = '200ms'")
        started = time.monotonic()
        with pytest.raises(errors.QueryCanceled) as e:
            query(fresh, "INSERT INTO complaints (customer_id) VALUES (9)")
        assert "statement timeout" in e.value.diag.message_primary, e.value.diag.message_primary
        assert time.monotonic() - started > 0.2
    finally:
        fresh.close()
    assert query(shop, "SELECT count(*) FROM complaints WHERE customer_id = 9") == [(0,)]
    assert query(shop, "SELECT count(*) FROM pgscore.shadow_failures") == [(0,)]


def test_missing_values_are_imputed_in_the_write_statement(shop, trained, db_url):
    from sklearn.impute import SimpleImputer

    _, X, y = trained
    est = make_pipeline(SimpleImputer(strategy="median"), StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)
    registry.deploy(db_url, "churn", est, X, y, feature_names=CHURN_FEATURES)
    attach(shop)
    query(shop, "UPDATE customers SET age = NULL, satisfaction = 'NaN' WHERE id = 60")
    ran = nested_statements(shop, "INSERT INTO complaints (customer_id) VALUES (60), (61)")
    assert wrote_in_sql(ran) and not read_into_python(ran)
    assert_scores_match_model(shop, est, [60, 61])
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]


def test_a_value_that_overflows_in_sql_is_scored_in_python(shop, trained):
    """PostgreSQL raises where Python's floats overflow to infinity: the statement falls back to the
    read, score, write path, which scores the profile as pgscore.score() would (a probability of 0 or 1), as
    scikit-learn does. (The model: weights whose sum is above 1 and no scaler, so that scikit-learn takes
    1.7e308 in every feature; churn's scaler makes such values infinite, which scikit-learn refuses: below.)"""
    from pgscore import registry
    from pgscore.compiled import compile_estimator

    _, X, y = trained
    others = [c not in ("support_calls", "complaints_30d") for c in CHURN_FEATURES]
    model = LogisticRegression(max_iter=1000).fit(X, y)
    model.coef_ *= 3 / np.abs(model.coef_[0, others]).sum()
    registry.deploy(shop.dsn, "churn", model, X, y, feature_names=CHURN_FEATURES)
    attach(shop)
    ev = compile_estimator(model, "binary", len(CHURN_FEATURES))
    slope = ev.arrays["lin_s"][:, 0]
    assert np.abs(slope[others]).sum() > 1.1  # so that these values overflow the sum
    cols = ", ".join(f"{c} = %s" for c in CHURN_FEATURES if c not in ("support_calls", "complaints_30d"))
    vals = [float(np.sign(s) or 1) * 1.7e308 for c, s in zip(CHURN_FEATURES, slope)
            if c not in ("support_calls", "complaints_30d")]
    query(shop, f"UPDATE customers SET {cols} WHERE id = 70", vals)
    ran = nested_statements(shop, "INSERT INTO complaints (customer_id) VALUES (70)")
    # the write statement raised (auto_explain logs only what completes); the read, score, write path ran
    assert read_into_python(ran) and not wrote_in_sql(ran)
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
    (score,), = query(shop, "SELECT churn_score FROM customers WHERE id = 70")
    # every feature's term pushes z the way its slope points, so z overflows to +infinity: the limit is 1
    row = profiles(shop, [70])[70][0]
    assert score == 1.0 == model.predict_proba([row])[0, 1]
    assert score == ev.score_row(row)


def test_a_value_the_scaler_makes_infinite_is_refused_and_queued(shop, trained):
    """churn's StandardScaler divides late_payments by ~0.53: 1.7e308 becomes infinity, which scikit-learn's
    LogisticRegression refuses. Rescoring scored such a profile 1.0 (the compiled weights fold the scaler in);
    it is refused now, as pgscore.score() refuses it, and the profile queued with the reason."""
    model, X, y = trained
    attach(shop)
    query(shop, "UPDATE customers SET late_payments = 1.7e308 WHERE id = 70")
    with pytest.raises(ValueError, match="Input X contains infinity"):
        model.predict_proba([profiles(shop, [70])[70][0]])
    query(shop, "INSERT INTO complaints (customer_id) VALUES (70)")
    (reason,), = query(shop, "SELECT reason FROM pgscore.error_queue WHERE entity_key = '70'")
    assert "feature 'late_payments' is 1.7e+308, which the steps before the model rescale past float64's range " \
           "(±1.8e308) to infinity" in reason, reason
    with pytest.raises(psycopg2.Error) as e:
        query(shop, "SELECT pgscore.score('churn', to_jsonb(c)) FROM customers c WHERE id = 70")
    err = e.value
    assert err.pgcode == "22023" and "'late_payments' is 1.7e+308" in err.pgerror, err.pgerror


def test_profiles_with_a_features_array_and_no_counters(shop, trained):
    """Features in one float8[] column: scored by the write statement when its length is right; a
    profile whose array is short is queued with the reason, by the read, score, write path."""
    model, X, y = trained
    query(shop, "CREATE TABLE vec (id bigint PRIMARY KEY, features float8[], churn_score float8, scored_at timestamptz)")
    for i, r in enumerate(X[:5], start=1):
        query(shop, "INSERT INTO vec VALUES (%s, %s, NULL, NULL)", (i, [float(v) for v in r]))
    query(shop, "UPDATE vec SET features = features[1:11] WHERE id = 5")
    query(shop, "SELECT pgscore.attach_rescoring('complaints', 'vec', 'customer_id', 'churn', 'churn_score', '{}', "
                "p_profile_key => 'id', p_missing_profile => 'queue')")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (1)")  # this session has read the wiring
    ran = nested_statements(shop, "INSERT INTO complaints (customer_id) VALUES (2), (3)")
    assert wrote_in_sql(ran) and not read_into_python(ran)
    got = [s for (s,) in query(shop, "SELECT churn_score FROM vec WHERE id <= 3 ORDER BY id")]
    assert np.abs(np.array(got) - model.predict_proba(X[:3])[:, 1]).max() < 1e-9
    query(shop, "INSERT INTO complaints (customer_id) VALUES (4), (5)")  # only 5 is at fault
    (key, reason), = query(shop, "SELECT entity_key, reason FROM pgscore.error_queue")
    assert key == "5" and "model churn v1 takes 12 features; row 1 (key '5') has 11 features" in reason, reason
    assert query(shop, "SELECT count(*) FROM vec WHERE churn_score IS NOT NULL") == [(4,)]


def test_profiles_with_a_wide_features_array_are_scored_from_one_read_of_it(shop, db_url):
    """A linear model of 300 features over one float8[] profile column (2.4 kB: stored out of line): scored
    in Python from one read of the array, not by the write statement, where each of its 300 subscripts (and
    the audit row's 300 more) read the stored array whole again (3,000 features: 186 ms a single-row INSERT,
    5 s for 100 events, against 2 ms and 0.16 s now). Equal to scikit-learn, one audit row each."""
    from pgscore.batch import WIDE_ARRAY

    n = 300
    assert n > WIDE_ARRAY
    rng = np.random.default_rng(6)
    x = rng.normal(size=(400, n))
    est = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(x, (x[:, :4].sum(1) > 0).astype(int))
    registry.deploy(db_url, "wide", est, x, feature_names=[f"f{i}" for i in range(n)])
    query(shop, "CREATE TABLE vec (id bigint PRIMARY KEY, features float8[], s float8, scored_at timestamptz)")
    for i, r in enumerate(x[:6], start=1):
        query(shop, "INSERT INTO vec VALUES (%s, %s, NULL, NULL)", (i, [float(v) for v in r]))
    query(shop, "SELECT pgscore.attach_rescoring('complaints', 'vec', 'customer_id', 'wide', 's', '{}', "
                "p_profile_key => 'id', p_missing_profile => 'queue')")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (1)")  # this session has read the wiring
    ran = nested_statements(shop, "INSERT INTO complaints (customer_id) VALUES (2), (3), (3)")
    assert read_into_python(ran) and not wrote_in_sql(ran)
    query(shop, "INSERT INTO complaints (customer_id) VALUES (4)")
    got = [s for (s,) in query(shop, "SELECT s FROM vec WHERE id <= 4 ORDER BY id")]
    assert np.abs(np.array(got) - est.predict_proba(x[:4])[:, 1]).max() < 1e-9
    assert query(shop, "SELECT count(*), count(DISTINCT entity_key) FROM pgscore.prediction_log l JOIN vec "
                       "ON vec.id::text = l.entity_key WHERE l.source = 'trigger' AND l.features = vec.features "
                       "AND l.score = vec.s") == [(4, 4)]
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]


# -- wiring: list, detach, dump and restore ------------------------------------------------------------

def test_wiring_is_listed_and_detach_removes_the_trigger(shop):
    rid = attach(shop)
    row = query(shop, "SELECT event_table, profile_table, event_key, profile_key, model_name, score_column, "
                      "scored_at_column, counters, event_id_column, missing_profile, strict, trigger_name "
                      "FROM pgscore.rescoring")
    assert row == [("public.complaints", "public.customers", "customer_id", "id", "churn", "churn_score",
                    "scored_at", sample.COUNTERS, "complaint_id", "create", False, f"pgscore_rescore_{rid}")]
    query(shop, "UPDATE customers SET age = NULL WHERE id = 60")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (60)")
    assert query(shop, "SELECT pgscore.detach_rescoring('complaints', 'customers')") == [(1,)]
    assert query(shop, "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'complaints'::regclass "
                       "AND NOT tgisinternal") == [(0,)]
    assert query(shop, "SELECT count(*) FROM pgscore.rescoring") == [(0,)]
    assert query(shop, "SELECT rescoring_id, entity_key FROM pgscore.error_queue") == [(None, "60")]  # kept
    calls = profiles(shop, [61])[61][1]
    query(shop, "INSERT INTO complaints (customer_id) VALUES (61)")
    assert profiles(shop, [61])[61][1] == calls  # no longer wired
    with pytest.raises(errors.UndefinedObject) as e:
        query(shop, "SELECT pgscore.detach_rescoring('complaints')")
    assert "is not wired for rescoring" in str(e.value)


def test_attaching_again_adopts_the_profiles_an_earlier_wiring_queued(shop, trained):
    """Detach and attach again (to switch strict on, say): the profiles queued under the old wiring
    become the new one's, so retry_failed rescores them instead of leaving them behind unowned."""
    attach(shop)
    query(shop, "UPDATE customers SET age = NULL WHERE id IN (60, 62)")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (60), (62)")
    query(shop, "SELECT pgscore.detach_rescoring('complaints')")
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue WHERE rescoring_id IS NULL") == [(2,)]
    del shop.notices[:]
    rid = attach(shop)
    assert any("2 profile(s) of public.customers queued by an earlier wiring" in n for n in shop.notices), shop.notices
    assert query(shop, "SELECT rescoring_id, entity_key FROM pgscore.error_queue ORDER BY 2") == [(rid, "60"), (rid, "62")]
    query(shop, "UPDATE customers SET age = 40 WHERE id IN (60, 62)")
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 2, 0)]
    assert_scores_match_model(shop, trained[0], [60, 62])


def test_attach_warns_of_a_recount_without_an_index_and_of_partitions(shop):
    """A window or recompute counter recounts each touched profile's events: with no index that starts
    with the key, every INSERT reads the whole event table, so attach says so, with the index to create.
    A partitioned event table works through the parent only, and attach says that too."""
    query(shop, "CREATE TABLE calls (customer_id bigint, at timestamptz DEFAULT now())")
    window = '{"complaints_30d": {"window": "30 days", "time": "at"}}'
    del shop.notices[:]
    query(shop, "SELECT pgscore.attach_rescoring('calls', 'customers', 'customer_id', 'churn', 'churn_score', "
                "%s::jsonb, p_profile_key => 'id')", (window,))
    said = [n for n in shop.notices if "recounts" in n]
    assert said and "public.calls has no index that starts with customer_id" in said[0]
    assert "CREATE INDEX ON public.calls (customer_id, at)" in said[0]
    query(shop, "SELECT pgscore.detach_rescoring('calls')")
    query(shop, "CREATE INDEX ON calls (customer_id)")
    del shop.notices[:]
    query(shop, "SELECT pgscore.attach_rescoring('calls', 'customers', 'customer_id', 'churn', 'churn_score', "
                "%s::jsonb, p_profile_key => 'id')", (window,))
    assert not [n for n in shop.notices if "WARNING" in n], shop.notices
    query(shop, "CREATE TABLE pcalls (customer_id bigint, at timestamptz DEFAULT now()) PARTITION BY RANGE (at)")
    query(shop, "CREATE TABLE pcalls_all PARTITION OF pcalls DEFAULT")
    query(shop, "CREATE INDEX ON pcalls (customer_id, at)")
    del shop.notices[:]
    query(shop, "SELECT pgscore.attach_rescoring('pcalls', 'customers', 'customer_id', 'churn', 'churn_score', "
                "%s::jsonb, p_profile_key => 'id')", (window,))
    said = [n for n in shop.notices if "WARNING" in n]
    assert len(said) == 1 and "public.pcalls is partitioned" in said[0] and "by name are not rescored" in said[0]
    query(shop, "INSERT INTO pcalls (customer_id) VALUES (5)")  # through the parent: recounted from pcalls
    assert query(shop, "SELECT complaints_30d FROM customers WHERE id = 5") == [(1.0,)]
    # a parent of inheritance children: a row inserted into a child fires no trigger of the parent's
    query(shop, "CREATE TABLE icalls (customer_id bigint, at timestamptz DEFAULT now()); "
                "CREATE TABLE icalls_web () INHERITS (icalls); CREATE INDEX ON icalls (customer_id, at)")
    del shop.notices[:]
    query(shop, "SELECT pgscore.attach_rescoring('icalls', 'customers', 'customer_id', 'churn', 'churn_score', "
                "%s::jsonb, p_profile_key => 'id')", (window,))
    said = [n for n in shop.notices if "WARNING" in n]
    assert len(said) == 1 and "public.icalls has inheritance children (public.icalls_web): rows inserted into a child " \
        "are not rescored" in said[0], said


def test_retry_failed_names_the_profile_table_that_went(shop):
    rid = attach(shop)
    query(shop, "UPDATE customers SET age = NULL WHERE id = 81")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (81)")  # queued: age is NULL
    query(shop, "ALTER TABLE customers RENAME TO clients")
    del shop.notices[:]
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 0, 1)]
    said = [n for n in shop.notices if "retry_failed skipped" in n]
    # (session 67: the table the queued rows were queued for, by their OID, named where it lives on)
    assert said and f"skipped wiring {rid}: its profile table public.customers was renamed to public.clients" in said[0]
    query(shop, "DROP TABLE clients")  # gone: nothing to name
    del shop.notices[:]
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 0, 1)]
    said = [n for n in shop.notices if "retry_failed skipped" in n]
    assert said and f"skipped wiring {rid}: its profile table public.customers was dropped or renamed" in said[0]


def test_retry_failed_and_attach_after_an_event_table_was_dropped(shop, trained):
    """The queued profiles of a wiring whose event table was dropped: retry_failed skips that wiring with a
    WARNING (it has no event table to recount from) and goes on with the others; attaching any event table
    to the same profiles takes them over, and retry_failed rescores them."""
    attach(shop)
    query(shop, "UPDATE customers SET age = NULL WHERE id = 80")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (80)")
    (old,), = query(shop, "SELECT rescoring_id FROM pgscore.rescoring")
    query(shop, "DROP TABLE complaints")
    query(shop, "DISCARD ALL")
    del shop.notices[:]
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(old, 0, 1)]
    assert any("retry_failed skipped wiring" in n and "was dropped or renamed" in n for n in shop.notices)
    query(shop, "CREATE TABLE calls (customer_id bigint)")
    query(shop, "SELECT pgscore.attach_rescoring('calls', 'customers', 'customer_id', 'churn', 'churn_score', "
                "'{\"support_calls\": \"count\"}', p_profile_key => 'id')")
    (new,), = query(shop, "SELECT rescoring_id FROM pgscore.rescoring WHERE event_table = 'public.calls'")
    assert query(shop, "SELECT rescoring_id, entity_key FROM pgscore.error_queue") == [(new, "80")]
    query(shop, "UPDATE customers SET age = 30 WHERE id = 80")
    assert (new, 1, 0) in query(shop, "SELECT * FROM pgscore.retry_failed()")
    assert_scores_match_model(shop, trained[0], [80])


def test_event_keys_must_reach_the_profile_key_type(shop):
    """An int event key feeds a bigint profile key; a bigint one could hold keys an int profile key cannot,
    which would sit in the error queue forever, so it is refused at attach."""
    query(shop, "CREATE TABLE small_profiles (id int PRIMARY KEY, churn_score float8, scored_at timestamptz, "
                "n int DEFAULT 0)")
    query(shop, "CREATE TABLE int_calls (customer_id int)")
    with pytest.raises(psycopg2.Error) as e:
        query(shop, "SELECT pgscore.attach_rescoring('complaints', 'small_profiles', 'customer_id', 'nobody', "
                    "'churn_score', '{\"n\": \"count\"}', p_profile_key => 'id')")
    assert e.value.pgcode == "42804" and "public.complaints.customer_id is bigint" in e.value.pgerror
    assert "an event key may not fit a profile key" in e.value.pgerror
    assert "ALTER TABLE public.complaints ALTER COLUMN customer_id TYPE integer" in e.value.pgerror
    query(shop, "SELECT pgscore.attach_rescoring('int_calls', 'customers', 'customer_id', 'churn', 'churn_score', "
                "'{\"support_calls\": \"count\"}', p_profile_key => 'id')")
    query(shop, "INSERT INTO int_calls VALUES (9)")
    assert query(shop, "SELECT count(*) FROM customers WHERE id = 9 AND churn_score IS NOT NULL") == [(1,)]
    # a domain over the profile key's type, text keys for a varchar key, int events for a smallint key
    query(shop, "CREATE DOMAIN cust_id AS bigint")
    query(shop, "CREATE TABLE domain_calls (customer_id cust_id)")
    query(shop, "SELECT pgscore.attach_rescoring('domain_calls', 'customers', 'customer_id', 'churn', 'churn_score', "
                "'{\"support_calls\": \"count\"}', p_profile_key => 'id')")
    query(shop, "CREATE TABLE named (name varchar(20) PRIMARY KEY, churn_score float8, scored_at timestamptz, n int)")
    query(shop, "CREATE TABLE text_calls (name text)")
    query(shop, "SELECT pgscore.attach_rescoring('text_calls', 'named', 'name', 'nobody', 'churn_score', "
                "'{\"n\": \"count\"}')")
    query(shop, "CREATE TABLE tiny (id smallint PRIMARY KEY, churn_score float8, scored_at timestamptz, n int)")
    with pytest.raises(psycopg2.Error) as e:
        query(shop, "SELECT pgscore.attach_rescoring('int_calls', 'tiny', 'customer_id', 'nobody', 'churn_score', "
                    "'{\"n\": \"count\"}', p_profile_key => 'id')")
    assert e.value.pgcode == "42804" and "an event key may not fit a profile key" in e.value.pgerror


def test_retry_failed_leaves_the_reasons_of_tables_the_caller_cannot_read(shop):
    """retry_failed run by a role that may not read a wiring's profiles skips that wiring with a WARNING
    and leaves its queued reasons as they were: the profiles' diagnosis is not replaced by the caller's. (Since
    session 70 the wiring is left out of the result, as one in a schema the caller may not use: it was (rid, 0, 1).)"""
    attach(shop)
    query(shop, "UPDATE customers SET age = NULL WHERE id = 70")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (70)")
    (reason, attempts), = query(shop, "SELECT reason, attempts FROM pgscore.error_queue")
    ensure_role(shop, "pgscore_t_retry")
    query(shop, "GRANT pgscore_app TO pgscore_t_retry")
    query(shop, "SET ROLE pgscore_t_retry")
    del shop.notices[:]
    try:
        rid = query(shop, "SELECT rescoring_id FROM pgscore.rescoring")[0][0]
        assert query(shop, "SELECT * FROM pgscore.retry_failed()") == []
    finally:
        query(shop, "RESET ROLE")
    said = [n for n in shop.notices if "retry_failed skipped" in n]
    assert said and f"skipped wiring {rid}" in said[0] and "permission denied" in said[0] \
        and "GRANT SELECT, UPDATE ON public.customers TO pgscore_t_retry" in said[0], said
    assert query(shop, "SELECT reason, attempts FROM pgscore.error_queue") == [(reason, attempts)]
    with pytest.raises(errors.UndefinedObject) as e:
        query(shop, "SELECT * FROM pgscore.retry_failed('no_such_model')")
    assert "no_such_model" in str(e.value)


RESTORES = {"plain, psql": None, "custom, pg_restore": [], "custom, pg_restore -j 2": ["-j", "2"],
            "custom, pg_restore --single-transaction": ["--single-transaction"]}


@pytest.mark.parametrize("restore", list(RESTORES))
def test_wiring_survives_dump_and_restore(shop, cluster, trained, restore, tmp_path):
    """A populated database (a wiring, audit rows, an outcome, a shadow version, a day's partition past
    retention, a BI login granted pgscore_reader) dumped whole and restored into a new database, as plain SQL
    through psql and as pg_dump -Fc through pg_restore (also -j 2 and --single-transaction, which docs/sql.md's
    "Moving a database" says were walked): the restore prints nothing, the wiring's one trigger fires once, the
    scores equal the model's, the log's partitions and rows come back and retention drops the old day, and the
    BI login reads every view of docs/sql.md's table in a read-only session (default_transaction_read_only) as
    before (the drift views' numbers equal the source's), and reads the log's table no more than before."""
    from test_reader import documented_views

    attach(shop)
    query(shop, "INSERT INTO complaints (customer_id) VALUES (70)")
    query(shop, "SELECT pgscore.record_outcome('churn', '70', '1')")
    model, X, y = trained
    registry.deploy(shop.dsn, "churn", model, X, y, feature_names=CHURN_FEATURES, activate=False)
    registry.set_shadow(shop.dsn, "churn", 2)
    query(shop, "SELECT pgscore.create_log_partitions(0, ((now() AT TIME ZONE 'UTC') - interval '10 days')::date)")
    login = "pgscore_t_restored_bi"
    ensure_role(shop, login, login=True)  # roles are the cluster's: made once
    query(shop, f"GRANT pgscore_reader TO {login}")
    partitions = ("SELECT count(*) FROM pg_catalog.pg_inherits WHERE inhparent = 'pgscore.prediction_log'::regclass")
    logged = "SELECT source, count(*) FROM pgscore.prediction_log GROUP BY 1 ORDER BY 1"
    src = query(shop, "SELECT current_database()")[0][0]
    before = query(shop, partitions), query(shop, logged)
    query(shop, "CREATE DATABASE restored")
    try:
        env = {"PGHOST": str(cluster.socket_dir), "PGPORT": str(cluster.port), "PGUSER": "postgres"}
        options = RESTORES[restore]
        if options is None:
            dump = subprocess.run([str(pg_bin_dir() / "pg_dump"), "-d", src], capture_output=True, env=env, check=True)
            run = subprocess.run([str(pg_bin_dir() / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "restored"],
                                 input=dump.stdout, capture_output=True, env=env)
        else:
            dump = subprocess.run([str(pg_bin_dir() / "pg_dump"), "-Fc", "-d", src], capture_output=True, env=env,
                                  check=True)
            path = tmp_path / "db.dump"  # pg_restore, the client, reads it
            path.write_bytes(dump.stdout)
            run = subprocess.run([str(pg_bin_dir() / "pg_restore"), *options, "-d", "restored", str(path)],
                                 capture_output=True, env=env)
        assert (run.returncode, run.stderr) == (0, b""), run.stderr
        url = cluster.url("restored")
        conn = psycopg2.connect(url)
        conn.autocommit = True
        assert query(conn, "SELECT event_table, profile_table FROM pgscore.rescoring") == \
            [("public.complaints", "public.customers")]
        assert (query(conn, partitions), query(conn, logged)) == before
        bi = psycopg2.connect(url.replace("postgresql://postgres@", f"postgresql://{login}@"),
                              options="-c default_transaction_read_only=on")
        bi.autocommit = True
        for view in documented_views():
            assert query(bi, f"SELECT count(*) >= 0 FROM pgscore.{view}") == [(True,)], view
        drift = ("SELECT model, version, window_name, feature, n, psi, ks, js, status FROM pgscore.feature_drift "
                 "UNION ALL SELECT model, version, window_name, NULL, n, psi, ks, js, status FROM pgscore.score_drift "
                 "ORDER BY 1, 2, 3, 4")
        # the same numbers (read within the second: the same windows), to the last bits a sum's order changes
        got, want = query(bi, drift), query(shop, drift)
        assert [r[:5] + r[8:] for r in got] == [r[:5] + r[8:] for r in want] and len(got) > 0
        assert np.allclose([r[5:8] for r in got], [r[5:8] for r in want], rtol=1e-12, atol=0)
        assert query(bi, "SELECT count(*) FROM pgscore.outcome_matches") == [(1,)]
        assert query(bi, "SELECT count(*) FROM pgscore.version_drift('churn', 2)")[0][0] > 0
        with pytest.raises(errors.InsufficientPrivilege):
            query(bi, "SELECT count(*) FROM pgscore.prediction_log")
        bi.close()
        before_score = profiles(conn, [70])[70][1]
        query(conn, "INSERT INTO complaints (customer_id) VALUES (70)")
        assert profiles(conn, [70])[70][1] == before_score + 1
        assert_scores_match_model(conn, trained[0], [70])
        assert query(conn, "SELECT count(*) FROM pgscore.prediction_log WHERE source = 'trigger'") == [(2,)]
        assert query(conn, "SELECT pgscore.drop_log_partitions('3 days')") == [(1,)]
        conn.close()
    finally:
        query(shop, "DROP DATABASE restored WITH (FORCE)")


def orphan(conn, table, name):
    """A trigger of pgscore's that no wiring owns: what restoring a dump of the table alone leaves."""
    query(conn, f"CREATE TRIGGER {name} AFTER INSERT ON {table} REFERENCING NEW TABLE AS pgscore_new_events "
                f"FOR EACH STATEMENT EXECUTE FUNCTION pgscore.rescore_events('{name.rsplit('_', 1)[1]}')")


def pgscore_triggers(conn, table):
    return [n for (n,) in query(conn, "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND tgfoid = "
                                      "'pgscore.rescore_events()'::regprocedure ORDER BY 1", (table,))]


def test_a_trigger_no_wiring_owns_is_removed_by_detach_and_by_attach(shop, trained):
    """A table restored from a dump without pgscore.rescoring's rows keeps pgscore's trigger: every INSERT
    warns, and the call the warning names removes it; attach drops such triggers (one named as the new
    wiring's would otherwise collide with it); a trigger of the same name on another table is not a reason
    to remove that table's wiring."""
    orphan(shop, "complaints", "pgscore_rescore_1")
    del shop.notices[:]
    query(shop, "INSERT INTO complaints (customer_id) VALUES (5)")
    (warning,) = [n for n in shop.notices if "names wiring 1, which is not attached" in n]
    assert "pgscore status says what changed" in warning
    out = pgscore_cli("status", "--db", shop.dsn).stdout
    assert ("trigger pgscore_rescore_1 on public.complaints names wiring 1, which no wiring of that table is"
            in out and "SELECT pgscore.detach_rescoring('public.complaints')" in out), out
    (fix,) = [line.split("detach it with ", 1)[1].split(" and attach again")[0] for line in warning.splitlines()
              if "detach it with" in line]
    assert fix == "SELECT pgscore.detach_rescoring('public.complaints')"
    assert query(shop, fix) == [(1,)]
    assert pgscore_triggers(shop, "complaints") == []
    assert any("dropped trigger pgscore_rescore_1 on public.complaints, which belonged to no wiring" in n
               for n in shop.notices)
    # attach over leftovers, one of them named as the new wiring's trigger will be
    orphan(shop, "complaints", "pgscore_rescore_1")
    orphan(shop, "complaints", "pgscore_rescore_2")
    del shop.notices[:]
    rid = attach(shop)
    assert sum("which belonged to no wiring" in n for n in shop.notices) == 2, shop.notices
    assert pgscore_triggers(shop, "complaints") == [f"pgscore_rescore_{rid}"]
    del shop.notices[:]
    query(shop, "INSERT INTO complaints (customer_id) VALUES (5)")
    assert not [n for n in shop.notices if "WARNING" in n], shop.notices
    assert_scores_match_model(shop, trained[0], [5])
    assert "which no wiring of that table is" not in pgscore_cli("status", "--db", shop.dsn).stdout
    # rescore_events checks its wiring's table, not its own name: a trigger renamed still rescores, and is no orphan
    query(shop, f"ALTER TRIGGER pgscore_rescore_{rid} ON complaints RENAME TO renamed_by_hand")
    out = pgscore_cli("status", "--db", shop.dsn).stdout
    assert "which no wiring of that table is" not in out and "NOT RESCORING" not in out, out
    assert (f"was renamed to renamed_by_hand: it rescores, but detach_rescoring and attach_rescoring know it by its "
            f"name; rename it back with ALTER TRIGGER renamed_by_hand ON public.complaints RENAME TO "
            f"pgscore_rescore_{rid}") in out, out
    query(shop, f"ALTER TRIGGER renamed_by_hand ON complaints RENAME TO pgscore_rescore_{rid}")
    # the same trigger name on another table: that table's trigger goes, this wiring stays
    query(shop, "CREATE TABLE complaints2 (LIKE complaints)")
    orphan(shop, "complaints2", f"pgscore_rescore_{rid}")
    out = pgscore_cli("status", "--db", shop.dsn).stdout
    assert f"trigger pgscore_rescore_{rid} on public.complaints2 names wiring {rid}, which no wiring" in out, out
    assert "on public.complaints names" not in out and "NOT RESCORING" not in out, out
    assert query(shop, "SELECT pgscore.detach_rescoring('complaints2')") == [(1,)]
    assert pgscore_triggers(shop, "complaints2") == []
    assert query(shop, "SELECT rescoring_id FROM pgscore.rescoring") == [(rid,)]
    assert pgscore_triggers(shop, "complaints") == [f"pgscore_rescore_{rid}"]
    # detaching the table's wirings takes its leftovers with them; one profile table's wiring alone does not
    orphan(shop, "complaints", "pgscore_rescore_77")
    with pytest.raises(errors.UndefinedObject):
        query(shop, "SELECT pgscore.detach_rescoring('complaints', 'complaints2')")
    assert query(shop, "SELECT pgscore.detach_rescoring('complaints')") == [(2,)]
    assert pgscore_triggers(shop, "complaints") == []


# -- bad input -----------------------------------------------------------------------------------------

ATTACH = ("SELECT pgscore.attach_rescoring(%(events)s, %(profiles)s, %(key)s, %(model)s, %(score)s, "
          "%(counters)s::jsonb, p_scored_at_column => %(scored_at)s, p_profile_key => %(pkey)s, "
          "p_missing_profile => %(missing)s)")
GOOD = {"events": "complaints", "profiles": "customers", "key": "customer_id", "model": "churn",
        "score": "churn_score", "counters": json.dumps(sample.COUNTERS), "scored_at": "scored_at", "pkey": "id",
        "missing": "create"}


@pytest.mark.parametrize("change, sqlstate, message", [
    ({"events": "no_such_table"}, "42P01", 'relation "no_such_table" does not exist'),
    ({"events": "pgscore.model_versions"}, "42809", "is not a table"),
    ({"profiles": "complaints"}, "22023", "cannot be both"),
    ({"key": "cust"}, "42703", "public.complaints has no column 'cust'"),
    ({"pkey": "nope"}, "42703", "public.customers has no column 'nope'"),
    ({"key": "kind"}, "42804", "public.complaints.kind is text and public.customers.id is bigint: PostgreSQL cannot "
                               "compare them"),
    ({"pkey": "age"}, "42P10", "with a unique index of their own: id (the primary key)"),
    ({"score": "last_complaint_at"}, "42804", "expected double precision"),
    ({"scored_at": "age"}, "42804", "expected timestamptz"),
    ({"model": "bad name;"}, "22023", "invalid model name"),
    ({"model": None}, "22004", "the model is NULL"),
    ({"key": None}, "22004", "the key column is NULL"),
    ({"missing": "drop"}, "22023", "missing_profile must be"),
    ({"counters": '["count"]'}, "22023", "counters must be a JSON object"),
    ({"counters": '{"support_calls": "sum"}'}, "22023", "counter 'support_calls'"),
    ({"counters": '{"nope": "count"}'}, "42703", "has no column 'nope'"),
    ({"counters": '{"churn_score": "count"}'}, "22023", "would overwrite the score column"),
    ({"counters": '{"support_calls": {"add": "1; DROP TABLE customers"}}'}, "22023", "not allowed"),
    ({"counters": '{"support_calls": {"add": "1) FROM pg_class --"}}'}, "22023", "unbalanced"),
    ({"counters": '{"support_calls": {"add": "$$x$$"}}'}, "22023", "not allowed"),
    # an E'' string ends where a quote-doubling scanner does not expect: backslashes are refused outright
    ({"counters": json.dumps({"support_calls": {"add": "E'\\' ' IS NULL)::int) AS c0 FROM public.complaints AS e "
                                                       "GROUP BY 1) SELECT 1; DROP TABLE public.customers; --'"}})},
     "22023", "not allowed"),
    ({"counters": '{"support_calls": {"add": "no_such_column"}}'}, "42703", "counter 'support_calls'"),
    ({"counters": '{"last_complaint_at": {"add": "1"}}'}, "42804", "counter 'last_complaint_at'"),
    ({"counters": '{"support_calls": {"window": "30 days", "time": "kind"}}'}, "42804", "time column"),
    ({"counters": '{"support_calls": {"window": "30 days"}}'}, "22023", 'a window counter needs "window" (an '
                                                                         'interval) and "time"'),
    ({"counters": '{"support_calls": {"window": "a fortnight", "time": "created_at"}}'}, "22007",
     "counter 'support_calls'"),
    # a bare number is seconds to PostgreSQL: a "30" meant as days would count nothing, silently
    ({"counters": '{"support_calls": {"window": "30", "time": "created_at"}}'}, "22023",
     "window '30' has no unit, and PostgreSQL would read it as 30 seconds"),
    ({"counters": '{"support_calls": {"window": " 0.5 ", "time": "created_at"}}'}, "22023", "has no unit"),
    ({"counters": '{"support_calls": {"window": "+30", "time": "created_at"}}'}, "22023",
     'has no unit, and PostgreSQL would read it as 30 seconds'),
    ({"counters": '{"support_calls": {"window": "-30", "time": "created_at"}}'}, "22023", "must be a positive interval"),
    ({"counters": '{"support_calls": {"window": "1e3", "time": "created_at"}}'}, "22007", "is not an interval"),
])
def test_attach_bad_input(shop, change, sqlstate, message):
    with pytest.raises(psycopg2.Error) as e:
        query(shop, ATTACH, {**GOOD, **change})
    assert e.value.pgcode == sqlstate, e.value.pgerror
    assert message in e.value.pgerror
    assert query(shop, "SELECT count(*) FROM pgscore.rescoring") == [(0,)]
    assert query(shop, "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'complaints'::regclass") == [(0,)]


def test_pgscore_retry_says_why_the_profiles_still_fail(shop, db_url):
    """`pgscore retry` said `1 still failing` and pointed at pgscore.error_queue; it says the commonest reasons
    now, each with a key it holds for (a profile made for an event of an unknown customer has no features)."""
    rid = attach(shop)
    query(shop, "INSERT INTO complaints (customer_id, kind) VALUES (900001, 'billing'), (900002, 'billing')")
    run = pgscore_cli("retry", "--db", db_url)
    assert run.returncode == 1, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert lines[:2] == [f"wiring {rid}: public.complaints -> public.customers: 0 rescored, 2 still failing",
                         "2 profiles still queued: see their reasons with SELECT * FROM pgscore.error_queue"], lines
    (reason,), = query(shop, "SELECT DISTINCT reason FROM pgscore.error_queue")
    assert lines[2:] == [f"  2 such as key '900001': {reason}"], lines
    assert "is NULL or NaN" in reason, reason


def test_a_counter_naming_a_column_the_events_lack_lists_the_event_tables_columns(shop):
    """A counter's expression with a misspelt event column said only `column "created_a" does not exist`; its
    DETAIL lists the event table's columns now."""
    cols = [c for c, in query(shop, "SELECT attname FROM pg_attribute WHERE attrelid = 'complaints'::regclass "
                                    "AND attnum > 0 AND NOT attisdropped ORDER BY attnum")]
    with pytest.raises(psycopg2.Error) as e:
        query(shop, ATTACH, {**GOOD, "counters": '{"last_complaint_at": {"max": "created_a"}}'})
    assert e.value.pgcode == "42703" and e.value.diag.message_primary.endswith(
        "counter 'last_complaint_at': column \"created_a\" does not exist"), e.value.pgerror
    assert e.value.diag.message_detail == "the columns of public.complaints, the event table: " + ", ".join(cols)
    assert "created_at" in cols



def test_an_add_counter_over_a_condition_says_the_cast_that_counts_it(shop):
    """`{"add": "e.kind = 'billing'"}` (count the billing complaints) failed with PostgreSQL's bare `function
    sum(boolean) does not exist` and no hint; the hint gives the counter with the cast, which attaches."""
    counters = {"support_calls": {"add": "e.kind = 'billing'"}}
    with pytest.raises(psycopg2.Error) as e:
        query(shop, ATTACH, {**GOOD, "counters": json.dumps(counters)})
    assert e.value.pgcode == "42883" and "sum(boolean) does not exist" in e.value.diag.message_primary
    hint = e.value.diag.message_hint
    assert hint == ("an add counter sums numbers, and this expression is a condition: count the events it holds "
                    "for with {\"add\": \"(e.kind = 'billing')::int\"}"), hint
    fixed = json.loads(hint.split(" with ", 1)[1])
    assert query(shop, ATTACH, {**GOOD, "counters": json.dumps({"support_calls": fixed})})[0][0] > 0
    with pytest.raises(psycopg2.Error) as e:  # no boolean: no such hint
        query(shop, ATTACH, {**GOOD, "counters": '{"support_calls": {"add": "pg_catalog.now()"}}'})
    assert e.value.diag.message_hint is None or "condition" not in e.value.diag.message_hint

QUOTED_COLUMNS = ('ALTER TABLE customers ADD COLUMN "Churn Text" text, ADD COLUMN "Calls Text" text, '
                  'ADD COLUMN "Spent" integer DEFAULT 0; '
                  'ALTER TABLE complaints ADD COLUMN "Filed At" timestamptz, ADD COLUMN "Amount" numeric(10, 2)')


@pytest.mark.parametrize("change, sqlstate, message", [
    ({"score": "Churn Text"}, "42804", 'public.customers."Churn Text" (the score column) is text; expected'),
    ({"counters": '{"Calls Text": "count"}'}, "42804", 'counts events into public.customers."Calls Text", which is text'),
    ({"counters": '{"support_calls": {"window": "30 days", "time": "Filed At", "zone": "UTC"}}'}, "22023",
     'and public.complaints."Filed At" is timestamptz (its values are instants)'),
])
def test_attach_errors_quote_the_column_they_name(shop, change, sqlstate, message):
    """A column whose name needs quoting (a capital letter, a space) is named in attach_rescoring's errors as SQL
    writes it, as the neighbouring messages do."""
    query(shop, QUOTED_COLUMNS)
    with pytest.raises(psycopg2.Error) as e:
        query(shop, ATTACH, {**GOOD, **change})
    assert e.value.pgcode == sqlstate, e.value.pgerror
    assert message in e.value.diag.message_primary, e.value.diag.message_primary


def test_attach_warnings_and_a_broken_wiring_quote_the_column_they_name(shop):
    """attach_rescoring's warnings, and a strict wiring's error for a column gone, name a column whose name needs
    quoting as SQL writes it."""
    query(shop, QUOTED_COLUMNS)
    query(shop, 'ALTER TABLE complaints ADD COLUMN "At Wall" timestamp; '
                'ALTER TABLE customers ADD COLUMN "Calls 30d" bigint DEFAULT 0')
    attach(shop, strict=True, counters={"Spent": {"add": '"Amount"'},
                                        "Calls 30d": {"window": "30 days", "time": "At Wall"}})
    assert any('counter \'Spent\' computes numeric values and public.customers."Spent" is integer' in n
               for n in shop.notices), shop.notices
    assert any('counts public.complaints."At Wall" (timestamp without time zone, no time zone)' in n
               for n in shop.notices), shop.notices
    query(shop, 'ALTER TABLE customers RENAME COLUMN "Calls 30d" TO calls')
    fresh = psycopg2.connect(shop.dsn)
    try:
        fresh.autocommit = True
        with pytest.raises(errors.UndefinedColumn) as e:
            query(fresh, "INSERT INTO complaints (customer_id) VALUES (4)")
        assert 'column(s) missing: public.customers."Calls 30d" (a counter)' in e.value.diag.message_primary, \
            e.value.diag.message_primary
    finally:
        fresh.close()


QUOTED_KEYS = ('ALTER TABLE complaints RENAME COLUMN customer_id TO "Customer Id"; '
               'ALTER TABLE customers RENAME COLUMN id TO "Customer Id"')
ATTACH_QUOTED = ("SELECT pgscore.attach_rescoring('complaints', 'customers', 'Customer Id', 'churn', 'churn_score', "
                 "%s::jsonb, p_missing_profile => %s, p_strict => %s)")


def test_messages_that_name_the_key_quote_it(shop):
    """A key column whose name needs quoting ("Customer Id") was printed bare where a message named it alone: an
    event's NULL key (`have a NULL Customer Id`), a missing profile's queue reason, the warning of a profile that
    cannot be created (and its NOT NULL columns), attach_rescoring's list of a table's columns. Each quotes it as SQL
    writes it now."""
    query(shop, QUOTED_KEYS)
    query(shop, 'ALTER TABLE customers ADD COLUMN "Region Code" text NOT NULL DEFAULT \'x\'; '
                'ALTER TABLE customers ALTER COLUMN "Region Code" DROP DEFAULT')
    with pytest.raises(errors.UndefinedColumn) as e:
        query(shop, ATTACH, {**GOOD, "key": "Customer Id", "pkey": "Customer Id", "score": "Churn Score"})
    assert e.value.diag.message_detail.startswith('columns: "Customer Id", '), e.value.diag.message_detail
    assert ', "Region Code"' in e.value.diag.message_detail, e.value.diag.message_detail
    query(shop, ATTACH_QUOTED, (json.dumps(sample.COUNTERS), "create", False))
    assert any('creates it with only its "Customer Id" and the columns\' defaults, and public.customers has NOT NULL '
               'column(s) without a default: "Region Code";' in n for n in shop.notices), shop.notices
    query(shop, 'INSERT INTO complaints ("Customer Id") VALUES (NULL), (900001)')
    assert any('1 event(s) inserted into public.complaints have a NULL "Customer Id"; they were kept' in n
               for n in shop.notices), shop.notices
    (reason,), = query(shop, "SELECT reason FROM pgscore.error_queue WHERE entity_key = '900001'")
    assert reason.startswith('public.customers has no row with this "Customer Id" and creating it failed: '), reason


def test_a_strict_wirings_errors_quote_the_key(shop):
    """A strict wiring's errors named the key bare (`failed for Customer Id 900001`, `have a NULL Customer Id`)."""
    query(shop, QUOTED_KEYS)
    query(shop, ATTACH_QUOTED, (json.dumps(sample.COUNTERS), "queue", True))
    with pytest.raises(psycopg2.Error) as e:
        query(shop, 'INSERT INTO complaints ("Customer Id") VALUES (900001)')
    assert e.value.diag.message_primary.startswith(
        'pgscore: rescoring public.customers for public.complaints failed for "Customer Id" 900001: public.customers has no '
        'row with this "Customer Id"; no counter changed'), e.value.diag.message_primary
    with pytest.raises(errors.NotNullViolation) as e:
        query(shop, 'INSERT INTO complaints ("Customer Id") VALUES (NULL)')
    assert e.value.diag.message_primary == ('pgscore: 1 event(s) inserted into public.complaints have a NULL '
                                            '"Customer Id"; '
                                            'the wiring is strict, so the INSERT fails'), e.value.diag.message_primary


def test_a_queue_reason_names_the_counters_a_retry_makes_up_for_as_sql_writes_them(shop):
    """The queue reason of a broken wiring says which counters retry_failed recounts or replays, and which miss the
    events for good: it named them bare (`recounts Calls 30d`)."""
    query(shop, QUOTED_COLUMNS)
    query(shop, 'ALTER TABLE customers ADD COLUMN "Calls 30d" bigint DEFAULT 0, ADD COLUMN "Last Kind" text')
    rid = attach(shop, counters={"Spent": {"add": '"Amount"'}, "Calls 30d": {"window": "30 days", "time": "created_at"},
                                 "Last Kind": {"last": "kind"}})
    query(shop, 'ALTER TABLE customers RENAME COLUMN "Spent" TO spent')
    query(shop, "INSERT INTO complaints (customer_id) VALUES (4)")
    (reason,), = query(shop, "SELECT reason FROM pgscore.error_queue WHERE rescoring_id = %s", (rid,))
    assert reason.endswith('; no counter changed; retry_failed recounts "Calls 30d" and replays "Spent" from these '
                           'events (their ids in the queue row\'s cause, uncounted_event_ids) but not "Last Kind": those '
                           'miss these events for good'), reason


ORPHAN = ('CREATE TRIGGER "Orphan Trigger" AFTER INSERT ON complaints REFERENCING NEW TABLE AS pgscore_new_events '
          "FOR EACH STATEMENT EXECUTE FUNCTION pgscore.rescore_events('99')")


def test_a_trigger_no_wiring_owns_is_named_as_sql_writes_it_with_its_wiring_n(shop, db_url):
    """The trigger of a wiring that is gone (a table restored without pgscore.rescoring's rows) was named bare, and
    its wiring `rescoring N`: the WARNING of an INSERT, pgscore status, and the NOTICEs of attach_rescoring and
    detach_rescoring that drop it. They quote the trigger and say `wiring N`, as pgscore status names wirings."""
    query(shop, ORPHAN)
    query(shop, "INSERT INTO complaints (customer_id) VALUES (1)")
    assert any('trigger "Orphan Trigger" on public.complaints names wiring 99, which is not attached' in n
               for n in shop.notices), shop.notices
    run = pgscore_cli("status", "--db", db_url)
    assert 'trigger "Orphan Trigger" on public.complaints names wiring 99, which no wiring' in run.stdout, run.stdout
    attach(shop)
    assert any('dropped trigger "Orphan Trigger" on public.complaints, which belonged to no wiring' in n
               for n in shop.notices), shop.notices
    query(shop, "SELECT pgscore.detach_rescoring('complaints')")
    query(shop, ORPHAN)
    del shop.notices[:]
    query(shop, "SELECT pgscore.detach_rescoring('complaints')")
    assert any('pgscore.detach_rescoring: dropped trigger "Orphan Trigger" on public.complaints, which belonged to no '
               'wiring'
               in n for n in shop.notices), shop.notices


def test_forget_rescoring_and_the_skips_of_a_wiring_say_wiring_n(shop):
    """forget_rescoring's errors, retry_failed's and refresh_windows' WARNINGs of a wiring they skip, and attach's
    NOTICE of a wiring whose table is gone said `rescoring N`, a word a user reads as the act: `wiring N` now, as
    pgscore status, retry and refresh-windows say."""
    with pytest.raises(errors.UndefinedObject) as e:
        query(shop, "SELECT pgscore.forget_rescoring(424242)")
    assert e.value.diag.message_primary == "there is no wiring 424242"
    rid = attach(shop, missing_profile="queue")
    with pytest.raises(errors.ObjectInUse) as e:
        query(shop, "SELECT pgscore.forget_rescoring(%s)", (rid,))
    assert e.value.diag.message_primary.startswith(f"wiring {rid} still has its trigger, on "), \
        e.value.diag.message_primary
    query(shop, "INSERT INTO complaints (customer_id) VALUES (900001)")  # queued: no such customer
    query(shop, "ALTER TABLE customers RENAME COLUMN support_calls TO calls")
    query(shop, "SELECT * FROM pgscore.retry_failed()")
    assert any(f"retry_failed skipped wiring {rid}: column(s) missing" in n for n in shop.notices), shop.notices
    query(shop, "SELECT * FROM pgscore.refresh_windows()")
    assert any(f"refresh_windows skipped wiring {rid}: column(s) missing" in n for n in shop.notices), shop.notices
    query(shop, "ALTER TABLE customers RENAME COLUMN calls TO support_calls")
    query(shop, "ALTER TABLE complaints RENAME TO complaints_old; "
                "CREATE TABLE complaints (LIKE complaints_old INCLUDING ALL)")
    with pytest.raises(errors.DuplicateObject) as e:
        attach(shop)
    assert e.value.diag.message_primary == (f"pgscore: public.complaints was wired to public.customers by wiring {rid}, "
                                            "whose trigger is now on public.complaints_old"), e.value.diag.message_primary


def test_a_counter_whose_values_an_integer_column_rounds_is_named(shop):
    query(shop, "ALTER TABLE complaints ADD COLUMN amount numeric(10, 2); "
                "ALTER TABLE customers ADD COLUMN spent integer DEFAULT 0, ADD COLUMN n_complaints integer")
    attach(shop, counters={"spent": {"add": "amount"}, "n_complaints": "count", "support_calls": "count"})
    rounded = [n for n in shop.notices if "will be rounded" in n]
    assert len(rounded) == 1, shop.notices  # the count into an integer column is whole: not named
    assert "counter 'spent' computes numeric values and public.customers.spent is integer" in rounded[0]
    query(shop, "INSERT INTO complaints (customer_id, amount) VALUES (1, 2.4), (1, 0.4)")
    assert query(shop, "SELECT spent, n_complaints FROM customers WHERE id = 1") == [(3, 2)]  # what it warned of


def test_attach_twice_and_profile_missing_a_feature(shop):
    query(shop, ATTACH, GOOD)
    with pytest.raises(errors.DuplicateObject):
        query(shop, ATTACH, GOOD)
    query(shop, "CREATE TABLE thin_profiles (id bigint PRIMARY KEY, churn_score float8, scored_at timestamptz, "
                "support_calls float8)")
    with pytest.raises(errors.UndefinedColumn) as e:
        query(shop, ATTACH, {**GOOD, "profiles": "thin_profiles", "counters": '{"support_calls": "count"}'})
    assert "cannot feed model churn v1" in str(e.value) and "tenure_months" in str(e.value)
    # with counters, a features array would not do: the hint does not offer it
    assert e.value.diag.message_hint == "name a column after each feature (the counters' new values are read by " \
        "those names)", e.value.diag.message_hint


def test_attach_refuses_a_profile_column_that_is_no_number_naming_the_table_and_the_column(shop):
    """A profile column of a type that is no number (a date) is refused at attach with 42846 naming the profile
    table, the column, its type and what rescoring expects, and a hint that does not tell to compute the number
    "in the query" (before 0083's code: predict_batch's hint, and attach_rescoring takes no query). Either way
    the hint offers works: a cast of the column, or a generated column of its name. predict_batch keeps its own
    wording."""
    query(shop, "ALTER TABLE customers RENAME COLUMN age TO born; ALTER TABLE customers ADD COLUMN age date; "
                "UPDATE customers SET age = DATE '2000-01-01' - born::int")
    with pytest.raises(errors.CannotCoerce) as e:
        attach(shop)
    assert e.value.diag.message_primary == (
        "pgscore: public.customers cannot feed model churn v1: feature 'age' is read from column 'age' of the "
        "profile table public.customers, of type date, which is not a number: rescoring reads each feature from "
        "the profile table's column of its name, as a float8 (a column of a number type, boolean, or text holding "
        "numbers)"), e.value.diag.message_primary
    hint = e.value.diag.message_hint
    assert "in the query" not in hint, hint
    assert hint == ("rescoring has no query to compute a number in: give the column a number type with a cast (ALTER "
                    "TABLE public.customers ALTER COLUMN age TYPE float8 USING <a number from age>), or rename it and "
                    "add a generated column of its name that computes the number (ALTER TABLE public.customers ADD "
                    "COLUMN age float8 GENERATED ALWAYS AS (<a number from the renamed column>) STORED), then attach "
                    "again (docs/sql.md, 'Features are numbers')"), hint
    assert query(shop, "SELECT count(*) FROM pgscore.rescoring") == [(0,)]
    # a query that reads the date: predict_batch's words, as they were
    with pytest.raises(errors.CannotCoerce) as e:
        query(shop, "SELECT count(*) FROM pgscore.predict_batch('churn', 'SELECT id, " + ", ".join(CHURN_FEATURES)
              + " FROM customers')")
    assert "compute a number from it in the query" in e.value.diag.message_hint, e.value.diag.message_hint
    # as the hint says: a generated column of the name (the date renamed), then attach again, and it rescores
    query(shop, "ALTER TABLE customers RENAME COLUMN age TO born_on; ALTER TABLE customers ADD COLUMN age float8 "
                "GENERATED ALWAYS AS (DATE '2000-01-01' - born_on) STORED")
    attach(shop)
    query(shop, "INSERT INTO complaints (customer_id) VALUES (3)")
    (score, age, born), = query(shop, "SELECT churn_score, age, born FROM customers WHERE id = 3")
    assert score is not None and age == born, (score, age, born)


def test_detach_and_retry_bad_input(shop):
    with pytest.raises(errors.NullValueNotAllowed):
        query(shop, "SELECT pgscore.detach_rescoring(NULL)")
    with pytest.raises(errors.UndefinedObject):
        query(shop, "SELECT pgscore.detach_rescoring('customers')")
    with pytest.raises(errors.UndefinedTable):
        query(shop, "SELECT pgscore.detach_rescoring('no_such_table')")
    with pytest.raises(errors.InvalidParameterValue):
        query(shop, "SELECT * FROM pgscore.retry_failed(NULL, 0)")
    with pytest.raises(errors.UndefinedObject):  # a name that is neither a model nor wired
        query(shop, "SELECT * FROM pgscore.retry_failed('no_such_model')")
    query(shop, "SELECT pgscore.attach_rescoring('complaints', 'customers', 'customer_id', 'not_yet', "
                "'churn_score', '{}', p_profile_key => 'id')")
    assert query(shop, "SELECT * FROM pgscore.retry_failed('not_yet')") == []  # wired, nothing queued
    assert query(shop, "SELECT * FROM pgscore.retry_failed('churn')") == []  # deployed, nothing queued


# -- concurrency ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("window,trees", [(True, False), (False, False), (True, True), (False, True)],
                         ids=["window-counter", "no-recount", "window-counter-trees", "no-recount-trees"])
def test_concurrent_inserts_for_overlapping_customers(shop, trained, window, trees):
    """6 clients, 150 statements each (single and multi-row, keys in any order) over 20 customers: every
    counter equals its events, every score equals the model's on the final features, no client sees an
    error (no deadlock, no serialization failure). Bounded: about 900 statements, a 120 s timeout.
    With a window counter the profiles are locked by a statement of their own; without one, by the
    statement that reads and writes them (its rows re-read under the lock when another client won).
    The logistic model is scored inside the write statement, the trees by the read, score, write path."""
    import random
    import threading
    import time

    from sklearn.ensemble import RandomForestClassifier

    model, X, y = trained
    if trees:
        model = RandomForestClassifier(n_estimators=10, max_depth=5, random_state=0).fit(X, y)
        registry.deploy(shop.dsn, "churn", model, X, y, feature_names=CHURN_FEATURES)
    attach(shop, **({} if window else {"counters": {"support_calls": "count",
                                                     "last_complaint_at": {"max": "created_at"}}}))
    before = profiles(shop)
    errors_seen, deadline = [], time.monotonic() + 120

    def client(seed):
        rng = random.Random(seed)
        conn = psycopg2.connect(shop.dsn)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                for _ in range(150):
                    if time.monotonic() > deadline:
                        raise TimeoutError("the concurrency test ran out of time")
                    ids = [rng.randint(1, 20) for _ in range(rng.choice([1, 1, 3, 8]))]
                    if rng.random() < 0.2:
                        buf = io.StringIO("".join(f"{i}\n" for i in ids))
                        cur.copy_expert("COPY complaints (customer_id) FROM STDIN", buf)
                    else:
                        cur.execute("INSERT INTO complaints (customer_id) SELECT unnest(%s::bigint[])", (ids,))
        except Exception as e:  # noqa: BLE001 - reported below
            errors_seen.append(repr(e))
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(s,)) for s in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(150)
    assert not errors_seen, errors_seen[:3]
    assert not any(t.is_alive() for t in threads)
    events = dict(query(shop, "SELECT customer_id, count(*) FROM complaints GROUP BY 1"))
    after = profiles(shop, list(events))
    for k, n in events.items():
        assert after[k][1] == before[k][1] + n, k  # support_calls
        assert after[k][2] == (n if window else before[k][2]), k  # complaints_30d, recounted under the lock
    assert_scores_match_model(shop, model, list(events))
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
    # the audit log holds, for every profile, the score it ended with and the features that produced it
    logged = query(shop, "SELECT entity_key::bigint, features, score FROM pgscore.prediction_log WHERE source = 'trigger'")
    final = {(k, tuple(f), sc) for k, f, sc in logged}
    assert all((k, tuple(after[k][0]), after[k][4]) in final for k in events)
    assert len(logged) == query(shop, "SELECT count(*) FROM pgscore.prediction_log")[0][0]


def test_renamed_table_keeps_events_and_can_be_detached(shop):
    attach(shop)
    query(shop, "ALTER TABLE complaints RENAME TO grievances")
    other = psycopg2.connect(shop.dsn)  # a new session, with nothing cached
    other.autocommit = True
    query(other, "INSERT INTO grievances (customer_id) VALUES (80)")
    assert any("renamed or dropped" in n for n in other.notices)
    assert query(other, "SELECT count(*) FROM grievances") == [(1,)]
    other.close()
    assert query(shop, "SELECT pgscore.detach_rescoring('grievances')") == [(1,)]
    assert query(shop, "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'grievances'::regclass "
                       "AND NOT tgisinternal") == [(0,)]


def test_a_renamed_table_whose_old_name_another_took_is_not_rescored_in_its_place(shop):
    """The wiring names its event table, and its statements recount events by that name: a wired table
    renamed, with a new one created under the old name, must not have its events counted against the new
    one's, in a session that has the wiring cached and in a new one."""
    attach(shop)
    query(shop, "INSERT INTO complaints (customer_id) VALUES (90)")  # this session caches the wiring
    (calls,), = query(shop, "SELECT support_calls FROM customers WHERE id = 90")
    query(shop, "ALTER TABLE complaints RENAME TO complaints_old; "
                "CREATE TABLE complaints (LIKE complaints_old INCLUDING ALL)")
    other = psycopg2.connect(shop.dsn)
    other.autocommit = True
    for conn in (shop, other):
        del conn.notices[:]
        query(conn, "INSERT INTO complaints_old (customer_id) VALUES (90), (90)")
        warned = [n for n in conn.notices if "trigger pgscore_rescore_" in n]
        assert warned and "on public.complaints_old names wiring" in warned[0], conn.notices
    other.close()
    assert query(shop, "SELECT support_calls FROM customers WHERE id = 90") == [(calls,)]  # nothing counted
    assert query(shop, "SELECT count(*) FROM complaints_old") == [(5,)]  # every event kept
    # detached by the name it was wired under (now the new table's): its trigger goes, from the renamed one
    del shop.notices[:]
    assert query(shop, "SELECT pgscore.detach_rescoring('complaints')") == [(1,)]
    assert query(shop, "SELECT count(*) FROM pg_trigger WHERE tgfoid = 'pgscore.rescore_events'::regproc") == [(0,)]
    assert query(shop, "SELECT count(*) FROM pgscore.rescoring") == [(0,)]
    assert not shop.notices, shop.notices  # nothing about a trigger that "does not exist, skipping"


@pytest.mark.parametrize("new_table", ["like the old", "of other columns"])
def test_retry_failed_skips_a_wiring_whose_event_table_was_renamed_and_another_took_its_name(shop, new_table):
    """Archive and recreate: the wired event table renamed and a new one created under its name. The wiring's
    statements name the event table, so retry_failed must not recount the new table's events into the
    wiring's window, score from them and clear the queue: it skips the wiring, its profiles wait, and its
    WARNING says to detach the renamed table (not to rename columns back)."""
    rid = attach(shop)
    query(shop, "UPDATE customers SET age = NULL WHERE id = 81")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (81)")  # queued: age is NULL
    (reason,), = query(shop, "SELECT reason FROM pgscore.error_queue WHERE entity_key = '81'")
    before = query(shop, "SELECT complaints_30d, churn_score FROM customers WHERE id = 81")
    query(shop, "ALTER TABLE complaints RENAME TO complaints_old")
    if new_table == "like the old":
        query(shop, "CREATE TABLE complaints (LIKE complaints_old INCLUDING ALL); "
                    "INSERT INTO complaints (customer_id) VALUES (81), (81), (81)")
    else:
        query(shop, "CREATE TABLE complaints (id bigint)")
    query(shop, "UPDATE customers SET age = 30 WHERE id = 81")  # the queued cause fixed
    del shop.notices[:]
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 0, 1)]
    assert query(shop, "SELECT complaints_30d, churn_score FROM customers WHERE id = 81") == before
    assert query(shop, "SELECT entity_key, reason FROM pgscore.error_queue") == [("81", reason)]
    said = [n for n in shop.notices if "retry_failed skipped" in n]
    assert said and f"skipped wiring {rid}: its event table public.complaints was renamed to " \
                     "public.complaints_old" in said[0], shop.notices
    assert "pgscore.detach_rescoring('public.complaints_old')" in said[0] and "rename them back" not in said[0]


def test_forget_rescoring_removes_a_wiring_whose_trigger_is_gone(shop):
    rid = attach(shop)
    with pytest.raises(errors.ObjectInUse) as e:  # its trigger is still there: detach it instead
        query(shop, "SELECT pgscore.forget_rescoring(%s)", (rid,))
    assert e.value.diag.message_hint == "detach it with: SELECT pgscore.detach_rescoring('public.complaints')"
    query(shop, "UPDATE customers SET age = NULL WHERE id = 70")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (70)")  # queued: age is NULL
    query(shop, "DROP TABLE complaints")  # and its trigger with it
    assert query(shop, "SELECT pgscore.forget_rescoring(%s)", (rid,)) == [("",)]
    assert query(shop, "SELECT count(*) FROM pgscore.rescoring") == [(0,)]
    assert query(shop, "SELECT entity_key, rescoring_id FROM pgscore.error_queue") == [("70", None)]  # kept
    with pytest.raises(errors.UndefinedObject):
        query(shop, "SELECT pgscore.forget_rescoring(%s)", (rid,))
    with pytest.raises(errors.NullValueNotAllowed):
        query(shop, "SELECT pgscore.forget_rescoring(NULL)")


TENANT_TABLES = ("CREATE SCHEMA tenant_c; "
                 "CREATE TABLE tenant_c.customers (LIKE public.customers INCLUDING ALL); "
                 "CREATE TABLE tenant_c.complaints (LIKE public.complaints INCLUDING ALL)")


def queue_tenant_c(shop):
    """tenant_c's tables, its customers 70 and 71 without an age, wired, and an event of each: both queued. Returns
    the wiring's id."""
    query(shop, TENANT_TABLES)
    query(shop, "INSERT INTO tenant_c.customers SELECT * FROM public.customers WHERE id IN (70, 71)")
    query(shop, "UPDATE tenant_c.customers SET age = NULL")
    rid = attach(shop, schema="tenant_c")
    query(shop, "INSERT INTO tenant_c.complaints (customer_id) VALUES (70), (71)")  # queued: age is NULL
    return rid


def test_a_dropped_tenants_queue_goes_with_its_wiring_not_to_the_next_tenant_of_its_name(shop):
    """Session 65, trial T18: a tenant's schema dropped with DROP SCHEMA ... CASCADE left its queued errors behind
    the wiring that forget_rescoring removed (as pgscore status says to): nothing could rescore them (retry_failed
    said "2 profiles belong to no wiring" and pgscore retry exited 1 for ever), and a new tenant given the schema's
    name took them over at its attach_rescoring, so that retry_failed rescored the new tenant's unrelated customer
    70, logging the dropped table's event ids as its cause. forget_rescoring deletes the queued errors of a profile
    table that no longer exists, with a WARNING (a profile table still there keeps them for its next wiring:
    test_forget_rescoring_removes_a_wiring_whose_trigger_is_gone)."""
    rid = queue_tenant_c(shop)
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue WHERE profile_table = 'tenant_c.customers'") == [(2,)]
    query(shop, "DROP SCHEMA tenant_c CASCADE")
    del shop.notices[:]
    query(shop, "SELECT pgscore.forget_rescoring(%s)", (rid,))
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
    warned = [n for n in shop.notices if "queued rescoring(s)" in n]
    assert warned == [f"WARNING:  pgscore.forget_rescoring: 2 queued rescoring(s) of tenant_c.customers were deleted "
                      f"with wiring {rid}: no table has that name any more, so nothing could rescore them\nHINT:  a table made again "
                      "under that name starts with an empty queue (so does the table renamed, where they kept no OID of "
                      "this database: queued before migration 0160, or restored from a dump): its profiles are "
                      "rescored by their next event, or by pgscore.rescore_profiles once it is wired\n"], shop.notices
    # a new tenant under the name: its customer 70 is not the dropped one's, and nothing of that one reaches it
    query(shop, TENANT_TABLES)
    query(shop, "INSERT INTO tenant_c.customers SELECT * FROM public.customers WHERE id = 70")
    del shop.notices[:]
    attach(shop, schema="tenant_c")
    assert not [n for n in shop.notices if "queued by an earlier wiring" in n], shop.notices
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == []
    assert query(shop, "SELECT churn_score FROM tenant_c.customers") == [(None,)]
    assert query(shop, "SELECT count(*) FROM pgscore.prediction_log WHERE source = 'retry'") == [(0,)]


def test_a_tenant_dropped_and_made_again_before_forget_does_not_take_over_the_old_queue(shop):
    """Session 66 (trial T18's leftover): the queue kept its profile table's name alone, so a tenant's schema
    dropped and made again under its name *before* forget_rescoring ran handed the dropped table's queued errors to
    the next attach_rescoring of that name (which forgets the old wiring itself): retry_failed rescored the new
    tenant's unrelated customer 70 and logged the dropped table's events as its cause. A queue row keeps its
    profile table's OID (migration 0160): attach takes over only those of the table it wires, and deletes, with a
    WARNING, those of a profile table that no longer exists."""
    rid = queue_tenant_c(shop)
    query(shop, "DROP SCHEMA tenant_c CASCADE")
    query(shop, TENANT_TABLES)  # a new tenant under the name, before anyone forgets the old wiring
    query(shop, "INSERT INTO tenant_c.customers SELECT * FROM public.customers WHERE id = 70")
    del shop.notices[:]
    new = attach(shop, schema="tenant_c")
    assert new != rid
    assert not [n for n in shop.notices if "queued by an earlier wiring" in n], shop.notices
    warned = [n for n in shop.notices if n.startswith("WARNING") and "no longer exists" in n]
    assert warned == ["WARNING:  pgscore.attach_rescoring: 2 queued rescoring(s) of tenant_c.customers were deleted: "
                      "they were queued for a table of that name that no longer exists (dropped, and "
                      "tenant_c.customers made again since), so nothing could rescore them (key(s) '70', '71')"
                      "\nHINT:  they are not tenant_c.customers's profiles, unless it was made as a copy of the dropped "
                      "table (CREATE TABLE AS and a rename, to rewrite it; VACUUM FULL, CLUSTER and pg_repack keep a "
                      "table and its queue): then those keys' scores miss their last events; its profiles are "
                      "rescored by their next event, or by pgscore rescore --table tenant_c.complaints --profile-table "
                      "tenant_c.customers (every profile, 10,000 a transaction; in SQL SELECT * FROM "
                      "pgscore.rescore_profiles('tenant_c.complaints', 'tenant_c.customers'), then again with its "
                      "last_key as p_after until that is NULL)\n"], shop.notices
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == []
    assert query(shop, "SELECT churn_score FROM tenant_c.customers") == [(None,)]
    assert query(shop, "SELECT count(*) FROM pgscore.prediction_log WHERE source = 'retry'") == [(0,)]


def test_a_profile_table_dropped_and_made_again_under_a_live_wiring_hands_it_the_old_queue_saying_so(shop):
    """Session 66: the profile table alone dropped and made again under its name (the event table and its
    trigger still there, so the wiring lives on by name): retry_failed rescored the new table's customer 70 for the
    dropped table's queued error, saying nothing. 0160 deleted such rows, with a WARNING; session 68 (h4) hands them
    over to the table now of the name, with a WARNING naming them, because deleting them lost the rescoring of a copy
    swapped in for the table (its usual cause): the live wiring's event table feeds the new table by the same key,
    and a rescoring reads the profile's own row. A key the new table has not stays queued, saying so."""
    rid = queue_tenant_c(shop)
    query(shop, "DROP TABLE tenant_c.customers")
    query(shop, "CREATE TABLE tenant_c.customers (LIKE public.customers INCLUDING ALL)")
    query(shop, "INSERT INTO tenant_c.customers SELECT * FROM public.customers WHERE id = 70")
    del shop.notices[:]
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 1, 1)]
    warned = [n for n in shop.notices if n.startswith("WARNING") and "handed over" in n]
    assert len(warned) == 1 and warned[0].startswith(
        f"WARNING:  pgscore.retry_failed: 2 queued rescoring(s) of wiring {rid} (key(s) '70', '71') were handed over "
        "to tenant_c.customers, the table now of that name: the table they were queued for was dropped"), shop.notices
    assert query(shop, "SELECT entity_key, split_part(reason, ';', 1), profile_oid = 'tenant_c.customers'::regclass "
                       "FROM pgscore.error_queue") == [("71", "tenant_c.customers has no row with this id", True)]
    assert query(shop, "SELECT churn_score IS NOT NULL FROM tenant_c.customers") == [(True,)]
    assert query(shop, "SELECT count(*) FROM pgscore.prediction_log WHERE source = 'retry'") == [(1,)]
    # the new table's own failures are queued and retried as ever
    query(shop, "DELETE FROM pgscore.error_queue")
    query(shop, "UPDATE tenant_c.customers SET age = NULL")
    query(shop, "INSERT INTO tenant_c.complaints (customer_id) VALUES (70)")
    query(shop, "UPDATE tenant_c.customers SET age = 40")
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 1, 0)]


def test_a_profile_table_rewritten_as_a_copy_names_its_queued_keys_and_the_way_to_rescore_them(shop):
    """Session 67, trial T23 (h2): a DBA rewrote the wired profile table by CREATE TABLE AS and a rename (a copy with
    fillfactor 70, the old one renamed, then dropped) while two profiles were queued. retry_failed left them with the
    hint to attach the renamed table (wrong for a copy), and after the DROP deleted them saying "they are not
    tenant_c.customers's profiles", naming no key: the two customers kept the score from before their events. The
    first hint now gives the UPDATE that hands a copy its rows (which then rescores them, their events named), the
    second names the keys and the rescore_profiles call that rescores them."""
    rid = queue_tenant_c(shop)
    query(shop, "UPDATE tenant_c.customers SET age = 40")  # the cause fixed
    query(shop, "BEGIN; LOCK TABLE tenant_c.customers IN EXCLUSIVE MODE; "
                "CREATE TABLE tenant_c.customers_new (LIKE tenant_c.customers INCLUDING ALL) WITH (fillfactor = 70); "
                "INSERT INTO tenant_c.customers_new SELECT * FROM tenant_c.customers; "
                "ALTER TABLE tenant_c.customers RENAME TO customers_old; "
                "ALTER TABLE tenant_c.customers_new RENAME TO customers; COMMIT")
    del shop.notices[:]
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 0, 0)]
    # (session 70) OIDs compared as OIDs: an owner's =/<>(oid, regclass) is an exact match for an uncast regclass
    update = (f"UPDATE pgscore.error_queue SET profile_oid = 'tenant_c.customers'::pg_catalog.regclass::pg_catalog.oid "
              f"WHERE rescoring_id OPERATOR(pg_catalog.=) {rid} AND profile_oid OPERATOR(pg_catalog.<>) "
              "'tenant_c.customers'::pg_catalog.regclass::pg_catalog.oid")
    warned = [n for n in shop.notices if "retry_failed left 2" in n]
    assert len(warned) == 1 and f"they are its profiles: before dropping tenant_c.customers_old, {update}, then retry" \
        in warned[0], shop.notices
    # the 0160 design stands: without the UPDATE they are not rescored in the copy
    assert query(shop, "SELECT count(*) FROM tenant_c.customers WHERE churn_score IS NOT NULL") == [(0,)]
    query(shop, update + " AND entity_key = '70'")
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 1, 0)]
    causes = query(shop, "SELECT cause->'queued_event_ids' FROM pgscore.prediction_log WHERE source = 'retry' "
                         "AND entity_key = '70'")
    assert len(causes) == 1 and causes[0][0], causes  # rescored for its queued event, which its audit row names
    # dropped without the UPDATE: (session 68) handed over to the copy, its key named, and rescored (0160 to session
    # 67 deleted it, naming the key and the call that rescores the copy's profiles)
    query(shop, "DROP TABLE tenant_c.customers_old")
    del shop.notices[:]
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 1, 0)]
    warned = [n for n in shop.notices if "handed over" in n]
    assert len(warned) == 1 and f"1 queued rescoring(s) of wiring {rid} (key(s) '71') were handed over to " \
        "tenant_c.customers" in warned[0], shop.notices
    assert not [n for n in shop.notices if "no longer exists" in n], shop.notices
    assert query(shop, "SELECT count(*) FROM tenant_c.customers WHERE churn_score IS NULL") == [(0,)]


def test_a_copy_swapped_in_for_a_profile_table_and_the_old_one_dropped_takes_over_its_queue(shop):
    """Session 68 (h4; session 67's leftover): a profile table rewritten as a copy in one transaction (CREATE TABLE
    AS, the renames, the old one dropped) while two profiles were queued: retry_failed deleted their rows (0160's
    design, with a WARNING naming the keys and pgscore rescore), so the two customers kept the score from before
    their events until someone read the log. The rows of a live wiring are its event table's profiles by key: its
    trigger feeds the table now under the name. They are handed over to it, said in one WARNING, and rescored."""
    rid = queue_tenant_c(shop)
    query(shop, "UPDATE tenant_c.customers SET age = 40")  # the cause fixed
    query(shop, "BEGIN; CREATE TABLE tenant_c.customers_new (LIKE tenant_c.customers INCLUDING ALL) "
                "WITH (fillfactor = 70); INSERT INTO tenant_c.customers_new SELECT * FROM tenant_c.customers; "
                "ALTER TABLE tenant_c.customers RENAME TO customers_old; "
                "ALTER TABLE tenant_c.customers_new RENAME TO customers; DROP TABLE tenant_c.customers_old; COMMIT")
    del shop.notices[:]
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 2, 0)]
    warned = [n for n in shop.notices if "handed over" in n]
    assert len(warned) == 1 and warned[0].startswith(
        "WARNING:  pgscore.retry_failed: 2 queued rescoring(s) of wiring "), shop.notices
    assert "'70', '71'" in warned[0] and "no longer exists" not in warned[0], warned
    assert query(shop, "SELECT count(*) FROM tenant_c.customers WHERE churn_score IS NULL") == [(0,)]
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
    causes = query(shop, "SELECT cause->'queued_event_ids' FROM pgscore.prediction_log WHERE source = 'retry' "
                         "ORDER BY entity_key")
    assert len(causes) == 2 and all(c[0] for c in causes), causes  # rescored for their queued events


def test_the_copys_update_after_two_rewrites_hands_over_the_rows_of_both_old_tables(shop):
    """Session 67's leftover (h4, session 68): a profile table rewritten twice as a copy (each old one renamed away
    and kept), a profile queued before each rewrite: retry_failed's hint gave the UPDATE that hands a copy its rows
    naming one old table (`AND profile_oid = 'tenant_c.customers_old'::regclass`, the first by name), so the other's
    row stayed left, two rounds of retry and UPDATE. The WARNING names both tables, and the UPDATE, run as printed,
    hands both rows over: the next retry rescores both."""
    query(shop, TENANT_TABLES)
    query(shop, "INSERT INTO tenant_c.customers SELECT * FROM public.customers WHERE id IN (70, 71)")
    query(shop, "UPDATE tenant_c.customers SET age = NULL")
    rid = attach(shop, schema="tenant_c")

    def rewrite(old):
        query(shop, "BEGIN; LOCK TABLE tenant_c.customers IN EXCLUSIVE MODE; "
                    "CREATE TABLE tenant_c.customers_new (LIKE tenant_c.customers INCLUDING ALL); "
                    "INSERT INTO tenant_c.customers_new SELECT * FROM tenant_c.customers; "
                    f"ALTER TABLE tenant_c.customers RENAME TO {old}; "
                    "ALTER TABLE tenant_c.customers_new RENAME TO customers; COMMIT")

    query(shop, "INSERT INTO tenant_c.complaints (customer_id) VALUES (70)")  # queued for the first table
    rewrite("customers_old")
    query(shop, "INSERT INTO tenant_c.complaints (customer_id) VALUES (71)")  # queued for the first copy
    rewrite("customers_old2")
    query(shop, "UPDATE tenant_c.customers SET age = 40")  # the cause fixed in the copy
    del shop.notices[:]
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 0, 0)]
    (warned,) = [n for n in shop.notices if "retry_failed left 2" in n]
    assert "tables now named tenant_c.customers_old, tenant_c.customers_old2" in warned, warned
    update = warned.split("they are its profiles: before dropping ")[1].split(", ", 1)[1].rsplit(", then retry", 1)[0]
    assert update.startswith("UPDATE pgscore.error_queue SET profile_oid"), update
    query(shop, update)
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 2, 0)]
    assert query(shop, "SELECT count(*) FROM tenant_c.customers WHERE churn_score IS NULL") == [(0,)]

def test_the_queue_of_a_profile_table_renamed_away_under_a_live_wiring_is_given_both_ways_out(shop):
    """Session 67's leftover (h4, session 68): the profile table renamed away and a new one made under its name,
    two profiles queued for the old one under the live wiring: pgscore status said `once the cause is fixed: pgscore
    retry` and health `pgscore retry rescores them`, which leaves them (they were queued for the old table), and no
    one gave a DELETE for rows not wanted (the old table kept as an archive). Status names them with the UPDATE that
    hands them to the table of the name and the DELETE; health says retry leaves them; retry_failed's hint gives the
    DELETE too. The DELETE, run as status prints it, deletes these and leaves the new table's own row."""
    rid = queue_tenant_c(shop)
    query(shop, "ALTER TABLE tenant_c.customers RENAME TO customers_old")
    query(shop, "CREATE TABLE tenant_c.customers (LIKE public.customers INCLUDING ALL)")
    query(shop, "INSERT INTO tenant_c.customers SELECT * FROM public.customers WHERE id = 72")
    query(shop, "UPDATE tenant_c.customers SET age = NULL")
    query(shop, "INSERT INTO tenant_c.complaints (customer_id) VALUES (72)")  # the new table's own, queued
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(3,)]
    (detail,), = query(shop, "SELECT detail FROM pgscore.health() WHERE check_name = 'error_queue'")
    assert detail.endswith("pgscore retry rescores those of a wiring; 2 of a wiring were queued for its profile table "
                           "renamed since, another made under its name, which pgscore retry leaves: pgscore status "
                           "gives the UPDATE that hands them to the table of the name (a copy of it), or the DELETE"), \
        detail
    out = pgscore_cli("status", "--db", shop.dsn).stdout
    line = next(x for x in out.splitlines() if x.startswith("error queue:"))
    assert (f"; 2 of them (wiring {rid}) were queued for tenant_c.customers_old, renamed since, another made under its "
            "name as tenant_c.customers, which retry leaves: where tenant_c.customers is a copy of it, UPDATE "
            "pgscore.error_queue SET profile_oid = 'tenant_c.customers'::pg_catalog.regclass::pg_catalog.oid WHERE "
            f"rescoring_id OPERATOR(pg_catalog.=) {rid} AND profile_oid OPERATOR(pg_catalog.<>) "
            "'tenant_c.customers'::pg_catalog.regclass::pg_catalog.oid hands "
            "them to it; ") in line, line  # (review r1: an OID compared as an OID, no owner's oid = regclass)
    assert "; once the cause is fixed: " in line, line  # (the new table's own row: retry rescores it)
    delete = line.split("(the old table kept as an archive), ", 1)[1].split("; ", 1)[0]
    assert delete.startswith("DELETE FROM pgscore.error_queue WHERE"), delete
    del shop.notices[:]
    query(shop, "SELECT * FROM pgscore.retry_failed()")
    (warned,) = [n for n in shop.notices if "retry_failed left 2" in n]
    # (session 70) the hint's statements compare an OID as an OID, as status's (no owner's <> (oid, regclass),
    # whatever the path); the DELETE it gives is status's, which is run here with such an operator in public
    assert ("where they are not wanted (tenant_c.customers_old kept as an archive), DELETE FROM pgscore.error_queue "
            f"WHERE rescoring_id OPERATOR(pg_catalog.=) {rid} AND profile_oid OPERATOR(pg_catalog.<>) "
            "'tenant_c.customers'::pg_catalog.regclass::pg_catalog.oid"
            ) in warned, warned
    assert delete in warned and "'tenant_c.customers'::pg_catalog.regclass::pg_catalog.oid WHERE rescoring_id" in warned
    query(shop, "CREATE FUNCTION public.s70_ne(oid, regclass) RETURNS boolean LANGUAGE plpgsql AS $$ "
                "BEGIN RAISE EXCEPTION 'the look-alike ran'; END $$; "
                "CREATE OPERATOR public.<> (LEFTARG = oid, RIGHTARG = regclass, FUNCTION = public.s70_ne)")
    query(shop, delete)
    assert query(shop, "SELECT entity_key FROM pgscore.error_queue") == [("72",)]
    query(shop, "UPDATE tenant_c.customers SET age = 40")
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 1, 0)]
    line = next(x for x in pgscore_cli("status", "--db", shop.dsn).stdout.splitlines() if "queue" in x)
    assert "error queue: none" in line or "renamed since" not in line, line

def test_health_does_not_send_to_status_for_a_profile_table_renamed_away_with_none_made_under_its_name(shop):
    """Review r4 of session 68: a live wiring's profile table renamed away, no table made under its name: health()
    counted its 2 queued rows as `queued for its profile table renamed since, another made under its name, which
    pgscore retry leaves: pgscore status gives the UPDATE that hands them to the table of the name (a copy of it), or
    the DELETE`, where no table has the name, status gives neither (it says retry) and retry_failed skips the wiring,
    its WARNING giving the way to a wiring of the new name. Health says that."""
    rid = queue_tenant_c(shop)
    query(shop, "ALTER TABLE tenant_c.customers RENAME TO customers_old")
    (detail,), = query(shop, "SELECT detail FROM pgscore.health() WHERE check_name = 'error_queue'")
    assert "another made under its name" not in detail and "pgscore status gives the UPDATE" not in detail, detail
    assert detail.endswith("2 of a wiring were queued for its profile table renamed since, no table made under its "
                           "name: pgscore retry skips the wiring, its WARNING giving the way to a wiring of the new "
                           "name (or rename it back)"), detail
    out = pgscore_cli("status", "--db", shop.dsn).stdout
    line = next(x for x in out.splitlines() if x.startswith("error queue:"))
    assert "UPDATE pgscore.error_queue" not in line, line
    del shop.notices[:]
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 0, 2)]
    assert [n for n in shop.notices if "was renamed to tenant_c.customers_old" in n], shop.notices


def test_rows_handed_over_that_replay_counters_say_how_to_recount_a_table_made_anew_from_the_events(shop):
    """Review r4 of session 68: retry_failed hands a live wiring's rows of a dropped profile table over to the table
    now of the name and, in the same call, replays the counters of the events their failed update missed: right for
    a copy of the old table (it misses them too), and for a table made anew by pgscore backfill (it leaves queued
    profiles uncounted, its NOTICE saying retry, then backfill again); a table whose counters were counted from the
    events otherwise (an UPDATE ... SELECT count(*)) gets them counted twice. The WARNING, read after the fact, said
    only `which a copy of the dropped table misses too`; docs/operations.md told to clear such rows before the first
    retry where backfill_rescoring made the table, which loses those events' counts where backfill ran first (it had
    left them to retry). The hint names the recount that undoes it; run as given, the counters are the events'."""
    rid = attach(shop)
    query(shop, "UPDATE customers SET support_calls = 999 WHERE id = 5")
    query(shop, "ALTER TABLE customers ADD CONSTRAINT few_calls CHECK (support_calls < 1000)")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (5), (5)")
    (queued,), = query(shop, "SELECT to_jsonb(q) FROM pgscore.error_queue q")
    assert len(queued["cause"]["uncounted_event_ids"]) == 2, queued
    swap = ("BEGIN; CREATE TABLE public.customers_new (LIKE public.customers INCLUDING DEFAULTS INCLUDING INDEXES); "
            "INSERT INTO public.customers_new SELECT * FROM public.customers; "
            "UPDATE public.customers_new c SET support_calls = (SELECT count(*) FROM public.complaints e "
            "WHERE e.customer_id = c.id); "
            "ALTER TABLE public.customers RENAME TO customers_old; "
            "ALTER TABLE public.customers_new RENAME TO customers; DROP TABLE public.customers_old; COMMIT")
    query(shop, swap)  # counted from the events by hand
    assert query(shop, "SELECT support_calls FROM customers WHERE id = 5") == [(2,)]
    del shop.notices[:]
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 1, 0)]
    (warned,), = [[n for n in shop.notices if "handed over" in n]]
    assert "1 of them replay the counters of events their failed update missed" in warned, warned
    way = "SELECT pgscore.backfill_rescoring('public.complaints')"
    assert way in warned, warned
    assert query(shop, "SELECT support_calls FROM customers WHERE id = 5") == [(4,)]  # counted twice, as it said
    query(shop, way)
    assert query(shop, "SELECT support_calls FROM customers WHERE id = 5") == [(2,)]


def test_a_profile_table_made_anew_by_backfill_gets_the_handed_over_rows_counted_once(shop):
    """Review r4 of session 68: the table made anew by pgscore backfill (no counters of its own) while a profile's
    failed counters were queued: backfill leaves the queued profile (its NOTICE: retry, then backfill again), and
    retry_failed's hand-over replays its events once. The author's note (docs/operations.md) said such a table
    counts them twice and to clear the rows before the first retry: the rows cleared after the backfill, as the
    order of the note reads, lose the two events' counts. Pinned: counted once, no clearing."""
    rid = attach(shop)
    query(shop, "UPDATE customers SET support_calls = 999 WHERE id = 5")
    query(shop, "ALTER TABLE customers ADD CONSTRAINT few_calls CHECK (support_calls < 1000)")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (5), (5)")
    query(shop, "BEGIN; CREATE TABLE public.customers_new (LIKE public.customers INCLUDING DEFAULTS INCLUDING INDEXES); "
                "INSERT INTO public.customers_new SELECT * FROM public.customers; "
                "UPDATE public.customers_new SET support_calls = 0; "
                "ALTER TABLE public.customers RENAME TO customers_old; "
                "ALTER TABLE public.customers_new RENAME TO customers; DROP TABLE public.customers_old; COMMIT")
    del shop.notices[:]
    query(shop, "SELECT pgscore.backfill_rescoring('public.complaints')")
    assert [n for n in shop.notices if "queued in pgscore.error_queue were left" in n], shop.notices
    assert query(shop, "SELECT support_calls FROM customers WHERE id = 5") == [(0,)]
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 1, 0)]
    assert query(shop, "SELECT support_calls FROM customers WHERE id = 5") == [(2,)]
    query(shop, "SELECT pgscore.backfill_rescoring('public.complaints')")  # again, as its NOTICE says
    assert query(shop, "SELECT support_calls FROM customers WHERE id = 5") == [(2,)]


def test_the_way_to_rescore_a_dropped_copys_deleted_keys_rescores_them_past_the_first_10000(shop):
    """Review r2 of session 67: retry_failed deleting the queued rows of a profile table rewritten as a copy (the old
    one dropped) named their keys and, for those profiles, `SELECT * FROM pgscore.rescore_profiles(EVENTS,
    PROFILES)`: one page, the first 10,000 profiles in key order. A table of more (any real one) kept the deleted
    keys' stale scores after it, the hint followed as written. The way it gives, run as written, rescores them."""
    import shlex

    queue_tenant_c(shop)
    query(shop, "INSERT INTO tenant_c.customers SELECT (jsonb_populate_record(NULL::tenant_c.customers, to_jsonb(c) || "
                "jsonb_build_object('id', -g))).* FROM public.customers c, generate_series(1, 10000) g WHERE c.id = 1")
    query(shop, "UPDATE tenant_c.customers SET age = 40 WHERE id IN (70, 71)")
    # (session 68) detached first: a live wiring's retry hands such rows over to the copy and rescores them
    # (test_a_copy_swapped_in_for_a_profile_table_and_the_old_one_dropped_takes_over_its_queue); the attach of
    # rows of no wiring deletes them still, with this hint
    query(shop, "SELECT pgscore.detach_rescoring('tenant_c.complaints')")
    query(shop, "BEGIN; LOCK TABLE tenant_c.customers IN EXCLUSIVE MODE; "
                "CREATE TABLE tenant_c.customers_new (LIKE tenant_c.customers INCLUDING ALL); "
                "INSERT INTO tenant_c.customers_new SELECT * FROM tenant_c.customers; "
                "ALTER TABLE tenant_c.customers RENAME TO customers_old; "
                "ALTER TABLE tenant_c.customers_new RENAME TO customers; DROP TABLE tenant_c.customers_old; COMMIT")
    del shop.notices[:]
    attach(shop, schema="tenant_c")
    (warned,) = [n for n in shop.notices if "no longer exists" in n]
    way = warned.split("HINT:")[1].split(" or by ", 1)[1].strip()
    if way.startswith("SELECT"):
        query(shop, way)
    else:
        assert way.startswith("pgscore rescore "), way
        run = pgscore_cli(*shlex.split(way.split(" (")[0])[1:], "--quiet", "--db", shop.dsn)
        assert run.returncode == 0, run.stdout + run.stderr
    assert query(shop, "SELECT count(*) FROM tenant_c.customers WHERE id IN (70, 71) AND churn_score IS NOT NULL") \
        == [(2,)], way


def test_pgscore_retry_exits_1_while_it_leaves_profiles_queued_for_a_renamed_table(shop):
    """Session 67, trial T23 (h2): a profile table swapped for a copy (the old one renamed) while two profiles were
    queued: `pgscore retry` left them (its WARNING says why) and exited 0, `2 profiles still queued`, so a cron on its
    exit code never learned that nothing rescores them. It exits 1 and says which they are; 0 again once they are
    handed to the copy (the WARNING's UPDATE) and rescored."""
    rid = queue_tenant_c(shop)
    query(shop, "UPDATE tenant_c.customers SET age = 40")
    query(shop, "BEGIN; LOCK TABLE tenant_c.customers IN EXCLUSIVE MODE; "
                "CREATE TABLE tenant_c.customers_new (LIKE tenant_c.customers INCLUDING ALL); "
                "INSERT INTO tenant_c.customers_new SELECT * FROM tenant_c.customers; "
                "ALTER TABLE tenant_c.customers RENAME TO customers_old; "
                "ALTER TABLE tenant_c.customers_new RENAME TO customers; COMMIT")
    run = pgscore_cli("retry", "--db", shop.dsn)
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stdout.endswith(f"wiring {rid}: tenant_c.complaints -> tenant_c.customers: 0 rescored, 0 still "
                               "failing\n2 profiles still queued: see their reasons with SELECT * FROM "
                               "pgscore.error_queue\n2 of them were queued for another table of the profile table's "
                               "name (renamed since), which this retry cannot rescore: see its WARNING\n"), run.stdout
    assert "WARNING:  pgscore: retry_failed left 2 queued profile(s)" in run.stdout, run.stdout
    query(shop, f"UPDATE pgscore.error_queue SET profile_oid = 'tenant_c.customers'::regclass WHERE rescoring_id = "
                f"{rid} AND profile_oid = 'tenant_c.customers_old'::regclass")
    run = pgscore_cli("retry", "--db", shop.dsn)
    assert (run.returncode, run.stdout) == (0, f"wiring {rid}: tenant_c.complaints -> tenant_c.customers: 2 rescored, "
                                               "0 still failing\n"), run.stdout + run.stderr


def test_the_way_to_rescore_a_copys_old_tables_queue_in_it_keeps_the_wiring_to_the_copy(shop):
    """Review of session 67's copy change (h7): a copy swapped in under the profile table's name, retry_failed's
    WARNING said of the rows left for the old table (renamed) "attach_rescoring of tenant_c.customers_old (after
    detaching wiring N) takes them over", which cannot be followed: detach_rescoring takes an event table, and
    detaches the live wiring to the copy too, and an attach takes over no row of a live wiring. It gives the calls
    that do it; run as printed, the old table's profiles are rescored and the wiring to the copy stays."""
    rid = queue_tenant_c(shop)
    query(shop, "BEGIN; LOCK TABLE tenant_c.customers IN EXCLUSIVE MODE; "
                "CREATE TABLE tenant_c.customers_new (LIKE tenant_c.customers INCLUDING ALL); "
                "INSERT INTO tenant_c.customers_new SELECT * FROM tenant_c.customers; "
                "ALTER TABLE tenant_c.customers RENAME TO customers_old; "
                "ALTER TABLE tenant_c.customers_new RENAME TO customers; COMMIT")
    query(shop, "UPDATE tenant_c.customers_old SET age = 40")
    del shop.notices[:]
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 0, 0)]
    (warned,) = [n for n in shop.notices if "retry_failed left 2" in n]
    hint = warned.split("HINT:", 1)[1]
    assert "after detaching" not in hint, hint
    way = hint.split(" once they are rescored")[0]
    calls = re.findall(r"UPDATE pgscore\.error_queue SET rescoring_id = NULL WHERE [^;]*|"
                       r"SELECT pgscore\.\w+\((?:[^()']|'(?:[^']|'')*')*\)", way)
    assert [c.split("(")[0].split(" SET")[0] for c in calls] == [
        "UPDATE pgscore.error_queue", "SELECT pgscore.attach_rescoring", "SELECT pgscore.detach_rescoring"], hint
    query(shop, calls[0])  # as printed
    query(shop, calls[1])
    (rid2,) = query(shop, "SELECT rescoring_id FROM pgscore.rescoring WHERE profile_table = 'tenant_c.customers_old'")
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid2[0], 2, 0)]
    assert query(shop, "SELECT count(*) FROM tenant_c.customers_old WHERE churn_score IS NOT NULL") == [(2,)]
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
    query(shop, calls[2])
    assert query(shop, "SELECT rescoring_id, profile_table FROM pgscore.rescoring "
                       "WHERE event_table = 'tenant_c.complaints'") == [(rid, "tenant_c.customers")]
    query(shop, "UPDATE tenant_c.customers SET age = 40")
    query(shop, "INSERT INTO tenant_c.complaints (customer_id) VALUES (70)")  # the copy rescored by an event still
    assert query(shop, "SELECT churn_score IS NOT NULL FROM tenant_c.customers WHERE id = 70") == [(True,)]


def test_pgscore_retry_with_a_limit_does_not_call_the_rows_left_for_a_renamed_table_untried(shop):
    """Review r2 of session 67: `pgscore retry --limit 10` leaving two profiles queued for a renamed profile table (a
    copy swapped in) said `2 profiles still queued (2 not tried: --limit 10)`: the limit left none untried (the two
    were left for the renamed table, as the next line says)."""
    rid = queue_tenant_c(shop)
    query(shop, "BEGIN; LOCK TABLE tenant_c.customers IN EXCLUSIVE MODE; "
                "CREATE TABLE tenant_c.customers_new (LIKE tenant_c.customers INCLUDING ALL); "
                "INSERT INTO tenant_c.customers_new SELECT * FROM tenant_c.customers; "
                "ALTER TABLE tenant_c.customers RENAME TO customers_old; "
                "ALTER TABLE tenant_c.customers_new RENAME TO customers; COMMIT")
    run = pgscore_cli("retry", "--limit", "10", "--db", shop.dsn)
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"wiring {rid}: tenant_c.complaints -> tenant_c.customers: 0 rescored, 0 still failing\n2 profiles still " \
           "queued: see their reasons with SELECT * FROM pgscore.error_queue\n2 of them were queued for another " \
           "table" in run.stdout, run.stdout


def test_the_queue_of_a_profile_table_renamed_away_follows_it_to_its_wiring_under_the_new_name(shop):
    """Session 65's trial T18 left it: rows queued for a tenant's profile table renamed away (`ALTER TABLE
    tenant_c.customers RENAME TO customers_old`) waited for ever, warned at each retry_failed: its WARNING said only
    "dropped or renamed", and its hint's way (detach, then attach the table under its new name) took none of them
    over, matching the rows by their old name. The WARNING names the table's new name, and attach_rescoring of
    that table takes its rows over by the OID they keep (migration 0160), stamped with its name; retry_failed then
    rescores them there."""
    rid = queue_tenant_c(shop)
    query(shop, "ALTER TABLE tenant_c.customers RENAME TO customers_old")
    del shop.notices[:]
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 0, 2)]
    warned = [n for n in shop.notices if "retry_failed skipped wiring" in n]
    assert len(warned) == 1 and (f"pgscore: retry_failed skipped wiring {rid}: its profile table tenant_c.customers "
                                 "was renamed to tenant_c.customers_old; its 2 queued profile(s)") in warned[0], warned
    assert "attach_rescoring('tenant_c.complaints', 'tenant_c.customers_old'" in warned[0], warned
    assert ("SELECT pgscore.detach_rescoring('tenant_c.complaints'); SELECT pgscore.attach_rescoring("
            "'tenant_c.complaints', 'tenant_c.customers_old', 'customer_id', 'churn', 'churn_score', '{") in warned[0], \
        warned
    query(shop, "SELECT pgscore.detach_rescoring('tenant_c.complaints')")
    del shop.notices[:]
    rid2 = attach(shop, schema="tenant_c", customers="customers_old")
    assert [n for n in shop.notices if "2 profile(s) of tenant_c.customers_old queued by an earlier wiring" in n], \
        shop.notices
    assert query(shop, "SELECT profile_table, rescoring_id FROM pgscore.error_queue ORDER BY entity_key") == [
        ("tenant_c.customers_old", rid2)] * 2
    query(shop, "UPDATE tenant_c.customers_old SET age = 40")
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid2, 2, 0)]
    assert query(shop, "SELECT count(*) FROM tenant_c.customers_old WHERE churn_score IS NOT NULL") == [(2,)]


def test_pgscore_retry_does_not_call_a_dropped_profile_table_renamed(shop):
    """Review r2 of session 67: the profile table dropped and made again without the score column while two profiles
    were queued. retry_failed skips the wiring (a column missing: its WARNING says so) and leaves the rows, which name
    the dropped table's OID; `pgscore retry` counted them as "queued for another table of the profile table's name
    (renamed since) ...: see its WARNING", of a rename that never was and a WARNING that says another thing. It
    exits 1 for them as still failing, and names no rename."""
    rid = queue_tenant_c(shop)
    query(shop, "DROP TABLE tenant_c.customers")
    query(shop, "CREATE TABLE tenant_c.customers (LIKE public.customers INCLUDING ALL)")
    query(shop, "ALTER TABLE tenant_c.customers DROP COLUMN churn_score")
    run = pgscore_cli("retry", "--db", shop.dsn)
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"wiring {rid}: tenant_c.complaints -> tenant_c.customers: 0 rescored, 2 still failing\n" in run.stdout, \
        run.stdout
    assert "column(s) missing" in run.stdout + run.stderr, run.stdout + run.stderr
    assert "renamed since" not in run.stdout, run.stdout


def test_the_way_to_a_renamed_away_profile_table_keeps_the_event_tables_other_wiring(shop):
    """Review r5 of session 67: retry_failed's WARNING of a profile table renamed away gave `SELECT
    pgscore.detach_rescoring('tenant_c.complaints') (its wirings), then pgscore.attach_rescoring('tenant_c.complaints',
    'tenant_c.customers_old', ...)`: the detach takes every wiring of the event table (detach_rescoring of the event
    and the new name fails, 42704: the wiring names the old one), so an event table wired to a second profile table
    (tenant_c.accounts) lost that wiring, silently, following it; and the `...` was the counters, gone with the
    wiring once detached. The hint gives each call whole: the detach, this wiring's attach to the new name, and the
    other wiring's attach again; run as printed, both rescore."""
    rid = queue_tenant_c(shop)
    query(shop, "CREATE TABLE tenant_c.accounts (LIKE public.customers INCLUDING ALL)")
    query(shop, "INSERT INTO tenant_c.accounts SELECT * FROM public.customers WHERE id IN (70, 71)")
    other = attach(shop, schema="tenant_c", customers="accounts")
    query(shop, "ALTER TABLE tenant_c.customers RENAME TO customers_old")
    del shop.notices[:]
    query(shop, "SELECT * FROM pgscore.retry_failed()")
    warned = [n for n in shop.notices if f"retry_failed skipped wiring {rid}" in n]
    assert len(warned) == 1 and "was renamed to tenant_c.customers_old" in warned[0], shop.notices
    hint = warned[0].split("HINT:", 1)[1]
    calls = re.findall(r"SELECT pgscore\.\w+\((?:[^()']|'(?:[^']|'')*')*\)", hint)
    assert [c.split("(")[0] for c in calls] == ["SELECT pgscore.detach_rescoring", "SELECT pgscore.attach_rescoring",
                                               "SELECT pgscore.attach_rescoring"], hint
    assert "tenant_c.accounts" in calls[2] and "tenant_c.customers_old" in calls[1], calls
    # pgscore status likewise: its line of the wiring named the old name in the attach call it gave (42P01), and
    # said nothing of the other wiring the detach takes too
    out = pgscore_cli("status", "--db", shop.dsn).stdout
    said = re.search(rf"^  wiring {rid}: .*\n(?:     .*\n)*", out, re.M).group(0)
    assert "the profile table tenant_c.customers was renamed to tenant_c.customers_old" in said, said
    assert re.findall(r"SELECT pgscore\.\w+\((?:[^()']|'(?:[^']|'')*')*\)", said) == calls, said
    for call in calls:  # as printed
        query(shop, call)
    assert query(shop, "SELECT profile_table, counters = %s::jsonb FROM pgscore.rescoring "
                       "WHERE event_table = 'tenant_c.complaints' ORDER BY rescoring_id",
                 (json.dumps(sample.COUNTERS),)) == [("tenant_c.customers_old", True), ("tenant_c.accounts", True)]
    query(shop, "UPDATE tenant_c.customers_old SET age = 40")
    query(shop, "SELECT * FROM pgscore.retry_failed()")
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
    query(shop, "INSERT INTO tenant_c.complaints (customer_id) VALUES (70)")  # both rescored by an event
    assert query(shop, "SELECT (SELECT complaints_30d FROM tenant_c.customers_old WHERE id = 70), "
                       "(SELECT complaints_30d FROM tenant_c.accounts WHERE id = 70)") == [(2.0, 2.0)]
    assert other != rid


def test_forget_rescoring_keeps_the_queue_of_a_profile_table_renamed_away_for_its_new_name(shop):
    """Review of session 67's renamed-away change (h7): the profile table renamed away (`ALTER TABLE
    tenant_c.customers RENAME TO customers_old`) and its event table dropped, forget_rescoring of the wiring said "2
    queued rescoring(s) of tenant_c.customers were deleted ...: no table has that name any more" and that the table
    renamed "starts with an empty queue": it deleted the rows that an attach_rescoring of the new name takes over
    (by the OID they keep), as detach_rescoring keeps them. They are kept, the NOTICE naming the new name; only those
    of a table gone (by OID) are deleted; and health counts the kept ones as waiting for that attach, not as "a
    profile table that no longer exists: nothing can rescore them"."""
    rid = queue_tenant_c(shop)
    query(shop, "ALTER TABLE tenant_c.customers RENAME TO customers_old")
    query(shop, "DROP TABLE tenant_c.complaints")
    del shop.notices[:]
    query(shop, "SELECT pgscore.forget_rescoring(%s)", (rid,))
    assert not [n for n in shop.notices if "deleted" in n], shop.notices
    said = [n for n in shop.notices if "queued rescoring(s)" in n]
    assert said == [f"NOTICE:  pgscore.forget_rescoring: 2 queued rescoring(s) of tenant_c.customers were kept, "
                    f"without wiring {rid}: that table was renamed to tenant_c.customers_old since\nHINT:  an "
                    "attach_rescoring of an event table to tenant_c.customers_old takes them over\n"], shop.notices
    assert query(shop, "SELECT profile_table, rescoring_id FROM pgscore.error_queue") == [
        ("tenant_c.customers", None)] * 2
    (detail,) = query(shop, "SELECT detail FROM pgscore.health() WHERE check_name = 'error_queue'")[0]
    assert "no longer exists" not in detail and "nothing can rescore" not in detail, detail
    assert ("2 of no wiring were queued for a profile table renamed since: the next attach_rescoring of it under "
            "its new name takes them over (pgscore status names it)") in detail, detail
    query(shop, "CREATE TABLE tenant_c.complaints (LIKE public.complaints INCLUDING ALL)")
    rid2 = attach(shop, schema="tenant_c", customers="customers_old")
    assert query(shop, "SELECT profile_table, rescoring_id FROM pgscore.error_queue") == [
        ("tenant_c.customers_old", rid2)] * 2
    query(shop, "UPDATE tenant_c.customers_old SET age = 40")
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid2, 2, 0)]


def test_forget_rescoring_still_deletes_the_queue_of_a_profile_table_gone_beside_one_renamed(shop):
    """(h7) forget_rescoring keeps the rows of a profile table renamed away, not those of one dropped: with both in
    the queue under the old name, those of the dropped table are deleted, with the WARNING, and the others kept."""
    rid = queue_tenant_c(shop)
    # (a row queued for a table dropped since: its OID no table's)
    query(shop, "INSERT INTO pgscore.error_queue OVERRIDING SYSTEM VALUE SELECT (pg_catalog.jsonb_populate_record("
                "NULL::pgscore.error_queue, to_jsonb(q) || jsonb_build_object('error_id', (SELECT max(error_id) + 1 "
                "FROM pgscore.error_queue), 'rescoring_id', NULL, 'profile_oid', 4000000000::bigint, 'entity_key', "
                "'99'))).* FROM pgscore.error_queue q LIMIT 1")
    assert query(shop, "SELECT count(*) FROM pg_class WHERE oid = 4000000000::oid") == [(0,)]
    query(shop, "ALTER TABLE tenant_c.customers RENAME TO customers_old")
    query(shop, "DROP TABLE tenant_c.complaints")
    del shop.notices[:]
    query(shop, "SELECT pgscore.forget_rescoring(%s)", (rid,))
    said = [n.split("\n")[0] for n in shop.notices if "queued rescoring(s)" in n]
    assert said == [f"WARNING:  pgscore.forget_rescoring: 1 queued rescoring(s) of tenant_c.customers were deleted "
                    f"with wiring {rid}: no table has that name any more, so nothing could rescore them",
                    f"NOTICE:  pgscore.forget_rescoring: 2 queued rescoring(s) of tenant_c.customers were kept, "
                    f"without wiring {rid}: that table was renamed to tenant_c.customers_old since"], shop.notices
    assert query(shop, "SELECT entity_key FROM pgscore.error_queue ORDER BY entity_key") == [("70",), ("71",)]


def test_the_queue_of_a_profile_table_renamed_before_a_dump_is_told_the_way_to_its_new_name(shop):
    """Review r5 of session 67: where the queued rows of a profile table renamed away do not keep its OID (a dump
    restored: every OID new, the queue's rows another cluster's), retry_failed's WARNING said "dropped or renamed"
    with the hint h4 found failing: `detach_rescoring of a renamed one under its new name` (42704: the wiring names
    the old name), and attach_rescoring of the new name takes none (they name the old one). The hint gives the
    UPDATE that names the new name in them, then the detach and the attach, which takes them over."""
    rid = queue_tenant_c(shop)
    query(shop, "ALTER TABLE tenant_c.customers RENAME TO customers_old")
    query(shop, "UPDATE pgscore.error_queue SET queue_system = queue_system # 1")  # (as a restored dump's rows)
    del shop.notices[:]
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 0, 2)]
    warned = [n for n in shop.notices if f"retry_failed skipped wiring {rid}" in n]
    assert len(warned) == 1 and "tenant_c.customers was dropped or renamed" in warned[0], shop.notices
    update = re.search(r"UPDATE pgscore\.error_queue SET profile_table = 'NEW_NAME' WHERE rescoring_id "
                       r"OPERATOR\(pg_catalog\.=\) \d+", warned[0])
    assert update and "SELECT pgscore.detach_rescoring('tenant_c.complaints')" in warned[0], warned
    query(shop, update.group(0).replace("NEW_NAME", "tenant_c.customers_old"))
    query(shop, "SELECT pgscore.detach_rescoring('tenant_c.complaints')")
    rid2 = attach(shop, schema="tenant_c", customers="customers_old")
    assert query(shop, "SELECT profile_table, rescoring_id FROM pgscore.error_queue") == [
        ("tenant_c.customers_old", rid2)] * 2
    query(shop, "UPDATE tenant_c.customers_old SET age = 40")
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid2, 2, 0)]


def test_status_does_not_give_the_delete_of_a_detached_queue_of_a_profile_table_renamed_away(shop):
    """Review r5 of session 67: the queued rows of a profile table renamed away, detached (as retry_failed's hint
    says, before the attach to the new name), were said by pgscore status to "name a profile table that no longer
    exists (tenant_c.customers): nothing can rescore them", with the DELETE that deleted them: since session 67
    attach_rescoring of the new name takes them over, by the OID they keep. Status says so, and its DELETE (for
    another table's rows, gone) leaves them."""
    queue_tenant_c(shop)
    query(shop, "ALTER TABLE tenant_c.customers RENAME TO customers_old")
    query(shop, "SELECT pgscore.detach_rescoring('tenant_c.complaints')")
    # (a row of a profile table gone by name, no OID: the DELETE is given for it)
    query(shop, "INSERT INTO pgscore.error_queue OVERRIDING SYSTEM VALUE SELECT (pg_catalog.jsonb_populate_record("
                "NULL::pgscore.error_queue, to_jsonb(q) || jsonb_build_object('error_id', (SELECT max(error_id) + 1 "
                "FROM pgscore.error_queue), 'profile_table', 'tenant_c.gone', 'profile_oid', NULL, 'entity_key', "
                "'99'))).* FROM pgscore.error_queue q LIMIT 1")
    out = pgscore_cli("status", "--db", shop.dsn).stdout
    assert ("2 of them were queued for a profile table renamed since (tenant_c.customers, now tenant_c.customers_old): "
            "the next attach_rescoring to it under its new name takes them over") in out, out
    assert "name a profile table that no longer exists (tenant_c.gone)" in out, out
    query(shop, printed_delete(out))  # as printed
    assert query(shop, "SELECT profile_table, entity_key FROM pgscore.error_queue ORDER BY entity_key") == [
        ("tenant_c.customers", "70"), ("tenant_c.customers", "71")]
    rid = attach(shop, schema="tenant_c", customers="customers_old")
    assert query(shop, "SELECT profile_table, rescoring_id FROM pgscore.error_queue") == [
        ("tenant_c.customers_old", rid)] * 2


def test_an_event_of_a_profile_table_made_again_does_not_name_the_dropped_tables_events(shop):
    """Session 66: the profile table alone dropped and made again under a live wiring, an event for the new table's
    customer 70 before any retry_failed cleared the dropped table's queue row of key 70 and its audit row named that
    row's events as queued_event_ids (the dropped table's). The row is cleared, its events not named."""
    query(shop, TENANT_TABLES)
    query(shop, "INSERT INTO tenant_c.customers SELECT * FROM public.customers WHERE id = 70")
    query(shop, "UPDATE tenant_c.customers SET age = NULL")
    attach(shop, schema="tenant_c")
    query(shop, "INSERT INTO tenant_c.complaints (customer_id) VALUES (70)")  # queued: age is NULL
    query(shop, "DROP TABLE tenant_c.customers")
    query(shop, "CREATE TABLE tenant_c.customers (LIKE public.customers INCLUDING ALL)")
    query(shop, "INSERT INTO tenant_c.customers SELECT * FROM public.customers WHERE id = 70")
    query(shop, "INSERT INTO tenant_c.complaints (customer_id) VALUES (70)")
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
    causes = query(shop, "SELECT cause FROM pgscore.prediction_log WHERE source = 'trigger' AND entity_key = '70'")
    assert len(causes) == 1 and "queued_event_ids" not in causes[0][0], causes


def test_a_queue_restored_from_a_dump_is_retried_though_every_oid_is_new(shop, empty_db_url):
    """Session 66: a queue row keeps its profile table's OID (migration 0160), which a dump restored into another
    database (docs/sql.md, "Moving a database") makes anew for every table: the restored rows are matched by their
    profile table's name (their queue_oid is the dumped database's pgscore.error_queue's), rescored by retry_failed
    there, and stamped with the restored table's OID."""
    rid = queue_tenant_c(shop)
    assert query(shop, "SELECT profile_oid = 'tenant_c.customers'::regclass FROM pgscore.error_queue") == [(True,)] * 2
    dump = subprocess.run([str(pg_bin_dir() / "pg_dump"), "-Fc", "-d", shop.dsn], capture_output=True,
                          check=True).stdout
    restore = subprocess.run([str(pg_bin_dir() / "pg_restore"), "-d", empty_db_url], input=dump, capture_output=True)
    assert restore.returncode == 0, restore.stderr
    moved = query(empty_db_url, "SELECT bool_and(profile_oid <> 'tenant_c.customers'::regclass), "
                                "bool_and(queue_oid <> 'pgscore.error_queue'::regclass) FROM pgscore.error_queue")
    assert moved == [(True, True)]  # (every OID new: what the test is about)
    query(empty_db_url, "UPDATE tenant_c.customers SET age = 40")
    assert query(empty_db_url, "SELECT * FROM pgscore.retry_failed()") == [(rid, 2, 0)]
    assert query(empty_db_url, "SELECT count(*) FROM tenant_c.customers WHERE churn_score IS NULL") == [(0,)]
    # a row queued there after the restore is stamped as that database's
    query(empty_db_url, "UPDATE tenant_c.customers SET age = NULL WHERE id = 71")
    query(empty_db_url, "INSERT INTO tenant_c.complaints (customer_id) VALUES (71)")
    assert query(empty_db_url, "SELECT profile_oid = 'tenant_c.customers'::regclass, "
                               "queue_oid = 'pgscore.error_queue'::regclass FROM pgscore.error_queue") == [(True, True)]


def test_a_queue_restored_into_a_fresh_cluster_with_the_same_queue_oid_is_not_deleted(shop, empty_db_url):
    """Session 66, review r4: a dump restored into a fresh cluster makes its objects in the dump's order from the
    same OID counter, so a database that was itself restored from a dump gives pgscore.error_queue the same OID
    again (walked by hand: 16687 in both clusters): queue_oid alone took the restored rows for this database's,
    and their profile_oid (a table made after the first restore: 17203, restored as 16986) for a table dropped
    since: retry_failed deleted them with a WARNING that the table "no longer exists", and their profiles were
    never rescored. The row's database is told by the cluster's system identifier too, which a restore cannot
    copy. Here the restore is into another database of the test's cluster: the rows are made to look as the
    fresh cluster's restore left them (this queue's OID, another cluster's system identifier, another OID)."""
    query(shop, "CREATE TABLE public.zcust (LIKE public.customers INCLUDING ALL); "
                "CREATE TABLE public.zcomp (LIKE public.complaints INCLUDING ALL)")
    query(shop, "INSERT INTO public.zcust SELECT * FROM public.customers WHERE id IN (5, 6)")
    query(shop, "UPDATE public.zcust SET age = NULL")
    rid = attach(shop, customers="zcust", complaints="zcomp")
    query(shop, "INSERT INTO public.zcomp (customer_id) VALUES (5), (6)")  # queued: age is NULL
    dump = subprocess.run([str(pg_bin_dir() / "pg_dump"), "-Fc", "-d", shop.dsn], capture_output=True,
                          check=True).stdout
    restore = subprocess.run([str(pg_bin_dir() / "pg_restore"), "-d", empty_db_url], input=dump, capture_output=True)
    assert restore.returncode == 0, restore.stderr
    query(empty_db_url, "UPDATE pgscore.error_queue SET queue_oid = 'pgscore.error_queue'::regclass, "
                        "profile_oid = (SELECT max(oid)::int8 + 1000 FROM pg_class)::oid, queue_system = queue_system # 1")
    query(empty_db_url, "UPDATE public.zcust SET age = 40")
    there = psycopg2.connect(empty_db_url)
    there.autocommit = True
    try:
        with there.cursor() as cur:
            cur.execute("SELECT * FROM pgscore.retry_failed()")
            assert cur.fetchall() == [(rid, 2, 0)], there.notices
        assert not [n for n in there.notices if "no longer exists" in n], there.notices
    finally:
        there.close()
    assert query(empty_db_url, "SELECT count(*) FROM public.zcust WHERE churn_score IS NULL") == [(0,)]
    assert query(empty_db_url, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
    # a row queued there now is stamped with that cluster's identifier and that queue's OID
    query(empty_db_url, "UPDATE public.zcust SET age = NULL WHERE id = 6")
    query(empty_db_url, "INSERT INTO public.zcomp (customer_id) VALUES (6)")
    assert query(empty_db_url, "SELECT profile_oid = 'public.zcust'::regclass, queue_oid = 'pgscore.error_queue'::"
                               "regclass, queue_system = (pg_control_system()).system_identifier "
                               "FROM pgscore.error_queue") == [(True, True, True)]


def test_attach_says_when_its_model_rescores_another_profile_table_too(shop):
    """Session 66 (trial T18: a model shared by tenants): the prediction log keys a prediction by its profile key
    alone, so record_outcome('churn', '70', ...) judged the other tenant's newest prediction of key 70 and
    erase_entity('70', 'churn') erased both tenants' rows, with no word at the wiring. attach_rescoring says so in a
    NOTICE when its model already rescores another profile table (not for a second event table of the same one)."""
    attach(shop)
    query(shop, TENANT_TABLES)
    del shop.notices[:]
    attach(shop, schema="tenant_c")
    said = [n for n in shop.notices if "also rescores" in n]
    assert said == ["NOTICE:  pgscore: model churn also rescores public.customers: the prediction log keys each "
                    "prediction by its profile key alone, so a key that tenant_c.customers shares with it is one "
                    "entity to record_outcome and erase_entity\nHINT:  key a model's profiles by a key unique across "
                    "its tables (docs/sql.md, 'One cluster, several teams', its worked example of a model shared by "
                    "tenants), or give each table a model of its own\n"], \
        shop.notices
    query(shop, "CREATE TABLE tenant_c.visits (LIKE public.complaints INCLUDING ALL)")
    del shop.notices[:]
    attach(shop, schema="tenant_c", complaints="visits", customers="customers")
    assert [n for n in shop.notices if "also rescores" in n] == said, shop.notices


def test_forget_rescoring_by_an_admin_without_usage_on_the_tenants_schema(shop):
    """Session 65, review r3: forget_rescoring looked the profile table up with to_regclass, which raises 42501
    (permission denied for schema tenant_c) for a caller without USAGE on its schema: a pgscore_admin not given
    each tenant's schema could no longer forget a wiring whose event table alone was dropped (it could before
    0157). It looks in the catalog: the queue of a profile table still there is kept, that of one gone deleted."""
    rid = queue_tenant_c(shop)
    query(shop, "DROP TABLE tenant_c.complaints")  # the event table alone
    admin = "pgscore_t_tenant_admin"
    ensure_role(shop, admin)
    query(shop, f"GRANT pgscore_admin TO {admin}")
    query(shop, f"SET ROLE {admin}")
    try:
        with pytest.raises(errors.InsufficientPrivilege):  # (the admin may not use the tenant's schema)
            query(shop, "SELECT count(*) FROM tenant_c.customers")
        query(shop, "SELECT pgscore.forget_rescoring(%s)", (rid,))
    finally:
        query(shop, "RESET ROLE")
    assert query(shop, "SELECT profile_table, entity_key, rescoring_id FROM pgscore.error_queue ORDER BY 2") == [
        ("tenant_c.customers", "70", None), ("tenant_c.customers", "71", None)]
    # its profile table dropped too, after a wiring again: forgotten by that admin, the queue goes
    query(shop, "CREATE TABLE tenant_c.complaints (LIKE public.complaints INCLUDING ALL)")
    rid = attach(shop, schema="tenant_c")
    query(shop, "DROP SCHEMA tenant_c CASCADE")
    query(shop, f"SET ROLE {admin}")
    try:
        query(shop, "SELECT pgscore.forget_rescoring(%s)", (rid,))
    finally:
        query(shop, "RESET ROLE")
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]


def test_status_says_the_next_attach_deletes_the_queue_of_a_profile_table_dropped_and_made_again(shop):
    """Session 66, review r4: queued errors of no wiring (a detach) whose profile table was dropped and made again
    under its name: pgscore status said "the next attach_rescoring to their profile table takes them over ... and
    retry then rescores them", and health() "wait for the next attach_rescoring"; since migration 0160 that attach
    deletes them (they were queued for the dropped table). Status says so."""
    queue_tenant_c(shop)
    query(shop, "SELECT pgscore.detach_rescoring('tenant_c.complaints')")
    query(shop, "DROP TABLE tenant_c.customers")
    query(shop, "CREATE TABLE tenant_c.customers (LIKE public.customers INCLUDING ALL)")
    out = pgscore_cli("status", "--db", shop.dsn).stdout
    assert "takes them over" not in out, out
    assert ("; 2 of them belong to no wiring and were queued for a table that was dropped since, another made under "
            "its name: nothing can rescore them, and the next attach_rescoring to that table deletes them, with a "
            "WARNING (they are not its profiles); delete them with DELETE FROM pgscore.error_queue q ") in out, out
    del shop.notices[:]
    attach(shop, schema="tenant_c")  # as said
    assert [n for n in shop.notices if "2 queued rescoring(s) of tenant_c.customers were deleted" in n], shop.notices
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]


def printed_delete(out):
    """The DELETE pgscore status prints for the queued rows nothing can rescore."""
    return re.search(r"delete (?:them|both) with (DELETE FROM pgscore\.error_queue .*)$", out, re.M).group(1)


def test_the_delete_status_gives_clears_the_queue_of_a_profile_table_dropped_and_made_again(shop):
    """Session 66, h7 (review r4's left item): the DELETE pgscore status gave for the queued rows of no wiring that
    nothing can rescore matched by name alone (pg_catalog.to_regclass(profile_table) IS NULL): it left those queued
    for a profile table dropped and made again under its name, which status and health() say nothing can rescore.
    It matches them by their table's OID (migration 0160) too, and leaves the rows of a table still there."""
    queue_tenant_c(shop)
    query(shop, "SELECT pgscore.detach_rescoring('tenant_c.complaints')")
    query(shop, "UPDATE customers SET age = NULL WHERE id = 72")
    attach(shop)
    query(shop, "INSERT INTO complaints (customer_id) VALUES (72)")
    query(shop, "SELECT pgscore.detach_rescoring('complaints')")  # public.customers: still there, taken over later
    query(shop, "DROP TABLE tenant_c.customers")
    query(shop, "CREATE TABLE tenant_c.customers (LIKE public.customers INCLUDING ALL)")
    out = pgscore_cli("status", "--db", shop.dsn).stdout
    assert "; 2 of them belong to no wiring and were queued for a table that was dropped since" in out, out
    query(shop, printed_delete(out))  # as printed
    assert query(shop, "SELECT profile_table, entity_key FROM pgscore.error_queue") == [("public.customers", "72")]


def test_status_says_why_most_of_the_queue_waits(shop):
    """Session 67, trial T23 (h2): the log's volume full, 572 profiles were queued with `53100 ... No space left on
    device`, and pgscore status said how many waited, the oldest and the most tried, not why: the on-call had to
    query the queue to learn the disk was full. It names the SQLSTATE most of them share, how many, and the latest
    reason of it."""
    attach(shop)
    query(shop, "UPDATE customers SET age = NULL WHERE id IN (72, 73)")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (72), (73)")  # 22023: age is NULL
    query(shop, "SELECT pgscore.retire('churn')")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (74)")  # another reason: no live version
    (state, reason), = query(shop, "SELECT sqlstate, reason FROM pgscore.error_queue WHERE entity_key = '73'")
    assert state == "22023" and "'age'" in reason, (state, reason)
    out = pgscore_cli("status", "--db", shop.dsn).stdout
    assert ("error queue: 3 profiles waiting to be rescored, the oldest failed ") in out, out
    assert (f"; see SELECT * FROM pgscore.error_queue; 2 of them with SQLSTATE 22023, the latest: {reason}; once the "
            "cause is fixed: ") in out, out


def test_status_names_the_queue_of_a_profile_table_that_is_gone(shop):
    """Queued errors of no wiring whose profile table no longer exists (a detach, then the table dropped; or left by
    a forget_rescoring before migration 0157): pgscore status said the next attach_rescoring to their profile table
    would take them over, a table that is gone. It says nothing can rescore them and gives the DELETE that clears
    them; the queued errors of a profile table still there keep their hint."""
    queue_tenant_c(shop)
    query(shop, "SELECT pgscore.detach_rescoring('tenant_c.complaints')")
    query(shop, "UPDATE customers SET age = NULL WHERE id = 72")
    attach(shop)
    query(shop, "INSERT INTO complaints (customer_id) VALUES (72)")
    query(shop, "SELECT pgscore.detach_rescoring('complaints')")  # public.customers: still there
    query(shop, "DROP SCHEMA tenant_c CASCADE")
    out = pgscore_cli("status", "--db", shop.dsn).stdout
    assert ("error queue: 3 profiles waiting to be rescored, the oldest failed ") in out, out
    assert ("; 1 of them belong to no wiring that can rescore them (detached, or their event table dropped or "
            "renamed): the next attach_rescoring to their profile table takes them over (a wiring attached before "
            "does not), and retry then rescores them; 2 of them belong to no wiring and name a profile table that no "
            "longer exists (tenant_c.customers): nothing can rescore them, and a table made later under that name "
            "would not take them over (its attach_rescoring deletes them); delete them with DELETE FROM "
            "pgscore.error_queue q WHERE q.rescoring_id IS NULL AND (((SELECT c.oid FROM pg_catalog.pg_class c ") in out, out
    # (review r5 of session 67: not the rows of a table renamed away, which still exists under its OID)
    assert (" IS NULL AND NOT COALESCE(q.queue_oid OPERATOR(pg_catalog.=) 'pgscore.error_queue'::pg_catalog.regclass::pg_catalog.oid "
            "AND ") in out, out
    assert "false)) OR (q.profile_oid IS NOT NULL AND " in out, out
    query(shop, printed_delete(out))  # as printed
    assert query(shop, "SELECT profile_table, entity_key FROM pgscore.error_queue") == [("public.customers", "72")]


def test_the_delete_status_gives_runs_for_an_admin_without_usage_on_the_tenants_schema(shop):
    """Session 65's trial T18 left it: the DELETE pgscore status gives for the queued rows nothing can rescore looked
    their profile table up with to_regclass, which raises 42501 for a pgscore_admin not given USAGE on the tenant's
    schema (the role status itself runs as since session 66): `permission denied for schema tenant_c`. It looks the
    name up in the catalog, as status does, and clears them for such an admin."""
    queue_tenant_c(shop)
    query(shop, "SELECT pgscore.detach_rescoring('tenant_c.complaints')")
    query(shop, "DROP TABLE tenant_c.customers")  # the schema stays, the admin may not use it
    ensure_role(shop, "pgscore_t_tenantless")
    query(shop, "GRANT pgscore_admin TO pgscore_t_tenantless")
    out = pgscore_cli("status", "--db", shop.dsn).stdout
    delete = printed_delete(out)
    query(shop, "SET ROLE pgscore_t_tenantless")
    try:
        assert query(shop, "SELECT has_schema_privilege('tenant_c', 'USAGE')") == [(False,)]
        query(shop, delete)  # as printed
    finally:
        query(shop, "RESET ROLE")
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]


def test_attach_names_a_profile_table_of_another_schema(shop):
    """Session 65, trial T18: a tenant whose customers table was not made yet, wired by unqualified names under
    `SET search_path TO tenant_f, public`, had its events wired to public.customers (another tenant's, or the
    global one) without a word. attach_rescoring says so in a NOTICE, with the detach that undoes it; a wiring
    within one schema says nothing of it."""
    query(shop, "CREATE SCHEMA tenant_f; CREATE TABLE tenant_f.complaints (LIKE public.complaints INCLUDING ALL)")
    query(shop, "SET search_path TO tenant_f, public")
    del shop.notices[:]
    query(shop, ATTACH, GOOD)
    assert query(shop, "SELECT event_table, profile_table FROM pgscore.rescoring") == [
        ("tenant_f.complaints", "public.customers")]
    said = [n for n in shop.notices if "a table of another schema" in n]
    assert said == ["NOTICE:  pgscore: tenant_f.complaints is wired to public.customers, a table of another schema "
                    "(public): its events update and rescore the profiles of public.customers\nHINT:  a table named "
                    "without its schema is the first of that name in the search_path; to wire another, detach this "
                    "wiring (SELECT pgscore.detach_rescoring('tenant_f.complaints', 'public.customers')) and attach again "
                    "naming each table as 'schema.table'\n"], shop.notices
    query(shop, "RESET search_path")
    del shop.notices[:]
    attach(shop)  # public.complaints -> public.customers
    assert not [n for n in shop.notices if "another schema" in n], shop.notices


def test_the_other_schema_notice_detaches_that_wiring_alone(shop):
    """Session 65, review r3: the NOTICE of a profile table of another schema gave detach_rescoring('events') as the
    call that undoes the wiring: without its profile table that call removes every wiring of the event table, here
    the tenant's own one to tenant_f.customers as well. It names the profile table too."""
    query(shop, "CREATE SCHEMA tenant_f; CREATE TABLE tenant_f.complaints (LIKE public.complaints INCLUDING ALL); "
                "CREATE TABLE tenant_f.customers (LIKE public.customers INCLUDING ALL)")
    query(shop, "SET search_path TO tenant_f, public")
    query(shop, ATTACH, GOOD)  # tenant_f.complaints -> tenant_f.customers
    del shop.notices[:]
    query(shop, ATTACH, dict(GOOD, profiles="public.customers"))
    query(shop, "RESET search_path")
    said = [n for n in shop.notices if "a table of another schema" in n]
    assert len(said) == 1, shop.notices
    call = said[0][said[0].index("(SELECT pgscore.detach_rescoring(") + 1:said[0].index(") and attach again")]
    assert query(shop, call) == [(1,)], call
    assert query(shop, "SELECT event_table, profile_table FROM pgscore.rescoring") == [
        ("tenant_f.complaints", "tenant_f.customers")]


def test_a_table_dropped_and_created_again_can_be_attached_again(shop):
    """Dropping a wired event table drops its trigger; attaching the new table of that name replaces the
    wiring left behind (the demo does this each time it runs) and takes over the old wiring's queued errors."""
    rid = attach(shop)
    query(shop, "UPDATE customers SET age = NULL WHERE id = 70")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (70)")  # queued: age is NULL
    query(shop, "DROP TABLE complaints")
    query(shop, "CREATE TABLE complaints (complaint_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
                "customer_id bigint, kind text, created_at timestamptz NOT NULL DEFAULT now())")
    del shop.notices[:]
    new = attach(shop)
    assert new != rid and any(f"wiring {rid} wired a table named public.complaints" in n for n in shop.notices)
    assert query(shop, "SELECT rescoring_id FROM pgscore.rescoring") == [(new,)]
    assert query(shop, "SELECT entity_key, rescoring_id FROM pgscore.error_queue") == [("70", new)]
    before = query(shop, "SELECT support_calls FROM customers WHERE id = 71")[0][0]
    query(shop, "INSERT INTO complaints (customer_id) VALUES (71)")
    assert query(shop, "SELECT support_calls, scored_at IS NOT NULL FROM customers WHERE id = 71") == [(before + 1, True)]
    # a wiring whose trigger is still there is not replaced
    with pytest.raises(errors.DuplicateObject):
        attach(shop)
    # nor one whose table was renamed: a new table of the old name is refused, naming where the trigger is
    query(shop, "ALTER TABLE complaints RENAME TO old_complaints")
    query(shop, "CREATE TABLE complaints (LIKE old_complaints INCLUDING ALL)")
    with pytest.raises(errors.DuplicateObject) as e:
        attach(shop)
    assert "trigger is now on public.old_complaints" in str(e.value)
    assert "detach_rescoring('public.old_complaints')" in str(e.value)
    assert query(shop, "SELECT pgscore.detach_rescoring('old_complaints')") == [(1,)]
    assert attach(shop) > new


def test_retry_failed_survives_a_failing_write(shop):
    attach(shop)
    query(shop, "UPDATE customers SET age = NULL WHERE id = 90")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (90)")
    query(shop, "UPDATE customers SET age = 40 WHERE id = 90")
    query(shop, "ALTER TABLE customers ADD CONSTRAINT low_scores CHECK (churn_score < 0.0001) NOT VALID")
    rid = query(shop, "SELECT rescoring_id FROM pgscore.rescoring")[0][0]
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 0, 1)]
    assert query(shop, "SELECT attempts, sqlstate FROM pgscore.error_queue") == [(2, "23514")]


def test_a_column_added_later_is_seen_by_sessions_that_cached_the_table(db_url, trained):
    model, X, y = trained
    registry.deploy(db_url, "churn", model, X, y, feature_names=CHURN_FEATURES)
    conn = psycopg2.connect(db_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        sample.create_tables(cur)
        sample.load_customers(cur, X[:10])
        cur.execute("ALTER TABLE customers DROP COLUMN age")
    query(conn, ATTACH.replace("%(counters)s::jsonb", "'{}'::jsonb"), {**GOOD, "model": "ghost"})  # attach checks pass
    query(conn, "UPDATE pgscore.rescoring SET model_name = 'churn'")  # now the model needs a column it lacks
    query(conn, "INSERT INTO complaints (customer_id) VALUES (1)")
    assert query(conn, "SELECT sqlstate FROM pgscore.error_queue") == [("42703",)]
    query(conn, "ALTER TABLE customers ADD COLUMN age float8 DEFAULT 40")
    query(conn, "INSERT INTO complaints (customer_id) VALUES (1)")  # same session: the cached columns are refreshed
    assert query(conn, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
    assert_scores_match_model(conn, model, [1])
    conn.close()


@pytest.mark.parametrize("kind", ["linear", "trees"])
def test_features_that_postgres_computes_from_the_counters_are_read_at_their_new_values(db_url, kind):
    """A stored generated column and a column a BEFORE UPDATE trigger sets, both from a counter: the score
    and the audit row are those of the profile as the UPDATE left it (scored in SQL or in Python)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(7)
    X = np.column_stack([rng.integers(0, 10, 800) * 2.0, rng.integers(0, 10, 800) + 100.0, rng.normal(size=800)])
    y = (X[:, 0] + X[:, 1] / 3 + X[:, 2] > 45).astype(int)
    model = (make_pipeline(StandardScaler(), LogisticRegression()) if kind == "linear"
             else HistGradientBoostingClassifier(max_iter=20)).fit(X, y)
    registry.deploy(db_url, "gen", model, X, y, feature_names=["G", "T", "x"])
    conn = psycopg2.connect(db_url)
    conn.autocommit = True
    query(conn, """
        CREATE TABLE prof (id int PRIMARY KEY, cnt int NOT NULL DEFAULT 0,
                           "G" float8 GENERATED ALWAYS AS (cnt * 2) STORED, "T" float8, x float8,
                           score float8, scored_at timestamptz);
        CREATE FUNCTION prof_t() RETURNS trigger LANGUAGE plpgsql AS
          $$ BEGIN NEW."T" := NEW.cnt + 100; RETURN NEW; END $$;
        CREATE TRIGGER prof_t BEFORE INSERT OR UPDATE ON prof FOR EACH ROW EXECUTE FUNCTION prof_t();
        INSERT INTO prof (id, x) SELECT g, g / 10.0 - 1 FROM generate_series(1, 20) g;
        CREATE TABLE ev (id int);
        SELECT pgscore.attach_rescoring('ev', 'prof', 'id', 'gen', 'score', '{"cnt": "count"}');""")
    query(conn, "INSERT INTO ev SELECT 3 FROM generate_series(1, 4)")
    query(conn, "INSERT INTO ev VALUES (5), (7), (7)")
    query(conn, "INSERT INTO ev VALUES (9)")
    rows = query(conn, 'SELECT id, ARRAY["G", "T", x], score FROM prof WHERE id IN (3, 5, 7, 9) ORDER BY id')
    assert [r[1][:2] for r in rows] == [[8, 104], [2, 101], [4, 102], [2, 101]]
    want = model.predict_proba(np.array([r[1] for r in rows]))[:, 1]
    assert np.max(np.abs(np.array([r[2] for r in rows]) - want)) < 1e-9
    logged = query(conn, "SELECT entity_key::int, features, score FROM pgscore.prediction_log "
                         "WHERE source = 'trigger' ORDER BY logged_at, entity_key")
    last = {k: (f, s) for k, f, s in logged}
    assert {k: (f, s) for k, f, s in ((r[0], r[1], r[2]) for r in rows)} == last
    conn.close()


def _deploy_gen(db_url, kind):
    """The model 'gen' of features G (a counter's double, computed by PostgreSQL) and x, deployed: a logistic
    pipeline (scored in SQL) or a HistGradientBoosting model (in Python)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(9)
    X = np.column_stack([rng.integers(0, 10, 800) * 2.0, rng.normal(size=800)])
    y = (X[:, 0] / 4 + X[:, 1] > 2).astype(int)
    model = (make_pipeline(StandardScaler(), LogisticRegression()) if kind == "linear"
             else HistGradientBoostingClassifier(max_iter=20)).fit(X, y)
    registry.deploy(db_url, "gen", model, X, y, feature_names=["G", "x"])
    return model


@pytest.mark.parametrize("kind", ["linear", "trees"])
def test_a_computed_profile_whose_event_fails_a_counter_leaves_the_others_rescored(db_url, kind):
    """A profile table whose columns PostgreSQL computes (its features read from the counters' UPDATE): an event
    whose counter expression raises queues its profile alone, naming the event; the others are scored."""
    model = _deploy_gen(db_url, kind)
    conn = psycopg2.connect(db_url)
    conn.autocommit = True
    query(conn, """
        CREATE TABLE prof (id int PRIMARY KEY, cnt int NOT NULL DEFAULT 0,
                           "G" float8 GENERATED ALWAYS AS (cnt * 2) STORED, x float8,
                           score float8, scored_at timestamptz);
        INSERT INTO prof (id, x) SELECT g, g / 10.0 - 1 FROM generate_series(1, 9) g;
        CREATE TABLE ev (eid serial, id int, d int DEFAULT 1);
        SELECT pgscore.attach_rescoring('ev', 'prof', 'id', 'gen', 'score', '{"cnt": {"add": "1 / e.d"}}',
                                        p_event_id_column => 'eid');""")
    query(conn, "INSERT INTO ev (id, d) VALUES (3, 1), (5, 1), (5, 0), (7, 1)")
    rows = query(conn, 'SELECT id, cnt, ARRAY["G", x], score FROM prof WHERE id IN (3, 5, 7) ORDER BY id')
    assert [(r[0], r[1]) for r in rows] == [(3, 1), (5, 0), (7, 1)]
    (key, state, reason), = query(conn, "SELECT entity_key, sqlstate, reason FROM pgscore.error_queue")
    assert (key, state) == ("5", "22012") and reason.startswith(
        'counter cnt ({"add": "1 / e.d"}) failed on event eid 3: division by zero; no counter changed'), reason
    good = [r for r in rows if r[0] != 5]
    want = model.predict_proba(np.array([r[2] for r in good]))[:, 1]
    assert np.max(np.abs(np.array([r[3] for r in good]) - want)) < 1e-9
    assert rows[1][3] is None
    conn.close()


@pytest.mark.parametrize("kind", ["linear", "trees"])
def test_a_computed_profile_whose_counters_fail_leaves_the_others_rescored(db_url, kind):
    """A profile table whose columns PostgreSQL computes: where one profile's counters break a constraint,
    that profile is queued for it and the statement's other profiles take their counters and are scored
    on the rows those counters left (not queued for another profile's reason)."""
    model = _deploy_gen(db_url, kind)
    conn = psycopg2.connect(db_url)
    conn.autocommit = True
    query(conn, """
        CREATE TABLE prof (id int PRIMARY KEY, cnt int NOT NULL DEFAULT 0,
                           "G" float8 GENERATED ALWAYS AS (cnt * 2) STORED, x float8,
                           score float8, scored_at timestamptz, CHECK (id <> 5 OR cnt < 2));
        INSERT INTO prof (id, x) SELECT g, g / 10.0 - 1 FROM generate_series(1, 9) g;
        CREATE TABLE ev (eid serial, id int);
        SELECT pgscore.attach_rescoring('ev', 'prof', 'id', 'gen', 'score', '{"cnt": "count"}',
                                        p_event_id_column => 'eid');""")
    query(conn, "INSERT INTO ev (id) VALUES (5)")
    query(conn, "INSERT INTO ev (id) VALUES (3), (5), (7), (7)")
    assert query(conn, "SELECT count(*) FROM ev") == [(5,)]  # the events are kept
    rows = query(conn, 'SELECT id, cnt, ARRAY["G", x], score FROM prof WHERE id IN (3, 5, 7) ORDER BY id')
    assert [(r[0], r[1]) for r in rows] == [(3, 1), (5, 1), (7, 2)]
    want = model.predict_proba(np.array([r[2] for r in rows]))[:, 1]
    assert np.max(np.abs(np.array([r[3] for r in rows]) - want)) < 1e-9  # 5 as its first event left it
    assert query(conn, "SELECT entity_key, sqlstate FROM pgscore.error_queue") == [("5", "23514")]
    logged = query(conn, "SELECT entity_key, cause->'event_ids' FROM pgscore.prediction_log "
                         "WHERE source = 'trigger' ORDER BY logged_at, entity_key")
    assert logged == [("5", [1]), ("3", [2]), ("7", [4, 5])]
    conn.close()


@pytest.mark.parametrize("kind", ["linear", "trees"])
def test_a_computed_profile_whose_text_cell_is_no_number_is_queued_alone(db_url, kind):
    """A profile table whose columns PostgreSQL computes: the features are read from the rows the counters'
    UPDATE leaves. One profile's text cell that is no number failed the statement's first read, and every
    profile of the statement was queued ('reading the profiles failed'), none scored. Now it alone is queued,
    with its own reason (found by the read of the rows the UPDATE left, in parts); all take their counters,
    the others are scored."""
    model = _deploy_gen(db_url, kind)
    conn = psycopg2.connect(db_url)
    conn.autocommit = True
    query(conn, """
        CREATE TABLE prof (id int PRIMARY KEY, cnt int NOT NULL DEFAULT 0,
                           "G" float8 GENERATED ALWAYS AS (cnt * 2) STORED, x text,
                           score float8, scored_at timestamptz);
        INSERT INTO prof (id, x) SELECT g, CASE WHEN g = 5 THEN 'n/a' ELSE (g / 10.0 - 1)::text END
        FROM generate_series(1, 9) g;
        CREATE TABLE ev (eid serial, id int);
        SELECT pgscore.attach_rescoring('ev', 'prof', 'id', 'gen', 'score', '{"cnt": "count"}',
                                        p_event_id_column => 'eid');""")
    query(conn, "INSERT INTO ev (id) VALUES (3), (5), (7), (7)")
    (key, state, reason), = query(conn, "SELECT entity_key, sqlstate, reason FROM pgscore.error_queue")
    assert (key, state) == ("5", "22P02") and "got 'n/a' (key '5'" in reason, reason
    rows = query(conn, 'SELECT id, cnt, ARRAY["G", x::float8], score FROM prof WHERE id IN (3, 7) ORDER BY id')
    assert [(r[0], r[1]) for r in rows] == [(3, 1), (7, 2)]
    want = model.predict_proba(np.array([r[2] for r in rows]))[:, 1]
    assert np.max(np.abs(np.array([r[3] for r in rows]) - want)) < 1e-9
    assert query(conn, "SELECT cnt, score FROM prof WHERE id = 5") == [(1, None)]
    assert query(conn, "SELECT entity_key FROM pgscore.prediction_log WHERE source = 'trigger' "
                       "ORDER BY entity_key") == [("3",), ("7",)]
    conn.close()

def test_a_before_trigger_created_after_the_wiring_was_read_is_seen_at_the_next_statement(db_url):
    """The wiring is cached per session: a BEFORE UPDATE trigger created later (the column it sets a feature)
    is found at the next INSERT of the same session, by the statement that scores in SQL too."""
    rng = np.random.default_rng(8)
    X = np.column_stack([rng.integers(0, 10, 500) + 100.0, rng.normal(size=500)])
    y = (X[:, 0] / 3 + X[:, 1] > 35).astype(int)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    registry.deploy(db_url, "late", model, X, y, feature_names=["t", "x"])
    conn = psycopg2.connect(db_url)
    conn.autocommit = True
    query(conn, """
        CREATE TABLE prof (id int PRIMARY KEY, cnt int NOT NULL DEFAULT 0, t float8 NOT NULL DEFAULT 100, x float8,
                           score float8, scored_at timestamptz);
        INSERT INTO prof (id, x) SELECT g, g / 10.0 - 1 FROM generate_series(1, 20) g;
        CREATE TABLE ev (id int);
        SELECT pgscore.attach_rescoring('ev', 'prof', 'id', 'late', 'score', '{"cnt": "count"}');""")
    query(conn, "INSERT INTO ev VALUES (2)")  # the wiring read, with no trigger
    query(conn, """CREATE FUNCTION prof_t() RETURNS trigger LANGUAGE plpgsql AS
                     $$ BEGIN NEW.t := NEW.cnt + 100; RETURN NEW; END $$;
                   CREATE TRIGGER prof_t BEFORE UPDATE ON prof FOR EACH ROW EXECUTE FUNCTION prof_t();""")
    query(conn, "INSERT INTO ev VALUES (2), (2)")
    query(conn, "INSERT INTO ev VALUES (4)")
    rows = query(conn, "SELECT ARRAY[t, x], score FROM prof WHERE id IN (2, 4) ORDER BY id")
    assert [r[0][0] for r in rows] == [103, 101]
    want = model.predict_proba(np.array([r[0] for r in rows]))[:, 1]
    assert np.max(np.abs(np.array([r[1] for r in rows]) - want)) < 1e-9
    conn.close()


@pytest.fixture
def clerk(shop):
    """A role of the app's (pgscore_app) that may insert complaints; SET ROLE to it on `shop`, reset after."""
    ensure_role(shop, "pgscore_t_clerk")
    query(shop, "GRANT pgscore_app TO pgscore_t_clerk; GRANT SELECT, INSERT ON complaints TO pgscore_t_clerk")
    yield "pgscore_t_clerk"
    query(shop, "RESET ROLE")
    query(shop, "DROP OWNED BY pgscore_t_clerk")


def test_a_role_without_pgscore_app_inserting_into_a_wired_table_is_told_what_it_needs(shop):
    """Rescoring reads its wiring from pgscore's schema as the inserting role: one granted the event and
    profile tables but not pgscore_app fails the INSERT (42501), with a hint naming the role to grant."""
    attach(shop)
    ensure_role(shop, "pgscore_t_plain")
    query(shop, "GRANT SELECT, INSERT ON complaints TO pgscore_t_plain; "
                "GRANT SELECT, INSERT, UPDATE ON customers TO pgscore_t_plain")
    try:
        query(shop, "SET ROLE pgscore_t_plain")
        with pytest.raises(errors.InsufficientPrivilege) as e:
            query(shop, "INSERT INTO complaints (customer_id) VALUES (5)")
    finally:
        query(shop, "RESET ROLE")
        query(shop, "DROP OWNED BY pgscore_t_plain; DROP ROLE pgscore_t_plain")
    assert "public.complaints is wired to rescore profiles (wiring 1), and the role inserting into it cannot " \
        "read the wiring: permission denied for schema pgscore; the events were not inserted" in e.value.pgerror, \
        e.value.pgerror
    assert "GRANT pgscore_app TO pgscore_t_plain" in e.value.diag.message_hint
    assert query(shop, "SELECT count(*) FROM complaints") == [(0,)]


def test_a_role_that_cannot_write_the_counters_fails_the_insert(shop, clerk):
    """Events whose counters cannot be written are refused, not committed and queued: retry_failed only
    rescores, so their counters would be lost (non-strict wirings too)."""
    attach(shop)
    query(shop, f"GRANT SELECT ON customers TO {clerk}")  # no UPDATE
    (calls,), = query(shop, "SELECT support_calls FROM customers WHERE id = 5")
    query(shop, f"SET ROLE {clerk}")
    with pytest.raises(errors.InsufficientPrivilege) as e:
        query(shop, "INSERT INTO complaints (customer_id) VALUES (5), (5)")
    query(shop, "RESET ROLE")
    assert "rescoring public.customers for public.complaints failed: permission denied for table customers" in e.value.pgerror
    assert "needs SELECT and UPDATE on public.customers" in e.value.diag.message_hint
    # the sample wiring's window counter recounts the event table: its SELECT is named too
    assert "SELECT on public.complaints (a counter recounts it)" in e.value.diag.message_hint
    assert query(shop, "SELECT count(*) FROM complaints") == [(0,)]
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
    query(shop, f"GRANT UPDATE ON customers TO {clerk}")
    query(shop, f"SET ROLE {clerk}")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (5), (5)")
    query(shop, "RESET ROLE")
    assert query(shop, "SELECT support_calls FROM customers WHERE id = 5") == [(calls + 2,)]


def test_a_profile_that_row_level_security_hides_fails_the_insert(shop, clerk):
    """The 'create' rule cannot create a profile that exists and that a policy hides from the inserting role,
    nor count into it: the INSERT fails (42501), with none of its events kept."""
    attach(shop)
    query(shop, f"GRANT SELECT, INSERT, UPDATE ON customers TO {clerk}; "
                "ALTER TABLE customers ENABLE ROW LEVEL SECURITY; "
                f"CREATE POLICY see ON customers FOR SELECT TO {clerk} USING (id <> 7); "
                f"CREATE POLICY upd ON customers FOR UPDATE TO {clerk} USING (id <> 7); "
                f"CREATE POLICY ins ON customers FOR INSERT TO {clerk} WITH CHECK (true)")
    query(shop, f"SET ROLE {clerk}")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (6)")  # seen: counted
    with pytest.raises(errors.InsufficientPrivilege) as e:
        query(shop, "INSERT INTO complaints (customer_id) VALUES (6), (7)")
    query(shop, "RESET ROLE")
    # (PostgreSQL refuses the rule's INSERT of the hidden key: 'new row violates row-level security policy')
    assert "rescoring public.customers for public.complaints failed: " in e.value.pgerror
    hint = e.value.diag.message_hint or ""  # the policy, not a grant, as the reason
    assert "a row-level security policy on public.customers keeps the role inserting into public.complaints " \
        "from writing the profiles its events name" in hint and "needs SELECT" not in hint, hint
    assert query(shop, "SELECT customer_id FROM complaints") == [(6,)]


@pytest.mark.parametrize("missing_profile", ["create", "queue"])
@pytest.mark.parametrize("counters", ["window", "count"])
def test_a_profile_the_role_sees_but_a_policy_keeps_it_from_updating_fails_the_insert(shop, clerk, counters,
                                                                                       missing_profile):
    """A policy for UPDATE narrower than the one for SELECT: the role reads profile 7 but cannot count into
    it (the lock and the UPDATE skip it, silently). Its events would commit with no counter, no score and
    nothing queued; the INSERT fails instead (42501), naming the key, and keeps none of its events."""
    spec = {"support_calls": "count"} if counters == "count" else None
    attach(shop, missing_profile=missing_profile, **({"counters": spec} if spec else {}))
    query(shop, f"GRANT SELECT, INSERT, UPDATE ON customers TO {clerk}; "
                "ALTER TABLE customers ENABLE ROW LEVEL SECURITY; "
                f"CREATE POLICY see ON customers FOR SELECT TO {clerk} USING (true); "
                f"CREATE POLICY upd ON customers FOR UPDATE TO {clerk} USING (id <> 7); "
                f"CREATE POLICY ins ON customers FOR INSERT TO {clerk} WITH CHECK (true)")
    before = profiles(shop, [6, 7])
    query(shop, f"SET ROLE {clerk}")
    for values in ("(7)", "(6), (7)"):
        with pytest.raises(errors.InsufficientPrivilege) as e:
            query(shop, f"INSERT INTO complaints (customer_id) VALUES {values}")
        assert ("public.customers has a row with id 7 that the role inserting the events may read but not update "
                "(row-level security)") in e.value.pgerror, e.value.pgerror
        assert "a policy for UPDATE" in e.value.diag.message_hint
    query(shop, "INSERT INTO complaints (customer_id) VALUES (6)")  # updatable: counted as usual
    query(shop, "RESET ROLE")
    assert query(shop, "SELECT customer_id FROM complaints") == [(6,)]
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
    after = profiles(shop, [6, 7])
    assert after[7] == before[7]
    assert after[6][1] == before[6][1] + 1


def test_with_the_queue_rule_a_profile_that_row_level_security_hides_is_queued_as_missing(shop, clerk):
    """'queue' creates nothing, so a profile a policy hides looks missing to the inserting role: its events are
    kept, its key queued (P0002) with no counter changed; retry_failed by a role that sees it rescores it
    (recounting the window from the event table)."""
    rid = attach(shop, missing_profile="queue")
    query(shop, f"GRANT SELECT, UPDATE ON customers TO {clerk}; ALTER TABLE customers ENABLE ROW LEVEL SECURITY; "
                f"CREATE POLICY see ON customers FOR SELECT TO {clerk} USING (id <> 7); "
                f"CREATE POLICY upd ON customers FOR UPDATE TO {clerk} USING (id <> 7)")
    (calls, window), = query(shop, "SELECT support_calls, complaints_30d FROM customers WHERE id = 7")
    query(shop, f"SET ROLE {clerk}")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (6), (7)")
    query(shop, "RESET ROLE")
    assert query(shop, "SELECT customer_id FROM complaints ORDER BY 1") == [(6,), (7,)]
    assert query(shop, "SELECT entity_key, sqlstate FROM pgscore.error_queue") == [("7", "P0002")]
    assert query(shop, "SELECT support_calls, complaints_30d FROM customers WHERE id = 7") == [(calls, window)]
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 1, 0)]
    assert query(shop, "SELECT support_calls, complaints_30d FROM customers WHERE id = 7") == [(calls, window + 1)]


@pytest.mark.parametrize("on", ["events", "profiles"])
def test_a_key_with_a_nondeterministic_collation_is_refused_at_attach(shop, on):
    """'B100' and 'b100' equal under a case-insensitive collation are two keys as text (the queue, the log):
    such a key column is refused, naming the collation, with nothing attached."""
    query(shop, "CREATE COLLATION IF NOT EXISTS ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)")
    query(shop, f"""CREATE TABLE named (name text {'COLLATE ci' if on == 'profiles' else ''} PRIMARY KEY,
                                        churn_score float8, scored_at timestamptz, n int);
                    CREATE TABLE calls (name text {'COLLATE ci' if on == 'events' else ''})""")
    with pytest.raises(psycopg2.errors.FeatureNotSupported) as e:
        query(shop, "SELECT pgscore.attach_rescoring('calls', 'named', 'name', 'nobody', 'churn_score', "
                    "'{\"n\": \"count\"}')")
    table = "named" if on == "profiles" else "calls"
    assert f"{table}.name has the nondeterministic collation ci" in e.value.pgerror
    assert 'COLLATE "C"' in e.value.diag.message_hint
    assert query(shop, "SELECT count(*) FROM pgscore.rescoring") == [(0,)]
    query(shop, "ALTER TABLE named ALTER COLUMN name TYPE text COLLATE \"C\"; "
                "ALTER TABLE calls ALTER COLUMN name TYPE text COLLATE \"default\"")
    with pytest.raises(psycopg2.errors.IndeterminateCollation) as e:  # two collations: no comparison at all
        query(shop, "SELECT pgscore.attach_rescoring('calls', 'named', 'name', 'nobody', 'churn_score', "
                    "'{\"n\": \"count\"}')")
    assert 'calls.name has the collation "default" and public.named.name "C"' in e.value.pgerror
    query(shop, "ALTER TABLE calls ALTER COLUMN name TYPE text COLLATE \"C\"")
    query(shop, "SELECT pgscore.attach_rescoring('calls', 'named', 'name', 'nobody', 'churn_score', '{\"n\": \"count\"}')")


def test_keys_become_text_the_same_way_whatever_the_sessions_datestyle(db_url):
    """A date key queued under DateStyle 'SQL, DMY' is read back by retry_failed under ISO as the same day
    (it was 04/03/2002, read as 2002-04-03: another customer rescored, the queued one never)."""
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0, 0, 1, 1])
    conn = psycopg2.connect(db_url)
    conn.autocommit = True
    query(conn, """
        CREATE TABLE dprof (d date PRIMARY KEY, n int NOT NULL DEFAULT 0, x float8 NOT NULL DEFAULT 1,
                            score float8, scored_at timestamptz);
        INSERT INTO dprof (d) VALUES ('2002-03-04'), ('2002-04-03');
        CREATE TABLE dev (d date);
        SELECT pgscore.attach_rescoring('dev', 'dprof', 'd', 'dated', 'score', '{"n": "count"}');""")
    query(conn, "SET DateStyle = 'SQL, DMY'")
    query(conn, "INSERT INTO dev VALUES ('2002-03-04'::date)")  # no model yet: queued
    query(conn, "RESET DateStyle")
    assert query(conn, "SELECT entity_key FROM pgscore.error_queue") == [("2002-03-04",)]
    registry.deploy(db_url, "dated", LogisticRegression().fit(X, y), X, y, feature_names=["x"])
    query(conn, "SET DateStyle = 'SQL, DMY'")
    (rid, rescored, failed), = query(conn, "SELECT * FROM pgscore.retry_failed()")
    query(conn, "RESET DateStyle")
    assert (rescored, failed) == (1, 0)
    assert query(conn, "SELECT d::text, n, score IS NOT NULL FROM dprof ORDER BY d") == \
        [("2002-03-04", 1, True), ("2002-04-03", 0, False)]
    assert query(conn, "SELECT entity_key FROM pgscore.prediction_log WHERE source = 'retry'") == [("2002-03-04",)]
    query(conn, "SET DateStyle = 'SQL, DMY'")  # predict_batch's keys, too
    assert query(conn, "SELECT key FROM pgscore.predict_batch('dated', 'SELECT d, x FROM dprof ORDER BY d')") == \
        [("2002-03-04",), ("2002-04-03",)]
    conn.close()


def test_status_quotes_a_score_column_that_needs_it(db_url):
    query(db_url, 'CREATE TABLE named (name text PRIMARY KEY, "Churn Score" float8, scored_at timestamptz, n int); '
                  "CREATE TABLE calls (name text)")
    (rid,), = query(db_url, "SELECT pgscore.attach_rescoring('calls', 'named', 'name', 'nobody', 'Churn Score', "
                            "'{\"n\": \"count\"}')")
    out = pgscore_cli("status", "--db", db_url).stdout
    assert f'  wiring {rid}: public.calls -> public.named."Churn Score", model nobody (no live version)' in out, out


def test_a_before_trigger_on_a_partition_of_the_profiles_is_seen(db_url):
    """A BEFORE UPDATE trigger on one partition of a partitioned profile table (not on the parent) fires for the
    counters' UPDATE too: the features it sets are read at their new values."""
    rng = np.random.default_rng(9)
    X = np.column_stack([rng.integers(0, 10, 500) + 100.0, rng.normal(size=500)])
    y = (X[:, 0] / 3 + X[:, 1] > 35).astype(int)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    registry.deploy(db_url, "parted", model, X, y, feature_names=["t", "x"])
    query(db_url, """
        CREATE TABLE prof (id int PRIMARY KEY, cnt int NOT NULL DEFAULT 0, t float8 NOT NULL DEFAULT 100, x float8,
                           score float8, scored_at timestamptz) PARTITION BY RANGE (id);
        CREATE TABLE prof_lo PARTITION OF prof FOR VALUES FROM (0) TO (10);
        CREATE TABLE prof_hi PARTITION OF prof FOR VALUES FROM (10) TO (100);
        CREATE FUNCTION prof_t() RETURNS trigger LANGUAGE plpgsql AS
          $$ BEGIN NEW.t := NEW.cnt + 100; RETURN NEW; END $$;
        CREATE TRIGGER prof_t BEFORE UPDATE ON prof_lo FOR EACH ROW EXECUTE FUNCTION prof_t();
        INSERT INTO prof (id, x) SELECT g, g / 10.0 - 1 FROM generate_series(1, 20) g;
        CREATE TABLE ev (id int);
        SELECT pgscore.attach_rescoring('ev', 'prof', 'id', 'parted', 'score', '{"cnt": "count"}');
        INSERT INTO ev VALUES (2), (2), (15);""")
    rows = query(db_url, "SELECT ARRAY[t, x], score FROM prof WHERE id IN (2, 15) ORDER BY id")
    assert [r[0][0] for r in rows] == [102, 100]
    want = model.predict_proba(np.array([r[0] for r in rows]))[:, 1]
    assert np.max(np.abs(np.array([r[1] for r in rows]) - want)) < 1e-9


@pytest.mark.parametrize("kind", ["linear", "trees"])
def test_a_partition_added_later_with_a_before_trigger_is_seen_by_a_session_that_cached_the_wiring(db_url, kind):
    """The profile table's partitions are read with the wiring, which is cached per session: a partition
    attached later, with a BEFORE UPDATE trigger that sets a feature, is found at the next INSERT of the
    same session (the statement that scores in SQL too), and its profiles scored at their new values."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(9)
    X = np.column_stack([rng.integers(0, 10, 500) + 100.0, rng.normal(size=500)])
    y = (X[:, 0] / 3 + X[:, 1] > 35).astype(int)
    model = (make_pipeline(StandardScaler(), LogisticRegression()) if kind == "linear"
             else HistGradientBoostingClassifier(max_iter=20)).fit(X, y)
    registry.deploy(db_url, "parted", model, X, y, feature_names=["t", "x"])
    conn = psycopg2.connect(db_url)
    conn.autocommit = True
    query(conn, """
        CREATE TABLE prof (id int PRIMARY KEY, cnt int NOT NULL DEFAULT 0, t float8 NOT NULL DEFAULT 100, x float8,
                           score float8, scored_at timestamptz) PARTITION BY RANGE (id);
        CREATE TABLE prof_lo PARTITION OF prof FOR VALUES FROM (0) TO (100);
        INSERT INTO prof (id, x) SELECT g, g / 10.0 - 1 FROM generate_series(1, 20) g;
        CREATE TABLE ev (id int);
        SELECT pgscore.attach_rescoring('ev', 'prof', 'id', 'parted', 'score', '{"cnt": "count"}');""")
    query(conn, "INSERT INTO ev VALUES (2)")  # the wiring read (and cached), with one partition and no trigger
    query(conn, """CREATE TABLE prof_hi PARTITION OF prof FOR VALUES FROM (100) TO (200);
                   CREATE FUNCTION prof_t() RETURNS trigger LANGUAGE plpgsql AS
                     $$ BEGIN NEW.t := NEW.cnt + 100; RETURN NEW; END $$;
                   CREATE TRIGGER prof_t BEFORE UPDATE ON prof_hi FOR EACH ROW EXECUTE FUNCTION prof_t();
                   INSERT INTO prof (id, x) VALUES (150, 0.5), (160, -0.5);""")
    query(conn, "INSERT INTO ev VALUES (150), (150)")
    query(conn, "INSERT INTO ev VALUES (160)")
    rows = query(conn, "SELECT ARRAY[t, x], score FROM prof WHERE id IN (2, 150, 160) ORDER BY id")
    assert [r[0][0] for r in rows] == [100, 102, 101]
    want = model.predict_proba(np.array([r[0] for r in rows]))[:, 1]
    assert np.max(np.abs(np.array([r[1] for r in rows]) - want)) < 1e-9
    conn.close()


def test_a_profile_key_whose_type_changed_since_the_wiring_was_read_is_counted(shop):
    """int to bigint, the usual migration, after this backend read the wiring (its statements cast keys to
    the key's type): a key past int4's range is counted and queued for its own reason, not lost to an
    overflow of the old type (counters are not replayed by retry_failed)."""
    query(shop, "CREATE TABLE p1 (LIKE customers INCLUDING DEFAULTS); ALTER TABLE p1 ALTER COLUMN id TYPE int, "
                "ADD PRIMARY KEY (id); INSERT INTO p1 SELECT * FROM customers WHERE id <= 20; "
                "CREATE TABLE e1 (eid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, cid int)")
    query(shop, "SELECT pgscore.attach_rescoring('e1', 'p1', 'cid', 'churn', 'churn_score', "
                "'{\"support_calls\": \"count\"}', p_profile_key => 'id')")
    query(shop, "INSERT INTO e1 (cid) VALUES (1)")  # the wiring read, and kept by this backend
    query(shop, "ALTER TABLE e1 ALTER COLUMN cid TYPE bigint; ALTER TABLE p1 ALTER COLUMN id TYPE bigint")
    query(shop, "UPDATE p1 SET id = 3000000002 WHERE id = 2")
    (calls,), = query(shop, "SELECT support_calls FROM p1 WHERE id = 3000000002")
    query(shop, "INSERT INTO e1 (cid) VALUES (3000000000), (3000000002)")  # one created (its features NULL), one found
    assert query(shop, "SELECT id, support_calls FROM p1 WHERE id > 2147483647 ORDER BY id") == [
        (3000000000, 1), (3000000002, calls + 1)]
    assert query(shop, "SELECT entity_key, sqlstate FROM pgscore.error_queue") == [("3000000000", "22023")]
    (score,), = query(shop, "SELECT churn_score FROM p1 WHERE id = 3000000002")
    assert score == query(shop, "SELECT pgscore.score('churn', ARRAY[%s]::float8[]) FROM p1 WHERE id = 3000000002"
                          % ", ".join(CHURN_FEATURES))[0][0]


@pytest.mark.parametrize("key_type", ["float8", "numeric(12,2)"])
def test_queued_keys_are_cleared_by_the_retry_that_rescores_them(shop, key_type):
    """A key queues and clears as the same text whatever its type: 5 is '5' for a float8 key (Python's
    str gave '5.0', which nothing cleared: retried and logged again at every retry_failed), and an event's
    42 queued for a missing numeric(12,2) profile is the profile 42.00 once it exists (the retry called it
    missing, P0002, and kept it queued)."""
    query(shop, f"CREATE TABLE pf (LIKE customers INCLUDING DEFAULTS); ALTER TABLE pf ALTER COLUMN id TYPE {key_type}, "
                "ADD PRIMARY KEY (id); INSERT INTO pf SELECT * FROM customers WHERE id <= 10; "
                "CREATE TABLE ef (cid int)")
    rid, = query(shop, "SELECT pgscore.attach_rescoring('ef', 'pf', 'cid', 'churn', 'churn_score', "
                       "'{\"support_calls\": \"count\"}', p_profile_key => 'id', p_missing_profile => 'queue')")[0]
    feature = CHURN_FEATURES[0]
    query(shop, f"UPDATE pf SET {feature} = NULL WHERE id = 5")
    query(shop, "INSERT INTO ef (cid) VALUES (5), (42)")
    queued = dict(query(shop, "SELECT entity_key, sqlstate FROM pgscore.error_queue"))
    assert queued == {query(shop, "SELECT id::text FROM pf WHERE id = 5")[0][0]: "22023", "42": "P0002"}
    query(shop, f"UPDATE pf SET {feature} = 1 WHERE id = 5; UPDATE pf SET id = 42 WHERE id = 6")
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 2, 0)]
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == []
    assert query(shop, "SELECT count(*) FROM pgscore.prediction_log WHERE source = 'retry'") == [(2,)]
    assert query(shop, "SELECT count(*) FROM pf WHERE id IN (5, 42) AND churn_score IS NOT NULL") == [(2,)]


def test_a_profile_table_swapped_in_under_its_name_is_read_afresh(shop):
    """A profile table rebuilt and renamed into the wired one's name (create, copy, drop, rename) after this
    backend read the wiring: its BEFORE UPDATE trigger is seen, and the score is the model's on the row the
    trigger leaves, not on the one before it (the wiring looked for triggers on the dropped table)."""
    attach(shop)
    query(shop, "INSERT INTO complaints (customer_id) VALUES (1)")  # the wiring read, and kept by this backend
    query(shop, "CREATE TABLE customers_new (LIKE customers INCLUDING ALL); "
                "INSERT INTO customers_new SELECT * FROM customers; "
                "CREATE FUNCTION loyal() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN NEW.tenure_months := 99; RETURN NEW; END $$; "
                "CREATE TRIGGER loyal BEFORE UPDATE ON customers_new FOR EACH ROW EXECUTE FUNCTION loyal(); "
                "DROP TABLE customers; ALTER TABLE customers_new RENAME TO customers")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (5)")
    (tenure, stored, calls), = query(shop, "SELECT tenure_months, churn_score, support_calls FROM customers "
                                           "WHERE id = 5")
    assert tenure == 99
    (want,), = query(shop, "SELECT pgscore.score('churn', ARRAY[%s]::float8[]) FROM customers WHERE id = 5"
                     % ", ".join(CHURN_FEATURES))
    assert stored == want


def test_a_profile_queued_under_its_event_key_and_its_own_is_rescored_and_cleared_once(shop):
    """numeric(12,2) profiles, int events: 42 queued while the profile was missing, then 42.00 for a value the
    model refuses; once both are fixed, one retry rescores the profile once (one audit row) and clears both.
    That audit row names the events of both queue rows (the one cleared as a duplicate gave its ids up)."""
    query(shop, "CREATE TABLE pn (LIKE customers INCLUDING DEFAULTS); ALTER TABLE pn ALTER COLUMN id TYPE "
                "numeric(12,2), ADD PRIMARY KEY (id); INSERT INTO pn SELECT * FROM customers WHERE id <= 10; "
                "CREATE TABLE en (event_id int PRIMARY KEY, cid int)")
    rid, = query(shop, "SELECT pgscore.attach_rescoring('en', 'pn', 'cid', 'churn', 'churn_score', "
                       "'{\"support_calls\": \"count\"}', p_profile_key => 'id', p_missing_profile => 'queue')")[0]
    query(shop, "INSERT INTO en (event_id, cid) VALUES (7, 42)")
    query(shop, f"UPDATE pn SET id = 42, {CHURN_FEATURES[0]} = 'Infinity' WHERE id = 6")
    query(shop, "INSERT INTO en (event_id, cid) VALUES (8, 42)")
    assert dict(query(shop, "SELECT entity_key, sqlstate FROM pgscore.error_queue")) == {"42": "P0002",
                                                                                         "42.00": "22023"}
    query(shop, f"UPDATE pn SET {CHURN_FEATURES[0]} = 1 WHERE id = 42")
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 1, 0)]
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == []
    assert query(shop, "SELECT entity_key, cause -> 'queued_event_ids', cause -> 'queued_events' FROM "
                       "pgscore.prediction_log WHERE source = 'retry'") == [("42.00", [7, 8], 2)]
    assert query(shop, "SELECT rescoring_id FROM pgscore.rescoring WHERE profile_table = 'public.pn'") == [(rid,)]


def test_array_profile_keys_keep_the_counters_of_the_profiles_that_take_them(shop):
    """int[] keys, no live model (counters only), one profile whose counter overflows: the others are counted
    in parts (the keyed statement cast keys to int4[][] and failed for all of them)."""
    query(shop, "CREATE TABLE pa (LIKE customers INCLUDING DEFAULTS); ALTER TABLE pa ALTER COLUMN id TYPE int[] "
                "USING ARRAY[id::int], ALTER COLUMN support_calls TYPE numeric(3,0), ADD PRIMARY KEY (id); "
                "INSERT INTO pa SELECT * FROM (SELECT ARRAY[id::int], tenure_months, monthly_charges, 1, "
                "complaints_30d, late_payments, data_usage_gb, contract_months, age, num_products, discount_pct, "
                "days_since_last_login, satisfaction, last_complaint_at, churn_score, scored_at FROM customers "
                "WHERE id <= 3) s; UPDATE pa SET support_calls = 999 WHERE id = '{2}'; CREATE TABLE ea (cid int[])")
    query(shop, "SELECT pgscore.attach_rescoring('ea', 'pa', 'cid', 'churn', 'churn_score', "
                "'{\"support_calls\": \"count\"}', p_profile_key => 'id')")
    query(shop, "SELECT pgscore.retire('churn')")
    query(shop, "INSERT INTO ea (cid) VALUES ('{1}'), ('{2}'), ('{3}')")
    assert query(shop, "SELECT id::text, support_calls FROM pa ORDER BY id") == [("{1}", 2), ("{2}", 999), ("{3}", 2)]
    # all three queued (no live model; the first reason is the queue row's), and {2}'s count alone lost
    assert query(shop, "SELECT entity_key FROM pgscore.error_queue ORDER BY 1") == [("{1}",), ("{2}",), ("{3}",)]


def test_attach_names_a_constraint_and_a_collation_as_sql_writes_them(shop):
    """attach_rescoring's refusals of a deferrable key and of a key's collation named the constraint and the
    collation bare (`constraint (Id Again)`, `collation Case Blind`): quoted as SQL writes them now."""
    query(shop, 'ALTER TABLE customers ADD CONSTRAINT "Id Again" UNIQUE (id) DEFERRABLE')
    with pytest.raises(psycopg2.Error) as e:
        attach(shop)
    assert e.value.diag.message_primary.startswith(
        'pgscore: public.customers.id has a DEFERRABLE unique constraint ("Id Again"): '), e.value.diag.message_primary
    assert 'drop "Id Again" and add it again' in e.value.diag.message_hint, e.value.diag.message_hint
    query(shop, "CREATE COLLATION \"Case Blind\" (provider = icu, locale = 'und-u-ks-level2', deterministic = false); "
                'CREATE COLLATION "Plain C" FROM "C"; '
                'CREATE TABLE named (name text COLLATE "Case Blind" PRIMARY KEY, churn_score float8, scored_at timestamptz, '
                'n int); '
                "CREATE TABLE calls (name text)")
    wire = "SELECT pgscore.attach_rescoring('calls', 'named', 'name', 'nobody', 'churn_score', '{\"n\": \"count\"}')"
    with pytest.raises(errors.FeatureNotSupported) as e:
        query(shop, wire)
    assert e.value.diag.message_primary.startswith(
        'pgscore: public.named.name has the nondeterministic collation "Case Blind": '), e.value.diag.message_primary
    query(shop, 'ALTER TABLE named ALTER COLUMN name TYPE text COLLATE "Plain C"')
    with pytest.raises(errors.IndeterminateCollation) as e:
        query(shop, wire)
    assert e.value.diag.message_primary.startswith(
        'pgscore: public.calls.name has the collation "default" and public.named.name "Plain C": '), \
        e.value.diag.message_primary


def test_a_deferrable_profile_key_is_refused_with_the_create_rule_and_wired_with_queue(shop):
    """Missing profiles are created by INSERT ... ON CONFLICT, which cannot use a deferrable unique index
    (also beside an immediate one on the same column): with 'create', every new profile would be queued
    forever, so attach refuses it; 'queue' creates nothing and is wired."""
    query(shop, "ALTER TABLE customers ADD CONSTRAINT id_again UNIQUE (id) DEFERRABLE")
    with pytest.raises(psycopg2.Error) as e:
        attach(shop)
    assert e.value.pgcode == "42P10", e.value.pgerror
    assert "public.customers.id has a DEFERRABLE unique constraint (id_again)" in e.value.pgerror
    assert "p_missing_profile => 'queue'" in (e.value.diag.message_hint or "")
    assert query(shop, "SELECT count(*) FROM pgscore.rescoring") == [(0,)]
    attach(shop, missing_profile="queue")
    (calls,), = query(shop, "SELECT support_calls FROM customers WHERE id = 7")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (7), (5000)")
    assert query(shop, "SELECT support_calls FROM customers WHERE id = 7") == [(calls + 1,)]
    assert query(shop, "SELECT entity_key, sqlstate FROM pgscore.error_queue") == [("5000", "P0002")]


def test_keys_of_a_type_without_equality_are_refused_saying_so(shop):
    """json keys on both sides: no = operator for json at all; the error says so, and does not tell to give
    both columns the same type, which they have."""
    query(shop, "CREATE TABLE pj (k json, churn_score float8, scored_at timestamptz); CREATE TABLE ej (k json)")
    with pytest.raises(psycopg2.errors.DatatypeMismatch) as e:
        query(shop, "SELECT pgscore.attach_rescoring('ej', 'pj', 'k', 'churn', 'churn_score')")
    assert "public.ej.k and public.pj.k are json, a type PostgreSQL has no equality operator for" in e.value.pgerror
    assert "jsonb for json" in e.value.diag.message_hint and "ALTER" not in e.value.diag.message_hint


def test_a_timestamptz_profile_key_is_attached_with_a_warning_about_time_zones(shop):
    """A timestamptz key's text (the log's, the queue's, record_outcome's) carries the writer's TimeZone: the
    wiring is made, with a WARNING that says so."""
    query(shop, "CREATE TABLE pt (k timestamptz PRIMARY KEY, features float8[], churn_score float8, "
                "scored_at timestamptz); CREATE TABLE et (k timestamptz)")
    shop.notices.clear()
    query(shop, "SELECT pgscore.attach_rescoring('et', 'pt', 'k', 'churn', 'churn_score')")
    assert any("public.pt.k is timestamptz: its key is logged, queued and matched to outcomes as text" in n
               for n in shop.notices), shop.notices


@pytest.mark.parametrize("clearing", ["retry", "next event, in SQL", "next event, in Python"])
def test_events_whose_rescoring_failed_are_named_by_the_audit_row_that_rescores_them(shop, trained, clearing):
    """Events inserted while the model is retired are counted and their profiles queued; the queue row names
    them (cause->'event_ids', across the statements that queued it), and the audit row of the rescoring that
    clears it names them as queued_event_ids: retry_failed's, or the next event's (scored in SQL, or in
    Python), beside its own event_ids. So every event is named by one audit row."""
    model, X, y = trained
    attach(shop)
    if clearing == "next event, in Python":  # a version SQL does not score: the read, score and write path
        from sklearn.ensemble import RandomForestClassifier
        registry.deploy(shop.dsn, "churn", RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y), X, y,
                        feature_names=CHURN_FEATURES)
    live, = query(shop, "SELECT version FROM pgscore.live_models WHERE name = 'churn'")[0]
    query(shop, "SELECT pgscore.retire('churn')")
    failed = [query(shop, "INSERT INTO complaints (customer_id) VALUES (5), (5) RETURNING complaint_id"),
              query(shop, "INSERT INTO complaints (customer_id) VALUES (5) RETURNING complaint_id")]
    failed = sorted(r[0] for rows in failed for r in rows)
    (ids, n), = query(shop, "SELECT cause->'event_ids', cause->'events' FROM pgscore.error_queue WHERE entity_key = '5'")
    assert ids == failed and n == 3
    query(shop, "SELECT pgscore.activate('churn', %s)", (live,))
    if clearing == "retry":
        query(shop, "SELECT * FROM pgscore.retry_failed()")
        (cause,), = query(shop, "SELECT cause FROM pgscore.prediction_log WHERE source = 'retry'")
        assert cause["queued_event_ids"] == failed and cause["queued_events"] == 3 and "event_ids" not in cause
    else:
        (new,), = query(shop, "INSERT INTO complaints (customer_id) VALUES (5) RETURNING complaint_id")
        (cause,), = query(shop, "SELECT cause FROM pgscore.prediction_log WHERE source = 'trigger' AND entity_key = '5'")
        assert cause["event_ids"] == [new] and cause["queued_event_ids"] == failed and cause["queued_events"] == 3
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
    # every event named once, by event_ids or queued_event_ids
    named = query(shop, "SELECT x::bigint FROM pgscore.prediction_log l, jsonb_array_elements(coalesce(l.cause->"
                        "'event_ids', '[]') || coalesce(l.cause->'queued_event_ids', '[]')) x")
    assert sorted(r[0] for r in named) == [r[0] for r in query(shop, "SELECT complaint_id FROM complaints ORDER BY 1")]


def test_a_queue_row_keeps_the_first_thousand_event_ids_and_counts_them_all(shop):
    """A profile that fails for a long time under many events: its queue row names the first 1,000 of them,
    not an ever longer list rewritten at each failure, and counts every one (`events`), which the audit row
    that clears it gives as `queued_events`: the events no audit row names are counted, not lost from view."""
    attach(shop)
    live, = query(shop, "SELECT version FROM pgscore.live_models WHERE name = 'churn'")[0]
    query(shop, "SELECT pgscore.retire('churn')")
    query(shop, "INSERT INTO complaints (customer_id) SELECT 5 FROM generate_series(1, 1001)")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (5)")
    (n, first, last, events), = query(shop, "SELECT jsonb_array_length(cause->'event_ids'), cause->'event_ids'->0, "
                                            "cause->'event_ids'->-1, cause->'events' FROM pgscore.error_queue")
    (lo,), = query(shop, "SELECT min(complaint_id) FROM complaints")
    assert (n, first, last, events) == (1000, lo, lo + 999, 1002)
    # a count edited by hand into something else does not stop the profile's next failures being queued
    for odd in ('"x"', "1e19", "null"):
        query(shop, f"UPDATE pgscore.error_queue SET cause = cause || jsonb_build_object('events', '{odd}'::jsonb)")
        query(shop, "INSERT INTO complaints (customer_id) VALUES (5)")
    query(shop, "UPDATE pgscore.error_queue SET cause = cause || '{\"events\": 1002}'")
    query(shop, "SELECT pgscore.activate('churn', %s)", (live,))
    query(shop, "SELECT * FROM pgscore.retry_failed()")
    (cause,), = query(shop, "SELECT cause FROM pgscore.prediction_log WHERE source = 'retry'")
    assert len(cause["queued_event_ids"]) == 1000 and cause["queued_events"] == 1002


def test_a_missing_profile_whose_event_key_the_profile_key_cannot_read_is_queued_with_its_events(shop):
    """An event key column altered after the wiring (bigint to numeric): a key 42.5 names no profile, and the
    profile key's type cannot read it. It is queued as missing, with its event's id, as before the queue
    named events (the queue statement failed on the cast, and the wiring was called broken)."""
    query(shop, "CREATE TABLE ev2 (eid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer_id bigint)")
    query(shop, "SELECT pgscore.attach_rescoring('ev2', 'customers', 'customer_id', 'churn', 'churn_score', "
                "'{\"support_calls\": \"count\"}', p_profile_key => 'id', p_missing_profile => 'queue')")
    query(shop, "ALTER TABLE ev2 ALTER COLUMN customer_id TYPE numeric")
    (calls,), = query(shop, "SELECT support_calls FROM customers WHERE id = 3")
    query(shop, "INSERT INTO ev2 (customer_id) VALUES (42.5), (3)")
    rows = query(shop, "SELECT entity_key, sqlstate, reason, cause->'event_ids' FROM pgscore.error_queue")
    assert len(rows) == 1 and rows[0][:2] == ("42.5", "P0002") and "has no row with this id" in rows[0][2], rows
    assert rows[0][3] == [1]
    assert query(shop, "SELECT support_calls FROM customers WHERE id = 3") == [(calls + 1,)]


def test_a_wiring_that_cannot_run_queues_its_profiles_with_their_events(shop):
    """A counter column renamed after attaching (the wiring's statements cannot be made): the profiles are
    queued with the ids of their events, which the rescoring that clears them names later."""
    attach(shop)
    query(shop, "ALTER TABLE customers RENAME COLUMN support_calls TO calls")
    ids = sorted(r[0] for r in query(shop, "INSERT INTO complaints (customer_id) VALUES (4), (4) RETURNING complaint_id"))
    assert query(shop, "SELECT entity_key, sqlstate, cause->'event_ids' FROM pgscore.error_queue") == [("4", "42703", ids)]


@pytest.mark.parametrize("fast", [True, False], ids=["scored-in-sql", "scored-in-python"])
def test_a_profile_table_with_inheritance_children_counts_and_scores_its_own_rows(shop, trained, fast):
    """A profile table that others inherit from (an archive of old customers, say): its unique key covers its
    own rows only, and a child's row of the same key was counted and scored as well (UPDATE without ONLY).
    Rescoring and score_table touch the table's own rows; the child's stay as they were."""
    model, X, y = trained
    if not fast:  # a model SQL does not score: the profiles are read into Python and written back
        from sklearn.ensemble import RandomForestClassifier

        model = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
        registry.deploy(shop.dsn, "churn", model, X, y, feature_names=CHURN_FEATURES)
    query(shop, "CREATE TABLE archived (archived_on date) INHERITS (customers)")
    shop.notices.clear()
    attach(shop)
    assert any("public.customers has inheritance children (public.archived): rescoring counts and scores "
               "public.customers's own rows only, and an event whose key has a row in a child alone creates a row "
               "of that key in public.customers" in n for n in shop.notices), shop.notices
    query(shop, "INSERT INTO archived SELECT * FROM ONLY customers WHERE id <= 5")  # same keys, other rows
    query(shop, "UPDATE archived SET support_calls = 100, churn_score = -1")
    before = dict(query(shop, "SELECT id, support_calls FROM ONLY customers WHERE id <= 3"))
    query(shop, "INSERT INTO complaints (customer_id) VALUES (1), (2), (2), (3)")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (3)")  # a single-row statement too
    after = dict(query(shop, "SELECT id, support_calls FROM ONLY customers WHERE id <= 3"))
    assert {k: after[k] - before[k] for k in after} == {1: 1, 2: 2, 3: 2}
    assert query(shop, "SELECT id, support_calls, churn_score FROM archived ORDER BY id") == \
        [(i, 100, -1.0) for i in range(1, 6)]
    assert query(shop, "SELECT count(*) FROM pgscore.prediction_log WHERE source = 'trigger'") == [(4,)]
    rows = query(shop, f"SELECT ARRAY[{', '.join(CHURN_FEATURES)}]::float8[], churn_score FROM ONLY customers "
                       "WHERE id <= 3 ORDER BY id")
    want = model.predict_proba(np.array([r[0] for r in rows], dtype=float))[:, 1]
    assert np.max(np.abs(np.array([r[1] for r in rows]) - want)) < 1e-9
    n_rows = query(shop, "SELECT count(*) FROM ONLY customers")[0][0]
    query(shop, "CALL pgscore.score_table('churn', 'customers', 'id', 'churn_score', p_chunk_size => 7)")
    assert query(shop, "SELECT count(DISTINCT entity_key), count(*) FROM pgscore.prediction_log "
                       "WHERE source = 'batch'") == [(n_rows, n_rows)]
    assert query(shop, "SELECT count(*) FROM archived WHERE churn_score <> -1 OR support_calls <> 100") == [(0,)]


def test_attach_without_the_scored_at_column_says_how_to_add_it(shop):
    """The scored_at column missing: the hint gives the column to add, and the other way (no time kept)."""
    with pytest.raises(psycopg2.Error) as e:
        query(shop, "SELECT pgscore.attach_rescoring('complaints', 'customers', 'customer_id', 'churn', 'churn_score', "
                    "p_profile_key => 'id', p_scored_at_column => 'last_scored')")
    assert e.value.pgcode == "42703" and "has no column 'last_scored' (the scored_at column)" in e.value.pgerror
    hint = e.value.diag.message_hint or ""
    assert "ALTER TABLE public.customers ADD COLUMN last_scored timestamptz" in hint, hint
    assert "p_scored_at_column => NULL" in hint, hint
    query(shop, "ALTER TABLE customers ADD COLUMN last_scored timestamptz")  # as the hint says
    query(shop, "SELECT pgscore.attach_rescoring('complaints', 'customers', 'customer_id', 'churn', 'churn_score', "
                "p_profile_key => 'id', p_scored_at_column => 'last_scored')")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (4)")
    assert query(shop, "SELECT last_scored IS NOT NULL FROM customers WHERE id = 4") == [(True,)]


def test_a_foreign_key_to_the_profiles_does_not_block_rescoring(shop):
    """A transaction that inserts a row referencing a profile (a foreign key's check: FOR KEY SHARE on it)
    does not hold up the rescoring of that profile, which locks it as an UPDATE that keeps its key does (FOR
    NO KEY UPDATE); with FOR UPDATE every INSERT for the profile waited for that transaction to end, and the
    two deadlocked when it inserted an event for the profile too."""
    attach(shop)
    query(shop, "CREATE TABLE tickets (id serial PRIMARY KEY, customer_id int REFERENCES customers (id))")
    other = psycopg2.connect(shop.dsn)
    try:
        with other.cursor() as cur:  # left open: its foreign key check holds customer 5 FOR KEY SHARE
            cur.execute("INSERT INTO tickets (customer_id) VALUES (5)")
        (calls,), = query(shop, "SELECT support_calls FROM customers WHERE id = 5")
        query(shop, "SET lock_timeout = '2s'")
        for values in ("(5)", "(5), (6)"):  # one profile (the statement without the lock first), and two
            query(shop, f"INSERT INTO complaints (customer_id) VALUES {values}")
        with other.cursor() as cur:  # and the other transaction's own event for it
            cur.execute("SET lock_timeout = '2s'")
            cur.execute("INSERT INTO complaints (customer_id) VALUES (5)")
        other.commit()
    finally:
        other.close()
        query(shop, "RESET lock_timeout")
    assert query(shop, "SELECT support_calls FROM customers WHERE id = 5") == [(calls + 3,)]


def test_attach_to_profiles_partitioned_by_another_column_says_what_can_be_wired(shop):
    """A profile table partitioned by another column than its key has no unique index of the key alone, which
    PostgreSQL cannot make either: the hint says what can be wired, not to score partitions or use
    predict_batch (the write-back's way out)."""
    query(shop, "CREATE TABLE pcust (id bigint, region int NOT NULL DEFAULT 1, support_calls int, churn_score float8, "
                "scored_at timestamptz, PRIMARY KEY (id, region)) PARTITION BY LIST (region); "
                "CREATE TABLE pcust_1 PARTITION OF pcust FOR VALUES IN (1)")
    with pytest.raises(psycopg2.Error) as e:
        query(shop, "SELECT pgscore.attach_rescoring('complaints', 'pcust', 'customer_id', 'churn', 'churn_score', "
                    "'{\"support_calls\": \"count\"}', p_profile_key => 'id')")
    hint = e.value.diag.message_hint or ""
    assert e.value.pgcode == "42P10" and "public.pcust is partitioned by region" in hint, hint
    assert "wire a profile table partitioned by id alone (PARTITION BY HASH (id), say)" in hint, hint
    assert "predict_batch" not in hint and "CREATE UNIQUE INDEX ON public.pcust" not in hint, hint


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "America/New_York", "Pacific/Chatham"])
def test_a_window_over_times_without_zone_counts_them_in_the_zone_it_names(shop, trained, zone):
    """A window counter over a `timestamp` (or `date`) column compared it with now() in the TimeZone of the
    session that inserted: the same events counted in another window from each zone (times written in UTC,
    an event 2 hours inside the 30 days was left out from Asia/Kolkata, one 2 hours outside counted from
    America/New_York). With "zone" the column's times are read in that zone whatever the session's."""
    model, X, y = trained
    query(shop, "ALTER TABLE complaints ALTER COLUMN created_at TYPE timestamp USING created_at AT TIME ZONE 'UTC', "
                "ALTER COLUMN created_at SET DEFAULT now() AT TIME ZONE 'UTC'")
    query(shop, ATTACH, {**GOOD, "counters": json.dumps(
        {"support_calls": "count", "complaints_30d": {"window": "30 days", "time": "created_at", "zone": "UTC"}})})
    utc = "(now() AT TIME ZONE 'UTC')"
    query(shop, "SELECT set_config('TimeZone', %s, false)", (zone,))
    query(shop, f"INSERT INTO complaints (customer_id, created_at) VALUES (9, {utc} - interval '30 days 2 hours'), "
                f"(9, {utc} - interval '29 days 22 hours'), (10, {utc} - interval '30 days 2 hours')")
    query(shop, f"INSERT INTO complaints (customer_id, created_at) VALUES (11, {utc} - interval '29 days 22 hours')")
    query(shop, "RESET TimeZone")
    got = query(shop, "SELECT id, complaints_30d FROM customers WHERE id IN (9, 10, 11) ORDER BY id")
    want = query(shop, "SELECT c.id, (SELECT count(*) FROM complaints e WHERE e.customer_id = c.id AND "
                       f"e.created_at > {utc} - interval '30 days')::float8 FROM customers c "
                       "WHERE c.id IN (9, 10, 11) ORDER BY c.id")
    assert got == want == [(9, 1.0), (10, 0.0), (11, 1.0)]
    assert_scores_match_model(shop, model, [9, 10, 11])
    # retry_failed's recount reads them in the zone too
    query(shop, "SELECT pgscore.retire('churn')")
    query(shop, "SELECT set_config('TimeZone', %s, false)", (zone,))
    query(shop, f"INSERT INTO complaints (customer_id, created_at) VALUES (12, {utc} - interval '29 days 22 hours'), "
                f"(12, {utc} - interval '30 days 2 hours')")
    query(shop, "UPDATE customers SET complaints_30d = 7 WHERE id = 12")
    query(shop, "SELECT pgscore.activate('churn', 1)")
    assert query(shop, "SELECT rescored, failed FROM pgscore.retry_failed()") == [(1, 0)]
    query(shop, "RESET TimeZone")
    assert query(shop, "SELECT complaints_30d FROM customers WHERE id = 12") == [(1.0,)]


def test_a_window_zone_is_checked_when_attaching(shop):
    """An unknown zone is refused naming the counter; a zone over a timestamptz column (whose times are
    instants already) is refused; a timestamp or date column without one is taken with a WARNING that
    says the session's TimeZone reads it."""
    def counters(rule):
        return {**GOOD, "counters": json.dumps({"complaints_30d": rule})}
    with pytest.raises(psycopg2.Error) as e:
        query(shop, ATTACH, counters({"window": "30 days", "time": "created_at", "zone": "Mars/Olympus"}))
    assert e.value.pgcode == "22023" and "counter 'complaints_30d'" in e.value.pgerror, e.value.pgerror
    with pytest.raises(psycopg2.Error) as e:
        query(shop, ATTACH, counters({"window": "30 days", "time": "created_at", "zone": "UTC"}))
    assert e.value.pgcode == "22023" and "timestamptz" in e.value.pgerror, e.value.pgerror
    with pytest.raises(psycopg2.Error) as e:
        query(shop, ATTACH, counters({"window": "30 days", "time": "created_at", "zone": ""}))
    assert e.value.pgcode == "22023"
    query(shop, "ALTER TABLE complaints ALTER COLUMN created_at TYPE date")
    shop.notices.clear()
    query(shop, ATTACH, counters({"window": "30 days", "time": "created_at"}))
    said = "".join(shop.notices)
    assert "WARNING:" in said and '"zone"' in said and "TimeZone" in said, said


def test_a_counter_into_a_column_its_values_do_not_go_into_is_refused_naming_both(shop):
    """Each counter kind into a column of a type its values do not go into is refused up front (42804), naming
    the counter, its rule, the column, its type, the values' type and what the kind takes: a count into a text
    column said only PostgreSQL's "COALESCE types text and integer cannot be matched", a max into one "GREATEST
    types ...", and a window into a text or varchar column was taken without a word (its counts then written
    as text: '10' sorts before '9'). Columns that fit (a domain over bigint, an integer for a bigint aggregate,
    a text column for a text max) are taken as before; nothing is left of a refused one."""
    query(shop, "CREATE DOMAIN tally AS bigint; CREATE DOMAIN tally2 AS tally; ALTER TABLE customers "
                "ADD COLUMN t text, ADD COLUMN v varchar(8), ADD COLUMN b boolean, ADD COLUMN i integer, "
                "ADD COLUMN d tally2, ADD COLUMN at2 timestamptz")
    for column, rule, said in (
            ("t", "count", "counter 't' (\"count\") counts events into public.customers.t, which is text: a count "
                           "counter takes a column of a number type"),
            ("b", "count", "counter 'b' (\"count\") counts events into public.customers.b, which is boolean: a count "
                           "counter takes a column of a number type"),
            ("t", {"add": "1.5"}, "counter 't' ({\"add\": \"1.5\"}) adds up numbers into public.customers.t, which is "
                                  "text: an add counter takes a column of a number type"),
            ("v", {"window": "30 days", "time": "created_at"},
             "counter 'v' ({\"window\": \"30 days\", \"time\": \"created_at\"}) counts events into public.customers.v, "
             "which is character varying(8): a window counter takes a column of a number type"),
            ("t", {"max": "e.complaint_id"}, "counter 't' ({\"max\": \"e.complaint_id\"}) computes bigint values and "
                                             "public.customers.t is text: a max counter takes a column of its values' "
                                             "type, which GREATEST compares them with"),
            ("at2", {"min": "e.complaint_id"}, "counter 'at2' ({\"min\": \"e.complaint_id\"}) computes bigint values "
                                               "and public.customers.at2 is timestamp with time zone: a min counter "
                                               "takes a column of its values' type, which LEAST compares them with"),
            ("i", {"set": "string_agg(e.kind, ',')"}, "counter 'i' ({\"set\": \"string_agg(e.kind, ',')\"}) computes "
                                                      "text values and public.customers.i is integer: a set counter "
                                                      "takes a column its aggregate's values are assigned to"),
            ("b", {"recompute": "max(e.created_at)"}, "counter 'b' ({\"recompute\": \"max(e.created_at)\"}) computes "
                                                      "timestamp with time zone values and public.customers.b is "
                                                      "boolean: a recompute counter takes a column its aggregate's "
                                                      "values are assigned to")):
        with pytest.raises(psycopg2.Error) as e:
            query(shop, ATTACH, {**GOOD, "counters": json.dumps({column: rule})})
        assert e.value.pgcode == "42804", (rule, e.value.pgerror)
        assert e.value.diag.message_primary == f"pgscore: {said}", e.value.diag.message_primary
        if isinstance(rule, dict) and set(rule) <= {"max", "min", "set", "recompute"}:
            assert e.value.diag.message_detail.startswith("PostgreSQL: "), e.value.diag.message_detail
        else:
            assert "number types: smallint, integer, bigint" in e.value.diag.message_detail
        assert "ALTER TABLE public.customers ALTER COLUMN" in e.value.diag.message_hint
        assert query(shop, "SELECT count(*) FROM pgscore.rescoring") == [(0,)]
        assert query(shop, "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'complaints'::regclass "
                           "AND NOT tgisinternal") == [(0,)]
    query(shop, ATTACH, {**GOOD, "counters": json.dumps({
        "d": "count", "i": {"window": "30 days", "time": "created_at"}, "t": {"max": "e.kind"},
        "v": {"set": "max(e.kind)"}})})
    query(shop, "INSERT INTO complaints (customer_id, kind) VALUES (3, 'network'), (3, 'billing')")
    assert query(shop, "SELECT d, i, t, v FROM customers WHERE id = 3") == [(2, 2, "network", "network")]


def test_a_counter_of_times_in_no_zone_into_a_column_of_instants_is_taken_with_a_warning(shop):
    """A counter's own expression of `timestamp` values (or `date`) written into a `timestamptz` column is
    cast in each inserting session's TimeZone, as the window's time column is counted (which warns): the same
    event's time written hours apart from two sessions; and a `timestamptz` one into a `timestamp` column is
    written as each session's wall-clock time. attach_rescoring says so, naming the counter and both types,
    with the fix; an expression that names its zone, or of the column's own kind, is taken without a word.
    Before, only the window warned: {"max": "created_at"} over a timestamp column said nothing."""
    def counters(rule, column="last_complaint_at"):
        return {**GOOD, "counters": json.dumps({"support_calls": "count", column: rule})}
    query(shop, "ALTER TABLE complaints ALTER COLUMN created_at TYPE timestamp")
    for rule in ({"max": "created_at"}, {"min": "created_at::date"}, {"recompute": "max(e.created_at)"},
                 {"last": "e.created_at", "by": "e.complaint_id"}):
        shop.notices.clear()
        query(shop, ATTACH, counters(rule))
        query(shop, "SELECT pgscore.detach_rescoring('complaints')")
        said = [n for n in shop.notices if "counter 'last_complaint_at'" in n]
        assert len(said) == 1, shop.notices
        assert "values and public.customers.last_complaint_at is timestamp with time zone" in said[0], said
        assert "in the TimeZone of each session that inserts" in said[0] and "AT TIME ZONE 'UTC'" in said[0], said
        if "by" in rule:  # (the fix keeps a last counter's order)
            assert '{"last": "(e.created_at) AT TIME ZONE \'UTC\'", "by": "e.complaint_id"}' in said[0], said
    # as the warning says: one wall-clock time, written from two zones, is two instants hours apart
    query(shop, ATTACH, counters({"max": "created_at"}))
    query(shop, "SET TimeZone = 'Asia/Kolkata'")
    query(shop, "INSERT INTO complaints (customer_id, created_at) VALUES (5, '2030-01-01 00:00')")
    query(shop, "RESET TimeZone")
    query(shop, "INSERT INTO complaints (customer_id, created_at) VALUES (6, '2030-01-01 00:00')")
    assert query(shop, "SELECT max(last_complaint_at) FILTER (WHERE id = 6) - max(last_complaint_at) FILTER "
                       "(WHERE id = 5) FROM customers") == [(datetime.timedelta(hours=5, minutes=30),)]
    query(shop, "SELECT pgscore.detach_rescoring('complaints')")
    # its zone named (the hint's fix), or an instant into an instant: nothing said
    for rule in ({"max": "created_at AT TIME ZONE 'UTC'"}, {"recompute": "max(e.created_at) AT TIME ZONE 'UTC'"}):
        shop.notices.clear()
        query(shop, ATTACH, counters(rule))
        query(shop, "SELECT pgscore.detach_rescoring('complaints')")
        # (the history warning names every counter of new events alone, this one too: not a time zone's)
        assert not [n for n in shop.notices if "last_complaint_at" in n
                    and "inserted before the wiring" not in n], shop.notices
    # the other way round: instants into a column of wall-clock times
    query(shop, "ALTER TABLE complaints ALTER COLUMN created_at TYPE timestamptz; "
                "ALTER TABLE customers ALTER COLUMN last_complaint_at TYPE timestamp")
    shop.notices.clear()
    query(shop, ATTACH, counters({"max": "created_at"}))
    said = [n for n in shop.notices if "counter 'last_complaint_at'" in n]
    assert len(said) == 1 and "computes timestamp with time zone values and public.customers.last_complaint_at " \
        "is timestamp without time zone" in said[0], shop.notices
    assert "ALTER TABLE public.customers ALTER COLUMN last_complaint_at TYPE timestamptz" in said[0], said


def test_a_scored_at_column_without_time_zone_is_written_in_utc_whatever_the_sessions_zone(shop, db_url, trained):
    """Session 66's trial T21 (a team in Sydney, Berlin and New York) left it: now() written into a `timestamp`
    scored_at column was the wall-clock time of each writing session's TimeZone, so one column held Sydney's and New
    York's times, 16 hours apart for one instant (attach_rescoring warned of it), and score_table's scored-at column
    likewise. Such a column is written as UTC's wall clock now, by the trigger and by score_table from every zone,
    and the count of profiles another version scored (stale_scores: rollback, activate, status) reads it as UTC."""
    from sklearn.ensemble import RandomForestClassifier

    from pgscore import stale_scores

    query(shop, "ALTER TABLE customers ALTER COLUMN scored_at TYPE timestamp, ADD COLUMN batch_at timestamp")
    shop.notices.clear()
    attach(shop)
    said = "".join(shop.notices)
    assert ("NOTICE:  pgscore: public.customers.scored_at is timestamp without time zone: the time each profile is "
            "scored is written into it as UTC's wall clock, whatever the TimeZone of the session that inserts") \
        in said, said
    assert "ALTER TABLE public.customers ALTER COLUMN scored_at TYPE timestamptz" in said, said
    utc = ("SELECT id, abs(extract(epoch FROM {} - (now() AT TIME ZONE 'UTC'))) < 60 FROM customers "
           "WHERE id = ANY(%s) ORDER BY id")
    for zone, key in (("Australia/Sydney", 9), ("America/New_York", 10), ("Asia/Kolkata", 11)):
        query(shop, "SET TimeZone = %s", (zone,))
        query(shop, "INSERT INTO complaints (customer_id) VALUES (%s)", (key,))
    query(shop, "RESET TimeZone")
    assert query(shop, utc.format("scored_at"), ([9, 10, 11],)) == [(9, True), (10, True), (11, True)]
    # score_table from Sydney: its own scored-at column, and the wiring's it stamps
    query(shop, "SET TimeZone = 'Australia/Sydney'")
    query(shop, "CALL pgscore.score_table('churn', 'customers', 'id', 'churn_score', p_scored_at_into => 'batch_at')")
    query(shop, "CALL pgscore.score_table('churn', 'customers', 'id', 'churn_score')")  # stamps scored_at (v1)
    query(shop, "RESET TimeZone")
    assert query(shop, "SELECT count(*) FILTER (WHERE NOT ok), count(*) FROM (" + utc.format("batch_at") + ") s(id, ok)",
                 (list(range(1, N_CUSTOMERS + 1)),)) == [(0, N_CUSTOMERS)]
    assert query(shop, "SELECT count(*) FILTER (WHERE NOT ok), count(*) FROM (" + utc.format("scored_at") + ") s(id, ok)",
                 (list(range(1, N_CUSTOMERS + 1)),)) == [(0, N_CUSTOMERS)]
    model, X, y = trained
    v2 = RandomForestClassifier(n_estimators=10, max_depth=5, random_state=0).fit(X, y)
    registry.deploy(shop.dsn, "churn", v2, X, y, feature_names=CHURN_FEATURES)  # v2 live: every profile v1's
    conn = psycopg2.connect(db_url)
    try:
        with conn.cursor() as cur:  # (a UTC session counts the profiles Sydney's score_table stamped)
            said = stale_scores.counts(cur, "churn")
        assert [(s["stale"], s["why"]) for s in said] == [(N_CUSTOMERS, None)], said
    finally:
        conn.close()


def test_a_scored_at_column_retyped_after_this_session_read_its_wiring_is_written_as_its_new_type(shop):
    """Review r5 of session 67: the statements that write a `timestamp` scored_at column as UTC's wall clock are
    made for the column's type as the wiring (and score_table's plans) were read, and kept by the backend: after
    `ALTER ... TYPE timestamptz` (attach_rescoring's own hint) a session that had rescored before wrote UTC's wall
    clock into the timestamptz, read in its TimeZone: from Sydney, every profile stamped 11 hours in the past, until
    the connection ended (a pool's lives for days); and the other way, the session's wall clock into a timestamp. The
    scored_at column's type is checked as the key's is (retyped), and score_table's plans are kept by it."""
    query(shop, "ALTER TABLE customers ALTER COLUMN scored_at TYPE timestamp, ADD COLUMN batch_at timestamp")
    attach(shop)
    near = ("SELECT id, abs(extract(epoch FROM {} - {})) < 60 FROM customers WHERE id = ANY(%s) ORDER BY id")
    query(shop, "SET TimeZone = 'Australia/Sydney'")
    try:
        query(shop, "INSERT INTO complaints (customer_id) VALUES (9)")  # (the wiring read by this backend)
        query(shop, "CALL pgscore.score_table('churn', 'customers', 'id', 'churn_score', p_scored_at_into => 'batch_at')")
        assert query(shop, near.format("scored_at", "(now() AT TIME ZONE 'UTC')"), ([9],)) == [(9, True)]
        query(shop, "ALTER TABLE customers ALTER COLUMN scored_at TYPE timestamptz USING scored_at AT TIME ZONE 'UTC', "
                    "ALTER COLUMN batch_at TYPE timestamptz USING batch_at AT TIME ZONE 'UTC'")
        query(shop, "INSERT INTO complaints (customer_id) VALUES (10)")
        query(shop, "CALL pgscore.score_table('churn', 'customers', 'id', 'churn_score', p_scored_at_into => 'batch_at')")
        assert query(shop, near.format("scored_at", "now()"), ([9, 10],)) == [(9, True), (10, True)]
        assert query(shop, near.format("batch_at", "now()"), ([9, 10],)) == [(9, True), (10, True)]
        query(shop, "ALTER TABLE customers ALTER COLUMN scored_at TYPE timestamp USING scored_at AT TIME ZONE 'UTC', "
                    "ALTER COLUMN batch_at TYPE timestamp USING batch_at AT TIME ZONE 'UTC'")
        query(shop, "INSERT INTO complaints (customer_id) VALUES (11)")
        query(shop, "CALL pgscore.score_table('churn', 'customers', 'id', 'churn_score', p_scored_at_into => 'batch_at')")
        assert query(shop, near.format("scored_at", "(now() AT TIME ZONE 'UTC')"), ([9, 10, 11],)) == [
            (9, True), (10, True), (11, True)]
        assert query(shop, near.format("batch_at", "(now() AT TIME ZONE 'UTC')"), ([9, 10, 11],)) == [
            (9, True), (10, True), (11, True)]
    finally:
        query(shop, "RESET TimeZone")


def test_a_window_across_a_dst_change_is_the_same_from_every_time_zone(shop, trained):
    """now() - '31 days' is computed in the session's TimeZone: across a DST change a window counted from
    America/New_York (or Pacific/Chatham) began an hour before or after the one counted from UTC, so an event
    near its edge counted from one session and not from the other. Windows over timestamptz are days of 24
    hours now, as the monitoring windows are (migration 0036)."""
    model, X, y = trained
    for zone in ("America/New_York", "Pacific/Chatham"):
        # the first window of whole days from now whose start is across a DST change of the zone
        (days,), = query(shop, "SELECT min(n) FROM generate_series(1, 400) AS n WHERE "
                               "(now() AT TIME ZONE %s) - make_interval(days => n) <> "
                               "((now() AT TIME ZONE 'UTC' - make_interval(days => n)) AT TIME ZONE 'UTC') "
                               "AT TIME ZONE %s", (zone, zone))
        query(shop, "SELECT pgscore.detach_rescoring('complaints') FROM pgscore.rescoring")
        query(shop, "TRUNCATE complaints")
        query(shop, "UPDATE customers SET complaints_30d = NULL WHERE id IN (9, 10)")
        query(shop, ATTACH, {**GOOD, "counters": json.dumps(
            {"support_calls": "count", "complaints_30d": {"window": f"{days} days", "time": "created_at"}})})
        start = f"((now() AT TIME ZONE 'UTC' - interval '{days} days') AT TIME ZONE 'UTC')"
        query(shop, "SELECT set_config('TimeZone', %s, false)", (zone,))
        query(shop, f"INSERT INTO complaints (customer_id, created_at) VALUES (9, {start} + interval '30 minutes')")
        query(shop, f"INSERT INTO complaints (customer_id, created_at) VALUES (10, {start} - interval '30 minutes')")
        query(shop, "RESET TimeZone")
        assert query(shop, "SELECT id, complaints_30d FROM customers WHERE id IN (9, 10) ORDER BY id") == \
            [(9, 1.0), (10, 0.0)], (zone, days)
        assert_scores_match_model(shop, model, [9, 10])


def test_a_session_rescores_through_the_wiring_that_took_the_id_of_one_it_cached(db_url):
    """pgscore uninstalled and installed again (or the database restored over) numbers its wirings again: a
    session that had read wiring 1 of e1 -> p1 and then inserted into e2, wired as 1 now, was told the trigger
    'names rescoring 1, which is not attached or whose tables were renamed or dropped' and rescored nothing, for
    as long as it lived (found by hand; a new session rescored). It reads the wiring again where the one it
    cached names another table."""
    from sklearn.linear_model import LinearRegression

    from pgscore import migrate

    rng = np.random.default_rng(4)
    X2 = rng.normal(size=(100, 2))
    est = LinearRegression().fit(X2, X2 @ [2.0, 3.0] + 1)
    setup = psycopg2.connect(db_url)
    setup.autocommit = True
    session = psycopg2.connect(db_url)
    session.autocommit = True
    try:
        registry.deploy(db_url, "m", est, X2, feature_names=["a", "b"])
        for t in ("1", "2"):
            query(setup, f"CREATE TABLE p{t} (id int PRIMARY KEY, a float8, b float8, n int DEFAULT 0, s float8, "
                         f"scored_at timestamptz); CREATE TABLE e{t} (id bigserial PRIMARY KEY, pid int); "
                         f"INSERT INTO p{t} (id, a, b) VALUES (1, 1, 2)")
        wire = """SELECT pgscore.attach_rescoring(%s, %s, 'pid', 'm', 's', '{"n": "count"}', p_profile_key => 'id')"""
        query(setup, wire, ("e1", "p1"))
        query(session, "INSERT INTO e1 (pid) VALUES (1)")
        assert query(setup, "SELECT n FROM p1") == [(1,)]
        query(setup, "SELECT pgscore.detach_rescoring('e1')")
        migrate.downgrade(db_url, "base")
        migrate.upgrade(db_url)
        registry.deploy(db_url, "m", est, X2, feature_names=["a", "b"])
        query(setup, wire, ("e2", "p2"))
        assert query(setup, "SELECT rescoring_id FROM pgscore.rescoring") == [(1,)]  # the id the session cached
        del session.notices[:]
        query(session, "INSERT INTO e2 (pid) VALUES (1)")
        assert not [n for n in session.notices if "WARNING" in n], session.notices
        (n, s), = query(setup, "SELECT n, s FROM p2")
        assert n == 1 and abs(s - 9.0) < 1e-9
        assert query(setup, "SELECT n FROM p1") == [(1,)]
    finally:
        session.close()
        setup.close()


@pytest.mark.parametrize("kind", ["linear", "tree"])
def test_a_session_rescores_through_the_wiring_attached_again_to_the_table_under_the_id_it_cached(db_url, kind):
    """pgscore uninstalled and installed again, and e1 wired again under the same rescoring_id but to another
    profile table and model (tenants' tables swapped, say): a session that had read the first wiring kept
    counting into p1 and scoring with m1, the wiring it cached for the id, since its trigger still fired on the
    table that wiring named (found by hand; a new session used the new wiring). The trigger now checks that
    the wiring's row is the one it read (a linear model's statement in SQL, a tree's before it reads)."""
    from sklearn.linear_model import LinearRegression
    from sklearn.tree import DecisionTreeRegressor

    from pgscore import migrate

    rng = np.random.default_rng(5)
    X2 = rng.normal(size=(200, 2))

    def fit(w):
        y = X2 @ w
        return LinearRegression().fit(X2, y) if kind == "linear" else DecisionTreeRegressor(max_depth=6).fit(X2, y)

    m1, m2 = fit([2.0, 3.0]), fit([-1.0, 5.0])
    setup = psycopg2.connect(db_url)
    setup.autocommit = True
    session = psycopg2.connect(db_url)  # a pooled session that lives through the reinstall
    session.autocommit = True
    wire = ("""SELECT pgscore.attach_rescoring('e1', %s, 'pid', %s, 's', '{"a": "count"}', """
            "p_scored_at_column => NULL, p_profile_key => 'id')")
    try:
        def deploy():
            registry.deploy(db_url, "m1", m1, X2, feature_names=["a", "b"])
            registry.deploy(db_url, "m2", m2, X2, feature_names=["a", "b"])

        deploy()
        query(setup, "CREATE TABLE e1 (id bigserial PRIMARY KEY, pid int)")
        for t in ("p1", "p2"):
            query(setup, f"CREATE TABLE {t} (id int PRIMARY KEY, a float8 NOT NULL DEFAULT 0, b float8 NOT NULL "
                         f"DEFAULT 2, s float8); INSERT INTO {t} (id) VALUES (1)")
        (rid,), = query(setup, wire, ("p1", "m1"))
        for _ in range(2):  # (the second statement runs on the plans the first kept)
            query(session, "INSERT INTO e1 (pid) VALUES (1)")
        assert query(setup, "SELECT a FROM p1") == [(2.0,)]
        query(setup, "SELECT pgscore.detach_rescoring('e1')")
        migrate.downgrade(db_url, "base")
        migrate.upgrade(db_url)
        deploy()
        assert query(setup, wire, ("p2", "m2")) == [(rid,)]  # the id the session cached, on the same table
        del session.notices[:]
        query(session, "INSERT INTO e1 (pid) VALUES (1)")
        assert not [n for n in session.notices if "WARNING" in n], session.notices
        assert query(setup, "SELECT a FROM p1") == [(2.0,)]  # not counted into the first wiring's table
        (a, s), = query(setup, "SELECT a, s FROM p2")
        assert a == 1.0 and abs(s - m2.predict([[1.0, 2.0]])[0]) < 1e-9, (a, s, m1.predict([[1.0, 2.0]])[0])
        (model,), = query(setup, "SELECT m.name FROM pgscore.prediction_log l JOIN pgscore.models m USING (model_id)")
        assert model == "m2"
    finally:
        session.close()
        setup.close()


# -- refresh_windows: windows brought up to date as time passes ----------------------------------------------

EDGE = "now() - interval '29 days 23 hours 59 minutes 59 seconds'"  # in the 30 days now, out of them in a second
REFRESH = "SELECT rescoring_id, event_table::text, profile_table::text, recounted, rescored, failed " \
          "FROM pgscore.refresh_windows(%s, %s)"


def no_counts(conn):
    """The sample customers' window counts are the dataset's, backed by no event: a recount makes them 0."""
    query(conn, "UPDATE customers SET complaints_30d = 0")


def refresh(conn, table=None, limit=None):
    return query(conn, REFRESH, (table, limit))


def versions(conn, ids):
    return dict(query(conn, "SELECT id, xmin::text FROM customers WHERE id = ANY(%s)", (list(ids),)))


def test_refresh_windows_recounts_the_windows_events_have_left_and_rescores_only_those(shop, trained):
    """A window counter is exact as of the profile's last event: a second after an event 30 days old
    leaves the window, complaints_30d still counted it and the score was computed from it. refresh_windows
    recounts it and rescores that profile, with an audit row (source refresh); the profiles whose windows
    did not change keep their row version and get no audit row; a second call finds nothing."""
    model = trained[0]
    no_counts(shop)
    rid = attach(shop)
    query(shop, f"INSERT INTO complaints (customer_id, created_at) VALUES (3, {EDGE}), (3, now()), (4, {EDGE}), "
                "(5, now()), (6, now() - interval '40 days')")
    counted = "SELECT id, complaints_30d FROM customers WHERE id IN (3, 4, 5, 6) ORDER BY id"
    assert query(shop, counted) == [(3, 2), (4, 1), (5, 1), (6, 0)]
    time.sleep(1.5)  # the edge complaints of 3 and 4 are now out of the window
    before, scored_before = versions(shop, range(1, N_CUSTOMERS + 1)), profiles(shop, [3, 4])
    logged = query(shop, "SELECT count(*) FROM pgscore.prediction_log")[0][0]
    assert refresh(shop) == [(rid, "complaints", "customers", 2, 2, 0)]
    assert query(shop, counted) == [(3, 1), (4, 0), (5, 1), (6, 0)]
    assert_scores_match_model(shop, model, [3, 4])
    after = profiles(shop, [3, 4])
    assert all(after[k][4] != scored_before[k][4] and after[k][5] > scored_before[k][5] for k in (3, 4))
    # the others were not rewritten, nor audited
    changed = {k for k, v in versions(shop, range(1, N_CUSTOMERS + 1)).items() if before[k] != v}
    assert changed == {3, 4}
    rows = query(shop, "SELECT entity_key, source, cause->>'via', (cause->>'rescoring_id')::bigint, "
                       "cause->>'event_table' FROM pgscore.prediction_log ORDER BY logged_at, entity_key OFFSET %s",
                 (logged,))
    assert rows == [("3", "refresh", "refresh_windows", rid, "public.complaints"),
                    ("4", "refresh", "refresh_windows", rid, "public.complaints")]
    # nothing more to do: no write, no audit row
    again = versions(shop, [3, 4])
    assert refresh(shop) == [(rid, "complaints", "customers", 0, 0, 0)]
    assert versions(shop, [3, 4]) == again
    assert query(shop, "SELECT count(*) FROM pgscore.prediction_log")[0][0] == logged + 2
    assert refresh(shop, "public.complaints") == [(rid, "complaints", "customers", 0, 0, 0)]


def test_refresh_windows_leaves_a_null_window_count_for_the_profiles_first_event(shop, trained):
    """A NULL window counter is a profile no event has reached since its table was loaded, not a count time
    made stale: refresh_windows leaves it (and its row, and the log) alone, whatever events the table holds
    from before the wiring; the profile's first event counts them all (docs/sql.md, refresh_windows)."""
    no_counts(shop)
    query(shop, "INSERT INTO complaints (customer_id, created_at) VALUES (8, now() - interval '2 days')")
    rid = attach(shop)
    query(shop, "UPDATE customers SET complaints_30d = NULL WHERE id = 8")
    before = versions(shop, [8])
    assert refresh(shop) == [(rid, "complaints", "customers", 0, 0, 0)]
    assert versions(shop, [8]) == before
    assert query(shop, "SELECT complaints_30d FROM customers WHERE id = 8") == [(None,)]
    assert query(shop, "SELECT count(*) FROM pgscore.prediction_log WHERE source = 'refresh'") == [(0,)]
    query(shop, "INSERT INTO complaints (customer_id) VALUES (8)")
    assert query(shop, "SELECT complaints_30d FROM customers WHERE id = 8") == [(2,)]
    assert_scores_match_model(shop, trained[0], [8])


def test_refresh_windows_goes_in_slices_of_p_limit_in_key_order_and_resumes(shop, trained):
    """p_limit bounds the profiles of one call (a cron job runs it in slices): the first ones in key order,
    and the next call goes on after them, since those done are current."""
    no_counts(shop)
    rid = attach(shop)
    ids = [12, 10, 7, 20, 15]
    query(shop, "INSERT INTO complaints (customer_id, created_at) SELECT g, " + EDGE + " FROM unnest(%s::int[]) g",
          (ids,))
    time.sleep(1.5)
    stale = "SELECT array_agg(id ORDER BY id) FROM customers WHERE complaints_30d <> 0"
    assert query(shop, stale) == [([7, 10, 12, 15, 20],)]
    assert refresh(shop, None, 2) == [(rid, "complaints", "customers", 2, 2, 0)]
    assert query(shop, stale) == [([12, 15, 20],)]
    assert refresh(shop, None, 2) == [(rid, "complaints", "customers", 2, 2, 0)]
    assert query(shop, stale) == [([20],)]
    assert refresh(shop, "complaints", 2) == [(rid, "complaints", "customers", 1, 1, 0)]
    assert refresh(shop, None, 2) == [(rid, "complaints", "customers", 0, 0, 0)]
    assert query(shop, "SELECT array_agg(entity_key::int ORDER BY logged_at, entity_key::int) "
                       "FROM pgscore.prediction_log WHERE source = 'refresh'") == [([7, 10, 12, 15, 20],)]
    assert_scores_match_model(shop, trained[0], ids)


def test_trigger_retry_and_refresh_audit_rows_name_the_application_and_backend(shop, db_url, trained):
    """Rescoring's audit rows say which application and backend caused them, as a query's rows do: a login
    shared by two applications told their triggered scores apart only by the event table before."""
    no_counts(shop)
    rid = attach(shop)

    def app(name):
        conn = psycopg2.connect(db_url, application_name=name)
        conn.autocommit = True
        return conn, query(conn, "SELECT pg_backend_pid()")[0][0]

    shop_app, shop_pid = app("shop-frontend")
    query(shop_app, "INSERT INTO complaints (customer_id, created_at) VALUES (7, " + EDGE + ")")
    query(shop, "UPDATE pgscore.rescoring SET model_name = 'nope' WHERE rescoring_id = %s", (rid,))
    query(shop_app, "INSERT INTO complaints (customer_id) VALUES (8)")  # queued: no model 'nope'
    query(shop, "UPDATE pgscore.rescoring SET model_name = 'churn' WHERE rescoring_id = %s", (rid,))
    ops, ops_pid = app("ops-cron")
    assert query(ops, "SELECT * FROM pgscore.retry_failed()") == [(rid, 1, 0)]
    time.sleep(1.5)  # customer 7's complaint leaves the 30 days
    assert refresh(ops) == [(rid, "complaints", "customers", 1, 1, 0)]
    rows = query(shop, "SELECT entity_key, source, cause->>'via', cause->>'application', (cause->>'backend')::int "
                       "FROM pgscore.prediction_log ORDER BY logged_at, source")
    assert rows == [("7", "trigger", "trigger", "shop-frontend", shop_pid),
                    ("8", "retry", "retry_failed", "ops-cron", ops_pid),
                    ("7", "refresh", "refresh_windows", "ops-cron", ops_pid)]
    shop_app.close()
    ops.close()


def test_refresh_windows_waits_for_an_insert_that_holds_the_profile_and_counts_its_event(shop, db_url, trained):
    """An INSERT for a stale profile, its transaction open, holds the profile: refresh_windows waits for it
    (the lock in key order, as the trigger's: no deadlock), then recounts in a statement of its own, seeing
    the INSERT's event, and finds the count the trigger wrote current: nothing rewritten."""
    no_counts(shop)
    rid = attach(shop)
    query(shop, f"INSERT INTO complaints (customer_id, created_at) VALUES (5, {EDGE}), (6, {EDGE})")
    time.sleep(1.5)

    def hold(conn):
        query(conn, "INSERT INTO complaints (customer_id) VALUES (5)")  # recounts 5: 1, the old one out

    _, out = run_past_a_lock(db_url, hold, REFRESH % ("NULL", "NULL"), "the INSERT's lock on profile 5")
    assert out == [(rid, "complaints", "customers", 1, 1, 0)]  # 6 alone: 5 was current once it had the lock
    assert query(shop, "SELECT id, complaints_30d FROM customers WHERE id IN (5, 6) ORDER BY id") == [(5, 1), (6, 0)]
    assert query(shop, "SELECT entity_key, source FROM pgscore.prediction_log WHERE entity_key IN ('5', '6') "
                       "ORDER BY logged_at, entity_key") == [("5", "trigger"), ("6", "trigger"), ("5", "trigger"),
                                                              ("6", "refresh")]
    assert_scores_match_model(shop, trained[0], [5, 6])

    # and the other way round: an INSERT waits for the refresh that holds the profile, then counts from it
    query(shop, f"INSERT INTO complaints (customer_id, created_at) VALUES (8, {EDGE})")
    time.sleep(1.5)

    def hold_refresh(conn):
        return query(conn, REFRESH % ("NULL", "NULL"))

    held, _ = run_past_a_lock(db_url, hold_refresh, "INSERT INTO complaints (customer_id) VALUES (8)",
                              "the refresh's lock on profile 8")
    assert held == [(rid, "complaints", "customers", 1, 1, 0)]
    assert query(shop, "SELECT complaints_30d FROM customers WHERE id = 8") == [(1,)]  # the new one alone
    assert_scores_match_model(shop, trained[0], [8])


def test_refresh_windows_queues_what_it_cannot_score_and_keeps_the_recount(shop, trained):
    """With no live version the recount is written and the profiles queued (retry_failed rescores them once a
    version is live); a profile whose recount cannot be written is queued with that reason, and the next
    refresh leaves queued profiles to retry_failed."""
    model = trained[0]
    no_counts(shop)
    rid = attach(shop)
    query(shop, f"INSERT INTO complaints (customer_id, created_at) VALUES (2, {EDGE}), (2, now()), (2, now()), "
                f"(3, {EDGE}), (4, {EDGE})")
    time.sleep(1.5)
    query(shop, "SELECT pgscore.retire('churn')")
    assert refresh(shop, None, 1) == [(rid, "complaints", "customers", 1, 0, 1)]
    assert query(shop, "SELECT complaints_30d FROM customers WHERE id = 2") == [(2,)]  # recounted all the same
    assert query(shop, "SELECT entity_key, sqlstate, cause->>'via' FROM pgscore.error_queue") == \
        [("2", "55000", "refresh_windows")]
    query(shop, "SELECT pgscore.activate('churn', 1)")
    query(shop, "ALTER TABLE customers ADD CONSTRAINT not_zero CHECK (complaints_30d <> 0 OR id <> 3) NOT VALID")
    assert refresh(shop) == [(rid, "complaints", "customers", 1, 1, 1)]  # 4 rescored, 3 not recounted, 2 left
    assert query(shop, "SELECT id, complaints_30d FROM customers WHERE id IN (2, 3, 4) ORDER BY id") == \
        [(2, 2), (3, 1), (4, 0)]
    queued = query(shop, "SELECT entity_key, sqlstate, reason FROM pgscore.error_queue ORDER BY 1")
    assert [q[:2] for q in queued] == [("2", "55000"), ("3", "23514")]
    assert queued[1][2].startswith("recounting the counters that read public.complaints failed: ")
    assert refresh(shop) == [(rid, "complaints", "customers", 0, 0, 0)]  # queued: retry_failed's
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 1, 1)]
    assert_scores_match_model(shop, model, [2, 4])


def test_refresh_windows_queues_alone_a_profile_whose_text_cell_is_no_number(shop, trained):
    """refresh_windows reads the profiles it recounted in one statement: one text cell that is no number failed
    it, and every one of them was queued with that cell's reason, none rescored. Now that profile alone is
    queued, with its own reason; the other is rescored from its recount."""
    no_counts(shop)
    model, rid = _text_shop(shop, trained, False)
    query(shop, f"INSERT INTO complaints (customer_id, created_at) VALUES (3, {EDGE}), (4, {EDGE})")
    query(shop, "UPDATE customers SET satisfaction = 'n/a' WHERE id = 3")
    time.sleep(1.5)  # both complaints have left the window
    assert refresh(shop) == [(rid, "complaints", "customers", 2, 1, 1)]
    (key, state, reason), = query(shop, "SELECT entity_key, sqlstate, reason FROM pgscore.error_queue")
    assert (key, state) == ("3", "22P02") and "got 'n/a' (key '3'" in reason, reason
    assert query(shop, "SELECT id, complaints_30d FROM customers WHERE id IN (3, 4) ORDER BY id") == [(3, 0), (4, 0)]
    _text_scored(shop, model, [4])
    assert query(shop, "SELECT entity_key FROM pgscore.prediction_log WHERE source = 'refresh'") == [("4",)]

def test_profiles_queued_for_a_retired_model_are_told_to_make_a_version_live(shop):
    """A model retired under a wired table: each INSERT and each retry warned "fix the cause" and no more; the hint
    names the cause's fix, the activate call, on the trigger's warning and the retry's; another cause's hint is
    as it was."""
    attach(shop)
    query(shop, "SELECT pgscore.retire('churn')")
    del shop.notices[:]
    query(shop, "INSERT INTO complaints (customer_id) VALUES (1)")
    fix = ("; model 'churn' has no live version: make one live first, SELECT pgscore.activate('churn', VERSION) "
           "(pgscore.model_versions lists them)")
    (warning,) = [n for n in shop.notices if "WARNING" in n]
    assert f"HINT:  fix the cause, then SELECT * FROM pgscore.retry_failed(){fix}" in warning, warning
    del shop.notices[:]
    query(shop, "SELECT * FROM pgscore.retry_failed()")
    (warning,) = [n for n in shop.notices if "WARNING" in n]
    assert f"HINT:  fix the cause, then SELECT * FROM pgscore.retry_failed() again{fix}" in warning, warning
    query(shop, "SELECT pgscore.activate('churn', 1)")
    query(shop, "UPDATE customers SET tenure_months = NULL WHERE id = 2")
    del shop.notices[:]
    query(shop, "INSERT INTO complaints (customer_id) VALUES (2)")
    (warning,) = [n for n in shop.notices if "WARNING" in n]
    assert "NULL or NaN" in warning and warning.rstrip().endswith("HINT:  fix the cause, then SELECT * FROM "
                                                                  "pgscore.retry_failed()"), warning


def test_retry_failed_and_refresh_windows_warn_of_the_profiles_they_leave_queued(shop, trained):
    """Run by a scheduler, the rows retry_failed and refresh_windows return are read by no one: pg_cron records
    such a run as succeeded ('SELECT 1') and keeps only the server log, where a WARNING goes. Each now says
    with one how many profiles of which table still fail (or were queued), and why; before, neither said
    anything (docs/operations.md, "Scheduling with pg_cron"). The session is as pg_cron's background worker
    opens it: no application_name, the default search_path."""
    no_counts(shop)
    rid = attach(shop)
    query(shop, "SET application_name = ''; RESET search_path")
    query(shop, f"INSERT INTO complaints (customer_id, created_at) VALUES (3, {EDGE})")  # stale in a second
    query(shop, "SELECT pgscore.retire('churn')")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (1), (2)")  # queued by the trigger
    time.sleep(1.5)
    retired = "model 'churn' has no live version (it was retired)"
    del shop.notices[:]
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 0, 2)]
    (warning,) = [n for n in shop.notices if "WARNING" in n]
    assert warning.startswith(f"WARNING:  pgscore: retry_failed: 2 profile(s) of public.customers still could not "
                              f"be rescored ({retired}); they stay queued in pgscore.error_queue\n"), warning
    assert "HINT:  fix the cause, then SELECT * FROM pgscore.retry_failed() again" in warning
    del shop.notices[:]
    assert refresh(shop) == [(rid, "complaints", "customers", 1, 0, 1)]
    (warning,) = [n for n in shop.notices if "WARNING" in n]
    assert warning.startswith(f"WARNING:  pgscore: refresh_windows: 1 profile(s) of public.customers could not be "
                              f"rescored ({retired}); they were queued in pgscore.error_queue\n"), warning
    query(shop, "SELECT pgscore.activate('churn', 1)")
    del shop.notices[:]
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 3, 0)]
    assert refresh(shop) == [(rid, "complaints", "customers", 0, 0, 0)]
    assert not [n for n in shop.notices if "WARNING" in n], shop.notices  # nothing failed: nothing said
    assert_scores_match_model(shop, trained[0], [1, 2, 3])


def test_refresh_windows_of_a_window_over_times_without_zone_counts_in_its_zone(shop, trained):
    """A "zone" window (a timestamp column, times in UTC) is recounted in that zone whatever the session's."""
    query(shop, "ALTER TABLE complaints ALTER COLUMN created_at TYPE timestamp USING created_at AT TIME ZONE 'UTC', "
                "ALTER COLUMN created_at SET DEFAULT now() AT TIME ZONE 'UTC'")
    no_counts(shop)
    (rid,), = query(shop, ATTACH, {**GOOD, "counters": json.dumps(
        {"support_calls": "count", "complaints_30d": {"window": "30 days", "time": "created_at", "zone": "UTC"}})})
    edge = "(now() AT TIME ZONE 'UTC') - interval '29 days 23 hours 59 minutes 59 seconds'"
    query(shop, f"INSERT INTO complaints (customer_id, created_at) VALUES (9, {edge}), "
                "(10, (now() AT TIME ZONE 'UTC') - interval '29 days 22 hours')")
    time.sleep(1.5)
    query(shop, "SET TimeZone = 'Asia/Kolkata'")  # 5:30 ahead: read in it, 10's complaint would be out too
    assert refresh(shop) == [(rid, "complaints", "customers", 1, 1, 0)]
    query(shop, "RESET TimeZone")
    assert query(shop, "SELECT id, complaints_30d FROM customers WHERE id IN (9, 10) ORDER BY id") == [(9, 0), (10, 1)]
    assert_scores_match_model(shop, trained[0], [9])


def test_refresh_windows_recounts_a_recompute_that_reads_the_clock(shop, trained):
    """A recompute whose aggregate reads the clock ages as a window does; one that does not is left alone."""
    no_counts(shop)
    (rid,), = query(shop, ATTACH, {**GOOD, "counters": json.dumps(
        {"complaints_30d": {"recompute": "count(*) FILTER (WHERE e.created_at > now() - interval '30 days')"},
         "support_calls": {"recompute": "count(*)"}})})
    query(shop, f"INSERT INTO complaints (customer_id, created_at) VALUES (9, {EDGE}), (10, now())")
    query(shop, "UPDATE customers SET support_calls = 42 WHERE id = 11")  # no clock: not refreshed
    time.sleep(1.5)
    assert refresh(shop) == [(rid, "complaints", "customers", 1, 1, 0)]
    assert query(shop, "SELECT id, complaints_30d, support_calls FROM customers WHERE id IN (9, 10, 11) "
                       "ORDER BY id") == [(9, 0, 1), (10, 1, 1), (11, 0, 42)]
    # a wiring with no counter that ages has no row
    query(shop, "SELECT pgscore.detach_rescoring('complaints')")
    (rid,), = query(shop, ATTACH, {**GOOD, "counters": json.dumps({"support_calls": "count"})})
    assert refresh(shop) == [] and refresh(shop, "complaints") == []


@pytest.mark.parametrize("how", ["renamed and another took its name", "dropped"])
def test_refresh_windows_skips_a_wiring_whose_event_table_went(shop, how):
    """As retry_failed does: a wiring whose event table was renamed (another created under its name: its
    events are not the wiring's) or dropped is skipped, with a WARNING that says what to do, and its
    profiles are left as they are; its counts are NULL."""
    no_counts(shop)
    rid = attach(shop)
    query(shop, f"INSERT INTO complaints (customer_id, created_at) VALUES (81, {EDGE})")
    time.sleep(1.5)
    before = query(shop, "SELECT complaints_30d, churn_score, xmin::text FROM customers WHERE id = 81")
    if how == "dropped":
        query(shop, "DROP TABLE complaints")
        want, said = [(rid, None, "customers", None, None, None)], "its event table was dropped or renamed"
    else:
        query(shop, "ALTER TABLE complaints RENAME TO complaints_old; "
                    "CREATE TABLE complaints (LIKE complaints_old INCLUDING ALL)")
        want, said = [(rid, "complaints_old", "customers", None, None, None)], \
            "pgscore.detach_rescoring('public.complaints_old')"
    del shop.notices[:]
    assert refresh(shop) == want
    assert any(f"refresh_windows skipped wiring {rid}" in n and said in n for n in shop.notices), shop.notices
    assert query(shop, "SELECT complaints_30d, churn_score, xmin::text FROM customers WHERE id = 81") == before
    if how != "dropped":  # found by its name, and by its trigger on the renamed table
        assert refresh(shop, "complaints") == refresh(shop, "complaints_old") == want


def test_pgscore_refresh_windows_says_what_it_did_per_wiring_with_exit_codes_for_cron(shop, db_url):
    """`pgscore refresh-windows`: a line per wiring, exit 0 when all is done, 1 when some profile was
    queued (or a wiring skipped), 2 for a --table that is not wired or does not exist, 3 when it cannot
    run at all."""
    no_counts(shop)
    rid = attach(shop)
    query(shop, f"INSERT INTO complaints (customer_id, created_at) SELECT g, {EDGE} FROM generate_series(1, 3) g")
    time.sleep(1.5)
    run = pgscore_cli("refresh-windows", "--limit", "2", "--db", db_url)
    assert (run.returncode, run.stdout) == (0, f"wiring {rid}: complaints -> customers: 2 recounted, 2 rescored, "
                                               "0 queued\n--limit 2 reached: run it again for any profiles after "
                                               "these\n"), run
    query(shop, "SELECT pgscore.retire('churn')")
    run = pgscore_cli("refresh-windows", "--table", "complaints", "--db", db_url)
    assert run.returncode == 1, run
    assert run.stdout.startswith(f"wiring {rid}: complaints -> customers: 1 recounted, 0 rescored, 1 queued\n"
                                 "1 profile queued: see their reasons with SELECT * FROM pgscore.error_queue"), run
    run = pgscore_cli("refresh-windows", "--db", db_url)
    assert (run.returncode, run.stdout) == (0, f"wiring {rid}: complaints -> customers: 0 recounted, 0 rescored, "
                                               "0 queued\n")
    for table, said in (("customers", "public.customers is not wired for rescoring"),
                        # (no hint before: what --table takes, and where the wired ones are)
                        ("nope", 'relation "nope" does not exist (SQLSTATE 42P01)\nHint: --table takes a wired '
                                 "event table's name as SQL writes it"),
                        ('"Nope"', "the wired ones: SELECT event_table FROM pgscore.rescoring\n")):
        run = pgscore_cli("refresh-windows", "--table", table, "--db", db_url)
        assert run.returncode == 2 and said in run.stderr, run
    run = pgscore_cli("refresh-windows", "--table", "", "--db", db_url)  # --table "$T", T unset: not every wiring
    assert run.returncode == 2 and "--table is empty" in run.stderr, run
    query(shop, "ALTER TABLE complaints RENAME TO complaints_old; CREATE TABLE complaints (LIKE complaints_old)")
    run = pgscore_cli("refresh-windows", "--db", db_url)
    assert run.returncode == 1 and f"wiring {rid}: complaints_old -> customers: skipped" in run.stdout, run
    assert "refresh_windows skipped wiring" in run.stdout, run
    query(shop, "CREATE ROLE nobody_here LOGIN")
    run = pgscore_cli("refresh-windows", "--db", db_url.replace("postgres@", "nobody_here@"))
    assert run.returncode == 3 and "pgscore refresh-windows needs a role granted pgscore_app" in run.stderr, run


def test_the_trigger_does_not_rescore_with_a_version_loaded_under_the_mismatch_override_once_it_is_off(
        shop, db_url, trained):
    """As the row path (Runtime.resolve): a version another scikit-learn wrote, loaded under
    pgscore.allow_version_mismatch = on, is scored only while the setting is on. The trigger kept its previous
    statement's plans, and their model, and rescored with it after a RESET (for every later client of a pooled
    server session too); now it queues the profiles with the 58P01 a session that never set it gets."""
    model, X, y = trained
    registry.deploy(db_url, "churn", model, X, y, feature_names=CHURN_FEATURES, compile=False)
    query(shop, "SET session_replication_role = replica; UPDATE pgscore.models SET env = jsonb_set(env, "
                "'{scikit-learn}', '\"1.2.0\"') WHERE name = 'churn' AND version = 2; "
                "RESET session_replication_role")
    query(shop, "SET pgscore.allow_version_mismatch = on")
    rid = attach(shop)
    ins = psycopg2.connect(db_url)
    ins.autocommit = True
    try:
        query(ins, "SET pgscore.allow_version_mismatch = on")
        for k in (3, 3):
            query(ins, "INSERT INTO complaints (customer_id) VALUES (%s)", (k,))
        assert query(ins, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
        query(ins, "RESET pgscore.allow_version_mismatch")
        (before,), = query(ins, "SELECT churn_score FROM customers WHERE id = 4")
        query(ins, "INSERT INTO complaints (customer_id) VALUES (4)")
        assert query(ins, "SELECT rescoring_id, entity_key, sqlstate FROM pgscore.error_queue") == [(rid, "4", "58P01")]
        assert query(ins, "SELECT churn_score FROM customers WHERE id = 4") == [(before,)]
    finally:
        ins.close()


def test_an_insert_whose_profiles_cannot_be_queued_for_a_full_disk_fails_saying_so(shop):
    """The score cannot be written (a full disk under the log, here a constraint) and the queue cannot grow
    either (53100, injected as the server raises it): the INSERT fails, its events with it, saying in pgscore's
    words what was not written and what to do, the SQLSTATE kept (before: the server's message alone, which
    names a file, as 'pgscore: could not extend file ...')."""
    attach(shop)
    query(shop, "ALTER TABLE customers ADD CONSTRAINT low_scores CHECK (churn_score < 0.0001)")
    query(shop, """CREATE FUNCTION public.disk_full() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN
                   RAISE EXCEPTION 'could not extend file "base/1/2": No space left on device'
                   USING ERRCODE = 'disk_full', HINT = 'Check free disk space.'; END$$""")
    query(shop, "CREATE TRIGGER disk_full BEFORE INSERT ON pgscore.error_queue "
                "FOR EACH ROW EXECUTE FUNCTION public.disk_full()")
    (n,), = query(shop, "SELECT count(*) FROM complaints")
    with pytest.raises(psycopg2.Error) as e:
        query(shop, "INSERT INTO complaints (customer_id) VALUES (30), (31)")
    assert e.value.pgcode == "53100", e.value
    assert e.value.diag.message_primary.startswith(
        "pgscore: rescoring public.customers for public.complaints: 2 profile(s) could not be rescored (writing the "
        "score and its audit row failed: "), e.value.diag.message_primary
    assert e.value.diag.message_primary.endswith(
        "), nor queued in pgscore.error_queue: could not extend file \"base/1/2\": No space left on device; the "
        "INSERT fails, and none of its events is kept"), e.value.diag.message_primary
    assert e.value.diag.message_hint == ("free disk space (pgscore maintain --keep drops old days of the prediction "
                                         "log: docs/operations-disk.md), then insert the events again")
    assert query(shop, "SELECT count(*) FROM complaints") == [(n,)]


def test_profiles_queued_for_a_full_disk_are_told_what_frees_it(shop):
    """Session 67, trial T23 (h2): the audit log's volume full, every INSERT warned `... could not be rescored
    (writing the score and its audit row failed: could not extend file ...: No space left on device); the events
    were kept and the profiles queued`, HINT `fix the cause, then SELECT * FROM pgscore.retry_failed()`: the
    cause is a disk, and the hint says what frees it and where the way out is written (a retry still full says it
    too)."""
    attach(shop)
    query(shop, """CREATE FUNCTION public.disk_full() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN
                   RAISE EXCEPTION 'could not extend file "base/1/2": No space left on device'
                   USING ERRCODE = 'disk_full', HINT = 'Check free disk space.'; END$$""")
    query(shop, "CREATE TRIGGER disk_full BEFORE UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION public.disk_full()")
    frees = ("; the disk is full: free space first (pgscore maintain --keep drops old days of the prediction log; "
             "today's rows filling it: docs/operations-disk.md, 'The way out')")
    del shop.notices[:]
    query(shop, "INSERT INTO complaints (customer_id) VALUES (30)")
    assert query(shop, "SELECT sqlstate FROM pgscore.error_queue") == [("53100",)]
    warned = [n for n in shop.notices if n.startswith("WARNING")]
    assert len(warned) == 1 and warned[0].endswith(
        "HINT:  fix the cause, then SELECT * FROM pgscore.retry_failed()" + frees + "\n"), shop.notices
    del shop.notices[:]
    query(shop, "SELECT * FROM pgscore.retry_failed()")
    warned = [n for n in shop.notices if n.startswith("WARNING")]
    assert len(warned) == 1 and warned[0].endswith(
        "HINT:  fix the cause, then SELECT * FROM pgscore.retry_failed() again" + frees + "\n"), shop.notices


def test_an_insert_whose_queue_cannot_grow_for_want_of_memory_is_not_told_to_free_disk_space(shop):
    """The queue's INSERT fails with another error of class 53 than a full disk (out of memory, 53200): the
    INSERT fails in pgscore's words as on a full disk, but the hint names what the server ran out of, keeping its
    own hint (before: "free disk space (pgscore maintain --keep ...)", for every error of class 53)."""
    attach(shop)
    query(shop, "ALTER TABLE customers ADD CONSTRAINT low_scores CHECK (churn_score < 0.0001)")
    query(shop, """CREATE FUNCTION public.no_memory() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN
                   RAISE EXCEPTION 'out of memory' USING ERRCODE = 'out_of_memory',
                   DETAIL = 'Failed on request of size 8192.', HINT = 'Lower work_mem.'; END$$""")
    query(shop, "CREATE TRIGGER no_memory BEFORE INSERT ON pgscore.error_queue "
                "FOR EACH ROW EXECUTE FUNCTION public.no_memory()")
    (n,), = query(shop, "SELECT count(*) FROM complaints")
    with pytest.raises(psycopg2.Error) as e:
        query(shop, "INSERT INTO complaints (customer_id) VALUES (30)")
    assert e.value.pgcode == "53200", e.value
    assert e.value.diag.message_primary.startswith(
        "pgscore: rescoring public.customers for public.complaints: 1 profile(s) could not be rescored ("), \
        e.value.diag.message_primary
    assert e.value.diag.message_primary.endswith(
        "nor queued in pgscore.error_queue: out of memory; the INSERT fails, and none of its events is kept"), \
        e.value.diag.message_primary
    assert e.value.diag.message_detail == "Failed on request of size 8192."
    assert e.value.diag.message_hint == ("Lower work_mem.; the server ran out of what the message names (SQLSTATE "
                                         "53200): once it has it again, insert the events again"), \
        e.value.diag.message_hint
    assert "disk" not in e.value.diag.message_hint
    assert query(shop, "SELECT count(*) FROM complaints") == [(n,)]


def test_retry_failed_of_a_wiring_with_counters_reads_the_features_by_name_not_a_features_array_beside_them(
        shop, trained):
    """A wiring with counters reads a column per feature, by name (the trigger's read with the counters' new
    values does); a float8[] column features beside them, which nothing keeps, was read by position by
    retry_failed (and the audit rows' features): the profile was rescored on that array's values."""
    model = trained[0]
    rid = attach(shop)
    query(shop, "ALTER TABLE customers ADD COLUMN features float8[]")
    query(shop, "UPDATE customers SET features = array_fill(0::float8, ARRAY[12])")
    query(shop, "INSERT INTO pgscore.error_queue (rescoring_id, model_name, profile_table, entity_key, reason, "
                "sqlstate) VALUES (%s, 'churn', 'public.customers', '5', 'queued', 'XX000')", (rid,))
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 1, 0)]
    assert_scores_match_model(shop, model, [5])
    assert [r[2] for r in query(shop, "SELECT entity_key, score, features FROM pgscore.prediction_log "
                                      "WHERE source = 'retry'")] == [profiles(shop, [5])[5][0]]


def test_attach_refuses_a_score_column_that_is_a_feature_with_counters_beside_a_features_array(shop):
    """A wiring with counters reads its profile table a column per feature, a float8[] column features beside them
    never (0073): attach_rescoring took such a table for one read by position and skipped its check that the
    score column is not a feature, so each rescoring wrote its score into a feature its next read fed back in.
    Refused (22023) as for the same table without the array; without counters the array alone is read: wired."""
    query(shop, "ALTER TABLE customers ADD COLUMN features float8[]")
    with pytest.raises(errors.InvalidParameterValue) as e:
        with shop.cursor() as cur:
            cur.execute("SELECT pgscore.attach_rescoring('complaints', 'customers', 'customer_id', 'churn', "
                        "'tenure_months', %s::jsonb, p_profile_key => 'id')", (json.dumps(sample.COUNTERS),))
    assert e.value.diag.message_primary == (
        "pgscore: public.customers.tenure_months (the score column) is a feature of model churn v1: each rescoring "
        "would feed its own output back in"), e.value.diag.message_primary
    assert query(shop, "SELECT count(*) FROM pgscore.rescoring") == [(0,)]
    query(shop, "SELECT pgscore.attach_rescoring('complaints', 'customers', 'customer_id', 'churn', 'tenure_months', "
                "p_profile_key => 'id')")


def test_counters_a_failed_update_lost_are_replayed_by_retry_failed_once_the_cause_is_fixed(shop):
    """Where a profile's counters cannot be written (a CHECK its new count breaks), its events are kept and it
    is queued. Its count and max were lost for good: a later event that rescored it cleared the queue row, and
    retry_failed (which recounts windows alone) never applied them. Now the queue row keeps the ids of the
    events whose counters were lost (cause.uncounted_event_ids), no rescoring clears it before they are
    applied, and retry_failed replays the count, add, max and min counters from those events, once."""
    rid = attach(shop)
    query(shop, "UPDATE customers SET support_calls = 999, last_complaint_at = NULL WHERE id = 5")
    query(shop, "ALTER TABLE customers ADD CONSTRAINT few_calls CHECK (support_calls < 1000)")
    query(shop, "INSERT INTO complaints (customer_id, created_at) VALUES (4, now()), "
                "(5, now() - interval '2 days'), (5, now() - interval '1 day'), (6, now())")
    (reason, cause), = query(shop, "SELECT reason, cause FROM pgscore.error_queue WHERE entity_key = '5'")
    assert reason.startswith("updating the counters failed"), reason
    assert "replays support_calls, last_complaint_at" in reason, reason
    lost = sorted(cause["uncounted_event_ids"])
    assert len(lost) == 2 and cause["uncounted_events"] == 2, cause
    query(shop, "UPDATE customers SET support_calls = 0 WHERE id = 5")  # the cause fixed
    query(shop, "INSERT INTO complaints (customer_id, created_at) VALUES (5, now() - interval '3 days')")
    assert query(shop, "SELECT support_calls FROM customers WHERE id = 5") == [(1,)]
    # rescored, but still queued: two of its events are not counted yet
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue WHERE entity_key = '5'") == [(1,)]
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 1, 0)]
    assert query(shop, "SELECT support_calls, last_complaint_at = (SELECT max(created_at) FROM complaints "
                       "WHERE customer_id = 5) FROM customers WHERE id = 5") == [(3, True)]
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == []  # once
    assert query(shop, "SELECT support_calls FROM customers WHERE id = 5") == [(3,)]


def test_profiles_queued_whole_when_the_search_stops_are_told_so_and_replayed(shop):
    """Half the profiles' counters break a constraint: the search for them stops after PARTS_BUDGET statements
    and the parts left are queued whole, the profiles at fault and the others alike. Each of those was queued
    under the reason of its part's first failure (another profile's constraint), with nothing saying that it
    may not be at fault; now the reason says so, and the profiles of no fault of their own are counted and
    rescored by retry_failed once the others are fixed."""
    from pgscore.rescoring import PARTS_BUDGET

    rid = attach(shop)
    query(shop, "UPDATE customers SET support_calls = 999 WHERE id % 2 = 0")
    query(shop, "ALTER TABLE customers ADD CONSTRAINT few_calls CHECK (support_calls < 1000)")
    before = profiles(shop)
    assert len(before) // 2 > PARTS_BUDGET // 2  # more profiles at fault than the search can single out
    query(shop, "INSERT INTO complaints (customer_id) SELECT id FROM customers")
    after = profiles(shop)
    written = {i for i in before if after[i][1] == before[i][1] + 1}
    assert written and all(i % 2 for i in written)
    rows = query(shop, "SELECT entity_key::int, reason FROM pgscore.error_queue ORDER BY 1")
    assert {k for k, _ in rows} == set(before) - written
    innocent = [(k, r) for k, r in rows if k % 2]
    assert innocent  # queued with a part holding profiles at fault
    stopped = f"the search for the profiles at fault stopped after {PARTS_BUDGET} statements"
    assert all(r.startswith("updating the counters failed") and stopped in r for _, r in innocent), innocent[:2]
    (said,), = query(shop, "SELECT reason FROM pgscore.error_queue WHERE entity_key = %s", (str(innocent[0][0]),))
    assert "may be at fault or not" in said, said
    query(shop, "UPDATE customers SET support_calls = 0 WHERE id % 2 = 0")  # the cause fixed
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, len(rows), 0)]
    after = profiles(shop)
    assert all(after[i][1] == (1 if i % 2 == 0 else before[i][1] + 1) for i in before)
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]


def test_counters_that_missed_more_events_than_the_queue_row_names_are_not_replayed_and_say_so(shop):
    """A profile whose counters missed more events than its queue row names (1,000): retry_failed cannot replay
    them all, so it replays none, leaves its counters and its row, and says what to do."""
    rid = attach(shop)
    query(shop, "UPDATE customers SET support_calls = 999 WHERE id = 5")
    query(shop, "ALTER TABLE customers ADD CONSTRAINT few_calls CHECK (support_calls < 1000)")
    query(shop, "INSERT INTO complaints (customer_id) SELECT 5 FROM generate_series(1, 1001)")
    assert query(shop, "SELECT jsonb_array_length(cause->'uncounted_event_ids'), cause->'uncounted_events' "
                       "FROM pgscore.error_queue WHERE entity_key = '5'") == [(1000, 1001)]
    query(shop, "UPDATE customers SET support_calls = 0 WHERE id = 5")
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 0, 1)]
    assert query(shop, "SELECT support_calls FROM customers WHERE id = 5") == [(0,)]
    (reason, state, n), = query(shop, "SELECT reason, sqlstate, attempts FROM pgscore.error_queue")
    assert reason.startswith("its counters missed more events than its queue row names (the first 1000") and \
        "cause = cause - 'uncounted_event_ids'" in reason and (state, n) == ("54000", 2), reason
    query(shop, "ALTER TABLE customers DROP CONSTRAINT few_calls")
    query(shop, "UPDATE customers SET support_calls = 1001 WHERE id = 5")  # the user's correction, as it says
    query(shop, "UPDATE pgscore.error_queue SET cause = cause - 'uncounted_event_ids'")
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 1, 0)]
    assert query(shop, "SELECT support_calls FROM customers WHERE id = 5") == [(1001,)]


def test_a_wiring_that_adopts_a_queued_profile_does_not_replay_another_wirings_counters(shop):
    """The events whose counters a detached wiring's update missed are that wiring's (its counters, its event
    table): the wiring attached next adopts the queued profile without them, so its next rescoring clears it
    and its retry replays nothing."""
    attach(shop)
    query(shop, "UPDATE customers SET support_calls = 999 WHERE id = 5")
    query(shop, "ALTER TABLE customers ADD CONSTRAINT few_calls CHECK (support_calls < 1000)")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (5), (5)")
    query(shop, "SELECT pgscore.detach_rescoring('complaints')")
    query(shop, "ALTER TABLE customers DROP CONSTRAINT few_calls")
    rid = attach(shop)
    assert query(shop, "SELECT rescoring_id, cause ? 'uncounted_event_ids' FROM pgscore.error_queue") == [(rid, False)]
    query(shop, "INSERT INTO complaints (customer_id) VALUES (5)")
    assert query(shop, "SELECT support_calls FROM customers WHERE id = 5") == [(1000,)]
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]


def test_a_replay_by_an_id_column_that_is_no_key_changes_the_queued_profiles_alone(shop):
    """p_event_id_column may name a column that is not unique: the replay reads the events holding the queued
    ids, and counted other profiles' events holding them into those profiles too, which were never queued."""
    query(shop, "ALTER TABLE complaints ADD COLUMN batch int NOT NULL DEFAULT 1")
    (rid,), = query(shop, "SELECT pgscore.attach_rescoring('complaints', 'customers', 'customer_id', 'churn', "
                          "'churn_score', '{\"support_calls\": \"count\"}', p_profile_key => 'id', "
                          "p_event_id_column => 'batch')")
    query(shop, "UPDATE customers SET support_calls = 999 WHERE id = 5")
    query(shop, "ALTER TABLE customers ADD CONSTRAINT few_calls CHECK (support_calls < 1000)")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (4), (5), (6)")
    before = dict(query(shop, "SELECT id, support_calls FROM customers"))
    query(shop, "UPDATE customers SET support_calls = 0 WHERE id = 5")
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 1, 0)]
    after = dict(query(shop, "SELECT id, support_calls FROM customers"))
    assert {k: v for k, v in after.items() if k != 5} == {k: v for k, v in before.items() if k != 5}
    assert after[5] == 1


def test_refresh_windows_leaves_a_profile_whose_queue_row_names_uncounted_events_to_retry_failed(shop):
    """A profile whose counters' update failed is queued with the ids of the events it missed: refresh_windows
    leaves it out even when its window is stale (no recount, no score, no audit row, not in its counts) and its
    queue row, ids and all, as it was; retry_failed replays those events, recounts the window and rescores it.
    (Pinned: a refresh that rescored it or cleared its row would lose the ids, and the counters those events.)"""
    no_counts(shop)
    rid = attach(shop)
    query(shop, "UPDATE customers SET support_calls = 999 WHERE id = 5")
    query(shop, "ALTER TABLE customers ADD CONSTRAINT few_calls CHECK (support_calls < 1000)")
    query(shop, f"INSERT INTO complaints (customer_id, created_at) VALUES (3, {EDGE}), (5, {EDGE}), (5, now())")
    row = "SELECT to_jsonb(q) FROM pgscore.error_queue q"
    (queued,), = query(shop, row)
    assert queued["entity_key"] == "5" and len(queued["cause"]["uncounted_event_ids"]) == 2, queued
    query(shop, "UPDATE customers SET support_calls = 0, complaints_30d = 7 WHERE id = 5")  # fixed; its window stale
    time.sleep(1.5)  # the edge complaints are now out of the window
    before = profiles(shop, [5])
    logged = query(shop, "SELECT count(*) FROM pgscore.prediction_log WHERE entity_key = '5'")
    assert refresh(shop) == [(rid, "complaints", "customers", 1, 1, 0)]  # customer 3 alone
    assert profiles(shop, [5]) == before
    assert query(shop, row) == [(queued,)]
    assert query(shop, "SELECT count(*) FROM pgscore.prediction_log WHERE entity_key = '5'") == logged
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 1, 0)]
    assert query(shop, "SELECT support_calls, complaints_30d, last_complaint_at = (SELECT max(created_at) "
                       "FROM complaints WHERE customer_id = 5) FROM customers WHERE id = 5") == [(2, 1, True)]
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]


def test_refresh_windows_leaves_a_profile_queued_under_another_text_of_its_key_to_retry_failed(shop):
    """numeric keys: events 5.0 whose rescoring could not run (a counter's column renamed) queue profile 5 under
    the event key's text, '5.0', with the ids of the events its counters missed. refresh_windows matched queue rows
    to profiles by the profile key's text, '5', so it took that profile for one not queued: it recounted its
    window and wrote a score (an audit row, source refresh, counted as rescored) from counters the queue row says
    missed two events. Now a queue row names its profile whatever text of the key it was queued under: the
    profile is left to retry_failed, which replays the events, recounts the window and rescores it once."""
    no_counts(shop)
    query(shop, "ALTER TABLE complaints ALTER COLUMN customer_id TYPE numeric")
    query(shop, "ALTER TABLE customers ALTER COLUMN id TYPE numeric")
    rid = attach(shop)
    query(shop, "UPDATE customers SET support_calls = 0 WHERE id = 5")
    query(shop, "ALTER TABLE customers RENAME support_calls TO calls")
    query(shop, f"INSERT INTO complaints (customer_id, created_at) VALUES (5.0, {EDGE}), (5.0, now())")
    query(shop, "ALTER TABLE customers RENAME calls TO support_calls")  # the cause fixed
    row = "SELECT to_jsonb(q) FROM pgscore.error_queue q"
    (queued,), = query(shop, row)
    assert queued["entity_key"] == "5.0" and len(queued["cause"]["uncounted_event_ids"]) == 2, queued
    query(shop, "UPDATE customers SET complaints_30d = 7 WHERE id = 5")  # its window stale
    time.sleep(1.5)  # the edge complaint is now out of the window
    before = profiles(shop, [5])
    logged = "SELECT count(*) FROM pgscore.prediction_log WHERE entity_key IN ('5', '5.0')"
    (n_logged,), = query(shop, logged)
    assert refresh(shop) == [(rid, "complaints", "customers", 0, 0, 0)]
    assert profiles(shop, [5]) == before
    assert query(shop, row) == [(queued,)]
    assert query(shop, logged) == [(n_logged,)]
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 1, 0)]
    assert query(shop, "SELECT support_calls, complaints_30d FROM customers WHERE id = 5") == [(2, 1)]
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
    assert query(shop, "SELECT source, count(*) FROM pgscore.prediction_log WHERE entity_key IN ('5', '5.0') "
                       "GROUP BY 1 ORDER BY 1") == [("retry", 1)]


def test_the_queue_reason_of_missed_events_with_a_null_id_quotes_the_id_column(shop):
    """The reason of a queue row missing events whose id is NULL named the event id column bare (`have a NULL Ref
    Id`): quoted as SQL writes it now, and still taken out of the reason when the row is queued again."""
    query(shop, 'ALTER TABLE complaints ADD COLUMN "Ref Id" int')
    query(shop, "SELECT pgscore.attach_rescoring('complaints', 'customers', 'customer_id', 'churn', 'churn_score', "
                "'{\"support_calls\": \"count\"}', p_profile_key => 'id', p_event_id_column => 'Ref Id')")
    query(shop, "UPDATE customers SET support_calls = 999 WHERE id = 5")
    query(shop, "ALTER TABLE customers ADD CONSTRAINT few_calls CHECK (support_calls < 1000)")
    said = ("of the events its counters missed have a NULL \"Ref Id\" (cause->'uncounted_null_ids'): retry_failed "
            "cannot replay them")
    for n in (1, 2):  # (the second time, the first's sentence is replaced, not repeated)
        query(shop, 'INSERT INTO complaints (customer_id, "Ref Id") VALUES (5, NULL)')
        (reason,), = query(shop, "SELECT reason FROM pgscore.error_queue")
        assert f"; {n} {said}" in reason and reason.count(said) == 1, reason


def test_missed_events_with_a_null_id_are_not_replayed_as_if_counted_and_the_queue_row_says_so(shop):
    """An event whose id column is NULL cannot be read back by its id: retry_failed replayed the others, took the
    row's ids out and rescored the profile as if every missed event were counted (its NULL id was in the row's
    ids and matched no event), and the queue row went: support_calls 1 for 3 events, and nothing said so. Now
    the row counts them (cause->'uncounted_null_ids'), its reason says so and what to do, and retry_failed
    replays none of that row's events and leaves it queued until its counters are corrected by hand."""
    query(shop, "ALTER TABLE complaints ADD COLUMN ref int")
    (rid,), = query(shop, "SELECT pgscore.attach_rescoring('complaints', 'customers', 'customer_id', 'churn', "
                          "'churn_score', '{\"support_calls\": \"count\"}', p_profile_key => 'id', "
                          "p_event_id_column => 'ref')")
    query(shop, "UPDATE customers SET support_calls = 999 WHERE id IN (5, 6)")
    query(shop, "ALTER TABLE customers ADD CONSTRAINT few_calls CHECK (support_calls < 1000)")
    query(shop, "INSERT INTO complaints (customer_id, ref) VALUES (5, 1), (5, NULL), (5, NULL), (6, NULL)")
    rows = query(shop, "SELECT entity_key, reason, cause->'uncounted_event_ids', cause->'uncounted_events', "
                       "cause->'uncounted_null_ids' FROM pgscore.error_queue ORDER BY 1")
    assert [r[2:] for r in rows] == [([1], 3, 2), ([], 1, 1)], rows
    said = ("2 of the events its counters missed have a NULL ref (cause->'uncounted_null_ids'): retry_failed "
            "cannot replay them, so it replays none of this row's")
    assert said in rows[0][1] and "cause = cause - 'uncounted_event_ids' - 'uncounted_null_ids'" in rows[0][1], rows
    query(shop, "UPDATE customers SET support_calls = 0 WHERE id IN (5, 6)")  # the cause fixed
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 0, 2)]
    assert query(shop, "SELECT id, support_calls FROM customers WHERE id IN (5, 6) ORDER BY 1") == [(5, 0), (6, 0)]
    rows = query(shop, "SELECT entity_key, reason, sqlstate, cause->'uncounted_event_ids' FROM pgscore.error_queue "
                       "ORDER BY 1")
    assert [(k, s, i) for k, _, s, i in rows] == [("5", "22004", [1]), ("6", "22004", [])], rows
    assert rows[0][1].startswith(said) and rows[1][1].startswith("1 of the events"), rows
    # the user's correction, as the reason says
    query(shop, "ALTER TABLE customers DROP CONSTRAINT few_calls")
    query(shop, "UPDATE customers SET support_calls = 3 WHERE id = 5")
    query(shop, "UPDATE customers SET support_calls = 1 WHERE id = 6")
    query(shop, "UPDATE pgscore.error_queue SET cause = cause - 'uncounted_event_ids' - 'uncounted_null_ids'")
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 2, 0)]
    assert query(shop, "SELECT id, support_calls FROM customers WHERE id IN (5, 6) ORDER BY 1") == [(5, 3), (6, 1)]
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]


def test_refresh_windows_goes_on_past_a_queued_key_that_is_no_profile_key(shop):
    """refresh_windows matches the queued keys to the profiles as the profile key's type (above): a queue row whose
    key does not cast to it (written by hand, or a key a domain of the profile key refuses) names no profile and
    does not fail the wiring; the other queued keys are still matched (5.0 here, for profile 5)."""
    no_counts(shop)
    query(shop, "ALTER TABLE complaints ALTER COLUMN customer_id TYPE numeric")
    query(shop, "ALTER TABLE customers ALTER COLUMN id TYPE numeric")
    rid = attach(shop)
    query(shop, f"INSERT INTO complaints (customer_id, created_at) VALUES (3, {EDGE}), (5, {EDGE})")
    query(shop, "INSERT INTO pgscore.error_queue (rescoring_id, model_name, profile_table, entity_key, reason, sqlstate) "
                "VALUES (%s, 'churn', 'customers', 'no number', 'by hand', 'P0001'), "
                "(%s, 'churn', 'customers', '5.0', 'by hand', 'P0001')", (rid, rid))
    time.sleep(1.5)  # the edge complaints are now out of the window
    assert refresh(shop) == [(rid, "complaints", "customers", 1, 1, 0)]  # customer 3 alone
    assert query(shop, "SELECT id::int, complaints_30d FROM customers WHERE id IN (3, 5) ORDER BY 1") == [(3, 0), (5, 1)]



def test_refresh_windows_leaves_a_profile_queued_under_a_key_its_type_now_refuses_to_retry_failed(shop):
    """A domain key with a constraint added NOT VALID that an existing key violates: profile 5 queued under its
    exact text, '5', which no longer casts to the key's type. refresh_windows matched the queued keys as that type
    alone, leaving out a key that does not cast, so it took profile 5 for one not queued and recounted it. A queue
    row names its profile by the profile key's text first: profile 5 is left to retry_failed; customer 3 is
    recounted."""
    no_counts(shop)
    query(shop, "CREATE DOMAIN customer_key AS bigint")
    query(shop, "ALTER TABLE complaints ALTER COLUMN customer_id TYPE customer_key")
    query(shop, "ALTER TABLE customers ALTER COLUMN id TYPE customer_key")
    rid = attach(shop)
    query(shop, f"INSERT INTO complaints (customer_id, created_at) VALUES (3, {EDGE}), (5, {EDGE})")
    query(shop, "INSERT INTO pgscore.error_queue (rescoring_id, model_name, profile_table, entity_key, reason, sqlstate) "
                "VALUES (%s, 'churn', 'customers', '5', 'by hand', 'P0001')", (rid,))
    query(shop, "ALTER DOMAIN customer_key ADD CONSTRAINT not_five CHECK (VALUE <> 5) NOT VALID")
    time.sleep(1.5)  # the edge complaints are now out of the window
    assert refresh(shop) == [(rid, "complaints", "customers", 1, 1, 0)]  # customer 3 alone
    assert query(shop, "SELECT id::int, complaints_30d FROM customers WHERE id::int IN (3, 5) ORDER BY 1") == \
        [(3, 0), (5, 1)]
    assert query(shop, "SELECT entity_key FROM pgscore.error_queue") == [("5",)]


def _wired_by_ref_with_customer_5_failing(shop):
    """complaints given an int column ref, wired (counting support_calls) with ref as its event id; customer 5
    at 999 calls under a check that one more call breaks, so that its next event's counters miss. Returns the
    wiring's id."""
    query(shop, "ALTER TABLE complaints ADD COLUMN ref int")
    (rid,), = query(shop, "SELECT pgscore.attach_rescoring('complaints', 'customers', 'customer_id', 'churn', "
                          "'churn_score', '{\"support_calls\": \"count\"}', p_profile_key => 'id', "
                          "p_event_id_column => 'ref')")
    query(shop, "UPDATE customers SET support_calls = 999 WHERE id = 5")
    query(shop, "ALTER TABLE customers ADD CONSTRAINT few_calls CHECK (support_calls < 1000)")
    return rid


def test_a_queue_row_with_null_ids_keeps_its_by_hand_instruction_when_queued_again(shop):
    """A queue row whose counters missed events with a NULL id (cause->'uncounted_null_ids') says in its reason how
    to correct them by hand. Queued again for another cause (a later INSERT whose scoring failed, a retry_failed
    with no live version), its reason was overwritten by the new one: the row still held the NULL ids, which
    retry_failed never replays, and nothing said what to do. Now the instruction stays, after the new reason, once
    (a later statement that misses more such events counts them up in it)."""
    rid = _wired_by_ref_with_customer_5_failing(shop)
    query(shop, "INSERT INTO complaints (customer_id, ref) VALUES (5, 1), (5, NULL)")
    said = ("1 of the events its counters missed have a NULL ref (cause->'uncounted_null_ids'): retry_failed "
            "cannot replay them")
    row = "SELECT reason, cause->'uncounted_null_ids', attempts FROM pgscore.error_queue WHERE entity_key = '5'"
    (reason, nulls, n), = query(shop, row)
    assert said in reason and (nulls, n) == (1, 1), reason
    query(shop, "ALTER TABLE customers DROP CONSTRAINT few_calls")
    query(shop, "UPDATE customers SET support_calls = 0, age = NULL WHERE id = 5")  # now its scoring fails
    query(shop, "INSERT INTO complaints (customer_id, ref) VALUES (5, 2)")
    (reason, nulls, n), = query(shop, row)
    assert n == 2 and nulls == 1, (reason, n)
    assert said in reason and reason.count("of the events its counters missed") == 1, reason
    assert "'uncounted_null_ids' of its row, and retry" in reason, reason
    assert "age" in reason.split(said)[0], reason  # the new cause first
    # a later statement whose counters miss another event with a NULL id: counted up, said once
    query(shop, "ALTER TABLE customers ADD CONSTRAINT few_calls CHECK (id <> 5 OR support_calls < 2)")
    query(shop, "INSERT INTO complaints (customer_id, ref) VALUES (5, NULL)")
    (reason, nulls, n), = query(shop, row)
    assert nulls == 2 and reason.count("of the events its counters missed") == 1, reason
    assert "2 of the events its counters missed have a NULL ref" in reason, reason
    # retry_failed with no live version queues it again under that reason: the instruction stays
    query(shop, "ALTER TABLE customers DROP CONSTRAINT few_calls")
    query(shop, "SELECT pgscore.retire('churn')")
    assert query(shop, "SELECT rescoring_id, failed FROM pgscore.retry_failed()") == [(rid, 1)]
    (reason, nulls, n), = query(shop, row)
    assert nulls == 2 and "2 of the events its counters missed have a NULL ref" in reason and \
        reason.count("of the events its counters missed") == 1, reason


def test_a_profile_queued_under_two_spellings_of_its_key_has_each_missed_event_replayed_once(shop):
    """numeric keys: one statement's events 5 and 5.0 whose rescoring could not run (a counter's column renamed)
    queue profile 5 under both spellings, '5' and '5.0' (the event keys' texts). Each queue row named the ids of
    the events whose key's text, or whose profile's, was its own: '5' both events, '5.0' the second again, and a
    retry_failed that took the rows one at a time (p_limit) replayed the second event twice (support_calls 3 for
    2 events). Now each missed event's id is in one row: its profile's key's where that is queued."""
    query(shop, "ALTER TABLE complaints ALTER COLUMN customer_id TYPE numeric")
    query(shop, "ALTER TABLE customers ALTER COLUMN id TYPE numeric")
    (rid,), = query(shop, "SELECT pgscore.attach_rescoring('complaints', 'customers', 'customer_id', 'churn', "
                          "'churn_score', '{\"support_calls\": \"count\"}', p_profile_key => 'id')")
    query(shop, "UPDATE customers SET support_calls = 0 WHERE id = 5")
    query(shop, "ALTER TABLE customers RENAME support_calls TO calls")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (5), (5.0)")
    query(shop, "ALTER TABLE customers RENAME calls TO support_calls")  # the cause fixed
    rows = query(shop, "SELECT entity_key, cause->'uncounted_event_ids' FROM pgscore.error_queue ORDER BY 1")
    assert [k for k, _ in rows] == ["5", "5.0"], rows
    named = [i for _, ids in rows for i in ids or []]
    assert sorted(named) == [1, 2], rows  # each event once
    assert query(shop, "SELECT * FROM pgscore.retry_failed(p_limit => 1)") == [(rid, 1, 0)]
    assert query(shop, "SELECT * FROM pgscore.retry_failed(p_limit => 1)") == [(rid, 1, 0)]
    assert query(shop, "SELECT support_calls FROM customers WHERE id = 5") == [(2,)]
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]


def test_a_queue_row_marked_before_with_a_null_among_its_ids_is_not_replayed_either(shop):
    """A row whose missed events were named before uncounted_null_ids was kept holds their NULL ids among its
    uncounted_event_ids: retry_failed replayed its other events and cleared it as if all were counted; now it leaves
    it queued (22004), saying how many NULL ids it holds, as for a row marked now."""
    rid = _wired_by_ref_with_customer_5_failing(shop)
    query(shop, "INSERT INTO complaints (customer_id, ref) VALUES (5, 1), (5, 2)")
    query(shop, "UPDATE customers SET support_calls = 0 WHERE id = 5")  # the cause fixed
    query(shop, "UPDATE complaints SET ref = NULL WHERE ref = 2")
    # as the trigger marked it before: the NULL id among the ids, no uncounted_null_ids
    query(shop, "UPDATE pgscore.error_queue SET cause = cause - 'uncounted_null_ids' "
                "|| '{\"uncounted_event_ids\": [1, null], \"uncounted_events\": 2}'")
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 0, 1)]
    assert query(shop, "SELECT support_calls FROM customers WHERE id = 5") == [(0,)]
    (reason, state, ids), = query(shop, "SELECT reason, sqlstate, cause->'uncounted_event_ids' FROM pgscore.error_queue")
    assert reason.startswith("1 of the events its counters missed have a NULL ref") and state == "22004", reason
    assert ids == [1, None]


def test_a_wiring_error_names_key_columns_as_sql_writes_them(shop):
    """attach_rescoring's refusals of the key columns (types that do not fit, collations, no unique index) named
    them bare after their quoted table: `public."Odd Calls".Order ID is bigint and public.odd_profiles.order is
    integer`. Each is quoted as quote_ident quotes it now, as the table is."""
    query(shop, 'CREATE TABLE "Odd Calls" ("Order ID" bigint)')
    query(shop, 'CREATE TABLE odd_profiles ("order" int PRIMARY KEY, churn_score float8, scored_at timestamptz, '
                "n int DEFAULT 0)")
    with pytest.raises(psycopg2.Error) as e:
        query(shop, "SELECT pgscore.attach_rescoring('\"Odd Calls\"', 'odd_profiles', 'Order ID', 'nobody', "
                    "'churn_score', '{\"n\": \"count\"}', p_profile_key => 'order')")
    assert e.value.pgcode == "42804", e.value.pgerror
    assert 'public."Odd Calls"."Order ID" is bigint and public.odd_profiles."order" is integer' in e.value.pgerror
    query(shop, 'CREATE TABLE loose_profiles ("order" bigint, churn_score float8, scored_at timestamptz, n int)')
    with pytest.raises(psycopg2.Error) as e:
        query(shop, "SELECT pgscore.attach_rescoring('\"Odd Calls\"', 'loose_profiles', 'Order ID', 'nobody', "
                    "'churn_score', '{\"n\": \"count\"}', p_profile_key => 'order')")
    assert 'public.loose_profiles."order" has no unique index of its own' in e.value.pgerror, e.value.pgerror


def test_attach_refuses_a_score_or_scored_at_column_a_generated_feature_is_computed_from(shop):
    """A feature column of the profile table that PostgreSQL generates from the score column (or scored_at) is
    changed by each rescoring's write, and read by the next: refused (22023) as a score column that is a feature
    is, naming the feature; a feature generated from other columns is wired."""
    query(shop, "ALTER TABLE customers DROP COLUMN satisfaction, ADD COLUMN satisfaction float8 "
                "GENERATED ALWAYS AS (coalesce(churn_score, 0) * 10) STORED")
    counters = json.dumps(sample.COUNTERS)
    with pytest.raises(errors.InvalidParameterValue) as e:
        attach(shop)
    assert e.value.diag.message_primary == (
        "pgscore: public.customers.churn_score (the score column) is one that feature 'satisfaction' of model churn v1 "
        "is generated from: each rescoring would feed its own output back in"), e.value.diag.message_primary
    assert e.value.diag.message_detail == ("satisfaction GENERATED ALWAYS AS ((COALESCE(churn_score, (0)::double "
                                           "precision) * (10)::double precision)) STORED")
    query(shop, "ALTER TABLE customers DROP COLUMN satisfaction, ADD COLUMN satisfaction float8 "
                "GENERATED ALWAYS AS (CASE WHEN scored_at IS NULL THEN 0 ELSE 1 END) STORED")
    with pytest.raises(errors.InvalidParameterValue) as e:
        with shop.cursor() as cur:
            cur.execute("SELECT pgscore.attach_rescoring('complaints', 'customers', 'customer_id', 'churn', "
                        "'churn_score', %s::jsonb, p_scored_at_column => 'scored_at', p_profile_key => 'id')",
                        (counters,))
    assert e.value.diag.message_primary == (
        "pgscore: public.customers.scored_at (the scored_at column) is one that feature 'satisfaction' of model "
        "churn v1 is generated from: each rescoring would feed its own output back in"), e.value.diag.message_primary
    assert query(shop, "SELECT count(*) FROM pgscore.rescoring") == [(0,)]
    query(shop, "ALTER TABLE customers DROP COLUMN satisfaction, ADD COLUMN satisfaction float8 "
                "GENERATED ALWAYS AS (coalesce(age, 0) / 10) STORED")  # (from a column rescoring never writes)
    attach(shop)
    assert query(shop, "SELECT count(*) FROM pgscore.rescoring") == [(1,)]


# -- backfill_rescoring: counters brought up to date with the whole event table -------------------------------

# every kind of counter, on columns of customers the model does not read but support_calls and complaints_30d
HISTORY_COUNTERS = {
    "support_calls": "count",
    "complaints_30d": {"window": "30 days", "time": "created_at"},
    "last_complaint_at": {"max": "created_at"},
    "first_complaint_at": {"min": "created_at"},
    "billing": {"add": "(e.kind = 'billing')::int"},
    "last_kind": {"last": "e.kind", "by": "e.created_at"},
    "kinds": {"set": "pg_catalog.count(DISTINCT e.kind)"},
    "every": {"recompute": "pg_catalog.count(*)"},
}
# what each counter holds, counted by hand from the event table
BY_HAND = ("SELECT c.id, c.support_calls::int, c.complaints_30d::int, c.last_complaint_at, c.first_complaint_at, "
           "c.billing, c.last_kind, c.every, h.n::int, h.n30::int, h.mx, h.mn, h.b, h.lk, h.n::bigint "
           "FROM customers c JOIN (SELECT customer_id, count(*) AS n, "
           "count(*) FILTER (WHERE created_at > now() - interval '30 days') AS n30, max(created_at) AS mx, "
           "min(created_at) AS mn, sum((kind = 'billing')::int) AS b, "
           "(array_agg(kind ORDER BY created_at DESC))[1] AS lk FROM complaints GROUP BY customer_id) h "
           "ON h.customer_id = c.id ORDER BY c.id")


def history_shop(conn, profiles=20):
    """Customers 1..profiles with NULL counters and 3 to 6 complaints each (a week apart, the newest a day old:
    some out of the window), and one complaint of customer 1001, who has no profile, inserted unwired."""
    query(conn, "ALTER TABLE customers ADD COLUMN first_complaint_at timestamptz, ADD COLUMN billing bigint, "
                "ADD COLUMN last_kind text, ADD COLUMN kinds bigint, ADD COLUMN every bigint")
    query(conn, "UPDATE customers SET support_calls = NULL, complaints_30d = NULL WHERE id <= %s", (profiles,))
    query(conn, "INSERT INTO complaints (customer_id, kind, created_at) SELECT c, CASE WHEN i %% 2 = 0 THEN 'billing' "
                "ELSE 'network' END, now() - interval '1 day' - i * interval '7 days' "
                "FROM generate_series(1, %s) c, generate_series(0, 2 + c %% 4) i "
                "UNION ALL SELECT 1001, 'billing', now()", (profiles,))
    return query(conn, "SELECT count(*) FROM complaints")[0][0]


def assert_counted_by_hand(conn):
    rows = query(conn, BY_HAND)
    assert rows, "no profile has events"
    for r in rows:
        assert r[1:8] == r[8:15], r


def test_attach_on_history_warns_and_backfill_rescoring_counts_every_counter_from_it(shop, trained):
    """attach_rescoring over an event table that holds events warns that the counters counting new events alone
    (count, add, max, min, last, set) have not counted them, naming them and the events, and points to
    backfill_rescoring; that one recounts every counter a rule defines over all of the events (a set's aggregate
    of the last statement's events is not: skipped with a NOTICE), creates the missing profiles as the wiring
    does, and rescores what changed, audited (source refresh, via backfill_rescoring); a second call finds
    nothing to change."""
    model = trained[0]
    n = history_shop(shop)
    shop.notices.clear()
    rid = attach(shop, counters=HISTORY_COUNTERS)
    said = [x for x in shop.notices if "backfill_rescoring" in x]
    assert len(said) == 1, shop.notices
    assert (f"WARNING:  pgscore: {n} event(s) of public.complaints were inserted before the wiring: its counters "
            "kinds (set), billing (add), last_kind (last), support_calls (count), last_complaint_at (max), "
            "first_complaint_at (min) count only new events, so they leave these out") in said[0], said[0]
    assert "HINT:  SELECT pgscore.backfill_rescoring('public.complaints')" in said[0], said[0]
    query(shop, "INSERT INTO complaints (customer_id, kind) VALUES (5, 'billing')")
    assert query(shop, "SELECT support_calls, billing FROM customers WHERE id = 5") == [(1.0, 1)]  # history missed
    logged = query(shop, "SELECT count(*) FROM pgscore.prediction_log")[0][0]
    shop.notices.clear()
    assert query(shop, "SELECT pgscore.backfill_rescoring('complaints')") == [(21,)]  # 20 customers and 1001 created
    assert any("counter kinds (set) is not backfilled" in x for x in shop.notices), shop.notices
    assert_counted_by_hand(shop)
    assert query(shop, "SELECT support_calls, complaints_30d FROM customers WHERE id = 1001") == [(1.0, 1.0)]
    ids = list(range(1, 21))  # (1001 was created with its counters alone: its features are NULL, it is queued)
    assert_scores_match_model(shop, model, ids)
    assert query(shop, "SELECT count(*) FROM customers WHERE id = ANY(%s) AND abs(churn_score - pgscore.score("
                       "'churn', ARRAY[" + ", ".join(CHURN_FEATURES) + "]::float8[])) > 1e-12", (ids,)) == [(0,)]
    rows = query(shop, "SELECT source, cause->>'via', (cause->>'rescoring_id')::bigint, cause->>'event_table', "
                       "count(*) FROM pgscore.prediction_log GROUP BY 1, 2, 3, 4 ORDER BY 1, 2")
    assert ("refresh", "backfill_rescoring", rid, "public.complaints", 20) in rows, rows
    # (and pgscore.score's own rows, source query)
    assert query(shop, "SELECT count(*) FROM pgscore.prediction_log WHERE source <> 'query'")[0][0] == logged + 20
    assert query(shop, "SELECT entity_key, cause->>'via' FROM pgscore.error_queue") == [("1001", "backfill_rescoring")]
    before = versions(shop, ids)
    assert query(shop, "SELECT pgscore.backfill_rescoring('public.complaints')") == [(0,)]
    assert versions(shop, ids) == before


def test_a_detach_and_attach_again_warns_of_the_events_inserted_between_and_backfill_counts_them(shop, trained):
    """Events inserted while the table was detached are not counted by the wiring attached again: attach warns
    (the events the table holds), and backfill_rescoring counts them."""
    attach(shop)
    query(shop, "UPDATE customers SET support_calls = 0 WHERE id = 7")
    query(shop, "INSERT INTO complaints (customer_id) SELECT 7 FROM generate_series(1, 3)")
    query(shop, "SELECT pgscore.detach_rescoring('complaints')")
    query(shop, "INSERT INTO complaints (customer_id, created_at) VALUES (7, now() + interval '1 hour'), (7, now())")
    shop.notices.clear()
    attach(shop)
    assert any("5 event(s) of public.complaints were inserted before the wiring: its counters support_calls "
               "(count), last_complaint_at (max) count only new events" in x for x in shop.notices), shop.notices
    query(shop, "INSERT INTO complaints (customer_id) VALUES (7)")
    assert query(shop, "SELECT support_calls FROM customers WHERE id = 7") == [(4.0,)]  # 2 of the 6 missed
    assert query(shop, "SELECT pgscore.backfill_rescoring('complaints')") == [(1,)]
    assert query(shop, "SELECT support_calls, complaints_30d, last_complaint_at = (SELECT max(created_at) FROM "
                       "complaints) FROM customers WHERE id = 7") == [(6.0, 6.0, True)]
    assert_scores_match_model(shop, trained[0], [7])


def test_attach_on_history_with_counters_holding_values_says_the_backfill_replaces_them(shop):
    """The demo's case: support_calls loaded with the customers (from another source than complaints),
    last_complaint_at from the complaints: the warning says those counters hold values already, and its hint that
    backfill_rescoring replaces them (support_calls would become the complaints' count), not to run it blindly."""
    query(shop, "UPDATE customers SET support_calls = 9, last_complaint_at = now() WHERE id = 3")
    query(shop, "UPDATE customers SET support_calls = NULL, last_complaint_at = NULL WHERE id = 4")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (3), (4)")
    shop.notices.clear()
    attach(shop)
    said = [x for x in shop.notices if "inserted before the wiring" in x]
    assert len(said) == 1, shop.notices
    assert ("2 event(s) of public.complaints were inserted before the wiring: its counters support_calls (count), "
            "last_complaint_at (max) count only new events; support_calls, last_complaint_at hold values already "
            "for profiles these events name") in said[0], said[0]
    assert ("HINT:  SELECT pgscore.backfill_rescoring('public.complaints') replaces every counter's value with what "
            "the event table's events give") in said[0], said[0]
    assert "a value loaded from another source (not this table's events)" in said[0], said[0]
    assert query(shop, "SELECT support_calls FROM customers WHERE id = 3") == [(9.0,)]  # (attach wrote nothing)


def test_attach_on_an_empty_event_table_or_with_only_counters_that_recount_does_not_warn(shop):
    attach(shop)
    assert not any("inserted before the wiring" in x for x in shop.notices), shop.notices
    query(shop, "SELECT pgscore.detach_rescoring('complaints')")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (3)")
    attach(shop, counters={"complaints_30d": {"window": "30 days", "time": "created_at"}})
    assert not any("inserted before the wiring" in x for x in shop.notices), shop.notices


def test_backfill_waits_for_an_insert_holding_a_profile_and_counts_its_events(shop, db_url, trained):
    """backfill_rescoring locks the profiles in key order, then recounts in a statement of its own: an INSERT
    that held a profile and committed while it waited is counted, once."""
    history_shop(shop)
    attach(shop, counters=HISTORY_COUNTERS)

    def hold(conn):
        query(conn, "INSERT INTO complaints (customer_id, kind) VALUES (9, 'billing'), (12, 'network')")

    run_past_a_lock(db_url, hold, "SELECT pgscore.backfill_rescoring('complaints')", "the INSERT's lock on 9")
    assert_counted_by_hand(shop)
    assert_scores_match_model(shop, trained[0], list(range(1, 21)))


def test_an_insert_waiting_for_a_backfill_adds_its_events_to_the_backfilled_counters(shop, db_url, trained):
    history_shop(shop)
    attach(shop, counters=HISTORY_COUNTERS)

    def hold(conn):
        return query(conn, "SELECT pgscore.backfill_rescoring('complaints')")

    held, _ = run_past_a_lock(db_url, hold, "INSERT INTO complaints (customer_id, kind) VALUES (9, 'billing'), "
                                            "(1002, 'network')", "the backfill's lock on 9")
    assert held == [(21,)]
    assert_counted_by_hand(shop)
    assert_scores_match_model(shop, trained[0], [9])


def test_backfill_creating_a_profile_does_not_deadlock_with_an_insert_holding_another(shop, db_url, trained):
    """The trigger locks a statement's existing profiles, then creates the missing ones: a backfill that created
    the missing profile 3 (its history names it) before locking the existing ones deadlocked with a transaction
    holding customer 15 whose next INSERT names 3 (40P01, one of them rolled back); its INSERT ... ON CONFLICT
    also waited for every profile another transaction was updating, before its own locks. It creates the missing
    ones alone, after locking the existing ones, and counts them then."""
    import threading

    from helpers import waits_on_a_lock

    history_shop(shop)
    query(shop, "DELETE FROM customers WHERE id = 3")  # (its complaints stay: its profile is missing)
    attach(shop, counters=HISTORY_COUNTERS)
    holder, waiter, probe = (psycopg2.connect(db_url) for _ in range(3))
    waiter.autocommit = probe.autocommit = True
    try:
        query(holder, "SET deadlock_timeout = '100ms'")
        query(holder, "INSERT INTO complaints (customer_id, kind) VALUES (15, 'billing')")  # (holds customer 15)
        done = []
        t = threading.Thread(target=lambda: done.append(query(waiter, "SELECT pgscore.backfill_rescoring("
                                                                      "'complaints')")))
        t.start()
        assert waits_on_a_lock(probe, waiter.get_backend_pid(), t), "the backfill never waited for customer 15"
        query(holder, "INSERT INTO complaints (customer_id, kind) VALUES (3, 'network')")  # 40P01 before
        holder.commit()
        t.join(30)
        assert done, "the backfill failed or did not finish"
    finally:
        holder.rollback()
        for c in (holder, waiter, probe):
            c.close()
    ids = [i for i in range(1, 21) if i != 3]  # (3, created with NULL features, is queued: left to retry_failed)
    assert query(shop, "SELECT count(*) FROM customers WHERE id = ANY(%s) AND support_calls = (SELECT count(*) "
                       "FROM complaints WHERE customer_id = customers.id)", (ids,)) == [(19,)]
    assert_scores_match_model(shop, trained[0], ids)


def test_backfill_under_queue_creates_no_profile_and_skips_null_keys(shop, trained):
    """p_missing_profile 'queue': the backfill creates no profile, a NOTICE counts the keys with none, and the
    events with a NULL key are counted nowhere; the existing profiles are counted by hand."""
    history_shop(shop)
    query(shop, "INSERT INTO complaints (customer_id, kind) VALUES (NULL, 'billing'), (NULL, 'network')")
    attach(shop, counters=HISTORY_COUNTERS, missing_profile="queue")
    shop.notices.clear()
    assert query(shop, "SELECT pgscore.backfill_rescoring('complaints')") == [(20,)]
    assert any("1 key(s) of public.complaints's events have no profile in public.customers" in x
               for x in shop.notices), shop.notices
    assert query(shop, "SELECT count(*) FROM customers WHERE id = 1001 OR id IS NULL") == [(0,)]
    assert_counted_by_hand(shop)
    assert_scores_match_model(shop, trained[0], list(range(1, 21)))


def test_backfill_leaves_the_queued_profiles_to_retry_failed_and_refuses_what_is_not_wired(shop):
    """A profile queued in pgscore.error_queue may hold events retry_failed replays: backfill_rescoring leaves
    it (a NOTICE says how many); an event table not wired is refused as refresh_windows refuses it."""
    attach(shop)
    query(shop, "SELECT pgscore.retire('churn')")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (5), (6)")  # queued, counted
    query(shop, "SELECT pgscore.activate('churn', 1)")
    query(shop, "UPDATE customers SET support_calls = 0 WHERE id = 6")
    shop.notices.clear()
    assert query(shop, "SELECT pgscore.backfill_rescoring('complaints')") == [(0,)]
    assert any("2 profile(s) of public.customers queued in pgscore.error_queue were left" in x for x in shop.notices), \
        shop.notices
    assert query(shop, "SELECT support_calls FROM customers WHERE id = 6") == [(0.0,)]
    with pytest.raises(errors.UndefinedObject) as e:
        query(shop, "SELECT pgscore.backfill_rescoring('customers')")
    assert "customers is not wired for rescoring" in str(e.value)


def test_pgscore_backfill_runs_backfill_rescoring_and_exits_1_when_it_warned(shop, db_url):
    """pgscore backfill --table EVENTS (docs/cli.md): the profiles recounted; exit 1 when a profile was queued."""
    history_shop(shop)
    attach(shop)
    r = pgscore_cli("backfill", "--table", "complaints", "--db", db_url)
    assert r.returncode == 1, r  # 1001, created with its counters alone, cannot be scored: queued
    assert ("complaints: every profile's counters recounted from the event table's events; 21 profiles changed, "
            "rescored where scored") in r.stdout + r.stderr, r
    assert "could not be rescored" in r.stdout + r.stderr, r
    assert_counted_by_hand_sample(shop)
    r = pgscore_cli("backfill", "--table", "complaints", "--db", db_url)
    assert r.returncode == 0 and "events; 0 profiles changed," in r.stdout + r.stderr, r


def test_backfill_of_25000_profiles_in_three_chunks_as_an_app_role(shop, trained):
    """More than one 10,000-profile statement (25,000 profiles: three), run by a role granted pgscore_app and the
    tables' privileges alone: every counter equals the count by hand, every profile rescored once (one audit row
    each), and a second call changes nothing."""
    cols = ", ".join(CHURN_FEATURES)
    query(shop, "DELETE FROM customers")
    query(shop, f"INSERT INTO customers (id, {cols}) SELECT g, 10 + g % 50, 20 + g % 70, NULL, 0, g % 3, "
                + ", ".join(["0"] * (len(CHURN_FEATURES) - 5)) + " FROM generate_series(1, 25000) AS g")
    query(shop, "INSERT INTO complaints (customer_id, created_at) SELECT g % 25000 + 1, now() - g * interval '1 min' "
                "FROM generate_series(0, 49999) AS g")
    attach(shop)
    login = "pgscore_t_backfill_app"
    ensure_role(shop, login)
    query(shop, f"GRANT pgscore_app TO {login}; GRANT SELECT ON complaints TO {login}; "
                f"GRANT SELECT, UPDATE, INSERT ON customers TO {login}")
    query(shop, f"SET ROLE {login}")
    try:
        assert query(shop, "SELECT pgscore.backfill_rescoring('complaints')") == [(25000,)]
        assert query(shop, "SELECT pgscore.backfill_rescoring('complaints')") == [(0,)]
    finally:
        query(shop, "RESET ROLE")
    assert_counted_by_hand_sample(shop)
    assert query(shop, "SELECT count(*), count(DISTINCT entity_key) FROM pgscore.prediction_log "
                       "WHERE cause->>'via' = 'backfill_rescoring'") == [(25000, 25000)]
    assert query(shop, "SELECT count(*) FROM customers WHERE support_calls <> 2 OR churn_score IS NULL") == [(0,)]


def assert_counted_by_hand_sample(conn):
    assert query(conn, "SELECT count(*) FROM customers c WHERE support_calls IS DISTINCT FROM (SELECT count(*) FROM "
                       "complaints e WHERE e.customer_id = c.id) AND EXISTS (SELECT 1 FROM complaints e "
                       "WHERE e.customer_id = c.id)") == [(0,)]


# -- rescore_profiles: the profiles as they are, with the live version (after a rollback, a profile's own UPDATE) --

def test_rescore_profiles_after_a_rollback_writes_the_live_versions_scores_and_scored_at(shop, trained):
    """After a rollback the wired profiles keep the score of the version no longer live (the trial's customer 11);
    pgscore.rescore_profiles rescores them with the live one, score and scored_at as the trigger writes them, one
    audit row each (source refresh, via rescore_profiles), in pages of p_limit profiles after p_after."""
    from sklearn.ensemble import RandomForestClassifier

    model, X, y = trained
    attach(shop)
    v2 = RandomForestClassifier(n_estimators=10, max_depth=5, random_state=0).fit(X, y)
    registry.deploy(shop.dsn, "churn", v2, X, y, feature_names=CHURN_FEATURES)
    query(shop, "INSERT INTO complaints (customer_id) VALUES (11), (12)")
    query(shop, "SELECT pgscore.rollback('churn')")
    (stored, live), = query(shop, "SELECT churn_score, pgscore.score('churn', to_jsonb(c)) FROM customers c "
                                  "WHERE id = 11")
    assert abs(stored - live) > 1e-6  # v2's score, stale
    before = query(shop, "SELECT scored_at FROM customers WHERE id = 11")[0][0]
    query(shop, "UPDATE customers SET monthly_charges = monthly_charges + 40 WHERE id = 13")  # its own column
    rows = query(shop, "SELECT rescoring_id, profile_table::text, rescored, failed, last_key "
                       "FROM pgscore.rescore_profiles('complaints', p_limit => 200)")
    assert [r[1:] for r in rows] == [("customers", 200, 0, "200")]
    rows = query(shop, "SELECT rescored, failed, last_key FROM pgscore.rescore_profiles('complaints', 'customers', "
                       "p_after => '200', p_limit => 200)")
    assert rows == [(N_CUSTOMERS - 200, 0, None)]
    assert_scores_match_model(shop, model, range(1, N_CUSTOMERS + 1))
    assert query(shop, "SELECT scored_at > %s FROM customers WHERE id = 11", (before,)) == [(True,)]
    assert query(shop, "SELECT count(*), count(DISTINCT entity_key) FROM pgscore.prediction_log "
                       "WHERE source = 'refresh' AND cause->>'via' = 'rescore_profiles'") == [(N_CUSTOMERS, N_CUSTOMERS)]


def test_rescore_profiles_leaves_the_queued_and_refuses_bad_arguments(shop):
    """A queued profile is left to retry_failed (a NOTICE counts it); NULLs, a limit below 1, a table not wired, and
    p_after over two wirings are refused with their SQLSTATEs."""
    attach(shop)
    query(shop, "SELECT pgscore.retire('churn')")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (5)")  # queued
    query(shop, "SELECT pgscore.activate('churn', 1)")
    shop.notices.clear()
    assert query(shop, "SELECT rescored FROM pgscore.rescore_profiles('complaints')") == [(N_CUSTOMERS - 1,)]
    assert any("1 profile(s) of public.customers queued in pgscore.error_queue were left" in x
               for x in shop.notices), shop.notices
    with pytest.raises(errors.NullValueNotAllowed):
        query(shop, "SELECT * FROM pgscore.rescore_profiles(NULL)")
    with pytest.raises(errors.InvalidParameterValue):
        query(shop, "SELECT * FROM pgscore.rescore_profiles('complaints', p_limit => 0)")
    with pytest.raises(errors.UndefinedObject) as e:
        query(shop, "SELECT * FROM pgscore.rescore_profiles('customers')")
    assert "customers is not wired for rescoring" in str(e.value)
    query(shop, "CREATE TABLE customers2 (LIKE customers INCLUDING ALL)")
    attach(shop, customers="customers2")
    with pytest.raises(errors.InvalidParameterValue) as e:
        query(shop, "SELECT * FROM pgscore.rescore_profiles('complaints', p_after => '5')")
    assert "complaints has 2 wirings: p_after is a key of one profile table" in str(e.value), e.value
    assert query(shop, "SELECT rescored, last_key FROM pgscore.rescore_profiles('complaints', 'customers2', '5')") \
        == [(0, None)]
    query(shop, "SELECT pgscore.retire('churn')")
    with pytest.raises(errors.ObjectNotInPrerequisiteState) as e:
        query(shop, "SELECT * FROM pgscore.rescore_profiles('complaints')")
    assert "cannot be rescored: model 'churn' has no live version (it was retired)" in str(e.value), e.value


def test_pgscore_rollback_and_status_count_the_profiles_another_version_scored_and_pgscore_rescore_fixes_them(
        shop, db_url, trained):
    """The trial's finding: after pgscore rollback nothing said the wired profiles kept v2's scores. rollback (and
    activate) say how many and the command, so does status, the SQL functions a NOTICE with the hint; pgscore rescore
    rescores them with the live version in chunks (a line per chunk), after which nothing is said."""
    from sklearn.ensemble import RandomForestClassifier

    model, X, y = trained
    attach(shop)
    v2 = RandomForestClassifier(n_estimators=10, max_depth=5, random_state=0).fit(X, y)
    registry.deploy(shop.dsn, "churn", v2, X, y, feature_names=CHURN_FEATURES)
    query(shop, "INSERT INTO complaints (customer_id) VALUES (11), (12)")
    r = pgscore_cli("rollback", "churn", "--db", db_url)
    assert r.returncode == 0, r
    said = ("churn: 2 profiles of public.customers (wired from public.complaints) hold another version's score until "
            "their next event; rescore them with the live version: ")
    assert said in r.stderr and "rescore --table public.complaints" in r.stderr, r
    assert said in pgscore_cli("status", "--db", db_url).stdout
    shop.notices.clear()
    query(shop, "SELECT pgscore.activate('churn', 2)")
    assert any("the profiles of public.customers (wired from public.complaints) keep the scores another version gave "
               "them until their next event" in n for n in shop.notices), shop.notices
    query(shop, "SELECT pgscore.activate('churn', 1)")
    r = pgscore_cli("rescore", "--table", "complaints", "--chunk-size", "100", "--db", db_url)
    assert r.returncode == 0, r
    assert "wiring 1: complaints -> customers: 100 rescored, 0 queued so far (after key 100)" in r.stdout, r
    assert (f"wiring 1: complaints -> customers: {N_CUSTOMERS} rescored with the live version, 0 queued"
            in r.stdout), r
    assert_scores_match_model(shop, model, range(1, N_CUSTOMERS + 1))
    assert "another version's score" not in pgscore_cli("status", "--db", db_url).stdout
    r = pgscore_cli("rescore", "--table", "customers", "--db", db_url)
    assert r.returncode == 2 and "customers is not wired for rescoring" in r.stderr, r


def test_a_profile_scored_by_the_version_before_while_a_go_live_commits_is_counted(shop, db_url, trained):
    """A profile's version was read as the one whose go-live's deployed_at (clock_timestamp, inside the go-live's
    transaction) is the last at or before its scored_at (its scoring transaction's start). An event scored while the
    go-live's transaction was still open, after that row was written, is scored by the version before, its scored_at
    later than the deployed_at: it was counted as the live version's, and pgscore status said nothing of it (review
    r4: customer 11 kept v1's score, v2 live, 0 counted). The count errs towards too many, as stale_scores says: a
    profile scored since the last go-live is counted where its audit row (logged_at its scored_at) is another
    version's."""
    from sklearn.ensemble import RandomForestClassifier

    model, X, y = trained
    attach(shop)
    v2 = RandomForestClassifier(n_estimators=10, max_depth=5, random_state=0).fit(X, y)
    registry.deploy(shop.dsn, "churn", v2, X, y, feature_names=CHURN_FEATURES)
    query(shop, "SELECT pgscore.rollback('churn')")  # v1 live
    going = psycopg2.connect(db_url)
    try:
        with going.cursor() as cur:
            cur.execute("SELECT pgscore.activate('churn', 2)")
            time.sleep(0.05)
            query(shop, "INSERT INTO complaints (customer_id) VALUES (11)")  # scored by v1, v2's go-live not committed
        going.commit()
    finally:
        going.close()
    (stored, live), = query(shop, "SELECT churn_score, pgscore.score('churn', to_jsonb(c)) FROM customers c "
                                  "WHERE id = 11")
    assert abs(stored - live) > 1e-6  # v1's score, stale
    said = ("churn: 1 profile of public.customers (wired from public.complaints) holds another version's score until "
            "its next event")
    out = pgscore_cli("status", "--db", db_url).stdout
    assert said in out, out


def test_pgscore_deploy_that_goes_live_counts_the_profiles_another_version_scored(shop, db_url, trained, tmp_path):
    """A deploy that makes its version live leaves the wired profiles with the version before's score as activate
    and rollback do; they said so (a line per wiring, with pgscore rescore), deploy said nothing (review r4: after
    `pgscore deploy churn_v2.joblib`, pgscore status counted 9 wirings' profiles, deploy's output none)."""
    import joblib
    from sklearn.ensemble import RandomForestClassifier

    _model, X, y = trained
    attach(shop)
    query(shop, "INSERT INTO complaints (customer_id) VALUES (11), (12)")  # scored by v1
    v2 = RandomForestClassifier(n_estimators=10, max_depth=5, random_state=0).fit(X, y)
    path = tmp_path / "v2.joblib"
    joblib.dump(v2, path)
    r = pgscore_cli("deploy", str(path), "--name", "churn", "--features", ",".join(CHURN_FEATURES), "--db", db_url)
    assert r.returncode == 0, r
    said = ("churn: 2 profiles of public.customers (wired from public.complaints) hold another version's score until "
            "their next event; rescore them with the live version: ")
    assert said in r.stderr and "rescore --table public.complaints" in r.stderr, r
    r = pgscore_cli("deploy", str(path), "--name", "churn", "--features", ",".join(CHURN_FEATURES), "--no-activate",
                    "--again", "--db", db_url)
    assert r.returncode == 0 and "another version's score" not in r.stderr, r  # (not live: nothing changed)


def test_register_model_that_goes_live_raises_the_notice_of_activate_per_wiring(shop, trained):
    """pgscore.register_model making its version live (registry.deploy, alembic's deploy_model) leaves the wired
    profiles with the version before's score, as activate does; activate and rollback raise a NOTICE per wiring
    with the rescore_profiles call (0131), register_model raised none (review r4). Not for a first version, nor
    one stored without going live."""
    from sklearn.ensemble import RandomForestClassifier

    _model, X, y = trained
    attach(shop)
    v2 = RandomForestClassifier(n_estimators=10, max_depth=5, random_state=0).fit(X, y)
    said = ("the profiles of public.customers (wired from public.complaints) keep the scores another version gave "
            "them until their next event")
    shop.notices.clear()
    registry.deploy(shop, "churn", v2, X, y, feature_names=CHURN_FEATURES, activate=False)
    assert not any(said in n for n in shop.notices), shop.notices
    registry.deploy(shop, "churn", v2, X, y, feature_names=CHURN_FEATURES)
    assert len([n for n in shop.notices if said in n]) == 1, shop.notices


@pytest.mark.parametrize("path", ["sql", "python"])
def test_scored_at_never_moves_backwards_when_a_transaction_that_began_earlier_scores_the_profile_later(
        shop, trained, path):
    """Session 62: scored_at was the writer's now(), the start of its transaction: an event INSERT (or a
    rescore_profiles) in a transaction that began before another session scored the profile, writing after it
    committed, left the newer score (its counters the newest, read under the lock) with an older scored_at. The
    last committed writer's score stands, and scored_at never moves backwards (the later of the two times), on the
    trigger's SQL path (a linear model) and its Python path (a forest), and by rescore_profiles."""
    from sklearn.ensemble import RandomForestClassifier

    model, X, y = trained
    attach(shop)
    if path == "python":
        model = RandomForestClassifier(n_estimators=10, max_depth=5, random_state=0).fit(X, y)
        registry.deploy(shop.dsn, "churn", model, X, y, feature_names=CHURN_FEATURES)
    early = psycopg2.connect(shop.dsn)
    try:
        for second in ("INSERT INTO complaints (customer_id) VALUES (7)",
                       "SELECT * FROM pgscore.rescore_profiles('complaints', p_limit => 10)"):
            with early.cursor() as cur:
                cur.execute("SELECT now()")  # the transaction begins (and its now() is fixed)
                (began,) = cur.fetchone()
                time.sleep(0.05)
                query(shop, "INSERT INTO complaints (customer_id) VALUES (7)")  # another session, committed
                (later,) = query(shop, "SELECT scored_at FROM customers WHERE id = 7")[0]
                assert later > began
                cur.execute(second)
            early.commit()
            (at, calls) = query(shop, "SELECT scored_at, complaints_30d FROM customers WHERE id = 7")[0]
            assert at >= later, (second, at, later)
            assert_scores_match_model(shop, model, [7])  # the newest counters' score
        assert calls == 3
    finally:
        early.close()


def test_score_chunk_into_a_wired_score_column_never_moves_its_scored_at_backwards(shop, trained):
    """Review r6 (session 62): score_chunk (pgscore score) into a wiring's score column stamps the wiring's scored_at
    with the chunk's now(), where every other write of it is GREATEST(scored_at, now()): a chunk whose transaction
    began before an event's, writing after that one committed, moved the profile's scored_at back to before the
    event's (a reader polling `scored_at > last seen` misses the row). It keeps the later of the two, as the
    trigger does; the score written is the chunk's (the last committed writer's)."""
    attach(shop)
    early = psycopg2.connect(shop.dsn)
    try:
        with early.cursor() as cur:
            cur.execute("SELECT now()")  # the chunk's transaction begins (its now() fixed)
            (began,) = cur.fetchone()
            time.sleep(0.05)
            query(shop, "INSERT INTO complaints (customer_id) VALUES (7)")  # another session, committed
            (later,) = query(shop, "SELECT scored_at FROM customers WHERE id = 7")[0]
            assert later > began
            cur.execute("SELECT * FROM pgscore.score_chunk('churn', 'customers', 'id', 'churn_score', '6', 1)")
            assert cur.fetchall()[0][:2] == (1, "7")
        early.commit()
        (at,) = query(shop, "SELECT scored_at FROM customers WHERE id = 7")[0]
        assert at >= later, (at, later, began)
    finally:
        early.close()


@pytest.mark.parametrize("computed", [False, True])
def test_a_strict_wirings_counter_that_fails_for_one_event_names_the_counter_key_and_event(shop, trained, computed):
    """Session 62: a strict wiring whose counter expression fails for one event (10 / 0) failed the INSERT with
    PostgreSQL's bare `division by zero`: no key, no event, no counter, where a wiring that queues names them all
    (the probe in halves, _fault). Now the strict error names them too, its SQLSTATE kept, with a hint; on a
    multi-row INSERT and a single row; with a column PostgreSQL computes on the profile table too (the counters
    applied first, Wiring.computed)."""
    query(shop, "ALTER TABLE complaints ADD COLUMN amount numeric DEFAULT 5")
    if computed:
        query(shop, "ALTER TABLE customers ADD COLUMN twice float8 GENERATED ALWAYS AS (support_calls * 2) STORED")
    attach(shop, counters=FAULTY, strict=True)
    (first,), = query(shop, "SELECT nextval('complaints_complaint_id_seq')")
    for insert in ("INSERT INTO complaints (customer_id, amount) SELECT g, CASE WHEN g = 7 THEN 0 ELSE 5 END "
                   "FROM generate_series(1, 10) g",
                   "INSERT INTO complaints (customer_id, amount) VALUES (7, 0)"):
        with pytest.raises(errors.DivisionByZero) as e:
            query(shop, insert)
        message = e.value.diag.message_primary
        assert message.startswith("pgscore: rescoring public.customers for public.complaints failed for id 7: counter "
                                  'late_payments ({"add": "10 / e.amount"}) failed on event complaint_id '), message
        assert message.endswith(": division by zero; the wiring is strict, so the INSERT fails"), message
        assert int(message.split("complaint_id ")[1].split(":")[0]) > first, message
        assert "p_strict" in (e.value.diag.message_hint or ""), e.value.diag.message_hint
    assert query(shop, "SELECT count(*) FROM complaints") == [(0,)]
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
    query(shop, "INSERT INTO complaints (customer_id, amount) VALUES (7, 5)")  # a good event goes in
    assert_scores_match_model(shop, trained[0], [7])


def _v2_made_live_while_waiting(shop, key, statement, args=None, in_holder=None):
    """Runs `statement` (with `args`) on a connection of its own while another holds profile `key`'s lock, and
    once it waits for that lock makes version 2 live (the holder running `in_holder` first, if given) and commits
    the holder: the race of a statement that planned with the version live when it began (session 62, reviews
    r2 and L). Returns the statement's rows."""
    import threading

    holder = psycopg2.connect(shop.dsn)
    waiter = psycopg2.connect(shop.dsn)
    waiter.autocommit = True
    pid, done = waiter.get_backend_pid(), []
    t = threading.Thread(target=lambda: done.append(query(waiter, statement, args)))
    try:
        with holder.cursor() as cur:
            cur.execute("SELECT 1 FROM customers WHERE id = %s FOR NO KEY UPDATE", (key,))
        t.start()
        for _ in range(200):
            if query(shop, "SELECT count(*) FROM pg_stat_activity WHERE pid = %s AND wait_event_type = 'Lock'",
                     (pid,))[0][0]:
                break
            t.join(0.05)
        else:
            pytest.fail(f"{statement} never waited for the profile's lock")
        query(shop, "SELECT pgscore.activate('churn', 2)")
        if in_holder:
            with holder.cursor() as cur:
                cur.execute(in_holder)
        holder.commit()
        t.join(30)
        assert not t.is_alive() and len(done) == 1, done
        return done[0]
    finally:
        holder.rollback()
        t.join(10)
        holder.close()
        waiter.close()


def _holds_v2s_score(shop, key, v2, model):
    """Profile `key` holds version 2's score of its features (not `model`'s, version 1)."""
    feats = np.array([profiles(shop, [key])[key][0]], dtype=float)
    (stored,), = query(shop, "SELECT churn_score FROM customers WHERE id = %s", (key,))
    assert abs(stored - v2.predict_proba(feats)[0, 1]) < 1e-9, (stored, v2.predict_proba(feats)[0, 1],
                                                                  model.predict_proba(feats)[0, 1])


def test_rescore_profiles_that_waits_for_a_profile_while_a_version_goes_live_writes_no_older_versions_score(
        shop, trained):
    """Session 62: rescore_profiles planned with the version live when it began, then waited for a profile's lock
    held by an event's transaction; a version made live meanwhile scored that event (the newer version's score),
    and the rescore then wrote the older version's score over it, the newer version live. It locks the page's
    profiles before it reads which version is live: the profile ends with the live version's score."""
    from sklearn.ensemble import RandomForestClassifier

    model, X, y = trained
    attach(shop)
    v2 = RandomForestClassifier(n_estimators=10, max_depth=5, random_state=0).fit(X, y)
    registry.deploy(shop.dsn, "churn", v2, X, y, feature_names=CHURN_FEATURES, activate=False)
    rows = _v2_made_live_while_waiting(
        shop, 7, "SELECT rescored FROM pgscore.rescore_profiles('complaints', p_limit => 10)",
        in_holder="INSERT INTO complaints (customer_id) VALUES (7)")  # (scored by version 2, now live)
    assert rows == [(10,)], rows
    _holds_v2s_score(shop, 7, v2, model)
    assert query(shop, "SELECT m.version FROM pgscore.prediction_log l JOIN pgscore.models m USING (model_id) "
                       "WHERE l.entity_key = '7' AND l.source = 'refresh'") == [(2,)]  # (the rescore's audit row)


def test_pgscore_score_into_a_wired_score_column_stamps_its_scored_at_so_rollback_counts_every_profile(
        shop, db_url, trained):
    """User trial hT12, finding 1: v2 live, the README's nightly `pgscore score --into` the wired table's score column
    (no --scored-at-into) wrote v2's score and no scored_at, so a rollback counted the profiles by their old scored_at
    (none, or a few) where all held v2's score, and status before it counted profiles that held the live version's.
    score_table into a wiring's score column (same table, same column, same model) writes the wiring's scored_at
    column too, unless the caller names another; a run pinned to another version (p_version) is counted through its
    audit rows."""
    from sklearn.ensemble import RandomForestClassifier

    model, X, y = trained
    attach(shop)
    v2 = RandomForestClassifier(n_estimators=10, max_depth=5, random_state=0).fit(X, y)
    registry.deploy(shop.dsn, "churn", v2, X, y, feature_names=CHURN_FEATURES)  # v2 live
    r = pgscore_cli("score", "--model", "churn", "--table", "customers", "--key", "id", "--into", "churn_score",
                    "--db", db_url)
    assert r.returncode == 0, r
    assert query(shop, "SELECT count(*), count(scored_at) FROM customers") == [(N_CUSTOMERS, N_CUSTOMERS)]
    out = pgscore_cli("status", "--db", db_url).stdout
    assert "another version's score" not in out, out  # (each holds the live version's: none to count)
    r = pgscore_cli("rollback", "churn", "--db", db_url)
    assert r.returncode == 0, r
    said = (f"churn: {N_CUSTOMERS} profiles of public.customers (wired from public.complaints) hold another version's "
            "score until their next event")
    assert said in r.stderr, r
    # a run pinned to version 2 (not live now) stamps it too: its audit rows say which version wrote each
    query(shop, "SELECT pgscore.activate('churn', 1)")
    query(shop, "CALL pgscore.score_table('churn', 'customers', 'id', 'churn_score', p_version => 1)")
    assert "another version's score" not in pgscore_cli("status", "--db", db_url).stdout
    query(shop, "CALL pgscore.score_table('churn', 'customers', 'id', 'churn_score', 100, p_version => 2)")
    out = pgscore_cli("status", "--db", db_url).stdout
    assert said in out, out
    # a scored-at column the caller names is the one written; the wiring's is left alone
    query(shop, "ALTER TABLE customers ADD COLUMN batch_at timestamptz; UPDATE customers SET scored_at = NULL")
    query(shop, "CALL pgscore.score_table('churn', 'customers', 'id', 'churn_score', p_scored_at_into => 'batch_at')")
    assert query(shop, "SELECT count(scored_at), count(batch_at) FROM customers") == [(0, N_CUSTOMERS)]
    # another column than the wiring's score column: no stamp
    query(shop, "ALTER TABLE customers ADD COLUMN other_score float8")
    query(shop, "CALL pgscore.score_table('churn', 'customers', 'id', 'other_score')")
    assert query(shop, "SELECT count(scored_at) FROM customers") == [(0,)]


def test_refresh_windows_that_waits_for_a_profile_while_a_version_goes_live_scores_with_the_live_version(
        shop, trained):
    """Session 62 (review): refresh_windows planned with the version live when it began, then its recount waited
    for a profile's lock (held by the rescore_profiles an activate is followed by, say); it wrote the older
    version's score over the newer one's, the newer version live. The plans are asked again once the profiles are
    held: the window's profile ends with the live version's score, its audit row that version's."""
    from sklearn.ensemble import RandomForestClassifier

    model, X, y = trained
    no_counts(shop)
    rid = attach(shop)
    query(shop, f"INSERT INTO complaints (customer_id, created_at) VALUES (7, {EDGE})")
    time.sleep(1.5)  # its complaint is now out of the window: refresh_windows recounts 7 and rescores it
    v2 = RandomForestClassifier(n_estimators=10, max_depth=5, random_state=0).fit(X, y)
    registry.deploy(shop.dsn, "churn", v2, X, y, feature_names=CHURN_FEATURES, activate=False)
    rows = _v2_made_live_while_waiting(shop, 7, REFRESH, (None, None))
    assert rows == [(rid, "complaints", "customers", 1, 1, 0)], rows
    _holds_v2s_score(shop, 7, v2, model)
    assert query(shop, "SELECT m.version FROM pgscore.prediction_log l JOIN pgscore.models m USING (model_id) "
                       "WHERE l.entity_key = '7' AND l.source = 'refresh'") == [(2,)]


@pytest.mark.parametrize("path", ["sql", "python"])
def test_a_scored_at_in_the_future_does_not_stick_the_next_score_writes_the_time_it_is(shop, trained, path):
    """Session 62 (review): GREATEST(scored_at, now()) kept a scored_at later than the clock for ever: one set by
    hand, loaded from elsewhere, written while the clock ran ahead (then stepped back), or by a session of a zone
    ahead into a timestamp column; every later score left it as it was, so a check for stale scores saw a fresh
    one. A time later than the clock is not kept: the next score writes the time it is (on the trigger's SQL and
    Python paths, and by rescore_profiles); one not later than the clock still wins over an earlier now()."""
    from sklearn.ensemble import RandomForestClassifier

    model, X, y = trained
    attach(shop)
    if path == "python":
        model = RandomForestClassifier(n_estimators=10, max_depth=5, random_state=0).fit(X, y)
        registry.deploy(shop.dsn, "churn", model, X, y, feature_names=CHURN_FEATURES)
    for write in ("INSERT INTO complaints (customer_id) VALUES (7)",
                  "SELECT * FROM pgscore.rescore_profiles('complaints', p_limit => 10)"):
        query(shop, "UPDATE customers SET scored_at = now() + interval '10 years' WHERE id = 7")
        (before,) = query(shop, "SELECT clock_timestamp()")[0]
        query(shop, write)
        (at, after) = query(shop, "SELECT scored_at, clock_timestamp() FROM customers WHERE id = 7")[0]
        assert before <= at <= after, (write, before, at, after)
        assert_scores_match_model(shop, model, [7])


def test_retry_failed_that_waits_for_a_profile_while_a_version_goes_live_scores_with_the_live_version(shop, trained):
    """Review r2 (session 62): retry_failed planned with the version live when it began, then its replay waited for
    a queued profile's lock; a version made live meanwhile, it wrote the older version's score (a profile whose queue
    row names uncounted events stays queued when an event rescores it, so retry_failed writes after that event's
    newer score). The plans are asked again once the profiles are held: the live version's score."""
    from sklearn.ensemble import RandomForestClassifier

    model, X, y = trained
    rid = attach(shop)
    query(shop, "UPDATE customers SET support_calls = 999 WHERE id = 5")
    query(shop, "ALTER TABLE customers ADD CONSTRAINT few_calls CHECK (support_calls < 1000)")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (5)")  # its counters' update fails: queued
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue WHERE entity_key = '5'") == [(1,)]
    query(shop, "UPDATE customers SET support_calls = 0 WHERE id = 5")  # the cause fixed
    v2 = RandomForestClassifier(n_estimators=10, max_depth=5, random_state=0).fit(X, y)
    registry.deploy(shop.dsn, "churn", v2, X, y, feature_names=CHURN_FEATURES, activate=False)
    rows = _v2_made_live_while_waiting(shop, 5, "SELECT * FROM pgscore.retry_failed()")
    assert rows == [(rid, 1, 0)], rows
    _holds_v2s_score(shop, 5, v2, model)



def test_the_stale_count_is_not_jit_compiled_past_its_statement_timeout(shop, db_url, trained, monkeypatch):
    """Review r6 (session 62): the count of the profiles another version scored (stale_scores: pgscore rollback,
    activate, status, alembic's promote_model) runs a subquery per profile, which PostgreSQL's planner costs high
    (12.5M for 200,000 profiles): with jit on (PostgreSQL's default) it was JIT-compiled with inlining and
    optimisation, 3 s of its 3.7 s at 200,000 profiles (1.25 s without), past the count's 3 s statement_timeout, so
    no count was given. The count runs with jit off; here, JIT forced on a small table, under a timeout JIT alone
    exceeds."""
    import time as _time

    from pgscore import stale_scores

    attach(shop)
    query(shop, "CALL pgscore.score_table('churn', 'customers', 'id', 'churn_score')")  # stamps scored_at (v1)
    from sklearn.ensemble import RandomForestClassifier

    model, X, y = trained
    v2 = RandomForestClassifier(n_estimators=10, max_depth=5, random_state=0).fit(X, y)
    registry.deploy(shop.dsn, "churn", v2, X, y, feature_names=CHURN_FEATURES)  # v2 live: every profile v1's
    conn = psycopg2.connect(db_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_catalog.pg_jit_available()")
            if not cur.fetchone()[0]:
                pytest.skip("this server has no JIT")
            cur.execute("SET jit = on; SET jit_above_cost = 0; SET jit_inline_above_cost = 0; "
                        "SET jit_optimize_above_cost = 0")
            conn.commit()
            t = _time.perf_counter()
            cur.execute("EXPLAIN (ANALYZE) " + stale_scores._COUNT.format(table="public.customers", at="p.scored_at",
                                                                         key="id"),
                        {"name": "churn", "live": 0, "rid": "0"})
            jitted = _time.perf_counter() - t
            assert any("JIT" in r[0] for r in cur.fetchall())  # (what the count met)
            conn.rollback()
            monkeypatch.setattr(stale_scores, "STATEMENT_TIMEOUT_MS", max(1, int(jitted * 1000 / 3)))
            said = stale_scores.counts(cur, "churn")
        assert [(s["stale"], s["why"]) for s in said] == [(N_CUSTOMERS, None)], (said, jitted)
    finally:
        conn.close()


def test_the_stale_count_reads_a_profile_table_whose_name_holds_a_percent_sign(shop, db_url, trained):
    """Review r6 (session 62): stale_scores formats the quoted identifiers into a statement it sends with named
    parameters, so a '%' in a profile table's name (or its key's, or its scored_at column's) was read by the driver as
    a placeholder: "cu%stomers" was named, not counted ("argument formats can't be mixed"; psycopg 3: "positional and
    named placeholders cannot be mixed"), and one whose '%' is followed by another letter than s raised psycopg2's
    TypeError, which the count does not catch. The identifiers' '%' are doubled; the count is given."""
    from sklearn.ensemble import RandomForestClassifier

    from pgscore import stale_scores

    query(shop, 'CREATE TABLE "cu%stomers" (LIKE customers INCLUDING ALL); '
                'INSERT INTO "cu%stomers" SELECT * FROM customers')
    query(shop, "SELECT pgscore.attach_rescoring('complaints', '\"cu%stomers\"', 'customer_id', 'churn', "
                "'churn_score', p_profile_key => 'id')")
    query(shop, "CALL pgscore.score_table('churn', '\"cu%stomers\"', 'id', 'churn_score')")  # v1's, stamped
    model, X, y = trained
    v2 = RandomForestClassifier(n_estimators=10, max_depth=5, random_state=0).fit(X, y)
    registry.deploy(shop.dsn, "churn", v2, X, y, feature_names=CHURN_FEATURES)  # v2 live: every profile v1's
    conn = psycopg2.connect(db_url)
    try:
        with conn.cursor() as cur:
            said = stale_scores.counts(cur, "churn")
        assert [(s["profile_table"], s["stale"], s["why"]) for s in said] == [
            ('public."cu%stomers"', N_CUSTOMERS, None)], said
    finally:
        conn.close()
    r = pgscore_cli("status", "--db", db_url)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r
    assert f"{N_CUSTOMERS} profiles of public.\"cu%stomers\"" in r.stdout, r.stdout


def test_pgscore_commands_name_themselves_in_application_name(shop, db_url):
    """An on-call SRE's trial (session 68, h2): only `pgscore score` set an application_name; `pgscore health`,
    `rescore`, `retry`, `backfill`... connected with an empty one, so a runaway `pgscore rescore` could not be found
    in pg_stat_activity by name, and its audit rows' cause said `"application": ""`. Each command's connections
    are `pgscore COMMAND` now, unless PGAPPNAME (or the URL's application_name) names another."""
    attach(shop)
    r = pgscore_cli("rescore", "--table", "complaints", "--db", db_url)
    assert r.returncode == 0, r
    assert query(shop, "SELECT DISTINCT cause->>'application' FROM pgscore.prediction_log WHERE source = 'refresh'") \
        == [("pgscore rescore",)]
    r = pgscore_cli("rescore", "--table", "complaints", "--db", db_url, env={"PGAPPNAME": "nightly-rescore"})
    assert r.returncode == 0, r
    assert sorted(query(shop, "SELECT DISTINCT cause->>'application' FROM pgscore.prediction_log "
                              "WHERE source = 'refresh'")) == [("nightly-rescore",), ("pgscore rescore",)]


def test_an_empty_pgappname_names_no_application(shop, db_url):
    """Session 68's T25 review: `PGAPPNAME=` (set, empty) counted as naming one, so the CLI left it and libpq
    connected with an empty application_name (the audit rows' cause said `"application": ""`). Failed before:
    [('',)]."""
    attach(shop)
    r = pgscore_cli("rescore", "--table", "complaints", "--db", db_url, env={"PGAPPNAME": ""})
    assert r.returncode == 0, r
    assert query(shop, "SELECT DISTINCT cause->>'application' FROM pgscore.prediction_log WHERE source = 'refresh'") \
        == [("pgscore rescore",)]


def test_score_where_s_check_connection_takes_the_name_it_is_given(db_url, monkeypatch):
    """`pgscore score --where` checks its expression on a second connection, which named itself `pgscore score`
    whatever PGAPPNAME or the URL's application_name said (the run's other connection took them; session 68's
    T25 review). Failed before: ['pgscore score', 'pgscore score']."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    from pgscore import scoring

    seen, real = [], psycopg.connect

    def connect(*args, **kwargs):
        c = real(*args, **kwargs)
        seen.append(c.execute("SHOW application_name").fetchone()[0])
        return c

    monkeypatch.setattr(psycopg, "connect", connect)
    scoring._one_statement_each(make_conninfo(db_url, application_name="nightly-score"), [b"SELECT 1"])
    monkeypatch.setenv("PGAPPNAME", "score-job")
    scoring._one_statement_each(db_url, [b"SELECT 1"])
    assert seen == ["nightly-score", "score-job"], seen


# -- one wiring's trouble does not block the others' retry (session 69) ----------------------------------

def _two_wirings_queued(shop, schema="public"):
    """The sample wiring (customers, customer 70 queued) and a second one of `schema`.pf from ef with the same
    counters (a window: a retry recounts it from the events; its profile 5 queued), both causes fixed: a retry rescores both. Returns (rid of customers, rid of pf)."""
    rid = attach(shop)
    feature = CHURN_FEATURES[0]
    query(shop, f"CREATE TABLE {schema}.pf (LIKE customers INCLUDING DEFAULTS); ALTER TABLE {schema}.pf "
                f"ADD PRIMARY KEY (id); INSERT INTO {schema}.pf SELECT * FROM customers WHERE id <= 10; "
                f"CREATE TABLE {schema}.ef (cid bigint, created_at timestamptz NOT NULL DEFAULT now())")
    (pid,), = query(shop, f"SELECT pgscore.attach_rescoring('{schema}.ef', '{schema}.pf', 'cid', 'churn', "
                          "'churn_score', %s, p_profile_key => 'id')", (json.dumps(sample.COUNTERS),))
    query(shop, f"UPDATE customers SET {feature} = NULL WHERE id = 70; UPDATE {schema}.pf SET {feature} = NULL "
                "WHERE id = 5")
    query(shop, f"INSERT INTO complaints (customer_id) VALUES (70); INSERT INTO {schema}.ef (cid) VALUES (5)")
    assert query(shop, "SELECT rescoring_id, entity_key FROM pgscore.error_queue ORDER BY 1") == [(rid, "70"),
                                                                                                   (pid, "5")]
    query(shop, f"UPDATE customers SET {feature} = 1 WHERE id = 70; UPDATE {schema}.pf SET {feature} = 1 "
                "WHERE id = 5")
    return rid, pid


@pytest.mark.parametrize("new_type", ["text", "numeric"])
def test_retry_failed_rescores_the_other_wirings_where_a_profile_key_changed_type(shop, new_type):
    """A profile table's key retyped after its profiles were queued (bigint to text, or to numeric): the
    wiring's statements compare it with the event key's type, which fails (42883, operator does not exist).
    That failed the whole of retry_failed: every other wiring's queued profiles waited too. Now that wiring is
    skipped with a WARNING naming its table and the fix, its rows stay queued, and the others are rescored."""
    rid, pid = _two_wirings_queued(shop)
    query(shop, f"ALTER TABLE pf ALTER COLUMN id TYPE {new_type}")
    del shop.notices[:]
    got = query(shop, "SELECT * FROM pgscore.retry_failed()")
    assert (rid, 1, 0) in got, got
    if new_type == "numeric":  # (bigint = numeric is an operator: it is rescored)
        assert got == [(rid, 1, 0), (pid, 1, 0)] and not query(shop, "SELECT * FROM pgscore.error_queue")
        return
    assert [r for r in got if r[0] == pid] == [(pid, 0, 1)], got
    assert query(shop, "SELECT rescoring_id, entity_key FROM pgscore.error_queue") == [(pid, "5")]
    said = [n for n in shop.notices if f"retry_failed skipped wiring {pid}" in n]
    fix = "ALTER TABLE public.pf ALTER COLUMN id TYPE bigint USING id::bigint"
    assert said and "(public.ef to public.pf)" in said[0] and "operator does not exist" in said[0] and fix in said[0], shop.notices
    (reason, state, attempts), = query(shop, "SELECT reason, sqlstate, attempts FROM pgscore.error_queue")
    assert (state, attempts) == ("42883", 2) and "public.pf.id (text)" in reason and fix in reason, reason
    out = pgscore_cli("status", "--db", shop.dsn).stdout  # the reason status prints names the table and the fix
    assert fix in out, out
    query(shop, f"ALTER TABLE pf ALTER COLUMN id TYPE bigint USING id::bigint")  # the fix the reason gives
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(pid, 1, 0)]


def _as_an_admin_without_tenant_usage(shop, call):
    """call() as pgscore_t_admin69, granted pgscore_admin and the public tables but no USAGE on tenant_a, the
    session's notices emptied first."""
    ensure_role(shop, "pgscore_t_admin69")
    query(shop, "GRANT pgscore_admin TO pgscore_t_admin69; GRANT SELECT, UPDATE ON customers, complaints "
                "TO pgscore_t_admin69")
    query(shop, "SET ROLE pgscore_t_admin69")
    del shop.notices[:]
    try:
        return call()
    finally:
        query(shop, "RESET ROLE")


def test_retry_failed_rescores_the_other_wirings_where_the_caller_may_not_use_a_tenants_schema(shop):
    """A pgscore_admin role without USAGE on one tenant's schema: its first read of that wiring's tables failed
    (42501, permission denied for schema) and so did the whole of retry_failed, every other wiring's queued
    profiles waiting too. Now that wiring is skipped with a WARNING naming the schema and the GRANT that lets the
    role in, its rows and their reasons stay as they were, and the others are rescored."""
    query(shop, "CREATE SCHEMA tenant_a")
    rid, pid = _two_wirings_queued(shop, schema="tenant_a")
    reasons = query(shop, "SELECT rescoring_id, reason, attempts FROM pgscore.error_queue ORDER BY 1")
    # and an event of it a two_phase worker held back (put by hand: a superuser is not held by the table's policy),
    # which retry_failed's first step (fold_pending) read the wiring of, failing as the retry did
    query(shop, "INSERT INTO pgscore.replicated_pending (rescoring_id, entity_key, event) VALUES "
                "(%s, '6', '{\"cid\": 6}')", (pid,))
    got = _as_an_admin_without_tenant_usage(shop, lambda: query(shop, "SELECT * FROM pgscore.retry_failed()"))
    # (the wiring the role may not use is left out of the result, as another team's is: test_roles
    # test_one_team_s_retry_and_refresh_of_every_wiring_skip_the_other_team_s_schema_and_say_so; its WARNINGs give
    # both ways: run it as a role that may, or the GRANT)
    assert got == [(rid, 1, 0)], got
    said = [n for n in shop.notices if f"retry_failed skipped wiring {pid}" in n and "queued profile" in n]
    assert said and "tenant_a" in said[0] and "GRANT USAGE ON SCHEMA tenant_a TO pgscore_t_admin69" in said[0], \
        shop.notices
    assert query(shop, "SELECT rescoring_id, reason, attempts FROM pgscore.error_queue ORDER BY 1") == reasons[1:]
    held = [n for n in shop.notices if f"skipped wiring {pid}" in n and "replicated events held back" in n]
    assert held and "GRANT USAGE ON SCHEMA tenant_a TO pgscore_t_admin69" in held[0], shop.notices
    assert query(shop, "SELECT entity_key FROM pgscore.replicated_pending") == [("6",)]
    as_admin = {"PGOPTIONS": "-c role=pgscore_t_admin69"}  # (status and health print the queue's hints as it)
    run = pgscore_cli("retry", "--db", shop.dsn, env=as_admin)  # (it reads the rows left after the call)
    assert (run.returncode == 0 and "Traceback" not in run.stderr and "GRANT USAGE ON SCHEMA tenant_a" in run.stdout
            and "(1 wiring(s) in a schema it may not use skipped" in run.stdout), run  # (one wiring, said twice)
    for command in ("status", "health"):
        run = pgscore_cli(command, "--db", shop.dsn, env=as_admin)
        assert run.returncode in (0, 1) and "Traceback" not in run.stderr, (command, run)
        assert "1 profile" in run.stdout, (command, run.stdout)
    out = pgscore_cli("status", "--db", shop.dsn, env=as_admin).stdout
    assert "GRANT USAGE ON SCHEMA tenant_a TO pgscore_t_admin69" in out and "skip this wiring" in out, out



def test_a_wiring_s_operator_error_not_of_its_keys_gives_no_alter_of_its_key(shop):
    """Review r3 (session 69): a wiring's 42883 (operator does not exist) that is not of its keys, its window
    counter's time column retyped to text (`text > timestamp with time zone`), was said as the keys' (bigint and
    bigint): "the profile key public.pf.id (bigint) no longer compares with the event key public.ef.cid (bigint):
    ALTER TABLE public.pf ALTER COLUMN id TYPE bigint USING id::bigint", in the WARNING and written into its queued
    rows' reason, which pgscore status prints: an ALTER that changes nothing. Only keys whose types differ, as the
    error names them, are given that ALTER; another error gives its own message, and the generic fix."""
    rid, pid = _two_wirings_queued(shop)
    query(shop, "ALTER TABLE ef ALTER COLUMN created_at DROP DEFAULT, ALTER COLUMN created_at TYPE text")
    del shop.notices[:]
    got = query(shop, "SELECT * FROM pgscore.retry_failed()")
    assert got == [(rid, 1, 0), (pid, 0, 1)], got
    (reason, state), = query(shop, "SELECT reason, sqlstate FROM pgscore.error_queue")
    assert state == "42883" and "operator does not exist: text" in reason, reason
    assert "ALTER TABLE" not in reason and "no longer compares" not in reason, reason
    said = [n for n in shop.notices if f"retry_failed skipped wiring {pid}" in n]
    assert said and "ALTER TABLE" not in said[0] and "fix the cause" in said[0], shop.notices
    del shop.notices[:]
    got = {r[0]: r[3:] for r in refresh(shop)}
    assert got[pid] == (None, None, None), got
    said = [n for n in shop.notices if f"refresh_windows skipped wiring {pid}" in n]
    assert said and "ALTER TABLE" not in said[0] and "pgscore.refresh_windows() again" in said[0], shop.notices

def test_refresh_windows_refreshes_the_other_wirings_where_a_profile_key_changed_type(shop):
    """As retry_failed: a profile key retyped to text made refresh_windows' statements of that wiring fail (42883)
    and with them the whole call, every other wiring's windows left stale. Now that wiring is skipped with a
    WARNING naming its tables and the fix (NULL counts), and the others are refreshed."""
    rid, pid = _two_wirings_queued(shop)
    query(shop, "DELETE FROM pgscore.error_queue")
    query(shop, "ALTER TABLE pf ALTER COLUMN id TYPE text")
    del shop.notices[:]
    got = {r[0]: r[3:] for r in refresh(shop)}
    assert got[pid] == (None, None, None) and got[rid][0] is not None, got
    said = [n for n in shop.notices if f"refresh_windows skipped wiring {pid}" in n]
    assert said and "(public.ef to public.pf)" in said[0] and "ALTER TABLE public.pf ALTER COLUMN id TYPE bigint" \
        in said[0], shop.notices


def test_refresh_windows_refreshes_the_other_wirings_where_the_caller_may_not_use_a_tenants_schema(shop):
    """As retry_failed: a role without USAGE on one tenant's schema failed the whole of refresh_windows (42501 at
    its first look at the wiring's tables). Now that wiring is skipped with a WARNING giving the GRANT, and the
    others are refreshed."""
    query(shop, "CREATE SCHEMA tenant_a")
    rid, pid = _two_wirings_queued(shop, schema="tenant_a")
    got = _as_an_admin_without_tenant_usage(shop, lambda: {r[0]: r[3:] for r in refresh(shop)})
    assert pid not in got and got[rid][0] is not None, got  # (left out, as retry_failed leaves it)
    said = [n for n in shop.notices if f"refresh_windows skipped wiring {pid}" in n]
    assert said and "GRANT USAGE ON SCHEMA tenant_a TO pgscore_t_admin69" in said[0], shop.notices


def test_a_row_handed_over_to_a_copy_that_lacks_its_key_says_it_is_gone_and_how_to_delete_it(shop, db_url):
    """Session 68's review: a profile table swapped for a copy that lacks one queued key (customer 71): retry_failed
    hands the row over to the copy and leaves it queued, P0002, "has no row with this id" (with a missing profile
    created, the backfill's way, which does not apply: the copy lost the row), while pgscore status said "once the
    cause is fixed: pgscore retry", which leaves it for ever. Its reason now says that the copy it was handed to lacks
    it and gives the DELETE (or insert its row), at every retry, and status says the same, not retry."""
    rid = queue_tenant_c(shop)
    query(shop, "DROP TABLE tenant_c.customers")
    query(shop, "CREATE TABLE tenant_c.customers (LIKE public.customers INCLUDING ALL)")
    query(shop, "INSERT INTO tenant_c.customers SELECT * FROM public.customers WHERE id = 70")
    delete = (f"DELETE FROM pgscore.error_queue WHERE rescoring_id OPERATOR(pg_catalog.=) {rid} AND sqlstate "
              "OPERATOR(pg_catalog.=) 'P0002' AND cause OPERATOR(pg_catalog.?) 'handed_over'")
    for _ in range(2):  # (said again at the next retry: the row keeps what it is)
        query(shop, "SELECT * FROM pgscore.retry_failed()")
        (key, reason, state), = query(shop, "SELECT entity_key, reason, sqlstate FROM pgscore.error_queue")
        assert (key, state) == ("71", "P0002") and "a copy swapped in" in reason and delete in reason, reason
    out = pgscore_cli("status", "--db", db_url).stdout
    line = [x for x in out.splitlines() if "error queue:" in x]
    assert line and delete in line[0] and "once the cause is fixed" not in line[0], out
    query(shop, delete)
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]


def _retry_while_detached(shop, hold, detach, statement="SELECT * FROM pgscore.retry_failed()"):
    """`statement` on a connection of its own while another holds `hold` (a lock of the first wiring's profiles, in a
    transaction left open); once it waits for that lock, `detach` runs (autocommit) on a third and the holder
    commits: a wiring detached between the call's list of wirings and its turn. Returns (rows, notices)."""
    import threading

    holder, waiter = psycopg2.connect(shop.dsn), psycopg2.connect(shop.dsn)
    waiter.autocommit = True
    pid, done = waiter.get_backend_pid(), []

    def run():
        try:
            done.append(query(waiter, statement))
        except psycopg2.Error as e:
            done.append(e)

    t = threading.Thread(target=run)
    try:
        query(holder, hold)
        t.start()
        for _ in range(400):  # (a bound, not a deadline: 20 s at most)
            if query(shop, "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s", (pid,))[0][0]:
                break
            t.join(0.05)
        else:
            pytest.fail(f"{statement} never waited for the lock of {hold}")
        query(shop, detach)
        holder.commit()
        t.join(60)
        assert not t.is_alive() and len(done) == 1, done
        return done[0], list(waiter.notices)
    finally:
        holder.rollback()
        t.join(10)
        holder.close()
        waiter.close()


def test_retry_failed_skips_a_wiring_detached_while_it_runs_and_retries_the_others(shop):
    """Session 69's review: a detach_rescoring in another session, committed while retry_failed rescored an earlier
    wiring, failed the whole call at the detached wiring's turn with a Python ValueError (`(gone,) = ...` of a
    read of its row, which returned none), every wiring's retry rolled back. Now the detached wiring is skipped
    (its rows stay queued, of no wiring, as detach_rescoring leaves them) and the others are retried."""
    rid, pid = _two_wirings_queued(shop)
    got, notices = _retry_while_detached(shop, "SELECT 1 FROM customers WHERE id = 70 FOR UPDATE",
                                         "SELECT pgscore.detach_rescoring('ef')")
    assert got == [(rid, 1, 0)], got
    said = [n for n in notices if f"skipped wiring {pid}" in n]
    assert said and "detached" in said[0], notices
    assert query(shop, "SELECT rescoring_id, entity_key FROM pgscore.error_queue") == [(None, "5")]


@pytest.mark.parametrize("statement", ["retry_failed", "refresh_windows"])
def test_a_wiring_detached_and_attached_again_while_retry_runs_is_said_to_have_its_rows(shop, statement):
    """Session 70's review: a wiring another session detached and attached again (the same tables) while retry_failed
    or refresh_windows ran was skipped with a WARNING whose hint said its queued profiles stay without a wiring until
    an attach_rescoring of their profile table, where that attach had already taken them over. The hint names the
    new wiring now, and that the next call rescores them."""
    rid, pid = _two_wirings_queued(shop)
    again = ("SELECT pgscore.detach_rescoring('ef'); SELECT pgscore.attach_rescoring('public.ef', 'public.pf', 'cid', "
             f"'churn', 'churn_score', '{json.dumps(sample.COUNTERS)}', p_profile_key => 'id')")
    hold = ("SELECT 1 FROM customers WHERE id = 70 FOR UPDATE" if statement == "retry_failed"
            else "LOCK TABLE customers IN ACCESS EXCLUSIVE MODE")
    got, notices = _retry_while_detached(shop, hold, again, f"SELECT * FROM pgscore.{statement}()")
    assert [r[0] for r in got] == [rid], got
    (new,), = query(shop, "SELECT rescoring_id FROM pgscore.rescoring WHERE profile_table = 'public.pf'")
    said = [n for n in notices if f"skipped wiring {pid}" in n]
    assert said and "detached" in said[0] and "stay without a wiring" not in said[0] \
        and f"wired again since (wiring {new}" in said[0], notices
    assert query(shop, "SELECT rescoring_id FROM pgscore.error_queue WHERE entity_key = '5'") == [(new,)]


def test_a_wiring_detached_while_retry_runs_beside_another_wiring_of_its_profile_table_is_said_to_leave_its_rows(shop):
    """Review r3 of session 71: a wiring detached by another session while retry_failed ran, its profile table fed by
    a second wiring attached before (another event table): the WARNING's hint said the profile table 'was wired again
    since (wiring N, in the other session), which took over the profiles queued for it', of that older wiring, which
    took over nothing (an attach takes over the rows without a wiring at the attach; the detach leaves them so after
    it). It says they stay without a wiring, as they do."""
    rid, pid = _two_wirings_queued(shop)
    query(shop, "CREATE TABLE ef2 (cid bigint, created_at timestamptz NOT NULL DEFAULT now())")
    (sid,), = query(shop, "SELECT pgscore.attach_rescoring('public.ef2', 'public.pf', 'cid', 'churn', 'churn_score', "
                          "%s, p_profile_key => 'id')", (json.dumps(sample.COUNTERS),))
    got, notices = _retry_while_detached(shop, "SELECT 1 FROM customers WHERE id = 70 FOR UPDATE",
                                         "SELECT pgscore.detach_rescoring('ef')")
    said = [n for n in notices if f"skipped wiring {pid}" in n]
    assert said and "stay without a wiring" in said[0] and "wired again" not in said[0], notices
    assert query(shop, "SELECT rescoring_id FROM pgscore.error_queue WHERE entity_key = '5'") == [(None,)]


def test_pgscore_retry_under_repeatable_read_runs_again_once_where_a_wiring_was_detached_meanwhile(shop):
    """Session 70's review: retry_failed in a REPEATABLE READ (or SERIALIZABLE) transaction, with a detach_rescoring
    of a wiring it listed committed by another session meanwhile, fails with 40001 (its snapshot still shows the
    wiring, whose queue rows the detach changed): under READ COMMITTED it skips the wiring. The function cannot skip
    it (every write of those rows fails, and a caught 40001 under SERIALIZABLE is no safe state to go on from), so
    pgscore retry, whose role may have default_transaction_isolation = 'repeatable read', runs the call once more, in
    a new transaction, whose snapshot has the detach: what the READ COMMITTED call does. Ordered by a lock the
    command waits for, not by sleeps."""
    import helpers

    rid, pid = _two_wirings_queued(shop)
    holder = psycopg2.connect(shop.dsn)
    env = {**os.environ, "PGOPTIONS": "-c default_transaction_isolation=repeatable\\ read"}
    try:
        query(holder, "SELECT 1 FROM customers WHERE id = 70 FOR UPDATE")
        proc = subprocess.Popen([*helpers.PGSCORE, "retry", "--db", shop.dsn], env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            for _ in range(1200):  # (a bound, not a deadline: 60 s at most)
                if query(shop, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE "
                               "'%%retry_failed%%'")[0][0] or proc.poll() is not None:
                    break
                time.sleep(0.05)
            assert proc.poll() is None, proc.communicate()
            query(shop, "SELECT pgscore.detach_rescoring('ef')")
            holder.commit()
            out, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    finally:
        holder.close()
    assert proc.returncode == 1 and f"wiring {rid}: public.complaints -> public.customers: 1 rescored, 0 still " \
        "failing" in out and "1 profile belongs to no wiring" in out and "40001" in out, (proc.returncode, out, err)
    assert query(shop, "SELECT rescoring_id, entity_key FROM pgscore.error_queue") == [(None, "5")]


def test_a_call_run_again_on_40001_does_not_print_the_warnings_of_its_first_call_twice():
    """Review r3 of session 71: pgscore retry and refresh-windows run the call once more on 40001 (a REPEATABLE READ
    session, a wiring detached meanwhile); the WARNINGs the first call raised before it failed (another team's wiring
    skipped, listed before the detached one) were printed, then printed again by the second call. No server: a
    connection and cursor that fail the first call with 40001 after its WARNING, as the server does."""
    import psycopg2.errors

    from pgscore import cli

    warning = ("WARNING:  pgscore: retry_failed skipped wiring 1 (t.ef to t.pf): permission denied for table pf; its 1 "
               "queued profile(s) and their reasons are left as they were\n")
    other = "WARNING:  pgscore: retry_failed skipped wiring 3 (u.ef to u.pf): permission denied for table pf\n"

    class Conn:
        notices = cli._Notices()

        def rollback(self):
            pass

        def cursor(self):  # (migrate.hear_warnings' SET LOCAL for the new transaction, since session 71's merge)
            return contextlib.nullcontext(type("Quiet", (), {"execute": lambda *args: None})())

    class Cur:
        calls = 0

        def execute(self, sql, params):
            Cur.calls += 1
            conn.notices.append(warning)
            if Cur.calls == 1:
                raise psycopg2.errors.SerializationFailure("could not serialize access due to concurrent update")
            conn.notices.append(other)  # (a WARNING of the second call alone: printed)

    conn = Conn()
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        cli._once_more_on_serialization_failure(conn, Cur(), "SELECT 1", (), "retry_failed")
    out = printed.getvalue()
    assert out.count("skipped wiring 1 ") == 1 and out.count("skipped wiring 3 ") == 1 and "run again once" in out, out
    assert set(conn.notices.skipped) == {"1", "3"}  # (still counted where the server leaves no setting)


def test_the_call_run_again_after_40001_hears_the_warnings_a_login_s_client_min_messages_hides(db_url):
    """Session 71's merge: h3's run-again on 40001 and (review r2) migrate.hear_warnings, which lowers a login's
    client_min_messages = error to warning for one transaction: the rollback before the second call ended it, and
    the second call's WARNINGs (a wiring skipped, a profile queued) were hidden again. The second transaction
    lowers it too now. (A function that fails with 40001 at its first call and warns at its second, a sequence
    telling them apart: the rollback keeps nextval's.)"""
    import psycopg2

    from pgscore import cli, migrate

    with psycopg2.connect(db_url) as setup:
        query(setup, "CREATE SEQUENCE twice; CREATE FUNCTION fails_then_warns() RETURNS int LANGUAGE plpgsql AS $$ "
                     "BEGIN IF nextval('twice') = 1 THEN RAISE EXCEPTION 'first' USING ERRCODE = '40001'; END IF; "
                     "RAISE WARNING 'pgscore: the second call warns'; RETURN 2; END $$")
    conn = psycopg2.connect(db_url, options="-c client_min_messages=error")
    try:
        migrate.hear_warnings(conn, cli._Notices())
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
                conn.cursor() as cur:
            cli._once_more_on_serialization_failure(conn, cur, "SELECT fails_then_warns()", (), "retry_failed")
            assert cur.fetchall() == [(2,)]
        assert any("the second call warns" in n for n in conn.notices.said), conn.notices.said
    finally:
        conn.close()


def test_refresh_windows_skips_a_wiring_detached_while_it_runs_and_refreshes_the_others(shop):
    """As retry_failed: refresh_windows failed whole with a Python ValueError at the turn of a wiring another session
    detached after the call listed it. Now it is left out of the result, said in a WARNING, and the others are
    refreshed."""
    rid, pid = _two_wirings_queued(shop)
    got, notices = _retry_while_detached(shop, "LOCK TABLE customers IN ACCESS EXCLUSIVE MODE",
                                         "SELECT pgscore.detach_rescoring('ef')",
                                         "SELECT * FROM pgscore.refresh_windows()")
    assert [r[0] for r in got] == [rid], got
    said = [n for n in notices if f"refresh_windows skipped wiring {pid}" in n]
    assert said and "detached" in said[0], notices


@pytest.mark.parametrize("column", ["profile_table", "event_table"])
def test_retry_failed_and_refresh_windows_skip_a_wiring_whose_table_name_was_hand_edited_to_no_name(shop, column):
    """Session 69's review: a wiring's table name edited by hand into one that is no name (`public.pf"`, an unclosed
    quote) failed the whole of retry_failed and refresh_windows (22023/42602 of parse_ident, to_regclass, in the
    schema check made before each wiring's subtransaction, not_usable, and in the read of its names after an
    error): every other wiring's queued profiles waited too. Now it is that wiring's alone: no table has the name, so
    it is skipped as one whose table was dropped or renamed, with that WARNING, its rows left queued as they were,
    and the others are retried (refreshed)."""
    rid, pid = _two_wirings_queued(shop)
    query(shop, f"UPDATE pgscore.rescoring SET {column} = {column} || '\"' WHERE rescoring_id = %s", (pid,))
    del shop.notices[:]
    got = query(shop, "SELECT * FROM pgscore.retry_failed()")
    assert got == [(rid, 1, 0), (pid, 0, 1)], got
    said = [n for n in shop.notices if f"retry_failed skipped wiring {pid}" in n]
    assert said and "queued profile(s) wait" in said[0], shop.notices  # (to_regclass finds no table of the name)
    # (review r2: said as what it is, not "dropped or renamed", with the UPDATE that names it again)
    assert f"its {column.replace('_', ' ')} in pgscore.rescoring" in said[0] and "is no valid name" in said[0] \
        and "dropped or renamed" not in said[0] and f"UPDATE pgscore.rescoring SET {column} = " in said[0], said
    assert query(shop, "SELECT rescoring_id, entity_key, attempts FROM pgscore.error_queue") == [(pid, "5", 1)]
    del shop.notices[:]
    got = {r[0]: r[3:] for r in refresh(shop)}
    assert got[pid] == (None, None, None) and got[rid][0] is not None, got
    said = [n for n in shop.notices if f"refresh_windows skipped wiring {pid}" in n]
    assert said and "is no valid name" in said[0] and "dropped or renamed" not in said[0], shop.notices


def test_health_says_what_status_says_of_a_row_handed_over_to_a_copy_that_lacks_its_key(shop):
    """Session 69's review: rows handed over to a copy swapped in for their profile table that lacks their key
    (P0002, cause handed_over: retry_failed leaves them) were said by pgscore.health() to be rescored by "pgscore
    retry", while pgscore status gave the DELETE. health() now says what status says: retry leaves them, the DELETE
    (or their rows inserted), and "pgscore retry rescores those of a wiring" only of the others."""
    queue_tenant_c(shop)
    query(shop, "DROP TABLE tenant_c.customers")
    query(shop, "CREATE TABLE tenant_c.customers (LIKE public.customers INCLUDING ALL)")
    query(shop, "INSERT INTO tenant_c.customers SELECT * FROM public.customers WHERE id = 70")
    query(shop, "SELECT * FROM pgscore.retry_failed()")
    assert query(shop, "SELECT entity_key, sqlstate FROM pgscore.error_queue") == [("71", "P0002")]
    (detail,), = query(shop, "SELECT detail FROM pgscore.health() WHERE check_name = 'error_queue'")
    assert "pgscore retry rescores" not in detail and "1 of a wiring were handed over" in detail \
        and "pgscore status gives" in detail and "DELETE" in detail, detail
    query(shop, "UPDATE tenant_c.customers SET age = NULL WHERE id = 70")  # (and one queued that retry rescores)
    query(shop, "INSERT INTO tenant_c.complaints (customer_id) VALUES (70)")
    (detail,), = query(shop, "SELECT detail FROM pgscore.health(ARRAY['churn']) WHERE check_name = 'error_queue'")
    assert detail.startswith("2 profile(s) wait") and "pgscore retry rescores those of a wiring" in detail \
        and "1 of a wiring were handed over" in detail, detail


@pytest.mark.parametrize("denied", ["schema", "table"])
def test_retry_failed_leaves_out_a_wiring_whose_tables_the_caller_may_not_use_by_schema_or_by_table(shop, denied):
    """Session 69's review: a wiring the caller may not use was left out of retry_failed's result where the up-front
    schema check found it (no USAGE on its schema), but returned as (id, 0, n) where the denial came later (USAGE on
    the schema, no SELECT on its profile table: 42501 in its retry): one role's `pgscore retry` exited 1 for ever on
    another team's queue in a shared schema, and 0 for one in a schema of its own. Both are left out now (the queue
    is not this role's to drain), each said in a WARNING with the GRANT, their rows and reasons as they were, and
    pgscore retry counts both as skipped."""
    query(shop, "CREATE SCHEMA tenant_a")
    rid, pid = _two_wirings_queued(shop, schema="tenant_a")
    reasons = query(shop, "SELECT rescoring_id, reason, attempts FROM pgscore.error_queue ORDER BY 1")
    if denied == "table":
        ensure_role(shop, "pgscore_t_admin69")
        query(shop, "GRANT USAGE ON SCHEMA tenant_a TO pgscore_t_admin69; GRANT SELECT ON tenant_a.ef "
                    "TO pgscore_t_admin69")
    got = _as_an_admin_without_tenant_usage(shop, lambda: query(shop, "SELECT * FROM pgscore.retry_failed()"))
    assert got == [(rid, 1, 0)], got
    said = [n for n in shop.notices if f"retry_failed skipped wiring {pid}" in n]
    grant = "GRANT USAGE ON SCHEMA tenant_a" if denied == "schema" else "GRANT SELECT, UPDATE ON tenant_a.pf"
    assert said and grant in said[0], shop.notices
    assert query(shop, "SELECT rescoring_id, reason, attempts FROM pgscore.error_queue ORDER BY 1") == reasons[1:]
    if denied == "table":  # (the schema's: test_retry_failed_rescores_the_other_wirings_where_the_caller_may_not_use_...)
        run = pgscore_cli("retry", "--db", shop.dsn, env={"PGOPTIONS": "-c role=pgscore_t_admin69"})
        assert run.returncode == 0 and "nothing queued for a wiring this role may use (1 wiring(s) whose tables it " \
            "may not read or update skipped: see the WARNING)" in run.stdout, run  # (not "in a schema": review r2)


@pytest.mark.parametrize("denied", ["schema", "table"])
def test_retry_and_refresh_windows_count_the_wirings_they_leave_out_without_reading_a_warning(shop, denied):
    """Session 70's review: pgscore retry and refresh-windows counted the wirings left out as another role's (no
    USAGE on a schema, no privilege on a table) by matching the server's WARNING text, which a login role's
    client_min_messages = error hides (and a translated lc_messages words otherwise): `pgscore retry` then said
    "nothing queued" of another team's queue, and refresh-windows said nothing of it. retry_failed and
    refresh_windows leave the wirings they left out in a setting of the transaction, pgscore.skipped_wirings
    ({"rescoring_id": "schema" or "table"}), which the commands read after the call; the WARNINGs stay for psql."""
    query(shop, "CREATE SCHEMA tenant_a")
    rid, pid = _two_wirings_queued(shop, schema="tenant_a")
    if denied == "table":
        ensure_role(shop, "pgscore_t_admin69")
        query(shop, "GRANT USAGE ON SCHEMA tenant_a TO pgscore_t_admin69; GRANT SELECT ON tenant_a.ef "
                    "TO pgscore_t_admin69")
    skipped = "SELECT pg_catalog.current_setting('pgscore.skipped_wirings', true)"
    got = _as_an_admin_without_tenant_usage(
        shop, lambda: query(shop, f"SET LOCAL client_min_messages = error; SELECT * FROM pgscore.retry_failed(); "
                                  f"{skipped}"))
    assert got == [(json.dumps({str(pid): denied}),)] and not shop.notices, (got, shop.notices)
    got = _as_an_admin_without_tenant_usage(shop, lambda: query(shop, f"{REFRESH}; {skipped}", (None, None)))
    assert got == [(json.dumps({str(pid): denied}),)], got
    assert query(shop, f"SELECT * FROM pgscore.retry_failed(); {skipped}") == [("{}",)]  # (reset by each call)
    if denied == "schema":  # (the commands read the setting alike: one subprocess a command, not one a case)
        return
    query(shop, f"UPDATE tenant_a.pf SET {CHURN_FEATURES[0]} = NULL WHERE id = 5; INSERT INTO tenant_a.ef (cid) VALUES (5)")
    env = {"PGOPTIONS": "-c role=pgscore_t_admin69 -c client_min_messages=error"}
    # (review r3 of session 71, after the merge with h1's migrate.hear_warnings: the CLI's session lowers the
    # login's client_min_messages = error to warning, so the WARNING comes, printed once, and the line, counted from
    # the setting, agrees with it; this test said the WARNING was hidden, and failed on the merged branch)
    run = pgscore_cli("retry", "--db", shop.dsn, env=env)
    kind = "whose tables it may not read or update"
    assert run.returncode == 0 and f"nothing queued for a wiring this role may use (1 wiring(s) {kind} skipped: " \
        "see the WARNING)" in run.stdout and run.stdout.count(f"skipped wiring {pid} ") == 1 \
        and "client_min_messages" not in run.stdout, run
    run = pgscore_cli("refresh-windows", "--db", shop.dsn, env=env)
    assert run.returncode == 0 and "1 wiring(s) this role may not use (a schema, or a table) skipped: see the " \
        "WARNING\n" in run.stdout and run.stdout.count(f"skipped wiring {pid} ") == 1, run


def test_a_wiring_left_out_whose_warning_the_cli_did_not_match_is_not_said_hidden_by_client_min_messages():
    """Review r3 of session 71: where the setting pgscore.skipped_wirings names a wiring whose WARNING the CLI did
    not match in English (the server's lc_messages words 'WARNING:' in its language: the line is printed above all
    the same), retry and refresh-windows said 'see the WARNING in the server log (this session's client_min_messages
    did not let it through)', which the CLI's sessions no longer let happen (h1's migrate.hear_warnings lowers it from
    error to warning). No server: a translated notice (a test machine has no other locale for lc_messages)."""
    from pgscore import cli

    notices = cli._Notices()
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        notices.append("WARNUNG:  pgscore: retry_failed skipped wiring 2 (tenant_a.ef to tenant_a.pf): permission "
                       "denied for table pf; its 1 queued profile(s) and their reasons are left as they were\n")
    assert "skipped wiring 2" in printed.getvalue()  # (printed, as every notice but the queued one)
    said = cli._see_warnings(notices, {"2": False})
    assert said.startswith("see the WARNING above or in the server log;") and "client_min_messages" not in said, said


def test_backfill_leaves_a_profile_whose_recount_fails_and_backfills_the_others(shop):
    """Session 70 (the whole-loop check of backfill_rescoring): one profile whose recount fails (a CHECK its counted
    value breaks) failed the whole backfill with its error, every other profile's recount rolled back, where
    retry_failed and refresh_windows recount in parts. backfill_rescoring does so now: the others are recounted and
    rescored, that one left as it was, named in a WARNING with the error, for a backfill once the cause is fixed (not
    queued: retry_failed would rescore it without this recount, and the backfill leaves queued profiles to it)."""
    attach(shop)
    query(shop, "ALTER TABLE complaints DISABLE TRIGGER USER")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (5), (6), (6), (6), (7)")
    query(shop, "ALTER TABLE complaints ENABLE TRIGGER USER")
    query(shop, "ALTER TABLE customers ADD CONSTRAINT few_calls CHECK (support_calls < 3) NOT VALID")
    (calls,), = query(shop, "SELECT support_calls FROM customers WHERE id = 6")
    del shop.notices[:]
    assert query(shop, "SELECT pgscore.backfill_rescoring('complaints')") == [(2,)]
    assert query(shop, "SELECT id, support_calls FROM customers WHERE id IN (5, 6, 7) ORDER BY 1") == [
        (5, 1.0), (6, calls), (7, 1.0)]
    said = [n for n in shop.notices if "could not be recounted" in n]
    assert said and "key(s) '6'" in said[0] and "few_calls" in said[0] and "backfill_rescoring('public.complaints')" \
        in said[0], shop.notices
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
    query(shop, "ALTER TABLE customers DROP CONSTRAINT few_calls")
    assert query(shop, "SELECT pgscore.backfill_rescoring('complaints')") == [(1,)]
    assert query(shop, "SELECT support_calls FROM customers WHERE id = 6") == [(3.0,)]


def test_backfill_says_a_profile_not_recounted_where_the_login_hides_warnings(shop, db_url):
    """Session 71, trial T28 (a bank DBA's `ALTER ROLE ... SET client_min_messages = 'error'` on the CLI's login):
    the server sent no WARNING, and `pgscore backfill`, which tells a profile it could not recount by that WARNING
    alone, printed nothing of it and exited 0, as for a complete backfill. The CLI's sessions hear WARNINGs now
    (client_min_messages lowered to warning where it is error): the WARNING printed, exit 1."""
    attach(shop)
    query(shop, "ALTER TABLE complaints DISABLE TRIGGER USER")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (5), (6), (6), (6)")
    query(shop, "ALTER TABLE complaints ENABLE TRIGGER USER")
    query(shop, "ALTER TABLE customers ADD CONSTRAINT few_calls CHECK (support_calls < 3) NOT VALID")
    run = pgscore_cli("backfill", "--table", "complaints", "--db", db_url,
                      env={"PGOPTIONS": "-c client_min_messages=error"})
    assert run.returncode == 1, run
    assert "could not be recounted" in run.stdout + run.stderr and "key(s) '6'" in run.stdout + run.stderr, run
    assert "1 profile changed" in run.stdout, run  # (profile 5, recounted)


def test_backfill_cancelled_by_a_statement_timeout_says_nothing_changed_and_how_to_go_on(shop, db_url):
    """Session 71, trial T28 (a bank's statement_timeout = '30s' cluster-wide): a backfill past it said only
    `pgscore: error: canceling statement due to statement timeout (SQLSTATE 57014)`, exit 3: not that the one
    statement over every event was rolled back whole, nor how to run it. Now its Hint says both (a lock held here
    keeps the backfill waiting until the login's statement_timeout cancels it)."""
    attach(shop)
    query(shop, "ALTER TABLE complaints DISABLE TRIGGER USER")
    query(shop, "INSERT INTO complaints (customer_id) VALUES (5)")
    query(shop, "ALTER TABLE complaints ENABLE TRIGGER USER")
    holder = psycopg2.connect(db_url)
    try:
        query(holder, "SELECT 1 FROM customers WHERE id = 5 FOR UPDATE")  # (held: its transaction stays open)
        run = pgscore_cli("backfill", "--table", "complaints", "--db", db_url,
                          env={"PGOPTIONS": "-c statement_timeout=2000 -c lock_timeout=0"})
    finally:
        holder.close()
    assert run.returncode == 3, run
    assert "statement timeout (SQLSTATE 57014)" in run.stderr, run
    assert "nothing was changed" in run.stderr and "PGOPTIONS='-c statement_timeout=0'" in run.stderr, run.stderr


def test_backfill_retry_refresh_and_rescore_cancelled_by_a_lock_timeout_say_what_was_kept_and_how_to_go_on(db_url):
    """Review r2 of session 71: the statement_timeout hints (trial T28's bank baseline) left out its lock_timeout =
    '5s', which a backfill, retry, refresh-windows or rescore waiting on a profile row an application holds meets
    first: `pgscore: error: canceling statement due to lock timeout (SQLSTATE 55P03)` alone, exit 3. Each says what
    was kept and how to go on now (the error as the server raises it, through the CLI's error text)."""
    from pgscore import cli

    query(db_url, "CREATE TABLE held (id int PRIMARY KEY)")
    query(db_url, "INSERT INTO held VALUES (1)")
    holder, waiter = psycopg2.connect(db_url), psycopg2.connect(db_url)
    try:
        query(holder, "SELECT 1 FROM held WHERE id = 1 FOR UPDATE")
        query(waiter, "SET lock_timeout = '50ms'")
        with pytest.raises(psycopg2.errors.LockNotAvailable) as lock:
            query(waiter, "SELECT 1 FROM held WHERE id = 1 FOR UPDATE")
        waiter.rollback()
        query(waiter, "SET statement_timeout = '50ms'")
        with pytest.raises(psycopg2.errors.QueryCanceled) as timeout:
            query(waiter, "SELECT pg_sleep(1)")
    finally:
        holder.close()
        waiter.close()
    for command in ("backfill", "retry", "refresh-windows", "rescore"):
        text = cli.command_error_text(lock.value, command)
        assert text.startswith("canceling statement due to lock timeout (SQLSTATE 55P03)\nHint: a lock_timeout "), text
        assert "PGOPTIONS='-c lock_timeout=0'" in text and "pg_stat_activity" in text, text
        assert ("the chunks said above stay rescored" if command == "rescore" else "nothing was changed") in text, text
        assert "PGOPTIONS='-c statement_timeout=0'" in cli.command_error_text(timeout.value, command)
    assert "\nHint:" not in cli.command_error_text(lock.value, "status")


def test_a_loader_with_session_replication_role_replica_is_rescored_only_as_the_docs_say(shop):
    """Session 71, trial T28 (an ETL loader that sets session_replication_role = replica to skip FK checks): its
    events are kept and counted by nothing, which docs/sql.md now says ("Events a session of yours loads with
    session_replication_role = replica"), with the two ways to have them rescored: the statement trigger enabled
    ALWAYS (per statement), or the wiring attached with p_replicated => true (once, at the load's commit)."""
    rid = attach(shop)
    (trigger,), = query(shop, "SELECT trigger_name FROM pgscore.rescoring WHERE rescoring_id = %s", (rid,))
    load = ("BEGIN; SET LOCAL session_replication_role = replica; "
            "INSERT INTO complaints (customer_id) VALUES (5), (6), (6); COMMIT")
    calls = "SELECT id, support_calls FROM customers WHERE id IN (5, 6) ORDER BY 1"
    before = query(shop, calls)
    query(shop, load)
    assert query(shop, calls) == before  # the limit the docs state
    query(shop, f'ALTER TABLE complaints ENABLE ALWAYS TRIGGER "{trigger}"')
    query(shop, load)
    assert query(shop, calls) == [(5, before[0][1] + 1), (6, before[1][1] + 2)]
    query(shop, "SELECT pgscore.detach_rescoring('complaints')")
    query(shop, "SELECT pgscore.attach_rescoring('complaints', 'customers', 'customer_id', 'churn', 'churn_score', "
                "%s::jsonb, p_profile_key => 'id', p_replicated => true)", (json.dumps(sample.COUNTERS),))
    query(shop, load)
    assert query(shop, calls) == [(5, before[0][1] + 2), (6, before[1][1] + 4)]
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]


def test_pgscore_backfill_exits_1_on_its_warnings_whatever_client_min_messages(shop):
    """Session 70's review, the same defect as retry's count of skipped wirings: pgscore backfill exited 1 where the
    backfill warned (profiles queued, not recounted, not created) by seeing a notice that starts with 'WARNING:',
    which a login role's client_min_messages = error hides (and a translated lc_messages words otherwise): exit 0,
    nothing said. backfill_rescoring leaves how many WARNINGs it raised in the transaction's setting
    pgscore.backfill_warnings, which the command reads."""
    attach(shop)
    query(shop, "ALTER TABLE complaints DISABLE TRIGGER USER; INSERT INTO complaints (customer_id) VALUES (6), (6), "
                "(6); ALTER TABLE complaints ENABLE TRIGGER USER")
    query(shop, "ALTER TABLE customers ADD CONSTRAINT few_calls CHECK (support_calls < 3) NOT VALID")
    got = query(shop, "SET LOCAL client_min_messages = error; SELECT pgscore.backfill_rescoring('complaints'); "
                      "SELECT current_setting('pgscore.backfill_warnings', true)")
    assert got == [("1",)], got
    # (the command's exit 1 under client_min_messages = error: test_backfill_says_a_profile_not_recounted_where_the_
    # login_hides_warnings, where the CLI lowers the setting for its own session, trial T28, and so hears the WARNING)


def test_status_says_a_statement_trigger_enabled_always_beside_the_replicated_triggers_counts_a_load_twice(shop,
                                                                                                           capsys):
    """Review r2 of session 71: docs/sql.md (trial T28) says of the statement trigger enabled ALWAYS "never beside the
    replicated triggers: their rows would be counted twice (`pgscore status` says so)". A wiring attached with
    p_replicated => true whose statement trigger was then enabled ALWAYS counted a load under session_replication_role
    = replica twice (support_calls 1 -> 3 for one event), and status said nothing of it (it did only where a
    subscription writes the table), and pgscore.health()'s rescoring check said ok. Both say so now, status with the
    ALTER TABLE that ends it."""
    from pgscore import cli

    query(shop, "SELECT pgscore.attach_rescoring('complaints', 'customers', 'customer_id', 'churn', 'churn_score', "
                "%s::jsonb, p_profile_key => 'id', p_replicated => true)", (json.dumps(sample.COUNTERS),))
    (trigger,), = query(shop, "SELECT trigger_name FROM pgscore.rescoring")
    query(shop, f'ALTER TABLE complaints ENABLE ALWAYS TRIGGER "{trigger}"')
    (before,), = query(shop, "SELECT support_calls FROM customers WHERE id = 5")
    query(shop, "BEGIN; SET LOCAL session_replication_role = replica; "
                "INSERT INTO complaints (customer_id) VALUES (5); COMMIT")
    assert query(shop, "SELECT support_calls FROM customers WHERE id = 5") == [(before + 2,)]  # (why it is said)
    (state, detail), = query(shop, "SELECT state, detail FROM pgscore.health() WHERE check_name = 'rescoring'")
    assert state == "fail" and ("its statement trigger is enabled ALWAYS beside its triggers for replicated rows: "
                                "the rows of a session with session_replication_role = replica are counted twice "
                                f"(ALTER TABLE ... ENABLE TRIGGER {trigger})") in detail, (state, detail)
    cli.main(["status", "--db", shop.dsn])
    out = " ".join(capsys.readouterr().out.split())
    assert (f"its statement trigger {trigger} on public.complaints is enabled ALWAYS beside its triggers "
            "for replicated rows: the rows of a session with session_replication_role = replica (an ETL load) are "
            f"counted twice; ALTER TABLE public.complaints ENABLE TRIGGER {trigger}") in out, out


def test_backfill_removes_a_profile_it_created_whose_recount_fails(shop):
    """Review r2 of session 70: a queued missing profile backfill_rescoring created, whose recount then failed (a
    CHECK its counted value breaks: session 70's recount in parts), was left with every counter at its default, still
    queued; retry_failed, once the cause was fixed, scored it on those defaults (support_calls 1 of its 3 events) and
    cleared its row, its events counted nowhere. (Before the parts, the whole backfill failed: nothing created.) The
    backfill removes such a profile again now: it stays missing and queued as missing, and the next backfill creates
    it with every event counted."""
    query(shop, "; ".join(f"ALTER TABLE customers ALTER COLUMN {f} SET DEFAULT 1" for f in CHURN_FEATURES))
    query(shop, "ALTER TABLE customers ADD CONSTRAINT below_7000 CHECK (id < 7000)")
    attach(shop)
    query(shop, "INSERT INTO complaints (customer_id) VALUES (7000), (7000), (7000)")
    query(shop, "ALTER TABLE customers DROP CONSTRAINT below_7000")
    query(shop, "ALTER TABLE customers ADD CONSTRAINT few_calls CHECK (support_calls < 3) NOT VALID")
    del shop.notices[:]
    assert query(shop, "SELECT pgscore.backfill_rescoring('complaints')") == [(0,)]
    assert [n for n in shop.notices if "could not be recounted" in n and "'7000'" in n], shop.notices
    assert query(shop, "SELECT id FROM customers WHERE id = 7000") == []  # (as it was: missing, queued as missing)
    query(shop, "ALTER TABLE customers DROP CONSTRAINT few_calls")
    query(shop, "SELECT * FROM pgscore.retry_failed()")  # (left queued: its profile is missing)
    assert query(shop, "SELECT entity_key FROM pgscore.error_queue") == [("7000",)]
    assert query(shop, "SELECT pgscore.backfill_rescoring('complaints')") == [(1,)]
    assert query(shop, "SELECT support_calls FROM customers WHERE id = 7000") == [(3,)]


def test_backfill_says_its_profiles_not_recounted_in_one_warning_in_key_order(shop):
    """Review r2 of session 70: backfill_rescoring's WARNING of the profiles whose recount failed was said once a
    10,000-profile chunk (1,000 WARNINGs where a CHECK fails every profile of 10 million), each naming its first 5 keys
    as text sorts them ('1', '10', '100', ...). Now one WARNING a wiring, the keys in key order."""
    attach(shop)
    cols = ", ".join(f for f in CHURN_FEATURES if f not in ("support_calls", "complaints_30d"))
    # 10,000 profiles whose counters already hold their one event (recounted, not changed: nothing rescored), the
    # last of them in the backfill's second chunk, with profiles 6 and 10 of the first, given 3 events each
    query(shop, f"ALTER TABLE complaints DISABLE TRIGGER USER; INSERT INTO customers (id, {cols}, support_calls, "
                f"complaints_30d, last_complaint_at) SELECT g, {cols}, 1, 1, now() FROM customers c, "
                "generate_series(100001, 110000) g WHERE c.id = 1; INSERT INTO complaints (customer_id, created_at) "
                "SELECT g, now() FROM generate_series(100001, 110000) g; INSERT INTO complaints (customer_id) "
                "VALUES (6), (6), (6), (10), (10), (10), (110000), (110000); ALTER TABLE complaints ENABLE TRIGGER "
                "USER; ALTER TABLE customers ADD CONSTRAINT few_calls CHECK (support_calls < 3) NOT VALID")
    del shop.notices[:]
    query(shop, "SELECT pgscore.backfill_rescoring('complaints')")
    said = [n for n in shop.notices if "could not be recounted" in n]
    assert len(said) == 1 and "3 profile(s) of public.customers" in said[0] \
        and "key(s) '6', '10', '110000')" in said[0], said
    assert query(shop, "SELECT support_calls FROM customers WHERE id = 110000") == [(1,)]


def test_refresh_windows_leaves_out_a_wiring_whose_table_the_caller_may_not_read(shop):
    """Review r2 of session 70: refresh_windows left out a wiring in a schema the caller may not use (session 69)
    but returned a NULL row for one whose table it may not read (USAGE on the schema, no SELECT on the profile
    table), which `pgscore refresh-windows` counts as skipped, exit 1: a team's cron failed for ever on another team's
    tables in a shared schema, as `pgscore retry` did before h2's change. Now it is left out (WARNING with the
    GRANT), and the command says it was skipped, exit 0."""
    query(shop, "CREATE SCHEMA tenant_a")
    rid, pid = _two_wirings_queued(shop, schema="tenant_a")
    ensure_role(shop, "pgscore_t_admin69")
    query(shop, "GRANT USAGE ON SCHEMA tenant_a TO pgscore_t_admin69; GRANT SELECT ON tenant_a.ef TO pgscore_t_admin69")
    got = _as_an_admin_without_tenant_usage(shop, lambda: refresh(shop))
    assert [r[0] for r in got] == [rid], got
    said = [n for n in shop.notices if f"refresh_windows skipped wiring {pid}" in n]
    assert said and "GRANT SELECT, UPDATE ON tenant_a.pf" in said[0], shop.notices
    run = pgscore_cli("refresh-windows", "--db", shop.dsn, env={"PGOPTIONS": "-c role=pgscore_t_admin69"})
    assert run.returncode == 0 and "1 wiring(s) this role may not use (a schema, or a table) skipped" in run.stdout \
        and f"\nwiring {pid}: " not in run.stdout, run


def test_backfill_fails_on_a_recount_error_of_every_profile(shop):
    """Review r2 of session 70: since the recount in parts, an error of every profile's recount, not of some rows'
    values (a trigger of the profile table refusing the UPDATE, P0001), was a WARNING naming all of them and the call
    returned a count, where a wiring that cannot be backfilled fails the call (its count would look complete). It
    fails it again, with that error; only errors of some rows' values (classes 22 and 23) are searched in parts."""
    attach(shop)
    query(shop, "ALTER TABLE complaints DISABLE TRIGGER USER; INSERT INTO complaints (customer_id) VALUES (5), (7); "
                "ALTER TABLE complaints ENABLE TRIGGER USER")
    query(shop, "CREATE FUNCTION frozen() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'frozen'; "
                "END$$; CREATE TRIGGER frozen BEFORE UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION frozen()")
    with pytest.raises(errors.RaiseException, match="frozen"):
        query(shop, "SELECT pgscore.backfill_rescoring('complaints')")


# (session 71) the owner's look-alikes of the operators the statements pgscore prints compare with: in public, each
# counted by a sequence (which a rollback does not undo), the exact match for its types where public comes first
_PRINTED_LOOK_ALIKES = "CREATE SEQUENCE public.s71_fired; " + "".join(f"""
CREATE FUNCTION public.s71_{fn}_{a}_{b}({a}, {b}) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_catalog.nextval('public.s71_fired'); RETURN $1 OPERATOR(pg_catalog.{op}) $2; END $$;
CREATE OPERATOR public.{op} (LEFTARG = {a}, RIGHTARG = {b}, FUNCTION = public.s71_{fn}_{a}_{b});
""" for a, b, ops in (("int8", "int4", "=<>"), ("int8", "int8", "=<>"), ("oid", "oid", "=<>"),
                      ("text", "text", "=<>"), ("jsonb", "text", "?"))
    for op, fn in ((("=", "eq"), ("<>", "ne")) if ops == "=<>" else (("?", "has"),)))
# a statement printed for the reader to run: up to where the sentence goes on
_PRINTED = re.compile(r"(?:UPDATE pgscore\.\w+ SET|DELETE FROM pgscore\.\w+|SELECT \* FROM pgscore\.\w+ WHERE) "
                      r".*?(?= hands| deletes| shows|, then|; |$)")


def test_the_statements_retry_and_status_print_run_no_look_alike_of_the_owners_pasted_into_psql(shop, capsys):
    """Session 71: the UPDATEs, DELETEs and SELECTs that retry_failed's WARNINGs, the error queue's reasons and pgscore
    status print for a superuser to paste into psql compared with a plain = or <> (`WHERE rescoring_id = 5`,
    `profile_oid <> ...::oid`, `sqlstate = 'P0002'`, `cause ? 'handed_over'`, status's DELETE of the rows of tables
    gone): in a session whose search_path puts the database owner's public ahead of pg_catalog (the owner's ALTER
    DATABASE ... SET search_path), the owner's operator of those types ran as the superuser. They name pg_catalog's
    now; each is run here, as printed, in such a session, when it is printed."""
    from pgscore import cli

    query(shop, _PRINTED_LOOK_ALIKES)
    ran, fired = set(), []
    conn = psycopg2.connect(shop.dsn)
    cur = conn.cursor()
    cur.execute("SET search_path = public, pg_catalog")  # (as the owner's ALTER DATABASE ... SET search_path)
    for probe in ("SELECT 1::int8 = 1", "SELECT 1::oid <> 2::oid", "SELECT 'a'::text = 'b'",
                  "SELECT '{}'::jsonb ? 'a'"):
        cur.execute(probe)  # (each look-alike is the one such a session picks)
    cur.execute("SELECT pg_catalog.currval('public.s71_fired')")
    assert cur.fetchone() == (4,)
    conn.commit()

    def run(lines):
        for statement in {s.rstrip(".") for line in lines for s in _PRINTED.findall(line)} - ran:
            ran.add(statement)
            cur.execute("SELECT pg_catalog.nextval('public.s71_fired')")
            before = cur.fetchone()[0]
            cur.execute(statement)
            cur.execute("SELECT pg_catalog.currval('public.s71_fired')")
            if cur.fetchone()[0] != before:
                fired.append(statement)
            conn.rollback()  # (as run and rolled back: the next stage finds the rows as they were)

    def status():
        cli.main(["status", "--db", shop.dsn])
        run(x for x in capsys.readouterr().out.splitlines() if x.startswith("error queue:"))

    def retry():
        del shop.notices[:]
        query(shop, "SELECT * FROM pgscore.retry_failed()")
        run(shop.notices + [r for r, in query(shop, "SELECT reason FROM pgscore.error_queue")])

    try:
        rid = queue_tenant_c(shop)
        # renamed away, another made under its name: status's UPDATE and DELETE, retry's three statements
        query(shop, "ALTER TABLE tenant_c.customers RENAME TO customers_old; "
                    "CREATE TABLE tenant_c.customers (LIKE public.customers INCLUDING ALL)")
        status()
        retry()
        # the old one dropped: handed over to the new one, which lacks their keys (the reasons' DELETE, status's)
        query(shop, "DROP TABLE tenant_c.customers_old")
        retry()
        status()
        # the name hand-edited into no name: the UPDATE that names it again
        query(shop, "UPDATE pgscore.rescoring SET profile_table = profile_table || '\"'")
        retry()
        query(shop, "UPDATE pgscore.rescoring SET profile_table = pg_catalog.rtrim(profile_table, '\"')")
        # detached, the table dropped: status's DELETE of the rows of tables gone
        query(shop, "SELECT pgscore.detach_rescoring('tenant_c.complaints'); DROP TABLE tenant_c.customers")
        status()
    finally:
        conn.close()
    kinds = [f"WHERE rescoring_id OPERATOR(pg_catalog.=) {rid} AND profile_oid OPERATOR(pg_catalog.<>)",
             "UPDATE pgscore.error_queue SET rescoring_id = NULL WHERE",
             "sqlstate OPERATOR(pg_catalog.=) 'P0002' AND cause OPERATOR(pg_catalog.?) 'handed_over'",
             "SELECT * FROM pgscore.error_queue WHERE rescoring_id OPERATOR(pg_catalog.=)",
             "UPDATE pgscore.rescoring SET profile_table = 'SCHEMA.TABLE'",
             "DELETE FROM pgscore.error_queue q WHERE q.rescoring_id IS NULL"]
    assert not fired
    assert all(any(k in s for s in ran) for k in kinds), sorted(ran)  # (each kind printed, pg_catalog's named)


# (review r4 of session 71) the owner's look-alikes of the catalogs, functions and operators the other statements
# pgscore prints name: views named as pg_catalog's (read first where public comes first on the search_path), and
# = on int4 and on (oid, regnamespace) (pg_catalog has none of the second: the owner's is the exact match anywhere)
_CATALOG_LOOK_ALIKES = """
CREATE FUNCTION public.s71_seen() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_catalog.nextval('public.s71_fired'); RETURN true; END $$;
CREATE VIEW public.pg_trigger AS SELECT g.* FROM pg_catalog.pg_trigger g WHERE public.s71_seen();
CREATE VIEW public.pg_locks AS SELECT l.* FROM pg_catalog.pg_locks l WHERE public.s71_seen();
CREATE VIEW public.pg_stat_activity AS SELECT a.* FROM pg_catalog.pg_stat_activity a WHERE public.s71_seen();
CREATE VIEW public.pg_class AS SELECT c.* FROM pg_catalog.pg_class c WHERE public.s71_seen();
CREATE FUNCTION public.pg_xact_status(xid8) RETURNS text LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_catalog.nextval('public.s71_fired'); RETURN pg_catalog.pg_xact_status($1); END $$;
CREATE FUNCTION public.pg_get_viewdef(text, boolean) RETURNS text LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_catalog.nextval('public.s71_fired'); RETURN pg_catalog.pg_get_viewdef($1, $2); END $$;
CREATE FUNCTION public.s71_eq_oid_regnamespace(oid, regnamespace) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_catalog.nextval('public.s71_fired'); RETURN $1 OPERATOR(pg_catalog.=) $2::oid; END $$;
CREATE OPERATOR public.= (LEFTARG = oid, RIGHTARG = regnamespace, FUNCTION = public.s71_eq_oid_regnamespace);
CREATE FUNCTION public.s71_eq_int4(int4, int4) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_catalog.nextval('public.s71_fired'); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR public.= (LEFTARG = int4, RIGHTARG = int4, FUNCTION = public.s71_eq_int4);
"""

def test_the_uninstall_health_and_in_doubt_statements_run_no_look_alike_of_the_owners_pasted_into_psql(shop, capsys):
    """Review r4 of session 71: the statements of pgscore uninstall's hint (`SELECT pgscore.detach_rescoring(t.e) FROM
    (SELECT DISTINCT tgrelid::regclass AS e FROM pg_trigger WHERE tgfoid = ...::oid) AS t`, a superuser's), pgscore
    health's of the locks it waited for (`FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid ... relnamespace =
    'pgscore'::regnamespace`), pgscore score's `SELECT pg_xact_status('N')` and a migration's `SELECT
    pg_get_viewdef(...)` named catalogs, functions and operators unqualified: pasted into a psql session whose
    search_path puts the database owner's public first, the owner's views, functions and = ran (the uninstall's = on
    oid once per trigger of the database). pg_get_viewdef runs a query of its own (pg_rewrite's ev_class = $1) on the
    session's path, where the owner's = (oid, oid) ran whatever the call named: its hint puts pg_catalog first. Each
    is run here as printed, and does what it says."""
    from types import SimpleNamespace

    from pgscore import cli, migrate
    from pgscore.errors import InstallError

    rid = attach(shop)
    with pytest.raises(InstallError) as e:  # (refused, a wiring's trigger outside pgscore: nothing changed)
        migrate.downgrade(shop.dsn, "base")
    detach = e.value.hint.split("detach the rescoring triggers first (", 1)[1].rsplit("), and drop or", 1)[0]
    query(shop, _PRINTED_LOOK_ALIKES + _CATALOG_LOOK_ALIKES + "CREATE VIEW public.my_view AS SELECT 1 AS one")
    holder = psycopg2.connect(shop.dsn)
    conn = psycopg2.connect(shop.dsn)
    try:
        holder.cursor().execute("LOCK TABLE pgscore.monitoring_state IN ACCESS EXCLUSIVE MODE")
        xid = holder.cursor()
        xid.execute("SELECT pg_catalog.pg_current_xact_id()::text")
        cli._say_in_doubt({"rows": 1, "last_key": 1, "in_doubt": {"rows": 2, "last_key": 2, "xid": xid.fetchone()[0],
                                                                   "status": "in progress"}}, "interrupted")
        in_doubt = re.search(r"ask with: (SELECT .*?\)); ", capsys.readouterr().err).group(1)
        viewdef = migrate.refused_by_your_objects(SimpleNamespace(pgcode="2BP01", diag=SimpleNamespace(
            message_hint=None, message_primary="cannot drop view", message_detail=None)))
        viewdef = re.search(r"\(((?:SET [^;]*; )?SELECT pg_\S+\(\s*'public\.my_view'\S*, true\))", viewdef).group(1)
        cur = conn.cursor()
        cur.execute("SET search_path = public, pg_catalog")  # (as the owner's ALTER DATABASE ... SET search_path)

        def fired(statement):
            cur.execute("SELECT pg_catalog.nextval('public.s71_fired')")
            before = cur.fetchone()[0]
            cur.execute(statement)
            rows = cur.fetchall()
            cur.execute("SELECT pg_catalog.currval('public.s71_fired')")
            return cur.fetchone()[0] != before, rows

        for probe in ("SELECT 1::int4 = 2", "SELECT 1::oid = 'pgscore'::regnamespace", "SELECT 1 FROM pg_class LIMIT 1",
                      "SELECT 1 FROM pg_trigger LIMIT 1", "SELECT 1 FROM pg_locks LIMIT 1",
                      "SELECT 1 FROM pg_stat_activity LIMIT 1", "SELECT pg_get_viewdef('public.my_view', true)",
                      "SELECT pg_xact_status('1')"):
            assert fired(probe)[0], probe  # (each look-alike is the one such a session picks)
        said, ran = {}, []
        for name, statement in (("health", cli.HEALTH_LOCK_HOLDERS), ("in doubt", in_doubt), ("uninstall", detach),
                                ("viewdef", viewdef)):  # (the last: it sets the session's search_path)
            owners, said[name] = fired(statement)
            if owners:
                ran.append(statement)
        assert not ran  # (before: the owner's ran, for each)
        assert ("pgscore.monitoring_state", "AccessExclusiveLock") in [r[:2] for r in said["health"]], said
        assert said["in doubt"] == [("in progress",)] and "SELECT 1 AS one" in said["viewdef"][0][0], said
        assert said["uninstall"] == [(1,)], said
        conn.commit()
    finally:
        conn.close()
        holder.close()
    assert query(shop, "SELECT count(*) FROM pgscore.rescoring WHERE rescoring_id = %s", (rid,)) == [(0,)]
