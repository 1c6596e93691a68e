"""The bad-input matrix: every public SQL function through NULLs, unknown names, injection strings,
wrong sizes, NaN and Infinity, huge inputs and wrong JSON types. Each gets a clear error with a SQLSTATE
(never an internal error, never a dead backend) and leaves nothing behind. Where bad input has a
documented non-error answer (an unknown period has no rows), the table says so."""

import json
import re
import shlex

import psycopg2
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from helpers import make_shop, pgscore_cli, query
from pgscore import artifacts, datasets
from pgscore.datasets import CHURN_FEATURES
from pgscore.errors import literal

X, Y, _ = datasets.churn(500, seed=4)
ROW = X[0].tolist()
INJECT = "churn'; DROP TABLE pgscore.models; --"
INJECT_ID = 'x"; DROP TABLE pgscore.models; --'
QUOTED_ID = '"' + INJECT_ID.replace('"', '""') + '"'  # INJECT_ID as an identifier
HUGE = [0.5] * 100_000
OK = None  # the call succeeds (a documented answer, not an error)

# churn v3, v4, v5 (copies of v1, loadable), v4's and v5's features in the other order; a profile table of one float8[] column
# features and an event table, wired (no counters: read by position) where `wired`
_VERSIONS = ("INSERT INTO pgscore.models (name, version, task, estimator, feature_names, feature_types, classes, env) "
             "SELECT m.name, v.v, m.task, m.estimator, CASE WHEN v.v > 3 THEN ARRAY(SELECT f FROM unnest(m.feature_names) "
             "WITH ORDINALITY u(f, i) ORDER BY i DESC) ELSE m.feature_names END, m.feature_types, m.classes, m.env "
             "FROM pgscore.models m, (VALUES (3), (4), (5)) v(v) WHERE m.name = 'churn' AND m.version = 1; "
             "INSERT INTO pgscore.artifacts (model_id, bytes, sha256) SELECT n.model_id, a.bytes, a.sha256 "
             "FROM pgscore.models n, pgscore.artifacts a JOIN pgscore.models o USING (model_id) "
             "WHERE n.name = 'churn' AND n.version IN (3, 4, 5) AND o.name = 'churn' AND o.version = 1; ")
_VEC = ("CREATE TABLE vec_p (id int PRIMARY KEY, features float8[], churn_score float8, scored_at timestamptz); "
        "CREATE TABLE vec_e (customer_id int); ")
# a multiclass model 'tier' (churn v1's features and bytes, the classes bronze, silver, gold), for the statement of
# a row only: it fails after, and its transaction leaves nothing
_TIER = ("INSERT INTO pgscore.models (name, version, task, estimator, feature_names, feature_types, classes, env) "
         "SELECT 'tier', 1, 'multiclass', estimator, feature_names, feature_types, "
         "'[\"bronze\", \"silver\", \"gold\"]', env FROM pgscore.models WHERE name = 'churn' AND version = 1; ")
_ATTACH_VEC = ("SELECT pgscore.attach_rescoring('vec_e', 'vec_p', 'customer_id', 'churn', 'churn_score', "
               "p_profile_key => 'id')")

# (what, SQL, parameters, SQLSTATE expected, a phrase the message must hold)
SQL_CASES = [
    # the row functions, by position and by name
    ("score NULL model", "SELECT pgscore.score(NULL, %s::float8[])", (ROW,), "22004", "model"),
    # a word's code (0123): an unknown model, a NULL feature, a feature with no words (churn takes numbers only)
    ("category_code unknown model", "SELECT pgscore.category_code('nope', 'plan', 'pro')", (), "42704", "nope"),
    ("category_code NULL model", "SELECT pgscore.category_code(NULL, 'plan', 'pro')", (), "22004", "model"),
    ("category_code NULL feature", "SELECT pgscore.category_code('churn', NULL, 'pro')", (), "22004", "feature"),
    ("category_code no text feature", "SELECT pgscore.category_code('churn', 'tenure_months', 'pro')", (), "22023",
     "no text feature 'tenure_months'"),
    # the char(n) form (0127): the same errors
    ("category_code char(n) unknown model", "SELECT pgscore.category_code('nope', 'plan', 'pro'::char(5))", (),
     "42704", "nope"),
    # a version pinned (0127) that the model does not have: score's error and hint
    ("category_code unknown version: the hint", "SELECT pgscore.category_code('churn', 'plan', 'pro', 42)", (), "42704",
     "there is no version 42 of model 'churn'\nHINT:  list models with: SELECT * FROM pgscore.model_versions"),
    ("score unknown model", "SELECT pgscore.score('nope', %s::float8[])", (ROW,), "42704", "nope"),
    ("score unknown version: the hint", "SELECT pgscore.score('churn', %s::float8[], 42)", (ROW,), "42704",
     "there is no version 42 of model 'churn'\nHINT:  list models with: SELECT * FROM pgscore.model_versions"),
    ("score injection model", "SELECT pgscore.score(%s, %s::float8[])", (INJECT, ROW), "42704",
     f'there is no model "{INJECT}"'),
    ("score NULL features", "SELECT pgscore.score('churn', NULL::float8[])", (), "22004", "features"),
    ("score too few features", "SELECT pgscore.score('churn', ARRAY[1.0, 2.0])", (), "22023", "takes 12 features, got 2"),
    ("score huge array", "SELECT pgscore.score('churn', %s::float8[])", (HUGE,), "22023", "got 100000"),
    ("score 2-D array", "SELECT pgscore.score('churn', ARRAY[[1.0, 2.0], [3.0, 4.0]])", (), "22023",
     "takes one row of 12 features as a one-dimensional array, got a 2-dimensional one (2 x 2)"),
    ("score 2-D array of 12 rows", "SELECT pgscore.score('churn', array_fill(1.0::float8, ARRAY[12, 2]))", (), "22023",
     "got a 2-dimensional one (12 x 2)"),
    ("predict_proba 3-D array", "SELECT pgscore.predict_proba('churn', array_fill(1.0::float8, ARRAY[12, 1, 1]))", (),
     "22023", "got a 3-dimensional one (12 x 1 x 1)"),
    ("score NaN feature", "SELECT pgscore.score('churn', %s::float8[])", ([float("nan")] + ROW[1:],), "22023",
     "tenure_months"),
    ("score Infinity feature", "SELECT pgscore.score('churn', %s::float8[])", ([float("inf")] + ROW[1:],), "22023",
     "tenure_months"),
    ("score jsonb number out of range", "SELECT pgscore.score('churn', %s::jsonb)",
     (json.dumps(dict(zip(CHURN_FEATURES, ROW))).replace(str(ROW[0]), "1e400", 1),), "22003",
     "feature 'tenure_months' is out of the range of double precision"),
    ("score jsonb number out of range, with a fraction", "SELECT pgscore.score('churn', %s::jsonb)",
     (json.dumps(dict(zip(CHURN_FEATURES, ROW))).replace(str(ROW[0]), "1" * 5000 + ".5", 1),), "22003",
     "feature 'tenure_months' is out of the range of double precision"),
    ("score unknown version", "SELECT pgscore.score('churn', %s::float8[], 99)", (ROW,), "42704", "99"),
    ("score negative version", "SELECT pgscore.score('churn', %s::float8[], -1)", (ROW,), "42704", "-1"),
    ("predict unknown model", "SELECT pgscore.predict('nope', %s::float8[])", (ROW,), "42704", "nope"),
    ("predict_proba NULL features", "SELECT pgscore.predict_proba('churn', NULL::float8[])", (), "22004", "features"),
    ("score jsonb missing key", "SELECT pgscore.score('churn', '{\"tenure_months\": 3}'::jsonb)", (), "22023",
     "missing"),
    ("score jsonb an array", "SELECT pgscore.score('churn', '[1, 2, 3]'::jsonb)", (), "22023", "object"),
    ("score jsonb a string value", "SELECT pgscore.score('churn', %s::jsonb)",
     (json.dumps({**dict(zip(CHURN_FEATURES, ROW)), "tenure_months": "three"}),), "22P02",
     "feature 'tenure_months' must be a number"),
    ("score jsonb NULL", "SELECT pgscore.score('churn', NULL::jsonb)", (), "22004", "the features are NULL (a NULL jsonb"),
    ("predict jsonb injection model", "SELECT pgscore.predict(%s, '{}'::jsonb)", (INJECT,), "42704",
     "there is no model"),
    # a name that looks like a typo for a model's: the hint names that model (none for a name like no model's: the
    # activate, rollback and retire rows below)
    ("score: a typo of a model's name", "SELECT pgscore.score('chrun', ARRAY[1]::float8[])", (), "42704",
     "there is no model 'chrun'\nHINT:  a typo for 'churn'? Else list models with: SELECT * FROM pgscore.model_versions"),
    ("predict_batch: a typo of a model's name", "SELECT * FROM pgscore.predict_batch('Churn', 'SELECT 1')", (), "42704",
     "there is no model 'Churn'\nHINT:  a typo for 'churn'? Else list models with: SELECT * FROM pgscore.model_versions"),
    # batch
    ("predict_batch NULL query", "SELECT * FROM pgscore.predict_batch('churn', NULL)", (), "22004", "query"),
    ("predict_batch bad query", "SELECT * FROM pgscore.predict_batch('churn', 'SELECT FROM nowhere')", (), "42P01",
     "nowhere"),
    ("predict_batch injection model", "SELECT * FROM pgscore.predict_batch(%s, 'SELECT 1')", (INJECT,), "42704",
     "there is no model"),
    ("predict_batch chunk 0", "SELECT * FROM pgscore.predict_batch('churn', 'SELECT * FROM customers', NULL, 0)", (),
     "22023", "chunk"),
    # batch_chunks returns the error that stops it as a last row, which predict_batch raises with batch_error
    ("batch_chunks chunk 0", "SELECT c.keys, pgscore.batch_error(c.error) FROM pgscore.batch_chunks('churn', "
     "'SELECT * FROM customers', NULL, 0, true, 'public') AS c", (), "22023", "chunk"),
    ("predict_batch NULL search_path", "SELECT * FROM pgscore.predict_batch('churn', 'SELECT * FROM customers', NULL, "
     "10, true, NULL)", (), "22004", "search_path"),
    ("predict_batch bad search_path", "SELECT * FROM pgscore.predict_batch('churn', 'SELECT * FROM customers', NULL, "
     "10, true, 'a,,b')", (), "22023", "search_path"),
    ("predict_batch search_path without the table", "SELECT * FROM pgscore.predict_batch('churn', "
     "'SELECT * FROM customers', NULL, 10, true, 'pg_catalog')", (), "42P01", "customers"),
    ("predict_batch missing columns", "SELECT * FROM pgscore.predict_batch('churn', 'SELECT id FROM customers')", (),
     "42601", "the query must return the key first and then the features"),
    ("predict_batch NULL features array", "SELECT * FROM pgscore.predict_batch('churn', "
     "'SELECT 7, NULL::float8[] AS features')", (), "22004", "the features of key '7' are NULL"),
    ("predict_batch a NaN names its key", "SELECT * FROM pgscore.predict_batch('churn', 'SELECT g, "
     "array_fill(CASE WHEN g IN (8, 9) THEN ''NaN''::float8 ELSE 1 END, ARRAY[12]) AS features "
     "FROM generate_series(1, 20) g')", (), "22023", "is NULL or NaN (key '8')"),  # (the row's own error, scored in
    # SQL: its query is not run again chunk by chunk for a count of the rows like it, session 64)
    ("predict_batch NULL p_log", "SELECT * FROM pgscore.predict_batch('churn', 'SELECT * FROM customers', NULL, 10, "
     "NULL)", (), "22004", "p_log must not be NULL"),
    # a statement that is no query, or a comment after its semicolon: what predict_batch takes, not "syntax
    # error at or near INTO"; a feature's column twice: which, not "ambiguous" (or, by the chunks, one silently)
    ("predict_batch not a query", "SELECT * FROM pgscore.predict_batch('churn', 'INSERT INTO customers (id) VALUES "
     "(999999) RETURNING *')", (), "42601", "not INSERT, UPDATE or DELETE ... RETURNING"),
    ("predict_batch comment after the semicolon", "SELECT * FROM pgscore.predict_batch('churn', 'SELECT * FROM "
     "customers; -- all of them')", (), "42601", "but not a comment after them"),
    # a driver's bind parameter written into the query: what to do, not PostgreSQL's bare "there is no parameter $1"
    ("predict_batch a bind parameter in the query", "SELECT * FROM pgscore.predict_batch('churn', 'SELECT * FROM "
     "customers WHERE id < $1')", (), "42P02", "the query takes no parameters: there is no parameter $1"),
    ("batch_sql a bind parameter in the query", "SELECT c.statement, pgscore.batch_error(c.error) FROM "
     "pgscore.batch_sql('churn', 'SELECT * FROM customers WHERE id = $1', NULL, 10, false, 'public') AS c", (),
     "42P02", "the query takes no parameters"),
    ("predict_batch a feature twice", "SELECT * FROM pgscore.predict_batch('churn', 'SELECT *, 0::float8 AS "
     "tenure_months FROM customers')", (), "42702", "returns the column(s) tenure_months more than once"),
    ("predict_batch a feature twice, chunks", "SELECT * FROM pgscore.predict_batch('churn', 'SELECT *, 0::float8 AS "
     "tenure_months FROM customers', p_version => 1)", (), "42702", "returns the column(s) tenure_months"),
    # nothing logged, a linear model: one SQL statement (batch_sql writes it), batch_row for a row SQL cannot score
    ("batch_sql injection model", "SELECT c.statement, pgscore.batch_error(c.error) FROM pgscore.batch_sql(%s, "
     "'SELECT 1', NULL, 10, false, 'public') AS c", (INJECT,), "42704", "there is no model"),
    ("batch_sql chunk 0", "SELECT c.statement, pgscore.batch_error(c.error) FROM pgscore.batch_sql('churn', "
     "'SELECT * FROM customers', NULL, 0, false, 'public') AS c", (), "22023",
     "p_chunk_size, the chunk size, must be between 1 and 1000000, got 0"),
    ("batch_sql no features", "SELECT c.statement, pgscore.batch_error(c.error) FROM pgscore.batch_sql('churn', "
     "'SELECT id FROM customers', NULL, 10, false, 'public') AS c", (), "42601",
     "the query must return the key first and then the features"),
    ("batch_sql NULL query", "SELECT c.statement, pgscore.batch_error(c.error) FROM pgscore.batch_sql('churn', NULL, "
     "NULL, 10, false, 'public') AS c", (), "22004", "the query is NULL or empty"),
    ("batch_sql NULL search_path", "SELECT c.statement, pgscore.batch_error(c.error) FROM pgscore.batch_sql('churn', "
     "'SELECT * FROM customers', NULL, 10, false, NULL) AS c", (), "22004", "the search_path for the query is NULL"),
    ("batch_sql NULL p_log", "SELECT c.statement, pgscore.batch_error(c.error) FROM pgscore.batch_sql('churn', "
     "'SELECT * FROM customers', NULL, 10, NULL, 'public') AS c", (), "22004", "p_log must not be NULL"),
    ("batch_row NULL features", "SELECT pgscore.batch_row('churn', NULL, 'k7', NULL)", (), "22004",
     "the features of key 'k7' are NULL"),
    ("batch_row two features", "SELECT pgscore.batch_row('churn', NULL, 'k8', pgscore.float8_image('{1,2}'))", (),
     "22023", "model churn v1 takes 12 features; row 1 (key 'k8') has 2 features"),
    ("batch_row NaN", "SELECT pgscore.batch_row('churn', NULL, 'k9', pgscore.float8_image(array_fill('NaN'::float8, "
     "ARRAY[12])))", (), "22023", "is NULL or NaN (key 'k9')"),
    # keys quoted as SQL quotes a literal: one with a space, an empty one, one with a quote read as what they are
    # (before: "(key k 9)", "(key )", "the features of key  are NULL")
    ("batch_row NaN of a key with a space", "SELECT pgscore.batch_row('churn', NULL, 'k 9', pgscore.float8_image("
     "array_fill('NaN'::float8, ARRAY[12])))", (), "22023", "is NULL or NaN (key 'k 9')"),
    ("batch_row NULL features of an empty key", "SELECT pgscore.batch_row('churn', NULL, '', NULL)", (), "22004",
     "the features of key '' are NULL"),
    ("batch_row two features of a key with a quote", "SELECT pgscore.batch_row('churn', NULL, 'it''s', "
     "pgscore.float8_image('{1,2}'))", (), "22023", "row 1 (key 'it''s') has 2 features"),
    # an image whose header claims 100,000,000 values in its 20 bytes: refused before a list is made for them
    ("batch_row image claiming too much", "SELECT pgscore.batch_row('churn', NULL, 'k', "
     "'\\x0100000000000000bd02000000e1f50501000000'::bytea)", (), "22023",
     "its header claims 100000000 values in 1 dimensions, more than its 20 bytes hold"),
    # one with a NULL bitmap claiming 80 values: refused for its shape, before a list is made for its values
    ("batch_row image with a bitmap claiming 80", "SELECT pgscore.batch_row('churn', NULL, 'k', "
     "'\\x0100000030000000bd0200005000000001000000ffffffffffffffffffff'::bytea)", (), "22023",
     "model churn v1 takes 12 features; row 1 (key 'k') has 80 features"),
    ("batch_row unknown version", "SELECT pgscore.batch_row('churn', 99, 'k', NULL)", (), "42704", "99"),
    # a feature column that holds numbers as text: the value that is none names the model and the feature
    ("feature_number not a number", "SELECT pgscore.feature_number('abc', 'churn v1', 'age')", (), "22P02",
     "model churn v1: feature 'age' must be a number, got 'abc' (its column holds text)"),
    ("feature_number out of range", "SELECT pgscore.feature_number('1e400', 'churn v1', 'age')", (), "22003",
     "model churn v1: feature 'age' is out of the range of double precision, got '1e400'"),
    ("feature_number injection", "SELECT pgscore.feature_number(%s, %s, %s)", (INJECT, INJECT, INJECT_ID), "22P02",
     "must be a number"),
    # with the row's key (0081 on), which the statements of predict_batch, score_table and rescoring pass
    ("feature_number with a key, not a number", "SELECT pgscore.feature_number('abc', 'churn v1', 'age', 'c7')", (),
     "22P02", "model churn v1: feature 'age' must be a number, got 'abc' (key 'c7'; its column holds text)"),
    ("feature_number with a key, out of range", "SELECT pgscore.feature_number('1e400', 'churn v1', 'age', 'c7')", (),
     "22003", "model churn v1: feature 'age' is out of the range of double precision, got '1e400' (key 'c7';"),
    ("feature_number with a NULL key", "SELECT pgscore.feature_number('abc', 'churn v1', 'age', NULL)", (), "22P02",
     "got 'abc' (key NULL;"),
    ("feature_number with a key, NULL value", "SELECT pgscore.feature_number(NULL, 'churn v1', 'age', 'c7')", (), OK,
     ""),
    ("feature_number with a key, injection", "SELECT pgscore.feature_number(%s, %s, %s, %s)",
     (INJECT, INJECT, INJECT_ID, INJECT), "22P02", "must be a number"),
    ("predict_batch text column not a number", "SELECT count(*) FROM pgscore.predict_batch('churn', 'SELECT id, "
     "CASE WHEN id = 7 THEN ''abc'' ELSE tenure_months::text END AS tenure_months, "
     + ", ".join(CHURN_FEATURES[1:]) + " FROM customers')", (), "22P02",
     "model churn v1: feature 'tenure_months' must be a number, got 'abc' (key '7'; its column holds text)"),
    ("predict_batch text column not a number, not logged", "SELECT count(*) FROM pgscore.predict_batch('churn', "
     "'SELECT id, CASE WHEN id = 7 THEN ''1e999'' ELSE tenure_months::text END AS tenure_months, "
     + ", ".join(CHURN_FEATURES[1:]) + " FROM customers', p_log => false)", (), "22003",
     "model churn v1: feature 'tenure_months' is out of the range of double precision, got '1e999' (key '7';"),
    ("score_chunk key not unique", "SELECT * FROM pgscore.score_chunk('churn', 'complaints', 'customer_id', 'kind')",
     (), "42P10", "complaints.customer_id has no unique index"),
    ("score_chunk into a feature", "SELECT * FROM pgscore.score_chunk('churn', 'customers', 'id', 'tenure_months')",
     (), "22023", "'tenure_months' of public.customers is a feature"),
    ("score_chunk NULL chunk size", "SELECT * FROM pgscore.score_chunk('churn', 'customers', 'id', 'churn_score', "
     "NULL, NULL)", (), "22004", "p_chunk_size, the chunk size, is NULL"),
    ("score_chunk an oid of no relation", "SELECT * FROM pgscore.score_chunk('churn', 4242424::oid::regclass, 'id', "
     "'churn_score')", (), "42P01", "there is no relation with oid 4242424 (the table to score)"),
    ("score_table an oid of no relation", "CALL pgscore.score_table('churn', 0::oid::regclass, 'id', 'churn_score')", (),
     "42P01", "there is no relation with oid 0 (the table to score)"),
    ("score_chunk unknown table", "SELECT * FROM pgscore.score_chunk('churn', 'nope', 'id', 'churn_score')", (),
     "42P01", "nope"),
    ("score_chunk injection column", "SELECT * FROM pgscore.score_chunk('churn', 'customers', %s, 'churn_score')",
     (INJECT_ID,), "42703", "DROP TABLE"),
    ("score_chunk no such score column", "SELECT * FROM pgscore.score_chunk('churn', 'customers', 'id', 'upsell')",
     (), "42703", "HINT:  add it first: ALTER TABLE public.customers ADD COLUMN upsell float8"),
    # a misspelt score column: the column it looks like, before adding the typo as a column
    ("score_chunk misspelt score column", "SELECT * FROM pgscore.score_chunk('churn', 'customers', 'id', 'churn_scor')",
     (), "42703", "HINT:  a typo for 'churn_score'? Else add it first: ALTER TABLE public.customers ADD COLUMN "
     "churn_scor float8"),
    ("score_chunk NULL into", "SELECT * FROM pgscore.score_chunk('churn', 'customers', 'id', NULL)", (), "22004",
     ""),
    ("score_chunk NULL p_log", "SELECT * FROM pgscore.score_chunk('churn', 'customers', 'id', 'churn_score', "
     "p_log => NULL)", (), "22004", "p_log must not be NULL"),
    ("score_table NULL p_log", "CALL pgscore.score_table('churn', 'customers', 'id', 'churn_score', p_log => NULL)",
     (), "22004", "p_log must not be NULL"),
    ("score_table injection into", "CALL pgscore.score_table('churn', 'customers', 'id', %s)", (INJECT_ID,), "42703",
     "DROP TABLE"),
    ("score_table chunk -5", "CALL pgscore.score_table('churn', 'customers', 'id', 'churn_score', -5)", (), "22023",
     "p_chunk_size, the chunk size, must be between 1 and 1000000, got -5"),
    ("score_table negative progress", "CALL pgscore.score_table('churn', 'customers', 'id', 'churn_score', "
     "p_progress => '-1 second')", (), "22023", "p_progress must not be negative"),
    ("score_table p_after not a key", "CALL pgscore.score_table('churn', 'customers', 'id', 'churn_score', "
     "p_after => 'x')", (), "22P02", "invalid input syntax"),
    # p_label_into (0115): a column that cannot take the classes pgscore.predict gives, refused before any row
    ("score_chunk label into the key", "SELECT * FROM pgscore.score_chunk('churn', 'customers', 'id', 'churn_score', "
     "p_label_into => 'id')", (), "22023", "the label column 'id' of public.customers is its key column"),
    ("score_chunk label into the score", "SELECT * FROM pgscore.score_chunk('churn', 'customers', 'id', 'churn_score', "
     "p_label_into => 'churn_score')", (), "22023", "p_into and p_label_into both name column 'churn_score' of "
     "public.customers: model churn v1's score and its predicted class need a column each"),
    ("score_chunk label into a feature", "SELECT * FROM pgscore.score_chunk('churn', 'customers', 'id', 'churn_score', "
     "p_label_into => 'tenure_months')", (), "22023", "'tenure_months' of public.customers is a feature of model churn v1"),
    ("score_chunk no such label column", "SELECT * FROM pgscore.score_chunk('churn', 'customers', 'id', 'churn_score', "
     "p_label_into => 'churned')", (), "42703",
     "HINT:  add it first: ALTER TABLE public.customers ADD COLUMN churned text"),
    ("score_chunk misspelt label column", "SELECT * FROM pgscore.score_chunk('churn', 'customers', 'id', "
     "'churn_score', p_label_into => 'scored_a')", (), "42703", "HINT:  a typo for 'scored_at'?"),
    ("score_chunk label into a timestamptz", "SELECT * FROM pgscore.score_chunk('churn', 'customers', 'id', "
     "'churn_score', p_label_into => 'last_complaint_at')", (), "42804",
     "column 'last_complaint_at' of public.customers is timestamp with time zone, which cannot hold the classes "
     "'0', '1' of model churn v1"),
    ("score_table label injection", "CALL pgscore.score_table('churn', 'customers', 'id', 'churn_score', "
     "p_label_into => %s)", (INJECT_ID,), "42703", "DROP TABLE"),
    # the registry
    ("register_model NULL name", "SELECT * FROM pgscore.register_model(NULL, '\\x00'::bytea, '0', '{}', '[]')", (),
     "22023", "invalid model name"),
    ("register_model injection name", "SELECT * FROM pgscore.register_model(%s, '\\x00'::bytea, '0', '{}', '[]')",
     (INJECT,), "22023", "invalid model name"),
    ("register_model wrong sha256", "SELECT * FROM pgscore.register_model('m', '\\x00'::bytea, %s, '{}', '[]')",
     ("0" * 64,), "XX001", "sha256"),
    ("activate unknown version", "SELECT pgscore.activate('churn', 42)", (), "42704", "42"),
    ("activate NULL", "SELECT pgscore.activate(NULL, NULL)", (), "22004", "must not be NULL"),
    ("activate NULL p_force", "SELECT pgscore.activate('churn', 1, NULL, NULL)", (), "22004", "p_force must not be NULL"),
    ("activate a version the server cannot load", "SELECT pgscore.activate('churn', 2)", (), "58P01",
     "version 2 of 'churn' cannot be made live: this server cannot load it"),
    ("rollback unknown model", "SELECT pgscore.rollback('nope')", (), "42704", "nope"),
    ("rollback NULL p_force", "SELECT pgscore.rollback('churn', 1, NULL, NULL)", (), "22004", "p_force must not be NULL"),
    ("rollback to a version the server cannot load", "SELECT pgscore.rollback('churn', 2)", (), "58P01",
     "version 2 of 'churn' cannot be made live: this server cannot load it"),
    ("rollback with no earlier version", "SELECT pgscore.rollback('churn')", (), "55000",
     "has no earlier deployed version than 1"),
    # a shadow reading a wired float8[] column features by position: refused where its order is not the live one's
    ("activate a version a shadow would read in another order",
     _VERSIONS + _VEC + _ATTACH_VEC + "; SELECT pgscore.set_shadow('churn', 3); SELECT pgscore.activate('churn', 4)", (),
     "55000", "version 4 of 'churn' cannot be made live while version 3 is its shadow: public.vec_p, which "
     "public.vec_e rescores with 'churn', has one float8[] column features"),
    ("rollback to a version a shadow would read in another order",
     _VERSIONS + "SELECT pgscore.activate('churn', 4); " + _VEC + _ATTACH_VEC + "; SELECT pgscore.set_shadow('churn', 5); "
     "SELECT pgscore.rollback('churn')", (),
     "55000", "version 1 of 'churn' cannot be made live while version 5 is its shadow"),
    ("attach a features array a shadow would read in another order",
     _VERSIONS + "SELECT pgscore.set_shadow('churn', 4); " + _VEC + _ATTACH_VEC, (), "55000",
     "public.vec_p cannot be wired to rescore with 'churn' while version 4 is its shadow"),
    ("feature_order_differs NULL", "SELECT pgscore.feature_order_differs(NULL, ARRAY['a'], 1, 2)", (), "22004",
     "both versions' feature names and version numbers must not be NULL"),
    ("feature_order_differs NULL version", "SELECT pgscore.feature_order_differs(ARRAY['a'], ARRAY['a'], 1, NULL)", (),
     "22004", "must not be NULL"),
    ("feature_order_differs a NULL feature name", "SELECT pgscore.feature_order_differs(ARRAY['a', NULL], "
     "ARRAY['a', 'b'], 1, 2)", (), "22004", "a feature name of version 2 or 1 is NULL"),
    ("score_columns_read NULL", "SELECT * FROM pgscore.score_columns_read(NULL)", (), "22004",
     "pgscore.score_columns_read: model_id must not be NULL"),
    ("score_columns_read unknown model_id", "SELECT * FROM pgscore.score_columns_read(-7)", (), "42704",
     "there is no model_id -7\nHINT:  list the versions and their model_id with: SELECT * FROM pgscore.model_versions"),
    ("score_columns_read unknown wiring", "SELECT * FROM pgscore.score_columns_read((SELECT model_id FROM "
     "pgscore.models WHERE name = 'churn' AND version = 1), -7)", (), "42704",
     "there is no wiring -7 that rescores with 'churn'"),
    ("retire injection", "SELECT pgscore.retire(%s)", (INJECT,), "42704", "DROP TABLE"),
    ("retire NULL", "SELECT pgscore.retire(NULL)", (), "22004", "must not be NULL"),
    ("retire unknown model", "SELECT pgscore.retire('nope')", (), "42704", "there is no model 'nope'"),
    ("delete_model injection", "SELECT * FROM pgscore.delete_model(%s)", (INJECT,), "42704", "DROP TABLE"),
    ("delete_model NULL", "SELECT * FROM pgscore.delete_model(NULL)", (), "22004", "must not be NULL"),
    ("delete_model unknown model", "SELECT * FROM pgscore.delete_model('nope')", (), "42704",
     "there is no model 'nope'"),
    # a model or version that is not there: the hint says where the models are listed (they had none)
    ("activate unknown model: the hint", "SELECT pgscore.activate('nope', 1)", (), "42704",
     "there is no model 'nope'\nHINT:  list models with: SELECT * FROM pgscore.model_versions"),
    ("activate unknown version: the hint", "SELECT pgscore.activate('churn', 42)", (), "42704",
     "there is no version 42 of model 'churn'\nHINT:  list models with: SELECT * FROM pgscore.model_versions"),
    ("rollback unknown model: the hint", "SELECT pgscore.rollback('nope')", (), "42704",
     "there is no model 'nope'\nHINT:  list models with: SELECT * FROM pgscore.model_versions"),
    ("rollback to an unknown version: the hint", "SELECT pgscore.rollback('churn', 42)", (), "42704",
     "there is no version 42 of model 'churn'\nHINT:  list models with: SELECT * FROM pgscore.model_versions"),
    ("retire unknown model: the hint", "SELECT pgscore.retire('nope')", (), "42704",
     "there is no model 'nope'\nHINT:  list models with: SELECT * FROM pgscore.model_versions"),
    # a misspelt model's name: scoring's hint, the model it looks like a typo for (migration 0124; they named none,
    # as record_outcome and version_drift did before 0120), the same SQLSTATE
    *[(f"{fn} a model's name misspelt", f"SELECT pgscore.{fn}({args})", (), "42704",
       f"there is no model {name}\nHINT:  a typo for 'churn'? Else list models with: SELECT * FROM "
       "pgscore.model_versions\n")
      for fn, args, name in (("activate", "'chrun', 1", "'chrun'"), ("rollback", "'Churn'", "'Churn'"),
                             ("retire", "'churns'", "'churns'"), ("set_shadow", "'chrun', 2", "'chrun'"),
                             ("clear_shadow", "'chrun'", "'chrun'"), ("retry_failed", "'chrun'", "'chrun', and no "
                                                                       "table is wired to rescore with it"))],
    ("set_shadow NULL", "SELECT pgscore.set_shadow(NULL, 2)", (), "22004", "must not be NULL"),
    ("set_shadow injection", "SELECT pgscore.set_shadow(%s, 2)", (INJECT,), "42704", "DROP TABLE"),
    ("set_shadow unknown version", "SELECT pgscore.set_shadow('churn', 42)", (), "42704", "no version 42"),
    ("set_shadow the live version", "SELECT pgscore.set_shadow('churn', 1)", (), "55000",
     "version 1 of 'churn' is its live version: it cannot be its own shadow"),
    ("set_shadow NULL p_force", "SELECT pgscore.set_shadow('churn', 2, NULL, NULL)", (), "22004",
     "p_force must not be NULL"),
    ("set_shadow a version the server cannot load", "SELECT pgscore.set_shadow('churn', 2)", (), "58P01",
     "version 2 of 'churn' cannot be loaded by this server, so it cannot shadow version 1"),
    ("clear_shadow NULL", "SELECT pgscore.clear_shadow(NULL)", (), "22004", "must not be NULL"),
    ("clear_shadow unknown model", "SELECT pgscore.clear_shadow(%s)", (INJECT,), "42704", "DROP TABLE"),
    ("clear_shadow unknown version", "SELECT pgscore.clear_shadow('churn', 42)", (), "42704", "no version 42"),
    ("set_shadow a version the server cannot load, the session's override on", "SET pgscore.allow_version_mismatch "
     "= on; SELECT pgscore.set_shadow('churn', 2)", (), "58P01",
     "version 2 of 'churn' cannot be loaded by this server, so it cannot shadow version 1"),
    ("count_shadow_failure NULL", "SELECT pgscore.count_shadow_failure(1, 'public.t', '42703', 1, NULL)", (), "22004",
     "model_id, relation, sqlstate, profiles and message must not be NULL"),
    ("count_shadow_failure negative", "SELECT pgscore.count_shadow_failure(1, 'public.t', '42703', -1, 'x')", (),
     "22023", "the profiles or rows of public.t that model_id 1 did not score must not be negative, got -1"),
    ("count_shadow_failure not a SQLSTATE", "SELECT pgscore.count_shadow_failure(1, 'public.t', %s, 1, 'x')",
     (INJECT,), "22023", "is not a SQLSTATE (the failure of model_id 1 in public.t)"),
    ("load_or_refuse NULL", "SELECT pgscore.load_or_refuse(NULL, 'x: ', 'y')", (), "22004", "must not be NULL"),
    ("load_or_refuse unknown id", "SELECT pgscore.load_or_refuse(-7, 'it cannot be made live: ', 'y')", (),
     "42704", "it cannot be made live: there is no model with model_id -7"),
    ("load_model NULL", "SELECT pgscore.load_model(NULL)", (), "22004", "model_id"),
    ("load_model unknown id", "SELECT pgscore.load_model(-7)", (), "42704", "model_id -7"),
    ("resign_models without a key, a signature of the first scheme stored", "SELECT * FROM pgscore.resign_models()",
     (), "55000",
     "this server has no signing key"),
    # the log
    ("create_log_partitions -1 days", "SELECT pgscore.create_log_partitions(-1)", (), "22023", "between 0 and 366"),
    ("create_log_partitions 100000 days", "SELECT pgscore.create_log_partitions(100000)", (), "22023",
     "between 0 and 366"),
    ("create_log_partitions NULL", "SELECT pgscore.create_log_partitions(NULL)", (), "22023", "got <NULL>"),
    ("drop_log_partitions negative", "SELECT pgscore.drop_log_partitions('-1 day')", (), "22023",
     "p_older_than, the retention period, must be a positive interval (got -1 days)"),
    ("drop_log_partitions NULL", "SELECT pgscore.drop_log_partitions(NULL)", (), "22023",
     "p_older_than, the retention period, must be a positive interval (got <NULL>)"),
    ("drop_log_partitions without a unit", "SELECT pgscore.drop_log_partitions('90')", (), "22023",
     "p_older_than, the retention period, must be at least 1 day (got 00:01:30)"),
    ("drop_log_partitions zero: an example", "SELECT pgscore.drop_log_partitions('0 days')", (), "22023",
     "p_older_than, the retention period, must be a positive interval (got 00:00:00)\nHINT:  retention keeps whole UTC days, at least one: for "
     "example '90 days'"),
    # a part of each sign: 1 day to an interval comparison, none in a month of 31 days (0147)
    ("drop_log_partitions with a negative part", "SELECT pgscore.drop_log_partitions('-1 mon 31 days')", (), "22023",
     "p_older_than, the retention period, has a negative part (got -1 mons +31 days)"),
    ("redact_log_features with a negative part", "SELECT pgscore.redact_log_features('1 mon -29 days')", (), "22023",
     "has a negative part (got 1 mon -29 days): a month is 28 to 31 days, so such a period is a different length on "
     "different dates\nHINT:  write the period in parts of one sign"),
    # retention and erasure (0141)
    ("redact_log_features without a unit", "SELECT pgscore.redact_log_features('2')", (), "22023",
     "p_older_than, how long features are kept, must be at least 1 day (got 00:00:02)"),
    ("redact_log_features NULL", "SELECT pgscore.redact_log_features(NULL)", (), "22023",
     "must be at least 1 day (got <NULL>)"),
    ("redact_log_features no rows a call", "SELECT pgscore.redact_log_features('2 years', 0)", (), "22023",
     "p_limit, the rows redacted a call, must be at least 1 and p_recheck not NULL (got 0, f)"),
    ("erase_entity NULL key", "SELECT * FROM pgscore.erase_entity(NULL)", (), "22023",
     "p_key, the entity key to erase, must not be NULL"),
    ("erase_entity unknown model", "SELECT * FROM pgscore.erase_entity('7', 'nosuch')", (), "42704",
     "there is no model 'nosuch'\nHINT:  p_model NULL erases the entity's rows of every model"),
    # rescoring
    ("attach an oid of no relation", "SELECT pgscore.attach_rescoring(0::oid::regclass, 'customers', 'customer_id', "
     "'churn', 'churn_score')", (), "42P01", "there is no relation with oid 0 (the event table)"),
    ("attach to an oid of no relation", "SELECT pgscore.attach_rescoring('complaints', 4242424::oid::regclass, "
     "'customer_id', 'churn', 'churn_score')", (), "42P01", "there is no relation with oid 4242424 (the profile table)"),
    ("attach unknown event table", "SELECT pgscore.attach_rescoring('nope', 'customers', 'customer_id', 'churn', "
     "'churn_score')", (), "42P01", "nope"),
    ("attach injection key", "SELECT pgscore.attach_rescoring('complaints', 'customers', %s, 'churn', 'churn_score')",
     (INJECT_ID,), "42703", "DROP TABLE"),
    ("attach injection counter", "SELECT pgscore.attach_rescoring('complaints', 'customers', 'customer_id', 'churn', "
     "'churn_score', %s::jsonb, p_profile_key => 'id')",
     (json.dumps({"support_calls": {"add": "1); DROP TABLE pgscore.models; --"}}),), "22023", "unbalanced parentheses"),
    ("attach NULL model", "SELECT pgscore.attach_rescoring('complaints', 'customers', 'customer_id', NULL, "
     "'churn_score')", (), "22004", "the model is NULL"),
    ("attach score column a feature", "SELECT pgscore.attach_rescoring('complaints', 'customers', 'customer_id', "
     "'churn', 'tenure_months', p_profile_key => 'id')", (), "22023", "would feed its own output back in"),
    # p_label_column (migration 0119): score_table's p_label_into refusals, in its words
    ("attach label column misspelt", "SELECT pgscore.attach_rescoring('complaints', 'customers', 'customer_id', "
     "'churn', 'churn_score', p_profile_key => 'id', p_label_column => 'churn_scor')", (), "42703",
     "table public.customers has no column 'churn_scor' (the label column of model churn)"),
    ("attach label column injection", "SELECT pgscore.attach_rescoring('complaints', 'customers', 'customer_id', "
     "'churn', 'churn_score', p_profile_key => 'id', p_label_column => %s)", (INJECT_ID,), "42703", "DROP TABLE"),
    ("attach label column the score column", "SELECT pgscore.attach_rescoring('complaints', 'customers', "
     "'customer_id', 'churn', 'churn_score', p_profile_key => 'id', p_label_column => 'churn_score')", (), "22023",
     "the label column 'churn_score' of public.customers is its score column (p_score_column)"),
    ("attach label column a feature", "SELECT pgscore.attach_rescoring('complaints', 'customers', 'customer_id', "
     "'churn', 'churn_score', p_profile_key => 'id', p_label_column => 'tenure_months')", (), "22023",
     "the label column 'tenure_months' of public.customers is a feature of model churn v1"),
    ("attach label column of a type that cannot hold the classes",
     "ALTER TABLE customers ADD COLUMN churned date; SELECT pgscore.attach_rescoring('complaints', 'customers', "
     "'customer_id', 'churn', 'churn_score', p_profile_key => 'id', p_label_column => 'churned')", (), "42804",
     "column 'churned' of public.customers is date, which cannot hold"),
    ("attach replicated rows of a partitioned table",
     "CREATE TABLE parted_events (customer_id bigint) PARTITION BY RANGE (customer_id); "
     "SELECT pgscore.attach_rescoring('parted_events', 'customers', 'customer_id', 'churn', 'churn_score', "
     "p_profile_key => 'id', p_replicated => true)", (), "0A000",
     "public.parted_events is partitioned: the rows logical replication applies to it cannot be rescored"),
    # keys attach refuses (the tables made in the same statement, rolled back with it)
    ("attach char(n) profile key, text event key",
     "CREATE TABLE padded (LIKE customers); ALTER TABLE padded ALTER COLUMN id TYPE char(8), ADD PRIMARY KEY (id); "
     "CREATE TABLE padded_events (customer_id text); SELECT pgscore.attach_rescoring('padded_events', 'padded', "
     "'customer_id', 'churn', 'churn_score', p_profile_key => 'id')", (), "42804",
     "public.padded_events.customer_id is text and public.padded.id is character(8): an event key with trailing "
     "blanks"),
    ("attach composite key",
     "CREATE TYPE pair AS (a int, b int); CREATE TABLE paired (LIKE customers); "
     "ALTER TABLE paired DROP COLUMN id, ADD COLUMN id pair PRIMARY KEY; CREATE TABLE paired_events (customer_id pair); "
     "SELECT pgscore.attach_rescoring('paired_events', 'paired', 'customer_id', 'churn', 'churn_score', "
     "p_profile_key => 'id')", (), "0A000", "public.paired_events.customer_id is of the composite type public.pair"),
    ("attach deferrable profile key with 'create'",
     "CREATE TABLE deferred (LIKE customers); ALTER TABLE deferred ADD PRIMARY KEY (id) DEFERRABLE; "
     "SELECT pgscore.attach_rescoring('complaints', 'deferred', 'customer_id', 'churn', 'churn_score', "
     "p_profile_key => 'id')", (), "42P10", "public.deferred.id has a DEFERRABLE unique constraint"),
    ("detach not attached", "SELECT pgscore.detach_rescoring('complaints')", (), "42704", "complaints"),
    ("detach an oid of no relation", "SELECT pgscore.detach_rescoring(0::oid::regclass)", (), "42P01",
     "there is no relation with oid 0 (the event table)"),
    ("detach to an oid of no relation", "SELECT pgscore.detach_rescoring('complaints', 4242424::oid::regclass)", (),
     "42P01", "there is no relation with oid 4242424 (the profile table)"),
    ("forget unknown", "SELECT pgscore.forget_rescoring(424242)", (), "42704", "there is no wiring 424242"),
    ("forget NULL", "SELECT pgscore.forget_rescoring(NULL)", (), "22004", "the rescoring_id is NULL"),
    ("retry_failed limit 0", "SELECT * FROM pgscore.retry_failed(NULL, 0)", (), "22023",
     "p_limit must be a positive number of profiles, got 0"),
    ("retry_failed injection model", "SELECT * FROM pgscore.retry_failed(%s)", (INJECT,), "42704", "DROP TABLE"),
    ("retry_failed unknown model", "SELECT * FROM pgscore.retry_failed('nope')", (), "42704", "there is no model 'nope'"),
    ("refresh_windows NULLs, nothing wired", "SELECT * FROM pgscore.refresh_windows(NULL, NULL)", (), OK, ""),
    ("refresh_windows limit 0", "SELECT * FROM pgscore.refresh_windows(NULL, 0)", (), "22023",
     "p_limit must be a positive number of profiles, got 0"),
    ("refresh_windows negative limit", "SELECT * FROM pgscore.refresh_windows(p_limit => -1)", (), "22023",
     "p_limit must be a positive number of profiles, got -1"),
    ("refresh_windows not wired", "SELECT * FROM pgscore.refresh_windows('customers')", (), "42704",
     "public.customers is not wired for rescoring"),
    ("refresh_windows unknown table", "SELECT * FROM pgscore.refresh_windows('nope')", (), "42P01", "nope"),
    ("refresh_windows an oid of no relation", "SELECT * FROM pgscore.refresh_windows(0::oid::regclass, 10)", (), "42P01",
     "there is no relation with oid 0 (the event table)"),
    ("refresh_windows injection table",
     f"CREATE TABLE {QUOTED_ID} (id int); SELECT * FROM pgscore.refresh_windows(%s::regclass)", (QUOTED_ID,),
     "42704", 'DROP TABLE pgscore.models; --" is not wired for rescoring'),
    ("backfill_rescoring NULL", "SELECT pgscore.backfill_rescoring(NULL)", (), "22004",
     "pgscore.backfill_rescoring: the event table is NULL"),
    ("backfill_rescoring not wired", "SELECT pgscore.backfill_rescoring('customers')", (), "42704",
     "public.customers is not wired for rescoring"),
    ("backfill_rescoring unknown table", "SELECT pgscore.backfill_rescoring('nope')", (), "42P01", "nope"),
    ("backfill_rescoring an oid of no relation", "SELECT pgscore.backfill_rescoring(0::oid::regclass)", (), "42P01",
     "there is no relation with oid 0 (the event table)"),
    ("backfill_rescoring injection table",
     f"CREATE TABLE {QUOTED_ID} (id int); SELECT pgscore.backfill_rescoring(%s::regclass)", (QUOTED_ID,),
     "42704", 'DROP TABLE pgscore.models; --" is not wired for rescoring'),
    ("rescore_profiles NULL", "SELECT * FROM pgscore.rescore_profiles(NULL)", (), "22004",
     "pgscore.rescore_profiles: the event table is NULL"),
    ("rescore_profiles not wired", "SELECT * FROM pgscore.rescore_profiles('customers')", (), "42704",
     "public.customers is not wired for rescoring"),
    ("rescore_profiles unknown table", "SELECT * FROM pgscore.rescore_profiles('nope')", (), "42P01", "nope"),
    ("rescore_profiles an oid of no relation", "SELECT * FROM pgscore.rescore_profiles(0::oid::regclass)", (),
     "42P01", "there is no relation with oid 0 (the event table)"),
    ("rescore_profiles limit 0", "SELECT * FROM pgscore.rescore_profiles('customers', p_limit => 0)", (), "22023",
     "p_limit must be a positive number of profiles, got 0"),
    ("rescore_profiles injection table",
     f"CREATE TABLE {QUOTED_ID} (id int); SELECT * FROM pgscore.rescore_profiles(%s::regclass)", (QUOTED_ID,),
     "42704", 'DROP TABLE pgscore.models; --" is not wired for rescoring'),
    # monitoring
    ("record_outcome NULL", "SELECT pgscore.record_outcome(NULL, '1', 'x')", (), "22004", "model"),
    ("record_outcome unknown model", "SELECT pgscore.record_outcome(%s, '1', 1)", (INJECT,), "42704", "DROP TABLE"),
    ("record_outcome not a class", "SELECT pgscore.record_outcome('churn', '1', 'maybe')", (), "22023", "maybe"),
    # an unknown model in scoring's words and with its hint, the name it looks like a typo for (migration 0120: it
    # said "model 'teir' does not exist", with no near name); both overloads, the same SQLSTATE
    ("record_outcome: a model's name misspelt", _TIER + "SELECT pgscore.record_outcome('teir', '1', 'gold')", (),
     "42704", "pgscore.record_outcome: there is no model 'teir'\nHINT:  a typo for 'tier'? Else list models with: "
     "SELECT * FROM pgscore.model_versions\n"),
    ("record_outcome: a model's name in other case", _TIER + "SELECT pgscore.record_outcome('Tier', '1', 2::float8)",
     (), "42704", "pgscore.record_outcome: there is no model 'Tier'\nHINT:  a typo for 'tier'? Else list models "
     "with: SELECT * FROM pgscore.model_versions\n"),
    ("record_outcome: a model's name plural", _TIER + "SELECT pgscore.record_outcome('tiers', 1::bigint, true)",
     (), "42704", "pgscore.record_outcome: there is no model 'tiers'\nHINT:  a typo for 'tier'?"),
    ("model_name_hint of a name like none", "SELECT pgscore.model_name_hint('nothing_like')", (), OK, ""),
    ("model_name_hint NULL", "SELECT pgscore.model_name_hint(NULL)", (), OK, ""),
    # (0169) the writers' refusal on a standby or in a read-only transaction: nothing where the transaction may write
    ("refuse_read_only NULL", "SELECT pgscore.refuse_read_only(NULL)", (), "22004",
     "pgscore.refuse_read_only: what the writer writes must not be NULL"),
    ("refuse_read_only an injection", "SELECT pgscore.refuse_read_only(%s)", (INJECT,), OK, ""),
    ("refuse_read_only in a read-only transaction", "SET TRANSACTION READ ONLY; "
     "SELECT pgscore.refuse_read_only(%s)", (INJECT,), "25006", "DROP TABLE"),
    ("model_name_hint an injection", "SELECT pgscore.model_name_hint(%s)", (INJECT,), OK, ""),
    ("record_outcome: a model like none", "SELECT pgscore.record_outcome('nothing_like', '1', 'x')", (), "42704",
     "pgscore.record_outcome: there is no model 'nothing_like'\nHINT:  list models with: SELECT * FROM "
     "pgscore.model_versions\n"),
    # an outcome that is no class, in one wording (true for a multiclass model was "not one of its classes"); a class
    # it differs from in case or the spaces around it only is named, as a misspelt feature key's feature is
    ("record_outcome: a class in other case", _TIER + "SELECT pgscore.record_outcome('tier', '1', 'Gold')", (), "22023",
     "pgscore.record_outcome: outcome 'Gold' is not a class of multiclass model 'tier'\n"
     "DETAIL:  classes: bronze, silver, gold\nHINT:  a typo for 'gold'?\n"),
    ("record_outcome: a class in other case, spaces around",
     _TIER + "SELECT pgscore.record_outcome('tier', '1', ' SILVER ')", (), "22023",
     "pgscore.record_outcome: outcome ' SILVER ' is not a class of multiclass model 'tier'\n"
     "DETAIL:  classes: bronze, silver, gold\nHINT:  a typo for 'silver'?\n"),
    ("record_outcome: true for a multiclass model", _TIER + "SELECT pgscore.record_outcome('tier', '1', 'true')", (),
     "22023", "pgscore.record_outcome: outcome 'true' is not a class of multiclass model 'tier'\n"
     "DETAIL:  classes: bronze, silver, gold\nHINT:  true and false stand for the classes 1 and 0 of a binary "
     "classifier only: give the class\n"),
    ("record_outcome: like no class, no hint", _TIER + "SELECT pgscore.record_outcome('tier', '1', 'platinum')", (),
     "22023", "pgscore.record_outcome: outcome 'platinum' is not a class of multiclass model 'tier'\n"
     "DETAIL:  classes: bronze, silver, gold\nCONTEXT:  "),
    # (a regression model's NaN outcome, "not a finite number": tests/test_monitoring.py)
    ("record_outcome NaN", "SELECT pgscore.record_outcome('churn', '1', 'NaN'::float8)", (), "22023",
     "is not a class of binary model"),
    ("record_outcome observed at infinity", "SELECT pgscore.record_outcome('churn', '1', 1, 'infinity')", (), "22023",
     "observed_at infinity is not a point in time"),
    ("record_outcome observed at -infinity", "SELECT pgscore.record_outcome('churn', '1', true, '-infinity')", (),
     "22023", "observed_at -infinity is not a point in time"),
    ("refresh_monitoring negative relook", "SELECT * FROM pgscore.refresh_monitoring('-1 hour')", (), "22023",
     "relook"),
    ("match_outcomes NULL", "SELECT pgscore.match_outcomes(NULL)", (), "22004", "p_since"),
    ("refresh_monitoring NULL rebuild", "SELECT * FROM pgscore.refresh_monitoring('1 hour', NULL)", (), "22023",
     "p_rebuild true or false"),
    ("drift_counts unknown window", "SELECT * FROM pgscore.drift_counts('window', %s)", (INJECT,), OK, ""),
    ("drift_counts unknown day", "SELECT * FROM pgscore.drift_counts('day', '1999-01-01')", (), OK, ""),
    # a period kind is window or day (NULL: both): before 0089 a misspelt one matched no period and gave no rows
    ("drift_counts misspelt period kind", "SELECT * FROM pgscore.drift_counts('windows')", (), "22023",
     "pgscore.drift_counts: p_period_kind must be 'window' or 'day', or NULL for all; got 'windows'"),
    ("drift_counts injection period kind", "SELECT * FROM pgscore.drift_counts(%s, '1 day')", (INJECT,), "22023",
     "p_period_kind must be 'window' or 'day', or NULL for all; got 'churn''; DROP TABLE"),
    ("drift_counts_of misspelt period kind", "SELECT * FROM pgscore.drift_counts_of('{1}', 'Day', NULL)", (),
     "22023", "pgscore.drift_counts_of: p_period_kind must be 'window' or 'day', or NULL for all; got 'Day'"),
    ("drift_counts_of an empty period kind, no versions", "SELECT * FROM pgscore.drift_counts_of('{}', '', NULL)", (),
     "22023", "pgscore.drift_counts_of: p_period_kind must be 'window' or 'day', or NULL for all; got ''"),
    ("drift_stats_of misspelt period kind", "SELECT * FROM pgscore.drift_stats_of('{1}', 'days')", (), "22023",
     "pgscore.drift_stats_of: p_period_kind must be 'window' or 'day', or NULL for all; got 'days'"),
    ("drift_stats_of no versions, misspelt period kind", "SELECT * FROM pgscore.drift_stats_of(NULL, 'windows')", (),
     "22023", "pgscore.drift_stats_of: p_period_kind must be 'window' or 'day'"),
    ("performance_stats_of injection period kind",
     "SELECT * FROM pgscore.performance_stats_of(NULL, ARRAY[NULL, -1, 1, 1]::bigint[], %s)", (INJECT,), "22023",
     "pgscore.performance_stats_of: p_period_kind must be 'window' or 'day' or 'outcome_window' or 'both_windows', "
     "or NULL for window and day; got 'churn''; DROP"),
    ("performance_stats_of no versions, misspelt period kind",
     "SELECT * FROM pgscore.performance_stats_of(true, '{}', 'windows')", (), "22023",
     "pgscore.performance_stats_of: p_period_kind must be 'window' or 'day'"),
    ("check_period_kind NULL", "SELECT pgscore.check_period_kind(NULL, NULL)", (), OK, ""),
    ("check_period_kind unknown, no function named", "SELECT pgscore.check_period_kind(NULL, 'week')", (), "22023",
     "pgscore: p_period_kind must be 'window' or 'day', or NULL for all; got 'week'\nHINT:  p_period"),
    ("check_period_kind by another role", "SET ROLE pgscore_reader; SELECT pgscore.check_period_kind(NULL, 'day')",
     (), "42501", "permission denied"),
    ("drift_counts_of NULL, unknown and repeated versions",
     "SELECT * FROM pgscore.drift_counts_of(ARRAY[NULL, -1, 1, 1]::bigint[], NULL, %s)", (INJECT,), OK, ""),
    ("drift_stats_of NULL versions", "SELECT * FROM pgscore.drift_stats_of(NULL, NULL)", (), OK, ""),
    ("class_counts_of NULL, unknown and repeated versions (0122)",
     "SELECT * FROM pgscore.class_counts_of(ARRAY[NULL, -1, 1, 1]::bigint[])", (), OK, ""),
    ("class_counts_of NULL versions", "SELECT * FROM pgscore.class_counts_of(NULL)", (), OK, ""),
    ("class_drift_stats_of NULL, unknown and repeated versions (0149)",
     "SELECT * FROM pgscore.class_drift_stats_of(ARRAY[NULL, -1, 1, 1]::bigint[])", (), OK, ""),
    ("class_drift_stats_of NULL versions", "SELECT * FROM pgscore.class_drift_stats_of(NULL)", (), OK, ""),
    # the drift, realised performance, firing conditions and alerts of the models named (0136): a name not live, NULL
    # and repeated ones, an injection are no rows of theirs; a misspelt period kind is refused as drift_stats_of's
    ("drift_rows_of misspelt period kind", "SELECT * FROM pgscore.drift_rows_of('{churn}', 'days')", (), "22023",
     "pgscore.drift_rows_of: p_period_kind must be 'window' or 'day', or NULL for all; got 'days'"),
    ("drift_rows_of unknown, NULL and repeated names",
     "SELECT * FROM pgscore.drift_rows_of(ARRAY[NULL, %s, 'nope', 'churn', 'churn'], 'window')", (INJECT,), OK, ""),
    ("performance_rows_of unknown, NULL and repeated names",
     "SELECT * FROM pgscore.performance_rows_of(ARRAY[NULL, %s, 'nope', 'churn', 'churn'])", (INJECT,), OK, ""),
    ("firing_of unknown, NULL and repeated names",
     "SELECT * FROM pgscore.firing_of(ARRAY[NULL, %s, 'nope', 'churn', 'churn'])", (INJECT,), OK, ""),
    ("alerts_of unknown, NULL and repeated names",
     "SELECT * FROM pgscore.alerts_of(ARRAY[NULL, %s, 'nope', 'churn', 'churn'])", (INJECT,), OK, ""),
    ("performance_stats NULL", "SELECT * FROM pgscore.performance_stats(NULL)", (), OK, ""),
    ("performance_stats_of NULL, unknown and repeated versions",
     "SELECT * FROM pgscore.performance_stats_of(NULL, ARRAY[NULL, -1, 1, 1]::bigint[], NULL)", (), OK, ""),
    ("performance_stats_of the days", "SELECT * FROM pgscore.performance_stats_of(true, NULL, 'day')", (), OK, ""),
    ("performance_stats_of no versions", "SELECT * FROM pgscore.performance_stats_of(true, '{}', NULL)", (), OK, ""),
    ("shadow_performance_stats without a shadow", "SELECT * FROM pgscore.shadow_performance_stats()", (), OK, ""),
    ("version_drift NULL model", "SELECT * FROM pgscore.version_drift(NULL, 1)", (), "22004", "the model must not be NULL"),
    ("version_drift NULL version", "SELECT * FROM pgscore.version_drift('churn', NULL)", (), "22004",
     "the version must not be NULL"),
    ("version_drift unknown model", "SELECT * FROM pgscore.version_drift(%s, 1)", (INJECT,), "42704",
     f"there is no model {literal(INJECT)}"),
    ("version_drift a model's name misspelt", "SELECT * FROM pgscore.version_drift('chrun', 1)", (), "42704",
     "pgscore.version_drift: there is no model 'chrun'\nHINT:  a typo for 'churn'? Else list models with: "
     "SELECT * FROM pgscore.model_versions\n"),
    ("version_drift unknown version", "SELECT * FROM pgscore.version_drift('churn', 99)", (), "42704",
     "model 'churn' has no version 99"),
    ("judge NULL arrays", "SELECT * FROM pgscore.judge(NULL, NULL, NULL)", (), OK, ""),
    # the health check (0140): no argument, a row per check
    ("health", "SELECT * FROM pgscore.health()", (), OK, ""),
    # health()'s numbers per model (0174): no argument
    ("metrics", "SELECT * FROM pgscore.metrics()", (), OK, ""),
    # the calling backend's loaded models (0182): no argument
    ("cached_models", "SELECT * FROM pgscore.cached_models()", (), OK, ""),
    # the one rule (0133): NULL or unknown names give the defaults or no row, never an error
    ("effective_thresholds NULLs", "SELECT * FROM pgscore.effective_thresholds(NULL, NULL, NULL)", (), OK, ""),
    ("effective_thresholds injection", "SELECT * FROM pgscore.effective_thresholds(%s, %s, %s)",
     (INJECT, INJECT, INJECT), OK, ""),
    ("effective_thresholds unknown model", "SELECT * FROM pgscore.effective_thresholds('chrun', 'psi')", (), OK, ""),
    ("judge unequal arrays", "SELECT * FROM pgscore.judge(ARRAY['psi', 'ks'], ARRAY[0.3], ARRAY[500]::bigint[])", (),
     OK, ""),
    # the noise floors (0085): NULL p gives NULL (STRICT), p outside (0, 1) is refused; a floor at a NULL confidence
    # is NULL (judged by the thresholds alone); an unknown metric, no window, a confidence outside (0, 1) and PSI
    # without the baseline's shares are refused, each naming what it wanted
    ("normal_quantile NULL", "SELECT pgscore.normal_quantile(NULL)", (), OK, ""),
    ("normal_quantile out of (0, 1)", "SELECT pgscore.normal_quantile(1.5)", (), "22023",
     "p must be between 0 and 1 (exclusive), got 1.5"),
    ("noise_floor NULL confidence", "SELECT pgscore.noise_floor('ks', 100, 1000, NULL, NULL, NULL, NULL)", (), OK, ""),
    ("noise_floor injection metric", "SELECT pgscore.noise_floor(%s, 100, 1000, NULL, 0.999, NULL, NULL)", (INJECT,),
     "22023", "unknown metric"),
    ("noise_floor no window", "SELECT pgscore.noise_floor('ks', 0, 1000, NULL, 0.999, NULL, NULL)", (), "22023",
     "p_n (the window's values) must be > 0, got 0"),
    ("noise_floor confidence 1", "SELECT pgscore.noise_floor('ks', 100, 1000, NULL, 1, NULL, NULL)", (), "22023",
     "p_confidence must be between 0 and 1 (exclusive)"),
    ("noise_floor psi without shares", "SELECT pgscore.noise_floor('psi', 100, 1000, NULL, 0.999, NULL, NULL)", (),
     "22023", "p_expected (the baseline's share per bin) must be given for psi"),
    # a deploy metric as float8 (0113): what is no JSON number within float8's range is NULL, never an error
    ("jsonb_float8 NULL", "SELECT pgscore.jsonb_float8(NULL)", (), OK, ""),
    ("jsonb_float8 past float8", "SELECT pgscore.jsonb_float8('1e400')", (), OK, ""),
    ("jsonb_float8 injection text", "SELECT pgscore.jsonb_float8(to_jsonb(%s::text))", (INJECT,), OK, ""),
    ("jsonb_float8 object", "SELECT pgscore.jsonb_float8('{\"x\": 1}')", (), OK, ""),
    # a row's checks as rows (0087): NULL and an empty array are no checks; not an array, or an array of other than
    # objects, is refused
    ("check_rows NULL, empty", "SELECT (SELECT count(*) FROM pgscore.check_rows(NULL)) "
     "+ (SELECT count(*) FROM pgscore.check_rows('[]'))", (), OK, ""),
    ("check_rows not an array", "SELECT * FROM pgscore.check_rows(%s::jsonb)", (json.dumps({"metric": INJECT}),),
     "22023", "cannot call jsonb_to_recordset on a non-array"),
    ("check_rows not objects", "SELECT * FROM pgscore.check_rows('[1, 2]')", (), "22023",
     "argument of jsonb_to_recordset must be an array of objects"),
    # every float8[] has an image: NULL gives NULL (STRICT), anything else its bytes; not an array is refused
    ("float8_image NULL", "SELECT pgscore.float8_image(NULL)", (), OK, ""),
    ("float8_image huge, 2-D, NULLs, empty", "SELECT pgscore.float8_image(%s::float8[]), pgscore.float8_image("
     "ARRAY[[1, NULL], [NULL, 4]]::float8[]), pgscore.float8_image('{}')", (HUGE,), OK, ""),
    ("float8_image not an array", "SELECT pgscore.float8_image('churn')", (), "22P02", "malformed array literal"),
    # raw doubles to an array: NULL gives NULL, empty an empty array; bytes that are not whole doubles are refused
    ("float8_array NULL, empty, huge", "SELECT pgscore.float8_array(NULL), pgscore.float8_array(''::bytea), "
     "pgscore.float8_array(%s)", (bytes(8 * len(HUGE)),), OK, ""),
    ("float8_array not whole doubles", "SELECT pgscore.float8_array('churn')", (), "22023",
     "5 bytes are not whole doubles"),
    # predict_batch's error raiser: NULL is no error; it raises what it is given, or a default
    ("batch_error NULL", "SELECT pgscore.batch_error(NULL)", (), OK, ""),
    ("batch_error a message", "SELECT pgscore.batch_error(%s)",
     (json.dumps({"message": "m", "sqlstate": "22023", "detail": "d", "hint": "h"}),), "22023", "m\nDETAIL:  d\nHINT:  h"),
    ("batch_error nothing said", "SELECT pgscore.batch_error('{}')", (), "P0001", "pgscore.predict_batch failed"),
    ("batch_error not a SQLSTATE", "SELECT pgscore.batch_error('{\"sqlstate\": \"nope\"}')", (), "42704",
     "unrecognized exception condition \"nope\""),
    # its helper trusts its argument to be an array's image: only its owner may run it
    ("float8_array_unchecked by another role", "SET ROLE pgscore_app; "
     "SELECT pgscore.float8_array_unchecked(pgscore.float8_image(ARRAY[1.5]))", (), "42501", "permission denied"),
    # silences of alerts (migration 0126): each argument named, the typo hint for a model's name
    ("silence_alerts NULL", "SELECT pgscore.silence_alerts(NULL, '1 hour', 'x')", (), "22004", "must not be NULL"),
    ("silence_alerts injection", "SELECT pgscore.silence_alerts(%s, '1 hour', 'x')", (INJECT,), "42704", "DROP TABLE"),
    ("silence_alerts a model's name misspelt", "SELECT pgscore.silence_alerts('chrun', '1 hour', 'x')", (), "42704",
     "there is no model 'chrun'\nHINT:  a typo for 'churn'?"),
    ("silence_alerts blank reason", "SELECT pgscore.silence_alerts('churn', '1 hour', ' ')", (), "22023",
     "p_reason is blank"),
    ("silence_alerts no time", "SELECT pgscore.silence_alerts('churn', '0 seconds', 'x')", (), "22023",
     "p_for must be a positive interval, got 00:00:00"),
    ("silence_alerts for ever", "SELECT pgscore.silence_alerts('churn', '1 year', 'x')", (), "22023",
     "p_for must be at most 90 days, got 1 year\nHINT:  silence again when it ends, or change the metric's "
     "thresholds: the model's with pgscore.set_thresholds, every model's in pgscore.drift_thresholds"),
    ("silence_alerts unknown what", "SELECT pgscore.silence_alerts('churn', '1 hour', 'x', 'drift')", (), "22023",
     "p_what must be feature, score, performance or class"),
    ("silence_alerts unknown window", "SELECT pgscore.silence_alerts('churn', '1 hour', 'x', p_window => '1h')", (),
     "22023", "p_window '1h' is not a window of pgscore.drift_windows ('1 hour', '12 hours', '1 day', '7 days', "
     "'since deploy')"),
    ("silence_alerts unknown metric", "SELECT pgscore.silence_alerts('churn', '1 hour', 'x', p_metric => 'PSI')", (),
     "22023", "p_metric 'PSI' is not a metric of pgscore.drift_thresholds (accuracy_drop, auc_drop"),
    ("silence_alerts by the app", "SET ROLE pgscore_app; SELECT pgscore.silence_alerts('churn', '1 hour', 'x')", (),
     "42501", "permission denied"),
    ("lift_silence NULL", "SELECT pgscore.lift_silence(NULL)", (), "22004", "must not be NULL"),
    ("lift_silence unknown", "SELECT pgscore.lift_silence(-1)", (), "42704",
     "there is no silence -1\nHINT:  list them with: SELECT * FROM pgscore.alert_silences"),
    # per-model thresholds (migration 0129): each argument named, the typo hint for a model's and a feature's name
    ("set_thresholds NULL", "SELECT pgscore.set_thresholds(NULL, 'psi', 0.2, 0.3)", (), "22004", "must not be NULL"),
    ("set_thresholds injection", "SELECT pgscore.set_thresholds(%s, 'psi', 0.2, 0.3)", (INJECT,), "42704",
     "DROP TABLE"),
    ("set_thresholds a model's name misspelt", "SELECT pgscore.set_thresholds('chrun', 'psi', 0.2, 0.3)", (), "42704",
     "there is no model 'chrun'\nHINT:  a typo for 'churn'?"),
    ("set_thresholds unknown metric", "SELECT pgscore.set_thresholds('churn', 'PSI', 0.2, 0.3)", (), "22023",
     "p_metric 'PSI' is not a metric of pgscore.drift_thresholds (accuracy_drop, auc_drop"),
    ("set_thresholds nothing to set", "SELECT pgscore.set_thresholds('churn', 'psi')", (), "22023",
     "give at least one of p_warn, p_alert, p_min_n and p_confidence\nHINT:  to go back to the inherited "
     "thresholds: pgscore.clear_thresholds(model, metric, subject)"),
    ("set_thresholds warn above the inherited alert", "SELECT pgscore.set_thresholds('churn', 'psi', 0.3)", (),
     "22023", "warn 0.3 would be above alert 0.2 for psi of model 'churn'"),
    ("set_thresholds a feature misspelt", "SELECT pgscore.set_thresholds('churn', 'psi', 0.2, 0.3, p_subject => "
     "'Tenure_months')", (), "22023", "p_subject 'Tenure_months' is not a feature of model 'churn' nor its score"),
    ("set_thresholds NaN", "SELECT pgscore.set_thresholds('churn', 'psi', 'NaN', 0.3)", (), "22023", "at least 0"),
    ("set_thresholds by the app", "SET ROLE pgscore_app; SELECT pgscore.set_thresholds('churn', 'psi', 0.2, 0.3)",
     (), "42501", "permission denied"),
    ("clear_thresholds NULL", "SELECT pgscore.clear_thresholds(NULL)", (), "22004", "must not be NULL"),
    ("clear_thresholds a model's name misspelt", "SELECT pgscore.clear_thresholds('chrun')", (), "42704",
     "there is no model 'chrun'\nHINT:  a typo for 'churn'?"),
    ("clear_thresholds unknown metric", "SELECT pgscore.clear_thresholds('churn', 'auc')", (), "22023",
     "p_metric 'auc' is not a metric"),
    ("judge with a model, NULL arrays", "SELECT * FROM pgscore.judge(NULL, NULL, NULL, 'churn', NULL)", (), OK, ""),
    ("judge with a model and floors, NULL arrays", "SELECT * FROM pgscore.judge(NULL, NULL, NULL, NULL, 'churn', "
     "NULL)", (), OK, ""),
    # trigger functions called directly
    ("rescore_events called directly", "SELECT pgscore.rescore_events()", (), "0A000", "trigger"),
    ("rescore_replicated called directly", "SELECT pgscore.rescore_replicated()", (), "0A000", "trigger"),
    ("flush_query_log called directly", "SELECT pgscore.flush_query_log()", (), "0A000", "trigger"),
    ("check_live_version_fed called directly", "SELECT pgscore.check_live_version_fed()", (), "0A000", "trigger"),
    ("end_shadow_made_live called directly", "SELECT pgscore.end_shadow_made_live()", (), "0A000", "trigger"),
    ("forbid_mutation called directly", "SELECT pgscore.forbid_mutation()", (), "0A000", "trigger"),
    ("forbid_log_update called directly", "SELECT pgscore.forbid_log_update()", (), "0A000", "trigger"),
    ("refuse_subscribed_registry called directly", "SELECT pgscore.refuse_subscribed_registry()", (), "0A000",
     "trigger"),
    ("guard_alert_silences called directly", "SELECT pgscore.guard_alert_silences()", (), "0A000", "trigger"),
    ("stamp_threshold_overrides called directly", "SELECT pgscore.stamp_threshold_overrides()", (), "0A000",
     "trigger"),
    ("check_threshold_order called directly", "SELECT pgscore.check_threshold_order()", (), "0A000", "trigger"),
    ("explain_model_delete called directly", "SELECT pgscore.explain_model_delete()", (), "0A000", "trigger"),
    ("forget_deleted_namesake called directly", "SELECT pgscore.forget_deleted_namesake()", (), "0A000", "trigger"),
    # (0135) a version still referred to, deleted by hand: what refers to it and a hint, not a bare 23503
    ("a model version deleted by hand", "DELETE FROM pgscore.models WHERE name = 'churn'", (), "23503",
     "pgscore retire churn"),
    # a silence by hand that silence_alerts would not make (0126's trigger alert_silences_guard)
    ("alert_silences forged by hand", "SET ROLE pgscore_admin; INSERT INTO pgscore.alert_silences (model, ends_at, "
     "reason, created_by) VALUES ('churn', now() + interval '1 hour', 'x', 'alice')", (), "42501",
     "a silence is made by pgscore.silence_alerts"),
]

# the tables a failed call must leave as they were
STATE = ["pgscore.models", "pgscore.artifacts", "pgscore.deployments", "pgscore.baselines", "pgscore.prediction_log",
         "pgscore.outcomes", "pgscore.rescoring", "pgscore.error_queue", "pgscore.drift_rollup", "customers",
         "complaints", "pgscore.alert_silences"]


def _shop(url):
    """churn v1 live, customers 1..50 and an empty complaints table (make_shop)."""
    make_shop(url, make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y), X, Y, 50).close()


@pytest.fixture(scope="module")
def shop_template(built_template):
    """A template built by _shop once, not for each test that takes `shop` (conftest's db_url clones it for them)."""
    return built_template(_shop)


@pytest.fixture
def shop(db_url):
    """An autocommit connection to db_url: _shop's model, customers and complaints."""
    conn = psycopg2.connect(db_url)
    conn.autocommit = True
    yield conn
    conn.close()


def _state(conn):
    counts = {t: query(conn, f"SELECT count(*) FROM {t}")[0][0] for t in STATE}  # noqa: S608 - fixed names
    counts["partitions"] = query(conn, "SELECT count(*) FROM pg_inherits "
                                       "WHERE inhparent = 'pgscore.prediction_log'::regclass")[0][0]
    counts["scores"] = query(conn, "SELECT count(churn_score) FROM customers")[0][0]
    return counts


def test_the_matrix_covers_every_function_that_takes_arguments(conn):
    rows = query(conn, "SELECT DISTINCT p.proname FROM pg_proc p WHERE p.pronamespace = 'pgscore'::regnamespace "
                       "AND (p.pronargs > 0 OR p.prorettype = 'trigger'::regtype)")
    covered = {name for _, sql_text, *_ in SQL_CASES for name in [n for (n,) in rows] if f"pgscore.{name}(" in sql_text}
    assert {n for (n,) in rows} - covered == set()


def test_the_period_kinds_checked_are_monitoring_periods_own(conn):
    """check_period_kind (0089) refuses a kind monitoring_periods does not give and names the kinds it does:
    its list is the view's (a kind added to the view and not to the check, or the other way round, fails here)."""
    kinds = sorted(k for (k,) in query(conn, "SELECT DISTINCT period_kind FROM pgscore.monitoring_periods"))
    assert len(kinds) >= 2  # the default windows and the 30 days
    for k in kinds:
        assert query(conn, "SELECT pgscore.check_period_kind('f', %s)", (k,)) == [(k,)]
    with pytest.raises(psycopg2.Error) as e:
        query(conn, "SELECT pgscore.check_period_kind('f', 'week')")
    named = re.search(r"p_period_kind must be (.*), or NULL for all; got 'week'", e.value.diag.message_primary)
    assert e.value.pgcode == "22023" and named
    assert sorted(re.findall(r"'([^']*)'", named.group(1))) == kinds


def test_a_wrong_period_kinds_hint_names_only_arguments_its_function_takes(conn):
    """check_period_kind's HINT said `p_period, a window's name or a UTC day (YYYY-MM-DD), picks one period of that
    kind` to every caller, drift_stats_of and performance_stats_of too, which take no p_period (a call with it is
    `function ... does not exist`). Each caller's hint names only arguments of its own, and its own period kinds'
    way to pick one period."""
    calls = {"drift_counts": "SELECT * FROM pgscore.drift_counts('week')",
             "drift_counts_of": "SELECT * FROM pgscore.drift_counts_of(NULL, 'week', NULL)",
             "drift_stats_of": "SELECT * FROM pgscore.drift_stats_of(NULL, 'week')",
             "performance_stats_of": "SELECT * FROM pgscore.performance_stats_of(false, NULL, 'week')"}
    for name, sql_text in calls.items():
        args = {a for (a,) in query(conn, "SELECT unnest(proargnames) FROM pg_proc WHERE oid = "
                                          "ANY (SELECT oid FROM pg_proc WHERE proname = %s AND pronamespace = "
                                          "'pgscore'::regnamespace)", (name,))}
        with pytest.raises(psycopg2.Error) as e:
            query(conn, sql_text)
        hint = e.value.diag.message_hint or ""
        assert e.value.pgcode == "22023" and f"pgscore.{name}: p_period_kind must be" in e.value.diag.message_primary
        named = set(re.findall(r"\bp_[a-z_]+", hint))
        assert named <= args, (name, named - args, hint)
        assert ("p_period," in hint) == ("p_period" in args), (name, hint)
        assert "a window's name or a UTC day (YYYY-MM-DD)" in hint, (name, hint)


def test_predict_batch_says_what_is_wrong_in_its_message(db_url, shop):
    """predict_batch's errors are its own message, with their SQLSTATE, DETAIL and HINT, whether in its
    first chunk, a later one (PL/Python would report "error fetching next item from iterator"), or a
    query that fails as it runs; no PL/Python exception class before the message."""
    for rows, chunk in ((20, 10000), (25, 10)):
        with pytest.raises(psycopg2.Error) as e:
            query(db_url, "SELECT count(*) FROM pgscore.predict_batch('churn', 'SELECT g, CASE WHEN g = "
                          f"{rows} THEN NULL ELSE array_fill(1.0::float8, ARRAY[12]) END AS features FROM "
                          f"generate_series(1, {rows}) g', p_chunk_size => {chunk})")
        assert e.value.pgcode == "22004"
        assert e.value.diag.message_primary == f"model churn v1: the features of key '{rows}' are NULL", chunk
    with pytest.raises(psycopg2.Error) as e:  # the query itself fails in its second chunk
        query(db_url, "SELECT count(*) FROM pgscore.predict_batch('churn', 'SELECT g, array_fill(1.0::float8, "
                      "ARRAY[12]) AS features FROM generate_series(1, 30) g WHERE 1 / (25 - g) IS NOT NULL', "
                      "p_chunk_size => 10)")
    assert e.value.pgcode == "22012" and e.value.diag.message_primary == "division by zero"
    # a query failing as SQL scores it runs once: it ran again chunk by chunk, and with it its nextval
    query(db_url, "CREATE SEQUENCE seen")
    with pytest.raises(psycopg2.Error) as e:
        query(db_url, "SELECT count(*) FROM pgscore.predict_batch('churn', 'SELECT nextval(''seen''), "
                      "array_fill(1.0::float8 / (500 - g), ARRAY[12]) AS features FROM generate_series(1, 1000) g')")
    assert e.value.pgcode == "22012" and e.value.diag.message_primary == "division by zero"
    assert query(db_url, "SELECT last_value FROM seen") == [(500,)]
    # and its CONTEXT does not quote pgscore's statement, which holds the model's weights
    context = e.value.diag.context or ""
    assert "pgscore_z" not in context and "OPERATOR(pg_catalog" not in context, context
    with pytest.raises(psycopg2.Error) as e:  # nor does an error of another class (a statement timeout)
        query(db_url, "SET statement_timeout = '300ms'; SELECT count(*) FROM pgscore.predict_batch('churn', "
                      "'SELECT g, (SELECT array_fill(1.0::float8, ARRAY[12]) FROM pg_sleep(0.05 + 0 * g)) AS features "
                      "FROM generate_series(1, 100) g')")
    context = e.value.diag.context or ""
    assert e.value.pgcode == "57014" and "pgscore_z" not in context and "OPERATOR(pg_catalog" not in context, context
    with pytest.raises(psycopg2.Error) as e:  # nor an ASSERT (which WHEN OTHERS does not catch)
        query(db_url, "CREATE FUNCTION pg_temp.chk(f float8[]) RETURNS float8[] LANGUAGE plpgsql AS "
                      "$$ BEGIN ASSERT f[1] < 0, 'not negative'; RETURN f; END $$; "
                      "SELECT count(*) FROM pgscore.predict_batch('churn', 'SELECT g, pg_temp.chk(array_fill(1.0::float8, "
                      "ARRAY[12])) AS features FROM generate_series(1, 10) g')")
    context = e.value.diag.context or ""
    assert e.value.pgcode == "P0004" and "pgscore_z" not in context and "OPERATOR(pg_catalog" not in context, context
    with pytest.raises(psycopg2.Error) as e:  # a wrong shape
        query(db_url, "SELECT count(*) FROM pgscore.predict_batch('churn', 'SELECT 1, ARRAY[1.0, 2.0]::float8[] AS features')")
    assert e.value.pgcode == "22023" and "model churn v1 takes 12 features; row 1 (key '1') has 2 features" in \
        e.value.diag.message_primary, e.value.diag.message_primary
    assert (e.value.diag.message_detail or "").startswith("expected, in order: "), e.value.diag.message_detail
    with pytest.raises(psycopg2.Error) as e:  # pgscore's HINT is kept
        query(db_url, "SELECT count(*) FROM pgscore.predict_batch('nope', 'SELECT 1, ARRAY[1.0]::float8[] AS features')")
    assert e.value.pgcode == "42704" and "pgscore.model_versions" in e.value.diag.message_hint
    with pytest.raises(psycopg2.Error) as e:  # and PostgreSQL's, for a query that fails
        query(db_url, "SELECT count(*) FROM pgscore.predict_batch('churn', 'SELECT id, tenure_month FROM customers')")
    assert e.value.pgcode == "42703" and e.value.diag.message_primary.startswith('column "tenure_month" does not exist')
    assert "Perhaps you meant" in e.value.diag.message_hint and "tenure_months" in e.value.diag.message_hint
    with pytest.raises(psycopg2.Error) as e:  # a driver's $1 in the query: the hint says to use format()
        query(db_url, "PREPARE pb(text) AS SELECT count(*) FROM pgscore.predict_batch('churn', "
                      "'SELECT id, * FROM customers WHERE id < $1'); EXECUTE pb('x')")
    assert e.value.pgcode == "42P02" and "format(" in e.value.diag.message_hint, e.value.diag.message_hint


def test_a_feature_column_of_another_name_is_told_how_to_score_it_without_a_rename(db_url, shop):
    """A warehouse table whose column is monthly_fee where the model was fitted on monthly_charges: `pgscore score`
    (score_table) said `needs the column(s) monthly_charges` with the hint `name a column after each feature`, a
    rename of the team's table (trial T27). The hint gives a query's alias and, for a table scored in place, a
    generated column of the feature's name, which it then scores."""
    cols = ", ".join(f for f in CHURN_FEATURES if f != "monthly_charges")
    query(db_url, f"CREATE TABLE w AS SELECT id, monthly_charges AS monthly_fee, {cols}, NULL::float8 AS s "
                  "FROM customers; ALTER TABLE w ADD PRIMARY KEY (id)")
    for statement in ("CALL pgscore.score_table('churn', 'w', 'id', 's')",
                      "SELECT count(*) FROM pgscore.predict_batch('churn', 'SELECT id, * FROM w')"):
        with pytest.raises(psycopg2.Error) as e:
            query(db_url, statement)
        assert e.value.pgcode == "42703" and "needs the column(s) monthly_charges" in e.value.diag.message_primary
        assert e.value.diag.message_hint == (
            "name a column after each feature: in a query, <its column> AS monthly_charges; in a table scored in "
            "place (score_table, pgscore score), a generated column: ALTER TABLE ... ADD COLUMN monthly_charges "
            "double precision GENERATED ALWAYS AS (<its column>) STORED; or give one float8[] column named "
            "features"), statement
    # two features no column is named after: one hint names both (it named the first: the fix was refused again,
    # for the second), and its ALTER TABLE, run as written, scores the table
    query(db_url, "ALTER TABLE w RENAME COLUMN tenure_months TO tenure")
    with pytest.raises(psycopg2.Error) as e:
        query(db_url, "CALL pgscore.score_table('churn', 'w', 'id', 's')")
    assert e.value.diag.message_hint == (
        "name a column after each feature: in a query, <its column> AS tenure_months, <its column> AS monthly_charges; "
        "in a table scored in place (score_table, pgscore score), generated columns: ALTER TABLE ... ADD COLUMN "
        "tenure_months double precision GENERATED ALWAYS AS (<its column>) STORED, ADD COLUMN monthly_charges double "
        "precision GENERATED ALWAYS AS (<its column>) STORED; or give one float8[] column named features")
    alter = e.value.diag.message_hint.split("generated columns: ")[1].split("; ")[0].replace("...", "w")
    query(db_url, alter.replace("<its column>", "tenure", 1).replace("<its column>", "monthly_fee"))
    query(db_url, "CALL pgscore.score_table('churn', 'w', 'id', 's')")  # the hint's fix, as written
    assert query(db_url, "SELECT count(*), count(s) FROM w") == query(db_url, "SELECT count(*), count(*) FROM w")


def test_predict_batch_keeps_the_object_an_error_names(db_url, shop):
    """An error of the caller's query raised again by predict_batch keeps the schema, table, column, type and
    constraint it names (psycopg2's e.diag.constraint_name, table_name), in SQL and chunk by chunk, with its
    message, SQLSTATE and DETAIL: they were dropped."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from pgscore import registry

    X, Y, _ = datasets.churn(300, seed=3)
    registry.deploy(db_url, "tree", HistGradientBoostingClassifier(max_iter=10).fit(X, Y), X, Y,
                    feature_names=CHURN_FEATURES)
    query(db_url, "CREATE TABLE seen (id bigint CONSTRAINT seen_once PRIMARY KEY, note text NOT NULL); "
                  "INSERT INTO seen VALUES (7, 'x'); CREATE DOMAIN positive AS float8 CONSTRAINT above_zero CHECK (VALUE > 0); "
                  "CREATE FUNCTION see(k bigint, n text) RETURNS float8 LANGUAGE sql AS "
                  "'INSERT INTO public.seen VALUES (k, n) RETURNING 1.0::float8'")
    cols = ", ".join(CHURN_FEATURES[1:])
    cases = [  # (the first feature's expression, SQLSTATE, the fields it names)
        ("see(id, 'y')", "23505", ("public", "seen", None, None, "seen_once")),  # a table's constraint
        ("see(id + 100, NULL)", "23502", ("public", "seen", "note", None, None)),  # a table's column
        ("(-1 - id)::positive::float8", "23514", ("public", None, None, "positive", "above_zero")),  # a type's
    ]
    for model in ("churn", "tree"):  # in SQL (a linear model), and chunk by chunk
        for expr, sqlstate, names in cases:
            q = f"SELECT id, {expr} AS {CHURN_FEATURES[0]}, {cols} FROM customers WHERE id >= 7 ORDER BY id"
            with pytest.raises(psycopg2.Error) as e:
                query(db_url, "SELECT count(*) FROM pgscore.predict_batch(%s, %s)", (model, q))
            d = e.value.diag
            assert e.value.pgcode == sqlstate, (model, expr, e.value.pgerror)
            assert (d.schema_name, d.table_name, d.column_name, d.datatype_name, d.constraint_name) == names, \
                (model, expr, e.value.pgerror)
            assert not d.message_primary.startswith("pgscore"), d.message_primary
    # the fields alone, as batch_chunks reports them: each set PostgreSQL's errors carry, with and without
    # DETAIL and HINT
    for names in ({}, {"schema_name": "s", "table_name": "t"}, {"schema_name": "s", "table_name": "t", "column_name": "c"},
                  {"schema_name": "s", "table_name": "t", "constraint_name": "k"}, {"schema_name": "s", "datatype_name": "d"},
                  {"schema_name": "s", "datatype_name": "d", "constraint_name": "k"}):
        for extra in ({}, {"detail": "D"}, {"hint": "H"}, {"detail": "D", "hint": "H"}):
            with pytest.raises(psycopg2.Error) as e:
                query(db_url, "SELECT pgscore.batch_error(%s::jsonb)",
                      (json.dumps({"message": "m", "sqlstate": "23505", **names, **extra}),))
            d = e.value.diag
            got = {"schema_name": d.schema_name, "table_name": d.table_name, "column_name": d.column_name,
                   "datatype_name": d.datatype_name, "constraint_name": d.constraint_name,
                   "detail": d.message_detail, "hint": d.message_hint}
            assert e.value.pgcode == "23505" and d.message_primary == "m"
            assert {k: v for k, v in got.items() if v is not None} == {**names, **extra}, (names, extra)


def test_every_sql_function_refuses_bad_input_clearly(shop, db_url):
    failures = []
    # churn v2, stored (not live) as written under another scikit-learn: activate and rollback refuse it
    env = json.dumps({**artifacts.writer_env(), "scikit-learn": "1.2.0"})
    (mid,), = query(shop, "INSERT INTO pgscore.models (name, version, task, estimator, feature_names, feature_types, "
                          "classes, env) SELECT name, 2, task, estimator, feature_names, feature_types, classes, %s "
                          "FROM pgscore.models WHERE name = 'churn' RETURNING model_id", (env,))
    query(shop, "INSERT INTO pgscore.artifacts (model_id, bytes, sha256) SELECT %s, bytes, sha256 FROM "
                "pgscore.artifacts a JOIN pgscore.models m USING (model_id) WHERE m.name = 'churn' AND m.version = 1",
          (mid,))
    # a version (not live) signed under the first scheme, the bytes alone: resign_models, on this server without a
    # key, can neither verify nor sign it (with none such, it has nothing to do and returns no rows)
    (old,), = query(shop, "INSERT INTO pgscore.models (name, version, task, estimator, feature_names, feature_types, "
                          "classes, env) SELECT 'signed_before', 1, task, estimator, feature_names, feature_types, "
                          "classes, env FROM pgscore.models WHERE name = 'churn' AND version = 1 RETURNING model_id")
    query(shop, "INSERT INTO pgscore.artifacts (model_id, bytes, sha256, hmac_sha256) SELECT %s, bytes, sha256, "
                "repeat('ab', 32) FROM pgscore.artifacts a JOIN pgscore.models m USING (model_id) "
                "WHERE m.name = 'churn' AND m.version = 1", (old,))
    for what, sql_text, params, sqlstate, phrase in SQL_CASES:
        before = _state(shop)
        conn = psycopg2.connect(db_url)
        conn.autocommit = True
        pid = query(conn, "SELECT pg_backend_pid()")[0][0]
        try:
            query(conn, sql_text, params or None)
            got, msg, primary = OK, "", ""
        except psycopg2.Error as e:
            got, msg, primary = e.pgcode, (e.pgerror or ""), (e.diag.message_primary or "")
        if got != sqlstate or (phrase and phrase not in msg):
            failures.append(f"{what}: want {sqlstate} with {phrase!r}, got {got}: {msg.strip().splitlines()[0] if msg else ''}")
        # pgscore's own errors read "pgscore: ...", not with the Python class PL/Python names ("plpy.Error: ",
        # "KeyError: "); PL/pgSQL's name their function ("pgscore.activate: ...")
        if re.match(r"(?!pgscore[.:])[\w.]+: ", primary):
            failures.append(f"{what}: the message names a Python class: {primary}")
        # the same backend still answers, and nothing was left behind
        if query(conn, "SELECT pg_backend_pid()")[0][0] != pid:
            failures.append(f"{what}: the backend was replaced")
        conn.close()
        if got is not OK and _state(shop) != before:
            failures.append(f"{what}: failed but changed {before} -> {_state(shop)}")
    assert not failures, "\n".join(failures)
    assert query(shop, "SELECT to_regclass('pgscore.models') IS NOT NULL") == [(True,)]


# (what, arguments, exit code expected, a phrase stderr or stdout must hold; {db} the --db the command was given,
# which a hint naming a command passes on)
CLI_CASES = [
    ("deploy a missing file", ["deploy", "/nonexistent/model.joblib", "--name", "m", "--features", "a"], 1,
     "/nonexistent/model.joblib"),
    ("deploy an injection name", ["deploy", "{joblib}", "--name", INJECT, "--features", ",".join(CHURN_FEATURES)], 1,
     "invalid model name"),
    ("deploy without features", ["deploy", "{joblib}", "--name", "m"], 2,
     "usage: pgscore deploy [-h] --name NAME"),
    ("deploy a --target without --train", ["deploy", "{joblib}", "--name", "m", "--features", "a", "--target", "y"], 2,
     "pgscore deploy: error: --target names the label column of --train CSV"),
    ("deploy an empty --features", ["deploy", "{joblib}", "--name", "m", "--features", ","], 2,
     "pgscore deploy: error: --features is empty"),
    ("deploy an empty feature name, a comma at the end", ["deploy", "{joblib}", "--name", "m", "--features", "a,b,"],
     2, "pgscore deploy: error: --features a,b, names an empty feature (two commas in a row, or one at either end)"),
    ("show an unknown model", ["show", "nope"], 1, "nope"),
    ("score into a misspelt column", ["score", "--model", "churn", "--table", "customers", "--key", "id", "--into",
                                      "churn_scor"], 1,
     "Hint: a typo for 'churn_score'? Else add it first: ALTER TABLE public.customers ADD COLUMN churn_scor float8"),
    ("rollback an unknown model", ["rollback", INJECT], 1, "DROP TABLE"),
    ("score an unknown model", ["score", "--model", "nope", "--table", "customers", "--key", "id", "--into",
                                "churn_score"], 1, "error: there is no model 'nope' (SQLSTATE 42704)\nHint: list them with: pgscore {db}models"),
    ("score a key that is not unique", ["score", "--model", "churn", "--table", "complaints", "--key", "customer_id",
                                        "--into", "kind"], 1, "has no unique index"),
    # (no hint before: the one of a name SQL cannot read, which says how --table is written)
    ("score an unknown table", ["score", "--model", "churn", "--table", "nope", "--key", "id", "--into", "s"], 1,
     "error: relation \"nope\" does not exist (SQLSTATE 42P01)\nHint: --table takes a table name as SQL writes it"),
    ("score a table name SQL cannot read", ["score", "--model", "churn", "--table", "Data.My Table", "--key", "id",
                                            "--into", "s"], 1, "--table takes a table name as SQL writes it"),
    ("score an injection column", ["score", "--model", "churn", "--table", "customers", "--key", INJECT_ID,
                                   "--into", "churn_score"], 1, "DROP TABLE"),
    ("score a negative chunk", ["score", "--model", "churn", "--table", "customers", "--key", "id", "--into",
                                "churn_score", "--chunk-size", "-1"], 2, "--chunk-size"),
    ("drift an unknown model", ["drift", INJECT], 2, "DROP TABLE"),
    ("drift an unknown window", ["drift", "--window", "3 weeks"], 2, "3 weeks"),
    ("maintain negative days", ["maintain", "--days-ahead", "-3"], 2, "--days-ahead"),
    ("maintain a bad interval", ["maintain", "--keep", "forever"], 2, "forever"),
    ("bench an unknown part", ["bench", "--only", "everything"], 2, "invalid choice"),
    ("deploy with a missing training CSV", ["deploy", "{joblib}", "--name", "m", "--train", "/nonexistent/t.csv"], 1,
     "cannot read the training data /nonexistent/t.csv: No such file or directory"),
    ("deploy with a directory as training CSV", ["deploy", "{joblib}", "--name", "m", "--train", "/tmp"], 1,
     "cannot read the training data /tmp"),
    # a usage error (exit 2, before the file is read) since session 45: exit 1 from deploy's check before
    ("deploy an empty feature name", ["deploy", "{joblib}", "--name", "m", "--features",
                                      ",".join(CHURN_FEATURES[:3]) + ",," + ",".join(CHURN_FEATURES[4:])], 2,
     "names an empty feature (two commas in a row, or one at either end): give each feature's name"),
    # (deploy --no-activate --reason: refused as a usage error before session 62; recorded with the stored version
    # now, test_cli's test_deploy_no_activate_records_its_reason_in_the_history)
    ("activate an unknown version", ["activate", "churn", "99"], 1, "99"),
    ("activate an unknown model", ["activate", "nope", "1"], 1, "there is no model 'nope'"),
    ("activate a version that is not a number", ["activate", "churn", "two"], 2, "invalid int value"),
    ("retire an unknown model", ["retire", INJECT], 1, "DROP TABLE"),
    ("shadow an unknown model", ["shadow", INJECT, "2"], 1, "DROP TABLE"),
    # (the hint named `SELECT version, live FROM pgscore.model_versions WHERE name = ...`, the name left out)
    ("shadow the live version", ["shadow", "churn", "1"], 1, "it cannot be its own shadow (SQLSTATE 55000)\n"
     "Hint: name a version that is not live (list them with: pgscore {db}models)"),
    ("shadow without a version or --off", ["shadow", "churn"], 2, "a VERSION to score in shadow, or --off"),
    ("shadow with --off and --force", ["shadow", "churn", "--off", "--force"], 2, "--force sets a shadow, --off stops one"),
    ("shadow a version with --off and --reason", ["shadow", "churn", "x"], 2, "invalid int value"),
    # redaction (migration 0141)
    ("maintain a keep-features without a unit", ["maintain", "--keep-features", "2"], 2,
     "--keep-features 2 has no unit: PostgreSQL reads a bare number as seconds"),
    ("maintain a keep-features that is not an interval", ["maintain", "--keep-features", "garbage"], 2,
     "--keep-features 'garbage' is not an interval"),
    ("maintain a keep-features under a day", ["maintain", "--keep-features", "12 hours"], 2,
     "--keep-features '12 hours' is under a day"),
    ("maintain a keep that is not an interval", ["maintain", "--keep", "garbage"], 2,
     "--keep 'garbage' is not an interval"),
    ("maintain a keep without a unit", ["maintain", "--keep", "90"], 2,
     "usage: pgscore maintain [-h]"),
    ("maintain a keep without a unit: its unit", ["maintain", "--keep", "90"], 2,
     "pgscore maintain: error: --keep 90 has no unit: PostgreSQL reads a bare number as seconds, and retention keeps "
     "whole UTC days, at least one\nHint: give its unit: --keep '90 days'"),
    ("maintain a keep under a day", ["maintain", "--keep", "12 hours"], 2, "must be at least 1 day (got 12:00:00)"),
    ("maintain a keep of no days", ["maintain", "--keep", "0 days"], 2,
     "(SQLSTATE 22023)\nHint: retention keeps whole UTC days, at least one: for example '90 days'"),
    # a model or version that is not there: the command that lists them (score's error had it, these not)
    ("show an unknown model: the command that lists them", ["show", "nope"], 1,
     "error: there is no model 'nope' (SQLSTATE 42704)\nHint: list them with: pgscore {db}models"),
    ("show an unknown version", ["show", "churn", "--version", "99"], 1,
     "error: there is no version 99 of model 'churn' (SQLSTATE 42704)\nHint: list them with: pgscore {db}models"),
    ("activate an unknown version: the command that lists them", ["activate", "churn", "99"], 1,
     "error: there is no version 99 of model 'churn' (SQLSTATE 42704)\nHint: list them with: pgscore {db}models"),
    ("rollback to an unknown version", ["rollback", "churn", "--to", "99"], 1,
     "error: there is no version 99 of model 'churn' (SQLSTATE 42704)\nHint: list them with: pgscore {db}models"),
    ("retire an unknown model: the command that lists them", ["retire", "nope"], 1,
     "error: there is no model 'nope' (SQLSTATE 42704)\nHint: list them with: pgscore {db}models"),
    # silences (migration 0126): the server's errors, with their SQLSTATE
    ("silence without a reason", ["silence", "churn", "--for", "2h"], 2, "the following arguments are required: "
     "--reason"),
    ("silence for too long", ["silence", "churn", "--for", "100d", "--reason", "x"], 1,
     "p_for must be at most 90 days, got 100 days (SQLSTATE 22023)"),
    ("silence for no interval", ["silence", "churn", "--for", "soon", "--reason", "x"], 1, "SQLSTATE 22007"),
    ("silence an unknown window", ["silence", "churn", "--for", "2h", "--reason", "x", "--window", "2d"], 1,
     "p_window '2d' is not a window of pgscore.drift_windows"),
    ("unsilence an unknown silence", ["unsilence", "99"], 1, "there is no silence 99 (SQLSTATE 42704)"),
]
# commands that take no bad input of their own, against a database that is not there
UNREACHABLE = "postgresql://postgres@127.0.0.1:1/nope"
NO_DB_CASES = [[c, "--db", UNREACHABLE] for c in ("models", "env", "status", "install", "uninstall")]


def test_every_cli_command_refuses_bad_input_clearly(shop, db_url, tmp_path):
    import joblib

    path = tmp_path / "m.joblib"
    joblib.dump(make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y), path)
    failures = []
    for what, args, code, phrase in CLI_CASES:
        before = _state(shop)
        args = [a.replace("{joblib}", str(path)) for a in args]
        phrase = phrase.replace("{db}", f"--db {shlex.quote(db_url)} ")
        run = pgscore_cli(*args, "--db", db_url)
        out = run.stdout + run.stderr
        # one clear line: no traceback, no name of a PL/Python exception class
        if run.returncode != code or phrase not in out or any(w in out for w in ("Traceback", "plpy.", "spiexceptions")):
            failures.append(f"{what}: want exit {code} with {phrase!r}, got {run.returncode}: {out.strip()[-300:]}")
        if _state(shop) != before:
            failures.append(f"{what}: changed {before} -> {_state(shop)}")
    for args in NO_DB_CASES:
        run = pgscore_cli(*args)
        out = run.stdout + run.stderr
        if run.returncode != 1 or "cannot connect to the database" not in out or "Traceback" in out:
            failures.append(f"{args[0]} with no database: got {run.returncode}: {out.strip()[-300:]}")
    run = pgscore_cli("db", "url", "--data-dir", str(tmp_path / "no-cluster"))
    if run.returncode != 1 or "no cluster in" not in run.stderr:
        failures.append(f"db url without a cluster: got {run.returncode}: {run.stderr.strip()[-300:]}")
    assert not failures, "\n".join(failures)


def test_feature_columns_of_other_types(db_url, shop):
    """A boolean feature column is scored as 1 and 0 (as to_jsonb gives it by name); a column that is not a
    number at all (a date) is refused naming the feature and its type; a features array of another type
    says so instead of listing the columns."""
    first, rest = CHURN_FEATURES[0], CHURN_FEATURES[1:]
    as_bool = f"SELECT id, ({first} > 40) AS {first}, {', '.join(rest)} FROM customers"
    as_num = f"SELECT id, ({first} > 40)::int::float8 AS {first}, {', '.join(rest)} FROM customers"
    got = dict(query(db_url, "SELECT key, score FROM pgscore.predict_batch('churn', %s)", (as_bool,)))
    want = dict(query(db_url, "SELECT key, score FROM pgscore.predict_batch('churn', %s)", (as_num,)))
    assert got == want and len(got) == 50
    # types that converted before still do: a smallint, numbers held as text, a domain over a domain
    query(db_url, "CREATE DOMAIN num1 AS numeric; CREATE DOMAIN num2 AS num1")
    plain = dict(query(db_url, "SELECT key, score FROM pgscore.predict_batch('churn', %s)",
                       (f"SELECT id, round({first})::float8 AS {first}, {', '.join(rest)} FROM customers",)))
    for cast in ("smallint", "text", "num2"):
        q = f"SELECT id, round({first})::{cast} AS {first}, {', '.join(rest)} FROM customers"
        assert dict(query(db_url, "SELECT key, score FROM pgscore.predict_batch('churn', %s)", (q,))) == plain, cast
    with pytest.raises(psycopg2.Error) as e:
        query(db_url, "SELECT count(*) FROM pgscore.predict_batch('churn', %s)",
              (f"SELECT id, now()::date AS {first}, {', '.join(rest)} FROM customers",))
    assert e.value.pgcode == "42846"
    # (predict_batch raises its errors from PL/pgSQL, as the message alone)
    assert e.value.diag.message_primary == f"model churn v1: feature '{first}' is a column of type date, which is " \
                                           "not a number", e.value.diag.message_primary
    assert "compute a number from it in the query" in e.value.diag.message_hint, e.value.diag.message_hint
    # a table's date column (pgscore score, score_table): no query to compute the number in, which the hint
    # said; it says what a table's owner can do instead
    query(db_url, f"CREATE TABLE dated AS SELECT id, now()::date AS {first}, {', '.join(rest)}, NULL::float8 AS s "
                  "FROM customers; ALTER TABLE dated ADD PRIMARY KEY (id)")
    run = pgscore_cli("score", "--model", "churn", "--table", "dated", "--key", "id", "--into", "s", "--quiet",
                      "--db", db_url)
    assert run.returncode == 1 and f"error: model churn v1: feature '{first}' is a column of type date, which is not " \
        "a number (SQLSTATE 42846)\nHint: every feature reaches the model as a float8, and score_table (pgscore " \
        f"score's too) reads public.dated's column '{first}' as it is, with no query to compute a number in: give " \
        f"the table a number column of that name (rename this one, then ALTER TABLE public.dated ADD COLUMN {first} " \
        "float8, filled with the number the model was trained on), or score a query that computes it with " \
        "pgscore.predict_batch and write the scores back with UPDATE ... FROM" in run.stderr, run.stderr
    assert "in the query (" not in run.stderr, run.stderr
    with pytest.raises(psycopg2.Error) as e:
        query(db_url, "CALL pgscore.score_table('churn', 'dated', 'id', 's')")
    assert e.value.pgcode == "42846" and "with no query to compute a number in" in e.value.diag.message_hint
    with pytest.raises(psycopg2.Error) as e:
        query(db_url, "SELECT count(*) FROM pgscore.predict_batch('churn', %s)",
              (f"SELECT id, ARRAY[{', '.join(CHURN_FEATURES)}]::real[] AS features FROM customers",))
    assert e.value.pgcode == "42703" and "(features is real[], not double precision[])" in e.value.diag.message_detail
    # text that is no number: in the chunks (a model SQL does not score) and written back, the model and the
    # feature named (a bare cast named neither)
    from sklearn.ensemble import HistGradientBoostingClassifier

    from pgscore import registry

    registry.deploy(db_url, "tree", HistGradientBoostingClassifier(max_iter=10).fit(X, Y), X, Y,
                    feature_names=CHURN_FEATURES)
    bad = f"SELECT id, CASE WHEN id = 9 THEN 'n/a' ELSE {first}::text END AS {first}, {', '.join(rest)} FROM customers"
    with pytest.raises(psycopg2.Error) as e:
        query(db_url, "SELECT count(*) FROM pgscore.predict_batch('tree', %s)", (bad,))
    assert e.value.pgcode == "22P02"
    # (and the row's key, since 0081: before, the model and the feature alone)
    assert e.value.diag.message_primary == f"model tree v1: feature '{first}' must be a number, got 'n/a' (key '9'; " \
                                           "its column holds text)", e.value.diag.message_primary
    query(db_url, f"ALTER TABLE customers ALTER COLUMN {first} TYPE text; UPDATE customers SET {first} = 'n/a' "
                  "WHERE id = 9; ALTER TABLE customers ADD COLUMN s float8")
    with pytest.raises(psycopg2.Error) as e:
        query(db_url, "CALL pgscore.score_table('churn', 'customers', 'id', 's')")
    assert e.value.pgcode == "22P02" and f"model churn v1: feature '{first}' must be a number, got 'n/a' (key '9'; " \
        "its column holds text)" in e.value.diag.message_primary, e.value.diag.message_primary


def test_a_text_cell_that_is_no_number_names_its_row_on_every_path(db_url, shop):
    """A feature column of type text holding a cell that is no number: every path that scores a table names the
    row's key (0081), with the model, the feature and the value and 22P02, scored in SQL (churn, a logistic
    pipeline) or in chunks (tree): predict_batch, score_table, rescoring (strict, queued) and pgscore score. The
    feature_number they called knew no key, and a table of a million rows had to be searched for the cell."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from pgscore import registry

    first = CHURN_FEATURES[0]
    registry.deploy(db_url, "tree", HistGradientBoostingClassifier(max_iter=10).fit(X, Y), X, Y,
                    feature_names=CHURN_FEATURES)
    query(shop, f"ALTER TABLE customers ALTER COLUMN {first} TYPE text; UPDATE customers SET {first} = 'n/a' "
                "WHERE id = 9")
    said = f"feature '{first}' must be a number, got 'n/a' (key '9'; its column holds text)"
    for model in ("churn", "tree"):
        for sql in ("SELECT count(*) FROM pgscore.predict_batch(%s, 'SELECT * FROM customers')",
                    "CALL pgscore.score_table(%s, 'customers', 'id', 'churn_score')"):
            with pytest.raises(psycopg2.Error) as e:
                query(shop, sql, (model,))
            assert e.value.pgcode == "22P02", sql
            assert e.value.diag.message_primary.endswith(f"model {model} v1: {said}"), e.value.diag.message_primary
        r = pgscore_cli("score", "--model", model, "--table", "customers", "--key", "id", "--into", "churn_score", "--db", db_url)
        assert r.returncode == 1 and f"model {model} v1: {said}" in r.stderr, r.stderr
        # rescoring: strict, the INSERT fails naming the key; not strict, the queue's reason names it
        query(shop, "CREATE TABLE ev (customer_id bigint)")
        query(shop, "SELECT pgscore.attach_rescoring('ev', 'customers', 'customer_id', %s, 'churn_score', "
                    "p_profile_key => 'id', p_strict => true)", (model,))
        with pytest.raises(psycopg2.Error) as e:
            query(shop, "INSERT INTO ev VALUES (9)")
        assert e.value.pgcode == "22P02" and e.value.diag.message_primary == f"pgscore: model {model} v1: {said}", \
            e.value.diag.message_primary
        query(shop, "SELECT pgscore.detach_rescoring('ev')")
        query(shop, "SELECT pgscore.attach_rescoring('ev', 'customers', 'customer_id', %s, 'churn_score', "
                    "p_profile_key => 'id')", (model,))
        query(shop, "INSERT INTO ev VALUES (9), (3)")  # (9 alone is queued, for its own cell; 3 is scored)
        assert query(shop, "SELECT entity_key, sqlstate, reason FROM pgscore.error_queue ORDER BY 1") == \
            [("9", "22P02", f"model {model} v1: {said}")]
        assert query(shop, "SELECT l.entity_key FROM pgscore.prediction_log l JOIN pgscore.models m USING (model_id) "
                           "WHERE m.name = %s AND l.source = 'trigger'", (model,)) == [("3",)]
        query(shop, "SELECT pgscore.detach_rescoring('ev'); DROP TABLE ev; DELETE FROM pgscore.error_queue")


def test_a_feature_name_with_both_quotes_is_printed_as_written(db_url):
    """A feature name holding a single and a double quote is quoted in messages as SQL's quote_literal writes
    it (as the SQL messages quote features), not with Python's escapes ('it\\'s "x"')."""
    from pgscore import registry
    from pgscore.errors import literal

    assert literal("tenure") == "'tenure'" and literal('it\'s "x"') == "'it''s \"x\"'" and literal("a\\b") == "E'a\\\\b'"
    X, Y, _ = datasets.churn(200, seed=5)
    names = ['it\'s "x"'] + list(CHURN_FEATURES[1:])
    registry.deploy(db_url, "quoted", LogisticRegression(max_iter=500).fit(X, Y), X, Y, feature_names=names)
    with pytest.raises(psycopg2.Error) as e:
        query(db_url, "SELECT pgscore.score('quoted', %s::jsonb)", (json.dumps({n: 1.0 for n in names[1:]}),))
    msg = e.value.diag.message_primary
    assert "feature 'it''s \"x\"' is missing from the JSON object" in msg and "\\'" not in msg, msg
    with pytest.raises(psycopg2.Error) as e:
        query(db_url, "SELECT pgscore.score('quoted', %s::jsonb)", (json.dumps({**{n: 1.0 for n in names}, names[0]: "n/a"}),))
    msg = e.value.diag.message_primary
    assert "feature 'it''s \"x\"' must be a number" in msg and "\\'" not in msg, msg
