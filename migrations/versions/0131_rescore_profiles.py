"""pgscore.rescore_profiles(p_event_table, p_profile_table, p_after, p_limit): the profiles of an event table's
wirings rescored with the live version as they are (score, label and scored_at as the trigger writes them, audit
source refresh via rescore_profiles), p_limit a wiring in key order after p_after: what a rollback or activate
leaves (profiles scored by the version live before) and an UPDATE of a profile's own columns (no event, no
rescoring) had no statement that rescored them with their scored_at. activate and rollback say, a NOTICE per wiring
of the model, that its profiles keep the scores another version gave them until their next event, and what rescores
them. A version refused live for a column a wired profile table lacks (check_live_version_fed) names every such
wiring in the DETAIL (it said "2 wiring(s) affected" and named one), and a deploy's refused version is called the
number it would have been, nothing stored (the next deploy took that number). The downgrade drops the function and
restores the three functions as 0127 left them.

Revision ID: 0131
Revises: 0130
Create Date: 2026-12-06
"""

from pgscore.migrate import run_frozen

revision = "0131"
down_revision = "0130"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
