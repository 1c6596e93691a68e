"""pgscore.prediction_values, which the drift views and refresh_monitoring's rollups read, took each feature
of a logged row by a subscript of the stored float8[], and each subscript read the array whole again, from
TOAST once a row holds more than ~2 kB: a model of 3,000 features took 8.3-9.2 s to read 200 logged rows,
and refresh_monitoring 42 s. A row that stores its features in more than 1 kB (over ~120 features) has them
read once, unnested, and each value joined to its baseline by position: 0.17-0.24 s for those rows. Shorter
arrays are read by subscripts, as before (unnesting them cost more: a day's rollup of 1,000,000 rows of 12
features, 8.5-10.2 s against 6.8-8.3 s; this split costs 8.4-9.1 s).

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
