"""Features by name. pgscore.predictions takes a last column, features_by_name (jsonb): each logged feature by its
name, a text feature's word (not its code), "(unknown word)" for the code -1 (which, as a jsonb index, reads as the
list's last word), null for NULL or NaN. A BI login granted pgscore_reader explains a score without decoding
float8[] positions and codes by hand. Appended (CREATE OR REPLACE keeps the view's grants and comments); the
downgrade drops the view and makes it again as 0127 left it, with its owner, its columns' comments and every grant
made again as its grantor (as 0097's).

Revision ID: 0128
Revises: 0127
Create Date: 2026-12-06
"""

from pgscore.migrate import run_frozen

revision = "0128"
down_revision = "0127"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
