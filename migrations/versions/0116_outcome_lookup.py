"""record_outcome, match_outcomes' probes per outcome and the outcome_matches view read the entity's predictions
by the entity's index alone (joined to the model's versions by model_id + 0, which no index of the log serves, or
in a subquery the join cannot reach into): in a log partition never analysed the planner took the (model_id,
logged_at) index and filtered every row of the model by entity, ~200 times slower. The downgrade restores the three
as 0115 left them.

Revision ID: 0116
Revises: 0115
Create Date: 2026-12-05
"""

from pgscore.migrate import run_frozen

revision = "0116"
down_revision = "0115"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
