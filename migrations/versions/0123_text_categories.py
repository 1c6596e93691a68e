"""Text categories: a model whose encoders were fitted on words deploys as trained. pgscore.models.text_categories
(and pgscore.model_versions') keeps each text feature's words in the order of their codes; deploy stores the model
converted to take the codes; pgscore.category_code(model, feature, word) gives a word's code. The downgrade is
refused while a live or shadow version has text categories; else the function and the view's column go, and the
table's where no version has words (kept where one has: the registry's rows are immutable, and the upgrade again
finds them).

Revision ID: 0123
Revises: 0122
Create Date: 2026-12-06
"""

from pgscore.migrate import run_frozen

revision = "0123"
down_revision = "0122"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
