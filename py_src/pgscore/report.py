"""`pgscore drift`: the drift and performance views read into one snapshot, printed as text tables
or written as a self-contained HTML report with charts.

Everything is computed by PostgreSQL (pgscore.feature_drift, score_drift, drift_by_day,
realised_performance, performance_by_day, calibration, alerts); this module only reads the views
in one REPEATABLE READ transaction, so every table and chart describes the same moment, and lays
them out. The histograms of the report are the window's counts per baseline bin from
pgscore.drift_counts(), the function the views count with.
"""

from __future__ import annotations

import base64
import html
import io
import math
import shlex
import textwrap
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from pgscore.errors import PgscoreError, UnknownModel, command, typo_hint

# the short form of each status in the per-window columns of the feature table
STATUS_CODE = {"ok": "ok", "warn": "warn", "alert": "alert", "insufficient_data": "few", "no_data": "-",
               "not_applicable": "n/a", "no_baseline": "nobl", None: "?"}
STATUS_LEGEND = "few = insufficient data, - = no predictions, n/a = not applicable, nobl = no baseline"


class UnknownWindow(PgscoreError):
    """--window names no row of pgscore.drift_windows."""

    sqlstate = "22023"  # invalid_parameter_value


DEFAULT_WINDOW = "1 day"  # what `pgscore drift` shows without --window (and then counts every window's alerts)


@dataclass
class Window:
    name: str
    length: timedelta | None
    short: str = ""


@dataclass
class ModelData:
    name: str
    version: int
    task: str
    model_id: int | None
    feature_names: list[str]
    score: list[dict] = field(default_factory=list)          # score_drift, one row per window
    features: dict = field(default_factory=dict)             # feature -> {window: feature_drift row}
    no_baseline: dict | None = None                          # the feature_drift row when there is no baseline
    performance: list[dict] = field(default_factory=list)    # realised_performance, one row per window
    alerts: list[dict] = field(default_factory=list)
    # for the HTML report only
    histograms: list[dict] = field(default_factory=list)     # per feature and the score: baseline vs window
    score_by_day: list[dict] = field(default_factory=list)
    performance_by_day: list[dict] = field(default_factory=list)
    calibration: list[dict] = field(default_factory=list)
    # the checks that reached a threshold but not their noise floor (so ok), in the windows: pgscore.check_rows
    held: list[dict] = field(default_factory=list)
    # the model's own thresholds (pgscore.drift_threshold_overrides, migration 0129), which its checks are judged by
    overrides: list[dict] = field(default_factory=list)
    # what each metric is judged by, (metric, subject) -> pgscore.effective_thresholds' row (0133): the model's
    # (subject None), the score's and each subject with an override of its own; another subject's is the model's
    effective: dict = field(default_factory=dict)

    @property
    def title(self) -> str:
        return f"{self.name} v{self.version} ({self.task})"


@dataclass
class DriftData:
    window: str
    windows: list[Window]
    now: datetime
    refreshed: dict | None
    models: list[ModelData]
    thresholds: dict
    # the window the result line and the exit code count (`pgscore drift --window W`); None: every window
    only: str | None = None
    # `pgscore drift --alerting`: the text's sections of the models at warn or alert alone (the summary keeps all)
    alerting: bool = False

    @property
    def alerts(self) -> list[dict]:
        return [dict(a, model=m.name) for m in self.models for a in m.alerts]

    @property
    def counted(self) -> list[dict]:
        """The alerts the result and the exit code count: those in `only`, or all of them, but for the ones a
        silence in force mutes (pgscore.alerts.silence_id; migration 0126)."""
        return [a for a in self.in_windows if a.get("silence_id") is None]

    @property
    def in_windows(self) -> list[dict]:
        """The alerts in the windows counted (`only`, or every window), silenced or not."""
        return [a for a in self.alerts if self.only is None or a["window_name"] == self.only]

    @property
    def n_silenced(self) -> int:
        """The conditions (a what, subject and metric at a level) of the windows counted that fire silenced alone:
        the result and the exit code do not count them (one still firing unsilenced in a counted window counts)."""
        keys = lambda rows: {(a["model"], a["what"], a["subject"], a["metric"], a["level"]) for a in rows}  # noqa: E731
        return len(keys(a for a in self.in_windows if a.get("silence_id") is not None) - keys(self.counted))

    @property
    def n_alert(self) -> int:
        """The conditions at alert the result counts: a what, subject and metric at a level, however many windows
        it fires in (one line of the alerts table; as `pgscore status` counts them), not a row per window."""
        return len(conditions(self.counted, "alert"))

    @property
    def n_warn(self) -> int:
        return len(conditions(self.counted, "warn"))

    def summary(self) -> list[dict]:
        """Per model, as the result line counts them (the windows counted; a condition silenced in every counted
        window it fires in apart): its worst level (alert, warn, ok) and its conditions at alert, at warn and
        silenced; worst first, then by name (hT11 of session 62: a dozen models' text had its verdict at the end)."""
        keys = lambda rows: {(a["what"], a["subject"], a["metric"], a["level"]) for a in rows}  # noqa: E731
        rows = []
        for m in self.models:
            counted = [a for a in self.counted if a["model"] == m.name]
            muted = [a for a in self.in_windows if a["model"] == m.name and a.get("silence_id") is not None]
            n_alert, n_warn = len(conditions(counted, "alert")), len(conditions(counted, "warn"))
            rows.append({"model": m.name, "worst": "alert" if n_alert else "warn" if n_warn else "ok",
                         "alert": n_alert, "warn": n_warn, "silenced": len(keys(muted) - keys(counted))})
        rank = {"alert": 0, "warn": 1, "ok": 2}
        return sorted(rows, key=lambda r: (rank[r["worst"]], r["model"]))

    @property
    def unwatched(self) -> list[str]:
        """The models deployed without a baseline: no drift of theirs can warn or alert."""
        return [m.name for m in self.models if m.no_baseline is not None]


# -- reading -----------------------------------------------------------------------------------------

def _rows(cur, sql, params=None) -> list[dict]:
    cur.execute(sql, params)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def _rows_t(cur, sql, params=None) -> list[tuple]:
    cur.execute(sql, params)
    return cur.fetchall()


def _short_names(windows: list[Window]) -> None:
    """'1h', '12h', '1d', '7d', 'all' from the windows' lengths; their names when that is ambiguous."""
    def short(w):
        if w.length is None:
            return "all"
        s = int(w.length.total_seconds())
        for unit, secs in (("d", 86400), ("h", 3600), ("m", 60)):
            if s and s % secs == 0:
                return f"{s // secs}{unit}"
        return f"{s}s"

    shorts = [short(w) for w in windows]
    for w, s in zip(windows, shorts):  # where two windows share a short form, those two go by their names
        w.short = s if shorts.count(s) == 1 else w.name


def check_args(conn, name: str | None, window: str) -> list[Window]:
    """The configured windows; UnknownModel / UnknownWindow for a name or window that is not there."""
    with conn, conn.cursor() as cur:
        # (the length in seconds: psycopg2 reads an interval only as IntervalStyle 'postgres' prints it, and
        # a database or role may set 'postgres_verbose', 'sql_standard' or 'iso_8601')
        windows = [Window(n, None if s is None else timedelta(seconds=s)) for n, s in _rows_t(
            cur, "SELECT window_name, pg_catalog.date_part('epoch', length) FROM pgscore.drift_windows "
                 "ORDER BY sort_order, window_name")]
        if window not in [w.name for w in windows]:
            raise UnknownWindow(f"there is no drift window {window!r}",
                                detail="windows: " + ", ".join(repr(w.name) for w in windows),
                                hint="add one with: INSERT INTO pgscore.drift_windows (window_name, length, "
                                     "sort_order) VALUES (...)")
        if name is not None:
            cur.execute("SELECT bool_or(live) FROM pgscore.model_versions WHERE name = %s", (name,))
            live, = cur.fetchone()
            if live is None:
                cur.execute("SELECT string_agg(DISTINCT name, ', ' ORDER BY name) FROM pgscore.model_versions "
                            "WHERE live")
                names, = cur.fetchone()
                cur.execute("SELECT DISTINCT name FROM pgscore.model_versions")
                raise UnknownModel(f"there is no model {name!r}",
                                   detail=f"live models: {names}" if names else "no model is live",
                                   hint=typo_hint(name, [n for n, in cur.fetchall()]))
            if not live:
                # retired, or never made live (every version deployed with --no-activate): said so (before, "it
                # was retired" of a model never live too)
                # (a role granted pgscore_reader, which runs --no-refresh since 0136, does not see the deployments:
                # not told which, rather than 42501 and exit 3)
                # (the privilege is checked for the whole statement, whatever a CASE in it picks: asked apart)
                cur.execute("SELECT pg_catalog.has_table_privilege('pgscore.deployments', 'SELECT')")
                (sees,), went_live = cur.fetchone(), None
                if sees:
                    cur.execute("SELECT EXISTS (SELECT 1 FROM pgscore.deployments d WHERE d.model_name = %s)",
                                (name,))
                    went_live, = cur.fetchone()
                raise UnknownModel(f"model {name!r} has no live version " + (
                    "(retired, or none was made live yet)" if went_live is None else
                    "(it was retired)" if went_live else "(none was made live yet: deployed with --no-activate)"),
                    hint="make a version live with: " + command(f"activate {shlex.quote(name)} VERSION"))
    _short_names(windows)
    return windows


def refresh(conn) -> dict:
    """pgscore.refresh_monitoring(), committed: rollups up to the current 5 minutes, and since-when of each alert."""
    import psycopg2

    try:
        with conn, conn.cursor() as cur:
            return _rows(cur, "SELECT * FROM pgscore.refresh_monitoring()")[0]
    except psycopg2.errors.InsufficientPrivilege as e:
        # (the caller names the role: pgscore_admin, which --no-refresh --html needs too, for the baselines; the
        # driver's error as the cause, so that the message carries the database's SQLSTATE as --no-refresh's does)
        raise PgscoreError(f"cannot refresh the monitoring rollups: {e.diag.message_primary}", sqlstate="42501") \
            from e


def collect(conn, name: str | list[str] | None, window: str, windows: list[Window], *, refreshed: dict | None = None,
            charts: bool = False) -> DriftData:
    """Read the views for the live models (or just `name`, or the names of a list) in one REPEATABLE READ, read-only snapshot.

    With charts=True, also what the HTML report draws: per-bin counts, drift by day, performance by
    day and calibration.
    """
    import psycopg2.extensions as ext

    conn.set_session(isolation_level=ext.ISOLATION_LEVEL_REPEATABLE_READ, readonly=True)
    try:
        with conn, conn.cursor() as cur:
            return _collect(cur, name, window, windows, refreshed, charts)
    finally:
        conn.set_session(isolation_level=ext.ISOLATION_LEVEL_DEFAULT, readonly=False)


def _collect(cur, name, window, windows, refreshed, charts) -> DriftData:
    order = {w.name: i for i, w in enumerate(windows)}
    (now,), = _rows_t(cur, "SELECT now()")
    thresholds = {r["metric"]: r for r in _rows(cur, "SELECT metric, warn, alert, min_n, confidence "
                                                     "FROM pgscore.drift_thresholds")}
    names = [name] if isinstance(name, str) else list(name) if name else None  # (pgscore drift A B: several)
    models = [ModelData(**r) for r in _rows(cur, """
        SELECT name, version, task, model_id, feature_names FROM pgscore.model_versions
         WHERE live AND (%(names)s::text[] IS NULL OR name = ANY(%(names)s)) ORDER BY name""", {"names": names})]
    by_name = {m.name: m for m in models}
    if not models:
        return DriftData(window, windows, now, refreshed, [], thresholds)
    names = list(by_name)

    # score_drift, feature_drift and drift_by_day are views of one pgscore.drift_report, each of which
    # runs pgscore.drift_stats() (every window and day of every live model): read once, not three times, from
    # drift_rows_of (drift_report's rows with their checks) for these models alone and, without the charts, the
    # windows alone (0136: through the view drift_rows, one model's drift computed every live model's, each day
    # too), with what the noise floors held back in the windows
    drift = _rows(cur, "SELECT r.*, CASE WHEN r.period_kind = 'window' THEN " + HELD_SQL + " END AS held "
                       "FROM pgscore.drift_rows_of(%s, %s) r "
                       "ORDER BY model, kind, position, sort_order, period", (names, None if charts else "window"))
    windows_rows = [{**r, "window_name": r["period"]} for r in drift if r["period_kind"] == "window"]
    for r in sorted((r for r in windows_rows if r["kind"] == "score"), key=lambda r: order.get(r["window_name"], 99)):
        by_name[r["model"]].score.append(r)
    for r in (r for r in windows_rows if r["kind"] == "feature"):
        m = by_name[r["model"]]
        if r["status"] == "no_baseline" and r["feature"] is None:
            if m.no_baseline is None or r["window_name"] == window:
                m.no_baseline = r
            continue
        m.features.setdefault(r["feature"], {})[r["window_name"]] = r
    for m in models:  # features in the model's order
        pos = {f: i for i, f in enumerate(m.feature_names)}
        m.features = dict(sorted(m.features.items(), key=lambda kv: pos.get(kv[0], len(pos))))
    # realised_performance's rows with what the noise floors held back (performance_rows: with their checks), and
    # the alerts, of these models alone (0136: the views computed every live model's first)
    perf = _rows(cur, "SELECT r.*, " + HELD_SQL + " AS held FROM pgscore.performance_rows_of(%s) r "
                      "ORDER BY model, sort_order", (names,))
    for r in sorted(perf, key=lambda r: order.get(r["window_name"], 99)):
        by_name[r["model"]].performance.append(r)
    alerts = _rows(cur, "SELECT * FROM pgscore.alerts_of(%s)", (names,))
    # who silenced a condition and why, where a silence mutes it (migration 0126); read apart, since a join would
    # not keep the view's order (the windows in their order); not read where nothing is silenced
    ids = sorted({r["silence_id"] for r in alerts if r.get("silence_id") is not None})
    silences = {sid: (by, why) for sid, by, why in _rows_t(
        cur, "SELECT id, created_by, reason FROM pgscore.alert_silences WHERE id = ANY(%s)", (ids,))} if ids else {}
    for r in alerts:
        r["silenced_by"], r["silence_reason"] = silences.get(r.get("silence_id"), (None, None))
        if not r.get("shadow"):  # the live versions' (a shadow version's are in the view too, shadow true)
            by_name[r["model"]].alerts.append(r)

    # each model's own thresholds (migration 0129: pgscore.set_thresholds), what its checks above were judged by
    for r in _rows(cur, "SELECT model, metric, subject, warn, alert, min_n, confidence "
                        "FROM pgscore.drift_threshold_overrides WHERE model = ANY(%s) "
                        "ORDER BY model, metric, subject NULLS FIRST", (names,)):
        by_name[r["model"]].overrides.append(r)
    # (0133) what each metric is judged by, through the one rule the views judge by (pgscore.effective_thresholds),
    # not a copy of it: the model's, the score's and each subject that has an override of its own
    for r in _rows(cur, """
            SELECT s.model, s.subject, e.*
              FROM (SELECT n.model, NULL::text AS subject FROM pg_catalog.unnest(%(n)s::text[]) n(model)
                    UNION SELECT n.model, 'score' FROM pg_catalog.unnest(%(n)s::text[]) n(model)
                    UNION SELECT o.model, o.subject FROM pgscore.drift_threshold_overrides o
                           WHERE o.model = ANY(%(n)s) AND o.subject IS NOT NULL) s
             CROSS JOIN pgscore.drift_thresholds t
             CROSS JOIN LATERAL pgscore.effective_thresholds(s.model, t.metric, s.subject) e""", {"n": names}):
        by_name[r["model"]].effective[(r["metric"], r["subject"])] = r

    _held_back(by_name, windows_rows, perf)

    if charts:
        for r in drift:
            if r["period_kind"] == "day" and r["kind"] == "score":
                by_name[r["model"]].score_by_day.append({**r, "day": date.fromisoformat(r["period"])})
        for r in _rows(cur, "SELECT * FROM pgscore.performance_by_day WHERE model = ANY(%s) ORDER BY model, day",
                       (names,)):
            by_name[r["model"]].performance_by_day.append(r)
        for r in _rows(cur, "SELECT * FROM pgscore.calibration WHERE model = ANY(%s) ORDER BY model, decile",
                       (names,)):
            by_name[r["model"]].calibration.append(r)
        for m in models:
            m.histograms = _histograms(cur, m, window)
    return DriftData(window, windows, now, refreshed, models, thresholds)


# what the noise floors held back of a row's checks (drift_rows, performance_rows), as pgscore.check_rows judges
# it: each check at ok whose value reached a threshold, with the level it reached (held_back_from); and a drift
# check's family (migration 0091): the k features and score its floor is family-wise over, how many of them are
# features, and the confidence^(1/k) its floor is at (NULL, so absent, for realised performance)
HELD_SQL = """(
    SELECT pg_catalog.jsonb_agg(jsonb_strip_nulls(jsonb_build_object(  -- (to_jsonb: a schema before 0091 has none)
               'family', to_jsonb(c) -> 'family', 'family_features', to_jsonb(c) -> 'family_features',
               'check_confidence', to_jsonb(c) -> 'check_confidence'))
           || jsonb_build_object('metric', c.metric, 'value', c.value, 'n', c.n, 'floor', c.floor,
                                 'confidence', c.confidence, 'reached', c.held_back_from,
                                 'threshold', CASE c.held_back_from WHEN 'alert' THEN c.alert ELSE c.warn END))
      FROM pgscore.check_rows(r.checks) c WHERE c.held_back_from IS NOT NULL)"""


def _held_back(by_name: dict, drift: list[dict], perf: list[dict]) -> None:
    """Each model's checks in the windows that reached a threshold but not their noise floor (the rows' `held`,
    judged in SQL, each drift check with its family as the SQL computed its floor), the score's first, then the
    features' in their order, each in the windows' order; then the realised performance's."""
    for r in sorted(drift, key=lambda r: (r["model"], r["kind"] != "score", r["position"] or 0, r["sort_order"])):
        for h in r.pop("held", None) or []:
            by_name[r["model"]].held.append(dict(h, what=r["kind"], subject=r["feature"] or "score",
                                                 window_name=r["period"]))
        r.pop("checks", None)
    for r in perf:
        for h in r.pop("held", None) or []:
            by_name[r["model"]].held.append(dict(h, what="performance", subject="performance",
                                                 window_name=r["window_name"]))
        r.pop("checks", None)
        r.pop("sort_order", None)


# Counts per baseline bin of one model's values in one window, from pgscore.drift_counts_of(): the
# counting behind pgscore.drift_stats() (and so behind the views), not a copy of it, for that model alone
# (session 64: pgscore.drift_counts, every live model's counted for each model the report draws)
HISTOGRAM_SQL = """
WITH counts AS MATERIALIZED (
    SELECT c.kind, c.position, c.bin, c.n
      FROM pgscore.drift_counts_of(ARRAY[%(model_id)s]::bigint[], 'window', %(window)s) c
)
SELECT b.kind, b.feature, b.position, b.edges, b.expected, b.null_rate,
       ARRAY(SELECT coalesce(c.n, 0)
               FROM generate_series(0, pg_catalog.cardinality(b.expected) - 1) g(i)
               LEFT JOIN counts c ON c.kind = b.kind AND c.position = b.position AND c.bin = g.i
              ORDER BY g.i) AS counts,
       coalesce((SELECT c.n FROM counts c WHERE c.kind = b.kind AND c.position = b.position AND c.bin = -1),
                0) AS n_null
  FROM pgscore.baselines b
 WHERE b.model_id = %(model_id)s AND b.kind IN ('feature', 'score')
 ORDER BY b.kind = 'score', b.position
"""


def _histograms(cur, m: ModelData, window: str) -> list[dict]:
    rows = _rows(cur, HISTOGRAM_SQL, {"model_id": m.model_id, "window": window})
    for r in rows:
        drift = m.score if r["kind"] == "score" else list(m.features.get(r["feature"], {}).values())
        r["drift"] = next((d for d in drift if d["window_name"] == window), None)
    return rows


# -- formatting helpers ------------------------------------------------------------------------------

def _f(v, fmt=".3f") -> str:
    if v is None:
        return "-"
    if isinstance(v, float) and math.isnan(v):
        return "nan"
    return format(v, fmt)


def _pct(v) -> str:
    return "-" if v is None else f"{100 * v:.1f}"


def _shift(v) -> str:
    if v is None:
        return "-"
    return "+0.00" if abs(v) < 0.005 else f"{v:+.2f}"


def _age(since, now) -> str:
    if since is None:
        return "new"
    s = max(int((now - since).total_seconds()), 0)
    if s < 60:
        return "<1m"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86400}d {s % 86400 // 3600:02d}h"


def _utc(ts) -> str:
    return "-" if ts is None else ts.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _table(headers, rows, right=(), indent="  ") -> list[str]:
    """Columns as wide as their widest cell, two spaces apart; `right` = indexes of right-aligned columns."""
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows)]

    def line(cells):
        out = [str(c).rjust(w) if i in right else str(c).ljust(w) for i, (c, w) in enumerate(zip(cells, widths))]
        return (indent + "  ".join(out)).rstrip()

    return [line(headers)] + [line(r) for r in rows]


# -- the tables (shared by text and HTML) ------------------------------------------------------------

def score_table(m: ModelData):
    headers = ["window", "n", "psi", "ks", "js", "mean", "shift", "null%", "oor%", "status"]
    rows = [[r["window_name"], r["n"] if r["n"] is not None else "-", _f(r["psi"]), _f(r["ks"]), _f(r["js"]),
             _f(r["mean"], ".4g"), _shift(r["mean_shift"]), _pct(r["null_rate"]), _pct(r["out_of_range"]),
             r["status"]] for r in m.score]
    return headers, rows, range(1, 9)


def feature_table(m: ModelData, data: DriftData, js: bool = True):
    """One line per feature: the metrics in the chosen window, then the status in every window.
    Returns headers, rows, the right-aligned columns, the first status column and each row's view row."""
    metrics = ["n", "psi", "ks"] + (["js"] if js else []) + ["shift", "null%", "oor%"]
    headers = ["feature"] + metrics + [f"[{w.short}]" if w.name == data.window else w.short for w in data.windows]
    rows, extra = [], []
    for feature, per in m.features.items():
        r = per.get(data.window) or {}
        cells = {"n": r.get("n", "-"), "psi": _f(r.get("psi")), "ks": _f(r.get("ks")), "js": _f(r.get("js")),
                 "shift": _shift(r.get("mean_shift")), "null%": _pct(r.get("null_rate")),
                 "oor%": _pct(r.get("out_of_range"))}
        rows.append([feature] + [cells[k] for k in metrics]
                    + [STATUS_CODE.get((per.get(w.name) or {}).get("status"), "?") for w in data.windows])
        extra.append(r)
    return headers, rows, range(1, len(metrics) + 1), len(metrics) + 1, extra


def performance_table(m: ModelData):
    """Per window the realised metrics, after a first row 'at deploy' with the hold-out metrics (when any)."""
    task = m.task
    if task == "binary":
        headers = ["window", "n", "pos", "auc", "accuracy", "precision", "recall", "brier", "log_loss", "status"]
        keys = ["auc", "accuracy", "precision", "recall", "brier", "log_loss"]
    elif task == "regression":
        headers, keys = ["window", "n", "mae", "rmse", "status"], ["mae", "rmse"]
    else:
        headers, keys = ["window", "n", "accuracy", "status"], ["accuracy"]
    lead = 3 if task == "binary" else 2
    rows = []
    first = m.performance[0] if m.performance else {}
    if any(first.get("deploy_" + k) is not None for k in keys):
        rows.append(["at deploy"] + [""] * (lead - 1) + [_f(first.get("deploy_" + k)) if "deploy_" + k in first
                                                         else "" for k in keys] + ["(hold-out)"])
    for r in m.performance:
        row = [r["window_name"], r["n"]]
        if task == "binary":
            row.append(r["positives"] if r["positives"] is not None else "-")
        rows.append(row + [_f(r[k]) for k in keys] + [r["status"]])
    return headers, rows, range(1, len(headers) - 1)


_RATES = ("null_rate", "out_of_range")  # shares of the rows: in percent, as the feature tables show them


def _metric(metric, v, fmt) -> str:
    """A metric's value or threshold as the tables show it: a rate in percent, the others as they are."""
    if metric in _RATES and v is not None:
        return f"{_f(100 * v, fmt)}%"
    return _f(v, fmt)


def threshold_text(a: dict) -> str:
    """An alert's threshold as the tables show it, with where it came from where an override set it (0133): '0.03
    (model's own)', '0.4 (subject's own)'; drift_thresholds' (default) alone."""
    src = a.get("threshold_from")
    return _metric(a["metric"], a["threshold"], "g") + (f" ({src}'s own)" if src in ("model", "subject") else "")


def alert_table(alerts, now, with_model=False):
    headers = (["model"] if with_model else []) + ["what", "subject", "window", "metric", "value", "threshold",
                                                   "level", "since"]
    rows = [([a["model"]] if with_model else []) +
            [a["what"], a["subject"], a["window_name"], a["metric"], _metric(a["metric"], a["value"], ".4g"),
             threshold_text(a),
             a["level"] + (f" ({silence_text(a)})" if a.get("silence_id") is not None else ""),
             _age(a["since"], now)] for a in alerts]
    off = 1 if with_model else 0
    return headers, rows, (4 + off, 5 + off)


def grouped_alerts(alerts, windows: list[Window]) -> list[dict]:
    """The alerts with one row per condition (what, subject, metric, level) across the windows it fires in:
    the windows' short names, the value (or its range over those windows), the longest it has fired."""
    short = {w.name: w.short for w in windows}
    groups: dict = {}
    for a in alerts:  # (a condition silenced in some windows alone: a line for those, one for the others)
        groups.setdefault((a["what"], a["subject"], a["metric"], a["level"], a.get("silence_id")), []).append(a)
    out = []
    for (what, subject, metric, level, silence_id), rows in groups.items():
        values = [r["value"] for r in rows if r["value"] is not None]
        lo, hi = (min(values), max(values)) if values else (None, None)
        value = (_metric(metric, lo, ".4g") if _f(lo, ".4g") == _f(hi, ".4g") else
                 f"{_metric(metric, lo, '.3g')}..{_metric(metric, hi, '.3g')}")
        since = [r["since"] for r in rows if r["since"] is not None]
        out.append({"what": what, "subject": subject, "metric": metric, "level": level, "value": value,
                    "windows": " ".join(short.get(r["window_name"], r["window_name"]) for r in rows),
                    "threshold": rows[0]["threshold"], "threshold_from": rows[0].get("threshold_from"),
                    "since": min(since) if since else None,
                    "silence_id": silence_id, "silenced_until": rows[0].get("silenced_until"),
                    "silenced_by": rows[0].get("silenced_by"), "silence_reason": rows[0].get("silence_reason")})
    return out


def silence_text(a: dict) -> str:
    """'silenced until 2026-12-06 18:00 UTC (#3, by alice: upstream fix ships tonight)', of an alert or group."""
    return (f"silenced until {_utc(a['silenced_until'])} (#{a['silence_id']}, by {a.get('silenced_by')}: "
            f"{a.get('silence_reason')})")


FLOOR_NOTE = ("noise floor: a metric at or over its threshold is at warn or alert only where it also exceeds what "
              "sampling alone makes it reach at the window's size (pgscore.noise_floor). A drift metric's floors are "
              "family-wise at drift_thresholds.confidence: over the model's k features and score, each at "
              "confidence^(1/k), so that without drift all k stay under their floors with that chance; a "
              "realised-performance metric's floor is at the confidence itself. A NULL confidence judges by the "
              "thresholds alone")


def held_confidence(h) -> str:
    """The confidence a held-back check's floor is at, as held_text says it: a performance metric's is the
    metric's drift_thresholds.confidence; a drift metric's floors are family-wise over the model's features and
    score (migration 0088), each of the k at confidence^(1/k), as pgscore.drift_stats_of computes them (the
    check's `confidence` is the metric's own: 'confidence 0.999 for the 12 features and the score together, each
    at 0.999923')."""
    c = h["confidence"]
    if h.get("family") is None:
        return f"confidence {c:g}"
    nf, k = h["family_features"], h["family"]
    over = " and ".join(([f"the {nf} feature{'s' if nf != 1 else ''}"] if nf else []) +
                        (["the score"] if k > nf else []))
    return f"confidence {c:g} for {over} together, each at {per_check_confidence(h):.6g}"


def per_check_confidence(h) -> float:
    """The confidence of the check's own floor: the metric's, or for a drift metric its k-th root, as the SQL
    computed the floor at (check_rows' check_confidence, migration 0091)."""
    return h["check_confidence"] if h.get("family") else h["confidence"]


def held_text(h) -> str:
    """'psi 0.31 (alert at 0.25) below its noise floor 0.38 at n=100 (confidence 0.999 for the 12 features and
    the score together, each at 0.999923)'; a performance metric's: '... (confidence 0.999)'."""
    m = h["metric"]
    return (f"{m} {_metric(m, h['value'], '.3g')} ({h['reached']} at {_metric(m, h['threshold'], 'g')}) below its "
            f"noise floor {_metric(m, h['floor'], '.3g')} at n={h['n']} ({held_confidence(h)})")


def shown_held(m: ModelData, window: str) -> list[dict]:
    """What the report names as held back: the drift checks of the chosen window, the performance ones of every
    window (the performance table shows each)."""
    return [h for h in m.held if h["what"] == "performance" or h["window_name"] == window]


def _held_lines(m: ModelData, what: str, subject: str, window: str | None, indent: str, lead: str = "") -> list[str]:
    return [ln for h in m.held if h["what"] == what and h["subject"] == subject
            and (window is None or h["window_name"] == window) for ln in _wrap(lead + held_text(h), indent)]


def _wrap(text, indent="    ") -> list[str]:
    return textwrap.wrap(text, width=100, initial_indent=indent, subsequent_indent=indent + "  ")


def _shared_note(rows) -> str | None:
    notes = {r.get("note") for r in rows}
    return notes.pop() if len(notes) == 1 else None


# -- text --------------------------------------------------------------------------------------------

def render_text(data: DriftData) -> str:
    out = []
    say = out.append
    when = data.now.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    if not data.models:  # (it said no more: what makes a model live, for the next run to watch)
        say(f"pgscore drift, {when}: no live models; deploy one with: "
            + command("deploy MODEL.joblib --name NAME --train CSV --target COL")
            + ", or make a version live with: " + command("activate NAME VERSION")
            + " (" + command("models") + " lists them)")
        return "\n".join(out)
    say(f"pgscore drift, {when}: {len(data.models)} live model{'s' if len(data.models) != 1 else ''}, "
        f"window '{data.window}'")
    say(f"rollups refreshed up to {_utc(data.refreshed['rolled_until'])}" if data.refreshed
        else "rollups not refreshed (--no-refresh); alerts no refresh has seen yet show since 'new'")
    summary = data.summary()
    if len(data.models) > 1:  # (one model: its section is its summary)
        say("")
        where = "every window" if data.only is None else f"'{data.only}'"
        say(f"summary, worst first (conditions in {where}, as the result line counts them):")
        out.extend(_table(["model", "worst", "at alert", "at warn", "silenced"],
                          [[r["model"], r["worst"], r["alert"], r["warn"], r["silenced"]] for r in summary],
                          (2, 3, 4)))
    shown = data.models
    if data.alerting:
        calm = [r for r in summary if r["worst"] == "ok"]
        left = {r["model"] for r in calm}
        shown = [m for m in data.models if m.name not in left]
        if calm:
            say("")
            out.extend(_wrap(f"--alerting: {len(calm)} model{'s' if len(calm) != 1 else ''} with nothing at warn "
                             "or alert left out: " + ", ".join(
                                 r["model"] + (" (silenced alone)" if r["silenced"] else "") for r in calm), "  "))
    for m in shown:
        say("")
        say(f"== {m.title} " + "=" * max(0, 92 - len(m.title)))
        no_score_base = bool(m.score) and m.score[0]["status"] == "no_baseline"
        if no_score_base and m.no_baseline is not None:
            say("score and feature drift: no_baseline")
            out.extend(_wrap(m.score[0]["note"]))
        else:
            _text_score(m, data, out)
            say("")
            _text_features(m, data, out)
        say("")
        _text_performance(m, data.windows, out)
        say("")
        _text_alerts(m, data, out)
    say("")
    if any(shown_held(m, data.window) for m in shown):
        out.extend(_wrap(FLOOR_NOTE, ""))
    where = "" if data.only is None else f" in '{data.only}'"
    muted = f", {data.n_silenced} silenced" if data.n_silenced else ""
    if data.n_alert:
        worst = sorted({a["model"] for a in data.counted if a["level"] == "alert"})
        say(f"result: ALERT{where} - {data.n_alert} condition(s) at alert level ({', '.join(worst)}), "
            f"{data.n_warn} at warn{muted}")
    elif data.n_warn:
        say(f"result: ok with warnings{where} - {data.n_warn} condition(s) at warn, none at alert{muted}")
    else:
        say(f"result: ok{where} - " + (f"{data.n_silenced} silenced, nothing else at warn or alert" if muted
                                        else "nothing at warn or alert"))
    if data.only is not None and (other := not_counted(data)):
        out.extend(_wrap(f"not counted (--window '{data.only}'): {other}; the exit code counts '{data.only}' "
                         "alone (leave --window out to count every window)", "  "))
    if data.unwatched:
        say(f"not watched for drift: {', '.join(data.unwatched)} (deployed without a baseline: nothing above "
            "judged its features or scores; deploy a version with its training data, --train, to watch it)")
    return "\n".join(out)


def _by_level(m: ModelData, what: str, subject: str, window: str, row: dict) -> str:
    """A drift row's `firing` metrics grouped by their own level, 'alert: js, psi; warn: ks', from the
    alerts of that subject and window: the row's status is its worst metric's, so 'alert: js, ks, psi'
    called a KS at warn an alert."""
    level = {a["metric"]: a["level"] for a in m.alerts
             if a["what"] == what and a["subject"] == subject and a["window_name"] == window}
    metrics = [x.strip() for x in row["firing"].split(",")]
    groups: dict[str, list[str]] = {}
    for x in metrics:  # a metric the alerts do not list (read in another snapshot) keeps the row's status
        groups.setdefault(level.get(x, row["status"]), []).append(x)
    order = sorted(groups, key=lambda lv: {"alert": 0, "warn": 1}.get(lv, 2))
    return "; ".join(f"{lv}: {', '.join(groups[lv])}" for lv in order)


def _text_score(m: ModelData, data: DriftData, out: list) -> None:
    if not m.score:
        return
    if m.score[0]["status"] == "no_baseline":
        out.append("score drift: no_baseline")
        out.extend(_wrap(m.score[0]["note"]))
        return
    out.append(f"score drift (baseline mean {_f(m.score[0]['baseline_mean'], '.4g')}; "
               "shift in baseline standard deviations)")
    h, rows, right = score_table(m)
    out.extend(_table(h, rows, right))
    cur = next((r for r in m.score if r["window_name"] == data.window), None)
    if cur and cur["firing"]:
        out.append(f"    firing in '{data.window}': {_by_level(m, 'score', 'score', data.window, cur)}")
    out.extend(_held_lines(m, "score", "score", data.window, "    ", f"ok in '{data.window}': "))


def _text_features(m: ModelData, data: DriftData, out: list) -> None:
    if m.no_baseline is not None:
        out.append("feature drift: no_baseline")
        out.extend(_wrap(m.no_baseline["note"]))
        return
    if not m.features:
        return
    out.append(f"feature drift: metrics in '{data.window}', then the status in each window")
    h, rows, right, first_status, extra = feature_table(m, data, js=False)
    lines = _table(h, rows, right)
    out.append(lines[0])
    shared = _shared_note(extra)
    for line, r in zip(lines[1:], extra):
        out.append(line)
        if r.get("firing"):
            out.extend(_wrap(_by_level(m, "feature", r["feature"], data.window, r), "      "))
        if r:
            out.extend(_held_lines(m, "feature", r["feature"], data.window, "      ", "ok: "))
        if r.get("note") and not shared:
            out.extend(_wrap(f"note: {r['note']}", "      "))
    if shared:
        out.extend(_wrap(f"note: {shared}"))
    if {c for r in rows for c in r[first_status:]} - {"ok", "warn", "alert"}:
        out.extend(_wrap(STATUS_LEGEND))


def _text_performance(m: ModelData, windows: list[Window], out: list) -> None:
    if not m.performance or all(r["n"] == 0 for r in m.performance):
        out.append("realised performance: no outcomes matched to predictions of this version yet")
    else:
        out.append("realised performance, by prediction time")
        h, rows, right = performance_table(m)
        out.extend(_table(h, rows, right))
        # held at ok by the floor, one line per metric and value with the windows it holds in (as the alerts)
        short, same = {w.name: w.short for w in windows}, {}
        for h in m.held:
            if h["what"] == "performance":
                same.setdefault(held_text(h), []).append(short.get(h["window_name"], h["window_name"]))
        for text, ws in same.items():
            out.extend(_wrap(f"ok in {' '.join(ws)}: {text}"))
        for note in sorted({r["note"] for r in m.performance if r["note"] and r["n"]}):
            out.extend(_wrap(f"note: {note}"))
    unmatched = m.performance[0]["unmatched_outcomes"] if m.performance else 0
    if unmatched:
        out.append(f"    {unmatched} outcome(s) match no prediction logged before them")


def thresholds_of(m: ModelData, data: DriftData, metric: str, subject: str | None = None) -> dict | None:
    """The warn, alert, min_n and confidence `metric` of model `m` (its feature or score `subject`) is judged by, and
    where each came from (warn_from...: subject, model or default), as pgscore.effective_thresholds gives them: read
    through it (0133; before, a copy of its rule here). A subject without an override of its own has the model's."""
    return m.effective.get((metric, subject)) or m.effective.get((metric, None))


def confidence_text(v) -> str:
    """An override's confidence as pgscore drift and pgscore thresholds say it: 0 (since 0133) is no noise floor,
    which '0' alone read as a very low confidence; blank where none is set."""
    return "" if v is None else "0 (no noise floor)" if v == 0 else f"{v:g}"


def overrides_text(m: ModelData) -> str:
    """'own thresholds (pgscore.set_thresholds): auc_drop warn 0.02 alert 0.03; psi of tenure_months ...', or ""."""
    if not m.overrides:
        return ""
    parts = []
    for o in m.overrides:
        shown = {"warn": _metric(o["metric"], o["warn"], "g"), "alert": _metric(o["metric"], o["alert"], "g"),
                 "min_n": o["min_n"], "confidence": confidence_text(o["confidence"])}
        given = [f"{k} {shown[k]}" for k in ("warn", "alert", "min_n", "confidence") if o[k] is not None]
        parts.append(o["metric"] + (f" of {o['subject']}" if o["subject"] is not None else "") + " " + " ".join(given))
    return ("own thresholds (pgscore.drift_threshold_overrides; the rest by pgscore.drift_thresholds): "
            + "; ".join(parts))


def _text_alerts(m: ModelData, data: DriftData, out: list) -> None:
    if m.overrides:
        out.extend(_wrap(overrides_text(m), ""))
    if not m.alerts:
        out.append("alerts: none")
        return
    n_alert = sum(a["level"] == "alert" for a in m.alerts)
    out.append(f"alerts: {n_alert} at alert, {len(m.alerts) - n_alert} at warn over all windows; one line per "
               "condition, with the windows it fires in")
    groups = grouped_alerts(m.alerts, data.windows)
    rows = [[a["what"], a["subject"], a["windows"], a["metric"], a["value"], threshold_text(a),
             a["level"] + (" (silenced)" if a["silence_id"] is not None else ""),
             _age(a["since"], data.now)] for a in groups]
    out.extend(_table(["what", "subject", "windows", "metric", "value", "threshold", "level", "since"], rows, (4, 5)))
    for a in groups:  # (migration 0126: listed, not counted)
        if a["silence_id"] is not None:
            out.extend(_wrap(f"{a['what']} {a['subject']} {a['metric']} at {a['level']} in {a['windows']}: "
                             + silence_text(a), "  "))


def conditions(alerts, level: str) -> set:
    """The conditions among `alerts` at `level`: (model, what, subject, metric), each once however many windows
    it fires in (before, the result line counted a row per window: 45 beside the 9 lines of the alerts table)."""
    return {(a.get("model"), a["what"], a["subject"], a["metric"]) for a in alerts if a["level"] == level}


def not_counted(data: DriftData) -> str:
    """The alerts in the windows other than `only`, per model, "churn: 2 at alert, 1 at warn in 1h 12h", or ""."""
    short = {w.name: w.short for w in data.windows}
    parts = []
    for m in data.models:
        rows = [a for a in m.alerts if a["window_name"] != data.only]
        if rows:
            n_alert, n_warn = len(conditions(rows, "alert")), len(conditions(rows, "warn"))
            ws = [w.short for w in data.windows if any(a["window_name"] == w.name for a in rows)]
            ws += sorted({short.get(a["window_name"], a["window_name"]) for a in rows} - set(ws))
            parts.append(f"{m.name}: {n_alert} at alert, {n_warn} at warn in {' '.join(ws)}")
    return "; ".join(parts)


def exit_code(data: DriftData) -> int:
    """1 when an alert fires in the windows counted (`only`, or every window), else 0."""
    return 1 if data.n_alert else 0


# -- HTML --------------------------------------------------------------------------------------------

STATUS_COLOUR = {"ok": "#2e7d32", "warn": "#ef8f00", "alert": "#c62828"}
GREY = "#9e9e9e"
BASELINE_COLOUR = "#90a4ae"

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em; color: #222;
       max-width: 1300px; }
h1 { font-size: 1.5em; } h2 { margin-top: 2em; border-bottom: 2px solid #ccc; } h3 { margin-top: 1.5em; }
table { border-collapse: collapse; margin: .5em 0 1em; font-size: .9em; }
th, td { padding: .2em .6em; border-bottom: 1px solid #e0e0e0; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f5f5f5; }
.s-alert { color: #c62828; font-weight: bold; } .s-warn { color: #ef8f00; font-weight: bold; }
.s-ok { color: #2e7d32; } .s-other { color: #757575; }
.grid { display: flex; flex-wrap: wrap; gap: 1em; }
figure { margin: 0; } figcaption { font-size: .85em; color: #444; }
p.empty { color: #757575; font-style: italic; }
p.note { color: #555; font-size: .9em; }
"""


def _esc(v) -> str:
    return html.escape("" if v is None else str(v), quote=True)


def _status_class(s) -> str:
    return {"alert": "s-alert", "warn": "s-warn", "ok": "s-ok"}.get(s, "s-other")


def _html_table(headers, rows, right=(), status_cols=()) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in headers)
    body = []
    for r in rows:
        cells = []
        for i, c in enumerate(r):
            cls = "num" if i in right else ""
            if i in status_cols:
                full = {v: k for k, v in STATUS_CODE.items()}.get(c, c)
                cls = _status_class(full)
            cells.append(f'<td class="{cls}">{_esc(c)}</td>' if cls else f"<td>{_esc(c)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _empty(text) -> str:
    return f'<p class="empty">{_esc(text)}</p>'


def _png(fig) -> str:
    buf = io.BytesIO()
    # the histograms have fixed margins (a tight bounding box draws every figure twice)
    fig.savefig(buf, format="png", bbox_inches=None if fig.get_label() == "fixed" else "tight",
                metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _img(fig, alt) -> str:
    return f'<img src="{_png(fig)}" alt="{_esc(alt)}">'


def _figure(w, h):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w, h), dpi=90)
    FigureCanvasAgg(fig)
    return fig


def _bin_edges_chart(hist: dict):
    """Baseline share against the window's share over the baseline bins (NULL/NaN values apart)."""
    edges, expected, counts = hist["edges"], hist["expected"], hist["counts"]
    total = sum(counts)
    current = [c / total for c in counts]
    status = (hist["drift"] or {}).get("status")
    fig = _figure(4.4, 2.6)
    fig.set_label("fixed")
    fig.subplots_adjust(left=0.14, right=0.98, bottom=0.26, top=0.9)
    ax = fig.add_subplot()
    x = list(range(len(expected)))
    ax.bar([i - 0.2 for i in x], expected, width=0.4, color=BASELINE_COLOUR, label="baseline")
    ax.bar([i + 0.2 for i in x], current, width=0.4, color=STATUS_COLOUR.get(status, GREY), label="window")
    ax.set_xticks([i + 0.5 for i in range(len(edges))])
    ax.set_xticklabels([format(e, ".3g") for e in edges], rotation=45 if len(edges) > 5 else 0, fontsize=7,
                       ha="right" if len(edges) > 5 else "center")
    ax.set_xlim(-0.6, len(expected) - 0.4)
    ax.set_ylabel("share", fontsize=8)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_title(str(hist["feature"]), fontsize=9)
    return fig


def _psi_chart(m: ModelData, data: DriftData):
    items = [(f, per.get(data.window) or {}) for f, per in m.features.items()]
    items = [(f, r) for f, r in items if r.get("psi") is not None]
    if not items:
        return None
    fig = _figure(6.5, 0.3 * len(items) + 1.0)
    ax = fig.add_subplot()
    y = list(range(len(items)))[::-1]
    ax.barh(y, [r["psi"] for _, r in items], color=[STATUS_COLOUR.get(r["status"], GREY) for _, r in items])
    ax.set_yticks(y)
    ax.set_yticklabels([f for f, _ in items], fontsize=8)
    t = thresholds_of(m, data, "psi")  # (the model's: 0129)
    if t:
        ax.axvline(t["warn"], color=STATUS_COLOUR["warn"], linestyle="--", linewidth=1, label=f"warn {t['warn']:g}")
        ax.axvline(t["alert"], color=STATUS_COLOUR["alert"], linestyle="--", linewidth=1,
                   label=f"alert {t['alert']:g}")
        ax.legend(fontsize=7, frameon=False, loc="lower right")
    ax.set_xlabel(f"PSI in '{data.window}'", fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    return fig


def _date_axis(ax, days):
    """Ticks on whole days (a week apart at most 5 ticks), padded by a day each side."""
    import matplotlib.dates as mdates

    span = (max(days) - min(days)).days
    ax.xaxis.set_major_locator(mdates.DayLocator(interval=max(1, math.ceil((span + 1) / 6))))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d"))
    ax.set_xlim(min(days) - timedelta(days=1), max(days) + timedelta(days=1))
    ax.tick_params(axis="both", labelsize=7)


def _score_by_day_chart(m: ModelData, data: DriftData):
    days = [r for r in m.score_by_day if r["n"]]
    if not days:
        return None
    fig = _figure(6.5, 4.0)
    ax1, ax2 = fig.subplots(2, 1, sharex=True)
    x = [r["day"] for r in days]
    ax1.plot(x, [r["mean"] for r in days], marker="o", color="#1565c0", label="mean score")
    if days[0]["baseline_mean"] is not None:
        ax1.axhline(days[0]["baseline_mean"], color=BASELINE_COLOUR, linestyle="--", label="baseline mean")
    ax1.legend(fontsize=7, frameon=False)
    ax1.set_ylabel("mean score", fontsize=8)
    ax2.bar(x, [r["psi"] or 0 for r in days], color=[STATUS_COLOUR.get(r["status"], GREY) for r in days], width=0.6)
    t = thresholds_of(m, data, "psi", "score")  # (the score's: 0129)
    if t:
        ax2.axhline(t["warn"], color=STATUS_COLOUR["warn"], linestyle="--", linewidth=1)
        ax2.axhline(t["alert"], color=STATUS_COLOUR["alert"], linestyle="--", linewidth=1)
    ax2.set_ylabel("PSI of the day", fontsize=8)
    for ax in (ax1, ax2):
        _date_axis(ax, x)
    return fig


def _performance_chart(m: ModelData):
    days = [r for r in m.performance_by_day if r["n"]]
    if not days:
        return None
    metrics = {"binary": ["auc", "accuracy"], "regression": ["mae", "rmse"]}.get(m.task, ["accuracy"])
    first = m.performance[0] if m.performance else {}
    fig = _figure(6.5, 2.8)
    ax = fig.add_subplot()
    x = [r["day"] for r in days]
    colours = ["#1565c0", "#6a1b9a"]
    for k, c in zip(metrics, colours):
        ax.plot(x, [r[k] if r[k] is not None else math.nan for r in days], marker="o", color=c, label=k)
        if first.get("deploy_" + k) is not None:
            ax.axhline(first["deploy_" + k], color=c, linestyle="--", linewidth=1, alpha=.6, label=f"{k} at deploy")
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    _date_axis(ax, x)
    return fig


def _calibration_chart(m: ModelData):
    fig = _figure(3.6, 3.4)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color=BASELINE_COLOUR, linestyle="--", linewidth=1, label="perfect")
    ax.plot([r["mean_score"] for r in m.calibration], [r["observed_rate"] for r in m.calibration], marker="o",
            color="#1565c0", label="deciles")
    ax.set_xlabel("mean score", fontsize=8)
    ax.set_ylabel("observed positive rate", fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.tick_params(axis="both", labelsize=7)
    ax.legend(fontsize=7, frameon=False)
    return fig


def _model_html(m: ModelData, data: DriftData) -> str:
    w = data.window
    parts = [f'<h2 id="{_esc(m.name)}">{_esc(m.title)}</h2>']
    # score
    parts.append("<h3>Score drift</h3>")
    if m.score and m.score[0]["status"] == "no_baseline":
        parts.append(f'<p><span class="s-other">no_baseline</span>: {_esc(m.score[0]["note"])}</p>')
    elif m.score:
        h, rows, right = score_table(m)
        parts.append(f'<p class="note">Baseline mean {_esc(_f(m.score[0]["baseline_mean"], ".4g"))}; shift in '
                     "baseline standard deviations; null% and oor% (out of the baseline range) in percent.</p>")
        parts.append(_html_table(h, rows, right, status_cols={len(h) - 1}))
    if m.score and m.score[0]["status"] != "no_baseline":
        parts.append("<h4>Score over time (last 30 UTC days)</h4>")
        fig = _score_by_day_chart(m, data)
        parts.append(_img(fig, f"mean score and PSI per day of {m.name}") if fig else
                     _empty("No predictions logged in the last 30 days, so there is no score over time to show."))
    # features
    parts.append(f"<h3>Feature drift in &#39;{_esc(w)}&#39;</h3>")
    if m.no_baseline is not None:
        parts.append(f'<p><span class="s-other">no_baseline</span>: {_esc(m.no_baseline["note"])}</p>')
    elif m.features:
        h, rows, right, first_status, extra = feature_table(m, data)
        h = h + ["firing", "note"]
        rows = [r + [e.get("firing") or "", e.get("note") or ""] for r, e in zip(rows, extra)]
        parts.append(f'<p class="note">Metrics in &#39;{_esc(w)}&#39; (shift in baseline standard deviations, '
                     f"null% and oor% in percent), then the status in every window ({_esc(STATUS_LEGEND)}).</p>")
        parts.append(_html_table(h, rows, right, status_cols=set(range(first_status,
                                                                        first_status + len(data.windows)))))
        fig = _psi_chart(m, data)
        parts.append(f"<h4>PSI per feature in &#39;{_esc(w)}&#39;</h4>")
        parts.append(_img(fig, f"PSI per feature of {m.name}") if fig else
                     _empty(f"No predictions in '{w}', so no PSI to chart."))
    # histograms
    if m.histograms:
        parts.append(f"<h4>Baseline against &#39;{_esc(w)}&#39;, over the baseline bins</h4>")
        parts.append('<p class="note">Grey: share of the training data in each baseline bin; coloured (by the '
                     "feature&#39;s status): share of the window&#39;s values. Ticks are the bin edges; NULL and NaN "
                     "values are counted apart.</p>")
        if not any(sum(hg["counts"]) for hg in m.histograms):
            parts.append(_empty(f"No predictions of {m.name} v{m.version} in '{w}': nothing to compare with the "
                                "baseline yet."))
        else:
            cells = []
            for hg in m.histograms:
                d = hg["drift"] or {}
                n_valid, n_null = sum(hg["counts"]), hg["n_null"]
                cap = (f"{hg['feature']}: {d.get('status', '?')}, PSI {_f(d.get('psi'))}, {n_valid} values"
                       + (f", {n_null} NULL/NaN" if n_null else ""))
                if not hg["expected"]:
                    body = _empty(f"{hg['feature']}: the baseline holds no values (all NULL at training).")
                elif not n_valid:
                    body = _empty(f"{hg['feature']}: no values in '{w}' ({n_null} NULL/NaN).")
                else:
                    body = _img(_bin_edges_chart(hg), f"baseline and current distribution of {hg['feature']}")
                cls = _status_class(d.get("status"))
                cells.append(f'<figure>{body}<figcaption class="{cls}">{_esc(cap)}</figcaption></figure>')
            parts.append('<div class="grid">' + "".join(cells) + "</div>")
    # performance
    parts.append("<h3>Realised performance</h3>")
    h, rows, right = performance_table(m)
    if not m.performance or all(r["n"] == 0 for r in m.performance):
        parts.append(_empty("No outcomes matched to predictions of this version yet "
                            "(record them with pgscore.record_outcome)."))
    else:
        notes = [""] * (len(rows) - len(m.performance)) + [p["note"] or "" for p in m.performance]
        parts.append(_html_table(h + ["note"], [r + [n] for r, n in zip(rows, notes)], right,
                                 status_cols={len(h) - 1}))
    unmatched = m.performance[0]["unmatched_outcomes"] if m.performance else 0
    if unmatched:
        parts.append(f'<p class="note">{unmatched} outcome(s) match no prediction logged before them.</p>')
    parts.append("<h4>Performance over time (by UTC day of prediction)</h4>")
    fig = _performance_chart(m)
    parts.append(_img(fig, f"realised performance per day of {m.name}") if fig else
                 _empty("No outcomes for predictions of the last 30 days, so there is no performance over time."))
    parts.append("<h4>Calibration (every judged prediction of this version, in score deciles)</h4>")
    if m.task != "binary":
        parts.append(_empty("Calibration is shown for binary classifiers."))
    elif not m.calibration:
        parts.append(_empty("No outcomes yet, so no calibration."))
    else:
        rows = [[r["decile"], r["n"], _f(r["mean_score"]), _f(r["observed_rate"]), _f(r["min_score"]),
                 _f(r["max_score"])] for r in m.calibration]
        parts.append('<div class="grid"><div>'
                     + _html_table(["decile", "n", "mean score", "observed rate", "min score", "max score"], rows,
                                   right=range(0, 6))
                     + "</div><div>" + _img(_calibration_chart(m), f"calibration of {m.name}") + "</div></div>")
    # alerts
    parts.append("<h3>Alerts</h3>")
    if m.alerts:
        h, rows, right = alert_table(m.alerts, data.now)
        rows = [r[:-1] + [_utc(a["since"]) if a["since"] else "not yet refreshed"] for r, a in zip(rows, m.alerts)]
        parts.append(_html_table(h, rows, right, status_cols={len(h) - 2}))
    else:
        parts.append(_empty("Nothing at warn or alert."))
    held = shown_held(m, w)
    if held:  # what reached a threshold and is ok all the same: the level alone would not say why
        parts.append("<h4>Below the noise floor (ok)</h4>")
        parts.append(f'<p class="note">Drift in &#39;{_esc(w)}&#39;, performance in every window. '
                     f'{_esc(FLOOR_NOTE[0].upper() + FLOOR_NOTE[1:])}.</p>')
        rows = [[h["what"], h["subject"], h["window_name"], h["metric"], _metric(h["metric"], h["value"], ".4g"),
                 f"{h['reached']} at {_metric(h['metric'], h['threshold'], 'g')}",
                 _metric(h["metric"], h["floor"], ".4g"), h["n"], f"{h['confidence']:g}",
                 f"{per_check_confidence(h):.6g}" + (f" (k={h['family']})" if h.get("family") else "")]
                for h in held]
        parts.append(_html_table(["what", "subject", "window", "metric", "value", "reached", "noise floor", "n",
                                  "confidence", "floor at"], rows, (4, 6, 7)))
    return "\n".join(parts)


def render_html(data: DriftData) -> str:
    when = _utc(data.now)
    fresh = (f"rollups refreshed up to {_utc(data.refreshed['rolled_until'])}" if data.refreshed
             else "rollups not refreshed (--no-refresh)")
    if data.n_alert:
        summary = f'<span class="s-alert">ALERT</span>: {data.n_alert} condition(s) at alert level, {data.n_warn} at warn'
    elif data.n_warn:
        summary = f'<span class="s-warn">warnings</span>: {data.n_warn} condition(s) at warn, none at alert'
    else:
        summary = '<span class="s-ok">ok</span>: nothing ' + ("else " if data.n_silenced else "") + 'at warn or alert'
    if data.n_silenced:  # (not counted: migration 0126)
        summary += f"; {data.n_silenced} silenced"
    if data.only is not None:
        summary += f" in &#39;{_esc(data.only)}&#39;"
        if other := not_counted(data):
            summary += f"; not counted: {_esc(other)}"
    if data.unwatched:
        summary += f"; not watched for drift (no baseline): {_esc(', '.join(data.unwatched))}"
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>pgscore drift report, {_esc(when)}</title>", f"<style>{CSS}</style></head><body>",
             "<h1>pgscore drift report</h1>",
             f'<p class="note">{_esc(when)}; window &#39;{_esc(data.window)}&#39;; {_esc(fresh)}. Computed in '
             "PostgreSQL by the pgscore monitoring views.</p>"]
    if not data.models:
        parts.append(_empty("No live models."))
    else:
        parts.append(f"<p>{summary}.</p>")
        parts.append("<p>Models: " + ", ".join(f'<a href="#{_esc(m.name)}">{_esc(m.title)}</a>'
                                               for m in data.models) + "</p>")
        if len(data.models) > 1 and data.alerts:
            parts.append("<h2>All alerts</h2>")
            h, rows, right = alert_table(data.alerts, data.now, with_model=True)
            rows = [r[:-1] + [_utc(a["since"]) if a["since"] else "not yet refreshed"]
                    for r, a in zip(rows, data.alerts)]
            parts.append(_html_table(h, rows, right, status_cols={len(h) - 2}))
        for m in data.models:
            parts.append(_model_html(m, data))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
