"""Deploy models from alembic revisions: the artifact is referenced by path and sha256, never pasted in.

    from pgscore.alembic_ops import deploy_model, promote_model, retire_model, undeploy_model

    def upgrade():
        deploy_model("churn", HERE / "models/churn-3.joblib", "9f2c...", revision=revision,
                     train_csv=HERE / "models/churn-train.csv", target="churned")

    def downgrade():
        undeploy_model("churn", revision=revision)

deploy_model(..., activate=False, shadow=True) stores a version scored in shadow; promote_model(name,
revision=revision, stored_by="<that revision>") in a later revision makes it live; undeploy_model undoes each.
"""

from __future__ import annotations

import ast
import logging
import pathlib
import weakref

from pgscore import artifacts, datasets, features, registry, schema
from pgscore.errors import PgscoreError, UnknownModel, VersionMismatch, command, literal, typo_hint

# under alembic's own logger: the env.py that `alembic init` writes calls logging.config.fileConfig, which
# disables every logger it does not configure (or a child of one) that exists by then, this module's
# included once env.py has imported it
log = logging.getLogger("alembic.pgscore")


def _conn(revision=None, operation=None):
    from alembic import op

    if op.get_context().as_sql:
        hint = ("run the revision against the database (alembic upgrade without --sql); `alembic upgrade <the "
                "revision before it> --sql` writes the SQL of those before it")
        if operation == "retire_model":
            what = ("pgscore's retire_model needs a database: alembic's offline mode (--sql) writes SQL without one, "
                    "and a retirement reads the registry")
        elif operation == "promote_model":
            what = ("pgscore's promote_model needs a database: alembic's offline mode (--sql) writes SQL without one, "
                    "and a promotion reads the registry")
        elif operation == "undeploy_model":  # a downgrade's (before: the upgrade's message and hint)
            what = ("pgscore's undeploy_model needs a database: alembic's offline mode (--sql) writes SQL without "
                    "one, and undoing a revision reads the model's deployment history")
            hint = ("run the downgrade against the database (alembic downgrade without --sql); `alembic downgrade "
                    f"<the current revision>:{revision if revision is not None else '<this revision>'} --sql` "
                    "writes the SQL of the downgrades before it")
        else:
            what = ("pgscore's deploy_model and undeploy_model need a database: alembic's offline mode (--sql) "
                    "writes SQL without one, and a deployment reads the registry and stores the model's bytes")
        raise PgscoreError(what + (f" (alembic revision {revision})" if revision is not None else ""), hint=hint)
    # the raw DB-API connection (psycopg2's or psycopg 3's) inside alembic's transaction
    return op.get_bind().connection.dbapi_connection


# the oldest pgscore schema each operation runs correctly on (docs/alembic.md, "An older pgscore schema"), found by
# running a deploy, a retire, a version stored without going live, a shadow, a promotion and their downgrades at
# older revisions: register_model takes the compiled evaluator from 0003; a version stored with activate=False
# records its revision (pgscore.models.reason, which undeploy_model finds it by) from 0029; shadows are scored from
# 0054; a promotion is recorded as an 'activate' of its own, with the end of the shadow mark it ends, from 0121
# (before, undeploy_model read it as the promoting revision's deploy: the downgrade of the promotion of a version
# live before retired the model, and a shadow promoted was no shadow again); a model fitted on words keeps them
# (its text_categories, without which the server cannot code them) from 0123
_OLDEST = {"deploy_model": "0003", "undeploy_model": "0003", "retire_model": "0003", "promote_model": "0121"}
_STORED_NOT_LIVE = "0029"
_SHADOWS = "0054"
_WORDS = "0123"
# why each operation needs its _OLDEST
_NEEDS = {
    "deploy_model": "deploy_model needs: pgscore.register_model takes the compiled evaluator deploy_model passes it "
                    "from there on",
    "promote_model": "records a promotion as an 'activate' of its own and the end of the shadow mark it ends, which "
                     "the revision's undeploy_model reads back: before it, the downgrade of the promotion of a "
                     "version that was live before retired the model, and a promoted shadow was no shadow again",
}

def _schema_revision(revision, operation, name):
    """pgscore's schema revision in the migration's database (None where pgscore is not installed: the operation
    says so as before). Where it is behind this pgscore's head, pgscore deploy's note (cli.behind_note) is logged,
    once an alembic run; where it is older than `operation` runs correctly on (_OLDEST), a PgscoreError names both
    revisions and says to upgrade pgscore's schema first (before: a raw SQL error, or nothing at all)."""
    from alembic import op

    from pgscore import migrate
    from pgscore.cli import behind_note

    ctx = op.get_context()
    if ctx not in _RUNS:  # (this run's: not the DBAPI connection's Connection.info, which a pool hands on)
        conn = op.get_bind().connection.dbapi_connection
        problem = migrate.untrusted_version_table(lambda q, params: registry._call(conn, q, params))
        if problem is not None:  # (a view or a trigger of another role's on it: migrate._TRUST)
            raise problem
        (there,), = registry._call(conn, "SELECT pg_catalog.to_regclass('public.pgscore_alembic_version') IS NOT "
                                         "NULL AND pg_catalog.to_regnamespace('pgscore') IS NOT NULL", None)
        rows = registry._call(conn, "SELECT version_num FROM public.pgscore_alembic_version", None) if there else []
        _RUNS[ctx] = current = rows[0][0] if rows else None
        head = migrate.head()
        if current is not None and current < head:  # revisions are numbered 0001, 0002, ...
            log.warning("%s", behind_note(current, head, _UPGRADE))
    current = _RUNS[ctx]
    if current is not None and current < _OLDEST[operation]:
        raise _too_old(revision, operation, name, current, _OLDEST[operation], _NEEDS.get(operation) or (
            f"{operation} is checked on (a deploy, a retire and their downgrades leave the history they leave at "
            "the head); before it, no deploy of this pgscore can have stored a version (pgscore.register_model "
            "takes no compiled evaluator)"))
    return current


def _pending(conn, what):
    """Remember `what` (a change pgscore logged as done) until the migration's transaction ends: where it is rolled
    back (a later revision of the same `alembic upgrade` failed, say, in the one transaction alembic runs them in
    unless transaction_per_migration), a warning says that these changes are not stored (before, the log said
    `deployed churn version 6 ... live` above the traceback, and nothing said it was undone); where its COMMIT
    fails, _commit_failed says the same. A change made in an autocommit_block() is committed as it is made: not
    remembered."""
    from alembic import op
    from sqlalchemy import event

    if getattr(conn, "autocommit", False):
        return
    bind = op.get_bind()
    if not event.contains(bind, "rollback", _rolled_back):  # (once a Connection: it may serve run after run)
        event.listen(bind, "rollback", _rolled_back)
        event.listen(bind, "commit", _committed)
        event.listen(bind, "begin", _began)
    if not event.contains(bind.engine, "handle_error", _commit_failed):  # (once an engine: the dialect's)
        event.listen(bind.engine, "handle_error", _commit_failed)
    _PENDING.setdefault(bind, []).append(what)


# what a run and a transaction of it hold, by the objects that live as long as they do: pgscore's schema revision,
# read once an alembic run (its MigrationContext), and the changes pgscore logged in a Connection's transaction
# until it ends. (Connection.info, where they were kept, is the DBAPI connection's, which a pool hands to the next
# run in the same process: that run read the revision as it was before a pgscore install, and its Connection, which
# no listener was registered on, said nothing of its rollback.)
_RUNS = weakref.WeakKeyDictionary()
_PENDING = weakref.WeakKeyDictionary()
# the changes of a Connection's transaction whose COMMIT was sent: SQLAlchemy's commit event fires before it, and a
# COMMIT may fail (a deferred constraint, a serialization failure), which rolls the transaction back; kept until the
# Connection's next transaction begins
_COMMITTING = weakref.WeakKeyDictionary()


def _rolled_back(connection):
    said = _PENDING.pop(connection, None) or _COMMITTING.pop(connection, None)
    if said:
        log.warning("pgscore: the migration's transaction was rolled back, and with it what pgscore logged above: %s: "
                    "none of it is stored", "; ".join(said))


def _committed(connection):
    said = _PENDING.pop(connection, None)
    if said:
        _COMMITTING[connection] = said


def _began(connection):
    _COMMITTING.pop(connection, None)


def _commit_failed(context):
    """handle_error: a COMMIT (no statement) of a transaction whose changes pgscore logged failed."""
    said = _COMMITTING.pop(context.connection, None) if context.connection is not None and \
        context.statement is None else None
    if said and context.is_disconnect:  # (the server may have committed it before the connection went)
        log.warning("pgscore: the connection was lost as the migration's transaction committed: what pgscore logged "
                    "above may or may not be stored (pgscore show NAME tells): %s", "; ".join(said))
    elif said:
        log.warning("pgscore: the migration's transaction failed to commit (rolled back), and with it what pgscore "
                    "logged above: %s: none of it is stored", "; ".join(said))


# how a revision's user upgrades pgscore's schema (the database given to pgscore, not alembic)
_UPGRADE = "pgscore install --db URL (the database your alembic env.py connects to), then run alembic again"


def _known(conn, name, operation, revision, what=""):
    """UnknownModel, with the typo hint, where no version of `name` is stored (`what`: said before the hint's
    list of the models)."""
    if not registry._call(conn, "SELECT 1 FROM pgscore.models WHERE name = %s LIMIT 1", (name,)):
        raise UnknownModel(f"{operation} of alembic revision {revision}: there is no model {name!r}",
                           hint=typo_hint(name, registry.model_names(conn), what + "list the models with: pgscore "
                                          "models"))


def _too_old(revision, operation, name, current, oldest, why):
    return PgscoreError(f"alembic revision {revision}, {operation}({name!r}): this database's pgscore schema is at "
                        f"revision {current}, older than {oldest}, which {why}; nothing was changed",
                        hint="upgrade pgscore's schema first: " + _UPGRADE)


def deploy_model(name, path, sha256, *, revision, feature_names=None, train_csv=None, target=None,
                 description=None, allow_task_change=False, allow_feature_change=False, activate=True,
                 shadow=False, allow_version_mismatch=False):
    """Deploy the joblib file at `path` (checked against `sha256` before unpickling) as the next version;
    with activate=False it is stored without going live, and with shadow=True too it is scored in shadow next to
    the live version from the same transaction (_shadow; undeploy_model of the revision ends that mark). Live over
    a wired profile table holding NULLs it takes none in, it logs pgscore deploy's warning (_say_wired_nulls; so
    does undeploy_model of the version it makes live again)."""
    conn = _conn(revision)
    if shadow and activate:  # (a live version is not scored in shadow)
        raise PgscoreError(f"alembic revision {revision}, deploy_model({name!r}): shadow=True scores a version that is "
                           "not live next to the live one, and activate=True makes it live",
                           hint="pass activate=False with shadow=True; promote it later in a revision of its own: "
                                f"promote_model({name!r}, revision=revision, stored_by={revision!r})")

    current = _schema_revision(revision, "deploy_model", name)
    if current is not None and not activate and current < _STORED_NOT_LIVE:
        raise _too_old(revision, "deploy_model", name, current, _STORED_NOT_LIVE, "records the revision a version "
                       "stored with activate=False was stored by (pgscore.models.reason): before it, the revision's "
                       "undeploy_model could not find the version, and its downgrade would fail")
    if current is not None and shadow and current < _SHADOWS:
        raise _too_old(revision, "deploy_model", name, current, _SHADOWS, "scores a version in shadow "
                       "(pgscore.set_shadow, pgscore.shadows)")
    # an error says which revision and which model, whatever it is about (a missing or corrupt artifact or
    # training CSV, and the deploy's own refusals: feature names that do not match the estimator's width, a
    # change of task or features, a name the server refuses), so that a failed `upgrade head` of many
    # revisions names the one to fix (before, the deploy's own errors named neither)
    try:
        estimator, source = registry.load_artifact(path, sha256, given_by=f"alembic revision {revision}",
                                                   allow_version_mismatch=allow_version_mismatch)
        if current is not None and current < _WORDS and features.fitted_on_words(estimator):
            raise _too_old(revision, "deploy_model", name, current, _WORDS, "keeps the words a model's encoders were "
                           "fitted on (pgscore.models.text_categories): before it, the server could not code the "
                           "words callers give such a model")
        X = y = None
        if train_csv is not None:
            given = feature_names
            X, y, feature_names = datasets.read_csv(train_csv, target=target,
                                                    features=feature_names or features.fitted_names(estimator),
                                                    classes=getattr(estimator, "classes_", None), estimator=estimator)
            if not given:  # (as pgscore deploy --train says it, in a revision's terms)
                features.check_csv_width(estimator, feature_names, csv=f"train_csv {train_csv}",
                                         target_given=target is not None, target_hint='target="COLUMN" in '
                                         "deploy_model(...)", features_hint='feature_names=["a", "b", ...] in '
                                         "deploy_model(...)")
        rec = registry.deploy(conn, name, estimator, X, y, feature_names=feature_names, activate=activate,
                              description=description, reason=_reason(revision),
                              allow_task_change=allow_task_change, allow_feature_change=allow_feature_change,
                              source=source)
    except PgscoreError as e:
        said = f"alembic revision {revision}, deploy_model({name!r}): "
        if not e.message.startswith(said):  # (_too_old's names them already)
            e.message = said + e.message
            e.args = (e.message,)
        if isinstance(e, VersionMismatch) and e.hint:  # (the hint for the caller: a revision has no CLI flag)
            e.hint = e.hint.replace(artifacts.ALLOW_MISMATCH_HINT, "allow_version_mismatch=True in deploy_model(...) "
                                    "deploys it anyway, at your own risk")
        raise
    # what pgscore deploy prints first, in its words (before: alembic's `Running upgrade  -> a1` alone)
    from pgscore.cli import deployed_line, holdout_line

    held = holdout_line(rec)
    log.info("pgscore: %s by alembic revision %s%s", deployed_line(rec), revision, f"; {held}" if held else "")
    _pending(conn, f"deployed {name} version {rec['version']} (alembic revision {revision})")
    if source.get("scikit-learn"):  # (as pgscore deploy warns of it, with --allow-version-mismatch)
        import sklearn

        log.warning("pgscore: alembic revision %s: %s was written with scikit-learn %s and is deployed as this "
                    "Python's %s loads it (allow_version_mismatch=True): scikit-learn does not support that, and it "
                    "may score otherwise than where it was fitted; pgscore show names the version it was written "
                    "with", revision, path, source["scikit-learn"], sklearn.__version__)
    if rec.get("same_artifact"):  # (as pgscore deploy notes it: the file deployed again)
        same = rec["same_artifact"]
        log.info("pgscore: %s version %s, stored by alembic revision %s, stores the same artifact as version%s %s "
                 "(sha256 %s...): the same estimator, deployed again", name, rec["version"], revision,
                 "s" if len(same) > 1 else "", ", ".join(map(str, same)), rec["sha256"][:12])
    if rec.get("worse_than_live"):  # (as pgscore deploy notes it: made live with a worse hold-out metric)
        from pgscore.cli import worse_than_live_note

        log.warning("pgscore: alembic revision %s: %s", revision, worse_than_live_note(rec))
    if rec["live"]:  # (a wired profile table with NULLs the version refuses: each event's rescoring queued)
        _say_wired_nulls(conn, name, rec["version"], _reason(revision))
        _say_stale_scores(conn, name, _reason(revision))
    if shadow:
        rec["shadow"] = _shadow(conn, name, rec["version"], revision)
    _say_twins(conn, name, rec["version"], _reason(revision))
    return rec


def _shadow(conn, name, version, revision):
    """deploy_model(shadow=True): score `version` (just stored, not live) in shadow next to the live version,
    pgscore.set_shadow with the reason `alembic revision <id>`, in the revision's transaction. Its refusals (no
    live version, a version this server cannot load, a wired profile table that cannot feed it) fail the migration,
    named as deploy_model's errors are. The name's other shadows stay: undeploy_model of the revision ends this
    mark alone, which leaves them as they were before it."""
    if not registry._shadowing(conn):
        raise PgscoreError(f"alembic revision {revision}, deploy_model({name!r}, shadow=True): this database's pgscore "
                           "schema has no shadow scoring (pgscore.shadows)", hint="upgrade it: pgscore install")
    try:
        registry._call(conn, "SELECT pgscore.set_shadow(%s, %s, %s)", (name, version, _reason(revision)))
    except PgscoreError as e:
        e.message = f"alembic revision {revision}, deploy_model({name!r}, shadow=True): {e.message}"
        e.args = (e.message,)
        raise
    now = registry._call(conn, _AT, (name, None))
    log.info("pgscore: %s version %s is scored in shadow next to live version %s, set by alembic revision %s", name,
             version, now[0][0], revision)
    return True


def _say_twins(conn, name, version, by):
    """A note where `version` (just stored, set in shadow, made live or made a shadow again by `by`) and another
    version of `name` scored now (live, or in shadow) store the same artifact: every event is scored twice, with
    identical results (a deploy revision run again, `alembic stamp` and upgrade, which stores a new copy and sets
    it in shadow too; the promotion of a shadow written as a deploy of its file again). Says which shadow to stop."""
    if not registry._shadowing(conn):
        return
    rows = registry._call(conn, "SELECT v.version, v.live, v.sha256 FROM pgscore.model_versions v WHERE v.name = %s "
                                "AND (v.live OR v.shadow) ORDER BY v.version", (name,))
    mine = [sha for v, _, sha in rows if v == version]
    twins = [(v, live) for v, live, sha in rows if mine and sha == mine[0]]
    if len(twins) < 2:
        return
    # stop every shadow of them where one is live, else every shadow but the newest
    stop = [v for v, live in twins if not live] if any(live for _, live in twins) else [v for v, _ in twins[:-1]]
    said = ", ".join(f"{v} ({'live' if live else 'shadow'})" for v, live in twins)
    log.info("pgscore: %s: %s: versions %s store the same artifact (sha256 %s...): each event is scored by each of "
             "them, with identical results; stop the shadow that repeats it: %s (SQL: %s)", by, name, said,
             mine[0][:12], "; ".join(command(f"shadow {name} {v} --off") for v in stop),
             "; ".join(f"pgscore.clear_shadow({literal(name)}, {v})" for v in stop))


def promote_model(name, *, revision, stored_by, force=False):
    """Make live the version of `name` that alembic revision `stored_by`'s deploy_model stored (the newest of its
    latest upgrade: a deploy revision run again stores a new copy, and that copy is promoted), by pgscore.activate
    with the reason `alembic revision <id>`: a shadow mark of it ends (migration 0121 records that end, which
    undeploy_model reads back). undeploy_model(name, revision=revision) in the same revision's downgrade() restores
    the state before: the version live before live again, and this one a shadow again if it was one. Refused where
    this server cannot load the version, unless `force` (pgscore activate --force)."""
    conn = _conn(revision, "promote_model")
    _schema_revision(revision, "promote_model", name)
    _known(conn, name, "promote_model", revision)
    registry.lock_name(conn, name)  # (as undeploy_model: the history read once a change in progress committed)
    versions_say = bool(registry._call(conn, schema.VERSION_REASON, None))
    stored = registry._call(conn, _STORED.replace("@R", "m.reason = %s OR " if versions_say else ""),
                            ((name, _reason(stored_by)) if versions_say else (name,)) + (name, _reason(stored_by)))
    if not stored:
        revs = sorted({r for r, in registry._call(conn, "SELECT m.reason FROM pgscore.models m WHERE m.name = %s",
                                                  (name,)) if _revision_of(r)} if versions_say else set())
        said = ("alembic revisions that stored versions of it: " + ", ".join(_revision_of(r) for r in revs)
                if revs else "no alembic revision stored a version of it")
        raise UnknownModel(f"promote_model of alembic revision {revision}: alembic revision {stored_by} stored no "
                           f"version of model {name!r}",
                           hint=typo_hint(stored_by, [_revision_of(r) for r in revs],
                                          f"stored_by= names the revision whose deploy_model(..., activate=False) "
                                          f"stored the version to promote ({said})"))
    ancestors = _ancestors(revision)
    if ancestors is not None and stored_by not in ancestors:
        # (alembic may run it before stored_by, or after stored_by's downgrade: it would promote an earlier upgrade's
        # copy, its revision undone, and `upgrade` of stored_by then store another copy next to it)
        raise PgscoreError(f"promote_model of alembic revision {revision}: alembic revision {stored_by} (stored_by) "
                           f"is not an ancestor of revision {revision}: the version it stored may be of an upgrade "
                           "undone since, or not stored yet", hint=f"add {stored_by!r} to revision {revision}'s "
                           "down_revision or depends_on, so that alembic runs it first and downgrades it after")
    version = stored[-1][1]
    now = registry._call(conn, _AT, (name, None))
    current = None if not now or now[0][1] == "retire" else now[0][0]
    if current == version:
        log.warning("pgscore: promote_model of alembic revision %s: %s version %s (stored by alembic revision %s) is "
                    "live already: nothing changed", revision, name, version, stored_by)
        return
    said = _activate(conn, name, version, _reason(revision), force)
    log.info("pgscore: %s version %s, stored by alembic revision %s, is live, promoted by alembic revision %s (%s)",
             name, version, stored_by, revision, "it was retired" if current is None else f"version {current} was")
    _pending(conn, f"{name} version {version} live (promoted by alembic revision {revision})")
    said()
    _say_wired_nulls(conn, name, version, _reason(revision))
    _say_stale_scores(conn, name, _reason(revision))
    _say_twins(conn, name, version, _reason(revision))


def _activate(conn, name, version, reason, force):
    """pgscore.activate of `version`; returns what writes to alembic's log what it did besides (as _rollback's):
    the shadow mark it ended, the server's WARNINGs."""
    shadows = registry.shadow_versions(conn, name)
    with registry.server_notices(conn) as said:
        registry._call(conn, registry.forcing("SELECT pgscore.activate(%s, %s::integer, %s::text)", force),
                       (name, version, reason))
    ended = registry.shadows_ended(conn, name, shadows)

    def say():
        if ended:
            log.info("pgscore: %s: shadow version %s stopped: it is live (a live version is not scored in shadow)",
                     name, ", ".join(f"v{v}" for v in ended))
        for w in said:
            if w.startswith("WARNING:"):
                log.warning("pgscore: %s: %s", name, w.removeprefix("WARNING:").strip())
    return say


def _undo_promote(conn, name, revision, promoted_id, version, model_id, why, force=False):
    """undeploy_model of a revision whose promote_model made `version` live by deployment `promoted_id`: the state
    before it again, the version live before live (or the model retired) and `version` a shadow again if the
    promotion ended its shadow mark (the 'stop' pgscore.shadows records with since_deployment `promoted_id`,
    migration 0121). Nothing where a downgrade undid it already; a warning where another version went live since,
    which it replaces, unless a revision still applied made it live (another team's branch): that stays."""
    if registry._call(conn, "SELECT 1 FROM pgscore.deployments WHERE model_name = %s AND deployment_id > %s AND "
                            "reason = %s LIMIT 1", (name, promoted_id, why)) or registry._call(
            conn, "SELECT 1 FROM pgscore.shadows WHERE model_name = %s AND since_deployment >= %s AND reason = %s "
                  "LIMIT 1", (name, promoted_id, why)):
        log.warning("pgscore: %s: alembic revision %s was undone already (a change with reason %r): nothing to do",
                    name, revision, why)
        return
    # the promotion of a copy that an earlier upgrade of the revision that stored it stored: that revision was
    # downgraded since (`alembic stamp` past the promotion), which undid it, or upgraded again (a newer copy)
    if registry._call(conn, schema.VERSION_REASON, None) and registry._call(
            conn, _STALE_PROMOTION, (model_id, name, promoted_id, name, model_id)):
        log.warning("pgscore: %s: alembic revision %s's promotion of version %s was undone already (alembic revision "
                    "%s, which stored it, was downgraded or upgraded again since): nothing to do", name, revision,
                    version, _revision_of(registry._call(conn, "SELECT reason FROM pgscore.models WHERE model_id = %s",
                                                         (model_id,))[0][0]))
        return
    now = registry._call(conn, _AT, (name, None))
    current = None if now[0][1] == "retire" else now[0][0]
    said = "it is retired" if current is None else f"version {current} is live"
    applied, other = _applied(), _revision_of(now[0][3])
    if applied is not None and now[0][2] > promoted_id and other not in (None, revision) and other in applied:
        log.info("pgscore: %s: %s, set by alembic revision %s (still applied) after alembic revision %s, stays: "
                 "nothing to undo", name, said, other, revision)
        return
    target = _live_before(conn, name, revision, promoted_id, applied)  # (as undeploy_model reads it)
    was_shadow = bool(registry._call(conn, "SELECT 1 FROM pgscore.shadows WHERE model_name = %s AND model_id = %s "
                                           "AND action = 'stop' AND since_deployment = %s LIMIT 1",
                                     (name, model_id, promoted_id)))
    if current != version and current != target:
        log.warning("pgscore: %s was deployed, activated, rolled back or retired after alembic revision %s (%s; "
                    "reason: %s); undoing the revision replaces that: it will %s, as before the revision", name,
                    revision, said, now[0][3] or "none given",
                    "retire it" if target is None else f"make version {target} live")
    changed = current != target
    if changed:
        _back_to(conn, name, revision, target, why, force)
    if was_shadow and target not in (None, version) and version not in registry.shadow_versions(conn, name):
        changed = True
        registry._call(conn, registry.forcing("SELECT pgscore.set_shadow(%s, %s, %s)", force), (name, version, why))
        log.info("pgscore: %s version %s is scored in shadow again, as before alembic revision %s", name, version,
                 revision)
        _pending(conn, f"{name} version {version} in shadow again ({why})")
        _say_twins(conn, name, version, why)
    if was_shadow and target is None:  # (pgscore.set_shadow refuses where no version is live)
        log.warning("pgscore: %s version %s was scored in shadow before alembic revision %s, and is not again: %s is "
                    "retired, as it was, and a shadow needs a live version; once one is, set it again: %s", name,
                    version, revision, name, command(f"shadow {name} {version}"))
    if not changed:
        log.info("pgscore: %s is as it was before alembic revision %s (%s): nothing to do", name, revision,
                 "retired" if target is None else f"version {target} live")


def _clear_own_shadows(conn, name, revision, stored, why):
    """undeploy_model of a revision that set versions it stored in shadow (deploy_model(shadow=True)): stop those
    still scored in shadow (a promotion's downgrade may have marked one again). The versions stay stored; the
    name's other shadows stay as they were. Returns the versions stopped."""
    if not registry._shadowing(conn):
        return []
    own = [v for v, in registry._call(
        conn, "SELECT DISTINCT m.version FROM pgscore.shadows s JOIN pgscore.models m ON m.model_id = s.model_id "
              "WHERE s.model_name = %s AND s.action = 'start' AND s.reason = %s AND s.model_id = ANY (%s)",
        (name, _reason(revision), [model_id for model_id, _ in stored]))]
    stopped = [v for v in registry.shadow_versions(conn, name) if v in own]
    for v in stopped:
        registry._call(conn, "SELECT pgscore.clear_shadow(%s, %s, %s)", (name, v, why))
        log.info("pgscore: %s version %s is no longer scored in shadow, as before alembic revision %s (it stays "
                 "stored)", name, v, revision)
        _pending(conn, f"{name} version {v} no longer in shadow ({why})")
    return stopped


def _say_wired_nulls(conn, name, version, by):
    """pgscore deploy's go-live warning (pgscore.wired_nulls: a wired profile table holding NULLs in a feature the
    version made live by `by` takes no missing value in) written to alembic's log; never fails the migration. It
    runs on the migration's connection, which alone sees the uncommitted version, in a savepoint rolled back
    (its probes' errors and its statement_timeout, lock_timeout and search_path are left in it); where the check
    cannot run to its end, a note says why."""
    from pgscore import wired_nulls

    try:
        said = wired_nulls.warnings(conn, name, version)
    except Exception as e:  # (advice: the migration goes on; the CLI's Ctrl-C note is not here: Ctrl-C stops it)
        log.info("pgscore: %s: %s", by, wired_nulls.skipped(name, version, wired_nulls.first_line(e)))
        return
    for w in said:
        log.warning("pgscore: %s: %s", by, w)


def _say_stale_scores(conn, name, by):
    """pgscore activate's and rollback's line per wiring whose profiles hold another version's score (stale_scores:
    the version made live by `by` does not rescore them until their next event), with pgscore rescore, written to
    alembic's log (user trial hT12: a promotion said nothing, and pgscore status counted 3,000 right after); never
    fails the migration. On the migration's connection, which alone sees the go-live, in a savepoint rolled back
    (a connection in autocommit outside a transaction block: a transaction of its own, rolled back)."""
    from pgscore import stale_scores

    own = bool(getattr(conn, "autocommit", False)) and conn.info.transaction_status == 0
    try:
        with conn.cursor() as cur:
            cur.execute("BEGIN" if own else "SAVEPOINT pgscore_stale_scores_of")
            try:
                said = stale_scores.lines(name, stale_scores.counts(cur, name))
            finally:
                cur.execute("ROLLBACK" if own else "ROLLBACK TO SAVEPOINT pgscore_stale_scores_of")
                if not own:
                    cur.execute("RELEASE SAVEPOINT pgscore_stale_scores_of")
    except registry._db_errors() as e:  # (advice: the migration goes on)
        log.info("pgscore: %s: %s: the wired profiles that hold another version's score were not counted (%s); "
                 "pgscore status counts them, and %s rescores them", by, name, str(e).strip().splitlines()[0],
                 command("rescore --table EVENT_TABLE"))
        return
    for w in said:
        log.warning("pgscore: %s: %s", by, w)


def undeploy_model(name, *, revision, force=False):
    """Undo what `revision`'s deploy_model did to model `name`: make live again what was live before the
    first of the versions it stored went live (or retire the model if nothing was): a revision may store
    more than one. That version may have gone
    live with the revision, or later (activate=False, then pgscore activate). Nothing happens where it
    never went live, where a downgrade of the revision undid it already (and it is not live again), or
    where what was live before is live again; a warning where another version is live, or none, and where
    the database holds no model at all (pgscore uninstalled since, or never installed: nothing to undo). An
    unknown model among others, or a revision that stored no version of it (a misspelt name or revision),
    is an error: the migration fails, as where this server cannot load the version to make live again
    (pgscore.rollback's check), unless `force`."""
    conn = _conn(revision, "undeploy_model")
    _schema_revision(revision, "undeploy_model", name)
    why = f"alembic downgrade {revision}"
    (models,), = registry._call(conn, "SELECT pg_catalog.to_regclass('pgscore.models') IS NOT NULL", None)
    if not models or not registry._call(conn, "SELECT 1 FROM pgscore.models LIMIT 1", None):
        # pgscore uninstalled (and maybe installed again) since the upgrade: no version of any model is
        # left to undo, and the revision's own DDL must still be able to go
        log.warning("pgscore: undeploy_model of alembic revision %s: %s: nothing of model %r to undo", revision,
                    "pgscore is not installed in this database" if not models else "no model is stored in this "
                    "database (pgscore was uninstalled since the revision, say)", name)
        return
    _known(conn, name, "undeploy_model", revision, "the name deploy_model was given in the revision's upgrade(); ")
    # the name's lock before the history is read, as every change of the model takes it: a deploy, activate or
    # rollback of it in another transaction commits first, and is read (before, the rollback below waited for it
    # after the history had been read without it, and replaced it without the warning that names it)
    registry.lock_name(conn, name)
    # the versions the revision stored: made live with its reason, or (activate=False) stored with it
    # (a schema before 0029 keeps no reason with the versions: the deployments alone say)
    versions_say = bool(registry._call(conn, schema.VERSION_REASON, None))
    stored = registry._call(conn, _STORED.replace("@R", "m.reason = %s OR " if versions_say else ""),
                            ((name, _reason(revision)) if versions_say else (name,)) + (name, _reason(revision)))
    if not stored:
        promoted = registry._call(conn, _PROMOTED, (name, _reason(revision)))
        if promoted:  # the revision's promote_model: the state before it
            return _undo_promote(conn, name, revision, *promoted[0], why, force)
        retired = registry._call(conn, "SELECT deployment_id FROM pgscore.deployments WHERE model_name = %s AND "
                                       "action = 'retire' AND reason = %s ORDER BY deployment_id DESC LIMIT 1",
                                 (name, _reason(revision)))
        if retired:  # the revision's retire_model: make live again the version it retired
            return _undo_retire(conn, name, revision, retired[0][0], why, force)
        # its promote_model found the version live already, or its retire_model the model retired: nothing recorded
        for operation, already in (("promote_model", "the version it promotes was live already"),
                                   ("retire_model", "the model was retired already")):
            if _calls(revision, operation, name):
                log.info("pgscore: %s: alembic revision %s's %s changed nothing (%s, or `alembic stamp` ran past the "
                         "revision): nothing to undo", name, revision, operation, already)
                return
        raise UnknownModel(f"undeploy_model: alembic revision {revision} stored no version of model {name!r}",
                           hint="check the name and revision= in the revision's downgrade() against its upgrade() "
                                "(a promote_model or retire_model that changed nothing, its model named there "
                                "through a variable, not read: `alembic stamp` past the revision); "
                                "a version stored with activate=False before pgscore's migration 0029 records no "
                                "revision: undo it by hand (pgscore rollback) and `alembic stamp` past it")
    ids = [model_id for model_id, _ in stored]
    unshadowed = _clear_own_shadows(conn, name, revision, stored, why)  # (deploy_model(shadow=True)'s marks)
    made_live = registry._call(conn, _MADE_LIVE, (name, ids))
    if not made_live and unshadowed:
        return
    if not made_live:
        log.info("pgscore: %s of %s, stored by alembic revision %s, never went live: nothing to undo (%s stored)",
                 _versions(stored), name, revision, "it stays" if len(stored) == 1 else "they stay")
        return
    (live_id, version), = made_live  # the first of them to go live, and the one made live last
    now = registry._call(conn, _AT, (name, None))
    current = None if now[0][1] == "retire" else now[0][0]  # None: retired
    if current != version and registry._call(conn, "SELECT 1 FROM pgscore.deployments WHERE model_name = %s AND "
                                                   "deployment_id > %s AND reason = %s LIMIT 1", (name, live_id, why)):
        log.warning("pgscore: %s: alembic revision %s was undone already (a deployment with reason %r): nothing to "
                    "do", name, revision, why)
        return
    applied = _applied()
    other = _revision_of(now[0][3])
    if applied is not None and now[0][2] > live_id and other not in (None, revision) and other in applied:
        # another revision still applied (a branch of another team, say) made its own version live, or retired
        # the model, after this one: undoing this one leaves it (before: replaced, and downgrading that other
        # revision later made this undone revision's version live again)
        log.info("pgscore: %s: %s, set by alembic revision %s (still applied) after alembic revision %s, stays: "
                 "nothing to undo", name, "it is retired" if current is None else f"version {current} is live",
                 other, revision)
        return
    target = _live_before(conn, name, revision, live_id, applied)
    back = "retire it" if target is None else f"make version {target} live"
    if current == target:  # ("else" where its shadow mark ended above)
        log.info("pgscore: %s is as it was before alembic revision %s (%s): nothing %sto do", name, revision,
                 "retired" if target is None else f"version {target} live", "else " if unshadowed else "")
        return
    if current != version:
        said = "it is retired" if current is None else f"version {current} is live"
        log.warning("pgscore: %s was deployed, activated or rolled back after alembic revision %s (%s; reason: "
                    "%s); undoing the revision replaces that: it will %s, as before the revision", name, revision,
                    said, now[0][3] or "none given", back)
    _back_to(conn, name, revision, target, why, force)


def _back_to(conn, name, revision, target, why, force):
    """Make `target` live again (None: retire the name), as before `revision`, and log it."""
    if target is None:
        registry._call(conn, "SELECT pgscore.retire(%s, %s)", (name, why))
        log.info("pgscore: %s retired (no version was live before alembic revision %s)", name, revision)
        _pending(conn, f"{name} retired ({why})")
    else:
        said = _rollback(conn, name, target, why, force)
        log.info("pgscore: %s version %s is live again, as before alembic revision %s", name, target, revision)
        _pending(conn, f"{name} version {target} live again ({why})")
        said()
        _say_wired_nulls(conn, name, target, why)
        _say_stale_scores(conn, name, why)


def _live_before(conn, name, revision, deployment_id, applied):
    """The version live before deployment `deployment_id` of `revision` (None: retired, or none was): the latest
    deployment before it that is not of this revision, nor of one no longer applied (downgraded on another branch,
    or stamped away), nor a downgrade's (each says what was live before its revision as things stood then, which
    a later downgrade on another branch may have changed): the state the history would have without them.
    Operators' deployments stay. `applied`: _applied()'s (None: the deployment just before, whatever it is)."""
    before = registry._call(conn, _BEFORE if applied is not None else _AT, (name, deployment_id))
    if applied is not None:
        before = [row for row in before if not (row[3] or "").startswith("alembic downgrade ")
                  and _revision_of(row[3]) in (None, *(applied - {revision}))][:1]
    return None if not before or before[0][1] == "retire" else before[0][0]


def _rollback(conn, name, target, why, force):
    """pgscore.rollback to `target`; returns what writes to alembic's log, once the caller has said the go-live,
    what the rollback did besides: the shadow versions it stopped (the one made live again was one; pgscore
    rollback says it too) and its WARNINGs (a shadow version a wired profile table cannot feed, which the
    rollback lets through), psycopg2's and psycopg 3's alike (registry.server_notices): alembic shows no notice
    of the SQL a revision runs."""
    shadows = registry.shadow_versions(conn, name)
    with registry.server_notices(conn) as said:
        registry._call(conn, registry.forcing("SELECT pgscore.rollback(%s, %s, %s)", force), (name, target, why))
    ended = registry.shadows_ended(conn, name, shadows)

    def say():
        if ended:
            log.info("pgscore: %s: %d shadow version%s stopped: %s (a live version is not scored in shadow)", name,
                     len(ended), "" if len(ended) == 1 else "s", ", ".join(f"v{v}" for v in ended))
        for w in said:
            if w.startswith("WARNING:"):
                log.warning("pgscore: %s: %s", name, w.removeprefix("WARNING:").strip())
    return say


def _calls(revision, operation, name) -> bool:
    """Whether `revision`'s upgrade() calls `operation` (promote_model, retire_model) with the name `name` written
    out (read in the revision's file, from alembic's script directory): a promotion of a version live already, or a
    retirement of a model retired already, records nothing, and its downgrade has nothing to undo. False where the
    file cannot be read, or names the model otherwise (a variable): undeploy_model's error then stands, as for a
    misspelt name."""
    from alembic import op

    script = getattr(op.get_context(), "script", None)
    try:
        tree = ast.parse(pathlib.Path(script.get_revision(revision).path).read_text(encoding="utf-8"))
    except Exception:  # (no script directory, an unknown revision, a file gone or unreadable: not known to promote)
        return False
    for fn in tree.body:
        if not (isinstance(fn, ast.FunctionDef) and fn.name == "upgrade"):
            continue
        for call in (n for n in ast.walk(fn) if isinstance(n, ast.Call)):
            if getattr(call.func, "id", getattr(call.func, "attr", None)) != operation:
                continue
            arg = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "name"), None)
            if isinstance(arg, ast.Constant) and arg.value == name:
                return True
    return False


def _revision_of(reason):
    """The alembic revision a deployment's reason names as having made it (`alembic revision <id>`), or None."""
    prefix = "alembic revision "
    return reason[len(prefix):] if reason and reason.startswith(prefix) else None


def _ancestors(revision):
    """`revision` and the revisions alembic runs before it (its down_revisions and depends_on, theirs, ...), or None
    where the migration context has no script directory to walk."""
    return _below(lambda ctx: [revision], lambda r: r._all_down_revisions)


def _applied():
    """The revisions alembic holds applied now (ancestors of the heads in its version table, the revision being
    downgraded included), or None where the migration context has no script directory to walk."""
    return _below(lambda ctx: ctx.get_current_heads(), lambda r: (
        r.down_revision if isinstance(r.down_revision, (tuple, list)) else [r.down_revision] if r.down_revision
        else []))


def _below(starts, down):
    """The revisions `starts(ctx)` names and those below them in alembic's script directory, following `down(rev)`
    (a Revision's revisions below it); None where the migration context has no script directory to walk."""
    from alembic import op

    ctx = op.get_context()
    script = getattr(ctx, "script", None)
    if script is None:
        return None
    seen, todo = set(), list(starts(ctx))
    while todo:
        rev = todo.pop()
        if rev in seen:
            continue
        seen.add(rev)
        todo.extend(down(script.get_revision(rev)))
    return seen


def retire_model(name, *, revision):
    """Leave model `name` with no live version, in the revision's transaction (pgscore.retire, with the
    reason `alembic revision <id>`); undeploy_model(name, revision=revision) in downgrade() makes live again
    the version it retired. A model retired already is left as it is (a warning): the revision records
    nothing, and its downgrade has nothing to undo (undeploy_model reads the revision's retire_model of the name)."""
    conn = _conn(revision, "retire_model")
    _schema_revision(revision, "retire_model", name)
    _known(conn, name, "retire_model", revision)
    registry.lock_name(conn, name)  # (as undeploy_model: the history read once a change in progress committed)
    now = registry._call(conn, _AT, (name, None))
    if now and now[0][1] == "retire":
        log.warning("pgscore: retire_model of alembic revision %s: %s has no live version already (reason: %s): "
                    "nothing changed", revision, name, now[0][3] or "none given")
        return
    registry._call(conn, "SELECT pgscore.retire(%s, %s)", (name, _reason(revision)))
    log.info("pgscore: %s retired by alembic revision %s (version %s was live)", name, revision,
             now[0][0] if now else None)
    _pending(conn, f"{name} retired (alembic revision {revision})")


def _undo_retire(conn, name, revision, retire_id, why, force=False):
    """undeploy_model of a revision whose retire_model appended deployment `retire_id`: make the version it
    retired live again; nothing where a downgrade undid it already or that version is live; a warning where
    another version has gone live since."""
    if registry._call(conn, "SELECT 1 FROM pgscore.deployments WHERE model_name = %s AND deployment_id > %s AND "
                            "reason = %s LIMIT 1", (name, retire_id, why)):
        log.warning("pgscore: %s: alembic revision %s was undone already (a deployment with reason %r): nothing to "
                    "do", name, revision, why)
        return
    (target, *_), = registry._call(conn, "SELECT m.version FROM pgscore.deployments d JOIN pgscore.models m ON "
                                         "m.model_id = d.model_id WHERE d.deployment_id = %s", (retire_id,))
    now = registry._call(conn, _AT, (name, None))
    current = None if now[0][1] == "retire" else now[0][0]
    if current == target:
        log.info("pgscore: %s is as it was before alembic revision %s (version %s live): nothing to do", name,
                 revision, target)
        return
    said = "it is retired" if current is None else f"version {current} is live"
    applied, other = _applied(), _revision_of(now[0][3])
    if applied is not None and now[0][2] > retire_id and other not in (None, revision) and other in applied:
        # as undeploy_model's: another revision still applied (another team's branch) deployed, activated or
        # retired the model after this one's retire: that stays
        log.info("pgscore: %s: %s, set by alembic revision %s (still applied) after alembic revision %s, stays: "
                 "nothing to undo", name, said, other, revision)
        return
    if now[0][2] != retire_id:
        log.warning("pgscore: %s was deployed, activated, rolled back or retired after alembic revision %s (%s; "
                    "reason: %s); undoing the revision replaces that: it will make version %s live, as before the "
                    "revision", name, revision, said, now[0][3] or "none given", target)
    said = _rollback(conn, name, target, why, force)
    log.info("pgscore: %s version %s is live again, as before alembic revision %s (which retired it)", name, target,
             revision)
    _pending(conn, f"{name} version {target} live again ({why})")
    said()
    _say_wired_nulls(conn, name, target, why)


# the versions a revision stored (reason $2), one or more: made live with that reason, or stored with it
# (models.reason, migration 0029); of its newest upgrade only (an upgrade, downgrade and upgrade again stores
# new versions each time): those stored in its transaction, whose created_at (now()) is the same
_STORED = ("WITH s AS (SELECT m.model_id, m.version, m.created_at FROM pgscore.models m WHERE m.name = %s AND "
           "(@Rm.model_id IN (SELECT d.model_id FROM pgscore.deployments d WHERE d.model_name = %s "
           "AND d.reason = %s AND d.action = 'deploy'))) "
           "SELECT s.model_id, s.version FROM s WHERE s.created_at = (SELECT max(s.created_at) FROM s) "
           "ORDER BY s.version")
# the deployment that first made one of those versions live (the revision's own, or a later activation), and
# the version of them made live last
_MADE_LIVE = ("SELECT min(d.deployment_id), (pg_catalog.array_agg(m.version ORDER BY d.deployment_id DESC))[1] "
              "FROM pgscore.deployments d JOIN pgscore.models m ON m.model_id = d.model_id "
              "WHERE d.model_name = %s AND d.model_id = ANY (%s) "
              "AND d.action IN ('deploy', 'activate', 'rollback') HAVING min(d.deployment_id) IS NOT NULL")
# the newest activation with the reason $2 (promote_model's, of a version another revision stored): its id, the
# version and its model_id. (A schema before 0121 wrote an activation as a 'deploy', which _STORED finds: there
# undeploy_model undoes a promotion as a deploy, the version live before live again, its shadow mark not restored.)
_PROMOTED = ("SELECT d.deployment_id, m.version, m.model_id FROM pgscore.deployments d JOIN pgscore.models m "
             "ON m.model_id = d.model_id WHERE d.model_name = %s AND d.reason = %s AND d.action = 'activate' "
             "ORDER BY d.deployment_id DESC LIMIT 1")
# whether the promotion (deployment $3) of version $1 belongs to an earlier upgrade of the revision that stored it
# (models.reason, migration 0029): a downgrade of that revision made another version live (or retired the name)
# after the promotion, or that revision stored a newer version of the name since
_STALE_PROMOTION = (
    "WITH r AS (SELECT m.reason FROM pgscore.models m WHERE m.model_id = %s AND m.reason LIKE 'alembic revision %%') "
    "SELECT 1 FROM r WHERE EXISTS (SELECT 1 FROM pgscore.deployments d WHERE d.model_name = %s "
    "AND d.deployment_id > %s AND d.reason = 'alembic downgrade ' || substr(r.reason, 18)) "
    "OR EXISTS (SELECT 1 FROM pgscore.models n WHERE n.name = %s AND n.model_id > %s AND n.reason = r.reason)")
# the deployments before deployment $2, newest first: version, action, id, reason
_BEFORE = ("SELECT m.version, d.action, d.deployment_id, d.reason FROM pgscore.deployments d JOIN pgscore.models m "
           "ON m.model_id = d.model_id WHERE d.model_name = %s AND d.deployment_id < %s ORDER BY d.deployment_id DESC")
# the deployment before deployment $2 (NULL: the newest): version, action, id, reason
_AT = ("SELECT m.version, d.action, d.deployment_id, d.reason FROM pgscore.deployments d JOIN pgscore.models m "
       "ON m.model_id = d.model_id WHERE d.model_name = %s AND d.deployment_id < coalesce(%s, 'infinity'::float8) "
       "ORDER BY d.deployment_id DESC LIMIT 1")


def include_name(name, type_, parent_names) -> bool:
    """For alembic's autogenerate (context.configure(include_name=include_name)): leave out pgscore's
    schema and its version table, which are not your application's to drop."""
    if type_ == "schema":
        return name != "pgscore"
    if type_ == "table":
        return not (name == "pgscore_alembic_version" and parent_names.get("schema_name") in (None, "public"))
    return True


def _versions(stored) -> str:
    return ("version " if len(stored) == 1 else "versions ") + ", ".join(str(v) for _, v in stored)


def _reason(revision):
    return f"alembic revision {revision}"
