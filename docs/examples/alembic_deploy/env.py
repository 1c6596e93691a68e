"""A minimal alembic env.py for an application that deploys pgscore models (pgscore itself is installed)."""

import os
from logging.config import fileConfig

from alembic import context

from pgscore.migrate import create_engine

if context.config.config_file_name is not None:  # alembic.ini's logging: what runs, and pgscore's notes
    fileConfig(context.config.config_file_name)

# this project's own version table, named in alembic.ini ([alembic] version_table): every alembic project in the
# database needs one of its own. Two that shared one would each read the other's revision as theirs: an upgrade
# fails on a revision it does not know, or, where both name one alike (a1, as copies of this example do), takes
# it as applied and skips it
VERSION_TABLE = (context.config.get_main_option("version_table") or "").strip()
if not VERSION_TABLE:
    raise SystemExit("name this project's own alembic version table in alembic.ini: [alembic] version_table = "
                     "<your project>_alembic_version (each alembic project in a database needs its own)")
if VERSION_TABLE == "pgscore_alembic_version":
    raise SystemExit("version_table = pgscore_alembic_version in alembic.ini is pgscore's own version table: name "
                     "this project's own, <your project>_alembic_version")

if context.is_offline_mode():  # `alembic upgrade --sql`: no database; pgscore's operations refuse it, your own DDL is written
    context.configure(dialect_name="postgresql", version_table=VERSION_TABLE)
    with context.begin_transaction():
        context.run_migrations()
else:
    # a postgresql:// URL or a libpq string ("host=... dbname=..."), as every pgscore command takes
    url = context.get_x_argument(as_dictionary=True).get("db_url") or os.environ.get("PGSCORE_DATABASE_URL")
    if not url:
        raise SystemExit("which database? alembic -x db_url=URL ... (a postgresql:// URL or 'host=... dbname=...'), "
                         "or set PGSCORE_DATABASE_URL")
    with create_engine(url).connect() as conn:
        context.configure(connection=conn, version_table=VERSION_TABLE)
        with context.begin_transaction():
            context.run_migrations()
