from pgscore.pl import predict_proba
return predict_proba(plpy, GD, p_model, p_features, p_version)
