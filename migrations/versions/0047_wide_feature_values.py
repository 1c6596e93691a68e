"""pgscore.prediction_values, which the drift views and refresh_monitoring's rollups read, took each feature
of a logged row by a subscript of the stored float8[], and each subscript read the array whole again, from
TOAST once a row holds more than ~2 kB: a model of 3,000 features took 8.3-9.2 s to read 200 logged rows,
and refresh_monitoring 42 s. Each row's features are now read once, unnested, and each value joined to its
baseline by position: 0.17-0.24 s for those rows; a model of 12 features, 1,000,000 logged rows: 2.8-3.0 s
against 3.3-3.9 s.

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
