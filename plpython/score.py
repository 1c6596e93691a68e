if "f" not in SD:  # import once per function and backend: an import statement costs ~1 us a call
    from pgscore.pl import score as f; SD["f"] = f
return SD["f"](plpy, GD, p_model, p_features, p_version, p_key)
