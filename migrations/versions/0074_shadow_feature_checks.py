"""A shadow's feature checks. The order comparison written once: pgscore.feature_order_differs says why a shadow
reading the live version's float8[] column features by position would read other features than its own (the words
of pgscore.shadowing.order_differs), and set_shadow and the deployments' trigger (check_live_version_fed) call it
where each had a CASE of its own; the trigger's refusal says it in those words. That refusal (55000) names every
shadow a go-live would have misread (its hint named the first alone), and the trigger refuses (42703) a go-live
while a version set in shadow lacks a column of a wired profile table read by name. The downgrade restores both
functions and drops the new one.

Revision ID: 0074
Revises: 0073
Create Date: 2026-12-03
"""

from pgscore.migrate import run_frozen

revision = "0074"
down_revision = "0073"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
