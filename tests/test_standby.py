"""A read replica: a streaming hot standby of a cluster of the module's own (pg_basebackup -R), where
analysts and read-only applications score, read the views and run the commands that only read."""

from __future__ import annotations

import os
import time

import psycopg2
import pytest
from psycopg2 import sql
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from helpers import own_cluster, pgscore_cli, query
from pgscore import datasets, migrate, registry, sample
from pgscore.errors import READ_ONLY_HINT, STANDBY_HINT, PgscoreError
from pgscore.localdb import SUPERUSER, Cluster, free_port

X, Y, NAMES = datasets.churn(400, seed=3)
ROW = X[0].tolist()


STANDBY = []  # the replica fixture's standby Cluster (a test restarts it)


@pytest.fixture(scope="module")
def replica():
    """(primary, standby) URLs: the primary installed, with churn v1 live and a table `customers`
    (id, features, s); the standby streaming from it, started the way pgscore db start starts a cluster
    (as root, its files and processes the server's OS user's)."""
    with own_cluster("pgscore-standby-") as primary:
        url = primary.url()
        migrate.upgrade(url)
        registry.deploy(url, "churn", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y),
                        X, Y, feature_names=NAMES)
        with psycopg2.connect(url) as c, c.cursor() as cur:
            cur.execute("CREATE TABLE customers (id int PRIMARY KEY, features float8[], s float8)")
            cur.execute("INSERT INTO customers SELECT i, %s::float8[] FROM generate_series(1, 50) i", (ROW,))
        c.close()
        target = primary.data_dir.parent / "standby"
        target.mkdir(mode=0o700)
        if primary.as_root:
            pw = primary._server_pw()
            os.chown(target, pw.pw_uid, pw.pw_gid)
        primary._run([str(primary.bin_dir / "pg_basebackup"), "-R", "-X", "stream", "-c", "fast", "-D", str(target),
                      "-d", f"host={primary.socket_dir} port={primary.port} user={SUPERUSER}"])
        standby = Cluster(data_dir=target, port=free_port())  # the copied pgscore-cluster.json: a cluster of pgscore's
        try:
            standby.start()
            STANDBY[:] = [standby]
            assert query(psycopg2.connect(standby.url()), "SELECT pg_is_in_recovery()") == [(True,)]
            yield url, standby.url()
        finally:
            standby.destroy()


def replayed(primary, standby):
    """Wait until the standby has replayed everything the primary wrote so far."""
    p = psycopg2.connect(primary)
    try:
        (lsn,), = query(p, "SELECT pg_current_wal_lsn()")
    finally:
        p.close()
    s = psycopg2.connect(standby)
    try:
        for _ in range(200):
            if query(s, "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,)) == [(True,)]:
                return
            time.sleep(0.05)
    finally:
        s.close()
    raise AssertionError("the standby did not replay the primary's WAL in 10 s")


def test_a_standby_scores_unlogged_and_a_session_there_follows_the_primarys_deployments(replica):
    primary, standby = replica
    s = psycopg2.connect(standby)
    s.autocommit = True
    try:
        score = lambda v=None: query(s, "SELECT pgscore.score('churn', %s::float8[], p_version => %s)", (ROW, v))[0][0]
        v1 = score()
        # (it said "read-only transaction", and a developer on the replica looked for a setting of their own)
        assert any("pgscore: on a standby (a read replica), whose transactions are all read-only: predictions of "
                   "this statement are scored but not written" in n for n in s.notices), s.notices
        assert len(query(s, "SELECT * FROM pgscore.predict_batch('churn', 'SELECT id, features FROM customers')")) == 50
        assert query(s, "SELECT count(*) FROM pgscore.predictions") == [(0,)]
        # the same session, open across the primary's deploy, rollback and retire: each seen at its next statement
        flipped = make_pipeline(StandardScaler(), LogisticRegression(C=0.001, max_iter=500)).fit(X, 1 - Y)
        registry.deploy(primary, "churn", flipped, X, 1 - Y, feature_names=NAMES, allow_task_change=True)
        replayed(primary, standby)
        v2 = score()
        assert v2 == score(2) and v2 != v1
        p = psycopg2.connect(primary)
        p.autocommit = True
        query(p, "SELECT pgscore.rollback('churn')")
        replayed(primary, standby)
        assert score() == v1
        query(p, "SELECT pgscore.retire('churn')")
        p.close()
        replayed(primary, standby)
        with pytest.raises(psycopg2.Error) as e:
            score()
        assert e.value.pgcode == "55000"
        assert score(2) == v2  # a version asked for by number still scores
    finally:
        s.close()
        p = psycopg2.connect(primary)
        p.autocommit = True
        query(p, "SELECT pgscore.activate('churn', 1)")
        p.close()
        replayed(primary, standby)


def test_score_table_on_a_standby_says_to_run_it_on_the_primary(replica):
    """It said 'not in a read-only transaction', with a hint to score in a read-only transaction: on a
    standby every transaction is read-only, and the fix is the primary."""
    _, standby = replica
    s = psycopg2.connect(standby)
    s.autocommit = True
    try:
        with pytest.raises(psycopg2.Error) as e:
            query(s, "CALL pgscore.score_table('churn', 'customers', 'id', 's')")
    finally:
        s.close()
    assert e.value.pgcode == "25006"
    assert "not on a standby" in e.value.diag.message_primary
    assert "run it on the primary" in e.value.diag.message_hint


def test_commands_on_a_standby_read_and_those_that_write_say_where_to_run(replica):
    """Every command that writes failed on a standby with PostgreSQL's bare 'cannot execute INSERT in a
    read-only transaction' and no hint; pgscore drift (which refreshes the rollups first) alike."""
    _, standby = replica
    # pgscore health says it is a standby and how far its replay is (0153; before: nothing said it)
    r = pgscore_cli("--db", standby, "health")
    line = next((ln for ln in r.stdout.splitlines() if " standby " in ln), r.stdout)
    # (a tuple with "OK standby " passed any ok standby line: the value 0 and 'caught up' went unchecked)
    assert line.startswith("OK standby 0: a standby, streaming, its replay caught up"), r.stdout
    assert "a standby, streaming" in line and "run on the primary" in line, line
    (state, value), = query(psycopg2.connect(standby),
                            "SELECT state, value FROM pgscore.health() WHERE check_name = 'standby'")
    assert state == "ok" and value is not None and value < 60, (state, value)
    for args in (["models"], ["show", "churn"], ["env"], ["status"]):
        r = pgscore_cli("--db", standby, *args)
        assert r.returncode == 0, (args, r.stderr)
    assert "server: a hot standby (a read replica)" in r.stdout and "not logged" in r.stdout, r.stdout
    # the fixes status prints name the primary, not the standby (pasted, each failed there with 25006: T17)
    commands = [ln for ln in r.stdout.splitlines() if "pgscore " in ln and "--db" in ln]
    assert commands and all("--db PRIMARY_URL" in ln and standby not in ln for ln in commands), r.stdout
    r = pgscore_cli("--db", standby, "drift", "--no-refresh")
    assert r.returncode in (0, 1) and "Traceback" not in r.stderr, r.stderr
    r = pgscore_cli("--db", standby, "drift")
    assert r.returncode != 0 and "(SQLSTATE 25006)" in r.stderr, r.stderr
    assert "hot standby" in r.stderr and "pgscore drift --no-refresh" in r.stderr, r.stderr
    for args in (["retire", "churn"], ["activate", "churn", "1"], ["delete", "churn", "--yes"]):
        r = pgscore_cli("--db", standby, *args)
        assert r.returncode == 1 and "(SQLSTATE 25006)" in r.stderr, r.stderr
        assert f"run pgscore {args[0]} against the primary" in r.stderr, r.stderr


def test_status_timed_out_on_a_standby_names_the_primarys_lock_not_the_recovery_process(replica):
    """pgscore status --timeout on a standby (session 65): a lock a transaction of the primary holds on a table status
    reads is replayed there by the standby's recovery (its startup process), which pg_stat_activity shows with no
    role and no state. The hint said `locked (AccessExclusiveLock) by server process N (role None, None): end that
    transaction (or SELECT pg_terminate_backend(PID))`: that process is the standby's recovery, and no session of
    the standby holds the lock. It names the primary's transaction now (review r2). Waits 1 s."""
    primary, standby = replica
    holder = psycopg2.connect(primary)
    try:
        holder.cursor().execute("LOCK TABLE pgscore.alert_state IN ACCESS EXCLUSIVE MODE")
        query(primary, "UPDATE customers SET s = NULL WHERE id = 1")  # (a commit flushes the lock's WAL record)
        s = psycopg2.connect(standby)
        try:
            for _ in range(200):  # (replayed: the startup process holds it on the standby)
                if query(s, "SELECT count(*) FROM pg_locks WHERE relation = 'pgscore.alert_state'::regclass "
                            "AND mode = 'AccessExclusiveLock' AND granted") == [(1,)]:
                    break
                time.sleep(0.05)
            else:
                raise AssertionError("the standby did not replay the primary's lock in 10 s")
            (startup,), = query(s, "SELECT pid FROM pg_stat_activity WHERE backend_type = 'startup'")
        finally:
            s.close()
        run = pgscore_cli("status", "--db", standby, "--timeout", "1s", timeout=60)
    finally:
        holder.close()
    assert run.returncode == 1 and "(55P03, lock_timeout)" in run.stderr, (run.stdout, run.stderr)
    assert "role None" not in run.stderr and "pg_terminate_backend" not in run.stderr, run.stderr
    assert ("Hint: pgscore.alert_state is locked (AccessExclusiveLock) by a transaction on the primary, which this "
            f"standby's recovery (server process {startup}) replays: end that transaction on the primary (its "
            "pg_locks and pg_stat_activity name it) and run pgscore status again; --timeout sets how long each of "
            "its waits lasts (0 for ever)") in run.stderr, run.stderr


def test_status_on_a_standby_does_not_say_a_running_repairs_scratch_database_was_left_behind(replica):
    """A pgscore install --repair holds its scratch database by an advisory lock of its session on the primary
    (session 65); a standby's pg_locks hold none of the primary's. pgscore status on a standby said the scratch
    database of a repair running on the primary was `interrupted (killed, or its connection lost), left on this
    server, no repair running with it` (review r2). It says a repair there may still run with it now."""
    primary, standby = replica
    name = "pgscore_repair_1_0000abcd"
    holder = psycopg2.connect(primary)
    holder.autocommit = True
    try:
        with holder.cursor() as cur:  # (as migrate.repair makes it: its lock first, then the database, marked)
            cur.execute("SELECT pg_advisory_lock(%s, %s)", (migrate.SCRATCH_LOCK, migrate._scratch_key(name)))
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            cur.execute(sql.SQL("COMMENT ON DATABASE {} IS %s").format(sql.Identifier(name)),
                        (migrate.SCRATCH_MARK + " of database pgscore",))
        replayed(primary, standby)
        on_primary = pgscore_cli("--db", primary, "status", timeout=120)
        on_standby = pgscore_cli("--db", standby, "status", timeout=120)
        with holder.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(name)))
    finally:
        holder.close()
    assert on_primary.returncode == 0 and name not in on_primary.stdout, on_primary.stdout  # (held: not said)
    assert on_standby.returncode == 0, on_standby.stderr
    said = " ".join(on_standby.stdout.split())
    assert (f"WARNING: {name}: the scratch database of a pgscore install --repair on the primary, which may still "
            "run with it (a standby sees none of the primary's locks: pgscore status on the primary tells); if none "
            f"runs: the next pgscore --db PRIMARY_URL install drops {name}; or by hand on the primary: DROP DATABASE "
            f"{name} WITH (FORCE)") in said, said
    assert "no repair running with it" not in said, said


# a session of the primary whose transactions are read-only by default (PGOPTIONS, as a DBA's read-only login has it)
READ_ONLY_SESSION = {"PGOPTIONS": "-c default_transaction_read_only=on"}


@pytest.fixture(scope="module")
def wired(replica):
    """The replica's primary with schema shop: customers 1..30 (churn's features), complaints wired to rescore them
    (the sample's counters, whose expressions a superuser's write reads the code of: rescoring.counter_code), one
    complaint rescored and customer 2's queued (a NULL feature), replayed on the standby; (primary, standby)."""
    primary, standby = replica
    with psycopg2.connect(primary) as c, c.cursor() as cur:
        cur.execute("CREATE SCHEMA shop")
        sample.create_tables(cur, schema="shop")
        sample.load_customers(cur, X[:30], schema="shop")
        sample.rescore_complaints(cur, schema="shop")
    c.close()
    query(primary, "UPDATE shop.customers SET tenure_months = NULL WHERE id = 2")
    query(primary, "INSERT INTO shop.complaints (customer_id) VALUES (1), (2)")
    assert query(primary, "SELECT entity_key FROM pgscore.error_queue") == [("2",)]
    replayed(primary, standby)
    return primary, standby


@pytest.mark.parametrize("where", ["standby", "read-only session"])
@pytest.mark.parametrize("args", [["rescore", "--table", "shop.complaints"], ["backfill", "--table", "shop.complaints"],
                                  ["retry"], ["refresh-windows"]])
def test_a_superusers_rescoring_commands_on_a_standby_fail_with_25006_not_a_security_skip(wired, where, args):
    """As a superuser on a standby (or in a read-only session of the primary), rescore, backfill, retry and
    refresh-windows took the read-only refusal of the view that reads what the counters call (counter_code) for
    code it could not read: a superuser *security* WARNING, the wiring skipped, rescore exit 0 having done
    nothing, backfill a false "recounted" line, retry the queue's old reasons (trial hT17 of session 64). Now
    25006 saying where, with the hint the app role gets (run it against the primary), exit 3 (cannot run)."""
    primary, standby = wired
    db, env = (standby, None) if where == "standby" else (primary, READ_ONLY_SESSION)
    r = pgscore_cli("--db", db, *args, env=env)
    out = r.stdout + r.stderr
    assert r.returncode == 3, (r.returncode, out)
    assert "(SQLSTATE 25006)" in r.stderr and f"run pgscore {args[0]} against the primary" in r.stderr, out
    said = "not on a standby, whose transactions" if where == "standby" else "not in a read-only transaction"
    assert "writes shop.customers: " + said in r.stderr, out
    assert "superuser" not in out and "recounted" not in out and "rescored" not in out, out
    assert query(primary, "SELECT count(*) FROM pgscore.error_queue") == [(1,)]


@pytest.mark.parametrize("where", ["standby", "read-only session"])
def test_deploy_on_a_standby_is_refused_with_25006_before_the_file_is_read(replica, where, tmp_path):
    """pgscore deploy against a standby said `ERROR:  cannot assign OIDs during recovery` (no SQLSTATE, no hint,
    exit 1) after 5 s of unpickling and refitting; now 25006 and the hint to run it against the primary, before
    the file is read (here there is none: it would have said so first)."""
    primary, standby = replica
    db, env = (standby, None) if where == "standby" else (primary, READ_ONLY_SESSION)
    r = pgscore_cli("--db", db, "deploy", str(tmp_path / "none.joblib"), "--name", "churn", "--features",
                    ",".join(NAMES), env=env)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    said = "on a standby, whose transactions are all read-only" if where == "standby" else "in a read-only transaction"
    assert f"deploying model churn writes the registry: not {said} (SQLSTATE 25006)" in r.stderr, r.stderr
    assert "run pgscore deploy against the primary" in r.stderr and "none.joblib" not in r.stderr, r.stderr


def test_deploy_from_python_on_a_standby_says_so(replica):
    """registry.deploy (pgscore.deploy, alembic's deploy_model) on a standby: 25006 with the standby's hint, not the
    large object's code-less "cannot assign OIDs during recovery"."""
    _, standby = replica
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y)
    with pytest.raises(PgscoreError) as e:
        registry.deploy(standby, "churn", model, X, Y, feature_names=NAMES)
    assert e.value.sqlstate == "25006" and e.value.hint == STANDBY_HINT, e.value
    assert "on a standby" in e.value.message, e.value


@pytest.mark.parametrize("where", ["standby", "read-only session"])
@pytest.mark.parametrize("call", ["SELECT pgscore.record_outcome('churn', '7', 1)",
                                  "SELECT * FROM pgscore.refresh_monitoring()",
                                  "SELECT * FROM pgscore.erase_entity('7')",
                                  "SELECT * FROM pgscore.delete_model('churn')"])
def test_record_outcome_and_refresh_monitoring_on_a_standby_say_where_to_run_them(replica, where, call):
    """They gave PostgreSQL's bare `cannot execute INSERT in a read-only transaction`, no hint, quoting pgscore's
    INSERT in the CONTEXT (trial hT17 of session 64); now pgscore's 25006 saying a standby where it is one, with
    the hint to run it on the primary (in a read-only transaction of the primary: in one that may write).
    (review r1 of 0155) erase_entity too: PostgreSQL's bare 25006 quoting its DELETE of the log, no hint."""
    primary, standby = replica
    c = psycopg2.connect(standby if where == "standby" else primary,
                         options=None if where == "standby" else "-c default_transaction_read_only=on")
    c.autocommit = True
    try:
        with pytest.raises(psycopg2.Error) as e:
            query(c, call)
    finally:
        c.close()
    diag = e.value.diag
    assert e.value.pgcode == "25006", diag.message_primary
    if where == "standby":
        assert "not on a standby, whose transactions are all read-only" in diag.message_primary
        assert diag.message_hint == STANDBY_HINT
    else:
        assert "not in a read-only transaction" in diag.message_primary
        assert diag.message_hint == READ_ONLY_HINT


@pytest.mark.parametrize("where", ["standby", "read-only session"])
@pytest.mark.parametrize("call", ["SELECT * FROM pgscore.retry_failed()",
                                  "SELECT * FROM pgscore.refresh_windows('shop.complaints')",
                                  "SELECT pgscore.backfill_rescoring('shop.complaints')",
                                  "SELECT * FROM pgscore.rescore_profiles('shop.complaints')"])
def test_the_app_roles_rescoring_functions_on_a_standby_say_where_to_run_them(wired, where, call):
    """The app role's SQL calls of the rescoring functions that write (review r5 of session 64): a superuser's CLI
    got pgscore's 25006 with the hint (counter_code), the app role's SELECT PostgreSQL's bare `cannot execute INSERT
    in a read-only transaction` (or UPDATE, or CREATE TABLE: whichever write came first), no hint. Now pgscore's,
    naming the function, a standby where it is one, the hint to run it on the primary."""
    primary, standby = wired
    query(primary, "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'shop_app') THEN "
                   "CREATE ROLE shop_app IN ROLE pgscore_app; END IF; END $$")
    query(primary, "GRANT USAGE ON SCHEMA shop TO shop_app")
    query(primary, "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA shop TO shop_app")
    replayed(primary, standby)
    c = psycopg2.connect(standby if where == "standby" else primary,
                         options=None if where == "standby" else "-c default_transaction_read_only=on")
    c.autocommit = True
    try:
        query(c, "SET ROLE shop_app")
        with pytest.raises(psycopg2.Error) as e:
            query(c, call)
    finally:
        c.close()
    diag = e.value.diag
    assert e.value.pgcode == "25006", diag.message_primary
    name = call.split("pgscore.")[1].split("(")[0]
    if where == "standby":
        assert f"pgscore.{name} writes " in diag.message_primary, diag.message_primary
        assert ": not on a standby, whose transactions are all read-only" in diag.message_primary
        assert diag.message_hint == STANDBY_HINT, diag.message_hint
    else:
        assert f"pgscore.{name} writes " in diag.message_primary, diag.message_primary
        assert ": not in a read-only transaction" in diag.message_primary, diag.message_primary
        assert diag.message_hint == READ_ONLY_HINT, diag.message_hint
    assert query(primary, "SELECT count(*) FROM pgscore.error_queue") == [(1,)]


def test_the_standby_check_of_a_restarted_standby_of_an_idle_primary_is_caught_up(replica):
    """A standby restarted while its primary is idle: its WAL receiver restarts streaming at a page's boundary, so
    pg_last_wal_receive_lsn() differs from pg_last_wal_replay_lsn() until the primary writes again. The standby check (0153) read any difference as 'replay behind' and took its value from the last replayed
    commit's age: on an idle primary (no commit for an hour) a caught-up standby failed. Behind is received but
    not replayed, nothing else."""
    primary, standby = replica
    for attempt in range(5):  # (where the receiver restarts against the replay's end varies: until it differs)
        query(primary, "UPDATE customers SET s = NULL WHERE id = 1")  # the primary's last commit, then idle
        replayed(primary, standby)
        STANDBY[0].stop()
        STANDBY[0].start()
        for _ in range(200):  # its WAL receiver up again
            s = psycopg2.connect(standby)
            try:
                (receiving, differs), = query(
                    s, "SELECT EXISTS (SELECT 1 FROM pg_stat_wal_receiver) AND pg_last_wal_receive_lsn() IS NOT NULL, "
                       "pg_last_wal_receive_lsn() IS DISTINCT FROM pg_last_wal_replay_lsn()")
                if receiving:
                    (state, value, detail), = query(s, "SELECT state, value, detail FROM pgscore.health() "
                                                       "WHERE check_name = 'standby'")
                    break
            finally:
                s.close()
            time.sleep(0.05)
        else:
            raise AssertionError("the restarted standby's WAL receiver did not start in 10 s")
        if differs:
            break
    else:
        pytest.skip("the receive LSN of a restarted standby equalled its replay LSN 5 times: nothing to check")
    # (seen here: received 0/3002000, replayed 0/3001FC0: the rest of the page, which holds no record)
    assert (state, value) == ("ok", 0) and "caught up" in detail, (state, value, detail)


# every VOLATILE pgscore function (a trigger's aside) that writes, with a call that reaches its write; the rest
# named with why a read-only transaction does not refuse them. A new function is in neither: the test fails until
# it is put in one (and a writer says where to run it, as these do)
WRITERS = {
    "activate": "SELECT pgscore.activate('churn', 1, 'r')",
    "attach_rescoring": "SELECT pgscore.attach_rescoring('shop.h6_events'::regclass, 'shop.customers'::regclass, "
                        "'customer_id', 'churn', 'churn_score', p_profile_key => 'id')",
    "backfill_rescoring": "SELECT pgscore.backfill_rescoring('shop.complaints')",
    "clear_shadow": "SELECT pgscore.clear_shadow('churn')",
    "clear_thresholds": "SELECT pgscore.clear_thresholds('churn', 'psi')",
    "create_log_partitions": "SELECT pgscore.create_log_partitions(1, current_date + 400)",
    "delete_model": "SELECT * FROM pgscore.delete_model('churn')",
    "detach_rescoring": "SELECT pgscore.detach_rescoring('shop.complaints')",
    "drop_log_partitions": "SELECT pgscore.drop_log_partitions('90 days')",
    "erase_entity": "SELECT * FROM pgscore.erase_entity('7')",
    "forget_rescoring": "SELECT pgscore.forget_rescoring(1)",
    "lift_silence": "SELECT pgscore.lift_silence(1)",
    "match_outcomes": "SELECT pgscore.match_outcomes(now())",
    "record_outcome": "SELECT pgscore.record_outcome('churn', '7', true)",
    "redact_log_features": "SELECT pgscore.redact_log_features('90 days')",
    "refresh_monitoring": "SELECT * FROM pgscore.refresh_monitoring()",
    "refresh_windows": "SELECT * FROM pgscore.refresh_windows('shop.complaints')",
    "register_model": "SELECT pgscore.register_model('h6_x', '\\x00'::bytea, encode(sha256('\\x00'::bytea), 'hex'), "
                      "'{}', '{}')",
    "rescore_profiles": "SELECT * FROM pgscore.rescore_profiles('shop.complaints')",
    "retire": "SELECT pgscore.retire('churn')",
    "retry_failed": "SELECT * FROM pgscore.retry_failed()",
    "rollback": "SELECT pgscore.rollback('churn')",
    "score_chunk": "SELECT * FROM pgscore.score_chunk('churn', 'shop.customers', 'id', 'churn_score')",
    "score_table": "CALL pgscore.score_table('churn', 'shop.customers', 'id', 'churn_score')",
    "set_shadow": "SELECT pgscore.set_shadow('churn', 1)",
    "set_thresholds": "SELECT pgscore.set_thresholds('churn', 'psi', 0.1, 0.2)",
    "silence_alerts": "SELECT pgscore.silence_alerts('churn', '1 day', 'r')",
    # (0169) the writers' one refusal, which each above calls: called itself, it says the same of what it is given
    "refuse_read_only": "SELECT pgscore.refuse_read_only('pgscore.refuse_read_only (as a writer calls it)')",
}
RESCORING = ("backfill_rescoring", "refresh_windows", "rescore_profiles", "retry_failed")
NOT_REFUSED = {
    "predict": "scores: unlogged, with a WARNING, where the transaction is read-only",
    "predict_proba": "scores, as predict", "score": "scores, as predict",
    "predict_batch": "scores, as predict", "batch_chunks": "predict_batch's", "batch_sql": "predict_batch's",
    "load_model": "fills this backend's cache", "load_or_refuse": "load_model's",
    "count_shadow_failure": "internal (its owner's): rescoring's, which refuses first",
    "score_table_commit": "score_table's, which refuses first",
    "resign_models": "writes only the signatures it finds to re-sign (none here): errors' writing() as retry_failed",
}


@pytest.mark.parametrize("where", ["standby", "read-only session"])
def test_every_writer_says_where_to_run_it(wired, where):
    """(session 66, h6) activate, rollback, retire, set_shadow, clear_shadow, set_thresholds, clear_thresholds,
    silence_alerts, lift_silence, detach_rescoring, forget_rescoring, drop_log_partitions, redact_log_features,
    match_outcomes, create_log_partitions, register_model and attach_rescoring gave PostgreSQL's bare 25006 on a
    standby (`cannot execute INSERT in a read-only transaction`, no hint) where record_outcome, refresh_monitoring,
    erase_entity and delete_model named themselves and where to run them. Every writer does now; a VOLATILE
    function in neither list fails here."""
    primary, standby = wired
    query(primary, "CREATE TABLE IF NOT EXISTS shop.h6_events (customer_id bigint)")
    replayed(primary, standby)
    volatile = {r[0] for r in query(primary, "SELECT DISTINCT p.proname FROM pg_proc p WHERE p.pronamespace = "
                                             "'pgscore'::regnamespace AND p.provolatile = 'v' "
                                             "AND p.prorettype <> 'trigger'::regtype")}
    assert volatile == set(WRITERS) | set(NOT_REFUSED), (volatile - set(WRITERS) - set(NOT_REFUSED),
                                                         (set(WRITERS) | set(NOT_REFUSED)) - volatile)
    bad = {}
    for name, call in WRITERS.items():
        c = psycopg2.connect(standby if where == "standby" else primary,
                             options=None if where == "standby" else "-c default_transaction_read_only=on")
        c.autocommit = True
        try:
            with pytest.raises(psycopg2.Error) as e:
                query(c, call)
        finally:
            c.close()
        diag = e.value.diag
        said = "not on a standby, whose transactions are all read-only" if where == "standby" else \
            "not in a read-only transaction"
        hint = STANDBY_HINT if where == "standby" else READ_ONLY_HINT
        if name in ("score_table", "score_chunk"):  # (their own hint: predict_batch scores read-only)
            hint = diag.message_hint if diag.message_hint and "predict_batch" in diag.message_hint else "?"
        # (a superuser's rescoring names the wiring it met first, whose profiles it writes; once "pgscore: pgscore:")
        named = (f"pgscore.{name} " in diag.message_primary
                 or name in RESCORING and diag.message_primary.startswith(
                     "pgscore: rescoring wiring 1 (shop.complaints to shop.customers) writes shop.customers: ")
                 or name in ("score_table", "score_chunk")
                 and "score_table and score_chunk write each score" in diag.message_primary)
        if e.value.pgcode != "25006" or not named or said not in diag.message_primary \
                or diag.message_hint != hint:
            bad[name] = (e.value.pgcode, diag.message_primary, diag.message_hint)
    assert not bad, bad


def test_a_standby_does_not_warn_that_the_primarys_subscription_has_no_worker_here(replica):
    """pg_subscription (shared) and pg_subscription_rel reach a standby, but no logical replication worker runs in
    recovery: health's check subscriptions (0158) warned on every standby of a subscriber, at every probe, that the
    subscription was 'enabled, but its apply worker is not running' (and that an initial copy was not done, no sync
    worker running there either). A standby's check leaves the workers to the primary's (its detail says so); a
    subscription disabled on the primary is still said. The primary's subscription writes pgscore.error_queue from a
    database of the primary's cluster, enabled, without a slot: its worker fails at each start (the primary warns)."""
    primary, standby = replica
    p = psycopg2.connect(primary).get_dsn_parameters()
    query(primary, "CREATE DATABASE pgscore_sub_pub")
    try:
        pub = f"host={p['host']} port={p['port']} dbname=pgscore_sub_pub user={p['user']}"
        query(pub, "CREATE SCHEMA pgscore; CREATE TABLE pgscore.error_queue (id int PRIMARY KEY); "
                   "CREATE PUBLICATION pgscore_test_pub FOR TABLE pgscore.error_queue")
        query(primary, f"CREATE SUBSCRIPTION pgscore_test_sub CONNECTION '{pub}' PUBLICATION pgscore_test_pub "
                       "WITH (create_slot = false, slot_name = 'pgscore_test_sub_none')")
        try:
            check = "SELECT state, value, detail FROM pgscore.health() WHERE check_name = 'subscriptions'"
            for _ in range(200):  # (the primary's worker fails at each start, no slot: between two, none runs)
                (state, value, detail), = query(primary, check)
                if "its apply worker is not running" in detail:
                    break
                time.sleep(0.05)
            assert (state, value) == ("warn", 1) and "its apply worker is not running" in detail, detail
            replayed(primary, standby)
            (state, value, detail), = query(standby, check)
            assert (state, value) == ("ok", 0), detail
            assert detail == ("1 subscription(s) write wired tables or pgscore's; a standby: their workers run on the "
                              "primary (pgscore health there says whether they apply)"), detail
            query(primary, "ALTER SUBSCRIPTION pgscore_test_sub DISABLE")
            replayed(primary, standby)
            (state, value, detail), = query(standby, check)
            assert (state, value) == ("warn", 1) and detail.startswith(
                "subscription pgscore_test_sub: disabled: nothing it publishes is applied"), detail
        finally:
            query(primary, "ALTER SUBSCRIPTION pgscore_test_sub DISABLE")
            query(primary, "ALTER SUBSCRIPTION pgscore_test_sub SET (slot_name = NONE)")
            query(primary, "DROP SUBSCRIPTION pgscore_test_sub")
    finally:
        query(primary, "DROP DATABASE pgscore_sub_pub")
