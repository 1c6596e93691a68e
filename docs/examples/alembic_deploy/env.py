"""A minimal alembic env.py for an application that deploys pgscore models (pgscore itself is installed)."""

import os

from alembic import context

from pgscore.migrate import create_engine

url = context.get_x_argument(as_dictionary=True).get("db_url") or os.environ["PGSCORE_DATABASE_URL"]
if context.is_offline_mode():  # `alembic upgrade --sql`: pgscore's operations refuse it, your own DDL is written
    context.configure(url=url, version_table="app_alembic_version")
    with context.begin_transaction():
        context.run_migrations()
else:
    with create_engine(url).connect() as conn:
        context.configure(connection=conn, version_table="app_alembic_version")
        with context.begin_transaction():
            context.run_migrations()
