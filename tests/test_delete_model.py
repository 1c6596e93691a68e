"""A model name deployed by mistake (`chrun` for `churn`, a test model in production): there was `retire`, which
keeps the name and its versions, and no delete (docs/operations.md gave six DELETEs for a superuser). Migration
0156: pgscore.delete_model(name) and `pgscore delete NAME` delete the name with all its versions, under the name's
lock, only where nothing depends on it; refused (2BP01, naming what holds it, hint: retire it instead) where a
version logged predictions, outcomes were recorded, a table is wired to it, a version is a shadow, or the name has
thresholds of its own or a silence in force."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import threading

import psycopg2
import pytest
from psycopg2 import errors

from helpers import PGSCORE, ensure_role, pgscore_cli, query, waits_on_a_lock
from pgscore import datasets, registry, sample
from pgscore.errors import UnknownModel

REGISTRY = ("models", "artifacts", "evaluators", "baselines")


@pytest.fixture(scope="module")
def trained():
    from sklearn.linear_model import LogisticRegression

    X, y, names = datasets.churn(400, seed=0)
    return X, y, names, LogisticRegression(max_iter=1000).fit(X, y)


@pytest.fixture
def chrun(db_url, trained):
    """'chrun' deployed twice (v1 stored only, v2 live), 'churn' once; an autocommit connection."""
    X, y, names, model = trained
    registry.deploy(db_url, "churn", model, X, y, feature_names=names)
    registry.deploy(db_url, "chrun", model, X, y, feature_names=names, activate=False)
    registry.deploy(db_url, "chrun", model, X, y, feature_names=names, if_new=False)
    conn = psycopg2.connect(db_url)
    conn.autocommit = True
    yield conn
    conn.close()


def _rows(conn, name="chrun"):
    """The name's rows in the registry's tables, and its deployments and shadow history."""
    ids = "(SELECT model_id FROM pgscore.models WHERE name = %s)"
    counts = [query(conn, f"SELECT count(*) FROM pgscore.{t} WHERE model_id IN {ids}", (name,))[0][0]
              for t in REGISTRY]
    counts += [query(conn, f"SELECT count(*) FROM pgscore.{t} WHERE model_name = %s", (name,))[0][0]
               for t in ("deployments", "shadows")]
    return counts


def _refusal(conn, name="chrun"):
    with pytest.raises(errors.DependentObjectsStillExist) as e:
        query(conn, "SELECT * FROM pgscore.delete_model(%s)", (name,))
    return e.value.diag.message_primary, e.value.diag.message_hint or ""


def test_delete_model_deletes_every_version_and_the_name_deploys_again_as_version_1(chrun, db_url, trained):
    conn = chrun
    X, y, names, model = trained
    # a shadow set and cleared (its history goes too), an ended silence (stays: history of the name), alert state
    query(conn, "SELECT pgscore.set_shadow('chrun', 1)")
    query(conn, "SELECT pgscore.clear_shadow('chrun')")
    (silence,), = query(conn, "SELECT pgscore.silence_alerts('chrun', '1 hour', 'typo')")
    query(conn, "SELECT pgscore.lift_silence(%s)", (silence,))
    query(conn, "INSERT INTO pgscore.alert_state (model, version, what, subject, window_name, metric, level) "
                "VALUES ('chrun', 2, 'score', 'score', '1 day', 'psi', 'alert')")
    before = _rows(conn)
    assert before[:2] == [2, 2] and before[4:] == [1, 2], before
    deleted = dict(query(conn, "SELECT * FROM pgscore.delete_model('chrun')"))
    assert deleted == {"pgscore.models": 2, "pgscore.artifacts": 2, "pgscore.evaluators": before[2],
                       "pgscore.baselines": before[3], "pgscore.deployments": 1, "pgscore.shadows": 2,
                       "pgscore.shadow_failures": 0, "pgscore.alert_state": 1,
                       "pgscore.drift_rollup": 0, "pgscore.drift_rollup_day": 0}, deleted
    assert _rows(conn) == [0] * 6
    assert query(conn, "SELECT count(*) FROM pgscore.models WHERE name = 'chrun'") == [(0,)]
    assert query(conn, "SELECT count(*) FROM pgscore.alert_state WHERE model = 'chrun'") == [(0,)]
    # the other model is untouched; the lifted silence stays until the name's next first version drops it
    assert query(conn, "SELECT version FROM pgscore.model_versions WHERE name = 'churn'") == [(1,)]
    assert query(conn, "SELECT count(*) FROM pgscore.alert_silences WHERE model = 'chrun'") == [(1,)]
    # scoring the name now says there is none
    with pytest.raises(psycopg2.Error) as e:
        query(conn, "SELECT pgscore.score('chrun', %s::float8[])", (X[0].tolist(),))
    assert "chrun" in e.value.diag.message_primary, e.value.diag.message_primary
    # deployed afresh: version 1
    rec = registry.deploy(db_url, "chrun", model, X, y, feature_names=names)
    assert rec["version"] == 1 and rec["live"], rec
    assert query(conn, "SELECT count(*) FROM pgscore.alert_silences WHERE model = 'chrun'") == [(0,)]


def test_predictions_in_the_audit_log_hold_it(chrun, trained):
    conn = chrun
    X = trained[0]
    query(conn, "SELECT pgscore.score('chrun', %s::float8[], p_key => '7')", (X[0].tolist(),))
    assert query(conn, "SELECT count(*) FROM pgscore.prediction_log") == [(1,)]
    before = _rows(conn)
    msg, hint = _refusal(conn)
    assert msg == ("model 'chrun' cannot be deleted: version 2 logged predictions (pgscore.prediction_log, the audit "
                   "log)"), msg
    assert hint == ("retire it instead: pgscore.retire('chrun') (pgscore retire chrun) stops its scoring and keeps "
                    "its versions"), hint
    assert _rows(conn) == before


def test_outcomes_hold_it(chrun):
    conn = chrun
    query(conn, "SELECT pgscore.record_outcome('chrun', '7', 1)")
    msg, hint = _refusal(conn)
    assert msg == "model 'chrun' cannot be deleted: outcomes were recorded for it (pgscore.outcomes)", msg
    assert "pgscore retire chrun" in hint and "to delete it" not in hint, hint
    assert _rows(conn)[0] == 2


def test_a_rescoring_wiring_holds_it(chrun):
    conn = chrun
    with conn.cursor() as cur:
        sample.create_tables(cur)
        sample.rescore_complaints(cur, model="chrun")
    msg, hint = _refusal(conn)
    assert msg == ("model 'chrun' cannot be deleted: it rescores public.customers from public.complaints "
                   "(pgscore.rescoring)"), msg
    assert hint.endswith("; or, to delete it, first pgscore.detach_rescoring('public.complaints')"), hint
    query(conn, "SELECT pgscore.detach_rescoring('public.complaints')")
    assert dict(query(conn, "SELECT * FROM pgscore.delete_model('chrun')"))["pgscore.models"] == 2


def test_a_shadow_holds_it(chrun):
    conn = chrun
    query(conn, "SELECT pgscore.set_shadow('chrun', 1)")
    msg, hint = _refusal(conn)
    assert msg == "model 'chrun' cannot be deleted: version 1 is scored in shadow (pgscore.shadow_versions)", msg
    assert hint.endswith("; or, to delete it, first pgscore.clear_shadow('chrun') (pgscore shadow chrun --off)"), hint
    assert _rows(conn)[0] == 2


def test_thresholds_and_silences_hold_it_each_named_with_its_step(chrun):
    conn = chrun
    query(conn, "SELECT pgscore.set_thresholds('chrun', 'psi', 0.2, 0.3)")
    query(conn, "SELECT pgscore.set_thresholds('chrun', 'ks', 0.2, 0.3)")
    (a,), = query(conn, "SELECT pgscore.silence_alerts('chrun', '1 hour', 'typo')")
    (b,), = query(conn, "SELECT pgscore.silence_alerts('chrun', '1 hour', 'later', "
                        "p_starts_at => now() + interval '1 day')")
    msg, hint = _refusal(conn)
    assert msg == (f"model 'chrun' cannot be deleted: it has thresholds of its own, of ks, psi "
                   f"(pgscore.drift_threshold_overrides); silences {a}, {b} of its alerts are in force or to come "
                   f"(pgscore.alert_silences)"), msg
    assert hint.endswith(f"; or, to delete it, first pgscore.clear_thresholds('chrun') (pgscore thresholds chrun "
                         f"--clear), pgscore.lift_silence({a}) (pgscore unsilence {a}), pgscore.lift_silence({b}) "
                         f"(pgscore unsilence {b})"), hint
    query(conn, "SELECT pgscore.clear_thresholds('chrun')")
    query(conn, "SELECT pgscore.lift_silence(%s)", (a,))
    msg, _ = _refusal(conn)  # (the silence to come holds it still)
    assert msg == f"model 'chrun' cannot be deleted: silence {b} of its alerts is in force or to come " \
                  "(pgscore.alert_silences)", msg
    query(conn, "SELECT pgscore.lift_silence(%s)", (b,))
    assert dict(query(conn, "SELECT * FROM pgscore.delete_model('chrun')"))["pgscore.models"] == 2


@pytest.mark.parametrize("write", ["query", "outcome"])
def test_a_prediction_or_outcome_in_flight_is_waited_for_and_holds_it(chrun, db_url, trained, write):
    """A transaction that scored the name (its audit rows buffered, not yet flushed) or recorded an outcome of it,
    not yet committed: the delete saw no row, deleted every version, and the rows committed after it named a
    version gone (a log row no model names; an outcome a redeploy of the name took as its own). It waits for it
    now, and is refused as for rows committed before."""
    X = trained[0]
    a = psycopg2.connect(db_url)
    b = psycopg2.connect(db_url)
    b.autocommit = True
    (pid,), = query(b, "SELECT pg_backend_pid()")
    done = {}

    def delete():
        try:
            done["rows"] = query(b, "SELECT * FROM pgscore.delete_model('chrun')")
        except psycopg2.Error as e:
            done["error"] = e

    t = threading.Thread(target=delete, daemon=True)
    try:
        if write == "query":
            query(a, "SELECT pgscore.score('chrun', %s::float8[], p_key => '7')", (X[0].tolist(),))
        else:
            query(a, "SELECT pgscore.record_outcome('chrun', '7', 1)")
        t.start()
        assert waits_on_a_lock(chrun, pid, t, seconds=60), done
        a.commit()
        t.join(timeout=120)
        assert not t.is_alive(), done
    finally:
        a.rollback()
        t.join(timeout=120)
        a.close()
        b.close()
    assert isinstance(done.get("error"), errors.DependentObjectsStillExist), done
    said = "logged predictions" if write == "query" else "outcomes were recorded"
    assert said in done["error"].diag.message_primary, done["error"].diag.message_primary
    assert _rows(chrun)[0] == 2
    assert query(chrun, "SELECT count(*) FROM pgscore.prediction_log l WHERE NOT EXISTS "
                        "(SELECT 1 FROM pgscore.models m WHERE m.model_id = l.model_id)") == [(0,)]


@pytest.mark.parametrize("level", ["REPEATABLE READ", "SERIALIZABLE"])
def test_a_snapshot_older_than_its_wait_is_refused(chrun, db_url, level):
    """In REPEATABLE READ or SERIALIZABLE the snapshot is taken before the lock that waits for a score in flight:
    what that score committed would not be seen, and the delete went through. Refused (25000) now, nothing
    deleted."""
    conn = psycopg2.connect(db_url)
    try:
        query(conn, f"BEGIN ISOLATION LEVEL {level}")
        with pytest.raises(errors.InvalidTransactionState) as e:
            query(conn, "SELECT * FROM pgscore.delete_model('chrun')")
        said = e.value.diag.message_primary
        assert said == f"pgscore.delete_model must run in a READ COMMITTED transaction, not {level}", said
        assert "autocommit" in e.value.diag.message_hint and "pgscore delete" in e.value.diag.message_hint
    finally:
        conn.rollback()
        conn.close()
    assert _rows(chrun)[0] == 2


def test_null_unknown_read_only_and_roles(chrun, db_url):
    conn = chrun
    with pytest.raises(errors.NullValueNotAllowed):
        query(conn, "SELECT * FROM pgscore.delete_model(NULL)")
    with pytest.raises(errors.UndefinedObject) as e:
        query(conn, "SELECT * FROM pgscore.delete_model('chrum')")
    assert e.value.diag.message_primary == "there is no model 'chrum'", e.value.diag.message_primary
    assert "a typo for 'chrun'?" in (e.value.diag.message_hint or ""), e.value.diag.message_hint
    ro = psycopg2.connect(db_url, options="-c default_transaction_read_only=on")
    ro.autocommit = True
    try:
        with pytest.raises(errors.ReadOnlySqlTransaction) as e:
            query(ro, "SELECT * FROM pgscore.delete_model('chrun')")
    finally:
        ro.close()
    assert e.value.diag.message_primary == ("pgscore.delete_model writes the registry: not in a read-only "
                                            "transaction"), e.value.diag.message_primary
    assert "run it in a transaction that may write" in e.value.diag.message_hint, e.value.diag.message_hint
    # granted to pgscore_admin alone; it deletes from tables the admin may not delete from (runs as its owner)
    for role in ("pgscore_app", "pgscore_reader"):
        conn.autocommit = False
        try:
            with pytest.raises(errors.InsufficientPrivilege):
                query(conn, f"SET LOCAL ROLE {role}; SELECT * FROM pgscore.delete_model('chrun')")
        finally:
            conn.rollback()
            conn.autocommit = True
    assert _rows(conn)[0] == 2
    ensure_role(conn, "pgscore_t_deleter")
    query(conn, "GRANT pgscore_admin TO pgscore_t_deleter")
    conn.autocommit = False
    try:
        query(conn, "SET LOCAL ROLE pgscore_t_deleter")
        with pytest.raises(errors.InsufficientPrivilege):  # (the admin deletes from no registry table itself)
            query(conn, "DELETE FROM pgscore.deployments WHERE model_name = 'chrun'")
        conn.rollback()
        query(conn, "SET LOCAL ROLE pgscore_t_deleter")
        assert dict(query(conn, "SELECT * FROM pgscore.delete_model('chrun')"))["pgscore.models"] == 2
        conn.commit()
    finally:
        conn.rollback()
        conn.autocommit = True
    assert _rows(conn) == [0] * 6


def test_it_takes_the_names_lock_a_deploy_of_the_name_waits_for_it_and_stores_version_1(chrun, db_url, trained):
    X, y, names, model = trained
    # another change of the name in progress (a retire, not committed): the delete waits for it
    a = psycopg2.connect(db_url)
    b = psycopg2.connect(db_url)
    try:
        query(a, "SELECT pgscore.retire('chrun')")
        query(b, "SET lock_timeout = '200ms'")
        with pytest.raises(errors.LockNotAvailable) as e:
            query(b, "SELECT * FROM pgscore.delete_model('chrun')")
        # (review r6 of session 68) naming what it waited for: PostgreSQL's own 55P03 said "canceling statement due
        # to lock timeout", its context "while locking tuple (0,2) in relation model_locks"
        assert e.value.diag.message_primary == (
            "pgscore.delete_model: lock timeout (200ms) waiting for a change of model 'chrun' in progress (a deploy, "
            "activate, rollback, retire or shadow of the name, which holds its row of pgscore.model_locks until it "
            "ends)"), e.value.pgerror
        assert e.value.diag.message_hint.startswith("nothing was deleted: call it again"), e.value.pgerror
        b.rollback()
        a.commit()
        # the delete holds the lock (not committed): a deploy of the name waits for it, then stores version 1
        assert dict(query(b, "SELECT * FROM pgscore.delete_model('chrun')"))["pgscore.models"] == 2
        c = psycopg2.connect(db_url)
        (pid,), = query(c, "SELECT pg_backend_pid()")
        done = {}

        def deploy():
            try:
                done["rec"] = registry.deploy(c, "chrun", model, X, y, feature_names=names)
                c.commit()
            except Exception as e:  # noqa: BLE001 - reported by the assertion below
                done["error"] = e

        t = threading.Thread(target=deploy, daemon=True)
        t.start()
        try:
            a.autocommit = True
            # (the deploy fits and checks its model before it asks for the lock)
            assert waits_on_a_lock(a, pid, t, seconds=60), done
            assert query(a, "SELECT count(*) FROM pgscore.models WHERE name = 'chrun'") == [(2,)]
            b.commit()
            t.join(timeout=120)
            assert not t.is_alive() and "error" not in done, done
        finally:
            b.rollback()
            t.join(timeout=120)
            c.close()
        assert done["rec"]["version"] == 1 and done["rec"]["live"], done["rec"]
        assert query(a, "SELECT version FROM pgscore.models WHERE name = 'chrun'") == [(1,)]
    finally:
        a.close()
        b.close()


# -- the command line --------------------------------------------------------------------------------------------


def test_cli_without_a_terminal_needs_yes_and_deletes_nothing_without_it(chrun, db_url):
    conn = chrun
    r = pgscore_cli("--db", db_url, "delete", "chrun")  # (stdin: the test's, no terminal)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert r.stderr.startswith("usage: pgscore delete "), r.stderr
    assert "there is no terminal to ask on: add --yes" in r.stderr and " retire chrun)" in r.stderr, r.stderr
    assert _rows(conn)[0] == 2
    r = pgscore_cli("--db", db_url, "delete", "chrun", "--yes")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert r.stdout.startswith("deleted model chrun: 2 versions, with 2 artifact(s), "), r.stdout
    assert "the name is free: a deploy of it stores version 1" in r.stdout, r.stdout
    assert _rows(conn) == [0] * 6


def test_cli_json_and_refusals(chrun, db_url):
    conn = chrun
    query(conn, "SELECT pgscore.record_outcome('churn', '7', 1)")
    r = pgscore_cli("--db", db_url, "delete", "churn", "--yes", "--json")
    assert r.returncode == 1 and r.stdout == "", (r.stdout, r.stderr)
    assert "model 'churn' cannot be deleted: outcomes were recorded for it (pgscore.outcomes) (SQLSTATE 2BP01)" \
        in r.stderr, r.stderr
    # (the command as run: with its --db)
    assert "\nHint: retire it instead: pgscore.retire('churn') (pgscore --db " in r.stderr, r.stderr
    assert " retire churn) stops its scoring and keeps its versions" in r.stderr, r.stderr
    r = pgscore_cli("--db", db_url, "delete", "chrum", "--yes")
    assert r.returncode == 1 and "there is no model 'chrum' (SQLSTATE 42704)" in r.stderr, r.stderr
    r = pgscore_cli("--db", db_url, "delete", "chrun", "--yes", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["name"] == "chrun" and doc["deleted"]["pgscore.models"] == 2, doc
    assert doc["deleted"]["pgscore.deployments"] == 1 and doc["deleted"]["pgscore.artifacts"] == 2, doc
    assert query(conn, "SELECT count(*) FROM pgscore.models WHERE name = 'churn'") == [(1,)]


def _on_a_terminal(db_url, answer, timeout=120):
    """pgscore delete chrun with stdin a terminal on which `answer` is typed; (exit code, stdout, stderr)."""
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen([*PGSCORE, "--db", db_url, "delete", "chrun"], stdin=slave, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        os.write(master, answer.encode() + b"\n")
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            raise
        return p.returncode, out, err
    finally:
        os.close(master)
        os.close(slave)


def test_cli_on_a_terminal_asks_first(chrun, db_url):
    conn = chrun
    code, out, err = _on_a_terminal(db_url, "n")
    assert code == 1 and out == "", (code, out, err)
    assert err.startswith("delete model chrun: versions 1, 2 (version 2 live), with their artifacts, baselines and "
                          "deployment history? It cannot be undone. [y/N] "), err
    assert "nothing was deleted: chrun is as it was" in err, err
    assert _rows(conn)[0] == 2
    code, out, err = _on_a_terminal(db_url, "y")
    assert code == 0 and out.startswith("deleted model chrun: 2 versions"), (code, out, err)
    assert _rows(conn) == [0] * 6


def test_cli_names_the_role_it_needs(chrun, db_url):
    """A login granted pgscore_reader alone (it reads the models, and may not delete them): refused, 42501, with the
    role pgscore delete needs; nothing deleted."""
    conn = chrun
    ensure_role(conn, "pgscore_t_delete_reader", login=True)
    query(conn, "GRANT pgscore_reader TO pgscore_t_delete_reader")
    url = db_url.replace("postgresql://postgres@", "postgresql://pgscore_t_delete_reader@")
    r = pgscore_cli("--db", url, "delete", "chrun", "--yes")
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert "permission denied for function delete_model (SQLSTATE 42501)" in r.stderr, r.stderr
    assert "\nHint: pgscore delete needs a role granted pgscore_admin" in r.stderr, r.stderr
    assert _rows(conn)[0] == 2


def test_cli_checks_on_the_server_before_it_asks_or_wants_yes(chrun, db_url):
    """Session 66: the terminal's prompt came before the server's checks (a user answered y, then was told the model
    cannot be deleted), and `pgscore delete nosuch` without a terminal said `add --yes`, not that there is no such
    model. The command now asks the server first (pgscore.delete_model run and rolled back), then asks the user."""
    conn = chrun
    query(conn, "SELECT pgscore.record_outcome('chrun', '7', 1)")
    code, out, err = _on_a_terminal(db_url, "y")
    assert code == 1 and out == "", (code, out, err)
    assert "[y/N]" not in err, err  # (refused before anything was asked)
    assert "model 'chrun' cannot be deleted: outcomes were recorded for it (pgscore.outcomes) (SQLSTATE 2BP01)" \
        in err, err
    assert _rows(conn)[0] == 2
    r = pgscore_cli("--db", db_url, "delete", "nosuch")  # (no terminal, no --yes)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert "there is no model 'nosuch' (SQLSTATE 42704)" in r.stderr and "add --yes" not in r.stderr, r.stderr
    r = pgscore_cli("--db", db_url, "delete", "chrun")  # (refused by the server: said so, not `add --yes`)
    assert r.returncode == 1 and "cannot be deleted: outcomes were recorded" in r.stderr, r.stderr
    assert "add --yes" not in r.stderr, r.stderr
    # the dry run left nothing behind: no row of pgscore.model_locks for a name that never was
    assert query(conn, "SELECT count(*) FROM pgscore.model_locks WHERE name = 'nosuch'") == [(0,)]
    assert _rows(conn)[0] == 2


def test_the_rollups_of_an_erased_log_go_with_it_and_a_detached_wiring_s_queue_stays_for_the_next_wiring(
        chrun, trained):
    """Session 66 (migration 0162): delete_model kept the rollups (pgscore.drift_rollup, drift_rollup_day) of its
    versions whose log rows were all erased (erase_entity): rows naming a model_id no model has, until retention.
    They are deleted with it, and counted; another model's stay. The pgscore.error_queue rows of a detached wiring
    of the model stay (review r2 of session 66: 0162 as first written deleted them): they are the profiles whose
    rescoring failed, which the next wiring of their profile table takes over (attach_rescoring, whatever its
    model) and pgscore.retry_failed rescores; deleted, those profiles kept a stale score with no word."""
    conn = chrun
    X = trained[0]
    with conn.cursor() as cur:
        sample.create_tables(cur)
        sample.load_customers(cur, X[:12])
        sample.rescore_complaints(cur, model="chrun")
    (wiring,), = query(conn, "SELECT rescoring_id FROM pgscore.rescoring WHERE model_name = 'chrun'")
    for key in ("8", "10"):  # (not 7: erase_entity below takes its queued row)
        query(conn, "INSERT INTO pgscore.error_queue (rescoring_id, model_name, profile_table, entity_key, reason) "
                    "VALUES (%s, 'chrun', 'public.customers', %s, 'failed')", (wiring, key))
    query(conn, "SELECT pgscore.detach_rescoring('public.complaints')")
    assert query(conn, "SELECT count(*) FROM pgscore.error_queue WHERE model_name = 'chrun' "
                       "AND rescoring_id IS NULL") == [(2,)]
    # a prediction logged, rolled up, then erased: the log holds nothing of it, the rollups still do
    query(conn, "SELECT pgscore.score('chrun', %s::float8[], p_key => '7')", (X[0].tolist(),))
    ids = [i for i, in query(conn, "SELECT model_id FROM pgscore.models WHERE name IN ('chrun', 'churn') "
                                   "ORDER BY name = 'churn', version")]  # chrun 1, chrun 2, churn 1
    for t, col in (("drift_rollup", "bucket"), ("drift_rollup_day", "day")):
        for i in ids:
            query(conn, f"INSERT INTO pgscore.{t} (model_id, {col}, kind, position, bin, n, total, n_out) "
                        "VALUES (%s, date_trunc('day', now()), 'score', 0, 1, 1, 0.5, 0)", (i,))
    query(conn, "SELECT * FROM pgscore.erase_entity('7', 'chrun')")
    assert query(conn, "SELECT count(*) FROM pgscore.prediction_log") == [(0,)]
    deleted = dict(query(conn, "SELECT * FROM pgscore.delete_model('chrun')"))
    assert deleted["pgscore.models"] == 2, deleted
    assert deleted["pgscore.drift_rollup"] == 2 and deleted["pgscore.drift_rollup_day"] == 2, deleted
    assert "pgscore.error_queue" not in deleted, deleted
    assert query(conn, "SELECT model_id FROM pgscore.drift_rollup") == [(ids[2],)]
    assert query(conn, "SELECT model_id FROM pgscore.drift_rollup_day") == [(ids[2],)]
    # the queue stays, and the next wiring of the profile table (churn's) takes it over and rescores it
    assert query(conn, "SELECT entity_key FROM pgscore.error_queue WHERE rescoring_id IS NULL ORDER BY 1") == \
        [("10",), ("8",)]
    with conn.cursor() as cur:
        again = sample.rescore_complaints(cur, model="churn")
    assert query(conn, "SELECT entity_key FROM pgscore.error_queue WHERE rescoring_id = %s ORDER BY 1", (again,)) \
        == [("10",), ("8",)]
    assert query(conn, "SELECT * FROM pgscore.retry_failed()") == [(again, 2, 0)]
    assert query(conn, "SELECT count(*) FROM public.customers WHERE id IN (8, 10) AND churn_score IS NOT NULL") \
        == [(2,)]


def test_cli_s_check_before_it_asks_does_not_wait_for_scoring_in_flight(chrun, db_url, trained):
    """Review r2 of session 66: the check before the prompt (pgscore.delete_model run and rolled back) takes
    delete_model's SHARE lock on the log, so it waited for every transaction in flight that had scored (any model)
    and every score after it waited for it: on the demo, `pgscore delete chrun` without --yes and no terminal (a
    usage error at once before session 66) waited 18.9 s for a transaction that had scored churn and stayed open
    20 s, while another session's score of churn waited 16.3 s; on a terminal, before the prompt, also where the
    answer was no. The check waits for its locks DELETE_CHECK_LOCK_WAIT at most; where it would wait longer, the
    server's checks are left to the delete after the answer, as before."""
    X = trained[0]
    app = psycopg2.connect(db_url)  # a transaction that scored churn (another model), left open
    try:
        query(app, "SELECT pgscore.score('churn', %s::float8[], p_key => '1')", (X[0].tolist(),))
        try:
            r = pgscore_cli("--db", db_url, "delete", "chrun", timeout=60)
        except subprocess.TimeoutExpired:
            raise AssertionError("pgscore delete without --yes waited for a transaction that scored") from None
        assert r.returncode == 2 and "there is no terminal to ask on: add --yes" in r.stderr, r
        try:
            code, out, err = _on_a_terminal(db_url, "n", timeout=60)
        except subprocess.TimeoutExpired:
            raise AssertionError("pgscore delete on a terminal waited for a transaction that scored") from None
        assert code == 1 and "[y/N]" in err and "nothing was deleted: chrun is as it was" in err, (code, out, err)
        assert _rows(chrun)[0] == 2
    finally:
        app.rollback()
        app.close()
    # and with nothing in flight the check is made before the prompt, as before
    query(chrun, "SELECT pgscore.record_outcome('chrun', '7', 1)")
    code, out, err = _on_a_terminal(db_url, "y")
    assert code == 1 and "[y/N]" not in err and "cannot be deleted: outcomes were recorded" in err, err


def test_cli_in_a_session_whose_transactions_default_to_repeatable_read(chrun, db_url):
    """Review r2 of session 66: a role or database whose transactions default to REPEATABLE READ or SERIALIZABLE (a
    DBA's ALTER ROLE ... SET default_transaction_isolation): pgscore delete, its check before the prompt too, was
    refused by pgscore.delete_model (25000, `must run in a READ COMMITTED transaction`) with the hint to call it `as
    pgscore delete does`, which it did not. registry.delete_model's own transactions are begun READ COMMITTED."""
    env = {"PGOPTIONS": r"-c default_transaction_isolation=repeatable\ read"}
    r = pgscore_cli("--db", db_url, "delete", "nosuch", env=env)
    assert r.returncode == 1 and "there is no model 'nosuch' (SQLSTATE 42704)" in r.stderr, r.stderr
    r = pgscore_cli("--db", db_url, "delete", "chrun", env=env)
    assert r.returncode == 2 and "add --yes" in r.stderr, r.stderr
    r = pgscore_cli("--db", db_url, "delete", "chrun", "--yes", "--json",
                    env={"PGOPTIONS": "-c default_transaction_isolation=serializable"})
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["deleted"]["pgscore.models"] == 2, r.stdout
    assert _rows(chrun) == [0] * 6
    # registry.delete_model on a caller's connection: in autocommit, its own transaction is READ COMMITTED; in the
    # caller's REPEATABLE READ transaction, the function's refusal stands (the caller's transaction, left as it is)
    conn = psycopg2.connect(db_url)
    try:
        conn.autocommit = True
        query(conn, "SET default_transaction_isolation = 'repeatable read'")
        with pytest.raises(UnknownModel):
            registry.delete_model(conn, "nosuch", dry_run=True)
        with pytest.raises(UnknownModel):
            registry.delete_model(conn, "nosuch")
        conn.autocommit = False
        with pytest.raises(errors.InvalidTransactionState):
            registry.delete_model(conn, "churn", dry_run=True)
        conn.rollback()
    finally:
        conn.close()



@pytest.mark.parametrize("state", ["row", "no_row"])
def test_a_refresh_summing_its_day_while_it_deletes_is_waited_for(chrun, db_url, trained, state):
    """Session 67 (migration 0169): refresh_monitoring sums a day's rollups again (drift_rollup_day, from that day's
    5-minute rollups) where one of its buckets changed, deleting the day's rows first, and then matches outcomes
    (an UPDATE of pgscore.outcomes). delete_model, run meanwhile for a model whose log rows were erased (its rollups
    left), took its SHARE lock on the outcomes, then waited for the day rows the refresh had deleted; the refresh
    then waited for that SHARE lock: a deadlock (40P01), one of the two rolled back (a cron refresh every 5 minutes
    against a long refresh, a pgscore delete failed). delete_model now takes the refresh's lock (monitoring_state's
    row) before any other: it waits for a refresh running, which waits for nothing of it, and then deletes the
    model's rollups as the refresh left them (none come back); a refresh that starts after waits for it.
    (review r3) no_row: pgscore.monitoring_state left empty (a partial restore), where the refresh puts its row
    back and rolls every row up again: 0169's lock was that row, which a delete then found none of; it deadlocked
    so (failed before: DeadlockDetected('deadlock detected ... SQL statement "DELETE FROM pgscore.drift_rollup r
    WHERE r.model_id = ANY (v_ids)" PL/pgSQL function pgscore.delete_model(text) line 136'))."""
    conn = chrun
    X = trained[0]
    query(conn, "SELECT * FROM pgscore.refresh_monitoring()")  # the first refresh: every row, none yet
    ids = [i for i, in query(conn, "SELECT model_id FROM pgscore.models WHERE name = 'chrun' ORDER BY version")]
    (churn,), = query(conn, "SELECT model_id FROM pgscore.models WHERE name = 'churn'")
    (day,), = query(conn, "SELECT date_trunc('day', now() - interval '3 days', 'UTC')")
    # chrun's rollups of a day whose log rows were erased (the state erase_entity leaves), outside the look-back
    for i in ids:
        query(conn, "INSERT INTO pgscore.drift_rollup (model_id, bucket, kind, position, bin, n, total, n_out) "
                    "VALUES (%s, %s::timestamptz + interval '6 hours', 'score', 0, 1, 1, 0.5, 0)", (i, day))
        query(conn, "INSERT INTO pgscore.drift_rollup_day (model_id, day, kind, position, bin, n, total, n_out) "
                    "VALUES (%s, %s, 'score', 0, 1, 1, 0.5, 0)", (i, day))
    # churn's prediction of the same day, in the look-back (committed late): the refresh sums that day again
    query(conn, "INSERT INTO pgscore.prediction_log (logged_at, model_id, entity_key, features, score, source) "
                "VALUES (%s::timestamptz + interval '12 hours 2 minutes', %s, '7', %s::float8[], 0.5, 'query')",
          (day, churn, X[0].tolist()))
    query(conn, "UPDATE pgscore.monitoring_state SET rolled_until = %s::timestamptz + interval '12 hours 5 minutes'",
          (day,))
    if state == "no_row":
        query(conn, "DELETE FROM pgscore.monitoring_state")
    # the refresh held where it writes the day's rows again (its old ones deleted): a lock the test holds
    query(conn, "CREATE FUNCTION public.hold_refresh() RETURNS trigger LANGUAGE plpgsql AS "
                "'BEGIN PERFORM pg_catalog.pg_advisory_xact_lock(6767); RETURN NULL; END'")
    query(conn, "CREATE TRIGGER hold BEFORE INSERT ON pgscore.drift_rollup_day "
                "FOR EACH STATEMENT EXECUTE FUNCTION public.hold_refresh()")
    query(conn, "SELECT pg_advisory_lock(6767)")
    a, b = psycopg2.connect(db_url), psycopg2.connect(db_url)
    a.autocommit = b.autocommit = True
    (pa,), = query(a, "SELECT pg_backend_pid()")
    (pb,), = query(b, "SELECT pg_backend_pid()")
    done = {}

    def run(who, c, sql):
        try:
            done[who] = query(c, sql)
        except psycopg2.Error as e:
            done[who] = e

    ta = threading.Thread(target=run, args=("refresh", a, "SELECT * FROM pgscore.refresh_monitoring('5 minutes')"),
                          daemon=True)
    tb = threading.Thread(target=run, args=("delete", b, "SELECT * FROM pgscore.delete_model('chrun')"), daemon=True)
    try:
        ta.start()
        assert waits_on_a_lock(conn, pa, ta, seconds=60), done
        tb.start()
        assert waits_on_a_lock(conn, pb, tb, seconds=60), done
    finally:
        query(conn, "SELECT pg_advisory_unlock(6767)")
        ta.join(timeout=120)
        tb.join(timeout=120)
        a.close()
        b.close()
    assert not ta.is_alive() and not tb.is_alive(), done
    assert not isinstance(done["refresh"], Exception), done
    assert not isinstance(done["delete"], Exception), done
    assert dict(done["delete"])["pgscore.models"] == 2, done
    assert query(conn, "SELECT count(*) FROM pgscore.drift_rollup_day WHERE model_id = ANY (%s)", (ids,)) == [(0,)]
    assert query(conn, "SELECT count(*) FROM pgscore.drift_rollup WHERE model_id = ANY (%s)", (ids,)) == [(0,)]
    # churn's day, summed by the refresh, stays
    assert query(conn, "SELECT count(*) > 0 FROM pgscore.drift_rollup_day WHERE model_id = %s AND day = %s",
                 (churn, day)) == [(True,)]


@pytest.mark.parametrize("writes", ["outcome", "score"])
def test_a_transaction_that_wrote_and_then_refreshes_while_a_delete_waits_for_it_is_not_deadlocked(chrun, db_url,
                                                                                                    trained, writes):
    """Review r3 of session 67: a transaction that recorded an outcome (or scored: its audit rows) and then ran
    refresh_monitoring(), as a script in one transaction (psycopg2's default) or a pg_cron job does, while a
    delete_model waited for its writes (the SHARE locks): 0169's delete took the refresh's lock first and held it
    while it waited, the refresh waited for it: a deadlock, the transaction's writes rolled back (before 0169 it
    refreshed and committed, then the delete went on). Now the delete lets the refresh's lock go while it waits.
    failed before (both kinds, the delete the one rolled back): DeadlockDetected('deadlock detected ... SQL statement
    "LOCK TABLE ONLY pgscore.log_pending, pgscore.prediction_log, pgscore.outcomes IN SHARE MODE" PL/pgSQL function
    pgscore.delete_model(text) line 47')."""
    conn = chrun
    X = trained[0]
    writer, deleter = psycopg2.connect(db_url), psycopg2.connect(db_url)
    deleter.autocommit = True
    done = {}

    def delete():
        try:
            done["delete"] = query(deleter, "SELECT * FROM pgscore.delete_model('chrun')")
        except psycopg2.Error as e:
            done["delete"] = e

    t = threading.Thread(target=delete, daemon=True)
    try:
        if writes == "outcome":
            query(writer, "SELECT pgscore.record_outcome('churn', '7', 1)")
        else:
            query(writer, "SELECT pgscore.score('churn', %s::float8[], p_key => '7')", (X[0].tolist(),))
        t.start()
        assert waits_on_a_lock(conn, deleter.get_backend_pid(), t, seconds=60), done
        refreshed = query(writer, "SELECT rollup_rows FROM pgscore.refresh_monitoring()")
        writer.commit()
        t.join(timeout=120)
        assert not t.is_alive(), done
    finally:
        writer.close()
        deleter.close()
    assert len(refreshed) == 1, refreshed
    assert not isinstance(done["delete"], Exception), done
    assert dict(done["delete"])["pgscore.models"] == 2, done
    assert query(conn, "SELECT count(*) FROM pgscore.outcomes WHERE model_name = 'churn'") == [
        (1 if writes == "outcome" else 0,)]


def test_a_transaction_that_deploys_and_then_refreshes_while_a_delete_of_the_name_waits_is_not_deadlocked(chrun,
                                                                                                       db_url, trained):
    """Session 68: a transaction that deployed a version of the name and then ran refresh_monitoring() (a release
    script in one transaction), while a delete_model of the name waited for the name's lock (pgscore.model_locks'
    row, held by the deploy): the delete had taken the refresh's lock (monitoring_state's) and held it while it waited
    for the name, and the refresh waited for it: 40P01, one of the two rolled back (it predates session 67). The
    delete takes the name's row without waiting too now, and where it is held lets every lock go and waits for the
    name holding nothing: the transaction refreshes and commits, and the delete then finds the version it deployed.
    failed before: DeadlockDetected('deadlock detected ...')."""
    conn = chrun
    X, y, names, model = trained
    writer, deleter = psycopg2.connect(db_url), psycopg2.connect(db_url)
    deleter.autocommit = True
    done = {}

    def delete():
        try:
            done["delete"] = query(deleter, "SELECT * FROM pgscore.delete_model('chrun')")
        except psycopg2.Error as e:
            done["delete"] = e

    t = threading.Thread(target=delete, daemon=True)
    refreshed = None
    try:
        registry.deploy(writer, "chrun", model, X, y, feature_names=names, if_new=False)  # (its transaction open)
        t.start()
        assert waits_on_a_lock(conn, deleter.get_backend_pid(), t, seconds=60), done
        try:
            refreshed = query(writer, "SELECT rollup_rows FROM pgscore.refresh_monitoring()")
            writer.commit()
        except psycopg2.Error as e:
            refreshed = e
            writer.rollback()
        t.join(timeout=120)
        assert not t.is_alive(), done
    finally:
        writer.close()
        deleter.close()
    assert not isinstance(refreshed, Exception), refreshed
    assert not isinstance(done["delete"], Exception), done
    assert dict(done["delete"])["pgscore.models"] == 3, done  # (the version the transaction deployed too)
    assert query(conn, "SELECT count(*) FROM pgscore.models WHERE name = 'chrun'") == [(0,)]


def test_a_delete_waiting_for_a_refresh_under_a_lock_timeout_fails_with_it(chrun, db_url):
    """Review r3: the delete lets the refresh's lock go and waits for a refresh running (above); a lock_timeout of
    the caller ends that wait, as any, with 55P03 (not taken for the refresh's own NOWAIT and waited again), and
    nothing is deleted."""
    conn = chrun
    refresher = psycopg2.connect(db_url)
    try:
        query(refresher, "SELECT * FROM pgscore.refresh_monitoring()")  # its transaction left open: its lock held
        query(conn, "SET lock_timeout = '300ms'")
        with pytest.raises(errors.LockNotAvailable) as e:
            query(conn, "SELECT * FROM pgscore.delete_model('chrun')")
        assert "lock timeout" in e.value.diag.message_primary, e.value.pgerror
        # (review r6 of session 68) naming what it waited for (PostgreSQL's own message named nothing)
        # (the refresh holds the outcomes' lock too: the wait it ends is for the log's and the outcomes' locks)
        assert e.value.diag.message_primary.startswith("pgscore.delete_model: lock timeout (300ms) waiting for "), \
            e.value.pgerror
        assert "refresh_monitoring()" in e.value.diag.message_primary, e.value.pgerror
    finally:
        refresher.rollback()
        refresher.close()
        query(conn, "RESET lock_timeout")
    assert query(conn, "SELECT count(*) FROM pgscore.models WHERE name = 'chrun'") == [(2,)]


def test_a_delete_waiting_for_an_outcome_in_flight_under_a_lock_timeout_says_what_it_waited_for(chrun, db_url):
    """Review r6 of session 68: a lock_timeout ending the delete's wait for the transactions writing the log or the
    outcomes (an outcome recorded, not committed: its ROW EXCLUSIVE lock on pgscore.outcomes) gave PostgreSQL's own
    "canceling statement due to lock timeout", naming nothing; it names them now, and nothing is deleted."""
    conn = chrun
    writer = psycopg2.connect(db_url)
    try:
        query(writer, "LOCK TABLE pgscore.outcomes IN ROW EXCLUSIVE MODE")  # (record_outcome's INSERT's lock)
        query(conn, "SET lock_timeout = '300ms'")
        with pytest.raises(errors.LockNotAvailable) as e:
            query(conn, "SELECT * FROM pgscore.delete_model('chrun')")
        assert e.value.diag.message_primary == (
            "pgscore.delete_model: lock timeout (300ms) waiting for the transactions writing pgscore.log_pending, "
            "pgscore.prediction_log or pgscore.outcomes (a score, a recorded outcome or a refresh_monitoring() not yet "
            "committed), which hold their locks until they end"), \
            e.value.pgerror
    finally:
        writer.rollback()
        writer.close()
        query(conn, "RESET lock_timeout")
    assert query(conn, "SELECT count(*) FROM pgscore.models WHERE name = 'chrun'") == [(2,)]
