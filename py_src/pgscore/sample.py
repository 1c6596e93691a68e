"""The sample customers/complaints schema used by the demo, the benchmark and the tests.

`public.customers` is a profile table (one row per customer, a column per
churn feature, a score and scored_at); `public.complaints` is an event table.
The wiring that `rescore_complaints` attaches: every complaint adds one to
support_calls, recounts complaints_30d over the last 30 days and moves
last_complaint_at, then the churn model rescores the customer.
"""

from __future__ import annotations

import io
import json

import numpy as np
from psycopg2 import sql

from pgscore.datasets import CHURN_FEATURES

COUNTERS = {
    "support_calls": "count",
    "complaints_30d": {"window": "30 days", "time": "created_at"},
    "last_complaint_at": {"max": "created_at"},
}


def create_tables(cur, schema="public", customers="customers", complaints="complaints"):
    """Create the profile and event tables (empty)."""
    c, e = sql.Identifier(schema, customers), sql.Identifier(schema, complaints)
    cols = sql.SQL(", ").join(sql.SQL("{} float8").format(sql.Identifier(f)) for f in CHURN_FEATURES)
    cur.execute(sql.SQL("CREATE TABLE {} (id bigint PRIMARY KEY, {}, last_complaint_at timestamptz, "
                        "churn_score float8, scored_at timestamptz)").format(c, cols))
    cur.execute(sql.SQL("CREATE TABLE {} (complaint_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
                        "customer_id bigint, kind text NOT NULL DEFAULT 'billing', "
                        "created_at timestamptz NOT NULL DEFAULT now())").format(e))
    cur.execute(sql.SQL("CREATE INDEX ON {} (customer_id, created_at)").format(e))


def load_customers(cur, X, schema="public", customers="customers", first_id=1):
    """COPY rows of X (churn features, in CHURN_FEATURES order) in as customers first_id, first_id + 1, ..."""
    buf = io.StringIO()
    ids = np.arange(first_id, first_id + len(X))
    for i, row in zip(ids, X.tolist()):
        buf.write(f"{i}\t" + "\t".join(repr(v) for v in row) + "\n")
    buf.seek(0)
    cols = sql.SQL(", ").join(map(sql.Identifier, ["id", *CHURN_FEATURES]))
    cur.copy_expert(sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(schema, customers), cols).as_string(cur),
                    buf)


KINDS = ("billing", "network", "outage")


def load_complaints(cur, schema="public", customers="customers", complaints="complaints", days=28, seed=0) -> int:
    """The complaint events behind the customers' loaded counters: complaints_30d of them for each customer, at
    times spread over the last `days` days (fewer than the window's 30, so that none leaves it for a while), and
    last_complaint_at set to the newest. Run it before attach_rescoring: a wired table would count them again.
    Without them the window counter held counts no event backed, which refresh_windows recounted to 0 (328 of
    the demo's 1,000 profiles), rescoring them and shifting the feature's drift. Returns how many it inserted."""
    c, e = sql.Identifier(schema, customers), sql.Identifier(schema, complaints)
    cur.execute(sql.SQL("SELECT id, complaints_30d::int FROM {} WHERE complaints_30d > 0 ORDER BY id").format(c))
    rng = np.random.default_rng(seed)
    ids, kinds, hours = [], [], []
    for cid, k in cur.fetchall():
        ids += [cid] * k
        kinds += [KINDS[i] for i in rng.integers(len(KINDS), size=k)]
        hours += rng.uniform(1, days * 24, k).tolist()
    cur.execute(sql.SQL("INSERT INTO {} (customer_id, kind, created_at) SELECT u.id, u.kind, "
                        "now() - u.hours * interval '1 hour' FROM unnest(%s::bigint[], %s::text[], %s::float8[]) "
                        "AS u(id, kind, hours) ORDER BY u.hours DESC, u.id").format(e), (ids, kinds, hours))
    cur.execute(sql.SQL("UPDATE {} AS p SET last_complaint_at = x.newest FROM (SELECT customer_id, max(created_at) "
                        "AS newest FROM {} GROUP BY customer_id) x WHERE x.customer_id = p.id").format(c, e))
    return len(ids)


def rescore_complaints(cur, model="churn", schema="public", customers="customers", complaints="complaints",
                       **options) -> int:
    """attach_rescoring with the sample counters; returns the rescoring_id."""
    cur.execute("SELECT pgscore.attach_rescoring(%s::regclass, %s::regclass, 'customer_id', %s, 'churn_score', "
                "%s::jsonb, p_profile_key => 'id', p_missing_profile => %s, p_strict => %s)",
                (sql.Identifier(schema, complaints).as_string(cur), sql.Identifier(schema, customers).as_string(cur),
                 model, json.dumps(options.get("counters", COUNTERS)), options.get("missing_profile", "create"),
                 options.get("strict", False)))
    return cur.fetchone()[0]
