"""The application keeps only what it uses of pgscore.log_pending: INSERT (the marker its first buffered audit row
sets). Its SELECT and DELETE let any role granted pgscore_app lock the table (LOCK TABLE ... IN ACCESS
EXCLUSIVE MODE) and so stall every session's scoring with the query log on; the marker is deleted at commit by
flush_query_log, which runs as its owner.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-01
"""

from pgscore.migrate import run_frozen

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
