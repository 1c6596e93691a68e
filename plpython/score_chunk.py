try:
    from pgscore.pl import score_chunk
except ImportError as e:  # a server started without pgscore's environment
    plpy.error("pgscore cannot be imported by the database's Python: %s" % e, sqlstate="58P01",
               hint="restart the server with PYTHONPATH naming the site-packages directory of the environment pgscore was installed into with the server's own Python, not the venv itself (any pgscore command of that environment prints the exact value; README, 'Installing into an existing server'), then SELECT pgscore.validate_environment()")
return score_chunk(plpy, GD, p_model, p_table, p_key, p_into, p_after, p_chunk_size, p_version, p_log,
                   p_label_into, p_scored_at_into)
