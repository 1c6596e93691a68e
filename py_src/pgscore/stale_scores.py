"""The wired profiles whose score another version of their model gave (after a rollback or an activate: each keeps it
until its next event), counted for pgscore rollback, activate and status. Which version scored a profile is read from
its wiring's scored_at column and the model's deployment history: the version live at that time (the history's last
go-live at or before it). A profile scored by a transaction that began before a go-live and rescored after it is
counted as the version before's, so the count errs towards too many (pgscore rescore rescores those too). A go-live's
deployed_at is the time its row was written, before its transaction commits: a profile scored meanwhile holds the
version before's score with a scored_at after it, so a profile scored since the last go-live is counted, too, where its
audit row (logged_at its scored_at, the trigger's now() as well) is another version's: the trigger's, and score_table's
(pgscore score's), which stamps the wiring's scored_at where it writes the wiring's score column, from a run pinned to
a version that is not live too (p_version; a run with p_log => false leaves no audit row to say so). A profile
table without a scored_at column is named, not counted. One statement a wiring, a full read of the profile table,
under STATEMENT_TIMEOUT_MS: a table too big to count in that time is named with the command, not counted."""

import shlex

from pgscore.errors import command

STATEMENT_TIMEOUT_MS = 3000
LOCK_TIMEOUT_MS = 1000

_WIRINGS = """
SELECT r.rescoring_id, r.event_table, r.profile_table, r.scored_at_column::pg_catalog.text,
       n.nspname::pg_catalog.text, c.relname::pg_catalog.text, r.profile_key::pg_catalog.text,
       a.atttypid OPERATOR(pg_catalog.=) 'pg_catalog.timestamp'::pg_catalog.regtype AS no_zone
  FROM pgscore.rescoring r
  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(r.profile_table)
  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
  LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.oid
        AND a.attname OPERATOR(pg_catalog.=) r.scored_at_column AND NOT a.attisdropped
 WHERE r.model_name OPERATOR(pg_catalog.=) %s
 ORDER BY r.rescoring_id
"""

# the live version's model_id (NULL: retired, or never made live)
_LIVE = """
SELECT CASE WHEN d.action OPERATOR(pg_catalog.<>) 'retire' THEN d.model_id END
  FROM pgscore.deployments d WHERE d.model_name OPERATOR(pg_catalog.=) %s
 ORDER BY d.deployment_id DESC LIMIT 1
"""

_COUNT = """
WITH o AS MATERIALIZED (
  -- the audit rows of another version of the model since its last go-live (by the (model_id, logged_at) index)
  SELECT l.entity_key, l.logged_at FROM pgscore.prediction_log l
   WHERE l.model_id OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT m.model_id FROM pgscore.models m
                                                       WHERE m.name OPERATOR(pg_catalog.=) %(name)s
                                                         AND m.model_id OPERATOR(pg_catalog.<>) %(live)s))
     AND l.logged_at OPERATOR(pg_catalog.>=) (SELECT pg_catalog.max(d.deployed_at) FROM pgscore.deployments d
                                               WHERE d.model_name OPERATOR(pg_catalog.=) %(name)s)
     AND l.source OPERATOR(pg_catalog.<>) 'shadow'
     AND ((l.cause OPERATOR(pg_catalog.->>) 'rescoring_id') OPERATOR(pg_catalog.=) %(rid)s
          -- score_table's (pgscore score's) rows: it stamps the wiring's scored_at too, pinned to any version
          OR (l.source OPERATOR(pg_catalog.=) 'batch'
              AND (l.cause OPERATOR(pg_catalog.->>) 'via') OPERATOR(pg_catalog.=) 'score_table')))
SELECT pg_catalog.count(*) FROM {table} AS p
 WHERE {at} IS NOT NULL
   AND ((SELECT d.model_id FROM pgscore.deployments d
         WHERE d.model_name OPERATOR(pg_catalog.=) %(name)s AND d.action OPERATOR(pg_catalog.<>) 'retire'
           AND d.deployed_at OPERATOR(pg_catalog.<=) {at}
         ORDER BY d.deployed_at DESC, d.deployment_id DESC LIMIT 1) IS DISTINCT FROM %(live)s
        -- scored while the last go-live's transaction was open (after its deployed_at) by the version before
        OR (p.{key}::pg_catalog.text, {at}) IN (SELECT o.entity_key, o.logged_at FROM o))
"""


def counts(cur, name) -> list[dict]:
    """Per wiring of model `name` whose profile table exists: event_table, profile_table, stale (a count, or None
    where not counted) and why (where not counted). Runs in a transaction of its own on `conn` (a psycopg2
    connection, not in autocommit), rolled back: it writes nothing; or in the caller's transaction (an alembic
    revision's, psycopg2's or psycopg 3's connection: the identifiers quoted by the server, either driver's errors),
    each wiring's count in a savepoint rolled back."""
    from pgscore.registry import _db_errors

    out = []
    cur.execute(_WIRINGS, (name,))
    wirings = cur.fetchall()
    cur.execute(_LIVE, (name,))
    row = cur.fetchone()
    live = row[0] if row else None
    if live is None:
        return []  # (no live version: nothing is rescored, there is nothing to compare with)
    for rid, events, profiles, at, schema, rel, key, no_zone in wirings:
        said = {"event_table": events, "profile_table": profiles, "stale": None, "why": None}
        out.append(said)
        if at is None:
            said["why"] = "its wiring has no scored_at column: which version scored a profile is not known"
            continue
        cur.execute("SAVEPOINT pgscore_stale_scores")
        try:
            cur.execute(f"SET LOCAL statement_timeout = {int(STATEMENT_TIMEOUT_MS)}")
            cur.execute(f"SET LOCAL lock_timeout = {int(LOCK_TIMEOUT_MS)}")
            # (the audit rows it reads are few, by index: parallel workers' start cost more than they do, 1 s here)
            cur.execute("SET LOCAL max_parallel_workers_per_gather = 0")
            # (a subquery per profile, costed high: JIT-compiled, it took 3 s of its 3.7 s at 200,000 profiles, 1.25 s
            # without, past STATEMENT_TIMEOUT_MS: review r6)
            cur.execute("SET LOCAL jit = off")
            cur.execute("SELECT pg_catalog.quote_ident(%s) OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) "
                        "pg_catalog.quote_ident(%s), pg_catalog.quote_ident(%s), pg_catalog.quote_ident(%s)",
                        (schema, rel, at, key))
            # (each '%' doubled: the statement goes with named parameters, where the driver reads '%' as a placeholder)
            table, at_q, key_q = (x.replace("%", "%%") for x in cur.fetchone())
            if no_zone:  # (session 67) a timestamp column holds UTC's wall clock (batch.scored_at_sql)
                at_q = f"pg_catalog.timezone('UTC'::pg_catalog.text, p.{at_q})"
            else:
                at_q = f"p.{at_q}"
            cur.execute(_COUNT.format(table=table, at=at_q, key=key_q), {"name": name, "live": live, "rid": str(rid)})
            said["stale"] = cur.fetchone()[0]
        except _db_errors() as e:
            if (getattr(e, "pgcode", None) or getattr(e, "sqlstate", None)) == "57014":  # query_canceled
                said["why"] = f"not counted: more than {STATEMENT_TIMEOUT_MS / 1000:g} s"
            else:
                said["why"] = "not counted: " + (e.diag.message_primary or str(e).strip().splitlines()[0])
        finally:
            cur.execute("ROLLBACK TO SAVEPOINT pgscore_stale_scores")
    return out


def lines(name, said, uncounted=True) -> list[str]:
    """What counts() found, in words: a line per wiring with profiles to rescore (and, with `uncounted`, per wiring
    not counted: after a go-live, not in pgscore status, which would say it at every call), with the command."""
    out = []
    for s in said:
        how = command(f"rescore --table {shlex.quote(s['event_table'])}")
        if s["stale"]:
            n = s["stale"]
            out.append(f"{name}: {n} profile{'' if n == 1 else 's'} of {s['profile_table']} (wired from "
                       f"{s['event_table']}) hold{'s' if n == 1 else ''} another version's score until "
                       f"{'its' if n == 1 else 'their'} next event; rescore {'it' if n == 1 else 'them'} with the live "
                       f"version: {how}")
        elif s["why"] and uncounted:
            out.append(f"{name}: the profiles of {s['profile_table']} (wired from {s['event_table']}) may hold "
                       f"another version's score ({s['why']}); rescore them with the live version: {how}")
    return out
