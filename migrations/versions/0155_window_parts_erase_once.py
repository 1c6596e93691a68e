"""Retention and erasure leftovers of session 64 (task D2 of session 65): a drift window's length with a negative
part ('-1 mon 31 days': 1 day to 0029's CHECK, which compared it as an interval, a month taken for 30 days) reached
back now() minus it, no time at all in a month of 31 days (every view 'no_data' in that window) and 3 days in
February; drift_windows_length_check refuses such a length now, as 0147 refuses a retention period (an upgrade over
such a window is refused naming it). erase_entity reads pgscore.error_queue once, not twice (the key's rows and the
reasons that name it found by one scan, each then by its primary key), and names in a NOTICE the model versions
fitted on the key as a text feature's word (pgscore.models.text_categories and the artifact, which it does not
change). The downgrade restores 0029's CHECK, the column's comment and 0154's erase_entity.

Revision ID: 0155
Revises: 0154
Create Date: 2026-12-06
"""

from pgscore.migrate import run_frozen

revision = "0155"
down_revision = "0154"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
