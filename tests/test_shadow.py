"""Shadow scoring: a version that is not live scored next to the live one wherever that one's scores are
written (the rescoring trigger, score_table), logged under its own model_id with source 'shadow', never
served; set_shadow's refusals; a shadow that fails never fails the statement."""

import json
import re

import numpy as np
import psycopg2
import pytest
from psycopg2 import errors
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from helpers import ensure_role, hinted, make_shop, pgscore_cli, query, waits_on_a_lock
from pgscore import datasets, registry, sample
from pgscore.datasets import CHURN_FEATURES
from pgscore.errors import PgscoreError

N = 50


@pytest.fixture(scope="module")
def trained():
    X, y, _ = datasets.churn(1500, seed=5)
    v1 = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)
    v2 = RandomForestClassifier(n_estimators=5, max_depth=3, random_state=0).fit(X, y)
    return v1, v2, X, y


@pytest.fixture(scope="module")
def shop_template(built_template, trained):
    """A template with churn v1 live, v2 stored and complaints wired (made once, not for each test that takes
    `shop`)."""
    v1, v2, X, y = trained

    def build(url):
        make_shop(url, v1, X, y, N, rescore=True).close()
        registry.deploy(url, "churn", v2, X, y, feature_names=CHURN_FEATURES, activate=False)

    return built_template(build)


@pytest.fixture
def shop(db_url):
    """churn v1 live (linear: the trigger's statement scores it in SQL), v2 stored, complaints wired: an autocommit
    connection to a clone of shop_template."""
    conn = psycopg2.connect(db_url)
    conn.autocommit = True
    yield conn
    conn.close()


def features(conn, ids):
    cols = ", ".join(CHURN_FEATURES)
    return {r[0]: r[1] for r in query(conn, f"SELECT id, ARRAY[{cols}]::float8[] FROM customers WHERE id = ANY(%s)",
                                      (list(ids),))}


def log(conn, source):
    return query(conn, "SELECT m.version, l.entity_key, l.score, l.features, l.cause FROM pgscore.prediction_log l "
                       "JOIN pgscore.models m USING (model_id) WHERE l.source = %s ORDER BY l.entity_key, m.version",
                 (source,))


def insert(conn, *ids):
    with conn.cursor() as cur:
        cur.execute("INSERT INTO complaints (customer_id, kind) SELECT i, 'billing' FROM unnest(%s::int[]) i",
                    (list(ids),))



def test_the_trigger_scores_the_shadow_next_to_the_live_version_and_serves_only_the_live_one(shop, trained):
    v1, v2, *_ = trained
    insert(shop, 1)  # v1 alone: the statement that scores in SQL
    assert [r[:2] for r in log(shop, "trigger")] == [(1, "1")] and log(shop, "shadow") == []
    assert query(shop, "SELECT pgscore.set_shadow('churn', 2, 'try the forest')") == [(query(
        shop, "SELECT model_id FROM pgscore.models WHERE version = 2")[0][0],)]
    assert query(shop, "SELECT version, live, shadow FROM pgscore.model_versions ORDER BY version") == [
        (1, True, False), (2, False, True)]
    insert(shop, 2, 3, 3, 4)  # several profiles: one vectorised call per version
    insert(shop, 5)  # one
    f = features(shop, [2, 3, 4, 5])
    shadow = {r[1]: r for r in log(shop, "shadow")}
    assert sorted(shadow) == ["2", "3", "4", "5"] and {r[0] for r in shadow.values()} == {2}
    live_id = query(shop, "SELECT model_id FROM pgscore.models WHERE version = 1")[0][0]
    for k, (_, _, score, feats, cause) in shadow.items():
        assert feats == f[int(k)]
        assert score == pytest.approx(v2.predict_proba(np.array([feats]))[0, 1], abs=1e-12)
        assert cause["shadow_of"] == live_id and cause["via"] == "trigger"
    # the profile holds the live version's score, and the live version logged as before
    got = dict(query(shop, "SELECT id, churn_score FROM customers WHERE id IN (2, 3, 4, 5)"))
    for k, feats in f.items():
        assert got[k] == pytest.approx(v1.predict_proba(np.array([feats]))[0, 1], abs=1e-9)
    assert sorted(r[1] for r in log(shop, "trigger") if r[0] == 1) == ["1", "2", "3", "4", "5"]
    # stopped: the live version alone again (the statement in SQL)
    assert query(shop, "SELECT pgscore.clear_shadow('churn')") == [(1,)]
    insert(shop, 6)
    assert "6" not in {r[1] for r in log(shop, "shadow")}
    assert query(shop, "SELECT action FROM pgscore.shadows ORDER BY shadow_id") == [("start",), ("stop",)]


def test_a_shadow_made_live_is_no_shadow_and_is_not_scored_twice(shop):
    query(shop, "SELECT pgscore.set_shadow('churn', 2)")
    query(shop, "SELECT pgscore.activate('churn', 2)")
    assert query(shop, "SELECT count(*) FROM pgscore.shadow_versions") == [(0,)]
    insert(shop, 7)
    assert log(shop, "shadow") == []
    assert [r[:2] for r in log(shop, "trigger")] == [(2, "7")]
    query(shop, "SELECT pgscore.rollback('churn', 1)")  # v2 no shadow again by being live once
    insert(shop, 8)
    assert log(shop, "shadow") == []


def test_a_shadows_rows_from_the_row_trigger_for_replicated_rows_say_replication_as_the_live_ones_do(shop):
    """The row trigger for replicated rows (attach_rescoring's p_replicated, enabled REPLICA: a session with
    session_replication_role = replica stands in for the apply worker here) scores the shadow too, and its
    audit rows say what the live version's say: via 'replication' (they said 'trigger'); no subscription
    outside a worker's session, as the live ones."""
    query(shop, "SELECT pgscore.detach_rescoring('complaints')")
    query(shop, "SELECT pgscore.attach_rescoring('complaints', 'customers', 'customer_id', 'churn', 'churn_score', "
                "p_profile_key => 'id', p_replicated => true)")
    query(shop, "SELECT pgscore.set_shadow('churn', 2)")
    query(shop, "SET session_replication_role = replica")
    try:
        insert(shop, 1, 2)
    finally:
        query(shop, "SET session_replication_role = origin")
    rows = query(shop, "SELECT m.version, l.entity_key, l.source, l.cause->>'via', l.cause ? 'subscription' "
                       "FROM pgscore.prediction_log l JOIN pgscore.models m USING (model_id) ORDER BY 1, 2")
    assert rows == [(1, "1", "trigger", "replication", True), (1, "2", "trigger", "replication", True),
                    (2, "1", "shadow", "replication", True), (2, "2", "shadow", "replication", True)]


def deploy_v3(db_url, trained):
    """churn v3, which reads a column the profile table lacks (loyalty), stored not live."""
    _, _, X, y = trained
    X3 = np.column_stack([X, X[:, 0]])
    v3 = LogisticRegression(max_iter=500).fit(X3, y)
    registry.deploy(db_url, "churn", v3, X3, y, feature_names=[*CHURN_FEATURES, "loyalty"], activate=False,
                    allow_feature_change=True)


def connect(db_url):
    conn = psycopg2.connect(db_url)
    conn.autocommit = True
    return conn


def test_a_shadow_that_fails_never_fails_the_insert_queues_nothing_and_warns(shop, db_url, trained):
    v1, _, X, y = trained
    # v3 reads a column the profile table lacks: its statements cannot be made (set_shadow refuses it unless forced)
    deploy_v3(db_url, trained)
    query(shop, "SELECT pgscore.set_shadow('churn', 3, p_force => true)")
    for strict in (False, True):
        if strict:
            with shop.cursor() as cur:
                cur.execute("UPDATE pgscore.rescoring SET strict = true")
        conn = connect(db_url)  # (a session of its own: each warns once of a version and SQLSTATE)
        try:
            insert(conn, 10 + strict, 20 + strict)
            warned = [n for n in conn.notices if "shadow version churn v3" in n]
        finally:
            conn.close()
        assert len(warned) == 1 and "did not score 2 profile(s) of public.customers" in warned[0], warned
        assert "loyalty" in warned[0] and "the live version's scores were written" in warned[0]
        assert "pgscore shadow churn 3 --off" in warned[0]
    assert query(shop, "SELECT count(*) FROM complaints") == [(4,)]
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
    assert log(shop, "shadow") == []
    got = dict(query(shop, "SELECT id, churn_score FROM customers WHERE id IN (10, 11, 20, 21)"))
    for k, feats in features(shop, [10, 11, 20, 21]).items():
        assert got[k] == pytest.approx(v1.predict_proba(np.array([feats]))[0, 1], abs=1e-9)


def test_a_failing_shadows_warning_stops_that_version_alone(shop, db_url, trained):
    """With two shadows, the WARNING of the one that fails names it in the hint's stop: it said
    'pgscore shadow churn --off (SELECT pgscore.clear_shadow('churn'))', which stops every shadow of the
    model, the one that scores well too."""
    deploy_v3(db_url, trained)
    query(shop, "SELECT pgscore.set_shadow('churn', 2)")
    query(shop, "SELECT pgscore.set_shadow('churn', 3, p_force => true)")
    conn = connect(db_url)
    try:
        insert(conn, 12)
        warned = [n for n in conn.notices if "shadow version churn v3" in n]
    finally:
        conn.close()
    assert len(warned) == 1, warned
    assert "stop the shadow: pgscore shadow churn 3 --off (SELECT pgscore.clear_shadow('churn', 3))" in warned[0]
    assert query(shop, "SELECT pgscore.clear_shadow('churn', 3)") == [(1,)]
    assert query(shop, "SELECT version FROM pgscore.shadow_versions") == [(2,)]


def test_a_failing_shadow_warns_once_per_session_and_is_counted_where_status_reads_it(shop, db_url, trained):
    """A shadow that fails warned at every statement (a busy event table flooded the client and the server
    log): once per session, version and SQLSTATE now, each statement and chunk counted in
    pgscore.shadow_failures, which pgscore status reads; the live version's scores as before."""
    v1, *_ = trained
    deploy_v3(db_url, trained)
    query(shop, "SELECT pgscore.set_shadow('churn', 3, p_force => true)")
    shop.notices.clear()
    for i in range(5):
        insert(shop, 30 + i, 40 + i)
    warned = [n for n in shop.notices if "shadow version churn v3" in n]
    assert len(warned) == 1, shop.notices
    assert "this session warns of it once" in warned[0] and "42703" in warned[0]
    assert "counted in pgscore.shadow_failures (pgscore status)" in warned[0]
    # score_table's chunks: counted, and not warned of again in this session (the same version and SQLSTATE)
    query(shop, "CALL pgscore.score_table('churn', 'customers', 'id', 'churn_score', 20)")  # 3 chunks
    assert [n for n in shop.notices if "shadow version churn v3" in n] == warned
    rows = query(shop, "SELECT relation, sqlstate, statements, profiles FROM pgscore.shadow_failures ORDER BY 1")
    assert rows == [("public.customers", "42703", 5 + 3, 10 + N)], rows  # (one row: the table, whoever scored it)
    other = connect(db_url)  # another session warns once too, and counts in a row of its own
    try:
        insert(other, 50)
        assert len([n for n in other.notices if "shadow version churn v3" in n]) == 1
    finally:
        other.close()
    assert query(shop, "SELECT sum(statements), count(*) FROM pgscore.shadow_failures "
                       "WHERE relation = 'public.customers'") == [(9, 2)]
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
    got = dict(query(shop, "SELECT id, churn_score FROM customers WHERE id IN (30, 44, 50)"))
    for k, feats in features(shop, [30, 44, 50]).items():
        assert got[k] == pytest.approx(v1.predict_proba(np.array([feats]))[0, 1], abs=1e-9)
    run = pgscore_cli("status", "--db", db_url)
    out = " ".join(run.stdout.split())
    assert run.returncode == 0 and "shadow: churn v3, next to v1, since " in out, run.stdout + run.stderr
    assert ("WARNING: shadow churn v3: 9 statement(s) or chunk(s) of public.customers in which it did not score "
            f"({10 + N + 1} profile(s) or row(s)), SQLSTATE 42703") in out, out
    assert "loyalty" in out and "shadow churn 3 --off" in out
    # stopped: its counts go with it
    query(shop, "SELECT pgscore.clear_shadow('churn', 3)")
    assert query(shop, "SELECT count(*) FROM pgscore.shadow_failures") == [(0,)]
    run = pgscore_cli("status", "--db", db_url)
    assert "shadows: none" in run.stdout and "WARNING: shadow" not in run.stdout, run.stdout


def refreshed_with_alerts_of_v1_and_v2(shop):
    """refresh_monitoring() run, then its alerts (pgscore.alert_state) replaced by three of churn's: one warning
    of version 1, two alerts of version 2."""
    query(shop, "SELECT * FROM pgscore.refresh_monitoring()")
    query(shop, "DELETE FROM pgscore.alert_state")
    query(shop, "INSERT INTO pgscore.alert_state (model, version, what, subject, window_name, metric, level) "
                "VALUES ('churn', 1, 'feature', 'tenure', '1 day', 'psi', 'warn'), "
                "('churn', 2, 'feature', 'tenure', '1 day', 'psi', 'alert'), "
                "('churn', 2, 'score', 'score', '1 day', 'psi', 'alert')")


def test_status_lists_each_shadow_with_the_live_version_it_shadows(shop, db_url):
    query(shop, "SELECT pgscore.set_shadow('churn', 2, 'the forest')")
    run = pgscore_cli("status", "--db", db_url)
    lines = [x for x in run.stdout.splitlines() if x.startswith("shadow")]
    assert len(lines) == 1 and lines[0].startswith("shadow: churn v2, next to v1, since ") and lines[0].endswith(
        ": the forest, no failure counted"), run.stdout
    # the alerts of the last refresh: the live version's as pgscore drift shows them, the shadow's apart
    refreshed_with_alerts_of_v1_and_v2(shop)
    out = " ".join(pgscore_cli("status", "--db", db_url).stdout.split())  # (the line wrapped at 100 columns)
    assert ("alerts at the last refresh: churn: 1 condition at warn (in 1 window) (details: pgscore "
            f"{hinted(db_url)}drift); of shadow versions: churn: 2 conditions at alert (in 1 window) (SELECT * FROM "
            "pgscore.alerts WHERE shadow) " in out), out


def test_status_counts_the_alerts_of_the_last_refresh_by_what_each_version_was_then(shop, db_url):
    """The alerts of the last refresh (pgscore.alert_state) of a version that was a shadow then are a shadow's,
    whatever it is now: status classed them by the shadows of now, and counted a shadow stopped or made live
    since as the live versions' alerts (which pgscore drift did not show); the live version of then is counted
    as the live versions' after a rollback or an activate since."""
    query(shop, "SELECT pgscore.set_shadow('churn', 2)")
    refreshed_with_alerts_of_v1_and_v2(shop)
    want = ("alerts at the last refresh: churn: 1 condition at warn (in 1 window) (details: pgscore "
            f"{hinted(db_url)}drift); of shadow versions: churn: 2 conditions at alert (in 1 window) (SELECT * FROM "
            "pgscore.alerts WHERE shadow) ")
    query(shop, "SELECT pgscore.clear_shadow('churn')")  # stopped since
    out = " ".join(pgscore_cli("status", "--db", db_url).stdout.split())
    assert want in out, out  # (before: '1 at level warn, 2 at level alert', the shadow's counted as live)
    query(shop, "SELECT pgscore.activate('churn', 2)")  # made live since: v1 was live at the refresh
    out = " ".join(pgscore_cli("status", "--db", db_url).stdout.split())
    assert want in out, out



def test_status_counts_a_version_made_live_while_the_refresh_ran_as_live(shop, db_url):
    """refreshed_at is the refresh's now(), its transaction's start, and the alerts are read later in it (tens of
    seconds at a million judged predictions): a version made live meanwhile had its live alerts recorded, and
    status, taking the newest deployment by refreshed_at for the live version of then, counted them as a shadow's
    ('of shadow versions: ...') and none as live. Each alert's role is recorded with it now."""
    query(shop, "UPDATE pgscore.drift_thresholds SET warn = 0, alert = 0, min_n = 1")
    query(shop, "INSERT INTO pgscore.prediction_log (model_id, entity_key, features, score, source, logged_at) "
                "SELECT m.model_id, i::text, array_fill(0::float8, ARRAY[12]), 0.9, 'batch', now() - interval '1 minute' "
                "FROM pgscore.models m, generate_series(1, 20) i WHERE m.version = 2")
    refresh = psycopg2.connect(db_url)
    try:
        with refresh.cursor() as cur:
            cur.execute("SELECT now()")  # the refresh's transaction begins
            query(shop, "SELECT pgscore.activate('churn', 2)")  # v2 made live, committed, while it runs
            cur.execute("SELECT * FROM pgscore.refresh_monitoring()")
        refresh.commit()
    finally:
        refresh.close()
    (n, lo, hi), = query(shop, "SELECT count(*), min(w), max(w) FROM (SELECT count(*) w FROM pgscore.alert_state "
                               "WHERE version = 2 AND level = 'alert' GROUP BY what, subject, metric) c")
    assert n > 0 and query(shop, "SELECT count(*) FROM pgscore.alerts WHERE shadow") == [(0,)]
    out = " ".join(pgscore_cli("status", "--db", db_url).stdout.split())
    span = f"{lo}" if lo == hi else f"{lo}-{hi}"
    assert (f"alerts at the last refresh: churn: {n} condition{'s' if n != 1 else ''} at alert (in {span} "
            f"window{'s' if hi != 1 else ''}) (details: ") in out, out
    assert "of shadow versions" not in out, out

def test_set_shadow_refuses_a_version_a_wired_profile_table_cannot_feed(shop, db_url, trained):
    """set_shadow checked that the version loads, not that the wired profile tables have its features: every
    INSERT into the event table then warned, and the shadow scored nothing. Refused now, naming the model,
    the versions, the profile table and the columns, unless p_force (--force)."""
    deploy_v3(db_url, trained)
    with pytest.raises(errors.UndefinedColumn) as e:
        query(shop, "SELECT pgscore.set_shadow('churn', 3)")
    d = e.value.diag
    assert d.message_primary == ("version 3 of 'churn' cannot shadow version 1: public.customers, which "
                                 "public.complaints rescores with 'churn', has no column 'loyalty'; every INSERT "
                                 "into public.complaints would score nothing in shadow"), d.message_primary
    assert d.message_detail == "1 wiring(s) affected"
    assert "add the feature column(s) to the profile table first" in d.message_hint
    assert "pgscore.set_shadow('churn', 3, p_force => true) (pgscore shadow churn 3 --force)" in d.message_hint
    run = pgscore_cli("shadow", "churn", "3", "--db", db_url)
    assert run.returncode == 1 and "has no column 'loyalty'" in run.stderr and "42703" in run.stderr, run.stderr
    assert query(shop, "SELECT count(*) FROM pgscore.shadows") == [(0,)]
    run = pgscore_cli("shadow", "churn", "3", "--force", "--db", db_url)
    assert run.returncode == 0 and "churn version 3 is scored in shadow" in run.stdout, run.stderr
    run = pgscore_cli("shadow", "churn", "--off", "--force", "--db", db_url)
    assert run.returncode == 2 and "--force sets a shadow, --off stops one" in run.stderr
    query(shop, "SELECT pgscore.clear_shadow('churn')")
    # the column added: set
    query(shop, "ALTER TABLE customers ADD COLUMN loyalty float8")
    query(shop, "SELECT pgscore.set_shadow('churn', 3)")
    query(shop, "SELECT pgscore.clear_shadow('churn')")
    # a model with no wiring at all: set (score_table can still shadow-score)
    query(shop, "ALTER TABLE customers DROP COLUMN loyalty")
    query(shop, "SELECT pgscore.detach_rescoring('complaints')")
    query(shop, "SELECT pgscore.set_shadow('churn', 3)")


def test_set_shadow_refuses_a_version_of_another_count_than_the_features_array_holds(shop, db_url, trained):
    """A profile table of one float8[] column features, read by the live version: its arrays hold that
    version's count, and a shadow of another count could score none of them."""
    deploy_v3(db_url, trained)
    query(shop, "SELECT pgscore.detach_rescoring('complaints')")
    query(shop, "CREATE TABLE vec_profiles (id int PRIMARY KEY, features float8[], churn_score float8, scored_at timestamptz)")
    query(shop, "CREATE TABLE vec_events (customer_id int)")
    query(shop, "SELECT pgscore.attach_rescoring('vec_events', 'vec_profiles', 'customer_id', 'churn', 'churn_score', "
                "p_profile_key => 'id')")
    with pytest.raises(errors.ObjectNotInPrerequisiteState) as e:
        query(shop, "SELECT pgscore.set_shadow('churn', 3)")
    assert ("public.vec_profiles, which public.vec_events rescores with 'churn', its float8[] column features holds "
            "the 12 features of live version 1, and version 3 has 13") in e.value.diag.message_primary
    hint = e.value.diag.message_hint  # (columns added beside the array would not be read: it is read where there is one)
    assert hint.startswith("shadow a version trained on the 12 features of live version 1 in its order, or wire a "
                           "profile table of a column per feature (no float8[] column features); or detach"), hint
    assert "add the feature column(s)" not in hint and "p_force => true" in hint
    query(shop, "SELECT pgscore.set_shadow('churn', 2)")  # of the same count: fed
    query(shop, "SELECT pgscore.set_shadow('churn', 3, p_force => true)")
    assert query(shop, "SELECT version FROM pgscore.shadow_versions ORDER BY 1") == [(2,), (3,)]



def test_set_shadow_refuses_a_version_of_other_features_than_the_features_array_holds(shop, db_url, trained):
    """The features array of a profile table read by the live version holds that version's features in its order,
    and a shadow reads the same array by position: a version of as many features, named otherwise or in another
    order, was accepted (only the count was compared) and scored in shadow every profile on the live version's
    values as if they were its own, its wrong scores logged with nothing said. Refused now (55000), naming the
    first feature that differs."""
    v1, _, X, y = trained
    query(shop, "SELECT pgscore.detach_rescoring('complaints')")
    query(shop, "CREATE TABLE vec_profiles (id int PRIMARY KEY, features float8[], churn_score float8, scored_at timestamptz)")
    query(shop, "CREATE TABLE vec_events (customer_id int)")
    query(shop, "SELECT pgscore.attach_rescoring('vec_events', 'vec_profiles', 'customer_id', 'churn', 'churn_score', "
                "p_profile_key => 'id')")
    backwards = list(reversed(CHURN_FEATURES))  # v3: the same 12 features in the other order
    registry.deploy(db_url, "churn", LogisticRegression(max_iter=500).fit(X[:, ::-1], y), X[:, ::-1], y,
                    feature_names=backwards, activate=False, allow_feature_change=True)
    with pytest.raises(errors.ObjectNotInPrerequisiteState) as e:
        query(shop, "SELECT pgscore.set_shadow('churn', 3)")
    assert ("public.vec_profiles, which public.vec_events rescores with 'churn', its float8[] column features holds "
            f"the 12 features of live version 1 in its order, and version 3 reads {backwards[0]!r} where it holds "
            f"{CHURN_FEATURES[0]!r}") in e.value.diag.message_primary, e.value.diag.message_primary
    hint = e.value.diag.message_hint  # (the profile table has every feature: adding columns is no fix)
    assert hint.startswith("shadow a version trained on the 12 features of live version 1 in its order, or wire a "
                           "profile table of a column per feature (no float8[] column features); or detach"), hint
    assert "add the feature column(s)" not in hint
    assert "(pgscore score of a table that has a column per feature)" in hint
    assert query(shop, "SELECT count(*) FROM pgscore.shadows") == [(0,)]
    query(shop, "SELECT pgscore.set_shadow('churn', 2)")  # the same features in the same order: fed
    query(shop, "SELECT pgscore.set_shadow('churn', 3, p_force => true)")
    assert query(shop, "SELECT version FROM pgscore.shadow_versions ORDER BY 1") == [(2,), (3,)]

def test_score_table_scores_the_shadow_on_each_chunk_and_writes_only_the_live_score(shop, trained):
    v1, v2, *_ = trained
    query(shop, "SELECT pgscore.set_shadow('churn', 2)")
    query(shop, "CALL pgscore.score_table('churn', 'customers', 'id', 'churn_score', 20)")  # 3 chunks
    f = features(shop, range(1, N + 1))
    batch = {r[1]: r for r in log(shop, "batch")}
    shadow = {r[1]: r for r in log(shop, "shadow")}
    assert sorted(batch, key=int) == sorted(shadow, key=int) == [str(i) for i in range(1, N + 1)]
    assert {r[0] for r in batch.values()} == {1} and {r[0] for r in shadow.values()} == {2}
    X = np.array([f[i] for i in range(1, N + 1)])
    want2 = v2.predict_proba(X)[:, 1]
    assert [shadow[str(i)][2] for i in range(1, N + 1)] == pytest.approx(want2, abs=1e-12)
    assert [shadow[str(i)][3] for i in range(1, N + 1)] == [f[i] for i in range(1, N + 1)]
    assert {r[4]["via"] for r in shadow.values()} == {"score_table"}
    got = dict(query(shop, "SELECT id, churn_score FROM customers"))
    assert [got[i] for i in range(1, N + 1)] == pytest.approx(v1.predict_proba(X)[:, 1], abs=1e-9)
    # rows scored without a log are not shadowed, nor those of a version that is not live
    query(shop, "CALL pgscore.score_table('churn', 'customers', 'id', 'churn_score', 100, p_log => false)")
    query(shop, "SELECT pgscore.clear_shadow('churn')")
    query(shop, "SELECT pgscore.set_shadow('churn', 2)")
    query(shop, "CALL pgscore.score_table('churn', 'customers', 'id', 'churn_score', 100, p_version => 2)")
    assert len(log(shop, "shadow")) == N


def test_score_table_skips_a_shadow_whose_features_the_tables_features_array_holds_in_another_order(shop, db_url,
                                                                                                   trained):
    """A table of one float8[] column features holds the live version's features in its order (the live version
    reads it by position), and score_table's shadow read the same array by position: a version of as many
    features in another order scored every row on values that were not its features, its scores logged with
    nothing said (set_shadow refuses that for wired profile tables alone). Skipped now, with a WARNING naming the
    versions and the first feature that differs, counted as the shadow's failure (55000); the live version's
    scores written as always; a table of a column per feature is scored in shadow as before."""
    v1, _, X, y = trained
    backwards = list(reversed(CHURN_FEATURES))  # v3: the same 12 features in the other order
    v3 = LogisticRegression(max_iter=500).fit(X[:, ::-1], y)
    registry.deploy(db_url, "churn", v3, X[:, ::-1], y, feature_names=backwards, activate=False,
                    allow_feature_change=True)
    query(shop, "SELECT pgscore.set_shadow('churn', 3)")  # (customers, the wired profile table, feeds it by name)
    query(shop, "CREATE TABLE vec AS SELECT id, ARRAY[" + ", ".join(CHURN_FEATURES) + "]::float8[] AS features, "
                "NULL::float8 AS churn_score FROM customers")
    query(shop, "ALTER TABLE vec ADD PRIMARY KEY (id)")
    shop.notices.clear()
    query(shop, "CALL pgscore.score_table('churn', 'vec', 'id', 'churn_score', 20)")  # 3 chunks
    assert log(shop, "shadow") == []
    warned = [n for n in shop.notices if "shadow version churn v3" in n]
    assert len(warned) == 1, shop.notices
    assert (f"public.vec's float8[] column features holds the 12 features of live version 1 in its order, and "
            f"version 3 reads {backwards[0]!r} where it holds {CHURN_FEATURES[0]!r}") in warned[0], warned[0]
    assert "the live version's scores were written as usual, and the shadow's were not logged" in warned[0]
    assert query(shop, "SELECT relation, sqlstate, statements, profiles FROM pgscore.shadow_failures") == [
        ("public.vec", "55000", 3, N)]
    f = features(shop, range(1, N + 1))
    got = dict(query(shop, "SELECT id, churn_score FROM vec"))
    Xf = np.array([f[i] for i in range(1, N + 1)])
    assert [got[i] for i in range(1, N + 1)] == pytest.approx(v1.predict_proba(Xf)[:, 1], abs=1e-9)
    # a column per feature: read by name, scored in shadow
    query(shop, "CALL pgscore.score_table('churn', 'customers', 'id', 'churn_score', 20)")
    shadow = {r[1]: r for r in log(shop, "shadow")}
    assert [shadow[str(i)][2] for i in range(1, N + 1)] == pytest.approx(v3.predict_proba(Xf[:, ::-1])[:, 1],
                                                                          abs=1e-12)


def test_an_outcome_judges_the_live_prediction_not_the_shadows(shop):
    query(shop, "SELECT pgscore.set_shadow('churn', 2)")
    insert(shop, 12)  # the live row and the shadow's, logged at the same now()
    query(shop, "SELECT pgscore.record_outcome('churn', '12', '1', now() + interval '1 second')")
    assert query(shop, "SELECT version FROM pgscore.outcome_matches") == [(1,)]
    query(shop, "SELECT * FROM pgscore.refresh_monitoring(p_rebuild => true)")
    assert query(shop, "SELECT m.version FROM pgscore.outcomes o JOIN pgscore.models m "
                       "ON m.model_id = o.judged_model_id") == [(1,)]


def test_each_version_is_judged_on_its_own_prediction_the_shadows_too(shop):
    """realised_performance judges what was served; realised_performance_by_version judges each version's own
    newest prediction, a shadow's included: both when the outcome is recorded after the predictions and when
    refresh_monitoring finds predictions logged after the outcome was recorded."""
    query(shop, "SELECT pgscore.set_shadow('churn', 2)")
    query(shop, "SELECT pgscore.record_outcome('churn', '14', '0', now() + interval '1 second')")  # nothing yet
    insert(shop, 12, 14)
    query(shop, "SELECT pgscore.record_outcome('churn', '12', '1', now() + interval '1 second')")
    logged = {(v, k): s for v, k, s, _, _ in log(shop, "trigger") + log(shop, "shadow")}
    assert {v for v, _ in logged} == {1, 2}
    query(shop, "SELECT * FROM pgscore.refresh_monitoring()")  # finds 14's, logged after its outcome
    got = query(shop, "SELECT o.entity_key, jm.version, m.version, vm.score FROM pgscore.outcomes o "
                      "JOIN pgscore.models jm ON jm.model_id = o.judged_model_id "
                      "JOIN pgscore.outcome_version_matches vm USING (outcome_id) "
                      "JOIN pgscore.models m ON m.model_id = vm.model_id ORDER BY 1, 3")
    assert [(k, j, v) for k, j, v, _ in got] == [("12", 1, 1), ("12", 1, 2), ("14", 1, 1), ("14", 1, 2)]
    assert all(abs(score - logged[(v, k)]) < 1e-12 for k, _, v, score in got)
    rows = query(shop, "SELECT version, n FROM pgscore.realised_performance_by_version "
                       "WHERE model = 'churn' AND window_name = 'since deploy' ORDER BY version")
    assert rows == [(1, 2), (2, 2)], rows
    assert query(shop, "SELECT version, n FROM pgscore.realised_performance "
                       "WHERE model = 'churn' AND window_name = 'since deploy'") == [(1, 2)]


@pytest.mark.parametrize("call, state, words", [
    ("pgscore.set_shadow('nope', 1)", "42704", "there is no model 'nope'"),
    ("pgscore.set_shadow('churn', 9)", "42704", "there is no version 9 of model 'churn'"),
    ("pgscore.set_shadow('churn', 1)", "55000", "version 1 of 'churn' is its live version"),
    ("pgscore.set_shadow('churn', NULL)", "22004", "must not be NULL"),
    ("pgscore.set_shadow('churn', 2, NULL, NULL)", "22004", "p_force must not be NULL"),
    ("pgscore.clear_shadow('nope')", "42704", "there is no model 'nope'"),
    ("pgscore.clear_shadow('churn', 9)", "42704", "there is no version 9"),
])
def test_set_shadow_refuses(shop, call, state, words):
    with pytest.raises(psycopg2.Error) as e:
        query(shop, f"SELECT {call}")
    assert e.value.pgcode == state and words in str(e.value)
    assert query(shop, "SELECT count(*) FROM pgscore.shadows") == [(0,)]


def test_set_shadow_refuses_a_retired_model_and_one_it_cannot_load(shop, db_url):
    query(shop, "SELECT pgscore.retire('churn')")
    with pytest.raises(errors.ObjectNotInPrerequisiteState, match="has no live version \\(it was retired\\)"):
        query(shop, "SELECT pgscore.set_shadow('churn', 2)")
    query(shop, "SELECT pgscore.activate('churn', 1)")
    # a version whose artifact no longer verifies (its bytes changed behind the registry's back)
    with shop.cursor() as cur:
        cur.execute("ALTER TABLE pgscore.artifacts DISABLE TRIGGER artifacts_immutable")
        cur.execute("UPDATE pgscore.artifacts SET sha256 = repeat('0', 64) FROM pgscore.models m "
                    "WHERE m.model_id = artifacts.model_id AND m.version = 2")
        cur.execute("DELETE FROM pgscore.evaluators e USING pgscore.models m WHERE m.model_id = e.model_id "
                    "AND m.version = 2")
    with pytest.raises(psycopg2.Error, match="version 2 of 'churn' cannot be loaded by this server, so it cannot "
                                             "shadow version 1"):
        query(shop, "SELECT pgscore.set_shadow('churn', 2)")
    shop.notices.clear()
    query(shop, "SELECT pgscore.clear_shadow('churn')")
    assert "model 'churn' has no shadow version" in shop.notices[-1]


def test_clear_shadow_of_a_version_that_is_not_there_hints_where_the_shadows_are_listed(shop, db_url):
    """clear_shadow's error for a version that is not there had no hint (activate's, rollback's and retire's name
    where the models are listed, 0058): it names where the shadows are, in SQL and as the command line runs."""
    with pytest.raises(errors.UndefinedObject) as e:
        query(shop, "SELECT pgscore.clear_shadow('churn', 9)")
    assert e.value.diag.message_hint == ("list the shadows with: SELECT * FROM pgscore.shadow_versions "
                                         "(or pgscore status)"), e.value.diag.message_hint
    run = pgscore_cli("shadow", "churn", "9", "--off", "--db", db_url)
    assert run.returncode == 1 and "there is no version 9 of model 'churn'" in run.stderr, run.stderr
    assert f"pgscore.shadow_versions (or pgscore {hinted(db_url)}status)" in run.stderr, run.stderr


def test_the_cli_sets_lists_and_stops_a_shadow(shop, db_url):
    run = pgscore_cli("shadow", "churn", "2", "--reason", "the forest", "--db", db_url)
    assert run.returncode == 0 and "churn version 2 is scored in shadow" in run.stdout, run.stderr
    # again: said so (it printed the same as the first time, as if it had started something)
    run = pgscore_cli("shadow", "churn", "2", "--db", db_url)
    assert (run.returncode, run.stdout) == (0, "churn version 2 is scored in shadow already: nothing was changed\n"), \
        run.stdout + run.stderr
    # and where the session's client_min_messages drops the server's NOTICE (PGOPTIONS, a user's setting):
    # it printed `is scored in shadow` then, as if it had started something
    run = pgscore_cli("shadow", "churn", "2", "--db", db_url, env={"PGOPTIONS": "-c client_min_messages=warning"})
    assert (run.returncode, run.stdout) == (0, "churn version 2 is scored in shadow already: nothing was changed\n"), \
        run.stdout + run.stderr
    run = pgscore_cli("models", "--db", db_url)
    lines = run.stdout.splitlines()
    assert " yes " in lines[1] and " shadow " in lines[2], run.stdout
    run = pgscore_cli("show", "churn", "--version", "2", "--db", db_url)
    assert "churn version 2 (model_id" in run.stdout and "- in shadow" in run.stdout
    assert " shadow   v2 by " in run.stdout and ": the forest" in run.stdout, run.stdout
    run = pgscore_cli("shadow", "churn", "--off", "--db", db_url)
    assert run.returncode == 0 and "churn: 1 shadow version stopped: v2\n" == run.stdout, run.stderr
    run = pgscore_cli("show", "churn", "--version", "2", "--db", db_url)
    assert "- in shadow" not in run.stdout and " unshadow v2 by " in run.stdout, run.stdout
    run = pgscore_cli("shadow", "churn", "--db", db_url)
    assert run.returncode == 2 and "give a VERSION to score in shadow, or --off" in run.stderr


def test_shadow_off_names_the_versions_it_stopped(shop, db_url, trained):
    """`pgscore shadow NAME --off` said "2 shadow versions stopped" and named none: it names them, as the SQL
    clear_shadow stopped them (the 'stop' rows of its own transaction: not a shadow another session stops
    meanwhile); with a VERSION, that one. The registry call reads them in one transaction on an autocommit
    connection too."""
    v1, v2, X, y = trained
    registry.deploy(db_url, "churn", v2, X, y, feature_names=CHURN_FEATURES, activate=False)  # v3
    for v in (2, 3):
        assert pgscore_cli("shadow", "churn", str(v), "--db", db_url).returncode == 0
    run = pgscore_cli("shadow", "churn", "--off", "--db", db_url)
    assert (run.returncode, run.stdout) == (0, "churn: 2 shadow versions stopped: v2, v3\n"), run.stdout + run.stderr
    assert query(shop, "SELECT count(*) FROM pgscore.shadow_versions") == [(0,)]
    pgscore_cli("shadow", "churn", "3", "--db", db_url)
    run = pgscore_cli("shadow", "churn", "3", "--off", "--db", db_url)
    assert (run.returncode, run.stdout) == (0, "churn: 1 shadow version 3 stopped\n"), run.stdout + run.stderr
    run = pgscore_cli("shadow", "churn", "--off", "--db", db_url)
    assert (run.returncode, run.stdout) == (0, "churn: no shadow versions to stop: nothing was changed\n"), \
        run.stdout + run.stderr
    # the registry's call, on the fixture's connection (autocommit): the versions, committed
    registry.set_shadow(db_url, "churn", 2)
    assert shop.autocommit
    assert registry.clear_shadow_versions(shop, "churn") == [2]
    assert registry.clear_shadow_versions(shop, "churn") == []
    assert query(db_url, "SELECT count(*) FROM pgscore.shadow_versions") == [(0,)]


def test_clear_shadow_versions_names_only_the_shadows_it_stopped_after_a_go_live_in_its_transaction(
        shop, db_url, trained):
    """clear_shadow_versions reads the 'stop' rows its transaction appended: since 0121 a go-live of a shadow in
    that transaction appends one too (end_shadow_made_live), and it named that version among those it stopped
    ([2, 3] for the one, v3, that clear_shadow stopped: its count, 1, and the list disagreed)."""
    v1, v2, X, y = trained
    registry.deploy(db_url, "churn", v2, X, y, feature_names=CHURN_FEATURES, activate=False)  # v3
    registry.set_shadow(db_url, "churn", 2)
    registry.set_shadow(db_url, "churn", 3)
    conn = psycopg2.connect(db_url)
    try:
        with conn:  # one transaction: v2 made live (its shadow ended by the go-live), then the shadows cleared
            registry.activate(conn, "churn", 2)
            assert registry.clear_shadow_versions(conn, "churn") == [3]
    finally:
        conn.close()
    assert query(db_url, "SELECT m.version, s.action, s.reason FROM pgscore.shadows s JOIN pgscore.models m "
                         "USING (model_id) ORDER BY s.shadow_id") == [
        (2, "start", None), (3, "start", None), (2, "stop", "made live by activate"), (3, "stop", None)]


def test_activate_names_the_shadow_version_it_ended(shop, db_url, trained):
    """`pgscore activate NAME VERSION` of a version scored in shadow ends its mark (the guide says so), and
    said only `is live`: it names the shadow version that stopped, as `pgscore shadow NAME --off` does; another
    shadow goes on and is not named; an activate that ends none (or changes nothing) says no more than before."""
    v1, v2, X, y = trained
    registry.deploy(db_url, "churn", v2, X, y, feature_names=CHURN_FEATURES, activate=False)  # v3
    for v in (2, 3):
        assert pgscore_cli("shadow", "churn", str(v), "--db", db_url).returncode == 0
    run = pgscore_cli("activate", "churn", "2", "--db", db_url)
    assert (run.returncode, run.stdout) == (0, "churn version 2 is live\nchurn: 1 shadow version stopped: v2 (a live "
                                               "version is not scored in shadow)\n"), run.stdout + run.stderr
    assert query(shop, "SELECT version FROM pgscore.shadow_versions") == [(3,)]
    run = pgscore_cli("activate", "churn", "2", "--db", db_url)
    assert (run.returncode, run.stdout) == (0, "churn version 2 is live already: nothing was changed\n"), run.stdout
    run = pgscore_cli("activate", "churn", "1", "--db", db_url)
    assert (run.returncode, run.stdout) == (0, "churn version 1 is live\n"), run.stdout + run.stderr
    assert registry.activate(db_url, "churn", 3)["shadows_ended"] == [3]
    assert query(shop, "SELECT count(*) FROM pgscore.shadow_versions") == [(0,)]


def test_rollback_names_the_shadow_version_it_ended(shop, db_url, trained):
    """`pgscore rollback NAME` back to a version scored in shadow meanwhile ends its mark, and said only `is live
    again` (a new user's trial, through alembic's downgrade): it names the shadow that stopped, as activate does."""
    assert pgscore_cli("activate", "churn", "2", "--db", db_url).returncode == 0
    assert pgscore_cli("shadow", "churn", "1", "--db", db_url).returncode == 0
    run = pgscore_cli("rollback", "churn", "--db", db_url)
    assert (run.returncode, run.stdout) == (0, "churn version 1 is live again\nchurn: 1 shadow version stopped: v1 (a "
                                               "live version is not scored in shadow)\n"), run.stdout + run.stderr
    run = pgscore_cli("rollback", "churn", "--to", "2", "--db", db_url)
    assert (run.returncode, run.stdout) == (0, "churn version 2 is live again\n"), run.stdout + run.stderr
    assert registry.rollback(db_url, "churn", 1)["shadows_ended"] == []


def test_code_newer_than_its_schema_rescores_and_scores_tables_as_before_then_shadows_once_installed(empty_db_url,
                                                                                                    trained):
    """The server restarted with this release and pgscore install not run yet (docs/operations.md, 'Upgrading';
    here a schema at 0051 under a wiring attached at head): the trigger's statements and score_table named
    pgscore.shadows, which that schema lacks, so every INSERT of a strict wiring failed (queued where not strict)
    and score_table failed; pgscore status failed on the wiring's row trigger for replicated rows. They rescore,
    score and report as before; once the schema is upgraded, the same session
    scores a shadow set then (the wiring it cached is read again)."""
    from pgscore import migrate

    v1, v2, X, y = trained
    migrate.upgrade(empty_db_url)
    conn = make_shop(empty_db_url, v1, X, y, N)  # linear: the statement that scores in SQL, and the general one
    registry.deploy(empty_db_url, "churn", v2, X, y, feature_names=CHURN_FEATURES, activate=False)
    with conn.cursor() as cur:
        sample.rescore_complaints(cur, strict=True)
    conn.close()
    migrate.downgrade(empty_db_url, "0051")
    conn = psycopg2.connect(empty_db_url)
    conn.autocommit = True
    try:
        insert(conn, 1, 2)
        insert(conn, 3)
        assert query(conn, "SELECT count(*) FROM customers WHERE churn_score IS NOT NULL AND id <= 3") == [(3,)]
        assert query(conn, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
        query(conn, "CALL pgscore.score_table('churn', 'customers', 'id', 'churn_score')")
        assert query(conn, "SELECT count(*) FROM customers WHERE churn_score IS NULL") == [(0,)]
        run = pgscore_cli("status", "--db", empty_db_url)  # (it read the replication trigger's column: an error)
        assert "error" not in run.stderr and "rescoring: 1 wiring" in run.stdout, run.stdout + run.stderr
        migrate.upgrade(empty_db_url)
        query(conn, "SELECT pgscore.set_shadow('churn', 2)")
        insert(conn, 4)
        assert [r[:2] for r in log(conn, "shadow")] == [(2, "4")]
    finally:
        conn.close()


# -- what another session changes while a statement scores --------------------------------------------------

def pause_before(conn, module, function, lock):
    """In `conn`'s backend, make pgscore's `module`.`function` wait for advisory lock `lock` (which the test
    holds) before it runs: a point inside a statement where another session's commits become visible to the
    statements after it (READ COMMITTED), as they may at any moment on a busy server."""
    query(conn, "CREATE FUNCTION pg_temp.pause_before(m text, f text, k int8) RETURNS void LANGUAGE plpython3u AS $$\n"
                "import importlib\n"
                "mod = importlib.import_module(m)\n"
                "orig = getattr(mod, f)\n"
                "def paused(plpy, *a, **kw):\n"
                "    plpy.execute('SELECT pg_catalog.pg_advisory_lock(%d)' % k)\n"
                "    plpy.execute('SELECT pg_catalog.pg_advisory_unlock(%d)' % k)\n"
                "    return orig(plpy, *a, **kw)\n"
                "setattr(mod, f, paused)\n"
                "$$")
    query(conn, "SELECT pg_temp.pause_before(%s, %s, %s)", (module, function, lock))


def while_paused(db_url, conn, statement, lock, changes):
    """`statement` on `conn` (paused by pause_before on `lock`) in a thread; once it waits, `changes` run and
    commit on another connection; then it goes on. Returns the notices it raised."""
    import threading

    other, probe = psycopg2.connect(db_url), psycopg2.connect(db_url)
    other.autocommit = probe.autocommit = True
    try:
        query(other, "SELECT pg_catalog.pg_advisory_lock(%s)", (lock,))
        done, pid = [], conn.get_backend_pid()
        conn.notices.clear()
        t = threading.Thread(target=lambda: done.append(query(conn, statement)))
        t.start()
        assert waits_on_a_lock(probe, pid, t), "the statement never came to the pause"
        for c in changes:
            query(other, c)
        query(other, "SELECT pg_catalog.pg_advisory_unlock(%s)", (lock,))
        t.join(30)
        assert done and not t.is_alive(), "the statement failed or did not finish"
        return list(conn.notices)
    finally:
        other.close()
        probe.close()


def test_a_version_made_live_elsewhere_and_marked_a_shadow_while_the_trigger_scores_is_not_its_own_shadow(
        shop, db_url, trained):
    """The trigger reads which version is live, then (a statement later) which are shadows. Another session
    that in between makes v2 live and marks v1 (live for this statement) a shadow: v1 wrote the profiles, and
    was scored again as its own shadow (its rows logged twice, 'shadow_of' itself). The live version of the
    statement is never one of its shadows; the others (v3) still score."""
    v1, v2, X, y = trained
    registry.deploy(db_url, "churn", v2, X, y, feature_names=CHURN_FEATURES, activate=False)  # v3
    query(shop, "SELECT pgscore.set_shadow('churn', 3)")
    insert(shop, 1)  # (the modules loaded, the wiring's plans made)
    pause_before(shop, "pgscore.rescoring", "_shadowing", 424201)
    notices = while_paused(db_url, shop, "INSERT INTO complaints (customer_id, kind) VALUES (2, 'billing')", 424201,
                           ["SELECT pgscore.activate('churn', 2)", "SELECT pgscore.set_shadow('churn', 1)"])
    assert not [n for n in notices if "WARNING" in n], notices
    ids = dict(query(shop, "SELECT version, model_id FROM pgscore.models"))
    rows = query(shop, "SELECT m.version, l.source, (l.cause->>'shadow_of')::int8 FROM pgscore.prediction_log l "
                       "JOIN pgscore.models m USING (model_id) WHERE l.entity_key = '2' ORDER BY 1, 2")
    assert rows == [(1, "trigger", None), (3, "shadow", ids[1])], rows
    got = query(shop, "SELECT churn_score FROM customers WHERE id = 2")[0][0]
    assert got == pytest.approx(v1.predict_proba(np.array([features(shop, [2])[2]]))[0, 1], abs=1e-9)


@pytest.mark.parametrize("live, shadow", [(1, 2), (2, 1)])  # the chunk scored in SQL (linear), in Python (forest)
def test_score_tables_shadow_scores_the_rows_the_live_version_wrote_not_a_row_inserted_since(shop, db_url, live,
                                                                                             shadow):
    """score_table's shadow read the chunk's rows again by their key range, in a later statement: a row
    inserted into that range by another session in between (its key between two the live version scored)
    was scored and logged by the shadow alone, never by the live version in this run. The shadow scores the
    rows the live version wrote, those only."""
    query(shop, "CREATE TABLE scored AS SELECT 1000 + id * 10 AS id, " + ", ".join(CHURN_FEATURES)
                + ", NULL::float8 AS churn_score FROM customers WHERE id <= 3")
    query(shop, "ALTER TABLE scored ADD PRIMARY KEY (id)")
    query(shop, "SELECT pgscore.activate('churn', %s)", (live,))
    query(shop, "SELECT pgscore.set_shadow('churn', %s)", (shadow,))
    query(shop, "CALL pgscore.score_table('churn', 'customers', 'id', 'churn_score', 5)")  # (modules loaded)
    pause_before(shop, "pgscore.batch", "shadow_chunk", 424202)
    while_paused(db_url, shop, "CALL pgscore.score_table('churn', 'scored', 'id', 'churn_score', 10)", 424202,
                 ["INSERT INTO scored SELECT 1015, " + ", ".join(CHURN_FEATURES) + " FROM customers WHERE id = 4"])
    rows = query(shop, "SELECT m.version, l.entity_key, l.source FROM pgscore.prediction_log l JOIN pgscore.models m "
                       "USING (model_id) WHERE l.cause->>'via' = 'score_table' AND l.entity_key IN "
                       "('1010', '1015', '1020', '1030') ORDER BY l.entity_key, 1")
    assert rows == [(v, k, src) for k in ("1010", "1020", "1030")
                    for v, src in sorted([(live, "batch"), (shadow, "shadow")])], rows
    assert query(shop, "SELECT id FROM scored WHERE churn_score IS NULL") == [(1015,)]


def test_counting_a_shadows_failures_never_fails_the_insert_of_a_session_clear_shadow_meets(shop, db_url, trained):
    """clear_shadow (and set_shadow) delete the version's rows of every backend. They waited for a row a session
    counted into in its open transaction, holding the rows deleted before it: that session, counting into one of
    those next, waited for them in turn, and the deadlock failed its INSERT (40P01). They wait for none now."""
    deploy_v3(db_url, trained)
    query(shop, "SELECT pgscore.set_shadow('churn', 3, p_force => true)")
    query(shop, "CREATE TABLE customers2 AS SELECT * FROM customers")
    query(shop, "ALTER TABLE customers2 ADD PRIMARY KEY (id)")
    user = connect(db_url)
    insert(user, 1)  # this backend's row for public.customers (first in the heap)
    query(user, "CALL pgscore.score_table('churn', 'customers2', 'id', 'churn_score', 100)")  # and public.customers2's
    assert query(shop, "SELECT count(*) FROM pgscore.shadow_failures") == [(2,)]
    user.autocommit = False
    query(user, "CALL pgscore.score_table('churn', 'customers2', 'id', 'churn_score', 100, p_commit => false)")
    admin = connect(db_url)
    try:
        query(admin, "SET lock_timeout = '5s'")  # (it waited for the user's row, then the user for its)
        assert query(admin, "SELECT pgscore.clear_shadow('churn', 3)") == [(1,)]
        insert(user, 2)  # counts into public.customers' row, which clear_shadow deleted
        user.commit()
    finally:
        user.rollback()
        for c in (user, admin):
            c.close()
    # the row counted into while it was cleared is left, with its counts: the other went
    assert query(shop, "SELECT relation FROM pgscore.shadow_failures") == [("public.customers2",)]


def race(db_url, hold, statement):
    """`hold` in a transaction left open, then `statement` (autocommit) in a thread on another connection; the
    statement must come to wait on a lock before the first commits. Returns its rows, or the error it raised."""
    import threading

    holder, waiter, probe = (psycopg2.connect(db_url) for _ in range(3))
    waiter.autocommit = probe.autocommit = True
    done = []

    def run():
        try:
            done.append(query(waiter, statement))
        except psycopg2.Error as e:
            done.append(e)
    try:
        query(holder, hold)
        t = threading.Thread(target=run)
        t.start()
        assert waits_on_a_lock(probe, waiter.get_backend_pid(), t, seconds=5), f"{statement} never waited for {hold}"
        holder.commit()
        t.join(30)
        assert done and not t.is_alive()
        return done[0]
    finally:
        holder.rollback()
        for c in (holder, waiter, probe):
            c.close()


def test_set_shadow_of_a_version_being_made_live_waits_and_refuses_it(shop, db_url):
    """activate took no lock of the name (set_shadow takes its row of pgscore.model_locks): a set_shadow of v2
    while an activate of v2 was uncommitted checked against v1, still live for it, and marked v2 a shadow; the
    mark was dead on arrival (a version made live since its mark is no shadow: never both), but set_shadow said
    it had started, having checked the wired tables against the wrong live version. It waits now, and refuses
    the version that went live."""
    got = race(db_url, "SELECT pgscore.activate('churn', 2)", "SELECT pgscore.set_shadow('churn', 2)")
    assert isinstance(got, psycopg2.Error) and got.pgcode == "55000", got
    assert "version 2 of 'churn' is its live version: it cannot be its own shadow" in str(got)
    assert query(shop, "SELECT count(*) FROM pgscore.shadows") == [(0,)]
    # the other way round: the activate waits for the mark, and ends it
    assert race(db_url, "SELECT pgscore.set_shadow('churn', 1)", "SELECT pgscore.activate('churn', 1)")
    assert query(shop, "SELECT version FROM pgscore.model_versions WHERE live OR shadow") == [(1,)]
    assert query(shop, "SELECT count(*) FROM pgscore.shadow_versions") == [(0,)]


def test_an_outcome_for_an_entity_only_a_shadow_scored_says_so(shop):
    """record_outcome's notice for an entity with no served prediction said that no prediction of the model was
    logged, where the shadow's was, and the outcome judges it (realised_performance_by_version)."""
    query(shop, "SELECT pgscore.set_shadow('churn', 2)")
    # the shadow's prediction alone (the live version's failed, say, and waits in the error queue)
    query(shop, "INSERT INTO pgscore.prediction_log (model_id, entity_key, features, score, label, source) "
                "SELECT model_id, '77', array_fill(0::float8, ARRAY[12]), 0.25, '0', 'shadow' FROM pgscore.models "
                "WHERE name = 'churn' AND version = 2")
    shop.notices.clear()
    query(shop, "SELECT pgscore.record_outcome('churn', '77', '1', now() + interval '1 second')")
    said = " ".join(shop.notices)
    assert "no served prediction of 'churn' for entity '77' was logged at or before" in said, said
    assert "only version 2 scored it, in shadow" in said and "no prediction of" not in said, said
    assert "realised_performance_by_version" in said, said
    assert query(shop, "SELECT m.version, vm.score FROM pgscore.outcome_version_matches vm "
                       "JOIN pgscore.models m USING (model_id)") == [(2, 0.25)]
    assert query(shop, "SELECT judged_model_id FROM pgscore.outcomes") == [(None,)]
    shop.notices.clear()  # an entity nothing scored: as before
    query(shop, "SELECT pgscore.record_outcome('churn', '78', '1')")
    assert "no prediction of 'churn' for entity '78' was logged" in " ".join(shop.notices)


def test_code_newer_than_its_schema_counts_a_shadows_failures_as_that_schema_does(empty_db_url, trained):
    """A schema from before count_shadow_failure (the server restarted with this release, pgscore install not run
    yet): the failure is counted into pgscore.shadow_failures directly, as that schema's roles may; once
    upgraded, the same session counts through the function."""
    from pgscore import migrate

    v1, _, X, y = trained
    migrate.upgrade(empty_db_url, "0062")
    conn = make_shop(empty_db_url, v1, X, y, N, rescore=True)
    deploy_v3(empty_db_url, trained)  # v2 here
    try:
        query(conn, "SELECT pgscore.set_shadow('churn', 2, p_force => true)")
        insert(conn, 1)
        insert(conn, 2, 3)
        assert query(conn, "SELECT statements, profiles FROM pgscore.shadow_failures") == [(2, 3)]
        assert not [n for n in conn.notices if "not counted" in n], conn.notices
        # (an app login's: the superuser may write the table anyway)
        ensure_role(conn, "pgscore_t_counter")
        query(conn, "GRANT pgscore_app TO pgscore_t_counter")
        query(conn, "GRANT SELECT, INSERT, UPDATE ON customers, complaints TO pgscore_app")
        query(conn, "SET ROLE pgscore_t_counter")
        insert(conn, 4)
        migrate.upgrade(empty_db_url)  # the app's INSERT on the table revoked: it counts through the function
        insert(conn, 5)
        query(conn, "RESET ROLE")
        assert query(conn, "SELECT statements, profiles FROM pgscore.shadow_failures") == [(4, 5)]
        assert not [n for n in conn.notices if "not counted" in n], conn.notices
    finally:
        conn.close()


def test_a_session_that_counted_into_the_table_directly_counts_through_the_function_once_upgraded(
        empty_db_url, trained):
    """A session that met a shadow's failure on a schema from before count_shadow_failure, with a role that may
    still write pgscore.shadow_failures once upgraded (a superuser: a subscription's apply worker, most often):
    it went on counting with its direct INSERT for as long as it lived after pgscore install, which waits for
    the row a transaction it PREPAREd holds (what migration 0067 ended for the function). It counts through
    the function from its next failure after the upgrade."""
    from pgscore import migrate

    v1, _, X, y = trained
    migrate.upgrade(empty_db_url, "0062")
    conn = make_shop(empty_db_url, v1, X, y, N, rescore=True)
    deploy_v3(empty_db_url, trained)  # v2 here
    try:
        query(conn, "SELECT pgscore.set_shadow('churn', 2, p_force => true)")
        insert(conn, 1)  # counted with the INSERT, as that schema's roles did
        migrate.upgrade(empty_db_url)
        query(conn, "SET track_functions = 'all'")
        query(conn, "BEGIN")
        insert(conn, 2, 3)
        assert query(conn, "SELECT calls FROM pg_stat_xact_user_functions WHERE schemaname = 'pgscore' "
                           "AND funcname = 'count_shadow_failure'") == [(1,)]
        query(conn, "COMMIT")
        assert query(conn, "SELECT statements, profiles FROM pgscore.shadow_failures") == [(2, 3)]
        assert not [n for n in conn.notices if "not counted" in n], conn.notices
    finally:
        conn.close()


def prepared_shop_with_a_failing_shadow(c, trained):
    """A cluster of one's own (c) made to take prepared transactions (max_prepared_transactions = 4, restarted),
    migrated, holding the shop wired to rescore, and churn's version 2 (a column the profile table lacks) set in
    shadow with p_force, so that each INSERT's shadow fails. Returns the database's URL."""
    from pgscore import migrate

    v1, _, X, y = trained
    query(c.url("postgres"), "ALTER SYSTEM SET max_prepared_transactions = 4")
    c.stop()
    c.start()
    url = c.url()
    migrate.upgrade(url)
    make_shop(url, v1, X, y, N, rescore=True).close()
    deploy_v3(url, trained)  # v2: a column the profile table lacks
    query(url, "SELECT pgscore.set_shadow('churn', 2, p_force => true)")
    return url


def test_a_shadows_failure_after_a_prepared_transaction_that_counted_one_is_counted_without_waiting_for_it(trained):
    """A transaction PREPAREd (PREPARE TRANSACTION: a two_phase subscription's apply worker, an application's
    two-phase commit) keeps its row locks until COMMIT PREPARED, which the backend that prepared it may be the
    one to run, later: this backend's row of pgscore.shadow_failures, where it counted a failure, among them.
    The next statement of that backend in which the shadow failed waited for it, for ever (an apply worker: the
    subscription stalled). It counts into the backend's second row now, and with that one held too, counts
    nothing and says so; nothing waits. On a cluster of its own (max_prepared_transactions)."""
    from helpers import own_cluster

    with own_cluster("pgscore-prepared-") as c:
        url = prepared_shop_with_a_failing_shadow(c, trained)
        conn = connect(url)
        try:
            query(conn, "SET statement_timeout = '10s'")  # (it waited for ever: canceled)
            pid = conn.get_backend_pid()
            query(conn, "BEGIN; INSERT INTO complaints (customer_id) VALUES (1); PREPARE TRANSACTION 'g1'")
            insert(conn, 2)  # counted into the second row, which the next prepared transaction holds then
            query(conn, "BEGIN; INSERT INTO complaints (customer_id) VALUES (3); PREPARE TRANSACTION 'g2'")
            conn.notices.clear()
            insert(conn, 4)  # both held: not counted, and said once
            assert [n for n in conn.notices if "not counted" in n and "PREPARE" in n], conn.notices
            insert(conn, 5)
            for gid in ("g1", "g2"):
                query(conn, f"COMMIT PREPARED '{gid}'")
            insert(conn, 6)  # this backend's row again
            assert query(conn, "SELECT backend_pid, statements FROM pgscore.shadow_failures ORDER BY 1") == [
                (-pid, 2), (pid, 2)]
            assert query(conn, "SELECT count(*) FROM complaints") == [(6,)]
            assert query(conn, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
        finally:
            query(url, "SELECT pgscore.clear_shadow('churn')")
            for gid, in query(url, "SELECT gid FROM pg_prepared_xacts"):
                query(url, f"ROLLBACK PREPARED '{gid}'")
            conn.close()


def test_a_login_holding_the_counts_advisory_locks_neither_silences_a_shadows_failures_nor_makes_a_count_wait(
        trained):
    """count_shadow_failure takes the advisory locks (hashtext('pgscore.shadow_failures'), pid) and (..., -pid) to
    tell a row a prepared transaction holds; any login may take an advisory lock, and one granted nothing held both
    of another backend's (its pid is in pg_stat_activity): that backend's failures were counted nothing (NULL) for as
    long as it held them, and its warning blamed transactions it PREPAREd, which it had none of. Counted now, while
    no prepared transaction holds a lock on pgscore.shadow_failures; with one that does, nothing is counted and
    nothing waits, as before. On a cluster of its own (max_prepared_transactions)."""
    from helpers import own_cluster

    with own_cluster("pgscore-forged-") as c:
        url = prepared_shop_with_a_failing_shadow(c, trained)
        ensure_role(url, "pgscore_t_nobody", login=True)
        conn = connect(url)
        nobody = connect(url.replace("postgres@", "pgscore_t_nobody@", 1))
        try:
            query(conn, "SET statement_timeout = '10s'")
            pid = conn.get_backend_pid()
            assert query(nobody, "SELECT pg_has_role('pgscore_app', 'MEMBER') OR pg_has_role('pgscore_admin', "
                                 "'MEMBER') OR pg_has_role('pgscore_reader', 'MEMBER')") == [(False,)]
            query(nobody, "SELECT pg_advisory_lock(hashtext('pgscore.shadow_failures'), %s), "
                          "pg_advisory_lock(hashtext('pgscore.shadow_failures'), -%s)", (pid, pid))
            conn.notices.clear()
            insert(conn, 1)
            insert(conn, 2, 3)
            assert query(conn, "SELECT backend_pid, statements, profiles FROM pgscore.shadow_failures") == [
                (pid, 2, 3)]
            assert not [n for n in conn.notices if "not counted" in n], conn.notices
            # a transaction that counted without the lock, then PREPAREd: the next count does not wait for it
            query(conn, "BEGIN; INSERT INTO complaints (customer_id) VALUES (4); PREPARE TRANSACTION 'g1'")
            insert(conn, 5)
            assert [n for n in conn.notices if "not counted" in n and "PREPARE" in n], conn.notices
            query(conn, "COMMIT PREPARED 'g1'")
            insert(conn, 6)
            assert query(conn, "SELECT backend_pid, statements, profiles FROM pgscore.shadow_failures") == [
                (pid, 4, 5)]
            assert query(conn, "SELECT count(*) FROM complaints") == [(6,)]
        finally:
            nobody.close()
            query(url, "SELECT pgscore.clear_shadow('churn')")
            for gid, in query(url, "SELECT gid FROM pg_prepared_xacts"):
                query(url, f"ROLLBACK PREPARED '{gid}'")
            conn.close()


def vec_tables(shop):
    """A profile table of one float8[] column features, its profiles holding customers' features in churn v1's
    order, and an event table."""
    query(shop, "CREATE TABLE vec_profiles (id int PRIMARY KEY, features float8[], churn_score float8, scored_at timestamptz)")
    query(shop, "INSERT INTO vec_profiles (id, features) SELECT id, ARRAY[" + ", ".join(CHURN_FEATURES)
                + "]::float8[] FROM customers")
    query(shop, "CREATE TABLE vec_events (customer_id int)")


def attach_vec(shop):
    query(shop, "SELECT pgscore.attach_rescoring('vec_events', 'vec_profiles', 'customer_id', 'churn', 'churn_score', "
                "p_profile_key => 'id')")


def vec_wiring(shop):
    """vec_tables wired to rescore with churn (no counters: the live version reads the array, by position)."""
    vec_tables(shop)
    attach_vec(shop)


def deploy_backwards(db_url, trained, activate=False):
    """The next version of churn: the same 12 features in the other order."""
    _, _, X, y = trained
    return registry.deploy(db_url, "churn", LogisticRegression(max_iter=500).fit(X[:, ::-1], y), X[:, ::-1], y,
                           feature_names=list(reversed(CHURN_FEATURES)), activate=activate, allow_feature_change=True)


def test_attach_rescoring_refuses_a_features_array_that_a_shadow_set_before_would_read_in_another_order(shop, db_url,
                                                                                                        trained):
    """set_shadow compares a shadow with the float8[] column features of the profile tables wired then; a table
    wired after it was not compared: the trigger read the shadow's features by position from the live version's
    array, and logged every profile's shadow score computed on values that are not its features. attach_rescoring
    refuses it now (55000), naming the versions and the first feature that differs, with the hint to clear it."""
    deploy_backwards(db_url, trained)
    query(shop, "SELECT pgscore.set_shadow('churn', 3)")  # (customers, wired, feeds it by name)
    vec_tables(shop)
    with pytest.raises(errors.ObjectNotInPrerequisiteState) as e:
        attach_vec(shop)
    msg = e.value.diag.message_primary
    assert msg == (
        f"pgscore: public.vec_profiles cannot be wired to rescore with 'churn' while version 3 is its shadow: its float8[] "
        f"column features holds the 12 features of live version 1 in its order, and version 3 reads "
        f"{CHURN_FEATURES[-1]!r} where it holds {CHURN_FEATURES[0]!r}; read by position, every INSERT into "
        f"public.vec_events would score the shadow on values that are not its features"), msg
    assert e.value.diag.message_hint.startswith("clear the shadow first: pgscore.clear_shadow('churn', 3) "
                                                "(pgscore shadow churn 3 --off), then wire the table")
    assert query(shop, "SELECT count(*) FROM pgscore.rescoring WHERE event_table = 'public.vec_events'") == [(0,)]
    # a shadow of the live version's features in its order reads the array as its own: wired
    query(shop, "SELECT pgscore.clear_shadow('churn', 3)")
    query(shop, "SELECT pgscore.set_shadow('churn', 2)")
    attach_vec(shop)
    query(shop, "INSERT INTO vec_events VALUES (1), (2)")
    assert [r[:2] for r in log(shop, "shadow")] == [(2, "1"), (2, "2")]


def test_a_version_made_live_whose_features_array_a_shadow_would_read_in_another_order_is_refused(shop, db_url,
                                                                                                  trained):
    """set_shadow compared the shadow with the version live then; activate, rollback and a deploy that makes its
    version live did not compare the shadows with the version they made live: a shadow of v1's order, v3 (the
    other order) made live, read the v3-ordered array of a wired profile table by position, and logged its scores
    on values that are not its features. The deployments' trigger refuses it now (55000), as every way a version
    goes live inserts its row, naming the versions, the tables and the first feature that differs."""
    vec_wiring(shop)
    deploy_backwards(db_url, trained)  # v3
    query(shop, "SELECT pgscore.set_shadow('churn', 2)")  # v1's features in v1's order: set
    with pytest.raises(errors.ObjectNotInPrerequisiteState) as e:
        query(shop, "SELECT pgscore.activate('churn', 3)")
    msg = e.value.diag.message_primary
    assert msg == (
        f"version 3 of 'churn' cannot be made live while version 2 is its shadow: public.vec_profiles, which "
        f"public.vec_events rescores with 'churn', has one float8[] column features, which holds the 12 "
        f"features of live version 3 in its order, and version 2 reads {CHURN_FEATURES[0]!r} where it holds "
        f"{CHURN_FEATURES[-1]!r}; read by position, every INSERT into public.vec_events would score the shadow on "
        "values that are not its features"), msg
    assert e.value.diag.message_hint.startswith("clear the shadow first: pgscore.clear_shadow('churn', 2) (pgscore "
                                                "shadow churn 2 --off), then make version 3 live again")
    with pytest.raises(errors.ObjectNotInPrerequisiteState):  # p_force skips the load check alone
        query(shop, "SELECT pgscore.activate('churn', 3, p_force => true)")
    with pytest.raises(errors.ObjectNotInPrerequisiteState):  # stored and made live in one call
        deploy_backwards(db_url, trained, activate=True)
    assert query(shop, "SELECT version FROM pgscore.live_models") == [(1,)]
    # rollback: v3 live with a shadow of its order (v4), rolled back to v1
    query(shop, "SELECT pgscore.clear_shadow('churn')")
    query(shop, "SELECT pgscore.activate('churn', 3)")
    deploy_backwards(db_url, trained)  # v4, v3's order
    query(shop, "SELECT pgscore.set_shadow('churn', 4)")
    with pytest.raises(errors.ObjectNotInPrerequisiteState) as e:
        query(shop, "SELECT pgscore.rollback('churn')")
    assert e.value.diag.message_primary.startswith("version 1 of 'churn' cannot be made live while version 4 is its "
                                                   "shadow"), e.value.diag.message_primary
    assert "then roll back to version 1 again" in e.value.diag.message_hint
    # with the shadow cleared, made live; a shadow of the new live version's order does not block it
    query(shop, "SELECT pgscore.set_shadow('churn', 2, p_force => true)")
    query(shop, "SELECT pgscore.clear_shadow('churn', 4)")
    query(shop, "SELECT pgscore.rollback('churn')")
    assert query(shop, "SELECT version FROM pgscore.live_models") == [(1,)]


def test_the_trigger_skips_a_shadow_that_would_read_the_features_array_in_another_order(shop, db_url, trained):
    """The backstop for a state no function refuses (a restore, a hand-written row of pgscore.shadows): the trigger
    read such a shadow's features by position from the live version's array and logged scores computed on values
    that are not its features. It skips the shadow now, each statement a failure counted with 55000 and a WARNING
    naming the first feature that differs; the live version and another shadow score as before."""
    v1, v2, *_ = trained
    vec_wiring(shop)
    deploy_backwards(db_url, trained)  # v3
    query(shop, "SELECT pgscore.set_shadow('churn', 2)")
    query(shop, "INSERT INTO pgscore.shadows (model_name, model_id, action, since_deployment, changed_by) "
                "SELECT 'churn', m.model_id, 'start', (SELECT max(deployment_id) FROM pgscore.deployments), "
                "current_user FROM pgscore.models m WHERE m.version = 3")
    assert query(shop, "SELECT version FROM pgscore.shadow_versions ORDER BY 1") == [(2,), (3,)]
    shop.notices.clear()
    query(shop, "INSERT INTO vec_events VALUES (1), (2)")
    query(shop, "INSERT INTO vec_events VALUES (3)")
    assert [r[:2] for r in log(shop, "shadow")] == [(2, "1"), (2, "2"), (2, "3")]
    warned = [n for n in shop.notices if "shadow version churn v3" in n]
    assert len(warned) == 1, shop.notices
    assert (f"public.vec_profiles's float8[] column features holds the 12 features of live version 1 in its order, "
            f"and version 3 reads {CHURN_FEATURES[-1]!r} where it holds {CHURN_FEATURES[0]!r}") in warned[0], warned[0]
    m3 = query(shop, "SELECT model_id FROM pgscore.models WHERE version = 3")[0][0]
    assert query(shop, "SELECT model_id, relation, sqlstate, statements, profiles FROM pgscore.shadow_failures") == [
        (m3, "public.vec_profiles", "55000", 2, 3)]
    f = features(shop, [1, 2, 3])
    got = dict(query(shop, "SELECT id, churn_score FROM vec_profiles WHERE churn_score IS NOT NULL"))
    assert [got[i] for i in (1, 2, 3)] == pytest.approx(
        v1.predict_proba(np.array([f[i] for i in (1, 2, 3)]))[:, 1], abs=1e-9)


def test_a_shadow_reads_a_profile_table_with_counters_by_name_as_the_live_version_does_not_its_features_array(
        shop, trained):
    """A wiring with counters reads the profile table's features by name (the counters' new values among them),
    even where it also has a float8[] column features, which nothing keeps: the shadow's read (and the audit rows'
    features, and retry_failed's) read that array by position instead, and logged the shadow's scores computed on
    its stale values. Every read of the wiring reads by name now."""
    v1, v2, *_ = trained
    query(shop, "ALTER TABLE customers ADD COLUMN features float8[]")
    query(shop, "UPDATE customers SET features = array_fill(0::float8, ARRAY[12])")
    query(shop, "SELECT pgscore.set_shadow('churn', 2)")
    insert(shop, 1, 2)
    insert(shop, 3)
    f = features(shop, [1, 2, 3])
    assert all(any(x != 0 for x in v) for v in f.values())
    shadow = {r[1]: r for r in log(shop, "shadow")}
    assert sorted(shadow) == ["1", "2", "3"]
    for k, (_, _, score, feats, _) in shadow.items():
        assert feats == f[int(k)]
        assert score == pytest.approx(v2.predict_proba(np.array([f[int(k)]]))[0, 1], abs=1e-12)
    live = {r[1]: r for r in log(shop, "trigger")}
    for k, (_, _, score, feats, _) in live.items():
        assert feats == f[int(k)]
        assert score == pytest.approx(v1.predict_proba(np.array([f[int(k)]]))[0, 1], abs=1e-9)
    assert query(shop, "SELECT count(*) FROM pgscore.shadow_failures") == [(0,)]


def test_set_shadow_refuses_a_version_a_table_with_counters_lacks_a_column_of_beside_a_features_array(shop, db_url,
                                                                                                     trained):
    """A wiring with counters reads its profile table by name, a float8[] column features beside the columns never:
    set_shadow took such an array for the shadow's features (no column missing) and set a version whose column the
    table lacks, which then scored nothing in shadow. Refused (42703) as for a table without the array."""
    query(shop, "ALTER TABLE customers ADD COLUMN features float8[]")
    deploy_v3(db_url, trained)
    with pytest.raises(errors.UndefinedColumn) as e:
        query(shop, "SELECT pgscore.set_shadow('churn', 3)")
    assert "has no column 'loyalty'" in e.value.diag.message_primary, e.value.diag.message_primary
    assert query(shop, "SELECT count(*) FROM pgscore.shadows") == [(0,)]


def test_attach_rescoring_refuses_a_profile_table_read_by_name_that_lacks_a_column_a_shadow_reads(shop, db_url,
                                                                                                 trained):
    """set_shadow refuses a version a wired profile table of a column per feature lacks a column of (42703); a table
    wired after the shadow was set was not checked: every INSERT into its event table scored nothing in shadow, each
    a counted failure. attach_rescoring refuses it now (42703), naming the table, the version and the columns, with
    a table wired with counters beside a float8[] column features too (read by name); a table of one float8[]
    column features and no counters is read by position (its order is checked instead)."""
    query(shop, "SELECT pgscore.detach_rescoring('complaints')")
    deploy_v3(db_url, trained)
    query(shop, "SELECT pgscore.set_shadow('churn', 3)")  # nothing wired: set
    for array in (False, True):
        if array:
            query(shop, "ALTER TABLE customers ADD COLUMN features float8[]")
        with pytest.raises(errors.UndefinedColumn) as e:
            with shop.cursor() as cur:
                sample.rescore_complaints(cur)
        d = e.value.diag
        assert d.message_primary == (
            "pgscore: public.customers cannot be wired to rescore with 'churn' while version 3 is its shadow: it has "
            "no column 'loyalty', which the shadow reads by name; every INSERT into public.complaints would score "
            "nothing in shadow"), d.message_primary
        assert d.message_detail == "1 shadow version(s) affected: version 3 reads 'loyalty'", d.message_detail
        assert d.message_hint.startswith("add the feature column(s) to the profile table first, then wire it; or "
                                         "clear the shadow first: pgscore.clear_shadow('churn', 3) (pgscore shadow "
                                         "churn 3 --off)"), d.message_hint
        assert query(shop, "SELECT count(*) FROM pgscore.rescoring") == [(0,)]
    # the column added: wired, and the shadow scores
    query(shop, "ALTER TABLE customers ADD COLUMN loyalty float8 DEFAULT 1")
    with shop.cursor() as cur:
        sample.rescore_complaints(cur)
    insert(shop, 1)
    assert [r[:2] for r in log(shop, "shadow")] == [(3, "1")]
    assert query(shop, "SELECT count(*) FROM pgscore.shadow_failures") == [(0,)]


@pytest.mark.parametrize("shadow, live", [
    (["a", "b"], ["a", "b"]), ([], []), (["a"], ["a", "b"]), (["a", "b", "c"], ["a"]), ([], ["a"]),
    (["b", "a"], ["a", "b"]), (["a", "x", "c"], ["a", "b", "c"]), (["it's", "b"], ["b", "it's"]),
    (["back\\slash", 'q"uote'], ['q"uote', "back\\slash"]), (["Ünïcode", "a"], ["a", "Ünïcode"]),
    (list(CHURN_FEATURES), list(reversed(CHURN_FEATURES))), (["a", "b", "c"], ["a", "b", "C"]),
])
def test_the_order_check_says_in_sql_what_it_says_in_python(conn, shadow, live):
    """The order of a shadow read by position is compared once in SQL (pgscore.feature_order_differs: set_shadow,
    the deployments' trigger) and once in Python for the code that runs on a schema that may be older (the
    rescoring trigger's plans, score_table, attach_rescoring: shadowing.order_differs): the same answer, in the
    same words, whatever the names hold (quotes, backslashes, case)."""
    from pgscore import shadowing
    (got,), = query(conn, "SELECT pgscore.feature_order_differs(%s::text[], %s::text[], 3, 7)", (shadow, live))
    assert got == shadowing.order_differs(shadow, live, 3, 7), got
    assert (got is None) == (shadow == live)




def test_a_go_live_that_several_shadows_would_misread_names_each_of_them(shop, db_url, trained):
    """The deployments' trigger refuses a go-live whose features array a shadow would read in another order; where
    several shadows would, its hint named the first alone, and clearing it met the same refusal for the next. The
    hint names every one to clear, the DETAIL each table, version and first feature that differs."""
    _, _, X, y = trained
    vec_wiring(shop)
    deploy_backwards(db_url, trained)  # v3
    registry.deploy(db_url, "churn", LogisticRegression(C=0.5, max_iter=500).fit(X, y), X, y,
                    feature_names=CHURN_FEATURES, activate=False)  # v4, v1's order
    query(shop, "SELECT pgscore.set_shadow('churn', 2)")
    query(shop, "SELECT pgscore.set_shadow('churn', 4)")
    with pytest.raises(errors.ObjectNotInPrerequisiteState) as e:
        query(shop, "SELECT pgscore.activate('churn', 3)")
    d = e.value.diag
    assert d.message_primary.startswith("version 3 of 'churn' cannot be made live while version 2 is its shadow: "
                                        "public.vec_profiles, which public.vec_events rescores with 'churn', has one "
                                        "float8[] column features"), d.message_primary
    why = f"in its order, and version {{}} reads {CHURN_FEATURES[0]!r} where it holds {CHURN_FEATURES[-1]!r}"
    assert d.message_detail == (
        "2 wiring(s) and shadow version(s) affected: public.vec_profiles's float8[] column features holds the 12 "
        f"features of live version 3 {why.format(2)}; public.vec_profiles's float8[] column features holds the 12 "
        f"features of live version 3 {why.format(4)}"), d.message_detail
    assert d.message_hint.startswith(
        "clear the shadows first: pgscore.clear_shadow('churn', 2) (pgscore shadow churn 2 --off), "
        "pgscore.clear_shadow('churn', 4) (pgscore shadow churn 4 --off), then make version 3 live again"), d.message_hint
    query(shop, "SELECT pgscore.clear_shadow('churn', 2)")
    query(shop, "SELECT pgscore.clear_shadow('churn', 4)")
    query(shop, "SELECT pgscore.activate('churn', 3)")


def test_a_go_live_is_refused_while_a_shadow_lacks_a_column_of_a_profile_table_read_by_name(shop, db_url, trained):
    """set_shadow checks the profile tables wired then, attach_rescoring a table wired after; a column dropped since
    (or a forced set_shadow, or a table wired while no version was live) left a shadow that scores nothing, and a
    go-live (activate, rollback, a deploy) made a version live next to it without a word. The deployments' trigger
    refuses it now (42703, as set_shadow), naming the version, the shadow, the table and its columns."""
    query(shop, "ALTER TABLE customers ADD COLUMN loyalty float8")
    deploy_v3(db_url, trained)
    query(shop, "SELECT pgscore.set_shadow('churn', 3)")
    query(shop, "ALTER TABLE customers DROP COLUMN loyalty")
    with pytest.raises(errors.UndefinedColumn) as e:
        query(shop, "SELECT pgscore.activate('churn', 2)")
    d = e.value.diag
    assert d.message_primary == (
        "version 2 of 'churn' cannot be made live while version 3 is its shadow: public.customers, which "
        "public.complaints rescores with 'churn', has no column 'loyalty', which the shadow reads by name; every "
        "INSERT into public.complaints would score nothing in shadow"), d.message_primary
    assert d.message_detail == ("1 wiring(s) and shadow version(s) affected: public.customers has no column "
                                "'loyalty' of version 3"), d.message_detail
    assert d.message_hint == ("add the feature column(s) to the profile table first, or clear the shadow first: "
                              "pgscore.clear_shadow('churn', 3) (pgscore shadow churn 3 --off); then make version 2 "
                              "live again"), d.message_hint
    with pytest.raises(errors.UndefinedColumn):  # p_force skips the load check alone
        query(shop, "SELECT pgscore.activate('churn', 2, p_force => true)")
    assert query(shop, "SELECT version FROM pgscore.live_models") == [(1,)]
    # with the shadow cleared, made live (a rollback: test_a_rollback_next_to_a_shadow_that_lacks_a_column_...); a
    # shadow whose columns are all there does not block a go-live
    query(shop, "SELECT pgscore.clear_shadow('churn', 3)")
    query(shop, "SELECT pgscore.activate('churn', 2)")
    query(shop, "SELECT pgscore.set_shadow('churn', 1)")
    query(shop, "SELECT pgscore.rollback('churn')")
    assert query(shop, "SELECT version FROM pgscore.live_models") == [(1,)]


def test_a_connection_that_heard_50_notices_already_still_hears_what_the_call_says(shop, db_url, trained):
    """registry.server_notices read psycopg2's conn.notices past its length before the call, and psycopg2 keeps that
    list at its last 50 entries: on a long-lived connection that had heard 50 notices, the list did not grow, and
    a rollback's WARNING (a shadow that scores nothing) and set_shadow's and activate's `already` NOTICEs were
    missed. Each is heard now, and passed on to the connection's list, which psycopg2's limit still keeps at 50;
    `already` does not depend on the NOTICE at all (client_min_messages = warning drops it)."""
    query(shop, "ALTER TABLE customers ADD COLUMN loyalty float8")
    deploy_v3(db_url, trained)
    query(shop, "SELECT pgscore.activate('churn', 2)")
    query(shop, "SELECT pgscore.set_shadow('churn', 3)")
    query(shop, "ALTER TABLE customers DROP COLUMN loyalty")
    conn = psycopg2.connect(db_url)
    try:
        for i in range(60):
            query(conn, f"DO $$BEGIN RAISE NOTICE 'earlier notice {i}'; END$$")
        assert len(conn.notices) == 50 and "earlier notice 59" in conn.notices[-1]
        r = registry.rollback(conn, "churn")
        assert r["version"] == 1 and [w.split("\n")[0] for w in r["warnings"]] == [
            "WARNING:  pgscore.rollback: version 1 of 'churn' was made live by a rollback while version 3 is its "
            "shadow: public.customers, which public.complaints rescores with 'churn', has no column 'loyalty', which "
            "the shadow reads by name; every INSERT into public.complaints scores nothing in shadow, as it did next "
            "to version 2"], r["warnings"]
        # (then the NOTICE of the wired profiles another version scored, since migration 0131)
        assert len(conn.notices) == 50 and conn.notices[-2].startswith("WARNING:  pgscore.rollback: ") and \
            conn.notices[-1].startswith("NOTICE:  the profiles of public.customers "), conn.notices[-2:]
        assert registry.set_shadow(conn, "churn", 3)["already"]
        assert registry.activate(conn, "churn", 1)["already"]
        assert "is live already: nothing was changed" in conn.notices[-1], conn.notices[-1]
        query(conn, "SET client_min_messages = warning")  # (the NOTICEs are not sent: `already` all the same)
        assert registry.set_shadow(conn, "churn", 3)["already"]
        assert registry.activate(conn, "churn", 1)["already"]
        # a change is not `already`, nor the same call made again in the same transaction
        assert registry.clear_shadow(conn, "churn") == 1
        assert not registry.activate(conn, "churn", 2)["already"]
        assert registry.activate(conn, "churn", 2)["already"]
        assert not registry.set_shadow(conn, "churn", 3, force=True)["already"]
        assert registry.set_shadow(conn, "churn", 3, force=True)["already"]
        conn.commit()
    finally:
        conn.close()
    assert query(shop, "SELECT version FROM pgscore.live_models") == [(2,)]
    assert query(shop, "SELECT version FROM pgscore.shadow_versions") == [(3,)]
    # from a psycopg 3 connection (an alembic revision's), which has no conn.notices: set_shadow read it (an
    # AttributeError), and says `already` now as from psycopg2
    import psycopg

    with psycopg.connect(db_url) as conn3:
        assert registry.set_shadow(conn3, "churn", 3, force=True)["already"]
        assert registry.activate(conn3, "churn", 2)["already"]


def test_a_rollback_next_to_a_shadow_that_lacks_a_column_goes_through_with_a_warning_where_a_version_was_live(
        shop, db_url, trained):
    """The deployments' trigger refused (42703, 0074) every go-live while a version set in shadow lacked a column of a
    wired profile table read by name, a rollback too: the way back in an emergency was blocked by a shadow, which
    serves nothing and scored nothing already next to the version live before (it reads by name whichever version
    is live). A rollback goes through now where a version was live before, with a WARNING that names the shadow and
    its clear_shadow (printed by pgscore rollback too); the shadow goes on failing, counted, as it did. Refused still
    where no version was live before (retired: the shadow would begin failing only now), and activate is refused
    (planned: clear the shadow first)."""
    query(shop, "ALTER TABLE customers ADD COLUMN loyalty float8")
    deploy_v3(db_url, trained)
    query(shop, "SELECT pgscore.activate('churn', 2)")
    query(shop, "SELECT pgscore.set_shadow('churn', 3)")
    query(shop, "ALTER TABLE customers DROP COLUMN loyalty")
    with pytest.raises(errors.UndefinedColumn):
        query(shop, "SELECT pgscore.activate('churn', 1)")
    shop.notices.clear()
    query(shop, "SELECT pgscore.rollback('churn')")
    assert query(shop, "SELECT version FROM pgscore.live_models") == [(1,)]
    assert query(shop, "SELECT version FROM pgscore.shadow_versions") == [(3,)]
    warned = [n for n in shop.notices if "pgscore.rollback:" in n]
    assert warned == [
        "WARNING:  pgscore.rollback: version 1 of 'churn' was made live by a rollback while version 3 is its shadow: "
        "public.customers, which public.complaints rescores with 'churn', has no column 'loyalty', which the shadow "
        "reads by name; every INSERT into public.complaints scores nothing in shadow, as it did next to version 2\n"
        "DETAIL:  1 wiring(s) and shadow version(s) affected: public.customers has no column 'loyalty' of version 3\n"
        "HINT:  add the feature column(s) to the profile table, or clear the shadow: pgscore.clear_shadow('churn', 3) "
        "(pgscore shadow churn 3 --off)\n"], shop.notices
    # the live version rescores; the shadow scores nothing, each statement counted, as next to version 2
    insert(shop, 1)
    assert [r[:2] for r in log(shop, "trigger")] == [(1, "1")]
    m3 = query(shop, "SELECT model_id FROM pgscore.models WHERE version = 3")[0][0]
    assert query(shop, "SELECT relation, statements FROM pgscore.shadow_failures WHERE model_id = %s", (m3,)) == [
        ("public.customers", 1)]
    # pgscore rollback says it
    run = pgscore_cli("rollback", "churn", "--to", "2", "--db", db_url)
    assert run.returncode == 0 and "churn version 2 is live again" in run.stdout, run.stderr
    assert ("WARNING:  pgscore.rollback: version 2 of 'churn' was made live by a rollback while version 3 is its "
            "shadow") in run.stdout and "pgscore.clear_shadow('churn', 3)" in run.stdout, run.stdout
    # registry.rollback from a psycopg 3 connection (an alembic revision's) returns the same warnings as from
    # psycopg2's (before: none, docs/cli.md said so)
    import psycopg

    with psycopg.connect(db_url) as conn3:
        r = registry.rollback(conn3, "churn", 1)
    assert r["version"] == 1 and r["warnings"] == [w.strip() for w in warned], r["warnings"]
    r = registry.rollback(db_url, "churn", 2)
    assert r["version"] == 2 and r["warnings"] == [w.strip().replace("version 1 of 'churn' was made live", "version 2 "
                                                   "of 'churn' was made live").replace("next to version 2", "next to "
                                                   "version 1") for w in warned], r["warnings"]
    # no version live before (retired): the shadow would begin failing only now, refused
    query(shop, "SELECT pgscore.retire('churn')")
    with pytest.raises(errors.UndefinedColumn) as e:
        query(shop, "SELECT pgscore.rollback('churn', 1)")
    d = e.value.diag
    assert d.message_primary.startswith("version 1 of 'churn' cannot be made live while version 3 is its shadow: "
                                        "public.customers, which public.complaints rescores with 'churn', has no "
                                        "column 'loyalty'"), d.message_primary
    assert d.message_detail == (
        "1 wiring(s) and shadow version(s) affected: public.customers has no column 'loyalty' of version 3; no version "
        "was live before this rollback (never made live, or retired): the shadow would begin failing only now"), \
        d.message_detail
    assert d.message_hint.endswith("then roll back to version 1 again"), d.message_hint
    assert query(shop, "SELECT count(*) FROM pgscore.live_models") == [(0,)]
    query(shop, "SELECT pgscore.clear_shadow('churn', 3)")
    query(shop, "SELECT pgscore.rollback('churn', 1)")
    assert query(shop, "SELECT version FROM pgscore.live_models") == [(1,)]


def deploy_reading(db_url, trained, column, activate=False):
    """The next version of churn, reading `column` of the profile table too (a 13th feature), stored not live."""
    _, _, X, y = trained
    X3 = np.column_stack([X, X[:, 0]])
    return registry.deploy(db_url, "churn", LogisticRegression(max_iter=500).fit(X3, y), X3, y,
                           feature_names=[*CHURN_FEATURES, column], activate=activate, allow_feature_change=True)


def test_set_shadow_refuses_a_version_that_reads_a_wired_tables_score_column(shop, db_url, trained):
    """attach_rescoring refuses a score or scored_at column that is a feature of the live version (a table read by
    name: each rescoring would feed its own output back in); set_shadow set a version reading it (the column is
    there: no column missing), which then scored every profile on the score the live version had just written, and
    made live fed its own output back in. Refused now (22023), naming the table, the column, the version and the
    wiring; p_force does not skip it (the shadow would not fail: nothing would count it)."""
    deploy_reading(db_url, trained, "churn_score")  # v3
    for force in (False, True):
        with pytest.raises(errors.InvalidParameterValue) as e:
            query(shop, "SELECT pgscore.set_shadow('churn', 3, p_force => %s)", (force,))
        d = e.value.diag
        assert d.message_primary == (
            "version 3 of 'churn' cannot shadow version 1: public.customers.churn_score, the score column "
            "public.complaints rescores with 'churn' into, is one of its features; every INSERT into "
            "public.complaints would score the shadow on the live version's new score, and once live it would feed "
            "its own output back in"), d.message_primary
        assert d.message_detail == ("1 column(s) affected: public.customers.churn_score (the score column "
                                    "public.complaints rescores into)"), d.message_detail
        assert d.message_hint == (
            "shadow a version that does not read public.customers.churn_score, or wire the table's score and "
            "scored_at to columns no version of 'churn' reads (pgscore.detach_rescoring('public.complaints'), then "
            "pgscore.attach_rescoring(...) again)"), d.message_hint
    assert query(shop, "SELECT count(*) FROM pgscore.shadows") == [(0,)]
    deploy_reading(db_url, trained, "scored_at")  # v4: the scored_at column
    with pytest.raises(errors.InvalidParameterValue) as e:
        query(shop, "SELECT pgscore.set_shadow('churn', 4)")
    assert "public.customers.scored_at, the scored_at column public.complaints rescores with 'churn' into, is one " \
           "of its features" in e.value.diag.message_primary, e.value.diag.message_primary
    # the table detached: nothing reads the column as a score, set
    query(shop, "SELECT pgscore.detach_rescoring('complaints')")
    query(shop, "SELECT pgscore.set_shadow('churn', 3)")
    assert query(shop, "SELECT version FROM pgscore.shadow_versions ORDER BY 1") == [(3,)]


def test_attach_rescoring_refuses_a_score_column_a_shadow_reads(shop, db_url, trained):
    """attach_rescoring refused a score or scored_at column that is a feature of the live version, not of a version
    set in shadow: the table was wired, and every INSERT scored the shadow on the live version's new score. Refused
    now (22023), naming the table, the column, the version, with the hint to clear the shadow; with no live version
    too (a retired model keeps its shadows)."""
    query(shop, "SELECT pgscore.detach_rescoring('complaints')")
    deploy_reading(db_url, trained, "churn_score")  # v3
    query(shop, "SELECT pgscore.set_shadow('churn', 3)")  # nothing wired: set
    for retired in (False, True):
        if retired:
            query(shop, "SELECT pgscore.retire('churn')")
        with pytest.raises(errors.InvalidParameterValue) as e:
            with shop.cursor() as cur:
                sample.rescore_complaints(cur)
        d = e.value.diag
        assert d.message_primary == (
            "pgscore: public.customers.churn_score (the score column) is a feature of version 3 of 'churn', its "
            "shadow: every INSERT into public.complaints would score the shadow on the live version's new score, and "
            "once live it would feed its own output back in"), d.message_primary
        assert d.message_hint == (
            "clear the shadow first: pgscore.clear_shadow('churn', 3) (pgscore shadow churn 3 --off), or write the "
            "score to a column no version of 'churn' reads"), d.message_hint
        assert query(shop, "SELECT count(*) FROM pgscore.rescoring") == [(0,)]
    query(shop, "SELECT pgscore.activate('churn', 1)")
    query(shop, "SELECT pgscore.clear_shadow('churn', 3)")
    with shop.cursor() as cur:
        sample.rescore_complaints(cur)


def test_a_go_live_of_a_version_that_reads_a_wired_tables_score_column_is_refused(shop, db_url, trained):
    """attach_rescoring refuses a score or scored_at column that is a feature of the live version, but a version
    made live later (activate, a deploy, a rollback) was not checked: each rescoring fed its own output back in.
    The deployments' trigger refuses it now (22023), naming the table, the column and the version; p_force does not
    skip it; a table read by position (one float8[] column features, no counters) reads no score column."""
    deploy_reading(db_url, trained, "churn_score")  # v3
    with pytest.raises(errors.InvalidParameterValue) as e:
        query(shop, "SELECT pgscore.activate('churn', 3)")
    d = e.value.diag
    assert d.message_primary == (
        "version 3 of 'churn' cannot be made live: public.customers.churn_score, the score column public.complaints "
        "rescores with 'churn' into, is one of its features; each rescoring would feed its own output back in"), \
        d.message_primary
    assert d.message_detail == ("1 column(s) affected: public.customers.churn_score (the score column "
                                "public.complaints rescores into)"), d.message_detail
    assert d.message_hint == (
        "wire the table's score and scored_at to columns version 3 does not read first "
        "(pgscore.detach_rescoring('public.complaints'), then pgscore.attach_rescoring(...) again), then activate "
        "version 3 again"), d.message_hint
    with pytest.raises(errors.InvalidParameterValue):
        query(shop, "SELECT pgscore.activate('churn', 3, p_force => true)")
    with pytest.raises(PgscoreError) as e:  # stored and made live in one call (registry.deploy raises pgscore's)
        deploy_reading(db_url, trained, "scored_at", activate=True)
    assert e.value.sqlstate == "22023"
    assert e.value.message.startswith(
        "version 4 of 'churn' cannot be made live: public.customers.scored_at, the scored_at column"), e.value.message
    assert "store the version without making it live" in e.value.hint
    assert query(shop, "SELECT version FROM pgscore.live_models") == [(1,)]
    # a rollback to it: v3 made live while nothing was wired, then v2, then the table wired
    query(shop, "SELECT pgscore.detach_rescoring('complaints')")
    query(shop, "SELECT pgscore.activate('churn', 3)")
    query(shop, "SELECT pgscore.activate('churn', 2)")
    with shop.cursor() as cur:
        sample.rescore_complaints(cur)
    with pytest.raises(errors.InvalidParameterValue) as e:
        query(shop, "SELECT pgscore.rollback('churn')")
    assert e.value.diag.message_hint.endswith("then roll back again (version 3)"), e.value.diag.message_hint
    assert query(shop, "SELECT version FROM pgscore.live_models") == [(2,)]
    # a table read by position reads the array, not the score column: v3 made live
    query(shop, "SELECT pgscore.detach_rescoring('complaints')")
    query(shop, "CREATE TABLE vec_profiles (id int PRIMARY KEY, features float8[], churn_score float8, "
                "scored_at timestamptz)")
    query(shop, "CREATE TABLE vec_events (customer_id int)")
    attach_vec(shop)
    query(shop, "SELECT pgscore.rollback('churn')")
    assert query(shop, "SELECT version FROM pgscore.live_models") == [(3,)]


def deploy_reading_both(db_url, trained, activate=False):
    """The next version of churn, reading the profile table's scored_at and churn_score too (14 features)."""
    _, _, X, y = trained
    X4 = np.column_stack([X, X[:, 0], X[:, 1]])
    return registry.deploy(db_url, "churn", LogisticRegression(max_iter=500).fit(X4, y), X4, y,
                           feature_names=[*CHURN_FEATURES, "scored_at", "churn_score"], activate=activate,
                           allow_feature_change=True)


SCORE_COLUMNS = "rescoring_id, profile_table, event_table, what, column_name, said"
SAID = "public.customers.{0} (the {1} column public.complaints rescores into)"


def test_score_columns_read_says_each_wired_score_column_a_version_reads(shop, db_url, trained):
    """The check of a wired table's score and scored_at columns read as a version's features, written once
    (migration 0079: set_shadow and the deployments' trigger each ran a query of their own, attach_rescoring compared
    in Python), through SQL: a row per column, the score column first, with the words each refusal's DETAIL says;
    none for a version that reads neither, nor for a wiring whose trigger is gone, but where the wiring is named (as
    attach_rescoring names the one it makes before its trigger); an unknown model_id or wiring 42704, NULL 22004."""
    deploy_reading_both(db_url, trained)  # v3
    ids = dict(query(shop, "SELECT version, model_id FROM pgscore.models WHERE name = 'churn'"))
    (rid, trigger), = query(shop, "SELECT rescoring_id, trigger_name FROM pgscore.rescoring")
    read = [(rid, "public.customers", "public.complaints", "score", "churn_score", SAID.format("churn_score", "score")),
            (rid, "public.customers", "public.complaints", "scored_at", "scored_at",
             SAID.format("scored_at", "scored_at"))]
    assert query(shop, f"SELECT {SCORE_COLUMNS} FROM pgscore.score_columns_read(%s)", (ids[3],)) == read
    assert query(shop, f"SELECT {SCORE_COLUMNS} FROM pgscore.score_columns_read(%s, %s)", (ids[3], rid)) == read
    for v in (1, 2):  # the twelve features: no score column
        assert query(shop, "SELECT * FROM pgscore.score_columns_read(%s)", (ids[v],)) == []
        assert query(shop, "SELECT * FROM pgscore.score_columns_read(%s, %s)", (ids[v], rid)) == []
    # the trigger gone (the wiring feeds nothing): left out, but where the wiring is named
    query(shop, f'DROP TRIGGER "{trigger}" ON complaints')
    assert query(shop, "SELECT * FROM pgscore.score_columns_read(%s)", (ids[3],)) == []
    assert query(shop, f"SELECT {SCORE_COLUMNS} FROM pgscore.score_columns_read(%s, %s)", (ids[3], rid)) == read
    with pytest.raises(errors.UndefinedObject) as e:
        query(shop, "SELECT * FROM pgscore.score_columns_read(-7)")
    assert e.value.diag.message_primary == "pgscore.score_columns_read: there is no model_id -7"
    assert "pgscore.model_versions" in e.value.diag.message_hint
    with pytest.raises(errors.UndefinedObject) as e:
        query(shop, "SELECT * FROM pgscore.score_columns_read(%s, %s)", (ids[3], rid + 100))
    assert e.value.diag.message_primary == (
        f"pgscore.score_columns_read: there is no wiring {rid + 100} that rescores with 'churn'")
    with pytest.raises(errors.NullValueNotAllowed):
        query(shop, "SELECT * FROM pgscore.score_columns_read(NULL, %s)", (rid,))


def test_score_columns_read_quotes_a_column_as_sql_writes_it(shop, db_url, trained):
    """pgscore.score_columns_read's `said` (the DETAIL of each refusal of a score column read as a feature) printed
    the column bare: `public.customers.Churn Score (the score column ...)`. It quotes it as SQL writes it now
    (migration 0110), as the refusals' own messages do, at set_shadow as at score_columns_read."""
    query(shop, "SELECT pgscore.detach_rescoring('complaints')")
    query(shop, 'ALTER TABLE customers RENAME COLUMN churn_score TO "Churn Score"')
    query(shop, "SELECT pgscore.attach_rescoring('complaints', 'customers', 'customer_id', 'churn', 'Churn Score', "
                "%s::jsonb, p_profile_key => 'id')", (json.dumps(sample.COUNTERS),))
    deploy_reading(db_url, trained, "Churn Score")  # v3
    (v3,), = query(shop, "SELECT model_id FROM pgscore.models WHERE name = 'churn' AND version = 3")
    said = 'public.customers."Churn Score" (the score column public.complaints rescores into)'
    assert query(shop, "SELECT said FROM pgscore.score_columns_read(%s)", (v3,)) == [(said,)]
    with pytest.raises(errors.InvalidParameterValue) as e:
        query(shop, "SELECT pgscore.set_shadow('churn', 3)")
    assert e.value.diag.message_detail == f"1 column(s) affected: {said}", e.value.diag.message_detail


def test_every_refusal_of_a_score_column_read_as_a_feature_lists_the_columns_in_the_same_words(shop, db_url,
                                                                                              trained):
    """set_shadow, a go-live and attach_rescoring (of the live version, of a shadow) refuse a version that reads a
    wired table's score or scored_at column; set_shadow and the go-live listed every such column in their DETAIL,
    attach_rescoring, which compared in Python, named the first and no more. All three take the columns and their
    words from pgscore.score_columns_read now: the same DETAIL at each."""
    detail = ("2 column(s) affected: " + SAID.format("churn_score", "score") + ", "
              + SAID.format("scored_at", "scored_at"))
    deploy_reading_both(db_url, trained)  # v3
    with pytest.raises(errors.InvalidParameterValue) as e:
        query(shop, "SELECT pgscore.set_shadow('churn', 3)")
    assert e.value.diag.message_detail == detail, e.value.diag.message_detail
    with pytest.raises(errors.InvalidParameterValue) as e:
        query(shop, "SELECT pgscore.activate('churn', 3)")
    assert e.value.diag.message_detail == detail, e.value.diag.message_detail
    # attach_rescoring: a shadow that reads them
    query(shop, "SELECT pgscore.detach_rescoring('complaints')")
    query(shop, "SELECT pgscore.set_shadow('churn', 3)")
    with pytest.raises(errors.InvalidParameterValue) as e:
        with shop.cursor() as cur:
            sample.rescore_complaints(cur)
    assert e.value.diag.message_primary.startswith(
        "pgscore: public.customers.churn_score (the score column) is a feature of version 3 of 'churn', its shadow"), \
        e.value.diag.message_primary
    assert e.value.diag.message_detail == detail, e.value.diag.message_detail
    # the live version that reads them
    query(shop, "SELECT pgscore.clear_shadow('churn', 3)")
    query(shop, "SELECT pgscore.activate('churn', 3)")
    with pytest.raises(errors.InvalidParameterValue) as e:
        with shop.cursor() as cur:
            sample.rescore_complaints(cur)
    assert e.value.diag.message_primary == (
        "pgscore: public.customers.churn_score (the score column) is a feature of model churn v3: each rescoring "
        "would feed its own output back in"), e.value.diag.message_primary
    assert e.value.diag.message_detail == detail, e.value.diag.message_detail
    assert query(shop, "SELECT count(*) FROM pgscore.rescoring") == [(0,)]


def test_code_newer_than_its_schema_refuses_a_score_column_read_as_a_feature_in_the_same_words(empty_db_url,
                                                                                                trained):
    """A schema before pgscore.score_columns_read (0078: the server restarted with this release, pgscore install not
    run yet): attach_rescoring compares the columns in Python, as before, and says the same words."""
    from pgscore import migrate

    v1, _, X, y = trained
    migrate.upgrade(empty_db_url)
    conn = make_shop(empty_db_url, v1, X, y, N)
    try:
        deploy_reading_both(empty_db_url, trained, activate=True)  # v2, live: nothing is wired
        migrate.downgrade(empty_db_url, "0078")
        assert query(conn, "SELECT to_regprocedure('pgscore.score_columns_read(bigint, bigint)')") == [(None,)]
        with pytest.raises(errors.InvalidParameterValue) as e:
            with conn.cursor() as cur:
                sample.rescore_complaints(cur)
        assert e.value.diag.message_primary == (
            "pgscore: public.customers.churn_score (the score column) is a feature of model churn v2: each rescoring "
            "would feed its own output back in"), e.value.diag.message_primary
        assert e.value.diag.message_detail == ("2 column(s) affected: " + SAID.format("churn_score", "score") + ", "
                                               + SAID.format("scored_at", "scored_at")), e.value.diag.message_detail
    finally:
        conn.close()


def test_score_table_skips_a_shadow_that_reads_the_column_it_scores_into(shop, db_url, trained):
    """score_table's shadows read a chunk's rows after the live version wrote its scores into them: a shadow one of
    whose features is the column scored into (p_into) was scored on the live version's new score, not on the value
    the column held, and logged with nothing said (set_shadow refuses that of a wired profile table's score column
    alone: score_table's table and column are known only at the call; a live version that reads it is refused).
    Skipped now for that call, each chunk a failure counted with 22023, with a WARNING naming the version, the
    column and the table; the live version's scores written as always; pgscore score likewise. Scored into another
    column, the shadow reads this one as it stands, and is scored."""
    v1, _, X, y = trained
    deploy_reading(db_url, trained, "s")  # v3: the 12 features and s
    query(shop, "SELECT pgscore.detach_rescoring('complaints')")  # (customers has no column s: set_shadow refused)
    query(shop, "SELECT pgscore.set_shadow('churn', 3)")
    query(shop, "CREATE TABLE scored AS SELECT id, " + ", ".join(CHURN_FEATURES) + ", 0.5::float8 AS s, "
                "NULL::float8 AS other FROM customers")
    query(shop, "ALTER TABLE scored ADD PRIMARY KEY (id)")
    shop.notices.clear()
    query(shop, "CALL pgscore.score_table('churn', 'scored', 'id', 's', 20)")  # 3 chunks
    assert log(shop, "shadow") == []  # (before: 50 rows, each one's 13th feature the live score just written)
    warned = [n for n in shop.notices if "shadow version churn v3" in n]
    assert len(warned) == 1, shop.notices
    assert ("column 's' of public.scored, which the live version's scores were just written into, is one of its "
            "features: read after that write, each row would be scored in shadow on the live version's new score, "
            "not on the value the column held") in warned[0], warned[0]
    assert "the live version's scores were written as usual, and the shadow's were not logged" in warned[0]
    assert query(shop, "SELECT relation, sqlstate, statements, profiles FROM pgscore.shadow_failures") == [
        ("public.scored", "22023", 3, N)]
    f = features(shop, range(1, N + 1))
    Xf = np.array([f[i] for i in range(1, N + 1)])
    live = v1.predict_proba(Xf)[:, 1]
    got = dict(query(shop, "SELECT id, s FROM scored"))
    assert [got[i] for i in range(1, N + 1)] == pytest.approx(live, abs=1e-9)
    # pgscore score, through the same chunks: skipped, counted
    run = pgscore_cli("score", "--model", "churn", "--table", "scored", "--key", "id", "--into", "s",
                      "--chunk-size", "25", "--db", db_url)
    assert run.returncode == 0, run.stdout + run.stderr
    assert log(shop, "shadow") == []
    assert query(shop, "SELECT relation, sqlstate, sum(statements)::int, sum(profiles)::int FROM "
                       "pgscore.shadow_failures GROUP BY 1, 2") == [("public.scored", "22023", 5, 2 * N)]
    # into another column: s read as it stands (the live scores written above), scored in shadow
    query(shop, "CALL pgscore.score_table('churn', 'scored', 'id', 'other', 20)")
    shadow = {r[1]: r for r in log(shop, "shadow")}
    assert sorted(shadow, key=int) == [str(i) for i in range(1, N + 1)]
    assert [shadow[str(i)][3][12] for i in range(1, N + 1)] == pytest.approx(live, abs=1e-9)


def test_score_table_skips_a_shadow_that_reads_the_column_it_writes_the_classes_into(shop, db_url, trained):
    """p_label_into (0115): the live version's predicted classes are written into that column by the chunk's UPDATE,
    before its shadows read the rows: a shadow one of whose features is that column was scored on the class just
    written, not on the value the column held, with nothing said. Skipped for that call as one reading p_into is
    (22023, counted, a WARNING naming the column); the live version's scores and classes written as always."""
    v1, _, X, y = trained
    deploy_reading(db_url, trained, "s")  # v3: the 12 features and s
    query(shop, "SELECT pgscore.detach_rescoring('complaints')")
    query(shop, "SELECT pgscore.set_shadow('churn', 3)")
    query(shop, "CREATE TABLE scored AS SELECT id, " + ", ".join(CHURN_FEATURES) + ", 0.5::float8 AS s, "
                "NULL::float8 AS other FROM customers")
    query(shop, "ALTER TABLE scored ADD PRIMARY KEY (id)")
    shop.notices.clear()
    query(shop, "CALL pgscore.score_table('churn', 'scored', 'id', 'other', 20, p_label_into => 's')")  # 3 chunks
    assert log(shop, "shadow") == []  # (before: 50 rows, each one's 13th feature the class just written)
    warned = [n for n in shop.notices if "shadow version churn v3" in n]
    assert len(warned) == 1, shop.notices
    assert ("column 's' of public.scored, which the live version's classes were just written into, is one of its "
            "features: read after that write, each row would be scored in shadow on the live version's new class, "
            "not on the value the column held") in warned[0], warned[0]
    assert query(shop, "SELECT relation, sqlstate, statements, profiles FROM pgscore.shadow_failures") == [
        ("public.scored", "22023", 3, N)]
    f = features(shop, range(1, N + 1))
    Xf = np.array([f[i] for i in range(1, N + 1)])
    got = {i: (o, s) for i, o, s in query(shop, "SELECT id, other, s FROM scored")}
    assert [got[i][0] for i in range(1, N + 1)] == pytest.approx(v1.predict_proba(Xf)[:, 1], abs=1e-9)
    assert [got[i][1] for i in range(1, N + 1)] == [float(c) for c in v1.predict(Xf)]


def test_the_trigger_skips_a_shadow_that_reads_the_score_column_it_writes(shop, db_url, trained):
    """The backstop for a state no function refuses: set_shadow, the deployments' trigger and attach_rescoring
    refuse a shadow that reads a wired profile table's score or scored_at column (pgscore.score_columns_read), but a
    hand-written row of pgscore.shadows (its owner's) or a restore asks none of them. The trigger read such a shadow's
    features from the profiles after the live version wrote them, so its churn_score feature was the live version's
    new score, and logged that shadow score with nothing said. Skipped now, each statement a failure counted with
    22023 and a WARNING naming the version, the column and the table (once per session); the live version's scores
    written as always, and another shadow scored as before."""
    v1, *_ = trained
    deploy_reading(db_url, trained, "churn_score")  # v3: the 12 features and churn_score
    query(shop, "SELECT pgscore.set_shadow('churn', 2)")
    query(shop, "INSERT INTO pgscore.shadows (model_name, model_id, action, since_deployment, changed_by) "
                "SELECT 'churn', m.model_id, 'start', (SELECT max(deployment_id) FROM pgscore.deployments), "
                "current_user FROM pgscore.models m WHERE m.name = 'churn' AND m.version = 3")
    assert query(shop, "SELECT version FROM pgscore.shadow_versions ORDER BY 1") == [(2,), (3,)]
    shop.notices.clear()
    insert(shop, 1, 2)
    insert(shop, 3)
    # (before: v3 logged for 1, 2, 3, each one's 13th feature the live score just written)
    assert [r[:2] for r in log(shop, "shadow")] == [(2, "1"), (2, "2"), (2, "3")]
    warned = [n for n in shop.notices if "shadow version churn v3" in n]
    assert len(warned) == 1, shop.notices
    assert ("did not score 2 profile(s) of public.customers: public.customers.churn_score, the score column "
            "public.complaints rescores into, is one of its features: read after the live version wrote it, each "
            "profile would be scored in shadow on the live version's new score, not on the value the column held") \
        in warned[0], warned[0]
    m3 = query(shop, "SELECT model_id FROM pgscore.models WHERE name = 'churn' AND version = 3")[0][0]
    assert query(shop, "SELECT model_id, relation, sqlstate, statements, profiles FROM pgscore.shadow_failures") == [
        (m3, "public.customers", "22023", 2, 3)]
    f = features(shop, [1, 2, 3])
    got = dict(query(shop, "SELECT id, churn_score FROM customers WHERE id IN (1, 2, 3)"))
    assert [got[i] for i in (1, 2, 3)] == pytest.approx(
        v1.predict_proba(np.array([f[i] for i in (1, 2, 3)]))[:, 1], abs=1e-9)
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]


def test_a_shadow_whose_read_meets_one_profiles_bad_cell_scores_the_others_and_counts_that_one(shop, db_url,
                                                                                               trained):
    """A shadow reads its own features, here a text column the live version does not read (loyalty). One
    profile's cell there that is no number ('n/a', 22P02) or beyond double precision ('1e400', 22003) failed
    the shadow's one read of the statement's profiles, and the shadow scored none of them: the statement
    counted a failure for all of its profiles (22P02, 6 profiles), and WARNED naming none. Now the others are
    read in parts (as the live version's read is) and scored in shadow, and each SQLSTATE is counted with its
    own profiles, the WARNING naming their keys; the live version scores every profile as before."""
    v1, *_ = trained
    query(shop, "ALTER TABLE customers ADD COLUMN loyalty text")
    query(shop, "UPDATE customers SET loyalty = (id % 7)::text")
    query(shop, "UPDATE customers SET loyalty = 'n/a' WHERE id = 13")
    query(shop, "UPDATE customers SET loyalty = '1e400' WHERE id = 16")
    deploy_reading(db_url, trained, "loyalty")  # v3: the 12 features and loyalty
    query(shop, "SELECT pgscore.set_shadow('churn', 3)")
    conn = connect(db_url)  # (a session of its own: each warns once of a version and SQLSTATE)
    try:
        insert(conn, 11, 12, 13, 14, 15, 16)
        warned = [n for n in conn.notices if "shadow version churn v3" in n]
    finally:
        conn.close()
    assert sorted(r[1] for r in log(shop, "shadow") if r[0] == 3) == ["11", "12", "14", "15"]
    m3 = query(shop, "SELECT model_id FROM pgscore.models WHERE name = 'churn' AND version = 3")[0][0]
    assert query(shop, "SELECT model_id, relation, sqlstate, statements, profiles FROM pgscore.shadow_failures "
                       "ORDER BY sqlstate") == [(m3, "public.customers", "22003", 1, 1),
                                                (m3, "public.customers", "22P02", 1, 1)]
    assert len(warned) == 2, warned
    p02, = [n for n in warned if "22P02" in n]
    assert "did not score 1 profile(s) of public.customers (id 13)" in p02 and "'n/a'" in p02, p02
    r003, = [n for n in warned if "22003" in n]
    assert "did not score 1 profile(s) of public.customers (id 16)" in r003 and "'1e400'" in r003, r003
    # the live version wrote every profile, and the shadow's scores are its own on each profile's features
    got = dict(query(shop, "SELECT id, churn_score FROM customers WHERE id BETWEEN 11 AND 16"))
    f = features(shop, range(11, 17))
    for k in range(11, 17):
        assert got[k] == pytest.approx(v1.predict_proba(np.array([f[k]]))[0, 1], abs=1e-9)
    assert query(shop, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]


def test_score_tables_shadow_reads_around_one_rows_bad_cell_and_pgscore_score_prints_its_warning(shop, db_url,
                                                                                                 trained):
    """User trial hT12, finding 2: one 'n/a' in a text column only the shadow reads failed score_table's one read of
    the chunk's rows, and the shadow scored none of the chunk (3,000 rows for one cell), where the trigger reads its
    profiles in halves and scores the others; and pgscore score printed none of the server's WARNINGs (exit 0,
    silent). Now the chunk's rows are read in halves as the trigger's (rescoring._features_apart), each SQLSTATE
    counted with its rows, the WARNING naming their keys; pgscore score prints the WARNING on stderr."""
    v1, *_ = trained
    query(shop, "ALTER TABLE customers ADD COLUMN loyalty text")
    query(shop, "UPDATE customers SET loyalty = (id % 7)::text")
    query(shop, "UPDATE customers SET loyalty = 'n/a' WHERE id = 13")
    query(shop, "UPDATE customers SET loyalty = '1e400' WHERE id = 36")
    deploy_reading(db_url, trained, "loyalty")  # v3: the 12 features and loyalty
    query(shop, "SELECT pgscore.set_shadow('churn', 3)")
    conn = connect(db_url)  # (a session of its own: each warns once of a version and SQLSTATE)
    try:
        query(conn, "CALL pgscore.score_table('churn', 'customers', 'id', 'churn_score', 20)")  # 3 chunks
        warned = [n for n in conn.notices if "shadow version churn v3" in n]
    finally:
        conn.close()
    assert sorted(int(r[1]) for r in log(shop, "shadow") if r[0] == 3) == [i for i in range(1, N + 1)
                                                                           if i not in (13, 36)]
    m3 = query(shop, "SELECT model_id FROM pgscore.models WHERE name = 'churn' AND version = 3")[0][0]
    assert query(shop, "SELECT model_id, sqlstate, statements, profiles FROM pgscore.shadow_failures "
                       "ORDER BY sqlstate") == [(m3, "22003", 1, 1), (m3, "22P02", 1, 1)]
    assert len(warned) == 2, warned
    p02, = [n for n in warned if "22P02" in n]
    assert "did not score 1 row(s) of a chunk of public.customers (id 13)" in p02 and "'n/a'" in p02, p02
    # the shadow's scores are its own on each row's features; the live version wrote every row
    f = features(shop, range(1, N + 1))
    got = dict(query(shop, "SELECT id, churn_score FROM customers WHERE id <= %s", (N,)))
    for k in range(1, N + 1):
        assert got[k] == pytest.approx(v1.predict_proba(np.array([f[k]]))[0, 1], abs=1e-9)
    shadow = {int(r[1]): r for r in log(shop, "shadow") if r[0] == 3}
    assert shadow[14][3] == [*f[14], 14 % 7]  # (its features: the 12 and loyalty)
    # pgscore score: the server's WARNING on stderr (a session of its own, which warns again)
    r = pgscore_cli("score", "--model", "churn", "--table", "customers", "--key", "id", "--into", "churn_score",
                    "--chunk-size", "20", "--db", db_url)
    assert r.returncode == 0, r
    assert "WARNING:  pgscore: shadow version churn v3 did not score 1 row(s) of a chunk of public.customers (id 13)" \
        in r.stderr, r
    assert "22003" in r.stderr, r


def test_pgscore_score_on_a_terminal_prints_the_servers_warning_on_a_line_of_its_own_not_after_the_bar(shop, db_url,
                                                                                                          trained):
    """Review r6 (session 62): pgscore score printed the server's WARNING on stderr as it came, where on a terminal
    tqdm's bar is drawn (redrawn with carriage returns, no newline): a chunk's WARNING after the first chunk was
    glued to the end of the bar's line ("... 20/50 [00:00<?, ? rows/s]WARNING:  pgscore: shadow ..."). It is
    written through the bar (cleared, the WARNING on its own line, the bar drawn again below it)."""
    from helpers import pgscore_cli_on_a_terminal

    query(shop, "ALTER TABLE customers ADD COLUMN loyalty text")
    query(shop, "UPDATE customers SET loyalty = CASE WHEN id = 36 THEN 'n/a' ELSE (id % 7)::text END")
    deploy_reading(db_url, trained, "loyalty")  # v3
    query(shop, "SELECT pgscore.set_shadow('churn', 3)")
    r = pgscore_cli_on_a_terminal("score", "--model", "churn", "--table", "customers", "--key", "id", "--into",
                                  "churn_score", "--chunk-size", "20", "--db", db_url)  # 36: the second chunk's
    assert r.returncode == 0, r
    pieces = [p for p in re.split(r"[\r\n]", r.stderr) if "pgscore: shadow version churn v3" in p]
    assert pieces and all(p.startswith("WARNING:") for p in pieces), r.stderr
    assert "20/50" in r.stderr, r.stderr  # (the bar was drawn before it)


def test_score_tables_shadow_warning_says_where_its_search_for_the_bad_rows_stopped(shop, db_url, trained):
    """Review r6 (session 62): score_table's shadow reads a chunk in halves around bad cells, at most PARTS_BUDGET
    statements (rescoring._in_parts); past it each part left is counted whole. With every other row bad (600 rows,
    one chunk) the WARNING said "did not score 592 row(s) ... feature 'loyalty' must be a number, got 'n/a'" as if
    every one held 'n/a', where about half were readable rows of parts not searched. It says so now: how many rows
    were in parts not searched, and that the search stopped."""
    from pgscore import rescoring

    cols = [r[0] for r in query(shop, "SELECT column_name FROM information_schema.columns WHERE table_name = "
                                      "'customers' AND column_name <> 'id' AND is_generated = 'NEVER' "
                                      "AND column_default IS NULL")]
    cl = ", ".join(cols)
    query(shop, f"INSERT INTO customers (id, {cl}) SELECT 1000 + g * 50 + c.id, {cl} FROM customers c, "
                "generate_series(0, 10) g WHERE c.id <= 50")  # 600 rows in all
    query(shop, "ALTER TABLE customers ADD COLUMN loyalty text")
    query(shop, "UPDATE customers SET loyalty = CASE WHEN id % 2 = 0 THEN 'n/a' ELSE (id % 7)::text END")
    deploy_reading(db_url, trained, "loyalty")  # v3
    query(shop, "SELECT pgscore.set_shadow('churn', 3)")
    conn = connect(db_url)
    try:
        query(conn, "CALL pgscore.score_table('churn', 'customers', 'id', 'churn_score', 1000)")
        warned = [n for n in conn.notices if "shadow version churn v3" in n]
    finally:
        conn.close()
    (said,) = warned
    (lost,) = [r[0] for r in query(shop, "SELECT profiles FROM pgscore.shadow_failures")]
    assert lost > 300, lost  # (300 rows hold 'n/a': more were not searched)
    assert f"stopped after {rescoring.PARTS_BUDGET} statements" in said, said


def _guide_block(first_line):
    """The ```sql block of docs/guide.md that begins with `first_line`."""
    import re

    from helpers import ROOT

    text = (ROOT / "docs" / "guide.md").read_text()
    m = re.search(r"^```sql\n(" + re.escape(first_line) + r".*?)^```", text, re.M | re.S)
    assert m, first_line
    return m.group(1)


def test_statement_at_is_written_in_utc_in_one_format_on_every_path_whatever_the_sessions_time_zone(shop):
    """A compliance trial (hT13, finding 6): under SET TimeZone = 'Pacific/Kiritimati' a query's and a
    predict_batch's rows said "statement_at": "...T06:11:59.222959+14:00", next to others' "+00:00": a text
    comparison or sort (LIKE '2026-12-06%', the resume query's equality) gave wrong answers. Every path writes it
    in UTC, always six digits of microseconds ("2026-12-06T16:11:59.222959+00:00"), the shadow rows as their
    statement's live rows (the pairs join on it)."""
    query(shop, "SELECT pgscore.set_shadow('churn', 2)")
    query(shop, "SET TimeZone = 'Pacific/Kiritimati'")
    insert(shop, 1, 2)  # the trigger: live and shadow rows
    query(shop, "CALL pgscore.score_table('churn', 'customers', 'id', 'churn_score')")  # batch and shadow rows
    cols = ", ".join(CHURN_FEATURES)
    query(shop, f"SELECT count(*) FROM pgscore.predict_batch('churn', 'SELECT id, {cols} FROM customers LIMIT 3')")
    query(shop, f"SELECT pgscore.score('churn', ARRAY[{cols}]::float8[], p_key => 'q') FROM customers WHERE id = 1")
    rows = query(shop, "SELECT source, cause->>'via', cause->>'statement_at', "
                       "to_char((cause->>'statement_at')::timestamptz AT TIME ZONE 'UTC', "
                       "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"') FROM pgscore.prediction_log")
    assert {r[0] for r in rows} == {"trigger", "shadow", "batch", "query"}, rows
    for source, via, at, utc in rows:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", at) and at == utc, (source, via, at)
    # each statement's live and shadow rows carry one statement_at: the trigger's, and score_table's
    by_via = {}
    for source, via, at, _ in rows:
        by_via.setdefault(via, set()).add(at)
    assert len(by_via["trigger"]) == 1 and len(by_via["score_table"]) == 1, by_via


def test_the_guides_live_and_shadow_pairs_count_each_statements_pair_once(shop, trained):
    """User trial hT12, finding 4: the guide's "decisions that would change" query joined a shadow row to the live
    rows of its entity with the same logged_at (the transaction's start): 3 INSERT statements of events for one
    customer in one transaction gave 9 pairs, each shadow score with every live score of the transaction. Joined on
    the cause's statement_at too, each shadow row meets its own statement's live row: 3. The guide reads the views
    pgscore.shadow_comparison and shadow_pairs since 0138 (they pair each shadow row with its own statement's)."""
    query(shop, "SELECT pgscore.set_shadow('churn', 2)")
    with shop.cursor() as cur:
        cur.execute("BEGIN")
        for _ in range(3):
            cur.execute("INSERT INTO complaints (customer_id, kind) VALUES (7, 'billing')")
        cur.execute("COMMIT")
    assert len([r for r in log(shop, "shadow") if r[1] == "7"]) == 3
    summary, pairs = (x.strip() for x in _guide_block("-- the summary: pairs, decisions that would change").split(";")
                      if x.strip())
    (shadow_version, live_version, n, *_), = query(shop, summary)
    assert (shadow_version, live_version, n) == (2, 1, 3)
    rows = query(shop, pairs)
    assert sum(r[2] for r in rows) == 3, rows



@pytest.mark.parametrize("relation", ["a.b.c.d", "nosuchdb.public.customers", 'public."customers', "", ".", "a..b"])
def test_count_shadow_failure_of_an_improper_name_says_what_it_says_of_a_table_it_cannot_write(shop, relation):
    """An improper relation name (too many dots, another database's, an unclosed quote, empty) raised the name's
    parser's bare error (42601 improper relation name, 0A000 cross-database references, 42602 invalid name syntax)
    before 0145: it is a table the caller does not write, with the function's own message and hint, as an
    unknown table is; nothing counted."""
    query(shop, "SELECT pgscore.set_shadow('churn', 2)")
    (v2,), = query(shop, "SELECT model_id FROM pgscore.models WHERE name = 'churn' AND version = 2")
    with pytest.raises(errors.InsufficientPrivilege) as e:
        query(shop, "SELECT pgscore.count_shadow_failure(%s, %s, '42703', 1, 'why')", (v2, relation))
    assert e.value.diag.message_primary.startswith("pgscore.count_shadow_failure: role ")
    assert f"does not write {relation}: a shadow's failures are counted in the table its caller scores" in \
        e.value.diag.message_primary
    assert e.value.diag.message_hint.startswith("the rescoring trigger and score_table count them")
    assert query(shop, "SELECT count(*) FROM pgscore.shadow_failures") == [(0,)]
