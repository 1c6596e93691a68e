"""The three roles, each through a login of its own: pgscore_admin deploys and rolls back, pgscore_app
scores and inserts events (and reads no artifact bytes, writes no model), pgscore_reader reads the views.
None is a superuser."""

import json
import re
import subprocess

import psycopg2
import pytest
from psycopg2 import errors
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from helpers import ROOT, ensure_role, pgscore_cli, query
from pgscore import auditlog, datasets, registry, sample
from pgscore.datasets import CHURN_FEATURES
from pgscore.localdb import pg_bin_dir

X, Y, _ = datasets.churn(800, seed=12)
ROW = X[0].tolist()
LOGINS = {"admin": "pgscore_t_admin", "app": "pgscore_t_app", "bi": "pgscore_t_bi"}


def connect(url):
    conn = psycopg2.connect(url)
    conn.autocommit = True
    return conn


@pytest.fixture
def urls(db_url):
    """A login for each role (roles are global to the cluster: made once, granted again per database)."""
    for login, role in (("admin", "pgscore_admin"), ("app", "pgscore_app"), ("bi", "pgscore_reader")):
        name = LOGINS[login]
        ensure_role(db_url, name, login=True)
        query(db_url, f"GRANT {role} TO {name}")
    # the application's own tables, made by their owner (here the superuser), who grants the app what
    # rescoring needs and the admin the right to wire them
    conn = connect(db_url)
    with conn.cursor() as cur:
        sample.create_tables(cur)
        sample.load_customers(cur, X[:50])
        cur.execute("GRANT SELECT, INSERT, UPDATE ON customers, complaints TO pgscore_app")
        cur.execute("GRANT SELECT, TRIGGER ON customers, complaints TO pgscore_admin")
    conn.close()
    return {k: db_url.replace("postgresql://postgres@", f"postgresql://{v}@") for k, v in LOGINS.items()}


def _superusers_event_kept_its_profile_queued_naming(db_url, app):
    """A superuser's INSERT of an event for customer 3 runs none of `app`'s code (no 'spied as postgres' notice): the
    event is kept, the profile queued (42501) with a reason naming `app`."""
    su = connect(db_url)
    try:
        su.notices.clear()
        query(su, "INSERT INTO complaints (customer_id) VALUES (3)")
        assert not [n for n in su.notices if "spied as postgres" in n], su.notices
        assert query(db_url, "SELECT entity_key, sqlstate FROM pgscore.error_queue") == [("3", "42501")]
        (reason,), = query(db_url, "SELECT reason FROM pgscore.error_queue")
        assert app in reason, reason
    finally:
        su.close()


def test_no_pgscore_role_is_a_superuser(conn):
    rows = query(conn, "SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles "
                       "WHERE rolname IN ('pgscore_admin', 'pgscore_app', 'pgscore_reader') ORDER BY 1")
    assert rows == [(r, False, False, False, False) for r in ("pgscore_admin", "pgscore_app", "pgscore_reader")]


def test_admin_deploys_rolls_back_tunes_and_refreshes(urls):
    admin = connect(urls["admin"])
    assert query(admin, "SELECT current_user") == [(LOGINS["admin"],)]
    v1 = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y)
    v2 = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(X, Y)
    registry.deploy(urls["admin"], "churn", v1, X, Y, feature_names=CHURN_FEATURES)
    registry.deploy(urls["admin"], "churn", v2, X, Y, feature_names=CHURN_FEATURES)
    (v,), = query(admin, "SELECT pgscore.score('churn', %s::float8[])", (ROW,))
    assert abs(v - v2.predict_proba(X[:1])[0, 1]) < 1e-9
    registry.rollback(urls["admin"], "churn")
    (v,), = query(admin, "SELECT pgscore.score('churn', %s::float8[])", (ROW,))
    assert abs(v - v1.predict_proba(X[:1])[0, 1]) < 1e-9
    query(admin, "UPDATE pgscore.drift_thresholds SET warn = 0.12 WHERE metric = 'psi'")
    query(admin, "INSERT INTO pgscore.drift_windows (window_name, length, sort_order) VALUES ('3 days', '3 days', 35)")
    query(admin, "SELECT * FROM pgscore.refresh_monitoring(p_rebuild => true)")
    assert query(admin, "SELECT count(*) > 0 FROM pgscore.feature_drift WHERE window_name = '3 days'") == [(True,)]
    # partitions for today and 7 days ahead exist from the install: 2 days from tomorrow's adds none,
    # 2 days from 8 days ahead adds 2 (the 9th and 10th days)
    assert query(admin, "SELECT pgscore.create_log_partitions(1, ((now() AT TIME ZONE 'UTC') + interval '1 day')::date)") \
        == [(0,)]
    assert query(admin, "SELECT pgscore.create_log_partitions(1, ((now() AT TIME ZONE 'UTC') + interval '8 days')::date)") \
        == [(2,)]
    assert query(admin, "SELECT pgscore.drop_log_partitions('3650 days')") == [(0,)]
    rid = query(admin, "SELECT pgscore.attach_rescoring('complaints', 'customers', 'customer_id', 'churn', "
                       "'churn_score', %s::jsonb, p_profile_key => 'id')", (json.dumps(sample.COUNTERS),))[0][0]
    assert rid > 0
    # detaching drops the trigger, which takes the event table's owner: the admin is told so
    with pytest.raises(errors.InsufficientPrivilege) as e:
        query(admin, "SELECT pgscore.detach_rescoring('complaints')")
    assert "must be owner of relation complaints" in e.value.pgerror
    assert query(admin, "SELECT count(*) FROM pgscore.rescoring") == [(1,)]  # nothing half-done
    (n,), = query(admin, "SELECT count(*) FROM pgscore.artifacts WHERE length(bytes) > 0")
    assert n == 2  # the admin may read what it deployed
    admin.close()


def test_app_scores_and_inserts_events_but_writes_no_model_and_reads_no_bytes(urls, db_url):
    est = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y)
    registry.deploy(db_url, "churn", est, X, Y, feature_names=CHURN_FEATURES)
    tree = HistGradientBoostingClassifier(max_iter=10).fit(X, Y)
    registry.deploy(db_url, "tree", tree, X, Y, feature_names=CHURN_FEATURES, compile=False)  # unpickled, not compiled
    with connect(db_url).cursor() as cur:
        sample.rescore_complaints(cur)
    app = connect(urls["app"])  # a new session: nothing cached, every model loads through load_model
    assert query(app, "SELECT current_user") == [(LOGINS["app"],)]
    (v,), = query(app, "SELECT pgscore.score('churn', %s::float8[], NULL, 'c1')", (ROW,))
    assert abs(v - est.predict_proba(X[:1])[0, 1]) < 1e-9
    (t,), = query(app, "SELECT pgscore.score('tree', %s::jsonb)", (json.dumps(dict(zip(CHURN_FEATURES, ROW))),))
    assert abs(t - tree.predict_proba(X[:1])[0, 1]) < 1e-12
    rows = query(app, "SELECT * FROM pgscore.predict_batch('churn', 'SELECT id, " + ", ".join(CHURN_FEATURES)
                 + " FROM customers')")
    assert len(rows) == 50
    unlogged = query(app, "SELECT * FROM pgscore.predict_batch('churn', 'SELECT id, " + ", ".join(CHURN_FEATURES)
                     + " FROM customers', p_log => false)")  # one statement in SQL (batch_sql)
    assert sorted(unlogged) == sorted(rows)  # the same statement, with and without its audit rows
    query(app, "CALL pgscore.score_table('churn', 'customers', 'id', 'churn_score')")
    query(app, "INSERT INTO complaints (customer_id) VALUES (3), (4), (4)")
    (calls, score), = query(app, "SELECT complaints_30d, churn_score FROM customers WHERE id = 4")
    assert calls == 2 and score is not None
    assert query(app, "SELECT pgscore.record_outcome('churn', 'c1', 1)")[0][0] > 0
    # by the app's role, not pgscore's owner, as which record_outcome runs (before migration 0037)
    assert query(db_url, "SELECT recorded_by FROM pgscore.outcomes") == [(LOGINS["app"],)]
    # and by the role a pooled login takes for its user (SET ROLE), not the login's
    ensure_role(db_url, "pgscore_t_user")
    query(db_url, f"GRANT pgscore_app TO pgscore_t_user; GRANT pgscore_t_user TO {LOGINS['app']}")
    query(app, "SET ROLE pgscore_t_user")
    query(app, "SELECT pgscore.record_outcome('churn', 'c1', 0)")
    query(app, "RESET ROLE")
    assert query(db_url, "SELECT recorded_by FROM pgscore.outcomes ORDER BY outcome_id") == \
        [(LOGINS["app"],), ("pgscore_t_user",)]
    # an integer or uuid key without a cast (0081), granted to the app as the text one is
    (a, b), = query(app, "SELECT pgscore.record_outcome('churn', 7, true), pgscore.record_outcome('churn', "
                         "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, '0')")
    assert a > 0 and b > 0
    assert query(app, "SELECT * FROM pgscore.retry_failed()") == []
    # the windows brought up to date by the app (the sample's counts, backed by no event, recounted)
    (recounted, rescored, failed), = query(app, "SELECT recounted, rescored, failed FROM pgscore.refresh_windows()")
    assert recounted == rescored > 0 and failed == 0
    assert query(app, "SELECT count(*) FROM pgscore.prediction_log WHERE source = 'refresh'") == [(rescored,)]
    assert query(app, "SELECT count(*) FROM pgscore.model_versions") == [(2,)]  # pgscore models works for it
    (logged,), = query(app, "SELECT count(*) FROM pgscore.prediction_log")
    assert logged >= 50 + 2 + 2

    denied = [
        "SELECT bytes FROM pgscore.artifacts", "SELECT bytes FROM pgscore.evaluators",
        "SELECT * FROM pgscore.artifacts",
        "INSERT INTO pgscore.models (name, version, task, estimator, feature_names, feature_types, env) "
        "VALUES ('x', 9, 'binary', 'x', '{a}', '{float8}', '{}')",
        "INSERT INTO pgscore.deployments (model_name, model_id, action) VALUES ('churn', 1, 'deploy')",
        "INSERT INTO pgscore.baselines SELECT * FROM pgscore.baselines LIMIT 1",
        "UPDATE pgscore.drift_thresholds SET alert = 100",
        "DELETE FROM pgscore.drift_windows",
        "SELECT * FROM pgscore.register_model('x', '\\x00'::bytea, '0', '{}', '[]')",
        "SELECT pgscore.rollback('churn')", "SELECT pgscore.activate('churn', 1)", "SELECT pgscore.retire('churn')",
        "SELECT * FROM pgscore.refresh_monitoring()", "SELECT pgscore.create_log_partitions(1)",
        "SELECT pgscore.drop_log_partitions('1 day')",
        "SELECT pgscore.detach_rescoring('complaints')", "SELECT pgscore.forget_rescoring(1)",
        "INSERT INTO pgscore.outcomes (model_name, entity_key, outcome) VALUES ('churn', 'c1', '7')",
        # the marker of buffered audit rows: set, never deleted nor locked by the app (a lock stalled every
        # session's logged scoring; flush_query_log deletes it at commit as its owner)
        "DELETE FROM pgscore.log_pending", "SELECT * FROM pgscore.log_pending",
    ]
    for sql_text in denied:
        with pytest.raises(errors.InsufficientPrivilege):
            query(app, sql_text)
    locker = psycopg2.connect(urls["app"])  # in a transaction, as LOCK TABLE needs
    try:
        with pytest.raises(errors.InsufficientPrivilege), locker.cursor() as cur:
            cur.execute("LOCK TABLE pgscore.log_pending IN ACCESS EXCLUSIVE MODE")
    finally:
        locker.close()
    # load_model gives nothing away: the engine's name, never the bytes
    (mid,), = query(db_url, "SELECT model_id FROM pgscore.models WHERE name = 'tree'")
    assert query(app, "SELECT pgscore.load_model(%s)", (mid,)) == [("scikit-learn",)]
    app.close()


def test_the_app_cannot_back_date_a_prediction_and_every_path_still_logs_as_it(urls, db_url):
    """pgscore.prediction_log: the app and the admin insert every column but logged_at, which takes its default,
    the transaction's now() (migration 0127). With INSERT on the whole table a pgscore_app login wrote a row dated
    2020-01-01 (or 2099), which the drift and performance windows read as a prediction of that day. Each path
    that writes the log as its caller lists its columns without logged_at and still logs as the app."""
    registry.deploy(db_url, "churn", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y),
                    X, Y, feature_names=CHURN_FEATURES)
    with connect(db_url).cursor() as cur:
        rid = sample.rescore_complaints(cur)
    (mid,), = query(db_url, "SELECT model_id FROM pgscore.models WHERE name = 'churn'")
    for login in ("app", "admin"):
        conn = connect(urls[login])
        try:
            for when in ("2020-01-01", "2099-01-01", "now()"):
                with pytest.raises(errors.InsufficientPrivilege) as e:
                    query(conn, "INSERT INTO pgscore.prediction_log (logged_at, model_id, features, score, source) "
                                f"VALUES ({when if when == 'now()' else repr(when)}, %s, %s, 0.9, 'query')",
                          (mid, ROW))
                assert "prediction_log" in e.value.pgerror
        finally:
            conn.close()
    assert query(db_url, "SELECT count(*) FROM pgscore.prediction_log") == [(0,)]
    app = connect(urls["app"])
    (start,), = query(app, "SELECT now()")
    query(app, "SELECT pgscore.score('churn', %s::float8[], NULL, 'q1')", (ROW,))  # query: flushed as the owner
    cols = ", ".join(CHURN_FEATURES)
    assert len(query(app, f"SELECT * FROM pgscore.predict_batch('churn', 'SELECT id, {cols} FROM customers')")) == 50
    query(app, "SELECT * FROM pgscore.score_chunk('churn', 'customers', 'id', 'churn_score', p_chunk_size => 5)")
    query(app, "INSERT INTO complaints (customer_id) VALUES (3)")  # rescoring's trigger
    query(app, "SELECT * FROM pgscore.refresh_windows()")
    query(app, "INSERT INTO pgscore.error_queue (rescoring_id, model_name, profile_table, entity_key, reason, "
               "sqlstate) VALUES (%s, 'churn', 'public.customers', '4', 'queued', 'XX000')", (rid,))
    assert query(app, "SELECT * FROM pgscore.retry_failed()") == [(rid, 1, 0)]
    query(app, "SELECT pgscore.backfill_rescoring('complaints')")
    # a row of the app's own, without a time, takes the transaction's (the model and score are its to give:
    # the log records what was scored, docs/sql.md, roles)
    query(app, "INSERT INTO pgscore.prediction_log (model_id, features, score, source) VALUES (%s, %s, 0.9, 'query')",
          (mid, ROW))
    app.close()
    rows = dict(query(db_url, "SELECT source, count(*) FILTER (WHERE logged_at < %s OR logged_at > now()) "
                              "FROM pgscore.prediction_log GROUP BY 1", (start,)))
    assert rows == {"query": 0, "batch": 0, "trigger": 0, "retry": 0, "refresh": 0}, rows


def test_every_log_row_names_the_login_that_wrote_it_which_the_writer_cannot_set(urls, db_url):
    """pgscore.prediction_log.written_by (migration 0139): the session's login, a default no writer may set. A
    pgscore_app login wrote rows whose cause named postgres and whose backend and statement time were a real
    query's, and nothing told them from pgscore's own (a trial's record_outcome judged a customer on one). Every
    path stamps the real login: the query path's rows (written at COMMIT as the log's owner, after a SET ROLE
    too), the batches', the trigger's and a row written by hand."""
    registry.deploy(db_url, "churn", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y),
                    X, Y, feature_names=CHURN_FEATURES)
    with connect(db_url).cursor() as cur:
        sample.rescore_complaints(cur)
    (mid,), = query(db_url, "SELECT model_id FROM pgscore.models WHERE name = 'churn'")
    for login in ("app", "admin"):
        conn = connect(urls[login])
        try:
            with pytest.raises(errors.InsufficientPrivilege) as e:
                query(conn, "INSERT INTO pgscore.prediction_log (model_id, features, score, source, written_by) "
                            "VALUES (%s, %s, 0.9, 'query', 'postgres')", (mid, ROW))
            assert "prediction_log" in e.value.pgerror
        finally:
            conn.close()
    app = connect(urls["app"])
    query(app, "SELECT pgscore.score('churn', %s::float8[], NULL, 'q1')", (ROW,))
    with app.cursor() as cur:  # the query path's rows go in at COMMIT, as the log's owner, whatever the role then
        cur.execute("BEGIN")
        cur.execute("SELECT pgscore.score('churn', %s::float8[], NULL, 'q2')", (ROW,))
        cur.execute("SET LOCAL ROLE pgscore_app")
        cur.execute("COMMIT")
    cols = ", ".join(CHURN_FEATURES)
    query(app, f"SELECT * FROM pgscore.predict_batch('churn', 'SELECT id, {cols} FROM customers WHERE id <= 3')")
    query(app, "SELECT * FROM pgscore.score_chunk('churn', 'customers', 'id', 'churn_score', p_chunk_size => 5)")
    query(app, "INSERT INTO complaints (customer_id) VALUES (3)")
    query(app, "INSERT INTO pgscore.prediction_log (model_id, entity_key, features, score, source, cause) "
               "VALUES (%s, 'forged', %s, 0.01, 'query', jsonb_build_object('user', 'postgres'))", (mid, ROW))
    app.close()
    rows = query(db_url, "SELECT source, written_by, count(*) FROM pgscore.prediction_log GROUP BY 1, 2 ORDER BY 1")
    assert rows == [("batch", LOGINS["app"], 8), ("query", LOGINS["app"], 3), ("trigger", LOGINS["app"], 1)], rows
    # the reader's view shows it, as its last column (the columns before it unchanged)
    cols = [c for c, in query(db_url, "SELECT attname FROM pg_attribute WHERE attrelid = 'pgscore.predictions'::regclass "
                                      "AND attnum > 0 ORDER BY attnum")]
    assert cols[-2:] == ["features_by_name", "written_by"], cols
    assert query(urls["bi"], "SELECT written_by, cause->>'user' FROM pgscore.predictions WHERE entity_key = 'forged'") \
        == [(LOGINS["app"], "postgres")]


def test_every_column_a_path_logs_as_the_app_is_in_its_grant_label_too(urls, db_url):
    """The app's INSERT on the log is on columns (migration 0127): each column a path names as its caller must be
    among them. The test above runs no path that writes `label` as the app (the query path's rows go in at commit as
    the log's owner; predict_batch, score_chunk without p_label_into and an unlabelled wiring name no label), so a
    grant without `label` passed it while these failed with 42501: the query path past FLUSH_AT predictions in one
    transaction (written as the caller, before the commit), score_table's p_label_into and a wiring's
    p_label_column; and the shadow's rows of both, as the app."""
    churn = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y)
    registry.deploy(db_url, "churn", churn, X, Y, feature_names=CHURN_FEATURES)
    registry.deploy(db_url, "churn", churn, X, Y, feature_names=CHURN_FEATURES, activate=False)
    query(db_url, "SELECT pgscore.set_shadow('churn', 2)")
    query(db_url, "ALTER TABLE customers ADD COLUMN churn_label text")
    query(db_url, "SELECT pgscore.attach_rescoring('complaints'::regclass, 'customers'::regclass, 'customer_id', "
                  "'churn', 'churn_score', %s::jsonb, p_profile_key => 'id', p_label_column => 'churn_label')",
          (json.dumps(sample.COUNTERS),))
    app = psycopg2.connect(urls["app"])
    try:
        with app, app.cursor() as cur:  # one transaction: FLUSH_AT rows written before its commit, as the app
            cur.execute("SELECT now()")
            (start,), = cur.fetchall()
            cur.execute("SELECT count(pgscore.predict('churn', %s::float8[])) FROM generate_series(1, %s)",
                        (ROW, auditlog.FLUSH_AT + 1))
        app.autocommit = True
        query(app, "CALL pgscore.score_table('churn', 'customers', 'id', 'churn_score', p_label_into => 'churn_label')")
        query(app, "INSERT INTO complaints (customer_id) VALUES (3)")  # the wiring's p_label_column
    finally:
        app.close()
    rows = query(db_url, "SELECT source, m.version, count(*), count(l.label), "
                         "count(*) FILTER (WHERE l.logged_at < %s OR l.logged_at > now()) "
                         "FROM pgscore.prediction_log l JOIN pgscore.models m USING (model_id) "
                         "GROUP BY 1, 2 ORDER BY 1, 2", (start,))
    assert rows == [("batch", 1, 50, 50, 0), ("query", 1, auditlog.FLUSH_AT + 1, auditlog.FLUSH_AT + 1, 0),
                    ("shadow", 2, 51, 0, 0), ("trigger", 1, 1, 1, 0)], rows


def test_no_partition_of_the_log_takes_a_back_dated_row_from_the_app_or_the_admin(urls, db_url):
    """The column grant (migration 0127) is on the log itself, which routes a row to its partition without asking
    for a right on it; the partitions (the default one, and each day create_log_partitions makes later, whose grant
    is made there) give the app and the admin no INSERT, so a row written into one by name cannot carry a logged_at
    of its own either: the default partition takes any day."""
    query(db_url, "SELECT pgscore.create_log_partitions(1, (now() AT TIME ZONE 'UTC')::date + 30)")
    parts = [p for p, in query(db_url, "SELECT c.oid::regclass::text FROM pg_inherits i JOIN pg_class c "
                                       "ON c.oid = i.inhrelid WHERE i.inhparent = 'pgscore.prediction_log'::regclass")]
    assert "pgscore.prediction_log_default" in parts and len(parts) >= 3, parts
    for login in ("app", "admin"):
        conn = connect(urls[login])
        try:
            for part in parts:
                with pytest.raises(errors.InsufficientPrivilege):
                    query(conn, f"INSERT INTO {part} (logged_at, model_id, features, source) "
                                "VALUES ('2020-01-01', 1, '{1}', 'query')")
        finally:
            conn.close()


def test_a_role_changed_before_commit_keeps_the_transaction_and_its_audit_rows(urls, db_url):
    """The query path's audit rows are written at COMMIT: a SET ROLE to the reader after scoring, or a
    SECURITY DEFINER function of the app's that a reader calls, failed the commit (42501 on the log) and
    rolled back the event written with it."""
    registry.deploy(db_url, "churn", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y),
                    X, Y, feature_names=CHURN_FEATURES)
    # a role of the app's that may not write the log (roles belong to the cluster: made once)
    ensure_role(db_url, "pgscore_t_nolog")
    query(db_url, f"GRANT pgscore_t_nolog TO {LOGINS['app']}")
    app = psycopg2.connect(urls["app"])
    try:
        with app.cursor() as cur:
            cur.execute("INSERT INTO customers (id) VALUES (9001)")
            cur.execute("SELECT pgscore.score('churn', %s::float8[], p_key => 'k1')", (ROW,))
            cur.execute("SET LOCAL ROLE pgscore_t_nolog")
        app.commit()
    finally:
        app.close()
        query(db_url, f"REVOKE pgscore_t_nolog FROM {LOGINS['app']}")
    assert query(db_url, "SELECT count(*) FROM customers WHERE id = 9001") == [(1,)]
    assert query(db_url, "SELECT cause->>'user' FROM pgscore.prediction_log WHERE entity_key = 'k1'") == \
        [(LOGINS["app"],)]
    query(db_url, f"CREATE FUNCTION public.churn_of(f float8[]) RETURNS float8 LANGUAGE sql SECURITY DEFINER "
                  f"SET search_path = pg_catalog AS $$ SELECT pgscore.score('churn', f, p_key => 'k2') $$")
    query(db_url, f"ALTER FUNCTION public.churn_of(float8[]) OWNER TO {LOGINS['app']}")
    query(db_url, f"GRANT EXECUTE ON FUNCTION public.churn_of(float8[]) TO {LOGINS['bi']}")
    bi = connect(urls["bi"])
    try:
        (score,), = query(bi, "SELECT public.churn_of(%s::float8[])", (ROW,))
    finally:
        bi.close()
    assert query(db_url, "SELECT score, cause->>'user' FROM pgscore.prediction_log WHERE entity_key = 'k2'") == \
        [(score, LOGINS["app"])]
    # the reader still writes nothing of its own into the log
    with pytest.raises(errors.InsufficientPrivilege):
        query(urls["bi"], "INSERT INTO pgscore.log_pending DEFAULT VALUES")


def test_a_bad_artifact_still_fails_clearly_through_the_app(urls, db_url):
    """Errors raised inside load_model reach the app with their own SQLSTATE and message."""
    est = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y)
    registry.deploy(db_url, "churn", est, X, Y, feature_names=CHURN_FEATURES, compile=False)
    # a superuser damages the recorded hash (the registry's triggers refuse an UPDATE; re-create the row)
    query(db_url, "ALTER TABLE pgscore.artifacts DISABLE TRIGGER USER")
    query(db_url, "UPDATE pgscore.artifacts SET sha256 = %s", ("0" * 64,))
    query(db_url, "ALTER TABLE pgscore.artifacts ENABLE TRIGGER USER")
    app = connect(urls["app"])
    with pytest.raises(errors.DataCorrupted) as e:
        query(app, "SELECT pgscore.score('churn', %s::float8[])", (ROW,))
    assert "does not match the recorded" in e.value.pgerror
    primary = e.value.diag.message_primary
    assert primary.startswith("pgscore: ") and primary.count("pgscore: ") == 1  # one error, not one wrapped in another
    app.close()


def test_reader_reads_views_only(urls, db_url):
    registry.deploy(db_url, "churn", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y), X, Y,
                    feature_names=CHURN_FEATURES)
    bi = connect(urls["bi"])
    assert query(bi, "SELECT count(*) FROM pgscore.model_versions") == [(1,)]
    for sql_text in ("SELECT pgscore.score('churn', ARRAY[1.0])", "SELECT pgscore.load_model(1)",
                     "SELECT * FROM pgscore.models", "SELECT * FROM pgscore.rescoring",
                     "SELECT * FROM pgscore.refresh_windows()",
                     "UPDATE pgscore.drift_thresholds SET warn = 1", "DELETE FROM pgscore.drift_windows"):
        with pytest.raises(errors.InsufficientPrivilege):
            query(bi, sql_text)
    # the windows and thresholds the views use, for a dashboard's threshold lines (the column comments
    # name these tables)
    assert query(bi, "SELECT count(*) > 0 FROM pgscore.drift_windows") == [(True,)]
    assert query(bi, "SELECT count(*) FROM pgscore.drift_thresholds WHERE metric = 'psi'") == [(1,)]
    bi.close()


def test_the_functions_the_reader_may_call_are_those_docs_sql_md_names_and_read_only(urls, db_url):
    """docs/sql.md's roles table says what pgscore_reader may call: the functions behind the views and
    version_drift. Every pgscore function a login granted pgscore_reader alone may execute (PUBLIC's aside:
    float8_image, score_table_commit, which only commits, and refuse_read_only, as test_monitoring pins) is named there, none is
    VOLATILE (one that writes would be), and each named one may be called (before, noise_floor, normal_quantile and check_rows, granted to the reader for window_checks, were
    not named in the table)."""
    row = next(line for line in (ROOT / "docs" / "sql.md").read_text().splitlines()
               if line.startswith("| `pgscore_reader` (BI tools) |"))
    may = row.split(" | ")[1]
    functions = {name for name, in query(db_url, "SELECT DISTINCT proname::text FROM pg_catalog.pg_proc "
                                                 "WHERE pronamespace = 'pgscore'::regnamespace")}
    documented = set(re.findall(r"`(\w+)[`(]", may)) & functions
    bi = connect(urls["bi"])
    callable_ = query(bi, "SELECT p.proname::text, p.provolatile FROM pg_catalog.pg_proc p "
                          " WHERE p.pronamespace = 'pgscore'::regnamespace "
                          "   AND NOT pg_catalog.has_function_privilege('public', p.oid, 'EXECUTE') "
                          "   AND pg_catalog.has_function_privilege(p.oid, 'EXECUTE')")
    bi.close()
    assert {name for name, _ in callable_} == documented, may
    assert [name for name, volatility in callable_ if volatility == "v"] == []


def test_the_reader_is_told_what_retry_and_install_need(urls, db_url):
    """A privilege error is not `retry`'s exit 1 (profiles still failing) and names the role; install says
    it needs a superuser."""
    run = pgscore_cli("retry", "--db", urls["bi"])
    assert run.returncode == 3, run.stdout + run.stderr
    assert "permission denied" in run.stderr and "pgscore retry needs a role granted pgscore_app or pgscore_admin" \
        in run.stderr, run.stderr
    run = pgscore_cli("retry", "--db", "postgresql://postgres@127.0.0.1:1/nope")
    assert run.returncode == 3 and "cannot connect" in run.stderr, run.stderr
    run = pgscore_cli("install", "--db", urls["bi"])
    assert run.returncode != 0 and "pgscore install needs a superuser" in run.stderr, run.stderr
    assert "SQLSTATE P0001" not in run.stderr, run.stderr  # the database's code, where one is printed


def test_look_alikes_in_public_are_never_picked_up_by_the_app(urls, db_url):
    """A public table and function named like pgscore's, and a schema first on the app's search_path:
    scoring, batch, rescoring and record_outcome still use pgscore's own objects."""
    est = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y)
    registry.deploy(db_url, "churn", est, X, Y, feature_names=CHURN_FEATURES)
    with connect(db_url).cursor() as cur:
        sample.rescore_complaints(cur)
        cur.execute("""
            CREATE TABLE public.prediction_log (LIKE pgscore.prediction_log);
            CREATE TABLE public.deployments (model_name text, model_id bigint, action text, deployment_id bigint);
            CREATE TABLE public.error_queue (LIKE pgscore.error_queue);
            CREATE FUNCTION public.load_model(bigint) RETURNS text LANGUAGE plpgsql
                AS $$ BEGIN RAISE EXCEPTION 'trap load_model fired'; END $$;
            CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE sql AS $$ SELECT '2000-01-01'::timestamptz $$;
            CREATE SCHEMA app_first;
            CREATE TABLE app_first.rescoring (LIKE pgscore.rescoring);
            CREATE TABLE app_first.models (LIKE pgscore.models);
            GRANT ALL ON ALL TABLES IN SCHEMA public, app_first TO pgscore_app;
            GRANT USAGE ON SCHEMA app_first TO pgscore_app;
            GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO pgscore_app;
        """)
    app = connect(urls["app"])
    query(app, "SET search_path = app_first, public, pg_catalog")
    (v,), = query(app, "SELECT pgscore.score('churn', %s::float8[], NULL, 'k')", (ROW,))
    assert abs(v - est.predict_proba(X[:1])[0, 1]) < 1e-9
    assert len(query(app, "SELECT * FROM pgscore.predict_batch('churn', 'SELECT id, " + ", ".join(CHURN_FEATURES)
                     + " FROM public.customers')")) == 50
    query(app, "INSERT INTO public.complaints (customer_id) VALUES (7)")
    query(app, "SELECT pgscore.record_outcome('churn', 'k', 0)")
    for trap in ("public.prediction_log", "public.error_queue", "app_first.rescoring", "app_first.models"):
        assert query(app, f"SELECT count(*) FROM {trap}") == [(0,)], trap  # noqa: S608 - fixed names
    (n,), = query(app, "SELECT count(*) FROM pgscore.prediction_log WHERE logged_at > '2001-01-01'")
    assert n == 1 + 50 + 1
    app.close()


def test_status_lists_the_admin_among_those_who_may_write_models(urls, db_url):
    from helpers import pgscore_cli

    run = pgscore_cli("status", "--db", urls["admin"])  # the admin may run status
    assert run.returncode == 0, run.stderr
    writers = next(ln for ln in run.stdout.splitlines() if ln.startswith("may write models and artifacts:"))
    assert "pgscore_admin" in writers and LOGINS["admin"] in writers
    assert "pgscore_app" not in writers and "pgscore_reader" not in writers and LOGINS["app"] not in writers
    for login in ("app", "bi"):  # the app and the reader may not: one clear line, not a traceback
        run = pgscore_cli("status", "--db", urls[login])
        assert run.returncode == 1 and "pgscore status needs a role that may read pgscore's registry" in run.stderr
        assert "a role granted pgscore_admin" in run.stderr and "Traceback" not in run.stderr
    # other commands a role may not run name the role they need
    for login, args, phrase in (("app", ["env"], "pgscore env needs a superuser or a role granted pgscore_admin"),
                                ("app", ["maintain"], "pgscore maintain needs a role granted pgscore_admin"),
                                ("bi", ["retire", "churn"], "pgscore retire needs a role granted pgscore_admin"),
                                ("admin", ["uninstall"], "pgscore uninstall runs as a superuser")):
        run = pgscore_cli(*args, "--db", urls[login])
        assert run.returncode == 1 and phrase in run.stderr and "Traceback" not in run.stderr, (args, run.stderr)


def test_status_by_an_admin_without_usage_on_a_wired_tenants_schema_says_what_it_could_not_read(urls, db_url):
    """Session 66 (trial T18's leftover): pgscore status run by a pgscore_admin that was not given USAGE on a wired
    tenant's schema failed as a whole, hinting that it needs a role granted pgscore_admin (which it has). It reports
    what it can, and names what it could not read and the GRANT that lets it."""
    from helpers import pgscore_cli

    registry.deploy(db_url, "churn", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y),
                    X, Y, feature_names=CHURN_FEATURES)
    query(db_url, "CREATE SCHEMA tenant_s; CREATE TABLE tenant_s.customers (LIKE public.customers INCLUDING ALL); "
                  "CREATE TABLE tenant_s.complaints (LIKE public.complaints INCLUDING ALL); "
                  "INSERT INTO tenant_s.customers SELECT * FROM public.customers WHERE id IN (1, 2); "
                  "UPDATE tenant_s.customers SET age = NULL WHERE id = 2")
    conn = connect(db_url)
    with conn.cursor() as cur:
        rid = sample.rescore_complaints(cur, schema="tenant_s")
        cur.execute("INSERT INTO tenant_s.complaints (customer_id) VALUES (2)")  # queued: age is NULL
    conn.close()
    run = pgscore_cli("status", "--db", urls["admin"])
    assert run.returncode == 0, run.stderr
    assert "needs a role" not in run.stderr and "Traceback" not in run.stderr, run.stderr
    assert f"wiring {rid}: tenant_s.complaints -> tenant_s.customers.churn_score, model churn (live version 1)" \
        in run.stdout, run.stdout
    assert (f"note: {LOGINS['admin']} may not use schema tenant_s (no USAGE): status read this wiring from the "
            "catalog alone") in run.stdout, run.stdout
    assert f"GRANT USAGE ON SCHEMA tenant_s TO {LOGINS['admin']};" in run.stdout, run.stdout
    assert "error queue: 1 profile" in run.stdout, run.stdout
    # given USAGE (and SELECT), the note goes
    query(db_url, f"GRANT USAGE ON SCHEMA tenant_s TO {LOGINS['admin']}; "
                  f"GRANT SELECT ON ALL TABLES IN SCHEMA tenant_s TO {LOGINS['admin']}")
    run = pgscore_cli("status", "--db", urls["admin"])
    assert run.returncode == 0 and "may not use schema" not in run.stdout, run.stdout + run.stderr


def test_a_downgrade_elsewhere_leaves_this_databases_roles_alone(db_url, empty_db_url):
    """Roles and their memberships are global to the cluster: pgscore grants rights per database only, so
    uninstalling pgscore from another database takes nothing from the roles here."""
    from pgscore import migrate

    migrate.upgrade(empty_db_url)
    migrate.downgrade(empty_db_url, "base")
    checks = query(db_url, """
        SELECT r, pg_catalog.has_schema_privilege(r, 'pgscore', 'USAGE'),
               pg_catalog.has_function_privilege(r, 'pgscore.load_model(bigint)', 'EXECUTE'),
               pg_catalog.has_table_privilege(r, 'pgscore.feature_drift', 'SELECT')
          FROM unnest(ARRAY['pgscore_admin', 'pgscore_app', 'pgscore_reader']) r ORDER BY r""")
    assert checks == [("pgscore_admin", True, True, True), ("pgscore_app", True, True, False),
                      ("pgscore_reader", True, False, True)]
    assert query(db_url, "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
                         "WHERE r.rolname IN ('pgscore_admin', 'pgscore_app', 'pgscore_reader') "
                         "AND m.member IN (SELECT oid FROM pg_roles WHERE rolname LIKE 'pgscore\\_%' "
                         "AND rolname NOT LIKE 'pgscore\\_t\\_%')") == [(0,)]  # no pgscore role is a member of another


def test_a_login_with_no_pgscore_role_is_told_which_role_each_command_needs(db_url):
    """A login granted none of pgscore's roles: each command names the role it needs, in one style (before:
    status, env, drift, retry and uninstall said 'pgscore install needs a superuser ... run the install as a
    superuser')."""
    ensure_role(db_url, "pgscore_t_none", login=True)
    url = db_url.replace("postgresql://postgres@", "postgresql://pgscore_t_none@")
    for args, phrase in ((["status"], "pgscore status needs a superuser or a role granted pgscore_admin"),
                         (["env"], "pgscore env needs a superuser or a role granted pgscore_admin"),
                         (["drift"], "pgscore drift needs a role granted pgscore_admin"),
                         (["retry"], "pgscore retry needs a role granted pgscore_app or pgscore_admin"),
                         (["uninstall"], "pgscore uninstall needs a superuser"),
                         (["install"], "pgscore install needs a superuser"),
                         (["models"], "pgscore models needs a role granted pgscore_app, pgscore_admin or "
                                      "pgscore_reader")):
        run = pgscore_cli(*args, "--db", url)
        err = run.stderr
        assert run.returncode != 0 and phrase in err, (args, err)
        assert ("pgscore install needs a superuser" not in err or args == ["install"]) and "Traceback" not in err, \
            (args, err)
        assert err.startswith("pgscore: error: ") and "database error" not in err, (args, err)


def test_the_app_cannot_leave_markers_that_slow_every_sessions_commit(urls, db_url):
    """pgscore.log_pending: the app may set its own transaction's marker (DEFAULT VALUES), not name another
    transaction. With INSERT on the whole table, one session granted pgscore_app left 2 million rows with a
    made-up xid (the flush deletes only its own transaction's), and every logged scoring transaction of every
    role then read them all at its commit (+300 ms each; migration 0042)."""
    registry.deploy(db_url, "churn", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y),
                    X, Y, feature_names=CHURN_FEATURES)
    app = connect(urls["app"])
    try:
        for sql_text in ("INSERT INTO pgscore.log_pending (xid) VALUES ('1')",
                         "INSERT INTO pgscore.log_pending (xid, backend) SELECT '1', 1 FROM generate_series(1, 10)",
                         "INSERT INTO pgscore.log_pending (backend) VALUES (1)"):
            with pytest.raises(errors.InsufficientPrivilege):
                query(app, sql_text)
        query(app, "INSERT INTO pgscore.log_pending DEFAULT VALUES")  # (what the query path does)
        (v,), = query(app, "SELECT pgscore.score('churn', %s::float8[], NULL, 'm1')", (ROW,))
        assert v is not None
    finally:
        app.close()
    assert query(db_url, "SELECT count(*) FROM pgscore.log_pending") == [(0,)]
    assert query(db_url, "SELECT count(*) FROM pgscore.prediction_log WHERE entity_key = 'm1'") == [(1,)]
    # markers left by anyone (the owner here) are found by the flush's own xid, not read one by one
    # (without firing the flush 50,000 times at commit: session_replication_role = replica)
    query(db_url, "SET session_replication_role = replica; "
                  "INSERT INTO pgscore.log_pending (xid) SELECT '1' FROM generate_series(1, 50000)")
    query(db_url, "ANALYZE pgscore.log_pending")
    plan = "\n".join(r[0] for r in query(db_url, "EXPLAIN " + auditlog._DISARM))
    assert "Seq Scan" not in plan, plan


def test_a_superusers_retry_runs_no_code_of_a_profile_tables_owner(urls, db_url):
    """retry_failed updates the profile table as its caller, and the table's triggers (indexes' expressions,
    checks) run as that caller: run by a superuser (`pgscore retry` from cron over the superuser's URL), a
    trigger of a table the app owns ran as the superuser, and its owner, granted pgscore_app, made itself a
    superuser (ALTER ROLE ... SUPERUSER in the trigger). A superuser's retry now leaves such a wiring's
    queue as it is, with a WARNING; the owner (or any role not a superuser) retries it."""
    registry.deploy(db_url, "churn", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y),
                    X, Y, feature_names=CHURN_FEATURES)
    app = LOGINS["app"]
    _spy_owned_by(db_url, app)
    query(db_url, f"ALTER TABLE public.customers OWNER TO {app}")
    with connect(urls["app"]).cursor() as cur:  # the app's own trigger on its own table
        cur.execute("CREATE TRIGGER spy BEFORE UPDATE ON public.customers FOR EACH ROW EXECUTE FUNCTION public.spy()")
    with connect(db_url).cursor() as cur:
        rid = sample.rescore_complaints(cur)
    query(urls["app"], "INSERT INTO pgscore.error_queue (rescoring_id, model_name, profile_table, entity_key, "
                       "reason, sqlstate) VALUES (%s, 'churn', 'public.customers', '3', 'queued', 'XX000')", (rid,))
    owner = connect(db_url)
    owner.notices.clear()
    assert query(owner, "SELECT * FROM pgscore.retry_failed()") == [(rid, 0, 1)]
    assert query(db_url, "SELECT count(*) FROM public.spied") == [(0,)]  # nothing ran as the superuser
    assert any("superuser" in n and app in n for n in owner.notices), owner.notices
    owner.close()
    assert query(db_url, "SELECT reason FROM pgscore.error_queue") == [("queued",)]
    # the owner's own retry rescores it, its trigger running as itself
    assert query(urls["app"], "SELECT * FROM pgscore.retry_failed()") == [(rid, 1, 0)]
    assert query(db_url, "SELECT DISTINCT who::text FROM public.spied") == [(app,)]
    assert query(db_url, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]



def test_a_superusers_refresh_windows_runs_no_code_of_a_profile_tables_owner(urls, db_url):
    """refresh_windows, as retry_failed, updates the profile table as its caller: a superuser's call (cron over
    the superuser's URL) would run the triggers of a table the app owns as the superuser. It skips such a
    wiring with a WARNING, its stale counters left as they are; the owner's own call refreshes them."""
    registry.deploy(db_url, "churn", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y),
                    X, Y, feature_names=CHURN_FEATURES)
    app = LOGINS["app"]
    _spy_owned_by(db_url, app)
    query(db_url, f"ALTER TABLE public.customers OWNER TO {app}")
    with connect(db_url).cursor() as cur:
        rid = sample.rescore_complaints(cur)
    # a complaint that has left the 30 days since it was counted: customer 3's complaints_30d is stale
    # (as the app: a superuser's events would be queued, its profile table the app's: the test below)
    query(urls["app"], "INSERT INTO complaints (customer_id, created_at) VALUES (3, now() - interval '29 days 23 hours')")
    query(db_url, "UPDATE complaints SET created_at = now() - interval '31 days' WHERE customer_id = 3")
    with connect(urls["app"]).cursor() as cur:  # the app's own trigger on its own table
        cur.execute("CREATE TRIGGER spy BEFORE UPDATE ON public.customers FOR EACH ROW EXECUTE FUNCTION public.spy()")
    owner = connect(db_url)
    owner.notices.clear()
    assert query(owner, "SELECT rescoring_id, recounted FROM pgscore.refresh_windows()") == [(rid, None)]
    assert query(db_url, "SELECT count(*) FROM public.spied") == [(0,)]  # nothing ran as the superuser
    assert any("superuser" in n and app in n for n in owner.notices), owner.notices
    owner.close()
    assert query(db_url, "SELECT complaints_30d FROM customers WHERE id = 3") == [(1,)]  # left stale
    # the owner's own call refreshes it (and every other profile whose count its events do not back), its
    # trigger running as itself
    (stale,), = query(db_url, "SELECT count(*) FROM customers c WHERE complaints_30d <> (SELECT count(*) FROM "
                              "complaints e WHERE e.customer_id = c.id AND e.created_at > now() - interval '30 days')")
    assert stale >= 1
    assert query(urls["app"], "SELECT rescoring_id, recounted, rescored FROM pgscore.refresh_windows()") == [
        (rid, stale, stale)]
    assert query(db_url, "SELECT DISTINCT who::text FROM public.spied") == [(app,)]
    assert query(db_url, "SELECT complaints_30d FROM customers WHERE id = 3") == [(0,)]

def _spy_owned_by(db_url, login):
    """public.spy(), a trigger function owned by `login` that records current_user in public.spied (what an
    owner's ALTER ROLE ... SUPERUSER would do in its place)."""
    query(db_url, "CREATE TABLE public.spied (who name)")
    query(db_url, "GRANT INSERT, SELECT ON public.spied TO PUBLIC")
    query(db_url, "CREATE FUNCTION public.spy() RETURNS trigger LANGUAGE plpgsql AS "
                  "$$ BEGIN INSERT INTO public.spied VALUES (current_user); RETURN NEW; END $$")
    query(db_url, f"ALTER FUNCTION public.spy() OWNER TO {login}")


def _app_owns_customers_with_a_spy(db_url, urls):
    """customers owned by the app login, with a BEFORE UPDATE trigger of the app's own that records current_user
    in public.spied (what an owner's ALTER ROLE ... SUPERUSER would do in its place)."""
    app = LOGINS["app"]
    _spy_owned_by(db_url, app)
    query(db_url, f"ALTER TABLE public.customers OWNER TO {app}")
    with connect(urls["app"]).cursor() as cur:
        cur.execute("CREATE TRIGGER spy BEFORE INSERT OR UPDATE ON public.customers FOR EACH ROW "
                    "EXECUTE FUNCTION public.spy()")
    return app


def test_a_superusers_insert_into_a_wired_table_runs_no_code_of_a_profile_tables_owner(urls, db_url):
    """The rescoring trigger updates the profile table as the inserting role: a superuser's INSERT (a DBA's bulk
    load, a logical replication apply worker run by a superuser) ran the triggers of a profile table the app owns
    as the superuser, and its owner could make itself one (the trial of session 62). The superuser's events are
    kept, no profile of that table is written, each is queued with a reason naming the owner, with a WARNING;
    the owner's retry rescores them. A non-superuser's INSERT rescores as before."""
    registry.deploy(db_url, "churn", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y),
                    X, Y, feature_names=CHURN_FEATURES)
    app = _app_owns_customers_with_a_spy(db_url, urls)
    with connect(db_url).cursor() as cur:
        rid = sample.rescore_complaints(cur)
    counts = "SELECT complaints_30d, churn_score IS NOT NULL FROM customers WHERE id IN (3, 4, 5) ORDER BY id"
    before = query(db_url, counts)
    assert [r[0] for r in before] != [2, 1, 1]  # (what the rescorings below change)
    owner = connect(db_url)
    owner.notices.clear()
    query(owner, "INSERT INTO complaints (customer_id) VALUES (3), (3), (4)")
    assert query(db_url, "SELECT count(*) FROM public.spied") == [(0,)]  # nothing ran as the superuser
    assert query(db_url, "SELECT count(*) FROM complaints") == [(3,)]  # the events were kept
    assert query(db_url, counts) == before and not any(r[1] for r in before)  # no profile written
    warned = [n for n in owner.notices if "WARNING" in n]
    assert any("superuser" in n and app in n for n in warned), owner.notices
    # (its hint says how, as docs/sql.md says: the generic "fix the cause" hint was shown instead; review r4)
    assert any("HINT:" in n and "not a superuser" in n and "SET ROLE" in n for n in warned), owner.notices
    owner.close()
    rows = query(db_url, "SELECT entity_key, reason, sqlstate FROM pgscore.error_queue ORDER BY entity_key")
    assert [r[0] for r in rows] == ["3", "4"], rows
    assert all(app in r[1] and "superuser" in r[1] and "retry" in r[1] and r[2] == "42501" for r in rows), rows
    # the owner's retry counts the superuser's events and rescores them, its trigger running as itself
    assert query(urls["app"], "SELECT * FROM pgscore.retry_failed()") == [(rid, 2, 0)]
    assert query(db_url, "SELECT DISTINCT who::text FROM public.spied") == [(app,)]
    # (complaints_30d, a window, recounted from the event table: the superuser's complaints alone are there)
    assert query(db_url, counts)[:2] == [(2, True), (1, True)]
    # the app's own INSERT rescores at once, as ever
    query(urls["app"], "INSERT INTO complaints (customer_id) VALUES (5)")
    assert query(db_url, counts)[2] == (1, True)
    assert query(db_url, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
    # a strict wiring refuses the superuser's INSERT instead (strict: an event not rescored fails its INSERT)
    query(db_url, "UPDATE pgscore.rescoring SET strict = true WHERE rescoring_id = %s", (rid,))
    with pytest.raises(errors.InsufficientPrivilege, match=app):
        query(db_url, "INSERT INTO complaints (customer_id) VALUES (6)")
    assert query(db_url, "SELECT count(*) FROM public.spied WHERE who::text <> %s", (app,)) == [(0,)]


@pytest.mark.parametrize("maker", ["admin", "another_superuser"])
def test_a_trigger_made_while_a_superusers_insert_waits_does_not_run_as_the_superuser(urls, db_url, maker):
    """The check of a superuser's INSERT read the catalog before its UPDATE of the profile table took the table's
    lock: a role granted TRIGGER on a superuser's profile table (the admin, as docs/sql.md grants it) that made a
    trigger in a transaction still open saw it fire as the superuser once it committed (the superuser's UPDATE
    waited for that lock, then ran the new trigger; review r4 of session 62). The lock is taken before the
    check now, which then sees the trigger and queues the profiles. So too for a trigger another superuser makes
    meanwhile in READ COMMITTED on the admin's function (session 64's question: no gap there)."""
    import threading
    import time

    registry.deploy(db_url, "churn", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y),
                    X, Y, feature_names=CHURN_FEATURES)
    admin_login = LOGINS["admin"]
    _spy_owned_by(db_url, admin_login)
    with connect(db_url).cursor() as cur:
        sample.rescore_complaints(cur)
    admin = psycopg2.connect(urls["admin"] if maker == "admin" else db_url)  # (a transaction left open)
    su = connect(db_url)
    done = []
    try:
        query(admin, "CREATE TRIGGER spy BEFORE UPDATE ON public.customers FOR EACH ROW EXECUTE FUNCTION public.spy()")
        pid = su.get_backend_pid()
        worker = threading.Thread(target=lambda: done.append(
            query(su, "INSERT INTO complaints (customer_id) VALUES (3)")))
        worker.start()
        for _ in range(200):  # the superuser's INSERT waits for the table's lock
            if query(db_url, "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)) == [("Lock",)]:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the superuser's INSERT did not wait for the trigger's transaction")
        admin.commit()
        worker.join(30)
        assert not worker.is_alive()
    finally:
        admin.close()
        su.close()
    assert query(db_url, "SELECT count(*) FROM public.spied WHERE who = 'postgres'") == [(0,)]
    assert query(db_url, "SELECT entity_key, sqlstate FROM pgscore.error_queue") == [("3", "42501")]


@pytest.mark.parametrize("isolation", ["REPEATABLE READ", "SERIALIZABLE"])
def test_a_trigger_committed_after_a_superusers_repeatable_read_snapshot_does_not_run_as_the_superuser(
        urls, db_url, isolation):
    """A superuser's REPEATABLE READ (or SERIALIZABLE) transaction read the catalog for the check through its
    snapshot, while its write runs the triggers the table has now: a trigger the admin (granted TRIGGER on the
    superuser's profile table, as docs/sql.md grants it) committed after that snapshot fired as the superuser
    (review r4 of session 62). In such a transaction the check names every role that is not a superuser and
    may add a trigger to the table (its owner, a holder of TRIGGER; read through the system cache, as of the
    write's lock): the INSERT's profiles are queued, score_chunk refused. In READ COMMITTED, or once no such
    role is left, the superuser's writes go on."""
    registry.deploy(db_url, "churn", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y),
                    X, Y, feature_names=CHURN_FEATURES)
    admin_login = LOGINS["admin"]
    _spy_owned_by(db_url, admin_login)
    with connect(db_url).cursor() as cur:
        sample.rescore_complaints(cur)
    su = psycopg2.connect(db_url)
    try:
        for write, n in (("INSERT INTO complaints (customer_id) VALUES (3)", 1),
                         ("SELECT * FROM pgscore.score_chunk('churn', 'customers', 'id', 'churn_score', NULL, 10)",
                          10)):
            query(su, f"SET TRANSACTION ISOLATION LEVEL {isolation}")
            query(su, "SELECT count(*) FROM customers")  # the transaction's snapshot
            query(urls["admin"], "CREATE TRIGGER spy BEFORE UPDATE ON public.customers FOR EACH ROW "
                                 "EXECUTE FUNCTION public.spy()")
            if write.startswith("INSERT"):
                su.notices.clear()
                query(su, write)
                # nothing ran as postgres (the spy's row would be the superuser transaction's own)
                assert query(su, "SELECT count(*) FROM public.spied") == [(0,)], write
                assert any("pgscore_t_admin" in m and "REPEATABLE READ" in m for m in su.notices), su.notices
                assert query(su, "SELECT entity_key, sqlstate FROM pgscore.error_queue") == [("3", "42501")]
            else:
                with pytest.raises(errors.InsufficientPrivilege, match="pgscore_t_admin"):
                    query(su, write)
            su.rollback()
            query(db_url, "DROP TRIGGER spy ON public.customers")
        # in READ COMMITTED the check reads the catalog the write runs with: no trigger, the write goes on
        query(su, "SELECT * FROM pgscore.score_chunk('churn', 'customers', 'id', 'churn_score', NULL, 10)")
        su.commit()
        # no role that is not a superuser may add a trigger: the superuser's REPEATABLE READ write goes on
        query(db_url, "REVOKE TRIGGER ON customers FROM pgscore_admin")
        query(su, f"SET TRANSACTION ISOLATION LEVEL {isolation}")
        query(su, "INSERT INTO complaints (customer_id) VALUES (4)")
        su.commit()
        assert query(db_url, "SELECT churn_score IS NOT NULL FROM customers WHERE id = 4") == [(True,)]
        assert query(db_url, "SELECT count(*) FROM pgscore.error_queue WHERE entity_key = '4'") == [(0,)]
    finally:
        su.close()


# code of the app's reached from a superuser's table other than through a trigger's function: (what the superuser
# adds to customers, the customer whose complaint is inserted; 999 has no profile: the trigger INSERTs it)
_REACHED = {
    "default": ("ALTER TABLE customers ADD COLUMN d float8 DEFAULT public.spy_f(0)", 999),
    "generated": ("ALTER TABLE customers ADD COLUMN g float8 GENERATED ALWAYS AS (public.spy_f(churn_score)) STORED",
                  3),
    "index_expression": ("CREATE INDEX customers_spied ON customers (public.spy_f(churn_score))", 3),
    "partial_index": ("CREATE INDEX customers_spied ON customers (id) WHERE public.spy_b(churn_score)", 3),
    "check": ("ALTER TABLE customers ADD CONSTRAINT spied CHECK (public.spy_b(churn_score))", 3),
    "operator": ("ALTER TABLE customers ADD CONSTRAINT spied CHECK (churn_score OPERATOR(public.===) 0)", 3),
    "domain_check": ("CREATE DOMAIN public.spied_time AS timestamptz CHECK (public.spy_b(0)); "
                     "ALTER TABLE customers ALTER COLUMN last_complaint_at TYPE public.spied_time", 3),
    "domain_owner": (None, 3),  # the app's own domain, to which it may add such a CHECK at any time
    # (session 67, h6) a superuser's function whose BEGIN ATOMIC body inserts into the app's table, in a DEFAULT:
    # that table's trigger (the app's function) ran as the superuser; the walk took the table as read (its owner's
    # code runs on no read). The app's table is made below
    "atomic_writes_apps_table": ("CREATE FUNCTION public.dba_d(float8) RETURNS float8 LANGUAGE sql "
                                 "BEGIN ATOMIC INSERT INTO public.apps_log VALUES ($1) RETURNING x; END; "
                                 "ALTER TABLE customers ADD COLUMN d float8 DEFAULT public.dba_d(0)", 999),
    # (session 68, h6) that body inserting into a superuser's own table whose DEFAULT, CHECK, index expression or
    # column's domain calls the app's function: the walk read the written table's triggers alone, and the app's
    # function ran as the superuser
    **{f"atomic_writes_a_table_whose_{what}": (
        f"CREATE TABLE public.dba_log (x {'public.apps_num' if what == 'domain' else 'float8'}{table}); {more}"
        "GRANT INSERT, SELECT ON public.dba_log TO pgscore_app; "
        "CREATE FUNCTION public.dba_d(float8) RETURNS float8 LANGUAGE sql "
        "BEGIN ATOMIC INSERT INTO public.dba_log (x) VALUES ($1) RETURNING x; END; "
        "ALTER TABLE customers ADD COLUMN d float8 DEFAULT public.dba_d(0)", 999)
       for what, table, more in (("default", ", y float8 DEFAULT public.spy_f(0)", ""),
                                 ("check", " CHECK (public.spy_b(x))", ""),
                                 ("index_expression", "", "CREATE INDEX dba_log_spied ON public.dba_log "
                                                          "(public.spy_f(x)); "),
                                 ("domain", "", ""))},
    # (review r6 of session 68) that body inserting into a superuser's partitioned table whose partition has a CHECK,
    # an index expression or a trigger of its own calling the app's function: the walk read the written table alone
    # (pg_depend's rows of the parent), not its partitions, where the row lands and whose CHECKs, indexes and row
    # triggers the write runs
    **{f"atomic_writes_a_partitioned_table_whose_partition_{what}": (
        "CREATE TABLE public.dba_log (x float8) PARTITION BY RANGE (x); "
        "CREATE TABLE public.dba_log_all PARTITION OF public.dba_log FOR VALUES FROM (MINVALUE) TO (MAXVALUE); "
        f"{more}GRANT INSERT, SELECT ON public.dba_log TO pgscore_app; "
        "CREATE FUNCTION public.dba_d(float8) RETURNS float8 LANGUAGE sql "
        "BEGIN ATOMIC INSERT INTO public.dba_log (x) VALUES ($1) RETURNING x; END; "
        "ALTER TABLE customers ADD COLUMN d float8 DEFAULT public.dba_d(0)", 999)
       for what, more in (("check", "ALTER TABLE public.dba_log_all ADD CONSTRAINT spied CHECK (public.spy_b(x)); "),
                          ("index_expression", "CREATE INDEX dba_log_spied ON public.dba_log_all (public.spy_f(x)); "),
                          ("trigger", "CREATE TRIGGER spied BEFORE INSERT ON public.dba_log_all FOR EACH ROW "
                                      "EXECUTE FUNCTION public.spy_t(); "))},
    # (session 69, h4, from session 68's reviews) that body inserting into a superuser's auto-updatable view of a
    # table whose DEFAULT, CHECK or trigger calls the app's function: the write lands in the base table and runs
    # them, and the walk read the view alone (pg_partition_tree: nothing for a view)
    **{f"atomic_writes_a_view_whose_base_table_{what}": (
        f"CREATE TABLE public.dba_log (x float8{table}); {more}"
        "CREATE VIEW public.dba_log_v AS SELECT x FROM public.dba_log; "
        "GRANT INSERT, SELECT ON public.dba_log, public.dba_log_v TO pgscore_app; "
        "CREATE FUNCTION public.dba_d(float8) RETURNS float8 LANGUAGE sql "
        "BEGIN ATOMIC INSERT INTO public.dba_log_v (x) VALUES ($1) RETURNING x; END; "
        "ALTER TABLE customers ADD COLUMN d float8 DEFAULT public.dba_d(0)", 999)
       for what, table, more in (("default", ", y float8 DEFAULT public.spy_f(0)", ""),
                                 ("check", " CHECK (public.spy_b(x))", ""),
                                 ("trigger", "", "CREATE TRIGGER spied BEFORE INSERT ON public.dba_log FOR EACH ROW "
                                                 "EXECUTE FUNCTION public.spy_t(); "))},
    # and through a view of such a view
    "atomic_writes_a_view_of_a_view_whose_base_table_check": (
        "CREATE TABLE public.dba_log (x float8 CHECK (public.spy_b(x))); "
        "CREATE VIEW public.dba_log_v0 AS SELECT x FROM public.dba_log; "
        "CREATE VIEW public.dba_log_v AS SELECT x FROM public.dba_log_v0; "
        "GRANT INSERT, SELECT ON public.dba_log, public.dba_log_v0, public.dba_log_v TO pgscore_app; "
        "CREATE FUNCTION public.dba_d(float8) RETURNS float8 LANGUAGE sql "
        "BEGIN ATOMIC INSERT INTO public.dba_log_v (x) VALUES ($1) RETURNING x; END; "
        "ALTER TABLE customers ADD COLUMN d float8 DEFAULT public.dba_d(0)", 999),
    # (session 69, r1) that body writing a superuser's view whose INSTEAD rule, or a superuser's table whose ALSO
    # rule, inserts into the app's table: the rule's action writes public.apps_log, whose trigger runs as the writer;
    # the walk followed the written relation's rules' functions and the view's base relations, not a rule's target
    **{f"atomic_writes_a_{what}_whose_rule_writes_the_apps_table": (
        f"CREATE TABLE public.dba_src (x float8); {made}"
        f"CREATE RULE dba_to_apps AS ON INSERT TO public.dba_log DO {how} INSERT INTO public.apps_log (x) "
        "VALUES (NEW.x); "
        "GRANT INSERT, SELECT ON public.dba_log TO pgscore_app; "
        "CREATE FUNCTION public.dba_d(float8) RETURNS float8 LANGUAGE sql "
        "BEGIN ATOMIC INSERT INTO public.dba_log (x) VALUES ($1); SELECT $1; END; "
        "ALTER TABLE customers ADD COLUMN d float8 DEFAULT public.dba_d(0)", 999)
       for what, made, how in (("view", "CREATE VIEW public.dba_log AS SELECT x FROM public.dba_src; ", "INSTEAD"),
                               ("table", "CREATE TABLE public.dba_log (x float8); ", "ALSO"))},
    # and a rule whose action reads a view calling the app's function (the read runs it as the writer; passed before
    # too: the walk follows the rules of the relations a body names, and their relations' rules)
    "atomic_writes_a_table_whose_rule_reads_a_view_calling_the_apps_function": (
        "CREATE TABLE public.dba_log (x float8); CREATE TABLE public.dba_log2 (x float8); "
        "CREATE VIEW public.dba_v AS SELECT public.spy_f(0) AS x; "
        "CREATE RULE dba_also AS ON INSERT TO public.dba_log DO ALSO INSERT INTO public.dba_log2 (x) "
        "SELECT v.x FROM public.dba_v AS v; "
        "GRANT INSERT, SELECT ON public.dba_log, public.dba_log2, public.dba_v TO pgscore_app; "
        "CREATE FUNCTION public.dba_d(float8) RETURNS float8 LANGUAGE sql "
        "BEGIN ATOMIC INSERT INTO public.dba_log (x) VALUES ($1); SELECT $1; END; "
        "ALTER TABLE customers ADD COLUMN d float8 DEFAULT public.dba_d(0)", 999),
    "trigger_when": ("CREATE TRIGGER spied BEFORE UPDATE ON customers FOR EACH ROW WHEN (public.spy_b(NEW.churn_score)) "
                     "EXECUTE FUNCTION suppress_redundant_updates_trigger()", 3),
    "rule": ("CREATE RULE spied AS ON UPDATE TO customers DO ALSO SELECT public.spy_f(0)", 3),  # (refused anyway)
    # a superuser's function whose BEGIN ATOMIC body calls the app's (pg_depend records the call; session 64)
    "atomic_body": ("CREATE FUNCTION public.dba_b(float8) RETURNS boolean LANGUAGE sql IMMUTABLE "
                    "BEGIN ATOMIC SELECT public.spy_b($1); END; "
                    "ALTER TABLE customers ADD CONSTRAINT spied CHECK (public.dba_b(churn_score))", 3),
    # that function in an index's expression, and in a CHECK of a superuser's domain of a column (review r1 of
    # session 64: followed as from a table's CHECK)
    "atomic_index": ("CREATE FUNCTION public.dba_f(float8) RETURNS float8 LANGUAGE sql IMMUTABLE "
                     "BEGIN ATOMIC SELECT public.spy_f($1); END; "
                     "CREATE INDEX customers_spied ON customers (public.dba_f(churn_score))", 3),
    "atomic_domain_check": ("CREATE FUNCTION public.dba_b(float8) RETURNS boolean LANGUAGE sql IMMUTABLE "
                            "BEGIN ATOMIC SELECT public.spy_b($1); END; "
                            "CREATE DOMAIN public.spied_time AS timestamptz CHECK (public.dba_b(0)); "
                            "ALTER TABLE customers ALTER COLUMN last_complaint_at TYPE public.spied_time", 3),
    # (session 66, h6: "the types a body casts to", left by session 64) a superuser's BEGIN ATOMIC body that casts to
    # the app's domain (whose owner may add a CHECK at any time: here one that calls the app's function), and to a
    # superuser's domain whose CHECK calls the app's function: the walk reached the type, named no owner of it and
    # did not read its CHECKs
    "atomic_cast_apps_domain": ("CREATE FUNCTION public.dba_b(float8) RETURNS boolean LANGUAGE sql IMMUTABLE "
                                "BEGIN ATOMIC SELECT ($1::public.apps_num)::float8 IS NOT DISTINCT FROM $1; END; "
                                "ALTER TABLE customers ADD CONSTRAINT spied CHECK (public.dba_b(churn_score))", 3),
    "atomic_cast_domain_check": ("CREATE DOMAIN public.dba_num AS float8 CHECK (public.spy_b(VALUE)); "
                                 "CREATE FUNCTION public.dba_b(float8) RETURNS boolean LANGUAGE sql IMMUTABLE "
                                 "BEGIN ATOMIC SELECT ($1::public.dba_num)::float8 IS NOT DISTINCT FROM $1; END; "
                                 "ALTER TABLE customers ADD CONSTRAINT spied CHECK (public.dba_b(churn_score))", 3),
    # (review r1 of session 66) the same reached through an array of the app's domain, and through a superuser's
    # domain over the app's domain (whose CHECK a cast to the outer one runs)
    "atomic_cast_apps_domain_array": ("CREATE FUNCTION public.dba_b(float8) RETURNS boolean LANGUAGE sql IMMUTABLE "
                                      "BEGIN ATOMIC SELECT ((ARRAY[$1]::public.apps_num[])[1])::float8 "
                                      "IS NOT DISTINCT FROM $1; END; "
                                      "ALTER TABLE customers ADD CONSTRAINT spied CHECK (public.dba_b(churn_score))", 3),
    "atomic_cast_domain_over_apps_domain": ("CREATE DOMAIN public.dba_num AS public.apps_num; "
                                            "CREATE FUNCTION public.dba_b(float8) RETURNS boolean LANGUAGE sql "
                                            "IMMUTABLE BEGIN ATOMIC SELECT ($1::public.dba_num)::float8 "
                                            "IS NOT DISTINCT FROM $1; END; "
                                            "ALTER TABLE customers ADD CONSTRAINT spied CHECK "
                                            "(public.dba_b(churn_score))", 3),
    # an index of a superuser's operator class (CREATE OPERATOR CLASS takes one) whose support function is the app's:
    # each index entry the write adds is compared by it (the scores set first: NULLs are compared by no function)
    "opclass": ("UPDATE customers SET churn_score = 0.5; CREATE OPERATOR CLASS public.spied_ops FOR TYPE float8 "
                "USING btree AS OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >, "
                "FUNCTION 1 public.spy_cmp(float8, float8); "
                "CREATE INDEX customers_spied ON customers (churn_score public.spied_ops)", 3),
    # a superuser's range type over such an operator class (its subtype_opclass): each range value made, here a
    # generated column's, compares its bounds by the app's support function; pg_depend records the range type's
    # operator class, not the column's (review r1 of session 64)
    "range_subtype": ("UPDATE customers SET churn_score = 0.5; "
                      "CREATE OPERATOR CLASS public.spied_ops FOR TYPE float8 USING btree AS OPERATOR 1 <, "
                      "OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >, "
                      "FUNCTION 1 public.spy_cmp(float8, float8); CREATE TYPE public.spied_range AS RANGE "
                      "(subtype = float8, subtype_opclass = public.spied_ops); ALTER TABLE customers ADD COLUMN r "
                      "public.spied_multirange GENERATED ALWAYS AS (public.spied_multirange("
                      "public.spied_range(0, churn_score))) STORED", 3),
    # a column of a superuser's composite type of such a range, indexed: each entry compared compares the ranges
    "composite": ("UPDATE customers SET churn_score = 0.5; "
                  "CREATE OPERATOR CLASS public.spied_ops FOR TYPE float8 USING btree AS OPERATOR 1 <, "
                  "OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >, "
                  "FUNCTION 1 public.spy_cmp(float8, float8); CREATE TYPE public.spied_range AS RANGE "
                  "(subtype = float8, subtype_opclass = public.spied_ops); CREATE TYPE public.spied_pair AS "
                  "(r public.spied_range); ALTER TABLE customers ADD COLUMN c public.spied_pair; "
                  "UPDATE customers SET c = ROW('[0,1)'); "
                  "CREATE INDEX customers_spied ON customers (c, churn_score)", 3),
}


@pytest.mark.parametrize("kind", sorted(_REACHED))
def test_a_superusers_insert_runs_no_code_of_another_role_reached_from_its_profile_tables_expressions(
        urls, db_url, kind):
    """The check named the profile table's owner and its triggers' functions' owners alone: a function of the
    app's (which the app may replace with an ALTER ROLE ... SUPERUSER at any time) called from a column's DEFAULT
    or generation expression, an index's expression or predicate, a CHECK constraint (or an operator in one), a
    domain's CHECK on a column's type (or a domain the app owns), a trigger's WHEN or a rule of a table the
    superuser owns ran as the superuser when its events were inserted. Those are named now (pg_depend of the
    table's objects on functions and operators owned by roles that are not superusers): the events are kept and
    their profiles queued; the app's own INSERT runs them as the app."""
    registry.deploy(db_url, "churn", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y),
                    X, Y, feature_names=CHURN_FEATURES)
    app = LOGINS["app"]
    query(db_url, f"GRANT CREATE ON SCHEMA public TO {app}")
    with connect(urls["app"]).cursor() as cur:  # the app's functions, each saying as whom it runs
        for name, returns in (("spy_f", "float8"), ("spy_b", "boolean")):
            cur.execute(f"CREATE FUNCTION public.{name}(float8) RETURNS {returns} LANGUAGE plpgsql IMMUTABLE AS "
                        f"$$ BEGIN RAISE NOTICE 'spied as %', current_user; RETURN {'1' if returns == 'float8' else 'true'}; "
                        "END $$")
        cur.execute("CREATE FUNCTION public.spy_eq(float8, float8) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS "
                    "$$ BEGIN RAISE NOTICE 'spied as %', current_user; RETURN true; END $$")
        cur.execute("CREATE OPERATOR public.=== (FUNCTION = public.spy_eq, LEFTARG = float8, RIGHTARG = float8)")
        cur.execute("CREATE DOMAIN public.apps_time AS timestamptz")
        cur.execute("CREATE DOMAIN public.apps_num AS float8 CHECK (public.spy_b(VALUE))")
        cur.execute("CREATE FUNCTION public.spy_cmp(float8, float8) RETURNS integer LANGUAGE plpgsql IMMUTABLE AS "
                    "$$ BEGIN RAISE NOTICE 'spied as %', current_user; RETURN btfloat8cmp($1, $2); END $$")
        # (a table of the app's with a trigger of its own: atomic_writes_apps_table)
        cur.execute("CREATE TABLE public.apps_log (x float8)")
        cur.execute("CREATE FUNCTION public.spy_t() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE NOTICE 'spied as %', current_user; RETURN NEW; END $$")
        cur.execute("CREATE TRIGGER spied BEFORE INSERT ON public.apps_log FOR EACH ROW EXECUTE FUNCTION public.spy_t()")
    with connect(db_url).cursor() as cur:
        sample.rescore_complaints(cur)
    adds, customer = _REACHED[kind]
    query(db_url, adds or "ALTER TABLE customers ALTER COLUMN last_complaint_at TYPE public.apps_time")
    if kind == "domain_owner":  # what the app could do once the superuser's column is of its domain
        query(urls["app"], "ALTER DOMAIN public.apps_time ADD CHECK (public.spy_b(0))")
    su = connect(db_url)
    try:
        su.notices.clear()
        query(su, "INSERT INTO complaints (customer_id) VALUES (%s)", (customer,))
        assert not [n for n in su.notices if "spied as postgres" in n], su.notices
        assert query(db_url, "SELECT entity_key, sqlstate FROM pgscore.error_queue") == [(str(customer), "42501")]
        (reason,), = query(db_url, "SELECT reason FROM pgscore.error_queue")
        assert app in reason, reason
        # score_chunk (pgscore score) likewise refuses before writing
        with pytest.raises(errors.InsufficientPrivilege, match=app):
            query(su, "SELECT * FROM pgscore.score_chunk('churn', 'customers', 'id', 'churn_score', NULL, 10)")
        assert not [n for n in su.notices if "spied as postgres" in n], su.notices
    finally:
        su.close()
    if kind == "rule":  # (pgscore's writes refuse a DO ALSO rule before running anything: 0A000, whoever writes)
        return
    # the app's own INSERT writes the profile, its code running as itself (a new customer, 998, where the
    # superuser's was 999)
    app_conn = connect(urls["app"])
    try:
        app_conn.notices.clear()
        query(app_conn, "INSERT INTO complaints (customer_id) VALUES (%s)", (998 if customer == 999 else customer,))
        assert any(f"spied as {app}" in n for n in app_conn.notices), app_conn.notices
        assert query(db_url, "SELECT count(*) FROM pgscore.error_queue WHERE entity_key <> %s AND sqlstate = '42501'",
                     (str(customer),)) == [(0,)]  # (998, no features, is queued as not scored: not refused)
    finally:
        app_conn.close()


def test_a_superusers_body_that_writes_its_own_table_and_reads_the_apps_is_not_refused_for_the_apps_trigger(
        urls, db_url):
    """Review r3 of session 67: h6's walk took every table of a BEGIN ATOMIC body that writes one as written (pg_depend
    records the tables a body names, not which it writes), so that a superuser's body in the profile table's DEFAULT
    that inserted into its own table what it read from the app's named the app for the app's trigger, which a read
    runs not: the superuser's events kept and every profile queued (42501). The tables it writes are read from its
    parse tree now (an INSERT's, UPDATE's, DELETE's or MERGE's target, locked ROW EXCLUSIVE); the app's table written
    is still refused (atomic_writes_apps_table above, and here the same body with its tables swapped). failed before:
    [('3', '42501')] == []."""
    registry.deploy(db_url, "churn", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y),
                    X, Y, feature_names=CHURN_FEATURES)
    app = LOGINS["app"]
    query(db_url, f"GRANT CREATE ON SCHEMA public TO {app}")
    with connect(urls["app"]).cursor() as cur:  # the app's table, with a trigger of its own
        cur.execute("CREATE TABLE public.apps_log (x float8)")
        cur.execute("INSERT INTO public.apps_log VALUES (1)")
        cur.execute("CREATE FUNCTION public.spy_t() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE NOTICE 'spied as %', current_user; RETURN NEW; END $$")
        cur.execute("CREATE TRIGGER spied BEFORE INSERT OR UPDATE OR DELETE ON public.apps_log FOR EACH ROW "
                    "EXECUTE FUNCTION public.spy_t()")
    with connect(db_url).cursor() as cur:
        sample.rescore_complaints(cur)
        cur.execute("CREATE TABLE public.dba_log (x float8)")
        cur.execute("CREATE FUNCTION public.dba_d(float8) RETURNS float8 LANGUAGE sql BEGIN ATOMIC "
                    "INSERT INTO public.dba_log SELECT max(a.x) FROM public.apps_log a RETURNING $1; END")
        cur.execute("ALTER TABLE customers ADD COLUMN d float8 DEFAULT public.dba_d(0)")
    su = connect(db_url)
    try:
        su.notices.clear()
        query(su, "INSERT INTO complaints (customer_id) VALUES (3)")
        su.commit()
        assert not [n for n in su.notices if "spied as" in n], su.notices
        assert query(db_url, "SELECT entity_key, sqlstate FROM pgscore.error_queue") == []
        assert query(db_url, "SELECT churn_score IS NOT NULL FROM customers WHERE id = 3") == [(True,)]
        # its tables swapped (the app's written, the superuser's read): named, the profile queued
        query(db_url, "CREATE OR REPLACE FUNCTION public.dba_d(float8) RETURNS float8 LANGUAGE sql BEGIN ATOMIC "
                      "INSERT INTO public.apps_log SELECT max(d.x) FROM public.dba_log d RETURNING $1; END")
        query(su, "INSERT INTO complaints (customer_id) VALUES (4)")
        su.commit()
        assert not [n for n in su.notices if "spied as postgres" in n], su.notices
        assert query(db_url, "SELECT entity_key, sqlstate FROM pgscore.error_queue") == [("4", "42501")]
        (reason,), = query(db_url, "SELECT reason FROM pgscore.error_queue")
        assert app in reason, reason
        # a data-modifying WITH of a SELECT body writes it too
        query(db_url, "DELETE FROM pgscore.error_queue")
        query(db_url, "CREATE OR REPLACE FUNCTION public.dba_d(float8) RETURNS float8 LANGUAGE sql BEGIN ATOMIC "
                      "WITH w AS (DELETE FROM public.apps_log WHERE x < 0 RETURNING x) SELECT $1 FROM w "
                      "UNION ALL SELECT $1 LIMIT 1; END")
        query(su, "INSERT INTO complaints (customer_id) VALUES (5)")
        su.commit()
        assert query(db_url, "SELECT entity_key, sqlstate FROM pgscore.error_queue") == [("5", "42501")]
    finally:
        su.close()


def test_a_superusers_body_that_writes_an_ordinary_partitioned_table_of_its_own_is_not_refused(urls, db_url):
    """Review r6 of session 68: the written table of a BEGIN ATOMIC body is followed to its partitions' DEFAULTs,
    CHECKs, indexes and triggers now (and since h6 of session 68 to its own): an ordinary table of the superuser's,
    in a schema of its own, partitioned, with an identity, a serial, a now() DEFAULT, a CHECK and an index expression
    of built-in functions and a trigger of its own, names no role: the superuser's INSERT scores its profile."""
    registry.deploy(db_url, "churn", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y),
                    X, Y, feature_names=CHURN_FEATURES)
    with connect(db_url).cursor() as cur:
        sample.rescore_complaints(cur)
        cur.execute("CREATE SCHEMA \"dba Logs\"")
        cur.execute("CREATE TABLE \"dba Logs\".log (i bigint GENERATED ALWAYS AS IDENTITY, s serial, "
                    "at timestamptz NOT NULL DEFAULT now(), x float8 CHECK (x >= 0), y text DEFAULT 'y') "
                    "PARTITION BY RANGE (x)")
        cur.execute("CREATE TABLE \"dba Logs\".log_low PARTITION OF \"dba Logs\".log FOR VALUES FROM (0) TO (10)")
        cur.execute("CREATE TABLE \"dba Logs\".log_high PARTITION OF \"dba Logs\".log "
                    "FOR VALUES FROM (10) TO (MAXVALUE)")
        cur.execute("ALTER TABLE \"dba Logs\".log_low ADD CHECK (abs(x) < 100)")
        cur.execute("CREATE INDEX ON \"dba Logs\".log (abs(x), lower(y)) WHERE x > 0")
        cur.execute("CREATE FUNCTION \"dba Logs\".stamp() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN NEW.y := upper(NEW.y); RETURN NEW; END $$")
        cur.execute("CREATE TRIGGER stamp BEFORE INSERT ON \"dba Logs\".log_low FOR EACH ROW "
                    "EXECUTE FUNCTION \"dba Logs\".stamp()")
        cur.execute("CREATE FUNCTION public.dba_d(float8) RETURNS float8 LANGUAGE sql "
                    "BEGIN ATOMIC INSERT INTO \"dba Logs\".log (x) VALUES ($1) RETURNING x; END")
        cur.execute("ALTER TABLE customers ADD COLUMN d float8 DEFAULT public.dba_d(1)")
    su = connect(db_url)
    try:
        # (999 has no profile: the trigger INSERTs it, its DEFAULT running the body; queued as not scored, its
        # features missing, not refused; the DEFAULT added ran for each customer already there)
        (logged,), = query(db_url, "SELECT count(*) FROM \"dba Logs\".log")
        query(su, "INSERT INTO complaints (customer_id) VALUES (999)")
        su.commit()
        assert query(db_url, "SELECT count(*) FROM \"dba Logs\".log") == [(logged + 1,)]
        assert query(db_url, "SELECT count(*) FROM pgscore.error_queue WHERE sqlstate = '42501'") == [(0,)]
        assert query(db_url, "SELECT count(*) FROM customers WHERE id = 999") == [(1,)]
        # the same with a partition's CHECK calling a function of a role that is no superuser: refused (42501)
        ensure_role(db_url, "pgscore_t_partition_owner")
        query(db_url, "CREATE FUNCTION public.t_positive(float8) RETURNS boolean LANGUAGE sql IMMUTABLE "
                      "RETURN $1 >= 0; ALTER FUNCTION public.t_positive(float8) OWNER TO pgscore_t_partition_owner; "
                      "ALTER TABLE \"dba Logs\".log_low ADD CHECK (public.t_positive(x))")
        query(su, "INSERT INTO complaints (customer_id) VALUES (997)")
        su.commit()
        assert query(db_url, "SELECT entity_key FROM pgscore.error_queue WHERE sqlstate = '42501'") == [("997",)]
        assert query(db_url, "SELECT count(*) FROM \"dba Logs\".log") == [(logged + 1,)]
    finally:
        su.close()


def test_a_superusers_insert_runs_no_function_of_another_role_that_a_wirings_counter_calls(urls, db_url):
    """A wiring's counters are SQL expressions over the events (attach_rescoring's p_counters), evaluated by the
    trigger's statements as the inserting role: a counter calling a function of the app's ran it as the superuser
    at the superuser's INSERT, both tables the superuser's (the check read the profile table's catalog alone).
    The functions (and operators' functions) a wiring's counters call are named too now, found by PostgreSQL's
    parse of them (the dependencies of a view of them made in schema pgscore and rolled back, once a session per
    wiring, for a superuser alone)."""
    registry.deploy(db_url, "churn", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y),
                    X, Y, feature_names=CHURN_FEATURES)
    app = LOGINS["app"]
    query(db_url, f"GRANT CREATE ON SCHEMA public TO {app}")
    query(urls["app"], "CREATE FUNCTION public.spy_f(float8) RETURNS float8 LANGUAGE plpgsql AS "
                       "$$ BEGIN RAISE NOTICE 'spied as %', current_user; RETURN 1; END $$")
    with connect(db_url).cursor() as cur:
        sample.rescore_complaints(cur, counters={**sample.COUNTERS,
                                                 "support_calls": {"add": "public.spy_f(0)::int"}})
    _superusers_event_kept_its_profile_queued_naming(db_url, app)
    app_conn = connect(urls["app"])  # the app's own INSERT runs it as the app, and rescores
    try:
        app_conn.notices.clear()
        query(app_conn, "INSERT INTO complaints (customer_id) VALUES (4)")
        assert any(f"spied as {app}" in n for n in app_conn.notices), app_conn.notices
        assert query(db_url, "SELECT churn_score IS NOT NULL FROM customers WHERE id = 4") == [(True,)]
    finally:
        app_conn.close()


# a counter reaching a function of the app's other than by naming it: (what the superuser makes, the counter)
_COUNTER_REACHES = {
    # the app's operator, schema-qualified (its function the app's)
    "operator": (None, "CASE WHEN 0::float8 OPERATOR(public.===) 0 THEN 1 ELSE 0 END"),
    # a superuser's function whose BEGIN ATOMIC body calls the app's
    "atomic_body": ("CREATE FUNCTION public.dba_f(float8) RETURNS float8 LANGUAGE sql BEGIN ATOMIC "
                    "SELECT public.spy_f($1); END", "public.dba_f(0)::int"),
    # a superuser's view whose column calls the app's function
    "view": ("CREATE VIEW public.dba_v AS SELECT public.spy_f(0) AS x", "(SELECT x::int FROM public.dba_v)"),
    # a superuser's view over such a view (review r1 of session 64)
    "view_of_view": ("CREATE VIEW public.dba_v AS SELECT public.spy_f(0) AS x; "
                     "CREATE VIEW public.dba_w AS SELECT x FROM public.dba_v", "(SELECT x::int FROM public.dba_w)"),
}


@pytest.mark.parametrize("kind", sorted(_COUNTER_REACHES))
def test_a_superusers_insert_runs_no_function_of_another_role_that_a_wirings_counter_reaches(urls, db_url, kind):
    """A counter's expression reaching the app's function through an operator named OPERATOR(public.===), a
    superuser's function whose BEGIN ATOMIC body calls it (pg_depend records that call, as a view's), or a
    superuser's view (session 64's review of the check): the superuser's INSERT must not run it; the events are
    kept and their profiles queued, naming the app."""
    registry.deploy(db_url, "churn", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y),
                    X, Y, feature_names=CHURN_FEATURES)
    app = LOGINS["app"]
    query(db_url, f"GRANT CREATE ON SCHEMA public TO {app}")
    query(urls["app"], "CREATE FUNCTION public.spy_f(float8) RETURNS float8 LANGUAGE plpgsql AS "
                       "$$ BEGIN RAISE NOTICE 'spied as %', current_user; RETURN 1; END $$")
    query(urls["app"], "CREATE FUNCTION public.spy_eq(float8, float8) RETURNS boolean LANGUAGE plpgsql AS "
                       "$$ BEGIN RAISE NOTICE 'spied as %', current_user; RETURN true; END $$")
    query(urls["app"], "CREATE OPERATOR public.=== (FUNCTION = public.spy_eq, LEFTARG = float8, RIGHTARG = float8)")
    query(db_url, f"REVOKE CREATE ON SCHEMA public FROM {app}")  # (else named for the overloads it may add)
    makes, counter = _COUNTER_REACHES[kind]
    if makes:
        query(db_url, makes)
    with connect(db_url).cursor() as cur:
        sample.rescore_complaints(cur, counters={**sample.COUNTERS, "support_calls": {"add": counter}})
    _superusers_event_kept_its_profile_queued_naming(db_url, app)


def test_a_superusers_insert_runs_no_support_function_of_another_role_on_an_index_of_one_partition(urls, db_url):
    """An index on one partition of a partitioned profile table (not on its parent), of a superuser's operator class
    whose support function is the app's, compares each entry the superuser's UPDATE of that partition adds (review
    r1 of session 64: the partitions' indexes are read as the parent's): the events are kept, their profiles queued
    naming the app."""
    registry.deploy(db_url, "parted", make_pipeline(StandardScaler(), LogisticRegression()).fit(X[:, :2], Y),
                    X[:, :2], Y, feature_names=["t", "x"])
    app = LOGINS["app"]
    query(db_url, f"GRANT CREATE ON SCHEMA public TO {app}")
    query(urls["app"], "CREATE FUNCTION public.spy_cmp(float8, float8) RETURNS integer LANGUAGE plpgsql IMMUTABLE AS "
                       "$$ BEGIN RAISE NOTICE 'spied as %', current_user; RETURN btfloat8cmp($1, $2); END $$")
    query(db_url, f"REVOKE CREATE ON SCHEMA public FROM {app}")
    query(db_url, """
        CREATE TABLE prof (id int PRIMARY KEY, cnt int NOT NULL DEFAULT 0, t float8 NOT NULL DEFAULT 100, x float8,
                           score float8 DEFAULT 0.5, scored_at timestamptz) PARTITION BY RANGE (id);
        CREATE TABLE prof_lo PARTITION OF prof FOR VALUES FROM (0) TO (10);
        CREATE TABLE prof_hi PARTITION OF prof FOR VALUES FROM (10) TO (100);
        INSERT INTO prof (id, x) SELECT g, g / 10.0 - 1 FROM generate_series(1, 20) g;
        CREATE OPERATOR CLASS public.spied_ops FOR TYPE float8 USING btree AS OPERATOR 1 <, OPERATOR 2 <=,
          OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >, FUNCTION 1 public.spy_cmp(float8, float8);
        CREATE INDEX prof_hi_spied ON prof_hi (score public.spied_ops);
        CREATE TABLE ev (id int);
        SELECT pgscore.attach_rescoring('ev', 'prof', 'id', 'parted', 'score', '{"cnt": "count"}');""")
    su = connect(db_url)
    try:
        su.notices.clear()
        query(su, "INSERT INTO ev VALUES (15)")
        assert not [n for n in su.notices if "spied as postgres" in n], su.notices
        assert query(db_url, "SELECT entity_key, sqlstate FROM pgscore.error_queue") == [("15", "42501")]
        (reason,), = query(db_url, "SELECT reason FROM pgscore.error_queue")
        assert app in reason, reason
    finally:
        su.close()


def test_a_superusers_insert_is_not_refused_for_code_of_superusers_and_reads_of_another_roles_tables(
        urls, db_url):
    """What a plain DBA set-up has, run by superusers' code alone, must not be refused (review r1 of session 64):
    extensions' operator classes on the profile table's indexes (btree_gist, pg_trgm's gin and gist; their support
    functions are the extension's, a superuser's), a built-in range column indexed, and a counter reading a
    superuser's view over the app's partitioned table and the app's materialized view, whose reading runs none of
    the app's code (the app's plain table's owner was not named; its partitioned table's and materialized view's
    were: the events kept, the profile queued with 42501)."""
    registry.deploy(db_url, "churn", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y),
                    X, Y, feature_names=CHURN_FEATURES)
    app = LOGINS["app"]
    query(db_url, "CREATE EXTENSION IF NOT EXISTS btree_gist; CREATE EXTENSION IF NOT EXISTS pg_trgm; "
                  "ALTER TABLE customers ADD COLUMN note text DEFAULT 'x', ADD COLUMN seen tstzrange; "
                  "CREATE INDEX ON customers USING gist (id, churn_score); "
                  "CREATE INDEX ON customers USING gin (note gin_trgm_ops); "
                  "CREATE INDEX ON customers USING gist (note gist_trgm_ops); "
                  "CREATE INDEX ON customers USING gist (seen)")
    query(db_url, f"CREATE TABLE public.apps_part (n int) PARTITION BY RANGE (n); "
                  f"CREATE TABLE public.apps_part_0 PARTITION OF public.apps_part FOR VALUES FROM (0) TO (10); "
                  f"CREATE MATERIALIZED VIEW public.apps_mat AS SELECT 1 AS n; "
                  f"ALTER TABLE public.apps_part OWNER TO {app}; ALTER TABLE public.apps_part_0 OWNER TO {app}; "
                  f"ALTER MATERIALIZED VIEW public.apps_mat OWNER TO {app}; "
                  "CREATE VIEW public.dba_v AS SELECT (SELECT count(*) FROM public.apps_part) "
                  "+ (SELECT count(*) FROM public.apps_mat) AS x")
    with connect(db_url).cursor() as cur:
        sample.rescore_complaints(cur, counters={**sample.COUNTERS, "support_calls": {
            "add": "(SELECT x::int FROM public.dba_v) + (SELECT count(*)::int FROM public.apps_mat)"}})
    query(db_url, "INSERT INTO complaints (customer_id) VALUES (3)")
    assert query(db_url, "SELECT count(*) FROM pgscore.error_queue") == [(0,)], \
        query(db_url, "SELECT reason FROM pgscore.error_queue")
    assert query(db_url, "SELECT churn_score IS NOT NULL FROM customers WHERE id = 3") == [(True,)]
    # the app's view in its place is named (its owner may replace it)
    query(db_url, f"ALTER VIEW public.dba_v OWNER TO {app}")
    query(db_url, "INSERT INTO complaints (customer_id) VALUES (4)")
    assert query(db_url, "SELECT entity_key, sqlstate FROM pgscore.error_queue") == [("4", "42501")]


def test_a_superusers_insert_runs_no_cast_of_another_roles_type_that_a_wirings_counter_assigns(urls, db_url):
    """A counter's value is assigned to its profile column: where the events' column is of a type of the app's, a
    cast the app made from it (CREATE CAST ... WITH FUNCTION, as its type's owner may, at any time) ran the app's
    function as the superuser at the superuser's INSERT, both tables the superuser's: the counters' view held the
    expression alone, not its cast, and the check named the owners of domains alone. The owner of a type of the
    counters' values (or of the profile table's columns) that is not a superuser is named now (review r2 of
    session 63)."""
    registry.deploy(db_url, "churn", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y),
                    X, Y, feature_names=CHURN_FEATURES)
    app = LOGINS["app"]
    query(db_url, f"GRANT CREATE ON SCHEMA public TO {app}")
    query(urls["app"], "CREATE TYPE public.mood AS ENUM ('low', 'high')")
    query(urls["app"], "CREATE FUNCTION public.mood_num(public.mood) RETURNS float8 LANGUAGE plpgsql AS "
                       "$$ BEGIN RAISE NOTICE 'spied as %', current_user; RETURN 1; END $$")
    query(urls["app"], "CREATE CAST (public.mood AS float8) WITH FUNCTION public.mood_num(public.mood) AS ASSIGNMENT")
    query(db_url, "ALTER TABLE complaints ADD COLUMN mood public.mood DEFAULT 'low'")
    with connect(db_url).cursor() as cur:
        sample.rescore_complaints(cur, counters={**sample.COUNTERS, "support_calls": {"last": "e.mood"}})
    _superusers_event_kept_its_profile_queued_naming(db_url, app)


def test_a_superusers_insert_is_refused_where_a_role_may_add_an_overload_of_a_function_its_counters_call(urls, db_url):
    """A counter calling a superuser's function public.f(float8) as public.f(0): a role that may CREATE in public
    may add public.f(integer), a closer match, after the session read what the counters call (once a session per
    wiring); the trigger's plan, analysed again (an ANALYZE of the event table, autovacuum's say), then called the
    app's function as the superuser (review r2 of session 63). Such a role is named, with why."""
    registry.deploy(db_url, "churn", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y),
                    X, Y, feature_names=CHURN_FEATURES)
    app = LOGINS["app"]
    query(db_url, "CREATE FUNCTION public.dba_f(float8) RETURNS float8 LANGUAGE plpgsql AS "
                  "$$ BEGIN RAISE NOTICE 'dba as %', current_user; RETURN 1; END $$")
    with connect(db_url).cursor() as cur:
        sample.rescore_complaints(cur, counters={**sample.COUNTERS,
                                                 "support_calls": {"add": "public.dba_f(0)::int"}})
    su = connect(db_url)
    try:
        query(su, "INSERT INTO complaints (customer_id) VALUES (3)")  # nobody may add one: written
        assert query(db_url, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
        query(db_url, f"GRANT CREATE ON SCHEMA public TO {app}")
        query(su, "INSERT INTO complaints (customer_id) VALUES (4)")
        assert query(db_url, "SELECT entity_key, sqlstate FROM pgscore.error_queue") == [("4", "42501")]
        (reason,), = query(db_url, "SELECT reason FROM pgscore.error_queue")
        assert f"{app} (may create a function in schema public" in reason, reason
        query(urls["app"], "CREATE FUNCTION public.dba_f(integer) RETURNS float8 LANGUAGE plpgsql AS "
                           "$$ BEGIN RAISE NOTICE 'spied as %', current_user; RETURN 1; END $$")
        query(su, "ANALYZE complaints")
        su.notices.clear()
        query(su, "INSERT INTO complaints (customer_id) VALUES (5)")
        assert not [n for n in su.notices if "spied as postgres" in n], su.notices
    finally:
        su.close()


def test_a_superusers_insert_whose_wirings_counters_cannot_be_read_is_queued_not_written(urls, db_url):
    """What a wiring's counters call is read from a view of them made (and rolled back) at a superuser's first write
    of the session: where it cannot be made (here a DBA's event trigger refuses every CREATE VIEW), their code is
    unknown, and the superuser does not write: its events are queued, the reason saying why; nothing is cached,
    so once the view can be made the superuser's next INSERT rescores."""
    registry.deploy(db_url, "churn", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y),
                    X, Y, feature_names=CHURN_FEATURES)
    with connect(db_url).cursor() as cur:
        sample.rescore_complaints(cur)
    query(db_url, "CREATE FUNCTION public.no_views() RETURNS event_trigger LANGUAGE plpgsql AS "
                  "$$ BEGIN RAISE EXCEPTION 'no views here'; END $$")
    query(db_url, "CREATE EVENT TRIGGER no_views ON ddl_command_start WHEN TAG IN ('CREATE VIEW') "
                  "EXECUTE FUNCTION public.no_views()")
    su = connect(db_url)
    try:
        query(su, "INSERT INTO complaints (customer_id) VALUES (3)")
        (key, state, reason), = query(db_url, "SELECT entity_key, sqlstate, reason FROM pgscore.error_queue")
        assert (key, state) == ("3", "42501") and "could not be read" in reason and "no views here" in reason, reason
        query(db_url, "DROP EVENT TRIGGER no_views")
        query(su, "INSERT INTO complaints (customer_id) VALUES (4)")
        assert query(db_url, "SELECT churn_score IS NOT NULL FROM customers WHERE id = 4") == [(True,)]
        assert query(db_url, "SELECT count(*) FROM pgscore.error_queue WHERE entity_key = '4'") == [(0,)]
    finally:
        su.close()


def test_a_superusers_insert_is_not_refused_for_a_row_security_policy_it_bypasses(urls, db_url):
    """A superuser bypasses row-level security (FORCE ROW LEVEL SECURITY too: it binds the table's owner alone), so
    a policy's function of another role's never runs in its write: the check does not name it, and the write goes
    on (the policy's function is not called)."""
    registry.deploy(db_url, "churn", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y),
                    X, Y, feature_names=CHURN_FEATURES)
    app = LOGINS["app"]
    query(db_url, f"GRANT CREATE ON SCHEMA public TO {app}")
    query(urls["app"], "CREATE FUNCTION public.spy_b(float8) RETURNS boolean LANGUAGE plpgsql AS "
                       "$$ BEGIN RAISE NOTICE 'spied as %', current_user; RETURN true; END $$")
    with connect(db_url).cursor() as cur:
        sample.rescore_complaints(cur)
    query(db_url, "ALTER TABLE customers ENABLE ROW LEVEL SECURITY; ALTER TABLE customers FORCE ROW LEVEL SECURITY; "
                  "CREATE POLICY spied ON customers USING (public.spy_b(churn_score)) "
                  "WITH CHECK (public.spy_b(churn_score))")
    su = connect(db_url)
    try:
        su.notices.clear()
        query(su, "INSERT INTO complaints (customer_id) VALUES (3)")
        assert not [n for n in su.notices if "spied as" in n], su.notices
        assert query(db_url, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
        assert query(db_url, "SELECT churn_score IS NOT NULL FROM customers WHERE id = 3") == [(True,)]
    finally:
        su.close()


def test_a_superusers_score_table_runs_no_code_of_a_tables_owner(urls, db_url):
    """score_table and score_chunk (pgscore score) update the table as their caller: a superuser's call (the CLI's
    default connection to the embedded cluster is one) ran the triggers of a table the app owns as the superuser.
    Refused now before anything is written (42501), naming the table, the role and the way out; the owner's call
    scores it."""
    registry.deploy(db_url, "churn", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y),
                    X, Y, feature_names=CHURN_FEATURES)
    app = _app_owns_customers_with_a_spy(db_url, urls)
    for call in ("CALL pgscore.score_table('churn', 'customers', 'id', 'churn_score')",
                 "SELECT * FROM pgscore.score_chunk('churn', 'customers', 'id', 'churn_score', NULL, 10)"):
        with pytest.raises(errors.InsufficientPrivilege) as e:
            query(db_url, call)
        said = str(e.value) + (e.value.diag.message_hint or "")
        assert "customers" in said and app in said and "superuser" in said and "SET ROLE" in said, said
    assert query(db_url, "SELECT count(*) FROM public.spied") == [(0,)]
    assert query(db_url, "SELECT count(*) FROM customers WHERE churn_score IS NOT NULL") == [(0,)]
    run = pgscore_cli("score", "--model", "churn", "--table", "customers", "--key", "id", "--into", "churn_score",
                      "--db", db_url)
    assert run.returncode != 0 and app in run.stderr and "Traceback" not in run.stderr, run.stderr
    assert query(db_url, "SELECT count(*) FROM public.spied") == [(0,)]
    # as the owner (SET ROLE, as the hint says), it scores, its trigger running as itself
    su = connect(db_url)
    query(su, f"SET ROLE {app}")
    query(su, "CALL pgscore.score_table('churn', 'customers', 'id', 'churn_score')")
    su.close()
    assert query(db_url, "SELECT count(*) FROM customers WHERE churn_score IS NULL") == [(0,)]
    assert query(db_url, "SELECT DISTINCT who::text FROM public.spied") == [(app,)]


def test_a_superusers_pgscore_score_of_a_view_runs_no_code_of_its_owner(urls, db_url):
    """pgscore score counted the rows of --table before score_chunk's check: a view the app owns, whose column
    calls a function of the app's, ran that function as the superuser (once a row; an ALTER ROLE ... SUPERUSER in
    it would make the app one; review r4 of session 62). A view takes no unique key, so score_chunk refuses it
    anyway: it is refused before anything is read now (exit 1, 42P10, the view named)."""
    registry.deploy(db_url, "churn", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y),
                    X, Y, feature_names=CHURN_FEATURES)
    app = LOGINS["app"]
    query(db_url, "CREATE TABLE public.spied (who name)")
    query(db_url, "GRANT INSERT, SELECT ON public.spied TO PUBLIC")
    query(db_url, f"GRANT CREATE ON SCHEMA public TO {app}")
    with connect(urls["app"]).cursor() as cur:
        cur.execute("CREATE FUNCTION public.spyf() RETURNS int LANGUAGE plpgsql AS "
                    "$$ BEGIN INSERT INTO public.spied VALUES (current_user); RETURN 1; END $$")
        cur.execute("CREATE VIEW public.cv AS SELECT c.*, public.spyf() AS x FROM customers c")
    for where in (None, "id > 3"):
        run = pgscore_cli("score", "--model", "churn", "--table", "cv", "--key", "id", "--into", "churn_score",
                          "--db", db_url, *(("--where", where) if where else ()))
        assert query(db_url, "SELECT count(*) FROM public.spied") == [(0,)], where  # nothing ran as postgres
        assert run.returncode == 1 and "cv" in run.stderr and "view" in run.stderr, run
        assert "Traceback" not in run.stderr, run.stderr


def test_a_login_granted_nothing_cannot_hold_up_deploys_and_retires(urls, db_url, monkeypatch):
    """Deploys and retires of one model queue on a lock of pgscore's own (pgscore.model_locks, migration 0043),
    which only pgscore_admin may take. On an advisory lock (hashtext('pgscore.models'), hashtext(name)), which
    any login may take, a login granted nothing held every deploy and retire of the model for ever."""
    est = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y)
    registry.deploy(db_url, "churn", est, X, Y, feature_names=CHURN_FEATURES)
    ensure_role(db_url, "pgscore_t_nobody", login=True)
    nobody = connect(db_url.replace("postgresql://postgres@", "postgresql://pgscore_t_nobody@"))
    try:
        query(nobody, "SELECT pg_advisory_lock(hashtext('pgscore.models'), hashtext('churn'))")
        with pytest.raises(errors.InsufficientPrivilege):
            query(nobody, "SELECT * FROM pgscore.model_locks FOR UPDATE")
        monkeypatch.setenv("PGOPTIONS", "-c lock_timeout=5s")  # (the deploy's own connection)
        r = registry.deploy(urls["admin"], "churn", est, X, Y, feature_names=CHURN_FEATURES)
        assert r["version"] == 2
        query(urls["admin"], "SET lock_timeout = '5s'; SELECT pgscore.retire('churn', 'held')")
    finally:
        nobody.close()
    assert query(db_url, "SELECT action, reason FROM pgscore.deployments WHERE model_name = 'churn' "
                         "ORDER BY deployment_id")[-1] == ("retire", "held")
    # the app, which may read the registry, may not take the lock either
    for sql_text in ("SELECT * FROM pgscore.model_locks FOR KEY SHARE",
                     "INSERT INTO pgscore.model_locks (name) VALUES ('churn')",
                     "LOCK TABLE pgscore.model_locks IN ROW SHARE MODE"):
        app = psycopg2.connect(urls["app"])  # in a transaction, as LOCK TABLE needs
        try:
            with pytest.raises(errors.InsufficientPrivilege), app.cursor() as cur:
                cur.execute(sql_text)
        finally:
            app.close()


def test_admin_writes_shadows_through_set_shadow_and_clear_shadow_alone(urls, db_url):
    """pgscore_admin could INSERT into pgscore.shadows directly, past set_shadow's checks (a version the server
    cannot load, or the wired profile tables cannot feed): 42501 now; set_shadow and clear_shadow, which run as
    their owner, write it and name the admin's role. The app's INSERT counts a failing shadow's statements."""
    v1 = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y)
    registry.deploy(db_url, "churn", v1, X, Y, feature_names=CHURN_FEATURES)
    registry.deploy(db_url, "churn", v1, X, Y, feature_names=CHURN_FEATURES, activate=False)
    registry.deploy(db_url, "churn", v1, X, Y, feature_names=[*CHURN_FEATURES[:11], "loyalty"], activate=False,
                    allow_feature_change=True)  # v3: a column the profile table lacks
    with connect(db_url).cursor() as cur:
        sample.rescore_complaints(cur)
    admin = connect(urls["admin"])
    with pytest.raises(errors.InsufficientPrivilege):
        query(admin, "INSERT INTO pgscore.shadows (model_name, model_id, action) SELECT name, model_id, 'start' "
                     "FROM pgscore.models WHERE version = 2")
    assert query(admin, "SELECT pgscore.set_shadow('churn', 2, 'try it')")[0][0] > 0
    assert query(admin, "SELECT version, set_by FROM pgscore.shadow_versions") == [(2, LOGINS["admin"])]
    assert query(admin, "SELECT pgscore.clear_shadow('churn')") == [(1,)]
    assert query(admin, "SELECT changed_by FROM pgscore.shadows ORDER BY shadow_id") == [(LOGINS["admin"],)] * 2
    # a shadow that fails where the app inserts events: the statement stands, the failure is counted
    query(admin, "SELECT pgscore.set_shadow('churn', 3, p_force => true)")
    app = connect(urls["app"])
    query(app, "INSERT INTO complaints (customer_id) VALUES (3)")
    assert query(db_url, "SELECT statements, profiles FROM pgscore.shadow_failures") == [(1, 1)]
    admin.close()
    app.close()


def test_admin_activating_a_shadow_appends_its_stop_through_the_trigger_as_its_owner(urls, db_url):
    """pgscore_admin may not INSERT into pgscore.shadows; its activate of a version scored in shadow appends the
    shadow's stop all the same (end_shadow_made_live runs as its owner, 0121), naming the admin's login."""
    v1 = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y)
    registry.deploy(db_url, "churn", v1, X, Y, feature_names=CHURN_FEATURES)
    registry.deploy(db_url, "churn", v1, X, Y, feature_names=CHURN_FEATURES, activate=False)
    admin = connect(urls["admin"])
    query(admin, "SELECT pgscore.set_shadow('churn', 2)")
    query(admin, "SELECT pgscore.activate('churn', 2, 'better')")
    assert query(admin, "SELECT action, reason, changed_by FROM pgscore.shadows ORDER BY shadow_id") == [
        ("start", None, LOGINS["admin"]), ("stop", "made live by activate", LOGINS["admin"])]
    assert query(admin, "SELECT action FROM pgscore.deployments ORDER BY deployment_id") == [("deploy",), ("activate",)]
    admin.close()


def test_admin_wires_rescoring_through_attach_and_detach_alone_and_updates_no_wiring(urls, db_url):
    """pgscore_admin held UPDATE on pgscore.rescoring, which no function of pgscore needs but for the row locks of
    detach_rescoring and forget_rescoring (SELECT ... FOR UPDATE takes it): an UPDATE by hand changed a wiring's
    counters (SQL run by every role that inserts events, a subscription's apply worker among them), tables or model
    past attach_rescoring's checks. 42501 now (the two functions delete the row first, which locks it, as DELETE
    allows); attach, detach and forget as the admin work as before, and the app and the reader read what they did."""
    v1 = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y)
    registry.deploy(db_url, "churn", v1, X, Y, feature_names=CHURN_FEATURES)
    admin = connect(urls["admin"])
    with admin.cursor() as cur:
        rid = sample.rescore_complaints(cur)
    for forged in ("UPDATE pgscore.rescoring SET counters = '{\"support_calls\": {\"add\": \"100\"}}'",
                   "UPDATE pgscore.rescoring SET profile_table = 'public.complaints'",
                   "SELECT 1 FROM pgscore.rescoring FOR UPDATE"):  # (and no lock a role granted less may hold)
        with pytest.raises(errors.InsufficientPrivilege):
            query(admin, forged)
    app = connect(urls["app"])
    query(app, "INSERT INTO complaints (customer_id) VALUES (3)")
    assert query(db_url, "SELECT support_calls > 0, churn_score IS NOT NULL FROM customers WHERE id = 3") == [
        (True, True)]
    for role in ("app", "bi"):
        with pytest.raises(errors.InsufficientPrivilege):
            query(connect(urls[role]), "UPDATE pgscore.rescoring SET strict = true")
    # detach as the admin (its row deleted, its trigger dropped: dropping it takes the event table's owner)
    query(db_url, f"ALTER TABLE complaints OWNER TO {LOGINS['admin']}")
    assert query(admin, "SELECT pgscore.detach_rescoring('complaints')") == [(1,)]
    assert query(db_url, "SELECT count(*) FROM pgscore.rescoring") == [(0,)]
    assert query(db_url, "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'complaints'::regclass AND NOT "
                         "tgisinternal") == [(0,)]
    # forget a wiring whose trigger is gone, as the admin
    with admin.cursor() as cur:
        rid = sample.rescore_complaints(cur)
    trigger = query(db_url, "SELECT trigger_name FROM pgscore.rescoring")[0][0]
    query(admin, f'DROP TRIGGER "{trigger}" ON complaints')
    query(admin, "SELECT pgscore.forget_rescoring(%s)", (rid,))
    assert query(db_url, "SELECT count(*) FROM pgscore.rescoring") == [(0,)]
    with pytest.raises(errors.UndefinedObject):
        query(admin, "SELECT pgscore.forget_rescoring(%s)", (rid,))
    admin.close()
    app.close()


def test_the_app_counts_a_shadows_failures_through_pgscore_alone(urls, db_url):
    """pgscore_app held INSERT and UPDATE on pgscore.shadow_failures, which the rescoring trigger and score_table
    count into as it: any app login could forge or zero the counts pgscore status reports (or another backend's).
    It counts through pgscore.count_shadow_failure now, which runs as its owner, adds to this backend's row of a
    version scored in shadow, and never lowers a count; the table's INSERT and UPDATE are 42501."""
    v1 = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y)
    registry.deploy(db_url, "churn", v1, X, Y, feature_names=CHURN_FEATURES)
    registry.deploy(db_url, "churn", v1, X, Y, feature_names=[*CHURN_FEATURES[:11], "loyalty"], activate=False,
                    allow_feature_change=True)  # v2: a column the profile table lacks
    registry.deploy(db_url, "churn", v1, X, Y, feature_names=CHURN_FEATURES, activate=False)  # v3, no shadow
    with connect(db_url).cursor() as cur:
        sample.rescore_complaints(cur)
    query(db_url, "SELECT pgscore.set_shadow('churn', 2, p_force => true)")
    app = connect(urls["app"])
    try:
        query(app, "INSERT INTO complaints (customer_id) VALUES (3)")  # the shadow fails: counted
        query(app, "INSERT INTO complaints (customer_id) VALUES (4), (5)")
        assert query(app, "SELECT statements, profiles FROM pgscore.shadow_failures") == [(2, 3)]  # (status reads it)
        assert not [n for n in app.notices if "not counted" in n], app.notices
        for forged in ("UPDATE pgscore.shadow_failures SET statements = 0, profiles = 0",
                       "INSERT INTO pgscore.shadow_failures (model_id, relation, sqlstate, backend_pid, statements, "
                       "profiles, first_at, last_at, last_message) SELECT model_id, 'public.customers', '42703', 1, "
                       "1000, 1000, now(), now(), 'forged' FROM pgscore.models WHERE version = 2",
                       "DELETE FROM pgscore.shadow_failures"):
            with pytest.raises(errors.InsufficientPrivilege):
                query(app, forged)
        # the function: this backend's row, of a version scored in shadow, never lowered
        (v2, v3), = query(app, "SELECT min(model_id), max(model_id) FROM pgscore.models WHERE version IN (2, 3)")
        call = "SELECT pgscore.count_shadow_failure(%s, 'public.customers', '42703', %s, 'why')"
        assert query(app, call, (v3, 5)) == [(False,)]  # not a shadow: nothing counted
        with pytest.raises(errors.InvalidParameterValue, match="must not be negative"):
            query(app, call, (v2, -10))
        assert query(app, call, (v2, 0)) == [(True,)]
        assert query(db_url, "SELECT statements, profiles FROM pgscore.shadow_failures") == [(3, 3)]
        assert query(db_url, "SELECT count(*) FROM pgscore.shadow_failures WHERE backend_pid = %s",
                     (app.get_backend_pid(),)) == [(1,)]
        # a table the caller does not write (may not UPDATE, so scores nothing into): refused, nothing counted (any
        # app login could make a candidate version look broken in a table it cannot even read; the trial of
        # session 62). Unqualified, schema-qualified and quoted names alike
        query(db_url, "CREATE TABLE public.secret (k int)")
        query(db_url, "CREATE TABLE public.\"Sec ret\" (k int)")
        query(db_url, "GRANT SELECT ON public.\"Sec ret\" TO pgscore_app")  # (read, not written)
        for relation in ("public.secret", "secret", 'public."Sec ret"', "public.nosuch"):
            with pytest.raises(errors.InsufficientPrivilege, match="count_shadow_failure"):
                query(app, "SELECT pgscore.count_shadow_failure(%s, %s, 'P0001', 123456789, 'forged')", (v2, relation))
        assert query(db_url, "SELECT statements, profiles FROM pgscore.shadow_failures") == [(3, 3)]
        # its own table by a name resolved on the function's search_path alone (0137: 0134 took any schema's
        # table of the name): unqualified, refused; schema-qualified, counted under that name
        with pytest.raises(errors.InsufficientPrivilege, match="schema-qualified"):
            query(app, "SELECT pgscore.count_shadow_failure(%s, 'customers', '42703', 1, 'why')", (v2,))
        assert query(app, "SELECT pgscore.count_shadow_failure(%s, 'public.\"customers\"', '42703', 1, 'why')",
                     (v2,)) == [(True,)]
        assert query(db_url, "SELECT relation, statements, profiles FROM pgscore.shadow_failures") == [
            ("public.customers", 4, 4)]
    finally:
        app.close()


def test_no_shadow_failure_is_counted_through_a_temporary_or_other_schemas_table_of_a_profile_tables_name(
        urls, db_url):
    """0134 counted a shadow's failures in a table the caller may UPDATE, found by its name in any schema: a role
    that may not write public.customers (the admin: SELECT and TRIGGER) made a temporary table customers (or was
    granted UPDATE on another schema's customers) and counted 123,456,789 failures under 'customers', which
    pgscore status prints as the failures of customers. The name is resolved exactly (search_path pg_catalog,
    pg_temp: schema-qualified, as the rescoring trigger and score_table give it), a temporary table is refused,
    and the count is keyed on the table's schema-qualified name; the trigger and score_table count as before."""
    v1 = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y)
    registry.deploy(db_url, "churn", v1, X, Y, feature_names=CHURN_FEATURES)
    registry.deploy(db_url, "churn", v1, X, Y, feature_names=[*CHURN_FEATURES[:11], "loyalty"], activate=False,
                    allow_feature_change=True)  # v2: a column the profile table lacks
    with connect(db_url).cursor() as cur:
        sample.rescore_complaints(cur)
    query(db_url, "SELECT pgscore.set_shadow('churn', 2, p_force => true)")
    (v2,), = query(db_url, "SELECT model_id FROM pgscore.models WHERE version = 2")
    query(db_url, "CREATE SCHEMA other")
    query(db_url, "CREATE TABLE other.customers (id int)")
    query(db_url, "GRANT USAGE ON SCHEMA other TO pgscore_admin")
    query(db_url, "GRANT SELECT, UPDATE ON other.customers TO pgscore_admin")
    admin, app = connect(urls["admin"]), connect(urls["app"])
    try:
        query(admin, "CREATE TEMP TABLE customers (id int)")
        call = "SELECT pgscore.count_shadow_failure(%s, %s, 'P0001', 123456789, 'forged')"
        for relation in ("customers", "pg_temp.customers", "public.customers"):
            with pytest.raises(errors.InsufficientPrivilege, match="count_shadow_failure"):
                query(admin, call, (v2, relation))
        assert query(db_url, "SELECT count(*) FROM pgscore.shadow_failures") == [(0,)]
        # another schema's table it writes: counted under that table's name, apart from public.customers
        assert query(admin, call, (v2, "other.customers")) == [(True,)]
        assert query(db_url, "SELECT relation, profiles FROM pgscore.shadow_failures") == [
            ("other.customers", 123456789)]
        # the trigger and score_table count what they fail to score, under the names they give
        query(app, "INSERT INTO complaints (customer_id) VALUES (3)")
        query(app, "CALL pgscore.score_table('churn', 'customers', 'id', 'churn_score', 20)")
        assert query(db_url, "SELECT relation, sum(statements)::int, sum(profiles)::int FROM pgscore.shadow_failures "
                             "WHERE relation <> 'other.customers' GROUP BY 1") == [("public.customers", 4, 51)]
    finally:
        admin.close()
        app.close()


def test_a_backup_login_granted_pg_read_all_data_dumps_with_bypassrls_or_row_security_on(db_url, cluster):
    """pgscore.replicated_pending has row-level security (only a logical replication worker puts a row there), and
    pg_dump refuses a table whose policies would apply to its role: a backup login granted pg_read_all_data alone
    fails on it, naming the table (docs/sql.md, "Moving a database"; docs/operations.md). With
    --enable-row-security it dumps every row (the read policy is USING (true)); with BYPASSRLS, plainly. A
    superuser restores either, the held-back row included."""
    login = "pgscore_t_backup"
    ensure_role(db_url, login, login=True)
    query(db_url, f"GRANT pg_read_all_data TO {login}")
    query(db_url, "INSERT INTO pgscore.replicated_pending (rescoring_id, entity_key, event, subscription) "
                  "VALUES (1, '7', '{\"customer_id\": 7}', 'sub')")  # as the superuser: no policy applies
    src = query(db_url, "SELECT current_database()")[0][0]
    env = {"PGHOST": str(cluster.socket_dir), "PGPORT": str(cluster.port), "PGUSER": login}

    def dump(*options):
        return subprocess.run([str(pg_bin_dir() / "pg_dump"), *options, "-d", src], capture_output=True, env=env)

    try:
        refused = dump()
        assert refused.returncode == 1, refused.stderr
        assert (b'query would be affected by row-level security policy for table "replicated_pending"'
                in refused.stderr), refused.stderr
        for options, alter in ((["--enable-row-security"], None), ([], "BYPASSRLS")):
            if alter:
                query(db_url, f"ALTER ROLE {login} {alter}")
            taken = dump(*options)
            assert taken.returncode == 0, taken.stderr
            query(db_url, "CREATE DATABASE restored")
            try:
                subprocess.run([str(pg_bin_dir() / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "restored"],
                               input=taken.stdout, capture_output=True, check=True,
                               env={**env, "PGUSER": "postgres"})
                restored = cluster.url("restored")
                assert query(restored, "SELECT entity_key, subscription FROM pgscore.replicated_pending") == \
                    [("7", "sub")]
                assert query(restored, "SELECT count(*) FROM pgscore.models") == query(
                    db_url, "SELECT count(*) FROM pgscore.models")
            finally:
                query(db_url, "DROP DATABASE restored WITH (FORCE)")
    finally:
        query(db_url, f"ALTER ROLE {login} NOBYPASSRLS")
        query(db_url, f"REVOKE pg_read_all_data FROM {login}")



def test_the_app_and_the_reader_are_told_the_model_a_misspelt_name_may_be_but_cannot_call_the_hint(urls, db_url):
    """record_outcome (the app's) and version_drift (the reader's) give scoring's hint for an unknown model through
    pgscore.model_name_hint (migration 0120), which they run as its owner: the hint reaches a login that is no
    superuser, and neither login may call model_name_hint itself (executable by its owner alone)."""
    registry.deploy(db_url, "churn", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y), X, Y,
                    feature_names=CHURN_FEATURES)
    hint = "a typo for 'churn'? Else list models with: SELECT * FROM pgscore.model_versions"
    for login, sql_text in (("app", "SELECT pgscore.record_outcome('chrun', '1', 1)"),
                            ("app", "SELECT pgscore.record_outcome('Churn', 1::bigint, true)"),
                            ("bi", "SELECT * FROM pgscore.version_drift('chrun', 1)")):
        conn = connect(urls[login])
        with pytest.raises(errors.UndefinedObject) as e:
            query(conn, sql_text)
        assert e.value.diag.message_hint == hint, (login, e.value.pgerror)
        with pytest.raises(errors.InsufficientPrivilege):
            query(conn, "SELECT pgscore.model_name_hint('chrun')")
        conn.close()


def test_a_writer_run_as_the_admin_or_the_app_in_a_read_only_transaction_says_where_to_run_it(urls, db_url):
    """Migration 0169: every writer refuses a read-only transaction through pgscore.refuse_read_only, revoked from
    PUBLIC. The writers run as their caller (retire, set_thresholds, silence_alerts, detach_rescoring...) call it as
    the admin, granted it; those run as their owner (record_outcome, the app's; set_shadow) as their owner: each gives
    its own refusal to a login that is no superuser (not 42501 on the helper); since session 68 PUBLIC may call the
    helper, which only refuses or does nothing."""
    registry.deploy(db_url, "churn", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y), X, Y,
                    feature_names=CHURN_FEATURES)
    for login, sql_text, writes in (
            ("admin", "SELECT pgscore.retire('churn')", "pgscore.retire writes the registry"),
            ("admin", "SELECT pgscore.set_thresholds('churn', 'psi', 0.1, 0.2)",
             "pgscore.set_thresholds writes pgscore.drift_threshold_overrides"),
            ("admin", "SELECT * FROM pgscore.refresh_monitoring()",
             "pgscore.refresh_monitoring writes the rollups (pgscore.drift_rollup, pgscore.monitoring_state)"),
            ("admin", "SELECT pgscore.set_shadow('churn', 1)", "pgscore.set_shadow writes pgscore.shadows"),
            ("app", "SELECT pgscore.record_outcome('churn', '1', 1)", "pgscore.record_outcome writes pgscore.outcomes")):
        conn = connect(urls[login])
        query(conn, "SET default_transaction_read_only = on")
        with pytest.raises(errors.ReadOnlySqlTransaction) as e:
            query(conn, sql_text)
        assert e.value.diag.message_primary == f"{writes}: not in a read-only transaction", (login, e.value.pgerror)
        conn.close()
    # (session 68) PUBLIC may call the helper (a role granted a writer directly called it as itself): it refuses, in
    # the caller's words, or does nothing, for every role
    for login in ("admin", "app", "bi"):
        conn = connect(urls[login])
        assert query(conn, "SELECT pgscore.refuse_read_only('pgscore.x writes y')") == [("",)]
        query(conn, "SET default_transaction_read_only = on")
        with pytest.raises(errors.ReadOnlySqlTransaction) as e:
            query(conn, "SELECT pgscore.refuse_read_only('pgscore.x writes y')")
        assert e.value.diag.message_primary == "pgscore.x writes y: not in a read-only transaction", e.value.pgerror
        conn.close()


def test_a_writer_granted_to_a_role_directly_in_a_read_only_transaction_says_where_to_run_it(db_url):
    """Session 68: a role a DBA granted EXECUTE on a writer that runs as its caller, not through pgscore_admin, got
    42501 "permission denied for function refuse_read_only" in a read-only transaction (0169 granted the helper to
    pgscore_admin alone), not the writer's own refusal. The helper only reads two settings of the caller's session and
    raises or returns nothing (as score_table_commit only commits): PUBLIC may call it now."""
    registry.deploy(db_url, "churn", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y), X, Y,
                    feature_names=CHURN_FEATURES)
    ensure_role(db_url, "pgscore_t_direct_writer", login=True)
    query(db_url, "GRANT USAGE ON SCHEMA pgscore TO pgscore_t_direct_writer")
    query(db_url, "GRANT EXECUTE ON FUNCTION pgscore.retire(text, text), "
                  "pgscore.set_thresholds(text, text, float8, float8, integer, float8, text), "
                  "pgscore.refresh_monitoring(interval, boolean), pgscore.lift_silence(bigint) TO pgscore_t_direct_writer")
    assert query(db_url, "SELECT pg_has_role('pgscore_t_direct_writer', 'pgscore_admin', 'USAGE')") == [(False,)]
    conn = connect(db_url.replace("postgresql://postgres@", "postgresql://pgscore_t_direct_writer@"))
    query(conn, "SET default_transaction_read_only = on")
    for sql_text, writes in (
            ("SELECT pgscore.retire('churn')", "pgscore.retire writes the registry"),
            ("SELECT pgscore.set_thresholds('churn', 'psi', 0.1, 0.2)",
             "pgscore.set_thresholds writes pgscore.drift_threshold_overrides"),
            ("SELECT * FROM pgscore.refresh_monitoring()",
             "pgscore.refresh_monitoring writes the rollups (pgscore.drift_rollup, pgscore.monitoring_state)"),
            ("SELECT pgscore.lift_silence(1)", "pgscore.lift_silence writes pgscore.alert_silences")):
        with pytest.raises(errors.ReadOnlySqlTransaction) as e:
            query(conn, sql_text)
        assert e.value.diag.message_primary == f"{writes}: not in a read-only transaction", e.value.pgerror
        assert e.value.diag.message_hint.startswith("run it in a transaction that may write"), e.value.pgerror
    conn.close()


def test_the_admin_and_the_app_are_told_the_model_a_misspelt_name_may_be_by_the_deploy_and_retry_functions(urls,
                                                                                                          db_url):
    """activate, rollback and retire (run as their caller, the admin) and set_shadow and clear_shadow (as their owner)
    said `there is no model 'chrun'` and where the models are listed, without scoring's hint; retry_failed (the
    app's) too. Migration 0124: each gives pgscore.model_name_hint's, which the admin may call for the three run as
    it (granted to pgscore_admin; the app and the reader still may not call it)."""
    registry.deploy(db_url, "churn", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y), X, Y,
                    feature_names=CHURN_FEATURES)
    hint = "a typo for 'churn'? Else list models with: SELECT * FROM pgscore.model_versions"
    for login, sql_text in (("admin", "SELECT pgscore.activate('chrun', 1)"),
                            ("admin", "SELECT pgscore.rollback('Churn')"), ("admin", "SELECT pgscore.retire('churns')"),
                            ("admin", "SELECT pgscore.set_shadow('chrun', 1)"),
                            ("admin", "SELECT pgscore.clear_shadow('chrun')"),
                            ("app", "SELECT * FROM pgscore.retry_failed('chrun')")):
        conn = connect(urls[login])
        with pytest.raises(errors.UndefinedObject) as e:
            query(conn, sql_text)
        assert e.value.diag.message_hint == hint, (login, sql_text, e.value.pgerror)
        conn.close()
    conn = connect(urls["admin"])
    assert query(conn, "SELECT pgscore.model_name_hint('chrun')") == [(hint,)]
    conn.close()


def test_two_teams_databases_install_and_status_say_what_the_other_team_may_do_and_the_recipe_keeps_them_apart(
        db_url, empty_db_url):
    """Trial T26 (session 69): a DBA installed pgscore in two teams' databases of one cluster and granted each team's
    owner pgscore's roles WITH ADMIN OPTION, as docs/operations.md's recipe for a team without superuser said: the
    roles being the cluster's and CONNECT PUBLIC's, growth's owner deployed into, rolled back and read the audit log
    of risk's database, and revoked pgscore_admin from risk's owner, and neither `pgscore install` nor `pgscore
    status` said so. Both say it now, with the SQL of docs/operations.md's "Several teams on one cluster", which
    keeps them apart (checked here), and say nothing once it is done."""
    growth, risk = db_url, empty_db_url  # pgscore in growth's; risk's the second database it is installed in
    (risk_db,), = query(risk, "SELECT pg_catalog.quote_ident(current_database())")
    (growth_db,), = query(growth, "SELECT current_database()")
    owners = {"risk": "pgscore_t26_risk", "growth": "pgscore_t26_growth"}
    as_role = {team: {db: url.replace("postgresql://postgres@", f"postgresql://{role}@")
                      for db, url in (("risk", risk), ("growth", growth))} for team, role in owners.items()}
    try:
        for role in owners.values():  # (the roles are the cluster's: granted once, in growth's database)
            ensure_role(growth, role, login=True)
            query(growth, f"GRANT pgscore_admin, pgscore_app, pgscore_reader TO {role} WITH ADMIN OPTION")
        ran = pgscore_cli("install", "--no-check", "--db", risk)
        assert ran.returncode == 0, ran.stderr
        # what the other team may do here before the recipe: read risk's audit log
        assert query(as_role["growth"]["risk"], "SELECT count(*) FROM pgscore.predictions") == [(0,)]
        notes = " ".join(ran.stderr.split())
        assert (f"pgscore: note: cluster: pgscore is also installed in database {growth_db}" in notes
                or f"pgscore: note: cluster: pgscore is also installed in databases " in notes), notes
        assert f" {growth_db}" in notes, notes
        assert (f"REVOKE CONNECT ON DATABASE {risk_db} FROM PUBLIC; GRANT CONNECT ON DATABASE {risk_db} TO <this "
                f"team's logins>;") in notes, notes
        assert re.search(r"cluster: [^:]*\bpgscore_t26_growth\b[^:]* may grant and revoke pgscore's roles", notes), notes
        status = pgscore_cli("status", "--db", as_role["risk"]["risk"])
        assert status.returncode == 0, status.stderr
        said = " ".join(status.stdout.split())
        assert f"WARNING: cluster: pgscore is also installed in database" in said, said
        assert f"REVOKE CONNECT ON DATABASE {risk_db} FROM PUBLIC" in said, said
        assert "REVOKE ADMIN OPTION FOR pgscore_admin, pgscore_app, pgscore_reader FROM " in said, said
        # the recipe: CONNECT to the team's logins alone, pgscore's roles granted by the superuser
        query(risk, f"REVOKE CONNECT ON DATABASE {risk_db} FROM PUBLIC")
        query(risk, f"GRANT CONNECT ON DATABASE {risk_db} TO {owners['risk']}")
        query(risk, f"REVOKE ADMIN OPTION FOR pgscore_admin, pgscore_app, pgscore_reader FROM {', '.join(owners.values())}")
        with pytest.raises(psycopg2.OperationalError, match="permission denied for database"):
            psycopg2.connect(as_role["growth"]["risk"]).close()
        with pytest.raises(errors.InsufficientPrivilege, match='must have admin option on role "pgscore_admin"'):
            query(as_role["growth"]["growth"], f"REVOKE pgscore_admin FROM {owners['risk']}")
        assert query(as_role["risk"]["risk"], "SELECT count(*) FROM pgscore.predictions") == [(0,)]
        status = pgscore_cli("status", "--db", as_role["risk"]["risk"])
        assert status.returncode == 0, status.stderr
        said = " ".join(status.stdout.split())
        assert "pgscore is also installed in" not in said, said
        assert not re.search(r"cluster: [^:]*\bpgscore_t26_", said), said
    finally:
        query(risk, f"GRANT CONNECT ON DATABASE {risk_db} TO PUBLIC")
        for role in owners.values():
            query(risk, f"REVOKE CONNECT ON DATABASE {risk_db} FROM {role}")
            query(risk, f"DROP ROLE IF EXISTS {role}")



def test_a_createrole_login_is_told_to_drop_createrole_not_an_admin_option_it_does_not_hold(db_url, empty_db_url):
    """Review r3 (session 69): with pgscore in two databases of the cluster, status named a login with CREATEROLE
    (no ADMIN OPTION on pgscore's roles) among those that may grant and revoke them, with the fix `REVOKE ADMIN
    OPTION FOR pgscore_admin, pgscore_app, pgscore_reader FROM it`: PostgreSQL 15 answers `role ... is not a member
    of role "pgscore_admin"` and the login still grants and revokes them (CREATEROLE grants every role but a
    superuser), and status said the same again. Such a login is told `ALTER ROLE ... NOCREATEROLE`, which ends it."""
    creator = "pgscore_t_r3_creator"
    ran = pgscore_cli("install", "--no-check", "--db", empty_db_url)  # (pgscore in a second database)
    assert ran.returncode == 0, ran.stderr
    try:
        ensure_role(db_url, creator, login=True)
        query(db_url, f"ALTER ROLE {creator} CREATEROLE")
        said = " ".join(pgscore_cli("status", "--db", db_url).stdout.split())
        line = re.search(rf"WARNING: cluster: [^:]*\b{creator}\b[^:]* may grant and revoke pgscore's roles.*?"
                         r"\(docs/operations.md", said)
        assert line and f"ALTER ROLE {creator} NOCREATEROLE" in line.group(0), said
        assert not re.search(rf"REVOKE ADMIN OPTION FOR [^;]*\b{creator}\b", said), said
        query(db_url, f"ALTER ROLE {creator} NOCREATEROLE")  # the fix said: the login grants no role of pgscore's now
        as_creator = db_url.replace("postgresql://postgres@", f"postgresql://{creator}@")
        with pytest.raises(errors.InsufficientPrivilege):
            query(as_creator, f"GRANT pgscore_admin TO {creator}")
        said = " ".join(pgscore_cli("status", "--db", db_url).stdout.split())
        assert not re.search(rf"cluster: [^:]*\b{creator}\b", said), said
    finally:
        query(db_url, f"DROP ROLE IF EXISTS {creator}")

def test_one_team_s_retry_and_refresh_of_every_wiring_skip_the_other_team_s_schema_and_say_so(db_url):
    """Trial T26 (session 69): two teams' schemas in one database, each wired by its own role, neither with USAGE on
    the other's. With risk's profile queued (a feature column renamed away), growth's `retry_failed()` (every
    wiring: `pgscore retry` from its cron) failed with `pgscore: permission denied for schema risk` and retried none
    of growth's own queued profiles, and so did its `refresh_windows()` over risk's windowed wiring. Now each skips
    the wiring it may not use, with a WARNING naming it and who may run it, and does the rest."""
    roles = {"risk": "pgscore_t26_risk_app", "growth": "pgscore_t26_growth_app"}
    registry.deploy(db_url, "churn", LogisticRegression(max_iter=500).fit(X, Y), X, Y, feature_names=CHURN_FEATURES)
    urls, wired = {}, {}
    try:
        for team, role in roles.items():
            ensure_role(db_url, role, login=True)
            query(db_url, f"GRANT pgscore_admin, pgscore_app TO {role}")
            query(db_url, f"CREATE SCHEMA {team} AUTHORIZATION {role}")
            urls[team] = db_url.replace("postgresql://postgres@", f"postgresql://{role}@")
            conn = connect(urls[team])
            with conn.cursor() as cur:
                sample.create_tables(cur, schema=team)
                sample.load_customers(cur, X[:20], schema=team)
                wired[team] = sample.rescore_complaints(cur, schema=team)
                # a profile queued: the model's feature renamed away for one INSERT
                cur.execute(f"ALTER TABLE {team}.customers RENAME COLUMN tenure_months TO tenure")
                cur.execute(f"INSERT INTO {team}.complaints (customer_id) VALUES (3)")
                if team == "growth":  # growth puts it right; risk's stays broken
                    cur.execute(f"ALTER TABLE {team}.customers RENAME COLUMN tenure TO tenure_months")
            conn.close()
        assert sorted(query(db_url, "SELECT rescoring_id, entity_key FROM pgscore.error_queue")) == sorted(
            [(wired["risk"], "3"), (wired["growth"], "3")])
        growth = connect(urls["growth"])
        growth.notices.clear()
        assert query(growth, "SELECT * FROM pgscore.retry_failed()") == [(wired["growth"], 1, 0)]
        said = " ".join(" ".join(growth.notices).split())
        assert (f"WARNING: pgscore: retry_failed skipped wiring {wired['risk']} (risk.complaints -> risk.customers, "
                "model churn): this role (pgscore_t26_growth_app) may not use schema risk; its 1 queued profile(s) "
                "wait for a role that may") in said, said
        assert ("HINT: run it as a role granted USAGE on schema risk (the application that writes risk.customers): "
                "SELECT * FROM pgscore.retry_failed('churn')") in said, said
        assert query(db_url, "SELECT rescoring_id FROM pgscore.error_queue") == [(wired["risk"],)]
        # growth's queue empty, risk's row left: a model named also skips the wiring it may not use
        growth.notices.clear()
        assert query(growth, "SELECT * FROM pgscore.retry_failed('churn')") == []
        assert f"retry_failed skipped wiring {wired['risk']}" in " ".join(growth.notices), growth.notices
        run = pgscore_cli("retry", "--db", urls["growth"])  # its cron's: exit 0, and why nothing was retried
        assert run.returncode == 0, run.stdout + run.stderr
        assert (f"retry_failed skipped wiring {wired['risk']} (risk.complaints -> risk.customers, model churn)"
                in run.stdout), run.stdout
        assert ("nothing queued for a wiring this role may use (1 wiring(s) in a schema it may not use skipped: see "
                "the WARNING)") in run.stdout, run.stdout
        growth.notices.clear()
        rows = query(growth, "SELECT rescoring_id, recounted FROM pgscore.refresh_windows()")
        assert [r[0] for r in rows] == [wired["growth"]], rows
        said = " ".join(" ".join(growth.notices).split())
        assert (f"WARNING: pgscore: refresh_windows skipped wiring {wired['risk']} (risk.complaints -> "
                "risk.customers, model churn): this role (pgscore_t26_growth_app) may not use schema risk") in said, said
        growth.close()
        # risk's own retry still tries its row (and fails on its own cause)
        risk = connect(urls["risk"])
        assert query(risk, "SELECT * FROM pgscore.retry_failed()") == [(wired["risk"], 0, 1)]
        risk.close()
    finally:
        for team, role in roles.items():
            query(db_url, f"DROP SCHEMA IF EXISTS {team} CASCADE")
            query(db_url, f"DROP OWNED BY {role}")
            query(db_url, f"DROP ROLE IF EXISTS {role}")


def test_one_team_deploys_and_rolls_back_its_model_while_the_other_team_s_schema_is_wired(db_url, tmp_path):
    """Trial T26 (session 69): two teams' schemas in one database, each wired by its own role, neither with USAGE on
    the other's. Every deploy, activate and rollback by either team, whatever model, failed with `permission denied
    for schema risk`: the deployments' trigger (check_live_version_fed, and score_columns_read, which it calls)
    resolved every wiring's table names with to_regclass, the other team's too, before it kept those of the model
    made live. Migration 0176: it reads the model's wirings alone first."""
    roles = {"risk": "pgscore_t26_risk_dep", "growth": "pgscore_t26_growth_dep"}
    registry.deploy(db_url, "churn", LogisticRegression(max_iter=500).fit(X, Y), X, Y, feature_names=CHURN_FEATURES)
    urls = {}
    try:
        for team, role in roles.items():
            ensure_role(db_url, role, login=True)
            query(db_url, f"GRANT pgscore_admin, pgscore_app TO {role}")
            query(db_url, f"CREATE SCHEMA {team} AUTHORIZATION {role}")
            urls[team] = db_url.replace("postgresql://postgres@", f"postgresql://{role}@")
            conn = connect(urls[team])
            with conn.cursor() as cur:
                sample.create_tables(cur, schema=team)
                sample.load_customers(cur, X[:20], schema=team)
            conn.close()
        conn = connect(urls["risk"])
        with conn.cursor() as cur:
            sample.rescore_complaints(cur, schema="risk")  # risk's wiring of churn
        conn.close()
        model = LogisticRegression(max_iter=500).fit(X, Y)
        for version in (1, 2):  # growth's own model, a first version and a second made live over it
            rec = registry.deploy(urls["growth"], "growth.churn", model, X, Y, feature_names=CHURN_FEATURES,
                                  if_new=False)
            assert (rec["version"], rec["live"]) == (version, True), rec
        growth = connect(urls["growth"])
        assert query(growth, "SELECT pgscore.rollback('growth.churn')") is not None
        assert query(growth, "SELECT version FROM pgscore.model_versions WHERE name = 'growth.churn' AND live") == [(1,)]
        growth.close()
        conn = connect(urls["growth"])
        with conn.cursor() as cur:
            sample.rescore_complaints(cur, model="growth.churn", schema="growth")
        conn.close()
        # risk's deploy of its churn, over growth's wiring: its own wiring checked, growth's not read
        rec = registry.deploy(urls["risk"], "churn", model, X, Y, feature_names=CHURN_FEATURES, if_new=False)
        assert (rec["version"], rec["live"]) == (2, True), rec
        # growth's deploy of risk's churn, wired in risk's schema, is still refused there (it cannot check that the
        # version feeds risk's table): the hint said `pgscore deploy needs a role granted pgscore_admin`, which it was
        import joblib

        joblib.dump(model, tmp_path / "m.joblib")
        run = pgscore_cli("deploy", str(tmp_path / "m.joblib"), "--name", "churn", "--features", ",".join(CHURN_FEATURES),
                          "--again", "--db", urls["growth"])
        assert run.returncode == 1, run.stdout + run.stderr
        said = " ".join(run.stderr.split())
        assert "pgscore: error: permission denied for schema risk (SQLSTATE 42501)" in said, said
        assert ("Hint: this role may not use schema risk (USAGE), where pgscore deploy read a table: a table wired to "
                "rescore with the model, or one the command names; run it as a role granted USAGE on schema risk (and "
                "a role granted pgscore_admin)") in said, said
    finally:
        for team, role in roles.items():
            query(db_url, f"DROP SCHEMA IF EXISTS {team} CASCADE")
            query(db_url, f"DROP OWNED BY {role}")
            query(db_url, f"DROP ROLE IF EXISTS {role}")
