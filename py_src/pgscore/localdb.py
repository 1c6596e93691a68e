"""A throwaway local PostgreSQL cluster (initdb + pg_ctl) that PL/Python can run pgscore in.

PostgreSQL refuses to run as root, so when the caller is root every server
command runs as an unprivileged OS user (``postgres`` unless
``PGSCORE_SERVER_USER`` says otherwise) through ``runuser``. The server is
started with ``PYTHONPATH`` pointing at the Python environment that runs this
module, so the database imports exactly the pgscore and scikit-learn that the
CLI and the tests use.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import pwd
import secrets
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from pgscore.errors import ClusterError, command

STATE_FILE = "pgscore-cluster.json"
CONF_FILE = "pgscore.conf"
DEFAULT_PORT = 54329
DEFAULT_DB = "pgscore"
SUPERUSER = "postgres"
# native thread pools get one thread per backend: with several sessions the
# default (one per core) collapses throughput, see FIELD-NOTES
SERVER_THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
}


def pg_bin_dir() -> Path:
    """Where initdb/pg_ctl live: $PGSCORE_PG_BIN, else PostgreSQL 15's Debian location."""
    env = os.environ.get("PGSCORE_PG_BIN")
    if env:
        return Path(env)
    return Path("/usr/lib/postgresql/15/bin")


def default_data_dir() -> Path:
    env = os.environ.get("PGSCORE_DATA_DIR")
    if env:
        return Path(env)
    return builtin_data_dir()


def builtin_data_dir() -> Path:
    """The default without PGSCORE_DATA_DIR: as root /var/lib/pgscore/cluster, else under $XDG_DATA_HOME (else
    ~/.local/share)."""
    if os.geteuid() == 0:
        # /root is not traversable by the server's OS user
        return Path("/var/lib/pgscore/cluster")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "pgscore" / "cluster"


def server_python_path() -> list[str]:
    """The sys.path entries the server needs to import pgscore and its pinned stack."""
    import pgscore

    paths = [str(Path(pgscore.__file__).resolve().parent.parent)]
    for key in ("purelib", "platlib"):
        p = sysconfig.get_paths()[key]
        if p not in paths:
            paths.append(p)
    return paths


def import_fix() -> str:
    """What makes a server of one's own import this pgscore: the PYTHONPATH `db start` would give it (the
    site-packages directory of this environment, and the checkout's py_src for an editable install; a
    PYTHONPATH naming the venv itself does not work), and the thread settings."""
    threads = " ".join(f"{k}={v}" for k, v in SERVER_THREAD_ENV.items())
    python = ".".join(map(str, sys.version_info[:2]))
    return (f"restart the server (not a reload) with PYTHONPATH={shlex.quote(os.pathsep.join(server_python_path()))} "
            f"{threads} in its environment: the directories this pgscore (Python {python}, {sys.prefix}) imports "
            "from. That holds if this environment is on the server's host, readable by its OS user, and was "
            "built with the server's own Python (/usr/bin/python3, 3.11, on Debian 12; the server's version is "
            "in the error's DETAIL from SELECT pgscore.validate_environment()); otherwise build one there "
            "(docs/operations.md, 'Installing into an existing server')")


def compile_sources(pypath) -> None:
    """Write the byte code of the pgscore package found on `pypath`, where it is out of date. The server
    may run as another OS user that cannot write into the checkout (and environments often set
    PYTHONDONTWRITEBYTECODE), so without this every new backend compiled pgscore's modules from source:
    ~25 ms of its first score. Skips quietly what cannot be written."""
    import compileall

    for entry in pypath:
        package = Path(entry) / "pgscore"
        try:
            if (package / "__init__.py").is_file():
                compileall.compile_dir(str(package), maxlevels=0, quiet=2)
        except OSError:  # a path entry this user may not look into: the server may still read it
            continue


def free_port() -> int:
    """An unused TCP port on loopback (for tests)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError as e:
            return e.errno == errno.EADDRINUSE
    return False


def start_hint(log_tail: str, data_dir, log_file) -> str:
    """What to do when the server did not start. On a full disk it cannot: its crash recovery writes a new
    WAL segment (16 MB) before it accepts a connection, so no tool of pgscore's can free space until then."""
    if "No space left on device" in log_tail:
        try:
            free = shutil.disk_usage(data_dir).free // 2**20
        except OSError:
            free = None
        return (f"the disk holding {data_dir} is full" + (f" ({free} MB free)" if free is not None else "")
                + ": PostgreSQL needs room for at least a 16 MB WAL segment to start. Free space on that disk "
                "outside the data directory (never delete files under pg_wal), start it again, then drop old "
                f"days of the prediction log with {command('maintain')} --keep (docs/operations-disk.md)")
    return f"see {log_file}"


@contextlib.contextmanager
def sigterm_as_ctrl_c():
    """While the block runs, a SIGTERM unwinds as Ctrl-C does (KeyboardInterrupt: finally blocks run, what was
    started is stopped); the handler before is restored at its end (main thread only, as signal.signal)."""
    def interrupted(signum, frame):
        raise KeyboardInterrupt

    before = signal.signal(signal.SIGTERM, interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


@contextlib.contextmanager
def scratch_database(name: str, prefix: str):
    """A throwaway cluster (a temporary folder named from prefix, a free port) holding one database, name, with the
    pgscore schema at head, for a script's simulation (scripts/drift_noise.py, scripts/floor_edges.py); yields the
    database's URL, and destroys the cluster and its folder at the block's end, also on an error or Ctrl-C (and on
    SIGTERM, through sigterm_as_ctrl_c)."""
    from pgscore import migrate

    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    cluster = Cluster(data_dir=tmp / "data", port=free_port())
    with sigterm_as_ctrl_c():
        try:
            cluster.start()
            cluster._ensure_database(name)
            url = cluster.url(name)
            migrate.upgrade(url)
            yield url
        finally:
            cluster.destroy()
            shutil.rmtree(tmp, ignore_errors=True)


@dataclass
class Cluster:
    """One local cluster: its data directory, port and the OS user that runs it."""

    data_dir: Path = field(default_factory=default_data_dir)
    port: int | None = None
    bin_dir: Path = field(default_factory=pg_bin_dir)
    log: object = None  # a callable that prints progress; None = silent
    python_path: list[str] | None = None  # what the server imports from; None = this environment
    signing_key: str | None = None  # PGSCORE_SIGNING_KEY_FILE for the server; None = as at the last start

    def __post_init__(self):
        self.data_dir = Path(self.data_dir).absolute()
        state = self._read_state()
        if self.port is None:
            self.port = state.get("port", DEFAULT_PORT)

    # -- the cluster a benchmark script runs in ----------------------------------
    @staticmethod
    def add_arguments(ap):
        """A script's --data-dir DIR and --port PORT (argparse), which from_args reads: the cluster it runs in,
        the embedded one by default (the benchmark scripts under scripts/)."""
        ap.add_argument("--data-dir", help="the cluster's data directory (default: the embedded cluster's)")
        ap.add_argument("--port", type=int, help="its port (default: the one it was last started on, else "
                                                 f"{DEFAULT_PORT})")

    @classmethod
    def from_args(cls, ap, args) -> Cluster:
        """The cluster add_arguments' --data-dir and --port name; an empty --data-dir ("$DIR" with DIR unset) is
        an error of `ap`, not the embedded cluster."""
        if args.data_dir == "":
            ap.error("--data-dir is empty: give the cluster's directory (or leave --data-dir out for the embedded one)")
        return cls(**{k: v for k, v in (("data_dir", args.data_dir), ("port", args.port)) if v is not None})

    # -- who runs the server -------------------------------------------------
    @property
    def as_root(self) -> bool:
        return os.geteuid() == 0

    @property
    def server_user(self) -> str:
        if self.as_root:
            return os.environ.get("PGSCORE_SERVER_USER", "postgres")
        return pwd.getpwuid(os.geteuid()).pw_name

    def _server_pw(self):
        try:
            return pwd.getpwnam(self.server_user)
        except KeyError:
            raise ClusterError(
                f"the OS user {self.server_user!r} that should run PostgreSQL does not exist",
                hint="PostgreSQL refuses to run as root; install postgresql-15 (it creates the "
                "'postgres' user) or set PGSCORE_SERVER_USER to an unprivileged user.",
            ) from None

    def _as_server(self, argv: list[str], env: dict | None = None) -> list[str]:
        envs = [f"{k}={v}" for k, v in (env or {}).items()]
        if self.as_root:
            return ["runuser", "-u", self.server_user, "--", "env", *envs, *argv]
        return ["env", *envs, *argv] if envs else argv

    def _run(self, argv, env=None, check=True):
        proc = subprocess.run(self._as_server(argv, env), capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise ClusterError(
                f"{Path(argv[0]).name} failed (exit {proc.returncode})",
                detail=(proc.stderr or proc.stdout).strip()[-2000:],
            )
        return proc

    def _say(self, msg):
        if self.log:
            self.log(msg)

    # -- paths and state -----------------------------------------------------
    @property
    def socket_dir(self) -> Path:
        d = self.data_dir / "run"
        # unix socket paths are limited to 107 bytes
        if len(str(d / f".s.PGSQL.{self.port}")) > 100:
            digest = hashlib.sha1(str(self.data_dir).encode()).hexdigest()[:10]
            d = Path("/tmp") / f"pgscore-{digest}"
        return d

    @property
    def log_file(self) -> Path:
        return self.data_dir / "log" / "server.log"

    def _read_state(self) -> dict:
        try:
            return json.loads((self.data_dir / STATE_FILE).read_text())
        except (OSError, ValueError):
            return {}

    def _write_as_server(self, path: Path, text: str, mode=0o600):
        path.write_text(text)
        os.chmod(path, mode)
        if self.as_root:
            pw = self._server_pw()
            os.chown(path, pw.pw_uid, pw.pw_gid)

    @property
    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def require_own(self) -> None:
        """Refuse a cluster pgscore did not create (initdb'd by someone else: no state file): its port, socket,
        password and settings are not pgscore's to know or to rewrite."""
        if not self.initialized or (self.data_dir / STATE_FILE).exists():
            return
        try:  # a running server's postmaster.pid: pid, data dir, start time, port, socket directory, ...
            pid_lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
            port, sockets = pid_lines[3].strip(), pid_lines[4].strip()
        except (OSError, IndexError):
            port = sockets = None
        where = (f"postgresql://USER@/DBNAME?host={sockets}&port={port}" if port and sockets else
                 "postgresql://USER@HOST:PORT/DBNAME")
        raise ClusterError(
            f"{self.data_dir} holds a PostgreSQL cluster that pgscore did not create (it has no {STATE_FILE}); "
            "pgscore db starts, stops and describes only the clusters it creates",
            hint=f"reach this one with --db {shlex.quote(where)} (or PGSCORE_DATABASE_URL)"
                 + (f", as it runs now on port {port}" if port else "")
                 + "; manage it with pg_ctl; or give pgscore db a --data-dir of its own")

    def url(self, dbname: str = DEFAULT_DB, tcp: bool = False) -> str:
        """A libpq/SQLAlchemy URL: over the private socket, or over TCP with the password."""
        db = quote(dbname, safe="")  # libpq decodes it: a name holding %, ? or # names itself so
        if tcp:
            pw = self._read_state().get("password", "")
            return f"postgresql://{SUPERUSER}:{quote(pw, safe='')}@127.0.0.1:{self.port}/{db}"
        return f"postgresql://{SUPERUSER}@/{db}?host={quote(str(self.socket_dir), safe='/')}&port={self.port}"

    def dsn(self, dbname: str = DEFAULT_DB) -> dict:
        return {"host": str(self.socket_dir), "port": self.port, "user": SUPERUSER, "dbname": dbname}

    # -- checks --------------------------------------------------------------
    def _check_binaries(self):
        for name in ("initdb", "pg_ctl", "postgres"):
            if not (self.bin_dir / name).exists():
                raise ClusterError(
                    f"PostgreSQL server binaries not found in {self.bin_dir} ({name} is missing)",
                    hint="install them with: apt-get install postgresql-15 postgresql-plpython3-15 "
                    "(or set PGSCORE_PG_BIN to the directory holding initdb and pg_ctl)",
                )
        plpython = Path("/usr/share/postgresql/15/extension/plpython3u.control")
        if self.bin_dir == Path("/usr/lib/postgresql/15/bin") and not plpython.exists():
            raise ClusterError(
                "PL/Python (plpython3u) is not installed for PostgreSQL 15",
                hint="install it with: apt-get install postgresql-plpython3-15",
            )

    def _check_reachable(self, path: Path, what: str):
        """As root, make sure the server's OS user can reach `path`; add o+x to ancestors if not."""
        if not self.as_root:
            return
        probe = subprocess.run(self._as_server(["test", "-r", str(path)]), capture_output=True)
        if probe.returncode == 0:
            return
        fixed = []
        for parent in reversed(path.parents):
            st = parent.stat()
            if not st.st_mode & stat.S_IXOTH:
                os.chmod(parent, st.st_mode | stat.S_IXOTH)
                fixed.append(str(parent))
        probe = subprocess.run(self._as_server(["test", "-r", str(path)]), capture_output=True)
        if probe.returncode != 0:
            raise ClusterError(
                f"the server's OS user {self.server_user!r} cannot read {what} at {path}",
                hint=f"make {path} readable by {self.server_user!r}, or move the checkout "
                "somewhere it can read (for example under /opt or /srv)",
            )
        if fixed:
            self._say(f"let {self.server_user} traverse (o+x) {', '.join(fixed)} to reach {what}")

    def _check_data_dir_owner(self):
        if not self.data_dir.exists():
            return
        if not self.data_dir.is_dir():
            raise ClusterError(f"{self.data_dir} is not a directory", hint="give --data-dir a directory (a new "
                               "one is created, with the server's user as its owner)")
        st = self.data_dir.stat()
        pw = self._server_pw()
        if st.st_uid != pw.pw_uid:
            try:
                owner = pwd.getpwuid(st.st_uid).pw_name
            except KeyError:
                owner = f"uid {st.st_uid}"
            chown = f"chown -R {self.server_user} {self.data_dir}"
            if not self.initialized and self._holds_files():  # no cluster: giving it away would not make one,
                raise ClusterError(  # and would give the server's user the files of whoever keeps them there
                    f"data directory {self.data_dir} is owned by {owner}, but the server runs as "
                    f"{self.server_user}; and it holds files, not a PostgreSQL cluster",
                    hint="choose another --data-dir: a new directory (it is created) or an empty one")
            raise ClusterError(
                f"data directory {self.data_dir} is owned by {owner}, but the server runs as "
                f"{self.server_user}",
                hint=f"choose another --data-dir, or give it to the server user: {chown}" if self.as_root else
                # an ordinary user may not chown: the server runs as it, and the command is root's to run
                f"choose another --data-dir (a directory of yours: the server runs as you), or have root give "
                f"it to you: {chown}",
            )
        if not self.initialized and self._holds_files():
            raise ClusterError(
                f"data directory {self.data_dir} is not empty and holds no PostgreSQL cluster",
                hint="choose another --data-dir, or empty this one",
            )

    def _holds_files(self) -> bool:
        """The data directory holds something (False where this user may not list it)."""
        try:
            return any(self.data_dir.iterdir())
        except OSError:
            return False

    # -- lifecycle -----------------------------------------------------------
    def init(self):
        """initdb a new cluster owned by the server user, with pgscore's settings."""
        self._check_binaries()
        self._check_data_dir_owner()
        pw = self._server_pw()
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:  # a parent this user may not write (/var/lib as an ordinary user), or a file
            where = (f"PGSCORE_DATA_DIR={shlex.quote(os.environ['PGSCORE_DATA_DIR'])} names it; "
                     if os.environ.get("PGSCORE_DATA_DIR") and Path(os.environ["PGSCORE_DATA_DIR"]).absolute()
                     == self.data_dir else "")
            raise ClusterError(
                f"cannot create the data directory {self.data_dir}: {e.strerror or e}"
                + (f" ({e.filename})" if e.filename and Path(e.filename) != self.data_dir else ""),
                hint=f"{where}give --data-dir a directory you may create (the default, without "
                f"PGSCORE_DATA_DIR: {builtin_data_dir()}), "
                f"or have this one made for you, empty and owned by {self.server_user}") from None
        if self.as_root:
            os.chown(self.data_dir, pw.pw_uid, pw.pw_gid)
        os.chmod(self.data_dir, 0o700)
        self._check_reachable(self.data_dir, "the data directory")
        password = secrets.token_urlsafe(18)
        if self.as_root:  # beside the data directory, which the server's OS user was just let reach
            pwfile = self.data_dir.parent / f".pgscore-pw-{os.getpid()}"
        else:  # the server runs as this user: a temp file of its own (the parent may be an admin's, read-only)
            fd, name = tempfile.mkstemp(prefix=".pgscore-pw-")
            os.close(fd)
            pwfile = Path(name)
        try:
            self._write_as_server(pwfile, password + "\n")
            self._say(f"initialising a new cluster in {self.data_dir}")
            self._run([
                str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", SUPERUSER,
                "--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}",
                "-E", "UTF8", "--no-locale", "--no-instructions",
            ])
        finally:
            pwfile.unlink(missing_ok=True)
        state = {"port": self.port, "password": password, "created_at": time.time()}
        self._write_as_server(self.data_dir / STATE_FILE, json.dumps(state))
        with open(self.data_dir / "postgresql.conf", "a") as f:
            f.write(f"\ninclude_if_exists = '{CONF_FILE}'\n")
        (self.data_dir / "log").mkdir(exist_ok=True)
        if self.as_root:
            os.chown(self.data_dir / "log", pw.pw_uid, pw.pw_gid)

    def _signing_key(self) -> str | None:
        """--signing-key of this start, else the one remembered from the last ('' turns signing off)."""
        state = self._read_state()
        if self.signing_key is not None:
            state["signing_key"] = str(Path(self.signing_key).absolute()) if self.signing_key else ""
            self._write_as_server(self.data_dir / STATE_FILE, json.dumps(state))
        return state.get("signing_key") or None

    def _write_conf(self, pypath):
        conf = "\n".join([
            "# written by pgscore at every start, and read after postgresql.conf, whose settings these override; "
            "ALTER SYSTEM (postgresql.auto.conf, read last) overrides them",
            f"port = {self.port}",
            "listen_addresses = '127.0.0.1'",
            f"unix_socket_directories = '{self.socket_dir}'",
            "unix_socket_permissions = 0700",
            "max_connections = 100",
            "shared_buffers = '256MB'",
            "timezone = 'UTC'",
            "log_min_messages = warning",
            "",
        ])
        self._write_as_server(self.data_dir / CONF_FILE, conf)
        state = self._read_state()
        state["port"] = self.port
        state["python_path"] = pypath  # what a later start compares with, while this server runs
        self._write_as_server(self.data_dir / STATE_FILE, json.dumps(state))

    def running(self) -> bool:
        if not self.initialized:
            return False
        proc = self._run([str(self.bin_dir / "pg_ctl"), "status", "-D", str(self.data_dir)], check=False)
        return proc.returncode == 0

    def pid(self) -> int | None:
        try:
            return int((self.data_dir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def _refuse_a_port_in_use(self):
        if port_in_use(self.port):
            raise ClusterError(
                f"port {self.port} is already in use on 127.0.0.1",
                hint="choose another with --port, or stop whatever listens there",
            )

    def _python_path(self) -> list[str]:
        return server_python_path() if self.python_path is None else list(self.python_path)

    def start(self) -> bool:
        """Start the cluster (initialising it first if needed); False if it was already running."""
        if self.signing_key:  # a key the server would refuse at every load: refused here, before anything
            from pgscore.artifacts import read_key
            from pgscore.errors import SignatureError

            try:
                read_key(self.signing_key)
            except SignatureError as e:
                # (its message alone: its hint is about the server's environment, which db start sets itself)
                raise ClusterError(f"--signing-key: {e.message}",
                                   hint="make a key with: head -c 32 /dev/urandom | base64 > FILE") from e
        self._check_binaries()
        if not self.initialized:
            # before initdb: a cluster made for a port it cannot start on stayed, remembering that port
            self._refuse_a_port_in_use()
            self.init()
        else:
            self._check_data_dir_owner()
        if self.running():
            # a different --port or --signing-key for a running cluster cannot take effect
            state = self._read_state()
            running_port = state.get("port")
            if running_port and running_port != self.port:
                raise ClusterError(
                    f"the cluster in {self.data_dir} is already running on port {running_port}",
                    hint=f"stop it first ({command('db stop', self.data_dir)}) to change its port",
                )
            running_key = state.get("signing_key") or None  # what the last start gave the server
            wanted = str(Path(self.signing_key).absolute()) if self.signing_key else None
            if self.signing_key is not None and wanted != running_key:
                # signing is a security setting: refuse rather than leave it silently as it was
                given = f"--signing-key {shlex.quote(wanted or '')}"
                raise ClusterError(
                    f"the cluster in {self.data_dir} is already running "
                    + (f"with the signing key {running_key}" if running_key else "without a signing key")
                    + f"; {given} cannot take effect while it runs",
                    hint=f"stop it first ({command('db stop', self.data_dir)}), then start it again with {given}",
                )
            self._say(f"PostgreSQL is already running in {self.data_dir} (pid {self.pid()})")
            running_path, mine = state.get("python_path"), self._python_path()
            if running_path and running_path != mine:  # another checkout's or environment's pgscore started it
                self._say(f"note: it imports pgscore from {os.pathsep.join(running_path)}, not from this pgscore's "
                          f"{os.pathsep.join(mine)}; restart it to serve this one: {command('db stop', self.data_dir)}"
                          f" then {command('db start', self.data_dir)}")
            return False
        pidfile = self.data_dir / "postmaster.pid"
        if pidfile.exists():
            self._say(f"removing stale pid file {pidfile} (pid {self.pid()} is not a running server)")
            pidfile.unlink()
        self._refuse_a_port_in_use()
        pypath = self._python_path()
        for p in pypath:
            self._check_reachable(Path(p), "the Python environment")
        compile_sources(pypath)
        sock = self.socket_dir
        sock.mkdir(mode=0o700, exist_ok=True)
        if self.as_root:
            pw = self._server_pw()
            os.chown(sock, pw.pw_uid, pw.pw_gid)
        self._write_conf(pypath)
        env = {"PYTHONPATH": os.pathsep.join(pypath), **SERVER_THREAD_ENV}
        key = self._signing_key()
        if key:
            self._check_reachable(Path(key), "the signing key")
            env["PGSCORE_SIGNING_KEY_FILE"] = key
        self._say(f"starting PostgreSQL on port {self.port} as {self.server_user}")
        proc = self._run(
            [str(self.bin_dir / "pg_ctl"), "start", "-D", str(self.data_dir), "-l", str(self.log_file),
             "-w", "-t", "60"],
            env=env, check=False,
        )
        if proc.returncode != 0:
            tail = self.log_tail()
            raise ClusterError(
                f"PostgreSQL did not start (pg_ctl exit {proc.returncode})",
                detail=tail or proc.stderr.strip(),
                hint=start_hint(tail, self.data_dir, self.log_file),
            )
        self._ensure_database()
        return True

    def _ensure_database(self, dbname: str = DEFAULT_DB):
        import psycopg2

        conn = psycopg2.connect(**self.dsn("postgres"))
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,))
                if cur.fetchone() is None:
                    from psycopg2 import sql

                    cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        finally:
            conn.close()

    @contextlib.contextmanager
    def started(self, keep_running: bool = False, say=print):
        """Start the cluster if it is not running, for a `with` block (a benchmark's); at its end, also on an
        error or Ctrl-C, stop it if it was started here, unless keep_running. Yields whether it was started here.
        A SIGTERM unwinds as Ctrl-C does while the block runs (sigterm_as_ctrl_c)."""
        with sigterm_as_ctrl_c():
            started = self.start()  # (False: it was running, and is left so)
            try:
                yield started
            finally:
                if started and not keep_running:
                    self.stop()
                    say(f"stopped the cluster it started ({self.data_dir}); --keep-running leaves it running")

    def stop(self) -> bool:
        """Stop the cluster; False if it was not running."""
        if not self.running():
            return False
        self._run([str(self.bin_dir / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "60"])
        return True

    def kill(self):
        """SIGKILL the postmaster (fault tests)."""
        pid = self.pid()
        if pid:
            os.kill(pid, 9)

    def destroy(self):
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)
        sock = self.socket_dir
        if not str(sock).startswith(str(self.data_dir)):
            shutil.rmtree(sock, ignore_errors=True)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def status(self) -> dict:
        running = self.running()  # one pg_ctl call
        return {
            "data_dir": str(self.data_dir),
            "initialized": self.initialized,
            "running": running,
            "pid": self.pid() if running else None,
            "port": self.port,
            "server_user": self.server_user,
            "url": self.url() if self.initialized else None,
            "signing_key": self._read_state().get("signing_key") or None,
        }

