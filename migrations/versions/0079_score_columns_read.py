"""pgscore.score_columns_read: the check of a wired profile table's score and scored_at columns read as a
version's features (a table read by name), written once. set_shadow and the deployments' trigger
(check_live_version_fed) ran the same query each (migration 0075), and attach_rescoring's Python compared the
columns a third way; all three ask it now, their refusals in the same words as before (attach_rescoring's with the
DETAIL the other two give). The downgrade restores 0075's set_shadow and trigger and drops the function.

Revision ID: 0079
Revises: 0078
Create Date: 2026-12-03
"""

from pgscore.migrate import run_frozen

revision = "0079"
down_revision = "0078"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
