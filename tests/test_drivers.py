"""pgscore from application code (docs/guide.md, "From application code"): the guide's snippet for each driver
runs as written and scores as scikit-learn does, and a prepared statement with a generic plan follows deploys
and a reinstall. psycopg2, psycopg 3 and SQLAlchemy are pgscore's own dependencies; asyncpg is the test extra's (it was
skipped where missing, so in every run: scripts/run test installs the extra)."""

import asyncio
import re

import numpy as np
import psycopg2
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from helpers import ROOT, make_shop, pgscore_cli, query
from pgscore import datasets, registry
from pgscore.datasets import CHURN_FEATURES

X, Y, _ = datasets.churn(300, seed=8)
MODEL = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y)
EXPECTED = MODEL.predict_proba(X[:1])[0, 1]


def snippets():
    """The guide's python blocks of its section "From application code", by the driver the line before names."""
    text = (ROOT / "docs" / "guide.md").read_text()
    section = text.split("## From application code", 1)[1].split("\n## ", 1)[0]
    return {re.split(r"[\s(]", intro.strip().splitlines()[-1])[0]: code
            for intro, code in re.findall(r"(.*?)```python\n(.*?)```", section, re.S)}


@pytest.fixture
def shop(db_url):
    conn = make_shop(db_url, MODEL, X, Y, 20, rescore=True)
    yield conn
    conn.close()


def _namespace(**kw):
    return {"row": X[0], "key": 1, "doc": dict(zip(CHURN_FEATURES, X[0].tolist())),
            "events": [(1, "billing"), (2, "billing"), (1, "outage")], **kw}


def _check(shop, app, scored):
    """Every prediction of `app` scored as scikit-learn does, logged once, and its COPY rescored in one statement."""
    rows = query(shop, "SELECT source, score, cause->>'statement_at' FROM pgscore.prediction_log "
                       "WHERE cause->>'application' = %s", (app,))
    assert all(abs(s - EXPECTED) < 1e-9 for src, s, _ in rows if src == "query"), rows
    assert len([r for r in rows if r[0] == "query"]) == scored, rows
    rescored = [r for r in rows if r[0] == "trigger"]
    assert len(rescored) == 2 and len({r[2] for r in rescored}) == 1, rescored  # customers 1 and 2, one statement


def test_the_guides_snippets_for_the_drivers_in_pgscores_environment(shop, db_url):
    code = snippets()
    assert {"psycopg", "asyncpg", "SQLAlchemy", "pandas", "psycopg2"} <= set(code), code.keys()

    import psycopg
    from psycopg.types.json import Jsonb
    with psycopg.connect(db_url, autocommit=True, application_name="guide-psycopg") as conn:
        ns = _namespace(conn=conn, Jsonb=Jsonb)
        exec(code["psycopg"], ns)
        assert abs(ns["s"] - EXPECTED) < 1e-9
    _check(shop, "guide-psycopg", 2)

    from sqlalchemy import ARRAY, Float, bindparam, create_engine, func, select, text
    engine = create_engine(db_url, connect_args={"application_name": "guide-sqlalchemy"})
    with engine.begin() as c:
        ns = _namespace(c=c, select=select, func=func, bindparam=bindparam, ARRAY=ARRAY, Float=Float, text=text)
        exec(code["SQLAlchemy"], ns)
        assert abs(ns["s"] - EXPECTED) < 1e-9
    engine.dispose()
    assert len(query(shop, "SELECT 1 FROM pgscore.prediction_log WHERE cause->>'application' = 'guide-sqlalchemy'")) == 2

    import pandas as pd
    engine = create_engine(db_url, connect_args={"application_name": "guide-pandas"})
    ns = _namespace(pd=pd, engine=engine, text=text)
    exec(code["pandas"], ns)
    got = ns["scores"].sort_values("id")
    rows = query(shop, "SELECT " + ", ".join(CHURN_FEATURES) + " FROM customers WHERE id < 3 ORDER BY id")
    assert got["churn"].tolist() == pytest.approx(MODEL.predict_proba(np.array(rows, dtype=float))[:, 1], abs=1e-12)
    logged = "SELECT count(*) FROM pgscore.prediction_log WHERE cause->>'application' = 'guide-pandas'"
    assert query(shop, logged) == [(2,)]
    # the guide's reason for engine.begin(): pd.read_sql given the engine rolls back, and logs nothing
    bare = pd.read_sql(text(code["pandas"].split('text("', 1)[1].split('")', 1)[0]), engine)
    assert len(bare) == 2 and query(shop, logged) == [(2,)]
    engine.dispose()

    from psycopg2.extras import Json
    c = psycopg2.connect(db_url, application_name="guide-psycopg2")
    c.autocommit = True
    with c.cursor() as cur:
        ns = _namespace(cur=cur, Json=Json)
        exec(code["psycopg2"], ns)
        assert abs(cur.fetchone()[0] - EXPECTED) < 1e-9
    c.close()
    assert len(query(shop, "SELECT 1 FROM pgscore.prediction_log WHERE cause->>'application' = 'guide-psycopg2'")) == 2


def test_the_guides_asyncpg_snippet(shop, db_url):
    import asyncpg
    code = snippets()["asyncpg"]

    async def run():
        con = await asyncpg.connect(db_url, server_settings={"application_name": "guide-asyncpg"})
        try:
            ns = _namespace(con=con)
            exec("async def snippet():\n" + "".join("    " + line + "\n" for line in code.splitlines())
                 + "    return s\n", ns)
            return await ns["snippet"]()
        finally:
            await con.close()

    assert abs(asyncio.run(run()) - EXPECTED) < 1e-9
    assert query(shop, "SELECT outcome FROM pgscore.outcomes WHERE entity_key = '1'")
    _check(shop, "guide-asyncpg", 1)


def _versions(conn, key):
    return [v for (v,) in query(conn, "SELECT m.version FROM pgscore.prediction_log l JOIN pgscore.models m "
                                      "USING (model_id) WHERE l.entity_key = %s", (key,))]


def test_a_generic_plan_scores_with_the_version_live_at_each_execution_and_survives_a_reinstall(db_url):
    """What a driver's prepared statement does (psycopg 3 from the fifth run, asyncpg always), in SQL: a
    deploy, activate or rollback in another session applies at the next execution; after uninstall and install
    the statement plans again by itself: 42704 until a model is deployed, then it scores."""
    for c in (1.0, 0.001):
        registry.deploy(db_url, "churn", make_pipeline(StandardScaler(), LogisticRegression(C=c)).fit(X, Y), X, Y,
                        feature_names=CHURN_FEATURES)
    app = psycopg2.connect(db_url)
    app.autocommit = True
    other = psycopg2.connect(db_url)
    other.autocommit = True
    try:
        query(app, "SET plan_cache_mode = force_generic_plan")
        query(app, "PREPARE s(float8[], text) AS SELECT pgscore.score('churn', $1, p_key => $2)")
        row = X[0].tolist()
        for i in range(6):
            query(app, "EXECUTE s(%s, %s)", (row, f"g{i}"))
        assert _versions(other, "g5") == [2]
        assert query(app, "SELECT generic_plans > 0 FROM pg_prepared_statements WHERE name = 's'") == [(True,)]
        for change, version in (("SELECT pgscore.activate('churn', 1)", 1), ("SELECT pgscore.activate('churn', 2)", 2),
                                ("SELECT pgscore.rollback('churn')", 1)):
            query(other, change)
            query(app, "EXECUTE s(%s, %s)", (row, change))
            assert _versions(other, change) == [version], change
        r = pgscore_cli("uninstall", "--db", db_url)
        assert r.returncode == 0, r.stderr
        r = pgscore_cli("install", "--db", db_url, "--no-check")
        assert r.returncode == 0, r.stderr
        with pytest.raises(psycopg2.Error) as e:
            query(app, "EXECUTE s(%s, %s)", (row, "gone"))
        assert e.value.pgcode == "42704" and "there is no model 'churn'" in e.value.diag.message_primary
        registry.deploy(db_url, "churn", MODEL, X, Y, feature_names=CHURN_FEATURES)
        (s,) = query(app, "EXECUTE s(%s, %s)", (row, "again"))[0]
        assert abs(s - EXPECTED) < 1e-9 and _versions(other, "again") == [1]
    finally:
        app.close()
        other.close()
