"""Alembic environment for pgscore: one transaction per run, a version table of its own."""

import os

from alembic import context
from pgscore.migrate import VERSION_TABLE, create_engine

config = context.config


def database_url():
    url = (context.get_x_argument(as_dictionary=True).get("db_url")
           or config.attributes.get("db_url")
           or os.environ.get("PGSCORE_DATABASE_URL")
           or config.get_main_option("sqlalchemy.url"))
    if not url:
        raise SystemExit("pgscore: no database URL; pass -x db_url=postgresql://... or set PGSCORE_DATABASE_URL")
    return url


def run():
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = create_engine(database_url())
    with engine.connect() as conn:
        _migrate(conn)


def _migrate(conn):
    # the version table is ours, so an application's own alembic history is never touched
    context.configure(connection=conn, version_table=VERSION_TABLE, transactional_ddl=True,
                      transaction_per_migration=False)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(url=database_url(), version_table=VERSION_TABLE, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run()
