"""Session 71 (h4): the hint of pgscore.silence_alerts, pgscore.set_thresholds and drift_threshold_overrides' trigger
for a subject the model has not (`list them with: SELECT DISTINCT feature FROM pgscore.baselines JOIN pgscore.models
USING (model_id) WHERE name = '...'`) compared with a plain =: pasted into a superuser's psql session whose
search_path puts the database owner's public first, the owner's = on bigint (the join's) and text ran. It names
pg_catalog's = now. Review r4 of session 71 (edited in place before it landed): set_shadow's hint for the live
version and version_drift's for a version the model has not (`SELECT version, live FROM pgscore.model_versions WHERE
name = ...`, the model left as `...`) name the model and pg_catalog's = too. The downgrade re-applies the previous
text.

Revision ID: 0186
Revises: 0185
Create Date: 2026-12-07
"""

from pgscore.migrate import run_frozen

revision = "0186"
down_revision = "0185"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
