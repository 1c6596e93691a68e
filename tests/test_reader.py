"""What a BI tool sees through a login granted pgscore_reader only: the views docs/sql.md presents, found
through information_schema and pg_catalog as a BI tool's sync finds them, with comments that say what the
views compute."""

import re
from pathlib import Path

import psycopg2
import pytest

from helpers import query

READER = "pgscore_t_reader_bi"
DOCS = Path(__file__).resolve().parent.parent / "docs" / "sql.md"


@pytest.fixture
def bi(db_url):
    """An autocommit connection as a login granted pgscore_reader and nothing else (roles are global to the
    cluster: made once, granted again per database)."""
    query(db_url, f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{READER}') "
                  f"THEN CREATE ROLE {READER} LOGIN; END IF; END $$")
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
    assert len(views) == 13  # (shadow_versions, realised_performance_by_version since 0054, 0056; performance_by_day_by_version)
    columns = synced_columns(bi)
    assert {t for t, _ in columns} == set(views) | {"drift_windows", "drift_thresholds"}
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
