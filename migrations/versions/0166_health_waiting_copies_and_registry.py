"""Session 67 (trial T20's leftovers): pgscore.health()'s subscriptions check says when an event table's initial copy
waits for its profiles' (the row trigger for replicated rows fails such a copy until a subscription has copied the
profile table: session 67), says 'the events were copied first' only while the profiles are not copied yet (it said
so too in the instant a copied profile table was catching up), and says what a stopped subscription that writes
the registry means (the publisher's deploys do not reach this server); a subscription that its disable_on_error
disabled at such a copy's error is said so, with the way on (review r4, edited in place). The downgrade restores
0165's health() (the merge chained 0166 after 0165, whose health the upgrade carries too).

Revision ID: 0166
Revises: 0165
Create Date: 2026-12-07
"""

from pgscore.migrate import run_frozen

revision = "0166"
down_revision = "0165"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
