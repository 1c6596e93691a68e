"""Every pgscore function's volatility, strictness, parallel safety and search_path, read from pg_proc."""

from helpers import query

EXPECTED = {
    # signature: (volatility, strict, parallel)
    "pgscore.validate_environment()": ("s", False, "s"),
    "pgscore.forbid_mutation()": ("v", False, "u"),
    "pgscore.score(text,double precision[],integer)": ("s", False, "u"),
    "pgscore.predict(text,double precision[],integer)": ("s", False, "u"),
    "pgscore.predict_proba(text,double precision[],integer)": ("s", False, "u"),
    "pgscore.register_model(text,bytea,text,jsonb,jsonb,boolean,text)": ("v", False, "u"),
    "pgscore.activate(text,integer,text)": ("v", False, "u"),
    "pgscore.rollback(text,integer,text)": ("v", False, "u"),
    "pgscore.retire(text,text)": ("v", False, "u"),
}


def test_declarations(conn):
    rows = query(conn, """SELECT oid::regprocedure::text, provolatile, proisstrict, proparallel, proconfig
                          FROM pg_proc WHERE pronamespace = 'pgscore'::regnamespace""")
    got = {r[0].replace(", ", ","): r[1:4] for r in rows}
    assert got == EXPECTED, "a function was added or changed: declare it honestly and list it here"
    for sig, *_, config in rows:
        assert config and "search_path=pg_catalog, pg_temp" in config, f"{sig} has no fixed search_path"
    # nothing that reads the registry may be IMMUTABLE
    assert not [s for s, (v, *_ ) in got.items() if v == "i"]
