"""The monitoring's statistics, as their definitions have them: windows start in UTC whatever the reader's
TimeZone (a day was 23 or 25 hours on a DST change); a feature constant at training is constant whatever
std the float arithmetic left (a column of 0.3 had 1.1e-16, and any mean shift of it was an alert); realised
accuracy, precision and recall take a score of exactly the threshold as the negative class, as predict does;
a regressor whose hold-out RMSE is 0 alerts on any error in service; calibration's deciles by rank, so that
equal scores share one. Views and functions only: the downgrade puts back 0035's.

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-01
"""

from pgscore.migrate import run_frozen

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
