"""A wired profile table read by name whose score or scored_at column is a feature of a version is refused at
set_shadow of that version (22023, p_force or not) and at its go-live (the deployments' trigger,
check_live_version_fed: activate, rollback, a deploy), as attach_rescoring refuses it of the live version: each
rescoring would feed the live score into the shadow, or its own output back in. Shadows at a go-live, written
once: the deployments' trigger (check_live_version_fed) checks the shadows of a
go-live in one query, one row per kind of refusal (a missing column of a profile table read by name, 42703; a
float8[] column features a shadow would read in another order, 55000), where two loops of the same shape each
counted, kept the first, named every shadow and said why. The downgrade restores 0074's text of both functions.

Revision ID: 0075
Revises: 0074
Create Date: 2026-12-03
"""

from pgscore.migrate import run_frozen

revision = "0075"
down_revision = "0074"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
