"""A model deleted by hand (hT11 of session 62, a fleet of 12 models): DELETE FROM pgscore.models failed with a bare
23503 naming a constraint, no hint; and a model deployed later under the freed name inherited the deleted model's
silences, thresholds and alert state (keyed by name, no foreign key). The DELETE is refused with what refers to the
version and a hint (migration 0135), and a name's first version drops what a deleted namesake left."""

from __future__ import annotations

import psycopg2
import pytest
from psycopg2 import errors

from helpers import query
from pgscore import datasets, registry

# the order docs/operations.md ("Deleting a model") gives, each keyed by the name's versions
DELETE_BY_HAND = [
    "DELETE FROM pgscore.shadows WHERE model_name = %(n)s",
    "DELETE FROM pgscore.deployments WHERE model_name = %(n)s",
    "DELETE FROM pgscore.evaluators WHERE model_id IN (SELECT model_id FROM pgscore.models WHERE name = %(n)s)",
    "DELETE FROM pgscore.baselines WHERE model_id IN (SELECT model_id FROM pgscore.models WHERE name = %(n)s)",
    "DELETE FROM pgscore.artifacts WHERE model_id IN (SELECT model_id FROM pgscore.models WHERE name = %(n)s)",
    "DELETE FROM pgscore.models WHERE name = %(n)s",
]


@pytest.fixture(scope="module")
def trained():
    from sklearn.linear_model import LogisticRegression

    X, y, names = datasets.churn(1000, seed=0)
    return X, y, names, LogisticRegression(max_iter=500).fit(X, y)


@pytest.fixture
def deployed(db_url, trained):
    X, y, names, model = trained
    registry.deploy(db_url, "churn", model, X, y, feature_names=names)
    conn = psycopg2.connect(db_url)
    conn.autocommit = True
    yield conn
    conn.close()


def _left(conn, name="churn"):
    return [query(conn, f"SELECT count(*) FROM pgscore.{t} WHERE model = %s", (name,))[0][0]
            for t in ("alert_silences", "drift_threshold_overrides", "alert_state")]


def test_deleting_a_model_by_hand_says_what_refers_to_it_and_how_to_delete_one(deployed):
    conn = deployed
    with pytest.raises(errors.ForeignKeyViolation) as e:
        query(conn, "DELETE FROM pgscore.models WHERE name = 'churn'")
    msg, hint = e.value.diag.message_primary, e.value.diag.message_hint or ""
    assert msg.startswith("model 'churn' v1 cannot be deleted: its rows in pgscore.artifacts, pgscore.deployments, "
                          "pgscore.baselines"), msg
    assert "pgscore retire churn" in hint and 'docs/operations.md, "Deleting a model"' in hint, hint
    # (0156) and the command that deletes a model nothing depends on
    assert "to delete one that nothing depends on (no predictions, outcomes, wiring, shadow), pgscore delete churn " \
           "(pgscore.delete_model)" in hint, hint
    assert query(conn, "SELECT count(*) FROM pgscore.models") == [(1,)]


def test_a_model_deployed_under_a_deleted_models_name_inherits_none_of_its_silences_or_thresholds(deployed, db_url,
                                                                                                 trained):
    X, y, names, model = trained
    conn = deployed
    query(conn, "SELECT pgscore.set_thresholds('churn', 'psi', 9, 'infinity')")
    query(conn, "SELECT pgscore.silence_alerts('churn', '30 days', 'old team: retired soon')")
    query(conn, "INSERT INTO pgscore.alert_state (model, version, what, subject, window_name, metric, level) "
                "VALUES ('churn', 1, 'score', 'score', '1 day', 'psi', 'alert')")
    # a second version of the name keeps them: the model's own
    registry.deploy(db_url, "churn", model, X, y, feature_names=names)
    assert _left(conn) == [1, 1, 1]
    # the documented way, in one transaction
    with conn.cursor() as cur:
        cur.execute("BEGIN")
        for stmt in DELETE_BY_HAND:
            cur.execute(stmt, {"n": "churn"})
        cur.execute("COMMIT")
    assert query(conn, "SELECT count(*) FROM pgscore.models") == [(0,)]
    conn.notices.clear()
    # another team's model under the freed name: none of the old one's silences, thresholds or alert state
    registry.deploy(db_url, "churn", model, X, y, feature_names=names)
    assert _left(conn) == [0, 0, 0]
    assert query(conn, "SELECT version FROM pgscore.models WHERE name = 'churn'") == [(1,)]
    # and a silence or a threshold of the new model holds
    query(conn, "SELECT pgscore.set_thresholds('churn', 'psi', 0.3, 0.5)")
    registry.deploy(db_url, "churn", model, X, y, feature_names=names)
    assert _left(conn)[1] == 1


def test_a_first_version_says_what_a_deleted_namesake_left_that_it_dropped(deployed):
    conn = deployed
    query(conn, "SELECT pgscore.silence_alerts('churn', '1 hour', 'x')")
    query(conn, "SELECT pgscore.set_thresholds('churn', 'ks', 0.5, 0.9)")
    conn.autocommit = False
    try:
        cur = conn.cursor()
        for stmt in DELETE_BY_HAND:
            cur.execute(stmt, {"n": "churn"})
        conn.notices.clear()
        # a version stored as register_model stores it, as pgscore_admin
        cur.execute("SET LOCAL ROLE pgscore_admin")
        cur.execute("INSERT INTO pgscore.models (name, version, task, estimator, feature_names, feature_types, env) "
                    "VALUES ('churn', 1, 'binary', 'x', '{a}', '{float8}', '{}')")
        cur.execute("RESET ROLE")
        said = " ".join(conn.notices)
        assert "model churn v1: 1 silence(s), 1 threshold override(s) and 0 alert state row(s) left by a deleted " \
               "model of that name dropped" in said, said
        cur.execute("SELECT count(*) FROM pgscore.alert_silences WHERE model = 'churn'")
        assert cur.fetchone() == (0,)
    finally:
        conn.rollback()
        conn.autocommit = True


def test_a_names_first_version_takes_no_turn_of_the_threshold_writers_where_none_was_left(db_url, trained):
    """Session 62 (lead): the first version's trigger deleted the name's overrides even where there were none, and a
    DELETE of no row still fires the overrides' statement trigger (0133): the threshold writers' lock and a write of
    threshold_writes at every first deploy, so a deploy in a REPEATABLE READ transaction that missed another's
    threshold write failed with 40001. Where nothing was left, the first version writes nothing of the thresholds."""
    X, y, names, model = trained
    (before,), = query(db_url, "SELECT xmin::text FROM pgscore.threshold_writes")
    registry.deploy(db_url, "fresh_name", model, X, y, feature_names=names)
    assert query(db_url, "SELECT xmin::text FROM pgscore.threshold_writes") == [(before,)]
