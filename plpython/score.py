from pgscore.pl import score
return score(plpy, GD, p_model, p_features, p_version)
