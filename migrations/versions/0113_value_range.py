"""No single bad value fails every model's monitoring: record_outcome stores a regressor's number at
extra_float_digits 3 (at a session's 0, float8's largest was stored as 1.79769313486232e+308 and read back out of
range, 22003), and the monitoring SQL reads each deploy metric and a regressor's outcome through
pgscore.jsonb_float8, NULL for what is no number in float8's range (a hand-edited "rmse": 1e400, "abc", an
object raised 22003 or 22P02). Either failed performance_stats, every realised-performance view, alerts and
refresh_monitoring for every model. The downgrade restores the objects as 0112 left them.

Revision ID: 0113
Revises: 0112
Create Date: 2026-12-05
"""

from pgscore.migrate import run_frozen

revision = "0113"
down_revision = "0112"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
