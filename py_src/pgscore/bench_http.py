"""The HTTP alternative in `pgscore bench`: per-customer rescoring inside the database against a model
server that the application calls.

Both paths do the same work for one complaint about one customer, in one
transaction, from the same client harness (separate processes, one
connection each, on loopback):

- pgscore: INSERT the complaint into a table wired by attach_rescoring; the
  trigger updates the counters, rescores the profile and writes the audit row;
- HTTP: INSERT the complaint into an unwired table, UPDATE the same counters
  RETURNING the profile's features, POST them to the model server (gunicorn,
  several workers, keep-alive connections, the estimator's own
  predict_proba), UPDATE the score and scored_at, COMMIT. It writes no audit
  row, which favours it.

Each runs at 1 and 8 clients for a fixed time; the report gives
transactions/s, p50 and p99 latency, the ratio, and the resident memory of
a scoring backend against a model-server worker.
"""

from __future__ import annotations

import contextlib
import http.client
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

WORKERS = 4  # gunicorn workers (processes), each with one thread, on a 2-core machine


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def model_server(estimator, workers=WORKERS):
    """gunicorn serving `estimator` on 127.0.0.1; yields (port, master pid); stopped whatever happens."""
    import joblib

    d = Path(tempfile.mkdtemp(prefix="pgscore-http-"))
    model_file = d / "model.joblib"
    joblib.dump(estimator, model_file)
    port = _free_port()
    env = {**os.environ, "PGSCORE_MODEL_FILE": str(model_file), "OMP_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--worker-class", "gthread", "--threads", "1", "--keep-alive", "60", "--log-level", "warning",
         "pgscore.modelserver:app"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {proc.stderr.read().decode(errors='replace')[-500:]}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start listening within 60 s")
            time.sleep(0.1)
        yield port, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        model_file.unlink(missing_ok=True)
        d.rmdir()


def _score(conn: http.client.HTTPConnection, features) -> float:
    conn.request("POST", "/score", json.dumps({"features": features}), {"Content-Type": "application/json"})
    r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        raise RuntimeError(f"model server answered {r.status}: {body[:200]!r}")
    return json.loads(body)["score"]


def _client(job) -> list[float]:
    """One client process: its transactions' latencies in ms, from start_at for `seconds`."""
    import psycopg2

    kind, dsn, port, sql, n_customers, start_at, seconds, seed = job
    rng = random.Random(seed)
    db = psycopg2.connect(dsn)
    web = http.client.HTTPConnection("127.0.0.1", port, timeout=30) if kind == "http" else None
    db.autocommit = kind == "pgscore"
    cur = db.cursor()
    lat = []
    time.sleep(max(0.0, start_at - time.time()))
    end = start_at + seconds
    while time.time() < end:
        cid = rng.randint(1, n_customers)
        t = time.perf_counter()
        if kind == "pgscore":
            cur.execute(sql["insert"], (cid,))
        else:
            cur.execute(sql["insert"], (cid,))
            cur.execute(sql["counters"], (cid,))
            features = cur.fetchone()[0]
            cur.execute(sql["write"], (_score(web, features), cid))
            db.commit()
        lat.append((time.perf_counter() - t) * 1000)
    db.close()
    if web is not None:
        web.close()
    return lat


def _run_clients(kind, dsn, port, sql, n_customers, clients, seconds) -> tuple[float, list[float]]:
    """(transactions/s, latencies) of `clients` processes running together for `seconds`."""
    ctx = multiprocessing.get_context("spawn")  # no inherited connections or thread pools
    start_at = time.time() + 2.0  # every process connected and waiting before the clock starts
    jobs = [(kind, dsn, port, sql, n_customers, start_at, seconds, 1000 * clients + i) for i in range(clients)]
    with ctx.Pool(clients) as pool:
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
    with contextlib.suppress(OSError):
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return []


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
            "insert": q.SQL("INSERT INTO {} (customer_id) VALUES (%s)").format(_t("events_plain")),
            # the same counters attach_rescoring keeps (sample.COUNTERS): a count, a 30-day window, a max
            "counters": q.SQL(
                "UPDATE {c} c SET support_calls = c.support_calls + 1, "
                "last_complaint_at = greatest(c.last_complaint_at, now()), "
                "complaints_30d = (SELECT count(*) FROM {e} e WHERE e.customer_id = c.id "
                "AND e.created_at >= now() - interval '30 days') WHERE c.id = %s RETURNING {f}").format(
                    c=_t("customers"), e=_t("events_plain"), f=feats),
            "write": q.SQL("UPDATE {} SET churn_score = %s, scored_at = now() WHERE id = %s").format(_t("customers")),
        },
    }
    return {k: {n: s.as_string(cur) for n, s in v.items()} for k, v in statements.items()}


def cleanup(cur):
    from psycopg2 import sql as q

    from pgscore import bench_rescoring

    cur.execute("SELECT pgscore.detach_rescoring(%s::regclass)", (_t("events_pgscore").as_string(cur),))
    cur.execute(q.SQL("DROP SCHEMA {} CASCADE").format(q.Identifier(bench_rescoring.SCHEMA)))


def run(url, rep, X, estimator, quick=False, say=print):
    """Measure both paths at 1 and 8 clients; adds rows to `rep` and prints the ratios."""
    import psycopg2

    n_customers = 100_000
    seconds = 2 if quick else 15
    say(f"\nper-customer rescoring: inside the database against an HTTP model server (gunicorn, {WORKERS} "
        f"workers, keep-alive); {n_customers:,} customers, one complaint per transaction, {seconds} s per run")
    conn = psycopg2.connect(url)
    conn.autocommit = True
    cur = conn.cursor()
    results = {}
    try:
        sql = prepare(cur, X, n_customers)
        with model_server(estimator) as (port, master):
            warm = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            for _ in range(20 * WORKERS):  # every worker loads the model before the clock starts
                _score(warm, X[0].tolist())
            warm.close()
            for clients in (1, 8):
                for kind in ("pgscore", "http"):
                    tps, lat = _run_clients(kind, url, port, sql[kind], n_customers, clients, seconds)
                    p50, p99 = statistics.median(lat), statistics.quantiles(lat, n=100)[98]
                    results[(kind, clients)] = tps
                    label = "pgscore: INSERT, rescored by the trigger" if kind == "pgscore" else \
                        "HTTP: fetch profile, POST /score, write back"
                    rep.add(f"{label}, {clients} client(s)", tps, 1.0, "tx/s", f"p50 {p50:.2f} ms, p99 {p99:.2f} ms")
                say(f"  {'pgscore / HTTP, ' + str(clients) + ' client(s)':<62} "
                    f"{results[('pgscore', clients)] / results[('http', clients)]:>14.2f} x")
            workers = [_memory_kib(p) for p in _children(master)]
        cur.execute(sql["pgscore"]["insert"], (1,))  # this backend has now loaded the model and rescored
        cur.execute("SELECT pg_backend_pid()")
        backend = _memory_kib(cur.fetchone()[0])
        say(f"  {'memory: a scoring backend (after rescoring)':<62} {_fmt_mem(*backend)}")
        for i, (rss, pss) in enumerate(workers):
            say(f"  {f'memory: model-server worker {i + 1} of {len(workers)}':<62} {_fmt_mem(rss, pss)}")
    finally:
        with contextlib.suppress(psycopg2.Error):
            cleanup(cur)
        conn.close()
    return results
