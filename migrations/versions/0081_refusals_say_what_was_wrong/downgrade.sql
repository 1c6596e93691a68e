-- 0081 to 0080: the row functions by name with 0077's shims; feature_number with the key and record_outcome
-- for uuid and bigint keys dropped (the statements of this release's code call feature_number with the key
-- only where the schema has it).

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
return SD["f"](plpy, GD, p_model, p_features, p_version, p_key)
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
return SD["f"](plpy, GD, p_model, p_features, p_version, p_key)
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
return SD["f"](plpy, GD, p_model, p_features, p_version, p_key)
$pl$;
COMMENT ON FUNCTION pgscore.predict_proba(text, jsonb, integer, text) IS 'Class probabilities in the order of the model''s classes; features by feature name; p_version pins a version, p_key names the entity in the audit log';


DROP FUNCTION pgscore.feature_number(text, text, text, text);
COMMENT ON FUNCTION pgscore.feature_number(text, text, text) IS 'Internal: a feature''s number from a text column, or an error naming the model and the feature; used by the statements of predict_batch, score_table and rescoring';
DROP FUNCTION pgscore.record_outcome(text, uuid, text, timestamptz);
DROP FUNCTION pgscore.record_outcome(text, uuid, float8, timestamptz);
DROP FUNCTION pgscore.record_outcome(text, uuid, boolean, timestamptz);
DROP FUNCTION pgscore.record_outcome(text, bigint, text, timestamptz);
DROP FUNCTION pgscore.record_outcome(text, bigint, float8, timestamptz);
DROP FUNCTION pgscore.record_outcome(text, bigint, boolean, timestamptz);
