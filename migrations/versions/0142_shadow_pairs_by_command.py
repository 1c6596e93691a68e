"""pgscore.shadow_pairs pairs each shadow row with the live row its own rescoring wrote (review r3, session 63): rows
sharing the entity, transaction and statement time (the statements of one function call) were ranked by physical
order and the k-th shadow row paired with the k-th live row, so a shadow that did not score in the first of them
(it failed there, or was set in between) was paired with the statement before its own. Each shadow row now pairs
with the live row written last before it (the command that wrote it, cmin; then the physical order, for rows a
COPY restored). The downgrade puts 0138's definition back.

Revision ID: 0142
Revises: 0141
Create Date: 2026-12-06
"""

from pgscore.migrate import run_frozen

revision = "0142"
down_revision = "0141"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
