"""pgscore.count_shadow_failure counts a shadow's failures in a table the calling role may UPDATE alone (the table
the rescoring trigger or score_table writes as that role; 42501 and nothing counted for another): any login granted
pgscore_app called it with any model, relation and count, and made a candidate version look broken in a table it
could not even read (the security trial of session 62). The downgrade restores the function as 0068 left it.

Revision ID: 0134
Revises: 0133
Create Date: 2026-12-06
"""

from pgscore.migrate import run_frozen

revision = "0134"
down_revision = "0133"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
