if "f" not in SD:
    from pgscore.pl import rescore_events as f; SD["f"] = f
return SD["f"](plpy, GD, TD)
