from pgscore.pl import score_chunk
return score_chunk(plpy, GD, p_model, p_table, p_key, p_into, p_after, p_chunk_size, p_version, p_log)
