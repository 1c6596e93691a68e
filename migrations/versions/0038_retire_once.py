"""pgscore.retire leaves a model retired already as it is, with a NOTICE: a second retire appended another
'retire' to the model's history (as `pgscore retire` did before it checked first).

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-01
"""

from pgscore.migrate import run_frozen

revision = "0038"
down_revision = "0037"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
