"""Every pgscore function's volatility, strictness, parallel safety and search_path, read from pg_proc."""

import json

import numpy as np
import psycopg2
import pytest
from sklearn.linear_model import LogisticRegression

from helpers import query
from pgscore import auditlog, datasets, registry

ROW_FUNCTIONS = [f"pgscore.{f}(text,{t},integer,text)" for f in ("score", "predict", "predict_proba")
                 for t in ("double precision[]", "jsonb")]
BATCH = "pgscore.batch_chunks(text,text,integer,integer,boolean,text)"
PREDICT_BATCH = "pgscore.predict_batch(text,text,integer,integer,boolean,text)"
SCORE_TABLE = "pgscore.score_table(text,regclass,name,name,integer,integer,boolean,bigint,boolean,text,interval,name,name)"
IMAGE = "pgscore.float8_image(double precision[])"
DOUBLES = "pgscore.float8_array(bytea)"
UNCHECKED = "pgscore.float8_array_unchecked(bytea)"
BATCH_ERROR = "pgscore.batch_error(jsonb)"
ORDER_DIFFERS = "pgscore.feature_order_differs(text[],text[],integer,integer)"
SCORE_COLUMNS_READ = "pgscore.score_columns_read(bigint,bigint)"
JUDGE_FLOORS = "pgscore.judge(text[],double precision[],bigint[],double precision[])"
JUDGE_MODEL = "pgscore.judge(text[],double precision[],bigint[],text,text)"
JUDGE_FLOORS_MODEL = "pgscore.judge(text[],double precision[],bigint[],double precision[],text,text)"
NOISE_FLOOR = "pgscore.noise_floor(text,bigint,bigint,double precision[],double precision,double precision,bigint)"
NORMAL_QUANTILE = "pgscore.normal_quantile(double precision)"
CHECK_ROWS = "pgscore.check_rows(jsonb)"
JSONB_FLOAT8 = "pgscore.jsonb_float8(jsonb)"
REFUSE_READ_ONLY = "pgscore.refuse_read_only(text)"
EFFECTIVE = "pgscore.effective_thresholds(text,text,text)"
CHECK_PERIOD_KIND = "pgscore.check_period_kind(text,text)"
CATEGORY_CODE = "pgscore.category_code(text,text,text,integer)"
CATEGORY_CODE_PADDED = "pgscore.category_code(text,text,character,integer)"

EXPECTED = {
    # signature: (volatility, strict, parallel)
    "pgscore.validate_environment()": ("s", False, "s"),
    "pgscore.forbid_mutation()": ("v", False, "u"),
    "pgscore.refuse_subscribed_registry()": ("v", False, "u"),  # a trigger's: a subscribed registry's local write (0158)
    "pgscore.forbid_log_update()": ("v", False, "u"),
    **{sig: ("v", False, "u") for sig in ROW_FUNCTIONS},  # they write the audit log
    "pgscore.register_model(text,bytea,text,jsonb,jsonb,boolean,text,bytea,jsonb)": ("v", False, "u"),
    "pgscore.activate(text,integer,text,boolean)": ("v", False, "u"),
    "pgscore.rollback(text,integer,text,boolean)": ("v", False, "u"),
    "pgscore.retire(text,text)": ("v", False, "u"),
    "pgscore.delete_model(text)": ("v", False, "u"),  # deletes a name's versions (0156)
    "pgscore.set_shadow(text,integer,text,boolean)": ("v", False, "u"),
    # activate's, rollback's and set_shadow's load check (loads the version into the backend's cache)
    "pgscore.load_or_refuse(bigint,text,text)": ("v", False, "u"),
    "pgscore.clear_shadow(text,integer,text)": ("v", False, "u"),
    # a shadow's failure counted (writes pgscore.shadow_failures, as its owner)
    "pgscore.count_shadow_failure(bigint,text,text,bigint,text)": ("v", False, "u"),
    # a shadow's order check, written once (set_shadow, the deployments' trigger): its arguments alone; not STRICT,
    # it refuses NULLs (a NULL answer means "reads its own features")
    ORDER_DIFFERS: ("i", False, "s"),
    # the score and scored_at columns of wired tables a version reads, written once (set_shadow, the deployments'
    # trigger, attach_rescoring): reads the registry and the catalogs; not STRICT, it refuses a NULL model_id
    SCORE_COLUMNS_READ: ("s", False, "s"),
    "pgscore.flush_query_log()": ("v", False, "u"),
    "pgscore.check_live_version_fed()": ("v", False, "u"),
    "pgscore.end_shadow_made_live()": ("v", False, "u"),  # a trigger's: appends a shadow's stop (0121)
    "pgscore.signing_on()": ("s", False, "s"),  # the server's environment, fixed while it runs
    BATCH: ("v", False, "u"),
    PREDICT_BATCH: ("v", False, "u"),
    "pgscore.batch_sql(text,text,integer,integer,boolean,text)": ("v", False, "u"),  # plans the caller's query
    "pgscore.batch_row(text,integer,text,bytea)": ("s", False, "u"),  # reads the registry, writes nothing
    # a word's code for one of the live version's text features (0123): reads the registry, writes nothing;
    # unsafe, as feature_number: PL/Python runs each query in a subtransaction, which a parallel worker (and the
    # leader while workers run) may not start ("cannot start subtransactions during a parallel operation")
    CATEGORY_CODE: ("s", False, "u"),
    CATEGORY_CODE_PADDED: ("s", False, "u"),
    # its arguments alone; its EXCEPTION block's subtransaction is refused in a parallel operation (0045)
    "pgscore.feature_number(text,text,text)": ("i", True, "u"),
    # the same, naming the row's key (0081): not STRICT, a NULL key must not make the value NULL
    "pgscore.feature_number(text,text,text,text)": ("i", False, "u"),
    "pgscore.score_chunk(text,regclass,name,name,text,integer,integer,boolean,name,name)": ("v", False, "u"),
    SCORE_TABLE: ("v", False, "u"),
    "pgscore.score_table_commit()": ("v", False, "u"),  # score_table's first COMMIT, or 2D000 in its words
    "pgscore.create_log_partitions(integer,date)": ("v", False, "u"),
    "pgscore.drop_log_partitions(interval)": ("v", False, "u"),
    # retention and erasure (0141): they write the log, the outcomes and pgscore.log_retention
    "pgscore.redact_log_features(interval,integer,boolean)": ("v", False, "u"),
    "pgscore.erase_entity(text,text)": ("v", False, "u"),
    "pgscore.attach_rescoring(regclass,regclass,name,text,name,jsonb,name,name,text,boolean,name,boolean,name)": ("v", False, "u"),
    "pgscore.detach_rescoring(regclass,regclass)": ("v", False, "u"),
    "pgscore.forget_rescoring(bigint)": ("v", False, "u"),
    "pgscore.rescore_events()": ("v", False, "u"),
    "pgscore.rescore_replicated()": ("v", False, "u"),
    "pgscore.retry_failed(text,integer)": ("v", False, "u"),
    "pgscore.refresh_windows(regclass,integer)": ("v", False, "u"),  # writes counters, scores and audit rows
    "pgscore.backfill_rescoring(regclass)": ("v", False, "u"),  # the same, from all of the events
    "pgscore.rescore_profiles(regclass,regclass,text,integer)": ("v", False, "u"),  # scores and audit rows
    "pgscore.load_model(bigint)": ("v", False, "u"),  # fills this backend's model cache
    "pgscore.resign_models()": ("v", False, "u"),  # writes the registry's signatures
    # monitoring: read-only functions are STABLE (they read the registry and the log, and use now())
    **{f"pgscore.record_outcome(text,{e},{t},timestamp with time zone)": ("v", False, "u")
       for e in ("text", "uuid", "bigint") for t in ("text", "double precision", "boolean")},
    # an unknown model's hint, as scoring's (0120): reads the registry's names; a NULL name has none
    "pgscore.model_name_hint(text)": ("s", True, "u"),
    "pgscore.refresh_monitoring(interval,boolean)": ("v", False, "u"),
    # silences of alerts (0126): they write pgscore.alert_silences
    "pgscore.silence_alerts(text,interval,text,text,text,text,text,boolean,timestamp with time zone)":
        ("v", False, "u"),
    "pgscore.lift_silence(bigint)": ("v", False, "u"),
    # per-model thresholds (0129): they write pgscore.drift_threshold_overrides
    "pgscore.set_thresholds(text,text,double precision,double precision,integer,double precision,text)":
        ("v", False, "u"),
    "pgscore.clear_thresholds(text,text,text)": ("v", False, "u"),
    "pgscore.guard_alert_silences()": ("v", False, "u"),
    "pgscore.stamp_threshold_overrides()": ("v", False, "u"),  # (0129) a trigger's
    "pgscore.check_threshold_order()": ("v", False, "u"),
    # (0135) pgscore.models' triggers: a DELETE explained, a first version dropping what a deleted namesake left
    "pgscore.explain_model_delete()": ("v", False, "u"),
    "pgscore.forget_deleted_namesake()": ("v", False, "u"),
    # the health check (0140): reads small tables and the catalogs, as its owner; not in a parallel worker (a probe's
    # one call, never planned there)
    "pgscore.health()": ("s", False, "u"),
    "pgscore.health(text[])": ("s", False, "u"),
    # (0174) whether the server's Python imports pgscore, health()'s server_python check: reads nothing of the
    # database; health() calls it, never planned in a parallel worker
    "pgscore.server_python()": ("s", False, "u"),
    # (0174) health()'s numbers per model: reads small tables, as its owner
    "pgscore.metrics()": ("s", False, "u"),
    "pgscore.match_outcomes(timestamp with time zone)": ("v", False, "u"),  # updates the outcomes
    "pgscore.judge(text[],double precision[],bigint[])": ("s", False, "s"),
    # with a model and subject (0129): the overrides read too
    JUDGE_MODEL: ("s", False, "s"),
    JUDGE_FLOORS_MODEL: ("s", False, "s"),
    # the one rule of which thresholds judge a metric (0133): reads drift_thresholds and the overrides
    EFFECTIVE: ("s", False, "s"),
    # the same against noise floors (0085); the floors and the normal quantile read nothing: IMMUTABLE. noise_floor
    # is not STRICT (a NULL baseline size, base rate or confidence means something); normal_quantile is
    JUDGE_FLOORS: ("s", False, "s"),
    NOISE_FLOOR: ("i", False, "s"),
    NORMAL_QUANTILE: ("i", True, "s"),
    # a row's checks as rows, and what the noise floor held back (0087): its argument alone, but jsonb_to_recordset's
    # reading of the values is STABLE
    CHECK_ROWS: ("s", False, "s"),
    # the period kind check of drift_counts and the like (0089): reads nothing, raises for an unknown kind
    CHECK_PERIOD_KIND: ("s", False, "s"),
    "pgscore.drift_counts(text,text)": ("s", False, "u"),
    "pgscore.drift_stats()": ("s", False, "u"),
    "pgscore.performance_stats()": ("s", False, "u"),
    # per version, live or not (realised_performance_by_version, version_drift)
    "pgscore.drift_counts_of(bigint[],text,text)": ("s", False, "u"),
    "pgscore.drift_stats_of(bigint[],text)": ("s", False, "u"),
    "pgscore.performance_stats(boolean)": ("s", False, "u"),
    "pgscore.version_drift(text,integer)": ("s", False, "u"),
    "pgscore.shadow_drift_stats()": ("s", False, "u"),  # the shadow versions' drift, for alerts
    "pgscore.window_drift_stats()": ("s", False, "u"),  # the live versions' drift in the windows, for alerts
    "pgscore.class_drift_stats()": ("s", False, "u"),  # the live classifiers' predicted-class mix (0122)
    "pgscore.class_counts_of(bigint[])": ("s", False, "u"),  # class_drift's counts (0122)
    "pgscore.class_drift_stats_of(bigint[])": ("s", False, "u"),  # firing_of's class mix of the models named (0149)
    "pgscore.performance_stats_of(boolean,bigint[],text)": ("s", False, "u"),
    "pgscore.shadow_performance_stats()": ("s", False, "u"),  # the shadow versions' performance, for alerts
    # the drift rows, realised performance, firing conditions and alerts of the models named (0136)
    "pgscore.drift_rows_of(text[],text)": ("s", False, "u"),
    "pgscore.performance_rows_of(text[])": ("s", False, "u"),
    "pgscore.firing_of(text[])": ("s", False, "u"),
    "pgscore.alerts_of(text[])": ("s", False, "u"),
    IMAGE: ("i", True, "s"),  # bytes of its argument, nothing else
    DOUBLES: ("i", True, "s"),  # an array of its argument's bytes, nothing else
    UNCHECKED: ("i", True, "s"),
    BATCH_ERROR: ("i", True, "s"),  # raises what its argument says, reads nothing
    # (0169) a writer's refusal on a standby or in a read-only transaction: reads two settings of the session, as
    # VOLATILE as pg_is_in_recovery (a promotion ends recovery); not STRICT (a NULL is refused); RESTRICTED, run by
    # the leader alone: a parallel worker read transaction_read_only as off in a READ ONLY transaction (declared
    # SAFE, it refused nothing there)
    REFUSE_READ_ONLY: ("v", False, "r"),
    JSONB_FLOAT8: ("i", False, "s"),  # its argument alone (0113); not STRICT, so that it is inlined
    # (0182) the calling backend's loaded models: its Python's state, read as current_setting reads the session's
    # (STABLE: writes nothing; test_roles' reader may call none VOLATILE), which a parallel worker's Python does not
    # hold (RESTRICTED)
    "pgscore.cached_models()": ("s", False, "r"),
}
# no SET search_path, for a reason; every query it runs qualifies what it names instead
NO_FIXED_PATH = {
    SCORE_TABLE: "a procedure with a SET clause cannot COMMIT after each chunk",
    "pgscore.score_table_commit()": "score_table's COMMIT: a procedure with a SET clause cannot COMMIT; it runs no query",
    IMAGE: "an internal function that runs no query; a SET clause would save and restore a setting per row",
    UNCHECKED: "an internal function that runs no query, called by float8_array (which has the clause)",
    JSONB_FLOAT8: "one expression, inlined where it is called (a SET clause keeps a function from being inlined); "
                  "its body is parsed when it is created",
    EFFECTIVE: "one query, inlined where it is called (judge, drift_stats_of, performance_stats_of: a SET clause keeps "
               "a function from being inlined); a SQL-standard body, its names resolved when it is created",
    **{sig: "the row path: not SECURITY DEFINER, and the clause cost a sixth of each call (1.3-1.4 us); "
            "tests/test_search_path.py plants look-alikes of every name their queries use"
       for sig in ROW_FUNCTIONS},
}


def test_declarations(conn):
    rows = query(conn, """SELECT oid::regprocedure::text, provolatile, proisstrict, proparallel, proconfig
                          FROM pg_proc WHERE pronamespace = 'pgscore'::regnamespace""")
    got = {r[0].replace(", ", ","): r[1:4] for r in rows}
    assert got == EXPECTED, "a function was added or changed: declare it honestly and list it here"
    for sig, *_, config in rows:
        sig = sig.replace(", ", ",")
        if sig in NO_FIXED_PATH:
            assert not config, f"{sig} is listed as having no SET clause"
        else:
            assert config and "search_path=pg_catalog, pg_temp" in config, f"{sig} has no fixed search_path"
    # the statements of these touch thousands of rows at once and are estimated past jit_above_cost;
    # compiling them cost more than running them
    jit_off = {s.replace(", ", ",") for s, *_, config in rows if config and "jit=off" in config}
    assert jit_off >= {"pgscore.rescore_events()", "pgscore.retry_failed(text,integer)",
                       "pgscore.refresh_windows(regclass,integer)", "pgscore.backfill_rescoring(regclass)",
                       "pgscore.rescore_profiles(regclass,regclass,text,integer)",
                       "pgscore.score_chunk(text,regclass,name,name,text,integer,integer,boolean,name,name)"}
    # (0183, session 71's trial T28) and record_outcome, a call per outcome: under a DBA's jit_above_cost = 0 each of
    # its statements was compiled, 73 ms an outcome against 2.7 ms, and pgscore demo's 1,000 outcomes ran past 30 s
    assert jit_off >= {f"pgscore.record_outcome(text,{key},{outcome},timestamp with time zone)"
                       for key in ("text", "uuid", "bigint") for outcome in ("text", "double precision", "boolean")}, \
        sorted(s for s in jit_off if "record_outcome" in s)
    # (0183, review r2 of session 71) and predict_batch, as score_chunk (the query it runs with it): under the trial's
    # jit_above_cost = 0 its internal statements were compiled at each call, 1.25-1.53 s for 1,000 rows against
    # 60-120 ms
    assert "pgscore.predict_batch(text,text,integer,integer,boolean,text)" in jit_off, sorted(jit_off)
    # (0183, review r2 of session 71) and the rescoring batches, run by a cron or an admin, as the drift functions:
    # under the trial's work_mem = '64kB' and temp_file_limit = '1MB' retry_failed and a rescore_profiles chunk of
    # 1,000 queued every profile (reading the profiles failed: 53400)
    assert {s.replace(", ", ",") for s, *_, config in rows if config and "work_mem=64MB" in config} >= {
        "pgscore.retry_failed(text,integer)", "pgscore.refresh_windows(regclass,integer)",
        "pgscore.backfill_rescoring(regclass)", "pgscore.rescore_profiles(regclass,regclass,text,integer)"}
    # (0183) and the drift views' reader with the drift functions' work_mem: under a DBA's 64kB and temp_file_limit 1MB,
    # pgscore.feature_drift failed on the demo's log (53400)
    assert {s.replace(", ", ",") for s, *_, config in rows if config and "work_mem=64MB" in config} >= {
        "pgscore.drift_rows_of(text[],text)", "pgscore.drift_stats()"}
    # the load checks of what other sessions will score: with the version-mismatch override off, whatever the
    # caller's session set (set_shadow, which runs as its owner, lacked it)
    mismatch_off = {s.replace(", ", ",") for s, *_, config in rows
                    if config and "pgscore.allow_version_mismatch=off" in config}
    assert mismatch_off >= {"pgscore.activate(text,integer,text,boolean)", "pgscore.rollback(text,integer,text,boolean)",
                            "pgscore.set_shadow(text,integer,text,boolean)"}, mismatch_off
    # nothing that reads the registry may be IMMUTABLE: only the functions that read nothing are
    assert sorted(s for s, (v, *_) in got.items() if v == "i") == sorted([IMAGE, DOUBLES, UNCHECKED, BATCH_ERROR,
                                                                               "pgscore.feature_number(text,text,text)",
                                                                               "pgscore.feature_number(text,text,text,text)",
                                                                               ORDER_DIFFERS, NOISE_FLOOR,
                                                                               NORMAL_QUANTILE, JSONB_FLOAT8])


def test_parallel_safe_functions_work_in_a_parallel_query(conn):
    query(conn, "SET force_parallel_mode = on")  # PostgreSQL 15: every parallel-safe query runs in a worker
    safe = [s for s, (_, _, p) in EXPECTED.items() if p == "s"]
    assert safe == ["pgscore.validate_environment()", ORDER_DIFFERS, SCORE_COLUMNS_READ, "pgscore.signing_on()",
                    "pgscore.judge(text[],double precision[],bigint[])", JUDGE_MODEL, JUDGE_FLOORS_MODEL, EFFECTIVE,
                    JUDGE_FLOORS,
                    NOISE_FLOOR, NORMAL_QUANTILE,
                    CHECK_ROWS, CHECK_PERIOD_KIND, IMAGE, DOUBLES, UNCHECKED, BATCH_ERROR, JSONB_FLOAT8]
    # a PL/pgSQL EXCEPTION block starts a subtransaction, which a parallel worker may not (feature_number was
    # declared safe until 0045, and failed over a table with "cannot start subtransactions during a parallel
    # operation"; a constant argument is folded at plan time and hid it)
    blocks = query(conn, "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang "
                         "WHERE p.pronamespace = 'pgscore'::regnamespace AND p.proparallel <> 'u' "
                         "AND l.lanname = 'plpgsql' AND p.prosrc ~* '\\mEXCEPTION\\s+WHEN'")
    assert blocks == []
    (ok,), = query(conn, "SELECT (pgscore.validate_environment())::jsonb ? 'scikit_learn'")
    assert ok
    assert query(conn, "SELECT pgscore.signing_on()") == [(False,)]  # the test clusters have no key
    (status, firing), = query(conn, "SELECT status, firing FROM pgscore.judge(ARRAY['psi', 'ks'], "
                                    "ARRAY[0.25, 0.05], ARRAY[500, 500]::bigint[])")
    assert (status, firing) == ("alert", "psi")
    # the one rule (0133), in a worker, where the plan puts it
    assert query(conn, "SELECT e.warn, e.warn_from FROM pg_catalog.generate_series(1, 1) g, "
                       "pgscore.effective_thresholds(NULL, 'psi' || repeat('x', g - 1)) e") == [(0.1, "default")]
    # with floors (0085): psi 0.25 at 500 values is above its floor, ks 0.25 at 50 values is not
    (status, firing), = query(conn, "SELECT status, firing FROM pgscore.judge(ARRAY['psi', 'ks'], ARRAY[0.25, 0.25], "
                                    "ARRAY[500, 50]::bigint[], ARRAY[pgscore.noise_floor('psi', 500, NULL, array_fill(0.1, ARRAY[10]), 0.999), "
                                    "pgscore.noise_floor('ks', 50, NULL, NULL, 0.999)])")
    assert (status, firing) == ("alert", "psi")
    # what a floor held back (0087): psi 0.25 under a floor of 0.3, at ok, reached the alert level
    assert query(conn, "SELECT c.metric, c.held_back_from FROM pg_catalog.generate_series(1, 1) g, "
                       "pgscore.check_rows(jsonb_build_array(jsonb_build_object('metric', 'psi', 'value', 0.25 * g, "
                       "'n', 100, 'warn', 0.1, 'alert', 0.2, 'confidence', 0.999, 'floor', 0.3, 'level', 'ok'))) c"
                 ) == [("psi", "alert")]
    (floor,), = query(conn, "SELECT sum(pgscore.noise_floor('mean_shift', g, NULL, NULL, 0.999)) "
                            "FROM pg_catalog.generate_series(100, 100) AS g")  # not folded: run where the plan puts it
    assert floor == pytest.approx(3.2905267 / 10, rel=1e-6)
    (kinds,), = query(conn, "SELECT string_agg(pgscore.check_period_kind('f', (ARRAY['window', 'day'])[g]), ',') "
                            "FROM pg_catalog.generate_series(1, 3) AS g")  # not folded; the third is NULL
    assert kinds == "window,day"
    with pytest.raises(psycopg2.Error) as e:
        query(conn, "SELECT pgscore.check_period_kind('f', 'week' || g) FROM pg_catalog.generate_series(1, 1) AS g")
    assert e.value.pgcode == "22023" and e.value.diag.message_primary.startswith("f: p_period_kind must be")
    # (0169) a writer's refusal, RESTRICTED: in a parallel query, nothing in a transaction that may write, 25006 in a
    # read-only one (the leader runs it)
    assert query(conn, "SELECT count(pgscore.refuse_read_only('pgscore.x writes ' || g)) "
                       "FROM pg_catalog.generate_series(1, 3) AS g") == [(3,)]
    query(conn, "BEGIN READ ONLY")
    with pytest.raises(psycopg2.Error) as e:
        query(conn, "SELECT pgscore.refuse_read_only('pgscore.x writes ' || g) FROM pg_catalog.generate_series(1, 1) g")
    query(conn, "ROLLBACK")
    assert e.value.pgcode == "25006" and e.value.diag.message_primary == \
        "pgscore.x writes 1: not in a read-only transaction", e.value.diag.message_primary
    (total, missing), = query(conn, "SELECT sum(pgscore.jsonb_float8(pg_catalog.to_jsonb(g))), "
                                    "count(pgscore.jsonb_float8(pg_catalog.to_jsonb(g::text))) "
                                    "FROM pg_catalog.generate_series(1, 100) AS g")  # (0113) not folded
    assert (total, missing) == (5050.0, 0)
    (image,), = query(conn, "SELECT pgscore.float8_image(ARRAY[1.5, NULL, -2]::float8[])")
    assert bytes(image)[:12] == np.array([1, 32, 701], dtype="=i4").tobytes()  # one dimension, a bitmap: 0b101
    (back,), = query(conn, "SELECT pgscore.float8_array(%s)", (np.array([1.5, -2.0]).tobytes(),))
    assert back == [1.5, -2.0]
    assert query(conn, "SELECT pgscore.batch_error(NULL)") == [(None,)]
    (why,), = query(conn, "SELECT pgscore.feature_order_differs(ARRAY['b', g::text], ARRAY['a', g::text], 1, 2) "
                          "FROM pg_catalog.generate_series(1, 1) AS g")  # not folded at plan time
    assert why == "holds the 2 features of live version 1 in its order, and version 2 reads 'b' where it holds 'a'"
    try:  # (reads the registry in the worker: a model_id it lacks is refused as in the leader)
        query(conn, "SELECT count(*) FROM pg_catalog.generate_series(7, 7) AS g, pgscore.score_columns_read(-g) AS c")
    except psycopg2.Error as e:
        assert e.pgcode == "42704" and e.diag.message_primary == "pgscore.score_columns_read: there is no model_id -7"
    else:
        raise AssertionError("score_columns_read answered for a model_id that is not there")
    with pytest.raises(psycopg2.Error) as e:  # (0123, unsafe: no parallel plan, its own error, not 25000's)
        query(conn, "SELECT count(pgscore.category_code('nope' || g, 'plan', 'pro')) "
                    "FROM pg_catalog.generate_series(1, 1) AS g")
    assert e.value.pgcode == "42704" and e.value.diag.message_primary == "pgscore: there is no model 'nope1'"
    assert query(conn, "SELECT pgscore.feature_number(' 2.5 ', 'm v1', 'f')") == [(2.5,)]
    assert query(conn, "SELECT pgscore.feature_number(NULL, 'm v1', 'f')") == [(None,)]  # STRICT: a missing value
    (total,), = query(conn, "SELECT sum(pgscore.feature_number(g::text, 'm v1', 'f')) "
                            "FROM pg_catalog.generate_series(1, 100) AS g")  # not folded: run where the plan puts it
    assert total == 5050.0
    (total,), = query(conn, "SELECT sum(pgscore.feature_number(g::text, 'm v1', 'f', g::text)) "
                            "FROM pg_catalog.generate_series(1, 100) AS g")  # the one with the key (0081)
    assert total == 5050.0
    assert query(conn, "SELECT pgscore.feature_number(NULL, 'm v1', 'f', 'k'), "
                       "pgscore.feature_number('2', 'm v1', 'f', NULL)") == [(None, 2.0)]  # not STRICT: the key alone
    try:
        query(conn, "SELECT pgscore.batch_error(pg_catalog.jsonb_build_object('message', 'in a worker', 'sqlstate', "
                    "'22023', 'row', g)) FROM pg_catalog.generate_series(1, 3) AS g")  # not folded at plan time
    except psycopg2.Error as e:
        assert e.pgcode == "22023" and e.diag.message_primary == "in a worker"
    else:
        raise AssertionError("batch_error returned")


def test_feature_number_enters_no_exception_block_for_a_null_value(conn):
    """feature_number with the key returns NULL for a NULL value before its EXCEPTION block (0083): since 0081
    it is not STRICT, and it started a subtransaction for every NULL text cell the statements of predict_batch,
    score_table and rescoring read, where the STRICT one of three arguments was never called. Seen where a
    subtransaction is refused: in a parallel operation, with the function declared safe for this transaction
    alone. A value still takes the block there (the probe sees it), and NULL is NULL with any key."""
    probe = ("SELECT pgscore.feature_number(CASE WHEN g > 0 THEN {} END, 'm v1', 'f', {}) "
             "FROM pg_catalog.generate_series(1, 3) AS g")  # not folded at plan time: run where the plan puts it
    assert query(conn, probe.format("NULL", "NULL")) == [(None,)] * 3
    assert query(conn, probe.format("NULL", "g::text")) == [(None,)] * 3
    with conn.cursor() as cur:
        try:
            cur.execute("BEGIN; ALTER FUNCTION pgscore.feature_number(text, text, text, text) PARALLEL SAFE; "
                        "SET LOCAL force_parallel_mode = on")  # PostgreSQL 15: the query runs in a worker
            cur.execute("SAVEPOINT s")
            cur.execute(probe.format("NULL", "g::text"))
            assert cur.fetchall() == [(None,)] * 3
            cur.execute("EXPLAIN (COSTS off) " + probe.format("NULL", "g::text"))
            assert "Gather" in "\n".join(r for r, in cur.fetchall())  # (a parallel plan: the probe can see)
            with pytest.raises(psycopg2.Error) as e:
                cur.execute(probe.format("'2.5'", "g::text"))
            assert "cannot start subtransactions during a parallel operation" in str(e.value), e.value
            cur.execute("ROLLBACK TO SAVEPOINT s")
        finally:
            cur.execute("ROLLBACK")
    assert query(conn, "SELECT proparallel FROM pg_catalog.pg_proc WHERE oid = "
                       "'pgscore.feature_number(text, text, text, text)'::pg_catalog.regprocedure") == [("u",)]
    # messages and SQLSTATEs as they were, the key named
    for value, state, said in (("'n/a'", "22P02", "must be a number, got 'n/a' (key 'k'; its column holds text)"),
                               ("'1e999'", "22003", "is out of the range of double precision, got '1e999' (key 'k'")):
        with pytest.raises(psycopg2.Error) as e:
            query(conn, f"SELECT pgscore.feature_number({value}, 'm v1', 'f', 'k')")
        assert e.value.pgcode == state and said in e.value.diag.message_primary, e.value.diag.message_primary


def test_look_alike_objects_are_never_picked_up(db_url):
    """A schema ahead of pg_catalog on the caller's search_path, with traps named like what the row and
    batch functions use: scoring and logging still work and no trap fires (the row path in every case:
    tests/test_search_path.py)."""
    X, Y, names = datasets.churn(300, seed=2)
    est = LogisticRegression(max_iter=500).fit(X, Y)
    registry.deploy(db_url, "churn", est, X, Y, feature_names=names)
    conn = psycopg2.connect(db_url)
    conn.autocommit = True
    query(conn, """
        CREATE SCHEMA trap;
        CREATE FUNCTION trap.eq(text, text) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'trap = fired'; END $$;
        CREATE OPERATOR trap.= (LEFTARG = text, RIGHTARG = text, FUNCTION = trap.eq);
        CREATE FUNCTION trap.eq8(bigint, bigint) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'trap = fired'; END $$;
        CREATE OPERATOR trap.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = trap.eq8);
        CREATE FUNCTION trap.current_setting(text, boolean) RETURNS text LANGUAGE sql AS $$ SELECT 'off' $$;
        CREATE FUNCTION trap.unnest(anyarray) RETURNS SETOF anyelement LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'trap unnest fired'; END $$;
        CREATE FUNCTION trap.json_build_object(text, text, text, name, text, text, text, integer, text, timestamptz)
            RETURNS json LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'trap json fired'; END $$;
        CREATE FUNCTION trap.arith(bigint, integer) RETURNS bigint LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'trap arithmetic fired'; END $$;
        CREATE OPERATOR trap.- (LEFTARG = bigint, RIGHTARG = integer, FUNCTION = trap.arith);
        CREATE OPERATOR trap.* (LEFTARG = bigint, RIGHTARG = integer, FUNCTION = trap.arith);
        CREATE OPERATOR trap.+ (LEFTARG = bigint, RIGHTARG = integer, FUNCTION = trap.arith);
        CREATE FUNCTION trap.arith_f8(float8, float8) RETURNS float8 LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'trap float8 arithmetic fired'; END $$;
        CREATE FUNCTION trap.cmp_f8(float8, float8) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'trap float8 comparison fired'; END $$;
        CREATE FUNCTION trap.neg_f8(float8) RETURNS float8 LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'trap float8 negation fired'; END $$;
        CREATE OPERATOR trap.- (LEFTARG = float8, RIGHTARG = float8, FUNCTION = trap.arith_f8);
        CREATE OPERATOR trap.* (LEFTARG = float8, RIGHTARG = float8, FUNCTION = trap.arith_f8);
        CREATE OPERATOR trap.+ (LEFTARG = float8, RIGHTARG = float8, FUNCTION = trap.arith_f8);
        CREATE OPERATOR trap./ (LEFTARG = float8, RIGHTARG = float8, FUNCTION = trap.arith_f8);
        CREATE OPERATOR trap.- (RIGHTARG = float8, FUNCTION = trap.neg_f8);
        CREATE OPERATOR trap.= (LEFTARG = float8, RIGHTARG = float8, FUNCTION = trap.cmp_f8);
        CREATE OPERATOR trap.< (LEFTARG = float8, RIGHTARG = float8, FUNCTION = trap.cmp_f8);
        CREATE OPERATOR trap.> (LEFTARG = float8, RIGHTARG = float8, FUNCTION = trap.cmp_f8);
        CREATE OPERATOR trap.>= (LEFTARG = float8, RIGHTARG = float8, FUNCTION = trap.cmp_f8);
        CREATE FUNCTION trap.eq4(integer, integer) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'trap int4 = fired'; END $$;
        CREATE OPERATOR trap.= (LEFTARG = integer, RIGHTARG = integer, FUNCTION = trap.eq4);
        CREATE FUNCTION trap.exp(float8) RETURNS float8 LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'trap exp fired'; END $$;
        CREATE TABLE trap.deployments (model_name text, model_id bigint, action text, deployment_id bigint);
        CREATE TABLE trap.prediction_log (LIKE pgscore.prediction_log);
        SET search_path = trap, pg_catalog, public;
    """)
    got = query(conn, "SELECT pgscore.score('churn', %s::float8[], NULL, 'k'), "
                      "pgscore.predict_proba('churn', %s::jsonb)",
                (X[0].tolist(), json.dumps(dict(zip(names, X[0].tolist())))))
    assert abs(got[0][0] - est.predict_proba(X[:1])[0, 1]) < 1e-12
    assert np.allclose(got[0][1], est.predict_proba(X[:1])[0])
    assert query(conn, "SELECT count(*) FROM pgscore.prediction_log") == [(2,)]  # logging stayed on
    # the row functions have no SET clause of their own: the buffer written inside a statement (every
    # FLUSH_AT rows), predict, and a first call in a new backend (loading the model) all run here too
    n = auditlog.FLUSH_AT + 1
    (count, labels), = query(conn, "SELECT count(pgscore.score('churn', %s::float8[])), "
                                   "count(DISTINCT pgscore.predict('churn', %s::float8[], p_key => 'p')) "
                                   "FROM pg_catalog.generate_series(1, %s)", (X[2].tolist(), X[2].tolist(), n))
    assert (count, labels) == (n, 1)
    assert query(conn, "SELECT count(*) FROM pgscore.prediction_log") == [(2 + 2 * n,)]
    fresh = psycopg2.connect(db_url)
    fresh.autocommit = True
    query(fresh, "SET search_path = trap, pg_catalog, public")
    (p,), = query(fresh, "SELECT pgscore.predict_proba('churn', %s::float8[])", (X[3].tolist(),))
    assert np.allclose(p, est.predict_proba(X[3:4])[0], rtol=0, atol=1e-12)
    fresh.close()
    assert query(conn, "SELECT count(*) FROM pgscore.prediction_log") == [(3 + 2 * n,)]
    # the batch path: the caller's query is the caller's own (it may use the trap schema's names); pgscore's
    # statements around it are not
    (key, score), = query(conn, "SELECT * FROM pgscore.predict_batch('churn', %s)",
                          (f"SELECT 'k1' AS id, ARRAY{X[1].tolist()}::float8[] AS features",))
    assert key == "k1" and abs(score - est.predict_proba(X[1:2])[0, 1]) < 1e-12
    assert query(conn, "SELECT count(*) FROM pgscore.prediction_log") == [(4 + 2 * n,)]
    # nothing logged, the model scored in SQL: one statement in the caller's search_path, its own
    # arithmetic and comparisons qualified (a NaN goes to batch_row, whose error is the chunks')
    rows = [(f"k{i}", X[i].tolist()) for i in range(4)]
    q = " UNION ALL ".join(f"SELECT '{k}' AS id, ARRAY{v}::float8[] AS features" for k, v in rows)
    got = query(conn, "SELECT * FROM pgscore.predict_batch('churn', %s, p_log => false)", (q,))
    assert [k for k, _ in got] == ["k0", "k1", "k2", "k3"]
    assert np.abs(np.array([s for _, s in got]) - est.predict_proba(X[:4])[:, 1]).max() < 1e-12
    with pytest.raises(psycopg2.Error) as e:
        query(conn, "SELECT * FROM pgscore.predict_batch('churn', %s, p_log => false)",
              (q + " UNION ALL SELECT 'k9', array_fill('NaN'::float8, ARRAY[12])",))
    assert e.value.pgcode == "22023" and "(key 'k9')" in e.value.pgerror and "trap" not in e.value.pgerror
    assert query(conn, "SELECT count(*) FROM pgscore.prediction_log") == [(4 + 2 * n,)]
    assert query(conn, "SELECT count(*) FROM trap.prediction_log") == [(0,)]
    conn.close()
