"""A minimal alembic env.py for an application that deploys pgscore models (pgscore itself is installed)."""

import os

from alembic import context

from pgscore.migrate import create_engine

url = context.get_x_argument(as_dictionary=True).get("db_url") or os.environ["PGSCORE_DATABASE_URL"]
with create_engine(url).connect() as conn:
    context.configure(connection=conn, version_table="app_alembic_version")
    with context.begin_transaction():
        context.run_migrations()
