"""pgscore: scikit-learn models deployed, run, audited and watched inside PostgreSQL."""

from pgscore.errors import PgscoreError

__all__ = ["__version__", "PgscoreError"]


def __getattr__(name):
    # looked up when asked for: importlib.metadata costs ~25 ms, and a backend's first score imports pgscore
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("pgscore")
        except PackageNotFoundError:  # running from a checkout without installation
            return "0.0.0+unknown"
    raise AttributeError(f"module 'pgscore' has no attribute {name!r}")
