"""Session 68 (trial T20's leftovers, h3): pgscore.health()'s subscriptions check says when a wired table that a
subscription has yet to copy holds rows here already (profiles loaded here and published too, events kept from a
former subscription): its copy fails on each key the publisher also has at every retry, for ever, and the events'
copy that waits for such profiles waits for as long (it said that PostgreSQL starts it again); the way on is named
(copy_data = false for that table, or TRUNCATE it here). A wired table subscribed by partition is seen (the check
matched the wired tables' own names alone). The downgrade restores 0166's health().

Revision ID: 0172
Revises: 0169
Create Date: 2026-12-07
"""

from pgscore.migrate import run_frozen

revision = "0172"
down_revision = "0169"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
