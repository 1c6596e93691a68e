from pgscore.pl import predict
return predict(plpy, GD, p_model, p_features, p_version)
