"""pgscore.shadow_comparison reads the shadows asked for alone, and outcomes judge each version on a transaction's
last statement (review r3, session 63). The view summed every pair of the log and FULL JOINed shadow_versions, so
`pgscore shadows NAME`'s filter on shadow_model_id never reached the log: one shadow with one pair cost every shadow
row ever logged. It now sums each version's pairs from its own rows (a LATERAL join by model_id), the same rows.
record_outcome and match_outcomes took each version's newest prediction by logged_at alone, which the rows of one
transaction share: with three INSERTs for one customer in a transaction, v1 could be judged on its first
statement's score and v2 on its second. They break ties by the cause's statement_at, then the command (cmin), then
the physical order; a rebuild (refresh_monitoring(p_rebuild => true)) corrects outcomes matched before. The
downgrade puts 0142's definitions back.

Revision ID: 0144
Revises: 0143
Create Date: 2026-12-06
"""

from pgscore.migrate import run_frozen

revision = "0144"
down_revision = "0143"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
