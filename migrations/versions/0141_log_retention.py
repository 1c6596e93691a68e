"""Retention and erasure of the audit log (session 63, a compliance auditor's trial): pgscore.log_retention records
every drop of log days, redaction of features and erasure of an entity (who, when, what, how many rows; an erased
key as its SHA-256), append-only; pgscore.retention_policy holds the floor of retention the schema's owner alone
sets; pgscore.redact_log_features empties the features of old rows and keeps their decisions, the only UPDATE the
log's append-only trigger lets through; pgscore.erase_entity deletes an entity's rows from every pgscore table
that holds keys; prediction_values leaves a redacted row's features out (its score stays). The downgrade drops
them and restores the previous functions and view.

Revision ID: 0141
Revises: 0140
Create Date: 2026-12-06
"""

from pgscore.migrate import run_frozen

revision = "0141"
down_revision = "0140"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
