"""Rescoring on INSERT and batch scoring on the table shapes users have: names that need quoting everywhere
(spaces, mixed case, keywords, 63 bytes, beyond ASCII), keys of several types, partitioned tables, schemas off
the search_path, columns PostgreSQL computes, row-level security, and views as a batch's source. Each model
reads its features from the profile by name; a linear one (`lin`: scored in one SQL statement) and a tree
(`tree`: scored in Python)."""

import contextlib
import json

import numpy as np
import psycopg2
import pytest
from psycopg2 import sql
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from helpers import ensure_role, pgscore_cli, query
from pgscore import registry

LONG = "L" * 58 + "_feat"  # 63 bytes, the longest name PostgreSQL keeps
assert len(LONG.encode()) == 63
FEATURES = ["Tenure Months", "MonthlyCharges", "order", "select", "kündigung", LONG]
MODELS = ["lin", "tree"]
COUNTERS = {"order": "count", "select": {"add": "e.amount"}}


@pytest.fixture(scope="module")
def trained():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(400, len(FEATURES)))
    X[:, 2] = rng.integers(0, 6, 400)
    y = (X[:, 0] - X[:, 1] + 0.4 * X[:, 2] + X[:, 3] > 0).astype(int)
    return {"lin": LogisticRegression(max_iter=500).fit(X, y),
            "tree": DecisionTreeClassifier(max_depth=4, random_state=0).fit(X, y)}, X, y


class _Conn(psycopg2.extensions.connection):
    """A connection that carries the models and the URL."""


@pytest.fixture
def odd(db_url, trained):
    """An autocommit connection to a database where lin and tree are deployed on FEATURES."""
    models, X, y = trained
    for name, m in models.items():
        registry.deploy(db_url, name, m, X, y, feature_names=FEATURES)
    c = psycopg2.connect(db_url, connection_factory=_Conn)
    c.autocommit = True
    c.models = models
    c.url = db_url
    yield c
    c.close()


def ident(*parts):
    return sql.Identifier(*parts)


def feature_columns(extra=""):
    """The profile's feature columns, quoted; `extra` replaces the definition of "Tenure Months"."""
    defs = [sql.SQL("{} float8 {}").format(ident("Tenure Months"), sql.SQL(extra or "DEFAULT 1.5")),
            sql.SQL("{} float8 DEFAULT 0.25").format(ident("MonthlyCharges")),
            sql.SQL("{} integer NOT NULL DEFAULT 0").format(ident("order")),
            sql.SQL("{} float8 DEFAULT 0").format(ident("select")),
            sql.SQL("{} float8 DEFAULT -0.5").format(ident("kündigung")),
            sql.SQL("{} float8 DEFAULT 0.75").format(ident(LONG))]
    return sql.SQL(", ").join(defs)


def make_tables(conn, schema="Sales Dept", profiles="Customer Profile", events="Complaints-2026",
                key_type="bigint", key="Customer ID", score="Churn Score", profile_extra="", tenure="",
                events_schema=None, score_type="float8", pk=True):
    """The profile and event tables, named as given (quoted), in `schema` (events in `events_schema`)."""
    es = events_schema or schema
    query(conn, sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(ident(schema)))
    query(conn, sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(ident(es)))
    query(conn, sql.SQL("CREATE TABLE {} (surrogate serial {}, {} {} {}, {}, {} {}, scored_at timestamptz{})").format(
        ident(schema, profiles), sql.SQL("PRIMARY KEY" if not pk else ""), ident(key), sql.SQL(key_type),
        sql.SQL("PRIMARY KEY" if pk else "UNIQUE NOT NULL"), feature_columns(tenure), ident(score),
        sql.SQL(score_type), sql.SQL(profile_extra)))
    query(conn, sql.SQL("CREATE TABLE {} (event_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, {} {}, "
                        "amount float8)").format(ident(es, events), ident(key), sql.SQL(key_type)))
    return sql.Identifier(schema, profiles), sql.Identifier(es, events)


def regclass(conn, composed):
    return composed.as_string(conn)


def attach(conn, events, profiles, model, key="Customer ID", score="Churn Score", **kw):
    extra = "".join(f", {k} => %({k})s" for k in kw)
    return query(conn, f"SELECT pgscore.attach_rescoring(%(e)s::regclass, %(p)s::regclass, %(k)s, %(m)s, %(s)s, "
                       f"%(c)s::jsonb{extra})",
                 {"e": regclass(conn, events), "p": regclass(conn, profiles), "k": key, "m": model, "s": score,
                  "c": json.dumps(COUNTERS), **kw})[0][0]


def check_rescored(conn, profiles, model, keys, events_per_key, amount_per_key, key="Customer ID",
                   score="Churn Score"):
    """Each key's counters equal its events, its score is the model's on its final features, one audit row
    each, nothing queued."""
    m = conn.models[model]
    cols = sql.SQL(", ").join(ident(f) for f in FEATURES)
    rows = query(conn, sql.SQL("SELECT {}::text, ARRAY[{}]::float8[], {}::float8, scored_at IS NOT NULL FROM {} "
                               "ORDER BY 1").format(ident(key), cols, ident(score), profiles))
    got = {k: (f, s, at) for k, f, s, at in rows}
    assert sorted(got) == sorted(str(k) for k in keys), rows
    for k in keys:
        f, s, at = got[str(k)]
        assert f[2] == events_per_key and f[3] == pytest.approx(amount_per_key), (k, f)
        assert at and s is not None, (k, s)
        assert s == pytest.approx(m.predict_proba(np.array([f]))[0, 1], abs=1e-9), (k, f, s)
    assert query(conn, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
    assert query(conn, "SELECT count(DISTINCT entity_key) FROM pgscore.prediction_log WHERE source = 'trigger'") \
        == [(len(keys),)]


KEYS = {"bigint": ["1", "2", "3"],
        "text": ["k 1", "K'2", "k3"],
        "uuid": ["00000000-0000-0000-0000-000000000001", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
                 "ffffffff-ffff-ffff-ffff-ffffffffffff"],
        "numeric": ["1.5", "2", "10.25"],
        "pos_int": ["1", "2", "3"]}


def insert_events(conn, events, keys, key="Customer ID", each=2, key_type="bigint"):
    for _ in range(each):
        query(conn, sql.SQL("INSERT INTO {} ({}, amount) SELECT k::{}, 0.5 FROM unnest(%s::text[]) k").format(
            events, ident(key), sql.SQL(key_type)), (keys,))


@pytest.mark.parametrize("model", MODELS)
def test_names_that_need_quoting_everywhere(odd, model):
    profiles, events = make_tables(odd)
    attach(odd, events, profiles, model)
    insert_events(odd, events, KEYS["bigint"])
    check_rescored(odd, profiles, model, KEYS["bigint"], 2, 1.0)


@pytest.mark.parametrize("key_type", list(KEYS))
@pytest.mark.parametrize("model", MODELS)
def test_key_types(odd, model, key_type):
    query(odd, "CREATE DOMAIN pos_int AS integer CHECK (VALUE > 0)")
    profiles, events = make_tables(odd, key_type=key_type)
    attach(odd, events, profiles, model)
    insert_events(odd, events, KEYS[key_type], key_type=key_type)
    check_rescored(odd, profiles, model, KEYS[key_type], 2, 1.0)


@pytest.mark.parametrize("model", MODELS)
def test_a_profile_key_that_is_unique_but_not_the_primary_key(odd, model):
    profiles, events = make_tables(odd, pk=False)
    attach(odd, events, profiles, model)
    insert_events(odd, events, KEYS["bigint"])
    check_rescored(odd, profiles, model, KEYS["bigint"], 2, 1.0)


@pytest.mark.parametrize("model", MODELS)
def test_a_partitioned_event_table(odd, model):
    query(odd, 'CREATE SCHEMA "Sales Dept"')
    profiles, _ = make_tables(odd, events="unused")
    events = ident("Sales Dept", "Complaints-2026")
    query(odd, 'CREATE TABLE "Sales Dept"."Complaints-2026" (event_id bigint GENERATED ALWAYS AS IDENTITY, '
               '"Customer ID" bigint, amount float8, PRIMARY KEY (event_id, "Customer ID")) '
               'PARTITION BY RANGE ("Customer ID")')
    query(odd, 'CREATE TABLE "Sales Dept"."Complaints low" PARTITION OF "Sales Dept"."Complaints-2026" '
               'FOR VALUES FROM (MINVALUE) TO (3)')
    query(odd, 'CREATE TABLE "Sales Dept"."Complaints high" PARTITION OF "Sales Dept"."Complaints-2026" '
               'FOR VALUES FROM (3) TO (MAXVALUE)')
    attach(odd, events, profiles, model, p_event_id_column="event_id")
    insert_events(odd, events, KEYS["bigint"], each=1)
    cur = odd.cursor()
    import io
    cur.copy_expert('COPY "Sales Dept"."Complaints-2026" ("Customer ID", amount) FROM STDIN',
                    io.StringIO("1\t0.5\n2\t0.5\n3\t0.5\n"))
    check_rescored(odd, profiles, model, KEYS["bigint"], 2, 1.0)


@pytest.mark.parametrize("model", MODELS)
def test_a_partitioned_profile_table(odd, model):
    query(odd, 'CREATE SCHEMA "Sales Dept"')
    query(odd, sql.SQL('CREATE TABLE "Sales Dept"."Customer Profile" ("Customer ID" bigint PRIMARY KEY, {}, '
                       '"Churn Score" float8, scored_at timestamptz) PARTITION BY HASH ("Customer ID")')
          .format(feature_columns()))
    for i in range(2):
        query(odd, f'CREATE TABLE "Sales Dept"."Customer Profile {i}" PARTITION OF "Sales Dept"."Customer Profile" '
                   f'FOR VALUES WITH (MODULUS 2, REMAINDER {i})')
    query(odd, 'CREATE TABLE "Sales Dept"."Complaints-2026" (event_id bigint GENERATED ALWAYS AS IDENTITY '
               'PRIMARY KEY, "Customer ID" bigint, amount float8)')
    profiles, events = ident("Sales Dept", "Customer Profile"), ident("Sales Dept", "Complaints-2026")
    attach(odd, events, profiles, model)
    insert_events(odd, events, KEYS["bigint"])
    check_rescored(odd, profiles, model, KEYS["bigint"], 2, 1.0)


@pytest.mark.parametrize("trap", [False, True])
@pytest.mark.parametrize("model", MODELS)
def test_tables_in_two_schemas_off_the_search_path(odd, model, trap):
    profiles, events = make_tables(odd, schema="Profiles S", events_schema="Events S")
    if trap:  # same-named tables earlier on the search_path
        make_tables(odd, schema="public", events_schema="public")
    attach(odd, events, profiles, model)
    query(odd, "SET search_path = public" if trap else "SET search_path = pg_catalog")
    insert_events(odd, events, KEYS["bigint"])
    query(odd, "RESET search_path")
    check_rescored(odd, profiles, model, KEYS["bigint"], 2, 1.0)
    if trap:
        assert query(odd, 'SELECT count(*) FROM public."Customer Profile"') == [(0,)]
        assert query(odd, 'SELECT count(*) FROM public."Complaints-2026"') == [(0,)]


@pytest.mark.parametrize("model", MODELS)
def test_a_generated_feature_a_default_and_a_not_null_score(odd, model):
    # "Tenure Months" is computed from the "order" counter
    profiles, events = make_tables(odd, tenure='GENERATED ALWAYS AS ("order" * 0.5 + 1) STORED',
                                   score_type="float8 NOT NULL DEFAULT -1")
    attach(odd, events, profiles, model)
    insert_events(odd, events, KEYS["bigint"])
    check_rescored(odd, profiles, model, KEYS["bigint"], 2, 1.0)
    assert query(odd, sql.SQL('SELECT DISTINCT "Tenure Months" FROM {}').format(profiles)) == [(2.0,)]


@pytest.mark.parametrize("model", MODELS)
def test_a_before_update_trigger_that_changes_a_feature(odd, model):
    profiles, events = make_tables(odd)
    query(odd, 'CREATE FUNCTION "Sales Dept".bump() RETURNS trigger LANGUAGE plpgsql AS $$ '
               'BEGIN NEW."MonthlyCharges" := NEW."order" * 2; RETURN NEW; END $$')
    query(odd, 'CREATE TRIGGER bump BEFORE UPDATE ON "Sales Dept"."Customer Profile" FOR EACH ROW '
               'EXECUTE FUNCTION "Sales Dept".bump()')
    attach(odd, events, profiles, model)
    insert_events(odd, events, KEYS["bigint"])
    check_rescored(odd, profiles, model, KEYS["bigint"], 2, 1.0)
    assert query(odd, 'SELECT DISTINCT "MonthlyCharges" FROM "Sales Dept"."Customer Profile"') == [(4.0,)]


CLERK = "pgscore_t_odd_clerk"


@contextlib.contextmanager
def clerk(conn, app=True, profile="SELECT, INSERT, UPDATE", sequence=False):
    """Role CLERK (made once: roles are the cluster's) granted pgscore_app (revoked it, for a role made by an
    earlier test, where not `app`), USAGE on "Sales Dept", `profile` on the profile table, SELECT and INSERT on
    the events and, where `sequence`, USAGE on the profile's serial sequence; after, RESET ROLE and what it
    was granted dropped."""
    ensure_role(conn, CLERK)
    try:
        query(conn, sql.SQL("GRANT pgscore_app TO {}" if app else "REVOKE pgscore_app FROM {}").format(ident(CLERK)))
        query(conn, sql.SQL("GRANT USAGE ON SCHEMA {schema} TO {role}; GRANT {profile} ON {profiles} TO {role}; "
                            "GRANT SELECT, INSERT ON {events} TO {role}").format(
            schema=ident("Sales Dept"), role=ident(CLERK), profile=sql.SQL(profile),
            profiles=ident("Sales Dept", "Customer Profile"), events=ident("Sales Dept", "Complaints-2026")))
        if sequence:
            grant_sequence(conn)
        yield CLERK
    finally:
        query(conn, "RESET ROLE")
        query(conn, sql.SQL("DROP OWNED BY {}").format(ident(CLERK)))


def grant_sequence(conn):
    query(conn, sql.SQL("GRANT USAGE ON SEQUENCE {} TO {}").format(
        ident("Sales Dept", "Customer Profile_surrogate_seq"), ident(CLERK)))


@pytest.mark.parametrize("model", MODELS)
def test_row_level_security_on_the_profile_table(odd, model):
    """As a role that is not a superuser (a superuser bypasses row-level security): policies that let it see and
    write every profile rescore as without them; one that hides a profile fails the INSERT (42501)."""
    profiles, events = make_tables(odd)
    with clerk(odd, sequence=True):
        query(odd, 'ALTER TABLE "Sales Dept"."Customer Profile" ENABLE ROW LEVEL SECURITY; '
                   'CREATE POLICY "see all" ON "Sales Dept"."Customer Profile" FOR SELECT USING ("Customer ID" <> 9); '
                   'CREATE POLICY "write all" ON "Sales Dept"."Customer Profile" FOR UPDATE USING ("Customer ID" <> 9); '
                   'CREATE POLICY "add all" ON "Sales Dept"."Customer Profile" FOR INSERT WITH CHECK (true)')
        query(odd, 'INSERT INTO "Sales Dept"."Customer Profile" ("Customer ID") VALUES (9)')
        attach(odd, events, profiles, model)
        query(odd, "SET ROLE pgscore_t_odd_clerk")
        insert_events(odd, events, KEYS["bigint"])
        with pytest.raises(psycopg2.errors.InsufficientPrivilege) as e:
            insert_events(odd, events, ["1", "9"], each=1)
        query(odd, "RESET ROLE")
        assert '"Sales Dept"."Customer Profile"' in e.value.pgerror, e.value.pgerror
        query(odd, 'DELETE FROM "Sales Dept"."Customer Profile" WHERE "Customer ID" = 9')
        check_rescored(odd, profiles, model, KEYS["bigint"], 2, 1.0)


@pytest.mark.parametrize("rls", [False, True])
@pytest.mark.parametrize("model", MODELS)
def test_a_sequence_the_role_may_not_use_in_a_profile_default_is_named_by_the_hint(odd, model, rls):
    """A profile table whose column default calls nextval (a serial column) and a role that holds every grant on
    the table but none on the sequence: creating a missing profile fails (42501, the INSERT refused), and the
    hint names the sequence and its column. Before, it blamed a row-level security policy where one was on, and
    asked for SELECT and UPDATE on the table (which the role held) where none was."""
    profiles, events = make_tables(odd)
    with clerk(odd):
        if rls:
            query(odd, 'ALTER TABLE "Sales Dept"."Customer Profile" ENABLE ROW LEVEL SECURITY; '
                       'CREATE POLICY "all" ON "Sales Dept"."Customer Profile" USING (true)')
        attach(odd, events, profiles, model)
        query(odd, "SET ROLE pgscore_t_odd_clerk")
        with pytest.raises(psycopg2.errors.InsufficientPrivilege) as e:
            insert_events(odd, events, ["1"], each=1)
        hint = e.value.diag.message_hint or ""
        assert '"Sales Dept"."Customer Profile_surrogate_seq" (the default of column surrogate)' in hint, hint
        assert "needs USAGE on it" in hint and "row-level security" not in hint, hint
        query(odd, "RESET ROLE")
        grant_sequence(odd)
        query(odd, "SET ROLE pgscore_t_odd_clerk")
        insert_events(odd, events, KEYS["bigint"])
        query(odd, "RESET ROLE")
        check_rescored(odd, profiles, model, KEYS["bigint"], 2, 1.0)


@pytest.mark.parametrize("lacks", ["UPDATE", "pgscore_app"])
@pytest.mark.parametrize("model", MODELS)
def test_an_unusable_sequence_does_not_hide_the_other_grants_the_role_lacks(odd, model, lacks):
    """The same serial default with no USAGE on its sequence, and a role that also lacks UPDATE on the profile
    table, or pgscore_app: the hint names those too, not the sequence alone (before, it named the sequence
    only, and granting USAGE on it moved the user on to a second failure)."""
    profiles, events = make_tables(odd)
    with clerk(odd, app=lacks != "pgscore_app",
               profile="SELECT, INSERT" if lacks == "UPDATE" else "SELECT, INSERT, UPDATE"):
        attach(odd, events, profiles, model)
        insert_events(odd, events, ["0"], each=1)  # the owner's: the wiring is cached in this session, so a role
        query(odd, "SET ROLE pgscore_t_odd_clerk")  # without pgscore_app gets as far as the rescoring
        with pytest.raises(psycopg2.errors.InsufficientPrivilege) as e:
            insert_events(odd, events, ["1"], each=1)
        query(odd, "RESET ROLE")
        hint = e.value.diag.message_hint or ""
        assert e.value.pgerror.startswith('ERROR:  pgscore: rescoring "Sales Dept"."Customer Profile" for '), \
            e.value.pgerror
        assert "needs SELECT and UPDATE on" in hint and "pgscore_app" in hint, (e.value.pgerror, hint)
        assert '"Sales Dept"."Customer Profile_surrogate_seq" (the default of column surrogate)' in hint, hint
        assert "USAGE on" in hint, hint


def batch_table(conn, key_type="uuid"):
    query(conn, 'CREATE SCHEMA "Sales Dept"')
    query(conn, sql.SQL('CREATE TABLE "Sales Dept"."Customer Profile" ("Customer ID" {} PRIMARY KEY, {}, '
                        '"Churn Score" float8)').format(sql.SQL(key_type), feature_columns()))
    query(conn, 'INSERT INTO "Sales Dept"."Customer Profile" ("Customer ID", "order", "select") '
                'SELECT k::uuid, i, i * 0.5 FROM unnest(%s::text[]) WITH ORDINALITY AS u(k, i)', (KEYS["uuid"],))
    query(conn, 'CREATE VIEW "Sales Dept"."Profile View" AS SELECT * FROM "Sales Dept"."Customer Profile"')


def expected_scores(conn, model):
    cols = sql.SQL(", ").join(ident(f) for f in FEATURES)
    rows = query(conn, sql.SQL('SELECT "Customer ID"::text, ARRAY[{}]::float8[] FROM "Sales Dept"."Customer Profile"')
                 .format(cols))
    return {k: conn.models[model].predict_proba(np.array([f]))[0, 1] for k, f in rows}


@pytest.mark.parametrize("model", MODELS)
def test_predict_batch_over_quoted_names_a_uuid_key_and_a_view(odd, model):
    batch_table(odd)
    want = expected_scores(odd, model)
    for source in ('"Sales Dept"."Customer Profile"', '"Sales Dept"."Profile View"'):
        got = dict(query(odd, "SELECT key, score FROM pgscore.predict_batch(%s, %s)",
                         (model, f'SELECT "Customer ID", * FROM {source}')))
        assert got.keys() == want.keys()
        for k in want:
            assert got[k] == pytest.approx(want[k], abs=1e-9), k


@pytest.mark.parametrize("model", MODELS)
def test_score_table_and_the_cli_over_quoted_names_and_a_uuid_key(odd, model):
    batch_table(odd)
    want = expected_scores(odd, model)
    assert query(odd, "CALL pgscore.score_table(%s, %s, 'Customer ID', 'Churn Score')",
                 (model, '"Sales Dept"."Customer Profile"')) == [(3,)]
    got = dict(query(odd, 'SELECT "Customer ID"::text, "Churn Score" FROM "Sales Dept"."Customer Profile"'))
    for k in want:
        assert got[k] == pytest.approx(want[k], abs=1e-9), k
    query(odd, 'UPDATE "Sales Dept"."Customer Profile" SET "Churn Score" = NULL')
    r = pgscore_cli("score", "--model", model, "--table", '"Sales Dept"."Customer Profile"', "--key", "Customer ID",
                    "--into", "Churn Score", "--db", odd.url)
    assert r.returncode == 0, r.stderr
    got = dict(query(odd, 'SELECT "Customer ID"::text, "Churn Score" FROM "Sales Dept"."Customer Profile"'))
    for k in want:
        assert got[k] == pytest.approx(want[k], abs=1e-9), k


def test_score_table_on_a_view_is_refused_with_a_hint(odd):
    batch_table(odd)
    with pytest.raises(psycopg2.Error) as e:
        query(odd, "CALL pgscore.score_table('lin', %s, 'Customer ID', 'Churn Score')",
              ('"Sales Dept"."Profile View"',))
    assert e.value.pgcode == "42P10" and "Profile View" in e.value.pgerror, e.value.pgerror


LONG_TABLE = "É" * 20 + "v" * 23  # 63 bytes, beyond ASCII
assert len(LONG_TABLE.encode()) == 63


@pytest.mark.parametrize("model", MODELS)
def test_63_byte_and_non_ascii_names_with_windows_the_queue_retry_and_refresh(odd, model):
    """Every name at PostgreSQL's limit or beyond ASCII: event table, key, score, scored_at, time and id columns;
    window and last counters; profiles queued while the model is retired, then retried; refresh_windows."""
    key, score, at, when, eid = "ключ " + "k" * 54, "Ś" * 31 + "c", "scoréd at", "Created At", "Event ID"
    assert all(len(n.encode()) <= 63 for n in (key, score, at, when, eid))
    query(odd, 'CREATE SCHEMA "Sales Dept"')
    query(odd, sql.SQL('CREATE TABLE "Sales Dept"."Customer Profile" ({} text PRIMARY KEY, {}, {} float8, '
                       '{} timestamptz, "last kind" text)').format(ident(key), feature_columns(), ident(score),
                                                                  ident(at)))
    query(odd, sql.SQL('CREATE TABLE {} ({} bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, {} text, '
                       'amount float8, {} timestamptz DEFAULT now(), "Kind" text)')
          .format(ident("Sales Dept", LONG_TABLE), ident(eid), ident(key), ident(when)))
    counters = {"order": "count", "select": {"add": "e.amount"},
                "kündigung": {"window": "30 days", "time": when}, "last kind": {"last": 'e."Kind"'}}
    events = ident("Sales Dept", LONG_TABLE)
    query(odd, "SELECT pgscore.attach_rescoring(%s::regclass, %s::regclass, %s, %s, %s, %s::jsonb, %s)",
          (regclass(odd, events), '"Sales Dept"."Customer Profile"', key, model, score, json.dumps(counters), at))
    keys = ["a b", "ä'c", "Z"]
    insert_events(odd, events, keys, key=key, key_type="text")
    query(odd, sql.SQL('UPDATE {} SET "Kind" = \'x\'').format(events))
    query(odd, sql.SQL("INSERT INTO {} ({}, amount, {}, \"Kind\") VALUES (%s, 0, now() - interval '40 days', 'old')")
          .format(events, ident(key), ident(when)), ("Z",))
    rows = query(odd, sql.SQL('SELECT {}, "order", "select", "kündigung", "last kind", {} IS NOT NULL, {} IS NOT NULL '
                              'FROM "Sales Dept"."Customer Profile" ORDER BY 1').format(ident(key), ident(score),
                                                                                      ident(at)))
    assert rows == [("Z", 3, 1.0, 2.0, "old", True, True), ("a b", 2, 1.0, 2.0, None, True, True),
                    ("ä'c", 2, 1.0, 2.0, None, True, True)]
    # queued while the model has no live version, then retried
    query(odd, "SELECT pgscore.retire(%s)", (model,))
    insert_events(odd, events, ["a b"], key=key, each=1, key_type="text")
    assert query(odd, "SELECT entity_key FROM pgscore.error_queue") == [("a b",)]
    query(odd, "SELECT pgscore.activate(%s, 1)", (model,))
    assert query(odd, "SELECT rescored, failed FROM pgscore.retry_failed()") == [(1, 0)]
    assert query(odd, "SELECT count(*) FROM pgscore.error_queue") == [(0,)]
    # the 40-day-old event had left the window already; age Z's other events out of it and refresh
    query(odd, sql.SQL("UPDATE {} SET {} = now() - interval '31 days' WHERE {} = 'Z'").format(events, ident(when),
                                                                                        ident(key)))
    got = query(odd, "SELECT recounted, rescored, failed FROM pgscore.refresh_windows()")
    assert got == [(1, 1, 0)], got
    assert query(odd, sql.SQL('SELECT "kündigung" FROM "Sales Dept"."Customer Profile" WHERE {} = %s')
                 .format(ident(key)), ("Z",)) == [(0.0,)]
    m = odd.models[model]
    cols = sql.SQL(", ").join(ident(f) for f in FEATURES)
    for k, f, s in query(odd, sql.SQL('SELECT {}, ARRAY[{}]::float8[], {} FROM "Sales Dept"."Customer Profile"')
                         .format(ident(key), cols, ident(score))):
        assert s == pytest.approx(m.predict_proba(np.array([f]))[0, 1], abs=1e-9), k


@pytest.mark.parametrize("model", MODELS)
def test_numeric_keys_of_another_scale_name_the_same_profile(odd, model):
    """A numeric profile key 2 and events for 2.00: the same customer to PostgreSQL."""
    profiles, events = make_tables(odd, key_type="numeric")
    query(odd, sql.SQL('INSERT INTO {} ("Customer ID") VALUES (2), (3.5)').format(profiles))
    attach(odd, events, profiles, model)
    insert_events(odd, events, ["2.00", "3.50"], key_type="numeric")
    check_rescored(odd, profiles, model, ["2", "3.5"], 2, 1.0)
