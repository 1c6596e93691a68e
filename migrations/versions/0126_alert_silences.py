"""Silences of alerts: pgscore.alert_silences (an on-call's mute of a model's conditions, or those matching a what,
subject, metric, window and shadow, for at most 90 days, saying who and why), pgscore.silence_alerts and
pgscore.lift_silence (pgscore_admin), and pgscore.alerts' appended silenced_until and silence_id (a silenced
condition stays listed; pgscore drift and status do not count it). The downgrade makes alerts again as 0125 left it
and drops the functions and the table, with its silences.

Revision ID: 0126
Revises: 0125
Create Date: 2026-12-06
"""

from pgscore.migrate import run_frozen

revision = "0126"
down_revision = "0125"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
