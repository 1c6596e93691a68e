"""Session 69 (h3): pgscore.metrics() gives its monitoring_refreshed_at row whatever pgscore.monitoring_state holds
(none where the table was empty: a scraper could not alert on "never refreshed"), a row per model whose alerts are
stored though the model was deleted since (health() counted them, metrics() left them out), and
error_queue_failed_last_hour per model: the profiles whose rescoring failed in the last hour, now that a session warns
of a wiring's failure once a minute rather than at every statement (session 68's trial T25: 3 lines of server log
per INSERT). The downgrade re-applies 0174's text.

Revision ID: 0178
Revises: 0177
Create Date: 2026-12-07
"""

from pgscore.migrate import run_frozen

revision = "0178"
down_revision = "0177"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
