# Self-contained on purpose (as validate_environment's): it says whether pgscore's module imports, never raises
# for it, so that pgscore.health() can say what every score and wired INSERT would meet (58P01)
# (review r2) whatever the import raises: a site-packages of another Python's (SyntaxError), a native library's
# RuntimeError or OSError failed health() itself, every check lost, where every score meets the same error
try:
    from pgscore.pl import server_python
except ImportError as e:
    return str(e) or type(e).__name__
except Exception as e:
    return "%s: %s" % (type(e).__name__, e)
return server_python()
