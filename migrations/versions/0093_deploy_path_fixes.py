"""Deploy path fixes: pgscore.rollback to the version that is live already (p_to_version) changes nothing: it
raises a NOTICE ("version 2 of 'churn' is live already: nothing was changed") and appends no deployment, as
pgscore.activate does since 0080, where it appended a rollback to a version that never went away (pgscore show
listed it, with the --reason given, and pgscore rollback said "is live again"). The downgrade restores the
function as it was.

Revision ID: 0093
Revises: 0092
Create Date: 2026-12-04
"""

from pgscore.migrate import run_frozen

revision = "0093"
down_revision = "0092"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
