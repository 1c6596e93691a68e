"""Client side of batch scoring: drive pgscore.score_chunk a chunk and a commit at a time; and `maintain`,
the prediction log's day partitions (pgscore maintain)."""

from __future__ import annotations

import contextlib
import datetime
import os
import re
import select
import signal
import sys
import threading
import time

from pgscore.errors import InvalidModel, PgscoreError, UsageError, literal
from pgscore.registry import _call, connection, server_notices


MAX_SKIPPED = 100  # rows a run with skip leaves unscored before it stops: past that, the model or table is wrong


def score_table(db, model, table, key, into, *, chunk_size=10000, version=None, after=None, log=True,
                progress=True, state=None, cancel=False, where=None, skip=False, max_skipped=MAX_SKIPPED,
                label_into=None, scored_at_into=None, said=None, notices=None, stop=None) -> dict:
    """Score `table` into column `into` in key order, committing each chunk, so an interrupted run keeps
    what it finished and resumes with after=<last key>. KeyboardInterrupt carries the resume state; a
    caller's `state` dict is kept up to date too (rows committed, last key, version), for an error.
    With `cancel` (the CLI), a second Ctrl-C cancels the chunk in flight (see _stop_between_chunks): it
    sets psycopg2's wait callback, which is the whole process's, for the run.

    `where`: the user's boolean SQL expression over the table's columns; only the rows it holds for are scored
    (the others are read, in key order, and left as they are). `skip`: a row the model cannot score (an error of
    class 22 naming its key) is left as it is and listed in state["skipped"] as (key, SQLSTATE, message), the rest
    of its chunk scored; more than `max_skipped` of them stop the run. `label_into`: a column that receives the
    class pgscore.predict gives each row (score_chunk's p_label_into), in the same chunks; the run holds its lock
    too. `scored_at_into`: a column that receives each chunk's now() in the same UPDATE (p_scored_at_into).
    `said(state)`: the options that resume after the rows committed so far, which each progress line off a terminal
    ends with (the CLI's resume line). `notices`: a list the connection's notices go to (psycopg2's conn.notices,
    the CLI's, which prints the server's WARNINGs as they come: a shadow's failure, say).
    `stop`: a Stop whose handlers the caller installed (`handling`: the CLI, for the whole command), used instead of
    _stop_between_chunks' around the chunks: from the connection on, its statements wait in _wait (a signal stops
    one at once before the first chunk), and its phase says where the run is."""
    import psycopg2
    import psycopg2.errors
    import psycopg2.extensions

    from pgscore.registry import connect, libpq_target

    # what registry's functions take as db (session 66, h7: an SQLAlchemy engine, engine.url, or a
    # postgresql+psycopg:// URL failed here, `invalid dsn: invalid connection option "postgresql+psycopg://..."`)
    db, driver = libpq_target(db)
    # the audit rows' cause names the application: this one, unless the URL names another
    try:
        conn = connect(db, driver, fallback_application_name="pgscore score") if isinstance(db, str) else db
    except psycopg2.OperationalError as e:  # (the CLI tells a server restarting or full, 75, from a bad password)
        e.pgscore_connecting = True
        raise
    if notices is not None:  # (heard where the login's client_min_messages is error: migrate.hear_warnings)
        from pgscore.migrate import hear_warnings

        hear_warnings(conn, notices, session=True)  # (its chunks commit; a transaction pooler is refused)
    waits = contextlib.ExitStack()  # (waiting(): _wait as the wait callback, the one before given back at the end)
    if stop is not None:  # (before, a SIGTERM while a statement before the chunks waited, on a lock say, waited too)
        stop.conn, stop.cancel = conn, cancel
        waits.enter_context(waiting(cancel))
    # a second connection's parameters (the --where check's, the in-doubt COMMIT's question), read while the
    # caller's connection is open: a closed one has none to give
    again = _dsn_of(db)
    state = state if state is not None else {}
    state.update({"rows": 0, "last_key": after, "version": version, "skipped": []})
    started = time.perf_counter()
    bar = None
    held = held_label = label_holder = None
    run_set = False
    given = stop
    try:
        # a transaction pooler gives each transaction any server session: refused before anything is read or
        # written (the run's lock is its server session's)
        server_pid = own_server_session(conn, again, "score")
        # one run id on every row the run logs, in each chunk's statement (auditlog._RUN_OF): the session's own
        # pgscore.run where it names one (PGOPTIONS), else the run's start and server process; the session's again
        # at the end
        run_set = _name_the_run(conn)
        # the key and score columns as SQL writes them (quote_ident: "Score", "order"), for what is printed; the
        # table is given as SQL writes it already
        (shown_key, shown_into), = _call(conn, "SELECT pg_catalog.quote_ident(%s), pg_catalog.quote_ident(%s)",
                                         (key, into))
        state["shown"] = {"key": shown_key, "into": shown_into}
        rel = _relation(conn, table, key)
        job = _Job(conn, model, table, key, into, chunk_size, log, rel, where, skip, max_skipped, state, label_into,
                   scored_at_into)
        try:
            if where is not None:  # read only, so that nothing is written before the expression is known to be good
                conn.commit()
                _call(conn, "SET TRANSACTION READ ONLY", None)
                total, null_keys = _checked_where(conn, again, rel, key, after, where, table, job)
                conn.rollback()
            else:
                total, null_keys = _remaining(conn, rel, key, after)
        except psycopg2.Error as e:  # (a statement_timeout here is the count's: no chunk size shortens it)
            e.pgscore_counting = True
            raise
        held, holder = _hold_column(conn, table, into, shown_into)
        if label_into is not None:
            (state["shown"]["label_into"],), = _call(conn, "SELECT pg_catalog.quote_ident(%s)", (label_into,))
        if label_into is not None and label_into != into:  # (the same column: score_chunk refuses it)
            # two runs writing labels into one column at once (into two score columns) would log every prediction
            # twice as well
            # (its own holder: where the score column has none, a typo of --into, the label column's lock was let go
            # as the session of process None's, which it is not: a warning said the lock stayed with `process None`,
            # and on a caller's connection it stayed)
            held_label, label_holder = _hold_column(conn, table, label_into, state["shown"]["label_into"])
        # the live version, once, before the first chunk: each call of a run scores with it (a chunk scored in pieces
        # around a row it cannot score asked for the live one again while no chunk had fixed it: a version made live
        # meanwhile scored the run, and rows were skipped by another version's errors); the first chunk to commit
        # puts it in the state (and the resume line), as before
        job.pinned = version if version is not None else _live_version(conn, model)
        # (what a resume line says where no chunk has said a version yet: the first chunks' rows none --where held for)
        state["pinned"] = job.pinned
        if after is not None and version is None and job.pinned is not None:
            _say_if_resumed_by_another(conn, model, after, job.pinned, shown_key, rel, key, into)
        conn.commit()
        begun = time.time()  # tqdm's clock
        with contextlib.nullcontext(given) if given is not None else _stop_between_chunks(conn, cancel) as stop:
            stop.phase = "loop"
            while not (where is not None and rel[1] and total == 0):  # (none it holds for: no row is read)
                if held:
                    _same_session(conn, holder, table, shown_into)
                # (the chunk's transaction id: whether it committed can be asked where its COMMIT's reply is lost)
                stop.flight = True  # (until it is committed: what a SIGTERM's alarm may cancel)
                n, last, used, xid, skipped = job.chunk(state["last_key"], state["version"])
                # a second Ctrl-C during the COMMIT cannot undo it (the server may have committed already): it
                # is held off until the chunk is committed and counted (else the resume line would be a chunk
                # behind, and resuming would score and log that chunk twice), and the run stops just after; a
                # third one stops at once (a COMMIT that does not end: a synchronous standby down)
                stop.shielded = True
                # the state once this chunk is committed, applied in one C call (a Ctrl-C cannot split it) and
                # idempotent (applied again where a Ctrl-C lands just after it and the server says committed)
                counted = _counted(state, n, last, used, skipped)
                # (the last notice before the COMMIT; a connection-like object without psycopg2's notices, as a
                # pooler's stand-in in the tests, has none to say)
                notices = getattr(conn, "notices", None)
                heard = notices[-1] if notices else None
                try:
                    try:
                        conn.commit()
                        state.update(counted)
                        if stop.commit_cancelled and _warned_since(conn, heard):
                            # a COMMIT cancelled while it waited for a synchronous standby: committed here alone,
                            # with the server's WARNING; the run said "committed" as of any chunk (session 67)
                            state["unconfirmed"] = n
                    except (KeyboardInterrupt, psycopg2.OperationalError) as e:
                        if not isinstance(e, KeyboardInterrupt) and not conn.closed:
                            if stop.commit_cancelled and isinstance(e, psycopg2.errors.QueryCanceled):
                                # a SIGTERM's grace ran out in the COMMIT, which Stop.on_alarm cancelled: the
                                # chunk is rolled back, said as one cancelled in flight (session 66)
                                stop.cancelled = True
                                raise KeyboardInterrupt from None
                            raise  # the server answered: the chunk is rolled back
                        # no answer: whether the chunk committed is asked on a new connection; in doubt until
                        # it answers (so whatever stops the asking, the resume lines say both)
                        conn.close()
                        if n and state["rows"] != counted["rows"]:  # (not counted: its commit did not return)
                            state["in_doubt"] = {**counted, "xid": xid, "status": None}
                        status = _xact_status(again, xid)
                        if status == "committed":
                            state.pop("in_doubt", None)
                            state.update(counted)
                        elif status == "aborted":
                            state.pop("in_doubt", None)
                        elif "in_doubt" in state:  # in progress (the COMMIT still waits), or not known
                            state["in_doubt"]["status"] = status
                        raise
                finally:
                    stop.shielded = stop.flight = False
                if last is None or last == job.chunk_after:  # no row after the chunk's start (or none matched
                    # --where and none was read: the table's end)
                    break
                done = n + len(skipped)  # the rows gone through (with --where, of those it holds for)
                if progress and bar is None:  # drawn once the first chunk is in: bad input draws no bar
                    bar = _progress(total, done, begun, f"{model} -> {table}.{shown_into}", server_pid)
                    if isinstance(bar, _Lines):  # (its lines say where to go on from, as the rows commit)
                        bar.resume = (lambda: said(state)) if said is not None else None
                elif bar is not None:
                    bar.update(done)
                if stop:
                    raise KeyboardInterrupt
            stop.phase = "done"  # (a signal from here on changes nothing: every chunk is committed)
    except KeyboardInterrupt:
        if not conn.closed:  # a second Ctrl-C in a chunk closed it (the server rolls the chunk back)
            conn.rollback()
        if stop is not None and stop.cancelled:  # (a SIGTERM's chunk cancelled after TERM_GRACE: said so)
            state["term_cancelled"] = TERM_GRACE
        raise KeyboardInterrupt(dict(state)) from None
    finally:
        if given is not None and given.phase != "done":  # a stop under way: a second signal raises nothing more
            given.phase, given.flight = "stopping", False
        if bar is not None:
            bar.close()
        if held and not conn.closed:  # its lock on the column goes now, also where the run made the connection:
            # through a pooler in transaction mode, closing it leaves the server session, and the lock, in the
            # pool, and every later run on the column was refused (naming this one, ended)
            _let_go(conn, held, holder, table, shown_into)
        if held_label and not conn.closed:  # (and the label column's)
            _let_go(conn, held_label, label_holder, table, state["shown"]["label_into"])
        if run_set and not isinstance(db, str) and not conn.closed:  # (a caller's connection, used again)
            _unname_the_run(conn)
        if isinstance(db, str):
            conn.close()  # (a lock not let go above goes with the session, where nothing pools it)
        waits.close()
    return {**state, "seconds": time.perf_counter() - started, "null_keys": null_keys}


def _say_if_resumed_by_another(conn, model, after, pinned, shown_key, rel=None, key=None, into=None):
    """A warning on stderr where a run given --after without --version (a resume line edited by hand, or one a run
    printed before it had committed a chunk) goes on from a key whose row the prediction log says another version
    of the model scored: the rest of the table would be scored with `pinned`, the live version now, silently
    (session 65). The log's newest batch row of that key and model (its entity_key index) that score_table wrote
    (cause's via: not a pgscore.predict_batch call's, whose version says nothing of a run's; review r6); nothing where
    the run's role may not read the log, or nothing was logged (--no-log). The log does not name the table: of its
    newest RESUMED_ROWS rows of the key, the newest that wrote the score the table's row holds (`rel`, `key`, `into`)
    is read first (a row of another table sharing the key, scored with another version by a later run, warned:
    session 67), else the newest. The score is compared as the score column's type holds it: a real or a numeric
    column holds the log's float8 rounded (compared as float8, the warning stayed there: review r1, session 67);
    where the table's row cannot be read (a role that may UPDATE the score column and not SELECT it), the newest."""
    import psycopg2
    from psycopg2 import sql

    newest = sql.SQL(
        "SELECT m.version, l.score, l.logged_at FROM pgscore.prediction_log l JOIN pgscore.models m ON m.model_id "
        "OPERATOR(pg_catalog.=) l.model_id WHERE l.entity_key OPERATOR(pg_catalog.=) %s AND "
        "l.entity_key IS NOT NULL AND m.name OPERATOR(pg_catalog.=) %s AND l.source "
        "OPERATOR(pg_catalog.=) 'batch' AND (l.cause OPERATOR(pg_catalog.->>) 'via') "
        "OPERATOR(pg_catalog.=) 'score_table' ORDER BY l.logged_at DESC LIMIT {}")
    params = (str(after), model)
    rows = None
    if rel is not None and rel[1]:
        _call(conn, "SAVEPOINT pgscore_resumed", None)
        try:
            (typ,), = _call(conn, "SELECT pg_catalog.format_type(a.atttypid, a.atttypmod) FROM "
                                  "pg_catalog.pg_attribute a WHERE a.attrelid OPERATOR(pg_catalog.=) "
                                  "%s::pg_catalog.regclass AND a.attname OPERATOR(pg_catalog.=) %s AND a.attnum > 0 "
                                  "AND NOT a.attisdropped", (rel[2].as_string(conn), into)) or ((None,),)
            cast = HELD_AS.get(typ)
            if cast is not None:  # (another type: the first chunk refuses the column)
                rows = _call(conn, sql.SQL(
                    "SELECT r.version FROM ({}) r ORDER BY CAST(r.score AS {}) OPERATOR(pg_catalog.=) (SELECT {} FROM "
                    "{} WHERE {} = %s LIMIT 1) DESC NULLS LAST, r.logged_at DESC LIMIT 1").format(
                        newest.format(sql.Literal(RESUMED_ROWS)), sql.SQL(cast), sql.Identifier(into), rel[0],
                        sql.Identifier(key)), params + (str(after),))
        except (psycopg2.Error, PgscoreError):  # (the table's row unreadable: the newest, below)
            _call(conn, "ROLLBACK TO SAVEPOINT pgscore_resumed", None)
        _call(conn, "RELEASE SAVEPOINT pgscore_resumed", None)
    if rows is None:
        _call(conn, "SAVEPOINT pgscore_resumed", None)
        try:
            rows = _call(conn, newest.format(sql.Literal(1)), params)
        except (psycopg2.Error, PgscoreError):  # (a role that may not read the log: no warning)
            _call(conn, "ROLLBACK TO SAVEPOINT pgscore_resumed", None)
            _call(conn, "RELEASE SAVEPOINT pgscore_resumed", None)
            return
        _call(conn, "RELEASE SAVEPOINT pgscore_resumed", None)
    if rows and rows[0][0] != pinned:
        import shlex

        print(f"pgscore: warning: --after={shlex.quote(str(after))} goes on from a run that scored the rows of "
              f"{shown_key} up to it with {model} v{rows[0][0]} (the prediction log's row of that key), and no "
              f"--version was given: this run scores the rest with v{pinned}, the live version now; to go on with "
              f"v{rows[0][0]}, give --version {rows[0][0]} (as the resume line says)", file=sys.stderr, flush=True)


# _say_if_resumed_by_another: the score column's types (batch.SCORE_TYPES, as format_type prints them) as SQL casts
# the log's float8 score to, as the chunk's UPDATE wrote it; and how many of a key's newest log rows it compares (a
# bound on what it sorts; measured on a demo cluster whose log held 200,000 rows of that one key, the planner read
# them all either way: 100-120 ms, once a run, against 0.2 ms for the newest row alone; review r1, session 67)
HELD_AS = {"double precision": "pg_catalog.float8", "real": "pg_catalog.float4", "numeric": "pg_catalog.numeric"}
RESUMED_ROWS = 1000


def _live_version(conn, model):
    """The live version of `model` as score_chunk finds it (the newest deployment row of its name), or None where
    there is none (retired, unknown: score_chunk says so)."""
    rows = _call(conn, "SELECT m.version, d.action FROM pgscore.deployments d JOIN pgscore.models m ON m.model_id "
                       "OPERATOR(pg_catalog.=) d.model_id WHERE d.model_name OPERATOR(pg_catalog.=) %s "
                       "ORDER BY d.deployment_id DESC LIMIT 1", (model,))
    return rows[0][0] if rows and rows[0][1] != "retire" else None


def _counted(state, n, last, used, skipped=()):
    """The state once a chunk is committed: its rows, its last key (of the rows it scored, skipped or read and
    left as --where asks), the version it used, which the rest of the run keeps, and the rows it skipped."""
    return {"version": used, "rows": state["rows"] + n, "last_key": last if last is not None else state["last_key"],
            "skipped": state["skipped"] + list(skipped)}


def say_if_not_live(db, model, version):
    """A note on stderr when the version asked for is not the live one (retired, rolled back, never made
    live): it scores as asked, as a pinned version does, which the resume line of a run interrupted before
    a retire also asks for."""
    import psycopg2

    from pgscore.migrate import connect_catalog_first

    try:
        conn = connect_catalog_first(db)
    except psycopg2.OperationalError:
        return  # score_table's connection fails the same way, and says so (a server restarting: exit 75)
    with contextlib.closing(conn), conn.cursor() as cur:
        try:
            cur.execute("SELECT version, live FROM pgscore.model_versions WHERE name = %s AND (live OR version = %s) "
                        "ORDER BY live DESC", (model, version))
        except psycopg2.Error:
            return  # score_chunk says what is wrong
        rows = cur.fetchall()
    if version not in [v for v, _ in rows]:
        return  # no such version: score_chunk says so, and nothing is scored with it
    live = rows[0] if rows[0][1] else None
    if live is None or live[0] != version:
        print(f"pgscore: note: {model} v{version} is not the live version ("
              + (f"v{live[0]} is" if live else "no version is") + f"); scoring with v{version} "
              "as --version asks", file=sys.stderr)


def _progress(total, n, begun, desc, backend=None):
    """tqdm's bar on a terminal; elsewhere (a log file, cron's mail) a plain line every LINE_EVERY
    seconds, not a bar redrawn with carriage returns."""
    if sys.stderr.isatty():
        from tqdm import tqdm

        # whole counts (1500/2500 rows) below a million (unit_scale prints 50 as "50.0"), then 1.23M
        bar = tqdm(total=total, initial=n, unit=" rows", unit_scale=total >= 1_000_000, desc=desc,
                   **_unsized_terminal())
        bar.start_t = bar.last_print_t = begun  # its clock from the first chunk's start
        return bar
    return _Lines(total, n, begun, desc, backend)


def steps(items, desc, *, unit=" steps", total=None):
    """A long step's items with tqdm's bar over them on a terminal (stderr), as _progress draws score's; elsewhere
    (a log file, a pipe, cron's mail) the items as they are, nothing drawn: a bar redrawn with carriage returns
    is garbage there, and the step's own line says what runs. The bar is cleared once the items are done (the
    lines printed after it stay as they were). pgscore bench's training, loading and deploying go through it."""
    if not sys.stderr.isatty():
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit=unit, total=total, leave=False, file=sys.stderr, **_unsized_terminal())


def _unsized_terminal() -> dict:
    """tqdm's ncols and nrows where stderr's terminal reports no size (0 columns or lines: a pseudo-terminal
    nobody sized, as some CI runners give; tqdm drew nothing there, not even the count): $COLUMNS and $LINES,
    else 80 and 24. Empty where the terminal has a size (tqdm reads it, and follows it when it changes)."""
    try:
        size = os.get_terminal_size(sys.stderr.fileno())
    except (AttributeError, OSError, ValueError):
        size = os.terminal_size((0, 0))
    if size.columns > 0 and size.lines > 0:
        return {}

    def env(name, default):
        try:
            value = int(os.environ.get(name, ""))
        except ValueError:
            return default
        return value if value > 0 else default

    return {"ncols": size.columns or env("COLUMNS", 80), "nrows": size.lines or env("LINES", 24)}


def _stamp(t) -> str:
    """A log line's time: local, to the second, with its offset from UTC."""
    return time.strftime("%Y-%m-%d %H:%M:%S%z", time.localtime(t))


class _Lines:
    """What the bar says, as a line at most every LINE_EVERY seconds (tqdm's update and close), each stamped with
    its time and flushed at once (a run killed by SIGKILL, or the OOM killer, leaves its last line in cron's log
    file), after a line saying when the run started (printed once its first chunk is in: bad input prints none).
    `resume`: where set, a function giving the options that go on after the rows committed, which each line
    ends with. The start line names the run's `backend` (its audit rows' cause->>'backend': docs/cli.md's exact
    point after a SIGKILL reads the run's rows by it, whatever ran since)."""

    LINE_EVERY = 30.0

    def __init__(self, total, n, begun, desc, backend=None):
        self.total, self.n, self.begun, self.desc = total, n, begun, desc
        self.said = time.time()
        self.resume = None
        print(f"{_stamp(begun)} {desc}: started, {total:,} rows to score"
              + (f", backend {backend}" if backend is not None else ""), file=sys.stderr, flush=True)

    def update(self, n):
        self.n += n
        now = time.time()
        if now - self.said >= self.LINE_EVERY:
            self.said = now
            pct = f" ({100 * self.n / self.total:.0f}%)" if self.total else ""
            resume = f"; committed, resume with: {self.resume()}" if self.resume is not None else ""
            print(f"{_stamp(now)} {self.desc}: {self.n:,} of {self.total:,} rows{pct}, "
                  f"{self.n / max(now - self.begun, 1e-9):,.0f} rows/s{resume}", file=sys.stderr, flush=True)

    def close(self):
        pass


@contextlib.contextmanager
def _stop_between_chunks(conn, cancel=True):
    """A first Ctrl-C lets the chunk in flight commit and be counted, then stops (a Ctrl-C landing
    between a commit and its bookkeeping would otherwise report a resume point one chunk behind, and
    the resumed run would score and log that chunk twice); a second one stops at once: it cancels the
    chunk's statement on the server, and psycopg2 closes the connection (the chunk is rolled back), unless
    it comes during a chunk's COMMIT, which the server may have done already: then the run stops right after
    the chunk is committed and counted (score_table sets `shielded` meanwhile). A third one stops a COMMIT
    that does not end (score_table then asks the server whether the chunk committed).
    While a statement runs, the process waits in select() (a psycopg2 wait callback), not inside libpq,
    so that the handler runs when the signal arrives, not when the chunk is done (without `cancel`, the
    second Ctrl-C takes effect when the chunk is done, rolling it back). Outside the main thread signals
    cannot be caught and nothing changes. (The CLI's run, `cancel`, gives score_table a Stop of its own
    instead, whose handlers it installs for the whole command with `handling`: see Stop.)"""
    stop = Stop(phase="loop")
    stop.conn, stop.cancel = conn, cancel
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    with handling(stop, term=cancel), waiting(cancel):
        yield stop


@contextlib.contextmanager
def handling(stop, term=True):
    """`stop`'s handlers for SIGINT (and, with `term`, SIGTERM and its SIGALRM), the process's own again after
    (in the main thread; elsewhere signals cannot be caught and nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = signal.signal(signal.SIGINT, stop.on_int)
    previous_term = signal.signal(signal.SIGTERM, stop.on_term) if term else None
    previous_alarm = signal.getsignal(signal.SIGALRM) if term else None
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)
        if term:
            signal.signal(signal.SIGTERM, previous_term)
            if stop.timed:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous_alarm)


@contextlib.contextmanager
def waiting(on=True):
    """_wait as psycopg2's wait callback (the whole process's) meanwhile, with `on`: a statement waits in select(),
    where a signal's handler runs at once (and may stop it), not inside libpq until the statement ends."""
    import psycopg2.extensions

    before = psycopg2.extensions.get_wait_callback()
    if on:
        psycopg2.extensions.set_wait_callback(_wait)
    try:
        yield
    finally:
        psycopg2.extensions.set_wait_callback(before)


class Stop(list):
    """The signals received (a first one stops between chunks); `shielded` while a chunk's COMMIT and its
    bookkeeping run, which a second Ctrl-C must not interrupt (`held`: the Ctrl-Cs held off; a third
    interrupts it all the same).

    `phase`, what a signal does (the CLI's Stop is installed for the whole command, from before it connects to its
    exit: session 65; before, a SIGTERM outside the chunk loop, while the run connected, counted the rows, took
    the column's lock or reported, was Python's default and exited 143, not 75):
    - "before": no chunk yet (connecting, checking the model and table, counting, taking the column's lock):
      the first SIGINT or SIGTERM stops at once (the statement in flight cancelled): nothing is written.
    - "loop": the chunks (_stop_between_chunks' doc): a first signal lets the chunk in flight commit, a SIGTERM's
      for TERM_GRACE seconds only (SIGALRM).
    - "stopping": a stop is under way (its rollback, the column's lock let go, what is printed): a signal is
      counted, and stops only a wait on the server (_wait), cancelled; elsewhere it raises nothing (a second
      SIGTERM or Ctrl-C left a traceback).
    - "done": every chunk committed; a signal is counted and the run ends as it would."""

    shielded = False
    held = 0
    timed = False  # a SIGTERM came: the chunk in flight has TERM_GRACE seconds to commit
    cancelled = False  # it did not, and was cancelled
    commit_cancelled = False  # the grace ran out in the chunk's COMMIT, which was cancelled (session 66)
    flight = False  # a chunk's statements run, not yet committed (what a SIGTERM's SIGALRM may cancel)
    conn = None  # the run's connection, once made
    cancel = True  # a signal that stops at once cancels the statement in flight on the server

    def __init__(self, phase="before"):
        super().__init__()
        self.phase = phase

    @property
    def terminated(self) -> bool:
        """A SIGTERM came (the run exits STOPPED_EXIT, not 130)."""
        return signal.SIGTERM in self

    def _now(self):
        if self.cancel and self.conn is not None and not self.conn.closed:
            self.conn.cancel()
        raise KeyboardInterrupt

    def on_int(self, signum, frame):
        if self.phase == "before":
            self.append(signum)
            self.phase = "stopping"
            self._now()
        if self.phase in ("stopping", "done"):
            self.append(signum)
            if self.phase == "stopping" and _WAITING[0]:  # (a wait on the server during the stop: a rollback, ...)
                self._now()
            return
        if self and self.shielded:  # a chunk's COMMIT in flight: score_table stops right after it
            self.held += 1
            if self.held > 1:  # a third Ctrl-C: out of a COMMIT that does not end (score_table asks how it ended)
                raise KeyboardInterrupt
            return
        if self:
            if self.cancel:
                self.conn.cancel()
            raise KeyboardInterrupt
        self.append(signum)

    def on_alarm(self, signum, frame):
        # a SIGTERM's chunk in flight did not commit within TERM_GRACE (it waits on a row lock, say): a scheduler
        # sends SIGKILL soon after, which would leave its server process running the chunk, and holding the
        # column, as long as the lock is held (user trial hT16): cancelled and rolled back, as a second Ctrl-C;
        # during a chunk's COMMIT, which may be done already, the run stops right after it as it would; and
        # once the chunk is committed (or outside a chunk: between two, the run stopping), nothing: an alarm
        # there called a committed chunk cancelled and rolled back (session 65).
        # A COMMIT that has not ended (a deferred trigger waiting on a lock, a synchronous standby gone) was left to
        # run until the SIGKILL (session 66): it is cancelled (a commit waiting for a standby is then committed here,
        # with the server's WARNING; one waiting on a lock is rolled back: score_table says which); where the server
        # does not answer the cancel in TERM_GRACE more, the run stops out of it as a third Ctrl-C does (whether the
        # chunk committed is asked on a new connection)
        if not self.flight or self.phase != "loop":
            return
        if self.shielded:
            if self.commit_cancelled:
                raise KeyboardInterrupt
            self.commit_cancelled = True
            if self.conn is not None and not self.conn.closed:
                self.conn.cancel()
            signal.setitimer(signal.ITIMER_REAL, TERM_GRACE)
            return
        self.cancelled = True
        self.conn.cancel()
        raise KeyboardInterrupt

    def on_term(self, signum, frame):
        # on the command line (`cancel`), a SIGTERM (timeout, systemd, a scheduler's task timeout) as a first
        # Ctrl-C: the chunk in flight commits, and the run stops where it can be resumed from; but only for
        # TERM_GRACE seconds (on_alarm); outside the chunks as a Ctrl-C there
        if self.phase != "loop":
            self.on_int(signum, frame)
            return
        if signum not in self:  # (counted: the run exits STOPPED_EXIT)
            self.append(signum)
        if not self.timed:
            self.timed = True
            signal.signal(signal.SIGALRM, self.on_alarm)
            signal.setitimer(signal.ITIMER_REAL, TERM_GRACE)


# the server's WARNING where a COMMIT's wait for a synchronous standby was cancelled (syncrep.c: "canceling wait for
# synchronous replication due to user request", SQLSTATE 01000, and where the backend is terminated "canceling the wait
# for synchronous replication and terminating connection due to administrator command", 57P01; DETAIL "The transaction
# has already committed locally, but might not have been replicated to the standby."). psycopg2 gives a notice's text
# alone, not its SQLSTATE (01000 is any WARNING's), so the message is matched, as the server writes it in English
_SYNC_REP_CANCELLED = re.compile(r"WARNING:  canceling (the )?wait for synchronous replication\b")


def _warned_since(conn, heard) -> bool:
    """Whether the server's WARNING of a cancelled wait for a synchronous standby (_SYNC_REP_CANCELLED) came on `conn`
    after notice `heard` (psycopg2 keeps the last 50: found by identity). Any WARNING counted before (session 67): a
    deferred trigger's own WARNING at a cancelled COMMIT that then ended said the chunk was not confirmed by a standby
    where none was configured (session 68)."""
    for notice in reversed(getattr(conn, "notices", None) or []):
        if notice is heard:
            return False
        if _SYNC_REP_CANCELLED.match(notice):
            return True
    return False


_WAITING = [False]  # _wait is in select(), waiting on the server (Stop.on_int's "stopping")


TERM_GRACE = 3.0  # seconds a SIGTERM's chunk in flight has to commit before it is cancelled and rolled back


def _dsn_of(db) -> str:
    """What a second connection of the run's is made with: the URL given, or a caller's connection's parameters with
    its password where its own parameters held one (conn.dsn writes it as `xxx`: a reconnection with it failed
    password authentication where no PGPASSWORD or .pgpass gives one). A password libpq found itself (.pgpass,
    PGPASSWORD, a service file) is left for it to find again: read at the start, it would be stale after a
    rotation (a token) by the time a long run's in-doubt COMMIT is asked about."""
    if isinstance(db, str):
        return db
    from psycopg2.extensions import make_dsn, parse_dsn

    password = db.info.password
    return make_dsn(db.dsn, password=password) if password and "password" in parse_dsn(db.dsn) else db.dsn


def _xact_status(dsn, xid, seconds=10):
    """pg_xact_status of transaction `xid` ('committed', 'aborted', 'in progress'), asked on a new
    connection; None where the server cannot be asked in `seconds`, or a Ctrl-C stops the asking. (Under
    score_table's wait callback libpq's connect_timeout does not apply: psycopg2 connects with
    PQconnectStart and polls; the deadline is this function's own.)"""
    import functools

    import psycopg2
    import psycopg2.extensions as ext

    from pgscore.migrate import connect_catalog_first

    previous = ext.get_wait_callback()
    ext.set_wait_callback(functools.partial(_wait, deadline=time.monotonic() + seconds))
    try:
        with contextlib.closing(connect_catalog_first(dsn, connect_timeout=seconds)) as conn, conn.cursor() as cur:
            cur.execute("SELECT pg_xact_status(%s::xid8)", (xid,))
            return cur.fetchone()[0]
    except (psycopg2.Error, KeyboardInterrupt):
        return None
    finally:
        ext.set_wait_callback(previous)


def _wait(conn, deadline=None):
    """psycopg2's wait callback: poll the connection, waiting for its socket in select() (until
    time.monotonic() `deadline`, where given). Not psycopg2.extras.wait_select, which catches the
    KeyboardInterrupt itself and turns it into the server's cancel error: here it must reach score_table,
    which reports where to resume."""
    import psycopg2.extensions as ext

    while True:
        state = conn.poll()
        if state == ext.POLL_OK:
            return
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise conn.OperationalError("no answer in time")
        if state not in (ext.POLL_READ, ext.POLL_WRITE):
            raise conn.OperationalError(f"bad state from poll: {state}")
        _WAITING[0] = True
        try:
            if state == ext.POLL_READ:
                select.select([conn.fileno()], [], [], left)
            else:
                select.select([], [conn.fileno()], [], left)
        finally:
            _WAITING[0] = False


def _hold_column(conn, table, into, shown=None):
    """Take the session's advisory lock on the table's column `into` (its oid and the column's number) for the
    run, or refuse: two runs at once (a cron job overrunning its interval) would both score every row and
    log every prediction twice. Returns the lock's keys (None where there is no such column: score_chunk
    says so) and the server process that holds it."""
    rows = _call(conn, "SELECT a.attrelid::int4, a.attnum::int4 FROM pg_attribute a WHERE a.attrelid = "
                       "%s::pg_catalog.regclass::pg_catalog.oid "
                       "AND a.attname = %s AND a.attnum > 0 AND NOT a.attisdropped", (table, into))
    if not rows:
        return None, None
    held = rows[0]
    (got, pid), = _call(conn, "SELECT pg_try_advisory_lock(%s, %s), pg_backend_pid()", held)
    if got:
        return held, pid
    # who holds it: the other run's backend (pg_locks keeps the keys as oids; classid is the table's oid)
    who = _call(conn, "SELECT a.pid, a.application_name, a.backend_start, a.state, a.state_change, "
                      "EXTRACT(epoch FROM now() - a.state_change)::float8, a.usename::text, "
                      "(SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.oid = a.usesysid) FROM pg_locks l "
                      "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
                      "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                      "AND l.classid = %s::pg_catalog.regclass::pg_catalog.oid AND l.objid = %s::int4::oid AND "
                      "l.objsubid = 2",
                (table, held[1]))
    pid, app, since, activity, changed, idle, role, superuser = who[0] if who else (None,) * 8
    column = f"{table}.{shown or into}"
    if pid and activity is None:
        # another role's session, whose state pg_stat_activity keeps from a role that is neither a member of it nor
        # of pg_read_all_stats: a run at work and a session left holding the lock look alike to it (it said
        # `another session is scoring`, `wait for it to finish`, of one that never finishes: session 64)
        raise PgscoreError(f"the lock on {column} is held by process {pid}" + (f" ({app}, role {role})" if app else
                                                                                 f" (role {role})")
                           + ", a session of another role, whose state this role may not see (pg_stat_activity "
                           "shows it to members of that role and of pg_read_all_stats): a run scoring the column, "
                           "or a session that a run through a pooler in transaction mode left holding the lock, "
                           "which keeps it until it ends; nothing was scored",
                           hint=f"ask a role that may see it: SELECT state, state_change, client_addr FROM "
                                f"pg_catalog.pg_stat_activity WHERE pid OPERATOR(pg_catalog.=) {pid}; a run at work: wait for it; idle with no run "
                                f"going on: SELECT pg_catalog.pg_terminate_backend({pid}) ("
                                + ("as a superuser: the session is a superuser's" if superuser else
                                   f"as a member of {role} or of pg_signal_backend")
                                + "), or PgBouncer's RECONNECT for its database; then run this again")
    if pid and activity == "idle" and idle is not None and idle >= IDLE_HOLDER:
        # idle, not in a transaction: a run between two chunks whose client pauses (stopped with Ctrl-Z, slow, busy)
        # is so as well as a session a run through a transaction pooler left the lock in, idle in the pool, which
        # never ends; nothing in the server tells them apart (its lock, its session, its name are the same). It said
        # `held by an idle session, not a run at work` of a live run paused 5 s (session 64)
        raise PgscoreError(f"the lock on {column} is held by process {pid}" + (f" ({app})" if app else "")
                           + f", idle since {_in_utc(changed)} ({idle:,.0f} s): a run scoring the column "
                           "between two chunks whose client has paused (stopped, slow) goes on when its client "
                           "does; a session that a run through a pooler in transaction mode left holding the lock "
                           "keeps it until it ends; nothing was scored",
                           hint="where no pgscore score of the column runs (its job, its terminal), end that session: "
                                f"SELECT pg_catalog.pg_terminate_backend({pid}); or PgBouncer's RECONNECT (on its admin console) "
                                "for its database; then run this again (a run so ended stops with exit 75 and the "
                                "line to resume with)")
    raise _column_busy(conn, table, shown or into, pid, app, since)

def _in_utc(ts) -> str:
    """A holder's time in UTC, said so: it was the session's TimeZone's wall clock, bare (session 66, T21)."""
    if getattr(ts, "tzinfo", None) is not None:
        return f"{ts.astimezone(datetime.timezone.utc):%Y-%m-%d %H:%M:%S} UTC"
    return f"{ts:%Y-%m-%d %H:%M:%S}"


class ColumnBusy(PgscoreError):
    """Another run holds the column (pgscore score exits 75 for it: a scheduler tries again later)."""


def _column_busy(conn, table, into, pid, app, since) -> ColumnBusy:
    """The refusal of a run whose column another session holds: its process, application, since when, and, where it
    waits on a lock or has run one statement for long, so (its client may be gone: a scheduler's SIGKILL left its
    server process finishing a chunk it will never commit, user trial hT16), with the way to end it."""
    by = (f" (process {pid}" + (f", {app}" if app else "") + (f", connected since {_in_utc(since)}"
                                                                if since else "") + ")") if pid else ""
    doing = _call(conn, "SELECT wait_event_type = 'Lock', EXTRACT(epoch FROM now() - query_start)::float8 "
                        "FROM pg_stat_activity WHERE pid = %s AND state = 'active'", (pid,)) if pid else []
    waits, busy = doing[0] if doing else (False, None)
    now = ""
    if waits:
        now = f"; it waits on a lock another transaction holds, in a statement running for {busy:,.0f} s"
    elif busy is not None and busy >= LONG_STATEMENT:
        now = f"; it has run one statement for {busy:,.0f} s"
    hint = "wait for it to finish, or stop it where it runs (Ctrl-C) and go on with the --after that it prints"
    if now and pid:
        hint += (f"; where its client is gone (a killed job), its server process goes on until its statement ends "
                 f"and commits nothing: end it with SELECT pg_catalog.pg_terminate_backend({pid}), then run this again")
    return ColumnBusy(f"another session is scoring {table}.{into}{by}{now}: two runs at once would both score every "
                      "row and log every prediction twice; nothing was scored", sqlstate="55006", hint=hint)


# seconds a column's holder has run one statement (a chunk) that are worth saying in the refusal: a chunk of the
# default 10,000 rows takes a second or so
LONG_STATEMENT = 30.0
IDLE_HOLDER = 5.0  # seconds a session holding a column's lock has been idle (not in a transaction): not a run's
# usual gap between two chunks (milliseconds), so both readings are said


def own_server_session(conn, dsn, command="score"):
    """The server process of `conn`'s session, or a UsageError where `conn` goes through a pooler in transaction
    (or statement) mode, where each transaction may run in another server session: a command that holds a session
    lock across its transactions (pgscore score's on its column) would take it in one and give it back in another
    ("you don't own a lock of type ExclusiveLock"), leaving it in an idle pooled session (the SRE trial of session
    63). Nothing is written. Direct: libpq's idea of its server process (the cancel key) is the server's
    pg_backend_pid(), one statement. Else a pooler or a proxy: a second client of `dsn` opens a transaction, then
    `conn` asks again; in session mode `conn` keeps its server session and the other gets another, in transaction
    mode `conn`'s session went back to the pool between its transactions (PgBouncer hands the one last given back
    first: the other client gets it, or `conn` another). A second client that cannot connect or is given no server
    session in POOLER_CHECK_SECONDS leaves it untold (each chunk still checks its session: _same_session)."""
    (first,), = _call(conn, "SELECT pg_catalog.pg_backend_pid()", None)
    if conn.get_backend_pid() == first:  # (in the run's first transaction, which goes on)
        return first
    conn.commit()
    taken = _other_client_s_session(dsn, command)
    if taken is None:
        return first
    (second,), = _call(conn, "SELECT pg_catalog.pg_backend_pid()", None)
    conn.commit()
    pooled = transaction_pooled(first, second, taken)
    if pooled:
        raise UsageError(f"pgscore {command} needs a server session of its own for the run, and this connection "
                         "goes through a pooler in transaction mode (PgBouncer's pool_mode = transaction): "
                         f"{pooled}; it would take its lock in one server session and could not give it back from "
                         "another, leaving it with an idle pooled session that refuses later runs; nothing was read "
                         "or written", hint=POOLED_HINT)
    return second


POOLER_CHECK_SECONDS = 5.0  # how long the pooler check's second client waits for a server session of the pool


def _other_client_s_session(dsn, command, seconds=POOLER_CHECK_SECONDS):
    """The server process a second client of `dsn` is given for a transaction, its transaction ended before the run
    asks again; None where it cannot connect or is given none in `seconds`. A pool with no server session to spare
    (one in session mode whose servers are all taken, the run's among them; one of a single server in transaction
    mode, which the run's next transaction waited for behind the other's open one) held the run up for the pooler's
    query_wait_timeout (120 s by default), then exited 75 as if the server had closed the run's connection (review
    r5 of session 63)."""
    import functools

    import psycopg2
    import psycopg2.extensions as ext

    from pgscore.migrate import connect_catalog_first

    previous = ext.get_wait_callback()
    ext.set_wait_callback(functools.partial(_wait, deadline=time.monotonic() + seconds))
    try:
        with contextlib.closing(connect_catalog_first(dsn, connect_timeout=max(2, int(seconds)),
                                                             fallback_application_name=f"pgscore {command}")) as other:
            other.autocommit = True  # (its server session back to the pool with the answer)
            (taken,), = _call(other, "SELECT pg_catalog.pg_backend_pid()", None)
            return taken
    except psycopg2.Error:
        return None
    finally:
        ext.set_wait_callback(previous)


def transaction_pooled(first, second, taken) -> str | None:
    """What shows a client's transactions running in other server sessions: `first` and `second`, the server
    process of two of its transactions, `taken` that of another client's transaction open between them; None where
    the client kept its server session (direct, or a pool in session mode)."""
    if second != first:
        return f"its transactions ran in server processes {first} and {second}"
    if taken == first:
        return (f"another client's transaction ran in server process {first}, this connection's session between "
                "two of its transactions")
    return None


POOLED_HINT = ("connect to the server directly, or through a pool in session mode, where a client keeps its server "
               "session: PgBouncer's pool_mode = session, or a second [databases] entry for such jobs, say "
               "'mydb_session = dbname=mydb pool_mode=session'; a run stopped midway goes on with the --after it "
               "printed")


def _same_session(conn, holder, table, into):
    """Refuse a chunk that would run in another server session than the one holding the run's lock: the
    connection goes through a pooler in transaction mode, where each transaction may run in any server
    session (score_chunk would refuse it, naming the run's own lock as another run's). `into`: the score
    column as printed, as SQL writes it."""
    (pid,), = _call(conn, "SELECT pg_backend_pid()", None)
    if pid != holder:
        conn.rollback()
        raise PgscoreError(f"pgscore score needs a connection of its own: this chunk would run in server process "
                           f"{pid}, its lock on {table}.{into} is held by process {holder}, so the connection goes "
                           "through a pooler in transaction mode (PgBouncer's pool_mode = transaction), where each "
                           "transaction may run in another server session; nothing more was scored",
                           sqlstate="55000", hint=POOLED_HINT)


LET_GO_TRIES = 20


def _name_the_run(conn) -> bool:
    """Set pgscore.run for the session (committed with the run's first transaction), where it names no run of its
    own, to the run's start (statement_at's form) and server process: every chunk's rows then carry it in their cause
    (`run`). Whether it was set (and so is to be unset at the end, on a connection the caller keeps)."""
    from pgscore import auditlog

    (was,), = _call(conn, "SELECT pg_catalog.current_setting('pgscore.run', true)", None)
    if was:
        return False
    _call(conn, f"SELECT pg_catalog.set_config('pgscore.run', {auditlog.RUN}, false)", None)
    return True


def _unname_the_run(conn):
    """The session's pgscore.run as it was before the run (none): on a caller's connection, a later score_chunk's rows
    are not the run's."""
    import psycopg2

    try:
        if conn.get_transaction_status() != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
            conn.rollback()  # (a failed chunk's, rolled back already; _let_go rolled back any other)
        _call(conn, "SELECT pg_catalog.set_config('pgscore.run', '', false)", None)
        conn.commit()
    except (psycopg2.Error, PgscoreError):  # a broken connection's went with its session
        return


def _let_go(conn, held, holder, table, into):
    """Give back the run's lock on the column, in the server session that holds it; through a pooler in
    transaction mode each transaction may run in another one: it tries a few, then says where the lock stays.
    `into`: the score column as printed, as SQL writes it."""
    import psycopg2

    try:
        if conn.get_transaction_status() != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
            conn.rollback()  # a failed chunk, which the server rolled back already, or one not counted (the
            # commit below would keep it, and the resume line would score and log it again)
        for _ in range(LET_GO_TRIES):  # (a pooler gives each transaction a server session of its pool's)
            (done,), = _call(conn, "SELECT CASE WHEN pg_backend_pid() = %s THEN pg_advisory_unlock(%s, %s) END",
                             (holder, *held))
            conn.commit()
            if done is not None:
                return
    except (psycopg2.Error, PgscoreError):  # a broken connection's went with its session
        return
    if done is None:
        print(f"pgscore: warning: the lock on {table}.{into} stays with server process {holder}, which this "
              "connection could not reach again (a pooler in transaction mode shares it): later runs on the "
              "column are refused until that session ends (PgBouncer: RECONNECT; or SELECT "
              f"pg_catalog.pg_terminate_backend({holder})). {POOLED_HINT[0].upper()}{POOLED_HINT[1:]}.", file=sys.stderr)


def _relation(conn, table, key):
    """The table as client queries read its rows, as score_chunk does: (its name as sql.Identifier, with ONLY where
    it is no partitioned table, so not the rows of tables that inherit from it), whether it has column `key`, and
    its name alone (that qualifies its columns); a bad table fails here with the server's error."""
    from psycopg2 import sql

    from pgscore.features import NAMEDATALEN

    # a part over 63 bytes, which regclass cuts short (a NOTICE no one sees), named another table perhaps: a
    # name of 63 bytes or fewer has none (parse_ident does not cut)
    if len(table.encode()) >= NAMEDATALEN:
        for (part,) in _call(conn, "SELECT p FROM pg_catalog.unnest(pg_catalog.parse_ident(%s, false)) AS p",
                             (table,)):
            if len(part.encode()) >= NAMEDATALEN:
                raise UsageError(f"--table {table!r}: {part!r} is {len(part.encode())} bytes long: PostgreSQL keeps "
                                 f"{NAMEDATALEN - 1} bytes of a name and would cut it short, to another table's name "
                                 "perhaps", hint=f"name a table (each part at most {NAMEDATALEN - 1} bytes in UTF-8)")
    (schema, name, kind, has_key), = _call(
        conn, "SELECT n.nspname, c.relname, c.relkind, EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid "
              "AND a.attname = %s AND a.attnum > 0 AND NOT a.attisdropped) FROM pg_class c JOIN pg_namespace n "
              "ON n.oid = c.relnamespace WHERE c.oid = %s::pg_catalog.regclass::pg_catalog.oid", (key, table),
              given=True)
    if kind == "v":  # refused before its rows are read: a view's functions run as the reader (a superuser, say)
        raise PgscoreError(f"{table} is a view, which has no index and takes no primary key: each score is written "
                           "back by its key, so a key must name one row; nothing was read or written",
                           sqlstate="42P10", hint="use the table it reads from (pgscore.predict_batch scores the "
                                                  "rows of any query without writing them back)")
    named = sql.Identifier(schema, name)  # (its columns' qualifier: ORDER BY "s"."t"."k", not an output column)
    return sql.SQL("" if kind == "p" else "ONLY ") + named, has_key, named


def _remaining(conn, rel, key, after, where=None) -> tuple[int, int]:
    """Rows left to score (for the progress bar; with `where`, those it holds for) and rows with a NULL key,
    which no chunk takes (no key to write a score by, or to resume after). A key column the table lacks counts
    0: the first chunk refuses it as score_chunk does from SQL, naming it as the key column with the table's
    columns (counted here, it failed as the count's SQL did: `column "id" does not exist`, with PostgreSQL's
    guess at another column, the score column say, as the hint)."""
    from psycopg2 import sql

    q, params = _count_sql(rel, key, after, where)
    if not rel[1]:  # (the expression is checked all the same)
        _call(conn, q, params)
        return 0, 0
    (left, nulls), = _call(conn, q, params)
    return left, nulls


def _count_sql(rel, key, after, where):
    """_remaining's statement and its parameters."""
    from psycopg2 import sql

    rows, has_key = rel[:2]
    if not has_key:  # (no parameters: its % as written; no --where: nothing to check, the first chunk refuses the key)
        return sql.SQL("SELECT count(*) FROM {} WHERE ({}) IS TRUE").format(
            rows, sql.SQL("true" if where is None else where)), None
    match = sql.SQL("true") if where is None else sql.SQL("({}) IS TRUE").format(_expression(where))
    k = sql.Identifier(key)
    # the rows score_table scores: the table's own (ONLY), a partitioned table's in its partitions
    q = sql.SQL("SELECT count(*) FILTER (WHERE ({} > %s OR %s IS NULL AND {} IS NOT NULL) AND {}), "
                "count(*) FILTER (WHERE {} IS NULL AND {}) FROM {}").format(k, k, match, k, match, rows)
    return q, (after, after)


def _checked_where(conn, dsn, rel, key, after, where, table, job):
    """_remaining with --where, whose error (a syntax error, a column the table lacks, an expression that is not
    boolean, a value it cannot read, more than one statement) is a usage error naming the option (an --after that
    the key's type cannot read fails first, as without --where). Each statement
    the expression goes into is first parsed, not run, by the server through the extended protocol (psycopg 3,
    on a connection of its own), which takes one statement only: psycopg2 sends a string as it is, where `true)
    IS TRUE), 0 FROM t; COMMIT; DELETE ...` ran three (the read-only transaction this runs in was committed)."""
    import psycopg2
    from psycopg2 import sql

    if after is not None and rel[1]:  # --after first: one the key's type cannot read is its error, not --where's
        _call(conn, sql.SQL("SELECT FROM {} WHERE {} > %s LIMIT 0").format(rel[0], sql.Identifier(key)), (after,))
    _one_expression(conn, dsn, rel, where)
    try:
        texts = [_call_text(conn, *_count_sql(rel, key, after, where))]
        if rel[1]:
            texts.append(_call_text(conn, job.holds_sql, (after, after, after)))
        _one_statement_each(dsn, texts)
        return _remaining(conn, rel, key, after, where)
    except (psycopg2.Error, PgscoreError) as e:
        code, said = _said(e)
        if not _the_expression_s(e, code, conn):
            raise  # (the run ends as in its first chunk: nothing was written, what stopped it)
        said = said or str(e)
        columns = [c for c, in _call(_fresh(conn), "SELECT a.attname::text "
                   "FROM pg_attribute a WHERE a.attrelid = %s::pg_catalog.regclass::pg_catalog.oid AND a.attnum "
                   "> 0 AND NOT a.attisdropped "
                   "ORDER BY a.attnum", (table,))] if code == "42703" else []
        raise UsageError(f"--where {where!r} is not a boolean SQL expression over the rows of {table}: {said}"
                         + (f" (SQLSTATE {code})" if code else ""),
                         hint=(f"the columns of {table}: {', '.join(columns)}; " if columns else "")
                         + "give one expression, as it would follow WHERE in SELECT ... FROM the table WHERE ...; "
                           "nothing was written") from None


def _one_expression(conn, dsn, rel, where):
    """Refuse a --where that closes the parenthesis it is put in (`true) OR (true`: `... AND k <= $2 AND (true)
    OR (true) IS TRUE` parsed, as a whole statement, and took the rows out of the chunk's key bounds). Such text
    parses in parentheses but not in brackets, `ARRAY[...]`, where its `)` closes nothing (and the `]` of one
    that closes brackets is refused in parentheses, by the checks after this one): parsed by the server, not run,
    as _one_statement_each parses. Any other fault is left to the checks after this one, which name it."""
    from psycopg2 import sql

    def text(form):
        return sql.SQL(form).format(sql.SQL(where), rel[0]).as_string(conn).encode()

    try:
        _one_statement_each(dsn, [text("SELECT ARRAY[{}] FROM {} LIMIT 0")])
        return
    except PgscoreError as e:
        if e.sqlstate != "42601":  # (not a syntax error: a column the table lacks, a type, a connection refused)
            return
    try:
        _one_statement_each(dsn, [text("SELECT ({}) FROM {} LIMIT 0")])
    except PgscoreError:
        return
    raise UsageError(f"--where {where!r} is not one SQL expression: a parenthesis in it closes before it ends, so "
                     "it would take rows out of the key bounds of each chunk it is put in (as `(...) IS TRUE`)",
                     hint="balance its parentheses (give one expression, as it would follow WHERE in SELECT ... FROM "
                          "the table WHERE ...); nothing was written")


# SQLSTATEs (classes, and one code) that end a statement through no fault of its expression: a lost or refused
# connection, a deadlock or a serialization failure, resources, an operator's cancel or terminate, a statement_timeout
# (57014), a shutdown, a lock_timeout (55P03), the system's or the server's own failure
_NOT_THE_EXPRESSION_S = ("08", "40", "53", "57", "58", "XX", "55P03")


def _the_expression_s(e, code, conn) -> bool:
    """Whether the error of counting the rows --where holds for is the expression's (a syntax error, a column the
    table lacks, a type, a value it cannot read), not the session's: lost (no SQLSTATE, the connection closed),
    terminated, cancelled, timed out (it said `--where '...' is not a boolean SQL expression over the rows of big:
    server closed the connection unexpectedly`, a usage error)."""
    import psycopg2

    if conn.closed or (code is None and isinstance(e, psycopg2.OperationalError)):
        return False
    return not (code or "").startswith(_NOT_THE_EXPRESSION_S)


def _call_text(conn, q, params) -> bytes:
    """The statement as psycopg2 sends it."""
    with conn.cursor() as cur:
        return cur.mogrify(q, params)


def _one_statement_each(dsn, texts):
    """Parse each of `texts` (the server's Parse message: nothing is run) on a psycopg 3 connection; the first
    that is no single statement that parses fails as PgscoreError with the server's message and SQLSTATE."""
    import psycopg
    from psycopg import pq

    try:
        # (the run's own name, as its other connection's: PGAPPNAME or the URL's application_name first; it was
        # always `pgscore score`, session 68's T25 review)
        c = psycopg.connect(dsn, autocommit=True, fallback_application_name="pgscore score")
    except psycopg.Error as e:  # (the server's max_connections or the role's limit reached, pg_hba refusing it)
        reason = str(e).strip().replace("connection failed: ", "", 1)
        raise PgscoreError("pgscore score --where checks the expression on a second connection to the database, "
                           f"which could not be made: {reason}", sqlstate=getattr(e, "sqlstate", None) or "08001",
                           hint="the run needs two connections while it starts (the server's max_connections and "
                                "the role's CONNECTION LIMIT must allow a second, and pg_hba.conf accept it); "
                                "nothing was written") from None
    # (session 71) its search_path is the database's, the owner's public possibly ahead of pg_catalog (not put first
    # as the run's is): a name in --where may resolve to the owner's operator here, but Parse runs nothing (no
    # function of the owner's: a constant's type input is a base type's, which only a superuser makes), and the
    # count and the chunks evaluate it on the run's connection, pg_catalog first
    with c:
        for text in texts:
            res = c.pgconn.prepare(b"", text)
            if res.status != pq.ExecStatus.COMMAND_OK:
                said = (res.error_field(pq.DiagnosticField.MESSAGE_PRIMARY) or res.error_message or b"").decode(
                    c.info.encoding or "utf-8", "replace")
                code = (res.error_field(pq.DiagnosticField.SQLSTATE) or b"").decode() or None
                raise PgscoreError(said.strip(), sqlstate=code)


def _expression(where):
    """The user's SQL as it is, in a statement that takes parameters (where psycopg2 reads % as theirs)."""
    from psycopg2 import sql

    return sql.SQL(where.replace("%", "%%"))


def _fresh(conn):
    """The connection, out of the transaction an error aborted."""
    conn.rollback()
    return conn


SAVEPOINT = "pgscore_score_rows"
CHANGED_TRIES = 3  # reads of a chunk whose rows another session changed meanwhile, before the run stops (40001)


class _Changed(PgscoreError):
    """The rows of a chunk changed between its reads (another session's INSERT, DELETE or UPDATE among them)."""


class _Job:
    """One chunk of a run, as one transaction: score_chunk's next rows; with --where, the runs of rows that it
    holds for among the next chunk_size rows read in key order, each run a score_chunk call of its length; with
    skip, a chunk that fails on a row the model cannot score is scored again around it (the rows before it in one
    call, the row alone for its reason, then the rest), each call under a savepoint. A chunk that scores cleanly
    costs what it did (one call, no savepoint, no key read) without --where."""

    def __init__(self, conn, model, table, key, into, chunk_size, log, rel, where, skip, max_skipped, state,
                 label_into=None, scored_at_into=None):
        from psycopg2 import sql

        self.conn, self.model, self.table, self.key, self.into = conn, model, table, key, into
        self.label_into, self.scored_at_into = label_into, scored_at_into
        self.chunk_size, self.log, self.where, self.skip, self.max_skipped = chunk_size, log, where, skip, max_skipped
        self.state, self.chunk_after, self.window_sql = state, None, None
        self.pinned = None  # the version each call scores with where the run has none yet (score_table sets it)
        rows, k = rel[0], sql.Identifier(key)
        # (the key as text named otherwise: ORDER BY its name would sort by that output column, as text)
        # (ORDER BY the table's column, qualified by the table's name as --where reads it (no alias: `t.k` in the
        # expression stays good): a key column named pgscore_key or pgscore_holds sorted by that output column, as
        # text, and rows were skipped)
        k = sql.Composed([rel[2], sql.SQL("."), k])
        after_it = sql.SQL("CASE WHEN %s::pg_catalog.text IS NULL THEN {} IS NOT NULL ELSE {} > %s END").format(k, k)
        # the next keys, as text (under _styles), and where each row is (its partition and place), read unlocked
        self.window_sql = sql.SQL("SELECT {}::pg_catalog.text, tableoid::pg_catalog.text OPERATOR(pg_catalog.||) ' ' "
                                  "OPERATOR(pg_catalog.||) ctid::pg_catalog.text FROM {} WHERE {} ORDER BY {} "
                                  "LIMIT %s").format(k, rows, after_it, k)
        # the chunk again around a row it cannot score: its rows, locked as score_chunk locks them (a row inserted
        # or deleted among them meanwhile stopped the run with 40001)
        self.keys_sql = sql.SQL("SELECT {}::pg_catalog.text FROM {} WHERE {} ORDER BY {} LIMIT %s "
                                "FOR NO KEY UPDATE").format(k, rows, after_it, k)
        if where is not None:
            # the rows of the keys read that --where holds for, under the user's settings (as the count was),
            # locked as score_chunk locks them: the expression rechecked on a row changed meanwhile; no other row
            # is locked (or WAL-logged: a lock writes its row's header)
            self.holds_sql = sql.SQL(
                "SELECT tableoid::pg_catalog.text OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) "
                "ctid::pg_catalog.text FROM {} WHERE {} AND {} <= %s AND ({}) IS TRUE ORDER BY {} FOR NO KEY UPDATE"
            ).format(rows, after_it, k, _expression(where), k)
            # the session's own settings, which _styles changes for the chunk's transaction
            self.own = _call(conn, "SELECT pg_catalog.current_setting('DateStyle'), pg_catalog.current_setting("
                                   "'IntervalStyle'), pg_catalog.current_setting('extra_float_digits')", None)[0]

    def _call_chunk(self, after, n, version):
        # (p_label_into named, and only where given: a run without --label-into calls score_chunk as a schema
        # before 0115 has it)
        # (and p_scored_at_into likewise: 0130 on)
        labels = ", p_label_into => %s" if self.label_into is not None else ""
        at = ", p_scored_at_into => %s" if self.scored_at_into is not None else ""
        (got, last, used, xid), = _call(self.conn, "SELECT c.*, pg_current_xact_id()::text FROM pgscore.score_chunk("
                                                   f"%s, %s::regclass, %s, %s, %s, %s, %s, %s{labels}{at}) AS c",
                                        (self.model, self.table, self.key, self.into, after, n, version, self.log)
                                        + ((self.label_into,) if labels else ())
                                        + ((self.scored_at_into,) if at else ()))
        return got, last, used, xid

    def chunk(self, after, version):
        """(rows scored, the last key gone through, the version used, the transaction's id, rows skipped). A chunk
        whose rows changed between its reads (a row inserted, deleted or updated there by another session) is
        rolled back and read again, a few times."""
        for attempt in range(CHANGED_TRIES):
            try:
                return self._chunk(after, version)
            except _Changed:
                if attempt == CHANGED_TRIES - 1:
                    raise
                self.conn.rollback()
        raise AssertionError("unreachable")

    def _chunk(self, after, version):
        self.chunk_after = after
        if self.where is None:
            try:
                return (*self._call_chunk(after, self.chunk_size, self._version(version)), [])
            except Exception as e:  # noqa: BLE001 - (raised again unless it is a row's, with skip)
                if not self.skip or _row_of(e, None) is None:
                    raise
            self.conn.rollback()  # the chunk again, around the rows it cannot score
            self._styles()
            runs = [(after, [k for k, in _call(self.conn, self.keys_sql, (after, after, self.chunk_size))])]
            last = runs[0][1][-1] if runs[0][1] else after
        else:
            self._styles()
            read = _call(self.conn, self.window_sql, (after, after, self.chunk_size))
            if not read:
                return 0, after, version, None, []
            last = read[-1][0]
            _call(self.conn, "SELECT pg_catalog.set_config('DateStyle', %s, true), pg_catalog.set_config("
                             "'IntervalStyle', %s, true), pg_catalog.set_config('extra_float_digits', %s, true)",
                  self.own)
            held = {r for r, in _call(self.conn, self.holds_sql, (after, after, last))}
            self._styles()
            if not held <= {r for _, r in read}:  # a row changed (updated: moved) or inserted since it was read
                raise _Changed(f"the rows of {self.table} changed while a chunk was read ({CHANGED_TRIES} times: "
                               "another session inserts or updates rows there); nothing of this chunk was written",
                               sqlstate="40001",
                               hint="run it again with the resume line below: the chunks committed so far stay")
            runs, before, run = [], after, None
            for k, row in read:
                if row in held:
                    if run is None:
                        run = (before, [])
                        runs.append(run)
                    run[1].append(k)
                else:
                    run = None
                before = k
        self.scored, self.skipped, self.version, self.xid = 0, [], self._version(version), None
        for start, keys in runs:
            self._settle(start, keys)
        # (the version of a chunk that scored or skipped no row is the run's as it was: none where no chunk had one)
        return self.scored, last, self.version if self.scored or self.skipped else version, self.xid, self.skipped

    def _version(self, version):
        return version if version is not None else self.pinned

    def _styles(self):
        # keys as text as score_chunk writes them (its SET clauses): compared with the last key it returns
        _call(self.conn, "SELECT pg_catalog.set_config('DateStyle', 'ISO', true), pg_catalog.set_config("
                         "'IntervalStyle', 'postgres', true), pg_catalog.set_config('extra_float_digits', '1', true)",
              None)

    def _try(self, after, keys):
        """score_chunk on exactly `keys` (the rows after `after`): None, or the error of a row it cannot score
        (under a savepoint, with skip; any other error is raised)."""
        if self.skip:
            _call(self.conn, f"SAVEPOINT {SAVEPOINT}", None)
        try:
            got, last, used, xid = self._call_chunk(after, len(keys), self.version)
        except Exception as e:  # noqa: BLE001 - (raised again unless it is a row's, with skip)
            if not self.skip or _row_of(e, keys) is None:
                raise
            _call(self.conn, f"ROLLBACK TO SAVEPOINT {SAVEPOINT}", None)
            return e
        if self.skip:
            _call(self.conn, f"RELEASE SAVEPOINT {SAVEPOINT}", None)
        if got != len(keys) or last != keys[-1]:  # a row inserted or deleted among them since they were read
            raise _Changed(f"the rows of {self.table} changed while a chunk was scored ({got} scored up to key "
                               f"{literal(last)}, where {len(keys)} up to {literal(keys[-1])} were read); nothing of "
                               "this chunk was written", sqlstate="40001",
                               hint="run it again with the resume line below: the chunks committed so far stay")
        self.scored += got
        self.version, self.xid = used, xid
        return None

    def _settle(self, after, keys):
        """Score `keys`, skipping each row the model cannot score."""
        while keys:
            e = self._try(after, keys)
            if e is None:
                return
            i = _row_of(e, keys)
            if i > 0:
                self._settle(after, keys[:i])
            if len(keys) > 1:  # the row alone, for its own reason (a chunk's names others: "and 3 more")
                e = self._try(keys[i - 1] if i else after, keys[i:i + 1])
            if e is not None:
                self._skip(keys[i], e)
            after, keys = keys[i], keys[i + 1:]

    def _skip(self, key, e):
        code, said = _said(e)
        self.skipped.append((key, code, said))
        if len(self.state["skipped"]) + len(self.skipped) > self.max_skipped:
            raise PgscoreError(f"more than {self.max_skipped} rows of {self.table} the model cannot score: stopped, "
                               "as the model or the table looks wrong rather than a few rows (the chunks committed "
                               f"before are kept; this chunk was not); the last: {said}", sqlstate=code,
                               hint="look at the rows named (the model's features against the table's columns); to "
                                    "skip more, raise --max-skipped")


def _said(e):
    """(SQLSTATE, primary message) of a PgscoreError or a psycopg2 error; (None, None) for any other exception."""
    if isinstance(e, PgscoreError):
        return getattr(e, "sqlstate", None), e.message
    diag = getattr(e, "diag", None)
    return getattr(e, "pgcode", None), (diag.message_primary if diag is not None else None)


def named_key(said) -> str | None:
    """The key (as an SQL literal) that error message `said` names in its key clause, else None: the last clause,
    as the error's own comes after the values it quotes (a text cell that is no number, `Turnkey 'Gold'`, is quoted
    before it, and the first `key '` in the message named a key '' that no row has)."""
    found = _named_keys(said or "")
    return found[-1][1] if found else None


# a row's key as pgscore's errors name it, in their own clause: `(key 'c 17')`, `(key 'c 17' and 3 more in this
# chunk of 10; feature 'age')`, `(key 'c50'; its column holds text)`, `the features of key 'c 17' are NULL`, `the
# score of key 'c 17', 1e+300, does not fit` (batch.key_text: quote_literal's, E'...' for a key holding a
# backslash), the literal read whole and followed by what the clause goes on with
_KEY_CLAUSE = re.compile(r"(?:\(| of )key (?=E?')")


def _named_keys(said):
    """Every (position, literal) of a key clause in `said`, each literal read as quote_literal writes it (''
    for a quote; in E'...' also \\ for a backslash) from where the clause's `key ` ends, and followed by what
    the clause goes on with: a cell's text can hold `(key '` too, so the candidates are matched with the keys."""
    out = []
    for m in _KEY_CLAUSE.finditer(said):
        i, e = m.end(), said.startswith("E", m.end())
        j = i + 1 + e
        while j < len(said):
            if e and said[j] == "\\":
                j += 2
            elif said[j] == "'":
                if said.startswith("''", j):
                    j += 2
                else:
                    break
            else:
                j += 1
        if j < len(said) and re.match(r"\)|;| and | are |, ", said[j + 1:]):
            out.append((m.start(), said[i:j + 1]))
    return out


def _row_of(e, keys):
    """Where `e` is the error of a row the model cannot score (class 22, data exception, naming a key as
    batch.key_text does), the index of that row among `keys` (with keys None: 0 where it names any key); None
    for any other error."""
    code, said = _said(e)
    if not code or not code.startswith("22"):
        return None
    if keys is None:
        return None if named_key(said) is None else 0
    found = _named_keys(said)
    if not found:
        return None
    # the last clause naming one of the chunk's keys (the keys as text as its rows were read: the same literal
    # exactly): a clause a cell's text forges names none of them, or comes before the error's own
    index = {}
    for i, k in enumerate(keys):
        index.setdefault(literal(k), i)
    for _, named in reversed(found):
        if named in index:
            return index[named]
    return None


MAINTAIN_LOCK_TIMEOUT = "10s"  # how long maintain waits for a lock another session holds on the log


# the default partition's rows by UTC day (a bound on the rows read: `pgscore maintain` says the days, not a
# scan of a default partition that grew large)
DEFAULT_ROWS = 1_000_000
_DEFAULT_DAYS = """
SELECT (x.logged_at AT TIME ZONE 'UTC')::pg_catalog.date, pg_catalog.count(*)
  FROM (SELECT d.logged_at FROM pgscore.prediction_log_default d WHERE pg_catalog.isfinite(d.logged_at)
         LIMIT %s) AS x
 GROUP BY 1 ORDER BY 1"""


# the UTC day of the default partition's latest row (finite), exact whatever its size: per model on its
# (model_id, logged_at) index, a few pages a model (pgscore status reads it too)
DEFAULT_LATEST = """
WITH RECURSIVE m AS (SELECT pg_catalog.min(x.model_id) AS id FROM pgscore.prediction_log_default x
                      UNION ALL
                     SELECT (SELECT pg_catalog.min(x.model_id) FROM pgscore.prediction_log_default x
                              WHERE x.model_id OPERATOR(pg_catalog.>) m.id)
                       FROM m WHERE m.id IS NOT NULL)
SELECT (pg_catalog.max((SELECT pg_catalog.max(x.logged_at) FROM pgscore.prediction_log_default x
                         WHERE x.model_id OPERATOR(pg_catalog.=) m.id
                           AND x.logged_at OPERATOR(pg_catalog.<) 'infinity'::pg_catalog.timestamptz))
        AT TIME ZONE 'UTC')::pg_catalog.date
  FROM m WHERE m.id IS NOT NULL"""


def _default_days(conn) -> dict:
    return dict(_call(conn, _DEFAULT_DAYS, (DEFAULT_ROWS + 1,)))


def maintain(db, days_ahead=7, keep=None, lock_timeout=MAINTAIN_LOCK_TIMEOUT, held=None) -> tuple[
        int, str | None, str | None, list[str]]:
    """Create the coming days' prediction-log partitions, and those of past days whose rows wait in the default
    partition (migration 0104); with keep (an interval), drop older days first. Returns the partitions created, what
    retention deleted (its NOTICE) or None without keep, and the past days made (create_log_partitions' NOTICE:
    how many, the rows moved, the days) or None where there were none, and its WARNINGs (a past day whose rows stay
    in the default partition: a table of its name that is no partition), as the server wrote them.

    Dropping a day's partition takes the log's ACCESS EXCLUSIVE lock (and attaching one the default
    partition's): while it waits for a session whose transaction read the log (a BI tool's left open after
    it read pgscore.predictions or a drift view), every scoring statement that logs and every INSERT into a
    wired table waits behind it. So it waits at most `lock_timeout` (as PostgreSQL reads it; "0" for ever),
    then fails, changing nothing (on a connection of the caller's, the setting lasts until its transaction
    ends; None leaves the session's as it is).

    `held`, a dict: filled with the default partition's rows by UTC day before and after ("before", "after",
    {date: rows}, of at most DEFAULT_ROWS + 1 rows), its latest row's day before and after ("latest_before",
    "latest": exact) and "today" (UTC),
    which `pgscore maintain` says."""
    # a `keep` refused is a UsageError (pgscore maintain exits 2), refused before anything is changed
    if keep is not None and not keep.strip():  # `--keep "$KEEP"` with KEEP unset: retention would stop, silently
        raise UsageError("--keep is empty: retention needs an interval", hint="for example --keep '90 days'; "
                         "leave --keep out to create partitions only")
    if keep is not None and re.fullmatch(r"\s*[-+]?(\d+\.?\d*|\.\d+)\s*", keep):  # (without a database to ask)
        raise UsageError(f"--keep {keep.strip()} has no unit: PostgreSQL reads a bare number as seconds, and "
                         "retention keeps whole UTC days, at least one",
                         hint=f"give its unit: --keep '{keep.strip()} days'")
    import psycopg2
    from psycopg2 import errors as pg_errors

    with connection(db) as conn:
        if lock_timeout is not None:
            _call(conn, "SELECT pg_catalog.set_config('lock_timeout', %s, true)", (lock_timeout,))
        try:
            if keep is not None:  # read first: a --keep refused changes nothing, and waits for no lock
                try:
                    # (true, not the interval: psycopg2 reads one only as IntervalStyle 'postgres' prints it, and
                    # under a role's or PGOPTIONS' 'iso_8601' maintain stopped here; session 66, T21)
                    _call(conn, "SELECT %s::pg_catalog.interval IS NOT NULL", (keep,))
                except psycopg2.DataError as e:
                    if e.pgcode not in ("22007", "22008", "22015"):  # not an interval, or out of range
                        raise
                    raise UsageError(f"--keep {keep!r} is not an interval PostgreSQL reads",
                                     hint="for example --keep '90 days' or --keep '6 months'") from None
            # what retention deleted and the past days made are the functions' NOTICEs: heard in this transaction
            # where the session drops NOTICEs (client_min_messages = warning or above, a user's or PGOPTIONS'), not
            # reported as none
            _call(conn, "SELECT pg_catalog.set_config('client_min_messages', 'notice', true) WHERE "
                        "pg_catalog.current_setting('client_min_messages') OPERATOR(pg_catalog.=) ANY "
                        "(ARRAY['warning', 'error'])", None)
            said = []
            if keep is not None:
                # retention first: the default partition's rows of the days it deletes are deleted, not first
                # copied into partitions of their days by the backfill below (migration 0104), which would need
                # room for them on the disk that `maintain --keep` is run to free (docs/operations-disk.md)
                try:
                    with server_notices(conn) as said:
                        _call(conn, "SELECT pgscore.drop_log_partitions(%s::interval)", (keep,))
                except InvalidModel as e:  # (22023, as _call names it) the period refused (under a day), in its words
                    raise UsageError(e.message, hint=e.hint, sqlstate=e.sqlstate) from e.__cause__
                except psycopg2.DataError as e:
                    if e.pgcode != "22008":  # an interval, too long (datetime_field_overflow; lc_messages' message)
                        raise
                    raise UsageError(f"--keep {keep!r} reaches back before the earliest time PostgreSQL holds (4713 "
                                     "BC): timestamp out of range", hint="for example --keep '90 days' or --keep "
                                     "'6 months'") from None
            if held is not None:
                held["before"] = _default_days(conn)
                held["latest_before"] = _call(conn, DEFAULT_LATEST, None)[0][0]  # (exact: the count stops at its bound)
            with server_notices(conn) as made_said:
                made = _call(conn, "SELECT pgscore.create_log_partitions(%s)", (days_ahead,))[0][0]
            if held is not None:  # (the day the partitions were counted from)
                held["today"] = _call(conn, "SELECT (pg_catalog.now() AT TIME ZONE 'UTC')::pg_catalog.date",
                                      None)[0][0]
        except pg_errors.LockNotAvailable as e:
            raise PgscoreError(
                f"pgscore maintain waited {lock_timeout} for a lock another session holds on the prediction log; "
                "nothing was changed", detail=e.diag.message_primary, sqlstate="55P03",
                hint="find the session in pg_stat_activity (a transaction left open after it read the log or the "
                     "views, as a BI tool's can be: state 'idle in transaction'), let it end, and run maintain "
                     "again; or wait longer with --lock-timeout (0: for ever; scoring that logs and INSERTs into "
                     "wired tables wait behind maintain meanwhile)") from None
    if held is not None:  # counted once the partitions are committed, not under their ACCESS EXCLUSIVE lock on the
        # default partition (every read of the log, and every row logged for a day with no partition, waited behind
        # the count: 0.7 s a million rows)
        with connection(db) as conn:
            held["after"] = _default_days(conn)
            # (the count stops at its bound: the latest day, which the command to make it needs, read exactly)
            held["latest"] = _call(conn, DEFAULT_LATEST, None)[0][0]
    dropped = [n.split("drop_log_partitions: ", 1)[1].strip() for n in said if "drop_log_partitions: " in n]
    past = [n.split("create_log_partitions: ", 1)[1].strip() for n in made_said
            if n.startswith("NOTICE:") and "create_log_partitions: " in n]
    warned = [n for n in made_said if n.startswith("WARNING:")]
    return made, dropped[-1] if dropped else None, past[-1] if past else None, warned


REDACT_LIMIT = 100000  # rows a call of redact_log_features, each committed


# a period with a part of each sign ('-1 mon 31 days'), as drop_log_partitions and redact_log_features refuse it
# (migration 0147): PostgreSQL compares a month as 30 days, and such a period is a different length on other dates
# (extract() gives a numeric, which pg_catalog compares with the int4 0 as numeric < numeric: an operator < (numeric,
# int4) of the database's owner in public was the exact match whatever the search_path, and ran as the superuser
# running pgscore maintain --keep-features; session 70)
NEGATIVE_PART = " OR ".join(f"extract({part} FROM {{0}}) OPERATOR(pg_catalog.<) 0::pg_catalog.numeric"
                            for part in ("year", "month", "day", "hour", "minute", "second")).join("()")


def check_features_period(db, older_than) -> None:
    """--keep-features read before anything changes: empty, without a unit, no interval PostgreSQL reads, with a
    negative part or under a day, a UsageError (pgscore maintain exits 2); shorter than the floor the schema's owner
    set (pgscore.retention_policy.keep_features), the server's refusal in its words (42501, exit 1), before the
    partitions and --keep are committed (session 64: after them, a run half done)."""
    if not older_than.strip():  # `--keep-features "$KEEP"` with KEEP unset
        raise UsageError("--keep-features is empty: redaction needs an interval",
                         hint="for example --keep-features '2 years'; leave --keep-features out to keep every feature")
    if re.fullmatch(r"\s*[-+]?(\d+\.?\d*|\.\d+)\s*", older_than):
        raise UsageError(f"--keep-features {older_than.strip()} has no unit: PostgreSQL reads a bare number as "
                         "seconds, and features are kept for whole UTC days, at least one",
                         hint=f"give its unit: --keep-features '{older_than.strip()} days'")
    import psycopg2

    with connection(db) as conn:
        try:
            (short, mixed), = _call(conn, "SELECT i OPERATOR(pg_catalog.<) '1 day'::pg_catalog.interval, " + NEGATIVE_PART.format("i")
                                    + " FROM (SELECT %s::interval AS i) p", (older_than,))
        except psycopg2.DataError as e:
            if e.pgcode not in ("22007", "22008", "22015"):
                raise
            raise UsageError(f"--keep-features {older_than!r} is not an interval PostgreSQL reads",
                             hint="for example --keep-features '2 years'") from None
        if mixed:
            raise UsageError(f"--keep-features {older_than!r} has a negative part: a month is 28 to 31 days, so such "
                             "a period is a different length on different dates",
                             hint="write the period in parts of one sign: --keep-features '2 years'")
        if short:
            raise UsageError(f"--keep-features {older_than!r} is under a day: features are kept for whole UTC days, "
                             "at least one", hint="for example --keep-features '2 years'")
        try:  # (as maintain's --keep: before 4713 BC, the earliest time PostgreSQL holds; review r2)
            _call(conn, "SELECT (pg_catalog.now() AT TIME ZONE 'UTC') - %s::interval", (older_than,))
        except psycopg2.DataError as e:
            if e.pgcode != "22008":
                raise
            raise UsageError(f"--keep-features {older_than!r} reaches back before the earliest time PostgreSQL holds "
                             "(4713 BC): timestamp out of range",
                             hint="for example --keep-features '2 years'") from None
        # the floor, as redact_log_features reads it (migration 0143: the UTC day each cuts at), where the schema
        # has one (0141); a floor reaching back before 4713 BC keeps every day (review r2)
        # (the periods as IntervalStyle 'postgres' prints them, as the server's refusal since 0159: it said 'P10D ...
        # P1Y' under a role's or PGOPTIONS' iso_8601; review r5 of session 66)
        _call(conn, "SELECT pg_catalog.set_config('IntervalStyle', 'postgres', false)", None)
        floor = _call(conn, "SELECT p.keep_features::text, %s::interval::text FROM pgscore.retention_policy p "
                            "WHERE p.keep_features IS NOT NULL", (older_than,)) if _call(
            conn, "SELECT pg_catalog.to_regclass('pgscore.retention_policy') IS NOT NULL", None)[0][0] else []
        if floor:
            try:
                (shorter,), = _call(
                    conn, "SELECT pg_catalog.date_trunc('day', (pg_catalog.now() AT TIME ZONE 'UTC') - %s::interval) "
                          "> pg_catalog.date_trunc('day', (pg_catalog.now() AT TIME ZONE 'UTC') - p.keep_features) "
                          "FROM pgscore.retention_policy p", (older_than,))
            except psycopg2.DataError as e:
                if e.pgcode != "22008":
                    raise
                shorter = True
            if not shorter:
                floor = []
    if floor:
        e = PgscoreError(f"pgscore.redact_log_features: p_older_than {floor[0][1]} is shorter than the floor of "
                         f"features' retention, {floor[0][0]}: nothing was changed", sqlstate="42501",
                         hint="pgscore.retention_policy.keep_features, which the owner of the pgscore schema alone "
                              "may lower")
        e.sqlstate_said = True  # (the CLI prints it, as the server's refusal said it)
        raise e


def redact_features(db, older_than, lock_timeout=MAINTAIN_LOCK_TIMEOUT, limit=REDACT_LIMIT) -> tuple[int, str | None]:
    """Empty the features of the prediction-log rows logged before the UTC day holding now() - older_than, keeping
    their decisions (pgscore.redact_log_features, migration 0141): calls of at most `limit` rows, each its own
    transaction, until one redacts fewer. Returns the rows redacted and the last call's NOTICE (the cut, the
    partitions, whether rows remain). Check the period first (check_features_period); one under the owner's floor
    (pgscore.retention_policy) is the server's 42501."""
    from psycopg2 import errors as pg_errors

    total, said = 0, []
    while True:
        with connection(db) as conn:
            if lock_timeout is not None:
                _call(conn, "SELECT pg_catalog.set_config('lock_timeout', %s, true)", (lock_timeout,))
            _call(conn, "SELECT pg_catalog.set_config('client_min_messages', 'notice', true)", None)
            try:
                with server_notices(conn) as said:
                    n = _call(conn, "SELECT pgscore.redact_log_features(%s::interval, %s)", (older_than, limit))[0][0]
            except pg_errors.LockNotAvailable as e:
                raise PgscoreError(
                    f"pgscore maintain waited {lock_timeout} for a lock another session holds on the prediction log; "
                    f"{total} row(s) redacted before it", detail=e.diag.message_primary, sqlstate="55P03",
                    hint="let the session holding it end (pg_stat_activity), and run maintain again") from None
        total += n
        if n < limit:
            break
    told = [x.split("redact_log_features: ", 1)[1].strip() for x in said if "redact_log_features: " in x]
    return total, told[-1] if told else None
