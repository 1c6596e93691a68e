try:
    from pgscore.pl import attach_rescoring
except ImportError as e:  # a server started without pgscore's environment
    plpy.error("pgscore cannot be imported by the database's Python: %s" % e, sqlstate="58P01",
               hint="restart the server with PYTHONPATH naming the site-packages directory of the environment pgscore was installed into with the server's own Python, not the venv itself (any pgscore command of that environment prints the exact value; README, 'Installing into an existing server'), then SELECT pgscore.validate_environment()")
return attach_rescoring(plpy, GD, p_event_table, p_profile_table, p_key, p_model, p_score_column, p_counters,
                        p_scored_at_column, p_profile_key, p_missing_profile, p_strict, p_event_id_column,
                        p_replicated, p_label_column)
