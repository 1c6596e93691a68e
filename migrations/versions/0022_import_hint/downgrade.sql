-- 0022 to 0021: the PL/Python functions' import-error HINT as it was.

CREATE OR REPLACE FUNCTION pgscore.batch_chunks(p_model text, p_query text, p_version integer, p_chunk_size integer, p_log boolean,
                                     p_search_path text)
RETURNS TABLE (keys text[], scores bytea, error jsonb)
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $pl$
try:
    from pgscore.pl import batch_chunks
except ImportError as e:  # a server started without pgscore's environment
    plpy.error("pgscore cannot be imported by the database's Python: %s" % e, sqlstate="58P01",
               hint="start the server with PYTHONPATH naming the environment pgscore was installed into (README, 'Installing into an existing server'), then SELECT pgscore.validate_environment()")
return batch_chunks(plpy, GD, p_model, p_query, p_version, p_chunk_size, p_log, p_search_path, doubles=True, errors=True)
$pl$;

CREATE OR REPLACE FUNCTION pgscore.score_chunk(p_model text, p_table regclass, p_key name, p_into name,
                                    p_after text DEFAULT NULL, p_chunk_size integer DEFAULT 10000,
                                    p_version integer DEFAULT NULL, p_log boolean DEFAULT true)
RETURNS TABLE (rows integer, last_key text, version integer)
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $pl$
try:
    from pgscore.pl import score_chunk
except ImportError as e:  # a server started without pgscore's environment
    plpy.error("pgscore cannot be imported by the database's Python: %s" % e, sqlstate="58P01",
               hint="start the server with PYTHONPATH naming the environment pgscore was installed into (README, 'Installing into an existing server'), then SELECT pgscore.validate_environment()")
return score_chunk(plpy, GD, p_model, p_table, p_key, p_into, p_after, p_chunk_size, p_version, p_log)
$pl$;

CREATE OR REPLACE FUNCTION pgscore.flush_query_log()
RETURNS trigger
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $pl$
try:
    from pgscore.pl import flush_query_log
except ImportError as e:  # a server started without pgscore's environment
    plpy.error("pgscore cannot be imported by the database's Python: %s" % e, sqlstate="58P01",
               hint="start the server with PYTHONPATH naming the environment pgscore was installed into (README, 'Installing into an existing server'), then SELECT pgscore.validate_environment()")
return flush_query_log(plpy, GD, TD)
$pl$;

CREATE OR REPLACE FUNCTION pgscore.load_model(p_model_id bigint)
RETURNS text
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $pl$
try:
    from pgscore.pl import load_model
except ImportError as e:  # a server started without pgscore's environment
    plpy.error("pgscore cannot be imported by the database's Python: %s" % e, sqlstate="58P01",
               hint="start the server with PYTHONPATH naming the environment pgscore was installed into (README, 'Installing into an existing server'), then SELECT pgscore.validate_environment()")
return load_model(plpy, GD, p_model_id)
$pl$;

CREATE OR REPLACE FUNCTION pgscore.register_model(
    p_name text, p_artifact bytea, p_sha256 text, p_meta jsonb, p_baselines jsonb,
    p_activate boolean DEFAULT true, p_reason text DEFAULT NULL,
    p_evaluator bytea DEFAULT NULL, p_evaluator_meta jsonb DEFAULT NULL)
RETURNS TABLE (model_id bigint, version integer)
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $pl$
try:
    from pgscore.pl import register_model
except ImportError as e:  # a server started without pgscore's environment
    plpy.error("pgscore cannot be imported by the database's Python: %s" % e, sqlstate="58P01",
               hint="start the server with PYTHONPATH naming the environment pgscore was installed into (README, 'Installing into an existing server'), then SELECT pgscore.validate_environment()")
return register_model(plpy, GD, p_name, p_artifact, p_sha256, p_meta, p_baselines, p_activate, p_reason,
                      p_evaluator, p_evaluator_meta)
$pl$;

CREATE OR REPLACE FUNCTION pgscore.attach_rescoring(
    p_event_table regclass, p_profile_table regclass, p_key name, p_model text, p_score_column name,
    p_counters jsonb DEFAULT '{}'::jsonb, p_scored_at_column name DEFAULT 'scored_at',
    p_profile_key name DEFAULT NULL, p_missing_profile text DEFAULT 'create', p_strict boolean DEFAULT false,
    p_event_id_column name DEFAULT NULL)
RETURNS bigint
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $pl$
try:
    from pgscore.pl import attach_rescoring
except ImportError as e:  # a server started without pgscore's environment
    plpy.error("pgscore cannot be imported by the database's Python: %s" % e, sqlstate="58P01",
               hint="start the server with PYTHONPATH naming the environment pgscore was installed into (README, 'Installing into an existing server'), then SELECT pgscore.validate_environment()")
return attach_rescoring(plpy, GD, p_event_table, p_profile_table, p_key, p_model, p_score_column, p_counters,
                        p_scored_at_column, p_profile_key, p_missing_profile, p_strict, p_event_id_column)
$pl$;

CREATE OR REPLACE FUNCTION pgscore.rescore_events()
RETURNS trigger
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $pl$
if "f" not in SD:
    try:
        from pgscore.pl import rescore_events as f
    except ImportError as e:  # a server started without pgscore's environment
        plpy.error("pgscore cannot be imported by the database's Python: %s" % e, sqlstate="58P01",
                   hint="start the server with PYTHONPATH naming the environment pgscore was installed into (README, 'Installing into an existing server'), then SELECT pgscore.validate_environment()")
    SD["f"] = f
return SD["f"](plpy, GD, TD)
$pl$;

CREATE OR REPLACE FUNCTION pgscore.retry_failed(p_model text DEFAULT NULL, p_limit integer DEFAULT NULL)
RETURNS TABLE (rescoring_id bigint, rescored integer, failed integer)
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $pl$
try:
    from pgscore.pl import retry_failed
except ImportError as e:  # a server started without pgscore's environment
    plpy.error("pgscore cannot be imported by the database's Python: %s" % e, sqlstate="58P01",
               hint="start the server with PYTHONPATH naming the environment pgscore was installed into (README, 'Installing into an existing server'), then SELECT pgscore.validate_environment()")
return retry_failed(plpy, GD, p_model, p_limit)
$pl$;

CREATE OR REPLACE FUNCTION pgscore.score(p_model text, p_features float8[], p_version integer DEFAULT NULL, p_key text DEFAULT NULL)
RETURNS float8
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
AS $pl$
if "f" not in SD:  # import once per function and backend: an import statement costs ~1 us a call
    try:
        from pgscore.pl import score as f
    except ImportError as e:  # a server started without pgscore's environment
        plpy.error("pgscore cannot be imported by the database's Python: %s" % e, sqlstate="58P01",
                   hint="start the server with PYTHONPATH naming the environment pgscore was installed into (README, 'Installing into an existing server'), then SELECT pgscore.validate_environment()")
    SD["f"] = f
return SD["f"](plpy, GD, p_model, p_features, p_version, p_key)
$pl$;

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
                   hint="start the server with PYTHONPATH naming the environment pgscore was installed into (README, 'Installing into an existing server'), then SELECT pgscore.validate_environment()")
    SD["f"] = f
return SD["f"](plpy, GD, p_model, p_features, p_version, p_key)
$pl$;

CREATE OR REPLACE FUNCTION pgscore.predict(p_model text, p_features float8[], p_version integer DEFAULT NULL, p_key text DEFAULT NULL)
RETURNS text
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
AS $pl$
if "f" not in SD:  # import once per function and backend: an import statement costs ~1 us a call
    try:
        from pgscore.pl import predict as f
    except ImportError as e:  # a server started without pgscore's environment
        plpy.error("pgscore cannot be imported by the database's Python: %s" % e, sqlstate="58P01",
                   hint="start the server with PYTHONPATH naming the environment pgscore was installed into (README, 'Installing into an existing server'), then SELECT pgscore.validate_environment()")
    SD["f"] = f
return SD["f"](plpy, GD, p_model, p_features, p_version, p_key)
$pl$;

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
                   hint="start the server with PYTHONPATH naming the environment pgscore was installed into (README, 'Installing into an existing server'), then SELECT pgscore.validate_environment()")
    SD["f"] = f
return SD["f"](plpy, GD, p_model, p_features, p_version, p_key)
$pl$;

CREATE OR REPLACE FUNCTION pgscore.predict_proba(p_model text, p_features float8[], p_version integer DEFAULT NULL, p_key text DEFAULT NULL)
RETURNS float8[]
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
AS $pl$
if "f" not in SD:  # import once per function and backend: an import statement costs ~1 us a call
    try:
        from pgscore.pl import predict_proba as f
    except ImportError as e:  # a server started without pgscore's environment
        plpy.error("pgscore cannot be imported by the database's Python: %s" % e, sqlstate="58P01",
                   hint="start the server with PYTHONPATH naming the environment pgscore was installed into (README, 'Installing into an existing server'), then SELECT pgscore.validate_environment()")
    SD["f"] = f
return SD["f"](plpy, GD, p_model, p_features, p_version, p_key)
$pl$;

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
                   hint="start the server with PYTHONPATH naming the environment pgscore was installed into (README, 'Installing into an existing server'), then SELECT pgscore.validate_environment()")
    SD["f"] = f
return SD["f"](plpy, GD, p_model, p_features, p_version, p_key)
$pl$;

CREATE OR REPLACE FUNCTION pgscore.validate_environment() RETURNS jsonb
LANGUAGE plpython3u
STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $pl$
# Self-contained on purpose: it must explain what is wrong when pgscore itself cannot be imported.
try:
    from pgscore.pl import validate_environment
except ImportError as e:
    import sys
    plpy.error("pgscore cannot be imported by the database's Python: %s" % e, sqlstate="58P01",
               detail="PL/Python runs %s; its sys.path is %s" % (sys.version.split()[0], sys.path),
               hint="start the server with PYTHONPATH pointing at the environment built with /usr/bin/python3 (pgscore db start does this; see README, 'Installing into an existing server')")
return validate_environment(plpy)
$pl$;

