"""Audit-log and retention leftovers of session 63 (task A1 of session 64): 0141's "at least 1 day" compared
p_older_than with interval '1 day', which takes a month for 30 days, so a period with a negative part ('-1 mon 31
days': 1 day to the comparison, none in a month of 31 days, its cut today's midnight) passed drop_log_partitions,
redact_log_features and the floors' CHECKs; such a period is refused now (22023; the CHECKs 23514; an upgrade over
such a floor is refused naming it). erase_entity replaces the free text that names the key: a shadow's last failure
message (pgscore.shadow_failures.last_message) and another key's queued reason (pgscore.error_queue.reason), counted
per table and recorded in pgscore.log_retention. The downgrade restores 0145's CHECKs, functions and comment.

Revision ID: 0147
Revises: 0145
Create Date: 2026-12-06
"""

from pgscore.migrate import run_frozen

revision = "0147"
down_revision = "0145"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
