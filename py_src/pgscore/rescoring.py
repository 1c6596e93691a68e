"""Rescoring on INSERT: an event table wired to a profile table, counters and score updated in the
statement that inserted the events.

`attach` checks a wiring, stores it in pgscore.rescoring and creates one statement-level AFTER INSERT
trigger with a transition table on the event table. The trigger (`on_insert`) then, once per
statement, whatever the number of rows (INSERT, multi-row INSERT, INSERT ... SELECT, COPY):

1. locks the affected profiles in key order, so concurrent statements cannot deadlock on them, and
   reads their features with the counters' new values, as one bytea (one query; profiles that do not
   exist are created first, or queued as errors, as the wiring says);
2. scores them with one vectorised call;
3. writes counters, score and scored_at, the audit rows (source 'trigger', the events that caused
   them) and clears the profiles' queued errors, in one statement.

A linear model is scored by the write statement itself (Sql.fast): the lock and that statement, no
read into Python. Where that statement recounts a window, and the events name one profile, it first
runs without the lock and writes only if the profile is still the version it read (Sql.fast's
`optimistic`; the single-row INSERT's common case, one statement instead of two).

Where versions of the model are scored in shadow (pgscore.shadow_versions), each is then scored on the profiles the live version
wrote, one read of their features and one vectorised call per shadow, and its scores go to
pgscore.prediction_log alone (source 'shadow', the live version's model_id in the cause's 'shadow_of'). A shadow
that fails (it cannot be loaded, lacks a column, raises) never fails the INSERT, queues nothing and changes
nothing of the live version's: each statement it fails in is counted in pgscore.shadow_failures, and a WARNING
names it and why once per session, version and SQLSTATE (_shadow, shadowing.failed). Which versions are shadows costs a
model that never had one a probe of pgscore.shadows' index, in the statements that already say which version
is live (Sql.ever_shadowed: ~5 us; the view itself, ~30 us, is asked only where the model had a shadow once).
The statement that scores in SQL writes nothing while a shadow is set (its condition says so), and is not
tried until the set is empty again.

Unless the wiring is strict, a failure in 2 or 3 never fails the INSERT (errors of the transaction,
`_must_raise`, do): the counters are written without a score and each affected profile gets a row in
pgscore.error_queue, which `retry` drains.

SQL is built here from the wiring; identifiers are quoted by the server (plpy.quote_ident, through pgscore.quoting), the
counters' expressions are the wiring owner's SQL, checked to be single expressions.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from dataclasses import dataclass
from functools import partial

from pgscore import auditlog, batch, pgarray, shadowing, superuser, throttle
from pgscore.errors import (LOCK_NOT_AVAILABLE, READ_ONLY, InvalidModel, PgscoreError, UnknownModel, check_relation,
                            literal, of_the_transaction, read_only_refusal, server_message, spi_fields, spi_objects)
from pgscore.quoting import oid_of, quote_ident, quote_literal

NEW = "pgscore_new_events"  # the transition table's name inside the trigger
CACHE = "pgscore.rescoring"  # GD's wirings, by rescoring_id: the statement trigger's, retry's, refresh's
# the row trigger's for replicated rows (rescore_replicated): each Wiring reads its events from a table of its own
REPLICATED_CACHE = "pgscore.rescoring.replicated"
# the wirings retry_failed folds held-back replicated events with (fold_pending): as a two_phase worker's, in any session
FOLD_CACHE = "pgscore.rescoring.fold"
FOLD = "fold"  # Wiring's `replicated` for them
STAGES = "pgscore.rescoring.stages"  # GD: rescoring_id -> Stage, the temporary table a replicated row is put in
# the row triggers for replicated rows, by their second argument: STAGE puts the row in the wiring's Stage, COMMIT
# (a constraint trigger, INITIALLY DEFERRED) rescores what is staged at its first firing, at the commit; a row
# trigger without it (attached before the stage, the schema not upgraded yet) rescores its row at once
STAGE, COMMIT = "stage", "commit"
STAGE_BYTES = 1 << 19  # a Stage past this size is truncated once rescored, not emptied by DELETE
# a SettingStage past this length (its rows as JSON) is rescored at once, not at the commit: each row put in
# copies the setting, and a transaction of n rows would copy n * n / 2 of them
SETTING_BYTES = 1 << 16
COMMIT_SUFFIX = "_commit"  # the commit trigger's name: the row trigger's (rescoring.replication_trigger) and this
MISSING_CHOICES = ("create", "queue")
SCORE_TYPES = batch.SCORE_TYPES
TIME_TYPES = {"timestamp with time zone", "timestamp without time zone"}
# operators, qualified, as in every statement here: the trigger runs with a fixed search_path (its SET
# clause), but its statements do not depend on it (tests/test_search_path.py)
EQ, LT, GT, LE = (f"OPERATOR(pg_catalog.{o})" for o in ("=", "<", ">", "<="))
# (session 71) and in the statements a WARNING or reason prints for a superuser to paste into psql, where the database
# owner's public may come first on the search_path: a plain = there ran the owner's operator of those types
NE, HAS = "OPERATOR(pg_catalog.<>)", "OPERATOR(pg_catalog.?)"
PLUS, MINUS = "OPERATOR(pg_catalog.+)", "OPERATOR(pg_catalog.-)"
KINDS = {
    # kind: (aggregate applied to the per-event expression, how it combines with the profile's value)
    "add": ("pg_catalog.sum", f"COALESCE({{p}}, 0) {PLUS} COALESCE({{a}}, 0)"),
    "max": ("pg_catalog.max", "GREATEST({p}, {a})"),
    "min": ("pg_catalog.min", "LEAST({p}, {a})"),
    "set": (None, "{a}"),
    "last": (None, "{a}"),  # the newest event's value (Sql.aggregate orders the events), NULL included
}
RECOMPUTED = ("window", "recompute")
# kinds backfill_rescoring recounts from all of an entity's events (a set's aggregate is of one statement's events)
BACKFILLED = ("add", "max", "min", "last", "window", "recompute")
BACKFILL_CHUNK = 10000  # profiles a backfill_rescoring statement locks, recounts and rescores
REPLAYED = ("add", "max", "min")  # kinds retry_failed replays from events a failed update missed ("count": an add)
INTEGER_TYPES = {20, 21, 23}  # int8, int2, int4
FRACTIONAL_TYPES = {700: "real", 701: "double precision", 1700: "numeric"}
LOCKED = "pgscore.rescoring_locked"  # a setting: how many profiles the statement's lock took
RELOCKS = 3  # reads of the profiles at most, when profiles appear between the lock and the read
SAVED_PLAN_ROWS = 64  # statements touching more profiles than this are planned for their own size


class WiringError(PgscoreError):
    sqlstate = "22023"


# -- the counters' specification (pure) -------------------------------------------------------------

@dataclass(frozen=True)
class Counter:
    """How one profile column changes when events arrive."""

    column: str
    kind: str  # add | max | min | set | last | window | recompute
    expr: str | None = None  # SQL over the events `e`
    window: str | None = None  # an interval, for kind 'window'
    time: str | None = None  # the events' time column, for kind 'window'
    zone: str | None = None  # the time zone a `timestamp` or `date` time column's values are in, for 'window'
    by: str | None = None  # what orders the events (newest highest), for 'last'; None: the wiring's event id

    @property
    def recomputed(self) -> bool:
        return self.kind in RECOMPUTED


# a recompute that reads the clock (the aggregate's text names one of these) changes as time passes
_CLOCK = re.compile(r"\b(now|current_timestamp|current_date|current_time|localtimestamp|localtime|clock_timestamp|"
                    r"statement_timestamp|transaction_timestamp|timeofday)\b", re.IGNORECASE)


def ages(c: Counter) -> bool:
    """Whether a counter's value can change with no new event, as time passes: a window, and a recompute
    whose aggregate reads the clock (`count(*) FILTER (WHERE e.at > now() - interval '7 days')`)."""
    return c.kind == "window" or (c.kind == "recompute" and bool(_CLOCK.search(c.expr or "")))


def parse_counters(spec) -> list[Counter]:
    """Counters from the wiring's jsonb: {"column": "count" | {"add"|"max"|"min": per-event expression}
    | {"set": aggregate over the new events} | {"last": per-event expression[, "by": per-event expression]}
    | {"window": "30 days", "time": column[, "zone": "UTC"]}
    | {"recompute": aggregate over all of the entity's events}}."""
    if spec is None:
        return []
    if isinstance(spec, str):
        spec = json.loads(spec)
    if not isinstance(spec, dict):
        raise WiringError(f"counters must be a JSON object of column: rule, got {type(spec).__name__}",
                          hint='e.g. \'{"complaints": "count", "last_complaint_at": {"max": "created_at"}}\'')
    out = []
    for column, rule in spec.items():
        out.append(_counter(column, rule))
    return out


RULES = "rules: count, add, max, min, set, last (with by, optionally), window (with time), recompute"


def _counter(column, rule) -> Counter:
    what = f"counter {column!r}"
    if rule == "count":
        return Counter(column, "add", "1")
    if not isinstance(rule, dict) or not rule:
        raise WiringError(f"{what}: a rule is \"count\" or an object such as {{\"add\": \"amount\"}}, got "
                          f"{json.dumps(rule)[:80]}",
                          hint=RULES)
    keys = set(rule)
    if "by" in keys and "last" not in keys:
        raise WiringError(f"{what}: \"by\" orders the events of a last counter, and no other rule takes it; got "
                          f"{json.dumps(rule)[:80]}",
                          hint='e.g. {"last": "e.kind", "by": "e.created_at"} keeps the kind of the event of the latest '
                               'created_at')
    if keys in ({"last"}, {"last", "by"}):
        by = check_expression(rule["by"], f"{what} (its \"by\")") if "by" in keys else None
        return Counter(column, "last", check_expression(rule["last"], what), by=by)
    if keys in ({"window", "time"}, {"window", "time", "zone"}):
        for k in sorted(keys):
            if not isinstance(rule[k], str) or not rule[k].strip():
                raise WiringError(f"{what}: {k!r} must be a non-empty string")
        return Counter(column, "window", window=rule["window"], time=rule["time"], zone=rule.get("zone"))
    if keys & {"window", "time", "zone"}:
        raise WiringError(f"{what}: a window counter needs \"window\" (an interval) and \"time\" (the events' time "
                          f"column), and may name the \"zone\" of a time column without one, nothing else; got "
                          f"{json.dumps(rule)[:80]}",
                          hint='e.g. {"window": "30 days", "time": "created_at"}')
    if len(keys) != 1 or not keys <= {*KINDS, "recompute"}:
        raise WiringError(f"{what}: unknown rule {json.dumps(rule)[:80]}",
                          hint=RULES)
    (kind,) = keys
    return Counter(column, kind, check_expression(rule[kind], what))


def check_expression(expr, what) -> str:
    """One SQL expression, nothing more: no ';', no comments, no backslash or dollar quoting, balanced
    parentheses outside quotes. It is pasted inside parentheses, so it cannot end the statement."""
    if not isinstance(expr, str) or not expr.strip():
        raise WiringError(f"{what}: the expression must be a non-empty string")
    if "\\" in expr:  # E'...' strings end elsewhere than this scanner thinks: no backslashes at all
        raise WiringError(f"{what}: '\\' is not allowed in an expression: {expr!r}",
                          hint="one SQL expression; no statements, dollar quoting or backslash escapes")
    depth, i, n = 0, 0, len(expr)
    while i < n:
        ch = expr[i]
        if ch in "'\"":
            j = i + 1
            while True:
                j = expr.find(ch, j)
                if j < 0:
                    raise WiringError(f"{what}: unterminated quote in {expr!r}")
                if expr[j + 1:j + 2] == ch:  # a doubled quote stays inside
                    j += 2
                    continue
                break
            i = j + 1
            continue
        if expr.startswith("--", i) or expr.startswith("/*", i):
            raise WiringError(f"{what}: comments are not allowed in {expr!r}")
        if ch in ";$":
            raise WiringError(f"{what}: {ch!r} is not allowed in an expression: {expr!r}",
                              hint="one SQL expression; no statements, dollar quoting or backslash escapes")
        depth += ch == "("
        depth -= ch == ")"
        if depth < 0:
            raise WiringError(f"{what}: unbalanced parentheses in {expr!r}")
        i += 1
    if depth:
        raise WiringError(f"{what}: unbalanced parentheses in {expr!r}")
    return expr


# -- the wiring, as stored ---------------------------------------------------------------------------

_NAMED = "SELECT pg_catalog.to_regclass($1)::pg_catalog.oid AS oid"
_WIRING = ("SELECT r.rescoring_id, r.event_table, r.profile_table, "
           "pg_catalog.to_regclass(r.event_table)::pg_catalog.oid AS event_oid, "
           "pg_catalog.to_regclass(r.profile_table)::pg_catalog.oid AS profile_oid, "
           "(SELECT c.relkind::pg_catalog.text FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) "
           "pg_catalog.to_regclass(r.profile_table)) AS profile_kind, r.event_key, r.profile_key, r.model_name, "
           "r.score_column, r.scored_at_column, r.counters::pg_catalog.text AS counters, r.event_id_column, "
           "r.missing_profile, r.strict, r.xmin::pg_catalog.text AS stamp, "
           # (through the row as jsonb: a schema before migration 0119 has no label_column, and reads NULL)
           "pg_catalog.to_jsonb(r) OPERATOR(pg_catalog.->>) 'label_column' AS label_column, "
           "pg_catalog.to_jsonb(r) OPERATOR(pg_catalog.->>) 'replication_trigger' AS replication_trigger "
           "FROM pgscore.rescoring r WHERE r.rescoring_id OPERATOR(pg_catalog.=) $1")
# whether the wiring's row is no longer the one read (its xmin, `stamp`): pgscore uninstalled and installed
# again, or the database restored over, numbers its wirings again, and one attached again to the same event
# table may name another model, profile table or counters; an UPDATE of the row changes it too
_REWIRED = ("SELECT NOT EXISTS (SELECT 1 FROM pgscore.rescoring r WHERE r.rescoring_id OPERATOR(pg_catalog.=) $1 "
            "AND r.xmin OPERATOR(pg_catalog.=) $2::pg_catalog.xid) AS rewired")
# a type's name, schema-qualified (format_type leaves out the schema of a type the search_path shows),
# without its modifier; an array type as its element type's name and []
_TYPE_NAME = ("SELECT pg_catalog.quote_ident(n.nspname) OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) "
              "pg_catalog.quote_ident(e.typname) OPERATOR(pg_catalog.||) "
              "CASE WHEN e.oid OPERATOR(pg_catalog.=) t.oid THEN '' ELSE '[]' END AS name "
              "FROM pg_catalog.pg_type t JOIN pg_catalog.pg_type e ON e.oid OPERATOR(pg_catalog.=) "
              "CASE WHEN t.typcategory OPERATOR(pg_catalog.=) 'A' AND t.typelem OPERATOR(pg_catalog.<>) 0 "
              "THEN t.typelem ELSE t.oid END "
              "JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.typnamespace "
              "WHERE t.oid OPERATOR(pg_catalog.=) $1")


@dataclass
class Table:
    oid: int
    name: str  # as regclass prints it: quoted and schema-qualified where needed
    columns: dict  # name -> type oid
    types: dict  # name -> format_type
    partitioned: bool = False  # (known where attach_rescoring read it)


def table(plpy, oid, name, partitioned=False) -> Table:
    return Table(oid, name, *batch.columns_of(plpy, oid), partitioned=partitioned)


def column_of(plpy, t: Table, column) -> str:
    """t's column named as SQL writes it, for a message: public.customers."Churn Score" (a plain name bare). Called
    where a message is built, never on the path that succeeds."""
    return f"{t.name}.{quote_ident(plpy, column)}"


class Wiring:
    """One row of pgscore.rescoring with its tables' columns and, per model version, its plans. `replicated`:
    as the row trigger for replicated rows (rescore_replicated) reads it: its new events are one row, put in
    a temporary table of this backend's (Stage) where the statement trigger reads the transition table; never
    strict (an error would stop the subscription, whose apply worker retries the transaction for ever); its
    audit rows say replication and the subscription."""

    def __init__(self, plpy, row, replicated=False):
        self.id = row["rescoring_id"]
        self.replicated = replicated  # True, or FOLD (truthy as well)
        self.cache = FOLD_CACHE if replicated == FOLD else REPLICATED_CACHE if replicated else CACHE
        self.source, self.via, self.subscription = NEW, "trigger", None
        self.two_phase = False
        self._hold = None  # HoldPlans, made at the first rescoring of a two_phase worker's (or a fold's) rows
        if replicated:
            self.source = f"pg_temp.{quote_ident(plpy, f'pgscore_replicated_{int(self.id)}')}"
            self.via = "replication"
            sub = plpy.execute(_SUBSCRIPTION)[0]
            self.subscription, self.two_phase = sub["name"], sub["two_phase"] or replicated == FOLD
        self.events = table(plpy, row["event_oid"], row["event_table"])
        if self.two_phase:  # (no temporary table: the transaction may be PREPAREd; its rows in a setting)
            self.source = SettingStage.source(plpy, self)
        self.profiles = table(plpy, row["profile_oid"], row["profile_table"])
        self.event_key, self.profile_key = row["event_key"], row["profile_key"]
        self.model_name, self.score_column = row["model_name"], row["score_column"]
        self.scored_at_column, self.event_id_column = row["scored_at_column"], row["event_id_column"]
        # the column a classifier's predicted class goes into with each score (attach_rescoring's p_label_column)
        self.label_column = row.get("label_column")
        self.counters = parse_counters(row["counters"])
        self.missing_profile, self.strict = row["missing_profile"], row["strict"] and not replicated
        self.stamp = row["stamp"]  # the row's xmin: another row under this id (or the row changed) is told apart
        self._rewired = None  # _REWIRED, prepared at its first use
        self.counter_code = None  # what its counters call (counter_code), read at a superuser's first write
        self.recomputes = any(c.recomputed for c in self.counters)  # some counter reads the event table
        self.plans: dict = {}  # (model_id or None: no usable model, retry?, its made) -> Plans
        self.last = None  # the trigger's plans of the previous statement
        self.many = False  # whether the previous statement's events named more than one profile
        self.shadowing = ()  # the model_ids scored in shadow, as the previous statement's read found them
        self.ever_shadowed = False  # whether the model had a shadow once (the read's `shadowed`): see Sql.fast
        self._shadows = None  # Sql.shadows() as a plan of its own, prepared at its first use
        # whether the schema has shadow scoring (pgscore.shadows): the server's code newer than its schema (restarted
        # with a new release, pgscore install not run yet) rescores as before, naming no table the schema lacks
        self.shadowable = plpy.execute(_SHADOWABLE)[0]["ok"]
        # whether its queue rows keep their profile table's OID (a schema before migration 0160: by name alone)
        self.queue_oids = plpy.execute(_QUEUE_OIDS)[0]["ok"]
        self.shadow_plans: dict = {}  # model_id -> ShadowPlans, or the Failure its load or plans raised (and when)
        self.shadow_labels: dict = {}  # model_id -> 'name vN', for the WARNINGs
        self.seen_as = None  # (schema, name) of the trigger's table, once found to be the one named here
        self.missing = missing_columns(plpy, self)  # columns the wiring names that its tables no longer have
        # the profile key's type, qualified (the statements cast key parameters to it)
        pk_type = self.key_type_oid = self.profiles.columns.get(self.profile_key)
        self.key_type = (plpy.execute(plpy.prepare(_TYPE_NAME, ["pg_catalog.oid"]), [pk_type])[0]["name"]
                         if pk_type is not None else None)
        # the profile table and its partitions (read once: a partition attached later is seen when the wiring is
        # read again, see computed_sql), those that have partitions, then whether PostgreSQL computes columns of theirs
        tree = plpy.execute(_TREE % int(self.profiles.oid))[0]
        self.tree = [int(self.profiles.oid)] + [int(o) for o in tree["o"] or []]
        self.parents = [int(o) for o in tree["parents"] or []] if row["profile_kind"] == "p" else []
        # the profile table's own rows, not those of tables that inherit from it (its unique key covers its
        # own only: a child's row of the same key would be counted and scored as well); a partitioned
        # table's rows are its partitions'
        self.profile_rows = self.profiles.name if row["profile_kind"] == "p" else f"ONLY {self.profiles.name}"
        self.computed = plpy.execute(f"SELECT {computed_sql(self.tree, self.parents)} AS c")[0]["c"]

    @property
    def by_position(self) -> bool:
        """Whether every read of the profile table's features goes by position: one float8[] column features, laid
        out in the live version's order, and no counters (a wiring with counters reads a column per feature, by
        name, and leaves such an array beside them out: Sql.features)."""
        return batch.one_array(self.profiles.columns, None) and not self.counters

    def plans_for(self, plpy, model, retry=False, error=None) -> "Plans":
        # (a version by its model_id and `made`: another one under the same model_id, after a restore over the
        # database, has plans of its own)
        key = (model.model_id, retry, model.made) if model is not None else (None, retry, None)
        p = self.plans.get(key)
        if p is None:
            if key[0] is not None:  # a new version: the plans of earlier ones (and their models) go
                for old in [k for k in self.plans if k[0] is not None and (k[0], k[2]) != (key[0], key[2])]:
                    del self.plans[old]
            cls = (BackfillPlans if retry == "backfill" else RefreshPlans if retry == "refresh" else RescorePlans
                   if retry == "rescore" else RetryPlans if retry else Plans)
            p = self.plans[key] = cls(plpy, self, model, error=error)
        if model is None and error is not None:
            p.error = error  # the latest reason there is no model
        return p

    def rewired(self, plpy) -> bool:
        """Whether the row under this wiring's id is no longer the one it was read from (see _REWIRED)."""
        if self._rewired is None:
            self._rewired = plpy.prepare(_REWIRED, ["pg_catalog.int8", "pg_catalog.text"])
        return plpy.execute(self._rewired, [self.id, self.stamp])[0]["rewired"]


_TREE = ("SELECT pg_catalog.array_agg(r.relid::pg_catalog.oid::pg_catalog.int8) FILTER (WHERE r.level "
         "OPERATOR(pg_catalog.>) 0) AS o, pg_catalog.array_agg(r.relid::pg_catalog.oid::pg_catalog.int8) FILTER (WHERE "
         "NOT r.isleaf) AS parents FROM pg_catalog.pg_partition_tree(%d::pg_catalog.oid) AS r")


def computed_sql(oids, parents=()) -> str:
    """Whether PostgreSQL computes columns of the profile table (`oids`: it and its partitions) as an UPDATE
    writes a row: a stored generated column, or an enabled BEFORE UPDATE row trigger (which may set any column, from the counters
    say). The features of such a profile are read from the row the counters' UPDATE returns, never
    computed beside it (the statement that scores in SQL, or the read with the counters' new values,
    would read those columns at their old values). A condition, cheap at each statement: the wiring
    is cached, and a trigger may be created after it was read. `parents` (of a partitioned profile
    table: those of `oids` that have partitions): true too where one of them has a partition not in
    `oids`, attached since, whose triggers the condition cannot see, so that the wiring is read again
    (one probe of pg_inherits' index on inhparent per parent)."""
    # `oids`: the table and its partitions, as constants (a subquery made the catalogs' scans cost ~1 ms)
    tree = "ANY (ARRAY[" + ", ".join(f"{int(o)}::pg_catalog.oid" for o in oids) + "])"
    new = (" OR EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i WHERE i.inhparent OPERATOR(pg_catalog.=) ANY (ARRAY["
           + ", ".join(f"{int(o)}::pg_catalog.oid" for o in parents) + f"]) AND NOT i.inhrelid OPERATOR(pg_catalog.=) "
           f"{tree})" if parents else "")
    return (f"(EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t WHERE t.tgrelid OPERATOR(pg_catalog.=) {tree} "
            "AND t.tgenabled OPERATOR(pg_catalog.<>) 'D'::pg_catalog.\"char\" "
            "AND (t.tgtype::pg_catalog.int4 OPERATOR(pg_catalog.&) 19) OPERATOR(pg_catalog.=) 19) "  # ROW|BEFORE|UPDATE
            f"OR EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid OPERATOR(pg_catalog.=) {tree} "
            "AND a.attnum OPERATOR(pg_catalog.>) 0 AND a.attgenerated OPERATOR(pg_catalog.<>) '' "
            f"AND NOT a.attisdropped){new})")


def wiring(plpy, GD, rescoring_id, replicated=False) -> Wiring | None:
    """The wiring, cached per backend while its tables have every column it names (one that lacks some is
    read again at each call, so that renaming them back takes effect at the next statement); `replicated`:
    as the row trigger for replicated rows reads it (a cache of its own). One read where the schema had no
    shadow scoring is read again once it has (pgscore install has run since)."""
    cache = GD.setdefault(FOLD_CACHE if replicated == FOLD else REPLICATED_CACHE if replicated else CACHE, {})
    w = cache.get(rescoring_id)
    if w is not None and not w.shadowable and plpy.execute(_SHADOWABLE)[0]["ok"]:
        cache.pop(rescoring_id, None)
        w = None
    if w is None:
        rows = plpy.execute(plpy.prepare(_WIRING, ["pg_catalog.int8"]), [rescoring_id])
        if not rows or rows[0]["event_oid"] is None or rows[0]["profile_oid"] is None:
            return None  # detached, or a wired table was renamed or dropped
        w = Wiring(plpy, rows[0], replicated)
        if not w.missing:
            cache[rescoring_id] = w
    return w


def forget(GD, w: Wiring):
    """Drop the wiring from its cache: read again at the next call."""
    GD.get(w.cache, {}).pop(w.id, None)


# the subscription whose apply (or table sync) worker this backend is, NULL in another session; and whether it is
# the apply worker of a subscription whose two_phase is enabled ('e'), which applies a transaction PREPAREd on the
# publisher with PREPARE TRANSACTION (its table sync workers, and its apply worker while two_phase is pending, commit
# them; the apply worker restarts when two_phase is enabled)
_SUBSCRIPTION = ("SELECT (SELECT s.subname::pg_catalog.text FROM pg_catalog.pg_stat_subscription s "
                 "WHERE s.pid OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid() LIMIT 1) AS name, "
                 "EXISTS (SELECT 1 FROM pg_catalog.pg_stat_subscription w JOIN pg_catalog.pg_subscription s "
                 "ON s.oid OPERATOR(pg_catalog.=) w.subid WHERE w.pid OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid() "
                 "AND w.relid IS NULL AND s.subtwophasestate OPERATOR(pg_catalog.=) 'e'::pg_catalog.\"char\") AS two_phase")
_EXISTS = "SELECT pg_catalog.to_regclass($1) IS NOT NULL AS e"
# this backend a table sync worker copying its table (pg_subscription_rel's 'd': the copy's own transaction reads
# it so, FINISHEDCOPY comes at its end), and a subscription's initial copy of the profile table $1 (its tree) not done;
# own and disables: the copying subscription, and its disable_on_error (the error then disables it: no retry);
# enabled: the profiles' subscription's (disabled, it copies nothing until enabled)
_COPY_BEFORE_PROFILES = (
    "SELECT ps.subname::pg_catalog.text AS sub, pr.srrelid::pg_catalog.regclass::pg_catalog.text AS profiles, "
    "pr.srsubstate::pg_catalog.text AS state, w.relid::pg_catalog.regclass::pg_catalog.text AS copying, "
    "ws.subname::pg_catalog.text AS own, ws.subdisableonerr AS disables, ps.subenabled AS enabled, "
    "ARRAY(SELECT pg_catalog.quote_ident(n) FROM pg_catalog.unnest(ps.subpublications) AS n) AS pubs, "
    "pg_catalog.quote_ident(pn.nspname) OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) "
    "pg_catalog.quote_ident(pc.relname) AS profiles_q, "
    # (review r3) the profiles' copy started and not running (it failed, or waits for a retry), as health says it:
    # rows held here then fail it, where one not started yet, or running, may meet none of the publisher's keys
    "pr.srsubstate OPERATOR(pg_catalog.=) 'd'::pg_catalog.\"char\" AND NOT EXISTS (SELECT 1 FROM "
    "pg_catalog.pg_stat_subscription AS pw WHERE pw.subid OPERATOR(pg_catalog.=) pr.srsubid "
    "AND pw.relid OPERATOR(pg_catalog.=) pr.srrelid AND pw.pid IS NOT NULL) AS stalled "
    "FROM pg_catalog.pg_stat_subscription AS w JOIN pg_catalog.pg_subscription_rel AS r "
    "ON r.srsubid OPERATOR(pg_catalog.=) w.subid AND r.srrelid OPERATOR(pg_catalog.=) w.relid "
    "JOIN pg_catalog.pg_subscription AS ws ON ws.oid OPERATOR(pg_catalog.=) w.subid "
    "JOIN pg_catalog.pg_subscription_rel AS pr ON pr.srrelid OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.oid[]) "
    "JOIN pg_catalog.pg_subscription AS ps ON ps.oid OPERATOR(pg_catalog.=) pr.srsubid "
    "JOIN pg_catalog.pg_class AS pc ON pc.oid OPERATOR(pg_catalog.=) pr.srrelid "
    "JOIN pg_catalog.pg_namespace AS pn ON pn.oid OPERATOR(pg_catalog.=) pc.relnamespace "
    "WHERE w.pid OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid() "
    "AND r.srsubstate OPERATOR(pg_catalog.=) 'd'::pg_catalog.\"char\" "
    "AND pr.srsubstate OPERATOR(pg_catalog.=) ANY ('{i,d}'::pg_catalog.\"char\"[]) "
    "ORDER BY ps.subname, pr.srrelid LIMIT 1")
# (session 68) this backend, a table sync worker copying the wired event table (or a table it is a partition of),
# whether a subscription other than its own writes that table too (events of several publishers in one table)
_COPY_OF_EVENTS = (
    "SELECT w.relid::pg_catalog.regclass::pg_catalog.text AS copying, ws.subname::pg_catalog.text AS own, "
    "ws.subdisableonerr AS disables, "
    "ARRAY(SELECT pg_catalog.quote_ident(n) FROM pg_catalog.unnest(ws.subpublications) AS n) AS pubs, "
    "pg_catalog.quote_ident(en.nspname) OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) "
    "pg_catalog.quote_ident(ec.relname) AS copying_q, "
    "EXISTS (SELECT 1 FROM pg_catalog.pg_subscription_rel AS o WHERE o.srrelid OPERATOR(pg_catalog.=) w.relid "
    "AND o.srsubid OPERATOR(pg_catalog.<>) w.subid) AS shared "
    "FROM pg_catalog.pg_stat_subscription AS w JOIN pg_catalog.pg_subscription_rel AS r "
    "ON r.srsubid OPERATOR(pg_catalog.=) w.subid AND r.srrelid OPERATOR(pg_catalog.=) w.relid "
    "JOIN pg_catalog.pg_subscription AS ws ON ws.oid OPERATOR(pg_catalog.=) w.subid "
    "JOIN pg_catalog.pg_class AS ec ON ec.oid OPERATOR(pg_catalog.=) w.relid "
    "JOIN pg_catalog.pg_namespace AS en ON en.oid OPERATOR(pg_catalog.=) ec.relnamespace "
    "WHERE w.pid OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid() "
    "AND r.srsubstate OPERATOR(pg_catalog.=) 'd'::pg_catalog.\"char\" "
    # (pg_partition_ancestors: none for a table that is no partition)
    "AND (w.relid OPERATOR(pg_catalog.=) $1::pg_catalog.oid OR w.relid OPERATOR(pg_catalog.=) ANY "
    "(ARRAY(SELECT pg_catalog.pg_partition_ancestors($1::pg_catalog.oid)))) "
    "LIMIT 1")
COPY_CHECKED = "pgscore.rescoring.copy_checked"  # GD: the wirings this backend found no profiles' copy to wait for
_SHADOWABLE = "SELECT pg_catalog.to_regclass('pgscore.shadows') IS NOT NULL AS ok"
# whether the schema keeps each queued profile's table OID (migration 0160: pgscore.error_queue.profile_oid)
_QUEUE_OIDS = ("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid OPERATOR(pg_catalog.=) "
               "'pgscore.error_queue'::pg_catalog.regclass AND a.attname OPERATOR(pg_catalog.=) 'profile_oid' "
               "AND NOT a.attisdropped) AS ok")
# a queue row queued in this database (not restored from a dump, where every OID is new): its profile_oid means
# a table of this database. The queue's OID alone does not tell: a dump restored into a fresh cluster makes its
# objects in the dump's order from the same OID counter, so a database that was itself restored from a dump gives
# pgscore.error_queue the same OID again; the cluster's system identifier (pg_control_system(), made at initdb,
# never copied by a dump) tells the clusters apart, the queue's OID the databases of one cluster
# (SYSTEM_ID: read once a statement, an InitPlan; as the column's DEFAULT it reads pg_control for each row, ten times
# the INSERT's time for 100,000 rows in a bare table)
SYSTEM_ID = "(SELECT (pg_catalog.pg_control_system()).system_identifier)"
THIS_QUEUE = ("(q.queue_oid OPERATOR(pg_catalog.=) 'pgscore.error_queue'::pg_catalog.regclass::pg_catalog.oid AND "
              f"q.queue_system OPERATOR(pg_catalog.=) {SYSTEM_ID})")


def staged_setting(rescoring_id) -> str:
    """The setting (SET LOCAL: the transaction's, undone with a subtransaction that rolls back) that says rows
    of the wiring were staged since its last rescoring: the commit trigger's WHEN queues a firing for a row
    only while it is not 'on', so an applied transaction queues one, not one per row."""
    return f"pgscore.staged_{int(rescoring_id)}"


class Stage:
    """The temporary table (this backend's, one per wiring) that the row trigger for replicated rows puts
    the rows in, for the statement trigger's statements to read them as they read the transition table: the
    same SQL, the same code. Made like the event table (its columns, no constraint but NOT NULL, no default,
    identity or generated column), again where the event table's columns changed; analyzed with its first
    row (and the first after each TRUNCATE), so that the statements are planned for the rows it holds (the planner scales the row count by the
    table's pages), not for the ten pages it assumes of a table never analyzed. `pending`: rows were put in
    since the last rescoring (the commit trigger's cheap test; the table itself says whether it holds any)."""

    pending = False

    def __init__(self, plpy, w: Wiring):
        self.columns = tuple(w.events.types.items())
        if plpy.execute(plpy.prepare(_EXISTS, ["pg_catalog.text"]), [w.source])[0]["e"]:
            plpy.execute(f"DROP TABLE {w.source}")
        plpy.execute(f"CREATE TEMPORARY TABLE {w.source} (LIKE {w.events.name})")
        cols = ", ".join(quote_ident(plpy, c) for c, _ in self.columns)
        args = ", ".join(f"${i}" for i in range(1, len(self.columns) + 1))
        # (and the transaction's setting that the commit trigger's WHEN reads: set, its next rows queue no firing;
        # a one-time condition, evaluated once per statement)
        staged = quote_literal(plpy, staged_setting(w.id))
        self.put = plpy.prepare(f"INSERT INTO {w.source} ({cols}) SELECT {args} WHERE pg_catalog.set_config("
                                f"{staged}, 'on', true) IS NOT NULL", [t for _, t in self.columns])
        self.clear = plpy.prepare(f"DELETE FROM {w.source} WHERE pg_catalog.set_config({staged}, '', true) IS NOT NULL")
        self.holds = plpy.prepare(f"SELECT EXISTS (SELECT 1 FROM {w.source}) AS e")
        self.marked = plpy.prepare(f"SELECT pg_catalog.current_setting({staged}, true) IS NOT DISTINCT FROM 'on' AS m")
        # (no autovacuum for a temporary table, and an INSERT finds no room the DELETEs left without one: the
        # table would only grow, and every statement reading it read its pages, empty or not)
        self.grown = plpy.prepare(f"SELECT pg_catalog.pg_relation_size({quote_literal(plpy, w.source)}::"
                                  f"pg_catalog.regclass) OPERATOR(pg_catalog.>) {STAGE_BYTES} AS g")
        self.truncate = [f"TRUNCATE {w.source}", f"SELECT pg_catalog.set_config({staged}, '', true)"]
        self.analyze = self.analyzing = f"ANALYZE {w.source}"

    def empty(self, plpy):
        """Take the rescored rows out: DELETE, or TRUNCATE once the table has grown past STAGE_BYTES (a new
        file: the statements reading it are planned again, once; its pg_class row says 'never analyzed'
        again, for which the planner assumes ten pages of rows, so the next row put in analyzes it again)."""
        if plpy.execute(self.grown)[0]["g"]:
            for statement in self.truncate:
                plpy.execute(statement)
            self.analyze = self.analyzing
        else:
            plpy.execute(self.clear)
        self.pending = False

    def is_pending(self, plpy) -> bool:
        """Rows were put in since the last rescoring: `pending`, or else the transaction's setting, which a
        savepoint rolled back restores with the rows it put back (SET CONSTRAINTS ALL IMMEDIATE inside it fired
        the commit trigger early, and PostgreSQL fires it again at the commit; `pending` is not transactional)."""
        return self.pending or plpy.execute(self.marked)[0]["m"]

    @classmethod
    def put_row(cls, plpy, GD, w: Wiring, row) -> "Stage":
        stages = GD.setdefault(STAGES, {})
        st = stages.get(w.id)
        if st is None or st.columns != tuple(w.events.types.items()):
            st = stages[w.id] = cls(plpy, w)
        values = [row.get(c) for c, _ in st.columns]
        try:
            plpy.execute(st.put, values)
        except plpy.SPIError as e:  # made in a transaction that rolled back since (an apply retried, say)
            if _state(e) != "42P01":
                raise
            st = stages[w.id] = cls(plpy, w)
            plpy.execute(st.put, values)
        if st.analyze is not None:
            plpy.execute(st.analyze)
            st.analyze = None
        st.pending = True
        return st


class SettingStage:
    """The Stage of a two_phase subscription's apply worker: PostgreSQL refuses to PREPARE a transaction that
    used a temporary table ("cannot PREPARE a transaction that has operated on temporary objects"), and the
    apply of a transaction the publisher prepared would fail at its PREPARE, retried for ever. The rows are
    kept instead as JSON in the transaction's setting pgscore.staged_<id>_rows (undone with a subtransaction
    that rolls back, as the table's rows are), and the statements read them through json_populate_recordset
    as the event table's rows. Past SETTING_BYTES the row trigger rescores them at once (on_insert)."""

    pending = False

    @staticmethod
    def rows_setting(rescoring_id) -> str:
        return f"{staged_setting(rescoring_id)}_rows"

    @classmethod
    def source(cls, plpy, w: Wiring) -> str:
        """The staged rows as a relation, the event table's columns and types (Wiring.source)."""
        rows = quote_literal(plpy, cls.rows_setting(w.id))
        return (f"(SELECT r.* FROM pg_catalog.json_populate_recordset(NULL::{w.events.name}, ('[' OPERATOR(pg_catalog.||) "
                f"COALESCE(pg_catalog.current_setting({rows}, true), '') OPERATOR(pg_catalog.||) ']')::pg_catalog.json) "
                "AS r)")

    def __init__(self, plpy, w: Wiring):
        self.columns = tuple(w.events.types.items())
        staged, rows = quote_literal(plpy, staged_setting(w.id)), quote_literal(plpy, self.rows_setting(w.id))
        cols = ", ".join(f"${i} AS {quote_ident(plpy, c)}" for i, (c, _) in enumerate(self.columns, 1))
        self.put = plpy.prepare(
            f"SELECT pg_catalog.octet_length(pg_catalog.set_config({rows}, COALESCE(NULLIF("
            f"pg_catalog.current_setting({rows}, true), '') OPERATOR(pg_catalog.||) ',', '') OPERATOR(pg_catalog.||) "
            f"pg_catalog.row_to_json(r)::pg_catalog.text, true)) AS n, pg_catalog.set_config({staged}, 'on', true) "
            f"FROM (SELECT {cols}) AS r", [t for _, t in self.columns])
        self.clear = plpy.prepare(f"SELECT pg_catalog.set_config({rows}, '', true), "
                                  f"pg_catalog.set_config({staged}, '', true)")
        self.holds = plpy.prepare(f"SELECT COALESCE(pg_catalog.current_setting({rows}, true), '') "
                                  "OPERATOR(pg_catalog.<>) '' AS e")
        self.marked = plpy.prepare(f"SELECT pg_catalog.current_setting({staged}, true) IS NOT DISTINCT FROM 'on' AS m")
        self.full = False  # the rows put in are past SETTING_BYTES: rescored at once

    def empty(self, plpy):
        plpy.execute(self.clear)
        self.pending = self.full = False

    is_pending = Stage.is_pending

    @classmethod
    def put_row(cls, plpy, GD, w: Wiring, row) -> "SettingStage":
        stages = GD.setdefault(STAGES, {})
        st = stages.get(w.id)
        if not isinstance(st, cls) or st.columns != tuple(w.events.types.items()):
            st = stages[w.id] = cls(plpy, w)
        st.full = plpy.execute(st.put, [row.get(c) for c, _ in st.columns])[0]["n"] > SETTING_BYTES
        st.pending = True
        return st


# -- a two_phase worker's rows whose profile a prepared transaction holds ----------------------------

# How long a two_phase worker waits at a time for a profile row another transaction holds, as a multiple of
# deadlock_timeout (so that a deadlock is found while it waits) before it asks again whether the holder is live
HOLD_WAITS = 2
_LOCK_TIMEOUT = ("SELECT pg_catalog.current_setting('lock_timeout') AS was, pg_catalog.set_config('lock_timeout', "
                 f"(pg_catalog.ceil(pg_catalog.date_part('epoch', pg_catalog.current_setting('deadlock_timeout')"
                 f"::pg_catalog.interval) OPERATOR(pg_catalog.*) {1000 * HOLD_WAITS}))::pg_catalog.int8::pg_catalog.text "
                 "OPERATOR(pg_catalog.||) 'ms', true) AS now")
_RESTORE_LOCK_TIMEOUT = "SELECT pg_catalog.set_config('lock_timeout', $1, true)"
_PENDING_TABLE = "SELECT pg_catalog.to_regclass('pgscore.replicated_pending') IS NOT NULL AS e"
_HELD_KEEP = "SELECT pg_catalog.set_config($1, $2, true)"
# the held-back rows a fold counts, claimed (locked): those another fold deleted since this one read them (committed)
# or is folding (its transaction open, or PREPAREd: not waited for) are skipped, and not counted again; then those it
# counts deleted (_HELD_FOLDED: locked already), after the missing profiles are created (create_missing), which may
# hold some back again (left in the table, locked until this transaction ends: another fold skips them meanwhile)
_HELD_CLAIM = ("SELECT c.pending_id AS id FROM pgscore.replicated_pending AS c WHERE c.pending_id "
               "OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.int8[]) FOR UPDATE OF c SKIP LOCKED")
_HELD_FOLDED = ("DELETE FROM pgscore.replicated_pending AS q WHERE q.pending_id OPERATOR(pg_catalog.=) ANY "
                "($1::pg_catalog.int8[])")
_HELD_PUT = ("INSERT INTO pgscore.replicated_pending (rescoring_id, entity_key, event, subscription) "
             "SELECT $1, u.k, u.r::pg_catalog.json, $4 FROM ROWS FROM (pg_catalog.unnest($2::pg_catalog.text[]), "
             "pg_catalog.unnest($3::pg_catalog.text[])) WITH ORDINALITY AS u(k, r, o) ORDER BY u.o")
# whether a prepared transaction (pg_locks: no pid) of this database holds the lock an INSERT takes on one of the
# profile tables ($1: the table and its partitions): one that may have inserted a profile row not committed yet
_PREPARED_WRITER = ("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_locks AS l WHERE l.locktype OPERATOR(pg_catalog.=) "
                    "'relation' AND l.pid IS NULL AND l.mode OPERATOR(pg_catalog.=) 'RowExclusiveLock' "
                    "AND l.database OPERATOR(pg_catalog.=) (SELECT d.oid FROM pg_catalog.pg_database AS d WHERE "
                    "d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()) "
                    "AND l.relation OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.oid[])) AS p")


class HoldPlans:
    """The statements of a two_phase worker's rescoring (SettingStage) that keep it from waiting for a profile row
    a prepared transaction holds: such a row is released by a COMMIT PREPARED that the subscription applies after
    the transaction being applied, so the worker would wait for ever. `classify`: the rows to rescore, the staged
    ones (the setting) then those held back earlier (pgscore.replicated_pending, oldest first), each with its key,
    its row as JSON text, its pending_id (NULL: staged) and, where its profile exists and could not be locked
    (FOR NO KEY UPDATE SKIP LOCKED, in key order), whether the row's locker (xmax) is a prepared transaction or a
    running backend's, and `found`, whether it was locked (a row neither found nor held: its profile is missing,
    or another transaction inserted it and has not committed); the profiles that could be locked stay locked. `wait`: the profiles of
    `keys` locked, waiting (under _LOCK_TIMEOUT). With p_missing_profile 'create', `create`: the missing
    profiles of the rows in $1 (a JSON array) inserted as the rescoring's create() inserts them, `order`: their
    keys in that order, and `prepared_writer` (_PREPARED_WRITER) for create_missing."""

    def __init__(self, plpy, w: Wiring):
        q = partial(quote_ident, plpy)
        ek, pk, P = q(w.event_key), q(w.profile_key), w.profile_rows
        live = ("SELECT x.transactionid FROM pg_catalog.pg_locks AS x WHERE x.locktype OPERATOR(pg_catalog.=) "
                "'transactionid' AND x.pid IS NOT NULL AND x.granted AND x.mode OPERATOR(pg_catalog.=) 'ExclusiveLock'")
        self.classify = plpy.prepare(
            f"WITH s AS MATERIALIZED (SELECT e.{ek} AS k, pg_catalog.row_to_json(e)::pg_catalog.text AS r, "
            "NULL::pg_catalog.int8 AS id, 0 AS o FROM " + w.source + " AS e "
            f"UNION ALL SELECT e.{ek}, q.event::pg_catalog.text, q.pending_id, 1 FROM pgscore.replicated_pending AS q "
            f"CROSS JOIN LATERAL pg_catalog.json_populate_record(NULL::{w.events.name}, q.event) AS e "
            f"WHERE q.rescoring_id {EQ} $1), "
            f"l AS MATERIALIZED (SELECT p.{pk} AS k FROM {P} AS p WHERE p.{pk} {EQ} ANY (SELECT s.k FROM s) "
            f"ORDER BY p.{pk} FOR NO KEY UPDATE OF p SKIP LOCKED), "
            f"h AS MATERIALIZED (SELECT p.{pk} AS k, p.xmax {EQ} ANY (SELECT t.transaction FROM "
            f"pg_catalog.pg_prepared_xacts AS t) AS prepared, p.xmax {EQ} ANY ({live}) AS live FROM {P} AS p "
            f"WHERE p.{pk} {EQ} ANY (SELECT s.k FROM s) AND NOT p.{pk} {EQ} ANY (SELECT l.k FROM l)) "
            "SELECT s.k::pg_catalog.text AS k, h.k::pg_catalog.text AS pk, s.r, s.id, h.k IS NOT NULL AS held, "
            "COALESCE(h.prepared, false) AS prepared, COALESCE(h.live, false) AS live, "
            f"EXISTS (SELECT 1 FROM l WHERE l.k {EQ} s.k) AS found "
            f"FROM s LEFT JOIN h ON h.k {EQ} s.k ORDER BY s.o, s.id", ["pg_catalog.int8"])
        typed = (f"SELECT u.x::{w.key_type} FROM pg_catalog.unnest($1::pg_catalog.text[]) AS u(x)"
                 if w.key_type is not None else "SELECT NULL")
        self.wait = plpy.prepare(f"SELECT pg_catalog.count(*) AS n FROM (SELECT 1 FROM {P} AS p WHERE p.{pk} {EQ} "
                                 f"ANY ({typed}) ORDER BY p.{pk} FOR NO KEY UPDATE OF p) AS l", ["pg_catalog.text[]"])
        self.keep = plpy.prepare(_HELD_KEEP, ["pg_catalog.text", "pg_catalog.text"])
        self.claim = plpy.prepare(_HELD_CLAIM, ["pg_catalog.int8[]"])
        self.folded = plpy.prepare(_HELD_FOLDED, ["pg_catalog.int8[]"])
        self.put = plpy.prepare(_HELD_PUT, ["pg_catalog.int8", "pg_catalog.text[]", "pg_catalog.text[]",
                                            "pg_catalog.text"])
        self.restore = plpy.prepare(_RESTORE_LOCK_TIMEOUT, ["pg_catalog.text"])
        self.create = self.order = self.prepared_writer = None
        if w.missing_profile == "create":
            rows = (f"pg_catalog.json_populate_recordset(NULL::{w.events.name}, $1::pg_catalog.json) AS e "
                    f"WHERE e.{ek} IS NOT NULL")
            # (not a key queued for the wiring, as Sql.create leaves it: queued while missing)
            queued = (f" AND NOT EXISTS (SELECT 1 FROM pgscore.error_queue AS q WHERE q.rescoring_id {EQ} "
                      f"{int(w.id)}::pg_catalog.int8 AND q.entity_key {EQ} e.{ek}::pg_catalog.text {_COUNTED})")
            self.create = plpy.prepare(f"INSERT INTO {w.profiles.name} AS p ({pk}) SELECT DISTINCT e.{ek} FROM "
                                       f"{rows}{queued} ORDER BY 1 ON CONFLICT ({pk}) DO NOTHING", ["pg_catalog.json"])
            self.order = plpy.prepare(f"SELECT pg_catalog.array_agg(s.t ORDER BY s.k, s.t) AS keys FROM (SELECT "
                                      f"DISTINCT e.{ek} AS k, e.{ek}::pg_catalog.text AS t FROM {rows}) AS s",
                                      ["pg_catalog.json"])
            self.prepared_writer = plpy.prepare(_PREPARED_WRITER, ["pg_catalog.oid[]"])


def hold_back(plpy, w: Wiring) -> tuple[int, int]:
    """Before a two_phase worker's rescoring (SettingStage: the transaction may be PREPAREd) or a fold
    (fold_pending): the staged rows, and those held back earlier for the wiring, are sorted by their profile's
    lock. A profile this transaction can lock (or that does not exist) has its rows rescored now: the setting of
    staged rows is set to them, held-back ones included (claimed and deleted from pgscore.replicated_pending: one
    another fold deleted since it was read, or is deleting, is left to that one), so that one
    rescoring counts and names them all. A profile whose row a prepared transaction holds has its staged rows
    put in pgscore.replicated_pending instead, not counted now: waiting would stall the subscription. A
    profile a running transaction holds is waited for, HOLD_WAITS times deadlock_timeout at a time, then asked
    again; one still held, not by a running backend's transaction (a prepared one, or several lockers: a
    multixact, whose members are not read), is held back too. With p_missing_profile 'create', a missing profile
    is created here (create_missing): one a prepared transaction is inserting has its rows held back as well.
    Returns (the rows to rescore, the events held back), (-1, 0) in the common case, nothing held, nothing
    missing and nothing pending, where nothing is written."""
    if w._hold is None:
        if not plpy.execute(_PENDING_TABLE)[0]["e"]:  # a schema from before it (pgscore install not run): as before
            return -1, 0
        w._hold = HoldPlans(plpy, w)
    hp, tried = w._hold, set()
    while True:
        rows = plpy.execute(hp.classify, [w.id])
        wait = sorted({r["pk"] for r in rows if r["held"] and not r["prepared"] and (r["live"] or r["pk"] not in tried)})
        if not wait:
            break
        tried.update(wait)
        was = plpy.execute(_LOCK_TIMEOUT)[0]["was"]
        try:
            with plpy.subtransaction():
                plpy.execute(hp.wait, [wait])
        except plpy.SPIError as e:
            if _state(e) != "55P03":
                raise
        plpy.execute(hp.restore, [was])
    keep = [r for r in rows if not r["held"]]
    folded = [r["id"] for r in keep if r["id"] is not None]
    if folded:  # claimed first: a row another fold took is not counted here (see _HELD_CLAIM), nor its profile made
        claimed = {r["id"] for r in plpy.execute(hp.claim, [folded])}
        keep = [r for r in keep if r["id"] is None or r["id"] in claimed]
    blocked = set()  # the keys of missing profiles a prepared transaction is inserting
    if hp.create is not None:
        missing = [r for r in keep if not r["found"] and r["k"] is not None]
        if missing:
            blocked = create_missing(plpy, w, hp, missing)
    held = [r for r in rows if r["held"]] + [r for r in keep if r["k"] in blocked]
    if not held and all(r["id"] is None for r in rows):
        return -1, 0
    keep = [r for r in keep if r["k"] not in blocked]
    folded = [r["id"] for r in keep if r["id"] is not None]
    if folded:
        plpy.execute(hp.folded, [folded])
    plpy.execute(hp.keep, [SettingStage.rows_setting(w.id), ",".join(r["r"] for r in keep)])
    put = [r for r in held if r["id"] is None]
    if put:
        plpy.execute(hp.put, [w.id, [r["k"] for r in put], [r["r"] for r in put], w.subscription])
    return len(keep), len(held)


def create_missing(plpy, w: Wiring, hp: HoldPlans, rows) -> set:
    """hold_back's creation of the missing profiles of `rows` (classify's, none found), as the rescoring's create()
    would (it then finds them), under _LOCK_TIMEOUT: a profile row another transaction inserted and has not
    committed is invisible here, and INSERT ... ON CONFLICT waits for that transaction to end; where it is a
    prepared one (the worker's own PREPARE of an earlier transaction, whose COMMIT PREPARED the subscription
    applies after this one), for ever. A wait past the timeout is a running transaction's while no prepared
    transaction holds the lock an INSERT takes on the profile tables (_PREPARED_WRITER), and is waited again, as
    hold_back waits; else each key is tried on its own, in key order, and those still waited on are returned: their
    rows are held back (a running inserter's too, where a prepared transaction wrote the table meanwhile: counted
    later, not lost). Another error (a NOT NULL column, a privilege, a CHECK one key fails) is left to the rescoring's
    create, which says why: at once where no prepared transaction holds that lock (no key can be waited on for
    ever), else after the keys tried one by one, as on a timeout; an error of the transaction (a cancel, a
    deadlock) is raised."""
    def json_rows(rs):
        return "[" + ",".join(r["r"] for r in rs) + "]"

    def attempt(doc):  # None: created (or found); else the error
        try:
            with plpy.subtransaction():
                plpy.execute(hp.create, [doc])
        except plpy.SPIError as e:
            if _state(e) != LOCK_NOT_AVAILABLE and of_the_transaction(_state(e)):
                raise
            return e
        return None

    def prepared_writer() -> bool:
        return plpy.execute(hp.prepared_writer, [w.tree])[0]["p"]

    was = plpy.execute(_LOCK_TIMEOUT)[0]["was"]
    try:
        doc = json_rows(rows)
        while True:
            e = attempt(doc)
            if e is None:  # the common case: one statement
                return set()
            timed_out = _state(e) == LOCK_NOT_AVAILABLE
            if not timed_out and _every_row_fails(plpy, w, e):  # (no row inserted, none waited on)
                return set()
            # another error: a row after the failing one may be a prepared transaction's, waited on for ever by the
            # rescoring's create; with no prepared writer none is, and that create's halving (bounded) says which
            # keys fail, where a subtransaction a key here would cost as many as there are new profiles
            if not prepared_writer():
                if not timed_out:
                    return set()
                continue  # (a running inserter: waited for again)
            break
        keys = plpy.execute(hp.order, [doc])[0]["keys"] or []
        if timed_out and len(keys) == 1:  # (the one key waited on)
            return set(keys)
        by_key = {}
        for r in rows:
            by_key.setdefault(r["k"], []).append(r)
        blocked = set()
        for k in keys:
            mine = json_rows(by_key.get(k, []))
            while _state(attempt(mine)) == LOCK_NOT_AVAILABLE:
                if prepared_writer():
                    blocked.add(k)
                    break
        return blocked
    finally:
        plpy.execute(hp.restore, [was])


def missing_columns(plpy, w: Wiring) -> list[str]:
    """The columns the wiring itself reads or writes (keys, score, scored_at, label, counters, a window's time
    column, the event id) that its tables lack, as 'table.column (what)', the column quoted as SQL writes it."""
    wanted = [(w.events, w.event_key, "the event key"), (w.events, w.event_id_column, "the event id"),
              (w.profiles, w.profile_key, "the profile key"), (w.profiles, w.score_column, "the score column"),
              (w.profiles, w.scored_at_column, "the scored_at column"),
              (w.profiles, w.label_column, "the label column")]
    wanted += [(w.profiles, c.column, "a counter") for c in w.counters]
    wanted += [(w.events, c.time, f"counter {c.column!r}'s time") for c in w.counters if c.time]
    return [f"{column_of(plpy, t, col)} ({what})" for t, col, what in wanted
            if col is not None and col not in t.columns]


class BrokenWiring(PgscoreError):
    sqlstate = "42703"  # undefined_column


# -- SQL built from a wiring -------------------------------------------------------------------------

def keys_sql(ek, source, cond="") -> str:
    """The distinct non-NULL keys (as text) of the events in `source`; `ek` quoted already."""
    return (f"SELECT pg_catalog.array_agg(DISTINCT e.{ek}::pg_catalog.text) AS keys FROM {source} AS e "
            f"WHERE e.{ek} IS NOT NULL{cond}")


class Sql:
    """The statements of one wiring and model, as text. `source` is the relation the new events are
    read from: the transition table inside the trigger, the event table itself when attach checks them."""

    def __init__(self, plpy, w: Wiring, model, source=NEW):
        self.plpy, self.w, self.model = plpy, w, model
        q = self.q = partial(quote_ident, plpy)
        self.lit = partial(quote_literal, plpy)
        self.src = source
        self.fmt = batch.features_format(plpy)
        self.P, E = w.profile_rows, w.events.name
        self.ek, self.pk = q(w.event_key), q(w.profile_key)
        self.ktype = w.key_type
        idc = q(w.event_id_column) if w.event_id_column else None
        ids = f", pg_catalog.array_agg(e.{idc} ORDER BY e.{idc}) AS ids" if idc else ", NULL::pg_catalog.text[] AS ids"
        aggs = "".join(f", {self.aggregate(c)} AS c{i}" for i, c in enumerate(w.counters) if c.kind in KINDS)
        # the new events per key (NULL keys form one group of their own: counted, then skipped)
        per_key = f"SELECT e.{self.ek} AS k, pg_catalog.count(*) AS n{ids}{aggs} FROM {source} AS e "
        self.agg = f"{per_key}GROUP BY e.{self.ek}"
        # the keys and how many events each has, no counter: read(features=False)'s, where an event's counter
        # expression may be what failed the read (a division by zero, a cast of a payload field)
        self.bare_agg = f"SELECT e.{self.ek} AS k, pg_catalog.count(*) AS n FROM {source} AS e GROUP BY e.{self.ek}"
        # the same, of the events of the profiles whose key as text is in $1 (text[]) alone: a part of a read
        # or counters_only that failed for some rows aggregated every event of the statement, then joined its
        # own keys (each part of a 10,000-event statement: 10,000 events)
        self.keyed_agg = (f"{per_key}WHERE EXISTS (SELECT 1 FROM ({self.typed_keys()}) AS t(x) WHERE t.x {EQ} "
                          f"e.{self.ek}) GROUP BY e.{self.ek}")
        self.new_values = {c.column: self.combine(i, c, E) for i, c in enumerate(w.counters)}
        self.set_counters = ", ".join(f"{q(col)} = {v}" for col, v in self.new_values.items())
        # the type write() casts each predicted class to for the wiring's label column (label_cast: set by the
        # plans of a version that writes it, after the version's classes were checked against the column)
        self.label_cast = None

    def aggregate(self, c: Counter) -> str:
        if c.kind == "last":  # the newest event's value, NULL or not: by `by` (NULLS LAST), then by the event id
            order = [f"({c.by}) DESC NULLS LAST"] if c.by is not None else []
            if self.w.event_id_column is not None:
                order.append(f"e.{self.q(self.w.event_id_column)} DESC")
            if not order:  # (refused at attach: _refuse_unordered_last)
                raise WiringError(f"counter {c.column!r} ({_rule(c)}): nothing orders the events", sqlstate="42P10")
            return f"(pg_catalog.array_agg(({c.expr}) ORDER BY {', '.join(order)}))[1]"
        fn = KINDS[c.kind][0]
        return f"{fn}(({c.expr}))" if fn else f"({c.expr})"

    def combine(self, i, c: Counter, E) -> str:
        """The counter's new value, from the profile `p` and the new events' aggregates `a`."""
        p = f"p.{self.q(c.column)}"
        if c.kind in KINDS:
            return "(" + KINDS[c.kind][1].format(p=p, a=f"a.c{i}") + ")"
        if c.kind == "window":
            window = f"{self.lit(c.window)}::pg_catalog.interval"
            if c.zone is not None:  # a timestamp or date column's times: the window's start in their zone
                since = f"(pg_catalog.timezone({self.lit(c.zone)}::pg_catalog.text, pg_catalog.now()) {MINUS} {window})"
            elif self.w.events.types.get(c.time) == "timestamp with time zone":
                # days of 24 hours (UTC's), whatever the session's TimeZone: a window across a DST change
                # was an hour longer or shorter from a session of that zone than from UTC
                since = (f"pg_catalog.timezone('UTC'::pg_catalog.text, pg_catalog.timezone('UTC'::pg_catalog.text, "
                         f"pg_catalog.now()) {MINUS} {window})")
            else:  # timestamp or date without "zone": read in the session's TimeZone (attach warns of it)
                since = f"(pg_catalog.now() {MINUS} {window})"
            return (f"(SELECT pg_catalog.count(*) FROM {E} AS e WHERE e.{self.ek} {EQ} p.{self.pk} "
                    f"AND e.{self.q(c.time)} {GT} {since})")
        return f"(SELECT ({c.expr}) FROM {E} AS e WHERE e.{self.ek} {EQ} p.{self.pk})"

    def features(self, new=True) -> str:
        """The model's features from profile row `p` as float8[]; with `new`, counters at their new values.
        A wiring with counters reads a column per feature, by name, whether `new` or not: its read with the
        counters' new values does, and a float8[] column features beside them is not what the live version
        scored (nothing keeps it): read by position, the shadow's, the audit rows' and retry_failed's reads
        took its values for the live version's features."""
        columns = self.w.profiles.columns
        if self.w.counters and not new and batch.one_array(columns, None):
            columns = {c: t for c, t in columns.items() if c != "features"}
        exprs = self.as_held(self.new_values) if new else None
        return batch.feature_sql(self.plpy, self.model, columns, "p", exprs, key=f"p.{self.pk}",
                                 profiles=self.w.profiles.name)

    def as_held(self, exprs: dict) -> dict:
        """`exprs` (column: a counter's new value), each text feature's value cast to its column's type: the word as
        the column will hold it (a char(n)'s blank-padded, as the model may know it), which batch codes as it codes
        the column's word."""
        words = getattr(self.model, "text_categories", None) or {}
        return {c: f"(({v})::{self.w.profiles.types[c]})" if c in words else v for c, v in exprs.items()}

    # -- statements -------------------------------------------------------------------------------
    def lock(self, counted=False) -> str:
        """The affected profiles locked in key order; `counted`: their number kept in a transaction-local
        setting (LOCKED), which the statement after it in the same plan compares with what it reads."""
        rows = (f"SELECT 1 FROM {self.P} AS p WHERE p.{self.pk} {EQ} ANY (SELECT e.{self.ek} FROM {self.src} AS e) "
                f"ORDER BY p.{self.pk} FOR NO KEY UPDATE OF p")
        if not counted:
            return rows
        return (f"SELECT pg_catalog.set_config({self.lit(LOCKED)}, pg_catalog.count(*)::pg_catalog.text, true) "
                f"FROM ({rows}) AS l")

    def read(self, locking: bool, features=True) -> str:
        """The keys found (in key order), their features as one bytea, how many distinct keys the events
        name and how many events have none; without `locking`, how many profiles the lock before it took.
        Without `features`, no features (NULL): the read of a statement whose read failed for some rows'
        values (_read_rows), whose features are then read in parts (keyed_features)."""
        data = (self.fmt.sql(self.features()) if self.model is not None and features
                else "NULL::pg_catalog.bytea")
        lock = " FOR NO KEY UPDATE OF p" if locking else ""
        agg = self.agg if features else self.bare_agg  # (without the features, no counter is read: bare_agg)
        return (f"WITH a AS MATERIALIZED ({agg}), "
                f"l AS MATERIALIZED (SELECT p.{self.pk} AS k, {data} AS b FROM {self.P} AS p "
                f"JOIN a ON p.{self.pk} {EQ} a.k ORDER BY p.{self.pk}{lock}) "
                # which version is live now (the trigger re-plans when it is not the one planned for)
                f"SELECT {self.live()} AS live, {self.ever_shadowed()} AS shadowed, "
                f"{computed_sql(self.w.tree, self.w.parents)} AS computed, {self.retyped()} AS retyped, "
                f"pg_catalog.row_security_active({int(self.w.profiles.oid)}::pg_catalog.oid) AS rls, "
                + ("NULL::pg_catalog.int8" if locking else
                   f"pg_catalog.current_setting({self.lit(LOCKED)})::pg_catalog.int8") + " AS locked, "
                "EXISTS (SELECT 1 FROM pgscore.error_queue q "
                f"WHERE q.rescoring_id {EQ} {int(self.w.id)}::pg_catalog.int8) AS queued, "
                "(SELECT pg_catalog.count(*) FROM a WHERE a.k IS NOT NULL) AS wanted, "
                "(SELECT pg_catalog.sum(a.n) FROM a WHERE a.k IS NULL) AS null_keys, "
                "(SELECT pg_catalog.array_agg(l.k::pg_catalog.text) FROM l) AS keys, "
                f"(SELECT pg_catalog.string_agg(COALESCE(l.b, {self.fmt.sql(batch.EMPTY)}), "
                "''::pg_catalog.bytea) FROM l) AS data")

    def keyed_features(self) -> str:
        """The keys (as text, in key order) and features of the profiles the events name whose key as text is
        in $1 (text[]), the counters at their new values, as read() gives them: where read() failed for some
        rows' values (a text cell that is no number, say), its features are read in parts (_features_apart),
        and only the profiles at fault are queued. Locked by the read without features before it."""
        return (f"WITH a AS MATERIALIZED ({self.keyed_agg}), l AS MATERIALIZED (SELECT p.{self.pk} AS k, "
                f"{self.fmt.sql(self.features())} AS b FROM {self.P} AS p JOIN a ON p.{self.pk} {EQ} a.k "
                f"WHERE p.{self.pk} {EQ} ANY ({self.typed_keys()})) "
                "SELECT pg_catalog.array_agg(l.k::pg_catalog.text ORDER BY l.k) AS keys, "
                f"pg_catalog.string_agg(COALESCE(l.b, {self.fmt.sql(batch.EMPTY)}), ''::pg_catalog.bytea "
                "ORDER BY l.k) AS data FROM l")

    def new_word(self, column: str) -> str:
        """SQL of the word counter `column` (a text feature's column) takes for the profile of the one key $1 (text[]
        of one), its new value as text, and whether the column holds words (`s`: of a string type, or an ENUM; a
        number column holds codes), as batch.word_by_key_sql reads a profile's own: a strict encoder's refusal of
        the statement's new word names that word, not the one the row held before the counter changed it."""
        col, held = f"p.{self.q(column)}", self.as_held(self.new_values)[column]
        return (f"WITH a AS MATERIALIZED ({self.keyed_agg}) SELECT {held}::pg_catalog.text AS w, "
                "(SELECT y.typcategory OPERATOR(pg_catalog.=) ANY ('{S,E}'::pg_catalog.\"char\"[]) FROM "
                f"pg_catalog.pg_type y WHERE y.oid OPERATOR(pg_catalog.=) pg_catalog.pg_typeof({col})) AS s "
                f"FROM {self.P} AS p JOIN a ON p.{self.pk} {EQ} a.k")

    def probe(self) -> str:
        """The counters of the new events of the keys whose text is in $1 (text[]), aggregated (keyed_agg) and
        thrown away: where an event's counter expression raises (10 / 0, a payload field cast to numeric), the
        statement fails for the keys it holds, and _faulty_counters finds them in halves. (The whole row is
        counted: a column no one reads would not be computed.)"""
        return f"SELECT pg_catalog.count(a) AS n FROM ({self.keyed_agg}) AS a"

    def fault(self, c: Counter, ids=False) -> str:
        """The aggregate of counter `c` over the new events of the one key $1 (text[] of one) and, with `ids`,
        of those whose id as text is in $2 (text[]) alone: _fault's search for the event that fails it."""
        only = (f" AND e.{self.q(self.w.event_id_column)}::pg_catalog.text {EQ} ANY ($2::pg_catalog.text[])"
                if ids else "")
        return (f"SELECT {self.aggregate(c)} IS NULL AS x FROM {self.src} AS e WHERE EXISTS (SELECT 1 FROM "
                f"({self.typed_keys()}) AS t(x) WHERE t.x {EQ} e.{self.ek}){only}")

    def event_ids(self) -> str:
        """The ids (as text, in order) of the new events of the one key $1 (text[] of one)."""
        idc = self.q(self.w.event_id_column)
        return (f"SELECT pg_catalog.array_agg(e.{idc}::pg_catalog.text ORDER BY e.{idc}) AS ids FROM {self.src} AS e "
                f"WHERE EXISTS (SELECT 1 FROM ({self.typed_keys()}) AS t(x) WHERE t.x {EQ} e.{self.ek})")

    def live(self) -> str:
        """The model_id of the wiring's live version; NULL when none is (never deployed, or retired), and for
        plans of a version, when the live one under that model_id is another (its row written at another time
        than the planned one's `made`: a database restored over, or pgscore installed again, numbers its
        versions again), so that the trigger resolves it again rather than score with the plans it kept."""
        made = getattr(self.model, "made", None) if self.model is not None else None
        other = (f" OR NOT COALESCE((SELECT pg_catalog.date_part('epoch'::pg_catalog.text, m.created_at) "
                 f"FROM pgscore.models m WHERE m.model_id {EQ} d.model_id) {EQ} {float(made)!r}::pg_catalog.float8, "
                 "false)" if made is not None else "")
        return (f"(SELECT CASE WHEN d.action {EQ} 'retire'::pg_catalog.text{other} THEN NULL ELSE d.model_id END "
                f"FROM pgscore.deployments d WHERE d.model_name {EQ} {self.lit(self.w.model_name)}::pg_catalog.text "
                "ORDER BY d.deployment_id DESC LIMIT 1)")

    def ever_shadowed(self) -> str:
        """Whether the wiring's model had a shadow once (a row in pgscore.shadows): one probe of its index,
        ~5 us. Where it did, shadows() says which versions are shadows now. A schema without shadow scoring:
        false."""
        if not self.w.shadowable:
            return "false"
        return (f"EXISTS (SELECT 1 FROM pgscore.shadows s WHERE s.model_name {EQ} "
                f"{self.lit(self.w.model_name)}::pg_catalog.text)")

    def shadows(self) -> str:
        """The model_ids of the wiring's model scored in shadow now (int8[], NULL when none). A dozen plan
        nodes (~30 us a statement, most of it their start-up, even unexecuted): asked only where
        ever_shadowed() is true."""
        if not self.w.shadowable:
            return "NULL::pg_catalog.int8[]"
        return ("(SELECT pg_catalog.array_agg(s.model_id ORDER BY s.model_id) FROM pgscore.shadow_versions s "
                f"WHERE s.name {EQ} {self.lit(self.w.model_name)}::pg_catalog.text)")

    def shadow_log(self, live_model_id) -> str:
        """The audit rows of a shadow version (this Sql's model) for the profiles $1 (text[]) it scored $2
        (float8[] literal; NULL: not scored), from their rows as they are now: source 'shadow', the cause
        the trigger's (the row trigger's for replicated rows: via 'replication' and the subscription), with the live version's model_id as 'shadow_of'. $3 rescoring_id, $4 event table,
        $5 the shadow's model_id; for a multiclass model $6, the predicted classes."""
        labelled = self.model.multiclass
        # (the live version's audit rows' via: 'replication', with the subscription, for the row trigger's)
        cause = self.cause(self.w.via, "$3", "$4", events=False)
        cause = cause[:-1] + f", 'shadow_of', {int(live_model_id)}::pg_catalog.int8)"
        return (f"WITH s AS (SELECT s.q::{self.ktype} AS k, s.* FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.text[]), "
                "pg_catalog.unnest($2::pg_catalog.float8[])"
                + (", pg_catalog.unnest($6::pg_catalog.text[])) AS s(q, score, label)) " if labelled else
                   ") AS s(q, score)) ") +
                "INSERT INTO pgscore.prediction_log (model_id, entity_key, features, score, "
                + ("label, " if labelled else "") + "source, cause) "
                f"SELECT $5, p.{self.pk}::pg_catalog.text, {self.features(new=False)}, s.score, "
                + ("s.label, " if labelled else "") + f"'shadow'::pg_catalog.text, {cause} "
                f"FROM s JOIN {self.P} AS p ON p.{self.pk} {EQ} s.k WHERE s.score IS NOT NULL")

    def same_wiring(self) -> str:
        """Whether the wiring's row is still the one read (_REWIRED): else the trigger's general path reads it
        again before it writes anything."""
        return (f"EXISTS (SELECT 1 FROM pgscore.rescoring r WHERE r.rescoring_id {EQ} {int(self.w.id)}::pg_catalog.int8 "
                f"AND r.xmin {EQ} {self.lit(self.w.stamp)}::pg_catalog.xid)")

    def retyped(self) -> str:
        """Whether the profile table the wiring was read with no longer has its key column of that type: the
        key's type changed (ALTER COLUMN ... TYPE, int to bigint: the statements cast keys to it), or another
        table took the profile table's name (rebuilt, then renamed: its triggers and generated columns are
        looked for by the old table's oid); or its scored_at column no longer of that type (review r5 of session 67:
        a `timestamp` one is written as UTC's wall clock, batch.scored_at_sql, and one made a timestamptz since, as
        attach_rescoring's hint says, got UTC's wall clock read in the session's TimeZone, hours off, until the
        backend ended). Either way the wiring is read again."""
        def typed(column, oid):
            return (f"NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid OPERATOR(pg_catalog.=) "
                    f"{int(self.w.profiles.oid)}::pg_catalog.oid AND a.attname OPERATOR(pg_catalog.=) "
                    f"{self.lit(column)}::pg_catalog.name AND a.atttypid OPERATOR(pg_catalog.=) "
                    f"{int(oid or 0)}::pg_catalog.oid)")
        at_type = self.w.profiles.columns.get(self.w.scored_at_column) if self.w.scored_at_column else None
        return (typed(self.w.profile_key, self.w.key_type_oid) if at_type is None else
                f"({typed(self.w.profile_key, self.w.key_type_oid)} OR {typed(self.w.scored_at_column, at_type)})")

    def cause(self, via, rescoring_id, event_table, events) -> str:
        """The audit rows' cause: what rescored, for which events (their ids, when the event table has a
        key), and who asked (role, application_name, backend pid, as a query's rows name them); the ids and
        the table are SQL (parameters)."""
        if via == "replication":  # the row trigger's for replicated rows: and which subscription applied them
            sub = self.lit(self.w.subscription) if self.w.subscription is not None else "NULL"
            head = (f"pg_catalog.jsonb_build_object('via', 'replication'::pg_catalog.text, 'subscription', "
                    f"{sub}::pg_catalog.text")
        else:
            head = f"pg_catalog.jsonb_build_object('via', {self.lit(via)}::pg_catalog.text"
        common = (f"{head}, 'rescoring_id', "
                  f"{rescoring_id}, 'event_table', {event_table}::pg_catalog.text, 'user', CURRENT_USER, "
                  "'application', (SELECT pg_catalog.current_setting('application_name')), 'backend', "
                  f"pg_catalog.pg_backend_pid(), 'statement_at', {auditlog.STATEMENT_AT})")
        if not events:
            return common
        # what every row of the statement shares built once (an InitPlan), each row's events added to it: built
        # whole for each row it cost 3.3 us of backend CPU a row, 2.1 us this way (docs/performance.md)
        return (f"(SELECT {common}) {_JSONB_CAT} "
                "pg_catalog.jsonb_build_object('events', u.n, 'event_ids', u.ids)")

    def keys(self, missing_only=False) -> str:
        cond = (f" AND NOT EXISTS (SELECT 1 FROM {self.P} AS p WHERE p.{self.pk} {EQ} e.{self.ek})"
                if missing_only else "")
        return keys_sql(self.ek, self.src, cond)

    def cleared(self) -> str:
        """_CLEARED, with the event ids (and count) of a row queued for another table of the profile table's name
        left out (migration 0160: a table dropped and made again; its row is cleared, but its events are not the
        profile's to name in its audit row)."""
        if not self.w.queue_oids:
            return _CLEARED
        mine = (f"(q.profile_oid IS NULL OR {THIS_QUEUE} IS NOT TRUE OR q.profile_oid OPERATOR(pg_catalog.=) "
                f"{oid_of(quote_literal(self.plpy, self.w.profiles.name) + '::pg_catalog.text')})")
        return (f"RETURNING q.entity_key AS k, CASE WHEN {mine} THEN q.cause OPERATOR(pg_catalog.->) 'event_ids' END "
                f"AS ids, CASE WHEN {mine} THEN {events_of('q.cause')} END AS n")

    def queue(self) -> str:
        """queue_sql() for the trigger: each queued profile's row names the ids of the statement's events for
        it (a key queued as the profile key's text, or as the event key's for a missing profile: ids_sql
        gives both)."""
        return queue_sql(ids_sql(self.ek, self.q(self.w.event_id_column), self.src, self.P, self.pk),
                         oids=self.w.queue_oids)

    def unlockable(self) -> str:
        """The keys (as text) of the profiles the events name that the inserting role may read but not lock:
        a row-level security policy for UPDATE narrower than the one for SELECT. FOR NO KEY UPDATE applies both (the
        lock skips such a row), a plain read only the one for SELECT, and an UPDATE skips it without an
        error. Asked only where row-level security is active on the profile table (read() says)."""
        rows = (f"SELECT p.{self.pk} AS k FROM {self.P} AS p WHERE p.{self.pk} {EQ} ANY (SELECT e.{self.ek} FROM "
                f"{self.src} AS e) FOR NO KEY UPDATE OF p")
        cond = (f" AND EXISTS (SELECT 1 FROM {self.P} AS p WHERE p.{self.pk} {EQ} e.{self.ek}) "
                f"AND NOT EXISTS (SELECT 1 FROM l WHERE l.k {EQ} e.{self.ek})")
        return f"WITH l AS MATERIALIZED ({rows}) " + keys_sql(self.ek, self.src, cond)

    def create(self, keyed=False, missing=False) -> str:
        """The missing profiles' rows, in the event key's order; `keyed`: of the event keys whose text is in $1
        (text[]), joined (hashable), not `= ANY` (a scan of $1 per event, in each part of a create that failed).
        `missing`: of the keys with no profile in the statement's snapshot alone (backfill_rescoring's, over the
        whole event table: ON CONFLICT would wait for every profile another transaction is updating)."""
        keys = (f" JOIN pg_catalog.unnest($1::pg_catalog.text[]) AS s(t) ON s.t {EQ} e.{self.ek}::pg_catalog.text"
                if keyed else "")
        # the trigger's: not a key queued for the wiring (queued while missing: its earlier events were never
        # counted, and a row created now would hold this statement's alone; backfill_rescoring creates it), but one
        # whose queue row names those events for retry_failed's replay (_COUNTED: the write leaves that row)
        none = (f" AND NOT EXISTS (SELECT 1 FROM {self.P} AS x WHERE x.{self.pk} {EQ} e.{self.ek})" if missing
                else f" AND NOT EXISTS (SELECT 1 FROM pgscore.error_queue AS q WHERE q.rescoring_id {EQ} "
                     f"{int(self.w.id)}::pg_catalog.int8 AND q.entity_key {EQ} e.{self.ek}::pg_catalog.text "
                     f"{_COUNTED})")
        return (f"INSERT INTO {self.w.profiles.name} AS p ({self.pk}) SELECT DISTINCT e.{self.ek} FROM {self.src} AS e"
                f"{keys} WHERE e.{self.ek} IS NOT NULL{none} ORDER BY 1 ON CONFLICT ({self.pk}) DO NOTHING")

    def missing_keys(self) -> str:
        """The keys (as text) of the events whose profile is missing, in the event key's own order, as create()
        inserts them (not keys_sql's text order, "10" before "9"): the parts of a create that failed take their
        rows' locks in the order every other statement does, so two statements cannot deadlock on them."""
        return (f"SELECT pg_catalog.array_agg(s.t ORDER BY s.k, s.t) AS keys FROM (SELECT DISTINCT e.{self.ek} AS k, "
                f"e.{self.ek}::pg_catalog.text AS t FROM {self.src} AS e WHERE e.{self.ek} IS NOT NULL AND NOT EXISTS "
                f"(SELECT 1 FROM {self.P} AS p WHERE p.{self.pk} {EQ} e.{self.ek})) AS s")

    def counters_only(self, keyed=False) -> str:
        """The counters alone, of every profile the events name; `keyed`: of those whose key as text is
        in $1 (text[])."""
        if not self.w.counters:
            return "SELECT 1"
        only = f" AND p.{self.pk} {EQ} ANY ({self.typed_keys()})" if keyed else ""
        agg = self.keyed_agg if keyed else self.agg
        return (f"WITH a AS ({agg}) UPDATE {self.P} AS p SET {self.set_counters} FROM a "
                f"WHERE p.{self.pk} {EQ} a.k{only}")

    def apply(self) -> str:
        """For a profile table whose columns PostgreSQL computes (Wiring.computed): the counters, and the
        keys and features of the rows the UPDATE returns (after its triggers and generated columns), in
        key order, as read() gives them. The profiles are locked by read() before it."""
        u = (f"u AS (UPDATE {self.P} AS p SET {self.set_counters} FROM a WHERE p.{self.pk} {EQ} a.k "
             f"RETURNING p.{self.pk} AS k, {self.fmt.sql(self.features(new=False))} AS b)")
        return (f"WITH a AS ({self.agg}), {u} SELECT pg_catalog.array_agg(u.k::pg_catalog.text ORDER BY u.k) AS keys, "
                f"pg_catalog.string_agg(COALESCE(u.b, {self.fmt.sql(batch.EMPTY)}), ''::pg_catalog.bytea "
                "ORDER BY u.k) AS data FROM u")

    def reread(self) -> str:
        """The keys (as text, in key order) and features of the profiles whose key as text is in $1
        (text[]), as their rows are now: for a profile table whose columns PostgreSQL computes, after
        apply() failed and the counters were written without it (locked by read() before)."""
        return (f"WITH l AS MATERIALIZED (SELECT p.{self.pk} AS k, {self.fmt.sql(self.features(new=False))} AS b "
                f"FROM {self.P} AS p WHERE p.{self.pk} {EQ} ANY ({self.typed_keys()})) "
                "SELECT pg_catalog.array_agg(l.k::pg_catalog.text ORDER BY l.k) AS keys, "
                f"pg_catalog.string_agg(COALESCE(l.b, {self.fmt.sql(batch.EMPTY)}), ''::pg_catalog.bytea "
                "ORDER BY l.k) AS data FROM l")

    def write(self, retry=False, clear=True, counters=True, refresh=False, keyed=False, backfill=False,
              rescore=False) -> str:
        """Counters (not on retry), score and scored_at; the audit rows; with `clear`, the profiles'
        queued errors deleted. $1 keys, $2 scores (a float8[] literal, pgarray; NULL: not scored),
        $3 rescoring_id, $4 event table, $5 model_id; for a multiclass model, and any classifier's where the
        wiring has a label column, $6, the predicted classes (text[], logged as the audit rows' labels, and
        written into the label column, cast to label_cast, with each score). Without `counters`: applied
        before (apply()).
        `refresh`: retry's statement for refresh_windows (its audit rows' source 'refresh'). `keyed`: the
        trigger's, aggregating the events of the keys $1 alone (keyed_agg), for the parts of a write that failed.
        `backfill`: refresh's, for backfill_rescoring (source 'refresh', its cause's via 'backfill_rescoring').
        `rescore`: refresh's, for rescore_profiles (source 'refresh', its cause's via 'rescore_profiles')."""
        refresh = refresh or backfill or rescore
        retry = retry or refresh
        q, w, lit = self.q, self.w, self.lit
        labelled = self.labelled
        sc = q(w.score_column)
        sets = [f"{sc} = COALESCE(s.score, p.{sc})"]
        if self.label_cast is not None:  # (with its score: a row not scored keeps its class, as its score)
            lc = q(w.label_column)
            sets.append(f"{lc} = CASE WHEN s.score IS NULL THEN p.{lc} ELSE CAST(s.label AS {self.label_cast}) END")
        if w.scored_at_column:
            ts = q(w.scored_at_column)
            # (never backwards: a transaction that began before the one that scored the profile last, writing
            # after it committed, keeps the later time; its score stands, its counters read under the lock)
            at = batch.scored_at_sql(ts, no_zone=w.profiles.columns.get(w.scored_at_column) == batch.TIMESTAMP_OID)
            sets.append(f"{ts} = CASE WHEN s.score IS NULL THEN p.{ts} ELSE {at} END")
        # the keys as text ($1: the profile key's own text, or a queued key's as it was queued), each cast
        # to the key's type (Wiring.key_type: current, see retyped)
        s = (f"s AS (SELECT s.q::{self.ktype} AS k, s.* FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.text[]), "
             "pg_catalog.unnest($2::pg_catalog.float8[])"
             + (", pg_catalog.unnest($6::pg_catalog.text[])) AS s(q, score, label))" if labelled else
                ") AS s(q, score))"))
        if retry:
            head, frm, where = f"WITH {s}, ", "s", f"p.{self.pk} {EQ} s.k"
        else:
            # only the keys given ($1: every profile the statement found, or a part of them, see _write)
            agg = self.keyed_agg if keyed else self.agg
            head, frm, where = f"WITH a AS ({agg}), {s}, ", f"a JOIN s ON s.k {EQ} a.k", f"p.{self.pk} {EQ} a.k"
            sets = ([self.set_counters] if w.counters and counters else []) + sets
        source, via = (("refresh", "backfill_rescoring") if backfill else ("refresh", "rescore_profiles") if rescore
                       else ("refresh", "refresh_windows") if refresh
                       else ("retry", "retry_failed") if retry else ("trigger", w.via))
        clear_queue = (f"d AS (DELETE FROM pgscore.error_queue AS q USING u WHERE q.rescoring_id {EQ} $3 "
                       f"AND q.entity_key {EQ} u.q AND u.score IS NOT NULL {_COUNTED}{self.cleared()}) " if clear else "")
        cause = self.cause(via, "$3", "$4", events=not retry) + (_QUEUED_IDS if clear else "")
        return (head +
                f"u AS (UPDATE {self.P} AS p SET {', '.join(sets)} FROM {frm} WHERE {where} "
                f"RETURNING p.{self.pk}::pg_catalog.text AS k, s.q, s.score, {'a.n' if not retry else 'NULL'} AS n, "
                f"{'a.ids' if not retry else 'NULL'} AS ids, "
                # (the features of the rows scored alone: a row written for its counters alone, whose features
                # could not be read, a text cell that is no number, would fail the statement here)
                f"CASE WHEN s.score IS NOT NULL THEN {self.features(new=False)} END AS f"
                + (", s.label)" if labelled else ")")
                + (", " + clear_queue if clear else " ") +
                "INSERT INTO pgscore.prediction_log (model_id, entity_key, features, score, "
                + ("label, " if labelled else "") + "source, cause) "
                f"SELECT $5, u.k, u.f, u.score, {'u.label, ' if labelled else ''}{lit(source)}::pg_catalog.text, {cause} "
                f"FROM {_with_cleared('u.q') if clear else 'u'} WHERE u.score IS NOT NULL")

    @property
    def labelled(self) -> bool:
        """Whether write() takes the predicted classes ($6): a multiclass model's, and every classifier's where
        they go into the wiring's label column."""
        return self.model.multiclass or self.label_cast is not None

    def write_types(self) -> list[str]:
        """The parameter types of write()."""
        return ["pg_catalog.text[]", *_WRITE_TYPES] + (["pg_catalog.text[]"] if self.labelled else [])

    def fast(self, optimistic=False, shadowed=False) -> str | None:
        """For a model scored in SQL (see compiled.score_sql): the new counters, the score, scored_at,
        the audit rows and the profiles' queued errors cleared, in one statement, after the lock (or
        locking here, when no counter reads the event table). It writes nothing unless every key the
        events name has a profile, every z is finite and the planned version is still live; it returns
        whether it wrote (`ok`), how many events have no key and how many keys they name (`wanted`);
        None when SQL cannot score the model. $1 rescoring_id, $2 event table, $3 model_id.

        `optimistic` (where a counter reads the event table): the statement for events that name one
        profile, with no lock before it. It reads the profile unlocked and updates it only if the
        UPDATE still finds the row version it read (its ctid and xmin): a row another client changed
        in between (which the UPDATE waits for and then re-reads) is left alone, as the counts could
        miss that client's events. The xmin is an ordinary filter, so the re-read version is checked
        whatever scan the planner picks (PostgreSQL releases before late 2025 did not recheck a TID
        scan's condition on a re-read row). Its checks are those above, as conditions on the one
        row; it returns how many profiles it wrote (`written`), and wrote everything when that is
        `wanted`; otherwise it wrote nothing and the caller locks and runs the statement above.
        Events naming several profiles write nothing here: their locks must be taken in key order.
        Neither writes while a version is scored in shadow: `shadowed` (the model had a shadow once) asks
        pgscore.shadow_versions, else the model must have had none (ever_shadowed(): the cheap probe; one
        set since fails it, and the general path finds out).
        Lean on purpose: at a few hundred microseconds a statement, each extra node and subquery
        shows."""
        q, w, lit = self.q, self.w, self.lit
        if w.computed:
            return None
        if w.label_column is not None:
            # (the predicted class, a threshold's or the estimator's predict, is not what score_in_sql computes:
            # a wiring with a label column is scored in Python, as score_table's chunks with p_label_into are)
            return None
        cols = [c.column for c in w.counters]
        news = ", ".join(f"{v} AS c{i}" for i, v in enumerate(self.new_values.values())) or "NULL AS c"
        join = f"a JOIN {self.P} AS p ON p.{self.pk} {EQ} a.k"
        if w.recomputes:  # locked by a statement before this one: nothing here waits for a lock
            # the new values once per profile (OFFSET 0 keeps the planner from copying a recount into
            # every place that reads it), then the features from them
            news, join = "v.*", f"{join} CROSS JOIN LATERAL (SELECT {news} OFFSET 0) AS v"
            exprs = {col: f"v.c{i}" for i, col in enumerate(cols)}
        elif optimistic:
            return None
        else:  # locked here; a row another client changed first is re-read and all of this recomputed
            # from it (a subquery such as the one above would not be: its rows are kept, not re-read)
            join, exprs = f"{join} ORDER BY p.{self.pk} FOR NO KEY UPDATE OF p", self.new_values
        if batch.wide_array(self.model, w.profiles.columns, exprs):
            return None  # scored in Python (batch.wide_array)
        in_sql = batch.score_in_sql(self.plpy, self.model, w.profiles.columns, "p", self.as_held(exprs),
                                    key=f"p.{self.pk}", profiles=w.profiles.name)
        if in_sql is None:
            return None
        items, z, link = in_sql
        f8 = "::pg_catalog.float8"
        finite = f"COALESCE(n.z {GT} '-Infinity'{f8} AND n.z {LT} 'Infinity'{f8}, false)"
        score = link("n.z")
        sets = [f"{q(col)} = n.c{i}" for i, col in enumerate(cols)] + [f"{q(w.score_column)} = {score}"]
        if w.scored_at_column:
            sets.append(f"{q(w.scored_at_column)} = "
                        + batch.scored_at_sql(q(w.scored_at_column),
                                              no_zone=w.profiles.columns.get(w.scored_at_column) == batch.TIMESTAMP_OID))
        n = f"n AS MATERIALIZED (SELECT a.k, a.n, a.ids, {news}, ARRAY[{', '.join(items)}] AS f, {z} AS z"
        # (and no column computed by PostgreSQL, which this statement would read at its old value: a
        # trigger created since the wiring was read; the general path then reads the wiring again)
        # ($3, the planned version, is never NULL: IS NOT DISTINCT FROM would name an unqualified =)
        # (and no version scored in shadow: the general path scores it, next to the live one's)
        none = f"{self.shadows()} IS NULL" if shadowed else f"NOT {self.ever_shadowed()}"
        live = (f"COALESCE({self.live()} {EQ} $3, false) AND {none} "
                f"AND NOT {computed_sql(w.tree, w.parents)} AND NOT {self.retyped()} AND {self.same_wiring()}")
        # the UPDATE's end and what follows it: the queued errors cleared, the audit rows
        tail = (f"RETURNING p.{self.pk}::pg_catalog.text AS k, {score} AS score, n.n, n.ids, n.f), "
                # (probed once a statement first: where the wiring has nothing queued, the usual case, no probe
                # of the queue's index for each profile written, as the general path's write, told by its read)
                f"d AS (DELETE FROM pgscore.error_queue AS q USING u WHERE q.rescoring_id {EQ} $1 "
                f"AND q.entity_key {EQ} u.k {_COUNTED}AND EXISTS (SELECT 1 FROM pgscore.error_queue AS q0 "
                f"WHERE q0.rescoring_id {EQ} $1) {self.cleared()}), "
                "l AS (INSERT INTO pgscore.prediction_log (model_id, entity_key, features, score, source, cause) "
                f"SELECT $3, u.k, u.f, u.score, 'trigger', {self.cause(w.via, '$1', '$2', events=True)}"
                f"{_QUEUED_IDS} FROM {_with_cleared('u.k')}) ")
        counts = "pg_catalog.count(a.k) AS wanted, pg_catalog.sum(a.n) FILTER (WHERE a.k IS NULL) AS null_keys"
        if optimistic:
            # `o`: no event names a key other than the first event's that has one (NULL keys aside: NOT NULL
            # is not true), found at the first such event, before `a` aggregates them all; where one does, nothing
            # below reads `a` (the gates are one-time filters) and the statement returns no row: the caller
            # locks and runs the statement above (a multi-row statement after a single-row one paid the whole
            # aggregation for nothing: docs/performance.md, "Multi-row INSERT and COPY"). The count of `a`'s keys
            # stays the condition of the write: `o` compares with EQ, GROUP BY with the type's own equality
            # (not where the events are a two_phase worker's rows in a setting, SettingStage.source: each read of
            # it parses the whole setting, ~1.3 ms at 64 KB, which `o` would do twice more)
            ek = self.ek
            if w.two_phase:
                o, one = "", "true"
            else:
                first = f"(SELECT e0.{ek} FROM {self.src} AS e0 WHERE e0.{ek} IS NOT NULL LIMIT 1)"
                o = (f"o AS MATERIALIZED (SELECT NOT EXISTS (SELECT 1 FROM {self.src} AS e "
                     f"WHERE NOT (e.{ek} {EQ} {first})) AS one), ")
                one = "(SELECT o.one FROM o)"
            return (f"WITH a AS MATERIALIZED ({self.agg}), {o}"
                    f"{n}, p.ctid AS t, p.xmin AS x FROM {join} WHERE {one} "
                    f"AND (SELECT pg_catalog.count(a.k) FROM a) {LE} 1::pg_catalog.int8 AND {live}), "
                    f"u AS (UPDATE {self.P} AS p SET {', '.join(sets)} FROM n WHERE p.{self.pk} {EQ} n.k "
                    f"AND p.ctid {EQ} n.t AND p.xmin {EQ} n.x AND {finite} {tail}"
                    f"SELECT (SELECT pg_catalog.count(*) FROM u) AS written, c.wanted, c.null_keys "
                    f"FROM (SELECT {counts} FROM a) AS c WHERE {one}")
        # and every profile read here was locked there: one that another client created in between
        # is not, and its values could be stale by the time this statement updates it
        locked = (f" AND c.found {EQ} pg_catalog.current_setting({lit(LOCKED)})::pg_catalog.int8"
                  if w.recomputes else "")
        return (f"WITH a AS MATERIALIZED ({self.agg}), {n} FROM {join}), "
                f"ok AS MATERIALIZED (SELECT e.wanted {EQ} c.found AND c.fine{locked} AND {live} AS ok, e.null_keys, "
                f"e.wanted FROM (SELECT {counts} FROM a) AS e, (SELECT pg_catalog.count(*) AS found, "
                f"COALESCE(pg_catalog.bool_and({finite}), true) AS fine FROM n) AS c), "
                f"u AS (UPDATE {self.P} AS p SET {', '.join(sets)} FROM n WHERE p.{self.pk} {EQ} n.k "
                f"AND (SELECT ok.ok FROM ok) {tail}"
                "SELECT ok.ok, ok.null_keys, ok.wanted FROM ok")

    def recount(self) -> str | None:
        """retry_failed's recount of the counters that read the event table (a window, a recompute) for the
        profiles $1, locked in key order: what the statements that queued them may not have applied (a
        column missing then), made current. None where no counter reads the event table."""
        sets = [f"{self.q(c.column)} = {self.new_values[c.column]}" for c in self.w.counters if c.recomputed]
        if not sets:
            return None
        # two statements in one plan: the recount's own snapshot is taken once the locks are held, so it
        # counts the events of whoever held them (in one statement it would count as of before the wait)
        keys = f"p.{self.pk} {EQ} ANY ({self.typed_keys()})"
        return (f"SELECT 1 FROM {self.P} AS p WHERE {keys} ORDER BY p.{self.pk} FOR NO KEY UPDATE OF p; "
                f"UPDATE {self.P} AS p SET {', '.join(sets)} WHERE {keys}")

    def replay(self) -> str | None:
        """retry_failed's replay, for the profiles $1 (text[]) of wiring $2, of the counters (REPLAYED) that the
        events their queue rows name as uncounted (cause.uncounted_event_ids: _mark_uncounted) missed when their
        update failed, locked in key order first; the ids taken out of those rows in the same statement, so
        each event is replayed once. A row naming fewer ids than it counts (more than QUEUED_IDS) is left
        as it is. None where nothing can be replayed (Sql made with replay_source())."""
        sets = [f"{self.q(c.column)} = {self.new_values[c.column]}" for c in self.w.counters if c.kind in REPLAYED]
        if not sets:
            return None
        keys = f"p.{self.pk} {EQ} ANY ({self.typed_keys()})"
        held = "q.cause OPERATOR(pg_catalog.->) 'uncounted_event_ids'"
        # (nor a row that misses an event whose id is NULL, which no id finds: _NULL_IDS, _null_ids_reason)
        o = (f"o AS (SELECT q.error_id, {held} AS ids FROM pgscore.error_queue AS q WHERE q.rescoring_id {EQ} $2 "
             f"AND q.entity_key {EQ} ANY ($1::pg_catalog.text[]) AND pg_catalog.jsonb_typeof({held}) {EQ} 'array' "
             f"AND NOT {_HAS_NULL_IDS} "
             f"AND pg_catalog.jsonb_array_length({held})::pg_catalog.numeric OPERATOR(pg_catalog.>=) COALESCE(CASE "
             f"WHEN pg_catalog.jsonb_typeof(q.cause OPERATOR(pg_catalog.->) 'uncounted_events') {EQ} 'number' "
             "THEN (q.cause OPERATOR(pg_catalog.->>) 'uncounted_events')::pg_catalog.numeric END, 0))")
        r = (f"r AS (UPDATE pgscore.error_queue AS q SET cause = {_WITHOUT_UNCOUNTED} "
             f"FROM o WHERE q.error_id {EQ} o.error_id RETURNING o.ids)")
        return (f"SELECT 1 FROM {self.P} AS p WHERE {keys} ORDER BY p.{self.pk} FOR NO KEY UPDATE OF p; "
                f"WITH {o}, {r}, a AS ({self.agg}) UPDATE {self.P} AS p SET {', '.join(sets)} FROM a "
                f"WHERE p.{self.pk} {EQ} a.k AND {keys}")  # (the queued alone: an id column of p_event_id_column's
        # that is no key may name another profile's event too)

    def differs(self, c: Counter, stored, new) -> str:
        """Whether a recomputed counter's stored value is not its new one (SQL; NULL equals NULL), the new
        value as the column holds it. Compared as text: every type has it (a json recompute has no `<>`),
        and a value written and read back gives the same text, so a profile written is current after."""
        new = f"(({new})::{self.w.profiles.types[c.column]})::pg_catalog.text"
        stored = f"({stored})::pg_catalog.text"
        return (f"(CASE WHEN {stored} IS NULL THEN {new} IS NOT NULL "
                f"ELSE COALESCE({stored} OPERATOR(pg_catalog.<>) {new}, true) END)")

    def stale(self) -> str:
        """refresh_windows' candidates: the keys (as text, in key order, at most $1) of the profiles whose
        counters that age (ages(): a window, a recompute that reads the clock) are not what a recount gives
        now: a window counter that is not 0 (time only takes events out of a window: a 0 stays exact) and
        differs from what its window holds now, a recompute that reads the clock that differs. Profiles queued in
        pgscore.error_queue are left to retry_failed, which recounts them: a queue row names its profile by the
        profile key's text (an index probe into the queue, cheap under a generic plan too; a key its type now
        refuses still names it), and $2 (text[]) the queued keys written in another text of their key
        (_queued_as_profile_keys: '5.0' for a numeric profile 5, usually none) name theirs as the profile key's
        type. Unlocked: the recount locks."""
        conds = []
        for c in self.w.counters:
            col = f"p.{self.q(c.column)}"
            if c.kind == "window":
                zero = f"(0::{self.w.profiles.types[c.column]})::pg_catalog.text"  # (as text, as differs compares)
                conds.append(f"(({col})::pg_catalog.text OPERATOR(pg_catalog.<>) {zero} AND "
                             f"{self.differs(c, col, self.new_values[c.column])})")
            elif ages(c):
                conds.append(self.differs(c, col, self.new_values[c.column]))
        if not conds:
            return None
        return (f"SELECT pg_catalog.array_agg(s.t ORDER BY s.k) AS keys FROM (SELECT p.{self.pk} AS k, "
                f"p.{self.pk}::pg_catalog.text AS t FROM {self.P} AS p WHERE ({' OR '.join(conds)}) "
                f"AND NOT EXISTS (SELECT 1 FROM pgscore.error_queue q WHERE q.rescoring_id {EQ} "
                f"{int(self.w.id)}::pg_catalog.int8 AND q.entity_key {EQ} p.{self.pk}::pg_catalog.text) "
                f"AND NOT EXISTS (SELECT 1 FROM ({self.typed_keys('$2')}) AS z(k) WHERE z.k {EQ} p.{self.pk}) "
                f"ORDER BY p.{self.pk} LIMIT $1) AS s")

    def refresh_recount(self) -> str:
        """refresh_windows' recount of the profiles $1 (text[]): locked in key order, as the trigger locks
        them, then, in a statement of its own (its snapshot taken once the locks are held, as Sql.recount's),
        every counter that reads the event table recounted with the trigger's SQL, written only where one
        changed (a profile another statement recounted meanwhile is not rewritten); returns the keys written
        (as text, in key order)."""
        rec = [(i, c) for i, c in enumerate(self.w.counters) if c.recomputed]
        keys = f"p.{self.pk} {EQ} ANY ({self.typed_keys()})"
        news = ", ".join(f"{self.new_values[c.column]} AS c{i}" for i, c in rec)
        sets = ", ".join(f"{self.q(c.column)} = v.c{i}" for i, c in rec)
        changed = " OR ".join(self.differs(c, f"t.{self.q(c.column)}", f"v.c{i}") for i, c in rec)
        return self._recount(keys, "", f"{news} FROM {self.P} AS p WHERE {keys}", sets, changed)

    def _recount(self, keys, ctes, values, sets, changed) -> str:
        """refresh_recount's and backfill's statement: the profiles `keys` locked in key order, as the trigger
        locks them, then (a statement of its own, its snapshot taken once the locks are held) the counters `sets`
        written from the new `values` (`SELECT p.key AS k, ...` from there on; `ctes` before it) where `changed`;
        returns the keys written (as text, in key order)."""
        return (f"SELECT 1 FROM {self.P} AS p WHERE {keys} ORDER BY p.{self.pk} FOR NO KEY UPDATE OF p; "
                f"WITH {ctes}u AS (UPDATE {self.P} AS t SET {sets} FROM (SELECT p.{self.pk} AS k, {values}) AS v "
                f"WHERE t.{self.pk} {EQ} v.k AND ({changed}) RETURNING t.{self.pk} AS k) "
                "SELECT pg_catalog.array_agg(u.k::pg_catalog.text ORDER BY u.k) AS keys FROM u")

    def backfill(self) -> str:
        """backfill_rescoring's recount of the profiles $1 (text[]) from all of their events: locked in key order, as
        the trigger locks them, then, in a statement of its own (its snapshot taken once the locks are held, as
        refresh_recount's), every counter a rule defines over all of the events (BACKFILLED) set to what the event
        table gives: a count or add the sum over them, max and min theirs, last the newest event's value, a window or
        recompute the trigger's recount; written only where one changed. Returns the keys written (as text, in key
        order)."""
        q = self.q
        done = [(i, c) for i, c in enumerate(self.w.counters) if c.kind in BACKFILLED]
        keys = f"p.{self.pk} {EQ} ANY ({self.typed_keys()})"
        aggs = "".join(f", {self.aggregate(c)} AS c{i}" for i, c in done if c.kind in KINDS)
        a = (f"SELECT e.{self.ek} AS k{aggs} FROM {self.w.events.name} AS e WHERE EXISTS (SELECT 1 FROM "
             f"({self.typed_keys()}) AS t(x) WHERE t.x {EQ} e.{self.ek}) GROUP BY e.{self.ek}")

        def value(i, c):
            if c.kind == "add":
                return f"COALESCE(a.c{i}, 0)"
            return f"a.c{i}" if c.kind in KINDS else self.new_values[c.column]

        news = ", ".join(f"{value(i, c)} AS c{i}" for i, c in done)
        sets = ", ".join(f"{q(c.column)} = v.c{i}" for i, c in done)
        changed = " OR ".join(self.differs(c, f"t.{q(c.column)}", f"v.c{i}") for i, c in done)
        return self._recount(keys, f"a AS ({a}), ", f"{news} FROM {self.P} AS p JOIN a ON p.{self.pk} {EQ} a.k",
                             sets, changed)

    def backfill_keys(self) -> str:
        """backfill_rescoring's profiles: the keys (as text, in key order) of those the event table has events of,
        but those queued in pgscore.error_queue (as Sql.stale leaves them: $1 the queued keys written in another
        text of their key), and how many of those were left (`queued`). Unlocked: the backfill locks."""
        has = f"EXISTS (SELECT 1 FROM {self.w.events.name} AS e WHERE e.{self.ek} {EQ} p.{self.pk})"
        queued = (f"(EXISTS (SELECT 1 FROM pgscore.error_queue q WHERE q.rescoring_id {EQ} "
                  f"{int(self.w.id)}::pg_catalog.int8 AND q.entity_key {EQ} p.{self.pk}::pg_catalog.text) "
                  f"OR EXISTS (SELECT 1 FROM ({self.typed_keys()}) AS z(k) WHERE z.k {EQ} p.{self.pk}))")
        return (f"SELECT pg_catalog.array_agg(s.t ORDER BY s.k) FILTER (WHERE NOT s.queued) AS keys, "
                "pg_catalog.count(*) FILTER (WHERE s.queued) AS queued FROM (SELECT p.{pk} AS k, "
                "p.{pk}::pg_catalog.text AS t, {queued} AS queued FROM {P} AS p WHERE {has}) AS s"
                .replace("{pk}", self.pk).replace("{queued}", queued).replace("{P}", self.P).replace("{has}", has))

    def retry_read(self, features=True) -> str:
        # A key is queued as the profile key's text, or for a missing profile as the event key's, which
        # may differ (42 for 42.00): each profile found is named by one key it was queued as (`keys`), and
        # `dups` are its others, for the caller to clear, each with the key it is rescored under (`kept`).
        # Without `features`, no features (NULL): where the read failed for some rows' values, the profiles are
        # locked and named by it, and their features read in parts by this read of the kept keys (_retry_read)
        b = self.fmt.sql(self.features(new=False)) if features else "NULL::pg_catalog.bytea"
        return (f"WITH l0 AS MATERIALIZED (SELECT p.{self.pk} AS k, {b} AS b "
                f"FROM {self.P} AS p WHERE p.{self.pk} {EQ} ANY ({self.typed_keys()}) "
                f"ORDER BY p.{self.pk} FOR NO KEY UPDATE OF p), "
                f"m AS MATERIALIZED (SELECT s.q, l0.k FROM pg_catalog.unnest($1::pg_catalog.text[]) AS s(q) "
                f"JOIN l0 ON l0.k {EQ} s.q::{self.ktype}), "
                f"l AS MATERIALIZED (SELECT l0.k, l0.b, c.q FROM l0 JOIN (SELECT m.k, pg_catalog.min(m.q) AS q "
                f"FROM m GROUP BY m.k) AS c ON c.k {EQ} l0.k), "
                f"x AS (SELECT m.q AS dup, l.q AS kept FROM m JOIN l ON l.k {EQ} m.k WHERE l.q OPERATOR(pg_catalog.<>) m.q) "
                "SELECT (SELECT pg_catalog.array_agg(l.q ORDER BY l.k) FROM l) AS keys, "
                f"(SELECT pg_catalog.string_agg(COALESCE(l.b, {self.fmt.sql(batch.EMPTY)}), ''::pg_catalog.bytea "
                "ORDER BY l.k) FROM l) AS data, (SELECT pg_catalog.array_agg(x.dup ORDER BY x.dup) FROM x) AS dups, "
                "(SELECT pg_catalog.array_agg(x.kept ORDER BY x.dup) FROM x) AS kept")

    def typed_keys(self, param="$1") -> str:
        """The keys $1 (text[]; or `param`) cast to the profile key's type, as a subquery (an array type's keys too)."""
        return f"SELECT s.x::{self.ktype} FROM pg_catalog.unnest({param}::pg_catalog.text[]) AS s(x)"


QUEUED_IDS = 1000  # event ids a queue row keeps (the first ones), for the audit row that clears it
_JSONB_CAT = "OPERATOR(pg_catalog.||)"


def ids_sql(ek, idc, source, profiles=None, pk=None) -> str:
    """For the trigger's queue (queue_sql): (t, ids, n) per key text t of the events in `source` (ek and idc
    quoted), the first QUEUED_IDS ids as a jsonb array, and how many there are. A key is queued as the profile key's text, or as the
    event key's for a missing profile: both texts are given, with `profiles` (and its key `pk`), for each
    event whose key finds a profile. Set-based, and no text cast to a key type (one may not read it)."""
    texts = f"SELECT e.{ek}::pg_catalog.text AS t, e.{idc} AS i FROM {source} AS e WHERE e.{ek} IS NOT NULL"
    if profiles is not None:
        texts += (f" UNION SELECT p.{pk}::pg_catalog.text, e.{idc} FROM {source} AS e JOIN {profiles} AS p "
                  f"ON p.{pk} {EQ} e.{ek}")
    return ("SELECT m.t, pg_catalog.jsonb_agg(m.i ORDER BY m.i) AS ids, pg_catalog.max(m.n) AS n FROM (SELECT x.t, "
            "x.i, pg_catalog.row_number() OVER (PARTITION BY x.t ORDER BY x.i) AS r, pg_catalog.count(*) OVER "
            f"(PARTITION BY x.t) AS n FROM ({texts}) AS x) AS m WHERE m.r OPERATOR(pg_catalog.<=) {QUEUED_IDS} "
            "GROUP BY m.t")


def events_of(cause) -> str:
    """How many events a queue row's `cause` (SQL, jsonb) stands for: its count, else (a row queued before the
    count was kept) its ids; NULL where it names none, or holds something else there (a row edited by hand
    must not fail every later write of its profile)."""
    # (LEAST and GREATEST are SQL's own constructs, not functions a search_path could find)
    typeof = "pg_catalog.jsonb_typeof({} OPERATOR(pg_catalog.->) '{}') OPERATOR(pg_catalog.=) '{}'"
    return (f"CASE WHEN {typeof.format(cause, 'events', 'number')} THEN LEAST(GREATEST("
            f"pg_catalog.trunc(({cause} OPERATOR(pg_catalog.->>) 'events')::pg_catalog.numeric), 0), "
            "1000000000000)::pg_catalog.int8 "
            f"WHEN {typeof.format(cause, 'event_ids', 'array')} THEN pg_catalog.jsonb_array_length({cause} "
            "OPERATOR(pg_catalog.->) 'event_ids') END")


def capped_ids(a, b) -> str:
    """The event ids of jsonb arrays `a` then `b` (either NULL), the first QUEUED_IDS, as one jsonb array;
    NULL when there are none."""
    return (f"(SELECT pg_catalog.jsonb_agg(x.v) FROM (SELECT x.v FROM pg_catalog.jsonb_array_elements("
            f"COALESCE({a}, '[]') {_JSONB_CAT} COALESCE({b}, '[]')) AS x(v) LIMIT {QUEUED_IDS}) AS x)")


def replay_source(plpy, w: Wiring) -> str:
    """The events Sql.replay reads: those of the event table whose ids its CTE `r` returns."""
    idc = quote_ident(plpy, w.event_id_column)
    return (f"(SELECT e.* FROM {w.events.name} AS e WHERE e.{idc} {EQ} ANY (SELECT (x.v OPERATOR(pg_catalog.#>>) "
            f"'{{}}'::pg_catalog.text[])::{w.events.types[w.event_id_column]} FROM r, "
            "pg_catalog.jsonb_array_elements(r.ids) AS x(v)))")


def uncounted_sql(ek, idc, source, profiles=None, pk=None) -> str:
    """For _mark_uncounted: (t, ids, n, z) per key text t of the events in `source` (ek and idc quoted): the first
    QUEUED_IDS ids that are not NULL (a jsonb array, NULL where there are none), how many events there are and how
    many of them have a NULL id. Each event is named under one key text, the profile key's (with `profiles` and
    its key `pk`) where that one is among the keys queued ($2, text[]), else its own key's: an event of a profile
    queued under two texts of its key (numeric 5 and 5.0) named under both was replayed twice by retry_failed
    calls that took the rows one at a time. No text cast to a key type (one may not read it)."""
    own = f"e.{ek}::pg_catalog.text"
    if profiles is not None:
        pt = (f"(SELECT p.{pk}::pg_catalog.text FROM {profiles} AS p WHERE p.{pk} {EQ} e.{ek} LIMIT 1)")
        t = f"CASE WHEN {pt} {EQ} ANY ($2::pg_catalog.text[]) THEN {pt} ELSE {own} END"
    else:
        t = own
    return ("SELECT m.t, pg_catalog.jsonb_agg(m.i ORDER BY m.i) FILTER (WHERE m.i IS NOT NULL AND m.r "
            f"OPERATOR(pg_catalog.<=) {QUEUED_IDS}) AS ids, pg_catalog.count(*) AS n, pg_catalog.count(*) FILTER "
            "(WHERE m.i IS NULL) AS z FROM (SELECT x.t, x.i, pg_catalog.row_number() OVER (PARTITION BY x.t ORDER BY "
            f"x.i) AS r FROM (SELECT {t} AS t, e.{idc} AS i FROM {source} AS e WHERE e.{ek} IS NOT NULL) AS x) AS m "
            "GROUP BY m.t")


def _null_ids_reason(plpy, w: Wiring, n) -> str:
    """What a queue row says of the events its counters missed whose id (the wiring's event id column) is NULL:
    retry_failed cannot read them back, so it replays none of the row's, and what to do; `n` how many (or '%s',
    for the format() of _mark_uncounted)."""
    return (f"{n} of the events its counters missed have a NULL {quote_ident(plpy, w.event_id_column)} "
            "(cause->'uncounted_null_ids'): "
            "retry_failed cannot replay them, so it replays none of this row's; correct its counters from the event "
            "table (those events, and the ones cause->'uncounted_event_ids' names), then UPDATE pgscore.error_queue "
            "SET cause = cause - 'uncounted_event_ids' - 'uncounted_null_ids' of its row, and retry")


# the sentence _null_ids_reason puts last in a queue row's reason (a regular expression: its number, its column)
_NULL_IDS_SAID = "'[0-9]+ of the events its counters missed have a NULL .*$'"
# a queue row's reason without it (and the '; ' before it)
_WITHOUT_NULL_IDS_SAID = (f"pg_catalog.regexp_replace(q.reason, '(^|; )' OPERATOR(pg_catalog.||) {_NULL_IDS_SAID}, "
                          "'')")


def _mark_uncounted(plpy, w: Wiring, keys):
    """Name in the queue rows of the profiles `keys` (just queued by the trigger) the ids of the statement's
    events whose counters were not applied to them (cause.uncounted_event_ids, QUEUED_IDS at most, added to
    those a row held, and uncounted_events, how many): retry_failed replays them (Sql.replay). Each event is named
    in one row (uncounted_sql). Events whose id is NULL are counted in uncounted_events and, apart, in
    uncounted_null_ids, and the row's reason says what to do (_null_ids_reason): retry_failed replays no event of
    such a row (before, their NULLs in the ids matched no event and the row was taken for replayed)."""
    held = "q.cause OPERATOR(pg_catalog.->) 'uncounted_event_ids'"
    n = ("CASE WHEN pg_catalog.jsonb_typeof(q.cause OPERATOR(pg_catalog.->) 'uncounted_events') "
         f"{EQ} 'number' THEN (q.cause OPERATOR(pg_catalog.->>) 'uncounted_events')::pg_catalog.int8 ELSE 0 END")
    z = (f"({n.replace('uncounted_events', 'uncounted_null_ids')} {PLUS} i.z)")
    template = _null_ids_reason(plpy, w, "%s").replace("%", "%%").replace("%%s", "%s", 1)
    # a key is queued as the profile key's text, or as the event key's where there is no profile, or no profile
    # key (renamed since the wiring was read: _broken): then the event key's alone
    for keyed in (True, False):
        ids = uncounted_sql(quote_ident(plpy, w.event_key), quote_ident(plpy, w.event_id_column), w.source,
                            w.profile_rows if keyed else None, quote_ident(plpy, w.profile_key) if keyed else None)
        try:
            plpy.execute(plpy.prepare(
                "UPDATE pgscore.error_queue AS q SET cause = COALESCE(q.cause, '{}'::pg_catalog.jsonb) "
                f"{_JSONB_CAT} pg_catalog.jsonb_build_object('uncounted_event_ids', "
                f"COALESCE({capped_ids(held, 'i.ids')}, '[]'::pg_catalog.jsonb), 'uncounted_events', {n} {PLUS} i.n) "
                f"{_JSONB_CAT} CASE WHEN {z} "
                f"OPERATOR(pg_catalog.>) 0 THEN pg_catalog.jsonb_build_object('uncounted_null_ids', {z}) ELSE "
                f"'{{}}'::pg_catalog.jsonb END, reason = CASE WHEN {z} OPERATOR(pg_catalog.>) 0 "
                f"THEN pg_catalog.concat_ws('; ', NULLIF({_WITHOUT_NULL_IDS_SAID}, ''), "
                f"pg_catalog.format($3, {z})) ELSE q.reason END FROM ({ids}) AS i WHERE q.rescoring_id {EQ} $1 "
                f"AND q.entity_key {EQ} i.t AND i.t {EQ} ANY ($2::pg_catalog.text[])",
                ["pg_catalog.int8", "pg_catalog.text[]", "pg_catalog.text"]), [w.id, keys, template])
            return
        except plpy.SPIError as e:
            if not keyed or not _unbuildable(e) or _must_raise(e):
                raise


# a queue row's events whose counters were not applied (_mark_uncounted), kept when the profile is queued again
_KEEP_UNCOUNTED = ("pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('uncounted_event_ids', "
                   "q.cause OPERATOR(pg_catalog.->) 'uncounted_event_ids', 'uncounted_events', "
                   "q.cause OPERATOR(pg_catalog.->) 'uncounted_events', 'uncounted_null_ids', "
                   "q.cause OPERATOR(pg_catalog.->) 'uncounted_null_ids'))")
# a queue row that misses events whose id is NULL (_mark_uncounted: counted in uncounted_null_ids; a row marked
# before that kept their NULLs among its ids): retry_failed cannot replay them, and replays none of its events
_HAS_NULL_IDS = ("(COALESCE(q.cause OPERATOR(pg_catalog.?) 'uncounted_null_ids', false) OR COALESCE(q.cause "
                 "OPERATOR(pg_catalog.->) 'uncounted_event_ids' OPERATOR(pg_catalog.@>) '[null]'::pg_catalog.jsonb, "
                 "false))")
# a queue row's cause without what _mark_uncounted put in it
_WITHOUT_UNCOUNTED = ("q.cause OPERATOR(pg_catalog.-) 'uncounted_event_ids'::pg_catalog.text OPERATOR(pg_catalog.-) "
                      "'uncounted_events'::pg_catalog.text OPERATOR(pg_catalog.-) 'uncounted_null_ids'::pg_catalog.text")
# a queue row that holds them is not cleared by a rescoring: retry_failed replays them first (RetryPlans.replay)
_COUNTED = "AND NOT COALESCE(q.cause OPERATOR(pg_catalog.?) 'uncounted_event_ids', false) "


def queue_sql(ids=None, oids=False) -> str:
    """The error queue's INSERT: $1 rescoring_id, $2 model, $3 profile table, $4 keys, $5 reasons, $6
    SQLSTATEs (text[] each), $7 the cause; with `oids` (a schema of migration 0160 on), the OID of the table
    named $3 now in profile_oid. `ids` (ids_sql): for the trigger, the ids of the statement's
    events for each key, kept in the cause as event_ids; a row queued again keeps those it held and adds the
    new ones (QUEUED_IDS at most), whatever queues it again (a retry too)."""
    own = (f"CASE WHEN i.ids IS NULL THEN $7::pg_catalog.jsonb ELSE $7::pg_catalog.jsonb {_JSONB_CAT} "
           "pg_catalog.jsonb_build_object('event_ids', i.ids, 'events', i.n) END" if ids else "$7::pg_catalog.jsonb")
    ids_of = "{}.cause OPERATOR(pg_catalog.->) 'event_ids'"
    # the ids kept, and every event counted: those beyond the ids kept are named by no audit row but counted
    merged = (f"(SELECT pg_catalog.jsonb_build_object('event_ids', c.ids, 'events', COALESCE({events_of('q.cause')}, "
              f"0) OPERATOR(pg_catalog.+) COALESCE({events_of('EXCLUDED.cause')}, 0)) FROM (SELECT "
              f"{capped_ids(ids_of.format('q'), ids_of.format('EXCLUDED'))} AS ids) AS c WHERE c.ids IS NOT NULL)")
    # a row that keeps events whose id is NULL (_KEEP_UNCOUNTED) keeps what its reason says of them too
    # (_null_ids_reason: what to correct by hand), after the new reason, where that does not say it
    reason = (f"CASE WHEN {_HAS_NULL_IDS} AND q.reason OPERATOR(pg_catalog.~) {_NULL_IDS_SAID} AND EXCLUDED.reason "
              f"OPERATOR(pg_catalog.!~) {_NULL_IDS_SAID} THEN EXCLUDED.reason OPERATOR(pg_catalog.||) '; ' "
              f"OPERATOR(pg_catalog.||) pg_catalog.substring(q.reason, {_NULL_IDS_SAID}) ELSE EXCLUDED.reason END")
    return ("INSERT INTO pgscore.error_queue AS q (rescoring_id, model_name, profile_table, entity_key, reason, "
            f"sqlstate, cause{', profile_oid, queue_system' if oids else ''}) SELECT $1, $2, $3, u.k, u.r, u.s, {own}"
            f"{', ' + oid_of('$3::pg_catalog.text') + ', ' + SYSTEM_ID if oids else ''} "
            "FROM ROWS FROM (pg_catalog.unnest($4::pg_catalog.text[]), pg_catalog.unnest($5::pg_catalog.text[]), "
            "pg_catalog.unnest($6::pg_catalog.text[])) AS u(k, r, s) "
            + (f"LEFT JOIN ({ids}) AS i ON i.t {EQ} u.k " if ids else "") + "ORDER BY u.k "
            "ON CONFLICT (rescoring_id, entity_key) WHERE rescoring_id IS NOT NULL DO UPDATE SET "
            f"attempts = q.attempts OPERATOR(pg_catalog.+) 1, reason = {reason}, sqlstate = EXCLUDED.sqlstate, "
            f"model_name = EXCLUDED.model_name, cause = EXCLUDED.cause {_JSONB_CAT} COALESCE({merged}, "
            f"'{{}}'::pg_catalog.jsonb) {_JSONB_CAT} {_KEEP_UNCOUNTED} {_JSONB_CAT} CASE WHEN q.cause "
            "OPERATOR(pg_catalog.?) 'handed_over' THEN '{\"handed_over\": true}'::pg_catalog.jsonb ELSE "
            "'{}'::pg_catalog.jsonb END, last_failed_at = pg_catalog.clock_timestamp()"
            + ((", profile_oid = EXCLUDED.profile_oid, queue_oid = EXCLUDED.queue_oid, "
               "queue_system = EXCLUDED.queue_system") if oids else ""))


_QUEUE = queue_sql()
_QUEUE_OID = queue_sql(oids=True)


def queue_text(w) -> str:
    """The error queue's INSERT (queue_sql, no event ids) for the schema of wiring w."""
    return _QUEUE_OID if w.queue_oids else _QUEUE
_QUEUE_TYPES = ["pg_catalog.int8", "pg_catalog.text", "pg_catalog.text", "pg_catalog.text[]", "pg_catalog.text[]",
                "pg_catalog.text[]", "pg_catalog.text"]
_FAST_TYPES = ["pg_catalog.int8", "pg_catalog.text", "pg_catalog.int8"]
_WRITE_TYPES = ["pg_catalog.text", "pg_catalog.int8", "pg_catalog.text", "pg_catalog.int8"]


# the queued errors a write clears, with the ids of the events whose rescoring failed (queue_sql), for its
# audit rows: each names them as queued_event_ids (`key`: the key its queue row was cleared by)
_CLEARED = ("RETURNING q.entity_key AS k, q.cause OPERATOR(pg_catalog.->) 'event_ids' AS ids, "
            f"{events_of('q.cause')} AS n")


_QUEUED_IDS = (f" {_JSONB_CAT} CASE WHEN d.ids IS NULL THEN '{{}}'::pg_catalog.jsonb ELSE "
               "pg_catalog.jsonb_build_object('queued_event_ids', d.ids, 'queued_events', d.n) END")


def _with_cleared(key) -> str:
    """The audit rows' FROM: each written row u with the queue row it cleared, if any (one at most: a key's)."""
    return f"u LEFT JOIN d ON d.k {EQ} {key}"


def _label_cast(plpy, w: Wiring, model) -> str | None:
    """The type a wiring's label column takes the predicted classes of `model` as (batch.label_type), or None where
    the wiring has no label column (or there is no model); raises (InvalidModel) where the version cannot be
    written into it: a regressor (42809), a feature of its read by name or one generated from the column (22023),
    classes its type cannot hold (42804) or a check constraint on it refuses (23514). attach_rescoring checks the
    version live then; one made live later is checked here, as its plans are made."""
    if w.label_column is None or model is None:
        return None
    batch.refuse_regressor(plpy, model, w.profiles.name, w.label_column, without=_REGRESSOR_LABEL)
    batch.label_column(plpy, model.label, w.profiles.name, w.label_column, w.profiles.columns, _taken(w),
                       feature=(w.label_column == "features" if w.by_position
                                else w.label_column in model.feature_names), writable=False)
    gen = batch.generated_from(plpy, w.profiles.oid, w.label_column,
                               ["features"] if w.by_position else model.feature_names)
    if gen:  # (each class written would change the feature the next rescoring reads)
        raise InvalidModel(f"the label column {literal(w.label_column)} of {w.profiles.name} is one that feature "
                           f"{literal(gen[0][0])} of model {model.label} is generated from: each rescoring would feed "
                           "its own output back in", sqlstate="22023", detail=batch.generated_said(plpy, gen),
                           hint="make live a version that reads no such feature, or detach the wiring "
                                "(pgscore.detach_rescoring) and attach it with a label column no feature is generated "
                                "from")
    return batch.label_type(plpy, model, w.profiles.name, w.label_column, w.profiles.columns, w.profiles.types)


_REGRESSOR_LABEL = ("it goes into the score column alone: attach the wiring without p_label_column (one attached "
                    "already: pgscore.detach_rescoring first)")


def _taken(w) -> dict:
    """The profile columns a wiring writes or matches by, which its label column must be none of ({column: what});
    `w`: a Wiring, or anything with its profile_key, score_column, scored_at_column and counters."""
    taken = {w.profile_key: "its key column", w.score_column: "its score column (p_score_column)"}
    if w.scored_at_column is not None:
        taken.setdefault(w.scored_at_column, "its scored_at column (p_scored_at_column)")
    for c in w.counters:
        taken.setdefault(c.column, f"the column of counter {c.column!r}")
    return taken


def _labelled(w: Wiring, model) -> bool:
    """Whether the wiring's write takes predicted classes (Sql.labelled): a multiclass model's, and any
    classifier's where the wiring has a label column (a regressor's plans are refused: _label_cast)."""
    return _labels_of(model, w.label_column is not None)


class Plans:
    """The trigger's prepared statements for one wiring and model version (or none: counters only,
    with the reason there is no model)."""

    def __init__(self, plpy, w: Wiring, model, error=None, source=None):
        trigger = source is None  # the trigger's (attach's check reads the event table itself)
        sql = self.sql = Sql(plpy, w, model, w.source if trigger else source)
        self.fmt = sql.fmt
        self.model, self.error = model, error
        self.model_id = model.model_id if model is not None else None
        prep = plpy.prepare
        self.lock = prep(sql.lock())
        # a counter that reads the event table is recomputed after the lock, by a statement of its own
        # (with its own snapshot: it sees the events of whoever held the lock); both go in one plan, so
        # one call (and one subtransaction of PL/Python's) runs them
        then = sql.lock(counted=True) + "; " if w.recomputes else ""
        self.read = prep(then + sql.read(locking=not w.recomputes))
        self.create = prep(sql.create()) if w.missing_profile == "create" else None
        self.create_for = None  # create(keyed=True), prepared when a create fails
        self.counters_only = prep(sql.counters_only())
        self.counters_for = None  # counters_only(keyed=True), prepared when a counters_only fails
        self.unlockable = None  # sql.unlockable(), prepared when the lock takes fewer profiles than the events name
        self.writes = {}
        # (a version whose classes the wiring's label column cannot take raises here: no plans for it, the events
        # counted and their profiles queued with the reason, as for any version that cannot be scored)
        sql.label_cast = _label_cast(plpy, w, model)
        if model is not None:
            self.write_types = sql.write_types()
            self.write_sql = {clear: sql.write(clear=clear, counters=not w.computed) for clear in (False, True)}
            self.writes = {clear: prep(text, self.write_types) for clear, text in self.write_sql.items()}
            # the parts of a write that failed (_write): each aggregates its own profiles' events alone
            self.keyed_sql = {clear: sql.write(clear=clear, counters=not w.computed, keyed=True)
                              for clear in (False, True)}
        self.keyed_writes = {}  # prepared at their first use
        self.queue = prep(sql.queue() if w.event_id_column else queue_text(w), _QUEUE_TYPES)
        self.plpy = plpy
        self.apply = prep(sql.apply()) if model is not None and w.computed and w.counters else None
        self.reread = None  # sql.reread(), prepared when apply fails
        self.bare = None  # sql.read(features=False), prepared when the read fails for some rows' values
        self.keyed = None  # sql.keyed_features(), prepared then too
        self.probe = None  # sql.probe(), prepared where the read fails for some rows' values (_faulty_counters)
        self.faults = {}  # (counter index, ids) -> sql.fault(c, ids), prepared as _fault needs them
        self.ids_of = None  # sql.event_ids(), prepared then too
        # a linear model scored by the statement itself: lock and one write, no read, no Python scoring
        fast = sql.fast() if model is not None and trigger else None
        self.fast = prep(then + fast, _FAST_TYPES) if fast is not None else None
        # and where a counter reads the event table, first without the lock (see Sql.fast; None elsewhere)
        optimistic = sql.fast(optimistic=True) if fast is not None else None
        self.optimistic = prep(optimistic, _FAST_TYPES) if optimistic is not None else None
        self.then = then
        self.shadowed = None  # (fast, optimistic) for a model that had a shadow once: see fast_plans

    def fast_plans(self, w: Wiring):
        """(fast, optimistic): for a model that never had a shadow, those above; else those that ask
        pgscore.shadow_versions (Sql.fast's `shadowed`), prepared at their first use."""
        if not w.ever_shadowed or self.fast is None:
            return self.fast, self.optimistic
        if self.shadowed is None:
            o = self.sql.fast(optimistic=True, shadowed=True) if self.optimistic is not None else None
            self.shadowed = (self.plpy.prepare(self.then + self.sql.fast(shadowed=True), _FAST_TYPES),
                             self.plpy.prepare(o, _FAST_TYPES) if o is not None else None)
        return self.shadowed

    def write(self, clear, n, keyed=False):
        """The write plan. The saved one was planned for the few rows of a typical statement (the
        transition table's size at planning time is all the planner knows); a big statement gets a
        plan of its own, made for its size (~1 ms, against a nested loop over thousands of rows).
        `keyed`: for a part of a write that failed, aggregating its own profiles' events alone."""
        texts = self.keyed_sql if keyed else self.write_sql
        if n > SAVED_PLAN_ROWS:
            return self.plpy.prepare(texts[clear], self.write_types)
        if not keyed:
            return self.writes[clear]
        if clear not in self.keyed_writes:
            self.keyed_writes[clear] = self.plpy.prepare(texts[clear], self.write_types)
        return self.keyed_writes[clear]


class RetryPlans:
    """retry_failed's prepared statements for one wiring and model version."""

    def __init__(self, plpy, w: Wiring, model, error=None):
        self.model, self.error = model, error
        self.queue = plpy.prepare(queue_text(w), _QUEUE_TYPES)
        self.fmt = batch.features_format(plpy)
        if model is not None:
            sql = self.sql = Sql(plpy, w, model, source=w.events.name)
            sql.label_cast = _label_cast(plpy, w, model)
            self.read = plpy.prepare(sql.retry_read(), ["pg_catalog.text[]"])
            self.bare = None  # sql.retry_read(features=False), prepared when the read fails for some rows' values
            self.forget = plpy.prepare(_FORGET_QUEUED, ["pg_catalog.int8", "pg_catalog.text[]", "pg_catalog.text[]"])
            self.write = plpy.prepare(sql.write(retry=True), sql.write_types())
            recount = sql.recount()
            self.recount = plpy.prepare(recount, ["pg_catalog.text[]"]) if recount is not None else None
            replay = Sql(plpy, w, model, source=replay_source(plpy, w)).replay() if _replays(w) else None
            self.replay = plpy.prepare(replay, ["pg_catalog.text[]", "pg_catalog.int8"]) if replay else None


class RefreshPlans:
    """refresh_windows' prepared statements for one wiring and model version (or none: the recount alone,
    with the reason there is no model)."""

    backfill = False  # (BackfillPlans: the recount from all of the events, the audit rows' via backfill_rescoring)

    def __init__(self, plpy, w: Wiring, model, error=None):
        self.model, self.error = model, error
        self.queue = plpy.prepare(queue_text(w), _QUEUE_TYPES)
        self.fmt = batch.features_format(plpy)
        sql = self.sql = Sql(plpy, w, model, source=w.events.name)
        self.recount = plpy.prepare(sql.backfill() if self.backfill else sql.refresh_recount(), ["pg_catalog.text[]"])
        self.bare = None  # sql.retry_read(features=False), prepared when the read fails for some rows' values
        if model is not None:
            sql.label_cast = _label_cast(plpy, w, model)
            self.read = plpy.prepare(sql.retry_read(), ["pg_catalog.text[]"])
            self.write = plpy.prepare(sql.write(refresh=True, backfill=self.backfill), sql.write_types())


class BackfillPlans(RefreshPlans):
    """backfill_rescoring's prepared statements for one wiring and model version (or none: the recount alone,
    with the reason there is no model), as RefreshPlans with the recount from all of the events (Sql.backfill)."""

    backfill = True


class RescorePlans:
    """rescore_profiles' prepared statements for one wiring and model version (or none: the reason there is no
    model): refresh_windows' read and write of the profiles as they are, no recount (source refresh, via
    rescore_profiles)."""

    def __init__(self, plpy, w: Wiring, model, error=None):
        self.model, self.error = model, error
        self.queue = plpy.prepare(queue_text(w), _QUEUE_TYPES)
        self.fmt = batch.features_format(plpy)
        sql = self.sql = Sql(plpy, w, model, source=w.events.name)
        self.bare = None  # (as RefreshPlans': prepared when the read fails for some rows' values)
        if model is not None:
            sql.label_cast = _label_cast(plpy, w, model)
            self.read = plpy.prepare(sql.retry_read(), ["pg_catalog.text[]"])
            self.write = plpy.prepare(sql.write(rescore=True), sql.write_types())


# -- the trigger -------------------------------------------------------------------------------------

class Failure:
    """Profiles that could not be rescored, why, and the SQLSTATE."""

    def __init__(self, keys, reason, sqlstate, uncounted=False):
        self.keys, self.reason, self.sqlstate = list(keys), reason, sqlstate
        # the counters of the statement's events were not applied to these profiles: their queue rows keep the
        # events' ids (cause.uncounted_event_ids, _mark_uncounted), which retry_failed replays (RetryPlans.replay)
        self.uncounted = uncounted


MODEL_RAISED = "38000"  # external_routine_exception: the model itself raised
# what _rescore returns where its wiring's row changed under the cache (Wiring.rewired): on_insert reads it again
REWIRED = object()


def on_insert(plpy, GD, TD, again=True, replicated=False):
    """The statement-level AFTER INSERT trigger of a wired event table. `again`: whether a wiring whose row
    is not the one this session cached may be read again and the statement rescored anew (once).
    `replicated`: the row triggers for replicated rows (rescore_replicated), which fire in a session with
    session_replication_role = replica (a subscription's apply or table sync worker) alone. The one whose
    second argument is STAGE puts its row in the wiring's Stage; the constraint trigger whose second argument
    is COMMIT, deferred to the transaction's commit, rescores everything staged at its first firing there, as
    a statement of all the transaction's events, and its later firings find nothing pending. A row trigger
    of one argument (attached before the stage) puts its row in the Stage and rescores it at once."""
    rescoring_id = int(TD["args"][0])
    role = TD["args"][1] if replicated and len(TD["args"]) > 1 else None
    if role == COMMIT:  # the commit trigger: its firings after the first of the transaction find nothing to do
        st = GD.get(STAGES, {}).get(rescoring_id)
        if st is None or not st.is_pending(plpy):
            return None
    try:
        w = wiring(plpy, GD, rescoring_id, replicated)
    except plpy.SPIError as e:  # pgscore's own tables: the role lacks pgscore_app
        if _state(e) != INSUFFICIENT_PRIVILEGE:
            raise
        on = f"{quote_ident(plpy, TD['table_schema'])}.{quote_ident(plpy, TD['table_name'])}"
        raise PgscoreError(f"{on} is wired to rescore profiles (wiring {rescoring_id}), and the role inserting "
                           f"into it cannot read the wiring: {_message(e)}; the events were not inserted",
                           sqlstate=INSUFFICIENT_PRIVILEGE,
                           hint="rescoring reads its wiring and writes its audit rows as the inserting role: "
                                f"GRANT pgscore_app TO {quote_ident(plpy, _current_user(plpy))}") from e
    ours = w is not None and _on_its_table(plpy, w, TD)
    if w is not None and not ours:
        # the wiring as this session cached it names another table: read it again, since another wiring may
        # have its id now (pgscore uninstalled and installed again, or the database restored over, number the
        # wirings again), whose trigger this is
        GD.get(REPLICATED_CACHE if replicated else CACHE, {}).pop(rescoring_id, None)
        w = wiring(plpy, GD, rescoring_id, replicated)
        ours = w is not None and _on_its_table(plpy, w, TD)
    if not ours:
        on = f"{quote_ident(plpy, TD['table_schema'])}.{quote_ident(plpy, TD['table_name'])}"
        plpy.warning(f"pgscore: trigger {quote_ident(plpy, TD['name'])} on {on} names wiring {rescoring_id}, which "
                     "is not attached "
                     "or whose tables were renamed or dropped; the events were inserted and no profile was rescored",
                     hint=f"detach it with SELECT pgscore.detach_rescoring({quote_literal(plpy, on)}) and attach again "
                          "(pgscore status says what changed)")
        return None
    if role != COMMIT and replicated:
        _wait_for_the_profiles_copy(plpy, GD, w, int(TD["relid"]))
    if role == STAGE:  # the row, where the commit trigger's statements read the new events from (an error
        if not w.two_phase:  # rolls it back with the row itself)
            Stage.put_row(plpy, GD, w, TD["new"])
            return None
        if not SettingStage.put_row(plpy, GD, w, TD["new"]).full:
            return None
        # (a two_phase apply worker's setting grown past SETTING_BYTES: its rows rescored now, as at the commit)
        return on_insert(plpy, GD, {**TD, "args": [TD["args"][0], COMMIT]}, again, replicated)
    if role == COMMIT:  # all the rows staged since the last rescoring, taken out once rescored
        st = GD.get(STAGES, {}).get(rescoring_id)
        if st is None or not st.is_pending(plpy):  # (rescored by the call below, which read the wiring again)
            return None
        try:
            staged = plpy.execute(st.holds)[0]["e"]
        except plpy.SPIError as e:  # made in a transaction that rolled back since: nothing staged in it
            if _state(e) != "42P01":
                raise
            staged = False
        if not staged:  # (its rows rolled back with a subtransaction)
            st.pending = False
            return None
        if w.two_phase and not hold_back(plpy, w)[0]:  # every row's profile held by a prepared transaction
            st.empty(plpy)
            return None
        done = _on_wired(plpy, GD, w, again)
        if done is not REWIRED:
            st.empty(plpy)
    elif replicated:  # the row, where the statements read the new events from; taken out once rescored (an
        stage = (SettingStage if w.two_phase else Stage).put_row(plpy, GD, w, TD["new"])  # error rolls it back
        # with the row itself)
        done = _on_wired(plpy, GD, w, again)
        stage.empty(plpy)
    else:
        done = _on_wired(plpy, GD, w, again)
    if done is REWIRED:  # the row under this id is not the one cached: all of the above from the row as it is
        return on_insert(plpy, GD, TD, again=False, replicated=replicated)
    return done


def _wait_for_the_profiles_copy(plpy, GD, w: Wiring, relid):
    """In a table sync worker's initial copy of a wired event table whose profile table a subscription has yet to
    copy, fail the copy (PostgreSQL starts it again after wal_retrieve_retry_interval): committed first, its
    rescoring would create the missing profiles (or, with 'queue', count nothing), and the profiles' copy would
    then fail on their keys at every retry, for ever (trial T20). Checked once a backend and wiring, since a
    sync worker copies once: the apply worker (no relid) and a copy that found the profiles there pass after.
    Its message and hint say where no retry comes by itself: the copying subscription's disable_on_error (this
    error disables it), the profiles' subscription disabled (nothing copies them)."""
    checked = GD.setdefault(COPY_CHECKED, set())
    if w.id in checked:
        return
    rows = plpy.execute(plpy.prepare(_COPY_BEFORE_PROFILES, ["pg_catalog.oid[]"]), [w.tree])
    if not rows:
        _refuse_a_copy_over_kept_events(plpy, w, relid)
        checked.add(w.id)
        return
    r = rows[0]
    sub = quote_ident(plpy, r["sub"])
    state = {"i": "not started", "d": "copying"}.get(r["state"], r["state"])
    done = (f"it copies once {r['profiles']}'s copy is done (pg_subscription_rel.srsubstate 'r'); pgscore health "
            "lists the copies not done")
    held = r["stalled"] and _holds_rows(plpy, r["profiles_q"])
    if held:  # (session 68) loaded here, or kept: the profiles' copy fails on their keys, and this one waits for ever
        state += f", and {r['profiles']} holds rows here already: that copy fails at every retry on each key the " \
                 "publisher also has (duplicate key value violates unique constraint, in the server log), and this " \
                 "copy waits for it"
        done = "where the server log says so, " + _keep_or_truncate(r["profiles"], sub, r["pubs"] or ["PUBLICATION"])
    if not r["enabled"] and not held:  # nothing copies the profiles until the subscription is enabled
        state += f", subscription {sub} disabled"
        done = f"ALTER SUBSCRIPTION {sub} ENABLE: this copy runs once {r['profiles']}'s copy is done"
    if r["disables"]:  # PostgreSQL disables the subscription at this error: nothing retries, the profiles not copied
        own = quote_ident(plpy, r["own"])
        then = f"subscription {own} has disable_on_error = true: this error disables it"
        hint = (f"ALTER SUBSCRIPTION {own} SET (disable_on_error = false), then ALTER SUBSCRIPTION {own} ENABLE: "
                f"this copy then waits for the profiles' ({done}); set disable_on_error again once both are copied")
    else:
        then = "PostgreSQL starts this copy again after wal_retrieve_retry_interval"
        hint = done if not r["enabled"] or held else f"nothing to do: {done}"
    raise PgscoreError(
        f"the initial copy of {r['copying']} waits for subscription {sub}'s initial copy "
        f"of {r['profiles']} ({state}), the profiles its events name (wiring {int(w.id)}): copied first, the events' "
        f"rescoring would create those profiles, on whose keys the profiles' copy would then fail at every retry; "
        f"nothing was copied, and {then}", sqlstate="55000", hint=hint)


def _refuse_a_copy_over_kept_events(plpy, w: Wiring, relid):
    """(session 68) In a table sync worker's initial copy of a wired event table that held events before it (kept
    from a former subscription and counted then, or loaded here), fail the copy: every event it copies would be
    counted again (a counter doubled), beside a row of the same event kept. A copy into the empty table a
    subscription starts with sees its own rows alone. Not where another subscription writes the table too (the
    events of several publishers in one table): its rows are the other's."""
    rows = plpy.execute(plpy.prepare(_COPY_OF_EVENTS, ["pg_catalog.oid"]), [relid])
    if not rows or rows[0]["shared"]:
        return
    r = rows[0]
    kept = plpy.execute(f"SELECT EXISTS (SELECT 1 FROM {r['copying_q']} AS e WHERE e.xmin OPERATOR(pg_catalog.<>) "
                        "pg_catalog.pg_current_xact_id()::pg_catalog.xid) AS kept")[0]["kept"]
    if not kept:
        return
    own = quote_ident(plpy, r["own"])
    way = (f"ALTER SUBSCRIPTION {own} SET (disable_on_error = false), then ENABLE it, and " if r["disables"] else "")
    raise PgscoreError(
        f"the initial copy of {r['copying']} by subscription {own} goes into a table that holds events already (kept "
        f"from a former subscription, or written here): each event it copies would be counted again in "
        f"{w.profiles.name} (wiring {int(w.id)}), a counter doubled for events counted once already; nothing was "
        "copied, and " + (f"subscription {own} has disable_on_error = true: this error disables it"
                          if r["disables"] else "PostgreSQL starts this copy again after wal_retrieve_retry_interval"),
        sqlstate="55000",
        hint=way + _keep_or_truncate(r["copying"], own, r["pubs"] or ["PUBLICATION"]).replace(
            "for the copy to bring the publisher's",
            "for the copy to bring the publisher's, and once copied recount the counters from the events the table "
            f"holds with pgscore backfill --table {w.events.name}"))


def _holds_rows(plpy, name) -> bool:
    """Whether table `name` (quoted, qualified) holds a row this transaction sees: one a subscription has yet to
    copy holds none but those written here (loaded, kept from a former subscription, or made by an events' copy),
    its copy's own rows uncommitted. False where the role may not read it (an error path's question)."""
    try:
        return plpy.execute(f"SELECT EXISTS (SELECT 1 FROM {name}) AS held")[0]["held"]
    except plpy.SPIError:
        return False


def _keep_or_truncate(table, sub, pubs) -> str:
    """The way on where `table` holds rows here that a subscription `sub` (quoted; of publications `pubs`, a list
    of quoted names) has yet to copy: copy none of the publisher's rows of it (copy_data = false for that table
    alone: taken out of the publication and added again), or empty it here for the copy."""
    # (review r3) ALTER PUBLICATION takes one name: of several, the one that publishes the table
    pub, which = (pubs[0], "") if len(pubs) == 1 else ("P", f" (P: the one of {', '.join(pubs)} that publishes it)")
    return (f"keep this server's rows and copy none of the publisher's: on the publisher ALTER PUBLICATION {pub} "
            f"DROP TABLE {table}{which}, here ALTER SUBSCRIPTION {sub} REFRESH PUBLICATION, then on the publisher "
            f"ALTER PUBLICATION {pub} ADD TABLE {table} and here ALTER SUBSCRIPTION {sub} REFRESH PUBLICATION WITH "
            f"(copy_data = false); or TRUNCATE {table} here for the copy to bring the publisher's (docs/operations.md, "
            "'A fleet: events by logical replication')")


def _on_wired(plpy, GD, w: Wiring, again):
    """on_insert's rescoring of the events, on the wiring of the table they are in. A superuser's events whose
    profile table runs another role's code (_others_code) are kept, their profiles queued for a retry by a role
    that is not (a strict wiring's INSERT fails): its UPDATE would run that code as the superuser."""
    if w.missing:
        return _broken(plpy, GD, w, BrokenWiring(f"column(s) missing: {', '.join(w.missing)}"))
    others = _others_code(plpy, GD, w)  # (one catalog row read for a caller that is no superuser)
    if others:
        how = "pgscore.retry_failed()"
        return _broken(plpy, GD, w, PgscoreError(
            f"{superuser.said(w.profiles.name, others)}: retry it with SELECT * FROM {how} as a role that is "
            "not a superuser (its owner, say)", sqlstate=INSUFFICIENT_PRIVILEGE),
            hint=superuser.way_out(f"SELECT * FROM {how}"), again=True)
    try:
        done = _rescore(plpy, GD, w, again)
    except plpy.SPIError as e:  # a statement of the wiring's own fails for every profile
        if _state(e) == INSUFFICIENT_PRIVILEGE:
            sequences = _sequences_denied(plpy, w) if w.missing_profile == "create" else []
            seq = ("" if not sequences else
                   f"creating a missing profile in {w.profiles.name} calls "
                   + ", ".join(f"{seq} (the default of column {col})" for col, seq in sequences)
                   + f": the role inserting into {w.events.name} needs USAGE on "
                   + ("it" if len(sequences) == 1 else "them")
                   + " (GRANT USAGE ON SEQUENCE ...), or attach with p_missing_profile => 'queue'")
            # (the sequence or the policy alone only where the role holds every grant the statement needs: a
            # missing one is named with them, as one failure would follow another; a policy, not a grant, is
            # told by the role's privileges, since the message's words depend on lc_messages)
            held = _privileges_held(plpy, w)
            if sequences and held["grants"]:  # a column default's nextval: the grant is on the sequence
                hint = seq
            elif not sequences and held["row_security"]:
                hint = (f"a row-level security policy on {w.profiles.name} keeps the role inserting into "
                        f"{w.events.name} from writing the profiles its events name: let the policy's USING and "
                        "WITH CHECK cover them, or insert those events as a role it does")
            else:
                hint = (f"the role inserting into {w.events.name} needs SELECT and UPDATE on {w.profiles.name} "
                        "(INSERT too, where missing profiles are created)"
                        + (f", SELECT on {w.events.name} (a counter recounts it)" if w.recomputes else "")
                        + " and pgscore_app" + (f"; {seq}" if seq else ""))
            raise PgscoreError(f"rescoring {w.profiles.name} for {w.events.name} failed: {_message(e)}; the events "
                               "were not inserted (their counters could not be written)", sqlstate=INSUFFICIENT_PRIVILEGE,
                               hint=hint, **spi_objects(e)) from e
        # (a strict wiring's row errors, a constraint say, are raised by the paths above on purpose, as they are)
        if _must_raise(e) or (w.strict and not _unbuildable(e)):
            raise
        done = _broken(plpy, GD, w, e)
    if done is not REWIRED:  # (REWIRED: the statement runs again, on the wiring read afresh)
        _said_again(plpy, GD, w)
    return done


_SEQUENCES_DENIED = (
    "SELECT pg_catalog.quote_ident(a.attname) AS col, d.refobjid::pg_catalog.regclass::pg_catalog.text AS seq "
    "FROM pg_catalog.pg_attrdef AS ad JOIN pg_catalog.pg_attribute AS a ON a.attrelid OPERATOR(pg_catalog.=) ad.adrelid "
    "AND a.attnum OPERATOR(pg_catalog.=) ad.adnum JOIN pg_catalog.pg_depend AS d ON d.classid OPERATOR(pg_catalog.=) "
    "'pg_catalog.pg_attrdef'::pg_catalog.regclass AND d.objid OPERATOR(pg_catalog.=) ad.oid AND d.refclassid "
    "OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass JOIN pg_catalog.pg_class AS c ON c.oid "
    "OPERATOR(pg_catalog.=) d.refobjid AND c.relkind OPERATOR(pg_catalog.=) 'S' "
    "WHERE ad.adrelid OPERATOR(pg_catalog.=) $1 AND NOT a.attisdropped "
    # (in a CASE: the planner may test a row of pg_depend before the join keeps sequences alone)
    "AND CASE WHEN c.relkind OPERATOR(pg_catalog.=) 'S' THEN NOT pg_catalog.has_sequence_privilege(d.refobjid, "
    "'USAGE, UPDATE') ELSE false END ORDER BY a.attnum")


def _sequences_denied(plpy, w: Wiring) -> list:
    """The (column, sequence) pairs of the profile table's column defaults that call a sequence the inserting role
    may not advance (nextval needs USAGE or UPDATE on it): creating a missing profile fails on them with 42501,
    the table's own grants and policies aside (an error path's question)."""
    try:
        return [(r["col"], r["seq"]) for r in plpy.execute(plpy.prepare(_SEQUENCES_DENIED, ["pg_catalog.oid"]),
                                                            [w.profiles.oid])]
    except plpy.SPIError:
        return []


def _privileges_held(plpy, w: Wiring) -> dict:
    """What the inserting role holds, for the hint of a statement refused 42501 (an error path's question; each
    False when it cannot be answered): grants, every grant the wiring's statements need but a sequence (SELECT,
    UPDATE and, where missing profiles are created, INSERT on the profile table, SELECT on the event table where
    a counter recounts it, and pgscore_app); row_security, whether a row-level security policy, not a missing
    grant, is what kept it from the profiles (it holds SELECT and UPDATE on the table, and row-level security
    applies to it there)."""
    try:  # (one privilege a call: has_table_privilege of a list is true for any one of them)
        return plpy.execute(plpy.prepare(
            "SELECT h.s AND h.u AND (NOT $3 OR pg_catalog.has_table_privilege($1, 'INSERT')) "
            "AND (NOT $4 OR pg_catalog.has_table_privilege($2, 'SELECT')) "
            "AND pg_catalog.pg_has_role('pgscore_app', 'USAGE') AS grants, "
            "pg_catalog.row_security_active($1) AND h.s AND h.u AS row_security "
            "FROM (SELECT pg_catalog.has_table_privilege($1, 'SELECT') AS s, "
            "pg_catalog.has_table_privilege($1, 'UPDATE') AS u) AS h",
            ["pg_catalog.oid", "pg_catalog.oid", "pg_catalog.bool", "pg_catalog.bool"]),
            [w.profiles.oid, w.events.oid, w.missing_profile == "create", bool(w.recomputes)])[0]
    except plpy.SPIError:
        return {"grants": False, "row_security": False}


_COLUMNS_HINT = ("pgscore status names the wiring's columns that are missing: rename them back (then SELECT * FROM "
                 "pgscore.retry_failed()), or detach it with pgscore.detach_rescoring and attach it again")


def _current_user(plpy) -> str:
    return plpy.execute("SELECT CURRENT_USER AS u")[0]["u"]


def _unbuildable(e) -> bool:
    """Errors of SQLSTATE class 42 (an undefined column or table, a privilege): the wiring's statements
    cannot run for any profile, not a reason in some rows."""
    return (_state(e) or "").startswith("42")


def _replays(w: Wiring) -> bool:
    """Whether a profile whose counters failed is queued with the ids of the events they missed, for
    retry_failed to replay (the event table has an id column, and a counter is one retry_failed replays)."""
    return (w.event_id_column is not None and w.event_id_column in w.events.columns
            and any(c.kind in REPLAYED for c in w.counters))


def _not_recounted(plpy, w: Wiring, replay=False) -> str:
    """What a retry makes up for of the counters a profile's events did not change: it recounts the windowed
    and recomputed ones (they read the event table); with `replay` (the queue row names the events, _replays),
    it replays the count, add, max and min ones from those events (REPLAYED), and never the others (set, last:
    a later statement's value replaces theirs), which miss those events for good; said in the queue's reason,
    where "no counter changed" alone read as if a retry would catch up."""
    recounted = [c.column for c in w.counters if c.recomputed]
    replayed = [c.column for c in w.counters if replay and c.kind in REPLAYED]
    lost = [c.column for c in w.counters if not c.recomputed and c.column not in replayed]
    recounted, replayed, lost = ([quote_ident(plpy, c) for c in cs] for cs in (recounted, replayed, lost))
    done = ([f"recounts {', '.join(recounted)}"] if recounted else []) + (
        [f"replays {', '.join(replayed)} from these events (their ids in the queue row's cause, "
         "uncounted_event_ids)"] if replayed else [])
    if not lost:
        return f"retry_failed {' and '.join(done)}" if done else ""
    return (f"retry_failed {' and '.join(done)} but not " if done else
            "retry_failed recounts none of them: not ") + f"{', '.join(lost)}: those miss these events for good"


def _with_recount(plpy, reason: str, w: Wiring, replay=False) -> str:
    said = _not_recounted(plpy, w, replay and _replays(w))
    return f"{reason}; {said}" if said else reason


def _broken(plpy, GD, w: Wiring, e, hint=None, again=False):
    """The wiring's statements cannot be made or run at all: most often a column it counts into, writes
    the score or scored_at to, or reads a key from was renamed or dropped since it was attached. The
    events are kept (unless the wiring is strict), no counter changes, and every profile they name is
    queued with the reason; the wiring and its tables' columns are read again at the next statement (kept,
    with `again`: the wiring is sound, the caller is not one to run it, _on_wired). `hint`: what to do,
    where the error's SQLSTATE does not say it."""
    if not again:
        forget(GD, w)
    message = f"rescoring {w.profiles.name} for {w.events.name} fails: {_message(e)}"
    if hint is None:
        hint = _COLUMNS_HINT if _unbuildable(e) else "fix the cause, then SELECT * FROM pgscore.retry_failed()"
    if w.strict:
        raise PgscoreError(message + "; the wiring is strict, so the INSERT fails", sqlstate=_state(e) or "P0001",
                           hint=hint, **spi_objects(e))
    keys = []
    if w.event_key in w.events.columns:  # else no profile to name
        try:  # (not Sql.keys: a Sql cannot be made for a wiring that lacks its profile key)
            keys = plpy.execute(keys_sql(quote_ident(plpy, w.event_key), w.source))[0]["keys"] or []
        except plpy.SPIError as e2:  # renamed since the wiring was read
            if _must_raise(e2):
                raise
    if keys:
        named = (w.event_id_column is not None and w.event_id_column in w.events.columns)  # the events, by key
        plan = plpy.prepare(queue_sql(ids_sql(quote_ident(plpy, w.event_key), quote_ident(plpy, w.event_id_column),
                                              w.source), oids=w.queue_oids)
                            if named else queue_text(w), _QUEUE_TYPES)
        queue(plpy, w, plan, [Failure(keys, _with_recount(plpy, f"{message}; no counter changed", w, named), _state(e),
                                      uncounted=named)], via="trigger", hint=hint, GD=GD)
    else:
        # (review r2, session 69) not held back as a queued failure's is: no profile can be named, so nothing is
        # queued and no counter changed; this WARNING is these events' only record (error_queue, health and
        # metrics() count none of them), said at every statement
        plpy.warning(f"pgscore: {message}; the events were kept and no profile was rescored", hint=hint)
    return None


def _rescore(plpy, GD, w: Wiring, again=True):
    plans = w.last
    if plans is None or getattr(plans.model, "mismatched_env", None) is not None:
        # (a version loaded under pgscore.allow_version_mismatch is resolved again at each statement, as the row
        # path's: Runtime.resolve scores it only while the setting is on)
        plans = _plans(plpy, GD, w)
    if plans.fast is not None and not w.shadowing and _fast(plpy, GD, w, plans):
        w.last = plans
        return None
    if again and w.rewired(plpy):  # before anything is written with it (the fast statement checks it itself)
        forget(GD, w)
        return REWIRED
    try:
        r, keys, failures = _read(plpy, w, plans)
        if r["live"] != plans.model_id:  # deployed, rolled back or retired since these plans were made
            plans = _plans(plpy, GD, w)
            r, keys, failures = _read(plpy, w, plans)
        elif plans.model is None:  # still none live: the reason as it is now (a model deployed and retired
            plans = _plans(plpy, GD, w)  # since this backend found there was none, say)
    except plpy.SPIError as e:  # the counters or the profiles cannot be read: keep the events, queue all
        if w.strict or _must_raise(e):
            raise
        keys = plpy.execute(plans.sql.keys())[0]["keys"] or []
        failures = [Failure(keys, f"reading the profiles failed: {_message(e)}", _state(e))]
        _counters_only(plpy, w, plans, keys, failures, lock=True)
        return queue(plpy, w, plans.queue, failures, via="trigger", GD=GD)
    # a trigger or generated column came or went, or the key's type changed: read it all again
    if (r["computed"] != w.computed or r["retyped"]) and again:
        # (the profiles stay locked; a profile created above is found this time)
        forget(GD, w)
        w2 = wiring(plpy, GD, w.id, w.replicated)
        if w2 is not None and not w2.missing:
            return _rescore(plpy, GD, w2, again=False)
    _null_keys(plpy, GD, w, r["null_keys"])  # (once, whichever read is the statement's last)
    w.last = plans
    w.ever_shadowed = bool(r["shadowed"])
    w.shadowing = _shadowing(plpy, w, plans.model_id) if w.ever_shadowed and plans.model is not None else ()
    model, scores, labels = plans.model, None, None
    data, applied = r["data"], False
    if keys and model is not None and plans.apply is not None:
        try:  # the counters first, the features from the rows they leave (Wiring.computed)
            ra = plpy.execute(plans.apply)[0]
            keys, data, applied = ra["keys"] or [], ra["data"], True
        except plpy.SPIError as e:
            if w.strict or _must_raise(e):
                raise
            # the counters of the profiles that take them, in parts; the others queued for their reason
            before = len(failures)
            _counters_only(plpy, w, plans, keys, failures)
            bad = {str(k) for f in failures[before:] for k in f.keys}
            rest = [str(k) for k in keys if str(k) not in bad]
            if not rest:
                return queue(plpy, w, plans.queue, failures, via="trigger", GD=GD)
            try:  # the others took their counters: scored from their rows as those counters left them
                if plans.reread is None:
                    plans.reread = plpy.prepare(plans.sql.reread(), ["pg_catalog.text[]"])
                rr = plpy.execute(plans.reread, [rest])[0]
                keys, data, applied = rr["keys"] or [], rr["data"], True
            except plpy.SPIError as e2:
                if _must_raise(e2):
                    raise
                if _of_some_rows(e2):  # some rows' values (a text cell that is no number): the others read in parts
                    keys, data, _ = _features_apart(plpy, plans.reread, rest, e2, failures,
                                                    "not rescored: reading the features failed: {}")
                    applied = True
                    if not keys:
                        return queue(plpy, w, plans.queue, failures, via="trigger", GD=GD)
                else:
                    failures.append(Failure(rest, f"not rescored: reading the features failed: {_message(e2)}",
                                            _state(e2)))
                    return queue(plpy, w, plans.queue, failures, via="trigger", GD=GD)
    if keys:
        if model is None:
            failures.append(Failure(keys, plans.error.message, plans.error.sqlstate))
        elif not applied and "good" in r:  # read in parts (_read_rows): the others scored together, and
            # every profile written (its counters), those whose features could not be read with no score
            scores, labels = _score_found(model, keys, r["good"], data, failures, plans.fmt,
                                          w.label_column is not None, _word_reader(plpy, w, plans.sql))
        else:  # (read with the counters' new values unless applied: then from the rows they left)
            scores, labels = _score(model, keys, data, failures, plans.fmt, w.label_column is not None,
                                    _word_reader(plpy, w, None if applied else plans.sql))
    if w.strict and failures:
        f = failures[0]
        raise PgscoreError(f"rescoring {w.profiles.name} for {w.events.name} failed for {quote_ident(plpy, w.profile_key)} "
                           f"{', '.join(map(str, f.keys[:5]))}: {f.reason}", sqlstate=f.sqlstate or "P0001")
    if scores is not None:  # (where some keys' counters fail, every write aggregates its own keys' events alone)
        _write(plpy, w, plans, r["queued"], keys, scores, labels, failures, keyed=bool(r.get("faulty")))
        if w.shadowing:
            _shadow(plpy, GD, w, plans, keys, scores, failures)
    elif keys and not applied:
        _counters_only(plpy, w, plans, keys, failures)
    if failures:
        queue(plpy, w, plans.queue, failures, via="trigger", GD=GD)
    return None


def _shadowing(plpy, w: Wiring, live_model_id) -> tuple:
    """The model_ids scored in shadow now (asked where the model had a shadow once), but `live_model_id`, the
    version the statement's read found live: this is another statement, which sees what committed since that
    read (READ COMMITTED), where that version may have been replaced and marked a shadow; it wrote the profiles,
    and is not scored again as its own shadow."""
    if w._shadows is None:
        w._shadows = plpy.prepare(f"SELECT {Sql(plpy, w, None).shadows()} AS ids")
    return tuple(m for m in plpy.execute(w._shadows)[0]["ids"] or () if m != live_model_id)


class ShadowPlans:
    """A shadow version's statements for one wiring: its features read from the profiles the live version
    wrote, and its audit rows."""

    def __init__(self, plpy, w: Wiring, model, live):
        sql = Sql(plpy, w, model)
        self.model, self.live_model_id, self.fmt = model, live.model_id, sql.fmt
        # a profile table of one float8[] column features, read by the live version (no counters), holds its features
        # in its order, and the shadow reads it by position: one of other features or another order is skipped, each
        # statement a failure (55000), wherever the state came from (set_shadow, attach_rescoring and the deployments'
        # trigger refuse it; a restore, a hand-written row of pgscore.shadows do not ask them). Checked as the plans
        # are made, once per live version: nothing for a model without a shadow
        why = (shadowing.order_differs(model.feature_names, live.feature_names, live.version, model.version)
               if w.by_position else None)
        self.misread = None if why is None else Failure(
            [], f"{w.profiles.name}'s float8[] column features {why}: read by position, every profile would be scored "
                "in shadow on values that are not its features (a profile table of a column per feature is read by "
                "name)", shadowing.READ_BY_POSITION)
        # a profile table read by name whose score column the shadow reads: it reads the profiles after the live
        # version wrote them, so that feature would be the new score, not what the column held. Skipped, each
        # statement a failure (22023), as score_table skips a shadow of the column it scores into (set_shadow,
        # attach_rescoring and the deployments' trigger refuse it: pgscore.score_columns_read). (A scored_at
        # column, a timestamp, is no number: reread() below refuses a shadow reading it, 42846, as any such column.)
        if self.misread is None and not w.by_position and w.score_column in model.feature_names:
            col = w.score_column
            self.misread = Failure(
                [], f"{column_of(plpy, w.profiles, col)}, the score column {w.events.name} rescores into, "
                    "is one of its features: read after the live version wrote it, each profile would be scored in shadow on "
                    "the live version's new score, not on the value the column held (set_shadow, "
                    "attach_rescoring and a go-live refuse such a shadow)",
                "22023")
        self.read = plpy.prepare(sql.reread(), ["pg_catalog.text[]"])
        self.log = plpy.prepare(sql.shadow_log(live.model_id), ["pg_catalog.text[]", *_WRITE_TYPES]
                                + (["pg_catalog.text[]"] if model.multiclass else []))


SHADOW_RETRY_SECONDS = 60  # a shadow that could not be loaded or planned is tried again after this long


def _shadow(plpy, GD, w: Wiring, plans: Plans, keys, scores, failures):
    """Score the versions in shadow (w.shadowing) on the profiles the live version scored and wrote in this
    statement, and log their scores (source 'shadow'). Never raises for a shadow's own failure (its load, its
    plans, its statements, the model raising): it is counted (pgscore.shadow_failures), a WARNING names the
    version, the table and why once per session, version and SQLSTATE (shadowing.failed), and the statement
    goes on; errors of the transaction (a cancel, a deadlock) are raised as everywhere."""
    import time

    from pgscore.serving import Runtime

    bad = {str(k) for f in failures for k in f.keys}
    done = [str(k) for k, s in zip(keys, scores) if s is not None and str(k) not in bad]
    if not done:
        return
    for model_id in w.shadowing:
        sp = w.shadow_plans.get(model_id)
        if isinstance(sp, tuple) and time.monotonic() - sp[1] < SHADOW_RETRY_SECONDS:
            _shadow_failed(plpy, GD, w, model_id, sp[0], len(done))
            continue
        if not isinstance(sp, ShadowPlans) or sp.live_model_id != plans.model_id:
            try:  # (the version loaded: pgscore.load_model verifies it; cached by the runtime)
                sp = w.shadow_plans[model_id] = ShadowPlans(plpy, w, Runtime.get(plpy, GD).by_id(model_id),
                                                            plans.model)
            except plpy.SPIError as e:
                if of_the_transaction(_state(e)):
                    raise
                w.shadow_plans[model_id] = (Failure([], _message(e), _state(e)), time.monotonic())
            except PgscoreError as e:
                if of_the_transaction(e.sqlstate):  # (a cancel met while loading the shadow: the statement's)
                    raise
                w.shadow_plans[model_id] = (Failure([], e.message, e.sqlstate), time.monotonic())
            if isinstance(w.shadow_plans[model_id], tuple):
                _shadow_failed(plpy, GD, w, model_id, w.shadow_plans[model_id][0], len(done))
                continue
        if sp.misread is not None:
            _shadow_failed(plpy, GD, w, model_id, sp.misread, len(done))
            continue
        model, shadow_failures = sp.model, []
        try:
            try:
                rr = plpy.execute(sp.read, [done])[0]
                skeys, sdata = rr["keys"] or [], rr["data"]
            except plpy.SPIError as e:
                if of_the_transaction(_state(e)) or not _of_some_rows(e):
                    raise
                # a value some profiles hold (a text cell that is no number, in a column the live version may not
                # read): the others read in parts, as the live version's read is, each part a subtransaction of
                # its own; those at fault in shadow_failures, each part with its reason
                skeys, sdata, _ = _features_apart(plpy, sp.read, done, e, shadow_failures,
                                                  "reading the features failed: {}")
            if skeys:
                sscores, slabels = _score(model, skeys, sdata, shadow_failures, sp.fmt,
                                          word_of=_word_reader(plpy, w))
                args = [skeys, pgarray.literal(sscores), w.id, w.events.name, model.model_id]
                plpy.execute(sp.log, args + [slabels] if model.multiclass else args)
        except plpy.SPIError as e:
            if of_the_transaction(_state(e)):
                raise
            w.shadow_plans.pop(model_id, None)  # (planned again at the next statement: a column back, say)
            _shadow_failed(plpy, GD, w, model_id, Failure([], _message(e), _state(e)), len(done))
            continue
        _shadow_failures_by_state(plpy, GD, w, model_id, shadow_failures)


def _shadow_failures_by_state(plpy, GD, w: Wiring, model_id, failures):
    """Count the profiles a shadow did not score in a statement (`failures`, each with its reason): one count
    per SQLSTATE, of its profiles, naming their first keys, with the first reason of that SQLSTATE (a statement
    whose profiles failed with two SQLSTATEs counted them all under the first, and warned of that one alone)."""
    by_state = {}
    for f in failures:
        by_state.setdefault(f.sqlstate or shadowing.MODEL_RAISED, []).append(f)
    for state, fs in by_state.items():
        keys = [k for f in fs for k in f.keys]
        _shadow_failed(plpy, GD, w, model_id, Failure(keys, fs[0].reason, state), len(keys),
                       of=f" ({quote_ident(plpy, w.profile_key)} {', '.join(map(str, keys[:5]))})")


def _shadow_failed(plpy, GD, w: Wiring, model_id, f: Failure, n, of=""):
    label = w.shadow_labels.get(model_id)
    if label is None:
        rows = plpy.execute(plpy.prepare("SELECT m.version FROM pgscore.models m WHERE m.model_id "
                                         f"{EQ} $1", ["pg_catalog.int8"]), [model_id])
        label = f"{w.model_name} v{rows[0]['version']}" if rows else f"model_id {model_id}"
        w.shadow_labels[model_id] = label
    shadowing.failed(plpy, GD, model_id, label, w.model_name, w.profiles.name, f.sqlstate, n,
                     f"{n} profile(s) of {w.profiles.name}{of}", f.reason)


def _on_its_table(plpy, w: Wiring, TD) -> bool:
    """Whether the trigger fires on the table the wiring names. Its statements name the event table, so
    a wired table renamed, and another created under its old name, would have its events counted in the
    other's place. Checked by name at each call (a tuple compare once seen), by the server where the names
    differ only in how they are written (a temporary table, say)."""
    seen = (TD["table_schema"], TD["table_name"])
    if seen == w.seen_as:
        return True
    found = plpy.execute(plpy.prepare(_NAMED, ["pg_catalog.text"]), [w.events.name])[0]["oid"]
    if found is None or str(found) != TD["relid"]:
        return False
    w.seen_as = seen
    return True


def _plans(plpy, GD, w: Wiring, retry=False):
    """Plans for the live version of the wiring's model (resolved now), or counters-only plans that
    carry the reason there is none."""
    from pgscore.serving import Runtime

    try:
        model = Runtime.get(plpy, GD).resolve(w.model_name)
    except PgscoreError as e:  # no live model, or it cannot be loaded
        if of_the_transaction(e.sqlstate):  # a cancel or statement_timeout met as the load ended: the INSERT's
            raise  # (it was taken for no model, and the next resolve found the model loaded and scored: 57014 lost)
        return w.plans_for(plpy, None, retry, error=e)
    try:
        return w.plans_for(plpy, model, retry)
    except PgscoreError:  # the profile table lacks a feature's column, or did when its columns were read
        w.profiles = table(plpy, w.profiles.oid, w.profiles.name)
        w.plans = {}
    try:
        return w.plans_for(plpy, model, retry)
    except PgscoreError as e:
        return w.plans_for(plpy, None, retry, error=e)


def _fast(plpy, GD, w: Wiring, plans: Plans) -> bool:
    """Rescore with the statement that scores in SQL; False (nothing written) when it cannot do it all:
    a profile is missing, a row's features would take score_row's slow path, the live version changed,
    or the statement raised. The general path then finds out which and why. Where a counter reads the
    event table, the statement runs first without a lock before it (Sql.fast's `optimistic`), unless
    the previous statement's events named several profiles; when that does not write it all, again
    after the lock."""
    fast, optimistic = plans.fast_plans(w)
    if optimistic is not None and not w.many:
        r = _run_fast(plpy, w, plans, optimistic)
        if r is not None and r["written"] == r["wanted"]:
            _null_keys(plpy, GD, w, r["null_keys"])
            return True
    r = _run_fast(plpy, w, plans, fast)
    if r is None or not r["ok"]:
        return False
    _null_keys(plpy, GD, w, r["null_keys"])
    return True


def _run_fast(plpy, w: Wiring, plans: Plans, plan):
    try:
        rows = plpy.execute(plan, [w.id, w.events.name, plans.model_id])
    except plpy.SPIError as e:
        if _must_raise(e):  # not a reason to try another way
            raise
        return None
    if not rows:  # (the optimistic statement, whose events name several keys: it gave up before aggregating them)
        w.many = True
        return None
    r = rows[0]
    w.many = r["wanted"] > 1
    return r


def _null_keys(plpy, GD, w: Wiring, n):
    """The WARNING of a statement's events with a NULL key, said as a broken wiring's (_held_back: once, then at
    most once an interval, the next one counting the statements and events not said; session 70, h4: it was said
    at every statement, an application that inserts such events writing 2 lines a statement into the server log).
    It is not their only record: the events are kept in the event table, where the key IS NULL finds them."""
    if n:
        ek = quote_ident(plpy, w.event_key)
        msg = f"{int(n)} event(s) inserted into {w.events.name} have a NULL {ek}"
        if w.strict:
            raise PgscoreError(msg + "; the wiring is strict, so the INSERT fails", sqlstate="23502")
        said = _held_back(plpy, GD, w, throttle.NULL_KEY, int(n), event_key=ek)
        if said is False:
            return
        plpy.warning(f"pgscore: {msg}; they were kept and rescored no profile",
                     **({"detail": said} if said else {}))


def _said_again(plpy, GD, w: Wiring):
    """(session 70, h4) At the end of each of the wiring's statements: the counts held back of its failures that
    no WARNING said, where an interval has passed since the last one and this statement did not fail so
    (throttle.due: dict work alone unless one is due). Before, the last count was said by the next WARNING of
    the failure alone: where the failures stopped, never."""
    if GD is None:
        return
    for key, held in throttle.due(GD.get(throttle.GD_KEY), w.id):
        plpy.warning(throttle.stopped(held, key, w.profiles.name, w.events.name, quote_ident(plpy, w.event_key)))


def _read(plpy, w: Wiring, plans: Plans):
    """Lock and read the affected profiles; create or queue the missing ones (the caller warns about NULL keys:
    _null_keys)."""
    failures, unread = [], []  # (unread: the profiles whose features the last read could not read, _read_rows)
    faults = Faults()  # (the keys whose events' counters fail, found by the first read that fails: _read_rows)
    r, keys = _read_rows(plpy, w, plans, unread, faults)
    if r["wanted"] > len(keys):
        if r["rls"]:  # (a profile a policy keeps from the role is no missing one)
            _refuse_unlockable(plpy, w, plans)
        if plans.create is not None:
            uncreated = set(faults.missing)  # (a key whose events' counters fail is not created: its reason says so)
            try:
                if faults.missing:  # the others alone
                    creatable = [k for k in plpy.execute(plans.sql.missing_keys())[0]["keys"] or []
                                 if k not in faults.missing]
                    if creatable:
                        if plans.create_for is None:
                            plans.create_for = plpy.prepare(plans.sql.create(keyed=True), ["pg_catalog.text[]"])
                        plpy.execute(plans.create_for, [creatable])
                else:
                    plpy.execute(plans.create)
            except plpy.SPIError as e:  # a NOT NULL column without a default, a CHECK, a key no partition takes
                if w.strict or _must_raise(e):
                    raise
                missing = [k for k in plpy.execute(plans.sql.missing_keys())[0]["keys"] or []
                           if k not in faults.missing]
                if plans.create_for is None:
                    plans.create_for = plpy.prepare(plans.sql.create(keyed=True), ["pg_catalog.text[]"])

                def create(keys, _scores, _labels):
                    plpy.execute(plans.create_for, [keys])

                def not_created(keys, _scores, e):
                    uncreated.update(keys)
                    failures.append(Failure(keys, f"{w.profiles.name} has no row with this "
                                                  f"{quote_ident(plpy, w.profile_key)} and "
                                                  f"creating it failed: {_message(e)}; no counter changed", _state(e)))

                # where the reason lies in some rows, the others are created (and counted), as _write writes them;
                # not where it lies in every row (each part would fail, each a scan of the statement's events)
                if _every_row_fails(plpy, w, e):
                    not_created(missing, None, e)
                else:
                    _in_parts(plpy, create, missing, [None] * len(missing), None, not_created, error=e)
                # (and where another session created one of them meanwhile, neither found above nor missing now:
                # the read below finds it, and counts its events)
                created = (len(uncreated) - len(faults.missing) < len(missing)
                           or len(keys) + len(missing) + len(faults.missing) < r["wanted"])
            else:
                created = True
            if created:
                unread = []  # (the read below names them again, with the profiles created)
                r, keys = _read_rows(plpy, w, plans, unread, faults)  # locks, too, a profile another transaction
                # created meanwhile
                if r["wanted"] > len(keys) + len(uncreated):  # neither created nor found
                    missing = [k for k in plpy.execute(plans.sql.keys(missing_only=True))[0]["keys"] or []
                               if k not in uncreated]
                    queued = set(plpy.execute(plpy.prepare(_QUEUED_OF, ["pg_catalog.int8", "pg_catalog.text[]"]),
                                              [w.id, missing])[0]["keys"] or []) if missing else set()
                    if queued:  # queued while missing (Sql.create leaves them)
                        failures.append(Failure(sorted(queued), _queued_missing(plpy, w), "P0002"))
                        missing = [k for k in missing if k not in queued]
                    if missing and not r["rls"]:  # a key that changes as the profile key's type, say
                        failures.append(Failure(missing, f"{w.profiles.name} has no row with this "
                                                         f"{quote_ident(plpy, w.profile_key)} "
                                                         "after creating it (does the key change when cast to "
                                                         f"{quote_ident(plpy, w.profile_key)}'s type?); no counter "
                                                         "changed", "P0002"))
                    elif missing:
                        raise _hidden(plpy, w, missing)
        else:
            missing = plpy.execute(plans.sql.keys(missing_only=True))[0]["keys"] or []
            failures.append(Failure(missing, f"{w.profiles.name} has no row with this "
                                             f"{quote_ident(plpy, w.profile_key)}; no counter "
                                             "changed", "P0002"))
    # (the events with a NULL key: _rescore warns of them, once, after its last read; a statement is read again
    # when the live version changed since its plans were made, and both reads warned)
    if faults.bad:  # neither counted nor scored: queued with what failed (first: their reason is the one queued)
        keys = [k for k in keys if k not in faults.bad]
        return r, keys, faults.failures(plpy, w) + unread + failures
    return r, keys, unread + failures


class Faults:
    """The keys of a statement whose new events' counters cannot be aggregated (an event's counter expression
    raises: 10 / 0, 'n/a' cast to numeric), found by _faulty_counters after the statement's read failed for
    some rows' values: `bad` {key text: (reason, SQLSTATE)}, `missing` those of them with no profile (not
    created), `probed` whether the search ran (once a statement)."""

    def __init__(self):
        self.bad, self.missing, self.probed = {}, set(), False

    def failures(self, plpy, w: Wiring) -> list:
        """A Failure per key: a profile that exists keeps its counters as they were, and its queue row names the
        events they missed (retry_failed replays them once the event is corrected); one that is missing is not
        created (retry_failed does not create it; backfill_rescoring does, and counts it)."""
        out = []
        for k, (reason, state) in self.bad.items():
            if k in self.missing and w.missing_profile != "create":  # (queued as missing: _read's P0002)
                continue
            if k in self.missing:
                out.append(Failure([k], f"{w.profiles.name} has no row with this {quote_ident(plpy, w.profile_key)}, "
                                        f"and it was not created: {reason}; no counter changed; once the event is "
                                        "corrected, SELECT pgscore.backfill_rescoring("
                                        f"{quote_literal(plpy, w.events.name)}) creates it with the counters of all "
                                        "of its events", state))
            else:
                out.append(Failure([k], _with_recount(plpy, f"{reason}; no counter changed", w, True), state,
                                   uncounted=True))
        return out


# of the keys $2 (text), those queued for wiring $1
_QUEUED_OF = ("SELECT pg_catalog.array_agg(s.k ORDER BY s.k) AS keys FROM pg_catalog.unnest($2::pg_catalog.text[]) "
              "AS s(k) WHERE EXISTS (SELECT 1 FROM pgscore.error_queue AS q WHERE q.rescoring_id "
              f"OPERATOR(pg_catalog.=) $1 AND q.entity_key OPERATOR(pg_catalog.=) s.k {_COUNTED})")


def _queued_missing(plpy, w: Wiring) -> str:
    """The reason of a key queued while its profile was missing that a later statement names: not created."""
    return (f"{w.profiles.name} has no row with this {quote_ident(plpy, w.profile_key)}, and it was not created: it "
            "is queued as missing, so its earlier events were never counted, and a row created now would miss them; "
            f"once its cause is fixed, SELECT pgscore.backfill_rescoring({quote_literal(plpy, w.events.name)}) "
            "creates it with the counters of all of its events; no counter changed")


def _every_row_fails(plpy, w: Wiring, e) -> bool:
    """Whether the missing profiles' INSERT failed for a reason every row has: a NOT NULL column of the
    profile table itself without a default (the INSERT gives the key alone), where no BEFORE INSERT row
    trigger may set it. Not a NOT NULL column of one partition's, nor a generated column, nor one a trigger
    sets: those refuse some rows only (23502 too)."""
    f = spi_fields(e)
    if f["sqlstate"] != "23502" or not f.get("column_name") or not f.get("table_name"):
        return False
    return plpy.execute(plpy.prepare(_EVERY_ROW_NULL, ["pg_catalog.oid", "pg_catalog.text", "pg_catalog.text",
                                                       "pg_catalog.text"]),
                        [w.profiles.oid, f.get("schema_name"), f["table_name"], f["column_name"]])[0]["every"]


def _hidden(plpy, w: Wiring, missing) -> PgscoreError:
    """Profiles that row-level security hides from the inserting role: it can neither create nor count into them."""
    return PgscoreError(f"rescoring {w.profiles.name} for {w.events.name} failed: {w.profiles.name} has a row with "
                        f"{quote_ident(plpy, w.profile_key)} {', '.join(map(str, missing[:5]))} that the role "
                        "inserting the events "
                        "cannot see (row-level security) and so cannot count into; the events were not inserted",
                        sqlstate=INSUFFICIENT_PRIVILEGE,
                        hint=f"let the role see the rows of {w.profiles.name} its events name (a policy), or insert "
                             "the events as a role that does")


def _refuse_unlockable(plpy, w: Wiring, plans: Plans):
    """Raise (42501) where the inserting role may read profiles its events name but a policy keeps it from
    updating them: the lock and the counters' UPDATE would skip them without an error, and their events
    would commit with no counter, no score and nothing queued."""
    if plans.unlockable is None:
        plans.unlockable = plpy.prepare(plans.sql.unlockable())
    hidden = plpy.execute(plans.unlockable)[0]["keys"]
    if hidden:
        raise PgscoreError(f"rescoring {w.profiles.name} for {w.events.name} failed: {w.profiles.name} has a row "
                           f"with {quote_ident(plpy, w.profile_key)} {', '.join(sorted(hidden)[:5])} that the role "
                           "inserting the events "
                           "may read but not update (row-level security), and so cannot count into; the events "
                           "were not inserted", sqlstate=INSUFFICIENT_PRIVILEGE,
                           hint=f"a policy for UPDATE on {w.profiles.name} must let the role update every row its "
                                "events name, as its policy for SELECT lets it read them; or insert the events as a "
                                "role that may")


def _of_some_rows(e) -> bool:
    """Whether a read failed for a value some rows hold (SQLSTATE class 22, data exception: a text cell that is
    no number, a numeric beyond float8's range), not for a reason every row has (a column or privilege
    missing): its other rows can be read without them."""
    return (_state(e) or "")[:2] == "22"


def _read_rows(plpy, w: Wiring, plans: Plans, failures, faults=None):
    """_locked_read, and where its read fails for some rows' values (_of_some_rows: the statement's one read of
    every profile's features fails for one profile's cell, or an event's counter expression fails for its
    key), the same read without the features and the counters, which locks and names the profiles as it does;
    then the keys whose events' counters fail are found in halves (_faulty_counters, into `faults`, once a
    statement: the trigger's read after it creates the missing profiles finds them there), and the others'
    features read in parts (_features_apart): the rows `data` holds are `good`'s, and the profiles at fault
    (`unread`) are in failures, each with its own reason. Where PostgreSQL computes columns (Wiring.computed),
    apply() reads the features and finds those at fault."""
    try:
        return _locked_read(plpy, w, plans)
    except plpy.SPIError as e:
        if w.strict and not _must_raise(e) and _of_some_rows(e):
            _strict_fault(plpy, w, plans, e)  # (a counter at fault: its error names it, the key and the event)
        # (with no live version the read reads no feature: what failed it is a counter, searched for as below)
        if (plans.model is None and faults is None) or w.strict or _must_raise(e) or not _of_some_rows(e):
            raise
        error = e
    if plans.bare is None:
        plans.bare = plpy.prepare(plans.then + plans.sql.read(locking=not w.recomputes, features=False))
    r, keys = _locked_read(plpy, w, plans, plans.bare)
    r = dict(r)
    if faults is not None and not faults.probed and any(c.kind in KINDS for c in w.counters):
        faults.probed = True
        missing = (plpy.execute(plans.sql.missing_keys())[0]["keys"] or []) if r["wanted"] > len(keys) else []
        faults.bad = _faulty_counters(plpy, w, plans, list(keys) + missing)
        faults.missing = {k for k in missing if k in faults.bad}
    bad = faults.bad if faults is not None else {}
    r["faulty"] = bool(bad)
    if plans.model is None and not bad:  # (not a counter: as before)
        raise error
    if plans.apply is not None or plans.model is None:
        return r, keys
    if plans.keyed is None:
        plans.keyed = plpy.prepare(plans.sql.keyed_features(), ["pg_catalog.text[]"])
    read = [k for k in keys if k not in bad]
    r["good"], r["data"], r["unread"] = (_features_apart(plpy, plans.keyed, read, None if bad else error, failures)
                                         if read else ([], b"", set()))
    return r, keys


def _strict_fault(plpy, w: Wiring, plans: Plans, error):
    """A strict wiring's read failed with `error` for some rows' values: where an event's counter expression is what
    fails (10 / 0), raise the error naming the key, the counter and the event, as a wiring that queues names them in
    its queue row (_faulty_counters, the first key in key order), with `error`'s SQLSTATE; else return (the read
    failed for a feature: the caller raises it as it is). Session 62: PostgreSQL's bare message reached the client."""
    if not any(c.kind in KINDS for c in w.counters):
        return
    keys = plpy.execute(plans.sql.keys())[0]["keys"] or []
    bad = _faulty_counters(plpy, w, plans, keys)
    if not bad:
        return
    key = next(str(k) for k in keys if str(k) in bad)
    reason, state = bad[key]
    raise PgscoreError(f"rescoring {w.profiles.name} for {w.events.name} failed for {quote_ident(plpy, w.profile_key)} "
                       f"{key}: {reason}; the wiring is strict, so the INSERT fails", sqlstate=state or _state(error),
                       hint="correct the event's values (or the counter's expression, attaching the wiring again); "
                            "a wiring attached with p_strict => false keeps the events and queues the profile "
                            "with this reason instead")


FAULTS_NAMED = 20  # keys whose failing counter and event _faulty_counters looks for, a statement (each ~log2(n) reads)


def _faulty_counters(plpy, w: Wiring, plans: Plans, keys) -> dict:
    """{key text: (reason, SQLSTATE)} of the keys `keys` (text) whose new events' counters cannot be aggregated:
    the statement's counters aggregated (Sql.probe) for all of them, then, where that fails for a reason in
    some rows (SQLSTATE classes 22, 23), in halves down to single keys (_in_parts, PARTS_BUDGET statements). The
    reason names the counter and the event that fails it (_fault; for the first FAULTS_NAMED keys); a part the
    search stopped at says so. Empty where every key's counters aggregate (the read failed for a feature)."""
    if not keys:
        return {}
    if plans.probe is None:
        plans.probe = plpy.prepare(plans.sql.probe(), ["pg_catalog.text[]"])
    bad = {}

    def execute(part, _scores, _labels):
        plpy.execute(plans.probe, [part])

    def failed(part, _scores, e):
        if len(part) == 1 and not isinstance(e, Unsearched) and len(bad) < FAULTS_NAMED:
            bad[part[0]] = _fault(plpy, w, plans, part[0], e)
            return
        for k in part:
            bad[k] = (f"a counter of its events failed: {_message(e)}", _state(e))

    _in_parts(plpy, execute, [str(k) for k in keys], [None] * len(keys), None, failed)
    return bad


def _fault(plpy, w: Wiring, plans: Plans, key, error) -> tuple[str, str]:
    """(reason, SQLSTATE) of the key `key` whose events' counters fail with `error`: which counter (each
    aggregated alone over its new events) and, where the events have an id column, which event (their ids in
    halves: the first that fails the counter alone)."""
    def runs(plan, args):
        try:
            plpy.execute(plan, args)
            return None
        except plpy.SPIError as e:
            if _must_raise(e):
                raise
            return e

    for i, c in enumerate(w.counters):
        if c.kind not in KINDS:
            continue
        if (i, False) not in plans.faults:
            plans.faults[(i, False)] = plpy.prepare(plans.sql.fault(c), ["pg_catalog.text[]"])
        e = runs(plans.faults[(i, False)], [[key]])
        if e is not None:
            break
    else:  # (each alone aggregates: only together do they fail)
        return f"a counter of its events failed: {_message(error)}", _state(error)
    what = f"counter {quote_ident(plpy, c.column)} ({_rule(c)})"
    if w.event_id_column is None or w.event_id_column not in w.events.columns:
        return f"{what} failed on one of its events: {_message(e)}", _state(e)
    if plans.ids_of is None:
        plans.ids_of = plpy.prepare(plans.sql.event_ids(), ["pg_catalog.text[]"])
    ids = plpy.execute(plans.ids_of, [[key]])[0]["ids"] or []
    if (i, True) not in plans.faults:
        plans.faults[(i, True)] = plpy.prepare(plans.sql.fault(c, ids=True), ["pg_catalog.text[]", "pg_catalog.text[]"])
    plan = plans.faults[(i, True)]
    while len(ids) > 1:  # the half that fails (the first), else the other; neither: they fail together
        half, rest = ids[:len(ids) // 2], ids[len(ids) // 2:]
        if runs(plan, [[key], half]) is not None:
            ids = half
        elif runs(plan, [[key], rest]) is not None:
            ids = rest
        else:
            break
    alone = runs(plan, [[key], ids]) if len(ids) == 1 else None
    if alone is None:  # (no one event fails it alone: an overflow of their sum, say; the ids named, the first 10)
        named = ", ".join(ids[:10]) + (", ..." if len(ids) > 10 else "")
        return (f"{what} failed on its {len(ids)} event(s) together ({quote_ident(plpy, w.event_id_column)} "
                f"{named}): {_message(e)}", _state(e))
    return (f"{what} failed on event {quote_ident(plpy, w.event_id_column)} {ids[0]}: {_message(alone)}",
            _state(alone))


def _features_apart(plpy, plan, keys, error, failures, reason="{}"):
    """The features of the profiles `keys` (text, in key order) read by `plan` (keys $1 -> keys, data) in
    parts (_in_parts: halves down to single profiles, PARTS_BUDGET statements at most), after the read of all
    of them failed with `error`: (the keys read, their features as one bytea, in that order; the keys not
    read, each part's in failures with its reason, `reason` formatted with the message). The profiles are
    locked already."""
    got, datas, unread = [], [], set()

    def execute(part, _scores, _labels):
        rr = plpy.execute(plan, [part])[0]
        got.extend(rr["keys"] or [])
        datas.append(rr["data"] or b"")

    def failed(part, _scores, e):
        unread.update(part)
        failures.append(Failure(part, reason.format(_message(e)), _state(e)))

    _in_parts(plpy, execute, list(keys), [None] * len(keys), None, failed, error=error)
    return got, b"".join(datas), unread


def _locked_read(plpy, w: Wiring, plans: Plans, read=None):
    """plans.read, run again while it read more profiles than the lock before it took (where counters
    are recomputed, the lock is a statement of its own: a profile another client created after the
    lock's snapshot and before the read's is read unlocked, and another client's event for it could
    land between this read and the write). Each run locks with a new snapshot; after RELOCKS runs the
    last one is used. A profile the lock skips because a policy keeps the role from updating it is no
    such race: refused (_refuse_unlockable). `read`: another plan of plans.read's (_read_rows')."""
    for i in range(RELOCKS):
        r = plpy.execute(read or plans.read)[0]
        keys = r["keys"] or []
        if r["locked"] is None or len(keys) <= r["locked"]:
            break
        if i == 0 and r["rls"]:
            _refuse_unlockable(plpy, w, plans)
    return r, keys


PARTS_BUDGET = 256  # statements _in_parts may run to find the profiles at fault, per statement that failed


class Unsearched:
    """The error of a part of profiles _in_parts queues whole, its search for the profiles at fault stopped
    (PARTS_BUDGET): its message says that each may be at fault or not (the error is one of them's, or a
    few's), where it read as each profile's own. `note`, that addition, for a reason built of another error
    (_write's counters)."""

    def __init__(self, e, n):
        self.sqlstate = _state(e)
        self.note = (f" (queued with the {n} profiles of its part, each of which may be at fault or not: the search "
                     f"for the profiles at fault stopped after {PARTS_BUDGET} statements)")
        self.args = (f"{_message(e)}{self.note}",)


def _in_parts(plpy, execute, keys, scores, labels, failed, strict=False, error=None, budget=None):
    """execute(keys, scores, labels) for all the profiles in one statement; where it fails for a reason
    that lies in some rows (a constraint or a value: SQLSTATE classes 23 and 22), in halves down to
    single profiles, so that the others are written as usual and failed(keys, scores, error) is called only for
    the profiles at fault (`error`: the whole statement failed already with it). Other errors (a missing
    column or privilege: every row's) fail all at once, and after PARTS_BUDGET statements what is left
    fails by the part. Each plpy.execute is a subtransaction of its own, so a failed one leaves nothing
    behind; the profiles are locked already, so the parts take no new locks. With `strict`, the first
    error is raised."""
    budget = budget if budget is not None else [PARTS_BUDGET]
    if error is None:
        try:
            budget[0] -= 1
            execute(keys, scores, labels)
            return
        except plpy.SPIError as e:
            if strict or _must_raise(e):
                raise
            error = e
    if len(keys) == 1 or (_state(error) or "")[:2] not in ("22", "23") or budget[0] <= 0:
        failed(keys, scores, error if len(keys) == 1 or budget[0] > 0 else Unsearched(error, len(keys)))
        return
    half = len(keys) // 2
    for part in (slice(None, half), slice(half, None)):
        _in_parts(plpy, execute, keys[part], scores[part], labels[part] if labels is not None else None, failed,
                  strict, budget=budget)


def _write(plpy, w: Wiring, plans: Plans, clear, keys, scores, labels, failures, keyed=False):
    """Counters, scores and audit rows of the profiles `keys` (see _in_parts for a write that fails); a
    profile whose score cannot be written keeps its new counters when they can be, and is queued
    either way. `keyed`: the first write too aggregates the events of its keys alone (Faults)."""
    first = not keyed  # (the first writes every profile; the others, parts of it, aggregate their own profiles' events)

    def execute(keys, scores, labels):
        nonlocal first
        keyed, first = not first, False
        plpy.execute(plans.write(clear, len(keys), keyed=keyed), _write_args(keys, scores, labels, w, plans.model))

    def failed(keys, scores, error):
        nulls = [None] * len(keys)
        try:  # the counters alone: a NULL score writes no score, no audit row and clears nothing
            execute(keys, nulls, None if labels is None else nulls)
        except plpy.SPIError as e:
            if _must_raise(e):
                raise
            failures.append(Failure(keys, _with_recount(plpy, f"updating the counters failed: {_message(e)}"
                                                        f"{getattr(error, 'note', '')}", w, True),
                                    _state(e), uncounted=True))
            return
        scored = [k for k, s in zip(keys, scores) if s is not None]  # the others' reason is in failures
        if scored:
            failures.append(Failure(scored, f"writing the score and its audit row failed: {_message(error)}", _state(error)))

    _in_parts(plpy, execute, keys, scores, labels, failed, strict=w.strict)


def _counters_only(plpy, w, plans, keys, failures, lock=False):
    """The counters of the profiles the events name (no score). Where the statement fails for some of
    them, the others are updated in parts (see _in_parts) and only those are queued for it."""
    try:
        if lock:
            plpy.execute(plans.lock)
        plpy.execute(plans.counters_only)
        return
    except plpy.SPIError as e:
        if w.strict or _must_raise(e):
            raise
        error = e
    if plans.counters_for is None:
        plans.counters_for = plpy.prepare(plans.sql.counters_only(keyed=True), ["pg_catalog.text[]"])

    def execute(keys, scores, labels):
        plpy.execute(plans.counters_for, [keys])

    def failed(keys, scores, e):
        failures.append(Failure(keys, _with_recount(plpy, f"updating the counters failed: {_message(e)}", w, True),
                                _state(e), uncounted=True))

    keys = [str(k) for k in keys]
    _in_parts(plpy, execute, keys, [None] * len(keys), None, failed, error=error)


def _write_args(keys, scores, labels, w: Wiring, model) -> list:
    """The write statement's parameters (Sql.write): a multiclass model's take the labels too, and any
    classifier's where the wiring has a label column (_labelled)."""
    args = [keys, pgarray.literal(scores), w.id, w.events.name, model.model_id]
    return args + [labels] if _labelled(w, model) else args


def _score(model, keys, data, failures, fmt, every=False, word_of=None) -> tuple[list, list | None]:
    """Scores in key order, and for a multiclass model the predicted classes (as predict gives them;
    None for other models; with `every`, a binary classifier's too: the wiring's label column); None where a
    row cannot be scored (its reason added to failures; `word_of`: _word_reader's, for a reason naming the word
    a strict encoder refused)."""
    labelled = _labels_of(model, every)
    try:
        if len(keys) == 1:  # a single-row INSERT: skip numpy's per-call overhead
            x = fmt.decode_one(data, model.n)
            if x is not None:
                if labelled:
                    label, s = model.predict_row(x)
                    return [s], [label]
                return [model.score_row(x)], None
        X = fmt.decode(data, len(keys), model.n, keys, model)
        scores, labels = model.scores_and_labels(X, every)
        return scores.tolist(), labels
    except Exception:  # noqa: BLE001 - find the rows at fault
        pass
    return _score_apart(model, keys, _rows(fmt, data, len(keys), model.n, keys, model), failures, every, word_of)


def _labels_of(model, every) -> bool:
    """Whether _score gives predicted classes: a multiclass model's, with `every` a binary classifier's too (as
    Model.scores_and_labels gives them)."""
    return model.multiclass or (every and model.task == "binary" and bool(model.classes))


def _score_apart(model, keys, rows, failures, every=False, word_of=None) -> tuple[list, list | None]:
    """_score where its one prediction of every row failed (`rows`: each row's features, or the reason they
    cannot be read, _rows). The rows at fault are set apart: those whose features cannot be read, and those
    holding a value a model may refuse (NaN, which a NULL is too; an infinity; a value beyond float32's
    range; an unknown word's code, -1, of a text feature), each scored alone, a row the model refuses failing with
    its own reason (an unknown word's naming it: `word_of`); the others are scored
    in one prediction, as before (one NULL among 10,000 rows was 10,000 predictions of one row). Where that
    prediction fails too (a model that raises whatever its input), every row is scored alone."""
    import numpy as np

    from pgscore.compiled import F32_INF
    from pgscore.serving import CATEGORY

    n, labelled = len(keys), _labels_of(model, every)
    out, labels = [None] * n, ([None] * n if labelled else None)
    alone = [i for i, x in enumerate(rows) if isinstance(x, Exception)]
    fine = [i for i, x in enumerate(rows) if not isinstance(x, Exception)]
    if fine:
        X = np.array([rows[i] for i in fine], dtype=float)
        with np.errstate(invalid="ignore"):
            odd = (~np.isfinite(X) | (np.abs(X) >= F32_INF)).any(axis=1)
        words = [j for j, f in enumerate(model.feature_names) if f in (getattr(model, "text_categories", None) or {})]
        # an unknown word's code, -1, set apart only where the model refuses it (a strict encoder): under
        # handle_unknown='ignore' it is scored with the others (1,000 of them were 1,000 predictions of one row)
        unknown = (X[:, words] == -1.0).any(axis=1) if words else np.zeros(len(fine), dtype=bool)
        while True:
            together = [i for i, o in zip(fine, odd) if not o]
            try:
                if len(together) == n:  # the prediction that failed, of the same rows
                    raise ValueError
                if together:
                    scores, labs = model.scores_and_labels(X[~odd], every)
                    for i, s in zip(together, scores.tolist()):
                        out[i] = s
                    if labelled:
                        for i, label in zip(together, labs):
                            labels[i] = label
            except Exception as e:  # noqa: BLE001 - not these rows' values: every row alone, for its own reason
                if (unknown & ~odd).any() and (len(together) == n or getattr(e, "refusal", None) == CATEGORY):
                    odd = odd | unknown  # (a strict encoder's refusal: its unknown words alone, the others together)
                    continue
                alone += together
                together = []
            break
        alone += [i for i, o in zip(fine, odd) if o]
    for i in sorted(alone):
        k, x = keys[i], rows[i]
        try:
            if isinstance(x, Exception):
                raise x
            if labelled:
                labels[i], out[i] = model.predict_row(x)
            else:
                out[i] = model.score_row(x)
        except PgscoreError as e:
            if word_of is not None and getattr(e, "refusal", None) == CATEGORY and e.feature is not None:
                word = word_of(k, e.feature)
                e = (model.refused_word(x, e.feature, word) if word is not None else None) or e
            failures.append(Failure([k], e.message, e.sqlstate))
        except Exception as e:  # noqa: BLE001 - an exception inside the model must not lose the event
            failures.append(Failure([k], f"the model raised {type(e).__name__}: {e}", MODEL_RAISED))
    return out, labels


def _word_reader(plpy, w, new: Sql | None = None):
    """word_of for _score: the word of a profile's text feature, read by its key (the features reach the model as
    codes, an unknown word -1), for the reason of a strict encoder's refusal to name it; None where it cannot be
    read (a feature computed, not a column). Called where such a refusal is met only. `new`: the statements of
    features read with the counters at their new values, not written yet: a counter's column is read as its new
    value (Sql.new_word), the word the statement's events gave it."""

    def word_of(key, feature):
        if feature not in w.profiles.columns:
            return None
        if new is not None and feature in new.new_values:
            try:
                with plpy.subtransaction():
                    rows = plpy.execute(plpy.prepare(new.new_word(feature), ["pg_catalog.text[]"]), [[str(key)]])
            except plpy.SPIError:  # (the error without the word, not another one)
                return None
            return rows[0]["w"] if rows and rows[0]["s"] else None
        return batch.read_word(plpy, batch.word_by_key_sql(plpy, w.profiles.name, feature, w.profile_key,
                                                          w.profiles.types[w.profile_key]), key)

    return word_of


def _score_found(model, keys, good, data, failures, fmt, every=False, word_of=None) -> tuple[list, list | None]:
    """_score of the profiles `good` (whose features `data` holds), as scores and labels of all `keys`, in
    their order: None for the others (their reason is in failures already)."""
    scores, labels = (_score(model, good, data, failures, fmt, every, word_of) if good
                      else ([], [] if _labels_of(model, every) else None))
    s = dict(zip(good, scores))
    lab = dict(zip(good, labels)) if labels is not None else None
    return [s.get(k) for k in keys], ([lab.get(k) for k in keys] if lab is not None else None)


def _rows(fmt, data, n, width, keys, model=None):
    """Each row's features, or the reason they cannot be read: only the rows at fault fail."""
    try:
        return fmt.decode(data, n, width, keys, model).tolist()
    except Exception:  # noqa: BLE001 - read them one by one
        pass
    try:
        images = batch.split(fmt, data, n)
    except Exception as e:  # noqa: BLE001 - not even the rows' bounds can be read: each row gets the reason
        return [_unreadable(e)] * n
    out = []
    for k, image in zip(keys, images):
        try:
            out.append(fmt.decode(image, 1, width, [k], model)[0].tolist())
        except Exception as e:  # noqa: BLE001 - this row's reason
            out.append(_unreadable(e))
    return out


def _unreadable(e) -> PgscoreError:
    return e if isinstance(e, PgscoreError) else PgscoreError(f"the features cannot be read: {e}", sqlstate="22023")


def _message(e) -> str:
    return server_message(str(e.args[0])) if getattr(e, "args", None) else str(e)


def _state(e):
    return getattr(e, "sqlstate", None)


def _must_raise(e) -> bool:
    """Errors the INSERT must fail on even where the wiring is not strict (errors.of_the_transaction:
    queuing a serialization failure instead would commit counters computed from a stale snapshot), and a
    privilege the inserting role lacks (42501: on the profile table, or pgscore's): the events would
    commit without their counters, which no retry applies (retry_failed only rescores)."""
    return of_the_transaction(_state(e)) or _state(e) == INSUFFICIENT_PRIVILEGE


INSUFFICIENT_PRIVILEGE = "42501"
DISK_FULL = "53100"


def queue(plpy, w: Wiring, plan, failures, via, hint=None, GD=None):
    """One error-queue row per failed profile (attempts counted up if it is already queued); `hint`: the trigger's
    WARNING's, where "fix the cause" does not say what to do. The trigger's WARNING is said once, then at most
    once an interval per session, wiring and SQLSTATEs (_held_back; GD: the session's)."""
    reasons = {}
    for f in failures:
        for k in f.keys:
            reasons.setdefault(str(k), (f.reason, f.sqlstate))
    if not reasons:
        return None
    keys = sorted(reasons)
    cause = {"via": via, "rescoring_id": w.id, "event_table": w.events.name}
    if via == "trigger" and w.replicated:  # the row trigger's for replicated rows
        cause = {"via": "replication", "subscription": w.subscription, "rescoring_id": w.id,
                 "event_table": w.events.name}
    cause = json.dumps(cause)
    try:
        plpy.execute(plan, [w.id, w.model_name, w.profiles.name, keys, [reasons[k][0] for k in keys],
                                   [reasons[k][1] for k in keys], cause])
    except plpy.SPIError as e:
        if via != "trigger" or not (_state(e) or "").startswith("53"):
            raise
        # a full disk (53100) under the queue too, or another resource the server ran out of (class 53: memory,
        # temp_file_limit): the INSERT fails, rather than commit events no queue row names; said in pgscore's
        # words (the server's names only a file), its SQLSTATE and fields kept. Only a full disk's hint says to
        # free disk space (it said so for out of memory, 53200, too)
        first = next(iter(reasons.values()))[0]
        fields = spi_fields(e)
        if _state(e) == DISK_FULL:
            hint = ("free disk space (pgscore maintain --keep drops old days of the prediction log: "
                    "docs/operations-disk.md), then insert the events again")
        else:
            hint = ((fields.get("hint") + "; " if fields.get("hint") else "")
                    + f"the server ran out of what the message names (SQLSTATE {_state(e)}): once it has it "
                    "again, insert the events again")
        raise PgscoreError(
            f"rescoring {w.profiles.name} for {w.events.name}: {len(keys)} profile(s) could not be rescored "
            f"({first}), nor queued in pgscore.error_queue: {_message(e)}; the INSERT fails, and none of its "
            "events is kept", sqlstate=_state(e), detail=fields.get("detail"), hint=hint) from None
    uncounted = sorted({str(k) for f in failures if f.uncounted for k in f.keys})
    if uncounted and via == "trigger" and _replays(w):
        _mark_uncounted(plpy, w, uncounted)
    distinct = list(dict.fromkeys(reason for reason, _ in reasons.values()))
    why = distinct[0] + (f"; and {len(distinct) - 1} other reason(s), each in its queue row"
                         if len(distinct) > 1 else "")
    # the model retired (or never made live): the cause to fix is named, with the call that fixes it
    unlive = (f"; model {w.model_name!r} has no live version: make one live first, SELECT "
              f"pgscore.activate({quote_literal(plpy, w.model_name)}, VERSION) (pgscore.model_versions lists them)"
              if any(state == "55000" and "has no live version" in reason for reason, state in reasons.values())
              else "")
    # (session 67, trial T23) a full disk under the log or the profile table: what frees it, not "fix the cause"
    unlive += ("; the disk is full: free space first (pgscore maintain --keep drops old days of the prediction log; "
               "today's rows filling it: docs/operations-disk.md, 'The way out')"
               if any(state == DISK_FULL for _, state in reasons.values()) else "")
    # said for a retry and a refresh too: run by a scheduler (pg_cron records a run that returned rows as
    # succeeded, and only the server log keeps a WARNING), the result rows alone are seen by no one
    if via == "trigger":
        said = _held_back(plpy, GD, w, {state for _, state in reasons.values()}, len(keys))
        if said is False:  # (counted: the next WARNING says how many)
            return None
        plpy.warning(f"pgscore: {len(keys)} profile(s) of {w.profiles.name} could not be rescored "
                     f"({why}); the events were kept and the profiles queued in pgscore.error_queue",
                     hint=(hint or "fix the cause, then SELECT * FROM pgscore.retry_failed()") + unlive,
                     **({"detail": said} if said else {}))
    elif via == "retry":
        plpy.warning(f"pgscore: retry_failed: {len(keys)} profile(s) of {w.profiles.name} still could not be "
                     f"rescored ({why}); they stay queued in pgscore.error_queue",
                     hint="fix the cause, then SELECT * FROM pgscore.retry_failed() again" + unlive)
    else:
        plpy.warning(f"pgscore: {via}: {len(keys)} profile(s) of {w.profiles.name} could not be rescored "
                     f"({why}); they were queued in pgscore.error_queue",
                     hint="fix the cause, then SELECT * FROM pgscore.retry_failed()" + unlive)
    return None


def _held_back(plpy, GD, w: Wiring, states, profiles, event_key=None) -> str | bool | None:
    """False where this session said this wiring's failure with these SQLSTATEs less than an interval ago
    (pgscore.rescoring_warning_interval, 60 s unless set): the statement is counted, not said (session 68's
    trial T25: a retired model's wiring wrote 3 lines to the server log per INSERT, ~30,000 a minute at 10,000
    single-row INSERTs); else the WARNING's DETAIL, counting what was not said since the last one. A failure
    with other SQLSTATEs is said at once."""
    if GD is None:  # (no session state given: said, as before)
        return None
    every, note = throttle.interval(plpy.execute(_WARNING_INTERVAL)[0]["v"])
    key = (w.id, w.stamp, states if states == throttle.NULL_KEY else tuple(sorted(s or "" for s in states)))
    held = throttle.say(GD.setdefault(throttle.GD_KEY, {}), key, profiles, every)
    return False if held is None else throttle.detail(held, every, note, event_key)


_WARNING_INTERVAL = f"SELECT pg_catalog.current_setting('{throttle.SETTING}', true) AS v"


# -- retry -------------------------------------------------------------------------------------------

_QUEUED_WIRINGS = ("SELECT DISTINCT q.rescoring_id, r.profile_table FROM pgscore.error_queue AS q JOIN pgscore.rescoring AS r "
                   "ON r.rescoring_id = q.rescoring_id WHERE $1::pg_catalog.text IS NULL OR r.model_name = $1 "
                   "ORDER BY 1")
# a model deployed (live or not), or named by a wiring (deployed later, or never)
_KNOWN_MODEL = ("SELECT 1 FROM pgscore.models AS m WHERE m.name OPERATOR(pg_catalog.=) $1 UNION ALL "
                "SELECT 1 FROM pgscore.rescoring AS r WHERE r.model_name OPERATOR(pg_catalog.=) $1 LIMIT 1")
# where the wiring's trigger is, when it is not on the table its event table's name finds ($2): that table was
# renamed (the trigger went with it) and another took its name, whose events are not the wiring's
_MOVED = ("SELECT t.tgrelid::pg_catalog.regclass::pg_catalog.text AS on_name FROM pgscore.rescoring r "
          "JOIN pg_catalog.pg_trigger t ON t.tgname OPERATOR(pg_catalog.=) r.trigger_name AND NOT t.tgisinternal "
          "WHERE r.rescoring_id OPERATOR(pg_catalog.=) $1 AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger o "
          "WHERE o.tgrelid OPERATOR(pg_catalog.=) $2 AND o.tgname OPERATOR(pg_catalog.=) r.trigger_name) "
          "ORDER BY 1 LIMIT 1")
# of the queued keys $2, those whose row still names events whose counters were missed, after the replay
_UNREPLAYED = ("SELECT pg_catalog.array_agg(q.entity_key ORDER BY q.entity_key) AS keys FROM pgscore.error_queue q "
               "WHERE q.rescoring_id OPERATOR(pg_catalog.=) $1 AND q.entity_key OPERATOR(pg_catalog.=) ANY ($2) "
               "AND q.cause OPERATOR(pg_catalog.?) 'uncounted_event_ids'")
_UNREPLAYED_REASON = ("its counters missed more events than its queue row names (the first {}, in "
                      "cause->'uncounted_event_ids'; cause->'uncounted_events' counts them): retry_failed does not "
                      "replay them; correct its counters from the event table, then UPDATE pgscore.error_queue SET "
                      "cause = cause - 'uncounted_event_ids' of its row, and retry")
# of those, the ones whose row misses events whose id is NULL (_HAS_NULL_IDS), and how many (a row marked before
# uncounted_null_ids was kept: its NULL ids)
_NULL_IDS = ("SELECT q.entity_key AS k, COALESCE(CASE WHEN pg_catalog.jsonb_typeof(q.cause OPERATOR(pg_catalog.->) "
             "'uncounted_null_ids') OPERATOR(pg_catalog.=) 'number' THEN (q.cause OPERATOR(pg_catalog.->>) "
             "'uncounted_null_ids')::pg_catalog.int8 END, (SELECT pg_catalog.count(*) FROM "
             "pg_catalog.jsonb_array_elements(CASE WHEN pg_catalog.jsonb_typeof(q.cause OPERATOR(pg_catalog.->) "
             "'uncounted_event_ids') OPERATOR(pg_catalog.=) 'array' THEN q.cause OPERATOR(pg_catalog.->) "
             "'uncounted_event_ids' ELSE '[]'::pg_catalog.jsonb END) AS x(v) WHERE pg_catalog.jsonb_typeof(x.v) "
             "OPERATOR(pg_catalog.=) 'null')) AS n FROM pgscore.error_queue q WHERE q.rescoring_id "
             f"OPERATOR(pg_catalog.=) $1 AND q.entity_key OPERATOR(pg_catalog.=) ANY ($2) AND {_HAS_NULL_IDS} "
             "ORDER BY q.entity_key")
_QUEUED_COUNT = ("SELECT pg_catalog.count(*)::pg_catalog.int4 AS n FROM pgscore.error_queue q "
                 "WHERE q.rescoring_id OPERATOR(pg_catalog.=) $1")
# (a schema of migration 0160 on) the tables, by the OID they keep, that wiring $1's rows of this queue were queued
# for and that no longer have the wiring's profile table's name (renamed away), as regclass prints them
_RENAMED_TO = ("SELECT DISTINCT q.profile_oid::pg_catalog.regclass::pg_catalog.text AS name "
               "FROM pgscore.error_queue q JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) q.profile_oid "
               f"WHERE q.rescoring_id OPERATOR(pg_catalog.=) $1 AND {THIS_QUEUE}")
# the other wirings of wiring $1's event table (by the name they keep), which its detach_rescoring detaches too
_SAME_EVENTS = ("SELECT r.rescoring_id FROM pgscore.rescoring r JOIN pgscore.rescoring s ON s.event_table "
                "OPERATOR(pg_catalog.=) r.event_table AND s.rescoring_id OPERATOR(pg_catalog.=) $1 "
                "WHERE r.rescoring_id OPERATOR(pg_catalog.<>) $1 ORDER BY r.rescoring_id")


def attach_call(lit, events, profiles, model, column, event_key, profile_key, counters, scored_at, missing, strict,
                event_id, label=None, replicated=False) -> str:
    """The attach_rescoring call, whole (its counters), that makes a wiring again, for a hint or a line of `pgscore
    status` that says to detach it first; `lit` writes a value as a SQL literal (plpy's or psycopg2's)."""
    named = {"p_scored_at_column": scored_at, "p_profile_key": profile_key, "p_missing_profile": missing,
             "p_strict": strict, "p_event_id_column": event_id}
    if label is not None:
        named["p_label_column"] = label
    if replicated:  # (else as attach decides: where a subscription writes the table)
        named["p_replicated"] = True
    args = [lit(v) for v in (events, profiles, event_key, model, column, counters)]
    return (f"SELECT pgscore.attach_rescoring({', '.join(args)}, "
            + ", ".join(f"{k} => {lit(v)}" for k, v in named.items()) + ")")


def _attach_call(plpy, r, profile_table=None) -> str:
    """The attach_rescoring call that makes wiring row `r` (as _WIRING reads it) again, to `profile_table` where
    given, else to its own."""
    def lit(v):
        return "NULL" if v is None else ("true" if v else "false") if isinstance(v, bool) else quote_literal(plpy, v)

    return attach_call(lit, r["event_table"], profile_table or r["profile_table"], r["model_name"],
                       r["score_column"], r["event_key"], r["profile_key"], r["counters"], r["scored_at_column"],
                       r["missing_profile"], bool(r["strict"]), r["event_id_column"], label=r.get("label_column"),
                       replicated=r.get("replication_trigger") is not None)


_QUEUED_KEYS = ("SELECT pg_catalog.array_agg(s.k) AS keys FROM (SELECT q.entity_key AS k FROM pgscore.error_queue q "
                "WHERE q.rescoring_id = $1 ORDER BY q.entity_key LIMIT $2) AS s")
# (a schema of migration 0160 on) those queued for its profile table as it is now ($3, its OID): not those of a
# table of its name that was renamed since (another took the name, which the wiring's statements now name)
_QUEUED_KEYS_OID = _QUEUED_KEYS.replace("WHERE q.rescoring_id = $1 ",
                                        "WHERE q.rescoring_id = $1 AND q.profile_oid = $3 ")
# rows without a profile table OID of this database (queued before migration 0160, or restored from a dump, where
# every OID is new): taken as queued for the table their name finds now ($2), as before 0160, and stamped so
_RESTAMP = ("UPDATE pgscore.error_queue AS q SET profile_oid = $2, queue_oid = DEFAULT, "
            f"queue_system = {SYSTEM_ID} "
            "WHERE q.rescoring_id "
            f"OPERATOR(pg_catalog.=) $1 AND (q.profile_oid IS NULL OR {THIS_QUEUE} IS NOT TRUE)")
# those left of a table of its name that was renamed since (not $2), not rescored
# (session 68) and every such table's name: two rewrites leave rows of two (the hint's UPDATE named one)
_ELSEWHERE = ("SELECT pg_catalog.count(*)::pg_catalog.int4 AS n, pg_catalog.min(q.profile_oid::pg_catalog.regclass::"
              "pg_catalog.text) AS name, pg_catalog.array_agg(DISTINCT q.profile_oid::pg_catalog.regclass::"
              "pg_catalog.text) AS names FROM pgscore.error_queue q WHERE q.rescoring_id OPERATOR(pg_catalog.=) $1 "
              "AND q.profile_oid OPERATOR(pg_catalog.<>) $2")
# of those, what is queued still, read after their profiles' locks (a statement of its own, so a snapshot
# of its own): another retry that held them has rescored and cleared them by then
_STILL_QUEUED = ("SELECT pg_catalog.array_agg(q.entity_key ORDER BY q.entity_key) AS keys FROM pgscore.error_queue q "
                 "WHERE q.rescoring_id OPERATOR(pg_catalog.=) $1 AND q.entity_key OPERATOR(pg_catalog.=) ANY ($2)")
# queued keys $2 that name a profile rescored under another of its keys $3 (retry_read's dups and kept):
# cleared, and the ids of their events added to the kept key's row, for the audit row that clears it
_FORGET_QUEUED = ("WITH d AS (DELETE FROM pgscore.error_queue AS q WHERE q.rescoring_id OPERATOR(pg_catalog.=) $1 "
                  "AND q.entity_key OPERATOR(pg_catalog.=) ANY ($2) RETURNING q.entity_key AS k, "
                  f"q.cause OPERATOR(pg_catalog.->) 'event_ids' AS ids, {events_of('q.cause')} AS n), "
                  "c AS (SELECT u.kept, pg_catalog.sum(d.n) AS n FROM ROWS FROM (pg_catalog.unnest($2::pg_catalog.text[]), "
                  "pg_catalog.unnest($3::pg_catalog.text[])) AS u(dup, kept) JOIN d ON d.k OPERATOR(pg_catalog.=) u.dup "
                  "WHERE d.n IS NOT NULL GROUP BY u.kept), "
                  "i AS (SELECT u.kept, x.v FROM ROWS FROM (pg_catalog.unnest($2::pg_catalog.text[]), "
                  "pg_catalog.unnest($3::pg_catalog.text[])) AS u(dup, kept) JOIN d ON d.k OPERATOR(pg_catalog.=) u.dup, "
                  "pg_catalog.jsonb_array_elements(d.ids) AS x(v) WHERE pg_catalog.jsonb_typeof(d.ids) "
                  "OPERATOR(pg_catalog.=) 'array') "
                  "UPDATE pgscore.error_queue AS q SET cause = COALESCE(q.cause, '{}') OPERATOR(pg_catalog.||) "
                  "pg_catalog.jsonb_build_object('event_ids', "
                  + capped_ids("q.cause OPERATOR(pg_catalog.->) 'event_ids'",
                               "(SELECT pg_catalog.jsonb_agg(i.v) FROM i WHERE i.kept OPERATOR(pg_catalog.=) q.entity_key)")
                  + f", 'events', COALESCE({events_of('q.cause')}, 0) OPERATOR(pg_catalog.+) (SELECT c.n FROM c "
                  "WHERE c.kept OPERATOR(pg_catalog.=) q.entity_key)) "
                  "WHERE q.rescoring_id OPERATOR(pg_catalog.=) $1 AND q.entity_key IN (SELECT c.kept FROM c)")


# the wirings with replicated events held back (hold_back), of the model named ($1, or any); none on a schema
# from before the table
_PENDING_WIRINGS = ("SELECT DISTINCT q.rescoring_id FROM pgscore.replicated_pending AS q JOIN pgscore.rescoring AS r "
                    "ON r.rescoring_id OPERATOR(pg_catalog.=) q.rescoring_id WHERE $1::pg_catalog.text IS NULL "
                    "OR r.model_name OPERATOR(pg_catalog.=) $1 ORDER BY 1")


# (session 69, trial T26) wiring $1's tables, model, and the schemas of its tables that the caller may not use: two
# teams' schemas in one database, each wired, and one team's retry_failed() or refresh_windows() (every wiring) failed
# on the other's wiring with `permission denied for schema risk` (its table names resolved by to_regclass), the
# team's own queued profiles never retried while the other's waited. Read from the names as the wiring keeps them
# (schema-qualified, as regclass prints them), by the schema's OID: no name resolved that raises
_NOT_USABLE = ("SELECT r.event_table, r.profile_table, r.model_name, (SELECT pg_catalog.array_agg(DISTINCT n.nspname "
               "ORDER BY n.nspname) FROM (VALUES (r.event_table), (r.profile_table)) AS t(name) "
               "JOIN pg_catalog.pg_namespace n ON n.nspname OPERATOR(pg_catalog.=) "
               "(pg_catalog.parse_ident(t.name))[1] WHERE pg_catalog.array_length(pg_catalog.parse_ident(t.name), 1) "
               "OPERATOR(pg_catalog.=) 2 AND NOT pg_catalog.has_schema_privilege(n.oid, 'USAGE')) AS schemas "
               "FROM pgscore.rescoring r WHERE r.rescoring_id OPERATOR(pg_catalog.=) $1")


def not_usable(plpy, rescoring_id):
    """The row of _NOT_USABLE for wiring `rescoring_id` where the caller may not use the schema of one of its tables
    (another team's, say), else None."""
    try:  # (session 70) a name that is none (hand-edited: parse_ident raises 22023) is the wiring's own error, which
        # its retry (in its subtransaction) meets and says; it failed the whole call here, before that subtransaction
        with plpy.subtransaction():
            rows = plpy.execute(plpy.prepare(_NOT_USABLE, ["pg_catalog.int8"]), [rescoring_id])
    except plpy.SPIError as e:
        if of_the_transaction(_state(e)):
            raise
        return None
    return rows[0] if rows and rows[0]["schemas"] else None


# (session 71) the wirings retry_failed and refresh_windows left out as another role's, for their caller to read in the same
# transaction: {"rescoring_id": "schema" or "table"} (`pgscore retry` and `refresh-windows` matched the WARNINGs' text,
# which client_min_messages = error hides and lc_messages translates)
SKIPPED_SETTING = "pgscore.skipped_wirings"
_SKIPPED_SET = f"SELECT pg_catalog.set_config('{SKIPPED_SETTING}', $1, true)"
_SKIPPED_READ = f"SELECT pg_catalog.current_setting('{SKIPPED_SETTING}', true) AS s"


def skipped_reset(plpy):
    """Empty SKIPPED_SETTING, at the start of a call that fills it."""
    plpy.execute(plpy.prepare(_SKIPPED_SET, ["pg_catalog.text"]), ["{}"])


def _note_skipped(plpy, rescoring_id, kind):
    """Add wiring `rescoring_id`, left out because this role may not use its `kind` ("schema": no USAGE; "table": no
    privilege on one of its tables), to SKIPPED_SETTING (a schema's wins: the WARNING said that first)."""
    try:
        seen = json.loads(plpy.execute(_SKIPPED_READ)[0]["s"] or "{}")
    except ValueError:  # (set by hand to something else)
        seen = {}
    key = str(int(rescoring_id))
    if seen.get(key) != "schema":
        seen[key] = kind
        plpy.execute(plpy.prepare(_SKIPPED_SET, ["pg_catalog.text"]), [json.dumps(seen)])


def _warn_not_usable(plpy, what, rescoring_id, row, waits, again):
    """The WARNING of a wiring `what` (retry_failed, refresh_windows) skipped because the caller may not use the
    schema of one of its tables (not_usable): what waits, and who may run it."""
    schemas = ", ".join(row["schemas"])
    (who,) = plpy.execute("SELECT CURRENT_USER::pg_catalog.text AS u")
    # (session 69, merge of h1 and h2) the one role or the other: another team's wiring, run by that team; this
    # role's own (a pgscore_admin left without USAGE on a tenant's schema), the GRANT that lets it in
    grant = (f"GRANT USAGE ON SCHEMA {', '.join(quote_ident(plpy, n) for n in row['schemas'])} TO "
             f"{quote_ident(plpy, who['u'])} (and SELECT, UPDATE on {row['profile_table']}, SELECT on "
             f"{row['event_table']})")
    plpy.warning(f"pgscore: {what} skipped wiring {rescoring_id} ({row['event_table']} -> {row['profile_table']}, "
                 f"model {row['model_name']}): this role ({who['u']}) may not use schema {schemas}; {waits}",
                 hint=f"run it as a role granted USAGE on schema {schemas} (the application that writes "
                      f"{row['profile_table']}): {again}; or, where this role should rescore it: {grant}")
    _note_skipped(plpy, rescoring_id, "schema")


def fold_pending(plpy, GD, model_name=None) -> dict:
    """retry_failed's first step: the replicated events a two_phase worker held back (hold_back) are counted and
    scored where their profiles can be locked now, as that worker's next rescoring of the wiring would (one
    rescoring per wiring, audit rows saying replication), and deleted; those whose profile a prepared transaction
    still holds stay. Returns {rescoring_id: profiles rescored}. A wiring that cannot rescore (its tables renamed
    or dropped, a column missing) or whose profile table runs another role's code for a superuser is left, its
    events kept."""
    if not plpy.execute(_PENDING_TABLE)[0]["e"]:
        return {}
    out, clear = {}, plpy.prepare(_HELD_KEEP, ["pg_catalog.text", "pg_catalog.text"])
    for row in plpy.execute(plpy.prepare(_PENDING_WIRINGS, ["pg_catalog.text"]), [model_name]):
        denied = not_usable(plpy, row["rescoring_id"])
        if denied:  # another team's wiring (or a schema this role was not granted): said, its events left
            _warn_not_usable(plpy, "retry_failed", row["rescoring_id"], denied,
                             "its replicated events held back (pgscore.replicated_pending) wait",
                             f"SELECT * FROM pgscore.retry_failed({quote_literal(plpy, denied['model_name'])})")
            continue
        # (session 69) each wiring in a subtransaction of its own, as retry's: one wiring's error (a schema the caller
        # may not use, its key retyped) leaves its held-back events, with a WARNING, and the others are folded
        try:
            with plpy.subtransaction():
                _fold_one(plpy, GD, row["rescoring_id"], clear, out)
        except (plpy.SPIError, PgscoreError) as e:
            if of_the_transaction(_state(e)) or _state(e) == READ_ONLY:
                raise
            out.pop(row["rescoring_id"], None)
            r, _, fix = _wiring_failed(plpy, GD, row["rescoring_id"], e)
            if r is None:  # (session 70) detached meanwhile: its held-back events went with it
                _warn_gone(plpy, "retry_failed", row["rescoring_id"], "its replicated events held back went with it")
                continue
            plpy.warning(f"pgscore: retry_failed skipped wiring {int(row['rescoring_id'])}'s replicated events held "
                         f"back ({r['event_table']} to {r['profile_table']}): {_message(e)}; they wait in "
                         "pgscore.replicated_pending", hint=f"{fix}; the other wirings were retried")
    return out


def _fold_one(plpy, GD, rescoring_id, clear, out):
    """fold_pending of one wiring."""
    GD.get(FOLD_CACHE, {}).pop(rescoring_id, None)  # read afresh, as retry does
    w = wiring(plpy, GD, rescoring_id, replicated=FOLD)
    if w is None or w.missing:  # (its events wait, as its queued profiles do; pgscore status says why)
        return
    others = _others_code(plpy, GD, w)
    if others:
        _warn_others_code(plpy, w, "retry_failed", others, "retry",
                          "; its replicated events held back (pgscore.replicated_pending) wait")
        return
    plpy.execute(clear, [SettingStage.rows_setting(w.id), ""])  # (nothing staged: the held-back rows alone)
    if hold_back(plpy, w)[0] > 0:
        profiles = plpy.execute(keys_sql(quote_ident(plpy, w.event_key), w.source))[0]["keys"] or []
        _on_wired(plpy, GD, w, again=False)
        out[w.id] = len(profiles)
    plpy.execute(clear, [SettingStage.rows_setting(w.id), ""])


def _before_rescoring(plpy, w: Wiring, run, keys, failures, unrecounted, reason):
    """run(keys), a step retry_failed takes for the queued profiles `keys` before it rescores them (the replay of
    missed counters, the recount of windows and recomputes); where it fails for some (_in_parts), those are
    queued with reason(error) and left out (`unrecounted`). The keys left, or None where this role may not
    run the wiring's statements (_not_allowed: the profiles stay queued as they were)."""
    def execute(keys, _scores, _labels):
        run(keys)

    def failed(keys, _scores, e):
        unrecounted.extend(keys)
        failures.append(Failure(keys, reason(e), _state(e)))

    try:
        execute(keys, None, None)
    except plpy.SPIError as e:
        if _not_allowed(plpy, w, e):
            return None
        if _must_raise(e):
            raise
        _in_parts(plpy, execute, keys, [None] * len(keys), None, failed, error=e)
        held = set(unrecounted)
        keys = [k for k in keys if k not in held]
    return keys


def retry(plpy, GD, model_name=None, limit=None):
    """Rescore queued profiles (up to `limit` per wiring); clear those that succeed, count up the rest.
    Returns (rescoring_id, rescored, failed) per wiring that had queued errors or held-back replicated events
    folded (fold_pending, first: their profiles count as rescored); a wiring whose tables the caller may not use (no
    USAGE on a schema, not_usable; or no privilege on a table, 42501 in its retry), or detached by another session
    meanwhile, is left out, said in a WARNING."""
    if limit is not None and limit < 1:
        raise PgscoreError(f"p_limit must be a positive number of profiles, got {limit}", sqlstate="22023")
    skipped_reset(plpy)
    folded = fold_pending(plpy, GD, model_name)
    out = []
    queued = plpy.execute(plpy.prepare(_QUEUED_WIRINGS, ["pg_catalog.text"]), [model_name])
    if model_name is not None and not queued and not plpy.execute(plpy.prepare(_KNOWN_MODEL, ["pg_catalog.text"]),
                                                                  [model_name]):
        from pgscore.serving import unknown_model_hint  # (scoring's hint: the model it looks like a typo for)

        raise UnknownModel(f"there is no model {model_name!r}, and no table is wired to rescore with it",
                           hint=unknown_model_hint(plpy, model_name))
    for row in queued:  # (session 69) each in a subtransaction of its own: one wiring's error skips it alone
        denied = not_usable(plpy, row["rescoring_id"])
        if denied:  # another team's wiring: left out of the result, said in a WARNING (its queue is not this role's)
            n = plpy.execute(plpy.prepare(_QUEUED_COUNT, ["pg_catalog.int8"]), [row["rescoring_id"]])[0]["n"]
            _warn_not_usable(plpy, "retry_failed", row["rescoring_id"], denied,
                             f"its {n} queued profile(s) wait for a role that may",
                             f"SELECT * FROM pgscore.retry_failed({quote_literal(plpy, denied['model_name'])})")
            continue
        done = _retry_guarded(plpy, GD, row["rescoring_id"], limit, row["profile_table"])
        if done is not None:  # (None: detached by another session meanwhile)
            out.append(done)
    # the profiles whose held-back events were folded count as rescored, in the wiring's row (one of its own if
    # nothing was queued)
    out = [(i, r + folded.pop(i, 0), f) for i, r, f in out]
    return sorted(out + [(i, n, 0) for i, n in folded.items()])


# (session 69) of the queued keys $2 of wiring $1, those handed over to the table now of the name (_HAND_OVER)
_HANDED_GONE = ("SELECT pg_catalog.array_agg(q.entity_key) AS keys FROM pgscore.error_queue q WHERE q.rescoring_id "
                "OPERATOR(pg_catalog.=) $1 AND q.entity_key OPERATOR(pg_catalog.=) ANY ($2) AND q.cause "
                "OPERATOR(pg_catalog.?) 'handed_over'")
# (session 69) a wiring's tables as its row names them, read without resolving them (to_regclass of a schema the caller
# may not use raises 42501), its key columns' types where they can be read, and how many of its rows are queued
_WIRING_NAMES = ("SELECT r.event_table, r.profile_table, r.event_key, r.profile_key, "
                 "(SELECT pg_catalog.count(*) FROM pgscore.error_queue q WHERE q.rescoring_id "
                 "OPERATOR(pg_catalog.=) r.rescoring_id)::pg_catalog.int4 AS n "
                 "FROM pgscore.rescoring r WHERE r.rescoring_id OPERATOR(pg_catalog.=) $1")
# (session 70) its profile table's OID, by the name's parts (a statement of its own: a name hand-edited into one that
# is none raises 22023 in parse_ident, which failed the whole call where it was part of _WIRING_NAMES)
_WIRING_PROFILE_OID = ("SELECT (SELECT c.oid::pg_catalog.int8 "
                       "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace s ON s.oid OPERATOR(pg_catalog.=) "
                       "c.relnamespace WHERE pg_catalog.cardinality(pg_catalog.parse_ident(r.profile_table)) "
                       "OPERATOR(pg_catalog.=) 2 AND s.nspname OPERATOR(pg_catalog.=) (pg_catalog.parse_ident("
                       "r.profile_table))[1] AND c.relname OPERATOR(pg_catalog.=) (pg_catalog.parse_ident("
                       "r.profile_table))[2]) AS profile_oid "
                       "FROM pgscore.rescoring r WHERE r.rescoring_id OPERATOR(pg_catalog.=) $1")
_KEY_TYPE = ("SELECT pg_catalog.format_type(a.atttypid, a.atttypmod) AS t, pg_catalog.format_type(a.atttypid, NULL) "
             "AS b FROM pg_catalog.pg_attribute a "
             "WHERE a.attrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass($1) AND a.attname OPERATOR(pg_catalog.=) $2 "
             "AND NOT a.attisdropped")
# the wiring's queued rows, given the reason its retry failed (the profiles' own reasons were of a cause fixed since,
# or not: the wiring's error is what keeps them queued now)
_WIRING_FAILED = ("UPDATE pgscore.error_queue AS q SET reason = $2, sqlstate = $3, attempts = q.attempts "
                  "OPERATOR(pg_catalog.+) 1, last_failed_at = pg_catalog.clock_timestamp() "
                  "WHERE q.rescoring_id OPERATOR(pg_catalog.=) $1")
_DENIED = re.compile(r"permission denied for (schema|table|relation|view|sequence|function) (.+)$")


class WiringGone(PgscoreError):
    """A wiring a call listed (retry_failed, refresh_windows) removed by another session (detach_rescoring,
    forget_rescoring) that committed before the call came to it: its row is gone."""

    sqlstate = "42704"  # undefined_object


def _wiring_row(plpy, rescoring_id):
    """Wiring `rescoring_id`'s row as _WIRING reads it; WiringGone where another session removed it meanwhile."""
    rows = plpy.execute(plpy.prepare(_WIRING, ["pg_catalog.int8"]), [rescoring_id])
    if not rows:
        raise WiringGone(f"wiring {int(rescoring_id)} was removed by another session while this call ran")
    return rows[0]


def _warn_no_name(plpy, by, gone, left) -> bool:
    """(Review r2 of session 70) Whether a table name in wiring `gone`'s row (_wiring_row) is no name at all (edited
    by hand: `public.pf"`, parse_ident's 22023), said in a WARNING of `by` with the UPDATE that names it again: it was
    said to be "dropped or renamed", sending the reader to look for a table that is there."""
    for column in ("event_table", "profile_table"):
        try:
            with plpy.subtransaction():
                plpy.execute(plpy.prepare("SELECT pg_catalog.parse_ident($1) AS p", ["pg_catalog.text"]),
                             [gone[column]])
        except plpy.SPIError as e:
            if of_the_transaction(_state(e)):
                raise
            rid = int(gone["rescoring_id"])
            plpy.warning(f"pgscore: {by} skipped wiring {rid}: its {column.replace('_', ' ')} in pgscore.rescoring, "
                         f"{quote_literal(plpy, gone[column])}, is no valid name ({_message(e)}: edited by hand?); "
                         f"{left}",
                         hint=f"name the table again as regclass prints it: UPDATE pgscore.rescoring SET {column} = "
                              f"'SCHEMA.TABLE' WHERE rescoring_id OPERATOR(pg_catalog.=) {rid}")
            return True
    return False


# (session 71) the wiring of profile table $1 attached after wiring $2 (which another session detached), and how many
# queued rows it holds: the attach took over those the detach left. (review r3 of session 71) Only where no queued row
# of that table is left without a wiring: a wiring of the table attached before the detach (another event table's)
# took over nothing, and was said to have taken them
_WIRED_AGAIN = ("SELECT r.rescoring_id, (SELECT pg_catalog.count(*) FROM pgscore.error_queue q WHERE q.rescoring_id "
                "OPERATOR(pg_catalog.=) r.rescoring_id)::pg_catalog.int4 AS n FROM pgscore.rescoring r "
                "WHERE r.profile_table OPERATOR(pg_catalog.=) $1 AND r.rescoring_id OPERATOR(pg_catalog.>) $2 "
                "AND NOT EXISTS (SELECT FROM pgscore.error_queue o WHERE o.rescoring_id IS NULL "
                "AND o.profile_table OPERATOR(pg_catalog.=) $1) "
                "ORDER BY 1 DESC LIMIT 1")


def _warn_gone(plpy, by, rescoring_id, left, profile_table=None):
    """(session 70) The WARNING of a wiring `by` (retry_failed, refresh_windows) skipped because another session
    detached or forgot it after the call listed it: the call went on with the others (it failed whole, a Python
    ValueError of the read of its row, which returned none). (session 71) Where its profile table was wired again
    since, that wiring is said to hold its queued profiles (the hint said they stay without a wiring)."""
    again = (plpy.execute(plpy.prepare(_WIRED_AGAIN, ["pg_catalog.text", "pg_catalog.int8"]),
                          [profile_table, rescoring_id]) if profile_table is not None else [])
    if again:
        n, to = again[0]["n"], int(again[0]["rescoring_id"])
        next_call = ("SELECT * FROM pgscore.retry_failed()" if by == "retry_failed"
                     else "SELECT * FROM pgscore.refresh_windows()")
        hint = (f"its profile table {profile_table} was wired again since (wiring {to}, in the other session), which "
                f"took over the profiles queued for it ({n} queued now): the next call rescores them ({next_call})")
    else:
        hint = ("its queued profiles stay without a wiring (pgscore status lists them): an attach_rescoring of "
                "their profile table takes them over, and retry_failed then rescores them")
    plpy.warning(f"pgscore: {by} skipped wiring {int(rescoring_id)}: it was detached (detach_rescoring or "
                 f"forget_rescoring, in another session) while this call ran; {left}", hint=hint)


def _retry_guarded(plpy, GD, rescoring_id, limit, profile_table=None):
    """retry_failed of one wiring (_retry_wiring), in a subtransaction of its own: an error of the wiring (its
    profile key retyped so that its statements no longer compare it with the event key, 42883; a schema or table the
    caller may not use, 42501; another) rolls back what it did, is said in a WARNING that names its tables and the
    fix (_wiring_failed), and leaves its rows queued; the other wirings are retried. None for a wiring another
    session detached meanwhile (WiringGone), said in a WARNING. An error of the transaction (a
    cancel, a serialization failure, a lock_timeout) or a read-only transaction ends the call, as before."""
    try:
        with plpy.subtransaction():
            return _retry_wiring(plpy, GD, rescoring_id, limit)
    except (plpy.SPIError, PgscoreError) as e:
        if of_the_transaction(_state(e)) or _state(e) == READ_ONLY:
            raise
        error = e
    r, reason, fix = _wiring_failed(plpy, GD, rescoring_id, error)
    if r is None:  # (session 70) detached meanwhile: left out of the result, as a wiring detached before the call
        _warn_gone(plpy, "retry_failed", rescoring_id, "the other wirings were retried", profile_table)
        return None
    what, message = f"{r['event_table']} to {r['profile_table']}", _message(error)
    if reason is None:  # the caller's, not the profiles': their reasons are left
        # (session 70) and left out of the result, as a wiring the schema check finds (not_usable): both are a
        # queue this role may not drain (one was (id, 0, n), the other left out: a role's pgscore retry exited 1 for
        # ever on another team's queue in a shared schema, 0 where that team had a schema of its own)
        plpy.warning(f"pgscore: retry_failed skipped wiring {int(rescoring_id)} ({what}): {message}; its {r['n']} "
                     "queued profile(s) and their reasons are left as they were",
                     hint=f"{fix}; the other wirings were retried")
        _note_skipped(plpy, rescoring_id, "table")
        return None
    plpy.execute(plpy.prepare(_WIRING_FAILED, ["pg_catalog.int8", "pg_catalog.text", "pg_catalog.text"]),
                 [rescoring_id, reason, _state(error)])
    plpy.warning(f"pgscore: retry_failed skipped wiring {int(rescoring_id)} ({what}): {message}; its {r['n']} queued "
                 "profile(s) stay queued with this reason", hint=f"{fix}; the other wirings were retried")
    return (rescoring_id, 0, r["n"])


def _wiring_failed(plpy, GD, rescoring_id, error):
    """After wiring `rescoring_id`'s error (rolled back) in retry_failed or refresh_windows: its row as
    _WIRING_NAMES reads it, the reason its queued rows are given (None for the caller's privilege, 42501: the
    profiles' own reasons stay), and the fix (the GRANT; the ALTER that makes the keys compare again); (None, None,
    None) where another session removed the wiring meanwhile."""
    for cache in (CACHE, REPLICATED_CACHE, FOLD_CACHE):  # read afresh at the next call, its plans too
        GD.get(cache, {}).pop(rescoring_id, None)
    rows = plpy.execute(plpy.prepare(_WIRING_NAMES, ["pg_catalog.int8"]), [rescoring_id])
    if not rows:  # (session 70) detached by another session meanwhile: None, the caller says so and goes on
        return None, None, None
    r = dict(rows[0])
    try:
        with plpy.subtransaction():
            r["profile_oid"] = plpy.execute(plpy.prepare(_WIRING_PROFILE_OID, ["pg_catalog.int8"]),
                                            [rescoring_id])[0]["profile_oid"]
    except plpy.SPIError as e:  # (a name that is none: no table)
        if of_the_transaction(_state(e)):
            raise
        r["profile_oid"] = None
    rid, what, message = int(rescoring_id), f"{r['event_table']} to {r['profile_table']}", _message(error)
    if _state(error) == INSUFFICIENT_PRIVILEGE:
        role = quote_ident(plpy, plpy.execute("SELECT pg_catalog.current_user() AS u")[0]["u"])
        denied = _DENIED.search(message)
        if denied and denied.group(1) == "schema":
            grant = (f"GRANT USAGE ON SCHEMA {quote_ident(plpy, denied.group(2))} TO {role} (and SELECT, UPDATE on "
                     f"{r['profile_table']}, SELECT on {r['event_table']})")
        else:
            grant = (f"GRANT SELECT, UPDATE ON {r['profile_table']} TO {role}; GRANT SELECT ON {r['event_table']} "
                     f"TO {role}")
        return r, None, (f"as the owner of the tables: {grant}; or run it as a role that may read, lock and update "
                         f"{r['profile_table']} and read {r['event_table']}")
    fix = "fix the cause, then SELECT * FROM pgscore.retry_failed() again"
    reason = f"retry_failed could not rescore wiring {rid} ({what}): {message}; {fix}"
    if _state(error) in ("42883", "42804"):  # operator does not exist, datatype mismatch: the keys' types?
        types, bases = [], []
        for table_name, column in ((r["event_table"], r["event_key"]), (r["profile_table"], r["profile_key"])):
            try:
                t = plpy.execute(plpy.prepare(_KEY_TYPE, ["pg_catalog.text", "pg_catalog.text"]),
                                 [table_name, column])
            except plpy.SPIError:
                t = []
            types.append(t[0]["t"] if t else None)
            bases.append(t[0]["b"] if t else None)
        # (review r3) the keys' only where their types differ and the error names both: another column's (a window's
        # time column retyped to text: `text > timestamp with time zone`) was said as the keys', bigint and bigint,
        # with an ALTER of the key to the type it has
        if None in bases or bases[0] == bases[1] or not all(b in message for b in bases):
            return r, reason, fix
        pk, ek = quote_ident(plpy, r["profile_key"]), quote_ident(plpy, r["event_key"])
        # (the fix first: pgscore status prints a reason's first 200 characters)
        fix = (f"the profile key {r['profile_table']}.{pk} ({types[1]}) no longer compares with the event key "
               f"{r['event_table']}.{ek} ({types[0]}): ALTER TABLE {r['profile_table']} ALTER COLUMN {pk} TYPE "
               f"{types[0]} USING {pk}::{types[0]} (or the event key to a type that compares), then SELECT * FROM "
               "pgscore.retry_failed() again")
        reason = f"{fix} (retry_failed of wiring {rid}: {message})"
    return r, reason, fix


def _retry_wiring(plpy, GD, rescoring_id, limit):
    """retry_failed of one wiring (its queued profiles, up to `limit`): (rescoring_id, rescored, failed)."""
    row = {"rescoring_id": rescoring_id}
    GD.get("pgscore.rescoring", {}).pop(row["rescoring_id"], None)  # read afresh: its tables may be gone
    w = wiring(plpy, GD, row["rescoring_id"])
    if w is None:  # a wired table was dropped (or renamed): nothing to read its counters from, or write to
        n = plpy.execute(plpy.prepare(_QUEUED_COUNT, ["pg_catalog.int8"]), [row["rescoring_id"]])[0]["n"]
        gone = _wiring_row(plpy, row["rescoring_id"])
        if _warn_no_name(plpy, "retry_failed", gone, f"its {n} queued profile(s) wait"):
            return (row["rescoring_id"], 0, n)
        which = ("its event table" if gone["event_oid"] is None else f"its profile table {gone['profile_table']}")
        # (session 67) the table its rows were queued for, by the OID they keep, where it lives on under another
        # name (renamed away): said with the way that takes them over there (they waited for ever, warned here)
        renamed = (plpy.execute(plpy.prepare(_RENAMED_TO, ["pg_catalog.int8"]), [row["rescoring_id"]])
                   if gone["event_oid"] is not None and plpy.execute(_QUEUE_OIDS)[0]["ok"] else [])
        if len(renamed) == 1:
            to = renamed[0]["name"]
            # (review r5) each call whole: the detach takes every wiring of the event table (one of the new
            # name cannot be detached: the wiring names the old), and the counters go with the wiring's row
            others = [r for r in (plpy.execute(plpy.prepare(_WIRING, ["pg_catalog.int8"]), [o["rescoring_id"]])
                                  for o in plpy.execute(plpy.prepare(_SAME_EVENTS, ["pg_catalog.int8"]),
                                                        [row["rescoring_id"]])) if r]
            again = "".join(f"; {_attach_call(plpy, r[0])}" for r in others)
            also = (f" (it detaches the event table's wiring{'s' if len(others) > 1 else ''} to "
                    + ", ".join(r[0]["profile_table"] for r in others) + " too, attached again after it)"
                    if others else "")
            plpy.warning(f"pgscore: retry_failed skipped wiring {row['rescoring_id']}: {which} was renamed to "
                         f"{to}; its {n} queued profile(s) wait for a wiring of {to}, the table they were queued "
                         "for",
                         hint=f"to rescore them there{also}: SELECT pgscore.detach_rescoring("
                              f"{quote_literal(plpy, gone['event_table'])}); {_attach_call(plpy, gone, to)}"
                              f"{again} (the attach to {to} takes them over); or rename it back")
        elif gone["event_oid"] is not None:
            # (review r5) a profile table cannot be detached under its new name (42704: the wiring names the old
            # one), and rows that do not keep its OID (a dump restored: every OID new) go by the name they keep
            ev = quote_literal(plpy, gone["event_table"])
            plpy.warning(f"pgscore: retry_failed skipped wiring {row['rescoring_id']}: {which} was "
                         f"dropped or renamed; its {n} queued profile(s) wait for a wiring of their profile table",
                         hint=f"attach_rescoring of {gone['profile_table']} (from any event table) takes them over; "
                              "where it was renamed, name its new name in them first (they name it by the old "
                              "one, and by an OID of another database where a dump was restored): UPDATE "
                              "pgscore.error_queue SET profile_table = 'NEW_NAME' WHERE rescoring_id OPERATOR(pg_catalog.=) "
                              f"{int(row['rescoring_id'])}; then SELECT pgscore.detach_rescoring({ev}) and attach "
                              f"{gone['event_table']} to NEW_NAME (the call pgscore status gives, NEW_NAME for the old name)")
        else:
            plpy.warning(f"pgscore: retry_failed skipped wiring {row['rescoring_id']}: {which} was "
                         f"dropped or renamed; its {n} queued profile(s) wait for a wiring of their profile table",
                         hint="attach_rescoring of the profile table (from any event table) takes them over; "
                              "detach_rescoring of a renamed one under its new name")
        return (row["rescoring_id"], 0, n)
    moved = plpy.execute(plpy.prepare(_MOVED, ["pg_catalog.int8", "pg_catalog.oid"]), [w.id, w.events.oid])
    if moved:  # its statements name the event table: they would recount another table's events (_on_its_table)
        n = plpy.execute(plpy.prepare(_QUEUED_COUNT, ["pg_catalog.int8"]), [w.id])[0]["n"]
        where = moved[0]["on_name"]
        plpy.warning(f"pgscore: retry_failed skipped wiring {w.id}: its event table {w.events.name} was renamed "
                     f"to {where} (its trigger is there), and {w.events.name} is now another table; its {n} queued "
                     "profile(s) wait",
                     hint=f"detach it with SELECT pgscore.detach_rescoring({quote_literal(plpy, where)}), then "
                          "attach_rescoring of the profile table takes them over")
        return (w.id, 0, n)
    if w.missing:  # its statements cannot be made: the queue waits, as it says
        n = plpy.execute(plpy.prepare(_QUEUED_COUNT, ["pg_catalog.int8"]), [w.id])[0]["n"]
        plpy.warning(f"pgscore: retry_failed skipped wiring {w.id}: column(s) missing: {', '.join(w.missing)}; "
                     f"its {n} queued profile(s) wait", hint=_COLUMNS_HINT)
        return (w.id, 0, n)
    others = _others_code(plpy, GD, w)
    if others:  # a superuser's UPDATE would run their code as itself
        n = plpy.execute(plpy.prepare(_QUEUED_COUNT, ["pg_catalog.int8"]), [w.id])[0]["n"]
        _warn_others_code(plpy, w, "retry_failed", others, "retry",
                          f"; its {n} queued profile(s) and their reasons are left as they were")
        return (w.id, 0, n)
    if w.queue_oids:  # only those queued for its profile table as it is now
        handed_over(plpy, w)  # (session 68) its own rows of a table dropped since: the table now of the name's
        gone_queued(plpy, w.id, w.profiles, "retry_failed", w.events.name)
        plpy.execute(plpy.prepare(_RESTAMP, ["pg_catalog.int8", "pg_catalog.oid"]), [w.id, w.profiles.oid])
        other = plpy.execute(plpy.prepare(_ELSEWHERE, ["pg_catalog.int8", "pg_catalog.oid"]),
                             [w.id, w.profiles.oid])[0]
        if other["n"]:
            # (session 67, h7) the way to a wiring of the renamed table: its hint said "attach_rescoring of it
            # (after detaching wiring N) takes them over", which cannot be followed: detach_rescoring takes an
            # event table (and detaches the live wiring to the copy too), and an attach takes over no row of a
            # live wiring. The rows are let go of wiring N (rescoring_id NULL), then the attach takes them
            me = _wiring_row(plpy, w.id)
            ev, old = quote_literal(plpy, w.events.name), quote_literal(plpy, other["name"])
            names = sorted(other["names"] or [other["name"]])
            # (session 70) each OID compared as an OID in the statements the hint gives, as status's (session 69,
            # r1): pg_catalog has no = or <> (oid, regclass), and an operator of the database's owner on that pair was
            # the exact match, whatever the search_path, of the superuser who ran them
            un = (f"UPDATE pgscore.error_queue SET rescoring_id = NULL WHERE rescoring_id {EQ} {int(w.id)} AND "
                  f"profile_oid {EQ} {old}::pg_catalog.regclass::pg_catalog.oid")
            # (session 68) where two rewrites left rows of two old tables, the copy's UPDATE took one table's
            # (two rounds of retry and UPDATE): it takes every row not queued for the table of the name now
            if len(names) > 1:
                tables, each = (f"tables now named {', '.join(names)}",
                                f" (the same for each of {', '.join(n for n in names if n != other['name'])})")
            else:
                tables, each = f"table now named {other['name']}", ""
            plpy.warning(f"pgscore: retry_failed left {other['n']} queued profile(s) of wiring {w.id}: they were "
                         f"queued for the {tables}, not for {w.profiles.name} (renamed, "
                         "and another made under its name), whose wiring cannot rescore them",
                         hint=f"to rescore them in {other['name']}, a wiring of their own takes them over "
                              f"(wiring {w.id} stays): {un}; {_attach_call(plpy, me, other['name'])}, then "
                              f"retry; SELECT pgscore.detach_rescoring({ev}, {old}) once they are rescored{each}; "
                              f"where {w.profiles.name} is a copy of {' and '.join(names)} (CREATE TABLE AS and a "
                              "rename, to rewrite it), they are its profiles: before dropping "
                              f"{' and '.join(names)}, UPDATE pgscore.error_queue SET profile_oid = "
                              f"{quote_literal(plpy, w.profiles.name)}::pg_catalog.regclass::pg_catalog.oid WHERE rescoring_id {EQ} {int(w.id)} "
                              f"AND profile_oid {NE} {quote_literal(plpy, w.profiles.name)}::pg_catalog.regclass::pg_catalog.oid, then retry; "
                              # (session 68) where they are not wanted: no way was given but waiting for ever
                              f"where they are not wanted ({' and '.join(names)} kept as an archive), DELETE FROM "
                              f"pgscore.error_queue WHERE rescoring_id {EQ} {int(w.id)} AND profile_oid {NE} "
                              f"{quote_literal(plpy, w.profiles.name)}::pg_catalog.regclass::pg_catalog.oid")
        plan = plpy.prepare(_QUEUED_KEYS_OID, ["pg_catalog.int8", "pg_catalog.int8", "pg_catalog.oid"])
        keys = plpy.execute(plan, [w.id, limit, w.profiles.oid])[0]["keys"] or []
    else:
        keys = plpy.execute(plpy.prepare(_QUEUED_KEYS, ["pg_catalog.int8", "pg_catalog.int8"]),
                            [w.id, limit])[0]["keys"] or []
    plans = _plans(plpy, GD, w, retry=True)
    model = plans.model
    if model is None:
        queue(plpy, w, plans.queue, [Failure(keys, plans.error.message, plans.error.sqlstate)], via="retry")
        return (w.id, 0, len(keys))
    failures, unrecounted = [], []
    if plans.replay is not None and keys:  # the counters a failed update missed, from their events first
        left = _before_rescoring(plpy, w, lambda ks: plpy.execute(plans.replay, [ks, w.id]), keys,  # noqa: B023
                                 failures, unrecounted, lambda e: _with_recount(plpy,  # noqa: B023
                                     "replaying the counters of the events their update missed failed: "
                                     f"{_message(e)}", w, True))  # noqa: B023
        if left is None:  # (session 70) the caller may not: left out of the result, as _retry_guarded leaves it
            return None
        keys = left
        # those whose row names fewer events than its counters missed (QUEUED_IDS): not replayed, nor rescored
        over = plpy.execute(plpy.prepare(_UNREPLAYED, ["pg_catalog.int8", "pg_catalog.text[]"]),
                            [w.id, keys])[0]["keys"] or [] if keys else []
        if over:
            unrecounted.extend(over)
            # those that miss events whose id is NULL say so, and how many (22004: a null value not allowed)
            nulls = {}
            plan = plpy.prepare(_NULL_IDS, ["pg_catalog.int8", "pg_catalog.text[]"])
            for row_n in plpy.execute(plan, [w.id, over]):
                nulls.setdefault(row_n["n"], []).append(row_n["k"])
            failures.extend(Failure(ks, _null_ids_reason(plpy, w, n), "22004") for n, ks in nulls.items())
            named = {k for ks in nulls.values() for k in ks}
            if len(named) < len(over):
                failures.append(Failure([k for k in over if k not in named], _UNREPLAYED_REASON.format(QUEUED_IDS),
                                        "54000"))
            keys = [k for k in keys if k not in set(over)]
    if plans.recount is not None and keys:  # windows and recomputes recounted first (Sql.recount)
        left = _before_rescoring(plpy, w, lambda ks: plpy.execute(plans.recount, [ks]), keys,  # noqa: B023
                                 failures, unrecounted,
                                 lambda e: f"recounting the counters that read {w.events.name} failed: "  # noqa: B023
                                           f"{_message(e)}")
        if left is None:  # (session 70) the caller may not: left out of the result, as _retry_guarded leaves it
            return None
        keys = left
    try:
        r = _retry_read(plpy, plans, keys)
        still = plpy.execute(plpy.prepare(_STILL_QUEUED, ["pg_catalog.int8", "pg_catalog.text[]"]),
                             [w.id, keys])[0]["keys"] or []
        if len(still) < len(keys):  # a retry running at the same time took these: each is rescored once
            keys = still
            r = _retry_read(plpy, plans, keys) if keys else {"keys": None}
        # the version live once the profiles are held (the replay, the recount or this read waited for them): one
        # made live meanwhile scores them, not the one planned for before (review r2, session 62)
        now = _plans(plpy, GD, w, retry=True)
        if now is not plans and now.model is not None and keys:
            plans, model = now, now.model
            r = _retry_read(plpy, plans, keys)
    except plpy.SPIError as e:
        if _not_allowed(plpy, w, e):  # the queued reasons stay: they are the profiles' own (left out: above)
            return None
        queue(plpy, w, plans.queue, failures + [Failure(keys, f"reading the profiles failed: {_message(e)}",
                                                        _state(e))], via="retry")
        return (w.id, 0, len(keys) + len(unrecounted))
    dups = set(r.get("dups") or [])
    if dups:  # a profile queued under two keys (its event's 42, its own 42.00): rescored once, under one
        plpy.execute(plans.forget, [w.id, r["dups"], r["kept"]])
        keys = [k for k in keys if k not in dups]
    found = r["keys"] or []
    lost = set(keys) - {str(k) for k in found}
    handed = set(plpy.execute(plpy.prepare(_HANDED_GONE, ["pg_catalog.int8", "pg_catalog.text[]"]),
                              [w.id, sorted(lost)])[0]["keys"] or []) if lost else set()
    if handed:  # (session 69) handed over to a copy that lacks them: gone from it, not to be created
        lost -= handed
        failures.append(Failure(sorted(handed), (
            f"{w.profiles.name} has no row with this {quote_ident(plpy, w.profile_key)}; its queue row went to "
            f"{w.profiles.name} when the table it was queued for was dropped (a copy swapped in for it under its "
            "name), and the copy lacks it, so nothing rescores it; where the profile is gone, DELETE FROM "
            f"pgscore.error_queue WHERE rescoring_id {EQ} {int(w.id)} AND sqlstate {EQ} 'P0002' AND cause {HAS} 'handed_over' "
            f"deletes such rows; else insert its row into {w.profiles.name}, then retry"), "P0002"))
    if lost:  # (one that could not be created is not created here: its events' counters were never applied)
        failures.append(Failure(sorted(lost), f"{w.profiles.name} has no row with this {quote_ident(plpy, w.profile_key)}" + (
            "; retry_failed does not create a missing profile (the counters of its events were not applied): "
            f"SELECT pgscore.backfill_rescoring({quote_literal(plpy, w.events.name)}) creates it with the counters "
            "of all of its events, or insert its row, with its counters, and retry"
            if w.missing_profile == "create" else ""), "P0002"))
    scored = 0
    failures += r.get("failures", [])  # (profiles whose features could not be read: _retry_read)
    found = r.get("good", found)
    if found:
        scores, labels = _score(model, found, r["data"], failures, plans.fmt, w.label_column is not None,
                                _word_reader(plpy, w))
        unwritten = set()

        def execute(keys, scores, labels):
            plpy.execute(plans.write, _write_args(keys, scores, labels, w, model))  # noqa: B023 - called now

        def failed(keys, scores, e):
            unwritten.update(keys)  # noqa: B023 - called now
            failures.append(Failure(keys, f"writing the score and its audit row failed: "
                                          f"{_message(e)}", _state(e)))  # noqa: B023

        try:
            execute(found, scores, labels)
        except plpy.SPIError as e:
            if _not_allowed(plpy, w, e):
                return None
            _in_parts(plpy, execute, found, scores, labels, failed, error=e)
        scored = sum(s is not None for k, s in zip(found, scores) if k not in unwritten)
    queue(plpy, w, plans.queue, failures, via="retry")
    return (w.id, scored, len(keys) + len(unrecounted) - scored)


def _retry_read(plpy, plans, keys) -> dict:
    """retry_failed's (and refresh_windows') read of the profiles `keys` (Sql.retry_read). Where it fails for
    some rows' values (_of_some_rows: a text cell that is no number), the read without the features locks and
    names the profiles as it does, and their features are read in parts by the read itself, of the keys it
    names (_features_apart): `good` the profiles read, whose features `data` holds, and `failures` those that
    could not be, each with its own reason (the caller queues them); the others are rescored as usual."""
    try:
        return plpy.execute(plans.read, [keys])[0]
    except plpy.SPIError as e:
        if _must_raise(e) or not _of_some_rows(e):
            raise
        error = e
    if plans.bare is None:
        plans.bare = plpy.prepare(plans.sql.retry_read(features=False), ["pg_catalog.text[]"])
    r, failures = dict(plpy.execute(plans.bare, [keys])[0]), []
    r["good"], r["data"], _ = _features_apart(plpy, plans.read, r["keys"] or [], error, failures)
    r["failures"] = failures
    return r


def _others_code(plpy, GD, w: Wiring) -> list[str]:
    """For a superuser, the roles (not superusers) whose code an UPDATE of the profile table would run as the
    superuser (superuser.others_code: its owner's, its triggers' functions', ...), or the wiring's counters
    (counter_code); empty for a caller that is no superuser."""
    return superuser.others_code(plpy, GD, w.tree, lambda: counter_code(plpy, w))


# what a wiring's counters' expressions call, read from PostgreSQL's own parse of them: the dependencies of a view
# made of them (in a subtransaction rolled back at once: nothing of it stays; in schema pgscore, not pg_temp, which
# PREPARE TRANSACTION would then refuse) on functions, operators (their functions), views and domains (relations
# other than tables, partitioned tables, materialized views and sequences, whose reading runs no code of their owner:
# review r1 of session 64)
_COUNTER_CODE = (
    "SELECT pg_catalog.array_agg(x.refobjid) FILTER (WHERE x.refclassid OPERATOR(pg_catalog.=) 1255) AS procs, "
    "pg_catalog.array_agg((SELECT r.oprcode::pg_catalog.oid FROM pg_catalog.pg_operator r "
    "WHERE r.oid OPERATOR(pg_catalog.=) x.refobjid)) FILTER (WHERE x.refclassid OPERATOR(pg_catalog.=) 2617) AS ops, "
    "pg_catalog.array_agg(x.refobjid) FILTER (WHERE x.refclassid OPERATOR(pg_catalog.=) 1259 AND (SELECT c.relkind "
    "FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) x.refobjid) OPERATOR(pg_catalog.<>) "
    "ALL ('{r,p,m,S}'::pg_catalog.\"char\"[])) AS rels, "
    "pg_catalog.array_agg(x.refobjid) FILTER (WHERE x.refclassid OPERATOR(pg_catalog.=) 1247) AS types, "
    # the types of their values, as the view's columns have them (pg_depend: a type that is not pinned), whose
    # owners may add a cast that the value's assignment to its profile column runs (review r2 of session 63)
    "(SELECT pg_catalog.array_agg(v.refobjid) FROM pg_catalog.pg_depend v WHERE v.classid OPERATOR(pg_catalog.=) "
    "1259 AND v.objid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass AND v.refclassid OPERATOR(pg_catalog.=) 1247) "
    "AS valued FROM pg_catalog.pg_rewrite w JOIN pg_catalog.pg_depend x ON x.classid OPERATOR(pg_catalog.=) 2618 "
    "AND x.objid OPERATOR(pg_catalog.=) w.oid WHERE w.ev_class OPERATOR(pg_catalog.=) $1::pg_catalog.regclass")


class _Undone(Exception):
    """Rolls back the subtransaction of counter_code's view."""


def counter_code(plpy, w: Wiring) -> dict:
    """The functions (operators' too), views and domains the wiring's counters' expressions call, as oids
    {"procs", "rels", "types"} (superuser.others_code names their owners): the trigger's statements evaluate
    them as the inserting role. Read once per wiring and session, for a superuser alone."""
    if w.counter_code is not None:
        return w.counter_code
    exprs = [(c.expr, c.kind in ("set", "recompute")) for c in w.counters if c.expr is not None]
    exprs += [(c.by, False) for c in w.counters if c.by is not None]
    found = {}
    if exprs:
        view = f"pgscore.{quote_ident(plpy, f'counter_code_{int(w.id)}_{os.getpid()}')}"  # (the backend's pid)
        cols = ", ".join(f"(SELECT ({e}) FROM {w.events.name} AS e{'' if agg else ' LIMIT 1'}) AS c{i}"
                         for i, (e, agg) in enumerate(exprs))
        try:
            with plpy.subtransaction():
                plpy.execute(f"CREATE VIEW {view} AS SELECT {cols}")
                found = plpy.execute(plpy.prepare(_COUNTER_CODE, ["pg_catalog.text"]), [view])[0]
                raise _Undone
        except _Undone:
            found = {"procs": (found["procs"] or []) + (found["ops"] or []), "rels": found["rels"] or [],
                     "types": (found["types"] or []) + (found["valued"] or [])}
        except plpy.SPIError as e:  # not read: its code unknown, so not run by a superuser (not cached)
            if of_the_transaction(_state(e)):
                raise
            if _state(e) == READ_ONLY:  # a standby, or a read-only transaction: the write cannot be made either
                # (taken for code it could not read, it skipped the wiring with a security WARNING and exited 0:
                # trial hT17 of session 64)
                # (no "pgscore: " of its own: PL/Python puts it before the message; it read "pgscore: pgscore: ")
                raise read_only_refusal(plpy, f"rescoring wiring {w.id} ({w.events.name} to "
                                              f"{w.profiles.name}) writes {w.profiles.name}") from None
            return {"unread": f"the functions its counters call, which could not be read ({_message(e)})"}
    w.counter_code = found
    return found


def _warn_others_code(plpy, w: Wiring, by, others, do, left=""):
    """The WARNING of a wiring that a superuser's `by` skips for the code of `others` (_others_code): `left`
    says what it leaves, `do` how to run it instead."""
    plpy.warning(f"pgscore: {by} skipped wiring {w.id} ({w.events.name} to {w.profiles.name}): "
                 f"{superuser.said(w.profiles.name, others)}{left}", hint=superuser.way_out(do))


# -- refresh_windows ---------------------------------------------------------------------------------

# the wirings of the event table $1 (all where NULL): by its name, or by their trigger on it (renamed since)
_REFRESH_WIRINGS = ("SELECT r.rescoring_id, r.counters::pg_catalog.text AS counters, r.profile_table "
                    "FROM pgscore.rescoring r "
                    "WHERE $1::pg_catalog.text IS NULL OR r.event_table OPERATOR(pg_catalog.=) "
                    "$1::pg_catalog.regclass::pg_catalog.text OR r.trigger_name OPERATOR(pg_catalog.=) ANY (SELECT "
                    "t.tgname FROM pg_catalog.pg_trigger t WHERE t.tgrelid OPERATOR(pg_catalog.=) "
                    "$1::pg_catalog.regclass::pg_catalog.oid) ORDER BY 1")
_ON_TABLE = ("SELECT t.tgrelid::pg_catalog.int8 AS oid FROM pgscore.rescoring r JOIN pg_catalog.pg_trigger t "
             "ON t.tgname OPERATOR(pg_catalog.=) r.trigger_name AND t.tgfoid OPERATOR(pg_catalog.=) "
             "'pgscore.rescore_events()'::pg_catalog.regprocedure WHERE r.rescoring_id OPERATOR(pg_catalog.=) $1 "
             "ORDER BY 1 LIMIT 1")


def refresh(plpy, GD, event_table=None, limit=None):
    """Bring the counters that age (ages(): windows, recomputes that read the clock) up to date and rescore
    the profiles whose counters changed, wiring by wiring (all, or those of `event_table`, its name as regclass
    prints it), at most `limit` profiles in all, in key order: those done are current, so the next call goes
    on after them.
    Returns (rescoring_id, event table oid, profile table oid, recounted, rescored, failed) per wiring
    with such counters; a wiring skipped (its event table dropped or renamed, a column missing, a superuser's call
    over tables others own) has NULL counts and a WARNING; one the caller may not use (no USAGE on a schema, no
    privilege on a table: review r2 of session 70, it had NULL counts) is left out, with a WARNING. Each wiring in a subtransaction of its own (session 69): an error of one (a privilege the caller lacks
    to lock or write the profiles it found stale, its key retyped) rolls its recount back and skips it alone, so that
    its counters are never current while its scores are not."""
    if limit is not None and limit < 1:
        raise PgscoreError(f"p_limit must be a positive number of profiles, got {limit}", sqlstate="22023")
    check_relation(event_table, "event table")
    skipped_reset(plpy)
    rows = plpy.execute(plpy.prepare(_REFRESH_WIRINGS, ["pg_catalog.text"]), [event_table])
    if event_table is not None and not rows:
        raise PgscoreError(f"{event_table} is not wired for rescoring", sqlstate="42704",
                           hint="list wirings with: SELECT * FROM pgscore.rescoring")
    out, left = [], limit
    for row in rows:
        # (session 69) each wiring in a subtransaction of its own: one wiring's error (its profile key retyped, a
        # schema the caller may not use) rolls back its recount and skips it alone, with a WARNING
        rid_of, left_before = row["rescoring_id"], left
        denied = not_usable(plpy, rid_of) if any(ages(c) for c in parse_counters(row["counters"])) else None
        if denied:  # (as retry_failed) another team's wiring: left out of the result, said in a WARNING
            _warn_not_usable(plpy, "refresh_windows", rid_of, denied, "its counters that age are not recounted here",
                             f"SELECT * FROM pgscore.refresh_windows({quote_literal(plpy, denied['event_table'])})")
            continue
        try:
            with plpy.subtransaction():
                if not any(ages(c) for c in parse_counters(row["counters"])):
                    continue  # nothing of it changes as time passes
                rid = row["rescoring_id"]
                on = plpy.execute(plpy.prepare(_ON_TABLE, ["pg_catalog.int8"]), [rid])
                on_oid = on[0]["oid"] if on else None
                GD.get("pgscore.rescoring", {}).pop(rid, None)  # read afresh: its tables may be gone
                w = wiring(plpy, GD, rid)
                if w is None:
                    gone = _wiring_row(plpy, rid)
                    if _warn_no_name(plpy, "refresh_windows", gone, "its counters that age are not recounted"):
                        out.append((rid, on_oid, gone["profile_oid"], None, None, None))
                        continue
                    which = ("its event table" if gone["event_oid"] is None else f"its profile table {gone['profile_table']}")
                    plpy.warning(f"pgscore: refresh_windows skipped wiring {rid}: {which} was dropped or renamed",
                                 hint="detach_rescoring of a renamed event table under its new name, then attach it again; "
                                      "forget_rescoring of one whose event table was dropped")
                    out.append((rid, on_oid, gone["profile_oid"], None, None, None))
                    continue
                moved = plpy.execute(plpy.prepare(_MOVED, ["pg_catalog.int8", "pg_catalog.oid"]), [w.id, w.events.oid])
                if moved:  # its statements name the event table: they would recount another table's events
                    where = moved[0]["on_name"]
                    plpy.warning(f"pgscore: refresh_windows skipped wiring {w.id}: its event table {w.events.name} was "
                                 f"renamed to {where} (its trigger is there), and {w.events.name} is now another table",
                                 hint=f"detach it with SELECT pgscore.detach_rescoring({quote_literal(plpy, where)}), then "
                                      "attach the table whose events it should count")
                    out.append((w.id, on_oid, w.profiles.oid, None, None, None))
                    continue
                if w.missing:
                    plpy.warning(f"pgscore: refresh_windows skipped wiring {w.id}: column(s) missing: "
                                 f"{', '.join(w.missing)}", hint=_COLUMNS_HINT)
                    out.append((w.id, w.events.oid, w.profiles.oid, None, None, None))
                    continue
                others = _others_code(plpy, GD, w)
                if others:  # as retry_failed
                    _warn_others_code(plpy, w, "refresh_windows", others, "run it")
                    out.append((w.id, w.events.oid, w.profiles.oid, None, None, None))
                    continue
                if left is not None and left <= 0:
                    out.append((w.id, w.events.oid, w.profiles.oid, 0, 0, 0))  # the limit is spent: the next call
                    continue
                try:  # (the model is resolved, and loaded in a new backend, only where some profile is stale)
                    stale = plpy.prepare(Sql(plpy, w, None, source=w.events.name).stale(),
                                         ["pg_catalog.int8", "pg_catalog.text[]"])
                    keys = plpy.execute(stale, [left, _queued_as_profile_keys(plpy, w)])[0]["keys"] or []
                except plpy.SPIError as e:
                    if not _not_allowed(plpy, w, e, "refresh_windows"):
                        raise
                    continue  # (review r2 of session 70) left out, as one in a schema the caller may not use
                if not keys:
                    out.append((w.id, w.events.oid, w.profiles.oid, 0, 0, 0))
                    continue
                if left is not None:
                    left -= len(keys)
                plans = _plans(plpy, GD, w, retry="refresh")
                failures, changed = [], []

                def recount(keys, _scores, _labels):
                    changed.extend(plpy.execute(plans.recount, [keys])[0]["keys"] or [])  # noqa: B023 - called now

                def not_recounted(keys, _scores, e):
                    failures.append(Failure(keys, f"recounting the counters that read {w.events.name} failed: "  # noqa: B023
                                                  f"{_message(e)}", _state(e)))

                if keys:  # (always: a wiring with none stopped above)
                    try:
                        recount(keys, None, None)
                    except plpy.SPIError as e:
                        if _not_allowed(plpy, w, e, "refresh_windows"):
                            continue  # (left out: above)
                        if _must_raise(e):
                            raise
                        _in_parts(plpy, recount, keys, [None] * len(keys), None, not_recounted, error=e)
                scored = _rescore_changed(plpy, w, plans, changed, failures,
                                          lambda: _plans(plpy, GD, w, retry="refresh"))  # noqa: B023 - called now
                queue(plpy, w, plans.queue, failures, via="refresh_windows")
                failed_n = len({k for f in failures for k in f.keys})
                out.append((w.id, w.events.oid, w.profiles.oid, len(changed), scored, failed_n))
        except (plpy.SPIError, PgscoreError) as e:
            if of_the_transaction(_state(e)) or _state(e) == READ_ONLY:
                raise
            left = left_before
            r, _, fix = _wiring_failed(plpy, GD, rid_of, e)
            if r is None:  # (session 70) detached by another session meanwhile: left out, as retry_failed leaves it
                _warn_gone(plpy, "refresh_windows", rid_of, "the other wirings were refreshed", row["profile_table"])
                continue
            plpy.warning(f"pgscore: refresh_windows skipped wiring {int(rid_of)} ({r['event_table']} to "
                         f"{r['profile_table']}): {_message(e)}; its counters and scores are left as they were",
                         hint=fix.replace("SELECT * FROM pgscore.retry_failed() again",
                                          "SELECT * FROM pgscore.refresh_windows() again")
                         + "; the other wirings were refreshed")
            if _state(e) == INSUFFICIENT_PRIVILEGE:  # (review r2 of session 70) the caller's: left out, as above
                _note_skipped(plpy, rid_of, "table")
                continue
            on = plpy.execute(plpy.prepare(_ON_TABLE, ["pg_catalog.int8"]), [rid_of])
            out.append((rid_of, on[0]["oid"] if on else None, r["profile_oid"], None, None, None))
    return out


def _rescore_changed(plpy, w: Wiring, plans, changed, failures, replan=None) -> int:
    """Rescore the profiles `changed` (keys as text) whose counters refresh_windows or backfill_rescoring just
    recounted, with their plans (RefreshPlans, BackfillPlans): read, scored, written with their audit rows; the
    profiles that fail are added to `failures`. Returns how many were scored. `replan`: the plans of the version
    live now, asked once the read holds the profiles' locks: the plans were made before the recount waited for
    them, and a version made live meanwhile (its scores written by the rescore_profiles that held them) is the
    one to score with, not the older one planned for (session 62)."""
    scored = 0
    if changed and plans.model is None:
        failures.append(Failure(changed, plans.error.message, plans.error.sqlstate))
    elif changed:
        try:
            r = _retry_read(plpy, plans, changed)
            now = replan() if replan is not None else plans
            if now is not plans:  # another version went live while the recount waited: read with its plans
                plans = now
                if plans.model is None:
                    failures.append(Failure(changed, plans.error.message, plans.error.sqlstate))
                    return 0
                r = _retry_read(plpy, plans, changed)
        except plpy.SPIError as e:
            if _must_raise(e) or _state(e) == INSUFFICIENT_PRIVILEGE:
                raise  # (the recount is written: failing here would lose it with the transaction)
            r = {"keys": None}
            failures.append(Failure(changed, f"reading the profiles failed: {_message(e)}", _state(e)))
        model = plans.model
        failures += r.get("failures", [])  # (profiles whose features could not be read: _retry_read)
        found = r.get("good", r["keys"] or [])
        if found:
            scores, labels = _score(model, found, r["data"], failures, plans.fmt, w.label_column is not None,
                                    _word_reader(plpy, w))
            unwritten = set()

            def execute(keys, scores, labels):
                plpy.execute(plans.write, _write_args(keys, scores, labels, w, model))

            def failed(keys, scores, e):
                unwritten.update(keys)
                failures.append(Failure(keys, f"writing the score and its audit row failed: {_message(e)}",
                                        _state(e)))

            _in_parts(plpy, execute, found, scores, labels, failed)
            scored = sum(s is not None for k, s in zip(found, scores) if k not in unwritten)
    return scored


class _WarningsCounted:
    """plpy, whose warning() also counts the WARNINGs raised through it (backfill's: the caller's exit code)."""

    def __init__(self, plpy):
        self._plpy, self.n = plpy, 0

    def __getattr__(self, name):
        return getattr(self._plpy, name)

    def warning(self, *args, **kwargs):
        self.n += 1
        return self._plpy.warning(*args, **kwargs)


# (session 71) how many WARNINGs backfill_rescoring raised, for its caller to read in the same transaction: `pgscore
# backfill` exits 1 on them (it saw them as notices starting with 'WARNING:', which client_min_messages = error hides)
BACKFILL_WARNINGS = "pgscore.backfill_warnings"


def backfill(plpy, GD, event_table, chunk=BACKFILL_CHUNK) -> int:
    """_backfill, the WARNINGs it raises counted into the setting BACKFILL_WARNINGS."""
    counted = _WarningsCounted(plpy)
    set_it = plpy.prepare(f"SELECT pg_catalog.set_config('{BACKFILL_WARNINGS}', $1, true)", ["pg_catalog.text"])
    plpy.execute(set_it, ["0"])
    n = _backfill(counted, GD, event_table, chunk)
    plpy.execute(set_it, [str(counted.n)])
    return n


def _backfill(plpy, GD, event_table, chunk=BACKFILL_CHUNK) -> int:
    """Bring the counters of the wirings of `event_table` (its name as regclass prints it) up to date with all of
    its events, and rescore the profiles whose counters changed: what attach_rescoring over a table that held
    events, or attached again after a detach, left uncounted (counters of new events alone: count, add, max, min,
    last). Every counter a rule defines over all of the events (BACKFILLED) is recounted from them (Sql.backfill);
    a set counter's aggregate is of one statement's events, so it is skipped with a NOTICE. The missing profiles
    are created where the wiring creates them; the profiles queued in pgscore.error_queue are left to
    retry_failed (which may replay events into them), with a NOTICE. `chunk` profiles a statement, in key order
    (locked as the trigger locks them: no deadlock with an INSERT), each chunk's locks held to the commit.
    Returns how many profiles' counters changed (audit rows: source refresh, via backfill_rescoring)."""
    if event_table is None:
        raise PgscoreError("pgscore.backfill_rescoring: the event table is NULL", sqlstate="22004")
    check_relation(event_table, "event table")
    rows = plpy.execute(plpy.prepare(_REFRESH_WIRINGS, ["pg_catalog.text"]), [event_table])
    if not rows:
        raise PgscoreError(f"{event_table} is not wired for rescoring", sqlstate="42704",
                           hint="list wirings with: SELECT * FROM pgscore.rescoring")
    total = 0
    for row in rows:
        w = _fresh_wiring(plpy, GD, row["rescoring_id"], event_table, "backfilled")
        moved = plpy.execute(plpy.prepare(_MOVED, ["pg_catalog.int8", "pg_catalog.oid"]), [w.id, w.events.oid])
        if moved:
            raise PgscoreError(f"wiring {w.id} cannot be backfilled: its event table {w.events.name} was renamed to "
                               f"{moved[0]['on_name']} (its trigger is there)", sqlstate="42P01",
                               hint=f"detach it with SELECT pgscore.detach_rescoring("
                                    f"{quote_literal(plpy, moved[0]['on_name'])}), then attach it again")
        if not _whole_wiring(plpy, GD, w, "backfilled", "backfill_rescoring"):
            continue
        skipped = [c for c in w.counters if c.kind not in BACKFILLED]
        for c in skipped:
            plpy.notice(f"pgscore: backfill_rescoring: counter {c.column} ({c.kind}) is not backfilled: its "
                        "aggregate is of the events of one statement, the last, which no order of the table's "
                        "events says; it keeps its value until the next event of its profile")
        if len(skipped) == len(w.counters):
            continue  # (no counter to recount: the scores are the counters' as they are)
        sql = Sql(plpy, w, None, source=w.events.name)
        listed = plpy.prepare(sql.backfill_keys(), ["pg_catalog.text[]"])
        plans, failures, done, touched, unrecounted_all = None, [], set(), set(), {}
        # the existing profiles first, locked in key order, then the missing ones created and counted: the order
        # the trigger takes (it locks a statement's profiles, then creates the missing): a create first, out of key
        # order, deadlocked with a transaction holding a profile whose next INSERT named one it created
        for creating in ((False, True) if w.missing_profile == "create" else (False,)):
            created = set()
            if creating:
                try:
                    created = {x["k"] for x in plpy.execute(
                        sql.create(missing=True) + f" RETURNING p.{quote_ident(plpy, w.profile_key)}::pg_catalog.text "
                        "AS k")}
                except plpy.SPIError as e:
                    if _must_raise(e):
                        raise
                    plpy.warning(f"pgscore: backfill_rescoring: the profiles of {w.profiles.name} its events name "
                                 f"that it lacks could not be created: {_message(e)}; their events are not counted",
                                 hint="create them, then run backfill_rescoring again")
            r = plpy.execute(listed, [_queued_as_profile_keys(plpy, w)])[0]
            keys = [k for k in r["keys"] or [] if k not in done]
            # the profiles it created whose key is queued (a missing profile the trigger could not create, or
            # left uncreated: an event's counter failed): no counter of theirs was ever applied, so the recount
            # is their count, not one retry_failed's replay would add to; counted and scored here (before, created
            # with every counter at its default and left so, and retry_failed scored those defaults)
            fresh = sorted(created - set(keys) - done)
            done.update(keys)
            done.update(fresh)
            left = r["queued"] - len(fresh)
            if left > 0 and (creating or w.missing_profile != "create"):
                plpy.notice(f"pgscore: backfill_rescoring: {left} profile(s) of {w.profiles.name} queued in "
                            "pgscore.error_queue were left: retry_failed may replay events into their counters",
                            hint="SELECT * FROM pgscore.retry_failed(), then backfill_rescoring again")
            if (keys or fresh) and plans is None:
                plans = _plans(plpy, GD, w, retry="backfill")

            def replan():  # (the version live once a chunk's profiles are held: _rescore_changed)
                return _plans(plpy, GD, w, retry="backfill")  # noqa: B023 - called now
            for at in range(0, len(keys), chunk):
                part = keys[at:at + chunk]
                changed, unrecounted = _backfill_recount(plpy, plans, part, unrecounted_all)
                _uncreate(plpy, sql, unrecounted & created)
                touched.update(changed)
                # (a profile it created is rescored, and counted, whether or not a counter moved from its default)
                new = [k for k in part if k in created and k not in set(changed) and k not in unrecounted]
                touched.update(new)
                _rescore_changed(plpy, w, plans, changed + new, failures, replan)
            for at in range(0, len(fresh), chunk):
                part = fresh[at:at + chunk]
                _, unrecounted = _backfill_recount(plpy, plans, part, unrecounted_all)
                _uncreate(plpy, sql, unrecounted)  # (review r2: as they were, missing, their queue rows kept whole)
                part = [k for k in part if k not in unrecounted]
                plpy.execute(plpy.prepare(_UNMARK, ["pg_catalog.int8", "pg_catalog.text[]"]), [w.id, part])
                touched.update(part)
                _rescore_changed(plpy, w, plans, part, failures, replan)
        _warn_unrecounted(plpy, w, unrecounted_all)
        total += len(touched)
        if w.missing_profile != "create":
            none = plpy.execute(sql.keys(missing_only=True))[0]["keys"] or []
            if none:
                plpy.notice(f"pgscore: backfill_rescoring: {len(none)} key(s) of {w.events.name}'s events have no "
                            f"profile in {w.profiles.name}, which the wiring does not create (p_missing_profile "
                            "'queue'): their events are not counted")
        if plans is not None:
            queue(plpy, w, plans.queue, failures, via="backfill_rescoring")
    return total


def _backfill_recount(plpy, plans, keys, failed: dict) -> tuple[list, set]:
    """backfill_rescoring's recount of the profiles `keys` (plans.recount): the keys whose counters changed, and those
    whose recount failed, added to `failed` (key: error) for the wiring's one WARNING (_warn_unrecounted). (Session 70)
    Where it fails for some rows (a CHECK a counted value breaks, a value out of range: _in_parts), those are left as
    they were and the others recounted: one profile's error failed the whole backfill, every other profile's recount
    rolled back. They are not queued: a queued profile is left to retry_failed, which does not recount these
    counters; the next backfill, once the cause is fixed, does."""
    changed, here = [], {}

    def execute(ks, _scores, _labels):
        changed.extend(plpy.execute(plans.recount, [ks])[0]["keys"] or [])

    def not_recounted(ks, _scores, e):
        for k in ks:
            here[k] = e

    try:
        execute(keys, None, None)
    except plpy.SPIError as e:
        # (review r2 of session 70) an error not of some rows' values (a trigger's, a type: every row's, which
        # _in_parts does not search) fails the call, as a wiring that cannot be backfilled does: a WARNING of all of
        # its profiles let SELECT pgscore.backfill_rescoring(...) return a count that looks complete
        if _must_raise(e) or (_state(e) or "")[:2] not in ("22", "23"):
            raise
        _in_parts(plpy, execute, keys, [None] * len(keys), None, not_recounted, error=e)
    failed.update(here)
    return changed, set(here)


def _warn_unrecounted(plpy, w: Wiring, failed: dict):
    """The one WARNING of a wiring's profiles whose backfill recount failed (_backfill_recount): how many, the first
    5 in key order, the first one's error. (Review r2 of session 70: it was one a 10,000-profile chunk, 1,000 of them
    where a CHECK fails every profile of 10 million, its keys the first 5 as text sorts them, '1', '10', '100'.)"""
    if failed:
        first = list(failed)[:5]  # (in the order recounted: key order, the existing profiles, then those created)
        plpy.warning(f"pgscore: backfill_rescoring: {len(failed)} profile(s) of {w.profiles.name} could not be "
                     f"recounted from the events of {w.events.name} (key(s) "
                     f"{', '.join(quote_literal(plpy, k) for k in first)}{', ...' if len(failed) > 5 else ''}): "
                     f"{_message(failed[first[0]])}; their counters and scores are left as they were (those it "
                     "created, removed again)",
                     hint=f"fix the cause, then SELECT pgscore.backfill_rescoring({quote_literal(plpy, w.events.name)}) "
                          "again (the other profiles were recounted)")


def _uncreate(plpy, sql, keys):
    """(Review r2 of session 70) Delete the profiles `keys` backfill_rescoring created in this call whose recount
    failed (_backfill_recount): left, they kept every counter at its default, and retry_failed scored a queued one on
    those defaults and cleared its row, its events counted nowhere; deleted, they are as they were (missing, queued
    as missing where they were), for the next backfill_rescoring to create and count."""
    if keys:
        plpy.execute(plpy.prepare(f"DELETE FROM {sql.P} AS p WHERE p.{sql.pk} {EQ} ANY ({sql.typed_keys()})",
                                  ["pg_catalog.text[]"]), [sorted(keys)])


# the queue rows of the keys $2 of wiring $1 without the events their counters missed (_mark_uncounted): the backfill
# recounted those counters from all of the events (a replay after it would count them twice)
_UNMARK = (f"UPDATE pgscore.error_queue AS q SET cause = {_WITHOUT_UNCOUNTED} WHERE q.rescoring_id "
           "OPERATOR(pg_catalog.=) $1 AND q.entity_key OPERATOR(pg_catalog.=) ANY ($2)")


def _fresh_wiring(plpy, GD, rid, event_table, done) -> Wiring:
    """Wiring `rid` of `event_table`, read afresh (its tables may have changed since this session cached it); a
    profile table dropped or renamed is an error (the wiring cannot be `done`)."""
    GD.get("pgscore.rescoring", {}).pop(rid, None)
    w = wiring(plpy, GD, rid)
    if w is None:
        raise PgscoreError(f"wiring {rid} of {event_table} cannot be {done}: its profile table was dropped or renamed",
                           sqlstate="42P01", hint="detach it, then attach the profile table again")
    return w


def _whole_wiring(plpy, GD, w, done, function) -> bool:
    """Whether `function` (backfill_rescoring, rescore_profiles) goes on with wiring `w`: a column it reads missing
    is an error (`w` cannot be `done`); for a superuser, a wiring whose profile table's UPDATE would run another
    role's code as the superuser (_others_code) is skipped with a warning, as refresh_windows skips it."""
    if w.missing:
        raise PgscoreError(f"wiring {w.id} cannot be {done}: column(s) missing: {', '.join(w.missing)}",
                           sqlstate="42703", hint=_COLUMNS_HINT)
    others = _others_code(plpy, GD, w)
    if others:
        _warn_others_code(plpy, w, function, others, "run it")
        return False
    return True


RESCORE_LIMIT = 10_000  # rescore_profiles' profiles a call, by default


def rescore_profiles(plpy, GD, event_table, profile_table=None, after=None, limit=RESCORE_LIMIT) -> list:
    """Rescore the profiles of the wirings of `event_table` (those to `profile_table` alone, when given) with the
    live version as they are, no counter changed: score, label and scored_at written as the trigger writes them,
    with their audit rows (source refresh, via rescore_profiles). What a rollback or activate leaves (profiles
    scored by the version live before), or an UPDATE of a profile's own columns (no event, no rescoring). At most
    `limit` profiles a wiring, in key order, after the key `after` (as text; with more than one wiring, a profile
    table must be named); those queued in pgscore.error_queue are left to retry_failed (a NOTICE counts them on
    the first call). Returns (rescoring_id, profile table oid, rescored, failed, last key) per wiring; the last key
    is NULL when no profile is left after it. A profile that fails is queued, as the trigger queues it."""
    if event_table is None:
        raise PgscoreError("pgscore.rescore_profiles: the event table is NULL", sqlstate="22004")
    if limit is None or limit < 1:
        raise PgscoreError(f"pgscore.rescore_profiles: p_limit must be a positive number of profiles, got {limit}",
                           sqlstate="22023")
    check_relation(event_table, "event table")
    if profile_table is not None:
        check_relation(profile_table, "profile table")
    rows = plpy.execute(plpy.prepare(_REFRESH_WIRINGS, ["pg_catalog.text"]), [event_table])
    if profile_table is not None:
        rows = [r for r in rows
                if plpy.execute(plpy.prepare("SELECT r.profile_table OPERATOR(pg_catalog.=) $2::pg_catalog.regclass"
                                             "::pg_catalog.text AS it FROM pgscore.rescoring r WHERE r.rescoring_id "
                                             "OPERATOR(pg_catalog.=) $1", ["pg_catalog.int8", "pg_catalog.text"]),
                                [r["rescoring_id"], profile_table])[0]["it"]]
    if not rows:
        raise PgscoreError(f"{event_table} is not wired for rescoring"
                           + (f" to {profile_table}" if profile_table is not None else ""), sqlstate="42704",
                           hint="list wirings with: SELECT * FROM pgscore.rescoring")
    if after is not None and len(rows) > 1:
        raise PgscoreError(f"pgscore.rescore_profiles: {event_table} has {len(rows)} wirings: p_after is a key of "
                           "one profile table", sqlstate="22023",
                           hint="name the profile table too (p_profile_table)")
    out = []
    for row in rows:
        w = _fresh_wiring(plpy, GD, row["rescoring_id"], event_table, "rescored")
        if not _whole_wiring(plpy, GD, w, "rescored", "rescore_profiles"):
            continue
        sql = Sql(plpy, w, None, source=w.events.name)
        queued = (f"(EXISTS (SELECT 1 FROM pgscore.error_queue q WHERE q.rescoring_id {EQ} "
                  f"{int(w.id)}::pg_catalog.int8 AND q.entity_key {EQ} p.{sql.pk}::pg_catalog.text) "
                  f"OR EXISTS (SELECT 1 FROM ({sql.typed_keys('$3')}) AS z(k) WHERE z.k {EQ} p.{sql.pk}))")
        listed = plpy.prepare(
            f"SELECT pg_catalog.array_agg(s.t ORDER BY s.k) AS keys FROM (SELECT p.{sql.pk} AS k, "
            f"p.{sql.pk}::pg_catalog.text AS t FROM {sql.P} AS p WHERE ($1::pg_catalog.text IS NULL OR "
            f"p.{sql.pk} OPERATOR(pg_catalog.>) $1::pg_catalog.text::{sql.ktype}) AND NOT {queued} "
            # (locked here, in key order as the trigger locks them, before the live version is read: a page that
            # waited for an event's transaction, a version made live meanwhile, wrote the older version's score over
            # the newer one's that event had written, session 62)
            f"ORDER BY p.{sql.pk} LIMIT $2 FOR NO KEY UPDATE OF p) AS s",
            ["pg_catalog.text", "pg_catalog.int8", "pg_catalog.text[]"])
        odd = _queued_as_profile_keys(plpy, w)
        keys = plpy.execute(listed, [after, limit, odd])[0]["keys"] or []
        if after is None:
            (n,) = plpy.execute(f"SELECT pg_catalog.count(*) AS n FROM {sql.P} AS p WHERE {queued}"
                                .replace("$3", "NULL"))
            if n["n"]:
                plpy.notice(f"pgscore: rescore_profiles: {n['n']} profile(s) of {w.profiles.name} queued in "
                            "pgscore.error_queue were left to retry_failed (it rescores them with the live version)",
                            hint="SELECT * FROM pgscore.retry_failed()")
        scored, failures = 0, []
        if keys:
            plans = _plans(plpy, GD, w, retry="rescore")
            if plans.model is None:
                raise PgscoreError(f"wiring {w.id} ({w.profiles.name}) cannot be rescored: {plans.error.message}",
                                   sqlstate=plans.error.sqlstate or "55000", hint=plans.error.hint)
            scored = _rescore_changed(plpy, w, plans, keys, failures)
            queue(plpy, w, plans.queue, failures, via="rescore_profiles")
        failed_n = len({k for f in failures for k in f.keys})
        out.append((w.id, w.profiles.oid, scored, failed_n, keys[-1] if len(keys) == limit else None))
    return out


_QUEUED_TEXTS = ("SELECT pg_catalog.array_agg(q.entity_key ORDER BY q.entity_key) AS keys FROM pgscore.error_queue q "
                 "WHERE q.rescoring_id OPERATOR(pg_catalog.=) $1")


def _queued_as_profile_keys(plpy, w: Wiring) -> list:
    """The wiring's queued keys that name a profile as the profile key's type but are not its key's text (usually
    none), for Sql.stale to leave their profiles out: Sql.stale matches the others by the profile key's text. A
    key is queued as the profile key's text, or as the event key's where its rescoring could not run or its
    profile was missing ('5.0' for a numeric profile 5; a timestamptz key written in another TimeZone). One
    statement, an index probe into the profiles per queued key (the queue is not read into Python); where some
    key does not cast (its domain refuses it, or it was written by hand), the keys are read and probed in
    halves, and such a key is left out (its own text is matched by Sql.stale all the same)."""
    if w.key_type is None:
        return []
    pk = quote_ident(plpy, w.profile_key)
    # (the cast is the probe's, so it is made, and a key that does not cast fails the statement)
    odd = ("SELECT pg_catalog.array_agg(s.x ORDER BY s.x) AS keys FROM {} WHERE EXISTS (SELECT 1 FROM "
           f"{w.profile_rows} AS p WHERE p.{pk} {EQ} s.x::{w.key_type} AND p.{pk}::pg_catalog.text "
           "IS DISTINCT FROM s.x)")
    try:
        # (OFFSET 0: the wiring's rows alone are cast, not another wiring's before the filter on its id)
        q = odd.format("(SELECT q.entity_key FROM pgscore.error_queue AS q WHERE q.rescoring_id "
                       f"{EQ} $1 OFFSET 0) AS s(x)")
        return plpy.execute(plpy.prepare(q, ["pg_catalog.int8"]), [w.id])[0]["keys"] or []
    except plpy.SPIError as e:
        if _must_raise(e):
            raise
    keys = plpy.execute(plpy.prepare(_QUEUED_TEXTS, ["pg_catalog.int8"]), [w.id])[0]["keys"] or []
    of = plpy.prepare(odd.format("pg_catalog.unnest($1::pg_catalog.text[]) AS s(x)"), ["pg_catalog.text[]"])

    def halves(part):
        try:
            return plpy.execute(of, [part])[0]["keys"] or []
        except plpy.SPIError as e:
            if _must_raise(e):
                raise
        if len(part) == 1:
            return []  # (it does not cast)
        return halves(part[:len(part) // 2]) + halves(part[len(part) // 2:])
    return halves(keys) if keys else []


def _not_allowed(plpy, w: Wiring, e, by="retry_failed") -> bool:
    """A WARNING, and True, when the caller may not read or write the wiring's tables: that is the
    caller's, not the profiles', so their queued reasons are left as they are."""
    if _state(e) != "42501":
        return False
    what = ("its queued profiles and their reasons are left as they were" if by == "retry_failed"
            else "its counters are left as they were")
    role = quote_ident(plpy, _current_user(plpy))
    plpy.warning(f"pgscore: {by} skipped wiring {w.id} ({w.events.name} to {w.profiles.name}): "
                 f"{_message(e)}; {what}",
                 hint=f"as the owner of the tables: GRANT SELECT, UPDATE ON {w.profiles.name} TO {role}; GRANT "
                      f"SELECT ON {w.events.name} TO {role}; or retry as a role that may read, lock and update "
                      f"{w.profiles.name} and read {w.events.name}")
    _note_skipped(plpy, w.id, "table")
    return True



# -- attach ------------------------------------------------------------------------------------------

_RELATION = ("SELECT c.oid::pg_catalog.int8 AS oid, c.relkind::pg_catalog.text AS kind, "
             "c.oid::pg_catalog.regclass::pg_catalog.text AS name FROM pg_catalog.pg_class c "
             "WHERE c.oid = $1::pg_catalog.regclass::pg_catalog.oid")
# queued profiles no live wiring owns (detached: no wiring; or a wiring whose trigger went with its dropped
# event table), the newest row of each key: they become the new wiring's, so that retry_failed rescores them
# (the events whose counters another wiring's update missed are not this one's to replay: its counters, its event
# table, its ids; they are no longer named)
_ADOPT = (f"UPDATE pgscore.error_queue AS q SET rescoring_id = $1, cause = {_WITHOUT_UNCOUNTED} "
          "WHERE q.error_id OPERATOR(pg_catalog.=) ANY ("
          "SELECT DISTINCT ON (o.entity_key) o.error_id FROM pgscore.error_queue AS o "
          "WHERE o.profile_table OPERATOR(pg_catalog.=) $2 AND o.rescoring_id IS DISTINCT FROM $1 "
          "AND NOT EXISTS (SELECT 1 FROM pgscore.rescoring AS r JOIN pg_catalog.pg_trigger AS t "
          "ON t.tgname OPERATOR(pg_catalog.=) r.trigger_name AND NOT t.tgisinternal "
          "WHERE r.rescoring_id OPERATOR(pg_catalog.=) o.rescoring_id) "
          "ORDER BY o.entity_key, o.last_failed_at DESC, o.error_id DESC) "
          "RETURNING q.error_id")
# (a schema of migration 0160 on) only those queued for this table ($3, its OID), or for a table of this name in
# another database (a dump restored: every OID new; or queued before 0160 where no table had the name): queued for a
# table that was dropped and made again under its name, they are another table's profiles (a tenant's schema dropped
# and made again). Those taken over are stamped as this table's
# (session 67) and those queued in this queue for this table (its OID) under another name: a table renamed since
# (`ALTER TABLE tenant_a.customers RENAME TO customers_old`, then wired under its new name), stamped with its name
_ADOPT_OID = (_ADOPT.replace("SET rescoring_id = $1, ",
                             "SET rescoring_id = $1, profile_table = $2, profile_oid = $3, queue_oid = DEFAULT, "
                             f"queue_system = {SYSTEM_ID}, ")
              .replace("WHERE o.profile_table OPERATOR(pg_catalog.=) $2 AND",
                       "WHERE (o.profile_table OPERATOR(pg_catalog.=) $2 OR (o.profile_oid OPERATOR(pg_catalog.=) $3 "
                       f"AND {THIS_QUEUE.replace('q.', 'o.')})) AND")
              .replace("AND NOT EXISTS (SELECT 1 FROM pgscore.rescoring AS r JOIN",
                       "AND (o.profile_oid IS NULL OR o.profile_oid OPERATOR(pg_catalog.=) $3 OR "
                       f"{THIS_QUEUE.replace('q.', 'o.')} IS NOT TRUE) "
                       "AND NOT EXISTS (SELECT 1 FROM pgscore.rescoring AS r JOIN"))
# the queued profiles of the profile table named $2 that no wiring owns (as _ADOPT: none, or one whose trigger is
# gone; or, $1, one whose profile table is not $3) queued in this database for a table that no longer exists (dropped,
# and another made under its name since): nothing can rescore them; deleted, counted
_GONE_QUEUED = ("WITH d AS (DELETE FROM pgscore.error_queue AS q WHERE q.profile_table OPERATOR(pg_catalog.=) $2 "
                f"AND q.profile_oid IS NOT NULL AND q.profile_oid OPERATOR(pg_catalog.<>) $3 AND {THIS_QUEUE} "
                "AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) q.profile_oid) "
                "AND (q.rescoring_id IS NULL OR q.rescoring_id OPERATOR(pg_catalog.=) $1 OR NOT EXISTS (SELECT 1 FROM "
                "pgscore.rescoring AS r JOIN pg_catalog.pg_trigger AS t ON t.tgname OPERATOR(pg_catalog.=) "
                "r.trigger_name AND NOT t.tgisinternal WHERE r.rescoring_id OPERATOR(pg_catalog.=) q.rescoring_id)) "
                "RETURNING q.entity_key AS k) "
                "SELECT pg_catalog.count(*)::pg_catalog.int4 AS n, (SELECT pg_catalog.array_agg(s.k) FROM (SELECT "
                "DISTINCT d.k FROM d ORDER BY d.k LIMIT 5) AS s) AS keys FROM d")


# (session 68) wiring $1's rows of this queue queued for a table that no longer exists (dropped: a copy swapped in
# under the name, CREATE TABLE AS and a rename, the old one dropped), handed over to its profile table now ($2, its
# OID): its event table's trigger feeds that table by the same key; their keys (the first 5), how many, and how many
# replay the counters of events their failed update missed
# (session 69) each row marked cause->'handed_over' (kept when it is queued again: queue_sql): a key the table now of the
# name lacks is then said to be gone from it (_HANDED_GONE), with the DELETE, not "no row with this id" alone
_HAND_OVER = ("WITH d AS (UPDATE pgscore.error_queue AS q SET profile_oid = $2, cause = COALESCE(q.cause, "
              "'{}'::pg_catalog.jsonb) OPERATOR(pg_catalog.||) '{\"handed_over\": true}'::pg_catalog.jsonb "
              "WHERE q.rescoring_id "
              "OPERATOR(pg_catalog.=) $1 AND q.profile_oid IS NOT NULL AND q.profile_oid OPERATOR(pg_catalog.<>) $2 "
              f"AND {THIS_QUEUE} AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid "
              "OPERATOR(pg_catalog.=) q.profile_oid) RETURNING q.entity_key AS k, pg_catalog.jsonb_typeof(q.cause "
              "OPERATOR(pg_catalog.->) 'uncounted_event_ids') OPERATOR(pg_catalog.=) 'array' AS replays) "
              "SELECT pg_catalog.count(*)::pg_catalog.int4 AS n, pg_catalog.count(*) FILTER (WHERE d.replays)"
              "::pg_catalog.int4 AS replays, (SELECT pg_catalog.array_agg(s.k) FROM (SELECT d.k FROM d ORDER BY d.k "
              "LIMIT 5) AS s) AS keys FROM d")


def handed_over(plpy, w: "Wiring") -> int:
    """(session 68) Hands wiring `w`'s queued rows of a profile table dropped since over to its profile table now
    (_HAND_OVER), with a WARNING naming a few of their keys; returns how many. 0160 deleted them (gone_queued): a
    copy swapped in for the table (CREATE TABLE AS, a rename, the old one dropped: the way to rewrite one) lost the
    rescoring of its queued profiles, which kept the score from before their events. Under a live wiring the profile
    of a key is the row of that key in the table of the wiring's name, which its event table's trigger feeds: a
    rescoring of it reads its own features. Rows of no live wiring (a tenant's schema dropped with its event table,
    another made under its name) are still deleted by gone_queued."""
    row = plpy.execute(plpy.prepare(_HAND_OVER, ["pg_catalog.int8", "pg_catalog.oid"]), [w.id, w.profiles.oid])[0]
    n = row["n"]
    if n:
        keys = _some_keys(plpy, row["keys"], n)
        # (review r4) replayed in this same call, before anyone reads this: the way back for a table whose counters
        # were counted from the events by other means (backfill_rescoring leaves queued profiles to this replay)
        replays = (f"; {row['replays']} of them replay the counters of events their failed update missed, which a "
                   "copy of the dropped table misses too (and a table made anew by backfill_rescoring, which leaves "
                   f"queued profiles uncounted); where {w.profiles.name}'s counters were counted from the events "
                   "otherwise, those events are counted twice by this retry: SELECT pgscore.backfill_rescoring("
                   f"{quote_literal(plpy, w.events.name)}) recounts every counter from the events"
                   if row["replays"] else "")
        plpy.warning(f"pgscore.retry_failed: {n} queued rescoring(s) of wiring {w.id} (key(s) {keys}) were "
                     f"handed over to {w.profiles.name}, the "
                     f"table now of that name: the table they were queued for was dropped (a copy swapped in for it, "
                     f"CREATE TABLE AS and a rename), and {w.events.name}'s trigger feeds {w.profiles.name} by the "
                     "same key",
                     hint=f"they are rescored in {w.profiles.name} now, each reading its own row{replays}; "
                          f"SELECT * FROM pgscore.error_queue WHERE rescoring_id {EQ} "
                          f"{int(w.id)} shows those that fail there")
    return n


def _some_keys(plpy, keys, n) -> str:
    """The first keys of `n` queued rows as SQL literals, `, ...` after them where there are more."""
    keys = keys or []
    return ", ".join(quote_literal(plpy, k) for k in keys) + (", ..." if n > len(keys) else "")


def gone_queued(plpy, rescoring_id, profiles: "Table", by: str, events: "str | None" = None) -> int:
    """Deletes the queued profiles _GONE_QUEUED finds, with a WARNING where there are any (`by`: the function
    that does it; `events`: the wiring's event table, for the hint's rescore_profiles call); returns how many.
    The WARNING names a few of their keys, and its hint the case where the table of the name is a copy of the
    dropped one (a rewrite by CREATE TABLE AS and a rename, session 67: then they are its profiles, their scores
    missing their last events) and how to rescore them."""
    row = plpy.execute(plpy.prepare(_GONE_QUEUED, ["pg_catalog.int8", "pg_catalog.text", "pg_catalog.oid"]),
                       [rescoring_id, profiles.name, profiles.oid])[0]
    n = row["n"]
    if n:
        keys = _some_keys(plpy, row["keys"], n)
        # (review r2) every page: one call rescores the first 10,000 profiles in key order, and a deleted key after
        # them kept its stale score, the hint followed as written
        rescore = (f"pgscore rescore --table {shlex.quote(events)} --profile-table {shlex.quote(profiles.name)} "
                   "(every profile, 10,000 a transaction; in SQL SELECT * FROM pgscore.rescore_profiles("
                   f"{quote_literal(plpy, events)}, {quote_literal(plpy, profiles.name)}), then again with its "
                   "last_key as p_after until that is NULL)" if events else "pgscore.rescore_profiles")
        plpy.warning(f"pgscore.{by}: {n} queued rescoring(s) of {profiles.name} were deleted: they were queued for "
                     f"a table of that name that no longer exists (dropped, and {profiles.name} made again since), so "
                     f"nothing could rescore them (key(s) {keys})",
                     hint=f"they are not {profiles.name}'s profiles, unless it was made as a copy of the dropped table "
                          "(CREATE TABLE AS and a rename, to rewrite it; VACUUM FULL, CLUSTER and pg_repack keep a "
                          "table and its queue): then those keys' scores miss their last events; its profiles are "
                          f"rescored by their next event, or by {rescore}")
    return n
# two types, each a domain's base type where it is one, by name, and whether each is a composite type (a row)
_BASE_TYPES = ("SELECT pg_catalog.format_type(sb.oid, NULL) AS src, pg_catalog.format_type(db.oid, NULL) AS dst, "
               "sb.typtype OPERATOR(pg_catalog.=) 'c' AS src_row, db.typtype OPERATOR(pg_catalog.=) 'c' AS dst_row "
               "FROM pg_catalog.pg_type s, pg_catalog.pg_type d, pg_catalog.pg_type sb, pg_catalog.pg_type db "
               "WHERE s.oid OPERATOR(pg_catalog.=) $1 AND d.oid OPERATOR(pg_catalog.=) $2 AND sb.oid OPERATOR(pg_catalog.=) "
               "CASE WHEN s.typbasetype OPERATOR(pg_catalog.<>) 0 THEN s.typbasetype ELSE s.oid END "
               "AND db.oid OPERATOR(pg_catalog.=) CASE WHEN d.typbasetype OPERATOR(pg_catalog.<>) 0 THEN d.typbasetype "
               "ELSE d.oid END")
# a deferrable unique index of the key alone, which INSERT ... ON CONFLICT (key) would infer and then refuse to use
# (also beside an immediate one), and the constraint it belongs to
_DEFERRABLE_KEY = ("SELECT COALESCE(pg_catalog.quote_ident(c.conname), i.indexrelid::pg_catalog.regclass::pg_catalog.text)::pg_catalog.text "
                   "AS name FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute a ON a.attrelid "
                   "OPERATOR(pg_catalog.=) i.indrelid AND a.attnum OPERATOR(pg_catalog.=) i.indkey[0] "
                   "LEFT JOIN pg_catalog.pg_constraint c ON c.conindid OPERATOR(pg_catalog.=) i.indexrelid "
                   "AND c.conrelid OPERATOR(pg_catalog.=) i.indrelid "
                   "WHERE i.indrelid OPERATOR(pg_catalog.=) $1 AND a.attname OPERATOR(pg_catalog.=) $2::pg_catalog.name "
                   "AND i.indisunique AND NOT i.indimmediate AND i.indnkeyatts OPERATOR(pg_catalog.=) 1 "
                   "AND i.indpred IS NULL AND i.indexprs IS NULL ORDER BY 1 LIMIT 1")
# a column's collation (none: NULL) and whether it is deterministic
_COLLATION = ("SELECT c.collname::pg_catalog.text AS name, c.collisdeterministic AS deterministic "
              "FROM pg_catalog.pg_attribute a LEFT JOIN pg_catalog.pg_collation c ON c.oid OPERATOR(pg_catalog.=) "
              "a.attcollation WHERE a.attrelid OPERATOR(pg_catalog.=) $1 AND a.attname OPERATOR(pg_catalog.=) $2")
# a profile table's columns that an INSERT of the key alone leaves NULL and that refuse NULL
_NO_DEFAULT = ("SELECT pg_catalog.array_agg(a.attname::pg_catalog.text ORDER BY a.attnum) AS cols "
               "FROM pg_catalog.pg_attribute a WHERE a.attrelid OPERATOR(pg_catalog.=) $1 "
               "AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped AND a.attnotnull AND NOT a.atthasdef "
               "AND a.attidentity OPERATOR(pg_catalog.=) '' AND a.attgenerated OPERATOR(pg_catalog.=) '' "
               "AND a.attname OPERATOR(pg_catalog.<>) $2::pg_catalog.name")
# whether the profile table $1, named $2.$3 by an error, has a NOT NULL column $4 without a default (as _NO_DEFAULT)
# and no enabled BEFORE INSERT row trigger (tgtype: ROW 1 | BEFORE 2 | INSERT 4)
_EVERY_ROW_NULL = ("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid "
                   "OPERATOR(pg_catalog.=) c.relnamespace JOIN pg_catalog.pg_attribute a ON a.attrelid "
                   "OPERATOR(pg_catalog.=) c.oid WHERE c.oid OPERATOR(pg_catalog.=) $1 AND n.nspname::pg_catalog.text "
                   "OPERATOR(pg_catalog.=) $2 AND c.relname::pg_catalog.text OPERATOR(pg_catalog.=) $3 "
                   "AND a.attname::pg_catalog.text OPERATOR(pg_catalog.=) $4 AND a.attnum OPERATOR(pg_catalog.>) 0 "
                   "AND NOT a.attisdropped AND a.attnotnull AND NOT a.atthasdef AND a.attidentity "
                   "OPERATOR(pg_catalog.=) '' AND a.attgenerated OPERATOR(pg_catalog.=) '') "
                   "AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t WHERE t.tgrelid OPERATOR(pg_catalog.=) $1 "
                   "AND t.tgenabled OPERATOR(pg_catalog.<>) 'D'::pg_catalog.\"char\" "
                   "AND (t.tgtype::pg_catalog.int4 OPERATOR(pg_catalog.&) 7) OPERATOR(pg_catalog.=) 7) AS every")
_POSITIVE = "SELECT $1::pg_catalog.interval OPERATOR(pg_catalog.>) '0'::pg_catalog.interval AS ok"
# an index (a partitioned table's too) whose first column is the key
_KEY_INDEX = ("SELECT 1 FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute a ON a.attrelid "
              "OPERATOR(pg_catalog.=) i.indrelid AND a.attnum OPERATOR(pg_catalog.=) i.indkey[0] "
              "WHERE i.indrelid OPERATOR(pg_catalog.=) $1 AND a.attname OPERATOR(pg_catalog.=) $2::pg_catalog.name")
_PRIMARY_KEY = ("SELECT a.attname::pg_catalog.text AS name FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute a "
                "ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] WHERE i.indrelid = $1::pg_catalog.oid "
                "AND i.indisprimary AND i.indnatts = 1")
# a wiring of these tables by name, and the table its trigger is on now (NULL: dropped with its table)
_ATTACHED = ("SELECT r.rescoring_id, t.tgrelid::pg_catalog.int8 AS on_oid, "
             "t.tgrelid::pg_catalog.regclass::pg_catalog.text AS on_name FROM pgscore.rescoring r "
             "LEFT JOIN pg_catalog.pg_trigger t ON t.tgname OPERATOR(pg_catalog.=) r.trigger_name "
             "AND NOT t.tgisinternal WHERE r.event_table OPERATOR(pg_catalog.=) $1 "
             "AND r.profile_table OPERATOR(pg_catalog.=) $2")
_FORGET = "DELETE FROM pgscore.rescoring r WHERE r.rescoring_id OPERATOR(pg_catalog.=) $1"
_INSERT = ("INSERT INTO pgscore.rescoring (rescoring_id, event_table, profile_table, event_key, profile_key, "
           "model_name, score_column, scored_at_column, counters, event_id_column, missing_profile, strict, "
           "trigger_name, replication_trigger) SELECT s.id, $1, $2, "
           "$3, $4, $5, $6, $7, $8::pg_catalog.jsonb, $9, $10, $11, 'pgscore_rescore_' || s.id, "
           "CASE WHEN $12 THEN 'pgscore_replicated_' || s.id END "
           "FROM (SELECT pg_catalog.nextval(pg_catalog.pg_get_serial_sequence('pgscore.rescoring', 'rescoring_id')) "
           "AS id) AS s RETURNING rescoring_id, trigger_name, replication_trigger")
# whether the schema has the row trigger for replicated rows (attach runs against older schemas too: pgscore
# install upgrades them); before it, _INSERT and _ORPHANS without it
_REPLICATION = ("SELECT pg_catalog.to_regprocedure('pgscore.rescore_replicated()') IS NOT NULL AS ok")
_INSERT_BEFORE = (_INSERT.replace(", replication_trigger) SELECT", ") SELECT")
                  .replace(", CASE WHEN $12 THEN 'pgscore_replicated_' || s.id END ", " ")
                  .replace("trigger_name, replication_trigger", "trigger_name, NULL::pg_catalog.name AS replication_trigger"))
_INSERT_TYPES = ["pg_catalog.text", "pg_catalog.text", "pg_catalog.name", "pg_catalog.name", "pg_catalog.text",
                 "pg_catalog.name", "pg_catalog.name", "pg_catalog.text", "pg_catalog.name", "pg_catalog.text",
                 "pg_catalog.bool", "pg_catalog.bool"]
# with a label column ($13): a schema of migration 0119 or later, whose attach_rescoring alone takes one
_INSERT_LABEL = (_INSERT.replace("trigger_name, replication_trigger) SELECT", "trigger_name, replication_trigger, "
                                 "label_column) SELECT")
                 .replace("END FROM (SELECT pg_catalog.nextval", "END, $13 FROM (SELECT pg_catalog.nextval"))
assert _INSERT_LABEL.count("$13") == 1 and "label_column) SELECT" in _INSERT_LABEL


# triggers of pgscore's on a table that no wiring owns: detach_rescoring's rule (a wiring owns the trigger of
# its name on the table it names, or wherever that trigger is when the table it names has none: renamed)
_ORPHANS = ("SELECT t.tgname FROM pg_catalog.pg_trigger t WHERE t.tgrelid = $1 "
            "AND t.tgfoid IN ('pgscore.rescore_events()'::pg_catalog.regprocedure::pg_catalog.oid, "
            "'pgscore.rescore_replicated()'::pg_catalog.regprocedure::pg_catalog.oid) AND NOT EXISTS ("
            "SELECT 1 FROM pgscore.rescoring w WHERE t.tgname IN (w.trigger_name, w.replication_trigger, "
            "w.replication_trigger OPERATOR(pg_catalog.||) '_commit') "
            "AND (pg_catalog.to_regclass(w.event_table)::pg_catalog.oid = t.tgrelid OR NOT EXISTS (SELECT 1 "
            "FROM pg_catalog.pg_trigger o "
            "WHERE o.tgrelid = pg_catalog.to_regclass(w.event_table)::pg_catalog.oid AND o.tgname = t.tgname))) "
            "ORDER BY 1")
_ORPHANS_BEFORE = (_ORPHANS.replace(", 'pgscore.rescore_replicated()'::pg_catalog.regprocedure::pg_catalog.oid", "")
                   .replace("t.tgname IN (w.trigger_name, w.replication_trigger, "
                            "w.replication_trigger OPERATOR(pg_catalog.||) '_commit')", "w.trigger_name = t.tgname"))


def attach(plpy, GD, event_table, profile_table, key, model_name, score_column, counters=None,
           scored_at_column="scored_at", profile_key=None, missing_profile="create", strict=False,
           event_id_column=None, replicated=None, label_column=None) -> int:
    """Check a wiring, store it and create its trigger (and, with `replicated`, the row trigger for the rows
    logical replication applies; None: where a subscription writes the event table; `label_column`: the profile
    column a classifier's predicted class goes into with each score); returns its rescoring_id."""
    from pgscore import serving

    for what, v in (("event table", event_table), ("profile table", profile_table), ("key column", key),
                    ("model", model_name), ("score column", score_column), ("missing-profile choice", missing_profile),
                    ("strict flag", strict)):
        if v is None:
            raise WiringError(f"the {what} is NULL", sqlstate="22004")
    check_relation(event_table, "event table")
    check_relation(profile_table, "profile table")
    serving.check_name(model_name)
    if missing_profile not in MISSING_CHOICES:
        raise WiringError(f"missing_profile must be 'create' or 'queue', got {missing_profile!r}")
    profile_key = profile_key or key
    events, profiles = (_relation(plpy, t, what) for t, what in ((event_table, "event"), (profile_table, "profile")))
    if events.oid == profiles.oid:
        raise WiringError(f"{events.name} cannot be both the event table and the profile table")
    _need_column(plpy, events, key, "the key column")
    _need_column(plpy, profiles, profile_key, "the key column",
                 hint=None if profile_key != key else "name the profile's key with p_profile_key => 'column'")
    _key_types(plpy, events, key, profiles, profile_key)
    _need_column(plpy, profiles, score_column, "the score column", SCORE_TYPES, batch.SCORE_TYPES_SAID)
    if scored_at_column is not None:
        _need_column(plpy, profiles, scored_at_column, "the scored_at column", TIME_TYPES, "timestamptz or timestamp",
                     hint=f"where it has none: ALTER TABLE {profiles.name} ADD COLUMN "
                          f"{quote_ident(plpy, scored_at_column)} timestamptz; or pass p_scored_at_column => NULL to "
                          "record no time")
    keys = batch.unique_keys(plpy, profiles.oid)
    if profile_key not in keys:
        raise WiringError(f"{column_of(plpy, profiles, profile_key)} has no unique index of its own; each event must match "
                          "at most one profile", sqlstate="42P10",
                          hint=batch.key_hint(plpy, keys, profiles.name, profile_key, rescoring=True))
    if missing_profile == "create":
        deferrable = plpy.execute(plpy.prepare(_DEFERRABLE_KEY, ["pg_catalog.oid", "pg_catalog.text"]),
                                  [profiles.oid, profile_key])
        if deferrable:
            name = deferrable[0]["name"]
            raise WiringError(f"{column_of(plpy, profiles, profile_key)} has a DEFERRABLE unique constraint ({name}): a missing "
                              "profile is created by INSERT ... ON CONFLICT, which PostgreSQL refuses for it, so every "
                              "new profile's events would be queued and never counted", sqlstate="42P10",
                              hint="attach with p_missing_profile => 'queue' (the application creates the profiles), "
                                   f"or make the key immediate: drop {name} and add it again NOT DEFERRABLE "
                                   "(PostgreSQL cannot alter it in place)")
    if event_id_column is None:
        pk = plpy.execute(plpy.prepare(_PRIMARY_KEY, ["pg_catalog.oid"]), [events.oid])
        event_id_column = pk[0]["name"] if pk else None
    else:
        _need_column(plpy, events, event_id_column, "the event id column")
    spec = json.loads(counters) if isinstance(counters, str) else (counters or {})
    parsed = parse_counters(spec)
    taken = {profile_key: "the key", score_column: "the score", scored_at_column: "scored_at"}
    for c in parsed:
        _need_column(plpy, profiles, c.column, f"the column of counter {c.column!r}")
        if c.column in taken:
            raise WiringError(f"counter {c.column!r} would overwrite {taken[c.column]} column")
        if c.kind == "window":
            _need_column(plpy, events, c.time, f"the time column of counter {c.column!r}", TIME_TYPES | {"date"},
                         "timestamptz, timestamp or date")
            _positive_window(plpy, c)
            _window_zone(plpy, c, events)
        if c.kind == "last" and c.by is None and event_id_column is None:
            _refuse_unordered_last(events, c)
    if label_column is not None:  # (the checks that need no version: _check_label checks the live one's classes)
        batch.label_column(plpy, model_name, profiles.name, label_column, profiles.columns,
                           _taken(_Named(profile_key, score_column, scored_at_column, parsed)))
    attached = plpy.execute(plpy.prepare(_ATTACHED, ["pg_catalog.text", "pg_catalog.text"]),
                            [events.name, profiles.name])
    old = attached[0] if attached else None
    if old is not None and old["on_oid"] is None:  # its table was dropped (and this one created by its name)
        plpy.execute(plpy.prepare(_FORGET, ["pg_catalog.int8"]), [old["rescoring_id"]])
        plpy.notice(f"pgscore: wiring {old['rescoring_id']} wired a table named {events.name} that no longer "
                    "exists (its trigger is gone); it was removed, its queued errors of this profile table kept "
                    "for this wiring")
    elif old is not None and old["on_oid"] != events.oid:  # renamed, and a new table took the name
        where = old["on_name"]
        raise WiringError(f"{events.name} was wired to {profiles.name} by wiring {old['rescoring_id']}, whose "
                          f"trigger is now on {where}", sqlstate="42710",
                          hint=f"detach it there first: SELECT pgscore.detach_rescoring({quote_literal(plpy, where)})")
    elif old is not None:
        raise WiringError(f"{events.name} is already wired to {profiles.name}", sqlstate="42710",
                          hint="detach it first with pgscore.detach_rescoring")
    replication = plpy.execute(_REPLICATION)[0]["ok"]  # (a schema that has it)
    for r in plpy.execute(plpy.prepare(_ORPHANS if replication else _ORPHANS_BEFORE, ["pg_catalog.oid"]), [events.oid]):
        plpy.execute(f"DROP TRIGGER {quote_ident(plpy, r['tgname'])} ON {events.name}")
        plpy.notice(f"pgscore: dropped trigger {quote_ident(plpy, r['tgname'])} on {events.name}, which belonged to "
                    f"no wiring (a dump "
                    "of the table restored without pgscore.rescoring's rows?)")
    subscriptions = [r["name"] for r in plpy.execute(plpy.prepare(_SUBSCRIBED, ["pg_catalog.oid"]), [events.oid])]
    replicated = replication and _replicated(events, replicated, subscriptions)
    args = [events.name, profiles.name, key, profile_key, model_name, score_column, scored_at_column,
            json.dumps(spec), event_id_column, missing_profile, strict, replicated]
    if label_column is not None:  # (a schema that takes one: its attach_rescoring passed it)
        row = plpy.execute(plpy.prepare(_INSERT_LABEL, _INSERT_TYPES + ["pg_catalog.name"]), args + [label_column])[0]
    else:
        row = plpy.execute(plpy.prepare(_INSERT if replication else _INSERT_BEFORE, _INSERT_TYPES), args)[0]
    w = Wiring(plpy, plpy.execute(plpy.prepare(_WIRING, ["pg_catalog.int8"]), [row["rescoring_id"]])[0])
    _check_statements(plpy, GD, w)
    plpy.execute(f"CREATE TRIGGER {quote_ident(plpy, row['trigger_name'])} AFTER INSERT ON {events.name} "
                 f"REFERENCING NEW TABLE AS {NEW} FOR EACH STATEMENT "
                 f"EXECUTE FUNCTION pgscore.rescore_events({quote_literal(plpy, str(w.id))})")
    if replicated:  # fired only where session_replication_role = replica: no work at all in other sessions
        rt = quote_ident(plpy, row["replication_trigger"])
        ct = quote_ident(plpy, row["replication_trigger"] + COMMIT_SUFFIX)
        rid = quote_literal(plpy, str(w.id))
        plpy.execute(f"CREATE TRIGGER {rt} AFTER INSERT ON {events.name} FOR EACH ROW "
                     f"EXECUTE FUNCTION pgscore.rescore_replicated({rid}, {quote_literal(plpy, STAGE)})")
        # (fired at the commit: the first firing rescores the transaction's rows; its WHEN queues one for the
        # first row staged, where each row is a statement, as the apply worker's are; a statement of many rows
        # queues one for each, and the later ones find nothing pending)
        plpy.execute(f"CREATE CONSTRAINT TRIGGER {ct} AFTER INSERT ON {events.name} DEFERRABLE INITIALLY DEFERRED "
                     f"FOR EACH ROW WHEN (pg_catalog.current_setting({quote_literal(plpy, staged_setting(w.id))}, "
                     "true) IS DISTINCT FROM 'on') "
                     f"EXECUTE FUNCTION pgscore.rescore_replicated({rid}, {quote_literal(plpy, COMMIT)})")
        plpy.execute(f"ALTER TABLE {events.name} ENABLE REPLICA TRIGGER {rt}")
        plpy.execute(f"ALTER TABLE {events.name} ENABLE REPLICA TRIGGER {ct}")
    _warn_slow_or_partial(plpy, events, key, parsed)
    _warn_history(plpy, w, parsed)
    if not replicated:
        _warn_subscribed(plpy, events, subscriptions)
    _warn_profile_children(plpy, profiles, missing_profile)
    _note_other_schema(plpy, events, profiles)
    _note_shared_model(plpy, w)
    if missing_profile == "create":
        _warn_uncreatable(plpy, profiles, profile_key)
    if scored_at_column is not None and profiles.types[scored_at_column] == "timestamp without time zone":
        # (session 67) written as UTC's wall clock: it was each inserting session's, scores of sessions of different
        # TimeZones dated hours apart in one column
        plpy.notice(f"pgscore: {column_of(plpy, profiles, scored_at_column)} is timestamp without time zone: the time "
                    "each profile is scored is written into it as UTC's wall clock, whatever the TimeZone of the "
                    "session that inserts (or retries); the times it holds already are left as they are",
                    hint=f"read it as {quote_ident(plpy, scored_at_column)} AT TIME ZONE 'UTC'; or make it a "
                         f"timestamptz: ALTER TABLE {profiles.name} ALTER COLUMN {quote_ident(plpy, scored_at_column)} "
                         f"TYPE timestamptz USING {quote_ident(plpy, scored_at_column)} AT TIME ZONE 'UTC'")
    if profiles.types[profile_key].endswith("with time zone") and profiles.types[profile_key].startswith("timestamp"):
        plpy.warning(f"pgscore: {column_of(plpy, profiles, profile_key)} is timestamptz: its key is logged, queued and matched "
                     "to outcomes as text, which carries the TimeZone of the session that wrote it, so sessions of "
                     "different TimeZones name one profile by different keys",
                     hint="insert its events, and record its outcomes, from sessions of one TimeZone; or key the "
                          "profiles by another column")
    if w.queue_oids:
        gone_queued(plpy, w.id, profiles, "attach_rescoring", w.events.name)
        adopted = plpy.execute(plpy.prepare(_ADOPT_OID, ["pg_catalog.int8", "pg_catalog.text", "pg_catalog.oid"]),
                               [w.id, profiles.name, profiles.oid])
    else:
        adopted = plpy.execute(plpy.prepare(_ADOPT, ["pg_catalog.int8", "pg_catalog.text"]), [w.id, profiles.name])
    if adopted:
        plpy.notice(f"pgscore: {len(adopted)} profile(s) of {profiles.name} queued by an earlier wiring (detached, or "
                    f"its event table dropped) are now queued for this one: pgscore.retry_failed() rescores them")
    return w.id


HISTORY_COUNTED = 1000000  # events attach_rescoring counts at most, to say how many the counters left out
HISTORY_LOOKED = 1000  # events whose profiles attach_rescoring looks at, to say whether the counters hold values


def _warn_history(plpy, w: Wiring, counters):
    """The event table holds events already (a table with history, or one detached and attached again): the
    counters that count new events alone (count, add, max, min, last, set) leave them out, while a window or a
    recompute recounts them at the profile's next event. Warned, naming those counters and the events, with
    backfill_rescoring to count them. Where a profile the events name holds a value in one of those counters
    already (loaded with the profiles, from this table's events or from another source; counted before a
    detach), the warning says so, and that the backfill replaces those values: it may not be what to run."""
    events = w.events
    new_only = [c for c in counters if c.kind in KINDS]
    if not new_only:
        return
    n = plpy.execute(f"SELECT pg_catalog.count(*) AS n FROM (SELECT 1 FROM {events.name} LIMIT "
                     f"{HISTORY_COUNTED + 1}) AS e")[0]["n"]
    if not n:
        return
    said = f"more than {HISTORY_COUNTED}" if n > HISTORY_COUNTED else str(n)

    def rule(c):
        return "count" if c.kind == "add" and c.expr == "1" else c.kind

    named = ", ".join(f"{c.column} ({rule(c)})" for c in new_only)
    q, ek, pk = (lambda n: quote_ident(plpy, n)), quote_ident(plpy, w.event_key), quote_ident(plpy, w.profile_key)
    # (the profiles of up to HISTORY_LOOKED of the events, found by their key: a bounded look, not a join of the
    # two tables)
    held = (f"EXISTS (SELECT 1 FROM (SELECT e.{ek} AS k FROM {events.name} AS e LIMIT {HISTORY_LOOKED}) AS e "
            f"JOIN {w.profiles.name} AS p ON p.{pk} {EQ} e.k WHERE ({{}}))")
    # (a count or add holding 0 holds nothing yet; any other counter a value where it is not NULL)
    values = [(f"COALESCE(p.{q(c.column)}, 0) {EQ} 0" if c.kind == "add" else f"p.{q(c.column)} IS NULL")
              for c in new_only]
    row = plpy.execute("SELECT " + ", ".join(f"{held.format('NOT ' + v)} AS h{i}" for i, v in enumerate(values)))[0]
    loaded = [c for i, c in enumerate(new_only) if row[f"h{i}"]]
    backfill = f"SELECT pgscore.backfill_rescoring({quote_literal(plpy, events.name)})"
    if not loaded:
        plpy.warning(f"pgscore: {said} event(s) of {events.name} were inserted before the wiring: its counters "
                     f"{named} count only new events, so they leave these out (and the scores read them so)",
                     hint=f"{backfill} counts them from the event table's events, and rescores what changed "
                          "(docs/sql.md, backfill_rescoring)")
        return
    plpy.warning(f"pgscore: {said} event(s) of {events.name} were inserted before the wiring: its counters {named} "
                 f"count only new events; {', '.join(c.column for c in loaded)} hold values already for profiles "
                 "these events name: values that count these events (loaded from them, or counted before a detach "
                 "for the events of then) are right to keep, values that miss some leave them out",
                 hint=f"{backfill} replaces every counter's value with what the event table's events give, and "
                      "rescores what changed: a value loaded from another source (not this table's events) or "
                      "counting events deleted since is lost; run it only where the table's events are all the "
                      "counters should count, else add the missed events' share by hand (docs/sql.md, "
                      "backfill_rescoring)")


@dataclass
class _Named:
    """A wiring's columns as attach_rescoring was given them, before it is stored (_taken)."""
    profile_key: str
    score_column: str
    scored_at_column: str | None
    counters: list


def _key_types(plpy, events: Table, key, profiles: Table, profile_key):
    """An integer profile key refuses event keys of a wider number type (bigint events for an int key):
    the keys that do not fit would wait in the queue forever. Other pairs (int to bigint, varchar to
    text, a domain over its base type, text to citext) are compared by the server as they always were."""
    same = (f"give both the same type, e.g. ALTER TABLE {events.name} ALTER COLUMN {quote_ident(plpy, key)} TYPE "
            f"{profiles.types[profile_key]}")
    try:  # the statements find profiles by p.key = e.key: the server must know how to compare the two
        plpy.prepare(f"SELECT 1 FROM {events.name} AS e, {profiles.name} AS p "
                     f"WHERE p.{quote_ident(plpy, profile_key)} = e.{quote_ident(plpy, key)} LIMIT 0")
    except plpy.SPIError as e:
        if _state(e) != "42883":  # undefined_function: no = operator for the pair
            raise
        if events.types[key] == profiles.types[profile_key]:  # json, xml, point: a type with no = at all
            raise WiringError(f"{column_of(plpy, events, key)} and {column_of(plpy, profiles, profile_key)} are {events.types[key]}, a type "
                              "PostgreSQL has no equality operator for, so no event could find its profile",
                              sqlstate="42804", hint="key both tables by a column of a type that compares (text, "
                              "bigint, uuid; jsonb for json)") from None
        raise WiringError(f"{column_of(plpy, events, key)} is {events.types[key]} and {column_of(plpy, profiles, profile_key)} is "
                          f"{profiles.types[profile_key]}: PostgreSQL cannot compare them, so no event would find "
                          "its profile", sqlstate="42804",
                          hint=same + (f" USING {quote_ident(plpy, key)}::{profiles.types[profile_key]}"
                                       if events.types[key] in ("text", "character varying") else "")) from None
    both = []
    for t, col in ((events, key), (profiles, profile_key)):
        (c,) = plpy.execute(plpy.prepare(_COLLATION, ["pg_catalog.oid", "pg_catalog.name"]), [t.oid, col])
        both.append(c["name"])
        if c["deterministic"] is False:  # keys equal that differ as text: counted, queued and logged apart
            raise WiringError(f"{column_of(plpy, t, col)} has the nondeterministic collation "
                              f"{quote_ident(plpy, c['name'])}: keys it holds equal "
                              "(by case or accent, say) are different keys to the counters, the error queue and "
                              "the audit log", sqlstate="0A000",
                              hint=f"key the wiring on a column with a deterministic collation (ALTER TABLE {t.name} "
                                   f"ALTER COLUMN {quote_ident(plpy, col)} TYPE {t.types[col]} COLLATE \"C\"), or "
                                   "on a normalised key (lower(), say) in a column of its own; both key columns "
                                   "need the same collation")
    if None not in both and both[0] != both[1]:  # PostgreSQL cannot compare them: every statement would fail
        raise WiringError(f"{column_of(plpy, events, key)} has the collation {quote_ident(plpy, both[0])} and "
                          f"{column_of(plpy, profiles, profile_key)} "
                          f"{quote_ident(plpy, both[1])}: PostgreSQL cannot tell which to compare the keys by", sqlstate="42P22",
                          hint=f"give both columns the same deterministic collation (ALTER TABLE ... ALTER COLUMN ... "
                               f"TYPE ... COLLATE {quote_ident(plpy, both[1])})")
    (r,) = plpy.execute(plpy.prepare(_BASE_TYPES, ["pg_catalog.oid", "pg_catalog.oid"]),
                        [events.columns[key], profiles.columns[profile_key]])
    for t, col, row in ((events, key, r["src_row"]), (profiles, profile_key, r["dst_row"])):
        if row:  # the statements skip keys that are NULL, and a row with a NULL field IS NOT NULL is false
            raise WiringError(f"{column_of(plpy, t, col)} is of the composite type {t.types[col]}: an event whose key has a NULL "
                              "field would be kept without counting, scoring or queuing its profile", sqlstate="0A000",
                              hint="key both tables by a scalar column (one that holds the row's fields as text, "
                                   "say, or a surrogate key)")
    if r["dst"] == "character" and r["src"] != "character":
        # the keys are compared as text (a char(n) key's trailing blanks dropped) but created and retried as
        # char(n) (an event key's kept and padded): an event key with trailing blanks is never counted
        raise WiringError(f"{column_of(plpy, events, key)} is {events.types[key]} and {column_of(plpy, profiles, profile_key)} is "
                          f"{profiles.types[profile_key]}: an event key with trailing blanks would never find its "
                          "profile, and retry_failed would clear it as rescored", sqlstate="42804",
                          hint=same + f" USING {quote_ident(plpy, key)}::{profiles.types[profile_key]}, or make "
                               f"{column_of(plpy, profiles, profile_key)} {events.types[key]}")
    rank = {"smallint": 1, "integer": 2, "bigint": 3, "numeric": 4, "real": 4, "double precision": 4}
    src, dst = rank.get(r["src"]), rank.get(r["dst"])
    if src is None or dst is None or dst == 4 or src <= dst:
        return
    raise WiringError(f"{column_of(plpy, events, key)} is {events.types[key]} and {column_of(plpy, profiles, profile_key)} is "
                      f"{profiles.types[profile_key]}: an event key may not fit a profile key", sqlstate="42804",
                      hint=same)


# a window written as a bare number ('30', '0.5', '+30'): PostgreSQL reads it as seconds (a negative one is
# refused as such below; '1e3' is no interval at all)
_UNITLESS = re.compile(r"\s*\+?(\d+\.?\d*|\.\d+)\s*")


def _positive_window(plpy, c: Counter):
    bare = _UNITLESS.fullmatch(c.window)
    if bare:
        n = bare.group(1)
        raise WiringError(f"counter {c.column!r}: window {c.window!r} has no unit, and PostgreSQL would read it as "
                          f"{n} seconds", sqlstate="22023",
                          hint=f'name the unit: {{"window": "{n} days", "time": "{c.time}"}} (or "{n} seconds", '
                               "if seconds are meant)")
    try:
        ok = plpy.execute(plpy.prepare(_POSITIVE, ["pg_catalog.text"]), [c.window])[0]["ok"]
    except plpy.SPIError as e:
        raise WiringError(f"counter {c.column!r}: window {c.window!r} is not an interval: {_message(e)}",
                          sqlstate="22007", hint='e.g. {"window": "30 days", "time": "created_at"}') from None
    if not ok:
        raise WiringError(f"counter {c.column!r}: window {c.window!r} must be a positive interval",
                          sqlstate="22023", hint='e.g. {"window": "30 days", "time": "created_at"}')


_ZONE = "SELECT pg_catalog.timezone($1::pg_catalog.text, pg_catalog.now()) AS t"


def _window_zone(plpy, c: Counter, events: Table):
    """A window over a `timestamp` or `date` column: its times are read in the zone the counter names, or,
    without one, in the TimeZone of each inserting session (a WARNING says so); a zone over a timestamptz
    column, whose values are instants already, is refused, as is one PostgreSQL does not know."""
    kind = events.types[c.time]
    if c.zone is None:
        if kind != "timestamp with time zone":
            plpy.warning(f"pgscore: counter {c.column!r} counts {column_of(plpy, events, c.time)} ({kind}, no time zone) "
                         "against now() in the TimeZone of each session that inserts: sessions of different "
                         "TimeZones count the same events in windows hours apart",
                         hint=f'name the zone its times are in: {{"window": "{c.window}", "time": "{c.time}", '
                              '"zone": "UTC"}')
        return
    if kind == "timestamp with time zone":
        raise WiringError(f"counter {c.column!r}: \"zone\" is for a time column without one, and "
                          f"{column_of(plpy, events, c.time)} is timestamptz (its values are instants)", sqlstate="22023",
                          hint=f'leave "zone" out: {{"window": "{c.window}", "time": "{c.time}"}}')
    try:
        plpy.execute(plpy.prepare(_ZONE, ["pg_catalog.text"]), [c.zone])
    except plpy.SPIError as e:
        raise WiringError(f"counter {c.column!r}: zone {c.zone!r} is not a time zone: {_message(e)}",
                          sqlstate="22023", hint='a name of pg_timezone_names, e.g. "UTC" or "Europe/Paris"') from None


# the schemas of two tables (attach's event and profile tables)
_SCHEMAS = ("SELECT pg_catalog.quote_ident(en.nspname) AS events, pg_catalog.quote_ident(pn.nspname) AS profiles "
            "FROM pg_catalog.pg_class e JOIN pg_catalog.pg_namespace en ON en.oid OPERATOR(pg_catalog.=) e.relnamespace, "
            "pg_catalog.pg_class p JOIN pg_catalog.pg_namespace pn ON pn.oid OPERATOR(pg_catalog.=) p.relnamespace "
            "WHERE e.oid OPERATOR(pg_catalog.=) $1 AND p.oid OPERATOR(pg_catalog.=) $2")


def _note_other_schema(plpy, events: Table, profiles: Table):
    """A NOTICE when the event table and the profile table are in different schemas (session 65, trial T18): with a
    schema per tenant, a table named without its schema is the first of that name in the caller's search_path, so
    that attach_rescoring('complaints', 'customers', ...) for a tenant whose customers table was not made yet wired
    its events to public.customers without a word."""
    r = plpy.execute(plpy.prepare(_SCHEMAS, ["pg_catalog.oid", "pg_catalog.oid"]), [events.oid, profiles.oid])[0]
    if r["events"] != r["profiles"]:
        plpy.notice(f"pgscore: {events.name} is wired to {profiles.name}, a table of another schema "
                    f"({r['profiles']}): its events update and rescore the profiles of {profiles.name}",
                    hint="a table named without its schema is the first of that name in the search_path; to wire "
                         "another, detach this wiring (SELECT pgscore.detach_rescoring("
                         f"{quote_literal(plpy, events.name)}, {quote_literal(plpy, profiles.name)})) and attach "
                         "again naming each table as 'schema.table'")


# the other profile tables wiring(s) of model $1 rescore than $2, the one wiring $3 rescores
_SHARED_MODEL = ("SELECT pg_catalog.array_agg(DISTINCT r.profile_table ORDER BY r.profile_table) AS tables "
                 "FROM pgscore.rescoring r WHERE r.model_name OPERATOR(pg_catalog.=) $1 "
                 "AND r.profile_table OPERATOR(pg_catalog.<>) $2 AND r.rescoring_id OPERATOR(pg_catalog.<>) $3")


def _note_shared_model(plpy, w: "Wiring"):
    """A NOTICE when the wiring's model rescores another profile table too (session 66, trial T18: a model shared by
    tenants): the audit log names a profile by its key alone, so two tables' customer 1 are one entity to
    record_outcome and erase_entity; the docs' advice (a key unique across the tables) made concrete."""
    others = plpy.execute(plpy.prepare(_SHARED_MODEL, ["pg_catalog.text", "pg_catalog.text", "pg_catalog.int8"]),
                          [w.model_name, w.profiles.name, w.id])[0]["tables"]
    if others:
        plpy.notice(f"pgscore: model {w.model_name} also rescores {', '.join(others)}: the prediction log keys each "
                    f"prediction by its profile key alone, so a key that {w.profiles.name} shares with "
                    f"{'it' if len(others) == 1 else 'them'} is one entity to record_outcome and erase_entity",
                    hint="key a model's profiles by a key unique across its tables (docs/sql.md, 'One cluster, "
                         "several teams', its worked example of a model shared by tenants), or give each table a "
                         "model of its own")


def _warn_profile_children(plpy, profiles: Table, missing_profile):
    """A WARNING when tables inherit from the profile table: rescoring counts and scores its own rows only
    (its unique key covers them), so a key whose row is in a child alone is a missing profile."""
    if profiles.partitioned:
        return
    children = [r["name"] for r in plpy.execute(plpy.prepare(_CHILDREN, ["pg_catalog.oid"]), [profiles.oid])]
    if children:
        plpy.warning(f"pgscore: {profiles.name} has inheritance children ({', '.join(children[:3])}"
                     f"{', ...' if len(children) > 3 else ''}): rescoring counts and scores {profiles.name}'s own "
                     "rows only, and an event whose key has a row in a child alone "
                     + ("creates a row of that key in " + profiles.name if missing_profile == "create" else
                        "is queued as a missing profile"),
                     hint="keep each profile's row in the table wired (a child's rows are another table's, scored "
                          "by a wiring of their own)")


def _warn_uncreatable(plpy, profiles: Table, profile_key):
    """A WARNING when a missing profile cannot be created: the row gets its key and the columns' defaults,
    which a NOT NULL column without a default refuses."""
    cols = plpy.execute(plpy.prepare(_NO_DEFAULT, ["pg_catalog.oid", "pg_catalog.text"]),
                        [profiles.oid, profile_key])[0]["cols"]
    if cols:
        plpy.warning(f"pgscore: an event for a missing profile creates it with only its {quote_ident(plpy, profile_key)} and the "
                     f"columns' defaults, and {profiles.name} has NOT NULL column(s) without a default: "
                     f"{', '.join(quote_ident(plpy, c) for c in cols)}; such events will be kept and their profiles queued in "
                     "pgscore.error_queue, not created",
                     hint=f"give them defaults (ALTER TABLE {profiles.name} ALTER COLUMN {quote_ident(plpy, cols[0])} "
                          "SET DEFAULT ...), or create each profile before its events and attach with "
                          "p_missing_profile => 'queue'")


def _warn_slow_or_partial(plpy, events: Table, key, counters):
    """WARNINGs for a wiring that works but not as one would expect: a recount with no index to find an
    entity's events, and a partitioned event table or a parent of inheritance children, whose partitions or
    children fire no trigger of the parent's."""
    recounted = [c for c in counters if c.recomputed]
    if recounted and not plpy.execute(plpy.prepare(_KEY_INDEX, ["pg_catalog.oid", "pg_catalog.text"]),
                                      [events.oid, key]):
        c = recounted[0]
        cols = ", ".join(quote_ident(plpy, x) for x in (key, c.time) if x)
        plpy.warning(f"pgscore: counter {c.column!r} recounts the events of each profile a statement touches, and "
                     f"{events.name} has no index that starts with {quote_ident(plpy, key)}: each INSERT will read all of "
                     f"{events.name}", hint=f"CREATE INDEX ON {events.name} ({cols})")
    if events.partitioned:
        plpy.warning(f"pgscore: {events.name} is partitioned: rows inserted into one of its partitions by name are "
                     "not rescored (PostgreSQL fires a statement trigger for the table the statement names)",
                     hint=f"insert, COPY and INSERT ... SELECT into {events.name} itself")
    else:
        children = [r["name"] for r in plpy.execute(plpy.prepare(_CHILDREN, ["pg_catalog.oid"]), [events.oid])]
        if children:  # (an INSERT into the parent adds no row to a child: only inserts into a child miss)
            plpy.warning(f"pgscore: {events.name} has inheritance children ({', '.join(children[:3])}"
                         f"{', ...' if len(children) > 3 else ''}): rows inserted into a child are not rescored, "
                         f"though counters that recount read them through {events.name}",
                         hint=f"insert into {events.name} itself (a child attached as an event table of its own "
                              "would recount over the child alone what the parent recounts over all)")


_SUBSCRIBED = ("SELECT s.subname AS name FROM pg_catalog.pg_subscription_rel r JOIN pg_catalog.pg_subscription s "
               "ON s.oid OPERATOR(pg_catalog.=) r.srsubid WHERE r.srrelid OPERATOR(pg_catalog.=) $1 ORDER BY 1")


def _replicated(events: Table, replicated, subscriptions) -> bool:
    """Whether the wiring gets the row trigger for replicated rows: as asked, or (None) where a subscription
    writes the event table. Not on a partitioned table: a row trigger there fires on the partition a row
    lands in, which the wiring does not name."""
    if replicated is False or (replicated is None and (not subscriptions or events.partitioned)):
        return False  # (a partitioned one: the WARNING that its replicated rows are not rescored follows)
    if events.partitioned:
        raise WiringError(f"{events.name} is partitioned: the rows logical replication applies to it cannot be "
                          "rescored (a row trigger fires on the partition each row lands in)", sqlstate="0A000",
                          hint="attach with p_replicated => false, replicate into a table of your own whose row "
                               f"trigger, enabled ALWAYS, inserts each row into {events.name}, and enable the "
                               "wiring's trigger ALWAYS too: docs/sql.md, 'Events from logical replication'")
    return True


def _warn_subscribed(plpy, events: Table, names):
    """A WARNING where a subscription of logical replication writes the event table and the wiring has no row
    trigger for replicated rows (p_replicated => false): its apply worker fires no statement trigger, so the
    rows it applies are kept and never counted or rescored."""
    if names:
        plpy.warning(f"pgscore: {events.name} is written by subscription {', '.join(names)}: the rows logical "
                     "replication applies fire no statement trigger, not even one enabled ALWAYS, so they are not "
                     "counted or rescored (local INSERTs are, and the initial copy of a table only where the trigger "
                     "is enabled ALWAYS)",
                     hint=(("replicate into a table of your own whose row trigger, enabled ALWAYS, inserts each row "
                            f"into {events.name}, and enable this wiring's trigger ALWAYS too")
                           if events.partitioned else
                           "attach it with p_replicated => true (a row trigger rescores each replicated row)")
                          + "; docs/sql.md, 'Events from logical replication'")


_CHILDREN = ("SELECT i.inhrelid::pg_catalog.regclass::pg_catalog.text AS name FROM pg_catalog.pg_inherits i "
             "WHERE i.inhparent OPERATOR(pg_catalog.=) $1 ORDER BY 1")


def _relation(plpy, name, what) -> Table:
    r = plpy.execute(plpy.prepare(_RELATION, ["pg_catalog.text"]), [name])[0]
    if r["kind"] not in ("r", "p"):
        raise WiringError(f"the {what} table {r['name']} is not a table", sqlstate="42809")
    return table(plpy, r["oid"], r["name"], partitioned=r["kind"] == "p")


def _need_column(plpy, t: Table, column, what, types=None, expected=None, hint=None):
    if column not in t.columns:
        raise WiringError(f"{t.name} has no column {column!r} ({what})", sqlstate="42703",
                          detail="columns: " + ", ".join(quote_ident(plpy, c) for c in t.columns), hint=hint)
    if types is not None and t.types[column] not in types:
        raise WiringError(f"{column_of(plpy, t, column)} ({what}) is {t.types[column]}; expected {expected}", sqlstate="42804",
                          hint=hint)


_SHADOWS_OF = ("SELECT m.version, m.feature_names, m.model_id FROM pgscore.shadow_versions s JOIN pgscore.models m "
               "ON m.model_id OPERATOR(pg_catalog.=) s.model_id WHERE s.name OPERATOR(pg_catalog.=) $1 "
               "AND s.model_id IS DISTINCT FROM $2 ORDER BY m.version")  # ($2 NULL: no live version)


def _check_shadows_read_the_array(plpy, w: Wiring, model):
    """Refuse (55000) a wiring whose profile table holds its features in one float8[] column features (no counters:
    the live version reads it, by position) for a model with a shadow set of other features or another order:
    the trigger reads the shadow's features by position from that array too, and would score it on the live
    version's values in the wrong places (set_shadow refuses it for the wirings made before it)."""
    if not w.shadowable:
        return
    for r in plpy.execute(plpy.prepare(_SHADOWS_OF, ["pg_catalog.text", "pg_catalog.int8"]),
                          [w.model_name, model.model_id]):
        why = shadowing.order_differs(r["feature_names"], model.feature_names, model.version, r["version"])
        if why is None:
            continue
        name = quote_literal(plpy, w.model_name)
        raise WiringError(
            f"{w.profiles.name} cannot be wired to rescore with {name} while version {r['version']} is its shadow: "
            f"its float8[] column features {why}; read by position, every INSERT into {w.events.name} would score "
            "the shadow on values that are not its features",
            sqlstate=shadowing.READ_BY_POSITION,
            hint=f"clear the shadow first: pgscore.clear_shadow({name}, {r['version']}) (pgscore shadow "
                 f"{w.model_name} {r['version']} --off), then wire the table; or wire a profile table of a column "
                 "per feature (no float8[] column features), read by name")


def _check_shadows_have_their_columns(plpy, w: Wiring, model):
    """Refuse (42703) a wiring whose profile table is read a column per feature (no float8[] column features, or
    counters: read by name) and lacks a column a version set in shadow reads: every INSERT into the event table
    would score nothing in shadow (each statement a counted failure). set_shadow refuses it for the wirings made
    before it, the deployments' trigger at a go-live; nothing refused a table wired after the shadow was set. A
    model with no live version too (a retired one may keep its shadows): the go-live would find it."""
    if not w.shadowable or w.by_position:
        return
    lacking = []
    for r in plpy.execute(plpy.prepare(_SHADOWS_OF, ["pg_catalog.text", "pg_catalog.int8"]),
                          [w.model_name, model.model_id if model is not None else None]):
        missing = [f for f in r["feature_names"] if f not in w.profiles.columns]
        if missing:
            lacking.append((r["version"], ", ".join(literal(f) for f in missing)))
    if not lacking:
        return
    name = quote_literal(plpy, w.model_name)
    version, columns = lacking[0]
    raise WiringError(
        f"{w.profiles.name} cannot be wired to rescore with {name} while version {version} is its shadow: it has no "
        f"column {columns}, which the shadow reads by name; every INSERT into {w.events.name} would score nothing in "
        "shadow", sqlstate="42703",
        detail=f"{len(lacking)} shadow version(s) affected: "
               + "; ".join(f"version {v} reads {c}" for v, c in lacking),
        hint="add the feature column(s) to the profile table first, then wire it; or clear the shadow first: "
             + ", ".join(f"pgscore.clear_shadow({name}, {v}) (pgscore shadow {w.model_name} {v} --off)"
                         for v, _ in lacking))


def _check_shadows_read_no_score_column(plpy, w: Wiring, model):
    """Refuse (22023) a score or scored_at column that a version set in shadow reads, where the profile table is read
    by name (no float8[] column features, or counters), as the live version's is refused: every INSERT would score the
    shadow on the score the live version just wrote, and made live it would feed its own output back in (set_shadow
    refuses it for the wirings made before it, the deployments' trigger at a go-live). With no live version too (a
    retired model keeps its shadows)."""
    if not w.shadowable or w.by_position:
        return
    for r in plpy.execute(plpy.prepare(_SHADOWS_OF, ["pg_catalog.text", "pg_catalog.int8"]),
                          [w.model_name, model.model_id if model is not None else None]):
        read = _score_columns_read(plpy, w, r["model_id"], r["feature_names"])
        if not read:
            continue
        (what, col, _), name, v = read[0], quote_literal(plpy, w.model_name), r["version"]
        raise WiringError(
            f"{column_of(plpy, w.profiles, col)} (the {what} column) is a feature of version {v} of {name}, its shadow: every "
            f"INSERT into {w.events.name} would score the shadow on the live version's new score, and once live it "
            "would feed its own output back in", detail=_columns_affected(read),
            hint=f"clear the shadow first: pgscore.clear_shadow({name}, {v}) (pgscore shadow {w.model_name} {v} "
                 f"--off), or write the {what} to a column no version of {name} reads")


# the check set_shadow and the deployments' trigger make too, written once in SQL (migration 0079); ordered as the
# loop it replaced, the score column first
_SCORE_COLUMNS_READ = ("SELECT c.what, c.column_name, c.said FROM pgscore.score_columns_read($1, $2) AS c "
                       "ORDER BY c.what")
_HAS_SCORE_COLUMNS_READ = ("SELECT pg_catalog.to_regprocedure('pgscore.score_columns_read(pg_catalog.int8, "
                           "pg_catalog.int8)') IS NOT NULL AS ok")


def _score_columns_read(plpy, w: Wiring, model_id, feature_names) -> list:
    """[(what, column, said)]: the wiring's score and scored_at columns that version `model_id` reads as features,
    where its profile table is read by name, as pgscore.score_columns_read says them (set_shadow and the deployments'
    trigger ask it too); a schema before it (the server's code newer than its schema: pgscore install not run yet)
    is compared here, in the same words."""
    if plpy.execute(_HAS_SCORE_COLUMNS_READ)[0]["ok"]:
        return [(r["what"], r["column_name"], r["said"])
                for r in plpy.execute(plpy.prepare(_SCORE_COLUMNS_READ, ["pg_catalog.int8", "pg_catalog.int8"]),
                                      [model_id, w.id])]
    if w.by_position:
        return []
    return [(what, col, f"{column_of(plpy, w.profiles, col)} (the {what} column {w.events.name} rescores into)")
            for what, col in (("score", w.score_column), ("scored_at", w.scored_at_column))
            if col is not None and col in feature_names]


def _check_no_feature_generated_from_a_score_column(plpy, w: Wiring, model):
    """Refuse (22023) a score, scored_at or label column that a feature column of the profile table which the model
    reads is generated from (GENERATED ALWAYS AS (...) over it), in the words of a score column that is a feature:
    each rescoring's write would change the feature, which the next one feeds back in (the live version at attach;
    a version made live later, or a shadow, is not checked here)."""
    features = ["features"] if w.by_position else model.feature_names
    for what, col in (("score", w.score_column), ("scored_at", w.scored_at_column), ("label", w.label_column)):
        if col is None:
            continue
        gen = batch.generated_from(plpy, w.profiles.oid, col, features)
        if gen:
            raise WiringError(f"{column_of(plpy, w.profiles, col)} (the {what} column) is one that feature "
                              f"{literal(gen[0][0])} of model {model.label} is generated from: each rescoring would "
                              "feed its own output back in",
                              detail=batch.generated_said(plpy, gen),
                              hint=f"write the {what} to a column no feature of {model.label} is generated from")


def _columns_affected(read) -> str:
    """The DETAIL of a refusal of score columns read as features, as set_shadow and the deployments' trigger say it."""
    return f"{len(read)} column(s) affected: " + ", ".join(said for *_, said in read)


ZONELESS_TYPES = {1114: "timestamp without time zone", 1082: "date"}
INSTANT_TYPE = 1184  # timestamptz


def _warn_zone_cast(plpy, w: Wiring, c: Counter, expressed):
    """A WARNING where a counter's own values are cast between wall-clock times and instants in each inserting
    session's TimeZone (a timestamp or date expression into a timestamptz column, or a timestamptz one into a
    timestamp or date column): sessions of different TimeZones write the same event's time hours apart, as a
    window over such a time column counts it (_window_zone warns of that one)."""
    column = w.profiles.types[c.column]
    by = f", \"by\": {json.dumps(c.by)}" if c.by is not None else ""  # (a last counter's order, as it was written)
    if expressed in ZONELESS_TYPES and column == "timestamp with time zone":
        fix = (f"name the zone its values are in: {{\"{c.kind}\": \"({c.expr}) AT TIME ZONE 'UTC'\"{by}}} (the zone "
               "they are written in)")
    elif expressed == INSTANT_TYPE and column in ("timestamp without time zone", "date"):
        fix = (f"make the column timestamptz (ALTER TABLE {w.profiles.name} ALTER COLUMN {quote_ident(plpy, c.column)} "
               f"TYPE timestamptz), or name the zone to write in: {{\"{c.kind}\": \"({c.expr}) AT TIME ZONE "
               f"'UTC'\"{by}}}")
    else:
        return
    what = ZONELESS_TYPES.get(expressed, "timestamp with time zone")
    plpy.warning(f"pgscore: counter {c.column!r} computes {what} values and {column_of(plpy, w.profiles, c.column)} is {column}: "
                 "each new value is cast in the TimeZone of each session that inserts, so sessions of different "
                 "TimeZones write the same events' times hours apart", hint=fix)


# a type's base type (a domain's, one level a query) and its name
_BASE_TYPE = ("SELECT t.typbasetype AS base, pg_catalog.format_type(t.oid, NULL) AS name FROM pg_catalog.pg_type t "
              "WHERE t.oid OPERATOR(pg_catalog.=) $1")
NUMBER_TYPES = {21, 23, 20, 1700, 700, 701}  # int2, int4, int8, numeric, real, double precision
NUMBER_TYPES_SAID = "smallint, integer, bigint, numeric, real or double precision (or a domain over one)"


def _rule(c: Counter) -> str:
    """The counter's rule as its wiring wrote it (a "count" is parsed as {"add": "1"})."""
    if c.kind == "add" and c.expr == "1":
        return '"count"'
    if c.kind == "window":
        return json.dumps({"window": c.window, "time": c.time, **({"zone": c.zone} if c.zone else {})})
    return json.dumps({c.kind: c.expr, **({"by": c.by} if c.by is not None else {})})


def _refuse_unordered_last(events, c: Counter):
    """A last counter without "by" on a wiring whose events have no id column (none given, no one-column primary
    key): nothing says which of a statement's events is the newest (42P10)."""
    raise WiringError(f"counter {c.column!r} ({_rule(c)}) keeps the value of the newest event, by the event id column, "
                      f"and {events.name} has none: no p_event_id_column was given and it has no primary key of one "
                      "column", sqlstate="42P10",
                      hint=f"order its events with \"by\", e.g. {json.dumps({'last': c.expr, 'by': 'e.created_at'})} (a "
                           "column or expression that grows with each event), or name a column that does as "
                           "p_event_id_column")


def _is_number_type(plpy, typid) -> bool:
    for _ in range(32):  # (a domain over a domain...: each level its own row)
        if typid in NUMBER_TYPES:
            return True
        rows = plpy.execute(plpy.prepare(_BASE_TYPE, ["pg_catalog.oid"]), [typid])
        if not rows or not rows[0]["base"]:
            return False
        typid = rows[0]["base"]
    return False


BOOLOID = 16


def _expression_type(plpy, w: Wiring, c: Counter) -> int | None:
    """The type (oid) of counter c's expression over the event table's rows, None where it cannot be planned."""
    try:
        (typid,) = plpy.execute(f"SELECT ({c.expr}) AS v FROM {w.events.name} AS e LIMIT 0").coltypes()
    except plpy.SPIError:
        return None
    return typid


def _condition_add_hint(plpy, w: Wiring, c: Counter) -> str | None:
    """An add counter over a condition (PostgreSQL: sum(boolean) does not exist): the cast that counts the events
    it holds for; None where the expression is no boolean."""
    if _expression_type(plpy, w, c) != BOOLOID:
        return None
    return ("an add counter sums numbers, and this expression is a condition: count the events it holds for "
            f"with {json.dumps({'add': f'({c.expr})::int'})}")


def _check_counts_into_a_number(plpy, w: Wiring, c: Counter):
    """Refuse (42804) a count, an add or a window counter into a column of a type that is no number: a count into a
    text column failed with PostgreSQL's bare "COALESCE types text and integer cannot be matched", and a window's
    count went into a text (or varchar) column as text, without a word ('10' sorts before '9')."""
    typid = w.profiles.columns.get(c.column)
    if typid is None or c.kind not in ("add", "window") or _is_number_type(plpy, typid):
        return
    counts = c.kind == "window" or c.expr == "1"
    label = "window" if c.kind == "window" else "count" if counts else "an add"
    col, want = quote_ident(plpy, c.column), "bigint" if counts else "numeric"
    raise WiringError(
        f"counter {c.column!r} ({_rule(c)}) {'counts events' if counts else 'adds up numbers'} into "
        f"{column_of(plpy, w.profiles, c.column)}, which is {w.profiles.types[c.column]}: "
        f"{'a ' if counts else ''}{label} counter takes a column of a number type",
        sqlstate="42804", detail=f"number types: {NUMBER_TYPES_SAID}",
        hint=f"make the column a number (ALTER TABLE {w.profiles.name} ALTER COLUMN {col} TYPE {want} USING "
             f"{col}::{want}), or wire the counter to a column of its own ({want})")


def _counter_type_error(plpy, w: Wiring, c: Counter, sql, own: str, said: str) -> WiringError:
    """A counter whose values do not go into its column's type (42804, as PostgreSQL said): the counter, its rule,
    the column and its type, the values' type, and what the counter's kind takes."""
    try:
        (typid,) = plpy.execute(f"SELECT {own} AS o FROM {w.profiles.name} AS p, ({sql.agg}) AS a LIMIT 0").coltypes()
        values = plpy.execute(plpy.prepare(_BASE_TYPE, ["pg_catalog.oid"]), [typid])[0]["name"]
    except plpy.SPIError:  # (the expression alone fails too: PostgreSQL's words are all there is)
        values = None
    col, column_type = column_of(plpy, w.profiles, c.column), w.profiles.types[c.column]
    takes = {"max": "a max counter takes a column of its values' type, which GREATEST compares them with",
             "min": "a min counter takes a column of its values' type, which LEAST compares them with",
             "add": "an add counter takes a number column its sum is added to",
             "set": "a set counter takes a column its aggregate's values are assigned to",
             "last": "a last counter takes a column its expression's values are assigned to",
             "recompute": "a recompute counter takes a column its aggregate's values are assigned to",
             "window": "a window counter takes a number column"}[c.kind]
    computes = f"computes {values} values" if values else "computes values"
    return WiringError(f"counter {c.column!r} ({_rule(c)}) {computes} and {col} is {column_type}: {takes}",
                       sqlstate="42804", detail=f"PostgreSQL: {said}",
                       hint=(f"make the column {values} (ALTER TABLE {w.profiles.name} ALTER COLUMN "
                             f"{quote_ident(plpy, c.column)} TYPE {values}), or cast the expression to "
                             f"{column_type} in the rule") if values else f"cast the expression to {column_type} in the rule")


_MODEL_NAMES = "SELECT DISTINCT m.name FROM pgscore.models m"


def _warn_no_such_model(plpy, w: Wiring, until: str):
    """A WARNING (a NOTICE before this release, which alembic and most clients hide) for a wiring whose model no
    version was ever stored under: attaching before the first deploy is allowed, but a typo looks the same, so it
    names the registered models nearest to the name (difflib's ratio, case aside)."""
    import difflib

    names = sorted(r["name"] for r in plpy.execute(_MODEL_NAMES))
    lowered = {}
    for n in names:
        lowered.setdefault(n.lower(), n)
    near = [lowered[n] for n in difflib.get_close_matches(w.model_name.lower(), list(lowered), n=3, cutoff=0.6)]
    name = quote_literal(plpy, w.model_name)
    if near:
        detail = "registered models nearest to it: " + ", ".join(quote_literal(plpy, n) for n in near)
    elif names:
        detail = (f"none of the {len(names)} registered model(s) is near it: "
                  + ", ".join(quote_literal(plpy, n) for n in names[:10]) + (", ..." if len(names) > 10 else ""))
    else:
        detail = "no model is registered yet"
    plpy.warning(f"pgscore: there is no model {name}; until it has a live version, {until}", detail=detail,
                 hint=f"if the name is a typo: SELECT pgscore.detach_rescoring({quote_literal(plpy, w.events.name)}) and "
                      "attach again with "
                      "the model's name; if the model is deployed later, its first live version rescores from then on")


def _set_hint(plpy, w: Wiring, c: Counter) -> str | None:
    """The hint of a set counter whose expression is no aggregate (42803): one statement (a multi-row INSERT, a
    COPY) brings several events of a profile, and the counter keeps one value; the last event's (what a user means
    by "set") is a last counter's, by the event id column where one is wired, else by a column that orders them."""
    if c.kind != "set":
        return None
    if w.event_id_column is None:
        return (f"a set counter takes an aggregate over each profile's new events of the statement; to keep the value "
                f"of its last event write {json.dumps({'last': c.expr, 'by': 'e.ID'})}, ID a column that orders the "
                "events (or wire one as p_event_id_column)")
    return (f"a set counter takes an aggregate over each profile's new events of the statement; to keep the value of "
            f"its last event (by e.{quote_ident(plpy, w.event_id_column)}) write {json.dumps({'last': c.expr})}")


def _last_refusal(plpy, w: Wiring, c: Counter, e) -> WiringError | None:
    """The refusal of a last counter whose expression (or "by") is an aggregate, or holds one (42803: PostgreSQL says
    the aggregates it is put in cannot be nested), as a last counter's own words."""
    if c.kind != "last" or _state(e) != "42803":
        return None
    return WiringError(f"counter {c.column!r} ({_rule(c)}): a last counter takes an expression over each event e "
                       "(and \"by\" one too), which is no aggregate and holds none", sqlstate="42803",
                       detail=f"PostgreSQL: {_message(e)}",
                       hint=f"an aggregate over each profile's new events of the statement is a set counter: "
                            f"{json.dumps({'set': c.expr})}")


# the name of a last counter's expression's type, and its category (a domain's is its base type's: CREATE DOMAIN
# copies it, over a domain as well)
_LAST_TYPE = ("SELECT pg_catalog.format_type(t.oid, NULL) AS name, t.typcategory::pg_catalog.text AS category "
              "FROM pg_catalog.pg_type t WHERE t.oid OPERATOR(pg_catalog.=) $1")


def _check_last_is_no_array(plpy, w: Wiring, c: Counter):
    """Refuse (0A000) a last counter of array values: the newest of them is taken from an array_agg of the events'
    values, which PostgreSQL makes one array of more dimensions from arrays (its first element no array; arrays of
    different lengths an error at the INSERT)."""
    typid = _expression_type(plpy, w, c)
    if typid is None:  # (the statements' check says what is wrong with it)
        return
    t = plpy.execute(plpy.prepare(_LAST_TYPE, ["pg_catalog.oid"]), [typid])[0]
    if t["category"] == "A":
        raise WiringError(f"counter {c.column!r} ({_rule(c)}) computes {t['name']} values: a last counter keeps a "
                          "value that is no array", sqlstate="0A000",
                          hint=f"keep it as jsonb (a jsonb column): {json.dumps({'last': f'pg_catalog.to_jsonb({c.expr})'})}")


# the rules of a counter that keep a word: the newest event's (last), an aggregate's (set, recompute: mode() say)
WORD_RULES = ("last", "set", "recompute")


def _check_counters_of_words(plpy, w: Wiring, model, made_types: dict):
    """Refuse a counter feeding a text feature of the live version (its words, 0123) through a profile column that
    holds words (a string type, an ENUM): a count, an add or a window counts or sums numbers, and a max or a min
    orders words by their spelling, not by anything the model knows of them (22023); a last, set or recompute counter
    whose values are no words (an integer, say, which the column would hold as the text '3', an unknown word: 42804).
    A number column of codes (pgscore.category_code's) is read as codes, whatever its counter."""
    words = getattr(model, "text_categories", None) or {}
    for c in w.counters:
        typid = w.profiles.columns.get(c.column)
        if c.column not in words or typid is None:
            continue
        t = plpy.execute(plpy.prepare(_LAST_TYPE, ["pg_catalog.oid"]), [typid])[0]
        if t["category"] not in ("S", "E"):
            continue
        what = (f"counter {c.column!r} ({_rule(c)}) feeds the text feature {c.column!r} of model {model.label} "
                f"({column_of(plpy, w.profiles, c.column)}, {w.profiles.types[c.column]}), which the model was "
                "fitted on words of")
        expr = c.expr if c.kind in ("max", "min") else f"e.{quote_ident(plpy, c.column)}"
        hint = (f"keep the newest event's word with a last counter ({json.dumps({'last': expr})}), or an aggregate "
                f"of words with a set or recompute counter (the most frequent: "
                f"{json.dumps({'recompute': f'mode() WITHIN GROUP (ORDER BY {expr})'})})")
        if c.kind not in WORD_RULES:
            does = {"max": "keeps the word that sorts last by its spelling (GREATEST), no order of the model's",
                    "min": "keeps the word that sorts first by its spelling (LEAST), no order of the model's",
                    "window": "counts events, no word",
                    "add": "counts events, no word" if c.expr == "1" else "adds up numbers, no word"}[c.kind]
            kind = "count" if c.kind == "add" and c.expr == "1" else c.kind
            raise WiringError(f"{what}: a {kind} counter {does}; a text feature's counter is a "
                              f"{', '.join(WORD_RULES[:-1])} or {WORD_RULES[-1]} of words", sqlstate="22023", hint=hint)
        made = made_types.get(c.column)
        values = plpy.execute(plpy.prepare(_LAST_TYPE, ["pg_catalog.oid"]), [made])[0] if made else None
        known = ", ".join(quote_literal(plpy, x) for x in words[c.column][:10])
        if values is not None and values["category"] not in ("S", "E"):
            raise WiringError(f"{what}: its values are {values['name']}, not words: the column would hold each as "
                              "its text, a word the model does not know", sqlstate="42804",
                              detail=f"the words it knows: {known}" + (", ..." if len(words[c.column]) > 10 else ""),
                              hint=hint)


def _check_statements(plpy, GD, w: Wiring):
    """Prepare (without running) what the trigger will run, with the event table in place of the
    transition table: each counter alone first, so an error names it; then the model's statements."""
    from pgscore.serving import Runtime

    all_counters = w.counters
    made_types = {}  # each counter's new values' type (oid), for _check_counters_of_words
    try:
        for c in all_counters:
            w.counters = [c]
            sql = Sql(plpy, w, None, source=w.events.name)
            _check_counts_into_a_number(plpy, w, c)
            if c.kind == "last":
                _check_last_is_no_array(plpy, w, c)
            # the expression's own type (LIMIT 0: nothing is read), for an assignment that rounds, one that a
            # session's TimeZone casts, and a column it does not go into
            own = "a.c0" if c.kind in KINDS else sql.new_values[c.column]
            try:
                plpy.prepare(sql.counters_only())
                made, expressed = plpy.execute(f"SELECT {sql.new_values[c.column]} AS v, {own} AS o FROM "
                                               f"{w.profiles.name} AS p, ({sql.agg}) AS a LIMIT 0").coltypes()
            except plpy.SPIError as e:
                if _state(e) == "42804":  # the values do not go into the column's type: say both, and what it takes
                    raise _counter_type_error(plpy, w, c, sql, own, _message(e)) from None
                last = _last_refusal(plpy, w, c, e)
                if last is not None:
                    raise last from None
                # (a column misspelt in the counter's expression: say which columns the events have)
                raise WiringError(f"counter {c.column!r}: {_message(e)}", sqlstate=_state(e) or "42601",
                                  detail=f"the columns of {w.events.name}, the event table: "
                                         + ", ".join(w.events.columns) if _state(e) == "42703" else None,
                                  hint=_set_hint(plpy, w, c) if _state(e) == "42803" else
                                  _condition_add_hint(plpy, w, c) if _state(e) == "42883" and c.kind == "add"
                                  else None) from None
            made_types[c.column] = made
            if c.kind != "window":
                _warn_zone_cast(plpy, w, c, expressed)
            if w.profiles.columns[c.column] in INTEGER_TYPES and made in FRACTIONAL_TYPES:
                plpy.warning(f"pgscore: counter {c.column!r} computes {FRACTIONAL_TYPES[made]} values and "
                             f"{column_of(plpy, w.profiles, c.column)} is {w.profiles.types[c.column]}: each "
                             "new value will be "
                             "rounded to a whole number",
                             hint=f"make the column numeric (ALTER TABLE {w.profiles.name} ALTER COLUMN "
                                  f"{quote_ident(plpy, c.column)} TYPE numeric), or the expression whole")
    finally:
        w.counters = all_counters
    try:
        model = Runtime.get(plpy, GD).resolve(w.model_name)
    except UnknownModel as e:
        until = ("every INSERT into the event table fails (the wiring is strict)" if w.strict else
                 "events update the counters and queue each profile in pgscore.error_queue")
        if e.sqlstate == "42704":  # no version under that name at all: a typo, or attached before the first deploy
            _warn_no_such_model(plpy, w, until)
        else:  # registered, none live (retired, or never made live): the registry says so, and pgscore status
            plpy.notice(f"pgscore: {e.message}; until it has a live version, {until}")
        model = None
    by_name = model is not None and not w.by_position
    _check_shadows_have_their_columns(plpy, w, model)
    if model is not None and w.by_position:
        _check_shadows_read_the_array(plpy, w, model)
    # (a wiring made before this check stays as it is; a version made live later is refused by the deployments'
    # trigger, a shadow by set_shadow, since 0075)
    read = _score_columns_read(plpy, w, model.model_id, model.feature_names) if by_name else []
    if read:
        what, col, _ = read[0]
        raise WiringError(f"{column_of(plpy, w.profiles, col)} (the {what} column) is a feature of model "
                          f"{model.label}: "
                          "each rescoring would feed its own output back in", detail=_columns_affected(read))
    if model is not None:
        _check_no_feature_generated_from_a_score_column(plpy, w, model)
        _check_counters_of_words(plpy, w, model, made_types)
    _check_shadows_read_no_score_column(plpy, w, model)
    _label_cast(plpy, w, model)  # (a regressor, classes the label column cannot hold: in score_table's words)
    try:
        Plans(plpy, w, model, source=w.events.name)
    except plpy.SPIError as e:
        raise WiringError(f"the rescoring statements for {w.profiles.name} do not compile: {_message(e)}",
                          sqlstate=_state(e) or "42601", **spi_objects(e)) from None
    except InvalidModel as e:
        # (the model once: its refusals begin with it)
        raise WiringError(f"{w.profiles.name} cannot feed model {model.label}: "
                          f"{e.message.removeprefix(f'model {model.label}: ')}",
                          sqlstate=e.sqlstate, detail=e.detail, hint=e.hint, **e.objects) from None
