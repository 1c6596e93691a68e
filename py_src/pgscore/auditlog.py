"""Writing pgscore.prediction_log: buffered for the query path, set-based for batches.

One INSERT per prediction would cost more than the prediction, so the query
path keeps its rows in the backend and writes them with one INSERT per
`FLUSH_AT` rows. What remains is written at commit by a deferred constraint
trigger on pgscore.log_pending (one row per transaction, inserted when the
transaction buffers its first prediction). A buffer left by a transaction
that rolled back is dropped when the next one starts.
"""

from __future__ import annotations

import itertools
import json
import random

from pgscore import pgarray

FLUSH_AT = 10_000
KEEP_AT_MOST = 100_000  # rows written inside subtransactions kept to be written again (QueryLog.kept)
EQ = "OPERATOR(pg_catalog.=)"

# one row per prediction; features arrive as one flat array sliced per row. Numeric arrays are made once
# each (the flat array in an initplan, the rest as arguments), from raw doubles or a text literal
# (pgarray: {flat} and {scores} are the format's SQL for the parameter, {t} its type).
# uniform: rows of one model and one cause (a batch chunk, most statements); insert: any rows
_STATEMENTS = {
    "insert": (
        "INSERT INTO pgscore.prediction_log (model_id, entity_key, features, score, label, source, cause) "
        "SELECT u.m, u.k, ((SELECT {flat}))[u.lo:u.hi], u.s, u.l, $8, ($9)[u.c] "
        "FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.int8[]), pg_catalog.unnest($2), "
        "pg_catalog.unnest($4::pg_catalog.int4[]), pg_catalog.unnest($5::pg_catalog.int4[]), "
        "pg_catalog.unnest({scores}), pg_catalog.unnest($7), pg_catalog.unnest($10::pg_catalog.int4[])) "
        "AS u(m, k, lo, hi, s, l, c)",
        ["pg_catalog.text", "pg_catalog.text[]", "{t}", "pg_catalog.text", "pg_catalog.text", "{t}",
         "pg_catalog.text[]", "pg_catalog.text", "pg_catalog.jsonb[]", "pg_catalog.text"], ("$3", "$6")),
    "uniform": (
        "INSERT INTO pgscore.prediction_log (model_id, entity_key, features, score, label, source, cause) "
        "SELECT $1, u.k, ((SELECT {flat}))[((u.i OPERATOR(pg_catalog.-) 1) OPERATOR(pg_catalog.*) $4) "
        "OPERATOR(pg_catalog.+) 1:(u.i OPERATOR(pg_catalog.*) $4)], u.s, u.l, $6, "
        "(SELECT $7::pg_catalog.jsonb) FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest({scores}), "
        "pg_catalog.unnest($8)) WITH ORDINALITY AS u(k, s, l, i)",
        ["pg_catalog.int8", "pg_catalog.text[]", "{t}", "pg_catalog.int4", "{t}", "pg_catalog.text",
         "pg_catalog.text", "pg_catalog.text[]"], ("$3", "$5")),
}


def _statement(kind, fmt):
    """(SQL, parameter types) of statement `kind` with its numbers sent in format `fmt` (pgarray)."""
    sql, types, (flat, scores) = _STATEMENTS[kind]
    return (sql.format(flat=fmt.sql(flat), scores=fmt.sql(scores)),
            [fmt.type if t == "{t}" else t for t in types])


_ARM = "INSERT INTO pgscore.log_pending DEFAULT VALUES"
_DEFER = "SET CONSTRAINTS pgscore.log_pending_flush DEFERRED"
_DISARM = f"DELETE FROM pgscore.log_pending p WHERE p.xid {EQ} pg_catalog.pg_current_xact_id()"
# the statement's start as the cause's text: in UTC, in one format (microseconds always six digits), whatever the
# writer's TimeZone, so that rows compare and sort as text ('...+14:00' next to '...+00:00' did not; session 63)
STATEMENT_AT = ("pg_catalog.to_char(pg_catalog.timezone('UTC'::pg_catalog.text, pg_catalog.statement_timestamp()), "
                "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"'::pg_catalog.text)")
# the run a score_table or predict_batch row is of (session 63: `pgscore score` logs each chunk in a statement of its
# own, so one run of 3 chunks had 3 statement_at): pgscore.run where the session names one (pgscore score names its
# run so: its start in statement_at's form and its server process, RUN below), else the statement's own start and
# process (a CALL of score_table is one statement however many chunks it commits; so is a predict_batch, whose rows
# had no run before session 64, and a dbt model's or a materialized view's calls all read as one)
RUN = f"pg_catalog.concat({STATEMENT_AT}, '/', pg_catalog.pg_backend_pid())"
_RUN_OF = (f"CASE WHEN $1::pg_catalog.text OPERATOR(pg_catalog.=) ANY "
           f"('{{score_table,predict_batch}}'::pg_catalog.text[]) THEN coalesce("
           f"nullif(pg_catalog.current_setting('pgscore.run', true), ''), {RUN}) END")
# who and what asked: the audit rows' cause ($1 names the path for batches, NULL for queries)
CAUSE = ("pg_catalog.json_strip_nulls(pg_catalog.json_build_object('via', $1::pg_catalog.text, 'user', CURRENT_USER, "
         "'application', pg_catalog.current_setting('application_name'), 'backend', pg_catalog.pg_backend_pid(), "
         f"'statement_at', {STATEMENT_AT}, 'run', {_RUN_OF}))::pg_catalog.text")
_SETTINGS = ("SELECT pg_catalog.current_setting('pgscore.log_queries', true) AS mode, "
             f"pg_catalog.current_setting('transaction_read_only') AS read_only, {CAUSE} AS cause")


def parse_mode(value) -> float:
    """pgscore.log_queries: 'all' (default) -> 1.0, 'off' -> 0.0, a fraction in [0, 1] -> that rate."""
    from pgscore.errors import PgscoreError

    v = (value or "all").strip().lower()
    if v in ("all", "on", "true"):
        return 1.0
    if v in ("off", "none", "false"):
        return 0.0
    try:
        rate = float(v)
    except ValueError:
        rate = -1.0
    if not 0.0 <= rate <= 1.0:
        raise PgscoreError(f"invalid value for pgscore.log_queries: {value!r}", sqlstate="22023",
                           hint="use 'all', 'off' or a sampling rate between 0 and 1, e.g. SET pgscore.log_queries = '0.1'")
    return rate


class Rows:
    """Columns of pending prediction-log rows."""

    def __init__(self):
        self.models, self.keys, self.flat, self.widths = [], [], [], []
        self.scores, self.labels, self.cause_idx, self.causes = [], [], [], []

    def __len__(self):
        return len(self.models)

    def add(self, model_id, key, features, score, label, cause):
        if not self.causes or self.causes[-1] != cause:
            self.causes.append(cause)
        self.flat.extend(features)
        self.models.append(model_id)
        self.keys.append(key)
        self.widths.append(len(features))
        self.scores.append(score)
        self.labels.append(label)
        self.cause_idx.append(len(self.causes))

    def write(self, log, source):
        """Write the rows with the 'uniform' statement when they share a model, a width and a cause,
        else with 'insert' (log: the QueryLog whose plans these are)."""
        if self.models:
            if len(self.causes) == 1 and len(set(self.models)) == 1 and len(set(self.widths)) == 1:
                write_batch(log, self.models[0], self.keys, self.flat, self.widths[0], self.scores, self.labels,
                            source, self.causes[0])
            else:
                lit, hi = pgarray.literal, list(itertools.accumulate(self.widths))  # where each row's features end
                lo = [h - w + 1 for h, w in zip(hi, self.widths)]
                _execute(log, "insert", len(self.flat), lambda fmt: [
                    lit(self.models), _or_null(self.keys), fmt.value(self.flat), lit(lo), lit(hi),
                    fmt.value(self.scores), _or_null(self.labels), source, self.causes, lit(self.cause_idx)])


class QueryLog:
    """The query path's buffer, its settings (read once per statement) and the commit-time flush."""

    def __init__(self, plpy, clock):
        self.plpy, self.clock = plpy, clock
        self.plans = {}  # (statement, format): its plan, prepared when first used
        self.arm_plan = plpy.prepare(_ARM)
        self.settings_plan = plpy.prepare(_SETTINGS, ["pg_catalog.text"])
        self.rows = Rows()
        # (top xid, subtransaction xid, Rows) written inside a subtransaction: a rollback of it takes them
        # with it, rows buffered before it included; written again if it did (settle)
        self.kept = []
        self.top = None  # the top-level xid of the transaction the buffer and `kept` belong to
        self.armed = None  # the (xid, subxid) whose log_pending row will flush the buffer
        self.flushes = 0
        self.warned_kept = False
        self.rate = None  # None: settings not read yet for this statement
        self.cause = None

    def plan(self, kind, fmt):
        """The plan of audit statement `kind` ('insert', 'uniform') sending its numbers in format `fmt`."""
        p = self.plans.get((kind, fmt))
        if p is None:
            p = self.plans[(kind, fmt)] = self.plpy.prepare(*_statement(kind, fmt))
        return p

    def new_statement(self):
        self.rate = None
        if self.kept and not self.clock.nested():
            self.settle()

    def _settings(self):
        r = self.settings_plan.execute([None])[0]
        self.rate = parse_mode(r["mode"])
        self.cause = r["cause"]
        if 0.0 < self.rate < 1.0:  # a sampled row says its rate, so that a count of them can be scaled up
            self.cause = self.cause[:self.cause.rindex("}")] + f', "sample_rate" : {self.rate!r}}}'
        if r["read_only"] == "on" and self.rate > 0:
            self.plpy.warning(f"pgscore: {read_only_where(self.plpy)}: predictions of this statement are scored "
                              "but not written to pgscore.prediction_log")
            self.rate = 0.0

    def record(self, model_id, key, features, score, label):
        if self.rate is None or self.clock is None:
            self._settings()
        if self.rate < 1.0 and (self.rate == 0.0 or random.random() >= self.rate):
            return
        if self.clock is None:  # no cheap transaction identity: write each row now
            self.rows.add(model_id, key, features, score, label, self.cause)
            return self.flush()
        tx = self.clock.transaction()
        if tx != self.armed:
            self._arm(tx)
        self.rows.add(model_id, key, features, score, label, self.cause)
        if len(self.rows) >= FLUSH_AT:
            self.flush()

    def _arm(self, tx):
        if tx[0] != self.top:  # a new transaction (the xid is 0 until the marker row below assigns one)
            self.rows = Rows()  # left by a transaction that rolled back (commit would have flushed it)
            self.kept, self.warned_kept = [], False
        if self.clock.restricted():  # the marker's deferred trigger would fail with PostgreSQL's bare
            # "cannot fire deferred trigger within security-restricted operation"
            from pgscore.errors import PgscoreError

            raise PgscoreError(
                "cannot log predictions made inside CREATE or REFRESH MATERIALIZED VIEW: PostgreSQL runs "
                "their query as a security-restricted operation, which may not queue the commit-time trigger "
                "that writes pgscore.prediction_log", sqlstate="0A000",
                detail="where the transaction logged a prediction before the refresh, at the same level (not "
                       "since a SAVEPOINT, nor inside a PL/pgSQL block with an EXCEPTION clause), the trigger is "
                       "queued already and the refresh's predictions are logged at commit",
                hint="build it on pgscore.predict_batch instead (SELECT key, score FROM pgscore.predict_batch("
                     "'model', 'SELECT id, * FROM schema.table')), which writes its audit rows itself, at the CREATE "
                     "and at each REFRESH; or score into a table (CREATE TABLE AS, INSERT INTO ... SELECT, CALL "
                     "pgscore.score_table) and build the view on it; or refresh with SET LOCAL pgscore.log_queries = "
                     "off, which logs nothing (docs/sql.md, 'In the SQL you write')")
        before = self.flushes
        self.plpy.execute(self.arm_plan)
        if self.flushes != before:  # SET CONSTRAINTS ALL IMMEDIATE fired the flush at once: defer it again
            # (rows written through as they come would go with a savepoint rolled back, with nothing at
            # commit to write them again; the setting is the transaction's, and rolls back with a savepoint)
            self.plpy.execute(_DEFER)
            self.plpy.execute(self.arm_plan)
        self.armed = self.clock.transaction()
        self.top = self.armed[0]

    def flush(self):
        rows = self.rows
        rows.write(self, "query")  # (one that fails, a cancel say, leaves the rows buffered)
        self.rows = Rows()
        if self.clock is not None and rows.models and self.clock.nested():
            self._keep(rows)

    def _keep(self, rows):
        """Keep rows written inside a subtransaction, to write them again if it rolls back; past KEEP_AT_MOST
        rows the oldest go, with a WARNING (a driver that wraps every statement in a savepoint keeps the
        whole transaction nested)."""
        self.kept.append((*self.clock.written_in(), rows))
        total = sum(len(k[2]) for k in self.kept)  # (a few chunks of up to FLUSH_AT rows)
        if total > KEEP_AT_MOST:
            drop = 0  # the oldest, in one go
            while total > KEEP_AT_MOST and drop < len(self.kept) - 1:
                total -= len(self.kept[drop][2])
                drop += 1
            del self.kept[:drop]
            if not self.warned_kept:
                self.warned_kept = True
                self.plpy.warning(f"pgscore: more than {KEEP_AT_MOST:,} predictions of this transaction were written "
                                  "to pgscore.prediction_log inside savepoints or EXCEPTION blocks that are still "
                                  "open; if one of them rolls back, those beyond the newest "
                                  f"{KEEP_AT_MOST:,} go with it", hint="score outside savepoints (a driver's "
                                  "autosave wraps every statement in one), or commit more often")

    def settle(self):
        """Write again the rows written inside a subtransaction that rolled back since (they were predicted
        all the same, as those still buffered are). At the top level the others are safe and forgotten;
        inside a subtransaction everything stays kept, what was written again too."""
        top, nested = self.clock.transaction()[0], self.clock.nested()
        kept, self.kept = self.kept, []
        for i, (xid, sub, rows) in enumerate(kept):
            try:
                if xid != top:
                    continue
                if self.clock.aborted(sub):
                    rows.write(self, "query")
                    if nested:
                        self._keep(rows)
                elif nested:
                    self.kept.append((xid, sub, rows))
            except BaseException:
                self.kept = kept[i:] + self.kept  # (the statement fails; what is left stays kept)
                raise

    def at_commit(self):
        """The deferred trigger: write what is buffered and forget this transaction's marker rows."""
        self.flushes += 1
        if self.armed is None:
            return
        buffered = len(self.rows)
        try:
            if self.kept:  # (SET CONSTRAINTS ALL IMMEDIATE fires it inside a subtransaction too)
                self.settle()
            self.flush()
            self.plpy.execute(_DISARM)
        except self.plpy.SPIError as e:
            from pgscore.errors import PgscoreError, spi_fields

            if spi_fields(e)["sqlstate"] != "25006":
                raise
            # made read-only after it scored (SET TRANSACTION READ ONLY, SET LOCAL transaction_read_only = on
            # may come after the first query, never the other way): what it buffered cannot be written now,
            # and a prediction returned is logged or its transaction rolls back (as with a full disk)
            scored = f"scored {buffered:,} predictions" if buffered else "scored"
            raise PgscoreError(
                f"this transaction {scored} before it was made read-only, and at its commit a read-only "
                "transaction cannot write them to pgscore.prediction_log: it is rolled back",
                sqlstate="25006",
                detail="pgscore writes a transaction's audit rows when it commits; SET TRANSACTION READ ONLY "
                       "or SET LOCAL transaction_read_only = on came after the transaction's first predictions",
                hint="make a transaction read-only before it scores (BEGIN READ ONLY, or SET TRANSACTION READ "
                     "ONLY as its first statement): it then scores without logging") from None
        self.armed = None


def read_only_where(plpy) -> str:
    """Where a scoring WARNING says its predictions go unlogged: a standby (its transactions all read-only, none
    by a setting of the caller's, which a developer on a replica looked for: trial hT17 of session 64), or a
    read-only transaction."""
    from pgscore.errors import on_a_standby

    return ("on a standby (a read replica), whose transactions are all read-only" if on_a_standby(plpy) else
            "read-only transaction")


# the statement whose predict_batch calls this server process counts, and how many it has made: [run, calls]
_CALLS = ["", 0]


def cause(plpy, via) -> str:
    """The cause recorded with a batch's audit rows. A predict_batch call's run is its statement's (RUN) where the
    session names none; a second call of the same statement (a UNION ALL of two, a function calling it twice)
    is another run, `<RUN>#2` (#3...): they were one run, their rows told apart by nothing (review r5 of session
    64). A statement's calls run one after another in one process, whose top-level statement_at is the same for
    them all and another for the next statement."""
    c = plpy.execute(plpy.prepare(f"SELECT {CAUSE} AS c", ["pg_catalog.text"]), [via])[0]["c"]
    if via != "predict_batch":
        return c
    d = json.loads(c)
    run = f"{d.get('statement_at')}/{d.get('backend')}"
    if d.get("run") != run:  # the session's pgscore.run: every call is of that run
        return c
    if _CALLS[0] == run:
        _CALLS[1] += 1
        d["run"] = f"{run}#{_CALLS[1]}"
        return json.dumps(d)
    _CALLS[:] = [run, 1]
    return c


def write_batch(log, model_id, keys, flat, width, scores, labels, source, cause):
    """Set-based audit rows of one model, width and cause (log: the backend's QueryLog): `flat` holds the
    rows' features one after the other (a list, or a numpy array read flat, such as a chunk's (n, width)
    features), `width` of them a row."""
    _execute(log, "uniform", len(flat) if isinstance(flat, list) else flat.size,
             lambda fmt: [model_id, _or_null(keys), fmt.value(flat), width, fmt.value(scores), source, cause,
                          _or_null(labels)])


def _execute(log, kind, count, args):
    """Run audit statement `kind` for `count` numbers; args(fmt) gives its parameters in that format."""
    fmt = pgarray.format_for(log.plpy, count)
    return log.plan(kind, fmt).execute(args(fmt))


def _or_null(values: list):
    """NULL for a column of NULLs (the query path's keys, a score's labels): ROWS FROM fills a shorter
    column with NULLs, and PL/Python would otherwise turn each None into an array element (~0.4 us)."""
    return None if values.count(None) == len(values) else values
