"""Session 65: pgscore.delete_model(p_name) deletes a model name deployed by mistake (a typo, a test model in
production) with all its versions, artifacts, evaluators, baselines, deployments and shadow history, under the
name's lock, only where nothing depends on it: refused (2BP01, naming what holds it, hint: retire it instead) where
a version logged predictions, outcomes were recorded, a table is wired to rescore with it, a version is a shadow, or
the name has thresholds of its own or silences in force. Granted to pgscore_admin alone (it runs as its owner).
The hint of a DELETE FROM pgscore.models by hand (explain_model_delete, 0135) names pgscore delete. The downgrade
drops delete_model and restores explain_model_delete as 0135 wrote it.

Revision ID: 0156
Revises: 0155
Create Date: 2026-12-06
"""

from pgscore.migrate import run_frozen

revision = "0156"
down_revision = "0155"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
