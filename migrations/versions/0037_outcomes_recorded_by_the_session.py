"""record_outcome records the caller's role in outcomes.recorded_by (SET ROLE's, else the login's): it runs as pgscore's
owner (SECURITY DEFINER, the app records outcomes only through it), so the column's default, current_user,
named the owner for every outcome. Outcomes recorded before keep the owner: who recorded them is not known.

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-01
"""

from pgscore.migrate import run_frozen

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
