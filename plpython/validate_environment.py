# Self-contained on purpose: it must explain what is wrong when pgscore itself cannot be imported.
try:
    from pgscore.pl import validate_environment
except ImportError as e:
    import sys
    plpy.error("pgscore cannot be imported by the database's Python: %s" % e, sqlstate="58P01",
               detail="PL/Python runs %s; its sys.path is %s" % (sys.version.split()[0], sys.path),
               hint="start the server with PYTHONPATH pointing at the environment built with /usr/bin/python3 (pgscore db start does this; see README, 'Installing into an existing server')")
return validate_environment(plpy)
