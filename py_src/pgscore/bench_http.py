"""The HTTP alternative in `pgscore bench`: per-customer rescoring inside the database against a model
server that the application calls.

Both paths do the same work for one complaint about one customer, in one
transaction, from the same client harness (separate processes, one
connection each, on loopback):

- pgscore: INSERT the complaint into a table wired by attach_rescoring; the
  trigger updates the counters, rescores the profile and writes the audit row;
- HTTP: "BEGIN", the profile locked, and one statement that inserts the
  complaint into an unwired table and updates the same counters RETURNING
  the profile's features (one round trip); POST them to the model server (gunicorn, several workers,
  keep-alive connections); the score and scored_at written back with the
  COMMIT (one more round trip). It writes no audit row, which favours it.
  The model server scores either with the estimator's own predict_proba
  (what a user would run) or with pgscore's compiled evaluator (the same
  arithmetic as inside the database), so the report separates the cost of
  the architecture from the cost of the engine.

Each runs at 1 and 8 clients for a fixed time; the report gives
transactions/s, p50 and p99 latency, the ratios, and the resident memory of
a scoring backend (when the database runs on this machine) against a
model-server worker.
"""

from __future__ import annotations

import contextlib
import http.client
import math
import json
import multiprocessing
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pgscore.bench import take_turns

WORKERS = 4  # gunicorn workers (processes), each with one thread, on a 2-core machine


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent():
    """In the gunicorn child before exec: SIGTERM it when the benchmark's process dies, however it dies."""
    import ctypes
    import signal

    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@contextlib.contextmanager
def model_server(estimator, workers=WORKERS, engine="sklearn"):
    """gunicorn serving `estimator` on 127.0.0.1 (engine: sklearn's predict_proba, or pgscore's compiled
    evaluator); yields (port, master pid); stopped, and its files removed, whatever happens."""
    import joblib

    with tempfile.TemporaryDirectory(prefix="pgscore-http-") as d:
        model_file, log_file = Path(d) / "model.joblib", Path(d) / "gunicorn.log"
        joblib.dump(estimator, model_file)
        port = _free_port()
        env = {**os.environ, "PGSCORE_MODEL_FILE": str(model_file), "PGSCORE_MODEL_ENGINE": engine,
               "PGSCORE_MODEL_READY_DIR": d,
               "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        with open(log_file, "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
                 "--worker-class", "gthread", "--threads", "1", "--keep-alive", "60", "--log-level", "warning",
                 "--no-control-socket",  # else gunicorn makes ~/.gunicorn/ for a socket nobody uses
                 "pgscore.modelserver:app"],
                env=env, stdout=subprocess.DEVNULL, stderr=log, preexec_fn=_die_with_parent)
        try:
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"gunicorn exited: {log_file.read_text(errors='replace')[-500:]}")
                # every worker has loaded the model (a cold one would load it inside a measured run, where
                # its first request took ~1 s), and gunicorn listens
                if len(list(Path(d).glob("ready-*"))) >= workers:
                    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start listening with every worker's model loaded "
                                       "within 60 s")
                time.sleep(0.1)
            yield port, proc.pid
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _score(conn: http.client.HTTPConnection, features) -> float:
    conn.request("POST", "/score", json.dumps({"features": features}), {"Content-Type": "application/json"})
    r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        raise RuntimeError(f"model server answered {r.status}: {body[:200]!r}")
    return json.loads(body)["score"]


_READY = None  # a client process's barrier: the clock starts once every client has connected


def _set_ready(barrier):
    global _READY
    _READY = barrier


def _transaction(kind, cur, web, sql, cid):
    """One complaint about customer `cid`, rescored: by the trigger, or through the model server."""
    if kind == "pgscore":
        cur.execute(sql["insert"], (cid,))
        return
    cur.execute(sql["counters"], (cid, cid, cid))  # BEGIN; lock; complaint and counters, RETURNING features
    try:
        features = cur.fetchone()[0]
        cur.execute(sql["write"], (_score(web, features), cid))  # the score; COMMIT
    except BaseException:
        cur.execute("ROLLBACK")
        raise


def _client(job) -> list[float]:
    """One client process: its transactions' latencies in ms, for `seconds` from when all are connected."""
    import psycopg2

    kind, dsn, port, sql, n_customers, seconds, seed = job
    rng = random.Random(seed)
    try:
        db = psycopg2.connect(dsn)
        web = http.client.HTTPConnection("127.0.0.1", port, timeout=30) if kind == "http" else None
        if web is not None:
            web.connect()  # before the clock starts, like the database connection
    except BaseException:
        _READY.abort()  # the other clients stop waiting for this one
        raise
    db.autocommit = True  # the HTTP path sends BEGIN and COMMIT with its statements: 2 round trips, not 4
    cur = db.cursor()
    lat = []
    try:  # one transaction before the clock: a warm session on both sides (the model server's workers
        _transaction(kind, cur, web, sql, rng.randint(1, n_customers))  # loaded their model at start)
    except BaseException:
        _READY.abort()
        raise
    _READY.wait(timeout=120)
    end = time.time() + seconds
    while time.time() < end:
        cid = rng.randint(1, n_customers)
        t = time.perf_counter()
        _transaction(kind, cur, web, sql, cid)
        lat.append((time.perf_counter() - t) * 1000)
    db.close()
    if web is not None:
        web.close()
    return lat


def _run_clients(kind, dsn, port, sql, n_customers, clients, seconds) -> tuple[float, list[float]]:
    """(transactions/s, latencies) of `clients` processes running together for `seconds`."""
    ctx = multiprocessing.get_context("spawn")  # no inherited connections or thread pools
    jobs = [(kind, dsn, port, sql, n_customers, seconds, 1000 * clients + i) for i in range(clients)]
    with ctx.Pool(clients, initializer=_set_ready, initargs=(ctx.Barrier(clients),)) as pool:
        results = pool.map(_client, jobs, chunksize=1)
    lat = [v for r in results for v in r]
    return len(lat) / seconds, lat


def _memory_kib(pid: int) -> tuple[int | None, int | None]:
    """(RSS, PSS) of a process in KiB, None where /proc does not say (or may not be read)."""
    def field(path, name):
        with contextlib.suppress(OSError, ValueError):
            for line in Path(path).read_text().splitlines():
                if line.startswith(name + ":"):
                    return int(line.split()[1])
        return None
    return field(f"/proc/{pid}/status", "VmRSS"), field(f"/proc/{pid}/smaps_rollup", "Pss")


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (gunicorn's workers), from /proc/*/stat."""
    kids = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                if int((p / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    kids.append(int(p.name))
    return sorted(kids)


def _local(url) -> bool:
    """Whether the database server runs on this machine (a socket directory or loopback)."""
    from psycopg2.extensions import parse_dsn

    host = parse_dsn(url).get("host") or ""
    return host == "" or host.startswith("/") or host in ("localhost", "127.0.0.1", "::1")


MEMORY_BACKEND = "memory: a scoring backend after rescoring, PSS"
MEMORY_WORKER = "memory: a model-server worker, PSS"


def _memory_row(rep, what, mem, note="", ref=None):
    """A row of the summary: the process's PSS in MiB (what it costs the machine of its own; RSS counts
    the shared libraries of every process again), RSS in the note; RSS where PSS is not readable (the
    row then says so, and is compared with no PSS row)."""
    rss, pss = mem
    if rss is not None:
        rep.add(what if pss is not None else what.replace("PSS", "RSS"), (pss if pss is not None else rss) / 1024,
                1.0, "MiB", ", ".join(filter(None, (_fmt_mem(rss, pss), note))), ref=ref if pss is not None else None)


def _fmt_mem(rss, pss) -> str:
    return "?" if rss is None else f"{rss / 1024:.0f} MiB RSS" + ("" if pss is None else f", {pss / 1024:.0f} MiB PSS")


def _t(name):
    from psycopg2 import sql as q

    from pgscore import bench_rescoring

    return q.Identifier(bench_rescoring.SCHEMA, name)


def prepare(cur, X, n_customers) -> dict:
    """The customers and event tables (bench_rescoring.setup, model `logit` wired), and each path's SQL."""
    from psycopg2 import sql as q

    from pgscore import bench_rescoring
    from pgscore.datasets import CHURN_FEATURES

    bench_rescoring.setup(cur, X, n_customers)
    feats = q.SQL("ARRAY[{}]::float8[]").format(q.SQL(", ").join(q.Identifier(f) for f in CHURN_FEATURES))
    statements = {
        "pgscore": {"insert": q.SQL("INSERT INTO {} (customer_id) VALUES (%s)").format(_t("events_pgscore"))},
        "http": {
            # the profile locked first (a recount under another transaction's lock would miss its complaint:
            # READ COMMITTED re-checks the row, not the subquery), then the complaint and the same counters
            # attach_rescoring keeps (sample.COUNTERS: a count, a 30-day window, a max) in one statement,
            # whose recount does not see the complaint it inserts, hence + 1; one round trip in all
            "counters": q.SQL(
                "BEGIN; SELECT 1 FROM {c} WHERE id = %s FOR UPDATE; "
                "WITH e AS (INSERT INTO {e} (customer_id) VALUES (%s)) "
                "UPDATE {c} c SET support_calls = c.support_calls + 1, "
                "last_complaint_at = greatest(c.last_complaint_at, now()), "
                "complaints_30d = (SELECT count(*) FROM {e} e WHERE e.customer_id = c.id "
                "AND e.created_at >= now() - interval '30 days') + 1 WHERE c.id = %s RETURNING {f}").format(
                    c=_t("customers"), e=_t("events_plain"), f=feats),
            "write": q.SQL("UPDATE {} SET churn_score = %s, scored_at = now() WHERE id = %s; COMMIT").format(
                _t("customers")),
        },
    }
    return {k: {n: s.as_string(cur) for n, s in v.items()} for k, v in statements.items()}


def cleanup(cur):
    """Detach what is wired in the bench schema and drop it; each step tried even if the other fails."""
    import psycopg2
    from psycopg2 import sql as q

    from pgscore import bench_rescoring

    with contextlib.suppress(psycopg2.Error):
        bench_rescoring.detach_all(cur)
    with contextlib.suppress(psycopg2.Error):
        cur.execute(q.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(q.Identifier(bench_rescoring.SCHEMA)))


def latency(ms: list) -> tuple[float, float]:
    """p50 and p99 of a run's latencies; a run stalled so long that it finished fewer than two
    transactions still reports what it has (NaN for none) instead of failing the benchmark."""
    if len(ms) < 2:
        return (ms[0], ms[0]) if ms else (math.nan, math.nan)
    return statistics.median(ms), statistics.quantiles(ms, n=100)[98]


LABELS = {"pgscore": "pgscore: INSERT, rescored by the trigger",
          "sklearn": "HTTP: lock+count, POST (predict_proba), write",
          "compiled": "HTTP: lock+count, POST (compiled), write"}


def run(url, rep, X, estimator, quick=False, say=print):
    """Measure the three paths at 1 and 8 clients; adds rows to `rep` and prints the ratios."""
    import psycopg2

    n_customers = 20_000 if quick else 100_000
    seconds = 1.5 if quick else 10
    say(f"\nper-customer rescoring: inside the database against an HTTP model server (gunicorn, {WORKERS} "
        f"workers, keep-alive), scoring with scikit-learn's predict_proba (what a user would run) or with "
        f"pgscore's compiled evaluator; {n_customers:,} customers, one complaint per transaction, "
        f"{seconds} s per kind" + (" in two runs taking turns" if not quick else ""))
    conn = psycopg2.connect(url)
    conn.autocommit = True
    cur = conn.cursor()
    results, workers = {}, {}
    try:
        sql = prepare(cur, X, n_customers)
        with contextlib.ExitStack() as stack:
            servers = {e: stack.enter_context(model_server(estimator, engine=e)) for e in ("sklearn", "compiled")}
            for port, _ in servers.values():
                warm = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                for _ in range(20 * WORKERS):  # warm this connection's worker before the clock starts
                    _score(warm, X[0].tolist())
                warm.close()
            rounds = 1 if quick else 2  # full mode: two runs of half the time each, taking turns
            for clients in (1, 8):
                order = ["pgscore", "sklearn", "compiled"]
                if clients == 8:  # the first run meets the freshest table: alternate
                    order.reverse()

                def one(kind):
                    path, port = ("pgscore", 0) if kind == "pgscore" else ("http", servers[kind][0])
                    return _run_clients(path, url, port, sql[path], n_customers, clients, seconds / rounds)

                runs = take_turns(order, rounds, one, desc=f"pgscore and HTTP, {clients} client(s)")
                for kind in ("pgscore", "sklearn", "compiled"):
                    tps = sum(t for t, _ in runs[kind]) / rounds
                    p50, p99 = latency([v for _, lat in runs[kind] for v in lat])
                    results[(kind, clients)] = tps
                    rep.add(f"{LABELS[kind]}, {clients} client(s)", tps, 1.0, "tx/s",
                            f"p50 {p50:.2f} ms, p99 {p99:.2f} ms",
                            ref=None if kind == "sklearn" else f"{LABELS['sklearn']}, {clients} client(s)")
                for engine in ("sklearn", "compiled"):
                    theirs = results[(engine, clients)]
                    ratio = results[("pgscore", clients)] / theirs if theirs else math.nan  # a stalled run
                    say(f"  {f'pgscore / HTTP ({engine}), {clients} client(s)':<62} {ratio:>14.2f} x")
            workers = {e: [_memory_kib(p) for p in _children(master)] for e, (_, master) in servers.items()}
        worker_row = f"{MEMORY_WORKER} (sklearn)"
        for engine, mems in workers.items():
            if mems:  # the workers of one server are alike: the first stands for them
                _memory_row(rep, f"{MEMORY_WORKER} ({engine})", mems[0], f"1 of {len(mems)}")
        if _local(url):
            cur.execute(sql["pgscore"]["insert"], (1,))  # this backend has now loaded the model and rescored
            cur.execute("SELECT pg_backend_pid()")
            _memory_row(rep, MEMORY_BACKEND, _memory_kib(cur.fetchone()[0]), ref=worker_row)
    finally:
        cleanup(cur)
        conn.close()
    return results
