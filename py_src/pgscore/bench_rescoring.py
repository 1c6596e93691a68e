"""The rescoring part of `pgscore bench`: events inserted with and without triggers, side by side.

Four event tables feed the same customers: one with no trigger, one with a
PL/pgSQL counter trigger (the reference the issue measures against), one
wired with pgscore.attach_rescoring (counters, rescoring and audit), and one
with a PL/pgSQL statement trigger written by hand for this wiring that does
the same work without Python (lock, the three counters, the logistic model's
arithmetic in SQL, the audit row): the floor for this work in SQL, so the
report shows what pgscore's PL/Python costs beyond it. Single-row INSERTs run
through pgbench (1 and 8 clients, bounded by time, on the local socket);
multi-row INSERT and COPY of 10,000 events from this process.
"""

from __future__ import annotations

import io
import re
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from psycopg2 import sql

from pgscore.bench import take_turns

SCHEMA = "rescore"
KINDS = ("plain", "counter", "pgscore", "by_hand")

_COUNTER_ROW = """
CREATE FUNCTION rescore.bump_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE rescore.customers SET support_calls = support_calls + 1 WHERE id = NEW.customer_id;
    RETURN NULL;
END $$;
CREATE FUNCTION rescore.bump_statement() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE rescore.customers c SET support_calls = c.support_calls + n.n
      FROM (SELECT customer_id, count(*) AS n FROM new_events GROUP BY customer_id) n WHERE c.id = n.customer_id;
    RETURN NULL;
END $$;
"""


def _t(name):
    return sql.Identifier(SCHEMA, name)


def detach_all(cur):
    """Detach every table of the bench schema wired to rescoring (a run interrupted before its cleanup
    leaves wiring behind, and the next attach would refuse it)."""
    cur.execute("SELECT DISTINCT pgscore.detach_rescoring(t.tgrelid::regclass) FROM pg_catalog.pg_trigger t "
                "JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid "
                "WHERE c.relnamespace = pg_catalog.to_regnamespace(%s) "
                "AND t.tgfoid = 'pgscore.rescore_events'::pg_catalog.regproc::pg_catalog.oid", (SCHEMA,))


def _by_hand(cur, model):
    """The hand-written trigger: pgscore's work for the sample wiring in one PL/pgSQL function (no
    checks, no error queue, no fallback), the score from the compiled model's SQL (compiled.score_sql)."""
    from pgscore.compiled import compile_estimator
    from pgscore.datasets import CHURN_FEATURES

    new = {"support_calls": "v.c0", "complaints_30d": "v.c1"}
    items = [sql.SQL("coalesce(({})::float8, 'NaN'::float8)").format(
        sql.SQL(new[f]) if f in new else sql.Identifier("p", f)).as_string(cur) for f in CHURN_FEATURES]
    z, link = compile_estimator(model, "binary", len(CHURN_FEATURES)).score_sql(items)
    cur.execute("SELECT d.model_id FROM pgscore.deployments d WHERE d.model_name = 'logit' "
                "ORDER BY d.deployment_id DESC LIMIT 1")
    model_id = cur.fetchone()[0]
    body = sql.SQL("""BEGIN
    PERFORM 1 FROM {c} AS p WHERE p.id IN (SELECT e.customer_id FROM new_events AS e) ORDER BY p.id FOR UPDATE OF p;
    WITH a AS (SELECT e.customer_id AS k, count(*) AS n, array_agg(e.complaint_id ORDER BY e.complaint_id) AS ids,
                      max(e.created_at) AS c2 FROM new_events AS e GROUP BY e.customer_id),
    n AS MATERIALIZED (SELECT a.k, a.n, a.ids, v.*, ARRAY[{items}] AS f, {z} AS z FROM a JOIN {c} AS p ON p.id = a.k
          CROSS JOIN LATERAL (SELECT coalesce(p.support_calls, 0) + a.n AS c0,
              (SELECT count(*) FROM {e} AS e WHERE e.customer_id = p.id AND e.created_at > now() - interval '30 days') AS c1,
              greatest(p.last_complaint_at, a.c2) AS c2 OFFSET 0) AS v),
    u AS (UPDATE {c} AS p SET support_calls = n.c0, complaints_30d = n.c1, last_complaint_at = n.c2,
              churn_score = {score}, scored_at = now() FROM n WHERE p.id = n.k
          RETURNING p.id::text AS k, p.churn_score AS score, n.n, n.ids, n.f)
    INSERT INTO pgscore.prediction_log (model_id, entity_key, features, score, source, cause)
    SELECT {model_id}, u.k, u.f, u.score, 'trigger', jsonb_build_object('via', 'trigger', 'event_table', {et},
        'user', CURRENT_USER, 'application', (SELECT current_setting('application_name')), 'backend', pg_backend_pid(),
        'statement_at', statement_timestamp(), 'events', u.n, 'event_ids', u.ids) FROM u;
    RETURN NULL;
END""").format(c=_t("customers"), e=_t("events_by_hand"), items=sql.SQL(", ".join(items)), z=sql.SQL(z),
               score=sql.SQL(link("n.z")), model_id=sql.Literal(model_id),
               et=sql.Literal(f"{SCHEMA}.events_by_hand"))
    cur.execute(sql.SQL("CREATE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql AS {}").format(
        _t("by_hand"), sql.Literal(body.as_string(cur))))
    cur.execute(sql.SQL("CREATE TRIGGER by_hand AFTER INSERT ON {} REFERENCING NEW TABLE AS new_events "
                        "FOR EACH STATEMENT EXECUTE FUNCTION {}()").format(_t("events_by_hand"), _t("by_hand")))


def setup(cur, X, n_customers, model=None):
    from pgscore import sample

    detach_all(cur)
    cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(SCHEMA)))
    cur.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(SCHEMA)))
    sample.create_tables(cur, schema=SCHEMA)
    rng = np.random.default_rng(3)
    sample.load_customers(cur, X[rng.integers(0, len(X), n_customers)], schema=SCHEMA)
    for kind in KINDS:  # one event table per variant, same shape
        cur.execute(sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(_t(f"events_{kind}"), _t("complaints")))
    cur.execute(_COUNTER_ROW)
    cur.execute(sql.SQL("CREATE TRIGGER bump AFTER INSERT ON {} FOR EACH ROW EXECUTE FUNCTION {}()").format(
        _t("events_counter"), _t("bump_row")))
    cur.execute(sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(_t("events_counter_stmt"), _t("complaints")))
    cur.execute(sql.SQL("CREATE TRIGGER bump AFTER INSERT ON {} REFERENCING NEW TABLE AS new_events "
                        "FOR EACH STATEMENT EXECUTE FUNCTION {}()").format(_t("events_counter_stmt"),
                                                                          _t("bump_statement")))
    sample.rescore_complaints(cur, model="logit", schema=SCHEMA, complaints="events_pgscore")
    if model is not None:
        _by_hand(cur, model)
    cur.execute(sql.SQL("VACUUM ANALYZE {}").format(_t("customers")))


def pgbench(url, table, clients, seconds, n_customers) -> dict:
    """Single-row INSERTs into `table` with `clients` new connections for `seconds` + 2: tps and latency
    of warm sessions, the mean of pgbench's per-second progress over the `seconds` after the first
    (pgbench reports no progress for the last, partial second), the latency of each transaction that
    ended in those seconds (pgbench's per-transaction log), and the tps of the whole run, whose first
    second has each new backend's first-call imports."""
    from psycopg2.extensions import parse_dsn

    from pgscore.localdb import pg_bin_dir

    dsn = parse_dsn(url)
    with tempfile.TemporaryDirectory(prefix="pgscore-pgbench-") as tmp:
        script = Path(tmp) / "insert.sql"
        script.write_text(f"\\set cid random(1, {n_customers})\nINSERT INTO {SCHEMA}.{table} (customer_id) VALUES (:cid);\n")
        cmd = [str(pg_bin_dir() / "pgbench"), "-n", "-f", str(script), "-c", str(clients), "-j", str(clients),
               "-T", str(seconds + 2), "-P", "1", "-l", f"--log-prefix={Path(tmp) / 'tx'}",
               "-h", dsn.get("host", "localhost"), "-p", str(dsn.get("port", 5432)),
               "-U", dsn.get("user", "postgres"), dsn["dbname"]]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 62, cwd=tmp)
        latencies = warm_latencies(Path(tmp).glob("tx.*"), seconds) if out.returncode == 0 else []
    if out.returncode != 0:
        raise RuntimeError(f"pgbench failed: {out.stderr.strip()[-500:]}")
    tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", out.stdout).group(1))
    lat = float(re.search(r"latency average = ([\d.]+) ms", out.stdout).group(1))
    failed = re.search(r"number of failed transactions: (\d+)", out.stdout)
    # "progress: 2.0 s, 2150.9 tps, lat 0.463 ms stddev 0.092, 0 failed", one line a second
    steps = [(float(t), float(l)) for t, l in re.findall(r"progress: [\d.]+ s, ([\d.]+) tps, lat ([\d.]+) ms",
                                                         out.stderr)][1:seconds + 1]
    warm = sum(t for t, _ in steps) / len(steps) if steps else tps
    warm_lat = sum(t * l for t, l in steps) / sum(t for t, _ in steps) if steps and warm else lat
    return {"tps": warm, "latency_ms": warm_lat, "cold_tps": tps, "failed": int(failed.group(1)) if failed else 0,
            "latencies_ms": latencies}


def warm_latencies(logs, seconds) -> list:
    """Latencies (ms) of the transactions in pgbench's per-transaction logs (one file per thread; a line
    per transaction: client, number, latency in µs, script, end time as epoch seconds and µs) that
    ended within `seconds` after the first second of the run, the window of the warm rate. A failed
    transaction's latency reads "failed": it has none, and is left out (the run counts failures)."""
    rows = [r for log in logs for r in map(str.split, Path(log).read_text().splitlines()) if r[2].isdigit()]
    if not rows:
        return []
    ends = [int(r[4]) + int(r[5]) / 1e6 for r in rows]
    start = min(e - int(r[2]) / 1e6 for e, r in zip(ends, rows))
    return [int(r[2]) / 1000 for e, r in zip(ends, rows) if start + 1 <= e < start + 1 + seconds]


def _mean_run(runs: list) -> dict:
    """pgbench results of equally long runs of one kind as one: mean rates, latency weighted by
    transactions, failures summed, and the percentiles of every run's warm transactions together."""
    tps = sum(r["tps"] for r in runs) / len(runs)
    lat = sum(r["tps"] * r["latency_ms"] for r in runs) / (tps * len(runs)) if tps else runs[0]["latency_ms"]
    pooled = [v for r in runs for v in r["latencies_ms"]]
    p50, p99 = np.percentile(pooled, [50, 99]).tolist() if pooled else (float("nan"), float("nan"))
    return {"tps": tps, "latency_ms": lat, "cold_tps": sum(r["cold_tps"] for r in runs) / len(runs),
            "failed": sum(r["failed"] for r in runs), "p50_ms": p50, "p99_ms": p99, "n_warm": len(pooled)}


def multi_row(cur, table, n_events, n_customers, copy=False, repeat=3) -> float:
    """Best time of `repeat` statements each inserting n_events for random customers."""
    rng = np.random.default_rng(11)
    best = float("inf")
    for _ in range(repeat):
        ids = rng.integers(1, n_customers + 1, n_events)
        if copy:
            buf = io.StringIO("".join(f"{i}\n" for i in ids.tolist()))
            t = time.perf_counter()
            cur.copy_expert(sql.SQL("COPY {} (customer_id) FROM STDIN").format(_t(table)).as_string(cur), buf)
        else:
            t = time.perf_counter()
            cur.execute(sql.SQL("INSERT INTO {} (customer_id) SELECT unnest(%s::bigint[])").format(_t(table)),
                        (ids.tolist(),))
        best = min(best, time.perf_counter() - t)
    return best


def run(url, rep, X, model=None, quick=False, say=print):
    """`model` is the deployed `logit` estimator, for the hand-written trigger (left out without it)."""
    import psycopg2

    n_customers = 20_000 if quick else 100_000
    seconds = 1 if quick else 8  # each run takes two seconds more: its first is left out (see pgbench)
    n_events = 10_000
    conn = psycopg2.connect(url)
    conn.autocommit = True
    cur = conn.cursor()
    say(f"\nrescoring on INSERT: {n_customers:,} customers; four event tables: no trigger, a PL/pgSQL counter "
        "trigger, pgscore.attach_rescoring (3 counters, logistic pipeline, audit), the same work by hand in "
        "PL/pgSQL")
    setup(cur, X, n_customers, model)
    kinds = KINDS if model is not None else KINDS[:-1]
    cur.execute(sql.SQL("INSERT INTO {} (customer_id) VALUES (1)").format(_t("events_pgscore")))  # warm this backend
    # full mode: two rounds of half the time each, the kinds taking turns (see bench.take_turns)
    rounds = 1 if quick else 2
    results = {}
    for clients in (1, 8):
        order = list(kinds if not quick else kinds[1:])  # --quick: no time for the no-trigger runs
        runs = take_turns(order, rounds, lambda kind: pgbench(url, f"events_{kind}", clients, seconds // rounds,
                                                                 n_customers),
                          desc=f"pgbench, single-row INSERT, {clients} client(s)")
        for kind in order:
            r = _mean_run(runs[kind])
            results[(kind, clients)] = r["tps"]
            rep.add(f"single-row INSERT, {kind}, {clients} client(s), {seconds} s", r["tps"], 1.0, "tx/s",
                    f"p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, avg {r['latency_ms']:.2f} ms; "
                    f"{r['cold_tps']:,.0f} tx/s with the first second"
                    + (f" ({rounds} runs of {seconds // rounds} s, taking turns)" if rounds > 1 else "")
                    + (f", {r['failed']} failed" if r["failed"] else ""),
                    ref=None if kind == "counter" else f"single-row INSERT, counter, {clients} client(s), {seconds} s")
        say(f"  {'pgscore / PL/pgSQL counter trigger':<62} "
            f"{results[('pgscore', clients)] / results[('counter', clients)]:>14.2f} x")
    for copy in (False, True):
        how = "COPY" if copy else "multi-row INSERT"
        for table in ("events_plain", "events_counter_stmt", "events_pgscore", "events_by_hand")[:len(kinds)]:
            s = multi_row(cur, table, n_events, n_customers, copy=copy, repeat=2 if quick else 3)
            rep.add(f"{how} of {n_events:,} events, {table.removeprefix('events_')}", n_events, s, "events/s",
                    f"{s * 1000:.0f} ms",
                    ref=None if table == "events_counter_stmt" else f"{how} of {n_events:,} events, counter_stmt")
    cur.execute("SELECT count(*) FROM pgscore.error_queue")
    queued = cur.fetchone()[0]
    if queued:
        say(f"  warning: {queued} profile(s) were queued in pgscore.error_queue during the benchmark")
    detach_all(cur)
    cur.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(SCHEMA)))
    conn.close()
