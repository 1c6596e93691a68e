"""pgscore.drift_stats() cost ~250 us per feature and period (3,000 features, 35 periods: 14.7-17.8 s a view):
every baseline bin of every feature and period went through window functions, with a join to its count, and
pgscore.judge was called once per feature and period (~55 us: a LANGUAGE sql function with a SET clause is
never inlined). PSI, KS and JS are now computed only for the periods that hold a valid value (the others
reported NULL anyway), each bin's count read from arrays; the levels are judged in place, as judge does, and
the checks built as text. The same rows, to the bit; judge is unchanged.

Revision ID: 0049
Revises: 0048
Create Date: 2026-12-02
"""

from pgscore.migrate import run_frozen

revision = "0049"
down_revision = "0048"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
