"""A minimal alembic env.py for an application that deploys pgscore models (pgscore itself is installed)."""

import os
from logging.config import fileConfig

from alembic import context

from pgscore.migrate import create_engine

if context.config.config_file_name is not None:  # alembic.ini's logging: what runs, and pgscore's notes
    fileConfig(context.config.config_file_name)

if context.is_offline_mode():  # `alembic upgrade --sql`: no database; pgscore's operations refuse it, your own DDL is written
    context.configure(dialect_name="postgresql", version_table="app_alembic_version")
    with context.begin_transaction():
        context.run_migrations()
else:
    # a postgresql:// URL or a libpq string ("host=... dbname=..."), as every pgscore command takes
    url = context.get_x_argument(as_dictionary=True).get("db_url") or os.environ.get("PGSCORE_DATABASE_URL")
    if not url:
        raise SystemExit("which database? alembic -x db_url=URL ... (a postgresql:// URL or 'host=... dbname=...'), "
                         "or set PGSCORE_DATABASE_URL")
    with create_engine(url).connect() as conn:
        context.configure(connection=conn, version_table="app_alembic_version")
        with context.begin_transaction():
            context.run_migrations()
