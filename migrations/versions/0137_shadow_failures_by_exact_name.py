"""pgscore.count_shadow_failure resolves the table it counts in exactly (its schema-qualified name, as the rescoring
trigger and score_table give it, under search_path pg_catalog, pg_temp), refuses a temporary table, and counts under
the table's schema-qualified name: 0134 took a table of the name in any schema the caller may UPDATE, a temporary one
among them, and kept the name as given, so a role that may not write public.customers made a temporary table
customers and counted failures that pgscore status printed as those of customers. The downgrade restores the
function as 0134 left it.

Revision ID: 0137
Revises: 0136
Create Date: 2026-12-06
"""

from pgscore.migrate import run_frozen

revision = "0137"
down_revision = "0136"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
