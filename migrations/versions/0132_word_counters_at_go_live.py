"""A version made live (deploy, activate, rollback) that a wiring's counter into a profile column of words cannot feed
is refused by the deployments' trigger (check_live_version_fed), as attach_rescoring refuses it of the version live
then: a count, add, window, max or min counter into a text feature (22023: they count or sum numbers, or order words
by their spelling), or a last, set or recompute counter of words into a feature the version reads as a number that
another version of the name took as words (42804: every event's profile would be queued, its word no number). It was
checked at attach only. The downgrade restores the function as 0131 left it.

Revision ID: 0132
Revises: 0131
Create Date: 2026-12-06
"""

from pgscore.migrate import run_frozen

revision = "0132"
down_revision = "0131"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
