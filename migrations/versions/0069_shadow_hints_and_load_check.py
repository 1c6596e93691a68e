"""Shadow hints and the load check. pgscore.set_shadow's refusal of a version that a wired profile table's float8[]
column features cannot feed (another count of features, or the same ones in another order) hinted "add the feature
column(s) to the profile table first", which changes nothing where that array is (it is read wherever there is
one): it hints at a shadow trained on the live version's features in its order, or a profile table of a column per
feature. pgscore.clear_shadow's error for a version that is not there hints where the shadows are listed
(pgscore.shadow_versions, pgscore status), as activate's, rollback's and retire's name where the models are.

Revision ID: 0069
Revises: 0068
Create Date: 2026-12-03
"""

from pgscore.migrate import run_frozen

revision = "0069"
down_revision = "0068"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
