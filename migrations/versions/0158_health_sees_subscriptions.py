"""Trial T20 of session 66: pgscore.health() said `ok` while a subscription of logical replication that writes a
wired event table was disabled, its apply worker failed at every try (a duplicate key on the subscriber, a column
the publisher added first) or a table's initial copy never ended: the events were not applied and the scores went
stale, with every check ok. A check `subscriptions` warns of each such subscription (of a wired table or one of
pgscore's own), and `rescoring` fails where a wiring's triggers for replicated rows are dropped or disabled, or
where a subscription writes its event table and it has none (pgscore status said NOT RESCORING, health ok). The
registry's tables pgscore.models and deployments refuse a local session's INSERT or DELETE where a subscription
writes either (trigger function refuse_subscribed_registry; review r6). The downgrade restores health(text[]) as
0157 left it and drops those triggers.

Revision ID: 0158
Revises: 0157
Create Date: 2026-12-07
"""

from pgscore.migrate import run_frozen

revision = "0158"
down_revision = "0157"
branch_labels = None
depends_on = None


def upgrade():
    run_frozen(__file__, "upgrade.sql")


def downgrade():
    run_frozen(__file__, "downgrade.sql")
