"""What a BI tool sees through a login granted pgscore_reader only: the views docs/sql.md presents, found
through information_schema and pg_catalog as a BI tool's sync finds them, with comments that say what the
views compute."""

import json
import re
from pathlib import Path

import numpy as np
import psycopg2
import pytest
from scipy.spatial.distance import jensenshannon
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from helpers import ensure_role, query
from pgscore import datasets, registry

READER = "pgscore_t_reader_bi"
DOCS = Path(__file__).resolve().parent.parent / "docs" / "sql.md"


@pytest.fixture
def bi(db_url):
    """An autocommit connection as a login granted pgscore_reader and nothing else (roles are global to the
    cluster: made once, granted again per database)."""
    ensure_role(db_url, READER, login=True)
    query(db_url, f"GRANT pgscore_reader TO {READER}")
    conn = psycopg2.connect(db_url.replace("postgresql://postgres@", f"postgresql://{READER}@"))
    conn.autocommit = True
    yield conn
    conn.close()


def documented_views():
    """The views of docs/sql.md's table under "## Views": the stable interface for readers."""
    text = DOCS.read_text().split("\n## Views\n", 1)[1].split("\n### ", 1)[0]
    return re.findall(r"^\| `pgscore\.(\w+)` \|", text, re.M)


def synced_columns(bi):
    """What a BI tool's sync reads: every column it may see in pgscore, with its type and comment."""
    rows = query(bi, "SELECT c.table_name, c.column_name, c.data_type, "
                     "       pg_catalog.col_description(format('%I.%I', c.table_schema, c.table_name)::regclass, "
                     "                                  c.ordinal_position) "
                     "  FROM information_schema.columns c WHERE c.table_schema = 'pgscore' "
                     " ORDER BY c.table_name, c.ordinal_position")
    return {(t, c): (ty, comment) for t, c, ty, comment in rows}


def test_every_documented_view_is_synced_by_the_reader_with_comments(bi):
    views = documented_views()
    assert len(views) == 20  # (shadow_versions, realised_performance_by_version since 0054, 0056; performance_by_day_by_version;
    # baseline_bins since 0078; window_checks since 0087; class_drift since 0122; realised_performance_by_outcome_time
    # since 0125; shadow_pairs, shadow_comparison and realised_against_live since 0138)
    columns = synced_columns(bi)
    # (and the silences of alerts, who silenced what and why, since 0126; the models' own thresholds since 0129;
    # what retention and erasure removed, and the floors, since 0141)
    assert {t for t, _ in columns} == set(views) | {"drift_windows", "drift_thresholds", "alert_silences",
                                                    "drift_threshold_overrides", "log_retention", "retention_policy"}
    for view in views:
        (comment,), = query(bi, "SELECT pg_catalog.obj_description(%s::regclass, 'pg_class')", (f"pgscore.{view}",))
        assert comment, view
        assert query(bi, f"SELECT count(*) >= 0 FROM (SELECT * FROM pgscore.{view} LIMIT 2000) s") == [(True,)]
    assert [k for k, (_, comment) in columns.items() if not comment] == []


def test_comments_say_what_precision_recall_and_the_deciles_compute(bi):
    """Since migration 0036 a score equal to the decision threshold is the negative class (as predict gives
    it) and calibration's deciles are by rank, equal scores sharing one: the comments a BI tool shows said
    "at or above the decision threshold" and "of equal counts"."""
    columns = synced_columns(bi)
    for view in ("realised_performance", "performance_by_day"):
        for metric in ("precision", "recall"):
            comment = columns[(view, metric)][1]
            assert "at or above" not in comment and "above the decision threshold" in comment, (view, metric)
            assert "negative class" in comment
    decile = columns[("calibration", "decile")][1]
    assert "of equal counts" not in decile and "by rank" in decile and "unequal counts" in decile
    (comment,), = query(bi, "SELECT pg_catalog.obj_description('pgscore.calibration'::regclass, 'pg_class')")
    assert "equal-count" not in comment and "by rank" in comment
    # realised performance's n counts judged predictions, and no performance view reports no_baseline
    assert columns[("realised_performance", "n")][1] == "How many predictions made in the window have a matched outcome"
    for view in ("realised_performance", "performance_by_day"):
        assert "no_baseline" not in columns[(view, "status")][1]


def test_the_reader_recomputes_the_drift_of_a_window_from_the_baseline_bins_and_the_counts(db_url, bi):
    """A BI tool that checks (or draws) drift needs the baseline's bins and shares next to a window's counts:
    the reader could call drift_counts() but not read pgscore.baselines, so the bins' edges and the training
    shares were out of its reach. pgscore.baseline_bins gives them; from it and drift_counts alone the reader
    gets feature_drift's PSI, KS, JS, mean shift and out-of-range share (numpy/scipy, to 1e-9), and each
    bin's edges put the logged values in the bin drift_counts counts them in."""
    X, y, names = datasets.churn(3000, seed=4)
    registry.deploy(db_url, "churn", LogisticRegression(max_iter=1000).fit(X, y), X, y, feature_names=names)
    Xc = datasets.churn(800, seed=5)[0]
    Xc[:, 1] += 0.5 * X[:, 1].std()  # monthly_charges shifted half a standard deviation up
    Xc[:40, 0] = X[:, 0].max() + 1  # and a few tenures past the training maximum
    query(db_url, "SELECT count(pgscore.score('churn', ARRAY(SELECT x::float8 FROM jsonb_array_elements_text(f) x), "
                  "p_key => i::text)) FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY u(f, i)",
          (json.dumps(Xc.tolist()),))
    bins = query(bi, "SELECT feature, position, bin, lower_edge, upper_edge, expected, baseline_mean, baseline_std, "
                     "baseline_min, baseline_max FROM pgscore.baseline_bins WHERE model = 'churn' AND kind = 'feature' "
                     "ORDER BY position, bin")
    counts = dict(((p, b), (n, total, n_out)) for p, b, n, total, n_out in query(
        bi, "SELECT c.position, c.bin, c.n, c.total, c.n_out FROM pgscore.drift_counts('window', '1 day') c "
            "JOIN pgscore.model_versions v ON v.model_id = c.model_id AND v.live AND v.name = 'churn' "
            "WHERE c.kind = 'feature'"))
    views = {f: r for f, *r in query(bi, "SELECT feature, psi, ks, js, mean_shift, out_of_range, n "
                                         "FROM pgscore.feature_drift WHERE model = 'churn' AND window_name = '1 day'")}
    assert {r[0] for r in bins} == set(names) == set(views)
    for feature in names:
        rows = [r for r in bins if r[0] == feature]
        pos = rows[0][1]
        assert [r[2] for r in rows] == list(range(len(rows)))
        assert rows[0][3] is None and rows[-1][4] is None  # open-ended at both ends
        assert all(a[4] == b[3] for a, b in zip(rows, rows[1:]))  # each bin ends where the next begins
        e = np.array([r[5] for r in rows])
        n = np.array([counts.get((pos, r[2]), (0,))[0] for r in rows], dtype=float)
        c = n / n.sum()
        psi, ks, js, shift, oor, n_view = views[feature]
        assert n.sum() == n_view == 800
        cf, ef = np.maximum(c, 1e-4), np.maximum(e, 1e-4)
        assert abs(np.sum((cf - ef) * np.log(cf / ef)) - psi) < 1e-9, feature
        assert abs(np.max(np.abs(np.cumsum(c) - np.cumsum(e))[:-1], initial=0) - ks) < 1e-9, feature
        assert abs(jensenshannon(c, e, base=2) - js) < 1e-9, feature
        mean = sum(counts.get((pos, r[2]), (0, 0.0))[1] for r in rows) / n.sum()
        assert abs((mean - rows[0][6]) / rows[0][7] - shift) < 1e-9, feature
        assert sum(counts.get((pos, r[2]), (0, 0, 0))[2] for r in rows) / n.sum() == oor, feature
        # the edges bin the values as drift_counts did
        lo = np.array([-np.inf if r[3] is None else r[3] for r in rows])
        mine = np.bincount(np.searchsorted(lo, Xc[:, pos], side="right") - 1, minlength=len(rows))
        assert mine.tolist() == n.astype(int).tolist(), feature
        if feature == "tenure_months":
            assert oor == 40 / 800 and rows[-1][9] == X[:, 0].max()
    assert views["monthly_charges"][3] > 0.4 and abs(views["support_calls"][3]) < 0.2


def test_the_reader_reads_each_logged_feature_by_name_a_word_as_its_word(db_url, bi):
    """Explaining a score: predictions.features holds the values by position and a text feature's codes, which a
    reader decoded by hand against model_versions (and the obvious jsonb decode, text_categories -> f ->> code,
    turned an unknown word's -1 into the LAST word). features_by_name (migration 0128, the view's last column:
    BI tools keep the columns' order) gives each feature by name, a word as its word, an unknown word as
    "(unknown word)", a NULL or NaN as null; a number as the number."""
    X = np.array([[float(i % 7), ["basic", "plus", "pro"][i % 3]] for i in range(60)], dtype=object)
    y = [i % 2 for i in range(60)]
    ct = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), [1]), ("num", SimpleImputer(), [0])])
    model = Pipeline([("ct", ct), ("lr", LogisticRegression())]).fit(X, y)
    registry.deploy(db_url, "explained", model, X, y, feature_names=["age", "plan"])
    rows = {"a": {"age": 3.5, "plan": "pro"}, "b": {"age": None, "plan": "platinum"}, "c": {"age": 2, "plan": None},
            "d": {"age": 0, "plan": "basic"}}
    for key, features in rows.items():
        query(db_url, "SELECT pgscore.score('explained', %s::jsonb, p_key => %s)", (json.dumps(features), key))
    got = dict(query(bi, "SELECT entity_key, features_by_name FROM pgscore.predictions WHERE model = 'explained'"))
    assert got == {"a": {"age": 3.5, "plan": "pro"}, "b": {"age": None, "plan": "(unknown word)"},
                   "c": {"age": 2, "plan": None}, "d": {"age": 0, "plan": "basic"}}
    # the log holds the codes (the unknown word -1, NaN for NULL): the column decodes them, -1 not as 'pro'
    assert query(bi, "SELECT features[2] FROM pgscore.predictions WHERE entity_key = 'b'") == [(-1.0,)]
    # codes given by position that are no word's (past the list, negative, a fraction): the model scored each as an
    # unknown word, and the column says so (1.5 as an integer was 'pro', 7 and -2 were null, read as missing)
    unknown = query(db_url, "SELECT pgscore.score('explained', ARRAY[1, -1]::float8[])")[0][0]
    for key, code in (("e", 7.0), ("f", -2.0), ("g", 1.5)):
        got, = query(db_url, "SELECT pgscore.score('explained', %s::float8[], p_key => %s)", ([1.0, code], key))[0]
        assert abs(got - unknown) < 1e-12, code
    got = dict(query(bi, "SELECT entity_key, features_by_name ->> 'plan' FROM pgscore.predictions "
                         "WHERE entity_key IN ('e', 'f', 'g')"))
    assert got == {"e": "(unknown word)", "f": "(unknown word)", "g": "(unknown word)"}, got
    # appended: the columns before it in their order
    with bi.cursor() as cur:
        cur.execute("SELECT * FROM pgscore.predictions LIMIT 0")
        assert [d.name for d in cur.description] == ["logged_at", "model", "version", "model_id", "entity_key",
                                                     "features", "score", "label", "source", "cause",
                                                     "features_by_name", "written_by"]  # (then 0139's)
    assert "unknown word" in synced_columns(bi)[("predictions", "features_by_name")][1]
    # a model without words: its numbers, NaN as null
    Xn, yn, names = datasets.churn(200, seed=1)
    numbers = Pipeline([("i", SimpleImputer()), ("lr", LogisticRegression(max_iter=500))]).fit(Xn, yn)
    registry.deploy(db_url, "numbers", numbers, Xn, yn, feature_names=names)
    query(db_url, "SELECT pgscore.score('numbers', %s::float8[], p_key => 'n')",
          ([1.5] + [float("nan")] * (len(names) - 1),))
    (decoded,), = query(bi, "SELECT features_by_name FROM pgscore.predictions WHERE entity_key = 'n'")
    assert decoded == dict(zip(names, [1.5] + [None] * (len(names) - 1)))


def test_maintain_waits_a_bounded_time_behind_a_readers_open_transaction(db_url, bi):
    """A BI tool's transaction left open after it read pgscore.predictions holds the log's ACCESS SHARE
    lock: retention (DROP of a day's partition) queued behind it for as long as it stayed open, and every
    scoring statement that logs queued behind retention. maintain now waits --lock-timeout (default 10s),
    then fails, changing nothing, saying where to look."""
    import time

    from helpers import pgscore_cli

    query(db_url, "SELECT pgscore.create_log_partitions(0, ((now() AT TIME ZONE 'UTC') - interval '10 days')::date)")
    old = query(db_url, "SELECT 'prediction_log_' || to_char((now() AT TIME ZONE 'UTC') - interval '10 days', "
                        "'YYYYMMDD')")[0][0]
    bi.autocommit = False
    with bi.cursor() as cur:
        cur.execute("SELECT count(*) FROM pgscore.predictions")  # and the transaction stays open
    started = time.monotonic()
    r = pgscore_cli("maintain", "--keep", "3 days", "--lock-timeout", "1s", "--db", db_url, timeout=60)
    assert time.monotonic() - started < 30
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "waited 1s for a lock another session holds on the prediction log; nothing was changed" in r.stderr
    assert "pg_stat_activity" in r.stderr and "idle in transaction" in r.stderr
    bi.rollback()
    assert query(db_url, "SELECT to_regclass(%s) IS NOT NULL", (f"pgscore.{old}",)) == [(True,)]
    # once the reader's transaction is over, the same retention goes through
    r = pgscore_cli("maintain", "--keep", "3 days", "--lock-timeout", "1s", "--db", db_url, timeout=60)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert query(db_url, "SELECT to_regclass(%s) IS NULL", (f"pgscore.{old}",)) == [(True,)]
    r = pgscore_cli("maintain", "--lock-timeout", "10", "--db", db_url)
    assert r.returncode == 2 and "--lock-timeout" in r.stderr
