-- 0080 to 0081: refusals that say what was wrong. score, predict and predict_proba by name called with a NULL
-- jsonb said "the feature array is NULL": their shims now tell the jsonb form apart. feature_number with the
-- row's key, which every statement that scores a table now passes, so that a text cell that is no number names
-- its row. record_outcome for an entity key of type uuid or bigint, which needed an explicit ::text (42883).

-- score, predict and predict_proba by name (jsonb): their shims say so, for a NULL's error. Replaced in place.
CREATE OR REPLACE FUNCTION pgscore.score(p_model text, p_features jsonb, p_version integer DEFAULT NULL, p_key text DEFAULT NULL)
RETURNS float8
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
AS $pl$
if "f" not in SD:  # import once per function and backend: an import statement costs ~1 us a call
    try:
        from pgscore.pl import score as f
    except ImportError as e:  # a server started without pgscore's environment
        plpy.error("pgscore cannot be imported by the database's Python: %s" % e, sqlstate="58P01",
                   hint="restart the server with PYTHONPATH naming the site-packages directory of the environment pgscore was installed into with the server's own Python, not the venv itself (any pgscore command of that environment prints the exact value; README, 'Installing into an existing server'), then SELECT pgscore.validate_environment()")
    SD["f"] = f
return SD["f"](plpy, GD, p_model, p_features, p_version, p_key, True)  # by name: jsonb
$pl$;
COMMENT ON FUNCTION pgscore.score(text, jsonb, integer, text) IS 'Positive-class probability (binary), top-class probability (multiclass) or value (regression); features by feature name; p_version pins a version, p_key names the entity in the audit log';

CREATE OR REPLACE FUNCTION pgscore.predict(p_model text, p_features jsonb, p_version integer DEFAULT NULL, p_key text DEFAULT NULL)
RETURNS text
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
AS $pl$
if "f" not in SD:  # import once per function and backend: an import statement costs ~1 us a call
    try:
        from pgscore.pl import predict as f
    except ImportError as e:  # a server started without pgscore's environment
        plpy.error("pgscore cannot be imported by the database's Python: %s" % e, sqlstate="58P01",
                   hint="restart the server with PYTHONPATH naming the site-packages directory of the environment pgscore was installed into with the server's own Python, not the venv itself (any pgscore command of that environment prints the exact value; README, 'Installing into an existing server'), then SELECT pgscore.validate_environment()")
    SD["f"] = f
return SD["f"](plpy, GD, p_model, p_features, p_version, p_key, True)  # by name: jsonb
$pl$;
COMMENT ON FUNCTION pgscore.predict(text, jsonb, integer, text) IS 'Predicted label (classifiers) or value (regressors), as text; features by feature name; p_version pins a version, p_key names the entity in the audit log';

CREATE OR REPLACE FUNCTION pgscore.predict_proba(p_model text, p_features jsonb, p_version integer DEFAULT NULL, p_key text DEFAULT NULL)
RETURNS float8[]
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
AS $pl$
if "f" not in SD:  # import once per function and backend: an import statement costs ~1 us a call
    try:
        from pgscore.pl import predict_proba as f
    except ImportError as e:  # a server started without pgscore's environment
        plpy.error("pgscore cannot be imported by the database's Python: %s" % e, sqlstate="58P01",
                   hint="restart the server with PYTHONPATH naming the site-packages directory of the environment pgscore was installed into with the server's own Python, not the venv itself (any pgscore command of that environment prints the exact value; README, 'Installing into an existing server'), then SELECT pgscore.validate_environment()")
    SD["f"] = f
return SD["f"](plpy, GD, p_model, p_features, p_version, p_key, True)  # by name: jsonb
$pl$;
COMMENT ON FUNCTION pgscore.predict_proba(text, jsonb, integer, text) IS 'Class probabilities in the order of the model''s classes; features by feature name; p_version pins a version, p_key names the entity in the audit log';


-- feature_number with the row's key: its error names the key where the statements know it (the one of three
-- arguments stays, for statements a session planned before the upgrade).
CREATE FUNCTION pgscore.feature_number(p_value text, p_model text, p_feature text, p_key text)
RETURNS float8
LANGUAGE plpgsql
IMMUTABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    RETURN p_value::float8;
EXCEPTION
    WHEN invalid_text_representation THEN
        RAISE EXCEPTION 'model %: feature % must be a number, got % (key %; its column holds text)', p_model,
              quote_literal(p_feature), quote_literal(left(p_value, 60)), quote_nullable(p_key)
            USING ERRCODE = 'invalid_text_representation',
                  HINT = 'every feature reaches the model as a float8: compute a number from the text in the query (docs/sql.md, ''Features are numbers'')';
    WHEN numeric_value_out_of_range THEN
        RAISE EXCEPTION 'model %: feature % is out of the range of double precision, got % (key %; its column holds text)',
              p_model, quote_literal(p_feature), quote_literal(left(p_value, 60)), quote_nullable(p_key)
            USING ERRCODE = 'numeric_value_out_of_range';
END
$fn$;
COMMENT ON FUNCTION pgscore.feature_number(text, text, text, text) IS 'Internal: a feature''s number from a text column, or an error naming the model, the feature and the row''s key; used by the statements of predict_batch, score_table and rescoring';

COMMENT ON FUNCTION pgscore.feature_number(text, text, text) IS 'Internal: a feature''s number from a text column, or an error naming the model and the feature; the statements of predict_batch, score_table and rescoring before migration 0081 called it, which call the one with p_key now';
REVOKE EXECUTE ON FUNCTION pgscore.feature_number(text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgscore.feature_number(text, text, text, text) TO pgscore_app, pgscore_admin;

-- record_outcome for an entity key of type uuid or bigint (integer, smallint: by the implicit cast), each form
-- of the outcome: the key as its text. New functions, revoked from PUBLIC and granted as the others are.
CREATE FUNCTION pgscore.record_outcome(p_model text, p_entity_key uuid, p_outcome text,
                                       p_observed_at timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT pgscore.record_outcome(p_model, p_entity_key::text, p_outcome, p_observed_at);
END;
COMMENT ON FUNCTION pgscore.record_outcome(text, uuid, text, timestamptz) IS 'record_outcome for an entity key of type uuid, as its text; its class or number as text';

CREATE FUNCTION pgscore.record_outcome(p_model text, p_entity_key uuid, p_outcome float8,
                                       p_observed_at timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT pgscore.record_outcome(p_model, p_entity_key::text, p_outcome::text, p_observed_at);
END;
COMMENT ON FUNCTION pgscore.record_outcome(text, uuid, float8, timestamptz) IS 'record_outcome for an entity key of type uuid, as its text; a numeric outcome';

CREATE FUNCTION pgscore.record_outcome(p_model text, p_entity_key uuid, p_outcome boolean,
                                       p_observed_at timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT pgscore.record_outcome(p_model, p_entity_key::text, p_outcome::text, p_observed_at);
END;
COMMENT ON FUNCTION pgscore.record_outcome(text, uuid, boolean, timestamptz) IS 'record_outcome for an entity key of type uuid, as its text; a boolean outcome';

CREATE FUNCTION pgscore.record_outcome(p_model text, p_entity_key bigint, p_outcome text,
                                       p_observed_at timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT pgscore.record_outcome(p_model, p_entity_key::text, p_outcome, p_observed_at);
END;
COMMENT ON FUNCTION pgscore.record_outcome(text, bigint, text, timestamptz) IS 'record_outcome for an entity key of type bigint (or integer, smallint), as its text; its class or number as text';

CREATE FUNCTION pgscore.record_outcome(p_model text, p_entity_key bigint, p_outcome float8,
                                       p_observed_at timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT pgscore.record_outcome(p_model, p_entity_key::text, p_outcome::text, p_observed_at);
END;
COMMENT ON FUNCTION pgscore.record_outcome(text, bigint, float8, timestamptz) IS 'record_outcome for an entity key of type bigint (or integer, smallint), as its text; a numeric outcome';

CREATE FUNCTION pgscore.record_outcome(p_model text, p_entity_key bigint, p_outcome boolean,
                                       p_observed_at timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT pgscore.record_outcome(p_model, p_entity_key::text, p_outcome::text, p_observed_at);
END;
COMMENT ON FUNCTION pgscore.record_outcome(text, bigint, boolean, timestamptz) IS 'record_outcome for an entity key of type bigint (or integer, smallint), as its text; a boolean outcome';

REVOKE EXECUTE ON FUNCTION pgscore.record_outcome(text, uuid, text, timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION pgscore.record_outcome(text, uuid, float8, timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION pgscore.record_outcome(text, uuid, boolean, timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION pgscore.record_outcome(text, bigint, text, timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION pgscore.record_outcome(text, bigint, float8, timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION pgscore.record_outcome(text, bigint, boolean, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgscore.record_outcome(text, uuid, text, timestamptz) TO pgscore_app, pgscore_admin;
GRANT EXECUTE ON FUNCTION pgscore.record_outcome(text, uuid, float8, timestamptz) TO pgscore_app, pgscore_admin;
GRANT EXECUTE ON FUNCTION pgscore.record_outcome(text, uuid, boolean, timestamptz) TO pgscore_app, pgscore_admin;
GRANT EXECUTE ON FUNCTION pgscore.record_outcome(text, bigint, text, timestamptz) TO pgscore_app, pgscore_admin;
GRANT EXECUTE ON FUNCTION pgscore.record_outcome(text, bigint, float8, timestamptz) TO pgscore_app, pgscore_admin;
GRANT EXECUTE ON FUNCTION pgscore.record_outcome(text, bigint, boolean, timestamptz) TO pgscore_app, pgscore_admin;
