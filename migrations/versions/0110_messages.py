"""Messages name what they name as SQL writes it: record_outcome's and version_drift's the model (and the outcome,
the entity key) as a literal ('churn'), where "%" by hand printed a name holding a " ambiguously; score_columns_read's
`said` quotes the column ("Churn Score"), where it printed it bare; detach_rescoring and forget_rescoring say
`wiring N`, as the CLI and rescoring's other messages do, where they said `rescoring N`. The downgrade restores the
functions as 0106's schema had them.

Revision ID: 0110
Revises: 0108
Create Date: 2026-12-05
"""

from pgscore.migrate import run_frozen

revision = "0110"
down_revision = "0108"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
