"""A shadow against the live version without hand-written SQL (session 62's trial T12: the guide's join over-counted
an entity rescored in several statements of one transaction, 3 x 3 = 9 pairs, and the realised comparison judged a
shadow on predictions older than the live version's without saying so): pgscore.shadow_pairs pairs each shadow
prediction with its own statement's live prediction once; pgscore.shadow_comparison sums them per shadow version
(agreement, decisions changed at each version's threshold, mean and max |diff|, the shadow's failures);
pgscore.realised_against_live counts per version the outcomes judging a prediction older than the live version's and
gives both versions' metrics on the outcomes judging predictions of the same transaction. The downgrade drops them.

Revision ID: 0138
Revises: 0137
Create Date: 2026-12-06
"""

from pgscore.migrate import run_frozen

revision = "0138"
down_revision = "0137"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
