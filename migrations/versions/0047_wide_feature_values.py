"""pgscore.prediction_values, which the drift views and refresh_monitoring's rollups read, took each feature
of a logged row by a subscript of the stored float8[], and each subscript read the array whole again, from
TOAST once a row holds more than ~2 kB: a model of 3,000 features took 8.4 s to read 200 logged rows, and
refresh_monitoring 42 s. Each row's features are now read once, into a copy (a slice), and each value taken
from that (0.3 s).

Revision ID: 0047
Revises: 0046
Create Date: 2026-12-02
"""

from pgscore.migrate import run_frozen

revision = "0047"
down_revision = "0046"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
