"""A model deleted by hand (session 62, a trial of 12 models): DELETE FROM pgscore.models is refused with what refers
to the version and a hint (pgscore retire, docs/operations.md "Deleting a model"), not a bare 23503 naming a foreign
key (trigger models_delete_explained); a name's first version drops the silences, threshold overrides and alert
state a deleted model of that name left, keyed by name with no foreign key, which a new model under the freed name
inherited (trigger models_first_version_forgets, SECURITY DEFINER). The downgrade drops both triggers and functions.

Revision ID: 0135
Revises: 0134
Create Date: 2026-12-06
"""

from pgscore.migrate import run_frozen

revision = "0135"
down_revision = "0134"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
