"""Small helpers shared by the tests (not fixtures)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg2
from psycopg2 import sql as _sql

ROOT = Path(__file__).resolve().parents[1]
PGSCORE = [sys.executable, "-m", "pgscore.cli"]


def make_tmpdir(prefix: str) -> Path:
    """A temp dir the server's OS user can traverse (pytest's own tmp dirs are 0700 to root)."""
    d = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(d, 0o755)
    return d


@contextlib.contextmanager
def own_cluster(prefix: str, setup=None, **kw):
    """A started cluster of a test's own in a make_tmpdir directory (its data in `data`); `setup(base)`
    first, for files beside it (returns extra Cluster arguments). Stopped and the directory removed after."""
    from pgscore.localdb import Cluster, free_port

    base = make_tmpdir(prefix)
    try:
        c = Cluster(data_dir=base / "data", port=free_port(), **kw, **(setup(base) if setup else {}))
        try:
            c.start()
            yield c
        finally:
            c.destroy()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def make_shop(url, model, X, y, n_customers, rescore=False):
    """Deploy `model` as churn, create customers 1..n_customers (the first rows of X) and an empty
    complaints table, wired to rescoring when asked; returns an autocommit connection."""
    from pgscore import registry, sample
    from pgscore.datasets import CHURN_FEATURES

    registry.deploy(url, "churn", model, X, y, feature_names=CHURN_FEATURES)
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        sample.create_tables(cur)
        sample.load_customers(cur, X[:n_customers])
        if rescore:
            sample.rescore_complaints(cur)
    return conn


def query(conn_or_url, sql, params=None):
    """Rows of one statement (None for statements without a result)."""
    if isinstance(conn_or_url, str):
        c = psycopg2.connect(conn_or_url)
        c.autocommit = True
        try:
            return query(c, sql, params)
        finally:
            c.close()
    with conn_or_url.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else None


def ensure_role(conn_or_url, name, login=False):
    """Create role `name` (with LOGIN when asked) unless the cluster has it already: roles are the cluster's,
    made by other tests too, and outlive a test's database (and a failed run's)."""
    query(conn_or_url, _sql.SQL("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {}) "
                                "THEN CREATE ROLE {}{}; END IF; END $$").format(
        _sql.Literal(name), _sql.Identifier(name), _sql.SQL(" LOGIN" if login else "")))


def waits_on_a_lock(probe, pid, thread, seconds=10) -> bool:
    """Whether backend `pid` (driven by `thread`) came to wait on a lock within `seconds`."""
    for _ in range(int(seconds / 0.05)):
        if query(probe, "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s", (pid,))[0][0]:
            return True
        thread.join(0.05)
    return False


def run_past_a_lock(url, hold, statement, waiting_for):
    """`hold(conn)` in a transaction left open (what it returns is returned), then `statement` in autocommit
    on another connection, in a thread, until it waits on a lock (`waiting_for` says which, if it never
    does); then the first transaction commits. Returns (what hold returned, the statement's rows)."""
    import threading

    holder, waiter, probe = (psycopg2.connect(url) for _ in range(3))
    waiter.autocommit = probe.autocommit = True
    try:
        held, done = hold(holder), []
        pid = waiter.get_backend_pid()
        t = threading.Thread(target=lambda: done.append(query(waiter, statement)))
        t.start()
        assert waits_on_a_lock(probe, pid, t), f"the statement never waited for {waiting_for}"
        holder.commit()
        t.join(30)
        assert done and not t.is_alive(), "the statement failed or did not finish"
        return held, done[0]
    finally:
        holder.rollback()
        for c in (holder, waiter, probe):
            c.close()


def where_its_user_may_not_write(folder: Path, fn):
    """fn() run by a user who may not write in `folder` (a make_tmpdir; a file in it still writable): as
    root, whom no permission stops, in a forked child that has become nobody (forked, not a new process: it
    needs no access to the checkout, which may lie in a directory private to root, as a CI's clone does;
    what fn uses must be imported before); else by the tests' own user, the folder made read-only. Returns
    fn's result (picklable); what it raised fails the test."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return fn()
    import pickle
    import pwd

    nobody = pwd.getpwnam("nobody")  # (folder is root's, 0755)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never back into pytest
        try:
            os.close(r)
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            os.chdir("/")
            try:
                out = ("ok", fn())
            except BaseException as e:  # noqa: BLE001 - reported to the parent
                out = ("raised", repr(e))
            with os.fdopen(w, "wb") as f:
                pickle.dump(out, f)
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        data = f.read()
    os.waitpid(pid, 0)
    kind, value = pickle.loads(data) if data else ("raised", "the child died")
    assert kind == "ok", f"as nobody: {value}"
    return value


def hinted(url: str) -> str:
    """How a command in a hint names the database its command was run with (--db URL): `pgscore --db URL ...`."""
    import shlex

    return f"--db {shlex.quote(url)} "


def pgscore_cli(*args, env=None, timeout=300):
    """Run the pgscore CLI in a subprocess; returns CompletedProcess with text output."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([*PGSCORE, *args], capture_output=True, text=True, env=full_env, timeout=timeout)


def pgscore_cli_on_a_terminal(*args, timeout=300, size=(24, 120), env=None):
    """The CLI with its stderr on a pseudo-terminal (where the progress bar is drawn) of `size` (lines,
    columns): CompletedProcess with stdout and what the terminal received as stderr. `env` is added to the
    environment (a None value removes the variable)."""
    import fcntl
    import pty
    import select
    import struct
    import termios
    import time

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", *size, 0, 0))  # (a new one has 0 and 0)
    full_env = {**os.environ, **(env or {})}
    full_env = {k: v for k, v in full_env.items() if v is not None}
    try:
        p = subprocess.Popen([*PGSCORE, *args], stdout=subprocess.PIPE, stderr=slave, text=True, env=full_env)
        os.close(slave)
        slave = None
        got, deadline = b"", time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                got += chunk
            elif p.poll() is not None:
                break
        out = p.communicate(timeout=max(1.0, deadline - time.monotonic()))[0]
        return subprocess.CompletedProcess(p.args, p.returncode, out, got.decode(errors="replace"))
    finally:
        os.close(master)
        if slave is not None:
            os.close(slave)


# every object a schema holds, as the database renders it
CATALOG_SQL = """
SELECT 'function', p.oid::regprocedure::text, pg_get_functiondef(p.oid)
  FROM pg_proc p WHERE p.pronamespace = %(ns)s::regnamespace
UNION ALL
SELECT 'view', c.oid::regclass::text, pg_get_viewdef(c.oid)
  FROM pg_class c WHERE c.relnamespace = %(ns)s::regnamespace AND c.relkind IN ('v', 'm')
UNION ALL
SELECT 'column', c.oid::regclass::text || '.' || a.attname::text,
       format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
       || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
       || CASE WHEN a.attidentity <> '' THEN ' IDENTITY ' || a.attidentity::text ELSE '' END
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
 WHERE c.relnamespace = %(ns)s::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
UNION ALL
SELECT 'relation', c.oid::regclass::text, c.relkind::text || coalesce(' ' || pg_get_partkeydef(c.oid), '')
  FROM pg_class c WHERE c.relnamespace = %(ns)s::regnamespace AND c.relkind NOT IN ('i', 'I', 'S')
UNION ALL
SELECT 'index', c.oid::regclass::text, pg_get_indexdef(c.oid)
  FROM pg_class c WHERE c.relnamespace = %(ns)s::regnamespace AND c.relkind IN ('i', 'I')
UNION ALL
SELECT 'constraint', k.conrelid::regclass::text || '.' || k.conname::text, pg_get_constraintdef(k.oid)
  FROM pg_constraint k WHERE k.connamespace = %(ns)s::regnamespace
UNION ALL
SELECT 'trigger', t.tgrelid::regclass::text || '.' || t.tgname::text, pg_get_triggerdef(t.oid)
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE c.relnamespace = %(ns)s::regnamespace AND NOT t.tgisinternal
UNION ALL
SELECT 'comment', pg_describe_object(d.classoid, d.objoid, d.objsubid), d.description
  FROM pg_description d
 WHERE (d.classoid = 'pg_class'::regclass AND d.objoid IN (SELECT oid FROM pg_class WHERE relnamespace = %(ns)s::regnamespace))
    OR (d.classoid = 'pg_proc'::regclass AND d.objoid IN (SELECT oid FROM pg_proc WHERE pronamespace = %(ns)s::regnamespace))
UNION ALL
-- rights as a set: no ACL means the owner's default rights (which a downgrade may spell out), and the
-- order of the entries means nothing
SELECT 'acl', c.oid::regclass::text,
       (SELECT string_agg(a::text, ',' ORDER BY a::text)
          FROM unnest(coalesce(c.relacl, acldefault(CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::"char", c.relowner))) a)
  FROM pg_class c WHERE c.relnamespace = %(ns)s::regnamespace
UNION ALL
SELECT 'acl', p.oid::regprocedure::text,
       (SELECT string_agg(a::text, ',' ORDER BY a::text) FROM unnest(coalesce(p.proacl, acldefault('f', p.proowner))) a)
  FROM pg_proc p WHERE p.pronamespace = %(ns)s::regnamespace
UNION ALL
-- a column's own rights (GRANT INSERT (...) ON ...: the app's on the log since 0127, the marker's created_at), as a
-- set; without them a downgrade that left a column grant behind, or an install that granted other columns than
-- the revisions, compared equal
SELECT 'column acl', c.oid::regclass::text || '.' || a.attname::text,
       (SELECT string_agg(x::text, ',' ORDER BY x::text) FROM unnest(a.attacl) x)
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.relnamespace = %(ns)s::regnamespace AND a.attacl IS NOT NULL
ORDER BY 1, 2, 3
"""


# the log's daily partitions are named by the UTC day they were made on (create_log_partitions at
# install): two builds either side of midnight hold the same schema under other dates
DATED_PARTITION = re.compile(r"prediction_log_\d{8}")


def catalog(url, schema="pgscore"):
    rows = query(url, CATALOG_SQL, {"ns": schema})
    return sorted((tuple(DATED_PARTITION.sub("prediction_log_<day>", v) if isinstance(v, str) else v for v in row)
                  for row in rows), key=lambda row: tuple("" if v is None else str(v) for v in row))


def database_objects(url):
    """Everything user-visible in a database outside the system schemas (for 'removes nothing else')."""
    return query(url, """
        SELECT 'schema', nspname, '' FROM pg_namespace
         WHERE nspname NOT LIKE 'pg\\_%%' AND nspname <> 'information_schema'
        UNION ALL SELECT 'extension', extname, extversion FROM pg_extension
        UNION ALL SELECT 'relation', c.oid::regclass::text, c.relkind::text FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname NOT LIKE 'pg\\_%%' AND n.nspname <> 'information_schema'
        UNION ALL SELECT 'function', p.oid::regprocedure::text, '' FROM pg_proc p
         JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname NOT LIKE 'pg\\_%%' AND n.nspname <> 'information_schema'
        UNION ALL SELECT 'role', rolname, '' FROM pg_roles WHERE rolname NOT LIKE 'pg\\_%%'
        ORDER BY 1, 2""")


def nested_statements(conn, sql, analyze=None):
    """The text of every statement run inside `sql` (auto_explain, superuser only); with analyze true, the plans
    show the rows each node returned (`actual ... rows=N`); None leaves the session's auto_explain.log_analyze as
    it is (tests that SET it themselves read `(never executed)` off their plans)."""
    with conn.cursor() as cur:
        cur.execute("LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; "
                    "SET auto_explain.log_nested_statements = on; SET client_min_messages = log")
        if analyze is not None:
            cur.execute("SET auto_explain.log_analyze = %s", ("on" if analyze else "off",))
        del conn.notices[:]
        try:
            cur.execute(sql)
        finally:
            cur.execute("RESET client_min_messages; SET auto_explain.log_min_duration = -1")
            if analyze is not None:
                cur.execute("RESET auto_explain.log_analyze")
    return [n for n in conn.notices if "Query Text:" in n and not _superuser_guard(n)]


def _superuser_guard(notice):
    """Whether an auto_explain notice is one of the statements by which a superuser's write asks whose code it would
    run (pgscore.superuser.others_code, session 62: the question, the tables' names, their lock, the roles), which
    nested_statements' callers (a superuser: auto_explain is loaded by one) did not count: the trigger's write path
    is what they read."""
    from pgscore import superuser

    text = notice.split("Query Text: ", 1)[1]
    return text.startswith((superuser._SUPERUSER[:40], superuser._NAMES[:40], superuser._OTHERS_CODE[:40],
                            superuser._TREE[:40], "LOCK TABLE ONLY "))


def plans_of(ran):
    """The plans of nested_statements' statements, without their text (a plan of two statements
    shows the text of both with each)."""
    return [n.split("Query Text: ", 1)[1].split("\n", 1)[1] for n in ran]


class StopAtFirstChunk:
    """A progress bar for scoring._progress that interrupts a run (KeyboardInterrupt, as Ctrl-C) once its first
    chunk is committed: `monkeypatch.setattr(scoring, "_progress", lambda *a: StopAtFirstChunk())`."""

    def update(self, n):
        raise KeyboardInterrupt

    def close(self):
        pass


def ohe_model_over_a_wired_table(db_url, path, seed):
    """A one-hot pipeline (features x, c1, c2) dumped to `path`, and `oprof` wired to rescore with 'ohe' from `oev`,
    its x NULL in every tenth of its 100 rows (analysed): what the go-live NULL check warns of once 'ohe' is live."""
    import joblib
    import numpy as np
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(seed)
    X3 = np.column_stack([rng.normal(size=300), rng.integers(1, 4, 300), rng.integers(1, 4, 300)]).astype(float)
    model = make_pipeline(ColumnTransformer([("n", "passthrough", [0]), ("c", OneHotEncoder(), [1, 2])]),
                          LogisticRegression()).fit(X3, X3[:, 0] + X3[:, 1] > 2)
    joblib.dump(model, path)
    query(db_url, "CREATE TABLE oprof (id int PRIMARY KEY, x float8, c1 float8, c2 float8, s float8, "
                  "scored_at timestamptz); CREATE TABLE oev (cid int); "
                  "INSERT INTO oprof SELECT g, CASE WHEN g % 10 = 0 THEN NULL ELSE 1 END, 1, 2 "
                  "FROM generate_series(0, 99) g; ANALYZE oprof; "
                  "SELECT pgscore.attach_rescoring('oev', 'oprof', 'cid', 'ohe', 's', p_profile_key => 'id', "
                  "p_missing_profile => 'queue')")
    return model
