"""pgscore.rollback without a version went to the newest earlier version by version number: after v1, v2 and v3
went live, a rollback to v1 and v4, `pgscore rollback` made v2 live, which the operator had skipped. It now undoes
the last go-live, following pgscore.deployments: the version live before the live one went live, leaving out
versions rolled back from. pgscore.activate and pgscore.rollback refuse a version this server cannot load
(pgscore.load_model: signature, the scikit-learn/numpy it was written with, unpickling) unless p_force (a new
last argument: the functions are dropped and created again, with their grants and comments).

Revision ID: 0053
Revises: 0052
Create Date: 2026-12-02
"""

from pgscore.migrate import run_frozen

revision = "0053"
down_revision = "0052"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
