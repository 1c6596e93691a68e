"""`pgscore db start|stop|status|url`: the embedded cluster, through the CLI as a user runs it."""

import base64
import os
import pwd
import shutil
import socket
import time
from pathlib import Path

import psycopg2
import pytest

from helpers import make_tmpdir, pgscore_cli
from pgscore.localdb import Cluster, free_port


@pytest.fixture
def data_dir():
    base = make_tmpdir("pgscore-db-")
    yield base / "data"
    Cluster(data_dir=base / "data").destroy()
    shutil.rmtree(base, ignore_errors=True)


def test_start_status_url_stop_and_restart_after_a_crash(data_dir):
    port = str(free_port())
    start = pgscore_cli("db", "start", "--data-dir", str(data_dir), "--port", port)
    assert start.returncode == 0, start.stderr
    url = start.stdout.strip().splitlines()[-1]
    assert url.startswith("postgresql://") and f"port={port}" in url
    # the way to stop it names this cluster (not the default one)
    assert start.stdout.strip().splitlines()[-2] == f"stop it with: pgscore db stop --data-dir {data_dir.absolute()}"
    with psycopg2.connect(url) as c, c.cursor() as cur:
        cur.execute("SELECT current_database(), current_setting('port')")
        assert cur.fetchone() == ("pgscore", port)
        if os.geteuid() == 0:  # the server never runs as root
            cur.execute("SELECT 1")
    owner = pwd.getpwuid(os.stat(data_dir).st_uid).pw_name
    assert owner != "root"

    again = pgscore_cli("db", "start", "--data-dir", str(data_dir))
    assert again.returncode == 0
    assert "already running" in again.stdout
    assert again.stdout.strip().splitlines()[-1] == url

    status = pgscore_cli("db", "status", "--data-dir", str(data_dir))
    assert status.returncode == 0 and "running" in status.stdout and port in status.stdout
    assert f"\nstop it with: pgscore db stop --data-dir {data_dir.absolute()}\n" in status.stdout
    assert pgscore_cli("db", "url", "--data-dir", str(data_dir)).stdout.strip() == url
    for action in ("url", "status", "stop"):  # they read the cluster's own port: none to give (and get wrong)
        wrong = pgscore_cli("db", action, "--data-dir", str(data_dir), "--port", str(int(port) + 1))
        assert wrong.returncode == 2 and "unrecognized arguments: --port" in wrong.stderr
    tcp = pgscore_cli("db", "url", "--tcp", "--data-dir", str(data_dir)).stdout.strip()
    with psycopg2.connect(tcp) as c, c.cursor() as cur:  # password auth over loopback
        cur.execute("SELECT inet_server_addr()::text")
        assert cur.fetchone()[0].startswith("127.0.0.1")

    # a crash leaves a stale pid file behind; start copes
    Cluster(data_dir=data_dir).kill()
    for _ in range(50):
        if not Cluster(data_dir=data_dir).running():
            break
        time.sleep(0.1)
    assert (data_dir / "postmaster.pid").exists()
    restart = pgscore_cli("db", "start", "--data-dir", str(data_dir))
    assert restart.returncode == 0, restart.stderr
    assert "stale pid file" in restart.stdout

    stop = pgscore_cli("db", "stop", "--data-dir", str(data_dir))
    assert stop.returncode == 0 and "stopped" in stop.stdout
    status = pgscore_cli("db", "status", "--data-dir", str(data_dir))
    assert status.returncode == 3 and "stopped" in status.stdout
    # (it said how to stop a running cluster, and nothing of how to start this one)
    assert status.stdout.endswith(f"\nstart it with: pgscore db start --data-dir {data_dir.absolute()}\n"), \
        status.stdout
    again = pgscore_cli("db", "stop", "--data-dir", str(data_dir))
    assert again.returncode == 0 and "not running" in again.stdout


def test_start_says_that_libpq_s_variables_come_before_the_cluster(data_dir):
    """With PGHOST, PGPORT, PGDATABASE or PGSERVICE set and no PGSCORE_DATA_DIR, the commands that follow go to the
    database libpq's variables name (they come before the default cluster): db start says so, and names this
    cluster's --db in its next command; with PGSCORE_DATA_DIR naming the cluster, it comes first, as before."""
    absolute = data_dir.absolute()
    env = {"PGSCORE_DATA_DIR": "", "PGSCORE_DATABASE_URL": "", "PGPORT": "5432", "PGDATABASE": "elsewhere"}
    start = pgscore_cli("db", "start", "--data-dir", str(data_dir), "--port", str(free_port()), env=env)
    assert start.returncode == 0, start.stderr
    url = start.stdout.strip().splitlines()[-1]
    assert ("PGPORT, PGDATABASE set: the commands that follow use the database libpq's variables name unless "
            f"given --db '{url}' (or PGSCORE_DATA_DIR={absolute})") in start.stdout, start.stdout
    assert f"next, run pgscore install --db '{url}'" in start.stdout, start.stdout
    here = pgscore_cli("db", "start", "--data-dir", str(data_dir), env={**env, "PGSCORE_DATA_DIR": str(data_dir)})
    assert here.returncode == 0 and "libpq" not in here.stdout, here.stdout
    assert here.stdout.strip().splitlines()[-3] == "pgscore is not installed in it: next, run pgscore install"


def test_start_says_what_to_run_next_and_how_the_next_commands_reach_the_cluster(data_dir):
    """db start named only the command that stops the cluster: a new one has no pgscore in it, and the next
    command (pgscore install) looked for the default cluster, or $PGSCORE_DATABASE_URL's database, not this
    one. It now says to install where pgscore is not installed, and how the commands reach this cluster
    where they would not (PGSCORE_DATA_DIR, --db); the URL stays last, the stop command before it."""
    port = str(free_port())
    absolute = data_dir.absolute()
    elsewhere = {"PGSCORE_DATA_DIR": "", "PGSCORE_DATABASE_URL": ""}
    start = pgscore_cli("db", "start", "--data-dir", str(data_dir), "--port", port, env=elsewhere)
    assert start.returncode == 0, start.stderr
    lines = start.stdout.strip().splitlines()
    url = lines[-1]
    assert url.startswith("postgresql://") and lines[-2] == f"stop it with: pgscore db stop --data-dir {absolute}"
    assert f"the commands that follow find this cluster with: export PGSCORE_DATA_DIR={absolute} (or --db " \
           f"'{url}'); without, they look in " in start.stdout, start.stdout
    assert lines[-3] == f"pgscore is not installed in it: next, run export PGSCORE_DATA_DIR={absolute}; " \
                        "pgscore install", start.stdout
    # with PGSCORE_DATA_DIR naming it: install alone
    here = {"PGSCORE_DATA_DIR": str(data_dir), "PGSCORE_DATABASE_URL": ""}
    again = pgscore_cli("db", "start", "--data-dir", str(data_dir), env=here)
    assert again.returncode == 0 and "the commands that follow" not in again.stdout, again.stdout
    assert again.stdout.strip().splitlines()[-3] == "pgscore is not installed in it: next, run pgscore install"
    # with $PGSCORE_DATABASE_URL set, that database is the next commands': --db names this one
    other = {"PGSCORE_DATA_DIR": str(data_dir), "PGSCORE_DATABASE_URL": "postgresql://x@127.0.0.1:1/x"}
    run = pgscore_cli("db", "start", "--data-dir", str(data_dir), env=other)
    assert "PGSCORE_DATABASE_URL is set: the commands that follow use that database unless given --db " \
           f"'{url}'" in run.stdout and f"next, run pgscore install --db '{url}'" in run.stdout, run.stdout
    # installed: nothing to say but the stop command and the URL
    assert pgscore_cli("install", env=here).returncode == 0
    done = pgscore_cli("db", "start", "--data-dir", str(data_dir), env=here)
    assert "not installed" not in done.stdout and done.stdout.strip().splitlines()[-1] == url, done.stdout


def test_start_refuses_a_signing_key_the_running_cluster_was_not_started_with(data_dir):
    """Signing is a security setting: a --signing-key that cannot take effect is refused, not ignored."""
    keys = []
    for name in ("a.key", "b.key"):
        key = data_dir.parent / name
        # as the hint says to make one: raw random bytes may begin or end with whitespace, which the key's
        # reader strips (each key ~4.7% of the time: 1 run in ~11 had a 31-byte key)
        key.write_bytes(base64.b64encode(os.urandom(32)) + b"\n")
        os.chmod(key, 0o644)
        keys.append(str(key))
    port = str(free_port())
    assert pgscore_cli("db", "start", "--data-dir", str(data_dir), "--port", port).returncode == 0

    run = pgscore_cli("db", "start", "--data-dir", str(data_dir), "--signing-key", keys[0])
    assert run.returncode == 1, run.stdout
    assert f"already running without a signing key; --signing-key {keys[0]} cannot take effect" in run.stderr
    # the hint stops this cluster, not the default one
    assert f"stop it first (pgscore db stop --data-dir {data_dir.absolute()})" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr
    status = pgscore_cli("db", "status", "--data-dir", str(data_dir)).stdout
    assert "signing key: none" in status  # nothing was recorded for the next start either

    assert pgscore_cli("db", "stop", "--data-dir", str(data_dir)).returncode == 0
    run = pgscore_cli("db", "start", "--data-dir", str(data_dir), "--signing-key", keys[0])
    assert run.returncode == 0, run.stderr
    again = pgscore_cli("db", "start", "--data-dir", str(data_dir), "--signing-key", keys[0])
    assert again.returncode == 0 and "already running" in again.stdout  # the same key: nothing to change
    assert pgscore_cli("db", "start", "--data-dir", str(data_dir)).returncode == 0
    for other, said in ((keys[1], f"--signing-key {keys[1]}"), ("", "--signing-key ''")):
        run = pgscore_cli("db", "start", "--data-dir", str(data_dir), "--signing-key", other)
        assert run.returncode == 1, run.stdout
        assert f"already running with the signing key {keys[0]}; {said} cannot take effect" in run.stderr
    assert f"signing key: {keys[0]}" in pgscore_cli("db", "status", "--data-dir", str(data_dir)).stdout


def test_start_refuses_a_signing_key_the_server_would_refuse_before_making_anything(data_dir):
    """A key under 32 bytes (or a file that cannot be read) would fail every score of a signed model: refused at
    start, with nothing initialised or remembered, and one hint."""
    short = data_dir.parent / "short.key"
    short.write_bytes(b"x" * 31 + b"\n")
    for key, said in ((short, "too short (31 bytes; at least 32)"), (data_dir.parent / "none.key", "cannot read")):
        run = pgscore_cli("db", "start", "--data-dir", str(data_dir), "--port", str(free_port()), "--signing-key",
                          str(key))
        assert run.returncode == 1, run.stdout
        assert "--signing-key" in run.stderr and said in run.stderr, run.stderr
        assert "head -c 32 /dev/urandom" in run.stderr and "Traceback" not in run.stderr
        # one hint: it printed the server's too, `Hint: PGSCORE_SIGNING_KEY_FILE in the server's environment must
        # name a file its OS user can read`, then this one
        assert run.stderr.count("Hint:") == 1 and "PGSCORE_SIGNING_KEY_FILE" not in run.stderr, run.stderr
        assert not (data_dir / "PG_VERSION").exists()


def test_port_already_taken(data_dir):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        run = pgscore_cli("db", "start", "--data-dir", str(data_dir), "--port", str(port))
    assert run.returncode == 1
    assert f"port {port} is already in use" in run.stderr
    assert "--port" in run.stderr
    # refused before anything is made: it initialised a cluster first, which kept that port for the next start
    assert not data_dir.exists() and "initialising" not in run.stdout + run.stderr, run.stdout + run.stderr


def test_data_dir_not_ours(data_dir):
    data_dir.mkdir()
    (data_dir / "holiday.jpg").write_text("not a cluster")
    if os.geteuid() == 0:
        os.chown(data_dir, pwd.getpwnam("nobody").pw_uid, -1)
        expect = "is owned by nobody"
    else:
        expect = "is not empty and holds no PostgreSQL cluster"
    run = pgscore_cli("db", "start", "--data-dir", str(data_dir), "--port", str(free_port()))
    assert run.returncode == 1
    assert expect in run.stderr
    # a directory of files is no cluster whoever owns it: as root the hint said `chown -R postgres DIR`, which
    # gave the files away and then failed as this does
    assert "holds files, not a PostgreSQL cluster" in run.stderr or os.geteuid() != 0, run.stderr
    assert "chown" not in run.stderr, run.stderr
    assert (data_dir / "holiday.jpg").read_text() == "not a cluster"


def test_a_data_dir_owned_by_another_says_who_may_give_it(data_dir):
    """The hint for a data directory another user owns named `chown -R USER DIR` to an ordinary user too, who
    may not run it: as an ordinary user the hint says root gives it (and that the server runs as you)."""
    if os.geteuid() == 0:
        data_dir.mkdir()
        os.chown(data_dir, pwd.getpwnam("nobody").pw_uid, -1)
        theirs, who = data_dir, Cluster(data_dir=data_dir).server_user
    else:  # an empty directory that exists and is not this user's: nothing under it is touched (refused first)
        # ("/" before: it holds files, and the hint for those names no chown: test_data_dir_not_ours)
        who = pwd.getpwuid(os.geteuid()).pw_name
        theirs = next((p for p in map(Path, ("/srv", "/media", "/var/opt", "/var/local", "/usr/local/src", "/mnt"))
                       if p.is_dir() and os.stat(p).st_uid != os.geteuid() and not any(p.iterdir())), None)
        if theirs is None:
            pytest.skip("no empty directory of another user's here (/srv, /media, /var/opt, ...) to try")
        run = pgscore_cli("db", "start", "--data-dir", "/", "--port", str(free_port()))
        assert run.returncode == 1 and "holds files, not a PostgreSQL cluster" in run.stderr, run.stderr
        assert "chown" not in run.stderr, run.stderr
    run = pgscore_cli("db", "start", "--data-dir", str(theirs), "--port", str(free_port()))
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    assert f"is owned by {pwd.getpwuid(os.stat(theirs).st_uid).pw_name}, but the server runs as {who}" in run.stderr
    if os.geteuid() == 0:
        assert f"Hint: choose another --data-dir, or give it to the server user: chown -R {who} {theirs}\n" \
            in run.stderr, run.stderr
    else:
        assert ("Hint: choose another --data-dir (a directory of yours: the server runs as you), or have root give "
                f"it to you: chown -R {who} {theirs}\n") in run.stderr, run.stderr


def test_a_data_dir_that_cannot_be_made_says_why_and_where_to_put_one(data_dir):
    """A --data-dir this user may not create (an ordinary user given the root default /var/lib/pgscore/cluster,
    or a path through a file) was a PermissionError's or NotADirectoryError's traceback: one error now, with
    what to do, naming PGSCORE_DATA_DIR when that is where the path came from."""
    from pgscore.errors import ClusterError

    from helpers import where_its_user_may_not_write

    base = data_dir.parent
    (base / "a-file").write_text("")
    through_a_file = base / "a-file" / "data"
    run = pgscore_cli("db", "start", "--data-dir", str(through_a_file), "--port", str(free_port()))
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    assert f"pgscore: error: cannot create the data directory {through_a_file}: Not a directory" in run.stderr
    assert "Hint: give --data-dir a directory you may create (the default, without PGSCORE_DATA_DIR: " in run.stderr
    run = pgscore_cli("db", "start", "--port", str(free_port()), env={"PGSCORE_DATA_DIR": str(through_a_file)})
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    assert f"Hint: PGSCORE_DATA_DIR={through_a_file} names it; give --data-dir" in run.stderr

    def make():  # by a user who may not write in base (as root: a child become nobody)
        try:
            Cluster(data_dir=base / "data" / "cluster", port=free_port()).init()
        except ClusterError as e:
            return e.message, e.hint
        return None

    try:
        said = where_its_user_may_not_write(base, make)
    finally:
        base.chmod(0o755)
    assert said is not None, "made a directory where its user may not write"
    message, hint = said
    made = base / "data" / "cluster"
    assert message == f"cannot create the data directory {made}: Permission denied ({made.parent})"
    assert hint.startswith("give --data-dir a directory you may create") and not (base / "data").exists()


def test_an_empty_data_dir_of_its_own_in_a_folder_it_may_not_write(data_dir):
    """An empty data directory its user owns in a folder it may not write (one an administrator made for an
    ordinary user, as the hint for a directory owned by another says): initdb's password file went beside it,
    in that folder, and the start was a PermissionError's traceback. It starts."""
    data_dir.mkdir(mode=0o700)
    c = Cluster(data_dir=data_dir)
    if c.as_root:  # root may write anywhere: the same start, with the directory given to the server's user
        os.chown(data_dir, pwd.getpwnam(c.server_user).pw_uid, -1)
    else:
        data_dir.parent.chmod(0o555)
    try:
        run = pgscore_cli("db", "start", "--data-dir", str(data_dir), "--port", str(free_port()))
        assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
        with psycopg2.connect(run.stdout.strip().splitlines()[-1]) as conn, conn.cursor() as cur:
            cur.execute("SELECT current_database()")
            assert cur.fetchone() == ("pgscore",)
        assert sorted(p.name for p in data_dir.parent.iterdir()) == ["data"]  # no password file left beside it
    finally:
        data_dir.parent.chmod(0o755)

def test_a_cluster_pgscore_did_not_create_is_refused_and_left_alone(data_dir):
    """A cluster the user made with initdb and runs with pg_ctl (their "existing server"): pgscore db does not
    describe it with the embedded cluster's port and password, start it with its own settings or stop it;
    it says how to reach it with --db, with the port it runs on. PGSCORE_DATA_DIR pointing at it likewise."""
    c = Cluster(data_dir=data_dir)  # only for running the binaries as the server's OS user
    data_dir.mkdir(mode=0o700)
    if c.as_root:
        os.chown(data_dir, pwd.getpwnam(c.server_user).pw_uid, -1)
    port = free_port()
    c._run([str(c.bin_dir / "initdb"), "-D", str(data_dir), "--auth=trust", "--no-instructions"])
    c._run([str(c.bin_dir / "pg_ctl"), "-D", str(data_dir), "-w", "-l", str(data_dir / "server.log"), "-o",
            f"-p {port} -k {data_dir} -c listen_addresses=''", "start"])
    conf = (data_dir / "postgresql.conf").read_text()
    try:
        for args in (["status"], ["url"], ["start"], ["stop"]):
            run = pgscore_cli("db", *args, "--data-dir", str(data_dir))
            assert run.returncode == 1, (args, run.stdout, run.stderr)
            assert "holds a PostgreSQL cluster that pgscore did not create" in run.stderr, args
            assert f"host={data_dir}&port={port}" in run.stderr and f"as it runs now on port {port}" in run.stderr
        run = pgscore_cli("models", env={"PGSCORE_DATA_DIR": str(data_dir), "PGSCORE_DATABASE_URL": ""})
        assert run.returncode == 1 and "pgscore did not create" in run.stderr, run.stderr
        assert c._run([str(c.bin_dir / "pg_ctl"), "status", "-D", str(data_dir)], check=False).returncode == 0
        assert (data_dir / "postgresql.conf").read_text() == conf and not (data_dir / "pgscore.conf").exists()
    finally:
        c._run([str(c.bin_dir / "pg_ctl"), "-D", str(data_dir), "-m", "immediate", "stop"], check=False)


def test_url_and_status_without_a_cluster(data_dir):
    run = pgscore_cli("db", "url", "--data-dir", str(data_dir))
    assert run.returncode == 1 and "no cluster in" in run.stderr and "pgscore db start" in run.stderr
    assert "PGSCORE_DATA_DIR" in run.stderr  # how to name a cluster elsewhere
    run = pgscore_cli("db", "status", "--data-dir", str(data_dir))
    assert run.returncode == 3 and "no cluster" in run.stdout and "PGSCORE_DATA_DIR" in run.stdout
    # stopping a cluster that is not there stops nothing: an error, not the quiet success it was
    run = pgscore_cli("db", "stop", "--data-dir", str(data_dir))
    assert run.returncode == 1 and f"no cluster in {data_dir}: nothing stopped" in run.stderr, run.stderr


def test_compile_sources_writes_the_byte_code_of_the_pgscore_package_only(tmp_path):
    """The server may run as a user that cannot write __pycache__ into the checkout: start() writes it."""
    import importlib.util

    from pgscore.localdb import compile_sources

    pkg = tmp_path / "src" / "pgscore"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("X = 1\n")
    (pkg / "serving.py").write_text("Y = 2\n")
    other = tmp_path / "site" / "numpy"
    other.mkdir(parents=True)
    (other / "__init__.py").write_text("Z = 3\n")
    compile_sources([str(tmp_path / "src"), str(tmp_path / "site")])
    for f in (pkg / "__init__.py", pkg / "serving.py"):
        assert Path(importlib.util.cache_from_source(str(f))).is_file()
    assert not Path(importlib.util.cache_from_source(str(other / "__init__.py"))).exists()


def test_start_on_a_cluster_another_pgscore_started_says_so(data_dir):
    """db start on a running cluster that another checkout's or environment's pgscore started (the server
    imports that one's code): it says so, and how to restart it with this one; the same one, nothing."""
    from pgscore.localdb import server_python_path

    other = make_tmpdir("pgscore-other-env-")
    try:
        port = str(free_port())
        Cluster(data_dir=data_dir, port=int(port), python_path=[str(other), *server_python_path()]).start()
        run = pgscore_cli("db", "start", "--data-dir", str(data_dir), "--port", port)
        assert run.returncode == 0, run.stderr
        assert f"note: it imports pgscore from {other}{os.pathsep}" in run.stdout
        assert "restart it to serve this one:" in run.stdout and "db stop --data-dir" in run.stdout
        pgscore_cli("db", "stop", "--data-dir", str(data_dir))
        assert pgscore_cli("db", "start", "--data-dir", str(data_dir), "--port", port).returncode == 0
        again = pgscore_cli("db", "start", "--data-dir", str(data_dir), "--port", port)
        assert "already running" in again.stdout and "note:" not in again.stdout
    finally:
        shutil.rmtree(other, ignore_errors=True)


def test_url_names_any_database_as_it_is(cluster):
    """--dbname goes into the URL percent-encoded: a name holding % would name another database (a%41b is
    aAb to libpq), one holding ? or # no database at all."""
    names = ["a%41b", "q?x#y", "sp ace/é"]
    admin = psycopg2.connect(cluster.url())
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            for name in names:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
                cur.execute(f'CREATE DATABASE "{name}"')
        for name in names:
            for tcp in (False, True):
                c = psycopg2.connect(cluster.url(name, tcp=tcp))
                try:
                    with c.cursor() as cur:
                        cur.execute("SELECT current_database()")
                        assert cur.fetchone()[0] == name
                finally:
                    c.close()
    finally:
        with admin.cursor() as cur:
            for name in names:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


def test_a_start_that_failed_on_a_full_disk_says_what_frees_it(tmp_path):
    """A server on a full disk does not start (its recovery writes a WAL segment first), and no tool of
    pgscore's reaches it until then: the hint says to free space outside the data directory, not in pg_wal,
    then to drop old days of the log (before, it said only to read the log)."""
    from pgscore.localdb import start_hint

    tail = ('2026-12-02 08:32:55.321 UTC [26834] FATAL:  could not write to file "pg_wal/xlogtemp.26834": '
            "No space left on device\n2026-12-02 08:32:55.357 UTC [26831] LOG:  database system is shut down")
    hint = start_hint(tail, tmp_path, tmp_path / "log" / "server.log")
    assert hint.startswith(f"the disk holding {tmp_path} is full (") and " MB free): PostgreSQL needs room for " \
        "at least a 16 MB WAL segment to start. Free space on that disk outside the data directory (never delete " \
        "files under pg_wal), start it again, then drop old days of the prediction log with " in hint, hint
    assert hint.endswith(" maintain --keep (docs/operations-disk.md)"), hint
    assert start_hint("FATAL:  lock file \"postmaster.pid\" already exists", tmp_path, "L") == "see L"


def test_started_stops_only_a_cluster_it_started_also_on_an_error(data_dir):
    """Cluster.started, which pgscore bench and the benchmark scripts run in: a cluster it started is stopped at the
    block's end, also when the block fails, unless keep_running; one running before is left running. A SIGTERM
    inside the block unwinds as Ctrl-C, and the handler before is back after it."""
    import signal

    c = Cluster(data_dir=data_dir, port=free_port())
    said = []
    with c.started(say=said.append) as started:
        assert started and c.running()
    assert not c.running() and len(said) == 1 and "stopped the cluster it started" in said[0]
    with pytest.raises(ZeroDivisionError), c.started(say=said.append):
        1 / 0
    assert not c.running()
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt), c.started(say=said.append):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # (the handler raises at once)
    assert not c.running() and signal.getsignal(signal.SIGTERM) is before
    with c.started(keep_running=True, say=said.append) as started:
        assert started
    assert c.running() and len(said) == 3
    with c.started(say=said.append) as started:  # running before: left so
        assert not started
    assert c.running() and len(said) == 3
    c.stop()


def _scripts_that_start_a_cluster():
    from helpers import ROOT

    return sorted(p.stem for p in (ROOT / "scripts").glob("*.py")
                  if "from pgscore.localdb import Cluster" in p.read_text())


def test_the_benchmark_scripts_that_start_a_cluster_are_found():
    """The list the next test runs over is every script that builds a Cluster, found by reading scripts/, so that a
    new benchmark script cannot escape it."""
    assert {"bench_bound", "bench_drift", "bench_formats", "bench_multirow", "bench_replication", "bench_rowpath",
            "bench_trigger", "bench_writeback"} <= set(_scripts_that_start_a_cluster())


@pytest.mark.parametrize("script", _scripts_that_start_a_cluster())
def test_each_benchmark_script_runs_its_cluster_in_started(script):
    """Each benchmark script that starts a cluster starts it through Cluster.started (stopped at its end unless
    --keep-running), and offers --keep-running; none starts it bare first and leaves it behind (bench_replication
    restarts it inside, for wal_level)."""
    from helpers import ROOT

    text = (ROOT / "scripts" / f"{script}.py").read_text()
    assert ".started(args.keep_running" in text and '"--keep-running"' in text
    assert "cluster.start()" not in text[:text.index(".started(args.keep_running")]


def test_a_scripts_data_dir_and_port_name_the_cluster_it_runs_in(tmp_path):
    """Cluster.add_arguments and from_args, which the benchmark scripts share: --data-dir and --port name the
    cluster; without them, the embedded one; an empty --data-dir ("$DIR" with DIR unset) is an error."""
    import argparse

    ap = argparse.ArgumentParser()
    Cluster.add_arguments(ap)
    c = Cluster.from_args(ap, ap.parse_args(["--data-dir", str(tmp_path / "d"), "--port", "55611"]))
    assert (c.data_dir, c.port) == (tmp_path / "d", 55611)
    assert Cluster.from_args(ap, ap.parse_args([])).data_dir == Cluster().data_dir
    with pytest.raises(SystemExit):
        Cluster.from_args(ap, ap.parse_args(["--data-dir", ""]))


@pytest.mark.parametrize("script", _scripts_that_start_a_cluster())
def test_each_benchmark_script_takes_data_dir_and_port(script):
    """Every script that starts a cluster takes --data-dir and --port (a run of one's own beside other work): an
    empty --data-dir is refused before any cluster is touched."""
    import subprocess
    import sys

    from helpers import ROOT

    valid = {"bench_writeback": ["--kinds", "logged"]}.get(script, [])  # (its default kinds need --before)
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / f"{script}.py"), *valid, "--data-dir", "",
                          "--port", "1"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "--data-dir is empty" in run.stderr, run.stderr
