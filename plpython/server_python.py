# Self-contained on purpose (as validate_environment's): it says whether pgscore's module imports, never raises
# for it, so that pgscore.health() can say what every score and wired INSERT would meet (58P01)
try:
    import pgscore.pl  # noqa: F401
except ImportError as e:
    return str(e) or type(e).__name__
return None
