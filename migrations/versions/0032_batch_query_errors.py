"""predict_batch of a model SQL scores runs the caller's query once when the query itself fails: it ran it again
chunk by chunk for every data exception, doubling the time and what the query does (a sequence's nextval).

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-01
"""

from pgscore.migrate import run_frozen

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
