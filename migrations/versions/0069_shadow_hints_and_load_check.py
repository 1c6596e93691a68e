"""Shadow hints and the load check. pgscore.set_shadow's refusal of a version that a wired profile table's float8[]
column features cannot feed (another count of features, or the same ones in another order) hinted "add the feature
column(s) to the profile table first", which changes nothing where that array is (it is read wherever there is
one): it hints at a shadow trained on the live version's features in its order, or a profile table of a column per
feature. pgscore.clear_shadow's error for a version that is not there hints where the shadows are listed
(pgscore.shadow_versions, pgscore status), as activate's, rollback's and retire's name where the models are.
pgscore.load_or_refuse (the load check of activate, rollback and set_shadow) raises every error of class 40
(transaction rollback: 40002, 40003 too) and class 57 (operator intervention) met while loading as the server
raised it; it re-raised 40001, 40P01 (and 57014, 55P03) alone, and reported the others as the version's refusal
to load, with the hint to force it.

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
