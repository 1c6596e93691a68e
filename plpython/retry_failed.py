from pgscore.pl import retry_failed
return retry_failed(plpy, GD, p_model, p_limit)
