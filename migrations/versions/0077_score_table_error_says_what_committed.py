"""CALL pgscore.score_table, when a chunk fails after earlier chunks committed (a value the model refuses, a
lock or statement timeout, a cancel), keeps the chunk's error (SQLSTATE, message, fields) and adds to its DETAIL
how many rows the committed chunks scored, up to which key, and to its HINT the p_after and p_version that go on
after them, as `pgscore score` says; before, the error alone, and nothing said that rows were written and logged.
The downgrade restores 0028's procedure.

Revision ID: 0077
Revises: 0076
Create Date: 2026-12-03
"""

from pgscore.migrate import run_frozen

revision = "0077"
down_revision = "0076"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
