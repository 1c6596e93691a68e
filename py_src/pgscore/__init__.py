"""pgscore: scikit-learn models deployed, run, audited and watched inside PostgreSQL."""

from importlib.metadata import PackageNotFoundError, version as _dist_version

try:
    __version__ = _dist_version("pgscore")
except PackageNotFoundError:  # running from a checkout without installation
    __version__ = "0.0.0+unknown"

from pgscore.errors import PgscoreError  # noqa: E402

__all__ = ["__version__", "PgscoreError"]
