# Self-contained on purpose: it must explain what is wrong when pgscore itself cannot be imported.
try:
    from pgscore.pl import validate_environment
except ImportError as e:
    import sys
    plpy.error("pgscore cannot be imported by the database's Python: %s" % e, sqlstate="58P01",
               detail="PL/Python runs %s; its sys.path is %s" % (sys.version.split()[0], sys.path),
               hint="restart the server with PYTHONPATH naming the site-packages directory of an environment built with the server's own Python (/usr/bin/python3 on Debian 12) and pgscore installed into it, not the venv itself; any pgscore command of that environment prints the exact value (README, 'Installing into an existing server'); pgscore db start does this for the clusters it creates")
return validate_environment(plpy)
