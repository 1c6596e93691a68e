"""The ```sql examples of the docs run, as written, on the demo's shop: churn deployed, customers and complaints,
a profiles table and closed accounts (test_docs.py checks links and section names, never the SQL itself).

Each page's blocks run in turn in one transaction that is rolled back at the end, each block in a savepoint (a
block that fails leaves nothing behind it; one that runs keeps what it made, as a reader following the page
would: the roles the first block creates, the second alters). What a block returns is not compared: the
numbers depend on the data. A block is left out only for a reason named in NOT_RUN."""

import re

import numpy as np
import psycopg2
import pytest
from psycopg2 import sql
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from helpers import ROOT, make_shop
from pgscore import registry
from pgscore.datasets import CHURN_FEATURES, churn

# why a block cannot run on a test's database (checked on the block's text with its literals left out)
NOT_RUN = {
    "needs pg_cron": re.compile(r"\bcron\."),
    "elides part of a statement with ...": re.compile(r"\.\.\."),
    "needs a database of its own (team_b)": re.compile(r"\bteam_b\b"),
    # (docs/operations.md's copy_data = false for one table: test_event_shapes follows it on a publisher and a
    # subscriber, test_profiles_already_here_that_a_subscription_copies_are_named_with_the_way_on)
    "needs a publisher and a subscriber": re.compile(r"\b(PUBLICATION|SUBSCRIPTION)\b"),
}


def _blocks(page):
    """(line, text) of each ```sql block of a page, indented ones (in a list) too, their indent removed."""
    text = (ROOT / page).read_text()
    for m in re.finditer(r"^( *)```sql\n(.*?)^ *```", text, re.M | re.S):
        indent = len(m.group(1))
        body = "".join(line[indent:] if line[:indent].strip() == "" else line
                       for line in m.group(2).splitlines(keepends=True))
        yield text[:m.start()].count("\n") + 1, body


def _code(text):
    """The text with its string literals, dollar-quoted bodies and comments blanked out."""
    return re.sub(r"\$(\w*)\$.*?\$\1\$|'(?:[^']|'')*'|--[^\n]*", lambda m: " " * len(m.group(0)), text, flags=re.S)


def _statements(text):
    """The statements of a block, split at the semicolons outside literals, comments and dollar quotes."""
    code, start, out = _code(text), 0, []
    for m in re.finditer(";", code):
        out.append(text[start:m.end()])
        start = m.end()
    out.append(text[start:])
    return [s.strip() for s in out if _code(s).strip(" \n;")]


def _runnable(page):
    return [(line, block) for line, block in _blocks(page)
            if not any(r.search(_code(block)) for r in NOT_RUN.values())]


# every page with a block to run: README.md, docs/cli.md, docs/guide.md and docs/sql.md at this head
# (docs/operations.md's are pg_cron's), and any page that gains one
PAGES = [str(p.relative_to(ROOT)) for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
         if _runnable(str(p.relative_to(ROOT)))]


def test_the_blocks_are_found_and_split():
    """The extraction itself: blocks in lists, literals with semicolons and '...', a comment after a statement."""
    found = dict(_blocks("docs/sql.md"))
    assert len(found) >= 15, sorted(found)
    assert any(t.startswith("REVOKE EXECUTE ON FUNCTION pg_catalog.pg_advisory_lock") for t in found.values())
    assert _statements("SELECT ';'; -- a; note\nSELECT $$a;b$$ AS x;  -- last\n") == [
        "SELECT ';';", "-- a; note\nSELECT $$a;b$$ AS x;"]
    assert not any(r.search(_code("CREATE ROLE m LOGIN PASSWORD '...';")) for r in NOT_RUN.values())
    assert {"README.md", "docs/cli.md", "docs/guide.md", "docs/sql.md"} <= set(PAGES), PAGES


@pytest.fixture
def shop(db_url):
    """The demo's shop: churn v1, v2 and v3 (model_ids 1 to 3, v1 live again), 300 customers, complaints not
    wired (the pages wire them), the columns and tables the examples name: a refund per complaint, refunds and
    billing complaints per customer, profiles keyed by customer_id, closed accounts, a schema app of the
    application's own (docs/sql.md's roles grant USAGE on it); and docs/cli.md's loans."""
    X, y, _ = churn(300, seed=5)
    conn = make_shop(db_url, make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y), X, y, 300)
    for c in (0.01, 1.0):
        registry.deploy(db_url, "churn", make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=500))
                        .fit(X, y), X, y, feature_names=CHURN_FEATURES)
    rng = np.random.default_rng(5)  # docs/cli.md's loans: income, debt_ratio, late_payments
    loans = np.column_stack([rng.normal(50, 15, 200), rng.random(200), rng.poisson(1, 200)])
    registry.deploy(db_url, "loans", LogisticRegression(max_iter=500).fit(loans, loans[:, 2] > 1), loans,
                    feature_names=["income", "debt_ratio", "late_payments"])
    features = sql.SQL(", ").join(map(sql.Identifier, CHURN_FEATURES))
    with conn.cursor() as cur:
        cur.execute("SELECT pgscore.activate('churn', 1, 'the docs test')")
        cur.execute("CREATE SCHEMA app")
        cur.execute("ALTER TABLE complaints ADD COLUMN refund numeric")
        cur.execute("ALTER TABLE customers ADD COLUMN refunds numeric, ADD COLUMN billing_complaints bigint")
        cur.execute(sql.SQL("CREATE TABLE profiles AS SELECT id AS customer_id, {} FROM customers").format(features))
        cur.execute("CREATE TABLE closed_accounts AS SELECT id, (id % 2)::int AS churned, "
                    "now() - interval '1 day' AS closed_at FROM customers WHERE id <= 20")
        cur.execute(sql.SQL("SELECT pgscore.score('churn', ARRAY[{}]::float8[], p_key => id::text) FROM customers")
                    .format(features))
    yield conn
    conn.close()


def test_every_sql_example_of_the_docs_runs(shop):
    failed, ran = [], {}
    for page in PAGES:
        ran[page] = 0
        shop.autocommit = False
        try:
            with shop.cursor() as cur:
                for line, block in _runnable(page):
                    cur.execute("SAVEPOINT block")
                    for statement in _statements(block):
                        try:
                            cur.execute(statement)
                            ran[page] += 1
                        except psycopg2.Error as e:
                            failed.append(f"{page}:{line}: {statement.splitlines()[0]} ... -> {e.pgcode}: "
                                          f"{e.pgerror.splitlines()[0]}")
                            cur.execute("ROLLBACK TO SAVEPOINT block")
                            break
                    cur.execute("RELEASE SAVEPOINT block")
        finally:
            shop.rollback()  # each page from the shop as the fixture made it
            shop.autocommit = True
    assert not failed, "\n".join(failed)
    assert all(ran.values()), ran



def _split(args):
    """An argument list's parts, at the commas outside parentheses."""
    return [a.strip() for a in re.split(r",\s*(?![^()]*\))", args) if a.strip()]


def _type(t):
    """A type as the docs write it: float8 and timestamptz for the long names PostgreSQL prints."""
    for long, short in (("double precision", "float8"), ("timestamp with time zone", "timestamptz")):
        t = t.replace(long, short)
    return t.strip()


def _args(args):
    """(mode, name, type, has a default) of each argument; a default's value is left out (the docs write some in
    words, `current UTC date`), and so is the mode IN that a procedure's arguments are printed with."""
    out = []
    for arg in _split(args):
        mode, decl, default = re.match(r"(INOUT |IN )?(.*?)( DEFAULT .*)?$", arg).groups()
        name, _, typ = decl.partition(" ")
        out.append(("INOUT" if mode == "INOUT " else "", name, _type(typ), bool(default)))
    return out


def _result(result):
    """A result: its type, or the TABLE's columns (name, type); a bare `TABLE` in a heading names no columns."""
    if result and result.startswith("TABLE"):
        return "TABLE", [(n.strip('"'), _type(t)) for n, t in (c.split(" ", 1) for c in _split(result[6:-1]))]
    return _type(result or ""), None


def _forms(args):
    """The argument lists a heading stands for: `p_features float8[] | jsonb` is two."""
    forms = [[]]
    for part in _split(args):
        name, _, rest = part.partition(" ")
        typ, default = re.match(r"(.*?)( DEFAULT .*)?$", rest).groups()
        forms = [f + [f"{name} {t}{default or ''}"] for f in forms for t in typ.split(" | ")]
    return [", ".join(f) for f in forms]


def test_every_function_heading_of_sql_md_is_the_functions_signature(conn):
    """docs/sql.md's headings `pgscore.f(p_a type DEFAULT ..., ...)` → `result` against the migrated schema: the
    arguments' names, types, order and which have a default, and the result's type or columns (test_cli checks
    only that each function is named). A heading with alternatives (`float8[] | jsonb`) stands for each."""
    with conn.cursor() as cur:
        cur.execute("SELECT p.proname, pg_catalog.pg_get_function_arguments(p.oid), "
                    "       pg_catalog.pg_get_function_result(p.oid) FROM pg_catalog.pg_proc p "
                    " WHERE p.pronamespace = 'pgscore'::regnamespace")
        catalog = {}
        for name, args, result in cur.fetchall():
            catalog.setdefault(name, []).append((_args(args), _result(result)))
    headings = re.findall(r"^### `(?:CALL )?pgscore\.(\w+)\((.*?)\)`(?: → `(.*?)`)?",
                          (ROOT / "docs" / "sql.md").read_text(), re.M)
    assert len(headings) >= 50, len(headings)
    wrong = []
    for name, args, result in headings:
        for form in _forms(args):
            found = [r for a, r in catalog.get(name, []) if a == _args(form)]
            if not found:
                wrong.append(f"pgscore.{name}({form}): no such function; the schema has "
                             f"{[a for a, _ in catalog.get(name, [])]}")
            elif result and (_result(result)[0], _result(result)[1] or found[0][1]) != found[0]:
                wrong.append(f"pgscore.{name}({form}) → {result}: the schema's returns {found[0]}")
    assert not wrong, "\n".join(wrong)


def test_every_documented_views_column_list_is_the_views_columns(conn):
    """docs/sql.md's "## Views" gives each view of its table (the stable interface BI tools sync) with its
    columns in order, `- `pgscore.view`: `a`, `b`, ...`: the list against the migrated schema's, name by name
    and in order, for every view of the table and no other (before, only the functions' headings were
    checked, and five of the views' rows named none or part of their columns: `predictions`,
    `outcome_matches`, `performance_by_day`, `model_versions`, `drift_by_day`'s `kind` and `feature`)."""
    section = (ROOT / "docs" / "sql.md").read_text().split("\n## Views\n", 1)[1].split("\n### ", 1)[0]
    table = re.findall(r"^\| `pgscore\.(\w+)` \|", section, re.M)
    listed = {view: re.findall(r"`(\w+)`", columns)
              for view, columns in re.findall(r"^- `pgscore\.(\w+)`: (.*)$", section, re.M)}
    assert len(table) == 20 and sorted(listed) == sorted(table), (sorted(table), sorted(listed))  # 0138: 3 of shadows
    with conn.cursor() as cur:
        cur.execute("SELECT c.relname, pg_catalog.array_agg(a.attname::text ORDER BY a.attnum) "
                    "  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid "
                    " WHERE c.relnamespace = 'pgscore'::regnamespace AND c.relkind = 'v' AND a.attnum > 0 "
                    "   AND NOT a.attisdropped GROUP BY c.relname")
        schema = dict(cur.fetchall())
    wrong = [f"pgscore.{view}: docs/sql.md lists {columns}, the view has {schema.get(view)}"
             for view, columns in listed.items() if schema.get(view) != columns]
    assert not wrong, "\n".join(wrong)


def test_sql_mds_bulk_outcome_load_counts_the_loads_outcomes(shop):
    """docs/sql.md's *Many outcomes in one statement*: its count of the load's outcomes that judge nothing read
    outcome_matches by observed_at within 2 days, which is the outcome's own time (closed_at), not the load's: a
    load of accounts closed a month ago counted none of them, and outcomes recorded before the load counted in.
    Run as written over outcomes recorded before it and accounts closed long ago, it gives the load's own counts."""
    blocks = [b for _, b in _blocks("docs/sql.md") if "client_min_messages" in b and "closed_accounts" in b]
    assert len(blocks) == 1, blocks
    shop.autocommit = False
    try:
        with shop.cursor() as cur:
            cur.execute("SELECT pgscore.record_outcome('churn', c.id, 1, clock_timestamp()) FROM customers c "
                        "WHERE c.id BETWEEN 21 AND 25")  # recorded before the load, each judging a prediction
            cur.execute("UPDATE closed_accounts SET closed_at = CASE WHEN id <= 10 THEN now() - interval '30 days' "
                        "ELSE clock_timestamp() END")  # 10 before any prediction, 10 after their entity's
            for statement in _statements(blocks[0]):
                cur.execute(statement)
            assert cur.fetchall() == [(10, 20)]  # (unmatched, recorded): the load's
    finally:
        shop.rollback()
        shop.autocommit = True
