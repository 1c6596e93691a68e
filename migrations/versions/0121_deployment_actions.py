"""pgscore.deployments says what happened: pgscore.activate appends 'activate' (it appended 'deploy'), and a
deployment that makes a version scored in shadow live appends the shadow's 'stop' to pgscore.shadows (its end was
recorded nowhere). The downgrade turns the 'activate' rows into the 'deploy' 0120's activate wrote, so that 0120's
code reads them, and restores activate; the stops stay (0120 reads those versions as no shadows either way).

Revision ID: 0121
Revises: 0120
Create Date: 2026-12-05
"""

from pgscore.migrate import run_frozen

revision = "0121"
down_revision = "0120"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
