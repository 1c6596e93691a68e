# Self-contained on purpose (as validate_environment's): it says whether pgscore's module imports, never raises
# for it, so that pgscore.health() can say what every score and wired INSERT would meet (58P01)
# (review r2) whatever the import raises: a site-packages of another Python's (SyntaxError), a native library's
# RuntimeError or OSError failed health() itself, every check lost, where every score meets the same error
import os
import sys
try:
    import pgscore.pl  # noqa: F401
except ImportError as e:
    return str(e) or type(e).__name__
except Exception as e:
    return "%s: %s" % (type(e).__name__, e)
# (review r2) a session that imported it before (a scraper's lasting connection) is answered by sys.modules: an
# environment removed or moved since fails every new session while this one said ok
path = getattr(sys.modules.get("pgscore.pl"), "__file__", None)
if path and not os.path.exists(path):
    return "its module's file %s is gone since this session imported it" % path
return None
