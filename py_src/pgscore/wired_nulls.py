"""Go-live warnings: a profile table wired to rescore with a model holds NULLs (or NaN) in a feature the version
that goes live takes no missing value in, so each event for such a profile would be queued, not rescored."""
import psycopg2
from psycopg2 import sql

# the rows read from a profile table that ANALYZE never saw (no pg_stats row for the column): the first ones in
# physical order, never a full scan of a big table at deploy
SAMPLE_ROWS = 10_000
_FLOATS = ("double precision", "real", "numeric")  # the types that hold a NaN as well as a NULL

# the wired profile tables that exist, and their columns the version reads by name (a generated column too)
_COLUMNS = """
SELECT r.rescoring_id, r.profile_table, n.nspname, c.relname, c.reltuples, a.attname,
       a.atttypid::pg_catalog.regtype::text
  FROM pgscore.rescoring r
  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(r.profile_table)
  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.oid
 WHERE r.model_name OPERATOR(pg_catalog.=) %s AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
   AND a.attname::text OPERATOR(pg_catalog.=) ANY (%s::text[])
 ORDER BY r.rescoring_id, a.attnum
"""

# what the last ANALYZE saw (the parent's inherited row first: a partitioned table has only that one)
_STATS = """
SELECT DISTINCT ON (s.attname) s.attname::text, s.null_frac, s.most_common_vals::text, s.most_common_freqs
  FROM pg_catalog.pg_stats s
 WHERE s.schemaname OPERATOR(pg_catalog.=) %s AND s.tablename OPERATOR(pg_catalog.=) %s
   AND s.attname::text OPERATOR(pg_catalog.=) ANY (%s::text[])
 ORDER BY s.attname, s.inherited DESC
"""


def _nan_share(mcv_text, freqs) -> float:
    """The share of NaN among the most common values ANALYZE kept (0 when NaN is not one of them)."""
    if not mcv_text or not freqs:
        return 0.0
    values = mcv_text.strip("{}").split(",")
    return sum(f for v, f in zip(values, freqs) if v.strip('"') == "NaN")


def _shares(cur, nsp, rel, columns) -> dict:
    """{column: (share, how)} of the columns holding NULL (or NaN, in a float column); how says where
    the numbers come from: "stats" (pg_stats, an estimate) or "sample" (rows read: (missing, read, whole))."""
    cur.execute(_STATS, (nsp, rel, [c for c, _ in columns]))
    out, unseen = {}, []
    seen = {r[0]: r for r in cur.fetchall()}
    for col, typ in columns:
        if col not in seen:
            unseen.append((col, typ))
            continue
        _, null_frac, mcv, freqs = seen[col]
        share = (null_frac or 0.0) + (_nan_share(mcv, freqs) if typ in _FLOATS else 0.0)
        if share > 0:
            out[col] = (share, "stats")
    if unseen:  # never analysed: the first SAMPLE_ROWS rows, counted
        def missing(col, typ):
            c = sql.Identifier(col)
            test = (sql.SQL("{} IS NULL OR {} = 'NaN'").format(c, c) if typ in _FLOATS
                    else sql.SQL("{} IS NULL").format(c))
            return sql.SQL("pg_catalog.count(*) FILTER (WHERE {})").format(test)
        cur.execute(sql.SQL("SELECT pg_catalog.count(*), {} FROM (SELECT {} FROM {} LIMIT %s) s").format(
            sql.SQL(", ").join(missing(c, t) for c, t in unseen),
            sql.SQL(", ").join(sql.Identifier(c) for c, _ in unseen), sql.Identifier(nsp, rel)), (SAMPLE_ROWS,))
        read, *counts = cur.fetchone()
        for (col, _), n in zip(unseen, counts):
            if n:
                out[col] = (n / read, ("sample", n, read, read < SAMPLE_ROWS))
    return out


def _refuses_missing(cur, name, version, features, baseline_min, feature) -> bool:
    """Whether the version refuses a NULL in `feature`: the server scores one row, that feature NULL and the
    others at their training minimum (a value it saw: a known category), unlogged, in a savepoint rolled back.
    Only the refusal of the missing value counts (an error of another kind says nothing of it)."""
    from pgscore.serving import refusal

    row = [None if f == feature else baseline_min.get(f, 0.0) for f in features]
    cur.execute("SAVEPOINT pgscore_missing_probe")
    try:
        cur.execute("SELECT pgscore.score(%s, %s::pg_catalog.float8[], %s)", (name, row, version))
        refused = False
    except psycopg2.Error as e:  # the server's answer
        refused = getattr(e, "pgcode", None) == "22023" and refusal(
            getattr(getattr(e, "diag", None), "message_primary", None) or str(e)) == "NaN"
    cur.execute("ROLLBACK TO SAVEPOINT pgscore_missing_probe")
    return refused


def _how_many(share, how, reltuples) -> str:
    if how == "stats":
        of = f" of ~{int(reltuples):,} rows" if reltuples and reltuples > 0 else ""
        return f"~{share:.1%}{of}"
    _, n, read, whole = how
    return f"{n:,} of {'its' if whole else 'the first'} {read:,} rows ({share:.1%})"


def warnings(conn, name, version) -> list[str]:
    """The warnings for `name` version `version` live (an empty list where nothing is wrong), in a savepoint of
    conn's transaction rolled back: its settings and probes leave nothing behind (pgscore status shares it)."""
    with conn.cursor() as cur:
        cur.execute("SAVEPOINT pgscore_wired_nulls")
        try:
            return _warnings(cur, name, version)
        finally:
            cur.execute("ROLLBACK TO SAVEPOINT pgscore_wired_nulls")


def _warnings(cur, name, version) -> list[str]:
    cur.execute("SET LOCAL search_path = pg_catalog, pg_temp")
    cur.execute("SET LOCAL statement_timeout = '20s'")  # (a probe loads the model: seconds for a big one)
    cur.execute("SET LOCAL lock_timeout = '2s'")
    cur.execute("SET LOCAL pgscore.log_queries = off")  # (the probes are no predictions)
    cur.execute("SELECT m.feature_names FROM pgscore.models m WHERE m.name = %s AND m.version = %s",
                (name, version))
    found = cur.fetchone()
    if not found:
        return []
    features = list(found[0])
    cur.execute(_COLUMNS, (name, features))
    tables = {}
    for rid, table, nsp, rel, reltuples, col, typ in cur.fetchall():
        tables.setdefault((rid, table, nsp, rel, reltuples), []).append((col, typ))
    if not tables:
        return []
    cur.execute("SELECT b.feature, b.min FROM pgscore.baselines b JOIN pgscore.models m USING (model_id) "
                "WHERE m.name = %s AND m.version = %s AND b.kind = 'feature' AND b.min IS NOT NULL",
                (name, version))
    baseline_min = dict(cur.fetchall())
    refuses, out = {}, []
    for (rid, table, nsp, rel, reltuples), columns in tables.items():
        cur.execute("SAVEPOINT pgscore_wired_table")
        try:
            missing = _shares(cur, nsp, rel, columns)
        except psycopg2.Error:  # (a table this role may not read, a lock or a timeout: the other wirings' tables)
            cur.execute("ROLLBACK TO SAVEPOINT pgscore_wired_table")
            continue
        for col in missing:
            if col not in refuses:
                refuses[col] = _refuses_missing(cur, name, version, features, baseline_min, col)
        bad = [(c, v) for c, v in missing.items() if refuses[c]]
        if not bad:
            continue
        said = ", ".join(f"{c} ({_how_many(s, how, reltuples)})" for c, (s, how) in bad)
        cols = [c for c, _ in bad]
        floats = [c for c, t in columns if c in cols and t in _FLOATS]
        source = ("pg_stats.null_frac, an estimate from the last ANALYZE" if any(h == "stats" for _, (_, h) in bad)
                  else f"the table was never analysed: at most {SAMPLE_ROWS:,} rows read")
        fill = sql.SQL("UPDATE {} SET {} WHERE {}").format(
            sql.Identifier(nsp, rel), sql.SQL(", ").join(sql.SQL("{} = ...").format(sql.Identifier(c)) for c in cols),
            sql.SQL(" OR ").join(sql.SQL("{0} IS NULL OR {0} = 'NaN'" if c in floats else "{0} IS NULL").format(
                sql.Identifier(c)) for c in cols)).as_string(cur)
        out.append(
            f"{name} version {version} takes no missing value in {', '.join(cols)}, and {table} (wired to "
            f"rescore with it: wiring {rid}) holds NULL{' or NaN' if floats else ''} there: {said} ({source}); the "
            "rescoring of each event for such a profile will fail and be queued in pgscore.error_queue (22023) "
            f"until the column is filled ({fill}), or deploy a model that takes missing values (an imputer in its "
            "pipeline, or HistGradientBoosting)")
    return out


def say_warnings(url, name, version, out) -> None:
    """Print the warnings on `out` (stderr); never fails the command that made the version live: a check that
    cannot run (a timeout, a privilege, a server that cannot load the version) says nothing."""
    import contextlib

    try:
        with contextlib.closing(psycopg2.connect(url)) as conn:
            try:
                said = warnings(conn, name, version)
            finally:
                conn.rollback()
    except Exception:  # (a warning is advice: the version is live and committed whatever happens here)
        return
    for w in said:
        print(f"pgscore: warning: {w}", file=out)
