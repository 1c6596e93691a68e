"""attach_rescoring takes p_label_column: every path that writes the wired score onto the profile (the statement
trigger, the row trigger for replicated rows, retry_failed, refresh_windows, backfill_rescoring) also writes into
that column the class pgscore.predict gives for the same features and version; pgscore.rescoring keeps it
(label_column). The downgrade restores attach_rescoring as 0055 left it and drops the column.

Revision ID: 0119
Revises: 0118
Create Date: 2026-12-05
"""

from pgscore.migrate import run_frozen

revision = "0119"
down_revision = "0118"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
