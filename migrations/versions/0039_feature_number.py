"""pgscore.feature_number(value, model, feature): a feature's number from a column of a string type, or an
error naming the model and the feature (22P02, 22003), where the cast alone named neither ("invalid input
syntax for type double precision"). The statements of predict_batch, score_table and rescoring call it for
such columns; pgscore code older than this revision casts them bare, as before.

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-01
"""

from pgscore.migrate import run_frozen

revision = "0039"
down_revision = "0038"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
