from pgscore.pl import batch_chunks
return batch_chunks(plpy, GD, p_model, p_query, p_version, p_chunk_size, p_log, p_search_path, doubles=True, errors=True)
