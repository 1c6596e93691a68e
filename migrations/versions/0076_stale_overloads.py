"""Functions no revision's final text defines, left by a build of an earlier text of a revision. Migration 0060
was rewritten when it was integrated (9621c69): built at its first commit (1b85b52, on main from 18:12 to 18:28
on 2026-12-02), it made pgscore.set_shadow(text, integer, text) beside 0057's set_shadow with p_force, and
pgscore.load_or_refuse with a fourth argument, p_live, where the final 0060 replaces 0057's set_shadow and makes
load_or_refuse of three. No later revision replaced them (a CREATE OR REPLACE with other arguments makes another
function), so such a database upgraded to head kept both, and every set_shadow call without p_force, `pgscore
shadow`'s among them, failed: `function pgscore.set_shadow(unknown, integer, unknown) is not unique` (42725).
The upgrade drops both where they are (DROP ... IF EXISTS: a database built from the final texts has neither);
the downgrade makes neither again.

Revision ID: 0076
Revises: 0075
Create Date: 2026-12-03
"""

from pgscore.migrate import run_frozen

revision = "0076"
down_revision = "0075"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
