"""The drift part of `pgscore bench`: the drift views over a large prediction log, with and without rollups.

Deploys a 12-feature churn model (logistic pipeline, with its baseline) and
fills pgscore.prediction_log with N rows (10,000,000; 200,000 with --quick)
spread evenly over the 7 days before the load started, in time order as a
live log grows, into daily partitions; the most recent day is drifted in
three features (and so in the score). The rows are made inside the server by
INSERT ... SELECT over generate_series, a million per statement, from a
sample of training-like rows. After VACUUM ANALYZE of the log (and ANALYZE
of pgscore.baselines, see run()) it times:

- the 1-day feature_drift before any refresh (every value read from the log
  itself), once, in a fresh connection, cut off by statement_timeout;
- the full rollup, refresh_monitoring(p_rebuild => true) (cut off by
  statement_timeout, its sort spill capped by temp_file_limit), then, after
  one more hour's worth of rows (N/168, spread over the last hour, as a
  live log grows between two runs of a scheduler that fell an hour
  behind), the incremental refresh_monitoring() a scheduler calls; what
  the queries below then read from the log itself is what a 5-minute
  schedule leaves: the current 5-minute bucket and each window's partial
  first bucket;
- feature_drift and score_drift for '1 day', feature_drift for every window
  and alerts on the rollups: each the median of 5 after a warm-up, in a
  fresh connection.

It runs in the throwaway bench database, which `pgscore bench` drops. With
--db it runs only on an empty prediction log and rollup, and takes out again
what it loaded (log rows, rollups, alert state, the partitions it created and
its own schema); the deployed model version stays, like the other sections'.
"""

from __future__ import annotations

import io
import time

from pgscore.scoring import steps

SCHEMA = "drift_bench"
MODEL = "churn"
CHUNK = 1_000_000      # rows per INSERT ... SELECT
N_SRC = 20_000         # training-like rows the log is drawn from (and as many drifted ones)
DAYS = 7
# the features that drift in the most recent day: (add, multiply)
DRIFT = {"monthly_charges": (12.0, 1.0), "support_calls": (1.0, 1.0), "days_since_last_login": (0.0, 1.6)}
RUNS = 5

_FILL = """
INSERT INTO pgscore.prediction_log (logged_at, model_id, entity_key, features, score, source)
SELECT g.t, %(model_id)s, 'customer-' || g.k, s.features, s.score, 'batch'
  FROM (SELECT %(t0)s::timestamptz + make_interval(secs => (i + random()) * %(step)s) AS t,
               floor(random() * %(n_src)s)::integer AS j, floor(random() * 1000000)::integer AS k
          FROM generate_series(%(lo)s::bigint, %(hi)s::bigint - 1) i
        OFFSET 0) g
  JOIN drift_bench.src s ON s.drifted = (g.t >= %(cut)s::timestamptz) AND s.id = g.j
"""

_MORE = """
INSERT INTO pgscore.prediction_log (logged_at, model_id, entity_key, features, score, source)
SELECT now() - random() * interval '1 hour', %(model_id)s, 'customer-' || g.k, s.features, s.score, 'batch'
  FROM (SELECT floor(random() * %(n_src)s)::integer AS j, floor(random() * 1000000)::integer AS k
          FROM generate_series(1, %(n)s) i OFFSET 0) g
  JOIN drift_bench.src s ON s.drifted AND s.id = g.j
"""

QUERIES = [
    ("feature_drift, window '1 day'", "SELECT * FROM pgscore.feature_drift WHERE window_name = '1 day'"),
    ("score_drift, window '1 day'", "SELECT * FROM pgscore.score_drift WHERE window_name = '1 day'"),
    ("feature_drift, all windows", "SELECT * FROM pgscore.feature_drift"),
    ("alerts", "SELECT * FROM pgscore.alerts"),
]


def _connect(url):
    import psycopg2

    conn = psycopg2.connect(url)
    conn.autocommit = True
    return conn


def _one(cur, q, params=None):
    cur.execute(q, params)
    return cur.fetchone()


def _source_rows(model, names, n_src):
    """Training-like rows (fresh draws of the training distribution) and drifted copies, with the model's scores."""
    from threadpoolctl import threadpool_limits

    from pgscore import datasets

    X, _, _ = datasets.churn(n_src, seed=23)
    D = X.copy()
    for name, (add, mul) in DRIFT.items():
        i = names.index(name)
        D[:, i] = D[:, i] * mul + add
    with threadpool_limits(1):
        sx, sd = model.predict_proba(X)[:, 1], model.predict_proba(D)[:, 1]
    buf = io.StringIO()
    for drifted, M, S in ((False, X, sx), (True, D, sd)):
        for i, (r, s) in enumerate(zip(M, S)):
            buf.write(f"{'t' if drifted else 'f'}\t{i}\t{{{','.join(repr(float(v)) for v in r)}}}\t{float(s)!r}\n")
    buf.seek(0)
    return buf


def _guard(cur, bench_db):
    """None when the section may load the log here, else why not."""
    if _one(cur, "SELECT current_database()")[0] == bench_db:
        return None
    if _one(cur, "SELECT EXISTS (SELECT 1 FROM pgscore.prediction_log) "
                 "OR EXISTS (SELECT 1 FROM pgscore.drift_rollup)")[0]:
        return ("the prediction log or the rollups of this database hold rows; the drift section fills the log "
                "with millions of rows and rebuilds the rollups, so it runs only in the throwaway bench database "
                "or on an empty log")
    return None


def _partitions(cur):
    cur.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'pgscore.prediction_log'::pg_catalog.regclass::pg_catalog.oid")
    return {r[0] for r in cur.fetchall()}


def _time_query(url, sql_text, runs=RUNS):
    """Median-ready samples (ms) of `runs` executions after one warm-up, in a fresh connection; and the rows."""
    conn = _connect(url)
    try:
        cur = conn.cursor()
        cur.execute(sql_text)
        rows = cur.fetchall()
        samples = []
        for _ in range(runs):
            t = time.perf_counter()
            cur.execute(sql_text)
            cur.fetchall()
            samples.append((time.perf_counter() - t) * 1000)
        return samples, rows
    finally:
        conn.close()


def _unrolled(url, timeout_s) -> float | None:
    """The 1-day feature_drift once, in a fresh connection, before any refresh: seconds, or None if cut off."""
    from psycopg2 import errors

    conn = _connect(url)
    try:
        cur = conn.cursor()
        cur.execute("SET statement_timeout = %s", (f"{timeout_s}s",))
        t = time.perf_counter()
        try:
            cur.execute(QUERIES[0][1])
            cur.fetchall()
        except errors.QueryCanceled:
            return None
        return time.perf_counter() - t
    finally:
        conn.close()


def setup(url, cur):
    """Deploy the model and the sample rows the log is drawn from; partitions for the days loaded. Returns model_id."""
    from psycopg2 import sql
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from pgscore import datasets, registry

    X, y, names = datasets.churn(20000, seed=11)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)
    model_id = registry.deploy(url, MODEL, model, X, y, feature_names=names)["model_id"]
    cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(SCHEMA)))
    cur.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(SCHEMA)))
    cur.execute("CREATE TABLE drift_bench.src (drifted boolean, id integer, features float8[] NOT NULL, "
                "score float8 NOT NULL, PRIMARY KEY (drifted, id))")
    cur.copy_expert("COPY drift_bench.src FROM STDIN", _source_rows(model, names, N_SRC))
    cur.execute("ANALYZE drift_bench.src")
    cur.execute("SELECT pgscore.create_log_partitions(10, ((now() AT TIME ZONE 'UTC') - interval '8 days')::date)")
    return model_id


def fill(cur, model_id, n, chunk=CHUNK) -> float:
    """n rows evenly over the 7 days up to now, in time order, the last day drifted; seconds taken."""
    t_end = _one(cur, "SELECT now()")[0]
    params = {"model_id": model_id, "n_src": N_SRC, "step": DAYS * 86400 / n,
              "t0": _one(cur, "SELECT %s::timestamptz - %s * interval '1 day'", (t_end, DAYS))[0],
              "cut": _one(cur, "SELECT %s::timestamptz - interval '1 day'", (t_end,))[0]}
    cur.execute("SET work_mem = '32MB'")
    t = time.perf_counter()
    for lo in steps(range(0, n, chunk), "loading the log", unit=" chunks"):
        cur.execute(_FILL, {**params, "lo": lo, "hi": min(n, lo + chunk)})
    s = time.perf_counter() - t
    cur.execute("RESET work_mem")
    return s


def _cut_off(rep, say, what, limit_s):
    say(f"  {what:<62} {'> ' + str(limit_s) + ' s':>14}         cut off by statement_timeout")
    rep.rows.append([what, None, "ms", f"> {limit_s} s, cut off", None])


def run(url, rep, quick=False, say=print, n=None, own=False, dropped=None):
    """The drift section; `own`: the database is the benchmark's (the throwaway one, or one `bench --db` found
    holding nothing of anyone's: bench.refuse_a_database_in_use), whose log the earlier sections' rows may
    be emptied of; `dropped`: it is the throwaway one, dropped whole at the end (else what was loaded is
    taken out; None: the throwaway one is known by its name)."""
    from psycopg2 import errors, sql

    from pgscore.bench import BENCH_DB

    n = n or (200_000 if quick else 10_000_000)
    n_more = n // (DAYS * 24)
    unrolled_limit = 1 if quick else 30          # seconds for the 1-day query on the log alone
    rebuild_limit = 300 if quick else 720        # seconds for the full rollup
    say(f"\ndrift at scale: a 12-feature churn model, {n:,} prediction-log rows over the last {DAYS} days "
        f"(the last day drifted in {', '.join(DRIFT)})")
    conn = _connect(url)
    cur = conn.cursor()
    why = None if own else _guard(cur, BENCH_DB)
    if why:
        say(f"  skipped: {why}")
        conn.close()
        return rep
    if dropped is None:
        dropped = _one(cur, "SELECT current_database()")[0] == BENCH_DB  # at the end, whole
    before = _partitions(cur)
    state = _one(cur, "SELECT rolled_until::text, refreshed_at::text FROM pgscore.monitoring_state")  # -infinity
    cur.execute("SET temp_file_limit = '30GB'")  # the full rollup sorts on disk; never fill the disk
    try:
        if own or dropped:  # other sections' rows (logged now) would be read raw by every drift query
            cur.execute("TRUNCATE pgscore.prediction_log")
            cur.execute("DELETE FROM pgscore.drift_rollup")
        cur.execute("UPDATE pgscore.monitoring_state SET rolled_until = '-infinity', refreshed_at = NULL")
        model_id = setup(url, cur)

        # -- load ------------------------------------------------------------------------------------
        load_s = fill(cur, model_id, n)
        t = time.perf_counter()
        cur.execute("VACUUM ANALYZE pgscore.prediction_log")
        vacuum_s = time.perf_counter() - t
        # A handful of baseline rows never reach autovacuum's analyze threshold (50 changed rows), and
        # without statistics the planner joins each log row to all its model's baselines before unnesting
        # (13 x 13 values per row instead of 13): analyze them as an install with a few models would be.
        cur.execute("ANALYZE pgscore.baselines")
        rows = _one(cur, "SELECT count(*) FROM pgscore.prediction_log")[0]
        assert rows == n, (rows, n)
        size = _one(cur, "SELECT pg_size_pretty(sum(pg_total_relation_size(i.inhrelid))) FROM pg_inherits i "
                         "WHERE i.inhparent = 'pgscore.prediction_log'::pg_catalog.regclass::pg_catalog.oid")[0]
        day = _one(cur, "SELECT count(*) FROM pgscore.prediction_log WHERE logged_at >= now() - interval '1 day'")[0]
        in_default = _one(cur, "SELECT count(*) FROM pgscore.prediction_log_default")[0]
        rep.add(f"load {n:,} log rows, INSERT ... SELECT by {CHUNK:,}", n, load_s, "rows/s", f"{load_s:.1f} s")
        rep.add("VACUUM ANALYZE of the log (and ANALYZE pgscore.baselines)", n, vacuum_s, "rows/s",
                f"{vacuum_s:.1f} s")
        say(f"  {'':<62} log: {rows:,} rows, {size} with indexes; {day:,} in the last day; "
            f"{in_default:,} in the default partition")

        # -- the log read directly -------------------------------------------------------------------
        what = "1-day feature_drift, no rollups (reads the log)"
        s = _unrolled(url, unrolled_limit)
        if s is None:
            _cut_off(rep, say, what, unrolled_limit)
        else:
            rep.latency(what, [s * 1000], "once, in a fresh connection")

        # -- rollups ---------------------------------------------------------------------------------
        what = "refresh_monitoring(p_rebuild => true): every row"
        cur.execute("SET statement_timeout = %s", (f"{rebuild_limit}s",))
        t = time.perf_counter()
        try:
            r = _one(cur, "SELECT * FROM pgscore.refresh_monitoring(p_rebuild => true)")
        except (errors.QueryCanceled, errors.ConfigurationLimitExceeded) as e:
            _cut_off(rep, say, what, rebuild_limit)
            say(f"  {'':<62} ({type(e).__name__}; no rollups, so nothing further is measured)")
            return rep
        finally:
            cur.execute("RESET statement_timeout")
        s = time.perf_counter() - t
        rep.add(what, n, s, "rows/s", f"{s:.1f} s, {r[2]:,} rollup rows")
        cur.execute(_MORE, {"model_id": model_id, "n_src": N_SRC, "n": n_more})
        t = time.perf_counter()
        r = _one(cur, "SELECT * FROM pgscore.refresh_monitoring()")
        s = time.perf_counter() - t
        rep.latency(f"refresh_monitoring() after {n_more:,} more rows over the last hour", [s * 1000],
                    f"looked back from {r[0]:%H:%M} UTC: {r[2]:,} rollup rows; {r[3]} firing")
        # and again with nothing new, as a refresh every few minutes mostly finds: it counts the rows
        # of the look-back window's buckets, rolls up none, and judges the alerts
        t = time.perf_counter()
        r = _one(cur, "SELECT * FROM pgscore.refresh_monitoring()")
        s = time.perf_counter() - t
        rep.latency("refresh_monitoring() again, nothing new", [s * 1000],
                    f"{r[2]:,} rollup rows; {r[3]} firing")

        # -- the views on the rollups ----------------------------------------------------------------
        for what, q in QUERIES:
            samples, out = _time_query(url, q, runs=2 if quick else RUNS)
            rep.latency(what, samples, f"{len(out)} rows; runs: {', '.join(f'{v:.0f}' for v in samples)}")
        cur.execute("SELECT feature, round(psi::numeric, 3), status FROM pgscore.feature_drift "
                    "WHERE model = %s AND window_name = '1 day' AND status <> 'ok' ORDER BY feature", (MODEL,))
        flagged = ", ".join(f"{f} ({st}, PSI {p})" for f, p, st in cur.fetchall())
        n_day = _one(cur, "SELECT n FROM pgscore.feature_drift WHERE model = %s AND window_name = '1 day' LIMIT 1",
                     (MODEL,))[0]
        say(f"  {'':<62} 1-day window: {n_day:,} rows; not ok: {flagged or 'none'}")
    finally:
        if not dropped:  # the throwaway bench database is dropped whole; elsewhere take out what was loaded
            cur.execute("TRUNCATE pgscore.prediction_log")
            cur.execute("DELETE FROM pgscore.drift_rollup")
            cur.execute("DELETE FROM pgscore.alert_state")
            cur.execute("UPDATE pgscore.monitoring_state SET rolled_until = %s::timestamptz, "
                        "refreshed_at = %s::timestamptz", state)
            for part in sorted(_partitions(cur) - before):
                cur.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier("pgscore", part)))
        cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(SCHEMA)))
        conn.close()
    return rep


# -- the monitoring reads with outcomes, with and without a shadow version (scripts/bench_drift.py) ------------

SHADOW_VERSION = 2     # the shadow: a second logistic version of the model, not live

# n live rows (and with a shadow n shadow rows: the same entities, times and inputs, the shadow's scores)
# evenly over the 7 days up to now, the last day drifted; each entity logged once ('entity-' || i), so that
# the outcome recorded for it judges that prediction (and the shadow's, by version)
_FILL_JUDGED = """
WITH g AS MATERIALIZED (
    SELECT %(t0)s::timestamptz + make_interval(secs => (i + random()) * %(step)s) AS t,
           floor(random() * %(n_src)s)::integer AS j, 'entity-' || i AS k
      FROM generate_series(%(lo)s::bigint, %(hi)s::bigint - 1) i
), live AS (
    INSERT INTO pgscore.prediction_log (logged_at, model_id, entity_key, features, score, source)
    SELECT g.t, %(model_id)s, g.k, s.features, s.score, 'batch'
      FROM g JOIN drift_bench.src s ON s.drifted = (g.t >= %(cut)s::timestamptz) AND s.id = g.j
)
INSERT INTO pgscore.prediction_log (logged_at, model_id, entity_key, features, score, source)
SELECT g.t, %(shadow_id)s, g.k, s.features, s.shadow_score, 'shadow'
  FROM g JOIN drift_bench.src s ON s.drifted = (g.t >= %(cut)s::timestamptz) AND s.id = g.j
 WHERE %(shadow_id)s::bigint IS NOT NULL
"""

# an outcome for every live prediction, observed a second after it, drawn from its score (so that realised
# performance is near the deploy metrics but for the drifted day), written as record_outcome writes it: the
# live prediction it judges, and each version's own (outcome_version_matches)
_OUTCOMES = """
WITH o AS (
    INSERT INTO pgscore.outcomes (model_name, entity_key, outcome, observed_at, recorded_at, judged_model_id,
                                  predicted_at, judged_score, judged_label, judged_at, versions_judged_at)
    SELECT %(model)s, l.entity_key, m.classes -> (random() < l.score)::integer, l.logged_at + interval '1 second',
           l.logged_at + interval '1 second', l.model_id, l.logged_at, l.score, l.label, now(), now()
      FROM pgscore.prediction_log l JOIN pgscore.models m ON m.model_id = l.model_id
     WHERE l.model_id = %(model_id)s AND l.entity_key LIKE 'entity-%%'
    RETURNING outcome_id, entity_key
)
INSERT INTO pgscore.outcome_version_matches (outcome_id, model_id, predicted_at, score, label)
SELECT o.outcome_id, l.model_id, l.logged_at, l.score, l.label
  FROM o JOIN pgscore.prediction_log l ON l.entity_key = o.entity_key
 WHERE l.model_id IN (%(model_id)s, coalesce(%(shadow_id)s::bigint, %(model_id)s))
"""

READS = [
    ("alerts", "SELECT * FROM pgscore.alerts"),
    ("feature_drift", "SELECT * FROM pgscore.feature_drift"),
    ("realised_performance", "SELECT * FROM pgscore.realised_performance"),
    ("performance_by_day", "SELECT * FROM pgscore.performance_by_day"),
    ("refresh_monitoring(), nothing new", "SELECT * FROM pgscore.refresh_monitoring()"),
]


def _shadow_scores(shadow, names, n_src):
    """The shadow version's scores of _source_rows' rows (the same draws), as COPY text (drifted, id, score)."""
    from threadpoolctl import threadpool_limits

    from pgscore import datasets

    X, _, _ = datasets.churn(n_src, seed=23)
    D = X.copy()
    for name, (add, mul) in DRIFT.items():
        i = names.index(name)
        D[:, i] = D[:, i] * mul + add
    with threadpool_limits(1):
        sx, sd = shadow.predict_proba(X)[:, 1], shadow.predict_proba(D)[:, 1]
    buf = io.StringIO()
    for drifted, S in ((False, sx), (True, sd)):
        for i, s in enumerate(S):
            buf.write(f"{'t' if drifted else 'f'}\t{i}\t{float(s)!r}\n")
    buf.seek(0)
    return buf


def load_judged(url, n, shadow=False, say=print, chunk=CHUNK) -> dict:
    """Into an empty database of pgscore: the churn model live (and with `shadow` a second version set as its
    shadow), n live predictions over 7 days each judged by an outcome (and n shadow predictions of the same
    entities); the rollups rebuilt, then an hour's more rows and the incremental refresh a scheduler runs.
    Returns what was loaded."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from pgscore import datasets, registry

    conn = _connect(url)
    cur = conn.cursor()
    model_id = setup(url, cur)
    shadow_id = None
    cur.execute("ALTER TABLE drift_bench.src ADD COLUMN shadow_score float8")
    if shadow:
        X, y, names = datasets.churn(20000, seed=11)
        est = make_pipeline(StandardScaler(), LogisticRegression(C=0.01, max_iter=1000)).fit(X, y)
        shadow_id = registry.deploy(url, MODEL, est, X, y, feature_names=names, activate=False)["model_id"]
        registry.set_shadow(url, MODEL, SHADOW_VERSION, "bench_drift --shadow")
        cur.execute("CREATE TEMP TABLE shadow_src (drifted boolean, id integer, score float8)")
        cur.copy_expert("COPY shadow_src FROM STDIN", _shadow_scores(est, names, N_SRC))
        cur.execute("UPDATE drift_bench.src s SET shadow_score = t.score FROM shadow_src t "
                    "WHERE t.drifted = s.drifted AND t.id = s.id")
    t_end = _one(cur, "SELECT now()")[0]
    params = {"model_id": model_id, "shadow_id": shadow_id, "n_src": N_SRC, "step": DAYS * 86400 / n,
              "t0": _one(cur, "SELECT %s::timestamptz - %s * interval '1 day'", (t_end, DAYS))[0],
              "cut": _one(cur, "SELECT %s::timestamptz - interval '1 day'", (t_end,))[0]}
    cur.execute("SET work_mem = '64MB'")
    t = time.perf_counter()
    for lo in steps(range(0, n, chunk), "loading the log", unit=" chunks"):
        cur.execute(_FILL_JUDGED, {**params, "lo": lo, "hi": min(n, lo + chunk)})
    cur.execute("VACUUM ANALYZE pgscore.prediction_log")
    cur.execute("ANALYZE pgscore.baselines")
    say(f"  loaded {n:,} live predictions{f' and {n:,} shadow ones' if shadow else ''} in "
        f"{time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    cur.execute("SELECT * FROM pgscore.refresh_monitoring(p_rebuild => true)")
    say(f"  rollups rebuilt in {time.perf_counter() - t:.1f} s")
    # the outcomes after the rebuild, whose match_outcomes would look each of them up again in the whole log
    t = time.perf_counter()
    cur.execute(_OUTCOMES, {"model": MODEL, "model_id": model_id, "shadow_id": shadow_id})
    cur.execute("VACUUM ANALYZE pgscore.outcomes, pgscore.outcome_version_matches")
    judged = _one(cur, "SELECT count(*) FROM pgscore.outcomes")[0]
    say(f"  {judged:,} outcomes recorded (with their version matches) in {time.perf_counter() - t:.1f} s")
    cur.execute(_MORE, {"model_id": model_id, "n_src": N_SRC, "n": n // (DAYS * 24)})
    t = time.perf_counter()
    cur.execute("SELECT * FROM pgscore.refresh_monitoring()")
    say(f"  refresh_monitoring() after {n // (DAYS * 24):,} more rows over the last hour: "
        f"{time.perf_counter() - t:.1f} s")
    cur.execute("VACUUM ANALYZE pgscore.prediction_log")
    conn.close()
    return {"model_id": model_id, "shadow_id": shadow_id, "outcomes": judged}


def time_reads(url, rounds=3, say=print) -> dict:
    """Each of READS `rounds` times in turn, each in a fresh connection after one warm-up read: ms per run,
    and the rows of the last run."""
    out = {what: [] for what, _ in READS}
    rows = {}
    for what, q in READS:  # warm-up: the first read after the load sets hint bits and fills the caches
        rows[what] = _time_query(url, q, runs=0)[1]
    for _ in range(rounds):
        for what, q in READS:
            conn = _connect(url)
            try:
                cur = conn.cursor()
                t = time.perf_counter()
                cur.execute(q)
                rows[what] = cur.fetchall()
                out[what].append((time.perf_counter() - t) * 1000)
            finally:
                conn.close()
    for what, _ in READS:
        v = out[what]
        say(f"  {what:<36} {min(v):>10,.0f} - {max(v):>8,.0f} ms   runs: {', '.join(f'{s:,.0f}' for s in v)}; "
            f"{len(rows[what])} rows")
    return {"ms": out, "rows": rows}


# -- a wide model, and the same database read as variants (scripts/bench_drift.py --features, --variants) ------

WIDE_MODEL = "wide"

# n rows of a model of f standard-normal features (a fresh draw per row and feature), evenly over `hours` up to
# now, the last sixth of them with their first three features moved by one standard deviation
_FILL_WIDE = """
INSERT INTO pgscore.prediction_log (logged_at, model_id, entity_key, features, score, source)
SELECT g.t, %(model_id)s, 'entity-' || g.i,
       ARRAY(SELECT CASE WHEN %(distinct)s THEN round(v.z * (1 + 3.0 * (j - 1) / greatest(%(f)s - 1, 1)))
                                                 / (1 + 3.0 * (j - 1) / greatest(%(f)s - 1, 1))
                         ELSE v.z END
               FROM generate_series(1, %(f)s) j
              CROSS JOIN LATERAL (SELECT sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())
                                         + CASE WHEN j <= 3 AND g.t >= %(cut)s::timestamptz THEN 1 ELSE 0 END AS z) v
              WHERE g.i IS NOT NULL),
       random(), 'batch'
  FROM (SELECT i, %(t0)s::timestamptz + make_interval(secs => (i + random()) * %(step)s) AS t
          FROM generate_series(0, %(n)s - 1) i) g
"""


def load_wide(url, n, features, hours=48, say=print, distinct_shares=False) -> dict:
    """Into an empty database of pgscore: a logistic model of `features` standard-normal features, live, and
    n predictions over the last `hours` (the last sixth drifted in three features); the rollups rebuilt.
    distinct_shares: feature j (from 0) rounded to a grid of 1/s, s = 1 + 3 j/(features - 1), at training and in
    the log alike, so that each feature's baseline has shares of its own (ties; one bin per value where it takes
    10 or fewer) and JS's floors are one per feature and window size, not one per window size (migration 0094)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from pgscore import registry

    rng = np.random.default_rng(5)
    X = rng.standard_normal((2000, features))
    if distinct_shares:
        grid = 1 + 3.0 * np.arange(features) / max(features - 1, 1)
        X = np.round(X * grid) / grid
    y = (X[:, :3].sum(axis=1) + rng.standard_normal(2000) > 0).astype(int)
    names = [f"f{i:04d}" for i in range(features)]
    t = time.perf_counter()
    model_id = registry.deploy(url, WIDE_MODEL, LogisticRegression(max_iter=500).fit(X, y), X, y,
                               feature_names=names)["model_id"]
    say(f"  deployed a {features}-feature model in {time.perf_counter() - t:.1f} s")
    conn = _connect(url)
    cur = conn.cursor()
    cur.execute("SELECT pgscore.create_log_partitions(10, ((now() AT TIME ZONE 'UTC') - interval '8 days')::date)")
    t = time.perf_counter()
    cur.execute(_FILL_WIDE, {"model_id": model_id, "f": features, "n": n, "step": hours * 3600 / n,
                             "distinct": distinct_shares,
                             "t0": _one(cur, "SELECT now() - %s * interval '1 hour'", (hours,))[0],
                             "cut": _one(cur, "SELECT now() - %s * interval '1 hour'", (hours / 6,))[0]})
    cur.execute("VACUUM ANALYZE pgscore.prediction_log")
    cur.execute("ANALYZE pgscore.baselines")
    say(f"  loaded {n:,} predictions of {features} features over {hours} hours in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    cur.execute("SELECT * FROM pgscore.refresh_monitoring(p_rebuild => true)")
    say(f"  rollups rebuilt in {time.perf_counter() - t:.1f} s")
    conn.close()
    return {"model_id": model_id}


NOISE_FLOOR = "pgscore.noise_floor(text, bigint, bigint, float8[], float8, float8, bigint)"


def _cpu_s(pid):
    """The process's user + system CPU seconds (/proc), or None where it cannot be read (a remote server)."""
    import os

    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def floor_calls(url, q) -> int | None:
    """How many times pgscore.noise_floor runs in one read of q (None: the schema has no noise_floor)."""
    conn = _connect(url)
    try:
        cur = conn.cursor()
        if _one(cur, "SELECT to_regprocedure(%s)", (NOISE_FLOOR,))[0] is None:
            return None
        cur.execute("BEGIN")
        cur.execute("SET LOCAL track_functions = 'pl'")
        calls = "SELECT coalesce(pg_stat_get_xact_function_calls(%s::regprocedure), 0)"
        n0 = _one(cur, calls, (NOISE_FLOOR,))[0]
        cur.execute(q)
        cur.fetchall()
        n = _one(cur, calls, (NOISE_FLOOR,))[0] - n0
        cur.execute("ROLLBACK")
        return n
    finally:
        conn.close()


def time_variants(urls: dict, reads, rounds=3, say=print) -> dict:
    """Each read of `reads` against each database of `urls` (name -> url: copies of one database) in turn,
    `rounds` rounds, each read in a fresh connection with parallel workers off (so that the backend's CPU is
    all of it) after one warm-up read per database: wall and backend CPU ms per run; medians printed."""
    import statistics

    out = {(v, what): ([], []) for v in urls for what, _ in reads}
    for v, u in urls.items():
        for what, q in reads:
            _time_query(u, q, runs=0)
    for _ in range(rounds):
        for what, q in reads:
            for v, u in urls.items():
                conn = _connect(u)
                try:
                    cur = conn.cursor()
                    cur.execute("SET max_parallel_workers_per_gather = 0")
                    pid = _one(cur, "SELECT pg_backend_pid()")[0]
                    c0, t = _cpu_s(pid), time.perf_counter()
                    cur.execute(q)
                    cur.fetchall()
                    wall, c1 = (time.perf_counter() - t) * 1000, _cpu_s(pid)
                    out[(v, what)][0].append(wall)
                    out[(v, what)][1].append(None if c0 is None or c1 is None else (c1 - c0) * 1000)
                finally:
                    conn.close()
    for what, q in reads:
        for v, u in urls.items():
            wall, cpu = out[(v, what)]
            cpus = [c for c in cpu if c is not None]
            calls = floor_calls(u, q)
            say(f"  {what:<36} {v:<16} wall median {statistics.median(wall):>9,.0f} ms "
                f"({min(wall):,.0f}-{max(wall):,.0f}), backend CPU median "
                f"{statistics.median(cpus) if cpus else float('nan'):>9,.0f} ms "
                f"({', '.join(f'{c:,.0f}' for c in cpus)}); noise_floor calls: "
                f"{'no such function' if calls is None else f'{calls:,}'}")
    return out
