"""The schema through alembic: sql/ is the truth, revisions are frozen, downgrade removes only ours."""

import re
from pathlib import Path

import psycopg2
import pytest
from sklearn.linear_model import LogisticRegression

from helpers import ROOT, catalog, database_objects, ensure_role, hinted, pgscore_cli, query
from pgscore import datasets, migrate, registry, schema
from pgscore.errors import InstallError


def test_upgrade_head_equals_sql_dir(db_url, empty_db_url):
    """alembic upgrade head yields exactly the objects sql/ defines, as the database renders them."""
    conn = psycopg2.connect(empty_db_url)
    with conn, conn.cursor() as cur:
        cur.execute(schema.render())
    conn.close()
    migrated, direct = catalog(db_url), catalog(empty_db_url)
    assert migrated, "the migrated schema is empty"
    assert migrated == direct
    kinds = {row[0] for row in migrated}
    assert {"function", "column", "index", "constraint", "trigger", "comment"} <= kinds


def test_upgrade_downgrade_upgrade(empty_db_url):
    before = database_objects(empty_db_url)
    migrate.upgrade(empty_db_url)
    first = catalog(empty_db_url)
    assert migrate.current(empty_db_url) == migrate.head()
    migrate.downgrade(empty_db_url, "base")
    assert migrate.current(empty_db_url) is None
    # as it found it, but for pgscore's roles, which belong to the whole cluster and stay (docs/cli.md, uninstall):
    # they were in `before` only where another test's install had made them (run alone, this failed)
    after = database_objects(empty_db_url)
    assert [o for o in before if o not in after] == [], "downgrade base must leave the database as it found it"
    added = [o for o in after if o not in before]
    assert all(o[0] == "role" and o[1] in ("pgscore_admin", "pgscore_app", "pgscore_reader") for o in added), added
    migrate.upgrade(empty_db_url)
    assert catalog(empty_db_url) == first


def test_downgrade_keeps_what_pgscore_did_not_create(empty_db_url):
    query(empty_db_url, "CREATE EXTENSION plpython3u")
    query(empty_db_url, "CREATE TABLE public.customers (id int primary key, name text)")
    query(empty_db_url, "INSERT INTO public.customers VALUES (1, 'ada')")
    migrate.upgrade(empty_db_url)
    assert query(empty_db_url, "SELECT created_plpython FROM pgscore.install_info") == [(False,)]
    migrate.downgrade(empty_db_url, "base")
    assert query(empty_db_url, "SELECT extname FROM pg_extension WHERE extname = 'plpython3u'") == [("plpython3u",)]
    assert query(empty_db_url, "SELECT name FROM public.customers") == [("ada",)]
    assert query(empty_db_url, "SELECT to_regnamespace('pgscore')") == [(None,)]


def test_downgrade_refuses_while_user_objects_depend_on_pgscore(db_url):
    query(db_url, "CREATE VIEW public.model_names AS SELECT name FROM pgscore.models")
    with pytest.raises(InstallError) as e:
        migrate.downgrade(db_url, "base")
    assert "public.model_names" in str(e.value) or "view model_names" in str(e.value)
    assert "pgscore.detach_rescoring" in e.value.hint and "CASCADE" not in e.value.hint
    assert query(db_url, "SELECT to_regclass('pgscore.models') IS NOT NULL") == [(True,)]
    query(db_url, "DROP VIEW public.model_names")
    migrate.downgrade(db_url, "base")
    assert query(db_url, "SELECT to_regnamespace('pgscore')") == [(None,)]


def test_downgrade_below_0084_refuses_while_a_wiring_holds_a_last_counter(db_url):
    """0083's code knows no last counter: its trigger would refuse every INSERT into the event table. The
    downgrade says which wiring and counter, and what to attach in its place; once that is done it runs."""
    query(db_url, "CREATE TABLE public.people (id int PRIMARY KEY, s float8, scored_at timestamptz, n int, k text)")
    query(db_url, "CREATE TABLE public.calls (call_id bigint GENERATED ALWAYS AS IDENTITY, person int, kind text)")
    attach = ("SELECT pgscore.attach_rescoring('calls', 'people', 'person', 'nobody', 's', %s::jsonb, "
              "p_profile_key => 'id', p_event_id_column => 'call_id')")
    query(db_url, attach, ('{"n": "count", "k": {"last": "e.kind"}}',))
    with pytest.raises(InstallError) as e:
        migrate.downgrade(db_url, "0083")
    assert "calls (k)" in e.value.detail and '{"set": ' in e.value.hint and "CASCADE" not in e.value.hint
    assert query(db_url, "SELECT version_num FROM public.pgscore_alembic_version") != [("0083",)]
    query(db_url, "SELECT pgscore.detach_rescoring('calls')")
    query(db_url, attach, ('{"n": "count", "k": {"set": "(pg_catalog.array_agg((e.kind) ORDER BY e.call_id DESC))[1]"}}',))
    migrate.downgrade(db_url, "0083")
    assert query(db_url, "SELECT version_num FROM public.pgscore_alembic_version") == [("0083",)]


def test_the_uninstall_hint_detaches_what_blocks_it(db_url):
    """Wired tables block the uninstall; the hint's SQL detaches them, also when another wired event table
    was dropped (its wiring row stays and names a table that is gone), and the DETAIL does not repeat the
    server's advice to DROP ... CASCADE, which would drop the user's tables."""
    query(db_url, "CREATE TABLE public.people (id int PRIMARY KEY, s float8, scored_at timestamptz, n int)")
    for t in ("calls", "visits"):
        query(db_url, f"CREATE TABLE public.{t} (person int)")
        query(db_url, f"SELECT pgscore.attach_rescoring('{t}', 'people', 'person', 'nobody', 's', "
                      "'{\"n\": \"count\"}', p_profile_key => 'id')")
    query(db_url, "DROP TABLE public.visits")
    with pytest.raises(InstallError) as e:
        migrate.downgrade(db_url, "base")
    assert "calls" in e.value.detail and "CASCADE" not in e.value.detail and "CASCADE" not in e.value.hint
    sql = e.value.hint.split("first (", 1)[1].split("), and drop", 1)[0]
    assert sql.startswith("SELECT pgscore.detach_rescoring(")
    assert query(db_url, sql) == [(1,)]
    migrate.downgrade(db_url, "base")
    assert query(db_url, "SELECT count(*) FROM public.calls") == [(0,)]  # the user's tables stay


def test_uninstall_refuses_a_wired_table_before_it_waits_for_the_traffic(db_url):
    """An uninstall that the rescoring triggers refuse is refused at once, from the catalogs: the refusal came
    from the first revision's downgrade, after every later one had run, so behind a transaction left open after
    an INSERT into the wired table it waited --lock-timeout and said to look for that session (55P03), and under
    traffic it held up every client meanwhile and could deadlock with one (40P01: a client's INSERT failed, or
    the uninstall did, without the hint), to be refused in the end all the same."""
    import threading
    import time

    from helpers import make_shop

    X, y, _ = datasets.churn(400, seed=3)
    conn = make_shop(db_url, LogisticRegression(max_iter=500).fit(X, y), X, y, 20, rescore=True)
    holder = psycopg2.connect(db_url)
    stop, errors, slow = threading.Event(), [], []

    def client(i):  # events keep coming (single-row INSERTs), each its own transaction
        c = psycopg2.connect(db_url)
        c.autocommit = True
        try:
            while not stop.is_set():
                t = time.monotonic()
                try:
                    query(c, "INSERT INTO complaints (customer_id) VALUES (%s)", (i + 1,))
                except psycopg2.Error as e:
                    errors.append((e.pgcode, str(e).splitlines()[0]))
                slow.append(time.monotonic() - t)
        finally:
            c.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(2)]
    try:
        for t in threads:
            t.start()
        time.sleep(0.5)
        with holder.cursor() as cur:  # an application's transaction left open after it inserted an event
            cur.execute("INSERT INTO complaints (customer_id) VALUES (3)")
        t0 = time.monotonic()
        with pytest.raises(InstallError) as e:
            migrate.downgrade(db_url, "base", lock_timeout="5s")
        took = time.monotonic() - t0
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
        holder.rollback()
        holder.close()
    assert not any(t.is_alive() for t in threads)
    assert "waited too long" not in e.value.message and "pgscore.detach_rescoring(" in e.value.hint, str(e.value)
    assert "trigger pgscore_rescore_1 on table complaints" in e.value.detail, e.value.detail
    assert getattr(e.value.__cause__, "orig", e.value.__cause__).pgcode == "2BP01"
    assert took < 5, took  # not after the lock timeout
    assert not errors, errors[:3]
    assert max(slow) < 2, max(slow)  # no client waited behind the uninstall
    assert migrate.current(db_url) == migrate.head()
    assert query(conn, "SELECT count(*) > 0 FROM complaints") == [(True,)]  # the clients' events went in
    conn.close()


def test_failed_install_rolls_back(empty_db_url):
    """A role that may create schemas but not plpython3u: clear error, nothing left behind."""
    ensure_role(empty_db_url, "pgscore_t_owner", login=True)
    dbname = query(empty_db_url, "SELECT current_database()")[0][0]
    query(empty_db_url, f'GRANT CREATE ON DATABASE "{dbname}" TO pgscore_t_owner')
    query(empty_db_url, "GRANT CREATE ON SCHEMA public TO pgscore_t_owner")
    url = empty_db_url.replace("postgresql://postgres@", "postgresql://pgscore_t_owner@")
    for extension_there in (False, True):  # PL/Python is untrusted: its functions need a superuser too
        if extension_there:
            query(empty_db_url, "CREATE EXTENSION plpython3u")
        with pytest.raises(InstallError) as e:
            migrate.upgrade(url)
        assert "pgscore install needs a superuser" in str(e.value), str(e.value)
        assert "run the install as a superuser" in str(e.value)
        assert query(empty_db_url, "SELECT to_regnamespace('pgscore')") == [(None,)]
        assert migrate.current(empty_db_url) is None


def test_revisions_apply_frozen_sql_only():
    """Each revision reads the SQL frozen beside it, never the live sql/ tree."""
    versions = ROOT / "migrations" / "versions"
    revisions = sorted(versions.glob("[0-9]*.py"))
    assert revisions
    for rev in revisions:
        text = rev.read_text()
        assert "pgscore.schema" not in text and "sql/" not in text, rev.name
        folder = rev.with_suffix("")
        assert (folder / "upgrade.sql").is_file() and (folder / "downgrade.sql").is_file(), rev.name


def test_frozen_first_revision_is_a_render_of_sql_dir_at_its_time():
    """0001 froze a full render; the render format must stay parseable by later tooling."""
    frozen = (ROOT / "migrations/versions/0001_foundation/upgrade.sql").read_text()
    assert "CREATE SCHEMA pgscore" in frozen
    assert "@@plpython/" not in frozen, "PL/Python bodies must be inlined, not referenced"
    assert re.search(r"CREATE FUNCTION pgscore\.validate_environment\(\)", frozen)


def test_plain_alembic_cli_with_x_db_url(empty_db_url, tmp_path):
    """`alembic -x db_url=... upgrade head` from the checkout works like pgscore install, and says which
    revisions it runs (alembic.ini's logging: it printed nothing)."""
    import subprocess
    import sys

    alembic = Path(sys.executable).with_name("alembic")
    run = subprocess.run([str(alembic), "-c", str(ROOT / "alembic.ini"), "-x", f"db_url={empty_db_url}",
                          "upgrade", "head"], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert migrate.current(empty_db_url) == migrate.head()
    assert "Running upgrade  -> 0001 (0001_foundation)\n" in run.stderr, run.stderr
    # one line a revision, which names it (it printed the first paragraph of the revision's docstring: ten lines
    # for 0131, whose downgrade's line ended "as 0127 left them")
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config(empty_db_url)).get_revision(migrate.head())
    name = Path(script.path).stem
    assert f"Running upgrade {script.down_revision} -> {migrate.head()} ({name})\n" in run.stderr, run.stderr
    assert all(line.startswith("INFO  [alembic") for line in run.stderr.splitlines()), run.stderr
    run = subprocess.run([str(alembic), "-c", str(ROOT / "alembic.ini"), "-x", f"db_url={empty_db_url}",
                          "downgrade", script.down_revision], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0 and migrate.current(empty_db_url) == script.down_revision, run.stderr
    assert (f"Running downgrade {migrate.head()} -> {script.down_revision} (undoes {name}: the schema of revision "
            f"{script.down_revision})\n") in run.stderr, run.stderr
    assert all(line.startswith("INFO  [alembic") for line in run.stderr.splitlines()), run.stderr
    run = subprocess.run([str(alembic), "-c", str(ROOT / "alembic.ini"), "downgrade", "base"],
                         capture_output=True, text=True, cwd=tmp_path,
                         env={"PGSCORE_DATABASE_URL": empty_db_url, "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr
    assert migrate.current(empty_db_url) is None


def test_plain_alembic_cli_with_libpq_s_variables(cluster, empty_db_url, tmp_path):
    """Without -x db_url and PGSCORE_DATABASE_URL, plain alembic reaches the database libpq's variables name (PGHOST,
    PGPORT, PGDATABASE, as pgscore's commands do); with none of them, it says what to give, naming them."""
    import subprocess
    import sys
    from urllib.parse import urlsplit

    from pgscore.localdb import SUPERUSER

    alembic = Path(sys.executable).with_name("alembic")
    env = {"PATH": "/usr/bin:/bin", "PGHOST": str(cluster.socket_dir), "PGPORT": str(cluster.port),
           "PGUSER": SUPERUSER, "PGDATABASE": urlsplit(empty_db_url).path.lstrip("/")}
    run = subprocess.run([str(alembic), "-c", str(ROOT / "alembic.ini"), "upgrade", "head"], capture_output=True,
                         text=True, cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr
    assert migrate.current(empty_db_url) == migrate.head()
    run = subprocess.run([str(alembic), "-c", str(ROOT / "alembic.ini"), "current"], capture_output=True,
                         text=True, cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
    assert run.returncode != 0 and "or set PGSCORE_DATABASE_URL (or libpq's PGHOST, PGPORT, PGDATABASE or PGSERVICE)" \
        in run.stderr, run.stderr


def test_plain_alembic_downgrade_names_the_view_of_yours_that_stops_it(db_url, tmp_path):
    """docs/operations.md (Going back to an earlier release): `alembic downgrade 0019` stopped by a view of the
    user's on one a downgrade drops and makes again (0061's of pgscore.alerts) names it with what to do, and
    changes nothing. It ended in psycopg2's traceback with the server's HINT, "Use DROP ... CASCADE", which
    drops the user's view."""
    import subprocess
    import sys

    query(db_url, "CREATE VIEW public.my_alerts AS SELECT model, metric, shadow FROM pgscore.alerts")
    alembic = Path(sys.executable).with_name("alembic")
    run = subprocess.run([str(alembic), "-c", str(ROOT / "alembic.ini"), "-x", f"db_url={db_url}",
                          "downgrade", "0060"], capture_output=True, text=True, cwd=tmp_path)
    out = run.stdout + run.stderr
    assert run.returncode != 0
    assert "FAILED: pgscore's migration stopped, and nothing was changed" in run.stdout, out
    # (named by the first downgrade that makes pgscore.alerts again: 0133's since session 62, 0061's before)
    assert "public.my_alerts of yours depend on" in run.stdout, out
    assert "pg_get_viewdef" in run.stdout and "CASCADE" not in out and "Traceback" not in out, out
    assert migrate.current(db_url) == migrate.head()
    query(db_url, "DROP VIEW public.my_alerts")
    run = subprocess.run([str(alembic), "-c", str(ROOT / "alembic.ini"), "-x", f"db_url={db_url}",
                          "downgrade", "0060"], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert migrate.current(db_url) == "0060"


def test_an_offline_downgrade_script_says_what_it_drops_of_what_users_wrote(tmp_path):
    """`alembic downgrade 0145:0118 --sql` writes a script that drops silences, overrides, label columns, the
    retention record and written_by: with no database to count in, it says so on stderr and in a comment at the
    script's head, each with its \\copy (before: not a word; the online downgrade's refusal never ran). A script
    that undoes none of them says nothing."""
    import subprocess
    import sys

    alembic = [str(Path(sys.executable).with_name("alembic")), "-c", str(ROOT / "alembic.ini"), "-x",
               "db_url=host=/nonexistent dbname=x"]
    run = subprocess.run([*alembic, "downgrade", "0145:0118", "--sql"], capture_output=True, text=True,
                         cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    head, _, rest = run.stdout.partition("-- Running downgrade")
    for what in ("undoing 0141 drops every retention record (pgscore.log_retention)",
                 "undoing 0139 drops every audit row's written_by", "undoing 0129 drops every threshold override",
                 "undoing 0126 drops every silence (pgscore.alert_silences)",
                 "undoing 0119 drops every wiring's label column",
                 "\\copy pgscore.alert_silences TO 'alert_silences.csv' CSV HEADER"):
        assert f"-- {what}" in head or f"--   {what}" in head or f"--     {what}" in head, (what, head)
        assert what in run.stderr, (what, run.stderr)
    assert "pgscore: WARNING: this downgrade script drops what users wrote" in run.stderr
    assert "DROP TABLE pgscore.alert_silences" in rest
    quiet = subprocess.run([*alembic, "downgrade", "0145:0142", "--sql"], capture_output=True, text=True,
                           cwd=tmp_path)
    assert quiet.returncode == 0 and "WARNING" not in quiet.stderr and "drops what users wrote" not in quiet.stdout


def test_offline_sql_builds_what_upgrade_builds(db_url, empty_db_url, tmp_path):
    """`alembic upgrade head --sql` writes the whole script (for a DBA to read and run), no database needed;
    run by hand, it builds exactly what the online upgrade builds, the grants on the version table included
    (without them a member of pgscore_admin or pgscore_app was refused the revision: `permission denied for
    table pgscore_alembic_version` from status, drift and retry)."""
    import subprocess
    import sys

    alembic = Path(sys.executable).with_name("alembic")
    run = subprocess.run([str(alembic), "-c", str(ROOT / "alembic.ini"), "-x", "db_url=host=/nonexistent dbname=x",
                          "upgrade", "head", "--sql"], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "CREATE FUNCTION pgscore.float8_image" in run.stdout and "Traceback" not in run.stderr
    conn = psycopg2.connect(empty_db_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(run.stdout)
    conn.close()
    assert migrate.current(empty_db_url) == migrate.head()
    assert catalog(empty_db_url) == catalog(db_url)
    acl = "SELECT relacl::text[] FROM pg_class WHERE oid = 'pgscore_alembic_version'::regclass"
    assert query(empty_db_url, acl) == query(db_url, acl)
    # and its comment: BI users browsing public see what the table is
    comment = "SELECT obj_description('pgscore_alembic_version'::regclass, 'pg_class')"
    assert query(empty_db_url, comment) == query(db_url, comment)
    assert query(db_url, comment)[0][0].startswith("pgscore's schema revision: the alembic migration"), \
        query(db_url, comment)
    ensure_role(empty_db_url, "pgscore_t_dba", login=True)
    query(empty_db_url, "GRANT pgscore_admin TO pgscore_t_dba")
    admin = empty_db_url.replace("postgresql://postgres@", "postgresql://pgscore_t_dba@")
    for command in ("status", "drift", "retry"):
        run = pgscore_cli(command, "--db", admin)
        assert run.returncode == 0 and "permission denied" not in run.stderr, (command, run.stderr)


@pytest.mark.parametrize("before, rev", [("0009", "0010"), ("0012", "0013"), ("0015", "0016")])
def test_batch_chunks_changes_keep_views_and_grants_on_predict_batch(empty_db_url, before, rev):
    """0010, 0013 and 0016 change batch_chunks' result type and replace predict_batch in place: a view calling it
    and a grant on it survive the upgrade and the downgrade, and the view still scores."""
    X, Y, names = datasets.churn(200, seed=1)
    migrate.upgrade(empty_db_url, before)
    registry.deploy(empty_db_url, "churn", LogisticRegression(max_iter=300).fit(X, Y), X, Y, feature_names=names)
    query(empty_db_url, "DROP ROLE IF EXISTS r9_reader")  # roles belong to the cluster: a failed run's
    query(empty_db_url, "CREATE ROLE r9_reader")
    query(empty_db_url, "CREATE VIEW public.batch_scores AS SELECT * FROM pgscore.predict_batch("
                        f"'churn', 'SELECT 1, ARRAY{X[0].tolist()}::float8[] AS features', p_search_path => 'public')")
    query(empty_db_url, "GRANT EXECUTE ON FUNCTION pgscore.predict_batch(text, text, integer, integer, boolean, text) "
                        "TO r9_reader")
    has_grant = ("SELECT has_function_privilege('r9_reader', "
                 "'pgscore.predict_batch(text, text, integer, integer, boolean, text)', 'EXECUTE')")
    scores = []
    for step in (rev, before, rev):
        if step == before:
            migrate.downgrade(empty_db_url, step)
        else:
            migrate.upgrade(empty_db_url, step)
        assert query(empty_db_url, "SELECT to_regclass('public.batch_scores') IS NOT NULL") == [(True,)]
        assert query(empty_db_url, has_grant) == [(True,)]
        c = psycopg2.connect(empty_db_url)  # a new backend: the code matches the schema it finds
        scores.append(query(c, "SELECT key, score FROM public.batch_scores"))
        c.close()
    assert scores[0] == scores[1] == scores[2] and scores[0][0][0] == "1"
    query(empty_db_url, "DROP VIEW public.batch_scores")
    migrate.downgrade(empty_db_url, "base")
    query(empty_db_url, "DROP ROLE r9_reader")


def test_each_downgrade_restores_what_the_revision_before_built(empty_db_url):
    """Stepping up one revision at a time and back down, each downgrade leaves the catalog (objects, their
    text, comments, grants) exactly as the upgrade to the revision before it had built it. From 0006 on:
    0005's downgrade (frozen, like every landed revision) leaves the column comments of the views that
    were there before it, and the daily log partitions made meanwhile."""
    revisions = sorted(p.stem.split("_", 1)[0] for p in (ROOT / "migrations" / "versions").glob("[0-9]*.py"))
    assert revisions[-1] == migrate.head()
    built = {}
    for rev in revisions:
        # without validate_environment's check in each step's transaction: a call of it in a new backend imports
        # scikit-learn (~1 s idle, ~5 s on a loaded machine, 160-odd times: most of this test's time); what this
        # test compares is the catalog, and the check is the install's (test_cli, test_environment)
        migrate.upgrade(empty_db_url, rev, check_environment=False)
        built[rev] = catalog(empty_db_url)
    for before, rev in reversed(list(zip(revisions, revisions[1:]))):
        if rev <= "0005":
            break
        migrate.downgrade(empty_db_url, before)
        assert catalog(empty_db_url) == built[before], f"downgrade {rev} -> {before}"


def test_0021_downgrade_keeps_the_views_owner_and_every_grant_on_it(db_url):
    """0021's downgrade drops and remakes realised_performance: a DBA's grant on it (with grant option, and
    to PUBLIC) and its owner come back, as do pgscore's own grants."""
    ensure_role(db_url, "Grafana Reader")
    query(db_url, 'GRANT SELECT ON pgscore.realised_performance TO "Grafana Reader" WITH GRANT OPTION')
    query(db_url, "GRANT SELECT ON pgscore.realised_performance TO PUBLIC")
    query(db_url, 'GRANT SELECT (model, auc) ON pgscore.realised_performance TO "Grafana Reader"')
    ensure_role(db_url, "t_views_owner")  # roles outlive a failed run's database
    query(db_url, "ALTER VIEW pgscore.realised_performance OWNER TO t_views_owner")
    acl = ("SELECT (SELECT string_agg(a::text, ',' ORDER BY a::text) FROM unnest(c.relacl) a), c.relowner::regrole "
           "FROM pg_class c WHERE c.oid = 'pgscore.realised_performance'::regclass")
    column_acl = ("SELECT attname, attacl::text FROM pg_attribute WHERE attrelid = 'pgscore.realised_performance'::regclass "
                  "AND attacl IS NOT NULL ORDER BY 1")
    columns = query(db_url, column_acl)
    assert [c for c, _ in columns] == ["auc", "model"]
    # a view of the user's on it stops the downgrade, named, and the hint does not say CASCADE
    query(db_url, "CREATE VIEW public.perf AS SELECT model, auc FROM pgscore.realised_performance")
    with pytest.raises(InstallError) as e:
        migrate.downgrade(db_url, "0020")
    assert "public.perf of yours depend on it" in e.value.detail and "CASCADE" not in str(e.value)
    assert e.value.message == "downgrading pgscore to revision 0020 failed; nothing was changed"
    assert "pg_get_viewdef" in e.value.hint and migrate.current(db_url) == migrate.head()
    query(db_url, "DROP VIEW public.perf")
    before = query(db_url, acl)
    assert '"Grafana Reader"=r*/t_views_owner' in before[0][0] and "=r/t_views_owner" in before[0][0]
    assert before[0][1] == "t_views_owner"
    migrate.downgrade(db_url, "0020")
    assert query(db_url, acl) == before and query(db_url, column_acl) == columns
    assert query(db_url, "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'pgscore' "
                         "AND table_name = 'realised_performance' AND column_name LIKE 'deploy_pre%%'") == [(0,)]
    migrate.upgrade(db_url)
    query(db_url, 'REVOKE ALL ON pgscore.realised_performance FROM "Grafana Reader", PUBLIC')
    query(db_url, "ALTER VIEW pgscore.realised_performance OWNER TO postgres")
    query(db_url, 'DROP ROLE "Grafana Reader"')
    query(db_url, "DROP OWNED BY t_views_owner; DROP ROLE t_views_owner")


def test_0091_keeps_window_checks_and_check_rows_owner_comments_and_every_grant(db_url):
    """0091 drops and makes again window_checks (its columns change) and check_rows (its result does), up and
    down: a DBA's grants on them (with grant option, to PUBLIC, on columns), the view's owner and its columns'
    comments (a DBA's own too) come back each way, as do pgscore's own grants; a view of the user's on
    window_checks stops the downgrade and the upgrade, named, and the hint does not say CASCADE."""
    ensure_role(db_url, "Grafana Reader")
    ensure_role(db_url, "t_views_owner")  # roles outlive a failed run's database
    # (from 0132, the revision before 0133 added window_checks' columns of where each threshold came from and
    # reworded its confidence's comment: this test is 0091's round trip, up to the revision it was written at)
    migrate.downgrade(db_url, "0132")
    query(db_url, 'GRANT SELECT ON pgscore.window_checks TO "Grafana Reader" WITH GRANT OPTION')
    query(db_url, "GRANT SELECT ON pgscore.window_checks TO PUBLIC")
    query(db_url, 'GRANT SELECT (model, metric) ON pgscore.window_checks TO "Grafana Reader"')
    query(db_url, 'GRANT EXECUTE ON FUNCTION pgscore.check_rows(jsonb) TO "Grafana Reader"')
    query(db_url, "COMMENT ON COLUMN pgscore.window_checks.value IS 'our dashboard''s y axis'")
    query(db_url, "ALTER VIEW pgscore.window_checks OWNER TO t_views_owner")
    state = """
        SELECT (SELECT array_agg(a::text ORDER BY a::text) FROM unnest(c.relacl) a), c.relowner::regrole::text,
               (SELECT array_agg(a::text ORDER BY a::text) FROM unnest(p.proacl) a), p.proowner::regrole::text,
               (SELECT jsonb_object_agg(t.attname, jsonb_build_array(t.attacl::text, col_description(c.oid, t.attnum)))
                  FROM pg_attribute t WHERE t.attrelid = c.oid AND t.attnum > 0
                   AND t.attname NOT IN ('family', 'family_features', 'check_confidence'))
          FROM pg_class c, pg_proc p
         WHERE c.oid = 'pgscore.window_checks'::regclass AND p.oid = 'pgscore.check_rows(jsonb)'::regprocedure"""
    new_columns = ("SELECT count(*) FROM pg_attribute WHERE attrelid = 'pgscore.window_checks'::regclass AND attname "
                   "IN ('family', 'family_features', 'check_confidence') AND col_description(attrelid, attnum) <> ''")
    (before,) = query(db_url, state)
    assert '"Grafana Reader"=r*/t_views_owner' in before[0] and "=r/t_views_owner" in before[0]
    assert '"Grafana Reader"=X/postgres' in before[2] and before[1] == "t_views_owner"
    assert before[4]["value"][1] == "our dashboard's y axis" and before[4]["model"][0] is not None
    query(db_url, "CREATE VIEW public.held AS SELECT model, metric FROM pgscore.window_checks")
    with pytest.raises(InstallError) as e:
        migrate.downgrade(db_url, "0090")
    assert "public.held of yours depend on them" in e.value.detail and "CASCADE" not in str(e.value)
    assert "pg_get_viewdef" in e.value.hint and migrate.current(db_url) == "0132"
    query(db_url, "DROP VIEW public.held")
    migrate.downgrade(db_url, "0090")
    assert query(db_url, state) == [before] and query(db_url, new_columns) == [(0,)]
    query(db_url, "CREATE VIEW public.held AS SELECT model, metric FROM pgscore.window_checks")  # the upgrade's too
    with pytest.raises(InstallError) as e:
        migrate.upgrade(db_url, "0132")
    assert "public.held of yours depend on them" in e.value.detail and "CASCADE" not in str(e.value)
    assert migrate.current(db_url) == "0090"
    query(db_url, "DROP VIEW public.held")
    migrate.upgrade(db_url, "0132")
    assert query(db_url, state) == [before] and query(db_url, new_columns) == [(3,)]
    query(db_url, 'REVOKE ALL ON pgscore.window_checks FROM "Grafana Reader", PUBLIC')
    query(db_url, 'REVOKE ALL ON FUNCTION pgscore.check_rows(jsonb) FROM "Grafana Reader"')
    query(db_url, "ALTER VIEW pgscore.window_checks OWNER TO postgres")
    query(db_url, 'DROP ROLE "Grafana Reader"')
    query(db_url, "DROP OWNED BY t_views_owner; DROP ROLE t_views_owner")


def test_0097_keeps_version_drift_and_drift_by_day_owner_comments_and_every_grant(db_url):
    """0097 drops and makes again version_drift (its result gains checks) and, on the downgrade, drift_by_day
    (which loses it; the upgrade adds it in place): a DBA's grants on them (with grant option, to PUBLIC, on
    columns), the owners, the view's columns' comments (a DBA's own too), a DBA's own comment on the view, on
    its status column and on version_drift (in place of the stock ones) and pgscore's own grants (the reader's)
    come back each way; a view of the user's on version_drift stops the upgrade, one on drift_by_day the
    downgrade, named, and the hint does not say CASCADE."""
    ensure_role(db_url, "Grafana Reader")
    ensure_role(db_url, "t_views_owner")  # roles outlive a failed run's database
    query(db_url, 'GRANT SELECT ON pgscore.drift_by_day TO "Grafana Reader" WITH GRANT OPTION')
    query(db_url, "GRANT SELECT ON pgscore.drift_by_day TO PUBLIC")
    query(db_url, 'GRANT SELECT (model, psi) ON pgscore.drift_by_day TO "Grafana Reader"')
    query(db_url, 'GRANT EXECUTE ON FUNCTION pgscore.version_drift(text, integer) TO "Grafana Reader" '
                  'WITH GRANT OPTION')
    query(db_url, "COMMENT ON COLUMN pgscore.drift_by_day.psi IS 'our dashboard''s y axis'")
    query(db_url, "COMMENT ON VIEW pgscore.drift_by_day IS 'DBA view comment'")
    query(db_url, "COMMENT ON COLUMN pgscore.drift_by_day.status IS 'DBA status comment'")
    query(db_url, "COMMENT ON FUNCTION pgscore.version_drift(text, integer) IS 'DBA function comment'")
    query(db_url, "ALTER VIEW pgscore.drift_by_day OWNER TO t_views_owner")
    # a grant-option chain: the DBA grants to a lead WITH GRANT OPTION, the lead grants on to a member
    for role in ("t_0097_lead", "t_0097_member"):
        ensure_role(db_url, role)
    query(db_url, "GRANT USAGE ON SCHEMA pgscore TO t_0097_lead")
    query(db_url, "GRANT EXECUTE ON FUNCTION pgscore.version_drift(text, integer) TO t_0097_lead WITH GRANT OPTION")
    query(db_url, "GRANT SELECT ON pgscore.drift_by_day TO t_0097_lead WITH GRANT OPTION")
    query(db_url, "GRANT SELECT (psi) ON pgscore.drift_by_day TO t_0097_lead WITH GRANT OPTION")
    lead_grants = ("SET ROLE t_0097_lead; "
                   "GRANT EXECUTE ON FUNCTION pgscore.version_drift(text, integer) TO t_0097_member; "
                   "GRANT SELECT ON pgscore.drift_by_day TO t_0097_member; "
                   "GRANT SELECT (psi) ON pgscore.drift_by_day TO t_0097_member; RESET ROLE")
    lead_revokes = lead_grants.replace("GRANT", "REVOKE").replace(" TO ", " FROM ")
    member_may = "SELECT has_function_privilege('t_0097_member', 'pgscore.version_drift(text, integer)', 'EXECUTE')"

    def the_lead_granted_it_and_can_revoke_it():
        # made as the owner, each would name the owner: the lead's REVOKE would match none and leave them
        (now,) = query(db_url, state)
        assert "t_0097_member=X/t_0097_lead" in now[2], now[2]
        assert "t_0097_member=r/t_0097_lead" in now[0] and "t_0097_member=r/t_0097_lead" in now[4]["psi"][0], now
        assert query(db_url, member_may) == [(True,)]
        query(db_url, lead_revokes)
        (now,) = query(db_url, state)  # (the view's SELECT is PUBLIC's too: its ACL says the member's went)
        assert query(db_url, member_may) == [(False,)] and "t_0097_member" not in repr(now), now
        query(db_url, lead_grants)

    query(db_url, lead_grants)
    state = """
        SELECT (SELECT array_agg(a::text ORDER BY a::text) FROM unnest(c.relacl) a), c.relowner::regrole::text,
               (SELECT array_agg(a::text ORDER BY a::text) FROM unnest(p.proacl) a), p.proowner::regrole::text,
               (SELECT jsonb_object_agg(t.attname, jsonb_build_array(t.attacl::text, col_description(c.oid, t.attnum)))
                  FROM pg_attribute t WHERE t.attrelid = c.oid AND t.attnum > 0 AND t.attname NOT IN ('checks', 'status')),
               obj_description(p.oid, 'pg_proc'), p.prosecdef, p.provolatile, p.proconfig,
               obj_description(c.oid, 'pg_class'),
               (SELECT col_description(c.oid, t.attnum) FROM pg_attribute t WHERE t.attrelid = c.oid AND t.attname = 'status')
          FROM pg_class c, pg_proc p
         WHERE c.oid = 'pgscore.drift_by_day'::regclass AND p.oid = 'pgscore.version_drift(text, integer)'::regprocedure"""
    checks = ("SELECT (SELECT count(*) FROM pg_attribute WHERE attrelid = 'pgscore.drift_by_day'::regclass "
              "AND attname = 'checks' AND col_description(attrelid, attnum) <> ''), "
              "(SELECT count(*) FROM pg_proc WHERE oid = 'pgscore.version_drift(text, integer)'::regprocedure "
              "AND 'checks' = ANY (proargnames))")
    (before,) = query(db_url, state)
    assert '"Grafana Reader"=r*/t_views_owner' in before[0] and "=r/t_views_owner" in before[0]
    assert '"Grafana Reader"=X*/postgres' in before[2] and "pgscore_reader=X/postgres" in before[2]
    assert before[1] == "t_views_owner" and before[3] == "postgres"
    assert before[4]["psi"][1] == "our dashboard's y axis" and before[4]["model"][0] is not None
    assert before[5] == "DBA function comment" and before[9] == "DBA view comment"
    assert before[10] == "DBA status comment"
    assert query(db_url, checks) == [(1, 1)]
    query(db_url, "CREATE VIEW public.held AS SELECT model, psi FROM pgscore.drift_by_day")
    with pytest.raises(InstallError) as e:
        migrate.downgrade(db_url, "0094")
    assert "public.held of yours depend on it" in e.value.detail and "CASCADE" not in str(e.value)
    assert "pg_get_viewdef" in e.value.hint and migrate.current(db_url) == migrate.head()
    query(db_url, "DROP VIEW public.held")
    migrate.downgrade(db_url, "0094")
    the_lead_granted_it_and_can_revoke_it()
    assert query(db_url, state) == [before] and query(db_url, checks) == [(0, 0)]
    query(db_url, "CREATE VIEW public.held AS SELECT * FROM pgscore.version_drift('churn', 1)")  # the upgrade's
    with pytest.raises(InstallError) as e:
        migrate.upgrade(db_url)
    assert "public.held of yours depend on it" in e.value.detail and "CASCADE" not in str(e.value)
    assert migrate.current(db_url) == "0094"
    query(db_url, "DROP VIEW public.held")
    migrate.upgrade(db_url)
    the_lead_granted_it_and_can_revoke_it()
    assert query(db_url, state) == [before] and query(db_url, checks) == [(1, 1)]
    # a lead that may no longer act (its USAGE on the schema revoked since): its grants are made as the owner, and
    # the migration goes on, each way
    for step in (lambda: migrate.downgrade(db_url, "0094"), lambda: migrate.upgrade(db_url)):
        query(db_url, f"GRANT USAGE ON SCHEMA pgscore TO t_0097_lead; {lead_revokes}; {lead_grants}; "
                      "REVOKE USAGE ON SCHEMA pgscore FROM t_0097_lead")
        step()
        assert "t_0097_member=X/postgres" in query(db_url, state)[0][2]
    query(db_url, 'REVOKE ALL ON pgscore.drift_by_day FROM "Grafana Reader", PUBLIC, t_0097_lead, t_0097_member CASCADE')
    query(db_url, 'REVOKE ALL ON FUNCTION pgscore.version_drift(text, integer) FROM "Grafana Reader", t_0097_lead, '
                  't_0097_member CASCADE')
    query(db_url, "REVOKE USAGE ON SCHEMA pgscore FROM t_0097_lead")
    query(db_url, "ALTER VIEW pgscore.drift_by_day OWNER TO postgres")
    query(db_url, 'DROP ROLE "Grafana Reader"')
    query(db_url, "DROP ROLE t_0097_member; DROP ROLE t_0097_lead")
    query(db_url, "DROP OWNED BY t_views_owner; DROP ROLE t_views_owner")


def test_0128_keeps_predictions_owner_comments_and_every_grant(db_url):
    """0128 appends features_by_name to pgscore.predictions in place; its downgrade drops the view and makes it
    again: the owner, a DBA's comments (the view's, a column's), grants on the view and a column, and a
    grant-option chain with its grantors come back; a view of the user's on it stops the downgrade, named."""
    _keeps_predictions_owner_comments_and_every_grant(db_url, "0127", "features_by_name")


def test_0139_keeps_predictions_owner_comments_and_every_grant(db_url):
    """0139 appends written_by to pgscore.predictions in place (and to the log); its downgrade makes the view
    again as 0128's does, and drops the log's column."""
    _keeps_predictions_owner_comments_and_every_grant(db_url, "0138", "written_by")
    assert query(db_url, "SELECT column_default FROM information_schema.columns WHERE table_schema = 'pgscore' "
                         "AND table_name = 'prediction_log' AND column_name = 'written_by'") == [("SESSION_USER",)]


def _keeps_predictions_owner_comments_and_every_grant(db_url, down_to, column):
    # (every column's grants, and the comment the DBA set, on score: pgscore's own columns' comments are the
    # revision's, and 0139 rewords cause's, which a downgrade to 0127 gives back as 0127 had it)
    for role in ("t_0128_owner", "t_0128_lead", "t_0128_member"):
        ensure_role(db_url, role)
    query(db_url, "GRANT USAGE ON SCHEMA pgscore TO t_0128_lead")
    query(db_url, "GRANT SELECT ON pgscore.predictions TO t_0128_lead WITH GRANT OPTION")
    query(db_url, "GRANT SELECT (score) ON pgscore.predictions TO t_0128_member")
    query(db_url, "COMMENT ON COLUMN pgscore.predictions.score IS 'our dashboard''s y axis'")
    query(db_url, "COMMENT ON VIEW pgscore.predictions IS 'DBA view comment'")
    query(db_url, "ALTER VIEW pgscore.predictions OWNER TO t_0128_owner")
    query(db_url, "SET ROLE t_0128_lead; GRANT SELECT ON pgscore.predictions TO t_0128_member; RESET ROLE")
    state = """
        SELECT (SELECT array_agg(a::text ORDER BY a::text) FROM unnest(c.relacl) a), c.relowner::regrole::text,
               (SELECT jsonb_object_agg(t.attname, jsonb_build_array(
                           t.attacl::text, CASE WHEN t.attname = 'score' THEN col_description(c.oid, t.attnum) END))
                  FROM pg_attribute t WHERE t.attrelid = c.oid AND t.attnum > 0
                   AND t.attname NOT IN ('features_by_name', 'written_by')),
               obj_description(c.oid, 'pg_class')
          FROM pg_class c WHERE c.oid = 'pgscore.predictions'::regclass"""
    has = ("SELECT count(*) FROM pg_attribute WHERE attrelid = 'pgscore.predictions'::regclass "
           "AND attname = %s AND col_description(attrelid, attnum) <> ''", (column,))
    (before,) = query(db_url, state)
    assert "t_0128_member=r/t_0128_lead" in before[0] and "t_0128_lead=r*/t_0128_owner" in before[0], before
    assert "pgscore_reader=r/t_0128_owner" in before[0] and before[1] == "t_0128_owner"
    assert before[2]["score"] == ["{t_0128_member=r/t_0128_owner}", "our dashboard's y axis"]
    assert before[3] == "DBA view comment" and query(db_url, *has) == [(1,)]
    query(db_url, "CREATE VIEW public.held AS SELECT model, score FROM pgscore.predictions")
    with pytest.raises(InstallError) as e:
        migrate.downgrade(db_url, down_to)
    assert "public.held of yours depend on it" in e.value.detail and "pg_get_viewdef" in e.value.hint
    assert migrate.current(db_url) == migrate.head()
    query(db_url, "DROP VIEW public.held")
    migrate.downgrade(db_url, down_to)
    assert query(db_url, state) == [before] and query(db_url, *has) == [(0,)]
    migrate.upgrade(db_url)
    assert query(db_url, state) == [before] and query(db_url, *has) == [(1,)]
    query(db_url, "REVOKE ALL ON pgscore.predictions FROM t_0128_lead, t_0128_member CASCADE")
    query(db_url, "REVOKE USAGE ON SCHEMA pgscore FROM t_0128_lead")
    query(db_url, "ALTER VIEW pgscore.predictions OWNER TO postgres")
    query(db_url, "DROP ROLE t_0128_member; DROP ROLE t_0128_lead")
    query(db_url, "DROP OWNED BY t_0128_owner; DROP ROLE t_0128_owner")


def test_0091_keeps_a_grant_option_chain_with_its_grantors(db_url):
    """A DBA grants SELECT on window_checks (a column of it, and EXECUTE on check_rows) WITH GRANT OPTION, and
    that grantee grants it on to a third role: 0091's downgrade and upgrade make each grant again as its grantor
    made it (they made every grant as the owner, so the third role's grantor was lost: the grantee could no
    longer revoke it, and revoking the grantee's CASCADE left the third role its access)."""
    for role in ("t_chain_lead", "t_chain_member"):
        ensure_role(db_url, role)  # roles outlive a failed run's database
    query(db_url, "GRANT USAGE ON SCHEMA pgscore TO t_chain_lead")
    query(db_url, "GRANT SELECT ON pgscore.window_checks TO t_chain_lead WITH GRANT OPTION")
    query(db_url, "GRANT SELECT (metric) ON pgscore.window_checks TO t_chain_lead WITH GRANT OPTION")
    query(db_url, "GRANT EXECUTE ON FUNCTION pgscore.check_rows(jsonb) TO t_chain_lead WITH GRANT OPTION")
    query(db_url, "SET ROLE t_chain_lead; GRANT SELECT ON pgscore.window_checks TO t_chain_member; "
                  "GRANT SELECT (metric) ON pgscore.window_checks TO t_chain_member; "
                  "GRANT EXECUTE ON FUNCTION pgscore.check_rows(jsonb) TO t_chain_member; RESET ROLE")
    acl = """
        SELECT (SELECT array_agg(a::text ORDER BY a::text) FROM unnest(c.relacl) a),
               (SELECT array_agg(a::text ORDER BY a::text) FROM unnest(t.attacl) a),
               (SELECT array_agg(a::text ORDER BY a::text) FROM unnest(p.proacl) a)
          FROM pg_class c, pg_attribute t, pg_proc p
         WHERE c.oid = 'pgscore.window_checks'::regclass AND t.attrelid = c.oid AND t.attname = 'metric'
           AND p.oid = 'pgscore.check_rows(jsonb)'::regprocedure"""
    (before,) = query(db_url, acl)
    assert all("t_chain_member=r/t_chain_lead" in a for a in before[:2]), before
    assert "t_chain_member=X/t_chain_lead" in before[2], before
    migrate.downgrade(db_url, "0090")
    assert query(db_url, acl) == [before]
    migrate.upgrade(db_url)
    assert query(db_url, acl) == [before]
    # what the grantor is for: revoking the lead's grant option takes the member's grants with it
    query(db_url, "REVOKE SELECT ON pgscore.window_checks FROM t_chain_lead CASCADE")
    query(db_url, "REVOKE SELECT (metric) ON pgscore.window_checks FROM t_chain_lead CASCADE")
    query(db_url, "REVOKE EXECUTE ON FUNCTION pgscore.check_rows(jsonb) FROM t_chain_lead CASCADE")
    assert query(db_url, "SELECT has_table_privilege('t_chain_member', 'pgscore.window_checks', 'SELECT'), "
                         "has_column_privilege('t_chain_member', 'pgscore.window_checks', 'metric', 'SELECT'), "
                         "has_function_privilege('t_chain_member', 'pgscore.check_rows(jsonb)', 'EXECUTE')") == [
        (False, False, False)]
    # a grantor that may no longer act (its USAGE on the schema revoked since): the grant is made as the owner,
    # as before, and the migration goes on
    query(db_url, "GRANT SELECT ON pgscore.window_checks TO t_chain_lead WITH GRANT OPTION")
    query(db_url, "SET ROLE t_chain_lead; GRANT SELECT ON pgscore.window_checks TO t_chain_member; RESET ROLE")
    query(db_url, "REVOKE USAGE ON SCHEMA pgscore FROM t_chain_lead")
    migrate.downgrade(db_url, "0090")
    assert "t_chain_member=r/postgres" in query(db_url, acl)[0][0]
    migrate.upgrade(db_url)
    query(db_url, "REVOKE ALL ON pgscore.window_checks FROM t_chain_lead, t_chain_member CASCADE")
    query(db_url, "DROP ROLE t_chain_member; DROP ROLE t_chain_lead")


def test_a_schema_newer_than_this_pgscore_says_so(db_url):
    """A database installed by a newer pgscore (a revision this one does not know): install and uninstall
    say so and what to do, not alembic's bare "Can't locate revision identified by '9999'"."""
    query(db_url, f"UPDATE {migrate.VERSION_TABLE} SET version_num = '9999'")
    for act in (lambda: migrate.upgrade(db_url), lambda: migrate.downgrade(db_url, "base")):
        with pytest.raises(InstallError) as e:
            act()
        assert e.value.message.startswith(f"this database's pgscore schema is newer than this pgscore (head {migrate.head()})")
        assert "run the pgscore that installed it" in e.value.hint and "9999" in e.value.detail
    query(db_url, f"UPDATE {migrate.VERSION_TABLE} SET version_num = %s", (migrate.head(),))


def test_a_schema_whose_version_table_was_dropped_says_how_to_record_it_again(db_url):
    """Another alembic project's autogenerate dropped pgscore_alembic_version: install says what happened
    and the SQL that records the revision again; run as printed, install and status work again."""
    query(db_url, f"DROP TABLE {migrate.VERSION_TABLE}")
    with pytest.raises(InstallError) as e:
        migrate.upgrade(db_url)
    assert e.value.message.startswith("this database has a pgscore schema but not the table that records its revision")
    fix = e.value.hint.split(": ", 1)[1].split("; then run the install again")[0]
    query(db_url, fix)
    assert migrate.current(db_url) == migrate.head()
    migrate.upgrade(db_url)  # nothing to do, no error


def test_a_schema_only_restore_says_its_revision_table_is_empty_and_how_to_record_it(db_url):
    """pg_dump --schema-only restores the version table without its row: install and status say so (not
    that the table was dropped, with a CREATE TABLE that fails on it), and the INSERT their hint gives works."""
    query(db_url, f"DELETE FROM {migrate.VERSION_TABLE}")
    with pytest.raises(InstallError) as e:
        migrate.upgrade(db_url)
    assert e.value.message.startswith(f"this database has a pgscore schema, and the table that records its revision "
                                      f"(public.{migrate.VERSION_TABLE}) is empty"), e.value.message
    assert "CREATE TABLE" not in e.value.hint
    run = pgscore_cli("status", "--db", db_url)
    assert run.returncode == 1 and "is empty" in run.stderr and "not installed" not in run.stderr, run.stderr
    fix = e.value.hint.split(": ", 1)[1].split("; then run the install again")[0]
    query(db_url, fix)
    assert migrate.current(db_url) == migrate.head()
    migrate.upgrade(db_url)  # nothing to do, no error
    assert pgscore_cli("status", "--db", db_url).returncode == 0


def test_a_schema_restored_without_plpython_says_so(db_url):
    """pg_dump -n pgscore (or -n public -n pgscore) leaves extensions out: restored, the tables are there and
    every PL/Python function is not. install and status name PL/Python, not a function that does not exist."""
    query(db_url, "DROP EXTENSION plpython3u CASCADE")  # what such a restore leaves: no language, no functions
    for act in (lambda: migrate.upgrade(db_url), lambda: pgscore_cli("status", "--db", db_url)):
        try:
            run = act()
        except InstallError as e:
            text = f"{e.message}\n{e.hint}"
        else:
            assert run.returncode == 1
            text = run.stderr
        assert "has a pgscore schema but no PL/Python (plpython3u)" in text, text
        assert "CREATE EXTENSION plpython3u" in text and "restore the dump again" in text, text
        assert "42883" not in text


def test_deploying_to_a_schema_behind_this_pgscore_says_so(empty_db_url, tmp_path):
    """The checks a deployment gets from the server are its schema's revision's: deploy, activate and
    rollback to an older schema note that it is behind, and how to upgrade it; at head they say nothing."""
    import joblib

    migrate.upgrade(empty_db_url, "0022")
    X, Y, NAMES = datasets.churn(300, seed=3)
    path = tmp_path / "m.joblib"
    joblib.dump(LogisticRegression(max_iter=500).fit(X, Y), path)
    deploy = ["deploy", str(path), "--name", "m", "--features", ",".join(NAMES), "--db", empty_db_url]
    for args in (deploy, ["activate", "m", "1", "--db", empty_db_url]):
        run = pgscore_cli(*args)
        assert run.returncode == 0, run.stderr
        assert (f"note: this database's pgscore schema is at revision 0022, behind this pgscore's {migrate.head()}"
                in run.stderr), run.stderr
        assert f"upgraded with: pgscore {hinted(empty_db_url)}install" in run.stderr, run.stderr
    migrate.upgrade(empty_db_url)
    run = pgscore_cli(*deploy)
    assert run.returncode == 0 and "note: this database" not in run.stderr, run.stderr


def test_commands_on_a_schema_that_lacks_a_table_they_read_say_to_upgrade(empty_db_url):
    """`pgscore retire` and `status` read pgscore.rescoring and pgscore.evaluators themselves: on a schema
    before 0004 (0003 here) they stopped with `relation "pgscore.rescoring" does not exist` and no more.
    They say the schema may be older than this pgscore, and how to upgrade it, as the registry's calls do."""
    migrate.upgrade(empty_db_url, "0003")
    for args in (["retire", "churn"], ["status"]):
        run = pgscore_cli(*args, "--db", empty_db_url)
        assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
        assert "pgscore: error: pgscore is not installed in this database, or its schema is older than this " \
               "pgscore (relation \"pgscore." in run.stderr, run.stderr
        assert f"Hint: install or upgrade it with: pgscore {hinted(empty_db_url)}install" in run.stderr, run.stderr


def test_commands_on_a_schema_that_lacks_a_column_or_table_they_read_say_to_upgrade(empty_db_url):
    """On a schema at 0002, `pgscore models` and `show` said `column "engine" does not exist` (their query reads
    the view's later columns), and drift, retry and refresh-windows the relation or function missing, with no
    hint; retire and status said to upgrade. Each says the schema may be older than this pgscore, and how to
    upgrade it, now (drift, retry and refresh-windows with their exit 3, the others 1)."""
    migrate.upgrade(empty_db_url, "0002", check_environment=False)
    query(empty_db_url, "CREATE TABLE t (k integer PRIMARY KEY, a float8, s float8)")
    for args, status in ((["models"], 1), (["show", "m"], 1), (["show", "m", "--version", "1"], 1), (["drift"], 3),
                         (["retry"], 3), (["refresh-windows"], 3),
                         (["score", "--model", "m", "--table", "t", "--key", "k", "--into", "s"], 1)):
        run = pgscore_cli(*args, "--db", empty_db_url)
        assert run.returncode == status and "Traceback" not in run.stderr, (args, run.stderr)
        assert run.stderr.startswith("pgscore: error: pgscore is not installed in this database, or its schema is "
                                     "older than this pgscore ("), (args, run.stderr)
        assert f"Hint: install or upgrade it with: pgscore {hinted(empty_db_url)}install" in run.stderr, run.stderr
    run = pgscore_cli("models", "--db", empty_db_url)
    assert '(column "engine" does not exist): its revision is 0002, this pgscore\'s ' in run.stderr, run.stderr
    assert "(SQLSTATE 42703)" in run.stderr, run.stderr


# The two functions migration 0060 made at its first commit (1b85b52, on main from 18:12 to 18:28 on 2026-12-02,
# before it was rewritten at its integration, 9621c69), with their signatures and attributes; their bodies here
# do nothing (what a later revision runs into is the signature alone).
STALE_0060 = """
CREATE FUNCTION pgscore.load_or_refuse(p_model_id bigint, p_refusal text, p_fix text, p_live boolean)
RETURNS void LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp
AS $fn$ BEGIN END $fn$;
REVOKE EXECUTE ON FUNCTION pgscore.load_or_refuse(bigint, text, text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgscore.load_or_refuse(bigint, text, text, boolean) TO pgscore_admin;
CREATE OR REPLACE FUNCTION pgscore.set_shadow(p_name text, p_version integer, p_reason text DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp
AS $fn$ BEGIN RETURN NULL; END $fn$;
"""


def test_a_schema_built_at_0060s_first_commit_upgrades_to_what_head_defines(db_url, empty_db_url):
    """A database built at migration 0060's first commit holds set_shadow(text, integer, text) beside 0057's
    set_shadow with p_force, and load_or_refuse with a fourth argument; no later revision replaced them, so
    upgraded to head it kept both, and `pgscore shadow` (every set_shadow call without p_force) failed for
    ever: `function pgscore.set_shadow(unknown, integer, unknown) is not unique` (42725). 0076 drops them:
    the upgraded schema is the one head builds, and set_shadow answers (here: no such model)."""
    migrate.upgrade(empty_db_url, "0060")
    query(empty_db_url, STALE_0060)
    migrate.upgrade(empty_db_url)
    assert query(empty_db_url, "SELECT p.oid::regprocedure::text FROM pg_proc p WHERE p.pronamespace = "
                               "'pgscore'::regnamespace AND p.proname IN ('set_shadow', 'load_or_refuse') "
                               "ORDER BY 1") == \
        [("pgscore.load_or_refuse(bigint,text,text)",), ("pgscore.set_shadow(text,integer,text,boolean)",)]
    assert catalog(empty_db_url) == catalog(db_url)
    run = pgscore_cli("shadow", "nosuch", "2", "--db", empty_db_url)
    assert run.returncode != 0 and "there is no model 'nosuch'" in run.stderr, run.stderr
    assert "42725" not in run.stderr and "not unique" not in run.stderr, run.stderr
    migrate.downgrade(empty_db_url, "0075")  # makes neither again
    assert query(empty_db_url, "SELECT count(*) FROM pg_proc WHERE proname IN ('set_shadow', 'load_or_refuse') "
                               "AND pronargs IN (3, 4) AND NOT (proname = 'set_shadow' AND pronargs = 4) "
                               "AND NOT (proname = 'load_or_refuse' AND pronargs = 3)") == [(0,)]


def test_an_install_that_fails_in_a_revision_names_it_and_what_a_schema_built_between_releases_needs(empty_db_url):
    """A database built at migration 0015's first commit (35fedb4) holds score_table without p_commit, where
    0015's final text made it with p_commit: 0028's DROP of that one fails. The install named neither the
    revision nor the reason ("installing pgscore failed; nothing was changed", the server's message alone); it
    names the revision and its file, and, for an object missing or already there, what to do. Nothing changes."""
    migrate.upgrade(empty_db_url, "0027")
    query(empty_db_url, """
        DROP PROCEDURE pgscore.score_table(text, regclass, name, name, integer, integer, boolean, bigint, boolean);
        CREATE PROCEDURE pgscore.score_table(p_model text, p_table regclass, p_key name, p_into name,
            p_chunk_size integer DEFAULT 10000, p_version integer DEFAULT NULL, p_log boolean DEFAULT true,
            INOUT p_rows bigint DEFAULT NULL) LANGUAGE plpgsql AS $$ BEGIN END $$""")
    with pytest.raises(InstallError) as e:
        migrate.upgrade(empty_db_url)
    assert e.value.message == ("installing pgscore failed in revision 0028 "
                               "(migrations/versions/0028_score_table_resume/upgrade.sql); nothing was changed")
    assert e.value.__cause__.pgcode == "42883" and "pgscore.score_table(" in e.value.detail, e.value.detail
    assert e.value.hint.startswith("this database's pgscore objects are not what the revisions before 0028 build: "
                                   "a pgscore of a commit between releases built it"), e.value.hint
    assert "downgrade it to a revision before the ones that differ" in e.value.hint
    assert migrate.current(empty_db_url) == "0027"
    run = pgscore_cli("install", "--db", empty_db_url)
    assert run.returncode != 0 and "failed in revision 0028" in run.stderr and "Hint: this database's" in run.stderr


def test_schemas_built_either_side_of_midnight_compare_equal(db_url):
    """The log's daily partitions are named by the day they were made for: the same schema made a day later
    (as by a test's install after midnight, UTC) compares equal."""
    def partitions_from(day):
        query(db_url, """
            DO $$ DECLARE r record; BEGIN
              FOR r IN SELECT c.oid::regclass AS part FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                        WHERE i.inhparent = 'pgscore.prediction_log'::regclass AND c.relname ~ '^prediction_log_[0-9]{8}$'
              LOOP EXECUTE format('DROP TABLE %s', r.part); END LOOP;
            END $$""")
        assert query(db_url, "SELECT pgscore.create_log_partitions(7, (now() AT TIME ZONE 'UTC')::date + %s)",
                     (day,)) == [(8,)]
        return catalog(db_url)

    today = partitions_from(0)
    assert sum(row[:2] == ("relation", "pgscore.prediction_log_<day>") for row in today) == 8
    assert partitions_from(1) == today


def test_0029_refuses_a_drift_window_shorter_than_5_minutes_and_says_which(empty_db_url):
    """A window written as a bare number ('30': seconds to PostgreSQL) stops the upgrade to 0029 before
    anything changes, naming it; fixed, the upgrade goes through and the new check holds."""
    migrate.upgrade(empty_db_url, "0028")
    query(empty_db_url, "INSERT INTO pgscore.drift_windows (window_name, length, sort_order) VALUES ('30', '30', 9)")
    with pytest.raises(InstallError) as e:
        migrate.upgrade(empty_db_url, "0029")
    assert "drift window 30 is 00:00:30 long; a window is now at least 5 minutes" in str(e.value), str(e.value)
    assert migrate.current(empty_db_url) == "0028"
    query(empty_db_url, "UPDATE pgscore.drift_windows SET length = '30 days' WHERE window_name = '30'")
    migrate.upgrade(empty_db_url, "0029")
    with pytest.raises(psycopg2.errors.CheckViolation):
        query(empty_db_url, "INSERT INTO pgscore.drift_windows (window_name, length) VALUES ('7', '7')")
    query(empty_db_url, "INSERT INTO pgscore.drift_windows (window_name, length) VALUES ('5 minutes', '5 minutes')")
    migrate.downgrade(empty_db_url, "base")


def test_0035_takes_an_outcome_recorded_at_infinity_as_observed_when_recorded(empty_db_url):
    """Outcomes recorded at infinity before 0035 (which refuses it) judged each newer prediction in turn: the
    upgrade takes them as observed when they were recorded, to be paired again by the next refresh, and
    leaves the others as they are."""
    migrate.upgrade(empty_db_url, "0034")
    X, y, names = datasets.churn(300, seed=2)
    registry.deploy(empty_db_url, "churn", LogisticRegression(max_iter=500).fit(X, y), X, y, feature_names=names)
    query(empty_db_url, "INSERT INTO pgscore.prediction_log (model_id, entity_key, features, score, source, logged_at) "
                        "SELECT 1, k, '{1}', s, 'query', now() - interval '1 hour' "
                        "FROM (VALUES ('a', 0.1), ('b', 0.2)) AS v(k, s)")
    for key, when in (("a", "infinity"), ("b", "now")):
        query(empty_db_url, "SELECT pgscore.record_outcome('churn', %s, 1, %s::timestamptz)", (key, when))
    query(empty_db_url, "UPDATE pgscore.outcomes SET recorded_at = now() - interval '10 minutes'")
    (kept,), = query(empty_db_url, "SELECT observed_at FROM pgscore.outcomes WHERE entity_key = 'b'")
    migrate.upgrade(empty_db_url)
    rows = query(empty_db_url, "SELECT entity_key, observed_at = recorded_at, judged_at IS NULL FROM pgscore.outcomes "
                               "ORDER BY entity_key")
    assert rows == [("a", True, True), ("b", False, False)], rows
    assert query(empty_db_url, "SELECT observed_at FROM pgscore.outcomes WHERE entity_key = 'b'") == [(kept,)]
    query(empty_db_url, "SELECT * FROM pgscore.refresh_monitoring()")
    assert query(empty_db_url, "SELECT entity_key, judged_score FROM pgscore.outcomes ORDER BY 1") == \
        [("a", 0.1), ("b", 0.2)]
    migrate.downgrade(empty_db_url, "base")


def test_a_restore_of_the_pgscore_schema_alone_names_the_version_table_it_left_out(db_url):
    """pg_dump -n pgscore leaves out public.pgscore_alembic_version (the install makes it where an unqualified
    name lands): install and status blamed another alembic project's autogenerate alone, and the fix offered
    was guessing the revision; the table from the database dumped records the one the dump's schema has."""
    query(db_url, f"DROP TABLE {migrate.VERSION_TABLE}")
    with pytest.raises(InstallError) as e:
        migrate.upgrade(db_url)
    assert "left out of a dump taken with pg_dump -n pgscore" in e.value.message, e.value.message
    assert f"pg_dump -t public.{migrate.VERSION_TABLE}" in e.value.message
    run = pgscore_cli("status", "--db", db_url)
    assert run.returncode == 1 and "pg_dump -n pgscore" in run.stderr, run.stderr


def test_0044_downgrade_relabels_refresh_rows_of_the_append_only_log(empty_db_url):
    """0044's downgrade relabels the log's 'refresh' audit rows 'retry' so that 0043's CHECK holds again: the
    log is append-only (a row trigger refuses every UPDATE), so the relabelling must get past it, in every
    partition, and leave the trigger on afterwards."""
    migrate.upgrade(empty_db_url, "0044")
    query(empty_db_url, "SELECT pgscore.create_log_partitions(1)")
    X, y, names = datasets.churn(300, seed=2)
    registry.deploy(empty_db_url, "churn", LogisticRegression(max_iter=500).fit(X, y), X, y, feature_names=names)
    query(empty_db_url, "INSERT INTO pgscore.prediction_log (model_id, entity_key, features, score, source, logged_at) "
                        "SELECT 1, k, '{1}', 0.5, s, t FROM (VALUES ('a', 'refresh', now()), "
                        "('b', 'refresh', now() - interval '400 days'), ('c', 'trigger', now())) AS v(k, s, t)")
    migrate.downgrade(empty_db_url, "0043")
    assert query(empty_db_url, "SELECT entity_key, source FROM pgscore.prediction_log ORDER BY 1") == \
        [("a", "retry"), ("b", "retry"), ("c", "trigger")]
    with pytest.raises(psycopg2.Error, match="append-only"):  # the trigger is on again, on every partition
        query(empty_db_url, "UPDATE pgscore.prediction_log SET score = 0.4 WHERE entity_key = 'a'")
    with pytest.raises(psycopg2.Error, match="append-only"):
        query(empty_db_url, "UPDATE pgscore.prediction_log_default SET score = 0.4")
    migrate.upgrade(empty_db_url)
    migrate.downgrade(empty_db_url, "base")


def test_0121_downgrade_writes_the_activations_as_0120_wrote_them(empty_db_url):
    """0121's activate appends 'activate' and a go-live of a shadow appends its stop; the downgrade turns the
    'activate' rows into the 'deploy' 0120's activate wrote (past the deployments' immutability trigger, which is
    on again after), so that 0120's CHECK and code read them; the stops stay. Upgraded again, activate appends
    'activate' again."""
    migrate.upgrade(empty_db_url)
    X, y, names = datasets.churn(300, seed=2)
    est = LogisticRegression(max_iter=500).fit(X, y)
    registry.deploy(empty_db_url, "churn", est, X, y, feature_names=names)
    registry.deploy(empty_db_url, "churn", est, X, y, feature_names=names, activate=False)
    registry.set_shadow(empty_db_url, "churn", 2)
    registry.activate(empty_db_url, "churn", 2, reason="RF better?")
    actions = "SELECT model_id, action, reason FROM pgscore.deployments ORDER BY deployment_id"
    assert query(empty_db_url, actions) == [(1, "deploy", None), (2, "activate", "RF better?")]
    stops = "SELECT model_id, action, reason FROM pgscore.shadows ORDER BY shadow_id"
    assert query(empty_db_url, stops) == [(2, "start", None), (2, "stop", "made live by activate")]
    migrate.downgrade(empty_db_url, "0120")
    assert query(empty_db_url, actions) == [(1, "deploy", None), (2, "deploy", "RF better?")]
    assert query(empty_db_url, stops) == [(2, "start", None), (2, "stop", "made live by activate")]
    with pytest.raises(psycopg2.Error, match="immutable"):
        query(empty_db_url, "UPDATE pgscore.deployments SET reason = 'x'")
    registry.activate(empty_db_url, "churn", 1)  # 0120's activate and CHECK: a 'deploy'
    assert query(empty_db_url, actions)[-1] == (1, "deploy", None)
    assert registry.show(empty_db_url, "churn")["version"] == 1
    migrate.upgrade(empty_db_url)
    registry.activate(empty_db_url, "churn", 2)
    assert query(empty_db_url, actions)[-1] == (2, "activate", None)
    migrate.downgrade(empty_db_url, "base")


def test_0130_keeps_a_dbas_grants_on_score_table_and_score_chunk(empty_db_url):
    """0130 drops and re-makes score_table and score_chunk (a parameter appended): a DBA's grant of either to a role
    of its own (an ETL login that is no member of pgscore_app) is made again on the new signature, up and down
    (review r5: the ETL job's CALL failed with 42501 after the upgrade)."""
    old = {"score_table": "pgscore.score_table(text, regclass, name, name, integer, integer, boolean, bigint, boolean, "
                          "text, interval, name)",
           "score_chunk": "pgscore.score_chunk(text, regclass, name, name, text, integer, integer, boolean, name)"}
    new = {"score_table": old["score_table"][:-1] + ", name)", "score_chunk": old["score_chunk"][:-1] + ", name)"}
    migrate.upgrade(empty_db_url, "0129")
    query(empty_db_url, "DROP ROLE IF EXISTS r5_etl")
    query(empty_db_url, "CREATE ROLE r5_etl")
    query(empty_db_url, f"GRANT EXECUTE ON PROCEDURE {old['score_table']} TO r5_etl WITH GRANT OPTION")
    query(empty_db_url, f"GRANT EXECUTE ON FUNCTION {old['score_chunk']} TO r5_etl")

    def grants(sigs):
        return query(empty_db_url, "SELECT has_function_privilege('r5_etl', %s, 'EXECUTE'), "
                                   "has_function_privilege('r5_etl', %s, 'EXECUTE WITH GRANT OPTION'), "
                                   "has_function_privilege('r5_etl', %s, 'EXECUTE'), "
                                   "has_function_privilege('public', %s, 'EXECUTE')",
                     (sigs["score_table"], sigs["score_table"], sigs["score_chunk"], sigs["score_chunk"]))

    assert grants(old) == [(True, True, True, False)]
    migrate.upgrade(empty_db_url, "0130")
    assert grants(new) == [(True, True, True, False)]
    migrate.downgrade(empty_db_url, "0129")
    assert grants(old) == [(True, True, True, False)]
    migrate.downgrade(empty_db_url, "base")
    query(empty_db_url, "DROP ROLE r5_etl")


def _wired(url, label=None):
    """A deployed churn model and a wiring of events `ev` to profiles `p` (with a label column `lab` if asked)."""
    import json

    X, y, names = datasets.churn(300, seed=2)
    registry.deploy(url, "churn", LogisticRegression(max_iter=500).fit(X, y), X, y, feature_names=names)
    query(url, "CREATE TABLE p (id int PRIMARY KEY, " + ", ".join(f"{n} float8" for n in names)
          + ", score float8, scored_at timestamptz, lab text); CREATE TABLE ev (eid bigserial PRIMARY KEY, pid int)")
    query(url, f"INSERT INTO p (id, {', '.join(names)}) SELECT i, {', '.join(['1'] * len(names))} "
               "FROM generate_series(1, 5) i")
    query(url, "SELECT pgscore.attach_rescoring('ev', 'p', 'pid', 'churn', 'score', %s::jsonb, p_profile_key => 'id'"
               + (", p_label_column => 'lab'" if label else "") + ")", (json.dumps({"support_calls": "count"}),))


def test_a_downgrade_that_would_drop_what_users_wrote_is_refused_naming_it(db_url, tmp_path):
    """docs/operations.md (Going back): a downgrade past 0126, 0129 or 0119 drops the silences, the threshold
    overrides and the wirings' label columns written since; it did so with no word (a rollback for an hour, and
    upgrading again, lost the alert tuning). It is refused now, naming each revision and what it drops, with how
    to save the rows and the option that goes on (migrate.downgrade's drop_user_data, plain alembic's
    -x drop_user_data=yes); nothing changes meanwhile."""
    import subprocess
    import sys

    _wired(db_url, label=True)
    query(db_url, "SELECT pgscore.silence_alerts('churn', '2 days', 'INC-42', p_metric => 'auc_drop')")
    query(db_url, "SELECT pgscore.set_thresholds('churn', 'psi', p_warn => 0.5, p_alert => 2.0)")
    with pytest.raises(InstallError) as e:
        migrate.downgrade(db_url, "0118")
    said = str(e.value)
    assert e.value.sqlstate == "55000", said
    assert e.value.message.startswith("downgrading pgscore to revision 0118 would drop what users wrote"), said
    for line in ("0129 drops 1 threshold override (pgscore.drift_threshold_overrides)",
                 "0126 drops 1 silence (pgscore.alert_silences)",
                 "0119 drops 1 wiring's label column (pgscore.rescoring.label_column)"):
        assert line in e.value.detail, said
    assert "\\copy pgscore.alert_silences TO" in e.value.hint and "drop_user_data" in e.value.hint, said
    assert migrate.current(db_url) == migrate.head()
    assert query(db_url, "SELECT (SELECT count(*) FROM pgscore.alert_silences), "
                         "(SELECT count(*) FROM pgscore.drift_threshold_overrides), "
                         "(SELECT label_column FROM pgscore.rescoring)") == [(1, 1, "lab")]
    # plain alembic: the same, as alembic's FAILED (no traceback); -x drop_user_data=yes goes on
    alembic = [str(Path(sys.executable).with_name("alembic")), "-c", str(ROOT / "alembic.ini"), "-x", f"db_url={db_url}"]
    run = subprocess.run([*alembic, "downgrade", "0125"], capture_output=True, text=True, cwd=tmp_path)
    out = run.stdout + run.stderr
    assert run.returncode != 0 and "Traceback" not in out, out
    assert "0126 drops 1 silence (pgscore.alert_silences)" in out and "-x drop_user_data=yes" in out, out
    assert "0119" not in out and migrate.current(db_url) == migrate.head(), out
    # a value that is neither yes nor no is refused as such (it read as no, and the refusal named yes alone); no
    # says no
    for value, said in (("y", "-x drop_user_data=y: not yes or no; nothing was changed (SQLSTATE 22023)"),
                        ("no", "0126 drops 1 silence")):
        run = subprocess.run([*alembic, "-x", f"drop_user_data={value}", "downgrade", "0125"], capture_output=True,
                             text=True, cwd=tmp_path)
        out = run.stdout + run.stderr
        assert run.returncode != 0 and said in out and "Traceback" not in out, (value, out)
        assert migrate.current(db_url) == migrate.head(), out
    run = subprocess.run([*alembic, "-x", "drop_user_data=true", "downgrade", "0125"], capture_output=True, text=True,
                         cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert migrate.current(db_url) == "0125"
    migrate.downgrade(db_url, "0118", drop_user_data=True)
    assert migrate.current(db_url) == "0118"


def test_plain_alembic_waits_for_a_reader_s_lock_at_most_pgscore_s_lock_timeout(db_url, tmp_path):
    """Session 68: plain alembic ran with the server's lock_timeout, 0 by default: a downgrade (or an upgrade) whose
    revision waited for a table a long reader held (a BI query's transaction on pgscore.models) waited for ever, and
    every query of that table after it (a dashboard's) waited behind it as long. It waits at most pgscore's
    LOCK_TIMEOUT (10 s, as pgscore install's) now where nothing set lock_timeout, and fails changing nothing; a
    lock_timeout the session was given (PGOPTIONS here) is kept. failed before: the downgrade still waiting at 60 s."""
    import os
    import subprocess
    import sys
    import time

    alembic = [str(Path(sys.executable).with_name("alembic")), "-c", str(ROOT / "alembic.ini"), "-x", f"db_url={db_url}"]
    reader = psycopg2.connect(db_url)
    try:
        query(reader, "SELECT count(*) FROM pgscore.models")  # (its transaction left open: ACCESS SHARE held)
        begun = time.monotonic()
        try:
            run = subprocess.run([*alembic, "downgrade", "-1"], capture_output=True, text=True, cwd=tmp_path,
                                 timeout=60, env={k: v for k, v in os.environ.items() if k != "PGOPTIONS"})
        except subprocess.TimeoutExpired:
            raise AssertionError("plain alembic still waited for the reader's lock at 60 s") from None
        took = time.monotonic() - begun
        out = run.stdout + run.stderr
        assert run.returncode != 0 and "lock timeout" in out, out
        assert took >= 9, took  # (the wait is pgscore's 10 s, not a failure at once)
        assert migrate.current(db_url) == migrate.head()
        # a lock_timeout given to the session is kept: 1 s
        begun = time.monotonic()
        run = subprocess.run([*alembic, "downgrade", "-1"], capture_output=True, text=True, cwd=tmp_path, timeout=60,
                             env={**os.environ, "PGOPTIONS": "-c lock_timeout=1s"})
        out = run.stdout + run.stderr
        assert run.returncode != 0 and "lock timeout" in out and time.monotonic() - begun < 9, out
    finally:
        reader.rollback()
        reader.close()
    run = subprocess.run([*alembic, "downgrade", "-1"], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert migrate.current(db_url) != migrate.head()


def test_a_downgrade_past_0141_is_refused_where_retention_was_recorded(db_url):
    """0141's downgrade drops pgscore.log_retention, the record of every drop, redaction and erasure of the log (an
    auditor's evidence; review r6: a round trip lost it with no word, the redacted rows staying redacted with
    nothing to say why), and the owner's floors: refused now as the other revisions' users' rows are."""
    _wired(db_url)
    query(db_url, "SELECT pgscore.erase_entity('42')")
    query(db_url, "UPDATE pgscore.retention_policy SET keep_log = '7 years'")
    with pytest.raises(InstallError) as e:
        migrate.downgrade(db_url, "0140")
    said = str(e.value)
    assert e.value.sqlstate == "55000", said
    for line in ("0141 drops 1 retention record (pgscore.log_retention)",
                 "0141 drops 1 retention floor (pgscore.retention_policy)"):
        assert line in e.value.detail, said
    assert "\\copy pgscore.log_retention TO" in e.value.hint, said
    assert migrate.current(db_url) == migrate.head()
    assert query(db_url, "SELECT count(*) FROM pgscore.log_retention") == [(1,)]
    migrate.downgrade(db_url, "0140", drop_user_data=True)
    assert migrate.current(db_url) == "0140"


def test_a_downgrade_with_nothing_to_lose_goes_on_unasked(db_url):
    """A downgrade past revisions that would drop users' rows, where there are none, goes on as before."""
    _wired(db_url)
    query(db_url, "SELECT pgscore.set_thresholds('churn', 'psi', p_warn => 0.5, p_alert => 2.0)")
    query(db_url, "SELECT pgscore.clear_thresholds('churn')")
    migrate.downgrade(db_url, "0118")
    assert migrate.current(db_url) == "0118"


def _concurrently(failures, watch, app):
    """The deadlock tests' three helpers: run(what) in a thread, adding what it raised to `failures`; waiting(sql,
    args) until `watch` finds it true (at most 30 s); insert() of event 2 by `app`."""
    import time

    def run(what):
        try:
            what()
        except Exception as e:  # noqa: BLE001
            failures.append(e)

    def waiting(sql, args=()):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with watch.cursor() as cur:
                cur.execute(sql, args)
                if cur.fetchone()[0]:
                    return
            time.sleep(0.05)
        raise AssertionError(f"never: {sql}")

    def insert():
        with app.cursor() as cur:
            cur.execute("INSERT INTO ev (pid) VALUES (2)")

    return run, waiting, insert


@pytest.mark.parametrize("warm", [True, False])
def test_a_downgrade_does_not_deadlock_with_a_rescoring_insert(db_url, warm):
    """Under traffic every downgrade cancelled one single-row INSERT into a wired table with 40P01: the trigger
    takes pgscore.deployments, then models (a backend's first call reads pgscore.rescoring before them), and the
    downgrade took models (0135's DROP TRIGGER), then deployments (0121's). Made certain here: a session holds a
    table the downgrade drops between the two (0133's threshold_writes), so that it waits there holding models;
    the INSERT's trigger takes deployments and waits for models; the session ends. Now the downgrade takes the
    trigger's tables first, all at once or none (the INSERT waits for it, holding none of them)."""
    import threading

    _wired(db_url)
    blocker, app, watch = (psycopg2.connect(db_url) for _ in range(3))
    app.autocommit = watch.autocommit = True
    known = {c.get_backend_pid() for c in (blocker, app, watch)}
    if warm:
        with app.cursor() as cur:
            cur.execute("INSERT INTO ev (pid) VALUES (1)")
    with blocker.cursor() as cur:
        cur.execute("LOCK TABLE pgscore.threshold_writes IN ACCESS SHARE MODE")
    failures = []
    run, waiting, insert = _concurrently(failures, watch, app)

    down = threading.Thread(target=run, args=(lambda: migrate.downgrade(db_url, "0120", lock_timeout="60s"),))
    down.start()
    # the downgrade waits for threshold_writes, holding models (and, now, the trigger's other tables)
    waiting("SELECT EXISTS (SELECT 1 FROM pg_locks l WHERE NOT l.pid = ANY(%s) AND NOT l.granted "
            "AND l.relation = 'pgscore.threshold_writes'::regclass)", (list(known),))
    ins = threading.Thread(target=run, args=(insert,))
    ins.start()
    # warm, the trigger waits for models holding deployments; cold, for models holding rescoring and deployments
    waiting("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = %s AND NOT granted)", (app.get_backend_pid(),))
    blocker.rollback()
    down.join(60)
    ins.join(60)
    assert not failures, failures
    assert migrate.current(db_url) == "0120"
    assert query(db_url, "SELECT count(*) FROM ev WHERE pid = 2") == [(1,)]
    for c in (blocker, app, watch):
        c.close()


def test_a_downgrade_waits_for_the_trigger_s_tables_within_its_lock_timeout(db_url):
    """Taking the rescoring trigger's tables all at once (tried again and again), a downgrade still gives up after
    its lock_timeout, named as before (a session left in a transaction that read pgscore.models), changing nothing."""
    import time

    holder = psycopg2.connect(db_url)
    query(holder, "SELECT count(*) FROM pgscore.models")
    started = time.monotonic()
    with pytest.raises(InstallError) as e:
        migrate.downgrade(db_url, "0134", lock_timeout="1s")
    assert time.monotonic() - started < 8
    assert e.value.message == ("downgrading pgscore to revision 0134 waited too long for a lock another session holds "
                               "on one of pgscore's objects; nothing was changed"), str(e.value)
    assert "pg_stat_activity" in e.value.hint
    holder.rollback()
    holder.close()
    assert migrate.current(db_url) == migrate.head()
    migrate.downgrade(db_url, "0134")
    assert migrate.current(db_url) == "0134"


def test_an_upgrade_does_not_deadlock_with_a_rescoring_insert(db_url):
    """An upgrade from 0100 under the same load (measured: 1 of 3 upgrades cancelled an INSERT, 40P01) took
    pgscore.rescoring (0119's ADD COLUMN) and then deployments (0121's), where a warm trigger takes deployments,
    models, shadows, then rescoring (T15's upgrades, after a restart, met cold backends, which read rescoring first).
    Made certain: a session holds shadows, so the INSERT's trigger waits there holding deployments; the upgrade
    from 0118 starts; the session ends. Now an upgrade too takes the trigger's tables first, all at once or none."""
    import threading

    _wired(db_url)
    migrate.downgrade(db_url, "0118")
    blocker, app, watch = (psycopg2.connect(db_url) for _ in range(3))
    app.autocommit = watch.autocommit = True
    known = [c.get_backend_pid() for c in (blocker, app, watch)]
    with app.cursor() as cur:
        cur.execute("INSERT INTO ev (pid) VALUES (1)")
    with blocker.cursor() as cur:
        cur.execute("LOCK TABLE pgscore.shadows IN ACCESS EXCLUSIVE MODE")
    failures = []
    run, waiting, insert = _concurrently(failures, watch, app)

    ins = threading.Thread(target=run, args=(insert,))
    ins.start()
    waiting("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = %s AND NOT granted "
            "AND relation = 'pgscore.shadows'::regclass)", (app.get_backend_pid(),))
    up = threading.Thread(target=run, args=(lambda: migrate.upgrade(db_url, lock_timeout="60s",
                                                                     check_environment=False),))
    up.start()
    # the upgrade waits (for deployments, which the trigger holds; or, taking the trigger's tables at once, tries again)
    waiting("SELECT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = current_database() "
            "AND NOT a.pid = ANY(%s) AND (a.wait_event = 'PgSleep' OR EXISTS (SELECT 1 FROM pg_locks l "
            "WHERE l.pid = a.pid AND NOT l.granted)))", (known,))
    blocker.rollback()
    up.join(60)
    ins.join(60)
    assert not failures, failures
    assert migrate.current(db_url) == migrate.head()
    assert query(db_url, "SELECT count(*) FROM ev WHERE pid = 2") == [(1,)]
    for c in (blocker, app, watch):
        c.close()


def test_the_refusals_copy_commands_run_as_they_are_in_psql(db_url, tmp_path):
    """The refusal's hint gives psql's \\copy of each table it would drop rows of. They were joined with '; ' on one
    line: pasted into psql, the first \\copy took the rest of the line as its own ('syntax error at or near "\\"'),
    left an empty file and saved nothing of the others. Each is a line of its own now: the hint's \\copy lines, fed
    to psql as they are, save every row."""
    import subprocess

    _wired(db_url)
    query(db_url, "SELECT pgscore.silence_alerts('churn', '2 days', 'INC-42', p_metric => 'auc_drop')")
    query(db_url, "SELECT pgscore.set_thresholds('churn', 'psi', p_warn => 0.5, p_alert => 2.0)")
    with pytest.raises(InstallError) as e:
        migrate.downgrade(db_url, "0125")
    lines = [x for x in e.value.hint.splitlines() if x.startswith("\\copy")]
    assert len(lines) == 2, e.value.hint
    run = subprocess.run(["psql", "-X", "-v", "ON_ERROR_STOP=1", db_url], input="\n".join(lines) + "\n",
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    for name, rows in (("drift_threshold_overrides.csv", 1), ("alert_silences.csv", 1)):
        assert len((tmp_path / name).read_text().splitlines()) == 1 + rows, name


def test_a_downgrade_gets_the_trigger_s_tables_while_readers_overlap(db_url):
    """Taking the trigger's tables with NOWAIT alone, tried again every 20 ms, never found them all free while two
    readers' queries of pgscore.models overlapped (measured on a demo cluster: two BI sessions, 1 s queries half a
    second apart: the downgrade gave up after its 10 s, where a LOCK waiting its turn had them in 0.7 s). Between
    tries it now waits its turn for a table another session holds (holding none of the others), so that the readers
    coming after wait behind it."""
    import threading
    import time

    stop = time.monotonic() + 9
    failures = []

    def reader(offset):
        try:
            c = psycopg2.connect(db_url)
            c.autocommit = True
            time.sleep(offset)
            with c.cursor() as cur:
                while time.monotonic() < stop:
                    cur.execute("SELECT count(*), pg_sleep(0.5) FROM pgscore.models")
            c.close()
        except Exception as e:  # noqa: BLE001
            failures.append(e)

    readers = [threading.Thread(target=reader, args=(o,)) for o in (0, 0.25)]
    for t in readers:
        t.start()
    time.sleep(1)
    try:
        migrate.downgrade(db_url, "0140", lock_timeout="4s")
    finally:
        for t in readers:
            t.join(20)
    assert not failures, failures
    assert migrate.current(db_url) == "0140"


PREV_0147 = "0145"  # the revision before 0147 (the session may rechain it)


def test_0147_names_a_floor_with_a_negative_part_before_it_adds_its_check(db_url):
    """0147 refuses a retention floor with a negative part ('-1 mon 31 days': 1 day to 0141's CHECK, which compared
    it as an interval, no day at all in December): an upgrade over such a floor is refused naming it and what to
    do, not with ADD CONSTRAINT's bare check violation; set in parts of one sign, it upgrades."""
    migrate.downgrade(db_url, PREV_0147)
    query(db_url, "UPDATE pgscore.retention_policy SET keep_features = '-1 mon 31 days'")
    with pytest.raises(InstallError) as e:
        migrate.upgrade(db_url)
    said = str(e.value)
    assert "0147" in said and "negative part" in said and "keep_features -1 mons +31 days" in said, said
    assert "set keep_features in parts" in said and "SET keep_features = " in said, said  # (the column at fault)
    assert migrate.current(db_url) == PREV_0147
    query(db_url, "UPDATE pgscore.retention_policy SET keep_features = '1 mon 1 day'")
    migrate.upgrade(db_url)
    assert migrate.current(db_url) == migrate.head()
    with pytest.raises(psycopg2.Error) as e:
        query(db_url, "UPDATE pgscore.retention_policy SET keep_log = '-1 mon 31 days'")
    assert e.value.pgcode == "23514"


PREV_0155 = "0154"  # the revision before 0155 (the session may rechain it)


def test_0155_names_a_drift_window_with_a_negative_part_before_it_adds_its_check(db_url):
    """0155 refuses a drift window whose length has a negative part ('-1 mon 31 days': 1 day to 0029's CHECK, no
    time at all in December): an upgrade over such a window stops before anything changes, naming each such window
    and what to do, not with ADD CONSTRAINT's bare check violation (the length meant is the admin's to say); set in
    parts of one sign, it upgrades, and the downgrade takes 0029's CHECK back."""
    migrate.downgrade(db_url, PREV_0155)
    query(db_url, "INSERT INTO pgscore.drift_windows (window_name, length, sort_order) VALUES "
                  "('a month', '-1 mon 31 days', 8), ('two days', '2 days -25:00', 9), ('ever', '10000 years', 10)")
    with pytest.raises(InstallError) as e:
        migrate.upgrade(db_url)
    said = str(e.value)
    assert "0155" in said and "negative part" in said, said
    assert "a month (-1 mons +31 days), two days (2 days -25:00:00), ever (10000 years)" in said, said
    assert "over 1000 years" in said, said  # (review r1: it failed every drift view with 22008)
    assert "WHERE window_name = 'a month'" in said and "upgrade again" in said, said
    assert migrate.current(db_url) == PREV_0155
    query(db_url, "UPDATE pgscore.drift_windows SET length = '1 mon' WHERE window_name = 'a month'")
    query(db_url, "DELETE FROM pgscore.drift_windows WHERE window_name IN ('two days', 'ever')")
    migrate.upgrade(db_url)
    assert migrate.current(db_url) == migrate.head()
    with pytest.raises(psycopg2.Error) as e:
        query(db_url, "UPDATE pgscore.drift_windows SET length = '-1 mon 31 days' WHERE window_name = 'a month'")
    assert e.value.pgcode == "23514" and e.value.diag.constraint_name == "drift_windows_length_check"
    migrate.downgrade(db_url, PREV_0155)
    query(db_url, "UPDATE pgscore.drift_windows SET length = '-1 mon 31 days' WHERE window_name = 'a month'")
    with pytest.raises(psycopg2.Error) as e:
        query(db_url, "UPDATE pgscore.drift_windows SET length = '30' WHERE window_name = 'a month'")
    assert e.value.pgcode == "23514"


PREV_0173 = "0172"  # the revision before 0173 (the session may rechain it)


def test_0173_names_the_wirings_whose_scored_at_has_no_time_zone_once_at_the_upgrade(db_url, capsys):
    """Session 67's leftover (h4, session 68): session 67 made pgscore write a `timestamp` (without time zone)
    scored_at as UTC's wall clock; a wiring made before, whose column held each writing session's wall clock, got no
    word of it at the upgrade (docs/sql.md alone gave the one-off UPDATE). 0173's upgrade names each such wiring
    in a WARNING, with the UPDATE, and changes nothing; a timestamptz column is not named. (session 69) A column of a
    domain over timestamp (or over such a domain) is named too: it was left out (its type is the domain's)."""
    migrate.downgrade(db_url, PREV_0173)
    query(db_url, "CREATE TABLE public.p_naive (id int PRIMARY KEY, s float8, at timestamp); "
                  "CREATE TABLE public.p_zoned (id int PRIMARY KEY, s float8, at timestamptz); "
                  "CREATE DOMAIN public.wall AS timestamp; CREATE DOMAIN public.wall2 AS public.wall; "
                  "CREATE DOMAIN public.zoned AS timestamptz; "
                  "CREATE TABLE public.p_dom (id int PRIMARY KEY, s float8, at public.wall2); "
                  "CREATE TABLE public.p_zdom (id int PRIMARY KEY, s float8, at public.zoned); "
                  "INSERT INTO public.p_naive VALUES (1, 0.5, '2026-12-01 18:59')")
    query(db_url, "INSERT INTO pgscore.rescoring (event_table, profile_table, event_key, profile_key, model_name, "
                  "score_column, scored_at_column, trigger_name) VALUES "
                  "('public.e1', 'public.p_naive', 'id', 'id', 'm', 's', 'at', 't1'), "
                  "('public.e2', 'public.p_zoned', 'id', 'id', 'm', 's', 'at', 't2'), "
                  "('public.e3', 'public.p_dom', 'id', 'id', 'm', 's', 'at', 't3'), "
                  "('public.e4', 'public.p_zdom', 'id', 'id', 'm', 's', 'at', 't4')")
    capsys.readouterr()
    migrate.upgrade(db_url)
    said = capsys.readouterr().err
    warned = [line for line in said.splitlines() if "pgscore 0173" in line]
    assert len(warned) == 1 and "2 wiring(s) write a scored_at column of type timestamp" in warned[0], said
    assert "public.p_naive.at (wiring " in warned[0] and "p_zoned" not in said, said
    assert "public.p_dom.at (wiring " in warned[0] and "p_zdom" not in said, said
    assert "AT TIME ZONE 'UTC'" in said, said
    assert query(db_url, "SELECT at::text FROM public.p_naive") == [("2026-12-01 18:59:00",)]
    query(db_url, "DELETE FROM pgscore.rescoring")
    query(db_url, "DROP TABLE public.p_naive, public.p_zoned, public.p_dom, public.p_zdom; "
                  "DROP DOMAIN public.wall2, public.wall, public.zoned")


PREV_0160 = "0159"  # the revision before 0160 (the session may rechain it)


def test_0160_stamps_the_rows_queued_before_with_the_table_their_name_finds(db_url):
    """0160 keeps each queued profile's table OID (pgscore.error_queue.profile_oid): the rows queued before it are
    given the OID of the table their name finds (a schema-qualified name, one that needs quoting, none for a table
    that is gone), and the downgrade drops the columns again."""
    migrate.downgrade(db_url, PREV_0160)
    query(db_url, 'CREATE SCHEMA "Tenant A"; CREATE TABLE "Tenant A".customers (id int PRIMARY KEY); '
                  "CREATE TABLE public.profiles_t (id int PRIMARY KEY)")
    query(db_url, "INSERT INTO pgscore.error_queue (model_name, profile_table, entity_key, reason) VALUES "
                  "('m', '\"Tenant A\".customers', '1', 'r'), ('m', 'public.profiles_t', '2', 'r'), "
                  "('m', 'gone.customers', '3', 'r')")
    migrate.upgrade(db_url)
    assert query(db_url, "SELECT entity_key, profile_oid::regclass::text, "
                         "queue_oid = 'pgscore.error_queue'::regclass AND queue_system = "
                         "(pg_control_system()).system_identifier FROM pgscore.error_queue ORDER BY 1") == [
        ("1", '"Tenant A".customers', True), ("2", "profiles_t", True), ("3", None, True)]
    migrate.downgrade(db_url, PREV_0160)
    assert query(db_url, "SELECT count(*) FROM pg_attribute WHERE attrelid = 'pgscore.error_queue'::regclass "
                         "AND attname IN ('profile_oid', 'queue_oid', 'queue_system') AND NOT attisdropped") == [(0,)]
