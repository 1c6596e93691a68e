"""Log times and a version's codes. pgscore_app and pgscore_admin may INSERT into pgscore.prediction_log every column
but logged_at (a column-level grant in place of the table's INSERT), so a row they write takes the column's default,
now(): no role but the log's owner back-dates (or post-dates) a prediction, which drift and performance read by
logged_at. Every scoring path lists its columns without logged_at and keeps working. pgscore.category_code takes
p_version (appended, DEFAULT NULL: the live version), the codes of the version score's p_version pins; a
char(n) word has a form of its own, given it blank-padded, coded as the columns' paths code it. The downgrade
gives the table's INSERT back and category_code its three arguments.

Revision ID: 0127
Revises: 0126
Create Date: 2026-12-06
"""

from pgscore.migrate import run_frozen

revision = "0127"
down_revision = "0126"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
