"""pgscore inside the SQL people write: materialized views, cursors across a deploy, the places PostgreSQL
wants an immutable function, parallel plans, EXPLAIN ANALYZE, errors caught in PL/pgSQL (docs/sql.md, "In the
SQL you write")."""

import psycopg2
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from helpers import query
from pgscore import datasets, registry

X, Y, NAMES = datasets.churn(300, seed=11)
ROW = X[0].tolist()


def _shop(url):
    """churn v1 and v2 (v2 live, scoring differently) and a table of 20 rows to score."""
    for c in (1.0, 0.001):
        registry.deploy(url, "churn", make_pipeline(StandardScaler(), LogisticRegression(C=c)).fit(X, Y), X, Y,
                        feature_names=NAMES)
    query(url, "CREATE TABLE t AS SELECT i AS id, %s::float8[] AS f FROM generate_series(1, 20) i", (ROW,))


@pytest.fixture
def db_url(built_template, clone_of):
    """A fresh clone of the migrated schema with _shop's models and table (built once, not for each test)."""
    return clone_of(built_template(_shop))


@pytest.fixture
def shop(db_url):
    """An autocommit connection to db_url: _shop's churn v1 and v2 and table t."""
    c = psycopg2.connect(db_url)
    c.autocommit = True
    yield c
    c.close()


def versions_logged(conn, prefix):
    return query(conn, "SELECT version, count(*) FROM pgscore.predictions WHERE entity_key LIKE %s "
                       "GROUP BY 1 ORDER BY 1", (prefix + "%",))


def test_a_materialized_view_that_scores_says_what_to_do(shop):
    """Its query runs as a security-restricted operation, where PostgreSQL refuses the deferred trigger that
    writes the audit log at commit: the bare "cannot fire deferred trigger within security-restricted
    operation" (42501) came out of pgscore.score."""
    mv = "CREATE MATERIALIZED VIEW mv AS SELECT id, pgscore.score('churn', f, p_key => 'mv' || id) AS s FROM t"
    with pytest.raises(psycopg2.Error) as e:
        query(shop, mv)
    assert e.value.pgcode == "0A000", e.value.pgerror
    assert "MATERIALIZED VIEW" in e.value.diag.message_primary and "log_queries" in e.value.diag.message_hint
    assert "pgscore.predict_batch" in e.value.diag.message_hint  # the way that logs (session 64; said nowhere before)
    with shop.cursor() as cur:  # without logging it scores
        cur.execute("BEGIN")
        cur.execute("SET LOCAL pgscore.log_queries = off")
        cur.execute(mv)
        cur.execute("COMMIT")
    assert query(shop, "SELECT count(s) FROM mv") == [(20,)] and versions_logged(shop, "mv") == []
    with pytest.raises(psycopg2.Error) as e:
        query(shop, "REFRESH MATERIALIZED VIEW mv")
    assert e.value.pgcode == "0A000"
    with shop.cursor() as cur:  # a transaction that logged before: the refresh's predictions are logged too
        cur.execute("BEGIN")
        cur.execute("SELECT pgscore.score('churn', f, p_key => 'before') FROM t WHERE id = 1")
        cur.execute("REFRESH MATERIALIZED VIEW mv")
        cur.execute("COMMIT")
    assert versions_logged(shop, "mv") == [(2, 20)]
    # a table is the way that always logs
    query(shop, "CREATE TABLE scored AS SELECT id, pgscore.score('churn', f, p_key => 'cta' || id) AS s FROM t")
    assert versions_logged(shop, "cta") == [(2, 20)]


def test_a_materialized_view_on_predict_batch_logs_its_create_and_each_refresh(shop):
    """The way the refusal above (and docs/sql.md, docs/guide.md "From dbt and BI tools") points to: predict_batch
    writes its audit rows itself, not through the commit-time trigger, so a materialized view built on it scores
    and logs at its CREATE and at each REFRESH, CONCURRENTLY too (a unique index), in a transaction block or not;
    each one a run of its own (cause->>'run', session 64)."""
    with shop.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute("CREATE MATERIALIZED VIEW mv AS SELECT key::bigint AS id, score AS churn "
                    "FROM pgscore.predict_batch('churn', 'SELECT id, f AS features FROM public.t')")
        cur.execute("CREATE UNIQUE INDEX ON mv (id)")
        cur.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY mv")
        cur.execute("COMMIT")
    query(shop, "REFRESH MATERIALIZED VIEW mv")
    query(shop, "REFRESH MATERIALIZED VIEW CONCURRENTLY mv")
    assert query(shop, "SELECT count(churn), count(DISTINCT id) FROM mv") == [(20, 20)]
    runs = query(shop, "SELECT cause->>'run', cause->>'via', version, count(*) FROM pgscore.predictions "
                       "WHERE source = 'batch' GROUP BY 1, 2, 3 ORDER BY 1")
    assert [r[1:] for r in runs] == [("predict_batch", 2, 20)] * 4 and None not in {r[0] for r in runs}, runs
    assert len({r[0] for r in runs}) == 4


def test_a_view_that_scores_scores_every_row_it_reads_whatever_column_is_asked(shop):
    """PostgreSQL evaluates a volatile function of a view's select list for every row the view reads, read by the
    outer query or not (a view with one is not flattened into the query, and an unused volatile output is kept):
    a data engineer's dbt test of a key's uniqueness over a view of 300,000 scores scored and logged them all,
    18.6 s (session 64). A WHERE on the view's other columns is applied before it scores; with the query-path log
    off nothing is logged. What docs/sql.md ("views") and docs/guide.md ("From dbt and BI tools") say."""
    query(shop, "CREATE VIEW v AS SELECT id, pgscore.score('churn', f, p_key => 'v' || id) AS churn FROM t")
    assert query(shop, "SELECT count(*) FROM (SELECT id FROM v GROUP BY id HAVING count(*) > 1) AS u") == [(0,)]
    assert versions_logged(shop, "v") == [(2, 20)]  # a test of the key: every row scored and logged
    assert query(shop, "SELECT count(*) FROM v WHERE id <= 5") == [(5,)]
    assert versions_logged(shop, "v") == [(2, 25)]  # the filter first: 5 more
    query(shop, "SET pgscore.log_queries = off")
    assert query(shop, "SELECT count(*) FROM v WHERE churn IS NULL") == [(0,)]
    query(shop, "RESET pgscore.log_queries")
    assert versions_logged(shop, "v") == [(2, 25)]


def test_a_cursor_scores_each_fetch_with_the_version_live_then(shop, db_url):
    """Under READ COMMITTED a FETCH is a statement: a deployment between two FETCHes of one cursor scores the
    later rows with the new version (each audit row names the version that scored it); under REPEATABLE READ
    the cursor keeps the version of its snapshot."""
    other = psycopg2.connect(db_url)
    other.autocommit = True
    try:
        for level, expected in (("READ COMMITTED", [(1, 3), (2, 1)]), ("REPEATABLE READ", [(2, 4)])):
            query(other, "SELECT pgscore.activate('churn', 2)")
            tag = level.split()[0][:3].lower()
            with shop.cursor() as cur:
                cur.execute(f"BEGIN ISOLATION LEVEL {level}")
                cur.execute("DECLARE c CURSOR FOR SELECT pgscore.score('churn', f, p_key => %s || id) FROM t "
                            "WHERE id <= 4 ORDER BY id", (tag,))
                cur.execute("FETCH 1 FROM c")
                query(other, "SELECT pgscore.activate('churn', 1)")
                cur.execute("FETCH 3 FROM c")
                cur.execute("COMMIT")
            assert versions_logged(shop, tag) == expected, level
        # WITH HOLD: at COMMIT PostgreSQL runs the query again from its start to keep its rows, so a row
        # fetched before is scored (and logged) twice; declared and committed before any FETCH, once
        with shop.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("DECLARE h CURSOR WITH HOLD FOR SELECT pgscore.score('churn', f, p_key => 'hold' || id) "
                        "FROM t WHERE id <= 4 ORDER BY id")
            cur.execute("FETCH 1 FROM h")
            cur.execute("COMMIT")
            cur.execute("FETCH ALL FROM h")
            assert len(cur.fetchall()) == 3
            cur.execute("CLOSE h")
        assert query(shop, "SELECT count(*) FROM pgscore.predictions WHERE entity_key LIKE 'hold%'") == [(5,)]
    finally:
        other.close()


@pytest.mark.parametrize("ddl", [
    "CREATE TABLE g (f float8[], s float8 GENERATED ALWAYS AS (pgscore.score('churn', f)) STORED)",
    "CREATE INDEX ON t ((pgscore.score('churn', f)))",
    "CREATE INDEX ON t (id) WHERE pgscore.score('churn', f) > 0.5",
    "CREATE TABLE g (f float8[]) PARTITION BY RANGE ((pgscore.score('churn', f)))",
])
def test_postgres_refuses_a_score_where_it_wants_an_immutable_function(shop, ddl):
    with pytest.raises(psycopg2.Error) as e:
        query(shop, ddl)
    assert e.value.pgcode == "42P17" and "IMMUTABLE" in e.value.pgerror.upper()


def test_a_check_constraint_that_scores_is_taken_and_scores_every_write(shop):
    """PostgreSQL does not ask a CHECK to be immutable: it scores (and logs) every row written, with the version
    live then, and is not checked again at a deploy (docs/sql.md: use a trigger or attach_rescoring)."""
    query(shop, "CREATE TABLE c (id int, f float8[] CHECK (pgscore.score('churn', f, p_key => 'chk' || id) < 2))")
    query(shop, "INSERT INTO c SELECT id, f FROM t WHERE id <= 3")
    assert versions_logged(shop, "chk") == [(2, 3)]


def test_a_query_that_scores_runs_without_parallel_workers_and_explain_analyze_scores(shop):
    query(shop, "SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;"
                "SET min_parallel_table_scan_size = 0")
    plain = "\n".join(r[0] for r in query(shop, "EXPLAIN SELECT count(*) FROM t"))
    assert "Gather" in plain
    sql = "SELECT avg(pgscore.score('churn', f, p_key => 'ex' || id)) FROM t"
    scored = "\n".join(r[0] for r in query(shop, "EXPLAIN " + sql))
    assert "Gather" not in scored  # PARALLEL UNSAFE: the whole query runs in one backend
    assert versions_logged(shop, "ex") == []  # EXPLAIN alone runs nothing
    query(shop, "EXPLAIN ANALYZE " + sql)
    assert versions_logged(shop, "ex") == [(2, 20)]  # EXPLAIN ANALYZE runs the query: scored and logged


def test_an_error_of_pgscore_caught_in_plpgsql(shop):
    query(shop, """CREATE FUNCTION caught() RETURNS text LANGUAGE plpgsql AS $$
        DECLARE v_state text; v_message text; v_hint text;
        BEGIN
            PERFORM pgscore.score('nope', ARRAY[1]::float8[]);
            RETURN 'scored';
        EXCEPTION WHEN undefined_object THEN
            GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT, v_hint = PG_EXCEPTION_HINT;
            RETURN v_state || ' ' || v_message || ' / ' || v_hint;
        END $$""")
    assert query(shop, "SELECT caught()") == [(
        "42704 pgscore: there is no model 'nope' / list models with: SELECT * FROM pgscore.model_versions",)]
