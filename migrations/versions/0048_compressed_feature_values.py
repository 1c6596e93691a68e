"""pgscore.prediction_values (0047) unnested a logged row's features where they are stored in more than 1 kB,
and read shorter ones by subscripts. A wide array of mostly zeros (one-hot features) is stored compressed in
a few hundred bytes, and each subscript of a compressed array decompresses it whole again: 3,000 such features
took 2.6 s to read 200 logged rows, against 0.06 s unnested. A row whose features are stored compressed is
unnested too.

Revision ID: 0048
Revises: 0047
Create Date: 2026-12-02
"""

from pgscore.migrate import run_frozen

revision = "0048"
down_revision = "0047"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
