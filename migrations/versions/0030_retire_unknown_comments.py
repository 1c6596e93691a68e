"""pgscore.retire of an unknown model says "there is no model", as activate and rollback do; of a model whose
versions were never made live, that it has none to retire. Comments brought up to date: the log's label, the
score baseline, drift_by_day's columns. record_outcome reads a number outcome alike whatever the session's
standard_conforming_strings.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-01
"""

from pgscore.migrate import run_frozen

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
