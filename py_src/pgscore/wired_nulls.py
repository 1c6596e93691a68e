"""Go-live warnings: a profile table wired to rescore with a model holds NULLs (or NaN) in a feature the version
that goes live takes no missing value in, so each event for such a profile would be queued (or, for a strict
wiring, its INSERT would fail), not rescored.

The check reads the profile table as rescoring does (rescoring.Wiring): one float8[] column `features` and no
counters, the array, by position (its elements sampled: pg_stats says nothing of them); else a column per feature,
counters left out (rescoring writes them from the events before it scores: COALESCE(p, 0) + a, GREATEST, ...).
An ordinary table is read as rescoring reads it, ONLY its own rows (pg_stats' row with inherited = false); a
partitioned one has no statistics of its own: its first rows are read. The whole check has one deadline
(DEADLINE_S); an error that is not the model's refusal of a NULL ends it (CheckFailed, said in one line).
The connection is psycopg2's or psycopg 3's (an alembic revision's may be either: alembic_ops checks there, in the
migration's transaction, the version it made live)."""
import time

# the rows read from a profile table that ANALYZE never saw (no pg_stats row for the column) or whose features are
# one array: the first ones in physical order, never a full scan of a big table at deploy
SAMPLE_ROWS = 10_000
DEADLINE_S = 8.0  # the whole check's, every table and probe in it (a probe loads the model in the server)
LOCK_TIMEOUT_MS = 2000  # a lock the check waits for, at most (within the deadline)
MIN_LEFT_MS = 100  # less of the deadline left than this: the check stops there (no statement under a shorter timeout)
_FLOATS = ("double precision", "real", "numeric")  # the types that hold a NaN as well as a NULL
FLOAT8_ARRAY = 1022


class CheckFailed(Exception):
    """The check could not run to its end (why, in words): nothing is said of the tables it did not finish."""


# the wired profile tables that exist, with how their wirings read them
_WIRINGS = """
SELECT r.rescoring_id, r.profile_table, r.event_table, r.counters::pg_catalog.text, r.strict, c.oid::pg_catalog.int8, c.relkind::pg_catalog.text, n.nspname::pg_catalog.text, c.relname::pg_catalog.text,
       c.reltuples
  FROM pgscore.rescoring r
  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(r.profile_table)
  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
 WHERE r.model_name OPERATOR(pg_catalog.=) %s
 ORDER BY r.rescoring_id
"""

# a table's columns: type, and whether generated (its expression)
_ATTRS = """
SELECT a.attname::pg_catalog.text, a.atttypid::pg_catalog.int8, a.atttypid::pg_catalog.regtype::pg_catalog.text,
       a.attgenerated::pg_catalog.text,
       (SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid) FROM pg_catalog.pg_attrdef d
         WHERE d.adrelid OPERATOR(pg_catalog.=) a.attrelid AND d.adnum OPERATOR(pg_catalog.=) a.attnum)
  FROM pg_catalog.pg_attribute a
 WHERE a.attrelid OPERATOR(pg_catalog.=) %s::pg_catalog.oid AND a.attnum OPERATOR(pg_catalog.>) 0
   AND NOT a.attisdropped
 ORDER BY a.attnum
"""

# what the last ANALYZE saw of the table's own rows (inherited = false: rescoring reads ONLY the table)
_STATS = """
SELECT s.attname::text, s.null_frac, s.most_common_vals::text, s.most_common_freqs
  FROM pg_catalog.pg_stats s
 WHERE s.schemaname OPERATOR(pg_catalog.=) %s AND s.tablename OPERATOR(pg_catalog.=) %s
   AND s.attname::text OPERATOR(pg_catalog.=) ANY (%s::text[]) AND NOT s.inherited
"""


def _nan_share(mcv_text, freqs) -> float:
    """The share of NaN among the most common values ANALYZE kept (0 when NaN is not one of them)."""
    if not mcv_text or not freqs:
        return 0.0
    values = mcv_text.strip("{}").split(",")
    return sum(f for v, f in zip(values, freqs) if v.strip('"') == "NaN")


def _code(e):
    """A driver error's SQLSTATE: psycopg2's pgcode, psycopg 3's sqlstate."""
    return getattr(e, "pgcode", None) or getattr(e, "sqlstate", None)


def _db_errors() -> tuple:
    """The drivers' error classes (psycopg2's, and psycopg 3's where it is installed)."""
    from pgscore.registry import _db_errors

    return _db_errors()


def _sql_of(cur):
    """The SQL composition module of cur's driver (psycopg2.sql or psycopg.sql: the same API, each driver's own
    objects), told by the connection's class as registry does (a cursor_factory's class may be defined anywhere)."""
    import psycopg2.extensions

    if isinstance(cur.connection, psycopg2.extensions.connection):
        from psycopg2 import sql
    else:
        from psycopg import sql
    return sql


class _Budget:
    """The check's one deadline: each statement runs under what is left of it."""

    def __init__(self, cur, seconds=None):
        self.cur, self.seconds = cur, DEADLINE_S if seconds is None else seconds
        self.end = time.monotonic() + self.seconds
        self.sql = _sql_of(cur)

    def run(self, statement, args=None):
        left = int((self.end - time.monotonic()) * 1000)
        # (a statement_timeout of a few ms would also bind the ROLLBACK TO that undoes the statement it cancels:
        # cancelled too on a busy machine, it would leave the caller's transaction aborted, an alembic migration's)
        if left < MIN_LEFT_MS:
            raise CheckFailed(self.late())
        self.cur.execute("SELECT pg_catalog.set_config('statement_timeout', %s, true), "
                         "pg_catalog.set_config('lock_timeout', %s, true)",
                         (f"{left}ms", f"{min(left, LOCK_TIMEOUT_MS)}ms"))
        self.cur.execute(statement, args)

    def late(self) -> str:
        return f"it took more than {self.seconds:g} s"


def _failed(budget, e) -> CheckFailed:
    """CheckFailed for a server error that ends the check."""
    # query_canceled: the statement_timeout the deadline set, where the deadline is past (else a cancel of the
    # session's statement, pg_cancel_backend: the server's own words)
    if _code(e) == "57014" and time.monotonic() >= budget.end - 0.01:
        return CheckFailed(budget.late())
    first = (getattr(getattr(e, "diag", None), "message_primary", None) or str(e)).strip().splitlines()
    return CheckFailed(f"{first[0] if first else type(e).__name__} ({_code(e) or 'no SQLSTATE'})")


def _shares(budget, nsp, rel, partitioned, columns) -> dict:
    """{column: (nulls, nans, how)} of the columns (name, type) holding NULL (or NaN, in a float column); how
    says where the numbers come from: "stats" (pg_stats, shares: an estimate) or ("sample", read, whole) (counts of
    the rows read)."""
    sql = budget.sql
    out, unseen = {}, list(columns)
    if not partitioned:  # (a partitioned table has no statistics of its own rows: it has none)
        budget.run(_STATS, (nsp, rel, [c for c, _ in columns]))
        seen = {r[0]: r for r in budget.cur.fetchall()}
        unseen = [(c, t) for c, t in columns if c not in seen]
        for col, typ in columns:
            if col in seen:
                _, null_frac, mcv, freqs = seen[col]
                nulls, nans = null_frac or 0.0, _nan_share(mcv, freqs) if typ in _FLOATS else 0.0
                if nulls + nans > 0:
                    out[col] = (nulls, nans, "stats")
    if unseen:  # never analysed: the first SAMPLE_ROWS rows, counted
        def count(col, typ):
            c = sql.Identifier(col)
            nans = (sql.SQL("pg_catalog.count(*) FILTER (WHERE {} = 'NaN')").format(c) if typ in _FLOATS
                    else sql.SQL("0"))
            return sql.SQL("pg_catalog.count(*) FILTER (WHERE {} IS NULL), {}").format(c, nans)
        # (LIMIT a literal, no parameter: the driver would take a `%` in a name composed in for a placeholder)
        budget.run(sql.SQL("SELECT pg_catalog.count(*), {} FROM (SELECT {} FROM {}{} LIMIT {}) s").format(
            sql.SQL(", ").join(count(c, t) for c, t in unseen),
            sql.SQL(", ").join(sql.Identifier(c) for c, _ in unseen),
            sql.SQL("" if partitioned else "ONLY "), sql.Identifier(nsp, rel), sql.Literal(SAMPLE_ROWS)))
        read, *counts = budget.cur.fetchone()
        for i, (col, _) in enumerate(unseen):
            nulls, nans = counts[2 * i], counts[2 * i + 1]
            if nulls or nans:
                out[col] = (nulls, nans, ("sample", read, read < SAMPLE_ROWS))
    return out


def _array_shares(budget, nsp, rel, partitioned, features) -> tuple:
    """How the first SAMPLE_ROWS rows' features arrays hold missing values: (rows read, NULL arrays,
    {feature: (NULL elements, NaN elements)})."""
    sql = budget.sql
    budget.run(sql.SQL(
        "WITH s AS MATERIALIZED (SELECT {f} AS f FROM {only}{t} LIMIT {n}) "
        "SELECT 0::pg_catalog.int8, pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE s.f IS NULL) FROM s "
        "UNION ALL SELECT u.o, pg_catalog.count(*) FILTER (WHERE u.v IS NULL), "
        "pg_catalog.count(*) FILTER (WHERE u.v = 'NaN') FROM s, pg_catalog.unnest(s.f) WITH ORDINALITY AS u(v, o) "
        "WHERE u.v IS NULL OR u.v = 'NaN' GROUP BY u.o").format(
            f=sql.Identifier("features"), only=sql.SQL("" if partitioned else "ONLY "), t=sql.Identifier(nsp, rel),
            n=sql.Literal(SAMPLE_ROWS)))  # (a literal: a `%` in the table's name is no placeholder then)
    read, null_arrays, elements = 0, 0, {}
    for o, a, b in budget.cur.fetchall():
        if o == 0:
            read, null_arrays = a, b
        elif o <= len(features):
            elements[features[o - 1]] = (a, b)
    return read, null_arrays, elements


def _compiled_nan_ok(budget, name, version, features):
    """{feature: whether it may be NULL} as the version's compiled evaluator says (the one the server scores
    with), or None where there is none this role may read (the probes decide then)."""
    from pgscore import compiled

    cur = budget.cur
    cur.execute("SAVEPOINT pgscore_compiled_read")
    try:
        budget.run("SELECT e.bytes FROM pgscore.evaluators e JOIN pgscore.models m USING (model_id) "
                   "WHERE m.name = %s AND m.version = %s AND e.bytes IS NOT NULL", (name, version))
        found = cur.fetchone()
    except _db_errors() as e:
        cur.execute("ROLLBACK TO SAVEPOINT pgscore_compiled_read")
        if _code(e) == "42501":  # (the bytes are load_model's to read: a role that may not probes instead)
            return None
        raise _failed(budget, e) from None
    cur.execute("RELEASE SAVEPOINT pgscore_compiled_read")
    if not found:
        return None
    try:
        ok = compiled.Evaluator.from_bytes(found[0]).nan_ok
    except Exception:  # (bytes it cannot read: the probes decide)
        return None
    return dict(zip(features, (bool(v) for v in ok))) if len(ok) == len(features) else None


def _refuses_missing(budget, name, version, features, baseline_min, feature) -> bool:
    """Whether the version refuses a NULL in `feature`: the server scores one row, that feature NULL and the
    others at their training minimum (a value it saw: a known category), unlogged, in a savepoint rolled back.
    Only the refusal of the missing value counts; any other error (another refusal of the row, which cannot
    tell: an unknown category where the version has no baseline; a timeout, a lock, a model the server cannot
    load) ends the check."""
    from pgscore.serving import refusal

    cur = budget.cur
    row = [None if f == feature else baseline_min.get(f, 0.0) for f in features]
    cur.execute("SAVEPOINT pgscore_missing_probe")
    try:
        budget.run("SELECT pgscore.score(%s, %s::pg_catalog.float8[], %s)", (name, row, version))
    except _db_errors() as e:  # the server's answer
        cur.execute("ROLLBACK TO SAVEPOINT pgscore_missing_probe")
        if _code(e) == "22023" and refusal(
                getattr(getattr(e, "diag", None), "message_primary", None) or str(e)) == "NaN":
            return True
        # (another refusal of the probe's row, an unknown category where the version has no baseline to take the
        # other features from: it cannot tell, and taken as "takes NULL" the table's NULLs went unsaid)
        raise _failed(budget, e) from None
    cur.execute("ROLLBACK TO SAVEPOINT pgscore_missing_probe")
    return False


def _how_many(nulls, nans, how, reltuples) -> str:
    if how == "stats":
        of = f" of ~{int(reltuples):,} rows" if reltuples and reltuples > 0 else ""
        return f"~{nulls + nans:.1%}{of}"
    _, read, whole = how
    n = nulls + nans
    return f"{n:,} of {'its' if whole else 'the first'} {read:,} rows ({n / read:.1%})"


def warnings(conn, name, version) -> list[str]:
    """The warnings for `name` version `version` live (an empty list where nothing is wrong), in a savepoint of
    conn's transaction rolled back: its settings and probes leave nothing behind (pgscore status shares it).
    Raises CheckFailed where the check cannot run to its end. The savepoint is released once rolled back to (ROLLBACK
    TO keeps it open: what the caller's transaction did next, an alembic migration's next revisions, ran in a
    subtransaction, one more per check). A connection in autocommit outside a transaction block (alembic's
    autocommit_block(): the version committed as it was stored) has none to nest in: a transaction of its own then,
    rolled back (before, its SAVEPOINT was refused, 25P01, and the check skipped)."""
    # (psycopg2's and psycopg 3's transaction_status alike: 0, idle)
    own = bool(getattr(conn, "autocommit", False)) and conn.info.transaction_status == 0
    with conn.cursor() as cur:
        cur.execute("BEGIN" if own else "SAVEPOINT pgscore_wired_nulls")
        try:
            return _warnings(cur, name, version)
        finally:
            if own:
                cur.execute("ROLLBACK")
            else:
                cur.execute("ROLLBACK TO SAVEPOINT pgscore_wired_nulls")
                cur.execute("RELEASE SAVEPOINT pgscore_wired_nulls")


def _warnings(cur, name, version) -> list[str]:
    from pgscore.rescoring import parse_counters

    budget = _Budget(cur)
    sql = budget.sql
    cur.execute("SET LOCAL search_path = pg_catalog, pg_temp")
    cur.execute("SET LOCAL pgscore.log_queries = off")  # (the probes are no predictions)
    try:
        budget.run("SELECT m.feature_names FROM pgscore.models m WHERE m.name = %s AND m.version = %s",
                   (name, version))
        found = cur.fetchone()
        if not found:
            return []
        features = list(found[0])
        budget.run(_WIRINGS, (name,))
        wirings = cur.fetchall()
        if not wirings:
            return []
        budget.run("SELECT b.feature, b.min FROM pgscore.baselines b JOIN pgscore.models m USING (model_id) "
                   "WHERE m.name = %s AND m.version = %s AND b.kind = 'feature' AND b.min IS NOT NULL",
                   (name, version))
        baseline_min = dict(cur.fetchall())
    except _db_errors() as e:
        raise _failed(budget, e) from None
    nan_ok = _compiled_nan_ok(budget, name, version, features)

    refuses = {}

    def refused(feature):
        if feature not in refuses:
            refuses[feature] = (not nan_ok[feature] if nan_ok is not None else
                                _refuses_missing(budget, name, version, features, baseline_min, feature))
        return refuses[feature]

    out = {}  # a warning, with {wirings} for its wirings' ids -> those ids (one warning per table and reading)
    for rid, table, event_table, counters, strict, oid, kind, nsp, rel, reltuples in wirings:
        cur.execute("SAVEPOINT pgscore_wired_table")
        try:
            budget.run(_ATTRS, (oid,))
            attrs = {a: (typid, typ, gen, expr) for a, typid, typ, gen, expr in cur.fetchall()}
            try:
                counted = {c.column for c in parse_counters(counters)}
            except Exception:  # (a wiring that cannot rescore at all says so itself: status)
                cur.execute("ROLLBACK TO SAVEPOINT pgscore_wired_table")
                continue
            partitioned = kind == "p"
            by_position = attrs.get("features", (None,))[0] == FLOAT8_ARRAY and not counted
            if by_position:
                read, null_arrays, elements = _array_shares(budget, nsp, rel, partitioned, features)
                items = []  # (feature, label, nulls, nans, how, set target, test)
                a = sql.Identifier("features")
                if null_arrays and any(refused(f) for f in features):
                    items.append(("features", "features", null_arrays, 0, ("sample", read, read < SAMPLE_ROWS),
                                  sql.SQL("{} = ...").format(a), sql.SQL("{} IS NULL").format(a)))
                for f, (nulls, nans) in elements.items():
                    if refused(f):
                        i = features.index(f) + 1
                        items.append((f, f"features[{i}] ({f})", nulls, nans, ("sample", read, read < SAMPLE_ROWS),
                                      sql.SQL("{}[{}] = ...").format(a, sql.Literal(i)),
                                      sql.SQL("{0}[{1}] IS NULL OR {0}[{1}] = 'NaN'").format(a, sql.Literal(i))))
            else:
                wanted = set(features) - counted  # (in the table's column order)
                columns = [(a, v[1]) for a, v in attrs.items() if a in wanted]
                missing = _shares(budget, nsp, rel, partitioned, columns) if columns else {}
                items = []
                for col, (nulls, nans, how) in missing.items():
                    if refused(col):
                        c = sql.Identifier(col)
                        float_col = attrs[col][1] in _FLOATS
                        generated = attrs[col][2] != ""  # (UPDATE ... SET refuses it: what it reads is filled)
                        items.append((col, col, nulls, nans, how, None if generated else sql.SQL("{} = ...").format(c),
                                      sql.SQL("{0} IS NULL OR {0} = 'NaN'" if float_col else "{0} IS NULL").format(c)))
        except _db_errors() as e:  # a lock held past lock_timeout: the other wirings' tables (a timeout ends it)
            cur.execute("ROLLBACK TO SAVEPOINT pgscore_wired_table")
            if _code(e) == "55P03":
                continue
            if _code(e) == "42501":  # (a role that may not read the table: said, the others checked)
                out.setdefault(f"not checked: {table} (wired to rescore with {name}: {{wirings}}): "
                               f"{_failed(budget, e)}", []).append(rid)
                continue
            raise _failed(budget, e) from None
        cur.execute("RELEASE SAVEPOINT pgscore_wired_table")
        if not items:
            continue
        said = ", ".join(f"{label} ({_how_many(n, m, how, reltuples)})" for _, label, n, m, how, _, _ in items)
        cols = [label for _, label, *_ in items]
        stats = any(how == "stats" for _, _, _, _, how, _, _ in items)
        read_from = ("its features arrays" if by_position else "a partitioned table, its partitions" if partitioned
                     else "the table was never analysed")
        source = ("pg_stats.null_frac, an estimate from the last ANALYZE" if stats else
                  f"{read_from}: at most {SAMPLE_ROWS:,} rows read")
        settable = [i for i in items if i[5] is not None]
        fill = "; ".join(
            ([sql.SQL("UPDATE {} SET {} WHERE {}").format(
                sql.Identifier(nsp, rel), sql.SQL(", ").join(i[5] for i in settable),
                sql.SQL(" OR ").join(i[6] for i in settable)).as_string(cur)] if settable else [])
            + [f"{i[0]} is a generated column, GENERATED ALWAYS AS ({attrs[i[0]][3]}): fill the columns it reads"
               for i in items if i[5] is None])
        if stats:  # (else the estimate outlives the fix: autovacuum may not analyse it again for a while)
            fill += "; " + sql.SQL("ANALYZE {}").format(sql.Identifier(nsp, rel)).as_string(cur)
        what = ("the wiring is strict: each INSERT into " f"{event_table} of an event for such a profile will fail "
                "(22023)" if strict else "the rescoring of each event for such a profile will fail and be queued in "
                "pgscore.error_queue (22023)")
        nulls, nans = any(i[2] for i in items), any(i[3] for i in items)
        held = "NULL or NaN" if nulls and nans else "NaN" if nans else "NULL"
        out.setdefault(
            f"{name} version {version} takes no missing value in {', '.join(cols)}, and {table} (wired to "
            f"rescore with it: {{wirings}}) holds {held} there: {said} ({source}); "
            f"{what} until the column is filled ({fill}), or deploy a model that takes missing values (an imputer "
            "in its pipeline, or HistGradientBoosting)", []).append(rid)
    return [w.replace("{wirings}", f"wiring{'s' if len(ids) > 1 else ''} {', '.join(map(str, ids))}")
            for w, ids in out.items()]


def say_warnings(url, name, version, out) -> None:
    """Print the warnings on `out` (stderr); never fails the command that made the version live: a check that
    cannot run (a timeout, a privilege, a server that cannot load the version, a Ctrl-C) says so in one line."""
    import contextlib

    import psycopg2

    from pgscore.migrate import connect_catalog_first

    said, why = [], None
    try:
        with contextlib.closing(connect_catalog_first(url)) as conn:
            try:
                said = warnings(conn, name, version)
            finally:
                conn.rollback()
    except CheckFailed as e:
        why = str(e)
    except KeyboardInterrupt:  # (the version is live and committed: only the advice is skipped)
        why = "interrupted (Ctrl-C); the version is live"
    except Exception as e:  # (a warning is advice: the version is live and committed whatever happens here)
        why = first_line(e)
    for w in said:
        print(f"pgscore: warning: {w}", file=out)
    if why:
        print(f"pgscore: note: {skipped(name, version, why)}", file=out)


def first_line(e) -> str:
    """An exception's message in one line (its type where it has none)."""
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


def skipped(name, version, why) -> str:
    """The note where the check could not run to its end."""
    return f"the check of {name} version {version}'s wired profile tables for NULLs it refuses was skipped: {why}"
