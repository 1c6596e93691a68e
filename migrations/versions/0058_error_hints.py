"""A HINT on the errors of activate, rollback and retire for a model or version that does not exist, and on
drop_log_partitions' refusal of a retention period that is not positive.

Revision ID: 0058
Revises: 0057
Create Date: 2026-12-02
"""

from pgscore.migrate import run_frozen

revision = "0058"
down_revision = "0057"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
