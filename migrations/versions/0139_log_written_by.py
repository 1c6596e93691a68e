"""Each audit row names the login that wrote it (session 63, a compliance trial): pgscore.prediction_log.written_by,
session_user by default, a column no pgscore role may INSERT, shown last in pgscore.predictions. Added without a
default and then given it, so the log is not rewritten and old rows keep NULL (not recorded). The downgrade makes
the view again without it (owner, grants and comments kept) and drops the column.

Revision ID: 0139
Revises: 0138
Create Date: 2026-12-06
"""

from pgscore.migrate import run_frozen

revision = "0139"
down_revision = "0138"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
