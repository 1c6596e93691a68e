"""Session 66 (h6): erase_entity replaces the free text that names the key as a whole token, not a substring
(erasing key '12' rewrote the queued reasons of keys '123' and '4125', and it missed its own key where quoting
changes it, 'it''s' or E'a\\\\b'): as pgscore names a key (quote_literal's form), or bounded by no letter, digit or _
(of the alphabets' blocks beyond ASCII too, not their punctuation; review r1), nor a quote but an apostrophe's, in text
pgscore did not write; a key over 1,000 characters as a substring. The writers that gave PostgreSQL's bare 25006 on a standby or in a read-only
transaction (activate, rollback, retire, set_shadow, clear_shadow, set_thresholds, clear_thresholds, silence_alerts,
lift_silence, detach_rescoring, forget_rescoring, drop_log_partitions, redact_log_features, match_outcomes,
create_log_partitions) say where to run them, as record_outcome since 0154. The downgrade re-applies their previous
text.

Revision ID: 0163
Revises: 0162
Create Date: 2026-12-07
"""

from pgscore.migrate import run_frozen

revision = "0163"
down_revision = "0162"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
