"""Rescoring for events that reach a wired table in other shapes than a plain INSERT: MERGE, INSERT ... ON
CONFLICT, nested in another trigger, a writable CTE, a view's INSTEAD OF trigger, inside a savepoint or an
EXCEPTION block that rolls back, and from logical replication."""

import json
import time
from functools import partial

import numpy as np
import psycopg2
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from helpers import ensure_role, make_shop, pgscore_cli, query
from pgscore import datasets, migrate
from pgscore.datasets import CHURN_FEATURES
from pgscore.sample import COUNTERS

N_CUSTOMERS = 20


@pytest.fixture(scope="module")
def trained():
    X, y, _ = datasets.churn(1000, seed=3)
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y), X, y


@pytest.fixture(scope="module")
def shop_template(built_template, trained):
    """A template with customers 1..N_CUSTOMERS, complaints wired to rescore them and calls_before (made once,
    not for each test that takes `shop`)."""
    model, X, y = trained

    def build(url):
        conn = make_shop(url, model, X, y, N_CUSTOMERS, rescore=True)
        try:
            query(conn, "CREATE TABLE calls_before AS SELECT id, support_calls FROM customers")
        finally:
            conn.close()

    return built_template(build)


@pytest.fixture
def shop(db_url):
    """Customers 1..N_CUSTOMERS, complaints wired to rescore them (the sample counters); their support_calls
    as loaded, in a table calls_before: an autocommit connection to a clone of shop_template."""
    conn = psycopg2.connect(db_url)
    conn.autocommit = True
    yield conn
    conn.close()


def assert_as_documented(conn, model, source="trigger"):
    """Counters equal their events, each touched profile's score is the model's on its final features, and
    each event is named by exactly one audit row of `source` (None: of any); nothing queued."""
    cols = ", ".join(CHURN_FEATURES)
    before = dict(query(conn, "SELECT id, support_calls FROM calls_before"))
    rows = query(conn, f"SELECT c.id, c.support_calls, c.complaints_30d, c.churn_score, ARRAY[{cols}]::float8[], "
                       "(SELECT count(*) FROM complaints e WHERE e.customer_id = c.id) FROM customers c "
                       "WHERE EXISTS (SELECT 1 FROM complaints e WHERE e.customer_id = c.id) ORDER BY c.id")
    assert rows, "no event was inserted"
    for id_, calls, c30, score, features, n in rows:
        assert (calls, c30) == (before[id_] + n, n), id_
        assert abs(score - model.predict_proba(np.array([features]))[0, 1]) < 1e-9, id_
    named = query(conn, "SELECT i::bigint FROM pgscore.prediction_log l, jsonb_array_elements_text(l.cause->'event_ids') i "
                        "WHERE %(s)s::text IS NULL OR l.source = %(s)s ORDER BY 1", {"s": source})
    assert [i for (i,) in named] == [i for (i,) in query(conn, "SELECT complaint_id FROM complaints ORDER BY 1")]
    assert query(conn, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]


def rewire_replicated(shop) -> int:
    """The shop's complaints wired again with p_replicated (its row trigger for replicated rows, the stage and
    the commit trigger): the wiring's id."""
    query(shop, "SELECT pgscore.detach_rescoring('complaints')")
    return query(shop, "SELECT pgscore.attach_rescoring('complaints', 'customers', 'customer_id', 'churn', "
                       "'churn_score', %s::jsonb, p_profile_key => 'id', p_replicated => true)",
                 (json.dumps(COUNTERS),))[0][0]


def publisher_and_subscriber(c, trained, *settings, rescore=False):
    """A cluster of one's own made ready for logical replication within it (wal_level = logical and each of
    settings, then restarted): a database pub, and the subscriber, the cluster's own database, migrated and
    holding the shop (make_shop). Returns pub's and the subscriber's URLs and a connection to the shop."""
    model, X, y = trained
    query(c.url("postgres"), "ALTER SYSTEM SET wal_level = logical")
    for setting in settings:
        query(c.url("postgres"), f"ALTER SYSTEM SET {setting}")
    c.stop()
    c.start()
    query(c.url("postgres"), "CREATE DATABASE pub")
    pub, sub = c.url("pub"), c.url()
    migrate.upgrade(sub)
    return pub, sub, make_shop(sub, model, X, y, N_CUSTOMERS, rescore=rescore)


# the backends waiting on a lock (a subscription's apply worker stalled shows here)
LOCK_WAITS = "SELECT backend_type, wait_event_type, wait_event FROM pg_stat_activity WHERE wait_event_type = 'Lock'"


def polled(conn, sql, want, tries=300) -> bool:
    """Whether `sql` returns `want` within `tries` polls 50 ms apart."""
    for _ in range(tries):
        if query(conn, sql) == want:
            return True
        time.sleep(0.05)
    return False


def two_phase_complaints(c, trained, before=False):
    """publisher_and_subscriber with max_prepared_transactions, the complaints table published from pub (a
    slot made with two_phase) to a subscription s with two_phase = true, and the shop's complaints wired (its
    default p_replicated: the subscription writes the table). With before, the customers' support_calls are
    kept first in a table calls_before. Returns what publisher_and_subscriber returns."""
    pub, sub, conn = publisher_and_subscriber(c, trained, "max_prepared_transactions = 10")
    if before:
        query(conn, "CREATE TABLE calls_before AS SELECT id, support_calls FROM customers")
    query(pub, "CREATE TABLE complaints (complaint_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
               "customer_id bigint, kind text NOT NULL DEFAULT 'billing', created_at timestamptz NOT NULL DEFAULT "
               "now()); CREATE PUBLICATION p FOR TABLE complaints")
    query(pub, "SELECT pg_create_logical_replication_slot('s', 'pgoutput', false, true)")  # (two_phase)
    p = c.dsn()
    query(conn, f"CREATE SUBSCRIPTION s CONNECTION 'host={p['host']} port={p['port']} dbname=pub "
                f"user={p['user']}' PUBLICATION p WITH (create_slot = false, slot_name = 's', two_phase = true)")
    # the table's sync first (nothing to copy): publisher and subscriber share the cluster, and the sync's slot
    # waits for every running transaction, attach_rescoring's too, which waits for the table the sync worker holds
    # (an undetected deadlock across the walsender, seen once: CREATE_REPLICATION_SLOT on a transactionid lock)
    for _ in range(600):
        if query(conn, "SELECT bool_and(srsubstate IN ('r', 's')) FROM pg_subscription_rel") == [(True,)]:
            break
        time.sleep(0.05)
    else:
        raise AssertionError(f"the subscription's table sync did not end: {query(conn, 'TABLE pg_subscription_rel')}")
    query(conn, "SELECT pgscore.attach_rescoring('complaints', 'customers', 'customer_id', 'churn', "
                "'churn_score', %s::jsonb, p_profile_key => 'id')", (json.dumps(COUNTERS),))
    return pub, sub, conn


def test_merge_counts_the_rows_it_inserts_and_not_those_it_updates(shop, trained):
    query(shop, "MERGE INTO complaints c USING (VALUES (1), (2), (1)) s(id) ON false "
                "WHEN NOT MATCHED THEN INSERT (customer_id) VALUES (s.id)")
    # complaint 1 matched (updated, not counted again), 1000 not (inserted for customer 3)
    query(shop, "MERGE INTO complaints c USING (VALUES (1), (1000)) s(id) ON c.complaint_id = s.id "
                "WHEN MATCHED THEN UPDATE SET kind = 'merged' WHEN NOT MATCHED THEN INSERT (customer_id) VALUES (3)")
    # nothing inserted: the statement trigger fires on an empty transition table, and writes nothing
    query(shop, "MERGE INTO complaints c USING (VALUES (2)) s(id) ON c.complaint_id = s.id "
                "WHEN MATCHED THEN UPDATE SET kind = 'merged' WHEN NOT MATCHED THEN INSERT (customer_id) VALUES (4)")
    assert query(shop, "SELECT entity_key, cause->'events' FROM pgscore.prediction_log ORDER BY logged_at, 1") == [
        ("1", 2), ("2", 1), ("3", 1)]
    assert_as_documented(shop, trained[0])


def test_insert_on_conflict_counts_only_the_rows_it_inserts(shop, trained):
    query(shop, "ALTER TABLE complaints ADD ext text UNIQUE")
    query(shop, "INSERT INTO complaints (customer_id, ext) VALUES (1, 'a'), (2, 'b')")
    query(shop, "INSERT INTO complaints (customer_id, ext) VALUES (1, 'a'), (3, 'c') ON CONFLICT DO NOTHING")
    query(shop, "INSERT INTO complaints (customer_id, ext) VALUES (2, 'b'), (4, 'd') "
                "ON CONFLICT (ext) DO UPDATE SET kind = 'again'")
    query(shop, "INSERT INTO complaints (customer_id, ext) VALUES (1, 'a') ON CONFLICT (ext) DO UPDATE SET kind = 'x'")
    assert query(shop, "SELECT count(*) FROM pgscore.prediction_log") == [(4,)]
    assert_as_documented(shop, trained[0])


def test_events_inserted_by_triggers_ctes_and_views_are_counted_once(shop, trained):
    query(shop, """
        CREATE TABLE staging (customer_id bigint);
        CREATE FUNCTION forward() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO complaints (customer_id) VALUES (NEW.customer_id); RETURN NEW; END $$;
        CREATE TRIGGER forward AFTER INSERT ON staging FOR EACH ROW EXECUTE FUNCTION forward();
        CREATE VIEW complaints_in AS SELECT customer_id FROM complaints;
        CREATE TRIGGER forward INSTEAD OF INSERT ON complaints_in FOR EACH ROW EXECUTE FUNCTION forward();""")
    query(shop, "INSERT INTO staging VALUES (1), (2), (1)")  # one rescoring statement per row
    query(shop, "INSERT INTO complaints_in VALUES (3), (3)")
    # two CTEs inserting into the wired table: one statement trigger, over the rows of both
    query(shop, "WITH a AS (INSERT INTO complaints (customer_id) VALUES (4) RETURNING 1), "
                "b AS (INSERT INTO complaints (customer_id) VALUES (4), (5) RETURNING 1) "
                "SELECT (SELECT count(*) FROM a) + (SELECT count(*) FROM b)")
    assert query(shop, "SELECT entity_key, cause->'events' FROM pgscore.prediction_log "
                       "WHERE entity_key IN ('4', '5') ORDER BY 1") == [("4", 2), ("5", 1)]
    assert_as_documented(shop, trained[0])


def test_events_of_a_rolled_back_savepoint_leave_no_counter_audit_row_or_queued_error(shop, trained):
    query(shop, """
        CREATE FUNCTION insert_then_fail(p bigint) RETURNS text LANGUAGE plpgsql AS $$
        BEGIN
          BEGIN
            INSERT INTO complaints (customer_id) VALUES (p), (p);
            INSERT INTO complaints (customer_id) VALUES (500);  -- created, NULL features: queued
            PERFORM 1 / 0;
          EXCEPTION WHEN division_by_zero THEN RETURN 'caught';
          END;
          RETURN 'not reached';
        END $$""")
    shop.autocommit = False
    with shop.cursor() as cur:
        cur.execute("INSERT INTO complaints (customer_id) VALUES (1)")
        cur.execute("SELECT insert_then_fail(1), insert_then_fail(2)")
        assert cur.fetchone() == ("caught", "caught")
        cur.execute("SAVEPOINT a")
        cur.execute("INSERT INTO complaints (customer_id) VALUES (3), (501)")
        cur.execute("SELECT count(*) FROM pgscore.error_queue")
        assert cur.fetchone() == (1,)
        cur.execute("ROLLBACK TO SAVEPOINT a")
        cur.execute("INSERT INTO complaints (customer_id) VALUES (3)")
    shop.commit()
    shop.autocommit = True
    assert query(shop, "SELECT count(*) FROM customers WHERE id > %s", (N_CUSTOMERS,)) == [(0,)]
    assert query(shop, "SELECT entity_key FROM pgscore.prediction_log ORDER BY 1") == [("1",), ("3",)]
    assert_as_documented(shop, trained[0])


def test_a_wired_table_that_a_subscription_writes_is_reported(shop, db_url, empty_db_url):
    """The apply worker of logical replication fires no statement trigger: a wiring without the row trigger for
    replicated rows (attached before the subscription, or with p_replicated => false) is reported: attach_rescoring
    warns and pgscore status says the replicated rows are not rescored (a subscription created disabled, without a
    slot: no replication runs, pg_subscription_rel lists the table)."""
    pub = psycopg2.connect(empty_db_url)
    pub.autocommit = True
    query(pub, "CREATE TABLE complaints (complaint_id bigint PRIMARY KEY, customer_id bigint, kind text, "
               "created_at timestamptz); CREATE PUBLICATION pgscore_test_pub FOR TABLE complaints")
    p = pub.get_dsn_parameters()
    conninfo = f"host={p['host']} port={p['port']} dbname={p['dbname']} user={p['user']}"
    url = db_url
    try:
        query(shop, f"CREATE SUBSCRIPTION pgscore_test_sub CONNECTION '{conninfo}' PUBLICATION pgscore_test_pub "
                    "WITH (enabled = false, create_slot = false, slot_name = 'pgscore_test_sub')")
        run = pgscore_cli("status", "--db", url)
        assert ("NOT RESCORING: the rows subscription pgscore_test_sub applies to public.complaints (logical "
                "replication) fire no statement trigger, not even one enabled ALWAYS") in run.stdout, run.stdout
        query(shop, "SELECT pgscore.detach_rescoring('complaints')")
        shop.notices.clear()
        query(shop, "SELECT pgscore.attach_rescoring('complaints', 'customers', 'customer_id', 'churn', "
                    "'churn_score', p_profile_key => 'id', p_replicated => false)")
        assert any("complaints is written by subscription pgscore_test_sub: the rows logical replication applies "
                   "fire no statement trigger" in n for n in shop.notices), shop.notices
        assert any("p_replicated => true" in n for n in shop.notices), shop.notices
    finally:
        query(shop, "ALTER SUBSCRIPTION pgscore_test_sub SET (slot_name = NONE)")
        query(shop, "DROP SUBSCRIPTION pgscore_test_sub")
        pub.close()
    assert "NOT RESCORING" not in pgscore_cli("status", "--db", url).stdout


def health_row(conn, name):
    """pgscore.health()'s check `name`: (state, value, detail)."""
    return query(conn, "SELECT state, value, detail FROM pgscore.health() WHERE check_name = %s", (name,))[0]


def test_health_sees_a_subscription_that_does_not_apply_a_wired_table(shop, db_url, empty_db_url):
    """pgscore health (and status's summary of it) said `OK rescoring ... each rescoring` while the subscription that
    writes a wired event table was disabled, or its apply worker failed at every try (a duplicate key on the
    subscriber, a column the publisher added first), or a table's initial copy never ended: its events were not
    applied, the scores went stale, a probe saw nothing (trial T20). Its check `subscriptions` warns, naming the
    subscription and why; `rescoring` fails where the wiring's triggers for replicated rows are disabled (status
    said NOT RESCORING, health ok) or missing where a subscription writes the table. The subscription is made
    without a slot (its worker, once enabled, fails at each start: the slot does not exist)."""
    pub = psycopg2.connect(empty_db_url)
    pub.autocommit = True
    query(pub, "CREATE TABLE complaints (complaint_id bigint PRIMARY KEY, customer_id bigint, kind text, "
               "created_at timestamptz); CREATE PUBLICATION pgscore_test_pub FOR TABLE complaints")
    p = pub.get_dsn_parameters()
    conninfo = f"host={p['host']} port={p['port']} dbname={p['dbname']} user={p['user']}"
    assert health_row(shop, "subscriptions") == ("ok", 0, "no subscription writes a wired table or pgscore's")
    rewire_replicated(shop)
    try:
        query(shop, f"CREATE SUBSCRIPTION pgscore_test_sub CONNECTION '{conninfo}' PUBLICATION pgscore_test_pub "
                    "WITH (enabled = false, create_slot = false, slot_name = 'pgscore_test_sub_none')")
        state, value, detail = health_row(shop, "subscriptions")
        assert (state, value) == ("warn", 1), detail
        assert detail.startswith("subscription pgscore_test_sub: disabled: nothing it publishes is applied (ALTER "
                                 "SUBSCRIPTION pgscore_test_sub ENABLE); the initial copy of public.complaints (not "
                                 "started) is not done (0 copy errors counted): their rows are not applied"), detail
        assert health_row(shop, "rescoring")[0] == "ok"
        run = pgscore_cli("health", "--db", db_url)
        assert run.returncode == 1 and "WARN subscriptions 1: subscription pgscore_test_sub: disabled" in run.stdout, \
            run.stdout
        assert "subscriptions warn" in pgscore_cli("status", "--db", db_url).stdout
        query(shop, "ALTER SUBSCRIPTION pgscore_test_sub ENABLE")  # its worker fails at each start: no such slot
        assert polled(shop, "SELECT state, position('enabled, but its apply worker is not running' IN detail) > 0 "
                            "FROM pgscore.health() WHERE check_name = 'subscriptions'", [("warn", True)]), \
            health_row(shop, "subscriptions")
        query(shop, "ALTER SUBSCRIPTION pgscore_test_sub DISABLE")
        query(shop, "ALTER TABLE complaints DISABLE TRIGGER pgscore_replicated_%s" % query(
            shop, "SELECT rescoring_id FROM pgscore.rescoring")[0][0])
        state, value, detail = health_row(shop, "rescoring")
        assert (state, value) == ("fail", 1) and "its row trigger for replicated rows is dropped, disabled or " \
            "enabled for local sessions" in detail, detail
        query(shop, "SELECT pgscore.detach_rescoring('complaints')")
        query(shop, "SELECT pgscore.attach_rescoring('complaints', 'customers', 'customer_id', 'churn', "
                    "'churn_score', p_profile_key => 'id', p_replicated => false)")
        state, value, detail = health_row(shop, "rescoring")
        assert (state, value) == ("fail", 1) and "a subscription writes its event table and it has no trigger for " \
            "replicated rows" in detail, detail
    finally:
        query(shop, "ALTER SUBSCRIPTION pgscore_test_sub DISABLE")
        query(shop, "ALTER SUBSCRIPTION pgscore_test_sub SET (slot_name = NONE)")
        query(shop, "DROP SUBSCRIPTION pgscore_test_sub")
        pub.close()
    assert health_row(shop, "subscriptions") == ("ok", 0, "no subscription writes a wired table or pgscore's")


def test_health_says_the_events_were_copied_before_their_profiles(shop, empty_db_url):
    """Profiles and events in one subscription: where the events' initial copy ends first, its rescoring creates the
    missing profiles (p_missing_profile 'create'), and the profiles' copy fails on their keys at every retry, for
    ever (trial T20: 9,958 empty profiles queued, customers_pkey refused the copy). health's subscriptions check says
    so, with the way out. The two copies' states are set in pg_subscription_rel (as a superuser may): the
    subscription is made disabled, without a slot, and copies nothing."""
    pub = psycopg2.connect(empty_db_url)
    pub.autocommit = True
    query(pub, "CREATE TABLE complaints (complaint_id bigint PRIMARY KEY, customer_id bigint, kind text, "
               "created_at timestamptz); CREATE TABLE customers (id bigint PRIMARY KEY); "
               "CREATE PUBLICATION pgscore_test_pub FOR TABLE complaints, customers")
    p = pub.get_dsn_parameters()
    conninfo = f"host={p['host']} port={p['port']} dbname={p['dbname']} user={p['user']}"
    rewire_replicated(shop)
    try:
        query(shop, f"CREATE SUBSCRIPTION pgscore_test_sub CONNECTION '{conninfo}' PUBLICATION pgscore_test_pub "
                    "WITH (enabled = false, create_slot = false, slot_name = 'pgscore_test_sub_none')")
        assert "copied first" not in health_row(shop, "subscriptions")[2]  # (both not started)
        query(shop, "UPDATE pg_subscription_rel SET srsubstate = CASE srrelid WHEN 'complaints'::regclass THEN 'r' "
                    "ELSE 'd' END")
        state, value, detail = health_row(shop, "subscriptions")
        assert (state, value) == ("warn", 1), detail
        assert ("the initial copy of public.customers (copying) is not done (0 copy errors counted); the events were "
                "copied first (public.complaints before public.customers): their rescoring created the missing "
                "profiles, on whose keys the profiles' copy fails at every retry; DROP SUBSCRIPTION pgscore_test_sub, "
                "TRUNCATE both tables and subscribe to the profiles first") in detail, detail
        assert detail.endswith("their rows are not applied, so their profiles are not rescored (docs/operations.md, "
                               "'A fleet: events by logical replication')"), detail
        # (0166) the profiles copied, the apply worker catching up ('s'): their copy fails no more, nothing to say
        query(shop, "UPDATE pg_subscription_rel SET srsubstate = 's' WHERE srrelid = 'customers'::regclass")
        assert "copied first" not in health_row(shop, "subscriptions")[2]
        # (0166) the events' copy waiting for the profiles' (the row trigger for replicated rows fails it meanwhile)
        query(shop, "UPDATE pg_subscription_rel SET srsubstate = CASE srrelid WHEN 'complaints'::regclass THEN 'd' "
                    "ELSE 'i' END")
        state, value, detail = health_row(shop, "subscriptions")
        assert (state, value) == ("warn", 1), detail
        assert ("the initial copy of public.complaints (copying), public.customers (not started) is not done (0 copy "
                "errors counted; waiting for the profiles' copy, public.complaints for public.customers: pgscore fails "
                "an event table's copy until its profiles are copied, and PostgreSQL starts it again)") in detail, detail
    finally:
        query(shop, "ALTER SUBSCRIPTION pgscore_test_sub SET (slot_name = NONE)")
        query(shop, "DROP SUBSCRIPTION pgscore_test_sub")
        pub.close()


def test_health_sees_a_wired_table_subscribed_by_partition(shop, empty_db_url):
    """A partitioned profile table published by partition (publish_via_partition_root false: pg_subscription_rel
    names its partitions): health's subscriptions check matched the wired tables' own names alone, so its events'
    copy waiting for the partitions' copy was not said to wait (nor the events copied first). It matches their
    partitions too. The copies' states are set in pg_subscription_rel, as in the test above."""
    parts = ("CREATE TABLE pcustomers_1 PARTITION OF pcustomers FOR VALUES FROM (MINVALUE) TO (1000); "
             "CREATE TABLE pcustomers_2 PARTITION OF pcustomers FOR VALUES FROM (1000) TO (MAXVALUE)")
    pub = psycopg2.connect(empty_db_url)
    pub.autocommit = True
    query(pub, "CREATE TABLE complaints (complaint_id bigint PRIMARY KEY, customer_id bigint, kind text, "
               "created_at timestamptz); CREATE TABLE pcustomers (id bigint PRIMARY KEY) PARTITION BY RANGE (id); "
               f"{parts}; CREATE PUBLICATION pgscore_test_pub FOR TABLE complaints, pcustomers")
    p = pub.get_dsn_parameters()
    conninfo = f"host={p['host']} port={p['port']} dbname={p['dbname']} user={p['user']}"
    query(shop, "SELECT pgscore.detach_rescoring('complaints')")
    query(shop, f"CREATE TABLE pcustomers (LIKE customers INCLUDING DEFAULTS, PRIMARY KEY (id)) PARTITION BY RANGE "
                f"(id); {parts}")
    query(shop, "SELECT pgscore.attach_rescoring('complaints', 'pcustomers', 'customer_id', 'churn', 'churn_score', "
                "%s::jsonb, p_profile_key => 'id', p_replicated => true)", (json.dumps(COUNTERS),))
    try:
        query(shop, f"CREATE SUBSCRIPTION pgscore_test_sub CONNECTION '{conninfo}' PUBLICATION pgscore_test_pub "
                    "WITH (enabled = false, create_slot = false, slot_name = 'pgscore_test_sub_none')")
        assert query(shop, "SELECT srrelid::regclass::text FROM pg_subscription_rel ORDER BY 1") == [
            ("complaints",), ("pcustomers_1",), ("pcustomers_2",)]
        # the events' copy waiting for the partitions' (the row trigger for replicated rows fails it meanwhile)
        query(shop, "UPDATE pg_subscription_rel SET srsubstate = CASE srrelid WHEN 'complaints'::regclass THEN 'd' "
                    "ELSE 'i' END")
        state, value, detail = health_row(shop, "subscriptions")
        assert (state, value) == ("warn", 1), detail
        assert ("waiting for the profiles' copy, public.complaints for public.pcustomers: pgscore fails an event "
                "table's copy until its profiles are copied, and PostgreSQL starts it again") in detail, detail
        # the events copied first, a partition of the profiles not copied yet
        query(shop, "UPDATE pg_subscription_rel SET srsubstate = CASE srrelid WHEN 'pcustomers_2'::regclass THEN 'd' "
                    "ELSE 'r' END")
        detail = health_row(shop, "subscriptions")[2]
        assert "the events were copied first (public.complaints before public.pcustomers)" in detail, detail
    finally:
        query(shop, "ALTER SUBSCRIPTION pgscore_test_sub SET (slot_name = NONE)")
        query(shop, "DROP SUBSCRIPTION pgscore_test_sub")
        pub.close()


def test_health_waits_for_no_lock_on_a_wired_tables_partition(shop, db_url, empty_db_url):
    """health's subscriptions check found a wired table's partitions with pg_partition_tree, which takes an
    ACCESS SHARE lock on each partition: once a subscription wrote a wired table, a probe waited behind any
    partition of any wired table locked ACCESS EXCLUSIVE (a partition detached, truncated or dropped in a
    transaction that runs), or failed at its own lock_timeout (review r3 of migration 0172). It reads the
    subscribed tables' ancestors instead, which locks nothing; the partitions subscribed are still seen."""
    parts = ("CREATE TABLE pcustomers_1 PARTITION OF pcustomers FOR VALUES FROM (MINVALUE) TO (1000); "
             "CREATE TABLE pcustomers_2 PARTITION OF pcustomers FOR VALUES FROM (1000) TO (MAXVALUE)")
    pub = psycopg2.connect(empty_db_url)
    pub.autocommit = True
    query(pub, "CREATE TABLE complaints (complaint_id bigint PRIMARY KEY, customer_id bigint, kind text, "
               "created_at timestamptz); CREATE TABLE pcustomers (id bigint PRIMARY KEY) PARTITION BY RANGE (id); "
               f"{parts}; CREATE PUBLICATION pgscore_test_pub FOR TABLE complaints, pcustomers")
    p = pub.get_dsn_parameters()
    conninfo = f"host={p['host']} port={p['port']} dbname={p['dbname']} user={p['user']}"
    query(shop, "SELECT pgscore.detach_rescoring('complaints')")
    query(shop, f"CREATE TABLE pcustomers (LIKE customers INCLUDING DEFAULTS, PRIMARY KEY (id)) PARTITION BY RANGE "
                f"(id); {parts}")
    query(shop, "SELECT pgscore.attach_rescoring('complaints', 'pcustomers', 'customer_id', 'churn', 'churn_score', "
                "%s::jsonb, p_profile_key => 'id', p_replicated => true)", (json.dumps(COUNTERS),))
    locker = psycopg2.connect(db_url)
    try:
        query(shop, f"CREATE SUBSCRIPTION pgscore_test_sub CONNECTION '{conninfo}' PUBLICATION pgscore_test_pub "
                    "WITH (enabled = false, create_slot = false, slot_name = 'pgscore_test_sub_none')")
        query(shop, "UPDATE pg_subscription_rel SET srsubstate = CASE srrelid WHEN 'complaints'::regclass THEN 'd' "
                    "ELSE 'i' END")
        with locker.cursor() as cur:  # (a transaction left open: the lock held until its rollback)
            cur.execute("LOCK TABLE pcustomers_2 IN ACCESS EXCLUSIVE MODE")
        query(shop, "SET lock_timeout = '2s'")
        try:
            state, value, detail = health_row(shop, "subscriptions")
        except psycopg2.errors.LockNotAvailable as e:
            raise AssertionError(f"health waited for a partition's lock: {e}") from None
        finally:
            query(shop, "RESET lock_timeout")
        assert (state, value) == ("warn", 1), detail
        assert "waiting for the profiles' copy, public.complaints for public.pcustomers" in detail, detail
    finally:
        locker.rollback()
        locker.close()
        query(shop, "ALTER SUBSCRIPTION pgscore_test_sub SET (slot_name = NONE)")
        query(shop, "DROP SUBSCRIPTION pgscore_test_sub")
        pub.close()


def test_the_way_on_for_rows_held_here_is_sql_that_runs_where_the_subscription_has_several_publications(
        shop, empty_db_url):
    """A wired table held here whose copy failed, in a subscription of two publications: health's way on said `on the
    publisher ALTER PUBLICATION pgscore_test_pub, pgscore_test_pub2 DROP TABLE each`, which is no statement (ALTER
    PUBLICATION takes one name), and so did the events' error (review r3). It names the publication P, the one of
    them that publishes the table."""
    from pgscore.rescoring import _keep_or_truncate

    pub = psycopg2.connect(empty_db_url)
    pub.autocommit = True
    query(pub, "CREATE TABLE complaints (complaint_id bigint PRIMARY KEY, customer_id bigint, kind text, "
               "created_at timestamptz); CREATE TABLE customers (id bigint PRIMARY KEY); "
               "CREATE PUBLICATION pgscore_test_pub FOR TABLE complaints; "
               "CREATE PUBLICATION pgscore_test_pub2 FOR TABLE customers")
    p = pub.get_dsn_parameters()
    conninfo = f"host={p['host']} port={p['port']} dbname={p['dbname']} user={p['user']}"
    query(shop, "SELECT pgscore.detach_rescoring('complaints')")
    query(shop, "SELECT pgscore.attach_rescoring('complaints', 'customers', 'customer_id', 'churn', 'churn_score', "
                "%s::jsonb, p_profile_key => 'id', p_replicated => true)", (json.dumps(COUNTERS),))
    try:
        query(shop, f"CREATE SUBSCRIPTION pgscore_test_sub CONNECTION '{conninfo}' PUBLICATION pgscore_test_pub, "
                    "pgscore_test_pub2 WITH (enabled = false, create_slot = false, "
                    "slot_name = 'pgscore_test_sub_none')")
        # the customers' copy started and not running (disabled: no worker), the customers held here
        query(shop, "UPDATE pg_subscription_rel SET srsubstate = CASE srrelid WHEN 'customers'::regclass THEN 'd' "
                    "ELSE 'i' END")
        state, value, detail = health_row(shop, "subscriptions")
        assert (state, value) == ("warn", 1), detail
        assert "public.customers holds rows here already" in detail, detail
        assert "ALTER PUBLICATION pgscore_test_pub, pgscore_test_pub2" not in detail, detail
        assert ("on the publisher ALTER PUBLICATION P DROP TABLE each (P: the one of pgscore_test_pub, "
                "pgscore_test_pub2 that publishes it)") in detail, detail
    finally:
        query(shop, "ALTER SUBSCRIPTION pgscore_test_sub SET (slot_name = NONE)")
        query(shop, "DROP SUBSCRIPTION pgscore_test_sub")
        pub.close()
    said = _keep_or_truncate("public.customers", "s", ["p", '"P 2"'])
    assert "ALTER PUBLICATION p, " not in said, said
    assert ("on the publisher ALTER PUBLICATION P DROP TABLE public.customers (P: the one of p, \"P 2\" that "
            "publishes it)") in said, said
    assert "ALTER PUBLICATION p DROP TABLE public.customers" in _keep_or_truncate("public.customers", "s", ["p"])


def test_health_says_to_recount_after_truncating_kept_events_for_their_copy(shop, empty_db_url):
    """A wired event table held here whose copy failed (kept events: pgscore refuses their copy): health's way on
    said `... or TRUNCATE it here for the copy to bring the publisher's`, and nothing of the counters: followed, the
    copy counted every event again onto profiles that had counted them once, each counter doubled (what
    docs/operations.md warns of, and what the events' own error says to recount; review r3). It says to recount them
    with pgscore backfill once copied."""
    pub = psycopg2.connect(empty_db_url)
    pub.autocommit = True
    query(pub, "CREATE TABLE complaints (complaint_id bigint PRIMARY KEY, customer_id bigint, kind text, "
               "created_at timestamptz); CREATE TABLE customers (id bigint PRIMARY KEY); "
               "CREATE PUBLICATION pgscore_test_pub FOR TABLE complaints, customers")
    p = pub.get_dsn_parameters()
    conninfo = f"host={p['host']} port={p['port']} dbname={p['dbname']} user={p['user']}"
    query(shop, "INSERT INTO complaints (customer_id, kind) VALUES (1, 'billing'), (2, 'billing')")  # counted here
    query(shop, "SELECT pgscore.detach_rescoring('complaints')")
    query(shop, "SELECT pgscore.attach_rescoring('complaints', 'customers', 'customer_id', 'churn', 'churn_score', "
                "%s::jsonb, p_profile_key => 'id', p_replicated => true)", (json.dumps(COUNTERS),))
    try:
        query(shop, f"CREATE SUBSCRIPTION pgscore_test_sub CONNECTION '{conninfo}' PUBLICATION pgscore_test_pub "
                    "WITH (enabled = false, create_slot = false, slot_name = 'pgscore_test_sub_none')")
        # the events' copy started and not running (refused: disabled here, no worker), the profiles copied
        query(shop, "UPDATE pg_subscription_rel SET srsubstate = CASE srrelid WHEN 'complaints'::regclass THEN 'd' "
                    "ELSE 'r' END")
        state, value, detail = health_row(shop, "subscriptions")
        assert (state, value) == ("warn", 1), detail
        assert "public.complaints holds rows here already" in detail, detail
        assert ("public.complaints, an event table: TRUNCATE alone counts its events a second time once copied; "
                "recount its counters then with pgscore backfill --table public.complaints") in detail, detail
    finally:
        query(shop, "ALTER SUBSCRIPTION pgscore_test_sub SET (slot_name = NONE)")
        query(shop, "DROP SUBSCRIPTION pgscore_test_sub")
        pub.close()


def test_health_does_not_warn_of_an_initial_copy_that_runs(trained):
    """A subscription's initial copy of a wired event table that runs (its table sync worker copying, no error
    counted) is how every subscription starts, and takes as long as the table (hours for a large one): health's
    check subscriptions (0158) warned throughout that 'the initial copy ... is not done ... their rows are not
    applied', a probe's false alarm on a healthy subscription. A copy that runs is ok, said in the detail; one whose
    copy errors are counted, or with no sync worker running, still warns. Here the copy is held on a lock of the
    event table, taken in another session of the subscriber (the worker waits in its COPY), then let go."""
    from helpers import own_cluster

    check = "SELECT state, value, detail FROM pgscore.health() WHERE check_name = 'subscriptions'"
    with own_cluster("pgscore-copying-") as c:
        pub, sub, conn = publisher_and_subscriber(c, trained)
        query(conn, "SELECT pgscore.attach_rescoring('complaints', 'customers', 'customer_id', 'churn', "
                    "'churn_score', %s::jsonb, p_profile_key => 'id', p_replicated => true)", (json.dumps(COUNTERS),))
        query(pub, "CREATE TABLE complaints (complaint_id bigint PRIMARY KEY, customer_id bigint, kind text NOT NULL "
                   "DEFAULT 'billing', created_at timestamptz NOT NULL DEFAULT now()); INSERT INTO complaints "
                   "(complaint_id, customer_id) SELECT i, 1 + i % 5 FROM generate_series(1000, 1009) i; "
                   "CREATE PUBLICATION p FOR TABLE complaints")
        query(pub, "SELECT pg_create_logical_replication_slot('s', 'pgoutput')")
        p = c.dsn()
        query(conn, f"CREATE SUBSCRIPTION s CONNECTION 'host={p['host']} port={p['port']} dbname=pub "
                    f"user={p['user']}' PUBLICATION p WITH (create_slot = false, slot_name = 's', enabled = false)")
        holder = psycopg2.connect(sub)
        try:
            query(holder, "LOCK TABLE complaints IN SHARE MODE")  # (psycopg2 opened a transaction: held to rollback)
            query(conn, "ALTER SUBSCRIPTION s ENABLE")
            assert polled(conn, "SELECT a.relid::regclass::text, r.srsubstate::text FROM pg_stat_subscription a "
                                "JOIN pg_subscription_rel r ON r.srrelid = a.relid WHERE a.pid IS NOT NULL "
                                "AND EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted)",
                          [("complaints", "d")]), query(conn, "SELECT * FROM pg_stat_subscription")
            state, value, detail = query(conn, check)[0]
            assert (state, value) == ("ok", 0), detail
            assert detail == ("1 subscription(s) write wired tables or pgscore's, each applying; initial copies "
                              "running: subscription s: public.complaints (copying)"), detail
        finally:
            holder.rollback()
            holder.close()
        assert polled(conn, "SELECT srsubstate::text FROM pg_subscription_rel", [("r",)])
        assert query(conn, "SELECT count(*) FROM complaints") == [(10,)]
        assert query(conn, check) == [("ok", 0, "1 subscription(s) write wired tables or pgscore's, each applying")]
        query(conn, "ALTER SUBSCRIPTION s DISABLE")


def profiles_after_events(c, trained, options="", split=False, keep=False):
    """publisher_and_subscriber with one sync worker a subscription, B's customers emptied and wired to complaints
    for replicated rows, A's customers (B's rows) and 30 complaints of customers 1..7 published in one publication
    p to a subscription s (WITH options), disabled, whose sync worker starts with the events' copy (split: the
    customers in a publication p2 of their own, to a subscription s2, disabled). Returns a connection to A, one to
    B, and B's customers' own columns as they were. keep: B's customers kept (loaded here), counters and all."""
    pub, sub, conn = publisher_and_subscriber(c, trained, "wal_retrieve_retry_interval = '200ms'",
                                              "max_sync_workers_per_subscription = 1")
    own = [f for f in CHURN_FEATURES if f not in COUNTERS]
    rows = query(conn, f"SELECT id, {', '.join(own)} FROM customers ORDER BY id")
    query(conn, ("" if keep else "TRUNCATE customers; ") + "ALTER TABLE customers ALTER support_calls SET DEFAULT 0, "
                "ALTER complaints_30d SET DEFAULT 0")
    query(conn, "SELECT pgscore.attach_rescoring('complaints', 'customers', 'customer_id', 'churn', "
                "'churn_score', %s::jsonb, p_profile_key => 'id', p_replicated => true)", (json.dumps(COUNTERS),))
    query(pub, f"CREATE TABLE customers (id bigint PRIMARY KEY, {', '.join(f + ' float8' for f in own)}); "
               "CREATE TABLE complaints (complaint_id bigint PRIMARY KEY, customer_id bigint, kind text NOT NULL "
               "DEFAULT 'billing', created_at timestamptz NOT NULL DEFAULT now())")
    pc = psycopg2.connect(pub)
    pc.autocommit = True
    with pc.cursor() as cur:
        cur.executemany(f"INSERT INTO customers VALUES ({', '.join(['%s'] * (len(own) + 1))})", rows)
    query(pc, "INSERT INTO complaints (complaint_id, customer_id) SELECT i, 1 + i % 7 FROM generate_series(1, 30) i; "
              + ("CREATE PUBLICATION p FOR TABLE complaints; CREATE PUBLICATION p2 FOR TABLE customers" if split else
                 "CREATE PUBLICATION p FOR TABLE customers, complaints"))
    p = c.dsn()
    for name in ("s", "s2") if split else ("s",):
        query(pc, f"SELECT pg_create_logical_replication_slot('{name}', 'pgoutput')")  # (one cluster: not by CREATE)
        query(conn, f"CREATE SUBSCRIPTION {name} CONNECTION 'host={p['host']} port={p['port']} dbname=pub "
                    f"user={p['user']}' PUBLICATION {name.replace('s', 'p')} WITH (create_slot = false, "
                    f"slot_name = '{name}', enabled = false{options})")
    if split:
        return pc, conn, rows
    # the events' copy first: one sync worker, started for the tables in the order their rows are read
    query(conn, "UPDATE pg_subscription_rel SET srsubstate = srsubstate WHERE srrelid = 'customers'::regclass")
    assert query(conn, "SELECT srrelid::regclass::text FROM pg_subscription_rel") == [("complaints",), ("customers",)]
    return pc, conn, rows


def test_an_events_copy_that_would_come_before_its_profiles_waits_for_them(trained):
    """Profiles and events in one subscription, into empty wired tables: the events' initial copy committed before
    the profiles' (their copies run side by side, in no order pgscore sets), its rescoring created every missing
    profile with its counters alone, and the profiles' copy then failed on their keys at every retry, for ever
    (trial T20: `duplicate key value violates unique constraint "customers_pkey"`; health only said so). A table sync
    worker's copy of a wired event table whose profile table a subscription has yet to copy fails at once instead,
    saying why; PostgreSQL retries it, and it runs once the profiles are copied: every profile as the publisher has
    it, its counters counted from its events, nothing queued. One sync worker, started for the events
    first."""
    from helpers import own_cluster

    with own_cluster("pgscore-copy-order-") as c:
        pc, conn, rows = profiles_after_events(c, trained)
        own = [f for f in CHURN_FEATURES if f not in COUNTERS]
        query(conn, "ALTER SUBSCRIPTION s ENABLE")
        done = "SELECT bool_and(srsubstate::text = 'r') FROM pg_subscription_rel"
        try:
            assert polled(conn, done, [(True,)], tries=400), (
                query(conn, "SELECT srrelid::regclass::text, srsubstate::text FROM pg_subscription_rel"),
                query(conn, "SELECT sync_error_count, apply_error_count FROM pg_stat_subscription_stats"),
                query(conn, "SELECT count(*), count(*) FILTER (WHERE churn_score IS NULL) FROM customers"))
            assert query(conn, "SELECT count(*) FROM complaints") == [(30,)]
            got = query(conn, f"SELECT id, {', '.join(own)} FROM customers ORDER BY id")
            assert got == rows  # every profile as the publisher has it
            assert query(conn, "SELECT c.id, c.support_calls, c.complaints_30d FROM customers c ORDER BY c.id") == [
                (i, float(n), float(n)) for i, n in
                query(conn, "SELECT c.id, count(e.*) FROM customers c LEFT JOIN complaints e ON e.customer_id = c.id "
                            "GROUP BY c.id ORDER BY c.id")]
            assert query(conn, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
            assert query(conn, "SELECT count(*) FROM customers WHERE churn_score IS NULL AND id <= 7") == [(0,)]
            # (the events' copy did come first, and was refused, saying why)
            assert query(conn, "SELECT sync_error_count > 0 FROM pg_stat_subscription_stats") == [(True,)]
            log = c.log_file.read_text(errors="replace")
            said = [ln for ln in log.splitlines() if "ERROR:  pgscore: the initial copy of public.complaints" in ln]
            assert said and "waits for subscription s's initial copy of public.customers (not started), the " \
                "profiles its events name" in said[0], log[-2000:]
        finally:
            query(conn, "ALTER SUBSCRIPTION s DISABLE")
            pc.close()
            conn.close()


def test_an_events_copy_that_waits_under_disable_on_error_says_it_disabled_the_subscription(trained):
    """The subscription made WITH (disable_on_error = true): the events' copy failed for its profiles' (the wait
    above), and PostgreSQL disabled the whole subscription at that error, the profiles' copy never run; the
    server log and pgscore health said PostgreSQL starts the copy again, which it never did (and ENABLE alone,
    the sync worker starting with the events' copy again, disabled it again). They say so now, and the way on:
    disable_on_error off until the copies are done."""
    from helpers import own_cluster

    with own_cluster("pgscore-copy-order-") as c:
        pc, conn, rows = profiles_after_events(c, trained, ", disable_on_error = true")
        try:
            query(conn, "ALTER SUBSCRIPTION s ENABLE")
            assert polled(conn, "SELECT subenabled FROM pg_subscription", [(False,)], tries=400)
            log = c.log_file.read_text(errors="replace").splitlines()
            at = [i for i, ln in enumerate(log) if "ERROR:  pgscore: the initial copy of public.complaints" in ln]
            assert at, log[-20:]
            assert log[at[0]].endswith("nothing was copied, and subscription s has disable_on_error = true: this "
                                       "error disables it"), log[at[0]]
            assert "HINT:  ALTER SUBSCRIPTION s SET (disable_on_error = false), then ALTER SUBSCRIPTION s ENABLE: " \
                   "this copy then waits for the profiles'" in "\n".join(log[at[0]:at[0] + 3]), log[at[0]:at[0] + 3]
            state, value, detail = health_row(conn, "subscriptions")
            assert (state, value) == ("warn", 1), detail
            assert ("waiting for the profiles' copy, public.complaints for public.customers: pgscore fails an event "
                    "table's copy until its profiles are copied, and disable_on_error = true disabled the subscription "
                    "at that error: ALTER SUBSCRIPTION s SET (disable_on_error = false), then ENABLE") in detail, detail
            assert "PostgreSQL starts it again" not in detail, detail
            # the way on: the events' copy waits, and runs after the profiles'
            query(conn, "ALTER SUBSCRIPTION s SET (disable_on_error = false); ALTER SUBSCRIPTION s ENABLE")
            assert polled(conn, "SELECT bool_and(srsubstate::text = 'r') FROM pg_subscription_rel", [(True,)],
                          tries=400), query(conn, "SELECT srrelid::regclass::text, srsubstate::text FROM "
                                                  "pg_subscription_rel")
            assert query(conn, "SELECT count(*) FROM complaints") == [(30,)]
            assert query(conn, "SELECT count(*) FROM customers WHERE churn_score IS NULL AND id <= 7") == [(0,)]
            assert health_row(conn, "subscriptions")[0] == "ok"
        finally:
            query(conn, "ALTER SUBSCRIPTION s DISABLE")
            pc.close()
            conn.close()


def test_an_events_copy_that_waits_for_a_disabled_subscription_says_to_enable_it(trained):
    """The profiles in a subscription s2 of their own, disabled: the events' copy by s waited for s2's, failing every
    wal_retrieve_retry_interval for as long as s2 stays disabled, and its hint said `nothing to do: it copies once
    public.customers's copy is done`, a copy that never starts. It names s2 disabled and says to enable it; once
    enabled, both are copied."""
    from helpers import own_cluster

    with own_cluster("pgscore-copy-order-") as c:
        pc, conn, rows = profiles_after_events(c, trained, split=True)
        try:
            query(conn, "ALTER SUBSCRIPTION s ENABLE")
            assert polled(conn, "SELECT sync_error_count > 1 FROM pg_stat_subscription_stats WHERE subname = 's'",
                          [(True,)], tries=400)
            log = c.log_file.read_text(errors="replace").splitlines()
            at = [i for i, ln in enumerate(log) if "ERROR:  pgscore: the initial copy of public.complaints" in ln]
            assert at and "waits for subscription s2's initial copy of public.customers (not started, subscription " \
                "s2 disabled)" in log[at[0]], log[-20:]
            assert "HINT:  ALTER SUBSCRIPTION s2 ENABLE: this copy runs once public.customers's copy is done" in \
                "\n".join(log[at[0]:at[0] + 3]), log[at[0]:at[0] + 3]
            query(conn, "ALTER SUBSCRIPTION s2 ENABLE")
            assert polled(conn, "SELECT bool_and(srsubstate::text = 'r') FROM pg_subscription_rel", [(True,)],
                          tries=400)
            assert query(conn, "SELECT count(*) FROM complaints") == [(30,)]
            assert query(conn, "SELECT count(*) FROM customers WHERE churn_score IS NULL AND id <= 7") == [(0,)]
        finally:
            query(conn, "ALTER SUBSCRIPTION s DISABLE; ALTER SUBSCRIPTION s2 DISABLE")
            pc.close()
            conn.close()


def held_said(conn, tries=200):
    """health's subscriptions check once it says a table holds rows here already (said of a copy not running: its
    sync worker, started again every wal_retrieve_retry_interval, may be copying at a probe), else the last one."""
    for _ in range(tries):
        row = health_row(conn, "subscriptions")
        if "holds rows here already" in row[2]:
            return row
        time.sleep(0.05)
    return row


def test_profiles_already_here_that_a_subscription_copies_are_named_with_the_way_on(trained):
    """B's customers loaded there, and published from A too: the profiles' copy failed on their keys at every
    retry, for ever (duplicate key value violates unique constraint "customers_pkey"), and the events' copy waited
    for it for ever, its error and pgscore health saying the profiles' copy was pending, `nothing to do` and
    `PostgreSQL starts it again`. Both say now that the profiles are here already and the way on, which this test
    follows: copy_data = false for the customers alone (out of the publication and in again), after which the events
    are copied and counted onto B's profiles."""
    from helpers import own_cluster

    with own_cluster("pgscore-copy-order-") as c:
        pc, conn, rows = profiles_after_events(c, trained, keep=True)
        before = dict(query(conn, "SELECT id, support_calls FROM customers"))
        try:
            query(conn, "ALTER SUBSCRIPTION s ENABLE")
            assert polled(conn, "SELECT sync_error_count > 2 FROM pg_stat_subscription_stats", [(True,)], tries=400)
            # (said once the profiles' copy has failed, and not while it has yet to start: review r3)
            for _ in range(200):
                log = c.log_file.read_text(errors="replace").splitlines()
                at = [i for i, ln in enumerate(log) if "ERROR:  pgscore: the initial copy of public.complaints" in ln
                      and "holds rows here already" in ln]
                if at:
                    break
                time.sleep(0.05)
            assert any('duplicate key value violates unique constraint "customers_pkey"' in ln for ln in log)
            assert at, log[-20:]
            assert "public.customers holds rows here already: that copy fails at every retry on each key the " \
                   "publisher also has" in log[at[0]], log[at[0]]
            hint = "\n".join(log[at[0]:at[0] + 3])
            assert "HINT:  where the server log says so, keep this server's rows and copy none of the publisher's: " \
                   "on the publisher ALTER " \
                   "PUBLICATION p DROP TABLE public.customers, here ALTER SUBSCRIPTION s REFRESH PUBLICATION" in hint
            assert "nothing to do" not in hint, hint
            state, value, detail = held_said(conn)
            assert (state, value) == ("warn", 1), detail
            assert ("public.customers holds rows here already: its copy fails at every retry on each key the "
                    "publisher also has") in detail, detail
            assert "WITH (copy_data = false)" in detail and "PostgreSQL starts it again" not in detail, detail
            # the way on, as said
            query(pc, "ALTER PUBLICATION p DROP TABLE customers")
            query(conn, "ALTER SUBSCRIPTION s REFRESH PUBLICATION")
            query(pc, "ALTER PUBLICATION p ADD TABLE customers")
            query(conn, "ALTER SUBSCRIPTION s REFRESH PUBLICATION WITH (copy_data = false)")
            assert polled(conn, "SELECT bool_and(srsubstate::text = 'r') FROM pg_subscription_rel", [(True,)],
                          tries=400), query(conn, "SELECT srrelid::regclass::text, srsubstate::text FROM "
                                                  "pg_subscription_rel")
            assert query(conn, "SELECT count(*) FROM complaints") == [(30,)]
            got = query(conn, "SELECT c.id, c.support_calls, count(e.*) FROM customers c LEFT JOIN complaints e "
                              "ON e.customer_id = c.id GROUP BY c.id ORDER BY c.id")
            assert [(i, calls) for i, calls, _ in got] == [(i, before[i] + n) for i, _, n in got]
            assert health_row(conn, "subscriptions")[0] == "ok"
        finally:
            query(conn, "ALTER SUBSCRIPTION s DISABLE")
            pc.close()
            conn.close()


def test_profiles_of_this_servers_own_beside_those_a_subscription_copies_are_not_said_to_fail(trained):
    """B makes profiles of its own (keys the publisher does not have) beside those A publishes: the profiles' copy
    goes through. The events' copy, come first (one sync worker) and waiting for the profiles' not started yet, said
    `public.customers holds rows here already: that copy fails at every retry on each key the publisher also has`,
    its hint no longer `nothing to do` but to copy none of A's customers or TRUNCATE B's own (review r3 of session
    68's change). Said now, as health says it, only of a profiles' copy that started and is not running (one that
    failed); the copies end by themselves, B's own profiles kept."""
    from helpers import own_cluster

    with own_cluster("pgscore-copy-own-") as c:
        pc, conn, rows = profiles_after_events(c, trained)
        own = [f for f in CHURN_FEATURES if f not in COUNTERS]
        with conn.cursor() as cur:  # B's own customers, keys A does not have
            cur.executemany(f"INSERT INTO customers (id, {', '.join(own)}) VALUES "
                            f"({', '.join(['%s'] * (len(own) + 1))})", [(1000 + r[0],) + tuple(r[1:]) for r in rows[:3]])
        try:
            query(conn, "ALTER SUBSCRIPTION s ENABLE")
            assert polled(conn, "SELECT bool_and(srsubstate::text = 'r') FROM pg_subscription_rel", [(True,)],
                          tries=400), query(conn, "SELECT srrelid::regclass::text, srsubstate::text FROM "
                                                  "pg_subscription_rel")
            assert query(conn, "SELECT count(*) FROM complaints") == [(30,)]
            assert query(conn, "SELECT count(*) FROM customers WHERE id > 1000") == [(3,)]
            log = c.log_file.read_text(errors="replace").splitlines()
            at = [i for i, ln in enumerate(log) if "ERROR:  pgscore: the initial copy of public.complaints" in ln]
            assert at, log[-20:]  # (the events' copy came first, and waited)
            said = ["\n".join(log[i:i + 3]) for i in at]
            assert not [s for s in said if "holds rows here already" in s], said
            assert "HINT:  nothing to do: it copies once public.customers's copy is done" in said[0], said[0]
        finally:
            query(conn, "ALTER SUBSCRIPTION s DISABLE")
            pc.close()
            conn.close()


def test_an_events_copy_into_events_kept_here_is_refused(trained):
    """The subscription dropped and created again WITH (copy_data = true) over kept events and profiles (an event
    table without a key here, as a log table may be): the events' copy added each event a second time and counted
    it again, every counter doubled, nothing said. The copy fails now, naming the kept events and the ways on; this
    test follows one: the events here emptied, copied anew and the counters recounted by backfill."""
    from helpers import own_cluster

    with own_cluster("pgscore-copy-kept-") as c:
        pc, conn, rows = profiles_after_events(c, trained, split=True)
        query(conn, "ALTER TABLE complaints DROP CONSTRAINT complaints_pkey")
        query(conn, "DROP SUBSCRIPTION s2")  # (B's customers are its own here: emptied above, loaded again)
        own = [f for f in CHURN_FEATURES if f not in COUNTERS]
        with conn.cursor() as cur:
            cur.executemany(f"INSERT INTO customers (id, {', '.join(own)}) VALUES "
                            f"({', '.join(['%s'] * (len(own) + 1))})", rows)
        try:
            query(conn, "ALTER SUBSCRIPTION s ENABLE")
            assert polled(conn, "SELECT srsubstate::text FROM pg_subscription_rel", [("r",)], tries=400)
            counted = query(conn, "SELECT id, support_calls FROM customers ORDER BY id")
            assert query(conn, "SELECT sum(support_calls) FROM customers") == [(30.0,)]
            # dropped and created again, the events kept
            query(conn, "ALTER SUBSCRIPTION s DISABLE")
            query(conn, "ALTER SUBSCRIPTION s SET (slot_name = NONE)")
            query(conn, "DROP SUBSCRIPTION s")
            # the publisher's walsender lets the slot go a moment after the subscription is dropped
            assert polled(pc, "SELECT active FROM pg_replication_slots WHERE slot_name = 's'", [(False,)], tries=400)
            query(pc, "SELECT pg_drop_replication_slot('s')")
            query(pc, "SELECT pg_create_logical_replication_slot('s', 'pgoutput')")
            p = c.dsn()
            query(conn, f"CREATE SUBSCRIPTION s CONNECTION 'host={p['host']} port={p['port']} dbname=pub "
                        f"user={p['user']}' PUBLICATION p WITH (create_slot = false, slot_name = 's')")
            assert polled(conn, "SELECT sync_error_count > 0 FROM pg_stat_subscription_stats", [(True,)], tries=400)
            assert query(conn, "SELECT id, support_calls FROM customers ORDER BY id") == counted
            assert query(conn, "SELECT count(*) FROM complaints") == [(30,)]
            log = c.log_file.read_text(errors="replace").splitlines()
            at = [i for i, ln in enumerate(log) if "ERROR:  pgscore: the initial copy of public.complaints by "
                                                   "subscription s goes into a table that holds events" in ln]
            assert at, log[-20:]
            said = "\n".join(log[at[0]:at[0] + 3])
            assert "HINT:  keep this server's rows and copy none of the publisher's" in said, said
            assert "pgscore backfill --table public.complaints" in said, said
            state, value, detail = held_said(conn)
            assert (state, value) == ("warn", 1), detail
            assert "public.complaints holds rows here already: its copy fails at every retry" in detail, detail
            # one way on: emptied here, copied anew, recounted
            query(conn, "TRUNCATE complaints")
            assert polled(conn, "SELECT srsubstate::text FROM pg_subscription_rel", [("r",)], tries=400)
            assert query(conn, "SELECT count(*) FROM complaints") == [(30,)]
            query(conn, "SELECT pgscore.backfill_rescoring('complaints')")
            assert query(conn, "SELECT id, support_calls FROM customers ORDER BY id") == counted
        finally:
            query(conn, "DO $$BEGIN IF EXISTS (SELECT FROM pg_subscription WHERE subname = 's') THEN "
                        "ALTER SUBSCRIPTION s DISABLE; END IF; END$$")
            pc.close()
            conn.close()


def test_a_registry_that_a_subscription_writes_refuses_a_deploy_here(shop, db_url, empty_db_url, trained):
    """pgscore.models and pgscore.deployments published from another database (one deploy, two clusters): a deploy
    on the subscriber took ids from its own identity sequences, which replication does not advance, and failed with a
    bare `duplicate key value violates unique constraint "models_pkey" (SQLSTATE 23505)` (each retry burnt an id);
    once one passed, the publisher's next deploy stopped the subscription at every try and the subscriber kept the
    old live version (trial T20). Deploy, activate, rollback, retire and delete are refused there first (55000),
    naming the subscription, with the hint to run them on the publisher; nothing is written. The subscription is
    made disabled, without a slot (nothing is replicated: pg_subscription_rel lists the tables)."""
    from pgscore import registry
    from pgscore.errors import PgscoreError

    model, X, y = trained
    pub = psycopg2.connect(empty_db_url)
    pub.autocommit = True
    query(pub, "CREATE SCHEMA pgscore; CREATE TABLE pgscore.models (model_id bigint PRIMARY KEY); "
               "CREATE TABLE pgscore.deployments (deployment_id bigint PRIMARY KEY); "
               "CREATE PUBLICATION pgscore_test_reg FOR TABLE pgscore.models, pgscore.deployments")
    p = pub.get_dsn_parameters()
    conninfo = f"host={p['host']} port={p['port']} dbname={p['dbname']} user={p['user']}"
    history = "SELECT count(*) FROM pgscore.deployments"
    (before,), = query(shop, history)
    try:
        query(shop, f"CREATE SUBSCRIPTION pgscore_test_reg_sub CONNECTION '{conninfo}' PUBLICATION pgscore_test_reg "
                    "WITH (enabled = false, create_slot = false, slot_name = 'pgscore_test_reg_none')")
        with pytest.raises(PgscoreError) as e:
            registry.deploy(db_url, "churn", model, X, y, feature_names=CHURN_FEATURES)
        assert e.value.sqlstate == "55000", e.value
        assert e.value.message == ("deploying model churn writes the registry, which subscription pgscore_test_reg_sub "
                                   "writes here (logical replication of pgscore.models and pgscore.deployments from "
                                   "another database)"), e.value
        assert e.value.hint.startswith("deploy, activate, roll back, retire and delete in the publisher's database"), \
            e.value
        for args in (("activate", "churn", "1"), ("rollback", "churn"), ("retire", "churn"),
                     ("delete", "churn", "--yes")):
            run = pgscore_cli(*args, "--db", db_url)
            assert run.returncode == 1 and "writes the registry, which subscription pgscore_test_reg_sub writes here" \
                in run.stderr and "(SQLSTATE 55000)" in run.stderr, (args, run.stderr)
        # the same calls in SQL (h1's left item 3, review r6): the registry's triggers refuse them (they appended)
        for call in ("SELECT pgscore.retire('churn', 'in SQL')",
                     "INSERT INTO pgscore.deployments (model_id, model_name, action) "
                     "SELECT model_id, name, 'activate' FROM pgscore.models"):
            with pytest.raises(psycopg2.Error) as e:
                query(shop, call)
            assert e.value.pgcode == "55000" and "writes the registry, which subscription pgscore_test_reg_sub " \
                "writes here" in e.value.diag.message_primary, (call, e.value.pgcode, e.value.diag.message_primary)
            assert e.value.diag.message_hint.startswith("deploy, activate, roll back, retire and delete in the "
                                                        "publisher's database"), e.value.diag.message_hint
        assert query(shop, history) == [(before,)]
        assert query(shop, "SELECT count(*) FROM pgscore.models") == [(1,)]
        # health says what the registry's subscription stopped means (0166; it said profiles were not rescored)
        state, value, detail = health_row(shop, "subscriptions")
        assert (state, value) == ("warn", 1), detail
        assert detail.endswith(": their rows are not applied, so the registry here lags the publisher's (its deploys, "
                               "activations and rollbacks do not reach this server, which scores with the versions live "
                               "as of the last change applied) (docs/operations.md, 'A fleet: events by logical "
                               "replication')"), detail
    finally:
        query(shop, "ALTER SUBSCRIPTION pgscore_test_reg_sub SET (slot_name = NONE)")
        query(shop, "DROP SUBSCRIPTION pgscore_test_reg_sub")
        pub.close()
    assert registry.deploy(db_url, "churn", model, X, y, feature_names=CHURN_FEATURES)["version"] == 2


def test_replicated_rows_are_rescored_once_per_transaction(shop, trained):
    """The rows a session of the replica role (as a subscription's apply worker is) inserts, each a statement of
    its own as the worker applies them, are staged by the wiring's row trigger and rescored once, at the commit,
    by its commit trigger: one audit row per profile naming all its events of the transaction (before, one per
    row), counters equal to the events, scores the model's on the final features; rows of a savepoint rolled
    back, or of a transaction rolled back, are not counted by the next commit."""
    model, X, y = trained
    rewire_replicated(shop)
    shop.autocommit = False
    with shop.cursor() as cur:
        cur.execute("SET LOCAL session_replication_role = replica")
        for k in (3, 3, 4, 3, 3):
            cur.execute("INSERT INTO complaints (customer_id) VALUES (%s)", (k,))
        cur.execute("SAVEPOINT a; INSERT INTO complaints (customer_id) VALUES (5); ROLLBACK TO SAVEPOINT a")
        cur.execute("SELECT count(*), (SELECT support_calls FROM customers WHERE id = 3) "
                    "- (SELECT support_calls FROM calls_before WHERE id = 3) FROM pgscore.prediction_log")
        assert cur.fetchone() == (0, 0)  # nothing rescored before the commit
    shop.commit()
    with shop.cursor() as cur:
        cur.execute("SET LOCAL session_replication_role = replica; INSERT INTO complaints (customer_id) VALUES (6)")
    shop.rollback()
    with shop.cursor() as cur:
        cur.execute("SET LOCAL session_replication_role = replica")
        cur.execute("INSERT INTO complaints (customer_id) VALUES (7)")
        cur.execute("INSERT INTO complaints (customer_id) VALUES (7)")
    shop.commit()
    shop.autocommit = True
    assert query(shop, "SELECT entity_key, count(*), sum(jsonb_array_length(cause->'event_ids')), "
                       "min(cause->>'via') FROM pgscore.prediction_log GROUP BY 1 ORDER BY 1") == [
        ("3", 1, 4, "replication"), ("4", 1, 1, "replication"), ("7", 1, 2, "replication")]
    assert_as_documented(shop, model)


def test_a_last_counter_keeps_the_newest_event_of_a_replicated_transaction(shop):
    """A last counter on a wiring with p_replicated: the rows a replica-role session inserts, a statement each, are
    staged and rescored at the commit, and {"last": "e.kind"} keeps the kind of each profile's event of the highest
    id among the transaction's, not of the row staged last."""
    query(shop, "ALTER TABLE customers ADD COLUMN last_kind text")
    query(shop, "SELECT pgscore.detach_rescoring('complaints')")
    query(shop, "SELECT pgscore.attach_rescoring('complaints', 'customers', 'customer_id', 'churn', 'churn_score', "
                "%s::jsonb, p_profile_key => 'id', p_replicated => true)",
          (json.dumps({**COUNTERS, "last_kind": {"last": "e.kind"}}),))
    shop.autocommit = False
    with shop.cursor() as cur:
        cur.execute("SET LOCAL session_replication_role = replica")
        for k, kind in ((3, "a"), (4, "x"), (3, "b")):
            cur.execute("INSERT INTO complaints (customer_id, kind) VALUES (%s, %s)", (k, kind))
        cur.execute("INSERT INTO complaints (complaint_id, customer_id, kind) OVERRIDING SYSTEM VALUE "
                    "VALUES (-1, 3, 'lowest id, staged last')")
    shop.commit()
    shop.autocommit = True
    assert query(shop, "SELECT id, last_kind FROM customers WHERE id IN (3, 4) ORDER BY id") == [(3, "b"), (4, "x")]
    assert query(shop, "SELECT entity_key, cause->>'via' FROM pgscore.prediction_log ORDER BY 1") == [
        ("3", "replication"), ("4", "replication")]


def test_events_from_logical_replication_rescore_through_a_row_trigger_enabled_always(trained):
    """The hand-built way docs/sql.md gave before p_replicated (still works), on a cluster of its own (wal_level =
    logical; publisher and subscriber two databases of it): the pgscore statement trigger on the replicated table
    (a wiring attached before the subscription: no row trigger), even enabled ALWAYS, rescores the initial copy
    and not the rows replication applies after it; a local wired table fed by a row trigger enabled ALWAYS on the
    replicated one rescores them all."""
    import time

    from helpers import own_cluster

    with own_cluster("pgscore-logical-") as c:
        pub, sub, conn = publisher_and_subscriber(c, trained, rescore=True)
        events = ("(complaint_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer_id bigint, "
                  "kind text NOT NULL DEFAULT 'billing', created_at timestamptz NOT NULL DEFAULT now())")
        # (the publisher's complaint ids apart from those the subscriber's forwarded rows take)
        query(pub, f"CREATE TABLE complaints {events}; ALTER TABLE complaints ALTER complaint_id RESTART WITH 1000; "
                   f"CREATE TABLE landed {events}; INSERT INTO complaints (customer_id) VALUES (1), (2); "
                   "INSERT INTO landed (customer_id) VALUES (3), (4); CREATE PUBLICATION p FOR TABLE complaints, landed")
        query(pub, "SELECT pg_create_logical_replication_slot('s', 'pgoutput')")
        query(conn, f"""
            ALTER TABLE complaints ENABLE ALWAYS TRIGGER pgscore_rescore_1;
            CREATE TABLE landed {events};
            CREATE FUNCTION forward() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN INSERT INTO public.complaints (customer_id, kind, created_at)
                  VALUES (NEW.customer_id, NEW.kind, NEW.created_at); RETURN NULL; END $$;
            CREATE TRIGGER forward AFTER INSERT ON landed FOR EACH ROW EXECUTE FUNCTION forward();
            ALTER TABLE landed ENABLE ALWAYS TRIGGER forward""")
        p = c.dsn("pub")
        query(conn, f"CREATE SUBSCRIPTION s CONNECTION 'host={p['host']} port={p['port']} dbname=pub "
                    f"user={p['user']}' PUBLICATION p WITH (create_slot = false, slot_name = 's')")

        def events_arrive(n):
            for _ in range(300):
                if query(conn, "SELECT count(*) FROM complaints") == [(n,)]:
                    return True
                time.sleep(0.05)
            return False

        def rescored():
            return [k for (k,) in query(conn, "SELECT DISTINCT entity_key::int FROM pgscore.prediction_log "
                                              "ORDER BY 1")]

        try:
            # the initial copy of both tables is rescored (a COPY, as a statement, fires the statement trigger)
            assert events_arrive(4)
            assert rescored() == [1, 2, 3, 4]
            query(pub, "INSERT INTO complaints (customer_id) VALUES (5), (6); "
                       "INSERT INTO landed (customer_id) VALUES (7), (8)")
            assert events_arrive(8)
            assert rescored() == [1, 2, 3, 4, 7, 8]  # not 5 and 6: applied to the wired table itself
            assert query(conn, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
        finally:
            query(conn, "ALTER SUBSCRIPTION s DISABLE")
            query(conn, "ALTER SUBSCRIPTION s SET (slot_name = NONE)")
            query(conn, "DROP SUBSCRIPTION s")
            conn.close()


def test_events_from_logical_replication_are_rescored_by_the_wirings_row_trigger(trained):
    """attach_rescoring on a table a subscription writes creates, beside the statement trigger, a row trigger
    enabled for replication sessions only (p_replicated, automatic there): the table's initial copy and every
    row the apply worker applies are counted once and rescored, audit rows naming replication and the
    subscription; a strict wiring queues a replicated row it cannot score (replication goes on) while a local
    INSERT still fails; a local INSERT is rescored by the statement trigger alone; status reports it healthy;
    dump and restore keep it; detach drops both triggers. On a cluster of its own (wal_level = logical)."""
    import subprocess
    import time

    from helpers import own_cluster
    from pgscore.localdb import pg_bin_dir

    model = trained[0]
    with own_cluster("pgscore-replicated-") as c:
        pub, sub, conn = publisher_and_subscriber(c, trained)
        query(conn, "CREATE TABLE calls_before AS SELECT id, support_calls FROM customers")
        # (the publisher's complaint ids apart from those of the subscriber's local rows)
        query(pub, "CREATE TABLE complaints (complaint_id bigint GENERATED ALWAYS AS IDENTITY (START 1000) PRIMARY KEY, "
                   "customer_id bigint, kind text NOT NULL DEFAULT 'billing', created_at timestamptz NOT NULL DEFAULT "
                   "now()); INSERT INTO complaints (customer_id) VALUES (1), (2), (2); "
                   "CREATE PUBLICATION p FOR TABLE complaints")
        query(pub, "SELECT pg_create_logical_replication_slot('s', 'pgoutput')")
        p = c.dsn()
        query(conn, f"CREATE SUBSCRIPTION s CONNECTION 'host={p['host']} port={p['port']} dbname=pub "
                    f"user={p['user']}' PUBLICATION p WITH (create_slot = false, slot_name = 's', enabled = false)")
        conn.notices.clear()
        rid = query(conn, "SELECT pgscore.attach_rescoring('complaints', 'customers', 'customer_id', 'churn', "
                          "'churn_score', %s::jsonb, p_profile_key => 'id', p_strict => true)",
                    (json.dumps(COUNTERS),))[0][0]
        assert not [n for n in conn.notices if "subscription" in n], conn.notices  # no warning: it is rescored
        assert query(conn, "SELECT t.tgname::text, t.tgenabled::text, t.tgtype & 1 FROM pg_trigger t "
                           "WHERE t.tgrelid = 'complaints'::regclass ORDER BY 1") == [
            (f"pgscore_replicated_{rid}", "R", 1), (f"pgscore_replicated_{rid}_commit", "R", 1),
            (f"pgscore_rescore_{rid}", "O", 0)]
        assert query(conn, "SELECT replication_trigger::text FROM pgscore.rescoring") == [(f"pgscore_replicated_{rid}",)]

        def events_arrive(n):
            for _ in range(600):
                if query(conn, "SELECT count(*) FROM complaints") == [(n,)]:
                    return True
                time.sleep(0.05)
            return False

        try:
            query(conn, "ALTER SUBSCRIPTION s ENABLE")
            assert events_arrive(3)  # the initial copy (a COPY by the table sync worker): each row once
            query(pub, "INSERT INTO complaints (customer_id) VALUES (3), (4), (3); "
                       "BEGIN; INSERT INTO complaints (customer_id) VALUES (5); "
                       "INSERT INTO complaints (customer_id) VALUES (500); COMMIT")  # 500: no profile, created
            query(conn, "INSERT INTO complaints (customer_id) VALUES (6), (1)")  # local: the statement trigger
            assert events_arrive(10)
            with pytest.raises(psycopg2.Error) as e:  # the wiring is strict, for local INSERTs
                query(conn, "INSERT INTO complaints (customer_id) VALUES (501)")
            assert "501" in str(e.value)
            query(pub, "INSERT INTO complaints (customer_id) VALUES (7)")  # replication went on past 500
            assert events_arrive(11)
            before = dict(query(conn, "SELECT id, support_calls FROM calls_before"))
            cols = ", ".join(CHURN_FEATURES)
            rows = query(conn, f"SELECT c.id, c.support_calls, c.complaints_30d, c.churn_score, "
                               f"ARRAY[{cols}]::float8[], (SELECT count(*) FROM complaints e WHERE e.customer_id = c.id) "
                               "FROM customers c WHERE c.id <= %s AND EXISTS (SELECT 1 FROM complaints e "
                               "WHERE e.customer_id = c.id) ORDER BY c.id", (N_CUSTOMERS,))
            assert [r[0] for r in rows] == [1, 2, 3, 4, 5, 6, 7]
            for id_, calls, c30, score, features, n in rows:
                assert (calls, c30) == (before[id_] + n, n), id_
                assert abs(score - model.predict_proba(np.array([features]))[0, 1]) < 1e-9, id_
            # every event named by one audit row (500's by its queue row), the replicated ones as such
            named = query(conn, "SELECT i::bigint, l.cause->>'via', l.cause->>'subscription' FROM pgscore.prediction_log l, "
                                "jsonb_array_elements_text(l.cause->'event_ids') i WHERE l.source = 'trigger' ORDER BY 1")
            local = {i for (i,) in query(conn, "SELECT complaint_id FROM complaints WHERE complaint_id < 1000")}
            assert [i for i, *_ in named] == [i for (i,) in query(conn, "SELECT complaint_id FROM complaints "
                                                                     "WHERE customer_id <> 500 ORDER BY 1")]
            assert all((via, s) == (("trigger", None) if i in local else ("replication", "s")) for i, via, s in named)
            assert len(local) == 2
            assert query(conn, "SELECT entity_key, cause->>'via', cause->>'subscription', "
                               "jsonb_array_length(cause->'event_ids') FROM pgscore.error_queue") == [
                ("500", "replication", "s", 1)]
            # one rescoring per applied transaction: customer 3's two events of one published transaction, one
            # audit row naming both (the initial copy, one transaction too: customer 2's two copied rows)
            assert query(conn, "SELECT entity_key, count(*), sum(jsonb_array_length(cause->'event_ids')) "
                               "FROM pgscore.prediction_log WHERE cause->>'via' = 'replication' "
                               "AND entity_key IN ('2', '3') GROUP BY 1 ORDER BY 1") == [("2", 1, 2), ("3", 1, 2)]
            assert query(conn, "SELECT support_calls FROM customers WHERE id = 500") == [(1,)]
            run = pgscore_cli("status", "--db", sub)
            assert "NOT RESCORING" not in run.stdout, run.stdout
            assert (f"rows subscription s applies to public.complaints are rescored once per applied transaction, "
                    f"staged by its row trigger pgscore_replicated_{rid} and rescored at the commit by "
                    f"pgscore_replicated_{rid}_commit") in run.stdout, run.stdout
            # dump and restore keep the row trigger, enabled for replication sessions only, and its wiring
            query(conn, "CREATE DATABASE restored")
            env = {"PGHOST": p["host"], "PGPORT": str(p["port"]), "PGUSER": "postgres"}
            dump = subprocess.run([str(pg_bin_dir() / "pg_dump"), "--no-subscriptions", "-d", p["dbname"]],
                                  capture_output=True, env=env, check=True, timeout=120)
            subprocess.run([str(pg_bin_dir() / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "restored"],
                           input=dump.stdout, capture_output=True, env=env, check=True, timeout=120)
            restored = psycopg2.connect(c.url("restored"))
            restored.autocommit = True
            try:
                assert query(restored, "SELECT t.tgname::text, t.tgenabled::text, t.tgdeferrable AND t.tginitdeferred "
                                       "FROM pgscore.rescoring r JOIN pg_trigger t ON t.tgname IN (r.replication_trigger, "
                                       "r.replication_trigger || '_commit') AND t.tgrelid = 'complaints'::regclass "
                                       "ORDER BY 1") == [(f"pgscore_replicated_{rid}", "R", False),
                                                         (f"pgscore_replicated_{rid}_commit", "R", True)]
                # a session in the replica role (as an apply worker is) fires it, and the statement trigger not
                query(restored, "SET session_replication_role = replica; "
                                "INSERT INTO complaints (customer_id) VALUES (8), (8); RESET session_replication_role")
                assert query(restored, "SELECT support_calls - (SELECT support_calls FROM calls_before WHERE id = 8), "
                                       "complaints_30d FROM customers WHERE id = 8") == [(2, 2)]
                # (one statement of two rows, one transaction: one rescoring naming both events)
                assert query(restored, "SELECT count(*), count(*) FILTER (WHERE cause ? 'subscription' AND "
                                       "cause->>'subscription' IS NULL), sum(jsonb_array_length(cause->'event_ids')) "
                                       "FROM pgscore.prediction_log WHERE entity_key = '8'") == [(1, 1, 2)]
            finally:
                restored.close()
            assert query(conn, "SELECT pgscore.detach_rescoring('complaints')") == [(1,)]
            assert query(conn, "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'complaints'::regclass") == [(0,)]
        finally:
            query(conn, "ALTER SUBSCRIPTION s DISABLE")
            query(conn, "ALTER SUBSCRIPTION s SET (slot_name = NONE)")
            query(conn, "DROP SUBSCRIPTION s")
            conn.close()


def test_replicated_rows_rescored_by_a_commit_trigger_fired_early_and_rolled_back_are_rescored_at_the_commit(
        shop, trained):
    """SET CONSTRAINTS ... IMMEDIATE fires the deferred commit trigger inside a savepoint; the savepoint rolled
    back undoes the rescoring and PostgreSQL fires the event again at the commit: the staged row is rescored."""
    rewire_replicated(shop)
    shop.autocommit = False
    with shop.cursor() as cur:
        cur.execute("SET LOCAL session_replication_role = replica")
        cur.execute("INSERT INTO complaints (customer_id) VALUES (3)")
        cur.execute("SAVEPOINT a; SET CONSTRAINTS ALL IMMEDIATE; ROLLBACK TO SAVEPOINT a")
    shop.commit()
    shop.autocommit = True
    assert query(shop, "SELECT entity_key, count(*) FROM pgscore.prediction_log GROUP BY 1") == [("3", 1)]


def test_the_stage_truncated_past_its_size_is_analyzed_again_before_the_planner_reads_it(shop):
    """The stage is analyzed with its first row, so that the statements reading it are planned for the rows
    it holds; a transaction that grows it past STAGE_BYTES has it TRUNCATEd at the commit, a new file whose
    pg_class row says 'never analyzed' (reltuples -1), for which the planner assumes ten pages of rows. The
    next staged row analyzes it again: a transaction's one staged row is planned as one row, after the
    TRUNCATE as before it."""
    from pgscore.rescoring import STAGE_BYTES

    rid = rewire_replicated(shop)
    stage = f"pg_temp.pgscore_replicated_{rid}"

    def one_row_planned_as():
        """Stage one row in a transaction of the replica role; the planner's rows for the stage, its
        pg_class reltuples and its size, read before the commit rescores and empties it."""
        shop.autocommit = False
        with shop.cursor() as cur:
            cur.execute("SET LOCAL session_replication_role = replica; "
                        "INSERT INTO complaints (customer_id) VALUES (3)")
            cur.execute(f"EXPLAIN (FORMAT JSON) SELECT * FROM {stage}")
            rows = cur.fetchone()[0][0]["Plan"]["Plan Rows"]
            cur.execute(f"SELECT reltuples FROM pg_class WHERE oid = '{stage}'::regclass")
            reltuples = cur.fetchone()[0]
        shop.commit()
        shop.autocommit = True
        return rows, reltuples

    assert one_row_planned_as() == (1, 1)
    shop.autocommit = False
    with shop.cursor() as cur:  # rows enough to grow the stage past STAGE_BYTES, in one transaction
        cur.execute("SET LOCAL session_replication_role = replica; INSERT INTO complaints (customer_id) "
                    "SELECT 1 + g % 20 FROM generate_series(1, 10000) g")
        cur.execute(f"SELECT pg_relation_size('{stage}')")
        assert cur.fetchone()[0] > STAGE_BYTES
    shop.commit()
    shop.autocommit = True
    assert query(shop, f"SELECT pg_relation_size('{stage}')") == [(0,)]  # truncated at the commit
    assert one_row_planned_as() == (1, 1)  # (before: ten pages of rows, reltuples -1)
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]


def test_a_two_phase_subscriptions_prepared_transactions_are_applied_and_rescored(trained):
    """A subscription with two_phase = true applies a transaction the publisher PREPAREs with PREPARE
    TRANSACTION, which fires the deferred commit trigger; PostgreSQL refuses to PREPARE a transaction that used
    a temporary table (before: the stage, and the apply failed at each retry, holding up the subscription). Its
    apply worker keeps the staged rows in a setting instead: prepared, plain and large transactions are applied,
    each rescored (once per transaction below SETTING_BYTES of rows), every event counted once, nothing queued.
    On a cluster of its own (wal_level = logical, max_prepared_transactions)."""
    import time

    from helpers import own_cluster

    model = trained[0]
    with own_cluster("pgscore-two-phase-") as c:
        pub, sub, conn = two_phase_complaints(c, trained, before=True)

        def events_arrive(n):
            for _ in range(300):
                if query(conn, "SELECT count(*) FROM complaints") == [(n,)]:
                    return True
                time.sleep(0.05)
            return False

        try:
            for _ in range(300):  # two_phase enabled once the (empty) table is synced: the apply worker restarts
                if query(conn, "SELECT subtwophasestate::text FROM pg_subscription") == [("e",)]:
                    break
                time.sleep(0.05)
            assert query(conn, "SELECT subtwophasestate::text FROM pg_subscription") == [("e",)]
            query(pub, "INSERT INTO complaints (customer_id) VALUES (1), (2), (2)")
            assert events_arrive(3)
            prepared = psycopg2.connect(pub)
            prepared.autocommit = True
            query(prepared, "BEGIN; INSERT INTO complaints (customer_id) VALUES (3); "
                            "INSERT INTO complaints (customer_id) VALUES (3); PREPARE TRANSACTION 'g1'")
            for _ in range(300):  # applied as a prepared transaction of the subscriber's
                if query(conn, "SELECT count(*) FROM pg_prepared_xacts WHERE gid <> 'g1'") == [(1,)]:
                    break
                time.sleep(0.05)
            assert query(conn, "SELECT count(*) FROM pg_prepared_xacts WHERE gid <> 'g1'") == [(1,)]
            query(prepared, "COMMIT PREPARED 'g1'")
            prepared.close()
            assert events_arrive(5)
            # a large prepared transaction: its rows past SETTING_BYTES rescored as they grow, the rest at PREPARE
            query(pub, "BEGIN; INSERT INTO complaints (customer_id) SELECT 1 + g % 20 FROM generate_series(1, 3000) g; "
                       "PREPARE TRANSACTION 'g2'")
            query(pub, "COMMIT PREPARED 'g2'")
            query(pub, "INSERT INTO complaints (customer_id) VALUES (4)")
            assert events_arrive(3006)
            assert query(conn, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
            # (the large one rescored in parts: 3,000 rows of JSON are ~300 kB)
            assert query(conn, "SELECT count(*) > 2 FROM pgscore.prediction_log WHERE entity_key = '1' "
                               "AND (cause->'event_ids'->>0)::bigint BETWEEN 6 AND 3005") == [(True,)]
            # once per transaction: customer 2's two events of one, customer 3's of the prepared one
            assert query(conn, "SELECT entity_key, count(*), sum(jsonb_array_length(cause->'event_ids')) "
                               "FROM pgscore.prediction_log WHERE entity_key IN ('2', '3') "
                               "AND (cause->'event_ids'->>0)::bigint <= 5 GROUP BY 1 ORDER BY 1") == [
                ("2", 1, 2), ("3", 1, 2)]
            before = dict(query(conn, "SELECT id, support_calls FROM calls_before"))
            cols = ", ".join(CHURN_FEATURES)
            rows = query(conn, f"SELECT c.id, c.support_calls, c.complaints_30d, c.churn_score, "
                               f"ARRAY[{cols}]::float8[], (SELECT count(*) FROM complaints e WHERE e.customer_id = c.id) "
                               "FROM customers c ORDER BY c.id")
            assert len(rows) == N_CUSTOMERS
            for id_, calls, c30, score, features, n in rows:
                assert (calls, c30) == (before[id_] + n, n), id_
                assert abs(score - model.predict_proba(np.array([features]))[0, 1]) < 1e-9, id_
            named = query(conn, "SELECT i::bigint FROM pgscore.prediction_log l, "
                                "jsonb_array_elements_text(l.cause->'event_ids') i ORDER BY 1")
            assert [i for (i,) in named] == [i for (i,) in query(conn, "SELECT complaint_id FROM complaints ORDER BY 1")]
            assert query(conn, "SELECT DISTINCT cause->>'via', cause->>'subscription' FROM pgscore.prediction_log") == [
                ("replication", "s")]
        finally:
            query(conn, "ALTER SUBSCRIPTION s DISABLE")
            query(conn, "ALTER SUBSCRIPTION s SET (slot_name = NONE)")
            query(conn, "DROP SUBSCRIPTION s")
            conn.close()


def test_a_two_phase_subscription_holds_back_an_event_of_a_profile_a_prepared_transaction_holds(trained):
    """The publisher PREPAREs a transaction with an event of customer 3, then commits another with an event of
    customer 3 (no conflict there: two event rows), then COMMITs the prepared one. The subscriber's apply worker
    PREPAREs the first, whose rescoring updated customer 3's row and holds it until COMMIT PREPARED, which comes
    after the second in the stream. Before, the second's rescoring waited for that row, and the apply worker with
    it, for ever (a transactionid lock). Now the second's event is applied and held back in
    pgscore.replicated_pending (not counted yet, the worker waiting on nothing; pgscore status says so), and
    counted once the prepared one is committed: by the next transaction applied (an event of customer 4), and, in
    a second round, by retry_failed. Both events counted on customer 3, each named by exactly one audit row,
    the score the model's on the final features. A row a running transaction holds is still waited for. On a
    cluster of its own."""
    import time

    from helpers import own_cluster

    model = trained[0]
    with own_cluster("pgscore-two-phase-hold-") as c:
        pub, sub, conn = two_phase_complaints(c, trained, before=True)

        until = partial(polled, conn, tries=200)
        waiting = LOCK_WAITS
        c3 = "SELECT count(*), max(complaints_30d) FROM complaints, customers WHERE id = 3 AND customer_id = 3"

        def prepared_then_committed_beside_it(gid, n, m):
            """An event of customer 3 in a prepared transaction gid, one of 3 committed; n events before, m of 3."""
            prepared = psycopg2.connect(pub)
            prepared.autocommit = True
            query(prepared, f"BEGIN; INSERT INTO complaints (customer_id) VALUES (3); PREPARE TRANSACTION '{gid}'")
            assert until(f"SELECT count(*) FROM pg_prepared_xacts WHERE gid <> '{gid}'", [(1,)]), c.log_file.read_text()[-3000:]
            query(pub, "INSERT INTO complaints (customer_id) VALUES (3)")
            # applied, its event held back: the worker waits on nothing (before: on a transactionid lock)
            assert until("SELECT count(*) FROM pgscore.replicated_pending WHERE entity_key = '3'", [(1,)]), \
                query(conn, waiting)
            assert query(conn, waiting) == []
            assert query(conn, "SELECT count(*) FROM complaints") == [(n + 1,)]  # (the prepared one not visible)
            status = pgscore_cli("status", "--db", sub)
            assert "1 replicated event of 1 profile held back" in status.stdout, status.stdout
            query(prepared, f"COMMIT PREPARED '{gid}'")
            prepared.close()
            assert until(c3, [(m + 2, m + 1)])  # both applied, the held-back one not counted yet

        try:
            assert until("SELECT subtwophasestate::text FROM pg_subscription", [("e",)])
            prepared_then_committed_beside_it("g1", 0, 0)
            query(pub, "INSERT INTO complaints (customer_id) VALUES (4)")  # the next transaction applied folds it
            assert until(c3, [(2, 2)]), query(conn, waiting)
            assert query(conn, "SELECT count(*) FROM pgscore.replicated_pending") == [(0,)]
            # again, folded by retry_failed (the cron job), which says it rescored customer 3
            prepared_then_committed_beside_it("g2", 3, 2)
            rid = query(conn, "SELECT rescoring_id FROM pgscore.rescoring")[0][0]
            assert query(conn, "SELECT * FROM pgscore.retry_failed()") == [(rid, 1, 0)]
            assert query(conn, c3) == [(4, 4)]
            assert query(conn, "SELECT count(*) FROM pgscore.replicated_pending") == [(0,)]
            assert "held back" not in pgscore_cli("status", "--db", sub).stdout
            # a profile row a running transaction (not a prepared one) holds is waited for, as before, past the
            # waits of twice deadlock_timeout after which the worker looks at the holder again; then counted at once
            local = psycopg2.connect(sub)
            local.cursor().execute("UPDATE customers SET churn_score = churn_score WHERE id = 3")
            query(pub, "INSERT INTO complaints (customer_id) VALUES (3)")
            assert until(waiting, [("logical replication worker", "Lock", "transactionid")])
            time.sleep(2.5)
            assert query(conn, waiting) == [("logical replication worker", "Lock", "transactionid")]
            local.commit()
            local.close()
            assert until(c3, [(5, 5)])
            assert query(conn, "SELECT count(*) FROM pgscore.replicated_pending") == [(0,)]
            assert query(conn, "SELECT customer_id, count(*) FROM complaints GROUP BY 1 ORDER BY 1") == [(3, 5), (4, 1)]
            assert_as_documented(conn, model, source=None)  # (the events retry_failed folded: its audit row's too)
        finally:
            for gid, in query(conn, "SELECT gid FROM pg_prepared_xacts WHERE gid NOT IN ('g1', 'g2')"):
                query(conn, f"ROLLBACK PREPARED '{gid}'")
            query(conn, "ALTER SUBSCRIPTION s DISABLE")
            query(conn, "ALTER SUBSCRIPTION s SET (slot_name = NONE)")
            query(conn, "DROP SUBSCRIPTION s")
            conn.close()


def test_a_two_phase_subscription_holds_back_an_event_of_a_profile_a_prepared_transaction_created(trained):
    """The publisher PREPAREs a transaction with the first event of a new customer, then commits another event
    of it. The subscriber's apply worker PREPAREs the first, whose rescoring created the customer's profile
    (p_missing_profile 'create'), uncommitted until COMMIT PREPARED, which comes after the second in the stream.
    Before, the second's rescoring found no profile it could see (the row is the prepared transaction's) and its
    INSERT ... ON CONFLICT of it waited for the prepared transaction, and the apply worker with it, for ever (a
    transactionid lock). Now the second's event is held back in pgscore.replicated_pending (the worker waiting on
    nothing), and counted once the prepared one is committed: by the next transaction applied, or by
    retry_failed; a prepared one rolled back, retry_failed creates the profile and counts its one event. Every
    event counted once, named by exactly one audit row. A profile a running transaction is inserting is still
    waited for. On a cluster of its own."""
    from helpers import own_cluster

    model = trained[0]
    with own_cluster("pgscore-two-phase-created-") as c:
        pub, sub, conn = two_phase_complaints(c, trained, before=True)
        # a profile created with its key alone scores (features 0), and starts from 0 calls
        query(conn, "; ".join(f"ALTER TABLE customers ALTER {f} SET DEFAULT 0" for f in CHURN_FEATURES))
        query(conn, "INSERT INTO calls_before SELECT g, 0 FROM generate_series(95, 99) g")

        until = partial(polled, conn)
        waiting = LOCK_WAITS
        counted = "SELECT support_calls, complaints_30d FROM customers WHERE id = %s"

        def counted_as(customer, want):
            return until(counted.replace("%s", str(int(customer))), want)

        def prepared_then_committed(gid, customer, end="COMMIT", beside=None):
            """The first event of a new customer in a prepared transaction gid, then one committed (with one of
            another new customer `beside` it, counted at once); gid ended."""
            prepared = psycopg2.connect(pub)
            prepared.autocommit = True
            try:
                query(prepared, f"BEGIN; INSERT INTO complaints (customer_id) VALUES ({customer}); "
                                f"PREPARE TRANSACTION '{gid}'")
                assert until(f"SELECT count(*) FROM pg_prepared_xacts WHERE gid <> '{gid}'", [(1,)]), \
                    c.log_file.read_text()[-3000:]
                query(pub, f"INSERT INTO complaints (customer_id) VALUES ({customer})"
                           + (f", ({beside})" if beside else ""))
                # applied, its event held back: the worker waits on nothing (before: on a transactionid lock)
                assert until(f"SELECT count(*) FROM pgscore.replicated_pending WHERE entity_key = '{customer}'",
                             [(1,)]), query(conn, waiting)
                assert query(conn, waiting) == []
                if beside:  # (its profile created and counted in the same transaction)
                    assert query(conn, counted, (beside,)) == [(1, 1)]
                status = pgscore_cli("status", "--db", sub)
                assert "1 replicated event of 1 profile held back" in status.stdout, status.stdout
                query(prepared, f"{end} PREPARED '{gid}'")
            finally:
                prepared.close()
            n = 2 if end == "COMMIT" else 1
            assert until(f"SELECT count(*) FROM complaints WHERE customer_id = {customer}", [(n,)])
            assert until("SELECT count(*) FROM pg_prepared_xacts", [(0,)])

        try:
            assert until("SELECT subtwophasestate::text FROM pg_subscription", [("e",)])
            prepared_then_committed("g1", 99, beside=95)
            assert query(conn, counted, (99,)) == [(1, 1)]  # the prepared one's event alone, so far
            query(pub, "INSERT INTO complaints (customer_id) VALUES (4)")  # the next transaction applied folds it
            assert counted_as(99, [(2, 2)]), query(conn, waiting)
            assert query(conn, "SELECT count(*) FROM pgscore.replicated_pending") == [(0,)]
            # again, folded by retry_failed
            prepared_then_committed("g2", 98)
            rid = query(conn, "SELECT rescoring_id FROM pgscore.rescoring")[0][0]
            assert query(conn, "SELECT * FROM pgscore.retry_failed()") == [(rid, 1, 0)]
            assert query(conn, counted, (98,)) == [(2, 2)]
            # the prepared one rolled back: its profile never made, retry_failed creates it, one event counted
            prepared_then_committed("g3", 97, end="ROLLBACK")
            assert query(conn, counted, (97,)) == []
            assert query(conn, "SELECT * FROM pgscore.retry_failed()") == [(rid, 1, 0)]
            assert query(conn, counted, (97,)) == [(1, 1)]
            assert query(conn, "SELECT count(*) FROM pgscore.replicated_pending") == [(0,)]
            assert "held back" not in pgscore_cli("status", "--db", sub).stdout
            # a profile a running transaction (not a prepared one) is inserting is waited for, as before, past the
            # waits after which the worker looks at the inserter again; then counted at once
            local = psycopg2.connect(sub)
            try:
                local.cursor().execute("INSERT INTO customers (id) VALUES (96)")
                query(pub, "INSERT INTO complaints (customer_id) VALUES (96)")
                assert until(waiting, [("logical replication worker", "Lock", "transactionid")])
                time.sleep(2.5)
                assert query(conn, waiting) == [("logical replication worker", "Lock", "transactionid")]
                local.commit()
            finally:
                local.close()
            assert counted_as(96, [(1, 1)])
            assert query(conn, "SELECT count(*) FROM pgscore.replicated_pending") == [(0,)]
            assert query(conn, "SELECT customer_id, count(*) FROM complaints GROUP BY 1 ORDER BY 1") == [
                (4, 1), (95, 1), (96, 1), (97, 1), (98, 2), (99, 2)]
            assert_as_documented(conn, model, source=None)  # (the events retry_failed folded: its audit rows too)
        finally:
            for gid, in query(conn, "SELECT gid FROM pg_prepared_xacts WHERE gid NOT LIKE 'g_'"):
                query(conn, f"ROLLBACK PREPARED '{gid}'")  # (a worker stuck on it before goes on)
            query(conn, "ALTER SUBSCRIPTION s DISABLE")
            query(conn, "ALTER SUBSCRIPTION s SET (slot_name = NONE)")
            query(conn, "DROP SUBSCRIPTION s")
            conn.close()
            for gid, in query(pub, "SELECT gid FROM pg_prepared_xacts"):
                query(pub, f"ROLLBACK PREPARED '{gid}'")


def test_a_two_phase_subscription_holds_back_an_event_of_a_profile_share_locked_by_a_prepared_transaction_and_another(
        trained):
    """A profile row share-locked by two transactions of the subscriber's, one of them PREPAREd: its xmax is a
    multixact, whose members hold_back does not read. FOR KEY SHARE does not conflict with the rescoring's lock
    (FOR NO KEY UPDATE): an event of the profile is counted at once. FOR SHARE does: the worker waits for it once
    (twice deadlock_timeout), finds it held by no running backend's transaction alone, and holds the event back
    in pgscore.replicated_pending instead of waiting for ever; counted once by the next transaction applied after
    the prepared one and the other ended. On a cluster of its own."""
    from helpers import own_cluster

    model = trained[0]
    with own_cluster("pgscore-two-phase-multixact-") as c:
        pub, sub, conn = two_phase_complaints(c, trained, before=True)

        until = partial(polled, conn)
        waiting = LOCK_WAITS
        c3 = "SELECT count(*), max(complaints_30d) FROM complaints, customers WHERE id = 3 AND customer_id = 3"
        lockers = []

        def share_locked_by_two(strength, gid):
            """Customer 3's row locked `strength` by a transaction PREPAREd as gid and by one left running."""
            for _ in range(2):
                lockers.append(psycopg2.connect(sub))
            prepared, running = lockers[-2:]
            prepared.autocommit = True
            query(prepared, f"BEGIN; SELECT 1 FROM customers WHERE id = 3 FOR {strength}; PREPARE TRANSACTION '{gid}'")
            query(running, f"SELECT 1 FROM customers WHERE id = 3 FOR {strength}")  # (its transaction left open)
            assert query(conn, "SELECT (SELECT xmax FROM customers WHERE id = 3)::text::bigint "
                               "NOT IN (SELECT transaction::text::bigint FROM pg_prepared_xacts)") == [(True,)]
            return running

        try:
            assert until("SELECT subtwophasestate::text FROM pg_subscription", [("e",)])
            running = share_locked_by_two("KEY SHARE", "k1")
            query(pub, "INSERT INTO complaints (customer_id) VALUES (3)")
            assert until(c3, [(1, 1)]), query(conn, waiting)  # counted at once: no conflict
            running.commit()
            query(conn, "COMMIT PREPARED 'k1'")
            running = share_locked_by_two("SHARE", "m1")
            query(pub, "INSERT INTO complaints (customer_id) VALUES (3)")
            # held back after one wait of twice deadlock_timeout (before: not waited on for ever either)
            assert until("SELECT count(*) FROM pgscore.replicated_pending WHERE entity_key = '3'", [(1,)]), \
                query(conn, waiting)
            assert query(conn, waiting) == []
            assert query(conn, c3) == [(2, 1)]
            running.commit()
            query(conn, "COMMIT PREPARED 'm1'")
            query(pub, "INSERT INTO complaints (customer_id) VALUES (4)")  # the next transaction applied folds it
            assert until(c3, [(2, 2)]), query(conn, waiting)
            assert query(conn, "SELECT count(*) FROM pgscore.replicated_pending") == [(0,)]
            assert until("SELECT count(*) FROM complaints WHERE customer_id = 4", [(1,)])
            assert_as_documented(conn, model, source=None)
        finally:
            for gid, in query(conn, "SELECT gid FROM pg_prepared_xacts"):
                query(conn, f"ROLLBACK PREPARED '{gid}'")
            for locker in lockers:
                locker.close()
            query(conn, "ALTER SUBSCRIPTION s DISABLE")
            query(conn, "ALTER SUBSCRIPTION s SET (slot_name = NONE)")
            query(conn, "DROP SUBSCRIPTION s")
            conn.close()


def _held_back(shop, trained, customer, missing_profile="queue"):
    """The shop's complaints wired with p_replicated (and p_missing_profile), one event of `customer` in the
    table, not counted (the triggers off), and put in pgscore.replicated_pending as a two_phase worker holds one
    back: (the wiring's id, the event's complaint_id)."""
    if query(shop, "SELECT count(*) FROM pgscore.rescoring") != [(0,)]:
        query(shop, "SELECT pgscore.detach_rescoring('complaints')")
    rid = query(shop, "SELECT pgscore.attach_rescoring('complaints', 'customers', 'customer_id', 'churn', "
                      "'churn_score', %s::jsonb, p_profile_key => 'id', p_replicated => true, "
                      "p_missing_profile => %s)", (json.dumps(COUNTERS), missing_profile))[0][0]
    query(shop, "ALTER TABLE complaints DISABLE TRIGGER USER")
    (event,), = query(shop, "INSERT INTO complaints (customer_id) VALUES (%s) RETURNING complaint_id", (customer,))
    query(shop, "ALTER TABLE complaints ENABLE TRIGGER USER")
    query(shop, "INSERT INTO pgscore.replicated_pending (rescoring_id, entity_key, event, subscription) "
                "SELECT %s, c.customer_id::text, row_to_json(c), 's' FROM complaints c WHERE c.complaint_id = %s",
          (rid, event))
    return rid, event


def test_two_folds_at_once_count_a_held_back_event_once(shop, db_url, trained):
    """Two folds of the same held-back event at once (retry_failed from cron beside another retry_failed, or a
    two_phase worker's next transaction): the second read the event before the first committed, then waited on
    its DELETE of the row (before: for as long as the first's transaction lasted, and for ever where the first was
    a worker's transaction PREPAREd) and counted the event again once the first committed (its DELETE deleting
    nothing: support_calls 2). Now a fold claims the rows it counts (FOR UPDATE SKIP LOCKED) and counts those
    alone: counted once, and the second fold waits for nothing. The profile is a missing one, created by the fold, which
    takes no profile lock the second fold could wait for first."""
    import threading

    _held_back(shop, trained, 99, "create")
    first = psycopg2.connect(db_url)
    second = []
    try:
        first.cursor().execute("SELECT * FROM pgscore.retry_failed()")  # its transaction left open
        t = threading.Thread(target=lambda: second.append(query(db_url, "SELECT * FROM pgscore.retry_failed()")))
        t.start()
        for _ in range(100):
            if not t.is_alive() or query(shop, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                               "AND query LIKE '%retry_failed%'") == [(1,)]:
                break
            t.join(0.05)
        waited = t.is_alive()
        first.commit()
        t.join(30)
    finally:
        first.close()
    # (its support_calls adds the events up; complaints_30d is recounted from the table)
    assert query(shop, "SELECT support_calls, complaints_30d FROM customers WHERE id = 99") == [(1, 1)], second
    assert not waited, "the second fold waited for the first's DELETE"
    assert second == [[]]
    assert query(shop, "SELECT count(*) FROM pgscore.replicated_pending") == [(0,)]


def test_a_fold_whose_missing_profiles_fail_to_be_created_in_part_takes_no_subtransaction_a_key(shop, trained):
    """retry_failed folds the held-back events of 300 new customers (p_missing_profile 'create'), one of whom the
    profile table refuses (a CHECK), no prepared transaction anywhere. hold_back's create_missing tried the 300
    keys one by one, a subtransaction (and a transaction id) each, before the rescoring's create did its own
    bounded halving (PARTS_BUDGET); a key can only be waited on for ever where a prepared transaction wrote the
    profile table, and there is none. Now the error is left to the rescoring's create at once: a handful of
    transaction ids, not one a key. Every other event counted once, the refused customer queued."""
    rid, _ = _held_back(shop, trained, 99, "create")
    query(shop, "DELETE FROM pgscore.replicated_pending")
    query(shop, "ALTER TABLE customers ADD CONSTRAINT not_1150 CHECK (id <> 1150)")
    # a profile created with its key alone scores (features 0)
    query(shop, "; ".join(f"ALTER TABLE customers ALTER {f} SET DEFAULT 0" for f in CHURN_FEATURES))
    query(shop, "ALTER TABLE complaints DISABLE TRIGGER USER")
    query(shop, "INSERT INTO complaints (customer_id) SELECT g FROM generate_series(1001, 1300) g")
    query(shop, "ALTER TABLE complaints ENABLE TRIGGER USER")
    query(shop, "INSERT INTO pgscore.replicated_pending (rescoring_id, entity_key, event, subscription) "
                "SELECT %s, c.customer_id::text, row_to_json(c), 's' FROM complaints c WHERE c.customer_id > 1000 "
                "ORDER BY c.complaint_id", (rid,))
    (before,), = query(shop, "SELECT pg_current_xact_id()::text::bigint")
    assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 300, 1)]
    (after,), = query(shop, "SELECT pg_current_xact_id()::text::bigint")
    assert after - before < 60, f"{after - before} transaction ids for 300 keys"
    assert query(shop, "SELECT count(*), sum(support_calls), sum(complaints_30d) FROM customers WHERE id > 1000") \
        == [(299, 299, 299)]
    assert query(shop, "SELECT entity_key FROM pgscore.error_queue") == [("1150",)]
    assert query(shop, "SELECT count(*) FROM pgscore.replicated_pending") == [(0,)]


def test_only_a_replication_worker_puts_events_in_replicated_pending(shop, trained):
    """An app login (or the BI reader) cannot plant an event in pgscore.replicated_pending that retry_failed,
    run by cron as a role that may write every profile table, would then count and score as replicated (audit
    rows "via": "replication"). Before, pgscore_app held INSERT on it: the row below was counted."""
    rid, event = _held_back(shop, trained, 3)  # (a row there: an UPDATE of none would pass)
    ensure_role(shop, "pgscore_t_planter")
    query(shop, "GRANT pgscore_app TO pgscore_t_planter")
    ensure_role(shop, "pgscore_t_bi", login=True)  # (as the other tests make it: roles are the cluster's)
    query(shop, "GRANT pgscore_reader TO pgscore_t_bi")
    (row,), = query(shop, "SELECT row_to_json(c)::text FROM complaints c")
    plant = "INSERT INTO pgscore.replicated_pending (rescoring_id, entity_key, event) VALUES (%s, '3', %s)"
    for role in ("pgscore_t_planter", "pgscore_t_bi"):
        query(shop, f"SET ROLE {role}")
        try:
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                query(shop, plant, (rid, row))
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                query(shop, "UPDATE pgscore.replicated_pending SET held_at = now()")
        finally:
            query(shop, "RESET ROLE")
    query(shop, "SET ROLE pgscore_t_bi")
    try:
        for sql in ("SELECT count(*) FROM pgscore.replicated_pending", "DELETE FROM pgscore.replicated_pending"):
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                query(shop, sql)
    finally:
        query(shop, "RESET ROLE")
    assert query(shop, "SELECT count(*), min(held_at) = max(held_at) FROM pgscore.replicated_pending") == [(1, True)]
    # the app's fold (retry_failed as pgscore_app) still reads, claims and deletes the rows it counts
    query(shop, "GRANT SELECT, UPDATE ON customers TO pgscore_t_planter; GRANT SELECT ON complaints TO pgscore_t_planter")
    query(shop, "SET ROLE pgscore_t_planter")
    try:
        assert query(shop, "SELECT * FROM pgscore.retry_failed()") == [(rid, 1, 0)]
    finally:
        query(shop, "RESET ROLE")
    assert query(shop, "SELECT count(*) FROM pgscore.replicated_pending") == [(0,)]
    assert query(shop, "SELECT i::bigint FROM pgscore.prediction_log l, "
                       "jsonb_array_elements_text(l.cause->'event_ids') i") == [(event,)]


def test_detaching_a_wiring_with_held_back_events_deletes_them_with_a_warning(shop, db_url, trained):
    """detach_rescoring of a wiring with replicated events held back: nothing would fold them again (retry_failed
    reads the wirings there are) and pgscore status counted them for ever. They are deleted with it, uncounted,
    and a WARNING says how many, of how many profiles, and that retry_failed before the detach counts them."""
    rid, event = _held_back(shop, trained, 3)
    del shop.notices[:]
    assert query(shop, "SELECT pgscore.detach_rescoring('complaints')") == [(1,)]
    said = [n for n in shop.notices if "held back" in n]
    assert said and "WARNING" in said[0] and "1 replicated event(s) of 1 profile(s)" in said[0], shop.notices
    assert "retry_failed" in said[0]
    assert f"were deleted with wiring {rid} of public.complaints, not counted" in said[0], said  # (0110: wiring N)
    assert query(shop, "SELECT count(*) FROM pgscore.replicated_pending") == [(0,)]
    assert "held back" not in pgscore_cli("status", "--db", db_url).stdout
    # and forget_rescoring of a wiring whose event table was dropped
    rid, event = _held_back(shop, trained, 3)
    query(shop, "DROP TABLE complaints")
    del shop.notices[:]
    query(shop, "SELECT pgscore.forget_rescoring(%s)", (rid,))
    said = [n for n in shop.notices if "held back" in n]
    assert said and "pgscore.forget_rescoring: 1 replicated event(s) of 1 profile(s)" in said[0], shop.notices
    assert f"were deleted with wiring {rid} of " in said[0], said
    assert query(shop, "SELECT count(*) FROM pgscore.replicated_pending") == [(0,)]
