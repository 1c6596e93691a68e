"""Single-row rescoring's cost per INSERT, as the backend's own CPU time: a less noisy measure than pgbench's
transactions a second, which also wait on the commit's flush and share the 2 cores with pgbench.

The event tables of `pgscore bench`'s rescoring section (bench_rescoring.setup: 100,000 customers, the
logistic pipeline): `counter` (a PL/pgSQL row trigger bumping one counter, the issue's reference),
`pgscore` (attach_rescoring: three counters, one a 30-day window, the score and the audit row), the same
with four of rescore_events' five SET clauses dropped for the timing (`pgscore-SET`: search_path, DateStyle,
IntervalStyle, extra_float_digits; jit stays off), `pgscore` with a second version of the model scored in
shadow during its turns (`pgscore-shadow`: pgscore.set_shadow before the turn, clear_shadow after), and `by_hand` (pgscore's work written by hand as a PL/pgSQL statement trigger, no checks, no error queue).
One session per kind, autocommit, synchronous_commit off (the flush is not the backend's CPU); each turn
inserts --inserts single rows for random customers and reads the backend's utime + stime from
/proc/<pid>/stat (Linux, the embedded cluster on this machine; 10 ms ticks: 2,000 inserts resolve 5 us);
the kinds take turns, the order reversed every other round; medians of the rounds.

    .venv/bin/python scripts/bench_trigger.py [--inserts 2000] [--rounds 6] [--kinds pgscore,pgscore-SET] \
        [--data-dir DIR --port PORT]

Runs in the throwaway database `pgscore_bench` of the cluster (the embedded one, or --data-dir/--port; started
if need be, and stopped at the end unless --keep-running), dropped at the end: not while `pgscore bench` runs
on the same cluster.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import psycopg2

from pgscore import bench, bench_rescoring, datasets, registry
from pgscore.localdb import Cluster

N_CUSTOMERS = 100_000
CLAUSES = ("SET search_path = pg_catalog, pg_temp SET jit = off SET \"DateStyle\" = 'ISO' "
           "SET \"IntervalStyle\" = 'postgres' SET extra_float_digits = 1")  # as installed, in this order
KINDS = {"counter": "events_counter", "pgscore": "events_pgscore", "pgscore-SET": "events_pgscore",
         "pgscore-shadow": "events_pgscore", "by_hand": "events_by_hand"}


def cpu_seconds(pid) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115 - read at once
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inserts", type=int, default=2000, help="single-row INSERTs per kind and round (at most 20,000)")
    ap.add_argument("--rounds", type=int, default=6, help="rounds (at most 40)")
    ap.add_argument("--kinds", default=",".join(KINDS), help=f"some of {','.join(KINDS)} (default: all)")
    Cluster.add_arguments(ap)
    ap.add_argument("--keep-running", action="store_true",
                    help="leave the cluster running when it ends (default: stop it if this script started it)")
    args = ap.parse_args()
    kinds = args.kinds.split(",")
    if not 100 <= args.inserts <= 20_000 or not 1 <= args.rounds <= 40 or not set(kinds) <= set(KINDS):
        ap.error(f"--inserts must be 100..20,000, --rounds 1..40, --kinds of {','.join(KINDS)}")
    cluster = Cluster.from_args(ap, args)
    with cluster.started(args.keep_running), \
            bench.bench_database(lambda name: cluster.url(dbname=name), cluster.url()) as url:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        X, y, names = datasets.churn(20_000, seed=7)
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)
        registry.deploy(url, "logit", model, X[:5000], y[:5000], feature_names=names)
        if "pgscore-shadow" in kinds:  # the shadow: another linear version, not live
            shadow = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=1000)).fit(X, y)
            registry.deploy(url, "logit", shadow, X[:5000], y[:5000], feature_names=names, activate=False)
        admin = psycopg2.connect(url)
        admin.autocommit = True
        acur = admin.cursor()
        bench_rescoring.setup(acur, X, N_CUSTOMERS, model)
        rng = np.random.default_rng(5)
        sessions = {}
        for kind, table in ((k, KINDS[k]) for k in kinds):
            c = psycopg2.connect(url, options="-c synchronous_commit=off")
            c.autocommit = True
            cur = c.cursor()
            cur.execute("SELECT pg_catalog.pg_backend_pid()")
            sessions[kind] = (c, cur, cur.fetchone()[0], f"INSERT INTO {bench_rescoring.SCHEMA}.{table} (customer_id) "
                                                        "VALUES (%s)")

        def turn(kind):
            if kind == "pgscore-shadow":
                acur.execute("SELECT pgscore.set_shadow('logit', 2)")
                try:
                    return timed(kind)
                finally:
                    acur.execute("SELECT pgscore.clear_shadow('logit')")
            return timed(kind)

        def timed(kind):
            _, cur, pid, insert = sessions[kind]
            if kind.startswith("pgscore"):
                acur.execute("ALTER FUNCTION pgscore.rescore_events() RESET ALL")
                acur.execute("ALTER FUNCTION pgscore.rescore_events() " +
                             ("SET jit = off" if kind == "pgscore-SET" else CLAUSES))
                # (and pgscore-shadow's shadow found: its first statements write with the shadow's plans)
                for k in rng.integers(1, N_CUSTOMERS + 1, 50).tolist():  # the function's new definition, compiled
                    cur.execute(insert, (k,))
            keys = rng.integers(1, N_CUSTOMERS + 1, args.inserts).tolist()
            t0, w0 = cpu_seconds(pid), time.perf_counter()
            for k in keys:
                cur.execute(insert, (k,))
            return (cpu_seconds(pid) - t0) / args.inserts * 1e6, (time.perf_counter() - w0) / args.inserts * 1e6

        try:
            got = bench.take_turns(kinds, args.rounds, turn)
        finally:
            acur.execute("ALTER FUNCTION pgscore.rescore_events() RESET ALL")
            acur.execute(f"ALTER FUNCTION pgscore.rescore_events() {CLAUSES}")
        print(f"single-row INSERT, one session per kind, {args.inserts:,} a turn, {args.rounds} rounds; backend CPU "
              "and the client's wall time per INSERT, medians (each round's CPU in brackets)")
        for kind, runs in got.items():
            cpu = statistics.median(r[0] for r in runs)
            wall = statistics.median(r[1] for r in runs)
            # against the first kind, round by round (the machine's speed drifts between rounds)
            # (a round too short for the CPU clock's 10 ms ticks reads 0 and has no ratio)
            ratios = [r[0] / f[0] for r, f in zip(runs, got[kinds[0]]) if f[0]]
            paired = f"{statistics.median(ratios):5.2f}x" if ratios else "  n/a"
            print(f"  {kind:<12} CPU {cpu:6.1f} us   wall {wall:6.1f} us   {paired} {kinds[0]}'s CPU "
                  "(median of the rounds' ratios)   [" + " ".join(f"{r[0]:.0f}" for r in runs) + "]", flush=True)
        for _, (c, *_rest) in sessions.items():
            c.close()
        admin.close()


if __name__ == "__main__":
    main()
