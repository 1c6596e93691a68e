"""A shadow against the live version (migration 0138; session 62's trial T12, findings 3, 4 and 6):
pgscore.shadow_pairs pairs each shadow prediction with its own statement's live prediction once (the guide's join
on logged_at gave 3 x 3 = 9 pairs for three statements of one transaction), pgscore.shadow_comparison sums them,
pgscore.realised_against_live says which judged predictions are older than the live version's, and
`pgscore shadows` prints them, for a pgscore_reader too."""

import psycopg2
import pytest
from psycopg2 import sql as pgsql
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from helpers import ensure_role, make_shop, pgscore_cli, query
from pgscore import datasets, registry
from pgscore.datasets import CHURN_FEATURES

N = 30
# the guide's join before session 63 (docs/guide.md, "Shadow scoring"), without the cause's statement_at
GUIDE_JOIN = ("SELECT count(*) FROM pgscore.predictions s JOIN pgscore.predictions l ON l.entity_key = s.entity_key "
              "AND l.logged_at = s.logged_at AND l.source <> 'shadow' AND l.model = 'churn' "
              "WHERE s.source = 'shadow' AND s.model = 'churn' AND s.version = 2 AND s.entity_key = %s")


@pytest.fixture(scope="module")
def trained():
    X, y, _ = datasets.churn(1500, seed=5)
    v1 = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)
    v2 = RandomForestClassifier(n_estimators=5, max_depth=3, random_state=0).fit(X, y)
    return v1, v2, X, y


@pytest.fixture(scope="module")
def shop_template(built_template, trained):
    v1, v2, X, y = trained

    def build(url):
        make_shop(url, v1, X, y, N, rescore=True).close()
        registry.deploy(url, "churn", v2, X, y, feature_names=CHURN_FEATURES, activate=False)

    return built_template(build)


@pytest.fixture
def shop(db_url):
    conn = psycopg2.connect(db_url)
    conn.autocommit = True
    query(conn, "SELECT pgscore.set_shadow('churn', 2)")
    yield conn
    conn.close()


def raw_pairs(conn):
    """The pairs recounted from the raw log: a shadow row and the live row of the same entity, transaction and
    statement time whose features are the shadow's (both versions read the same 12 features of the profile as it
    was after that statement), each live row taken once."""
    rows = query(conn, "SELECT l.source, m.version, l.entity_key, l.logged_at, l.cause->>'statement_at', l.features, "
                       "l.score, m.metrics->>'threshold' FROM pgscore.prediction_log l JOIN pgscore.models m "
                       "USING (model_id) ORDER BY l.logged_at, l.entity_key")
    live = [r for r in rows if r[0] != "shadow"]
    used, pairs = set(), []
    for s in (r for r in rows if r[0] == "shadow"):
        i = next(i for i, r in enumerate(live) if i not in used and r[2:6] == s[2:6])
        used.add(i)
        pairs.append((live[i], s))
    return pairs


def insert(cur, key):
    cur.execute("INSERT INTO complaints (customer_id, kind) VALUES (%s, 'billing')", (key,))


def test_shadow_pairs_pair_each_shadow_row_with_its_own_statements_live_row_once(shop, db_url):
    with psycopg2.connect(db_url) as conn, conn.cursor() as cur:  # one transaction, three statements for 7
        for _ in range(3):
            insert(cur, 7)
    conn.close()
    # one statement that inserts three times (a function: its statements share statement_at): 8
    query(shop, "DO $$ BEGIN FOR i IN 1..3 LOOP INSERT INTO complaints (customer_id, kind) VALUES (8, 'billing'); "
                "END LOOP; END $$")
    assert query(shop, GUIDE_JOIN, ("7",)) == [(9,)]  # the guide's old join: each shadow row with 3 live rows
    assert query(shop, GUIDE_JOIN, ("8",)) == [(9,)]
    query(shop, "CALL pgscore.score_table('churn', 'customers', 'id', 'churn_score', 20)")  # 2 chunks, N rows
    got = query(shop, "SELECT entity_key, live_version, shadow_version, live_score, shadow_score, live_source, "
                      "abs_diff, decision_changed FROM pgscore.shadow_pairs WHERE model = 'churn' ORDER BY 1")
    raw = raw_pairs(shop)
    assert len(got) == len(raw) == 3 + 3 + N
    assert sorted((k, 1, 2, round(ls, 12), round(ss, 12)) for k, _, _, ls, ss, *_ in got) == sorted(
        (l_[2], l_[1], s[1], round(l_[6], 12), round(s[6], 12)) for l_, s in raw)
    by_trigger = [r for r in got if r[5] == "trigger"]
    assert [r[0] for r in by_trigger] == ["7"] * 3 + ["8"] * 3 and len(got) - len(by_trigger) == N
    # the three of one transaction (and of one statement) each with its own statement's: 7's and 8's complaint
    # counters 1, 2, 3, three different pairs each
    assert len({(r[3], r[4]) for r in by_trigger if r[0] == "7"}) == 3
    assert len({(r[3], r[4]) for r in by_trigger if r[0] == "8"}) == 3
    assert {r[5] for r in got} == {"trigger", "batch"}
    assert all(r[6] == pytest.approx(abs(r[4] - r[3]), abs=1e-15) for r in got)
    # the summary against a recount from the raw log
    t1 = float(raw[0][0][7] or 0.5)
    t2 = float(raw[0][1][7] or 0.5)
    diffs = [abs(s[6] - l_[6]) for l_, s in raw]
    changed = sum((l_[6] > t1) != (s[6] > t2) for l_, s in raw)
    assert sum(bool(r[7]) for r in got) == changed
    summary = query(shop, "SELECT model, shadow_version, live_version, in_shadow, pairs, decisions_compared, "
                          "decisions_changed, decisions_changed_share, mean_abs_diff, max_abs_diff, failed_statements, "
                          "labelled_pairs, label_agreement FROM pgscore.shadow_comparison")
    assert len(summary) == 1
    s = summary[0]
    assert s[:7] == ("churn", 2, 1, True, len(raw), len(raw), changed)
    assert s[7] == pytest.approx(changed / len(raw)) and s[8] == pytest.approx(sum(diffs) / len(diffs))
    assert s[9] == pytest.approx(max(diffs)) and s[10:] == (0, 0, None)


def test_a_statement_the_shadow_did_not_score_in_leaves_the_next_ones_paired_with_their_own(shop):
    """Three rescorings of 9 in one statement (a function), the shadow scoring the second and third alone (it
    failed in the first, or was set in between): its two rows are the second and third statements' and must pair
    with those statements' live rows, not with the first and second by rank."""
    query(shop, "SELECT pgscore.clear_shadow('churn')")
    query(shop, "DO $$ BEGIN INSERT INTO complaints (customer_id, kind) VALUES (9, 'billing'); "
                "PERFORM pgscore.set_shadow('churn', 2); "
                "INSERT INTO complaints (customer_id, kind) VALUES (9, 'billing'); "
                "INSERT INTO complaints (customer_id, kind) VALUES (9, 'billing'); END $$")
    raw = raw_pairs(shop)
    assert len(raw) == 2  # (the live rows of the second and third statements: their features are the shadow's)
    got = query(shop, "SELECT live_score, shadow_score FROM pgscore.shadow_pairs WHERE entity_key = '9' ORDER BY 2")
    assert got == sorted(((l_[6], s[6]) for l_, s in raw), key=lambda r: r[1])


def test_shadow_comparison_has_a_row_for_a_shadow_with_no_pair_and_counts_its_failures(shop, trained):
    assert query(shop, "SELECT model, shadow_version, live_version, in_shadow, pairs, failed_statements "
                       "FROM pgscore.shadow_comparison") == [("churn", 2, None, True, 0, 0)]
    # (the counts as count_shadow_failure keeps them, one row per backend: summed)
    query(shop, "INSERT INTO pgscore.shadow_failures SELECT model_id, 'public.customers', '22P02', p, 2, 30, now(), "
                "now(), 'x' FROM pgscore.models, generate_series(1, 2) p WHERE version = 2")
    assert query(shop, "SELECT pairs, failed_statements, failed_profiles FROM pgscore.shadow_comparison") == [
        (0, 4, 60)]
    query(shop, "SELECT pgscore.clear_shadow('churn')")
    assert query(shop, "SELECT count(*) FROM pgscore.shadow_comparison") == [(0,)]


def test_realised_against_live_says_which_judged_predictions_are_older_than_the_live_ones(shop):
    insert_ = "INSERT INTO complaints (customer_id, kind) VALUES (%s, 'billing')"
    query(shop, insert_, (12,))  # v1 and v2 in one statement
    query(shop, insert_, (14,))
    query(shop, "SELECT pgscore.clear_shadow('churn')")
    query(shop, "SELECT pg_sleep(0.05)")
    query(shop, insert_, (14,))  # v1 alone: v2's prediction of 14 is older now, on fewer complaints
    for key, y in (("12", "1"), ("14", "0")):
        query(shop, "SELECT pgscore.record_outcome('churn', %s, %s, now() + interval '1 second')", (key, y))
    log = {(v, k, t): s for v, k, t, s in query(
        shop, "SELECT m.version, l.entity_key, l.logged_at, l.score FROM pgscore.prediction_log l "
              "JOIN pgscore.models m USING (model_id)")}
    newest = {}
    for (v, k, t), s in sorted(log.items(), key=lambda kv: kv[0][2]):
        newest[(v, k)] = (t, s)
    rows = query(shop, "SELECT model, version, live_version, outcomes, same_transaction, older_than_live, "
                       "max_behind_live, newer_than_live, brier, live_brier, accuracy, live_accuracy, mae, live_mae "
                       "FROM pgscore.realised_against_live")
    assert len(rows) == 1
    r = rows[0]
    behind = newest[(1, "14")][0] - newest[(2, "14")][0]
    assert r[:6] == ("churn", 2, 1, 2, 1, 1) and r[6] == behind and behind.total_seconds() > 0 and r[7] == 0
    # the metrics on 12 alone, the outcome both predicted in the same transaction
    s2, s1 = newest[(2, "12")][1], newest[(1, "12")][1]
    assert r[8] == pytest.approx((s2 - 1) ** 2) and r[9] == pytest.approx((s1 - 1) ** 2)
    assert r[10] == float(s2 > 0.5) and r[11] == float(s1 > 0.5)
    assert r[12:] == (None, None)  # (a classifier's: no mean absolute error, where least() gave 1e140)


def test_the_views_are_the_readers_and_commented(shop, db_url):
    ensure_role(db_url, "pgscore_t_cmp_reader", login=True)
    query(db_url, "GRANT pgscore_reader TO pgscore_t_cmp_reader")
    reader = db_url.replace("postgresql://postgres@", "postgresql://pgscore_t_cmp_reader@")
    for view in ("shadow_pairs", "shadow_comparison", "realised_against_live"):
        assert query(reader, f"SELECT count(*) >= 0 FROM pgscore.{view}") == [(True,)]
        assert query(shop, "SELECT obj_description(%s::regclass, 'pg_class') IS NOT NULL",
                     (f"pgscore.{view}",)) == [(True,)]
        assert query(shop, "SELECT array_agg(attname) FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
                           "AND col_description(attrelid, attnum) IS NULL", (f"pgscore.{view}",)) == [(None,)]
    app = query(shop, "SELECT has_table_privilege('pgscore_app', 'pgscore.shadow_pairs', 'SELECT')")
    assert app == [(False,)]


def test_the_cli_prints_each_shadow_against_the_live_version_for_a_reader(shop, db_url):
    ensure_role(db_url, "pgscore_t_cmp_reader", login=True)
    query(db_url, "GRANT pgscore_reader TO pgscore_t_cmp_reader")
    reader = db_url.replace("postgresql://postgres@", "postgresql://pgscore_t_cmp_reader@")
    run = pgscore_cli("shadows", "--db", reader)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("churn v2 in shadow since ") and "next to v1" in run.stdout, run.stdout
    assert "pairs: none yet" in run.stdout and "failures: none counted" in run.stdout, run.stdout
    query(shop, "CALL pgscore.score_table('churn', 'customers', 'id', 'churn_score', 100)")
    query(shop, "SELECT pgscore.record_outcome('churn', '3', '1', now() + interval '1 second')")
    run = pgscore_cli("shadows", "churn", "--db", reader)
    assert run.returncode == 0, run.stderr
    (changed, compared), = query(shop, "SELECT decisions_changed, decisions_compared FROM pgscore.shadow_comparison")
    assert f"  against v1: {N} pairs (" in run.stdout and f"decisions changed {changed} of {compared} (" in run.stdout
    assert "outcomes judging both: 1, 1 of them predictions of the same transaction\n" in run.stdout, run.stdout
    assert "  on those 1: accuracy " in run.stdout and "brier " in run.stdout, run.stdout
    run = pgscore_cli("shadows", "chrun", "--db", reader)
    assert run.returncode == 1 and "there is no model 'chrun' (SQLSTATE 42704)" in run.stderr, run.stderr
    assert "churn" in run.stderr.split("Hint:")[1], run.stderr
    query(shop, "SELECT pgscore.clear_shadow('churn')")
    run = pgscore_cli("shadows", "--db", reader)
    assert (run.returncode, run.stdout) == (0, "no version is scored in shadow (set one with: pgscore shadow NAME "
                                               "VERSION)\n"), run.stdout + run.stderr
    run = pgscore_cli("shadows", "", "--db", reader)
    assert run.returncode == 2 and "NAME is empty" in run.stderr, run.stderr


def test_each_version_is_judged_on_its_last_statements_score_in_one_transaction(shop, db_url):
    """Review r3: a transaction of three INSERTs for one customer logs three rows of each version sharing logged_at;
    outcome matching took each version's newest by logged_at alone, so v1 could be judged on its first statement's
    score and v2 on its second. Each is judged on its last statement's (statement_at, then the command: cmin),
    and realised_against_live compares them on the same statement's features. record_outcome and a rebuild
    (refresh_monitoring, match_outcomes) alike."""
    with psycopg2.connect(db_url) as conn, conn.cursor() as cur:
        for _ in range(3):
            insert(cur, 21)
    conn.close()
    query(shop, "DO $$ BEGIN FOR i IN 1..3 LOOP INSERT INTO complaints (customer_id, kind) VALUES (22, 'billing'); "
                "END LOOP; END $$")
    last = {}
    for key in ("21", "22"):
        rows = query(shop, "SELECT m.version, l.score, (l.cause->>'statement_at')::timestamptz, l.cmin::text::int "
                           "FROM pgscore.prediction_log l JOIN pgscore.models m USING (model_id) "
                           "WHERE l.entity_key = %s ORDER BY 3, 4", (key,))
        assert len(rows) == 6 and len({r[1] for r in rows if r[0] == 1}) == 3, rows  # three different scores
        for v in (1, 2):
            last[(key, v)] = [r[1] for r in rows if r[0] == v][-1]
    for key in ("21", "22"):
        query(shop, "SELECT pgscore.record_outcome('churn', %s, '1', now() + interval '1 second')", (key,))

    def judged():
        return {(k, v): s for k, v, s in query(
            shop, "SELECT o.entity_key, m.version, vm.score FROM pgscore.outcome_version_matches vm "
                  "JOIN pgscore.outcomes o USING (outcome_id) JOIN pgscore.models m USING (model_id)")}

    assert judged() == last
    assert query(shop, "SELECT entity_key, judged_score FROM pgscore.outcomes ORDER BY 1") == [
        ("21", last[("21", 1)]), ("22", last[("22", 1)])]
    # a rebuild corrects one judged on another statement of the same transaction (as before 0144)
    query(shop, "UPDATE pgscore.outcome_version_matches SET score = -1")
    query(shop, "UPDATE pgscore.outcomes SET judged_score = -1")
    query(shop, "SELECT pgscore.refresh_monitoring(p_rebuild => true)")
    assert judged() == last
    assert query(shop, "SELECT entity_key, judged_score FROM pgscore.outcomes ORDER BY 1") == [
        ("21", last[("21", 1)]), ("22", last[("22", 1)])]
    assert query(shop, "SELECT outcomes, same_transaction FROM pgscore.realised_against_live") == [(2, 2)]


def test_a_log_row_whose_cause_has_no_valid_statement_at_stops_no_outcome_and_no_refresh(shop):
    """Review r8: 0144 sorted one transaction's rows by (cause->>'statement_at')::timestamptz, a cast that raised on
    a row whose cause's statement_at is no time, and pgscore_app may INSERT a log row with any cause: one such row
    made record_outcome fail for its entity and refresh_monitoring (match_outcomes) fail for every model. Such a
    row sorts as one without statement_at (last of its transaction)."""
    query(shop, "INSERT INTO complaints (customer_id, kind) VALUES (21, 'billing')")
    query(shop, "SET ROLE pgscore_app; INSERT INTO pgscore.prediction_log (model_id, entity_key, features, score, "
                "source, cause) SELECT l.model_id, '21', l.features, 0.25, 'query', '{\"statement_at\": \"soon\"}' "
                "FROM pgscore.prediction_log l WHERE l.entity_key = '21' AND l.source = 'trigger' LIMIT 1; RESET ROLE")
    query(shop, "SELECT pgscore.record_outcome('churn', '21', '1', now() + interval '1 hour')")
    query(shop, "SELECT pgscore.refresh_monitoring()")
    query(shop, "SELECT pgscore.refresh_monitoring(p_rebuild => true)")
    assert query(shop, "SELECT entity_key, judged_score FROM pgscore.outcomes") == [("21", 0.25)]


def test_one_statements_rows_are_told_apart_by_the_command_not_the_physical_order(shop, db_url):
    """Review r8: the tie-break's command (cmin) was not what any test depended on: rows written in order lie in
    that physical order too, and ctid alone gave the same answers. Three rows of one transaction and one statement
    time (a DO block's statements), scored 0.9, 0.5, 0.1 in that order, then the partition rewritten in score order
    (CLUSTER keeps each row's cmin, not its place): the last written, 0.1, is judged, by record_outcome and by a
    rebuild alike."""
    (v1,), = query(shop, "SELECT model_id FROM pgscore.models WHERE name = 'churn' AND version = 1")
    with psycopg2.connect(db_url) as conn, conn.cursor() as cur:  # one transaction
        for score in (0.9, 0.5, 0.1):
            cur.execute("INSERT INTO pgscore.prediction_log (logged_at, model_id, entity_key, features, score, source, "
                        "cause) SELECT now() - interval '1 hour', %s, 'c1', array_fill(0::float8, ARRAY[12]), %s, "
                        "'trigger', jsonb_build_object('statement_at', '2026-01-01T00:00:00.000000+00:00')",
                        (v1, score))
    conn.close()
    (schema, table), = query(shop, "SELECT DISTINCT n.nspname, c.relname FROM pgscore.prediction_log l "
                                   "JOIN pg_class c ON c.oid = l.tableoid JOIN pg_namespace n ON n.oid = c.relnamespace "
                                   "WHERE l.entity_key = 'c1'")
    part = pgsql.Identifier(schema, table)
    query(shop, pgsql.SQL("CREATE INDEX r8_by_score ON {} (score); CLUSTER {} USING r8_by_score").format(part, part))
    assert [r[0] for r in query(shop, "SELECT score FROM pgscore.prediction_log WHERE entity_key = 'c1' "
                                      "ORDER BY ctid")] == [0.1, 0.5, 0.9]
    query(shop, "SELECT pgscore.record_outcome('churn', 'c1', '1')")
    judged = "SELECT o.judged_score, vm.score FROM pgscore.outcomes o JOIN pgscore.outcome_version_matches vm " \
             "USING (outcome_id) WHERE o.entity_key = 'c1' AND vm.model_id = %s"
    assert query(shop, judged, (v1,)) == [(0.1, 0.1)]
    query(shop, "UPDATE pgscore.outcome_version_matches SET score = -1")
    query(shop, "UPDATE pgscore.outcomes SET judged_score = -1")
    query(shop, "SELECT pgscore.refresh_monitoring(p_rebuild => true)")
    assert query(shop, judged, (v1,)) == [(0.1, 0.1)]


def _log_rows_read(plan):
    """Rows the plan's scans of the log's partitions returned (each loop's)."""
    own = plan.get("Actual Rows", 0) * plan.get("Actual Loops", 1) if plan.get(
        "Relation Name", "").startswith("prediction_log") else 0
    return own + sum(_log_rows_read(p) for p in plan.get("Plans", []))


def test_shadow_comparison_of_some_versions_reads_their_log_rows_alone(shop):
    """Review r3: the view summed every pair of the log and FULL JOINed shadow_versions, so `pgscore shadows`' filter
    on shadow_model_id never reached the log (one shadow with one pair: 51,001 pairs built, 13.4 s). Asked for a
    version with no shadow row, it reads no row of the log; asked for the shadow, its rows and their live rows."""
    query(shop, "CALL pgscore.score_table('churn', 'customers', 'id', 'churn_score', 100)")  # N pairs of v2
    v1, v2 = (query(shop, "SELECT model_id FROM pgscore.models WHERE name = 'churn' AND version = %s", (v,))[0][0]
              for v in (1, 2))
    explain = "EXPLAIN (ANALYZE, FORMAT JSON) SELECT * FROM pgscore.shadow_comparison WHERE shadow_model_id = ANY(%s)"
    (plan,), = query(shop, explain, ([v1],))
    assert _log_rows_read(plan[0]["Plan"]) == 0
    (plan,), = query(shop, explain, ([v2],))
    assert _log_rows_read(plan[0]["Plan"]) == 2 * N  # (each shadow row, and the live row it pairs with)
    assert query(shop, "SELECT shadow_version, pairs FROM pgscore.shadow_comparison WHERE shadow_model_id = ANY(%s)",
                 ([v1, v2],)) == [(2, N)]


def test_a_shadow_row_whose_cause_is_no_time_or_no_version_breaks_no_comparison(shop):
    """Review r8: shadow_pairs cast (cause->>'statement_at')::timestamptz and (cause->>'shadow_of')::bigint, and
    pgscore_app may INSERT a log row with any cause: one such shadow row, in a transaction that also rescored its
    entity (so that the pairing reads it), made shadow_pairs, shadow_comparison and pgscore shadows fail (22007,
    22P02) for its version. Such a row pairs with nothing now; the real pairs stay."""
    (before,), = query(shop, "SELECT pairs FROM pgscore.shadow_comparison WHERE model = 'churn' AND shadow_version = 2")
    for cause in ('{"statement_at": "soon", "shadow_of": %s}', '{"statement_at": "2026-01-01T00:00:00+00:00", '
                                                              '"shadow_of": "x"}'):
        # one transaction (one simple query): the event's live and shadow rows, then the app's own shadow row
        query(shop, "INSERT INTO complaints (customer_id, kind) VALUES (21, 'billing'); SET ROLE pgscore_app; "
                    "INSERT INTO pgscore.prediction_log (model_id, entity_key, features, score, source, cause) "
                    "SELECT l.model_id, '21', l.features, 0.25, 'shadow', "
                    "replace(%s, '%%s', (l.cause ->> 'shadow_of'))::jsonb FROM pgscore.prediction_log l "
                    "WHERE l.entity_key = '21' AND l.source = 'shadow' AND l.logged_at = now() LIMIT 1; RESET ROLE",
                    (cause,))
    assert query(shop, "SELECT pairs FROM pgscore.shadow_comparison WHERE model = 'churn' AND shadow_version = 2") \
        == [(before + 2,)]
    assert query(shop, "SELECT count(*) FROM pgscore.shadow_pairs WHERE entity_key = '21'") == [(2,)]


@pytest.mark.parametrize("style", ["iso_8601", "postgres_verbose", "sql_standard", "postgres"])
def test_the_cli_prints_how_far_behind_under_every_interval_style(shop, db_url, style):
    """Session 66's trial T21 (finding 1): `pgscore shadows` read realised_against_live.max_behind_live, an
    interval, through psycopg2, which reads only IntervalStyle 'postgres': under a role's or PGOPTIONS'
    'iso_8601' it stopped with `pgscore: error: iso_8601 intervalstyle currently not supported`, under
    'postgres_verbose' with a traceback (ValueError: invalid literal for int() ... '@ 2.29 secs'), and
    'sql_standard' misread a day and hours. It reads the seconds now."""
    insert_ = "INSERT INTO complaints (customer_id, kind) VALUES (%s, 'billing')"
    query(shop, insert_, (14,))  # v1 and v2 in one statement
    query(shop, "SELECT pgscore.clear_shadow('churn')")
    query(shop, "SELECT pg_sleep(0.05)")
    query(shop, insert_, (14,))  # v1 alone: v2's prediction of 14 is older now
    query(shop, "SELECT pgscore.set_shadow('churn', 2)")
    query(shop, "SELECT pgscore.record_outcome('churn', '14', '0', now() + interval '1 second')")
    (behind,), = query(shop, "SELECT max_behind_live FROM pgscore.realised_against_live")
    assert 0 < behind.total_seconds() < 60
    run = pgscore_cli("shadows", "churn", "--db", db_url, env={"PGOPTIONS": f"-c IntervalStyle={style}"})
    assert run.returncode == 0, run.stdout + run.stderr
    secs = int(round(behind.total_seconds()))
    assert f"1 judge a prediction of v2 older than v1's (by up to 00:00:{secs:02d}, on older features)" \
        in run.stdout, run.stdout
