"""A shadow reads a profile table wired with counters by name. The rescoring trigger reads such a table's
features a column per feature (the counters' new values among them), and a float8[] column features beside
them never; pgscore.set_shadow took that array for the shadow's features, so a version whose column the table
lacks was set and scored nothing in shadow. It is refused now (42703, p_force skips it), as for a table without
the array. The downgrade restores the previous check.

Revision ID: 0073
Revises: 0072
Create Date: 2026-12-03
"""

from pgscore.migrate import run_frozen

revision = "0073"
down_revision = "0072"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
