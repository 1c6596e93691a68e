"""What a new user's trial found in record_outcome and the views' column comments. An outcome that is no class of
the model is refused in one wording (true for a multiclass model was "not one of its classes"), with a hint naming
the class it differs from only in case or the spaces around it ('Gold': "a typo for 'gold'?"); a class with spaces
of its own is matched as given (trimmed, it could not be recorded). The comments a BI tool reads: feature_drift's
and score_drift's n ("predictions, or matched outcomes") and baseline columns (score_drift's baseline_mean was "the
feature's"), and the deploy metrics' (a multiclass model's deploy_log_loss has no realised counterpart; its
deploy_brier and deploy_auc are NULL). The downgrade restores both as 0113 left them.

Revision ID: 0114
Revises: 0113
Create Date: 2026-12-05
"""

from pgscore.migrate import run_frozen

revision = "0114"
down_revision = "0113"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
