"""score_table (score_chunk, pgscore score) and a feature column PostgreSQL generates from another column
(GENERATED ALWAYS AS (...) STORED): a score column (p_into, --into) or label column (p_label_into, --label-into) that
such a feature is computed from is refused before anything is written (a new user's --label-into region made the
feature region_code NULL in every row); and the audit rows of a chunk scored in Python log the features the model
scored, the row as it was read, not as the UPDATE left it (a BEFORE UPDATE trigger's change)."""

import numpy as np
import psycopg2
import pytest
from sklearn.linear_model import Ridge
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from helpers import ensure_role, pgscore_cli, query
from pgscore import registry

RNG = np.random.default_rng(5)
X = np.column_stack([RNG.uniform(0, 10, 200), RNG.uniform(0, 20, 200), RNG.integers(0, 4, 200).astype(float)])
REGIONS = ["north", "south", "east", "west"]


def sql_error(conn, sql, params=None):
    with pytest.raises(psycopg2.Error) as e:
        query(conn, sql, params)
    return e.value


def customers(conn, n=30, partitioned=False):
    """Table customers: x, y and region_code, a feature generated from the text column region (partitioned: in
    two partitions by id)."""
    query(conn, "CREATE TABLE customers (id int PRIMARY KEY, x float8, y float8, region text, region_code int "
                "GENERATED ALWAYS AS (array_position(ARRAY['north','south','east','west'], region) - 1) STORED, "
                "s float8, lab text)" + (" PARTITION BY RANGE (id)" if partitioned else ""))
    if partitioned:
        query(conn, "CREATE TABLE customers_a PARTITION OF customers FOR VALUES FROM (0) TO (13)")
        query(conn, "CREATE TABLE customers_b PARTITION OF customers FOR VALUES FROM (13) TO (MAXVALUE)")
    for i, r in enumerate(X[:n].tolist()):
        query(conn, "INSERT INTO customers (id, x, y, region) VALUES (%s, %s, %s, %s)",
              (i, r[0], r[1], REGIONS[int(r[2])]))


def untouched(conn, n=30):
    assert query(conn, "SELECT count(s), count(lab), count(region_code) FROM customers") == [(0, 0, n)]
    assert query(conn, "SELECT count(*) FROM pgscore.prediction_log") == [(0,)]


def test_a_label_column_a_generated_feature_is_computed_from_is_refused_before_anything_is_written(conn):
    y = (X[:, 0] > 5).astype(int)
    registry.deploy(conn.dsn, "m", DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y), X, y,
                    feature_names=["x", "y", "region_code"])
    customers(conn)
    want = ("pgscore: the label column 'region' of public.customers is one that feature 'region_code' of model m v1 "
            "is generated from: model m v1's labels would change the values it scores; nothing was written")
    for call in ("CALL pgscore.score_table('m', 'customers', 'id', 's', 10, p_label_into => 'region')",
                 "SELECT * FROM pgscore.score_chunk('m', 'customers', 'id', 's', p_label_into => 'region')"):
        e = sql_error(conn, call)
        assert e.pgcode == "22023", e
        assert e.diag.message_primary == want, e.diag.message_primary
        assert e.diag.message_detail == ("region_code GENERATED ALWAYS AS ((array_position(ARRAY['north'::text, "
                                         "'south'::text, 'east'::text, 'west'::text], region) - 1)) STORED "
                                         "(reads region)"), e.diag.message_detail
        assert "ADD COLUMN predicted_class text" in e.diag.message_hint
    untouched(conn)
    r = pgscore_cli("score", "--model", "m", "--table", "customers", "--key", "id", "--into", "s",
                    "--label-into", "region", "--db", conn.dsn)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert want.removeprefix("pgscore: ") + " (SQLSTATE 22023)" in r.stderr, r.stderr
    untouched(conn)
    assert query(conn, "SELECT count(*) FROM customers WHERE region = ANY(%s)", (REGIONS,)) == [(30,)]
    # a label column no feature is generated from: written
    query(conn, "CALL pgscore.score_table('m', 'customers', 'id', 's', 10, p_label_into => 'lab')")
    assert query(conn, "SELECT count(s), count(lab), count(region_code) FROM customers") == [(30, 30, 30)]


@pytest.mark.parametrize("kind", ["linear", "tree"])
def test_a_score_column_a_generated_feature_is_computed_from_is_refused_before_anything_is_written(conn, kind):
    """The trial's `--into s` where f = x + coalesce(s, 0): refused, for a model SQL scores (linear) and one Python
    scores (a tree) alike."""
    yr = X[:, 0] * 2 + X[:, 1]
    est = Ridge().fit(X, yr) if kind == "linear" else DecisionTreeRegressor(max_depth=4, random_state=0).fit(X, yr)
    registry.deploy(conn.dsn, "m", est, X, yr, feature_names=["f", "y", "region_code"])
    customers(conn)
    query(conn, "ALTER TABLE customers ADD COLUMN f float8 GENERATED ALWAYS AS (x + coalesce(s, 0)) STORED")
    want = ("pgscore: column 's' of public.customers is one that feature 'f' of model m v1 is generated from: its "
            "scores would change the values it scores; nothing was written")
    e = sql_error(conn, "CALL pgscore.score_table('m', 'customers', 'id', 's', 10)")
    assert e.pgcode == "22023", e
    assert e.diag.message_primary == want, e.diag.message_primary
    assert e.diag.message_detail == "f GENERATED ALWAYS AS ((x + COALESCE(s, (0)::double precision))) STORED (reads s)"
    untouched(conn)
    r = pgscore_cli("score", "--model", "m", "--table", "customers", "--key", "id", "--into", "s", "--db", conn.dsn)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert want.removeprefix("pgscore: ") + " (SQLSTATE 22023)" in r.stderr, r.stderr
    untouched(conn)
    # a column read by no generated feature: scored
    query(conn, "ALTER TABLE customers ADD COLUMN s2 float8")
    query(conn, "CALL pgscore.score_table('m', 'customers', 'id', 's2', 10)")
    assert query(conn, "SELECT count(s2) FROM customers") == [(30,)]


def test_the_hint_of_a_refused_column_named_score_adds_a_column_the_table_has_not(conn):
    """The refused score column is often named score itself (f = x + coalesce(score, 0)): its hint said ALTER TABLE
    ... ADD COLUMN score float8, which fails (column "score" already exists); the label column's hint likewise named
    predicted_class where that is the refused column. Each hint names a column the table has not, and runs."""
    y = (X[:, 0] > 5).astype(int)
    registry.deploy(conn.dsn, "m", DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y), X, y,
                    feature_names=["f", "y", "g"])
    customers(conn)
    query(conn, "ALTER TABLE customers ADD COLUMN score float8, ADD COLUMN score_2 float8, ADD COLUMN predicted_class "
                "text, ADD COLUMN f float8 GENERATED ALWAYS AS (x + coalesce(score, 0)) STORED, ADD COLUMN g float8 "
                "GENERATED ALWAYS AS (length(predicted_class)) STORED")
    for call, want in (("CALL pgscore.score_table('m', 'customers', 'id', 'score', 10)",
                        "score into a column of its own: ALTER TABLE public.customers ADD COLUMN score_3 float8"),
                       ("CALL pgscore.score_table('m', 'customers', 'id', 's', 10, p_label_into => 'predicted_class')",
                        "write the labels into a column of their own: ALTER TABLE public.customers ADD COLUMN "
                        "predicted_class_2 text")):
        e = sql_error(conn, call)
        assert e.pgcode == "22023", e
        assert e.diag.message_hint == want, e.diag.message_hint
        query(conn, want.split(": ", 1)[1])


@pytest.mark.parametrize("kind", ["linear", "tree", "tree-partitioned"])
def test_audit_rows_log_the_features_scored_not_the_row_a_before_update_trigger_changed(conn, kind):
    """A BEFORE UPDATE trigger that changes a feature as the score is written: the audit rows of a chunk scored in
    Python logged the row after the UPDATE (its features were never scored, and scoring them again gave another
    score); the SQL path's logged the row it read. Both log the features scored, and each audit row's features give
    its score again."""
    yr = X[:, 0] * 2 + X[:, 1]
    est = Ridge().fit(X, yr) if kind == "linear" else DecisionTreeRegressor(max_depth=4, random_state=0).fit(X, yr)
    registry.deploy(conn.dsn, "m", est, X, yr, feature_names=["x", "y", "region_code"])
    customers(conn, partitioned=kind.endswith("partitioned"))
    query(conn, "CREATE FUNCTION bump() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.x := NEW.x + 100; "
                "RETURN NEW; END $$")
    query(conn, "CREATE TRIGGER bump BEFORE UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION bump()")
    before = {k: [x, y, rc] for k, x, y, rc in query(conn, "SELECT id::text, x, y, region_code FROM customers")}
    query(conn, "CALL pgscore.score_table('m', 'customers', 'id', 's', 7)")
    logged = query(conn, "SELECT entity_key, features, score FROM pgscore.prediction_log ORDER BY entity_key")
    assert len(logged) == 30
    assert {k: f for k, f, _ in logged} == before
    feats = np.array([f for _, f, _ in logged])
    np.testing.assert_allclose(est.predict(feats), [s for *_, s in logged], rtol=1e-9)
    assert query(conn, "SELECT min(x) >= 100 FROM customers") == [(True,)]  # (the trigger ran)


@pytest.mark.parametrize("kind", ["tree", "tree-partitioned"])
def test_a_role_granted_select_on_the_tables_columns_alone_scores_a_chunk_logged_in_python(conn, kind):
    """A role granted pgscore_app, SELECT on the table's columns (a column grant, not the table's) and UPDATE on the
    score column scored a tree logged; the audit rows' join of the row as read by its ctid asked for the table's
    SELECT (a system column has no column grant): `permission denied for table customers`, naming nothing to
    grant. The features logged are still those scored."""
    yr = X[:, 0] * 2 + X[:, 1]
    est = DecisionTreeRegressor(max_depth=4, random_state=0).fit(X, yr)
    registry.deploy(conn.dsn, "m", est, X, yr, feature_names=["x", "y", "region_code"])
    customers(conn, partitioned=kind.endswith("partitioned"))
    ensure_role(conn, "pgscore_t_colreader")
    query(conn, "GRANT pgscore_app TO pgscore_t_colreader; GRANT SELECT (id, x, y, region, region_code, s), "
                "UPDATE (s) ON customers TO pgscore_t_colreader")
    query(conn, "SET ROLE pgscore_t_colreader")
    try:
        query(conn, "CALL pgscore.score_table('m', 'customers', 'id', 's', 7)")
    finally:
        query(conn, "RESET ROLE")
    logged = query(conn, "SELECT entity_key, features, score FROM pgscore.prediction_log ORDER BY entity_key")
    assert len(logged) == 30 and query(conn, "SELECT count(s) FROM customers") == [(30,)]
    np.testing.assert_allclose(est.predict(np.array([f for _, f, _ in logged])), [s for *_, s in logged], rtol=1e-9)


def test_score_table_skips_a_shadow_whose_feature_is_generated_from_the_column_it_scores_into(conn):
    """A shadow reads a chunk's rows after the live version wrote its scores into them: one whose feature f is
    generated from the score column s (f = x + coalesce(s, 0)) was scored on f computed from the live version's new
    score and logged with nothing said, where a shadow reading s itself is skipped (22023, counted). Skipped alike
    now; into another column, scored in shadow."""
    yr = X[:, 0] * 2 + X[:, 1]
    live = DecisionTreeRegressor(max_depth=4, random_state=0).fit(X, yr)
    registry.deploy(conn.dsn, "m", live, X, yr, feature_names=["x", "y", "region_code"])
    customers(conn)
    query(conn, "ALTER TABLE customers ADD COLUMN f float8 GENERATED ALWAYS AS (x + coalesce(s, 0)) STORED, "
                "ADD COLUMN other float8")
    shadow = DecisionTreeRegressor(max_depth=3, random_state=0).fit(X, yr)
    registry.deploy(conn.dsn, "m", shadow, X, yr, feature_names=["f", "y", "region_code"], activate=False,
                    allow_feature_change=True)
    query(conn, "SELECT pgscore.set_shadow('m', 2)")
    conn.notices.clear()
    query(conn, "CALL pgscore.score_table('m', 'customers', 'id', 's', 10)")  # 3 chunks
    assert query(conn, "SELECT count(*) FROM pgscore.prediction_log WHERE source = 'shadow'") == [(0,)]
    assert query(conn, "SELECT count(*) FROM pgscore.prediction_log WHERE source = 'batch'") == [(30,)]
    assert query(conn, "SELECT relation, sqlstate, statements FROM pgscore.shadow_failures") == [
        ("public.customers", "22023", 3)]
    warned = [n for n in conn.notices if "shadow version m v2" in n]
    assert len(warned) == 1, conn.notices
    assert ("column 's' of public.customers, which the live version's scores were just written into, is one that "
            "its feature 'f' is generated from") in warned[0], warned[0]
    query(conn, "CALL pgscore.score_table('m', 'customers', 'id', 'other', 10)")
    assert query(conn, "SELECT count(*) FROM pgscore.prediction_log WHERE source = 'shadow'") == [(30,)]


def test_a_regressors_label_column_hint_speaks_sql_to_sql_and_the_command_line_to_the_command_line(conn):
    """`--label-into` with a regressor: the hint named p_into and p_label_into to the command line's user; SQL's
    names them alone, the command line's names --into and --label-into alone."""
    yr = X[:, 0] * 2 + X[:, 1]
    registry.deploy(conn.dsn, "m", Ridge().fit(X, yr), X, yr, feature_names=["x", "y", "region_code"])
    customers(conn)
    e = sql_error(conn, "CALL pgscore.score_table('m', 'customers', 'id', 's', p_label_into => 'lab')")
    assert e.pgcode == "42809", e
    assert e.diag.message_hint == "a regressor's value is its score: write it with p_into alone, without p_label_into"
    r = pgscore_cli("score", "--model", "m", "--table", "customers", "--key", "id", "--into", "s",
                    "--label-into", "lab", "--db", conn.dsn)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert ("Hint: a regressor's value is its score: write it with --into alone, without --label-into"
            in r.stderr), r.stderr
    assert "p_into" not in r.stderr and "p_label_into" not in r.stderr, r.stderr
    untouched(conn)
