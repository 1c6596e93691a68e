"""The rescoring part of `pgscore bench`: events inserted with and without triggers, side by side.

Three event tables feed the same customers: one with no trigger, one with a
PL/pgSQL counter trigger (the reference the issue measures against), one
wired with pgscore.attach_rescoring (counters, rescoring and audit). Single-row
INSERTs run through pgbench (1 and 8 clients, bounded by time, on the local
socket); multi-row INSERT and COPY of 10,000 events from this process.
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

SCHEMA = "rescore"
KINDS = ("plain", "counter", "pgscore")

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
                "AND t.tgfoid = 'pgscore.rescore_events'::pg_catalog.regproc", (SCHEMA,))


def setup(cur, X, n_customers):
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
    cur.execute(sql.SQL("VACUUM ANALYZE {}").format(_t("customers")))


def pgbench(url, table, clients, seconds, n_customers) -> dict:
    """Single-row INSERTs into `table` for `seconds` with `clients` connections: tps and latency."""
    from psycopg2.extensions import parse_dsn

    from pgscore.localdb import pg_bin_dir

    dsn = parse_dsn(url)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(f"\\set cid random(1, {n_customers})\nINSERT INTO {SCHEMA}.{table} (customer_id) VALUES (:cid);\n")
        script = f.name
    try:
        cmd = [str(pg_bin_dir() / "pgbench"), "-n", "-f", script, "-c", str(clients), "-j", str(clients),
               "-T", str(seconds), "-h", dsn.get("host", "localhost"), "-p", str(dsn.get("port", 5432)),
               "-U", dsn.get("user", "postgres"), dsn["dbname"]]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    finally:
        Path(script).unlink()
    if out.returncode != 0:
        raise RuntimeError(f"pgbench failed: {out.stderr.strip()[-500:]}")
    tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", out.stdout).group(1))
    lat = float(re.search(r"latency average = ([\d.]+) ms", out.stdout).group(1))
    failed = re.search(r"number of failed transactions: (\d+)", out.stdout)
    return {"tps": tps, "latency_ms": lat, "failed": int(failed.group(1)) if failed else 0}


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


def run(url, rep, X, quick=False, say=print):
    import psycopg2

    n_customers = 20_000 if quick else 100_000
    seconds = 2 if quick else 10
    n_events = 10_000
    conn = psycopg2.connect(url)
    conn.autocommit = True
    cur = conn.cursor()
    say(f"\nrescoring on INSERT: {n_customers:,} customers; three event tables: no trigger, a PL/pgSQL counter "
        "trigger, pgscore.attach_rescoring (3 counters, logistic pipeline, audit)")
    setup(cur, X, n_customers)
    cur.execute(sql.SQL("INSERT INTO {} (customer_id) VALUES (1)").format(_t("events_pgscore")))  # warm this backend
    results = {}
    for clients in (1, 8):
        for kind in KINDS:
            r = pgbench(url, f"events_{kind}", clients, seconds, n_customers)
            results[(kind, clients)] = r["tps"]
            rep.add(f"single-row INSERT, {kind}, {clients} client(s), {seconds} s", r["tps"], 1.0, "tx/s",
                    f"avg {r['latency_ms']:.2f} ms" + (f", {r['failed']} failed" if r["failed"] else ""),
                    ref=None if kind == "counter" else f"single-row INSERT, counter, {clients} client(s), {seconds} s")
        say(f"  {'pgscore / PL/pgSQL counter trigger':<62} "
            f"{results[('pgscore', clients)] / results[('counter', clients)]:>14.2f} x")
    for copy in (False, True):
        how = "COPY" if copy else "multi-row INSERT"
        for table in ("events_plain", "events_counter_stmt", "events_pgscore"):
            s = multi_row(cur, table, n_events, n_customers, copy=copy)
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
