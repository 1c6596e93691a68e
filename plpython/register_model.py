from pgscore.pl import register_model
return register_model(plpy, GD, p_name, p_artifact, p_sha256, p_meta, p_baselines, p_activate, p_reason,
                      p_evaluator, p_evaluator_meta)
