"""`pgscore demo`: the product end to end on the embedded database."""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

from pgscore.errors import PgscoreError, UsageError, command


def run(args, cluster, say=print) -> int:
    from pgscore import migrate

    report_path = _report_path(args, cluster)
    say("== 1. embedded PostgreSQL")
    cluster.start()
    url = cluster.url()
    say(f"database: {url}")

    _check_demo_tables(url)  # before anything changes (the schema too: "nothing was changed" must hold)
    say("== 2. schema")
    before = migrate.current(url)
    report = migrate.upgrade(url)
    after = migrate.current(url)
    # (a run again on the same cluster: "0090 -> 0090" read as a change)
    say(f"pgscore schema revision {before or 'none'} -> {after}" if before != after else
        f"pgscore schema is up to date (revision {after})")
    env = json.loads(report) if isinstance(report, str) else report
    say("inside the database: " + ", ".join(
        f"{k.replace('_', '-')} {env.get(k)}" for k in ("python", "pgscore", "scikit_learn", "numpy", "joblib")))

    say("== 3. train and deploy a churn model")
    import psycopg2
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from pgscore import datasets, registry

    X, y, names = datasets.churn(5000, seed=0)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)
    rec = registry.deploy(url, "churn", model, X, y, feature_names=names, description="demo churn model",
                          reason="pgscore demo")
    m = rec["metrics"]
    say(f"deployed churn version {rec['version']} (sha256 {rec['sha256'][:12]}..., "
        f"{'signed' if rec['signed'] else 'unsigned'}): hold-out AUC {m['auc']:.3f}, accuracy {m['accuracy']:.3f} "
        f"on {m['holdout_rows']} rows; baseline of {len(names)} features and the score captured")

    say("== 4. score in SQL")
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        for i in range(3):
            cur.execute("SELECT pgscore.score('churn', %s), pgscore.predict('churn', %s)",
                        (X[i].tolist(), X[i].tolist()))
            s, label = cur.fetchone()
            want = model.predict_proba(X[i:i + 1])[0, 1]
            # (numbered as public.customers will hold these rows, from id 1: section 5 shows customer 3 again)
            say(f"customer {i + 1}: SELECT pgscore.score('churn', ARRAY[...]) = {s:.6f} "
                f"(scikit-learn in Python: {want:.6f}), predicted label {label}")
    conn.close()

    say("== 5. rescore customers when complaints arrive")
    _rescoring(url, X, say)

    say("== 6. watch drift and realised performance")
    _monitoring(url, y, report_path, say, cluster.data_dir)

    say("== done")
    say(f"connect with: psql '{url}'")
    reach = reach_line(args, cluster)
    if reach:
        say(reach)
    say("stop the database with: " + command("db stop", cluster.data_dir))
    return 0


def reach_line(args, cluster) -> str | None:
    """How the other commands reach the demo's cluster where they would find another database: a --data-dir
    (they would use the default cluster), or the default cluster with libpq's PGHOST... set and no
    PGSCORE_DATA_DIR (they come before it); None where they find it as they are."""
    from pgscore.migrate import server_variables

    export = "with: export PGSCORE_DATA_DIR=" + shlex.quote(str(cluster.data_dir.absolute()))
    if args.data_dir:  # without it, commands would use the default cluster, not this one
        return f"point the other commands at it (the db commands too) {export}"
    if not os.environ.get("PGSCORE_DATA_DIR") and server_variables():
        return (f"point the other commands at it (the db commands too; {', '.join(server_variables())} set, they "
                f"would use the database libpq's variables name) {export}")
    return None


def _report_path(args, cluster) -> Path:
    """Where the drift report goes: --report, else the cluster's own data directory (checked before the
    demo starts, so that a typo does not fail it at the end)."""
    default = cluster.data_dir.absolute() / "drift-report.html"
    path = Path(args.report).expanduser().absolute() if getattr(args, "report", None) else default
    if path == default:
        return default
    data = cluster.data_dir.absolute()
    if path == data or data in path.parents:  # a usage mistake, whoever may write there (exit 2, as argparse's)
        raise UsageError(f"--report {args.report}: is in the cluster's data directory, PostgreSQL's own (leave out "
                         "--report to write drift-report.html there)")
    # a path that cannot be written is a usage mistake too, found before anything starts: exit 2 and one line
    # (it was exit 1, a failure of the command, and a Hint: line)
    try:
        why = _unwritable(path)
    except OSError as e:  # a directory on the way you may not search (Python 3.11's is_dir raises, not False)
        why = f"cannot reach it: {e.strerror}"
    if why is None:
        return path
    raise UsageError(f"--report {args.report}: {why} (name a file in a directory you may write)")


def _unwritable(path: Path) -> str | None:
    """Why the demo cannot write its report at path, or None."""
    if path.is_dir():
        return "is a directory"
    if path.exists():  # rewritten in place: its directory need not be writable
        return None if os.access(path, os.W_OK) else "is a file you may not write"
    if not path.parent.is_dir():
        return f"there is no directory {path.parent}"
    if not os.access(path.parent, os.W_OK):
        return f"cannot write into {path.parent}"
    return None


DEMO_TABLES = ("public.customers", "public.complaints")
MARK = "made by pgscore demo (each run drops and makes it again)"


def _check_demo_tables(url):
    """The demo makes public.customers and public.complaints again at each run: it refuses to drop tables of
    those names that an earlier demo did not make (their comment says which did)."""
    import psycopg2

    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT t.name, pg_catalog.obj_description(pg_catalog.to_regclass(t.name), 'pg_class') "
                    "FROM pg_catalog.unnest(%s::text[]) AS t(name) WHERE pg_catalog.to_regclass(t.name) IS NOT NULL",
                    (list(DEMO_TABLES),))
        theirs = [name for name, comment in cur.fetchall() if comment != MARK]
    conn.close()
    if theirs:
        raise PgscoreError(f"the demo makes {' and '.join(DEMO_TABLES)} and would drop {', '.join(theirs)}, which "
                           "no earlier demo marked as its own; nothing was changed",
                           hint="run the demo on a cluster of its own: pgscore demo --data-dir DIR --port N (tables a "
                                "demo made before it marked them, you may drop yourself)")


def _rescoring(url, X, say):
    """Wire complaints to customers, insert a few complaints, show scores before and after and the audit."""
    import psycopg2
    from psycopg2 import sql

    from pgscore import sample

    conn = psycopg2.connect(url)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("DROP TABLE IF EXISTS public.complaints, public.customers")  # an earlier demo's (_check_demo_tables)
    sample.create_tables(cur)
    for name in DEMO_TABLES:
        cur.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(sql.Identifier(*name.split(".")), sql.Literal(MARK)))
    sample.load_customers(cur, X[:1000])
    n_events = sample.load_complaints(cur)  # (the events the loaded complaints_30d counts: refresh_windows finds it exact)
    rid = sample.rescore_complaints(cur)
    say(f"public.customers (1,000 profiles) and public.complaints ({n_events} complaints of the last 28 days, which "
        "each customer's complaints_30d and last_complaint_at count) created; SELECT pgscore.attach_rescoring("
        f"'complaints', 'customers', 'customer_id', 'churn', 'churn_score', '{json.dumps(sample.COUNTERS)}', "
        "p_profile_key => 'id')")
    ids = [3, 14, 15]
    feats = sql.SQL(", ").join(map(sql.Identifier, sample.CHURN_FEATURES))
    cur.execute(sql.SQL("UPDATE customers SET churn_score = pgscore.score('churn', ARRAY[{}]), scored_at = now() "
                        "WHERE id = ANY(%s)").format(feats), (ids,))
    show = ("SELECT id, support_calls, complaints_30d, round(churn_score::numeric, 4) FROM customers "
            "WHERE id = ANY(%s) ORDER BY id")
    cur.execute(show, (ids,))
    before = {r[0]: r[1:] for r in cur.fetchall()}
    cur.execute("INSERT INTO complaints (customer_id, kind) VALUES (3, 'billing'), (3, 'network'), (3, 'billing'), "
                "(14, 'billing'), (15, 'outage'), (15, 'outage')")
    say("INSERT INTO complaints (customer_id, kind) VALUES (3, 'billing'), (3, 'network'), (3, 'billing'), "
        "(14, 'billing'), (15, 'outage'), (15, 'outage')")
    cur.execute(show, (ids,))
    say(f"{'id':>8}  {'support_calls':>13}  {'complaints_30d':>14}  {'churn score before':>18}  {'after':>8}")
    for cid, calls, c30, score in cur.fetchall():
        b = before[cid]
        say(f"{cid:>8}  {b[0]:>5.0f} -> {calls:<5.0f}  {b[1]:>6.0f} -> {c30:<6.0f}  {b[2]:>18}  {score:>8}")
    say("(support_calls counts up by one an event; complaints_30d is recounted from the complaints table over the "
        "last 30 days: the customer's earlier complaints and these)")
    cur.execute("SELECT entity_key, round(score::numeric, 4), cause->>'event_table', cause->'event_ids' "
                "FROM pgscore.prediction_log WHERE source = 'trigger' AND (cause->>'rescoring_id')::bigint = %s "
                "ORDER BY entity_key::int", (rid,))  # this run's: an earlier run's wiring had another id
    say("the audit rows that explain the change (pgscore.prediction_log, source 'trigger'):")
    for key, score, table, events in cur.fetchall():
        say(f"  customer {key}: score {score}, caused by {table} events {events}")
    conn.close()


def _versions(versions) -> str:
    """'version 2', 'versions 2 and 3', 'versions 2, 3 and 4'."""
    v = [str(x) for x in versions]
    return f"version {v[0]}" if len(v) == 1 else f"versions {', '.join(v[:-1])} and {v[-1]}"


def _monitoring(url, y, report_path, say, data_dir):
    """Score the customers, then a price rise on purpose; record outcomes; show drift, alerts, the report."""
    import psycopg2
    from psycopg2 import sql

    from pgscore import sample

    conn = psycopg2.connect(url)
    conn.autocommit = True
    cur = conn.cursor()
    feats = sql.SQL(", ").join(map(sql.Identifier, sample.CHURN_FEATURES))
    score_ids = sql.SQL("SELECT count(pgscore.score('churn', ARRAY[{}], p_key => id::text)) FROM customers "
                        "WHERE id BETWEEN %s AND %s").format(feats)
    cur.execute(score_ids, (1, 600))
    say("scored customers 1-600 as they are: SELECT pgscore.score('churn', ARRAY[...], p_key => id::text) FROM customers")
    cur.execute("UPDATE customers SET monthly_charges = monthly_charges + 35 WHERE id > 600")
    cur.execute(score_ids, (601, 1000))
    say("a price rise on purpose: monthly_charges + 35 for customers 601-1000, then scored them too")
    cur.execute("SELECT count(pgscore.record_outcome('churn', id::text, churned)) "
                "FROM unnest(%s::int[], %s::int[]) o(id, churned)",
                (list(range(1, 1001)), [int(v) for v in y[:1000]]))
    say("recorded 1,000 outcomes: SELECT pgscore.record_outcome('churn', id::text, churned) FROM ...")
    cur.execute("SELECT rollup_rows, firing FROM pgscore.refresh_monitoring()")
    rows, firing = cur.fetchone()
    say(f"SELECT * FROM pgscore.refresh_monitoring(): {rows} rollup rows, {firing} conditions firing "
        "(a metric of a feature, the score or the performance at warn or alert in a window; every window counts)")
    # the count is every model's and version's, in every window (pgscore.alert_state); what follows lists churn's
    # live version's of the last hour: the parts, so that the two agree
    cur.execute("""SELECT count(*) FILTER (WHERE a.model = 'churn' AND a.version = l.version),
                          count(*) FILTER (WHERE a.model = 'churn' AND a.version = l.version
                                             AND a.window_name = '1 hour'),
                          count(*) FILTER (WHERE a.model = 'churn' AND a.version <> l.version),
                          array_agg(DISTINCT a.version ORDER BY a.version)
                              FILTER (WHERE a.model = 'churn' AND a.version <> l.version),
                          count(*) FILTER (WHERE a.model <> 'churn')
                     FROM pgscore.alert_state a
                    CROSS JOIN (SELECT version FROM pgscore.live_models WHERE name = 'churn') l""")
    # (refresh_monitoring watches the live versions and the shadows: churn's others are its shadows' conditions,
    # which the line counts; it said 'N of churn's versions scored in shadow', as if N counted versions)
    live, hour, shadow, shadow_versions, other = cur.fetchone()
    say(f"  of them {live} churn's live version's ({hour} in the last hour, listed below)"
        + (f", {shadow} churn's shadow {_versions(shadow_versions)}'s" if shadow else "")
        + (f", {other} of other models" if other else ""))
    cur.execute("SELECT feature, n, round(psi::numeric, 3), round(ks::numeric, 3), round(mean_shift::numeric, 2), "
                "status FROM pgscore.feature_drift WHERE model = 'churn' AND window_name = '1 hour' "
                "AND status <> 'ok' UNION ALL SELECT 'score', n, round(psi::numeric, 3), round(ks::numeric, 3), "
                "round(mean_shift::numeric, 2), status FROM pgscore.score_drift WHERE model = 'churn' "
                "AND window_name = '1 hour'")
    say("pgscore.feature_drift and pgscore.score_drift, last hour (features not ok, and the score):")
    say(f"  {'feature':<22} {'n':>6} {'psi':>7} {'ks':>7} {'shift':>7}  status")
    for feature, n, psi, ks, shift, status in cur.fetchall():
        say(f"  {feature:<22} {n:>6} {psi!s:>7} {ks!s:>7} {shift!s:>7}  {status}")
    cur.execute("SELECT n, round(auc::numeric, 3), round(deploy_auc::numeric, 3), round(accuracy::numeric, 3), "
                "round(brier::numeric, 3), status FROM pgscore.realised_performance "
                "WHERE model = 'churn' AND window_name = '1 hour'")
    n, auc, deploy_auc, acc, brier, status = cur.fetchone()
    say(f"pgscore.realised_performance, last hour: {n} outcomes, AUC {auc} (at deploy {deploy_auc}), "
        f"accuracy {acc}, Brier {brier}: {status}")
    cur.execute("SELECT level, what, subject, metric, round(value::numeric, 3), threshold FROM pgscore.alerts "
                "WHERE model = 'churn' AND window_name = '1 hour' AND NOT shadow "
                "ORDER BY level = 'alert' DESC, subject, metric")
    alerts = cur.fetchall()
    say(f"pgscore.alerts of churn, last hour ({len(alerts)}):")
    for level, what, subject, metric, value, threshold in alerts:
        say(f"  {level:<5} {what:<8} {subject:<22} {metric:<12} {value!s:>8} >= {threshold}")
    # a version of churn set as a shadow before this run (pgscore shadow, as the guide leaves it) goes on being
    # one: its conditions are its own, against its own baseline, and were listed here unlabelled
    cur.execute("SELECT count(*), array_agg(DISTINCT version ORDER BY version) FROM pgscore.alerts "
                "WHERE model = 'churn' AND window_name = '1 hour' AND shadow")
    shadows, shadow_versions = cur.fetchone()
    if shadows:
        say(f"  and {shadows} of churn's shadow {_versions(shadow_versions)}, not listed "
            "(SELECT * FROM pgscore.alerts WHERE shadow)")
    conn.close()

    from pgscore import report

    conn = psycopg2.connect(url)
    try:
        windows = report.check_args(conn, "churn", "1 hour")
        # (refreshed again, as pgscore drift does: the report says up to when its rollups go)
        data = report.collect(conn, "churn", "1 hour", windows, refreshed=report.refresh(conn), charts=True)
    finally:
        conn.close()
    try:
        report_path.write_text(report.render_html(data), encoding="utf-8")
    except OSError as e:
        raise PgscoreError(f"cannot write the drift report to {report_path}: {e.strerror}",
                           hint="the database is running; stop it with: " + command("db stop", data_dir)) from e
    html = command("drift churn --window '1 hour' --html FILE")
    say(f"wrote the drift report with charts to {report_path}")
    say(f"  (another any time, to a FILE of yours: {html})")
    say(f"pgscore drift exits {report.exit_code(data)} here (1: an alert fires), so cron or CI can act on it")
    _say_health(url, say)


def _say_health(url, say):
    """What `pgscore health` finds here, and why: the demo's price rise fires alerts on purpose, so a new user's
    first `pgscore health` exits 1 (session 68's trial T25: it did, and the demo had not said so)."""
    import psycopg2

    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT check_name, state FROM pgscore.health() WHERE state <> 'ok'")
            bad = cur.fetchall()
    finally:
        conn.close()
    if not bad:
        say(f"{command('health')} exits 0 here: every check is ok")
    elif [c for c, _ in bad] == ["alerts"]:
        say(f"{command('health')} exits 1 here too, on purpose: its alerts check fails on the price rise above, every "
            "other check is ok; a known incident is silenced while it is looked into, and health then passes "
            f"({command('silence churn --for 1h --reason price-rise')}; drift and status still list it). Its "
            "monitoring_refresh check warns 10 minutes after the last SELECT FROM pgscore.refresh_monitoring(): "
            "schedule it every 5 minutes (docs/operations.md, Scheduling with pg_cron)")
    else:
        say(f"{command('health')} exits 1 here: " + ", ".join(f"{c} {s}" for c, s in bad)
            + f" ({command('health')} says what each found and what to do)")
