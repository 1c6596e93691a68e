from pgscore.pl import attach_rescoring
return attach_rescoring(plpy, GD, p_event_table, p_profile_table, p_key, p_model, p_score_column, p_counters,
                        p_scored_at_column, p_profile_key, p_missing_profile, p_strict, p_event_id_column)
