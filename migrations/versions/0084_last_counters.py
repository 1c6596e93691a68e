"""Last counters: attach_rescoring's {"last": expression} (with an optional "by") keeps the value of each profile's
newest event of the statement. The code checks and builds the rule; the comment on pgscore.rescoring.counters, which
lists the rules, names it. The downgrade restores the comment as it was; it is refused (2BP01) while a wiring holds a last counter.

Revision ID: 0084
Revises: 0083
Create Date: 2026-12-04
"""

from pgscore.migrate import run_frozen

revision = "0084"
down_revision = "0083"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
