"""Session 67 (h4): record_outcome notes an outcome observed more than 15 minutes ahead once a transaction, not once a
row (20,000 outcomes an hour ahead recorded by one statement gave 20,000 NOTICEs: trial T21 of session 66), with how
far ahead; its hint no longer says the argument was a timestamp without time zone, which cannot be told once
PostgreSQL has cast it. The downgrade re-applies 0159's text.

Revision ID: 0167
Revises: 0166
Create Date: 2026-12-07
"""

from pgscore.migrate import run_frozen

revision = "0167"
down_revision = "0166"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
