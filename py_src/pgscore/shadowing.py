"""A shadow version's failures, as the rescoring trigger and score_table meet them (see docs/sql.md, set_shadow).

A shadow that fails never fails the statement or the chunk. Each failure is counted in pgscore.shadow_failures
(one row per version, table, SQLSTATE and backend: concurrent sessions never wait on one another's count), which
pgscore status reads, through pgscore.count_shadow_failure (as its owner: the roles that score may not write the
table); a WARNING says so once per backend, version and SQLSTATE, not at every statement: a busy event table
flooded the client and the server log with one per INSERT. Its hint stops that version alone.
"""

from __future__ import annotations

from pgscore.errors import literal, of_the_transaction
from pgscore.quoting import quote_literal

MODEL_RAISED = "38000"  # external_routine_exception: the model itself raised
WARNED = "pgscore.shadow_warned"  # GD: the (model_id, sqlstate) this backend has warned of
_PLAN = "pgscore.shadow_failures_plan"
_COUNT = "SELECT pgscore.count_shadow_failure($1, $2, $3, $4, $5) AS counted"
_COUNTS = ("SELECT pg_catalog.to_regprocedure('pgscore.count_shadow_failure(pg_catalog.int8, pg_catalog.text, "
           "pg_catalog.text, pg_catalog.int8, pg_catalog.text)') IS NOT NULL AS f")
# a schema from before count_shadow_failure, where the roles that score wrote the table themselves
_INSERT = ("INSERT INTO pgscore.shadow_failures AS f (model_id, relation, sqlstate, backend_pid, statements, profiles, "
           "first_at, last_at, last_message) VALUES ($1, $2, $3, pg_catalog.pg_backend_pid(), 1, $4, "
           "pg_catalog.clock_timestamp(), pg_catalog.clock_timestamp(), $5) "
           "ON CONFLICT (model_id, relation, sqlstate, backend_pid) DO UPDATE SET "
           "statements = f.statements OPERATOR(pg_catalog.+) 1, "
           "profiles = f.profiles OPERATOR(pg_catalog.+) EXCLUDED.profiles, last_at = EXCLUDED.last_at, "
           "last_message = EXCLUDED.last_message")

# a profile table's (or score_table's table's) one float8[] column features holds the live version's features in its
# order: a shadow reads it by position, and scores only where its features are those, in that order
READ_BY_POSITION = "55000"


def order_differs(shadow_names, live_names, live_version, shadow_version) -> str | None:
    """Why a shadow reading the live version's features out of one float8[] column by position would read other
    features than its own (another count, or the first feature named otherwise: "holds the 3 features of live
    version 1 in its order, and version 2 reads 'b' where it holds 'a'"); None where it reads its own. The schema's
    pgscore.feature_order_differs says the same in SQL (set_shadow, the deployments' trigger); tests/test_shadow.py
    compares the two. This one serves the code that may run on an older schema (the rescoring trigger, score_table,
    attach_rescoring)."""
    mine, held = list(shadow_names), list(live_names)
    if mine == held:
        return None
    if len(mine) != len(held):
        return (f"holds the {len(held)} features of live version {live_version}, and version {shadow_version} has "
                f"{len(mine)}")
    j = next(i for i, (a, b) in enumerate(zip(mine, held)) if a != b)
    return (f"holds the {len(held)} features of live version {live_version} in its order, and version "
            f"{shadow_version} reads {literal(mine[j])} where it holds {literal(held[j])}")


def failed(plpy, GD, model_id, label: str, name: str, relation: str, sqlstate, n: int, what: str, reason: str):
    """Count a statement (or chunk) in which shadow version `label` (`model_id`, of model `name`) did not score
    `n` profiles or rows of `relation`, and WARN the first time this backend meets the version with this
    SQLSTATE. `what` completes "did not score": "2 profile(s) of public.customers", say. Never raises for
    the count itself (a schema from before it, a role without its grant): only errors of the transaction."""
    sqlstate = sqlstate or MODEL_RAISED
    counted = _count(plpy, GD, model_id, relation, sqlstate, n, reason)
    warned = GD.setdefault(WARNED, set())
    # (a count lost to the transactions this backend prepared is said once too, after the first warning)
    key = (model_id, sqlstate)
    if counted == "held" and key in warned:
        key = (model_id, sqlstate, "held")
    if key in warned:
        return
    warned.add(key)
    counts = {True: "counted in pgscore.shadow_failures (pgscore status)",
              None: "not counted (this schema has no pgscore.shadow_failures: pgscore install)",
              False: "not counted (writing pgscore.shadow_failures failed)",
              "gone": "not counted (it is a shadow no more: stopped or made live since the statement began)",
              "held": "not counted while transactions this session PREPAREd that counted some hold its rows of "
                      "pgscore.shadow_failures (until COMMIT PREPARED or ROLLBACK PREPARED)"}[counted]
    then = f"; this session warns of it once: its later failures with SQLSTATE {sqlstate} are {counts}"
    version = _version(plpy, model_id)
    stop = (f"pgscore shadow {name} {version} --off (SELECT pgscore.clear_shadow({quote_literal(plpy, name)}, "
            f"{version}))" if version is not None else
            f"pgscore shadow {name} VERSION --off (SELECT pgscore.clear_shadow({quote_literal(plpy, name)}, VERSION))")
    plpy.warning(f"pgscore: shadow version {label} did not score {what}: {reason}; the live version's scores were "
                 f"written as usual, and the shadow's were not logged{then}",
                 hint=f"fix the cause, or stop the shadow: {stop}")


def _version(plpy, model_id):
    """The shadow's version number, for the hint's stop of that version alone (a model's other shadows may
    score well); None where it cannot be read."""
    try:
        rows = plpy.execute(plpy.prepare("SELECT m.version FROM pgscore.models m WHERE m.model_id "
                                         "OPERATOR(pg_catalog.=) $1", ["pg_catalog.int8"]), [model_id])
    except plpy.SPIError as e:
        if of_the_transaction(getattr(e, "sqlstate", None)):
            raise
        return None
    return rows[0]["version"] if rows else None


def _count(plpy, GD, model_id, relation, sqlstate, n, reason, again=True):
    """True where counted; False where the count failed; None where the schema has no pgscore.shadow_failures;
    "gone" where the version is a shadow no more (count_shadow_failure counts nothing then); "held" where
    transactions this backend prepared hold both its rows (count_shadow_failure: NULL)."""
    plan = GD.get(_PLAN)
    try:
        # once per backend, and after a failed count (an INSERT the upgraded schema refuses); and at each count
        # while the schema has no function: after pgscore install a role that may still INSERT (a superuser's,
        # a subscription's apply worker) kept writing the table directly for as long as the backend lived, which
        # waits for the row a transaction it PREPAREd holds (migration 0067 ended that for the function)
        through = plan[0] if plan is not None and plan[0] else plpy.execute(_COUNTS)[0]["f"]
        if plan is None or plan[0] != through:
            plan = GD[_PLAN] = (through, plpy.prepare(_COUNT if through else _INSERT,
                                                      ["pg_catalog.int8", "pg_catalog.text", "pg_catalog.text",
                                                       "pg_catalog.int8", "pg_catalog.text"]))
        rows = plpy.execute(plan[1], [model_id, relation, sqlstate, n, reason])
        if plan[0] and rows[0]["counted"] is not True:
            return "gone" if rows[0]["counted"] is False else "held"
        return True
    except plpy.SPIError as e:
        GD.pop(_PLAN, None)
        state = getattr(e, "sqlstate", None)
        if of_the_transaction(state):
            raise
        if again and plan is not None and not plan[0]:  # the table written directly: the schema may count now
            return _count(plpy, GD, model_id, relation, sqlstate, n, reason, again=False)
        return None if state == "42P01" else False
