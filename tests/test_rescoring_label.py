"""attach_rescoring's p_label_column (migration 0119): every path that writes the wired score onto the profile (the
statement trigger, retry_failed, refresh_windows, backfill_rescoring) also writes the class pgscore.predict gives for
the same features and version; what a label column cannot be, refused at attach in score_table's words; a version
that cannot be written into it, made live later, queues the profiles as any scoring failure does."""

import io
import json

import numpy as np
import psycopg2
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import FixedThresholdClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from helpers import ensure_role, pgscore_cli, query
from pgscore import datasets, registry

X, Y, NAMES = datasets.churn(400, seed=7)
BAND = np.digitize(X[:, 1], [55, 85])  # three classes from monthly charges
Y_TEXT = np.array(["low", "mid", "high"])[BAND]
Y_ALIKE = np.where(Y == 1, "1", "01")  # two classes that are one integer
YR = X[:, 1] * 12 + X[:, 5]
N = 60  # profiles

MODELS = {
    # name: (factory, y, compile, engine, task)
    "hgb_text": (lambda: HistGradientBoostingClassifier(max_iter=20, random_state=0), Y_TEXT, True, "numpy",
                 "multiclass"),
    "logit": (lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)), BAND, True, "numpy",
              "multiclass"),
    # linear: rescored in SQL without a label column (Sql.fast), in Python with one
    "binary": (lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)), Y, True, "numpy", "binary"),
    "binary_hgb": (lambda: HistGradientBoostingClassifier(max_iter=20, random_state=0), Y, True, "numpy", "binary"),
    "alike": (lambda: HistGradientBoostingClassifier(max_iter=10, random_state=0), Y_ALIKE, True, "numpy", "binary"),
    "regression": (lambda: make_pipeline(StandardScaler(), Ridge()), YR, True, "numpy", "regression"),
}
_fitted = {}
# each event adds its amount to monthly_charges (which moves a profile across the classes) and counts a support call
COUNTERS = {"monthly_charges": {"add": "e.amount"}, "support_calls": "count"}


def fitted(name):
    if name not in _fitted:
        factory, y, *_ = MODELS[name]
        _fitted[name] = factory().fit(X, y)
    return _fitted[name]


def deploy(url, name, model="m", **options):
    _, y, compile, engine, task = MODELS[name]
    rec = registry.deploy(url, model, fitted(name), X, y, feature_names=NAMES, compile=compile, **options)
    assert (rec["engine"], rec["task"]) == (engine, task), rec.get("engine_note")
    return rec


def tables(conn, label_type="text"):
    query(conn, "CREATE TABLE p (id int PRIMARY KEY, " + ", ".join(f"{n} float8" for n in NAMES)
          + f", score float8, scored_at timestamptz, lab {label_type}); "
          "CREATE TABLE ev (eid bigserial PRIMARY KEY, pid int, amount float8 NOT NULL DEFAULT 0)")
    with conn.cursor() as cur:
        for i, r in enumerate(X[:N].tolist()):
            cur.execute(f"INSERT INTO p (id, {', '.join(NAMES)}) VALUES (%s, {', '.join(['%s'] * len(NAMES))})",
                        (i, *r))


def attach(conn, label="lab", **options):
    named = "".join(f", {k} => %({k})s" for k in options)
    return query(conn, "SELECT pgscore.attach_rescoring('ev', 'p', 'pid', 'm', 'score', %(c)s::jsonb, "
                       "p_profile_key => 'id', p_label_column => %(label)s" + named + ")",
                 {"c": json.dumps(COUNTERS), "label": label, **options})[0][0]


def sql_error(conn, sql, params=None):
    with pytest.raises(psycopg2.Error) as e:
        query(conn, sql, params)
    return e.value


FEATURES = "ARRAY[" + ", ".join(NAMES) + "]::float8[]"


def labelled(conn, ids):
    """{id: (features, score, label, pgscore.predict's class of its features now)}"""
    rows = query(conn, f"SELECT id, {FEATURES}, score, lab, pgscore.predict('m', {FEATURES}) FROM p "
                       "WHERE id = ANY(%s) ORDER BY id", (list(ids),))
    return {r[0]: r[1:] for r in rows}


def assert_labels_are_predicts(conn, name, ids, proba=True):
    got = labelled(conn, ids)
    est = fitted(name)
    feats = np.array([g[0] for g in got.values()], dtype=float)
    want = [str(v) for v in est.predict(feats)]
    assert [g[2] for g in got.values()] == want  # as scikit-learn predicts on the final features
    assert [g[3] for g in got.values()] == want  # and as pgscore.predict does
    if proba:
        p = est.predict_proba(feats)
        s = p.max(axis=1) if len(est.classes_) > 2 else p[:, 1]
        assert np.max(np.abs(np.array([g[1] for g in got.values()], dtype=float) - s)) < 1e-6
    return got


def insert_every_way(conn):
    """A single-row INSERT, a multi-row one and a COPY; returns the profiles they name."""
    query(conn, "INSERT INTO ev (pid, amount) VALUES (1, 40)")
    query(conn, "INSERT INTO ev (pid, amount) VALUES (2, 30), (3, -20), (3, 50), (4, 0), (5, 90)")
    with conn.cursor() as cur:
        cur.copy_expert("COPY ev (pid, amount) FROM STDIN",
                        io.StringIO("".join(f"{k}\t{a}\n" for k, a in [(6, 35), (7, 60), (7, 5), (8, -30)])))
    return list(range(1, 9))


def test_multiclass_text_classes_are_written_by_single_row_multi_row_and_copy_inserts(conn):
    deploy(conn.dsn, "hgb_text")
    tables(conn)
    rid = attach(conn)
    assert query(conn, "SELECT label_column FROM pgscore.rescoring WHERE rescoring_id = %s", (rid,)) == [("lab",)]
    ids = insert_every_way(conn)
    got = assert_labels_are_predicts(conn, "hgb_text", ids)
    assert len({g[2] for g in got.values()}) >= 2  # (the events moved them across the classes)
    # the audit rows carry the class written, the newest of each profile
    logged = dict(query(conn, "SELECT DISTINCT ON (entity_key) entity_key, label FROM pgscore.prediction_log "
                              "WHERE source = 'trigger' ORDER BY entity_key, logged_at DESC"))
    assert logged == {str(k): g[2] for k, g in got.items()}
    # profiles no event named: not written
    assert query(conn, "SELECT count(lab) FROM p WHERE id > 8") == [(0,)]


def test_a_multiclass_linear_model_with_a_label_column_writes_the_class(conn):
    deploy(conn.dsn, "logit")
    tables(conn)
    attach(conn)
    assert_labels_are_predicts(conn, "logit", insert_every_way(conn))


@pytest.mark.parametrize("name", ["binary", "binary_hgb"])
def test_a_binary_classifier_writes_the_class_predict_gives(conn, name):
    deploy(conn.dsn, name)
    tables(conn)
    attach(conn)
    got = assert_labels_are_predicts(conn, name, insert_every_way(conn))
    logged = dict(query(conn, "SELECT DISTINCT ON (entity_key) entity_key, label FROM pgscore.prediction_log "
                              "WHERE source = 'trigger' ORDER BY entity_key, logged_at DESC"))
    assert logged == {str(k): g[2] for k, g in got.items()}  # (a binary classifier's too, as score_table logs them)


def test_replicated_rows_write_the_class_at_the_commit(conn):
    """The rows a session of the replica role inserts (as a subscription's apply worker does), staged by the
    wiring's row trigger and rescored at the commit: the class written with the score."""
    deploy(conn.dsn, "hgb_text")
    tables(conn)
    attach(conn, p_replicated=True)
    conn.autocommit = False
    with conn.cursor() as cur:
        cur.execute("SET LOCAL session_replication_role = replica")
        for k, a in ((3, 40), (3, 30), (4, -20), (5, 60)):
            cur.execute("INSERT INTO ev (pid, amount) VALUES (%s, %s)", (k, a))
        cur.execute("SELECT count(lab) FROM p")
        assert cur.fetchone() == (0,)  # (not before the commit)
    conn.commit()
    conn.autocommit = True
    got = assert_labels_are_predicts(conn, "hgb_text", [3, 4, 5])
    assert dict(query(conn, "SELECT entity_key, label FROM pgscore.prediction_log WHERE cause->>'via' = 'replication'")) \
        == {str(k): g[2] for k, g in got.items()}


def test_a_wiring_without_a_label_column_writes_the_score_alone(conn):
    deploy(conn.dsn, "binary")
    tables(conn)
    rid = attach(conn, label=None)
    ids = insert_every_way(conn)
    assert query(conn, "SELECT label_column FROM pgscore.rescoring WHERE rescoring_id = %s", (rid,)) == [(None,)]
    assert query(conn, "SELECT count(score), count(lab) FROM p WHERE id = ANY(%s)", (ids,)) == [(len(ids), 0)]
    # (the linear model's audit rows without a label: as before)
    assert query(conn, "SELECT count(*), count(label) FROM pgscore.prediction_log WHERE source = 'trigger'")[0][1] == 0


def test_retry_failed_writes_the_label_of_profiles_queued_before_a_version_was_live(conn):
    tables(conn)
    attach(conn)  # (no model m yet: allowed, with a warning)
    query(conn, "INSERT INTO ev (pid, amount) VALUES (1, 40), (2, 30), (3, 90)")
    assert query(conn, "SELECT count(*) FROM pgscore.error_queue") == [(3,)]
    assert query(conn, "SELECT count(score), count(lab) FROM p") == [(0, 0)]
    deploy(conn.dsn, "hgb_text")
    assert query(conn, "SELECT sum(rescored), sum(failed) FROM pgscore.retry_failed()") == [(3, 0)]
    got = assert_labels_are_predicts(conn, "hgb_text", [1, 2, 3])
    assert dict(query(conn, "SELECT entity_key, label FROM pgscore.prediction_log WHERE source = 'retry'")) \
        == {str(k): g[2] for k, g in got.items()}


def test_refresh_windows_writes_the_label_with_the_score(conn):
    deploy(conn.dsn, "hgb_text")
    tables(conn)
    query(conn, "ALTER TABLE ev ADD COLUMN at timestamptz NOT NULL DEFAULT now()")
    counters = {"monthly_charges": {"add": "e.amount"}, "complaints_30d": {"window": "30 days", "time": "at"}}
    query(conn, "SELECT pgscore.attach_rescoring('ev', 'p', 'pid', 'm', 'score', %s::jsonb, p_profile_key => 'id', "
                "p_label_column => 'lab')", (json.dumps(counters),))
    query(conn, "INSERT INTO ev (pid, amount, at) VALUES (1, 40, now() - interval '29 days 23 hours'), "
                "(2, 0, now() - interval '40 days')")
    query(conn, "UPDATE p SET lab = 'stale' WHERE id = 1")
    query(conn, "UPDATE ev SET at = now() - interval '31 days'")  # (the window's events leave it)
    assert query(conn, "SELECT sum(rescored) FROM pgscore.refresh_windows()")[0][0] >= 1
    assert_labels_are_predicts(conn, "hgb_text", [1], proba=False)


@pytest.mark.parametrize("label, state, said", [
    ("labl", "42703", "has no column 'labl' (the label column of model m)"),
    ("id", "22023", "is its key column"),
    ("score", "22023", "is its score column"),
    ("scored_at", "22023", "is its scored_at column"),
    ("support_calls", "22023", "is the column of counter 'support_calls'"),
    ("tenure_months", "22023", "is a feature of model m"),
])
def test_a_label_column_the_wiring_cannot_write_is_refused_at_attach(conn, label, state, said):
    deploy(conn.dsn, "hgb_text")
    tables(conn)
    e = sql_error(conn, "SELECT pgscore.attach_rescoring('ev', 'p', 'pid', 'm', 'score', %s::jsonb, "
                        "p_profile_key => 'id', p_label_column => %s)", (json.dumps(COUNTERS), label))
    assert e.pgcode == state, e
    assert said in e.diag.message_primary and "p" in e.diag.message_primary, e.diag.message_primary
    if state == "42703":
        assert "'lab'" in e.diag.message_hint  # the nearest name
    assert query(conn, "SELECT count(*) FROM pgscore.rescoring") == [(0,)]


@pytest.mark.parametrize("name, typ", [
    ("hgb_text", "integer"),
    ("hgb_text", "varchar(3)"),  # 'high' cut
    ("hgb_text", "character(3)"),
    ("hgb_text", "short_text"),  # a domain over varchar(3)
    ("alike", "integer"),  # '1' and '01': one value
])
def test_a_label_column_whose_type_cannot_hold_every_class_is_refused_at_attach(conn, name, typ):
    deploy(conn.dsn, name)
    query(conn, "CREATE DOMAIN short_text AS varchar(3)")
    tables(conn, label_type=typ)
    e = sql_error(conn, "SELECT pgscore.attach_rescoring('ev', 'p', 'pid', 'm', 'score', p_profile_key => 'id', "
                        "p_label_column => 'lab')")
    assert e.pgcode == "42804", e
    msg = e.diag.message_primary
    assert "column 'lab' of public.p is" in msg and "of model m" in msg, msg
    assert ("are one value" if name == "alike" else "cannot hold") in msg, msg
    assert query(conn, "SELECT count(*) FROM pgscore.rescoring") == [(0,)]


def test_a_regressor_is_refused_at_attach_with_a_label_column(conn):
    deploy(conn.dsn, "regression")
    tables(conn)
    e = sql_error(conn, "SELECT pgscore.attach_rescoring('ev', 'p', 'pid', 'm', 'score', p_profile_key => 'id', "
                        "p_label_column => 'lab')")
    assert e.pgcode == "42809", e
    assert "is a regressor and has no classes to write into public.p.lab (the label column)" in e.diag.message_primary
    assert "p_label_column" in e.diag.message_hint


def test_a_role_that_may_not_update_the_label_column_is_refused_at_attach(conn):
    deploy(conn.dsn, "hgb_text")
    tables(conn)
    ensure_role(conn, "pgscore_t_wirer")
    query(conn, "GRANT pgscore_admin TO pgscore_t_wirer; GRANT SELECT, INSERT, UPDATE (score, scored_at, "
                "monthly_charges, support_calls) ON p TO pgscore_t_wirer; "
                "GRANT SELECT, TRIGGER ON ev TO pgscore_t_wirer")
    query(conn, "SET ROLE pgscore_t_wirer")
    try:
        e = sql_error(conn, "SELECT pgscore.attach_rescoring('ev', 'p', 'pid', 'm', 'score', %s::jsonb, "
                            "p_profile_key => 'id', p_label_column => 'lab')", (json.dumps(COUNTERS),))
    finally:
        query(conn, "RESET ROLE")
    assert e.pgcode == "42501", e
    assert "may not UPDATE column 'lab' of public.p (the label column of model m)" in e.diag.message_primary
    assert "GRANT UPDATE (lab) ON public.p TO pgscore_t_wirer" in e.diag.message_hint


@pytest.mark.parametrize("strict", [False, True], ids=["queue", "strict"])
def test_a_regressor_made_live_later_queues_the_profiles_and_keeps_the_events(conn, strict):
    deploy(conn.dsn, "hgb_text")
    tables(conn)
    attach(conn, p_strict=strict)
    query(conn, "INSERT INTO ev (pid, amount) VALUES (1, 40)")
    before = labelled(conn, [1])[1]
    deploy(conn.dsn, "regression", allow_task_change=True)  # v2, live
    if strict:  # the INSERT fails, saying why
        e = sql_error(conn, "INSERT INTO ev (pid, amount) VALUES (1, 10), (2, 5)")
        assert "is a regressor and has no classes to write into public.p.lab" in e.diag.message_primary, e
        assert query(conn, "SELECT count(*) FROM ev") == [(1,)]
        return
    query(conn, "INSERT INTO ev (pid, amount) VALUES (1, 10), (2, 5)")
    assert query(conn, "SELECT count(*) FROM ev") == [(3,)]
    assert query(conn, "SELECT support_calls FROM p WHERE id IN (1, 2) ORDER BY id") == \
        [(X[1, 2] + 2,), (X[2, 2] + 1,)]  # the counters are written
    after = labelled(conn, [1])[1]
    assert after[1:3] == before[1:3]  # score and class as version 1 left them
    queued = query(conn, "SELECT entity_key, reason FROM pgscore.error_queue ORDER BY entity_key")
    assert [k for k, _ in queued] == ["1", "2"]
    assert all("is a regressor and has no classes to write into public.p.lab (the label column)" in r
               for _, r in queued), queued


def test_a_version_made_live_later_that_reads_the_label_column_queues_the_profiles(conn):
    """A later version with the label column among its features would read the class the previous rescoring wrote:
    refused as its plans are made (the deployments' trigger checks the score and scored_at columns alone), the
    events and counters kept and the profiles queued."""
    deploy(conn.dsn, "binary_hgb")
    tables(conn, label_type="float8")  # (classes 0 and 1)
    attach(conn)
    query(conn, "INSERT INTO ev (pid, amount) VALUES (1, 40)")
    assert query(conn, "SELECT lab FROM p WHERE id = 1")[0][0] is not None
    names = NAMES[:-1] + ["lab"]
    registry.deploy(conn.dsn, "m", HistGradientBoostingClassifier(max_iter=5, random_state=0).fit(X, Y), X, Y,
                    feature_names=names, compile=True, allow_feature_change=True)
    query(conn, "INSERT INTO ev (pid, amount) VALUES (1, 10), (2, 5)")
    assert query(conn, "SELECT count(*) FROM ev") == [(3,)]
    queued = query(conn, "SELECT entity_key, sqlstate, reason FROM pgscore.error_queue ORDER BY entity_key")
    assert [k for k, *_ in queued] == ["1", "2"], queued
    assert all(st == "22023" and "the label column 'lab' of public.p is a feature of model m v2" in r
               for _, st, r in queued), queued


def test_status_shows_the_label_column(conn):
    deploy(conn.dsn, "hgb_text")
    tables(conn)
    query(conn, 'ALTER TABLE p RENAME COLUMN lab TO "Tier Label"')
    attach(conn, label="Tier Label")
    out = pgscore_cli("status", "--db", conn.dsn).stdout
    assert 'public.p.score (class into "Tier Label")' in out or 'p.score (class into "Tier Label")' in out, out


@pytest.mark.parametrize("name", ["hgb_text", "binary_hgb"])
def test_backfill_rescoring_writes_the_label_with_the_score(conn, name):
    """backfill_rescoring rescores the profiles whose counters it recounted (as refresh_windows does, by
    _rescore_changed): the class goes into the label column with the score, and into the audit rows."""
    deploy(conn.dsn, name)
    tables(conn)
    query(conn, "INSERT INTO ev (pid, amount) VALUES (1, 40), (2, 30), (3, -20), (3, 50), (5, 90)")  # (history)
    query(conn, "UPDATE p SET lab = 'stale'")
    attach(conn)
    assert query(conn, "SELECT pgscore.backfill_rescoring('ev')") == [(4,)]
    got = assert_labels_are_predicts(conn, name, [1, 2, 3, 5])
    assert dict(query(conn, "SELECT entity_key, label FROM pgscore.prediction_log "
                            "WHERE cause->>'via' = 'backfill_rescoring'")) == {str(k): g[2] for k, g in got.items()}
    assert query(conn, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]


def test_attach_refuses_a_label_column_a_generated_feature_is_computed_from(conn):
    """A feature of the profile table that PostgreSQL generates from the label column is changed by each write of
    the class, and read by the next rescoring: refused (22023) as a score column a feature is generated from."""
    deploy(conn.dsn, "hgb_text")
    tables(conn)
    query(conn, "ALTER TABLE p DROP COLUMN support_calls, ADD COLUMN support_calls float8 "
                "GENERATED ALWAYS AS (CASE WHEN lab = 'high' THEN 5 ELSE 1 END) STORED")
    e = sql_error(conn, "SELECT pgscore.attach_rescoring('ev', 'p', 'pid', 'm', 'score', p_profile_key => 'id', "
                        "p_label_column => 'lab')")
    assert e.pgcode == "22023", e
    assert e.diag.message_primary == ("pgscore: public.p.lab (the label column) is one that feature 'support_calls' "
                                      "of model m v1 is generated from: each rescoring would feed its own output back "
                                      "in"), e.diag.message_primary
    assert "support_calls GENERATED ALWAYS AS" in e.diag.message_detail
    assert query(conn, "SELECT count(*) FROM pgscore.rescoring") == [(0,)]


MODELS["tuned"] = (lambda: FixedThresholdClassifier(make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
                                                    threshold=0.3), Y, False, "scikit-learn", "binary")


@pytest.mark.parametrize("name, typ", [("tuned", "integer"), ("logit", "integer"), ("logit", "smallint"),
                                       ("hgb_text", "varchar(4)")])
def test_classes_go_into_a_column_of_a_type_that_holds_them(conn, name, typ):
    """A tuned threshold's class (its predict, not the most probable one), int classes into an integer column,
    text classes into a varchar(n) they fit: single-row, multi-row and COPY inserts, then retry_failed."""
    deploy(conn.dsn, name)
    tables(conn, label_type=typ)
    attach(conn)
    ids = insert_every_way(conn)
    got = labelled(conn, ids)
    est = fitted(name)
    want = est.predict(np.array([g[0] for g in got.values()], dtype=float)).tolist()
    assert [g[1] is not None for g in got.values()] == [True] * len(ids)
    assert [g[2] for g in got.values()] == [int(v) if typ != "varchar(4)" else v for v in want]
    assert [str(g[3]) for g in got.values()] == [str(v) for v in want]
    if name == "tuned":  # (its threshold decides some rows the most probable class would not)
        p = est.predict_proba(np.array([g[0] for g in got.values()], dtype=float))[:, 1]
        assert np.allclose([g[1] for g in got.values()], p)


def test_two_sessions_inserting_for_the_same_profiles_write_label_and_score_of_the_same_features(conn):
    """Two sessions inserting events for the same profiles at once (single-row and multi-row INSERTs, in random
    order): each profile's class and score at the end are those of its final features (the lock the trigger takes
    on the profiles orders their writes)."""
    import random
    import threading

    deploy(conn.dsn, "binary_hgb")
    tables(conn)
    attach(conn)
    errors = []

    def insert(seed):
        rnd = random.Random(seed)
        try:
            c = psycopg2.connect(conn.dsn)
            c.autocommit = True
            with c.cursor() as cur:
                for _ in range(60):
                    rows = [(rnd.randrange(1, 9), rnd.uniform(-40, 60)) for _ in range(rnd.choice((1, 1, 3)))]
                    cur.execute("INSERT INTO ev (pid, amount) VALUES " + ", ".join(["(%s, %s)"] * len(rows)),
                                [v for r in rows for v in r])
            c.close()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=insert, args=(s,)) for s in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert query(conn, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
    assert_labels_are_predicts(conn, "binary_hgb", range(1, 9))


def test_a_version_made_live_later_with_a_feature_generated_from_the_label_column_queues_the_profiles(conn):
    """A later version reading a feature that PostgreSQL generates from the label column would be fed the class the
    previous rescoring wrote: refused as its plans are made, as a later version reading the label column itself is,
    the events and counters kept and the profiles queued (attach refuses it of the version live then)."""
    deploy(conn.dsn, "binary_hgb")
    tables(conn, label_type="float8")  # (classes 0 and 1)
    query(conn, "ALTER TABLE p ADD COLUMN flagged float8 GENERATED ALWAYS AS (coalesce(lab, 0) * 10) STORED")
    attach(conn)
    query(conn, "INSERT INTO ev (pid, amount) VALUES (1, 40)")
    assert query(conn, "SELECT count(lab) FROM p WHERE id = 1") == [(1,)]
    names = NAMES[:-1] + ["flagged"]
    registry.deploy(conn.dsn, "m", HistGradientBoostingClassifier(max_iter=5, random_state=0).fit(X, Y), X, Y,
                    feature_names=names, compile=True, allow_feature_change=True)
    query(conn, "INSERT INTO ev (pid, amount) VALUES (1, 10), (2, 5)")
    assert query(conn, "SELECT count(*) FROM ev") == [(3,)]
    assert query(conn, "SELECT support_calls - %s FROM p WHERE id = 2", (float(X[2, NAMES.index("support_calls")]),)) \
        == [(1.0,)]  # (counted)
    queued = query(conn, "SELECT entity_key, sqlstate, reason FROM pgscore.error_queue ORDER BY entity_key")
    assert [k for k, *_ in queued] == ["1", "2"], queued
    assert all(st == "22023" and "the label column 'lab' of public.p is one that feature 'flagged' of model m v2 is "
               "generated from" in r for _, st, r in queued), queued
