from pgscore.pl import load_model
return load_model(plpy, GD, p_model_id)
