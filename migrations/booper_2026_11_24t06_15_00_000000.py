"""Webhook event lookups: a webhook's pending events in order, and the retry sweep."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-24T06:15:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "webhook event indexes"

INDEXES = [
    "CREATE INDEX IF NOT EXISTS webhook_events_webhook_status ON webhook_events (webhook, status, id)",
    "CREATE INDEX IF NOT EXISTS webhook_events_status_next ON webhook_events (status, next_attempt_at)",
]


class RawTable(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="booper", description=DESCRIPTION)

    async def create():
        for statement in INDEXES:
            await RawTable.raw(statement)

    async def drop():
        for statement in INDEXES:
            await RawTable.raw(f"DROP INDEX IF EXISTS {statement.split(' EXISTS ')[1].split(' ')[0]}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
