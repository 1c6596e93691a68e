"""Session 68 (h2): pgscore.health() says whether the server's Python imports pgscore (server_python, its last
check): a server restarted without the PYTHONPATH naming pgscore's environment refused every score and every INSERT
into a wired event table with 58P01, while health() said every wiring rescored. pgscore.server_python() tells it,
called by health() as its owner. pgscore.metrics() gives a pgscore_reader scraper, per model, the numbers
health()'s details alone said (the oldest queued profile's age, the alerts at warn) and the last refresh's time.
The downgrade re-applies 0173's health(text[]) (0172's and 0173's changes in it) and drops the two functions.

Revision ID: 0174
Revises: 0173
Create Date: 2026-12-07
"""

from pgscore.migrate import run_frozen

revision = "0174"
down_revision = "0173"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
