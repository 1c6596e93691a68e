"""A dump that left some of pgscore's own objects out (pg_dump -T 'pgscore.prediction_log*', a DBA's routine for
leaving a big log out), restored: the schema says head and lacks the audit log and the views on it. pgscore status
said "not installed, or older", install said "up to date" and repaired nothing. Both now name what is missing, why,
and the way out (docs/operations.md, 'Backups'), which this module runs end to end."""

import os
import subprocess
import uuid

import numpy as np
import psycopg2
import pytest
from sklearn.linear_model import LogisticRegression

from helpers import catalog, pgscore_cli, query
from pgscore import head_objects, migrate, registry
from pgscore.localdb import pg_bin_dir


def _run(tool, *args, **kw):
    return subprocess.run([str(pg_bin_dir() / tool), *args], capture_output=True, text=True, **kw)


def test_the_list_of_heads_objects_is_what_the_head_schema_builds(db_url):
    """head_objects lists what a new install at head has: a revision that adds or drops a table, view or function
    changes it (the failure prints the lists to paste)."""
    tables = [r for r, in query(db_url, "SELECT relname FROM pg_class WHERE relnamespace = 'pgscore'::regnamespace "
                                        "AND relkind IN ('r', 'p') AND NOT relispartition ORDER BY 1")]
    views = [r for r, in query(db_url, "SELECT relname FROM pg_class WHERE relnamespace = 'pgscore'::regnamespace "
                                       "AND relkind IN ('v', 'm') ORDER BY 1")]
    functions = [r for r, in query(db_url, "SELECT DISTINCT proname FROM pg_proc "
                                           "WHERE pronamespace = 'pgscore'::regnamespace ORDER BY 1")]
    assert (list(head_objects.TABLES), list(head_objects.VIEWS), list(head_objects.FUNCTIONS)) == \
        (tables, views, functions), f"TABLES = {tuple(tables)}\nVIEWS = {tuple(views)}\nFUNCTIONS = {tuple(functions)}"
    forms = dict(query(db_url, "SELECT proname, count(*) FROM pg_proc WHERE pronamespace = 'pgscore'::regnamespace "
                               "GROUP BY 1 HAVING count(*) > 1 ORDER BY 1"))
    assert head_objects.FORMS == forms, f"FORMS = {forms}"
    assert migrate.missing_objects(db_url) == []


@pytest.fixture
def restored_without_the_log(db_url, empty_db_url):
    """A database with a model and a few scores, dumped with -T 'pgscore.prediction_log*' and restored into a new
    database: (source, restored)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    registry.deploy(db_url, "m", LogisticRegression().fit(X, X[:, 0] > 0), X, feature_names=["a", "b", "c"])
    query(db_url, "SELECT pgscore.score('m', ARRAY[1, 2, 3]::float8[]) FROM generate_series(1, 3)")
    dump = subprocess.run([str(pg_bin_dir() / "pg_dump"), "-Fc", "-T", "pgscore.prediction_log*", "-d", db_url],
                          capture_output=True, check=True).stdout
    restore = subprocess.run([str(pg_bin_dir() / "pg_restore"), "-d", empty_db_url], input=dump, capture_output=True)
    assert b'relation "pgscore.prediction_log" does not exist' in restore.stderr, restore.stderr
    return db_url, empty_db_url


def test_status_and_install_name_what_a_dump_left_out_and_the_way_out_works(restored_without_the_log, cluster):
    _, url = restored_without_the_log
    assert migrate.current(url) == migrate.head()
    status = pgscore_cli("status", "--db", url)
    assert status.returncode == 1, status.stdout + status.stderr
    said = status.stderr
    assert (f"pgscore: error: this database's pgscore schema is at revision {migrate.head()} but lacks some of "
            "its objects: table pgscore.prediction_log, view pgscore.") in said, said
    assert "pg_dump -T" in said and "--exclude-table-data='pgscore.prediction_log*'" in said, said
    install = pgscore_cli("install", "--db", url)
    assert install.returncode == 1 and "up to date" not in install.stdout, install.stdout + install.stderr
    assert "lacks some of its objects: table pgscore.prediction_log" in install.stderr, install.stderr
    missing = migrate.missing_objects(url)
    assert ("table", "prediction_log") in missing and sum(k == "view" for k, _ in missing) == 7, missing
    # the way out the hint gives: the missing tables and views from a new install's dump
    scratch = cluster.url("scratch_d1")
    query(cluster.url("postgres"), "CREATE DATABASE scratch_d1")
    try:
        assert pgscore_cli("install", "--db", scratch).returncode == 0
        picks = [a for kind, name in missing for a in ("-t", f"pgscore.{name}*" if kind == "table" else
                                                       f"pgscore.{name}")]
        objects = _run("pg_dump", "--schema-only", *picks, "-d", scratch, check=True).stdout
        fix = _run("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-d", url, input=objects)
        assert fix.returncode == 0, fix.stderr
    finally:
        query(cluster.url("postgres"), "DROP DATABASE scratch_d1")
    assert migrate.missing_objects(url) == []
    status = pgscore_cli("status", "--db", url)
    assert status.returncode in (0, 1) and "lacks some of its objects" not in status.stderr, status.stderr
    assert query(url, "SELECT pgscore.score('m', ARRAY[1, 2, 3]::float8[]) BETWEEN 0 AND 1") == [(True,)]
    assert query(url, "SELECT count(*) > 0 FROM pgscore.prediction_log") == [(True,)]
    assert query(url, "SELECT count(*) > 0 FROM pgscore.predictions") == [(True,)]


def test_a_dump_without_the_logs_rows_restores_whole(restored_without_the_log, empty_db_url, cluster):
    """What docs/operations.md 'Backups' says to run instead: --exclude-table-data keeps the log's definition."""
    source, _ = restored_without_the_log
    dump = subprocess.run([str(pg_bin_dir() / "pg_dump"), "-Fc", "--exclude-table-data=pgscore.prediction_log*",
                           "-d", source], capture_output=True, check=True).stdout
    query(cluster.url("postgres"), "CREATE DATABASE whole_d1")
    url = cluster.url("whole_d1")
    try:
        restore = subprocess.run([str(pg_bin_dir() / "pg_restore"), "-d", url], input=dump, capture_output=True)
        assert restore.returncode == 0, restore.stderr
        assert migrate.missing_objects(url) == []
        assert query(url, "SELECT count(*) FROM pgscore.prediction_log") == [(0,)]
        assert query(url, "SELECT pgscore.score('m', ARRAY[1, 2, 3]::float8[]) BETWEEN 0 AND 1") == [(True,)]
    finally:
        query(cluster.url("postgres"), "DROP DATABASE whole_d1")


def test_install_repair_makes_the_missing_tables_and_views_as_a_new_install_does(restored_without_the_log, cluster):
    """`pgscore install --repair` runs the way out itself: a scratch database installed at head, its missing tables
    and views dumped (pg_dump --schema-only -t ...) and run into this database in one transaction, the scratch
    database dropped; the rows there are kept. Where nothing is missing it says so and changes nothing."""
    _, url = restored_without_the_log
    models = query(url, "SELECT count(*) FROM pgscore.models")
    run = pgscore_cli("install", "--repair", "--db", url)
    assert run.returncode == 0, run.stdout + run.stderr
    assert ("made again as a new install at revision " f"{migrate.head()} makes them: table pgscore.prediction_log, "
            "view pgscore.") in run.stdout, run.stdout
    assert migrate.missing_objects(url) == []
    assert query(url, "SELECT count(*) FROM pgscore.models") == models
    assert query(url, "SELECT count(*) FROM pg_database WHERE datname LIKE 'pgscore_repair_%'") == [(0,)]
    assert query(url, "SELECT has_table_privilege('pgscore_reader', 'pgscore.predictions', 'SELECT'), "
                      "has_table_privilege('pgscore_app', 'pgscore.prediction_log', 'SELECT')") == \
        query(cluster.url("pgscore_template"), "SELECT has_table_privilege('pgscore_reader', 'pgscore.predictions', "
                                               "'SELECT'), has_table_privilege('pgscore_app', 'pgscore.prediction_log', "
                                               "'SELECT')")
    assert query(url, "SELECT pgscore.score('m', ARRAY[1, 2, 3]::float8[]) BETWEEN 0 AND 1") == [(True,)]
    status = pgscore_cli("status", "--db", url)
    assert "lacks some of its objects" not in status.stderr, status.stderr
    again = pgscore_cli("install", "--repair", "--db", url)
    assert again.returncode == 0 and "nothing to repair: " in again.stdout, again.stdout + again.stderr


def test_install_repair_of_a_table_whose_name_begins_another_ones_makes_it_alone(db_url):
    """-t 'pgscore.drift_rollup*' (the pattern repair gave every missing table, for the log's partitions) also
    picked drift_rollup_day, which this database has: psql stopped at `relation ... already exists` and nothing
    was repaired. The hint's recipe by hand picked it too."""
    query(db_url, "DROP TABLE pgscore.drift_rollup CASCADE")
    assert migrate.missing_objects(db_url) == [("table", "drift_rollup")]
    failed = pgscore_cli("status", "--db", db_url)
    assert "-t pgscore.drift_rollup " in failed.stderr and "drift_rollup*" not in failed.stderr, failed.stderr
    run = pgscore_cli("install", "--repair", "--db", db_url)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "made again as a new install at revision" in run.stdout and "table pgscore.drift_rollup" in run.stdout
    assert migrate.missing_objects(db_url) == []
    assert query(db_url, "SELECT count(*) FROM pgscore.drift_rollup") == [(0,)]


def test_install_repair_gives_the_password_to_pg_dump_and_psql_by_the_environment_not_their_command_line(
        db_url, tmp_path, monkeypatch):
    """A password in --db's URL went on pg_dump's and psql's command lines (`-d 'postgresql://u:secret@...'`),
    which every local user reads in ps and /proc/PID/cmdline; libpq reads it from PGPASSWORD as well."""
    import os
    import stat

    bins = tmp_path / "bin"
    bins.mkdir()
    for tool in ("pg_dump", "psql"):  # the real tools, each run recording its arguments and PGPASSWORD
        (bins / tool).write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" "PGPASSWORD=$PGPASSWORD" >> {tmp_path}/seen\n'
                                 f'exec {pg_bin_dir() / tool} "$@"\n')
        (bins / tool).chmod(stat.S_IRWXU)
    query(db_url, "DROP TABLE pgscore.drift_rollup CASCADE")
    url = db_url.replace("postgresql://postgres@", "postgresql://postgres:s3cret%20pw@")
    run = pgscore_cli("install", "--repair", "--db", url, env={**os.environ, "PGSCORE_PG_BIN": str(bins)})
    assert run.returncode == 0, run.stdout + run.stderr
    seen = (tmp_path / "seen").read_text()
    assert seen.count("PGPASSWORD=s3cret pw\n") == 2 and "s3cret" not in seen.replace("PGPASSWORD=s3cret pw", ""), seen
    assert migrate.missing_objects(db_url) == []


def test_the_other_commands_on_a_restore_without_the_log_name_what_it_lacks(restored_without_the_log):
    """status and install named what the restore left out; `pgscore drift` (and every command whose query read the
    log or a view on it) still said `pgscore is not installed in this database, or its schema is older`, with
    `pgscore install` as the way out, which refuses (it names the missing objects)."""
    _, url = restored_without_the_log
    drift = pgscore_cli("drift", "--db", url)
    assert drift.returncode != 0, drift.stdout + drift.stderr
    assert "not installed in this database, or its schema is older" not in drift.stderr, drift.stderr
    assert (f"pgscore: error: this database's pgscore schema is at revision {migrate.head()} but lacks some of "
            "its objects: table pgscore.prediction_log, view pgscore.") in drift.stderr, drift.stderr
    assert "install --repair" in drift.stderr, drift.stderr


def test_install_repair_makes_a_table_with_the_rows_a_new_install_gives_it_and_the_keys_that_point_at_it(db_url):
    """A schema-only dump of the scratch database made a seeded table empty (a new install seeds drift_windows and
    drift_thresholds: every drift check then had no window or no threshold), and the foreign key of another table
    on a missing one, which the restore lost with it (it is the other table's), was not made again. (Since 0133,
    drift_thresholds has a function that depends on it, effective_thresholds, which a repair does not make: a
    seeded table and a pointed-at table with none, drift_windows and rescoring, stand in for it here.)"""
    seeds = query(db_url, "SELECT * FROM pgscore.drift_windows ORDER BY 1")
    assert seeds
    query(db_url, "DROP TABLE pgscore.drift_windows CASCADE")
    query(db_url, "DROP TABLE pgscore.rescoring CASCADE")
    run = pgscore_cli("install", "--repair", "--db", db_url)
    assert run.returncode == 0, run.stdout + run.stderr
    assert query(db_url, "SELECT * FROM pgscore.drift_windows ORDER BY 1") == seeds
    assert query(db_url, "SELECT conname FROM pg_constraint "
                         "WHERE conrelid = 'pgscore.error_queue'::regclass AND contype = 'f'") == \
        [("error_queue_rescoring_id_fkey",)]

def test_install_repair_with_a_database_named_as_its_scratch_one_there_makes_another_and_leaves_that_alone(
        db_url, cluster):
    """The scratch database was pgscore_repair_PID: a database of that name there (another client's repair, on
    another host, with the same PID; or a user's) failed the repair with `already exists`."""
    import os

    taken = f"pgscore_repair_{os.getpid()}"
    query(cluster.url("postgres"), f"CREATE DATABASE {taken}")
    try:
        query(db_url, "DROP TABLE pgscore.drift_rollup CASCADE")
        assert migrate.repair(db_url) == [("table", "drift_rollup")]
        assert migrate.missing_objects(db_url) == []
        assert query(db_url, "SELECT datname FROM pg_database WHERE datname LIKE 'pgscore_repair_%'") == [(taken,)]
    finally:
        query(cluster.url("postgres"), f"DROP DATABASE {taken}")


def test_a_schema_at_head_that_lacks_one_form_of_an_overloaded_function_names_it(db_url):
    """The check compared function names: a DBA's `DROP FUNCTION` of one of record_outcome's nine forms (or
    score's two) left status and install saying nothing, and that form's every call failing."""
    query(db_url, "DROP FUNCTION pgscore.record_outcome(text, uuid, boolean, timestamptz)")
    assert migrate.missing_objects(db_url) == [("function", "record_outcome")]
    status = pgscore_cli("status", "--db", db_url)
    assert "lacks some of its objects: function pgscore.record_outcome" in status.stderr, status.stderr


def test_install_repair_makes_missing_functions_and_the_triggers_and_views_that_needed_them(db_url):
    """Session 64: --repair refused a database that lacked pgscore functions ("a dump cannot pick them one by one"),
    so a partial restore that lost one (or a DBA's DROP FUNCTION) had only "restore again". It makes each missing form
    as a new install does, with its comment and grants, picked from a custom-format dump of the scratch database by
    pg_restore -L, and with them the triggers of pgscore's tables that called them and the views that read them."""
    before = catalog(db_url)
    query(db_url, "DROP FUNCTION pgscore.record_outcome(text, uuid, boolean, timestamptz)")  # one of nine forms
    query(db_url, "DROP FUNCTION pgscore.batch_row(text, integer, text, bytea)")
    query(db_url, "DROP FUNCTION pgscore.forbid_mutation() CASCADE")  # the registry's triggers with it
    query(db_url, "DROP FUNCTION pgscore.class_drift_stats() CASCADE")  # the views that read it with it
    missing = migrate.missing_objects(db_url)
    assert ("function", "forbid_mutation") in missing and ("view", "class_drift") in missing, missing
    status = pgscore_cli("status", "--db", db_url)  # the way out named: repair, not restore again alone
    assert "lacks some of its objects: " in status.stderr and "install --repair" in status.stderr, status.stderr
    run = pgscore_cli("install", "--repair", "--db", db_url)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "function pgscore.batch_row" in run.stdout and "function pgscore.record_outcome" in run.stdout, run.stdout
    assert migrate.missing_objects(db_url) == []
    assert catalog(db_url) == before  # the functions, their grants and comments, the triggers, the views
    assert query(db_url, "SELECT count(*) FROM pg_trigger WHERE tgfoid = 'pgscore.forbid_mutation()'::regprocedure") \
        != [(0,)]  # the registry's immutability is back
    again = pgscore_cli("install", "--repair", "--db", db_url)
    assert again.returncode == 0 and "nothing to repair: " in again.stdout, again.stdout + again.stderr


def test_install_repair_by_another_superuser_gives_what_it_makes_the_owner_pgscores_objects_have(db_url):
    """Review r4: repair run by a superuser other than the one that installed pgscore (a DBA's own login) made the
    missing functions, tables and views owned by itself, as its scratch install was: a SECURITY DEFINER function
    then ran as another role than pgscore's other functions, and the catalog differed from a new install's. What it
    makes is owned as the pgscore schema is here."""
    role = f"repair_dba_{uuid.uuid4().hex[:8]}"
    query(db_url, f"CREATE ROLE {role} LOGIN SUPERUSER")
    owner = "postgres"
    try:
        owner, = query(db_url, "SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'pgscore'")[0]
        assert owner != role
        query(db_url, "DROP FUNCTION pgscore.batch_row(text, integer, text, bytea)")
        query(db_url, "DROP FUNCTION pgscore.class_drift_stats() CASCADE")  # with the views that read it
        query(db_url, "DROP TABLE pgscore.drift_rollup CASCADE")
        url = db_url.replace("postgresql://postgres@", f"postgresql://{role}@")
        run = pgscore_cli("install", "--repair", "--db", url)
        assert run.returncode == 0, run.stdout + run.stderr
        assert migrate.missing_objects(db_url) == []
        owned = query(db_url, """
            SELECT p.oid::regprocedure::text FROM pg_proc p
             WHERE p.pronamespace = 'pgscore'::regnamespace AND p.proowner <> (SELECT nspowner FROM pg_namespace
                                                                                WHERE nspname = 'pgscore')
            UNION ALL
            SELECT c.oid::regclass::text FROM pg_class c
             WHERE c.relnamespace = 'pgscore'::regnamespace AND c.relowner <> (SELECT nspowner FROM pg_namespace
                                                                                WHERE nspname = 'pgscore')""")
        assert owned == [], owned
    finally:
        query(db_url, f"REASSIGN OWNED BY {role} TO {owner}")
        query(db_url, f"DROP OWNED BY {role}")
        query(db_url, f"DROP ROLE {role}")


def test_install_repair_whose_pg_restore_fails_says_so_and_changes_nothing(db_url, tmp_path):
    """Review r4: a pg_restore that failed (another major version's, a full disk for its list) while repair picked the
    missing functions raised CalledProcessError out of repair: a traceback, not install's one-line failure."""
    import os
    import stat

    bins = tmp_path / "bin"
    bins.mkdir()
    for tool in ("pg_dump", "psql"):
        (bins / tool).symlink_to(pg_bin_dir() / tool)
    (bins / "pg_restore").write_text("#!/bin/sh\necho 'pg_restore: error: out of disk space' >&2\nexit 1\n")
    (bins / "pg_restore").chmod(stat.S_IRWXU)
    query(db_url, "DROP FUNCTION pgscore.batch_row(text, integer, text, bytea)")
    run = pgscore_cli("install", "--repair", "--db", db_url, env={**os.environ, "PGSCORE_PG_BIN": str(bins)})
    assert run.returncode != 0 and "Traceback" not in run.stderr, run.stderr
    assert "repairing pgscore failed" in run.stderr and "out of disk space" in run.stderr, run.stderr
    assert migrate.missing_objects(db_url) == [("function", "batch_row")]
    assert not [d for d, in query(db_url, "SELECT datname FROM pg_database WHERE datname LIKE 'pgscore_repair_%'")]


def test_a_scratch_database_an_interrupted_repair_left_is_named_by_status_and_dropped_by_the_next_install(
        db_url, cluster):
    """install --repair's scratch database was dropped at its end only: a repair killed outright (or whose connection
    dropped) left it on the server for good, and nothing named it; a SIGTERM (a scheduler's stop) left it too.
    A SIGTERM now unwinds as Ctrl-C and drops it; one left by a kill is marked (its comment) and held by no
    session: status names it, the next install drops it and says so. A database merely named like one (no mark),
    or one a running repair holds (its advisory lock), is never dropped."""
    import signal
    import time

    from helpers import PGSCORE

    admin = cluster.url("postgres")

    def scratches():
        return [r[0] for r in query(admin, "SELECT datname FROM pg_database WHERE datname LIKE 'pgscore_repair%' "
                                           "ORDER BY 1")]

    def repair_until_its_scratch_is_made():
        proc = subprocess.Popen([*PGSCORE, "install", "--repair", "--db", db_url], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not scratches() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(scratches()) == 1, (proc.poll(), scratches())
        return proc

    query(db_url, "DROP TABLE pgscore.drift_rollup CASCADE")
    term = repair_until_its_scratch_is_made()
    term.send_signal(signal.SIGTERM)
    _, err = term.communicate(timeout=120)
    assert term.returncode != 0 and scratches() == [], (term.returncode, err, scratches())
    killed = repair_until_its_scratch_is_made()
    killed.kill()  # (SIGKILL: no finally runs, its connections drop)
    killed.communicate(timeout=30)
    left, = scratches()
    (note,), = query(admin, f"SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '{left}'")
    assert note.startswith("pgscore install --repair: scratch database of database "), note
    deadline = time.monotonic() + 30  # (its server processes end as they see the connection gone)
    while query(admin, f"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = "
                       f"{migrate.SCRATCH_LOCK}") != [(0,)] and time.monotonic() < deadline:
        time.sleep(0.1)
    # named as one, not marked (an earlier pgscore's, or a user's); marked and held by a running repair
    query(admin, "CREATE DATABASE pgscore_repair_1_0badc0de")
    query(admin, "CREATE DATABASE pgscore_repair_2_00c0ffee")
    query(admin, f"COMMENT ON DATABASE pgscore_repair_2_00c0ffee IS '{migrate.SCRATCH_MARK} of database x'")
    # (and one whose key is 2**31 or more, a negative int4 to pg_advisory_lock, an oid in pg_locks: half the names)
    query(admin, "CREATE DATABASE pgscore_repair_3_80c0ffee")
    query(admin, f"COMMENT ON DATABASE pgscore_repair_3_80c0ffee IS '{migrate.SCRATCH_MARK} of database x'")
    running = psycopg2.connect(admin)
    try:
        running.cursor().execute("SELECT pg_advisory_lock(%s, %s)", (migrate.SCRATCH_LOCK, 0x00c0ffee))
        running.cursor().execute("SELECT pg_advisory_lock(%s, %s)", (migrate.SCRATCH_LOCK,
                                                                     migrate._scratch_key("pgscore_repair_3_80c0ffee")))
        run = pgscore_cli("install", "--repair", "--db", db_url)
        assert run.returncode == 0 and "table pgscore.drift_rollup" in run.stdout, (run.stdout, run.stderr)
        assert f"pgscore: note: dropped database {left}, the scratch database of a pgscore install --repair that " \
               "was interrupted" in run.stderr, run.stderr
        assert "pgscore: note: database pgscore_repair_1_0badc0de is named as the scratch database of a pgscore " \
               "install --repair, and no repair runs with it, but it was left: not marked as a repair's scratch " \
               "database" in run.stderr and "DROP DATABASE pgscore_repair_1_0badc0de WITH (FORCE)" in run.stderr, \
            run.stderr
        assert "00c0ffee" not in run.stderr, run.stderr
        assert scratches() == ["pgscore_repair_1_0badc0de", "pgscore_repair_2_00c0ffee", "pgscore_repair_3_80c0ffee"]
        running.close()  # (the repair's end, without its drop: a leftover now)
        query(admin, "DROP DATABASE pgscore_repair_3_80c0ffee")
        status = pgscore_cli("status", "--db", db_url)
        assert status.returncode == 0, status.stderr
        said = " ".join(status.stdout.split())
        assert "WARNING: pgscore_repair_2_00c0ffee, pgscore_repair_1_0badc0de: the scratch databases of a pgscore " \
               "install --repair that was interrupted" in said and "the next pgscore " in said and \
               "DROP DATABASE pgscore_repair_2_00c0ffee WITH (FORCE); DROP DATABASE pgscore_repair_1_0badc0de " \
               "WITH (FORCE)" in said, status.stdout
        assert scratches() == ["pgscore_repair_1_0badc0de", "pgscore_repair_2_00c0ffee"]  # (status drops nothing)
        assert pgscore_cli("install", "--db", db_url).returncode == 0
        assert scratches() == ["pgscore_repair_1_0badc0de"]
    finally:
        running.close()
        for name in scratches():
            query(admin, f"DROP DATABASE {name} WITH (FORCE)")


def test_two_install_repairs_at_once_the_second_waits_and_finds_nothing_to_repair(db_url):
    """Session 66: two `pgscore install --repair` of one database at once (a DBA's and a deploy job's) both found
    the table missing, both made a scratch database, and the second's psql then failed on what the first had made:
    `relation "drift_rollup" already exists`, nothing more said. The second now waits for the first (an advisory
    lock of the database, said on stderr), then finds nothing to repair."""
    import time

    from helpers import PGSCORE

    query(db_url, "DROP TABLE pgscore.drift_rollup CASCADE")
    procs = [subprocess.Popen([*PGSCORE, "install", "--repair", "--db", db_url], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)]
    time.sleep(0.3)
    procs.append(subprocess.Popen([*PGSCORE, "install", "--repair", "--db", db_url], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True))
    runs = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    assert [code for code, _, _ in runs] == [0, 0], runs
    said = sorted(out for _, out, _ in runs)
    assert said[0].startswith("made again as a new install at revision ") and "table pgscore.drift_rollup" in said[0], \
        runs
    assert said[1].startswith("nothing to repair: "), runs
    waited = [err for _, out, err in runs if out.startswith("nothing to repair: ")][0]
    assert "pgscore: note: another pgscore install --repair of this database runs (server process " in waited, runs
    assert migrate.missing_objects(db_url) == []


def test_a_scratch_database_left_before_its_mark_is_dropped_where_nobody_is_connected_to_it(db_url, cluster):
    """Session 66: a repair killed between creating its scratch database and marking it (its comment) left one that
    no later install dropped (unmarked: `an earlier pgscore's, or not one`). The scratch database's name now says it
    is a repair's (pgscore_repair_scratch_PID_HEX): one of that name that no repair holds (its advisory lock) and
    nobody is connected to is dropped, marked or not; an unmarked one somebody is connected to is only named."""
    admin = cluster.url("postgres")

    def scratches():
        return [r[0] for r in query(admin, "SELECT datname FROM pg_database WHERE datname LIKE 'pgscore_repair%' "
                                           "ORDER BY 1")]

    query(admin, "CREATE DATABASE pgscore_repair_scratch_1_0000beef")  # (killed before its COMMENT)
    query(admin, "CREATE DATABASE pgscore_repair_scratch_2_0000cafe")
    held = psycopg2.connect(cluster.url("pgscore_repair_scratch_2_0000cafe"))
    try:
        run = pgscore_cli("install", "--db", db_url)
        assert run.returncode == 0, run.stderr
        assert "pgscore: note: dropped database pgscore_repair_scratch_1_0000beef, the scratch database of a " \
               "pgscore install --repair that was interrupted" in run.stderr, run.stderr
        assert "database pgscore_repair_scratch_2_0000cafe is named as the scratch database" in run.stderr \
               and "somebody is connected to it" in run.stderr, run.stderr
        assert scratches() == ["pgscore_repair_scratch_2_0000cafe"]
        held.close()
        import time
        deadline = time.monotonic() + 30  # (its server process ends as it sees the connection gone)
        while query(admin, "SELECT count(*) FROM pg_stat_activity WHERE datname = 'pgscore_repair_scratch_2_0000cafe'"
                    ) != [(0,)] and time.monotonic() < deadline:
            time.sleep(0.1)
        run = pgscore_cli("install", "--db", db_url)
        assert "dropped database pgscore_repair_scratch_2_0000cafe" in run.stderr, run.stderr
        assert scratches() == []
    finally:
        held.close()
        for name in scratches():
            query(admin, f"DROP DATABASE {name} WITH (FORCE)")


def test_status_says_why_a_scratch_database_somebody_is_connected_to_is_left(db_url, cluster):
    """Session 67: an unmarked pgscore_repair_scratch_* database somebody is connected to (which install names and
    leaves, and drops once nobody is) was said by pgscore status as "(not marked as one: an earlier pgscore's, or not
    one) is left to you", as a database named the older way; and where the one connected was status itself (run
    against that database), the same. It says now that it is named as a repair's, left while somebody is connected
    to it (who: the query), or that it is the database status is connected to, and that the next install drops it."""
    admin = cluster.url("postgres")
    names = ("pgscore_repair_scratch_5_0000f00d", "pgscore_repair_scratch_6_0000d00d")
    for n in names:
        query(admin, f"CREATE DATABASE {n}")
    held = psycopg2.connect(cluster.url(names[0]))
    try:
        assert pgscore_cli("install", "--no-check", "--db", cluster.url(names[1])).returncode == 0
        for url, me in ((db_url, None), (cluster.url(names[1]), names[1])):
            status = pgscore_cli("status", "--db", url)
            said = " ".join(status.stdout.split())
            assert "an earlier pgscore's, or not one" not in said, said
            assert f"{names[0]} (named as a repair's, not marked: its repair was killed before it marked it) is left " \
                   "while somebody is connected to it (SELECT pid, usename, application_name FROM " \
                   f"pg_catalog.pg_stat_activity WHERE datname OPERATOR(pg_catalog.=) '{names[0]}'): the next pgscore " in said, said
            assert "install drops it once nobody is" in said, said
            if me:
                assert f"{me} (named as a repair's, not marked: its repair was killed before it marked it) is this " \
                       "database, which pgscore status is connected to (run it against your database): the next " \
                       "pgscore " in said, said
    finally:
        held.close()
        for n in names:
            query(admin, f"DROP DATABASE IF EXISTS {n} WITH (FORCE)")


def test_an_unmarked_scratch_database_somebody_connects_to_before_the_drop_is_left(db_url, cluster, monkeypatch):
    """Review r2 of session 66: an unmarked pgscore_repair_scratch_* database is dropped only where nobody is
    connected to it, and the drop was WITH (FORCE), as a marked one's is: whoever connected between the check and
    the drop (a database of that name that is not a repair's) was cut off and the database dropped. It is dropped
    without FORCE: such a connection makes the drop fail, and the database is named, with why. (The window is made
    here by answering the check as it would have been before the connection.)"""
    admin = cluster.url("postgres")
    name = "pgscore_repair_scratch_3_0000f00d"
    query(admin, f"CREATE DATABASE {name}")
    someone = psycopg2.connect(cluster.url(name))
    try:
        monkeypatch.setattr(migrate, "_leftover_scratch",
                            lambda cur: ([(name, "named as a repair's, made before its mark")], []))
        dropped, left = migrate.drop_leftover_scratch(db_url)
        assert dropped == [] and [n for n, _ in left] == [name], (dropped, left)
        assert "55006" in left[0][1] and "is being accessed by other users" in left[0][1], left
        assert query(someone, "SELECT 1") == [(1,)]  # (not cut off)
    finally:
        someone.close()
        query(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_a_databases_own_pgscore_settings_move_with_pg_dump_create_alone(db_url, empty_db_url, cluster):
    """docs/sql.md's "Moving a database": the settings a DBA made with ALTER DATABASE (pgscore.unbound_signatures,
    a security setting, and pgscore.log_queries' sampling) are the database's, which pg_dump writes only with
    --create. A trial (session 67, h2) followed the steps as they were (createdb, pg_dump -Fc, pg_restore): the moved
    database came back with neither, saying nothing, and `pgscore status` on it said `unbound signatures: accept` and
    `query-path log: all`. The steps the docs give now (pg_dump -Fc -C, pg_restore -C) keep both; status says so."""
    src = query(db_url, "SELECT current_database()")[0][0]
    query(db_url, f'ALTER DATABASE "{src}" SET pgscore.unbound_signatures = \'refuse\'')
    query(db_url, f'ALTER DATABASE "{src}" SET pgscore.log_queries = \'0.1\'')
    own = ("SELECT current_setting('pgscore.unbound_signatures', true), current_setting('pgscore.log_queries', true)")
    assert query(db_url, own) == [("refuse", "0.1")]

    # the steps as they were: a new database made by createdb, a dump without --create: both are gone
    plain = subprocess.run([str(pg_bin_dir() / "pg_dump"), "-Fc", "-d", db_url], capture_output=True, check=True).stdout
    restore = subprocess.run([str(pg_bin_dir() / "pg_restore"), "-d", empty_db_url], input=plain,
                             capture_output=True)
    assert (restore.returncode, restore.stderr) == (0, b"")
    assert query(empty_db_url, own) in ([(None, None)], [("", "")]), query(empty_db_url, own)

    # as the docs say now: pg_dump -C, and pg_restore -C into the server where the name is free (here the source
    # itself is dropped first: one cluster)
    created = subprocess.run([str(pg_bin_dir() / "pg_dump"), "-Fc", "-C", "-d", db_url], capture_output=True,
                             check=True).stdout
    postgres = cluster.url("postgres")
    query(postgres, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (src,))
    query(postgres, f'DROP DATABASE "{src}"')
    restore = subprocess.run([str(pg_bin_dir() / "pg_restore"), *_documented_create_restore(postgres)],
                             input=created, capture_output=True)
    assert (restore.returncode, restore.stderr) == (0, b""), restore.stderr
    assert query(db_url, own) == [("refuse", "0.1")]
    status = pgscore_cli("status", "--db", db_url)
    assert "unbound signatures: refuse" in status.stdout, status.stdout + status.stderr
    assert f"query-path log: all (database {src}: 0.1" in status.stdout, status.stdout


def _documented_create_restore(target_url):
    """docs/sql.md's "Moving a database": the `pg_restore -C ...` it gives, as an argument list run against the
    server of `target_url` (its `-d postgres` pointed there)."""
    import re
    import shlex

    from helpers import ROOT

    text = " ".join((ROOT / "docs" / "sql.md").read_text().split())
    bullet = text.split("**The database's own settings come with `--create` alone.**", 1)[1].split("- **", 1)[0]
    (command,) = re.findall(r"restore with `(pg_restore -C[^`]*)`", bullet)
    args = shlex.split(command)[1:]
    assert args[args.index("-d") + 1] == "postgres", command
    args[args.index("-d") + 1] = target_url
    return args


def test_the_documented_create_restore_over_a_database_of_its_name_restores_nothing_into_it(db_url, cluster):
    """Review r2 of session 67: docs/sql.md said to restore a `pg_dump -Fc -C` dump with `pg_restore -C -d
    postgres`. Where a database of the dump's name exists (the source's server itself, a copy restored before, a
    cluster made by `pgscore db start`, which makes an empty database pgscore), CREATE DATABASE fails and pg_restore,
    going on past errors, connects to that database and restores into it: every table without a unique key gets its
    rows a second time (walked on the demo: the audit log's 1,014 rows became 2,028, with 494 errors). With the
    documented command the failed CREATE DATABASE stops it: nothing is restored into the database there."""
    query(db_url, "CREATE TABLE public.notes (t text)")
    query(db_url, "INSERT INTO public.notes VALUES ('a'), ('b'), ('c')")
    dump = subprocess.run([str(pg_bin_dir() / "pg_dump"), "-Fc", "-C", "-d", db_url], capture_output=True,
                          check=True).stdout
    restore = subprocess.run([str(pg_bin_dir() / "pg_restore"), *_documented_create_restore(cluster.url("postgres"))],
                             input=dump, capture_output=True)
    assert restore.returncode == 1 and b"already exists" in restore.stderr, restore.stderr
    assert query(db_url, "SELECT count(*) FROM public.notes") == [(3,)]


def _tree(d):
    """Each file under `d` with its contents' digest: what a copy's recovery writing there would change."""
    import hashlib

    return {os.path.relpath(os.path.join(r, f), d): hashlib.md5(open(os.path.join(r, f), "rb").read()).hexdigest()
            for r, _, files in os.walk(d) for f in files}


def test_a_point_in_time_copy_of_a_cluster_with_a_tablespace_leaves_the_base_backups_tablespace_alone():
    """Review r2 of session 67: docs/operations.md's point-in-time recovery copies the base backup with `cp -a
    BASE_BACKUP COPY` and starts the copy. With a tablespace (the log on a volume of its own, as
    docs/operations-disk.md sets it up), the backup's pg_tblspc/OID is a link to the backup's tablespace directory
    (pg_basebackup -T), which cp -a copies as a link: the copy recovered into, and then wrote, the base backup's own
    tablespace, so that a second restore from it (another target time) started from files the first had changed.
    The copy steps the page gives (run here as written, placeholders filled in) give the copy a tablespace of its
    own."""
    import re

    from helpers import ROOT, own_cluster
    from pgscore.localdb import SUPERUSER, Cluster, free_port

    page = (ROOT / "docs" / "operations.md").read_text()
    block = re.search(r"\*\*Point-in-time recovery\*\*.*?```sh\n(.*?)```", page, re.S).group(1)
    steps = [line for line in block.split("printf")[0].splitlines() if line.strip() and not line.startswith("#")]
    with own_cluster("pgscore-pitr-") as src:
        base = src.data_dir.parent
        logs = base / "logs"
        logs.mkdir()
        pw = src._server_pw() if src.as_root else None
        if pw:
            os.chown(logs, pw.pw_uid, pw.pw_gid)
        query(src.url("postgres"), f"CREATE TABLESPACE logs LOCATION '{logs}'")
        query(src.url("postgres"), "CREATE TABLE t TABLESPACE logs AS SELECT g FROM generate_series(1, 1000) g")
        (oid,), = query(src.url("postgres"), "SELECT oid FROM pg_tablespace WHERE spcname = 'logs'")
        backup, backup_ts = base / "backup", base / "backup-logs"
        for d in (backup, backup_ts):
            d.mkdir(mode=0o700)
            if pw:
                os.chown(d, pw.pw_uid, pw.pw_gid)
        src._run([str(src.bin_dir / "pg_basebackup"), "-X", "stream", "-c", "fast", "-D", str(backup),
                  "-T", f"{logs}={backup_ts}", "-d", f"host={src.socket_dir} port={src.port} user={SUPERUSER}"])
        before = _tree(backup_ts)
        fill = {"BASE_BACKUP": str(backup), "COPY_TABLESPACE": str(base / "copy-logs"), "COPY": str(base / "copy"),
                "BACKUP_TABLESPACE": str(backup_ts), "TABLESPACE_OID": str(oid)}
        for step in steps:
            run = subprocess.run(["bash", "-c", re.sub("|".join(fill), lambda m: fill[m.group(0)], step)],
                                 capture_output=True, text=True)
            assert run.returncode == 0, (step, run.stderr)
        copy = Cluster(data_dir=base / "copy", port=free_port())
        try:
            copy.start()
            query(copy.url("postgres"), "INSERT INTO t SELECT g FROM generate_series(1, 1000) g")
            query(copy.url("postgres"), "CHECKPOINT")
            assert query(copy.url("postgres"), "SELECT count(*) FROM t") == [(2000,)]
        finally:
            copy.destroy()
        assert _tree(backup_ts) == before, "the copy wrote into the base backup's tablespace"


def test_the_documented_create_restore_of_a_dump_whose_tablespace_the_server_lacks_restores_whole(cluster):
    """Review r2 of session 67: with `--exit-on-error` (the create restore's, above), a dump that puts a table in a
    tablespace the new server lacks (the log on a volume of its own) stopped at `could not set default_tablespace
    to logs`, the database made and half restored (13 of pgscore's relations, walked). docs/sql.md's bullet for it
    gives the command that restores such a dump whole, run here as written."""
    import re
    import shlex

    from helpers import ROOT, own_cluster

    text = " ".join((ROOT / "docs" / "sql.md").read_text().split())
    bullet = text.split("**A tablespace the new server lacks**", 1)[1].split("- **", 1)[0]
    commands = re.findall(r"`(pg_restore -C[^`]*)`", bullet)
    assert len(commands) == 1, bullet
    command = commands[0]
    args = shlex.split(command)[1:]
    name = f"ts_{uuid.uuid4().hex[:8]}"
    with own_cluster("pgscore-tablespace-") as src:
        logs = src.data_dir.parent / "logs"
        logs.mkdir()
        if src.as_root:
            pw = src._server_pw()
            os.chown(logs, pw.pw_uid, pw.pw_gid)
        query(src.url("postgres"), f"CREATE TABLESPACE logs LOCATION '{logs}'")
        query(src.url("postgres"), f"CREATE DATABASE {name}")
        query(src.url(name), "CREATE TABLE a (x int)")
        query(src.url(name), "CREATE TABLE b (x int) TABLESPACE logs")
        query(src.url(name), "CREATE TABLE c (x int)")
        query(src.url(name), "INSERT INTO a VALUES (1); INSERT INTO b VALUES (2); INSERT INTO c VALUES (3)")
        dump = subprocess.run([str(pg_bin_dir() / "pg_dump"), "-Fc", "-C", "-d", src.url(name)], capture_output=True,
                              check=True).stdout
    args[args.index("-d") + 1] = cluster.url("postgres")
    try:
        restore = subprocess.run([str(pg_bin_dir() / "pg_restore"), *args], input=dump, capture_output=True)
        assert (restore.returncode, restore.stderr) == (0, b""), (command, restore.stderr)
        assert query(cluster.url(name), "SELECT (SELECT x FROM a), (SELECT x FROM b), (SELECT x FROM c)") == [(1, 2, 3)]
    finally:
        query(cluster.url("postgres"), f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
