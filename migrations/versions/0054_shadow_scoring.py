"""Shadow scoring: a version that is not live scored next to the live one wherever that one's scores are written
(the rescoring trigger, score_table), its predictions logged under its own model_id with the source 'shadow' and
never served; pgscore.set_shadow / clear_shadow record it in pgscore.shadows, pgscore.shadow_versions lists the
current ones, and matching an outcome to the prediction it judges leaves shadows' out.

Revision ID: 0054
Revises: 0053
Create Date: 2026-12-02
"""

from pgscore.migrate import run_frozen

revision = "0054"
down_revision = "0053"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
